"""PyTorch's Tensor construction and Tensor methods outside the core ops: Tensor(2, 3), the legacy tensor
types, t.type(), f"{loss:.4f}", new_*, memory-layout queries, randint/randperm forms, t(), split/chunk,
sum(dtype=), and the in-place initialisers (values, version counter, leaf refusal, recording)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import shapes


def _torch():
    return pytest.importorskip("torch")


# -- construction ------------------------------------------------------------------------------------
def test_tensor_sizes_constructor():
    t = ag.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
    assert ag.Tensor(np.int64(2), 1, 4).shape == (2, 1, 4)
    assert ag.Tensor().shape == (0,)
    ag.set_default_dtype(np.float64)
    assert ag.Tensor(2, 2).dtype == np.float64
    ag.set_default_dtype(np.float32)
    np.testing.assert_array_equal(ag.Tensor([1.5, 2.0])._data, [1.5, 2.0])
    assert ag.Tensor(np.ones(2), requires_grad=True).requires_grad
    assert ag.Tensor(np.ones(2), np.float64).dtype == np.float64  # data, dtype: as before


@pytest.mark.parametrize("name,dtype", [("FloatTensor", np.float32), ("DoubleTensor", np.float64),
                                        ("HalfTensor", np.float16), ("LongTensor", np.int64),
                                        ("IntTensor", np.int32), ("ShortTensor", np.int16),
                                        ("CharTensor", np.int8), ("ByteTensor", np.uint8), ("BoolTensor", np.bool_)])
def test_legacy_tensor_types(name, dtype):
    T = getattr(ag, name)
    a = T(2, 3)
    assert a.shape == (2, 3) and a.dtype == dtype
    assert T(4).shape == (4,)  # one int is a size, as in PyTorch
    b = T([1, 0, 1])
    assert b.dtype == dtype and b.tolist() == np.array([1, 0, 1], dtype).tolist()
    assert T().shape == (0,)
    other = np.float32 if dtype == np.float64 else np.float64
    assert isinstance(b, T) and not isinstance(ag.zeros(1, dtype=other), T)
    assert ag.ones(2).type(T).dtype == dtype and ag.ones(2).to(T).dtype == dtype
    assert b.type() == f"torch.{name}" and str(T) == f"torch.{name}"
    with pytest.raises(RuntimeError, match="CPU only"):
        getattr(ag.cuda, name)(2)


def test_type_strings_match_torch():
    torch = _torch()
    for dt, tdt in [(ag.float32, torch.float32), (ag.float64, torch.float64), (ag.float16, torch.float16),
                    (ag.int64, torch.int64), (ag.int32, torch.int32), (ag.int16, torch.int16), (ag.int8, torch.int8),
                    (ag.uint8, torch.uint8), (ag.bool, torch.bool)]:
        assert ag.zeros(2, dtype=dt).type() == torch.zeros(2, dtype=tdt).type()
    t = ag.tensor([1, 2])
    assert t.type("torch.DoubleTensor").dtype == np.float64 and t.type(ag.float16).dtype == np.float16
    assert t.type(torch.float64).dtype == np.float64  # a torch dtype is understood by name
    assert t.type("torch.FloatTensor").type() == "torch.FloatTensor"


def test_format_like_torch():
    loss = ag.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{loss:.2e}" == "1.23e-01"
    assert f"{loss}" == format(loss.item(), "")  # a 0-d tensor formats as its scalar (torch)
    assert f"{ag.tensor(3):>4d}" == "   3"
    assert f"{ag.tensor([2.5]):.1f}" == "2.5"  # one element with a spec (torch refuses; harmless)
    v = ag.tensor([1.0, 2.0])
    assert f"{v}" == str(v) and f"{v:>40}".endswith(str(v))
    with pytest.raises(TypeError, match="one-element"):
        f"{v:.4f}"


def test_format_matches_torch():
    torch = _torch()
    for val in (0.5, 1.0 / 3.0, 12345.678):
        for spec in (".4f", ".3e", "", "10.2f"):
            assert format(ag.tensor(val, dtype=ag.float64), spec) == format(torch.tensor(val, dtype=torch.float64), spec)


def test_randint_forms():
    g = ag.Generator(0)
    a = ag.randint(10, (3, 2), generator=g)
    assert a.shape == (3, 2) and a.dtype == np.int64 and a._data.min() >= 0 and a._data.max() < 10
    b = ag.randint(5, 7, (100,))
    assert set(b.tolist()) <= {5, 6} and b.shape == (100,)
    assert ag.randint(low=2, high=4, size=(4,)).shape == (4,)
    assert ag.randint(3, size=[2]).shape == (2,)
    assert ag.randint(0, 3, (2,), dtype=ag.int32).dtype == np.int32
    ag.manual_seed(7)
    first = ag.randint(100, (5,)).tolist()
    ag.manual_seed(7)
    assert ag.randint(100, (5,)).tolist() == first
    with pytest.raises(ValueError, match="low < high"):
        ag.randint(3, 3, (2,))
    x = ag.randint_like(ag.zeros(2, 3), 4)
    assert x.shape == (2, 3) and x.dtype == np.float32 and x._data.max() < 4


def test_randperm():
    p = ag.randperm(10, generator=ag.Generator(1))
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))
    assert ag.randperm(0).shape == (0,)
    assert ag.randperm(4, dtype=ag.float32).dtype == np.float32
    with pytest.raises(ValueError):
        ag.randperm(-1)


def test_other_samplers():
    b = ag.bernoulli(ag.tensor([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(b._data, [0.0, 1.0, 0.0])
    assert ag.bernoulli(ag.full((1000,), 0.3), generator=ag.Generator(0))._data.mean() == pytest.approx(0.3, abs=0.05)
    n = ag.normal(ag.zeros(2000), ag.full((2000,), 2.0), generator=ag.Generator(0))
    assert n._data.std() == pytest.approx(2.0, rel=0.1)
    assert ag.normal(1.0, 0.0, (3,))._data.tolist() == [1.0, 1.0, 1.0]
    assert ag.poisson(ag.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    s = ag.seed()
    assert ag.initial_seed() == s
    state = ag.get_rng_state()
    x = ag.rand(3)
    ag.set_rng_state(state)
    np.testing.assert_array_equal(ag.rand(3)._data, x._data)


def test_new_methods_keep_dtype_like_torch():
    torch = _torch()
    for dt, tdt in [(ag.float64, torch.float64), (ag.int64, torch.int64), (ag.float32, torch.float32)]:
        ours, theirs = ag.zeros(2, dtype=dt), torch.zeros(2, dtype=tdt)
        for f in (lambda t: t.new_zeros(2, 3), lambda t: t.new_ones((2,)), lambda t: t.new_full((2,), 7),
                  lambda t: t.new_empty(3), lambda t: t.new_tensor([1, 2]), lambda t: t.new_zeros(2, dtype=None)):
            o, th = f(ours), f(theirs)
            assert o.shape == tuple(th.shape) and o.type() == th.type()
    t = ag.ones(2)
    assert t.new_zeros(2, dtype=ag.int64).dtype == np.int64
    assert t.new_ones(2, requires_grad=True).requires_grad
    assert t.new(3).shape == (3,) and t.new([1, 2]).dtype == np.float32


def test_memory_layout_queries_match_torch():
    torch = _torch()
    a = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = ag.tensor(a), torch.tensor(a)
    for f in (lambda t: t, lambda t: t.transpose(0, 2), lambda t: t[:, 1], lambda t: t[1:, :, ::2],
              lambda t: t.permute(2, 0, 1)):
        o, th = f(ours), f(theirs)
        assert o.stride() == th.stride() and o.stride(-1) == th.stride(-1)
        assert o.is_contiguous() == th.is_contiguous()
        assert o.storage_offset() == th.storage_offset()
        assert o.nelement() == th.nelement() == o.numel() and o.element_size() == th.element_size()
    assert ours.data_ptr() == ours._data.__array_interface__["data"][0]
    assert ours[1].data_ptr() - ours.data_ptr() == 12 * 8
    assert ag.numel(ours) == 24 and ag.is_tensor(ours) and not ag.is_tensor(a)
    assert ours.ndimension() == 3 and ours.is_floating_point() and not ours.is_complex()


def test_t_split_chunk_type_as():
    m = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert m.t().shape == (3, 2) and ag.t(m).shape == (3, 2)
    v = ag.ones(3)
    assert v.t() is v
    with pytest.raises(ValueError, match="at most 2 dims"):
        ag.ones(2, 2, 2).t()
    (m.t() * ag.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(m.grad._data, np.arange(6.0).reshape(3, 2).T)
    parts = ag.arange(7).split(3)
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [p.shape for p in ag.ones(2, 5).chunk(2, dim=1)] == [(2, 3), (2, 2)]
    assert ag.ones(2).type_as(ag.zeros(1, dtype=ag.float64)).dtype == np.float64


def test_sum_mean_with_dtype():
    torch = _torch()
    x = ag.tensor([[1, 2], [3, 4]])
    assert x.sum(dtype=ag.float64).dtype == np.float64
    assert x.sum(1, dtype=ag.float32).tolist() == [3.0, 7.0]
    assert ag.ones(2, 2).mean(dtype=ag.float64).dtype == np.float64
    tx = torch.tensor([[1, 2], [3, 4]])
    assert x.sum(dim=0, dtype=ag.float64).tolist() == tx.sum(dim=0, dtype=torch.float64).tolist()


# -- in-place initialisers ----------------------------------------------------------------------------
INITS = [("uniform_", (-2.0, 3.0)), ("normal_", (1.0, 0.5)), ("random_", (5,)), ("bernoulli_", (0.3,)),
         ("exponential_", (2.0,)), ("geometric_", (0.5,)), ("log_normal_", ()), ("cauchy_", ()), ("fill_", (2.0,)),
         ("zero_", ())]


@pytest.mark.parametrize("name,args", INITS)
def test_inplace_initialisers_write_storage_and_bump_version(name, args):
    t = ag.zeros(400)
    storage, v = t._data, t._version
    assert getattr(t, name)(*args) is t
    assert t._data is storage and t._version > v
    w = ag.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(w, name)(*args)
    with ag.no_grad():
        getattr(w, name)(*args)
    assert w.requires_grad and w.is_leaf
    if name not in ("fill_", "zero_"):
        # on a tensor inside a graph: recorded, and the old values get no gradient (as in PyTorch)
        x = ag.ones(3, requires_grad=True)
        y = x * 2
        getattr(y, name)(*args)
        assert y.requires_grad
        y.sum().backward()
        np.testing.assert_array_equal(x.grad._data, np.zeros(3))


def test_initialiser_distributions():
    g = ag.Generator(0)
    u = ag.empty(20000).uniform_(-2.0, 3.0, generator=g)._data
    assert u.min() >= -2.0 and u.max() < 3.0 and u.mean() == pytest.approx(0.5, abs=0.05)
    n = ag.empty(20000).normal_(1.0, 0.5, generator=g)._data
    assert n.mean() == pytest.approx(1.0, abs=0.02) and n.std() == pytest.approx(0.5, abs=0.02)
    r = ag.empty(2000).random_(2, 5, generator=g)._data
    assert set(np.unique(r)) == {2.0, 3.0, 4.0}
    assert set(np.unique(ag.zeros(500, dtype=ag.int64).random_(3)._data)) == {0, 1, 2}
    assert ag.zeros(100, dtype=ag.int64).random_()._data.min() >= 0
    b = ag.empty(20000).bernoulli_(0.25, generator=g)._data
    assert set(np.unique(b)) <= {0.0, 1.0} and b.mean() == pytest.approx(0.25, abs=0.02)
    e = ag.empty(20000).exponential_(4.0, generator=g)._data
    assert e.min() >= 0 and e.mean() == pytest.approx(0.25, abs=0.02)
    ag.manual_seed(3)
    a1 = ag.empty(5).normal_()._data.copy()
    ag.manual_seed(3)
    np.testing.assert_array_equal(ag.empty(5).normal_()._data, a1)
    with pytest.raises(TypeError, match="floating"):
        ag.zeros(2, dtype=ag.int64).normal_()
    with pytest.raises(TypeError, match="unexpected"):
        ag.zeros(2).uniform_(0, 1, lo=3)
    assert ag.zeros(3).uniform_(**{"from": 1.0, "to": 2.0})._data.min() >= 1.0


def test_initialisers_write_through_views():
    base = ag.zeros(2, 3)
    base[0].fill_(1.0)
    base[1].uniform_(5.0, 6.0)
    assert base._data[0].tolist() == [1.0, 1.0, 1.0] and base._data[1].min() >= 5.0


@given(shape=shapes(max_dims=3, max_side=4), seed=st.integers(0, 100))
def test_copy_and_clamp_in_place_match_torch(shape, seed):
    torch = _torch()
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    ours, theirs = ag.tensor(a), torch.tensor(a)
    ours.clamp_(-0.5, 0.5).exp_().log10_()
    theirs.clamp_(-0.5, 0.5).exp_().log10_()
    np.testing.assert_allclose(ours._data, theirs.numpy(), rtol=1e-12)


def test_generator_torch_forms():
    g = ag.Generator(device="cpu").manual_seed(3)
    assert g.device == "cpu" and g.initial_seed() == 3
    assert ag.Generator("cpu").device == ag.device("cpu") and ag.Generator(ag.device("cpu")).device == "cpu"
    state = g.get_state()
    a = ag.rand(3, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(ag.rand(3, generator=g)._data, a._data)
    s = g.seed()
    assert g.initial_seed() == s
    with pytest.raises(RuntimeError, match="CPU only"):
        ag.Generator(device="cuda")
    assert ag.ones(2).to(other=ag.zeros(1, dtype=ag.float64)).dtype == np.float64


@pytest.fixture
def default_print_options():
    yield
    ag.set_printoptions(profile="default")


@pytest.mark.parametrize("kw", [dict(precision=2), dict(sci_mode=True), dict(profile="short"),
                                dict(sci_mode=False, precision=6), dict(profile="full"), dict(linewidth=40)])
def test_set_printoptions_prints_as_pytorch(kw, default_print_options):
    torch = pytest.importorskip("torch")
    data = [[1.23456789, 2e-5, 300.5, -7.0], [4.0, 5.0, 6.0, 0.125]]
    try:
        torch.set_printoptions(**kw)
        ag.set_printoptions(**kw)
        assert repr(ag.tensor(data)) == repr(torch.tensor(data, dtype=torch.float32))
        assert repr(ag.arange(12.0)) == repr(torch.arange(12.0))
    finally:
        torch.set_printoptions(profile="default")


def test_set_printoptions_changes_and_restores_the_repr(default_print_options):
    x = ag.tensor([1.23456, 2.5])
    before = repr(x)
    ag.set_printoptions(precision=1)
    assert repr(x) == "tensor([1.2, 2.5])" and ag.get_printoptions()["precision"] == 1
    ag.set_printoptions(threshold=3, edgeitems=1)
    assert "..." in repr(ag.arange(10.0))
    ag.set_printoptions(profile="default")
    assert repr(x) == before
    with pytest.raises(ValueError, match="set_printoptions: precision must be a non-negative int"):
        ag.set_printoptions(precision=-1)


def test_size_call_gives_a_size_with_numel_as_torch_size():
    """``t.size()`` is a Size (a tuple: equal to the shape, usable wherever a shape is) with ``numel()``."""
    x = ag.zeros(2, 3, 4)
    s = x.size()
    assert isinstance(s, ag.Size) and isinstance(s, tuple)
    assert s == x.shape == (2, 3, 4) and s.numel() == x.numel() == 24
    assert x.reshape(s).shape == (2, 3, 4) and x.new_zeros(s).shape == (2, 3, 4)
    assert ag.zeros(()).size().numel() == 1 and ag.zeros(0, 5).size().numel() == 0
    torch = pytest.importorskip("torch")
    t = torch.zeros(2, 3, 4)
    assert tuple(t.size()) == tuple(s) and t.size().numel() == s.numel()


# -- line breaks of a printed tensor, as PyTorch's ---------------------------------------------------------
def _wrap_cases():
    rng = np.random.default_rng(0)
    for shape in [(12,), (30,), (2, 12), (3, 9), (2, 2, 12), (1, 26), (5, 11), (40, 40), (2000,), (2, 600),
                  (3, 40, 40)]:
        for scale in (1.0, 1000.0, 1e5, 1e9):
            yield pytest.param(shape, "float32", (rng.standard_normal(shape) * scale), id=f"{shape}-{scale:g}-f32")
        yield pytest.param(shape, "float64", rng.standard_normal(shape), id=f"{shape}-f64")
        yield pytest.param(shape, "int64", (rng.standard_normal(shape) * 1e5).astype(np.int64), id=f"{shape}-i64")
        yield pytest.param(shape, "bool", rng.standard_normal(shape) > 0, id=f"{shape}-bool")


@pytest.mark.parametrize("linewidth", [80, 60, 120])
@pytest.mark.parametrize("shape,dtype,data", list(_wrap_cases()))
def test_printed_tensor_breaks_lines_where_pytorch_does(shape, dtype, data, linewidth, default_print_options):
    """floor((linewidth - indent) / (width + 2)) items a line (NumPy alone fits one fewer when the closing
    brackets would not fit); a dtype suffix that would pass the line width goes on a line of its own."""
    torch = pytest.importorskip("torch")
    arr = np.asarray(data, dtype=dtype)
    try:
        torch.set_printoptions(linewidth=linewidth)
        ag.set_printoptions(linewidth=linewidth)
        ours = repr(ag.tensor(arr))
        theirs = repr(torch.from_numpy(arr.copy()))
    finally:
        torch.set_printoptions(profile="default")
    # (the dtype prints as NumPy's name here: README, deliberate)
    assert ours == theirs.replace("dtype=torch.", "dtype="), (ours, theirs)


def test_printed_tensor_of_a_tutorial_wraps_eight_items_a_line():
    """The NLP tutorial's x.view(2, 12): eight four-decimal items on a line, as PyTorch prints them."""
    x = ag.tensor(np.linspace(-0.9, 0.9, 24, dtype=np.float32).reshape(2, 12))
    lines = repr(x).splitlines()
    assert len(lines) == 4 and lines[0].count(",") == 8 and lines[1].count(",") == 4, repr(x)
    y = ag.tensor(np.linspace(-2.0, 2.0, 30))
    assert repr(y).splitlines()[-1] == "       dtype=float64)", repr(y)


@pytest.mark.parametrize("value", [0.0, 1, np.zeros(3), [0.0, 0.0, 0.0]])
def test_assigning_a_non_tensor_grad_is_refused_like_torch(value):
    # polynomial_autograd resets with `a.grad = 0.`: PyTorch raises, and a number accepted here became a 0-d
    # float64 gradient that the next backward() broadcast into
    x = ag.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    with pytest.raises(TypeError, match=r"assigned grad expected to be a Tensor or None but got grad of type "):
        x.grad = value
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    x.grad = None
    assert x.grad is None
    torch = _torch()
    t = torch.ones(3, requires_grad=True)
    with pytest.raises(TypeError, match=r"assigned grad expected to be a Tensor or None but got grad of type "):
        t.grad = value

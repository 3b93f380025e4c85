"""PyTorch-named ops outside the engine core: log10/log2/exp2, norm, mm/bmm, tril/triu, sort/argsort/topk/
kthvalue, cumprod (gradcheck in float64 over hypothesis shapes, gradgradcheck where the rule is closed under
differentiation, PyTorch parity when torch is installed); multinomial, histc/histogram, bincount, unique,
isclose/allclose/equal (values and torch's semantics); in-place math methods (values, version, refusal,
recording)."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors


def _torch():
    return pytest.importorskip("torch")


def _tt(torch, t, requires_grad=True):
    return torch.tensor(np.array(t._data), dtype=torch.float64, requires_grad=requires_grad)


def _grid(lo, hi, scale=10.0, nonzero=False):
    """Elements on a grid (gaps of 1/scale), so that sorting and kinks stay away from finite differences."""
    ints = st.integers(lo, hi).filter(lambda i: i != 0) if nonzero else st.integers(lo, hi)
    return ints.map(lambda i: i / scale)


positive = st.floats(0.2, 4.0, allow_nan=False, allow_infinity=False, width=64)


# -- log10 / log2 / exp2 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["log10", "log2", "exp2"])
@given(data=st.data())
def test_pointwise_gradcheck_and_values(name, data):
    x = data.draw(tensors(shape=shapes(max_dims=3), elements=positive))
    fn = getattr(ag, name)
    ref = {"log10": np.log10, "log2": np.log2, "exp2": np.exp2}[name]
    np.testing.assert_allclose(fn(x)._data, ref(x._data), rtol=1e-12)
    np.testing.assert_allclose(getattr(x, name)()._data, ref(x._data), rtol=1e-12)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["log10", "log2", "exp2"])
def test_pointwise_torch_parity(name):
    torch = _torch()
    x = ag.tensor(np.array([0.3, 1.0, 2.5, 7.0]), requires_grad=True)
    y = getattr(ag, name)(x)
    (y * y).sum().backward()
    tx = _tt(torch, x)
    ty = getattr(torch, name)(tx)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y._data, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-12)


# -- norm ---------------------------------------------------------------------------------------------------
@st.composite
def norm_case(draw, ords=(2, 1, 3, 0.5, "fro")):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    p = draw(st.sampled_from(ords))
    x = draw(tensors(shape=shape, elements=_grid(-30, 30, nonzero=True)))
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return x, p, dim, draw(st.booleans())


@given(case=norm_case())
def test_norm_gradcheck(case):
    x, p, dim, keepdim = case
    assert gradcheck(lambda v: ag.norm(v, p, dim, keepdim), (x,))
    assert gradgradcheck(lambda v: v.norm(p=p, dim=dim, keepdim=keepdim), (x,))


@given(shape=shapes(min_dims=1, max_dims=2, max_side=4), data=st.data())
def test_norm_inf_gradcheck(shape, data):
    x = data.draw(tensors(shape=shape, elements=_grid(1, 60), unique=True))  # no ties: max/min are smooth
    for p in (math.inf, -math.inf):
        assert gradcheck(lambda v: ag.norm(v, p, dim=-1), (x,))


@given(case=norm_case(ords=(2, 1, 3, 0.5, "fro", math.inf, 0)))
def test_norm_torch_parity(case):
    torch = _torch()
    x, p, dim, keepdim = case
    y = ag.norm(x, p, dim, keepdim)
    tx = _tt(torch, x)
    ty = torch.norm(tx, p, dim, keepdim)
    np.testing.assert_allclose(y._data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    if p != 0:
        g = np.random.default_rng(0).standard_normal(ty.shape)
        (y * ag.tensor(g)).sum().backward()
        (ty * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_norm_gradient_at_zero_is_zero_like_torch():
    x = ag.tensor(np.zeros((2, 3)), requires_grad=True)
    ag.norm(x, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.zeros((2, 3)))
    x.grad = None
    g, = ag.autograd.grad(ag.norm(x), x, create_graph=True)
    assert np.all(np.isfinite(g._data))


def test_norm_errors():
    np.testing.assert_allclose(ag.norm(ag.ones(2, 2), "nuc").numpy(), 2.0)  # singular values 2 and 0
    with pytest.raises(ValueError, match="p='nuc' without dim needs a 2-D input"):
        ag.norm(ag.ones(2, 2, 2), "nuc")
    with pytest.raises(TypeError, match="floating"):
        ag.norm(ag.tensor([1, 2]))
    with pytest.raises(IndexError, match="dim 2"):
        ag.norm(ag.ones(2, 2), dim=2)


# -- mm / bmm -----------------------------------------------------------------------------------------------
@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), b=st.integers(1, 3), data=st.data())
def test_mm_bmm_gradcheck(n, k, m, b, data):
    a2, b2 = data.draw(tensors(shape=(n, k))), data.draw(tensors(shape=(k, m)))
    np.testing.assert_allclose(ag.mm(a2, b2)._data, a2._data @ b2._data, rtol=1e-12)
    assert gradcheck(ag.mm, (a2, b2))
    assert gradcheck(lambda x, y: x.mm(y), (a2, b2))
    a3, b3 = data.draw(tensors(shape=(b, n, k))), data.draw(tensors(shape=(b, k, m)))
    np.testing.assert_allclose(ag.bmm(a3, b3)._data, a3._data @ b3._data, rtol=1e-12)
    assert gradcheck(lambda x, y: x.bmm(y), (a3, b3))
    assert gradgradcheck(ag.bmm, (a3, b3))


def test_mm_bmm_refuse_wrong_ranks_like_torch():
    with pytest.raises(ValueError, match="2-D"):
        ag.mm(ag.ones(2, 3, 4), ag.ones(4, 2))
    with pytest.raises(ValueError, match="3-D"):
        ag.bmm(ag.ones(2, 3), ag.ones(3, 2))
    with pytest.raises(ValueError, match="batch sizes"):
        ag.bmm(ag.ones(2, 2, 3), ag.ones(3, 3, 2))


def test_mm_bmm_torch_parity():
    torch = _torch()
    rng = np.random.default_rng(1)
    a, b = ag.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True), ag.tensor(rng.standard_normal((2, 4, 5)),
                                                                                     requires_grad=True)
    ta, tb = _tt(torch, a), _tt(torch, b)
    out, tout = ag.bmm(a, b), torch.bmm(ta, tb)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad._data, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad._data, tb.grad.numpy(), rtol=1e-12)


# -- tril / triu --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tril", "triu"])
@given(shape=shapes(min_dims=2, max_dims=4, max_side=4), diagonal=st.integers(-4, 4), data=st.data())
def test_tril_triu_values_and_gradcheck(name, shape, diagonal, data):
    x = data.draw(tensors(shape=shape))
    out = getattr(ag, name)(x, diagonal)
    np.testing.assert_array_equal(out._data, getattr(np, name)(x._data, diagonal))
    np.testing.assert_array_equal(getattr(x, name)(diagonal=diagonal)._data, out._data)
    assert gradcheck(lambda v: getattr(ag, name)(v, diagonal=diagonal), (x,))
    assert gradgradcheck(lambda v: getattr(v, name)(diagonal), (x,))


@pytest.mark.parametrize("name", ["tril", "triu"])
def test_tril_triu_torch_parity_and_errors(name):
    torch = _torch()
    x = ag.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    for d in (-2, 0, 1, 5):
        np.testing.assert_array_equal(getattr(ag, name)(x, d)._data,
                                      getattr(torch, name)(_tt(torch, x, False), d).numpy())
    with pytest.raises(ValueError, match="at least 2 dims"):
        getattr(ag, name)(ag.ones(3))


# -- sort / argsort / topk / kthvalue ----------------------------------------------------------------------
@st.composite
def distinct_tensor(draw, min_dims=1):
    shape = draw(shapes(min_dims=min_dims, max_dims=3, max_side=5))
    return draw(tensors(shape=shape, elements=_grid(-100, 100), unique=True))


@given(x=distinct_tensor(), descending=st.booleans(), data=st.data())
def test_sort_values_indices_and_gradcheck(x, descending, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    res = ag.sort(x, dim=dim, descending=descending)
    values, indices = res
    assert res.values is values and res.indices is indices and type(res).__name__ == "sort"
    expected = np.sort(x._data, axis=dim)
    if descending:
        expected = np.flip(expected, axis=dim)
    np.testing.assert_array_equal(values._data, expected)
    np.testing.assert_array_equal(np.take_along_axis(x._data, indices._data, axis=dim), expected)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(ag.argsort(x, dim, descending)._data, indices._data)
    assert gradcheck(lambda v: ag.sort(v, dim, descending).values, (x,))
    assert gradgradcheck(lambda v: v.sort(dim=dim, descending=descending)[0], (x,))


@given(x=distinct_tensor(), largest=st.booleans(), data=st.data())
def test_topk_and_kthvalue_gradcheck(x, largest, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    k = data.draw(st.integers(0, n))
    values, indices = ag.topk(x, k, dim=dim, largest=largest)
    full = np.sort(x._data, axis=dim)
    if largest:
        full = np.flip(full, axis=dim)
    np.testing.assert_array_equal(values._data, np.take(full, np.arange(k), axis=dim))
    np.testing.assert_array_equal(np.take_along_axis(x._data, indices._data, axis=dim), values._data)
    if k:
        assert gradcheck(lambda v: ag.topk(v, k, dim, largest).values, (x,))
        kth = ag.kthvalue(x, k, dim=dim, keepdim=True)
        np.testing.assert_array_equal(kth.values._data, np.take(np.sort(x._data, axis=dim), [k - 1], axis=dim))
        assert gradcheck(lambda v: v.kthvalue(k, dim).values, (x,))


def test_sort_topk_torch_parity_with_ties_and_nan():
    torch = _torch()
    data = np.array([[3.0, 1.0, 3.0, np.nan, 2.0, 1.0], [0.0, -1.0, 5.0, 5.0, 2.0, 5.0]])
    x = ag.tensor(data)
    tx = torch.tensor(data)
    for desc in (False, True):
        v, i = ag.sort(x, dim=1, descending=desc, stable=True)
        tv, ti = torch.sort(tx, dim=1, descending=desc, stable=True)
        np.testing.assert_array_equal(v._data, tv.numpy())
        np.testing.assert_array_equal(i._data, ti.numpy())
    # topk's order among ties is unspecified in PyTorch: compare on distinct values
    finite = ag.tensor(np.array([[3.0, 1.0, 3.5, 4.0, 2.0, 1.5], [0.0, -1.0, 5.0, 5.5, 2.0, 6.0]]),
                       requires_grad=True)
    tf = _tt(torch, finite)
    v, i = ag.topk(finite, 3, dim=1)
    tv, ti = torch.topk(tf, 3, dim=1)
    np.testing.assert_array_equal(v._data, tv.detach().numpy())
    (v * ag.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    (tv * torch.arange(6.0, dtype=torch.float64).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(finite.grad._data, tf.grad.numpy())
    kv, ki = ag.kthvalue(finite, 2, dim=1)
    tkv, tki = torch.kthvalue(tf.detach(), 2, dim=1)
    np.testing.assert_array_equal(kv._data, tkv.numpy())


def test_sort_errors():
    with pytest.raises(ValueError, match="out of range"):
        ag.topk(ag.ones(3), 4)
    with pytest.raises(IndexError, match="dim 1"):
        ag.sort(ag.ones(3), dim=1)
    with pytest.raises(ValueError, match="expected 1 <= k"):
        ag.kthvalue(ag.ones(3), 0)


# -- cumprod ------------------------------------------------------------------------------------------------
@given(shape=shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_cumprod_values_and_gradcheck_with_zeros(shape, data):
    x = data.draw(tensors(shape=shape, elements=st.sampled_from([0.0, 0.5, -1.5, 2.0, 1.0])))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    np.testing.assert_allclose(ag.cumprod(x, dim)._data, np.cumprod(x._data, axis=dim), rtol=1e-12)
    assert gradcheck(lambda v: ag.cumprod(v, dim), (x,))
    assert gradgradcheck(lambda v: v.cumprod(dim), (x,))


def test_cumprod_torch_parity():
    torch = _torch()
    x = ag.tensor(np.array([[2.0, 0.0, 3.0, -1.0], [0.5, 0.0, 0.0, 4.0]]), requires_grad=True)
    tx = _tt(torch, x)
    y, ty = ag.cumprod(x, 1), torch.cumprod(tx, 1)
    w = np.arange(8.0).reshape(2, 4)
    (y * ag.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y._data, ty.detach().numpy())
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy())


# -- multinomial --------------------------------------------------------------------------------------------
def test_multinomial_shapes_dtype_and_seeding():
    p = ag.tensor([0.1, 0.0, 0.6, 0.3])
    ag.manual_seed(3)
    a = ag.multinomial(p, 50, replacement=True)
    ag.manual_seed(3)
    b = ag.multinomial(p, 50, replacement=True)
    assert a.shape == (50,) and a.dtype == np.int64
    np.testing.assert_array_equal(a._data, b._data)
    assert 1 not in a._data  # zero weight: never drawn
    g = ag.Generator(5)
    rows = ag.multinomial(ag.tensor([[1.0, 2.0, 0.0], [0.0, 3.0, 5.0]]), 2, generator=g)
    assert rows.shape == (2, 2)
    assert sorted(rows._data[0].tolist()) == [0, 1] and sorted(rows._data[1].tolist()) == [1, 2]
    np.testing.assert_array_equal(ag.multinomial(ag.tensor([[0.0, 0.0, 5.0]]), 3, replacement=True)._data, [[2, 2, 2]])
    assert p.multinomial(2).shape == (2,)


def test_multinomial_frequencies_follow_the_weights():
    p = np.array([1.0, 3.0, 6.0])
    draws = ag.multinomial(ag.tensor(p), 20000, replacement=True, generator=ag.Generator(0))._data
    freq = np.bincount(draws, minlength=3) / draws.size
    np.testing.assert_allclose(freq, p / p.sum(), atol=0.015)
    # without replacement, the first draw follows the weights and no index repeats
    firsts = np.array([ag.multinomial(ag.tensor(p), 3, generator=ag.Generator(s))._data for s in range(3000)])
    assert all(len(set(r)) == 3 for r in firsts[:50])
    np.testing.assert_allclose(np.bincount(firsts[:, 0], minlength=3) / 3000, p / p.sum(), atol=0.03)


def test_multinomial_errors_like_torch():
    with pytest.raises(ValueError, match="without replacement"):
        ag.multinomial(ag.tensor([0.5, 0.5]), 3)
    with pytest.raises(ValueError, match="non-zero"):
        ag.multinomial(ag.tensor([0.5, 0.0, 0.0]), 2)
    with pytest.raises(ValueError, match="negative"):
        ag.multinomial(ag.tensor([0.5, -0.1]), 1)
    with pytest.raises(ValueError, match="sums to 0"):
        ag.multinomial(ag.tensor([0.0, 0.0]), 1, True)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        ag.multinomial(ag.ones(2, 2, 2), 1)


# -- counting -----------------------------------------------------------------------------------------------
def test_histc_histogram_bincount_unique_match_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    data = rng.standard_normal(200)
    x, tx = ag.tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(ag.histc(x, bins=7, min=-1, max=1.5)._data,
                                  torch.histc(tx, bins=7, min=-1, max=1.5).numpy())
    np.testing.assert_array_equal(ag.histc(x, bins=5)._data, torch.histc(tx, bins=5).numpy())
    np.testing.assert_array_equal(ag.histc(ag.tensor([2.0, 2.0]), bins=4)._data,
                                  torch.histc(torch.tensor([2.0, 2.0]), bins=4).numpy())
    h, e = ag.histogram(x, bins=6, range=(-2.0, 2.0), density=True)
    th, te = torch.histogram(tx, bins=6, range=(-2.0, 2.0), density=True)
    np.testing.assert_allclose(h._data, th.numpy())
    np.testing.assert_allclose(e._data, te.numpy(), atol=1e-12)
    edges = ag.tensor(np.array([-3.0, 0.0, 0.5, 3.0]))
    w = rng.random(200)
    h2 = ag.histogram(x, edges, weight=ag.tensor(w))
    th2 = torch.histogram(tx, torch.tensor([-3.0, 0.0, 0.5, 3.0], dtype=torch.float64), weight=torch.tensor(w))
    np.testing.assert_allclose(h2.hist._data, th2.hist.numpy())
    ints = rng.integers(0, 6, 50)
    np.testing.assert_array_equal(ag.bincount(ag.tensor(ints), minlength=8)._data,
                                  torch.bincount(torch.tensor(ints), minlength=8).numpy())
    bw = ag.bincount(ag.tensor(ints), weights=ag.tensor(w[:50].astype(np.float32)))
    tbw = torch.bincount(torch.tensor(ints), weights=torch.tensor(w[:50].astype(np.float32)))
    assert bw.dtype == np.float32 and str(tbw.dtype) == "torch.float32"
    np.testing.assert_allclose(bw._data, tbw.numpy(), rtol=1e-6)
    u = rng.integers(0, 4, (3, 5))
    ours = ag.unique(ag.tensor(u), return_inverse=True, return_counts=True)
    theirs = torch.unique(torch.tensor(u), return_inverse=True, return_counts=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a._data, b.numpy())
    rows = np.array([[1, 2], [1, 2], [0, 1]])
    ours = ag.unique(ag.tensor(rows), dim=0, return_inverse=True)
    theirs = torch.unique(torch.tensor(rows), dim=0, return_inverse=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a._data, b.numpy())


def test_counting_ops_errors():
    with pytest.raises(ValueError, match="non-negative"):
        ag.bincount(ag.tensor([1, -1]))
    with pytest.raises(ValueError, match="1-D"):
        ag.bincount(ag.tensor([[1]]))
    with pytest.raises(TypeError, match="floating"):
        ag.histc(ag.tensor([1, 2]))
    with pytest.raises(ValueError, match="max"):
        ag.histc(ag.tensor([1.0]), bins=3, min=2, max=1)


def test_isclose_allclose_equal():
    a = ag.tensor([1.0, 2.0, np.nan])
    b = ag.tensor([1.0 + 1e-9, 2.1, np.nan])
    np.testing.assert_array_equal(ag.isclose(a, b)._data, [True, False, False])
    np.testing.assert_array_equal(a.isclose(b, equal_nan=True)._data, [True, False, True])
    assert ag.allclose(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.0 + 1e-7])) is True
    assert ag.allclose(a, b, atol=0.2, equal_nan=True) is True
    assert ag.equal(ag.tensor([1, 2]), ag.tensor([1, 2])) is True
    assert ag.equal(ag.tensor([1, 2]), ag.tensor([1, 3])) is False
    assert ag.equal(ag.tensor([1, 2]), ag.tensor([[1, 2]])) is False  # shapes differ (torch.equal)
    assert ag.ones(2).equal(ag.ones(2))


# -- in-place math --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,args", [("exp_", ()), ("log_", ()), ("sqrt_", ()), ("clamp_", (0.5, 1.5)),
                                       ("pow_", (2,)), ("log10_", ()), ("neg_", ()), ("sigmoid_", ()),
                                       ("abs_", ()), ("tanh_", ())])
def test_inplace_math_methods(name, args):
    data = np.array([0.3, 1.0, 2.5])
    x = ag.tensor(data)
    expected = getattr(ag.tensor(data), name[:-1])(*args)._data
    storage = x._data
    v = x._version
    assert x.__getattribute__(name)(*args) is x
    np.testing.assert_allclose(x._data, expected)
    assert x._data is storage and x._version == v + 1  # written into the same storage, version bumped
    leaf = ag.tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(leaf, name)(*args)
    # on a non-leaf it is recorded, and the gradient is the out-of-place one's
    y = leaf * 1.0
    getattr(y, name)(*args)
    y.sum().backward()
    ref = ag.tensor(data, requires_grad=True)
    getattr(ref * 1.0, name[:-1])(*args).sum().backward()
    np.testing.assert_allclose(leaf.grad._data, ref.grad._data)


def test_softmax_dtype_and_stacklevel_keywords():
    import nn.functional as F
    x = ag.tensor([[1.0, 2.0, 3.0]])
    for y in (ag.softmax(x, dim=-1, dtype=ag.float64), x.softmax(-1, dtype=ag.float64),
              F.softmax(x, dim=1, _stacklevel=5, dtype=ag.float64)):
        assert y.dtype == np.float64
        np.testing.assert_allclose(y.numpy(), np.exp([[1, 2, 3]]) / np.exp([1, 2, 3]).sum(), rtol=1e-12)
    assert x.log_softmax(1, dtype=ag.float64).dtype == np.float64


@pytest.mark.parametrize("a,b,kw", [([1.0, 2.0], [1.0, 2.5], {}), ([1.0, 2.0], [1.0, 2.000001], {}),
                                    ([1, 2], [1, 3], {}), ([1.0, float("nan")], [1.0, float("nan")], {}),
                                    ([1.0, float("nan")], [1.0, float("nan")], dict(equal_nan=True)),
                                    ([1.0, 2.0], [1.1, 2.0], dict(rtol=0.2, atol=0.0))])
def test_assert_close_passes_and_fails_as_torch(a, b, kw):
    torch = pytest.importorskip("torch")
    outcomes = []
    for f, mk in ((ag.testing.assert_close, ag.tensor), (torch.testing.assert_close, torch.tensor)):
        try:
            f(mk(a), mk(b), **kw)
            outcomes.append(None)
        except AssertionError as e:
            outcomes.append(str(e).splitlines()[0])
    assert outcomes[0] == outcomes[1]


def test_assert_close_reports_what_differs():
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 2 \(50.0%\)\nGreatest absolute difference: 0.5"):
        ag.testing.assert_close(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.5]))
    with pytest.raises(AssertionError, match="'dtype' do not match"):
        ag.testing.assert_close(ag.tensor([1.0]), ag.tensor([1.0], dtype=ag.float64))
    with pytest.raises(AssertionError, match="'shape' do not match"):
        ag.testing.assert_close(ag.zeros(2), ag.zeros(3))
    ag.testing.assert_close({"a": [ag.tensor(1.0)]}, {"a": [ag.tensor(1.0)]})


def test_addmm_inplace_matches_torch_with_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    t0, a0, b0 = rng.standard_normal((2, 2)), rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    res = []
    for lib in (ag, torch):
        t, a = lib.tensor(t0, requires_grad=True), lib.tensor(a0, requires_grad=True)
        u = t * 1
        u.addmm_(a, lib.tensor(b0), beta=0.5, alpha=2)
        (u * u).sum().backward()
        res.append([u.detach().numpy(), t.grad.numpy(), a.grad.numpy()])
    for x, y in zip(*res):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_jit_decorators_leave_code_as_python():
    @ag.jit.script
    def f(x):
        return x * 2
    assert f(ag.tensor([1.0])).tolist() == [2.0]
    assert ag.jit.trace(f, ag.zeros(1)) is f and ag.jit.ignore(f) is f and ag.jit.ignore(drop=True)(f) is f
    assert not ag.jit.is_scripting() and not ag.jit.is_tracing()
    with pytest.raises(RuntimeError, match="jit.save: there is no TorchScript here; save the weights with nn.save"):
        ag.jit.save(f, "x.pt")


def test_small_tensor_methods():
    x = ag.arange(6.0).reshape(2, 3)
    assert x.H.shape == (3, 2) and ag.zeros(4, 2, 3).mH.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.H.numpy(), x.numpy().T)
    assert x.pin_memory() is x and not x.is_pinned()
    assert ag.is_nonzero(ag.tensor([3])) and not ag.is_nonzero(ag.tensor(0.0))
    with pytest.raises(RuntimeError, match="is_nonzero: a tensor with 2 elements"):
        ag.is_nonzero(ag.zeros(2))

"""PyTorch names that scripts reach for in passing: window functions, range / asarray /
set_default_tensor_type, gcd / lcm / frexp / ldexp, retains_grad and post-accumulate-grad hooks,
is_inference_mode_enabled, nn.Buffer, nn.DataParallel, nn.functional's in-place activations and
*_with_indices pools, and nn.functional's layers at the top level (torch.conv1d, ...). Gradients are
gradchecked in float64 over hypothesis shapes; values match torch when it is installed."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck, shapes, tensors


def _torch():
    return pytest.importorskip("torch")


# -- window functions -----------------------------------------------------------------------------
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_are_symmetric_and_periodic_drops_the_last_point(name):
    f = getattr(ag, name)
    for n in (2, 5, 8):
        sym = f(n, periodic=False).numpy()
        np.testing.assert_allclose(sym, sym[::-1], atol=1e-6)
        np.testing.assert_allclose(f(n, periodic=True).numpy(), f(n + 1, periodic=False).numpy()[:n], atol=1e-6)
    assert f(0).shape == (0,) and f(1).tolist() == [1.0]
    assert f(4).dtype == ag.float32 and f(4, dtype=ag.float64).dtype == ag.float64


def test_hann_window_by_hand():
    np.testing.assert_allclose(ag.hann_window(4).numpy(), [0.0, 0.5, 1.0, 0.5], atol=1e-7)


@pytest.mark.parametrize("name", WINDOWS)
@given(n=st.integers(0, 12), periodic=st.booleans())
def test_windows_match_torch(name, n, periodic):
    torch = _torch()
    np.testing.assert_allclose(getattr(ag, name)(n, periodic, dtype=ag.float64).numpy(),
                               getattr(torch, name)(n, periodic, dtype=torch.float64).numpy(), atol=1e-12)


# -- range, asarray, set_default_tensor_type -------------------------------------------------------
def test_range_includes_its_end():
    assert ag.range(1, 4).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert ag.range(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ag.range(3, 0, -1, dtype=ag.int64).tolist() == [3, 2, 1, 0]
    with pytest.raises(ValueError, match="range"):
        ag.range(0, 1, 0)


def test_asarray_shares_memory_like_torch():
    a = np.zeros(3)
    t = ag.asarray(a)
    a[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 0.0]
    c = ag.asarray(a, copy=True)
    a[0] = 1.0
    assert c.tolist() == [0.0, 7.0, 0.0]
    x = ag.ones(2)
    assert ag.asarray(x) is x and ag.asarray(x, copy=True) is not x
    assert ag.asarray([1.5, 2.0]).dtype == ag.float32
    with pytest.raises(ValueError, match="copy=False"):
        ag.asarray(a, dtype=ag.float32, copy=False)
    r = ag.asarray([1.0, 2.0], requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_set_default_tensor_type_sets_the_default_dtype():
    try:
        ag.set_default_tensor_type("torch.DoubleTensor")
        assert ag.tensor([1.5]).dtype == ag.float64 and ag.zeros(1).dtype == ag.float64
        ag.set_default_tensor_type(ag.FloatTensor)
        assert ag.tensor([1.5]).dtype == ag.float32
        with pytest.raises(RuntimeError, match="(?i)cuda|gpu"):
            ag.set_default_tensor_type("torch.cuda.FloatTensor")
        with pytest.raises(TypeError, match="set_default_tensor_type"):
            ag.set_default_tensor_type("torch.LongTensor")
    finally:
        ag.set_default_dtype(ag.float32)


def test_is_same_size_is_signed_and_inference_mode():
    assert ag.is_same_size(ag.zeros(2, 3), ag.ones(2, 3)) and not ag.is_same_size(ag.zeros(2), ag.zeros(3))
    assert ag.is_signed(ag.zeros(1)) and not ag.is_signed(ag.zeros(1, dtype=ag.uint8))
    assert not ag.is_inference_mode_enabled()
    with ag.inference_mode():
        assert ag.is_inference_mode_enabled()
        with ag.inference_mode(False):
            assert not ag.is_inference_mode_enabled()
    with ag.no_grad():
        assert not ag.is_inference_mode_enabled()

    @ag.inference_mode()
    def f():
        return ag.is_inference_mode_enabled()
    assert f() and not ag.is_inference_mode_enabled()


# -- gcd, lcm, frexp, ldexp -----------------------------------------------------------------------
def test_gcd_lcm_by_hand_and_refuse_floats():
    assert ag.gcd(ag.tensor([12, 7, 0, -4]), ag.tensor([18, 3, 5, 6])).tolist() == [6, 1, 5, 2]
    assert ag.lcm(ag.tensor([4, 6, 0]), ag.tensor([6, 4, 3])).tolist() == [12, 12, 0]
    with pytest.raises(TypeError, match="gcd.*integer"):
        ag.gcd(ag.tensor([1.0]), ag.tensor([2.0]))


@given(st.data())
def test_frexp_reassembles_and_its_mantissa_gradient_is_g_over_two_to_the_exponent(data):
    shape = data.draw(shapes(max_dims=3, max_side=4))
    x = data.draw(tensors(shape))
    m, e = ag.frexp(x)
    assert e.dtype == ag.int32
    mv, xv = m.detach().numpy(), x.detach().numpy()
    np.testing.assert_array_equal(mv * 2.0 ** e.numpy(), xv)
    assert np.all((np.abs(mv) >= 0.5) & (np.abs(mv) < 1) | (xv == 0))
    m.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2.0 ** -e.numpy())


@given(st.data())
def test_ldexp_gradcheck(data):
    shape = data.draw(shapes(max_dims=3, max_side=4))
    x = data.draw(tensors(shape))
    p = data.draw(tensors(shape, elements=st.floats(-2, 2)))
    assert gradcheck(lambda x, p: ag.ldexp(x, p), (x, p))
    np.testing.assert_allclose(ag.ldexp(x, p).detach().numpy(), x.detach().numpy() * 2.0 ** p.detach().numpy())


def test_ldexp_with_integer_exponents_keeps_the_float_dtype():
    r = ag.ldexp(ag.tensor([1.0, 3.0]), ag.tensor([2, -1]))
    assert r.dtype == ag.float32 and r.tolist() == [4.0, 1.5]


def test_frexp_and_gcd_match_torch():
    torch = _torch()
    x = np.array([8.0, 0.75, -3.0, 0.0, 1e-3])
    m, e = ag.frexp(ag.tensor(x))
    tm, te = torch.frexp(torch.tensor(x))
    np.testing.assert_array_equal(m.numpy(), tm.numpy())
    np.testing.assert_array_equal(e.numpy(), te.numpy())
    a, b = np.array([12, -7, 0, 9]), np.array([18, 21, 5, 0])
    np.testing.assert_array_equal(ag.gcd(ag.tensor(a), ag.tensor(b)).numpy(), torch.gcd(torch.tensor(a), torch.tensor(b)).numpy())
    np.testing.assert_array_equal(ag.lcm(ag.tensor(a), ag.tensor(b)).numpy(), torch.lcm(torch.tensor(a), torch.tensor(b)).numpy())


# -- retains_grad, post-accumulate-grad hooks, cov / corrcoef / diagflat methods ----------------------
def test_retains_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert not y.retains_grad and not x.retains_grad
    y.retain_grad()
    assert y.retains_grad
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0]


def test_post_accumulate_grad_hook_sees_the_accumulated_grad_and_can_step_there():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    w.grad = ag.tensor([10.0, 10.0])
    seen = []

    def step(p):
        seen.append(p.grad.tolist())
        with ag.no_grad():
            p -= 0.5 * p.grad
        p.grad = None
    h = w.register_post_accumulate_grad_hook(step)
    (w * 3).sum().backward()
    assert seen == [[13.0, 13.0]]
    assert w.grad is None and w.tolist() == [1.0 - 6.5, 2.0 - 6.5]
    h.remove()
    (w * 3).sum().backward()
    assert len(seen) == 1 and w.grad.tolist() == [3.0, 3.0]
    # autograd.grad does not accumulate: no call
    w.register_post_accumulate_grad_hook(lambda p: seen.append("grad"))
    ag.autograd.grad((w * 2).sum(), w)
    assert seen[-1] != "grad"
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_cov_corrcoef_diagflat_are_methods_too():
    x = ag.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]], dtype=ag.float64)
    np.testing.assert_array_equal(x.cov().numpy(), ag.cov(x).numpy())
    np.testing.assert_array_equal(x.corrcoef().numpy(), ag.corrcoef(x).numpy())
    assert ag.tensor([1.0, 2.0]).diagflat().tolist() == [[1.0, 0.0], [0.0, 2.0]]


# -- nn.Buffer, nn.DataParallel -------------------------------------------------------------------
def test_buffer_assignment_registers_a_buffer():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = nn.Buffer(ag.zeros(1))
            self.cache = nn.Buffer(ag.ones(2), persistent=False)
            self.lin = nn.Linear(2, 2)

    m = Counter()
    assert sorted(n for n, _ in m.named_buffers()) == ["cache", "steps"]
    assert sorted(m.state_dict()) == ["lin.bias", "lin.weight", "steps"]
    assert not m.steps.requires_grad
    m2 = m.to(ag.float64)
    assert m2.steps.dtype == ag.float64


def test_data_parallel_wraps_and_prefixes_the_state_dict():
    inner = nn.Linear(3, 2)
    model = nn.DataParallel(inner, device_ids=[0, 1])
    x = ag.randn(4, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), inner(x).detach().numpy())
    assert isinstance(model, nn.parallel.DataParallel) and model.module is inner and model.device_ids == []
    assert sorted(model.state_dict()) == ["module.bias", "module.weight"]
    assert len(list(model.parameters())) == 2
    with pytest.raises(RuntimeError, match="DistributedDataParallel"):
        nn.parallel.DistributedDataParallel(inner)


def test_data_parallel_state_dict_loads_into_torchs():
    torch = _torch()
    ours = nn.DataParallel(nn.Linear(3, 2))
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    sd = {k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(theirs(torch.tensor(x)).detach().numpy(), ours(ag.tensor(x)).detach().numpy(), atol=1e-6)


# -- nn.functional: in-place activations, *_with_indices, upsample_bilinear -----------------------------
INPLACE = [("elu_", (), F.elu), ("leaky_relu_", (0.1,), F.leaky_relu), ("hardtanh_", (), F.hardtanh),
           ("threshold_", (0.3, -2.0), F.threshold), ("celu_", (0.7,), F.celu), ("selu_", (), F.selu),
           ("rrelu_", (0.2, 0.2), F.rrelu)]


@pytest.mark.parametrize("name,args,outofplace", INPLACE, ids=[c[0] for c in INPLACE])
@given(st.data())
def test_inplace_activation_writes_into_its_input_and_gradchecks(name, args, outofplace, data):
    shape = data.draw(shapes(max_dims=3, max_side=4))
    x = data.draw(tensors(shape, elements=st.floats(-3, 3).filter(lambda v: min(abs(v - 0.3), abs(v + 1), abs(v - 1), abs(v)) > 1e-3)))
    expected = outofplace(x.detach(), *args)
    y = x.detach().clone()
    assert getattr(F, name)(y, *args) is y
    np.testing.assert_allclose(y.numpy(), expected.numpy())
    assert gradcheck(lambda x: getattr(F, name)(x * 1.0, *args), (x,))


def test_inplace_activation_on_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="leaf"):
        F.elu_(ag.ones(2, requires_grad=True))


def test_with_indices_and_upsample_bilinear():
    x = ag.tensor([[[1.0, 3.0, 2.0, 0.0]]])
    v, i = F.max_pool1d_with_indices(x, 2)
    assert v.tolist() == [[[3.0, 2.0]]] and i.tolist() == [[[1, 2]]]
    v, i = F.adaptive_max_pool1d_with_indices(x, 1)
    assert v.tolist() == [[[3.0]]] and i.tolist() == [[[1]]]
    img = ag.tensor([[[[1.0, 3.0], [4.0, 2.0]]]])
    assert F.max_pool2d_with_indices(img, 2)[1].tolist() == [[[[2]]]]
    assert F.adaptive_max_pool2d_with_indices(img, 1)[1].tolist() == [[[[2]]]]
    assert F.upsample_bilinear(ag.tensor([[[[0.0, 3.0]]]]), size=(1, 4)).tolist() == [[[[0.0, 1.0, 2.0, 3.0]]]]


def test_upsample_bilinear_and_inplace_match_torch():
    torch = _torch()
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)    # torch says the name is deprecated
        theirs = torch.nn.functional.upsample_bilinear(torch.tensor(x), scale_factor=2).numpy()
    np.testing.assert_allclose(F.upsample_bilinear(ag.tensor(x), scale_factor=2).numpy(), theirs, atol=1e-12)
    for name, args, _ in INPLACE:
        a, t = ag.tensor(x), torch.tensor(x)
        getattr(F, name)(a, *args)
        getattr(torch.nn.functional, name)(t, *args)
        np.testing.assert_allclose(a.numpy(), t.numpy(), atol=1e-12, err_msg=name)


# -- nn.functional's layers at the top level ----------------------------------------------------------
def test_top_level_functional_names_are_nn_functionals():
    from nn.torch_namespace import TOP_LEVEL
    for name in TOP_LEVEL:
        assert getattr(ag, name) is getattr(F, name), name
    assert ag.embedding(ag.eye(3), ag.tensor([2, 0])).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_top_level_functional_names_match_torch():
    torch = _torch()
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(ag.cosine_similarity(ag.tensor(a), ag.tensor(b)).numpy(),
                               torch.cosine_similarity(torch.tensor(a), torch.tensor(b)).numpy(), atol=1e-12)
    np.testing.assert_allclose(ag.pairwise_distance(ag.tensor(a), ag.tensor(b)).numpy(),
                               torch.pairwise_distance(torch.tensor(a), torch.tensor(b)).numpy(), atol=1e-12)
    x, w = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3))
    np.testing.assert_allclose(ag.conv1d(ag.tensor(x), ag.tensor(w), padding=1).numpy(),
                               torch.conv1d(torch.tensor(x), torch.tensor(w), padding=1).numpy(), atol=1e-12)
    idx = np.array([[1, 0], [2, 2]])
    wt = rng.standard_normal((3, 5))
    np.testing.assert_allclose(ag.embedding(ag.tensor(wt), ag.tensor(idx)).numpy(),
                               torch.embedding(torch.tensor(wt), torch.tensor(idx)).numpy())
    np.testing.assert_allclose(ag.pixel_shuffle(ag.tensor(rng.standard_normal((1, 4, 2, 2))), 2).numpy().shape,
                               (1, 1, 4, 4))


def test_fork_rng_restores_the_global_generator():
    import autograd_core as torch
    torch.manual_seed(3)
    with torch.random.fork_rng(devices=[]):
        inside = torch.randn(4)
        torch.manual_seed(99)          # even a reseed inside the block is undone
        torch.rand(2)
    after = torch.randn(4)
    assert torch.equal(inside, after)
    with torch.random.fork_rng(enabled=False):
        a = torch.randn(2)
    assert not torch.equal(torch.randn(2), a)


def test_sdpa_kernel_checks_its_backends_and_changes_nothing():
    import numpy as np
    import pytest
    import autograd_core as torch
    import nn  # noqa: F401  (torch.nn is the nn package once imported)
    import nn.functional as F
    from nn.attention import SDPBackend, sdpa_kernel
    q, k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 5, 4), torch.randn(1, 2, 5, 4)
    plain = F.scaled_dot_product_attention(q, k, v)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        inside = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_array_equal(inside.numpy(), plain.numpy())
    assert str(torch.nn.attention.SDPBackend.MATH) == "SDPBackend.MATH"
    with pytest.raises(TypeError, match="sdpa_kernel: backends must be SDPBackend"):
        with sdpa_kernel("math"):
            pass

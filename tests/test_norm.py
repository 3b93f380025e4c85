"""batch_norm, layer_norm and dropout: values, running statistics, gradients (gradcheck and grad of
grad through the fused closed-form VJPs), errors, PyTorch parity."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core import kernels
from autograd_core.testing import gradcheck, gradgradcheck


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def backend(request):
    """Every test here runs on both kernel backends: the Numba kernels (compiled before their first use)
    and the numpy fallbacks."""
    if request.param == "numba" and not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    with kernels.use(request.param, background=False):
        yield request.param

bn_shapes = st.sampled_from([(4, 3), (3, 2, 4), (2, 3, 3, 2), (5, 1), (2, 2, 1, 3)])


def bn_ref(x, mean, var, w, b, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


@settings(max_examples=20)
@given(bn_shapes, st.booleans(), st.booleans(), st.integers(0, 999))
def test_batch_norm_training_forward_and_gradcheck(shape, affine_w, affine_b, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2 + 1
    C = shape[1]
    w = rng.standard_normal(C) if affine_w else None
    b = rng.standard_normal(C) if affine_b else None
    axes = (0,) + tuple(range(2, len(shape)))
    y = ag.batch_norm(ag.tensor(x), None, None, None if w is None else ag.tensor(w),
                      None if b is None else ag.tensor(b), training=True)
    np.testing.assert_allclose(y._data, bn_ref(x, x.mean(axis=axes), x.var(axis=axes), w, b, 1e-5), atol=1e-10)
    ins = [ag.tensor(x, requires_grad=True)] + [ag.tensor(a, requires_grad=True) for a in (w, b) if a is not None]

    def f(x, *wb):
        it = iter(wb)
        return ag.batch_norm(x, None, None, next(it) if affine_w else None, next(it) if affine_b else None, True)
    gradcheck(f, tuple(ins), n_cotangents=1)


def test_batch_norm_gradgradcheck():
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((3, 2, 2, 2)), requires_grad=True)
    w = ag.tensor(rng.standard_normal(2), requires_grad=True)
    b = ag.tensor(rng.standard_normal(2), requires_grad=True)
    gradgradcheck(lambda x, w, b: ag.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    rm, rv = ag.tensor(rng.standard_normal(2)), ag.tensor(rng.random(2) + 0.5)
    gradgradcheck(lambda x, w, b: ag.batch_norm(x, rm, rv, w, b, training=False) ** 2, (x, w, b))


def test_batch_norm_running_stats_after_k_steps():
    """r_k = (1 - m) r_{k-1} + m * stat_k, unbiased variance in the running var, biased in the output."""
    rng = np.random.default_rng(1)
    C, m = 3, 0.3
    rm, rv = ag.zeros(C, dtype="float64"), ag.ones(C, dtype="float64")
    want_m, want_v = np.zeros(C), np.ones(C)
    v0m, v0v = rm._version, rv._version
    for k in range(4):
        x = rng.standard_normal((5, C, 2, 3)) * (k + 1) + k
        y = ag.batch_norm(ag.tensor(x), rm, rv, None, None, training=True, momentum=m)
        n = 5 * 2 * 3
        bm, bv = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        want_m = (1 - m) * want_m + m * bm
        want_v = (1 - m) * want_v + m * bv * n / (n - 1)
        np.testing.assert_allclose(y._data, bn_ref(x, bm, bv, None, None, 1e-5), atol=1e-10)
    np.testing.assert_allclose(rm._data, want_m, rtol=1e-12)
    np.testing.assert_allclose(rv._data, want_v, rtol=1e-12)
    assert rm._version == v0m + 4 and rv._version == v0v + 4
    assert not rm.requires_grad and rm.grad_fn is None


def test_batch_norm_eval_uses_running_stats():
    rng = np.random.default_rng(2)
    rm, rv = ag.tensor(rng.standard_normal(4)), ag.tensor(rng.random(4) + 0.5)
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    x = rng.standard_normal((3, 4, 5))
    before = rm._data.copy(), rv._data.copy()
    y = ag.batch_norm(ag.tensor(x), rm, rv, ag.tensor(w), ag.tensor(b), training=False, eps=1e-3)
    np.testing.assert_allclose(y._data, bn_ref(x, rm._data, rv._data, w, b, 1e-3), atol=1e-12)
    np.testing.assert_array_equal(rm._data, before[0])
    np.testing.assert_array_equal(rv._data, before[1])
    ins = (ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True))
    gradcheck(lambda x, w, b: ag.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3), ins)
    # one sample is fine in eval mode
    assert ag.batch_norm(ag.tensor(x[:1, :, :1]), rm, rv, training=False).shape == (1, 4, 1)


def test_batch_norm_float32_keeps_dtype():
    x = ag.tensor(np.random.default_rng(3).standard_normal((8, 3, 4, 4)).astype(np.float32), requires_grad=True)
    w = ag.ones(3, requires_grad=True)
    rm, rv = ag.zeros(3), ag.ones(3)
    y = ag.batch_norm(x, rm, rv, w, None, training=True)
    assert y.dtype == np.float32 and rm.dtype == np.float32 and rv.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


@pytest.mark.parametrize("call, words", [
    (lambda: ag.batch_norm(ag.zeros(1, 3), None, None, training=True), ["batch_norm", "more than 1 value", "(1, 3)"]),
    (lambda: ag.batch_norm(ag.zeros(4), None, None, training=True), ["batch_norm", "(4,)"]),
    (lambda: ag.batch_norm(ag.zeros(2, 3), None, None, ag.ones(2), training=True), ["batch_norm", "weight", "(3,)"]),
    (lambda: ag.batch_norm(ag.zeros(2, 3), ag.zeros(2), ag.ones(3), training=True), ["batch_norm", "running_mean"]),
    (lambda: ag.batch_norm(ag.zeros(2, 3), None, None, training=False), ["batch_norm", "running_mean"]),
    (lambda: ag.layer_norm(ag.zeros(2, 3), (2,)), ["layer_norm", "normalized_shape", "(2, 3)"]),
    (lambda: ag.layer_norm(ag.zeros(2, 3), 3, ag.ones(2)), ["layer_norm", "weight", "(3,)"]),
    (lambda: ag.dropout(ag.zeros(3), 1.5), ["dropout", "1.5"]),
])
def test_errors(call, words):
    with pytest.raises(ValueError) as e:
        call()
    for word in words:
        assert word in str(e.value), (word, str(e.value))


# -- layer norm --------------------------------------------------------------------------------
@settings(max_examples=20)
@given(st.sampled_from([((4, 5), 1), ((3, 2, 4), 1), ((2, 3, 4), 2), ((2, 2, 2, 3), 3), ((6,), 1)]),
       st.booleans(), st.integers(0, 999))
def test_layer_norm_forward_and_gradcheck(shape_k, affine, seed):
    shape, k = shape_k
    rng = np.random.default_rng(seed)
    ns = shape[len(shape) - k:]
    x = rng.standard_normal(shape) * 3 - 1
    w = rng.standard_normal(ns) if affine else None
    b = rng.standard_normal(ns) if affine else None
    axes = tuple(range(len(shape) - k, len(shape)))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    want = (x - mean) / np.sqrt(var + 1e-5)
    if affine:
        want = want * w + b
    y = ag.layer_norm(ag.tensor(x), ns, None if w is None else ag.tensor(w), None if b is None else ag.tensor(b))
    np.testing.assert_allclose(y._data, want, atol=1e-10)
    ins = [ag.tensor(x, requires_grad=True)] + ([ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True)]
                                                 if affine else [])
    gradcheck(lambda x, *wb: ag.layer_norm(x, ns, *wb), tuple(ins), n_cotangents=1)


def test_layer_norm_gradgradcheck():
    rng = np.random.default_rng(4)
    x = ag.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = ag.tensor(rng.standard_normal(4), requires_grad=True)
    b = ag.tensor(rng.standard_normal(4), requires_grad=True)
    gradgradcheck(lambda x, w, b: ag.layer_norm(x, 4, w, b), (x, w, b))


# -- dropout -----------------------------------------------------------------------------------
def test_dropout_identity_and_extremes():
    x = ag.randn(5, 6, requires_grad=True)
    assert ag.dropout(x, 0.5, training=False) is x
    assert ag.dropout(x, 0.0) is x
    y = ag.dropout(x, 1.0)
    np.testing.assert_array_equal(y._data, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, 0)


def test_dropout_scaling_mask_and_gradient():
    x = ag.ones(200, 100, dtype="float64", requires_grad=True)
    y = ag.dropout(x, 0.3, generator=ag.Generator(0))
    kept = y._data != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y._data[kept], 1 / 0.7)
    g = np.random.default_rng(0).standard_normal(x.shape)
    y.backward(g)
    np.testing.assert_allclose(x.grad._data, np.where(kept, g / 0.7, 0))
    gradcheck(lambda x: ag.dropout(x, 0.3, generator=ag.Generator(1)), (ag.randn(4, 5, dtype="float64",
                                                                                   requires_grad=True),))


def test_dropout_generator_reproducible():
    x = ag.ones(50, dtype="float32")
    a = ag.dropout(x, 0.5, generator=ag.Generator(7))
    b = ag.dropout(x, 0.5, generator=ag.Generator(7))
    np.testing.assert_array_equal(a._data, b._data)
    assert a.dtype == np.float32
    ag.manual_seed(3)
    c = ag.dropout(x, 0.5)
    ag.manual_seed(3)
    np.testing.assert_array_equal(c._data, ag.dropout(x, 0.5)._data)


# -- PyTorch parity ----------------------------------------------------------------------------
@settings(max_examples=15)
@given(bn_shapes, st.booleans(), st.integers(0, 999))
def test_norms_match_torch(shape, training, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    rm, rv = rng.standard_normal(shape[1]), rng.random(shape[1]) + 0.5
    ours = [ag.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    orm, orv, trm, trv = ag.tensor(rm), ag.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    y = ag.batch_norm(ours[0], orm, orv, ours[1], ours[2], training, 0.2, 1e-4)
    yt = F.batch_norm(theirs[0], trm, trv, theirs[1], theirs[2], training, 0.2, 1e-4)
    np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(orm._data, trm.numpy(), atol=1e-12)
    np.testing.assert_allclose(orv._data, trv.numpy(), atol=1e-12)
    g = rng.standard_normal(shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad._data, t.grad.numpy(), atol=1e-9)
    ns = shape[1:]
    xl = [ag.tensor(x, requires_grad=True), ag.tensor(rng.standard_normal(ns), requires_grad=True)]
    xt = [torch.tensor(xl[0]._data, requires_grad=True), torch.tensor(xl[1]._data, requires_grad=True)]
    y = ag.layer_norm(xl[0], ns, xl[1])
    yt = F.layer_norm(xt[0], ns, xt[1])
    np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-10)
    y.backward(g)
    yt.backward(torch.tensor(g))
    for a, t in zip(xl, xt):
        np.testing.assert_allclose(a.grad._data, t.grad.numpy(), atol=1e-9)

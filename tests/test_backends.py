"""The kernel backend as an object (kernels.use / backend / wait), and representative gradchecks and PyTorch
parity checks for activations, softmax, embedding gradients, matmul and optimizers under each backend.

(conv, pooling and normalization run their whole suites on both backends: see the ``backend`` fixture in
tests/test_conv.py, test_pool.py, test_norm.py.) The kernels' size thresholds are lowered here so that
the small tensors of a gradcheck take the kernel path under the Numba backend.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import autograd_core as ag
from autograd_core import kernels
from autograd_core.kernels import activation as kact
from autograd_core.kernels import blas as kblas
from autograd_core.kernels import rows as krows
from autograd_core.kernels import select as ksel
from autograd_core.ops.norm import xp_norm_input_grad, xp_norm_param_grads
from autograd_core.ops.reduce import _log_softmax_grad_op, _softmax_grad_op
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors

BACKENDS = ["numba", "numpy"]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    if request.param == "numba" and not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kact, "MIN_SIZE", 1)
    monkeypatch.setattr(kact, "RELU_MIN_SIZE", 1)
    monkeypatch.setattr(kblas, "MIN_WORK", 1)
    monkeypatch.setattr(kblas, "PAR_WORK", 1)
    monkeypatch.setattr(krows, "MIN_SIZE", 1)
    monkeypatch.setattr(ksel, "MIN_SIZE", 1)
    with kernels.use(request.param, background=False):
        yield request.param


# -- the backend object ----------------------------------------------------------------------------------
def test_use_selects_and_restores_the_backend():
    start = kernels.backend()
    with kernels.use("numpy") as u:
        assert kernels.backend() == "numpy" and "numpy" in repr(u)
        if kernels.HAVE_NUMBA:
            with kernels.use("numba"):
                assert kernels.backend() == "numba"
            assert kernels.backend() == "numpy"
    assert kernels.backend() == start
    with pytest.raises(ValueError, match="'numba' or 'numpy'"):
        kernels.use("cuda")


def test_use_numba_without_numba_says_what_to_do(monkeypatch):
    monkeypatch.setattr(kernels.compile, "HAVE_NUMBA", False)
    with pytest.raises(RuntimeError, match="pip install numba"):
        kernels.use("numba")


def test_numpy_backend_runs_no_kernel(monkeypatch):
    """Under use('numpy') no kernel is asked for (none compiles, none runs)."""
    asked = []
    for k in (kact._relu_k, kact._gelu_k, kact._gelu32_k):
        monkeypatch.setattr(type(k), "get", lambda self, key, args: asked.append(self.name))
    x = ag.tensor(np.linspace(-2, 2, 70_000).astype(np.float32), requires_grad=True)
    with kernels.use("numpy"):
        (ag.relu(x) + ag.gelu(x)).sum().backward()
    assert asked == []


def test_wait_returns_when_nothing_is_compiling():
    assert kernels.wait(timeout=60) is True


# -- activations and softmax -------------------------------------------------------------------------------
ACTIVATIONS = {
    "relu": (ag.relu, "relu"),
    "gelu": (ag.gelu, "gelu"),
    "gelu_tanh": (lambda t: ag.gelu(t, approximate="tanh"), None),
    "erf": (ag.erf, "erf"),
    "softmax": (lambda t: ag.softmax(t, axis=-1), "softmax"),
    "log_softmax": (lambda t: ag.log_softmax(t, axis=-1), "log_softmax"),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=tensors(shapes(min_dims=1, max_dims=3), elements=st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3)))
def test_activation_gradcheck_and_gradgradcheck(backend, name, x):
    fn = ACTIVATIONS[name][0]
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_matches_torch(backend, name, dtype):
    torch = pytest.importorskip("torch")
    tf = {"relu": torch.relu, "gelu": torch.nn.functional.gelu, "erf": torch.erf,
          "gelu_tanh": lambda t: torch.nn.functional.gelu(t, approximate="tanh"),
          "softmax": lambda t: torch.softmax(t, -1), "log_softmax": lambda t: torch.log_softmax(t, -1)}[name]
    rng = np.random.default_rng(7)
    xv = (rng.standard_normal((6, 33, 17)) * 3).astype(dtype)
    gv = rng.standard_normal(xv.shape).astype(dtype)
    x = ag.tensor(xv, requires_grad=True)
    y = ACTIVATIONS[name][0](x)
    y.backward(ag.tensor(gv))
    tx = torch.tensor(xv, requires_grad=True)
    ty = tf(tx)
    ty.backward(torch.tensor(gv))
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol * 10)


def test_big_activations_run_the_kernels_under_numba(backend, monkeypatch):
    """On the Numba backend the ReLU/GELU ops run their kernels (and on numpy they do not)."""
    ran = []
    for k in (kact._relu_k, kact._relu_grad_k, kact._gelu32_k, kact._gelu_grad32_k):
        monkeypatch.setattr(type(k), "get", lambda self, key, args, _real=type(k).get: (ran.append(self.name),
                                                                                      _real(self, key, args))[1])
    x = ag.tensor(np.linspace(-2, 2, 5000).astype(np.float32), requires_grad=True)
    (ag.relu(x) * ag.gelu(x)).sum().backward()
    if backend == "numba":
        assert set(ran) == {"relu", "relu_grad", "gelu_float32", "gelu_grad_float32"}
    else:
        assert ran == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=tensors(shapes(min_dims=1, max_dims=3, min_side=2)), affine=st.booleans())
def test_layer_norm_gradcheck(backend, x, affine):
    n = x.shape[-1]
    w = ag.tensor(np.linspace(0.5, 1.5, n), requires_grad=True) if affine else None
    b = ag.tensor(np.linspace(-1, 1, n), requires_grad=True) if affine else None
    ins = (x, w, b) if affine else (x,)
    fn = (lambda t, w_, b_: ag.layer_norm(t, (n,), w_, b_)) if affine else (lambda t: ag.layer_norm(t, (n,)))
    assert gradcheck(fn, ins, atol=1e-4)
    assert gradgradcheck(fn, ins, atol=1e-4)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=shapes(min_dims=1, max_dims=3, min_side=1), last=st.booleans(), seed=st.integers(0, 999))
def test_softmax_and_norm_gradient_ops_gradcheck(backend, shape, last, seed):
    """The ops that softmax's and layer_norm's rules call (kernels over the last axis, numpy over other
    axes) have exact first derivatives, so the second derivatives of softmax and layer_norm are right."""
    rng = np.random.default_rng(seed)
    axis = len(shape) - 1 if last else 0
    keep = tuple(1 if i == axis else n for i, n in enumerate(shape))
    g, y, xh = (ag.tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(3))
    inv = ag.tensor(rng.uniform(0.5, 2.0, keep), requires_grad=True)
    assert gradcheck(lambda a, b: _softmax_grad_op(a, b, axis=axis), (g, y))
    assert gradcheck(lambda a, b: _log_softmax_grad_op(a, b, axis=axis), (g, y))
    assert gradcheck(lambda a, b, c: xp_norm_input_grad(a, b, c, axes=(axis,)), (g, xh, inv))
    w = ag.tensor(rng.standard_normal(shape[-1:] if last else (shape[0],) + (1,) * (len(shape) - 1)),
                  requires_grad=True)
    assert gradcheck(lambda a, b, c, d: xp_norm_input_grad(a, b, c, d, axes=(axis,)), (g, xh, inv, w))
    lead = tuple(range(len(shape) - 1)) if len(shape) > 1 else (0,)
    assert gradcheck(lambda a, b: xp_norm_param_grads(a, b, axes=lead), (g, xh))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_gradient_kernels_match_numpy(backend, dtype):
    rng = np.random.default_rng(5)
    g, y = (rng.standard_normal((4, 16, 19)).astype(dtype) for _ in range(2))    # over MIN_SIZE: the kernels
    inv = rng.uniform(0.5, 2, (4, 16, 1)).astype(dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    want = y * (g - (g * y).sum(-1, keepdims=True))
    np.testing.assert_allclose(_softmax_grad_op(ag.tensor(g), ag.tensor(y), axis=-1).numpy(), want, rtol=tol,
                               atol=tol * 10)
    # log_softmax's: y log-probabilities (<= 0), and one row with positive entries (the float32 kernel's
    # exp serves y <= 0 and redoes such a row)
    logp = y - np.log(np.exp(y).sum(-1, keepdims=True))
    logp[1, 3, :5] = np.linspace(5, 30, 5)
    want = g - np.exp(logp.astype(np.float64)) * g.astype(np.float64).sum(-1, keepdims=True)
    got = _log_softmax_grad_op(ag.tensor(g), ag.tensor(logp), axis=-1).numpy()
    np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 100)
    want = inv * (g - g.mean(-1, keepdims=True) - y * (g * y).mean(-1, keepdims=True))
    got = xp_norm_input_grad(ag.tensor(g), ag.tensor(y), ag.tensor(inv), axes=(2,)).numpy()
    np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 10)
    w = rng.standard_normal(19).astype(dtype)
    gh = g * w
    want = inv * (gh - gh.mean(-1, keepdims=True) - y * (gh * y).mean(-1, keepdims=True))
    got = xp_norm_input_grad(ag.tensor(g), ag.tensor(y), ag.tensor(inv), ag.tensor(w), axes=(2,)).numpy()
    np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 10)
    got = xp_norm_param_grads(ag.tensor(g), ag.tensor(y), axes=(0, 1)).numpy()
    np.testing.assert_allclose(got, np.stack([(g * y).sum((0, 1)), g.sum((0, 1))]), rtol=tol * 10, atol=tol * 100)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [8, 9, 300, 70000])
def test_norm_param_grads_over_blocks_match_numpy(backend, dtype, rows, monkeypatch):
    """The weight and bias gradients' one-pass sums (in fixed blocks of rows over the threads when big) are
    numpy's sums, whatever the thread count."""
    monkeypatch.setattr(krows, "_PAR_MIN", 1 << 10)
    rng = np.random.default_rng(rows)
    g, y = (rng.standard_normal((rows, 5)).astype(dtype) for _ in range(2))
    want = np.stack([(g.astype(np.float64) * y).sum(0), g.astype(np.float64).sum(0)])
    tol = 1e-4 if dtype == np.float32 else 1e-11
    outs = []
    for threads in (1, 2):
        old = ag.get_num_threads()
        ag.set_num_threads(threads)
        try:
            outs.append(xp_norm_param_grads(ag.tensor(g), ag.tensor(y), axes=(0,)).numpy())
        finally:
            ag.set_num_threads(old)
    np.testing.assert_allclose(outs[0], want, rtol=tol, atol=tol * np.sqrt(rows))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k", [((40, 3), 1), ((9, 5, 7), 2), ((3, 300, 2), 1), ((70000, 4), 1)])
def test_sum_over_leading_axes_matches_numpy(backend, dtype, shape, k, monkeypatch):
    """sum over the leading axes (the kernel adds whole rows; big arrays in blocks over the threads) is
    numpy's sum, through the op, keepdim, and the un-broadcast of a bias's gradient."""
    monkeypatch.setattr(krows, "_PAR_MIN", 1 << 10)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    axes = tuple(range(k))
    np.testing.assert_allclose(ag.tensor(x).sum(dim=axes).numpy(), x.sum(axis=axes), rtol=tol, atol=tol * 10)
    assert ag.tensor(x).sum(dim=axes, keepdim=True).shape == x.sum(axis=axes, keepdims=True).shape
    b = ag.tensor(np.zeros(shape[k:], dtype), requires_grad=True)
    (ag.tensor(x) + b).backward(ag.tensor(x))
    np.testing.assert_allclose(b.grad.numpy(), x.sum(axis=axes), rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xshape", [(700,), (3, 700), (4, 50, 33)])
def test_linear_bias_add_matches_numpy(backend, dtype, xshape):
    """linear's forward adds the bias row by row in one kernel: x W^T + b as numpy computes it, NaN and inf
    included, for 1-D, 2-D and 3-D input; the kernel refuses a bias of another dtype or a strided one."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal((xshape[-1] // 2 + 1, xshape[-1])).astype(dtype)
    b = rng.standard_normal(w.shape[0]).astype(dtype)
    b[:2] = [np.nan, np.inf]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    got = ag.linear(ag.tensor(x), ag.tensor(w), ag.tensor(b)).numpy()
    want = x @ w.T + b
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)
    y = np.zeros((3, 400), dtype)
    assert krows.add_rows(y, np.ones(400, np.float16)) is None
    assert krows.add_rows(y, np.ones(800, dtype)[::2]) is None
    if backend == "numba":
        assert krows.add_rows(y, np.arange(400, dtype=dtype)) is y
        np.testing.assert_array_equal(y, np.broadcast_to(np.arange(400, dtype=dtype), (3, 400)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_kernel_matches_numpy(backend, dtype):
    """where with a mask over the trailing dims (or the whole shape), scalar or array branches, NaN and inf
    in the branches, and a mask of leading 1s: numpy's values and dtype; the gradient is PyTorch's
    where(cond, g, 0), so an inf in g stays out of the masked places."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 6, 6)).astype(dtype)
    x[0, 0, 0, :2] = [np.nan, np.inf]
    causal = np.triu(np.ones((6, 6), bool), 1)
    for cond in (causal, causal[None, None], x > 0, np.ones((6,), bool)):
        for a, b in ((x, -np.inf), (0.0, x), (x, x[::-1].copy()), (dtype(2.5), x)):
            got = ag.where(ag.tensor(cond), a if np.ndim(a) == 0 else ag.tensor(a),
                           b if np.ndim(b) == 0 else ag.tensor(b)).numpy()
            want = np.where(cond, a, b)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    t = ag.tensor(x, requires_grad=True)
    t.masked_fill(ag.tensor(causal), float("-inf")).backward(ag.tensor(np.full(x.shape, np.inf, dtype)))
    np.testing.assert_array_equal(t.grad.numpy(), np.broadcast_to(np.where(causal, 0, np.inf).astype(dtype), x.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_kernels_match_numpy(backend, dtype):
    """softmax, log_softmax and layer_norm over the last axis: the kernels' values are numpy's, with rows of
    -inf (NaN, as numpy's formula) and infinities inside rows."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((5, 7, 33)) * 4).astype(dtype)
    x[0, 0, :] = -np.inf
    x[0, 1, :3] = -np.inf
    x[0, 2, 5] = np.inf
    with np.errstate(all="ignore"):
        sh = x - x.max(-1, keepdims=True)
        sm = np.exp(sh) / np.exp(sh).sum(-1, keepdims=True)
        lsm = sh - np.log(np.exp(sh).sum(-1, keepdims=True))
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(ag.softmax(ag.tensor(x), axis=-1).numpy(), sm, rtol=tol, atol=tol)
    np.testing.assert_allclose(ag.log_softmax(ag.tensor(x), axis=-1).numpy(), lsm, rtol=tol, atol=tol * 10)
    y = x[1:]
    w, b = rng.standard_normal(33).astype(dtype), rng.standard_normal(33).astype(dtype)
    mu = y.mean(-1, keepdims=True)
    ln = (y - mu) / np.sqrt(((y - mu) ** 2).mean(-1, keepdims=True) + 1e-5) * w + b
    got = ag.layer_norm(ag.tensor(y), (33,), ag.tensor(w), ag.tensor(b)).numpy()
    np.testing.assert_allclose(got, ln, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("n", list(range(1, 20)) + [31, 63, 64, 65])
def test_softmax_rows_at_every_lane_remainder(backend, n):
    """The float32 row max runs in 8 lanes plus a tail: at every row width the values are numpy's, and a
    NaN anywhere in a row (first element, inside the lanes, in the tail) makes the whole row NaN, as in
    PyTorch, while +inf in a row gives NaN and a row of -inf gives NaN (numpy's formula)."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((96, n)) * 5).astype(np.float32)     # >= the kernels' minimum size
    x[0, :] = -np.inf
    x[1, -1] = -np.inf
    for row, col in ((2, 0), (3, n - 1), (4, n // 2), (5, min(8, n - 1))):
        x[row, col] = np.nan
    x[6, n // 3] = np.inf
    x[7, :] = x[7, ::-1] + 40.0                                    # a large max in another lane
    with np.errstate(all="ignore"):
        x64 = x.astype(np.float64)
        sh = x64 - x64.max(-1, keepdims=True)
        want = np.exp(sh) / np.exp(sh).sum(-1, keepdims=True)
        want_log = sh - np.log(np.exp(sh).sum(-1, keepdims=True))
    got = ag.softmax(ag.tensor(x), axis=-1).numpy()
    got_log = ag.log_softmax(ag.tensor(x), axis=-1).numpy()
    for g, w in ((got, want), (got_log, want_log)):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        assert np.isnan(g[2:6]).all() and np.isnan(g[:1]).all() and np.isnan(g[6]).all()
        np.testing.assert_allclose(g[~np.isnan(w)], w[~np.isnan(w)], rtol=2e-6, atol=2e-6)


# -- embedding gradient and matmul ------------------------------------------------------------------------
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 999))
def test_embedding_lookup_gradcheck(backend, rows, cols, seed):
    rng = np.random.default_rng(seed)
    table = ag.tensor(rng.standard_normal((rows, cols)), requires_grad=True)
    ids = rng.integers(-rows, rows, (3, 4))
    assert gradcheck(lambda t: t[ids] * 2.0, (table,))
    assert gradgradcheck(lambda t: t[ids] * t[ids], (table,))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 999))
def test_batched_and_transposed_matmul_gradcheck(backend, b, n, k, m, seed):
    rng = np.random.default_rng(seed)
    a = ag.tensor(rng.standard_normal((b, 2, n, k)), requires_grad=True)
    c = ag.tensor(rng.standard_normal((b, 2, m, k)), requires_grad=True)
    assert gradcheck(lambda x, y: x @ y.transpose(-2, -1), (a, c))
    assert gradgradcheck(lambda x, y: x @ y.transpose(-2, -1), (a, c))


# -- optimizers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_optimizer_steps_match_torch(backend, name):
    """A few steps of a small conv + GELU model train to PyTorch's parameters under either backend."""
    torch = pytest.importorskip("torch")
    import nn.functional as F
    import optim
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 2, 3, 3)) * 0.3
    l0 = rng.standard_normal((3, 4 * 3 * 3)) * 0.3
    xv = rng.standard_normal((5, 2, 5, 5))
    kw = dict(SGD=dict(lr=0.1, momentum=0.9), Adam=dict(lr=0.01), AdamW=dict(lr=0.01, weight_decay=0.1))[name]
    w, lw = ag.tensor(w0, requires_grad=True), ag.tensor(l0, requires_grad=True)
    opt = getattr(optim, name)([w, lw], **kw)
    tw, tl = torch.tensor(w0, requires_grad=True), torch.tensor(l0, requires_grad=True)
    topt = getattr(torch.optim, name)([tw, tl], **kw)
    x, tx = ag.tensor(xv), torch.tensor(xv)
    for _ in range(3):
        loss = (F.linear(F.gelu(F.max_pool2d(F.conv2d(x, w), 1)).reshape(5, -1), lw) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = (torch.nn.functional.linear(torch.nn.functional.gelu(torch.nn.functional.max_pool2d(
            torch.nn.functional.conv2d(tx, tw), 1)).reshape(5, -1), tl) ** 2).mean()
        topt.zero_grad()
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(float(loss.item()), float(tloss.item()), rtol=1e-10)
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lw.numpy(), tl.detach().numpy(), rtol=1e-9, atol=1e-12)

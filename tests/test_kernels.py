"""The Numba kernels against their pure-numpy fallbacks (both paths must agree), the fallback-only
run (AUTOGRAD_CORE_NO_NUMBA=1) end to end, and the scratch-buffer pool."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from autograd_core.kernels import HAVE_NUMBA, scratch
from autograd_core.kernels import activation as kact
from autograd_core.kernels import blas as kblas
from autograd_core.kernels import conv as kconv
from autograd_core.kernels import pool as kpool

needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@st.composite
def geometries(draw):
    """Any conv/pool geometry: kernel, stride, padding (possibly larger than the kernel), dilation."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pt, pl = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    needh, needw = max(1, (kh - 1) * dh + 1 - 2 * pt), max(1, (kw - 1) * dw + 1 - 2 * pl)
    H = draw(st.integers(needh, max(needh, 9)))
    W = draw(st.integers(needw, max(needw, 9)))
    OH = (H + 2 * pt - dh * (kh - 1) - 1) // sh + 1
    OW = (W + 2 * pl - dw * (kw - 1) - 1) // sw + 1
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return dict(N=N, C=C, H=H, W=W, kh=kh, kw=kw, sh=sh, sw=sw, pt=pt, pl=pl, dh=dh, dw=dw, OH=OH, OW=OW,
                dtype=dtype, seed=draw(st.integers(0, 2 ** 16)))


def args(g):
    return (g["kh"], g["kw"], g["sh"], g["sw"], g["pt"], g["pl"], g["dh"], g["dw"], g["OH"], g["OW"])


def im2col_loop(x, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW):
    N, C, H, W = x.shape
    out = np.zeros((N, C, kh, kw, OH, OW), x.dtype)
    for n, c, i, j, oy, ox in np.ndindex(*out.shape):
        iy, ix = oy * sh - pt + i * dh, ox * sw - pl + j * dw
        if 0 <= iy < H and 0 <= ix < W:
            out[n, c, i, j, oy, ox] = x[n, c, iy, ix]
    return out.reshape(N, C * kh * kw, OH * OW)


@settings(max_examples=30)
@given(geometries())
def test_im2col_numpy_matches_loop_and_col2im_is_its_adjoint(g):
    rng = np.random.default_rng(g["seed"])
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(g["dtype"])
    cols = kconv.im2col_numpy(x, *args(g))
    np.testing.assert_array_equal(cols, im2col_loop(x, *args(g)))
    np.testing.assert_array_equal(kconv.im2col_numpy(x, *args(g), knl=True), cols.transpose(1, 0, 2))
    c = rng.standard_normal(cols.shape)
    back = kconv.col2im_numpy(c, g["C"], g["H"], g["W"], *args(g))
    assert back.shape == x.shape
    assert np.isclose((cols * c).sum(), (x * back).sum())


@needs_numba
@settings(max_examples=30)
@given(geometries())
def test_im2col_col2im_numba_match_numpy(g):
    rng = np.random.default_rng(g["seed"])
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(g["dtype"])
    for knl in (False, True):
        np.testing.assert_array_equal(kconv.im2col_numba(x, *args(g), knl=knl),
                                      kconv.im2col_numpy(x, *args(g), knl=knl))
    c = rng.standard_normal((g["N"], g["C"] * g["kh"] * g["kw"], g["OH"] * g["OW"])).astype(g["dtype"])
    a = kconv.col2im_numba(c, g["C"], g["H"], g["W"], *args(g))
    b = kconv.col2im_numpy(c, g["C"], g["H"], g["W"], *args(g))
    assert a.dtype == b.dtype == g["dtype"]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@st.composite
def pool_geometries(draw):
    g = draw(geometries())
    g["pt"], g["pl"] = min(g["pt"], g["kh"] // 2), min(g["pl"], g["kw"] // 2)
    g["H"] = max(g["H"], (g["kh"] - 1) * g["dh"] + 1 - 2 * g["pt"])
    g["W"] = max(g["W"], (g["kw"] - 1) * g["dw"] + 1 - 2 * g["pl"])
    g["OH"] = (g["H"] + 2 * g["pt"] - g["dh"] * (g["kh"] - 1) - 1) // g["sh"] + 1
    g["OW"] = (g["W"] + 2 * g["pl"] - g["dw"] * (g["kw"] - 1) - 1) // g["sw"] + 1
    g["special"] = draw(st.sampled_from(["none", "ties", "nan", "-inf"]))
    for n, o, k, s, p, d in ((g["H"], g["OH"], g["kh"], g["sh"], g["pt"], g["dh"]),
                             (g["W"], g["OW"], g["kw"], g["sw"], g["pl"], g["dw"])):
        # every window must hold at least one input element (max_pool2d refuses the others)
        assume(all(any(0 <= i * s - p + t * d < n for t in range(k)) for i in range(o)))
    return g


def pool_input(g):
    rng = np.random.default_rng(g["seed"])
    shape = (g["N"], g["C"], g["H"], g["W"])
    if g["special"] == "ties":
        return rng.integers(0, 2, shape).astype(g["dtype"])
    x = rng.standard_normal(shape).astype(g["dtype"])
    if g["special"] in ("nan", "-inf"):
        x[rng.random(shape) < 0.3] = np.nan if g["special"] == "nan" else -np.inf
    return x


@needs_numba
@settings(max_examples=40)
@given(pool_geometries())
def test_maxpool_numba_matches_numpy(g):
    x = pool_input(g)
    geo = (g["kh"], g["kw"], g["sh"], g["sw"], g["pt"], g["pl"], g["dh"], g["dw"], g["OH"], g["OW"])
    o1, i1 = kpool.maxpool2d_numba(x, *geo)
    o2, i2 = kpool.maxpool2d_numpy(x, *geo)
    np.testing.assert_array_equal(o1, o2)   # NaNs compare equal here
    np.testing.assert_array_equal(i1, i2)
    assert o1.dtype == o2.dtype == x.dtype and i1.dtype == i2.dtype == np.int32
    gout = np.random.default_rng(g["seed"]).standard_normal(o1.shape).astype(g["dtype"])
    s1 = kpool.maxpool2d_scatter_numba(gout, i1, g["H"], g["W"])
    s2 = kpool.maxpool2d_scatter_numpy(gout, i1, g["H"], g["W"])
    assert s1.dtype == s2.dtype == x.dtype
    np.testing.assert_allclose(s1, s2, rtol=1e-5, atol=1e-5)


def test_fallback_only_run_end_to_end():
    """With AUTOGRAD_CORE_NO_NUMBA=1 the numpy fallbacks serve conv, pooling and their gradients."""
    code = r"""
import numpy as np, autograd_core as ag
from autograd_core.kernels import HAVE_NUMBA, conv, pool
assert not HAVE_NUMBA and conv.im2col is conv.im2col_numpy and pool.maxpool2d is pool.maxpool2d_numpy
rng = np.random.default_rng(0)
x = ag.tensor(rng.standard_normal((2, 3, 9, 8)), requires_grad=True)
w = ag.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
y = ag.max_pool2d(ag.relu(ag.conv2d(x, w, stride=1, padding=1)), 3, 2, 1)
y = ag.conv_transpose2d(y, w, stride=2, padding=1)
(y * y).sum().backward()
print(repr(float(y._data.sum())), repr(float(x.grad._data.sum())), repr(float(w.grad._data.sum())))
"""
    env = dict(os.environ, AUTOGRAD_CORE_NO_NUMBA="1", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    fallback = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert fallback.returncode == 0, fallback.stderr
    if not HAVE_NUMBA:
        return
    env["AUTOGRAD_CORE_NO_NUMBA"] = "0"
    normal = subprocess.run([sys.executable, "-c", code.replace("assert not HAVE_NUMBA", "assert HAVE_NUMBA")
                             .replace(" and conv.im2col is conv.im2col_numpy and pool.maxpool2d is "
                                      "pool.maxpool2d_numpy", "")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert normal.returncode == 0, normal.stderr
    np.testing.assert_allclose([float(v) for v in fallback.stdout.split()],
                               [float(v) for v in normal.stdout.split()], rtol=1e-9)


def test_scratch_pool_reuses_buffers():
    scratch.clear()
    a = scratch.take((3, 5), np.float32)
    assert a.shape == (3, 5) and a.dtype == np.float32 and a.flags.c_contiguous
    base = a.base
    scratch.give(a)
    b = scratch.take((15,), np.float32)        # same size: the same memory comes back
    assert np.shares_memory(b, base)
    c = scratch.take((15,), np.float32)        # the pool is empty now: a new buffer
    assert not np.shares_memory(c, b)

    class Owner:
        pass
    owner = Owner()
    scratch.give_when_freed(owner, b)
    del owner                                   # b goes back when its owner dies
    assert np.shares_memory(scratch.take((60,), np.uint8), base)
    scratch.clear()


def test_training_steps_reuse_scratch_and_do_not_grow():
    """After a warm-up step, repeated conv forward/backward take every column buffer from the pool."""
    import autograd_core as ag
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((16, 3, 20, 20)).astype(np.float32))
    w = ag.tensor(rng.standard_normal((8, 3, 5, 5)).astype(np.float32), requires_grad=True)

    def step():
        y = ag.max_pool2d(ag.relu(ag.conv2d(x, w)), 2)
        w.grad = None
        y.sum().backward()
    step()
    idle = scratch._idle[0]
    sizes = {k: len(v) for k, v in scratch._free.items()}
    for _ in range(5):
        step()
    assert scratch._idle[0] == idle
    assert {k: len(v) for k, v in scratch._free.items()} == sizes


@needs_numba
@pytest.mark.parametrize("special", ["none", "ties", "nan", "-inf"])
@pytest.mark.parametrize("s, H, W", [((2, 2), 8, 9), ((1, 1), 5, 4), ((2, 1), 7, 6), ((3, 2), 2, 5)])
def test_maxpool_2x2_fast_path_matches_numpy(special, s, H, W):
    g = dict(N=2, C=3, H=H, W=W, dtype=np.float32, seed=1, special=special)
    x = pool_input(g)
    OH, OW = (H - 2) // s[0] + 1, (W - 2) // s[1] + 1
    geo = (2, 2, s[0], s[1], 0, 0, 1, 1, OH, OW)
    o1, i1 = kpool.maxpool2d_numba(x, *geo)
    o2, i2 = kpool.maxpool2d_numpy(x, *geo)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(i1, i2)


# -- 2-D matmul in blocks over Numba's threads --------------------------------------------------------
@pytest.mark.skipif(not kblas.HAVE_BLAS, reason="needs Numba and SciPy")
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40), st.booleans(), st.booleans(),
       st.sampled_from(["c", "t", "strided", "rowpad"]), st.sampled_from([np.float32, np.float64]),
       st.sampled_from([1, 64, 5000]), st.booleans(), st.integers(0, 2 ** 16))
def test_blocked_matmul_matches_numpy(n, k, m, ta, tb, layout, dtype, limit, control, seed):
    """Any operand layout (C, transposed, strided, rows padded), split into one block per thread (BLAS set to
    one thread) or, without that control, into blocks of at most ``limit`` multiply-adds, gives numpy's
    product."""
    rng = np.random.default_rng(seed)

    def operand(r, c, t):
        if layout == "strided":
            a = rng.standard_normal((2 * r, 3 * c))[::2, ::3]
        elif layout == "rowpad":
            a = rng.standard_normal((r, c + 3))[:, :c]
        else:
            a = rng.standard_normal((c, r)).T if t else rng.standard_normal((r, c))
        if layout in ("strided", "rowpad"):
            return a.astype(dtype, copy=False)
        return np.ascontiguousarray(a.T, dtype=dtype).T if t else a.astype(dtype)
    a, b = operand(n, k, ta), operand(k, m, tb)
    old_limit, old_threads = kblas.MAX_SINGLE_THREAD_WORK, kblas.numba.get_num_threads()
    old_control = kblas._CONTROL
    kblas.MAX_SINGLE_THREAD_WORK = limit
    kblas._CONTROL = old_control if control else None
    kblas.numba.set_num_threads(min(2, kblas.numba.config.NUMBA_NUM_THREADS))
    try:
        got = kblas.matmul(a, b)
    finally:
        kblas.MAX_SINGLE_THREAD_WORK = old_limit
        kblas._CONTROL = old_control
        kblas.numba.set_num_threads(old_threads)
    want = np.matmul(a, b)
    assert got.dtype == want.dtype and got.shape == want.shape == (n, m)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()) * k)


@pytest.mark.skipif(not kblas.HAVE_BLAS, reason="needs Numba and SciPy")
def test_blocked_matmul_serves_matmul_and_linear_ops(monkeypatch):
    """ag.matmul / ag.linear on 2-D operands (and their gradients) go through the blocked product."""
    import autograd_core as ag
    calls = []
    real = kblas._gemm_blocks

    def spy(*args):
        calls.append(args[8:11])      # n, m, k
        return real(*args)
    monkeypatch.setattr(kblas, "_gemm_blocks", spy)
    monkeypatch.setattr(kblas, "MAX_SINGLE_THREAD_WORK", 100)
    old = kblas.numba.get_num_threads()
    kblas.numba.set_num_threads(min(2, kblas.numba.config.NUMBA_NUM_THREADS))
    try:
        rng = np.random.default_rng(0)
        x = ag.tensor(rng.standard_normal((7, 5)), requires_grad=True)
        w = ag.tensor(rng.standard_normal((4, 5)), requires_grad=True)
        y = ag.linear(x, w) + x @ w.T
        y.sum().backward()
    finally:
        kblas.numba.set_num_threads(old)
    if kblas.numba.config.NUMBA_NUM_THREADS >= 2:
        assert (7, 4, 5) in calls and len(calls) >= 4
    np.testing.assert_allclose(y._data, 2 * x._data @ w._data.T, rtol=1e-12)
    np.testing.assert_allclose(x.grad._data, 2 * np.ones((7, 4)) @ w._data, rtol=1e-12)
    np.testing.assert_allclose(w.grad._data, 2 * np.ones((7, 4)).T @ x._data, rtol=1e-12)


# -- ReLU kernels -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [kact.MIN_SIZE - 1, kact.MIN_SIZE, 3 * kact.MIN_SIZE + 7])
def test_relu_kernels_match_numpy(dtype, size):
    """One-pass ReLU and ReLU-gradient kernels (above MIN_SIZE) give numpy's values, NaN and +-0 included."""
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(dtype)
    x[::97] = np.nan
    x[1::101] = 0.0
    x[2::103] = -0.0
    x[3::107] = np.inf
    x[4::109] = -np.inf
    g = rng.standard_normal(size).astype(dtype)
    old = kact.numba.get_num_threads() if HAVE_NUMBA else None
    for threads in ([1, min(2, kact.numba.config.NUMBA_NUM_THREADS)] if HAVE_NUMBA else [None]):
        if threads:
            kact.numba.set_num_threads(threads)
        y, gx = kact.relu(x), kact.relu_grad(g, x)
        np.testing.assert_array_equal(y, np.maximum(x, 0))
        np.testing.assert_array_equal(gx, g * (x > 0))
        assert y.dtype == gx.dtype == dtype
    if old:
        kact.numba.set_num_threads(old)
    # other layouts and shapes fall back to numpy
    x2 = rng.standard_normal((4, size // 2 + 1)).astype(dtype)[:, ::2]
    np.testing.assert_array_equal(kact.relu(x2), np.maximum(x2, 0))
    np.testing.assert_array_equal(kact.relu_grad(x2 * 2, x2), 2 * x2 * (x2 > 0))


def test_relu_op_on_a_big_array_uses_the_kernels_and_is_right(monkeypatch):
    import autograd_core as ag
    calls = []
    if HAVE_NUMBA:
        for name in ("_relu_nb", "_relu_grad_nb"):
            real = getattr(kact, name)
            monkeypatch.setattr(kact, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((4, 8, 48, 48)).astype(np.float32), requires_grad=True)
    assert x.size >= kact.MIN_SIZE
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = ag.relu(x)
    y.backward(g)
    np.testing.assert_array_equal(y._data, np.maximum(x._data, 0))
    np.testing.assert_array_equal(x.grad._data, np.where(x._data > 0, g, 0))
    assert calls == (["_relu_nb", "_relu_grad_nb"] if HAVE_NUMBA else [])


@pytest.mark.skipif(kblas._CONTROL is None, reason="no thread control for this BLAS")
def test_single_threaded_blocks_nest_and_restore_the_blas_thread_count():
    get, set_ = kblas._CONTROL
    before = get()
    try:
        set_(3)
        with kblas.single_threaded():
            assert get() == 1
            with kblas.single_threaded():
                assert get() == 1
            assert get() == 1
        assert get() == 3
        with pytest.raises(RuntimeError):
            with kblas.single_threaded():
                raise RuntimeError("inside")
        assert get() == 3
    finally:
        set_(before)

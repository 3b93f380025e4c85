"""The Numba kernels against their pure-numpy fallbacks (both paths must agree), the fallback-only
run (AUTOGRAD_CORE_NO_NUMBA=1) end to end, the scratch-buffer pool, lazy compilation (background,
warnings, a read-only install), and the batched BLAS matmul."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from autograd_core import kernels
from autograd_core.kernels import HAVE_NUMBA, scratch
from autograd_core.kernels import index as kindex
from autograd_core.kernels import activation as kact
from autograd_core.kernels import blas as kblas
from autograd_core.kernels import conv as kconv
from autograd_core.kernels import pool as kpool

needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


@pytest.fixture
def numba_now():
    """The Numba backend, each kernel compiled on the calling thread when first needed (so it runs)."""
    if not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    with kernels.use("numba", background=False):
        yield
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


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=pool_geometries())
def test_maxpool_numba_matches_numpy(numba_now, g):
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
from autograd_core import kernels
assert not kernels.HAVE_NUMBA and kernels.backend() == "numpy"
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
    normal = subprocess.run([sys.executable, "-c", code.replace(
        'assert not kernels.HAVE_NUMBA and kernels.backend() == "numpy"',
        'assert kernels.HAVE_NUMBA and kernels.backend() == "numba"; kernels.use("numba", background=False)')],
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


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_training_steps_reuse_scratch_and_do_not_grow(backend, monkeypatch):
    """After a warm-up step, repeated conv forward/backward take every column buffer from the pool.
    The pool's back-off is held off: when a busy machine keeps a worker waiting, the kernels run on
    one thread for a while, which changes how many per-thread buffers a step takes."""
    import autograd_core as ag
    if backend == "numba" and not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernels.threads, "BACKOFF_WAIT_S", float("inf"))
    monkeypatch.setattr(kernels.threads._pool, "alone_until", 0.0)
    with kernels.use(backend, background=False):
        _steps_reuse_scratch(ag)


def _steps_reuse_scratch(ag):
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("special", ["none", "ties", "nan", "-inf"])
@pytest.mark.parametrize("s, H, W", [((2, 2), 8, 9), ((2, 2), 9, 7), ((2, 2), 28, 28), ((1, 1), 5, 4), ((2, 1), 7, 6),
                                     ((3, 2), 2, 5)])
def test_maxpool_2x2_fast_path_matches_numpy(numba_now, dtype, special, s, H, W):
    """The 2x2-window kernels (stride 2 vectorized, other strides a loop) give numpy's values and argmax: ties
    (the first index wins), NaN (wins) and -inf, odd sizes (the last row or column left out)."""
    g = dict(N=2, C=3, H=H, W=W, dtype=dtype, seed=1, special=special)
    x = pool_input(g)
    OH, OW = (H - 2) // s[0] + 1, (W - 2) // s[1] + 1
    geo = (2, 2, s[0], s[1], 0, 0, 1, 1, OH, OW)
    o1, i1 = kpool.maxpool2d_numba(x, *geo)
    o2, i2 = kpool.maxpool2d_numpy(x, *geo)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(i1, i2)


# -- matmul on the thread pool (kernels.blas) -----------------------------------------------------------
def _operand(rng, shape, layout, dtype):
    """An array of ``shape`` in a given memory layout: C order, last two dims transposed in memory,
    strided (every other element), rows padded, or broadcast (a batch dim of stride 0)."""
    if layout == "t":
        a = np.ascontiguousarray(rng.standard_normal(shape).swapaxes(-1, -2)).swapaxes(-1, -2)
    elif layout == "strided":
        a = rng.standard_normal(shape[:-2] + (2 * shape[-2], 3 * shape[-1]))[..., ::2, ::3]
    elif layout == "rowpad":
        a = rng.standard_normal(shape[:-1] + (shape[-1] + 3,))[..., :shape[-1]]
    elif layout == "bcast" and len(shape) > 2:
        a = np.broadcast_to(rng.standard_normal((1,) + shape[1:]), shape)
    else:
        a = rng.standard_normal(shape)
    return a.astype(dtype, copy=False) if a.dtype != dtype else a


@pytest.mark.skipif(not kblas.HAVE_BLAS, reason="needs Numba and SciPy")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 3), max_size=2), st.integers(1, 70), st.integers(1, 70), st.integers(1, 70),
       st.sampled_from(["c", "t", "strided", "rowpad", "bcast"]), st.sampled_from(["c", "t", "strided", "bcast"]),
       st.sampled_from([np.float32, np.float64]), st.sampled_from([1, 2, 3]), st.booleans(), st.booleans(),
       st.booleans(), st.integers(0, 2 ** 16))
def test_pool_matmul_matches_numpy(numba_now, batch, n, k, m, la, lb, dtype, threads, b2d, copy_t, native_jobs, seed):
    """Any batch shape (none, broadcast), operand layout and thread count gives numpy's product, with a
    transposed stack of right operands copied into rows first or not (which one runs depends on the
    CPU's OpenBLAS kernels), as native jobs or as Python jobs; the size thresholds are lowered so that
    small draws take the pool path too (one 2-D product in row or column blocks)."""
    rng = np.random.default_rng(seed)
    a = _operand(rng, tuple(batch) + (n, k), la, dtype)
    b = _operand(rng, (k, m) if b2d else tuple(batch) + (k, m), lb, dtype)
    old_t = kernels.get_num_threads()
    old = (kblas.MIN_WORK, kblas.PAR_WORK, kblas.NATIVE_PAR_WORK, kblas._COPY_TRANSPOSED_B, kblas.NATIVE_JOBS)
    kernels.set_num_threads(threads)
    kblas.MIN_WORK = kblas.PAR_WORK = kblas.NATIVE_PAR_WORK = 1
    kblas._COPY_TRANSPOSED_B = copy_t
    kblas.NATIVE_JOBS = native_jobs
    try:
        got = kblas.matmul(a, b)
    finally:
        kernels.set_num_threads(old_t)
        kblas.MIN_WORK, kblas.PAR_WORK, kblas.NATIVE_PAR_WORK, kblas._COPY_TRANSPOSED_B, kblas.NATIVE_JOBS = old
    want = np.matmul(a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()) * k)


@pytest.mark.skipif(not kblas.HAVE_BLAS or kblas._NP_CONTROL is None, reason="needs Numba, SciPy and numpy's OpenBLAS")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 40), st.integers(1, 200), st.integers(1, 300), st.booleans(), st.booleans(),
       st.sampled_from([0, "tight", 1_000_000]), st.integers(0, 2 ** 16))
def test_few_rows_in_column_blocks_give_the_product(numba_now, monkeypatch, m, k, n, transposed, few_rows_nn, limit,
                                                     seed):
    """A float32 product of up to 32 rows on the calling thread, cut into the column blocks that OpenBLAS's
    small-matrix kernels take (the limit lowered here so that small draws are cut; 0: never): the product,
    C-contiguous, by one BLAS call per block, for a right operand in rows or transposed (a Linear's W.T),
    through the plain path and the few-rows path for W.T."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    b = w.T if transposed else np.ascontiguousarray(w.T)
    if limit == "tight":    # about three blocks where 16 columns fit
        limit = max(16 * m * k, m * n * k // 3)
    monkeypatch.setattr(kblas, "_SMALL_GEMM_MNK", limit)
    monkeypatch.setattr(kblas, "_FEW_ROWS_NN", few_rows_nn)
    monkeypatch.setattr(kblas, "_FEW_ROWS_WORK", (0, 7 << 20))
    monkeypatch.setattr(kblas, "MIN_WORK", 1)
    calls = []
    real = kblas._one_thread_matmul
    monkeypatch.setattr(kblas, "_one_thread_matmul", lambda *a: calls.append(1) or real(*a))
    old_t = kernels.get_num_threads()
    kernels.set_num_threads(1)
    try:
        got = kblas.matmul(x, b)
    finally:
        kernels.set_num_threads(old_t)
    want = x.astype(np.float64) @ w.T.astype(np.float64)
    assert got.dtype == np.float32 and got.shape == (m, n) and got.flags.c_contiguous
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.sqrt(k) * 4)
    lo, hi = kblas._FEW_ROWS_WORK
    few_rows = few_rows_nn and transposed and 8 <= m <= 32 and lo < m * n * k < hi
    if few_rows or m <= 32:
        assert len(calls) == -(-n // kblas.column_block(m, n, k))
    if limit == 0:
        assert len(calls) == 1


@pytest.mark.skipif(not kblas.HAVE_BLAS or kblas._NP_CONTROL is None, reason="needs Numba, SciPy and numpy's OpenBLAS")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 40), st.integers(1, 300), st.integers(1, 600), st.sampled_from([1, 2]), st.booleans(),
       st.integers(0, 2 ** 16))
def test_few_rows_times_a_transposed_weight_gives_the_product(numba_now, monkeypatch, m, k, n, threads, on, seed):
    """x @ W.T with a few rows of float32 (a Linear on a small batch), computed as (W @ x.T).T where the
    kernels are AVX-512's (forced on or off here): the product, C-contiguous, for every size around the
    window of rows and work where that path is taken."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    monkeypatch.setattr(kblas, "_FEW_ROWS_NN", on)
    monkeypatch.setattr(kblas, "_FEW_ROWS_WORK", (0, 7 << 20))
    taken = []
    real = kblas._few_rows_times_transposed
    monkeypatch.setattr(kblas, "_few_rows_times_transposed", lambda a, b, item: taken.append(1) or real(a, b, item))
    old_t = kernels.get_num_threads()
    kernels.set_num_threads(threads)
    try:
        got = kblas.matmul(x, w.T)
    finally:
        kernels.set_num_threads(old_t)
    want = x.astype(np.float64) @ w.T.astype(np.float64)
    assert got.dtype == np.float32 and got.shape == (m, n) and got.flags.c_contiguous
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.sqrt(k) * 4)
    in_window = on and 8 <= m <= 32 and m * n * k >= kblas.MIN_WORK and m * n * k < 7 << 20
    if in_window and (threads == 1 or m * n * k < kblas.NATIVE_PAR_WORK):
        assert taken
    if not on:
        assert not taken


@pytest.mark.skipif(kblas._NP_CONTROL is None, reason="needs numpy's OpenBLAS")
def test_openblas_kernel_family_is_read_and_decides_the_transposed_copy():
    """The kernel family numpy's OpenBLAS picked is read from the library itself (what the bench prints),
    and only AVX-512 families copy a transposed stack of right operands first."""
    name = kblas._core_name(np, "numpy.libs")
    assert isinstance(name, str) and name and name.isprintable()
    assert name == kblas._NP_CORE
    avx512 = name.lower() in ("skylakex", "cooperlake", "sapphirerapids")
    assert kblas._COPY_TRANSPOSED_B == avx512
    assert kblas.small_gemm_kernels() == avx512 and kblas._SMALL_GEMM_MNK == (1_000_000 if avx512 else 0)


@given(m=st.integers(1, 80), n=st.integers(1, 2000), k=st.integers(1, 1200), small=st.booleans())
def test_column_blocks_fit_the_small_matrix_kernels(m, n, k, small):
    """Where OpenBLAS has small-matrix kernels (limit 100^3), a product over the limit is cut into column
    blocks that each fit it, multiples of 16 columns, as few as fit; a product within the limit, or one whose
    16 columns are over it, stays whole; elsewhere (limit 0) every product stays whole."""
    old = kblas._SMALL_GEMM_MNK
    kblas._SMALL_GEMM_MNK = 1_000_000 if small else 0
    try:
        nb = kblas.column_block(m, n, k)
    finally:
        kblas._SMALL_GEMM_MNK = old
    if not small or m * n * k <= 1_000_000 or m * k * 16 > 1_000_000:
        assert nb == n
    else:
        assert nb % 16 == 0 and 16 <= nb < n and m * nb * k <= 1_000_000
        assert m * (nb + 16) * k > 1_000_000 or -(-n // nb) == -(-n // (nb + 16))   # no wider block would do


@pytest.mark.skipif(not kblas.HAVE_BLAS or kblas._NP_CONTROL is None, reason="needs Numba, SciPy and numpy's OpenBLAS")
@pytest.mark.parametrize("keep", [True, False])
def test_openblas_thread_count_changes_only_where_a_gemm_would_be_threaded(numba_now, monkeypatch, keep):
    """Lowering numpy's OpenBLAS thread count for a call puts its other threads to sleep (the next threaded
    product waits for them), so products whose gemms OpenBLAS keeps on the calling thread anyway
    (attention-sized items, small products) leave the count alone; items big enough for OpenBLAS to thread
    still get one thread per call, and the count is restored. Every product equals numpy's."""
    get, set_ = kblas._NP_CONTROL
    sets = []
    monkeypatch.setattr(kblas, "_NP_CONTROL", (get, lambda n: (sets.append(n), set_(n))))
    monkeypatch.setattr(kblas, "_KEEP_BLAS_THREADS", keep)
    monkeypatch.setattr(kernels.threads._pool, "n", 2)
    monkeypatch.setattr(kernels.threads._pool, "alone_until", 0.0)
    saved = get()
    rng = np.random.default_rng(0)
    qkv = rng.standard_normal((16, 64, 384)).astype(np.float32)
    q = qkv[:, :, :128].reshape(16, 64, 4, 32).transpose(0, 2, 1, 3)
    k = qkv[:, :, 128:256].reshape(16, 64, 4, 32).transpose(0, 2, 1, 3)
    small = [(q, k.transpose(0, 1, 3, 2)),                                     # 64 items of 131k: the pool
             (rng.standard_normal((8, 40, 50)), rng.standard_normal((8, 50, 60)))]   # one thread, 8 x 120k
    big = [(rng.standard_normal((4, 300, 200)), rng.standard_normal((4, 200, 100))),   # items of 6M
           (rng.standard_normal((600, 300)), rng.standard_normal((300, 200)))]          # one 2-D of 36M
    for a, b in small + big:
        sets.clear()
        np.testing.assert_allclose(kblas.matmul(a, b), np.matmul(a, b), rtol=1e-4, atol=1e-4)
        assert get() == saved
        if keep and any(a is x for x, _ in small):
            assert sets == []
        elif saved != 1:
            assert sets[0] == 1 and sets[-1] == saved


@pytest.mark.skipif(not kblas.HAVE_BLAS or kblas._NP_CONTROL is None, reason="needs Numba, SciPy and numpy's OpenBLAS")
@pytest.mark.parametrize("native_jobs", [False, True])
def test_no_product_runs_on_openblas_threads(numba_now, monkeypatch, native_jobs):
    """Every gemm of a parallel product runs with numpy's OpenBLAS at one thread (its own threads spin for
    ~130 ms after a call and would hold a core our pool needs): the count seen inside the BLAS calls, or
    while a native job (whose gemms are numpy's OpenBLAS too) runs."""
    get, set_ = kblas._NP_CONTROL
    seen = []
    real = np.matmul

    def spy(*args, **kw):
        seen.append(get())
        return real(*args, **kw)
    monkeypatch.setattr(kblas, "NATIVE_JOBS", native_jobs)
    if native_jobs:
        if kernels.threads.native_functions() is None:
            pytest.skip("no native jobs here (numpy's OpenBLAS or glibc not found)")
        real_native = kblas.parallel_gemms
        monkeypatch.setattr(kblas, "parallel_gemms", lambda tasks: (seen.append(get()), real_native(tasks))[1])
    monkeypatch.setattr(kernels.threads._pool, "n", 2)
    monkeypatch.setattr(kernels.threads._pool, "alone_until", 0.0)
    saved = get()
    set_(2)
    try:
        monkeypatch.setattr(kblas.np, "matmul", spy)
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((600, 300)), rng.standard_normal((300, 200))
        got = kblas.matmul(a, b)
        got2 = kblas.matmuls((a, b), (a.T, a))
        monkeypatch.setattr(kblas.np, "matmul", real)
        assert get() == 2
    finally:
        set_(saved)
    assert seen and set(seen) == {1}
    # Blocks on one thread may sum in another order than OpenBLAS's threads (which order differs by CPU):
    # any order of a K-term dot product stays within K eps (|a| @ |b|) of the exact sum.
    for x, y, out in ((a, b, got), (a.T, a, got2[1])):
        bound = x.shape[1] * np.finfo(float).eps * (abs(x) @ abs(y))
        assert np.all(abs(out - x @ y) <= bound)


@pytest.mark.skipif(not kblas.HAVE_BLAS or kblas._NP_CONTROL is None, reason="needs Numba, SciPy and numpy's OpenBLAS")
@pytest.mark.parametrize("shape, how", [((40, 30, 200), 2), ((200, 30, 40), 1), ((50, 30, 50), 1)])
@pytest.mark.parametrize("native_jobs", [False, True])
def test_one_product_splits_along_its_longer_side(numba_now, monkeypatch, shape, how, native_jobs):
    """One 2-D product on the pool is split in blocks of columns when it is wider than tall, else of rows,
    as a Python job or as a native one; either way it equals numpy's."""
    from autograd_core.kernels import native
    hows = []
    real, real_native = kblas.parallel_for, kblas.parallel_gemms

    def spy(fn, n, *args):
        if fn is kblas._np_chunk:
            hows.append(args[-1])
        return real(fn, n, *args)

    def spy_native(tasks):
        hows.extend(t[native.D_MODE] for t in tasks)     # MODE_ROWS == 1, MODE_COLS == 2, as ``how``
        return real_native(tasks)
    if native_jobs and kernels.threads.native_functions() is None:
        pytest.skip("no native jobs here (numpy's OpenBLAS or glibc not found)")
    monkeypatch.setattr(kblas, "parallel_for", spy)
    monkeypatch.setattr(kblas, "parallel_gemms", spy_native)
    monkeypatch.setattr(kblas, "NATIVE_JOBS", native_jobs)
    monkeypatch.setattr(kblas, "MIN_WORK", 1)
    monkeypatch.setattr(kblas, "PAR_WORK", 1)
    monkeypatch.setattr(kblas, "NATIVE_PAR_WORK", 1)
    monkeypatch.setattr(kernels.threads._pool, "n", 2)
    monkeypatch.setattr(kernels.threads._pool, "alone_until", 0.0)
    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    np.testing.assert_allclose(kblas.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    assert hows == [how]


@pytest.mark.skipif(not kblas.HAVE_BLAS, reason="needs Numba and SciPy")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 3), max_size=2), st.integers(1, 40), st.integers(1, 40), st.integers(1, 40),
       st.sampled_from(["c", "t", "strided"]), st.sampled_from([np.float32, np.float64]), st.sampled_from([1, 2, 3]),
       st.booleans(), st.integers(0, 2 ** 16))
def test_matmuls_side_by_side_match_numpy(numba_now, lead, n, k, m, lb, dtype, threads, native_jobs, seed):
    """``matmuls`` of independent products (the first operand 2-D or a stack, the second 2-D in any layout)
    gives numpy's products, side by side on the pool (as one native job of two tasks, or as Python jobs)
    when the size threshold lets them (lowered here), one after the other otherwise."""
    rng = np.random.default_rng(seed)
    a = _operand(rng, tuple(lead) + (n, k), "c", dtype)
    b = _operand(rng, (k, m), lb, dtype)
    c = _operand(rng, (k, n), lb, dtype)
    chunks, jobs = [], []
    real, real_native = kblas.parallel_for, kblas.parallel_gemms
    old_t, old = kernels.get_num_threads(), (kblas.SIDE_BY_SIDE_WORK, kblas.NATIVE_JOBS)
    kernels.set_num_threads(threads)
    kblas.SIDE_BY_SIDE_WORK = 1
    kblas.NATIVE_JOBS = native_jobs
    kblas.parallel_for = lambda fn, nc, *args: (chunks.append((fn, nc)), real(fn, nc, *args))
    kblas.parallel_gemms = lambda tasks: (jobs.append(len(tasks)), real_native(tasks))[1]
    try:
        got = kblas.matmuls((a, b), (b.T, c))
    finally:
        kblas.parallel_for, kblas.parallel_gemms = real, real_native
        kernels.set_num_threads(old_t)
        kblas.SIDE_BY_SIDE_WORK, kblas.NATIVE_JOBS = old
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for g, want, kk in ((got[0], np.matmul(a, b), k), (got[1], b.T @ c, k)):
        assert g.dtype == want.dtype and g.shape == want.shape
        np.testing.assert_allclose(g, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()) * kk)
    # a 2-D product's result owns its data (backward would copy a view before making it a leaf's .grad)
    assert got[1].flags.owndata and (a.ndim > 2 or got[0].flags.owndata)
    if threads > 1 and kernels.threads.threads_now() > 1 and kblas._NP_CONTROL is not None:
        readable = all(kblas._layout(x) is not None for x in (a, b, b.T, c))   # else BLAS cannot take it as is
        if native_jobs and kernels.threads.native_functions() is not None and readable:
            assert jobs == [2] and not chunks
        else:
            assert (kblas._side_chunk, 2) in chunks


@pytest.mark.skipif(not kblas.HAVE_BLAS, reason="needs Numba and SciPy")
def test_linear_gradients_run_side_by_side(numba_now, monkeypatch):
    """A Linear's input and weight gradients are computed side by side (one product per thread) and equal
    G W and G^T x; with create_graph they stay on the tape (a second derivative through them is right)."""
    import autograd_core as ag
    side = []
    real, real_native = kblas.parallel_for, kblas.parallel_gemms
    monkeypatch.setattr(kblas, "parallel_for", lambda fn, n, *args: (side.append(fn is kblas._side_chunk),
                                                                      real(fn, n, *args))[1])
    monkeypatch.setattr(kblas, "parallel_gemms", lambda tasks: (side.append(len(tasks) == 2), real_native(tasks))[1])
    monkeypatch.setattr(kblas, "SIDE_BY_SIDE_WORK", 1)
    monkeypatch.setattr(kernels.threads._pool, "n", 2)
    monkeypatch.setattr(kernels.threads._pool, "alone_until", 0.0)
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((2, 7, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(4), requires_grad=True)
    g = rng.standard_normal((2, 7, 4))
    ag.linear(x, w, b).backward(ag.tensor(g))
    if kblas._NP_CONTROL is not None:
        assert any(side)
    np.testing.assert_allclose(x.grad._data, g @ w._data, rtol=1e-12)
    np.testing.assert_allclose(w.grad._data, g.reshape(14, 4).T @ x._data.reshape(14, 5), rtol=1e-12)
    np.testing.assert_allclose(b.grad._data, g.sum(axis=(0, 1)), rtol=1e-12)
    # d/dw of sum(dL/dx) where L = sum(linear(x, w) * g): dL/dx = g w, so the result is sum over (b, t) of g
    x.grad = w.grad = None
    gx, = ag.autograd.grad((ag.linear(x, w) * ag.tensor(g)).sum(), [x], create_graph=True)
    gw, = ag.autograd.grad(gx.sum(), [w])
    np.testing.assert_allclose(gw._data, np.broadcast_to(g.sum(axis=(0, 1))[:, None], (4, 5)), rtol=1e-12)


@pytest.mark.skipif(not kblas.HAVE_BLAS, reason="needs Numba and SciPy")
@pytest.mark.parametrize("native_jobs", [False, True])
def test_pool_matmul_serves_matmul_linear_and_attention(numba_now, monkeypatch, native_jobs):
    """ag.matmul (batched, transposed views), ag.linear on 3-D input and their gradients run on the pool (as
    native jobs, or Python jobs of numpy's BLAS or the Numba gemm kernel)."""
    import autograd_core as ag
    from autograd_core.kernels import native
    calls = []
    real, real_native = kblas.parallel_for, kblas.parallel_gemms
    if native_jobs and kernels.threads.native_functions() is None:
        pytest.skip("no native jobs here (numpy's OpenBLAS or glibc not found)")
    monkeypatch.setattr(kblas, "NATIVE_JOBS", native_jobs)
    monkeypatch.setattr(kblas, "NATIVE_PAR_WORK", 1)
    monkeypatch.setattr(kblas, "parallel_gemms", lambda tasks: (
        calls.extend((t[native.D_M], t[native.D_N], t[native.D_K]) for t in tasks), real_native(tasks))[1])

    def spy(fn, n, *args):
        if fn is kblas._np_chunk:          # (a, b, out, ...): numpy's BLAS per chunk
            a, b = args[0], args[1]
        else:                              # the Numba gemm kernel: (k, f, ta, tb, m, n, k, ...)
            calls.append(tuple(args[4:7]))
            return real(fn, n, *args)
        calls.append((a.shape[-2], b.shape[-1], a.shape[-1]))
        return real(fn, n, *args)
    monkeypatch.setattr(kblas, "parallel_for", spy)
    monkeypatch.setattr(kblas, "MIN_WORK", 1)
    monkeypatch.setattr(kblas, "PAR_WORK", 1)
    monkeypatch.setattr(kernels.threads._pool, "n", 2)    # one thread runs numpy's matmul
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((2, 7, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    q = ag.tensor(rng.standard_normal((2, 3, 6, 4)), requires_grad=True)
    y = ag.linear(x, w)
    att = q @ q.transpose(-2, -1)
    (y.sum() + att.sum()).backward()
    assert (14, 4, 5) in calls and (6, 6, 4) in calls and len(calls) >= 5
    np.testing.assert_allclose(y._data, x._data @ w._data.T, rtol=1e-12)
    np.testing.assert_allclose(w.grad._data, np.ones((14, 4)).T @ x._data.reshape(14, 5), rtol=1e-12)
    qd = q._data
    np.testing.assert_allclose(q.grad._data, 2 * np.ones((2, 3, 6, 6)) @ qd, rtol=1e-12)


# -- elementwise kernels ----------------------------------------------------------------------------
def _specials(x):
    x[::97] = np.nan
    x[1::101] = 0.0
    x[2::103] = -0.0
    x[3::107] = np.inf
    x[4::109] = -np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [kact.RELU_MIN_SIZE - 1, 3 * kact.RELU_MIN_SIZE + 7])
@pytest.mark.parametrize("threads", [1, 2])
def test_relu_kernels_match_numpy(numba_now, dtype, size, threads):
    """One-pass ReLU and ReLU-gradient kernels give the numpy formulas' values, NaN and +-0 included, at any
    thread count."""
    rng = np.random.default_rng(size)
    x = _specials(rng.standard_normal(size).astype(dtype))
    g = rng.standard_normal(size).astype(dtype)
    old = kernels.get_num_threads()
    kernels.set_num_threads(threads)
    try:
        y, gx = kact.relu(x), kact.relu_grad(g, x)
    finally:
        kernels.set_num_threads(old)
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(gx, np.where(x <= 0, 0, g))     # at NaN the gradient passes, as PyTorch
    assert y.dtype == gx.dtype == dtype
    x2 = rng.standard_normal((4, size // 2 + 1)).astype(dtype)[:, ::2]     # other layouts: numpy
    np.testing.assert_array_equal(kact.relu(x2), np.maximum(x2, 0))


@pytest.mark.parametrize("dtype, tol", [(np.float32, 4e-7), (np.float64, 1e-15)])
def test_gelu_and_erf_kernels_match_the_exact_values(numba_now, dtype, tol):
    """GELU, its gradient and erf from the kernels are within ``tol`` (absolute, scaled by |x| and |g|) of
    scipy's float64 erf, over the whole range, signed zeros, infinities and NaN included."""
    from scipy.special import erf
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(50_000) * 4).astype(dtype)
    x[:8] = [0.0, -0.0, 1e-30, -1e-30, 30.0, -30.0, 1e4, -1e4]
    x = _specials(x)
    g = rng.standard_normal(x.size).astype(dtype)
    xd = x.astype(np.float64)
    with np.errstate(all="ignore"):
        cdf = 0.5 * (1 + erf(xd / np.sqrt(2)))
        pdf = np.exp(-0.5 * xd * xd) / np.sqrt(2 * np.pi)
        want_y = xd * cdf
        want_g = g * (cdf + xd * pdf)
    y, gx, e = kact.gelu(x), kact.gelu_grad(g, x), kact.erf(x)
    assert y.dtype == gx.dtype == e.dtype == dtype
    fin = np.isfinite(xd)
    scale = np.maximum(1.0, np.abs(xd))
    assert np.all(np.abs(y - want_y)[fin] <= tol * scale[fin])
    assert np.all(np.abs(gx - want_g)[fin] <= tol * (scale * np.maximum(1.0, np.abs(g)))[fin])
    np.testing.assert_allclose(e, erf(xd).astype(dtype), rtol=0, atol=1e-6 if dtype == np.float32 else 1e-15)
    assert np.all(np.isnan(y[np.isnan(xd)])) and np.all(np.isfinite(y[fin])) and np.all(y[x == np.inf] == np.inf)


def test_add_rows_matches_add_at(numba_now):
    """The embedding gradient's row scatter-add equals np.add.at, repeats and negative ids included."""
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        ids = rng.integers(-9, 9, (6, 7))
        g = rng.standard_normal((6, 7, 4, 3)).astype(dtype)
        z = np.zeros((9, 4, 3), dtype)
        assert kindex.add_rows(z, ids, g)
        want = np.zeros_like(z)
        np.add.at(want, ids, g)
        np.testing.assert_allclose(z, want, rtol=1e-6)
    assert not kindex.add_rows(np.zeros((3, 2)), np.array([3]), np.ones((1, 2)))   # out of range: numpy raises


@needs_numba
def test_single_threaded_blocks_nest_and_restore_the_blas_thread_count():
    if kblas._CONTROL is None:
        pytest.skip("no thread control for this BLAS")
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


# -- lazy compilation -----------------------------------------------------------------------------------
def _run(code, **env_changes):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)


@needs_numba
def test_background_compile_serves_numpy_first_then_the_kernel(tmp_path):
    """With an empty cache the first call runs numpy (no waiting), the kernel compiles meanwhile, a compile
    over a second warns once per kernel, and after ``wait()`` the kernel serves the op (same values)."""
    code = r"""
import time, warnings, numpy as np
warnings.simplefilter("always")
from autograd_core import kernels
from autograd_core.kernels import activation as kact
kernels.compile.ANNOUNCE_AFTER_S = 0.0
x = np.linspace(-3, 3, 5000).astype(np.float64)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    y0 = kact.gelu(x)
    assert not kact._gelu_k.ready, "the first call waited for the compile"
    assert kernels.wait(300)
    y1 = kact.gelu(x); y2 = kact.gelu(x)
    time.sleep(0.1)
msgs = [str(m.message) for m in w if issubclass(m.category, kernels.KernelCompileWarning)]
gelu = [m for m in msgs if "'gelu'" in m]
assert len(gelu) == 1 and "float64" in gelu[0] and len(set(msgs)) == len(msgs), msgs
assert "d" in kact._gelu_k.ready, kact._gelu_k
np.testing.assert_allclose(y0, y1, rtol=1e-12)
print("ok")
"""
    r = _run(code, NUMBA_CACHE_DIR=str(tmp_path))
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


@needs_numba
def test_a_slow_load_from_numbas_cache_is_not_announced_as_a_compile(tmp_path):
    """The first process compiles relu into an empty cache (announced as a compile); in the next, the same
    kernel comes from Numba's cache, so a load that takes long (here: announced at once) says so."""
    code = r"""
import warnings, numpy as np
from autograd_core import kernels
from autograd_core.kernels import activation as kact
kernels.compile.ANNOUNCE_AFTER_S = 0.0
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    kact._relu_k.get("d", (np.zeros(4), np.zeros(4), 0, 0), wait=True)
    kernels.wait(300)
print([str(m.message) for m in w if issubclass(m.category, kernels.KernelCompileWarning)
       and "'relu'" in str(m.message)])
"""
    first = _run(code, NUMBA_CACHE_DIR=str(tmp_path))
    second = _run(code, NUMBA_CACHE_DIR=str(tmp_path))
    assert first.returncode == 0 and second.returncode == 0, (first.stderr[-2000:], second.stderr[-2000:])
    assert "compiling the Numba kernel 'relu'" in first.stdout, first.stdout
    assert "loading the Numba kernel 'relu' for float64 from Numba's cache" in second.stdout, second.stdout


@needs_numba
def test_read_only_install_imports_and_runs_a_conv_step(tmp_path):
    """The package copied to a read-only folder, with no writable home and no NUMBA_CACHE_DIR: import works
    and a conv training step runs its kernels, compiled in memory."""
    import shutil
    import stat
    site = tmp_path / "site"
    shutil.copytree(os.path.join(ROOT, "autograd_core"), site / "autograd_core",
                    ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    for p in [site, home, *site.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    code = r"""
import os, numpy as np
import autograd_core as ag
assert os.path.dirname(ag.__file__).startswith(os.environ["SITE"]), ag.__file__
ag.kernels.use("numba", background=False)
rng = np.random.default_rng(0)
x = ag.tensor(rng.standard_normal((2, 3, 10, 10)).astype(np.float32))   # 8x8 outputs: the per-image kernels
w = ag.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
ag.max_pool2d(ag.relu(ag.conv2d(x, w)), 2).sum().backward()
from autograd_core.kernels import conv
forward = conv._conv_direct if "out" in conv.DIRECT_PARTS else conv._conv_images   # as the CPU's OpenBLAS decides
assert forward.ready and conv._conv_direct_weight.ready, (forward, conv._conv_direct_weight)
print(float(w.grad.sum()))
"""
    try:
        env = dict(os.environ, PYTHONPATH=str(site), HOME=str(home), SITE=str(site), PYTHONDONTWRITEBYTECODE="1")
        env.pop("NUMBA_CACHE_DIR", None)
        env.pop("XDG_CACHE_HOME", None)
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                           cwd=str(home))
    finally:
        for p in [site, home, *site.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
    assert r.returncode == 0, r.stderr[-3000:]
    assert np.isfinite(float(r.stdout.split()[-1]))


@pytest.mark.skipif(kblas._NP_CONTROL is None, reason="needs numpy's OpenBLAS")
def test_numpy_blas_on_one_thread_holds_the_count_for_the_block_and_restores_it():
    get, set_ = kblas._NP_CONTROL
    old = get()
    try:
        set_(2)
        with kblas.numpy_blas_on_one_thread():
            assert get() == 1
            kblas.matmul(np.ones((16, 128), np.float32), np.ones((512, 128), np.float32).T)
            assert get() == 1
        assert get() == 2
        with pytest.raises(ZeroDivisionError):
            with kblas.numpy_blas_on_one_thread():
                1 / 0
        assert get() == 2
    finally:
        set_(old)

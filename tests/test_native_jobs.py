"""The pool's native jobs (``kernels.native``): matrix products handed between threads without the GIL.

Each test runs the real pool; a hang would be a bug, so the multi-threaded ones run on a helper thread
and fail when it does not finish in time.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from autograd_core import kernels
from autograd_core.kernels import HAVE_NUMBA, native, threads
from autograd_core.kernels import blas as kblas


@pytest.fixture
def nat():
    """The compiled native-job functions (compiled now if needed), thresholds restored after the test."""
    if not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    with kernels.use("numba", background=False):
        got = threads.native_functions()
        if got is None:
            pytest.skip("no native jobs here (numpy's OpenBLAS or glibc not found)")
        old = (kernels.get_num_threads(), threads._pool.alone_until, native.SPIN_S)
        threads._pool.alone_until = 0.0
        try:
            yield got
        finally:
            kernels.set_num_threads(old[0])
            threads._pool.alone_until, native.SPIN_S = old[1], old[2]


def _finishes(fn, timeout=120.0):
    """Run ``fn`` on a helper thread; its result, or a failure when it does not finish in ``timeout`` s."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            out["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"did not finish in {timeout} s (a thread of the pool hangs)"
    if "error" in out:
        raise out["error"]
    return out.get("value")


def _task(a, b, out, threads_n, how=None):
    """A descriptor row for ``out = a @ b`` chunked as ``blas._pool_matmul`` would chunk it."""
    bshape = a.shape[:-2]
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if how is None:
        how = 0 if bshape else 2 if n > m else 1
    lead = m if how == 1 else n
    per = -(-lead // threads_n) if how else 1
    return kblas._native_task(a, b, out, bshape, m, n, k, how, per, threads_n)


@pytest.mark.parametrize("spread", [True, False])
@pytest.mark.parametrize("team", [1, 2, 3, 5])
@pytest.mark.parametrize("case", ["rows", "cols", "stack", "stack_t", "two"])
def test_every_chunk_of_a_native_job_runs(nat, monkeypatch, spread, team, case):
    """Every chunk of a job runs once (the output starts as NaN), whatever the team size, for blocks of rows,
    of columns, runs of a stack (its right operands stored transposed, copied or not) and two tasks; with
    each thread's own run of chunks (more threads than chunks too) or one queue."""
    monkeypatch.setattr(native, "SPREAD", spread)
    kernels.set_num_threads(team)
    rng = np.random.default_rng(team)
    if case in ("rows", "cols"):
        a = rng.standard_normal((53 if case == "rows" else 9, 40)).astype(np.float32)
        b = rng.standard_normal((40, 7 if case == "rows" else 61)).astype(np.float32)
        pairs = [(a, b)]
    elif case.startswith("stack"):
        a = rng.standard_normal((3, 7, 11, 13))
        b = (rng.standard_normal((3, 7, 9, 13)).swapaxes(-1, -2) if case == "stack_t"
             else rng.standard_normal((3, 7, 13, 9)))
        pairs = [(a, b)]
    else:
        x, y = rng.standard_normal((30, 20)), rng.standard_normal((20, 25))
        pairs = [(x, y), (x.T, rng.standard_normal((30, 4)))]
    for copy in ([False, True] if case == "stack_t" else [False]):
        outs = [np.full(a.shape[:-1] + (b.shape[-1],), np.nan, a.dtype) for a, b in pairs]
        tasks = [_task(a, b, o, team) for (a, b), o in zip(pairs, outs)]
        for t in tasks:
            t[native.D_COPY_B] = int(copy)
        assert _finishes(lambda: threads.parallel_gemms(tasks)) is True
        for (a, b), o in zip(pairs, outs):
            tol = 1e-5 if a.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(o, a @ b, rtol=tol, atol=tol * a.shape[-1])


def test_native_and_python_jobs_interleave(nat):
    """Products (native jobs) and other parallel kernels (Python jobs) one after the other, with workers that
    watch for the next job and workers that sleep at once, on 3 threads: every result right, nothing hangs."""
    kernels.set_num_threads(3)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 48))
    b = rng.standard_normal((48, 40))
    want = a @ b

    def chunk(i, tid, out):
        out[i] = i * i

    def loop():
        old = (kblas.MIN_WORK, kblas.NATIVE_PAR_WORK)
        kblas.MIN_WORK = kblas.NATIVE_PAR_WORK = 1
        try:
            for r in range(300):
                native.SPIN_S = 0.0 if r % 3 == 0 else 1e-3
                out = [None] * 5
                threads.parallel_for(chunk, 5, out)
                assert out == [i * i for i in range(5)]
                np.testing.assert_allclose(kblas.matmul(a, b), want, rtol=1e-12, atol=1e-12)
                if r % 7 == 0:
                    time.sleep(0.002)      # longer than the watch: the workers go to sleep
        finally:
            kblas.MIN_WORK, kblas.NATIVE_PAR_WORK = old
    _finishes(loop)


def test_workers_stop_watching_and_sleep(nat):
    """After a job a worker watches for the next one for ``SPIN_S`` only, then sleeps (it does not keep a core
    busy), and a later job wakes it."""
    kernels.set_num_threads(2)
    native.SPIN_S = 1e-3
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((40, 30)), rng.standard_normal((30, 50))
    out = np.full((40, 50), np.nan)
    assert _finishes(lambda: threads.parallel_gemms([_task(a, b, out, 2)]))
    state = native.STATE + 8 * 1
    deadline = time.monotonic() + 5.0
    while threads._pool.ctl[state] != 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threads._pool.ctl[state] == 0
    out[:] = np.nan
    assert _finishes(lambda: threads.parallel_gemms([_task(a, b, out, 2)]))
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)


def test_busy_pool_leaves_products_to_the_caller(nat):
    """While the pool is busy (a product asked for from inside a parallel chunk, or from another thread), a
    native job is refused and the product runs on the calling thread: still right."""
    kernels.set_num_threads(2)
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((50, 30)), rng.standard_normal((30, 60))
    got = [None, None]

    def chunk(i, tid):
        assert threads.parallel_gemms([_task(a, b, np.empty((50, 60)), 2)]) is False
        got[i] = kblas.matmul(a, b)

    old = (kblas.MIN_WORK, kblas.NATIVE_PAR_WORK)
    kblas.MIN_WORK = kblas.NATIVE_PAR_WORK = 1
    try:
        _finishes(lambda: threads.parallel_for(chunk, 2))
    finally:
        kblas.MIN_WORK, kblas.NATIVE_PAR_WORK = old
    for g in got:
        np.testing.assert_allclose(g, a @ b, rtol=1e-12, atol=1e-12)


def _at_once(work, arg_lists):
    """``work(*args)`` for each ``args`` on its own Python thread, all at once, with products of any size on the
    pool; fails on the first error, or when they do not finish."""
    errors = []

    def guarded(*args):
        try:
            work(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    old = (kblas.MIN_WORK, kblas.NATIVE_PAR_WORK)
    kblas.MIN_WORK = kblas.NATIVE_PAR_WORK = 1
    try:
        def together():
            ts = [threading.Thread(target=guarded, args=args) for args in arg_lists]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        _finishes(together)
    finally:
        kblas.MIN_WORK, kblas.NATIVE_PAR_WORK = old
    assert not errors, errors[0]


def test_products_from_two_python_threads_at_once(nat):
    """Two Python threads multiplying at once: one gets the pool, the other runs its products alone; all
    right."""
    kernels.set_num_threads(2)
    rng = np.random.default_rng(3)
    pairs = [(rng.standard_normal((70, 40)), rng.standard_normal((40, 90))) for _ in range(2)]

    def work(a, b):
        for _ in range(100):
            np.testing.assert_allclose(kblas.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    _at_once(work, pairs)


def test_native_compile_waits_for_the_first_steps(nat, monkeypatch):
    """With background compiles, the native-job code's compile is not asked for before ``NATIVE_AFTER``
    products (it would hold Numba's compiler and the GIL while the first steps need other kernels): until
    then it is asked for only where Numba's disk cache holds it (``"cached"``: a load)."""
    monkeypatch.setattr(threads._pool, "native", None)
    monkeypatch.setattr(threads._pool, "asked", 0)
    requests = []

    def not_compiled_yet(ctl, desc, request=True):
        requests.append(request)
        return nat if request is True else None   # "cached": not in the cache here
    monkeypatch.setattr(native, "functions", not_compiled_yet)
    with kernels.use("numba", background=True):
        assert kernels.compile.wait(timeout=120)
        for _ in range(threads.NATIVE_AFTER - 1):
            assert threads.native_functions() is None
        assert threads.native_functions() is nat
    assert requests == ["cached"] * (threads.NATIVE_AFTER - 1) + [True]
    with kernels.use("numba", background=False):           # compiling on the calling thread: at once
        threads._pool.native = None
        threads._pool.asked = 0
        requests.clear()
        assert threads.native_functions() is nat and requests == [True]


def test_native_code_in_numbas_disk_cache_is_loaded_at_the_first_product(tmp_path):
    """An empty cache: the first parallel product does not ask for the native-job code (a compile of
    seconds). Once a process has compiled it into the cache, the next one asks at its first product (a
    load), and the code is ready when that load is done, long before ``NATIVE_AFTER`` products."""
    import subprocess
    import sys
    if not HAVE_NUMBA or not native.supported():
        pytest.skip("no native jobs here (numba, numpy's OpenBLAS or glibc not found)")
    code = r"""
import numpy as np
from autograd_core import kernels
from autograd_core.kernels import native, threads
kernels.set_num_threads(2)
assert threads.native_functions() is None and threads._pool.asked == 1
print("asked", any(k.pending or "native" in k.ready for k in (native._SERVE, native._POST, native._RUN)))
assert kernels.wait(300) and threads._pool.asked == 1
print("ready", threads.native_functions() is not None)
"""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("AUTOGRAD_CORE_NO_NUMBA", None)
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
            for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr[-3000:]
    assert runs[0].stdout.split() == ["asked", "False", "ready", "True"], runs[0].stdout
    assert runs[1].stdout.split() == ["asked", "True", "ready", "True"], runs[1].stdout


def test_kernels_wait_also_readies_the_native_jobs(nat, monkeypatch):
    """``kernels.wait()`` (which the benchmarks call before timing) asks for the native-job code when more than
    one thread is in use, so that its compile does not run during the timed steps."""
    monkeypatch.setattr(threads._pool, "native", None)
    monkeypatch.setattr(threads._pool, "asked", 0)
    kernels.set_num_threads(1)
    with kernels.use("numba", background=True):
        assert kernels.wait(timeout=120)
        assert threads._pool.native is None
        kernels.set_num_threads(2)
        assert kernels.wait(timeout=120)
        assert threads._pool.native is nat


def test_native_jobs_call_a_blas_with_32_bit_ints(nat):
    """The job code passes BLAS ints as 64-bit (numpy's ILP64 OpenBLAS) or 32-bit (an LP64 build): run a
    job against SciPy's OpenBLAS, an LP64 build, through the same compiled code."""
    scipy = pytest.importorskip("scipy")
    found = native.gemm_functions(scipy, "scipy.libs")
    if found is None or found[2]:
        pytest.skip("SciPy's OpenBLAS (LP64) not found")
    import ctypes
    fns = nat.fns.copy()
    fns[native.F_SGEMM], fns[native.F_DGEMM] = (ctypes.cast(f, ctypes.c_void_p).value for f in found[:2])
    fns[native.F_ILP64] = 0
    kernels.set_num_threads(2)
    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((33, 20)).astype(dtype)
        b = rng.standard_normal((25, 20)).astype(dtype).T       # stored transposed
        out = np.full((33, 25), np.nan, dtype)
        desc, ctl = native.new_desc(), native.new_ctl()
        row = _task(a, b, out, 2)
        desc[0, :len(row)] = row
        nat.post(ctl, row[native.D_CHUNKS], 1, True)                  # the calling thread alone: no worker reads ctl
        nat.run(ctl, desc, row[native.D_CHUNKS], fns, np.zeros(2, np.int64))
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out, a @ b, rtol=tol, atol=tol * 20)


def test_one_thread_never_asks_for_the_native_code(nat, monkeypatch):
    """At one thread products run on the calling thread: the native-job code is not looked up or compiled for
    them, however many there are."""
    monkeypatch.setattr(threads._pool, "native", None)
    monkeypatch.setattr(threads._pool, "asked", 0)
    kernels.set_num_threads(1)
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((300, 200)), rng.standard_normal((200, 300))
    with kernels.use("numba", background=True):
        for _ in range(threads.NATIVE_AFTER + 5):
            np.testing.assert_allclose(kblas.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    assert threads._pool.asked == 0 and threads._pool.native is None


def test_the_job_code_compiles_once_for_every_caller(nat):
    """The chunk runner and the gemm wrapper compile for one set of argument types whichever caller reaches
    them (a worker, the calling thread, a convolution's per-image kernel through ``blas.gemm``): a literal or
    an unsigned address at one call site compiles a second copy, seconds of a cold start."""
    import numba
    from numba import typeof
    f = kblas.numpy_gemm_addresses()
    if f is None:
        pytest.skip("numpy's OpenBLAS is not reachable by address here")
    ctl, desc, one = native.new_ctl(), native.new_desc(), 1
    # callers compiled in memory, so that their type inference asks for the callees whatever Numba's disk
    # cache holds (a cached caller would carry its own copy of them and ask for nothing)
    numba.njit(native._run).compile((typeof(ctl), typeof(desc), typeof(one), typeof(nat.fns), typeof(ctl[:2])))
    numba.njit(native._serve).compile(tuple(typeof(v) for v in (ctl, desc, one, nat.fns, one, one)))

    @numba.njit
    def per_image_product(f, a, b, c):        # as the convolution kernels call it
        kblas.gemm(f, False, True, 4, 5, 3, a, 3, b, 3, 0.0, c, 5)

    rng = np.random.default_rng(11)
    for dtype in (np.float32, np.float64):
        a, b = rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)
        c = np.full((4, 5), np.nan, dtype)
        per_image_product(f, a.reshape(-1), b.reshape(-1), c.reshape(-1))
        np.testing.assert_allclose(c, a @ b.T, rtol=1e-5)
    assert len(native._run_chunk.signatures) == 1, native._run_chunk.signatures
    assert len(native._gemm.signatures) == 1, native._gemm.signatures


# -- kernels over ranges as native jobs ---------------------------------------------------------------------
def _range_cases(dt):
    """(name, fn, exact?) for every kind of parallel range kernel, on inputs big enough to be split."""
    from autograd_core.kernels import activation, channels, conv, pool, rows, select
    rng = np.random.default_rng(7)
    x = rng.standard_normal((40, 9, 300)).astype(dt)
    g = rng.standard_normal(x.shape).astype(dt)
    y = rows.softmax(x)
    w1 = rng.standard_normal(300).astype(dt)
    ln = rows.layer_norm(x, w1, w1, 1e-5)
    cond = rng.standard_normal((9, 300)) > 0
    img = rng.standard_normal((8, 3, 20, 20)).astype(dt)
    wc = rng.standard_normal((6, 3, 5, 5)).astype(dt)
    gc = rng.standard_normal((8, 6, 16, 16)).astype(dt)
    pooled = pool.maxpool2d_numba(img, 2, 2, 2, 2, 0, 0, 1, 1, 10, 10)
    return [
        ("relu", lambda: activation.relu(x), True),
        ("erf", lambda: activation.erf(x), True),
        ("gelu", lambda: activation.gelu(x), True),
        ("gelu_grad", lambda: activation.gelu_grad(g, x), True),
        ("relu_grad", lambda: activation.relu_grad(g, x), True),
        ("softmax", lambda: rows.softmax(x), True),
        ("log_softmax", lambda: rows.log_softmax(x), True),
        ("softmax_grad", lambda: rows.softmax_grad(g, y), True),
        ("log_softmax_grad", lambda: rows.log_softmax_grad(g, np.log(y)), True),
        ("channel_moments", lambda: channels.moments(x), True),
        ("channel_normalize", lambda: channels.normalize(x, x[:1, :, :1], 1 + x[:1, :, :1] ** 2, w1[:9], w1[:9]),
         True),
        ("channel_input_grad", lambda: channels.input_grad(g, x, 1 + x[:1, :, :1] ** 2, w1[:9]), True),
        ("channel_param_grads", lambda: channels.param_grads(g, x), True),
        ("layer_norm", lambda: rows.layer_norm(x, w1, w1, 1e-5), True),
        ("norm_input_grad", lambda: rows.norm_input_grad(g, ln[3], ln[2], w1), True),
        ("norm_param_grads", lambda: rows.norm_param_grads(g, ln[3], 2), True),
        ("sum_leading", lambda: rows.sum_leading(g, 1), True),
        ("where", lambda: select.where(cond, x, dt(0.5)), True),
        ("maxpool", lambda: pool.maxpool2d_numba(img, 2, 2, 2, 2, 0, 0, 1, 1, 10, 10), True),
        ("maxpool_scatter", lambda: pool.maxpool2d_scatter_numba(pooled[0], pooled[1], 20, 20), True),
        ("conv", lambda: conv._conv_direct_run(img, wc, w1[:6], gc, 5, 5, 0, 0, 1, 1, 16, 16, True, True), False),
        ("conv_t", lambda: conv._conv_t_direct_run(gc, wc, w1[:3], 20, 20, 5, 5, 0, 0, 1, 1), True),
    ]


def _recurrent_cases():
    """(name, fn, exact?) for the float32 LSTM and GRU time loops, split over the threads by batch rows."""
    from autograd_core.kernels import recurrent as krec
    rng = np.random.default_rng(8)
    L, N, H = 5, 7, 6
    f32 = np.float32

    def arr(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(f32)
    xw4, first, wt4, b4, w4 = arr(L, N, 4 * H), arr(N, 2 * H), arr(H, 4 * H, scale=0.5), arr(4 * H), arr(4 * H, H)
    xw3, h0, wt3, b3, w3 = arr(L, N, 3 * H), arr(N, H), arr(H, 3 * H, scale=0.5), arr(3 * H), arr(3 * H, H)
    g2, g1 = arr(L, N, 2 * H), arr(L, N, H)

    def lstm(reverse):
        out, acts = np.empty((L, N, 2 * H), f32), np.empty((L, N, 4 * H), f32)
        assert krec.lstm_sequence(xw4, first, wt4, b4, out, acts, reverse)
        dG, dh, dc = np.empty_like(acts), np.empty((N, H), f32), np.empty((N, H), f32)
        assert krec.lstm_sequence_grad(g2, out, acts, first, w4, dG, dh, dc, reverse)
        return out, acts, dG, dh, dc

    def gru(reverse):
        out, res = np.empty((L, N, H), f32), np.empty((2, L, N, 3 * H), f32)
        assert krec.gru_sequence(xw3, h0, wt3, b3, out, res, reverse)
        dGI, dGH, dh = np.empty(res.shape[1:], f32), np.empty(res.shape[1:], f32), np.empty((N, H), f32)
        assert krec.gru_sequence_grad(g1, out, res, h0, w3, dGI, dGH, dh, reverse)
        return out, res, dGI, dGH, dh
    return [(f"{name}_sequence{' reversed' if rev else ''}", (lambda f=f, rev=rev: f(rev)), False)
            for name, f in (("lstm", lstm), ("gru", gru)) for rev in (False, True)]


def _flat(r):
    return [np.asarray(v) for v in (r if isinstance(r, tuple) else (r,))]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("team", [2, 3])
def test_range_kernels_as_native_jobs_match_one_thread(nat, monkeypatch, dt, team):
    """Every kind of parallel range kernel (activations, rows, sums, where, pooling, direct convolutions, the
    recurrent layers' time loops over batch rows) run as native jobs on 2 and 3 threads, in small chunks,
    gives what one thread gives (bit for bit where the chunking cannot change the sums); and the native
    path was the one taken."""
    from autograd_core.kernels import rows
    monkeypatch.setattr(threads, "NATIVE_RANGE_MIN", 1)
    monkeypatch.setattr(threads, "NATIVE_RANGE_CHUNK", 1)
    monkeypatch.setattr(rows, "_PAR_MIN", 1 << 12)     # sums in several fixed blocks (whatever the threads)
    monkeypatch.setattr(threads, "BACKOFF_WAIT_S", 1e9)  # 3 threads on 2 CPUs: no backing off to one thread
    taken = []
    real = threads._native_range

    def spy(*a):
        ok = real(*a)
        taken.append(ok)
        return ok
    monkeypatch.setattr(threads, "_native_range", spy)
    from autograd_core.kernels import recurrent as krec
    monkeypatch.setattr(krec, "_SPLIT_WORK", 0)      # the time loops split over the threads by batch rows
    with kernels.use("numba", background=False), kblas.numpy_blas_on_one_thread():
        kernels.set_num_threads(1)
        cases = _range_cases(dt) + (_recurrent_cases() if dt == np.float32 else [])
        want = {name: _flat(fn()) for name, fn, _ in cases}
        kernels.set_num_threads(team)
        for name, fn, exact in cases:
            taken.clear()
            got = _finishes(lambda: _flat(fn()))
            assert True in taken, f"{name}: did not run as a native job"
            for a, b in zip(got, want[name]):
                if exact:
                    np.testing.assert_array_equal(a, b, err_msg=name)
                else:
                    np.testing.assert_allclose(a, b, rtol=1e-5 if dt == np.float32 else 1e-12, atol=1e-4, err_msg=name)


def test_a_kernel_called_with_other_kinds_finds_their_range_job(nat, monkeypatch):
    """The same kernel with arguments of other kinds (another dtype, a Python float instead of a NumPy one)
    switches to their range job: the compiled ``pack`` refuses the old kinds, nothing is written, and the
    right one runs."""
    from autograd_core.kernels import select
    monkeypatch.setattr(threads, "NATIVE_RANGE_MIN", 1)
    monkeypatch.setattr(threads, "NATIVE_RANGE_CHUNK", 1)
    monkeypatch.setattr(threads, "BACKOFF_WAIT_S", 1e9)
    kernels.set_num_threads(2)
    rng = np.random.default_rng(8)
    cond = rng.standard_normal(200) > 0          # one row of the condition for 64 rows of values
    with kernels.use("numba", background=False):
        for dt, other in [(np.float32, np.float32(2)), (np.float64, 2.0), (np.float32, np.float32(2)),
                          (np.float64, np.float64(2))]:
            a = rng.standard_normal((64, 200)).astype(dt)
            got = _finishes(lambda: select.where(cond, a, other))
            np.testing.assert_array_equal(got, np.where(cond, a, other))
            assert threads._HOT[select._where_k][0].spec == native.range_spec(
                (cond, a.reshape(-1), np.full(1, other, dt), got.reshape(-1), True, False, 200))


def test_range_spec_refuses_what_cannot_travel_in_a_block():
    """Arrays that are not C-contiguous, aligned and writeable, 0-d arrays, 1-D per-thread arrays, other
    numbers, and more arguments than the block holds, leave the kernel a Python job."""
    a = np.zeros((4, 6))
    ro = np.zeros(5)
    ro.flags.writeable = False
    assert native.range_spec((a, 3, 2.0, np.float32(1), True)) == (("d", 2), "i", "d", "f", "b")
    assert native.range_spec((native.PerThread(a),)) == (("t", "d", 2),)
    for bad in (a[:, ::2], a.T, ro, np.zeros(()), native.PerThread(np.zeros(3)), np.int32(3), "x", None):
        assert native.range_spec((a, bad)) is None, bad
    assert native.range_spec((a,) * 21) is None                     # 3 + 21 * 3 slots > BLOCK_SLOTS
    assert native.range_spec((a,) * 20) is not None


def test_range_jobs_compile_in_memory_without_a_cache_folder(nat, monkeypatch):
    """Where no cache folder can be written (a read-only home), a range job's functions are compiled in memory
    and run as well."""
    if not native._SUPPORTED:
        pytest.skip("no native jobs here")
    monkeypatch.setattr(native, "_range_cache_dir", lambda: None)
    spec = (("d", 1), ("d", 1), "i", "b", "d", "f")    # kinds no kernel of ours takes: a fresh compile
    mod = native._range_module(spec)
    assert mod.__name__ == "autograd_core_range" and "pack" in vars(mod)
    block, desc = native.new_block(), native.new_desc()
    x, y = np.arange(5.0), np.zeros(5)
    mod.pack(block, desc, 123, 456, 7, x, y, 11, True, 2.5, np.float32(0.5), 3, 5)
    # the kernel, x (address, length), y (address, length), 11, True, then the floats' bits, per and n
    assert list(block[:7]) == [123, x.ctypes.data, 5, y.ctypes.data, 5, 11, 1]
    assert list(block.view(np.float64)[7:9]) == [2.5, 0.5] and list(block[9:11]) == [3, 5]
    assert desc[0, native.D_MODE] == native.MODE_CALL and desc[0, native.D_FN] == 456
    assert desc[0, native.D_ARGS] == block.ctypes.data and desc[0, native.D_CHUNKS] == 7


def test_range_job_modules_are_named_by_their_text(nat, tmp_path, monkeypatch):
    """A range job's generated module is named by a digest of its text (and of native.py), so another text
    never reuses an older file and its cached code."""
    if not native._SUPPORTED:
        pytest.skip("no native jobs here")
    monkeypatch.setattr(native, "_range_cache_dir", lambda: str(tmp_path))
    m1 = native._range_module((("d", 1), "i"))
    m2 = native._range_module((("d", 1), "d"))
    m3 = native._range_module((("d", 1), "i"))
    assert m1.__file__ != m2.__file__ and m1.__file__ == m3.__file__
    assert sorted(p.name for p in tmp_path.glob("range_*.py")) == sorted({os.path.basename(m.__file__)
                                                                          for m in (m1, m2)})
    # a file that does not hold what its name says (damaged, edited) is written again before it is imported
    with open(m1.__file__, "w", encoding="utf-8") as fh:
        fh.write("raise RuntimeError('not ours')\n")
    m4 = native._range_module((("d", 1), "i"))
    assert m4.__file__ == m1.__file__ and callable(m4.pack)
    with open(m1.__file__, encoding="utf-8") as fh:
        assert fh.read() == native._range_source((("d", 1), "i"), True)


def test_range_jobs_products_and_python_jobs_from_two_threads(nat, monkeypatch):
    """Range jobs, products and Python jobs asked for at once from two Python threads, with workers that
    watch and workers that sleep: all right, nothing hangs."""
    from autograd_core.kernels import activation, rows
    monkeypatch.setattr(threads, "NATIVE_RANGE_MIN", 1)
    monkeypatch.setattr(threads, "NATIVE_RANGE_CHUNK", 1)
    kernels.set_num_threads(3)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((96, 70))
    a, b = rng.standard_normal((60, 40)), rng.standard_normal((40, 50))
    with kernels.use("numba", background=False):
        want_g, want_s = activation.gelu(x), rows.softmax(x)

    def work(which):
        for r in range(150):
            native.SPIN_S = 0.0 if r % 4 == 0 else 1e-3
            if which == 0:
                np.testing.assert_array_equal(activation.gelu(x), want_g)
                np.testing.assert_array_equal(rows.softmax(x), want_s)
            else:
                np.testing.assert_allclose(kblas.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
                out = [None] * 4
                threads.parallel_for(lambda i, tid, o: o.__setitem__(i, i), 4, out)
                assert out == [0, 1, 2, 3]
    _at_once(work, [(0,), (1,)])


if HAVE_NUMBA:
    @kernels.kernel("test_count_range")
    def _count_k(out, lo, hi):
        for i in range(lo, hi):
            out[i] += 1.0


@pytest.mark.parametrize("spread", [True, False])
@pytest.mark.parametrize("team", [2, 3, 5])
def test_every_range_chunk_runs_exactly_once(nat, monkeypatch, spread, team):
    """A kernel that adds 1 over its range, run as native jobs of 1 to 40 chunks on 2, 3 and 5 threads, with
    each thread's own run of chunks or one queue, 200 times: every element ends at exactly 200 (no chunk
    lost, none run twice)."""
    monkeypatch.setattr(native, "SPREAD", spread)
    monkeypatch.setattr(threads, "NATIVE_RANGE_MIN", 1)
    monkeypatch.setattr(threads, "BACKOFF_WAIT_S", 1e9)
    kernels.set_num_threads(team)
    out = np.zeros(997)
    with kernels.use("numba", background=False):
        k = _count_k.get("d", (out, 0, 0))
        ran = []

        def loop():
            for r in range(200):
                per = 1 + (r * 37) % 60 if r % 5 else 997
                native.SPIN_S = 0.0 if r % 9 == 0 else 1e-3
                threads.parallel_range(_count_k, k, (out,), out.size, per=per)
                ran.append(threads._HOT.get(_count_k) is not None)
        _finishes(loop)
    assert any(ran), "never ran as a native job"
    np.testing.assert_array_equal(out, np.full(out.size, 200.0))


def test_range_kinds_met_while_the_pool_backs_off_compile_with_kernels_wait(nat, monkeypatch):
    """A range kernel first met while the pool backs off to one thread (a busy neighbour) runs on the calling
    thread, and its kinds of arguments are noted all the same, so that ``kernels.wait()`` compiles their
    range job before the steps that a benchmark times."""
    @kernels.kernel("test_backoff_range")
    def fill(out, s, flag, scale, lo, hi):
        for i in range(lo, hi):
            out[i] = s * scale if flag else 0.0

    monkeypatch.setattr(threads, "NATIVE_RANGE_MIN", 1)
    kernels.set_num_threads(2)
    out = np.zeros(100, np.float32)
    args = (out, 3, True, 0.25)          # kinds no kernel of ours takes
    k = fill.get("f", args + (0, 0), wait=True)
    threads._pool.alone_until = time.perf_counter() + 60.0
    try:
        threads.parallel_range(fill, k, args, out.size, per=10)
    finally:
        threads._pool.alone_until = 0.0
    np.testing.assert_array_equal(out, np.full(100, 0.75, np.float32))
    assert kernels.wait(timeout=120)
    assert native.range_functions(args, False) is not None


def test_range_kinds_of_a_compiling_kernel_compile_with_kernels_wait(nat, monkeypatch):
    """A range kernel still compiling in the background (its op runs numpy meanwhile, so ``parallel_range`` is
    not called yet) has its kinds of arguments noted by ``range_kernel``: ``kernels.wait()`` compiles the
    kernel and its range job before the steps that a benchmark times."""
    @kernels.kernel("test_compiling_range")
    def scale(out, src, rows, s, lo, hi):
        for i in range(lo, hi):
            out[i] = src[i] * s + rows[0, 0]

    kernels.set_num_threads(2)
    out = np.zeros(64)
    args = (out, np.arange(64.0), threads.PerThread(np.ones((2, 3, 5))), np.float32(2))   # fresh kinds
    with kernels.use("numba", background=True):
        assert threads.range_kernel(scale, "d", args) is None        # its compile was queued
        assert threads._HOT[scale] is None
        assert kernels.wait(timeout=120)
        k = threads.range_kernel(scale, "d", args)
    assert k is not None and native.range_functions(args, False) is not None
    threads.parallel_range(scale, k, args, out.size, per=16)
    np.testing.assert_array_equal(out, np.arange(64.0) * 2 + 1)


def test_range_cache_folder_is_never_relative(nat, monkeypatch, tmp_path):
    """Without a home folder (HOME unset, no user entry) or with a relative cache setting, the range jobs get
    no cache folder (they compile in memory) rather than one under the working directory."""
    if not native._SUPPORTED:
        pytest.skip("no native jobs here")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(native.numba.config, "CACHE_DIR", "")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(native.os.path, "expanduser", lambda p: p)      # "~" stays "~": no home
    assert native._range_cache_dir() is None
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert native._range_cache_dir() is None
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert native._range_cache_dir() == str(tmp_path / "cache" / "autograd_core" / "ranges")


def test_no_range_jobs_where_native_jobs_cannot_run(monkeypatch):
    """Where native jobs cannot run (numpy's OpenBLAS not found, say), range kernels are never noted or
    compiled as native jobs: they stay Python jobs, and still give the right values."""
    if not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    from autograd_core.kernels import activation
    monkeypatch.setattr(native, "_found", [None])
    monkeypatch.setattr(threads, "NATIVE_RANGE_MIN", 1)
    monkeypatch.setattr(threads._pool, "native", None)
    monkeypatch.setattr(threads, "_HOT", {})
    before = dict(native._RANGES)
    kernels.set_num_threads(2)
    x = np.linspace(-3, 3, 4000).reshape(40, 100)
    with kernels.use("numba", background=False):
        got = activation.gelu(x)
        kernels.wait()
    assert not native.supported() and native.range_functions((x, got), True) is None
    assert native._RANGES == before
    np.testing.assert_allclose(got, kernels.erf_numpy(x / np.sqrt(2)) * x * 0.5 + x * 0.5, rtol=1e-12, atol=1e-12)

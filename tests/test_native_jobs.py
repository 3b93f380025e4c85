"""The pool's native jobs (``kernels.native``): matrix products handed between threads without the GIL.

Each test runs the real pool; a hang would be a bug, so the multi-threaded ones run on a helper thread
and fail when it does not finish in time.
"""
from __future__ import annotations

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


@pytest.mark.parametrize("team", [1, 2, 3, 5])
@pytest.mark.parametrize("case", ["rows", "cols", "stack", "stack_t", "two"])
def test_every_chunk_of_a_native_job_runs(nat, team, case):
    """Every chunk of a job runs (the output starts as NaN), whatever the team size, for blocks of rows, of
    columns, runs of a stack (its right operands stored transposed, copied or not) and two tasks."""
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


def test_products_from_two_python_threads_at_once(nat):
    """Two Python threads multiplying at once: one gets the pool, the other runs its products alone; all
    right."""
    kernels.set_num_threads(2)
    rng = np.random.default_rng(3)
    pairs = [(rng.standard_normal((70, 40)), rng.standard_normal((40, 90))) for _ in range(2)]
    errors = []

    def work(a, b):
        try:
            for _ in range(100):
                np.testing.assert_allclose(kblas.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    old = (kblas.MIN_WORK, kblas.NATIVE_PAR_WORK)
    kblas.MIN_WORK = kblas.NATIVE_PAR_WORK = 1
    try:
        def both():
            ts = [threading.Thread(target=work, args=p) for p in pairs]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        _finishes(both)
    finally:
        kblas.MIN_WORK, kblas.NATIVE_PAR_WORK = old
    assert not errors, errors[0]


def test_native_compile_waits_for_the_first_steps(nat, monkeypatch):
    """With background compiles, the native-job code's compile is not asked for before ``NATIVE_AFTER``
    products (it would hold Numba's compiler and the GIL while the first steps need other kernels): until
    then it is only looked up (used if compiled already, by an earlier run's cache or ``kernels.wait()``)."""
    monkeypatch.setattr(threads._pool, "native", None)
    monkeypatch.setattr(threads._pool, "asked", 0)
    requests = []

    def not_compiled_yet(ctl, desc, request=True):
        requests.append(request)
        return nat if request else None
    monkeypatch.setattr(native, "functions", not_compiled_yet)
    with kernels.use("numba", background=True):
        assert kernels.compile.wait(timeout=120)
        for _ in range(threads.NATIVE_AFTER - 1):
            assert threads.native_functions() is None
        assert threads.native_functions() is nat
    assert requests == [False] * (threads.NATIVE_AFTER - 1) + [True]
    with kernels.use("numba", background=False):           # compiling on the calling thread: at once
        threads._pool.native = None
        threads._pool.asked = 0
        requests.clear()
        assert threads.native_functions() is nat and requests == [True]


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
        nat.post(ctl, row[native.D_CHUNKS], 1)                  # the calling thread alone: no worker reads ctl
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

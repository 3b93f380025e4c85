"""The one thread pool that the parallel kernels run on.

``parallel_for(fn, n, *args)`` calls ``fn(i, tid, *args)`` for i in 0..n-1 on up to
``get_num_threads()`` threads: the calling thread (tid 0) and sleeping worker threads (tid 1, 2, ...).
``fn`` calls a ``nogil`` Numba kernel on chunk ``i``, so the threads run at once; chunks are claimed
one at a time, so a thread that is slow (a busy neighbour process took its core) does fewer of them.

Why our own pool rather than Numba's ``parallel=True``: an idle OpenMP team spins on the cores (for
up to milliseconds after each kernel), which starves anything else on a small machine, be it a
neighbour process or another pool in ours (a LeNet-5 step went from 14 to 90 ms at 2 threads beside
one busy process); and a ``parallel=True`` kernel takes ~20 s to compile. Here an idle thread blocks
on a lock (it sleeps, the OS gives its core away), and the calling thread never waits for a worker
that has not started: it runs the chunks itself and returns.

A thread of ours that another process has pushed off its core holds up every parallel call until the
OS runs it again (a time slice, milliseconds). So when the calling thread, done with its own chunks,
waits long for a worker's (``BACKOFF_WAIT_S``, and longer than it worked itself), the kernels run on
the calling thread alone for a while (``threads_now()`` is 1: 10 ms, doubling at each repeat up to a
second), then try again.

Matrix products (``parallel_gemms(tasks)``) and kernels over ranges (``parallel_range``) take a faster
road onto the same threads: a native job (``native``) that the threads claim and run without the GIL,
each first from its own run of chunks; a worker watches for the next one for a millisecond after each
(yielding its core, and going to sleep at once when another thread wants the core) before it sleeps on
its lock; a Python job posted meanwhile calls it back.

``set_num_threads(n)`` / ``get_num_threads()`` as in PyTorch; the default is ``OMP_NUM_THREADS``,
else ``NUMBA_NUM_THREADS``, else the physical cores this process may run on
(hardware threads of one core count once, as in PyTorch). A call made while the pool is busy
(from inside a chunk, or from another thread) runs on its own thread.
"""
from __future__ import annotations

import itertools
import os
import threading
import time

import numpy as np

from . import native
from .compile import background_compiles, idle, numba_active

__all__ = ["set_num_threads", "get_num_threads", "threads_now", "parallel_for", "team_size", "split",
           "BACKOFF_WAIT_S", "NATIVE_AFTER", "native_functions", "request_native", "parallel_gemms", "parallel_range",
           "range_kernel", "PerThread", "NATIVE_RANGES", "NATIVE_RANGE_MIN", "NATIVE_RANGE_CHUNK"]


def core_of(cpu, root="/sys/devices/system/cpu"):
    """The physical core that logical CPU ``cpu`` sits on, as Linux names it (the hardware threads it shares
    that core with, ``cpuN/topology/thread_siblings_list``), or None where that cannot be read."""
    try:
        with open(f"{root}/cpu{cpu}/topology/thread_siblings_list") as f:
            return f.read().strip()
    except OSError:
        return None


def _physical_cores(cpus, root="/sys/devices/system/cpu"):
    """How many cores the logical CPUs ``cpus`` sit on: SMT siblings (two hardware threads of one core) count
    once. ``len(cpus)`` where the topology cannot be read."""
    cores = [core_of(c, root) for c in cpus]
    if None in cores:
        return len(cpus)
    return max(1, len(set(cores)))


def _default_threads():
    """``OMP_NUM_THREADS``, else ``NUMBA_NUM_THREADS``, else one thread per physical core this process may
    run on, as PyTorch (MKL) counts: a second hardware thread on a core shares its vector units, so a
    compute-bound kernel gains little from it and pays the pool's extra hand-offs."""
    for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
        v = os.environ.get(var, "").split(",")[0].strip()
        if v.isdigit() and int(v) >= 1:
            return int(v)
    try:
        return _physical_cores(sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Job:
    __slots__ = ("fn", "args", "n", "T", "claim", "completed", "done", "error")

    def __init__(self, fn, args, n, T):
        self.fn, self.args, self.n, self.T = fn, args, n, T
        self.claim = itertools.count()      # next() is atomic under the GIL
        self.completed = itertools.count(1)
        self.done = threading.Lock()
        self.done.acquire()                 # released by whoever completes the last chunk
        self.error = None

    def work(self, tid):
        fn, args, n = self.fn, self.args, self.n
        while True:
            i = next(self.claim)
            if i >= n:
                return
            try:
                fn(i, tid, *args)
            except BaseException as e:  # noqa: BLE001 - re-raised on the calling thread
                self.error = e
            finally:
                if next(self.completed) == n:
                    self.done.release()


class _Worker:
    __slots__ = ("tid", "wake", "pool")

    def __init__(self, pool, tid):
        self.pool, self.tid = pool, tid
        self.wake = threading.Lock()
        self.wake.acquire()
        threading.Thread(target=self.loop, name=f"autograd_core-worker-{tid}", daemon=True).start()

    def loop(self):
        pool, tid = self.pool, self.tid
        while True:
            self.wake.acquire()              # sleeps in the kernel until there is work
            while True:
                py_seen = int(pool.ctl[native.PY])     # read before the job: a later one sends serve back
                job = pool.job
                if job is not None and tid < job.T:   # a late wake-up may find a smaller job
                    job.work(tid)
                nat = pool.native
                if nat is None or tid >= native.MAX_THREADS:
                    break
                # watch for native jobs without the GIL; back here for a Python job
                if not nat.serve(pool.ctl, pool.desc, tid, nat.fns, int(native.SPIN_S * 1e9), py_seen):
                    break


BACKOFF_WAIT_S = 5e-4      # a wait for a worker this long (and longer than the caller's own work) backs off
_BACKOFF_FIRST_S, _BACKOFF_MAX_S = 0.01, 1.0


class _Pool:
    def __init__(self):
        self.n = _default_threads()
        self.workers = []
        self.busy = threading.Lock()
        self.job = None
        self.alone_until = 0.0    # perf_counter() before which the kernels use the calling thread alone
        self.backoff = 0.0
        self.ctl = native.new_ctl()
        self.desc = native.new_desc()
        self.block = native.new_block()
        self.native = None        # the compiled native-job functions, once ready
        self.asked = 0            # calls of native_functions() before those were requested
        self.times = np.zeros(2, np.int64)


_pool = _Pool()


def set_num_threads(n):
    """Use ``n`` threads (the calling one included) for the parallel kernels, as ``torch.set_num_threads``.

    >>> import autograd_core as ag
    >>> old = ag.get_num_threads(); ag.set_num_threads(1); ag.get_num_threads()
    1
    >>> ag.set_num_threads(old)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _pool.n = n


def get_num_threads():
    """The number of threads the parallel kernels use (``set_num_threads``; default: see the module), as
    ``torch.get_num_threads``.

    >>> import autograd_core as ag
    >>> ag.get_num_threads() >= 1
    True
    """
    return _pool.n


def threads_now():
    """The threads a parallel kernel may use now: ``get_num_threads()``, or 1 while the pool backs off
    because a worker was kept off its core (see the module docstring).

    >>> from autograd_core import kernels
    >>> 1 <= kernels.threads.threads_now() <= kernels.get_num_threads()
    True
    """
    if _pool.alone_until and time.perf_counter() < _pool.alone_until:
        return 1
    return _pool.n


def team_size(n_chunks):
    """How many threads (tids 0..k-1) a ``parallel_for`` over ``n_chunks`` chunks may use: size per-thread
    scratch with it."""
    return max(1, min(threads_now(), n_chunks))


def split(n, min_per, per_thread=2):
    """(per, chunks): ``n`` items in ``chunks`` equal runs of ``per`` (the last may be shorter), each of at
    least ``min_per`` items, and at most ``per_thread`` runs per thread. Why few: a worker takes the GIL
    for every run it claims, and when the other thread holds it that wait is a sleep (~10 us on a
    virtual machine); two per thread still let a fast thread take over a slow one's second run.

    >>> from autograd_core import kernels
    >>> old = kernels.get_num_threads(); kernels.set_num_threads(2)
    >>> kernels.threads.split(1000, 100), kernels.threads.split(150, 100)
    ((250, 4), (150, 1))
    >>> kernels.set_num_threads(old)
    """
    chunks = max(1, min(n // max(min_per, 1), per_thread * _pool.n))
    per = -(-n // chunks)
    return per, -(-n // per)


def _after_wait(worked, waited):
    """After a parallel call whose calling thread worked ``worked`` s on its own chunks and then waited
    ``waited`` s for the workers': back off to the calling thread alone when the wait was long (see the
    module docstring), else reset the backoff."""
    if waited > BACKOFF_WAIT_S and waited > worked:
        _pool.backoff = min(max(2 * _pool.backoff, _BACKOFF_FIRST_S), _BACKOFF_MAX_S)
        _pool.alone_until = time.perf_counter() + _pool.backoff
    else:
        _pool.backoff = 0.0


def parallel_for(fn, n, *args):
    """``fn(i, tid, *args)`` for every chunk i < n, on up to ``team_size(n)`` threads; returns when all are
    done (an exception from any chunk is raised here).

    >>> from autograd_core import kernels
    >>> out = [0] * 4
    >>> def chunk(i, tid, scale):
    ...     out[i] = i * scale
    >>> kernels.parallel_for(chunk, 4, 10)
    >>> out
    [0, 10, 20, 30]
    """
    _parallel_for(fn, n, threads_now(), args)


def _parallel_for(fn, n, T, args):
    """``parallel_for`` on at most ``T`` threads."""
    T = min(T, n)
    if T <= 1 or not _pool.busy.acquire(blocking=False):
        for i in range(n):
            fn(i, 0, *args)
        return
    try:
        while len(_pool.workers) < T - 1:
            _pool.workers.append(_Worker(_pool, len(_pool.workers) + 1))
        job = _Job(fn, args, n, T)
        _pool.job = job
        _pool.ctl[native.PY] += 1     # a worker watching for native jobs comes back for it
        for w in _pool.workers[:T - 1]:
            if w.wake.locked():     # else it has a wake-up it has not used yet: it will see this job
                w.wake.release()
        t0 = time.perf_counter()
        job.work(0)
        t1 = time.perf_counter()
        job.done.acquire()          # only waits for chunks a worker has claimed and not finished
        _after_wait(t1 - t0, time.perf_counter() - t1)
        _pool.job = None
        if job.error is not None:
            raise job.error
    finally:
        _pool.busy.release()


# Parallel products and ranges asked for before the native-job functions' compile is requested (see
# ``native_functions``).
NATIVE_AFTER = 100


def native_functions():
    """The pool's compiled native-job functions (``native``), or None: the numpy backend, no numpy OpenBLAS,
    or not compiled yet. Their compile (~2 s) is requested in the background after ``NATIVE_AFTER`` calls
    and once no other kernel is waiting for one (at once with ``use(..., background=False)``, and by
    ``kernels.wait()``): Numba compiles one function at a time, holding the GIL at times, so it would
    delay the kernels and the optimizer's update that the first steps need, and slow those steps. Where
    Numba's disk cache holds them (every process after the first), they are asked for at the first call:
    loading them takes tens of milliseconds, and until then the first steps' products run on one thread."""
    nat = _pool.native
    if nat is None and numba_active():
        request = True
        if background_compiles():
            _pool.asked += 1
            request = "cached" if _pool.asked < NATIVE_AFTER else idle()
        nat = _pool.native = native.functions(_pool.ctl, _pool.desc, request)
    return nat


def request_native():
    """Ask for the native-job functions' compile now if more than one thread is in use, and for the range
    wrappers that ``parallel_range`` has met (``kernels.wait()`` then waits for them too)."""
    if numba_active() and _pool.n > 1:
        if _pool.native is None:
            _pool.native = native.functions(_pool.ctl, _pool.desc)
        native.request_ranges()


def parallel_gemms(tasks):
    """Run matrix products described by ``tasks`` (rows of ``native``'s descriptor table, each with its
    chunk count at ``native.D_CHUNKS``) as one native job on up to ``threads_now()`` threads; returns
    False, having run nothing, when that cannot be done now (the native functions are not compiled, or
    the pool is busy: a call from inside a chunk or from another thread), and the caller then takes its
    Python path.

    >>> from autograd_core import kernels
    >>> kernels.threads.parallel_gemms([])      # nothing to run
    False
    """
    nat = _pool.native or native_functions()
    if nat is None or not tasks or not numba_active():
        return False
    return _run_native(nat, tasks)


def _run_native(nat, tasks):
    """Post ``tasks`` as one native job and run it (see ``parallel_gemms``); False if the pool is busy."""
    if not _pool.busy.acquire(blocking=False):
        return False
    try:
        desc = _pool.desc
        total = 0
        for i, row in enumerate(tasks):
            desc[i, :len(row)] = row
            total += row[native.D_CHUNKS]
        _post_and_run(nat, total, threads_now())
        return True
    finally:
        _pool.busy.release()


def _post_and_run(nat, total, T):
    """With the pool held and ``desc`` written: post the job of ``total`` chunks for up to ``T`` threads, wake
    the workers that sleep, and run chunks on this thread until all are done."""
    T = min(T, total, native.MAX_THREADS)
    while len(_pool.workers) < T - 1:
        _pool.workers.append(_Worker(_pool, len(_pool.workers) + 1))
    ctl, times = _pool.ctl, _pool.times
    nat.post(ctl, total, T, native.SPREAD)
    for w in _pool.workers[:T - 1]:
        if ctl[native.STATE + 8 * w.tid] == 0 and w.wake.locked():    # asleep (or about to be)
            w.wake.release()
    nat.run(ctl, _pool.desc, total, nat.fns, times)
    worked, waited = times.tolist()     # Python ints: numpy's int64 * float takes ~2 us
    _after_wait(worked * 1e-9, waited * 1e-9)


# Kernels over ranges run as native jobs where they can (``parallel_range``); False keeps them Python jobs
# (the tests compare the two).
NATIVE_RANGES = True
# A native job hands over in a few microseconds when the worker is watching, so much smaller ranges gain
# from a second thread than as Python jobs: work (elements) from which a range is split, and per chunk.
NATIVE_RANGE_MIN = 1 << 16
NATIVE_RANGE_CHUNK = 1 << 13


PerThread = native.PerThread


def _range_chunk(i, tid, k, args, n, per):
    lo = i * per
    k(*args, lo, min(n, lo + per))


def _range_chunk_rows(i, tid, k, args, n, per):
    lo = i * per
    k(*[a.a[tid] if type(a) is PerThread else a for a in args], lo, min(n, lo + per))


def range_kernel(kern, key, args):
    """``kern`` compiled for ``args`` (as ``parallel_range`` takes them, a ``PerThread`` argument standing for
    its first row) and the range's two ints, or None while it compiles (see ``Kernel.get``); meanwhile
    the kinds of ``args`` are noted, so that ``kernels.wait()`` compiles their range job as well."""
    if key in kern.ready:     # compiled already (the common case): no sample arguments to build
        return kern.get(key, ())
    k = kern.get(key, tuple(a.a[0] if type(a) is PerThread else a for a in args) + (0, 0))
    if k is None:
        _note_range(kern, args)
    return k


def _note_range(kern, args):
    if NATIVE_RANGES and _pool.n > 1 and kern not in _HOT:
        native.range_functions(args, False)
        _HOT[kern] = None


def parallel_range(kern, k, args, n, unit=1, par_min=0, chunk=1, per=None, team=None):
    """``k(*args, lo, hi)`` over [0, n) in runs [lo, hi), on up to ``threads_now()`` threads (and at most
    ``team``); ``k``: the ``Kernel`` ``kern`` compiled for ``args``, where a ``PerThread(a)`` argument
    stands for ``a[tid]`` (per-thread scratch with a row per thread: size it with ``team_size``, pass that
    as ``team``, and fix ``per``); ``unit``: elements per item of the range (a row's length).

    A native job (no GIL hand-overs: see ``native.range_functions``) once its functions are compiled and
    the arguments allow it (C-contiguous arrays, numbers), from ``NATIVE_RANGE_MIN`` elements in runs of
    at least ``NATIVE_RANGE_CHUNK``; else a Python job from ``par_min`` elements in runs of at least
    ``chunk``; else, and on one thread, ``k`` on the calling thread. ``per`` fixes the runs' length
    instead (both jobs, from two runs). ``k`` must not raise, and a call site passes numbers of the same
    kinds each time (a native job's compiled ``pack`` converts a number of another kind that it can).

    >>> import numpy as np
    >>> from autograd_core import kernels
    >>> from autograd_core.kernels import activation
    >>> x = np.linspace(-1, 1, 8); out = np.empty_like(x)
    >>> k = activation._relu_k.get("d", (x, out, 0, 0), wait=True)
    >>> kernels.threads.parallel_range(activation._relu_k, k, (x, out), 8, chunk=3)
    >>> bool((out == np.maximum(x, 0)).all())
    True
    """
    work = n * unit
    if per is None and work < par_min and work < NATIVE_RANGE_MIN:
        k(*args, 0, n)        # too little work to split either way (the usual case on small arrays)
        return
    T = threads_now() if team is None else min(threads_now(), team)
    rows = any(type(a) is PerThread for a in args)
    if (work >= NATIVE_RANGE_MIN or per is not None) and NATIVE_RANGES and _pool.n > 1:
        # noted now if not yet (while the pool backs off too), so that ``kernels.wait()`` compiles it
        _note_range(kern, args)
        if T > 1 and (_pool.native or native_functions()) is not None and _native_range(
                kern, k, args, n, unit, T, per, rows):
            return
    if per is None:
        if work < par_min or T < 2:
            per = n
        else:
            per = split(n, max(1, chunk // max(unit, 1)))[0]
    _parallel_for(_range_chunk_rows if rows else _range_chunk, -(-n // per), T, (k, args, n, per))


_HOT: dict = {}    # kernel -> (range functions, its entry point) for its latest arguments' kinds


def _native_range(kern, k, args, n, unit, T, per, rows):
    """``parallel_range`` as a native job; False, having run nothing, where it cannot run now."""
    if per is None:
        per = split(n, max(1, NATIVE_RANGE_CHUNK // max(unit, 1)))[0]
    chunks = -(-n // per)
    if chunks < 2:
        return False
    hot = _HOT.get(kern)
    for _ in (0, 1):
        if hot is None:
            # a first call, or arguments of other kinds than the last: look them up (and ask for a compile)
            got = native.range_functions(args, not background_compiles() or idle())
            if got is None:
                return False
            addr = native.kernel_address(k, got[1])
            if not addr:
                return False
            hot = _HOT[kern] = (got[0], addr)
        if not _pool.busy.acquire(blocking=False):
            return False
        try:
            fns, addr = hot
            try:
                fns.pack(_pool.block, _pool.desc, addr, fns.address, chunks,
                         *([a.a if type(a) is PerThread else a for a in args] if rows else args), per, n)
            except TypeError:      # not the kinds it was compiled for (nothing was written)
                hot = None
                continue
            _post_and_run(_pool.native, chunks, T)
            return True
        finally:
            _pool.busy.release()
    return False

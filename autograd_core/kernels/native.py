"""Matrix products and other parallel kernels handed between our threads without the GIL: the pool's
native jobs.

A parallel product on the pool (``blas``) is cut into chunks (blocks of rows or columns of one product,
runs of a stack's items, or whole products side by side), each one gemm call or a few. Posted as a
Python job, each hand-over costs two GIL waits, and a thread that waits for the GIL sleeps: on a
2-vCPU virtual machine a worker started its chunk ~20 us after the job was posted and the caller
woke ~20 us after the last chunk, on a ~300 us product. A native job is a table of int64 descriptors
instead (operand addresses, shapes, strides), and the chunks are claimed, run and counted in compiled
code that never takes the GIL:

* a worker that has just finished a job watches for the next one for ``SPIN_S`` (the products and other
  parallel kernels of a training step come every 0.1-1 ms), then sleeps on its lock as before; it yields its core every few
  microseconds meanwhile, and sleeps at once when a yield shows that another thread wanted the core (a
  busy neighbour process, or our own calling thread);
* the caller wakes only sleeping workers, claims chunks too, and when none are left waits for the
  chunks that workers took, so a worker that has not started costs nothing (as with Python jobs);
* a Python job posted meanwhile sends a watching worker back to Python.

The gemm is numpy's bundled OpenBLAS (the one ``np.matmul`` calls), through its Fortran interface, as
``np.matmul`` would call it on the same blocks. ``functions()`` is None without Numba, without numpy's
OpenBLAS, off x86-64 Linux, or while the code compiles (in the background, as the kernels do).

The elementwise, row, pooling and direct-convolution kernels (``k(*args, lo, hi)`` over a range) run on the
same jobs through a compiled wrapper per kind of arguments that calls the kernel by address (see "kernels
over ranges as native jobs" below; ``threads.parallel_range`` posts them).

``ctl`` (int64; each field on its own cache line): ``ctl[HOME + 8 * t]`` = job number (15 bits) << 48 |
end << 24 | next chunk of thread t's own run, so that a claim is one compare-and-swap; a thread claims
from its own run first, then from the others' (``SPREAD``); ``ctl[JOB]`` holds the job number;
``ctl[DONE]``: chunks finished; ``ctl[PY]`` moves when a Python job is posted; threads with tid <
``ctl[TEAM]`` may join the job; ``ctl[STATE + 8 * tid]`` is 1 while worker ``tid`` watches. A row of
``desc`` describes one task (a product or a stack of them, or a kernel over a range) and how it is
chunked (the ``D_*`` columns). ``YIELD_BUSY_NS`` and ``CALLER_SPIN_NS`` are compiled in.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib.util
import os
import platform
import sys
import threading
import types as types_module

import numpy as np

from . import HAVE_NUMBA
from . import numba, openblas
from .compile import Kernel, _in_disk_cache, kernel

__all__ = ["SPIN_S", "YIELD_BUSY_NS", "CALLER_SPIN_NS", "MAX_TASKS", "MAX_BATCH_DIMS", "MAX_THREADS", "SPREAD",
           "JOB", "DONE", "PY", "TEAM", "STATE", "HOME", "CHUNK_BITS", "MODE_CALL", "new_ctl", "new_desc",
           "gemm_functions", "supported", "functions", "BLOCK_SLOTS", "PerThread", "new_block", "range_spec",
           "range_functions", "kernel_address", "request_ranges"]

SPIN_S = 1e-3          # how long a worker watches for the next job before it sleeps
YIELD_BUSY_NS = 30000  # a yield that took longer: another thread wanted the core
CALLER_SPIN_NS = 100000  # how long the caller watches for the workers' last chunks before it naps
MAX_TASKS = 4
MAX_BATCH_DIMS = 4
CHUNK_BITS = 24
_NAME = "the thread pool's native jobs"
MAX_THREADS = 256     # threads that may join a native job (tids 0 .. MAX_THREADS - 1)
JOB, DONE, PY, TEAM, STATE = 0, 8, 16, 24, 32
HOME = STATE + 8 * MAX_THREADS
# Each thread of a job first takes chunks from its own run (``_post``): True gives thread t the t-th of
# equal runs, False gives every chunk to the calling thread's run (one queue that all take from).
SPREAD = True

# desc columns
(D_DTYPE, D_TA, D_TB, D_M, D_N, D_K, D_A, D_LDA, D_B, D_LDB, D_C, D_LDC, D_MODE, D_PER, D_CHUNKS, D_NB,
 D_ND, D_COPY_B) = range(18)
D_SHAPE, D_SA, D_SB, D_SC = 18, 22, 26, 30
D_WIDTH = 34
MODE_BATCH, MODE_ROWS, MODE_COLS, MODE_CALL = 0, 1, 2, 3
# a MODE_CALL row: chunk i is ``f(args, i, tid)``, f a range job's wrapper (``range_functions``) at desc[D_FN], args
# the address of its int64 argument block at desc[D_ARGS]
D_FN, D_ARGS = D_A, D_B
# fns entries
F_SGEMM, F_DGEMM, F_ILP64, F_CLOCK, F_YIELD, F_SLEEP, F_COUNT = range(7)


# x86's pause hint and glibc's clock_gettime / sched_yield / usleep are what the compiled code calls
_SUPPORTED = sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")


def new_ctl():
    """The control words of a pool of up to ``MAX_THREADS`` threads (see the module docstring)."""
    return np.zeros(HOME + 8 * MAX_THREADS, np.int64)


def new_desc():
    """The descriptor table of one job: ``MAX_TASKS`` rows of ``D_WIDTH`` int64."""
    return np.zeros((MAX_TASKS, D_WIDTH), np.int64)


def gemm_functions(module=np, libs="numpy.libs"):
    """(sgemm, dgemm, ILP64?) of numpy's bundled OpenBLAS (or with ``module=scipy, libs="scipy.libs"``
    SciPy's) as ctypes functions (Fortran interface), or None."""
    found = openblas.find(module, libs)
    if found is None:
        return None
    lib, prefix, suffix = found
    head = "scipy_" if prefix.startswith("scipy") else ""
    fns = []
    for name in ("sgemm_", "dgemm_"):
        f = getattr(lib, head + name + suffix, None)
        if f is None:
            return None
        f.argtypes, f.restype = [ctypes.c_void_p] * 13, None
        fns.append(f)
    return fns[0], fns[1], suffix == "64_"


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        clock = libc.clock_gettime
        clock.argtypes, clock.restype = [ctypes.c_int, ctypes.c_void_p], ctypes.c_int
        yield_ = libc.sched_yield
        yield_.argtypes, yield_.restype = [], ctypes.c_int
        sleep = libc.usleep
        sleep.argtypes, sleep.restype = [ctypes.c_uint], ctypes.c_int
        return clock, yield_, sleep
    except (OSError, AttributeError):  # pragma: no cover - not Linux / glibc
        return None


if HAVE_NUMBA:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def _slot(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])

    @intrinsic
    def _load(typingctx, arr, idx):
        """arr[idx], an atomic (sequentially consistent) load."""
        def cg(context, builder, sig, args):
            return builder.load_atomic(_slot(context, builder, sig, args), "seq_cst", 8)
        return types.int64(arr, idx), cg

    @intrinsic
    def _store(typingctx, arr, idx, val):
        """arr[idx] = val, an atomic (sequentially consistent) store."""
        def cg(context, builder, sig, args):
            builder.store_atomic(args[2], _slot(context, builder, sig, args), "seq_cst", 8)
            return context.get_dummy_value()
        return types.void(arr, idx, types.int64), cg

    @intrinsic
    def _cas(typingctx, arr, idx, old, new):
        """arr[idx] = new if it is old (atomically); whether it was."""
        def cg(context, builder, sig, args):
            res = builder.cmpxchg(_slot(context, builder, sig, args), args[2], args[3], "seq_cst", "seq_cst")
            return builder.extract_value(res, 1)
        return types.boolean(arr, idx, types.int64, types.int64), cg

    @intrinsic
    def _add(typingctx, arr, idx, val):
        """arr[idx] += val atomically; the new value."""
        def cg(context, builder, sig, args):
            old = builder.atomic_rmw("add", _slot(context, builder, sig, args), args[2], "seq_cst")
            return builder.add(old, args[2])
        return types.int64(arr, idx, types.int64), cg

    @intrinsic
    def _pause(typingctx):
        """The spin-wait hint (x86 ``pause``): a waiting core leaves its resources to its sibling."""
        def cg(context, builder, sig, args):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
            return context.get_dummy_value()
        return types.void(), cg

    @intrinsic
    def _ptr(typingctx, addr):
        """An int64 address as a void pointer."""
        def cg(context, builder, sig, args):
            return builder.inttoptr(args[0], ir.IntType(8).as_pointer())
        return types.voidptr(types.int64), cg

    def _c_codegen(ret):
        """Code that calls the C function at the first (integer) argument with the others: addresses passed as
        pointers (``ret`` "void"), or with ``ret`` "i32" C ints in and a C int out. The address is an
        argument, not a constant, so that the compiled code can be cached."""
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)

        def codegen(context, builder, sig, args):
            vals = [context.cast(builder, v, t, types.int64) for v, t in zip(args, sig.args)]
            if ret == "void":
                fnty = ir.FunctionType(ir.VoidType(), [i8p] * (len(vals) - 1))
                cargs = [builder.inttoptr(v, i8p) for v in vals[1:]]
            else:
                fnty = ir.FunctionType(i32, [i32] * (len(vals) - 1))
                cargs = [builder.trunc(v, i32) for v in vals[1:]]
            res = builder.call(builder.inttoptr(vals[0], fnty.as_pointer()), cargs)
            return context.get_dummy_value() if ret == "void" else res
        return codegen

    @intrinsic
    def _call13(typingctx, f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13):
        """f(a1, ..., a13), every argument an address passed as a pointer (Fortran ?gemm)."""
        return types.void(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), _c_codegen("void")

    @intrinsic
    def _call_range(typingctx, f, block, idx, tid):
        """f(block, idx, tid) for a Numba cfunc ``void(int64, int64, int64)`` at address ``f``."""
        def cg(context, builder, sig, args):
            i64 = ir.IntType(64)
            vals = [context.cast(builder, v, t, types.int64) for v, t in zip(args, sig.args)]
            # the cfunc's own LLVM type: it returns Numba's value type for None
            fnty = ir.FunctionType(context.get_value_type(types.none), [i64, i64, i64])
            builder.call(builder.inttoptr(vals[0], fnty.as_pointer()), vals[1:])
            return context.get_dummy_value()
        return types.void(f, block, idx, tid), cg

    @intrinsic
    def _call_kernel(typingctx, f, *args):
        """The kernel at address ``f`` called with ``args`` through the C entry point that Numba compiles with
        each function (its ``llvm_cfunc_wrapper_name``: Numba's value types by value, None's value type
        returned)."""
        def cg(context, builder, sig, llargs):
            fa = context.cast(builder, llargs[0], sig.args[0], types.int64)
            vals = cgutils.unpack_tuple(builder, llargs[1])     # the star arguments arrive as one tuple
            fnty = ir.FunctionType(context.get_value_type(types.none), [context.get_value_type(t) for t in args])
            builder.call(builder.inttoptr(fa, fnty.as_pointer()), vals)
            return context.get_dummy_value()
        return types.void(f, types.StarArgTuple(args)), cg

    @intrinsic
    def _call_int0(typingctx, f):
        """int f() (sched_yield)."""
        return types.int32(f), _c_codegen("i32")

    @intrinsic
    def _call_int1(typingctx, f, x):
        """int f(int x) (usleep)."""
        return types.int32(f, x), _c_codegen("i32")

    @intrinsic
    def _call_clock(typingctx, addr, ts):
        """clock_gettime(CLOCK_MONOTONIC, ts) for the function at ``addr``; ts: the address of two int64."""
        def cg(context, builder, sig, args):
            i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
            fa, ta = (context.cast(builder, v, t, types.int64) for v, t in zip(args, sig.args))
            fn = builder.inttoptr(fa, ir.FunctionType(i32, [i32, i8p]).as_pointer())
            return builder.call(fn, [ir.Constant(i32, 1), builder.inttoptr(ta, i8p)])
        return types.int32(addr, ts), cg

    from .compile import jit

    @jit(inline="always")
    def _now_ns(fns, ts):
        _call_clock(fns[F_CLOCK], ts.ctypes.data)
        return ts[0] * 1000000000 + ts[1]

    @jit
    def _gemm(fns, f64, ta, tb, m, n, k, a, lda, b, ldb, c, ldc, ints, flags, scal):
        """Row-major C (m, n) = op(A) op(B) at addresses a, b, c (ld*: row strides in elements); column-major
        BLAS sees the same memory as C^T = op(B)^T op(A)^T. ``ints``: room for 6 ints of the BLAS's width,
        ``scal``: [1.0, 0.0] as float64 then as float32 (alpha and beta in the dtype's width)."""
        flags[0] = 84 if tb else 78       # 'T' / 'N'
        flags[1] = 84 if ta else 78
        w = 8 if fns[F_ILP64] else 4
        vals = (n, m, k, ldb, lda, ldc)
        i32 = ints.view(np.int32)
        for i in range(6):
            if w == 8:
                ints[i] = vals[i]
            else:
                i32[i] = vals[i]
        p = ints.ctypes.data
        pf = flags.ctypes.data
        ps = scal.ctypes.data + (0 if f64 else 16)
        one = 8 if f64 else 4
        _call13(fns[F_DGEMM] if f64 else fns[F_SGEMM], pf, pf + 1, p, p + w, p + 2 * w, ps, b, p + 3 * w, a,
                p + 4 * w, ps + one, c, p + 5 * w)

    @jit(inline="always")
    def _copy_rows(src, ld, k, n, dst):
        """dst (k, n) row-major = the (k, n) matrix stored transposed at ``src`` (column c at src + c * ld)."""
        for c in range(n):
            for r in range(k):
                dst[r * n + c] = src[c * ld + r]

    @jit
    def _run_chunk(desc, idx, fns, tid):
        """Run flat chunk ``idx`` of the job in ``desc`` (tasks in rows, chunks numbered through them)."""
        t = 0
        while idx >= desc[t, D_CHUNKS]:
            idx -= desc[t, D_CHUNKS]
            t += 1
        if desc[t, D_MODE] == MODE_CALL:
            _call_range(desc[t, D_FN], desc[t, D_ARGS], idx, tid)
            return
        f64 = desc[t, D_DTYPE] == 1
        isz = 8 if f64 else 4
        ta, tb = desc[t, D_TA], desc[t, D_TB]
        m, n, k = desc[t, D_M], desc[t, D_N], desc[t, D_K]
        a, lda, b, ldb = desc[t, D_A], desc[t, D_LDA], desc[t, D_B], desc[t, D_LDB]
        c, ldc = desc[t, D_C], desc[t, D_LDC]
        mode, per = desc[t, D_MODE], desc[t, D_PER]
        ints = np.empty(6, np.int64)
        flags = np.empty(2, np.uint8)
        scal = np.empty(3, np.float64)
        scal[0] = 1.0
        scal[1] = 0.0
        sc32 = scal[2:].view(np.float32)
        sc32[0] = 1.0
        sc32[1] = 0.0
        if mode == MODE_ROWS:
            r0 = idx * per
            r1 = min(m, r0 + per)
            _gemm(fns, f64, ta, tb, r1 - r0, n, k, a + (r0 if ta else r0 * lda) * isz, lda, b, ldb,
                  c + r0 * ldc * isz, ldc, ints, flags, scal)
            return
        if mode == MODE_COLS:
            c0 = idx * per
            c1 = min(n, c0 + per)
            _gemm(fns, f64, ta, tb, m, c1 - c0, k, a, lda, b + (c0 * ldb if tb else c0) * isz, ldb,
                  c + c0 * isz, ldc, ints, flags, scal)
            return
        nb, nd = desc[t, D_NB], desc[t, D_ND]
        copy = desc[t, D_COPY_B] != 0 and tb != 0
        s32 = np.empty(k * n if copy and not f64 else 0, np.float32)
        s64 = np.empty(k * n if copy and f64 else 0, np.float64)
        span = (n - 1) * ldb + k
        i0 = idx * per
        for i in range(i0, min(nb, i0 + per)):
            oa = 0
            ob = 0
            oc = 0
            q = i
            for d in range(nd - 1, -1, -1):
                j = q % desc[t, D_SHAPE + d]
                q //= desc[t, D_SHAPE + d]
                oa += j * desc[t, D_SA + d]
                ob += j * desc[t, D_SB + d]
                oc += j * desc[t, D_SC + d]
            bi, ldbi, tbi = b + ob * isz, ldb, tb
            if copy:
                if f64:
                    _copy_rows(numba.carray(_ptr(bi), span, np.float64), ldb, k, n, s64)
                    bi = np.int64(s64.ctypes.data)   # int64 as b's: with uintp Numba would unify bi to float64
                else:
                    _copy_rows(numba.carray(_ptr(bi), span, np.float32), ldb, k, n, s32)
                    bi = np.int64(s32.ctypes.data)   # int64 as b's: with uintp Numba would unify bi to float64
                ldbi, tbi = n, 0
            _gemm(fns, f64, ta, tbi, m, n, k, a + oa * isz, lda, bi, ldbi, c + oc * isz, ldc, ints, flags, scal)

    _MASK = (1 << CHUNK_BITS) - 1

    @jit(inline="always")
    def _claim_from(ctl, slot):
        """Claim the next chunk of the run in ``ctl[slot]``: its flat index, or -1 when none is left there."""
        while True:
            w = _load(ctl, slot)
            idx = w & _MASK
            if idx >= (w >> CHUNK_BITS) & _MASK:
                return -1
            if _cas(ctl, slot, w, w + 1):
                return idx

    @jit(inline="always")
    def _claim(ctl, tid, team):
        """Claim a chunk of the current job for thread ``tid``: from its own run first, then from the others'
        (a thread that is late or slow does fewer); its flat index, or -1 when none is left."""
        for j in range(team):
            t = tid + j
            if t >= team:
                t -= team
            idx = _claim_from(ctl, HOME + 8 * t)
            if idx >= 0:
                return idx
        return -1

    @jit(inline="always")
    def _left(ctl, team):
        """Whether a chunk of the current job is still unclaimed."""
        for t in range(team):
            w = _load(ctl, HOME + 8 * t)
            if (w & _MASK) < (w >> CHUNK_BITS) & _MASK:
                return True
        return False

    def _serve(ctl, desc, tid, fns, spin_ns, py_seen):
        """A worker: run chunks of native jobs as they come; return 1 when a Python job was posted (``ctl[PY]``
        moved from ``py_seen``), 0 after ``spin_ns`` without work (the worker then sleeps)."""
        ts = np.empty(2, np.int64)
        me = STATE + 8 * tid
        _store(ctl, me, 1)
        idle_since = _now_ns(fns, ts)
        spins = 0
        while True:
            team = _load(ctl, TEAM)
            idx = _claim(ctl, tid, team) if tid < team else -1
            if idx >= 0:
                _run_chunk(desc, idx, fns, tid)
                _add(ctl, DONE, 1)
                idle_since = _now_ns(fns, ts)
                continue
            if _load(ctl, PY) != py_seen:
                _store(ctl, me, 0)
                return 1
            for _ in range(64):
                _pause()
            spins += 1
            now = _now_ns(fns, ts)
            busy = False
            if spins % 4 == 0:
                # a yield that kept this thread off its core for long: another thread needed the core (a
                # busy neighbour, or our calling thread), so stop watching and sleep
                _call_int0(fns[F_YIELD])
                busy = _now_ns(fns, ts) - now > YIELD_BUSY_NS
            if busy or now - idle_since > spin_ns:
                _store(ctl, me, 0)
                # a job posted as this worker stopped watching may have seen it watching and not woken it
                team = _load(ctl, TEAM)
                if tid < team and _left(ctl, team):
                    _store(ctl, me, 1)
                    idle_since = _now_ns(fns, ts)
                    continue
                return 1 if _load(ctl, PY) != py_seen else 0

    def _post(ctl, total, team, spread):
        """Publish a job of ``total`` chunks (``desc`` already written) for the threads tid < ``team``: with
        ``spread``, thread t's own run is the t-th of ``team`` equal runs of chunks (so that a thread works
        on the same part of the data from job to job, where its cache holds it), else thread 0's run is all
        of them (the others take from it)."""
        _store(ctl, DONE, 0)
        _store(ctl, TEAM, team)
        job = ((_load(ctl, JOB) >> (2 * CHUNK_BITS)) + 1) & 0x7FFF
        _store(ctl, JOB, job << (2 * CHUNK_BITS))
        for t in range(team):
            lo = t * total // team if spread else (0 if t == 0 else total)
            hi = (t + 1) * total // team if spread else total
            _store(ctl, HOME + 8 * t, (job << (2 * CHUNK_BITS)) | (hi << CHUNK_BITS) | lo)

    def _run(ctl, desc, total, fns, times):
        """The caller: run chunks until none is left, then wait for those that workers took. times[0]: ns on
        its own chunks, times[1]: ns waited."""
        ts = np.empty(2, np.int64)
        t0 = _now_ns(fns, ts)
        team = _load(ctl, TEAM)
        me = np.int64(0)    # typed int64, not the literal 0: _run_chunk then compiles once, as _serve calls it
        while True:
            idx = _claim(ctl, me, team)
            if idx < 0:
                break
            _run_chunk(desc, idx, fns, me)
            _add(ctl, DONE, 1)
        t1 = _now_ns(fns, ts)
        spins = 0
        while _load(ctl, DONE) < total:
            _pause()
            spins += 1
            if spins % 64 == 0 and _now_ns(fns, ts) - t1 > CALLER_SPIN_NS:
                # the worker is late (kept off its core?): sleep in short naps, so that this core is idle and
                # the OS may move the worker onto it
                _call_int1(fns[F_SLEEP], 20)
        times[0] = t1 - t0
        times[1] = _now_ns(fns, ts) - t1

    # one name, so that a slow compile of the three is announced once
    _SERVE = kernel(_NAME)(_serve)
    _POST = kernel(_NAME)(_post)
    _RUN = kernel(_NAME)(_run)


class _Native:
    """The compiled job functions, and ``fns``: the addresses of the C functions they call (``F_*``)."""
    __slots__ = ("fns", "serve", "post", "run")

    def __init__(self, fns):
        self.fns = fns
        self.serve = self.post = self.run = None

    def _args(self, ctl, desc):
        fns = self.fns
        return {_SERVE: (ctl, desc, 1, fns, 1, 1), _POST: (ctl, 1, 1, True), _RUN: (ctl, desc, 1, fns, ctl[:2])}

    def cached(self, ctl, desc):
        """Whether Numba's disk cache holds all the functions, so that asking for them only loads them
        (tens of milliseconds, against seconds for a compile)."""
        try:
            return all(_in_disk_cache(k.disp, tuple(numba.typeof(a) for a in args))
                       for k, args in self._args(ctl, desc).items())
        except Exception:  # noqa: BLE001 - no dispatcher (numpy only) or Numba's internals moved
            return False

    def compiled(self, ctl, desc, request=True):
        """Look up the compiled functions, requesting their compile if not yet (with ``request``); True once
        all are ready."""
        if self.run is not None:
            return True
        if not request and any("native" not in k.ready for k in (_SERVE, _POST, _RUN)):
            return False
        got = [k.get("native", a) for k, a in self._args(ctl, desc).items()]
        if any(g is None for g in got):
            return False
        self.serve, self.post, self.run = got
        return True


_found: list = []    # the one _Native (or None where native jobs cannot run), once looked for
_cached: list = []   # whether Numba's disk cache held its functions, once looked up


def _addresses():
    """``fns`` for ``_Native``, or None where numpy's OpenBLAS or glibc's functions are not found."""
    gemms, libc = gemm_functions(), _libc()
    if gemms is None or libc is None:
        return None
    fns = np.zeros(F_COUNT, np.int64)
    sg, dg, ilp64 = gemms
    for i, f in ((F_SGEMM, sg), (F_DGEMM, dg), (F_CLOCK, libc[0]), (F_YIELD, libc[1]), (F_SLEEP, libc[2])):
        fns[i] = ctypes.cast(f, ctypes.c_void_p).value
    fns[F_ILP64] = int(ilp64)
    return fns


def supported():
    """Whether native jobs can run here: Numba, x86-64 Linux, numpy's OpenBLAS and glibc's functions found."""
    if not HAVE_NUMBA or not _SUPPORTED:
        return False
    if not _found:
        fns = _addresses()
        _found.append(_Native(fns) if fns is not None else None)
    return _found[0] is not None


def functions(ctl, desc, request=True):
    """The ``_Native`` functions once compiled; None before (their compile is requested, in the background
    or not as ``compile.use`` says, unless ``request`` is False, or ``"cached"``: only where Numba's disk
    cache holds them, a load), and where native jobs cannot run (``supported()``)."""
    if not supported():
        return None
    nat = _found[0]
    if request == "cached":
        if not _cached:
            _cached.append(nat.cached(ctl, desc))
        request = _cached[0]
    if not nat.compiled(ctl, desc, request):
        return None
    return nat


# -- kernels over ranges as native jobs ------------------------------------------------------------------
# A parallel kernel ``k(*args, lo, hi)`` (an elementwise or row kernel over [lo, hi)) runs as a native job
# through two small functions compiled per kind of arguments (``range_spec``; kernels that take the same
# kinds share them): ``pack`` (called from Python with the arguments) writes the kernel's address and the
# arguments' addresses, shapes and values to an int64 block, and the job to the descriptor table; each
# chunk calls ``wrapper``, a cfunc ``void(block, i, tid)`` that reads the block back into arrays (a
# ``PerThread`` one as its row ``tid``) and numbers, and calls the kernel on chunk i's range through the C
# entry point that Numba compiles (and caches) with every function. The two are generated from a template
# into a module file in a cache folder, so that Numba caches them too: the first process compiles them
# (~0.3 s a kind, in the background), later ones load them (~10 ms). The kernels are called by address,
# so no kernel code is compiled again, and a changed kernel cannot leave stale code behind.

BLOCK_SLOTS = 64      # int64 slots of the argument block


def new_block():
    """The argument block of one range job (``BLOCK_SLOTS`` int64)."""
    return np.zeros(BLOCK_SLOTS, np.int64)


class PerThread:
    """An argument of a range job that each thread sees as its own row, ``a[tid]`` (per-thread scratch: a
    C-contiguous array with a row per thread of the team)."""
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a


def _array_ok(a):
    fl = a.flags
    return fl.c_contiguous and fl.aligned and fl.writeable and a.ndim > 0 and a.dtype.isnative


def range_spec(args):
    """How ``args`` travel in the argument block, one entry each: (dtype char, ndim) for a C-contiguous,
    aligned, writeable array of at least one dim, ("t", dtype char, ndim) for such an array in a
    ``PerThread``, "i" an int64, "b" a bool, "d" a float64, "f" a float32; None when one of them cannot
    (the kernel then runs as a Python job)."""
    spec = []
    slots = 3        # the kernel's address, the chunk length and the range's end
    for a in args:
        t = type(a)
        if t is np.ndarray:
            if not _array_ok(a):
                return None
            spec.append((a.dtype.char, a.ndim))
            slots += 1 + a.ndim
        elif t is PerThread:
            if type(a.a) is not np.ndarray or not _array_ok(a.a) or a.a.ndim < 2:
                return None
            spec.append(("t", a.a.dtype.char, a.a.ndim))
            slots += 1 + a.a.ndim
        elif t is bool or t is np.bool_:
            spec.append("b")
            slots += 1
        elif t is int or t is np.int64:
            spec.append("i")
            slots += 1
        elif t is float or t is np.float64:
            spec.append("d")
            slots += 1
        elif t is np.float32:
            spec.append("f")
            slots += 1
        else:
            return None
    return tuple(spec) if slots <= BLOCK_SLOTS else None


def _range_source(spec, cache):
    """The source of a module that defines ``wrapper`` and ``pack`` for ``spec`` (see above), their compiled
    code cached on disk when ``cache``."""
    names = [f"a{i}" for i in range(len(spec))]
    head = [f"# native range job for arguments of kinds {spec} (generated by autograd_core.kernels.native)",
            "import numpy as np", "from numba import carray, cfunc, njit, types",
            "from autograd_core.kernels.native import D_ARGS, D_CHUNKS, D_FN, D_MODE, MODE_CALL, _call_kernel, _ptr",
            "int64, float64, float32 = np.int64, np.float64, np.float32"]
    read = ["", "", f"@cfunc(types.void(types.int64, types.int64, types.int64), nogil=True, cache={cache})",
            "def wrapper(block, idx, tid):", "    b = carray(_ptr(block), L, int64)",
            "    f = carray(_ptr(block), L, float64)"]
    write = ["", "", f"@njit(nogil=True, cache={cache})",
             f"def pack(block, desc, kernel, wrapper, chunks, {''.join(n + ', ' for n in names)}per, n):",
             "    f = block.view(float64)", "    block[0] = kernel"]
    j = 1
    for i, s in enumerate(spec):
        a = names[i]
        if isinstance(s, tuple):
            ch, nd = s[-2:]
            head.append(f"dt{i} = np.dtype({ch!r}).type")
            shape = "".join(f"b[{j + 1 + d}], " for d in range(nd))
            row = "[tid]" if s[0] == "t" else ""
            read.append(f"    {a} = carray(_ptr(b[{j}]), ({shape}), dt{i}){row}")
            write.append(f"    block[{j}] = {a}.ctypes.data")
            write.extend(f"    block[{j + 1 + d}] = {a}.shape[{d}]" for d in range(nd))
            j += 1 + nd
        else:
            read.append(f"    {a} = " + {"i": "b[{j}]", "b": "b[{j}] != 0", "d": "f[{j}]",
                                          "f": "float32(f[{j}])"}[s].format(j=j))
            write.append(f"    {'f' if s in 'df' else 'block'}[{j}] = {'1 if ' + a + ' else 0' if s == 'b' else a}")
            j += 1
    head.append(f"L = {j + 2}")
    read += [f"    lo = idx * b[{j}]",
             f"    _call_kernel(b[0], {''.join(n + ', ' for n in names)}lo, min(b[{j + 1}], lo + b[{j}]))"]
    write += [f"    block[{j}] = per", f"    block[{j + 1}] = n",
              "    desc[0, D_MODE] = MODE_CALL", "    desc[0, D_FN] = wrapper",
              "    desc[0, D_ARGS] = block.ctypes.data", "    desc[0, D_CHUNKS] = chunks"]
    return "\n".join(head + read + write) + "\n"


def _range_cache_dir():
    """A writable folder for the range jobs' generated modules, so that Numba caches their compiled code next
    to them: ``autograd_core_ranges`` in ``NUMBA_CACHE_DIR``, else ``autograd_core/ranges`` in the user's
    cache folder; None where neither can be written (they then compile in memory, once per process)."""
    home = os.path.expanduser("~")
    base = numba.config.CACHE_DIR or os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(home, ".cache") if os.path.isabs(home) else "")
    if not os.path.isabs(base):
        return None     # no home folder: never a folder relative to the working directory
    path = os.path.join(base, "autograd_core_ranges" if numba.config.CACHE_DIR else os.path.join("autograd_core",
                                                                                                   "ranges"))
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK | os.X_OK) else None


_SELF_DIGEST: list = []


def _range_module(spec):
    """The module of ``wrapper`` and ``pack`` for ``spec``: a generated file imported from the cache folder
    (its name a digest of its text and of this file, so that a change of either makes a new one), or, where
    no folder can be written, the same source run in memory."""
    folder = _range_cache_dir()
    if folder is not None:
        src = _range_source(spec, True)
        if not _SELF_DIGEST:
            with open(__file__, "rb") as fh:
                _SELF_DIGEST.append(hashlib.sha1(fh.read()).hexdigest())
        digest = hashlib.sha1((src + _SELF_DIGEST[0] + numba.__version__).encode()).hexdigest()[:20]
        path = os.path.join(folder, f"range_{digest}.py")
        try:
            try:
                with open(path, encoding="utf-8") as fh:
                    same = fh.read() == src
            except (OSError, UnicodeDecodeError):
                same = False
            if not same:       # not there yet, or not what it should hold: (re)write it
                tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write(src)
                os.replace(tmp, path)      # atomic: another process may write the same file at once
            name = f"autograd_core_range_{digest}"
            spec_ = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec_)
            # registered as imported modules are: Numba's cache finds a function's module by its name
            sys.modules[name] = mod
            try:
                spec_.loader.exec_module(mod)
            except BaseException:
                del sys.modules[name]
                raise
            return mod
        except (OSError, ImportError, SyntaxError):
            pass
    mod = types_module.ModuleType("autograd_core_range")
    exec(compile(_range_source(spec, False), f"<native range job for {spec}>", "exec"), mod.__dict__)  # noqa: S102
    return mod


def _numba_types(spec, whole=False):
    """The Numba types of arguments of kinds ``spec`` as the kernel gets them (as ``numba.typeof`` gives them;
    a ``PerThread`` array's row), or with ``whole`` as ``pack`` gets them (a ``PerThread`` array whole)."""
    kinds = {"i": types.int64, "b": types.boolean, "d": types.float64, "f": types.float32}
    out = []
    for s in spec:
        if isinstance(s, tuple):
            ch, nd = s[-2:]
            out.append(types.Array(numba.from_dtype(np.dtype(ch)), nd - (s[0] == "t" and not whole), "C"))
        else:
            out.append(kinds[s])
    return out


class _RangeFunctions:
    """What a range job's ``Kernel`` compiles (``compile()``, on the background compile thread): ``pack`` (a
    Numba dispatcher that compiles nothing more: arguments of other kinds raise TypeError) and the address
    of ``wrapper``."""
    __slots__ = ("spec", "pack", "address", "cfunc")

    def __init__(self, spec):
        self.spec = spec
        self.pack, self.address, self.cfunc = None, 0, None

    def compile(self, sig):
        mod = _range_module(self.spec)
        i64 = types.int64
        mod.pack.compile((types.Array(i64, 1, "C"), types.Array(i64, 2, "C"), i64, i64, i64,
                          *_numba_types(self.spec, whole=True), i64, i64))
        mod.pack.disable_compile()
        self.cfunc, self.address, self.pack = mod.wrapper, mod.wrapper.address, mod.pack


def kernel_address(disp, spec):
    """The address of the C entry point of the Numba dispatcher ``disp`` compiled for arguments of kinds
    ``spec`` and the range's two ints (as ``Kernel.get`` compiles a kernel), or 0 where there is none."""
    try:
        cres = disp.overloads.get(tuple(_numba_types(spec)) + (types.int64, types.int64))
        if cres is None:
            return 0
        return int(cres.library.get_pointer_to_function(cres.fndesc.llvm_cfunc_wrapper_name) or 0)
    except Exception:  # noqa: BLE001 - Numba's internals moved: the kernel stays a Python job
        return 0


_RANGES: dict = {}    # spec -> the range job's Kernel


def range_functions(args, request):
    """(compiled ``_RangeFunctions``, spec) that run a kernel on ``args`` as a native job, or None: the
    arguments cannot travel in a block, or the functions are not compiled yet (asked for now when
    ``request``; else only noted, for ``request_ranges``)."""
    if not supported():
        return None
    spec = range_spec(args)
    if spec is None:
        return None
    w = _RANGES.get(spec)
    if w is None:
        w = _RANGES[spec] = Kernel("kernels as native jobs", None, {}, disp=_RangeFunctions(spec))
    d = w.ready.get("native")
    if d is None and request and not w.pending and not w.failed:
        d = w.get("native", (0, 0))
    return (d, spec) if d is not None else None


def request_ranges():
    """Ask for the compile of every range job noted so far and not yet asked for."""
    for w in list(_RANGES.values()):
        if "native" not in w.ready and not w.pending and not w.failed:
            w.get("native", (0, 0))

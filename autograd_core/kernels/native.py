"""Matrix products handed between our threads without the GIL: the pool's native jobs.

A parallel product on the pool (``blas``) is cut into chunks (blocks of rows or columns of one product,
runs of a stack's items, or whole products side by side), each one gemm call or a few. Posted as a
Python job, each hand-over costs two GIL waits, and a thread that waits for the GIL sleeps: on a
2-vCPU virtual machine a worker started its chunk ~20 us after the job was posted and the caller
woke ~20 us after the last chunk, on a ~300 us product. A native job is a table of int64 descriptors
instead (operand addresses, shapes, strides), and the chunks are claimed, run and counted in compiled
code that never takes the GIL:

* a worker that has just finished a job watches for the next one for ``SPIN_S`` (the products of a
  training step come every 0.1-1 ms), then sleeps on its lock as before; it yields its core every few
  microseconds meanwhile, and sleeps at once when a yield shows that another thread wanted the core (a
  busy neighbour process, or our own calling thread);
* the caller wakes only sleeping workers, claims chunks too, and when none are left waits for the
  chunks that workers took, so a worker that has not started costs nothing (as with Python jobs);
* a Python job posted meanwhile sends a watching worker back to Python.

The gemm is numpy's bundled OpenBLAS (the one ``np.matmul`` calls), through its Fortran interface, as
``np.matmul`` would call it on the same blocks. ``functions()`` is None without Numba, without numpy's
OpenBLAS, off x86-64 Linux, or while the code compiles (in the background, as the kernels do).

``ctl`` (int64; each field on its own cache line): ``ctl[CLAIM]`` = job number (15 bits) << 48 | chunks
<< 24 | next chunk, so that a claim is one compare-and-swap; ``ctl[DONE]``: chunks finished;
``ctl[PY]`` moves when a Python job is posted; threads with tid < ``ctl[TEAM]`` may join the job;
``ctl[STATE + 8 * tid]`` is 1 while worker ``tid`` watches. A row of ``desc`` describes one task (a
product or a stack of them) and how it is chunked (the ``D_*`` columns). ``YIELD_BUSY_NS`` and
``CALLER_SPIN_NS`` are compiled in.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform
import sys

import numpy as np

from . import HAVE_NUMBA
from . import numba, openblas
from .compile import kernel

__all__ = ["SPIN_S", "YIELD_BUSY_NS", "CALLER_SPIN_NS", "MAX_TASKS", "MAX_BATCH_DIMS", "CLAIM", "DONE", "PY",
           "TEAM", "STATE", "CHUNK_BITS", "new_ctl", "new_desc", "gemm_functions", "functions"]

SPIN_S = 1e-3          # how long a worker watches for the next job before it sleeps
YIELD_BUSY_NS = 30000  # a yield that took longer: another thread wanted the core
CALLER_SPIN_NS = 100000  # how long the caller watches for the workers' last chunks before it naps
MAX_TASKS = 4
MAX_BATCH_DIMS = 4
CHUNK_BITS = 24
_NAME = "products on the thread pool (native jobs)"
CLAIM, DONE, PY, TEAM, STATE = 0, 8, 16, 24, 32

# desc columns
(D_DTYPE, D_TA, D_TB, D_M, D_N, D_K, D_A, D_LDA, D_B, D_LDB, D_C, D_LDC, D_MODE, D_PER, D_CHUNKS, D_NB,
 D_ND, D_COPY_B) = range(18)
D_SHAPE, D_SA, D_SB, D_SC = 18, 22, 26, 30
D_WIDTH = 34
MODE_BATCH, MODE_ROWS, MODE_COLS = 0, 1, 2
# fns entries
F_SGEMM, F_DGEMM, F_ILP64, F_CLOCK, F_YIELD, F_SLEEP, F_COUNT = range(7)


# x86's pause hint and glibc's clock_gettime / sched_yield / usleep are what the compiled code calls
_SUPPORTED = sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")


def new_ctl(max_threads=256):
    """The control words of a pool of up to ``max_threads`` threads (see the module docstring)."""
    return np.zeros(STATE + 8 * max_threads, np.int64)


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
    def _run_chunk(desc, idx, fns):
        """Run flat chunk ``idx`` of the job in ``desc`` (tasks in rows, chunks numbered through them)."""
        t = 0
        while idx >= desc[t, D_CHUNKS]:
            idx -= desc[t, D_CHUNKS]
            t += 1
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
                    bi = s64.ctypes.data
                else:
                    _copy_rows(numba.carray(_ptr(bi), span, np.float32), ldb, k, n, s32)
                    bi = s32.ctypes.data
                ldbi, tbi = n, 0
            _gemm(fns, f64, ta, tbi, m, n, k, a + oa * isz, lda, bi, ldbi, c + oc * isz, ldc, ints, flags, scal)

    _MASK = (1 << CHUNK_BITS) - 1

    @jit(inline="always")
    def _claim(ctl):
        """Claim the next chunk of the current job: its flat index, or -1 when none is left."""
        while True:
            w = _load(ctl, CLAIM)
            idx = w & _MASK
            if idx >= (w >> CHUNK_BITS) & _MASK:
                return -1
            if _cas(ctl, CLAIM, w, w + 1):
                return idx

    def _serve(ctl, desc, tid, fns, spin_ns, py_seen):
        """A worker: run chunks of native jobs as they come; return 1 when a Python job was posted (``ctl[PY]``
        moved from ``py_seen``), 0 after ``spin_ns`` without work (the worker then sleeps)."""
        ts = np.empty(2, np.int64)
        me = STATE + 8 * tid
        _store(ctl, me, 1)
        idle_since = _now_ns(fns, ts)
        spins = 0
        while True:
            idx = _claim(ctl) if tid < _load(ctl, TEAM) else -1
            if idx >= 0:
                _run_chunk(desc, idx, fns)
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
                w = _load(ctl, CLAIM)
                if (w & _MASK) < (w >> CHUNK_BITS) & _MASK and tid < _load(ctl, TEAM):
                    _store(ctl, me, 1)
                    idle_since = _now_ns(fns, ts)
                    continue
                return 1 if _load(ctl, PY) != py_seen else 0

    def _post(ctl, total, team):
        """Publish a job of ``total`` chunks (``desc`` already written) for the threads tid < ``team``."""
        _store(ctl, DONE, 0)
        _store(ctl, TEAM, team)
        job = ((_load(ctl, CLAIM) >> (2 * CHUNK_BITS)) + 1) & 0x7FFF
        _store(ctl, CLAIM, (job << (2 * CHUNK_BITS)) | (total << CHUNK_BITS))

    def _run(ctl, desc, total, fns, times):
        """The caller: run chunks until none is left, then wait for those that workers took. times[0]: ns on
        its own chunks, times[1]: ns waited."""
        ts = np.empty(2, np.int64)
        t0 = _now_ns(fns, ts)
        while True:
            idx = _claim(ctl)
            if idx < 0:
                break
            _run_chunk(desc, idx, fns)
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

    def compiled(self, ctl, desc, request=True):
        """Look up the compiled functions, requesting their compile if not yet (with ``request``); True once
        all are ready."""
        if self.run is not None:
            return True
        if not request and any("native" not in k.ready for k in (_SERVE, _POST, _RUN)):
            return False
        fns = self.fns
        args = {_SERVE: (ctl, desc, 1, fns, 1, 1), _POST: (ctl, 1, 1), _RUN: (ctl, desc, 1, fns, ctl[:2])}
        got = [k.get("native", a) for k, a in args.items()]
        if any(g is None for g in got):
            return False
        self.serve, self.post, self.run = got
        return True


_found: list = []    # the one _Native (or None where native jobs cannot run), once looked for


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


def functions(ctl, desc, request=True):
    """The ``_Native`` functions once compiled; None before (their compile is requested, in the background
    or not as ``compile.use`` says, unless ``request`` is False), off x86-64 Linux, and where numpy's
    OpenBLAS or glibc is not found."""
    if not HAVE_NUMBA or not _SUPPORTED:
        return None
    if not _found:
        fns = _addresses()
        _found.append(_Native(fns) if fns is not None else None)
    nat = _found[0]
    if nat is None or not nat.compiled(ctl, desc, request):
        return None
    return nat

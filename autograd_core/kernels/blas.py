"""BLAS gemm callable from inside Numba kernels (SciPy's ``cython_blas`` function pointers).

Why: a convolution over a batch is many small matmuls. Called from numpy, each one is a Python-level
call on one thread (OpenBLAS does not thread matrices this small), so the batch cannot use a second
core. Called from a Numba ``prange`` loop, each thread builds one image's columns in its own cache
and multiplies them at once, and the images spread over all threads.

``gemm_fn(dtype)`` gives the ctypes function for float32/float64; kernels take it as an argument
(so their compiled code can still be cached) and call it through ``gemm``. ``HAVE_BLAS`` is False
when SciPy or Numba is missing; callers then use numpy's matmul.

Kernels that call gemm from several threads run inside ``single_threaded()``, which keeps that BLAS
on the calling thread for any size (SciPy's bundled OpenBLAS); ``gemm_limit()`` is the largest
m*n*k one call may have (no limit when that works, else OpenBLAS's own single-thread size).
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np

from . import HAVE_NUMBA, numba

__all__ = ["HAVE_BLAS", "gemm_fn", "gemm", "gemm_limit", "single_threaded", "matmul", "MAX_SINGLE_THREAD_WORK"]

# OpenBLAS runs a gemm on the calling thread alone when m*n*k <= 65536 * GEMM_MULTITHREAD_THRESHOLD
# (4 by default; interface/gemm.c). Above that it hands the product to its own thread pool, and when
# several threads call it at once like that, each call can stall for milliseconds (measured: 8 ms for
# a 1.5e6 product from 2 Numba threads, instead of 0.05 ms). Where ``single_threaded()`` cannot set
# the BLAS to one thread, kernels that call gemm from many threads keep every call at or under this.
MAX_SINGLE_THREAD_WORK = 1 << 18

_FNS = {}


def _capsule_pointer(capsule):
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))


def _load():
    from scipy.linalg import cython_blas
    proto = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * 13))   # Fortran ?gemm: every argument by pointer
    return {np.dtype(np.float32): proto(_capsule_pointer(cython_blas.__pyx_capi__["sgemm"])),
            np.dtype(np.float64): proto(_capsule_pointer(cython_blas.__pyx_capi__["dgemm"]))}


HAVE_BLAS = False
if HAVE_NUMBA:
    try:
        _FNS = _load()
        HAVE_BLAS = True
    except (ImportError, KeyError, AttributeError, ValueError):  # pragma: no cover - SciPy missing
        _FNS = {}


def gemm_fn(dtype):
    """The ctypes ?gemm for ``dtype`` (float32 or float64), or None."""
    return _FNS.get(np.dtype(dtype))


def _thread_control():
    """(get, set) num_threads of the OpenBLAS that SciPy's wheels bundle (the one cython_blas calls),
    or None (another BLAS, or not found)."""
    import scipy
    site = os.path.dirname(os.path.dirname(os.path.abspath(scipy.__file__)))
    for path in sorted(glob.glob(os.path.join(site, "scipy.libs", "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)   # already loaded by SciPy: the same library instance
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            try:
                get, set_ = getattr(lib, prefix + "get_num_threads"), getattr(lib, prefix + "set_num_threads")
            except AttributeError:
                continue
            get.restype, set_.argtypes, set_.restype = ctypes.c_int, [ctypes.c_int], None
            return get, set_
    return None


_CONTROL = None
if HAVE_BLAS:
    try:
        _CONTROL = _thread_control()
    except (ImportError, OSError):  # pragma: no cover
        _CONTROL = None


class _SingleThreaded:
    """Context manager: SciPy's OpenBLAS on one thread inside, the user's setting restored after the
    outermost block (a class, not contextlib: it wraps every kernel call)."""
    __slots__ = ("lock", "depth", "saved")

    def __init__(self):
        self.lock = threading.Lock()
        self.depth = 0
        self.saved = 1

    def __enter__(self):
        if _CONTROL is not None:
            with self.lock:
                if self.depth == 0:
                    self.saved = _CONTROL[0]()
                    if self.saved != 1:
                        _CONTROL[1](1)
                self.depth += 1
        return self

    def __exit__(self, *exc):
        if _CONTROL is not None:
            with self.lock:
                self.depth -= 1
                if self.depth == 0 and self.saved != 1:
                    _CONTROL[1](self.saved)
        return False


_SINGLE = _SingleThreaded()


def single_threaded():
    """``with single_threaded():`` SciPy's OpenBLAS runs every call on the calling thread (so Numba threads
    can call it at once, with any size); the user's setting comes back when the outermost block ends."""
    return _SINGLE


def gemm_limit():
    """The largest m*n*k for one gemm call from a multi-threaded kernel inside ``single_threaded()``."""
    return (1 << 62) if _CONTROL is not None else MAX_SINGLE_THREAD_WORK


if HAVE_NUMBA:
    @numba.njit(cache=True, nogil=True)
    def gemm(f, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
        """Row-major ``C (m, n) = op(A) @ op(B) + beta C`` on flat arrays that start at the first
        element; ``ta``/``tb`` transpose A (stored k x m) / B (stored n x k); ld* are row strides.
        Column-major BLAS sees the same memory transposed, so it computes C^T = op(B)^T op(A)^T."""
        ip = np.empty(6, np.int32)
        fp = np.empty(2, c.dtype)
        cp = np.empty(2, np.uint8)
        cp[0] = ord("T") if tb else ord("N")
        cp[1] = ord("T") if ta else ord("N")
        ip[0], ip[1], ip[2], ip[3], ip[4], ip[5] = n, m, k, ldb, lda, ldc
        fp[0], fp[1] = 1.0, beta
        f(cp[0:].ctypes, cp[1:].ctypes, ip[0:].ctypes, ip[1:].ctypes, ip[2:].ctypes, fp[0:].ctypes,
          b.ctypes, ip[3:].ctypes, a.ctypes, ip[4:].ctypes, fp[1:].ctypes, c.ctypes, ip[5:].ctypes)
else:  # pragma: no cover
    gemm = None


# -- 2-D matmul on Numba's threads ---------------------------------------------------------------------
# numpy's matmul hands a big product to OpenBLAS's own thread pool, whose threads then busy-wait for
# the next call (about 0.1 s), on the very cores the Numba kernels run on next: a LeNet-5 step at 2
# threads took 11.6 ms this way and 8.2 ms with BLAS kept to one thread. So products too big for one
# BLAS thread are cut into blocks that Numba's threads multiply, each block one single-threaded call:
# one thread pool (Numba's) serves the whole step.
if HAVE_BLAS:
    @numba.njit(cache=True, nogil=True, parallel=True)
    def _gemm_blocks(f, a, ta, lda, b, tb, ldb, c, n, m, k, rb, cb):
        nbr, nbc = (n + rb - 1) // rb, (m + cb - 1) // cb
        for t in numba.prange(nbr * nbc):
            i, j = t // nbc, t % nbc
            r0, c0 = i * rb, j * cb
            r1, c1 = min(n, r0 + rb), min(m, c0 + cb)
            aoff = r0 if ta else r0 * lda
            boff = c0 * ldb if tb else c0
            gemm(f, ta, tb, r1 - r0, c1 - c0, k, a[aoff:], lda, b[boff:], ldb, 0.0, c[r0 * m + c0:], m)


def _blas_operand(a):
    """(flat memory, transposed?, row stride) of a 2-D array as BLAS reads it, or None if it needs a copy."""
    s0, s1 = a.strides
    it = a.itemsize
    if s1 == it and s0 >= it * max(1, a.shape[1]) and s0 % it == 0:
        return a, False, s0 // it
    if s0 == it and s1 >= it * max(1, a.shape[0]) and s1 % it == 0:
        return a.T, True, s1 // it
    return None


def matmul(a, b):
    """``a (n, k) @ b (k, m)`` for 2-D arrays. Float32/float64 products too big for one BLAS thread run on
    Numba's threads, one block of rows (or columns) per thread, each block one single-threaded gemm call
    (see above); everything else is ``np.matmul``."""
    if not HAVE_BLAS or a.ndim != 2 or b.ndim != 2:
        return np.matmul(a, b)
    n, k = a.shape
    m = b.shape[1]
    # small products (the common case on the per-op hot path) leave first
    if (n * k * m <= MAX_SINGLE_THREAD_WORK or k != b.shape[0] or a.dtype != b.dtype or a.dtype not in _FNS
            or numba.get_num_threads() < 2):
        return np.matmul(a, b)
    if _CONTROL is not None:          # BLAS set to one thread: any block size, one block per thread
        T = numba.get_num_threads()
        rb, cb = (-(-n // T), m) if n >= m else (n, -(-m // T))
    else:                             # blocks of at most MAX_SINGLE_THREAD_WORK, and not too many of them
        limit = MAX_SINGLE_THREAD_WORK
        if n * k * m > 32 * limit:
            return np.matmul(a, b)
        nbr = nbc = 1
        rb, cb = n, m
        while rb * cb * k > limit and (rb > 1 or cb > 1):   # split the longer side of the block until it fits
            if rb >= cb:
                nbr += 1
                rb = -(-n // nbr)
            else:
                nbc += 1
                cb = -(-m // nbc)
        if rb * cb * k > limit:       # k alone is too long: one call would start BLAS's threads anyway
            return np.matmul(a, b)
    (a2, ta, lda) = _blas_operand(a) or _blas_operand(np.ascontiguousarray(a))
    (b2, tb, ldb) = _blas_operand(b) or _blas_operand(np.ascontiguousarray(b))
    out = np.empty((n, m), a.dtype)
    with single_threaded():
        _gemm_blocks(_FNS[a.dtype], _flat(a2), ta, lda, _flat(b2), tb, ldb, out.reshape(-1), n, m, k, rb, cb)
    return out


def _flat(a):
    """The 1-D memory a C-ordered (possibly row-padded) 2-D array starts at, as far as BLAS reads it."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    rows, cols = a.shape
    s0 = a.strides[0] // a.itemsize
    return np.lib.stride_tricks.as_strided(a, ((rows - 1) * s0 + cols,), (a.itemsize,))

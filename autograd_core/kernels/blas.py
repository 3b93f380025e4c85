"""BLAS gemm callable from inside Numba kernels, and (batched) matmul on our one thread pool.

``gemm`` calls SciPy's ``cython_blas`` ?gemm through its function pointer (``gemm_fn(dtype)``, a kernel
argument, so the compiled code can still be cached). ``HAVE_BLAS`` is False without SciPy or Numba.

``matmul(a, b)`` is numpy's matmul (2-D, batched, broadcast batch dims, any strides BLAS can read) for
float32/float64, on ``get_num_threads()`` threads. Small products (under ``PAR_WORK`` multiply-adds) run
on the calling thread, numpy's bundled OpenBLAS held to one thread for the call. A bigger product runs on
our pool: one 2-D product in blocks of rows (of columns when it is wider than tall), a stack of products
in runs of batch items per chunk; each chunk numpy's OpenBLAS on one thread, called from compiled code
as a native job (``native``: no GIL hand-overs, so the threshold is lower, ``NATIVE_PAR_WORK``) or else
as ``np.matmul`` on slices, or, where numpy's OpenBLAS cannot be controlled, by SciPy's gemm from a
Numba kernel inside ``single_threaded()``.
``matmuls`` runs independent products side by side, one per thread (a Linear's two gradients). The
user's OpenBLAS setting is restored after every call, so numpy's own products elsewhere are left as
they were. (Stacked products whose items numpy cannot hand to BLAS, attention's transposed views,
would otherwise run numpy's slow non-BLAS loop.)

Why never OpenBLAS's own threads: after each threaded call they spin for about 130 ms (measured:
a whole core busy while the process sleeps), so in a training step, where products come every few
milliseconds, one core is never free: our pool's worker, or a neighbour process, gets a share of it.
On a 2-core virtual machine a small GPT step at 2 threads went from 1.6x PyTorch's time to 1.3x with
its products on the pool and a Linear's two gradients side by side (LeNet-5 1.12x to 0.99x, an MLP
1.14x to 1.05x; median ratios of eight to ten runs, each library in its own process), although one
product alone is up to ~25 % faster on OpenBLAS's threads (they share the packed operands).
"""
from __future__ import annotations

import ctypes
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import HAVE_NUMBA
from .compile import jit, kernel, numba_active
from . import native, openblas
from .threads import native_functions, parallel_for, parallel_gemms, threads_now

__all__ = ["HAVE_BLAS", "gemm_fn", "gemm", "gemm_limit", "kernel_gemm", "numpy_gemm_addresses", "single_threaded",
           "numpy_blas_on_one_thread", "matmul",
           "matmuls", "blas_operand",
           "MAX_SINGLE_THREAD_WORK", "MIN_WORK", "PAR_WORK", "NATIVE_PAR_WORK", "NATIVE_JOBS",
           "SIDE_BY_SIDE_WORK"]

# OpenBLAS runs a gemm on the calling thread alone when m*n*k <= 65536 * GEMM_MULTITHREAD_THRESHOLD
# (4 by default; interface/gemm.c). Where ``single_threaded()`` cannot set the BLAS to one thread,
# kernels that call gemm from several threads keep every call at or under this.
MAX_SINGLE_THREAD_WORK = 1 << 18
# Products smaller than this (multiply-adds) go to np.matmul: below it numpy's OpenBLAS stays on the
# calling thread anyway and our dispatch (~15 us) would cost more than it saves.
MIN_WORK = 1 << 17
# Products smaller than this run on the calling thread alone: handing a share to another thread costs
# two GIL hand-overs (~10 us each on a virtual machine), as much as a 4M multiply-add product saves.
PAR_WORK = 1 << 23
# Lowering numpy's OpenBLAS thread count, even for one call, puts its other threads to sleep, and the
# user's next multi-threaded numpy product waits to wake them: on a virtual machine a (1024, 128) @
# (128, 384) product took ~500 us after a 2 -> 1 -> 2 change against ~400 without. So the count is
# lowered only where OpenBLAS would otherwise thread a gemm (over MAX_SINGLE_THREAD_WORK).
_KEEP_BLAS_THREADS = True


def _keep_blas_threads(item):
    """Whether a gemm of ``item`` multiply-adds may run with numpy's OpenBLAS count as it is (one thread)."""
    return _KEEP_BLAS_THREADS and item <= MAX_SINGLE_THREAD_WORK

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


def _thread_control(module=None, libs="scipy.libs"):
    """(get, set) num_threads of that OpenBLAS (see ``openblas.find``), or None."""
    found = openblas.find(module, libs)
    if found is None:
        return None
    lib, prefix, suffix = found
    try:
        get = getattr(lib, prefix + "get_num_threads" + suffix)
        set_ = getattr(lib, prefix + "set_num_threads" + suffix)
    except AttributeError:
        return None
    get.restype, set_.argtypes, set_.restype = ctypes.c_int, [ctypes.c_int], None
    return get, set_


def _core_name(module=None, libs="scipy.libs"):
    """The kernel family that OpenBLAS picked for this CPU ("Haswell", "SkylakeX", "Zen", ...), or ""."""
    found = openblas.find(module, libs)
    if found is None:
        return ""
    lib, prefix, suffix = found
    fn = getattr(lib, prefix + "get_corename" + suffix, None)
    if fn is None:
        return ""
    fn.restype = ctypes.c_char_p
    return (fn() or b"").decode("ascii", "replace")


_CONTROL = None
if HAVE_BLAS:
    try:
        _CONTROL = _thread_control()
    except (ImportError, OSError):  # pragma: no cover
        _CONTROL = None
try:
    _NP_CONTROL = _thread_control(np, "numpy.libs")
    _NP_CORE = _core_name(np, "numpy.libs")
except OSError:  # pragma: no cover
    _NP_CONTROL, _NP_CORE = None, ""
# OpenBLAS's AVX-512 kernel families have small-matrix gemm kernels, and theirs for a right operand stored
# transposed (attention's k^T) ran ~25 % slower than a copy plus the plain product; the other families
# (AVX2's Haswell and Zen among them) pack either layout alike, and there the copy cost 10-15 %.
_COPY_TRANSPOSED_B = _NP_CORE.lower() in ("skylakex", "cooperlake", "sapphirerapids")
# Those families also multiply a product of at most 100^3 multiply-adds by their small-matrix kernels, which
# skip packing: a (16, 128) @ (128, 512) step of a recurrent layer took 31 us whole and 22 us as two column
# halves, (16, 512) @ (512, 128) 38 and 27 us. Elsewhere (Haswell's kernels) the halves were 5-15 % slower.
_SMALL_GEMM_MNK = 1_000_000 if _COPY_TRANSPOSED_B else 0


def small_gemm_kernels():
    """Whether numpy's OpenBLAS has the small-matrix gemm kernels (its AVX-512 families)."""
    return _SMALL_GEMM_MNK > 0


def column_block(m, n, k):
    """The width of the column blocks in which to multiply (m, k) @ (k, n) with numpy's OpenBLAS: blocks of
    at most 100^3 multiply-adds (a multiple of 16 columns, about equal) where its small-matrix kernels take
    them and the whole product is larger, else n."""
    limit = _SMALL_GEMM_MNK
    if limit == 0 or m * n * k <= limit or m * k * 16 > limit:
        return n
    parts = -(-m * n * k // limit)
    while True:
        nb = -(-(-(-n // parts)) // 16) * 16
        if m * nb * k <= limit:
            return nb
        parts += 1


class _SingleThreaded:
    """Context manager: an OpenBLAS (the thread control held in the module global ``name``: SciPy's
    ``_CONTROL`` or numpy's ``_NP_CONTROL``) on one thread inside, the user's setting restored after the
    outermost block (a class, not contextlib: it wraps every kernel call)."""
    __slots__ = ("name", "lock", "depth", "saved")

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.depth = 0
        self.saved = 1

    def __enter__(self):
        control = globals()[self.name]
        if control is not None:
            with self.lock:
                if self.depth == 0:
                    self.saved = control[0]()
                    if self.saved != 1:
                        control[1](1)
                self.depth += 1
        return self

    def __exit__(self, *exc):
        control = globals()[self.name]
        if control is not None:
            with self.lock:
                self.depth -= 1
                if self.depth == 0 and self.saved != 1:
                    control[1](self.saved)
        return False


_SINGLE = _SingleThreaded("_CONTROL")
_NP_SINGLE = _SingleThreaded("_NP_CONTROL")


def single_threaded():
    """``with single_threaded():`` SciPy's OpenBLAS runs every call on the calling thread (so our threads can
    call it at once, with any size); the user's setting comes back when the outermost block ends."""
    return _SINGLE


def numpy_blas_on_one_thread():
    """A block of small products in a loop (a recurrent layer's steps) with numpy's OpenBLAS on the calling
    thread throughout: ``matmul`` then leaves its thread count alone at each product, where it would
    otherwise lower it and restore it around every one over 2^18 multiply-adds.

    >>> import numpy as np
    >>> from autograd_core import kernels
    >>> with kernels.blas.numpy_blas_on_one_thread():
    ...     kernels.blas.matmul(np.ones((16, 128)), np.ones((128, 512))).shape
    (16, 512)
    """
    return _NP_SINGLE


def gemm_limit():
    """The largest m*n*k for one gemm call from a multi-threaded kernel inside ``single_threaded()``."""
    return (1 << 62) if _CONTROL is not None else MAX_SINGLE_THREAD_WORK


_NUMPY_GEMM: list = []


def numpy_gemm_addresses():
    """numpy's OpenBLAS ?gemm addresses, as ``native._gemm`` and ``gemm`` take them (an int64 array), or None:
    not x86-64 Linux, no Numba, or numpy's OpenBLAS not found."""
    if not _NUMPY_GEMM:
        _NUMPY_GEMM.append(native._addresses() if HAVE_NUMBA and native._SUPPORTED else None)
    return _NUMPY_GEMM[0]


def kernel_gemm(dtype):
    """(f, limit, hold) for kernels that call ``gemm`` from several threads: numpy's OpenBLAS by address where
    its thread count can be held (a newer build than SciPy's here: (16, 144) @ (144, 1086), a convolution's
    product per image, 66 against 92 us), else SciPy's ?gemm; the largest m*n*k for one call; and the
    context that holds that BLAS to one thread around the kernels."""
    fns = numpy_gemm_addresses() if _NP_CONTROL is not None else None
    if fns is not None:
        return fns, 1 << 62, numpy_blas_on_one_thread
    return gemm_fn(dtype), gemm_limit(), single_threaded


def gemm(f, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """Row-major ``C (m, n) = op(A) @ op(B) + beta C`` on flat arrays that start at the first
    element; ``ta``/``tb`` transpose A (stored k x m) / B (stored n x k); ld* are row strides.
    Column-major BLAS sees the same memory transposed, so it computes C^T = op(B)^T op(A)^T. ``f``: SciPy's
    ctypes ?gemm (``gemm_fn``) or numpy's OpenBLAS addresses (``numpy_gemm_addresses``). Compiled code only.

    Numba's disk cache keys a kernel on its own module's source file only: after a change here, delete the
    kernels' cache files (``__pycache__/*.nbi``, ``*.nbc``) so that the kernels that call this recompile.
    (It is a call, not inlined into each call site: a convolution kernel with three call sites compiled
    ~1 s faster.)"""
    raise NotImplementedError("blas.gemm is called from Numba kernels")


if HAVE_NUMBA:
    from numba import types as _types
    from numba.extending import overload as _overload

    @_overload(gemm)
    def _gemm_overload(f, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
        if isinstance(f, _types.Array):
            def by_address(f, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
                ints = np.empty(6, np.int64)
                flags = np.empty(2, np.uint8)
                scal = np.empty(3, np.float64)
                scal[0] = 1.0
                scal[1] = beta
                sc32 = scal[2:].view(np.float32)
                sc32[0] = 1.0
                sc32[1] = beta
                # argument types as the pool's chunks pass them (a runtime bool, int64 flags and addresses), so
                # that Numba compiles native._gemm once for both
                native._gemm(f, c.itemsize == 8, np.int64(ta), np.int64(tb), m, n, k, np.int64(a.ctypes.data), lda,
                             np.int64(b.ctypes.data), ldb, np.int64(c.ctypes.data), ldc, ints, flags, scal)
            return by_address

        def by_ctypes(f, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
            _gemm_ctypes(f, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)
        return by_ctypes


@jit(inline="always")
def _gemm_ctypes(f, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
    ip = np.empty(6, np.int32)
    fp = np.empty(2, c.dtype)
    cp = np.empty(2, np.uint8)
    cp[0] = ord("T") if tb else ord("N")
    cp[1] = ord("T") if ta else ord("N")
    ip[0], ip[1], ip[2], ip[3], ip[4], ip[5] = n, m, k, ldb, lda, ldc
    fp[0], fp[1] = 1.0, beta
    f(cp[0:].ctypes, cp[1:].ctypes, ip[0:].ctypes, ip[1:].ctypes, ip[2:].ctypes, fp[0:].ctypes,
      b.ctypes, ip[3:].ctypes, a.ctypes, ip[4:].ctypes, fp[1:].ctypes, c.ctypes, ip[5:].ctypes)


@kernel("gemm_batch")
def _gemm_batch_k(f, ta, tb, m, n, k, a, lda, sa, b, ldb, sb, c, ldc, sc, bshape, i0, i1, r0, r1):
    """Batch items [i0, i1) (flat index over ``bshape``; element strides sa/sb/sc per batch dim), rows
    [r0, r1) of each C (m rows in all)."""
    nd = bshape.shape[0]
    for i in range(i0, i1):
        oa = 0
        ob = 0
        oc = 0
        q = i
        for d in range(nd - 1, -1, -1):
            j = q % bshape[d]
            q //= bshape[d]
            oa += j * sa[d]
            ob += j * sb[d]
            oc += j * sc[d]
        oa += r0 if ta else r0 * lda
        oc += r0 * ldc
        gemm(f, ta, tb, r1 - r0, n, k, a[oa:], lda, b[ob:], ldb, 0.0, c[oc:], ldc)


def _layout(a):
    """(transposed?, leading dim, batch strides) of an (..., r, c) array, in element units, as BLAS can read
    each (r, c) item from its first element; None for negative or odd strides (copy first)."""
    it = a.itemsize
    shape = a.shape
    s = []
    for x, n in zip(a.strides, shape):
        if x % it or (x < 0 and n > 1):
            return None
        s.append(x // it if n > 1 else 0)
    r, c = shape[-2], shape[-1]
    sr, sc = s[-2], s[-1]
    if (sc == 1 or c == 1) and (sr >= c or r == 1):
        return False, max(sr if r > 1 else c, c, 1), s[:-2]
    if (sr == 1 or r == 1) and (sc >= r or c == 1):
        return True, max(sc if c > 1 else r, r, 1), s[:-2]
    return None


def blas_operand(a):
    """(flat memory from a's first element, transposed?, leading dim, batch strides) of an (..., r, c) array
    in element units, as BLAS can read each (r, c) item, or None (negative or odd strides: copy first)."""
    lay = _layout(a)
    if lay is None:
        return None
    it = a.itemsize
    span = 1 + sum((n - 1) * (x // it) for n, x in zip(a.shape, a.strides) if n > 1)
    return (as_strided(a, (span,), (it,)),) + lay


def _chunk(i, tid, k, f, ta, tb, m, n, kk, a, lda, sa, b, ldb, sb, c, ldc, sc, bshape, nb, per, rows):
    if rows:   # one product: chunk i is a block of rows of C
        r0 = i * per
        k(f, ta, tb, m, n, kk, a, lda, sa, b, ldb, sb, c, ldc, sc, bshape, 0, 1, r0, min(m, r0 + per))
    else:      # a run of batch items
        i0 = i * per
        k(f, ta, tb, m, n, kk, a, lda, sa, b, ldb, sb, c, ldc, sc, bshape, i0, min(nb, i0 + per), 0, m)


def _rows_first(b):
    """A stack of right operands stored transposed (attention's k^T) copied into rows where OpenBLAS's
    kernels read that layout slowly (``_COPY_TRANSPOSED_B``); else ``b`` itself."""
    if (_COPY_TRANSPOSED_B and b.strides[-2] == b.itemsize and b.shape[-2] > 1 and b.shape[-1] > 1
            and 0 not in b.strides[:-2]):
        return np.ascontiguousarray(b)
    return b


def _np_chunk(i, tid, a, b, out, per, lead, how):
    """Chunk i of a @ b: ``how`` 0 a run of batch items, 1 a block of rows, 2 a block of columns."""
    s = slice(i * per, min(lead, (i + 1) * per))
    if how == 1:
        np.matmul(a[s], b, out=out[s])
    elif how == 2:
        np.matmul(a, b[:, s], out=out[:, s])
    else:
        np.matmul(a[s], _rows_first(b[s]), out=out[s])


def _as_operand(x):
    op = blas_operand(x)
    return op if op is not None else blas_operand(np.ascontiguousarray(x))


def matmul(a, b):
    """``np.matmul(a, b)`` for arrays of 2 or more dims (see the module docstring for where it runs)."""
    if not HAVE_BLAS or _CONTROL is None or not numba_active():
        return np.matmul(a, b)
    if a.ndim < 2 or b.ndim < 2 or a.dtype != b.dtype or a.dtype.char not in "fd":
        return np.matmul(a, b)
    m, kk = a.shape[-2:]
    k2, n = b.shape[-2:]
    if kk != k2:
        return np.matmul(a, b)     # numpy words the error
    if a.ndim == 2 and b.ndim == 2:
        nb, bshape = 1, ()
    else:
        if b.ndim == 2 or a.shape[:-2] == b.shape[:-2]:
            bshape = a.shape[:-2]
        elif a.ndim == 2:
            bshape = b.shape[:-2]
        else:
            try:
                bshape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                return np.matmul(a, b)
        nb = 1
        for d in bshape:
            nb *= d
    work = nb * m * n * kk
    if work < MIN_WORK or m == 0 or n == 0 or kk == 0:
        return np.matmul(a, b)
    if b.ndim == 2 and a.ndim > 2:
        # (..., m, k) @ (k, n): one (prod(...) m, k) @ (k, n) product (a Linear on 3-D input); a strided
        # stack is copied first, which costs less than a product per item (each packing all of b: an
        # LSTM's second layer on its first layer's outputs, (16, 32, 128) @ (128, 512), 3.8 against 1.1 ms)
        a = a if a.flags.c_contiguous else np.ascontiguousarray(a)
        return matmul(a.reshape(-1, kk), b).reshape(a.shape[:-1] + (n,))
    T = threads_now()
    # at one thread the native-job code is neither used nor asked for (its compile would be wasted)
    if T > 1 and work < (NATIVE_PAR_WORK if NATIVE_JOBS and native_functions() else PAR_WORK):
        T = 1
    if T == 1 and _NP_CONTROL is not None:
        # numpy's own OpenBLAS (a newer build than SciPy's here, ~10 % faster on these shapes), held to
        # the calling thread for this call
        if nb == 1 and _FEW_ROWS_NN and a.dtype.char == "f" and _FEW_ROWS[0] <= m <= _FEW_ROWS[1] \
                and _FEW_ROWS_WORK[0] < work < _FEW_ROWS_WORK[1] and b.strides[0] == 4 and b.strides[1] == 4 * kk:
            return _few_rows_times_transposed(a, b, work)
        if a.ndim == b.ndim == 2 and _SMALL_GEMM_MNK and a.dtype.char == "f" and m <= _FEW_ROWS[1]:
            out = _column_blocks(a, b, work)
            if out is not None:
                return out
        return _one_thread_matmul(a, _rows_first(b) if nb > 1 else b, m * n * kk)
    return _pool_matmul(a, b, bshape, m, n, kk, T)


# Independent products at least this big (multiply-adds each; two make PAR_WORK) run side by side, one per
# thread.
SIDE_BY_SIDE_WORK = 1 << 22


def _flat_operands(a, b):
    """(a, b) as a 2-D product with the same rows as ``a @ b`` flattened, or None: both float32 or both
    float64, b 2-D, a 2-D or a C-contiguous stack (a Linear's (B, T, C) input)."""
    if (not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or b.ndim != 2 or a.ndim < 2
            or a.dtype != b.dtype or a.dtype.char not in "fd" or a.shape[-1] != b.shape[0]):
        return None
    if a.ndim > 2:
        if not a.flags.c_contiguous:
            return None
        a = a.reshape(-1, a.shape[-1])
    return a, b


def _side_chunk(i, tid, flat, outs):
    a, b = flat[i]
    outs[i] = np.matmul(a, b)


def matmuls(*pairs):
    """``[a @ b for a, b in pairs]`` (as ``matmul``) for independent products: side by side, each on one
    thread of our pool with numpy's OpenBLAS held to one thread, when there are threads for them and
    each is at least ``SIDE_BY_SIDE_WORK`` multiply-adds; else one after the other, each as ``matmul``.

    Why: a Linear's input and weight gradients (G W and G^T x) are two such products of the same size.
    On two cores they took 1.6 ms side by side against 2.9 ms one after the other (one thread each),
    where splitting each product into row blocks over the two threads gained ~1.4x (both threads pack
    the same operand, and each block is smaller).

    >>> import numpy as np
    >>> from autograd_core import kernels
    >>> a, b = np.ones((4, 3)), np.ones((3, 2))
    >>> [p.shape for p in kernels.blas.matmuls((a, b), (b.T, a.T))]
    [(4, 2), (2, 4)]
    """
    flat = [_flat_operands(a, b) for a, b in pairs]
    T = threads_now()
    if (T < 2 or len(pairs) < 2 or _NP_CONTROL is None or not HAVE_BLAS or not numba_active()
            or any(f is None or f[0].shape[0] * f[0].shape[1] * f[1].shape[1] < SIDE_BY_SIDE_WORK for f in flat)):
        return [matmul(a, b) for a, b in pairs]
    outs = [None] * len(pairs)
    get, set_ = _NP_CONTROL
    saved = get()
    if saved != 1:
        set_(1)
    try:
        tasks = None
        if NATIVE_JOBS and len(flat) <= native.MAX_TASKS:
            outs = [np.empty((x.shape[0], y.shape[1]), x.dtype) for x, y in flat]
            tasks = [_native_task(x, y, o, (), x.shape[0], y.shape[1], x.shape[1], 1, x.shape[0], 1)
                     for (x, y), o in zip(flat, outs)]
        if tasks is None or None in tasks or not parallel_gemms(tasks):
            parallel_for(_side_chunk, len(flat), flat, outs)
    finally:
        if saved != 1:
            set_(saved)
    # the arrays themselves where their shape is already right: a reshaped view would not own its data,
    # and backward copies such a gradient before it makes it a leaf's .grad (a Linear's weight gradient)
    shapes = [a.shape[:-1] + (b.shape[-1],) for a, b in pairs]
    return [o if o.shape == shape else o.reshape(shape) for o, shape in zip(outs, shapes)]


# A few rows times a transposed right operand, float32 (a Linear's x @ W.T on a small batch: an RNN's step,
# an MLP on a batch of 16): OpenBLAS's AVX-512 kernel families run this layout 1.3-2.7x slower than the
# same product as (W @ x.T).T, which their row-major no-transpose path ("direct sgemm", float32 only)
# computes without packing: (16, 128) @ (128, 512) 51 against 31 us, (8, 784) @ (784, 256) 168 against 87.
# From ~48 rows on, or over ~7M multiply-adds (past which that path is not taken), the plain product is as
# fast or faster; the AVX2 families (Haswell, Zen) gain nothing.
_FEW_ROWS_NN = _COPY_TRANSPOSED_B
_FEW_ROWS = (8, 32)
_FEW_ROWS_WORK = (1 << 18, 7 << 20)


def _few_rows_times_transposed(a, b, item):
    """``a @ b`` for a (m, k) float32 and b = W.T (W a C-contiguous (n, k)), as ``(W @ a.T).T`` laid out
    C-contiguous (W's rows in blocks, ``column_block``); numpy's OpenBLAS held to the calling thread."""
    m, k = a.shape
    n = b.shape[1]
    at = np.ascontiguousarray(a.T)
    out = np.empty((m, n), a.dtype)
    nb = column_block(m, n, k)
    if nb >= n:
        out.T[...] = _one_thread_matmul(b.T, at, item)
        return out
    w = b.T
    prod = np.empty((n, m), a.dtype)
    for j in range(0, n, nb):
        _one_thread_matmul(w[j:j + nb], at, m * nb * k, prod[j:j + nb])
    out.T[...] = prod
    return out


def _column_blocks(a, b, item):
    """A 2-D float32 ``a @ b`` with numpy's OpenBLAS on the calling thread, in the column blocks that its
    small-matrix kernels take (``column_block``), or None where it stays whole. For up to 32 rows: (8, 784)
    @ (784, 256) 63 -> 40 us, (4, 1000) @ W.T (1000, 1000) 765 -> 122; with 64 rows the blocks' calls cost
    more than they gain."""
    m, k = a.shape
    n = b.shape[1]
    nb = column_block(m, n, k)
    if nb >= n:
        return None
    out = np.empty((m, n), a.dtype)
    for j in range(0, n, nb):
        _one_thread_matmul(a, b[:, j:j + nb], m * nb * k, out[:, j:j + nb])
    return out


def _one_thread_matmul(a, b, item, out=None):
    """np.matmul with numpy's OpenBLAS on the calling thread; ``item``: the multiply-adds of each gemm it
    makes. Gemms that OpenBLAS runs on the calling thread anyway leave its thread count alone (see
    ``_keep_blas_threads``)."""
    get, set_ = _NP_CONTROL
    saved = get()
    if saved == 1 or _keep_blas_threads(item):
        return np.matmul(a, b, out=out)
    set_(1)
    try:
        return np.matmul(a, b, out=out)
    finally:
        set_(saved)


def _pool_matmul(a, b, bshape, m, n, kk, T):
    """a @ b (batch shape ``bshape``) as single-threaded BLAS calls on our pool, T threads."""
    nd = len(bshape)
    nb = 1
    for d in bshape:
        nb *= d
    a = np.broadcast_to(a, bshape + (m, kk)) if a.shape[:-2] != bshape else a
    b = np.broadcast_to(b, bshape + (kk, n)) if b.shape[:-2] != bshape else b
    if _NP_CONTROL is not None and (nd == 0 or bshape[0] > 1):
        # numpy's own OpenBLAS, one thread per call; per chunk a run of the first batch dim, or of one
        # product a block of rows, or of columns where it is wider than tall (each thread then packs
        # half of b rather than all of it: (128, 784) @ (784, 256) ~5 % faster)
        out = np.empty(bshape + (m, n), a.dtype)
        how = 0 if nd else 2 if n > m else 1
        lead = bshape[0] if how == 0 else m if how == 1 else n
        chunks = min(lead, T if nd == 0 else 2 * T)
        per = -(-lead // chunks)
        if how == 2:
            per = min(lead, -(-per // 16) * 16)     # whole vector widths per thread
        get, set_ = _NP_CONTROL
        item = m * n * kk if nd else m * per * kk if how == 2 else per * n * kk
        saved = 1 if _keep_blas_threads(item) else get()
        if saved != 1:
            set_(1)
        try:
            task = _native_task(a, b, out, bshape, m, n, kk, how, per, T) if NATIVE_JOBS else None
            if task is None or not parallel_gemms([task]):
                parallel_for(_np_chunk, -(-lead // per), a, b, out, per, lead, how)
        finally:
            if saved != 1:
                set_(saved)
        return out
    fa, ta, lda, sa = _as_operand(a)
    fb, tb, ldb, sb = _as_operand(b)
    out = np.empty(bshape + (m, n), a.dtype)
    sc = [0] * nd
    acc = m * n
    for d in range(nd - 1, -1, -1):
        sc[d] = acc if bshape[d] > 1 else 0
        acc *= bshape[d]
    args = (_FNS[a.dtype], ta, tb, m, n, kk, fa, lda, np.array(sa, np.int64), fb, ldb, np.array(sb, np.int64),
            out.reshape(-1), n, np.array(sc, np.int64), np.array(bshape, np.int64))
    k = _gemm_batch_k.get(a.dtype.char, args + (0, 0, 0, 0))
    if k is None:
        return np.matmul(a, b)
    rows = nb == 1 and T > 1
    if rows:        # one product: a block of rows per thread
        per = -(-m // T)
        chunks = -(-m // per)
    else:           # runs of batch items, a few per thread (a slow thread then does fewer)
        per = -(-nb // min(nb, 2 * T)) if T > 1 else nb
        chunks = -(-nb // per)
    with single_threaded():
        parallel_for(_chunk, chunks, k, *args, nb, per, rows)
    return out


# Products on the pool run as native jobs (``native``: handed over without the GIL) where they can; False
# runs them as Python jobs (the tests compare the two).
NATIVE_JOBS = True
# A native job hands over in a few microseconds when the worker is watching, so smaller products gain
# from a second thread: (128, 256) @ (256, 128), 4M multiply-adds, took ~100 us on one.
NATIVE_PAR_WORK = 1 << 22


def _native_task(a, b, out, bshape, m, n, kk, how, per, T):
    """``out = a @ b`` (a and b already broadcast to ``bshape``) as a row of ``native``'s descriptor table,
    chunked as ``_np_chunk`` would (``how``, ``per``): a stack in runs of ``per`` items of the flattened
    batch, one product in blocks of rows or columns; None where the native job cannot take it (more
    batch dims than it handles, strides BLAS cannot read)."""
    nd = len(bshape)
    if nd > native.MAX_BATCH_DIMS:
        return None
    fa = _layout(a)
    fb = _layout(b)
    if fa is None or fb is None:
        return None
    ta, lda, sa = fa
    tb, ldb, sb = fb
    if nd:
        nb = 1
        for d in bshape:
            nb *= d
        chunks = min(nb, 2 * T)
        per = -(-nb // chunks)
        chunks = -(-nb // per)
        mode = native.MODE_BATCH
    else:
        nb = 1
        chunks = -(-(m if how == 1 else n) // per)
        mode = native.MODE_ROWS if how == 1 else native.MODE_COLS
    shape, s_a, s_b, s_c = [0] * 4, [0] * 4, [0] * 4, [0] * 4
    acc = m * n
    for d in range(nd - 1, -1, -1):
        shape[d], s_a[d], s_b[d] = bshape[d], sa[d], sb[d]
        s_c[d] = acc
        acc *= bshape[d]
    return ([1 if a.dtype.char == "d" else 0, int(ta), int(tb), m, n, kk, a.ctypes.data, lda, b.ctypes.data, ldb,
             out.ctypes.data, n, mode, per, chunks, nb, nd, int(_COPY_TRANSPOSED_B and nd > 0)]
            + shape + s_a + s_b + s_c)

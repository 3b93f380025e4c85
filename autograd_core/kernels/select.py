"""``where(cond, a, b)`` in one pass, for the layouts that attention masks and their gradients use.

Why: ``np.where`` with a mask that broadcasts over the leading dims (a causal mask over a batch of
attention scores) or with a scalar branch runs a general strided loop, ~1.2 ns per element; this
kernel is a select the compiler vectorizes, ~5x faster, and the rows split over the threads.

Served: a C-contiguous bool ``cond`` whose shape is a trailing block of the result's (leading 1s
allowed), ``a`` and ``b`` each a C-contiguous float32/float64 array of the result's shape and dtype or
a Python/NumPy scalar. Anything else, the numpy backend or a kernel still compiling returns None and
the caller runs ``np.where`` (the same values).
"""
from __future__ import annotations

import numpy as np

from .compile import kernel, numba_active
from .threads import parallel_range, range_kernel

__all__ = ["where", "MIN_SIZE"]

MIN_SIZE = 1 << 12      # elements; below this np.where is as fast as a kernel call
_CHUNK = 1 << 16        # elements per parallel chunk (whole rows), at least
_PAR_MIN = 1 << 18      # below this the calling thread does it all
_U = np.uint64


@kernel("where_rows", error_model="numpy")
def _where_k(c, a, b, out, sa, sb, n, r0, r1):
    """Rows r0..r1 of out (rows of n elements, flat): a where c (length n) else b; sa/sb: whether a/b
    are whole arrays (else element 0 is the scalar)."""
    a0 = a[0]
    b0 = b[0]
    for r in range(_U(r0), _U(r1)):
        base = r * _U(n)
        if sa and sb:
            for j in range(_U(n)):
                out[base + j] = a[base + j] if c[j] else b[base + j]
        elif sa:
            for j in range(_U(n)):
                out[base + j] = a[base + j] if c[j] else b0
        elif sb:
            for j in range(_U(n)):
                out[base + j] = a0 if c[j] else b[base + j]
        else:
            for j in range(_U(n)):
                out[base + j] = a0 if c[j] else b0


def _operand(v, shape, dt):
    """(flat array, is it a whole array) for the kernel, or None."""
    if type(v) is np.ndarray:
        if v.ndim == 0:
            return np.full(1, v, dt), False
        if v.shape == shape and v.dtype == dt and v.flags.c_contiguous:
            return v.reshape(-1), True
        return None
    if isinstance(v, (bool, int, float, np.number)):
        return np.full(1, v, dt), False
    return None


def where(cond, a, b):
    """``np.where(cond, a, b)``, or None where the kernel does not serve (see the module docstring).

    >>> import numpy as np
    >>> from autograd_core.kernels import select
    >>> r = select.where(np.array([True, False] * 4096), 1.0, np.zeros(8192))
    >>> r is None or (r[0], r[1]) == (1.0, 0.0)
    True
    """
    if not numba_active() or type(cond) is not np.ndarray or cond.dtype != np.bool_ or not cond.flags.c_contiguous:
        return None
    arrays = [v for v in (a, b) if type(v) is np.ndarray and v.ndim]
    if not arrays:
        return None
    shape = arrays[0].shape
    size = arrays[0].size
    if size < MIN_SIZE:
        return None
    c = cond
    while c.ndim and c.shape[0] == 1 and c.ndim > 0:
        c = c.reshape(c.shape[1:])
    if c.ndim > len(shape) or c.shape != shape[len(shape) - c.ndim:]:
        return None
    dt = np.result_type(a, b)
    if dt.char not in "fd":
        return None
    fa, fb = _operand(a, shape, dt), _operand(b, shape, dt)
    if fa is None or fb is None:
        return None
    n = max(c.size, 1)
    rows = size // n
    out = np.empty(shape, dt)
    args = (c.reshape(-1), fa[0], fb[0], out.reshape(-1), fa[1], fb[1], n)
    k = range_kernel(_where_k, dt.char, args)
    if k is None:
        return None
    parallel_range(_where_k, k, args, rows, n, _PAR_MIN, _CHUNK)
    return out

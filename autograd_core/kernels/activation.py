"""ReLU and its gradient as one-pass parallel Numba kernels, for big float arrays.

Why: ``np.maximum(x, 0)`` runs on one thread, and the gradient ``g * (x > 0)`` makes two passes
and a boolean temporary; in a LeNet-5 step the four ReLU calls took as long as a convolution.
Arrays below ``MIN_SIZE`` elements, other dtypes and layouts use numpy (same values).
"""
from __future__ import annotations

import numpy as np

from . import HAVE_NUMBA, numba

__all__ = ["relu", "relu_grad", "MIN_SIZE"]

MIN_SIZE = 1 << 16   # below this numpy is as fast (measured: an MLP's 128x256 ReLU ran faster in numpy)

if HAVE_NUMBA:
    _U = np.uint64

    @numba.njit(cache=True, nogil=True, parallel=True)
    def _relu_nb(x, out, T):
        n = x.size
        per = (n + T - 1) // T
        for t in numba.prange(T):
            for i in range(_U(t * per), _U(min(n, (t + 1) * per))):
                v = x[i]
                out[i] = 0 if v < 0 else v      # NaN stays NaN, as np.maximum

    @numba.njit(cache=True, nogil=True, parallel=True)
    def _relu_grad_nb(g, x, out, T):
        n = x.size
        per = (n + T - 1) // T
        for t in numba.prange(T):
            for i in range(_U(t * per), _U(min(n, (t + 1) * per))):
                out[i] = g[i] if x[i] > 0 else 0


def _kernel_ok(*arrays):
    a = arrays[0]
    return (HAVE_NUMBA and a.size >= MIN_SIZE and a.dtype in (np.float32, np.float64)
            and all(type(b) is np.ndarray and b.dtype == a.dtype and b.shape == a.shape and b.flags.c_contiguous
                    for b in arrays))


def relu(x):
    """max(x, 0) elementwise (NaN propagates)."""
    if not _kernel_ok(x):
        return np.maximum(x, 0)
    out = np.empty_like(x)
    _relu_nb(x.reshape(-1), out.reshape(-1), numba.get_num_threads())
    return out


def relu_grad(g, x):
    """g where x > 0, else 0 (the gradient at 0 is 0, as PyTorch)."""
    if not _kernel_ok(g, x):
        return g * (x > 0)
    out = np.empty_like(g)
    _relu_grad_nb(g.reshape(-1), x.reshape(-1), out.reshape(-1), numba.get_num_threads())
    return out

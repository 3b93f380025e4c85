"""Per-channel kernels for batch normalization over (N, C, *spatial) arrays: the statistics, the
normalization and the two gradients, channels split over the threads.

Why: numpy reduces over axes (0, 2, 3) of an NCHW array in strided passes, and batch norm made about eight
of them forward and twelve backward, each with a temporary: on a small CIFAR ResNet (batch 64) batch norm
was a fifth of the training step. Here each channel's data is read two or three times in all.

    moments(x)                        -> (mean, biased var), each (1, C, 1, ...)
    normalize(x, mean, invstd, w, b)  -> (xhat w + b, xhat) with xhat = (x - mean) invstd
    input_grad(g, xhat, invstd, w)    -> invstd w (g - mean(g) - xhat mean(g xhat))
    param_grads(g, xhat)              -> (2, C): sum(g xhat), sum(g)

Means and sums are over every axis but the channel one. Sums accumulate in float64, for float32 arrays too.
Each function returns None where it does not serve (numpy backend, compiling, not float32/float64, not
C-contiguous, fewer than 3 dims); the caller then runs its numpy code (the same values up to rounding).
"""
from __future__ import annotations

import numpy as np

from .compile import jit, kernel, numba_active
from .threads import parallel_range, range_kernel

__all__ = ["moments", "normalize", "input_grad", "param_grads"]

_PAR_MIN = 1 << 18      # elements: below this one thread does it all
_CHUNK = 1 << 15        # elements per parallel run (whole channels), at least
_U = np.uint64          # unsigned loop indices: no wraparound checks, which block vectorization
_Z = np.float64(0.0)


@kernel("channel_moments", error_model="numpy", fastmath={"contract", "reassoc"})
def _moments_k(x, mean, var, z, c0, c1):
    """mean[c] and the biased var[c] of x[:, c, :] (x (N, C, L)) for channels c0..c1-1, in two passes."""
    N, L = x.shape[0], x.shape[2]
    inv = 1.0 / (N * L)
    for c in range(_U(c0), _U(c1)):
        s = z
        for n in range(_U(N)):
            for j in range(_U(L)):
                s += x[n, c, j]
        mu = s * inv
        q = z
        for n in range(_U(N)):
            for j in range(_U(L)):
                d = x[n, c, j] - mu
                q += d * d
        mean[c] = mu
        var[c] = q * inv


@kernel("channel_normalize", error_model="numpy", fastmath={"contract"})
def _normalize_k(x, mean, invstd, w, b, out, xhat, c0, c1):
    """xh = (x - mean) invstd, out = xh w + b (w, b empty: none) and, unless ``xhat`` is empty, xhat = xh,
    for channels c0..c1-1."""
    N, L = x.shape[0], x.shape[2]
    hw, hb, keep = w.shape[0] > 0, b.shape[0] > 0, xhat.shape[0] > 0
    for c in range(_U(c0), _U(c1)):
        m = mean[c]
        s = invstd[c]
        for n in range(_U(N)):
            if keep:
                for j in range(_U(L)):
                    xhat[n, c, j] = (x[n, c, j] - m) * s
            if hw and hb:
                a = w[c]
                d = b[c]
                for j in range(_U(L)):
                    out[n, c, j] = (x[n, c, j] - m) * s * a + d
            elif hw:
                a = w[c]
                for j in range(_U(L)):
                    out[n, c, j] = (x[n, c, j] - m) * s * a
            elif hb:
                d = b[c]
                for j in range(_U(L)):
                    out[n, c, j] = (x[n, c, j] - m) * s + d
            else:
                for j in range(_U(L)):
                    out[n, c, j] = (x[n, c, j] - m) * s


@jit(inline="always", error_model="numpy", fastmath={"contract", "reassoc"})
def _grad_sums(g, xhat, c, z):
    """(sum(g), sum(g xhat)) over channel c of (N, C, L) arrays."""
    s1 = z
    s2 = z
    for n in range(_U(g.shape[0])):
        for j in range(_U(g.shape[2])):
            v = g[n, c, j]
            s1 += v
            s2 += v * xhat[n, c, j]
    return s1, s2


@kernel("channel_input_grad", error_model="numpy", fastmath={"contract", "reassoc"})
def _input_grad_k(g, xhat, invstd, w, out, z, c0, c1):
    """out = invstd w (g - mean(g) - xhat mean(g xhat)) over channels c0..c1-1 (w empty: 1)."""
    N, L = g.shape[0], g.shape[2]
    inv = 1.0 / (N * L)
    hw = w.shape[0] > 0
    for c in range(_U(c0), _U(c1)):
        s1, s2 = _grad_sums(g, xhat, c, z)
        k = invstd[c] * w[c] if hw else invstd[c]
        m1 = s1 * inv
        m2 = s2 * inv
        for n in range(_U(N)):
            for j in range(_U(L)):
                out[n, c, j] = k * (g[n, c, j] - m1 - xhat[n, c, j] * m2)


@kernel("channel_param_grads", error_model="numpy", fastmath={"contract", "reassoc"})
def _param_grads_k(g, xhat, out, z, c0, c1):
    """out[0, c] = sum(g xhat) and out[1, c] = sum(g) over channel c, for c0..c1-1."""
    for c in range(_U(c0), _U(c1)):
        s1, s2 = _grad_sums(g, xhat, c, z)
        out[0, c] = s2
        out[1, c] = s1


def _ncl(x):
    """x as (N, C, L), or None where the kernels do not serve it."""
    if (not numba_active() or type(x) is not np.ndarray or x.dtype.char not in "fd" or x.ndim < 3 or x.size == 0
            or not x.flags.c_contiguous):
        return None
    return x.reshape(x.shape[0], x.shape[1], -1)


def _per_channel(a, x3):
    """A (1, C, 1, ...) or (C,) array of x3's dtype as a contiguous (C,), or None."""
    if type(a) is not np.ndarray or a.dtype != x3.dtype or a.size != x3.shape[1]:
        return None
    return np.ascontiguousarray(a).reshape(-1)


def _run(kern, x3, args):
    k = range_kernel(kern, x3.dtype.char, args)
    if k is None:
        return False
    parallel_range(kern, k, args, x3.shape[1], x3.shape[0] * x3.shape[2], _PAR_MIN, _CHUNK)
    return True


def _kept(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def moments(x):
    """(mean, biased var) of x (N, C, *spatial) per channel, each with kept dims (1, C, 1, ...), or None."""
    x3 = _ncl(x)
    if x3 is None:
        return None
    mean = np.empty(x3.shape[1], x.dtype)
    var = np.empty(x3.shape[1], x.dtype)
    if not _run(_moments_k, x3, (x3, mean, var, _Z)):
        return None
    return mean.reshape(_kept(x)), var.reshape(_kept(x))


def normalize(x, mean, invstd, w=None, b=None, keep_xhat=True):
    """(xhat w + b, xhat) with xhat = (x - mean) invstd per channel (xhat None unless ``keep_xhat``); mean,
    invstd: (1, C, 1, ...) or (C,); w, b: (C,) or None. None where the kernel does not serve."""
    x3 = _ncl(x)
    if x3 is None:
        return None
    empty = np.empty(0, x.dtype)
    per = [_per_channel(a, x3) if a is not None else empty for a in (mean, invstd, w, b)]
    if any(p is None for p in per) or per[0].size == 0 or per[1].size == 0:
        return None
    out = np.empty(x.shape, x.dtype)
    xhat = np.empty(x.shape, x.dtype) if keep_xhat else None
    shaped = (xhat.reshape(x3.shape) if keep_xhat else np.empty((0, 0, 0), x.dtype),)
    if not _run(_normalize_k, x3, (x3, *per, out.reshape(x3.shape)) + shaped):
        return None
    return out, xhat


def input_grad(g, xhat, invstd, w=None):
    """invstd w (g - mean(g) - xhat mean(g xhat)) per channel of g (N, C, *spatial) (w: None, or (C,) or
    (1, C, 1, ...)), or None."""
    g3 = _ncl(g)
    if g3 is None or type(xhat) is not np.ndarray or xhat.shape != g.shape or xhat.dtype != g.dtype \
            or not xhat.flags.c_contiguous:
        return None
    inv = _per_channel(invstd, g3)
    ww = np.empty(0, g.dtype) if w is None else _per_channel(w, g3)
    if inv is None or ww is None:
        return None
    out = np.empty(g.shape, g.dtype)
    if not _run(_input_grad_k, g3, (g3, xhat.reshape(g3.shape), inv, ww, out.reshape(g3.shape), _Z)):
        return None
    return out


def param_grads(g, xhat):
    """(2, C): sum(g xhat) and sum(g) per channel of g (N, C, *spatial), or None."""
    g3 = _ncl(g)
    if g3 is None or type(xhat) is not np.ndarray or xhat.shape != g.shape or xhat.dtype != g.dtype \
            or not xhat.flags.c_contiguous:
        return None
    out = np.empty((2, g3.shape[1]), g.dtype)
    if not _run(_param_grads_k, g3, (g3, xhat.reshape(g3.shape), out, _Z)):
        return None
    return out

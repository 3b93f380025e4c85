"""Max-pool argmax and its gradient scatter (NCHW), as Numba kernels with pure-numpy fallbacks.

``maxpool2d(x, ...) -> (out, idx)``: out (N, C, OH, OW) is the max over each window and idx
(int32, same shape) the flat position ``iy * W + ix`` of that max in its (H, W) plane, with
PyTorch's rule: the first max in row-major window order wins, a NaN wins over everything (the
last NaN, as PyTorch's ``val > max || isnan(val)`` scan), and positions outside the input
(padding, ceil_mode overhang) are skipped. ``maxpool2d_scatter(g, idx, H, W)`` adds each
g[n, c, oy, ox] into position idx of a zero (N, C, H, W) image (overlapping windows add up).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import HAVE_NUMBA, numba

__all__ = ["maxpool2d", "maxpool2d_scatter", "maxpool2d_numpy", "maxpool2d_scatter_numpy",
           "maxpool2d_numba", "maxpool2d_scatter_numba"]


def _first_valid(n_out, stride, pad, dil, k):
    """Index of the first kernel tap inside the input, for each output position."""
    start = np.arange(n_out) * stride - pad
    return np.minimum(np.maximum(-(start // dil), 0), k - 1)   # ceil(-start / dil) for start < 0


# -- numpy fallbacks ----------------------------------------------------------------------------
def maxpool2d_numpy(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """Max and argmax through a strided window view of the -inf padded input."""
    N, C, H, W = x.shape
    Hp = max((OH - 1) * sh + (kh - 1) * dh + 1, H + ph)
    Wp = max((OW - 1) * sw + (kw - 1) * dw + 1, W + pw)
    xp = np.full((N, C, Hp, Wp), -np.inf, x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    s = xp.strides
    win = as_strided(xp, (N, C, OH, OW, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw),
                     writeable=False).reshape(N, C, OH, OW, kh * kw)
    k = np.argmax(win, axis=-1)   # first max; a NaN counts as the max
    isn = np.isnan(win)
    if isn.any():
        last_nan = kh * kw - 1 - np.argmax(isn[..., ::-1], axis=-1)
        k = np.where(isn.any(axis=-1), last_nan, k)
    out = np.take_along_axis(win, k[..., None], axis=-1)[..., 0]
    # A window whose real values are all -inf: PyTorch points at its first in-bounds position.
    neg = out == -np.inf
    if neg.any():
        i0 = _first_valid(OH, sh, ph, dh, kh)[:, None]
        j0 = _first_valid(OW, sw, pw, dw, kw)[None, :]
        k = np.where(neg, i0 * kw + j0, k)
    iy = np.arange(OH)[:, None] * sh - ph + (k // kw) * dh
    ix = np.arange(OW)[None, :] * sw - pw + (k % kw) * dw
    return np.ascontiguousarray(out), (iy * W + ix).astype(np.int32)


def maxpool2d_scatter_numpy(g, idx, H, W):
    """Scatter-add with bincount (repeats add up, as overlapping windows need)."""
    N, C = g.shape[:2]
    P = N * C
    flat = idx.reshape(P, -1).astype(np.int64) + (np.arange(P, dtype=np.int64) * (H * W))[:, None]
    out = np.bincount(flat.ravel(), weights=g.reshape(-1), minlength=P * H * W)
    return out.astype(g.dtype, copy=False).reshape(N, C, H, W)


# -- Numba kernels ------------------------------------------------------------------------------
if HAVE_NUMBA:
    # One (n, c) plane per task (disjoint writes); parallel=True pays off at 2+ threads.
    @numba.njit(cache=True, nogil=True, parallel=True)
    def _maxpool_nb(x, kh, kw, sh, sw, ph, pw, dh, dw, out, idx):
        P, H, W = x.shape
        OH, OW = out.shape[1], out.shape[2]
        for p in numba.prange(P):
            for oy in range(OH):
                h0 = oy * sh - ph
                i0 = 0
                while h0 + i0 * dh < 0:
                    i0 += 1
                for ox in range(OW):
                    w0 = ox * sw - pw
                    j0 = 0
                    while w0 + j0 * dw < 0:
                        j0 += 1
                    best = x[p, h0 + i0 * dh, w0 + j0 * dw]
                    bi = (h0 + i0 * dh) * W + w0 + j0 * dw
                    for i in range(i0, kh):
                        iy = h0 + i * dh
                        if iy >= H:
                            break
                        for j in range(j0, kw):
                            ix = w0 + j * dw
                            if ix >= W:
                                break
                            v = x[p, iy, ix]
                            if v > best or v != v:
                                best = v
                                bi = iy * W + ix
                    out[p, oy, ox] = best
                    idx[p, oy, ox] = bi

    @numba.njit(cache=True, nogil=True, parallel=True)
    def _maxpool_scatter_nb(g, idx, out):
        P, L = g.shape
        for p in numba.prange(P):
            for t in range(L):
                out[p, idx[p, t]] += g[p, t]


def maxpool2d_numba(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    N, C, H, W = x.shape
    out = np.empty((N * C, OH, OW), x.dtype)
    idx = np.empty((N * C, OH, OW), np.int32)
    _maxpool_nb(np.ascontiguousarray(x).reshape(N * C, H, W), kh, kw, sh, sw, ph, pw, dh, dw, out, idx)
    return out.reshape(N, C, OH, OW), idx.reshape(N, C, OH, OW)


def maxpool2d_scatter_numba(g, idx, H, W):
    N, C = g.shape[:2]
    out = np.zeros((N * C, H * W), g.dtype)
    _maxpool_scatter_nb(np.ascontiguousarray(g).reshape(N * C, -1), np.ascontiguousarray(idx).reshape(N * C, -1),
                        out)
    return out.reshape(N, C, H, W)


if HAVE_NUMBA:
    maxpool2d, maxpool2d_scatter = maxpool2d_numba, maxpool2d_scatter_numba
else:  # pragma: no cover - the AUTOGRAD_CORE_NO_NUMBA=1 run
    maxpool2d, maxpool2d_scatter = maxpool2d_numpy, maxpool2d_scatter_numpy

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

from .compile import jit, kernel, numba_active
from .threads import parallel_range, range_kernel

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
# Each call handles planes (n, c) p0..p1-1 (disjoint writes); the pool runs chunks of planes on its
# threads. uint64 indices avoid numba's negative-index wraparound checks.
_U = np.uint64


@jit
def _tap_range(n_out, stride, pad, dil, k, size):
    """[lo, hi) of the kernel taps that fall inside the input, per output position."""
    lo = np.empty(n_out, np.int64)
    hi = np.empty(n_out, np.int64)
    for o in range(n_out):
        b = o * stride - pad
        a = 0
        while a < k and b + a * dil < 0:
            a += 1
        e = k
        while e > a and b + (e - 1) * dil >= size:
            e -= 1
        lo[o] = a
        hi[o] = e
    return lo, hi


@kernel("max_pool2d")
def _maxpool_k(x, kh, kw, sh, sw, ph, pw, dh, dw, out, idx, p0, p1):
    H, W = x.shape[1], x.shape[2]
    OH, OW = out.shape[1], out.shape[2]
    ilo, ihi = _tap_range(OH, sh, ph, dh, kh, H)
    jlo, jhi = _tap_range(OW, sw, pw, dw, kw, W)
    uW = _U(W)
    for p in range(p0, p1):
        for oy in range(OH):
            rb = oy * sh - ph
            for ox in range(OW):
                cb = ox * sw - pw
                r0 = _U(rb + ilo[oy] * dh)
                c0 = _U(cb + jlo[ox] * dw)
                best = x[p, r0, c0]
                bi = r0 * uW + c0
                for i in range(ilo[oy], ihi[oy]):
                    r = _U(rb + i * dh)
                    for j in range(jlo[ox], jhi[ox]):
                        c = _U(cb + j * dw)
                        v = x[p, r, c]
                        if v > best or v != v:
                            best = v
                            bi = r * uW + c
                out[p, oy, ox] = best
                idx[p, oy, ox] = bi


# 2x2 windows at stride 2 (the usual downsampling): rows read in pairs, no tap loops.
@kernel("max_pool2d_2x2")
def _maxpool2x2_k(x, sh, sw, out, idx, p0, p1):
    W = x.shape[2]
    OH, OW = out.shape[1], out.shape[2]
    uW = _U(W)
    for p in range(p0, p1):
        for oy in range(OH):
            r0 = _U(oy * sh)
            r1 = r0 + _U(1)
            for ox in range(OW):
                c0 = _U(ox * sw)
                c1 = c0 + _U(1)
                best = x[p, r0, c0]
                bi = r0 * uW + c0
                v = x[p, r0, c1]
                if v > best or v != v:
                    best = v
                    bi = r0 * uW + c1
                v = x[p, r1, c0]
                if v > best or v != v:
                    best = v
                    bi = r1 * uW + c0
                v = x[p, r1, c1]
                if v > best or v != v:
                    best = v
                    bi = r1 * uW + c1
                out[p, oy, ox] = best
                idx[p, oy, ox] = bi


# The same at stride 2 exactly: the columns' stride a constant and the comparisons selects, so that LLVM
# vectorizes the row (3x faster than the loop above, which serves other strides: LeNet's (64, 6, 28, 28)
# pooling took 348 against 114 us on one thread).
@kernel("max_pool2d_2x2_stride2", error_model="numpy")
def _maxpool2x2s2_k(x, out, idx, p0, p1):
    W = x.shape[2]
    OH, OW = out.shape[1], out.shape[2]
    for p in range(p0, p1):
        for oy in range(OH):
            r0 = 2 * oy
            a = x[p, r0]
            b = x[p, r0 + 1]
            o = out[p, oy]
            ix = idx[p, oy]
            base0 = np.int32(r0 * W)
            base1 = np.int32((r0 + 1) * W)
            for ox in range(OW):
                c0 = 2 * ox
                best = a[c0]
                bi = base0 + np.int32(c0)
                v = a[c0 + 1]
                t = (v > best) | (v != v)          # NaN wins, as above
                best = v if t else best
                bi = base0 + np.int32(c0 + 1) if t else bi
                v = b[c0]
                t = (v > best) | (v != v)
                best = v if t else best
                bi = base1 + np.int32(c0) if t else bi
                v = b[c0 + 1]
                t = (v > best) | (v != v)
                best = v if t else best
                bi = base1 + np.int32(c0 + 1) if t else bi
                o[ox] = best
                ix[ox] = bi


@kernel("max_pool2d_scatter")
def _maxpool_scatter_k(g, idx, out, p0, p1):
    L = g.shape[1]
    for p in range(p0, p1):
        out[p, :] = 0
        for t in range(L):
            out[p, _U(idx[p, t])] += g[p, t]


_CHUNK_ELEMS = 1 << 15   # input elements per parallel chunk, at least


def maxpool2d_numba(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """The kernels' max and argmax, or None while they are not compiled (or the numpy backend is on)."""
    if not numba_active() or x.dtype.char not in "fd":
        return None
    N, C, H, W = x.shape
    P = N * C
    out = np.empty((P, OH, OW), x.dtype)
    idx = np.empty((P, OH, OW), np.int32)
    xs = np.ascontiguousarray(x).reshape(P, H, W)
    if (kh, kw, dh, dw, ph, pw) == (2, 2, 1, 1, 0, 0) and (OH - 1) * sh + 1 < H and (OW - 1) * sw + 1 < W:
        if sh == sw == 2:
            args = (xs, out, idx)
            kern = _maxpool2x2s2_k
        else:
            args = (xs, sh, sw, out, idx)
            kern = _maxpool2x2_k
    else:
        args = (xs, kh, kw, sh, sw, ph, pw, dh, dw, out, idx)
        kern = _maxpool_k
    k = range_kernel(kern, x.dtype.char, args)
    if k is None:
        return None
    parallel_range(kern, k, args, P, H * W, 0, _CHUNK_ELEMS)
    return out.reshape(N, C, OH, OW), idx.reshape(N, C, OH, OW)


def maxpool2d_scatter_numba(g, idx, H, W):
    """The scatter kernel's result, or None (see maxpool2d_numba)."""
    if not numba_active() or g.dtype.char not in "fd" or idx.dtype != np.int32:
        return None
    N, C = g.shape[:2]
    P = N * C
    out = np.empty((P, H * W), g.dtype)
    args = (np.ascontiguousarray(g).reshape(P, -1), np.ascontiguousarray(idx).reshape(P, -1), out)
    k = range_kernel(_maxpool_scatter_k, g.dtype.char, args)
    if k is None:
        return None
    parallel_range(_maxpool_scatter_k, k, args, P, H * W, 0, _CHUNK_ELEMS)
    return out.reshape(N, C, H, W)


def maxpool2d(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """(out, idx): the Numba kernels when they serve, else numpy (same values)."""
    r = maxpool2d_numba(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    return r if r is not None else maxpool2d_numpy(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


def maxpool2d_scatter(g, idx, H, W):
    """g added at the argmax positions of zero (N, C, H, W) planes: the kernel when it serves, else numpy."""
    r = maxpool2d_scatter_numba(g, idx, H, W)
    return r if r is not None else maxpool2d_scatter_numpy(g, idx, H, W)

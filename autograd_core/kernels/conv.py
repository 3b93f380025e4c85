"""im2col and col2im for 2-D convolution (NCHW), as Numba kernels with pure-numpy fallbacks.

Geometry (per spatial dim): an output position ``o`` and a kernel tap ``i`` read the input at
``o * stride - pad_before + i * dilation``; positions outside the input read as zero.

* ``im2col(x, ...)``: x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), with
  ``cols[n, (c, i, j), (oy, ox)] = x[n, c, oy*sh - pt + i*dh, ox*sw - pl + j*dw]``.
  This layout makes ``weight (O, C*kh*kw) @ cols[n]`` come out as (O, OH*OW), which is NCHW: no
  transposes on the forward path.
* ``col2im(cols, ...)``: the adjoint, a scatter-add of cols back into (N, C, H, W).

``*_numpy`` are the fallbacks (a strided view + one copy; one strided add per kernel tap); the
dispatching ``im2col`` / ``col2im`` use Numba when it is available.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import HAVE_NUMBA, numba

__all__ = ["im2col", "col2im", "im2col_numpy", "col2im_numpy", "im2col_numba", "col2im_numba"]


# -- numpy fallbacks ----------------------------------------------------------------------------
def _padded(x, pt, pl, Hp, Wp):
    """x placed at (pt, pl) inside zeros of spatial size (Hp, Wp) (cropped if x sticks out)."""
    N, C, H, W = x.shape
    if pt == 0 and pl == 0 and Hp == H and Wp == W:
        return x
    xp = np.zeros((N, C, Hp, Wp), x.dtype)
    h, w = min(H, Hp - pt), min(W, Wp - pl)
    xp[:, :, pt:pt + h, pl:pl + w] = x[:, :, :h, :w]
    return xp


def im2col_numpy(x, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out=None):
    """im2col by a strided view of the zero-padded input and one copy."""
    N, C, H, W = x.shape
    Hp = (OH - 1) * sh + (kh - 1) * dh + 1
    Wp = (OW - 1) * sw + (kw - 1) * dw + 1
    xp = np.ascontiguousarray(_padded(x, pt, pl, max(Hp, 1), max(Wp, 1)))
    s = xp.strides
    view = as_strided(xp, (N, C, kh, kw, OH, OW), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw),
                      writeable=False)
    if out is None:
        out = np.empty((N, C * kh * kw, OH * OW), x.dtype)
    np.copyto(out.reshape(N, C, kh, kw, OH, OW), view)
    return out


def col2im_numpy(cols, C, H, W, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW):
    """Adjoint of im2col: add each kernel tap's slab into a zero-padded image, then crop."""
    N = cols.shape[0]
    Hp = max((OH - 1) * sh + (kh - 1) * dh + 1, pt + H)
    Wp = max((OW - 1) * sw + (kw - 1) * dw + 1, pl + W)
    xp = np.zeros((N, C, Hp, Wp), cols.dtype)
    c6 = cols.reshape(N, C, kh, kw, OH, OW)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i * dh:i * dh + (OH - 1) * sh + 1:sh, j * dw:j * dw + (OW - 1) * sw + 1:sw] += c6[:, :, i, j]
    return np.ascontiguousarray(xp[:, :, pt:pt + H, pl:pl + W])


# -- Numba kernels ------------------------------------------------------------------------------
if HAVE_NUMBA:
    # One (n, c) plane per task, so tasks write disjoint memory (no races in col2im either).
    # Inner indices are cast to uint64: numba emits a negative-index wraparound check for signed
    # indices it cannot prove non-negative, which blocks vectorization (5x slower copies).
    @numba.njit(cache=True, nogil=True, parallel=True)
    def _im2col_nb(x, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out):
        N, C, H, W = x.shape
        for p in numba.prange(N * C):
            n = p // C
            c = p - n * C
            for i in range(kh):
                for j in range(kw):
                    offx = j * dw - pl
                    lo = 0 if offx >= 0 else (-offx + sw - 1) // sw    # valid ox: 0 <= ox*sw + offx < W
                    hi = (W - offx + sw - 1) // sw if W > offx else 0
                    lo = min(lo, OW)
                    hi = max(min(hi, OW), lo)
                    ulo, usw = np.uint64(lo), np.uint64(sw)
                    uoff = np.uint64(lo * sw + offx)
                    m = np.uint64(hi - lo)
                    for oy in range(OH):
                        iy = oy * sh - pt + i * dh
                        if iy < 0 or iy >= H:
                            for ox in range(OW):
                                out[n, c, i, j, oy, ox] = 0
                            continue
                        uiy = np.uint64(iy)
                        for ox in range(lo):
                            out[n, c, i, j, oy, ox] = 0
                        for t in range(m):
                            out[n, c, i, j, oy, ulo + t] = x[n, c, uiy, uoff + t * usw]
                        for ox in range(hi, OW):
                            out[n, c, i, j, oy, ox] = 0

    @numba.njit(cache=True, nogil=True, parallel=True)
    def _col2im_nb(cols, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out):
        N, C, H, W = out.shape
        for p in numba.prange(N * C):
            n = p // C
            c = p - n * C
            for i in range(kh):
                for j in range(kw):
                    offx = j * dw - pl
                    lo = 0 if offx >= 0 else (-offx + sw - 1) // sw
                    hi = (W - offx + sw - 1) // sw if W > offx else 0
                    lo = min(lo, OW)
                    hi = max(min(hi, OW), lo)
                    ulo, usw = np.uint64(lo), np.uint64(sw)
                    uoff = np.uint64(lo * sw + offx)
                    m = np.uint64(hi - lo)
                    for oy in range(OH):
                        iy = oy * sh - pt + i * dh
                        if iy < 0 or iy >= H:
                            continue
                        uiy = np.uint64(iy)
                        for t in range(m):
                            out[n, c, uiy, uoff + t * usw] += cols[n, c, i, j, oy, ulo + t]


def im2col_numba(x, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out=None):
    """im2col with the Numba kernel (no padded copy of x: out-of-range taps are written as zeros)."""
    N, C = x.shape[:2]
    if out is None:
        out = np.empty((N, C * kh * kw, OH * OW), x.dtype)
    _im2col_nb(np.ascontiguousarray(x), kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out.reshape(N, C, kh, kw, OH, OW))
    return out


def col2im_numba(cols, C, H, W, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW):
    """col2im with the Numba kernel (scatter-add straight into the unpadded image)."""
    N = cols.shape[0]
    out = np.zeros((N, C, H, W), cols.dtype)
    _col2im_nb(np.ascontiguousarray(cols).reshape(N, C, kh, kw, OH, OW), kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out)
    return out


if HAVE_NUMBA:
    im2col, col2im = im2col_numba, col2im_numba
else:  # pragma: no cover - the AUTOGRAD_CORE_NO_NUMBA=1 run
    im2col, col2im = im2col_numpy, col2im_numpy

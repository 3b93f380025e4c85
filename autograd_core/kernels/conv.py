"""im2col and col2im for 2-D convolution (NCHW), as Numba kernels with pure-numpy fallbacks.

Geometry (per spatial dim): an output position ``o`` and a kernel tap ``i`` read the input at
``o * stride - pad_before + i * dilation``; positions outside the input read as zero.

* ``im2col(x, ...)``: x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), with
  ``cols[n, (c, i, j), (oy, ox)] = x[n, c, oy*sh - pt + i*dh, ox*sw - pl + j*dw]``.
  This layout makes ``weight (O, C*kh*kw) @ cols[n]`` come out as (O, OH*OW), which is NCHW: no
  transposes on the forward path. With ``knl=True`` the same numbers are laid out
  (C*kh*kw, N, OH*OW), so that the weight gradient can be one matmul over all images.
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


def im2col_numpy(x, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out=None, knl=False):
    """im2col by a strided view of the zero-padded input and one copy."""
    N, C, H, W = x.shape
    Hp = (OH - 1) * sh + (kh - 1) * dh + 1
    Wp = (OW - 1) * sw + (kw - 1) * dw + 1
    xp = np.ascontiguousarray(_padded(x, pt, pl, max(Hp, 1), max(Wp, 1)))
    s = xp.strides
    view = as_strided(xp, (N, C, kh, kw, OH, OW), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw),
                      writeable=False)
    if knl:
        if out is None:
            out = np.empty((C * kh * kw, N, OH * OW), x.dtype)
        np.copyto(out.reshape(C, kh, kw, N, OH, OW), view.transpose(1, 2, 3, 0, 4, 5))
        return out
    if out is None:
        out = np.empty((N, C * kh * kw, OH * OW), x.dtype)
    np.copyto(out.reshape(N, C, kh, kw, OH, OW), view)
    return out


def col2im_numpy(cols, C, H, W, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out=None):
    """Adjoint of im2col: add each kernel tap's slab into a zero-padded image, then crop."""
    N = cols.shape[0]
    Hp = max((OH - 1) * sh + (kh - 1) * dh + 1, pt + H)
    Wp = max((OW - 1) * sw + (kw - 1) * dw + 1, pl + W)
    xp = np.zeros((N, C, Hp, Wp), cols.dtype)
    c6 = cols.reshape(N, C, kh, kw, OH, OW)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i * dh:i * dh + (OH - 1) * sh + 1:sh, j * dw:j * dw + (OW - 1) * sw + 1:sw] += c6[:, :, i, j]
    if out is None:
        return np.ascontiguousarray(xp[:, :, pt:pt + H, pl:pl + W])
    out[...] = xp[:, :, pt:pt + H, pl:pl + W]
    return out


# -- Numba kernels ------------------------------------------------------------------------------
if HAVE_NUMBA:
    _U = np.uint64

    # One (n, c) plane per task, so tasks write disjoint memory (no races in col2im either).
    # Indices are cast to uint64: numba emits a negative-index wraparound check for signed indices
    # it cannot prove non-negative, and that check blocks vectorization (2-5x slower copies). The
    # stride-1 case gets its own inner loop so that LLVM sees contiguous loads.
    @numba.njit(cache=True, nogil=True, inline="always")
    def _im2col_rows(x, n, c, i, j, sh, sw, pt, pl, dh, dw, OH, OW, out, row):
        """Write tap (i, j) of plane (n, c): OH rows of OW values, from flat index ``row`` of out."""
        H, W = x.shape[2], x.shape[3]
        offx = j * dw - pl
        lo = 0 if offx >= 0 else (-offx + sw - 1) // sw    # valid ox: 0 <= ox*sw + offx < W
        hi = (W - offx + sw - 1) // sw if W > offx else 0
        lo = min(lo, OW)
        hi = max(min(hi, OW), lo)
        ulo, usw, m, uOW, uhi = _U(lo), _U(sw), _U(hi - lo), _U(OW), _U(hi)
        uoff = _U(lo * sw + offx)
        for oy in range(OH):
            iy = oy * sh - pt + i * dh
            base = row + _U(oy) * uOW
            if iy < 0 or iy >= H:
                for t in range(uOW):
                    out[base + t] = 0
                continue
            uiy = _U(iy)
            for t in range(ulo):
                out[base + t] = 0
            for t in range(uhi, uOW):
                out[base + t] = 0
            if sw == 1:
                for t in range(m):
                    out[base + ulo + t] = x[n, c, uiy, uoff + t]
            else:
                for t in range(m):
                    out[base + ulo + t] = x[n, c, uiy, uoff + t * usw]

    # out is flat: element (n, r = (c, i, j), oy, ox) lives at n*sn + r*sr + oy*OW + ox. Tasks own
    # whole output rows (no races); the loop order follows the output layout so writes are sequential.
    @numba.njit(cache=True, nogil=True, parallel=True)
    def _im2col_nb(x, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out, sn, sr):
        N, C = x.shape[0], x.shape[1]
        usn, usr = _U(sn), _U(sr)
        if sr > sn:   # (C*kh*kw, N, L): one task per (c, i, j), images inside
            for r in numba.prange(C * kh * kw):
                c = r // (kh * kw)
                i = (r // kw) % kh
                j = r % kw
                for n in range(N):
                    _im2col_rows(x, n, c, i, j, sh, sw, pt, pl, dh, dw, OH, OW, out, _U(r) * usr + _U(n) * usn)
        else:         # (N, C*kh*kw, L): one task per (n, c)
            for p in numba.prange(N * C):
                n = p // C
                c = p - n * C
                for i in range(kh):
                    for j in range(kw):
                        r = (c * kh + i) * kw + j
                        _im2col_rows(x, n, c, i, j, sh, sw, pt, pl, dh, dw, OH, OW, out,
                                     _U(n) * usn + _U(r) * usr)

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
                    ulo, usw, m = _U(lo), _U(sw), _U(hi - lo)
                    uoff = _U(lo * sw + offx)
                    for oy in range(OH):
                        iy = oy * sh - pt + i * dh
                        if iy < 0 or iy >= H:
                            continue
                        uiy = _U(iy)
                        if sw == 1:
                            for t in range(m):
                                out[n, c, uiy, uoff + t] += cols[n, c, i, j, oy, ulo + t]
                        else:
                            for t in range(m):
                                out[n, c, uiy, uoff + t * usw] += cols[n, c, i, j, oy, ulo + t]


def im2col_numba(x, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out=None, knl=False):
    """im2col with the Numba kernel (no padded copy of x: out-of-range taps are written as zeros)."""
    N, C = x.shape[:2]
    R, L = C * kh * kw, OH * OW
    if out is None:
        out = np.empty((R, N, L) if knl else (N, R, L), x.dtype)
    sn, sr = (L, N * L) if knl else (R * L, L)
    _im2col_nb(np.ascontiguousarray(x), kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out.reshape(-1), sn, sr)
    return out


def col2im_numba(cols, C, H, W, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out=None):
    """col2im with the Numba kernel (scatter-add straight into the unpadded image); ``out`` must be zeros."""
    N = cols.shape[0]
    if out is None:
        out = np.zeros((N, C, H, W), cols.dtype)
    _col2im_nb(np.ascontiguousarray(cols).reshape(N, C, kh, kw, OH, OW), kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, out)
    return out


if HAVE_NUMBA:
    im2col, col2im = im2col_numba, col2im_numba
else:  # pragma: no cover - the AUTOGRAD_CORE_NO_NUMBA=1 run
    im2col, col2im = im2col_numpy, col2im_numpy

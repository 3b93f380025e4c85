"""2-D convolution (NCHW) kernels: numpy im2col/col2im for the numpy backend, and Numba kernels that do a
whole convolution on the thread pool.

Geometry (per spatial dim): an output position ``o`` and a kernel tap ``i`` read the input at
``o * stride - pad_before + i * dilation``; positions outside the input read as zero.

* ``im2col(x, ...)`` (numpy): x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), with
  ``cols[n, (c, i, j), (oy, ox)] = x[n, c, oy*sh - pt + i*dh, ox*sw - pl + j*dw]``.
  This layout makes ``weight (O, C*kh*kw) @ cols[n]`` come out as (O, OH*OW), which is NCHW: no
  transposes on the forward path. With ``knl=True`` the same numbers are laid out
  (C*kh*kw, N, OH*OW), so that the weight gradient can be one matmul over all images.
* ``col2im(cols, ...)`` (numpy): the adjoint, a scatter-add of cols back into (N, C, H, W).
* ``col2im_batch(cols, out, ...)``: the same scatter-add from whole-batch columns (C*kh*kw, N, OH*OW), one
  (n, c) plane per item on the thread pool (``ops.conv``'s path for few output pixels per image).
* ``conv_fused`` / ``conv_transpose_fused``: whole convolutions (forward, weight gradient, input
  gradient) as Numba kernels over runs of images, one run per chunk of the thread pool. Up to
  ``DIRECT_MAX_O`` output channels at stride 1 (one group) the parts in ``DIRECT_PARTS`` are direct
  convolutions (no BLAS); otherwise each image's columns are built in cache and multiplied by BLAS
  called from inside the kernel (``kernels.blas``), in the column blocks of OpenBLAS's small-matrix
  kernels where they serve. They return None while their kernel is still compiling (the caller then
  runs the numpy path). ``FUSED`` says whether they exist (Numba and SciPy); ``fused_ready(dtype)``
  whether they may serve now (Numba backend, float32/float64).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import HAVE_NUMBA, scratch
from .blas import HAVE_BLAS, column_block, gemm, kernel_gemm, small_gemm_kernels
from .compile import jit, kernel, numba_active
from .threads import PerThread, parallel_for, parallel_range, range_kernel, team_size

__all__ = ["im2col", "col2im", "im2col_numpy", "col2im_numpy", "col2im_batch", "FUSED", "conv_fused",
           "conv_transpose_fused", "fused_ready"]


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
    @jit(inline="always")
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

    @jit(inline="always")
    def _col2im_plane(cols, base, n, c, out, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW):
        """Scatter-add plane (n, c) of flat cols, element (c, i, j, oy, ox) at
        base + (((c*kh + i)*kw + j)*OH + oy)*OW + ox, into out[n, c] (tasks own whole planes)."""
        H, W = out.shape[2], out.shape[3]
        for i in range(kh):
            for j in range(kw):
                offx = j * dw - pl
                lo = 0 if offx >= 0 else (-offx + sw - 1) // sw
                hi = (W - offx + sw - 1) // sw if W > offx else 0
                lo = min(lo, OW)
                hi = max(min(hi, OW), lo)
                ulo, usw, m = _U(lo), _U(sw), _U(hi - lo)
                uoff = _U(lo * sw + offx)
                row0 = base + _U(((c * kh + i) * kw + j) * OH * OW)
                for oy in range(OH):
                    iy = oy * sh - pt + i * dh
                    if iy < 0 or iy >= H:
                        continue
                    uiy = _U(iy)
                    src = row0 + _U(oy * OW) + ulo
                    if sw == 1:
                        for t in range(m):
                            out[n, c, uiy, uoff + t] += cols[src + t]
                    else:
                        for t in range(m):
                            out[n, c, uiy, uoff + t * usw] += cols[src + t]


# -- fused per-image kernels: columns built in cache and multiplied at once, images over threads ------
# The batch is split into one contiguous run of images per thread. Each thread builds one image's
# columns in its own scratch (so they never leave its cache) and calls BLAS on them from inside the
# kernel. Stride-1 convolutions use "wide" columns: the image is zero-padded to (Hp, Wp) and output
# position (oy, ox) is column q = oy*Wp + ox, so that every column row is ONE contiguous run of the
# padded image, (OH-1)*Wp + OW long (the columns with ox >= OW are junk: their outputs are dropped and
# their gradients are zero). Other strides use the plain (C*kh*kw, OH*OW) columns of ``_im2col_rows``.
if HAVE_NUMBA and HAVE_BLAS:
    @jit(inline="always")
    def _pad_image(x, n, P, Hp, Wp, pt, pl):
        """P (C*Hp*Wp, flat) <- x[n] placed at (pt, pl) inside zeros (cropped where it sticks out)."""
        C, H, W = x.shape[1], x.shape[2], x.shape[3]
        lo = min(pl, Wp)
        hi = max(min(W + pl, Wp), lo)
        m = _U(hi - lo)
        for c in range(C):
            for y in range(Hp):
                base = _U((c * Hp + y) * Wp)
                iy = y - pt
                if iy < 0 or iy >= H:
                    for t in range(_U(Wp)):
                        P[base + t] = 0
                    continue
                for t in range(_U(lo)):
                    P[base + t] = 0
                for t in range(_U(hi), _U(Wp)):
                    P[base + t] = 0
                for t in range(m):
                    P[base + _U(lo) + t] = x[n, c, _U(iy), _U(lo - pl) + t]

    @jit(inline="always")
    def _image_cols(x, n, cols, P, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, Hp, Wp, Lc, wide):
        """Columns of image n into flat cols: row r = (c, i, j) at r*Lc (wide or plain layout)."""
        C = x.shape[1]
        if wide:
            _pad_image(x, n, P, Hp, Wp, pt, pl)
            for c in range(C):
                for i in range(kh):
                    for j in range(kw):
                        src = _U(c * Hp * Wp + i * dh * Wp + j * dw)
                        dst = _U(((c * kh + i) * kw + j) * Lc)
                        for q in range(_U(Lc)):
                            cols[dst + q] = P[src + q]
        else:
            for c in range(C):
                for i in range(kh):
                    for j in range(kw):
                        _im2col_rows(x, n, c, i, j, sh, sw, pt, pl, dh, dw, OH, OW, cols,
                                     _U(((c * kh + i) * kw + j) * Lc))

    @jit(inline="always")
    def _wide_grad(g, n, gw_, Wp, Lc):
        """Valid part of g[n] (O, OH, OW) into the wide layout (O, Lc); junk columns keep their zeros."""
        O, OH, OW = g.shape[1], g.shape[2], g.shape[3]
        for o in range(O):
            for oy in range(OH):
                dst = _U(o * Lc + oy * Wp)
                for t in range(_U(OW)):
                    gw_[dst + t] = g[n, o, oy, t]

    @jit(inline="always")
    def _grad_rows(g, n, buf, Wp, Lc, wide):
        """g[n] as an (O, Lc) matrix, flat: wide (copied into buf, whose junk columns stay 0) or g[n] itself."""
        if wide:
            _wide_grad(g, n, buf, Wp, Lc)
            return buf
        return g[n].reshape(-1)

    @jit(inline="always")
    def _grad_transposed(g, n, gT, row, Lc, G):
        """g[n] (O, OH, OW) as G blocks (Lc, O/G): column q = oy*row + ox of group block gi at gi*Lc*Og.
        (The weight gradient is then cols @ gT, a plain product; cols @ g^T, both operands read along
        their rows, ran 2x slower in OpenBLAS.) Junk columns keep their zeros."""
        O, OH, OW = g.shape[1], g.shape[2], g.shape[3]
        Og = O // G
        for o in range(O):
            gi = o // Og
            base = gi * Lc * Og + (o - gi * Og)
            for oy in range(OH):
                d0 = _U(base + oy * row * Og)
                for t in range(_U(OW)):
                    gT[d0 + t * _U(Og)] = g[n, o, oy, t]

    @kernel("conv2d_images")
    def _conv_images(f, x, w, bias, out, g, gwt, cols, P, wo, wg, kh, kw, sh, sw, pt, pl, dh, dw,
                     OH, OW, groups, limit, gw_nn, n0, n1):
        """Images n0..n1-1: out[n] = w @ cols(x[n]) + bias (if out has images) and gwt += g[n] @ cols^T (if gwt
        is not empty; transposed per group if gw_nn). w (O, K), out/g (N, O, OH, OW); cols, P, wo, wg: this
        thread's scratch (columns, padded image, wide outputs, wide g whose junk columns stay 0)."""
        O = w.shape[0]
        G = groups
        Og = O // G
        K = w.shape[1]
        wide = sh == 1 and sw == 1
        Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
        L = OH * OW
        Lc = (OH - 1) * Wp + OW if wide else L
        do_out, do_gw = out.shape[0] > 0, gwt.shape[0] > 0
        wf = w.reshape(-1)
        step_out = max(1, limit // (Og * K))
        if do_gw:
            wg[:] = 0
        for n in range(n0, n1):
            _image_cols(x, n, cols, P, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, Hp, Wp, Lc, wide)
            if do_out:
                of = out[n].reshape(-1)
                dst = wo if wide else of
                for gi in range(G):
                    for s in range(0, Lc, step_out):
                        e = min(Lc, s + step_out)
                        gemm(f, False, False, Og, e - s, K, wf[gi * Og * K:], K, cols[gi * K * Lc + s:], Lc,
                             0.0, dst[gi * Og * Lc + s:], Lc)
                for o in range(O):
                    b = bias[o] if bias.shape[0] else 0.0
                    for oy in range(OH):
                        src = _U(o * Lc + oy * (Wp if wide else OW))
                        d0 = _U(o * L + oy * OW)
                        if wide:
                            for q in range(_U(OW)):
                                of[d0 + q] = wo[src + q] + b
                        elif bias.shape[0]:
                            for q in range(_U(OW)):
                                of[d0 + q] += b
            if do_gw and gw_nn:   # gwt: G blocks (K, Og), the weight gradient transposed
                _grad_transposed(g, n, wg, Wp if wide else OW, Lc, G)
                for gi in range(G):
                    for s in range(0, Lc, step_out):
                        e = min(Lc, s + step_out)
                        gemm(f, False, False, K, Og, e - s, cols[gi * K * Lc + s:], Lc, wg[gi * Lc * Og + s * Og:],
                             Og, 1.0, gwt[gi * K * Og:], Og)
            elif do_gw:           # gwt: (O, K)
                gm = _grad_rows(g, n, wg, Wp, Lc, wide)
                for gi in range(G):
                    for s in range(0, Lc, step_out):
                        e = min(Lc, s + step_out)
                        gemm(f, False, True, Og, K, e - s, gm[gi * Og * Lc + s:], Lc, cols[gi * K * Lc + s:], Lc,
                             1.0, gwt[gi * Og * K:], K)

    @kernel("conv_transpose2d_images")
    def _conv_t_images(f, g, w, bias, out, cols, P, wb, kh, kw, sh, sw, pt, pl, dh, dw, groups, limit, n0, n1):
        """Images n0..n1-1: out[n] = col2im(w^T @ g[n]) + bias, the adjoint of conv2d in x. g (N, O, OH, OW),
        w: G blocks (K, O/G) (the weight transposed per group, K = C/groups*kh*kw), out (N, C, H, W)."""
        O, OH, OW = g.shape[1], g.shape[2], g.shape[3]
        C, H, W = out.shape[1], out.shape[2], out.shape[3]
        G = groups
        Og = O // G
        K = w.shape[0] // G
        wide = sh == 1 and sw == 1
        Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
        L = OH * OW
        Lc = (OH - 1) * Wp + OW if wide else L
        wf = w.reshape(-1)
        step = max(1, limit // (Og * K))
        if wide:
            wb[:] = 0
        for n in range(n0, n1):
            gm = _grad_rows(g, n, wb, Wp, Lc, wide)
            for gi in range(G):
                for s in range(0, Lc, step):
                    e = min(Lc, s + step)
                    gemm(f, False, False, K, e - s, Og, wf[gi * K * Og:], Og, gm[gi * Og * Lc + s:], Lc,
                         0.0, cols[gi * K * Lc + s:], Lc)
            if wide:
                P[:] = 0
                for c in range(C):
                    for i in range(kh):
                        for j in range(kw):
                            dst = _U(c * Hp * Wp + i * dh * Wp + j * dw)
                            src = _U(((c * kh + i) * kw + j) * Lc)
                            for q in range(_U(Lc)):
                                P[dst + q] += cols[src + q]
                for c in range(C):
                    b = bias[c] if bias.shape[0] else 0.0
                    for y in range(H):
                        py = y + pt
                        if py >= Hp:
                            for q in range(_U(W)):
                                out[n, c, y, q] = b
                            continue
                        m = _U(max(0, min(W, Wp - pl)))
                        src = _U((c * Hp + py) * Wp + pl)
                        for q in range(m):
                            out[n, c, y, q] = P[src + q] + b
                        for q in range(m, _U(W)):
                            out[n, c, y, q] = b
            else:
                out[n] = 0
                for c in range(C):
                    _col2im_plane(cols, _U(0), n, c, out, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW)
                    if bias.shape[0]:
                        # element by element: an array assigned to a slice (out[n, c] += b) makes Numba
                        # compile its shape-mismatch error, ~3 s of a cold start
                        b = bias[c]
                        for y in range(H):
                            for q in range(_U(W)):
                                out[n, c, y, q] += b


# -- direct convolution for few output channels (stride 1, one group) ---------------------------------
# OpenBLAS's kernels are a poor fit for a 6- or 16-row product: on an AVX2-only CPU (its Haswell
# kernels) LeNet's first convolution ran 3.5x slower than with its AVX-512 ones. These kernels skip BLAS
# and im2col: at stride 1, row k = (c, i, j) of the wide columns is the zero-padded image shifted by
# ``offs[k]``, so an output row is a sum of K shifted image rows times one weight each. The innermost
# loops run along contiguous positions (LLVM vectorizes them), over tiles of ``_TILE`` positions so that
# the rows being summed stay in L1. ``z`` is a zero of the arrays' dtype, so that sums keep that dtype
# (a literal 0 would make float32 sums float64).
_TILE = 256

if HAVE_NUMBA and HAVE_BLAS:
    @jit(inline="always")
    def _tap_offsets(C, kh, kw, dh, dw, Hp, Wp):
        """offs[k] for k = (c, i, j): where row k of the wide columns starts in the padded image."""
        offs = np.empty(C * kh * kw, np.uint64)
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    offs[(c * kh + i) * kw + j] = c * Hp * Wp + i * dh * Wp + j * dw
        return offs

    @kernel("conv2d_direct", error_model="numpy", fastmath={"contract"})
    def _conv_direct(x, w, bias, out, P, wo, z, kh, kw, pt, pl, dh, dw, OH, OW, n0, n1):
        """out[n] = w (O, K) @ wide columns of x[n] + bias, for images n0..n1-1 (stride 1, one group);
        wo holds O + 1 rows of Lc."""
        C = x.shape[1]
        O, K = w.shape[0], w.shape[1]
        Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
        Lc = (OH - 1) * Wp + OW
        offs = _tap_offsets(C, kh, kw, dh, dw, Hp, Wp)
        nb = bias.shape[0]
        for n in range(n0, n1):
            _pad_image(x, n, P, Hp, Wp, pt, pl)
            for t0 in range(0, Lc, _TILE):
                m = _U(min(_TILE, Lc - t0))
                # Two output channels and four taps per pass: 4 loads of the image feed 8 multiply-adds,
                # the most that AVX2's 16 registers hold. An odd last channel is computed twice, the second
                # time into the spare row O of wo.
                o = 0
                while o < O:
                    o1 = min(o + 1, O - 1)
                    d0, d1 = _U(o * Lc + t0), _U((o1 if o1 > o else O) * Lc + t0)
                    b0 = bias[o] if nb else z
                    b1 = bias[o1] if nb else z
                    for t in range(m):
                        wo[d0 + t] = b0
                    for t in range(m):
                        wo[d1 + t] = b1
                    k = 0
                    while k + 4 <= K:
                        a0, a1, a2, a3 = w[o, k], w[o, k + 1], w[o, k + 2], w[o, k + 3]
                        c0, c1, c2, c3 = w[o1, k], w[o1, k + 1], w[o1, k + 2], w[o1, k + 3]
                        s0, s1 = offs[k] + _U(t0), offs[k + 1] + _U(t0)
                        s2, s3 = offs[k + 2] + _U(t0), offs[k + 3] + _U(t0)
                        for t in range(m):
                            p0, p1, p2, p3 = P[s0 + t], P[s1 + t], P[s2 + t], P[s3 + t]
                            wo[d0 + t] = (((wo[d0 + t] + a0 * p0) + a1 * p1) + a2 * p2) + a3 * p3
                            wo[d1 + t] = (((wo[d1 + t] + c0 * p0) + c1 * p1) + c2 * p2) + c3 * p3
                        k += 4
                    while k < K:
                        a0, c0 = w[o, k], w[o1, k]
                        s0 = offs[k] + _U(t0)
                        for t in range(m):
                            p0 = P[s0 + t]
                            wo[d0 + t] += a0 * p0
                            wo[d1 + t] += c0 * p0
                        k += 1
                    o += 2
            for o in range(O):
                for oy in range(OH):
                    src = _U(o * Lc + oy * Wp)
                    for q in range(_U(OW)):
                        out[n, o, oy, q] = wo[src + q]

    @jit(inline="always")
    def _add_taps(gw, o, k, k1, k2, k3, a0, a1, a2, a3):
        """gw[o, k..k3] += a0..a3, each tap once (past the last tap, k1..k3 repeat it)."""
        gw[o, k] += a0
        if k1 > k:
            gw[o, k1] += a1
        if k2 > k1:
            gw[o, k2] += a2
        if k3 > k2:
            gw[o, k3] += a3

    @kernel("conv2d_direct_weight", error_model="numpy", fastmath={"contract", "reassoc"})
    def _conv_direct_weight(x, g, gw, P, gwide, z, kh, kw, pt, pl, dh, dw, n0, n1):
        """gw (O, K) += sum over images n0..n1-1 of wide g[n] (O, Lc) @ wide columns of x[n]^T."""
        C = x.shape[1]
        O, OH, OW = g.shape[1], g.shape[2], g.shape[3]
        K = gw.shape[1]
        Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
        Lc = (OH - 1) * Wp + OW
        offs = _tap_offsets(C, kh, kw, dh, dw, Hp, Wp)
        gwide[:] = 0
        for n in range(n0, n1):
            _pad_image(x, n, P, Hp, Wp, pt, pl)
            _wide_grad(g, n, gwide, Wp, Lc)
            # Two gradient rows against four image rows per pass: 6 loads per 8 multiply-adds, 8 sums in
            # registers. Past the last row or tap the pass repeats the last one and adds it only once.
            o = 0
            while o < O:
                o1 = min(o + 1, O - 1)
                g0, g1 = _U(o * Lc), _U(o1 * Lc)
                k = 0
                while k < K:
                    k1, k2, k3 = min(k + 1, K - 1), min(k + 2, K - 1), min(k + 3, K - 1)
                    s0, s1, s2, s3 = offs[k], offs[k1], offs[k2], offs[k3]
                    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = z
                    for t in range(_U(Lc)):
                        u, v = gwide[g0 + t], gwide[g1 + t]
                        p0, p1, p2, p3 = P[s0 + t], P[s1 + t], P[s2 + t], P[s3 + t]
                        a0 += u * p0
                        a1 += u * p1
                        a2 += u * p2
                        a3 += u * p3
                        b0 += v * p0
                        b1 += v * p1
                        b2 += v * p2
                        b3 += v * p3
                    _add_taps(gw, o, k, k1, k2, k3, a0, a1, a2, a3)
                    if o1 > o:
                        _add_taps(gw, o1, k, k1, k2, k3, b0, b1, b2, b3)
                    k += 4
                o += 2

    @kernel("conv_transpose2d_direct", error_model="numpy", fastmath={"contract"})
    def _conv_t_direct(g, w, bias, out, P, gwide, z, kh, kw, pt, pl, dh, dw, n0, n1):
        """out[n] = the adjoint of the direct conv in x: wide w^T @ g[n] scattered back (+ bias (C,))."""
        O, OH, OW = g.shape[1], g.shape[2], g.shape[3]
        C, H, W = out.shape[1], out.shape[2], out.shape[3]
        K = w.shape[1]
        Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
        Lc = (OH - 1) * Wp + OW
        offs = _tap_offsets(C, kh, kw, dh, dw, Hp, Wp)
        nb = bias.shape[0]
        gwide[:] = 0
        for n in range(n0, n1):
            _wide_grad(g, n, gwide, Wp, Lc)
            P[:] = 0
            for t0 in range(0, Lc, _TILE):
                m = _U(min(_TILE, Lc - t0))
                for k in range(K):
                    d = offs[k] + _U(t0)
                    o = 0
                    while o + 4 <= O:      # four gradient rows per pass
                        v0, v1, v2, v3 = w[o, k], w[o + 1, k], w[o + 2, k], w[o + 3, k]
                        s0 = _U(o * Lc + t0)
                        s1, s2, s3 = s0 + _U(Lc), s0 + _U(2 * Lc), s0 + _U(3 * Lc)
                        for t in range(m):
                            P[d + t] += v0 * gwide[s0 + t] + v1 * gwide[s1 + t] + v2 * gwide[s2 + t] + v3 * gwide[s3 + t]
                        o += 4
                    while o < O:
                        v = w[o, k]
                        s0 = _U(o * Lc + t0)
                        for t in range(m):
                            P[d + t] += v * gwide[s0 + t]
                        o += 1
            for c in range(C):
                b = bias[c] if nb else z
                for y in range(H):
                    py = y + pt
                    if py >= Hp:
                        for q in range(_U(W)):
                            out[n, c, y, q] = b
                        continue
                    m = _U(max(0, min(W, Wp - pl)))
                    src = _U((c * Hp + py) * Wp + pl)
                    for q in range(m):
                        out[n, c, y, q] = P[src + q] + b
                    for q in range(m, _U(W)):
                        out[n, c, y, q] = b


FUSED = HAVE_NUMBA and HAVE_BLAS


def _fused_geometry(C, kh, kw, sh, sw, dh, dw, OH, OW):
    wide = sh == 1 and sw == 1
    Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
    Lc = (OH - 1) * Wp + OW if wide else OH * OW
    return wide, Hp, Wp, Lc


def _chunks(N, per_image_work):
    """(chunks, images per chunk): a few chunks per thread so that a thread slowed by another process does
    fewer, but none so small that the call overhead (~10 us) shows."""
    from .threads import threads_now
    T = threads_now()
    if T <= 1:
        return 1, N
    want = min(N, 4 * T, max(1, (N * per_image_work) // 200_000))
    per = -(-N // max(want, 1))
    return -(-N // per), per


def _fused_scratch(T, C, O, kh, kw, wide, Hp, Wp, Lc, dtype):
    """Per-thread scratch: columns, the padded image and two (O, Lc) buffers (wide outputs, gradients)."""
    cols = scratch.take((T, C * kh * kw * Lc), dtype)
    pad = scratch.take((T, C * Hp * Wp if wide else 0), dtype)
    wbuf = scratch.take((T, 2 * O * Lc), dtype)
    return cols, pad, wbuf


def _conv_chunk(i, tid, k, per, N, x, w, b, out, g, parts, cols, pad, wbuf, OLc, geo):
    k(*geo[:1], x, w, b, out, g, parts[tid], cols[tid], pad[tid], wbuf[tid, :OLc], wbuf[tid, OLc:], *geo[1:],
      i * per, min(N, (i + 1) * per))


def fused_ready(dtype):
    """Whether the fused kernels can serve ``dtype`` now (Numba backend, float32/float64)."""
    return FUSED and numba_active() and np.dtype(dtype).char in "fd"


# Output channels up to which the direct kernels serve stride-1, one-group convolutions (measured, LeNet's
# 6 and 16 at 1 thread, AVX2: direct 3-4x faster than OpenBLAS's Haswell kernels).
DIRECT_MAX_O = 16
# Which of a convolution's three parts ("out": the forward, "gw": the weight gradient, "x": the input
# gradient) the direct kernels do. Where numpy's OpenBLAS has the AVX-512 small-matrix kernels, its gemm per
# image (in their column blocks) beat the direct forward and input gradient (1 thread, batch 64: a 16-channel
# 3x3 conv on 32x32, forward 7.6 -> 5.9 ms, input gradient 13.3 -> 5.9; LeNet's second conv 1.6 -> 1.2 and
# 2.9 -> 1.3), and the direct weight gradient stayed as fast or faster (5.8 against 7.4 ms).
DIRECT_PARTS = ("gw",) if small_gemm_kernels() else ("out", "gw", "x")


def _direct_ok(O, groups, sh, sw, part):
    return groups == 1 and sh == 1 and sw == 1 and O <= DIRECT_MAX_O and part in DIRECT_PARTS


def _conv_direct_run(x, w, bias, g, kh, kw, pt, pl, dh, dw, OH, OW, want_out, want_gw):
    """conv_fused's work by the direct kernels; None while they are not compiled."""
    N, C = x.shape[:2]
    dt = x.dtype
    O = w.shape[0]
    K = C * kh * kw
    Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
    Lc = (OH - 1) * Wp + OW
    x = np.ascontiguousarray(x)
    nchunks, per = _chunks(N, O * K * OH * OW)
    T = team_size(nchunks)
    out = gw = None
    P = scratch.take((T, C * Hp * Wp), dt)
    wb = scratch.take((T, (O + 1) * Lc), dt)
    try:
        if want_out:
            w2 = np.ascontiguousarray(w, dtype=dt).reshape(O, K)
            b = np.empty(0, dt) if bias is None else np.ascontiguousarray(bias, dtype=dt)
            out = np.empty((N, O, OH, OW), dt)
            geo = (kh, kw, pt, pl, dh, dw, OH, OW)
            args = (x, w2, b, out, PerThread(P), PerThread(wb), dt.type(0)) + geo
            k = range_kernel(_conv_direct, dt.char, args)
            if k is None:
                return None
            parallel_range(_conv_direct, k, args, N, per=per, team=T)
        if want_gw:
            g = np.ascontiguousarray(g, dtype=dt)
            parts = np.zeros((T, O, K), dt)
            geo = (kh, kw, pt, pl, dh, dw)
            args = (x, g, PerThread(parts), PerThread(P), PerThread(wb), dt.type(0)) + geo
            k = range_kernel(_conv_direct_weight, dt.char, args)
            if k is None:
                return None
            parallel_range(_conv_direct_weight, k, args, N, per=per, team=T)
            gw = (parts[0] if T == 1 else parts.sum(axis=0)).reshape(O, C, kh, kw)
    finally:
        scratch.give(P)
        scratch.give(wb)
    return out, gw


# A product per image of (m, k) @ (k, n) with m k at most _BLOCK_MK, or at most _BLOCK_MK_NARROW and n at
# most _NARROW, runs in the column blocks that OpenBLAS's AVX-512 small-matrix kernels take
# (``blas.column_block``): a 32-channel 3x3 convolution's forward per 16x16 image, (32, 288) @ (288, 286),
# 73 -> 59 us; its input gradient, (288, 32) @ (32, 286), 66 -> 57; 64 channels of 64 on 8x8 images,
# forward and both gradients, 19.3 -> 17.2 ms for a batch of 64 at 1 thread, 13.2 -> 12.5 at 2. On wider
# images with as many channels, (64, 576) @ (576, 1086) per 32x32 image, blocks were ~3 % slower.
_BLOCK_MK = 32 * 288
_BLOCK_MK_NARROW = 64 * 576
_NARROW = 640


def _block_limit(limit, m, n, k):
    """The kernels' per-call limit of multiply-adds for a product (m, k) @ (k, n) per image and group."""
    if limit < (1 << 62) or m * k > (_BLOCK_MK if n > _NARROW else _BLOCK_MK_NARROW):
        return limit
    nb = column_block(m, n, k)
    return limit if nb >= n else m * k * nb


def conv_fused(x, w, bias, g, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, groups, want_out=True, want_gw=False):
    """conv2d of x (N, C, H, W) with w (O, C/groups, kh, kw) -> (out (N, O, OH, OW) or None, dw or None),
    where dw = sum_n g[n] @ cols(x[n])^T is the weight gradient for output gradient g. Float32/64.
    For the weight gradient alone, ``w`` may be just the weight's shape. Returns None while the kernel is
    not compiled yet (the caller runs the numpy path)."""
    N, C = x.shape[:2]
    dt = x.dtype
    if not want_out:
        w = np.empty(w if isinstance(w, tuple) else w.shape, dt)   # only its shape is read
    O = w.shape[0]
    if ((not want_out or _direct_ok(O, groups, sh, sw, "out"))
            and (not want_gw or _direct_ok(O, groups, sh, sw, "gw"))):
        return _conv_direct_run(x, w, bias, g, kh, kw, pt, pl, dh, dw, OH, OW, want_out, want_gw)
    x = np.ascontiguousarray(x)
    wide, Hp, Wp, Lc = _fused_geometry(C, kh, kw, sh, sw, dh, dw, OH, OW)
    nchunks, per = _chunks(N, O * w[0].size * OH * OW)
    T = team_size(nchunks)
    out = np.empty((N if want_out else 0, O, OH, OW), dt)
    # The weight gradient as cols @ g^T (both read along rows) or, from 16 output channels per group,
    # as cols @ (g transposed) (a plain product): the faster in OpenBLAS for each (measured, 1 thread:
    # 90 vs 67 GFLOP/s at 6 channels (LeNet's first conv), 36 vs 83 at 16 (its second)).
    gw_nn = O // groups >= 16
    parts = np.zeros((T, O * w[0].size if want_gw else 0), dt)
    g = np.ascontiguousarray(g, dtype=dt) if want_gw else np.empty((0, O, OH, OW), dt)
    b = np.empty(0, dt) if bias is None else np.ascontiguousarray(bias, dtype=dt)
    w2 = np.ascontiguousarray(w).reshape(O, -1)
    f, limit, hold = kernel_gemm(dt)
    if want_out and not want_gw:
        limit = _block_limit(limit, O // groups, Lc, w[0].size)
    geo = (f, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, groups, limit, gw_nn)
    k = _conv_images.get(dt.char, (geo[0], x, w2, b, out, g, parts[0], out.reshape(-1), out.reshape(-1),
                                   out.reshape(-1), out.reshape(-1)) + geo[1:] + (0, 0))
    if k is None:
        return None
    cols, pad, wbuf = bufs = _fused_scratch(T, C, O, kh, kw, wide, Hp, Wp, Lc, dt)
    try:
        with hold():
            parallel_for(_conv_chunk, nchunks, k, per, N, x, w2, b, out, g, parts, cols, pad, wbuf, O * Lc, geo)
    finally:
        for a in bufs:
            scratch.give(a)
    gw = None
    if want_gw:
        gw = parts[0] if T == 1 else parts.sum(axis=0)
        if gw_nn:
            gw = gw.reshape(groups, -1, O // groups).transpose(0, 2, 1)
        gw = np.ascontiguousarray(gw).reshape(w.shape)
    return (out if want_out else None), gw


def _conv_t_chunk(i, tid, k, per, N, g, wt, b, out, cols, pad, wbuf, geo):
    k(geo[0], g, wt, b, out, cols[tid], pad[tid], wbuf[tid], *geo[1:], i * per, min(N, (i + 1) * per))


def conv_transpose_fused(g, w, bias, H, W, kh, kw, sh, sw, pt, pl, dh, dw, groups):
    """The adjoint of conv2d in x: g (N, O, OH, OW), w (O, C/groups, kh, kw) -> (N, C, H, W) (+ bias (C,)),
    or None while the kernel is not compiled yet."""
    N, O, OH, OW = g.shape
    C = w.shape[1] * groups
    dt = g.dtype
    if _direct_ok(O, groups, sh, sw, "x"):
        return _conv_t_direct_run(g, w, bias, H, W, kh, kw, pt, pl, dh, dw)
    wide, Hp, Wp, Lc = _fused_geometry(C, kh, kw, sh, sw, dh, dw, OH, OW)
    out = np.empty((N, C, H, W), dt)
    b = np.empty(0, dt) if bias is None else np.ascontiguousarray(bias, dtype=dt)
    g = np.ascontiguousarray(g)
    wt = np.ascontiguousarray(w.reshape(groups, O // groups, -1).transpose(0, 2, 1)).reshape(-1, O // groups)
    f, limit, hold = kernel_gemm(dt)
    limit = _block_limit(limit, wt.shape[0] // groups, Lc, O // groups)
    geo = (f, kh, kw, sh, sw, pt, pl, dh, dw, groups, limit)
    k = _conv_t_images.get(dt.char, (geo[0], g, wt, b, out, out.reshape(-1), out.reshape(-1), out.reshape(-1))
                           + geo[1:] + (0, 0))
    if k is None:
        return None
    nchunks, per = _chunks(N, O * w[0].size * OH * OW)
    T = team_size(nchunks)
    cols, pad, wbuf = bufs = _fused_scratch(T, C, O, kh, kw, wide, Hp, Wp, Lc, dt)
    try:
        with hold():
            parallel_for(_conv_t_chunk, nchunks, k, per, N, g, wt, b, out, cols, pad, wbuf[:, :O * Lc], geo)
    finally:
        for a in bufs:
            scratch.give(a)
    return out


def _conv_t_direct_run(g, w, bias, H, W, kh, kw, pt, pl, dh, dw):
    """conv_transpose_fused's work by the direct kernel; None while it is not compiled."""
    N, O, OH, OW = g.shape
    C = w.shape[1]
    dt = g.dtype
    K = C * kh * kw
    Hp, Wp = OH + dh * (kh - 1), OW + dw * (kw - 1)
    Lc = (OH - 1) * Wp + OW
    g = np.ascontiguousarray(g)
    w2 = np.ascontiguousarray(w, dtype=dt).reshape(O, K)
    b = np.empty(0, dt) if bias is None else np.ascontiguousarray(bias, dtype=dt)
    out = np.empty((N, C, H, W), dt)
    nchunks, per = _chunks(N, O * K * OH * OW)
    T = team_size(nchunks)
    P = scratch.take((T, C * Hp * Wp), dt)
    gwide = scratch.take((T, O * Lc), dt)
    try:
        geo = (kh, kw, pt, pl, dh, dw)
        args = (g, w2, b, out, PerThread(P), PerThread(gwide), dt.type(0)) + geo
        k = range_kernel(_conv_t_direct, dt.char, args)
        if k is None:
            return None
        parallel_range(_conv_t_direct, k, args, N, per=per, team=T)
    finally:
        scratch.give(P)
        scratch.give(gwide)
    return out


# -- col2im of whole-batch columns ------------------------------------------------------------------
# The input gradient of a convolution with few output pixels runs as one product for the whole batch,
# whose (C*kh*kw, N, OH*OW) result is scattered back here, one (n, c) plane per item (numpy's strided
# adds, one per tap over 4-pixel rows, took 7 ms for a (16, 256, 8, 8) input).
if HAVE_NUMBA:
    @kernel("col2im_batch", error_model="numpy")
    def _col2im_batch_k(cols, out, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW, p0, p1):
        """Planes p0..p1-1 (p = n C + c) of out (N, C, H, W) = the scatter-add of cols (C kh kw, N, OH OW)."""
        C, H, W = out.shape[1], out.shape[2], out.shape[3]
        for p in range(p0, p1):
            n = p // C
            c = p - n * C
            for y in range(H):
                for x in range(W):
                    out[n, c, y, x] = 0
            for i in range(kh):
                for j in range(kw):
                    r = (c * kh + i) * kw + j
                    for oy in range(OH):
                        iy = oy * sh - pt + i * dh
                        if iy < 0 or iy >= H:
                            continue
                        for ox in range(OW):
                            ix = ox * sw - pl + j * dw
                            if ix >= 0 and ix < W:
                                out[n, c, iy, ix] += cols[r, n, oy * OW + ox]


def col2im_batch(cols, out, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW):
    """out (N, C, H, W) <- col2im of whole-batch columns ``cols`` (C*kh*kw, N, OH*OW), C-contiguous, on the
    thread pool; False where the kernel does not serve (the caller runs ``col2im_numpy``)."""
    if not HAVE_NUMBA or not numba_active() or cols.dtype != out.dtype or cols.dtype.char not in "fd" \
            or not cols.flags.c_contiguous or not out.flags.c_contiguous:
        return False
    args = (cols, out, kh, kw, sh, sw, pt, pl, dh, dw, OH, OW)
    k = range_kernel(_col2im_batch_k, cols.dtype.char, args)
    if k is None:
        return False
    N, C = out.shape[:2]
    parallel_range(_col2im_batch_k, k, args, N * C, kh * kw * OH * OW, 1 << 18, 1 << 15)
    return True


im2col, col2im = im2col_numpy, col2im_numpy

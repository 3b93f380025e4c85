"""Pooling and upsampling (NCHW): max_pool2d, avg_pool2d, adaptive_avg_pool2d, upsample_nearest2d.

Each op comes with its adjoint so that the family is closed under differentiation:

* ``max_pool2d`` (argmax in a Numba kernel, ``kernels.pool``) -> VJP ``max_pool2d_scatter``
  (scatter-add of g to the argmax positions), whose VJP is ``max_pool2d_gather`` (read at the
  argmax positions), whose VJP is the scatter again. The argmax indices are fixed by the forward.
* ``avg_pool2d`` <-> ``avg_pool2d_backward``: both linear, each the other's adjoint.
* ``upsample_nearest2d``: the VJP sums each (sh, sw) block (a reshape and a sum, both taped ops).
* ``adaptive_avg_pool2d`` is a mean, an avg_pool2d, or a mean over gathered bins per axis (PyTorch's
  bins, start = floor(i H / OH), end = ceil((i + 1) H / OH)).

Output sizes and argument checks follow PyTorch (``pooling_output_shape``): with ``ceil_mode``
the last window must start inside the input or its left padding, and padding is at most half
the kernel.
"""
from __future__ import annotations

import numpy as np

from ..errors import OpError
from ..kernels.pool import maxpool2d, maxpool2d_scatter
from ..tensor import Tensor
from .conv import _pair, _unbatched
from .registry import defop, xp

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "upsample_nearest2d"]


# -- max pooling --------------------------------------------------------------------------------
def _max_pool2d(x, *, kernel_size, stride, padding, dilation, out_size):
    """x (N, C, H, W) -> ((N, C, OH, OW), argmax indices): the max over each (dilated) window."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (OH, OW) = kernel_size, stride, padding, dilation, out_size
    return maxpool2d(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


def _max_pool2d_vjp(g, ans, x, *, res, kernel_size, stride, padding, dilation, out_size):
    return xp.max_pool2d_scatter(g, indices=res, in_size=tuple(x.shape[2:]))


def _scatter(g, *, indices, in_size):
    """g (N, C, OH, OW) -> (N, C, H, W): zeros with g added at the argmax positions ``indices``."""
    return maxpool2d_scatter(g, indices, in_size[0], in_size[1])


def _gather(G, *, indices, in_size):
    """G (N, C, H, W) -> (N, C, OH, OW): G read at the argmax positions ``indices``."""
    N, C = G.shape[:2]
    return np.take_along_axis(G.reshape(N, C, -1), indices.reshape(N, C, -1), axis=2).reshape(indices.shape)


_max_pool2d_op = defop("max_pool2d", _max_pool2d, (_max_pool2d_vjp,), uses=(), residuals=True)
_scatter_op = defop("max_pool2d_scatter", _scatter,
                    (lambda g, ans, gin, indices, in_size: xp.max_pool2d_gather(g, indices=indices, in_size=in_size),),
                    uses=())
_gather_op = defop("max_pool2d_gather", _gather,
                   (lambda g, ans, G, indices, in_size: xp.max_pool2d_scatter(g, indices=indices, in_size=in_size),),
                   uses=())


def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Checked ((kh, kw), (sh, sw), (ph, pw), (dh, dw), (OH, OW)) as PyTorch computes them."""
    if x.ndim != 4:
        raise OpError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(x.shape)}")
    k = _pair(kernel_size, "kernel_size", op, 1)
    empty = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    s = k if empty else _pair(stride, "stride", op, 1)
    p = _pair(padding, "padding", op, 0)
    d = _pair(dilation, "dilation", op, 1)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise OpError(f"{op}: padding {p} must be at most half of kernel_size {k}")
    out = []
    for size, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d):
        n = size + 2 * pp - dd * (kk - 1) - 1 + (ss - 1 if ceil_mode else 0)
        o = n // ss + 1
        if ceil_mode and (o - 1) * ss >= size + pp:
            o -= 1
        out.append(o)
    if min(out) < 1:
        raise OpError(f"{op}: input shape {tuple(x.shape)} is too small for kernel_size {k}, stride {s}, "
                         f"padding {p}, dilation {d}: the output size would be {tuple(out)}")
    for size, kk, ss, pp, dd, o in zip(x.shape[2:], k, s, p, d, out):
        for i in range(o):
            if not any(0 <= i * ss - pp + t * dd < size for t in range(kk)):
                # PyTorch returns -inf with an index outside the input here; refuse instead.
                raise OpError(f"{op}: with input shape {tuple(x.shape)}, kernel_size {k}, stride {s}, "
                                 f"padding {p}, dilation {d}, output position {i} has a window with no input "
                                 f"element in it (only padding)")
    return k, s, p, d, tuple(out)


@_unbatched
def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over (kh, kw) windows, as ``torch.nn.functional.max_pool2d``.

    x (N, C, H, W) or (C, H, W) -> (N, C, OH, OW), OH = (H + 2p - d (k - 1) - 1) // s + 1 (ceil with
    ``ceil_mode``); stride defaults to kernel_size; padding reads as -inf. The gradient goes to the
    first max of each window. ``return_indices=True`` also returns the int64 flat positions
    ``iy * W + ix`` of the maxima (PyTorch's indices).

    >>> import autograd_core as ag
    >>> x = ag.arange(16.0).reshape(1, 1, 4, 4)
    >>> ag.max_pool2d(x, 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    k, s, p, d, o = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    if x.dtype.kind != "f":
        raise TypeError(f"max_pool2d: expected a floating point input, got dtype {x.dtype}")
    out = _max_pool2d_op(x, kernel_size=k, stride=s, padding=p, dilation=d, out_size=o)
    if return_indices:
        idx = maxpool2d(x._data, *k, *s, *p, *d, *o)[1]   # recomputed: only for callers that ask
        return out, Tensor(idx.astype(np.int64))
    return out


# -- average pooling ----------------------------------------------------------------------------
def _padded_size(in_size, kernel_size, stride, padding, out_size):
    return tuple(max((o - 1) * s + k, n + p) for n, k, s, p, o in zip(in_size, kernel_size, stride, padding,
                                                                       out_size))


def _taps(kernel_size, stride, out_size):
    (kh, kw), (sh, sw), (OH, OW) = kernel_size, stride, out_size
    for i in range(kh):
        for j in range(kw):
            yield (slice(None), slice(None), slice(i, i + (OH - 1) * sh + 1, sh), slice(j, j + (OW - 1) * sw + 1, sw))


def _avg_pool2d(x, *, kernel_size, stride, padding, out_size, divisor):
    """x (N, C, H, W) -> (N, C, OH, OW): each window's sum / divisor[oy, ox]."""
    N, C, H, W = x.shape
    (ph, pw) = padding
    Hp, Wp = _padded_size((H, W), kernel_size, stride, padding, out_size)
    if (Hp, Wp) != (H, W):
        xp_ = np.zeros((N, C, Hp, Wp), x.dtype)
        xp_[:, :, ph:ph + H, pw:pw + W] = x
    else:
        xp_ = x
    out = None
    for sl in _taps(kernel_size, stride, out_size):
        if out is None:
            out = xp_[sl].copy()
        else:
            out += xp_[sl]
    out /= divisor
    return out


def _avg_pool2d_backward(g, *, kernel_size, stride, padding, out_size, divisor, in_size):
    """g (N, C, OH, OW) -> (N, C, H, W): g / divisor spread back over each window (the adjoint)."""
    N, C = g.shape[:2]
    H, W = in_size
    (ph, pw) = padding
    Hp, Wp = _padded_size(in_size, kernel_size, stride, padding, out_size)
    gd = g / divisor
    gx = np.zeros((N, C, Hp, Wp), gd.dtype)
    for sl in _taps(kernel_size, stride, out_size):
        gx[sl] += gd
    return np.ascontiguousarray(gx[:, :, ph:ph + H, pw:pw + W])


_avg_pool2d_op = defop(
    "avg_pool2d", _avg_pool2d,
    (lambda g, ans, x, **kw: xp.avg_pool2d_backward(g, in_size=tuple(x.shape[2:]), **kw),), uses=())
_avg_pool2d_backward_op = defop(
    "avg_pool2d_backward", _avg_pool2d_backward,
    (lambda g, ans, gin, in_size, **kw: xp.avg_pool2d(g, **kw),), uses=())


def _avg_divisor(in_size, kernel_size, stride, padding, out_size, count_include_pad, dtype):
    """PyTorch's divisor per output position: the window clipped to the padded input (count_include_pad)
    or to the input itself."""
    per_dim = []
    for n, k, s, p, o in zip(in_size, kernel_size, stride, padding, out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        with_pad = end - start
        inside = np.minimum(end, n) - np.maximum(start, 0)
        per_dim.append(with_pad if count_include_pad else inside)
    div = np.outer(per_dim[0], per_dim[1]).astype(dtype)
    div[div <= 0] = 1   # an empty window sums to 0; avoid 0/0
    return div


@_unbatched
def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over (kh, kw) windows, as ``torch.nn.functional.avg_pool2d``.

    x (N, C, H, W) or (C, H, W) -> (N, C, OH, OW). Padding counts as zeros; the divisor is the window
    size clipped to the padded input (``count_include_pad=True``) or to the input.

    >>> import autograd_core as ag
    >>> x = ag.arange(16.0).reshape(1, 1, 4, 4)
    >>> ag.avg_pool2d(x, 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    k, s, p, _, o = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if x.dtype.kind != "f":
        raise TypeError(f"avg_pool2d: expected a floating point input, got dtype {x.dtype}")
    div = _avg_divisor(tuple(x.shape[2:]), k, s, p, o, count_include_pad, x.dtype)
    return _avg_pool2d_op(x, kernel_size=k, stride=s, padding=p, out_size=o, divisor=div)


@_unbatched
def adaptive_avg_pool2d(x, output_size):
    """Average over PyTorch's adaptive bins so that the output is (N, C, *output_size), as
    ``torch.nn.functional.adaptive_avg_pool2d``.

    ``output_size``: int or pair; None in a pair keeps that input size. 1 is global average pooling.

    >>> import autograd_core as ag
    >>> x = ag.arange(16.0).reshape(1, 1, 4, 4)
    >>> ag.adaptive_avg_pool2d(x, 1)
    tensor([[[[7.5000]]]])
    >>> ag.adaptive_avg_pool2d(x, (2, 1)).shape
    (1, 1, 2, 1)
    """
    op = "adaptive_avg_pool2d"
    if x.ndim != 4:
        raise OpError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(x.shape)}")
    H, W = x.shape[2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise OpError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
        output_size = tuple(n if o is None else o for o, n in zip(output_size, (H, W)))
    OH, OW = _pair(output_size, "output_size", op, 1)
    if (OH, OW) == (1, 1):
        return x.mean(axis=(2, 3), keepdims=True)
    if H % OH == 0 and W % OW == 0:
        return avg_pool2d(x, (H // OH, W // OW))
    out = x
    if OH != H:
        out = _bin_mean(out, OH, 2)
    if OW != W:
        out = _bin_mean(out, OW, 3)
    return out


def _bin_mean(x, o, axis):
    """The mean over each of PyTorch's ``o`` adaptive bins along ``axis``: the bins' pixels gathered into
    (o, k) with k the widest bin, the short bins padded by a select of 0 (an averaging matrix would put
    0 * inf = NaN from outside a bin into it)."""
    n = x.shape[axis]
    a = (np.arange(o) * n) // o
    b = -((-(np.arange(o) + 1) * n) // o)
    at = a[:, None] + np.arange(int((b - a).max()))
    tail = (1,) * (x.ndim - axis - 1)
    picked = x[(slice(None),) * axis + (np.minimum(at, b[:, None] - 1),)]
    inside = (at < b[:, None]).reshape(at.shape + tail)
    return xp.where(inside, picked, 0).sum(axis=axis + 1) / (b - a).astype(x.dtype).reshape((o,) + tail)


# -- nearest upsampling -------------------------------------------------------------------------
def _upsample(x, *, scale):
    """x (N, C, H, W) -> (N, C, H*sh, W*sw): each pixel repeated into an (sh, sw) block."""
    N, C, H, W = x.shape
    sh, sw = scale
    out = np.empty((N, C, H, sh, W, sw), x.dtype)
    out[...] = x[:, :, :, None, :, None]
    return out.reshape(N, C, H * sh, W * sw)


def _upsample_vjp(g, ans, x, *, scale):
    N, C, H, W = x.shape
    return g.reshape((N, C, H, scale[0], W, scale[1])).sum(axis=(3, 5))


_upsample_op = defop("upsample_nearest2d", _upsample, (_upsample_vjp,), uses=())


@_unbatched
def upsample_nearest2d(x, scale_factor):
    """Nearest-neighbour upsampling by integer factors (int or pair): (N, C, H, W) -> (N, C, H sh, W sw)
    (or the same without N).

    The gradient sums each output block back into its source pixel. PyTorch:
    ``torch.nn.functional.interpolate(x, scale_factor=s, mode='nearest')``.

    >>> import autograd_core as ag
    >>> ag.upsample_nearest2d(ag.tensor([[[[1.0, 2.0]]]]), 2)
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.]]]])
    """
    op = "upsample_nearest2d"
    if x.ndim != 4:
        raise OpError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(x.shape)}")
    sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    if len(sf) != 2 or any(float(v) != int(v) for v in sf):
        raise OpError(f"{op}: scale_factor must be an int or a pair of ints, got {scale_factor!r}")
    sh, sw = _pair(tuple(int(v) for v in sf), "scale_factor", op, 1)
    return _upsample_op(x, scale=(sh, sw))

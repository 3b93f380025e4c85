"""2-D convolution (NCHW) as three ops that are closed under differentiation.

* ``conv2d(x, w)``: ``y[n, o] = sum_{c, i, j} w[o, c, i, j] * x[n, g(o)*Cg + c, oy*sh - pt + i*dh, ox*sw - pl + j*dw]``
  with x (N, C, H, W), w (O, C/groups, kh, kw) -> y (N, O, OH, OW).
* ``conv_transpose2d(y, w)``: the adjoint of conv2d in x, ``<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>``.
* ``conv2d_weight(x, g)``: the gradient of ``<conv2d(x, w), g>`` in w (shape of w).

All three are bilinear, so each one's VJP is made of the other two, and ``create_graph=True``
gives grad of grad; the rules are plain math over these ops. The fast paths live in the forwards: on
float32/float64 arrays with the Numba backend, the fused per-image kernels of ``kernels.conv``
(``conv_fused``, ``conv_transpose_fused``) do the work on the thread pool: each thread takes a run of
images, builds one image's im2col columns in its own cache and multiplies them with one BLAS call per
direction, ``w (O, K) @ cols (K, OH*OW)``, which is already NCHW. With few output pixels per image
(up to ``_WHOLE_BATCH_MAX_L``, where such a product is too narrow) the batch's columns are laid out
(K, N, OH*OW) and each direction is one product for all images on the thread pool
(``kernels.blas.matmul``); ``kernels.conv.col2im_batch`` scatters the input gradient back (on every
backend). Otherwise (numpy backend, other dtypes, or a kernel still compiling) the same im2col +
matmul runs from numpy: one batched matmul per
direction, in a layout where neither the output nor the big columns are transposed (for small images
the columns are stored (K, N, OH*OW) instead, which BLAS reads as the same (N, K, L) matrices, so that
the weight gradient is one matmul over all images). There, columns up to ``_CACHE_BYTES`` are built
once and handed to the weight gradient as conv2d's residual (``defop(residuals=True)``); bigger ones
are built a few images at a time so that each chunk is still in cache for its matmul, and rebuilt in
the backward. Column buffers come from a pool (``kernels.scratch``) and go back to it after use.

Internally padding is (top, bottom, left, right) so that ``padding='same'`` with an even kernel
(pad one more at the bottom/right, as PyTorch) is just another conv.
"""
from __future__ import annotations

import functools

import numpy as np

from ..errors import OpError
from ..graph import mode
from ..kernels import scratch
from ..kernels import conv as kconv
from ..kernels.blas import matmul as _mm
from ..kernels.conv import col2im, im2col
from ..tensor import Tensor
from .registry import defop, xp

__all__ = ["conv2d", "conv_transpose2d", "conv2d_weight"]


class _Cols:
    """conv2d's residual on the numpy path: the im2col columns of x, for the weight gradient (their buffer
    goes back to the scratch pool when this is freed, with the node, after backward)."""
    __slots__ = ("cols", "__weakref__")

    def __init__(self):
        self.cols = None

    def __repr__(self):
        return "<conv2d columns>"


def _out_len(size, k, s, p0, p1, d):
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _float_pair(x, w, op):
    dt = np.result_type(x.dtype, w.dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: expected floating point input and weight, got dtypes {x.dtype} and {w.dtype}")
    return x.astype(dt, copy=False), w.astype(dt, copy=False)


# im2col columns up to _CACHE_BYTES are built once for the whole batch (and kept for the weight
# gradient); larger ones are built _CHUNK_BYTES at a time, so that each chunk is still in cache
# when the matmul reads it, and rebuilt for the weight gradient (cheaper than a DRAM round trip:
# LeNet's first conv, 15 MB of columns, runs ~1.4x faster this way).
_CACHE_BYTES = 8 << 20
_CHUNK_BYTES = 1 << 20


# Up to this many output pixels per image, the columns are laid out (C*kh*kw, N, OH*OW) so that the
# weight gradient is one matmul over all images (2x faster than one small matmul per image there).
_KNL_MAX_L = 256

# Up to this many output pixels per image (and more than one image), a convolution and its gradients run
# as whole-batch products on those columns, not as the fused per-image kernels: one image's product,
# (O, K) @ (K, OH*OW), is then too narrow for BLAS to run well. Forward and both gradients, 1 thread:
# a discriminator's (16, 256, 8, 8) input, 512 4x4 filters at stride 2 (4x4 outputs) 77 -> 41 ms;
# (32, 512, 7, 7) with 512 3x3 filters 456 -> 268 ms; (32, 256, 5, 5) 57 -> 51; at 8x8 outputs the two
# were even. A chunk of images then holds up to _WHOLE_BATCH_BYTES of columns.
_WHOLE_BATCH_MAX_L = 49
_WHOLE_BATCH_BYTES = 32 << 20


def _whole_batch(N, OH, OW):
    return N > 1 and OH * OW <= _WHOLE_BATCH_MAX_L


def _products(a, b):
    """a @ b on our thread pool (``kernels.blas.matmul``); a stack of one item as one 2-D product, which the
    pool splits in blocks."""
    if a.ndim == 3 and a.shape[0] == 1 and b.ndim == 3 and b.shape[0] == 1:
        return _mm(a[0], b[0])[None]
    return _mm(a, b)


def _is_pointwise(x, kh, kw, stride, padding, OH, OW):
    return kh == 1 and kw == 1 and stride == (1, 1) and (OH, OW) == x.shape[2:] and padding[0] == padding[2] == 0


def _cols(x, kh, kw, stride, padding, dilation, OH, OW, buf=None):
    """im2col of x (N, C, H, W) -> (N, C*kh*kw, OH*OW): a transposed view of a (C*kh*kw, N, L) array
    for small images, a free view of x for an unpadded 1x1 stride-1 conv. ``buf``: flat scratch."""
    N, C, H, W = x.shape
    if _is_pointwise(x, kh, kw, stride, padding, OH, OW):
        return np.ascontiguousarray(x).reshape(N, C, H * W)
    knl = N > 1 and OH * OW <= _KNL_MAX_L
    R, L = C * kh * kw, OH * OW
    out = None if buf is None else buf[:N * R * L].reshape((R, N, L) if knl else (N, R, L))
    cols = im2col(x, kh, kw, stride[0], stride[1], padding[0], padding[2], dilation[0], dilation[1], OH, OW,
                  out=out, knl=knl)
    return cols.transpose(1, 0, 2) if knl else cols


def _batches(N, per_image_bytes, L=None):
    """Images per chunk: the whole batch if its columns are small, else what fits _CHUNK_BYTES
    (_WHOLE_BATCH_BYTES for whole-batch products: ``L`` output pixels per image)."""
    if N * per_image_bytes <= _CACHE_BYTES:
        return N
    budget = _WHOLE_BATCH_BYTES if L is not None and L <= _WHOLE_BATCH_MAX_L else _CHUNK_BYTES
    return max(1, min(N, budget // max(per_image_bytes, 1)))


def _col_chunks(x, kh, kw, stride, padding, dilation, OH, OW, keep=None):
    """Yield (start, stop, cols of x[start:stop]) from one pooled scratch buffer. If the whole batch is
    one chunk and ``keep`` (a ``_Cols``) is given, the columns stay in ``keep.cols`` until keep is freed."""
    N, C = x.shape[:2]
    if _is_pointwise(x, kh, kw, stride, padding, OH, OW):
        cols = _cols(x, kh, kw, stride, padding, dilation, OH, OW)
        if keep is not None:
            keep.cols = cols
        yield 0, N, cols
        return
    per_image = C * kh * kw * OH * OW
    B = _batches(N, per_image * x.itemsize, OH * OW)
    buf = scratch.take((B * per_image,), x.dtype)
    kept = False
    try:
        for s in range(0, N, B):
            e = min(N, s + B)
            cols = _cols(x[s:e], kh, kw, stride, padding, dilation, OH, OW, buf=buf)
            if keep is not None and e - s == N:
                keep.cols = cols
                scratch.give_when_freed(keep, buf)
                kept = True
            yield s, e, cols
    finally:
        if not kept:
            scratch.give(buf)


def _weight_from_cols(cols, g, groups, wshape):
    """sum_n g[n] (O, L) @ cols[n].T (L, K), per group -> w's shape. BLAS reads transposed views as is."""
    N, O = g.shape[:2]
    L = cols.shape[-1]
    G = groups
    K = cols.shape[1] // G
    if N > 1 and cols.strides[0] < cols.strides[1]:
        # (K, N, L) columns: one (O/G, N*L) @ (N*L, K) matmul per group; only g (small) is transposed.
        c2 = cols.transpose(1, 0, 2).reshape(G, K, N * L)
        g2 = np.ascontiguousarray(g.reshape(N, O, L).transpose(1, 0, 2)).reshape(G, O // G, N * L)
        return _products(g2, c2.swapaxes(-1, -2)).reshape(wshape)
    gw = np.matmul(g.reshape(N, G, O // G, L), cols.reshape(N, G, K, L).swapaxes(-1, -2))
    return gw.sum(axis=0).reshape(wshape)


def _fused(*arrays):
    """Whether the fused Numba+BLAS kernels may serve these arrays (Numba backend, float32/float64)."""
    return kconv.fused_ready(arrays[0].dtype)


def _weight_grad(x, g, kernel_size, stride, padding, dilation, groups, keep=None):
    """d<conv2d(x, w), g>/dw on raw arrays: the fused kernel, the columns ``keep`` holds, or chunk by chunk."""
    C = x.shape[1]
    O, OH, OW = g.shape[1:]
    wshape = (O, C // groups) + tuple(kernel_size)
    if keep is not None and keep.cols is not None:
        return _weight_from_cols(keep.cols, g, groups, wshape)
    if _fused(x) and not _whole_batch(x.shape[0], OH, OW):
        r = kconv.conv_fused(x, wshape, None, g, *kernel_size, *stride, padding[0], padding[2], *dilation,
                             OH, OW, groups, want_out=False, want_gw=True)
        if r is not None:
            return r[1]
    gw = None
    for s, e, cols in _col_chunks(x, kernel_size[0], kernel_size[1], stride, padding, dilation, OH, OW):
        part = _weight_from_cols(cols, g[s:e], groups, wshape)
        gw = part if gw is None else gw + part
    return gw


# -- conv2d ---------------------------------------------------------------------------------------
def _conv2d(x, w, b=None, *, stride, padding, dilation, groups):
    """x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) -> ((N, O, OH, OW), columns kept or None)."""
    x, w = _float_pair(x, w, "conv2d")
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    OH = _out_len(H, kh, stride[0], padding[0], padding[1], dilation[0])
    OW = _out_len(W, kw, stride[1], padding[2], padding[3], dilation[1])
    if _fused(x) and not _whole_batch(N, OH, OW):
        r = kconv.conv_fused(x, w, b, None, kh, kw, *stride, padding[0], padding[2], *dilation, OH, OW, groups)
        if r is not None:
            return r[0], None
    G = groups
    K = Cg * kh * kw
    L = OH * OW
    wg = w.reshape(G, O // G, K)
    out = np.empty((N, G, O // G, L), x.dtype)
    keep = _Cols() if mode.enabled else None
    for s, e, cols in _col_chunks(x, kh, kw, stride, padding, dilation, OH, OW, keep=keep):
        n = e - s
        if n > 1 and cols.strides[0] < cols.strides[1]:
            # (K, n, L) columns: one (O/G, K) @ (K, n L) product per group for all n images
            prod = _products(wg, cols.transpose(1, 0, 2).reshape(G, K, n * L))
            out[s:e] = prod.reshape(G, O // G, n, L).transpose(2, 0, 1, 3)
        else:
            np.matmul(wg, cols.reshape(n, G, K, L), out=out[s:e])
    if b is not None:
        out += b.reshape(G, O // G, 1)
    return out.reshape(N, O, OH, OW), (keep if keep is not None and keep.cols is not None else None)


def _conv2d_vjp(g, ans, x, w, *b, needs, res, stride, padding, dilation, groups):
    p = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    gx = gw = gb = None
    if needs[0]:
        gx = xp.conv_transpose2d(g, w, in_size=tuple(x.shape[2:]), **p)
    if needs[1]:
        gw = xp.conv2d_weight(x, g, kernel_size=tuple(w.shape[2:]), cols=res, **p)
    if b and needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return (gx, gw, gb) if b else (gx, gw)


_conv2d_op = defop("conv2d", _conv2d, vjp=_conv2d_vjp, uses=(0, 1), residuals=True)


# -- conv_transpose2d (adjoint of conv2d in x) ------------------------------------------------------
def _conv_transpose2d(y, w, b=None, *, stride, padding, dilation, groups, in_size):
    """y (N, O, OH, OW), w (O, C/groups, kh, kw), b (C,) -> (N, C, *in_size): col2im(w^T @ y)."""
    y, w = _float_pair(y, w, "conv_transpose2d")
    N, O, OH, OW = y.shape
    _, Cg, kh, kw = w.shape
    G = groups
    K = Cg * kh * kw
    H, W = in_size
    whole = _whole_batch(N, OH, OW)
    if _fused(y) and not whole:
        out = kconv.conv_transpose_fused(y, w, b, H, W, kh, kw, *stride, padding[0], padding[2], *dilation, G)
        if out is not None:
            return out
    wt = w.reshape(G, O // G, K).swapaxes(-1, -2)
    out = np.zeros((N, G * Cg, H, W), y.dtype)
    if whole:
        # per chunk of n images one (K, O/G) @ (O/G, n L) product per group; col2im reads the (G K, n, L)
        # result as (n, G K, L)
        L = OH * OW
        geo = (kh, kw, stride[0], stride[1], padding[0], padding[2], dilation[0], dilation[1], OH, OW)
        B = _batches(N, G * K * L * y.itemsize, L)
        for s in range(0, N, B):
            e = min(N, s + B)
            n = e - s
            yk = np.ascontiguousarray(y[s:e].reshape(n, G, O // G, L).transpose(1, 2, 0, 3)).reshape(G, O // G, n * L)
            dcols = _products(wt, yk).reshape(G * K, n, L)
            if not kconv.col2im_batch(dcols, out[s:e], *geo):
                col2im(dcols.transpose(1, 0, 2), G * Cg, H, W, *geo, out=out[s:e])
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out
    yg = y.reshape(N, G, O // G, OH * OW)
    B = _batches(N, G * K * OH * OW * y.itemsize)
    buf = scratch.take((min(B, N), G, K, OH * OW), y.dtype)
    for s in range(0, N, B):
        e = min(N, s + B)
        dcols = np.matmul(wt, yg[s:e], out=buf[:e - s])
        col2im(dcols.reshape(e - s, G * K, OH * OW), G * Cg, H, W, kh, kw, stride[0], stride[1],
               padding[0], padding[2], dilation[0], dilation[1], OH, OW, out=out[s:e])
    scratch.give(buf)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _fit_padding(padding, in_size, out_size, ksize, stride, dilation):
    """conv2d padding whose output is exactly ``out_size`` for an ``in_size`` input: same top/left,
    bottom/right chosen to match (conv_transpose2d's output_padding can leave the sizes otherwise)."""
    pt, _, pl, _ = padding
    pb = (out_size[0] - 1) * stride[0] + dilation[0] * (ksize[0] - 1) + 1 - in_size[0] - pt
    pr = (out_size[1] - 1) * stride[1] + dilation[1] * (ksize[1] - 1) + 1 - in_size[1] - pl
    return (pt, pb, pl, pr)


def _conv_transpose2d_vjp(G_, ans, y, w, *b, needs, stride, padding, dilation, groups, in_size):
    pad = _fit_padding(padding, in_size, tuple(y.shape[2:]), tuple(w.shape[2:]), stride, dilation)
    p = dict(stride=stride, padding=pad, dilation=dilation, groups=groups)
    gy = gw = gb = None
    if needs[0]:
        gy = xp.conv2d(G_, w, **p)
    if needs[1]:
        gw = xp.conv2d_weight(G_, y, kernel_size=tuple(w.shape[2:]), **p)
    if b and needs[2]:
        gb = G_.sum(axis=(0, 2, 3))
    return (gy, gw, gb) if b else (gy, gw)


_conv_transpose2d_op = defop("conv_transpose2d", _conv_transpose2d, vjp=_conv_transpose2d_vjp, uses=(0, 1))


# -- conv2d_weight (gradient of conv2d in w) ---------------------------------------------------------
def _conv2d_weight(x, g, *, stride, padding, dilation, groups, kernel_size, cols=None):
    """x (N, C, H, W), g (N, O, OH, OW) -> (O, C/groups, kh, kw): sum_n g[n] @ im2col(x)[n]^T. ``cols``:
    conv2d's residual (x's columns from its forward, numpy path), used when given."""
    x, g = _float_pair(x, g, "conv2d_weight")
    return _weight_grad(x, g, kernel_size, stride, padding, dilation, groups, keep=cols)


def _conv2d_weight_vjp(Gw, ans, x, g, needs, stride, padding, dilation, groups, kernel_size, cols=None):
    p = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    gx = gg = None
    if needs[0]:
        gx = xp.conv_transpose2d(g, Gw, in_size=tuple(x.shape[2:]), **p)
    if needs[1]:
        pad = _fit_padding(padding, tuple(x.shape[2:]), tuple(g.shape[2:]), kernel_size, stride, dilation)
        gg = xp.conv2d(x, Gw, **dict(p, padding=pad))
    return gx, gg


_conv2d_weight_op = defop("conv2d_weight", _conv2d_weight, vjp=_conv2d_weight_vjp, uses=(0, 1))


# -- argument checking and the public functions ------------------------------------------------------
def _pair(v, name, op, minimum):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (int(v), int(v))
    else:
        try:
            v = tuple(int(a) for a in v)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}") from None
        if len(v) != 2:
            raise OpError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    if min(v) < minimum:
        raise OpError(f"{op}: {name} must be >= {minimum}, got {v}")
    return v


def _as_tensor(t):
    return t if isinstance(t, Tensor) else Tensor(t)


def _check_4d(x, w, op, wdesc, xdesc="(N, C, H, W)"):
    if x.ndim != 4:
        raise OpError(f"{op}: expected a 3-D (C, H, W) or 4-D {xdesc} input, got shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise OpError(f"{op}: expected a 4-D weight {wdesc}, got shape {tuple(w.shape)}")


def _check_groups(groups, op):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise OpError(f"{op}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _unbatched(fn):
    """Run a 4-D op on a 3-D (C, H, W) input by adding and removing the batch dim, as PyTorch."""
    @functools.wraps(fn)
    def wrapper(x, *args, **kw):
        x = _as_tensor(x)
        if x.ndim == 3:
            return _squeeze0(fn(x.reshape((1,) + tuple(x.shape)), *args, **kw))
        return fn(x, *args, **kw)
    return wrapper


def _squeeze0(out):
    if isinstance(out, tuple):
        return tuple(_squeeze0(o) for o in out)
    return out.reshape(tuple(out.shape[1:]))


def _bias_args(bias, n, op):
    if bias is None:
        return ()
    bias = _as_tensor(bias)
    if tuple(bias.shape) != (n,):
        raise OpError(f"{op}: bias must have shape ({n},), got {tuple(bias.shape)}")
    return (bias,)


@_unbatched
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation (a convolution layer's op), as ``torch.nn.functional.conv2d``.

    x (N, C, H, W) or (C, H, W); weight (O, C/groups, kh, kw); bias (O,) or None.
    ``y[n, o, oy, ox] = b[o] + sum_{c,i,j} w[o, c, i, j] x[n, c', oy*s - p + i*d, ox*s - p + j*d]``,
    OH = (H + 2p - d (kh - 1) - 1) // s + 1. ``padding``: int, pair, ``'valid'`` (0) or ``'same'``
    (output size = input size, stride 1 only; an odd total pads one more at the bottom/right).

    >>> import autograd_core as ag
    >>> x = ag.ones(1, 1, 4, 4)
    >>> w = ag.ones(2, 1, 3, 3)
    >>> y = ag.conv2d(x, w, padding=1)
    >>> y.shape, y[0, 0, 0].tolist()
    ((1, 2, 4, 4), [4.0, 6.0, 6.0, 4.0])
    """
    op = "conv2d"
    weight = _as_tensor(weight)
    _check_4d(x, weight, op, "(C_out, C_in/groups, kH, kW)")
    groups = _check_groups(groups, op)
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    if O % groups:
        raise OpError(f"{op}: out_channels {O} (weight shape {tuple(weight.shape)}) is not divisible "
                         f"by groups={groups}")
    if Cg * groups != C:
        raise OpError(f"{op}: input has {C} channels (shape {tuple(x.shape)}) but weight "
                         f"{tuple(weight.shape)} with groups={groups} expects {Cg * groups}")
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise OpError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            pad = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise OpError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = _pair(padding, "padding", op, 0)
        pad = (ph, ph, pw, pw)
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    Hp, Wp = H + pad[0] + pad[1], W + pad[2] + pad[3]
    if eh > Hp or ew > Wp:
        raise OpError(f"{op}: kernel size ({kh}, {kw}) with dilation {dilation} spans ({eh}, {ew}), "
                         f"larger than the padded input ({Hp}, {Wp}) (input shape {tuple(x.shape)}, "
                         f"padding {padding})")
    bias = _bias_args(bias, O, op)
    return _conv2d_op(x, weight, *bias, stride=stride, padding=pad, dilation=dilation, groups=groups)


@_unbatched
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d`` (the adjoint of conv2d).

    x (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, kh, kw); bias (C_out,) or None.
    H_out = (H - 1) s - 2p + d (kh - 1) + output_padding + 1; output_padding < stride or < dilation.

    >>> import autograd_core as ag
    >>> x = ag.ones(1, 1, 2, 2)
    >>> ag.conv_transpose2d(x, ag.ones(1, 1, 2, 2), stride=2).shape
    (1, 1, 4, 4)
    """
    op = "conv_transpose2d"
    weight = _as_tensor(weight)
    _check_4d(x, weight, op, "(C_in, C_out/groups, kH, kW)")
    groups = _check_groups(groups, op)
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        raise OpError(f"{op}: padding must be an int or a pair (strings are only for conv2d), got {padding!r}")
    ph, pw = _pair(padding, "padding", op, 0)
    oph, opw = _pair(output_padding, "output_padding", op, 0)
    N, C, H, W = x.shape
    Ci, Cg, kh, kw = weight.shape
    if Ci != C:
        raise OpError(f"{op}: input has {C} channels (shape {tuple(x.shape)}) but weight "
                         f"{tuple(weight.shape)} expects {Ci} (weight.shape[0])")
    if C % groups:
        raise OpError(f"{op}: in_channels {C} (input shape {tuple(x.shape)}) is not divisible by "
                         f"groups={groups}")
    for o, s, d, name in ((oph, stride[0], dilation[0], "height"), (opw, stride[1], dilation[1], "width")):
        if o >= s and o >= d:
            raise OpError(f"{op}: output_padding {(oph, opw)} must be smaller than either stride {stride} "
                             f"or dilation {dilation} (in {name})")
    Ho = (H - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + oph + 1
    Wo = (W - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + opw + 1
    if Ho < 1 or Wo < 1:
        raise OpError(f"{op}: the output size ({Ho}, {Wo}) is too small for input shape {tuple(x.shape)}, "
                         f"weight {tuple(weight.shape)}, stride {stride}, padding {(ph, pw)}, "
                         f"dilation {dilation}, output_padding {(oph, opw)}")
    bias = _bias_args(bias, Cg * groups, op)
    return _conv_transpose2d_op(x, weight, *bias, stride=stride, padding=(ph, ph, pw, pw), dilation=dilation,
                                groups=groups, in_size=(Ho, Wo))


def conv2d_weight(x, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d in its weight, as ``torch.nn.grad.conv2d_weight``: (O, C/groups, kh, kw)."""
    op = "conv2d_weight"
    x, grad_output = _as_tensor(x), _as_tensor(grad_output)
    O, Cg, kh, kw = (int(s) for s in weight_size)
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    ph, pw = _pair(padding, "padding", op, 0)
    groups = _check_groups(groups, op)
    if x.ndim == 4:
        want = (x.shape[0], O, _out_len(x.shape[2], kh, stride[0], ph, ph, dilation[0]),
                _out_len(x.shape[3], kw, stride[1], pw, pw, dilation[1]))
    if x.ndim != 4 or x.shape[1] != Cg * groups or tuple(grad_output.shape) != want:
        raise OpError(f"{op}: input {tuple(x.shape)} and grad_output {tuple(grad_output.shape)} don't fit "
                         f"weight_size {tuple(weight_size)} with stride {stride}, padding {(ph, pw)}, dilation "
                         f"{dilation}, groups={groups}")
    return _conv2d_weight_op(x, grad_output, stride=stride, padding=(ph, ph, pw, pw), dilation=dilation,
                             groups=groups, kernel_size=(kh, kw))

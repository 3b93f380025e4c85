"""2-D convolution (NCHW) as three ops that are closed under differentiation.

* ``conv2d(x, w)``: ``y[n, o] = sum_{c, i, j} w[o, c, i, j] * x[n, g(o)*Cg + c, oy*sh - pt + i*dh, ox*sw - pl + j*dw]``
  with x (N, C, H, W), w (O, C/groups, kh, kw) -> y (N, O, OH, OW).
* ``conv_transpose2d(y, w)``: the adjoint of conv2d in x, ``<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>``.
* ``conv2d_weight(x, g)``: the gradient of ``<conv2d(x, w), g>`` in w (shape of w).

All three are bilinear, so each one's VJP is made of the other two, and ``create_graph=True``
gives grad of grad. On raw arrays the work is im2col (a Numba kernel, ``kernels.conv``) and one
batched BLAS matmul per direction, in a layout where ``w (O, K) @ cols[n] (K, OH*OW)`` is already
NCHW, so neither the output nor the columns are ever transposed. The forward keeps its im2col
columns in a small ``ctx`` (only when the weight needs a gradient) so the weight gradient of the
plain backward is one more matmul.

Internally padding is (top, bottom, left, right) so that ``padding='same'`` with an even kernel
(pad one more at the bottom/right, as PyTorch) is just another conv.
"""
from __future__ import annotations

import functools

import numpy as np

from ..graph import mode
from ..kernels.conv import col2im, im2col
from ..tensor import Tensor
from .registry import defop, xp

__all__ = ["conv2d", "conv_transpose2d", "conv2d_weight"]


class _Ctx:
    """Forward-to-backward cache for the raw-array path (freed with the node after backward)."""
    __slots__ = ("cols",)

    def __init__(self):
        self.cols = None

    def __repr__(self):
        return "<conv ctx>"


def _out_len(size, k, s, p0, p1, d):
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _float_pair(x, w, op):
    dt = np.result_type(x.dtype, w.dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: expected floating point input and weight, got dtypes {x.dtype} and {w.dtype}")
    return x.astype(dt, copy=False), w.astype(dt, copy=False)


def _cols(x, kh, kw, stride, padding, dilation, OH, OW):
    """im2col of x (N, C, H, W) -> (N, C*kh*kw, OH*OW); a free view for an unpadded 1x1 stride-1 conv."""
    N, C, H, W = x.shape
    if kh == 1 and kw == 1 and stride == (1, 1) and OH == H and OW == W and padding[0] == 0 and padding[2] == 0:
        return np.ascontiguousarray(x).reshape(N, C, H * W)
    return im2col(x, kh, kw, stride[0], stride[1], padding[0], padding[2], dilation[0], dilation[1], OH, OW)


def _weight_from_cols(cols, g, groups, wshape):
    """sum_n g[n] (O, L) @ cols[n].T (L, K), per group -> w's shape. BLAS reads the transposed view as is."""
    N, O = g.shape[:2]
    L = cols.shape[-1]
    G = groups
    K = cols.shape[1] // G
    gw = np.matmul(g.reshape(N, G, O // G, L), cols.reshape(N, G, K, L).swapaxes(-1, -2))
    return gw.sum(axis=0).reshape(wshape)


# -- conv2d ---------------------------------------------------------------------------------------
def _conv2d(x, w, b=None, *, stride, padding, dilation, groups, ctx=None):
    """x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) -> (N, O, OH, OW)."""
    x, w = _float_pair(x, w, "conv2d")
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    OH = _out_len(H, kh, stride[0], padding[0], padding[1], dilation[0])
    OW = _out_len(W, kw, stride[1], padding[2], padding[3], dilation[1])
    cols = _cols(x, kh, kw, stride, padding, dilation, OH, OW)
    G = groups
    out = np.matmul(w.reshape(G, O // G, Cg * kh * kw), cols.reshape(N, G, Cg * kh * kw, OH * OW))
    if b is not None:
        out += b.reshape(G, O // G, 1)
    if ctx is not None:
        ctx.cols = cols
    return out.reshape(N, O, OH, OW)


def _conv2d_vjp(g, ans, x, w, *b, needs, stride, padding, dilation, groups, ctx=None):
    p = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    gx = gw = gb = None
    if needs[0]:
        gx = xp.conv_transpose2d(g, w, in_size=tuple(x.shape[2:]), **p)
    if needs[1]:
        if ctx is not None and ctx.cols is not None and type(g) is np.ndarray:
            gw = _weight_from_cols(ctx.cols, g.astype(ctx.cols.dtype, copy=False), groups, w.shape)
        else:
            gw = xp.conv2d_weight(x, g, kernel_size=tuple(w.shape[2:]), **p)
    if b and needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return (gx, gw, gb) if b else (gx, gw)


_conv2d_op = defop("conv2d", _conv2d, vjp=_conv2d_vjp, uses=(0, 1))


# -- conv_transpose2d (adjoint of conv2d in x) ------------------------------------------------------
def _conv_transpose2d(y, w, b=None, *, stride, padding, dilation, groups, in_size, ctx=None):
    """y (N, O, OH, OW), w (O, C/groups, kh, kw), b (C,) -> (N, C, *in_size): col2im(w^T @ y)."""
    y, w = _float_pair(y, w, "conv_transpose2d")
    N, O, OH, OW = y.shape
    _, Cg, kh, kw = w.shape
    G = groups
    K = Cg * kh * kw
    dcols = np.matmul(w.reshape(G, O // G, K).swapaxes(-1, -2), y.reshape(N, G, O // G, OH * OW))
    H, W = in_size
    out = col2im(dcols.reshape(N, G * K, OH * OW), G * Cg, H, W, kh, kw, stride[0], stride[1],
                 padding[0], padding[2], dilation[0], dilation[1], OH, OW)
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


def _conv_transpose2d_vjp(G_, ans, y, w, *b, needs, stride, padding, dilation, groups, in_size, ctx=None):
    pad = _fit_padding(padding, in_size, tuple(y.shape[2:]), tuple(w.shape[2:]), stride, dilation)
    p = dict(stride=stride, padding=pad, dilation=dilation, groups=groups)
    gy = gw = gb = None
    if type(G_) is np.ndarray and (needs[0] or needs[1]):
        # Both gradients read the same columns of G_: build them once.
        Gd, wd = _float_pair(G_, w, "conv_transpose2d")
        N, O, OH, OW = y.shape
        _, Cg, kh, kw = w.shape
        cols = _cols(Gd, kh, kw, stride, pad, dilation, OH, OW)
        if needs[0]:
            K = Cg * kh * kw
            gy = np.matmul(wd.reshape(groups, O // groups, K),
                           cols.reshape(N, groups, K, OH * OW)).reshape(y.shape)
        if needs[1]:
            gw = _weight_from_cols(cols, y.astype(cols.dtype, copy=False), groups, w.shape)
    else:
        if needs[0]:
            gy = xp.conv2d(G_, w, **p)
        if needs[1]:
            gw = xp.conv2d_weight(G_, y, kernel_size=tuple(w.shape[2:]), **p)
    if b and needs[2]:
        gb = G_.sum(axis=(0, 2, 3))
    return (gy, gw, gb) if b else (gy, gw)


_conv_transpose2d_op = defop("conv_transpose2d", _conv_transpose2d, vjp=_conv_transpose2d_vjp, uses=(0, 1))


# -- conv2d_weight (gradient of conv2d in w) ---------------------------------------------------------
def _conv2d_weight(x, g, *, stride, padding, dilation, groups, kernel_size, ctx=None):
    """x (N, C, H, W), g (N, O, OH, OW) -> (O, C/groups, kh, kw): sum_n g[n] @ im2col(x)[n]^T."""
    x, g = _float_pair(x, g, "conv2d_weight")
    C = x.shape[1]
    O, OH, OW = g.shape[1:]
    kh, kw = kernel_size
    cols = _cols(x, kh, kw, stride, padding, dilation, OH, OW)
    return _weight_from_cols(cols, g, groups, (O, C // groups, kh, kw))


def _conv2d_weight_vjp(Gw, ans, x, g, needs, stride, padding, dilation, groups, kernel_size, ctx=None):
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
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    if min(v) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v}")
    return v


def _as_tensor(t):
    return t if isinstance(t, Tensor) else Tensor(t)


def _check_4d(x, w, op, wdesc, xdesc="(N, C, H, W)"):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D {xdesc} input, got shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight {wdesc}, got shape {tuple(w.shape)}")


def _check_groups(groups, op):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
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


def _ctx_for(weight):
    return _Ctx() if mode.enabled and weight.requires_grad else None


def _bias_args(bias, n, op):
    if bias is None:
        return ()
    bias = _as_tensor(bias)
    if tuple(bias.shape) != (n,):
        raise ValueError(f"{op}: bias must have shape ({n},), got {tuple(bias.shape)}")
    return (bias,)


@_unbatched
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    x (N, C, H, W) or (C, H, W); weight (O, C/groups, kh, kw); bias (O,) or None.
    ``y[n, o, oy, ox] = b[o] + sum_{c,i,j} w[o, c, i, j] x[n, c', oy*s - p + i*d, ox*s - p + j*d]``,
    OH = (H + 2p - d (kh - 1) - 1) // s + 1. ``padding``: int, pair, ``'valid'`` (0) or ``'same'``
    (output size = input size, stride 1 only; an odd total pads one more at the bottom/right).
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
        raise ValueError(f"{op}: out_channels {O} (weight shape {tuple(weight.shape)}) is not divisible "
                         f"by groups={groups}")
    if Cg * groups != C:
        raise ValueError(f"{op}: input has {C} channels (shape {tuple(x.shape)}) but weight "
                         f"{tuple(weight.shape)} with groups={groups} expects {Cg * groups}")
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            pad = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = _pair(padding, "padding", op, 0)
        pad = (ph, ph, pw, pw)
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    Hp, Wp = H + pad[0] + pad[1], W + pad[2] + pad[3]
    if eh > Hp or ew > Wp:
        raise ValueError(f"{op}: kernel size ({kh}, {kw}) with dilation {dilation} spans ({eh}, {ew}), "
                         f"larger than the padded input ({Hp}, {Wp}) (input shape {tuple(x.shape)}, "
                         f"padding {padding})")
    bias = _bias_args(bias, O, op)
    return _conv2d_op(x, weight, *bias, stride=stride, padding=pad, dilation=dilation, groups=groups,
                      ctx=_ctx_for(weight))


@_unbatched
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d`` (the adjoint of conv2d).

    x (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, kh, kw); bias (C_out,) or None.
    H_out = (H - 1) s - 2p + d (kh - 1) + output_padding + 1; output_padding < stride or < dilation.
    """
    op = "conv_transpose2d"
    weight = _as_tensor(weight)
    _check_4d(x, weight, op, "(C_in, C_out/groups, kH, kW)")
    groups = _check_groups(groups, op)
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair (strings are only for conv2d), got {padding!r}")
    ph, pw = _pair(padding, "padding", op, 0)
    oph, opw = _pair(output_padding, "output_padding", op, 0)
    N, C, H, W = x.shape
    Ci, Cg, kh, kw = weight.shape
    if Ci != C:
        raise ValueError(f"{op}: input has {C} channels (shape {tuple(x.shape)}) but weight "
                         f"{tuple(weight.shape)} expects {Ci} (weight.shape[0])")
    if C % groups:
        raise ValueError(f"{op}: in_channels {C} (input shape {tuple(x.shape)}) is not divisible by "
                         f"groups={groups}")
    for o, s, d, name in ((oph, stride[0], dilation[0], "height"), (opw, stride[1], dilation[1], "width")):
        if o >= s and o >= d:
            raise ValueError(f"{op}: output_padding {(oph, opw)} must be smaller than either stride {stride} "
                             f"or dilation {dilation} (in {name})")
    Ho = (H - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + oph + 1
    Wo = (W - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + opw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{op}: the output size ({Ho}, {Wo}) is too small for input shape {tuple(x.shape)}, "
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
    if x.ndim != 4 or grad_output.ndim != 4 or x.shape[1] != Cg * groups or grad_output.shape[1] != O:
        raise ValueError(f"{op}: input {tuple(x.shape)} and grad_output {tuple(grad_output.shape)} don't fit "
                         f"weight_size {tuple(weight_size)} with groups={groups}")
    return _conv2d_weight_op(x, grad_output, stride=stride, padding=(ph, ph, pw, pw), dilation=dilation,
                             groups=groups, kernel_size=(kh, kw))

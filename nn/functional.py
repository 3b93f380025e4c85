"""Stateless layers and losses: ``import nn.functional as F``, as ``torch.nn.functional``.

Everything here is a composition of ``autograd_core`` ops, so the tape differentiates it: no
gradient is written by hand. Convolution, pooling, normalization, dropout and nearest
upsampling are ``autograd_core`` ops re-exported with PyTorch's signatures.

Losses take ``reduction='mean' | 'sum' | 'none'`` and are stable for extreme logits: they are
built from ``log_softmax`` and ``softplus``, never from ``log(softmax)`` or ``log(sigmoid)``.
"""
from __future__ import annotations

import math
import sys
import warnings
from typing import Any, Callable, Sequence

import numpy as np
from numpy.typing import DTypeLike

import autograd_core as ag
from autograd_core.ops import elementwise as _E
from autograd_core.ops.inplace import inplace_update
from autograd_core.ops.losses import (bce as _bce, bce_with_logits as _bce_with_logits,
                                      cross_entropy_rows as _cross_entropy_rows)
from autograd_core.tensor import Generator, Tensor

_tensor_mod = sys.modules["autograd_core.tensor"]  # the module itself (ag.tensor is the function)

__all__ = [
    # layers
    "linear", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm",
    "layer_norm", "dropout", "interpolate", "upsample", "upsample_nearest", "pad", "one_hot",
    "embedding", "dropout1d", "dropout2d", "dropout3d", "group_norm", "instance_norm", "pixel_shuffle",
    "pixel_unshuffle", "channel_shuffle", "rms_norm", "scaled_dot_product_attention", "multi_head_attention_forward",
    # activations
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "silu",
    # losses
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    # more layers, activations and losses
    "relu_", "relu6", "hardtanh", "hardsigmoid", "hardswish", "selu", "celu", "mish", "softsign", "softshrink",
    "hardshrink", "tanhshrink", "threshold", "logsigmoid", "prelu", "rrelu", "glu", "softmin", "gumbel_softmax",
    "normalize", "cosine_similarity", "pairwise_distance", "pdist", "bilinear", "conv1d", "conv_transpose1d",
    "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "max_pool2d_with_indices", "lp_pool1d", "lp_pool2d", "alpha_dropout", "feature_alpha_dropout",
    "local_response_norm", "unfold", "fold", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
    "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "embedding_bag", "conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d",
    "adaptive_avg_pool3d", "adaptive_max_pool3d", "ctc_loss",
    # spatial transformers, unpooling
    "affine_grid", "grid_sample", "max_unpool1d", "max_unpool2d",
]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _arr(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _in_place(name, fn, input, *args, **kwargs):
    """``inplace=True``: ``input`` takes ``fn(input, *args, **kwargs)``'s values and history and is returned, so
    every alias of it sees the result, as in PyTorch (a leaf that requires grad is refused, as there)."""
    return inplace_update(input, lambda old: fn(old, *args, **kwargs), name)


# -- layers -------------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b. x (*, in), W (out, in), b (out,) -> (*, out). One tape node (``autograd_core.linear``).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.linear(ag.ones(2, 3), ag.ones(4, 3), ag.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    return ag.linear(_t(input), weight, bias)


# Convolution, pooling and normalization are autograd_core ops with PyTorch's signatures:
# conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)
# conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)
# max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)
# avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)
# adaptive_avg_pool2d(input, output_size)
# batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5)
# layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5)
conv2d = ag.conv2d
conv_transpose2d = ag.conv_transpose2d
max_pool2d = ag.max_pool2d


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over (kH, kW) windows of (N, C, H, W) or (C, H, W), as ``torch.nn.functional.avg_pool2d``
    (``ag.avg_pool2d``: padding counts as zeros unless ``count_include_pad=False``). With
    ``divisor_override`` every window's sum is divided by it instead.

    >>> import autograd_core as ag, nn.functional as F
    >>> x = ag.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.avg_pool2d(x, 2), F.avg_pool2d(x, 2, divisor_override=1)
    (tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]]), tensor([[[[10., 18.],
              [42., 50.]]]]))
    """
    if divisor_override is None:
        return ag.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)
    if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0:
        raise ValueError(f"avg_pool2d: divisor_override must be a nonzero int, got {divisor_override!r}")
    x = _t(input)
    squeeze = x.ndim == 3
    if squeeze:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise ValueError(f"avg_pool2d: expected a 3-D or 4-D input, got shape {tuple(x.shape)}")
    kh, kw = _pair(kernel_size, "avg_pool2d", "kernel_size")
    sh, sw = _pair(kernel_size if stride is None or stride == [] else stride, "avg_pool2d", "stride")
    ph, pw = _pair(padding, "avg_pool2d", "padding")
    extra = []
    for size, k, s_, p in ((x.shape[2], kh, sh, ph), (x.shape[3], kw, sw, pw)):
        span = size + 2 * p - k
        n = (-(-span // s_) if ceil_mode else span // s_) + 1
        if ceil_mode and (n - 1) * s_ >= size + p:   # the last window must start inside the input or left pad
            n -= 1
        extra.append(max(0, (n - 1) * s_ + k - (size + 2 * p)))
    c = x.shape[1]
    # window sums as a depthwise convolution with ones: differentiable, and any padding / ceil_mode
    ones = ag.ones((c, 1, kh, kw), dtype=x.dtype)
    sums = conv2d(pad(x, (pw, pw + extra[1], ph, ph + extra[0])), ones, None, (sh, sw), 0, 1, c)
    out = sums / float(divisor_override)
    return out.squeeze(0) if squeeze else out


adaptive_avg_pool2d = ag.adaptive_avg_pool2d
batch_norm = ag.batch_norm
layer_norm = ag.layer_norm


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator: Generator | None = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only; with
    ``training=False`` the input is returned). Randomness from ``generator`` or the global one.
    With ``inplace=True`` the input itself takes the result and is returned.

    >>> import autograd_core as ag, nn.functional as F
    >>> _ = ag.manual_seed(1)
    >>> F.dropout(ag.ones(8), p=0.5)
    tensor([0., 2., 2., 2., 0., 0., 2., 2.])
    >>> F.dropout(ag.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0.0:
        return x
    if inplace:
        return _in_place("dropout_", dropout, x, p, training, generator=generator)
    return ag.dropout(x, p=p, training=True, generator=generator)


def _pair(v, name, what):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name}: {what} must be a number or a pair, got {v!r}")
        return tuple(v)
    return (v, v)


def _nearest_index(in_size, out_size, scale, exact=False):
    # PyTorch's nearest: src = min(floor(dst * scale), in - 1); nearest-exact: floor((dst + 0.5) * scale);
    # computed in float32, as PyTorch does
    dst = np.arange(out_size, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(dst * np.float32(scale)).astype(np.int64), in_size - 1)


def interpolate(input: Tensor, size: int | tuple[int, ...] | None = None,
                scale_factor: float | tuple[float, ...] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor`` (give one). Modes:

    * 'nearest' (3-D, 4-D and 5-D input), with PyTorch's index rule out[i] = in[min(floor(i * s), H - 1)],
      s = H / H' (or 1 / scale_factor unless ``recompute_scale_factor``); 'nearest-exact' takes the
      pixel whose centre is nearest, in[min(floor((i + 0.5) s), H - 1)];
    * 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D): separable linear interpolation; source position
      (i + 0.5) s - 0.5 (clamped at 0), or i (H - 1) / (H' - 1) with ``align_corners=True``;
    * 'bicubic' (4-D): separable cubic convolution (A = -0.75) over the 4 nearest pixels, source
      position (i + 0.5) s - 0.5 (not clamped; the pixels read are clamped to the border), or
      i (H - 1) / (H' - 1) with ``align_corners=True``; values may overshoot the input's range, as
      PyTorch's do;
    * 'area' (3-D, 4-D and 5-D): adaptive average pooling to the output size.

    ``upsample`` is the same function. (``antialias`` is not available.)

    >>> import autograd_core as ag, nn.functional as F
    >>> F.interpolate(ag.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), size=(3, 3))
    tensor([[[[1., 1., 2.],
              [1., 1., 2.],
              [3., 3., 4.]]]])
    >>> F.interpolate(ag.tensor([[[1.0, 3.0]]]), scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.5000, 2.5000, 3.0000]]])
    >>> F.interpolate(ag.tensor([[[1.0, 3.0]]]), size=3, mode="linear", align_corners=True)
    tensor([[[1., 2., 3.]]])
    """
    x = _t(input)
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported here; pass antialias=False (the plain "
                         f"'{mode}' resize), or resize the data beforehand")
    if mode in ("linear", "bilinear", "trilinear", "bicubic"):
        return _interpolate_linear(x, size, scale_factor, mode, align_corners, recompute_scale_factor)
    if mode not in ("nearest", "nearest-exact", "area"):
        raise ValueError(f"interpolate: mode must be 'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', "
                         f"'trilinear' or 'area', got {mode!r}")
    if align_corners is not None:
        raise ValueError(f"interpolate: align_corners only applies to linear modes, not {mode!r}")
    if mode == "area":
        if x.ndim not in (3, 4, 5):
            raise ValueError(f"interpolate: mode='area' expects a 3-D, 4-D or 5-D input (N, C, *spatial), got shape "
                             f"{tuple(x.shape)}")
        out_size = _output_size(x, size, scale_factor, "interpolate")[0]
        if x.ndim == 3:
            return adaptive_avg_pool1d(x, out_size[0])
        if x.ndim == 5:
            return adaptive_avg_pool3d(x, tuple(out_size))
        return ag.adaptive_avg_pool2d(x, tuple(out_size))
    if x.ndim == 5:
        return _interpolate_nearest_nd(x, size, scale_factor, mode == "nearest-exact", recompute_scale_factor)
    if mode != "area" and x.ndim == 3:
        sz = None if size is None else (1, size[0] if isinstance(size, (tuple, list)) else size)
        sf = None if scale_factor is None else (1.0, scale_factor[0] if isinstance(scale_factor, (tuple, list))
                                                else scale_factor)
        return interpolate(x.unsqueeze(2), size=sz, scale_factor=sf, mode=mode,
                           recompute_scale_factor=recompute_scale_factor).squeeze(2)
    return _interpolate_nearest2d(x, size, scale_factor, mode, align_corners, recompute_scale_factor)


def _output_size(x: Tensor, size: Any, scale_factor: Any, name: str) -> tuple[list[int], list[float | None]]:
    """The output sizes of the spatial dims, and the given scale factors (None where a size was given)."""
    nd = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = list(size) if isinstance(size, (tuple, list)) else [size] * nd
        if len(sizes) != nd or any(int(v) <= 0 for v in sizes):
            raise ValueError(f"{name}: size {size!r} must give {nd} positive sizes for input shape {tuple(x.shape)}")
        return [int(v) for v in sizes], [None] * nd
    factors = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else [scale_factor] * nd
    if len(factors) != nd or any(float(f) <= 0 for f in factors):
        raise ValueError(f"{name}: scale_factor {scale_factor!r} must give {nd} positive factors for input shape "
                         f"{tuple(x.shape)}")
    sizes = [int(math.floor(x.shape[2 + i] * float(f))) for i, f in enumerate(factors)]
    if min(sizes) <= 0:
        raise ValueError(f"{name}: scale_factor {scale_factor!r} turns the spatial size {tuple(x.shape[2:])} into "
                         f"{tuple(sizes)}; every output size must be positive (give a larger scale_factor, or size)")
    return sizes, [float(f) for f in factors]


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    """PyTorch's cubic convolution weights (A = -0.75) of the pixels at -1, 0, 1, 2 from the floor, for
    the fractional offsets t."""
    a = -0.75

    def near(d):    # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):     # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _interpolate_linear(x: Tensor, size: Any, scale_factor: Any, mode: str, align_corners: bool | None,
                        recompute_scale_factor: bool | None) -> Tensor:
    want = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}[mode]
    if x.ndim != want:
        raise ValueError(f"interpolate: mode={mode!r} expects a {want}-D input, got shape {tuple(x.shape)}")
    out_sizes, factors = _output_size(x, size, scale_factor, "interpolate")
    for i, (n_out, f) in enumerate(zip(out_sizes, factors)):
        axis = 2 + i
        n_in = x.shape[axis]
        dst = np.arange(n_out, dtype=np.float64)
        if align_corners:
            src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
        else:
            scale = 1.0 / f if (f is not None and not recompute_scale_factor) else n_in / n_out
            src = (dst + 0.5) * scale - 0.5
            if mode != "bicubic":
                src = np.maximum(src, 0.0)
        shape = (1,) * axis + (n_out,) + (1,) * (x.ndim - axis - 1)
        if mode == "bicubic":
            base = np.floor(src).astype(np.int64)
            terms = [x[(slice(None),) * axis + (np.clip(base - 1 + k, 0, n_in - 1),)]
                     * ag.tensor(w.astype(x._data.dtype).reshape(shape))
                     for k, w in enumerate(_cubic_weights(src - base))]
            x = terms[0] + terms[1] + terms[2] + terms[3]
            continue
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        w1 = src - i0
        if n_out == n_in:
            # PyTorch reads each pixel twice, 1 x + 0 x, at the input's own size (whatever scale_factor
            # gave it): a NaN or inf stays in its place rather than reach its neighbour through 0 * NaN
            i0 = i1 = np.arange(n_in)
            w1 = np.zeros(n_in)
        lo = x[(slice(None),) * axis + (i0,)]
        hi = x[(slice(None),) * axis + (i1,)]
        # PyTorch's weighted sum (not lo + (hi - lo) w1, which is NaN between two equal infinities)
        x = (lo * ag.tensor((1 - w1).astype(x._data.dtype).reshape(shape))
             + hi * ag.tensor(w1.astype(x._data.dtype).reshape(shape)))
    return x


def _interpolate_nearest_nd(x: Tensor, size: Any, scale_factor: Any, exact: bool,
                            recompute_scale_factor: Any) -> Tensor:
    """Nearest (or nearest-exact) resizing of every spatial dim of ``x`` (N, C, *spatial), one dim at a time
    with the source indices of ``_nearest_index``: a gather along each dim, whose gradient sums the
    output pixels that read each input pixel."""
    sizes, factors = _output_size(x, size, scale_factor, "interpolate")
    for d, (n_out, f) in enumerate(zip(sizes, factors)):
        n_in = x.shape[2 + d]
        scale = n_in / n_out if f is None or recompute_scale_factor else 1.0 / f
        idx = _nearest_index(n_in, n_out, scale, exact)
        if n_out != n_in or not np.array_equal(idx, np.arange(n_in)):
            x = ag.index_select(x, 2 + d, ag.tensor(idx))
    return x


def _interpolate_nearest2d(input: Tensor, size: Any, scale_factor: Any, mode: str, align_corners: Any,
                           recompute_scale_factor: Any) -> Tensor:
    if mode not in ("nearest", "nearest-exact"):
        raise ValueError(f"interpolate: mode must be 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear' "
                         f"or 'area', got {mode!r} ('bicubic' is not available here)")
    exact = mode == "nearest-exact"
    x = _t(input)
    if x.ndim != 4:
        raise ValueError(f"interpolate: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    h, w = x.shape[2], x.shape[3]
    if size is not None:
        oh, ow = (int(s) for s in _pair(size, "interpolate", "size"))
        if oh <= 0 or ow <= 0:
            raise ValueError(f"interpolate: size must be positive, got {size!r}")
        sh, sw = h / oh, w / ow
    else:
        fh, fw = (float(s) for s in _pair(scale_factor, "interpolate", "scale_factor"))
        if fh <= 0 or fw <= 0:
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
        oh, ow = int(math.floor(h * fh)), int(math.floor(w * fw))
        if fh.is_integer() and fw.is_integer():
            return ag.upsample_nearest2d(x, (int(fh), int(fw)))
        if recompute_scale_factor:
            sh, sw = h / oh, w / ow
        else:
            sh, sw = 1.0 / fh, 1.0 / fw
    if oh % h == 0 and ow % w == 0:
        return ag.upsample_nearest2d(x, (oh // h, ow // w))
    ih, iw = _nearest_index(h, oh, sh, exact), _nearest_index(w, ow, sw, exact)
    return x[:, :, ih][:, :, :, iw]


upsample = interpolate


def upsample_nearest(input: Tensor, size: int | tuple[int, int] | None = None,
                     scale_factor: float | tuple[float, float] | None = None) -> Tensor:
    """``interpolate(input, size, scale_factor, mode='nearest')`` (PyTorch's deprecated name).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.upsample_nearest(ag.tensor([[[[1.0, 2.0]]]]), scale_factor=2)
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.]]]])
    """
    return interpolate(input, size=size, scale_factor=scale_factor, mode="nearest")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dims; ``pad = (left, right, top, bottom, ...)`` starts at the last dim (PyTorch).
    Modes: 'constant' (``value``, default 0; negative widths crop), 'reflect' (mirror without the edge),
    'replicate' (repeat the edge), 'circular' (wrap around).

    >>> import autograd_core as ag, nn.functional as F
    >>> x = ag.tensor([[1.0, 2.0, 3.0]])
    >>> F.pad(x, (1, 2)), F.pad(x, (2, 1), mode="reflect")
    (tensor([[0., 1., 2., 3., 0., 0.]]), tensor([[3., 2., 1., 2., 3., 2.]]))
    >>> F.pad(x, (1, 1), mode="replicate"), F.pad(x, (1, 1), mode="circular")
    (tensor([[1., 1., 2., 3., 3.]]), tensor([[3., 1., 2., 3., 1.]]))
    >>> F.pad(ag.zeros(1, 2, 3, 3), (1, 1, 2, 2)).shape          # W by 1 + 1, H by 2 + 2
    (1, 2, 7, 5)
    """
    x = _t(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad must have an even length of at most 2 * ndim = {2 * x.ndim}, got {pad} "
                         f"for input shape {tuple(x.shape)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value is not None and mode != "constant":
        raise ValueError(f"pad: value is only used with mode='constant', got mode={mode!r}")
    dims = [(x.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    if mode == "constant":
        crop = [slice(None)] * x.ndim
        widths = [(0, 0)] * x.ndim
        for d, lo, hi in dims:
            n = x.shape[d]
            if n + min(lo, 0) + min(hi, 0) < 0:
                raise ValueError(f"pad: padding {pad} crops dim {d} of size {n} below zero")
            crop[d] = slice(-min(lo, 0), n + min(hi, 0))
            widths[d] = (max(lo, 0), max(hi, 0))
        if any(s != slice(None) for s in crop) and any(p < 0 for p in pad):
            x = x[tuple(crop)]
        if any(w != (0, 0) for w in widths):
            x = ag.pad(x, tuple(widths), value=0.0 if value is None else value)
        return x
    for d, lo, hi in dims:
        if lo == 0 and hi == 0:
            continue
        n = x.shape[d]
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative padding {pad} is only supported with mode='constant'")
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the size {n} of dim {d}")
            idx = np.concatenate([np.arange(lo, 0, -1), np.arange(n), np.arange(n - 2, n - 2 - hi, -1)])
        elif mode == "replicate":
            if n == 0:
                raise ValueError(f"pad: can't replicate-pad the empty dim {d}")
            idx = np.clip(np.arange(-lo, n + hi), 0, n - 1)
        else:
            if lo > n or hi > n:
                raise ValueError(f"pad: circular padding ({lo}, {hi}) can't exceed the size {n} of dim {d}")
            idx = np.arange(-lo, n + hi) % n
        x = x[(slice(None),) * d + (idx,)]
    return x


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer classes (*) -> int64 one-hot (*, num_classes): out[..., c] = 1 where tensor == c;
    ``num_classes=-1`` uses max + 1. Not differentiable (integer output).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.one_hot(ag.tensor([0, 2, 1]))
    tensor([[1, 0, 0],
            [0, 0, 1],
            [0, 1, 0]])
    >>> F.one_hot(ag.tensor([1]), num_classes=4)
    tensor([[0, 1, 0, 0]])
    """
    a = _arr(tensor)
    if a.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {a.dtype}")
    if a.size and a.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(a.min())}")
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and a.max() >= num_classes:
        raise ValueError(f"one_hot: class value {int(a.max())} is out of range for num_classes={num_classes}")
    out = np.zeros(a.shape + (num_classes,), np.int64)
    np.put_along_axis(out, a[..., None].astype(np.int64), 1, axis=-1)
    return Tensor(out)


# -- activations --------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise; gradient 0 at 0. With ``inplace=True`` the input itself takes the result
    (``relu_``) and is returned.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.relu(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """
    if inplace:
        return _in_place("relu_", relu, input)
    return ag.relu(_t(input))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x, elementwise.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.leaky_relu(ag.tensor([-1.0, 0.0, 2.0]), 0.1)
    tensor([-0.1000,  0.0000,  2.0000])
    """
    if inplace:
        return _in_place("leaky_relu_", leaky_relu, input, negative_slope)
    return ag.leaky_relu(_t(input), negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha (exp(x) - 1), elementwise.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.elu(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.6321,  0.0000,  2.0000])
    """
    if inplace:
        return _in_place("elu_", elu, input, alpha)
    return ag.elu(_t(input), alpha=alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF (exact erf form), elementwise, or with
    ``approximate='tanh'`` 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.gelu(ag.tensor([-1.0, 0.0, 2.0])), F.gelu(ag.tensor([-1.0, 0.0, 2.0]), approximate="tanh")
    (tensor([-0.1587,  0.0000,  1.9545]), tensor([-0.1588,  0.0000,  1.9546]))
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return ag.gelu(_t(input), approximate=approximate)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), elementwise.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.sigmoid(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([0.2689, 0.5000, 0.8808])
    """
    return ag.sigmoid(_t(input))


def tanh(input: Tensor) -> Tensor:
    """tanh(x), elementwise; the derivative is 1 - tanh(x)^2.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.tanh(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.7616,  0.0000,  0.9640])
    """
    return ag.tanh(_t(input))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish), elementwise.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.silu(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.2689,  0.0000,  1.7616])
    """
    if inplace:
        return _in_place("silu_", silu, input)
    x = _t(input)
    return x * ag.sigmoid(x)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, elementwise, and x itself where beta x > threshold.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.softplus(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([0.3133, 0.6931, 2.1269])
    """
    return ag.softplus(_t(input), beta=beta, threshold=threshold)


def _softmax_dim(ndim, name):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: DTypeLike | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (stable: the max is subtracted first). ``dtype`` casts the
    input first. ``dim=None`` picks one with PyTorch's deprecation warning: give it. ``_stacklevel`` is
    PyTorch's warning depth, accepted for its signature.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.softmax(ag.tensor([[1.0, 2.0, 3.0]]), dim=1)
    tensor([[0.0900, 0.2447, 0.6652]])
    """
    x = _t(input)
    if dtype is not None:
        x = x.astype(dtype)
    if dim is None:
        dim = _softmax_dim(x.ndim, "softmax")
    return ag.softmax(x, axis=dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: DTypeLike | None = None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (stable for any logits; ``dtype`` and ``dim=None`` as ``softmax``).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.log_softmax(ag.tensor([[1.0, 2.0, 3.0]]), dim=1)
    tensor([[-2.4076, -1.4076, -0.4076]])
    """
    x = _t(input)
    if dtype is not None:
        x = x.astype(dtype)
    if dim is None:
        dim = _softmax_dim(x.ndim, "log_softmax")
    return ag.log_softmax(x, axis=dim)


# -- losses -------------------------------------------------------------------------------------
def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """The reduction PyTorch's deprecated ``size_average`` / ``reduce`` pick when either is given (with
    PyTorch's warning); ``reduction`` otherwise."""
    if size_average is None and reduce is None:
        return reduction
    mean = True if size_average is None else bool(size_average)
    keep = True if reduce is None else bool(reduce)
    out = ("mean" if mean else "sum") if keep else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{out}' instead.",
                  UserWarning, stacklevel=3)
    return out


def _weighted_reduce(loss, weight, reduction, name, by_weight=True):
    """PyTorch's weighted pointwise loss: ``weight`` (the input's shape) times each element; 'mean' divides
    by the sum of the weights (mse_loss, l1_loss), or by the element count (``by_weight=False``:
    huber_loss, as PyTorch's)."""
    w = _t(weight)
    if tuple(w.shape) != tuple(loss.shape):
        raise ValueError(f"{name}: weight has shape {tuple(w.shape)}, but the input's is {tuple(loss.shape)}: "
                         f"weights and input must have the same size")
    loss = loss * w
    if reduction == "mean" and by_weight:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def _check_reduction(reduction, name):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pointwise_args(input, target, reduction, name):
    _check_reduction(reduction, name)
    x, y = _t(input), _t(target)
    if x.shape != y.shape:
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise ValueError(f"{name}: input shape {tuple(x.shape)} and target shape {tuple(y.shape)} "
                             "don't broadcast") from None
        warnings.warn(f"{name}: using a target size {tuple(y.shape)} that is different to the input size "
                      f"{tuple(x.shape)}. This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)
    return x, y


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """(x - y)^2 per element, then ``reduction``: 'mean' (default), 'sum' or 'none'. Shapes that
    differ but broadcast give PyTorch's warning. ``weight`` (the input's shape) multiplies each
    element, and 'mean' then divides by its sum; ``size_average`` / ``reduce`` are PyTorch's legacy
    way to name the reduction.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.mse_loss(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0]))
    tensor(1.6667)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _pointwise_args(input, target, reduction, "mse_loss")
    d = x - y
    if weight is not None:
        return _weighted_reduce(d * d, weight, reduction, "mse_loss")
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """|x - y| per element, then ``reduction`` (gradient 0 where x == y); ``weight`` as in ``mse_loss``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.l1_loss(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0]), reduction="sum")
    tensor(3.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _pointwise_args(input, target, reduction, "l1_loss")
    if weight is not None:
        return _weighted_reduce(ag.abs(x - y), weight, reduction, "l1_loss")
    return _reduce(ag.abs(x - y), reduction)


def _square_no_nan_curvature(r: Tensor) -> Tensor:
    """r * r, whose slope at a NaN r is NaN (2 r) but whose second derivative there is 0, not 2."""
    nan = np.isnan(r._data)
    if not nan.any():
        return r * r
    return r * ag.where(nan, r.detach(), r)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where d = |x - y| < beta, else d - 0.5 beta, then ``reduction`` (beta = 0 is l1_loss).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.smooth_l1_loss(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0]), reduction="none")
    tensor([0.0000, 0.5000, 1.5000])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _pointwise_args(input, target, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return _reduce(ag.abs(x - y), reduction)
    r = x - y
    # the square sees 0 where |r| >= beta (inf included) so that no 0 * inf enters its gradient; a NaN
    # r stays on the square's side, whose gradient r / beta is NaN, as PyTorch's, but without curvature
    # (PyTorch's second derivative is the mask |r| < beta, false at NaN)
    far = np.abs(r._data) >= beta
    rs = ag.where(far, 0.0, r)
    return _reduce(ag.where(far, ag.abs(r) - 0.5 * beta, (0.5 / beta) * _square_no_nan_curvature(rs)), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where d = |x - y| < delta, else delta (d - 0.5 delta), then ``reduction``.
    (smooth_l1 with beta=delta, times delta.) ``weight`` multiplies each element; unlike ``mse_loss``'s,
    'mean' then divides by the element count, as PyTorch's does.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.huber_loss(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0]), reduction="none", delta=0.5)
    tensor([0.0000, 0.3750, 0.8750])
    """
    x, y = _pointwise_args(input, target, reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    r = x - y
    # as in smooth_l1_loss: no 0 * inf in the square's gradient, a NaN r on the square's side, flat there
    far = np.abs(r._data) >= delta
    rs = ag.where(far, 0.0, r)
    loss = ag.where(far, delta * (ag.abs(r) - 0.5 * delta), 0.5 * _square_no_nan_curvature(rs))
    if weight is not None:
        return _weighted_reduce(loss, weight, reduction, "huber_loss", by_weight=False)
    return _reduce(loss, reduction)


def _class_weight(weight, n_classes, dtype, name):
    if weight is None:
        return None
    w = np.asarray(_arr(weight))
    if w.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have shape ({n_classes},), one entry per class, got {w.shape}")
    return w.astype(dtype, copy=False)


def _nll(logp, target, w, ignore_index, reduction, label_smoothing, name):
    """The class-index loss on log-probabilities ``logp`` (N, C, ...) or (C,), PyTorch's semantics:
    per element -w[y] logp[y], ignored targets give 0; 'mean' divides by the sum of w[y] over the
    elements that are not ignored. Label smoothing mixes in -sum_c w_c logp_c / C with the same divisor."""
    cdim = 0 if logp.ndim == 1 else 1
    n_classes = logp.shape[cdim]
    t = np.asarray(target)
    expected = tuple(s for i, s in enumerate(logp.shape) if i != cdim)
    if t.shape != expected:
        raise ValueError(f"{name}: target shape {t.shape} doesn't match input shape {tuple(logp.shape)}; "
                         f"class-index targets must have shape {expected}")
    valid = t != ignore_index
    all_valid = bool(valid.all())
    safe = t if all_valid else np.where(valid, t, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= n_classes):
        bad = safe[(safe < 0) | (safe >= n_classes)].flat[0]
        raise IndexError(f"{name}: target {int(bad)} is out of bounds for {n_classes} classes")
    dtype = logp.dtype
    picked = ag.gather(logp, cdim, np.expand_dims(safe.astype(np.int64, copy=False), cdim)).reshape(expected)
    wy = None
    if w is not None:
        wy = w[safe]
        if not all_valid:
            wy = np.where(valid, wy, 0).astype(dtype, copy=False)
        nll = -(picked * wy)
    else:
        nll = -picked
    if not all_valid:
        nll = ag.where(valid, nll, 0.0)
    smooth = None
    if label_smoothing > 0:
        if w is None:
            smooth = -logp.sum(axis=cdim)
        else:
            wb = w.reshape((n_classes,) + (1,) * (logp.ndim - cdim - 1))
            smooth = -(logp * wb).sum(axis=cdim)
        if not all_valid:
            smooth = ag.where(valid, smooth, 0.0)
    eps = float(label_smoothing)
    if reduction == "none":
        return nll if smooth is None else (1 - eps) * nll + (eps / n_classes) * smooth
    total = nll.sum() if smooth is None else (1 - eps) * nll.sum() + (eps / n_classes) * smooth.sum()
    if reduction == "sum":
        return total
    denom = float(wy.sum(dtype=np.float64)) if wy is not None else float(valid.sum())
    if denom == 0:
        return total * 0.0 + np.array(np.nan, dtype)  # 0 / 0 as PyTorch: NaN loss, zero gradient
    return total * (1.0 / denom)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C), (N, C, d1, ...) or (C,).

    ``target`` is either integer class indices of shape (N, d1, ...) (``ignore_index`` entries don't count),
    or class probabilities of the input's shape (a float tensor). ``weight`` (C,) rescales each class;
    with class indices 'mean' divides by the total weight of the counted targets, with probabilities by
    the number of elements, exactly as PyTorch. ``label_smoothing`` eps mixes the target with the uniform
    distribution: (1 - eps) target + eps / C. Per sample: -sum_c target_c log softmax(x)_c.

    >>> import autograd_core as ag, nn.functional as F
    >>> logits = ag.tensor([[2.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    >>> F.cross_entropy(logits, ag.tensor([0, 2]), reduction="none")      # log(1 + 2 e^-2), log 3
    tensor([0.2395, 1.0986])
    >>> F.cross_entropy(logits, ag.tensor([0, -100]))                     # the second is ignored
    tensor(0.2395)
    >>> F.cross_entropy(logits[:1], ag.tensor([[1.0, 0.0, 0.0]]))         # probabilities
    tensor(0.2395)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    x = _t(input)
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    if x.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must be floating point logits, got dtype {x.dtype}")
    cdim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[cdim]
    w = _class_weight(weight, n_classes, x.dtype, "cross_entropy")
    tgt_arr = _arr(target)
    if tgt_arr.dtype.kind == "f":
        logp = ag.log_softmax(x, axis=cdim)
        if tgt_arr.shape != x.shape:
            hint = ("; for class indices pass an integer tensor (target.long())"
                    if tgt_arr.shape == tuple(x.shape[:cdim]) + tuple(x.shape[cdim + 1:]) else "")
            raise ValueError(f"cross_entropy: a float target holds class probabilities and must have the input's "
                             f"shape {tuple(x.shape)}, got {tgt_arr.shape}{hint}")
        if ignore_index >= 0:
            raise ValueError("cross_entropy: ignore_index is not supported for class-probability targets")
        t = _t(target)
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * t
        if w is not None:
            prod = prod * w.reshape((n_classes,) + (1,) * (x.ndim - cdim - 1))
        return _reduce(-prod.sum(axis=cdim), reduction)
    if tgt_arr.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must be integer class indices or float probabilities, "
                        f"got dtype {tgt_arr.dtype}")
    if (x.ndim == 2 and w is None and label_smoothing == 0 and tgt_arr.shape == (x.shape[0],) and x.shape[0] > 0
            and tgt_arr.min() >= 0 and tgt_arr.max() < n_classes and ignore_index not in range(n_classes)):
        # the common case (every target counts): one op instead of log_softmax, gather, neg, sum, scale
        return _cross_entropy_rows(x, tgt_arr, reduction)
    with np.errstate(invalid="ignore"):
        return _nll(ag.log_softmax(x, axis=cdim), tgt_arr, w, ignore_index, reduction, label_smoothing,
                    "cross_entropy")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, ...) or (C,) at integer ``target`` (N, ...):
    -weight[y] input[y], with PyTorch's weighted mean (divided by the sum of weight[y]) and
    ``ignore_index``.

    >>> import autograd_core as ag, nn.functional as F
    >>> logp = ag.log(ag.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    >>> F.nll_loss(logp, ag.tensor([1, 2]), reduction="none")             # -log 0.25, -log 0.8
    tensor([1.3863, 0.2231])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    x = _t(input)
    if x.ndim == 0:
        raise ValueError("nll_loss: input must have a class dimension, got a 0-d tensor")
    tgt = _arr(target)
    if tgt.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must be integer class indices, got dtype {tgt.dtype}")
    w = _class_weight(weight, x.shape[0 if x.ndim == 1 else 1], x.dtype, "nll_loss")
    with np.errstate(invalid="ignore"):
        return _nll(x, tgt, w, ignore_index, reduction, 0.0, "nll_loss")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-w [y log(p) + (1 - y) log(1 - p)] for probabilities p in [0, 1], then ``reduction``; each log is
    clamped at -100, as PyTorch, so p = 0 or 1 gives a finite loss. The gradient is PyTorch's,
    w (p - y) / max(p (1 - p), 1e-12), finite at p = 0 or 1 (``autograd_core.ops.losses.bce``). Input and
    target of the same shape; ``weight`` broadcasts against them.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.binary_cross_entropy(ag.tensor([0.5, 0.9]), ag.tensor([1.0, 0.0]), reduction="none")   # log 2, -log 0.1
    tensor([0.6931, 2.3026])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    p, y = _t(input), _t(target)
    if p.shape != y.shape:
        raise ValueError(f"binary_cross_entropy: target shape {tuple(y.shape)} must equal input shape "
                         f"{tuple(p.shape)}")
    if p._data.size and (p._data.min() < 0 or p._data.max() > 1 or np.isnan(p._data).any()):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities); "
                         "for logits use binary_cross_entropy_with_logits")
    loss = _bce(p, y)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """-w [pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = w [pw y softplus(-x) + (1 - y) softplus(x)],
    stable for any logit, then ``reduction``. ``pos_weight`` broadcasts along the last (class) dim;
    ``weight`` against the input.

    >>> import autograd_core as ag, nn.functional as F
    >>> x, y = ag.tensor([0.0, 2.0, -100.0]), ag.tensor([1.0, 0.0, 1.0])
    >>> F.binary_cross_entropy_with_logits(x, y, reduction="none")   # log 2, softplus(2), 100 (no overflow)
    tensor([  0.6931,   2.1269, 100.0000])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x, y = _t(input), _t(target)
    if x.shape != y.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target shape {tuple(y.shape)} must equal input "
                         f"shape {tuple(x.shape)}")
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if isinstance(w, Tensor) and w.requires_grad and ag.is_grad_enabled():
            # PyTorch's binary_cross_entropy_with_logits has no derivative for either weight
            raise RuntimeError(f"binary_cross_entropy_with_logits: {name} requires grad, but the loss is not "
                               f"differentiable with respect to it; pass {name}.detach()")
    pw = 1.0
    if pos_weight is not None:
        pw = _t(pos_weight)
        try:
            np.broadcast_shapes(pw.shape, x.shape)
        except ValueError:
            raise ValueError(f"binary_cross_entropy_with_logits: pos_weight shape {tuple(pw.shape)} doesn't "
                             f"broadcast to the input shape {tuple(x.shape)}") from None
    loss = _bce_with_logits(x, y, pw)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- embedding ----------------------------------------------------------------------------------
def _indices(input, n_rows, name):
    """Integer indices as an int64 array, each checked to lie in [0, n_rows)."""
    idx = np.asarray(_arr(input))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer tensor (int64, as torch.long), got dtype {idx.dtype}; "
                        "convert them with .long()")
    if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
        bad = idx[(idx < 0) | (idx >= n_rows)].flat[0]
        raise IndexError(f"{name}: index {int(bad)} is out of range for a table of {n_rows} rows "
                         f"(valid: 0 to {n_rows - 1})")
    return idx.astype(np.int64, copy=False)


def _padding_index(padding_idx, n_rows, name):
    if padding_idx is None:
        return None
    p = int(padding_idx)
    if not -n_rows <= p < n_rows:
        raise ValueError(f"{name}: padding_idx {padding_idx} must be within num_embeddings ({n_rows})")
    return p + n_rows if p < 0 else p


def _embedding_renorm_(weight, idx, max_norm, norm_type):
    """Scale, in place and off the tape, each looked-up row whose ``norm_type``-norm exceeds ``max_norm``
    down to norm ``max_norm`` (PyTorch's ``embedding_renorm_``: factor max_norm / (norm + 1e-7))."""
    rows = np.unique(idx)
    if rows.size == 0:
        return
    w = weight._data
    norms = np.linalg.norm(w[rows], ord=float(norm_type), axis=1)
    over = norms > max_norm
    if over.any():
        scale = (max_norm / (norms[over] + 1e-7)).astype(w.dtype)
        w[rows[over]] *= scale[:, None]
        weight._version += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (V, D) at integer ``input`` (*): output (*, D) = ``weight[input]``.

    The gradient is a scatter-add of the output gradient into the rows. ``padding_idx``: positions
    holding that index give no gradient to its row. ``max_norm``: before the lookup, rows about to be
    read whose ``norm_type``-norm exceeds it are rescaled to that norm, in place in ``weight`` (as
    PyTorch; a graph that already used ``weight`` then can't be backpropagated through).
    ``scale_grad_by_freq``: each row's gradient is divided by how often its index occurs in ``input``.
    ``sparse=True`` is accepted: the gradient is the same, stored dense (``optim.SparseAdam`` moves only
    the rows it touches).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.embedding(ag.tensor([2, 0]), ag.tensor([[0., 1.], [2., 3.], [4., 5.]]))
    tensor([[4., 5.],
            [0., 1.]])
    """
    w = _t(weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(w.shape)}")
    n = w.shape[0]
    idx = _indices(input, n, "embedding")
    pad_i = _padding_index(padding_idx, n, "embedding")
    if max_norm is not None:
        _embedding_renorm_(w, idx, float(max_norm), norm_type)
    out = w[idx]
    if not out.requires_grad:
        return out
    if scale_grad_by_freq and idx.size:
        # value: exactly the rows (the difference below is 0); gradient: divided by the index's count
        rows = w._data[idx]
        inv = (1.0 / np.bincount(idx.ravel(), minlength=n)[idx]).astype(w.dtype)[..., None]
        out = (out - rows) * inv + rows
    if pad_i is not None:
        pad = idx == pad_i
        if pad.any():
            out = ag.where(pad[..., None], w._data[idx], out)
    return out


def _bags(input, offsets, include_last_offset, name):
    """(flat indices (L,), bag of each index (L,), number of bags) from 2-D input (one bag per row) or
    1-D input cut at ``offsets``."""
    idx = np.asarray(_arr(input))
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: offsets must be None for 2-D input (each row is a bag), got offsets")
        b, n = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), n), b
    if idx.ndim != 1:
        raise ValueError(f"{name}: input must be 1-D (with offsets) or 2-D (bags of equal size), got shape "
                         f"{idx.shape}")
    if offsets is None:
        raise ValueError(f"{name}: 1-D input needs offsets (the start of each bag in input)")
    off = np.asarray(_arr(offsets))
    if off.ndim != 1 or off.dtype.kind not in "iu":
        raise ValueError(f"{name}: offsets must be a 1-D integer tensor, got shape {off.shape} and dtype {off.dtype}")
    off = off.astype(np.int64)
    if off.size and off[0] != 0:
        raise ValueError(f"{name}: offsets[0] must be 0 (the first bag starts at the first index), got {int(off[0])}")
    if (np.diff(off) < 0).any() or (off.size and off[-1] > idx.size):
        raise ValueError(f"{name}: offsets must be non-decreasing and at most len(input) = {idx.size}, got "
                         f"{off.tolist()}")
    ends = np.append(off[1:], idx.size) if not include_last_offset else off[1:]
    starts = off if not include_last_offset else off[:-1]
    if include_last_offset and off.size == 0:
        raise ValueError(f"{name}: include_last_offset=True needs at least one offset")
    bags = np.repeat(np.arange(starts.size), ends - starts)
    return idx[:bags.size] if include_last_offset else idx, bags, starts.size


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of rows of ``weight`` (V, D), without making the (L, D) lookups a
    layer of their own: output (B, D). Bags are the rows of a 2-D ``input`` (B, N), or the runs of a 1-D
    ``input`` that start at ``offsets`` (B,) (with ``include_last_offset``, offsets (B + 1,) and the last
    is the end). ``mode``: 'sum', 'mean' or 'max' (per dim; the gradient goes to the first maximum).
    ``per_sample_weights`` (like ``input``, 'sum' only) scales each row. Indices equal to ``padding_idx``
    are left out of their bag; an empty bag gives zeros. ``max_norm``/``norm_type``/
    ``scale_grad_by_freq`` as in ``embedding``. PyTorch: ``torch.nn.functional.embedding_bag``.

    >>> import autograd_core as ag, nn.functional as F
    >>> w = ag.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    >>> F.embedding_bag(ag.tensor([0, 1, 2, 2]), w, ag.tensor([0, 2]), mode="sum")
    tensor([[1., 2.],
            [6., 6.]])
    """
    name = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{name}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    w = _t(weight)
    if w.ndim != 2:
        raise ValueError(f"{name}: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(w.shape)}")
    idx, bags, nb = _bags(input, offsets, include_last_offset, name)
    idx = _indices(idx, w.shape[0], name)
    psw = None
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"{name}: per_sample_weights is only supported with mode='sum', got mode={mode!r}")
        psw = _t(per_sample_weights)
        if tuple(psw.shape) != tuple(np.shape(_arr(input))):
            raise ValueError(f"{name}: per_sample_weights must have the shape of input {np.shape(_arr(input))}, got "
                             f"{tuple(psw.shape)}")
        psw = psw.reshape(-1)[:idx.size]
    pad_i = _padding_index(padding_idx, w.shape[0], name)
    if pad_i is not None:
        keep = idx != pad_i
        idx, bags = idx[keep], bags[keep]
        if psw is not None:
            psw = psw[ag.tensor(np.flatnonzero(keep))]
    d = w.shape[1]
    rows = embedding(ag.tensor(idx), w, max_norm=max_norm, norm_type=norm_type,
                     scale_grad_by_freq=scale_grad_by_freq)
    if psw is not None:
        rows = rows * psw.to(rows.dtype).unsqueeze(1)
    count = np.bincount(bags, minlength=nb)
    if mode == "max":
        if idx.size == 0:
            return ag.zeros(nb, d, dtype=w.dtype) + rows.sum() * 0
        # the first maximum of each bag and dim (PyTorch's max_indices): order by bag, then value
        # descending, then position, and take each bag's first
        vals = rows._data.T                                  # (D, L): one sort per dim, all at once
        pos = np.broadcast_to(np.arange(idx.size), vals.shape)
        order = np.lexsort((pos, -vals, np.broadcast_to(bags, vals.shape)))
        sorted_bags = bags[order]
        head = np.ones(order.shape, bool)
        head[:, 1:] = sorted_bags[:, 1:] != sorted_bags[:, :-1]
        first = np.empty((nb, d), np.int64)
        first[sorted_bags[head], np.nonzero(head)[0]] = order[head]
        filled = count > 0
        first[~filled] = 0
        out = rows.gather(0, ag.tensor(first))
        return ag.where(ag.tensor(filled[:, None]), out, ag.zeros((), dtype=out.dtype)) if not filled.all() else out
    out = ag.zeros(nb, d, dtype=rows.dtype).index_add(0, ag.tensor(bags), rows)
    if mode == "mean":
        out = out / ag.tensor(np.maximum(count, 1).astype(out._data.dtype)[:, None])
    return out


# -- channel dropout, group/instance norm, pixel shuffle ----------------------------------------
def _np_rng(generator):
    return (generator if generator is not None else _tensor_mod.default_generator).np


def _feature_dropout(x, p, generator):
    """Zero whole channels: one draw per (n, c) of x (N, C, *), the kept ones scaled by 1/(1-p)."""
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating point input, got dtype {x.dtype}")
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
    if p == 1:
        return x * np.zeros(shape, x.dtype)
    keep = _np_rng(generator).random(shape) >= p
    return x * np.multiply(keep, 1.0 / (1.0 - p), dtype=x.dtype)


def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator: Generator | None = None) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scale the rest by 1/(1-p)
    (training only). ``inplace`` is accepted for compatibility; a new tensor is returned.

    >>> import autograd_core as ag, nn.functional as F
    >>> _ = ag.manual_seed(1)
    >>> F.dropout1d(ag.ones(4, 3))                       # (C, L): each row kept (x 2) or zeroed whole
    tensor([[2., 2., 2.],
            [2., 2., 2.],
            [0., 0., 0.],
            [2., 2., 2.]])
    """
    _check_p(p, "dropout1d")
    x = _t(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    if x.ndim == 2:
        return _feature_dropout(x.unsqueeze(0), p, generator).squeeze(0)
    return _feature_dropout(x, p, generator)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator: Generator | None = None) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p, scale the rest by 1/(1-p) (training only).

    As PyTorch, a 3-D input is read as (N, C, L) (channel-wise 1-D dropout) with a warning; use
    ``dropout1d`` for that, or add the batch dim to a (C, H, W) input.

    >>> import autograd_core as ag, nn.functional as F
    >>> _ = ag.manual_seed(1)
    >>> F.dropout2d(ag.ones(1, 4, 2, 2)).sum(dim=(2, 3))     # per channel: 0 or 4 * 2
    tensor([[8., 8., 0., 8.]])
    """
    _check_p(p, "dropout2d")
    x = _t(input)
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead.", stacklevel=2)
    if x.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    if not training or p == 0:
        return x
    if x.ndim < 2:
        raise ValueError(f"dropout2d: expected an input with a channel dim, got shape {tuple(x.shape)}")
    return _feature_dropout(x, p, generator)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator: Generator | None = None) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p, scale the rest by
    1/(1-p) (training only).

    >>> import autograd_core as ag, nn.functional as F
    >>> _ = ag.manual_seed(1)
    >>> F.dropout3d(ag.ones(4, 1, 2, 2)).sum(dim=(1, 2, 3))  # (C, D, H, W); per channel: 0 or 4 * 2
    tensor([8., 8., 0., 8.])
    """
    _check_p(p, "dropout3d")
    x = _t(input)
    if x.ndim not in (4, 5):
        raise ValueError(f"dropout3d: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape "
                         f"{tuple(x.shape)}")
    if not training or p == 0:
        return x
    if x.ndim == 4:
        return _feature_dropout(x.unsqueeze(0), p, generator).squeeze(0)
    return _feature_dropout(x, p, generator)


def _channel_affine(y, weight, bias, C, name):
    """y * weight + bias with (C,) vectors along dim 1."""
    shape = (1, C) + (1,) * (y.ndim - 2)
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(_t(t).shape) != (C,):
            raise ValueError(f"{name}: {what} must have shape ({C},), got {tuple(_t(t).shape)}")
    if weight is not None:
        y = y * _t(weight).reshape(shape)
    if bias is not None:
        y = y + _t(bias).reshape(shape)
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize (N, C, *) over each group of C / num_groups channels and all spatial positions
    (mean and biased variance per sample and group), then scale and shift per channel with
    ``weight`` and ``bias`` (C,): y = (x - mean) / sqrt(var + eps) * weight + bias.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.group_norm(ag.tensor([[[1.0], [3.0], [5.0], [9.0]]]), 2)      # groups {1, 3} and {5, 9}
    tensor([[[-1.0000],
             [ 1.0000],
             [-1.0000],
             [ 1.0000]]])
    """
    x = _t(input)
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got {tuple(x.shape)}")
    N, C = x.shape[:2]
    if num_groups <= 0 or C % num_groups:
        raise ValueError(f"group_norm: the {C} channels (dim 1 of input shape {tuple(x.shape)}) must be divisible "
                         f"by num_groups={num_groups}")
    k = x._data.size // max(N * num_groups, 1)
    y = ag.layer_norm(x.reshape(N, num_groups, k), (k,), eps=eps).reshape(x.shape)
    return _channel_affine(y, weight, bias, C, "group_norm")


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample of (N, C, *) over its spatial positions,
    y = (x - mean) / sqrt(var + eps) (biased var), then scale and shift per channel with ``weight`` and
    ``bias`` (C,). With ``use_input_stats=False`` the running statistics are used instead. Given
    running statistics are updated in place when using the input's: r = (1 - momentum) r + momentum s,
    s averaged over the batch (unbiased variance), as PyTorch.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.instance_norm(ag.tensor([[[1.0, 3.0], [0.0, 10.0]]]))
    tensor([[[-1.0000,  1.0000],
             [-1.0000,  1.0000]]])
    """
    x = _t(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *spatial), got {tuple(x.shape)}")
    N, C = x.shape[:2]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when use_input_stats=False")
        return ag.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=eps)
    s = x._data.size // max(N * C, 1)
    if s <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input shape "
                         f"{tuple(x.shape)}")
    y = ag.layer_norm(x.reshape(N, C, s), (s,), eps=eps).reshape(x.shape)
    m = float(momentum)
    flat = x._data.reshape(N, C, s)
    for buf, stat in ((running_mean, lambda: flat.mean(axis=2)), (running_var, lambda: flat.var(axis=2, ddof=1))):
        if buf is not None:
            r = buf._data
            r *= 1 - m
            r += (m * stat().mean(axis=0)).astype(r.dtype)
            buf._version += 1
    return _channel_affine(y, weight, bias, C, "instance_norm")


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` dims; ``eps=None`` is
    the machine epsilon of x's dtype, as PyTorch.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.rms_norm(ag.tensor([[3.0, 4.0]]), (2,))               # rms = sqrt(12.5)
    tensor([[0.8485, 1.1314]])
    """
    x = _t(input)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise ValueError(f"rms_norm: normalized_shape {ns} must match the trailing dims of the input shape "
                         f"{tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"rms_norm: expected a floating point input, got dtype {x.dtype}")
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    axes = tuple(range(x.ndim - k, x.ndim))
    y = x * ag.rsqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    if weight is not None:
        w = _t(weight)
        if tuple(w.shape) != ns:
            raise ValueError(f"rms_norm: weight must have shape {ns}, got {tuple(w.shape)}")
        y = y * w
    return y

def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r): out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w].

    >>> import autograd_core as ag, nn.functional as F
    >>> F.pixel_shuffle(ag.arange(8.0).reshape(1, 8, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]],
    <BLANKLINE>
             [[4., 5.],
              [6., 7.]]]])
    """
    x = _t(input)
    r = int(upscale_factor)
    if x.ndim < 3 or r <= 0 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected an input (*, C * r^2, H, W) with r = upscale_factor = "
                         f"{upscale_factor}, got shape {tuple(x.shape)} (channels must be divisible by {r * r})")
    *b, c, h, w = x.shape
    b, oc, n = tuple(b), c // (r * r), len(b)
    y = x.reshape(b + (oc, r, r, h, w))
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(b + (oc, h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of ``pixel_shuffle``: (*, C, H r, W r) -> (*, C r^2, H, W).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.pixel_unshuffle(ag.arange(4.0).reshape(1, 2, 2), 2)
    tensor([[[0.]],
    <BLANKLINE>
            [[1.]],
    <BLANKLINE>
            [[2.]],
    <BLANKLINE>
            [[3.]]])
    """
    x = _t(input)
    r = int(downscale_factor)
    if x.ndim < 3 or r <= 0 or x.shape[-1] % r or x.shape[-2] % r:
        raise ValueError(f"pixel_unshuffle: expected an input (*, C, H * r, W * r) with r = downscale_factor = "
                         f"{downscale_factor}, got shape {tuple(x.shape)}")
    *b, c, h, w = x.shape
    b, n = tuple(b), len(b)
    y = x.reshape(b + (c, h // r, r, w // r, r))
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(b + (c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle: (N, g k, *) -> (N, k g, *), channel i k + j moving to j g + i.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.channel_shuffle(ag.arange(6.0).reshape(1, 6, 1), 2).flatten()
    tensor([0., 3., 1., 4., 2., 5.])
    """
    x = _t(input)
    g = groups
    if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g <= 0:
        raise ValueError(f"channel_shuffle: groups must be a positive int, got {groups!r}")
    if x.ndim < 3 or x.shape[1] % g:
        raise ValueError(f"channel_shuffle: expected an input (N, C, *) with C divisible by groups = {g}, got "
                         f"shape {tuple(x.shape)}")
    n, c, *rest = x.shape
    y = x.reshape((n, int(g), c // g) + tuple(rest)).transpose(1, 2)
    return y.reshape((n, c) + tuple(rest))


# -- attention ----------------------------------------------------------------------------------
def _safe_softmax(s):
    """softmax over the last dim, giving 0 (and no gradient) on rows that are all -inf (PyTorch's sdpa)."""
    dead = np.isneginf(s._data).all(axis=-1, keepdims=True)
    if not dead.any():
        return ag.softmax(s, axis=-1)
    return ag.where(dead, 0.0, ag.softmax(ag.where(dead, 0.0, s), axis=-1))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V for query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).

    ``scale`` defaults to 1 / sqrt(E). ``attn_mask`` broadcasts to (..., L, S): a bool mask says which
    positions take part (True) and which don't (False); a float mask is added to the scores.
    ``is_causal``: query i attends to keys 0..i only (top-left aligned; not together with ``attn_mask``,
    as PyTorch: fold the causal pattern into the mask instead). A row with no allowed key gives zeros.
    ``dropout_p`` drops attention weights (always, as PyTorch's function: pass 0.0 in eval).
    ``enable_gqa``: key/value may have fewer heads (dim -3) than query, a divisor of them; each is
    shared by a group of query heads.

    >>> import autograd_core as ag, nn.functional as F
    >>> q = k = ag.zeros(2, 4)                     # equal scores: a mean over the allowed keys
    >>> F.scaled_dot_product_attention(q, k, ag.tensor([[1.0], [3.0]]), is_causal=True)
    tensor([[1.],
            [2.]])
    """
    q, k, v = _t(query), _t(key), _t(value)
    name = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"{name}: query, key and value must be at least 2-D (..., L, E), got shapes "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: query (..., L, E) {tuple(q.shape)}, key (..., S, E) {tuple(k.shape)} and value "
                         f"(..., S, Ev) {tuple(v.shape)} don't fit together")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: dropout_p must be between 0 and 1, got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{name}: an explicit attn_mask should not be set when is_causal=True (as PyTorch); "
                           "combine the two into one mask, e.g. mask & np.tril(np.ones((L, S), bool))")
    L, S = q.shape[-2], k.shape[-2]
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        hq, hk = q.shape[-3], k.shape[-3]
        if hk == 0 or hq % hk or v.shape[-3] != hk:
            raise ValueError(f"{name}: with enable_gqa the query heads ({hq}) must be a multiple of the key/value "
                             f"heads ({hk}, {v.shape[-3] if v.ndim >= 3 else None})")
        rep = np.repeat(np.arange(hk), hq // hk)
        k = k[(Ellipsis, rep, slice(None), slice(None))]
        v = v[(Ellipsis, rep, slice(None), slice(None))]
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    s = ag.matmul(q * scale, k.swapaxes(-1, -2))
    keep = np.tril(np.ones((L, S), dtype=bool)) if is_causal else None
    if attn_mask is not None:
        m = attn_mask if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        kind = m.dtype.kind
        if kind == "b":
            keep = _arr(m)
        elif kind == "f":
            s = s + (m if isinstance(m, Tensor) and m.requires_grad else _arr(m))
        else:
            raise TypeError(f"{name}: attn_mask must be bool (True = take part) or floating (added to the scores), "
                            f"got dtype {m.dtype}")
    if keep is not None:
        s = ag.where(keep, s, -np.inf)
    p = _safe_softmax(s)
    if dropout_p > 0:
        p = ag.dropout(p, dropout_p, training=True)
    return ag.matmul(p, v)


# -- multi-head attention (nn.MultiheadAttention's math) ----------------------------------------
def _canonical_mask(mask, name, dtype, other=None, other_name=""):
    """A bool mask (True = masked) as a float array with -inf there and 0 elsewhere; a float mask as is
    (a Tensor that requires grad stays one, so the gradient reaches it). None stays None."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else np.asarray(mask)
    kind = m.dtype.kind
    if kind not in "bf":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got dtype "
                        f"{m.dtype}")
    if other is not None:
        o = other if isinstance(other, Tensor) else np.asarray(other)
        if o.dtype != m.dtype:
            warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                          "instead.", stacklevel=3)
    if kind == "b":
        arr = _arr(m)
        return np.where(arr, -np.inf, 0.0).astype(dtype)
    if isinstance(m, Tensor) and m.requires_grad:
        return m
    return _arr(m)


def _mha_pad_last(m):
    """Append one zero column to a mask (for an extra key: add_bias_kv or add_zero_attn)."""
    if isinstance(m, Tensor):
        return ag.pad(m, [(0, 0)] * (m.ndim - 1) + [(0, 1)])
    return np.pad(m, [(0, 0)] * (m.ndim - 1) + [(0, 1)])


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's checks; returns whether the input is batched."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise ValueError(f"MultiheadAttention: for batched (3-D) query, expected key and value to be 3-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and np.ndim(key_padding_mask) != 2:
            raise ValueError(f"MultiheadAttention: for batched (3-D) query, expected key_padding_mask to be None "
                             f"or 2-D but found {np.ndim(key_padding_mask)}-D")
        if attn_mask is not None and np.ndim(attn_mask) not in (2, 3):
            raise ValueError(f"MultiheadAttention: for batched (3-D) query, expected attn_mask to be None, 2-D or "
                             f"3-D but found {np.ndim(attn_mask)}-D")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise ValueError(f"MultiheadAttention: for unbatched (2-D) query, expected key and value to be 2-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and np.ndim(key_padding_mask) != 1:
            raise ValueError(f"MultiheadAttention: for unbatched (2-D) query, expected key_padding_mask to be None "
                             f"or 1-D but found {np.ndim(key_padding_mask)}-D")
        if attn_mask is not None:
            if np.ndim(attn_mask) not in (2, 3):
                raise ValueError(f"MultiheadAttention: for unbatched (2-D) query, expected attn_mask to be None, "
                                 f"2-D or 3-D but found {np.ndim(attn_mask)}-D")
            if np.ndim(attn_mask) == 3:
                want = (num_heads, query.shape[0], key.shape[0])
                if tuple(np.shape(attn_mask)) != want:
                    raise ValueError(f"MultiheadAttention: expected attn_mask shape to be {want} but got "
                                     f"{tuple(np.shape(attn_mask))}")
        return False
    raise ValueError(f"MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received "
                     f"{query.ndim}-D query tensor")


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Any = None, need_weights: bool = True,
                                 attn_mask: Any = None, use_separate_proj_weight: bool = False,
                                 q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
                                 v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
                                 static_v: Tensor | None = None, average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on (L, N, E) query and (S, N, E_k), (S, N, E_v) key and value (or unbatched
    (L, E), ...), PyTorch's ``F.multi_head_attention_forward``: returns (output (L, N, E), weights)
    with weights (N, L, S) averaged over heads, (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``.

    With ``need_weights`` a row whose keys are all masked gives NaN, as PyTorch; without, it gives
    zeros (that path goes through ``F.scaled_dot_product_attention``, again as PyTorch).
    The parameters are ``nn.MultiheadAttention``'s (see there for the masks); ``static_k`` /
    ``static_v`` are not supported.

    >>> import autograd_core as ag, nn.functional as F
    >>> E, heads, x = 4, 2, ag.randn(3, 1, 4)                   # (L, N, E)
    >>> out, w = F.multi_head_attention_forward(
    ...     x, x, x, E, heads, ag.randn(3 * E, E), ag.zeros(3 * E), None, None, False, 0.0,
    ...     ag.randn(E, E), ag.zeros(E))
    >>> out.shape, w.shape, bool(ag.allclose(w.sum(-1), ag.ones(1, 3)))
    ((3, 1, 4), (1, 3, 3), True)
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v are not supported")
    q_in = _t(query)
    k_in = q_in if key is query else _t(key)
    value = k_in if value is key else q_in if value is query else _t(value)
    query, key = q_in, k_in
    if key_padding_mask is not None and not isinstance(key_padding_mask, Tensor):
        key_padding_mask = np.asarray(key_padding_mask)
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        attn_mask = np.asarray(attn_mask)
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    same = query is key and key is value
    if not is_batched:
        query, key, value = (query.unsqueeze(1), key.unsqueeze(1),  # type: ignore[attr-defined, unused-ignore]
                             value.unsqueeze(1))  # type: ignore[attr-defined, unused-ignore]
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask[None]
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    dtype = query.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", dtype, attn_mask, "attn_mask")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint is enough for scaled_dot_product_attention
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", dtype)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"MultiheadAttention: was expecting embedding dimension of {embed_dim_to_check}, but got "
                         f"{embed_dim} (query shape {tuple(query.shape)})")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise ValueError(f"MultiheadAttention: key's sequence and batch dims {tuple(key.shape[:2])} do not "
                             f"match value's {tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise ValueError(f"MultiheadAttention: key shape {tuple(key.shape)} does not match value shape "
                         f"{tuple(value.shape)}")

    # in-projection
    E = embed_dim
    b = ([None] * 3 if in_proj_bias is None
         else [in_proj_bias[i * E:(i + 1) * E] for i in range(3)])  # type: ignore[index, unused-ignore]
    if not use_separate_proj_weight:
        if same:  # self-attention: one product, then the three parts
            proj = ag.linear(query, in_proj_weight, in_proj_bias)
            q, k, v = proj[..., :E], proj[..., E:2 * E], proj[..., 2 * E:]
        else:
            w = [in_proj_weight[i * E:(i + 1) * E] for i in range(3)]  # type: ignore[index]
            q, k, v = ag.linear(query, w[0], b[0]), ag.linear(key, w[1], b[1]), ag.linear(value, w[2], b[2])
    else:
        q = ag.linear(query, q_proj_weight, b[0])
        k = ag.linear(key, k_proj_weight, b[1])
        v = ag.linear(value, v_proj_weight, b[2])

    if attn_mask is not None:
        if np.ndim(attn_mask) == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ValueError(f"MultiheadAttention: the shape of the 2D attn_mask is {tuple(attn_mask.shape)}, "
                                 f"but should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask[None]
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise ValueError(f"MultiheadAttention: the shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but "
                             f"should be {(bsz * num_heads, tgt_len, src_len)}.")

    if bias_k is not None and bias_v is not None:
        k = ag.cat([k, ag.broadcast_to(bias_k.reshape(1, 1, E),  # type: ignore[attr-defined, unused-ignore]
                                       (1, bsz, E))], 0)
        v = ag.cat([v, ag.broadcast_to(bias_v.reshape(1, 1, E),  # type: ignore[attr-defined, unused-ignore]
                                       (1, bsz, E))], 0)
        if attn_mask is not None:
            attn_mask = _mha_pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _mha_pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must be given together")

    # heads: (L, N, E) -> (N * heads, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).swapaxes(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).swapaxes(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).swapaxes(0, 1)
    if add_zero_attn:
        zeros = np.zeros((bsz * num_heads, 1, head_dim), k.dtype)
        k = ag.cat([k, zeros], 1)
        v = ag.cat([v, zeros.astype(v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = _mha_pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _mha_pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ValueError(f"MultiheadAttention: expected key_padding_mask of shape {(bsz, src_len)} (batch, "
                             f"source length), got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        if isinstance(kpm, Tensor):
            kpm = ag.broadcast_to(kpm, (bsz, num_heads, 1, src_len)).reshape(bsz * num_heads, 1, src_len)
        else:
            kpm = np.broadcast_to(kpm, (bsz, num_heads, 1, src_len)).reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    out: Any  # Tensor's methods (permute, reshape, ...) are attached at import, unseen by mypy
    if need_weights:
        scores = ag.matmul(q * math.sqrt(1.0 / head_dim), k.swapaxes(-1, -2))
        if attn_mask is not None:
            scores = scores + attn_mask
        with np.errstate(invalid="ignore"):  # a fully masked row is NaN, as PyTorch (silently, as there)
            weights = ag.softmax(scores, axis=-1)
        if dropout_p > 0.0:
            weights = ag.dropout(weights, dropout_p, training=True)
        out = ag.matmul(weights, v)                                  # (N * heads, L, head_dim)
        out = out.swapaxes(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = ag.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = attn_mask[None] if attn_mask.shape[0] == 1 else attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = ag.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


# -- more activations ---------------------------------------------------------------------------------
def relu_(input: Tensor) -> Tensor:
    """In place: ``input`` becomes ``relu(input)``; returns it (recorded on the tape like PyTorch's).

    >>> import autograd_core as ag, nn.functional as F
    >>> t = ag.tensor([-1.0, 2.0])
    >>> F.relu_(t) is t, t
    (True, tensor([0., 2.]))
    """
    return input.relu_()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), elementwise: ``hardtanh(x, 0, 6)``, so no gradient at x = 0 or x = 6.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.relu6(ag.tensor([-1.0, 3.0, 8.0]))
    tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; gradient 1 strictly inside, 0 outside and at the bounds
    themselves (PyTorch's rule: x <= min_val or x >= max_val gets none, a NaN gets g).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.hardtanh(ag.tensor([-2.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not be greater than max_val {max_val}")
    if inplace:
        return _in_place("hardtanh_", hardtanh, input, min_val, max_val)
    x = _t(input)
    xd = x._data
    if xd.dtype.kind != "f":
        return ag.clamp(x, min_val, max_val)
    # ``clamp`` passes g at the bounds; this takes the clipped value (a constant) on and beyond them
    # instead, and x elsewhere, where clipping changes nothing (NaN included)
    return ag.where((xd <= min_val) | (xd >= max_val), np.clip(xd, min_val, max_val), x)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between. Gradient 1/6 only where -3 < x < 3
    (PyTorch's rule: none at x = ±3 nor at NaN).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.hardsigmoid(ag.tensor([-4.0, 0.0, 1.5]))
    tensor([0.0000, 0.5000, 0.7500])
    """
    if inplace:
        return _in_place("hardsigmoid_", hardsigmoid, input)
    x = _t(input)
    xd = x._data
    h = (x + 3.0) / 6.0
    return ag.where((xd > -3.0) & (xd < 3.0), h, np.clip(h._data, 0.0, 1.0))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6 (MobileNetV3). The gradient is PyTorch's (CPU): 0 where x <= -3,
    (2x + 3) / 6 where -3 < x < 3, and g where x >= 3, at inf and at NaN.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.hardswish(ag.tensor([-4.0, 1.0, 4.0]))
    tensor([-0.0000,  0.6667,  4.0000])
    """
    if inplace:
        return _in_place("hardswish_", hardswish, input)
    x = _t(input)
    below = x._data < 3.0
    # x >= 3, inf and NaN take x itself; the product sees 0 there instead, so that no inf or NaN
    # enters its gradient (0 * inf would be NaN)
    xs = ag.where(below, x, 0.0)
    return ag.where(below, xs * hardtanh(xs + 3.0, 0.0, 6.0) / 6.0, x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with SELU's fixed alpha = 1.6733 and scale = 1.0507.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.selu(ag.tensor([-1.0, 0.0, 1.0]))
    tensor([-1.1113,  0.0000,  1.0507])
    """
    if inplace:
        return _in_place("selu_", selu, input)
    return ag.elu(_t(input), alpha=_SELU_ALPHA) * _SELU_SCALE


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.celu(ag.tensor([-1.0, 2.0]), alpha=2.0)
    tensor([-0.7869,  2.0000])
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    if inplace:
        return _in_place("celu_", celu, input, alpha)
    return ag.elu(_t(input) / alpha, alpha=1.0) * alpha


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.mish(ag.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.3034,  0.0000,  0.8651])
    """
    if inplace:
        return _in_place("mish_", mish, input)
    x = _t(input)
    return x * ag.tanh(ag.softplus(x))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.softsign(ag.tensor([-1.0, 3.0]))
    tensor([-0.5000,  0.7500])
    """
    x = _t(input)
    return x / (1 + ag.abs(x))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between (bounds included; a NaN stays NaN
    and gets g, as PyTorch's -lambd <= x <= lambd test is false for it).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.softshrink(ag.tensor([-2.0, 0.2, 1.0]))
    tensor([-1.5000,  0.0000,  0.5000])
    """
    x = _t(input)
    xd = x._data
    return ag.where((xd >= -lambd) & (xd <= lambd), 0.0, x - lambd * np.sign(xd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """0 where -lambd <= x <= lambd, else x (a NaN stays NaN and gets g, as in PyTorch).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.hardshrink(ag.tensor([-2.0, 0.2, 1.0]))
    tensor([-2.,  0.,  1.])
    """
    x = _t(input)
    xd = x._data
    return ag.where((xd >= -lambd) & (xd <= lambd), 0.0, x)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.tanhshrink(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 0.2384])
    """
    x = _t(input)
    return x - ag.tanh(x)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``value`` where x <= threshold, else x (so a NaN stays NaN and gets g, as in PyTorch).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.threshold(ag.tensor([0.5, 2.0]), 1.0, -9.0)
    tensor([-9.,  2.])
    """
    if inplace:
        # (the argument `threshold` hides this function's own name)
        return _in_place("threshold_", lambda x: ag.where(x._data <= threshold, value, x), _t(input))
    x = _t(input)
    return ag.where(x._data <= threshold, value, x)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), computed without overflow.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.logsigmoid(ag.tensor([-100.0, 0.0]))
    tensor([-100.0000,   -0.6931])
    """
    return -ag.softplus(-_t(input))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight * x, ``weight`` one slope or one per channel (dim 1). As in PyTorch,
    x = 0 takes the slope's side: its gradient is weight * g, and the weight's is x * g = 0; there the
    slope has no derivative of its own (d2/dx dw = 0, PyTorch's double backward masks with x >= 0).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.prelu(ag.tensor([[-1.0, 2.0]]), ag.tensor([0.25]))
    tensor([[-0.2500,  2.0000]])
    """
    x, w = _t(input), _t(weight)
    if w.numel() > 1:
        if x.ndim < 2 or x.shape[1] != w.numel():
            raise ValueError(f"prelu: {w.numel()} slopes don't match the channels (dim 1) of input shape "
                             f"{tuple(x.shape)}")
        w = w.reshape((1, -1) + (1,) * (x.ndim - 2))
    return _E.prelu(x, w)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training the negative slope of each element is drawn from U(lower, upper);
    otherwise it is (lower + upper) / 2.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.rrelu(ag.tensor([-3.0, 1.0]), 0.1, 0.3)
    tensor([-0.6000,  1.0000])
    """
    if inplace:
        return _in_place("rrelu_", rrelu, input, lower, upper, training)
    x = _t(input)
    if not training:
        return ag.leaky_relu(x, negative_slope=(lower + upper) / 2)
    slope = ag.tensor(ag.default_generator.np.uniform(lower, upper, size=x.shape).astype(x._data.dtype))
    return ag.where(x >= 0, x, slope * x)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), with a and b the two halves of ``input`` along ``dim``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.glu(ag.tensor([[1.0, 2.0, 0.0, 100.0]]))
    tensor([[0.5000, 2.0000]])
    """
    x = _t(input)
    if x.shape[dim] % 2:
        raise ValueError(f"glu: dim {dim} of size {x.shape[dim]} must be even")
    a, b = x.chunk(2, dim)
    return a * ag.sigmoid(b)


def softmin(input: Tensor, dim: int | None = None, dtype: DTypeLike | None = None) -> Tensor:
    """softmax(-x) along ``dim``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.softmin(ag.tensor([[1.0, 2.0]]), dim=1)
    tensor([[0.7311, 0.2689]])
    """
    x = _t(input)
    if dim is None:
        dim = _softmax_dim(x.ndim, "softmin")
    return softmax(-x, dim=dim, dtype=dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) with Gumbel(0, 1) noise g from the global generator; ``hard=True``
    returns the one-hot of the argmax in the forward pass and the soft sample's gradient (straight-through).

    >>> import autograd_core as ag, nn.functional as F
    >>> y = F.gumbel_softmax(ag.zeros(2, 3), hard=True)
    >>> y.sum(1), sorted(set(y.reshape(-1).tolist()))
    (tensor([1., 1.]), [0.0, 1.0])
    """
    x = _t(logits)
    u = ag.default_generator.np.random(x.shape)
    g = ag.tensor((-np.log(-np.log(u + eps) + eps)).astype(x._data.dtype))
    y = softmax((x + g) / tau, dim=dim)
    if not hard:
        return y
    idx = y._data.argmax(axis=dim)
    onehot = np.zeros(y.shape, y._data.dtype)
    np.put_along_axis(onehot, np.expand_dims(idx, dim), 1, axis=dim)
    return y - y.detach() + ag.tensor(onehot)


# -- distances and normalization -------------------------------------------------------------------
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.normalize(ag.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    x = _t(input)
    n = ag.norm(x, p=p, dim=dim, keepdim=True)
    return x / ag.clamp(n, min=eps)


def _floored_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    # ||x|| along dim (kept) raised to at least eps in value only: PyTorch clamps the norm in place
    # under no_grad, so the gradient is the norm's own (0 for an all-zero vector), never the clamp's
    n = ag.norm(x, dim=dim, keepdim=True)
    return ag.where(n._data < eps, n - n.detach() + eps, n)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along ``dim`` (the inputs broadcast), as
    PyTorch computes it: each input is normalized first, and the floor at eps passes no gradient of
    its own (so an all-zero x1 gives x2 the gradient 0, and x1 the gradient g x2 / (eps ||x2||)).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.cosine_similarity(ag.tensor([[1.0, 0.0]]), ag.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    a, b = _t(x1), _t(x2)
    if a.shape != b.shape:
        a, b = ag.broadcast_tensors(a, b)
    return ((a / _floored_norm(a, dim, eps)) * (b / _floored_norm(b, dim, eps))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.pairwise_distance(ag.tensor([[0.0, 0.0]]), ag.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    return ag.norm(_t(x1) - _t(x2) + eps, p=p, dim=-1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between all pairs of rows i < j of an (N, M) input, in row-major order.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.pdist(ag.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    return ag.pdist(_t(input), p)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., k] = x1 W[k] x2 + b[k]: weight (out, in1, in2), bias (out,).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.bilinear(ag.ones(1, 2), ag.ones(1, 3), ag.ones(4, 2, 3)).shape
    (1, 4)
    """
    a, b, w = _t(input1), _t(input2), _t(weight)
    y = ag.einsum("bi,kij,bj->bk", a.reshape(-1, a.shape[-1]), w, b.reshape(-1, b.shape[-1]))
    if bias is not None:
        y = y + bias
    return y.reshape(tuple(a.shape[:-1]) + (w.shape[0],))


# -- 1-D convolution and pooling (the 2-D ops on a height of 1) -------------------------------------
def _one(v: Any, name: str, what: str) -> int:
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{name}: {what} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return int(v)


def _as_2d(x: Tensor, name: str) -> tuple[Tensor, bool]:
    if x.ndim not in (2, 3):
        raise ValueError(f"{name}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(x.shape)}")
    return (x.unsqueeze(-2), x.ndim == 2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation: (N, C_in, L) or (C_in, L), weight (C_out, C_in / groups, k) -> (N, C_out, L')
    with L' = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1; ``padding`` may be 'valid' or
    'same'. Computed by ``conv2d`` on a height of 1.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.conv1d(ag.ones(1, 1, 5), ag.ones(2, 1, 3), padding=1)
    tensor([[[2., 3., 3., 3., 2.],
             [2., 3., 3., 3., 2.]]])
    """
    x = _t(input)
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (C_out, C_in / groups, k), got shape {tuple(weight.shape)}")
    x4, _ = _as_2d(x, "conv1d")
    pad = padding if isinstance(padding, str) else (0, _one(padding, "conv1d", "padding"))
    y = ag.conv2d(x4, weight.unsqueeze(2), bias, (1, _one(stride, "conv1d", "stride")), pad,
                  (1, _one(dilation, "conv1d", "dilation")), groups)
    return y.squeeze(-2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed convolution: weight (C_in, C_out / groups, k); L' = (L - 1) stride - 2 padding +
    dilation (k - 1) + output_padding + 1.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.conv_transpose1d(ag.ones(1, 1, 3), ag.ones(1, 1, 2), stride=2)
    tensor([[[1., 1., 1., 1., 1., 1.]]])
    """
    x4, _ = _as_2d(_t(input), "conv_transpose1d")
    y = ag.conv_transpose2d(x4, weight.unsqueeze(2), bias, (1, _one(stride, "conv_transpose1d", "stride")),
                            (0, _one(padding, "conv_transpose1d", "padding")),
                            (0, _one(output_padding, "conv_transpose1d", "output_padding")), groups,
                            (1, _one(dilation, "conv_transpose1d", "dilation")))
    return y.squeeze(-2)


def _pool1d_stride(stride, k, op):
    """A 1-D pool's stride: ``kernel_size`` when None or empty (PyTorch's default), else one int."""
    if stride is None or (isinstance(stride, (list, tuple)) and not stride):
        return k
    return _one(stride, op, "stride")


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows of ``kernel_size`` along the last dim of (N, C, L) or (C, L); ``stride`` defaults
    to ``kernel_size``; ``return_indices`` also gives each maximum's position in L.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.max_pool1d(ag.tensor([[[1.0, 3.0, 2.0, 5.0]]]), 2)
    tensor([[[3., 5.]]])
    """
    x4, _ = _as_2d(_t(input), "max_pool1d")
    k = _one(kernel_size, "max_pool1d", "kernel_size")
    s = _pool1d_stride(stride, k, "max_pool1d")
    out = ag.max_pool2d(x4, (1, k), (1, s), (0, _one(padding, "max_pool1d", "padding")),
                        (1, _one(dilation, "max_pool1d", "dilation")), ceil_mode=ceil_mode,
                        return_indices=return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of ``kernel_size`` along the last dim of (N, C, L) or (C, L).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.avg_pool1d(ag.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    x4, _ = _as_2d(_t(input), "avg_pool1d")
    k = _one(kernel_size, "avg_pool1d", "kernel_size")
    s = _pool1d_stride(stride, k, "avg_pool1d")
    return ag.avg_pool2d(x4, (1, k), (1, s), (0, _one(padding, "avg_pool1d", "padding")), ceil_mode,
                         count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average over PyTorch's adaptive bins along the last dim of (N, C, L) or (C, L) to ``output_size``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.adaptive_avg_pool1d(ag.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2)
    tensor([[[1.5000, 3.5000]]])
    """
    x4, _ = _as_2d(_t(input), "adaptive_avg_pool1d")
    return ag.adaptive_avg_pool2d(x4, (1, _one(output_size, "adaptive_avg_pool1d", "output_size"))).squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over PyTorch's adaptive bins of (N, C, H, W) or (C, H, W) so that the output is ``output_size``
    (an int or a pair; None keeps that size): output cell i takes rows floor(i H / oH) to
    ceil((i + 1) H / oH) - 1. ``return_indices`` also gives the flat positions iy * W + ix.

    Each cell takes one element of its window, PyTorch's: the first maximum in row-major order, or
    the last NaN if there is one; the gradient goes to that element alone.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.adaptive_max_pool2d(ag.arange(16.0).reshape(1, 1, 4, 4), (2, 1))
    tensor([[[[ 7.],
              [15.]]]])
    """
    x = _t(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"adaptive_max_pool2d: expected a 3-D or 4-D input, got shape {tuple(x.shape)}")
    h, w = x.shape[-2], x.shape[-1]
    oh, ow = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    oh, ow = h if oh is None else int(oh), w if ow is None else int(ow)
    values, pos = _adaptive_max(x, (oh, ow))   # (nn/conv3d.py, imported at the end of this module)
    if not return_indices:
        return values
    return values, ag.tensor(pos)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over PyTorch's adaptive bins along the last dim of (N, C, L) or (C, L).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.adaptive_max_pool1d(ag.tensor([[[1.0, 5.0, 2.0, 4.0]]]), 2)
    tensor([[[5., 4.]]])
    """
    x4, _ = _as_2d(_t(input), "adaptive_max_pool1d")
    out = adaptive_max_pool2d(x4, (1, _one(output_size, "adaptive_max_pool1d", "output_size")), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> Any:
    """``max_pool2d(..., return_indices=True)``: the maxima and their flat positions iy * W + ix.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.max_pool2d_with_indices(ag.arange(4.0).reshape(1, 1, 2, 2), 2)[1]
    tensor([[[[3]]]])
    """
    return ag.max_pool2d(_t(input), kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p): ``avg_pool2d`` of x^p times the window size, to the 1/p.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.lp_pool2d(ag.ones(1, 1, 2, 2), 2, 2)
    tensor([[[[2.]]]])
    """
    kh, kw = _pair(kernel_size, "lp_pool2d", "kernel_size")
    x = _t(input)
    out = ag.avg_pool2d(x ** norm_type, (kh, kw), stride, 0, ceil_mode)
    return (ag.sign(out) * ag.relu(ag.abs(out)) * (kh * kw)) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p) along the last dim.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.lp_pool1d(ag.ones(1, 1, 4), 1, 2)
    tensor([[[2., 2.]]])
    """
    x = _t(input)
    out = avg_pool1d(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    return (ag.sign(out) * ag.relu(ag.abs(out)) * kernel_size) ** (1.0 / norm_type)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's mean and variance: dropped elements take SELU's negative saturation value,
    then an affine map restores the statistics (training only).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.alpha_dropout(ag.ones(3), 0.5, training=False)
    tensor([1., 1., 1.])
    """
    _check_p(p, "alpha_dropout")
    x = _t(input)
    if not training or p == 0.0:
        return x
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    keep = ag.tensor((ag.default_generator.np.random(x.shape) >= p).astype(x._data.dtype))
    a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * p
    return (x * keep + alpha_p * (1 - keep)) * a + b


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """``alpha_dropout`` with one draw per channel (dims 0 and 1) instead of per element.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.feature_alpha_dropout(ag.ones(1, 2, 3), 0.5, training=False).shape
    (1, 2, 3)
    """
    _check_p(p, "feature_alpha_dropout")
    x = _t(input)
    if not training or p == 0.0:
        return x
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
    keep = ag.tensor((ag.default_generator.np.random(shape) >= p).astype(x._data.dtype))
    a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * p
    return (x * keep + alpha_p * (1 - keep)) * a + b


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + alpha / size * sum of x² over ``size`` neighbouring channels)^beta, as PyTorch (AlexNet).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.local_response_norm(ag.ones(1, 3, 1, 1), 2, alpha=1.0, beta=1.0).reshape(-1)
    tensor([0.6667, 0.5000, 0.5000])
    """
    x = _t(input)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3 or more dims (N, C, ...), got shape {tuple(x.shape)}")
    sq = (x * x).reshape(x.shape[0], 1, x.shape[1], -1)
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = ag.avg_pool2d(sq, (size, 1), (1, 1)).reshape(x.shape)
    return x / (div * alpha + k) ** beta


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """im2col: the sliding (kh, kw) blocks of (N, C, H, W) as columns, (N, C * kh * kw, L) with L the
    number of blocks (channel-major within a column, as PyTorch).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.unfold(ag.arange(9.0).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    x = _t(input)
    batched = x.ndim == 4
    if not batched:
        x = x.unsqueeze(0)
    kh, kw = _pair(kernel_size, "unfold", "kernel_size")
    dh, dw = _pair(dilation, "unfold", "dilation")
    ph, pw = _pair(padding, "unfold", "padding")
    sh, sw = _pair(stride, "unfold", "stride")
    x = pad(x, (pw, pw, ph, ph)) if ph or pw else x
    n, c, h, w = x.shape
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    rows = (np.arange(kh)[:, None] * dh + np.arange(oh)[None, :] * sh)  # (kh, oh)
    cols = (np.arange(kw)[:, None] * dw + np.arange(ow)[None, :] * sw)  # (kw, ow)
    r = rows[:, None, :, None]
    q = cols[None, :, None, :]
    blocks = x[:, :, r, q]  # (n, c, kh, kw, oh, ow)
    out = blocks.reshape(n, c * kh * kw, oh * ow)
    return out if batched else out.squeeze(0)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """col2im, the adjoint of ``unfold``: columns (N, C * kh * kw, L) summed back into (N, C, H, W)
    (overlapping blocks add up).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.fold(ag.ones(1, 4, 4), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    cols_in = _t(input)
    batched = cols_in.ndim == 3
    if not batched:
        cols_in = cols_in.unsqueeze(0)
    H, W = _pair(output_size, "fold", "output_size")
    kh, kw = _pair(kernel_size, "fold", "kernel_size")
    dh, dw = _pair(dilation, "fold", "dilation")
    ph, pw = _pair(padding, "fold", "padding")
    sh, sw = _pair(stride, "fold", "stride")
    h, w = H + 2 * ph, W + 2 * pw
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    n = cols_in.shape[0]
    c = cols_in.shape[1] // (kh * kw)
    if c * kh * kw != cols_in.shape[1] or oh * ow != cols_in.shape[2]:
        raise ValueError(f"fold: input shape {tuple(cols_in.shape)} doesn't match {c} channels of {kh}x{kw} blocks "
                         f"at {oh * ow} positions for output_size {(H, W)}")
    rows = (np.arange(kh)[:, None] * dh + np.arange(oh)[None, :] * sh)
    cols = (np.arange(kw)[:, None] * dw + np.arange(ow)[None, :] * sw)
    flat = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(-1)  # (kh*kw*oh*ow,)
    v = cols_in.reshape(n, c, kh * kw * oh * ow)
    zeros = ag.zeros(n, c, h * w, dtype=v.dtype)
    out = ag.index_add(zeros, 2, ag.tensor(flat), v).reshape(n, c, h, w)
    if ph or pw:
        out = out[:, :, ph:ph + H, pw:pw + W]
    return out if batched else out.squeeze(0)


# -- more losses ---------------------------------------------------------------------------------------
def _loss_reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    _check_reduction(reduction, name)
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence with ``input`` the log-probabilities of the model: target * (log target - input) per
    element (0 where target is 0), or exp(target) * (target - input) with ``log_target``. ``reduction``:
    'mean' (over all elements, PyTorch's default), 'batchmean' (the sum divided by the batch size: the
    true KL divergence), 'sum' or 'none'.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.kl_div(ag.log(ag.tensor([[0.5, 0.5]])), ag.tensor([[0.9, 0.1]]), reduction="batchmean")
    tensor(0.3681)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    if log_target:
        loss = ag.exp(y) * (y - x)
    else:
        loss = ag.xlogy(y, y) - y * x
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _loss_reduce(loss, reduction, "kl_div")


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: exp(input) - target * input (``log_input``), or input - target *
    log(input + eps); ``full`` adds Stirling's approximation of log(target!) where target > 1.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.poisson_nll_loss(ag.tensor([0.0, 1.0]), ag.tensor([1.0, 2.0]))
    tensor(0.8591)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    loss = ag.exp(x) - y * x if log_input else x - y * ag.log(x + eps)
    if full:
        stirling = y * ag.log(ag.where(y > 1, y, 1.0)) - y + 0.5 * ag.log(ag.where(y > 1, y, 1.0) * (2 * math.pi))
        loss = loss + ag.where(y > 1, stirling, 0.0)
    return _loss_reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """0.5 (log max(var, eps) + (input - target)² / max(var, eps)), plus 0.5 log(2 pi) with ``full``;
    ``var`` is a tensor (one per element, or broadcastable) or a number.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.gaussian_nll_loss(ag.tensor([1.0]), ag.tensor([3.0]), ag.tensor([4.0]))
    tensor(1.1931)
    """
    x, y = _t(input), _t(target)
    v = _t(var) if not isinstance(var, (int, float)) else ag.full(tuple(x.shape), float(var), dtype=x.dtype)
    if v.ndim == x.ndim - 1:
        v = v.unsqueeze(-1)
    # PyTorch clamps a clone in place without recording it: the values are clamped, and var's gradient is
    # the clamped expression's, also where var < eps
    v = v.clone()
    with ag.no_grad():
        v.clamp_(min=eps)
    loss = 0.5 * (ag.log(v) + (x - y) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _loss_reduce(loss, reduction, "gaussian_nll_loss")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1, 0 for any other
    target (cos along the last dim).

    PyTorch's formula: cos = <x1, x2> / sqrt((||x1||² + 1e-12) (||x2||² + 1e-12)), and the -1 branch is
    ``clamp_min(cos - margin, 0)``, which passes the gradient where cos == margin (an all-zero row
    against margin 0 included).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.cosine_embedding_loss(ag.tensor([[1.0, 0.0]]), ag.tensor([[0.0, 1.0]]), ag.tensor([1]))
    tensor(1.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b, t = _t(input1), _t(input2), _t(target)
    eps = float(np.float32(1e-12))  # PyTorch's EPSILON is a float constant: 1e-12 rounded to float32
    cos = (a * b).sum(-1) / ag.sqrt(((a * a).sum(-1) + eps) * ((b * b).sum(-1) + eps))
    td = t._data
    loss = ag.where(td == 1, 1 - cos, 0.0) + ag.where(td == -1, ag.clamp(cos - margin, min=0.0), 0.0)
    return _loss_reduce(loss, reduction, "cosine_embedding_loss")


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """max(0, -target (x1 - x2) + margin), target ±1. Written as PyTorch's ``clamp_min(..., 0)``: the
    gradient passes where the hinge is exactly 0, and not where it is NaN.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.margin_ranking_loss(ag.tensor([1.0, 1.0]), ag.tensor([2.0, 0.0]), ag.tensor([1, 1]))
    tensor(0.5000)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    d = _t(input1) - _t(input2)
    loss = ag.clamp(-_t(target).astype(d.dtype) * d + margin, min=0.0)
    return _loss_reduce(loss, reduction, "margin_ranking_loss")


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """x where target is 1, max(0, margin - x) where target is -1 (PyTorch's formula: the first term
    where target != -1, the second where target != 1). The hinge is ``clamp_min(margin - x, 0)``:
    its gradient passes at x == margin, and not at a NaN.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.hinge_embedding_loss(ag.tensor([0.3, 0.3]), ag.tensor([1, -1]))
    tensor(0.5000)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _t(input), _t(target)
    td = t._data
    loss = ag.where(td != -1, x, 0.0) + ag.where(td != 1, ag.clamp(margin - x, min=0.0), 0.0)
    return _loss_reduce(loss, reduction, "hinge_embedding_loss")


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target x)), target ±1, computed as written, as PyTorch does: inf where target x < -709
    (exp overflows; softplus would give -target x), and there a NaN gradient (inf / inf).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.soft_margin_loss(ag.tensor([0.0]), ag.tensor([1.0]))
    tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    if y.requires_grad and ag.is_grad_enabled():
        # PyTorch's soft_margin_loss has no derivative for target (refused only while recording)
        raise RuntimeError("soft_margin_loss: the target requires grad, but the loss is not differentiable "
                           "with respect to it; pass target.detach()")
    with np.errstate(over="ignore"):
        loss = ag.log1p(ag.exp(-y.astype(x.dtype) * x))
    return _loss_reduce(loss, reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The mean over classes of the binary cross entropy of sigmoid(x) with 0/1 targets, per sample.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.multilabel_soft_margin_loss(ag.tensor([[0.0, 0.0]]), ag.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    loss = y * ag.softplus(-x) + (1 - y) * ag.softplus(x)
    if weight is not None:
        loss = loss * weight
    loss = loss.mean(-1)
    return _loss_reduce(loss, reduction, "multilabel_soft_margin_loss")


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: for each sample, the sum over its labels j and the non-labels i of
    max(0, 1 - (x[j] - x[i])), divided by the C classes. ``target`` (C,) or (N, C) holds class indices,
    the labels being those before the first -1.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.multilabel_margin_loss(ag.tensor([[0.1, 0.2, 0.4, 0.8]]), ag.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    if x.ndim not in (1, 2) or tuple(y.shape) != tuple(x.shape) or y.dtype.kind not in "iu":
        raise ValueError(f"multilabel_margin_loss: expected an input (C,) or (N, C) and integer class indices of the "
                         f"same shape, got input {tuple(x.shape)} and target {tuple(y.shape)} ({y.dtype})")
    one = x.ndim == 1
    if one:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    n, c = x.shape
    yd = y._data
    if yd.size and (yd.max() >= c or yd.min() < -1):
        raise ValueError(f"multilabel_margin_loss: target indices must be in [-1, {c - 1}] (-1 ends the labels)")
    # count[s, j]: how often class j is among sample s's labels (the indices before its first -1; a
    # repeated label counts again, as in PyTorch)
    valid = np.cumprod(yd != -1, axis=1).astype(bool)
    count = np.zeros((n, c), x._data.dtype)
    rows = np.repeat(np.arange(n), c)[valid.reshape(-1)]
    np.add.at(count, (rows, yd[valid]), 1)
    # pairs (s, j, i) with j a label and i not: hinge on 1 - x[s, j] + x[s, i]
    pair = (count > 0)[:, :, None] & (count == 0)[:, None, :]
    z = 1 - x.unsqueeze(2) + x.unsqueeze(1)
    keep = pair & (z._data > 0)
    loss = (ag.where(keep, z, 0.0) * count[:, :, None]).sum((1, 2)) / c
    if one:
        loss = loss.reshape(())
    return _loss_reduce(loss, reduction, "multilabel_margin_loss")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: the mean over classes i != y of max(0, margin - x[y] + x[i])^p (times
    weight[y]), per sample.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.multi_margin_loss(ag.tensor([[0.1, 0.2, 0.4, 0.8]]), ag.tensor([3]))
    tensor(0.3250)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _arr(target).astype(np.int64)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    if x.ndim == 1:
        x, y = x.unsqueeze(0), y.reshape(1)
    rows = np.arange(x.shape[0])
    xy = x[rows, y].unsqueeze(1)
    z = margin - xy + x
    # PyTorch sums the terms with z > 0 over the classes other than y: a NaN z is left out of the
    # value and the gradient, and the others never meet a 0 * inf
    keep = z._data > 0
    keep[rows, y] = False
    h = ag.where(keep, z, 0.0)
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * _t(weight)[y].unsqueeze(1)
    loss = h.sum(1) / x.shape[1]
    return _loss_reduce(loss, reduction, "multi_margin_loss")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d the ``pairwise_distance``; ``swap`` uses min(d(a, n), d(p, n)).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.triplet_margin_loss(ag.tensor([[0.0]]), ag.tensor([[1.0]]), ag.tensor([[3.0]]), eps=0.0)
    tensor(0.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = ag.minimum(d_an, pairwise_distance(positive, negative, p, eps))
    # PyTorch's clamp_min(margin + d_ap - d_an, 0): gradient at 0, none at NaN
    return _loss_reduce(ag.clamp(margin + d_ap - d_an, min=0.0), reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with any distance ``d`` (``distance_function``, default
    ``pairwise_distance``); ``swap`` uses min(d(a, n), d(p, n)). Shapes: whatever ``d`` takes, (N, D) for
    the default; the loss per triplet is reduced by ``reduction``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.triplet_margin_with_distance_loss(ag.tensor([[0.0]]), ag.tensor([[1.0]]), ag.tensor([[3.0]]),
    ...                                    distance_function=lambda a, b: (a - b).abs().sum(-1))
    tensor(0.)
    """
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin}")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise ValueError(f"triplet_margin_with_distance_loss: anchor, positive and negative need the same number "
                         f"of dims, got shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and "
                         f"{tuple(negative.shape)}")
    d = pairwise_distance if distance_function is None else distance_function
    d_ap = d(anchor, positive)
    d_an = d(anchor, negative)
    if swap:
        d_an = ag.minimum(d_an, d(positive, negative))
    return _loss_reduce(ag.clamp(margin + d_ap - d_an, min=0.0), reduction, "triplet_margin_with_distance_loss")


# -- PyTorch's other spellings: in-place activations, *_with_indices pools, upsample_bilinear --------------
def _inplace_activation(name: str, fn: Callable[..., Tensor], example: str, result: str) -> Callable[..., Tensor]:
    def f(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return _in_place(name, fn, input, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"In place: ``input`` becomes ``{fn.__name__}(input, ...)`` (same options); returns it, recorded "
                 f"on the tape like PyTorch's ``F.{name}`` (a leaf that requires grad is refused).\n\n"
                 f"    >>> import autograd_core as ag, nn.functional as F\n"
                 f"    >>> t = ag.tensor([-1.0, 0.5, 2.0])\n    >>> {example} is t, t\n    (True, {result})\n")
    return f


elu_ = _inplace_activation("elu_", elu, "F.elu_(t)", "tensor([-0.6321,  0.5000,  2.0000])")
leaky_relu_ = _inplace_activation("leaky_relu_", leaky_relu, "F.leaky_relu_(t, 0.1)",
                                  "tensor([-0.1000,  0.5000,  2.0000])")
hardtanh_ = _inplace_activation("hardtanh_", hardtanh, "F.hardtanh_(t)", "tensor([-1.0000,  0.5000,  1.0000])")
threshold_ = _inplace_activation("threshold_", threshold, "F.threshold_(t, 1.0, 0.0)",
                                 "tensor([0., 0., 2.])")
celu_ = _inplace_activation("celu_", celu, "F.celu_(t)", "tensor([-0.6321,  0.5000,  2.0000])")
selu_ = _inplace_activation("selu_", selu, "F.selu_(t)", "tensor([-1.1113,  0.5254,  2.1014])")
rrelu_ = _inplace_activation("rrelu_", rrelu, "F.rrelu_(t, 0.25, 0.25)", "tensor([-0.2500,  0.5000,  2.0000])")


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> Any:
    """``max_pool1d(..., return_indices=True)``: (values, indices), PyTorch's name.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.max_pool1d_with_indices(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    (tensor([[[3., 2.]]]), tensor([[[1, 2]]]))
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> Any:
    """``max_pool3d(..., return_indices=True)``: (values, indices), PyTorch's name.

    >>> import autograd_core as ag, nn.functional as F
    >>> v, i = F.max_pool3d_with_indices(ag.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    >>> v.flatten(), i.flatten()
    (tensor([7.]), tensor([7]))
    """
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    """``adaptive_max_pool1d(..., return_indices=True)``: (values, indices), PyTorch's name.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.adaptive_max_pool1d_with_indices(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 1)
    (tensor([[[3.]]]), tensor([[[1]]]))
    """
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    """``adaptive_max_pool2d(..., return_indices=True)``: (values, indices), PyTorch's name.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.adaptive_max_pool2d_with_indices(ag.tensor([[[[1.0, 3.0], [4.0, 2.0]]]]), 1)
    (tensor([[[[4.]]]]), tensor([[[[2]]]]))
    """
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)`` (PyTorch's deprecated
    name).

    >>> import autograd_core as ag, nn.functional as F
    >>> F.upsample_bilinear(ag.tensor([[[[0.0, 3.0]]]]), size=(1, 4))
    tensor([[[[0., 1., 2., 3.]]]])
    """
    return interpolate(input, size=size, scale_factor=scale_factor, mode="bilinear", align_corners=True)


from .grid import affine_grid, grid_sample  # noqa: E402  (spatial transformers: nn/grid.py)
from .unpool import max_unpool1d, max_unpool2d  # noqa: E402  (nn/unpool.py)
from .conv3d import (_adaptive_max, adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d,  # noqa: E402
                     conv3d, conv_transpose3d, max_pool3d)
from .ctc import ctc_loss  # noqa: E402  (nn/ctc.py)

"""3-D convolution and pooling, as ``torch.nn.functional``: ``conv3d``, ``conv_transpose3d``, ``max_pool3d``,
``avg_pool3d``, ``adaptive_avg_pool3d``, ``adaptive_max_pool3d`` (reached as ``nn.functional.conv3d`` ...; the
modules ``Conv3d``, ``ConvTranspose3d``, ``MaxPool3d``, ``AvgPool3d``, ``AdaptiveAvgPool3d``,
``AdaptiveMaxPool3d`` are in ``nn/layers3d.py``).

They are compositions of taped ops (padding, ``unfold`` windows, ``einsum``, gathers), so their
gradients come from the tape; they are meant for the small volumes a CPU script uses (no dedicated
kernel: a (N, C, D, H, W) input makes windows of N C D' H' W' k³ elements). Max pooling sends the
gradient to the first maximum of each window (a NaN: to the last NaN), as PyTorch's.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.conv3d(ag.ones(1, 2, 5, 5, 5), ag.ones(4, 2, 3, 3, 3), padding=1).shape
    (1, 4, 5, 5, 5)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core.ops.pool import _bin_mean
from autograd_core.tensor import Tensor


__all__ = ["conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _triple(v: Any, name: str, what: str) -> tuple[int, int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) != 3 or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in v):
            raise ValueError(f"{name}: {what} must be an int or a triple of ints, got {v!r}")
        return (int(v[0]), int(v[1]), int(v[2]))
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name}: {what} must be an int or a triple of ints, got {v!r}")
    return (int(v),) * 3


def _batched(x: Any, name: str) -> tuple[Tensor, bool]:
    x = x if isinstance(x, Tensor) else ag.tensor(x)
    if x.ndim not in (4, 5):
        raise ValueError(f"{name}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape "
                         f"{tuple(x.shape)}")
    return (x, True) if x.ndim == 5 else (x.unsqueeze(0), False)


def _windows(x: Tensor, k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...]) -> Tensor:
    """The (N, C, D', H', W', kd, kh, kw) windows of a padded (N, C, D, H, W) tensor (a view on the tape)."""
    for i in range(3):
        span = d[i] * (k[i] - 1) + 1
        x = x.unfold(2 + i, span, s[i])
    if any(v != 1 for v in d):
        x = x[..., ::d[0], ::d[1], ::d[2]]
    return x


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation: input (N, C, D, H, W) (or unbatched), weight (O, C / groups, kd, kh, kw), bias
    (O,) -> (N, O, D', H', W'), D' = floor((D + 2 p - dil (kd - 1) - 1) / stride) + 1. ``padding``: an
    int, a triple, 'valid' or 'same' (stride 1). PyTorch: ``torch.nn.functional.conv3d``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.conv3d(ag.ones(1, 1, 3, 3, 3), ag.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 2, 2, 2)
    """
    name = "conv3d"
    x, batched = _batched(input, name)
    w = weight if isinstance(weight, Tensor) else ag.tensor(weight)
    if w.ndim != 5:
        raise ValueError(f"{name}: weight must be 5-D (out_channels, in_channels / groups, kd, kh, kw), got shape "
                         f"{tuple(w.shape)}")
    n, c = x.shape[0], x.shape[1]
    o, cg = w.shape[0], w.shape[1]
    if groups < 1 or c != cg * groups or o % groups:
        raise ValueError(f"{name}: input with {c} channels, weight {tuple(w.shape)} and groups={groups} don't fit: "
                         f"in_channels must be weight.shape[1] * groups and out_channels divisible by groups")
    k = tuple(w.shape[2:])
    s, d = _triple(stride, name, "stride"), _triple(dilation, name, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * 3
        elif padding == "same":
            if s != (1, 1, 1):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            pads = [((d[i] * (k[i] - 1)) // 2, d[i] * (k[i] - 1) - (d[i] * (k[i] - 1)) // 2) for i in range(3)]
        else:
            raise ValueError(f"{name}: padding must be an int, a triple, 'valid' or 'same', got {padding!r}")
    else:
        p = _triple(padding, name, "padding")
        pads = [(p[i], p[i]) for i in range(3)]
    if any(a or b for a, b in pads):
        x = ag.pad(x, (pads[2][0], pads[2][1], pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    for i in range(3):
        if x.shape[2 + i] < d[i] * (k[i] - 1) + 1:
            raise ValueError(f"{name}: the (padded) input {tuple(x.shape[2:])} is smaller than the kernel "
                             f"{k} with dilation {d}")
    win = _windows(x, k, s, d)                                   # (N, C, D', H', W', kd, kh, kw)
    dd, hh, ww = win.shape[2:5]
    win = win.reshape(n, groups, cg, dd, hh, ww, *k)
    wg = w.reshape(groups, o // groups, cg, *k)
    out = ag.einsum("ngcdhwijk,gocijk->ngodhw", win, wg).reshape(n, o, dd, hh, ww)
    if bias is not None:
        out = out + (bias if isinstance(bias, Tensor) else ag.tensor(bias)).reshape(1, o, 1, 1, 1)
    return out if batched else out.squeeze(0)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """The transposed 3-D convolution (the gradient of ``conv3d`` with respect to its input): input
    (N, C, D, H, W), weight (C, O / groups, kd, kh, kw) -> (N, O, D', H', W') with
    D' = (D - 1) stride - 2 p + dil (kd - 1) + output_padding + 1. PyTorch:
    ``torch.nn.functional.conv_transpose3d``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.conv_transpose3d(ag.ones(1, 1, 2, 2, 2), ag.ones(1, 1, 2, 2, 2), stride=2).shape
    (1, 1, 4, 4, 4)
    """
    name = "conv_transpose3d"
    x, batched = _batched(input, name)
    w = weight if isinstance(weight, Tensor) else ag.tensor(weight)
    if w.ndim != 5:
        raise ValueError(f"{name}: weight must be 5-D (in_channels, out_channels / groups, kd, kh, kw), got shape "
                         f"{tuple(w.shape)}")
    c = x.shape[1]
    if groups < 1 or w.shape[0] != c or c % groups:
        raise ValueError(f"{name}: input with {c} channels, weight {tuple(w.shape)} and groups={groups} don't fit: "
                         f"weight.shape[0] must be in_channels, divisible by groups")
    og = w.shape[1]
    k = tuple(w.shape[2:])
    s, p = _triple(stride, name, "stride"), _triple(padding, name, "padding")
    op, d = _triple(output_padding, name, "output_padding"), _triple(dilation, name, "dilation")
    for i in range(3):
        if op[i] >= max(s[i], d[i]):
            raise ValueError(f"{name}: output_padding {op} must be smaller than stride {s} or dilation {d}")
    # spread the input out by the stride (zeros between the elements), pad by dil (k - 1) - p (plus
    # output_padding at the end), then a stride-1 convolution with the flipped, transposed kernel
    for i in range(3):
        if s[i] > 1:
            axis = 2 + i
            size = x.shape[axis]
            x = x.unsqueeze(axis + 1)
            widths = [0] * (2 * x.ndim)
            widths[2 * (x.ndim - 1 - (axis + 1)) + 1] = s[i] - 1
            x = ag.pad(x, tuple(widths))
            shape = list(x.shape)
            x = x.reshape(*shape[:axis], size * s[i], *shape[axis + 2:])
            x = x.narrow(axis, 0, (size - 1) * s[i] + 1)
    lo = [d[i] * (k[i] - 1) - p[i] for i in range(3)]
    hi = [lo[i] + op[i] for i in range(3)]
    if min(lo + hi) < 0:
        crop = [(max(-lo[i], 0), max(-hi[i], 0)) for i in range(3)]
        for i in range(3):
            a, b = crop[i]
            if a or b:
                x = x.narrow(2 + i, a, x.shape[2 + i] - a - b)
        lo, hi = [max(v, 0) for v in lo], [max(v, 0) for v in hi]
    if any(lo) or any(hi):
        x = ag.pad(x, (lo[2], hi[2], lo[1], hi[1], lo[0], hi[0]))
    wt = w.reshape(groups, c // groups, og, *k).transpose(1, 2).reshape(groups * og, c // groups, *k)
    wt = wt.flip((2, 3, 4))
    out = conv3d(x, wt, bias, 1, 0, d, groups)
    return out if batched else out.squeeze(0)


def _pool_sizes(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = d * (k - 1) + 1
    num = size + 2 * p - span
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_args(kernel_size, stride, padding, dilation, name):
    k = _triple(kernel_size, name, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _triple(stride, name, "stride")
    p = _triple(padding, name, "padding")
    d = _triple(dilation, name, "dilation")
    for i in range(3):
        if p[i] * 2 > k[i]:
            raise ValueError(f"{name}: padding {p} should be at most half of the kernel size {k}")
    return k, s, p, d


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each (dilated) window of (N, C, D, H, W) or (C, D, H, W): out (N, C, D', H', W'); with
    ``return_indices`` also each maximum's flat index into D H W (for ``max_unpool``-style use). The
    gradient goes to the first maximum of a window (to its last NaN if it holds NaN), as PyTorch's.
    PyTorch: ``torch.nn.functional.max_pool3d``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.max_pool3d(ag.arange(8.0).reshape(1, 1, 2, 2, 2), 2).reshape(-1)
    tensor([7.])
    """
    name = "max_pool3d"
    x, batched = _batched(input, name)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, name)
    sizes = x.shape[2:]
    outs = [_pool_sizes(sizes[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(3)]
    extra = [max(0, (outs[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - (sizes[i] + 2 * p[i])) for i in range(3)]
    if any(p) or any(extra):
        x = ag.pad(x, (p[2], p[2] + extra[2], p[1], p[1] + extra[1], p[0], p[0] + extra[0]),
                                 value=-math.inf)
    win = _windows(x, k, s, d)[:, :, :outs[0], :outs[1], :outs[2]]
    n, c = win.shape[:2]
    flat = win.reshape(n, c, outs[0], outs[1], outs[2], -1)
    v = flat._data
    nan = np.isnan(v)
    kk = v.shape[-1]
    first_max = np.argmax(np.where(nan, -np.inf, v), axis=-1)
    # PyTorch's scan takes a later element when it is greater, or NaN: the first maximum, or the last NaN
    last_nan = kk - 1 - np.argmax(nan[..., ::-1], axis=-1)
    pick = np.where(nan.any(-1), last_nan, first_max)
    out = flat.gather(-1, ag.tensor(pick[..., None])).squeeze(-1)
    if not return_indices:
        return out if batched else out.squeeze(0)
    kd, kh, kw = np.unravel_index(pick, k)
    od, oh, ow = np.meshgrid(np.arange(outs[0]), np.arange(outs[1]), np.arange(outs[2]), indexing="ij")
    zd, zh, zw = od * s[0] - p[0] + kd * d[0], oh * s[1] - p[1] + kh * d[1], ow * s[2] - p[2] + kw * d[2]
    idx = ag.tensor(((zd * sizes[1] + zh) * sizes[2] + zw).astype(np.int64))
    return (out, idx) if batched else (out.squeeze(0), idx.squeeze(0))


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, D, H, W) or (C, D, H, W): out (N, C, D', H', W'). Divisor as
    PyTorch's: the window's size inside the padded input (``count_include_pad``) or inside the input,
    or ``divisor_override``. PyTorch: ``torch.nn.functional.avg_pool3d``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.avg_pool3d(ag.arange(8.0).reshape(1, 1, 2, 2, 2), 2).reshape(-1)
    tensor([3.5000])
    """
    name = "avg_pool3d"
    x, batched = _batched(input, name)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, name)
    if divisor_override is not None and (isinstance(divisor_override, bool) or divisor_override <= 0):
        raise ValueError(f"{name}: divisor_override must be a positive int, got {divisor_override!r}")
    sizes = x.shape[2:]
    outs = [_pool_sizes(sizes[i], k[i], s[i], p[i], 1, ceil_mode) for i in range(3)]
    extra = [max(0, (outs[i] - 1) * s[i] + k[i] - (sizes[i] + 2 * p[i])) for i in range(3)]
    if any(p) or any(extra):
        x = ag.pad(x, (p[2], p[2] + extra[2], p[1], p[1] + extra[1], p[0], p[0] + extra[0]))
    win = _windows(x, k, s, (1, 1, 1))[:, :, :outs[0], :outs[1], :outs[2]]
    total = win.sum(dim=(-3, -2, -1))
    if divisor_override is not None:
        return (total / divisor_override) if batched else (total / divisor_override).squeeze(0)
    counts = []
    for i in range(3):
        start = np.arange(outs[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], sizes[i] + p[i])
        inside = np.minimum(end, sizes[i]) - np.maximum(start, 0)
        counts.append(end - start if count_include_pad else inside)
    div = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
    out = total / ag.tensor(div.astype(total._data.dtype))
    return out if batched else out.squeeze(0)


def _adaptive_target(sizes: list[int], output_size: Any, name: str) -> list[int]:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 3:
            raise ValueError(f"{name}: output_size must be an int or a triple, got {output_size!r}")
        target = [sizes[i] if output_size[i] is None else int(output_size[i]) for i in range(3)]
    else:
        target = [int(output_size)] * 3
    if any(t <= 0 for t in target):
        raise ValueError(f"{name}: output_size must be positive, got {output_size!r}")
    return target


def _adaptive_bins(n: int, m: int) -> list[tuple[int, int]]:
    return [(i * n // m, -((-(i + 1) * n) // m)) for i in range(m)]


def _adaptive_max(x: Tensor, out: tuple[int, ...]) -> tuple[Tensor, np.ndarray]:
    """Max over PyTorch's adaptive bins of the last ``len(out)`` dims of ``x`` (the others lead): the values
    (..., *out) and the flat positions of the maxima within those dims (first maximum in row-major order,
    or the last NaN), the values gathered on the tape so that the gradient goes to those elements alone."""
    sizes = tuple(int(n) for n in x.shape[x.ndim - len(out):])
    bins = [_adaptive_bins(n, m) for n, m in zip(sizes, out)]
    # each cell's window, flattened: an index array (*out, k) padded by repeating its first members,
    # which a first-maximum search never prefers; ``real`` marks the unpadded slots
    k = math.prod(max(b - a for a, b in dim) for dim in bins)
    idx = np.empty(tuple(out) + (k,), np.int64)
    real = np.zeros(tuple(out) + (k,), bool)
    for cell in np.ndindex(*out):
        ranges = np.ix_(*(np.arange(*bins[d][i]) for d, i in enumerate(cell)))
        cells = np.ravel_multi_index(tuple(np.broadcast_arrays(*ranges)), sizes).reshape(-1).tolist()
        idx[cell] = (cells * (k // len(cells) + 1))[:k]
        real[cell + (slice(0, len(cells)),)] = True
    lead = tuple(x.shape[:x.ndim - len(out)])
    flat = x.reshape(lead + (math.prod(sizes),))
    windows = flat._data[..., idx]
    arg = windows.argmax(-1)
    if windows.dtype.kind in "fc":
        nan = np.isnan(windows) & real
        arg = np.where(nan.any(-1), k - 1 - nan[..., ::-1].argmax(-1), arg)
    pos = np.take_along_axis(np.broadcast_to(idx, windows.shape), arg[..., None], -1)[..., 0]
    values = flat.gather(-1, ag.tensor(pos.reshape(lead + (-1,)))).reshape(lead + tuple(out))
    return values, pos


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over PyTorch's adaptive windows, bin i of a dim of size L spanning [floor(i L / n),
    ceil((i + 1) L / n)), to (N, C, *output_size) (None keeps a size); ``return_indices`` also gives each
    maximum's flat position iz H W + iy W + ix. PyTorch: ``torch.nn.functional.adaptive_max_pool3d``.

    Each cell takes one element of its window, PyTorch's: the first maximum in row-major order, or the
    last NaN if there is one; the gradient goes to that element alone.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.adaptive_max_pool3d(ag.arange(8.0).reshape(1, 1, 2, 2, 2), (1, 2, 1)).flatten()
    tensor([5., 7.])
    """
    name = "adaptive_max_pool3d"
    x, batched = _batched(input, name)
    D, H, W = (int(v) for v in x.shape[2:])
    if D * H * W == 0:
        raise ValueError(f"{name}: the input's spatial dims must not be empty, got shape {tuple(x.shape)}")
    values, pos = _adaptive_max(x, tuple(_adaptive_target([D, H, W], output_size, name)))
    if not batched:
        values, pos = values.squeeze(0), pos[0]
    return (values, ag.tensor(pos)) if return_indices else values


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over PyTorch's adaptive windows, bin i of a dim of size L spanning [floor(i L / n),
    ceil((i + 1) L / n)), to (N, C, *output_size) (None keeps a size). PyTorch:
    ``torch.nn.functional.adaptive_avg_pool3d``.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.adaptive_avg_pool3d(ag.ones(1, 2, 5, 4, 3), 1).shape
    (1, 2, 1, 1, 1)
    """
    name = "adaptive_avg_pool3d"
    x, batched = _batched(input, name)
    sizes = list(x.shape[2:])
    target = _adaptive_target(sizes, output_size, name)
    for i in range(3):
        if target[i] != sizes[i]:
            # each bin a mean of its gathered slice (an averaging matrix would spread 0 * NaN across bins)
            x = _bin_mean(x, target[i], 2 + i)
    return x if batched else x.squeeze(0)

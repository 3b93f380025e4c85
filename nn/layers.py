"""Layers, activations and loss modules, with PyTorch's names, argument orders and default init.

Each layer holds its parameters and calls the matching ``nn.functional`` form in ``forward``;
the tape differentiates that. Layers with parameters take ``dtype=`` (default: the global default
dtype, float32), like PyTorch's factory kwargs; ``module.double()`` converts an existing one.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

import autograd_core as ag
from autograd_core.tensor import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, _check_device

__all__ = [
    "Identity", "Linear", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Flatten", "Unflatten", "Upsample",
    "Dropout1d", "Dropout2d", "Dropout3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "PixelShuffle", "PixelUnshuffle", "RMSNorm", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
]


def _dtype(dtype):
    dt = ag.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"layer dtype must be a floating dtype, got {dt}")
    return dt


def _conv_extra_repr(m):
    """A convolution's repr arguments as PyTorch prints them: the defaults (no padding or dilation, one group,
    a bias, zero padding) left out. ``m``: a Conv1d or Conv2d (or its transposed form)."""
    nd = len(m.kernel_size)
    s = f"{m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, stride={m.stride}"
    if m.padding != (0,) * nd:
        s += f", padding={m.padding}"  # a string unquoted, as PyTorch prints it (padding=same)
    if m.dilation != (1,) * nd:
        s += f", dilation={m.dilation}"
    if m.output_padding != (0,) * nd:
        s += f", output_padding={m.output_padding}"
    if m.groups != 1:
        s += f", groups={m.groups}"
    if m.bias is None:
        s += ", bias=False"
    if m.padding_mode != "zeros":
        s += f", padding_mode={m.padding_mode}"
    return s


def _reset_conv(weight, bias):
    """PyTorch's default init of a convolution: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) for the weight, the same bound for the bias (left as it is when fan_in is 0)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        if fan_in != 0:
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(bias, -bound, bound)


def _empty(shape, dtype):
    return Parameter(np.zeros(shape, _dtype(dtype)))


def _pair(v, name, what):
    if isinstance(v, (tuple, list)):
        if len(v) != 2 or not all(isinstance(i, (int, np.integer)) for i in v):
            raise ValueError(f"{name}: {what} must be an int or a pair of ints, got {v!r}")
        return tuple(int(i) for i in v)
    if not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name}: {what} must be an int or a pair of ints, got {v!r}")
    return (int(v), int(v))


def _positive(v, name, what):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{name}: {what} must be a positive int, got {v!r}")
    return int(v)


def _non_negative(v, name, what):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
        raise ValueError(f"{name}: {what} must be a non-negative int, got {v!r}")
    return int(v)


class Identity(Module):
    """y = x: returns its input, any shape; constructor arguments are ignored (a placeholder for a
    layer that is switched off, as in PyTorch).

    >>> import autograd_core as ag, nn
    >>> x = ag.ones(2, 3)
    >>> nn.Identity(54, unused="argument")(x) is x
    True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b, applied to the last dim: (*, in_features) -> (*, out_features).

    ``weight`` (out_features, in_features) and ``bias`` (out_features,) start as
    U(-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch (its ``kaiming_uniform_(a=sqrt(5))``
    and bias rule); ``bias=False`` leaves the bias out.

    >>> import autograd_core as ag, nn
    >>> layer = nn.Linear(3, 2)
    >>> layer(ag.ones(4, 3)).shape
    (4, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        _check_device(device, "Linear")
        # zero is allowed, as in PyTorch (an adaptive softmax's narrow tail projections can be empty)
        self.in_features = _non_negative(in_features, "Linear", "in_features")
        self.out_features = _non_negative(out_features, "Linear", "out_features")
        self.weight = _empty((out_features, in_features), dtype)
        self.bias = _empty((out_features,), dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new ``weight`` and ``bias`` from U(-1/sqrt(in_features), 1/sqrt(in_features)), in place.

        >>> import nn
        >>> layer = nn.Linear(4, 2)
        >>> _ = nn.init.zeros_(layer.weight)
        >>> layer.reset_parameters()
        >>> bool((layer.weight.abs() <= 0.5).all()), bool((layer.weight != 0).all())
        (True, True)
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives ``MultiheadAttention.out_proj`` (its quantization tooling skips
    that class); the same layer, so ``isinstance(m, nn.Linear)`` holds and ``print(model)`` matches PyTorch's.

    >>> import nn
    >>> nn.MultiheadAttention(4, 2).out_proj
    NonDynamicallyQuantizableLinear(in_features=4, out_features=4, bias=True)
    """


class _ConvNd(Module):
    def _setup(self, name, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
               padding_mode, transposed, output_padding, dtype):
        self.in_channels = _positive(in_channels, name, "in_channels")
        self.out_channels = _positive(out_channels, name, "out_channels")
        self.groups = _positive(groups, name, "groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels={out_channels} must both be "
                             f"divisible by groups={groups}")
        self.kernel_size = _pair(kernel_size, name, "kernel_size")
        self.stride = _pair(stride, name, "stride")
        if isinstance(padding, str):
            if transposed or padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a pair{'' if transposed else ', valid or same'}; "
                                 f"got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={self.stride})")
            self.padding = padding
        else:
            self.padding = _pair(padding, name, "padding")
        self.dilation = _pair(dilation, name, "dilation")
        self.output_padding = _pair(output_padding, name, "output_padding")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got "
                             f"{padding_mode!r}")
        if padding_mode != "zeros" and transposed:
            raise ValueError(f"{name}: only padding_mode='zeros' is supported for transposed convolutions (as in "
                             f"PyTorch), got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.transposed = transposed
        kh, kw = self.kernel_size
        if transposed:
            shape = (in_channels, out_channels // groups, kh, kw)
        else:
            shape = (out_channels, in_channels // groups, kh, kw)
        self.weight = _empty(shape, dtype)
        self.bias = _empty((out_channels,), dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new ``weight`` and ``bias`` from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), in place.

        >>> import nn
        >>> conv = nn.Conv2d(1, 2, 2)
        >>> conv.reset_parameters()
        >>> bool((conv.weight.abs() <= 0.5).all())
        True
        """
        _reset_conv(self.weight, self.bias)

    def extra_repr(self):
        return _conv_extra_repr(self)

    def _check_input(self, x, name):
        if x.ndim != 4:
            raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{name}: expected {self.in_channels} input channels, got input shape "
                             f"{tuple(x.shape)}")


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) -> (N, C_out, H', W'):

        out[n, o] = bias[o] + sum_c weight[o, c] (star) x[n, c]   (over the channels of o's group)
        H' = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1, W' likewise

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are ints or pairs; ``padding`` may also be
    'valid' (0) or 'same' (stride 1 only). ``groups`` splits the channels into independent groups.
    ``weight`` (C_out, C_in / groups, kH, kW) and ``bias`` (C_out,) start as U(-1/sqrt(fan_in), ...),
    fan_in = C_in / groups * kH * kW, as PyTorch. ``padding_mode`` 'zeros' (default), 'reflect', 'replicate'
    or 'circular' (the input is padded with ``F.pad`` in that mode first).

    >>> import autograd_core as ag, nn
    >>> conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
    >>> conv(ag.zeros(2, 3, 16, 16)).shape
    (2, 8, 16, 16)
    >>> nn.Conv2d(3, 8, kernel_size=3, stride=2)(ag.zeros(2, 3, 16, 16)).shape
    (2, 8, 7, 7)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        _check_device(device, "Conv2d")
        self._setup("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                    padding_mode, False, 0, dtype)

    def forward(self, input: Tensor) -> Tensor:
        x = F._t(input)
        self._check_input(x, "Conv2d")
        if self.padding_mode != "zeros":
            return F.conv2d(F.pad(x, self._padding_widths(), mode=self.padding_mode), self.weight, self.bias,
                            self.stride, 0, self.dilation, self.groups)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def _padding_widths(self):
        """F.pad's (left, right, top, bottom) for this layer's padding (PyTorch's split for 'same')."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            out = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        ph, pw = self.padding
        return (pw, pw, ph, ph)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution (the gradient of Conv2d w.r.t. its input), (N, C_in, H, W) -> (N, C_out, H', W')
    with H' = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1 (W' likewise).

    ``weight`` is (C_in, C_out / groups, kH, kW); PyTorch's init uses fan_in = C_out / groups * kH * kW.
    ``forward(x, output_size)`` picks output_padding to reach that size ((H', W'), or a full shape
    whose last two entries are used).

    >>> import autograd_core as ag, nn
    >>> up = nn.ConvTranspose2d(8, 3, kernel_size=2, stride=2)
    >>> up(ag.zeros(1, 8, 5, 5)).shape
    (1, 3, 10, 10)
    >>> up(ag.zeros(1, 8, 5, 5), output_size=(11, 11)).shape
    (1, 3, 11, 11)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int, int] = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        _check_device(device, "ConvTranspose2d")
        self._setup("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, True, output_padding, dtype)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be smaller than "
                                 f"either stride {self.stride} or dilation {self.dilation}")

    def _output_padding(self, x, output_size):
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        out = []
        for i in range(2):
            base = ((x.shape[2 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                    + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            extra = size[i] - base
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ValueError(f"ConvTranspose2d: requested output size {tuple(size)} is not reachable from input "
                                 f"shape {tuple(x.shape)} (valid sizes for dim {i}: {base} to "
                                 f"{base + max(self.stride[i], self.dilation[i]) - 1})")
            out.append(extra)
        return tuple(out)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        x = F._t(input)
        self._check_input(x, "ConvTranspose2d")
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups, self.dilation)


class MaxPool2d(Module):
    """Max over ``kernel_size`` windows of (N, C, H, W) or (C, H, W): out = max of each window, with
    H' = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1 (ceil with ``ceil_mode``); padded
    positions never win. ``stride`` defaults to ``kernel_size``. ``return_indices=True`` also returns
    the flat index (in H * W) of each maximum.

    >>> import autograd_core as ag, nn
    >>> x = ag.arange(16.0).reshape(1, 1, 4, 4)
    >>> nn.MaxPool2d(2)(x)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows of (N, C, H, W) or (C, H, W), output size as ``MaxPool2d``;
    ``stride`` defaults to ``kernel_size``. Zero padding counts in the mean unless
    ``count_include_pad=False``.

    >>> import autograd_core as ag, nn
    >>> nn.AvgPool2d(2)(ag.arange(16.0).reshape(1, 1, 4, 4))
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling of (N, C, H, W) or (C, H, W) to (..., oH, oW) = ``output_size`` (an int or a
    pair; None keeps that dim): output cell i averages input rows floor(i H / oH) to
    ceil((i + 1) H / oH) - 1, as PyTorch. ``output_size=1`` is global average pooling.

    >>> import autograd_core as ag, nn
    >>> nn.AdaptiveAvgPool2d(1)(ag.arange(16.0).reshape(1, 1, 4, 4))
    tensor([[[[7.5000]]]])
    >>> nn.AdaptiveAvgPool2d((2, 3))(ag.zeros(1, 3, 7, 7)).shape
    (1, 3, 2, 3)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _NormBase(Module):
    """What BatchNorm and InstanceNorm share (as PyTorch's ``_NormBase``): the optional affine
    ``weight``/``bias`` (ones and zeros, (C,)) and the optional running statistics buffers."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: DTypeLike | None = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        _check_device(device, name)
        self.num_features = _positive(num_features, name, "num_features")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dt = _dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_features, dt))
            self.bias = Parameter(np.zeros(num_features, dt)) if bias else None
        else:
            self.weight = None
            self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Set ``running_mean`` to zeros, ``running_var`` to ones and ``num_batches_tracked`` to 0, in
        place (nothing without ``track_running_stats``).

        >>> import autograd_core as ag, nn
        >>> bn = nn.BatchNorm1d(2)
        >>> _ = bn(ag.tensor([[1.0, 2.0], [3.0, 6.0]]))
        >>> bn.reset_running_stats(); bn.running_mean, bn.num_batches_tracked
        (tensor([0., 0.]), tensor(0))
        """
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0
            for b in (self.running_mean, self.running_var, self.num_batches_tracked):
                b._version += 1

    def reset_parameters(self) -> None:
        """``reset_running_stats()``, then ``weight`` to ones and ``bias`` to zeros, in place.

        >>> import nn
        >>> bn = nn.BatchNorm1d(2)
        >>> _ = nn.init.constant_(bn.weight, 3.0)
        >>> bn.reset_parameters(); bn.weight
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
        """
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _expected = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: DTypeLike | None = None, *,
                 bias: bool = True) -> None:
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum}")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input(self, x):
        name = type(self).__name__
        if x.ndim not in self._expected:
            want = " or ".join(f"{d}-D" for d in self._expected)
            raise ValueError(f"{name}: expected {want} input, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} features/channels in dim 1, got input shape "
                             f"{tuple(x.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        x = F._t(input)
        self._check_input(x)
        use_batch = self.training or self.running_mean is None
        if use_batch and x._data.size // self.num_features <= 1:
            raise ValueError(f"{type(self).__name__}: expected more than 1 value per channel when training, got "
                             f"input shape {tuple(x.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._version += 1
            if self.momentum is None:  # cumulative moving average, as PyTorch
                factor = 1.0 / float(self.num_batches_tracked._data)
        # eval without tracked statistics normalizes with the batch ones (PyTorch); only training updates them
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L), per feature C:

        y = (x - mean) / sqrt(var + eps) * weight + bias

    In training, mean and (biased) var are the batch's, over N (and L), and the running statistics
    are updated as r = (1 - momentum) r + momentum s (with the unbiased variance); in eval the
    running statistics are used. Running statistics are buffers: ``running_mean`` (zeros),
    ``running_var`` (ones), ``num_batches_tracked``; ``momentum=None`` uses the cumulative average;
    ``track_running_stats=False`` always uses the batch's. ``weight`` starts at ones, ``bias`` at
    zeros (``affine=False``: neither; ``bias=False``: no shift).

    >>> import autograd_core as ag, nn
    >>> bn = nn.BatchNorm1d(2)
    >>> bn(ag.tensor([[1.0, 10.0], [3.0, 30.0]]))
    tensor([[-1.0000, -1.0000],
            [ 1.0000,  1.0000]], grad_fn=<BatchNormBackward>)
    >>> bn.running_mean, bn.running_var
    (tensor([0.2000, 2.0000]), tensor([ 1.1000, 20.9000]))
    """
    _expected = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W), per channel C, over N, H and W (the formula, buffers and
    options as ``BatchNorm1d``).

    >>> import autograd_core as ag, nn
    >>> bn = nn.BatchNorm2d(3)
    >>> bn(ag.randn(4, 3, 5, 5)).shape, bn.running_mean.shape
    ((4, 3, 5, 5), (3,))
    """
    _expected = (4,)


class LayerNorm(Module):
    """Normalize each sample over its last dims ``normalized_shape`` (an int or a tuple), any leading dims:

        y = (x - mean) / sqrt(var + eps) * weight + bias      (biased var, over those dims)

    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape`` (``elementwise_affine=False``:
    neither; ``bias=False``: no shift).

    >>> import autograd_core as ag, nn
    >>> nn.LayerNorm(3)(ag.tensor([[1.0, 2.0, 3.0]]))
    tensor([[-1.2247,  0.0000,  1.2247]], grad_fn=<LayerNormBackward>)
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        _check_device(device, "LayerNorm")
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dt = _dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dt))
            self.bias = Parameter(np.zeros(self.normalized_shape, dt)) if bias else None
        else:
            self.weight = None
            self.bias = None

    def reset_parameters(self) -> None:
        """``weight`` to ones and ``bias`` to zeros, in place.

        >>> import nn
        >>> ln = nn.LayerNorm(2)
        >>> _ = nn.init.zeros_(ln.weight)
        >>> ln.reset_parameters(); ln.weight
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
        """
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalization over the last dims ``normalized_shape`` (Zhang & Sennrich, 2019):
    y = x / sqrt(mean(x^2) + eps) * weight, ``weight`` (ones) of that shape unless
    ``elementwise_affine=False``; ``eps=None`` is the machine epsilon of the input's dtype (PyTorch).

    >>> import autograd_core as ag, nn
    >>> nn.RMSNorm(2)(ag.tensor([[3.0, 4.0]]))          # rms = sqrt(12.5)
    tensor([[0.8485, 1.1314]], grad_fn=<MulBackward>)
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        _check_device(device, "RMSNorm")
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, _dtype(dtype)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        """``weight`` to ones, in place.

        >>> import nn
        >>> norm = nn.RMSNorm(2)
        >>> _ = nn.init.zeros_(norm.weight)
        >>> norm.reset_parameters(); norm.weight
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
        """
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p), so the
    expected value is unchanged; identity in eval. Any shape. Randomness comes from ``generator``
    (default: the global one that ``manual_seed`` reseeds). ``inplace`` is accepted and shown in
    ``repr``; the result is always a new tensor.

    >>> import autograd_core as ag, nn
    >>> _ = ag.manual_seed(1)
    >>> drop = nn.Dropout(p=0.5)
    >>> drop(ag.ones(8))
    tensor([0., 2., 2., 2., 0., 0., 2., 2.])
    >>> drop.eval()(ag.ones(3))
    tensor([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Any = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace
        self.generator = generator

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _DropoutNd(Module):
    # the name in nn.functional, looked up at each call as PyTorch's modules do, so that a replaced
    # F.dropout2d (a test's stand-in, a patched random stream) reaches nn.Dropout2d too
    _fn_name: str = ""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Any = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace
        self.generator = generator

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._fn_name)(input, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """In training, zero whole channels of (N, C, L) or (C, L) with probability p and scale the rest by
    1/(1-p); identity in eval. (For features that are correlated along L, where element dropout
    would not regularize.)

    >>> import autograd_core as ag, nn
    >>> _ = ag.manual_seed(1)
    >>> nn.Dropout1d(0.5)(ag.ones(1, 4, 3))            # each channel kept (x 2) or zeroed whole
    tensor([[[2., 2., 2.],
             [2., 2., 2.],
             [0., 0., 0.],
             [2., 2., 2.]]])
    """
    _fn_name = "dropout1d"


class Dropout2d(_DropoutNd):
    """In training, zero whole channels of (N, C, H, W) with probability p and scale the rest by 1/(1-p);
    identity in eval. A 3-D input is read as (N, C, L), with PyTorch's warning.

    >>> import autograd_core as ag, nn
    >>> _ = ag.manual_seed(1)
    >>> nn.Dropout2d(0.5)(ag.ones(1, 4, 2, 2)).sum(dim=(2, 3))   # per channel: 0 or 4 * 2
    tensor([[8., 8., 0., 8.]])
    """
    _fn_name = "dropout2d"


class Dropout3d(_DropoutNd):
    """In training, zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p and scale
    the rest by 1/(1-p); identity in eval.

    >>> import autograd_core as ag, nn
    >>> _ = ag.manual_seed(1)
    >>> nn.Dropout3d(0.5)(ag.ones(1, 4, 2, 2, 2)).sum(dim=(2, 3, 4))   # per channel: 0 or 8 * 2
    tensor([[16., 16.,  0., 16.]])
    """
    _fn_name = "dropout3d"


class GroupNorm(Module):
    """Group normalization of (N, C, *): the C channels are split into ``num_groups`` groups, each group of
    each sample is normalized over its channels and positions, then ``weight`` (ones) and ``bias``
    (zeros), both (C,), scale and shift each channel (``affine=False``: none):

        y = (x - mean_g) / sqrt(var_g + eps) * weight[c] + bias[c]     (biased var per sample and group)

    >>> import autograd_core as ag, nn
    >>> gn = nn.GroupNorm(2, 4)
    >>> y = gn(ag.randn(3, 4, 5))
    >>> y.shape, round(float(y[0, :2].mean()), 4)
    ((3, 4, 5), 0.0)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: DTypeLike | None = None, *, bias: bool = True) -> None:
        super().__init__()
        _check_device(device, "GroupNorm")
        self.num_groups = _positive(num_groups, "GroupNorm", "num_groups")
        self.num_channels = _positive(num_channels, "GroupNorm", "num_channels")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.eps = eps
        self.affine = affine
        dt = _dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dt))
            self.bias = Parameter(np.zeros(num_channels, dt)) if bias else None
        else:
            self.weight = None
            self.bias = None

    def reset_parameters(self) -> None:
        """``weight`` to ones and ``bias`` to zeros, in place.

        >>> import nn
        >>> gn = nn.GroupNorm(1, 2)
        >>> _ = nn.init.zeros_(gn.weight)
        >>> gn.reset_parameters(); gn.weight
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
        """
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        x = F._t(input)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected an input (N, {self.num_channels}, *), got shape {tuple(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_NormBase):
    _spatial = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: DTypeLike | None = None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        x = F._t(input)
        d = self._spatial
        if x.ndim not in (d + 1, d + 2):
            raise ValueError(f"{name}: expected a {d + 1}-D (unbatched) or {d + 2}-D input, got shape "
                             f"{tuple(x.shape)}")
        batched = x.ndim == d + 2
        if x.shape[x.ndim - d - 1] != self.num_features:
            msg = (f"{name}: expected the input's size at dim={x.ndim - d - 1} to match num_features "
                   f"({self.num_features}), but got input shape {tuple(x.shape)}")
            if self.affine or self.track_running_stats:
                raise ValueError(msg)
            warnings.warn(msg + "; num_features is not used because affine=False", stacklevel=2)
        if not batched:
            x = x.unsqueeze(0)
        y: Any = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return y if batched else y.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L): each channel of each sample is normalized over L,
    y = (x - mean) / sqrt(var + eps) (biased var), then scaled and shifted per channel if ``affine``.
    Defaults as PyTorch: no affine parameters and no running statistics (``affine=True``: ``weight``
    ones and ``bias`` zeros, (C,); ``track_running_stats=True``: buffers updated in training as
    BatchNorm's and used in eval).

    >>> import autograd_core as ag, nn
    >>> nn.InstanceNorm1d(2)(ag.tensor([[[1.0, 3.0], [0.0, 10.0]]]))
    tensor([[[-1.0000,  1.0000],
             [-1.0000,  1.0000]]])
    """
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W): each channel of each sample is normalized
    over H and W (the formula and options as ``InstanceNorm1d``).

    >>> import autograd_core as ag, nn
    >>> nn.InstanceNorm2d(3, affine=True)(ag.randn(2, 3, 4, 4)).shape
    (2, 3, 4, 4)
    """
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W): each channel of each sample is
    normalized over D, H and W (the formula and options as ``InstanceNorm1d``).

    >>> import autograd_core as ag, nn
    >>> nn.InstanceNorm3d(3)(ag.randn(3, 2, 4, 4)).shape        # unbatched (C, D, H, W)
    (3, 2, 4, 4)
    """
    _spatial = 3


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) with r = ``upscale_factor`` (sub-pixel convolution's
    rearrangement): out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w].

    >>> import autograd_core as ag, nn
    >>> nn.PixelShuffle(2)(ag.zeros(1, 8, 3, 3)).shape
    (1, 2, 6, 6)
    >>> nn.PixelShuffle(2)(ag.arange(4.0).reshape(4, 1, 1))
    tensor([[[0., 1.],
             [2., 3.]]])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W) with r = ``downscale_factor`` (the inverse of PixelShuffle).

    >>> import autograd_core as ag, nn
    >>> x = ag.randn(1, 2, 6, 6)
    >>> y = nn.PixelUnshuffle(2)(x)
    >>> y.shape, bool((nn.PixelShuffle(2)(y) == x).all())
    ((1, 8, 3, 3), True)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class Flatten(Module):
    """Merge dims ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default.

    >>> import autograd_core as ag, nn
    >>> nn.Flatten()(ag.zeros(2, 3, 4, 5)).shape
    (2, 60)
    >>> nn.Flatten(0, 1)(ag.zeros(2, 3, 4)).shape
    (6, 4)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return ag.flatten(F._t(input), self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (one entry may be -1): Unflatten(1, (C, H, W)) turns
    (N, C*H*W) into (N, C, H, W).

    >>> import autograd_core as ag, nn
    >>> nn.Unflatten(1, (3, 4))(ag.zeros(2, 12)).shape
    (2, 3, 4)
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        x = F._t(input)
        d = self.dim % x.ndim
        new = self.unflattened_size
        known = int(np.prod([s for s in new if s != -1]))
        if (-1 not in new and known != x.shape[d]) or (-1 in new and (known == 0 or x.shape[d] % known)):
            raise ValueError(f"Unflatten: dim {self.dim} of input shape {tuple(x.shape)} can't be split into "
                             f"{new}")
        return x.reshape(x.shape[:d] + new + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """Resizing of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor`` (give one;
    PyTorch's argument order) with ``F.interpolate``'s modes: 'nearest' (out[i, j] = in[floor(i H / H'),
    floor(j W / W')]), 'nearest-exact' (the pixel whose centre is nearest), 'linear', 'bilinear',
    'trilinear' (with ``align_corners``) and 'area'.

    >>> import autograd_core as ag, nn
    >>> nn.Upsample(scale_factor=2)(ag.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.],
              [3., 3., 4., 4.],
              [3., 3., 4., 4.]]]])
    >>> nn.Upsample(size=(3, 5))(ag.zeros(1, 1, 2, 2)).shape
    (1, 1, 3, 5)
    """

    def __init__(self, size: int | tuple[int, int] | None = None,
                 scale_factor: float | tuple[float, float] | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area"):
            raise ValueError(f"Upsample: mode must be 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear' "
                             f"or 'area', got {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
        return f"size={self.size}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` (PyTorch's older name).

    >>> import autograd_core as ag, nn
    >>> nn.UpsamplingNearest2d(scale_factor=2)(ag.zeros(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """

    def __init__(self, size: int | tuple[int, int] | None = None,
                 scale_factor: float | tuple[float, float] | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` (PyTorch's older name).

    >>> import autograd_core as ag, nn
    >>> nn.UpsamplingBilinear2d(size=3)(ag.tensor([[[[0.0, 2.0], [2.0, 4.0]]]]))
    tensor([[[[0., 1., 2.],
              [1., 2., 3.],
              [2., 3., 4.]]]])
    """

    def __init__(self, size: int | tuple[int, int] | None = None,
                 scale_factor: float | tuple[float, float] | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# -- activations --------------------------------------------------------------------------------
class ReLU(Module):
    """relu(x) = max(x, 0), elementwise, any shape; the gradient at 0 is 0. With ``inplace=True`` the input
    itself takes the result (every alias of it sees it) and is returned, as in PyTorch.

    >>> import autograd_core as ag, nn
    >>> nn.ReLU()(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x, elementwise, any shape.

    >>> import autograd_core as ag, nn
    >>> nn.LeakyReLU(0.1)(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.1000,  0.0000,  2.0000])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else alpha (exp(x) - 1), elementwise, any shape.

    >>> import autograd_core as ag, nn
    >>> nn.ELU()(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.6321,  0.0000,  2.0000])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x Phi(x), Phi the standard normal CDF (exact, through erf), elementwise, any shape;
    ``approximate='tanh'``: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).

    >>> import autograd_core as ag, nn
    >>> nn.GELU()(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.1587,  0.0000,  1.9545])
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (also called swish), elementwise, any shape.

    >>> import autograd_core as ag, nn
    >>> nn.SiLU()(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.2689,  0.0000,  1.7616])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input, inplace=self.inplace)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise, any shape.

    >>> import autograd_core as ag, nn
    >>> nn.Sigmoid()(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([0.2689, 0.5000, 0.8808])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)), elementwise, any shape.

    >>> import autograd_core as ag, nn
    >>> nn.Tanh()(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.7616,  0.0000,  0.9640])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, elementwise, any shape; x itself where beta x > ``threshold``.

    >>> import autograd_core as ag, nn
    >>> nn.Softplus()(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([0.3133, 0.6931, 2.1269])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``dim`` (computed stably), any shape. ``dim=None``
    picks one with PyTorch's deprecation warning: give it.

    >>> import autograd_core as ag, nn
    >>> nn.Softmax(dim=-1)(ag.tensor([1.0, 2.0, 3.0]))
    tensor([0.0900, 0.2447, 0.6652])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax(x) = x - logsumexp(x) along ``dim`` (stable for any logits), any shape.

    >>> import autograd_core as ag, nn
    >>> nn.LogSoftmax(dim=-1)(ag.tensor([1.0, 2.0, 3.0]))
    tensor([-2.4076, -1.4076, -0.4076])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


# -- losses -------------------------------------------------------------------------------------
class _Loss(Module):
    # PyTorch's legacy size_average / reduce, when given, decide the reduction (with its warning)
    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__()
        reduction = F._legacy_reduction(size_average, reduce, reduction)
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        # a buffer, as in PyTorch: it is saved in the state dict and converted by .to(dtype)
        self.register_buffer("weight", None if weight is None else F._t(weight))


class MSELoss(_Loss):
    """Mean squared error: (x - y)^2 per element, then ``reduction`` 'mean' (default), 'sum' or 'none'
    (the elementwise losses). Input and target of the same shape (see ``F.mse_loss``).

    >>> import autograd_core as ag, nn
    >>> x, y = ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0])
    >>> nn.MSELoss()(x, y), nn.MSELoss(reduction="none")(x, y)
    (tensor(1.6667), tensor([0., 1., 4.]))
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: |x - y| per element, then ``reduction`` (see ``F.l1_loss``).

    >>> import autograd_core as ag, nn
    >>> nn.L1Loss()(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0]))
    tensor(1.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """With d = |x - y|: 0.5 d^2 / beta where d < ``beta``, else d - 0.5 beta; then ``reduction``
    (see ``F.smooth_l1_loss``). ``beta=0`` is ``L1Loss``.

    >>> import autograd_core as ag, nn
    >>> nn.SmoothL1Loss()(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0]))   # (0 + 0.5 + 1.5) / 3
    tensor(0.6667)
    """

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """With d = |x - y|: 0.5 d^2 where d < ``delta``, else delta (d - 0.5 delta); then ``reduction``
    (see ``F.huber_loss``). ``delta`` times ``SmoothL1Loss(beta=delta)``.

    >>> import autograd_core as ag, nn
    >>> nn.HuberLoss(delta=0.5)(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 1.0, 1.0]))
    tensor(0.4167)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits: -log softmax(x)[y] per sample, for logits (N, C), (N, C, d1, ...)
    or (C,) and integer class targets (N, d1, ...), or class-probability targets of the input's shape;
    then ``reduction`` (see ``F.cross_entropy`` for ``weight`` (C,), ``ignore_index`` and
    ``label_smoothing``). ``weight`` is kept as a buffer.

    >>> import autograd_core as ag, nn
    >>> logits = ag.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> nn.CrossEntropyLoss()(logits, ag.tensor([0, 2]))      # (log(1 + 2 e^-2) + log 3) / 2
    tensor(0.6691)
    """

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood: -weight[y] x[y] for log-probabilities x (N, C, ...) or (C,) and integer
    targets y (N, ...); then ``reduction`` ('mean' divides by the summed weights; see ``F.nll_loss``).
    ``LogSoftmax`` followed by ``NLLLoss`` is ``CrossEntropyLoss``.

    >>> import autograd_core as ag, nn
    >>> nn.NLLLoss()(ag.log(ag.tensor([[0.5, 0.25, 0.25]])), ag.tensor([1]))    # -log 0.25
    tensor(1.3863)
    """

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities p in [0, 1]: -w [y log p + (1 - y) log(1 - p)] per element
    (each log clamped at -100), then ``reduction``; input and target of the same shape (see
    ``F.binary_cross_entropy``). For logits use ``BCEWithLogitsLoss``.

    >>> import autograd_core as ag, nn
    >>> nn.BCELoss()(ag.tensor([0.5, 0.9]), ag.tensor([1.0, 1.0]))     # (log 2 - log 0.9) / 2
    tensor(0.3993)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits x: w [pw y softplus(-x) + (1 - y) softplus(x)] per element,
    stable for any logit, then ``reduction`` (see ``F.binary_cross_entropy_with_logits``).
    ``pos_weight`` (pw) weighs the positive term, broadcast along the last (class) dim.

    >>> import autograd_core as ag, nn
    >>> nn.BCEWithLogitsLoss()(ag.tensor([0.0, 2.0]), ag.tensor([1.0, 0.0]))   # (log 2 + softplus(2)) / 2
    tensor(1.4100)
    """

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else F._t(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)

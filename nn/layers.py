"""Layers, activations and loss modules, with PyTorch's names, argument orders and default init.

Each layer holds its parameters and calls the matching ``nn.functional`` form in ``forward``;
the tape differentiates that. Layers with parameters take ``dtype=`` (default: the global default
dtype, float32), like PyTorch's factory kwargs; ``module.double()`` converts an existing one.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, _check_device

__all__ = [
    "Identity", "Linear", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Flatten", "Unflatten", "Upsample",
    "Dropout1d", "Dropout2d", "Dropout3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "PixelShuffle", "PixelUnshuffle", "RMSNorm",
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
]


def _dtype(dtype):
    dt = ag.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"layer dtype must be a floating dtype, got {dt}")
    return dt


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


class Identity(Module):
    """Returns its input; arguments are ignored (a placeholder, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b. Input (*, in_features), output (*, out_features).

    ``weight`` (out, in) and ``bias`` (out,) start as U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's
    kaiming_uniform_(a=sqrt(5)) and bias rule)."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = _positive(in_features, "Linear", "in_features")
        self.out_features = _positive(out_features, "Linear", "out_features")
        self.weight = _empty((out_features, in_features), dtype)
        self.bias = _empty((out_features,), dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


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
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}; "
                             "pad with nn.functional.pad first for other modes")
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

    def reset_parameters(self):
        # PyTorch: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias the same bound
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def _check_input(self, x, name):
        if x.ndim != 4:
            raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{name}: expected {self.in_channels} input channels, got input shape "
                             f"{tuple(x.shape)}")


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) -> (N, C_out, H', W').

    ``weight`` (C_out, C_in / groups, kH, kW) and ``bias`` (C_out,) start as U(-1/sqrt(fan_in), ...),
    fan_in = C_in / groups * kH * kW, as PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        self._setup("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                    padding_mode, False, 0, dtype)

    def forward(self, input):
        x = F._t(input)
        self._check_input(x, "Conv2d")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution (the gradient of Conv2d w.r.t. its input), (N, C_in, H, W) -> (N, C_out, H', W')
    with H' = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.

    ``weight`` is (C_in, C_out / groups, kH, kW); PyTorch's init uses fan_in = C_out / groups * kH * kW.
    ``forward(x, output_size)`` picks output_padding to reach that size."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", dtype=None):
        super().__init__()
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

    def forward(self, input, output_size=None):
        x = F._t(input)
        self._check_input(x, "ConvTranspose2d")
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups, self.dilation)


class MaxPool2d(Module):
    """Max over kernel_size windows of (N, C, H, W); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over kernel_size windows of (N, C, H, W); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to ``output_size`` (an int or a pair); 1 is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _BatchNorm(Module):
    _expected = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None, *,
                 bias=True):
        super().__init__()
        self.num_features = _positive(num_features, type(self).__name__, "num_features")
        self.eps = eps
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum}")
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

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0
            for b in (self.running_mean, self.running_var, self.num_batches_tracked):
                b._version += 1

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, x):
        name = type(self).__name__
        if x.ndim not in self._expected:
            want = " or ".join(f"{d}-D" for d in self._expected)
            raise ValueError(f"{name}: expected {want} input, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} features/channels in dim 1, got input shape "
                             f"{tuple(x.shape)}")

    def forward(self, input):
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

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L), per feature C. Running statistics are buffers:
    ``running_mean`` (zeros), ``running_var`` (ones), ``num_batches_tracked``; ``momentum=None`` uses
    the cumulative average. ``weight`` starts at ones, ``bias`` at zeros (``bias=False``: no shift)."""
    _expected = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W), per channel C (see BatchNorm1d for the buffers)."""
    _expected = (4,)


class LayerNorm(Module):
    """Normalize over the last dims ``normalized_shape``; ``weight`` (ones) and ``bias`` (zeros) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
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

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalization over the last dims ``normalized_shape`` (Zhang & Sennrich, 2019):
    y = x / sqrt(mean(x^2) + eps) * weight, ``weight`` (ones) of that shape unless
    ``elementwise_affine=False``; ``eps=None`` is the machine epsilon of the input's dtype (PyTorch)."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
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

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); identity in eval.
    Randomness comes from ``generator`` (default: the global one that ``manual_seed`` reseeds)."""

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace
        self.generator = generator

    def forward(self, input):
        return F.dropout(input, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _DropoutNd(Module):
    _fn = None

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace
        self.generator = generator

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """In training, zero whole channels of (N, C, L) or (C, L) with probability p and scale the rest by
    1/(1-p); identity in eval. (For features that are correlated along L, where element dropout
    would not regularize.)"""
    _fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """In training, zero whole channels of (N, C, H, W) with probability p and scale the rest by 1/(1-p);
    identity in eval. A 3-D input is read as (N, C, L), with PyTorch's warning."""
    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """In training, zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p; identity in eval."""
    _fn = staticmethod(F.dropout3d)


class GroupNorm(Module):
    """Group normalization of (N, C, *): the C channels are split into ``num_groups`` groups, each group of
    each sample is normalized over its channels and positions, then ``weight`` (ones) and ``bias``
    (zeros), both (C,), scale and shift each channel (``affine=False``: none)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
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

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        x = F._t(input)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected an input (N, {self.num_channels}, *), got shape {tuple(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(Module):
    _spatial = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
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

    def reset_running_stats(self):
        if self.track_running_stats:
            for b, v in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                b._data[...] = v
                b._version += 1

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
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
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return y if batched else y.squeeze(0)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L): each channel of each sample is normalized over L.
    Defaults as PyTorch: no affine parameters and no running statistics (``affine=True``: ``weight``
    ones and ``bias`` zeros, (C,); ``track_running_stats=True``: buffers used in eval)."""
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W): each channel of each sample is normalized
    over H and W (see InstanceNorm1d for the options)."""
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) (see InstanceNorm1d)."""
    _spatial = 3


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) with r = ``upscale_factor`` (sub-pixel convolution's rearrangement)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W) with r = ``downscale_factor`` (the inverse of PixelShuffle)."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return ag.flatten(F._t(input), self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: Unflatten(1, (C, H, W)) turns (N, C*H*W) into (N, C, H, W)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
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
    """Nearest-neighbour upsampling of (N, C, H, W) to ``size`` or by ``scale_factor`` (PyTorch's argument order)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: only mode='nearest' is supported, got {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
        return f"size={self.size}, mode={self.mode!r}"


# -- activations --------------------------------------------------------------------------------
class ReLU(Module):
    """max(x, 0). ``inplace`` is kept for compatibility (shown in repr); the result is a new tensor."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else alpha (exp(x) - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x Phi(x); ``approximate='tanh'`` for the tanh form."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log_softmax along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


# -- losses -------------------------------------------------------------------------------------
class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        # a buffer, as in PyTorch: it is saved in the state dict and converted by .to(dtype)
        self.register_buffer("weight", None if weight is None else F._t(weight))


class MSELoss(_Loss):
    """Mean squared error (see ``F.mse_loss``)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (see ``F.l1_loss``)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above (see ``F.smooth_l1_loss``)."""

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear with slope delta above (see ``F.huber_loss``)."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits with class-index or class-probability targets
    (see ``F.cross_entropy`` for ``weight``, ``ignore_index`` and ``label_smoothing``)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (see ``F.nll_loss``)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (see ``F.binary_cross_entropy``)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits, stable for any logit (see ``F.binary_cross_entropy_with_logits``)."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else F._t(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)

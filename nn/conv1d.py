"""1-D convolution and pooling modules, as ``torch.nn``: ``Conv1d``, ``ConvTranspose1d``, ``MaxPool1d``,
``AvgPool1d``, ``AdaptiveAvgPool1d``, ``AdaptiveMaxPool1d``, ``LPPool1d``, and ``AdaptiveMaxPool2d``,
``LPPool2d``. The convolutions hold PyTorch's 3-D weights (state-dict compatible) and run ``conv2d`` on
a height of 1 (see ``F.conv1d``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from autograd_core.tensor import Tensor

from . import functional as F
from .layers import _conv_extra_repr, _empty, _positive, _reset_conv
from .module import Module

__all__ = ["Conv1d", "ConvTranspose1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "LPPool1d", "LPPool2d"]


def _single(v: Any, name: str, what: str) -> int:
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{name}: {what} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name}: {what} must be an int, got {v!r}")
    return int(v)


class _Conv1dBase(Module):
    def _setup(self, name: str, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any, groups: int, bias: bool, padding_mode: str, transposed: bool, output_padding: Any,
               dtype: DTypeLike | None) -> None:
        self.in_channels = _positive(in_channels, name, "in_channels")
        self.out_channels = _positive(out_channels, name, "out_channels")
        self.groups = _positive(groups, name, "groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels={out_channels} must both be "
                             f"divisible by groups={groups}")
        self.kernel_size = (_single(kernel_size, name, "kernel_size"),)
        self.stride = (_single(stride, name, "stride"),)
        if isinstance(padding, str):
            if transposed or padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int{'' if transposed else ', valid or same'}; got "
                                 f"{padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding: Any = padding
        else:
            self.padding = (_single(padding, name, "padding"),)
        self.dilation = (_single(dilation, name, "dilation"),)
        self.output_padding = (_single(output_padding, name, "output_padding"),)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular") or \
                (transposed and padding_mode != "zeros"):
            raise ValueError(f"{name}: padding_mode must be 'zeros'{'' if transposed else ', reflect, replicate or '}"
                             f"{'' if transposed else 'circular'}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.transposed = transposed
        k = self.kernel_size[0]
        shape = (in_channels, out_channels // groups, k) if transposed else (out_channels, in_channels // groups, k)
        self.weight = _empty(shape, dtype)
        self.bias = _empty((out_channels,), dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new ``weight`` and ``bias`` from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), in place (PyTorch's init).

        >>> import nn
        >>> conv = nn.Conv1d(1, 2, 3); conv.reset_parameters()
        >>> bool((conv.weight.abs() <= 3 ** -0.5).all())
        True
        """
        _reset_conv(self.weight, self.bias)

    def extra_repr(self) -> str:
        return _conv_extra_repr(self)

    def _check(self, x: Tensor, name: str) -> None:
        if x.ndim not in (2, 3) or x.shape[-2] != self.in_channels:
            raise ValueError(f"{name}: expected input (N, {self.in_channels}, L) or ({self.in_channels}, L), got "
                             f"shape {tuple(x.shape)}")


class Conv1d(_Conv1dBase):
    """1-D convolution (cross-correlation) over (N, C_in, L) or (C_in, L) -> (N, C_out, L'):
    L' = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1. ``weight`` (C_out, C_in / groups, k)
    and ``bias`` (C_out,) start as U(-1/sqrt(fan_in), ...), fan_in = C_in / groups * k, as PyTorch.
    ``padding`` may be 'valid' or 'same'; ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'.

    >>> import autograd_core as ag, nn
    >>> nn.Conv1d(3, 8, kernel_size=3, padding=1)(ag.zeros(2, 3, 10)).shape
    (2, 8, 10)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self._setup("Conv1d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                    padding_mode, False, 0, dtype)

    def forward(self, input: Tensor) -> Tensor:
        x = F._t(input)
        self._check(x, "Conv1d")
        if self.padding_mode != "zeros":
            if self.padding == "same":
                total = self.dilation[0] * (self.kernel_size[0] - 1)
                widths = (total // 2, total - total // 2)
            else:
                p = 0 if self.padding == "valid" else self.padding[0]
                widths = (p, p)
            return F.conv1d(F.pad(x, widths, mode=self.padding_mode), self.weight, self.bias, self.stride, 0,
                            self.dilation, self.groups)
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose1d(_Conv1dBase):
    """1-D transposed convolution (the gradient of Conv1d w.r.t. its input): weight (C_in, C_out / groups, k),
    L' = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1.

    >>> import autograd_core as ag, nn
    >>> nn.ConvTranspose1d(4, 2, kernel_size=2, stride=2)(ag.zeros(1, 4, 5)).shape
    (1, 2, 10)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self._setup("ConvTranspose1d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, True, output_padding, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        x = F._t(input)
        self._check(x, "ConvTranspose1d")
        op = self.output_padding[0]
        if output_size is not None:
            want = tuple(output_size)[-1]
            base = ((x.shape[-1] - 1) * self.stride[0] - 2 * self.padding[0]
                    + self.dilation[0] * (self.kernel_size[0] - 1) + 1)
            op = want - base
            if not 0 <= op < max(self.stride[0], self.dilation[0]):
                raise ValueError(f"ConvTranspose1d: output size {want} is not reachable from input shape "
                                 f"{tuple(x.shape)}")
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                  self.dilation)


class MaxPool1d(Module):
    """Max over windows of ``kernel_size`` along L of (N, C, L) or (C, L); ``stride`` defaults to
    ``kernel_size``.

    >>> import autograd_core as ag, nn
    >>> nn.MaxPool1d(2)(ag.tensor([[[1.0, 3.0, 2.0, 5.0]]]))
    tensor([[[3., 5.]]])
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation, self.return_indices, self.ceil_mode = padding, dilation, return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Mean over windows of ``kernel_size`` along L of (N, C, L) or (C, L).

    >>> import autograd_core as ag, nn
    >>> nn.AvgPool1d(2)(ag.tensor([[[1.0, 3.0, 2.0, 6.0]]]))
    tensor([[[2., 4.]]])
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average pooling of (N, C, L) or (C, L) to ``output_size`` along L (PyTorch's adaptive bins).

    >>> import autograd_core as ag, nn
    >>> nn.AdaptiveAvgPool1d(1)(ag.tensor([[[1.0, 2.0, 3.0]]]))
    tensor([[[2.]]])
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` along L (PyTorch's adaptive bins).

    >>> import autograd_core as ag, nn
    >>> nn.AdaptiveMaxPool1d(1)(ag.tensor([[[1.0, 5.0, 3.0]]]))
    tensor([[[5.]]])
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (an int or a pair; None keeps a size).

    >>> import autograd_core as ag, nn
    >>> nn.AdaptiveMaxPool2d(1)(ag.arange(16.0).reshape(1, 1, 4, 4))
    tensor([[[[15.]]]])
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class LPPool1d(Module):
    """(sum of x^p over each window)^(1/p) along L.

    >>> import autograd_core as ag, nn
    >>> nn.LPPool1d(2, 2)(ag.tensor([[[3.0, 4.0]]]))
    tensor([[[5.]]])
    """

    def __init__(self, norm_type: float, kernel_size: int, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool2d(LPPool1d):
    """(sum of x^p over each (kh, kw) window)^(1/p).

    >>> import autograd_core as ag, nn
    >>> nn.LPPool2d(1, 2)(ag.ones(1, 1, 2, 2))
    tensor([[[[4.]]]])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

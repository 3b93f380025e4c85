"""3-D convolution and pooling modules, as ``torch.nn``: ``Conv3d``, ``ConvTranspose3d``, ``MaxPool3d``,
``AvgPool3d``, ``AdaptiveAvgPool3d``, ``AdaptiveMaxPool3d`` (PyTorch's weight shapes and state dict keys), each calling its
functional form in ``nn/conv3d.py``.

    >>> import autograd_core as ag, nn
    >>> nn.Conv3d(2, 4, 3, padding=1)(ag.ones(1, 2, 5, 5, 5)).shape
    (1, 4, 5, 5, 5)
"""
from __future__ import annotations

from typing import Any

from numpy.typing import DTypeLike

from autograd_core.tensor import Tensor

from .conv3d import _triple, adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, conv3d, conv_transpose3d, max_pool3d
from .layers import _empty, _positive, _reset_conv
from .module import Module

__all__ = ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d"]


class _ConvNd3(Module):
    def _setup(self, name: str, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, dilation: Any,
               groups: int, padding_mode: str) -> None:
        self.in_channels = _positive(in_channels, name, "in_channels")
        self.out_channels = _positive(out_channels, name, "out_channels")
        self.groups = _positive(groups, name, "groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels={out_channels} must both be "
                             f"divisible by groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported here; only 'zeros'")
        self.padding_mode = padding_mode
        self.kernel_size = _triple(kernel_size, name, "kernel_size")
        self.stride = _triple(stride, name, "stride")
        self.dilation = _triple(dilation, name, "dilation")

    def reset_parameters(self) -> None:
        """PyTorch's default init, in place: kaiming uniform (a = sqrt(5)) weight, U(-1/sqrt(fan_in), ...) bias."""
        _reset_conv(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0, 0):
            s += f", padding={self.padding}"  # a string unquoted, as PyTorch prints it
        if self.dilation != (1, 1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0, 0)) != (0, 0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv3d(_ConvNd3):
    """3-D convolution (see ``F.conv3d``): weight (out, in / groups, kd, kh, kw), bias (out,), PyTorch's
    default init (kaiming uniform with a = sqrt(5)). ``padding_mode`` 'zeros' only.

    >>> import autograd_core as ag, nn
    >>> nn.Conv3d(1, 2, (3, 3, 1)).weight.shape
    (2, 1, 3, 3, 1)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self._setup("Conv3d", in_channels, out_channels, kernel_size, stride, dilation, groups, padding_mode)
        self.padding: Any = padding if isinstance(padding, str) else _triple(padding, "Conv3d", "padding")
        self.weight = _empty((out_channels, in_channels // groups) + self.kernel_size, dtype)
        self.bias = _empty((out_channels,), dtype) if bias else None
        self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        return conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose3d(_ConvNd3):
    """Transposed 3-D convolution (see ``F.conv_transpose3d``): weight (in, out / groups, kd, kh, kw), bias
    (out,). ``forward(input, output_size=None)``: ``output_size`` picks the output_padding that gives it.

    >>> import autograd_core as ag, nn
    >>> nn.ConvTranspose3d(2, 1, 2, stride=2)(ag.ones(1, 2, 3, 3, 3)).shape
    (1, 1, 6, 6, 6)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        name = "ConvTranspose3d"
        self._setup(name, in_channels, out_channels, kernel_size, stride, dilation, groups, padding_mode)
        self.padding = _triple(padding, name, "padding")
        self.output_padding = _triple(output_padding, name, "output_padding")
        self.weight = _empty((in_channels, out_channels // groups) + self.kernel_size, dtype)
        self.bias = _empty((out_channels,), dtype) if bias else None
        self.reset_parameters()

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        op = self.output_padding
        if output_size is not None:
            want = list(output_size)[-3:]
            sizes = input.shape[-3:]
            op = tuple(int(want[i]) - ((sizes[i] - 1) * self.stride[i] - 2 * self.padding[i]
                                       + self.dilation[i] * (self.kernel_size[i] - 1) + 1) for i in range(3))
        return conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                self.dilation)


class MaxPool3d(Module):
    """``F.max_pool3d`` as a module.

    >>> import autograd_core as ag, nn
    >>> nn.MaxPool3d(2)(ag.ones(1, 1, 4, 4, 4)).shape
    (1, 1, 2, 2, 2)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:
        return max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool3d(Module):
    """``F.avg_pool3d`` as a module.

    >>> import autograd_core as ag, nn
    >>> nn.AvgPool3d(2)(ag.ones(1, 1, 4, 4, 4)).shape
    (1, 1, 2, 2, 2)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(Module):
    """``F.adaptive_avg_pool3d`` as a module.

    >>> import autograd_core as ag, nn
    >>> nn.AdaptiveAvgPool3d((1, 2, 2))(ag.ones(1, 3, 4, 4, 4)).shape
    (1, 3, 1, 2, 2)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(Module):
    """``F.adaptive_max_pool3d`` as a module.

    >>> import autograd_core as ag, nn
    >>> nn.AdaptiveMaxPool3d((1, 2, 2))(ag.ones(1, 3, 4, 4, 4)).shape
    (1, 3, 1, 2, 2)
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

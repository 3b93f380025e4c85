"""More layers, as ``torch.nn``: ``Bilinear``, ``Unfold``, ``Fold``, ``AlphaDropout``,
``FeatureAlphaDropout``, ``LocalResponseNorm``, ``BatchNorm3d``, ``ChannelShuffle``; each calls the
``nn.functional`` form (``F.bilinear``, ``F.unfold``, ...).
"""
from __future__ import annotations

import math
from typing import Any

from numpy.typing import DTypeLike

from autograd_core.tensor import Tensor

from . import functional as F
from . import init
from .layers import _BatchNorm, _empty
from .module import Module

__all__ = ["Bilinear", "Unfold", "Fold", "AlphaDropout", "FeatureAlphaDropout", "LocalResponseNorm", "BatchNorm3d",
           "ChannelShuffle"]


class Bilinear(Module):
    """y = x1ᵀ A x2 + b per output feature: weight (out, in1, in2), bias (out,), both U(-1/sqrt(in1), ...)
    as PyTorch.

    >>> import autograd_core as ag, nn
    >>> nn.Bilinear(3, 4, 2)(ag.ones(5, 3), ag.ones(5, 4)).shape
    (5, 2)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _empty((out_features, in1_features, in2_features), dtype)
        self.bias = _empty((out_features,), dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw ``weight`` and ``bias`` from U(-1/sqrt(in1_features), 1/sqrt(in1_features)), in place.

        >>> import nn
        >>> m = nn.Bilinear(4, 2, 1); m.reset_parameters(); bool((m.weight.abs() <= 0.5).all())
        True
        """
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Unfold(Module):
    """im2col: the sliding blocks of (N, C, H, W) as columns (N, C * kh * kw, L) (see ``F.unfold``).

    >>> import autograd_core as ag, nn
    >>> nn.Unfold(kernel_size=2)(ag.zeros(1, 3, 4, 4)).shape
    (1, 12, 9)
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """col2im: columns (N, C * kh * kw, L) summed back into (N, C, *output_size) (see ``F.fold``).

    >>> import autograd_core as ag, nn
    >>> nn.Fold(output_size=(4, 4), kernel_size=2)(ag.zeros(1, 12, 9)).shape
    (1, 3, 4, 4)
    """

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class AlphaDropout(Module):
    """Dropout that keeps SELU's mean and variance (training only; see ``F.alpha_dropout``).

    >>> import autograd_core as ag, nn
    >>> nn.AlphaDropout(0.5).eval()(ag.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class FeatureAlphaDropout(AlphaDropout):
    """``AlphaDropout`` of whole channels.

    >>> import autograd_core as ag, nn
    >>> nn.FeatureAlphaDropout(0.5).eval()(ag.ones(1, 2, 2)).shape
    (1, 2, 2)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)


class LocalResponseNorm(Module):
    """Normalization over neighbouring channels (see ``F.local_response_norm``).

    >>> import autograd_core as ag, nn
    >>> nn.LocalResponseNorm(2)(ag.ones(1, 3, 2, 2)).shape
    (1, 3, 2, 2)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W), per channel C (the formula, buffers and options as
    ``BatchNorm1d``).

    >>> import autograd_core as ag, nn
    >>> nn.BatchNorm3d(2)(ag.randn(2, 2, 3, 3, 3)).shape
    (2, 2, 3, 3, 3)
    """
    _expected = (5,)  # type: ignore[assignment]


class ChannelShuffle(Module):
    """Split the C channels of (N, C, ...) into ``groups`` and interleave them (ShuffleNet).

    >>> import autograd_core as ag, nn
    >>> nn.ChannelShuffle(2)(ag.arange(4.0).reshape(1, 4, 1, 1)).reshape(-1)
    tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"

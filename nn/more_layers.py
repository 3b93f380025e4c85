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
           "ChannelShuffle", "SyncBatchNorm"]


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


class SyncBatchNorm(_BatchNorm):
    """Batch normalization across processes in PyTorch; here, with one process, the batch normalization
    of ``BatchNorm1d/2d/3d`` over any (N, C, ...) input (as PyTorch's SyncBatchNorm on the CPU without a
    process group). ``process_group`` is accepted and unused. ``convert_sync_batchnorm(module)`` replaces
    every batch norm in a model by one, sharing its parameters and buffers, as in PyTorch.

    >>> import autograd_core as ag, nn
    >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2)))
    >>> model[1]
    SyncBatchNorm(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> model(ag.randn(3, 1, 2, 2)).shape
    (3, 2, 2, 2)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input(self, x: Tensor) -> None:
        if x.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {x.ndim}D input, shape "
                             f"{tuple(x.shape)})")
        if x.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected {self.num_features} features/channels in dim 1, got input "
                             f"shape {tuple(x.shape)}")

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every batch norm (BatchNorm1d/2d/3d) replaced by a SyncBatchNorm that takes over
        its weight, bias and running statistics (the same tensors) and its training mode."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


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

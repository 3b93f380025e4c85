"""Folding an eval-mode batch norm into the convolution or linear layer before it, as
``torch.nn.utils.fusion`` (``fuse_conv_bn_eval``, ``fuse_conv_bn_weights``, ``fuse_linear_bn_eval``,
``fuse_linear_bn_weights``): y = bn(conv(x)) becomes one conv with

    w' = w * gamma / sqrt(running_var + eps)   (per output channel)
    b' = (b - running_mean) * gamma / sqrt(running_var + eps) + beta

The new weights are tensor expressions of the old ones (so they carry gradients, as PyTorch's) wrapped
as new Parameters.

    >>> import autograd_core as ag, nn
    >>> conv, bn = nn.Conv2d(2, 3, 3).eval(), nn.BatchNorm2d(3).eval()
    >>> x = ag.randn(1, 2, 5, 5)
    >>> bool(ag.allclose(nn.utils.fuse_conv_bn_eval(conv, bn)(x), bn(conv(x)), atol=1e-6))
    True
"""
from __future__ import annotations

import copy
from typing import Any

import autograd_core as ag

from .module import Module, Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv: Module, bn: Module, transpose: bool = False) -> Module:
    """A copy of the eval-mode ``conv`` computing ``bn(conv(x))`` (``transpose=True`` for a transposed
    convolution, whose output channels are the weight's dim 1).

    >>> import autograd_core as ag, nn
    >>> fused = nn.utils.fuse_conv_bn_eval(nn.Conv1d(1, 2, 1).eval(), nn.BatchNorm1d(2).eval())
    >>> type(fused).__name__, fused.weight.shape
    ('Conv1d', (2, 1, 1))
    """
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval! (call .eval() on the convolution and the batch norm first)")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None (a batch norm with "
                             "track_running_stats=False can't be folded)")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps,
                                                    bn.weight, bn.bias, transpose)
    return fused


def fuse_conv_bn_weights(conv_w: Any, conv_b: Any, bn_rm: Any, bn_rv: Any, bn_eps: float, bn_w: Any, bn_b: Any,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The fused convolution's (weight, bias) as new Parameters (the formula in the module docstring); a
    missing conv bias or batch-norm affine parameter counts as 0 (bias) or 1 (weight).

    >>> import autograd_core as ag, nn
    >>> w, b = nn.utils.fuse_conv_bn_weights(ag.ones(1, 1, 1), None, ag.tensor([1.0]), ag.tensor([3.0]), 1.0,
    ...                                      ag.tensor([2.0]), ag.tensor([0.5]))
    >>> w.reshape(-1).tolist(), b.tolist()
    ([1.0], [-0.5])
    """
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    if conv_b is None:
        conv_b = ag.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ag.ones_like(bn_rm)
    if bn_b is None:
        bn_b = ag.zeros_like(bn_rm)
    rsqrt = ag.rsqrt(bn_rv + bn_eps)
    shape = [1, -1] + [1] * (conv_w.ndim - 2) if transpose else [-1, 1] + [1] * (conv_w.ndim - 2)
    fused_w = (conv_w * (bn_w * rsqrt).reshape(shape)).to(dtype=w_dtype)
    fused_b = ((conv_b - bn_rm) * rsqrt * bn_w + bn_b).to(dtype=b_dtype)
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear: Module, bn: Module) -> Module:
    """A copy of the eval-mode ``linear`` computing ``bn(linear(x))`` (bn's features are linear's
    outputs, or a single one).

    >>> import autograd_core as ag, nn
    >>> lin, bn = nn.Linear(3, 2).eval(), nn.BatchNorm1d(2).eval()
    >>> x = ag.randn(4, 3)
    >>> bool(ag.allclose(nn.utils.fuse_linear_bn_eval(lin, bn)(x), bn(lin(x)), atol=1e-6))
    True
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval! (call .eval() on the linear layer and the batch norm first)")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(f"To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
                             f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None (a batch norm with "
                             "track_running_stats=False can't be folded)")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Any, linear_b: Any, bn_rm: Any, bn_rv: Any, bn_eps: float, bn_w: Any,
                           bn_b: Any) -> tuple[Parameter, Parameter]:
    """The fused linear layer's (weight, bias) as new Parameters: w * s[:, None] and (b - mean) * s + beta,
    s = gamma / sqrt(running_var + eps).

    >>> import autograd_core as ag, nn
    >>> w, b = nn.utils.fuse_linear_bn_weights(ag.ones(1, 2), ag.zeros(1), ag.zeros(1), ag.tensor([3.0]), 1.0,
    ...                                        ag.tensor([4.0]), ag.tensor([1.0]))
    >>> w.tolist(), b.tolist()
    ([[2.0, 2.0]], [1.0])
    """
    w_dtype = linear_w.dtype
    b_dtype = linear_b.dtype if linear_b is not None else w_dtype
    if linear_b is None:
        linear_b = ag.zeros_like(bn_rm)
    scale = bn_w * ag.rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=w_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=b_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)

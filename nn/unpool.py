"""Max unpooling, as ``torch.nn.functional.max_unpool1d/2d`` and ``nn.MaxUnpool1d/2d``: the inverse of
``max_pool(..., return_indices=True)`` up to the values that were not maxima, which become 0. A scatter
of the input into zeros at the indices (a tensor expression: the input's gradient is the output's
gradient gathered at the same indices).

    >>> import autograd_core as ag, nn, nn.functional as F
    >>> x = ag.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> out, idx = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_unpool2d(out, idx, 2)
    tensor([[[[0., 0.],
              [0., 4.]]]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

from .module import Module

__all__ = ["max_unpool1d", "max_unpool2d", "MaxUnpool1d", "MaxUnpool2d"]


def _pair(v, k, name):
    t = tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v),) * k
    if len(t) != k:
        raise ValueError(f"max_unpool{k}d: {name} must be an int or {k} ints, got {v!r}")
    return t


def _unpool(x, indices, kernel_size, stride, padding, output_size, k):
    op = f"max_unpool{k}d"
    x = x if isinstance(x, Tensor) else Tensor(x)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if x.ndim not in (k + 1, k + 2) or tuple(idx.shape) != tuple(x.shape):
        raise ValueError(f"{op}: expected input of {k + 1} or {k + 2} dims and indices of the same shape, got "
                         f"{tuple(x.shape)} and {tuple(idx.shape)}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers (max_pool's return_indices=True), got {idx.dtype}")
    kernel = _pair(kernel_size, k, "kernel_size")
    stride = _pair(stride if stride is not None else kernel_size, k, "stride")
    padding = _pair(padding, k, "padding")
    spatial = tuple((n - 1) * s - 2 * p + kk for n, s, p, kk in zip(x.shape[-k:], stride, padding, kernel))
    if output_size is not None:
        want = tuple(int(v) for v in output_size)[-k:]
        if len(want) != k:
            raise ValueError(f"{op}: output_size must give the {k} spatial sizes, got {output_size!r}")
        spatial = want
    lead = tuple(x.shape[:-k])
    plane = int(np.prod(spatial))
    flat_idx = idx.reshape(lead + (-1,))
    if flat_idx.size and (flat_idx.min() < 0 or flat_idx.max() >= plane):
        raise ValueError(f"{op}: an index is outside the output planes of {spatial} ({plane} elements): found "
                         f"{int(flat_idx.min())}..{int(flat_idx.max())}; give output_size if the pooled input "
                         f"was larger")
    out = ag.zeros(*lead, plane, dtype=x.dtype).scatter(-1, ag.tensor(flat_idx.astype(np.int64)),
                                                        x.reshape(lead + (-1,)))
    return out.reshape(lead + spatial)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
                 output_size: Any = None) -> Tensor:
    """(N, C, H, W) or (C, H, W) -> (..., H', W') with H' = (H - 1) stride - 2 padding + kernel (or
    ``output_size``): each value placed at its flat index (in H' W') from max_pool2d, zeros elsewhere.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.max_unpool2d(ag.tensor([[[[5.0]]]]), ag.tensor([[[[2]]]]), 2).shape
    (1, 1, 2, 2)
    """
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
                 output_size: Any = None) -> Tensor:
    """(N, C, L) or (C, L) -> (..., L') with L' = (L - 1) stride - 2 padding + kernel: ``max_unpool2d`` in 1-D.

    >>> import autograd_core as ag, nn.functional as F
    >>> F.max_unpool1d(ag.tensor([[[5.0, 6.0]]]), ag.tensor([[[1, 2]]]), 2)
    tensor([[[0., 5., 6., 0.]]])
    """
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1)


class MaxUnpool2d(Module):
    """``max_unpool2d`` as a layer: ``MaxUnpool2d(kernel_size, stride=None, padding=0)``, called as
    ``unpool(x, indices, output_size=None)``.

    >>> import autograd_core as ag, nn
    >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    >>> out, idx = pool(ag.arange(16.0).reshape(1, 1, 4, 4))
    >>> unpool(out, idx).shape
    (1, 1, 4, 4)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(MaxUnpool2d):
    """``max_unpool1d`` as a layer (see ``MaxUnpool2d``).

    >>> import autograd_core as ag, nn
    >>> nn.MaxUnpool1d(2)(ag.tensor([[[5.0]]]), ag.tensor([[[1]]]))
    tensor([[[0., 5.]]])
    """

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

"""Padding modules, as ``torch.nn``: ``ZeroPad1d/2d/3d``, ``ConstantPad1d/2d/3d``, ``ReflectionPad1d/2d/3d``,
``ReplicationPad1d/2d/3d``, ``CircularPad1d/2d/3d``. ``padding`` is an int (every side) or PyTorch's tuple
``(left, right[, top, bottom[, front, back]])`` for the last 1, 2 or 3 dims; each calls ``F.pad``.
"""
from __future__ import annotations

from typing import Any

from autograd_core.tensor import Tensor

from . import functional as F
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    _dims = 1
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        n = 2 * self._dims
        if isinstance(padding, (tuple, list)):
            if len(padding) != n:
                raise ValueError(f"{type(self).__name__}: padding must be an int or a {n}-tuple, got {padding!r}")
            self.padding = tuple(int(p) for p in padding)
        else:
            self.padding = (int(padding),) * n
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if self._mode == "constant":
            return F.pad(input, self.padding, mode="constant", value=self.value)
        return F.pad(input, self.padding, mode=self._mode)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}" if isinstance(self, ConstantPad1d) else f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pad the last dim with ``value``.

    >>> import autograd_core as ag, nn
    >>> nn.ConstantPad1d((1, 2), 9.0)(ag.tensor([[1.0, 2.0]]))
    tensor([[9., 1., 2., 9., 9.]])
    """

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    """Pad the last two dims with ``value``.

    >>> import autograd_core as ag, nn
    >>> nn.ConstantPad2d(1, 0.5)(ag.zeros(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """
    _dims = 2


class ConstantPad3d(ConstantPad1d):
    """Pad the last three dims with ``value``.

    >>> import autograd_core as ag, nn
    >>> nn.ConstantPad3d(1, 0.0)(ag.zeros(1, 1, 1, 1, 1)).shape
    (1, 1, 3, 3, 3)
    """
    _dims = 3


class ZeroPad1d(_PadNd):
    """Pad the last dim with zeros.

    >>> import autograd_core as ag, nn
    >>> nn.ZeroPad1d(1)(ag.tensor([[1.0]]))
    tensor([[0., 1., 0.]])
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


class ZeroPad2d(ZeroPad1d):
    """Pad the last two dims with zeros.

    >>> import autograd_core as ag, nn
    >>> nn.ZeroPad2d((1, 0, 0, 1))(ag.ones(1, 1, 1, 1))
    tensor([[[[0., 1.],
              [0., 0.]]]])
    """
    _dims = 2


class ZeroPad3d(ZeroPad1d):
    """Pad the last three dims with zeros.

    >>> import autograd_core as ag, nn
    >>> nn.ZeroPad3d(1)(ag.ones(1, 1, 1, 1)).shape
    (1, 3, 3, 3)
    """
    _dims = 3


class ReflectionPad1d(_PadNd):
    """Mirror the last dim at its edges (the edge itself not repeated).

    >>> import autograd_core as ag, nn
    >>> nn.ReflectionPad1d(2)(ag.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 2., 1., 2., 3., 2., 1.]])
    """
    _mode = "reflect"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    """Mirror the last two dims at their edges.

    >>> import autograd_core as ag, nn
    >>> nn.ReflectionPad2d(1)(ag.zeros(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """
    _dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Mirror the last three dims at their edges.

    >>> import autograd_core as ag, nn
    >>> nn.ReflectionPad3d(1)(ag.zeros(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """
    _dims = 3


class ReplicationPad1d(_PadNd):
    """Repeat the edge values of the last dim.

    >>> import autograd_core as ag, nn
    >>> nn.ReplicationPad1d((2, 1))(ag.tensor([[1.0, 2.0]]))
    tensor([[1., 1., 1., 2., 2.]])
    """
    _mode = "replicate"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class ReplicationPad2d(ReplicationPad1d):
    """Repeat the edge values of the last two dims.

    >>> import autograd_core as ag, nn
    >>> nn.ReplicationPad2d(1)(ag.zeros(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """
    _dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Repeat the edge values of the last three dims.

    >>> import autograd_core as ag, nn
    >>> nn.ReplicationPad3d(1)(ag.zeros(1, 1, 1, 1, 1)).shape
    (1, 1, 3, 3, 3)
    """
    _dims = 3


class CircularPad1d(_PadNd):
    """Wrap the last dim around.

    >>> import autograd_core as ag, nn
    >>> nn.CircularPad1d(1)(ag.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 1., 2., 3., 1.]])
    """
    _mode = "circular"

    def __init__(self, padding: Any) -> None:
        super().__init__(padding)


class CircularPad2d(CircularPad1d):
    """Wrap the last two dims around.

    >>> import autograd_core as ag, nn
    >>> nn.CircularPad2d(1)(ag.zeros(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """
    _dims = 2


class CircularPad3d(CircularPad1d):
    """Wrap the last three dims around.

    >>> import autograd_core as ag, nn
    >>> nn.CircularPad3d(1)(ag.zeros(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """
    _dims = 3

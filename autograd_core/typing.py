"""Type aliases for the public API's signatures: what a function accepts where it takes a tensor,
a dtype, a shape or a dim.

A ``TensorLike`` is anything ``ag.tensor`` turns into a tensor: a Tensor, an ndarray, a Python
number or a (nested) sequence of them. Ops take them wherever they take a tensor.

    >>> import autograd_core as ag
    >>> from autograd_core.typing import TensorLike
    >>> def double(x: TensorLike) -> ag.Tensor:
    ...     return ag.as_tensor(x) * 2
    >>> double([1.0, 2.0])
    tensor([2., 4.])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence, Union

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Number", "TensorLike", "DTypeLike", "ShapeLike", "DimLike"]

Number = Union[int, float, bool]
"""A Python scalar (a bool is an int to Python, and a bool tensor's element)."""

TensorLike = Union["Tensor", np.ndarray, np.generic, int, float, bool, Sequence[Any]]
"""What becomes a tensor: a Tensor, an ndarray, a NumPy scalar, a Python number or nested sequences."""

DTypeLike = Union[np.dtype, type, str, None]
"""A dtype as the constructors take it: ``ag.float32``, ``np.float64``, ``"int64"``, ``float``, ..."""

ShapeLike = Union[int, Sequence[int]]
"""A shape: one int or a sequence of ints."""

DimLike = Union[int, Sequence[int], None]
"""A reduction's ``dim``: one dim, several, or None (all)."""

"""Triangular parts of matrices: ``tril`` and ``triu`` (batched over leading dims, as PyTorch).

The gradient of taking a triangle is the same triangle of the gradient, so each rule is the op
itself (and grad of grad works).
"""
from __future__ import annotations

import numpy as np

from ..errors import OpError
from ..tensor import Tensor
from .registry import defop, method, xp

__all__ = ["tril", "triu"]


def _tril(x, diagonal=0):
    """Lower triangle of the last two dims: x[..., i, j] where j - i <= diagonal, else 0."""
    return np.tril(x, diagonal)


def _triu(x, diagonal=0):
    """Upper triangle of the last two dims: x[..., i, j] where j - i >= diagonal, else 0."""
    return np.triu(x, diagonal)


_tril_op = defop("tril", _tril, (lambda g, ans, x, diagonal=0: xp.tril(g, diagonal=diagonal),), uses=())
_triu_op = defop("triu", _triu, (lambda g, ans, x, diagonal=0: xp.triu(g, diagonal=diagonal),), uses=())


def _check(x, name, diagonal):
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim < 2:
        raise OpError(f"{name}: expects a matrix or a batch of matrices (at least 2 dims), got shape {tuple(x.shape)}")
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, np.integer)):
        raise TypeError(f"{name}: diagonal must be an int, got {diagonal!r}")
    return x


def tril(input, diagonal=0):  # noqa: A002  (PyTorch's argument name)
    """The lower triangle of ``input`` (..., n, m): elements with j - i <= ``diagonal`` kept, the rest 0.

    >>> ag.tril(ag.ones(3, 3), diagonal=-1)
    tensor([[0., 0., 0.],
            [1., 0., 0.],
            [1., 1., 0.]])
    """
    return _tril_op(_check(input, "tril", diagonal), diagonal=int(diagonal))


def triu(input, diagonal=0):  # noqa: A002
    """The upper triangle of ``input`` (..., n, m): elements with j - i >= ``diagonal`` kept, the rest 0.

    >>> ag.triu(ag.ones(2, 3), 1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]])
    """
    return _triu_op(_check(input, "triu", diagonal), diagonal=int(diagonal))


method("tril", tril)
method("triu", triu)

"""The error that ops raise when they refuse their arguments.

``OpError`` is a ``ValueError`` (NumPy's and this library's convention, which existing code catches) and
a ``RuntimeError`` (what PyTorch raises for a shape mismatch, a bad dim or a bad value: ported scripts
that ``except RuntimeError`` catch it as with PyTorch).

>>> import autograd_core as ag
>>> try:
...     ag.ones(6).view(4, 2)
... except RuntimeError as e:
...     print(type(e).__name__, isinstance(e, ValueError))
OpError True
"""
from __future__ import annotations

__all__ = ["OpError"]


class OpError(ValueError, RuntimeError):
    """An op refused its arguments: the message names the op and the shapes and says what to do.

    >>> import autograd_core as ag
    >>> try:
    ...     ag.ones(3) + ag.ones(4)
    ... except ag.OpError as e:
    ...     print(e, isinstance(e, RuntimeError), isinstance(e, ValueError))
    add: shapes (3,) and (4,) can't be broadcast together True True
    """

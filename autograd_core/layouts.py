"""Memory formats: how a tensor's elements are laid out in memory, as PyTorch's ``torch.memory_format``.

A layout never changes a tensor's values or shape, only its strides: ``channels_last`` keeps a 4-D
(N, C, H, W) tensor's channels innermost in memory, (N, H, W, C) order, and ``channels_last_3d`` does
the same for 5-D (N, C, D, H, W). ``contiguous_format`` is C order, and ``preserve_format`` (the
default of ``clone`` and the ``*_like`` constructors) lays a copy out as its source is laid out.

    >>> import autograd_core as ag
    >>> x = ag.zeros(2, 3, 4, 5)
    >>> y = x.contiguous(memory_format=ag.channels_last)
    >>> y.stride(), y.is_contiguous(memory_format=ag.channels_last), y.is_contiguous()
    ((60, 1, 15, 3), True, False)
    >>> ag.zeros_like(y).stride(), y.clone(memory_format=ag.contiguous_format).stride()
    ((60, 1, 15, 3), (60, 20, 5, 1))

Elementwise results follow their inputs' layout (NumPy's ``order='K'``), as PyTorch's do.
"""
from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

__all__ = ["memory_format", "contiguous_format", "preserve_format", "channels_last", "channels_last_3d",
           "check", "strides_for", "preserved_strides", "empty_in", "suggested", "is_contiguous_in"]


class memory_format:
    """A memory format (PyTorch's ``torch.memory_format``): one of the four module constants.

    >>> import autograd_core as ag
    >>> ag.channels_last, isinstance(ag.channels_last, ag.memory_format)
    (torch.channels_last, True)
    """
    __slots__ = ("name", "rank")

    def __init__(self, name: str, rank: int | None = None) -> None:
        self.name, self.rank = name, rank

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name     # pickles as the module constant of that name


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last", 4)
channels_last_3d = memory_format("channels_last_3d", 5)


def check(fmt: Any, ndim: int | None, op: str) -> memory_format:
    """``fmt`` (None means ``preserve_format``) after checking that it is a memory format that an
    ``ndim``-dim tensor can take (any rank with ``ndim=None``); a TypeError or RuntimeError that names
    ``op`` otherwise."""
    if fmt is None:
        return preserve_format
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}: memory_format must be one of ag.contiguous_format, ag.preserve_format, "
                        f"ag.channels_last, ag.channels_last_3d; got {fmt!r}")
    if fmt.rank is not None and ndim is not None and ndim != fmt.rank:
        raise RuntimeError(f"{op}: required rank {fmt.rank} tensor to use {fmt.name} format, got a "
                           f"{ndim}-dim tensor; use channels_last for 4-D (N, C, H, W) and channels_last_3d "
                           f"for 5-D (N, C, D, H, W) tensors")
    return fmt


def _order(fmt: memory_format, ndim: int) -> Tuple[int, ...]:
    """The axes from outermost to innermost in memory."""
    if fmt.rank is not None:
        return (0,) + tuple(range(2, ndim)) + (1,)
    return tuple(range(ndim))


def strides_for(shape: Sequence[int], itemsize: int, fmt: memory_format) -> Tuple[int, ...]:
    """Dense byte strides of ``shape`` in ``contiguous_format``, ``channels_last`` or ``channels_last_3d``."""
    out = [0] * len(shape)
    cur = itemsize
    for d in reversed(_order(fmt, len(shape))):
        out[d] = cur
        cur *= max(int(shape[d]), 1)
    return tuple(out)


def preserved_strides(shape: Sequence[int], strides: Sequence[int], itemsize: int) -> Tuple[int, ...]:
    """PyTorch's byte strides for a copy of a tensor with ``preserve_format`` (c10's
    ``infer_dense_strides``): dense strides whose order of axes follows the input's ``strides``,
    innermost the smallest; an axis with stride 0 (broadcast) or a tie keeps its place in C order."""
    n = len(shape)
    perm = list(range(n - 1, -1, -1))       # innermost first

    def should_swap(d0: int, d1: int) -> int:
        s0, s1 = abs(strides[d0]), abs(strides[d1])
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return 1 if s0 > s1 else -1
        return 1 if shape[d0] > shape[d1] else 0

    for i in range(1, n):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    out = [0] * n
    cur = itemsize
    for d in perm:
        out[d] = cur
        cur *= max(int(shape[d]), 1)
    return tuple(out)


def empty_in(shape: Sequence[int], dtype: Any, fmt: memory_format, like: np.ndarray | None = None) -> np.ndarray:
    """An uninitialised array of ``shape`` laid out in ``fmt``; with ``preserve_format``, laid out as
    ``like`` (an array of the same shape) is, as PyTorch lays out a clone or a ``*_like`` result (C order
    without ``like``)."""
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    if fmt is preserve_format:
        if like is None or like.ndim < 2 or like.shape != shape or like.flags.c_contiguous:
            return np.empty(shape, dtype)
        strides = preserved_strides(shape, like.strides, dtype.itemsize)
        if strides == strides_for(shape, dtype.itemsize, contiguous_format):
            return np.empty(shape, dtype)
        return np.lib.stride_tricks.as_strided(np.empty(like.size, dtype), shape, strides)
    if fmt.rank is None:
        return np.empty(shape, dtype)
    order = _order(fmt, len(shape))
    base = np.empty(tuple(shape[d] for d in order), dtype)      # C order in memory order
    return base.transpose(np.argsort(order))


def suggested(a: np.ndarray) -> memory_format:
    """The format whose axis order ``a``'s strides follow, as PyTorch's ``suggest_memory_format``:
    ``channels_last(_3d)`` for a 4-D (5-D) array whose channel axis has the smallest nonzero stride and
    the others grow outwards, else ``contiguous_format`` (also for the ambiguous cases PyTorch sends
    to it: a zero channel stride, an empty axis, an N111 array)."""
    if a.ndim not in (4, 5):
        return contiguous_format
    fmt = channels_last if a.ndim == 4 else channels_last_3d
    st, n = a.strides, a.shape
    if st[1] == 0:
        return contiguous_format
    low = 0
    for d in reversed(_order(fmt, a.ndim)):        # innermost first: C, W, H, (D,) N
        if n[d] == 0 or st[d] < low or (d == 0 and low == st[1]):
            return contiguous_format
        low = st[d] * n[d] if n[d] > 1 else st[d]
    return fmt


def is_contiguous_in(a: np.ndarray, fmt: memory_format) -> bool:
    """Whether ``a`` is laid out densely in ``fmt`` (axes of size 1 may have any stride, as in PyTorch);
    ``preserve_format`` asks about C order, as PyTorch does."""
    if fmt.rank is None:
        return bool(a.flags.c_contiguous)
    if a.ndim != fmt.rank:
        return False
    return bool(a.transpose(_order(fmt, a.ndim)).flags.c_contiguous)

"""Ordering and counting: ``sort``, ``argsort``, ``topk``, ``kthvalue``, ``unique``, ``bincount``,
``histc``, ``histogram``, as PyTorch defines them.

``sort``, ``topk`` and ``kthvalue`` return named tuples ``(values, indices)``. Their values are the
input gathered at the indices (the taped ``take_along_axis``), so the gradient flows back to the
positions that were picked, as in PyTorch; the indices and the counting ops have no gradient.
NaN sorts as the largest value, as in PyTorch.
"""
from __future__ import annotations

import collections

import numpy as np

from ..errors import OpError
from ..tensor import Tensor
from .index import take_along_axis
from .registry import method

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique", "bincount", "histc", "histogram"]

# PyTorch's torch.return_types.* are named tuples with these names and fields
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopkResult = collections.namedtuple("topk", ["values", "indices"])
KthvalueResult = collections.namedtuple("kthvalue", ["values", "indices"])
HistogramResult = collections.namedtuple("histogram", ["hist", "bin_edges"])


def _as_tensor(x, name):
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a tensor, got {type(x).__name__}") from None


def _axis(x, dim, name):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}")
    nd = max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor of shape {tuple(x.shape)} "
                         f"(expected -{nd} <= dim < {nd})")
    return int(dim) % nd


def _order(a, axis, descending):
    """Indices that sort ``a`` along ``axis``; stable in both directions (equal elements keep their
    order, as PyTorch's ``stable=True``), NaN last ascending and first descending."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = np.flip(a, axis=axis)
    return (n - 1) - np.flip(np.argsort(rev, axis=axis, kind="stable"), axis=axis)


def _sorted(x, axis, descending):
    """(values, indices) of ``x`` sorted along ``axis``; a 0-d tensor is its own sort."""
    if x.ndim == 0:
        return x.clone(), Tensor(np.zeros((), np.int64))
    idx = _order(x._data, axis, descending).astype(np.int64, copy=False)
    return take_along_axis(x, idx, axis), Tensor(idx)


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """Sort along ``dim``: the named tuple ``(values, indices)`` with
    ``values == input.gather(dim, indices)``. The sort is always stable here (``stable`` is accepted).

    >>> v, i = ag.sort(ag.tensor([3.0, 1.0, 2.0]), descending=True)
    >>> v, i
    (tensor([3., 2., 1.]), tensor([0, 2, 1]))
    """
    x = _as_tensor(input, "sort")
    return SortResult(*_sorted(x, _axis(x, dim, "sort"), bool(descending)))


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (int64; stable here).

    >>> ag.argsort(ag.tensor([[3, 1, 2]]), dim=1)
    tensor([[1, 2, 0]])
    """
    x = _as_tensor(input, "argsort")
    if x.ndim == 0:
        return Tensor(np.zeros((), np.int64))
    return Tensor(_order(x._data, _axis(x, dim, "argsort"), bool(descending)).astype(np.int64, copy=False))


def msort(input):  # noqa: A002
    """Sort along the first dim: ``sort(input, dim=0).values``, as ``torch.msort``.

    >>> import autograd_core as ag
    >>> ag.msort(ag.tensor([[3, 1], [2, 4]]))
    tensor([[2, 1],
            [3, 4]])
    """
    return sort(input, dim=0).values


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim``: the named tuple
    ``(values, indices)``, largest first (smallest first). ``sorted=False`` is accepted and gives the
    same sorted order.

    >>> ag.topk(ag.tensor([1.0, 3.0, 2.0]), 2)
    topk(values=tensor([3., 2.]), indices=tensor([1, 2]))
    """
    x = _as_tensor(input, "topk")
    axis = _axis(x, dim, "topk")
    n = 1 if x.ndim == 0 else x.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise OpError(f"topk: k={k!r} is out of range for dim {dim} of size {n} (expected 0 <= k <= {n})")
    if x.ndim == 0:
        return TopkResult(*_sorted(x, axis, largest))  # a 0-d tensor is its own top 1 (and top 0), as PyTorch
    idx = _order(x._data, axis, bool(largest))
    idx = np.take(idx, np.arange(k), axis=axis).astype(np.int64, copy=False)
    return TopkResult(take_along_axis(x, idx, axis), Tensor(idx))


def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002
    """The ``k``-th smallest element along ``dim`` (k counts from 1): the named tuple
    ``(values, indices)``.

    >>> ag.kthvalue(ag.tensor([3.0, 1.0, 2.0]), 2)
    kthvalue(values=tensor(2.), indices=tensor(2))
    """
    x = _as_tensor(input, "kthvalue")
    axis = _axis(x, dim, "kthvalue")
    n = 1 if x.ndim == 0 else x.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise OpError(f"kthvalue: k={k!r} is out of range for dim {dim} of size {n} (expected 1 <= k <= {n})")
    if x.ndim == 0:
        return KthvalueResult(x.clone(), Tensor(np.zeros((), np.int64)))
    idx = np.take(_order(x._data, axis, False), [k - 1], axis=axis).astype(np.int64, copy=False)
    values = take_along_axis(x, idx, axis)
    if not keepdim:
        values, idx = values.squeeze(axis), np.squeeze(idx, axis)
    return KthvalueResult(values, Tensor(idx))


# -- counting ----------------------------------------------------------------------------------------
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements of ``input`` (sorted), or distinct slices along ``dim``; with
    ``return_inverse`` / ``return_counts`` a tuple that adds where each element went and how often
    each value occurs (all int64), as PyTorch. No gradient.

    >>> ag.unique(ag.tensor([3, 1, 1, 2]), return_counts=True)
    (tensor([1, 2, 3]), tensor([2, 1, 1]))
    """
    x = _as_tensor(input, "unique")
    a = x._data
    if dim is not None:
        axis = _axis(x, dim, "unique")
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
        inv = inv.reshape(-1)
    else:
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    out = [Tensor(vals)]
    if return_inverse:
        out.append(Tensor(inv.astype(np.int64, copy=False)))
    if return_counts:
        out.append(Tensor(counts.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """How often each value 0, 1, ..., max occurs in a 1-D non-negative int tensor (int64), or the sums of
    ``weights`` per value (in the weights' float dtype); at least ``minlength`` bins. No gradient.

    >>> ag.bincount(ag.tensor([0, 1, 1, 3]))
    tensor([1, 2, 0, 1])
    """
    x = _as_tensor(input, "bincount")
    a = x._data
    if a.ndim != 1 or a.dtype.kind not in "iub":
        raise OpError(f"bincount: expects a 1-D tensor of non-negative integers, got shape {tuple(a.shape)} "
                         f"and dtype {a.dtype}")
    if a.size and a.min() < 0:
        raise OpError(f"bincount: the input must be non-negative, got the value {int(a.min())}")
    if weights is None:
        return Tensor(np.bincount(a, minlength=minlength).astype(np.int64, copy=False))
    w = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
    if w.shape != a.shape:
        raise OpError(f"bincount: weights of shape {tuple(w.shape)} don't match the input's shape {tuple(a.shape)}")
    dt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return Tensor(np.bincount(a, weights=w, minlength=minlength).astype(dt, copy=False))


def _float_input(x, name):
    a = x._data
    if a.dtype.kind != "f":
        raise TypeError(f"{name}: expects a floating tensor, got dtype {a.dtype}; convert with .float() first")
    return a


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Counts of ``input``'s elements in ``bins`` equal-width bins over [min, max] (the data's own range
    when both are 0; elements outside are ignored), in the input's float dtype, as PyTorch. No gradient.

    >>> ag.histc(ag.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    x = _as_tensor(input, "histc")
    a = _float_input(x, "histc")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise OpError(f"histc: bins must be a positive int, got {bins!r}")
    lo, hi = float(min), float(max)
    if lo == hi == 0 and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1  # PyTorch widens an empty range
    if lo > hi:
        raise OpError(f"histc: max ({hi}) must be larger than min ({lo})")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise OpError(f"histc: range of [{lo}, {hi}] is not finite")
    counts, _ = np.histogram(a.reshape(-1), bins=int(bins), range=(lo, hi))
    return Tensor(counts.astype(a.dtype))


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """The histogram of ``input``: the named tuple ``(hist, bin_edges)``; ``bins`` is a count of
    equal-width bins over ``range`` (default: the data's range) or a 1-D tensor of increasing edges.
    The last bin includes its right edge. ``weight`` weighs each element; ``density`` normalises to a
    probability density. Float results in the input's dtype, as PyTorch. No gradient.

    >>> ag.histogram(ag.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0))
    histogram(hist=tensor([0., 2., 1., 0.]), bin_edges=tensor([0.0000, 0.7500, 1.5000, 2.2500, 3.0000]))
    """
    x = _as_tensor(input, "histogram")
    a = _float_input(x, "histogram")
    if isinstance(bins, Tensor):
        bins = bins._data
    w = None if weight is None else (weight._data if isinstance(weight, Tensor) else np.asarray(weight))
    if w is not None and w.shape != a.shape:
        raise OpError(f"histogram: weight of shape {tuple(w.shape)} doesn't match the input's shape {tuple(a.shape)}")
    if range is not None:
        range = (float(range[0]), float(range[1]))
    try:
        hist, edges = np.histogram(a.reshape(-1), bins=bins, range=range, density=density,
                                   weights=None if w is None else w.reshape(-1))
    except ValueError as e:
        raise OpError(f"histogram: {e}") from None
    return HistogramResult(Tensor(hist.astype(a.dtype)), Tensor(edges.astype(a.dtype)))


for _name, _f in dict(sort=sort, argsort=argsort, msort=msort, topk=topk, kthvalue=kthvalue, unique=unique,
                      bincount=bincount, histc=histc, histogram=histogram).items():
    if not hasattr(Tensor, _name):
        method(_name, _f)

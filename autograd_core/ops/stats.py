"""Statistics and searches under PyTorch's names, built from the taped ops (values picked by index are
``take_along_axis`` reads, so their gradient flows to the picked elements; indices and counts have none):

``median``, ``nanmedian``, ``mode``, ``quantile``, ``nanquantile``, ``var_mean``, ``std_mean``, ``nansum``,
``nanmean``, ``aminmax``, ``cummax``, ``cummin``, ``logcumsumexp``, ``searchsorted``, ``bucketize``,
``unique_consecutive``, ``cov``, ``corrcoef``, ``trapezoid`` (``trapz``), ``cumulative_trapezoid``.
"""
from __future__ import annotations

import builtins
import collections

import numpy as np

from ..errors import OpError
from ..tensor import Tensor, get_default_dtype
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .index import getitem, take_along_axis
from .mathops import lerp
from .registry import defop, method, xp

__all__ = ["median", "nanmedian", "mode", "quantile", "nanquantile", "var_mean", "std_mean", "nansum", "nanmean",
           "aminmax", "cummax", "cummin", "logcumsumexp", "searchsorted", "bucketize", "unique_consecutive", "cov",
           "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid"]

MedianResult = collections.namedtuple("median", ["values", "indices"])
ModeResult = collections.namedtuple("mode", ["values", "indices"])
AminmaxResult = collections.namedtuple("aminmax", ["min", "max"])
CummaxResult = collections.namedtuple("cummax", ["values", "indices"])
CumminResult = collections.namedtuple("cummin", ["values", "indices"])


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _axis(x, dim, name):
    n = builtins.max(x.ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim!r} is out of range for a tensor with {x.ndim} dims")
    return int(dim) % n


def _lower_median_index(a, axis, ignore_nan):
    """Index of the lower median along ``axis`` (stable order: the first of equal values); a NaN in the
    slice gives the first NaN's index, unless ``ignore_nan``."""
    order = np.argsort(a, axis=axis, kind="stable")
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    count = a.shape[axis] - nan.sum(axis=axis, keepdims=True) if ignore_nan else \
        np.full(nan.sum(axis=axis, keepdims=True).shape, a.shape[axis])
    k = np.maximum((count - 1) // 2, 0)
    idx = np.take_along_axis(order, k, axis=axis)
    if not ignore_nan and nan.any():
        first_nan = np.expand_dims(np.argmax(nan, axis=axis), axis)
        idx = np.where(nan.any(axis=axis, keepdims=True), first_nan, idx)
    return idx.astype(np.int64)


def _median_all(x, ignore_nan=False):
    flat = x.reshape(-1)
    if flat.size == 0:
        return np.array(np.nan, dtype=x.dtype)
    return flat[_lower_median_index(flat, 0, ignore_nan)[0]].copy()


def _median_all_vjp(g, ans, x, ignore_nan=False):
    # Shared evenly among the elements equal to the median (the NaNs, if it is NaN), as PyTorch's
    # evenly_distribute_backward: which of equal elements is "the" median is an accident of the sort.
    hit = (x == ans) | (xp.isnan(x) & xp.isnan(ans))
    return xp.where(hit, g / hit.sum(), g * 0)


_median_all_op = defop("median", _median_all, (_median_all_vjp,), uses_ans=True)


def _median(input, dim, keepdim, name, ignore_nan):  # noqa: A002
    x = _t(input)
    if dim is None:
        return _median_all_op(x, ignore_nan=ignore_nan)
    if x.ndim == 0:
        return MedianResult(x.clone(), Tensor(np.zeros((), np.int64)))
    axis = _axis(x, dim, name)
    idx = _lower_median_index(x._data, axis, ignore_nan)
    values = take_along_axis(x, idx, axis)
    if not keepdim:
        values, idx = values.squeeze(axis), np.squeeze(idx, axis)
    return MedianResult(values, Tensor(idx))


def median(input, dim=None, keepdim=False):  # noqa: A002  (PyTorch's argument names)
    """The lower median (the ``(n - 1) // 2``-th smallest; NaN if there is a NaN): of all elements (a 0-d
    tensor), or along ``dim`` as the named tuple ``(values, indices)``. Of equal values the first index
    is reported (PyTorch leaves it unspecified).

    >>> ag.median(ag.tensor([1.0, 4.0, 2.0, 3.0]))
    tensor(2.)
    >>> ag.median(ag.tensor([[1.0, 5.0, 3.0]]), dim=1)
    median(values=tensor([3.]), indices=tensor([2]))
    """
    return _median(input, dim, keepdim, "median", False)


def nanmedian(input, dim=None, keepdim=False):  # noqa: A002
    """``median`` ignoring NaN (NaN only where all elements are NaN).

    >>> ag.nanmedian(ag.tensor([1.0, float("nan"), 3.0, 2.0]))
    tensor(2.)
    """
    return _median(input, dim, keepdim, "nanmedian", True)


def mode(input, dim=-1, keepdim=False):  # noqa: A002
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the index of its
    last occurrence, as the named tuple ``(values, indices)``.

    >>> ag.mode(ag.tensor([[1, 3, 3, 2], [5, 5, 1, 1]]))
    mode(values=tensor([3, 1]), indices=tensor([2, 3]))
    """
    x = _t(input)
    if x.ndim == 0:
        return ModeResult(x.clone(), Tensor(np.zeros((), np.int64)))
    axis = _axis(x, dim, "mode")
    a = np.moveaxis(x._data, axis, -1)
    flat = a.reshape(-1, a.shape[-1])
    idx = np.empty(flat.shape[0], np.int64)
    for r, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        best = vals[np.argmax(counts)]
        idx[r] = np.flatnonzero(row == best)[-1] if best == best else np.flatnonzero(np.isnan(row))[-1]
    idx = np.expand_dims(idx.reshape(a.shape[:-1]), axis)
    values = take_along_axis(x, idx, axis)
    if not keepdim:
        values, idx = values.squeeze(axis), np.squeeze(idx, axis)
    return ModeResult(values, Tensor(idx))


def _quantile(input, q, dim, keepdim, interpolation, name, ignore_nan):  # noqa: A002
    x = _t(input)
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise OpError(f"{name}: interpolation must be 'linear', 'lower', 'higher', 'midpoint' or 'nearest', "
                         f"got {interpolation!r}")
    scalar_q = not isinstance(q, Tensor) and np.ndim(q) == 0
    qs = np.atleast_1d(q._data if isinstance(q, Tensor) else np.asarray(q, dtype=np.float64)).astype(np.float64)
    if qs.ndim > 1 or ((qs < 0) | (qs > 1)).any():
        raise OpError(f"{name}: q must be a number or a 1-D tensor of values in [0, 1], got {q!r}")
    if dim is None:
        x, axis = x.reshape(-1), 0
    else:
        axis = _axis(x, dim, name)
    a = x._data
    order = np.argsort(a, axis=axis, kind="stable")
    srt = take_along_axis(x, order, axis)
    nan = (np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)).sum(axis=axis, keepdims=True)
    n = a.shape[axis] - nan if ignore_nan else np.full_like(nan, a.shape[axis])
    outs = []
    for qv in qs:
        pos = np.maximum(qv * (n - 1).astype(np.float64), 0.0)
        if not ignore_nan:
            # a slice holding NaN takes its last order statistic (a NaN, sorted last) and passes it the
            # gradient, as PyTorch's quantile does
            pos = np.where(nan > 0, float(a.shape[axis] - 1), pos)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        if interpolation in ("lower", "higher", "nearest"):
            # round half to even for 'nearest', as PyTorch
            pick = lo if interpolation == "lower" else hi if interpolation == "higher" else np.round(pos)
            val = take_along_axis(srt, pick.astype(np.int64), axis)
        else:
            # PyTorch's lerp between the order statistics below and above (weight 0.5 for 'midpoint'), so
            # infinities give what PyTorch's do
            w = pos - lo if interpolation == "linear" else np.full_like(pos, 0.5)
            val = lerp(take_along_axis(srt, lo, axis), take_along_axis(srt, hi, axis),
                       Tensor(w.astype(a.dtype if a.dtype.kind == "f" else get_default_dtype())))
        if not keepdim:
            val = val.squeeze(axis)
        elif dim is None:
            val = val.reshape((1,) * _t(input).ndim)
        outs.append(val)
    return outs[0] if scalar_q else S.stack(outs, dim=0)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """The ``q``-quantiles (``q`` a number or a 1-D tensor in [0, 1]; a tensor ``q`` adds a first dim) of
    all elements or along ``dim``, interpolated between neighbouring order statistics (``interpolation``:
    'linear', 'lower', 'higher', 'midpoint', 'nearest'); NaN where a NaN is present.

    >>> ag.quantile(ag.tensor([1.0, 2.0, 3.0, 4.0]), ag.tensor([0.25, 0.5]))
    tensor([1.7500, 2.5000])
    """
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """``quantile`` ignoring NaN.

    >>> ag.nanquantile(ag.tensor([1.0, float("nan"), 3.0]), 0.5)
    tensor(2.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", True)


def _var_mean_args(name, dim, unbiased, keepdim, correction):
    """PyTorch's argument forms of ``var_mean`` / ``std_mean``: ``(input, dim, unbiased, keepdim)``
    positionally, ``(input, unbiased)`` with a bool second, and ``correction=`` by keyword."""
    if isinstance(dim, bool):  # var_mean(x, True): the old (input, unbiased) form
        if unbiased is not None:
            raise TypeError(f"{name}: got unbiased twice (a bool in place of dim, and unbiased)")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: give unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction, bool(keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """``(var(input, dim), mean(input, dim))``; ``correction`` (or ``unbiased``) as in ``var``. PyTorch's
    positional forms work too: ``var_mean(x, dim, unbiased, keepdim)`` and ``var_mean(x, unbiased)``.

    >>> ag.var_mean(ag.tensor([1.0, 2.0, 3.0, 4.0]))
    (tensor(1.6667), tensor(2.5000))
    >>> ag.var_mean(ag.tensor([[1.0, 3.0]]), 1, False, True)
    (tensor([[1.]]), tensor([[2.]]))
    """
    dim, correction, keepdim = _var_mean_args("var_mean", dim, unbiased, keepdim, correction)
    x = _t(input)
    return R.var(x, dim=dim, correction=correction, keepdim=keepdim), R.mean(x, dim=dim, keepdim=keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """``(std(input, dim), mean(input, dim))``, with ``var_mean``'s argument forms.

    >>> ag.std_mean(ag.tensor([1.0, 3.0]))
    (tensor(1.4142), tensor(2.))
    """
    dim, correction, keepdim = _var_mean_args("std_mean", dim, unbiased, keepdim, correction)
    x = _t(input)
    return R.std(x, dim=dim, correction=correction, keepdim=keepdim), R.mean(x, dim=dim, keepdim=keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The sum treating NaN as 0; NaN places get no gradient.

    >>> ag.nansum(ag.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    """
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    return R.sum(E.where(E.isnan(x), 0.0, x) if x._data.dtype.kind == "f" else x, dim=dim, keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The mean of the elements that are not NaN.

    >>> ag.nanmean(ag.tensor([1.0, float("nan"), 2.0]))
    tensor(1.5000)
    """
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    count = R.sum(E.logical_not(E.isnan(x)).astype(x._data.dtype), dim=dim, keepdim=keepdim)
    return nansum(x, dim=dim, keepdim=keepdim) / count


def aminmax(input, *, dim=None, keepdim=False):  # noqa: A002
    """The named tuple ``(min, max)`` over all elements or along ``dim``.

    >>> ag.aminmax(ag.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1)
    aminmax(min=tensor([1., 2.]), max=tensor([5., 3.]))
    """
    x = _t(input)
    return AminmaxResult(R.amin(x, dim=dim, keepdim=keepdim), R.amax(x, dim=dim, keepdim=keepdim))


def _cum_extreme(input, dim, better, result, name):  # noqa: A002
    x = _t(input)
    if x.ndim == 0:
        return result(x.clone(), Tensor(np.zeros((), np.int64)))
    axis = _axis(x, dim, name)
    a = np.moveaxis(x._data, axis, -1)
    idx = np.zeros(a.shape, np.int64)
    best = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        v = a[..., i]
        # PyTorch's rule: a NaN always takes over (so after one, the index follows each later NaN)
        take = better(v, best) | (v == best) | np.isnan(v)
        best = np.where(take, v, best)
        idx[..., i] = np.where(take, i, idx[..., i - 1])
    idx = np.moveaxis(idx, -1, axis)
    return result(take_along_axis(x, idx, axis), Tensor(idx))


def cummax(input, dim):  # noqa: A002
    """Running maximum along ``dim`` and the index where it was reached (the latest of equal values; from
    a NaN on, the latest NaN), as the named tuple ``(values, indices)``; the gradient flows to the element
    each running max picks.

    >>> ag.cummax(ag.tensor([1.0, 3.0, 3.0, 2.0, 5.0]), 0)
    cummax(values=tensor([1., 3., 3., 3., 5.]), indices=tensor([0, 1, 2, 2, 4]))
    """
    return _cum_extreme(input, dim, np.greater, CummaxResult, "cummax")


def cummin(input, dim):  # noqa: A002
    """Running minimum along ``dim`` and its index (the latest of equal values), as ``(values, indices)``.

    >>> ag.cummin(ag.tensor([3.0, 1.0, 1.0, 2.0, 0.0]), 0)
    cummin(values=tensor([3., 1., 1., 1., 0.]), indices=tensor([0, 1, 2, 2, 4]))
    """
    return _cum_extreme(input, dim, np.less, CumminResult, "cummin")


def _lcse(x, axis):
    with np.errstate(all="ignore"):
        return np.logaddexp.accumulate(x, axis=axis)


def _lcse_vjp(g, ans, x, axis):
    # d out_j / d x_i = exp(x_i - out_j) <= 1 for i <= j: the gradient is a masked (n, n) weight matrix
    # times g along the dim (n is a sequence length, so n² is small); masked entries are never exponentiated
    gs, xs, os = (t.swapaxes(axis, -1) for t in (g, x, ans))
    n = xs.shape[-1]
    mask = np.triu(np.ones((n, n), bool))
    d = xs.reshape(tuple(xs.shape) + (1,)) - os.reshape(tuple(os.shape[:-1]) + (1, n))
    w = xp.where(mask, xp.exp(xp.where(mask, d, 0.0)), 0.0)
    return (w * gs.reshape(tuple(gs.shape[:-1]) + (1, n))).sum(-1).swapaxes(axis, -1)


_lcse_op = defop("logcumsumexp", _lcse, (_lcse_vjp,), uses_ans=True)


def logcumsumexp(input, dim):  # noqa: A002
    """log(cumsum(exp(input))) along ``dim``, without overflow or underflow (a running ``logaddexp``).

    >>> ag.logcumsumexp(ag.tensor([0.0, 0.0, 100.0]), 0)
    tensor([  0.0000,   0.6931, 100.0000])
    """
    x = _t(input)
    return _lcse_op(x, axis=_axis(x, dim, "logcumsumexp"))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):  # noqa: A002
    """For each value in ``input``, the index where it would be inserted into ``sorted_sequence`` (sorted
    along its last dim; 1-D, or with leading dims matching ``input``'s) to keep it sorted: the leftmost
    place, or the rightmost with ``right=True`` / ``side='right'``.

    >>> ag.searchsorted(ag.tensor([1, 3, 5, 7]), ag.tensor([3, 6]))
    tensor([1, 3])
    >>> ag.searchsorted(ag.tensor([1, 3, 5, 7]), ag.tensor([3, 6]), right=True)
    tensor([2, 3])
    """
    seq = _t(sorted_sequence)._data
    scalar = not isinstance(input, Tensor) and np.ndim(input) == 0
    vals = input._data if isinstance(input, Tensor) else np.asarray(input)
    sd = side or ("right" if right else "left")
    srt = None if sorter is None else (sorter._data if isinstance(sorter, Tensor) else np.asarray(sorter))
    if seq.ndim == 1:
        out = np.searchsorted(seq, vals, side=sd, sorter=srt)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise OpError(f"searchsorted: sorted_sequence's leading dims {seq.shape[:-1]} must match input's "
                             f"{vals.shape[:-1]}")
        s2, v2 = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        o2 = [np.searchsorted(s, v, side=sd, sorter=None if srt is None else srt.reshape(s2.shape)[i])
              for i, (s, v) in enumerate(zip(s2, v2))]
        out = np.stack(o2).reshape(vals.shape) if o2 else np.zeros(vals.shape, np.int64)
    out = np.asarray(out, dtype=np.int32 if out_int32 else np.int64)
    return Tensor(out.reshape(()) if scalar else out)


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The bucket of each value of ``input`` among the sorted 1-D ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (``right=True``: boundaries[i-1] <= x < boundaries[i]).

    >>> ag.bucketize(ag.tensor([0.5, 1.0, 2.5]), ag.tensor([1.0, 2.0, 3.0]))
    tensor([0, 0, 2])
    """
    b = _t(boundaries)._data
    if b.ndim != 1:
        raise OpError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    vals = input._data if isinstance(input, Tensor) else np.asarray(input)
    out = np.searchsorted(b, vals, side="right" if right else "left")
    return Tensor(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """Drop the consecutive repeats (of elements, or of slices along ``dim``); optionally also the index
    of each input element's group (``return_inverse``) and each group's size (``return_counts``).

    >>> ag.unique_consecutive(ag.tensor([1, 1, 2, 2, 3, 1, 1]), return_counts=True)
    (tensor([1, 2, 3, 1]), tensor([2, 2, 1, 2]))
    """
    x = _t(input)
    if dim is None:
        a = x._data.reshape(-1)
        starts = np.concatenate([[True], a[1:] != a[:-1]]) if a.size else np.zeros(0, bool)
        values = Tensor(a[starts])
    else:
        axis = _axis(x, dim, "unique_consecutive")
        a = np.moveaxis(x._data, axis, 0)
        flat = a.reshape(a.shape[0], -1)
        starts = np.concatenate([[True], (flat[1:] != flat[:-1]).any(axis=1)]) if a.shape[0] else np.zeros(0, bool)
        values = Tensor(np.moveaxis(a[starts], 0, axis))
    out = [values]
    if return_inverse:
        inv = np.cumsum(starts) - 1
        out.append(Tensor(inv.reshape(x.shape) if dim is None else inv))
    if return_counts:
        pos = np.flatnonzero(starts)
        out.append(Tensor(np.diff(np.append(pos, len(starts))).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002
    """The covariance matrix of the variables in the rows of ``input`` (V, N) (observations in the
    columns; a 1-D input or a single row is one variable and gives a 0-d result), as PyTorch/NumPy:
    with weights w = fweights * aweights (each optional, (N,)), the mean is the w-weighted one and the
    sums are divided by sum(w) - correction * sum(w * aweights) / sum(w) (by N - correction unweighted).

    >>> ag.cov(ag.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    >>> ag.cov(ag.tensor([0.0, 1.0, 4.0]), fweights=ag.tensor([1, 2, 1]))
    tensor(3.)
    """
    x = _t(input)
    if x.ndim > 2:
        raise OpError(f"cov: expected a 1-D or 2-D input (variables, observations), got shape {tuple(x.shape)}")
    if x.ndim < 2:
        x = x.reshape(1, -1)
    n = x.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        wt = _t(wt)
        if wt.ndim != 1 or wt.shape[0] != n:
            raise OpError(f"cov: {name} must be 1-D with one weight per observation ({n}), got shape "
                             f"{tuple(wt.shape)}")
        if name == "fweights" and wt.dtype.kind not in "iub":
            raise OpError(f"cov: fweights must be integers, got dtype {wt.dtype}")
        if bool(np.any(wt._data < 0)):
            raise OpError(f"cov: {name} must be non-negative")
        w = wt if w is None else w * wt
    if w is None:
        xc = x - R.mean(x, dim=1, keepdim=True)
        c = xc @ S.transpose(xc, 0, 1) / builtins.max(n - correction, 0)
    else:
        w = w.astype(x.dtype) if w.dtype != x.dtype else w
        w_sum = R.sum(w)
        if not float(w_sum._data) > 0:
            raise OpError("cov: the weights sum to zero, so there is no weighted mean; give some "
                             "observation a positive weight")
        xc = x - R.sum(x * w, dim=1, keepdim=True) / w_sum
        if correction == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - correction
        else:
            fact = w_sum - correction * R.sum(w * _t(aweights).astype(x.dtype)) / w_sum
        c = xc @ S.transpose(xc * w, 0, 1) / E.clamp(fact, min=0.0)
    return c.reshape(()) if c.shape[0] == 1 else c


def corrcoef(input):  # noqa: A002
    """Pearson correlation coefficients of the variables in the rows of ``input``, clipped to [-1, 1].

    >>> ag.corrcoef(ag.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = E.sqrt(getitem(c, (np.arange(c.shape[0]), np.arange(c.shape[0]))))
    return E.clamp(c / d.reshape(-1, 1) / d.reshape(1, -1), -1.0, 1.0)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: sum of (y[i] + y[i+1]) / 2 times the spacing (``dx``, default 1,
    or the differences of the sample points ``x``).

    >>> ag.trapezoid(ag.tensor([1.0, 2.0, 3.0]))
    tensor(4.)
    """
    y = _t(y)
    axis = _axis(y, dim, "trapezoid")
    n = y.shape[axis]
    lo = getitem(y, (slice(None),) * axis + (slice(0, n - 1),))
    hi = getitem(y, (slice(None),) * axis + (slice(1, n),))
    if x is not None:
        xs = _t(x)
        xa = axis if xs.ndim == y.ndim else 0
        m = xs.shape[xa]
        d = getitem(xs, (slice(None),) * xa + (slice(1, m),)) - getitem(xs, (slice(None),) * xa + (slice(0, m - 1),))
        if xs.ndim == 1 and y.ndim > 1:
            d = d.reshape(tuple(-1 if i == axis else 1 for i in range(y.ndim)))
        return R.sum((lo + hi) * d, dim=axis) / 2
    return R.sum(lo + hi, dim=axis) * ((1.0 if dx is None else dx) / 2)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along ``dim`` (one element fewer than ``y``).

    >>> ag.cumulative_trapezoid(ag.tensor([1.0, 2.0, 3.0]))
    tensor([1.5000, 4.0000])
    """
    y = _t(y)
    axis = _axis(y, dim, "cumulative_trapezoid")
    n = y.shape[axis]
    lo = getitem(y, (slice(None),) * axis + (slice(0, n - 1),))
    hi = getitem(y, (slice(None),) * axis + (slice(1, n),))
    if x is not None:
        xs = _t(x)
        m = xs.shape[-1] if xs.ndim == 1 else xs.shape[axis]
        xa = 0 if xs.ndim == 1 else axis
        d = getitem(xs, (slice(None),) * xa + (slice(1, m),)) - getitem(xs, (slice(None),) * xa + (slice(0, m - 1),))
        if xs.ndim == 1 and y.ndim > 1:
            d = d.reshape(tuple(-1 if i == axis else 1 for i in range(y.ndim)))
        return R.cumsum((lo + hi) * d / 2, dim=axis)
    return R.cumsum((lo + hi) * ((1.0 if dx is None else dx) / 2), dim=axis)


for _name, _fn in dict(median=median, nanmedian=nanmedian, mode=mode, quantile=quantile, nanquantile=nanquantile,
                       nansum=nansum, nanmean=nanmean, aminmax=aminmax, cummax=cummax, cummin=cummin,
                       logcumsumexp=logcumsumexp, unique_consecutive=unique_consecutive, cov=cov,
                       corrcoef=corrcoef).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)

"""Scatter and index-write ops under PyTorch's names, built on the taped index ops of ``ops.index``
(``index_put`` writes values at an index: its gradient is the gradient with those places zeroed for
the target, and the gradient read at the index for the values; ``index_scatter`` and
``scatter_add`` add at an index: their gradients are reads):

``scatter``, ``scatter_add``, ``scatter_reduce``, ``index_add``, ``index_reduce``, ``index_copy``, ``index_fill``,
``index_put``, ``masked_scatter``, ``masked_select``, ``take``, ``take_along_dim``, ``nonzero``,
``argwhere``, ``count_nonzero``, ``put``, and the in-place methods ``scatter_``, ``scatter_add_``,
``scatter_reduce_``, ``index_add_``, ``index_reduce_``, ``index_copy_``, ``index_fill_``, ``index_put_``, ``put_``,
``masked_scatter_``, ``fill_diagonal_``.
"""
from __future__ import annotations

import numpy as np

from ..errors import OpError
from ..tensor import Tensor
from .index import _full_index, _gather, _index_put_op, _scatter_add, _scatter_add_op, _scatter_op, getitem, norm_index
from .inplace import inplace_update
from .registry import defop, method, xp

__all__ = ["scatter", "scatter_add", "scatter_reduce", "index_add", "index_reduce", "index_copy", "index_fill",
           "index_put",
           "masked_scatter", "masked_select", "take", "take_along_dim", "nonzero", "argwhere", "count_nonzero", "put"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _index_array(index, name):
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got dtype {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _dim(dim, ndim, name):
    n = max(ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim!r} is out of range for a tensor with {ndim} dims")
    return int(dim) % n


def _scatter_index(x, dim, index, name):
    """``index`` checked against ``x`` as PyTorch's scatter does; the fancy index it selects in ``x``."""
    idx = _index_array(index, name)
    if idx.ndim != x.ndim:
        raise OpError(f"{name}: index has {idx.ndim} dims but self has {x.ndim} (shape {tuple(x.shape)})")
    for d in range(x.ndim):
        if d != dim and idx.shape[d] > x.shape[d]:
            raise OpError(f"{name}: index shape {idx.shape} is larger than self's shape {tuple(x.shape)} at dim {d}")
    if idx.size and (idx.min() < -x.shape[dim] or idx.max() >= x.shape[dim]):
        raise IndexError(f"{name}: index out of range for dim {dim} of size {x.shape[dim]}")
    return idx, _full_index(idx % x.shape[dim] if idx.size else idx, dim)


def _src_part(src, idx):
    """The part of ``src`` that a scatter reads: its leading ``idx.shape`` block (or a number)."""
    if not isinstance(src, Tensor):
        return np.broadcast_to(np.asarray(src), idx.shape)
    if tuple(src.shape) == tuple(idx.shape):
        return src
    for d in range(idx.ndim):
        if idx.shape[d] > src.shape[d]:
            raise OpError(f"scatter: src shape {tuple(src.shape)} is smaller than index shape {idx.shape}")
    return getitem(src, tuple(slice(0, n) for n in idx.shape))


def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002  (PyTorch's names)
    """A copy of ``input`` with ``src[i][j]`` written at row ``index[i][j]`` (dim=0; column for dim=1),
    or the number ``value``. ``reduce='add' | 'multiply'`` combines instead of writing. Where an index
    repeats, which write wins is unspecified (as in PyTorch). Gradients: the overwritten places of
    ``input`` get none; ``src`` gets the gradient read at the index.

    >>> ag.scatter(ag.zeros(2, 3), 1, ag.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    x = _t(input)
    if src is None:
        if value is None:
            raise TypeError("scatter: give src (a tensor) or value (a number)")
        src = value
    d = _dim(dim, x.ndim, "scatter")
    idx, fancy = _scatter_index(x, d, index, "scatter")
    part = _src_part(src, idx)
    if reduce is not None:
        if reduce == "add":
            return scatter_add(x, d, index, part if isinstance(part, Tensor) else Tensor(np.array(part, x._data.dtype)))
        if reduce == "multiply":
            out = x._data.copy()
            np.multiply.at(out, fancy, part._data if isinstance(part, Tensor) else part)
            return Tensor(out)
        raise OpError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    if not isinstance(part, Tensor):
        part = np.asarray(part, dtype=x._data.dtype)
    return _index_put_op(x, part, idx=fancy)


def scatter_add(input, dim, index, src):  # noqa: A002
    """A copy of ``input`` with ``src[i][j]`` added at row ``index[i][j]`` (dim=0; column for dim=1);
    repeated indices add up. Gradients: ``input`` gets the gradient, ``src`` the gradient read at the index.

    >>> ag.scatter_add(ag.zeros(3), 0, ag.tensor([0, 2, 0]), ag.tensor([1.0, 2.0, 3.0]))
    tensor([4., 0., 2.])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "scatter_add")
    idx, _ = _scatter_index(x, d, index, "scatter_add")
    part = _src_part(_t(src), idx)
    return x + _scatter_add_op(part, index=idx % x.shape[d] if idx.size else idx, axis=d, shape=tuple(x.shape))


# -- scatter_reduce ---------------------------------------------------------------------------------
# 'sum' and 'mean' are built from taped adds (their gradients are reads). 'prod', 'amax' and 'amin' are
# one op whose rule is PyTorch's scatter_reduce_backward, written with xp so that it runs on the tape
# under create_graph=True: the masks and counts it reads from the data are constants, and the products
# of the other elements that 'prod' needs come from this op again, so its own rule handles their zeros.
_REDUCERS = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _raw(a):
    return a._data if isinstance(a, Tensor) else np.asarray(a)


def _hit(index, axis, shape):
    """The places of the input that ``index`` sends something to (a constant bool mask)."""
    hit = np.zeros(shape, bool)
    hit[_full_index(index, axis)] = True
    return hit


def _identity(reduce, dtype):
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_fwd(x, src, index, axis, reduce, include_self=True):
    """``x`` (any shape) with the elements of ``src`` (``index``'s shape; ``index`` already wrapped into
    ``[0, x.shape[axis])``) combined into the places that ``index`` sends them to along ``axis``, with
    ``reduce`` 'prod', 'amax' or 'amin'; ``include_self=False`` starts those places from the reduction's
    identity instead of ``x``'s value. Places that receive nothing keep ``x``.

    Gradients (PyTorch's): for 'amax'/'amin' the gradient of each place is split evenly among the
    elements equal to its result (``x``'s own element is counted when it equals the result, even with
    ``include_self=False``); for 'prod' each element gets ``g * result / value``, the product of the
    others where it is the only zero of its place, and 0 where its place has two or more zeros.
    """
    out = np.array(x, copy=True)
    if not include_self:
        out[_hit(index, axis, out.shape)] = _identity(reduce, out.dtype)
    with np.errstate(invalid="ignore"):  # a NaN propagates quietly, as in PyTorch
        _REDUCERS[reduce].at(out, _full_index(index, axis), src)
    return out


def _refused_vjp(g, ans, a, why):
    raise NotImplementedError(why)


# The rule of 'prod' passes its src gradient through this op where a place has two or more zeros in
# src: the gradient is right there (0), but its own derivative is not, so a second derivative through
# it raises instead of returning a wrong number (PyTorch raises there too).
_no_second_derivative = defop("scatter_reduce_prod_src_grad", lambda a, why: np.array(a, copy=True),
                              (_refused_vjp,), uses=(), hidden=("why",))


def _extreme_vjp(g, ans, x, src, index, axis, include_self, needs):
    xr, sr, ar = _raw(x), _raw(src), _raw(ans)
    dt = ar.dtype
    self_is = xr == ar
    src_is = sr == _gather(ar, index, axis)
    count = self_is.astype(dt) + _scatter_add(src_is.astype(dt), index, axis, ar.shape)
    # PyTorch divides by the count even where it is 0 (a NaN result: nothing equals it) and multiplies
    # by the 0/1 mask, which gives NaN there: a NaN weight does the same without 0 * inf warnings
    share = g / np.where(count == 0, 1, count).astype(dt)
    weight = np.where(count == 0, np.nan, self_is).astype(dt)
    grad_self = grad_src = None
    if needs[0]:
        grad_self = share * weight
        if not include_self:
            grad_self = xp.where(_hit(index, axis, ar.shape), 0, grad_self)
    if needs[1]:
        grad_src = xp.gather(share, index=index, axis=axis) * np.where(_gather(count, index, axis) == 0, np.nan,
                                                                      src_is).astype(dt)
    return grad_self, grad_src


def _prod_vjp(g, ans, x, src, index, axis, include_self, needs):
    xr, sr = _raw(x), _raw(src)
    kw = dict(index=index, axis=axis, reduce="prod", include_self=include_self)
    grad_self = grad_src = None
    if needs[0]:
        # x's zeros replaced by 1: the result then holds, at each zero of x, the product of the others
        masked_self = xp.where(xr == 0, 1, x)
        grad_self = g * xp.scatter_reduce(masked_self, src, **kw) / masked_self
        if not include_self:
            grad_self = xp.where(_hit(index, axis, xr.shape), 0, grad_self)
    if needs[1]:
        src_zero = sr == 0
        zeros_there = _gather(_scatter_add(src_zero.astype(xr.dtype), index, axis, xr.shape), index, axis)
        single_zero = src_zero & (zeros_there == 1)
        # result / src would be 0 / 0 at a lone zero: take the product of the others, src's zero set to 1
        others = xp.scatter_reduce(x, xp.where(single_zero, 1, src), **kw)
        grad_src = xp.where(single_zero, xp.gather(g * others, index=index, axis=axis),
                            xp.gather(g * ans, index=index, axis=axis) / xp.where(src_zero, 1, src))
        if isinstance(grad_src, Tensor) and grad_src.requires_grad and np.any(zeros_there > 1):
            grad_src = _no_second_derivative(grad_src, why=(
                f"scatter_reduce: the second derivative of reduce='prod' with respect to src (shape "
                f"{tuple(sr.shape)}, into a tensor of shape {tuple(xr.shape)}) is not supported where two or "
                "more zeros of src go to the same place; compute it without create_graph=True, or with "
                "src values that are not 0 there"))
    return grad_self, grad_src


def _scatter_reduce_vjp(g, ans, x, src, index, axis, reduce, include_self=True, needs=(True, True)):
    rule = _prod_vjp if reduce == "prod" else _extreme_vjp
    return rule(g, ans, x, src, index, axis, include_self, needs)


_scatter_reduce_op = defop("scatter_reduce", _scatter_reduce_fwd, vjp=_scatter_reduce_vjp, nargs=2, uses_ans=True,
                           hidden=("index",))


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    """Combine the ``src`` elements that ``index`` sends to each place of ``input`` with ``reduce``:
    'sum', 'mean', 'prod', 'amax' or 'amin' (``include_self=False`` leaves ``input``'s own value out
    where something arrives; places that receive nothing keep ``input``). ``index`` has ``input``'s number
    of dims and is no larger than ``src``, nor than ``input`` outside ``dim``; the result has ``input``'s
    shape, and for dim=0 ``src[i][j]`` goes to ``out[index[i][j]][j]``.

    Gradients are PyTorch's, for ``input`` and ``src``: 'amax'/'amin' split each place's gradient evenly
    among the elements equal to its result (``input``'s element counts in the split whenever it equals
    the result, even with ``include_self=False``, where its own share is then dropped); 'prod' gives each
    element ``g * result / value`` (the product of the others at a lone zero, 0 where a place has two or
    more zeros; a second derivative there raises).

    >>> ag.scatter_reduce(ag.zeros(2), 0, ag.tensor([0, 0, 1]), ag.tensor([1.0, 3.0, 5.0]), "amax")
    tensor([3., 5.])
    >>> ag.scatter_reduce(ag.ones(2), 0, ag.tensor([0, 0, 1]), ag.tensor([1.0, 3.0, 5.0]), "mean")
    tensor([1.6667, 3.0000])
    >>> src = ag.tensor([3.0, 3.0, 2.0], requires_grad=True)
    >>> ag.scatter_reduce(ag.zeros(2), 0, ag.tensor([0, 0, 1]), src, "amax").sum().backward()
    >>> src.grad
    tensor([0.5000, 0.5000, 1.0000])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "scatter_reduce")
    idx, fancy = _scatter_index(x, d, index, "scatter_reduce")
    part = _src_part(_t(src), idx)
    if reduce in ("sum", "mean"):
        hit = np.zeros(x.shape, np.int64)
        np.add.at(hit, fancy, 1)
        base = x if include_self else x.masked_fill(Tensor(hit > 0), 0)
        total = base + _scatter_add_op(part, index=idx % x.shape[d] if idx.size else idx, axis=d, shape=tuple(x.shape))
        if reduce == "sum":
            return total
        count = hit + (1 if include_self else 0)
        if total._data.dtype.kind in "biu":
            # an integer mean rounds down and keeps the dtype, as PyTorch's (div with rounding_mode='floor')
            return total // Tensor(np.maximum(count, 1).astype(total._data.dtype))
        return total / Tensor(np.maximum(count, 1).astype(x._data.dtype if x._data.dtype.kind == "f" else np.float64))
    if reduce not in _REDUCERS:
        raise OpError(f"scatter_reduce: reduce must be 'sum', 'mean', 'prod', 'amax' or 'amin', got {reduce!r}")
    return _scatter_reduce_op(x, part, index=idx % x.shape[d] if idx.size else idx, axis=d, reduce=reduce,
                              include_self=bool(include_self))


def _along(dim, index, ndim):
    return (slice(None),) * dim + (index,) + (slice(None),) * (ndim - dim - 1)


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    """A copy of ``input`` with ``alpha * source``'s slices added at positions ``index`` along ``dim``
    (repeated indices add up).

    >>> ag.index_add(ag.zeros(3, 2), 0, ag.tensor([0, 2, 0]), ag.ones(3, 2))
    tensor([[2., 2.],
            [0., 0.],
            [1., 1.]])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "index_add")
    idx = _index_array(index, "index_add").reshape(-1)
    src = _t(source)
    if alpha != 1:
        src = src * alpha
    return x + _scatter_op(src, idx=_along(d, idx, x.ndim), shape=tuple(x.shape), adv=True)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):  # noqa: A002
    """A copy of ``input`` where each slice ``source.select(dim, i)`` is combined into the slice at
    position ``index[i]`` along ``dim`` with ``reduce``: 'prod', 'mean', 'amax' or 'amin'
    (``include_self=False`` leaves ``input``'s own value out where a slice arrives). ``index`` is 1-D,
    as long as ``source``'s ``dim``; ``source`` has ``input``'s shape elsewhere.

    It is ``scatter_reduce`` with ``index[i]`` spread over slice ``i``, and has its gradients
    (PyTorch's: ties in 'amax'/'amin' share the gradient evenly).

    >>> src = ag.tensor([[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    >>> ag.index_reduce(ag.ones(3, 2), 0, ag.tensor([0, 2, 0]), src, "prod")
    tensor([[12., 21.],
            [ 1.,  1.],
            [ 4.,  5.]])
    """
    x, src = _t(input), _t(source)
    d = _dim(dim, x.ndim, "index_reduce")
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise OpError(f"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
    idx = _index_array(index, "index_reduce")
    if idx.ndim > 1:
        raise OpError(f"index_reduce: index must be 1-D, got shape {idx.shape}")
    idx = idx.reshape(-1)
    if src.ndim != x.ndim or src.shape[d] != idx.size or any(
            a != b for k, (a, b) in enumerate(zip(src.shape, x.shape)) if k != d):
        raise OpError(f"index_reduce: source of shape {tuple(src.shape)} must have input's shape "
                         f"{tuple(x.shape)} outside dim {d} and index's length {idx.size} along it")
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):     # PyTorch takes no negative index here
        raise IndexError(f"index_reduce: index out of range for dim {d} of size {x.shape[d]} (index holds "
                         f"{int(idx.min())}..{int(idx.max())}; each must be in 0..{x.shape[d] - 1})")
    shape = [1] * x.ndim
    shape[d] = idx.size
    spread = np.broadcast_to(idx.reshape(shape), tuple(src.shape))
    return scatter_reduce(x, d, Tensor(np.ascontiguousarray(spread)), src, reduce, include_self=include_self)


def index_copy(input, dim, index, source):  # noqa: A002
    """A copy of ``input`` with ``source``'s slices written at positions ``index`` along ``dim``.

    >>> ag.index_copy(ag.zeros(3, 2), 0, ag.tensor([2, 0]), ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[3., 4.],
            [0., 0.],
            [1., 2.]])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "index_copy")
    idx = _index_array(index, "index_copy").reshape(-1)
    return _index_put_op(x, _t(source), idx=_along(d, idx, x.ndim))


def index_fill(input, dim, index, value):  # noqa: A002
    """A copy of ``input`` with the slices at positions ``index`` along ``dim`` set to ``value``.

    >>> ag.index_fill(ag.ones(2, 3), 1, ag.tensor([0, 2]), -1.0)
    tensor([[-1.,  1., -1.],
            [-1.,  1., -1.]])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "index_fill")
    idx = _index_array(index, "index_fill").reshape(-1)
    v = value if isinstance(value, Tensor) else np.asarray(value, dtype=x._data.dtype)
    return _index_put_op(x, v, idx=_along(d, idx, x.ndim))


def index_put(input, indices, values, accumulate=False):  # noqa: A002
    """A copy of ``input`` with ``values`` written (or with ``accumulate=True`` added; repeats add up) at
    ``input[indices]``, ``indices`` a tuple of index tensors.

    >>> ag.index_put(ag.zeros(2, 2), (ag.tensor([0, 1]), ag.tensor([1, 0])), ag.tensor(5.0))
    tensor([[0., 5.],
            [5., 0.]])
    """
    x = _t(input)
    idx, adv = norm_index(tuple(indices))
    v = values if isinstance(values, Tensor) else np.asarray(values, dtype=x._data.dtype)
    if accumulate:
        region = x._data[idx].shape
        v = _t(v)
        if tuple(v.shape) != tuple(region):
            v = v.broadcast_to(region)
        return x + _scatter_op(v, idx=idx, shape=tuple(x.shape), adv=True)
    return _index_put_op(x, v, idx=idx)


def put(input, index, source, accumulate=False):  # noqa: A002
    """A copy of ``input`` with ``source``'s elements written (or with ``accumulate=True`` added) at the
    flat positions ``index`` (row-major, as if ``input`` were 1-D; negative ones count from the end).
    ``index`` and ``source`` have the same number of elements. PyTorch: ``torch.put`` / ``Tensor.put``.

    >>> ag.put(ag.zeros(2, 2), ag.tensor([3, 0]), ag.tensor([5.0, 7.0]))
    tensor([[7., 0.],
            [0., 5.]])
    """
    x = _t(input)
    idx = np.asarray(index._data if isinstance(index, Tensor) else index)
    src = _t(source)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"put: index must hold integers, got dtype {idx.dtype}")
    if idx.size != src.numel():
        raise OpError(f"put: index ({idx.size} elements) and source ({src.numel()} elements) must have the same "
                         "number of elements")
    n = x.numel()
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(f"put: an index is out of range for a tensor of {n} elements (shape {tuple(x.shape)})")
    flat = index_put(x.reshape(-1), (Tensor(idx.reshape(-1) % max(n, 1)),), src.reshape(-1), accumulate)
    return flat.reshape(tuple(x.shape))


def masked_scatter(input, mask, source):  # noqa: A002
    """A copy of ``input`` whose places where ``mask`` (broadcast to it) is True take ``source``'s
    elements in order.

    >>> ag.masked_scatter(ag.zeros(4), ag.tensor([True, False, True, False]), ag.tensor([1.0, 2.0, 3.0]))
    tensor([1., 0., 2., 0.])
    """
    x = _t(input)
    m = np.broadcast_to(mask._data if isinstance(mask, Tensor) else np.asarray(mask), x.shape)
    n = int(m.sum())
    src = _t(source).reshape(-1)
    if src.shape[0] < n:
        raise OpError(f"masked_scatter: the mask selects {n} places but source has {src.shape[0]} elements")
    return _index_put_op(x, getitem(src, (slice(0, n),)), idx=(m,))


def masked_select(input, mask):  # noqa: A002
    """The elements of ``input`` where ``mask`` is True (both broadcast together), as a 1-D tensor.

    >>> ag.masked_select(ag.tensor([[1, 2], [3, 4]]), ag.tensor([[True, False], [False, True]]))
    tensor([1, 4])
    """
    x = _t(input)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    shape = np.broadcast_shapes(tuple(x.shape), m.shape)
    if tuple(x.shape) != shape:
        x = x.broadcast_to(shape)
    return getitem(x, (np.broadcast_to(m, shape),))


def take(input, index):  # noqa: A002
    """The elements of the flattened ``input`` at ``index``; the result has ``index``'s shape.

    >>> ag.take(ag.tensor([[1, 2], [3, 4]]), ag.tensor([0, 3]))
    tensor([1, 4])
    """
    x, idx = _t(input), _index_array(index, "take")
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take: an index is out of range for a tensor of {n} elements (shape {tuple(x.shape)})")
    return getitem(x.reshape(-1), (idx,))


def take_along_dim(input, indices, dim=None):  # noqa: A002
    """Pick values along ``dim`` at ``indices`` (``gather`` that broadcasts ``indices``); with
    ``dim=None`` the input is flattened first.

    >>> x = ag.tensor([[10, 30], [40, 20]])
    >>> ag.take_along_dim(x, x.argmax(dim=1, keepdim=True), dim=1)
    tensor([[30],
            [40]])
    """
    from .index import take_along_axis
    x = _t(input)
    if dim is None:
        return take_along_axis(x.reshape(-1), _index_array(indices, "take_along_dim").reshape(-1), 0)
    return take_along_axis(x, _index_array(indices, "take_along_dim"), _dim(dim, x.ndim, "take_along_dim"))


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or with ``as_tuple=True`` one
    1-D tensor per dim (``torch.where(condition)``).

    >>> ag.nonzero(ag.tensor([[0, 1], [2, 0]]))
    tensor([[0, 1],
            [1, 0]])
    >>> ag.nonzero(ag.tensor([0, 3, 4]), as_tuple=True)
    (tensor([1, 2]),)
    """
    a = _t(input)._data
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor(np.argwhere(a).astype(np.int64))


def argwhere(input):  # noqa: A002
    """``nonzero(input)``: the (n, ndim) indices of the non-zero elements.

    >>> ag.argwhere(ag.tensor([0, 5, 0, 7]))
    tensor([[1],
            [3]])
    """
    return nonzero(input)


def count_nonzero(input, dim=None):  # noqa: A002
    """The number of non-zero elements (along ``dim``, an int or a tuple), as an int64 tensor.

    >>> ag.count_nonzero(ag.tensor([[0, 1], [2, 3]])), ag.count_nonzero(ag.tensor([[0, 1], [2, 3]]), dim=0)
    (tensor(3), tensor([1, 2]))
    """
    a = _t(input)._data
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    return Tensor(np.asarray(np.count_nonzero(a, axis=axis), dtype=np.int64))


# -- in-place forms --------------------------------------------------------------------------------
def _inplace(name, outofplace, example, result):
    def op_(self, *args, **kwargs):
        others = any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))
        return inplace_update(self, lambda old: outofplace(old, *args, **kwargs), name, others)
    op_.__name__ = name
    op_.__doc__ = (f"In place: ``t.{name}(...)`` is ``t.copy_(t.{name[:-1]}(...))``; returns ``t``. Recorded on the "
                   f"tape like PyTorch's in-place ops.\n\n    >>> t = ag.zeros(2, 3)\n    >>> {example}\n    {result}\n")
    return op_


def _fill_diagonal(x, fill_value, wrap=False):
    if x.ndim < 2 or (x.ndim > 2 and len(set(x.shape)) != 1):
        raise OpError(f"fill_diagonal_: expected a 2-D tensor or one whose dims all have the same size, got "
                         f"shape {tuple(x.shape)}")
    if x.ndim == 2:
        rows, cols = x.shape
        end = rows * cols if wrap else min(rows * cols, cols * cols)  # NumPy's and PyTorch's rule
        idx = np.unravel_index(np.arange(0, end, cols + 1), x.shape)
    else:
        idx = (np.arange(x.shape[0]),) * x.ndim
    return _index_put_op(x, np.asarray(fill_value, x._data.dtype), idx=idx)


for _name, _fn in dict(scatter=scatter, scatter_add=scatter_add, scatter_reduce=scatter_reduce, index_add=index_add,
                       index_reduce=index_reduce, index_copy=index_copy, index_fill=index_fill, index_put=index_put,
                       masked_scatter=masked_scatter, masked_select=masked_select, take=take,
                       take_along_dim=take_along_dim, nonzero=nonzero, argwhere=argwhere, put=put,
                       count_nonzero=count_nonzero).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)
for _name, _fn, _ex, _res in (
        ("scatter_", scatter, "t.scatter_(1, ag.tensor([[2], [0]]), 1.0)",
         "tensor([[0., 0., 1.],\n            [1., 0., 0.]])"),
        ("scatter_add_", scatter_add, "t.scatter_add_(0, ag.tensor([[1, 1, 1]]), ag.ones(1, 3))",
         "tensor([[0., 0., 0.],\n            [1., 1., 1.]])"),
        ("scatter_reduce_", scatter_reduce, "t.scatter_reduce_(0, ag.tensor([[1, 1, 1]]), ag.ones(1, 3), 'sum')",
         "tensor([[0., 0., 0.],\n            [1., 1., 1.]])"),
        ("index_add_", index_add, "t.index_add_(1, ag.tensor([0, 0]), ag.ones(2, 2))",
         "tensor([[2., 0., 0.],\n            [2., 0., 0.]])"),
        ("index_reduce_", index_reduce, "t.index_reduce_(1, ag.tensor([0, 0]), ag.ones(2, 2) * 2, 'amax')",
         "tensor([[2., 0., 0.],\n            [2., 0., 0.]])"),
        ("index_copy_", index_copy, "t.index_copy_(0, ag.tensor([1]), ag.ones(1, 3))",
         "tensor([[0., 0., 0.],\n            [1., 1., 1.]])"),
        ("index_fill_", index_fill, "t.index_fill_(1, ag.tensor([1]), 2.0)",
         "tensor([[0., 2., 0.],\n            [0., 2., 0.]])"),
        ("index_put_", index_put, "t.index_put_((ag.tensor([0]), ag.tensor([2])), ag.tensor(7.0))",
         "tensor([[0., 0., 7.],\n            [0., 0., 0.]])"),
        ("put_", put, "t.put_(ag.tensor([0, 5]), ag.tensor([1.0, 2.0]))",
         "tensor([[1., 0., 0.],\n            [0., 0., 2.]])"),
        ("masked_scatter_", masked_scatter, "t.masked_scatter_(ag.tensor([True, False, True]), ag.arange(4.0))",
         "tensor([[0., 0., 1.],\n            [2., 0., 3.]])"),
        ("fill_diagonal_", _fill_diagonal, "t.fill_diagonal_(5.0)",
         "tensor([[5., 0., 0.],\n            [0., 5., 0.]])")):
    if not hasattr(Tensor, _name):
        method(_name, _inplace(_name, _fn, _ex, _res))

"""Indexing: ``t[idx]``, ``t[idx] = v``, ``gather`` / ``take_along_axis``, ``masked_fill``.

The gradient of a read is a scatter-add into zeros: plain assignment for basic indices,
``np.add.at`` where integer arrays may repeat an index (repeats must add up). The scatter
is an op too, whose own VJP is the read, so grad-of-grad works.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..errors import OpError
from .. import modes
from ..node import bump
from ..tensor import Tensor
from .registry import _wrapped_int, defop, method, xp
from ..kernels import index as _kidx
from .inplace import _overlaps_itself, _writable, inplace_update


def norm_index(idx):
    """Replace Tensors and lists inside an index by ndarrays; return (index, has_int_arrays)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out, adv = [], False
    for i in idx:
        if isinstance(i, Tensor):
            i = i._data
            if i.ndim == 0 and i.dtype.kind in "iu" and i.dtype != np.uint8:
                i = int(i)   # PyTorch reads a 0-d integer tensor as an int (a view), not as an index array
        elif isinstance(i, list):
            i = np.asarray(i)
            if i.size == 0:
                i = i.astype(np.int64)   # x[[]] picks no rows, as PyTorch (NumPy reads [] as float64)
        if isinstance(i, np.ndarray):
            if i.dtype == np.uint8:
                # PyTorch reads a uint8 tensor index as a mask (the ByteTensor masks of older scripts), not
                # as row numbers, and warns that the form is deprecated
                _warn_uint8_index()
                i = i.astype(bool)
            elif i.dtype.kind in "iu":
                adv = True
            elif i.dtype.kind != "b":
                raise IndexError(f"index arrays must be integer or boolean, got dtype {i.dtype}")
        out.append(i)
    return tuple(out), adv


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def split_selects(idx):
    """``(basic, rest)`` for an index (from ``norm_index``) that mixes ints with index arrays, else None.

    PyTorch applies the ints first, as selects, and only then the arrays: ``x[1, :, [0, 3]]`` of a (2, 3, 4)
    tensor has shape (3, 2). NumPy counts the int as an index array, so the arrays being separated by a
    slice moves their dim first: (2, 3). ``x[basic][rest]`` gives PyTorch's result."""
    if not any(_is_int(i) for i in idx):
        return None
    basic, rest = [], []
    for i in idx:
        if _is_int(i):
            basic.append(i)
        elif isinstance(i, np.ndarray):
            basic.extend([slice(None)] * (i.ndim if i.dtype.kind == "b" else 1))
            rest.append(i)
        elif i is Ellipsis:
            basic.append(i)
            rest.append(i)
        else:   # a slice, applied in the first step, or None, whose new dim the first step made
            basic.append(i)
            rest.append(slice(None))
    return tuple(basic), tuple(rest)


def expand_ellipsis(idx, ndim):
    """``idx`` with its Ellipsis written out as the slices it stands for. PyTorch reads index arrays on either
    side of an Ellipsis that covers no dim as adjacent (their dims stay in place); NumPy always moves them
    to the front."""
    at = [k for k, i in enumerate(idx) if i is Ellipsis]
    if len(at) != 1:
        return idx
    used = 0
    for i in idx:
        if isinstance(i, np.ndarray):
            used += i.ndim if i.dtype.kind == "b" else 1
        elif not (i is None or i is Ellipsis or isinstance(i, (bool, np.bool_))):
            used += 1
    k = at[0]
    return idx[:k] + (slice(None),) * builtins.max(ndim - used, 0) + idx[k + 1:]


def _warn_uint8_index():
    import warnings
    warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.",
                  UserWarning, stacklevel=4)


def _getitem(x, idx, adv=False):
    out = x[idx]
    if not adv and not isinstance(out, np.ndarray) and not any(i is Ellipsis for i in idx):
        out = x[idx + (Ellipsis,)]  # a 0-d view, not a copied numpy scalar: x[0] shares x's storage
    return out


def _scatter(g, idx, shape, adv):
    """zeros(shape) with g added at idx (repeated integer indices add up)."""
    z = np.zeros(shape, dtype=g.dtype)
    if adv:
        if not (len(idx) == 1 and isinstance(idx[0], np.ndarray) and _kidx.add_rows(z, idx[0], g)):
            np.add.at(z, idx, g)
    else:
        z[idx] = g
    return z


_getitem_op = defop("getitem", _getitem,
                    (lambda g, ans, x, idx, adv=False: xp.index_scatter(g, idx=idx, shape=x.shape, adv=adv),),
                    uses=(), view=True, hidden=("adv",), region_grad=True)
_scatter_op = defop("index_scatter", _scatter,
                    (lambda g, ans, gin, idx, shape, adv: g[idx],), uses=(), hidden=("adv",))


def getitem(x, idx):
    """``x[idx]``: ints, slices (negative steps too), None, Ellipsis, integer arrays / tensors / lists
    and boolean masks, as in NumPy. Basic indexing gives a view of ``x``; advanced indexing a copy.

    The gradient is scattered back into zeros of ``x``'s shape (repeated indices add up). PyTorch:
    ``Tensor.__getitem__``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1, 2, 3], [4, 5, 6]])
    >>> x[0], x[x > 3]
    (tensor([1, 2, 3]), tensor([4, 5, 6]))
    >>> x[:, ::-1]
    tensor([[3, 2, 1],
            [6, 5, 4]])
    >>> ag.getitem(x, (1, [0, 2]))
    tensor([4, 6])
    """
    idx, adv = norm_index(idx)
    if len(idx) > 1 and (adv or any(type(i) is np.ndarray for i in idx)):
        idx = expand_ellipsis(idx, x.ndim)
        split = split_selects(idx)
        if split is not None:
            return getitem(getitem(x, split[0]), split[1])
    try:
        return _getitem_op(x, idx=idx, adv=adv)
    except IndexError as e:
        raise IndexError(f"getitem: index {idx!r} is invalid for a tensor of shape {tuple(x.shape)}: {e}") from None


def _fill_zero(g, idx):
    z = np.array(g)
    z[idx] = 0
    return z


def _index_put(x, v, idx):
    out = np.array(x)
    out[idx] = v
    return out


_fill_zero_op = defop("index_fill_zero", _fill_zero, (lambda g, ans, gin, idx: xp.index_fill_zero(g, idx=idx),),
                      uses=())
def _index_put_value_vjp(g, ans, x, v, idx):
    gv = g[idx]
    if gv.ndim < v.ndim:
        # numpy lets the value carry extra leading size-1 dims (a (1, 3) value into a row): restore them
        gv = gv.reshape((1,) * (v.ndim - gv.ndim) + tuple(gv.shape))
    return gv


_index_put_op = defop("index_put", _index_put,
                      (lambda g, ans, x, v, idx: xp.index_fill_zero(g, idx=idx), _index_put_value_vjp), uses=())


def _drop_leading_ones(value, target):
    """A value with extra leading size-1 dims fits a smaller region (PyTorch allows ``v[0] = t[None]``)."""
    vshape = np.shape(value._data if isinstance(value, Tensor) else value)
    extra = len(vshape) - np.ndim(target)
    if extra > 0 and all(d == 1 for d in vshape[:extra]):
        return value.reshape(vshape[extra:]) if isinstance(value, Tensor) else np.reshape(value, vshape[extra:])
    return value


def _write_into_broadcast(x, idx, value):
    """``x[idx] = value`` where ``x`` is a broadcast (expanded) view, read-only in NumPy. As in PyTorch, the
    write is allowed when ``idx`` is a basic index (ints, slices, None, ...) and no two elements of the
    selected region share one memory location (``x.expand(3, 4)[1] = v`` writes one row of the base)."""
    region = None
    base = getattr(x, "_base", None)
    if base is not None and not any(isinstance(i, np.ndarray) for i in idx):
        region = _getitem(x._data, idx)
        if not _overlaps_itself(region):
            region = _writable(region, base._data)
    if region is None or not region.flags.writeable:
        raise RuntimeError(f"setitem: index {idx!r} selects elements of this broadcast (expanded) view of shape "
                           f"{tuple(x.shape)} that share one memory location; clone it before writing into it")
    region[...] = value


def setitem(x, idx, value):
    """``x[idx] = value`` in place (``value`` broadcasts to the selected region): written into ``x``'s
    storage, so every alias sees it; on the tape, ``x`` takes an ``index_put`` node as its new
    history (a view rebases its base). Returns None.

    The overwritten elements get no gradient from ``x``'s old history; ``value`` gets the gradient of
    its region. PyTorch: ``Tensor.__setitem__``.

    >>> import autograd_core as ag
    >>> x = ag.zeros(2, 3)
    >>> ag.setitem(x, (0, slice(1, None)), 7.0)
    >>> x[1] = ag.tensor([1.0, 2.0, 3.0])
    >>> x
    tensor([[0., 7., 7.],
            [1., 2., 3.]])
    """
    idx, adv = norm_index(idx)
    if len(idx) > 1 and (adv or any(type(i) is np.ndarray for i in idx)):
        idx = expand_ellipsis(idx, x.ndim)
        split = split_selects(idx)
        if split is not None:
            return setitem(getitem(x, split[0]), split[1], value)
    if type(value) is int and x._data.dtype.kind in "iu":
        value = _wrapped_int(value, x._data.dtype)   # -3 into uint8 stores 253, as PyTorch's cast
    vt = isinstance(value, Tensor)
    v_rg = vt and value.requires_grad
    try:
        value = _drop_leading_ones(value, x._data[idx])
        if modes.state.enabled and (x.requires_grad or v_rg):
            if not adv and _overlaps_itself(x._data) and idx != (Ellipsis,):
                # a broadcast view: write into the selected region (PyTorch's ``x[idx].copy_(value)``), which
                # may be written when its own elements don't share memory; the region rebases x's base
                region = getitem(x, idx)
                if not _overlaps_itself(region._data):
                    setitem(region, (Ellipsis,), value)
                    return
            v = value if vt else np.asarray(value, dtype=x.dtype)
            inplace_update(x, lambda old: _index_put_op(old, v, idx=idx), "setitem", v_rg)
            return
        if not x._data.flags.writeable:
            _write_into_broadcast(x, idx, value._data if vt else value)
        else:
            x._data[idx] = value._data if vt else value
    except IndexError as e:
        raise IndexError(f"setitem: index {idx!r} is invalid for a tensor of shape {tuple(x.shape)}: {e}") from None
    except ValueError:
        # nothing was written: numpy checks the value's shape before storing
        raise OpError(f"setitem: a value of shape {tuple(np.shape(value))} can't be broadcast to the selected "
                         f"shape {tuple(x._data[idx].shape)} (index {idx!r} of a tensor of shape {tuple(x.shape)})") \
            from None
    bump(x)


# -- gather / take_along_axis ------------------------------------------------------------------
def _full_index(index, axis):
    """The fancy index that picks ``x[..., index, ...]`` along ``axis`` elementwise (PyTorch gather)."""
    nd = index.ndim
    return tuple(index if d == axis else
                 np.arange(index.shape[d]).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1))
                 for d in range(nd))


def _gather(x, index, axis):
    return x[_full_index(index, axis)]


def _scatter_add(g, index, axis, shape):
    z = np.zeros(shape, dtype=g.dtype)
    np.add.at(z, _full_index(index, axis), g)
    return z


_gather_op = defop("gather", _gather,
                   (lambda g, ans, x, index, axis: xp.scatter_add(g, index=index, axis=axis, shape=x.shape),),
                   uses=())
_scatter_add_op = defop("scatter_add", _scatter_add,
                        (lambda g, ans, gin, index, axis, shape: xp.gather(g, index=index, axis=axis),), uses=())


def gather(x, dim, index):
    """Pick elements along ``dim`` by ``index`` (an integer tensor with ``x``'s number of dims, no larger
    than ``x`` in the other dims): ``out[i][j] = x[index[i][j]][j]`` for dim=0, ``x[i][index[i][j]]``
    for dim=1; the result has ``index``'s shape.

    The gradient is scatter-added back (repeated indices add up). PyTorch: ``torch.gather``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1, 2], [3, 4]])
    >>> ag.gather(x, 1, ag.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]])
    """
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    if index.ndim != x.ndim:
        raise OpError(f"gather: index has {index.ndim} dims but the input has {x.ndim} (shape {tuple(x.shape)})")
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"gather: dim {dim} is out of range for a tensor of shape {tuple(x.shape)}")
    dim = dim % max(x.ndim, 1)
    for d in range(x.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise OpError(f"gather: index shape {index.shape} exceeds input shape {tuple(x.shape)} at dim {d}")
    if index.size and (index.min() < -x.shape[dim] or index.max() >= x.shape[dim]):
        raise IndexError(f"gather: index out of range for dim {dim} of size {x.shape[dim]} (input of shape "
                         f"{tuple(x.shape)})")
    return _gather_op(x, index=index, axis=dim)


def take_along_axis(x, indices, axis):
    """Pick elements along ``axis`` by ``indices`` (``gather`` with NumPy's broadcasting of ``indices``
    against ``x`` outside ``axis``); the result has the broadcast shape.

    The gradient is scatter-added back. NumPy: ``np.take_along_axis`` (PyTorch:
    ``torch.take_along_dim``).

    >>> import autograd_core as ag
    >>> x = ag.tensor([[10.0, 30.0, 20.0], [60.0, 40.0, 50.0]])
    >>> ag.take_along_axis(x, x.argmax(dim=1, keepdim=True), 1)
    tensor([[30.],
            [60.]])
    """
    indices = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    axis = axis % x.ndim
    shape = list(np.broadcast_shapes(tuple(1 if d == axis else s for d, s in enumerate(x.shape)),
                                     tuple(1 if d == axis else s for d, s in enumerate(indices.shape))))
    shape[axis] = indices.shape[axis]
    indices = np.broadcast_to(indices, shape)
    if tuple(s for d, s in enumerate(x.shape) if d != axis) != tuple(s for d, s in enumerate(shape) if d != axis):
        x = x.broadcast_to(tuple(x.shape[d] if d == axis else shape[d] for d in range(x.ndim)))
    return _gather_op(x, index=indices, axis=axis)


def index_select(x, dim, index):
    """Pick whole slices along ``dim`` by a 1-D integer ``index``: the result has ``len(index)`` at
    ``dim`` and ``x``'s other sizes.

    The gradient is scatter-added back. PyTorch: ``torch.index_select``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1, 2, 3], [4, 5, 6]])
    >>> ag.index_select(x, 1, ag.tensor([2, 0]))
    tensor([[3, 1],
            [6, 4]])
    """
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    shape, nd = tuple(x.shape), max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"index_select: dim {dim} is out of range for a tensor of shape {shape}")
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise IndexError(f"index_select: the index must be a 1-D integer tensor, got shape {index.shape} and "
                         f"dtype {index.dtype}")
    n = shape[dim] if shape else 1
    if index.size and (index.min() < -n or index.max() >= n):
        raise IndexError(f"index_select: index out of range for dim {dim} of size {n} (tensor of shape {shape})")
    return getitem(x, (slice(None),) * (dim % nd) + (index.reshape(-1),)) if x.ndim else \
        getitem(x.reshape(1), (index.reshape(-1),)).reshape(index.shape)


def masked_fill(x, mask, value):
    """``value`` where ``mask`` (a bool tensor that broadcasts to ``x``) is True, else ``x``; a new tensor.

    The gradient passes to ``x`` where ``mask`` is False. PyTorch: ``torch.masked_fill``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0, 3.0])
    >>> x.masked_fill(x > 1.5, 0.0)
    tensor([1., 0., 0.])
    """
    from .elementwise import where
    md = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if md.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: the mask must be a bool tensor, got dtype {md.dtype}; use (mask != 0)")
    if type(value) is int and isinstance(x, Tensor) and x._data.dtype.kind in "iu":
        value = Tensor(_wrapped_int(value, x._data.dtype))   # -1 fills uint8 with 255, as PyTorch's cast
    try:
        out = where(mask, value, x)
    except ValueError:
        raise OpError(f"masked_fill: a mask of shape {md.shape} can't be broadcast to the tensor's shape "
                         f"{tuple(np.shape(x))}") from None
    # the result keeps x's dtype, as PyTorch's (a float value fills an int tensor truncated)
    xd = x._data.dtype if isinstance(x, Tensor) else None
    return out if xd is None or out._data.dtype is xd else out.to(xd)


method("__getitem__", getitem)
method("__setitem__", setitem)
method("gather", gather)
method("take_along_axis", take_along_axis)
method("index_select", index_select)
method("masked_fill", masked_fill)

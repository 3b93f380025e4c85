"""Shape and layout functions under PyTorch's names, built from the taped shape and index ops (so
their gradients come from those ops' rules): ``roll``, ``rot90``, ``movedim``/``moveaxis``,
``swapdims``, ``unflatten``, ``ravel``, ``narrow``, ``select``, ``unbind``, ``tensor_split``,
``hsplit``/``vsplit``/``dsplit``, ``repeat_interleave``, ``fliplr``/``flipud``, ``Tensor.unfold``,
``atleast_1d/2d/3d``, ``hstack``/``vstack``/``dstack``/``column_stack``/``row_stack``, ``concat``,
``meshgrid``, ``cartesian_prod``, ``combinations``, ``block_diag``, ``diag``, ``diagonal``,
``diag_embed``, ``diagflat``, ``tril_indices``/``triu_indices``, ``broadcast_shapes``, ``logspace``,
``scalar_tensor``, ``diff``, and the in-place shape methods ``unsqueeze_``, ``squeeze_``, ``t_``,
``transpose_``, ``swapdims_``/``swapaxes_``, ``detach_``, ``resize_``.
"""
from __future__ import annotations

import builtins
import functools
import itertools

import numpy as np

from ..errors import OpError
from .. import dtypes as _dtypes
from ..tensor import Size, Tensor, get_default_dtype
from . import shape as S
from .index import getitem
from .registry import defop, method, xp

__all__ = ["roll", "rot90", "movedim", "moveaxis", "swapdims", "unflatten", "ravel", "narrow", "select", "unbind",
           "tensor_split", "hsplit", "vsplit", "dsplit", "repeat_interleave", "fliplr", "flipud", "atleast_1d",
           "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack", "column_stack", "row_stack", "concat",
           "meshgrid", "cartesian_prod", "combinations", "block_diag", "diag", "diagonal", "diag_embed", "diagflat",
           "tril_indices", "triu_indices", "broadcast_shapes", "logspace", "scalar_tensor", "diff", "Size"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _int(v, name, what):
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}: {what} must be an int, got {v!r}")
    return int(v)


def _dim(d, ndim, name):
    d = _int(d, name, "dim")
    n = builtins.max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{name}: dim {d} is out of range for a tensor with {ndim} dims (expected -{n} <= dim < {n})")
    return d % n


def _slice(x, dim, start, stop, step=1):
    return getitem(x, (slice(None),) * dim + (slice(start, stop, step),))


def roll(input, shifts, dims=None):  # noqa: A002  (PyTorch's argument names)
    """Shift elements along ``dims`` by ``shifts`` (ints or tuples of equal length), wrapping around; with
    ``dims=None`` the flattened tensor rolls and keeps its shape.

    >>> ag.roll(ag.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3])
    >>> ag.roll(ag.tensor([[1, 2], [3, 4]]), shifts=1, dims=1)
    tensor([[2, 1],
            [4, 3]])
    """
    x = _t(input)
    if dims is None:
        if isinstance(shifts, (tuple, list)):
            if len(shifts) != 1:
                raise OpError(f"roll: with dims=None, shifts must be one int, got {shifts!r}")
            shifts = shifts[0]
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise OpError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    for s, d in zip(shifts, dims):
        d = _dim(d, x.ndim, "roll")
        n = x.shape[d]
        s = _int(s, "roll", "shift") % n if n else 0
        if s:
            x = S.concatenate([_slice(x, d, n - s, None), _slice(x, d, 0, n - s)], axis=d)
    return x


def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim toward the second.

    >>> ag.rot90(ag.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]])
    """
    x = _t(input)
    d0, d1 = (_dim(d, x.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise OpError(f"rot90: dims must be two different dims, got {tuple(dims)}")
    k = _int(k, "rot90", "k") % 4
    if k == 1:
        return S.swapaxes(S.flip(x, dims=d1), d0, d1)
    if k == 2:
        return S.flip(x, dims=(d0, d1))
    if k == 3:
        return S.flip(S.swapaxes(x, d0, d1), dims=d1)
    return x


def movedim(input, source, destination):  # noqa: A002
    """Move the dims ``source`` (an int or a tuple) to the positions ``destination``; the others keep
    their order. A view.

    >>> ag.movedim(ag.zeros(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    """
    x = _t(input)
    src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise OpError(f"movedim: source {src} and destination {dst} must have the same length")
    src = [_dim(d, x.ndim, "movedim") for d in src]
    dst = [_dim(d, x.ndim, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise OpError(f"movedim: repeated dims in source {tuple(src)} or destination {tuple(dst)}")
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return S.permute(x, *order) if order != list(range(x.ndim)) else x


moveaxis = movedim


def swapdims(input, dim0, dim1):  # noqa: A002
    """Swap two dims (``transpose(input, dim0, dim1)``); a view.

    >>> ag.swapdims(ag.zeros(2, 3), 0, 1).shape
    (3, 2)
    """
    return S.transpose(_t(input), dim0, dim1)


def unflatten(input, dim, sizes):  # noqa: A002
    """Split dim ``dim`` into ``sizes`` (one entry may be -1); the inverse of ``flatten``.

    >>> ag.unflatten(ag.zeros(2, 12), 1, (3, 4)).shape
    (2, 3, 4)
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes = tuple(x.shape[d] // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != x.shape[d]:
        raise OpError(f"unflatten: sizes {sizes} don't multiply to the size {x.shape[d]} of dim {d}")
    return x.reshape(tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1:]))


def ravel(input):  # noqa: A002
    """The elements as a 1-D tensor (a view where possible).

    >>> ag.ravel(ag.tensor([[1, 2], [3, 4]]))
    tensor([1, 2, 3, 4])
    """
    return _t(input).reshape(-1)


def narrow(input, dim, start, length):  # noqa: A002
    """Elements ``start`` to ``start + length - 1`` along ``dim`` (a view); ``start`` may be negative.

    >>> ag.narrow(ag.tensor([[1, 2, 3], [4, 5, 6]]), 1, 1, 2)
    tensor([[2, 3],
            [5, 6]])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "narrow")
    start, length = _int(start, "narrow", "start"), _int(length, "narrow", "length")
    n = x.shape[d]
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise IndexError(f"narrow: start {start} + length {length} exceeds the size {n} of dim {d}")
    return _slice(x, d, start, start + length)


def select(input, dim, index):  # noqa: A002
    """The slice at ``index`` along ``dim``, with that dim removed (a view).

    >>> ag.select(ag.tensor([[1, 2], [3, 4]]), 1, 0)
    tensor([1, 3])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "select")
    i = _int(index, "select", "index")
    if not -x.shape[d] <= i < x.shape[d]:
        raise IndexError(f"select: index {i} is out of range for dim {d} of size {x.shape[d]}")
    return getitem(x, (slice(None),) * d + (i,))


def unbind(input, dim=0):  # noqa: A002
    """The slices along ``dim`` as a tuple (views), with that dim removed.

    >>> ag.unbind(ag.tensor([[1, 2], [3, 4]]), 1)
    (tensor([1, 3]), tensor([2, 4]))
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "unbind")
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x.shape[d]))


def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    """Split along ``dim`` into n nearly equal parts (an int: the first ``size % n`` parts are one larger)
    or at the given indices (a list or tuple), as NumPy's ``array_split``; a tuple of views.

    >>> [p.tolist() for p in ag.tensor_split(ag.arange(7), 3)]
    [[0, 1, 2], [3, 4], [5, 6]]
    >>> [p.tolist() for p in ag.tensor_split(ag.arange(7), [1, 5])]
    [[0], [1, 2, 3, 4], [5, 6]]
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        cuts = [0] + [int(i) for i in indices_or_sections] + [n]
    else:
        k = _int(indices_or_sections, "tensor_split", "sections")
        if k <= 0:
            raise OpError(f"tensor_split: the number of sections must be positive, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        cuts = [0] + list(itertools.accumulate(sizes))
    # each part is x[a:b] along d with Python's slice rules, as PyTorch's (a negative index counts from the end)
    bounds = [slice(a, b).indices(n)[:2] for a, b in zip(cuts[:-1], cuts[1:])]
    return tuple(_slice(x, d, a, builtins.max(a, b)) for a, b in bounds)


def hsplit(input, indices_or_sections):  # noqa: A002
    """``tensor_split`` along dim 1 (dim 0 for a 1-D tensor); an int must divide the size evenly.

    >>> [p.shape for p in ag.hsplit(ag.zeros(2, 4), 2)]
    [(2, 2), (2, 2)]
    """
    return _even_split(input, indices_or_sections, 1 if _t(input).ndim > 1 else 0, "hsplit")


def vsplit(input, indices_or_sections):  # noqa: A002
    """``tensor_split`` along dim 0 of a tensor with at least 2 dims.

    >>> [p.shape for p in ag.vsplit(ag.zeros(4, 2), 2)]
    [(2, 2), (2, 2)]
    """
    return _even_split(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):  # noqa: A002
    """``tensor_split`` along dim 2 of a tensor with at least 3 dims.

    >>> [p.shape for p in ag.dsplit(ag.zeros(1, 1, 4), [1])]
    [(1, 1, 1), (1, 1, 3)]
    """
    return _even_split(input, indices_or_sections, 2, "dsplit")


def _even_split(x, ios, dim, name):
    x = _t(x)
    if isinstance(ios, (int, np.integer)) and x.shape[dim] % ios:
        raise OpError(f"{name}: {ios} sections don't divide the size {x.shape[dim]} of dim {dim} evenly")
    return tensor_split(x, ios, dim)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Repeat each element (or each slice along ``dim``) ``repeats`` times (an int, or a tensor with one
    count per element); ``dim=None`` flattens first. ``repeat_interleave(counts)`` alone repeats the
    indices 0, 1, ... by ``counts``.

    >>> ag.repeat_interleave(ag.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    >>> ag.repeat_interleave(ag.tensor([[1, 2], [3, 4]]), ag.tensor([1, 2]), dim=0)
    tensor([[1, 2],
            [3, 4],
            [3, 4]])
    >>> ag.repeat_interleave(ag.tensor([2, 1]))
    tensor([0, 0, 1])
    """
    x = _t(input)
    if repeats is None:
        counts = x._data
        return Tensor(np.repeat(np.arange(len(counts)), counts))
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = _dim(dim, x.ndim, "repeat_interleave")
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    idx = np.repeat(np.arange(x.shape[d]), reps)
    return getitem(x, (slice(None),) * d + (idx,))


def fliplr(input):  # noqa: A002
    """Reverse the columns (dim 1).

    >>> ag.fliplr(ag.tensor([[1, 2], [3, 4]]))
    tensor([[2, 1],
            [4, 3]])
    """
    return S.flip(_t(input), dims=1)


def flipud(input):  # noqa: A002
    """Reverse the rows (dim 0).

    >>> ag.flipud(ag.tensor([[1, 2], [3, 4]]))
    tensor([[3, 4],
            [1, 2]])
    """
    return S.flip(_t(input), dims=0)


def _unfold(self, dimension, size, step):
    """The windows of ``size`` elements along ``dimension``, every ``step`` elements: that dim becomes the
    number of windows and a last dim of ``size`` is added (PyTorch's ``Tensor.unfold``).

    >>> ag.arange(5).unfold(0, 2, 2)
    tensor([[0, 1],
            [2, 3]])
    """
    d = _dim(dimension, self.ndim, "unfold")
    n = (self.shape[d] - size) // step + 1 if self.shape[d] >= size else 0
    idx = (np.arange(n)[:, None] * step + np.arange(size)[None, :]).reshape(-1)
    picked = getitem(self, (slice(None),) * d + (idx,))
    shape = tuple(self.shape[:d]) + (n, size) + tuple(self.shape[d + 1:])
    return movedim(picked.reshape(shape), d + 1, -1)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d one becomes shape (1,)); one tensor, or a tuple.

    >>> ag.atleast_1d(ag.tensor(3.0))
    tensor([3.])
    """
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (leading size-1 dims added).

    >>> ag.atleast_2d(ag.tensor([1.0, 2.0])).shape
    (1, 2)
    """
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims (NumPy's placement: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)).

    >>> ag.atleast_3d(ag.zeros(2, 3)).shape
    (2, 3, 1)
    """
    return _atleast(tensors, 3)


def _atleast(tensors, n):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        t = _t(t)
        if t.ndim < n:
            if n == 3 and t.ndim == 2:
                t = t.reshape(tuple(t.shape) + (1,))
            elif n == 3 and t.ndim == 1:
                t = t.reshape((1, t.shape[0], 1))
            else:
                t = t.reshape((1,) * (n - t.ndim) + tuple(t.shape))
        out.append(t)
    return out[0] if len(out) == 1 else tuple(out)


def concat(tensors, dim=0):
    """``cat`` (PyTorch's other name): join along the existing dim ``dim``.

    >>> ag.concat([ag.zeros(1, 2), ag.ones(1, 2)]).shape
    (2, 2)
    """
    return S.concatenate(list(tensors), dim=dim)


def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-D tensors).

    >>> ag.hstack([ag.tensor([1, 2]), ag.tensor([3])])
    tensor([1, 2, 3])
    """
    ts = [_t(t) for t in tensors]
    ts = [atleast_1d(t) for t in ts]
    return S.concatenate(ts, dim=0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0 after making each tensor at least 2-D.

    >>> ag.vstack([ag.tensor([1, 2]), ag.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    return S.concatenate([atleast_2d(_t(t)) for t in tensors], dim=0)


row_stack = vstack


def dstack(tensors):
    """Join along dim 2 after making each tensor at least 3-D.

    >>> ag.dstack([ag.zeros(2, 3), ag.ones(2, 3)]).shape
    (2, 3, 2)
    """
    return S.concatenate([atleast_3d(_t(t)) for t in tensors], dim=2)


def column_stack(tensors):
    """Stack 1-D tensors as columns (2-D tensors join along dim 1).

    >>> ag.column_stack([ag.tensor([1, 2]), ag.tensor([3, 4])])
    tensor([[1, 3],
            [2, 4]])
    """
    ts = [_t(t) for t in tensors]
    ts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in ts]
    return S.concatenate(ts, dim=1)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` (the default, as PyTorch's current
    behaviour) output i varies along dim i; ``'xy'`` swaps the first two dims. Expanded views.

    >>> xs, ys = ag.meshgrid(ag.tensor([1, 2]), ag.tensor([3, 4, 5]), indexing="ij")
    >>> xs.shape, ys[0]
    ((2, 3), tensor([3, 4, 5]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise OpError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [_t(t).reshape(-1) for t in tensors]
    shape = tuple(t.shape[0] for t in ts)
    n = len(ts)
    out = [S.broadcast_to(t.reshape((1,) * i + (-1,) + (1,) * (n - i - 1)), shape) for i, t in enumerate(ts)]
    if indexing == "xy" and n >= 2:
        out = [S.swapaxes(o, 0, 1) for o in out]
    return tuple(out)


def cartesian_prod(*tensors):
    """All combinations of the elements of 1-D tensors, one per row (a 1-D tensor for one input).

    >>> ag.cartesian_prod(ag.tensor([1, 2]), ag.tensor([3, 4]))
    tensor([[1, 3],
            [1, 4],
            [2, 3],
            [2, 4]])
    """
    if len(tensors) == 1:
        return _t(tensors[0]).reshape(-1)
    grids = meshgrid(*tensors, indexing="ij")
    return S.stack([g.reshape(-1) for g in grids], dim=1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002
    """The length-``r`` combinations of a 1-D tensor's elements, one per row (``itertools.combinations``
    order; with ``with_replacement``, ``combinations_with_replacement``).

    >>> ag.combinations(ag.tensor([1, 2, 3]), 2)
    tensor([[1, 2],
            [1, 3],
            [2, 3]])
    """
    x = _t(input)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if idx.size == 0:
        return getitem(x, (np.zeros(0, np.int64),))
    return getitem(x, (idx,))


def block_diag(*tensors):
    """A block-diagonal matrix with the given tensors (0-, 1- or 2-D) on its diagonal, zeros elsewhere.

    >>> ag.block_diag(ag.tensor([[1, 2]]), ag.tensor([[3], [4]]))
    tensor([[1, 2, 0],
            [0, 0, 3],
            [0, 0, 4]])
    """
    ts = [_t(t) for t in tensors]
    ts = [t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t for t in ts]
    width = builtins.sum(t.shape[1] for t in ts)
    dtype = functools.reduce(_dtypes.promote_types, [t._data.dtype for t in ts]) if ts else get_default_dtype()
    rows, left = [], 0
    for t in ts:
        right = width - left - t.shape[1]
        rows.append(S.pad(t.astype(dtype) if t._data.dtype != dtype else t, ((0, 0), (left, right))))
        left += t.shape[1]
    return S.concatenate(rows, dim=0) if rows else Tensor(np.zeros((0, 0), dtype))


def _diag_index(n, offset):
    i = np.arange(n)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    """The diagonal of the (dim1, dim2) planes (``offset`` > 0 above the main diagonal), as the last dim.

    >>> ag.diagonal(ag.tensor([[1, 2], [3, 4]])), ag.diagonal(ag.tensor([[1, 2], [3, 4]]), 1)
    (tensor([1, 4]), tensor([2]))
    """
    x = _t(input)
    d1, d2 = _dim(dim1, x.ndim, "diagonal"), _dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise OpError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return _diagonal_op(movedim(x, (d1, d2), (-2, -1)), offset=int(offset))


def _diag_len(shape, offset):
    rows, cols = shape[-2], shape[-1]
    return builtins.max(0, builtins.min(rows, cols - offset) if offset >= 0 else builtins.min(rows + offset, cols))


def _diagonal_view(x, offset=0):
    """The diagonal of the last two dims as a strided view of ``x`` (NumPy's own is read-only), so that
    writing into it writes into ``x``, as PyTorch's ``t.diagonal().zero_()``."""
    start = x[..., builtins.max(0, -offset):, builtins.max(0, offset):]
    return np.lib.stride_tricks.as_strided(start, x.shape[:-2] + (_diag_len(x.shape, offset),),
                                           x.strides[:-2] + (x.strides[-2] + x.strides[-1],))


_diagonal_op = defop("diagonal", _diagonal_view,
                     (lambda g, ans, x, offset=0: xp.index_scatter(
                         g, idx=(Ellipsis,) + _diag_index(_diag_len(x.shape, offset), offset), shape=x.shape,
                         adv=True),), uses=(), view=True)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """Matrices whose (dim1, dim2) diagonal (shifted by ``offset``) holds the last dim of ``input``,
    zeros elsewhere.

    >>> ag.diag_embed(ag.tensor([[1, 2]]))
    tensor([[[1, 0],
             [0, 2]]])
    """
    x = _t(input)
    n = x.shape[-1] + abs(offset)
    zeros = Tensor(np.zeros(tuple(x.shape[:-1]) + (n, n), x._data.dtype))
    r, c = _diag_index(x.shape[-1], offset)
    out = _put(zeros, (Ellipsis, r, c), x)
    nd = out.ndim
    d1, d2 = dim1 % nd, dim2 % nd
    if (d1, d2) != (nd - 2, nd - 1):
        out = movedim(out, (nd - 2, nd - 1), (d1, d2))
    return out


def _put(target, idx, values):
    from .index import _index_put_op
    return _index_put_op(target, values, idx=idx)


def diag(input, diagonal=0):  # noqa: A002
    """A 1-D tensor -> the square matrix with it on the ``diagonal``-th diagonal; a 2-D tensor -> its
    ``diagonal``-th diagonal.

    >>> ag.diag(ag.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    >>> ag.diag(ag.tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    x = _t(input)
    if x.ndim == 1:
        return diag_embed(x, offset=diagonal)
    if x.ndim == 2:
        return globals()["diagonal"](x, offset=diagonal)
    raise OpError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(x.shape)}")


def diagflat(input, offset=0):  # noqa: A002
    """The flattened input on the ``offset``-th diagonal of a square matrix.

    >>> ag.diagflat(ag.tensor([[1, 2]]))
    tensor([[1, 0],
            [0, 2]])
    """
    return diag_embed(_t(input).reshape(-1), offset=offset)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (row, column) indices of the lower triangle of a row x col matrix, as a 2 x N int64 tensor.

    >>> ag.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]])
    """
    r, c = np.tril_indices(row, offset, col)
    return Tensor(np.stack([r, c]).astype(dtype or np.int64))


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (row, column) indices of the upper triangle of a row x col matrix, as a 2 x N int64 tensor.

    >>> ag.triu_indices(3, 3, 1)
    tensor([[0, 0, 1],
            [1, 2, 2]])
    """
    r, c = np.triu_indices(row, offset, col)
    return Tensor(np.stack([r, c]).astype(dtype or np.int64))


def broadcast_shapes(*shapes):
    """The shape that tensors of the given shapes broadcast to.

    >>> ag.broadcast_shapes((3, 1), (1, 4))
    Size([3, 4])
    """
    try:
        return Size(np.broadcast_shapes(*[tuple(s) if isinstance(s, (tuple, list)) else (int(s),) for s in shapes]))
    except ValueError:
        raise OpError(f"broadcast_shapes: shapes {shapes} can't be broadcast together") from None


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``steps`` points from base**start to base**end, evenly spaced in the exponent.

    >>> ag.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    out = np.logspace(float(start), float(end), int(steps), base=base).astype(dtype or get_default_dtype())
    return Tensor(out, requires_grad=requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``s`` (default dtype float32).

    >>> ag.scalar_tensor(3)
    tensor(3.)
    """
    return Tensor(np.asarray(s, dtype=dtype or get_default_dtype()), requires_grad=requires_grad)


def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    """The n-th forward difference out[i] = x[i + 1] - x[i] along ``dim`` (after joining ``prepend`` and
    ``append``).

    >>> ag.diff(ag.tensor([1, 4, 9, 16]))
    tensor([3, 5, 7])
    """
    x = _t(input)
    d = _dim(dim, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        parts = [_t(p) if _t(p).ndim == x.ndim else
                 S.broadcast_to(_t(p).reshape((1,) * x.ndim),
                                tuple(1 if i == d else s for i, s in enumerate(x.shape))) for p in parts]
        x = S.concatenate(parts, dim=d)
    for _ in range(int(n)):
        m = x.shape[d]
        a, b = _slice(x, d, 1, m), _slice(x, d, 0, builtins.max(m - 1, 0))
        x = (a != b) if x._data.dtype == np.bool_ else a - b
    return x


# -- in-place shape changes ------------------------------------------------------------------------
def _metadata_inplace(name, outofplace, example, result):
    def op_(self, *args, **kwargs):
        new = outofplace(self, *args, **kwargs)
        if self.requires_grad and new.requires_grad and new._node is not None:
            raise RuntimeError(f"{name}: changing the shape of a tensor that requires grad in place is not "
                               f"supported here; use x = x.{name[:-1]}(...)")
        self._data = new._data
        return self
    op_.__name__ = name
    op_.__doc__ = (f"In place: give this tensor the shape of ``t.{name[:-1]}(...)`` (same storage); returns "
                   f"``t``. Not for a tensor with history (use the out-of-place form).\n\n"
                   f"    >>> t = ag.zeros(2, 3)\n    >>> {example}\n    {result}\n")
    return op_


def _trace(self):
    """The sum of the main diagonal of a 2-D tensor (``torch.trace(x)``; here ``ag.trace`` is the tape tracer,
    so write ``x.trace()``).

    >>> ag.tensor([[1.0, 2.0], [3.0, 4.0]]).trace()
    tensor(5.)
    """
    if self.ndim != 2:
        raise OpError(f"trace: expected a 2-D tensor, got shape {tuple(self.shape)}")
    return diagonal(self).sum()


def _detach_(self):
    """In place: make this tensor a leaf that does not require grad (cut from its history); returns it.

    >>> t = ag.ones(2, requires_grad=True) * 2
    >>> t.detach_().requires_grad, t.grad_fn
    (False, None)
    """
    self._node = None
    self.requires_grad = False
    return self


def _resize_(self, *sizes):
    """In place: give this tensor ``sizes`` (elements kept in order; new ones are zero, as PyTorch's
    uninitialised memory is unspecified); returns it.

    >>> ag.arange(6).resize_(2, 2)
    tensor([[0, 1],
            [2, 3]])
    """
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    n = int(np.prod(sizes))
    flat = self._data.reshape(-1)
    new = np.zeros(n, self._data.dtype)
    new[:builtins.min(n, flat.size)] = flat[:n]
    self._data = new.reshape(sizes)
    return self


for _name, _fn in dict(roll=roll, rot90=rot90, movedim=movedim, moveaxis=moveaxis, swapdims=swapdims,
                       unflatten=unflatten, ravel=ravel, narrow=narrow, select=select, unbind=unbind,
                       tensor_split=tensor_split, hsplit=hsplit, vsplit=vsplit, dsplit=dsplit,
                       repeat_interleave=repeat_interleave, fliplr=fliplr, flipud=flipud, unfold=_unfold,
                       diag=diag, diagonal=diagonal, diag_embed=diag_embed, diagflat=diagflat, diff=diff, detach_=_detach_, trace=_trace,
                       resize_=_resize_).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)
for _name, _f, _ex, _res in (("unsqueeze_", S.unsqueeze, "t.unsqueeze_(0).shape", "(1, 2, 3)"),
                             ("squeeze_", S.squeeze, "t.unsqueeze_(0).squeeze_().shape", "(2, 3)"),
                             ("t_", lambda x: S.transpose(x, 0, 1) if x.ndim == 2 else x, "t.t_().shape", "(3, 2)"),
                             ("transpose_", S.transpose, "t.transpose_(0, 1).shape", "(3, 2)"),
                             ("swapdims_", S.transpose, "t.swapdims_(0, 1).shape", "(3, 2)"),
                             ("swapaxes_", S.transpose, "t.swapaxes_(0, 1).shape", "(3, 2)")):
    if not hasattr(Tensor, _name):
        method(_name, _metadata_inplace(_name, _f, _ex, _res))

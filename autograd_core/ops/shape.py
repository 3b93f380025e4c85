"""Shape ops: reshape, broadcast, permute, squeeze, concatenate, stack, split, pad, flip, tile, cast.

These move or copy values without arithmetic, so every VJP is the inverse movement.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from ..errors import OpError
from .. import layouts as _layouts
from ..dtypes import as_dtype
from ..tensor import Tensor, _check_dtype
from .registry import defop, method, xp


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(map(int, shape))
    except (TypeError, ValueError):
        raise TypeError(f"{op}: shape must be ints, got {shape!r}") from None


def _dim(d, ndim, op):
    """``d`` as a non-negative dim of a tensor with ``ndim`` dims (a 0-d tensor takes 0 and -1, as PyTorch)."""
    n = builtins.max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{op}: dim {d} is out of range for a tensor of {ndim} dimension(s)")
    return d % n


# -- reshape -----------------------------------------------------------------------------------
def _reshape(x, shape):
    try:
        return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)
    except ValueError:
        raise OpError(f"reshape: shape {tuple(x.shape)} ({x.size} elements) can't be reshaped "
                         f"to {tuple(shape)}") from None


_reshape_op = defop("reshape", _reshape, (lambda g, ans, x, shape: g.reshape(x.shape),), uses=(), view=True)


def reshape(x, *shape):
    """``x`` with a new shape of the same number of elements (one entry may be -1: inferred); a view
    sharing ``x``'s storage where NumPy can make one, else a copy.

    The gradient is reshaped back. PyTorch: ``torch.reshape`` / ``Tensor.view`` (both names work).

    >>> import autograd_core as ag
    >>> x = ag.arange(6)
    >>> x.reshape(2, 3)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    >>> ag.reshape(x, (3, -1)).shape
    (3, 2)
    """
    shape = _shape_arg(shape, "reshape")
    return _reshape_op(x, shape=shape)   # a new tensor even for the same shape, as PyTorch


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim`` .. ``end_dim`` (inclusive) into one: (2, 3, 4) with ``start_dim=1`` ->
    (2, 12); a 0-d tensor becomes shape (1,).

    The gradient is reshaped back. PyTorch: ``torch.flatten``.

    >>> import autograd_core as ag
    >>> ag.flatten(ag.zeros(2, 3, 4), 1).shape
    (2, 12)
    >>> ag.flatten(ag.zeros(2, 3, 4)).shape
    (24,)
    """
    nd = x.ndim
    if nd == 0:
        return _reshape_op(x, shape=(1,))
    s, e = _dim(start_dim, nd, "flatten"), _dim(end_dim, nd, "flatten")
    if s > e:
        raise OpError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape
    return _reshape_op(x, shape=shape[:s] + (-1,) + shape[e + 1:])


def squeeze(x, dim=None, axis=None):
    """Drop the size-1 dims (all of them, or only those among ``dim``, an int or a tuple; a named dim
    that is not of size 1 stays).

    The gradient is reshaped back. PyTorch: ``torch.squeeze``.

    >>> import autograd_core as ag
    >>> x = ag.zeros(1, 3, 1)
    >>> ag.squeeze(x).shape, x.squeeze(0).shape, x.squeeze(1).shape
    ((3,), (3, 1), (1, 3, 1))
    """
    dim = axis if dim is None else dim
    if dim is None:
        return _reshape_op(x, shape=tuple(s for s in x.shape if s != 1))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = {_dim(d, x.ndim, "squeeze") for d in dims}
    return _reshape_op(x, shape=tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1)))


def unsqueeze(x, dim):
    """Insert a size-1 dim at position ``dim`` of the result (negative counts from the result's end).

    The gradient is reshaped back. PyTorch: ``torch.unsqueeze``; NumPy's name ``expand_dims`` is the
    same function.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0])
    >>> x.unsqueeze(0).shape, ag.unsqueeze(x, -1).shape
    ((1, 2), (2, 1))
    """
    try:
        dim = operator.index(dim)
    except TypeError:
        raise TypeError(f"unsqueeze: dim must be an int, got {type(dim).__name__}") from None
    shape = x.shape
    nd = len(shape) + 1
    if not -nd <= dim < nd:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for a result of {nd} dimensions")
    d = dim % nd
    return _reshape_op(x, shape=shape[:d] + (1,) + shape[d:])


expand_dims = unsqueeze


# -- broadcasting ------------------------------------------------------------------------------
def _broadcast_to(x, shape):
    try:
        out = np.broadcast_to(x, shape)
        if x.flags.writeable and all(st != 0 or n <= 1 for st, n in zip(out.strides, out.shape)):
            # no two elements share memory (only size-1 dims were added): writable, as in PyTorch
            out = np.lib.stride_tricks.as_strided(x, shape=out.shape, strides=out.strides, writeable=True)
        return out
    except ValueError:
        raise OpError(f"broadcast_to: shape {tuple(np.shape(x))} can't be broadcast to {tuple(shape)}") from None


# The VJP returns g as it is; the engine's central un-broadcast sums it back to x's shape.
_broadcast_op = defop("broadcast_to", _broadcast_to, (lambda g, ans, x, shape: g,), uses=(), view=True)


def broadcast_to(x, *shape):
    """``x`` broadcast to ``shape`` (NumPy's rules: size-1 dims repeat, new dims are added in front); a
    read-only view where elements repeat. ``x`` itself when the shape is already ``shape``.

    The gradient is summed back over the broadcast dims. PyTorch: ``torch.broadcast_to``.

    >>> import autograd_core as ag
    >>> ag.broadcast_to(ag.tensor([1, 2, 3]), (2, 3))
    tensor([[1, 2, 3],
            [1, 2, 3]])
    """
    shape = _shape_arg(shape, "broadcast_to")
    if shape == x.shape:
        return x
    return _broadcast_op(x, shape=shape)


def _xp_broadcast_to(x, shape):
    if isinstance(x, Tensor):
        return broadcast_to(x, shape)
    if x.shape == shape:
        return x
    # Materialize instead of np.broadcast_to (a Python-level function, slow for the small arrays of
    # per-op overhead); the result feeds further rules that would allocate this size anyway.
    out = np.empty(shape, dtype=x.dtype)
    np.copyto(out, x)
    return out


xp.broadcast_to = _xp_broadcast_to


def expand(x, *sizes):
    """Broadcast to ``sizes`` (a -1 keeps that dim's size; new dims are added in front): ``broadcast_to``
    with PyTorch's -1.

    The gradient is summed back over the broadcast dims. PyTorch: ``Tensor.expand``.

    >>> import autograd_core as ag
    >>> ag.tensor([[1], [2]]).expand(-1, 3)
    tensor([[1, 1, 1],
            [2, 2, 2]])
    """
    sizes = _shape_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise OpError(f"expand: the number of sizes {len(sizes)} is less than the tensor's dims {x.ndim}")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape, as a tuple (see ``broadcast_to``).

    PyTorch: ``torch.broadcast_tensors``.

    >>> import autograd_core as ag
    >>> a, b = ag.broadcast_tensors(ag.tensor([1, 2]), ag.tensor([[10], [20]]))
    >>> a.shape, b.shape
    ((2, 2), (2, 2))
    """
    shape = np.broadcast_shapes(*[t.shape for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


# -- permutations ------------------------------------------------------------------------------
def _inverse(axes):
    """The permutation that undoes ``axes``."""
    inv = [0] * len(axes)
    for i, a in enumerate(axes):
        inv[a] = i
    return tuple(inv)


_permute_op = defop("permute", lambda x, axes: x.transpose(axes),
                    (lambda g, ans, x, axes: xp.permute(g, _inverse(axes)),), uses=(), view=True)
xp.permute = lambda g, axes: permute(g, axes) if isinstance(g, Tensor) else np.transpose(g, axes)


def permute(x, *dims):
    """Reorder the dims: the result's dim i is ``x``'s dim ``dims[i]`` (``dims`` a permutation, as
    separate ints or one tuple); a view.

    The gradient is permuted back. PyTorch: ``torch.permute``.

    >>> import autograd_core as ag
    >>> ag.zeros(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    dims = _shape_arg(dims, "permute")
    n = x.ndim
    axes = tuple(d + n if d < 0 else d for d in dims)
    ident = tuple(range(n))
    if sorted(axes) != list(ident):     # also catches a wrong count and dims out of range
        raise OpError(f"permute: {dims} is not a permutation of the {n} dims of shape {tuple(x.shape)}")
    if axes == ident:
        return x
    return _permute_op(x, axes=axes)


def transpose(x, dim0=None, dim1=None):
    """``transpose(x, dim0, dim1)`` swaps two dims (PyTorch); ``transpose(x)`` reverses all dims and
    ``transpose(x, axes)`` permutes them (NumPy); a view.

    The gradient is transposed back. PyTorch: ``torch.transpose``.

    >>> import autograd_core as ag
    >>> x = ag.zeros(2, 3, 4)
    >>> x.transpose(0, 2).shape, ag.transpose(x).shape
    ((4, 3, 2), (4, 3, 2))
    """
    if dim0 is None and dim1 is None:
        return permute(x, tuple(range(x.ndim))[::-1])
    if dim1 is None:
        return permute(x, dim0)  # a full permutation, numpy style
    return swapaxes(x, dim0, dim1, _op="transpose")


def swapaxes(x, axis0, axis1, *, _op="swapaxes"):
    """Swap dims ``axis0`` and ``axis1``; a view.

    The gradient is swapped back. PyTorch: ``torch.swapaxes`` (= ``transpose(x, axis0, axis1)``).

    >>> import autograd_core as ag
    >>> ag.swapaxes(ag.zeros(2, 3), 0, 1).shape
    (3, 2)
    """
    a, b = _dim(axis0, x.ndim, _op), _dim(axis1, x.ndim, _op)
    if x.ndim == 0:
        return x
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return permute(x, tuple(perm))


def _T(self):
    """The tensor with its dims reversed (a matrix's transpose); a view. PyTorch: ``Tensor.T``.

    >>> import autograd_core as ag
    >>> ag.tensor([[1, 2, 3], [4, 5, 6]]).T
    tensor([[1, 4],
            [2, 5],
            [3, 6]])
    """
    n = self.ndim
    if n < 2:
        return self
    return _permute_op(self, axes=tuple(range(n - 1, -1, -1)))


def _mT(self):
    """The last two dims swapped (a batch of matrices, each transposed); a view. PyTorch: ``Tensor.mT``.

    >>> import autograd_core as ag
    >>> ag.zeros(5, 2, 3).mT.shape
    (5, 3, 2)
    """
    return swapaxes(self, -1, -2)


# -- joining and splitting ---------------------------------------------------------------------
def _concat(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def _concat_vjp(g, ans, *xs, needs, axis=0):
    out, start = [], 0
    for x, need in zip(xs, needs):
        n = x.shape[axis]
        if need:
            idx = (slice(None),) * axis + (slice(start, start + n),)
            out.append(g[idx])
        else:
            out.append(None)
        start += n
    return out


_concat_op = defop("concatenate", _concat, vjp=_concat_vjp, uses=())


def _check_same(tensors, op, axis, skip_axis):
    shapes = [t._data.shape for t in tensors]
    s0 = shapes[0]
    if len({len(s) for s in shapes}) != 1:
        raise OpError(f"{op}: all tensors need the same number of dims, got shapes {shapes}")
    rest = s0[:axis] + s0[axis + 1:] if skip_axis else s0
    for s in shapes[1:]:
        if (s[:axis] + s[axis + 1:] if skip_axis else s) != rest:
            raise OpError(f"{op}: shapes {s0} and {s} don't match outside axis {axis}")


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors (shapes equal except along ``dim``) along the existing dim ``dim`` (``axis`` is
    NumPy's name).

    Each input gets its slice of the gradient. PyTorch: ``torch.cat``; ``concatenate`` is the same.

    >>> import autograd_core as ag
    >>> ag.cat([ag.tensor([[1, 2]]), ag.tensor([[3, 4], [5, 6]])], dim=0)
    tensor([[1, 2],
            [3, 4],
            [5, 6]])
    """
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise OpError("concatenate: expected a non-empty list of tensors")
    axis = dim if dim is not None else axis
    if tensors[0].ndim == 0:
        raise OpError("concatenate: 0-d tensors can't be concatenated; use stack")
    axis = _dim(axis, tensors[0].ndim, "concatenate")
    _check_same(tensors, "concatenate", axis, True)
    return _concat_op(*tensors, axis=axis)


cat = concatenate


def _stack(*xs, axis=0):
    return np.stack(xs, axis=axis)


def _stack_vjp(g, ans, *xs, needs, axis=0):
    return [g[(slice(None),) * axis + (i,)] if need else None for i, need in enumerate(needs)]


_stack_op = defop("stack", _stack, vjp=_stack_vjp, uses=())


def stack(tensors, axis=0, *, dim=None):
    """Stack tensors of one shape along a new dim ``dim`` (``axis`` is NumPy's name): n tensors of shape
    S give shape S with n inserted at ``dim``.

    Each input gets its slice of the gradient. PyTorch: ``torch.stack``.

    >>> import autograd_core as ag
    >>> ag.stack([ag.tensor([1, 2]), ag.tensor([3, 4])], dim=1)
    tensor([[1, 3],
            [2, 4]])
    """
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise OpError("stack: expected a non-empty list of tensors")
    axis = dim if dim is not None else axis
    axis = _dim(axis, tensors[0].ndim + 1, "stack")
    _check_same(tensors, "stack", axis, False)
    return _stack_op(*tensors, axis=axis)


def split(x, split_size_or_sections, dim=0):
    """Split ``x`` along ``dim`` into a tuple of views: an int is each piece's size (the last may be
    smaller), a list gives the sizes (they must add up to the dim's size).

    PyTorch: ``torch.split`` (NumPy's ``split`` takes a count or split points instead).

    >>> import autograd_core as ag
    >>> x = ag.arange(5)
    >>> ag.split(x, 2)
    (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    >>> x.split([1, 4])
    (tensor([0]), tensor([1, 2, 3, 4]))
    """
    dim = _dim(dim, x.ndim, "split")
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise OpError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - s) for s in range(0, n, step)]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise OpError(f"split: sizes {sizes} don't add up to {n}, the size of dim {dim}")
    out, start = [], 0
    for s in sizes:
        out.append(x[(slice(None),) * dim + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    """Split ``x`` along ``dim`` into at most ``chunks`` views of size ceil(n / chunks) (the last may be
    smaller, and there may be fewer pieces), as a tuple.

    PyTorch: ``torch.chunk``.

    >>> import autograd_core as ag
    >>> ag.chunk(ag.arange(5), 3)
    (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    if chunks <= 0:
        raise OpError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, max(1, -(-n // chunks)), dim)


# -- pad, flip, tile ---------------------------------------------------------------------------
def _pad(x, pad_width, value=0.0):
    return np.pad(x, pad_width, mode="constant", constant_values=value)


_pad_op = defop("pad", _pad,
                (lambda g, ans, x, pad_width, value=0.0:
                 g[tuple(slice(b, b + s) for (b, a), s in zip(pad_width, x.shape))],), uses=())


def pad(x, pad, value=0.0, mode="constant"):
    """Pad ``x`` with the constant ``value``. ``pad`` is PyTorch's flat tuple ``(left, right, top,
    bottom, ...)`` starting at the last dim, or NumPy's ``((before, after), ...)`` with one pair per
    dim. Only ``mode='constant'`` and non-negative widths are supported.

    The gradient is the unpadded slice. PyTorch: ``torch.nn.functional.pad``.

    >>> import autograd_core as ag
    >>> ag.pad(ag.tensor([[1, 2]]), (1, 0, 0, 1))
    tensor([[0, 1, 2],
            [0, 0, 0]])
    """
    if mode != "constant":
        raise OpError(f"pad: only mode='constant' is supported, got {mode!r}")
    if builtins.any(isinstance(p, (tuple, list)) for p in pad):
        widths = [tuple(int(v) for v in p) for p in pad]
        if len(widths) != x.ndim:
            raise OpError(f"pad: got {len(widths)} (before, after) pairs for a tensor of {x.ndim} dims")
    else:
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise OpError(f"pad: a flat pad must have an even length of at most 2*{x.ndim}, got {len(pad)}")
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if builtins.any(b < 0 or a < 0 for b, a in widths):
        raise OpError(f"pad: negative padding {widths} is not supported")
    return _pad_op(x, pad_width=tuple(widths), value=value)


def _flip(x, axis):
    return np.flip(x, axis=axis).copy()   # a copy, as PyTorch's flip (NumPy's is a view)


_flip_op = defop("flip", _flip, (lambda g, ans, x, axis: xp.flip(g, axis=axis),), uses=())


def flip(x, dims=None, *, axis=None):
    """Reverse the order of elements along ``dims`` (an int or a tuple; all dims if None).

    The gradient is flipped back. PyTorch: ``torch.flip`` (there ``dims`` is required).

    >>> import autograd_core as ag
    >>> ag.flip(ag.tensor([[1, 2], [3, 4]]), 1)
    tensor([[2, 1],
            [4, 3]])
    """
    dims = axis if dims is None else dims
    if dims is None:
        dims = tuple(range(x.ndim))
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return _flip_op(x, axis=tuple(_dim(d, x.ndim, "flip") for d in dims))


def _xp_flip(x, axis):
    return _flip_op(x, axis=axis) if isinstance(x, Tensor) else np.flip(x, axis=axis)


xp.flip = _xp_flip


def _tile_vjp(g, ans, x, reps):
    nd = len(reps)
    xs = (1,) * (nd - x.ndim) + tuple(x.shape)
    inter = []
    for r, s in zip(reps, xs):
        inter += [r, s]
    return g.reshape(tuple(inter)).sum(axis=tuple(range(0, 2 * nd, 2))).reshape(x.shape)


_tile_op = defop("tile", lambda x, reps: np.tile(x, reps), (_tile_vjp,), uses=())


def tile(x, reps):
    """Repeat the whole tensor ``reps[i]`` times along dim i (``reps`` shorter than ``x.ndim`` is padded
    with 1s in front; longer adds dims in front).

    The gradient sums the copies. PyTorch: ``torch.tile`` (NumPy's ``tile``).

    >>> import autograd_core as ag
    >>> ag.tile(ag.tensor([1, 2]), 2)
    tensor([1, 2, 1, 2])
    >>> ag.tile(ag.tensor([[1, 2]]), (2, 1))
    tensor([[1, 2],
            [1, 2]])
    """
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    reps = (1,) * (x.ndim - len(reps)) + reps
    return _tile_op(x, reps=reps)


def repeat(x, *sizes):
    """Repeat the whole tensor ``sizes[i]`` times along dim i (at least ``x.ndim`` sizes; extra ones add
    dims in front): NumPy's ``tile``, not NumPy's ``repeat``.

    The gradient sums the copies. PyTorch: ``Tensor.repeat``.

    >>> import autograd_core as ag
    >>> ag.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < x.ndim:
        raise OpError(f"repeat: got {len(sizes)} sizes for a tensor of {x.ndim} dims")
    return tile(x, sizes)


# -- dtype and copies --------------------------------------------------------------------------
def _astype(x, dtype):
    return x.astype(dtype)


_astype_op = defop("astype", _astype, (lambda g, ans, x, dtype: g.astype(x.dtype),), uses=())
_astype_nograd = defop("astype_int", _astype, differentiable=False, nargs=1)
xp.astype = lambda x, dtype: x.astype(dtype)


def astype(x, dtype):
    """``x`` cast to ``dtype`` (``x`` itself when it has that dtype already); a cast to a floating
    dtype stays on the tape (the gradient is cast back), a cast to an integer or bool dtype cuts it.

    PyTorch: ``Tensor.to(dtype)`` (NumPy: ``astype``).

    >>> import autograd_core as ag
    >>> ag.tensor([1.5, -2.5]).astype(ag.int64)
    tensor([ 1, -2])
    >>> ag.astype(ag.tensor([1, 2]), ag.float64)
    tensor([1., 2.], dtype=float64)
    """
    dt = np.dtype(dtype)
    _check_dtype(dt, "astype")
    if dt == x.dtype:
        return x
    if dt.kind != "f":
        return _astype_nograd(x, dtype=dt)
    return _astype_op(x, dtype=dt)


def _clone(x, layout=None):
    """A copy of x laid out in the memory format ``layout`` (a ``layouts`` constant), or (None, the default)
    as PyTorch's ``preserve_format`` lays it out, so that a clone of a transposed tensor is transposed too
    and a later ``reshape`` or ``view`` copies or fails where PyTorch's does."""
    out = _layouts.empty_in(x.shape, x.dtype, layout or _layouts.preserve_format, like=x)
    np.copyto(out, x)
    return out


_clone_op = defop("clone", _clone, (lambda g, ans, x, layout=None: g,), uses=(), hidden=("layout",))


def clone(x, memory_format=None):
    """A copy of ``x`` with its own storage that stays on the tape (the gradient passes through). The
    copy is laid out as PyTorch's default ``preserve_format`` lays it out: dense, its axes in the order
    of x's strides (a transposed or permuted tensor gives a transposed or permuted copy, a broadcast
    one a C-ordered copy). ``memory_format``: ``ag.contiguous_format``, ``ag.channels_last`` (4-D) or
    ``ag.channels_last_3d`` (5-D) lay the copy out that way instead (see ``autograd_core.layouts``).

    PyTorch: ``torch.clone``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.clone()
    >>> y
    tensor([1., 2.], grad_fn=<CloneBackward>)
    >>> ag.zeros(3, 2).T.clone().stride(), ag.zeros(3, 2).T.clone(memory_format=ag.contiguous_format).stride()
    ((1, 2), (3, 1))
    """
    fmt = _layouts.check(memory_format, x.ndim, "clone")
    return _clone_op(x) if fmt is _layouts.preserve_format else _clone_op(x, layout=fmt)


def _view_dtype_fwd(x, dtype):
    if x.dtype.itemsize != dtype.itemsize and x.ndim and x.shape[-1] > 1 and x.strides[-1] != x.itemsize:
        raise OpError(f"view(dtype): the last dim must be contiguous to reinterpret {x.dtype} as {dtype} "
                         f"(strides {x.strides}); call .contiguous() first")
    if x.ndim == 0 and x.dtype.itemsize != dtype.itemsize:
        raise OpError(f"view(dtype): a 0-d tensor of {x.dtype} can't be viewed as {dtype} (another element size)")
    if x.ndim and (x.shape[-1] * x.dtype.itemsize) % dtype.itemsize:
        raise OpError(f"view(dtype): the last dim ({x.shape[-1]} x {x.dtype.itemsize} bytes) does not split into "
                         f"{dtype} elements ({dtype.itemsize} bytes)")
    return x.view(dtype)


_view_dtype_op = defop("view_dtype", _view_dtype_fwd, differentiable=False, nargs=1, view=True)


def view(x, *shape):
    """``x`` with a new shape (as ``reshape``), or, given a dtype, the same memory read as that dtype:
    ``x.view(ag.int32)`` (the last dim scales by the ratio of element sizes; no gradient, writes go
    through to ``x``). PyTorch: ``Tensor.view``.

    >>> import autograd_core as ag
    >>> ag.tensor([1.0, 2.0]).view(ag.int32)
    tensor([1065353216, 1073741824], dtype=int32)
    >>> ag.arange(6).view(2, 3).shape
    (2, 3)
    """
    if (len(shape) == 1 and type(shape[0]) is not int and not isinstance(shape[0], (np.integer, tuple, list))
            and shape[0] is not None):
        try:
            dt = as_dtype(shape[0], "view")
        except (TypeError, ValueError):
            dt = None
        if dt is not None:
            return _view_dtype_op(x, dtype=dt)
    return _reshape_op(x, shape=_shape_arg(shape, "view"))


def _flip_method(self, *dims, axis=None, **kwargs):
    """``Tensor.flip``: the dims as separate ints (``x.flip(0, 1)``), one int, or one tuple / list
    (``x.flip((0, 1))``, ``x.flip(dims=[0])``), as PyTorch's method takes them.

    >>> import autograd_core as ag
    >>> ag.tensor([[1, 2], [3, 4]]).flip(0, 1)
    tensor([[4, 3],
            [2, 1]])
    """
    if "dims" in kwargs:
        if dims:
            raise TypeError("Tensor.flip: give the dims once, positionally or as dims=, not both")
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"Tensor.flip: unexpected keyword argument(s) {sorted(kwargs)}")
    if not dims:
        return flip(self, None, axis=axis)
    return flip(self, dims[0] if len(dims) == 1 else dims, axis=axis)


def _tile_method(self, *dims):
    """``Tensor.tile``: the repetitions as separate ints (``x.tile(2, 1)``) or one tuple (``x.tile((2, 1))``),
    as PyTorch's method takes them.

    >>> import autograd_core as ag
    >>> ag.tensor([[1, 2]]).tile(2, 1)
    tensor([[1, 2],
            [1, 2]])
    """
    if not dims:
        raise TypeError("Tensor.tile: give the repetitions, e.g. x.tile(2, 1) or x.tile((2, 1))")
    return tile(self, dims[0] if len(dims) == 1 else dims)


for _n, _f in dict(reshape=reshape, view=view, flatten=flatten, squeeze=squeeze, unsqueeze=unsqueeze,
                   broadcast_to=broadcast_to, expand=expand, permute=permute, transpose=transpose,
                   swapaxes=swapaxes, flip=_flip_method, tile=_tile_method, repeat=repeat).items():
    method(_n, _f)
method("T", property(_T))
method("mT", property(_mT))


def _expand_as(self, other):
    """This tensor broadcast to ``other``'s shape (``self.expand(other.shape)``). PyTorch:
    ``Tensor.expand_as``.

    >>> import autograd_core as ag
    >>> ag.tensor([1, 2]).expand_as(ag.zeros(2, 2))
    tensor([[1, 2],
            [1, 2]])
    """
    return broadcast_to(self, other.shape)


def _view_as(self, other):
    """This tensor reshaped to ``other``'s shape (``self.view(other.shape)``). PyTorch: ``Tensor.view_as``.

    >>> import autograd_core as ag
    >>> ag.arange(4).view_as(ag.zeros(2, 2))
    tensor([[0, 1],
            [2, 3]])
    """
    return reshape(self, other.shape)


def _reshape_as(self, other):
    """This tensor reshaped to ``other``'s shape (``self.reshape(other.shape)``). PyTorch:
    ``Tensor.reshape_as``.

    >>> import autograd_core as ag
    >>> ag.arange(4).reshape_as(ag.zeros(2, 2))
    tensor([[0, 1],
            [2, 3]])
    """
    return reshape(self, other.shape)


method("expand_as", _expand_as)
method("view_as", _view_as)
method("reshape_as", _reshape_as)


def contiguous(x, memory_format=None):
    """``x`` itself when its values are laid out in C order, else a C-ordered copy (on the tape).
    ``memory_format=ag.channels_last`` (4-D) or ``ag.channels_last_3d`` (5-D) asks for that layout
    instead (see ``autograd_core.layouts``).

    PyTorch: ``Tensor.contiguous``.

    >>> import autograd_core as ag
    >>> x = ag.zeros(2, 3)
    >>> x.contiguous() is x, x.T.is_contiguous(), x.T.contiguous().is_contiguous()
    (True, False, True)
    """
    fmt = _layouts.check(memory_format, x.ndim, "contiguous")
    if fmt is _layouts.preserve_format:
        fmt = _layouts.contiguous_format
    return x if _layouts.is_contiguous_in(x._data, fmt) else _clone_op(x, layout=fmt)


method("astype", astype)
method("clone", clone)
method("contiguous", contiguous)

"""In-place changes on the tape: ``t += u``, ``t[i] = v``, ``t.zero_()``, ``t.copy_(u)``, ...

An in-place op always writes into the tensor's storage, so every alias (views, ``detach()``,
``.data``) sees the new values, and it bumps the storage's version counter. When it is recorded
(grad mode on and something involved requires grad), the new values are computed out of place
on the tape and the tensor takes the new node as its history:

* a tensor that is not a view simply takes the new node;
* a view rebases its base (PyTorch's CopySlices): the base's new node is ``copy_slices``, which
  writes the view's new values into the base's old history, and the view becomes a view of the
  new base. Other views of the base that have history follow it too.
"""
from __future__ import annotations

import numpy as np

from ..errors import OpError
from .. import modes
from ..node import bump, check_inplace, counter, views_with_history, view_chain
from ..dtypes import can_cast as _can_cast
from ..tensor import Tensor, make
from .registry import defop, xp

__all__ = ["write_inplace", "inplace_update"]


def _region(a, chain):
    """The part of array ``a`` that a view with this chain selects (a numpy view of ``a``)."""
    for op, kw in chain:
        a = op.forward(a, **kw)
    return a


def _overlaps_itself(a):
    """True when two elements of ``a`` share memory (a dim of stride 0 and size > 1)."""
    return any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


def _writable(region, owner):
    """``region`` (a view into ``owner``'s memory) as a writable array: a row of an expanded view is
    read-only in NumPy but doesn't overlap itself, so it may be written, as in PyTorch."""
    if region.flags.writeable:
        return region
    if not owner.flags.writeable or not owner.flags.c_contiguous or _overlaps_itself(region):
        return region   # the write below raises; callers check for overlap first
    flat = owner.reshape(-1)
    off = (region.__array_interface__["data"][0] - owner.__array_interface__["data"][0]) // owner.itemsize
    return np.lib.stride_tricks.as_strided(flat[off:], region.shape, region.strides, writeable=True)


def _copy_slices(base, v, chain):
    """base with the view region replaced by v."""
    out = np.array(base, order="C")   # a C-ordered copy (ascontiguousarray would make 0-d 1-d)
    _writable(_region(out, chain), out)[...] = v
    return out


def _zero_region(g, chain):
    """g with the view region set to 0."""
    out = np.array(g, order="C")
    _writable(_region(out, chain), out)[...] = 0
    return out


def _replay(g, chain):
    """The view region of ``g``: numpy views on arrays, the taped view ops on Tensors."""
    if isinstance(g, Tensor):
        for op, kw in chain:
            g = op.fn(g, **kw)
        return g
    return _region(g, chain)


_copy_slices_op = defop("copy_slices", _copy_slices,
                        (lambda g, ans, base, v, chain: xp.zero_region(g, chain=chain),
                         lambda g, ans, base, v, chain: _replay(g, chain)), uses=(), hidden=("chain",))
_zero_region_op = defop("zero_region", _zero_region,
                        (lambda g, ans, x, chain: xp.zero_region(g, chain=chain),), uses=(), hidden=("chain",))


def _readonly_error(opname, t):
    return RuntimeError(f"{opname}: this tensor of shape {tuple(t.shape)} is a broadcast (expanded) view in "
                        f"which several elements share one memory location, so it can't be written in place; "
                        f"clone it first (t = t.clone())")


def _store(t, arr, opname):
    """Write ``arr`` into ``t``'s storage (same shape; dtype cast as PyTorch allows)."""
    dst = t._data
    if arr.shape != dst.shape:
        raise OpError(f"{opname} (in place): the result has shape {tuple(arr.shape)}, which doesn't fit the "
                         f"tensor's shape {tuple(dst.shape)}")
    if arr.dtype != dst.dtype and not _can_cast(arr.dtype, dst.dtype):
        raise TypeError(f"{opname} (in place): the result dtype {arr.dtype} can't be stored in a tensor of dtype "
                        f"{dst.dtype}")
    if not dst.flags.writeable:
        base = getattr(t, "_base", None)
        if _overlaps_itself(dst) or base is None:
            raise _readonly_error(opname, t)
        dst = _writable(dst, base._data)
        if not dst.flags.writeable:
            raise _readonly_error(opname, t)
    np.copyto(dst, arr, casting="unsafe")


def write_inplace(t, new, opname):
    """Make ``t`` hold ``new``'s values (written into its storage) and, when recording, ``new``'s history.

    ``new`` is a Tensor computed out of place (on the tape when recording) from ``t``'s old value.
    """
    recording = modes.state.enabled and (new.requires_grad or t.requires_grad)
    if not recording:
        _store(t, new._data, opname)
        bump(t)
        return t
    check_inplace(t, opname)
    base = getattr(t, "_base", None)
    # the counter first, while t._node is still the node that may have saved t's storage as its output
    counter(t if base is None else base)
    if base is None:
        _store(t, new._data, opname)
        t._node, t.requires_grad = new._node, new.requires_grad
        bump(t)
        _follow(t, skip=None)
        return t
    # a view: rebase the base's history, then rebuild this view (and its siblings) from it
    chain = view_chain(t)
    if new._data.dtype != t._data.dtype:
        new = new.astype(t._data.dtype)
    if _overlaps_itself(t._data):
        raise _readonly_error(opname, t)
    old_base = make(base._data, base.requires_grad, base._node)  # its values are not read by the rules
    nb = _copy_slices_op(old_base, new, chain=chain)
    _store(base, nb._data, opname)
    base._node, base.requires_grad = nb._node, nb.requires_grad
    bump(base)
    _follow(base, skip=t)
    fresh = _replay(base, chain)
    t._node, t.requires_grad = fresh._node, fresh.requires_grad
    return t


def _follow(base, skip):
    """Give every registered view of ``base`` with history a node on the base's new history."""
    for v in views_with_history(base):
        if v is skip:
            continue
        fresh = _replay(base, view_chain(v))
        v._node, v.requires_grad = fresh._node, fresh.requires_grad


def inplace_update(t, outofplace, opname, other_requires_grad=False):
    """``t <- outofplace(t)`` in place: the one path of every in-place op.

    ``outofplace(old)`` computes the new value from a Tensor ``old`` holding ``t``'s current values
    and history (a private copy when recording, so the new node's saved values stay intact).
    """
    if modes.state.enabled and (t.requires_grad or other_requires_grad):
        check_inplace(t, opname)
        old = make(t._data.copy(), t.requires_grad, t._node)
    else:
        old = make(t._data)
    return write_inplace(t, outofplace(old), opname)

"""``torch.autograd.forward_ad``: dual tensors for forward-mode derivatives.

Inside ``with dual_level():``, ``make_dual(x, t)`` gives a tensor that carries the tangent t, and
``unpack_dual(y)`` gives ``(primal, tangent)`` with tangent = J t, the derivative of y along the
tangents of every dual it was computed from. The tangent is computed when asked for, as the derivative
of a vector-Jacobian product (reverse mode twice, as ``func.jvp``), so the values equal PyTorch's
forward mode; each ``unpack_dual`` of a non-dual tensor costs two backward passes. A custom Function
with a ``jvp`` and no ``backward`` is the exception: its outputs are new duals carrying its jvp's tangents.

    >>> import autograd_core as ag
    >>> import autograd_core.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0]))
    ...     y = (x * x).sum()
    ...     fwAD.unpack_dual(y).tangent
    tensor(2.)
"""
from __future__ import annotations

import collections
from typing import Any

import numpy as np

from ..backward import autograd_grad
from ..modes import enable_grad
from ..tensor import Tensor, make

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor"]

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = """(primal, tangent) of a dual tensor, as ``unpack_dual`` returns them.

    >>> UnpackedDualTensor(1, None).tangent is None
    True
    """

_levels: list = []      # per open level: {id(dual): (dual, tangent, whether the user's tensor required grad)}
_deriving = [0]         # > 0 while unpack_dual differentiates (the outputs of jvp-only Functions let it through)


def enter_dual_level() -> int:
    """Open a new dual level (``dual_level`` does it for a ``with`` block); returns its index.

    >>> import autograd_core.autograd.forward_ad as fwAD
    >>> level = fwAD.enter_dual_level(); fwAD.exit_dual_level(level=level); level
    0
    """
    _levels.append({})
    return len(_levels) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the innermost dual level (``level`` must name it, if given): its duals' tangents are gone.

    >>> import autograd_core.autograd.forward_ad as fwAD
    >>> fwAD.exit_dual_level(level=fwAD.enter_dual_level())
    """
    if not _levels:
        raise RuntimeError("exit_dual_level: no dual level is open")
    if level is not None and level != len(_levels) - 1:
        raise RuntimeError(f"exit_dual_level: level {level} is not the innermost one ({len(_levels) - 1})")
    _levels.pop()


class dual_level:
    """Context manager: a dual level for the ``with`` block (``make_dual`` needs one).

    >>> import autograd_core as ag
    >>> import autograd_core.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     fwAD.unpack_dual(fwAD.make_dual(ag.zeros(1), ag.ones(1))).tangent
    tensor([1.])
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _level(level: int | None, name: str) -> dict:
    if not _levels:
        raise RuntimeError(f"{name}: no dual level is open: use `with forward_ad.dual_level():`")
    if level is None:
        return _levels[-1]
    if not 0 <= level < len(_levels):
        raise RuntimeError(f"{name}: dual level {level} is not open")
    return _levels[level]


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor with ``tensor``'s values that carries ``tangent`` (same shape) at the current dual level.
    ``unpack_dual`` gives back ``tangent`` itself when it has the tensor's strides, else a contiguous copy.

    >>> import autograd_core as ag
    >>> import autograd_core.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     fwAD.make_dual(ag.tensor([3.0]), ag.tensor([1.0])).shape
    (1,)
    """
    duals = _level(level, "make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual: expected a tensor and a tangent tensor")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise ValueError(f"make_dual: the tangent's shape {tuple(tangent.shape)} must be the tensor's "
                         f"{tuple(tensor.shape)}")
    if tensor._data.dtype.kind != "f":
        raise ValueError(f"make_dual: expected a floating point tensor, got {tensor._data.dtype.name}")
    user_grad = bool(tensor.requires_grad)
    with enable_grad():
        dual = tensor.view(tuple(tensor.shape)) if user_grad else make(tensor._data).requires_grad_(True)
    # as PyTorch: a tangent laid out as the primal is kept as is (unpack_dual gives it back, the same
    # object); another layout (tangent.T of a contiguous primal) is copied into the primal's layout
    if tuple(tangent.stride()) != tuple(tensor.stride()):
        tangent = tangent.detach().contiguous().clone()
    duals[id(dual)] = (dual, tangent, user_grad)
    return dual


def _function_output(value: Tensor, tangent: Tensor, name: str) -> Tensor:
    """The dual that a custom Function ``name`` with a ``jvp`` and no ``backward`` returns: ``value`` as a new
    leaf of the current level carrying ``tangent`` (its jvp's). A reverse pass that reaches it outside
    ``unpack_dual`` is refused, as PyTorch refuses to run backward through such a Function."""
    duals = _level(None, "make_dual")
    with enable_grad():
        dual = make(value._data).requires_grad_(True)

    def no_backward(grad):
        if not _deriving[0]:
            raise NotImplementedError(f"{name}Backward: you must implement either the backward or vjp method for "
                                      f"the custom autograd.Function {name} to use it with backward mode AD (it "
                                      "defines only jvp, for forward mode)")
    dual.register_hook(no_backward)
    duals[id(dual)] = (dual, tangent, False)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: ``tensor``'s values and its derivative along the duals' tangents (None when it
    depends on no dual of the level).

    >>> import autograd_core as ag
    >>> import autograd_core.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(ag.tensor([0.0]), ag.tensor([2.0]))
    ...     fwAD.unpack_dual(x.exp())
    UnpackedDualTensor(primal=tensor([1.]), tangent=tensor([2.]))
    """
    if not _levels:
        return UnpackedDualTensor(tensor, None)
    duals = _level(level, "unpack_dual")
    entry = duals.get(id(tensor))
    keep_graph = any(u for _, _, u in duals.values())
    if entry is not None and entry[0] is tensor:
        return UnpackedDualTensor(tensor if keep_graph else tensor.detach(), entry[1])
    primal = tensor if keep_graph else tensor.detach()
    if not isinstance(tensor, Tensor) or not tensor.requires_grad or not duals:
        return UnpackedDualTensor(primal, None)
    _deriving[0] += 1
    try:
        return _derive(tensor, primal, duals)
    finally:
        _deriving[0] -= 1


def _derive(tensor, primal, duals):
    inputs = [d for d, _, _ in duals.values()]
    tangents = [t.detach() for _, t, _ in duals.values()]
    with enable_grad():
        u = make(np.zeros(tensor.shape, tensor._data.dtype)).requires_grad_(True)
        gs = autograd_grad(tensor, inputs, grad_outputs=u, create_graph=True, retain_graph=True, allow_unused=True)
        dots = None
        for g, t in zip(gs, tangents):
            if g is not None:
                term = (g * t).sum()
                dots = term if dots is None else dots + term
        if dots is None:
            return UnpackedDualTensor(primal, None)
        if not dots.requires_grad:        # linear in the duals but independent of u: zero tangent
            return UnpackedDualTensor(primal, make(np.zeros(tensor.shape, tensor._data.dtype)))
        (jv,) = autograd_grad(dots, [u], retain_graph=True, allow_unused=True)
    if jv is None:
        jv = make(np.zeros(tensor.shape, tensor._data.dtype))
    return UnpackedDualTensor(primal, jv)

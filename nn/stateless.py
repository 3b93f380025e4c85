"""Run a module with other parameters and buffers: ``functional_call`` (PyTorch's
``torch.func.functional_call`` and ``torch.nn.utils.stateless.functional_call``).

The given tensors take the place of the module's own for the one call (any tensor, not only an
``nn.Parameter``: a gradient flows to them), and the module is restored afterwards, even when the
call raises. With ``torch.func.grad`` this differentiates a model's loss with respect to a dict of
its parameters (meta-learning, per-sample gradients with ``vmap``).

    >>> import autograd_core as ag, nn
    >>> lin = nn.Linear(2, 1)
    >>> params = {"weight": ag.tensor([[1.0, 2.0]]), "bias": ag.tensor([0.5])}
    >>> nn.utils.stateless.functional_call(lin, params, (ag.tensor([[1.0, 1.0]]),))
    tensor([[3.5000]])
"""
from __future__ import annotations

from typing import Any

from autograd_core import Tensor

from .module import Module

__all__ = ["functional_call"]


def _merge(dicts: Any) -> dict[str, Any]:
    if isinstance(dicts, dict):
        return dict(dicts)
    if not isinstance(dicts, (tuple, list)) or not all(isinstance(d, dict) for d in dicts):
        raise TypeError(f"functional_call: parameter_and_buffer_dicts must be a dict of name -> tensor, or a "
                        f"tuple of such dicts, got {type(dicts).__name__}")
    merged: dict[str, Any] = {}
    for d in dicts:
        for k, v in d.items():
            if k in merged:
                raise ValueError(f"functional_call: {k!r} appears in more than one of the dicts; give each name once")
            merged[k] = v
    return merged


def functional_call(module: Module, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: Any = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the parameters and buffers named in ``parameter_and_buffer_dicts``
    (a dict of dotted name -> tensor, or a tuple of dicts) in place of the module's own for this call.
    ``args``: one argument or a tuple of them. ``tie_weights``: a value given for one name of a tied
    parameter (one object under several names) replaces it under every name. ``strict``: every
    parameter and buffer must be given, and nothing else.

    >>> import autograd_core as ag, nn
    >>> net = nn.Linear(1, 1)
    >>> ag.func.functional_call(net, {"weight": ag.tensor([[2.0]]), "bias": ag.tensor([1.0])}, ag.tensor([[3.0]]))
    tensor([[7.]])
    """
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    given = _merge(parameter_and_buffer_dicts)
    own = dict(module.named_parameters(remove_duplicate=False))
    bufs = dict(module.named_buffers(remove_duplicate=False))
    for k, v in given.items():
        if k not in own and k not in bufs:
            raise ValueError(f"functional_call: {type(module).__name__} has no parameter or buffer named {k!r}; "
                             f"its names are {sorted(own) + sorted(bufs)}")
        if v is not None and not isinstance(v, Tensor):
            raise TypeError(f"functional_call: the value for {k!r} must be a tensor, got {type(v).__name__}")
    if strict:
        missing = sorted(set(own) | set(bufs) - set(given))
        if missing:
            raise ValueError(f"functional_call(strict=True): no value given for {missing}")
    if tie_weights:
        by_object: dict[int, list[str]] = {}
        for k, p in list(own.items()) + list(bufs.items()):
            by_object.setdefault(id(p), []).append(k)
        for k in list(given):
            original = own.get(k, bufs.get(k))
            for other in by_object.get(id(original), ()):
                if other not in given:
                    given[other] = given[k]
                elif given[other] is not given[k]:
                    raise ValueError(f"functional_call: {k!r} and {other!r} are tied (one tensor) but were given "
                                     f"different values; give one, or pass tie_weights=False")
    swapped = []
    try:
        for k, v in given.items():
            owner_name, _, name = k.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            slots = owner._parameters if name in owner._parameters else owner._buffers
            swapped.append((slots, name, slots[name]))
            slots[name] = v
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for slots, name, old in reversed(swapped):
            slots[name] = old

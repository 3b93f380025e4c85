"""The optimizer base class: parameter groups, per-parameter state, step / zero_grad, state dicts.

A subclass gives its defaults and two small methods:

* ``_check(group)`` raises ``ValueError`` for a bad hyperparameter (run for every group, also
  for groups added later and for groups loaded from a state dict);
* ``_update(p, g, state, **hyper)`` applies the update rule to one parameter, in place on the
  raw arrays ``p`` (the parameter's data) and ``g`` (its gradient). ``hyper`` holds the group's
  hyperparameters, one keyword per entry of ``defaults``; ``state`` is the parameter's dict.

The base class does the rest exactly as ``torch.optim.Optimizer``: ``step`` runs under
``no_grad`` (re-evaluating ``closure`` with grad enabled first), skips parameters whose
``.grad`` is None and bumps each updated parameter's version counter once, and
``state_dict`` / ``load_state_dict`` use PyTorch's layout with parameters numbered in order.
"""
from __future__ import annotations

import numbers
from collections import defaultdict

import numpy as np

from autograd_core import Tensor, enable_grad, no_grad

__all__ = ["Optimizer", "required"]


class _Required:
    """Marks a hyperparameter that has no default (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class of all optimizers.

    ``params``: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter
    groups) with a ``'params'`` entry and per-group hyperparameters that override ``defaults``.
    """

    _scalar_state = ("step",)  # state entries that are Python scalars; all others are parameter-shaped arrays

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or dicts, got a single Tensor; "
                            "wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: parameters must be in an ordered collection (a set's order changes "
                            "between runs); pass a list")
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    # -- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a dict ``{'params': [...], <hyperparameter>: value, ...}``; missing options take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{self._name}: a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: parameters must be in an ordered collection (a set's order changes "
                            "between runs); pass a list")
        params = list(params)
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):
            group["param_names"] = [str(n) for n, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            _check_param(self._name, i, p)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"{self._name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        self._check(group)
        seen = set()
        for g in self.param_groups:
            seen.update(id(p) for p in g["params"])
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(f"{self._name}: some parameters appear more than once (in one group or in "
                             "more than one parameter group)")
        self.param_groups.append(group)

    def _check(self, group):
        """Raise ValueError for an invalid hyperparameter of ``group`` (subclasses extend)."""
        _nonneg(self._name, group, "lr")

    # -- step ----------------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; return ``closure()`` if given (it is called
        first, with grad enabled, to recompute the loss and the gradients)."""
        self._opt_called = True  # lets a scheduler warn if it is stepped before the optimizer
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                hyper = {k: group[k] for k in self.defaults}
                for p in group["params"]:
                    grad = p.grad
                    if grad is None:
                        continue
                    g = grad._data
                    if g.shape != p._data.shape:
                        raise ValueError(f"{self._name}.step: a parameter of shape {p._data.shape} has a gradient "
                                         f"of shape {g.shape}")
                    self._update(p._data, g, self.state[p], **hyper)
                    p._version += 1
        return loss

    def _update(self, p, g, state, **hyper):
        raise NotImplementedError

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (the default, as PyTorch), or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.requires_grad:
                    # a gradient built with create_graph=True belongs to a graph: detach, don't overwrite it
                    p.grad = Tensor(np.zeros_like(p.grad._data))
                else:
                    p.grad._data[...] = 0

    # -- state dicts ---------------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {name: array or scalar}}, 'param_groups': [{..., 'params': [index, ...]}]}``.

        Parameters are numbered in the order of the groups; arrays are copies, so the dict is a
        snapshot that later steps don't change.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index and s:
                state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a dict made by ``state_dict`` (of an optimizer of the same kind over the same parameters).

        Everything is checked first: groups and sizes must match, every state entry must name a
        parameter and have its shape, and the loaded hyperparameters must be valid. On a mismatch
        one ValueError lists the problems and nothing is changed.
        """
        name = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' entries")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state dict has {len(saved_groups)} parameter group(s) but the optimizer "
                             f"has {len(self.param_groups)}")
        problems = []
        id_map = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_ids = list(saved.get("params", ()))
            if len(saved_ids) != len(group["params"]):
                problems.append(f"group {i} has {len(saved_ids)} parameter(s) in the state dict but "
                                f"{len(group['params'])} in the optimizer")
                continue
            for k, p in zip(saved_ids, group["params"]):
                id_map[_as_int(k)] = p
            new = dict(group)
            for k, v in saved.items():
                if k != "params":
                    new[k] = _restore_value(v, group.get(k))
            try:
                self._check(new)
            except ValueError as e:
                problems.append(f"group {i}: {e}")
            new_groups.append(new)
        new_state = defaultdict(dict)
        for k, entries in state_dict["state"].items():
            p = id_map.get(_as_int(k))
            if p is None:
                problems.append(f"state entry {k} names no parameter of the optimizer")
                continue
            restored = {}
            for key, v in entries.items():
                if key in self._scalar_state or v is None:
                    restored[key] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
                    continue
                v = np.asarray(v)
                if v.shape != p._data.shape:
                    problems.append(f"state entry {k}[{key!r}] has shape {v.shape} but its parameter has "
                                    f"shape {p._data.shape}")
                    continue
                restored[key] = np.array(v, dtype=p._data.dtype if v.dtype.kind in "fiub" else v.dtype, copy=True)
            new_state[p] = restored
        if problems:
            raise ValueError(f"{name}: the state dict doesn't match this optimizer: " + "; ".join(problems))
        for group, new in zip(self.param_groups, new_groups):
            group.clear()
            group.update(new)
        self.state = new_state

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


def _check_param(opt, i, p):
    if not isinstance(p, Tensor):
        raise TypeError(f"{opt}: can only optimize Tensors, but parameter {i} is a {type(p).__name__}")
    if not p.is_leaf:
        raise ValueError(f"{opt}: can't optimize a non-leaf Tensor (parameter {i}, shape {tuple(p.shape)}); "
                         "optimize the leaf it was computed from, or use .detach().requires_grad_()")
    if p._data.dtype.kind != "f":
        raise ValueError(f"{opt}: can only optimize floating point Tensors, but parameter {i} has dtype "
                         f"{p._data.dtype}")


def _as_int(k):
    try:
        return int(k)
    except (TypeError, ValueError):
        return None


def _restore_value(v, like):
    """Undo what a save/load round trip may do to a hyperparameter: 0-d arrays and numpy scalars
    become Python scalars, and a list becomes a tuple where the optimizer holds a tuple (``betas``)."""
    if isinstance(v, (np.ndarray, np.generic)) and np.ndim(v) == 0:
        v = v.item()
    if isinstance(like, tuple) and isinstance(v, (list, tuple)):
        v = tuple(_restore_value(x, y) for x, y in zip(v, like)) if len(v) == len(like) else tuple(v)
    return v


# -- hyperparameter checks, shared by the optimizers -------------------------------------------
def _real(opt, name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{opt}: {name} must be a real number, got {v!r}")
    return v


def _nonneg(opt, group, *names):
    """Each named hyperparameter must be a real number >= 0 (NaN fails too)."""
    for name in names:
        v = _real(opt, name, group[name])
        if not v >= 0:
            raise ValueError(f"{opt}: invalid {name} {v!r}: must be >= 0")


def _unit(opt, group, name, closed=False):
    """``group[name]`` must lie in [0, 1) (or [0, 1] with ``closed``)."""
    v = _real(opt, name, group[name])
    if not (0 <= v <= 1 if closed else 0 <= v < 1):
        raise ValueError(f"{opt}: invalid {name} {v!r}: must be in [0, 1{']' if closed else ')'}")


def _betas(opt, group):
    b = group["betas"]
    if not isinstance(b, (tuple, list)) or len(b) != 2:
        raise ValueError(f"{opt}: betas must be a pair (beta1, beta2), got {b!r}")
    for i, v in enumerate(b):
        _real(opt, f"betas[{i}]", v)
        if not 0 <= v < 1:
            raise ValueError(f"{opt}: invalid betas[{i}] {v!r}: must be in [0, 1)")

"""The optimizer base class: parameter groups, per-parameter state, step / zero_grad, state dicts.

``Optimizer`` is ``torch.optim.Optimizer``: the same constructor, parameter groups, ``step``,
``zero_grad``, ``state_dict`` layout and ``add_param_group``. A subclass gives its defaults and
two small methods:

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

import inspect
import numbers
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Tuple, Union, cast

import numpy as np
from numpy.typing import NDArray

from autograd_core import Tensor, enable_grad, no_grad

__all__ = ["Optimizer", "required", "ParamsT", "StateDict"]

Array = NDArray[Any]
"""A parameter's (or its gradient's, or a state entry's) raw array, updated in place by ``_update``."""

ParamsT = Union[Iterable[Tensor], Iterable[Tuple[str, Tensor]], Iterable[Dict[str, Any]], Dict[str, Any]]
"""What an optimizer accepts as ``params``: Tensors, ``(name, Tensor)`` pairs (``model.named_parameters()``),
or parameter groups (dicts with a ``'params'`` entry), as ``torch.optim.optimizer.ParamsT``."""

StateDict = Dict[str, Any]
"""``{'state': {index: {name: value}}, 'param_groups': [{hyperparameter: value, 'params': [index, ...]}]}``."""


class _Required:
    """Marks a hyperparameter that has no default (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()
"""The default of a hyperparameter that every parameter group must give (``torch.optim.optimizer.required``)."""


# (optimizer class, its defaults' names) -> the names its ``_update`` takes
_HYPER_NAMES: Dict[Tuple[Any, ...], Tuple[str, ...]] = {}


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    ``params``: an iterable of Tensors, of ``(name, Tensor)`` pairs (``model.named_parameters()``),
    or of dicts (parameter groups) with a ``'params'`` entry and per-group hyperparameters that
    override ``defaults``. Parameters must be floating-point leaf Tensors; each appears once.

    Attributes: ``defaults`` (the constructor's hyperparameters), ``param_groups`` (a list of dicts,
    each with ``'params'`` and every hyperparameter; a scheduler rewrites their ``'lr'``) and
    ``state`` (per parameter, a dict of arrays of the parameter's shape and scalars such as
    ``'step'``; empty until the first step).

    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> b = ag.tensor([0.5], requires_grad=True)
    >>> opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1, momentum=0.9)
    >>> [(g["lr"], g["momentum"]) for g in opt.param_groups]
    [(0.1, 0.9), (0.01, 0.9)]

    A new optimizer gives its defaults to ``__init__`` and its rule as ``_update``, which changes
    the parameter's array ``p`` in place from the gradient's array ``g``:

    >>> class SignSGD(optim.Optimizer):
    ...     def __init__(self, params, lr=0.01):
    ...         super().__init__(params, dict(lr=lr))
    ...     def _update(self, p, g, state, lr):
    ...         p -= lr * np.sign(g)
    >>> opt = SignSGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.5000, 1.5000], requires_grad=True)
    """

    _scalar_state: Tuple[str, ...] = ("step",)  # state entries that are Python scalars; all others are parameter-shaped arrays

    def __init__(self, params: ParamsT, defaults: Dict[str, Any]) -> None:
        self.defaults: Dict[str, Any] = dict(defaults)
        self.state: defaultdict[Tensor, Dict[str, Any]] = defaultdict(dict)
        self.param_groups: List[Dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or dicts, got a single Tensor; "
                            "wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: parameters must be in an ordered collection (a set's order changes "
                            "between runs); pass a list")
        if isinstance(params, dict):
            params = [params]
        groups: List[Any] = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    # -- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a parameter group: a dict ``{'params': [...], <hyperparameter>: value, ...}``.

        Hyperparameters it doesn't give take the optimizer's defaults; the group is checked as the
        constructor's are. Use it to start training a layer later (fine-tuning, a growing network).

        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> b = ag.tensor([0.0], requires_grad=True)
        >>> opt = optim.Adam([w], lr=1e-3)
        >>> opt.add_param_group({"params": [b], "lr": 1e-2})
        >>> [(g["lr"], g["betas"]) for g in opt.param_groups]
        [(0.001, (0.9, 0.999)), (0.01, (0.9, 0.999))]
        """
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
        seen: set[int] = set()
        for g in self.param_groups:
            seen.update(id(p) for p in g["params"])
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(f"{self._name}: some parameters appear more than once (in one group or in "
                             "more than one parameter group)")
        self.param_groups.append(group)

    def _check(self, group: Dict[str, Any]) -> None:
        """Raise ValueError for an invalid hyperparameter of ``group`` (subclasses extend)."""
        _nonneg(self._name, group, "lr")

    def _load_state_value(self, key: str, v: Any, p: Tensor) -> Any:
        """State entry ``key`` of parameter ``p`` as loaded from a state dict: a copy in ``p``'s dtype, or
        a Python scalar; ValueError (saying what is wrong) when its shape doesn't fit."""
        if key in self._scalar_state or v is None:
            return v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        v = np.asarray(v)
        want = self._state_shape(key, p._data.shape)
        if v.shape != want:
            raise ValueError(f"has shape {v.shape} but its parameter of shape {p._data.shape} needs {want}")
        return np.array(v, dtype=p._data.dtype if v.dtype.kind in "fiub" else v.dtype, copy=True)

    def _state_shape(self, key: str, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        """The shape of state entry ``key`` for a parameter of ``shape`` (the parameter's own, unless a
        subclass keeps a smaller one, as Adafactor's factored variances)."""
        return shape

    # -- step ----------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place, by the optimizer's rule.

        Parameters whose ``.grad`` is None are skipped. ``closure``, if given, is called first with
        grad enabled (it should zero the gradients, recompute the loss, call ``backward`` and return
        the loss), and its result is returned; without it ``step`` returns None. The update runs
        under ``no_grad`` and bumps each updated parameter's version counter, so a graph that saved
        the old value refuses to run backward.

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()          # grad = 2 w
        >>> opt.step()
        >>> w
        tensor([0.8000, 1.6000], requires_grad=True)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (w * w).sum()
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure)                 # the loss before this step
        tensor(3.2000, grad_fn=<SumBackward>)
        """
        self._opt_called = True  # lets a scheduler warn if it is stepped before the optimizer
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                hyper = {k: group[k] for k in self._hyper_names()}
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

    def _hyper_names(self) -> Tuple[str, ...]:
        """The entries of ``defaults`` that ``_update`` takes: PyTorch's implementation flags (``foreach``,
        ``differentiable``, ``fused``, ...) sit in every group and state dict as PyTorch's do, and reach only an
        update rule that names them. Looked up once per class and set of defaults (``step`` asks every call)."""
        key = (type(self), tuple(self.defaults))
        names = _HYPER_NAMES.get(key)
        if names is None:
            params = inspect.signature(self._update).parameters
            if any(p.kind is p.VAR_KEYWORD for p in params.values()):
                names = tuple(self.defaults)
            else:
                names = tuple(k for k in self.defaults if k in params)
            _HYPER_NAMES[key] = names
        return names

    def _update(self, p: Array, g: Array, state: Dict[str, Any], *args: Any, **hyper: Any) -> None:
        """The update rule: change ``p`` in place (``hyper``: the group's hyperparameters)."""
        raise NotImplementedError(f"{self._name} does not define _update(p, g, state, **hyperparameters)")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (the default, as PyTorch), or, with
        ``set_to_none=False``, fill them with zeros in place.

        Call it before each ``backward``: gradients accumulate.

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.zero_grad()
        >>> print(w.grad)
        None
        >>> (w * w).sum().backward()
        >>> opt.zero_grad(set_to_none=False)
        >>> w.grad
        tensor([0., 0.])
        """
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
    def state_dict(self) -> StateDict:
        """The optimizer's state as a dict, in PyTorch's layout:
        ``{'state': {index: {name: array or scalar}}, 'param_groups': [{..., 'params': [index, ...]}]}``.

        Parameters are numbered in the order of the groups; arrays are copies, so the dict is a
        snapshot that later steps don't change. ``nn.save`` writes it to a file.

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> sd = opt.state_dict()
        >>> sd["state"]
        {0: {'momentum_buffer': array([2., 4.], dtype=float32)}}
        >>> sd["param_groups"][0]["lr"], sd["param_groups"][0]["params"]
        (0.1, [0])
        """
        index: Dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state: Dict[int, Dict[str, Any]] = {}
        for p, s in self.state.items():
            if id(p) in index and s:
                state[index[id(p)]] = {k: _snapshot(v) for k, v in s.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a dict made by ``state_dict`` (of an optimizer of the same kind over the same parameters).

        Everything is checked first: groups and sizes must match, every state entry must name a
        parameter and have its shape, and the loaded hyperparameters must be valid. On a mismatch
        one ValueError lists the problems and nothing is changed. The hyperparameters (``lr``
        included) come from the dict; the arrays are copied into the parameters' dtype.

        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> resumed = optim.SGD([w], lr=0.5, momentum=0.9)
        >>> resumed.load_state_dict(opt.state_dict())
        >>> resumed.param_groups[0]["lr"], resumed.state[w]["momentum_buffer"]
        (0.1, array([2., 4.], dtype=float32))
        """
        name = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' entries")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state dict has {len(saved_groups)} parameter group(s) but the optimizer "
                             f"has {len(self.param_groups)}")
        problems: List[str] = []
        id_map: Dict[int | None, Tensor] = {}
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
        new_state: defaultdict[Tensor, Dict[str, Any]] = defaultdict(dict)
        for k, entries in state_dict["state"].items():
            p = id_map.get(_as_int(k))
            if p is None:
                problems.append(f"state entry {k} names no parameter of the optimizer")
                continue
            restored = {}
            for key, v in entries.items():
                try:
                    restored[key] = self._load_state_value(key, v, p)
                except ValueError as e:
                    problems.append(f"state entry {k}[{key!r}] {e}")
            new_state[p] = restored
        if problems:
            raise ValueError(f"{name}: the state dict doesn't match this optimizer: " + "; ".join(problems))
        for group, new in zip(self.param_groups, new_groups):
            group.clear()
            group.update(new)
        self.state = new_state
        # PyTorch's load_state_dict goes through __setstate__, which adds this default: groups added
        # after a load get it too, in both libraries' state dicts
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


def _check_param(opt: str, i: int, p: Any) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"{opt}: can only optimize Tensors, but parameter {i} is a {type(p).__name__}")
    if not p.is_leaf:
        raise ValueError(f"{opt}: can't optimize a non-leaf Tensor (parameter {i}, shape {tuple(p.shape)}); "
                         "optimize the leaf it was computed from, or use .detach().requires_grad_()")
    if p._data.dtype.kind != "f":
        raise ValueError(f"{opt}: can only optimize floating point Tensors, but parameter {i} has dtype "
                         f"{p._data.dtype}")


def _as_int(k: Any) -> int | None:
    try:
        return int(k)
    except (TypeError, ValueError):
        return None


def _snapshot(v: Any) -> Any:
    """A state value for a state dict: arrays copied, and lists of them (LBFGS's history, which its steps
    change in place) copied one level down."""
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, list):
        return [_snapshot(x) for x in v]
    return v


def _restore_value(v: Any, like: Any) -> Any:
    """Undo what a save/load round trip may do to a hyperparameter: 0-d arrays and numpy scalars
    become Python scalars, and a list becomes a tuple where the optimizer holds a tuple (``betas``)."""
    if isinstance(v, (np.ndarray, np.generic)) and np.ndim(v) == 0:
        v = v.item()
    if isinstance(like, tuple) and isinstance(v, (list, tuple)):
        v = tuple(_restore_value(x, y) for x, y in zip(v, like)) if len(v) == len(like) else tuple(v)
    return v


# -- hyperparameter checks, shared by the optimizers -------------------------------------------
def _real(opt: str, name: str, v: Any) -> float:
    """``v``, if it is a real number (a Python or NumPy int or float, a Fraction, ...), else ValueError."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        hint = (f" (a tensor {name}, which PyTorch keeps for its capturable / compiled steps, is not taken here: pass "
                f"{name}=float(...))") if hasattr(v, "item") and hasattr(v, "shape") else ""
        raise ValueError(f"{opt}: {name} must be a real number, got {v!r}{hint}")
    return cast(float, v)  # any numbers.Real, returned as it is: it compares and computes as a float


def _impl_flags(opt: str, foreach: Any, capturable: Any, differentiable: Any) -> None:
    """PyTorch's implementation switches: ``foreach`` / ``fused`` pick its kernels and ``capturable`` its CUDA
    graphs, and the update is the same either way (here there is one implementation); ``differentiable=True``
    (a step recorded on the tape, for meta-learning) is not available: the update runs in place, off the
    tape, and a silently non-differentiable step would give wrong meta-gradients."""
    if differentiable:
        raise NotImplementedError(f"{opt}: differentiable=True (an optimizer step recorded on the tape) is not "
                                  f"available here: the update runs in place off the tape. Write the update with "
                                  f"tensor ops (p - lr * g) for a differentiable step")


def _nonneg(opt: str, group: Dict[str, Any], *names: str) -> None:
    """Each named hyperparameter must be a real number >= 0 (NaN fails too)."""
    for name in names:
        v = _real(opt, name, group[name])
        if not v >= 0:
            raise ValueError(f"{opt}: invalid {name} {v!r}: must be >= 0")


def _unit(opt: str, group: Dict[str, Any], name: str, closed: bool = False) -> None:
    """``group[name]`` must lie in [0, 1) (or [0, 1] with ``closed``)."""
    v = _real(opt, name, group[name])
    if not (0 <= v <= 1 if closed else 0 <= v < 1):
        raise ValueError(f"{opt}: invalid {name} {v!r}: must be in [0, 1{']' if closed else ')'}")


def _betas(opt: str, group: Dict[str, Any]) -> None:
    b = group["betas"]
    if not isinstance(b, (tuple, list)) or len(b) != 2:
        raise ValueError(f"{opt}: betas must be a pair (beta1, beta2), got {b!r}")
    for i, v in enumerate(b):
        _real(opt, f"betas[{i}]", v)
        if not 0 <= v < 1:
            raise ValueError(f"{opt}: invalid betas[{i}] {v!r}: must be in [0, 1)")


def _adam_moments(state: Dict[str, Any], p: Array, **extra: Any) -> Tuple[int, Array, Array]:
    """Count one more step in an Adam-family state and return (step, exp_avg, exp_avg_sq); a fresh state
    starts at step 0 with zero moments (and ``extra``'s entries, set after ``step`` as PyTorch orders them)."""
    if not state:
        state["step"] = 0
        state.update(extra)
        state["exp_avg"] = np.zeros_like(p)
        state["exp_avg_sq"] = np.zeros_like(p)
    state["step"] += 1
    return state["step"], state["exp_avg"], state["exp_avg_sq"]


def _signed_decayed(p: Array, g: Array, lr: float, weight_decay: float, decoupled: bool, maximize: bool) -> Array:
    """The gradient an Adam-family rule steps on: negated with ``maximize``; with ``weight_decay``, either
    p shrunk in place by ``1 - lr * weight_decay`` (``decoupled``, AdamW's) or ``weight_decay * p`` added
    to the gradient (L2). ``g`` itself is never changed."""
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    return g

"""Parametrizations, as ``torch.nn.utils.parametrize``: a module's parameter or buffer replaced by a
function of other tensors, computed each time it is read.

``register_parametrization(module, "weight", p)`` moves ``module.weight`` into
``module.parametrizations.weight.original`` (or ``original0``, ``original1``, ... when ``p.right_inverse``
returns several tensors) and makes ``module.weight`` a property that returns ``p(original)``: a tensor
expression, so its gradient reaches the originals through the tape. Several parametrizations of one
tensor chain in registration order. The module's class is swapped for a subclass that holds the
property (PyTorch's ``Parametrized<Name>``), and back once the last one is removed. State dict keys
are PyTorch's (``parametrizations.weight.original``, ``parametrizations.weight.0._u``, ...).

    >>> import autograd_core as ag, nn
    >>> class Symmetric(nn.Module):
    ...     def forward(self, x):
    ...         return x.triu() + x.triu(1).mT
    >>> layer = nn.Linear(2, 2)
    >>> _ = nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric())
    >>> w = layer.weight
    >>> bool((w == w.T).all()), type(layer).__name__
    (True, 'ParametrizedLinear')
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from autograd_core import Tensor, no_grad

from .module import Module, ModuleDict, ModuleList
from .parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "type_before_parametrizations", "ParametrizationList"]

_cache_enabled = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Inside, each parametrized tensor is computed once and reused (as ``parametrize.cached()``).

    >>> import autograd_core as ag, nn
    >>> with nn.utils.parametrize.cached():
    ...     pass
    """
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _register(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor (a ``ModuleList``) and its original tensor(s) (``original``, or
    ``original0``, ``original1``, ...); calling it computes the parametrized tensor."""

    def __init__(self, modules: list[Module], original: Tensor, unsafe: bool = False) -> None:
        if not modules:
            raise ValueError("ParametrizationList: give at least one parametrization")
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new: Any = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        if not isinstance(new, (Tensor, tuple, list)):
            raise ValueError(f"register_parametrization: right_inverse must return a tensor or a sequence of "
                             f"tensors, got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if isinstance(new, Tensor) else len(new)
        if isinstance(new, Tensor):
            if new.dtype != original.dtype:
                raise ValueError(f"register_parametrization: right_inverse changed the dtype from {original.dtype} "
                                 f"to {new.dtype}")
            if new is not original:
                with no_grad():
                    if tuple(new.shape) != tuple(original.shape):
                        raise ValueError(f"register_parametrization: right_inverse changed the shape from "
                                         f"{tuple(original.shape)} to {tuple(new.shape)}")
                    original._data[...] = new._data
                    original._version += 1
            _register(self, "original", original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError(f"register_parametrization: right_inverse returned a {type(t).__name__} at "
                                     f"position {i}; it must return tensors")
                t = t.detach().clone()
                if isinstance(original, Parameter):
                    t = Parameter(t, requires_grad=original.requires_grad)
                _register(self, f"original{i}", t)
        if not unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"register_parametrization: the parametrization must return a tensor, got "
                                 f"{type(z).__name__}")
            if tuple(z.shape) != tuple(original.shape) or z.dtype != original.dtype:
                raise ValueError(f"register_parametrization: the parametrization changes the tensor from shape "
                                 f"{tuple(original.shape)} / {original.dtype} to {tuple(z.shape)} / {z.dtype}; pass "
                                 f"unsafe=True if that is intended")

    def right_inverse(self, value: Tensor) -> None:
        """Set the originals so that the parametrization gives ``value`` (``module.weight = value``)."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement right_inverse, so "
                                       f"the parametrized tensor can't be assigned to")
                value = m.right_inverse(value)
            values = (value,) if self.is_tensor else tuple(value)
            names = ["original"] if self.is_tensor else [f"original{i}" for i in range(self.ntensors)]
            if len(values) != len(names):
                raise ValueError(f"right_inverse returned {len(values)} tensor(s), expected {len(names)}")
            for n, v in zip(names, values):
                t = getattr(self, n)
                t._data[...] = v._data if isinstance(v, Tensor) else v
                t._version += 1

    def forward(self) -> Tensor:
        mods = list(self)
        if self.is_tensor:
            x = mods[0](self.original)
        else:
            x = mods[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in mods[1:]:
            x = m(x)
        return x


def _property(name: str) -> property:
    def get(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    return property(get, set_)


def _getstate(self):
    raise RuntimeError("a parametrized module can only be saved through its state_dict(); save "
                       "module.state_dict() (or remove the parametrizations first)")


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (of ``tensor_name``, or of anything).

    >>> import nn
    >>> nn.utils.parametrize.is_parametrized(nn.Linear(2, 2))
    False
    """
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered.

    >>> import nn
    >>> nn.utils.parametrize.type_before_parametrizations(nn.Linear(2, 2)).__name__
    'Linear'
    """
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Parametrize ``module.<tensor_name>`` (a parameter, a buffer, or an already parametrized tensor, whose
    chain grows) by the module ``parametrization``; see the module docstring. ``unsafe=True`` allows a
    parametrization that changes the shape or dtype. Returns ``module``.

    >>> import autograd_core as ag, nn
    >>> class Double(nn.Module):
    ...     def forward(self, x):
    ...         return 2 * x
    >>> m = nn.utils.parametrize.register_parametrization(nn.Linear(1, 1, bias=False), "weight", Double())
    >>> float(m.weight) == 2 * float(m.parametrizations.weight.original)
    True
    """
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an nn.Module, got "
                        f"{type(parametrization).__name__}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe and not plist.unsafe:
            y = getattr(module, tensor_name)
            z = parametrization(y)
            if tuple(z.shape) != tuple(y.shape) or z.dtype != y.dtype:
                raise ValueError(f"register_parametrization: the parametrization changes {tensor_name!r} from "
                                 f"shape {tuple(y.shape)} to {tuple(z.shape)}; pass unsafe=True if that is intended")
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"register_parametrization: {type(module).__name__} has no parameter, buffer or "
                         f"parametrized tensor named {tensor_name!r}")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        cls = type(module)
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"__getstate__": _getstate})
        module.parametrizations = ModuleDict()
    setattr(type(module), tensor_name, _property(tensor_name))
    module.parametrizations[tensor_name] = plist
    return module


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Undo the parametrizations of ``module.<tensor_name>``: it becomes a plain parameter (or buffer) again,
    holding the parametrized value (``leave_parametrized=True``) or the original one. Returns ``module``.

    >>> import nn
    >>> layer = nn.utils.parametrizations.weight_norm(nn.Linear(2, 2))
    >>> layer = nn.utils.parametrize.remove_parametrizations(layer, "weight")
    >>> sorted(n for n, _ in layer.named_parameters()), type(layer).__name__
    (['bias', 'weight'], 'Linear')
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no parametrization of "
                         f"{tensor_name!r}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            if tuple(t.shape) != tuple(original.shape) or t.dtype != original.dtype:
                raise ValueError("remove_parametrizations: the parametrized tensor has another shape or dtype than "
                                 "the original; pass leave_parametrized=False")
            original._data[...] = t._data
            original._version += 1
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: a tensor parametrized by several tensors can't go back to "
                             "its original (leave_parametrized=False); keep leave_parametrized=True")
        with no_grad():
            t = getattr(module, tensor_name)
        first = plist.original0
        original = Parameter(t.detach().clone(), requires_grad=first.requires_grad) if isinstance(first, Parameter) \
            else t.detach().clone()
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module

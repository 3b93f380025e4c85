"""PyTorch's lazy modules: ``LazyLinear``, ``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``,
``LazyBatchNorm1d/2d/3d`` and ``LazyInstanceNorm1d/2d/3d`` infer their input size (``in_features``,
``in_channels``, ``num_features``) from the first input they see.

Until then their parameters are ``UninitializedParameter`` s (and buffers ``UninitializedBuffer`` s):
they are already in ``parameters()``, so an optimizer can be built first, as PyTorch allows. The first
call (or ``load_state_dict``, which reads the sizes from the saved weights) builds the layer the lazy
module stands for, with PyTorch's initialization, fills the same parameter objects in place, and turns
the module into that layer (``type(m)`` is then ``nn.Linear``, ...).

    >>> import autograd_core as ag, nn
    >>> layer = nn.LazyLinear(3)
    >>> layer(ag.ones(2, 5)).shape, type(layer).__name__, layer.weight.shape
    ((2, 3), 'Linear', (3, 5))
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

from .conv1d import Conv1d, ConvTranspose1d
from .layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, InstanceNorm1d, InstanceNorm2d,
                     InstanceNorm3d, Linear)
from .layers3d import Conv3d, ConvTranspose3d
from .module import Module, Parameter
from .more_layers import BatchNorm3d

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyLinear", "LazyConv1d",
           "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]


def _uninitialized(t):
    raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer: run the lazy module "
                       "on an input first (or load a state dict into it)")


class UninitializedParameter(Parameter):
    """A parameter of a lazy module before its first call: no shape yet (``.shape`` raises). ``materialize``
    gives it one in place, after which it is a plain ``Parameter``.

    >>> import nn
    >>> p = nn.UninitializedParameter()
    >>> p.materialize((2, 3)); type(p).__name__, p.shape
    ('Parameter', (2, 3))
    """

    __slots__ = ()

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(np.empty((0,), ag.get_default_dtype() if dtype is None else np.dtype(dtype)),
                         requires_grad=requires_grad)

    @property
    def shape(self):
        """Raises: an uninitialized parameter has no shape."""
        return _uninitialized(self)

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give it ``shape`` (zeros, in its dtype unless ``dtype`` is given) and make it a ``Parameter``."""
        self._data = np.zeros(tuple(shape), self._data.dtype if dtype is None else np.dtype(dtype))
        self.__class__ = Parameter  # type: ignore[assignment]

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__


class UninitializedBuffer(Tensor):
    """A buffer of a lazy module before its first call (``materialize`` as for ``UninitializedParameter``;
    it then becomes a plain Tensor).

    >>> import nn
    >>> b = nn.UninitializedBuffer()
    >>> b.materialize((2,)); type(b).__name__
    'Tensor'
    """

    __slots__ = ()

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__(np.empty((0,), ag.get_default_dtype() if dtype is None else np.dtype(dtype)))

    @property
    def shape(self):
        """Raises: an uninitialized buffer has no shape."""
        return _uninitialized(self)

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give it ``shape`` (zeros) and make it a plain Tensor."""
        self._data = np.zeros(tuple(shape), self._data.dtype if dtype is None else np.dtype(dtype))
        self.__class__ = Tensor  # type: ignore[assignment]

    def __repr__(self):
        return "<UninitializedBuffer>"

    __str__ = __repr__


class LazyModuleMixin:
    """What the lazy modules share (see the module docstring): ``cls_to_become`` is the layer they turn
    into; ``_build(size)`` makes one for input size ``size``; ``_size_of_input(x)`` and
    ``_size_in_state(state_dict, prefix)`` read that size.

    >>> import autograd_core as ag, nn
    >>> layer = nn.LazyLinear(2)
    >>> isinstance(layer, nn.LazyModuleMixin), layer.has_uninitialized_params()
    (True, True)
    >>> _ = layer(ag.ones(1, 3)); isinstance(layer, nn.LazyModuleMixin)
    False
    """

    cls_to_become: type = Module

    def _build(self, size: int) -> Module:
        raise NotImplementedError

    def has_uninitialized_params(self) -> bool:
        """True until the first call (or ``load_state_dict``) has sized the parameters."""
        return any(isinstance(t, (UninitializedParameter, UninitializedBuffer))
                   for t in list(self._parameters.values()) + list(self._buffers.values()))  # type: ignore[attr-defined]

    def _placeholders(self, probe: Module) -> None:
        """Uninitialized stand-ins for ``probe``'s parameters and buffers (None stays None), and its other
        settings (kernel_size, eps, ...) as they are."""
        for k, v in probe.__dict__.items():
            if k not in ("_parameters", "_buffers", "_modules", "_non_persistent", "training") and "hook" not in k:
                self.__dict__.setdefault(k, v)
        me: Any = self      # a Module too (the mixin comes first in the lazy classes' bases)
        for name, p in probe._parameters.items():
            me._parameters[name] = None if p is None else UninitializedParameter(p.requires_grad, dtype=p._data.dtype)
        for name, b in probe._buffers.items():
            me._buffers[name] = None if b is None else UninitializedBuffer(dtype=b._data.dtype)
        me._non_persistent = set(probe._non_persistent)

    def initialize_parameters(self, size: int) -> None:
        """Build the real layer for input size ``size``, copy its values into the placeholders in place, and
        become that layer."""
        real = self._build(int(size))
        training = self.training  # type: ignore[attr-defined]
        for store in ("_parameters", "_buffers"):
            mine = getattr(self, store)
            for name, t in getattr(real, store).items():
                old = mine.get(name)
                if isinstance(old, (UninitializedParameter, UninitializedBuffer)) and t is not None:
                    old.materialize(t._data.shape, dtype=t._data.dtype)
                    old._data[...] = t._data
                    getattr(real, store)[name] = old
        hooks = {k: v for k, v in self.__dict__.items() if "hook" in k}
        self.__dict__.update({k: v for k, v in real.__dict__.items() if k not in hooks})
        self.__class__ = self.cls_to_become
        self.train(training)  # type: ignore[attr-defined]

    def forward(self, input: Tensor, *args: Any, **kwargs: Any) -> Any:
        """Size the layer from ``input`` on the first call, then run the layer it became."""
        self.initialize_parameters(self._size_of_input(input))
        return self.forward(input, *args, **kwargs)

    def _size_of_input(self, x: Tensor) -> int:
        raise NotImplementedError

    def _size_in_state(self, state_dict: Any, prefix: str) -> int | None:
        raise NotImplementedError


def _shape(v):
    return tuple(np.shape(v._data if isinstance(v, Tensor) else v))


class LazyLinear(LazyModuleMixin, Linear):
    """``nn.Linear`` whose ``in_features`` is the last dim of its first input (PyTorch's ``LazyLinear``).

    >>> import autograd_core as ag, nn
    >>> nn.LazyLinear(4, bias=False)(ag.ones(3, 7)).shape
    (3, 4)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        Module.__init__(self)
        self._args = (out_features, bias, device, dtype)
        self._placeholders(Linear(1, out_features, bias, device, dtype))
        self.in_features = 0

    def _build(self, size: int) -> Module:
        out_features, bias, device, dtype = self._args
        return Linear(size, out_features, bias, device, dtype)

    def _size_of_input(self, x: Tensor) -> int:
        return x.shape[-1]

    def _size_in_state(self, state_dict: Any, prefix: str) -> int | None:
        w = state_dict.get(prefix + "weight")
        return None if w is None else _shape(w)[1]


def _lazy_conv(name: str, real: type, transposed: bool, dims: int) -> type:
    def __init__(self, out_channels: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        Module.__init__(self)
        self._args = (out_channels, kernel_size, args, kwargs)
        # groups is the 4th argument after kernel_size in every conv (stride, padding, dilation or
        # output_padding, groups)
        groups = kwargs.get("groups", args[3] if len(args) > 3 else 1)
        self._groups = groups
        self._placeholders(real(groups, out_channels, kernel_size, *args, **kwargs))
        self.in_channels = 0

    def _build(self, size: int) -> Module:
        out_channels, kernel_size, args, kwargs = self._args
        return real(size, out_channels, kernel_size, *args, **kwargs)

    def _size_of_input(self, x: Tensor) -> int:
        return x.shape[1] if x.ndim == dims + 2 else x.shape[0]

    def _size_in_state(self, state_dict: Any, prefix: str) -> int | None:
        w = state_dict.get(prefix + "weight")
        if w is None:
            return None
        return _shape(w)[0] if transposed else _shape(w)[1] * self._groups

    doc = (f"``nn.{real.__name__}`` whose ``in_channels`` is the channel dim of its first input (PyTorch's "
           f"``{name}``); the other arguments are {real.__name__}'s after ``in_channels``.\n\n"
           f"    >>> import autograd_core as ag, nn\n"
           f"    >>> nn.{name}(4, 3)(ag.ones({', '.join(['2', '5'] + ['8'] * dims)})).shape[:2]\n    (2, 4)\n")
    return type(name, (LazyModuleMixin, real), {
        "__init__": __init__, "_build": _build, "_size_of_input": _size_of_input, "_size_in_state": _size_in_state,
        "cls_to_become": real, "__doc__": doc, "__module__": __name__})


LazyConv1d = _lazy_conv("LazyConv1d", Conv1d, False, 1)
LazyConv2d = _lazy_conv("LazyConv2d", Conv2d, False, 2)
LazyConv3d = _lazy_conv("LazyConv3d", Conv3d, False, 3)
LazyConvTranspose1d = _lazy_conv("LazyConvTranspose1d", ConvTranspose1d, True, 1)
LazyConvTranspose2d = _lazy_conv("LazyConvTranspose2d", ConvTranspose2d, True, 2)
LazyConvTranspose3d = _lazy_conv("LazyConvTranspose3d", ConvTranspose3d, True, 3)


def _lazy_norm(name: str, real: type, dims: int) -> type:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        Module.__init__(self)
        self._args = (args, kwargs)
        self._placeholders(real(1, *args, **kwargs))
        self.num_features = 0

    def _build(self, size: int) -> Module:
        args, kwargs = self._args
        return real(size, *args, **kwargs)

    def _size_of_input(self, x: Tensor) -> int:
        # batch norm: (N, C, ...) always; instance norm also takes one unbatched sample (C, ...)
        if real.__name__.startswith("Instance") and x.ndim == dims + 1:
            return x.shape[0]
        return x.shape[1]

    def _size_in_state(self, state_dict: Any, prefix: str) -> int | None:
        for key in ("weight", "running_mean"):
            v = state_dict.get(prefix + key)
            if v is not None:
                return _shape(v)[0]
        return None

    doc = (f"``nn.{real.__name__}`` whose ``num_features`` is the channel dim of its first input (PyTorch's "
           f"``{name}``); the other arguments are {real.__name__}'s after ``num_features``.\n\n"
           f"    >>> import autograd_core as ag, nn\n"
           f"    >>> m = nn.{name}()\n    >>> _ = m(ag.randn({', '.join(['4', '3'] + ['5'] * dims)}))\n"
           f"    >>> m.num_features\n    3\n")
    return type(name, (LazyModuleMixin, real), {
        "__init__": __init__, "_build": _build, "_size_of_input": _size_of_input, "_size_in_state": _size_in_state,
        "cls_to_become": real, "__doc__": doc, "__module__": __name__})


LazyBatchNorm1d = _lazy_norm("LazyBatchNorm1d", BatchNorm1d, 1)
LazyBatchNorm2d = _lazy_norm("LazyBatchNorm2d", BatchNorm2d, 2)
LazyBatchNorm3d = _lazy_norm("LazyBatchNorm3d", BatchNorm3d, 3)
LazyInstanceNorm1d = _lazy_norm("LazyInstanceNorm1d", InstanceNorm1d, 1)
LazyInstanceNorm2d = _lazy_norm("LazyInstanceNorm2d", InstanceNorm2d, 2)
LazyInstanceNorm3d = _lazy_norm("LazyInstanceNorm3d", InstanceNorm3d, 3)

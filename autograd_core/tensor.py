"""The Tensor: an ``np.ndarray`` plus what the tape needs (``requires_grad``, ``grad``, ``grad_fn``).

Operators and methods forward to the op registry in ``autograd_core.ops``; the
methods are attached there, next to each op's forward and VJP, so this file only
holds the data model, construction and dtype rules.
"""
from __future__ import annotations

import math
import re
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict

import numpy as np

from .errors import OpError
from . import devices as _devices
from . import dtypes as _dtypes
from . import graph
from . import layouts as _layouts
from . import shared as _shared
from . import node as _node

if TYPE_CHECKING:
    from .typing import DTypeLike, Number, ShapeLike, TensorLike

__all__ = [
    "Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
    "linspace", "eye", "rand", "randn", "randint", "zeros_like", "ones_like", "full_like",
    "rand_like", "randn_like", "set_default_dtype", "get_default_dtype", "manual_seed",
    "default_generator", "Generator",
    "float32", "float64", "float16", "int32", "int64", "int8", "uint8", "bool_",
]

float16, float32, float64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
int8, uint8, int32, int64, bool_ = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int32),
                                    np.dtype(np.int64), np.dtype(np.bool_))

_default_dtype = float32
_ALLOWED_KINDS = "biuf"  # bool, signed, unsigned, float


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the dtype that Python floats and float lists become, and that ``zeros``/``rand``/... make
    (float32, the initial default, or float64; float16 too), as ``torch.set_default_dtype``.

    >>> import autograd_core as ag
    >>> ag.set_default_dtype(ag.float64)
    >>> ag.tensor([1.5]).dtype
    dtype('float64')
    >>> ag.set_default_dtype(ag.float32)
    """
    global _default_dtype
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dt}")
    _default_dtype = dt


def get_default_dtype() -> np.dtype:
    """The dtype Python floats become and float constructors make (float32 unless changed by
    ``set_default_dtype``), as ``torch.get_default_dtype``.

    >>> import autograd_core as ag
    >>> ag.get_default_dtype()
    dtype('float32')
    """
    return _default_dtype


def _check_dtype(dt, where="tensor"):
    if dt.kind not in _ALLOWED_KINDS:
        raise TypeError(f"{where}: unsupported dtype {dt}; allowed are bool, integer and floating dtypes")


def _to_array(data, dtype=None):
    """Convert ``data`` to an ndarray with PyTorch's dtype rules (floats -> default dtype)."""
    if isinstance(data, Tensor):
        arr = data._data
        return arr if dtype is None else arr.astype(dtype, copy=False)
    if isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
            data = _tensor_free(data)
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:  # ragged nesting: numpy's message talks about "sequences"
            raise OpError(f"tensor: can't build a tensor from {type(data).__name__} data of uneven "
                             f"(ragged) nesting; every row must have the same length ({e})") from None
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(_default_dtype, copy=False)
        elif dtype is None and arr.dtype.kind == "c":
            raise TypeError("tensor: complex data is not supported; allowed are bool, integer and floating dtypes")
        elif dtype is not None and arr.dtype.kind == "f" and np.dtype(dtype).kind in "iu" \
                and not np.isfinite(arr).all():
            raise RuntimeError(f"tensor: NaN or inf in the data can't be converted to {np.dtype(dtype)} (value "
                               "cannot be converted without overflow); use a float dtype")
    if dtype is not None:
        dt = np.dtype(dtype)
        _check_dtype(dt)
        arr = arr.astype(dt, copy=False)
    else:
        _check_dtype(arr.dtype)
    return arr


def _flat(seq):
    for s in seq:
        if isinstance(s, (list, tuple)):
            yield from _flat(s)
        else:
            yield s


def _tensor_free(seq):
    return [(_tensor_free(s) if isinstance(s, (list, tuple)) else (s._data if isinstance(s, Tensor) else s))
            for s in seq]


class Tensor:
    """An n-dimensional array that records the ops applied to it (PyTorch's ``torch.Tensor``).

    Its values are a NumPy array (``t.numpy()``; ``t.data`` is a Tensor alias of them cut from the
    tape, as in PyTorch). ``requires_grad`` marks a tensor whose gradient is wanted; ``grad`` is the
    accumulated gradient, a Tensor (or None before any ``backward``); ``grad_fn`` the tape node that
    produced it, None for leaves. ``Tensor(data)`` wraps ``data`` (sharing an ndarray's memory); prefer
    ``ag.tensor(data)``, which copies.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y
    tensor(30., grad_fn=<SumBackward>)
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
    >>> x.shape, x.dtype, x.is_leaf, y.is_leaf
    ((2, 2), dtype('float32'), True, False)
    """

    # Only data, requires_grad and _node are set on every op result; the rest are read through
    # defaults (properties / getattr) so that making a tensor costs three stores.
    __slots__ = ("_data", "_grad", "requires_grad", "_node", "_vc", "_base", "_view", "_hooks", "_name",
                 "_post_hooks", "__weakref__")
    __array_priority__ = 1000

    if TYPE_CHECKING:
        # The ops attach their methods and operators at import (ops/*.py, via method()); a type
        # checker can't see that, so it is told their shape here.
        def __getattr__(self, name: str) -> Any: ...
        def __getitem__(self, idx: Any) -> Tensor: ...
        def __setitem__(self, idx: Any, value: Any) -> None: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __lshift__(self, other: Any) -> Tensor: ...
        def __rshift__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __invert__(self) -> Tensor: ...
        def __and__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __iadd__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...

    def __init__(self, data, dtype=None, requires_grad=False, name=None):
        arr = _to_array(data, dtype)
        if isinstance(data, np.ndarray) and arr is data and dtype is None:
            pass  # keep the caller's buffer, as torch.from_numpy does
        self._data = arr
        self.requires_grad = False
        self._node = None
        if name is not None:
            self._name = name
        if requires_grad:
            self.requires_grad_(True)

    @property
    def grad(self):
        """The accumulated gradient: a Tensor of this tensor's shape, or None before any ``backward``.
        Each ``backward`` adds to it (``optimizer.zero_grad()`` or ``t.grad = None`` resets it).
        PyTorch: ``Tensor.grad``.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> x.grad is None
        True
        >>> (3 * x).sum().backward()
        >>> x.grad
        tensor([3., 3.])
        """
        try:
            return self._grad
        except AttributeError:
            return None

    @grad.setter
    def grad(self, value):
        # as PyTorch: a number or an array is refused (`p.grad = 0.` would otherwise turn the next
        # accumulation into a broadcast against a 0-d float64 gradient)
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                            f"{type(value).__name__}: to reset it, set it to None or call .grad.zero_()")
        self._grad = value

    @property
    def data(self):
        """This tensor's values as a tensor cut from the tape (an alias: same storage, same version
        counter). ``p.data -= lr * p.grad`` changes ``p`` in place; assigning ``p.data = t`` makes
        ``p`` use ``t``'s values. ``.numpy()`` gives the NumPy array.

        >>> import autograd_core as ag
        >>> p = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> p.data -= 0.5
        >>> p, p.data.requires_grad
        (tensor([0.5000, 1.5000], requires_grad=True), False)
        """
        return graph.alias(self)

    @data.setter
    def data(self, value):
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if arr.shape != self._data.shape and self._node is not None:
            raise RuntimeError(f"data: can't change the shape of a non-leaf tensor from {self.shape} to {arr.shape}")
        self._data = arr
        if isinstance(value, Tensor):
            self._vc = graph.counter(value)
        else:
            self._vc = graph.VersionCounter()

    @property
    def name(self):
        """An optional label (parameters get their dotted name), shown by ``inspect``.

        >>> import autograd_core as ag
        >>> t = ag.zeros(2)
        >>> t.name is None
        True
        >>> t.name = "bias"
        >>> t.name
        'bias'
        """
        try:
            return self._name
        except AttributeError:
            return None

    @name.setter
    def name(self, value):
        self._name = value

    @property
    def _version(self):
        """How many times this tensor's storage was changed in place, through it or any alias
        (PyTorch's ``_version``)."""
        vc = getattr(self, "_vc", None)
        return 0 if vc is None else vc.version

    @_version.setter
    def _version(self, v):
        graph.bump(self, v)

    # -- metadata -------------------------------------------------------------------
    @property
    def shape(self):
        """The tensor's shape, a tuple of ints (PyTorch's ``Tensor.shape``; ``t.size()`` gives it as a
        ``Size``).

        >>> import autograd_core as ag
        >>> ag.zeros(2, 3).shape
        (2, 3)
        """
        return self._data.shape

    @property
    def ndim(self):
        """The number of dims (PyTorch's ``Tensor.ndim``; ``t.dim()`` is the same).

        >>> import autograd_core as ag
        >>> ag.zeros(2, 3).ndim
        2
        """
        return self._data.ndim

    @property
    def size(self):
        """Number of elements, as numpy's ``size``; calling it, ``t.size()`` (a ``Size``) / ``t.size(dim)``,
        gives PyTorch's shape / dim length.

        >>> import autograd_core as ag
        >>> t = ag.zeros(2, 3)
        >>> t.size, t.size(), t.size(1)
        (6, Size([2, 3]), 3)
        """
        return _Size(self._data.size, self._data.shape)

    def numel(self):
        """The number of elements, as ``Tensor.numel``.

        >>> import autograd_core as ag
        >>> ag.zeros(2, 3).numel()
        6
        """
        return self._data.size

    def dim(self):
        """The number of dims, as ``Tensor.dim``.

        >>> import autograd_core as ag
        >>> ag.zeros(2, 3).dim()
        2
        """
        return self._data.ndim

    @property
    def dtype(self):
        """The element type, a NumPy dtype (``ag.float32`` is ``np.dtype('float32')``); PyTorch's
        ``Tensor.dtype``.

        >>> import autograd_core as ag
        >>> ag.tensor([1.0]).dtype, ag.tensor([1]).dtype
        (dtype('float32'), dtype('int64'))
        """
        return self._data.dtype

    @property
    def grad_fn(self):
        """The tape node that produced this tensor (shown as ``<MulBackward>``, ...), or None for a leaf, as
        ``Tensor.grad_fn``.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0], requires_grad=True)
        >>> x.grad_fn is None, (x * 2).grad_fn  # doctest: +ELLIPSIS
        (True, <MulBackward object at 0x...>)
        """
        return self._node

    @property
    def is_leaf(self):
        """True for a tensor no recorded op produced (made by the user, or cut by ``detach``); only leaves
        get ``.grad`` by default. PyTorch: ``Tensor.is_leaf``.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0], requires_grad=True)
        >>> x.is_leaf, (x * 2).is_leaf
        (True, False)
        """
        return self._node is None

    @property
    def device(self):
        """The device this tensor lives on: always ``device('cpu')`` (it compares equal to ``'cpu'``).

        >>> import autograd_core as ag
        >>> ag.zeros(1).device, ag.zeros(1).device == "cpu"
        (device(type='cpu'), True)
        """
        return _CPU

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__  # by identity, like torch.Tensor (``==`` is elementwise)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self._data.size} elements is ambiguous; "
                               "use .any() or .all()")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data)

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self._data.astype(dtype, copy=bool(copy))
        return self._data.copy() if copy else self._data

    # -- conversion ------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number, as ``Tensor.item``.

        >>> import autograd_core as ag
        >>> ag.tensor([2.5]).item(), ag.tensor(3).item()
        (2.5, 3)
        """
        if self._data.size != 1:
            raise OpError(f"item(): only one-element tensors can be converted to Python scalars, "
                             f"got shape {self._data.shape}")
        return self._data.reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists of Python numbers, as ``Tensor.tolist``.

        >>> import autograd_core as ag
        >>> ag.tensor([[1, 2], [3, 4]]).tolist()
        [[1, 2], [3, 4]]
        """
        return self._data.tolist()

    def numpy(self):
        """The NumPy array under the tensor (shared memory, like ``torch.Tensor.numpy``). A non-leaf that
        requires grad is refused (use ``t.detach().numpy()``).

        >>> import autograd_core as ag
        >>> t = ag.tensor([1.0, 2.0])
        >>> a = t.numpy()
        >>> a[0] = 5.0
        >>> t
        tensor([5., 2.])
        """
        if self.requires_grad and graph.is_grad_enabled() and not self.is_leaf:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. Use t.detach().numpy() instead.")
        return self._data

    def detach(self):
        """A new leaf that shares this tensor's storage but is cut from the tape (no ``requires_grad``), as
        ``Tensor.detach``.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0], requires_grad=True)
        >>> y = (x * 2).detach()
        >>> y, y.requires_grad, y.is_leaf
        (tensor([2.]), False, True)
        """
        return graph.alias(self)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return this tensor, as ``Tensor.requires_grad_``. Only
        floating tensors can require grad; only a leaf's flag can be switched off.

        >>> import autograd_core as ag
        >>> w = ag.zeros(2).requires_grad_()
        >>> w.requires_grad
        True
        """
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating point tensors can require gradients, got dtype {self._data.dtype}; "
                            "convert with .float() or .double() first")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (a leaf keeps it anyway); returns None,
        as ``torch.Tensor.retain_grad``.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * 3
        >>> y.retain_grad()
        >>> y.sum().backward()
        >>> y.grad
        tensor([1., 1.])
        """
        if self._node is not None:
            graph.hooks_used()
            self._node.retain_ref = _weakref(self)

    @property
    def retains_grad(self):
        """True for a non-leaf tensor whose ``retain_grad()`` was called (its ``.grad`` is kept), False
        otherwise (leaves included), as ``torch.Tensor.retains_grad``.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0], requires_grad=True)
        >>> y = x * 2
        >>> y.retains_grad, (y.retain_grad(), y.retains_grad)[1], x.retains_grad
        (False, True, False)
        """
        node = self._node
        ref = getattr(node, "retain_ref", None) if node is not None else None
        return ref is not None and ref() is self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after backward has accumulated this leaf's ``.grad`` (the hook may, e.g.,
        step an optimizer for this parameter and clear its grad). Returns a handle with ``remove()``.
        PyTorch: ``Tensor.register_post_accumulate_grad_hook``.

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> seen = []
        >>> h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
        >>> (w * 3).sum().backward()
        >>> seen
        [[3.0, 3.0]]
        >>> h.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors: register "
                               "them on the leaf (a parameter), or use register_hook on this one")
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            hooks = self._post_hooks = []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a non-None return replaces the
        gradient. Returns a handle whose ``remove()`` unregisters it. PyTorch: ``Tensor.register_hook``.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> x.sum().backward()
        >>> x.grad
        tensor([10., 10.])
        >>> h.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            graph.hooks_used()
            hooks = getattr(self._node, "hooks", None)
            if hooks is None:
                hooks = self._node.hooks = []
        else:
            hooks = getattr(self, "_hooks", None)
            if hooks is None:
                hooks = self._hooks = []
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None, explain=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (PyTorch's ``Tensor.backward``).

        ``gradient`` is the upstream gradient (self's shape; required unless self has one element).
        ``retain_graph=True`` keeps the tape for another backward; ``create_graph=True`` records the
        backward itself so the gradients can be differentiated again; ``inputs`` limits which leaves get
        ``.grad``. ``explain=True`` (or a stream/logger) logs each VJP as it runs.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * x
        >>> y.backward(ag.tensor([1.0, 0.5]))
        >>> x.grad
        tensor([2., 2.])
        """
        graph.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                       inputs=inputs, explain=explain)

    def zero_(self):
        """Fill with zeros in place and return this tensor (recorded like PyTorch: the old values get no
        gradient). PyTorch: ``Tensor.zero_``.

        >>> import autograd_core as ag
        >>> ag.tensor([1.0, 2.0]).zero_()
        tensor([0., 0.])
        """
        return self.fill_(0)

    def fill_(self, value):
        """Fill with ``value`` in place (a number, or a one-element tensor that may require grad) and return
        this tensor. PyTorch: ``Tensor.fill_``.

        >>> import autograd_core as ag
        >>> ag.zeros(3).fill_(2.5)
        tensor([2.5000, 2.5000, 2.5000])
        """
        self[...] = value
        return self

    def copy_(self, src, non_blocking=False):
        """Copy ``src``'s values into this tensor in place (broadcast to its shape, cast to its dtype) and
        return it; gradients flow to ``src``. PyTorch: ``Tensor.copy_``.

        >>> import autograd_core as ag
        >>> t = ag.zeros(2, 2)
        >>> t.copy_(ag.tensor([1.0, 2.0]))
        tensor([[1., 2.],
                [1., 2.]])
        """
        try:
            if isinstance(src, Tensor):
                src = src if src.shape == self.shape else src.broadcast_to(self.shape)
            else:
                # cast, not converted: -1 into uint8 wraps to 255 as PyTorch's cast does (NumPy would refuse)
                src = np.broadcast_to(np.asarray(src).astype(self._data.dtype), self.shape)
        except ValueError:
            raise OpError(f"copy_: the source of shape {tuple(np.shape(src))} can't be broadcast to this "
                             f"tensor's shape {tuple(self.shape)}") from None
        self[...] = src
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False, copy=False, memory_format=None, other=None):
        """PyTorch's ``to``: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` (``other``'s
        dtype) or keywords. Returns ``self`` when nothing changes (a copy with ``copy=True``); a cast
        to a float dtype stays on the tape. The only device is the CPU: ``'cuda'``, ``'mps'``, ...
        raise a RuntimeError. ``memory_format`` (``ag.channels_last``, ...: see ``autograd_core.layouts``)
        lays the result out in that format; ``non_blocking`` changes nothing here.

        >>> ag.tensor([1, 2]).to("cpu", ag.float64)
        tensor([1., 2.], dtype=float64)
        """
        dt, copy = _dtypes.parse_to(args + ((other,) if other is not None else ()), device, dtype, non_blocking, copy, "to",
                            Tensor)
        fmt = _layouts.check(memory_format, self._data.ndim, "to")
        out = self if dt is None or dt == self._data.dtype else self.astype(dt)
        if copy and out is self:
            return out.clone(memory_format=fmt)
        if fmt is _layouts.preserve_format:
            return out
        if out is self:     # PyTorch's to() copies only when the strides follow another format's order
            return self if _layouts.suggested(self._data) is fmt else self.clone(memory_format=fmt)
        return out.contiguous(memory_format=fmt)

    def float(self):
        """This tensor cast to float32 (``self.to(ag.float32)``; itself if it is float32
        already); the cast stays on the tape. PyTorch: ``Tensor.float``.

        >>> import autograd_core as ag
        >>> ag.tensor([1, 2]).float()
        tensor([1., 2.])
        """
        return self.astype(float32)

    def double(self):
        """This tensor cast to float64 (``self.to(ag.float64)``; itself if it is float64
        already); the cast stays on the tape. PyTorch: ``Tensor.double``.

        >>> import autograd_core as ag
        >>> ag.tensor([1, 2]).double()
        tensor([1., 2.], dtype=float64)
        """
        return self.astype(float64)

    def half(self):
        """This tensor cast to float16 (``self.to(ag.float16)``; itself if it is float16
        already); the cast stays on the tape. PyTorch: ``Tensor.half``.

        >>> import autograd_core as ag
        >>> ag.tensor([1, 2]).half()
        tensor([1., 2.], dtype=float16)
        """
        return self.astype(float16)

    def long(self):
        """This tensor cast to int64 (``self.to(ag.int64)``; itself if it is int64
        already); the cast cuts the gradient. PyTorch: ``Tensor.long``.

        >>> import autograd_core as ag
        >>> ag.tensor([1.7, -1.7]).long()
        tensor([ 1, -1])
        """
        return self.astype(int64)

    def int(self):
        """This tensor cast to int32 (``self.to(ag.int32)``; itself if it is int32
        already); the cast cuts the gradient. PyTorch: ``Tensor.int``.

        >>> import autograd_core as ag
        >>> ag.tensor([1.7, -1.7]).int()
        tensor([ 1, -1], dtype=int32)
        """
        return self.astype(int32)

    def bool(self):
        """This tensor cast to bool (``self.to(ag.bool_)``; itself if it is bool
        already); the cast cuts the gradient. PyTorch: ``Tensor.bool``.

        >>> import autograd_core as ag
        >>> ag.tensor([0.0, 2.0]).bool()
        tensor([False,  True])
        """
        return self.astype(bool_)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """``t.type()`` is PyTorch's type name (``'torch.FloatTensor'`` for float32); ``t.type(dtype)``
        casts to a dtype, a type name (``'torch.DoubleTensor'``) or a tensor type (``ag.DoubleTensor``).

        >>> import autograd_core as ag
        >>> t = ag.tensor([1.0])
        >>> t.type(), t.type("torch.DoubleTensor").dtype
        ('torch.FloatTensor', dtype('float64'))
        """
        if dtype is None:
            return _dtypes.type_name(self._data.dtype)
        return self.to(_dtypes.as_dtype(dtype, "type"))

    def cpu(self, memory_format=None):
        """This tensor itself: it is on the CPU already (PyTorch's ``Tensor.cpu``).

        >>> import autograd_core as ag
        >>> t = ag.zeros(2)
        >>> t.cpu() is t
        True
        """
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """Refused with a RuntimeError: this engine runs on the CPU only (use ``to('cpu')`` or nothing).

        >>> import autograd_core as ag
        >>> ag.zeros(2).cuda()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        RuntimeError: Tensor.cuda: this engine runs on the CPU only ...
        """
        _devices.check_device(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"), "Tensor.cuda")

    is_cuda = False  # PyTorch's attributes for where the data lives
    is_cpu = True
    is_meta = False

    def get_device(self):
        """-1: PyTorch's device ordinal of a CPU tensor (``Tensor.get_device``).

        >>> import autograd_core as ag
        >>> ag.zeros(1).get_device()
        -1
        """
        return -1

    def __format__(self, spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats as its Python scalar (as in PyTorch), and so does any
        one-element tensor given a format spec; others format as ``str(t)``."""
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self._data.reshape(()).item(), spec)
        if not spec:
            return str(self)
        try:
            return format(str(self), spec)
        except ValueError:
            raise TypeError(f"unsupported format string {spec!r} for a tensor of shape {tuple(self.shape)}: only "
                            "one-element tensors format as numbers; use t.item() or t.tolist()") from None

    def __reduce_ex__(self, protocol):
        """Pickling keeps the class, the values and a leaf's ``requires_grad`` (never the history), so
        views and tensors on the tape pickle too (DataLoader workers, multiprocessing). A tensor in
        shared memory (``share_memory_()``) pickles as a reference to that memory, so a process it is
        sent to sees and makes the same changes (Hogwild training)."""
        leaf_grad = self.requires_grad and self._node is None
        if _shared._roots:
            args = _shared.reduce_args(self._data)
            if args is not None:
                return (_rebuild_shared, (type(self), args, leaf_grad))
        return (_rebuild, (type(self), np.array(self._data), leaf_grad))

    def __deepcopy__(self, memo):
        # a copy owns its values, also when the tensor lies in shared memory (pickling would alias it)
        out = _rebuild(type(self), np.array(self._data), self.requires_grad and self._node is None)
        memo[id(self)] = out
        return out

    # -- printing --------------------------------------------------------------------
    def __repr__(self):
        data = self._data
        o = _print_options
        summarized = data.size > o["threshold"]
        # the printed elements decide the format, as in PyTorch (a hidden False or fraction does not count)
        shown = _summarized(data, o["edgeitems"]) if summarized else data
        opts = dict(precision=o["precision"], threshold=o["threshold"], edgeitems=o["edgeitems"],
                    max_line_width=o["linewidth"])
        if data.dtype.kind == "f":
            opts["formatter"] = {"float_kind": _float_formatter(shown, o["precision"], o["sci_mode"])}
        if data.dtype.kind == "b":
            # PyTorch pads to the widest element: [True] alone, [ True, False] together (NumPy: [ True] always)
            width = 5 if not shown.all() else 4
            opts["formatter"] = {"bool": lambda v: f"{str(bool(v)):>{width}}"}
        floatmode = "maxprec_equal"
        # PyTorch pads the "..." that stands for a row's middle to " ..." ([0.1000, 0.2000,  ..., 0.9000]) and
        # counts it as one item of a line
        gap = summarized and data.ndim > 0 and data.shape[-1] > 2 * o["edgeitems"]
        if data.ndim > 0 and shown.size:
            # PyTorch puts floor((linewidth - indent) / (width + 2)) items on each line, the indent being
            # len("tensor(") plus one a dim past the first; NumPy fills a line while the next item and the
            # closing brackets still fit: a line width that holds that many items and no more
            items = np.array2string(shown.reshape(-1), separator=", ", floatmode=floatmode,
                                    **{**opts, "threshold": sys.maxsize, "max_line_width": sys.maxsize})
            w = len(items[1:-1].split(", ")[0])
            start = len("tensor(") + data.ndim
            per_line = max(1, (o["linewidth"] - start + 1) // (w + 2))
            opts["max_line_width"] = per_line * (w + 2) + 2 * data.ndim + 5
        body = np.array2string(data, separator=", ", prefix="tensor(", floatmode=floatmode, **opts)
        if gap:
            # (at the start of a line too, where a row's "...," would end the line)
            body = re.sub(r", \.\.\.,|(\n *)\.\.\.,(?= )", lambda m: (m[1] or ", ") + " ...,", body)
        extras = []
        dt = self._data.dtype
        default_int = dt == int64
        if (dt.kind == "f" and dt != _default_dtype) or (dt.kind in "iu" and not default_int) or \
                (self._data.size == 0 and dt != _default_dtype):
            extras.append(f"dtype={_dtype_name(dt)}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        # PyTorch's suffixes: each on the last line while it fits in the line width, else on a line of its own
        # (measured as PyTorch spells it, dtype=torch.float64, so that the lines break where PyTorch's do)
        out = [body]
        last = len("tensor(" + body) - ("tensor(" + body).rfind("\n") + 1
        for extra in extras:
            if last + len(extra) + 2 + (len("torch.") if extra.startswith("dtype=") else 0) > o["linewidth"]:
                out.append(",\n" + " " * len("tensor(") + extra)
                last = len("tensor(") + len(extra)
            else:
                out.append(", " + extra)
                last += len(extra) + 2
        return f"tensor({''.join(out)})"

    __str__ = __repr__


def _float_formatter(shown: np.ndarray, precision: int, sci_mode: bool | None) -> Callable[[Any], str]:
    """PyTorch's format for the floats of a print, decided from the printed elements ``shown``: whole numbers
    as ``1.``, others with ``precision`` decimals (``1.5000``), in scientific notation (``1.0000e+10``) when
    the largest nonzero magnitude is over 1e8 or 1000 times the smallest, or the smallest is under 1e-4
    (``sci_mode`` True or False decides instead); every element right-aligned to the widest finite nonzero
    one. (NumPy switches float32 to exponents from 1e6 and float16 from 1e3, and pads to nan and inf too.)

    >>> f = _float_formatter(np.array([1500000.5, -20000.25], np.float32), 4, None)
    >>> f(1500000.5), f(-20000.25)
    ('1500000.5000', ' -20000.2500')
    """
    vals = np.unique(shown[np.isfinite(shown) & (shown != 0)].astype(np.float64))
    int_mode, sci = True, False
    if vals.size:
        mags = np.abs(vals)
        int_mode = bool(np.all(vals == np.ceil(vals)))
        sci = bool(mags.max() / mags.min() > 1000.0 or mags.max() > 1e8 or mags.min() < 1e-4) \
            if sci_mode is None else sci_mode

    def text(v: float) -> str:
        if sci:
            return f"{v:.{precision}e}"
        if int_mode:
            return f"{v:.0f}" + ("." if math.isfinite(v) else "")
        return f"{v:.{precision}f}"
    width = max((len(text(float(v))) for v in vals), default=1)
    return lambda v: text(float(v)).rjust(width)


def _summarized(data: np.ndarray, edgeitems: int) -> np.ndarray:
    """The elements a summarized print shows: ``edgeitems`` at each end of every dim longer than twice
    that (PyTorch's ``get_summarized_data``)."""
    for axis in range(data.ndim):
        n = data.shape[axis]
        if n > 2 * edgeitems:
            keep = np.r_[0:edgeitems, n - edgeitems:n]
            data = np.take(data, keep, axis=axis)
    return data


_PRINT_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
                   "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
                   "full": dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80)}
_print_options: Dict[str, Any] = dict(_PRINT_PROFILES["default"], sci_mode=None)


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as ``torch.set_printoptions``: ``precision`` digits after the point (4),
    ``threshold`` elements before the middle is summarised with "..." (1000), ``edgeitems`` kept at each
    end then (3), ``linewidth`` characters per line (80); ``profile`` "default", "short" or "full" sets
    those four first; ``sci_mode`` True / False forces / forbids scientific notation (None: NumPy's
    choice, and reset by every call, as in PyTorch). Other options not given keep their values.

    >>> import autograd_core as ag
    >>> ag.set_printoptions(precision=2)
    >>> ag.tensor([1.2345, 2.0])
    tensor([1.23, 2.00])
    >>> ag.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise OpError(f"set_printoptions: profile must be 'default', 'short' or 'full', got {profile!r}")
        _print_options.update(_PRINT_PROFILES[profile])
    for name, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                    ("linewidth", linewidth)):
        if v is not None:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise OpError(f"set_printoptions: {name} must be a non-negative int, got {v!r}")
            _print_options[name] = int(v)
    _print_options["sci_mode"] = None if sci_mode is None else bool(sci_mode)    # as PyTorch: every call sets it


def get_printoptions() -> Dict[str, Any]:
    """The current print options (see ``set_printoptions``), as ``torch._tensor_str.get_printoptions``.

    >>> import autograd_core as ag
    >>> ag.get_printoptions()["precision"]
    4
    """
    return dict(_print_options)


class Size(tuple):
    """A shape (a tuple of ints), as ``torch.Size``; ``.numel()`` is the product. ``t.size()`` gives one;
    ``t.shape`` is a plain tuple (it is read on every op), which compares equal to a Size.

    >>> import autograd_core as ag
    >>> s = ag.Size([2, 3])
    >>> s, s.numel(), ag.zeros(2, 3).shape == s
    (Size([2, 3]), 6, True)
    >>> ag.zeros(2, 3).size().numel()
    6
    """

    def numel(self):
        """The number of elements of a tensor of this shape."""
        return math.prod(self)

    def __repr__(self):
        return f"Size({list(self)})"


class _Size(int):
    """An int (the element count) that can be called like ``torch.Tensor.size``."""

    def __new__(cls, n, shape):
        obj = super().__new__(cls, n)
        obj._shape = shape
        return obj

    def __call__(self, dim=None):
        if dim is None:
            return Size(self._shape)
        return self._shape[dim]


def _dtype_name(dt):
    return {float32: "float32", float64: "float64", float16: "float16", int64: "int64",
            int32: "int32", int8: "int8", uint8: "uint8", bool_: "bool"}.get(dt, str(dt))


def _weakref(obj):
    import weakref
    return weakref.ref(obj)


class _HookHandle:
    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        try:
            self._hooks.remove(self._fn)
        except ValueError:
            pass


def _rebuild(cls, data, requires_grad):
    t = cls.__new__(cls)
    Tensor.__init__(t, data)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_shared(cls, args, requires_grad):
    return _rebuild(cls, _shared.rebuild_shared(*args), requires_grad)


def make(data, requires_grad=False, node=None):
    """Fast internal constructor: no checks, ``data`` must already be an ndarray."""
    t = _new(Tensor)
    t._data = data
    t.requires_grad = requires_grad
    t._node = node
    return t


_new = object.__new__


_node.Tensor = Tensor
_node.make = make


# -- construction --------------------------------------------------------------------------
# Every constructor takes PyTorch's ``device=`` keyword: None, "cpu" or a device object; any other
# device raises the CPU-only error (devices.check_device).
from .devices import _CPU, check_device as _check_device, device as _device  # noqa: E402

_tensor_init = Tensor.__init__


def _init(self, *args, **kwargs):
    """``Tensor(data, dtype=None, requires_grad=False)``; also PyTorch's legacy ``Tensor(2, 3)`` and
    ``Tensor(5)`` (int sizes: a tensor of the default float dtype, uninitialised in PyTorch, zeros here; as in
    ``nn.Parameter(torch.Tensor(out_features))``) and ``Tensor()`` (empty)."""
    if not args and "data" not in kwargs:
        args = (np.empty((0,), _dt(kwargs.pop("dtype", None))),)
    elif (len(args) >= 2 and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args)) or \
            (len(args) == 1 and type(args[0]) is int and not _ours(sys._getframe(1))):
        args = (np.zeros(args, _dt(kwargs.pop("dtype", None))),)
    _tensor_init(self, *args, **kwargs)


_OWN_PACKAGES = ("autograd_core", "nn", "optim")


def _ours(frame):
    """Whether the frame's code is this project's: there ``Tensor(x)`` wraps a value (``ag.add(2, x)`` makes a
    tensor of its 2), where a user's ``torch.Tensor(5)`` is PyTorch's legacy size."""
    name = frame.f_globals.get("__name__", "") if frame is not None else ""
    return name.split(".", 1)[0] in _OWN_PACKAGES


_init.__doc__ = (_tensor_init.__doc__ or "") + _init.__doc__
Tensor.__init__ = _init


def tensor(data: TensorLike, dtype: DTypeLike = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Copy ``data`` (a number, a nested list, an ndarray or a tensor) into a new leaf tensor, as
    ``torch.tensor``. Python floats become the default dtype (float32), Python ints int64 and bools
    bool, unless ``dtype`` is given; ``requires_grad`` marks the leaf for gradients. ``device`` may
    only be the CPU.

    >>> import autograd_core as ag
    >>> ag.tensor([[1, 2], [3, 4]])
    tensor([[1, 2],
            [3, 4]])
    >>> ag.tensor([0.5, 1.5], requires_grad=True)
    tensor([0.5000, 1.5000], requires_grad=True)
    >>> ag.tensor(2.0, dtype=ag.float64)
    tensor(2., dtype=float64)
    """
    _check_device(device, "tensor")
    arr = _to_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and (arr is data or (isinstance(data, Tensor) and arr is data._data)):
        arr = arr.copy()
    return Tensor(arr, requires_grad=requires_grad)


def as_tensor(data: TensorLike, dtype: DTypeLike = None, device: Any = None) -> Tensor:
    """``data`` as a tensor without a copy where possible (a tensor of the wanted dtype is returned as
    it is; an ndarray's memory is shared), as ``torch.as_tensor``.

    >>> import autograd_core as ag
    >>> t = ag.tensor([1.0])
    >>> ag.as_tensor(t) is t, ag.as_tensor([1, 2], dtype=ag.float32)
    (True, tensor([1., 2.]))
    """
    _check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(_to_array(data, dtype))


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with the ndarray ``arr`` (keeps its dtype: float64 stays float64), as
    ``torch.from_numpy``.

    >>> import numpy as np
    >>> import autograd_core as ag
    >>> a = np.array([1.0, 2.0])
    >>> t = ag.from_numpy(a)
    >>> a[0] = 7.0
    >>> t
    tensor([7., 2.], dtype=float64)
    """
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(arr).__name__}")
    return Tensor(arr)


def _shape(size, kw=None, name="tensor"):
    if kw is not None:          # PyTorch's keyword form: zeros(size=(2, 3))
        if size:
            raise TypeError(f"{name}: give the size either positionally or as size=, not both")
        size = (kw,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(s) for s in size)


def _dt(dtype):
    return _default_dtype if dtype is None else np.dtype(dtype)


def zeros(*sizes: Any, size: Any = None, dtype: DTypeLike = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape ``size`` (``size`` is ints or one tuple), in the default dtype unless ``dtype``
    is given, as ``torch.zeros``.

    >>> import autograd_core as ag
    >>> ag.zeros(2, 3)
    tensor([[0., 0., 0.],
            [0., 0., 0.]])
    >>> ag.zeros((2,), dtype=ag.int64)
    tensor([0, 0])
    """
    _check_device(device, "zeros")
    return Tensor(np.zeros(_shape(sizes, size, "zeros"), _dt(dtype)), requires_grad=requires_grad)


def ones(*sizes: Any, size: Any = None, dtype: DTypeLike = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape ``size`` (``size`` is ints or one tuple), in the default dtype unless ``dtype``
    is given, as ``torch.ones``.

    >>> import autograd_core as ag
    >>> ag.ones(2, 2)
    tensor([[1., 1.],
            [1., 1.]])
    """
    _check_device(device, "ones")
    return Tensor(np.ones(_shape(sizes, size, "ones"), _dt(dtype)), requires_grad=requires_grad)


def empty(*sizes: Any, size: Any = None, dtype: DTypeLike = None, device: Any = None, requires_grad: bool = False,
          memory_format: Any = None) -> Tensor:
    """An uninitialised tensor of shape ``size`` (ints or one tuple; its values are whatever the memory
    held), in the default dtype unless ``dtype`` is given, as ``torch.empty``; in C order unless
    ``memory_format`` is ``ag.channels_last`` (4-D) or ``ag.channels_last_3d`` (5-D).

    >>> import autograd_core as ag
    >>> ag.empty(2, 3).shape
    (2, 3)
    """
    _check_device(device, "empty")
    shape = _shape(sizes, size, "empty")
    fmt = _layouts.check(memory_format, len(shape), "empty")
    if fmt is _layouts.preserve_format:
        fmt = _layouts.contiguous_format
    return Tensor(_layouts.empty_in(shape, _dt(dtype), fmt), requires_grad=requires_grad)


def full(size: ShapeLike, fill_value: Number, dtype: DTypeLike = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``, as ``torch.full``; the dtype follows the
    value (a float gives the default dtype, an int int64, a bool bool) unless ``dtype`` is given.

    >>> import autograd_core as ag
    >>> ag.full((2, 2), 7.0)
    tensor([[7., 7.],
            [7., 7.]])
    >>> ag.full(3, 1).dtype
    dtype('int64')
    """
    _check_device(device, "full")
    if dtype is None:
        dtype = _default_dtype if isinstance(fill_value, float) else np.asarray(fill_value).dtype
        if np.dtype(dtype) == np.int64 or isinstance(fill_value, bool):
            dtype = np.bool_ if isinstance(fill_value, bool) else np.int64
    elif np.dtype(dtype).kind in "iu" and isinstance(fill_value, float) and not math.isfinite(fill_value):
        raise RuntimeError(f"full: the fill value {fill_value} can't be converted to {np.dtype(dtype)} (value cannot "
                           "be converted without overflow); use a float dtype")
    size = (size,) if isinstance(size, int) else tuple(size)
    return Tensor(np.full(size, fill_value, np.dtype(dtype)), requires_grad=requires_grad)


def arange(start: Number, end: Number | None = None, step: Number = 1, dtype: DTypeLike = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (excluded) by ``step``; ``arange(n)`` is 0 .. n-1, as
    ``torch.arange``. int64 for integer arguments, the default float dtype if any is a float.

    >>> import autograd_core as ag
    >>> ag.arange(4), ag.arange(1, 2, 0.25)
    (tensor([0, 1, 2, 3]), tensor([1.0000, 1.2500, 1.5000, 1.7500]))
    """
    _check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = _default_dtype if any(isinstance(v, float) for v in (start, end, step)) else np.int64
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign (start {start}, end "
                           f"{end}, step {step}); use a step of the other sign")
    return Tensor(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad=requires_grad)


def linspace(start: Number, end: Number, steps: int, dtype: DTypeLike = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included), in the default dtype
    unless ``dtype`` is given, as ``torch.linspace``.

    >>> import autograd_core as ag
    >>> ag.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    _check_device(device, "linspace")
    return Tensor(np.linspace(start, end, int(steps), dtype=_dt(dtype)), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: DTypeLike = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix of shape (n, m) (m = n if not given): ones on the diagonal, in the default
    dtype unless ``dtype`` is given, as ``torch.eye``.

    >>> import autograd_core as ag
    >>> ag.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    >>> ag.eye(2, 3).shape
    (2, 3)
    """
    _check_device(device, "eye")
    return Tensor(np.eye(n, m, dtype=_dt(dtype)), requires_grad=requires_grad)


def _like(t: Any, dtype: DTypeLike, memory_format: Any, fill: Any, op: str) -> np.ndarray:
    """An array of t's shape in dtype (else t's), laid out in ``memory_format`` (default: as t is, PyTorch's
    ``preserve_format``), filled with ``fill`` unless it is None."""
    data = t._data if isinstance(t, Tensor) else np.asarray(t)
    fmt = _layouts.check(memory_format, data.ndim, op)
    out = _layouts.empty_in(data.shape, dtype or data.dtype, fmt, like=data)
    if fill is not None:
        out[...] = fill
    return out


def zeros_like(t: Tensor, dtype: DTypeLike = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    """A tensor of zeros with ``t``'s shape and dtype (or ``dtype``), as ``torch.zeros_like``; laid out as
    ``t`` unless ``memory_format`` says otherwise (see ``autograd_core.layouts``).

    >>> import autograd_core as ag
    >>> ag.zeros_like(ag.tensor([[1, 2]]))
    tensor([[0, 0]])
    """
    _check_device(device, "zeros_like")
    return Tensor(_like(t, dtype, memory_format, 0, "zeros_like"), requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: DTypeLike = None, device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    """A tensor of ones with ``t``'s shape and dtype (or ``dtype``), as ``torch.ones_like``; laid out as ``t``
    unless ``memory_format`` says otherwise.

    >>> import autograd_core as ag
    >>> ag.ones_like(ag.tensor([1.5, 2.5]))
    tensor([1., 1.])
    """
    _check_device(device, "ones_like")
    return Tensor(_like(t, dtype, memory_format, 1, "ones_like"), requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: Number, dtype: DTypeLike = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """A tensor of ``t``'s shape and dtype (or ``dtype``) filled with ``fill_value``, as
    ``torch.full_like``; laid out as ``t`` unless ``memory_format`` says otherwise.

    >>> import autograd_core as ag
    >>> ag.full_like(ag.tensor([1, 2]), 9)
    tensor([9, 9])
    """
    _check_device(device, "full_like")
    return Tensor(_like(t, dtype, memory_format, fill_value, "full_like"), requires_grad=requires_grad)


# -- random numbers -------------------------------------------------------------------------
class Generator:
    """A seedable random source (wraps ``np.random.Generator``), like ``torch.Generator``.

    ``Generator(seed)`` seeds it at once; ``Generator(device="cpu")`` / ``Generator("cpu")`` is PyTorch's
    form (then ``.manual_seed(s)``). The only device is the CPU.

    >>> import autograd_core as ag
    >>> g = ag.Generator().manual_seed(42)
    >>> a = ag.rand(3, generator=g)
    >>> b = ag.rand(3, generator=ag.Generator(42))
    >>> ag.equal(a, b), g.initial_seed()
    (True, 42)
    """

    def __init__(self, seed=None, device=None):
        if isinstance(seed, (str, _device)):
            seed, device = None, seed  # Generator("cpu"), as torch
        _check_device(device, "Generator")
        if seed is None:   # PyTorch's fresh generator starts from this fixed default seed too
            seed = 67280421310721
        self.np = np.random.default_rng(seed)
        self._seed = seed

    @property
    def device(self):
        """The device the generator makes numbers for: always ``device('cpu')``.

        >>> import autograd_core as ag
        >>> ag.Generator().device
        device(type='cpu')
        """
        return _CPU

    def seed(self):
        """Reseed from fresh OS entropy; returns the new seed.

        >>> import autograd_core as ag
        >>> g = ag.Generator()
        >>> s = g.seed()
        >>> g.initial_seed() == s
        True
        """
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def get_state(self):
        """The NumPy bit generator's state (a dict; PyTorch gives a ByteTensor).

        >>> import autograd_core as ag
        >>> g = ag.Generator(0)
        >>> state = g.get_state()
        >>> a = ag.rand(2, generator=g)
        >>> ag.equal(ag.rand(2, generator=g.set_state(state)), a)
        True
        """
        return self.np.bit_generator.state

    def set_state(self, new_state):
        """Restore a state from ``get_state``; returns the generator (PyTorch's ``Generator.set_state``).

        >>> import autograd_core as ag
        >>> g = ag.Generator(0)
        >>> state = g.get_state()
        >>> a = ag.randn(2, generator=g)
        >>> ag.equal(ag.randn(2, generator=g.set_state(state)), a)
        True
        """
        self.np.bit_generator.state = new_state
        return self

    def manual_seed(self, seed):
        """Seed the generator with ``seed`` (an int) and return it, as ``Generator.manual_seed``.

        >>> import autograd_core as ag
        >>> g = ag.Generator()
        >>> g.manual_seed(3) is g, g.initial_seed()
        (True, 3)
        """
        self.np = np.random.default_rng(seed)
        self._seed = seed
        return self

    def initial_seed(self):
        """The seed this generator was last seeded with (None if it took OS entropy at creation).

        >>> import autograd_core as ag
        >>> ag.Generator(7).initial_seed()
        7
        """
        return self._seed


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used by rand/randn/init/dropout/DataLoader shuffling; returns it, as
    ``torch.manual_seed``.

    >>> import autograd_core as ag
    >>> _ = ag.manual_seed(0)
    >>> a = ag.rand(3)
    >>> _ = ag.manual_seed(0)
    >>> ag.equal(a, ag.rand(3))
    True
    """
    default_generator.manual_seed(seed)
    return default_generator


def _gen(generator):
    return (generator or default_generator).np


def rand(*sizes: Any, size: Any = None, dtype: DTypeLike = None, generator: Generator | None = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) of shape ``size`` (ints or one tuple), from ``generator`` (default: the
    global one, see ``manual_seed``), in the default dtype unless ``dtype`` is given, as ``torch.rand``.

    >>> import autograd_core as ag
    >>> x = ag.rand(2, 3)
    >>> x.shape, x.dtype, bool(((x >= 0) & (x < 1)).all())
    ((2, 3), dtype('float32'), True)
    """
    _check_device(device, "rand")
    dt = _dt(dtype)
    return Tensor(_gen(generator).random(_shape(sizes, size, "rand")).astype(dt, copy=False),
                  requires_grad=requires_grad)


def randn(*sizes: Any, size: Any = None, dtype: DTypeLike = None, generator: Generator | None = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples (mean 0, std 1) of shape ``size`` (ints or one tuple), from ``generator``
    (default: the global one, see ``manual_seed``), in the default dtype unless ``dtype`` is given, as
    ``torch.randn``.

    >>> import autograd_core as ag
    >>> ag.randn(2, 3).shape, ag.randn(4, dtype=ag.float64).dtype
    ((2, 3), dtype('float64'))
    """
    _check_device(device, "randn")
    dt = _dt(dtype)
    return Tensor(_gen(generator).standard_normal(_shape(sizes, size, "randn")).astype(dt, copy=False),
                  requires_grad=requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None, device=None, requires_grad=False):
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)`` as in
    PyTorch (``size`` a tuple; without one, a 0-d tensor). int64 unless ``dtype`` says otherwise.

    >>> ag.randint(10, (3,)).shape, ag.randint(5, 10, size=(2, 2)).dtype
    ((3,), dtype('int64'))
    """
    _check_device(device, "randint")
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # randint(high, size)
    elif high is None:
        low, high = 0, low
    size = () if size is None else (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if high <= low:
        raise OpError(f"randint: expected low < high, got low={low}, high={high}")
    dt = np.int64 if dtype is None else np.dtype(dtype)
    return Tensor(_gen(generator).integers(low, high, size=size).astype(dt), requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: DTypeLike = None, generator: Generator | None = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Uniform samples in [0, 1) with ``t``'s shape and dtype (or ``dtype``), as ``torch.rand_like``; laid
    out as ``t`` unless ``memory_format`` says otherwise.

    >>> import autograd_core as ag
    >>> ag.rand_like(ag.zeros(2, 2, dtype=ag.float64)).dtype
    dtype('float64')
    """
    out = rand(*t.shape, dtype=dtype or t.dtype, generator=generator, device=device)
    return Tensor(_like(t, out.dtype, memory_format, out._data, "rand_like"), requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: DTypeLike = None, generator: Generator | None = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Standard normal samples with ``t``'s shape and dtype (or ``dtype``), as ``torch.randn_like``; laid
    out as ``t`` unless ``memory_format`` says otherwise.

    >>> import autograd_core as ag
    >>> ag.randn_like(ag.zeros(2, 3)).shape
    (2, 3)
    """
    out = randn(*t.shape, dtype=dtype or t.dtype, generator=generator, device=device)
    return Tensor(_like(t, out.dtype, memory_format, out._data, "randn_like"), requires_grad=requires_grad)

"""More constructors in PyTorch's names: the legacy tensor types (``FloatTensor(2, 3)``,
``LongTensor([1, 2])``), ``empty_like``, ``randint_like``, and the ``t.new_*`` methods.

A legacy tensor type is called with sizes (an uninitialised tensor of its dtype) or with data (a
copy in its dtype); ``isinstance(t, ag.FloatTensor)`` checks the dtype, and ``t.type(ag.DoubleTensor)``
casts. Their CUDA twins (``ag.cuda.FloatTensor``) raise the CPU-only error.

    >>> import autograd_core as ag
    >>> ag.FloatTensor(2, 3).shape, ag.LongTensor([1, 2]).dtype
    ((2, 3), dtype('int64'))
    >>> isinstance(ag.zeros(2), ag.FloatTensor), ag.zeros(2).new_ones(3).dtype
    (True, dtype('float32'))
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import devices
from .dtypes import type_name
from .tensor import Tensor, _check_device, _like, randint, tensor

if TYPE_CHECKING:
    from .tensor import Generator
    from .typing import DTypeLike

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor", "empty_like", "randint_like"]


def _is_size(args):
    return all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args)


class TensorType:
    """A PyTorch legacy tensor type such as ``FloatTensor``: ``T(*sizes)`` is an uninitialised tensor of
    that shape, ``T(data)`` a copy of ``data`` in its dtype, ``T()`` an empty one; ``isinstance(t, T)``
    checks a tensor's dtype. The ``ag.cuda`` twins raise the CPU-only error.

    >>> import autograd_core as ag
    >>> ag.FloatTensor(2, 3).shape, ag.LongTensor([1.5, 2.5])
    ((2, 3), tensor([1, 2]))
    >>> isinstance(ag.zeros(1, dtype=ag.int64), ag.LongTensor), ag.DoubleTensor
    (True, <class 'torch.DoubleTensor'>)
    """

    __slots__ = ("_name", "_dtype", "_cuda")

    def __init__(self, name, dtype, cuda=False):
        self._name, self._dtype, self._cuda = name, np.dtype(dtype), cuda

    @property
    def dtype(self):
        """The dtype (``np.dtype(ag.FloatTensor)`` reads it); CUDA types raise the CPU-only error."""
        if self._cuda:
            devices.check_device("cuda", f"torch.cuda.{self._name}")
        return self._dtype

    def __call__(self, *args, device=None):
        dt = self.dtype
        _check_device(device, self._name)
        if not args:
            return Tensor(np.empty((0,), dt))
        if _is_size(args):
            return Tensor(np.empty(tuple(int(a) for a in args), dt))
        if len(args) > 1:
            raise TypeError(f"{self._name}: expected sizes (ints) or one data argument, got {args!r}")
        return tensor(args[0], dtype=dt)

    def __instancecheck__(self, obj):
        return isinstance(obj, Tensor) and not self._cuda and obj.dtype == self._dtype

    def __repr__(self):
        return f"<class 'torch.{'cuda.' if self._cuda else ''}{self._name}'>"

    def __str__(self):
        return f"torch.{'cuda.' if self._cuda else ''}{self._name}"


_TYPES = dict(FloatTensor=np.float32, DoubleTensor=np.float64, HalfTensor=np.float16, LongTensor=np.int64,
              IntTensor=np.int32, ShortTensor=np.int16, CharTensor=np.int8, ByteTensor=np.uint8, BoolTensor=np.bool_)
for _name, _dt in _TYPES.items():
    assert type_name(_dt) == f"torch.{_name}"
    globals()[_name] = TensorType(_name, _dt)
    setattr(devices.cuda, _name, TensorType(_name, _dt, cuda=True))


def empty_like(input: Tensor, dtype: DTypeLike = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised tensor with ``input``'s shape and dtype (or ``dtype``), as ``torch.empty_like``; laid
    out as ``input`` unless ``memory_format`` says otherwise (see ``autograd_core.layouts``).

    >>> import autograd_core as ag
    >>> ag.empty_like(ag.zeros(2, 3, dtype=ag.int64)).shape
    (2, 3)
    """
    _check_device(device, "empty_like")
    return Tensor(_like(input, dtype, memory_format, None, "empty_like"), requires_grad=requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, dtype: DTypeLike = None,  # noqa: A002
                 device: Any = None, generator: Generator | None = None, requires_grad: bool = False,
                 memory_format: Any = None) -> Tensor:
    """Integers uniform in [low, high) with ``input``'s shape: ``randint_like(x, high)`` or
    ``randint_like(x, low, high)``; ``input``'s dtype unless ``dtype`` is given. PyTorch:
    ``torch.randint_like``.

    >>> import autograd_core as ag
    >>> r = ag.randint_like(ag.zeros(2, 3), 5, 10)
    >>> r.shape, r.dtype, bool(((r >= 5) & (r < 10)).all())
    ((2, 3), dtype('float32'), True)
    """
    if high is None:
        low, high = 0, low
    out = randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, generator=generator, device=device)
    dest = _like(input, out.dtype, memory_format, out._data, "randint_like")
    return Tensor(dest, requires_grad=requires_grad)


# -- t.new_*: same dtype as t unless told ----------------------------------------------------------
def _sizes(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


# the examples of t.new_zeros / new_ones / new_empty (t an int64 tensor)
_NEW_EXAMPLES = {"zeros": "tensor([[0, 0],\n        [0, 0]])", "ones": "tensor([[1, 1],\n        [1, 1]])",
                 "empty": "((2, 2), dtype('int64'))"}


def _new(fill):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        _check_device(device, f"new_{fill}")
        arr = getattr(np, fill)(_sizes(size), dtype or self.dtype)
        return Tensor(arr, requires_grad=requires_grad)
    new.__name__ = f"new_{fill}"
    example = (f">>> t.new_{fill}(2, 2)\n{_NEW_EXAMPLES[fill]}" if fill != "empty" else
               f">>> t.new_{fill}(2, 2).shape, t.new_{fill}(2, 2).dtype\n{_NEW_EXAMPLES[fill]}")
    new.__doc__ = (f"A new tensor of ``size`` (ints or one tuple) filled by ``np.{fill}``, in this tensor's dtype "
                   f"unless ``dtype`` is given (PyTorch's ``Tensor.new_{fill}``).\n\n"
                   f">>> import autograd_core as ag\n>>> t = ag.tensor([1, 2])\n{example}\n")
    return new


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """A new tensor of ``size`` filled with ``fill_value``, in this tensor's dtype unless ``dtype`` is given
    (PyTorch's ``Tensor.new_full``).

    >>> import autograd_core as ag
    >>> ag.tensor([1.0]).new_full((2,), 7)
    tensor([7., 7.])
    """
    _check_device(device, "new_full")
    return Tensor(np.full(_sizes((size,)), fill_value, dtype or self.dtype), requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A copy of ``data`` in this tensor's dtype unless ``dtype`` is given (PyTorch's ``new_tensor``).

    >>> import autograd_core as ag
    >>> ag.zeros(1, dtype=ag.float64).new_tensor([1, 2])
    tensor([1., 2.], dtype=float64)
    """
    _check_device(device, "new_tensor")
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_legacy(self, *args):
    """``t.new(2, 3)`` (uninitialised, t's dtype) or ``t.new(data)``: PyTorch's legacy ``new``.

    >>> import autograd_core as ag
    >>> t = ag.tensor([1, 2])
    >>> t.new(2, 3).shape, t.new([5, 6])
    ((2, 3), tensor([5, 6]))
    """
    if not args or _is_size(args):
        return Tensor(np.empty(tuple(int(a) for a in args) if args else (0,), self.dtype))
    return tensor(args[0], dtype=self.dtype)


for _name, _f in dict(new_zeros=_new("zeros"), new_ones=_new("ones"), new_empty=_new("empty"), new_full=_new_full,
                      new_tensor=_new_tensor, new=_new_legacy).items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _f)

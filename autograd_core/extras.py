"""PyTorch's small top-level names that scripts use in passing: the constants ``pi``, ``e``, ``inf``,
``nan``, ``newaxis``; the type rules ``result_type``, ``promote_types``, ``can_cast``, ``typename``;
``compile`` (returns the model unchanged: there is no compiler here); the inter-op thread count; and
the Tensor methods ``short``, ``byte``, ``char``, ``is_signed``, ``is_nonzero``, ``is_same_size``,
``is_pinned``, ``share_memory_`` and the properties ``itemsize``, ``nbytes``, ``is_sparse``,
``is_quantized``, ``is_meta``.

    >>> ag.result_type(ag.tensor([1, 2]), 1.5), ag.promote_types(ag.int32, ag.float32)
    (dtype('float32'), dtype('float64'))
"""
from __future__ import annotations

import math

import numpy as np

from .ops.inplace import inplace_update
from .ops.linalg import addmm
from .ops.registry import method
from .tensor import Tensor, get_default_dtype

__all__ = ["pi", "e", "inf", "nan", "newaxis", "result_type", "promote_types", "can_cast", "typename", "compile",
           "get_num_interop_threads", "set_num_interop_threads", "is_nonzero", "save", "load"]

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None


def _dt(v):
    if isinstance(v, Tensor):
        return v._data
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v  # a Python number is weak (NumPy 2 / PyTorch promotion)
    return np.asarray(v)


def result_type(tensor1, tensor2):
    """The dtype that an arithmetic op on ``tensor1`` and ``tensor2`` (tensors or numbers) gives here; a
    Python float with an integer tensor gives the default float dtype, as PyTorch.

    >>> ag.result_type(ag.tensor([1, 2]), 2), ag.result_type(ag.tensor([1.0]), ag.tensor([1], dtype=ag.float64))
    (dtype('int64'), dtype('float64'))
    """
    a, b = _dt(tensor1), _dt(tensor2)
    for x, y in ((a, b), (b, a)):
        if isinstance(x, np.ndarray) and x.dtype.kind in "biu" and isinstance(y, float):
            return np.dtype(get_default_dtype())
    return np.result_type(a, b)


def promote_types(type1, type2):
    """The smallest dtype that both dtypes convert to without losing values (NumPy's promotion, so int64
    with float32 is float64 here, where PyTorch gives float32).

    >>> ag.promote_types(ag.int64, ag.float64)
    dtype('float64')
    """
    return np.promote_types(type1, type2)


def can_cast(from_, to):
    """Whether PyTorch's casting rule allows ``from_`` -> ``to``: within a kind or upward (bool < int <
    float), never float to int.

    >>> ag.can_cast(ag.float64, ag.float32), ag.can_cast(ag.float32, ag.int32)
    (True, False)
    """
    return bool(np.can_cast(from_, to, casting="same_kind"))


def typename(obj):
    """The PyTorch type name of a tensor (``'torch.FloatTensor'``, ...), else the object's type name.

    >>> ag.typename(ag.zeros(2)), ag.typename(3)
    ('torch.FloatTensor', 'int')
    """
    if isinstance(obj, Tensor):
        return obj.type()
    return type(obj).__qualname__


def compile(model=None, **kwargs):  # noqa: A001  (PyTorch's name)
    """``torch.compile``: returns ``model`` (a module or a function) unchanged, as there is no compiler
    here; used as a decorator (``@compile`` or ``@compile(mode=...)``) it returns the function.

    >>> f = ag.compile(lambda x: x * 2)
    >>> f(ag.tensor([1.0]))
    tensor([2.])
    """
    if model is None:
        return lambda fn: fn
    return model


def get_num_interop_threads():
    """1: there is no separate inter-op thread pool here (see ``get_num_threads``).

    >>> ag.get_num_interop_threads()
    1
    """
    return 1


def set_num_interop_threads(n):
    """Accepted and ignored: there is no separate inter-op thread pool here.

    >>> ag.set_num_interop_threads(4)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive int, got {n!r}")


def _cast(dtype, name):
    def to(self, memory_format=None):
        return self.to(dtype)
    to.__name__ = name
    to.__doc__ = (f"``self.to({np.dtype(dtype).name})`` (PyTorch's ``Tensor.{name}``).\n\n"
                  f"    >>> ag.tensor([1.7, -2.0]).{name}().dtype\n    dtype('{np.dtype(dtype).name}')\n")
    return to


def _is_signed(self):
    """True for a signed dtype (signed ints and floats).

    >>> ag.tensor([1]).is_signed(), ag.tensor([1], dtype=ag.uint8).is_signed()
    (True, False)
    """
    return self._data.dtype.kind in "if"


def _is_nonzero(self):
    """The truth value of a one-element tensor (an error for more elements).

    >>> ag.tensor([0.5]).is_nonzero()
    True
    """
    if self._data.size != 1:
        raise RuntimeError(f"is_nonzero: a tensor with {self._data.size} elements has no single truth value")
    return bool(self._data.reshape(-1)[0])


def _is_same_size(self, other):
    """Whether ``other`` has this tensor's shape.

    >>> ag.zeros(2, 3).is_same_size(ag.ones(2, 3))
    True
    """
    return tuple(self.shape) == tuple(other.shape)


def _is_pinned(self, device=None):
    """False: there is no pinned (page-locked) memory here.

    >>> ag.zeros(2).is_pinned()
    False
    """
    return False


def _pin_memory(self, device=None):
    """The tensor itself: CPU memory is all there is here (``is_pinned()`` stays False).

    >>> t = ag.zeros(2)
    >>> t.pin_memory() is t
    True
    """
    return self


def _H(self):
    """The conjugate transpose of a matrix: its transpose here (real dtypes only). PyTorch: ``Tensor.H``.

    >>> ag.tensor([[1, 2]]).H.shape
    (2, 1)
    """
    if self.ndim not in (0, 2):
        raise RuntimeError(f"Tensor.H: expected a matrix or a scalar, got {self.ndim} dims; use .mH for a batch")
    return self.T


def _mH(self):
    """The conjugate transpose of each matrix in a batch: ``mT`` here (real dtypes only).

    >>> ag.zeros(4, 2, 3).mH.shape
    (4, 3, 2)
    """
    return self.mT


def _addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    """In place: ``t = beta * t + alpha * (mat1 @ mat2)``, as ``Tensor.addmm_``; returns ``t`` (on the tape).

    >>> t = ag.ones(2, 2)
    >>> t.addmm_(ag.eye(2), ag.eye(2) * 3) is t, t
    (True, tensor([[4., 1.],
            [1., 4.]]))
    """
    others = any(isinstance(a, Tensor) and a.requires_grad for a in (mat1, mat2))
    return inplace_update(self, lambda old: addmm(old, mat1, mat2, beta=beta, alpha=alpha), "addmm_", others)


def is_nonzero(input):  # noqa: A002
    """The truth value of a one-element tensor, as ``torch.is_nonzero`` (an error for other sizes).

    >>> ag.is_nonzero(ag.tensor([1.5])), ag.is_nonzero(ag.tensor(0))
    (True, False)
    """
    return _is_nonzero(input)


def _share_memory_(self):
    """Returns the tensor: DataLoader workers receive tensors by pickling here (see ``nn.data``).

    >>> t = ag.zeros(2)
    >>> t.share_memory_() is t
    True
    """
    return self


def _itemsize(self):
    """The size of one element in bytes.

    >>> ag.zeros(2).itemsize
    4
    """
    return self._data.dtype.itemsize


def _nbytes(self):
    """The size of the elements in bytes.

    >>> ag.zeros(2, 3).nbytes
    24
    """
    return int(self._data.size * self._data.dtype.itemsize)


def _false(name):
    def prop(self):
        return False
    prop.__doc__ = f"False: there are no {name} tensors here.\n\n    >>> ag.zeros(1).is_{name}\n    False\n"
    return property(prop)


for _name, _dtype in (("short", np.int16), ("byte", np.uint8), ("char", np.int8)):
    if not hasattr(Tensor, _name):
        method(_name, _cast(_dtype, _name))
for _name, _fn in dict(is_signed=_is_signed, is_nonzero=_is_nonzero, is_same_size=_is_same_size,
                       is_pinned=_is_pinned, share_memory_=_share_memory_, pin_memory=_pin_memory,
                       addmm_=_addmm_).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)
for _name, _prop in dict(itemsize=property(_itemsize), nbytes=property(_nbytes), is_sparse=_false("sparse"),
                         is_quantized=_false("quantized"), is_meta=_false("meta"), H=property(_H),
                         mH=property(_mH)).items():
    if not hasattr(Tensor, _name):
        method(_name, _prop)


def _needs_nn(name):
    def stand_in(*args, **kwargs):
        raise RuntimeError(f"torch.{name} lives in the nn package here (nn.{name}: safetensors, and PyTorch's "
                           f"checkpoints for load): add `import nn` to the script, after which "
                           f"autograd_core.{name} is nn.{name}")
    stand_in.__name__ = stand_in.__qualname__ = name
    stand_in.__doc__ = (f"Stands in for ``torch.{name}`` until ``nn`` is imported, which replaces it with "
                        f"``nn.{name}`` (the engine does not import ``nn``); until then it raises, saying so.\n\n"
                        f"    >>> import autograd_core as ag, nn\n    >>> ag.{name} is nn.{name}\n    True\n")
    stand_in.stands_in_for_nn = True
    return stand_in


save = _needs_nn("save")
load = _needs_nn("load")

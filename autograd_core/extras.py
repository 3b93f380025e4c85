"""PyTorch's small top-level names that scripts use in passing: the constants ``pi``, ``e``, ``inf``,
``nan``, ``newaxis``; the type rules ``result_type``, ``promote_types``, ``can_cast``, ``typename``;
``compile`` (returns the model unchanged: there is no compiler here); the inter-op thread count; and
the Tensor methods ``short``, ``byte``, ``char``, ``is_signed``, ``is_nonzero``, ``is_same_size``,
``is_pinned``, ``share_memory_`` and the properties ``itemsize``, ``nbytes``, ``is_sparse``,
``is_quantized``, ``is_meta``; the functions ``is_same_size``, ``is_signed``, the legacy
``set_default_tensor_type`` and ``range``, ``asarray``, and the integer / float-bits math ``gcd``, ``lcm``,
``frexp`` and ``ldexp``.

    >>> ag.result_type(ag.tensor([1, 2]), 1.5), ag.promote_types(ag.int32, ag.float32)
    (dtype('float32'), dtype('float32'))
"""
from __future__ import annotations

import math

import numpy as np

from . import dtypes as _dtypes
from . import shared as _shared
from .ops.inplace import inplace_update
from .ops.linalg import addmm
from .ops.registry import method
from .tensor import Tensor, get_default_dtype

__all__ = ["pi", "e", "inf", "nan", "newaxis", "result_type", "promote_types", "can_cast", "typename", "compile",
           "get_num_interop_threads", "set_num_interop_threads", "is_nonzero", "save", "load", "is_same_size", "is_signed",
           "set_default_tensor_type", "asarray", "range", "gcd", "lcm", "frexp", "ldexp", "vander"]

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None


def _dt(v):
    if isinstance(v, Tensor):
        return v._data
    if isinstance(v, np.generic):
        return v.item()  # a NumPy scalar acts as the Python number it holds, as the ops take it
    if isinstance(v, (bool, int, float)):
        return v  # a Python number is weak (PyTorch promotion)
    return np.asarray(v)


def result_type(tensor1, tensor2):
    """The dtype that an arithmetic op on ``tensor1`` and ``tensor2`` (tensors or numbers) gives, by PyTorch's
    rules (``dtypes.result_type``); a Python float with an integer tensor gives the default float dtype.

    >>> ag.result_type(ag.tensor([1, 2]), 2), ag.result_type(ag.tensor([1.0]), ag.tensor([1], dtype=ag.float64))
    (dtype('int64'), dtype('float64'))
    >>> ag.result_type(ag.tensor([1.0]), ag.tensor(1.0, dtype=ag.float64))   # a 0-d tensor does not promote
    dtype('float32')
    """
    a, b = _dt(tensor1), _dt(tensor2)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return _dtypes.result_type(a, b)
    for x, y in ((a, b), (b, a)):
        if isinstance(x, np.ndarray) and x.dtype.kind in "biu" and isinstance(y, float):
            return np.dtype(get_default_dtype())
    return np.result_type(a, b)


def promote_types(type1, type2):
    """PyTorch's ``promote_types``: a float with an integer is that float (int64 with float32 is float32, where
    NumPy gives float64); otherwise the smallest dtype that both convert to without losing values.

    >>> ag.promote_types(ag.int64, ag.float64), ag.promote_types(ag.int64, ag.float32)
    (dtype('float64'), dtype('float32'))
    """
    return _dtypes.promote_types(type1, type2)


def can_cast(from_, to):
    """Whether PyTorch's casting rule allows ``from_`` -> ``to``: within a kind or upward (bool < int <
    float), never float to int.

    >>> ag.can_cast(ag.float64, ag.float32), ag.can_cast(ag.float32, ag.int32)
    (True, False)
    """
    return _dtypes.can_cast(from_, to)


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
    """Move the values into memory shared between processes (``autograd_core.shared``), in place;
    returns the tensor. Processes that get it (by ``fork``, or pickled to a ``spawn`` process) see
    each other's in-place changes, as with PyTorch's. A view moves its base along; other views made
    before the call keep the old memory.

    >>> t = ag.zeros(2)
    >>> t.share_memory_() is t, t.is_shared()
    (True, True)
    """
    if _shared.shared_file(self._data) is not None:
        return self
    base = getattr(self, "_base", None)
    if base is None:
        self._data = _shared.share_array(self._data)
        return self
    # a view: move its base (as PyTorch moves the whole storage) and point the view at the same place
    old = base._data
    if not old.flags.c_contiguous:
        raise RuntimeError(f"share_memory_: this tensor (shape {tuple(self.shape)}) is a view of a non-contiguous "
                           f"tensor; share the tensor it views first, or share a clone()")
    offset = self._data.__array_interface__["data"][0] - old.__array_interface__["data"][0]
    _share_memory_(base)
    self._data = np.ndarray(self._data.shape, self._data.dtype, buffer=base._data, offset=offset,
                            strides=self._data.strides)
    return self


def _is_shared(self):
    """Whether the values lie in memory shared between processes (after ``share_memory_()``).

    >>> ag.zeros(2).is_shared()
    False
    """
    return _shared.shared_file(self._data) is not None


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
                       is_pinned=_is_pinned, share_memory_=_share_memory_, is_shared=_is_shared, pin_memory=_pin_memory,
                       addmm_=_addmm_).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)
for _name, _prop in dict(itemsize=property(_itemsize), nbytes=property(_nbytes), is_sparse=_false("sparse"),
                         is_quantized=_false("quantized"), is_meta=_false("meta"), H=property(_H),
                         mH=property(_mH), is_sparse_csr=_false("sparse_csr"), is_nested=_false("nested"),
                         **{f"is_{d}": _false(d) for d in ("xpu", "mps", "ipu", "maia", "mtia", "mkldnn", "vulkan",
                                                           "xla")}).items():
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


def is_same_size(input, other):  # noqa: A002
    """Whether two tensors have one shape, as ``torch.is_same_size``.

    >>> ag.is_same_size(ag.zeros(2, 3), ag.ones(2, 3))
    True
    """
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):  # noqa: A002
    """Whether the tensor's dtype is signed (signed integers and floats), as ``torch.is_signed``.

    >>> ag.is_signed(ag.tensor([1])), ag.is_signed(ag.tensor([1], dtype=ag.uint8))
    (True, False)
    """
    return input._data.dtype.kind in "if"


_LEGACY_TYPES = {"torch.FloatTensor": np.float32, "torch.DoubleTensor": np.float64, "torch.HalfTensor": np.float16}


def set_default_tensor_type(t):
    """PyTorch's legacy ``set_default_tensor_type``: ``'torch.FloatTensor'`` / ``'torch.DoubleTensor'``
    (or ``ag.FloatTensor`` / ``ag.DoubleTensor``) set the default float dtype, as
    ``set_default_dtype`` does; a CUDA type raises the CPU-only error.

    >>> ag.set_default_tensor_type("torch.DoubleTensor")
    >>> ag.tensor([1.5]).dtype
    dtype('float64')
    >>> ag.set_default_tensor_type(ag.FloatTensor)
    """
    from . import devices
    from .tensor import set_default_dtype
    name = t if isinstance(t, str) else str(getattr(t, "__name__", None) or t)
    if "cuda" in name:
        devices.check_device("cuda", "set_default_tensor_type")
    if isinstance(t, str):
        if t not in _LEGACY_TYPES:
            raise TypeError(f"set_default_tensor_type: expected one of {', '.join(_LEGACY_TYPES)}, got {t!r}")
        dtype = _LEGACY_TYPES[t]
    else:
        dtype = getattr(t, "dtype", None)
        if dtype is None or np.dtype(dtype).kind != "f":
            raise TypeError(f"set_default_tensor_type: expected a floating tensor type such as ag.FloatTensor, got {t!r}")
    set_default_dtype(dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor, sharing memory where it can, as ``torch.asarray``: a tensor comes back as it is
    (or cast, or copied with ``copy=True``), an ndarray is shared unless a cast or ``copy=True`` needs a
    copy, and anything else (lists, numbers) becomes a new tensor (``copy=False`` then raises).

    >>> import numpy as np
    >>> a = np.zeros(2)
    >>> t = ag.asarray(a)
    >>> a[0] = 5.0
    >>> t
    tensor([5., 0.], dtype=float64)
    """
    from .devices import check_device
    from .tensor import tensor as _tensor_from
    if device is not None:
        check_device(device, "asarray")
    if isinstance(obj, Tensor):
        out = obj if dtype is None or np.dtype(dtype) == obj._data.dtype else obj.to(dtype)
        if copy and out is obj:
            out = obj.clone()
        elif copy is False and out is not obj:
            raise ValueError(f"asarray: copy=False, but casting {obj._data.dtype.name} to {np.dtype(dtype).name} "
                             f"needs a copy")
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__") or hasattr(obj, "__dlpack__"):
        arr = np.asarray(obj)
        want = arr.dtype if dtype is None else np.dtype(dtype)
        if copy is False and want != arr.dtype:
            raise ValueError(f"asarray: copy=False, but casting {arr.dtype.name} to {want.name} needs a copy")
        arr = arr.astype(want, copy=bool(copy))
        out = Tensor(arr)
    else:
        if copy is False:
            raise ValueError(f"asarray: copy=False, but a {type(obj).__name__} has no memory to share")
        out = _tensor_from(obj, dtype=dtype)
    if requires_grad:
        out = out.detach() if out is obj else out
        out.requires_grad_(True)
    return out


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):  # noqa: A001
    """PyTorch's deprecated ``range``: ``start`` to ``end`` **included**, by ``step``, in the default
    float dtype unless ``dtype`` says otherwise (``arange`` excludes ``end``).

    >>> ag.range(1, 4)
    tensor([1., 2., 3., 4.])
    """
    from .devices import check_device
    if device is not None:
        check_device(device, "range")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("range: step must be nonzero")
    n = int(math.floor((end - start) / step)) + 1
    if n < 0:
        raise ValueError(f"range: upper bound and larger bound inconsistent with step sign ({start}, {end}, {step})")
    dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
    return Tensor(np.asarray(start + step * np.arange(n), dtype=dt), requires_grad=requires_grad)


def _ints(name, a, b):
    da, db = (x._data if isinstance(x, Tensor) else np.asarray(x) for x in (a, b))
    if da.dtype.kind not in "iub" or db.dtype.kind not in "iub":
        raise TypeError(f"{name}: expects integer tensors, got {da.dtype.name} and {db.dtype.name}")
    return da, db


def gcd(input, other):  # noqa: A002
    """Elementwise greatest common divisor of integer tensors (broadcast), as ``torch.gcd``; no gradient.

    >>> ag.gcd(ag.tensor([12, 7, 0]), ag.tensor([18, 3, 5]))
    tensor([6, 1, 5])
    """
    return Tensor(np.gcd(*_ints("gcd", input, other)))


def lcm(input, other):  # noqa: A002
    """Elementwise least common multiple of integer tensors (broadcast), as ``torch.lcm``; no gradient.

    >>> ag.lcm(ag.tensor([4, 6]), ag.tensor([6, 0]))
    tensor([12,  0])
    """
    return Tensor(np.lcm(*_ints("lcm", input, other)))


def frexp(input):  # noqa: A002
    """(mantissa, exponent) with ``input = mantissa * 2 ** exponent`` and 0.5 <= |mantissa| < 1 (int32
    exponents), as ``torch.frexp``. The mantissa is ``input / 2 ** exponent`` on the tape: its gradient
    is g / 2 ** exponent, PyTorch's rule.

    >>> m, e = ag.frexp(ag.tensor([8.0, 0.75]))
    >>> m, e
    (tensor([0.5000, 0.7500]), tensor([4, 0], dtype=int32))
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input._data.dtype.kind != "f":
        raise TypeError(f"frexp: expects a floating tensor, got {input._data.dtype.name}")
    _, ex = np.frexp(input._data)
    scale = np.ldexp(np.ones((), input._data.dtype), -ex)
    return input * Tensor(scale.astype(input._data.dtype)), Tensor(ex.astype(np.int32))


def ldexp(input, other):  # noqa: A002
    """``input * 2 ** other`` (broadcast), as ``torch.ldexp``, on the tape (gradients to both, as
    PyTorch's composite).

    >>> ag.ldexp(ag.tensor([1.0, 3.0]), ag.tensor([2, -1]))
    tensor([4.0000, 1.5000])
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if not isinstance(other, Tensor):
        other = Tensor(other)
    if other._data.dtype.kind != "f":   # integer exponents: the result keeps input's float dtype, as PyTorch's
        other = other.to(input._data.dtype if input._data.dtype.kind == "f" else get_default_dtype())
    return input * other.exp2()


def vander(x, N=None, increasing=False):  # noqa: N803  (PyTorch's argument name)
    """The Vandermonde matrix of a 1-D ``x``: columns x ** (N-1) .. x ** 0 (``increasing=True``: x ** 0 ..),
    N = len(x) by default, as ``torch.vander``.

    >>> ag.vander(ag.tensor([1.0, 2.0, 3.0]))
    tensor([[1., 1., 1.],
            [4., 2., 1.],
            [9., 3., 1.]])
    """
    from .linalg import vander as _lvander
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    out = _lvander(x, N=N)
    return out if increasing else out.flip(-1)


save = _needs_nn("save")
load = _needs_nn("load")


for _name, _fn in dict(gcd=gcd, lcm=lcm, frexp=frexp, ldexp=ldexp).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)

"""PyTorch's spellings of what the engine already has: ``t.t()``, ``t.nelement()``,
``t.element_size()``, ``t.stride()``, ``t.storage_offset()``, ``t.data_ptr()``,
``t.is_contiguous()``, ``t.split``/``t.chunk``, ``t.type_as``, ``t.sum(dtype=...)``, and the
functions ``numel``, ``is_tensor``, ``t``, ``cumprod``, ``finfo``, ``iinfo``, ``is_floating_point``.

    >>> ag.finfo(ag.float32).bits, ag.iinfo(ag.int8).max
    (32, 127)

Memory-layout answers describe the NumPy array under the tensor, in elements (as PyTorch counts).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import inspect

import numpy as np

from ..errors import OpError
from .. import layouts as _layouts
from ..tensor import Tensor, get_default_dtype
from . import reduce as _reduce
from . import shape as _shape
from .registry import method

if TYPE_CHECKING:
    from ..typing import DTypeLike, TensorLike

__all__ = ["t", "numel", "is_tensor", "cumprod", "finfo", "iinfo", "is_floating_point", "is_complex"]


def t(input: Tensor) -> Tensor:  # noqa: A002  (PyTorch's argument name)
    """Transpose a 2-D tensor (a 0-d or 1-D one is returned as it is), as PyTorch's ``t``.

    >>> ag.ones(2, 3).t().shape
    (3, 2)
    """
    if input.ndim > 2:
        raise OpError(f"t: expects a tensor with at most 2 dims, got shape {tuple(input.shape)}; use "
                         "transpose(dim0, dim1) or permute")
    return input if input.ndim < 2 else _shape.transpose(input, 0, 1)


def numel(input: TensorLike) -> int:  # noqa: A002
    """The number of elements of a tensor.

    >>> ag.numel(ag.zeros(2, 3))
    6
    """
    return int(np.size(input._data if isinstance(input, Tensor) else input))


def is_tensor(obj: Any) -> bool:
    """True if ``obj`` is a Tensor (a Parameter included), as ``torch.is_tensor``.

    >>> import autograd_core as ag
    >>> ag.is_tensor(ag.zeros(2)), ag.is_tensor([0.0, 0.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def cumprod(input: TensorLike, dim: int, *, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """Cumulative product along ``dim``: out[i] = x[0] * ... * x[i].

    Built from one taped product per position along ``dim`` (so the gradient is exact where x has
    zeros, and grad of grad works); meant for short dims.

    >>> ag.cumprod(ag.tensor([1.0, 2.0, 3.0]), 0)
    tensor([1., 2., 6.])
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if dtype is not None:
        x = x.astype(dtype)
    elif x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.astype(np.int64)   # PyTorch multiplies integers and bools in int64
    if x.ndim == 0:
        return x.clone()
    nd = x.ndim
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -nd <= dim < nd:
        raise IndexError(f"cumprod: dim {dim!r} is out of range for a tensor of shape {tuple(x.shape)}")
    axis = int(dim) % nd
    n = x.shape[axis]
    if n == 0:
        return x.clone()
    lead = (slice(None),) * axis
    parts = [x[lead + (slice(0, 1),)]]
    for i in range(1, n):
        parts.append(parts[-1] * x[lead + (slice(i, i + 1),)])
    return _shape.cat(parts, axis) if n > 1 else parts[0].clone()


class _FInfo:
    """``torch.finfo``'s object: the limits as Python floats (NumPy's ``finfo`` gives NumPy scalars of the
    dtype, whose arithmetic overflows where PyTorch's Python floats do not: ``-finfo(float16).max * 2``)."""
    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, dt):
        fi = np.finfo(dt)
        self.bits = int(fi.bits)
        self.eps, self.max, self.min = float(fi.eps), float(fi.max), float(fi.min)
        self.tiny = self.smallest_normal = float(fi.smallest_normal)
        self.resolution = 10.0 ** -int(fi.precision)   # PyTorch: exactly 10**-digits
        self.dtype = dt.name     # a str, as PyTorch's

    def __eq__(self, other):
        return type(other) is _FInfo and other.dtype == self.dtype

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class _IInfo:
    """``torch.iinfo``'s object: ``bits``, ``min``, ``max`` (Python ints) and ``dtype`` (a str)."""
    __slots__ = ("bits", "min", "max", "dtype")

    def __init__(self, dt):
        ii = np.iinfo(dt)
        self.bits, self.min, self.max, self.dtype = int(ii.bits), int(ii.min), int(ii.max), dt.name

    def __eq__(self, other):
        return type(other) is _IInfo and other.dtype == self.dtype

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def finfo(dtype: DTypeLike = None) -> _FInfo:
    """Machine limits of a floating dtype (``bits``, ``eps``, ``max``, ``min``, ``tiny`` = ``smallest_normal``,
    ``resolution``; the default dtype if none is given) as Python floats, as ``torch.finfo``.

    >>> import autograd_core as ag
    >>> ag.finfo(ag.float32).eps, ag.finfo(ag.float16).max, ag.finfo().bits
    (1.1920928955078125e-07, 65504.0, 32)
    """
    if dtype is None:
        dtype = get_default_dtype()
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"finfo: expected a floating dtype, got {dt}; use iinfo for integer dtypes")
    return _FInfo(dt)


def iinfo(dtype: DTypeLike) -> _IInfo:
    """Machine limits of an integer dtype (``min``, ``max``, ``bits``), as ``torch.iinfo``.

    >>> import autograd_core as ag
    >>> ag.iinfo(ag.int8).min, ag.iinfo(ag.uint8).max
    (-128, 255)
    """
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        raise TypeError(f"iinfo: expected an integer dtype, got {dt}; use finfo for floating dtypes")
    return _IInfo(dt)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002  (PyTorch's argument name)
    """True if the tensor's dtype is a floating dtype (float16/32/64), as ``torch.is_floating_point``.

    >>> import autograd_core as ag
    >>> ag.is_floating_point(ag.tensor([1.0])), ag.is_floating_point(ag.tensor([1]))
    (True, False)
    """
    return np.dtype(input.dtype).kind == "f"


def is_complex(input: Tensor) -> bool:  # noqa: A002
    """Always False: tensors here are never complex (PyTorch's ``is_complex``).

    >>> import autograd_core as ag
    >>> ag.is_complex(ag.tensor([1.0]))
    False
    """
    return False


# -- Tensor methods ---------------------------------------------------------------------------------
def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _stride(self, dim=None):
    """Steps in elements between neighbours along each dim (``t.stride()``), or along ``dim``, as
    ``Tensor.stride``.

    >>> import autograd_core as ag
    >>> x = ag.zeros(2, 3)
    >>> x.stride(), x.T.stride(), x.stride(1)
    ((3, 1), (1, 3), 1)
    """
    a = self._data
    st = tuple(s // a.itemsize for s in a.strides)
    return st if dim is None else st[dim]


def _storage_offset(self):
    """Where this tensor's first element sits in its storage, in elements (non-zero for views), as
    ``Tensor.storage_offset``.

    >>> import autograd_core as ag
    >>> x = ag.arange(6).reshape(2, 3)
    >>> x.storage_offset(), x[1].storage_offset(), x[1, 2:].storage_offset()
    (0, 3, 5)
    """
    a = self._data
    root = _root(a)
    return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize


def _split(self, split_size_or_sections, dim=0):
    """Split along ``dim`` into a tuple of views: an int is each piece's size (the last may be smaller), a
    list gives the sizes; see ``autograd_core.split``. PyTorch: ``Tensor.split``.

    >>> import autograd_core as ag
    >>> ag.arange(5).split(2)
    (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    return _shape.split(self, split_size_or_sections, dim)


def _split_with_sizes(self, split_sizes, dim=0):
    """Split along ``dim`` into views of the given sizes (they must add up to the dim's size), as
    ``Tensor.split_with_sizes``.

    >>> import autograd_core as ag
    >>> ag.arange(5).split_with_sizes([3, 2])
    (tensor([0, 1, 2]), tensor([3, 4]))
    """
    return _shape.split(self, list(split_sizes), dim)


def _chunk(self, chunks, dim=0):
    """Split along ``dim`` into at most ``chunks`` views of size ceil(n / chunks); see
    ``autograd_core.chunk``. PyTorch: ``Tensor.chunk``.

    >>> import autograd_core as ag
    >>> ag.arange(6).chunk(3)
    (tensor([0, 1]), tensor([2, 3]), tensor([4, 5]))
    """
    return _shape.chunk(self, chunks, dim)


def _type_as(self, other):
    """This tensor cast to ``other``'s dtype (``self.to(other.dtype)``), as ``Tensor.type_as``.

    >>> import autograd_core as ag
    >>> ag.tensor([1, 2]).type_as(ag.zeros(1, dtype=ag.float64))
    tensor([1., 2.], dtype=float64)
    """
    return self.to(other.dtype)


def _with_dtype(reducer):
    """Add PyTorch's ``dtype=`` keyword (cast the input first) to a reduction method."""
    def f(self, *args, dtype=None, **kwargs):
        x = self if dtype is None else self.to(dtype)
        return reducer(x, *args, **kwargs)
    f.__name__ = reducer.__name__
    f.__doc__ = reducer.__doc__
    return f


def _attach(name, fn):
    if not hasattr(Tensor, name):  # an engine module may already define it
        method(name, fn)


def _nelement(self):
    """The number of elements (``t.numel()``), as ``Tensor.nelement``.

    >>> import autograd_core as ag
    >>> ag.zeros(2, 3).nelement()
    6
    """
    return self._data.size


def _element_size(self):
    """The size of one element in bytes, as ``Tensor.element_size``.

    >>> import autograd_core as ag
    >>> ag.zeros(2).element_size(), ag.zeros(2, dtype=ag.float64).element_size()
    (4, 8)
    """
    return self._data.itemsize


def _data_ptr(self):
    """The address of the tensor's first element (an int), as ``Tensor.data_ptr``; views of one storage
    differ by their offsets.

    >>> import autograd_core as ag
    >>> x = ag.zeros(4)
    >>> x[1:].data_ptr() - x.data_ptr() == x.element_size()
    True
    """
    return self._data.__array_interface__["data"][0]


def _is_contiguous(self, memory_format=None):
    """True if the elements are laid out in C (row-major) order without gaps, as ``Tensor.is_contiguous``;
    ``memory_format=ag.channels_last`` (or ``channels_last_3d``) asks about that layout instead (False
    for a tensor of another rank).

    >>> import autograd_core as ag
    >>> x = ag.zeros(2, 3)
    >>> x.is_contiguous(), x.T.is_contiguous(), x.is_contiguous(memory_format=ag.channels_last)
    (True, False, False)
    """
    if memory_format is None:
        return bool(self._data.flags.c_contiguous)
    return _layouts.is_contiguous_in(self._data, _layouts.check(memory_format, None, "is_contiguous"))


def _is_floating_point(self):
    """True if the dtype is a floating dtype (float16/32/64), as ``Tensor.is_floating_point``.

    >>> import autograd_core as ag
    >>> ag.zeros(1).is_floating_point(), ag.zeros(1, dtype=ag.int64).is_floating_point()
    (True, False)
    """
    return self._data.dtype.kind == "f"


def _is_complex(self):
    """Always False: tensors here are never complex (``Tensor.is_complex``).

    >>> import autograd_core as ag
    >>> ag.zeros(1).is_complex()
    False
    """
    return False


def _ndimension(self):
    """The number of dims (``t.dim()``, ``t.ndim``), as ``Tensor.ndimension``.

    >>> import autograd_core as ag
    >>> ag.zeros(2, 3).ndimension()
    2
    """
    return self._data.ndim


for _name, _f in dict(t=t, nelement=_nelement, element_size=_element_size, stride=_stride,
                      storage_offset=_storage_offset, data_ptr=_data_ptr, is_contiguous=_is_contiguous,
                      is_floating_point=_is_floating_point, is_complex=_is_complex, ndimension=_ndimension,
                      split=_split, split_with_sizes=_split_with_sizes, chunk=_chunk, type_as=_type_as,
                      cumprod=cumprod).items():
    _attach(_name, _f)

for _name in ("sum", "mean", "prod", "cumsum"):
    _m = getattr(Tensor, _name, None) or getattr(_reduce, _name)
    try:
        _has_dtype = "dtype" in inspect.signature(_m).parameters
    except (TypeError, ValueError):
        _has_dtype = True
    if not _has_dtype:
        method(_name, _with_dtype(_m))

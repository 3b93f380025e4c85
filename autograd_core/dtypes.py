"""PyTorch's dtype names that the core module doesn't define, the dtypes this engine refuses, and PyTorch's
type promotion (``promote_types``, ``result_type``), which the binary ops follow.

Tensors hold NumPy arrays, so a dtype is a ``np.dtype``: ``ag.half`` is ``float16``, ``ag.int`` is
``int32``, ``ag.short`` is ``int16``. NumPy has no bfloat16, and this engine doesn't compute on
complex numbers; ``ag.bfloat16``, ``ag.cfloat`` and friends are dtype-like placeholders, so a
script that only mentions them (``dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else
torch.float16``) runs, while making a tensor of one raises a TypeError that says what to use.

    >>> import autograd_core as ag
    >>> ag.half, ag.short, ag.int
    (dtype('float16'), dtype('int16'), dtype('int32'))
    >>> dt = ag.bfloat16 if ag.cuda.is_bf16_supported() else ag.float16
    >>> ag.zeros(2, dtype=dt).dtype
    dtype('float16')
    >>> ag.zeros(2, dtype=ag.bfloat16)
    Traceback (most recent call last):
    ...
    TypeError: bfloat16: NumPy has no bfloat16, so tensors here can't hold it; use float32 (or float16 to save memory)
"""
from __future__ import annotations

import builtins

import numpy as np

__all__ = ["half", "short", "int16", "int", "uint16", "uint32", "uint64", "cfloat", "cdouble", "chalf",
           "complex32", "complex64", "complex128", "bfloat16", "UnsupportedDtype", "type_name", "as_dtype",
           "parse_to", "promote_types", "result_type", "number_result_type", "can_cast"]

half = np.dtype(np.float16)
short = int16 = np.dtype(np.int16)
int = np.dtype(np.int32)  # noqa: A001  (torch.int)
uint16, uint32, uint64 = np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64)


class UnsupportedDtype:
    """A dtype that can be named but not used: ``np.dtype(it)`` raises a TypeError that says why
    and what to use instead (NumPy reads a ``dtype`` attribute, so every constructor and ``to``
    refuses it the same way)."""

    __slots__ = ("name", "itemsize", "is_floating_point", "is_complex", "_why")

    def __init__(self, name, itemsize, is_floating_point, is_complex, why):
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.is_complex = is_complex
        self._why = why

    @property
    def dtype(self):
        raise TypeError(f"{self.name}: {self._why}")

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module attribute of that name


bfloat16 = UnsupportedDtype("bfloat16", 2, True, False,
                            "NumPy has no bfloat16, so tensors here can't hold it; use float32 (or float16 to save "
                            "memory)")
_COMPLEX = "this engine doesn't compute with complex numbers; use two real tensors (real and imaginary parts)"
chalf = complex32 = UnsupportedDtype("complex32", 4, False, True, _COMPLEX)
cfloat = complex64 = UnsupportedDtype("complex64", 8, False, True, _COMPLEX)
cdouble = complex128 = UnsupportedDtype("complex128", 16, False, True, _COMPLEX)


# -- PyTorch's tensor type names ('torch.FloatTensor') ------------------------------------------------
_TYPE_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
               np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor", np.dtype(np.int32): "IntTensor",
               np.dtype(np.int16): "ShortTensor", np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor",
               np.dtype(np.bool_): "BoolTensor"}
_TYPE_DTYPES = {v: k for k, v in _TYPE_NAMES.items()}
_TYPE_DTYPES["BFloat16Tensor"] = bfloat16


def promote_types(type1, type2):
    """PyTorch's ``promote_types``: a float with an integer or bool is that float (NumPy makes int64 with
    float32 float64); otherwise NumPy's rule, which is PyTorch's there.

    >>> import numpy as np
    >>> promote_types(np.int64, np.float32), promote_types(np.uint8, np.int8)
    (dtype('float32'), dtype('int16'))
    """
    da, db = np.dtype(type1), np.dtype(type2)
    if da.kind == "f" and db.kind in "biu":
        return da
    if db.kind == "f" and da.kind in "biu":
        return db
    return np.promote_types(da, db)


def result_type(a, b):
    """The dtype of a binary op on arrays ``a`` and ``b`` (the tensors' data) under PyTorch's rules: arrays
    with dims decide, and a 0-d one only where its category (bool < integer < float) is higher than theirs.
    float32 with a 0-d float64 is float32, int64 with a 0-d float64 is float64, float32 with int64 float32.

    >>> import numpy as np
    >>> result_type(np.ones(2, np.float32), np.array(2.0)), result_type(np.arange(2), np.array(2.0))
    (dtype('float32'), dtype('float64'))
    """
    da, db = a.dtype, b.dtype
    if da is db:
        return da
    za, zb = a.ndim == 0, b.ndim == 0
    if za == zb:
        return promote_types(da, db)
    dim, zero = (db, da) if za else (da, db)
    if dim.kind == "f":
        return dim
    if dim.kind == "b" or zero.kind == "f":
        return promote_types(dim, zero)
    return dim


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def can_cast(from_, to):
    """PyTorch's casting rule for in-place results and ``out=``: within a category or upward (bool < integer
    < float), never downward; signed and unsigned integers are one category (int64 into uint8 wraps).

    >>> can_cast(np.int64, np.uint8), can_cast(np.float32, np.int64), can_cast(np.float64, np.float16)
    (True, False, True)
    """
    return _CATEGORY[np.dtype(from_).kind] <= _CATEGORY[np.dtype(to).kind]


def number_result_type(a, b, default_float):
    """``result_type`` where ``a`` or ``b`` may also be a Python bool, int or float (NumPy scalars count as
    the Python number they hold): such a number decides the dtype only where its category (bool < integer
    < float) is higher than the arrays', and then gives int64 or ``default_float``, as PyTorch's wrapped
    numbers. uint8 with 300 is uint8; an int tensor with 0.5 is the default float dtype.

    >>> import numpy as np
    >>> u8 = np.ones(2, np.uint8)
    >>> number_result_type(u8, 300, np.float32), number_result_type(u8, 0.5, np.float32)
    (dtype('uint8'), dtype('float32'))
    """
    aa, ba = isinstance(a, np.ndarray), isinstance(b, np.ndarray)
    if aa and ba:
        return result_type(a, b)
    if not (aa or ba):
        return np.result_type(a, b)
    arr, num = (a, b) if aa else (b, a)
    kind = "b" if isinstance(num, (bool, np.bool_)) else "f" if isinstance(num, (float, np.floating)) else "i"
    if _CATEGORY[kind] <= _CATEGORY[arr.dtype.kind]:
        return arr.dtype
    return np.dtype(default_float) if kind == "f" else np.dtype(np.int64)


def type_name(dtype):
    """PyTorch's name of a CPU tensor of ``dtype``: ``'torch.FloatTensor'`` for float32 (kept as PyTorch
    spells it, so scripts that compare ``t.type()`` with such strings work)."""
    dt = np.dtype(dtype)
    name = _TYPE_NAMES.get(dt)
    return f"torch.{name}" if name is not None else f"torch.{dt.name}"


def as_dtype(obj, where="dtype"):
    """``obj`` as a NumPy dtype: a dtype, a NumPy type, a name (``'float64'``, ``'torch.float64'``), a
    PyTorch type name (``'torch.DoubleTensor'``), a tensor type (``ag.DoubleTensor``) or a
    ``torch.dtype``. CUDA type names (``'torch.cuda.FloatTensor'``) raise the CPU-only error."""
    if isinstance(obj, np.dtype):
        return obj
    if isinstance(obj, str) or type(obj).__module__ == "torch":
        name = obj if isinstance(obj, str) else str(obj)
        if name.startswith("torch.cuda."):
            from .devices import check_device
            check_device("cuda", where)
        short = name[len("torch."):] if name.startswith("torch.") else name
        if short in _TYPE_DTYPES:
            return np.dtype(_TYPE_DTYPES[short])
        if short in globals() and isinstance(globals()[short], UnsupportedDtype):
            return np.dtype(globals()[short])  # raises the placeholder's message
        obj = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
               "short": "int16", "bool": "bool"}.get(short, short)
    try:
        return np.dtype(obj)
    except TypeError as e:
        if isinstance(obj, UnsupportedDtype):
            raise
        raise TypeError(f"{where}: {obj!r} is not a dtype; expected e.g. ag.float32, ag.int64 or 'float64' "
                        f"({e})") from None


def parse_to(args, device=None, dtype=None, non_blocking=False, copy=False, where="to", tensor_type=None):
    """Read PyTorch's ``to`` arguments: ``(dtype)``, ``(device)``, ``(device, dtype)``, ``(tensor)`` with
    optional positional ``non_blocking, copy`` after them, or keywords. Checks the device (only the
    CPU) and returns ``(dtype or None, copy)``. ``tensor_type``: the Tensor class (an argument of that
    type gives its dtype)."""
    from .devices import check_device, is_device
    flags = []
    for a in args:
        if isinstance(a, bool):
            flags.append(a)
        elif tensor_type is not None and isinstance(a, tensor_type):
            dtype = a.dtype
        elif is_device(a) or isinstance(a, (builtins.int, np.integer)):
            device = a  # a bare int is a CUDA ordinal, as in PyTorch
        elif a is None:
            continue
        else:
            dtype = a
    if len(flags) > 2:
        raise TypeError(f"{where}: too many positional flags {flags}; expected (non_blocking, copy)")
    if len(flags) == 2:
        copy = flags[1]
    check_device(device, where)
    return (None if dtype is None else as_dtype(dtype, where)), bool(copy)

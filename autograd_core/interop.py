"""NumPy and DLPack interop: NumPy functions and ufuncs on Tensors run the taped ops; DLPack shares memory.

* ``np.exp(t)``, ``np.sum(t, axis=0)``, ``np.concatenate([t, a])``, ``a * t``, ``np.where(c, t, 0)``:
  a NumPy function or ufunc that has a taped op here runs that op (``__array_ufunc__`` /
  ``__array_function__``), so the result is a Tensor and gradients flow through it. NumPy's
  keywords are mapped to ours (``ddof`` -> ``correction``, ``keepdims``, ``axis=None``
  flattening where NumPy flattens). Values are NumPy's; result dtypes follow the engine's
  rules (PyTorch's: an int tensor times 0.5 is float32).
* Any other NumPy function, a ufunc method other than a plain call (``np.add.at``,
  ``np.multiply.outer``, ...) and keywords we can't honour (``out=``, ``where=``, ``dtype=`` on
  most functions) raise a TypeError that names the function and says to call it on
  ``t.numpy()`` (or ``t.detach().numpy()``) instead: a NumPy result would silently drop the tape.
  ``np.add.reduce`` / ``multiply`` / ``maximum`` / ``minimum`` / ``logical_and`` / ``logical_or``
  ``.reduce`` are sums, products, max, min, all and any.
* ``np.shape``, ``np.ndim``, ``np.size``, ``np.shares_memory`` and ``np.may_share_memory`` answer
  from the tensor's array (they compute no values). ``np.asarray(t)`` and ``np.array(t)`` still give
  the array (that is ``__array__``, not these protocols), so libraries that convert first (matplotlib,
  scikit-learn) take Tensors as before.
* DLPack: ``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` share ``t``'s memory, and
  ``ag.from_dlpack(x)`` shares the memory of any DLPack producer (a torch tensor, a NumPy array, a
  legacy DLPack capsule). As in PyTorch, a tensor that requires grad is not exported (detach it
  first), and writes made through the other library do not bump the tensor's version counter. A
  flipped view (negative strides) is exported as a copy.

    >>> import numpy as np
    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = np.sum(np.exp(x) * np.array([1.0, 0.0, 1.0], np.float32))
    >>> y.backward()
    >>> x.grad
    tensor([ 2.7183,  0.0000, 20.0855])
    >>> np.median(x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: numpy.median is not supported on autograd_core Tensors (no taped op); call it on t.numpy() ...
"""
from __future__ import annotations

import builtins

import numpy as np

from .ops import elementwise as E
from .ops import index as I
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S
from .tensor import Tensor

__all__ = ["from_dlpack"]

_NG = object()  # "not given", for NumPy's keywords whose default is its private ``np._NoValue``
_NOVALUE = getattr(np, "_NoValue", _NG)
_OK_OPERANDS = (Tensor, np.ndarray, np.generic, int, float, builtins.bool, list, tuple)
_OK_TYPES = (Tensor, np.ndarray)
_ADVICE = "call it on t.numpy() (or t.detach().numpy()) instead"


def _unsupported(name):
    return TypeError(f"numpy.{name} is not supported on autograd_core Tensors (no taped op); {_ADVICE}")


def _given(v):
    return v is not None and v is not _NG and v is not _NOVALUE


def _refuse(name, **kw):
    """TypeError for the first keyword that was given a value we can't honour."""
    for k, v in kw.items():
        if _given(v):
            raise TypeError(f"numpy.{name}: the keyword {k}= is not supported on autograd_core Tensors; "
                            f"{_ADVICE}")


def _kd(keepdims):
    return builtins.bool(keepdims) if _given(keepdims) else False


def _t(x):
    """An operand as a Tensor (NumPy arrays keep their dtype and memory)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(x if isinstance(x, np.ndarray) else np.asarray(x))


def _cast(x, dtype):
    """``x`` in ``dtype``, on the tape (NumPy's ``dtype=``: compute in that type)."""
    x = _t(x)
    return x if dtype is None else S.astype(x, dtype)


# -- ufuncs --------------------------------------------------------------------------------------
def _square(x):
    return E.pow(x, 2)


_UFUNCS = {
    np.add: E.add, np.subtract: E.sub, np.multiply: E.mul, np.true_divide: E.div, np.power: E.pow,
    np.negative: E.neg, np.positive: S.clone, np.absolute: E.abs, np.square: _square,
    np.exp: E.exp, np.log: E.log, np.log1p: E.log1p, np.expm1: E.expm1, np.sqrt: E.sqrt,
    np.sin: E.sin, np.cos: E.cos, np.tanh: E.tanh, np.maximum: E.maximum, np.minimum: E.minimum,
    np.equal: E.eq, np.not_equal: E.ne, np.less: E.lt, np.less_equal: E.le, np.greater: E.gt,
    np.greater_equal: E.ge, np.logical_and: E.logical_and, np.logical_or: E.logical_or,
    np.logical_not: E.logical_not, np.sign: E.sign, np.floor: E.floor, np.ceil: E.ceil,
    np.rint: E.round, np.isnan: E.isnan, np.isinf: E.isinf, np.isfinite: E.isfinite, np.matmul: L.matmul,
}

# ufunc.reduce -> the reduction it computes
_REDUCERS = {np.add: R.sum, np.multiply: R.prod, np.maximum: R.amax, np.minimum: R.amin,
             np.logical_and: R.all, np.logical_or: R.any}


def _ufunc_reduce(ufunc, x, axis=0, dtype=None, out=None, keepdims=False, initial=_NG, where=True):
    name = f"{ufunc.__name__}.reduce"
    _refuse(name, out=out[0] if isinstance(out, tuple) and len(out) == 1 else out, initial=initial,
            where=None if where is True else where)
    if dtype is not None and ufunc in (np.logical_and, np.logical_or):
        _refuse(name, dtype=dtype)
    return _REDUCERS[ufunc](_cast(x, dtype), axis=axis, keepdims=builtins.bool(keepdims))


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """NumPy ufuncs on Tensors: ``np.exp(t)``, ``a * t``, ``np.maximum(t, 0)``, ``np.add.reduce(t)``
    run the taped op, so the result is a Tensor on the tape. Other ufuncs and methods raise."""
    for x in inputs:
        if not isinstance(x, _OK_OPERANDS):
            return NotImplemented  # another array type: let it (or NumPy's error) decide
    op = _UFUNCS.get(ufunc)
    if op is not None and method == "__call__" and not kwargs:
        return op(*inputs)  # the common case: `a * t`, `np.exp(t)`
    name = ufunc.__name__
    if method == "reduce" and ufunc in _REDUCERS and len(inputs) == 1:
        return _ufunc_reduce(ufunc, inputs[0], **kwargs)
    if method != "__call__" or op is None:
        raise _unsupported(name if method == "__call__" else f"{name}.{method}")
    out = kwargs.pop("out", None)
    if out is not None and builtins.any(o is not None for o in out):
        raise TypeError(f"numpy.{name}: out= is not supported on autograd_core Tensors (the result is a new "
                        f"Tensor on the tape; it can't be written into an array); use the result (`a = a + t` "
                        f"rather than `a += t`), or {_ADVICE}")
    if kwargs.get("where", True) is True:
        kwargs.pop("where", None)
    for k in kwargs:
        _refuse(name, **{k: kwargs[k] if kwargs[k] is not None else _NG})
    return op(*inputs)


# -- functions -----------------------------------------------------------------------------------
def _sum(a, axis=None, dtype=None, out=None, keepdims=_NG, initial=_NG, where=_NG):
    _refuse("sum", out=out, initial=initial, where=where)
    return R.sum(_cast(a, dtype), axis=axis, keepdims=_kd(keepdims))


def _mean(a, axis=None, dtype=None, out=None, keepdims=_NG, *, where=_NG):
    _refuse("mean", out=out, where=where)
    return R.mean(_cast(a, dtype), axis=axis, keepdims=_kd(keepdims))


def _prod(a, axis=None, dtype=None, out=None, keepdims=_NG, initial=_NG, where=_NG):
    _refuse("prod", out=out, initial=initial, where=where)
    return R.prod(_cast(a, dtype), axis=axis, keepdims=_kd(keepdims))


def _extreme(fn, name):
    def f(a, axis=None, out=None, keepdims=_NG, initial=_NG, where=_NG):
        _refuse(name, out=out, initial=initial, where=where)
        return fn(_t(a), axis=axis, keepdims=_kd(keepdims))
    f.__name__ = name
    return f


def _spread(fn, name):
    def f(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NG, *, where=_NG, mean=_NG, correction=_NG):
        _refuse(name, out=out, where=where, mean=mean)
        if _given(correction):
            if ddof != 0:
                raise ValueError(f"numpy.{name}: ddof and correction can't be given together")
            ddof = correction
        return fn(_cast(a, dtype), axis=axis, correction=ddof, keepdims=_kd(keepdims))
    f.__name__ = name
    return f


def _arg(fn, name):
    def f(a, axis=None, out=None, *, keepdims=_NG):
        _refuse(name, out=out)
        return fn(_t(a), axis=axis, keepdims=_kd(keepdims))
    f.__name__ = name
    return f


def _logic(fn, name):
    def f(a, axis=None, out=None, keepdims=_NG, *, where=_NG):
        _refuse(name, out=out, where=where)
        return fn(_t(a), axis=axis, keepdims=_kd(keepdims))
    f.__name__ = name
    return f


def _cumsum(a, axis=None, dtype=None, out=None):
    _refuse("cumsum", out=out)
    x = _cast(a, dtype)
    if axis is None:  # NumPy flattens
        x, axis = S.reshape(x, -1), 0
    return R.cumsum(x, axis=axis)


def _concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _refuse("concatenate", out=out, dtype=dtype)
    xs = [_t(a) for a in arrays]
    if axis is None:  # NumPy flattens
        xs, axis = [S.reshape(x, -1) for x in xs], 0
    return S.concatenate(xs, axis=axis)


def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _refuse("stack", out=out, dtype=dtype)
    return S.stack([_t(a) for a in arrays], axis=axis)


def _reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    _refuse("reshape", copy=copy)
    if order != "C":
        raise TypeError(f"numpy.reshape: order={order!r} is not supported on autograd_core Tensors "
                        f"(they reshape in C order); {_ADVICE}")
    if shape is None:
        shape = newshape
    return S.reshape(_t(a), shape)


def _ravel(a, order="C"):
    return _reshape(a, -1, order=order)


def _transpose(a, axes=None):
    x = _t(a)
    return S.permute(x, tuple(range(x.ndim))[::-1] if axes is None else tuple(axes))


def _swapaxes(a, axis1, axis2):
    return S.swapaxes(_t(a), axis1, axis2)


def _axes(axis, ndim, name):
    """NumPy's normalize_axis_tuple: an int or tuple of ints as non-negative ints, no repeats."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim)
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"numpy.{name}: repeated axis in {axis}")
    return out


def _moveaxis(a, source, destination):
    x = _t(a)
    src, dst = _axes(source, x.ndim, "moveaxis"), _axes(destination, x.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError("numpy.moveaxis: `source` and `destination` arguments must have the same number of "
                         "elements")
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return S.permute(x, tuple(order))


def _squeeze(a, axis=None):
    x = _t(a)
    if axis is None:
        return S.squeeze(x)
    axes = _axes(axis, x.ndim, "squeeze") if x.ndim else []
    if builtins.any(x.shape[d] != 1 for d in axes):
        raise ValueError(f"numpy.squeeze: cannot select an axis to squeeze out which has size not equal to "
                         f"one (shape {tuple(x.shape)}, axis {axis})")
    return S.reshape(x, tuple(s for d, s in enumerate(x.shape) if d not in axes))


def _expand_dims(a, axis):
    x = _t(a)
    n = (1 if isinstance(axis, (int, np.integer)) else len(axis)) + x.ndim
    axes = _axes(axis, n, "expand_dims")
    it = iter(x.shape)
    return S.reshape(x, tuple(1 if d in axes else next(it) for d in range(n)))


def _broadcast_to(array, shape, subok=False):
    return S.broadcast_to(_t(array), shape)


def _where(condition, x=_NG, y=_NG, /):
    if x is _NG and y is _NG:
        raise TypeError(f"numpy.where with only a condition (the indices where it holds, as numpy.nonzero) is "
                        f"not supported on autograd_core Tensors (no taped op); {_ADVICE}")
    if x is _NG or y is _NG:
        raise ValueError("numpy.where: either both or neither of x and y should be given")
    return E.where(condition, x, y)


def _clip(a, a_min=_NG, a_max=_NG, out=None, *, min=_NG, max=_NG, **kwargs):
    _refuse("clip", out=out, **kwargs)
    if _given(min) or min is None:
        if a_min is not _NG and a_min is not _NOVALUE:
            raise ValueError("numpy.clip: give a_min or min, not both")
        a_min = min
    if _given(max) or max is None:
        if a_max is not _NG and a_max is not _NOVALUE:
            raise ValueError("numpy.clip: give a_max or max, not both")
        a_max = max
    lo = a_min if _given(a_min) else None
    hi = a_max if _given(a_max) else None
    return E.clip(_t(a), lo, hi)


def _dot(a, b, out=None):
    """NumPy's dot: scalars multiply, 1-D . 1-D is the inner product, otherwise a sum over a's last and
    b's second-to-last axis (a matmul when b has at most 2 dims)."""
    _refuse("dot", out=out)
    if _ndim(a) == 0 or _ndim(b) == 0:
        return E.mul(a, b)
    if _ndim(b) > 2:
        raise TypeError(f"numpy.dot of shapes {_shape(a)} and {_shape(b)} (b with more than 2 dims) is not "
                        f"supported on autograd_core Tensors; use numpy.matmul / numpy.einsum, or {_ADVICE}")
    if _ndim(a) == 1 and _ndim(b) == 1:
        return L.dot(_t(a), _t(b))
    return L.matmul(a, b)


def _outer(a, b, out=None):
    _refuse("outer", out=out)
    return L.outer(S.reshape(_t(a), -1), S.reshape(_t(b), -1))  # NumPy flattens both


def _einsum(*operands, out=None, optimize=False, **kwargs):
    _refuse("einsum", out=out, **kwargs)  # optimize only changes the contraction order
    if not operands or not isinstance(operands[0], str):
        raise TypeError(f"numpy.einsum: only the subscripts-string form is supported on autograd_core "
                        f"Tensors; {_ADVICE}")
    return L.einsum(operands[0], *[_t(o) for o in operands[1:]])


def _tile(A, reps):
    return S.tile(_t(A), reps)


def _flip(m, axis=None):
    return S.flip(_t(m), axis=axis)


def _pad(array, pad_width, mode="constant", **kwargs):
    x = _t(array)
    if mode != "constant":
        raise TypeError(f"numpy.pad: mode={mode!r} is not supported on autograd_core Tensors (only "
                        f"'constant'); {_ADVICE}")
    value = kwargs.pop("constant_values", 0)
    _refuse("pad", **kwargs)
    if np.ndim(value) != 0:
        raise TypeError(f"numpy.pad: per-axis constant_values are not supported on autograd_core Tensors "
                        f"(give one number); {_ADVICE}")
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError("numpy.pad: `pad_width` must be of integral type.")
    if widths.size == 0 or x.ndim == 0:
        return S.clone(x)
    try:
        widths = np.broadcast_to(widths, (x.ndim, 2))
    except ValueError:
        raise ValueError(f"numpy.pad: pad_width {pad_width!r} doesn't fit a tensor of {x.ndim} dims "
                         f"(give (before, after) per dim, one pair, or one int)") from None
    return S.pad(x, tuple((int(b), int(c)) for b, c in widths), value=value)


def _take_along_axis(arr, indices, axis=-1):
    x = _t(arr)
    if axis is None:  # NumPy flattens
        x, axis = S.reshape(x, -1), 0
    return I.take_along_axis(x, indices, axis)


def _round(a, decimals=0, out=None):
    _refuse("round", out=out)
    if decimals != 0:
        raise TypeError(f"numpy.round: decimals={decimals} is not supported on autograd_core Tensors (only 0); "
                        f"{_ADVICE}")
    return E.round(_t(a))


def _copy(a, order="K", subok=False):
    return S.clone(_t(a))


def _shape(a):
    return tuple(a.shape) if isinstance(a, Tensor) else np.shape(a)


def _ndim(a):
    return a.ndim if isinstance(a, Tensor) else np.ndim(a)


def _size(a, axis=None):
    if not isinstance(a, Tensor):
        return np.size(a, axis)
    return a.numel() if axis is None else a.shape[axis]


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _memory_query(fn):
    """Questions about memory (no values, no tape) are answered on the tensors' arrays."""
    def f(a, b, /, max_work=None):
        return fn(_raw(a), _raw(b), max_work=max_work)
    f.__name__ = fn.__name__
    return f


_FUNCTIONS = {
    np.sum: _sum, np.mean: _mean, np.prod: _prod,
    np.max: _extreme(R.amax, "max"), np.amax: _extreme(R.amax, "amax"),
    np.min: _extreme(R.amin, "min"), np.amin: _extreme(R.amin, "amin"),
    np.var: _spread(R.var, "var"), np.std: _spread(R.std, "std"),
    np.argmax: _arg(R.argmax, "argmax"), np.argmin: _arg(R.argmin, "argmin"),
    np.any: _logic(R.any, "any"), np.all: _logic(R.all, "all"), np.cumsum: _cumsum,
    np.concatenate: _concatenate, np.stack: _stack, np.reshape: _reshape, np.ravel: _ravel,
    np.transpose: _transpose, np.swapaxes: _swapaxes, np.moveaxis: _moveaxis, np.squeeze: _squeeze,
    np.expand_dims: _expand_dims, np.broadcast_to: _broadcast_to, np.where: _where, np.clip: _clip,
    np.dot: _dot, np.outer: _outer, np.einsum: _einsum, np.tile: _tile, np.flip: _flip, np.pad: _pad,
    np.take_along_axis: _take_along_axis, np.round: _round, np.around: _round, np.copy: _copy,
    np.shape: _shape, np.ndim: _ndim, np.size: _size,
    np.shares_memory: _memory_query(np.shares_memory), np.may_share_memory: _memory_query(np.may_share_memory),
}


def _qualname(func):
    """``sum`` for ``np.sum``, ``linalg.norm`` for ``np.linalg.norm``."""
    mod = getattr(func, "__module__", None) or "numpy"
    sub = mod[len("numpy."):] if mod.startswith("numpy.") else ""
    return (sub + "." if sub and not sub.startswith("_") else "") + func.__name__


def _array_function(self, func, types, args, kwargs):
    """NumPy functions on Tensors: those with a taped op (``np.sum``, ``np.concatenate``, ``np.where``,
    ...) run it, so the result is a Tensor on the tape; any other raises a TypeError."""
    for t in types:
        if not issubclass(t, _OK_TYPES):
            return NotImplemented  # another array type: let it (or NumPy's error) decide
    impl = _FUNCTIONS.get(func)
    if impl is None:
        raise _unsupported(_qualname(func))
    return impl(*args, **kwargs)


# -- DLPack ----------------------------------------------------------------------------------------
def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Export this tensor's array through DLPack (``torch.from_dlpack(t)``, ``np.from_dlpack(t)``):
    the consumer shares the memory. A tensor that requires grad is refused, as PyTorch does
    (export ``t.detach()``): writes through the other library would bypass the tape.

    Two layouts are exported as a copy (refused with ``copy=False``): an array with negative
    strides (a flipped view; PyTorch has no such tensors and aborts the process on one), and a
    read-only array (a broadcast view) asked for by a consumer older than DLPack 1.0, which has no
    read-only flag."""
    if self.requires_grad:
        raise BufferError("__dlpack__: can't export a tensor that requires grad (the other library could "
                          "change it behind the tape's back); export t.detach() instead")
    arr = self._data
    legacy = max_version is None or tuple(max_version) < (1, 0)
    if builtins.any(s < 0 for s in arr.strides) or (legacy and not arr.flags.writeable):
        if copy is False:
            raise BufferError(f"__dlpack__: this tensor's array (strides {arr.strides}, "
                              f"{'read-only' if not arr.flags.writeable else 'writeable'}) can't be shared "
                              f"through DLPack without a copy; allow a copy or export t.clone()")
        copy = True
    return arr.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)


def _dlpack_device(self):
    """(device type, device id) for DLPack: (1, 0), the CPU."""
    return self._data.__dlpack_device__()


class _Capsule:
    """A legacy DLPack capsule (``torch.utils.dlpack.to_dlpack``) as a producer ``np.from_dlpack`` takes."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, stream=None):
        return self._capsule

    def __dlpack_device__(self):
        return (1, 0)


def from_dlpack(x, *, device=None, copy=None):
    """A Tensor sharing the memory of a DLPack producer (PyTorch's ``torch.from_dlpack``).

    ``x``: anything with ``__dlpack__`` (a torch tensor, a NumPy array, a JAX or CuPy array on the CPU,
    another Tensor) or a legacy DLPack capsule. ``copy=True`` copies, ``copy=False`` refuses to.
    A torch tensor that requires grad is refused by torch; pass ``x.detach()``.

        >>> import numpy as np
        >>> a = np.zeros(3)
        >>> t = from_dlpack(a)
        >>> a[0] = 5.0
        >>> t
        tensor([5., 0., 0.], dtype=float64)
    """
    if type(x).__name__ == "PyCapsule":
        x = _Capsule(x)
    elif not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a torch tensor, a NumPy array, ...) "
                        f"or a DLPack capsule, got {type(x).__name__}")
    producer = f"{type(x).__module__}.{type(x).__qualname__}".removeprefix("builtins.")
    try:
        arr = np.from_dlpack(x, device=device, copy=copy)
    except BufferError as e:
        raise BufferError(f"from_dlpack: the {producer} could not be exported: {e}") from None
    except RuntimeError as e:  # NumPy's word for a dtype it has no type for (bfloat16, ...)
        raise TypeError(f"from_dlpack: the {producer} can't be imported ({e}); convert it to a bool, integer "
                        f"or floating dtype first") from None
    try:
        return Tensor(arr)
    except TypeError as e:
        raise TypeError(f"from_dlpack: {e}") from None


for _name, _fn in dict(__array_ufunc__=_array_ufunc, __array_function__=_array_function, __dlpack__=_dlpack,
                       __dlpack_device__=_dlpack_device).items():
    setattr(Tensor, _name, _fn)

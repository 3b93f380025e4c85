"""PyTorch's complex-number functions, for the real tensors this engine has.

On a real tensor ``conj``, ``resolve_conj`` and ``real`` are the tensor itself and ``angle`` is 0 or π,
as in PyTorch, so code written for either kind runs. Tensors here are never complex: ``imag`` and the
functions that build or read complex tensors (``complex``, ``polar``, ``view_as_complex``,
``view_as_real``) raise an error that says so, instead of an AttributeError.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, -2.0])
    >>> x.conj() is x, ag.real(x) is x, ag.angle(x)
    (True, True, tensor([0.0000, 3.1416]))
"""
from __future__ import annotations

import numpy as np

from ..dtypes import complex64
from ..tensor import Tensor, get_default_dtype
from .elementwise import _zero_slope
from .registry import defop, method

__all__ = ["conj", "conj_physical", "resolve_conj", "resolve_neg", "real", "imag", "angle", "complex", "polar",
           "view_as_complex", "view_as_real"]

_NO_COMPLEX = complex64._why   # the dtype's own message: use two real tensors


def _real_tensor(x, op):
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.dtype.kind not in "biuf":   # pragma: no cover - tensors refuse complex data
        raise TypeError(f"{op}: expected a real tensor, got dtype {x.dtype}")
    return x


def conj(input):  # noqa: A002  (PyTorch's argument names)
    """The complex conjugate; a real tensor is its own conjugate, so this returns ``input`` itself (as
    PyTorch does for a real tensor). PyTorch: ``torch.conj`` / ``Tensor.conj``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, -2.0]); ag.conj(x) is x
    True
    """
    return _real_tensor(input, "conj")


def conj_physical(input):  # noqa: A002
    """``conj`` (the tensor itself for a real tensor). PyTorch: ``torch.conj_physical``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0]); ag.conj_physical(x) is x
    True
    """
    return _real_tensor(input, "conj_physical")


def resolve_conj(input):  # noqa: A002
    """The tensor with any lazy conjugation applied: here always ``input`` itself. PyTorch:
    ``torch.resolve_conj``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0]); x.resolve_conj() is x
    True
    """
    return _real_tensor(input, "resolve_conj")


def resolve_neg(input):  # noqa: A002
    """The tensor with any lazy negation applied: here always ``input`` itself. PyTorch:
    ``torch.resolve_neg``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0]); x.resolve_neg() is x
    True
    """
    return _real_tensor(input, "resolve_neg")


def real(input):  # noqa: A002
    """The real part: ``input`` itself for a real tensor (PyTorch's ``torch.real`` and ``Tensor.real``).

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, -2.0]); ag.real(x) is x, x.real is x
    (True, True)
    """
    return _real_tensor(input, "real")


def imag(input):  # noqa: A002
    """The imaginary part, which only complex tensors have: always an error here, as PyTorch's for a
    real tensor.

    >>> import autograd_core as ag
    >>> ag.tensor([1.0]).imag
    Traceback (most recent call last):
    ...
    RuntimeError: imag is not implemented for tensors with non-complex dtypes (this engine doesn't compute with complex numbers; use two real tensors (real and imaginary parts))
    """
    _real_tensor(input, "imag")
    raise RuntimeError(f"imag is not implemented for tensors with non-complex dtypes ({_NO_COMPLEX})")


def _angle(x):
    # PyTorch's real angle: pi below 0, 0 at and above it (-0.0 included), NaN kept
    out = np.where(x < 0, np.pi, 0.0).astype(x.dtype if x.dtype.kind == "f" else get_default_dtype())
    return np.where(np.isnan(x), x, out) if x.dtype.kind == "f" else out


angle = defop("angle", _angle, (_zero_slope,), same_shape=True,
              doc="""The argument of each element as a complex number: 0 for x >= 0, π for x < 0, NaN at NaN
              (PyTorch's ``torch.angle`` of a real tensor). A zero gradient, as PyTorch's.

              >>> import autograd_core as ag
              >>> ag.angle(ag.tensor([2.0, -0.5, 0.0]))
              tensor([0.0000, 3.1416, 0.0000])
              """)


def _refuse(name):
    def refuse(*args, **kwargs):
        raise TypeError(f"{name}: needs complex tensors; {_NO_COMPLEX}. For rotary embeddings, rotate pairs "
                        f"with cos/sin: (a, b) -> (a cos - b sin, a sin + b cos)")
    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = (f"PyTorch's ``torch.{name}``, which builds or reads complex tensors: an error here, since "
                      f"tensors are never complex (use two real tensors, real and imaginary parts).\n\n"
                      f"    >>> import autograd_core as ag\n"
                      f"    >>> ag.{name}(ag.ones(2, 2))  # doctest: +ELLIPSIS\n"
                      f"    Traceback (most recent call last):\n    ...\n"
                      f"    TypeError: {name}: needs complex tensors; ...\n")
    return refuse


complex = _refuse("complex")  # noqa: A001  (PyTorch's name)
polar = _refuse("polar")
view_as_complex = _refuse("view_as_complex")
view_as_real = _refuse("view_as_real")

for _name, _fn in dict(conj=conj, conj_physical=conj_physical, resolve_conj=resolve_conj, resolve_neg=resolve_neg,
                       angle=angle).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)
setattr(Tensor, "real", property(real, doc="The real part: the tensor itself (``torch.real``)."))
setattr(Tensor, "imag", property(imag, doc="The imaginary part: an error, tensors are never complex (``torch.imag``)."))

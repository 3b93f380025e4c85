"""More elementwise ops under PyTorch's names: ``log10``, ``log2``, ``exp2``, the in-place math
methods (``t.exp_()``, ``t.clamp_(0, 1)``, ...) and the closeness tests ``isclose``,
``allclose``, ``equal``.

An in-place method computes the op out of place and writes the result into the tensor's storage
through ``ops.inplace.inplace_update``, so it bumps the version counter, is refused on a leaf that
requires grad while recording (as in PyTorch), and is recorded on the tape otherwise.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import elementwise as E
from .inplace import inplace_update
from .registry import defop, method

__all__ = ["log10", "log2", "exp2", "isclose", "allclose", "equal"]

_LN10 = math.log(10.0)
_LN2 = math.log(2.0)


def _nowarn(f):
    def wrapped(x):
        with np.errstate(all="ignore"):
            return f(x)
    wrapped.__doc__ = f.__doc__
    return wrapped


log10 = defop("log10", _nowarn(np.log10), (lambda g, ans, x: g / (x * _LN10),), same_shape=True)
log10.__doc__ = "Base-10 logarithm; d/dx log10(x) = 1 / (x ln 10).\n\n    >>> ag.log10(ag.tensor([1.0, 100.0], dtype=ag.float64))\n    tensor([0., 2.], dtype=float64)\n    "
log2 = defop("log2", _nowarn(np.log2), (lambda g, ans, x: g / (x * _LN2),), same_shape=True)
log2.__doc__ = "Base-2 logarithm; d/dx log2(x) = 1 / (x ln 2).\n\n    >>> ag.log2(ag.tensor([1.0, 8.0]))\n    tensor([0., 3.])\n    "
exp2 = defop("exp2", _nowarn(np.exp2), (lambda g, ans, x: g * ans * _LN2,), uses=(), uses_ans=True,
             same_shape=True)
exp2.__doc__ = "2 ** x; its derivative is 2 ** x ln 2.\n\n    >>> ag.exp2(ag.tensor([0.0, 3.0]))\n    tensor([1., 8.])\n    "


# -- closeness -------------------------------------------------------------------------------------
def _arr(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (a bool tensor; no gradient), as PyTorch.

    >>> ag.isclose(ag.tensor([1.0, 2.0]), ag.tensor([1.0 + 1e-9, 2.1]))
    tensor([ True, False])
    """
    a, b = _arr(input), _arr(other)
    try:
        return Tensor(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise ValueError(f"isclose: shapes {tuple(a.shape)} and {tuple(b.shape)} can't be broadcast together") from None


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """True when every element of ``input`` is close to ``other`` (see ``isclose``); a Python bool.

    >>> ag.allclose(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):  # noqa: A002
    """True when both tensors have the same shape and the same elements (a Python bool), as PyTorch.

    >>> ag.equal(ag.tensor([1, 2]), ag.tensor([1, 2])), ag.equal(ag.tensor([1, 2]), ag.tensor([1]))
    (True, False)
    """
    a, b = _arr(input), _arr(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


# -- in-place math ---------------------------------------------------------------------------------
def _inplace(name, outofplace):
    def op_(self, *args, **kwargs):
        others = any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))
        return inplace_update(self, lambda old: outofplace(old, *args, **kwargs), name, others)
    op_.__name__ = name
    op_.__doc__ = f"In place: ``t.{name}(...)`` is ``t.copy_(t.{name[:-1]}(...))``; returns ``t``."
    return op_


def _attach(name, fn):
    if not hasattr(Tensor, name):  # an engine module may already define it
        method(name, fn)


for _name, _f in dict(exp=E.exp, log=E.log, log1p=E.log1p, expm1=E.expm1, sqrt=E.sqrt, rsqrt=E.rsqrt, abs=E.abs,
                      neg=E.neg, sin=E.sin, cos=E.cos, tanh=E.tanh, sigmoid=E.sigmoid, relu=E.relu, sign=E.sign,
                      floor=E.floor, ceil=E.ceil, round=E.round, clamp=E.clamp, clip=E.clip, pow=E.pow,
                      log10=log10, log2=log2, exp2=exp2).items():
    _attach(_name + "_", _inplace(_name + "_", _f))
_attach("masked_fill_", _inplace("masked_fill_", lambda old, mask, value: old.masked_fill(mask, value)))
for _name, _f in dict(log10=log10, log2=log2, exp2=exp2, isclose=isclose, allclose=allclose, equal=equal).items():
    _attach(_name, _f)

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

from ..errors import OpError
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


log10 = defop("log10", _nowarn(np.log10), (lambda g, ans, x: g / (x * _LN10),), same_shape=True, floating=True)
log10.__doc__ = "Base-10 logarithm; d/dx log10(x) = 1 / (x ln 10).\n\n    >>> ag.log10(ag.tensor([1.0, 100.0], dtype=ag.float64))\n    tensor([0., 2.], dtype=float64)\n    "
log2 = defop("log2", _nowarn(np.log2), (lambda g, ans, x: g / (x * _LN2),), same_shape=True, floating=True)
log2.__doc__ = "Base-2 logarithm; d/dx log2(x) = 1 / (x ln 2).\n\n    >>> ag.log2(ag.tensor([1.0, 8.0]))\n    tensor([0., 3.])\n    "
exp2 = defop("exp2", _nowarn(np.exp2), (lambda g, ans, x: g * ans * _LN2,), uses=(), uses_ans=True,
             same_shape=True, floating=True)
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
        raise OpError(f"isclose: shapes {tuple(a.shape)} and {tuple(b.shape)} can't be broadcast together") from None


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
# each in-place method's example: (the tensor's values, the call's arguments, the tensor after it)
_INPLACE_EXAMPLES = {
    "exp_": ("[0.0, 1.0]", "", "tensor([1.0000, 2.7183])"),
    "log_": ("[1.0, 4.0]", "", "tensor([0.0000, 1.3863])"),
    "log1p_": ("[0.0, 3.0]", "", "tensor([0.0000, 1.3863])"),
    "expm1_": ("[0.0, 1.0]", "", "tensor([0.0000, 1.7183])"),
    "sqrt_": ("[4.0, 9.0]", "", "tensor([2., 3.])"),
    "rsqrt_": ("[4.0, 0.25]", "", "tensor([0.5000, 2.0000])"),
    "abs_": ("[-1.0, 2.0]", "", "tensor([1., 2.])"),
    "neg_": ("[-1.0, 2.0]", "", "tensor([ 1., -2.])"),
    "sin_": ("[0.0, 1.0]", "", "tensor([0.0000, 0.8415])"),
    "cos_": ("[0.0, 1.0]", "", "tensor([1.0000, 0.5403])"),
    "tanh_": ("[0.0, 1.0]", "", "tensor([0.0000, 0.7616])"),
    "sigmoid_": ("[0.0, 2.0]", "", "tensor([0.5000, 0.8808])"),
    "relu_": ("[-1.0, 2.0]", "", "tensor([0., 2.])"),
    "sign_": ("[-3.0, 0.0, 2.0]", "", "tensor([-1.,  0.,  1.])"),
    "floor_": ("[-1.5, 2.5]", "", "tensor([-2.,  2.])"),
    "ceil_": ("[-1.5, 2.5]", "", "tensor([-1.,  3.])"),
    "round_": ("[0.5, 1.5, 2.7]", "", "tensor([0., 2., 3.])"),
    "clamp_": ("[-2.0, 0.5, 3.0]", "-1.0, 1.0", "tensor([-1.0000,  0.5000,  1.0000])"),
    "clip_": ("[-2.0, 0.5, 3.0]", "0.0, 1.0", "tensor([0.0000, 0.5000, 1.0000])"),
    "pow_": ("[2.0, 3.0]", "2", "tensor([4., 9.])"),
    "log10_": ("[1.0, 2.0]", "", "tensor([0.0000, 0.3010])"),
    "log2_": ("[1.0, 3.0]", "", "tensor([0.0000, 1.5850])"),
    "exp2_": ("[0.0, 0.5]", "", "tensor([1.0000, 1.4142])"),
    "masked_fill_": ("[1.0, 2.0, 3.0]", "ag.tensor([True, False, True]), 0.0", "tensor([0., 2., 0.])"),
}


def _inplace_doc(name):
    values, args, after = _INPLACE_EXAMPLES[name]
    return (f"In place: ``t.{name}(...)`` is ``t.copy_(t.{name[:-1]}(...))``; returns ``t``.\n\n"
            f"Recorded on the tape like PyTorch's in-place ops. PyTorch: ``Tensor.{name}``.\n\n"
            f">>> import autograd_core as ag\n>>> t = ag.tensor({values})\n>>> t.{name}({args})\n{after}\n")


def _inplace(name, outofplace):
    def op_(self, *args, **kwargs):
        others = any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))
        return inplace_update(self, lambda old: outofplace(old, *args, **kwargs), name, others)
    op_.__name__ = name
    op_.__doc__ = _inplace_doc(name)
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

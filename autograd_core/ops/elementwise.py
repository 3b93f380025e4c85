"""Elementwise ops: arithmetic, unary math, activations, comparisons.

Each line pairs a forward (on arrays) with its VJP rule(s); see ``registry`` for the rules'
signature. Broadcasting is undone centrally, so rules return full-size gradients.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, get_default_dtype, make
from .registry import defop, method, xp
from .inplace import inplace_update
from ..kernels import activation as _kact
from ..kernels import erf as _erf_any


def _erf_kernel(x):
    """erf(x) in x's float dtype (the kernel may compute float32 input in float64)."""
    out = _erf_any(x)
    dt = getattr(x, "dtype", None)
    if dt is not None and dt.kind == "f" and out.dtype != dt:
        out = out.astype(dt)
    return out

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _nowarn(ufunc):
    """A one-argument NumPy ufunc that leaves inf/nan in its result without a RuntimeWarning (those
    values are the op's answer at its singular points, and anomaly mode reports them)."""
    def forward(x):
        with np.errstate(all="ignore"):
            return ufunc(x)
    forward.__name__ = ufunc.__name__
    return forward


# -- arithmetic --------------------------------------------------------------------------------
add = defop("add", np.add, (lambda g, ans, x, y: g,
                            lambda g, ans, x, y: g), uses=())
sub = defop("sub", np.subtract, (lambda g, ans, x, y: g,
                                 lambda g, ans, x, y: -g), uses=())
mul = defop("mul", np.multiply, (lambda g, ans, x, y: g * y,
                                 lambda g, ans, x, y: g * x), reads=((1,), (0,)))
def _int_like(v):
    return isinstance(v, (int, np.integer)) or (isinstance(v, np.ndarray) and v.dtype.kind in "biu")


def _true_divide(x, y):
    """x / y. Integer / integer gives the default float dtype (float32) as in PyTorch, not numpy's float64."""
    out = np.true_divide(x, y)
    if out.dtype.char == "d" and _int_like(x) and _int_like(y):
        out = out.astype(get_default_dtype())
    return out


div = defop("div", _true_divide, (lambda g, ans, x, y: g / y,
                                    lambda g, ans, x, y: -g * x / (y * y)), reads=((1,), (0, 1)))
neg = defop("neg", np.negative, (lambda g, ans, x: -g,), uses=(), same_shape=True)


def _pow_base(g, ans, x, y):
    # d/dx x**y = y * x**(y-1), and exactly 0 where y == 0 (even at x == 0 or nan), as PyTorch.
    if isinstance(y, (int, float)):
        if y == 0:
            return g * 0
        if y == 1:
            return g
        if y == 2:
            return g * 2 * x
        return g * y * xp.pow(x, y - 1)
    # Un-masked, y * x**(y-1) keeps its own derivative in y right at y == 0 (1/x, for grad of grad);
    # the guards only keep 0 * 0**-1 and 0 * nan**-1 from giving nan there.
    y0 = y == 0
    base = xp.where(xp.logical_and(y0, x != x), 1.0, x)
    return g * (y * base ** xp.where(xp.logical_and(y0, x == 0), 1.0, y - 1))


def _pow_exp(g, ans, x, y):
    # d/dy x**y = x**y * log(x), set to 0 where x == 0 and y >= 0 (PyTorch's convention; for y < 0
    # at x == 0 it stays inf * -inf = -inf, as in PyTorch).
    if isinstance(x, (int, float)):
        if x == 0:
            return xp.where(y >= 0, g * 0, g * ans * -math.inf)
        return g * ans * math.log(x) if x > 0 else g * ans * math.nan
    return xp.where(xp.logical_and(x == 0, y >= 0), g * 0, g * ans * xp.log(x))


# the base's rule reads x and y; the exponent's reads x and the output
def _power(x, y):
    """x ** y. A Python-number exponent of 0.5, -0.5, -1, 2 or 3 is computed as sqrt, 1/sqrt, 1/x,
    x*x and x*x*x, as PyTorch does (so -0.0 ** 0.5 is -0.0 and the gradients at 0, -0.0 and inf match)."""
    with np.errstate(all="ignore"):
        if type(y) in (int, float) and isinstance(x, np.ndarray) and x.dtype.kind == "f":
            if y == 0.5:
                return np.sqrt(x)
            if y == -0.5:
                return 1 / np.sqrt(x)
            if y == -1:
                return 1 / x
            if y == 2:
                return x * x
            if y == 3:
                return x * x * x
        return np.power(x, y)


pow = defop("pow", _power, (_pow_base, _pow_exp), reads=((0, 1), (0, "ans")))


def maximum_(x, y):
    """Elementwise max; ties split the gradient equally (as PyTorch's ``maximum``)."""
    return np.maximum(x, y)


def minimum_(x, y):
    """Elementwise min; ties split the gradient equally (as PyTorch's ``minimum``)."""
    return np.minimum(x, y)


def _tie(g, a, b, loses):
    # PyTorch: half each at a tie, nothing where this input loses, else all of g; so where either
    # input is NaN (no tie, no loser) both get g, and the NaN reaches anomaly detection.
    return xp.where(a == b, g * 0.5, xp.where(loses(a, b), g * 0, g))


maximum = defop("maximum", maximum_, (lambda g, ans, x, y: _tie(g, x, y, lambda a, b: a < b),
                                      lambda g, ans, x, y: _tie(g, y, x, lambda a, b: a < b)))
minimum = defop("minimum", minimum_, (lambda g, ans, x, y: _tie(g, x, y, lambda a, b: a > b),
                                      lambda g, ans, x, y: _tie(g, y, x, lambda a, b: a > b)))

# -- unary math --------------------------------------------------------------------------------
def _sgn(x):
    """sign(x), with 0 at NaN (PyTorch's abs'(nan) is 0)."""
    return np.where(np.isnan(x), 0, np.sign(x)) if np.issubdtype(np.asarray(x).dtype, np.floating) else np.sign(x)


abs = defop("abs", np.abs, (lambda g, ans, x: g * xp.sgn(x),), same_shape=True)
exp = defop("exp", np.exp, (lambda g, ans, x: g * ans,), uses=(), uses_ans=True, same_shape=True)
log = defop("log", _nowarn(np.log), (lambda g, ans, x: g / x,), same_shape=True)
log1p = defop("log1p", _nowarn(np.log1p), (lambda g, ans, x: g / (x + 1),), same_shape=True)
expm1 = defop("expm1", np.expm1, (lambda g, ans, x: g * (ans + 1),), uses=(), uses_ans=True, same_shape=True)
sqrt = defop("sqrt", _nowarn(np.sqrt), (lambda g, ans, x: g * 0.5 / ans,), uses=(), uses_ans=True, same_shape=True)


def _rsqrt(x):
    """1 / sqrt(x)."""
    with np.errstate(all="ignore"):
        return 1.0 / np.sqrt(x)


rsqrt = defop("rsqrt", _rsqrt, (lambda g, ans, x: g * -0.5 * ans * ans * ans,), uses=(), uses_ans=True, same_shape=True)
sin = defop("sin", np.sin, (lambda g, ans, x: g * xp.cos(x),), same_shape=True)
cos = defop("cos", np.cos, (lambda g, ans, x: -g * xp.sin(x),), same_shape=True)
tanh = defop("tanh", np.tanh, (lambda g, ans, x: g * (1 - ans * ans),), uses=(), uses_ans=True, same_shape=True)
erf = defop("erf", _erf_kernel, (lambda g, ans, x: g * (2.0 / math.sqrt(math.pi)) * xp.exp(-(x * x)),), same_shape=True)


def sigmoid_(x):
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid = defop("sigmoid", sigmoid_, (lambda g, ans, x: g * ans * (1 - ans),), uses=(), uses_ans=True, same_shape=True)

# -- activations -------------------------------------------------------------------------------
# relu's gradient is an op of its own so that its fast kernel lives in a forward, not in a rule:
# d/dg relu_grad(g, x) is relu_grad itself, and x gets no gradient (the mask is piecewise constant).
relu_grad = defop("relu_grad", _kact.relu_grad,
                  (lambda gg, ans, g, x: xp.relu_grad(gg, x), lambda gg, ans, g, x: gg * 0), reads=((1,), ()))
# relu's rule reads its output, as PyTorch's does (ans > 0 exactly where x > 0; NaN where x is NaN)
relu = defop("relu", _kact.relu, (lambda g, ans, x: xp.relu_grad(g, ans),), uses=(), uses_ans=True, same_shape=True)
relu.__doc__ = "max(x, 0); the gradient at 0 is 0, as PyTorch."


def _leaky(x, negative_slope=0.01):
    """x if x > 0 else negative_slope * x."""
    return np.where(x > 0, x, x * negative_slope)


leaky_relu = defop("leaky_relu", _leaky,
                   (lambda g, ans, x, negative_slope=0.01: xp.where(x > 0, g, g * negative_slope),))


def _elu(x, alpha=1.0):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


# reads x only (PyTorch's elu backward from the input); elu'(nan) = 1 as in PyTorch (nan > 0 is false there)
elu = defop("elu", _elu, (lambda g, ans, x, alpha=1.0: xp.where(x <= 0, g * alpha * xp.exp(x), g),))


def _gelu(x, approximate="none"):
    """x * Phi(x) (``approximate='none'``, exact erf) or the tanh approximation (``'tanh'``)."""
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _kact.gelu(x)   # one fused pass (kernels.activation)


def _gelu_vjp(g, ans, x, approximate="none"):
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        t = xp.tanh(inner)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x))
    return xp.gelu_backward(g, x)


gelu = defop("gelu", _gelu, (_gelu_vjp,))


def _gelu_backward(g, x):
    """g (Phi(x) + x phi(x)): the exact GELU's VJP, one fused pass (a registered op so grad of grad works)."""
    return _kact.gelu_grad(g, x)


_gelu_backward_op = defop(
    "gelu_backward", _gelu_backward,
    (lambda G, ans, g, x: xp.gelu_backward(G, x),
     lambda G, ans, g, x: G * g * (_INV_SQRT_2PI * xp.exp(-0.5 * x * x) * (2 - x * x))))


def _softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold (as PyTorch); stable for any x."""
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


def _softplus_vjp(g, ans, x, beta=1.0, threshold=20.0):
    bx = x * beta
    return xp.where(bx > threshold, g, g * xp.sigmoid(bx))


softplus = defop("softplus", _softplus, (_softplus_vjp,))


def _clamp(x, min=None, max=None):
    """Clip x to [min, max]; either bound may be None. Gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


def _clamp_vjp(g, ans, x, min=None, max=None):
    inside = None
    if min is not None:
        inside = x >= min
    if max is not None:
        inside = (x <= max) if inside is None else inside & (x <= max)
    return g * inside


_clamp_op = defop("clamp", _clamp, (_clamp_vjp,))


def clamp(x, min=None, max=None):
    """Clip x to [min, max] (either may be None; positional as in ``torch.clamp(x, min, max)``).

    The gradient passes where min <= x <= max. Tensor bounds that require grad get the gradient
    where they are the result (x < min, or x > max)."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        out = x
        if min is not None:
            out = where(out >= min, out, min)
        if max is not None:
            out = where(out <= max, out, max)
        return out
    return _clamp_op(x, min=min, max=max)


def clip(x, min=None, max=None):
    """numpy name of ``clamp``."""
    return clamp(x, min, max)


def where(cond, x, y):
    """x where cond else y (cond is not differentiated)."""
    c = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
    return _where(x, y, cond=c)


_where = defop("where", lambda x, y, cond: np.where(cond, x, y),
               (lambda g, ans, x, y, cond: xp.where(cond, g, g * 0),
                lambda g, ans, x, y, cond: xp.where(cond, g * 0, g)), uses=())


def _xp_where(cond, x, y):
    if isinstance(cond, Tensor):
        cond = cond._data
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        return _where(x, y, cond=cond)
    return np.where(cond, x, y)


xp.where = _xp_where

# -- not differentiable ------------------------------------------------------------------------
sign = defop("sign", np.sign, differentiable=False, nargs=1)
sgn = defop("sgn", _sgn, differentiable=False, nargs=1)
floor = defop("floor", np.floor, differentiable=False, nargs=1)
ceil = defop("ceil", np.ceil, differentiable=False, nargs=1)
def _round(x, decimals=0):
    """Round half to even to ``decimals`` places (PyTorch's ``round``); no gradient."""
    return np.round(x, decimals)


round = defop("round", _round, differentiable=False, nargs=1)
isnan = defop("isnan", np.isnan, differentiable=False, nargs=1)
isinf = defop("isinf", np.isinf, differentiable=False, nargs=1)
isfinite = defop("isfinite", np.isfinite, differentiable=False, nargs=1)
eq = defop("eq", np.equal, differentiable=False, nargs=2)
ne = defop("ne", np.not_equal, differentiable=False, nargs=2)
lt = defop("lt", np.less, differentiable=False, nargs=2)
le = defop("le", np.less_equal, differentiable=False, nargs=2)
gt = defop("gt", np.greater, differentiable=False, nargs=2)
ge = defop("ge", np.greater_equal, differentiable=False, nargs=2)
logical_and = defop("logical_and", np.logical_and, differentiable=False, nargs=2)
logical_or = defop("logical_or", np.logical_or, differentiable=False, nargs=2)
logical_not = defop("logical_not", np.logical_not, differentiable=False, nargs=1)


# -- in-place arithmetic -----------------------------------------------------------------------
def _inplace(outofplace, opname):
    def iop(self, other):
        other_rg = isinstance(other, Tensor) and other.requires_grad
        try:
            return inplace_update(self, lambda old: outofplace(old, other), opname, other_rg)
        except (TypeError, ValueError) as e:
            if str(e).startswith(opname):
                raise
            raise _inplace_error(opname, self, other) from None
    iop.__name__ = f"__i{opname}__"
    return iop


def _inplace_error(opname, self, other, result_dtype=None):
    """The one-line error for an in-place op whose result can't be stored in ``self`` (as PyTorch refuses)."""
    od = other._data if isinstance(other, Tensor) else np.asarray(other)
    try:
        shape = np.broadcast_shapes(self._data.shape, od.shape)
    except ValueError:
        return ValueError(f"{opname}: shapes {tuple(self._data.shape)} and {tuple(od.shape)} can't be broadcast")
    if shape != self._data.shape:
        return ValueError(f"{opname} (in place): the result has shape {shape}, which doesn't fit the tensor's "
                          f"shape {tuple(self._data.shape)}")
    rd = result_dtype if result_dtype is not None else np.result_type(self._data, other._data if isinstance(other, Tensor) else other)
    return TypeError(f"{opname} (in place): the result dtype {rd} can't be stored in a tensor of dtype "
                     f"{self._data.dtype}")


# -- Tensor methods and operators --------------------------------------------------------------
def _r(f):
    def rop(self, other):
        return f(other, self)
    return rop


for _name, _fn in dict(__add__=add, __radd__=add, __sub__=sub, __rsub__=_r(sub), __mul__=mul, __rmul__=mul,
                       __truediv__=div, __rtruediv__=_r(div), __pow__=pow, __rpow__=_r(pow), __neg__=neg,
                       __abs__=abs, __eq__=eq, __ne__=ne, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge,
                       __and__=logical_and, __or__=logical_or, __invert__=logical_not,
                       abs=abs, exp=exp, log=log, log1p=log1p, expm1=expm1, sqrt=sqrt, rsqrt=rsqrt, sin=sin,
                       cos=cos, tanh=tanh, sigmoid=sigmoid, relu=relu, leaky_relu=leaky_relu, elu=elu,
                       gelu=gelu, softplus=softplus, clamp=clamp, clip=clip, sign=sign, erf=erf,
                       maximum=maximum, minimum=minimum, floor=floor, ceil=ceil, round=round,
                       isnan=isnan, isinf=isinf, isfinite=isfinite, add=add, sub=sub, mul=mul, div=div,
                       pow=pow, neg=neg, eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge).items():
    method(_name, _fn)


def _floordiv(a, b):
    return Tensor(np.floor_divide(a._data if isinstance(a, Tensor) else a, b._data if isinstance(b, Tensor) else b))


def _mod(a, b):
    return Tensor(np.mod(a._data if isinstance(a, Tensor) else a, b._data if isinstance(b, Tensor) else b))


method("__floordiv__", _floordiv)
method("__mod__", _mod)
method("__iadd__", _inplace(add, "add"))
method("__isub__", _inplace(sub, "sub"))
method("__imul__", _inplace(mul, "mul"))
method("__itruediv__", _inplace(div, "div"))
method("add_", lambda self, other, alpha=1: self.__iadd__(other * alpha if alpha != 1 else other))
method("sub_", lambda self, other, alpha=1: self.__isub__(other * alpha if alpha != 1 else other))
method("mul_", lambda self, other: self.__imul__(other))
method("div_", lambda self, other: self.__itruediv__(other))

"""More elementwise math under PyTorch's names, each a function and a Tensor method:

* taped ops with their VJPs: ``tan``, ``sinh``, ``cosh``, ``asin``, ``acos``, ``atan``, ``asinh``,
  ``acosh``, ``atanh`` (and the ``arcsin``-style aliases), ``atan2``, ``erfc``, ``erfinv``, ``lgamma``,
  ``digamma``, ``polygamma``, ``logit``, ``fmod``, ``remainder``, ``logaddexp``, ``xlogy``,
  ``copysign``, ``nan_to_num``;
* compositions of taped ops: ``square``, ``reciprocal``, ``frac``, ``hypot``, ``lerp``, ``addcmul``,
  ``addcdiv``, ``clamp_min``, ``clamp_max``, ``rad2deg``, ``deg2rad``, ``rsub``, ``subtract``,
  ``divide`` (with ``rounding_mode``), ``float_power``;
* without gradient: ``trunc`` (``fix``), ``floor_divide``, the bitwise ops (``&``, ``|``, ``^``, ``~``
  are bitwise on integers and logical on bools, as in PyTorch), ``logical_xor``, ``isin``,
  ``heaviside``, ``signbit``, ``isposinf``, ``isneginf``, ``isreal``;
* PyTorch's spellings of existing ops: ``multiply``, ``true_divide``, ``negative``, ``positive``,
  ``absolute``, ``greater``, ``less``, ``greater_equal``, ``less_equal``, ``not_equal``.

Every Tensor method here also has an in-place form (``t.tan_()``, ``t.lerp_(end, w)``, ``t.gt_(0)``):
the op computed out of place and written into the tensor (recorded on the tape like PyTorch's).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import scipy.special as _sp

from ..errors import OpError
from ..dtypes import result_type as _result_type
from ..tensor import Tensor, get_default_dtype
from . import elementwise as E
from .inplace import inplace_update
from .linalg import norm as _norm
from .registry import defop, method, xp

__all__ = ["tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan",
           "arcsinh", "arccosh", "arctanh", "atan2", "arctan2", "erfc", "erfinv", "lgamma", "digamma", "polygamma",
           "logit", "fmod", "remainder", "logaddexp", "logaddexp2", "renorm", "xlogy", "copysign", "nan_to_num",
           "square", "reciprocal",
           "frac", "hypot", "lerp", "addcmul", "addcdiv", "clamp_min", "clamp_max", "rad2deg", "deg2rad", "rsub",
           "subtract", "divide", "float_power", "trunc", "fix", "floor_divide", "bitwise_and", "bitwise_or",
           "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "logical_xor", "isin",
           "heaviside", "signbit", "isposinf", "isneginf",
           "isreal", "multiply", "true_divide", "negative", "positive", "absolute", "greater", "less",
           "greater_equal", "less_equal", "not_equal", "fmax", "fmin", "sinc"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0


def _quiet(f):
    """``f`` with NumPy's invalid/divide warnings off: inf and NaN are the answers at singular points.
    A ufunc gets a one- or two-argument forward (its own keywords, ``out=``/``where=``, are not options)."""
    if isinstance(f, np.ufunc):
        if f.nin == 1:
            def forward1(x):
                with np.errstate(all="ignore"):
                    return f(x)
            return forward1

        def forward2(x, y):
            with np.errstate(all="ignore"):
                return f(x, y)
        return forward2

    @functools.wraps(f)
    def forward(*args, **kw):
        with np.errstate(all="ignore"):
            return f(*args, **kw)
    return forward


def _float_result(f):
    """The two-argument forward ``f`` whose integer or bool inputs (both) give the default float dtype, as in
    PyTorch: NumPy computes them in float64 (float16 for int8)."""
    def forward(x, y):
        if E._int_like(x) and E._int_like(y):
            dt = get_default_dtype()
            x, y = np.asarray(x).astype(dt), np.asarray(y).astype(dt)
        return f(x, y)
    # integers each straight to float, and a Python int not wrapped into an int tensor's dtype first (registry)
    setattr(forward, "int_as_float", True)  # noqa: B010
    return forward


def _same_float(f):
    """The one-argument SciPy ufunc ``f`` whose result keeps a float input's dtype (SciPy may compute
    float32 in float64)."""
    def forward(x):
        out = np.asarray(f(x))
        if x.dtype.kind == "f" and out.dtype != x.dtype:
            out = out.astype(x.dtype)
        return out
    return forward


def _unary(name, forward, rule, doc, uses_ans=False):
    return defop(name, _quiet(forward), (rule,), uses=() if uses_ans else None, uses_ans=uses_ans,
                 same_shape=True, floating=True, doc=doc)


# -- trigonometric and hyperbolic ------------------------------------------------------------------
tan = _unary("tan", np.tan, lambda g, ans, x: g * (1 + ans * ans), """Elementwise tangent; d/dx tan x = 1 + tan² x.

    >>> ag.tan(ag.tensor([0.0, 0.5]))
    tensor([0.0000, 0.5463])
    """, uses_ans=True)
sinh = _unary("sinh", np.sinh, lambda g, ans, x: g * xp.cosh(x), """Elementwise hyperbolic sine; d/dx sinh x = cosh x.

    >>> ag.sinh(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 1.1752])
    """)
cosh = _unary("cosh", np.cosh, lambda g, ans, x: g * xp.sinh(x), """Elementwise hyperbolic cosine; d/dx cosh x = sinh x.

    >>> ag.cosh(ag.tensor([0.0, 1.0]))
    tensor([1.0000, 1.5431])
    """)
asin = _unary("asin", np.arcsin, lambda g, ans, x: g / xp.sqrt(1 - x * x), """Elementwise arcsine (NaN outside
    [-1, 1]); d/dx = 1 / sqrt(1 - x²). PyTorch: ``torch.asin`` / ``torch.arcsin``.

    >>> ag.asin(ag.tensor([0.0, 0.5]))
    tensor([0.0000, 0.5236])
    """)
acos = _unary("acos", np.arccos, lambda g, ans, x: -g / xp.sqrt(1 - x * x), """Elementwise arccosine (NaN outside
    [-1, 1]); d/dx = -1 / sqrt(1 - x²). PyTorch: ``torch.acos`` / ``torch.arccos``.

    >>> ag.acos(ag.tensor([1.0, 0.5]))
    tensor([0.0000, 1.0472])
    """)
atan = _unary("atan", np.arctan, lambda g, ans, x: g / (1 + x * x), """Elementwise arctangent; d/dx = 1 / (1 + x²).
    PyTorch: ``torch.atan`` / ``torch.arctan``.

    >>> ag.atan(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7854])
    """)
asinh = _unary("asinh", np.arcsinh, lambda g, ans, x: g / xp.sqrt(x * x + 1), """Elementwise inverse hyperbolic
    sine; d/dx = 1 / sqrt(x² + 1).

    >>> ag.asinh(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8814])
    """)
# (x - 1)(x + 1) keeps precision near 1; + 0.0 turns its -0.0 at x = -1 into +0.0, so the slope there is
# +inf, as PyTorch's rsqrt(x² - 1)
acosh = _unary("acosh", np.arccosh, lambda g, ans, x: g / xp.sqrt((x - 1) * (x + 1) + 0.0), """Elementwise inverse
    hyperbolic cosine (NaN below 1); d/dx = 1 / sqrt(x² - 1).

    >>> ag.acosh(ag.tensor([1.0, 2.0]))
    tensor([0.0000, 1.3170])
    """)
atanh = _unary("atanh", np.arctanh, lambda g, ans, x: g / (1 - x * x), """Elementwise inverse hyperbolic tangent
    (±inf at ±1, NaN outside); d/dx = 1 / (1 - x²).

    >>> ag.atanh(ag.tensor([0.0, 0.5]))
    tensor([0.0000, 0.5493])
    """)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

def _atan2_vjp(which):
    def vjp(g, ans, y, x):
        r2 = x * x + y * y
        d = g * x / r2 if which == 0 else -g * y / r2
        return xp.where(r2 == 0, g * 0, d)    # 0 at the origin, as PyTorch
    return vjp


atan2 = defop("atan2", _float_result(_quiet(np.arctan2)), (_atan2_vjp(0), _atan2_vjp(1)), promote=True,
              doc="""The angle of the point (other, input) in (-pi, pi]: ``atan2(input, other)`` = atan(input / other)
              with the quadrant from both signs; d/dinput = other / r², d/dother = -input / r² (r² = input² +
              other²). PyTorch: ``torch.atan2`` / ``torch.arctan2``.

              >>> ag.atan2(ag.tensor([1.0, 1.0]), ag.tensor([1.0, -1.0]))
              tensor([0.7854, 2.3562])
              """)
arctan2 = atan2


# -- special functions -----------------------------------------------------------------------------
erfc = _unary("erfc", _same_float(_sp.erfc), lambda g, ans, x: -g * _TWO_OVER_SQRT_PI * xp.exp(-(x * x)),
              """Complementary error function 1 - erf(x), accurate for large x; d/dx = -2/sqrt(pi) exp(-x²).

    >>> ag.erfc(ag.tensor([0.0, 2.0]))
    tensor([1.0000, 0.0047])
    """)
# PyTorch's rule, -(1 + log x) with no mask: inf at 0, NaN below 0 (where entr is -inf)
entr = _unary("entr", _same_float(_sp.entr), lambda g, ans, x: -g * (1 + xp.log(x)),
              """-x log(x) elementwise (0 at 0, -inf below 0); d/dx = -(1 + log x) (inf at 0, as PyTorch).

    >>> ag.special.entr(ag.tensor([0.0, 0.5]))
    tensor([0.0000, 0.3466])
    """)
erfinv = _unary("erfinv", _same_float(_sp.erfinv), lambda g, ans, x: g * _SQRT_PI_OVER_2 * xp.exp(ans * ans),
                """Inverse error function on (-1, 1) (±inf at ±1); d/dx = sqrt(pi)/2 exp(erfinv(x)²).

    >>> ag.erfinv(ag.tensor([0.0, 0.5]))
    tensor([0.0000, 0.4769])
    """, uses_ans=True)


def _polygamma(x, n=0):
    out = _sp.polygamma(n, x) if n else _sp.psi(x)
    return np.asarray(out).astype(x.dtype) if x.dtype.kind == "f" else np.asarray(out)


_polygamma_op = defop("polygamma", _quiet(_polygamma), (lambda g, ans, x, n=0: g * xp.polygamma(x, n=n + 1),),
                      same_shape=True)
def _gammaln(x):
    out = _sp.gammaln(x)
    return np.where(x == -np.inf, np.inf, out) if np.any(np.isneginf(x)) else out   # |Gamma(-inf)|: PyTorch's inf


lgamma = _unary("lgamma", _same_float(_gammaln), lambda g, ans, x: g * xp.polygamma(x, n=0),
                """log |Gamma(x)| elementwise (inf at 0, -1, -2, ...); d/dx = digamma(x).

    >>> ag.lgamma(ag.tensor([1.0, 3.0, 0.5]))
    tensor([0.0000, 0.6931, 0.5724])
    """)


def digamma(input):  # noqa: A002  (PyTorch's argument names)
    """The digamma function psi(x) = d/dx lgamma(x), elementwise; its derivative is ``polygamma(1, x)``.

    >>> ag.digamma(ag.tensor([1.0, 2.0]))
    tensor([-0.5772,  0.4228])
    """
    return _polygamma_op(input, n=0)


def polygamma(n, input):  # noqa: A002
    """The n-th derivative of the digamma function, elementwise (``polygamma(0, x)`` is ``digamma(x)``);
    its derivative is ``polygamma(n + 1, x)``.

    >>> ag.polygamma(1, ag.tensor([1.0, 2.0]))
    tensor([1.6449, 0.6449])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise OpError(f"polygamma: n must be a non-negative int, got {n!r}")
    return _polygamma_op(input, n=int(n))


def _logit(x, eps=None):
    if eps is not None:
        x = np.clip(x, eps, 1.0 - eps)
    return np.log(x / (1 - x))


def _logit_vjp(g, ans, x, eps=None):
    d = g / (x * (1 - x))
    if eps is None:
        return xp.where((x < 0) | (x > 1), math.nan, d)    # NaN outside [0, 1], as PyTorch
    return xp.where((x < eps) | (x > 1.0 - eps), g * 0, d)


_logit_op = defop("logit", _quiet(_logit), (_logit_vjp,))


def logit(input, eps=None):  # noqa: A002
    """log(x / (1 - x)), the inverse of ``sigmoid``; with ``eps``, x is first clamped to [eps, 1 - eps]
    (and gets no gradient outside). d/dx = 1 / (x (1 - x)).

    >>> ag.logit(ag.tensor([0.5, 0.75]))
    tensor([0.0000, 1.0986])
    """
    return _logit_op(input, eps=eps)


# -- binary ops ------------------------------------------------------------------------------------
def _int_division(name, ufunc):
    """``ufunc`` (x, y) that refuses an integer divisor of 0, as PyTorch does for integer ``//``, ``%``, fmod and
    rounded division (NumPy gives 0 with a warning); floats divide by 0 to inf / NaN quietly."""
    quiet = _quiet(ufunc)

    def forward(x, y):
        if np.asarray(x).dtype.kind in "biu":
            yd = np.asarray(y)
            if yd.dtype.kind in "biu" and not yd.all():
                raise RuntimeError(f"{name}: integer division by zero (a divisor of {np.shape(x)} by "
                                   f"{np.shape(y)} holds 0); divide floats to get inf / NaN instead")
        return quiet(x, y)
    return forward


fmod = defop("fmod", _int_division("fmod", np.fmod),
             (lambda g, ans, x, y: g, lambda g, ans, x, y: -g * xp.trunc(x / y)), promote=True,
             doc="""The remainder of ``input / other`` with the sign of ``input`` (C's fmod): input - trunc(input /
             other) * other. d/dinput = 1, d/dother = -trunc(input / other).

             >>> ag.fmod(ag.tensor([-3.0, 3.0]), 2.0)
             tensor([-1.,  1.])
             """)
# d/dother with the quotient the remainder was taken with: floor_divide, not floor(x / y), which rounds
# up across an integer (1 / 0.1 is 10.0, 1 // 0.1 is 9.0), as PyTorch's div(rounding_mode='floor')
remainder = defop("remainder", _int_division("remainder", np.mod),
                  (lambda g, ans, x, y: g, lambda g, ans, x, y: -g * xp.floor_divide(x, y)), promote=True,
                  doc="""The remainder of ``input / other`` with the sign of ``other`` (Python's %): input - (input //
                  other) * other. d/dinput = 1, d/dother = -(input // other) (floor division, as Python's).

                  >>> ag.remainder(ag.tensor([-3.0, 3.0]), 2.0)
                  tensor([1., 1.])
                  """)
logaddexp = defop("logaddexp", _float_result(np.logaddexp),
                  # the weights as 1 / (1 + exp(other - input)): finite where an input is infinite (not inf - inf)
                  (lambda g, ans, x, y: g / (1 + xp.exp(y - x)), lambda g, ans, x, y: g / (1 + xp.exp(x - y))),
                  promote=True, doc="""log(exp(input) + exp(other)) without overflow; the gradients are the softmax weights
                  1 / (1 + exp(other - input)) and 1 / (1 + exp(input - other)).

                  >>> ag.logaddexp(ag.tensor([0.0, 100.0]), ag.tensor([0.0, 100.0]))
                  tensor([  0.6931, 100.6931])
                  """)

logaddexp2 = defop("logaddexp2", _float_result(np.logaddexp2),
                   (lambda g, ans, x, y: g / (1 + xp.exp2(y - x)), lambda g, ans, x, y: g / (1 + xp.exp2(x - y))),
                   promote=True, doc="""log2(2**input + 2**other) without overflow; the gradients are 1 / (1 + 2**(other - input))
                   and 1 / (1 + 2**(input - other)). PyTorch: ``torch.logaddexp2``.

                   >>> ag.logaddexp2(ag.tensor([0.0, 100.0]), ag.tensor([0.0, 100.0]))
                   tensor([  1., 101.])
                   """)


def renorm(input, p, dim, maxnorm):  # noqa: A002
    """Each slice ``input.select(dim, i)`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``
    (by maxnorm / (norm + 1e-7), as PyTorch); the others unchanged. The gradient flows through the norm.

    >>> ag.renorm(ag.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise OpError(f"renorm: input needs at least 2 dims (slices along dim, each renormed), got shape "
                         f"{tuple(x.shape)}; reshape it to (n, -1)")
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"renorm: dim {dim!r} is out of range for a tensor with {x.ndim} dims")
    if not p > 0:
        raise OpError(f"renorm: p must be positive, got {p!r}")
    if maxnorm < 0:
        raise OpError(f"renorm: maxnorm must be non-negative, got {maxnorm!r}")
    dim %= x.ndim
    dims = tuple(d for d in range(x.ndim) if d != dim)
    big = _norm(x.detach(), p=p, dim=dims, keepdim=True)._data > maxnorm
    # the norm of the scaled slices only: a slice left as it is (its norm NaN or small) then sends no
    # NaN back through the norm's gradient, as PyTorch's where(norm > maxnorm, ..., grad)
    n = _norm(E.where(big, x, 0.0), p=p, dim=dims, keepdim=True)
    return x * E.where(big, maxnorm / (n + 1e-7), 1.0)


def _xlogy(x, y):
    out = _sp.xlogy(x, y)
    dt = np.result_type(x, y)
    return np.asarray(out).astype(dt) if dt.kind == "f" else np.asarray(out)


xlogy = defop("xlogy", _float_result(_quiet(_xlogy)),
              # d/dinput at input == 0 is log(other) where other > 0 (the slope along other = const) and 0
              # where other <= 0, as PyTorch
              (lambda g, ans, x, y: xp.where((x == 0) & (y <= 0), g * 0, xp.xlogy(g, y)),
               lambda g, ans, x, y: g * x / y),
              promote=True, doc="""input * log(other), and 0 where input is 0 (even where other is 0 or NaN). d/dinput = log(other)
              (0 where input is 0 and other <= 0), d/dother = input / other.

              >>> ag.xlogy(ag.tensor([0.0, 2.0]), ag.tensor([0.0, 3.0]))
              tensor([0.0000, 2.1972])
              """)


def _xlog1py(x, y):
    out = _sp.xlog1py(x, y)
    dt = np.result_type(x, y)
    return np.asarray(out).astype(dt) if dt.kind == "f" else np.asarray(out)


xlog1py = defop("xlog1py", _float_result(_quiet(_xlog1py)),
                # as xlogy's, with log1p: d/dinput at input == 0 is log1p(other), 0 where other <= -1
                (lambda g, ans, x, y: xp.where((x == 0) & (y <= -1), g * 0, xp.xlog1py(g, y)),
                 lambda g, ans, x, y: g * x / (y + 1)),
                promote=True, doc="""input * log1p(other), and 0 where input is 0 (even where other is -1; NaN where
                other is NaN). d/dinput = log1p(other) (0 where input is 0 and other <= -1), d/dother = input / (1 +
                other).

                >>> ag.special.xlog1py(ag.tensor([0.0, 2.0]), ag.tensor([-1.0, 0.0]))
                tensor([0., 0.])
                """)


copysign = defop("copysign", _float_result(np.copysign),
                 (lambda g, ans, x, y: xp.where(x == 0, g * 0, g * ans / x), E._zero_slope), uses_ans=True,
                 promote=True, doc="""|input| with the sign of ``other``; d/dinput = ±1 (0 at 0), no gradient to ``other``.

                 >>> ag.copysign(ag.tensor([1.0, -2.0]), ag.tensor([-1.0, 1.0]))
                 tensor([-1.,  2.])
                 """)


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


_nan_to_num_op = defop("nan_to_num", _nan_to_num,
                       (lambda g, ans, x, nan=0.0, posinf=None, neginf=None: xp.where(xp.isfinite(x), g, g * 0),),
                       same_shape=True)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (the infinities default to the dtype's largest and
    smallest finite values); the gradient passes where ``input`` is finite.

    >>> ag.nan_to_num(ag.tensor([float("nan"), 1.0, float("-inf")]), nan=0.0, neginf=-9.0)
    tensor([ 0.,  1., -9.])
    """
    return _nan_to_num_op(input, nan=nan, posinf=posinf, neginf=neginf)


fmax = defop("fmax", np.fmax,
             (lambda g, ans, x, y: xp.where((x >= y) | (y != y), g, g * 0),
              lambda g, ans, x, y: xp.where((x >= y) | (y != y), g * 0, g)),
             promote=True, doc="""Elementwise maximum that ignores NaN (NaN only where both are NaN); the gradient goes to the
             chosen input (to ``input`` on ties).

             >>> ag.fmax(ag.tensor([1.0, float("nan")]), ag.tensor([2.0, 3.0]))
             tensor([2., 3.])
             """)
fmin = defop("fmin", np.fmin,
             (lambda g, ans, x, y: xp.where((x <= y) | (y != y), g, g * 0),
              lambda g, ans, x, y: xp.where((x <= y) | (y != y), g * 0, g)),
             promote=True, doc="""Elementwise minimum that ignores NaN; the gradient goes to the chosen input (to ``input`` on ties).

             >>> ag.fmin(ag.tensor([1.0, float("nan")]), ag.tensor([2.0, 3.0]))
             tensor([1., 3.])
             """)


def _sinc_vjp(g, ans, x):
    px = x * math.pi
    safe = xp.where(x == 0, 1.0, x)
    return xp.where(x == 0, g * 0, g * (xp.cos(px) - ans) / safe)


sinc = defop("sinc", _quiet(np.sinc), (_sinc_vjp,), uses_ans=True, same_shape=True, floating=True,
             doc="""The normalized sinc sin(pi x) / (pi x), 1 at 0; d/dx = (cos(pi x) - sinc(x)) / x (0 at 0).

             >>> ag.sinc(ag.tensor([0.0, 0.5]))
             tensor([1.0000, 0.6366])
             """)


# -- without gradient ------------------------------------------------------------------------------
trunc = defop("trunc", np.trunc, (E._zero_slope,), same_shape=True,
              doc="""Round toward zero, elementwise (a zero gradient, as ``floor``). PyTorch: ``torch.trunc`` / ``fix``.

              >>> ag.trunc(ag.tensor([-1.7, 1.7]))
              tensor([-1.,  1.])
              """)
fix = trunc
floor_divide = defop("floor_divide", _int_division("floor_divide", np.floor_divide), differentiable=False, nargs=2,
                     promote=True,
                     doc="""floor(input / other) elementwise (no gradient). Also ``input // other``.

                     >>> ag.floor_divide(ag.tensor([7, -7]), 2)
                     tensor([ 3, -4])
                     """)


def _bitwise(name, ufunc, example, result):
    return defop(name, ufunc, differentiable=False, nargs=2 if name != "bitwise_not" else 1,
                 promote=name != "bitwise_not",
                 doc=f"""Elementwise ``{name}``: bitwise on integer tensors, logical on bool tensors (PyTorch's rule
                 for ``&``, ``|``, ``^``, ``~``); no gradient.

                 >>> {example}
                 {result}
                 """)


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "ag.bitwise_and(ag.tensor([12, 10]), ag.tensor([10, 6]))",
                       "tensor([8, 2])")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "ag.tensor([12, 10]) | ag.tensor([10, 6])", "tensor([14, 14])")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "ag.tensor([True, False]) ^ ag.tensor([True, True])",
                       "tensor([False,  True])")
bitwise_not = _bitwise("bitwise_not", np.invert, "~ag.tensor([0, 5]), ~ag.tensor([True, False])",
                       "(tensor([-1, -6]), tensor([False,  True]))")
bitwise_left_shift = defop("bitwise_left_shift", np.left_shift, differentiable=False, nargs=2, promote=True,
                           doc="""input << other elementwise on integer tensors (no gradient); bits shifted past the
                           dtype's width are lost, as in PyTorch. Also ``input << other``.

                           >>> ag.bitwise_left_shift(ag.tensor([1, 3]), 2)
                           tensor([ 4, 12])
                           """)
bitwise_right_shift = defop("bitwise_right_shift", np.right_shift, differentiable=False, nargs=2, promote=True,
                            doc="""input >> other elementwise on integer tensors (no gradient): an arithmetic shift,
                            so negative numbers stay negative. Also ``input >> other``.

                            >>> ag.bitwise_right_shift(ag.tensor([-8, 12]), 2)
                            tensor([-2,  3])
                            """)
logical_xor = defop("logical_xor", np.logical_xor, differentiable=False, nargs=2,
                    doc="""Elementwise logical exclusive or of the truth values (a bool tensor).

                    >>> ag.logical_xor(ag.tensor([True, False, True]), ag.tensor([True, True, False]))
                    tensor([False,  True,  True])
                    """)
heaviside = defop("heaviside", np.heaviside, differentiable=False, nargs=2, promote=True,
                  doc="""Step function: 0 where input < 0, 1 where input > 0, ``values`` where input == 0.

                  >>> ag.heaviside(ag.tensor([-1.0, 0.0, 2.0]), ag.tensor(0.5))
                  tensor([0.0000, 0.5000, 1.0000])
                  """)
signbit = defop("signbit", np.signbit, differentiable=False, nargs=1,
                doc="""True where the sign bit is set (negative numbers and -0.0).

                >>> ag.signbit(ag.tensor([-1.0, -0.0, 2.0]))
                tensor([ True,  True, False])
                """)
isposinf = defop("isposinf", np.isposinf, differentiable=False, nargs=1,
                 doc="""True where the element is +inf.

                 >>> ag.isposinf(ag.tensor([float("inf"), float("-inf"), 1.0]))
                 tensor([ True, False, False])
                 """)
isneginf = defop("isneginf", np.isneginf, differentiable=False, nargs=1,
                 doc="""True where the element is -inf.

                 >>> ag.isneginf(ag.tensor([float("inf"), float("-inf"), 1.0]))
                 tensor([False,  True, False])
                 """)


def isreal(input):  # noqa: A002
    """True for every element of a real tensor (there are no complex tensors here).

    >>> ag.isreal(ag.tensor([1.0, 2.0]))
    tensor([True, True])
    """
    return Tensor(np.isreal(_arr(input)))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` is in ``test_elements`` (a tensor or a number); no gradient.

    >>> ag.isin(ag.tensor([1, 2, 3, 4]), ag.tensor([2, 4]))
    tensor([False,  True, False,  True])
    """
    return Tensor(np.isin(_arr(elements), _arr(test_elements), assume_unique=assume_unique, invert=invert))


def _arr(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


# -- compositions ----------------------------------------------------------------------------------
def square(input):  # noqa: A002
    """input * input (the ``mul`` op, so d/dx = 2x).

    >>> ag.square(ag.tensor([-2.0, 3.0]))
    tensor([4., 9.])
    """
    if isinstance(input, Tensor) and input._data.dtype.kind == "b":
        input = input.long()   # PyTorch squares bools as int64 (bool * bool would stay bool)
    return E.mul(input, input)


def reciprocal(input):  # noqa: A002
    """1 / input (a float tensor even for integer input, as PyTorch); d/dx = -1 / x².

    >>> ag.reciprocal(ag.tensor([2.0, 4.0]))
    tensor([0.5000, 0.2500])
    """
    return E.div(1.0, input)


def frac(input):  # noqa: A002
    """The fractional part input - trunc(input), with the sign of input; d/dx = 1.

    >>> ag.frac(ag.tensor([-1.25, 2.5]))
    tensor([-0.2500,  0.5000])
    """
    return input - trunc(input)


hypot = defop("hypot", _float_result(_quiet(np.hypot)),
              (lambda g, ans, x, y: g * x / ans, lambda g, ans, x, y: g * y / ans), uses_ans=True,
              promote=True, doc="""sqrt(input² + other²) elementwise, without overflow or underflow in the squares (inf if either
              is inf, even beside NaN); d/dinput = input / out, d/dother = other / out.

              >>> ag.hypot(ag.tensor([3.0, 5.0]), ag.tensor([4.0, 12.0]))
              tensor([ 5., 13.])
              """)


def _lerp_fwd(a, b, w):
    with np.errstate(all="ignore"):
        return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))


# one op with PyTorch's rules, not a where() of the two branches: the unselected branch's rule would
# multiply its zero gradient by an infinite weight or difference (NaN)
_lerp_tensor = defop("lerp", _lerp_fwd, (lambda g, ans, a, b, w: g * (1 - w), lambda g, ans, a, b, w: g * w,
                                         lambda g, ans, a, b, w: g * (b - a)),
                     reads=((2,), (2,), (0, 1)), nargs=3)


def lerp(input, end, weight):  # noqa: A002
    """Linear interpolation input + weight * (end - input); ``weight`` is a number or a tensor. Computed as
    PyTorch does: from ``input`` where |weight| < 0.5, else as end - (end - input) (1 - weight), so weight 1
    gives ``end`` exactly.

    >>> ag.lerp(ag.tensor([0.0, 10.0]), ag.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5000, 12.5000])
    """
    if isinstance(weight, Tensor):
        return _lerp_tensor(input, end, weight)
    if abs(weight) < 0.5:
        return input + weight * (end - input)
    return end - (end - input) * (1 - weight)


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 * tensor2.

    >>> ag.addcmul(ag.tensor([1.0, 1.0]), ag.tensor([2.0, 3.0]), ag.tensor([4.0, 5.0]), value=0.5)
    tensor([5.0000, 8.5000])
    """
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 / tensor2.

    >>> ag.addcdiv(ag.tensor([1.0, 1.0]), ag.tensor([2.0, 3.0]), ag.tensor([4.0, 6.0]), value=2)
    tensor([2., 2.])
    """
    return input + value * tensor1 / tensor2


def clamp_min(input, min):  # noqa: A002
    """``clamp(input, min=min)``: max(input, min) elementwise.

    >>> ag.clamp_min(ag.tensor([-1.0, 2.0]), 0.0)
    tensor([0., 2.])
    """
    return E.clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    """``clamp(input, max=max)``: min(input, max) elementwise.

    >>> ag.clamp_max(ag.tensor([-1.0, 2.0]), 0.0)
    tensor([-1.,  0.])
    """
    return E.clamp(input, max=max)


def rad2deg(input):  # noqa: A002
    """Radians to degrees: input * 180 / pi.

    >>> ag.rad2deg(ag.tensor([math.pi, 0.5 * math.pi]))
    tensor([180.,  90.])
    """
    return input * (180.0 / math.pi)


def deg2rad(input):  # noqa: A002
    """Degrees to radians: input * pi / 180.

    >>> ag.deg2rad(ag.tensor([180.0, 90.0]))
    tensor([3.1416, 1.5708])
    """
    return input * (math.pi / 180.0)


def rsub(input, other, *, alpha=1):  # noqa: A002
    """other - alpha * input (the reversed ``sub``).

    >>> ag.rsub(ag.tensor([1.0, 2.0]), 10.0)
    tensor([9., 8.])
    """
    return other - (input * alpha if alpha != 1 else input)


def subtract(input, other, *, alpha=1):  # noqa: A002
    """input - alpha * other. PyTorch: ``torch.subtract`` / ``torch.sub`` with ``alpha``.

    >>> ag.subtract(ag.tensor([10.0, 20.0]), ag.tensor([1.0, 2.0]), alpha=2)
    tensor([ 8., 16.])
    """
    return E.sub(input, E._times_alpha(input, other, alpha))


def divide(input, other, *, rounding_mode=None):  # noqa: A002
    """input / other; ``rounding_mode`` None (true division), 'trunc' (toward zero) or 'floor'. Integer
    inputs stay integers with a rounding mode, as in PyTorch; a rounded result has no gradient.

    >>> x = ag.tensor([-7.0, 7.0])
    >>> ag.divide(x, 2), ag.divide(x, 2, rounding_mode="trunc"), ag.divide(x, 2, rounding_mode="floor")
    (tensor([-3.5000,  3.5000]), tensor([-3.,  3.]), tensor([-4.,  3.]))
    """
    if rounding_mode is None:
        return E.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise OpError(f"divide: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    # the ops' own promotion (PyTorch's: a number takes the tensor's dtype, or the default float for a float
    # number with an integer tensor; two tensors promote as the binary ops do)
    return floor_divide(input, other) if rounding_mode == "floor" else _div_trunc(input, other)


def _trunc_divide(x, y):
    if np.asarray(x).dtype.kind in "biu" and np.asarray(y).dtype.kind in "biu":
        q = np.floor_divide(x, y)
        return np.where((q < 0) & (q * y != x), q + 1, q).astype(q.dtype, copy=False)
    return np.trunc(np.true_divide(x, y))


_div_trunc = defop("div_trunc", _int_division("div", _trunc_divide), differentiable=False, nargs=2, promote=True)


def float_power(input, exponent):  # noqa: A002
    """input ** exponent computed in float64 (the result is float64, as PyTorch).

    >>> ag.float_power(ag.tensor([2, 3]), 2)
    tensor([4., 9.], dtype=float64)
    """
    x = input.astype(np.float64) if isinstance(input, Tensor) else Tensor(np.asarray(input, np.float64))
    e = exponent.astype(np.float64) if isinstance(exponent, Tensor) else exponent
    return E.pow(x, e)


# -- PyTorch's other spellings ---------------------------------------------------------------------
multiply, true_divide, negative, absolute = E.mul, E.div, E.neg, E.abs
greater, less, greater_equal, less_equal, not_equal = E.gt, E.lt, E.ge, E.le, E.ne


def positive(input):  # noqa: A002
    """``input`` itself (PyTorch's unary plus).

    >>> ag.positive(ag.tensor([-1.0]))
    tensor([-1.])
    """
    return input


# -- Tensor methods --------------------------------------------------------------------------------
def _where_method(self, condition, other):
    """``self`` where ``condition`` is True, else ``other``: ``torch.where(condition, self, other)``.

    >>> x = ag.tensor([1.0, -2.0])
    >>> x.where(x > 0, 0.0)
    tensor([1., 0.])
    """
    return E.where(condition, self, other)


def _polygamma_method(self, n):
    """``polygamma(n, self)``.

    >>> ag.tensor([1.0]).polygamma(1)
    tensor([1.6449])
    """
    return polygamma(n, self)


def _inplace_doc(name, call, data="[[0.25, 0.5], [0.75, 0.125]]"):
    return (f"In place: ``t.{name}({call})`` is ``t.copy_(t.{name[:-1]}({call}))``; returns ``t``. Recorded on "
            f"the tape like PyTorch's in-place ops.\n\n"
            f"    >>> t = ag.tensor({data}); u = t.{name[:-1]}({call})\n"
            f"    >>> t.{name}({call}) is t, ag.allclose(t, u.to(t.dtype), equal_nan=True)\n"
            f"    (True, True)\n")


def _inplace(name, outofplace, call, data="[[0.25, 0.5], [0.75, 0.125]]"):
    def op_(self, *args, **kwargs):
        others = any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))
        return inplace_update(self, lambda old: outofplace(old, *args, **kwargs), name, others)
    op_.__name__ = name
    op_.__doc__ = _inplace_doc(name, call, data)
    return op_


_METHODS = dict(tan=tan, sinh=sinh, cosh=cosh, asin=asin, acos=acos, atan=atan, asinh=asinh, acosh=acosh,
                atanh=atanh, arcsin=arcsin, arccos=arccos, arctan=arctan, arcsinh=arcsinh, arccosh=arccosh,
                arctanh=arctanh, atan2=atan2, arctan2=arctan2, erfc=erfc, erfinv=erfinv, lgamma=lgamma,
                digamma=digamma, logit=logit, fmod=fmod, remainder=remainder, logaddexp=logaddexp, xlogy=xlogy,
                logaddexp2=logaddexp2, renorm=renorm,
                copysign=copysign, nan_to_num=nan_to_num, square=square, reciprocal=reciprocal, frac=frac,
                hypot=hypot, lerp=lerp, addcmul=addcmul, addcdiv=addcdiv, clamp_min=clamp_min, clamp_max=clamp_max,
                rad2deg=rad2deg, deg2rad=deg2rad, subtract=subtract, divide=divide, float_power=float_power,
                trunc=trunc, fix=fix, floor_divide=floor_divide, bitwise_and=bitwise_and, bitwise_or=bitwise_or,
                bitwise_xor=bitwise_xor, bitwise_not=bitwise_not, bitwise_left_shift=bitwise_left_shift,
                bitwise_right_shift=bitwise_right_shift, logical_xor=logical_xor, heaviside=heaviside,
                signbit=signbit, isposinf=isposinf, isneginf=isneginf, isreal=isreal, multiply=multiply,
                true_divide=true_divide, negative=negative, positive=positive, absolute=absolute, greater=greater,
                less=less, greater_equal=greater_equal, less_equal=less_equal, not_equal=not_equal,
                logical_and=E.logical_and, logical_or=E.logical_or, logical_not=E.logical_not, sgn=E.sgn,
                erf=E.erf, where=_where_method, polygamma=_polygamma_method, fmax=fmax, fmin=fmin, sinc=sinc)
for _name, _fn in _METHODS.items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)

# in-place forms: (name, the call's arguments in the generated example)
_INPLACE = dict(tan="", sinh="", cosh="", asin="", acos="", atan="", asinh="", acosh="", atanh="", arcsin="",
                arccos="", arctan="", arcsinh="", arccosh="", arctanh="", atan2="t", arctan2="t", erfc="", erfinv="",
                lgamma="", digamma="", logit="", fmod="0.2", remainder="0.2", logaddexp="t", xlogy="t", logaddexp2="t",
                renorm="2, 0, 0.5",
                copysign="-t", nan_to_num="", square="", reciprocal="", frac="", hypot="t", lerp="t * 2, 0.5",
                addcmul="t, t", addcdiv="t, t", clamp_min="0.3", clamp_max="0.3", rad2deg="", deg2rad="",
                subtract="t", divide="2.0", float_power="2", trunc="", fix="", floor_divide="0.2", multiply="t",
                true_divide="t", negative="", absolute="", greater="0.3", less="0.3", greater_equal="0.3",
                less_equal="0.3", not_equal="0.25", eq="0.25", ne="0.25", lt="0.3", le="0.3", gt="0.3", ge="0.3",
                erf="", sgn="", heaviside="t", polygamma="1", logical_not="", logical_and="t", logical_or="t",
                logical_xor="t", sinc="", tril="", triu="1")
for _name, _call in _INPLACE.items():
    if not hasattr(Tensor, _name + "_"):
        method(_name + "_", _inplace(_name + "_", getattr(Tensor, _name), _call))
for _name, _call in dict(bitwise_and="3", bitwise_or="3", bitwise_xor="3", bitwise_not="", bitwise_left_shift="1",
                         bitwise_right_shift="1").items():
    if not hasattr(Tensor, _name + "_"):
        method(_name + "_", _inplace(_name + "_", getattr(Tensor, _name), _call, data="[[5, -2], [7, 12]]"))

# ``&``, ``|``, ``^``, ``~``: bitwise on integers, logical on bools (PyTorch's rule; the logical ops would
# turn two int tensors into a bool tensor)
method("__and__", bitwise_and)
method("__rand__", lambda self, other: bitwise_and(other, self))
method("__or__", bitwise_or)
method("__ror__", lambda self, other: bitwise_or(other, self))
method("__xor__", bitwise_xor)
method("__rxor__", lambda self, other: bitwise_xor(other, self))
method("__invert__", bitwise_not)
method("__lshift__", bitwise_left_shift)
method("__rlshift__", lambda self, other: bitwise_left_shift(other, self))
method("__rshift__", bitwise_right_shift)
method("__rrshift__", lambda self, other: bitwise_right_shift(other, self))
method("__floordiv__", floor_divide)
method("__rfloordiv__", lambda self, other: floor_divide(other, self))
method("__mod__", remainder)
method("__rmod__", lambda self, other: remainder(other, self))
# augmented assignment writes into the tensor (aliases see it), as PyTorch's; without these Python would
# rebind the name to a new tensor
for _name, _op in dict(__iand__="bitwise_and_", __ior__="bitwise_or_", __ixor__="bitwise_xor_",
                       __ilshift__="bitwise_left_shift_", __irshift__="bitwise_right_shift_",
                       __ifloordiv__="floor_divide_", __imod__="remainder_", __ipow__="pow_").items():
    if hasattr(Tensor, _op):
        method(_name, getattr(Tensor, _op))


# PyTorch's keyword forms of the arithmetic methods (the operators keep calling the ops directly)
def _no_numpy_keywords(op, kw):
    if kw:
        raise TypeError(f"{op}() got an unexpected keyword argument {next(iter(kw))!r}; NumPy's out=/where= "
                        "are not supported: use the returned tensor")


def _old_order(name, other, rest, alpha):
    # torch.add(input, Number alpha, Tensor other), PyTorch's deprecated positional order
    if not rest:
        return other, alpha
    if len(rest) > 1 or alpha != 1:
        raise TypeError(f"{name}() takes 2 positional arguments (input, other) and alpha= as a keyword, got "
                        f"{2 + len(rest)} positional arguments{' and alpha=' if alpha != 1 else ''}")
    return E.alpha_first_overload(name, other, rest[0])


def _add_method(self, other, *rest, alpha=1, **kw):
    """``t.add(other, alpha=1)``: t + alpha * other (PyTorch's ``Tensor.add``).

    >>> ag.tensor([1.0, 2.0]).add(ag.tensor([1.0, 1.0]), alpha=10)
    tensor([11., 12.])
    """
    _no_numpy_keywords("add", kw)
    other, alpha = _old_order("add", other, rest, alpha)
    return E.add(self, E._times_alpha(self, other, alpha))


def _sub_method(self, other, *rest, alpha=1, **kw):
    """``t.sub(other, alpha=1)``: t - alpha * other (PyTorch's ``Tensor.sub``).

    >>> ag.tensor([10.0, 20.0]).sub(ag.tensor([1.0, 2.0]), alpha=2)
    tensor([ 8., 16.])
    """
    _no_numpy_keywords("sub", kw)
    other, alpha = _old_order("sub", other, rest, alpha)
    return subtract(self, other, alpha=alpha)


def _div_method(self, other, *, rounding_mode=None, **kw):
    """``t.div(other, rounding_mode=None)``: true division, or rounded ('trunc' / 'floor') as PyTorch's
    ``Tensor.div``.

    >>> ag.tensor([-7.0, 7.0]).div(2, rounding_mode="floor")
    tensor([-4.,  3.])
    """
    _no_numpy_keywords("div", kw)
    return divide(self, other, rounding_mode=rounding_mode)


def add(input, other, *rest, alpha=1, **kw):  # noqa: A002
    """input + alpha * other (PyTorch's ``torch.add``); gradients flow to both.

    >>> ag.add(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0]), alpha=10)
    tensor([11., 12.])
    """
    return _add_method(input if isinstance(input, Tensor) else Tensor(input), other, *rest, alpha=alpha, **kw)


def sub(input, other, *rest, alpha=1):  # noqa: A002
    """input - alpha * other (PyTorch's ``torch.sub``).

    >>> ag.sub(ag.tensor([10.0, 20.0]), ag.tensor([1.0, 2.0]), alpha=2)
    tensor([ 8., 16.])
    """
    other, alpha = _old_order("sub", other, rest, alpha)
    return subtract(input, other, alpha=alpha)


def div(input, other, *, rounding_mode=None):  # noqa: A002
    """input / other, or rounded ('trunc' / 'floor'), as PyTorch's ``torch.div``.

    >>> ag.div(ag.tensor([-7.0, 7.0]), 2, rounding_mode="trunc")
    tensor([-3.,  3.])
    """
    return divide(input, other, rounding_mode=rounding_mode)


method("add", _add_method)
method("sub", _sub_method)
method("div", _div_method)

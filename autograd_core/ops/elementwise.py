"""Elementwise ops: arithmetic, unary math, activations, comparisons.

Each line pairs a forward (on arrays) with its VJP rule(s); see ``registry`` for the rules'
signature. Broadcasting is undone centrally, so rules return full-size gradients.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import OpError
from .. import node as _node_mod
from ..dtypes import number_result_type as _number_result_type, result_type as _result_type
from ..tensor import Tensor, get_default_dtype, make
from .registry import _wrapped_int, defop, method, xp
from .inplace import inplace_update
from ..kernels import activation as _kact
from ..kernels import select as _ksel
from ..kernels import erf as _erf_any


def _erf_kernel(x):
    """erf(x) in x's float dtype (the kernel may compute float32 input in float64)."""
    out = _erf_any(x)
    dt = getattr(x, "dtype", None)
    if dt is not None and dt.kind == "f" and out.dtype != dt:
        out = out.astype(dt)
    return out

# 1 as a 0-d array of each float dtype, for rules of the form 1 - f(ans): NumPy combines an array with a
# Python scalar ~0.5 us slower than with an array of its own dtype (a third of such a rule on small tensors).
_ONES = {np.dtype(t): np.ones((), t) for t in (np.float16, np.float32, np.float64)}


def _one(a):
    """1 in ``a``'s dtype (a 0-d array; the Python 1 for any other dtype or a Tensor's rule)."""
    return _ONES.get(a.dtype, 1) if type(a) is np.ndarray else 1


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
                            lambda g, ans, x, y: g), uses=(), elementwise=True, promote=True,
            doc="""Elementwise sum ``x + y``; the inputs broadcast, the result has the broadcast shape.

            d/dx = d/dy = 1 (each gradient summed back to its input's shape). PyTorch: ``torch.add``
            (without ``alpha``; ``t.add_(y, alpha=a)`` has it). Also ``x + y``.

            >>> import autograd_core as ag
            >>> ag.add(ag.tensor([1.0, 2.0]), ag.tensor([[10.0], [20.0]]))
            tensor([[11., 12.],
                    [21., 22.]])
            """)
sub = defop("sub", np.subtract, (lambda g, ans, x, y: g,
                                 lambda g, ans, x, y: -g), uses=(), elementwise=True, promote=True,
            doc="""Elementwise difference ``x - y``; the inputs broadcast, the result has the broadcast shape.

            d/dx = 1, d/dy = -1. PyTorch: ``torch.sub`` (without ``alpha``). Also ``x - y``.

            >>> import autograd_core as ag
            >>> ag.sub(ag.tensor([5.0, 7.0]), 2.0)
            tensor([3., 5.])
            """)
mul = defop("mul", np.multiply, (lambda g, ans, x, y: g * y,
                                 lambda g, ans, x, y: g * x), reads=((1,), (0,)), elementwise=True, promote=True,
            doc="""Elementwise product ``x * y``; the inputs broadcast, the result has the broadcast shape.

            d/dx = y, d/dy = x. PyTorch: ``torch.mul``. Also ``x * y``.

            >>> import autograd_core as ag
            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> y = ag.mul(x, ag.tensor([3.0, 4.0]))
            >>> y.sum().backward()
            >>> y, x.grad
            (tensor([3., 8.], grad_fn=<MulBackward>), tensor([3., 4.]))
            """)
def _int_like(v):
    return isinstance(v, (int, np.integer)) or (isinstance(v, np.ndarray) and v.dtype.kind in "biu")


def _true_divide(x, y):
    """Elementwise true division ``x / y``; the inputs broadcast, the result has the broadcast shape.

    d/dx = 1 / y, d/dy = -x / y**2. Integer / integer gives the default float dtype (float32), as in
    PyTorch, not NumPy's float64. PyTorch: ``torch.div`` (without ``rounding_mode``). Also ``x / y``.

    >>> import autograd_core as ag
    >>> ag.div(ag.tensor([1, 3]), 2)
    tensor([0.5000, 1.5000])
    """
    if _int_like(x) and _int_like(y):
        # computed in the default float dtype, as PyTorch (a Python int stays a number: -1 / uint8 is -1.0 / ...)
        dt = get_default_dtype()
        x = x.astype(dt) if isinstance(x, np.ndarray) else x
        y = y.astype(dt) if isinstance(y, np.ndarray) else y
    if type(y) in (float, int) and y != 0:     # nothing to silence (np.errstate costs ~1 us a call)
        out = np.true_divide(x, y)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):   # x / 0 is ±inf or NaN without a warning, as PyTorch
            out = np.true_divide(x, y)
    return out


# integers go to the default float dtype each on its own, and a Python int beyond an int tensor's range is not
# wrapped into it (registry)
setattr(_true_divide, "int_as_float", True)  # noqa: B010 (a function attribute, which mypy can't declare)


# d/dy as (x / y) / y, not x / y²: y² underflows to 0 for tiny y where the quotient does not (PyTorch's form)
div = defop("div", _true_divide, (lambda g, ans, x, y: g / y,
                                    lambda g, ans, x, y: -g * (x / y) / y), reads=((1,), (0, 1)),
            elementwise=True, promote=True)
neg = defop("neg", np.negative, (lambda g, ans, x: -g,), uses=(), same_shape=True,
            doc="""Elementwise negation ``-x``; same shape as ``x``.

            d/dx (-x) = -1. PyTorch: ``torch.neg``. Also ``-x``.

            >>> import autograd_core as ag
            >>> ag.neg(ag.tensor([1.0, -2.0]))
            tensor([-1.,  2.])
            """)


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
    """Elementwise power ``x ** y``; the inputs broadcast, the result has the broadcast shape.

    d/dx = y * x**(y-1) (0 where y == 0), d/dy = x**y * log(x) (0 where x == 0 and y >= 0), as in
    PyTorch. A Python-number exponent of 0.5, -0.5, -1, 2 or 3 is computed as sqrt, 1/sqrt, 1/x, x*x
    and x*x*x, as PyTorch does (so ``(-0.0) ** 0.5`` is -0.0 and the gradients at 0, -0.0 and inf
    match). PyTorch: ``torch.pow``. Also ``x ** y``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> ag.pow(x, 2).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    >>> ag.pow(2.0, ag.tensor([0.0, 3.0]))
    tensor([1., 8.])
    """
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
        if type(y) is np.ndarray and y.dtype.kind == "f":
            # NumPy computes an exponent that the loop sees as a scalar (0-d or broadcast) of 0.5 as sqrt: NaN
            # at -inf and -0.0 at -0.0, where PyTorch's pow with a tensor exponent gives inf and 0.0
            shape = np.broadcast_shapes(np.shape(x), y.shape)
            if (y.shape != shape or not y.ndim) and (y == 0.5).any():
                return np.power(x, np.array(np.broadcast_to(y, shape), ndmin=1)).reshape(shape)
        if type(y) is np.ndarray and y.dtype.kind in "iu" and np.asarray(x).dtype.kind in "biu" and (y < 0).any():
            # PyTorch's integer power with a tensor exponent: x ** -n is 1 for x = 1, ±1 for x = -1, else 0
            # (NumPy refuses negative integer powers)
            pos = np.power(x, np.maximum(y, 0))
            neg = np.where(x == 1, 1, np.where(x == -1, 1 - 2 * (y & 1), 0))
            return np.where(y < 0, neg, pos).astype(pos.dtype, copy=False)
        out = np.power(x, y)
        if out.dtype.kind != "b" and np.asarray(x).dtype.kind == "b" and np.asarray(y).dtype.kind == "b":
            out = out.astype(bool)   # NumPy's bool ** bool is int8; PyTorch's bool ** True stays bool
        return out


pow = defop("pow", _power, (_pow_base, _pow_exp), reads=((0, 1), (0, "ans")), promote=True)


def maximum_(x, y):
    """Elementwise maximum of ``x`` and ``y``; the inputs broadcast, the result has the broadcast shape.

    The gradient goes to the larger input; at a tie each gets half (as PyTorch); a NaN propagates.
    PyTorch: ``torch.maximum``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 5.0, 3.0], requires_grad=True)
    >>> ag.maximum(x, ag.tensor([2.0, 2.0, 3.0])).sum().backward()
    >>> x.grad
    tensor([0.0000, 1.0000, 0.5000])
    """
    return np.maximum(x, y)


def minimum_(x, y):
    """Elementwise minimum of ``x`` and ``y``; the inputs broadcast, the result has the broadcast shape.

    The gradient goes to the smaller input; at a tie each gets half (as PyTorch); a NaN propagates.
    PyTorch: ``torch.minimum``.

    >>> import autograd_core as ag
    >>> ag.minimum(ag.tensor([1.0, 5.0]), ag.tensor([2.0, 2.0]))
    tensor([1., 2.])
    """
    return np.minimum(x, y)


def _tie(g, a, b, loses):
    # PyTorch: half each at a tie, nothing where this input loses, else all of g; so where either
    # input is NaN (no tie, no loser) both get g, and the NaN reaches anomaly detection.
    return xp.where(a == b, g * 0.5, xp.where(loses(a, b), g * 0, g))


maximum = defop("maximum", maximum_, (lambda g, ans, x, y: _tie(g, x, y, lambda a, b: a < b),
                                      lambda g, ans, x, y: _tie(g, y, x, lambda a, b: a < b)), promote=True)
minimum = defop("minimum", minimum_, (lambda g, ans, x, y: _tie(g, x, y, lambda a, b: a > b),
                                      lambda g, ans, x, y: _tie(g, y, x, lambda a, b: a > b)), promote=True)

# -- unary math --------------------------------------------------------------------------------
def _sign_nan0(x):
    """sign(x) with 0 at NaN: the derivative of ``abs`` (PyTorch's abs'(nan) is 0)."""
    return np.where(np.isnan(x), 0, np.sign(x)) if np.issubdtype(np.asarray(x).dtype, np.floating) else np.sign(x)


_sign_nan0_op = defop("sign_nan0", _sign_nan0, differentiable=False, nargs=1)


abs = defop("abs", np.abs, (lambda g, ans, x: g * xp.sign_nan0(x),), same_shape=True,
            doc="""Elementwise absolute value ``|x|``; same shape as ``x``.

            d/dx |x| = sign(x) (0 at x == 0 and at NaN, as PyTorch). PyTorch: ``torch.abs``. Also ``abs(x)``.

            >>> import autograd_core as ag
            >>> ag.abs(ag.tensor([-1.5, 0.0, 2.0]))
            tensor([1.5000, 0.0000, 2.0000])
            """)
exp = defop("exp", np.exp, (lambda g, ans, x: g * ans,), uses=(), uses_ans=True, same_shape=True, floating=True,
            doc="""Elementwise exponential ``e ** x``; same shape as ``x``.

            d/dx exp(x) = exp(x). PyTorch: ``torch.exp``.

            >>> import autograd_core as ag
            >>> ag.exp(ag.tensor([0.0, 1.0]))
            tensor([1.0000, 2.7183])
            """)
log = defop("log", _nowarn(np.log), (lambda g, ans, x: g / x,), same_shape=True, floating=True,
            doc="""Elementwise natural logarithm ``ln(x)``; same shape as ``x`` (-inf at 0, NaN below 0, no warning).

            d/dx log(x) = 1 / x. PyTorch: ``torch.log``.

            >>> import autograd_core as ag
            >>> ag.log(ag.tensor([1.0, 0.0]))
            tensor([0., -inf])
            """)
log1p = defop("log1p", _nowarn(np.log1p), (lambda g, ans, x: g / (x + 1),), same_shape=True, floating=True,
              doc="""Elementwise ``log(1 + x)``, accurate for small ``x``; same shape as ``x``.

              d/dx log1p(x) = 1 / (1 + x). PyTorch: ``torch.log1p``.

              >>> import autograd_core as ag
              >>> ag.log1p(ag.tensor([0.0, 1e-8], dtype=ag.float64))
              tensor([0.0000e+00, 1.0000e-08], dtype=float64)
              """)
expm1 = defop("expm1", np.expm1, (lambda g, ans, x: g * (ans + 1),), uses=(), uses_ans=True, same_shape=True, floating=True,
              doc="""Elementwise ``exp(x) - 1``, accurate for small ``x``; same shape as ``x``.

              d/dx expm1(x) = exp(x). PyTorch: ``torch.expm1``.

              >>> import autograd_core as ag
              >>> ag.expm1(ag.tensor([0.0, 1e-10], dtype=ag.float64))
              tensor([0.0000e+00, 1.0000e-10], dtype=float64)
              """)
sqrt = defop("sqrt", _nowarn(np.sqrt), (lambda g, ans, x: g * 0.5 / ans,), uses=(), uses_ans=True, same_shape=True, floating=True,
             doc="""Elementwise square root; same shape as ``x`` (NaN below 0, no warning).

             d/dx sqrt(x) = 1 / (2 sqrt(x)) (inf at 0, as PyTorch). PyTorch: ``torch.sqrt``.

             >>> import autograd_core as ag
             >>> ag.sqrt(ag.tensor([4.0, 9.0]))
             tensor([2., 3.])
             """)


def _rsqrt(x):
    """Elementwise reciprocal square root ``1 / sqrt(x)``; same shape as ``x``.

    d/dx x**-0.5 = -0.5 x**-1.5. PyTorch: ``torch.rsqrt``.

    >>> import autograd_core as ag
    >>> ag.rsqrt(ag.tensor([4.0, 0.25]))
    tensor([0.5000, 2.0000])
    """
    with np.errstate(all="ignore"):
        return 1.0 / np.sqrt(x)


rsqrt = defop("rsqrt", _rsqrt, (lambda g, ans, x: g * -0.5 * ans * ans * ans,), uses=(), uses_ans=True, same_shape=True, floating=True)
sin = defop("sin", np.sin, (lambda g, ans, x: g * xp.cos(x),), same_shape=True, floating=True,
            doc="""Elementwise sine (radians); same shape as ``x``.

            d/dx sin(x) = cos(x). PyTorch: ``torch.sin``.

            >>> import autograd_core as ag
            >>> ag.sin(ag.tensor([0.0, 1.0]))
            tensor([0.0000, 0.8415])
            """)
cos = defop("cos", np.cos, (lambda g, ans, x: -g * xp.sin(x),), same_shape=True, floating=True,
            doc="""Elementwise cosine (radians); same shape as ``x``.

            d/dx cos(x) = -sin(x). PyTorch: ``torch.cos``.

            >>> import autograd_core as ag
            >>> ag.cos(ag.tensor([0.0, 1.0]))
            tensor([1.0000, 0.5403])
            """)
# g - g*ans*ans is g * (1 - ans**2) in three array ops without a ones constant (as accurate: both round
# ans**2 against 1 first), a fifth faster on small arrays.
tanh = defop("tanh", np.tanh, (lambda g, ans, x: g - g * ans * ans,), uses=(), uses_ans=True, same_shape=True, floating=True,
             doc="""Elementwise hyperbolic tangent; same shape as ``x``.

             d/dx tanh(x) = 1 - tanh(x)**2. PyTorch: ``torch.tanh``.

             >>> import autograd_core as ag
             >>> ag.tanh(ag.tensor([0.0, 1.0]))
             tensor([0.0000, 0.7616])
             """)
erf = defop("erf", _erf_kernel, (lambda g, ans, x: g * (2.0 / math.sqrt(math.pi)) * xp.exp(-(x * x)),), same_shape=True, floating=True,
            doc="""Elementwise error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t**2) dt``; same shape and
            float dtype as ``x``.

            d/dx erf(x) = 2/sqrt(pi) * exp(-x**2). PyTorch: ``torch.erf``.

            >>> import autograd_core as ag
            >>> ag.erf(ag.tensor([0.0, 1.0]))
            tensor([0.0000, 0.8427])
            """)


def sigmoid_(x):
    """Elementwise logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for large ``|x|``; same shape
    as ``x``.

    d/dx sigmoid(x) = sigmoid(x) (1 - sigmoid(x)). PyTorch: ``torch.sigmoid``.

    >>> import autograd_core as ag
    >>> ag.sigmoid(ag.tensor([0.0, 2.0]))
    tensor([0.5000, 0.8808])
    """
    # exp(-|x|) / (1 + exp(-|x|)) for x < 0 and 1 / (1 + exp(-x)) for x >= 0, as one expression: the
    # numerator max(e, x >= 0) is 1 or e. A select (np.where) on signs that change at random ran 4x slower.
    e = np.exp(-np.abs(x))
    num = np.maximum(e, x >= 0)
    if type(num) is not np.ndarray:    # 0-d: numpy scalars
        return num / (1 + e)
    e += 1
    return np.divide(num, e, out=num)


sigmoid = defop("sigmoid", sigmoid_, (lambda g, ans, x: g * ans * (_one(ans) - ans),), uses=(), uses_ans=True,
                same_shape=True, floating=True)

# -- second-order graphs: an edge with a zero derivative -----------------------------------------------
def _depends_on(out, *xs):
    """``out`` (a copy), recorded as a function of ``xs`` with zero derivatives."""
    return out.copy()


def _depends_on_vjp(g, ans, out, *xs, needs):
    return [g if needs[0] else None] + [np.zeros(x.shape, x.dtype) if need else None
                                        for x, need in zip(xs, needs[1:])]


_depends_on_op = defop("depends_on", _depends_on, vjp=_depends_on_vjp, uses=())


def _link_inputs(out, xs):
    """A gradient computed with create_graph, made to depend on the inputs its rule read: PyTorch's
    backward nodes take those inputs (``leaky_relu_backward(grad, self)``, ``abs``' ``sgn(self)``), so
    an input reached only through a mask or a sign (a piecewise-linear function's) counts as used in a
    gradient penalty and gets a zero gradient there, not "unused"."""
    return _depends_on_op(out, *xs)


_node_mod.link_inputs = _link_inputs


# -- activations -------------------------------------------------------------------------------
# relu's gradient is an op of its own so that its fast kernel lives in a forward, not in a rule:
# d/dg relu_grad(g, x) is relu_grad itself, and x gets no gradient (the mask is piecewise constant).
relu_grad = defop("relu_grad", _kact.relu_grad,
                  (lambda gg, ans, g, x: xp.relu_grad(gg, x), lambda gg, ans, g, x: gg * 0), reads=((1,), ()))
# relu's rule reads its output, as PyTorch's does (ans > 0 exactly where x > 0; NaN where x is NaN)
relu = defop("relu", _kact.relu, (lambda g, ans, x: xp.relu_grad(g, ans),), uses=(), uses_ans=True, same_shape=True)
relu.__doc__ = """Elementwise rectified linear unit ``max(x, 0)``; same shape as ``x``.

    d/dx relu(x) = 1 where x > 0, else 0 (0 at x == 0, as PyTorch). PyTorch: ``torch.relu``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> ag.relu(x).sum().backward()
    >>> x.grad
    tensor([0., 0., 1.])
    """


def _leaky(x, negative_slope=0.01):
    """Elementwise leaky ReLU: ``x`` where x > 0, else ``negative_slope * x``; same shape as ``x``.

    d/dx = 1 where x > 0, else ``negative_slope``. PyTorch: ``torch.nn.functional.leaky_relu``.

    >>> import autograd_core as ag
    >>> ag.leaky_relu(ag.tensor([-2.0, 3.0]), 0.5)
    tensor([-1.,  3.])
    """
    # max(x, a x) for a <= 1, min(x, a x) for a > 1: the same values (NaN stays NaN), without a select on
    # signs that change at random (np.where ran 4x slower on a (16, 64, 32, 32) activation)
    # (a = 0 keeps the select: 0 * inf is NaN)
    if type(x) is np.ndarray and x.dtype.kind == "f" and np.isfinite(negative_slope) and negative_slope != 0:
        out = np.multiply(x, negative_slope, out=np.empty_like(x))
        return (np.maximum if negative_slope <= 1 else np.minimum)(x, out, out=out)
    return np.where(x > 0, x, x * negative_slope)


leaky_relu = defop("leaky_relu", _leaky,
                   (lambda g, ans, x, negative_slope=0.01: xp.where(x > 0, g, g * negative_slope),))


def _prelu(x, w):
    """Elementwise PReLU: ``x`` where x > 0, else ``w * x`` (``w`` broadcast against ``x``)."""
    with np.errstate(invalid="ignore"):   # inf * 0 in the branch not taken
        return np.where(x > 0, x, w * x)


def _fixed(t):
    # the same values with no gradient: a factor whose own derivative PyTorch's double backward masks
    return t._data if isinstance(t, Tensor) else t


# d/dx = 1 where x > 0, else w; d/dw = 0 where x > 0, else x (0 * g at x == 0). At x == 0 the slopes
# have no derivative of their own (no d2/dx dw), as PyTorch's double backward masks with x >= 0.
prelu = defop("prelu", _prelu,
              (lambda g, ans, x, w: xp.where(x > 0, g, g * xp.where(x < 0, w, _fixed(w))),
               lambda g, ans, x, w: xp.where(x > 0, 0, g * xp.where(x < 0, x, _fixed(x)))), promote=True)


def _elu(x, alpha=1.0):
    """Elementwise ELU: ``x`` where x > 0, else ``alpha * (exp(x) - 1)``; same shape as ``x``.

    d/dx = 1 where x > 0, else ``alpha * exp(x)``. PyTorch: ``torch.nn.functional.elu``.

    >>> import autograd_core as ag
    >>> ag.elu(ag.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.6321,  0.0000,  2.0000])
    """
    if type(x) is np.ndarray and x.dtype.kind == "f" and 0 < alpha < np.inf:
        # max(x, 0) + alpha expm1(min(x, 0)), one term an exact zero on each side, with x's sign (for the
        # zeros): the select's values bit for bit, without the select (slow on signs that change at random)
        out = np.minimum(x, 0, out=np.empty_like(x))
        np.expm1(out, out=out)
        out *= alpha
        out += np.maximum(x, 0)
        return np.copysign(out, x, out=out)
    with np.errstate(over="ignore"):      # expm1 of a large x, in the branch not taken
        return np.where(x > 0, x, alpha * np.expm1(x))


# reads x only (PyTorch's elu backward from the input); elu'(nan) = 1 as in PyTorch (nan > 0 is false there).
# At 0 the slope is alpha but its own derivative is 0: PyTorch's double backward masks with x < 0.
elu = defop("elu", _elu,
            (lambda g, ans, x, alpha=1.0: xp.where(x <= 0, g * alpha * xp.exp(xp.where(x == 0, 0, x)), g),))


def _gelu(x, approximate="none"):
    """Elementwise GELU ``x * Phi(x)`` (Phi: the standard normal CDF, exact through erf), or with
    ``approximate='tanh'`` ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``; same shape as ``x``.

    d/dx = Phi(x) + x phi(x) (exact form). PyTorch: ``torch.nn.functional.gelu``.

    >>> import autograd_core as ag
    >>> ag.gelu(ag.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    >>> ag.gelu(ag.tensor([1.0]), approximate="tanh")
    tensor([0.8412])
    """
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    if approximate != "none":
        raise OpError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
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
    """Elementwise softplus ``log(1 + exp(beta x)) / beta``, the identity where ``beta x > threshold``
    (as PyTorch); stable for any ``x``; same shape as ``x``.

    d/dx = sigmoid(beta x) (1 above the threshold). PyTorch: ``torch.nn.functional.softplus``.

    >>> import autograd_core as ag
    >>> ag.softplus(ag.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


def _softplus_vjp(g, ans, x, beta=1.0, threshold=20.0):
    bx = x * beta
    # at beta x == threshold the slope is sigmoid(threshold), a constant: PyTorch's double backward masks
    # the curvature with beta x < threshold
    return xp.where(bx > threshold, g, g * xp.sigmoid(xp.where(bx == threshold, threshold, bx)))


softplus = defop("softplus", _softplus, (_softplus_vjp,))


def _clamp(x, min=None, max=None):
    """Clip x to [min, max]; either bound may be None. Gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise OpError("clamp: at least one of min and max must be given")
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
    """Clip ``x`` elementwise to ``[min, max]`` (either bound may be None; positional as in
    ``torch.clamp(x, min, max)``); numbers or tensors that broadcast against ``x``.

    d/dx = 1 where min <= x <= max, else 0; tensor bounds that require grad get the gradient where
    they are the result: min where x < min < max, max where x > max or max < min (so where
    x < min == max, none of the three gets it, as in PyTorch). PyTorch: ``torch.clamp``.

    >>> import autograd_core as ag
    >>> ag.clamp(ag.tensor([-2.0, 0.5, 3.0]), -1.0, 1.0)
    tensor([-1.0000,  0.5000,  1.0000])
    >>> ag.tensor([-2.0, 0.5, 3.0]).clamp(min=0.0)
    tensor([0.0000, 0.5000, 3.0000])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    dt = _clamp_dtype(x._data, min, max)
    if dt is not x._data.dtype:
        x = x.to(dt)
    if dt.kind in "iu":   # a Python int bound beyond the dtype's range wraps into it, as PyTorch casts it
        min, max = [_wrapped_int(b, dt) if type(b) is int else b for b in (min, max)]
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is None and max is None:
            raise OpError("clamp: at least one of min and max must be given")
        min, max = [b.to(dt) if isinstance(b, Tensor) and b._data.dtype is not dt else b for b in (min, max)]
        if min is None:
            return _clamp_max_t(x, max)
        if max is None:
            return _clamp_min_t(x, min)
        return _clamp_both_t(x, min, max)
    return _clamp_op(x, min=min, max=max)


def _clamp_dtype(xd, lo, hi):
    """PyTorch's result dtype of clamp(x, lo, hi): x's, promoted by the bounds as a binary op's operands (an int
    tensor with a float bound is the default float dtype; a 0-d int8 bound leaves a uint8 x uint8). With both
    bounds given, PyTorch counts a 0-d bound as a Python number (clamp(uint8 x, float16 0-d, 5) is float32)."""
    dt = xd.dtype
    if dt.kind == "f" and type(lo) in _BOUND_NUMBERS and type(hi) in _BOUND_NUMBERS:
        return dt   # the common case, without the general rule's cost
    for b in (lo, hi):
        if b is None:
            continue
        b = b._data if isinstance(b, Tensor) else b
        both = lo is not None and hi is not None
        b = b.item() if isinstance(b, np.generic) or (both and isinstance(b, np.ndarray) and b.ndim == 0) else b
        dt = _number_result_type(xd if dt is xd.dtype else np.broadcast_to(np.empty((), dt), xd.shape), b,
                                 get_default_dtype())
    return dt


_BOUND_NUMBERS = (type(None), int, float)


# Tensor bounds: NaN in x or in a bound gives NaN, and no gradient to either there (PyTorch's clamp); at a tie
# the gradient goes to x.
_clamp_min_t = defop("clamp_min_tensor", np.maximum,
                     (lambda g, ans, x, lo: g * (x >= lo), lambda g, ans, x, lo: g * (x < lo)))
_clamp_max_t = defop("clamp_max_tensor", np.minimum,
                     (lambda g, ans, x, hi: g * (x <= hi), lambda g, ans, x, hi: g * (x > hi)))
# Both bounds: min(max(x, lo), hi), with PyTorch's rules: lo gets g only where x < lo < hi, hi where
# x > hi or hi < lo (crossed bounds give hi), so where lo == hi and x < lo no one gets it.
_clamp_both_t = defop("clamp_tensor", lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
                      (lambda g, ans, x, lo, hi: g * ((x >= lo) & (x <= hi)),
                       lambda g, ans, x, lo, hi: g * ((x < lo) & (lo < hi)),
                       lambda g, ans, x, lo, hi: g * ((x > hi) | (hi < lo))))


def clip(x, min=None, max=None):
    """``clamp`` under NumPy's (and PyTorch's alias) name: clip ``x`` elementwise to ``[min, max]``.

    PyTorch: ``torch.clip``.

    >>> import autograd_core as ag
    >>> ag.clip(ag.tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
    tensor([0.0000, 0.5000, 1.0000])
    """
    return clamp(x, min, max)


def where(cond, x=None, y=None):
    """Elementwise select: ``x`` where ``cond`` is True, else ``y``; all three broadcast together.
    ``where(cond)`` alone is ``nonzero(cond, as_tuple=True)``: a tuple of index tensors, one per dim.

    d/dx = cond, d/dy = not cond (``cond``, a bool tensor or array, gets no gradient). PyTorch:
    ``torch.where(cond, x, y)``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, -2.0, 3.0])
    >>> ag.where(x > 0, x, 0.0)
    tensor([1., 0., 3.])
    >>> ag.where(x > 0)
    (tensor([0, 2]),)
    """
    c = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
    if x is None and y is None:
        return tuple(make(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(c)))
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither (where(cond) is nonzero(cond, as_tuple=True))")
    for i, (n, t) in enumerate(((x, y), (y, x))):
        if type(n) is int and isinstance(t, Tensor) and t._data.dtype.kind in "iu":
            # PyTorch's checked cast: int8 takes -128 .. 127; an unsigned type also takes negatives down to -max,
            # which wrap (-1 is 255 in uint8)
            info = np.iinfo(t._data.dtype)
            if not (-info.max if info.min == 0 else info.min) <= n <= info.max:
                raise RuntimeError(f"where: the value {n} cannot be converted to the tensor's dtype {t._data.dtype} "
                                   "without overflow")
            wrapped = _wrapped_int(n, t._data.dtype)
            x, y = (wrapped, y) if i == 0 else (x, wrapped)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor) and \
            all(isinstance(v, (bool, int, float)) for v in (x, y)):
        # two Python numbers: each the tensor PyTorch makes of it (a float in the default dtype, not float64)
        x, y = Tensor(x), Tensor(y)
    return _where(x, y, cond=c)


def _where_fwd(x, y, cond):
    out = _ksel.where(cond, x, y)
    return np.where(cond, x, y) if out is None else out


# PyTorch's rules: where(cond, g, 0) and where(cond, 0, g); an inf or NaN in g stays out of the zeros
_where = defop("where", _where_fwd,
               (lambda g, ans, x, y, cond: xp.where(cond, g, 0),
                lambda g, ans, x, y, cond: xp.where(cond, 0, g)), uses=(), promote=True)


def _xp_where(cond, x, y):
    if isinstance(cond, Tensor):
        cond = cond._data
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        return _where(x, y, cond=cond)
    return _where_fwd(x, y, cond)


xp.where = _xp_where

# -- sign (no gradient) and rounding (a zero gradient, as PyTorch's: the result requires grad, and
# backward through it gives zeros rather than an error) ----------------------------------------
def _zero_slope(g, *args, **kw):
    # PyTorch's zeros_like(grad): zeros that drop g, NaN included (g * 0 would keep a NaN), and a constant
    # on the tape (a gradient with create_graph does not depend on g through it)
    return Tensor(np.zeros_like(g._data)) if isinstance(g, Tensor) else np.zeros_like(g)


def _sign(x):
    """sign(x), 0 at NaN (PyTorch's sign: it tests x > 0 and x < 0, both false for NaN)."""
    if x.dtype.kind == "b":
        return x.copy()   # a bool is its own sign (NumPy has no bool sign)
    out = np.sign(x)
    if out.dtype.kind == "f":
        out = np.where(np.isnan(out), out.dtype.type(0), out)
    return out


sign = defop("sign", _sign, differentiable=False, nargs=1,
             doc="""Elementwise sign: -1, 0 or 1, and 0 at NaN (as PyTorch), in ``x``'s dtype; same shape as ``x``.

             Not differentiable: the result does not require grad (PyTorch's requires grad, with a zero
             gradient). PyTorch: ``torch.sign``.

             >>> import autograd_core as ag
             >>> ag.sign(ag.tensor([-2.0, 0.0, 3.0]))
             tensor([-1.,  0.,  1.])
             """)
sgn = defop("sgn", _sign, differentiable=False, nargs=1, doc="""Elementwise sign: -1, 0 or 1 (0 at NaN),
in ``x``'s dtype. Not differentiable, as ``sign``. PyTorch: ``torch.sgn`` (the same as ``sign`` for real inputs).

>>> import autograd_core as ag
>>> ag.sgn(ag.tensor([-2.0, 0.0, 3.0]))
tensor([-1.,  0.,  1.])
""")
floor = defop("floor", np.floor, (_zero_slope,), same_shape=True,
              doc="""Elementwise floor (largest integer <= x), in ``x``'s dtype; same shape as ``x``.

              The gradient is 0 everywhere. PyTorch: ``torch.floor``.

              >>> import autograd_core as ag
              >>> ag.floor(ag.tensor([-1.5, 2.5]))
              tensor([-2.,  2.])
              """)
ceil = defop("ceil", np.ceil, (_zero_slope,), same_shape=True,
             doc="""Elementwise ceiling (smallest integer >= x), in ``x``'s dtype; same shape as ``x``.

             The gradient is 0 everywhere. PyTorch: ``torch.ceil``.

             >>> import autograd_core as ag
             >>> ag.ceil(ag.tensor([-1.5, 2.5]))
             tensor([-1.,  3.])
             """)
def _round(x, decimals=0):
    """Elementwise rounding to ``decimals`` places, halves to even (as PyTorch), in ``x``'s dtype; same
    shape as ``x``.

    The gradient is 0 everywhere. PyTorch: ``torch.round``.

    >>> import autograd_core as ag
    >>> ag.round(ag.tensor([0.5, 1.5, 2.7]))
    tensor([0., 2., 3.])
    >>> ag.round(ag.tensor([1.25]), decimals=1)
    tensor([1.2000])
    """
    return np.round(x, decimals)


round = defop("round", _round, (_zero_slope,), same_shape=True)
isnan = defop("isnan", np.isnan, differentiable=False, nargs=1,
              doc="""Elementwise test for NaN: a bool tensor of ``x``'s shape.

              PyTorch: ``torch.isnan``.

              >>> import autograd_core as ag
              >>> ag.isnan(ag.tensor([1.0, float("nan")]))
              tensor([False,  True])
              """)
isinf = defop("isinf", np.isinf, differentiable=False, nargs=1,
              doc="""Elementwise test for +inf or -inf: a bool tensor of ``x``'s shape.

              PyTorch: ``torch.isinf``.

              >>> import autograd_core as ag
              >>> ag.isinf(ag.tensor([1.0, float("inf"), -float("inf")]))
              tensor([False,  True,  True])
              """)
isfinite = defop("isfinite", np.isfinite, differentiable=False, nargs=1,
                 doc="""Elementwise test for a finite value (not inf, not NaN): a bool tensor of ``x``'s shape.

                 PyTorch: ``torch.isfinite``.

                 >>> import autograd_core as ag
                 >>> ag.isfinite(ag.tensor([1.0, float("inf"), float("nan")]))
                 tensor([ True, False, False])
                 """)
eq = defop("eq", np.equal, differentiable=False, nargs=2, promote=True,
           doc="""Elementwise ``x == y``: a bool tensor of the broadcast shape.

           PyTorch: ``torch.eq``. Also ``x == y`` (``ag.equal`` compares whole tensors).

           >>> import autograd_core as ag
           >>> ag.eq(ag.tensor([1, 2, 3]), 2)
           tensor([False,  True, False])
           """)
ne = defop("ne", np.not_equal, differentiable=False, nargs=2, promote=True,
           doc="""Elementwise ``x != y``: a bool tensor of the broadcast shape.

           PyTorch: ``torch.ne``. Also ``x != y``.

           >>> import autograd_core as ag
           >>> ag.ne(ag.tensor([1, 2, 3]), 2)
           tensor([ True, False,  True])
           """)
lt = defop("lt", np.less, differentiable=False, nargs=2, promote=True,
           doc="""Elementwise ``x < y``: a bool tensor of the broadcast shape.

           PyTorch: ``torch.lt``. Also ``x < y``.

           >>> import autograd_core as ag
           >>> ag.lt(ag.tensor([1, 2, 3]), 2)
           tensor([ True, False, False])
           """)
le = defop("le", np.less_equal, differentiable=False, nargs=2, promote=True,
           doc="""Elementwise ``x <= y``: a bool tensor of the broadcast shape.

           PyTorch: ``torch.le``. Also ``x <= y``.

           >>> import autograd_core as ag
           >>> ag.le(ag.tensor([1, 2, 3]), 2)
           tensor([ True,  True, False])
           """)
gt = defop("gt", np.greater, differentiable=False, nargs=2, promote=True,
           doc="""Elementwise ``x > y``: a bool tensor of the broadcast shape.

           PyTorch: ``torch.gt``. Also ``x > y``.

           >>> import autograd_core as ag
           >>> ag.gt(ag.tensor([1, 2, 3]), 2)
           tensor([False, False,  True])
           """)
ge = defop("ge", np.greater_equal, differentiable=False, nargs=2, promote=True,
           doc="""Elementwise ``x >= y``: a bool tensor of the broadcast shape.

           PyTorch: ``torch.ge``. Also ``x >= y``.

           >>> import autograd_core as ag
           >>> ag.ge(ag.tensor([1, 2, 3]), 2)
           tensor([False,  True,  True])
           """)
logical_and = defop("logical_and", np.logical_and, differentiable=False, nargs=2,
                    doc="""Elementwise logical and (nonzero is True): a bool tensor of the broadcast shape.

                    PyTorch: ``torch.logical_and``. Also ``x & y``.

                    >>> import autograd_core as ag
                    >>> ag.logical_and(ag.tensor([True, True, False]), ag.tensor([True, False, False]))
                    tensor([ True, False, False])
                    """)
logical_or = defop("logical_or", np.logical_or, differentiable=False, nargs=2,
                   doc="""Elementwise logical or (nonzero is True): a bool tensor of the broadcast shape.

                   PyTorch: ``torch.logical_or``. Also ``x | y``.

                   >>> import autograd_core as ag
                   >>> ag.logical_or(ag.tensor([True, True, False]), ag.tensor([True, False, False]))
                   tensor([ True,  True, False])
                   """)
logical_not = defop("logical_not", np.logical_not, differentiable=False, nargs=1,
                    doc="""Elementwise logical not (nonzero is True): a bool tensor of ``x``'s shape.

                    PyTorch: ``torch.logical_not``. Also ``~x``.

                    >>> import autograd_core as ag
                    >>> ag.logical_not(ag.tensor([True, False]))
                    tensor([False,  True])
                    """)


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
        return OpError(f"{opname}: shapes {tuple(self._data.shape)} and {tuple(od.shape)} can't be broadcast")
    if shape != self._data.shape:
        return OpError(f"{opname} (in place): the result has shape {shape}, which doesn't fit the tensor's "
                          f"shape {tuple(self._data.shape)}")
    rd = result_dtype if result_dtype is not None else \
        _result_type(self._data, od) if isinstance(other, Tensor) else np.result_type(self._data, other)
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


# ``//`` and ``%`` are the floor_divide and remainder ops (mathops)
method("__iadd__", _inplace(add, "add"))
method("__isub__", _inplace(sub, "sub"))
method("__imul__", _inplace(mul, "mul"))
method("__itruediv__", _inplace(div, "div"))


def alpha_first_overload(name, first, second):
    """``(other, alpha)`` of a call ``name(first, second)`` (add, sub, add_, sub_): PyTorch still accepts its old
    order ``name(Number alpha, Tensor other)`` (``p.data.add_(-lr, p.grad.data)`` in older tutorials), with a
    deprecation warning, so a tensor in alpha's place with a number (or a one-element tensor) first is read
    that way, with the same warning."""
    if not isinstance(second, Tensor):
        return first, second
    if isinstance(first, Tensor) and first.numel() != 1:
        raise TypeError(f"{name}(): alpha must be a number, got tensors of shapes {tuple(first.shape)} and "
                        f"{tuple(second.shape)}; write {name}(other, alpha=number)")
    import warnings
    warnings.warn(f"This overload of {name} is deprecated:\n\t{name}(Number alpha, Tensor other)\nConsider using "
                  f"one of the following signatures instead:\n\t{name}(Tensor other, *, Number alpha = 1)",
                  UserWarning, stacklevel=3)
    return second, first.item() if isinstance(first, Tensor) else first


def _times_alpha(input, other, alpha):  # noqa: A002
    """alpha * other in the dtype of the sum: PyTorch scales in the promoted dtype, so uint8 - 2 * int8(64) is
    int16(-128), where scaling in int8 first would overflow."""
    if alpha == 1:
        return other
    if isinstance(other, bool) and isinstance(input, Tensor) and input._data.dtype.kind == "b":
        return other and bool(alpha)
    if isinstance(other, Tensor) and other._data.dtype.kind in "biu":
        a = input._data if isinstance(input, Tensor) else input
        rt = _number_result_type(a, other._data, get_default_dtype())
        if rt.kind == "b":
            return other & bool(alpha)   # bools stay bools: alpha counts as its truth value
        if rt != other._data.dtype:
            other = other.to(rt)
    return other * alpha


def _add_(self, other, alpha=1):
    """In place: ``self += alpha * other`` (``other`` broadcasts to ``self``'s shape); returns ``self``.

    Recorded on the tape like PyTorch's in-place ops. PyTorch: ``Tensor.add_``.

    >>> import autograd_core as ag
    >>> t = ag.tensor([1.0, 2.0])
    >>> t.add_(ag.tensor([10.0, 20.0]), alpha=0.5)
    tensor([ 6., 12.])
    >>> t
    tensor([ 6., 12.])
    """
    other, alpha = alpha_first_overload("add_", other, alpha)
    return self.__iadd__(_times_alpha(self, other, alpha))


method("add_", _add_)


def _sub_(self, other, alpha=1):
    """In place: ``self -= alpha * other`` (``other`` broadcasts to ``self``'s shape); returns ``self``.

    Recorded on the tape like PyTorch's in-place ops. PyTorch: ``Tensor.sub_``.

    >>> import autograd_core as ag
    >>> t = ag.tensor([1.0, 2.0])
    >>> t.sub_(1.0)
    tensor([0., 1.])
    """
    other, alpha = alpha_first_overload("sub_", other, alpha)
    return self.__isub__(_times_alpha(self, other, alpha))


method("sub_", _sub_)


def _mul_(self, other):
    """In place: ``self *= other`` (``other`` broadcasts to ``self``'s shape); returns ``self``.

    Recorded on the tape like PyTorch's in-place ops. PyTorch: ``Tensor.mul_``.

    >>> import autograd_core as ag
    >>> t = ag.tensor([1.0, 2.0])
    >>> t.mul_(3)
    tensor([3., 6.])
    """
    return self.__imul__(other)


method("mul_", _mul_)


def _div_(self, other):
    """In place: ``self /= other`` (``other`` broadcasts to ``self``'s shape); returns ``self``. An
    integer tensor can't hold the float result (a TypeError, as PyTorch refuses).

    Recorded on the tape like PyTorch's in-place ops. PyTorch: ``Tensor.div_``.

    >>> import autograd_core as ag
    >>> t = ag.tensor([1.0, 2.0])
    >>> t.div_(4)
    tensor([0.2500, 0.5000])
    """
    return self.__itruediv__(other)


method("div_", _div_)

"""Special functions of ``torch.special`` beyond the elementary ones, each a taped op whose VJP is made of
the family's own ops (so grad of grad works), values from SciPy:

* modified Bessel functions ``i0``, ``i1`` and their scaled forms ``i0e`` = exp(-|x|) i0, ``i1e``;
* Bessel functions ``bessel_j0``, ``bessel_j1``, ``bessel_y0``, ``bessel_y1``, the modified ones of the second
  kind ``modified_bessel_k0`` / ``k1`` and their scaled forms, and the Airy function ``airy_ai``;
* ``ndtri`` (the inverse of the normal CDF) and ``erfcx`` (exp(x²) erfc(x));
* the regularized incomplete gamma functions ``gammainc`` / ``gammaincc`` and the Hurwitz ``zeta``,
  differentiable in their second argument (PyTorch has no gradient for the first one either, and
  asking for it raises here too).

    >>> from autograd_core.ops import specialfns as S
    >>> S.i0(ag.tensor([0.0, 1.0])), S.ndtri(ag.tensor([0.5]))
    (tensor([1.0000, 1.2661]), tensor([0.]))
"""
from __future__ import annotations

import math

import numpy as np
import scipy.special as _sp

from .mathops import _quiet, _same_float, _unary
from ..tensor import Tensor
from .registry import defop, method, xp

__all__ = ["i0", "i0e", "i1", "i1e", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai", "ndtri", "erfcx",
           "gammainc", "gammaincc", "zeta"]

_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _unary_xa(name, forward, rule, doc):
    """A unary op whose rule reads both its input and its result."""
    return defop(name, _quiet(forward), (rule,), uses_ans=True, same_shape=True, doc=doc)


_SMALL = 1e-3


def _over_x(x, f, series):
    """f / x, with ``series`` (its Taylor polynomial at 0, in x) where |x| < 1e-3: dividing there would
    cancel catastrophically in the derivative (the rules are differentiated again for grad of grad)."""
    small = xp.abs(x) < _SMALL
    safe = xp.where(small, 1.0, x)
    return xp.where(small, series(x), f / safe)


i0 = _unary("i0", _same_float(_sp.i0), lambda g, ans, x: g * xp.i1(x), """Modified Bessel function of the
    first kind of order 0, elementwise; d/dx i0 = i1. PyTorch: ``torch.i0`` / ``torch.special.i0``.

    >>> ag.special.i0(ag.tensor([0.0, 1.0]))
    tensor([1.0000, 1.2661])
    """)
i1 = _unary_xa("i1", _same_float(_sp.i1),
            lambda g, ans, x: g * (xp.i0(x) - _over_x(x, ans, lambda t: 0.5 + t * t / 16)),
            """Modified Bessel function of the first kind of order 1, elementwise; d/dx i1 = i0 - i1 / x (1/2 at
    0). PyTorch: ``torch.special.i1``.

    >>> ag.special.i1(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 0.5652])
    """)
i0e = _unary_xa("i0e", _same_float(_sp.i0e), lambda g, ans, x: g * (xp.i1e(x) - xp.sign(x) * ans),
             """exp(-|x|) i0(x), elementwise (no overflow for large |x|); d/dx = i1e - sign(x) i0e.
    PyTorch: ``torch.special.i0e``.

    >>> ag.special.i0e(ag.tensor([0.0, 100.0]))
    tensor([1.0000, 0.0399])
    """)
i1e = _unary_xa("i1e", _same_float(_sp.i1e),
             lambda g, ans, x: g * (xp.i0e(x) - xp.sign(x) * ans
                                    - xp.exp(-xp.abs(x)) * _over_x(x, xp.i1(x), lambda t: 0.5 + t * t / 16)),
             """exp(-|x|) i1(x), elementwise; d/dx = i0e - i1e (sign(x) + 1/x) (1/2 at 0).
    PyTorch: ``torch.special.i1e``.

    >>> ag.special.i1e(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 0.2079])
    """)
bessel_j0 = _unary("bessel_j0", _same_float(_sp.j0), lambda g, ans, x: -g * xp.bessel_j1(x),
                   """Bessel function of the first kind of order 0, elementwise; d/dx j0 = -j1.
    PyTorch: ``torch.special.bessel_j0`` (which has no gradient).

    >>> ag.special.bessel_j0(ag.tensor([0.0, 1.0]))
    tensor([1.0000, 0.7652])
    """)
bessel_j1 = _unary_xa("bessel_j1", _same_float(_sp.j1),
                   lambda g, ans, x: g * (xp.bessel_j0(x) - _over_x(x, ans, lambda t: 0.5 - t * t / 16)),
                   """Bessel function of the first kind of order 1, elementwise; d/dx j1 = j0 - j1 / x (1/2 at 0).
    PyTorch: ``torch.special.bessel_j1`` (which has no gradient).

    >>> ag.special.bessel_j1(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 0.4401])
    """)
ndtri = _unary("ndtri", _same_float(_sp.ndtri), lambda g, ans, x: g * _SQRT_2PI * xp.exp(0.5 * ans * ans),
               """The inverse of the standard normal CDF, elementwise; d/dp = sqrt(2 pi) exp(ndtri(p)² / 2).
    PyTorch: ``torch.special.ndtri``.

    >>> ag.special.ndtri(ag.tensor([0.5, 0.975]))
    tensor([0.0000, 1.9600])
    """, uses_ans=True)
erfcx = _unary_xa("erfcx", _same_float(_sp.erfcx), lambda g, ans, x: g * (2 * x * ans - _TWO_OVER_SQRT_PI),
               """The scaled complementary error function exp(x²) erfc(x), elementwise (no underflow for large
    x); d/dx = 2 x erfcx(x) - 2 / sqrt(pi). PyTorch: ``torch.special.erfcx``.

    >>> ag.special.erfcx(ag.tensor([0.0, 30.0]))
    tensor([1.0000, 0.0188])
    """)


bessel_y0 = _unary("bessel_y0", _same_float(_sp.y0), lambda g, ans, x: -g * xp.bessel_y1(x),
                   """Bessel function of the second kind of order 0 (x > 0), elementwise; d/dx y0 = -y1.
    PyTorch: ``torch.special.bessel_y0`` (which has no gradient).

    >>> ag.special.bessel_y0(ag.tensor([1.0]))
    tensor([0.0883])
    """)
bessel_y1 = _unary_xa("bessel_y1", _same_float(_sp.y1), lambda g, ans, x: g * (xp.bessel_y0(x) - ans / x),
                      """Bessel function of the second kind of order 1 (x > 0), elementwise; d/dx y1 = y0 - y1 / x.
    PyTorch: ``torch.special.bessel_y1`` (which has no gradient).

    >>> ag.special.bessel_y1(ag.tensor([1.0]))
    tensor([-0.7812])
    """)
modified_bessel_k0 = _unary("modified_bessel_k0", _same_float(_sp.k0),
                            lambda g, ans, x: -g * xp.modified_bessel_k1(x),
                            """Modified Bessel function of the second kind of order 0 (x > 0), elementwise;
    d/dx k0 = -k1. PyTorch: ``torch.special.modified_bessel_k0`` (which has no gradient).

    >>> ag.special.modified_bessel_k0(ag.tensor([1.0]))
    tensor([0.4210])
    """)
modified_bessel_k1 = _unary_xa("modified_bessel_k1", _same_float(_sp.k1),
                               lambda g, ans, x: -g * (xp.modified_bessel_k0(x) + ans / x),
                               """Modified Bessel function of the second kind of order 1 (x > 0), elementwise;
    d/dx k1 = -k0 - k1 / x. PyTorch: ``torch.special.modified_bessel_k1`` (which has no gradient).

    >>> ag.special.modified_bessel_k1(ag.tensor([1.0]))
    tensor([0.6019])
    """)
scaled_modified_bessel_k0 = _unary_xa("scaled_modified_bessel_k0", _same_float(_sp.k0e),
                                      lambda g, ans, x: g * (ans - xp.scaled_modified_bessel_k1(x)),
                                      """exp(x) k0(x) (x > 0), elementwise; d/dx = k0e - k1e.
    PyTorch: ``torch.special.scaled_modified_bessel_k0`` (which has no gradient).

    >>> ag.special.scaled_modified_bessel_k0(ag.tensor([1.0]))
    tensor([1.1445])
    """)
scaled_modified_bessel_k1 = _unary_xa("scaled_modified_bessel_k1", _same_float(_sp.k1e),
                                      lambda g, ans, x: g * (ans - xp.scaled_modified_bessel_k0(x) - ans / x),
                                      """exp(x) k1(x) (x > 0), elementwise; d/dx = k1e - k0e - k1e / x.
    PyTorch: ``torch.special.scaled_modified_bessel_k1`` (which has no gradient).

    >>> ag.special.scaled_modified_bessel_k1(ag.tensor([1.0]))
    tensor([1.6362])
    """)
_airy_ai_prime = _unary_xa("airy_ai_prime", _same_float(lambda x: _sp.airy(x)[1]),
                           lambda g, ans, x: g * x * xp.airy_ai(x),
                           """Ai'(x), the derivative of the Airy function Ai (its own derivative is x Ai(x)).

    >>> from autograd_core.ops import specialfns as S
    >>> S._airy_ai_prime(ag.tensor([0.0]))
    tensor([-0.2588])
    """)
airy_ai = _unary("airy_ai", _same_float(lambda x: _sp.airy(x)[0]), lambda g, ans, x: g * xp.airy_ai_prime(x),
                 """The Airy function Ai, elementwise; d/dx Ai = Ai'. PyTorch: ``torch.special.airy_ai`` (which has
    no gradient).

    >>> ag.special.airy_ai(ag.tensor([0.0]))
    tensor([0.3550])
    """)


def _binary_forward(f):
    def forward(a, b):
        dt = np.result_type(a, b)
        if dt.kind != "f":
            dt = np.dtype(np.float64)
        with np.errstate(all="ignore"):
            return np.asarray(f(a, b)).astype(dt, copy=False)
    return forward


def _no_grad_first(name, arg):
    def rule(g, ans, a, b):
        raise NotImplementedError(f"{name}: the gradient with respect to {arg} is not implemented (nor is it in "
                                  f"PyTorch); make {arg} a constant (detach it)")
    return rule


def _gamma_density(a, x):
    # x^(a-1) e^-x / Gamma(a): d/dx of the regularized lower incomplete gamma function
    return xp.exp(xp.xlogy(a - 1, x) - x - xp.lgamma(a))


gammainc = defop("gammainc", _binary_forward(_sp.gammainc),
                 (_no_grad_first("gammainc", "input (a)"), lambda g, ans, a, x: g * _gamma_density(a, x)),
                 doc="""The regularized lower incomplete gamma function P(a, x), elementwise (broadcast);
    d/dx = x^(a-1) e^-x / Gamma(a). PyTorch: ``torch.special.gammainc`` / ``torch.igamma``.

    >>> ag.special.gammainc(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0]))
    tensor([0.6321, 0.2642])
    """)
gammaincc = defop("gammaincc", _binary_forward(_sp.gammaincc),
                  (_no_grad_first("gammaincc", "input (a)"), lambda g, ans, a, x: -g * _gamma_density(a, x)),
                  doc="""The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), elementwise
    (broadcast); d/dx = -x^(a-1) e^-x / Gamma(a). PyTorch: ``torch.special.gammaincc`` / ``torch.igammac``.

    >>> ag.special.gammaincc(ag.tensor([1.0]), ag.tensor([1.0]))
    tensor([0.3679])
    """)
zeta = defop("zeta", _binary_forward(_sp.zeta),
             (_no_grad_first("zeta", "input (x)"), lambda g, ans, x, q: -g * x * xp.zeta(x + 1, q)),
             doc="""The Hurwitz zeta function sum over k >= 0 of (k + q)^-x, elementwise (broadcast);
    d/dq = -x zeta(x + 1, q). PyTorch: ``torch.special.zeta``.

    >>> ag.special.zeta(ag.tensor([2.0]), ag.tensor([1.0]))
    tensor([1.6449])
    """)


for _name, _fn in dict(i0=i0, igamma=gammainc, igammac=gammaincc).items():   # PyTorch's Tensor methods
    if not hasattr(Tensor, _name):
        method(_name, _fn)

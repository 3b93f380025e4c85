"""``torch.special``: PyTorch's names for special functions, all taped (differentiable) compositions of the
engine's ops.

    >>> ag.special.expit(ag.tensor([0.0])), ag.special.ndtr(ag.tensor([0.0]))
    (tensor([0.5000]), tensor([0.5000]))
"""
from __future__ import annotations

import math
from typing import Any

from .ops import elementwise as E
from .ops import mathops as M
from .ops import pointwise as P
from .ops import reduce as R
from .ops import specialfns as SF
from .ops.registry import method
from .tensor import Tensor

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "gammaln", "digamma", "psi", "polygamma", "multigammaln",
           "xlogy", "xlog1py", "entr", "ndtr", "log_ndtr", "log_softmax", "softmax", "logsumexp", "sinc", "exp2",
           "expm1", "log1p", "round", "i0", "i0e", "i1", "i1e", "bessel_j0", "bessel_j1", "ndtri", "erfcx",
           "gammainc", "gammaincc", "zeta", "spherical_bessel_j0", "bessel_y0", "bessel_y1", "airy_ai",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"]

erf, erfc, erfinv, digamma, polygamma, xlogy, sinc = E.erf, M.erfc, M.erfinv, M.digamma, M.polygamma, M.xlogy, M.sinc
exp2, expm1, log1p, round = P.exp2, E.expm1, E.log1p, E.round  # noqa: A001  (PyTorch's name)
gammaln = M.lgamma
psi = M.digamma
i0, i0e, i1, i1e, ndtri, erfcx = SF.i0, SF.i0e, SF.i1, SF.i1e, SF.ndtri, SF.erfcx
bessel_j0, bessel_j1, gammainc, gammaincc, zeta = SF.bessel_j0, SF.bessel_j1, SF.gammainc, SF.gammaincc, SF.zeta
bessel_y0, bessel_y1, airy_ai = SF.bessel_y0, SF.bessel_y1, SF.airy_ai
modified_bessel_i0, modified_bessel_i1 = SF.i0, SF.i1
modified_bessel_k0, modified_bessel_k1 = SF.modified_bessel_k0, SF.modified_bessel_k1
scaled_modified_bessel_k0, scaled_modified_bessel_k1 = SF.scaled_modified_bessel_k0, SF.scaled_modified_bessel_k1


def spherical_bessel_j0(input: Tensor) -> Tensor:  # noqa: A002
    """sin(x) / x (1 at 0), elementwise: the spherical Bessel function of the first kind of order 0.

    >>> ag.special.spherical_bessel_j0(ag.tensor([0.0, 1.0]))
    tensor([1.0000, 0.8415])
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    # near 0 its Taylor polynomial: sin(x) / x cancels catastrophically in the derivatives there
    small = E.abs(x) < 1e-3
    safe = E.where(small, 1.0, x)
    x2 = x * x
    return E.where(small, 1.0 - x2 / 6 + x2 * x2 / 120, E.sin(safe) / safe)


def expit(input: Tensor) -> Tensor:  # noqa: A002
    """The logistic sigmoid 1 / (1 + exp(-x)).

    >>> ag.special.expit(ag.tensor([0.0, 2.0]))
    tensor([0.5000, 0.8808])
    """
    return E.sigmoid(input)


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """log(x / (1 - x)) (x clamped to [eps, 1 - eps] with ``eps``).

    >>> ag.special.logit(ag.tensor([0.5]))
    tensor([0.])
    """
    return M.logit(input, eps)


def xlog1py(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """input * log1p(other), and 0 where input is 0.

    >>> ag.special.xlog1py(ag.tensor([0.0, 2.0]), ag.tensor([-1.0, 0.0]))
    tensor([0., 0.])
    """
    return M.xlog1py(input, other)


def entr(input: Tensor) -> Tensor:  # noqa: A002
    """-x log(x) elementwise (0 at 0, -inf below 0).

    >>> ag.special.entr(ag.tensor([0.0, 0.5]))
    tensor([0.0000, 0.3466])
    """
    return M.entr(input)


def ndtr(input: Tensor) -> Tensor:  # noqa: A002
    """The standard normal CDF: (1 + erf(x / sqrt 2)) / 2.

    >>> ag.special.ndtr(ag.tensor([0.0, 1.0]))
    tensor([0.5000, 0.8413])
    """
    return 0.5 * M.erfc(-input / math.sqrt(2))


def log_ndtr(input: Tensor) -> Tensor:  # noqa: A002
    """log of the standard normal CDF.

    >>> ag.special.log_ndtr(ag.tensor([0.0]))
    tensor([-0.6931])
    """
    return E.log(ndtr(input))


def multigammaln(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """The multivariate log-gamma function of dimension ``p``: p(p-1)/4 log(pi) + sum_j lgamma(x - j/2),
    j < p (its gradient is lgamma's, summed). Also ``torch.mvlgamma`` and ``Tensor.mvlgamma``.

    >>> ag.special.multigammaln(ag.tensor([2.0]), 1)
    tensor([0.])
    >>> ag.tensor([2.5]).mvlgamma(2)
    tensor([0.8570])
    """
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"multigammaln: p must be a positive int (the dimension), got {p!r}")
    out = M.lgamma(input) * 0 + p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        out = out + M.lgamma(input - j / 2)
    return out


def _mvlgamma_method(self: Tensor, p: int) -> Tensor:
    """``Tensor.mvlgamma(p)``: ``special.multigammaln(self, p)``.

    >>> ag.tensor([2.0]).mvlgamma(1)
    tensor([0.])
    """
    return multigammaln(self, p)


method("mvlgamma", _mvlgamma_method)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """x - logsumexp(x) along ``dim``.

    >>> ag.special.log_softmax(ag.tensor([0.0, 0.0]), 0)
    tensor([-0.6931, -0.6931])
    """
    x = input.astype(dtype) if dtype is not None else input
    return R.log_softmax(x, axis=dim)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim``.

    >>> ag.special.softmax(ag.tensor([0.0, 0.0]), 0)
    tensor([0.5000, 0.5000])
    """
    x = input.astype(dtype) if dtype is not None else input
    return R.softmax(x, axis=dim)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:  # noqa: A002
    """log(sum(exp(x))) over ``dim``, without overflow.

    >>> ag.special.logsumexp(ag.tensor([0.0, 0.0]), 0)
    tensor(0.6931)
    """
    return R.logsumexp(input, axis=dim, keepdims=keepdim)

"""``kl_divergence(p, q)`` and ``register_kl``, as ``torch.distributions.kl``: closed forms for pairs of one
family (Normal, Uniform, Bernoulli, Categorical, OneHotCategorical, Beta, Gamma, Dirichlet,
Exponential, Laplace, Poisson, Geometric, MultivariateNormal, Independent, and the transformed ones
with the same transforms), picked by the most specific registered pair of types.

    >>> N = ag.distributions.Normal
    >>> ag.distributions.kl_divergence(N(0.0, 1.0), N(1.0, 1.0))
    tensor(0.5000)
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import linalg as _linalg
from ..ops import elementwise as E
from ..ops import mathops as M
from ..ops import reduce as R
from ..tensor import Tensor
from .continuous import Beta, Dirichlet, Exponential, Gamma, Laplace, Normal, Uniform
from .discrete import Bernoulli, Categorical, Geometric, OneHotCategorical, Poisson
from .distribution import Distribution
from .multivariate import Independent, MultivariateNormal, _mahalanobis
from .transforms import TransformedDistribution
from .utils import sum_rightmost

__all__ = ["kl_divergence", "register_kl"]

_KL: dict = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator: register ``fn(p, q)`` as KL(p || q) for ``p`` of ``type_p`` and ``q`` of ``type_q``
    (subclasses too, the most specific registration winning).

    >>> D = ag.distributions
    >>> class Point(D.Normal): pass
    >>> @D.register_kl(Point, Point)
    ... def _kl_point(p, q):
    ...     return (p.loc - q.loc).abs()
    >>> D.kl_divergence(Point(0.0, 1.0), Point(3.0, 1.0))
    tensor(3.)
    """
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"register_kl: expected a Distribution subclass, got {type_p!r}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"register_kl: expected a Distribution subclass, got {type_q!r}")

    def deco(fn: Callable) -> Callable:
        _KL[type_p, type_q] = fn
        return fn
    return deco


def _lookup(tp: type, tq: type) -> Callable | None:
    best = None
    best_rank = None
    for (a, b), fn in _KL.items():
        if issubclass(tp, a) and issubclass(tq, b):
            rank = (tp.__mro__.index(a), tq.__mro__.index(b))
            if best_rank is None or rank < best_rank:
                best, best_rank = fn, rank
    return best


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) = E_p[log p - log q], per distribution in the batch (see the module docstring).

    >>> B = ag.distributions.Bernoulli
    >>> ag.distributions.kl_divergence(B(0.5), B(0.25))
    tensor(0.1438)
    """
    fn = _lookup(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"kl_divergence: no closed form here for {type(p).__name__} and "
                                  f"{type(q).__name__}; estimate it by sampling: "
                                  f"(p.log_prob(x) - q.log_prob(x)).mean() over x = p.sample((n,))")
    return fn(p, q)


def _inf_where(cond: Any, value: Tensor) -> Tensor:
    return E.where(cond, float("inf"), value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - E.log(var_ratio))


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    out = E.log((q.high - q.low) / (p.high - p.low))
    return _inf_where((q.low > p.low) | (q.high < p.high), out)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    t1 = p.probs * (E.softplus(-q.logits) - E.softplus(-p.logits))
    t1 = E.where(q.probs == 0, float("inf"), t1)
    t1 = E.where(p.probs == 0, 0.0, t1)
    t2 = (1 - p.probs) * (E.softplus(q.logits) - E.softplus(p.logits))
    t2 = E.where(q.probs == 1, float("inf"), t2)
    t2 = E.where(p.probs == 1, 0.0, t2)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    t = E.where(q.probs == 0, float("inf"), t)
    t = E.where(p.probs == 0, 0.0, t)
    return R.sum(t, axis=-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = M.lgamma(q.concentration1) + M.lgamma(q.concentration0) + M.lgamma(sum_p)
    t2 = M.lgamma(p.concentration1) + M.lgamma(p.concentration0) + M.lgamma(sum_q)
    t3 = (p.concentration1 - q.concentration1) * M.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * M.digamma(p.concentration0)
    t5 = (sum_q - sum_p) * M.digamma(sum_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    t1 = q.concentration * E.log(p.rate / q.rate)
    t2 = M.lgamma(q.concentration) - M.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * M.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    sum_p = R.sum(p.concentration, axis=-1)
    sum_q = R.sum(q.concentration, axis=-1)
    t1 = M.lgamma(sum_p) - M.lgamma(sum_q)
    t2 = R.sum(M.lgamma(p.concentration) - M.lgamma(q.concentration), axis=-1)
    t3 = p.concentration - q.concentration
    t4 = M.digamma(p.concentration) - M.digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + R.sum(t3 * t4, axis=-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    rate_ratio = q.rate / p.rate
    return -E.log(rate_ratio) + rate_ratio - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    scale_ratio = p.scale / q.scale
    loc_abs_diff = E.abs(p.loc - q.loc)
    t1 = -E.log(scale_ratio)
    t2 = loc_abs_diff / q.scale
    t3 = scale_ratio * E.exp(-loc_abs_diff / p.scale)
    return t1 + t2 + t3 - 1


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (E.log(p.rate) - E.log(q.rate)) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    return -p.entropy() - E.log1p(-q.probs) / p.probs - q.logits


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes cannot be "
                         "computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = R.sum(E.log(Lq.diagonal(0, -2, -1)), axis=-1) - R.sum(E.log(Lp.diagonal(0, -2, -1)), axis=-1)
    n = p.event_shape[0]
    shape = tuple(np.broadcast_shapes(tuple(Lp.shape[:-2]), tuple(Lq.shape[:-2])))
    Lpb = Lp if tuple(Lp.shape[:-2]) == shape else Lp.broadcast_to(shape + (n, n))
    Lqb = Lq if tuple(Lq.shape[:-2]) == shape else Lq.broadcast_to(shape + (n, n))
    m = _linalg.solve(Lqb.tril(), Lpb)      # triangular: q's upper triangle is not read
    term2 = R.sum(m * m, axis=(-2, -1))
    term3 = _mahalanobis(Lq, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different reinterpreted_batch_ndims")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    if len(p.transforms) != len(q.transforms) or any(t != u for t, u in zip(p.transforms, q.transforms)):
        raise NotImplementedError("kl_divergence: transformed distributions with different transforms")
    if p.event_shape != q.event_shape:
        raise NotImplementedError("kl_divergence: transformed distributions with different event shapes")
    extra = len(p.event_shape) - len(p.base_dist.event_shape)
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), extra)


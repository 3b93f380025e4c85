"""Continuous distributions with PyTorch's parameters, formulas and samplers: ``Normal``, ``Uniform``,
``Laplace``, ``Exponential``, ``Cauchy``, ``StudentT``, ``Gumbel``, ``Gamma``, ``Chi2``, ``Beta``,
``Dirichlet``.

Densities and entropies are taped ops. ``rsample`` is reparameterized: a location-scale transform of
a standard sample, or, for ``Gamma`` (and through it ``Chi2``, ``Beta``, ``Dirichlet``, ``StudentT``),
the implicit reparameterization gradient dx/d(alpha) = -(dF/d(alpha)) / f(x) of the gamma CDF F at the
sample, as PyTorch's.

    >>> m = ag.distributions.Gamma(ag.tensor(2.0), ag.tensor(1.0))
    >>> m.log_prob(ag.tensor(1.0)), m.mean
    (tensor(-1.), tensor(2.))
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special as _sp

from ..autograd.function import Function, once_differentiable
from ..ops import elementwise as E
from ..ops import mathops as M
from ..ops import reduce as R
from ..ops.shape import stack
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import as_tensor, broadcast_all, euler_constant, rng

__all__ = ["Normal", "Uniform", "Laplace", "Exponential", "Cauchy", "StudentT", "Gumbel", "Gamma", "Chi2", "Beta",
           "Dirichlet"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _new(shape: tuple, like: Tensor, draw: Any) -> Tensor:
    return Tensor(np.asarray(draw(shape), dtype=like._data.dtype))


def _tiny(t: Tensor) -> float:
    return float(np.finfo(t._data.dtype).tiny)


def _eps(t: Tensor) -> float:
    return float(np.finfo(t._data.dtype).eps)


class _LocScale(Distribution):
    """What the location-scale families (Normal, Laplace, Cauchy, Gumbel) share: ``loc`` and ``scale``
    broadcast into ``batch_shape``, real values, a reparameterized sampler, and ``mode`` = loc."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: Any = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    @property
    def mode(self) -> Tensor:
        return self.loc


class Normal(_LocScale):
    """N(loc, scale²); the parameters broadcast into ``batch_shape``.

    >>> m = ag.distributions.Normal(ag.tensor([0.0, 1.0]), ag.tensor([1.0, 2.0]))
    >>> m.log_prob(ag.tensor([0.0, 1.0])), m.entropy()
    (tensor([-0.9189, -1.6121]), tensor([1.4189, 2.1121]))
    """

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.loc + _new(shape, self.loc, rng().standard_normal) * self.scale

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.loc)
        self._validate_sample(v)
        z = (v - self.loc) / self.scale
        return -0.5 * z * z - E.log(self.scale) - _LOG_SQRT_2PI

    def cdf(self, value: Any) -> Tensor:
        """P(X <= value) = (1 + erf((value - loc) / (scale sqrt 2))) / 2.

        >>> ag.distributions.Normal(0.0, 1.0).cdf(ag.tensor(0.0))
        tensor(0.5000)
        """
        return 0.5 * (1 + E.erf((as_tensor(value, self.loc) - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value: Any) -> Tensor:
        """loc + scale sqrt(2) erfinv(2 p - 1).

        >>> ag.distributions.Normal(1.0, 2.0).icdf(ag.tensor(0.5))
        tensor(1.)
        """
        return self.loc + self.scale * M.erfinv(2 * as_tensor(value, self.loc) - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + _LOG_SQRT_2PI + E.log(self.scale)


class Uniform(Distribution):
    """The uniform distribution on [low, high).

    >>> m = ag.distributions.Uniform(0.0, 4.0)
    >>> m.log_prob(ag.tensor(1.0)), m.entropy(), m.mean
    (tensor(-1.3863), tensor(1.3863), tensor(2.))
    """

    arg_constraints = {"low": constraints.dependent, "high": constraints.dependent}
    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: Any = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(tuple(self.low.shape), validate_args=validate_args)
        if self._validate_args and not np.all(self.low._data < self.high._data):
            raise ValueError(f"Uniform: expected low < high, got low={self.low} and high={self.high}")

    @property
    def support(self) -> Any:
        return constraints.half_open_interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.low + self.high) / 2

    @property
    def mode(self) -> Tensor:
        return self.low * float("nan")

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        w = self.high - self.low
        return w * w / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.low + _new(shape, self.low, rng().random) * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.low)
        self._validate_sample(v)
        inside = (v >= self.low) & (v < self.high)
        return E.where(inside, -E.log(self.high - self.low), float("-inf"))

    def cdf(self, value: Any) -> Tensor:
        """(value - low) / (high - low), clamped to [0, 1]."""
        v = as_tensor(value, self.low)
        return E.clamp((v - self.low) / (self.high - self.low), 0.0, 1.0)

    def icdf(self, value: Any) -> Tensor:
        """low + p (high - low)."""
        return self.low + as_tensor(value, self.low) * (self.high - self.low)

    def entropy(self) -> Tensor:
        return E.log(self.high - self.low)


class Laplace(_LocScale):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale).

    >>> ag.distributions.Laplace(0.0, 1.0).log_prob(ag.tensor(1.0))
    tensor(-1.6931)
    """

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale * self.scale

    @property
    def stddev(self) -> Tensor:
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        e = _eps(self.loc)
        u = _new(shape, self.loc, lambda s: rng().uniform(e - 1, 1, s))
        return self.loc - self.scale * E.sign(u) * E.log1p(-E.abs(u))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.loc)
        self._validate_sample(v)
        return -E.log(2 * self.scale) - E.abs(v - self.loc) / self.scale

    def cdf(self, value: Any) -> Tensor:
        """1/2 - 1/2 sign(x - loc) expm1(-|x - loc| / scale)."""
        d = as_tensor(value, self.loc) - self.loc
        return 0.5 - 0.5 * E.sign(d) * E.expm1(-E.abs(d) / self.scale)

    def icdf(self, value: Any) -> Tensor:
        """loc - scale sign(p - 1/2) log1p(-2 |p - 1/2|)."""
        term = as_tensor(value, self.loc) - 0.5
        return self.loc - self.scale * E.sign(term) * E.log1p(-2 * E.abs(term))

    def entropy(self) -> Tensor:
        return 1 + E.log(2 * self.scale)


class Exponential(Distribution):
    """Exponential(rate): density rate exp(-rate x) on x >= 0.

    >>> ag.distributions.Exponential(2.0).log_prob(ag.tensor(1.0))
    tensor(-1.3069)
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Any, validate_args: Any = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return 1 / self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate * 0

    @property
    def stddev(self) -> Tensor:
        return 1 / self.rate

    @property
    def variance(self) -> Tensor:
        return 1 / (self.rate * self.rate)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return _new(shape, self.rate, rng().standard_exponential) / self.rate

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.rate)
        self._validate_sample(v)
        return E.log(self.rate) - self.rate * v

    def cdf(self, value: Any) -> Tensor:
        """1 - exp(-rate x)."""
        return 1 - E.exp(-self.rate * as_tensor(value, self.rate))

    def icdf(self, value: Any) -> Tensor:
        """-log1p(-p) / rate."""
        return -E.log1p(-as_tensor(value, self.rate)) / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - E.log(self.rate)


class Cauchy(_LocScale):
    """Cauchy(loc, scale): density 1 / (pi scale (1 + ((x - loc) / scale)²)); no mean (NaN), infinite variance.

    >>> ag.distributions.Cauchy(0.0, 1.0).log_prob(ag.tensor(0.0))
    tensor(-1.1447)
    """

    @property
    def mean(self) -> Tensor:
        return self.loc * float("nan")

    @property
    def variance(self) -> Tensor:
        return E.where(self.loc == self.loc, float("inf"), float("inf")) + self.scale * 0

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.loc + _new(shape, self.loc, rng().standard_cauchy) * self.scale

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.loc)
        self._validate_sample(v)
        z = (v - self.loc) / self.scale
        return -math.log(math.pi) - E.log(self.scale) - E.log1p(z * z)

    def cdf(self, value: Any) -> Tensor:
        """atan((x - loc) / scale) / pi + 1/2."""
        return M.atan((as_tensor(value, self.loc) - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value: Any) -> Tensor:
        """tan(pi (p - 1/2)) scale + loc."""
        return M.tan(math.pi * (as_tensor(value, self.loc) - 0.5)) * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + E.log(self.scale)


class _StandardGamma(Function):
    """A Gamma(alpha, 1) sample with the implicit reparameterization gradient
    dx/d(alpha) = -(dF/d(alpha))(x; alpha) / f(x; alpha) (F the regularized lower incomplete gamma
    function, f the density; dF/d(alpha) by a central difference in float64)."""

    @staticmethod
    def forward(ctx: Any, alpha: Tensor) -> Tensor:
        a = alpha._data
        x = rng().standard_gamma(a.astype(np.float64))
        x = np.maximum(x, np.finfo(a.dtype).tiny).astype(a.dtype)
        out = Tensor(x)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        alpha, x = ctx.saved_tensors
        a = np.broadcast_to(alpha._data, x._data.shape).astype(np.float64)
        xv = x._data.astype(np.float64)
        h = 1e-5 * np.maximum(a, 1e-3)
        dF = (_sp.gammainc(a + h, xv) - _sp.gammainc(a - h, xv)) / (2 * h)
        log_f = (a - 1) * np.log(xv) - xv - _sp.gammaln(a)
        with np.errstate(over="ignore", invalid="ignore"):
            dx = np.where(np.isfinite(log_f), -dF * np.exp(-log_f), 0.0)
        return Tensor((grad._data * dx).astype(alpha._data.dtype))


def _standard_gamma(alpha: Tensor) -> Tensor:
    return _StandardGamma.apply(alpha)


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a) on x > 0.

    >>> m = ag.distributions.Gamma(ag.tensor(2.0), ag.tensor(3.0))
    >>> m.mean, m.variance
    (tensor(0.6667), tensor(0.2222))
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: Any = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(tuple(self.concentration.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return E.clamp((self.concentration - 1) / self.rate, min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / (self.rate * self.rate)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration.broadcast_to(shape)) / self.rate.broadcast_to(shape)
        return E.clamp(x, min=_tiny(self.concentration))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.concentration)
        self._validate_sample(v)
        return (M.xlogy(self.concentration, self.rate) + M.xlogy(self.concentration - 1, v)
                - self.rate * v - M.lgamma(self.concentration))

    def cdf(self, value: Any) -> Tensor:
        """The regularized lower incomplete gamma function P(concentration, rate x) (no gradient)."""
        v = as_tensor(value, self.concentration)
        return Tensor(_sp.gammainc(self.concentration._data, (self.rate._data * v._data)).astype(v._data.dtype))

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - E.log(self.rate) + M.lgamma(c) + (1.0 - c) * M.digamma(c)


class Chi2(Gamma):
    """Chi-squared with ``df`` degrees of freedom: Gamma(df / 2, 1/2).

    >>> ag.distributions.Chi2(ag.tensor(4.0)).mean
    tensor(4.)
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: Any = None) -> None:
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, df * 0 + 0.5, validate_args=validate_args)

    @property
    def df(self) -> Tensor:
        """The degrees of freedom."""
        return self.concentration * 2


class Dirichlet(Distribution):
    """Dirichlet(concentration) over the simplex of the last dim of ``concentration``.

    >>> m = ag.distributions.Dirichlet(ag.tensor([1.0, 2.0, 3.0]))
    >>> m.mean, m.event_shape
    (tensor([0.1667, 0.3333, 0.5000]), (3,))
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Any, validate_args: Any = None) -> None:
        c = as_tensor(concentration)
        if c.ndim < 1:
            raise ValueError("Dirichlet: `concentration` parameter must be at least one-dimensional.")
        self.concentration = c
        super().__init__(tuple(c.shape[:-1]), tuple(c.shape[-1:]), validate_args=validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        g = _standard_gamma(self.concentration.broadcast_to(shape))
        g = E.clamp(g, min=_tiny(self.concentration))
        return g / R.sum(g, axis=-1, keepdims=True)

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.concentration)
        self._validate_sample(v)
        c = self.concentration
        return (R.sum(M.xlogy(c - 1.0, v), axis=-1) + M.lgamma(R.sum(c, axis=-1))
                - R.sum(M.lgamma(c), axis=-1))

    @property
    def mean(self) -> Tensor:
        return self.concentration / R.sum(self.concentration, axis=-1, keepdims=True)

    @property
    def mode(self) -> Tensor:
        c = E.clamp(self.concentration - 1, min=0.0)
        m = c / R.sum(c, axis=-1, keepdims=True)
        # where every concentration is below 1 the mode is at a vertex (PyTorch: the argmax's)
        small = np.all(self.concentration._data < 1, axis=-1, keepdims=True)
        if small.any():
            onehot = (self.concentration._data == self.concentration._data.max(-1, keepdims=True)).astype(
                self.concentration._data.dtype)
            m = E.where(small, onehot, m)
        return m

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        c0 = R.sum(c, axis=-1, keepdims=True)
        return c * (c0 - c) / (c0 * c0 * (c0 + 1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        a0 = R.sum(c, axis=-1)
        return (R.sum(M.lgamma(c), axis=-1) - M.lgamma(a0) - (k - a0) * M.digamma(a0)
                - R.sum((c - 1.0) * M.digamma(c), axis=-1))


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]: density x^(a-1) (1-x)^(b-1) / B(a, b).

    >>> m = ag.distributions.Beta(ag.tensor(2.0), ag.tensor(2.0))
    >>> m.mean, m.log_prob(ag.tensor(0.5))
    (tensor(0.5000), tensor(0.4055))
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: Any = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(stack([self.concentration1, self.concentration0], -1), validate_args=False)
        super().__init__(tuple(self.concentration1.shape), validate_args=validate_args)

    def _expand_also(self) -> tuple[str, ...]:
        return ()

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        return Beta(self.concentration1.broadcast_to(tuple(batch_shape)),
                    self.concentration0.broadcast_to(tuple(batch_shape)), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total * total * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.concentration1)
        self._validate_sample(v)
        return self._dirichlet.log_prob(stack([v, 1.0 - v], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, location ``loc`` and scale ``scale``.

    >>> ag.distributions.StudentT(ag.tensor(3.0)).log_prob(ag.tensor(0.0))
    tensor(-1.0009)
    """

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: Any = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(tuple(self.df.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return E.where(self.df > 1, self.loc, float("nan"))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        df = self.df
        v = self.scale * self.scale * df / E.where(df > 2, df - 2, 1.0)
        v = E.where(df > 2, v, float("inf"))
        return E.where(df > 1, v, float("nan"))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = _new(shape, self.df, rng().standard_normal)
        z = Chi2(self.df, validate_args=False).rsample(sample_shape)
        y = x * E.rsqrt(z / self.df)
        return self.loc + self.scale * y

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.df)
        self._validate_sample(v)
        y = (v - self.loc) / self.scale
        z = (E.log(self.scale) + 0.5 * E.log(self.df) + 0.5 * math.log(math.pi) + M.lgamma(0.5 * self.df)
             - M.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * E.log1p(y * y / self.df) - z

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = M.lgamma(0.5 * df) + math.lgamma(0.5) - M.lgamma(0.5 * (df + 1))
        return (E.log(self.scale) + 0.5 * (df + 1) * (M.digamma(0.5 * (df + 1)) - M.digamma(0.5 * df))
                + 0.5 * E.log(df) + lbeta)


class Gumbel(_LocScale):
    """Gumbel(loc, scale): density exp(-(z + exp(-z))) / scale, z = (x - loc) / scale.

    >>> ag.distributions.Gumbel(0.0, 1.0).log_prob(ag.tensor(0.0))
    tensor(-1.)
    """

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * euler_constant

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev * self.stddev

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        tiny, eps = _tiny(self.loc), _eps(self.loc)
        u = _new(shape, self.loc, lambda s: rng().uniform(tiny, 1 - eps, s))
        return self.loc - self.scale * E.log(-E.log(u))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.loc)
        self._validate_sample(v)
        y = (self.loc - v) / self.scale
        return (y - E.exp(y)) - E.log(self.scale)

    def cdf(self, value: Any) -> Tensor:
        """exp(-exp(-(x - loc) / scale))."""
        return E.exp(-E.exp(-(as_tensor(value, self.loc) - self.loc) / self.scale))

    def entropy(self) -> Tensor:
        return E.log(self.scale) + (1 + euler_constant)

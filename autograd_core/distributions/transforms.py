"""Transforms and ``TransformedDistribution``, as ``torch.distributions.transforms``: ``ExpTransform``,
``AffineTransform``, ``SigmoidTransform``, ``TanhTransform``, ``PowerTransform``, ``AbsTransform``,
``SoftmaxTransform``, ``ComposeTransform`` and ``t.inv``; and the distributions PyTorch builds from
them: ``LogNormal``, ``HalfNormal``, ``HalfCauchy``, ``RelaxedBernoulli``, ``RelaxedOneHotCategorical``.

``TransformedDistribution(base, transforms).log_prob(y)`` inverts the transforms and subtracts each
one's ``log_abs_det_jacobian``, so a tanh-squashed Gaussian policy (SAC) is

    >>> D = ag.distributions
    >>> pi = D.TransformedDistribution(D.Normal(ag.zeros(2), ag.ones(2)), [D.TanhTransform(cache_size=1)])
    >>> a = pi.rsample()
    >>> pi.log_prob(a).shape
    (2,)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops import elementwise as E
from ..ops import mathops as M
from ..ops import reduce as R
from ..tensor import Tensor
from . import constraints
from .continuous import Cauchy, Normal
from .discrete import Categorical, _wrapped_logits, _wrapped_probs
from .distribution import Distribution, inherit_property_docs
from .utils import as_tensor, binary_params, broadcast_all, clamp_probs, rng, size, sum_rightmost

__all__ = ["Transform", "ExpTransform", "AffineTransform", "SigmoidTransform", "TanhTransform", "PowerTransform",
           "AbsTransform", "SoftmaxTransform", "ComposeTransform", "identity_transform", "TransformedDistribution",
           "LogNormal", "HalfNormal", "HalfCauchy", "RelaxedBernoulli", "LogitRelaxedBernoulli",
           "RelaxedOneHotCategorical", "ExpRelaxedCategorical"]


class Transform:
    """An invertible map y = t(x) with ``log_abs_det_jacobian(x, y)``; ``t.inv`` is its inverse.
    ``cache_size=1`` remembers the last (x, y) pair, so ``log_prob`` of a value that the transform itself
    produced uses the x it came from instead of inverting (atanh of a saturated tanh would be inf).

    >>> t = ag.distributions.ExpTransform()
    >>> t(ag.tensor(0.0)), t.inv(ag.tensor(1.0))
    (tensor(1.), tensor(0.))
    """

    bijective = False
    domain: Any = constraints.real
    codomain: Any = constraints.real
    sign: Any = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherit_property_docs(cls)

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError("Transform: cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached: tuple | None = None

    @property
    def event_dim(self) -> int:
        """How many trailing dims the transform acts on together."""
        return self.domain.event_dim

    @property
    def inv(self) -> "Transform":
        """The inverse transform."""
        return _InverseTransform(self)

    def __call__(self, x: Tensor) -> Tensor:
        if self._cache_size and self._cached is not None and self._cached[0] is x:
            return self._cached[1]
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        if self._cache_size and self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no inverse")

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |dy/dx| at x (y = t(x))."""
        raise NotImplementedError(f"{type(self).__name__}.log_abs_det_jacobian is not available")

    def __eq__(self, other: Any) -> bool:
        # transforms of one type and the same settings are equal (what kl_divergence compares)
        if type(self) is not type(other):
            return False
        for k, v in self.__dict__.items():
            if k in ("_cache_size", "_cached"):
                continue
            w = other.__dict__.get(k)
            a: Any = v._data if isinstance(v, Tensor) else v
            b: Any = w._data if isinstance(w, Tensor) else w
            if isinstance(a, Transform) or isinstance(a, list):
                if a != b:
                    return False
            elif not (np.shape(a) == np.shape(b) and np.all(np.asarray(a) == np.asarray(b))):
                return False
        return True

    __hash__ = object.__hash__

    def forward_shape(self, shape: Any) -> tuple:
        """The shape of t(x) for x of ``shape``."""
        return tuple(shape)

    def inverse_shape(self, shape: Any) -> tuple:
        """The shape of t.inv(y) for y of ``shape``."""
        return tuple(shape)

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    def __init__(self, transform: Transform) -> None:
        super().__init__(transform._cache_size)
        self._inv = transform
        self.bijective = transform.bijective
        self.domain, self.codomain = transform.codomain, transform.domain
        self.sign = transform.sign

    @property
    def inv(self) -> Transform:
        return self._inv

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inv_call(x)

    def _inv_call(self, y: Tensor) -> Tensor:
        return self._inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)

    def __repr__(self) -> str:
        return f"_InverseTransform({self._inv!r})"


class _Identity(Transform):
    """The identity map (``identity_transform``): y = x, log|J| = 0.

    >>> ag.distributions.identity_transform(ag.tensor(2.0))
    tensor(2.)
    """

    bijective = True

    def _call(self, x: Tensor) -> Tensor:
        return x

    def _inverse(self, y: Tensor) -> Tensor:
        return y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x * 0


identity_transform = _Identity()


class ExpTransform(Transform):
    """y = exp(x); log|J| = x.

    >>> ag.distributions.ExpTransform()(ag.tensor(0.0))
    tensor(1.)
    """

    bijective = True
    codomain = constraints.positive

    def _call(self, x: Tensor) -> Tensor:
        return E.exp(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return E.log(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class AffineTransform(Transform):
    """y = loc + scale x; log|J| = log|scale| (summed over ``event_dim`` trailing dims).

    >>> t = ag.distributions.AffineTransform(1.0, 2.0)
    >>> t(ag.tensor(3.0)), t.log_abs_det_jacobian(ag.tensor(3.0), ag.tensor(7.0))
    (tensor(7.), tensor(0.6931))
    """

    bijective = True

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.loc, self.scale = loc, scale
        self._event_dim = event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def domain(self) -> Any:
        return constraints.independent(constraints.real, self._event_dim) if self._event_dim else constraints.real

    @property
    def codomain(self) -> Any:
        return self.domain

    @property
    def sign(self) -> Any:
        s = self.scale
        return E.sign(s) if isinstance(s, Tensor) else (1 if s > 0 else -1 if s < 0 else 0)

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        s = self.scale
        r = E.log(E.abs(s)) if isinstance(s, Tensor) else as_tensor(math.log(abs(s)), x)
        shape = tuple(x.shape)
        r = r if tuple(r.shape) == shape else r.broadcast_to(shape)
        return sum_rightmost(r, self._event_dim)


class SigmoidTransform(Transform):
    """y = sigmoid(x); log|J| = -softplus(-x) - softplus(x).

    >>> ag.distributions.SigmoidTransform()(ag.tensor(0.0))
    tensor(0.5000)
    """

    bijective = True
    codomain = constraints.unit_interval

    def _call(self, x: Tensor) -> Tensor:
        return clamp_probs(E.sigmoid(x))

    def _inverse(self, y: Tensor) -> Tensor:
        y = clamp_probs(y)
        return E.log(y) - E.log1p(-y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -E.softplus(-x) - E.softplus(x)


class TanhTransform(Transform):
    """y = tanh(x); log|J| = 2 (log 2 - x - softplus(-2x)) (stable for large |x|).

    >>> t = ag.distributions.TanhTransform()
    >>> t.log_abs_det_jacobian(ag.tensor(0.0), t(ag.tensor(0.0)))
    tensor(0.)
    """

    bijective = True
    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x: Tensor) -> Tensor:
        return E.tanh(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return M.atanh(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return 2.0 * (math.log(2.0) - x - E.softplus(-2.0 * x))


class PowerTransform(Transform):
    """y = x ** exponent on x > 0; log|J| = log|exponent y / x|.

    >>> ag.distributions.PowerTransform(2.0)(ag.tensor(3.0))
    tensor(9.)
    """

    bijective = True
    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.exponent = exponent

    def _call(self, x: Tensor) -> Tensor:
        return x ** self.exponent

    def _inverse(self, y: Tensor) -> Tensor:
        return y ** (1 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return E.log(E.abs(self.exponent * y / x))


class AbsTransform(Transform):
    """y = |x| (not bijective: the inverse gives the positive root).

    >>> ag.distributions.AbsTransform()(ag.tensor(-2.0))
    tensor(2.)
    """

    codomain = constraints.positive

    def _call(self, x: Tensor) -> Tensor:
        return E.abs(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return y


class SoftmaxTransform(Transform):
    """y = softmax(x) over the last dim (not bijective; no log|J|).

    >>> ag.distributions.SoftmaxTransform()(ag.zeros(2))
    tensor([0.5000, 0.5000])
    """

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x: Tensor) -> Tensor:
        return E.exp(x - R.logsumexp(x, axis=-1, keepdims=True))

    def _inverse(self, y: Tensor) -> Tensor:
        return E.log(y)


class ComposeTransform(Transform):
    """Applies ``parts`` in order; log|J| adds theirs.

    >>> D = ag.distributions
    >>> D.ComposeTransform([D.AffineTransform(0.0, 2.0), D.ExpTransform()])(ag.tensor(1.0))
    tensor(7.3891)
    """

    def __init__(self, parts: list, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.parts = list(parts)
        self.bijective = all(p.bijective for p in self.parts)

    @property
    def domain(self) -> Any:
        return self.parts[0].domain if self.parts else constraints.real

    @property
    def codomain(self) -> Any:
        return self.parts[-1].codomain if self.parts else constraints.real

    @property
    def event_dim(self) -> int:
        return max([p.event_dim for p in self.parts], default=0)

    def _call(self, x: Tensor) -> Tensor:
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y: Tensor) -> Tensor:
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if not self.parts:
            return x * 0
        total: Any = 0
        ev = self.event_dim
        for p in self.parts:
            y_ = p(x)
            total = total + sum_rightmost(p.log_abs_det_jacobian(x, y_), ev - p.event_dim)
            x = y_
        return total


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (one or a list), as PyTorch's: samples are the
    transformed base samples, and ``log_prob(y)`` = base log_prob(x) - sum of log|J|, x the inverse image.

    >>> D = ag.distributions
    >>> m = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform()])
    >>> m.log_prob(ag.tensor(1.0))
    tensor(-0.9189)
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, transforms: Any, validate_args: Any = None) -> None:
        self.base_dist = base_distribution
        self.transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)
        for t in self.transforms:
            if not isinstance(t, Transform):
                raise ValueError(f"TransformedDistribution: transforms must be Transforms, got {type(t).__name__}")
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = max([len(base_distribution.event_shape)] + [t.event_dim for t in self.transforms])
        for t in self.transforms:
            shape = t.forward_shape(shape)
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def support(self) -> Any:
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        b = size(batch_shape)
        base_b = b + self.event_shape[:len(self.event_shape) - len(self.base_dist.event_shape)]
        return type(self).__new__(type(self))._rebuild(self.base_dist.expand(base_b), self)

    def _rebuild(self, base: Distribution, like: "TransformedDistribution") -> "TransformedDistribution":
        self.__dict__.update(like.__dict__)
        TransformedDistribution.__init__(self, base, like.transforms, validate_args=False)
        return self

    def sample(self, sample_shape: Any = ()) -> Tensor:
        x = self.base_dist.sample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x.detach()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value: Any) -> Tensor:
        y = as_tensor(value)
        self._validate_sample(y)
        event_dim = len(self.event_shape)
        lp: Any = 0
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            lp = lp - sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim)
            y = x
        return lp + sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape))

    def _monotone_sign(self) -> Any:
        s: Any = 1
        for t in self.transforms:
            s = s * t.sign
        return s

    def cdf(self, value: Any) -> Tensor:
        """The base cdf at the inverse image (1 - it where the transforms decrease)."""
        y = as_tensor(value)
        for t in reversed(self.transforms):
            y = t.inv(y)
        c = self.base_dist.cdf(y)
        s = self._monotone_sign()
        return c if (not isinstance(s, Tensor) and s == 1) else s * (c - 0.5) + 0.5

    def icdf(self, value: Any) -> Tensor:
        """The transforms applied to the base icdf."""
        v = as_tensor(value)
        s = self._monotone_sign()
        if not (not isinstance(s, Tensor) and s == 1):
            v = s * (v - 0.5) + 0.5
        x = self.base_dist.icdf(v)
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dist!r}, {self.transforms!r})"


class LogNormal(TransformedDistribution):
    """exp of N(loc, scale²).

    >>> m = ag.distributions.LogNormal(0.0, 1.0)
    >>> m.log_prob(ag.tensor(1.0)), m.mean
    (tensor(-0.9189), tensor(1.6487))
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: Any = None) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    @property
    def loc(self) -> Tensor:
        """The mean of the log."""
        return self.base_dist.loc  # type: ignore[attr-defined]

    @property
    def scale(self) -> Tensor:
        """The standard deviation of the log."""
        return self.base_dist.scale  # type: ignore[attr-defined]

    @property
    def mean(self) -> Tensor:
        return E.exp(self.loc + self.scale * self.scale / 2)

    @property
    def mode(self) -> Tensor:
        return E.exp(self.loc - self.scale * self.scale)

    @property
    def variance(self) -> Tensor:
        s2 = self.scale * self.scale
        return E.expm1(s2) * E.exp(2 * self.loc + s2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc


# |X| for X of a base symmetric about 0 (HalfNormal, HalfCauchy): the density doubles on x >= 0. The two
# classes share these methods (plain functions, so that each class documents them as its own).
def _folded_scale(self: Any) -> Tensor:
    """The scale of the distribution folded here."""
    return self.base_dist.scale


def _folded_mode(self: Any) -> Tensor:
    """The mode: 0."""
    return self.scale * 0


def _folded_log_prob(self: Any, value: Any) -> Tensor:
    """log 2 + the base's log density, on x >= 0 (-inf below)."""
    v = as_tensor(value, self.scale)
    self._validate_sample(v)
    lp = self.base_dist.log_prob(v) + math.log(2)
    return E.where(v >= 0, lp, float("-inf"))


def _folded_cdf(self: Any, value: Any) -> Tensor:
    """2 F(x) - 1, F the base's cdf."""
    return 2 * self.base_dist.cdf(as_tensor(value, self.scale)) - 1


def _folded_icdf(self: Any, value: Any) -> Tensor:
    """The base's icdf at (p + 1) / 2."""
    return self.base_dist.icdf((as_tensor(value, self.scale) + 1) / 2)


def _folded_entropy(self: Any) -> Tensor:
    """The base's entropy minus log 2."""
    return self.base_dist.entropy() - math.log(2)


class HalfNormal(TransformedDistribution):
    """|N(0, scale²)| on x >= 0.

    >>> ag.distributions.HalfNormal(1.0).log_prob(ag.tensor(0.0))
    tensor(-0.2258)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    scale = property(_folded_scale)
    mode = property(_folded_mode)
    log_prob = _folded_log_prob
    cdf = _folded_cdf
    icdf = _folded_icdf
    entropy = _folded_entropy

    def __init__(self, scale: Any, validate_args: Any = None) -> None:
        (scale,) = broadcast_all(scale)
        super().__init__(Normal(scale * 0, scale, validate_args=False), AbsTransform(), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale * self.scale * (1 - 2 / math.pi)


class HalfCauchy(TransformedDistribution):
    """|Cauchy(0, scale)| on x >= 0.

    >>> ag.distributions.HalfCauchy(1.0).log_prob(ag.tensor(0.0))
    tensor(-0.4516)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    scale = property(_folded_scale)
    mode = property(_folded_mode)
    log_prob = _folded_log_prob
    cdf = _folded_cdf
    icdf = _folded_icdf
    entropy = _folded_entropy

    def __init__(self, scale: Any, validate_args: Any = None) -> None:
        (scale,) = broadcast_all(scale)
        super().__init__(Cauchy(scale * 0, scale, validate_args=False), AbsTransform(), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * float("inf")

    @property
    def variance(self) -> Tensor:
        return self.scale * float("inf")


class LogitRelaxedBernoulli(Distribution):
    """The logit of a ``RelaxedBernoulli`` sample (PyTorch's ``LogitRelaxedBernoulli``).

    >>> ag.distributions.LogitRelaxedBernoulli(ag.tensor(1.0), probs=ag.tensor(0.5)).log_prob(ag.tensor(0.0))
    tensor(-1.3863)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        self.probs, self.logits, self._derived = binary_params("LogitRelaxedBernoulli", probs, logits)
        self.temperature = as_tensor(temperature, self.probs)
        super().__init__(tuple(self.probs.shape), validate_args=validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(Tensor(rng().random(shape).astype(self.probs._data.dtype)))
        return (E.log(u) - E.log1p(-u) + self.logits) / self.temperature

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.probs)
        self._validate_sample(v)
        diff = self.logits - v * self.temperature
        return E.log(self.temperature) + diff - 2 * E.softplus(diff)


class RelaxedBernoulli(TransformedDistribution):
    """The Concrete / Gumbel-sigmoid relaxation of a Bernoulli at ``temperature``: reparameterized samples
    in (0, 1).

    >>> m = ag.distributions.RelaxedBernoulli(ag.tensor(0.5), probs=ag.tensor([0.3, 0.9]))
    >>> m.rsample().shape
    (2,)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    @property
    def temperature(self) -> Tensor:
        """The relaxation's temperature."""
        return self.base_dist.temperature  # type: ignore[attr-defined]

    @property
    def probs(self) -> Tensor:
        """The Bernoulli's probabilities."""
        return self.base_dist.probs  # type: ignore[attr-defined]

    @property
    def logits(self) -> Tensor:
        """The Bernoulli's log-odds."""
        return self.base_dist.logits  # type: ignore[attr-defined]


class ExpRelaxedCategorical(Distribution):
    """The log of a ``RelaxedOneHotCategorical`` sample (PyTorch's ``ExpRelaxedCategorical``).

    >>> ag.distributions.ExpRelaxedCategorical(ag.tensor(1.0), logits=ag.zeros(3)).rsample().shape
    (3,)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self.temperature = as_tensor(temperature, self._categorical.probs)
        super().__init__(self._categorical.batch_shape, tuple(self._categorical.param_shape[-1:]),
                         validate_args=validate_args)

    probs = property(_wrapped_probs)
    logits = property(_wrapped_logits)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(Tensor(rng().random(shape).astype(self.logits._data.dtype)))
        gumbels = -E.log(-E.log(u))
        scores = (self.logits + gumbels) / self.temperature
        return scores - R.logsumexp(scores, axis=-1, keepdims=True)

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.logits)
        self._validate_sample(v)
        k = self._categorical._num_events
        log_scale = math.lgamma(k) - E.log(self.temperature) * (-(k - 1))
        score = self.logits - v * self.temperature
        score = R.sum(score - R.logsumexp(score, axis=-1, keepdims=True), axis=-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """The Concrete / Gumbel-softmax relaxation of a one-hot categorical at ``temperature``:
    reparameterized samples on the simplex.

    >>> m = ag.distributions.RelaxedOneHotCategorical(ag.tensor(0.5), logits=ag.zeros(3))
    >>> round(float(m.rsample().sum()), 5)
    1.0
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    @property
    def temperature(self) -> Tensor:
        """The relaxation's temperature."""
        return self.base_dist.temperature  # type: ignore[attr-defined]

    @property
    def probs(self) -> Tensor:
        """The category probabilities."""
        return self.base_dist.probs  # type: ignore[attr-defined]

    @property
    def logits(self) -> Tensor:
        """The normalized log-probabilities."""
        return self.base_dist.logits  # type: ignore[attr-defined]


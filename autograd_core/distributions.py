"""``torch.distributions``, the part small scripts use: ``Normal``, ``Uniform``, ``Bernoulli``,
``Categorical`` (with ``sample``, ``rsample`` where it exists, ``log_prob``, ``entropy``, ``mean``,
``variance``...) and ``kl_divergence`` between two of the same family. Densities and entropies are taped
ops, so ``log_prob(action) * reward`` trains a policy (REINFORCE) and ``rsample`` backpropagates through a
sample (the reparameterization trick). Samples come from the global generator (``manual_seed``).

    >>> _ = ag.manual_seed(0)
    >>> m = ag.distributions.Categorical(logits=ag.tensor([0.0, 1.0, 2.0]))
    >>> a = m.sample()
    >>> a.dtype, m.log_prob(ag.tensor(2))
    (dtype('int64'), tensor(-0.4076))
"""
from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from .ops import elementwise as E
from .ops import reduce as R
from .ops.index import take_along_axis
from .tensor import Tensor, get_default_dtype

__all__ = ["Distribution", "Normal", "Uniform", "Bernoulli", "Categorical", "kl_divergence"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _t(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return Tensor(np.asarray(x, dtype=get_default_dtype()))


def _rng() -> np.random.Generator:
    # the module (the package's name ``tensor`` is the constructor function); read at call time, so that
    # manual_seed's new generator is the one used
    return sys.modules["autograd_core.tensor"].default_generator.np


def _shape(sample_shape: Any) -> tuple[int, ...]:
    if isinstance(sample_shape, int):
        return (sample_shape,)
    return tuple(int(s) for s in sample_shape)


class Distribution:
    """Base class: ``batch_shape``, ``event_shape``, ``sample``/``rsample``/``sample_n``, ``log_prob``,
    ``entropy``, ``mean``, ``variance``, ``stddev``, as ``torch.distributions.Distribution``.

    >>> ag.distributions.Normal(0.0, 1.0).batch_shape
    ()
    """

    batch_shape: tuple[int, ...] = ()
    event_shape: tuple[int, ...] = ()
    has_rsample = False

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A sample of shape ``sample_shape + batch_shape + event_shape``, without gradient.

        >>> ag.distributions.Uniform(0.0, 1.0).sample((2,)).shape
        (2,)
        """
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """A reparameterized sample (differentiable in the parameters), where the family has one.

        >>> ag.distributions.Normal(ag.tensor(0.0), ag.tensor(2.0)).rsample((3,)).shape
        (3,)
        """
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler (rsample); use sample()")

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))`` (PyTorch's old spelling).

        >>> ag.distributions.Bernoulli(0.5).sample_n(4).shape
        (4,)
        """
        return self.sample((n,))

    def log_prob(self, value: Any) -> Tensor:
        """The log density (or log mass) at ``value``.

        >>> ag.distributions.Normal(0.0, 1.0).log_prob(ag.tensor(0.0))
        tensor(-0.9189)
        """
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """The entropy of each distribution in the batch.

        >>> ag.distributions.Bernoulli(0.5).entropy()
        tensor(0.6931)
        """
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        """The standard deviation: sqrt(variance)."""
        return E.sqrt(self.variance)

    @property
    def mean(self) -> Tensor:
        """The mean."""
        raise NotImplementedError

    @property
    def variance(self) -> Tensor:
        """The variance."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normal(Distribution):
    """The normal distribution N(loc, scale²) (the parameters broadcast into ``batch_shape``).

    >>> m = ag.distributions.Normal(ag.tensor([0.0, 1.0]), ag.tensor([1.0, 2.0]))
    >>> m.log_prob(ag.tensor([0.0, 1.0])), m.entropy()
    (tensor([-0.9189, -1.6121]), tensor([1.4189, 2.1121]))
    """

    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: Any = None) -> None:
        self.loc, self.scale = _t(loc), _t(scale)
        self.batch_shape = tuple(np.broadcast_shapes(tuple(self.loc.shape), tuple(self.scale.shape)))

    @property
    def mean(self) -> Tensor:
        """The mean."""
        return self.loc + self.scale * 0

    @property
    def stddev(self) -> Tensor:
        """The standard deviation."""
        return self.scale + self.loc * 0

    @property
    def variance(self) -> Tensor:
        """The variance."""
        return self.stddev * self.stddev

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        eps = Tensor(_rng().standard_normal(shape).astype(self.loc._data.dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        v = _t(value)
        z = (v - self.loc) / self.scale
        return -0.5 * z * z - E.log(self.scale) - _LOG_SQRT_2PI

    def entropy(self) -> Tensor:
        return 0.5 + _LOG_SQRT_2PI + E.log(self.scale) + self.loc * 0

    def cdf(self, value: Any) -> Tensor:
        """P(X <= value) = (1 + erf((value - loc) / (scale sqrt 2))) / 2.

        >>> ag.distributions.Normal(0.0, 1.0).cdf(ag.tensor(0.0))
        tensor(0.5000)
        """
        return 0.5 * (1 + E.erf((_t(value) - self.loc) / (self.scale * math.sqrt(2))))

    def __repr__(self) -> str:
        return f"Normal(loc: {self.loc}, scale: {self.scale})"


class Uniform(Distribution):
    """The uniform distribution on [low, high).

    >>> m = ag.distributions.Uniform(0.0, 4.0)
    >>> m.log_prob(ag.tensor(1.0)), m.entropy(), m.mean
    (tensor(-1.3863), tensor(1.3863), tensor(2.))
    """

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: Any = None) -> None:
        self.low, self.high = _t(low), _t(high)
        self.batch_shape = tuple(np.broadcast_shapes(tuple(self.low.shape), tuple(self.high.shape)))

    @property
    def mean(self) -> Tensor:
        """The mean."""
        return (self.low + self.high) / 2

    @property
    def variance(self) -> Tensor:
        """The variance."""
        w = self.high - self.low
        return w * w / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        u = Tensor(_rng().random(shape).astype(self.low._data.dtype))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        v = _t(value)
        inside = (v >= self.low) & (v < self.high)
        return E.where(inside, -E.log(self.high - self.low) + v * 0, float("-inf"))

    def entropy(self) -> Tensor:
        return E.log(self.high - self.low)


class Bernoulli(Distribution):
    """The Bernoulli distribution on {0, 1}, from ``probs`` or ``logits`` (give one).

    >>> m = ag.distributions.Bernoulli(probs=ag.tensor([0.25]))
    >>> m.log_prob(ag.tensor([1.0])), m.entropy()
    (tensor([-1.3863]), tensor([0.5623]))
    """

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: either `probs` or `logits` must be specified, but not both")
        if probs is not None:
            self.probs = _t(probs)
            p = E.clamp(self.probs, 1e-7 if self.probs._data.dtype == np.float32 else 1e-15,
                        1 - (1e-7 if self.probs._data.dtype == np.float32 else 1e-15))
            self.logits = E.log(p) - E.log1p(-p)
        else:
            self.logits = _t(logits)
            self.probs = E.sigmoid(self.logits)
        self.batch_shape = tuple(self.probs.shape)

    @property
    def mean(self) -> Tensor:
        """The mean."""
        return self.probs

    @property
    def variance(self) -> Tensor:
        """The variance."""
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        p = np.broadcast_to(self.probs._data, shape)
        return Tensor((_rng().random(shape) < p).astype(self.probs._data.dtype))

    def log_prob(self, value: Any) -> Tensor:
        v = _t(value)
        # -BCE with logits, without overflow: v * logits - softplus(logits)
        return v * self.logits - E.softplus(self.logits)

    def entropy(self) -> Tensor:
        return E.softplus(self.logits) - self.probs * self.logits


class Categorical(Distribution):
    """A categorical distribution over 0 .. K-1 along the last dim of ``probs`` (normalized here) or
    ``logits`` (give one); ``batch_shape`` is the rest.

    >>> m = ag.distributions.Categorical(probs=ag.tensor([0.25, 0.75]))
    >>> m.log_prob(ag.tensor(1)), m.entropy()
    (tensor(-0.2877), tensor(0.5623))
    """

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: either `probs` or `logits` must be specified, but not both")
        if probs is not None:
            p = _t(probs)
            if p.ndim < 1:
                raise ValueError("Categorical: `probs` must be at least one-dimensional")
            self.probs = p / R.sum(p, axis=-1, keepdims=True)
            self.logits = E.log(E.clamp(self.probs, min=np.finfo(self.probs._data.dtype).tiny))
        else:
            lg = _t(logits)
            if lg.ndim < 1:
                raise ValueError("Categorical: `logits` must be at least one-dimensional")
            self.logits = lg - R.logsumexp(lg, axis=-1, keepdims=True)
            self.probs = E.exp(self.logits)
        self._num_events = self.probs.shape[-1]
        self.batch_shape = tuple(self.probs.shape[:-1])

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of ``probs`` / ``logits``."""
        return tuple(self.probs.shape)

    @property
    def mean(self) -> Tensor:
        """The mean."""
        return Tensor(np.full(self.batch_shape, np.nan, dtype=self.probs._data.dtype))

    @property
    def mode(self) -> Tensor:
        """The most probable category of each distribution.

        >>> ag.distributions.Categorical(probs=ag.tensor([0.2, 0.8])).mode
        tensor(1)
        """
        return Tensor(np.argmax(self.probs._data, axis=-1).astype(np.int64))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = _shape(sample_shape)
        p = self.probs._data.reshape(-1, self._num_events).astype(np.float64)
        cdf = np.cumsum(p, axis=-1)
        cdf /= cdf[:, -1:]
        u = _rng().random(shape + (p.shape[0],))
        idx = np.empty(u.shape, np.int64)
        for r in range(p.shape[0]):
            idx[..., r] = np.minimum(np.searchsorted(cdf[r], u[..., r], side="right"), self._num_events - 1)
        return Tensor(idx.reshape(shape + self.batch_shape))

    def log_prob(self, value: Any) -> Tensor:
        v = value._data if isinstance(value, Tensor) else np.asarray(value)
        v = v.astype(np.int64)
        logits = self.logits
        shape = np.broadcast_shapes(v.shape, self.batch_shape)
        if tuple(logits.shape[:-1]) != tuple(shape):
            logits = logits.broadcast_to(tuple(shape) + (self._num_events,))
        idx = np.broadcast_to(v, shape)[..., None]
        return take_along_axis(logits, idx, -1).reshape(shape)

    def entropy(self) -> Tensor:
        min_real = np.finfo(self.logits._data.dtype).min
        logits = E.clamp(self.logits, min=min_real)
        return -R.sum(logits * self.probs, axis=-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The categories 0 .. K-1 (expanded over the batch: (K, *batch_shape)).

        >>> ag.distributions.Categorical(logits=ag.zeros(3)).enumerate_support()
        tensor([0, 1, 2])
        """
        values = np.arange(self._num_events, dtype=np.int64).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            values = np.broadcast_to(values, (self._num_events,) + self.batch_shape).copy()
        return Tensor(values)


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) for two distributions of the same family (Normal, Uniform, Bernoulli, Categorical).

    >>> N = ag.distributions.Normal
    >>> ag.distributions.kl_divergence(N(0.0, 1.0), N(1.0, 1.0))
    tensor(0.5000)
    """
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale) ** 2
        t1 = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (var_ratio + t1 - 1 - E.log(var_ratio))
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        t = p.probs * (p.logits - q.logits)
        t = E.where(q.probs == 0, float("inf"), t)
        t = E.where(p.probs == 0, 0.0, t)
        return R.sum(t, axis=-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        t1 = p.probs * (E.softplus(-q.logits) - E.softplus(-p.logits))
        t2 = (1 - p.probs) * (E.softplus(q.logits) - E.softplus(p.logits))
        return t1 + t2
    if isinstance(p, Uniform) and isinstance(q, Uniform):
        out = E.log((q.high - q.low) / (p.high - p.low))
        return E.where((q.low > p.low) | (q.high < p.high), float("inf"), out)
    raise NotImplementedError(f"kl_divergence: no formula here for {type(p).__name__} and {type(q).__name__}")

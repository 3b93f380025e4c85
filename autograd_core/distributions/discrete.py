"""Discrete distributions with PyTorch's parameters and formulas: ``Bernoulli``, ``Categorical``,
``OneHotCategorical``, ``Binomial``, ``Poisson``, ``Geometric``, ``Multinomial``. Give ``probs`` or
``logits`` (one of them) where both exist. Samples have no gradient; ``log_prob`` and ``entropy`` are
taped ops (so ``log_prob(action) * reward`` trains a policy).

    >>> _ = ag.manual_seed(0)
    >>> m = ag.distributions.Categorical(logits=ag.tensor([0.0, 1.0, 2.0]))
    >>> a = m.sample()
    >>> a.dtype, m.log_prob(ag.tensor(2))
    (dtype('int64'), tensor(-0.4076))
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import elementwise as E
from ..ops import mathops as M
from ..ops import reduce as R
from ..ops.index import take_along_axis
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import as_tensor, binary_params, broadcast_all, clamp_probs, logits_to_probs, probs_to_logits, rng, size

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical", "Binomial", "Poisson", "Geometric", "Multinomial"]


def _one_of(name: str, probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both")


def _clamp_by_zero(x: Tensor) -> Tensor:
    return (E.clamp(x, min=0.0) + x - E.clamp(x, max=0.0)) / 2


class Bernoulli(Distribution):
    """The Bernoulli distribution on {0, 1}, from ``probs`` or ``logits``.

    >>> m = ag.distributions.Bernoulli(probs=ag.tensor([0.25]))
    >>> m.log_prob(ag.tensor([1.0])), m.entropy()
    (tensor([-1.3863]), tensor([0.5623]))
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        self.probs, self.logits, self._derived = binary_params("Bernoulli", probs, logits)
        super().__init__(tuple(self.probs.shape), validate_args=validate_args)

    def _expand_also(self) -> tuple[str, ...]:
        return ("probs", "logits")

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of ``probs`` / ``logits``."""
        return tuple(self.probs.shape)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        m = (self.probs._data >= 0.5).astype(self.probs._data.dtype)
        m[self.probs._data == 0.5] = np.nan
        return Tensor(m)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs._data, shape)
        return Tensor((rng().random(shape) < p).astype(self.probs._data.dtype))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.probs)
        self._validate_sample(v)
        # -BCE with logits, without overflow: v * logits - softplus(logits)
        return v * self.logits - E.softplus(self.logits)

    def entropy(self) -> Tensor:
        return E.softplus(self.logits) - self.probs * self.logits

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """(2, *batch_shape): the values 0 and 1.

        >>> ag.distributions.Bernoulli(0.3).enumerate_support()
        tensor([0., 1.])
        """
        v = np.arange(2, dtype=self.probs._data.dtype).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            v = np.broadcast_to(v, (2,) + self.batch_shape).copy()
        return Tensor(v)


class Categorical(Distribution):
    """A categorical distribution over 0 .. K-1 along the last dim of ``probs`` (normalized here) or
    ``logits``; ``batch_shape`` is the rest.

    >>> m = ag.distributions.Categorical(probs=ag.tensor([0.25, 0.75]))
    >>> m.log_prob(ag.tensor(1)), m.entropy()
    (tensor(-0.2877), tensor(0.5623))
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        _one_of("Categorical", probs, logits)
        if probs is not None:
            p = as_tensor(probs)
            if p.ndim < 1:
                raise ValueError("Categorical: `probs` parameter must be at least one-dimensional.")
            self.probs = p / R.sum(p, axis=-1, keepdims=True)
            self.logits = probs_to_logits(self.probs)
            self._derived = ("logits",)
        else:
            lg = as_tensor(logits)
            if lg.ndim < 1:
                raise ValueError("Categorical: `logits` parameter must be at least one-dimensional.")
            self.logits = lg - R.logsumexp(lg, axis=-1, keepdims=True)
            self.probs = logits_to_probs(self.logits)
            self._derived = ("probs",)
        self._num_events = self.probs.shape[-1]
        super().__init__(tuple(self.probs.shape[:-1]), validate_args=validate_args)

    def _expand_also(self) -> tuple[str, ...]:
        return ("probs", "logits")

    @property
    def support(self) -> Any:
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of ``probs`` / ``logits``."""
        return tuple(self.probs.shape)

    @property
    def mean(self) -> Tensor:
        return Tensor(np.full(self.batch_shape, np.nan, dtype=self.probs._data.dtype))

    @property
    def mode(self) -> Tensor:
        """The most probable category of each distribution.

        >>> ag.distributions.Categorical(probs=ag.tensor([0.2, 0.8])).mode
        tensor(1)
        """
        return Tensor(np.argmax(self.probs._data, axis=-1).astype(np.int64))

    @property
    def variance(self) -> Tensor:
        return Tensor(np.full(self.batch_shape, np.nan, dtype=self.probs._data.dtype))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = size(sample_shape)
        p = self.probs._data.reshape(-1, self._num_events).astype(np.float64)
        cdf = np.cumsum(p, axis=-1)
        cdf /= cdf[:, -1:]
        u = rng().random(shape + (p.shape[0],))
        # one vectorized search: row r's thresholds are shifted by r, so one sorted array holds all rows
        rows = np.arange(p.shape[0])
        flat = (cdf + rows[:, None]).reshape(-1)
        idx = np.searchsorted(flat, (u + rows).reshape(-1), side="right").reshape(u.shape) - rows * self._num_events
        idx = np.clip(idx, 0, self._num_events - 1)
        return Tensor(idx.reshape(shape + self.batch_shape).astype(np.int64))

    def log_prob(self, value: Any) -> Tensor:
        v = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
        self._validate_sample(v)
        vi = v._data.astype(np.int64)
        logits = self.logits
        shape = np.broadcast_shapes(vi.shape, self.batch_shape)
        if tuple(logits.shape[:-1]) != tuple(shape):
            logits = logits.broadcast_to(tuple(shape) + (self._num_events,))
        idx = np.broadcast_to(vi, shape)[..., None]
        return take_along_axis(logits, idx, -1).reshape(shape)

    def entropy(self) -> Tensor:
        min_real = float(np.finfo(self.logits._data.dtype).min)
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


def _wrapped_probs(self: Any) -> Tensor:
    """The normalized probabilities, those of the wrapped ``Categorical``."""
    return self._categorical.probs


def _wrapped_logits(self: Any) -> Tensor:
    """The normalized log-probabilities, those of the wrapped ``Categorical``."""
    return self._categorical.logits


class OneHotCategorical(Distribution):
    """A categorical distribution whose samples are one-hot vectors (the last dim), as PyTorch's.

    >>> m = ag.distributions.OneHotCategorical(probs=ag.tensor([0.25, 0.75]))
    >>> m.log_prob(ag.tensor([0.0, 1.0])), m.event_shape
    (tensor(-0.2877), (2,))
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, tuple(self._categorical.param_shape[-1:]),
                         validate_args=validate_args)

    probs = property(_wrapped_probs)
    logits = property(_wrapped_logits)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        return OneHotCategorical(logits=self.logits.broadcast_to(size(batch_shape) + self.event_shape),
                                 validate_args=False)

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The shape of ``probs`` / ``logits``."""
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        k = self.event_shape[0]
        return Tensor(np.eye(k, dtype=self.probs._data.dtype)[np.argmax(self.probs._data, axis=-1)])

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        idx = self._categorical.sample(sample_shape)._data
        k = self.event_shape[0]
        return Tensor(np.eye(k, dtype=self.probs._data.dtype)[idx])

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.probs)
        self._validate_sample(v)
        return self._categorical.log_prob(Tensor(np.argmax(v._data, axis=-1)))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """(K, *batch_shape, K): the K one-hot vectors."""
        k = self.event_shape[0]
        values = np.eye(k, dtype=self.probs._data.dtype).reshape((k,) + (1,) * len(self.batch_shape) + (k,))
        if expand:
            values = np.broadcast_to(values, (k,) + self.batch_shape + (k,)).copy()
        return Tensor(values)


class Binomial(Distribution):
    """Binomial(total_count, probs or logits): successes in ``total_count`` trials.

    >>> m = ag.distributions.Binomial(10, probs=ag.tensor(0.5))
    >>> m.mean, m.log_prob(ag.tensor(5.0))
    (tensor(5.), tensor(-1.4020))
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        _one_of("Binomial", probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.astype(self.probs._data.dtype)
            self.logits = probs_to_logits(self.probs, is_binary=True)
            self._derived = ("logits",)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.astype(self.logits._data.dtype)
            self.probs = E.sigmoid(self.logits)
            self._derived = ("probs",)
        super().__init__(tuple(self.probs.shape), validate_args=validate_args)

    def _expand_also(self) -> tuple[str, ...]:
        return ("probs", "logits", "total_count")

    @property
    def support(self) -> Any:
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return E.clamp(E.floor((self.total_count + 1) * self.probs), max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(self.total_count._data, shape).astype(np.int64)
        p = np.broadcast_to(self.probs._data, shape).astype(np.float64)
        return Tensor(rng().binomial(n, p).astype(self.probs._data.dtype))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.probs)
        self._validate_sample(v)
        n = self.total_count
        log_factorial_n = M.lgamma(n + 1)
        log_factorial_k = M.lgamma(v + 1)
        log_factorial_nmk = M.lgamma(n - v + 1)
        normalize_term = n * _clamp_by_zero(self.logits) + n * E.log1p(E.exp(-E.abs(self.logits))) - log_factorial_n
        return v * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self) -> Tensor:
        n = int(self.total_count._data.max()) if self.total_count._data.size else 0
        if not np.all(self.total_count._data == n):
            raise NotImplementedError("Binomial.entropy: inhomogeneous total_count is not supported")
        support = self.enumerate_support(False)
        lp = self.log_prob(support)
        return -R.sum(E.exp(lp) * lp, axis=0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0 .. total_count along a new first dim (one total_count for the whole batch)."""
        n = int(self.total_count._data.max()) if self.total_count._data.size else 0
        if not np.all(self.total_count._data == n):
            raise NotImplementedError("Binomial.enumerate_support: inhomogeneous total_count is not supported")
        v = np.arange(n + 1, dtype=self.probs._data.dtype).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            v = np.broadcast_to(v, (n + 1,) + self.batch_shape).copy()
        return Tensor(v)


class Poisson(Distribution):
    """Poisson(rate): P(k) = rate^k exp(-rate) / k!.

    >>> ag.distributions.Poisson(ag.tensor(2.0)).log_prob(ag.tensor(1.0))
    tensor(-1.3069)
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: Any = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return E.floor(self.rate)

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return Tensor(rng().poisson(np.broadcast_to(self.rate._data, shape)).astype(self.rate._data.dtype))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.rate)
        self._validate_sample(v)
        return M.xlogy(v, self.rate) - self.rate - M.lgamma(v + 1)


class Geometric(Distribution):
    """Geometric(probs or logits): the number of failures before the first success, P(k) = (1-p)^k p.

    >>> ag.distributions.Geometric(probs=ag.tensor(0.5)).log_prob(ag.tensor(2.0))
    tensor(-2.0794)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        self.probs, self.logits, self._derived = binary_params("Geometric", probs, logits)
        super().__init__(tuple(self.probs.shape), validate_args=validate_args)
        if self._validate_args and not np.all(self.probs._data > 0):
            raise ValueError(f"Geometric: expected probs > 0, got {self.probs}")

    def _expand_also(self) -> tuple[str, ...]:
        return ("probs", "logits")

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return self.probs * 0

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        tiny = float(np.finfo(self.probs._data.dtype).tiny)
        u = rng().uniform(tiny, 1.0, shape)
        p = np.broadcast_to(self.probs._data, shape)
        with np.errstate(divide="ignore"):
            k = np.floor(np.log(u) / np.log1p(-p))
        return Tensor(np.where(p == 1, 0.0, k).astype(self.probs._data.dtype))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.probs)
        self._validate_sample(v)
        p = self.probs
        # p = 1 and k = 0: (1 - p)^0 = 1 (PyTorch zeroes p there so that 0 * log(0) stays out)
        safe = E.where((p == 1) & (v == 0), 0.0, p)
        return v * E.log1p(-safe) + E.log(p)

    def entropy(self) -> Tensor:
        p = clamp_probs(self.probs)
        return (E.softplus(self.logits) - p * self.logits) / p


class Multinomial(Distribution):
    """Multinomial(total_count, probs or logits): counts of ``total_count`` categorical draws (last dim).

    >>> m = ag.distributions.Multinomial(4, probs=ag.tensor([0.5, 0.5]))
    >>> m.log_prob(ag.tensor([2.0, 2.0])), m.mean
    (tensor(-0.9808), tensor([2., 2.]))
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, total_count: int = 1, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        if not isinstance(total_count, (int, np.integer)):
            raise NotImplementedError("Multinomial: inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, tuple(self._categorical.param_shape[-1:]),
                         validate_args=validate_args)

    @property
    def support(self) -> Any:
        return constraints.multinomial(self.total_count)

    probs = property(_wrapped_probs)
    logits = property(_wrapped_logits)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        draws = self._categorical.sample(size(sample_shape) + (self.total_count,))._data
        draws = np.moveaxis(draws, len(size(sample_shape)), -1)
        k = self.event_shape[0]
        counts = (draws[..., None] == np.arange(k)).sum(-2)
        return Tensor(counts.astype(self.probs._data.dtype))

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.probs)
        self._validate_sample(v)
        logits = self.logits
        shape = np.broadcast_shapes(tuple(v.shape), tuple(logits.shape))
        logits = logits if tuple(logits.shape) == shape else logits.broadcast_to(shape)
        v = v if tuple(v.shape) == shape else v.broadcast_to(shape)
        log_factorial_n = M.lgamma(R.sum(v, axis=-1) + 1)
        log_factorial_xs = R.sum(M.lgamma(v + 1), axis=-1)
        logits = E.where((v == 0) & (logits == float("-inf")), 0.0, logits)
        return log_factorial_n - log_factorial_xs + R.sum(logits * v, axis=-1)

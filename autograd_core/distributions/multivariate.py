"""Distributions over vectors and compositions of others: ``MultivariateNormal``, ``Independent`` and
``MixtureSameFamily``, as PyTorch's.

    >>> m = ag.distributions.MultivariateNormal(ag.zeros(2), ag.eye(2))
    >>> m.log_prob(ag.zeros(2)), m.event_shape
    (tensor(-1.8379), (2,))
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import linalg as _linalg
from ..ops import elementwise as E
from ..ops import reduce as R
from ..ops.index import take_along_axis
from ..tensor import Tensor
from . import constraints
from .discrete import Categorical
from .distribution import Distribution
from .utils import as_tensor, rng, size, sum_rightmost

__all__ = ["MultivariateNormal", "Independent", "MixtureSameFamily"]


def _diag(m: Tensor) -> Tensor:
    return m.diagonal(0, -2, -1)


def _mahalanobis(L: Tensor, x: Tensor) -> Tensor:
    """||L^-1 x||² over the last dim, L lower-triangular (..., n, n), x (..., n), broadcast."""
    shape = tuple(np.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1])))
    n = x.shape[-1]
    Lb = L if tuple(L.shape[:-2]) == shape else L.broadcast_to(shape + (n, n))
    xb = x if tuple(x.shape[:-1]) == shape else x.broadcast_to(shape + (n,))
    # a triangular solve reads L's lower triangle only (so its upper one gets no gradient), as PyTorch's
    z = _linalg.solve(Lb.tril(), xb.unsqueeze(-1)).squeeze(-1)
    return R.sum(z * z, axis=-1)


class MultivariateNormal(Distribution):
    """N(loc, Σ) over the last dim of ``loc``, with Σ given as ``covariance_matrix``,
    ``precision_matrix`` or its Cholesky factor ``scale_tril`` (one of them).

    >>> m = ag.distributions.MultivariateNormal(ag.zeros(2), scale_tril=ag.eye(2) * 2)
    >>> m.entropy(), m.variance
    (tensor(4.2242), tensor([4., 4.]))
    """

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Any, covariance_matrix: Any = None, precision_matrix: Any = None, scale_tril: Any = None,
                 validate_args: Any = None) -> None:
        loc = as_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional.")
        if sum(m is not None for m in (covariance_matrix, precision_matrix, scale_tril)) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or precision_matrix or scale_tril "
                             "may be specified.")
        given = next(m for m in (scale_tril, covariance_matrix, precision_matrix) if m is not None)
        given = as_tensor(given, loc)
        if given.ndim < 2:
            raise ValueError("MultivariateNormal: the matrix argument must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        n = loc.shape[-1]
        if tuple(given.shape[-2:]) != (n, n):
            raise ValueError(f"MultivariateNormal: loc has {n} dims but the matrix has shape {tuple(given.shape)}")
        batch = tuple(np.broadcast_shapes(tuple(given.shape[:-2]), tuple(loc.shape[:-1])))
        name = "scale_tril" if scale_tril is not None else "covariance_matrix" if covariance_matrix is not None \
            else "precision_matrix"
        check = self._validate_args if validate_args is None else bool(validate_args)
        if check and not np.all(self.arg_constraints[name].check(given)):
            raise ValueError(f"Expected parameter {name} ({type(given).__name__} of shape {tuple(given.shape)}) of "
                             f"distribution MultivariateNormal to satisfy the constraint "
                             f"{self.arg_constraints[name]!r}, but found invalid values:\n{given}")
        if scale_tril is not None:
            self._given = ("scale_tril", given)
            self._unbroadcasted_scale_tril = given
        elif covariance_matrix is not None:
            self._given = ("covariance_matrix", given)
            self._unbroadcasted_scale_tril = _linalg.cholesky(given)
        else:
            self._given = ("precision_matrix", given)
            # Σ = P^-1, and its Cholesky factor
            self._unbroadcasted_scale_tril = _linalg.cholesky(_linalg.inv(given))
        self.loc = loc.broadcast_to(batch + (n,)) if tuple(loc.shape[:-1]) != batch else loc
        super().__init__(batch, (n,), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        b = size(batch_shape)
        n = self.event_shape[0]
        return MultivariateNormal(self.loc.broadcast_to(b + (n,)),
                                  scale_tril=self._unbroadcasted_scale_tril.broadcast_to(b + (n, n)),
                                  validate_args=False)

    def _batched(self, m: Tensor) -> Tensor:
        n = self.event_shape[0]
        return m if tuple(m.shape[:-2]) == self.batch_shape else m.broadcast_to(self.batch_shape + (n, n))

    @property
    def scale_tril(self) -> Tensor:
        """The lower Cholesky factor L of the covariance (Σ = L Lᵀ)."""
        return self._batched(self._unbroadcasted_scale_tril)

    @property
    def covariance_matrix(self) -> Tensor:
        """Σ = L Lᵀ (the matrix given, if it was the covariance)."""
        name, value = self._given
        if name == "covariance_matrix":
            return self._batched(value)
        L = self.scale_tril
        return L @ L.transpose(-1, -2)

    @property
    def precision_matrix(self) -> Tensor:
        """Σ⁻¹ (the matrix given, if it was the precision)."""
        name, value = self._given
        if name == "precision_matrix":
            return self._batched(value)
        return _linalg.inv(self.covariance_matrix)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        L = self.scale_tril
        return R.sum(L * L, axis=-1)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = Tensor(rng().standard_normal(shape).astype(self.loc._data.dtype))
        L = self._unbroadcasted_scale_tril
        return self.loc + (L @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Any) -> Tensor:
        v = as_tensor(value, self.loc)
        self._validate_sample(v)
        diff = v - self.loc
        L = self._unbroadcasted_scale_tril
        m = _mahalanobis(L, diff)
        half_log_det = R.sum(E.log(_diag(L)), axis=-1)
        n = self.event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + m) - half_log_det

    def entropy(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        half_log_det = R.sum(E.log(_diag(L)), axis=-1)
        n = self.event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + half_log_det
        return h if tuple(h.shape) == self.batch_shape else h.broadcast_to(self.batch_shape)

    def __repr__(self) -> str:
        return f"MultivariateNormal(loc: {tuple(self.loc.shape)}, scale_tril: {tuple(self.scale_tril.shape)})"


class Independent(Distribution):
    """Treats the rightmost ``reinterpreted_batch_ndims`` batch dims of ``base_distribution`` as event
    dims: ``log_prob`` and ``entropy`` sum over them.

    >>> base = ag.distributions.Normal(ag.zeros(3), ag.ones(3))
    >>> m = ag.distributions.Independent(base, 1)
    >>> m.batch_shape, m.event_shape, m.log_prob(ag.zeros(3))
    ((), (3,), tensor(-2.7568))
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: Any = None) -> None:
        n = int(reinterpreted_batch_ndims)
        if n > len(base_distribution.batch_shape):
            raise ValueError(f"Independent: expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                             f"actual {n} vs {len(base_distribution.batch_shape)}")
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = n + len(base_distribution.event_shape)
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        b = size(batch_shape)
        ev = self.event_shape[:self.reinterpreted_batch_ndims]
        return Independent(self.base_dist.expand(b + ev), self.reinterpreted_batch_ndims, validate_args=False)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        return False if self.reinterpreted_batch_ndims > 0 else self.base_dist.has_enumerate_support

    @property
    def support(self) -> Any:
        s = self.base_dist.support
        return constraints.independent(s, self.reinterpreted_batch_ndims) if s is not None else None

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"


class MixtureSameFamily(Distribution):
    """A mixture: ``mixture_distribution`` (a ``Categorical`` over K) picks one of the K components
    batched in the rightmost batch dim of ``component_distribution``.

    >>> D = ag.distributions
    >>> mix = D.MixtureSameFamily(D.Categorical(probs=ag.tensor([0.5, 0.5])),
    ...                           D.Normal(ag.tensor([-1.0, 1.0]), ag.tensor([1.0, 1.0])))
    >>> mix.mean, mix.log_prob(ag.tensor(0.0))
    (tensor(0.), tensor(-1.4189))
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution: Distribution, component_distribution: Distribution,
                 validate_args: Any = None) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("MixtureSameFamily: the mixture distribution needs to be a Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("MixtureSameFamily: the component distribution needs to be a Distribution")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        mdbs = tuple(mixture_distribution.batch_shape)
        cdbs = tuple(component_distribution.batch_shape)[:-1]
        for s1, s2 in zip(reversed(mdbs), reversed(cdbs)):
            if s1 != 1 and s2 != 1 and s1 != s2:
                raise ValueError(f"MixtureSameFamily: mixture_distribution.batch_shape {mdbs} is not compatible with "
                                 f"component_distribution.batch_shape {tuple(component_distribution.batch_shape)}")
        k = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if k != kc:
            raise ValueError(f"MixtureSameFamily: the mixture has {k} components but the component distribution's "
                             f"rightmost batch dim is {kc}")
        self._num_component = k
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, tuple(component_distribution.event_shape), validate_args=validate_args)

    @property
    def mixture_distribution(self) -> Distribution:
        """The Categorical over the components."""
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        """The K components, batched in the rightmost batch dim."""
        return self._component_distribution

    @property
    def support(self) -> Any:
        return self._component_distribution.support

    def _pad_mixture(self, t: Tensor) -> Tensor:
        for _ in range(self._event_ndims):
            t = t.unsqueeze(-1)
        return t

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture(self._mixture_distribution.probs)
        return R.sum(probs * self._component_distribution.mean, axis=-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture(self._mixture_distribution.probs)
        d = -1 - self._event_ndims
        mean_cond_var = R.sum(probs * self._component_distribution.variance, axis=d)
        diff = self._component_distribution.mean - self._pad(self.mean)
        var_cond_mean = R.sum(probs * diff * diff, axis=d)
        return mean_cond_var + var_cond_mean

    def _pad(self, x: Tensor) -> Tensor:
        return x.unsqueeze(-1 - self._event_ndims)

    def cdf(self, value: Any) -> Tensor:
        """The mixture of the components' cdfs."""
        x = self._pad(as_tensor(value))
        cdf_x = self._component_distribution.cdf(x)
        return R.sum(cdf_x * self._mixture_distribution.probs, axis=-1)

    def log_prob(self, value: Any) -> Tensor:
        x = self._pad(as_tensor(value))
        log_prob_x = self._component_distribution.log_prob(x)
        log_mix_prob = self._mixture_distribution.logits - R.logsumexp(self._mixture_distribution.logits, axis=-1,
                                                                       keepdims=True)
        return R.logsumexp(log_prob_x + log_mix_prob, axis=-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        ss = size(sample_shape)
        mix = self._mixture_distribution.sample(ss)._data                 # ss + mixture batch
        comp = self._component_distribution.sample(ss)                     # ss + cdbs + (K,) + event
        batch = ss + self.batch_shape
        mdbs = tuple(self._mixture_distribution.batch_shape)
        mix = mix.reshape(ss + (1,) * (len(self.batch_shape) - len(mdbs)) + mdbs)
        mix = np.broadcast_to(mix, batch)
        idx = mix.reshape(batch + (1,) + (1,) * self._event_ndims)
        idx = np.broadcast_to(idx, batch + (1,) + self.event_shape)
        out = take_along_axis(comp, idx, len(batch))
        return out.squeeze(len(batch))

    def __repr__(self) -> str:
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  {self._component_distribution!r})")

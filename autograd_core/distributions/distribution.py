"""``Distribution``, the base class of every distribution here, as ``torch.distributions.Distribution``.

    >>> ag.distributions.Normal(0.0, 1.0).batch_shape
    ()
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import modes
from ..ops import elementwise as E
from ..tensor import Tensor
from . import constraints
from .utils import size

__all__ = ["Distribution", "inherit_property_docs"]


_PROPERTY_DOCS = {
    "support": "The constraint the values lie in.",
    "has_rsample": "Whether ``rsample`` (a reparameterized sample) is available.",
    "has_enumerate_support": "Whether ``enumerate_support`` is available.",
    "domain": "The constraint on the transform's input.",
    "codomain": "The constraint on the transform's output.",
    "event_dim": "How many trailing dims the transform acts on together.",
    "sign": "+1 where the transform increases, -1 where it decreases.",
}


def inherit_property_docs(cls: type) -> None:
    """Give ``cls``'s undocumented properties the docstring of the property they override (or a standard
    one), so that ``help(Normal.mean)`` says what it is."""
    for name, attr in list(vars(cls).items()):
        if isinstance(attr, property) and not attr.__doc__:
            doc = _PROPERTY_DOCS.get(name)
            for base in cls.__mro__[1:]:
                inherited = vars(base).get(name)
                if isinstance(inherited, property) and inherited.__doc__:
                    doc = inherited.__doc__
                    break
            if doc:
                setattr(cls, name, property(attr.fget, attr.fset, attr.fdel, doc))


class Distribution:
    """Base class: ``batch_shape``, ``event_shape``, ``sample`` / ``rsample`` / ``sample_n``, ``log_prob``,
    ``entropy``, ``perplexity``, ``mean``, ``mode``, ``variance``, ``stddev``, ``cdf``, ``icdf``,
    ``expand``, ``enumerate_support``, and the checks of ``arg_constraints`` / ``support`` (on by
    default, as in PyTorch; ``validate_args=False`` or ``Distribution.set_default_validate_args(False)``
    turns them off).

    >>> ag.distributions.Normal(ag.zeros(2), 1.0).sample((3,)).shape
    (3, 2)
    """

    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict = {}
    support: Any = None
    _validate_args = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherit_property_docs(cls)

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn the parameter and value checks on or off for distributions made from now on.

        >>> D = ag.distributions.Distribution
        >>> D.set_default_validate_args(False); D.set_default_validate_args(True)
        """
        if value not in (True, False):
            raise ValueError("set_default_validate_args: expected True or False")
        Distribution._validate_args = value

    def __init__(self, batch_shape: Any = (), event_shape: Any = (), validate_args: Any = None) -> None:
        self._batch_shape = size(batch_shape)
        self._event_shape = size(event_shape)
        if validate_args is not None:
            self._validate_args = bool(validate_args)
        if self._validate_args:
            for param, constraint in self.arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None), property):
                    continue    # not given (probs vs logits)
                if param in getattr(self, "_derived", ()):
                    continue    # computed from the one given (as PyTorch's lazy probs / logits): not checked
                value = getattr(self, param)
                ok = np.asarray(constraint.check(value))
                if not ok.all():
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape {tuple(np.shape(value))}) "
                        f"of distribution {self!r} to satisfy the constraint {constraint!r}, but found invalid "
                        f"values:\n{value}")

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The shape over which the parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one sample (() for a scalar distribution)."""
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> tuple[int, ...]:
        return size(sample_shape) + self._batch_shape + self._event_shape

    def expand(self, batch_shape: Any, _instance: Any = None) -> "Distribution":
        """The same distribution with its parameters broadcast to ``batch_shape``.

        >>> ag.distributions.Normal(0.0, 1.0).expand((2, 3)).batch_shape
        (2, 3)
        """
        batch_shape = size(batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name in self.arg_constraints:
            v = self.__dict__.get(name)
            if isinstance(v, Tensor):
                ev = v.shape[len(self._batch_shape):]
                new.__dict__[name] = v.broadcast_to(batch_shape + tuple(ev))
        for name in self._expand_also():
            v = self.__dict__.get(name)
            if isinstance(v, Tensor):
                ev = v.shape[len(self._batch_shape):]
                new.__dict__[name] = v.broadcast_to(batch_shape + tuple(ev))
        new._batch_shape = batch_shape
        return new

    def _expand_also(self) -> tuple[str, ...]:
        """Tensor attributes besides the parameters that carry the batch shape."""
        return ()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A sample of shape ``sample_shape + batch_shape + event_shape``, without gradient.

        >>> ag.distributions.Uniform(0.0, 1.0).sample((2,)).shape
        (2,)
        """
        with modes.no_grad():
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
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not available")

    def cdf(self, value: Any) -> Tensor:
        """P(X <= value)."""
        raise NotImplementedError(f"{type(self).__name__}.cdf is not available")

    def icdf(self, value: Any) -> Tensor:
        """The inverse of ``cdf``."""
        raise NotImplementedError(f"{type(self).__name__}.icdf is not available")

    def entropy(self) -> Tensor:
        """The entropy of each distribution in the batch.

        >>> ag.distributions.Bernoulli(0.5).entropy()
        tensor(0.6931)
        """
        raise NotImplementedError(f"{type(self).__name__}.entropy is not available")

    def perplexity(self) -> Tensor:
        """exp(entropy).

        >>> ag.distributions.Bernoulli(0.5).perplexity()
        tensor(2.)
        """
        return E.exp(self.entropy())

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All values of a discrete distribution, along a new first dim."""
        raise NotImplementedError(f"{type(self).__name__}.enumerate_support is not available")

    @property
    def mean(self) -> Tensor:
        """The mean."""
        raise NotImplementedError(f"{type(self).__name__}.mean is not available")

    @property
    def mode(self) -> Tensor:
        """The mode."""
        raise NotImplementedError(f"{type(self).__name__}.mode is not available")

    @property
    def variance(self) -> Tensor:
        """The variance."""
        raise NotImplementedError(f"{type(self).__name__}.variance is not available")

    @property
    def stddev(self) -> Tensor:
        """The standard deviation: sqrt(variance)."""
        return E.sqrt(self.variance)

    def _validate_sample(self, value: Any) -> None:
        if not self._validate_args or self.support is None or constraints.is_dependent(self.support):
            return
        if not isinstance(value, Tensor):
            value = Tensor(np.asarray(value))
        ev = len(self._event_shape)
        actual = tuple(value.shape)
        if actual[len(actual) - ev:] != self._event_shape if ev else False:
            raise ValueError(f"{type(self).__name__}.log_prob: the value's rightmost shape {actual[len(actual) - ev:]} "
                             f"must be the event shape {self._event_shape}")
        try:
            np.broadcast_shapes(actual[:len(actual) - ev] if ev else actual, self._batch_shape)
        except ValueError:
            raise ValueError(f"{type(self).__name__}.log_prob: a value of shape {actual} is not compatible with "
                             f"batch_shape {self._batch_shape} and event_shape {self._event_shape}") from None
        ok = np.asarray(self.support.check(value))
        if not ok.all():
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {actual}) to be within the "
                             f"support ({self.support!r}) of the distribution {self!r}, but found invalid values:\n"
                             f"{value}")

    def __repr__(self) -> str:
        params = []
        for name in self.arg_constraints:
            v = self.__dict__.get(name)
            if isinstance(v, Tensor):
                params.append(f"{name}: {v if v._data.size == 1 else tuple(v.shape)}")
        return f"{type(self).__name__}({', '.join(params)})"

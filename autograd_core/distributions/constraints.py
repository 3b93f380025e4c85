"""``torch.distributions.constraints``: where a distribution's parameters and values may lie.

A constraint's ``check(value)`` is a bool array (True where ``value`` satisfies it, per event for
constraints with ``event_dim`` > 0). Distributions check their parameters against ``arg_constraints``
and, in ``log_prob``, values against ``support`` when ``validate_args`` is on (PyTorch's default).

    >>> from autograd_core.distributions import constraints
    >>> constraints.positive.check(ag.tensor([1.0, -1.0]))
    array([ True, False])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Constraint", "real", "real_vector", "positive", "nonnegative", "unit_interval", "simplex", "boolean",
           "nonnegative_integer", "positive_integer", "integer_interval", "greater_than", "greater_than_eq",
           "less_than", "interval", "half_open_interval", "lower_cholesky", "positive_definite", "independent",
           "dependent", "is_dependent", "one_hot", "corr_cholesky", "multinomial", "cat", "stack", "square",
           "symmetric", "positive_semidefinite", "open_interval"]


def _a(value: Any) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


class Constraint:
    """Base class: ``check(value)`` gives a bool array; ``event_dim`` is how many trailing dims one event
    has; ``is_discrete`` says whether the values are integers.

    >>> from autograd_core.distributions import constraints
    >>> bool(constraints.unit_interval.check(0.5)), constraints.unit_interval
    (True, UnitInterval())
    """

    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> Any:
        """True where ``value`` satisfies the constraint."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A placeholder for a support that depends on other parameters (no check).

    >>> from autograd_core.distributions import constraints as C
    >>> C.is_dependent(C.dependent)
    True
    """

    def __init__(self, is_discrete: bool = False, event_dim: int = 0) -> None:
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete: bool = False, event_dim: int = 0) -> "_Dependent":
        return _Dependent(is_discrete, event_dim)

    def check(self, value: Any) -> Any:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint: Any) -> bool:
    """Whether ``constraint`` is the ``dependent`` placeholder.

    >>> from autograd_core.distributions import constraints
    >>> constraints.is_dependent(constraints.dependent), constraints.is_dependent(constraints.real)
    (True, False)
    """
    return isinstance(constraint, _Dependent)


class _Real(Constraint):
    """Any real number (not NaN)."""

    def check(self, value: Any) -> Any:
        v = _a(value)
        return v == v      # False for NaN


class _Boolean(Constraint):
    """0 or 1."""

    is_discrete = True

    def check(self, value: Any) -> Any:
        v = _a(value)
        return (v == 0) | (v == 1)


class _IntegerInterval(Constraint):
    """Integers in [lower_bound, upper_bound].

    >>> from autograd_core.distributions import constraints as C
    >>> C.integer_interval(0, 3).check(ag.tensor([0.0, 2.5, 3.0]))
    array([ True, False,  True])
    """

    is_discrete = True

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Any:
        v = _a(value)
        return (v % 1 == 0) & (_a(self.lower_bound) <= v) & (v <= _a(self.upper_bound))

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """Integers >= lower_bound."""

    is_discrete = True

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Any:
        v = _a(value)
        return (v % 1 == 0) & (v >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _GreaterThan(Constraint):
    """Values > lower_bound.

    >>> from autograd_core.distributions import constraints as C
    >>> C.greater_than(1.0).check(ag.tensor([1.0, 2.0]))
    array([False,  True])
    """

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Any:
        return _a(self.lower_bound) < _a(value)

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    """Values >= lower_bound.

    >>> from autograd_core.distributions import constraints as C
    >>> C.greater_than_eq(1.0).check(ag.tensor([1.0, 0.0]))
    array([ True, False])
    """

    def check(self, value: Any) -> Any:
        return _a(self.lower_bound) <= _a(value)

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    """Values < upper_bound.

    >>> from autograd_core.distributions import constraints as C
    >>> C.less_than(1.0).check(ag.tensor([0.0, 1.0]))
    array([ True, False])
    """

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Any:
        return _a(value) < _a(self.upper_bound)

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """Values in [lower_bound, upper_bound].

    >>> from autograd_core.distributions import constraints as C
    >>> C.interval(0.0, 1.0).check(ag.tensor([0.0, 1.0, 2.0]))
    array([ True,  True, False])
    """

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Any:
        v = _a(value)
        return (_a(self.lower_bound) <= v) & (v <= _a(self.upper_bound))

    def __repr__(self) -> str:
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    """Values in [lower_bound, upper_bound).

    >>> from autograd_core.distributions import constraints as C
    >>> C.half_open_interval(0.0, 1.0).check(ag.tensor([0.0, 1.0]))
    array([ True, False])
    """

    def check(self, value: Any) -> Any:
        v = _a(value)
        return (_a(self.lower_bound) <= v) & (v < _a(self.upper_bound))

    def __repr__(self) -> str:
        return f"HalfOpenInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _OpenInterval(_Interval):
    """Values in (lower_bound, upper_bound).

    >>> from autograd_core.distributions import constraints as C
    >>> C.open_interval(0.0, 1.0).check(ag.tensor([0.0, 0.5]))
    array([False,  True])
    """

    def check(self, value: Any) -> Any:
        v = _a(value)
        return (_a(self.lower_bound) < v) & (v < _a(self.upper_bound))

    def __repr__(self) -> str:
        return f"OpenInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _UnitInterval(_Interval):
    """Values in [0, 1]."""

    def __init__(self) -> None:
        super().__init__(0.0, 1.0)

    def __repr__(self) -> str:
        return "UnitInterval()"


class _Simplex(Constraint):
    """Non-negative vectors (last dim) that sum to 1."""

    event_dim = 1

    def check(self, value: Any) -> Any:
        v = _a(value)
        return np.all(v >= 0, axis=-1) & (np.abs(v.sum(-1) - 1) < 1e-6)


class _OneHot(Constraint):
    """One-hot vectors (last dim)."""

    is_discrete = True
    event_dim = 1

    def check(self, value: Any) -> Any:
        v = _a(value)
        return np.all((v == 0) | (v == 1), axis=-1) & (v.sum(-1) == 1)


class _Multinomial(Constraint):
    """Non-negative integer count vectors (last dim) that sum to at most upper_bound.

    >>> from autograd_core.distributions import constraints as C
    >>> C.multinomial(3).check(ag.tensor([[1.0, 2.0], [2.0, 2.0]]))
    array([ True, False])
    """

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Any:
        v = _a(value)
        return np.all(v >= 0, axis=-1) & (v.sum(-1) <= self.upper_bound)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value: Any) -> Any:
        v = _a(value)
        lower = np.all(np.triu(v, 1) == 0, axis=(-2, -1))
        return lower & np.all(np.diagonal(v, axis1=-2, axis2=-1) > 0, axis=-1)


class _CorrCholesky(_LowerCholesky):
    """Lower Cholesky factors of correlation matrices (rows of unit norm)."""

    def check(self, value: Any) -> Any:
        v = _a(value)
        return super().check(v) & np.all(np.abs(np.linalg.norm(v, axis=-1) - 1) < 1e-4, axis=-1)


class _Square(Constraint):
    """Square matrices."""

    event_dim = 2

    def check(self, value: Any) -> Any:
        v = _a(value)
        return np.full(v.shape[:-2], v.shape[-1] == v.shape[-2], dtype=bool)


class _Symmetric(_Square):
    """Symmetric matrices."""

    def check(self, value: Any) -> Any:
        v = _a(value)
        return super().check(v) & np.all(np.isclose(v, np.swapaxes(v, -1, -2), atol=1e-6), axis=(-2, -1))


class _PositiveDefinite(_Symmetric):
    """Symmetric positive-definite matrices."""

    def check(self, value: Any) -> Any:
        v = _a(value)
        sym = super().check(v)
        ok = np.linalg.eigvalsh(v).min(-1) > 0 if v.size else np.zeros(v.shape[:-2], bool)
        return sym & ok


class _PositiveSemidefinite(_Symmetric):
    """Symmetric positive-semidefinite matrices."""

    def check(self, value: Any) -> Any:
        v = _a(value)
        return super().check(v) & (np.linalg.eigvalsh(v).min(-1) >= 0)


class _IndependentConstraint(Constraint):
    """``base_constraint`` over the ``reinterpreted_batch_ndims`` rightmost dims together.

    >>> from autograd_core.distributions import constraints as C
    >>> C.independent(C.positive, 1).check(ag.tensor([[1.0, 2.0], [1.0, -1.0]]))
    array([ True, False])
    """

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.is_discrete = base_constraint.is_discrete
        self.event_dim = base_constraint.event_dim + reinterpreted_batch_ndims

    def check(self, value: Any) -> Any:
        r = np.asarray(self.base_constraint.check(value))
        n = self.reinterpreted_batch_ndims
        return np.all(r, axis=tuple(range(-n, 0))) if n and r.ndim >= n else r

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _RealVector(_IndependentConstraint):
    """Real vectors (the last dim)."""

    def __init__(self) -> None:
        super().__init__(_Real(), 1)

    def __repr__(self) -> str:
        return "IndependentConstraint(Real(), 1)"


class _Cat(Constraint):
    """Constraints ``cseq`` applied to consecutive pieces of ``dim`` (of ``lengths``).

    >>> from autograd_core.distributions import constraints as C
    >>> C.cat([C.positive, C.real], 0, [1, 1]).check(ag.tensor([-1.0, -1.0]))
    array([False,  True])
    """

    def __init__(self, cseq: Any, dim: int = 0, lengths: Any = None) -> None:
        self.cseq, self.dim, self.lengths = list(cseq), dim, lengths

    def check(self, value: Any) -> Any:
        v = _a(value)
        lengths = self.lengths or [1] * len(self.cseq)
        parts = np.split(v, np.cumsum(lengths)[:-1], axis=self.dim)
        return np.concatenate([np.asarray(c.check(p)) for c, p in zip(self.cseq, parts)], axis=self.dim)


class _Stack(Constraint):
    """Constraints ``cseq`` applied to the slices of ``dim``.

    >>> from autograd_core.distributions import constraints as C
    >>> C.stack([C.positive, C.real], 0).check(ag.tensor([-1.0, -1.0]))
    array([False,  True])
    """

    def __init__(self, cseq: Any, dim: int = 0) -> None:
        self.cseq, self.dim = list(cseq), dim

    def check(self, value: Any) -> Any:
        v = _a(value)
        parts = [np.take(v, i, axis=self.dim) for i in range(v.shape[self.dim])]
        return np.stack([np.asarray(c.check(p)) for c, p in zip(self.cseq, parts)], axis=self.dim)


dependent = _Dependent()
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = _RealVector()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _UnitInterval()
interval = _Interval
half_open_interval = _HalfOpenInterval
open_interval = _OpenInterval
simplex = _Simplex()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
positive_semidefinite = _PositiveSemidefinite()
independent = _IndependentConstraint
cat = _Cat
stack = _Stack

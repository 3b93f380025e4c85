"""Samplers, as ``torch.utils.data``: they choose the order in which a ``DataLoader`` visits a map-style
data set (``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``, ``WeightedRandomSampler``)
and group the indices into batches (``BatchSampler``).

Random samplers draw from their ``generator`` (an ``ag.Generator``) or, when it is None, from the
global generator, so ``ag.manual_seed(n)`` makes every epoch's order repeatable. ``RandomSampler``
without a generator takes one seed from the global generator per epoch (as PyTorch), so an epoch
consumes the same amount of the global stream whatever the data set's size.
"""
from __future__ import annotations

import itertools
import sys
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from autograd_core.tensor import Generator

_tensor_mod = sys.modules["autograd_core.tensor"]

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


def _rng(generator):
    return (generator if generator is not None else _tensor_mod.default_generator).np


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


class Sampler:
    """Base class: a sampler is an iterable of indices (or of lists of indices, for batch samplers);
    ``__len__`` is optional. ``data_source`` is accepted for PyTorch compatibility and ignored.
    Subclasses define ``__iter__``; pass one to ``DataLoader(sampler=...)``.

    >>> from nn.data import DataLoader, Sampler
    >>> class Reverse(Sampler):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(self.n - 1, -1, -1))
    ...     def __len__(self):
    ...         return self.n
    >>> [b.tolist() for b in DataLoader([10, 11, 12, 13, 14], batch_size=2, sampler=Reverse(5))]
    [[14, 13], [12, 11], [10]]
    """

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Sampler must define __iter__")


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``.

    >>> list(SequentialSampler(range(4)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of ``data_source``'s indices: a fresh permutation each epoch, or, with
    ``replacement=True``, ``num_samples`` independent uniform draws. Without replacement and with
    ``num_samples`` above the data set's length, whole permutations follow each other (the last one cut).

    >>> import autograd_core as ag
    >>> sorted(RandomSampler(range(5), generator=ag.Generator(0)))
    [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not _is_int(self.num_samples) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """How many indices an epoch yields: the ``num_samples`` given, else ``len(data_source)``."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if n == 0:
            raise ValueError("RandomSampler: the data source is empty; there is nothing to sample")
        if self.generator is None:
            seed = int(_rng(None).integers(0, 2**63 - 1))
            rng = np.random.default_rng(seed)
        else:
            rng = self.generator.np
        m = int(self.num_samples)
        if self.replacement:
            for _ in range(m // 32):
                yield from rng.integers(0, n, size=32).tolist()
            yield from rng.integers(0, n, size=m % 32).tolist()
        else:
            for _ in range(m // n):
                yield from rng.permutation(n).tolist()
            if m % n:  # (torch draws this permutation even when it is empty; skipping it changes no order)
                yield from rng.permutation(n).tolist()[:m % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new one each epoch).

    >>> import autograd_core as ag
    >>> sorted(SubsetRandomSampler([7, 3, 9], generator=ag.Generator(1)))
    [3, 7, 9]
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn from ``0 .. len(weights)-1`` with probabilities proportional to
    ``weights`` (which need not add up to 1); with ``replacement=False`` an index is drawn at most once.

    >>> import autograd_core as ag
    >>> set(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 20, generator=ag.Generator(0))) <= {1, 3}
    True
    """

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.array(weights._data if hasattr(weights, "_data") else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator
        self._check()

    def _check(self):
        w = self.weights
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero; got "
                             f"{w.size} weights with min {w.min() if w.size else None}, sum {w.sum()}")
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: can't draw {self.num_samples} samples without replacement "
                             f"from {np.count_nonzero(w)} indices of non-zero weight")

    def __iter__(self):
        self._check()
        p = self.weights / self.weights.sum()
        draws = _rng(self.generator).choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        yield from draws.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the index stream for an ``IterableDataset`` (the data set decides the end)."""

    def __iter__(self):
        while True:
            yield None

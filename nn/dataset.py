"""Data sets, as ``torch.utils.data``: map-style (``Dataset``: ``ds[i]`` and ``len(ds)``) and
iterable-style (``IterableDataset``: ``iter(ds)``), and the ways to combine them: ``TensorDataset``,
``StackDataset``, ``ConcatDataset`` (also ``a + b``), ``ChainDataset``, ``Subset`` and ``random_split``.
"""
from __future__ import annotations

import bisect
import itertools
import math
import sys
import warnings
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from autograd_core.tensor import Generator, Tensor

_tensor_mod = sys.modules["autograd_core.tensor"]

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split"]


class Dataset:
    """A map-style data set: ``ds[i]`` is sample ``i`` and ``len(ds)`` their number. Subclasses define
    ``__getitem__`` (and usually ``__len__``); they may define ``__getitems__(indices)`` returning a
    list of samples, which a ``DataLoader`` then calls once per batch. Any object with ``__getitem__``
    and ``__len__`` works as a data set; this base class adds ``a + b`` (a ``ConcatDataset``).
    (``torch.utils.data.Dataset``.)

    >>> from nn.data import DataLoader, Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 5
    ...     def __getitem__(self, i):
    ...         return i * i
    >>> ds = Squares()
    >>> len(ds), ds[3], len(ds + ds)
    (5, 9, 10)
    >>> [b.tolist() for b in DataLoader(ds, batch_size=2)]
    [[0, 1], [4, 9], [16]]
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``. With ``num_workers > 0`` every worker
    process iterates its own copy; use ``get_worker_info()`` in ``__iter__`` to give each worker its
    share, or every sample arrives ``num_workers`` times (as in PyTorch). ``a + b`` chains two streams.

    >>> from nn.data import DataLoader, IterableDataset
    >>> class Count(IterableDataset):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(self.n))
    >>> [b.tolist() for b in DataLoader(Count(5), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    >>> list(Count(2) + Count(3))
    [0, 1, 0, 1, 2]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of IterableDataset must define __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``ds[i] == (t0[i], t1[i], ...)``. NumPy arrays are wrapped
    as Tensors (sharing memory). All tensors must have the same first dimension.

    >>> import autograd_core as ag
    >>> ds = TensorDataset(ag.arange(6).reshape(3, 2), ag.tensor([0, 1, 0]))
    >>> len(ds), ds[1][0].tolist(), ds[1][1].item()
    (3, [2, 3], 1)
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        ts = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        for i, t in enumerate(ts):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first (sample) dimension")
        sizes = [t.shape[0] for t in ts]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions are {sizes}")
        self.tensors = ts

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor(t._data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _collated_batch(self, indices):
        """What ``default_collate([self[i] for i in indices])`` returns, by one gather per tensor."""
        idx = np.asarray(indices, dtype=np.intp)
        return [_tensor_mod.make(t._data[idx]) for t in self.tensors]


def _has_batched(ds):
    """Whether ``ds`` can build a default-collated batch in one step: a ``TensorDataset`` (or a
    ``Subset`` of one) whose ``__getitem__`` is the stock one."""
    while isinstance(ds, Subset) and type(ds).__getitem__ is Subset.__getitem__:
        ds = ds.dataset
    return isinstance(ds, TensorDataset) and type(ds).__getitem__ is TensorDataset.__getitem__


def _collated_batch(ds, indices):
    while isinstance(ds, Subset):
        ind = ds.indices
        indices = [ind[i] for i in indices]
        ds = ds.dataset
    return ds._collated_batch(indices)


class StackDataset(Dataset):
    """Zip data sets of equal length: ``StackDataset(a, b)[i] == (a[i], b[i])`` and
    ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``.

    >>> from nn.data import StackDataset
    >>> StackDataset(range(3), "abc")[1]
    (1, 'b')
    >>> StackDataset(x=range(3), y="abc")[2]
    {'x': 2, 'y': 'c'}
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("StackDataset: give the data sets either positionally (samples are tuples) or by "
                             "keyword (samples are dicts), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: give at least one data set")
        parts = list(args) if args else list(kwargs.values())
        lengths = [len(d) for d in parts]
        if len(set(lengths)) != 1:
            raise ValueError(f"StackDataset: size mismatch between data sets: lengths are {lengths}")
        self._length = lengths[0]
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """Several map-style data sets one after the other: indices ``0 .. len(a)-1`` are ``a``'s, the next
    ``len(b)`` are ``b``'s, and so on. ``cumulative_sizes[k]`` is the end of data set ``k``.

    >>> ds = ConcatDataset([range(3), range(10, 12)])
    >>> len(ds), ds[3], ds[-1]
    (5, 10, 11)
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; use ChainDataset to chain streams")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: index {idx} is out of range for length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {n}")
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


class ChainDataset(IterableDataset):
    """Several iterable data sets one after the other, chained lazily (``a + b`` of two
    ``IterableDataset`` s makes one). ``len`` is the sum of the parts' lengths, if they have one.

    >>> from nn.data import ChainDataset, IterableDataset
    >>> class Count(IterableDataset):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(self.n))
    >>> list(ChainDataset([Count(2), Count(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[i] == ds[idx[i]]``.

    >>> from nn.data import Subset
    >>> sub = Subset(range(10, 20), [3, 0, 7])
    >>> len(sub), [sub[i] for i in range(len(sub))]
    (3, [13, 10, 17])
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset`` s of the given ``lengths``.

    ``lengths`` are counts that add up to ``len(dataset)``, or fractions that add up to 1: each split
    then gets ``floor(frac * len(dataset))`` samples and the remainder is dealt out one by one from
    the first split on (as PyTorch). The permutation comes from ``generator`` (an ``ag.Generator``;
    default: the global generator, so ``ag.manual_seed`` makes the split repeatable).

    >>> import autograd_core as ag
    >>> a, b = random_split(range(10), [0.7, 0.3], generator=ag.Generator(0))
    >>> len(a), len(b), sorted(list(a) + list(b)) == list(range(10))
    (7, 3, True)
    """
    lengths = list(lengths)
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1 (got {frac})")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; that split is an empty data set",
                              stacklevel=2)
        lengths = counts
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions that add up to 1; "
                             f"got {length!r} at index {i}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n})")
    gen = generator if generator is not None else _tensor_mod.default_generator
    perm = gen.np.permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + length]))
        offset += length  # type: ignore[assignment]  # (ints by now: checked above)
    return out

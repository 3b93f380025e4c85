"""``DataLoader``: batches from a data set, as ``torch.utils.data.DataLoader`` (same arguments, same checks,
same batches). The worker processes behind ``num_workers > 0`` are in ``dataloader_workers``.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import warnings
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from autograd_core.tensor import Generator

from .collate import default_collate, default_convert
from .dataloader_workers import MultiProcessIter, make_fetcher
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _InfiniteConstantSampler

__all__ = ["DataLoader"]


class _SingleProcessIter:
    def __init__(self, loader):
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = make_fetcher(loader._is_iterable, loader.dataset, loader._auto_collation, loader.collate_fn,
                                     loader.drop_last)
        self._length = loader._length_or_none()

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))

    def __len__(self):
        if self._length is None:
            raise TypeError("this DataLoader's data set has no len()")
        return self._length


class DataLoader:
    """Iterate over ``dataset`` in batches (PyTorch's ``DataLoader``: the same arguments and checks).

    Map-style data sets (``ds[i]``, ``len(ds)``) are visited in the order of ``sampler`` (default: in
    order, or a fresh random order per epoch with ``shuffle=True``, drawn from ``generator`` or the
    global generator so ``ag.manual_seed`` makes it repeatable) and grouped by ``batch_size`` (the last
    batch smaller unless ``drop_last``), or by ``batch_sampler``. ``batch_size=None`` turns batching off:
    each sample goes through ``default_convert``. An ``IterableDataset`` is read as a stream.

    A batch is ``collate_fn(list_of_samples)``, by default ``default_collate`` (stacked Tensors; a
    tuple sample becomes a list, as in PyTorch). A ``TensorDataset`` with the default collation is
    batched by one indexing per tensor, with the same result.

    ``num_workers > 0`` loads batches in that many worker processes (``multiprocessing``; the start
    method is ``multiprocessing_context`` or the platform's default) while the main process trains;
    batches come back in the same order and with the same contents as with ``num_workers=0`` (for a
    data set whose samples don't depend on random draws: each worker seeds its own random state).
    ``worker_init_fn(worker_id)`` runs first in each worker and ``get_worker_info()`` tells a data set
    which worker it is in. A worker that fails raises its exception in the main process; one that dies
    raises RuntimeError at once; ``timeout`` (seconds, 0 = none) bounds the wait for one batch;
    ``persistent_workers`` keeps the workers between epochs; ``in_order=False`` hands out batches as they
    are ready. Under 'fork' (Linux's default before Python 3.14) the data set can be anything; under
    'spawn'/'forkserver' (macOS, Windows, Linux from 3.14) it, ``collate_fn`` and ``worker_init_fn`` must
    pickle and be importable in the worker (module level, not under ``if __name__ == "__main__":``).
    A worker must not run parallel Numba kernels after the main process has used them under 'fork'
    (GNU OpenMP can't continue after a fork): give such data sets 'spawn' or 'forkserver'. On a
    machine with few cores, ``num_workers=0`` (the default) is usually fastest for in-memory data.

    ``pin_memory`` and ``pin_memory_device`` are accepted and do nothing (there is no GPU).

    >>> import autograd_core as ag
    >>> from nn.dataset import TensorDataset
    >>> ds = TensorDataset(ag.arange(10).reshape(5, 2), ag.tensor([0, 1, 0, 1, 1]))
    >>> [(x.shape, y.tolist()) for x, y in DataLoader(ds, batch_size=2)]
    [((2, 2), [0, 1]), ((2, 2), [0, 1]), ((1, 2), [1])]
    >>> len(DataLoader(ds, batch_size=2, drop_last=True))
    2
    """

    _frozen_after_init = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
    _mp_context: Any

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable[Any] | None = None,
                 batch_sampler: Sampler | Iterable[Sequence[Any]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        object.__setattr__(self, "_initialized", False)
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError("num_workers option should be a non-negative int; use num_workers=0 to disable "
                             f"multiprocessing (got {num_workers!r})")
        if not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"timeout option should be non-negative (got {timeout!r})")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and (not isinstance(prefetch_factor, (int, np.integer))
                                              or prefetch_factor < 1):
            raise ValueError(f"prefetch_factor option should be a positive int (got {prefetch_factor!r}): it is how "
                             "many batches each worker loads ahead")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(batch_size, np.integer):
            batch_size = int(batch_size)

        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            if not hasattr(dataset, "__getitem__"):
                raise TypeError(f"DataLoader: the dataset must support indexing (a map-style data set) or be an "
                                f"IterableDataset, got {type(dataset).__name__}")
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self._is_iterable = is_iterable
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator: Any = None
        self._initialized = True

    @property
    def multiprocessing_context(self) -> Any:
        """The ``multiprocessing`` context the workers start from (None: the platform's default start
        method). Set it to a context or a start method name ('fork', 'spawn', 'forkserver'); only
        with ``num_workers > 0``."""
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: Any) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={context!r}")
        object.__setattr__(self, "_mp_context", context)

    def __setattr__(self, name, value):
        if self._initialized and name in self._frozen_after_init:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        object.__setattr__(self, name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        _warn_if_too_many_workers(self.num_workers)
        return MultiProcessIter(self)

    def __iter__(self) -> Iterator[Any]:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shut:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)

    def _length_or_none(self):
        try:
            return len(self)
        except TypeError:
            return None


def _warn_if_too_many_workers(n):
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    if n > cpus:
        warnings.warn(f"This DataLoader will create {n} worker processes, more than the {cpus} CPUs this process "
                      "may use; that can make loading slower or freeze the machine. Consider fewer workers.",
                      UserWarning, stacklevel=4)

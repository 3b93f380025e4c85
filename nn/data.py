"""Data loading, as ``torch.utils.data`` (``from torch.utils.data import X`` becomes ``from nn.data import X``),
plus readers for MNIST and CIFAR-10 files already on disk.

* data sets (``nn.dataset``): ``Dataset``, ``IterableDataset``, ``TensorDataset``, ``StackDataset``,
  ``ConcatDataset``, ``ChainDataset``, ``Subset``, ``random_split``;
* samplers (``nn.sampler``): ``Sampler``, ``SequentialSampler``, ``RandomSampler``,
  ``SubsetRandomSampler``, ``WeightedRandomSampler``, ``BatchSampler``;
* batching (``nn.collate``): ``default_collate``, ``default_convert``;
* ``DataLoader`` (``nn.dataloader``) with worker processes (``nn.dataloader_workers``:
  ``get_worker_info``, ``WorkerInfo``);
* file readers (``nn.datasets``): ``load_mnist`` (IDX, raw or gzip; Fashion-MNIST too) and
  ``load_cifar10`` (binary or python version, the latter through ``nn.safe_pickle``). They never
  download, never run code from a file, keep memory within a small multiple of the data a header
  declares, and refuse a bad file with a ValueError that names it.

>>> import autograd_core as ag
>>> ds = TensorDataset(ag.arange(8).reshape(4, 2), ag.tensor([0, 1, 1, 0]))
>>> [y.tolist() for _, y in DataLoader(ds, batch_size=3)]
[[0, 1, 1], [0]]
"""
from __future__ import annotations

from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataloader_workers import WorkerInfo, get_worker_info
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .datasets import load_cifar10, load_mnist
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

import sys as _sys  # noqa: E402

from . import dataloader as _dataloader, dataset as _dataset, sampler as _sampler  # noqa: E402

# torch.utils.data's submodules under their PyTorch names, so that `from nn.data.dataloader import DataLoader`
# (from `torch.utils.data.dataloader`) and `nn.data.sampler.RandomSampler` work as they do in PyTorch
for _name, _mod in (("dataloader", _dataloader), ("dataset", _dataset), ("sampler", _sampler)):
    globals()[_name] = _mod
    _sys.modules.setdefault(f"{__name__}.{_name}", _mod)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset", "Subset",
    "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler", "default_collate", "default_convert", "DataLoader", "get_worker_info", "WorkerInfo",
    "load_mnist", "load_cifar10",
]

"""Batching samples: ``default_collate`` (stack a list of samples) and ``default_convert`` (one sample).

Both follow ``torch.utils.data``'s rules, type by type:

* Tensor -> stacked along a new dim 0 (shapes must agree); NumPy array -> Tensor, then stacked
  (string and object arrays are refused);
* NumPy scalar -> a 1-d Tensor of its dtype; Python ``int``/``bool`` -> int64/bool Tensor (as
  ``ag.tensor``); Python ``float`` -> a **float64** Tensor (as PyTorch, not the default dtype);
* ``str`` and ``bytes`` -> kept as a list;
* Mapping -> the same kind of mapping with each value collated; namedtuple -> the same namedtuple;
  tuple -> a **list** of collated fields (as PyTorch); other sequences -> the same type when it can
  be built from a list, else a list. Every sample must have the same length.

Stacking copies the values out of the samples, so a batch never aliases the data set, and a batch
is not on the tape (batches are inputs, not results).
"""
from __future__ import annotations

import collections.abc
import copy
import re
import sys
from typing import Any, Sequence

import numpy as np

from autograd_core.tensor import Tensor

_tensor_mod = sys.modules["autograd_core.tensor"]  # the module (``ag.tensor`` is the function)

__all__ = ["default_collate", "default_convert"]

_STR_OBJ_DTYPE = re.compile(r"[SaUO]")
_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _tensor(arr):
    return Tensor(arr)  # checks the dtype (refuses complex and other kinds Tensors don't hold)


def _stack_tensors(batch):
    first = batch[0]._data.shape
    for i, b in enumerate(batch):
        if not isinstance(b, Tensor):
            raise TypeError(f"default_collate: entry 0 of the batch is a Tensor but entry {i} is a "
                            f"{type(b).__name__}")
        if b._data.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                               f"{list(b._data.shape)} at entry {i}")
    return _tensor(np.stack([b._data for b in batch]))


def _is_numpy_value(x):
    t = type(x)
    return t.__module__ == "numpy" and t.__name__ not in ("str_", "string_", "bytes_")


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into one batch (dim 0 indexes the samples), recursing into containers.

    The rules are ``torch.utils.data.default_collate``'s; see the module docstring.

    >>> import numpy as np
    >>> b = default_collate([(np.array([1., 2.], np.float32), 3), (np.array([4., 5.], np.float32), 6)])
    >>> b[0].shape, b[0].dtype, b[1].tolist()
    ((2, 2), dtype('float32'), [3, 6])
    >>> default_collate([{"x": 0.5, "name": "a"}, {"x": 1.5, "name": "b"}])["x"].dtype
    dtype('float64')
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: expected a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty; a batch needs at least one sample")
    elem = batch[0]
    clone: Any  # a copy of a mapping or of a sequence, as the sample is
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if _STR_OBJ_DTYPE.search(elem.dtype.str) is not None:
            raise TypeError(_ERR.format(elem.dtype))
        return _stack_tensors([Tensor(np.asarray(b)) if not isinstance(b, Tensor) else b for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return _tensor(np.array(batch))
    if isinstance(elem, float):
        return _tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):  # bool too: [True, False] -> a bool tensor, as torch.tensor
        return _tensor_mod.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(collated)
                return clone
            return type(elem)(collated)  # type: ignore[call-arg]  # a concrete mapping type
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch does
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, f in enumerate(fields):
                    clone[i] = f
                return clone
            return type(elem)(fields)  # type: ignore[call-arg]  # a concrete sequence type
        except TypeError:
            return fields
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Convert one sample without batching: NumPy arrays and scalars become Tensors, containers are
    converted recursively (tuples become lists), everything else is returned unchanged. The collate
    function of a ``DataLoader`` with ``batch_size=None`` (PyTorch's ``default_convert``).

    >>> default_convert({"a": np.arange(3)})["a"].tolist()
    [0, 1, 2]
    >>> default_convert(3)
    3
    """
    clone: Any  # a copy of a mapping or of a sequence, as the sample is
    converted: Any
    if isinstance(data, Tensor):
        return data
    if _is_numpy_value(data):
        if isinstance(data, np.ndarray) and _STR_OBJ_DTYPE.search(data.dtype.str) is not None:
            return data
        return _tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(converted)
                return clone
            return type(data)(converted)  # type: ignore[call-arg]  # a concrete container type
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(d) for d in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(converted):
                    clone[i] = d
                return clone
            return type(data)(converted)  # type: ignore[call-arg]  # a concrete container type
        except TypeError:
            return converted
    return data

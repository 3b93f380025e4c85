"""Data sets and loaders: ``TensorDataset``, ``DataLoader``, and readers for MNIST and CIFAR-10 files.

The readers never download. ``load_mnist`` reads IDX files (MNIST and Fashion-MNIST, raw or
gzip); ``load_cifar10`` reads the binary version, or the python version through a restricted
unpickler that only rebuilds dicts, lists, strings, bytes and numpy arrays, so a file can't run
code. Both return numpy arrays: images as float32 in [0, 1], NCHW, and labels as int64.
A file with a bad magic number, a wrong size or a truncated body raises ValueError naming it.
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import sys
import zlib

import numpy as np

from autograd_core.tensor import Tensor

_tensor_mod = sys.modules["autograd_core.tensor"]  # the module itself (ag.tensor is the function)

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate", "load_mnist", "load_cifar10"]


class Dataset:
    """Anything with ``__getitem__(i)`` and ``__len__`` is a data set; this base class is optional."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``ds[i] == (t0[i], t1[i], ...)``. Arrays are wrapped as Tensors
    (sharing memory). All tensors must have the same first dimension."""

    def __init__(self, *tensors):
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

    def __getitem__(self, index):
        return tuple(Tensor(t._data[index]) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


def default_collate(batch):
    """Stack a list of samples into a batch: tuples of tensors/arrays/numbers become tuples of stacked Tensors
    (dim 0 is the batch), dicts become dicts of stacked Tensors."""
    first = batch[0]
    if isinstance(first, Tensor):
        return Tensor(np.stack([b._data for b in batch]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(first, bool):
        return Tensor(np.array(batch, np.bool_))
    if isinstance(first, int):
        return Tensor(np.array(batch, np.int64))
    if isinstance(first, float):
        return Tensor(np.array(batch, _tensor_mod.get_default_dtype()))
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        n = len(first)
        if any(len(b) != n for b in batch):
            raise ValueError("default_collate: samples in a batch have different numbers of fields")
        return tuple(default_collate([b[i] for b in batch]) for i in range(n))
    raise TypeError(f"default_collate: don't know how to batch samples of type {type(first).__name__}; "
                    "pass collate_fn=")


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (the last one smaller unless ``drop_last``).

    ``shuffle=True`` draws a new order every epoch from ``generator`` (default: the global generator,
    so ``manual_seed(n)`` makes the order reproducible). A ``TensorDataset`` is batched by indexing its
    arrays directly; other data sets go sample by sample through ``collate_fn`` (default: stacking)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, collate_fn=None):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: the dataset must support len() and indexing, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        gen = self.generator if self.generator is not None else _tensor_mod.default_generator
        return gen.np.permutation(n)

    def __iter__(self):
        order = self._order()
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for start in range(0, stop, bs):
            idx = order[start:start + bs]
            if fast:
                if not self.shuffle:
                    idx = slice(start, min(start + bs, n))  # a contiguous slice: no gather needed
                    yield tuple(Tensor(t._data[idx].copy()) for t in self.dataset.tensors)
                else:
                    yield tuple(Tensor(t._data[idx]) for t in self.dataset.tensors)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])


# -- file readers -------------------------------------------------------------------------------
def _read_bytes(path):
    """The file's contents, gunzipped if it is gzip (by content, not by name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise ValueError(f"{path}: corrupted or truncated gzip file ({e})") from None
    return raw


def _first_existing(directory, names):
    for n in names:
        p = os.path.join(directory, n)
        if os.path.isfile(p):
            return p
    return None


def _read_idx(path, magic, ndim):
    """An IDX file of unsigned bytes with ``ndim`` dims (magic 2051: images, 2049: labels)."""
    buf = _read_bytes(path)
    header = 4 + 4 * ndim
    if len(buf) < 4:
        raise ValueError(f"{path}: truncated IDX file: {len(buf)} bytes, too short for a header")
    got = int.from_bytes(buf[:4], "big")
    if got != magic:
        kind = {2051: "an image file", 2049: "a label file"}.get(magic, "an IDX file")
        raise ValueError(f"{path}: bad magic number {got} (0x{got:08x}); expected {magic} for {kind}")
    if len(buf) < header:
        raise ValueError(f"{path}: truncated IDX header: {len(buf)} bytes, expected at least {header}")
    dims = tuple(int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    need = header + int(np.prod(dims, dtype=np.int64))
    if len(buf) < need:
        raise ValueError(f"{path}: truncated: the header announces dims {dims} ({need} bytes with the header) "
                         f"but the file has {len(buf)} bytes")
    if len(buf) > need:
        raise ValueError(f"{path}: wrong size: the header announces dims {dims} ({need} bytes with the header) "
                         f"but the file has {len(buf)} bytes")
    return np.frombuffer(buf, np.uint8, offset=header).reshape(dims)


def load_mnist(root, train=True, kind=None):
    """Read MNIST or Fashion-MNIST from IDX files in ``root`` (never downloads).

    Files: ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``train=True``) or ``t10k-...``,
    raw or with ``.gz`` (``kind='train'`` or ``'t10k'``/``'test'`` overrides ``train``). Returns
    ``(images, labels)``: numpy float32 (N, 1, rows, cols) scaled to [0, 1], and int64 (N,)."""
    if kind is None:
        prefix = "train" if train else "t10k"
    elif kind in ("train", "t10k", "test"):
        prefix = "t10k" if kind in ("t10k", "test") else "train"
    else:
        raise ValueError(f"load_mnist: kind must be 'train', 't10k' or 'test', got {kind!r}")
    root = os.fspath(root)
    found = {}
    for part, idx in (("images", "idx3"), ("labels", "idx1")):
        names = [f"{prefix}-{part}-{idx}-ubyte{ext}" for ext in ("", ".gz")] + \
                [f"{prefix}-{part}.{idx}-ubyte{ext}" for ext in ("", ".gz")]
        p = _first_existing(root, names)
        if p is None:
            raise FileNotFoundError(f"load_mnist: no {prefix} {part} file in {root!r} (looked for {names[0]} "
                                    f"and {names[1]})")
        found[part] = p
    images = _read_idx(found["images"], 2051, 3)
    labels = _read_idx(found["labels"], 2049, 1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"load_mnist: {found['images']} has {images.shape[0]} images but {found['labels']} has "
                         f"{labels.shape[0]} labels")
    x = images.astype(np.float32)[:, None]
    x /= np.float32(255)
    return x, labels.astype(np.int64)


# -- CIFAR-10 -----------------------------------------------------------------------------------
_CIFAR_RECORD = 1 + 3 * 32 * 32


def _allowed_globals():
    from numpy._core import multiarray as _ma  # numpy 2
    try:
        from numpy._core.numeric import _frombuffer
    except ImportError:  # pragma: no cover - older numpy layout
        _frombuffer = None

    def latin1_encode(obj, encoding="latin1"):
        # how protocol-2 pickles written by Python 3 carry bytes: _codecs.encode(str, 'latin1')
        if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
            raise pickle.UnpicklingError("_codecs.encode is only allowed for latin1 text")
        return obj.encode("latin1")

    allowed = {
        ("numpy.core.multiarray", "_reconstruct"): _ma._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _ma._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): latin1_encode,
        ("codecs", "encode"): latin1_encode,
    }
    if _frombuffer is not None:
        allowed[("numpy.core.numeric", "_frombuffer")] = _frombuffer
        allowed[("numpy._core.numeric", "_frombuffer")] = _frombuffer
    for mod in ("builtins", "__builtin__"):
        for n, obj in (("dict", dict), ("list", list), ("tuple", tuple), ("bytes", bytes), ("bytearray", bytearray),
                       ("str", str), ("unicode", str), ("int", int), ("float", float)):
            allowed[(mod, n)] = obj
    return allowed


class _RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds only what the CIFAR-10 python batches contain: dicts, lists, strings, bytes, numbers and
    numpy arrays. Any other global (a function that could run code) raises UnpicklingError."""

    _allowed = None

    def __init__(self, file, path):
        super().__init__(file, encoding="bytes")
        self.path = path
        if _RestrictedUnpickler._allowed is None:
            _RestrictedUnpickler._allowed = _allowed_globals()

    def find_class(self, module, name):
        obj = self._allowed.get((module, name))
        if obj is None:
            raise pickle.UnpicklingError(f"{self.path}: refers to {module}.{name}, which a CIFAR-10 python batch "
                                         "never contains; refusing to load it")
        return obj

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"{self.path}: persistent ids are not allowed")


def _key(d, name):
    for k in (name, name.encode()):
        if k in d:
            return d[k]
    return None


def _read_cifar_py(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        obj = _RestrictedUnpickler(io.BytesIO(raw), path).load()
    except pickle.UnpicklingError as e:
        msg = str(e)
        raise ValueError(msg if msg.startswith(str(path)) else f"{path}: not a valid CIFAR-10 python batch "
                         f"({msg})") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as e:
        raise ValueError(f"{path}: truncated or corrupted CIFAR-10 python batch ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a CIFAR-10 python batch: expected a dict, got {type(obj).__name__}")
    data, labels = _key(obj, "data"), _key(obj, "labels")
    if data is None or labels is None:
        raise ValueError(f"{path}: not a CIFAR-10 python batch: it has no 'data' and 'labels' entries")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: wrong data: expected a uint8 array of shape (N, 3072), got "
                         f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0] or labels.dtype.kind not in "iu":
        raise ValueError(f"{path}: wrong size: {data.shape[0]} images but labels of shape {labels.shape}")
    return data, labels


def _read_cifar_bin(path):
    buf = _read_bytes(path)
    if len(buf) == 0 or len(buf) % _CIFAR_RECORD:
        raise ValueError(f"{path}: wrong size or truncated: {len(buf)} bytes is not a whole number of "
                         f"{_CIFAR_RECORD}-byte records (1 label byte + 3072 pixel bytes)")
    rec = np.frombuffer(buf, np.uint8).reshape(-1, _CIFAR_RECORD)
    return rec[:, 1:], rec[:, 0]


def load_cifar10(root, train=True):
    """Read CIFAR-10 from ``root`` (never downloads): the binary version (``data_batch_1.bin`` ...
    ``data_batch_5.bin``, ``test_batch.bin``) in ``root/cifar-10-batches-bin/`` or ``root`` itself, else
    the python version (``data_batch_1`` ... ``test_batch``) in ``root/cifar-10-batches-py/`` or ``root``.

    Returns ``(images, labels)``: numpy float32 (N, 3, 32, 32) scaled to [0, 1], and int64 (N,) in 0..9."""
    root = os.fspath(root)
    stems = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    candidates = [(os.path.join(root, "cifar-10-batches-bin"), ".bin", _read_cifar_bin),
                  (root, ".bin", _read_cifar_bin),
                  (os.path.join(root, "cifar-10-batches-py"), "", _read_cifar_py),
                  (root, "", _read_cifar_py)]
    for directory, ext, reader in candidates:
        paths = [os.path.join(directory, s + ext) for s in stems]
        present = [p for p in paths if os.path.isfile(p)]
        if not present:
            continue
        if len(present) != len(paths):
            missing = [os.path.basename(p) for p in paths if p not in present]
            raise FileNotFoundError(f"load_cifar10: {directory!r} has some CIFAR-10 batches but not {missing}")
        xs, ys = [], []
        for p in paths:
            x, y = reader(p)
            if y.size and int(y.max()) > 9:
                raise ValueError(f"{p}: label {int(y.max())} is out of range 0..9 (not a CIFAR-10 file?)")
            xs.append(x)
            ys.append(y)
        data = np.concatenate(xs)
        images = data.reshape(-1, 3, 32, 32).astype(np.float32)
        images /= np.float32(255)
        return images, np.concatenate(ys).astype(np.int64)
    raise FileNotFoundError(f"load_cifar10: no CIFAR-10 {'training' if train else 'test'} batches in {root!r} "
                            f"(looked for {stems[0]}.bin and {stems[0]} there and in cifar-10-batches-bin/ and "
                            "cifar-10-batches-py/)")

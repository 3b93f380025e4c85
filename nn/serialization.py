"""``nn.save`` / ``nn.load``: checkpoints as ``.npz`` files with a JSON structure entry, never pickle.

The file is an ordinary ``.npz`` (a zip of ``.npy`` arrays) holding one array per tensor
(``a0``, ``a1``, ...) and ``__structure__``, the UTF-8 bytes of a JSON document that
describes the object: nested dicts (str or int keys, order kept), lists, tuples, arrays,
Tensors, Python ints/floats (floats stored as exact hex), bools, strings and None. So
model state dicts and optimizer state dicts in PyTorch's format
(``{'state': {0: {...}}, 'param_groups': [...]}``) round-trip exactly.

Loading uses ``np.load(allow_pickle=False)``; object arrays are refused when saving.
Writes are atomic: a temporary file in the same directory is written, flushed, fsynced and
renamed over the target, so an interrupted save leaves the previous file intact.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from autograd_core.tensor import Tensor

from .module import Parameter

__all__ = ["save", "load"]

_FORMAT = "autograd_core.nn.save"
_VERSION = 1
_META = "__structure__"


class _Encoder:
    def __init__(self):
        self.arrays = {}

    def _array(self, a, where):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"nn.save: the array at {where} has dtype {a.dtype}; only bool, integer and float "
                            "arrays can be saved (no object arrays: the format never uses pickle)")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return key

    def encode(self, obj, where="obj"):
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": obj}
        if isinstance(obj, float):
            return {"t": "float", "v": obj.hex()}
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, Tensor):
            kind = "parameter" if isinstance(obj, Parameter) else "tensor"
            return {"t": kind, "k": self._array(np.asarray(obj._data), where), "rg": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"t": "array", "k": self._array(obj, where)}
        if isinstance(obj, np.generic):
            return {"t": "scalar", "k": self._array(np.asarray(obj), where)}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if isinstance(k, bool) or not isinstance(k, (str, int)):
                    raise TypeError(f"nn.save: dict keys must be str or int, got {type(k).__name__} key {k!r} "
                                    f"at {where}")
                items.append([k, self.encode(v, f"{where}[{k!r}]")])
            return {"t": "dict", "v": items}
        if isinstance(obj, (list, tuple)):
            return {"t": "list" if isinstance(obj, list) else "tuple",
                    "v": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(f"nn.save: can't save a {type(obj).__name__} at {where}; supported are dicts, lists, "
                        "tuples, Tensors, numpy arrays and scalars, int, float, bool, str and None")


def save(obj, path):
    """Save ``obj`` (a state dict, an optimizer state dict, or any nest of the supported types) to ``path``.

    ``path`` is used as given (no ``.npz`` is appended). The write is atomic: the old file, if any,
    stays intact until the new one is complete on disk. A writable binary file object is also
    accepted (then nothing is atomic)."""
    enc = _Encoder()
    structure = enc.encode(obj)
    doc = json.dumps({"format": _FORMAT, "version": _VERSION, "root": structure}, allow_nan=False)
    arrays = dict(enc.arrays)
    arrays[_META] = np.frombuffer(doc.encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **arrays)
        return
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory):
    # make the rename itself durable; not every platform can open a directory
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


class _Decoder:
    def __init__(self, arrays, name):
        self.arrays = arrays
        self.name = name
        self.used = set()

    def bad(self, why):
        return ValueError(f"nn.load: {self.name} is not a valid checkpoint: {why}")

    def _array(self, node):
        k = node.get("k")
        if k not in self.arrays:
            raise self.bad(f"the structure refers to array {k!r}, which the file does not contain")
        self.used.add(k)
        return self.arrays[k]

    def decode(self, node):
        if not isinstance(node, dict) or "t" not in node:
            raise self.bad(f"malformed structure entry {str(node)[:80]!r}")
        t = node["t"]
        v = node.get("v")
        if t == "none":
            return None
        if t == "bool" and isinstance(v, bool):
            return v
        if t == "int" and isinstance(v, int) and not isinstance(v, bool):
            return v
        if t == "float" and isinstance(v, str):
            try:
                return float.fromhex(v)
            except ValueError:
                raise self.bad(f"bad float {v!r}") from None
        if t == "str" and isinstance(v, str):
            return v
        if t in ("tensor", "parameter"):
            a = self._array(node)
            cls = Parameter if t == "parameter" else Tensor
            out = cls(a, requires_grad=bool(node.get("rg", t == "parameter")))
            return out
        if t == "array":
            return self._array(node)
        if t == "scalar":
            a = self._array(node)
            if a.ndim != 0:
                raise self.bad("a scalar entry holds a non-scalar array")
            return a[()]
        if t == "dict" and isinstance(v, list):
            out = {}
            for item in v:
                if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))
                        and not isinstance(item[0], bool)):
                    raise self.bad(f"malformed dict item {str(item)[:80]!r}")
                out[item[0]] = self.decode(item[1])
            return out
        if t in ("list", "tuple") and isinstance(v, list):
            items = [self.decode(x) for x in v]
            return items if t == "list" else tuple(items)
        raise self.bad(f"unknown or malformed entry of type {t!r}")


def load(path):
    """Load what ``save`` wrote. Dicts come back as dicts (an OrderedDict state dict as a plain dict, in the
    same order), tuples as tuples, numpy arrays as arrays, Tensors as Tensors and Parameters as Parameters
    (with their ``requires_grad``), numpy scalars as numpy scalars, and Python values as themselves.

    A missing file raises FileNotFoundError; a truncated, corrupted or foreign file raises a ValueError that
    names it. Nothing is executed: arrays are read with ``allow_pickle=False``."""
    name = repr(getattr(path, "name", None) or "<file object>") if hasattr(path, "read") else repr(os.fspath(path))
    if not hasattr(path, "read") and not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file: {name}")
    try:
        if hasattr(path, "read"):
            pos = path.tell()
            head = path.read(4)
            path.seek(pos)
        else:
            with open(path, "rb") as f:
                head = f.read(4)
        if head[:2] != b"PK":
            raise ValueError("it is not an .npz (zip) archive" + (" (the file is empty)" if not head else ""))
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("it is a single .npy array, not an nn.save .npz archive")
        with npz:
            files = list(npz.files)
            if _META not in files:
                raise ValueError(f"it has no {_META!r} entry (an .npz file not written by nn.save?)")
            arrays = {k: npz[k] for k in files}  # reads (and CRC-checks) every member now
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError) as e:
        msg = str(e) or type(e).__name__
        if isinstance(e, ValueError) and msg.startswith("it "):
            raise ValueError(f"nn.load: {name} is not a valid checkpoint: {msg}") from None
        raise ValueError(f"nn.load: {name} is not a valid checkpoint (truncated, corrupted or not an nn.save "
                         f"file): {type(e).__name__}: {msg}") from None
    meta = arrays.pop(_META)
    dec = _Decoder(arrays, name)
    if meta.dtype != np.uint8 or meta.ndim != 1:
        raise dec.bad(f"the {_META!r} entry is not a byte string")
    try:
        doc = json.loads(meta.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise dec.bad(f"its structure entry is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT or "root" not in doc:
        raise dec.bad("its structure entry is not in the nn.save format")
    if not isinstance(doc.get("version"), int) or doc["version"] > _VERSION:
        raise dec.bad(f"it was written by a newer format version {doc.get('version')!r} (this reads {_VERSION})")
    return dec.decode(doc["root"])


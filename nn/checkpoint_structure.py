"""The JSON key map that ``nn.save`` stores beside the tensors, and the checks every reader applies.

The key map describes the saved object: nested dicts (str or int keys, order kept), lists, tuples,
Tensors, Parameters, numpy arrays and scalars, Python ints, floats (stored as exact hex), bools,
strings and None. Each tensor leaf names its array (``"k"``): ``a0, a1, ...`` in the npz format and
the dotted path (``"model.0.weight"``) in the safetensors format, where the key map goes into the
header's metadata. Both formats share this code, so they round-trip the same objects.

Readers raise ``Refused`` (a ValueError) with the reason; ``nn.load`` adds the file's name.
"""
from __future__ import annotations

import json
import reprlib

import numpy as np

from autograd_core.tensor import Tensor

from .module import Parameter

FORMAT = "autograd_core.nn.save"
VERSION = 1

MAX_DEPTH = 100  # nesting of dicts, lists and tuples; a state dict uses 2 to 4 levels
MAX_INT_DIGITS = 1000  # Python ints in a key map (2**80 has 25 digits)
MAX_DIMS = 64  # numpy's own limit on array dimensions
MAX_STRUCTURE_BYTES = 100_000_000  # same bound as safetensors' header, which holds the key map
MAX_DIM = 2 ** 63 - 1  # PyTorch's sizes and strides are int64

# float16/32/64, the integers and bool: what every format here stores natively
_FLOAT_SIZES = (2, 4, 8)


class Refused(ValueError):
    """A file that ``nn.load`` does not read; the message says why (``nn.load`` adds the name)."""


class _BriefRepr(reprlib.Repr):
    def repr_int(self, x, level):
        # repr() of an int of more than 4300 digits raises ValueError
        return f"<int of {x.bit_length()} bits>" if x.bit_length() > 256 else repr(x)


_brief = _BriefRepr()
_brief.maxlevel, _brief.maxstring, _brief.maxother = 3, 60, 60


def brief(x, limit=80):
    """A repr of a value read from a file, for an error message, in time and space bounded by ``limit``:
    ``str()`` of a pickle's tuple that holds one tuple many times over (through the memo) is
    exponential in the pickle's size.

    >>> brief(("storage",) * 1000, 30)
    "('storage', 'storage', 'st...)"
    """
    text = _brief.repr(x)
    return text if len(text) <= limit else text[:limit - 4] + "...)"


def native_dtype(dtype, what):
    """``dtype`` in native byte order if it is bool, an integer or float16/32/64; else ``Refused``."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu" or (dtype.kind == "f" and dtype.itemsize in _FLOAT_SIZES):
        if dtype.fields is None and dtype.subdtype is None:
            return dtype.newbyteorder("=")
    raise Refused(f"{what} has dtype {dtype}; only bool, integer and float16/32/64 tensors are read")


def check_shape(shape, what):
    """``shape`` as a tuple of non-negative ints below 2**63 (at most 64 of them), or ``Refused``."""
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_DIMS:
        raise Refused(f"{what} has a malformed shape {brief(shape)}")
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0 or s > MAX_DIM:
            raise Refused(f"{what} has a malformed shape {brief(shape)}")
    return tuple(shape)


def element_count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def make_tensor(arr, requires_grad, parameter, what):
    """A Tensor (or Parameter) on ``arr``; an integer tensor marked ``requires_grad`` is refused."""
    if requires_grad and arr.dtype.kind != "f":
        raise Refused(f"{what} is a {arr.dtype} tensor marked requires_grad; only floating tensors can "
                      "require gradients")
    return (Parameter if parameter else Tensor)(arr, requires_grad=bool(requires_grad))


# -- writing -------------------------------------------------------------------------------------
class Encoder:
    """Turns an object into the key map plus ``arrays`` (name -> ndarray).

    ``dotted=False`` names the arrays ``a0, a1, ...`` (npz); ``dotted=True`` names each by its path
    in the object (``"optim.state.0.exp_avg"``), with ``#1``, ``#2`` appended if two paths collide.
    """

    def __init__(self, dotted=False):
        self.arrays = {}
        self.dotted = dotted

    def _array(self, a, where, path):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"nn.save: the array at {where} has dtype {a.dtype}; only bool, integer and float "
                            "arrays can be saved (no object arrays: the format never uses pickle)")
        if a.dtype.kind == "f" and a.dtype.itemsize not in _FLOAT_SIZES:
            raise TypeError(f"nn.save: the array at {where} has dtype {a.dtype}; floats are saved as float16, "
                            "float32 or float64 (cast it first)")
        if self.dotted:
            key = ".".join(str(p) for p in path) or "tensor"
            base, n = key, 0
            while key in self.arrays:
                n += 1
                key = f"{base}#{n}"
        else:
            key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return key

    def encode(self, obj, where="obj", path=()):
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, np.generic):   # before int/float: np.float64 is a float subclass
            return {"t": "scalar", "k": self._array(np.asarray(obj), where, path)}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            if obj.bit_length() > 3 * MAX_INT_DIGITS:
                raise ValueError(f"nn.save: the int at {where} has {obj.bit_length()} bits; ints of up to "
                                 f"{3 * MAX_INT_DIGITS} bits are saved (store a big number as an array or str)")
            return {"t": "int", "v": obj}
        if isinstance(obj, float):
            return {"t": "float", "v": obj.hex()}
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, Tensor):
            kind = "parameter" if isinstance(obj, Parameter) else "tensor"
            return {"t": kind, "k": self._array(np.asarray(obj._data), where, path),
                    "rg": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"t": "array", "k": self._array(obj, where, path)}
        if len(path) >= MAX_DEPTH:
            raise ValueError(f"nn.save: {where} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if isinstance(k, bool) or not isinstance(k, (str, int)):
                    raise TypeError(f"nn.save: dict keys must be str or int, got {type(k).__name__} key {k!r} "
                                    f"at {where}")
                items.append([k, self.encode(v, f"{where}[{k!r}]", path + (k,))])
            return {"t": "dict", "v": items}
        if isinstance(obj, (list, tuple)):
            return {"t": "list" if isinstance(obj, list) else "tuple",
                    "v": [self.encode(v, f"{where}[{i}]", path + (i,)) for i, v in enumerate(obj)]}
        hint = ""
        if callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None)):
            # a Module, an optimizer or a scheduler: the object itself would need a pickle, which we never
            # write (PyTorch 2.6+ also refuses to load a whole pickled module by default)
            name = type(obj).__name__
            hint = (f". Save its state instead: nn.save(m.state_dict(), path), then build the {name} again and "
                    f"call its .load_state_dict(nn.load(path))" if where == "obj" else
                    f". Save its state instead: put its .state_dict() at {where} (obj: what you save), and after "
                    f"nn.load pass that entry to .load_state_dict() of a {name} built again")
        raise TypeError(f"nn.save: can't save a {type(obj).__name__} at {where}; supported are dicts, lists, "
                        f"tuples, Tensors, numpy arrays and scalars, int, float, bool, str and None{hint}")


def encode(obj, dotted=False):
    """``(key map as UTF-8 JSON bytes, arrays)`` for ``obj``."""
    enc = Encoder(dotted)
    root = enc.encode(obj)
    doc = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, allow_nan=False, ensure_ascii=False)
    return doc.encode("utf-8"), enc.arrays


# -- reading -------------------------------------------------------------------------------------
def _bounded_int(text):
    if len(text) > MAX_INT_DIGITS + 1:
        raise Refused(f"it holds an integer of {len(text)} digits (at most {MAX_INT_DIGITS} are read)")
    return int(text)


def _no_constants(text):
    raise Refused(f"its JSON holds the non-standard constant {text}")


def parse_json(data, what):
    """JSON bytes -> object, with ints and nesting bounded; every failure is ``Refused``."""
    if len(data) > MAX_STRUCTURE_BYTES:
        raise Refused(f"{what} is {len(data)} bytes (at most {MAX_STRUCTURE_BYTES} are read)")
    try:
        text = bytes(data).decode("utf-8")
        return json.loads(text, parse_int=_bounded_int, parse_constant=_no_constants)
    except Refused:
        raise
    except RecursionError:
        raise Refused(f"{what} is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused(f"{what} is not valid JSON ({str(e)[:200]})") from None


class Decoder:
    """Rebuilds the object from a key map; ``fetch(key, what)`` returns the named array (each key is
    fetched once: two leaves naming one array share it)."""

    def __init__(self, fetch):
        self._fetch = fetch
        self._cache = {}

    def _array(self, node):
        k = node.get("k")
        if not isinstance(k, str):
            raise Refused(f"a tensor entry names no array ({str(node)[:80]})")
        if k not in self._cache:
            self._cache[k] = self._fetch(k, f"array {k!r}")
        return self._cache[k]

    def decode(self, node, depth=0):
        if not isinstance(node, dict) or "t" not in node:
            raise Refused(f"malformed structure entry {str(node)[:80]!r}")
        t = node["t"]
        v = node.get("v")
        if t == "none":
            return None
        if t == "bool" and isinstance(v, bool):
            return v
        if t == "int" and isinstance(v, int) and not isinstance(v, bool):
            return v
        if t == "float" and isinstance(v, str) and len(v) < 64:
            try:
                return float.fromhex(v)
            except ValueError:
                raise Refused(f"bad float {v!r}") from None
        if t == "str" and isinstance(v, str):
            return v
        if t in ("tensor", "parameter"):
            a = self._array(node)
            rg = node.get("rg", t == "parameter")
            if not isinstance(rg, bool):
                raise Refused(f"a tensor entry has a non-bool requires_grad {str(rg)[:40]!r}")
            return make_tensor(a, rg, t == "parameter", f"the tensor in array {node['k']!r}")
        if t == "array":
            return self._array(node)
        if t == "scalar":
            a = self._array(node)
            if a.ndim != 0:
                raise Refused("a scalar entry holds a non-scalar array")
            return a[()]
        if t in ("dict", "list", "tuple") and isinstance(v, list):
            if depth >= MAX_DEPTH:
                raise Refused(f"its structure is nested more than {MAX_DEPTH} levels deep")
            if t == "dict":
                out = {}
                for item in v:
                    if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))
                            and not isinstance(item[0], bool)):
                        raise Refused(f"malformed dict item {str(item)[:80]!r}")
                    out[item[0]] = self.decode(item[1], depth + 1)
                return out
            items = [self.decode(x, depth + 1) for x in v]
            return items if t == "list" else tuple(items)
        raise Refused(f"unknown or malformed entry of type {str(t)[:40]!r}")


def decode(doc_bytes, fetch, what="its structure entry"):
    """The object that ``encode`` described, arrays coming from ``fetch(key, what)``."""
    doc = parse_json(doc_bytes, what)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "root" not in doc:
        raise Refused(f"{what} is not in the nn.save format")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version > VERSION:
        raise Refused(f"it was written by a newer format version {str(version)[:20]!r} (this reads {VERSION})")
    return Decoder(fetch).decode(doc["root"])

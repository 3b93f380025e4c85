"""The safetensors format: an 8-byte little-endian header length, a JSON header (each tensor's dtype,
shape and byte range, plus a ``__metadata__`` map of str to str), then the tensors' bytes.

Writing goes through the ``safetensors`` package (its NumPy API). Tensors are stored under their
dotted path in the saved object (``"0.weight"`` for a state dict, ``"model.0.weight"`` inside a dict
of state dicts), so ``safetensors.torch.load_file`` gives PyTorch a state dict it can load. The
key map that rebuilds the exact nested object (non-tensor entries such as an optimizer's step
count and hyper-parameters included) is the metadata entry ``__structure__``; ``"format": "pt"``
says the tensors are in PyTorch's layout, as ``safetensors.torch`` and Hugging Face expect.

Reading is done here rather than through the package, because its NumPy API can't return
bfloat16 and needs a path: the header is checked as the package checks it (size at most 100 MB,
a JSON object, byte ranges that tile the data exactly with sizes matching dtype and shape,
no duplicate names), so nothing is allocated beyond what the file really holds. Dtypes read:
F64, F32, F16, BF16 (widened to float32: NumPy has no bfloat16, and the widening is exact),
I64, I32, I16, I8, U64, U32, U16, U8 and BOOL. A file without ``__structure__`` (written by
``safetensors.torch.save_file`` or ``safetensors.numpy.save_file``) loads as a dict of name ->
Tensor in the order of the file's data.
"""
from __future__ import annotations

import json
import struct

import numpy as np

from autograd_core.tensor import Tensor

from . import checkpoint_structure as cs
from .checkpoint_structure import Refused
from .checkpoint_zip import read_fully

META = "__structure__"
MAX_HEADER = 100_000_000  # the safetensors package's own bound

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("u1"),
}


def _import_package():
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - it is a dependency
        raise ImportError("nn.save: writing .safetensors needs the 'safetensors' package (pip install "
                          "safetensors), or save with format='npz'") from None
    return safetensors.numpy


def _tensors_and_metadata(obj):
    doc, arrays = cs.encode(obj, dotted=True)
    tensors = {}
    for k, a in arrays.items():
        if a.dtype.byteorder == ">" or not a.flags.c_contiguous:
            a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        tensors[k] = a
    return tensors, {"format": "pt", META: doc.decode("utf-8")}


def write_path(obj, path):
    """Write ``obj`` to the file at ``path`` (not atomic by itself: ``nn.save`` handles that)."""
    st = _import_package()
    tensors, metadata = _tensors_and_metadata(obj)
    st.save_file(tensors, path, metadata=metadata)


def write(obj, f):
    """Write ``obj`` to the binary file object ``f``."""
    st = _import_package()
    tensors, metadata = _tensors_and_metadata(obj)
    f.write(st.save(tensors, metadata=metadata))


def looks_like(head):
    """Whether a file's first bytes look like safetensors: an 8-byte length, then ``{``."""
    return len(head) >= 9 and head[8:9] == b"{"


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise Refused(f"its header names {str(k)[:80]!r} twice")
        out[k] = v
    return out


def read_header(f, size):
    """``(entries, metadata, data_start)``: entries are ``(name, dtype, shape, begin, end)`` sorted
    by ``begin``, checked to tile the data section exactly."""
    f.seek(0)
    raw = f.read(8)
    if len(raw) < 8:
        raise Refused("it is shorter than a safetensors header")
    n = struct.unpack("<Q", raw)[0]
    if n > MAX_HEADER:
        raise Refused(f"its safetensors header declares {n} bytes (at most {MAX_HEADER} are read)")
    if 8 + n > size:
        raise Refused(f"its safetensors header declares {n} bytes but the file has {size - 8} after the "
                      "length (truncated?)")
    text = f.read(n)
    if len(text) != n:
        raise Refused("its safetensors header is truncated")
    if text[:1] != b"{":
        raise Refused("its safetensors header is not a JSON object")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates,
                            parse_int=cs._bounded_int, parse_constant=cs._no_constants)
    except Refused:
        raise
    except RecursionError:
        raise Refused("its safetensors header is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused(f"its safetensors header is not valid JSON ({str(e)[:200]})") from None
    if not isinstance(header, dict):
        raise Refused("its safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise Refused("its safetensors __metadata__ is not a map of str to str")
    data_start = 8 + n
    data_size = size - data_start
    entries = []
    for name, info in header.items():
        what = f"tensor {name[:200]!r}"
        if not isinstance(info, dict):
            raise Refused(f"{what} has a malformed header entry")
        code = info.get("dtype")
        if code not in _DTYPES:
            raise Refused(f"{what} has dtype {str(code)[:40]!r}, which nn.load does not read (it reads "
                          f"{', '.join(_DTYPES)})")
        shape = cs.check_shape(info.get("shape"), what)
        offsets = info.get("data_offsets")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
                or offsets[0] > offsets[1]):
            raise Refused(f"{what} has malformed data_offsets {str(offsets)[:80]}")
        begin, end = offsets
        nbytes = cs.element_count(shape) * _DTYPES[code].itemsize
        if end - begin != nbytes:
            raise Refused(f"{what} declares shape {shape} of {code} ({nbytes} bytes) over a byte range of "
                          f"{end - begin}")
        if end > data_size:
            raise Refused(f"{what} ends at byte {end} of the data, but the file holds {data_size} (truncated?)")
        entries.append((name, code, shape, begin, end))
    entries.sort(key=lambda e: (e[3], e[4]))
    pos = 0
    for name, _, _, begin, end in entries:
        if begin != pos:
            raise Refused(f"tensor {name[:200]!r} starts at byte {begin} of the data, expected {pos} (the byte "
                          "ranges must tile the data without gaps or overlaps)")
        pos = end
    if pos != data_size:
        raise Refused(f"its tensors cover {pos} bytes but the file holds {data_size} after the header "
                      "(truncated, or trailing bytes)")
    return entries, metadata, data_start


def _read_tensor(f, entry, data_start):
    name, code, shape, begin, end = entry
    buf = np.empty(end - begin, np.uint8)
    f.seek(data_start + begin)
    read_fully(f, buf)
    if code == "BF16":
        arr = (buf.view("<u2").astype(np.uint32) << 16).view(np.float32)
    elif code == "BOOL":
        arr = buf != 0
    else:
        dt = _DTYPES[code]
        arr = buf.view(dt)
        if dt.byteorder == "<" and not dt.isnative:  # pragma: no cover - big-endian hosts
            arr = arr.astype(dt.newbyteorder("="))
    return arr.reshape(shape)


def read(f, size):
    """The object in the safetensors file ``f`` (a seekable binary file of ``size`` bytes)."""
    entries, metadata, data_start = read_header(f, size)
    by_name = {e[0]: e for e in entries}
    if META in metadata:
        def fetch(key, what):
            if key not in by_name:
                raise Refused(f"the structure refers to {what}, which the file does not contain")
            return _read_tensor(f, by_name[key], data_start)

        return cs.decode(metadata[META].encode("utf-8"), fetch, f"its {META!r} metadata")
    return {e[0]: Tensor(_read_tensor(f, e, data_start)) for e in entries}

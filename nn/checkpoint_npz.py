"""The npz checkpoint format: an ordinary ``.npz`` (a zip of ``.npy`` arrays) holding one array per
tensor (``a0``, ``a1``, ...) and ``__structure__``, the UTF-8 bytes of the JSON key map
(``checkpoint_structure``). Written with ``np.savez``; read member by member (``checkpoint_zip``):
only the members the key map names, each after its ``.npy`` header's shape and dtype have been
checked against the member's real size. Nothing is unpickled.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from . import checkpoint_structure as cs
from .checkpoint_structure import Refused

META = "__structure__"
_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 65536


def write(obj, f):
    """Write ``obj`` to the binary file object ``f``."""
    doc, arrays = cs.encode(obj, dotted=False)
    arrays = dict(arrays)
    arrays[META] = np.frombuffer(doc, dtype=np.uint8)
    np.savez(f, **arrays)


def looks_like(members):
    return META + ".npy" in members.names


def _read_npy(members, name, what, max_bytes=None):
    if name not in members.names:
        raise Refused(f"the structure refers to {what}, which the file does not contain")
    size = members.infos[name].file_size
    if max_bytes is not None and size > max_bytes:
        raise Refused(f"{what} is {size} bytes (at most {max_bytes} are read)")
    size = members.member_size(name)  # now checked against the file
    head = members.read_head(name, 12)
    if len(head) < 10 or head[:6] != _MAGIC or head[6] not in (1, 2):
        raise Refused(f"{what} is not a .npy array (version 1 or 2)")
    if head[6] == 1:
        hlen, pre = struct.unpack("<H", head[8:10])[0], 10
    else:
        if len(head) < 12:
            raise Refused(f"{what} has a truncated .npy header")
        hlen, pre = struct.unpack("<I", head[8:12])[0], 12
    if hlen > _MAX_NPY_HEADER or pre + hlen > size:
        raise Refused(f"{what} declares a .npy header of {hlen} bytes")
    header = members.read_head(name, pre + hlen)
    try:
        fp = io.BytesIO(header)
        version = np.lib.format.read_magic(fp)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(fp, max_header_size=_MAX_NPY_HEADER)
    except Refused:
        raise
    except Exception as e:  # noqa: BLE001 - numpy's parser of a hostile header can raise anything
        raise Refused(f"{what} has a malformed .npy header ({str(e)[:120]})") from None
    shape = cs.check_shape(shape, what)
    native = cs.native_dtype(dtype, what)
    nbytes = cs.element_count(shape) * dtype.itemsize
    if pre + hlen + nbytes != size:
        raise Refused(f"{what} declares shape {shape} of {dtype} ({nbytes} bytes) but its member holds "
                      f"{size - pre - hlen} bytes")
    buf = np.empty(nbytes, np.uint8)
    members.read_into(name, buf, offset=pre + hlen, crc=zlib.crc32(header))
    arr = buf.view(dtype)
    arr = arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)
    if dtype.kind == "b":
        return np.asarray(arr.view(np.uint8) != 0)  # a stored byte other than 0/1 must not make an odd bool
    return arr if dtype == native else arr.astype(native)


def read(members):
    """The object in the npz checkpoint whose members are ``members`` (a ``ZipMembers``)."""
    if not looks_like(members):
        raise Refused(f"it has no {META!r} entry (an .npz file not written by nn.save?)")
    members.refuse_compressed()
    meta = _read_npy(members, META + ".npy", f"its {META!r} entry", max_bytes=cs.MAX_STRUCTURE_BYTES + 1024)
    if meta.dtype != np.uint8 or meta.ndim != 1:
        raise Refused(f"the {META!r} entry is not a byte string")

    def fetch(key, what):
        if key == META:
            raise Refused(f"the structure refers to its own {META!r} entry as a tensor")
        return _read_npy(members, key + ".npy", what)

    return cs.decode(meta.tobytes(), fetch)

"""Reading single members of a zip archive (npz and PyTorch checkpoints) with bounded memory.

``zipfile`` parses the central directory; the members themselves are read here, straight into
the caller's buffer, so that only the members a checkpoint's key map names are ever read, nothing
is allocated before a member's declared size has been checked against the bytes really in the
file, and no member is decompressed: ``nn.save`` (``np.savez``) and ``torch.save`` store members
uncompressed, so a compressed member (the shape of a zip bomb) is refused unread. Two members
with one name are refused too (readers would disagree on which one counts).
"""
from __future__ import annotations

import struct
import zipfile
import zlib

from .checkpoint_structure import Refused

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_MAGIC = b"PK\x03\x04"


def read_fully(f, buf):
    """Fill the writable buffer ``buf`` from ``f``; ``Refused`` if the file ends first."""
    view = memoryview(buf).cast("B")
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            raise Refused(f"it ends {len(view) - got} bytes early (truncated?)")
        got += n
    return buf


class ZipMembers:
    """The members of the zip archive in the seekable binary file ``f`` of ``size`` bytes."""

    def __init__(self, f, size):
        self.f = f
        self.size = size
        zf = zipfile.ZipFile(f)
        infos = zf.infolist()
        seen = set()
        for info in infos:
            if info.filename in seen:
                raise Refused(f"its zip archive has two members named {info.filename!r} (refused: readers "
                              "disagree on which one counts)")
            seen.add(info.filename)
        self.infos = {info.filename: info for info in infos}

    def refuse_compressed(self):
        """Refuse the archive if any member is compressed or encrypted (none is read)."""
        for info in self.infos.values():
            self._check_stored(info)

    @staticmethod
    def _check_stored(info):
        if info.compress_type != zipfile.ZIP_STORED:
            raise Refused(f"its member {info.filename!r} is compressed (method {info.compress_type}); "
                          "checkpoints store members uncompressed, so a compressed member is refused unread")
        if info.flag_bits & 0x1:
            raise Refused(f"its member {info.filename!r} is encrypted")

    @property
    def names(self):
        return self.infos.keys()

    def member_size(self, name):
        """The member's size, once checked against the bytes really in the file."""
        return self.locate(name)[1]

    def locate(self, name):
        """``(offset of the member's bytes in the file, size)`` after checking the local header and
        that the declared size is really there."""
        info = self.infos[name]
        self._check_stored(info)
        if info.file_size != info.compress_size:
            raise Refused(f"its member {name!r} declares {info.file_size} bytes but stores {info.compress_size}")
        self.f.seek(info.header_offset)
        raw = self.f.read(_LOCAL_HEADER.size)
        if len(raw) != _LOCAL_HEADER.size:
            raise Refused(f"its member {name!r} lies past the end of the file (truncated?)")
        magic, _, _, method, _, _, _, _, _, name_len, extra_len = _LOCAL_HEADER.unpack(raw)
        if magic != _LOCAL_MAGIC or method != zipfile.ZIP_STORED:
            raise Refused(f"the local header of its member {name!r} is damaged or disagrees with the directory")
        local_name = self.f.read(name_len)
        enc = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if local_name.decode(enc, "replace") != info.orig_filename:
            raise Refused(f"the local header of its member {name!r} names another file")
        start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
        if start + info.file_size > self.size:
            raise Refused(f"its member {name!r} declares {info.file_size} bytes but the file ends "
                          f"{start + info.file_size - self.size} bytes before that (truncated?)")
        return start, info.file_size

    def read_into(self, name, buf, offset=0, crc=0):
        """Read the member's bytes from ``offset`` into ``buf`` (the rest of the member must fill it
        exactly) and check the CRC; ``crc`` is the CRC of the bytes before ``offset``."""
        start, size = self.locate(name)
        if offset + memoryview(buf).nbytes != size:
            raise Refused(f"its member {name!r} holds {size} bytes, not the {offset + memoryview(buf).nbytes} "
                          "its header declares")
        self.f.seek(start + offset)
        read_fully(self.f, buf)
        self.check_crc(name, zlib.crc32(buf, crc))
        return buf

    def read_head(self, name, n):
        """The first ``n`` bytes of the member (fewer if it is shorter)."""
        start, size = self.locate(name)
        self.f.seek(start)
        return self.f.read(min(n, size))

    def read_bytes(self, name, limit):
        """The whole member as bytes, if it holds at most ``limit`` bytes."""
        size = self.infos[name].file_size
        if size > limit:
            raise Refused(f"its member {name!r} is {size} bytes (at most {limit} are read)")
        buf = bytearray(self.member_size(name))  # the size, checked against the file
        return bytes(self.read_into(name, buf))

    def check_crc(self, name, crc):
        if crc != self.infos[name].CRC:
            raise Refused(f"its member {name!r} fails its CRC check (corrupted)")

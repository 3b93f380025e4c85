"""Readers for MNIST (IDX files) and CIFAR-10 (binary or python version) already on disk; nothing is
downloaded. Both return NumPy arrays: images float32 in [0, 1], NCHW, and labels int64.

They are written for files that may be hostile:

* **bounded memory.** A header is read and checked before any data: the size it declares must be
  what the file can hold (a raw file's exact size; for gzip, at most what deflate can expand the
  compressed bytes to), and gzip data is decompressed in 1 MiB chunks and never past the declared
  size plus one byte (so a small ``.gz`` that expands to gigabytes is refused after reading one byte
  more than its header declares). The results are allocated only once all the declared bytes have
  arrived, so memory follows the data really in the file: at most the bytes read plus the float32
  result, five times the declared data (CIFAR binary: the result plus a 1 MiB chunk);
* **no code runs.** The CIFAR-10 python version goes through ``nn.safe_pickle``, which rebuilds only
  dicts, lists, strings, bytes, numbers and plain numeric arrays, and refuses any other global;
* **every refusal is a ValueError that names the file** (a wrong magic number or element type, dims
  that don't match the file's size, a file shorter or longer than declared, image and label counts
  that differ, a CIFAR record size that isn't 3073 bytes, labels out of range). A missing file is a
  FileNotFoundError that says what was looked for.
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from . import safe_pickle

__all__ = ["load_mnist", "load_cifar10"]

CHUNK = 1 << 20                # bytes decompressed or read per step
MAX_DEFLATE_RATIO = 1032       # deflate never expands data more than 1032:1 (258-byte matches in 2 bits)
_GZIP_MAGIC = b"\x1f\x8b"

_IDX_TYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int", 0x0D: "float",
              0x0E: "double"}


def _gzip_errors():
    return (EOFError, OSError, zlib.error)


class _Stream:
    """A file opened for bounded reading, raw or gzip (told apart by content, not by name)."""

    def __init__(self, path):
        self.path = path
        self.file = open(path, "rb")
        try:
            self.size = os.fstat(self.file.fileno()).st_size
            self.gz = self.file.read(2) == _GZIP_MAGIC
            self.file.seek(0)
            self.reader = gzip.GzipFile(fileobj=self.file, mode="rb") if self.gz else self.file
        except BaseException:
            self.file.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            if self.gz:
                self.reader.close()
        finally:
            self.file.close()

    def read(self, n):
        """Up to ``n`` bytes (fewer only at the end of the data)."""
        out = []
        try:
            while n > 0:
                b = self.reader.read(min(n, CHUNK))
                if not b:
                    break
                out.append(b)
                n -= len(b)
        except _gzip_errors() as e:
            raise ValueError(f"{self.path}: corrupted or truncated gzip file ({type(e).__name__}: {e})") from None
        return b"".join(out)

    def max_data(self, header_bytes):
        """The most data bytes after the header that this file could hold."""
        if self.gz:
            return MAX_DEFLATE_RATIO * self.size
        return self.size - header_bytes

    def read_body(self, n):
        """The next ``n`` bytes as a list of uint8 chunks, after checking that exactly ``n`` bytes are left.
        Memory follows the bytes actually read, never the declared ``n`` alone."""
        chunks, done = [], 0
        while done < n:
            b = self.read(min(CHUNK, n - done))
            if not b:
                where = "decompressed data" if self.gz else "file"
                raise ValueError(f"{self.path}: truncated: the header declares {n} bytes of data but the {where} "
                                 f"ends after {done}")
            chunks.append(np.frombuffer(b, np.uint8))
            done += len(b)
        if self.read(1):
            raise ValueError(f"{self.path}: wrong size: more data follows the {n} bytes its header declares")
        return chunks


def _fill(out, chunks, convert):
    """Write the byte ``chunks`` into the flat array ``out`` in order, dropping each chunk once it is copied."""
    chunks.reverse()
    at = 0
    while chunks:
        c = chunks.pop()
        convert(c, out[at:at + len(c)])
        at += len(c)


def _to_unit_float(src, dst):
    np.divide(src, np.float32(255), out=dst, dtype=np.float32)


def _to_int64(src, dst):
    dst[...] = src


# -- MNIST / IDX -------------------------------------------------------------------------------------
class _IdxHeader:
    def __init__(self, stream, magic, ndim, what):
        path = stream.path
        kind = {2051: "an image file", 2049: "a label file"}.get(magic, "an IDX file")
        head = stream.read(4)
        if len(head) < 4:
            raise ValueError(f"{path}: truncated IDX file: {len(head)} bytes, too short for a header")
        got = int.from_bytes(head, "big")
        if got != magic:
            if head[:2] != b"\0\0":
                found = f"not an IDX file (it starts with bytes {head.hex(' ')})"
            else:
                found = (f"an IDX file of {_IDX_TYPES.get(head[2], f'unknown element type 0x{head[2]:02x}')} "
                         f"with {head[3]} dims")
            raise ValueError(f"{path}: bad magic number {got} (0x{got:08x}): {found}; expected {magic} "
                             f"(0x{magic:08x}: unsigned bytes with {ndim} dims) for {kind} of {what}")
        header = 4 + 4 * ndim
        rest = stream.read(4 * ndim)
        if len(rest) < 4 * ndim:
            raise ValueError(f"{path}: truncated IDX header: {4 + len(rest)} bytes, expected at least {header}")
        self.dims = tuple(int.from_bytes(rest[4 * i:4 * i + 4], "big") for i in range(ndim))
        self.nbytes = int(np.prod(self.dims, dtype=object))
        most = stream.max_data(header)
        if self.nbytes > most:
            if stream.gz:
                raise ValueError(f"{path}: the header declares dims {self.dims} ({self.nbytes} bytes of data), more "
                                 f"than a {stream.size}-byte gzip file can hold (deflate expands at most "
                                 f"{MAX_DEFLATE_RATIO}x): the file is truncated or corrupted")
            raise ValueError(f"{path}: truncated: the header declares dims {self.dims} ({header + self.nbytes} bytes "
                             f"with the header) but the file has {stream.size} bytes")
        if not stream.gz and self.nbytes < most:
            raise ValueError(f"{path}: wrong size: the header declares dims {self.dims} ({header + self.nbytes} "
                             f"bytes with the header) but the file has {stream.size} bytes")


def _mnist_file(root, prefix, part, idx):
    names = [f"{prefix}-{part}-{idx}-ubyte{ext}" for ext in ("", ".gz")] + \
            [f"{prefix}-{part}.{idx}-ubyte{ext}" for ext in ("", ".gz")]
    for n in names:
        p = os.path.join(root, n)
        if os.path.isfile(p):
            return p
    raise FileNotFoundError(f"load_mnist: no {prefix} {part} file in {root!r} (looked for {names[0]} and "
                            f"{names[1]})")


def load_mnist(root: str | os.PathLike[str], train: bool = True,
               kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST or Fashion-MNIST from IDX files in ``root`` (never downloads; torchvision's
    ``datasets.MNIST`` without the download and the transforms).

    Files: ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``train=True``) or ``t10k-...``,
    raw or gzip (with or without ``.gz``; ``kind='train'`` or ``'t10k'``/``'test'`` overrides ``train``).
    Returns ``(images, labels)``: NumPy float32 (N, 1, rows, cols) scaled to [0, 1] (pixel / 255), and
    int64 (N,). Both headers are checked (magic numbers, dims against the files' sizes, equal counts)
    before any data is read; see the module docstring for what a hostile file gets.

    A two-image file written here, then read (``nn.data.TensorDataset(ag.tensor(images),
    ag.tensor(labels))`` makes it a data set):

    >>> import os, struct, tempfile, nn
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with open(os.path.join(tmp.name, "train-images-idx3-ubyte"), "wb") as f:
    ...     _ = f.write(struct.pack(">IIII", 2051, 2, 2, 2) + bytes([0, 255, 51, 102, 255, 0, 0, 255]))
    >>> with open(os.path.join(tmp.name, "train-labels-idx1-ubyte"), "wb") as f:
    ...     _ = f.write(struct.pack(">II", 2049, 2) + bytes([7, 3]))
    >>> images, labels = nn.load_mnist(tmp.name)
    >>> images.shape, images.dtype, labels
    ((2, 1, 2, 2), dtype('float32'), array([7, 3]))
    >>> images[0, 0]
    array([[0. , 1. ],
           [0.2, 0.4]], dtype=float32)
    >>> nn.load_mnist(tmp.name, train=False)
    Traceback (most recent call last):
    ...
    FileNotFoundError: load_mnist: no t10k images file in '...' (looked for t10k-images-idx3-ubyte and ...)
    >>> tmp.cleanup()
    """
    if kind is None:
        prefix = "train" if train else "t10k"
    elif kind in ("train", "t10k", "test"):
        prefix = "t10k" if kind in ("t10k", "test") else "train"
    else:
        raise ValueError(f"load_mnist: kind must be 'train', 't10k' or 'test', got {kind!r}")
    root = os.fspath(root)
    img_path = _mnist_file(root, prefix, "images", "idx3")
    lab_path = _mnist_file(root, prefix, "labels", "idx1")
    with _Stream(lab_path) as ls, _Stream(img_path) as ims:
        lh = _IdxHeader(ls, 2049, 1, "labels")
        ih = _IdxHeader(ims, 2051, 3, "images")
        n, rows, cols = ih.dims
        if n != lh.dims[0]:
            raise ValueError(f"load_mnist: {img_path} has {n} images but {lab_path} has {lh.dims[0]} labels")
        label_bytes = ls.read_body(lh.nbytes)
        image_bytes = ims.read_body(ih.nbytes)
    # Only now, with the data in hand, the results are allocated: a header alone allocates nothing.
    labels = np.empty(n, np.int64)
    _fill(labels, label_bytes, _to_int64)
    images = np.empty((n, 1, rows, cols), np.float32)
    _fill(images.reshape(-1), image_bytes, _to_unit_float)
    return images, labels


# -- CIFAR-10 ----------------------------------------------------------------------------------------
CIFAR_RECORD = 1 + 3 * 32 * 32
_CIFAR_PIXELS = 3 * 32 * 32


def _cifar_bin_count(path):
    """The number of records in a CIFAR-10 binary batch, from its size (checked: whole 3073-byte records)."""
    with open(path, "rb") as f:
        if f.read(2) == _GZIP_MAGIC:
            raise ValueError(f"{path}: is gzip-compressed; CIFAR-10 binary batches are stored uncompressed "
                             "(gunzip it first)")
        size = os.fstat(f.fileno()).st_size
    if size == 0 or size % CIFAR_RECORD:
        hint = ""
        if size and size % (CIFAR_RECORD + 1) == 0:
            hint = " (it is a whole number of 3074-byte records: CIFAR-100's binary format, not CIFAR-10's)"
        raise ValueError(f"{path}: wrong size or truncated: {size} bytes is not a whole number of {CIFAR_RECORD}-byte "
                         f"records (1 label byte + 3072 pixel bytes){hint}")
    return size // CIFAR_RECORD


def _check_labels(path, labels):
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) > 9):
        bad = int(labels.max()) if int(labels.max()) > 9 else int(labels.min())
        raise ValueError(f"{path}: label {bad} is out of range 0..9 (not a CIFAR-10 file?)")


def _read_cifar_bin_into(path, count, images, labels):
    """Fill ``images`` (count, 3072) float32 and ``labels`` (count,) from a binary batch, a chunk at a time."""
    per = max(1, CHUNK // CIFAR_RECORD)
    with open(path, "rb") as f:
        for start in range(0, count, per):
            k = min(per, count - start)
            b = f.read(k * CIFAR_RECORD)
            if len(b) != k * CIFAR_RECORD:
                raise ValueError(f"{path}: truncated: the file shrank while it was read")
            rec = np.frombuffer(b, np.uint8).reshape(k, CIFAR_RECORD)
            _check_labels(path, rec[:, 0])
            labels[start:start + k] = rec[:, 0]
            _to_unit_float(rec[:, 1:], images[start:start + k])
        if f.read(1):
            raise ValueError(f"{path}: wrong size: the file grew while it was read")


def _key(d, name):
    for k in (name, name.encode()):
        if k in d:
            return d[k]
    return None


def _read_cifar_py(path):
    """``(data, labels)`` of a python-version batch: uint8 (N, 3072) and int64 (N,), checked."""
    obj = safe_pickle.load(path)
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a CIFAR-10 python batch: expected a dict, got {type(obj).__name__}")
    data, labels = _key(obj, "data"), _key(obj, "labels")
    if data is None or labels is None:
        raise ValueError(f"{path}: not a CIFAR-10 python batch: it has no 'data' and 'labels' entries")
    data = safe_pickle.to_array(data, path, "wrong data")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _CIFAR_PIXELS:
        raise ValueError(f"{path}: wrong data: expected a uint8 array of shape (N, 3072), got {data.dtype} "
                         f"{data.shape}")
    if isinstance(labels, list):
        if not all(type(v) is int for v in labels):
            raise ValueError(f"{path}: wrong labels: expected a list of ints")
        if any(v < 0 or v > 9 for v in labels):
            bad = next(v for v in labels if v < 0 or v > 9)
            raise ValueError(f"{path}: label {bad} is out of range 0..9 (not a CIFAR-10 file?)")
        labels = np.array(labels, np.int64)
    else:
        labels = safe_pickle.to_array(labels, path, "wrong labels")
        if labels.dtype.kind not in "iu":
            raise ValueError(f"{path}: wrong labels: expected integers, got {labels.dtype}")
        labels = labels.astype(np.int64)
        _check_labels(path, labels)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise ValueError(f"{path}: wrong size: {data.shape[0]} images but labels of shape {labels.shape}")
    return data, labels


def load_cifar10(root: str | os.PathLike[str], train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR-10 from ``root`` (never downloads; torchvision's ``datasets.CIFAR10`` without the
    download and the transforms): the binary version (``data_batch_1.bin`` ... ``data_batch_5.bin``,
    ``test_batch.bin``) in ``root/cifar-10-batches-bin/`` or ``root`` itself, else the python version
    (``data_batch_1`` ... ``test_batch``) in ``root/cifar-10-batches-py/`` or ``root``.

    Returns ``(images, labels)``: NumPy float32 (N, 3, 32, 32) scaled to [0, 1], and int64 (N,) in 0..9.
    Binary batches are size-checked before they are read and read in chunks; python batches are
    unpickled by ``nn.safe_pickle`` (no code runs). See the module docstring for the guarantees.

    A binary test batch of two records (label byte, then 3 * 32 * 32 pixel bytes), written here:

    >>> import os, tempfile, nn
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with open(os.path.join(tmp.name, "test_batch.bin"), "wb") as f:
    ...     _ = f.write(bytes([3]) + bytes(3072) + bytes([9]) + bytes([255] * 3072))
    >>> images, labels = nn.load_cifar10(tmp.name, train=False)
    >>> images.shape, labels, float(images[0].max()), float(images[1].min())
    ((2, 3, 32, 32), array([3, 9]), 0.0, 1.0)
    >>> tmp.cleanup()
    """
    root = os.fspath(root)
    stems = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    candidates = [(os.path.join(root, "cifar-10-batches-bin"), ".bin", True),
                  (root, ".bin", True),
                  (os.path.join(root, "cifar-10-batches-py"), "", False),
                  (root, "", False)]
    for directory, ext, binary in candidates:
        paths = [os.path.join(directory, s + ext) for s in stems]
        present = [p for p in paths if os.path.isfile(p)]
        if not present:
            continue
        if len(present) != len(paths):
            missing = [os.path.basename(p) for p in paths if p not in present]
            raise FileNotFoundError(f"load_cifar10: {directory!r} has some CIFAR-10 batches but not {missing}")
        if binary:
            counts = [_cifar_bin_count(p) for p in paths]
            n = sum(counts)
            images = np.empty((n, 3, 32, 32), np.float32)
            labels = np.empty(n, np.int64)
            flat, start = images.reshape(n, _CIFAR_PIXELS), 0
            for p, c in zip(paths, counts):
                _read_cifar_bin_into(p, c, flat[start:start + c], labels[start:start + c])
                start += c
            return images, labels
        parts = [_read_cifar_py(p) for p in paths]
        n = sum(len(y) for _, y in parts)
        images = np.empty((n, 3, 32, 32), np.float32)
        flat, start = images.reshape(n, _CIFAR_PIXELS), 0
        for x, _ in parts:
            _to_unit_float(x, flat[start:start + len(x)])
            start += len(x)
        return images, np.concatenate([y for _, y in parts])
    raise FileNotFoundError(f"load_cifar10: no CIFAR-10 {'training' if train else 'test'} batches in {root!r} "
                            f"(looked for {stems[0]}.bin and {stems[0]} there and in cifar-10-batches-bin/ and "
                            "cifar-10-batches-py/)")

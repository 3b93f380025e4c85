"""Hostile files for load_mnist and load_cifar10: every refusal is a ValueError whose message names the file,
memory stays bounded (peaks measured with tracemalloc), and no code from a file runs.

Every file is built here, small: the gzip bombs are streamed through zlib a MiB at a time, and the other
files only *declare* huge sizes. Nothing in this module allocates more than a few MiB."""
import pickle
import struct
import tracemalloc
import zlib

import numpy as np
import pytest

from nn import safe_pickle
from nn.data import load_cifar10, load_mnist

MiB = 1 << 20
BOMB = 48 * MiB       # what the bombs expand to
PEAK_LIMIT = 4 * MiB  # what a refusal may allocate at its peak


def peak_of_refusal(fn, match):
    """Run ``fn``, expecting a ValueError matching ``match``; returns (message, peak bytes traced)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match) as info:
            fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(info.value), peak


def idx_header(magic, dims):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)


def write_gz(path, head, zeros=0, tail=b""):
    """A gzip file holding ``head``, ``zeros`` zero bytes and ``tail``, compressed a MiB at a time."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MiB)
    with open(path, "wb") as f:
        f.write(co.compress(head))
        for _ in range(zeros // MiB):
            f.write(co.compress(block))
        f.write(co.compress(bytes(zeros % MiB) + tail))
        f.write(co.flush())
    return path


def write_valid_labels(root, n, gz=True):
    head = idx_header(2049, (n,))
    if gz:
        return write_gz(root / "train-labels-idx1-ubyte.gz", head + bytes(n))
    p = root / "train-labels-idx1-ubyte"
    p.write_bytes(head + bytes(n))
    return p


def write_valid_images(root, n, size=4):
    return write_gz(root / "train-images-idx3-ubyte.gz", idx_header(2051, (n, size, size)) + bytes(n * size * size))


# -- MNIST -----------------------------------------------------------------------------------------
def test_gzip_bomb_behind_a_valid_header_is_refused_after_the_declared_bytes(tmp_path):
    write_valid_images(tmp_path, 10)
    bomb = write_gz(tmp_path / "train-labels-idx1-ubyte.gz", idx_header(2049, (10,)), zeros=10 + BOMB)
    assert bomb.stat().st_size < BOMB // 500  # a real bomb: tiny on disk, huge once expanded
    msg, peak = peak_of_refusal(lambda: load_mnist(tmp_path), "wrong size: more data follows the 10 bytes")
    assert str(bomb) in msg
    assert peak < PEAK_LIMIT


def test_gzip_bomb_behind_a_bad_header_is_refused_at_the_header(tmp_path):
    write_valid_labels(tmp_path, 10)
    bomb = write_gz(tmp_path / "train-images-idx3-ubyte.gz", b"\x89PNG\r\n\x1a\n", zeros=BOMB)
    msg, peak = peak_of_refusal(lambda: load_mnist(tmp_path), "not an IDX file")
    assert str(bomb) in msg and peak < PEAK_LIMIT


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dims", [(10_000, 10_000, 10_000), (2**32 - 1, 28, 28), (60_000, 65_535, 65_535)])
def test_absurd_declared_dims_are_refused_before_reading(tmp_path, gz, dims):
    write_valid_labels(tmp_path, dims[0] % 1000)
    head = idx_header(2051, dims) + bytes(100)
    if gz:
        p = write_gz(tmp_path / "train-images-idx3-ubyte.gz", head)
        match = r"more than a \d+-byte gzip file can hold"
    else:
        p = tmp_path / "train-images-idx3-ubyte"
        p.write_bytes(head)
        match = "truncated: the header declares dims"
    msg, peak = peak_of_refusal(lambda: load_mnist(tmp_path), match)
    assert str(p) in msg and str(dims[0]) in msg
    assert peak < PEAK_LIMIT


def test_plausible_but_false_declaration_allocates_only_what_arrives(tmp_path):
    write_valid_labels(tmp_path, 3000)
    # 3000 images of 28x28 would be 2.35 MB (9.4 MB as float32); the file holds 20 of them (random bytes,
    # so the compressed file is big enough to hold the declared size as far as deflate's ratio goes)
    pixels = np.random.default_rng(0).integers(0, 256, 20 * 784, dtype=np.uint8).tobytes()
    p = write_gz(tmp_path / "train-images-idx3-ubyte.gz", idx_header(2051, (3000, 28, 28)) + pixels)
    msg, peak = peak_of_refusal(lambda: load_mnist(tmp_path), "truncated: the header declares 2352000 bytes")
    assert str(p) in msg and "ends after 15680" in msg
    assert peak < 3000 * 784  # less than the declared data, let alone its float32 result


def test_valid_gzip_file_peak_is_a_small_multiple_of_its_data(tmp_path):
    n = 2000
    write_valid_labels(tmp_path, n)
    write_valid_images(tmp_path, n, size=28)
    tracemalloc.start()
    try:
        x, y = load_mnist(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    data = n * 28 * 28
    assert x.shape == (n, 1, 28, 28) and y.shape == (n,)
    assert peak < 5 * data + 2 * MiB  # the bytes read plus the float32 result (and a chunk in flight)


def test_counts_are_compared_before_any_body_is_read(tmp_path):
    lab = write_valid_labels(tmp_path, 3)
    # the images' header says 4 images of 5x5, and a bomb follows: the count mismatch must stop it first
    img = write_gz(tmp_path / "train-images-idx3-ubyte.gz", idx_header(2051, (4, 5, 5)), zeros=100 + BOMB)
    msg, peak = peak_of_refusal(lambda: load_mnist(tmp_path), "has 4 images but .* has 3 labels")
    assert str(img) in msg and str(lab) in msg and peak < PEAK_LIMIT


@pytest.mark.parametrize("magic,expect", [
    (0x00000D03, r"bad magic number 3331 \(0x00000d03\): an IDX file of float with 3 dims; expected 2051"),
    (0x00000B03, "an IDX file of short with 3 dims"),
    (0x00000804, "an IDX file of unsigned byte with 4 dims"),
    (0x00000703, "unknown element type 0x07"),
    (0x12345678, "not an IDX file"),
])
def test_wrong_magic_and_element_type(tmp_path, magic, expect):
    write_valid_labels(tmp_path, 2)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(struct.pack(">I", magic) + idx_header(2051, (2, 4, 4))[4:] + bytes(32))
    msg, _ = peak_of_refusal(lambda: load_mnist(tmp_path), expect)
    assert str(p) in msg


@pytest.mark.parametrize("change", ["short", "long", "corrupt_gzip", "gzip_trailing_garbage"])
def test_wrong_sizes_and_broken_gzip(tmp_path, change):
    write_valid_images(tmp_path, 3)
    head = idx_header(2049, (3,))
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    if change == "short":
        write_gz(p, head + bytes(2))
        expect = "truncated: the header declares 3 bytes of data but the decompressed data ends after 2"
    elif change == "long":
        write_gz(p, head + bytes(4))
        expect = "wrong size: more data follows the 3 bytes"
    elif change == "corrupt_gzip":
        p.write_bytes(b"\x1f\x8b" + bytes(range(200)))
        expect = "corrupted or truncated gzip file"
    else:
        write_gz(p, head + bytes(3))
        p.write_bytes(p.read_bytes() + b"not gzip")
        expect = "corrupted or truncated gzip file"
    msg, peak = peak_of_refusal(lambda: load_mnist(tmp_path), expect)
    assert str(p) in msg and peak < PEAK_LIMIT


# -- CIFAR-10 python version: pickles -------------------------------------------------------------------
def py_batch_path(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir(exist_ok=True)
    return d / "test_batch"


class Reduce:
    """Pickles as ``fn(*args)``: how a hostile pickle makes the unpickler call a function."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _marker_payloads(marker):
    import os
    import subprocess
    return {
        "os.system": Reduce(os.system, f"touch {marker}"),
        "subprocess.call": Reduce(subprocess.call, ["touch", str(marker)]),
        "builtins.exec": Reduce(exec, f"open({str(marker)!r}, 'w').close()"),
        "builtins.getattr": Reduce(getattr, b"", "decode"),
        "numpy.load": Reduce(np.load, str(marker)),
        "pickle.loads": Reduce(pickle.loads, b"N."),
    }


@pytest.mark.parametrize("name", ["os.system", "subprocess.call", "builtins.exec", "builtins.getattr", "numpy.load",
                                  "pickle.loads"])
@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("nested", [False, True])
def test_forbidden_globals_are_refused_naming_file_and_global(tmp_path, name, protocol, nested):
    marker = tmp_path / "pwned"
    payload = _marker_payloads(marker)[name]
    if nested:  # deep inside an otherwise valid-looking batch
        payload = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"extra": [{"x": (1, payload)}]}
    p = py_batch_path(tmp_path)
    p.write_bytes(pickle.dumps(payload, protocol=protocol))
    # the module as pickle writes it (posix for os, commands for subprocess under protocol 2, ...)
    attr = name.rpartition(".")[2]
    msg, _ = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False), rf"refers to [\w.]+\.{attr},")
    assert str(p) in msg and "refusing" in msg
    assert not marker.exists()


@pytest.mark.parametrize("raw,what", [
    (b"\x80\x02X\x01\x00\x00\x00a\x94Q.", "persistent ids"),                      # BINPERSID
    (b"(Pfoo\n.", "persistent ids"),                                              # PERSID
    (b"\x80\x02\x82\x01.", "the extension registry"),                            # EXT1
    (b"(ios\nsystem\nS'true'\np0\n.", "class instantiation"),                    # INST
    (b"\x80\x02(cbuiltins\nbytes\nK\x01o.", "class instantiation"),              # OBJ
    (b"\x80\x05\x97.", "out-of-band buffers"),                                   # NEXT_BUFFER
])
def test_refused_opcodes(tmp_path, raw, what):
    p = py_batch_path(tmp_path)
    p.write_bytes(raw)
    msg, _ = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False), f"uses {what}")
    assert str(p) in msg


@pytest.mark.parametrize("raw", [
    b"\x80\x04\x8e" + struct.pack("<Q", 2**60) + b"abc.",          # BINBYTES8 of 2**60 bytes
    b"\x80\x04\x8d" + struct.pack("<Q", 2**40) + b"abc.",          # BINUNICODE8
    b"\x80\x05\x96" + struct.pack("<Q", 2**40) + b"abc.",          # BYTEARRAY8
    b"\x80\x03B" + struct.pack("<i", 2**31 - 1) + b"abc.",         # BINBYTES
    b"\x80\x02\x8b" + struct.pack("<i", 2**31 - 1) + b"abc.",      # LONG4
    b"\x80\x02T" + struct.pack("<i", 2**31 - 1) + b"abc.",         # BINSTRING
    b"\x80\x04\x95" + struct.pack("<Q", 2**50) + b"N.",            # FRAME
    b"\x80\x02Nr" + struct.pack("<I", 2**31) + b".",               # LONG_BINPUT far beyond the memo
    b"\x80\x02h\x07.",                                             # BINGET of an entry never written
])
def test_huge_declared_lengths_and_memo_indices(tmp_path, raw):
    p = py_batch_path(tmp_path)
    p.write_bytes(raw)
    msg, peak = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False),
                                "truncated or corrupted pickle|runs past the end|memo entry")
    assert str(p) in msg and peak < PEAK_LIMIT


@pytest.mark.parametrize("kind", ["append", "list_mark", "tuple1", "dict"])
def test_deep_nesting_is_refused(tmp_path, kind):
    n = 20_000
    if kind == "append":
        body = b"]" * n + b"a" * (n - 1)                 # EMPTY_LIST x n, APPEND x n-1
    elif kind == "list_mark":
        body = b"(" * n + b"l" * n                       # MARK x n, LIST x n
    elif kind == "tuple1":
        body = b"N" + b"\x85" * n                        # TUPLE1 applied n times
    else:
        body = b"}" + (b"K\x01}" * n) + b"s" * n         # dict -> {1: {1: {...}}}
    p = py_batch_path(tmp_path)
    p.write_bytes(b"\x80\x02" + body + b".")
    msg, peak = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False),
                                f"nests containers more than {safe_pickle.MAX_DEPTH} deep")
    assert str(p) in msg and peak < PEAK_LIMIT


class FakeArray:
    """Pickles exactly as numpy pickles an array, with whatever shape, dtype and raw bytes we like."""

    def __init__(self, shape, dtype, raw):
        self.shape, self.dtype, self.raw = shape, dtype, raw

    def __reduce__(self):
        from numpy._core.multiarray import _reconstruct
        return _reconstruct, (np.ndarray, (0,), b"b"), (1, self.shape, np.dtype(self.dtype), False, self.raw)


@pytest.mark.parametrize("shape,dtype,raw,expect", [
    ((10**12, 3072), "u1", bytes(3072), r"declares shape \(1000000000000, 3072\) of uint8 \(3072000000000000 bytes\) "
                                        "but holds 3072 bytes"),
    ((2, 3072), "O", [None] * 6144, "not a plain boolean, integer or float dtype"),
    ((2, 3072), "V3072", bytes(2 * 3072 * 3072), "not a plain boolean, integer or float dtype"),
    ((2, 3072), "u1", "text", "data is a str, not bytes"),
    ("(2, 3072)", "u1", bytes(6144), "shape '\\(2, 3072\\)' is not a tuple of non-negative ints"),
    ((-1, 3072), "u1", bytes(3072), "is not a tuple of non-negative ints"),
])
def test_declared_arrays_are_checked_before_they_are_built(tmp_path, shape, dtype, raw, expect):
    p = py_batch_path(tmp_path)
    p.write_bytes(pickle.dumps({b"data": FakeArray(shape, dtype, raw), b"labels": [0, 1]}, protocol=2))
    msg, peak = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False), expect)
    assert str(p) in msg and peak < PEAK_LIMIT + len(p.read_bytes()) * 4


def test_fake_array_that_tells_the_truth_loads(tmp_path):
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    p = py_batch_path(tmp_path)
    p.write_bytes(pickle.dumps({b"data": FakeArray((2, 3072), "u1", data.tobytes()), b"labels": [3, 4]},
                               protocol=2))
    x, y = load_cifar10(tmp_path, train=False)
    np.testing.assert_array_equal(x.reshape(2, 3072), data / np.float32(255))
    assert y.tolist() == [3, 4]


@pytest.mark.parametrize("change,expect", [
    ("trailing", "bytes of unexpected data after the end of the pickle"),
    ("gzip", "is gzip-compressed"),
    ("empty", "truncated or corrupted pickle"),
    ("no_stop", "truncated or corrupted pickle"),
    ("labels_not_ints", "wrong labels: expected a list of ints"),
    ("labels_count", r"wrong size: 2 images but labels of shape \(3,\)"),
    ("bytes_of_int", r"bytes\(\) is only allowed"),
])
def test_other_malformed_pickles(tmp_path, change, expect):
    good = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
    raw = pickle.dumps(good, protocol=2)
    if change == "trailing":
        raw += b"\0" * 10
    elif change == "gzip":
        raw = b"\x1f\x8b" + raw
    elif change == "empty":
        raw = b""
    elif change == "no_stop":
        raw = raw[:-1]
    elif change == "labels_not_ints":
        raw = pickle.dumps({**good, b"labels": [0, "1"]}, protocol=2)
    elif change == "labels_count":
        raw = pickle.dumps({**good, b"labels": [0, 1, 2]}, protocol=2)
    else:  # bytes(10**12) would allocate a terabyte of zeros
        raw = pickle.dumps({**good, b"x": Reduce(bytes, 10**12)}, protocol=2)
    p = py_batch_path(tmp_path)
    p.write_bytes(raw)
    msg, peak = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False), expect)
    assert str(p) in msg and peak < PEAK_LIMIT


# -- CIFAR-10 binary version ------------------------------------------------------------------------
@pytest.mark.parametrize("size,expect", [
    (3074 * 3, "not a whole number of 3073-byte records .*CIFAR-100's binary format"),
    (3073 * 2 + 5, "not a whole number of 3073-byte records"),
    (0, "wrong size or truncated: 0 bytes"),
])
def test_cifar_binary_wrong_record_size(tmp_path, size, expect):
    d = tmp_path / "cifar-10-batches-bin"
    d.mkdir()
    p = d / "test_batch.bin"
    p.write_bytes(bytes(size))
    msg, peak = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False), expect)
    assert str(p) in msg and peak < PEAK_LIMIT


def test_cifar_binary_gzip_and_bad_labels(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    d.mkdir()
    p = d / "test_batch.bin"
    write_gz(p, bytes(3073 * 4))
    msg, _ = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False), "is gzip-compressed")
    assert str(p) in msg
    rec = np.zeros((3, 3073), np.uint8)
    rec[2, 0] = 200
    p.write_bytes(rec.tobytes())
    msg, _ = peak_of_refusal(lambda: load_cifar10(tmp_path, train=False), "label 200 is out of range 0..9")
    assert str(p) in msg

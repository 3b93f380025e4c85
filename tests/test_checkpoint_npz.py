"""The npz checkpoint format under hostile files: every refusal is a ValueError naming the file, only
the members the key map names are read, and nothing is allocated beyond what the file holds."""
import io
import json
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import autograd_core as ag
import nn


def npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def npy_header(header, data=b""):
    """A .npy member with a hand-written header dict (version 1.0)."""
    text = header.encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def doc(root):
    return json.dumps({"format": "autograd_core.nn.save", "version": 1, "root": root})


def npz_file(path, structure, members=(), compress=()):
    """An npz laid out as nn.save lays it out, with ``structure`` (str) and more ``(name, bytes)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names, on purpose in one test
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            z.writestr("__structure__.npy", npy(np.frombuffer(structure.encode(), np.uint8)))
            for name, data in members:
                z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED)
    return path


def _peak(fn):
    # tracemalloc counts every thread's allocations: background kernel compiles finish first
    from autograd_core import kernels
    kernels.wait()
    tracemalloc.start()
    try:
        fn()
    except ValueError:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


TENSOR = doc({"t": "dict", "v": [["w", {"t": "tensor", "k": "a0", "rg": False}]]})
HOSTILE = {
    "shape_1e12": lambda: (TENSOR, [("a0.npy", npy_header("{'descr': '<f4', 'fortran_order': False, "
                                                          "'shape': (1000000, 1000000), }", bytes(8)))]),
    "shape_too_small": lambda: (TENSOR, [("a0.npy", npy_header("{'descr': '<f4', 'fortran_order': False, "
                                                               "'shape': (1,), }", bytes(8)))]),
    "negative_shape": lambda: (TENSOR, [("a0.npy", npy_header("{'descr': '<f4', 'fortran_order': False, "
                                                              "'shape': (-2,), }", bytes(8)))]),
    "object_dtype": lambda: (TENSOR, [("a0.npy", npy_header("{'descr': '|O', 'fortran_order': False, "
                                                            "'shape': (1,), }", bytes(8)))]),
    "complex": lambda: (TENSOR, [("a0.npy", npy(np.ones(2, np.complex64)))]),
    "str": lambda: (TENSOR, [("a0.npy", npy(np.array(["ab", "c"])))]),
    "datetime": lambda: (TENSOR, [("a0.npy", npy(np.array(["2024-01-01"], "datetime64[D]")))]),
    "structured": lambda: (TENSOR, [("a0.npy", npy(np.zeros(2, [("a", "<f4"), ("b", "<i4")])))]),
    "longdouble": lambda: (TENSOR, [("a0.npy", npy(np.ones(2, np.longdouble)))]),
    "header_garbage": lambda: (TENSOR, [("a0.npy", npy_header("__import__('os').system('true')", bytes(8)))]),
    "not_npy": lambda: (TENSOR, [("a0.npy", b"hello world, not an array")]),
    "deep_lists": lambda: ('{"format": "autograd_core.nn.save", "version": 1, "root": '
                           + "[" * 100_000 + "]" * 100_000 + "}", []),
    "deep_structure": lambda: (doc(_nest(150)), []),
    "huge_int": lambda: ('{"format": "autograd_core.nn.save", "version": 1, "root": {"t": "int", "v": '
                         + "1" * 100_000 + "}}", []),
    "int_parameter_requires_grad": lambda: (doc({"t": "parameter", "k": "a0", "rg": True}),
                                            [("a0.npy", npy(np.arange(3)))]),
    "int_tensor_requires_grad": lambda: (doc({"t": "tensor", "k": "a0", "rg": True}),
                                         [("a0.npy", npy(np.arange(3, dtype=np.int32)))]),
    "rg_not_bool": lambda: (doc({"t": "tensor", "k": "a0", "rg": "yes"}), [("a0.npy", npy(np.ones(2)))]),
    "duplicate_member": lambda: (TENSOR, [("a0.npy", npy(np.ones(2))), ("a0.npy", npy(np.zeros(2)))]),
    "duplicate_structure": lambda: (TENSOR, [("a0.npy", npy(np.ones(2))),
                                             ("__structure__.npy", npy(np.frombuffer(b"{}", np.uint8)))]),
    "compressed_member": lambda: (TENSOR, [("a0.npy", npy(np.ones(2)))], ["a0.npy"]),
    "structure_as_tensor": lambda: (doc({"t": "tensor", "k": "__structure__"}), []),
    "bad_float": lambda: (doc({"t": "float", "v": "0x1p99999999"}), []),
    "key_not_str": lambda: (doc({"t": "tensor", "k": 7}), []),
}


def _nest(depth):
    node = {"t": "none"}
    for _ in range(depth):
        node = {"t": "list", "v": [node]}
    return node


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_npz_is_refused_with_the_file_name(tmp_path, case):
    path = npz_file(tmp_path / "evil.npz", *HOSTILE[case]())
    with pytest.raises(ValueError, match=r"nn\.load: '.*evil\.npz' is not a valid checkpoint") as e:
        nn.load(path)
    assert type(e.value) is ValueError
    assert _peak(lambda: nn.load(path)) < 4 * path.stat().st_size + (1 << 20)


@pytest.mark.parametrize("case, words", [
    ("shape_1e12", r"declares shape \(1000000, 1000000\)"), ("object_dtype", "dtype object"),
    ("complex", "dtype complex64"), ("str", "dtype <U2"), ("datetime", "dtype datetime64"),
    ("deep_lists", "nested too deeply"), ("deep_structure", "nested more than 100"), ("huge_int", "100000 digits"),
    ("int_parameter_requires_grad", "only floating tensors can require gradients"),
    ("duplicate_member", "two members named 'a0.npy'"), ("compressed_member", "compressed"),
])
def test_hostile_npz_messages_say_what_is_wrong(tmp_path, case, words):
    with pytest.raises(ValueError, match=words):
        nn.load(npz_file(tmp_path / "evil.npz", *HOSTILE[case]()))


def test_compressed_bomb_in_an_unreferenced_member_is_never_inflated(tmp_path):
    path = tmp_path / "bomb.npz"
    nn.save({"w": ag.ones(3)}, path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z, z.open("bomb.npy", "w") as w:
        chunk = bytes(1 << 20)
        for _ in range(32):  # 32 MB that deflate to ~32 KB
            w.write(chunk)
    assert path.stat().st_size < 200_000
    with pytest.raises(ValueError, match="'bomb.npy' is compressed"):
        nn.load(path)
    assert _peak(lambda: nn.load(path)) < 1 << 20


def test_unreferenced_members_are_not_read(tmp_path):
    path = tmp_path / "extra.npz"
    nn.save({"w": ag.ones(3)}, path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as z:
        z.writestr("a9.npy", npy(np.zeros(1 << 20, np.float32)))  # 4 MB that no key names
    np.testing.assert_array_equal(nn.load(path)["w"]._data, np.ones(3))
    assert _peak(lambda: nn.load(path)) < 1 << 20


def test_one_array_named_many_times_is_read_once(tmp_path):
    leaf = {"t": "array", "k": "a0"}
    path = npz_file(tmp_path / "many.npz", doc({"t": "list", "v": [leaf] * 2000}),
                    [("a0.npy", npy(np.zeros(1 << 18, np.float32)))])  # 1 MB named 2000 times
    out = nn.load(path)
    assert len(out) == 2000 and all(a is out[0] for a in out)
    assert _peak(lambda: nn.load(path)) < 3 << 20


def test_layouts_and_byte_orders_load_natively(tmp_path):
    f = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    big = np.arange(5, dtype=">i4")
    flags = np.frombuffer(b"\x00\x01\x07", np.uint8).view(np.bool_)
    leaves = [{"t": "array", "k": k} for k in ("a0", "a1", "a2")]
    path = npz_file(tmp_path / "l.npz", doc({"t": "list", "v": leaves}),
                    [("a0.npy", npy(f)), ("a1.npy", npy(big)), ("a2.npy", npy(flags))])
    a, b, c = nn.load(path)
    np.testing.assert_array_equal(a, f)
    assert b.dtype == np.int32 and b.dtype.isnative and b.tolist() == list(range(5))
    assert c.dtype == np.bool_ and c.tolist() == [False, True, True] and (c.view(np.uint8) <= 1).all()


def test_failed_load_leaves_the_model_unchanged(tmp_path):
    m = nn.Linear(3, 2)
    before = {k: v._data.copy() for k, v in m.state_dict().items()}
    path = tmp_path / "m.npz"
    nn.save(m.state_dict(), path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("a1.npy")
    off = info.header_offset
    start = off + 30 + int.from_bytes(data[off + 26:off + 28], "little") + int.from_bytes(data[off + 28:off + 30],
                                                                                          "little")
    data[start + info.file_size - 3] ^= 0xFF  # in the bias values: the CRC check fails after the weight was read
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC"):
        m.load_state_dict(nn.load(path))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k])

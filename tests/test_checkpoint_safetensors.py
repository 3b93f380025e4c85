"""safetensors in nn.save / nn.load: files of the safetensors package (numpy and torch writers), every
dtype, PyTorch interop both ways, the key map in the metadata, and hostile headers refused with a
ValueError naming the file, in bounded memory."""
import json
import struct
import tracemalloc

import numpy as np
import pytest

import autograd_core as ag
import nn

safetensors_numpy = pytest.importorskip("safetensors.numpy")
from safetensors import safe_open  # noqa: E402


def raw_file(header, data=b"", n=None):
    """A safetensors file from a header dict (JSON-encoded here) and the data bytes."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if n is None else n) + text + data


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


def conv_model(lib):
    return lib.Sequential(lib.Conv2d(2, 3, 3, padding=1), lib.BatchNorm2d(3), lib.ReLU(), lib.Flatten(),
                          lib.Linear(3 * 5 * 5, 4))


# -- files of the safetensors package ----------------------------------------------------------------
NUMPY_DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16,
                np.uint32, np.uint64, np.bool_]


def test_reads_every_dtype_of_safetensors_numpy(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {}
    for i, dt in enumerate(NUMPY_DTYPES):
        shape = [(), (3,), (2, 3), (2, 0, 4)][i % 4]
        if dt == np.bool_:
            tensors[f"t{i}"] = np.asarray(rng.random(shape) > 0.5)
        else:
            tensors[f"t{i}"] = np.asarray(rng.standard_normal(shape) * 50).astype(dt)
    path = tmp_path / "np.safetensors"
    safetensors_numpy.save_file(tensors, str(path))
    back = nn.load(path)
    assert sorted(back) == sorted(tensors)
    for k, a in tensors.items():
        assert isinstance(back[k], ag.Tensor) and not back[k].requires_grad
        assert back[k]._data.dtype == a.dtype and back[k]._data.shape == a.shape
        np.testing.assert_array_equal(back[k]._data, a)


def test_bfloat16_is_widened_to_float32_exactly(tmp_path):
    values = np.array([1.0, -2.5, 3.140625, 2.0 ** -100, np.inf, -0.0], np.float32)
    bits = (values.view(np.uint32) >> 16).astype("<u2")  # exact bfloat16 values: the low half is zero
    assert np.array_equal((bits.astype(np.uint32) << 16).view(np.float32), values)
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(raw_file({"x": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}}, bits.tobytes()))
    x = nn.load(path)["x"]._data
    assert x.dtype == np.float32 and x.shape == (2, 3)
    np.testing.assert_array_equal(x.ravel().view(np.uint32), values.view(np.uint32))


def test_reads_every_dtype_of_safetensors_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    g = torch.Generator().manual_seed(0)
    tensors = {
        "f32": torch.randn(2, 3, generator=g), "f64": torch.randn(4, generator=g, dtype=torch.float64),
        "f16": torch.randn(3, 2, generator=g).half(), "bf16": torch.randn(5, generator=g).bfloat16(),
        "i64": torch.arange(-3, 3), "i32": torch.arange(6, dtype=torch.int32).reshape(2, 3),
        "u8": torch.arange(250, 256, dtype=torch.uint8), "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(7), "empty": torch.zeros(0, 3),
    }
    path = tmp_path / "t.safetensors"
    st_torch.save_file(tensors, str(path))
    back = nn.load(path)
    for k, t in tensors.items():
        ref = (t.float() if t.dtype == torch.bfloat16 else t).numpy()
        assert back[k]._data.dtype == ref.dtype, k
        np.testing.assert_array_equal(back[k]._data, ref)
    assert back["bf16"]._data.dtype == np.float32


# -- round trips and metadata ------------------------------------------------------------------------
def test_nested_checkpoint_uses_dotted_keys_and_metadata(tmp_path):
    optim = pytest.importorskip("optim")
    ag.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.Adam(m.parameters(), lr=0.01)
    (m(ag.randn(5, 3)) ** 2).mean().backward()
    opt.step()
    ck = {"model": m.state_dict(), "optim": opt.state_dict(), "epoch": 3, "note": "run 1"}
    path = tmp_path / "ck.safetensors"
    nn.save(ck, path)
    with safe_open(str(path), framework="numpy") as f:
        keys = set(f.keys())
        meta = f.metadata()
    assert {"model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"} <= keys
    state_keys = {k for k in keys if k.startswith("optim.state.")}
    assert state_keys and all(k.split(".")[3] in ("exp_avg", "exp_avg_sq", "step") for k in state_keys)
    assert meta["format"] == "pt"
    structure = json.loads(meta["__structure__"])
    assert structure["format"] == "autograd_core.nn.save"
    assert '"lr"' in meta["__structure__"] and '"epoch"' in meta["__structure__"]  # non-tensors: metadata
    back = nn.load(path)
    assert list(back) == ["model", "optim", "epoch", "note"] and back["epoch"] == 3 and back["note"] == "run 1"
    assert back["optim"]["param_groups"] == ck["optim"]["param_groups"]
    assert list(back["optim"]["state"]) == list(ck["optim"]["state"])
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(back["model"][k]._data, v._data)


def test_colliding_dotted_paths_stay_apart(tmp_path):
    obj = {"a.b": ag.ones(2), "a": {"b": ag.zeros(3)}}
    path = tmp_path / "c.safetensors"
    nn.save(obj, path)
    with safe_open(str(path), framework="numpy") as f:
        assert sorted(f.keys()) == ["a.b", "a.b#1"]
    back = nn.load(path)
    np.testing.assert_array_equal(back["a.b"]._data, np.ones(2))
    np.testing.assert_array_equal(back["a"]["b"]._data, np.zeros(3))


def test_big_endian_and_fortran_arrays_are_saved_in_order(tmp_path):
    a = np.arange(6, dtype=">f8").reshape(2, 3)
    f = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    path = tmp_path / "o.safetensors"
    nn.save({"a": a, "f": f, "s": np.float16(1.5)}, path)
    back = nn.load(path)
    np.testing.assert_array_equal(back["a"], a)
    np.testing.assert_array_equal(back["f"], f)
    assert back["s"] == np.float16(1.5) and back["s"].dtype == np.float16


# -- PyTorch interop ---------------------------------------------------------------------------------
def test_our_state_dict_loads_into_the_same_pytorch_model(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    ag.manual_seed(0)
    ours = conv_model(nn)
    ours(ag.randn(6, 2, 5, 5))  # running statistics and num_batches_tracked move
    ours.eval()
    path = tmp_path / "ours.safetensors"
    nn.save(ours.state_dict(), path)
    theirs = conv_model(torch.nn).eval()
    sd = st_torch.load_file(str(path))
    theirs.load_state_dict(sd)
    assert sd["1.num_batches_tracked"].dtype == torch.int64 and int(sd["1.num_batches_tracked"]) == 1
    x = np.random.default_rng(1).standard_normal((3, 2, 5, 5)).astype(np.float32)
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ag.tensor(x))._data, ref, rtol=1e-5, atol=1e-6)


def test_pytorch_state_dict_loads_into_the_same_model(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    theirs = conv_model(torch.nn)
    theirs(torch.randn(6, 2, 5, 5))
    theirs.eval()
    path = tmp_path / "theirs.safetensors"
    st_torch.save_file(theirs.state_dict(), str(path))
    ours = conv_model(nn)
    ours.load_state_dict(nn.load(path))
    ours.eval()
    x = np.random.default_rng(2).standard_normal((3, 2, 5, 5)).astype(np.float32)
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ag.tensor(x))._data, ref, rtol=1e-5, atol=1e-6)
    assert int(ours[1].num_batches_tracked._data) == 1


# -- hostile headers ---------------------------------------------------------------------------------
W = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
HOSTILE = {
    "huge_header_length": lambda: raw_file(b"{}", n=2 ** 62),
    "header_past_end": lambda: raw_file(b'{"w": 1}', n=10_000),
    "shape_1e12_elements": lambda: raw_file({"w": {"dtype": "F32", "shape": [10 ** 6, 10 ** 6],
                                                   "data_offsets": [0, 4 * 10 ** 12]}}, bytes(8)),
    "offsets_past_end": lambda: raw_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, bytes(8)),
    "size_mismatch": lambda: raw_file({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
    "overlap": lambda: raw_file({"w": W, "v": W}, bytes(8)),
    "gap": lambda: raw_file({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)),
    "trailing_bytes": lambda: raw_file({"w": W}, bytes(16)),
    "negative_offset": lambda: raw_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, bytes(8)),
    "complex_dtype": lambda: raw_file({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8)),
    "float8_dtype": lambda: raw_file({"w": {"dtype": "F8_E4M3", "shape": [8], "data_offsets": [0, 8]}}, bytes(8)),
    "duplicate_names": lambda: raw_file(b'{"w": %s, "w": %s}' % (json.dumps(W).encode(), json.dumps(W).encode()),
                                        bytes(8)),
    "deep_json": lambda: raw_file(b'{"w": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "huge_int": lambda: raw_file(b'{"w": {"dtype": "F32", "shape": [' + b"9" * 100_000 + b'], "data_offsets": [0, 8]}}',
                                 bytes(8)),
    "metadata_not_str": lambda: raw_file({"__metadata__": {"a": 1}, "w": W}, bytes(8)),
    "not_an_object": lambda: raw_file(b"[1, 2]"),
    "bad_utf8": lambda: raw_file(b'{"\xff": 1}'),
    "nan_constant": lambda: raw_file(b'{"w": NaN}'),
}


def _meta_file(structure, tensors=None):
    tensors = {"w": np.ones(2, np.float32)} if tensors is None else tensors
    return safetensors_numpy.save(tensors, metadata={"__structure__": structure})


def _doc(root):
    return json.dumps({"format": "autograd_core.nn.save", "version": 1, "root": root})


HOSTILE_STRUCTURE = {
    "missing_tensor": lambda: _meta_file(_doc({"t": "tensor", "k": "nope"})),
    "deep_structure": lambda: _meta_file('{"format": "autograd_core.nn.save", "version": 1, "root": '
                                         + "[" * 100_000 + "]" * 100_000 + "}"),
    "deep_but_parseable": lambda: _meta_file(_doc(_nest(150))),
    "huge_int_leaf": lambda: _meta_file('{"format": "autograd_core.nn.save", "version": 1, "root": '
                                        '{"t": "int", "v": ' + "7" * 100_000 + "}}"),
    "int_parameter_requires_grad": lambda: _meta_file(_doc({"t": "parameter", "k": "w", "rg": True}),
                                                      {"w": np.arange(3)}),
    "newer_version": lambda: _meta_file(json.dumps({"format": "autograd_core.nn.save", "version": 99,
                                                    "root": {"t": "none"}})),
    "not_json": lambda: _meta_file("{oops"),
}


def _nest(depth):
    node = {"t": "none"}
    for _ in range(depth):
        node = {"t": "list", "v": [node]}
    return node


@pytest.mark.parametrize("case", sorted(HOSTILE) + sorted(HOSTILE_STRUCTURE))
def test_hostile_files_are_refused_with_the_file_name(tmp_path, case):
    path = tmp_path / "evil.bin"
    path.write_bytes((HOSTILE.get(case) or HOSTILE_STRUCTURE.get(case))())
    with pytest.raises(ValueError, match=r"nn\.load: '.*evil\.bin' is not a valid checkpoint") as e:
        nn.load(path)
    assert type(e.value) is ValueError
    assert _peak(lambda: nn.load(path)) < 4 * path.stat().st_size + (4 << 20)


@pytest.mark.parametrize("case", ["huge_header_length", "header_past_end", "shape_1e12_elements",
                                  "offsets_past_end", "size_mismatch", "overlap", "gap", "trailing_bytes"])
def test_the_safetensors_package_refuses_the_same_headers(tmp_path, case):
    # we parse the header ourselves (bfloat16, file objects); it must be at least as strict as the package
    path = tmp_path / "evil.safetensors"
    path.write_bytes(HOSTILE[case]())
    with pytest.raises(Exception):
        with safe_open(str(path), framework="numpy") as f:
            [f.get_tensor(k) for k in f.keys()]


def test_messages_say_what_is_wrong(tmp_path):
    path = tmp_path / "x.safetensors"
    for case, words in [("huge_header_length", "header declares"),
                        ("shape_1e12_elements", "ends at byte 4000000000000"),
                        ("float8_dtype", "F8_E4M3"), ("duplicate_names", "twice"),
                        ("deep_json", "nested too deeply"),
                        ("huge_int", "100000 digits")]:
        path.write_bytes(HOSTILE[case]())
        with pytest.raises(ValueError, match=words):
            nn.load(path)
    for case, words in [("missing_tensor", "'nope'"), ("deep_but_parseable", "nested more than 100"),
                        ("int_parameter_requires_grad", "only floating tensors can require gradients")]:
        path.write_bytes(HOSTILE_STRUCTURE[case]())
        with pytest.raises(ValueError, match=words):
            nn.load(path)


@pytest.mark.parametrize("n", [0x0080, 0x0280, 0x0380, 0x0580])
def test_header_lengths_that_look_like_a_pickle_opcode(tmp_path, n):
    # the length's first byte is 0x80 (pickle's PROTO) and its second a protocol number
    text = json.dumps({"w": W}).encode()
    path = tmp_path / "w.safetensors"
    path.write_bytes(raw_file(text + b" " * (n - len(text)), np.array([1.5, -2], "<f4").tobytes()))
    assert path.read_bytes()[:1] == b"\x80"
    assert nn.load(path)["w"]._data.tolist() == [1.5, -2.0]


def test_bool_bytes_other_than_0_and_1_read_as_true(tmp_path):
    path = tmp_path / "b.safetensors"
    path.write_bytes(raw_file({"b": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}}, b"\x00\x02\xff"))
    b = nn.load(path)["b"]._data
    assert b.dtype == np.bool_ and b.tolist() == [False, True, True]
    assert (b.view(np.uint8) <= 1).all()


def test_loading_reads_only_what_the_file_holds(tmp_path):
    big = np.zeros(1 << 20, np.float32)  # 4 MB of tensors: peak memory must stay near that
    path = tmp_path / "big.safetensors"
    nn.save({"a": big, "b": big.copy()}, path)
    peak = _peak(lambda: nn.load(path))
    assert 8 << 20 <= peak < 3 * (8 << 20)

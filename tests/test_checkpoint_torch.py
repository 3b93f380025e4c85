"""nn.load of PyTorch zip checkpoints: without torch and without running pickled code.

The committed fixture ``fixtures/torch_linear_bn.pt`` tests the reader where torch is not installed.
It was made with torch 2.13 by::

    import torch
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        m[0].weight.copy_(torch.arange(6.0).reshape(2, 3) / 8 - 0.25)
        m[0].bias.copy_(torch.tensor([0.5, -1.0]))
        m[1].weight.copy_(torch.tensor([1.5, 0.75]))
        m[1].bias.copy_(torch.tensor([-0.125, 0.25]))
        m[1].running_mean.copy_(torch.tensor([0.25, -0.5]))
        m[1].running_var.copy_(torch.tensor([2.0, 0.5]))
        m[1].num_batches_tracked.fill_(7)
    torch.save(m.state_dict(), "tests/fixtures/torch_linear_bn.pt")

Hand-made checkpoints (``torch_zip`` + the small pickle writer below) test views, dtypes and every
hostile case without torch; where torch is installed, ``torch.load(weights_only=True)`` checks that
the hand-made files are what torch itself reads.
"""
import os
import pickle
import struct
import sys
import tracemalloc
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import checkpoint_torch

FIXTURE = Path(__file__).parent / "fixtures" / "torch_linear_bn.pt"


# -- a small protocol-2 pickle writer, for checkpoints made without torch ------------------------------
def p_global(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def p_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def p_int(i):
    if 0 <= i < 256:
        return b"K" + bytes([i])
    if -2 ** 31 <= i < 2 ** 31:
        return b"J" + struct.pack("<i", i)
    b = i.to_bytes((i.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(b)]) + b


def p_tuple(*items):
    return b"(" + b"".join(items) + b"t"


def p_call(fn, *args):
    return fn + p_tuple(*args) + b"R"


def p_dict(pairs, ordered=True):
    head = p_call(p_global("collections", "OrderedDict")) if ordered else b"}"
    return head + b"(" + b"".join(p_str(k) + v for k, v in pairs) + b"u"


def p_storage(stype, key, numel):
    return p_tuple(p_str("storage"), p_global("torch", stype), p_str(key), p_str("cpu"), p_int(numel)) + b"Q"


def p_tensor(stype, key, numel, offset, size, stride, requires_grad=False):
    return p_call(p_global("torch._utils", "_rebuild_tensor_v2"), p_storage(stype, key, numel), p_int(offset),
                  p_tuple(*map(p_int, size)), p_tuple(*map(p_int, stride)), b"\x88" if requires_grad else b"\x89",
                  p_call(p_global("collections", "OrderedDict")))


def p_param(tensor, requires_grad=True):
    return p_call(p_global("torch._utils", "_rebuild_parameter"), tensor, b"\x88" if requires_grad else b"\x89",
                  p_call(p_global("collections", "OrderedDict")))


def pickled(body):
    return b"\x80\x02" + body + b"."


def torch_zip(path, pkl, storages=(), prefix="archive", extra=(), compress=()):
    """A zip laid out as torch.save lays it out; ``extra`` are more (name, bytes) members."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names, on purpose in one test
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            z.writestr(f"{prefix}/data.pkl", pkl)
            z.writestr(f"{prefix}/byteorder", "little")
            for key, data in dict(storages).items():
                z.writestr(f"{prefix}/data/{key}", data,
                           compress_type=zipfile.ZIP_DEFLATED if key in compress else zipfile.ZIP_STORED)
            for name, data in extra:
                z.writestr(name, data)
            z.writestr(f"{prefix}/version", "3\n")
    return path


def _peak(fn):
    # tracemalloc counts every thread's allocations: let the kernels that earlier tests asked for finish
    # compiling in the background first (a compile during the load once showed a 4 MB peak)
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


def _expected_fixture():
    return OrderedDict([
        ("0.weight", np.arange(6.0, dtype=np.float32).reshape(2, 3) / 8 - 0.25),
        ("0.bias", np.array([0.5, -1.0], np.float32)),
        ("1.weight", np.array([1.5, 0.75], np.float32)),
        ("1.bias", np.array([-0.125, 0.25], np.float32)),
        ("1.running_mean", np.array([0.25, -0.5], np.float32)),
        ("1.running_var", np.array([2.0, 0.5], np.float32)),
        ("1.num_batches_tracked", np.array(7, np.int64)),
    ])


# -- the committed fixture, read without torch ---------------------------------------------------------
def test_fixture_loads_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # any `import torch` now fails
    sd = nn.load(FIXTURE)
    expected = _expected_fixture()
    assert isinstance(sd, OrderedDict) and list(sd) == list(expected)
    for k, v in expected.items():
        assert isinstance(sd[k], ag.Tensor) and not isinstance(sd[k], nn.Parameter) and not sd[k].requires_grad
        assert sd[k]._data.dtype == v.dtype and sd[k]._data.shape == v.shape, k
        np.testing.assert_array_equal(sd[k]._data, v)
    assert sd._metadata[""]["version"] == 1  # PyTorch's per-module versions come along


def test_fixture_into_the_same_nn_model_gives_the_formula(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m.load_state_dict(nn.load(FIXTURE))
    m.eval()
    x = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], np.float32)
    e = _expected_fixture()
    h = x @ e["0.weight"].T + e["0.bias"]
    ref = (h - e["1.running_mean"]) / np.sqrt(e["1.running_var"] + 1e-5) * e["1.weight"] + e["1.bias"]
    np.testing.assert_allclose(m(ag.tensor(x))._data, ref, rtol=1e-6)
    assert int(m[1].num_batches_tracked._data) == 7


def test_extension_does_not_matter(tmp_path):
    data = FIXTURE.read_bytes()
    for name in ("m.pth", "m.bin", "m.safetensors", "m"):
        (tmp_path / name).write_bytes(data)
        assert list(nn.load(tmp_path / name)) == list(_expected_fixture())


# -- hand-made checkpoints: views, sharing, dtypes ----------------------------------------------------------
def _views_file(path):
    base = np.arange(12, dtype=np.float32)
    bf = np.array([1.0, -2.5, 0.375], np.float32).view(np.uint32) >> 16
    pkl = pickled(p_dict([
        ("full", p_tensor("FloatStorage", "0", 12, 0, (3, 4), (4, 1))),
        ("transposed", p_tensor("FloatStorage", "0", 12, 0, (4, 3), (1, 4))),
        ("slice", p_tensor("FloatStorage", "0", 12, 5, (2, 3), (4, 1))),
        ("every_other", p_tensor("FloatStorage", "0", 12, 1, (6,), (2,))),
        ("scalar", p_tensor("FloatStorage", "0", 12, 11, (), ())),
        ("empty", p_tensor("FloatStorage", "0", 12, 0, (0, 5), (5, 1))),
        ("bf16", p_tensor("BFloat16Storage", "1", 3, 0, (3,), (1,))),
        ("i32", p_tensor("IntStorage", "2", 2, 0, (2,), (1,))),
        ("u8", p_tensor("ByteStorage", "3", 3, 0, (3,), (1,))),
        ("bool", p_tensor("BoolStorage", "4", 3, 0, (3,), (1,))),
        ("f16", p_tensor("HalfStorage", "5", 2, 0, (2,), (1,))),
        ("f64", p_tensor("DoubleStorage", "6", 2, 0, (2,), (1,))),
        ("i8", p_tensor("CharStorage", "7", 2, 0, (2,), (1,))),
        ("i16", p_tensor("ShortStorage", "8", 2, 0, (2,), (1,))),
        ("param", p_param(p_tensor("FloatStorage", "9", 2, 0, (2,), (1,)))),
        ("frozen", p_param(p_tensor("FloatStorage", "9", 2, 0, (2,), (1,)), requires_grad=False)),
        ("size", p_call(p_global("torch", "Size"), p_tuple(p_int(2), p_int(3)))),
        ("bytes", p_call(p_global("_codecs", "encode"), p_str("ab\u00ff"), p_str("latin1"))),
        ("meta", p_dict([("lr", b"G" + struct.pack(">d", 0.1)), ("big", p_int(2 ** 70)), ("neg", p_int(-5)),
                         ("none", b"N"), ("list", b"](" + p_int(1) + p_str("x") + b"e")], ordered=False)),
    ]))
    storages = {"0": base.tobytes(), "1": bf.astype("<u2").tobytes(), "2": np.array([-7, 9], "<i4").tobytes(),
                "3": bytes([0, 128, 255]), "4": bytes([1, 0, 3]), "5": np.array([0.5, -1], "<f2").tobytes(),
                "6": np.array([1e300, -2], "<f8").tobytes(), "7": np.array([-128, 127], "i1").tobytes(),
                "8": np.array([-300, 300], "<i2").tobytes(), "9": np.array([0.25, 4], "<f4").tobytes()}
    return torch_zip(path, pkl, storages)


def test_views_sharing_and_dtypes_without_torch(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    d = nn.load(_views_file(tmp_path / "v.pt"))
    base = np.arange(12, dtype=np.float32)
    full = d["full"]._data
    np.testing.assert_array_equal(full, base.reshape(3, 4))
    np.testing.assert_array_equal(d["transposed"]._data, base.reshape(3, 4).T)
    np.testing.assert_array_equal(d["slice"]._data, [[5, 6, 7], [9, 10, 11]])
    np.testing.assert_array_equal(d["every_other"]._data, base[1::2])
    assert d["scalar"]._data.shape == () and float(d["scalar"]._data) == 11.0
    assert d["empty"]._data.shape == (0, 5)
    for k in ("transposed", "slice", "every_other"):  # one storage in the file: one buffer after loading
        assert np.shares_memory(full, d[k]._data), k
    full[0, 0] = 100.0
    assert d["transposed"]._data[0, 0] == 100.0
    assert d["bf16"]._data.dtype == np.float32 and d["bf16"]._data.tolist() == [1.0, -2.5, 0.375]
    expected = {"i32": ([-7, 9], np.int32), "u8": ([0, 128, 255], np.uint8), "bool": ([True, False, True], np.bool_),
                "f16": ([0.5, -1], np.float16), "f64": ([1e300, -2], np.float64), "i8": ([-128, 127], np.int8),
                "i16": ([-300, 300], np.int16)}
    for k, (vals, dt) in expected.items():
        assert d[k]._data.dtype == dt and d[k]._data.tolist() == vals, k
    assert isinstance(d["param"], nn.Parameter) and d["param"].requires_grad
    assert isinstance(d["frozen"], nn.Parameter) and not d["frozen"].requires_grad
    assert d["size"] == (2, 3) and d["bytes"] == b"ab\xff"
    assert d["meta"] == {"lr": 0.1, "big": 2 ** 70, "neg": -5, "none": None, "list": [1, "x"]}
    assert type(d["meta"]) is dict and type(d) is OrderedDict


def test_hand_made_files_are_what_torch_reads(tmp_path):
    torch = pytest.importorskip("torch")
    path = _views_file(tmp_path / "v.pt")
    ref = torch.load(path, weights_only=True)
    ours = nn.load(path)
    assert list(ours) == list(ref)
    for k, v in ref.items():
        if isinstance(v, torch.Tensor):
            want = (v.float() if v.dtype == torch.bfloat16 else v.detach()).numpy()
            np.testing.assert_array_equal(ours[k]._data, want)
            assert ours[k]._data.dtype == want.dtype and isinstance(ours[k], nn.Parameter) == isinstance(
                v, torch.nn.Parameter), k
        else:
            assert ours[k] == (tuple(v) if isinstance(v, torch.Size) else v), k


# -- PyTorch-written checkpoints (torch installed) ----------------------------------------------------------
def conv_model(lib):
    return lib.Sequential(lib.Conv2d(2, 3, 3, padding=1), lib.BatchNorm2d(3), lib.ReLU(), lib.Flatten(),
                          lib.Linear(3 * 5 * 5, 4))


@pytest.mark.parametrize("name", ["model.pt", "model.pth", "pytorch_model.bin"])
def test_torch_state_dict_into_the_same_nn_model(tmp_path, name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = conv_model(torch.nn)
    theirs(torch.randn(6, 2, 5, 5))  # running stats and num_batches_tracked move
    theirs.eval()
    torch.save(theirs.state_dict(), tmp_path / name)
    sd = nn.load(tmp_path / name)
    assert list(sd) == list(theirs.state_dict())
    assert sd["1.num_batches_tracked"]._data.dtype == np.int64 and int(sd["1.num_batches_tracked"]._data) == 1
    ours = conv_model(nn)
    ours.load_state_dict(sd)
    ours.eval()
    x = np.random.default_rng(1).standard_normal((3, 2, 5, 5)).astype(np.float32)
    with torch.no_grad():
        ref = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ag.tensor(x))._data, ref, rtol=1e-5, atol=1e-6)


def test_torch_embedding_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    if getattr(nn, "Embedding", None) is None:
        pytest.skip("nn.Embedding is not there yet")
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(10, 4, padding_idx=0)
    torch.save(theirs.state_dict(), tmp_path / "e.pt")
    ours = nn.Embedding(10, 4, padding_idx=0)
    ours.load_state_dict(nn.load(tmp_path / "e.pt"))
    idx = np.array([[1, 0, 9], [3, 3, 2]])
    with torch.no_grad():
        ref = theirs(torch.from_numpy(idx)).numpy()
    np.testing.assert_array_equal(ours(ag.tensor(idx))._data, ref)


def test_torch_lstm_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    if getattr(nn, "LSTM", None) is None:
        pytest.skip("nn.LSTM is not there yet")
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
    torch.save(theirs.state_dict(), tmp_path / "l.pt")
    sd = nn.load(tmp_path / "l.pt")
    assert list(sd) == list(theirs.state_dict())  # weight_ih_l0, weight_hh_l0, bias_ih_l0, ...
    ours = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    ours.load_state_dict(sd)
    x = np.random.default_rng(2).standard_normal((2, 4, 3)).astype(np.float32)
    with torch.no_grad():
        ref, (h, c) = theirs(torch.from_numpy(x))
    out, (h2, c2) = ours(ag.tensor(x))
    np.testing.assert_allclose(out._data, ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h2._data, h.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c2._data, c.numpy(), rtol=1e-5, atol=1e-6)


def test_torch_dtypes_views_and_parameters(tmp_path):
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 6, generator=g)
    obj = {
        "f32": base, "t": base.t(), "slice": base[1:3, 2:], "col": base[:, 1], "f64": base.double(),
        "f16": base.half(), "bf16": base.bfloat16(), "i64": torch.arange(5), "i32": torch.arange(4, dtype=torch.int32),
        "u8": torch.arange(3, dtype=torch.uint8), "bool": base > 0, "p": torch.nn.Parameter(base[0].clone()),
        "nested": [{"x": base[2]}, (1, 2.5, "s", None)],
    }
    path = tmp_path / "d.pt"
    torch.save(obj, path)
    d = nn.load(path)
    for k in ("f32", "t", "slice", "col", "f64", "f16", "i64", "i32", "u8", "bool"):
        np.testing.assert_array_equal(d[k]._data, obj[k].numpy())
        assert d[k]._data.dtype == obj[k].numpy().dtype, k
    np.testing.assert_array_equal(d["bf16"]._data, obj["bf16"].float().numpy())
    assert np.shares_memory(d["f32"]._data, d["t"]._data) and np.shares_memory(d["f32"]._data, d["slice"]._data)
    assert isinstance(d["p"], nn.Parameter) and d["p"].requires_grad
    np.testing.assert_array_equal(d["nested"][0]["x"]._data, base[2].numpy())
    assert d["nested"][1] == (1, 2.5, "s", None)


def test_torch_optimizer_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    m(torch.randn(4, 3)).sum().backward()
    opt.step()
    torch.save({"model": m.state_dict(), "optim": opt.state_dict(), "epoch": 5}, tmp_path / "ck.pt")
    ck = nn.load(tmp_path / "ck.pt")
    assert ck["epoch"] == 5
    ref = opt.state_dict()
    assert ck["optim"]["param_groups"][0]["lr"] == 0.01 and ck["optim"]["param_groups"][0]["params"] == [0, 1]
    assert ck["optim"]["param_groups"][0]["betas"] == ref["param_groups"][0]["betas"]
    np.testing.assert_array_equal(ck["optim"]["state"][0]["exp_avg"]._data, ref["state"][0]["exp_avg"].numpy())
    assert float(ck["optim"]["state"][0]["step"]._data) == 1.0


def test_legacy_and_torchscript_files_are_refused(tmp_path):
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(checkpoint_torch.LEGACY_MAGIC + b"\x80\x02M\xe9\x03.")
    with pytest.raises(ValueError, match=r"'.*legacy\.pt'.*legacy \(pre-1\.6, non-zip\) PyTorch checkpoint"):
        nn.load(legacy)
    torch_zip(tmp_path / "ts.pt", pickled(b"N"), extra=[("archive/constants.pkl", pickled(b")"))])
    with pytest.raises(ValueError, match="TorchScript"):
        nn.load(tmp_path / "ts.pt")


def test_torch_written_legacy_and_torchscript_files_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="legacy"):
        nn.load(tmp_path / "old.pt")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 1)), tmp_path / "ts.pt")
    with pytest.raises(ValueError, match="TorchScript"):
        nn.load(tmp_path / "ts.pt")


# -- hostile checkpoints -------------------------------------------------------------------------------------
class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _marker(tmp_path):
    return str(tmp_path / "pwned")


W4 = p_tensor("FloatStorage", "0", 4, 0, (4,), (1,))
FLOATS4 = {"0": np.arange(4, dtype="<f4").tobytes()}

HOSTILE = {
    # forbidden globals, by name and through __reduce__
    "os_system": lambda t: pickled(p_call(p_global("os", "system"), p_str(f"touch {_marker(t)}"))),
    "posix_system_reduce": lambda t: pickle.dumps(_Reduce(os.system, (f"touch {_marker(t)}",)), protocol=2),
    "builtins_eval": lambda t: pickled(p_call(p_global("builtins", "eval"), p_str(f"open({_marker(t)!r}, 'w')"))),
    "builtins_exec_proto4": lambda t: pickle.dumps(_Reduce(exec, (f"open({_marker(t)!r}, 'w')",)), protocol=4),
    "getattr": lambda t: pickled(p_call(p_global("builtins", "getattr"), p_str("x"), p_str("y"))),
    "numpy_reconstruct": lambda t: pickle.dumps(np.arange(3), protocol=2),
    "storage_called": lambda t: pickled(p_call(p_global("torch", "FloatStorage"))),
    "complex_storage": lambda t: pickled(p_storage("ComplexFloatStorage", "0", 1)),
    "bare_storage": lambda t: pickled(p_storage("FloatStorage", "0", 4)),
    "bare_function": lambda t: pickled(p_global("torch._utils", "_rebuild_tensor_v2")),
    # opcodes a weights checkpoint never holds
    "inst": lambda t: b"\x80\x02(ios\nsystem\nS'true'\n.",
    "newobj": lambda t: pickled(p_global("collections", "OrderedDict") + b")\x81"),
    "ext1": lambda t: pickled(b"\x82\x01"),
    "text_int": lambda t: b"I1\n.",
    "build_list": lambda t: pickled(b"](" + p_int(1) + b"l" + b"}" + b"b"),
    "build_od_attr": lambda t: pickled(p_dict([]) + b"}(" + p_str("__class__") + b"Nub"),
    # huge declared counts
    "storage_1e12": lambda t: pickled(p_dict([("w", p_tensor("FloatStorage", "0", 10 ** 12, 0, (10 ** 12,), (1,)))])),
    "shape_1e12": lambda t: pickled(p_dict([("w", p_tensor("FloatStorage", "0", 4, 0, (10 ** 6, 10 ** 6),
                                                           (10 ** 6, 1)))])),
    "expanded": lambda t: pickled(p_dict([("w", p_tensor("FloatStorage", "0", 4, 0, (10 ** 6, 4), (0, 1)))])),
    "past_storage": lambda t: pickled(p_dict([("w", p_tensor("FloatStorage", "0", 4, 2, (4,), (1,)))])),
    "negative_stride": lambda t: pickled(p_dict([("w", p_tensor("FloatStorage", "0", 4, 3, (4,), (-1,)))])),
    "unicode_4gb": lambda t: b"\x80\x02X\xff\xff\xff\xffabc.",
    "long4_huge": lambda t: b"\x80\x02\x8b\xff\xff\xff\x7f\x00.",
    "binunicode8_huge": lambda t: b"\x80\x04\x8d" + struct.pack("<Q", 2 ** 62) + b"x.",
    "memo_missing": lambda t: pickled(b"j\xff\xff\xff\x7f"),
    "stack_flood": lambda t: pickled(b"N" * 110_000),
    "deep_lists": lambda t: pickled(b"]" * 100_000 + b"a" * 99_999),
    "deep_tuples": lambda t: pickled(b"N" + b"\x85" * 100_000),
    "deep_key": lambda t: pickled(b"}" + b"N" + b"\x85" * 50 + p_int(1) + b"s"),
    "list_key": lambda t: pickled(b"}" + b"]" + p_int(1) + b"s"),
    "cycle": lambda t: pickled(b"]q\x00h\x00a"),
    "no_stop": lambda t: b"\x80\x02N",
    "int_param_grad": lambda t: pickled(p_dict([("w", p_param(p_tensor("LongStorage", "1", 1, 0, (1,), (1,))))])),
    "storage_missing": lambda t: pickled(p_dict([("w", p_tensor("FloatStorage", "7", 4, 0, (4,), (1,)))])),
    "storage_two_types": lambda t: pickled(p_dict([("a", W4), ("b", p_tensor("IntStorage", "0", 4, 0, (4,), (1,)))])),
    "hooks": lambda t: pickled(p_call(p_global("torch._utils", "_rebuild_tensor_v2"),
                                      p_storage("FloatStorage", "0", 4), p_int(0), p_tuple(p_int(4)), p_tuple(p_int(1)),
                                      b"\x89", p_dict([("h", p_int(1))]))),
}


def _hostile_zip(tmp_path, case):
    storages = dict(FLOATS4)
    storages["1"] = np.array([3], "<i8").tobytes()
    return torch_zip(tmp_path / "evil.pt", HOSTILE[case](tmp_path), storages)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_pickles_are_refused_with_the_file_name(tmp_path, case):
    path = _hostile_zip(tmp_path, case)
    with pytest.raises(ValueError, match=r"nn\.load: '.*evil\.pt' is not a valid checkpoint") as e:
        nn.load(path)
    assert type(e.value) is ValueError
    assert not os.path.exists(_marker(tmp_path))  # nothing ran
    if path.stat().st_size < 10_000:  # small files that declare huge things (the big ones run slowly traced)
        assert _peak(lambda: nn.load(path)) < 1 << 20


@pytest.mark.parametrize("case, words", [
    ("os_system", "global os.system"), ("posix_system_reduce", r"global (posix|os)\.system"),
    ("builtins_eval", "global builtins.eval"), ("builtins_exec_proto4", "global builtins.exec"),
    ("numpy_reconstruct", "global numpy"), ("complex_storage", "ComplexFloatStorage"), ("inst", "opcode INST"),
    ("ext1", "opcode EXT1"), ("storage_1e12", "declares 1000000000000 elements"),
    ("shape_1e12", "reaches element"), ("expanded", "expanded view"), ("unicode_4gb", "declares 4294967295 bytes"),
    ("stack_flood", "stack grows beyond"), ("deep_lists", "nested more than 100"),
    ("deep_tuples", "nested more than 100"), ("cycle", "cycle"),
    ("int_param_grad", "only floating tensors can require gradients"), ("hooks", "backward hooks"),
])
def test_hostile_pickle_messages_say_what_is_wrong(tmp_path, case, words):
    with pytest.raises(ValueError, match=words):
        nn.load(_hostile_zip(tmp_path, case))


def test_rebuild_parameter_is_admitted(tmp_path):
    pkl = pickled(p_dict([("w", p_param(W4))]))
    d = nn.load(torch_zip(tmp_path / "p.pt", pkl, FLOATS4))
    assert isinstance(d["w"], nn.Parameter) and d["w"]._data.tolist() == [0, 1, 2, 3]


def test_zip_level_attacks(tmp_path):
    good = pickled(p_dict([("w", W4)]))
    cases = {
        "duplicate_pickle": dict(extra=[("archive/data.pkl", pickled(p_dict([])))]),
        "duplicate_storage": dict(extra=[("archive/data/0", bytes(16))]),
        "compressed_storage": dict(compress=("0",)),
        "short_storage": dict(storages={"0": bytes(12)}),
        "two_pickles": dict(extra=[("other/data.pkl", good)]),
    }
    for case, kw in cases.items():
        path = torch_zip(tmp_path / f"{case}.pt", good, kw.pop("storages", FLOATS4), **kw)
        with pytest.raises(ValueError, match=rf"nn\.load: '.*{case}\.pt' is not a valid checkpoint"):
            nn.load(path)
    with pytest.raises(ValueError, match="two members named 'archive/data/0'"):
        nn.load(tmp_path / "duplicate_storage.pt")
    with pytest.raises(ValueError, match="compressed"):
        nn.load(tmp_path / "compressed_storage.pt")


def test_a_compressed_bomb_is_never_inflated(tmp_path):
    path = torch_zip(tmp_path / "bomb.pt", pickled(p_dict([("w", W4)])), FLOATS4)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z, z.open("archive/unused", "w") as w:
        chunk = bytes(1 << 20)
        for _ in range(32):  # 32 MB that deflate to ~32 KB
            w.write(chunk)
    assert path.stat().st_size < 200_000
    with pytest.raises(ValueError, match="compressed"):
        nn.load(path)
    assert _peak(lambda: nn.load(path)) < 2 << 20


def test_unreferenced_members_are_not_read(tmp_path):
    extra = [("archive/data/99", bytes(4 << 20)), ("archive/junk", bytes(4 << 20))]
    path = torch_zip(tmp_path / "big.pt", pickled(p_dict([("w", W4)])), FLOATS4, extra=extra)
    assert nn.load(path)["w"]._data.tolist() == [0, 1, 2, 3]
    assert _peak(lambda: nn.load(path)) < 1 << 20


def _patch_central_size(data, name, size):
    """Make the central directory claim ``size`` bytes for member ``name``."""
    i = 0
    while True:
        i = data.index(b"PK\x01\x02", i)
        n = struct.unpack("<H", data[i + 28:i + 30])[0]
        if data[i + 46:i + 46 + n] == name.encode():
            return data[:i + 20] + struct.pack("<II", size, size) + data[i + 28:]
        i += 4


def test_declared_sizes_beyond_the_file_are_refused_before_allocating(tmp_path):
    pkl = pickled(p_dict([("w", p_tensor("FloatStorage", "0", 1 << 20, 0, (1 << 20,), (1,)))]))
    path = torch_zip(tmp_path / "lie.pt", pkl, FLOATS4)
    path.write_bytes(_patch_central_size(path.read_bytes(), "archive/data/0", 4 << 20))
    with pytest.raises(ValueError, match=r"'archive/data/0' declares 4194304 bytes but the file ends"):
        nn.load(path)
    assert _peak(lambda: nn.load(path)) < 1 << 20
    cut = tmp_path / "cut.pt"
    cut.write_bytes(FIXTURE.read_bytes()[:2000])
    with pytest.raises(ValueError, match="cut.pt"):
        nn.load(cut)


def test_pickle_size_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_torch, "MAX_PICKLE", 100)
    with pytest.raises(ValueError, match="at most 100 are read"):
        nn.load(FIXTURE)


def test_failed_load_state_dict_leaves_model_unchanged(tmp_path):
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = {k: v._data.copy() for k, v in m.state_dict().items()}
    sd = nn.load(FIXTURE)
    sd["1.running_var"] = ag.ones(3)  # the last float buffer does not fit: nothing may be copied
    with pytest.raises(RuntimeError, match="size mismatch for 1.running_var"):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k])

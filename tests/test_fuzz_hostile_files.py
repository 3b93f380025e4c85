"""Mutation fuzzing of every loader with hostile and corrupt files.

Valid files of each format (``nn.save`` safetensors and npz, ``torch.save`` zip and legacy when torch is
installed, a hand-made PyTorch zip checkpoint otherwise, ``safetensors.numpy.save``, MNIST IDX raw and
gzip, a CIFAR-10 python batch) are mutated with hypothesis: bytes flipped or overwritten, the file cut
or padded, safetensors JSON headers and lengths edited, zip directory entries rewritten, PyTorch pickles
rewritten (with valid CRCs) or seeded with forbidden globals. For each attempt:

* the loader returns something consistent with the original (CRC-checked formats: equal to it; others:
  at most as many elements differ as bytes were changed; safetensors headers: only what the
  ``safetensors`` package itself accepts), or raises a plain ValueError that names the file;
* the traced memory peak stays under 4 MiB plus 64 bytes per byte of the file;
* the file is byte-for-byte unchanged, no file appears outside it, nothing from a pickle runs;
* a failed ``load_state_dict`` of what was loaded leaves the model and the optimizer unchanged.

Tiny files that declare huge sizes are also loaded in a subprocess under ``RLIMIT_AS`` (200 MB above
what the interpreter already maps). Finally ``nn.save`` is checked to be atomic and to fail clearly.
"""
import gzip
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import autograd_core as ag
import nn
import optim
from nn import checkpoint_safetensors
from nn.checkpoint_structure import Refused
from nn.data import load_cifar10, load_mnist

sys.path.insert(0, str(Path(__file__).parent))
from test_checkpoint_torch import (p_call, p_dict, p_global, p_int, p_param, p_storage, p_str, p_tensor,  # noqa: E402
                                   p_tuple, pickled, torch_zip)

FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large], deadline=None)
MiB = 1 << 20
PWNED = "hostile_files_pwned"  # a file that would appear if anything from a pickle ran


# -- the valid files ---------------------------------------------------------------------------------------------
def _model_and_optimizer(seed=3):
    ag.manual_seed(seed)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = optim.Adam(m.parameters(), lr=0.01)
    m(ag.randn(5, 3)).sum().backward()  # running statistics and Adam moments that are not zero
    opt.step()
    return m, opt


def _nn_object():
    m, opt = _model_and_optimizer()
    return {
        "model": m.state_dict(), "optim": opt.state_dict(),
        "extra": {"f64": ag.tensor(np.arange(3.0)), "f16": np.array([1.5, -2.0], np.float16),
                  "i32": np.arange(6, dtype=np.int32).reshape(2, 3), "u8": np.array([0, 7, 255], np.uint8),
                  "flags": np.array([True, False]), "scalar": np.float32(1.25), "step": 7, "lr": 0.125,
                  "name": "w", "none": None, "nested": [1, (2.0, "a"), {"k": [True, {3: -1}]}],
                  "param": nn.Parameter(ag.ones(2, 2))},
    }


def _torch_object(torch):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    m(torch.randn(5, 3)).sum().backward()
    opt.step()
    base = torch.arange(24.0).reshape(4, 6)
    return {"model": m.state_dict(), "optim": opt.state_dict(),
            "views": {"base": base, "row": base[1], "col": base[:, 2], "t": base.t(), "strided": base[1:3, ::2]},
            "dtypes": [torch.arange(3, dtype=torch.float64), torch.tensor([1.5, 2.0], dtype=torch.bfloat16),
                       torch.tensor([1.0, -2.0], dtype=torch.float16), torch.arange(4, dtype=torch.int32),
                       torch.tensor([True, False]), torch.tensor(3.5)],
            "nested": {"n": 3, "x": (1.0, None, "s"), "param": torch.nn.Parameter(torch.ones(2))}}


def _hand_made_torch_pickle():
    """A torch.save-style pickle: a parameter, views with offsets and strides sharing one storage,
    an int64 scalar, nested containers."""
    body = p_dict([
        ("w", p_param(p_tensor("FloatStorage", "0", 12, 0, (3, 4), (4, 1)))),
        ("row", p_tensor("FloatStorage", "0", 12, 4, (4,), (1,))),
        ("col", p_tensor("FloatStorage", "0", 12, 1, (3,), (4,))),
        ("t", p_tensor("FloatStorage", "0", 12, 0, (4, 3), (1, 4))),
        ("n", p_tensor("LongStorage", "1", 1, 0, (), ())),
        ("h", p_tensor("HalfStorage", "2", 2, 0, (2,), (1,))),
        ("nested", p_dict([("lr", b"G" + struct.pack(">d", 0.5)), ("xs", p_tuple(p_int(1), p_str("a"), b"N"))])),
    ])
    return pickled(body)


HAND_STORAGES = {"0": np.arange(12, dtype="<f4").tobytes(), "1": np.array([7], "<i8").tobytes(),
                 "2": np.array([1.5, -2], "<f2").tobytes()}


def _cifar_batch():
    rng = np.random.default_rng(0)
    return {b"batch_label": b"testing batch 1 of 1", b"labels": [3, 9],
            b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"filenames": [b"a.png", b"b.png"]}


class _Sources(dict):
    def __repr__(self):  # hypothesis prints the arguments of a failing example: not the files' bytes
        return f"<sources {sorted(self)}>"


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """name -> (kind, bytes): every valid file the fuzzers start from."""
    root = tmp_path_factory.mktemp("sources")
    out = _Sources()
    obj = _nn_object()
    for fmt in ("safetensors", "npz"):
        p = root / f"nn.{fmt}"
        nn.save(obj, p, format=fmt)
        out[f"nn_{fmt}"] = ("safetensors" if fmt == "safetensors" else "zip", p.read_bytes())
    out["hand_torch_zip"] = ("zip", torch_zip(root / "hand.pt", _hand_made_torch_pickle(), HAND_STORAGES).read_bytes())
    try:
        import safetensors.numpy as stn
        out["package_safetensors"] = ("safetensors", stn.save({"a": np.arange(6, dtype=np.float32).reshape(2, 3),
                                                               "b": np.array([1, 2], np.int64),
                                                               "c": np.array([True, False, True])}))
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        tobj = _torch_object(torch)
        torch.save(tobj, root / "t.pt")
        out["torch_zip"] = ("zip", (root / "t.pt").read_bytes())
        torch.save(tobj, root / "legacy.pt", _use_new_zipfile_serialization=False)
        out["torch_legacy"] = ("legacy", (root / "legacy.pt").read_bytes())
    images = struct.pack(">IIII", 2051, 3, 4, 5) + bytes(range(60))
    out["idx_images"] = ("idx", images)
    out["idx_images_gz"] = ("idx_gz", gzip.compress(images, mtime=0))
    out["cifar_py2"] = ("cifar", pickle.dumps(_cifar_batch(), protocol=2))
    out["cifar_py4"] = ("cifar", pickle.dumps(_cifar_batch(), protocol=4))
    return out


# -- loading one file, and what must hold --------------------------------------------------------------------
FILE_NAMES = {"idx": "train-images-idx3-ubyte", "idx_gz": "train-images-idx3-ubyte.gz", "cifar": "test_batch"}
LABELS = struct.pack(">II", 2049, 3) + bytes([1, 2, 3])


def _load(kind, path):
    """What the file's loader returns (the readers of data sets read a folder: ``path`` has the name
    ``FILE_NAMES[kind]``, and an MNIST label file is put beside it)."""
    if kind in ("idx", "idx_gz"):
        labels = path.parent / "train-labels-idx1-ubyte"
        labels.write_bytes(LABELS)
        try:
            return load_mnist(path.parent)
        finally:
            labels.unlink()
    if kind == "cifar":
        return load_cifar10(path.parent, train=False)
    return nn.load(path)


def _leaves(x, out):
    """Flatten ``x`` into ``out`` as (kind, value) pairs; the kinds fix the structure."""
    if isinstance(x, (dict, OrderedDict)):
        out.append(("dict", tuple(map(repr, x.keys()))))
        for v in x.values():
            _leaves(v, out)
    elif isinstance(x, (list, tuple)):
        out.append((type(x).__name__, len(x)))
        for v in x:
            _leaves(v, out)
    elif isinstance(x, ag.Tensor):
        out.append((type(x).__name__, (x.requires_grad, np.asarray(x._data))))
    elif isinstance(x, (np.ndarray, np.generic)):
        out.append(("array", (None, np.asarray(x))))
    else:
        out.append((type(x).__name__, x))
    return out


def _differences(a, b):
    """The number of array elements and scalars in which ``b`` differs from ``a``; None if their
    structure (types, keys, lengths, shapes, dtypes) differs."""
    la, lb = _leaves(a, []), _leaves(b, [])
    if len(la) != len(lb):
        return None
    n = 0
    for (ka, va), (kb, vb) in zip(la, lb):
        if ka != kb:
            return None
        if ka in ("dict", "list", "tuple"):
            if va != vb:
                return None
        elif isinstance(va, tuple) and len(va) == 2 and isinstance(va[1], np.ndarray):
            (ra, xa), (rb, xb) = va, vb
            if ra != rb or xa.dtype != xb.dtype or xa.shape != xb.shape:
                return None
            same = (xa == xb) | ((xa != xa) & (xb != xb))
            n += int(np.size(same) - np.count_nonzero(same))
        elif not (va == vb or (va != va and vb != vb)):
            n += 1
    return n


def _well_formed(x, depth=0):
    """Only the types a loader may build: containers, Tensors, arrays, numpy scalars and primitives."""
    assert depth < 200
    if isinstance(x, dict):
        for k, v in x.items():
            assert k is None or isinstance(k, (str, bytes, int, float, tuple))
            _well_formed(v, depth + 1)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _well_formed(v, depth + 1)
    else:
        assert x is None or isinstance(x, (ag.Tensor, np.ndarray, np.generic, str, bytes, int, float)), type(x)
        if isinstance(x, ag.Tensor):
            assert isinstance(x._data, np.ndarray) and x._data.dtype.kind in "biuf"


def _snapshot(model, opt):
    return ({k: v._data.copy() for k, v in model.state_dict().items()},
            pickle.dumps(_plain(opt.state_dict())))


def _plain(x):
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, ag.Tensor):
        return np.asarray(x._data).copy()
    return x


def _same_snapshot(a, b):
    (sa, oa), (sb, ob) = a, b
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and sa[k].tobytes() == sb[k].tobytes(), k
    assert oa == ob


def _feed(result):
    """Load what came back into a model and an optimizer like the ones that were saved; a refusal must
    leave both unchanged, and a success must copy the values."""
    if not (isinstance(result, dict) and isinstance(result.get("model"), dict)):
        return
    m, opt = _model_and_optimizer(seed=4)  # other values than the saved ones: a partial copy would show
    before = _snapshot(m, opt)
    try:
        m.load_state_dict(result["model"])
    except (RuntimeError, TypeError, ValueError, KeyError):
        _same_snapshot(before, _snapshot(m, opt))
    else:
        for k, v in m.state_dict().items():
            np.testing.assert_array_equal(v._data, np.asarray(getattr(result["model"][k], "_data",
                                                                       result["model"][k])).astype(v._data.dtype))
    if isinstance(result.get("optim"), dict):
        before = _snapshot(m, opt)
        try:
            opt.load_state_dict(result["optim"])
        except (RuntimeError, TypeError, ValueError, KeyError):
            _same_snapshot(before, _snapshot(m, opt))


def _listing(*dirs):
    return {d: sorted(os.listdir(d)) for d in dirs}


def _attempt(tmp_path, kind, data, name=None):
    """Load ``data`` written to a fresh file; check the invariants that hold whatever happens. Returns
    (loaded object or None, the error or None)."""
    n = len(os.listdir(tmp_path))
    work, cwd = tmp_path / f"w{n}", tmp_path / f"c{n}"  # the file's folder; an empty working directory
    work.mkdir()
    cwd.mkdir()
    name = name or FILE_NAMES.get(kind, "mutated.bin")
    path = work / name
    path.write_bytes(data)
    outside = _listing(tmp_path, cwd)
    old_cwd = os.getcwd()
    os.chdir(cwd)  # relative names such as "../x" would land in tmp_path, which is watched
    from autograd_core import kernels
    kernels.wait()  # a kernel compiling in the background would count in the traced peak
    tracemalloc.start()
    result = error = None
    try:
        result = _load(kind, path)
    except ValueError as e:
        error = e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        os.chdir(old_cwd)
    # a pickle's one-byte opcode can make a 56-byte Python object (an empty list): hence 64 per byte
    assert peak < 4 * MiB + 64 * len(data), f"peak {peak} for a file of {len(data)} bytes"
    assert path.read_bytes() == data  # the file is untouched
    assert sorted(os.listdir(work)) == [name]
    assert _listing(tmp_path, cwd) == outside  # nothing appeared beside the file, nor where it was loaded
    assert not (tmp_path / PWNED).exists()
    if error is not None:
        assert type(error) in (ValueError, Refused), type(error)
        assert str(path) in str(error), str(error)
        assert len(str(error)) < 2000
    else:
        _well_formed(result)
    return result, error


# -- mutations -------------------------------------------------------------------------------------------------
NASTY = [b"\x00", b"\xff", b"\x7f", b"\x80", b"{", b"}", b"\"", b"\n", b"(", b"R", b"c", b".", b"\xff" * 8,
         b"\x00" * 8, struct.pack("<Q", 2 ** 63), struct.pack("<Q", 2 ** 40), struct.pack("<I", 2 ** 31),
         b"PK\x03\x04", b"PK\x01\x02", b"-1", b"1e999", b"[[[[", b"NaN"]


@st.composite
def mutations(draw, size):
    """(kind, position, payload) for a file of ``size`` bytes."""
    kind = draw(st.sampled_from(["flip", "overwrite", "truncate", "append", "insert", "delete"]))
    pos = draw(st.integers(0, size - 1))
    if kind == "flip":
        return kind, pos, bytes([draw(st.integers(1, 255))])
    if kind in ("overwrite", "insert", "append"):
        return kind, pos, draw(st.one_of(st.sampled_from(NASTY), st.binary(min_size=1, max_size=16)))
    if kind == "delete":
        return kind, pos, draw(st.integers(1, 64))
    return kind, pos, None


def _mutate(data, mutation):
    """(mutated bytes, touched range or None when bytes moved)."""
    kind, pos, arg = mutation
    if kind == "flip":
        return data[:pos] + bytes([data[pos] ^ arg[0]]) + data[pos + 1:], (pos, pos + 1)
    if kind == "overwrite":
        arg = arg[:len(data) - pos]
        return data[:pos] + arg + data[pos + len(arg):], (pos, pos + len(arg))
    if kind == "truncate":
        return data[:pos], None
    if kind == "append":
        return data + arg, None
    if kind == "insert":
        return data[:pos] + arg + data[pos:], None
    return data[:pos] + data[pos + arg:], None


def _safetensors_data_start(data):
    return 8 + struct.unpack("<Q", data[:8])[0]


def _reference_safetensors(data):
    """The safetensors package's reading of ``data`` (it raises if the file is invalid), or None for a
    file with bfloat16 tensors, which its NumPy API can't return."""
    import safetensors.numpy as stn
    header, _ = _split(data)
    if any(isinstance(v, dict) and v.get("dtype") == "BF16" for v in header.values()):
        return None
    return stn.load(data)


def _check_consistent(kind, original, expected, data, touched, result):
    """A file that loaded must hold what the original held, up to what the mutation could change."""
    if data == original:
        assert _differences(expected, result) == 0
        return
    if kind == "zip" or kind == "idx_gz":  # every member read is CRC-checked: a load is a faithful one
        assert _differences(expected, result) == 0
        return
    if kind == "safetensors":
        ref = _reference_safetensors(data)  # never accept a file the reference reader refuses
        if touched is not None and touched[0] >= _safetensors_data_start(original):
            assert _differences(expected, result) <= touched[1] - touched[0]
        elif ref is not None and "__structure__" not in (_split(data)[0].get("__metadata__") or {}):
            # without nn.save's key map (a mutation may rename it) the file is a dict of name -> tensor
            assert sorted(result) == sorted(ref)
            for k, v in ref.items():
                np.testing.assert_array_equal(result[k]._data, v)
        return
    assert kind in ("idx", "cifar"), kind  # no checksum: changed bytes may change as many values
    diff = _differences(expected, result)
    assert diff is not None  # the readers check the shapes
    if touched is not None:
        assert diff <= touched[1] - touched[0]
    else:  # bytes moved: only an unused byte of a pickle (a memo index, say) can go unnoticed
        assert kind == "cifar"


def _fuzz_one(tmp_path, sources, name, mutation):
    kind, original = sources[name]
    expected, error = _attempt(tmp_path, kind, original)
    if kind == "legacy":
        assert error is not None and "legacy" in str(error)
    else:
        assert error is None, error
    data, touched = _mutate(original, mutation)
    result, error = _attempt(tmp_path, kind, data)
    if error is None:
        assert kind != "legacy"
        _check_consistent(kind, original, expected, data, touched, result)
        _feed(result)


SOURCE_NAMES = ["nn_safetensors", "nn_npz", "hand_torch_zip", "package_safetensors", "torch_zip", "torch_legacy",
                "idx_images", "idx_images_gz", "cifar_py2", "cifar_py4"]


@pytest.mark.parametrize("name", SOURCE_NAMES)
@FUZZ
@given(data=st.data())
def test_byte_mutations(tmp_path, sources, name, data):
    if name not in sources:
        pytest.skip(f"{name} needs an optional package (torch or safetensors)")
    mutation = data.draw(mutations(len(sources[name][1])), label="mutation")
    _fuzz_one(tmp_path, sources, name, mutation)


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_the_originals_load_and_match(tmp_path, sources, name):
    if name not in sources:
        pytest.skip(f"{name} needs an optional package (torch or safetensors)")
    kind, original = sources[name]
    result, error = _attempt(tmp_path, kind, original)
    if kind == "legacy":
        assert error is not None and "legacy" in str(error) and "torch.load" in str(error)
        return
    assert error is None
    if name == "nn_safetensors" or name == "nn_npz":
        assert _differences(_nn_object(), result) == 0
        _feed(result)
    elif name == "hand_torch_zip":
        w = np.arange(12, dtype=np.float32).reshape(3, 4)
        np.testing.assert_array_equal(result["w"]._data, w)
        np.testing.assert_array_equal(result["col"]._data, w[:, 1])
        np.testing.assert_array_equal(result["t"]._data, w.T)
        assert np.shares_memory(result["w"]._data, result["row"]._data)
    elif name == "torch_zip":
        assert np.shares_memory(result["views"]["base"]._data, result["views"]["strided"]._data)
        np.testing.assert_array_equal(result["views"]["strided"]._data,
                                      np.arange(24.0, dtype=np.float32).reshape(4, 6)[1:3, ::2])
        _feed(result)
    elif name in ("cifar_py2", "cifar_py4"):
        images, labels = result
        assert labels.tolist() == [3, 9] and images.shape == (2, 3, 32, 32)


# -- safetensors headers -----------------------------------------------------------------------------------------
HOSTILE_OFFSETS = [[0, 2 ** 62], [2 ** 62, 2 ** 62 + 4], [2 ** 64, 2 ** 64 + 4], [-4, 0], [4, 0], [0.0, 4.0],
                   ["0", "4"], [0], [0, 4, 8], None, [True, 4]]
HOSTILE_SHAPES = [[-1], [2.5], ["3"], [2 ** 70], [0, 2 ** 63], [0, 2 ** 62], [2 ** 31, 2 ** 31], [1] * 65, None,
                  {"0": 1}, [True]]
HOSTILE_DTYPES = ["F128", "C64", "c64", "", None, 3, "f32", "F8_E4M3", "BF16", "BOOL", "U64"]
HOSTILE_LENGTHS = [0, 1, 2 ** 63, 2 ** 64 - 1, 100_000_001, 101 * MiB]


def _split(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def _join(header, body, pad=True):
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


@st.composite
def header_edits(draw, header):
    names = [k for k in header if k != "__metadata__"]
    edit = draw(st.sampled_from(["offsets", "shape", "dtype", "length", "swap", "overlap", "duplicate_bytes",
                                 "metadata", "grow"]))
    return edit, draw(st.sampled_from(names)), draw(st.sampled_from(names)), draw(st.integers(0, 10 ** 6))


def _edit_header(data, edit):
    header, body = _split(data)
    what, a, b, n = edit
    if what == "offsets":
        header[a]["data_offsets"] = HOSTILE_OFFSETS[n % len(HOSTILE_OFFSETS)]
    elif what == "shape":
        header[a]["shape"] = HOSTILE_SHAPES[n % len(HOSTILE_SHAPES)]
    elif what == "dtype":
        header[a]["dtype"] = HOSTILE_DTYPES[n % len(HOSTILE_DTYPES)]
    elif what == "swap":  # out-of-order or exchanged byte ranges
        header[a]["data_offsets"], header[b]["data_offsets"] = header[b]["data_offsets"], header[a]["data_offsets"]
    elif what == "overlap":
        lo, hi = header[a]["data_offsets"]
        shift = 1 + n % 8
        header[a]["data_offsets"] = [max(0, lo - shift), hi - shift if hi - shift >= max(0, lo - shift) else hi]
    elif what == "grow":  # a tensor claiming many more bytes than the file has
        lo, _ = header[a]["data_offsets"]
        header[a]["shape"] = [2 ** 40]
        header[a]["data_offsets"] = [lo, lo + 2 ** 40 * {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4,
                                                         "F16": 2, "BF16": 2, "I16": 2, "U16": 2}.get(
                                                             header[a]["dtype"], 1)]
    elif what == "metadata":
        meta = header.setdefault("__metadata__", {})
        meta["__structure__"] = ["[" * 50_000, "{\"format\": 1}", "null", "{}", json.dumps(
            {"format": "autograd_core.nn.save", "version": 1, "root": {"t": "tensor", "k": "nope"}})][n % 5]
    elif what == "duplicate_bytes":  # two tensors on one byte range
        header[a]["data_offsets"] = list(header[b]["data_offsets"])
    if what == "length":
        text = data[8:8 + struct.unpack("<Q", data[:8])[0]]
        return struct.pack("<Q", HOSTILE_LENGTHS[n % len(HOSTILE_LENGTHS)]) + text + body
    return _join(header, body)


@pytest.mark.parametrize("name", ["nn_safetensors", "package_safetensors"])
@FUZZ
@given(data=st.data())
def test_safetensors_header_edits(tmp_path, sources, name, data):
    if name not in sources:
        pytest.skip("needs the safetensors package")
    kind, original = sources[name]
    header, _ = _split(original)
    edit = data.draw(header_edits(header), label="edit")
    mutated = _edit_header(original, edit)
    result, error = _attempt(tmp_path, kind, mutated)
    if error is None:
        _reference_safetensors(mutated)  # what loads here, the reference reader loads too
        _feed(result)


@pytest.mark.parametrize("length, words", [
    (2 ** 63, "declares 9223372036854775808 bytes"), (101 * MiB, "at most 100000000"),
    (None, "the file has"), (2 ** 64 - 1, "declares"),
])
def test_safetensors_header_lengths_are_refused_unread(tmp_path, sources, length, words):
    _, original = sources["nn_safetensors"]
    length = len(original) if length is None else length
    data = struct.pack("<Q", length) + original[8:]
    _, error = _attempt(tmp_path, "safetensors", data, "big.safetensors")
    assert error is not None and words in str(error)


def test_a_file_that_loads_but_does_not_fit_changes_nothing(tmp_path, sources):
    """Shapes edited so that the file loads but fits neither the model nor the optimizer: the last
    parameter of the model and one Adam moment. Both refusals leave everything as it was."""
    kind, original = sources["nn_safetensors"]
    header, body = _split(original)
    header["model.2.bias"]["shape"] = [1, 2]
    moment = next(k for k in header if k.startswith("optim.state.") and k.endswith(".exp_avg"))
    header[moment]["shape"] = [1] + header[moment]["shape"]
    result, error = _attempt(tmp_path, kind, _join(header, body))
    assert error is None and result["model"]["2.bias"].shape == (1, 2)
    m, opt = _model_and_optimizer(seed=4)
    before = _snapshot(m, opt)
    with pytest.raises(RuntimeError, match="2.bias"):
        m.load_state_dict(result["model"])
    with pytest.raises(ValueError):
        opt.load_state_dict(result["optim"])
    _same_snapshot(before, _snapshot(m, opt))
    _feed(result)


# -- zip directories ---------------------------------------------------------------------------------------------
def _central_entries(data):
    """[(offset of the central record, name, offset of the local header)] of a zip archive."""
    eocd = data.rfind(b"PK\x05\x06")
    count, _, start = struct.unpack("<HII", data[eocd + 10:eocd + 20])
    out, i = [], start
    if start == 0xFFFFFFFF:  # zip64: the real offset lies in the zip64 end record
        z64 = data.rfind(b"PK\x06\x06")
        count, _, start = struct.unpack("<QQQ", data[z64 + 32:z64 + 56])
        i = start
    for _ in range(count):
        assert data[i:i + 4] == b"PK\x01\x02"
        n, m, k = struct.unpack("<HHH", data[i + 28:i + 34])
        local = struct.unpack("<I", data[i + 42:i + 46])[0]
        out.append((i, data[i + 46:i + 46 + n], local))
        i += 46 + n + m + k
    return out


ZIP_EDITS = ["file_size", "compress_size", "both_sizes", "method", "encrypted", "crc", "local_offset", "traversal",
             "duplicate", "local_name"]


def _edit_zip(data, edit, member, other, value):
    entries = _central_entries(data)
    i, name, local = entries[member % len(entries)]
    _, other_name, _ = entries[other % len(entries)]
    b = bytearray(data)
    big = [0, 1, 2 ** 31, 2 ** 32 - 2, value][value % 5]
    if edit == "file_size":
        b[i + 24:i + 28] = struct.pack("<I", big)
    elif edit == "compress_size":
        b[i + 20:i + 24] = struct.pack("<I", big)
    elif edit == "both_sizes":
        b[i + 20:i + 28] = struct.pack("<II", big, big)
    elif edit == "method":
        b[i + 10:i + 12] = struct.pack("<H", [8, 12, 14, 99][value % 4])
    elif edit == "encrypted":
        b[i + 8] |= 1
    elif edit == "crc":
        b[i + 16:i + 20] = struct.pack("<I", value)
    elif edit == "local_offset":
        b[i + 42:i + 46] = struct.pack("<I", [0, len(data) - 4, 2 ** 32 - 1, value % len(data)][value % 4])
    elif edit in ("traversal", "duplicate", "local_name"):
        new = (b"../" + name)[:len(name)] if edit == "traversal" else other_name[:len(name)].ljust(len(name), b"x")
        b[i + 46:i + 46 + len(name)] = new
        if edit != "local_name" and data[local:local + 4] == b"PK\x03\x04":  # rename consistently
            b[local + 30:local + 30 + len(name)] = new
    return bytes(b)


@pytest.mark.parametrize("name", ["nn_npz", "hand_torch_zip", "torch_zip"])
@FUZZ
@given(edit=st.sampled_from(ZIP_EDITS), member=st.integers(0, 50), other=st.integers(0, 50),
       value=st.integers(0, 2 ** 32 - 1))
def test_zip_directory_edits(tmp_path, sources, name, edit, member, other, value):
    if name not in sources:
        pytest.skip("needs torch")
    kind, original = sources[name]
    expected, _ = _attempt(tmp_path, kind, original)
    mutated = _edit_zip(original, edit, member, other, value)
    result, error = _attempt(tmp_path, kind, mutated)
    if error is None:  # a member that is read is CRC-checked; the others don't matter
        assert _differences(expected, result) == 0


def test_compressed_pickle_bomb_and_traversal_names(tmp_path):
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("archive/data.pkl", "w") as w:
            w.write(b"\x80\x02]")
            for _ in range(64):
                w.write(b"N" * MiB)  # 64 MB that deflate to ~64 KB
        z.writestr("archive/byteorder", "little")
    data = bomb.read_bytes()
    assert len(data) < MiB
    _, error = _attempt(tmp_path, "zip", data, "bomb.pt")
    assert error is not None and "compressed" in str(error)
    # members named outside the archive are never extracted: the load reads them in place or refuses
    pkl = pickled(p_dict([("w", p_tensor("FloatStorage", "0", 4, 0, (4,), (1,)))]))
    with zipfile.ZipFile(tmp_path / "trav.pt", "w") as z:
        z.writestr("../data.pkl", pkl)
        z.writestr("../data/0", np.arange(4, dtype="<f4").tobytes())
        z.writestr("/abs/x", b"x")
    result, error = _attempt(tmp_path, "zip", (tmp_path / "trav.pt").read_bytes(), "trav.pt")
    assert error is not None or result["w"]._data.tolist() == [0, 1, 2, 3]
    assert not (tmp_path / "data.pkl").exists() and not Path("/abs/x").exists()


# -- PyTorch pickles: rewritten with valid CRCs, or seeded with hostile opcodes ----------------------------------
def _marker_cmd(tmp_path):
    return f"touch {tmp_path / PWNED}"


def _dag(levels, width, tail=b""):
    """A tuple holding ``width`` copies of a tuple holding ``width`` copies of ... (through the memo):
    a few KB whose str() or hash would take time exponential in ``levels``."""
    body = b"N\x85q\x000"
    for lvl in range(1, levels + 1):
        body += b"(" + (b"h" + bytes([lvl - 1])) * width + b"tq" + bytes([lvl]) + b"0"
    return body + b"h" + bytes([levels]) + tail


def _hostile_snippets(tmp_path):
    cmd = _marker_cmd(tmp_path)
    return {
        "os_system": p_call(p_global("os", "system"), p_str(cmd)),
        "posix_system": p_call(p_global("posix", "system"), p_str(cmd)),
        "builtins_eval": p_call(p_global("builtins", "eval"), p_str(f"__import__('os').system({cmd!r})")),
        "builtins_exec": p_call(p_global("builtins", "exec"), p_str(f"import os; os.system({cmd!r})")),
        "subprocess": p_call(p_global("subprocess", "check_output"), p_tuple(p_str("sh"), p_str("-c"), p_str(cmd))),
        "stack_global": p_str("os") + p_str("system") + b"\x93" + p_tuple(p_str(cmd)) + b"R",
        "getattr_chain": p_call(p_global("builtins", "getattr"), p_global("collections", "OrderedDict"),
                                p_str("__init__")),
        "reduce_storage_type": p_call(p_global("torch", "FloatStorage"), p_int(4)),
        "reduce_rebuild_bad_args": p_call(p_global("torch._utils", "_rebuild_tensor_v2"), p_int(1), p_int(2)),
        "inst": b"(S'" + cmd.encode() + b"'\nios\nsystem\n",
        "obj": b"(" + p_global("os", "system") + p_str(cmd) + b"o",
        "deep_lists": b"]" * 110_000,
        "memo_bogus": b"j\xff\xff\xff\x7f",
        "dag_pid": _dag(5, 200, b"Q"),
        "dag_key": b"}" + _dag(5, 200, b"K\x01s"),
        "dag_shape": p_call(p_global("torch._utils", "_rebuild_tensor_v2"), p_storage("FloatStorage", "0", 12),
                            p_int(0), _dag(5, 200), p_tuple(p_int(1)), b"\x89", b"N"),
        "dag_stride": p_call(p_global("torch._utils", "_rebuild_tensor_v2"), p_storage("FloatStorage", "0", 12),
                             p_int(0), p_tuple(p_int(4)), _dag(5, 200), b"\x89", b"N"),
        "storage_2_40": p_tensor("FloatStorage", "0", 2 ** 40, 0, (2 ** 40,), (1,)),
        "shape_2_40": p_tensor("FloatStorage", "0", 12, 0, (2 ** 20, 2 ** 20), (2 ** 20, 1)),
        "negative_offset": p_tensor("FloatStorage", "0", 12, -4, (4,), (1,)),
        "negative_stride": p_tensor("FloatStorage", "0", 12, 11, (4,), (-1,)),
        "huge_stride": p_tensor("FloatStorage", "0", 12, 0, (1, 4), (2 ** 2000, 1)),
        "past_storage": p_tensor("FloatStorage", "0", 12, 10, (4,), (1,)),
        "huge_int_shape": p_tensor("FloatStorage", "0", 12, 0, (0,) + (2 ** 2000,) * 8, (1,) * 9),
        "long4_huge": b"\x8b\xff\xff\xff\x7f\x00",
        "unicode_4gb": b"X\xff\xff\xff\xffabc",
    }


HOSTILE_NAMES = sorted(_hostile_snippets(Path("/nonexistent")))


def _opcode_boundaries(data):
    import pickletools
    try:
        return [pos for _, _, pos in pickletools.genops(data)]
    except Exception:  # noqa: BLE001 - a partial walk of a foreign pickle is enough
        return [2]


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_hostile_pickles_in_a_valid_zip(tmp_path, case):
    snippet = _hostile_snippets(tmp_path)[case]
    for body in (snippet, p_dict([("w", snippet)])):
        data = torch_zip(tmp_path / "evil.pt", pickled(body), HAND_STORAGES).read_bytes()
        _, error = _attempt(tmp_path, "zip", data, "evil.pt")
        assert error is not None


@pytest.mark.parametrize("case, words", [
    ("dag_pid", "not a storage record"), ("dag_key", "dict key of more than 1000 items"),
    ("dag_shape", "malformed shape"), ("dag_stride", "malformed stride"), ("huge_stride", "malformed stride"),
    ("huge_int_shape", "malformed shape"), ("subprocess", "subprocess.check_output"),
])
def test_hostile_pickle_messages(tmp_path, case, words):
    snippet = _hostile_snippets(tmp_path)[case]
    data = torch_zip(tmp_path / "evil.pt", pickled(snippet), HAND_STORAGES).read_bytes()
    _, error = _attempt(tmp_path, "zip", data, "evil.pt")
    assert error is not None and words in str(error), str(error)


@FUZZ
@given(data=st.data())
def test_pickle_rewrites_in_a_valid_zip(tmp_path, data):
    """The pickle of a checkpoint mutated, the zip rebuilt around it with a valid CRC: what loads is well
    formed and uses only the file's storages; nothing runs."""
    original = _hand_made_torch_pickle()
    how = data.draw(st.sampled_from(["bytes", "snippet"]), label="how")
    if how == "bytes":
        mutated, _ = _mutate(original, data.draw(mutations(len(original)), label="mutation"))
    else:
        at = data.draw(st.sampled_from(_opcode_boundaries(original)), label="at")
        snippet = _hostile_snippets(tmp_path)[data.draw(st.sampled_from(HOSTILE_NAMES), label="snippet")]
        mutated = original[:at] + snippet + original[at:]
    zdata = torch_zip(tmp_path / "m.pt", mutated, HAND_STORAGES).read_bytes()
    result, error = _attempt(tmp_path, "zip", zdata, "m.pt")
    if error is None:
        if mutated == original:
            assert result["w"]._data.tolist() == np.arange(12).reshape(3, 4).tolist()
        _feed(result)


# -- CIFAR-10 python batches: the unpickler's own blow-ups ---------------------------------------------------------
def _cifar_pickles():
    """name -> a pickle whose dict key or array shape holds one tuple many times over, through the memo."""
    labels = b"C\x06labels]K\x01a"
    dtype = b"cnumpy\ndtype\n(X\x02\x00\x00\x00u1\x89\x88tR"
    shape = b"cnumpy._core.numeric\n_frombuffer\n(C\x00" + dtype + _dag(5, 200) + b"X\x01\x00\x00\x00CtR"
    return {
        "dag_key": b"\x80\x02}" + _dag(5, 200) + b"K\x01s.",
        "dag_set_item": b"\x80\x04(" + _dag(5, 200) + b"\x91.",
        "dag_shape": b"\x80\x03}C\x04data" + shape + b"s" + labels + b"s.",
    }


@pytest.mark.parametrize("case, words", [
    ("dag_key", "dict key or set item of more than 1000"), ("dag_set_item", "dict key or set item of more than 1000"),
    ("dag_shape", "is not a tuple of non-negative ints"),
])
def test_cifar_pickles_with_shared_tuples_are_refused(tmp_path, case, words):
    _, error = _attempt(tmp_path, "cifar", _cifar_pickles()[case])
    assert error is not None and words in str(error), str(error)


# -- npz key maps ------------------------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_npz_structure_rewrites(tmp_path, sources, data):
    """The key map of an nn.save .npz mutated (the zip rebuilt, so CRCs hold): refused, or well formed."""
    _, original = sources["nn_npz"]
    with np.load(io.BytesIO(original)) as z:
        arrays = {k: z[k] for k in z.files}
    doc = arrays["__structure__"].tobytes()
    mutated, _ = _mutate(doc, data.draw(mutations(len(doc)), label="mutation"))
    arrays["__structure__"] = np.frombuffer(mutated, np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    result, error = _attempt(tmp_path, "zip", buf.getvalue(), "m.npz")
    if error is None:
        _feed(result)


# -- IDX headers ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
@FUZZ
@given(dims=st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1)),
       which=st.integers(0, 2))
def test_idx_huge_dims(tmp_path, gz, dims, which):
    real = [3, 4, 5]
    real[which] = dims[which]  # one dim changed, or all
    for d in (tuple(real), dims):
        raw = struct.pack(">IIII", 2051, *d) + bytes(range(60))
        data = gzip.compress(raw, mtime=0) if gz else raw
        result, error = _attempt(tmp_path, "idx_gz" if gz else "idx", data)
        if d == (3, 4, 5):
            assert error is None
        else:
            assert error is not None


# -- tiny files claiming huge sizes, under an address-space limit ----------------------------------------------------
def _huge_claims(root, sources):
    """name -> (kind, path) of small files that declare gigabytes."""
    out = {}

    def put(name, kind, data):
        p = root / name
        p.mkdir()
        (p / FILE_NAMES.get(kind, "f.bin")).write_bytes(data)
        out[name] = (kind, str(p / FILE_NAMES.get(kind, "f.bin")))

    header, body = _split(sources["nn_safetensors"][1])
    first = next(k for k in header if k != "__metadata__")
    for shape, offsets in (([2 ** 40], [0, 2 ** 42]), ([2 ** 31, 2 ** 31], [0, 2 ** 64])):
        h = json.loads(json.dumps(header))
        h[first]["shape"], h[first]["dtype"], h[first]["data_offsets"] = shape, "F32", offsets
        put(f"st_{len(shape)}", "safetensors", _join(h, body))
    put("st_len", "safetensors", struct.pack("<Q", 99_000_000) + sources["nn_safetensors"][1][8:])
    for case, snippet in _hostile_snippets(root).items():
        if case.startswith(("dag", "storage_2_40", "shape_2_40", "deep", "long4", "unicode")):
            put(f"pkl_{case}", "zip", torch_zip(root / f"{case}.pt", pickled(snippet), HAND_STORAGES).read_bytes())
    zdata = sources["hand_torch_zip"][1]
    entries = _central_entries(zdata)
    i = next(i for i, n, _ in entries if n.endswith(b"data/0"))
    put("zip_sizes", "zip", zdata[:i + 20] + struct.pack("<II", 2 ** 32 - 2, 2 ** 32 - 2) + zdata[i + 28:])
    put("idx_dims", "idx", struct.pack(">IIII", 2051, 60000, 2 ** 16, 2 ** 16) + bytes(60))
    put("idx_gz_dims", "idx_gz", gzip.compress(struct.pack(">IIII", 2051, 2 ** 31, 2 ** 16, 2 ** 16) + bytes(1000)))
    put("cifar_stub", "cifar", pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [1]}, protocol=2)
        .replace(b"K\x01M\x00\x0c\x86", b"J\x00\x00\x00@M\x00\x0c\x86"))  # (1, 3072) -> (2**30, 3072)
    return out


_RLIMIT_SCRIPT = textwrap.dedent("""
    import json, os, resource, sys
    sys.path[:0] = [sys.argv[2], sys.argv[3]]
    import test_fuzz_hostile_files as t
    vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + 200 * 2 ** 20, resource.RLIM_INFINITY))
    from pathlib import Path
    out = {}
    try:  # the limit bites: 400 MB can't be had
        bytearray(400 * 2 ** 20)
        out["limit"] = "none"
    except MemoryError:
        out["limit"] = "MemoryError"
    for name, (kind, path) in json.loads(open(sys.argv[1]).read()).items():
        try:
            t._load(kind, Path(path))
            out[name] = "loaded"
        except ValueError as e:
            out[name] = "ValueError" if path in str(e) else "unnamed: " + str(e)[:200]
        except BaseException as e:
            out[name] = type(e).__name__ + ": " + str(e)[:200]
    print(json.dumps(out))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")
def test_huge_claims_under_an_address_space_limit(tmp_path, sources):
    files = _huge_claims(tmp_path, sources)
    (tmp_path / "files.json").write_text(json.dumps(files))
    (tmp_path / "run.py").write_text(_RLIMIT_SCRIPT)
    root = str(Path(__file__).parent.parent)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "files.json"),
                           str(Path(__file__).parent), root], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome.pop("limit") == "MemoryError"
    assert set(outcome) == set(files)
    assert {k: v for k, v in outcome.items() if v != "ValueError"} == {}


# -- nn.save --------------------------------------------------------------------------------------------------------
class _Unsaveable:
    pass


@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_save_over_an_existing_file_is_atomic(tmp_path, fmt):
    path = tmp_path / f"ckpt.{fmt}"
    nn.save({"w": ag.ones(3)}, path, format=fmt)
    old = path.read_bytes()
    with pytest.raises(TypeError, match="_Unsaveable"):
        nn.save({"w": ag.zeros(3), "bad": [1, _Unsaveable()]}, path, format=fmt)
    assert path.read_bytes() == old and os.listdir(tmp_path) == [path.name]
    assert nn.load(path)["w"]._data.tolist() == [1, 1, 1]


@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_a_write_failing_midway_leaves_the_old_file(tmp_path, monkeypatch, fmt):
    path = tmp_path / f"ckpt.{fmt}"
    nn.save({"w": ag.ones(3)}, path, format=fmt)
    old = path.read_bytes()
    from nn import checkpoint_npz

    def half_then_fail(obj, target):
        if isinstance(target, (str, os.PathLike)):
            with open(target, "wb") as f:
                f.write(b"partial")
        else:
            target.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_safetensors, "write_path", half_then_fail)
    monkeypatch.setattr(checkpoint_npz, "write", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        nn.save({"w": ag.zeros(3)}, path, format=fmt)
    assert path.read_bytes() == old and os.listdir(tmp_path) == [path.name]


def test_save_into_a_read_only_folder_errors_clearly(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "model.safetensors"
    if os.geteuid() != 0:  # root writes anywhere: then the refusal is simulated below
        folder.chmod(0o500)
        try:
            with pytest.raises(PermissionError) as e:
                nn.save({"w": ag.ones(2)}, target)
        finally:
            folder.chmod(0o700)
        assert str(target) in str(e.value) and "writable" in str(e.value)
    import tempfile

    def refuse(*args, dir=None, **kw):
        raise PermissionError(13, "Permission denied", os.path.join(dir, ".model.safetensors.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as e:
        nn.save({"w": ag.ones(2)}, target)
    msg = str(e.value)
    assert "nn.save" in msg and str(target) in msg and "writable" in msg
    assert os.listdir(folder) == []
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError, match=r"nn.save: can't write .*m.safetensors.*does not exist"):
        nn.save({"w": ag.ones(2)}, tmp_path / "missing" / "m.safetensors")

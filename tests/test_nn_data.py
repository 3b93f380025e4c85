"""Data: TensorDataset, DataLoader, and the MNIST (IDX) and CIFAR-10 (binary and python) readers on tiny
files written here, plus the real MNIST test set when ../shared/data/mnist exists."""
import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.data import DataLoader, TensorDataset, load_cifar10, load_mnist

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


# -- TensorDataset / DataLoader --------------------------------------------------------------------
def test_tensor_dataset():
    x, y = np.arange(20.0, dtype=np.float32).reshape(10, 2), np.arange(10)
    ds = TensorDataset(x, ag.tensor(y))
    assert len(ds) == 10
    a, b = ds[3]
    np.testing.assert_array_equal(a._data, [6, 7])
    assert b.item() == 3
    with pytest.raises(ValueError, match=r"size mismatch.*\[10, 9\]"):
        TensorDataset(x, y[:9])


@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False),
                                            (2, 5, True)])
def test_dataloader_batches(n, bs, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    dl = DataLoader(TensorDataset(x, y), batch_size=bs, drop_last=drop_last)
    batches = list(dl)
    assert len(batches) == len(dl) == (n // bs if drop_last else -(-n // bs))
    for xb, yb in batches:
        assert isinstance(xb, ag.Tensor) and xb.dtype == np.float32 and yb.dtype == y.dtype
        assert not xb.requires_grad
    if batches:
        seen = np.concatenate([yb._data for _, yb in batches])
        np.testing.assert_array_equal(seen, np.arange(len(seen)))
        assert all(xb.shape[0] == bs for xb, _ in batches[:-1])


def test_dataloader_shuffle_reproducible_and_complete():
    ds = TensorDataset(np.arange(50))
    ag.manual_seed(3)
    a = np.concatenate([b[0]._data for b in DataLoader(ds, batch_size=7, shuffle=True)])
    ag.manual_seed(3)
    dl = DataLoader(ds, batch_size=7, shuffle=True)
    b = np.concatenate([b[0]._data for b in dl])
    c = np.concatenate([b[0]._data for b in dl])  # the next epoch gets a new order
    np.testing.assert_array_equal(a, b)
    assert sorted(a.tolist()) == list(range(50)) and not np.array_equal(a, np.arange(50))
    assert not np.array_equal(b, c)
    g1, g2 = ag.Generator(5), ag.Generator(5)
    d1 = np.concatenate([t[0]._data for t in DataLoader(ds, 10, shuffle=True, generator=g1)])
    d2 = np.concatenate([t[0]._data for t in DataLoader(ds, 10, shuffle=True, generator=g2)])
    np.testing.assert_array_equal(d1, d2)


def test_dataloader_generic_dataset_collates():
    class Pairs:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(3, i, np.float32), "y": i, "w": float(i)}

    batches = list(DataLoader(Pairs(), batch_size=2))
    assert len(batches) == 3
    assert batches[0]["x"].shape == (2, 3) and batches[0]["y"].dtype == np.int64
    assert batches[0]["w"].dtype == np.float32
    np.testing.assert_array_equal(batches[2]["y"]._data, [4])
    assert list(DataLoader(Pairs(), batch_size=5, collate_fn=len)) == [5]
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(Pairs(), batch_size=0)


def test_batches_do_not_alias_the_dataset():
    x = np.zeros((4, 2), np.float32)
    xb, = next(iter(DataLoader(TensorDataset(x), batch_size=4)))
    xb._data += 1
    assert not x.any()


# -- MNIST ----------------------------------------------------------------------------------------
def idx_bytes(arr, magic):
    arr = np.asarray(arr, np.uint8)
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()


def write_mnist(root, prefix, images, labels, gz):
    root.mkdir(parents=True, exist_ok=True)
    for name, data in ((f"{prefix}-images-idx3-ubyte", idx_bytes(images, 2051)),
                       (f"{prefix}-labels-idx1-ubyte", idx_bytes(labels, 2049))):
        if gz:
            with gzip.open(root / (name + ".gz"), "wb") as f:
                f.write(data)
        else:
            (root / name).write_bytes(data)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_roundtrip(tmp_path, gz):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (7, 28, 28))
    labels = rng.integers(0, 10, 7)
    write_mnist(tmp_path, "train", imgs, labels, gz)
    write_mnist(tmp_path, "t10k", imgs[:3], labels[:3], not gz)
    x, y = load_mnist(tmp_path)
    assert x.shape == (7, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], (imgs / 255).astype(np.float32))
    assert x.min() >= 0 and x.max() <= 1
    np.testing.assert_array_equal(y, labels)
    xt, yt = load_mnist(tmp_path, train=False)
    assert xt.shape == (3, 1, 28, 28)
    xk, _ = load_mnist(tmp_path, kind="t10k")
    np.testing.assert_array_equal(xk, xt)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("problem", ["bad_magic_images", "bad_magic_labels", "truncated", "too_long",
                                     "count_mismatch", "short_header"])
def test_load_mnist_bad_files(tmp_path, gz, problem):
    imgs = np.zeros((4, 5, 5), np.uint8)
    labels = np.zeros(4, np.uint8)
    img_b, lab_b = idx_bytes(imgs, 2051), idx_bytes(labels, 2049)
    if problem == "bad_magic_images":
        img_b = idx_bytes(imgs, 2049)[:4] + img_b[4:]
        expect = r"train-images-idx3-ubyte.*bad magic number 2049.*expected 2051"
    elif problem == "bad_magic_labels":
        lab_b = struct.pack(">I", 2051) + lab_b[4:]
        expect = r"train-labels-idx1-ubyte.*bad magic number 2051.*expected 2049"
    elif problem == "truncated":
        img_b = img_b[:-7]
        expect = r"train-images-idx3-ubyte.*truncated"
    elif problem == "too_long":
        lab_b = lab_b + b"\0\0"
        expect = r"train-labels-idx1-ubyte.*wrong size"
    elif problem == "count_mismatch":
        lab_b = idx_bytes(labels[:3], 2049)
        expect = r"has 4 images but .*train-labels-idx1-ubyte.* has 3 labels"
    else:
        img_b = img_b[:10]
        expect = r"train-images-idx3-ubyte.*truncated IDX header"
    for name, data in (("train-images-idx3-ubyte", img_b), ("train-labels-idx1-ubyte", lab_b)):
        if gz:
            with gzip.open(tmp_path / (name + ".gz"), "wb") as f:
                f.write(data)
        else:
            (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=expect):
        load_mnist(tmp_path)


def test_load_mnist_truncated_gzip_and_missing(tmp_path):
    write_mnist(tmp_path, "train", np.zeros((2, 4, 4)), np.zeros(2), gz=True)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-12])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: corrupted or truncated gzip"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="no t10k images file"):
        load_mnist(tmp_path, train=False)


@pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(), reason="../shared/data/mnist is absent")
def test_real_mnist_test_set():
    x, y = load_mnist(MNIST_DIR, train=False)
    assert x.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


# -- CIFAR-10 --------------------------------------------------------------------------------------
def cifar_batches(n, seed, count):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, 256, (n, 3072)).astype(np.uint8), rng.integers(0, 10, n)) for _ in range(count)]


def write_cifar_bin(directory, batches, stems):
    directory.mkdir(parents=True, exist_ok=True)
    for (data, labels), stem in zip(batches, stems):
        rec = np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1)
        (directory / (stem + ".bin")).write_bytes(rec.tobytes())


def write_cifar_py(directory, batches, stems, protocol=2):
    directory.mkdir(parents=True, exist_ok=True)
    for (data, labels), stem in zip(batches, stems):
        d = {b"batch_label": b"training batch", b"labels": [int(v) for v in labels], b"data": data,
             b"filenames": [b"img_%d.png" % i for i in range(len(labels))]}
        (directory / stem).write_bytes(pickle.dumps(d, protocol=protocol))


TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.mark.parametrize("fmt", ["bin", "bin_flat", "py", "py5", "py_flat"])
def test_load_cifar10_formats(tmp_path, fmt):
    train, test = cifar_batches(3, 0, 5), cifar_batches(4, 1, 1)
    if fmt.startswith("bin"):
        d = tmp_path if fmt == "bin_flat" else tmp_path / "cifar-10-batches-bin"
        write_cifar_bin(d, train, TRAIN)
        write_cifar_bin(d, test, ["test_batch"])
    else:
        d = tmp_path if fmt == "py_flat" else tmp_path / "cifar-10-batches-py"
        proto = 5 if fmt == "py5" else 2
        write_cifar_py(d, train, TRAIN, proto)
        write_cifar_py(d, test, ["test_batch"], proto)
    x, y = load_cifar10(tmp_path)
    assert x.shape == (15, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    expect = np.concatenate([b[0] for b in train]).reshape(-1, 3, 32, 32) / np.float32(255)
    np.testing.assert_array_equal(x, expect)
    np.testing.assert_array_equal(y, np.concatenate([b[1] for b in train]))
    xt, yt = load_cifar10(tmp_path, train=False)
    assert xt.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(yt, test[0][1])
    # channel layout: the first 1024 bytes of a record are the red plane
    np.testing.assert_array_equal(xt[0, 0].ravel(), test[0][0][0, :1024] / np.float32(255))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


class EvilEval:
    def __reduce__(self):
        return (eval, ("1 + 1",))


@pytest.mark.parametrize("payload", [Evil(), EvilEval(), {b"data": Evil(), b"labels": [1]}])
def test_cifar_python_unpickler_refuses_code(tmp_path, payload):
    d = tmp_path / "cifar-10-batches-py"
    write_cifar_py(d, cifar_batches(2, 0, 1), ["test_batch"])
    (d / "test_batch").write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match=r"test_batch.*refers to (posix|nt|os|builtins|__builtin__)\.(system|eval).*refusing"):
        load_cifar10(tmp_path, train=False)


@pytest.mark.parametrize("problem", ["truncated_bin", "empty_bin", "bad_label", "truncated_py", "py_wrong_shape",
                                     "py_not_dict", "missing_batch"])
def test_cifar_bad_files(tmp_path, problem):
    if problem.endswith("bin") or problem == "bad_label":
        d = tmp_path / "cifar-10-batches-bin"
        batches = cifar_batches(2, 0, 1)
        if problem == "bad_label":
            batches[0][1][1] = 12
        write_cifar_bin(d, batches, ["test_batch"])
        p = d / "test_batch.bin"
        if problem == "truncated_bin":
            p.write_bytes(p.read_bytes()[:-100])
            expect = r"test_batch\.bin: wrong size or truncated"
        elif problem == "empty_bin":
            p.write_bytes(b"")
            expect = r"test_batch\.bin: wrong size or truncated"
        else:
            expect = r"test_batch\.bin: label 12 is out of range"
        with pytest.raises(ValueError, match=expect):
            load_cifar10(tmp_path, train=False)
        return
    d = tmp_path / "cifar-10-batches-py"
    write_cifar_py(d, cifar_batches(2, 0, 5), TRAIN)
    p = d / "data_batch_3"
    if problem == "missing_batch":
        p.unlink()
        with pytest.raises(FileNotFoundError, match=r"not \['data_batch_3'\]"):
            load_cifar10(tmp_path)
        return
    if problem == "truncated_py":
        p.write_bytes(p.read_bytes()[:-300])
        expect = r"data_batch_3: .*truncated"
    elif problem == "py_wrong_shape":
        p.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, protocol=2))
        expect = r"data_batch_3: wrong data"
    else:
        p.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
        expect = r"data_batch_3: not a CIFAR-10 python batch"
    with pytest.raises(ValueError, match=expect):
        load_cifar10(tmp_path)


def test_cifar_missing_everything(tmp_path):
    with pytest.raises(FileNotFoundError, match="no CIFAR-10 training batches"):
        load_cifar10(tmp_path)


def test_nn_exports_data_api():
    assert nn.DataLoader is DataLoader and nn.load_mnist is load_mnist and nn.data.load_cifar10 is load_cifar10

"""nn.data in one process: data sets, samplers, collation, DataLoader arguments and batches (compared with
torch.utils.data when torch is installed), and the MNIST (IDX) and CIFAR-10 readers on tiny files written
here, plus the real MNIST test set when ../shared/data/mnist exists. Worker processes are in
test_nn_data_workers.py, hostile files in test_nn_data_hostile.py."""
import collections
import gzip
import os
import pickle
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
import nn
from nn.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                     SequentialSampler, StackDataset, Subset, SubsetRandomSampler, TensorDataset,
                     WeightedRandomSampler, default_collate, default_convert, get_worker_info, load_cifar10,
                     load_mnist, random_split)

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
Point = collections.namedtuple("Point", "x y")


class Squares(Dataset):
    """Sample i is (float32 row [i, i*i], int i)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i * i], np.float32), i


class Stream(IterableDataset):
    def __init__(self, n, length=True):
        self.n, self.length = n, length

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.length:
            raise TypeError("no len")
        return self.n


def flat_ids(loader):
    return [int(v) for _, y in loader for v in y.tolist()]


# -- data sets ------------------------------------------------------------------------------------
def test_tensor_dataset():
    x, y = np.arange(20.0, dtype=np.float32).reshape(10, 2), np.arange(10)
    ds = TensorDataset(x, ag.tensor(y))
    assert len(ds) == 10
    a, b = ds[3]
    np.testing.assert_array_equal(a.numpy(), [6, 7])
    assert b.item() == 3
    with pytest.raises(ValueError, match=r"size mismatch.*\[10, 9\]"):
        TensorDataset(x, y[:9])
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1))


def test_subset_concat_chain_stack():
    base = Squares(6)
    sub = Subset(base, [4, 0, 2])
    assert len(sub) == 3 and sub[0][1] == 4 and [s[1] for s in sub.__getitems__([2, 1])] == [2, 0]
    cat = base + Squares(3)
    assert isinstance(cat, ConcatDataset) and len(cat) == 9 and cat.cumulative_sizes == [6, 9]
    assert [cat[i][1] for i in (0, 5, 6, 8, -1, -9)] == [0, 5, 0, 2, 2, 0]
    with pytest.raises(ValueError, match="out of range"):
        cat[-10]
    with pytest.raises(IndexError):
        cat[9]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="ChainDataset"):
        ConcatDataset([Stream(3)])
    chain = Stream(2) + Stream(3)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(ChainDataset([Stream(1), base]))
    tup, dic = StackDataset(base, range(10, 16)), StackDataset(a=base, b=range(10, 16))
    assert tup[2][1] == 12 and tup[2][0][1] == 2 and dic[3]["b"] == 13 and len(tup) == len(dic) == 6
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset(base, range(5))
    with pytest.raises(ValueError, match="not both"):
        StackDataset(base, b=base)


@pytest.mark.parametrize("n,fracs", [(10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (5, [0.1] * 10),
                                     (3, [1.0]), (11, [0.25, 0.25, 0.25, 0.25])])
def test_random_split_fractions(n, fracs):
    gen = ag.Generator(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = random_split(range(n), fracs, generator=gen)
    counts = [int(np.floor(n * f)) for f in fracs]
    for i in range(n - sum(counts)):  # the remainder goes round-robin from the first split on
        counts[i % len(counts)] += 1
    assert [len(p) for p in parts] == counts
    assert sorted(v for p in parts for v in p) == list(range(n))
    assert sum("is 0" in str(w.message) for w in caught) == counts.count(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = random_split(range(n), fracs, generator=ag.Generator(1))
    assert [list(p) for p in again] == [list(p) for p in parts]


def test_random_split_lengths_and_errors():
    ag.manual_seed(4)
    a, b = random_split(Squares(10), [3, 7])
    ag.manual_seed(4)
    a2, _ = random_split(Squares(10), [3, 7])
    assert list(a.indices) == list(a2.indices) and len(b) == 7
    assert sorted(a.indices + b.indices) == list(range(10))
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(range(10), [3, 6])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError, match="non-negative ints"):
        random_split(range(10), [2.5, 7.5])


# -- samplers -------------------------------------------------------------------------------------
def test_sequential_and_random_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4] and len(SequentialSampler(range(5))) == 5
    s = RandomSampler(range(20), generator=ag.Generator(3))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == sorted(e2) == list(range(20)) and e1 != e2  # a new order each epoch
    assert list(RandomSampler(range(20), generator=ag.Generator(3))) == e1
    long = list(RandomSampler(range(4), num_samples=10, generator=ag.Generator(0)))
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3] and len(set(long[8:])) == 2
    rep = list(RandomSampler(range(3), replacement=True, num_samples=100, generator=ag.Generator(0)))
    assert len(rep) == 100 and set(rep) == {0, 1, 2}
    ag.manual_seed(7)
    g1 = list(RandomSampler(range(30)))
    ag.manual_seed(7)
    assert list(RandomSampler(range(30))) == g1
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler([])


def test_subset_random_and_weighted_samplers():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=ag.Generator(2))
    assert sorted(s) == [10, 20, 30, 40] and len(s) == 4
    w = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 4000, generator=ag.Generator(0))
    draws = np.array(list(w))
    assert len(w) == 4000 and set(draws.tolist()) == {1, 3}
    frac3 = np.mean(draws == 3)
    assert abs(frac3 - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 4000)
    nr = list(WeightedRandomSampler([1, 2, 3, 4, 0], 4, replacement=False, generator=ag.Generator(0)))
    assert sorted(nr) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="replacement should be a boolean"):
        WeightedRandomSampler([1.0], 1, replacement="yes")
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 1)
    for bad in ([1.0, -1.0], [0.0, 0.0], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="non-negative and not all zero"):
            WeightedRandomSampler(bad, 1)
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0, 1.0], 3, replacement=False)


@given(n=st.integers(0, 40), bs=st.integers(1, 12), drop_last=st.booleans())
def test_batch_sampler_partitions(n, bs, drop_last):
    batches = list(BatchSampler(SequentialSampler(range(n)), bs, drop_last))
    assert len(batches) == len(BatchSampler(range(n), bs, drop_last)) == (n // bs if drop_last else -(-n // bs))
    assert all(len(b) == bs for b in batches[:-1] if b)
    assert [i for b in batches for i in b] == list(range(len(batches) * bs if drop_last else n))


def test_batch_sampler_errors():
    for bs in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            BatchSampler(range(3), bs, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)


# -- default_collate / default_convert ----------------------------------------------------------------
def test_default_collate_types():
    b = default_collate([1, 2, 3])
    assert b.dtype == np.int64 and b.tolist() == [1, 2, 3]
    assert default_collate([0.5, 1]).dtype == np.float64  # Python floats -> float64, as torch
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([1, 2.5]).dtype == ag.get_default_dtype()  # first element decides: torch.tensor rules
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([np.uint8(1), np.uint8(2)]).dtype == np.uint8
    arr = default_collate([np.zeros((2, 3), np.float64), np.ones((2, 3), np.float64)])
    assert arr.shape == (2, 2, 3) and arr.dtype == np.float64 and arr.numpy()[1].sum() == 6
    assert default_collate(["a", "b"]) == ["a", "b"] and default_collate([b"a", b"b"]) == [b"a", b"b"]
    t = default_collate([ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])])
    assert t.shape == (2, 2) and not t.requires_grad


def test_default_collate_nested():
    samples = [{"img": np.full((2, 2), i, np.float32), "meta": (i, f"n{i}", Point(i, float(i))), "ids": [i, -i]}
               for i in range(3)]
    b = default_collate(samples)
    assert set(b) == {"img", "meta", "ids"}
    assert b["img"].shape == (3, 2, 2) and b["img"].numpy()[:, 0, 0].tolist() == [0, 1, 2]
    assert isinstance(b["meta"], list) and len(b["meta"]) == 3  # a tuple field becomes a list, as torch
    assert b["meta"][0].tolist() == [0, 1, 2] and list(b["meta"][1]) == ["n0", "n1", "n2"]
    assert isinstance(b["meta"][2], Point) and b["meta"][2].y.dtype == np.float64
    assert isinstance(b["ids"], list) and b["ids"][1].tolist() == [0, -1, -2]
    od = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert type(od) is collections.OrderedDict and od["a"].tolist() == [1, 2]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size.*\[2\] at entry 0.*"
                                           r"\[3\] at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_default_convert():
    c = default_convert({"a": np.arange(3), "b": (np.float32(2), "s", 4)})
    assert c["a"].tolist() == [0, 1, 2] and isinstance(c["b"], list)
    assert c["b"][0].dtype == np.float32 and c["b"][1:] == ["s", 4]
    assert default_convert(Point(np.array(1), 2)).x.item() == 1
    strs = np.array(["x"])
    assert default_convert(strs) is strs


# -- DataLoader -----------------------------------------------------------------------------------
@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False),
                                            (2, 5, True)])
def test_dataloader_batches(n, bs, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    dl = DataLoader(TensorDataset(x, y), batch_size=bs, drop_last=drop_last)
    batches = list(dl)
    assert len(batches) == len(dl) == (n // bs if drop_last else -(-n // bs))
    for b in batches:
        assert isinstance(b, list) and len(b) == 2  # a tuple sample collates to a list, as torch
        xb, yb = b
        assert isinstance(xb, ag.Tensor) and xb.dtype == np.float32 and yb.dtype == y.dtype
        assert not xb.requires_grad
    if batches:
        seen = np.concatenate([yb.numpy() for _, yb in batches])
        np.testing.assert_array_equal(seen, np.arange(len(seen)))
        assert all(xb.shape[0] == bs for xb, _ in batches[:-1])


def test_tensor_dataset_fast_path_matches_per_sample_collation():
    x = np.random.default_rng(0).standard_normal((11, 3, 2)).astype(np.float32)
    y = np.arange(11)
    fast = TensorDataset(x, y)
    slow = Subset(StackDataset(x, y), list(range(11)))  # no batched path: collates sample by sample
    for kw in ({"batch_size": 4}, {"batch_size": 3, "drop_last": True}):
        for a, b in zip(DataLoader(fast, **kw), DataLoader(slow, **kw), strict=True):
            assert [t.dtype for t in a] == [t.dtype for t in b]
            for ta, tb in zip(a, b):
                np.testing.assert_array_equal(ta.numpy(), tb.numpy())
    sub = Subset(fast, [5, 1, 7])
    xb, yb = next(iter(DataLoader(sub, batch_size=3)))
    assert yb.tolist() == [5, 1, 7] and np.array_equal(xb.numpy(), x[[5, 1, 7]])


def test_batches_do_not_alias_the_dataset():
    x = np.zeros((4, 2), np.float32)
    for ds in (TensorDataset(x), Subset(TensorDataset(x), [0, 1, 2, 3])):
        xb, = next(iter(DataLoader(ds, batch_size=4)))
        xb.numpy()[:] += 1
        assert not x.any()


def test_dataloader_shuffle_reproducible_and_complete():
    ds = TensorDataset(np.arange(50))
    ag.manual_seed(3)
    a = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=7, shuffle=True)])
    ag.manual_seed(3)
    dl = DataLoader(ds, batch_size=7, shuffle=True)
    b = np.concatenate([b[0].numpy() for b in dl])
    c = np.concatenate([b[0].numpy() for b in dl])  # the next epoch gets a new order
    np.testing.assert_array_equal(a, b)
    assert sorted(a.tolist()) == list(range(50)) and not np.array_equal(a, np.arange(50))
    assert not np.array_equal(b, c)
    d1 = np.concatenate([t[0].numpy() for t in DataLoader(ds, 10, shuffle=True, generator=ag.Generator(5))])
    d2 = np.concatenate([t[0].numpy() for t in DataLoader(ds, 10, shuffle=True, generator=ag.Generator(5))])
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
    assert batches[0]["w"].dtype == np.float64
    np.testing.assert_array_equal(batches[2]["y"].numpy(), [4])
    assert list(DataLoader(Pairs(), batch_size=5, collate_fn=len)) == [5]


def test_dataloader_samplers_and_no_batching():
    ds = Squares(7)
    assert flat_ids(DataLoader(ds, batch_size=3, sampler=[6, 5, 4, 3])) == [6, 5, 4, 3]
    bsamp = [[0, 6], [3], [1, 2, 4]]
    dl = DataLoader(ds, batch_sampler=bsamp)
    assert [y.tolist() for _, y in dl] == bsamp and len(dl) == 3 and dl.batch_size is None
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 7 and isinstance(single[2], list) and single[2][1] == 2  # default_convert: ints stay
    assert single[2][0].shape == (2,) and single[2][0].dtype == np.float32
    assert get_worker_info() is None


def test_dataloader_iterable_dataset():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3 and len(DataLoader(Stream(7), batch_size=3,
                                                                            drop_last=True)) == 2
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3, length=False)))


@pytest.mark.parametrize("kwargs,err,match", [
    ({"shuffle": True, "sampler": [0, 1]}, ValueError, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "shuffle": True}, ValueError, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "sampler": [0]}, ValueError, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, ValueError, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, ValueError, "mutually exclusive with drop_last"),
    ({"batch_size": 0}, ValueError, "batch_size should be a positive integer"),
    ({"batch_size": -2}, ValueError, "batch_size should be a positive integer"),
    ({"num_workers": -1}, ValueError, "num_workers option should be"),
    ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified in multiprocessing"),
    ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers > 0"),
    ({"multiprocessing_context": "fork"}, ValueError, "multiprocessing_context can only be used"),
    ({"num_workers": 1, "multiprocessing_context": "nope"}, ValueError, "valid start method"),
    ({"num_workers": 1, "multiprocessing_context": 3}, TypeError, "valid context object"),
])
def test_dataloader_argument_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        DataLoader(Squares(4), **kwargs)
    torch = _torch_or_none()
    if torch is not None:
        tds = torch.utils.data.TensorDataset(torch.zeros(4))
        with pytest.raises(err):
            torch.utils.data.DataLoader(tds, **kwargs)


@pytest.mark.parametrize("kwargs,match", [({"shuffle": True}, "unspecified shuffle"),
                                          ({"sampler": [0]}, "unspecified sampler"),
                                          ({"batch_sampler": [[0]]}, "unspecified batch_sampler")])
def test_dataloader_iterable_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Stream(3), **kwargs)


def test_dataloader_attributes_frozen_and_misc_errors():
    dl = DataLoader(Squares(4), batch_size=2)
    for name in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
            setattr(dl, name, None)
    dl.num_workers = 0  # other attributes may change, as in torch
    with pytest.raises(TypeError, match="must support indexing"):
        DataLoader(42)
    with pytest.raises(ValueError, match="prefetch_factor option should be a positive int"):
        DataLoader(Squares(4), num_workers=1, prefetch_factor=0)
    assert DataLoader(Squares(4), num_workers=1).prefetch_factor == 2
    assert DataLoader(Squares(4), pin_memory=True).pin_memory is True  # accepted, does nothing


def test_nn_exports_data_api():
    assert nn.DataLoader is DataLoader and nn.load_mnist is load_mnist and nn.data.load_cifar10 is load_cifar10
    for name in nn.data.__all__:
        assert getattr(nn.data, name) is not None


# -- against torch.utils.data ---------------------------------------------------------------------
def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _same_structure(ours, theirs, torch):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ag.Tensor), type(ours)
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "").replace("bool", "bool")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            _same_structure(ours[k], theirs[k], torch)
    elif isinstance(theirs, (list, tuple)) and not (theirs and isinstance(theirs[0], (str, bytes))):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same_structure(a, b, torch)
    else:
        assert type(ours) is type(theirs) and ours == theirs


SAMPLE_MAKERS = {
    "tuple_arrays": lambda i: (np.full((2, 3), i, np.float32), i),
    "dict_nested": lambda i: {"a": np.arange(3, dtype=np.int32) + i, "b": {"c": float(i), "d": [i, i + 1]}},
    "namedtuple": lambda i: Point(np.float64(i), True),
    "strings": lambda i: (f"s{i}", b"b", np.uint8(i)),
    "list_scalars": lambda i: [i, 0.5 * i, np.float32(i)],
}


@pytest.mark.parametrize("kind", sorted(SAMPLE_MAKERS))
def test_collate_matches_torch(kind):
    torch = pytest.importorskip("torch")
    samples = [SAMPLE_MAKERS[kind](i) for i in range(4)]
    _same_structure(default_collate(samples), torch.utils.data.default_collate(samples), torch)
    _same_structure(default_convert(samples[1]), torch.utils.data.default_convert(samples[1]), torch)


class _MapSamples(Dataset):
    def __init__(self, kind, n):
        self.kind, self.n = kind, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return SAMPLE_MAKERS[self.kind](i)


@pytest.mark.parametrize("kind", sorted(SAMPLE_MAKERS))
@pytest.mark.parametrize("kw", [{"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None},
                                {"batch_size": 2, "shuffle": True}, {"batch_sampler": [[3, 1], [0, 4, 2]]}])
def test_dataloader_matches_torch(kind, kw):
    torch = pytest.importorskip("torch")
    ds = _MapSamples(kind, 7)
    ours, theirs = DataLoader(ds, **kw), torch.utils.data.DataLoader(ds, **kw)
    assert len(ours) == len(theirs)
    a, b = list(ours), list(theirs)
    assert len(a) == len(b)
    if not kw.get("shuffle"):
        for x, y in zip(a, b):
            _same_structure(x, y, torch)
    else:  # the random order can't match torch's generator: compare what doesn't depend on it
        assert [_signature(x, torch) for x in a] == [_signature(y, torch) for y in b]
        values = lambda batches, to_np: sorted(  # noqa: E731
            v for batch in batches for v in to_np(batch).ravel().tolist())
        assert values(a, lambda bt: _leaves(bt)[0].numpy()) == values(b, lambda bt: _leaves(bt)[0].numpy())


def _signature(obj, torch):
    """The structure of a batch with every tensor as (shape, dtype): what doesn't depend on the order."""
    if isinstance(obj, (ag.Tensor, torch.Tensor)):
        return ("T", tuple(obj.shape), str(obj.dtype).replace("torch.", ""))
    if isinstance(obj, dict):
        return (type(obj).__name__, tuple((k, _signature(v, torch)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_signature(v, torch) for v in obj))
    return (type(obj).__name__, len(obj) if isinstance(obj, (str, bytes)) else None)


def _leaves(obj):
    if isinstance(obj, dict):
        return [leaf for v in obj.values() for leaf in _leaves(v)]
    if isinstance(obj, (list, tuple)) and not isinstance(obj, (str, bytes)):
        return [leaf for v in obj for leaf in _leaves(v)]
    return [obj] if hasattr(obj, "numpy") else []


def test_lengths_match_torch():
    torch = pytest.importorskip("torch")
    ds = Squares(23)
    for kw in ({"batch_size": 1}, {"batch_size": 5}, {"batch_size": 5, "drop_last": True}, {"batch_size": None},
               {"batch_size": 4, "sampler": RandomSampler(ds, num_samples=30)}, {"batch_size": 23}):
        assert len(DataLoader(ds, **kw)) == len(torch.utils.data.DataLoader(ds, **kw))
    assert len(RandomSampler(ds, replacement=True, num_samples=9)) == len(
        torch.utils.data.RandomSampler(ds, replacement=True, num_samples=9))
    for n, bs, dl in ((10, 3, False), (10, 3, True), (0, 2, False)):
        assert len(BatchSampler(range(n), bs, dl)) == len(torch.utils.data.BatchSampler(range(n), bs, dl))
    assert len(DataLoader(Stream(10), batch_size=4)) == len(torch.utils.data.DataLoader(
        _TorchStream(torch, 10), batch_size=4))
    parts = random_split(range(17), [0.5, 0.3, 0.2])
    theirs = torch.utils.data.random_split(range(17), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [len(p) for p in theirs]


def _TorchStream(torch, n):
    class S(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return n
    return S()


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
    with pytest.raises(ValueError, match="kind must be"):
        load_mnist(tmp_path, kind="valid")


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
    with gzip.open(MNIST_DIR / "t10k-images-idx3-ubyte.gz", "rb") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(10000, 28, 28)
    np.testing.assert_array_equal(x[:, 0], raw.astype(np.float32) / np.float32(255))


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


@pytest.mark.parametrize("fmt", ["bin", "bin_flat", "py", "py5", "py_flat", "py_numpy1", "py_str_keys"])
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
        if fmt == "py_numpy1":  # the module names of numpy 1.x (the official files come from it)
            for p in d.iterdir():
                p.write_bytes(p.read_bytes().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
        if fmt == "py_str_keys":  # str keys and an int64 label array instead of a list
            for i, ((data, labels), stem) in enumerate(zip(train + test, TRAIN + ["test_batch"])):
                (d / stem).write_bytes(pickle.dumps({"data": data, "labels": labels.astype(np.int64)}, protocol=2))
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
    with pytest.raises(ValueError, match=r"test_batch.*refers to (posix|nt|os|builtins|__builtin__)\."
                                         r"(system|eval).*refusing"):
        load_cifar10(tmp_path, train=False)


@pytest.mark.parametrize("problem", ["truncated_bin", "empty_bin", "bad_label", "truncated_py", "py_wrong_shape",
                                     "py_not_dict", "missing_batch", "py_bad_label"])
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
    elif problem == "py_bad_label":
        p.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, -1]}, protocol=2))
        expect = r"data_batch_3: label -1 is out of range"
    else:
        p.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
        expect = r"data_batch_3: not a CIFAR-10 python batch"
    with pytest.raises(ValueError, match=expect):
        load_cifar10(tmp_path)


def test_cifar_missing_everything(tmp_path):
    with pytest.raises(FileNotFoundError, match="no CIFAR-10 training batches"):
        load_cifar10(tmp_path)


def test_module_doctests():
    import doctest

    from nn import collate, data, dataloader, dataloader_workers, dataset, sampler
    for mod in (collate, data, dataloader, dataloader_workers, dataset, sampler):
        assert doctest.testmod(mod).failed == 0, mod.__name__

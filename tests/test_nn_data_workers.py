"""DataLoader with num_workers > 0: the same batches in the same order as num_workers=0, worker identity and
seeding, iterable data sets split by get_worker_info, errors raised in workers, dead workers, timeouts,
persistent workers, clean shutdown, and the 'spawn' start method. Data sets live at module level so that
they pickle under every start method; every test finishes in a second or two (no test can hang: the
loader bounds its waits, and the tests give it timeouts)."""
import multiprocessing
import os
import random
import time

import numpy as np
import pytest

import autograd_core as ag
from nn.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler,
                     TensorDataset, WorkerInfo, get_worker_info)

T = 60  # a generous per-batch timeout: a broken loader fails instead of hanging the suite


class Items(Dataset):
    """Sample i: a dict with a float32 row, the index, the worker id and three random draws."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        return {"x": np.full(2, i, np.float32), "i": i, "worker": -1 if info is None else info.id}


class RandomDraws(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return ag.rand(1).numpy()[0], random.random(), np.random.random_sample()


class Failing(Dataset):
    def __init__(self, bad, exc):
        self.bad, self.exc = bad, exc

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"sample {i} is broken")
        return i


class Dies(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            os._exit(7)
        return i


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(2.5 if i == 2 else 0)
        return i


class Unpicklable(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return (i, lambda: i)


class Pid(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return os.getpid()


class Range(IterableDataset):
    """0 .. n-1; with shard=True each worker yields its own stride (worker k: k, k + W, ...)."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


def tag_init(worker_id):
    info = get_worker_info()
    assert info.id == worker_id
    info.dataset.tag = 100 + worker_id


class Tagged(Dataset):
    tag = -1

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return self.tag


def bad_init(worker_id):
    raise OSError(f"init failed in {worker_id}")


def as_lists(batches):
    """Batches as plain nested Python values, for exact comparison."""
    def conv(b):
        if isinstance(b, dict):
            return {k: conv(v) for k, v in b.items()}
        if isinstance(b, (list, tuple)):
            return [conv(v) for v in b]
        return b.tolist() if hasattr(b, "tolist") else b
    return [conv(b) for b in batches]


def drop_worker(batches):
    return [{k: v for k, v in b.items() if k != "worker"} for b in batches]


LOADER_KWARGS = {
    "batched": lambda: {"batch_size": 3},
    "drop_last": lambda: {"batch_size": 4, "drop_last": True},
    "unbatched": lambda: {"batch_size": None},
    "batch_sampler": lambda: {"batch_sampler": [[5, 1], [0], [2, 3, 4, 6]]},
    "sampler": lambda: {"batch_size": 2, "sampler": RandomSampler(range(11), generator=ag.Generator(1))},
}


@pytest.mark.parametrize("kind", sorted(LOADER_KWARGS))
@pytest.mark.parametrize("workers", [1, 2])
def test_same_batches_as_in_process(kind, workers):
    ds = Items(11)
    kw = LOADER_KWARGS[kind]()
    ref = as_lists(DataLoader(ds, **kw))
    kw = LOADER_KWARGS[kind]()  # a fresh sampler generator for the second run
    got = as_lists(DataLoader(ds, num_workers=workers, timeout=T, **kw))
    if kw.get("batch_size", 0) is None:
        assert [b["i"] for b in got] == [b["i"] for b in ref]
    else:
        assert drop_worker(got) == drop_worker(ref)
        # batch k was made by worker k % workers
        assert [set(b["worker"]) for b in got] == [{k % workers} for k in range(len(got))]


def test_shuffle_same_with_and_without_workers():
    ds = TensorDataset(np.arange(40))
    orders = []
    for workers in (0, 2, 0):
        ag.manual_seed(11)
        dl = DataLoader(ds, batch_size=6, shuffle=True, num_workers=workers)
        orders.append([[b[0].tolist() for b in dl] for _ in range(2)])  # two epochs
    assert orders[0] == orders[1] == orders[2]
    assert orders[0][0] != orders[0][1]
    a = [b[0].tolist() for b in DataLoader(ds, 6, shuffle=True, generator=ag.Generator(3), num_workers=2)]
    b = [b[0].tolist() for b in DataLoader(ds, 6, shuffle=True, generator=ag.Generator(3))]
    assert a == b


def test_tensor_dataset_batches_through_workers():
    x = np.random.default_rng(0).standard_normal((9, 2, 3)).astype(np.float32)
    ds = TensorDataset(ag.from_numpy(x), np.arange(9))
    for (xa, ya), (xb, yb) in zip(DataLoader(ds, 4), DataLoader(ds, 4, num_workers=2, timeout=T), strict=True):
        assert xa.dtype == xb.dtype and ya.dtype == yb.dtype and isinstance(xb, ag.Tensor)
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_worker_info_seeds_and_init_fn():
    assert get_worker_info() is None
    got = [b.tolist() for b in DataLoader(Tagged(), batch_size=2, num_workers=2, worker_init_fn=tag_init, timeout=T)]
    assert got == [[100, 100], [101, 101], [100, 100]]
    ag.manual_seed(5)
    r1 = as_lists(DataLoader(RandomDraws(), batch_size=2, num_workers=2, timeout=T))
    ag.manual_seed(5)
    r2 = as_lists(DataLoader(RandomDraws(), batch_size=2, num_workers=2, timeout=T))
    assert r1 == r2  # the workers' random state follows the main seed
    flat = [v for b in r1 for field in b for v in field]
    assert len(set(flat)) == len(flat)  # workers and epochs don't repeat each other's draws
    with pytest.raises(RuntimeError, match="read-only"):
        WorkerInfo(id=0, num_workers=1, seed=0, dataset=None).id = 3


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker processes")
def test_iterable_dataset_split_by_worker():
    got = [b.tolist() for b in DataLoader(Range(10), batch_size=2, num_workers=2, timeout=T)]
    # worker 0 holds 0,2,4,6,8 and worker 1 holds 1,3,5,7,9; their batches alternate, as in torch
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    dup = sorted(v for b in DataLoader(Range(5, shard=False), batch_size=2, num_workers=2, timeout=T)
                 for v in b.tolist())
    assert dup == sorted(list(range(5)) * 2)  # every worker reads the whole stream unless told otherwise
    uneven = [b.tolist() for b in DataLoader(Range(5), batch_size=2, num_workers=3, timeout=T)]
    assert sorted(v for b in uneven for v in b) == [0, 1, 2, 3, 4]
    assert list(DataLoader(Range(5), batch_size=None, num_workers=2, timeout=T)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("exc", [ValueError, KeyError, IndexError])
def test_worker_exception_reraised_in_main(exc):
    dl = DataLoader(Failing(5, exc), batch_size=2, num_workers=2, timeout=T)
    it = iter(dl)
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(exc, match=r"(?s)Caught .* in DataLoader worker process 0.*sample 5 is broken"):
        next(it)


def test_worker_init_fn_error_and_unpicklable_batch():
    with pytest.raises(OSError, match=r"(?s)worker_init_fn.*init failed in"):
        list(DataLoader(Items(4), num_workers=2, worker_init_fn=bad_init, timeout=T))
    with pytest.raises(Exception, match=r"(?s)DataLoader worker process 0 while sending the batch.*can't be pickled"):
        list(DataLoader(Unpicklable(), batch_size=2, collate_fn=lambda b: b, num_workers=1, timeout=T))


def test_dead_worker_raises_instead_of_hanging():
    dl = DataLoader(Dies(), batch_size=2, num_workers=2, timeout=T)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \d \(pid \d+\) exited unexpectedly \(exit code 7\)"):
        list(dl)


def test_timeout():
    it = iter(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=1.0))
    assert next(it).tolist() == [0] and next(it).tolist() == [1]
    with pytest.raises(RuntimeError, match="timed out after 1.0 seconds"):
        next(it)
    assert all(not p.is_alive() for p in it._workers)


def test_shutdown_when_iteration_stops_early_and_at_the_end():
    it = iter(DataLoader(Items(20), batch_size=2, num_workers=2, timeout=T))
    next(it)
    workers = list(it._workers)
    assert all(p.is_alive() for p in workers)
    del it
    assert all(not p.is_alive() for p in workers)
    it = iter(DataLoader(Items(3), batch_size=2, num_workers=2, timeout=T))
    assert len(list(it)) == 2
    assert all(not p.is_alive() for p in it._workers)


def test_persistent_workers():
    dl = DataLoader(Pid(), batch_size=2, num_workers=2, persistent_workers=True, timeout=T)
    first = [b.tolist() for b in dl]
    it = iter(dl)
    next(it)  # an epoch read only in part: its leftovers must not leak into the next one
    second = [b.tolist() for b in dl]
    assert len(first) == len(second) == 3
    assert {v for b in first for v in b} == {v for b in second for v in b}  # the same two processes
    assert len({v for b in first for v in b}) == 2 and os.getpid() not in {v for b in first for v in b}
    dl2 = DataLoader(Items(7), batch_size=3, num_workers=2, persistent_workers=True, timeout=T)
    for _ in range(3):
        assert [b["i"] for b in as_lists(dl2)] == [[0, 1, 2], [3, 4, 5], [6]]
    ds = Range(6)
    dl3 = DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True, timeout=T)
    assert [b.tolist() for b in dl3] == [b.tolist() for b in dl3] == [[0, 2], [1, 3], [4], [5]]
    workers = dl3._iterator._workers
    del dl3
    import gc
    gc.collect()
    assert all(not p.is_alive() for p in workers)


def test_out_of_order_delivery_keeps_every_batch():
    got = as_lists(DataLoader(Items(13), batch_size=2, num_workers=2, in_order=False, timeout=T))
    assert sorted(i for b in got for i in b["i"]) == list(range(13))


def test_custom_samplers_through_workers():
    ds = Items(10)
    bs = BatchSampler(SequentialSampler(range(10)), 3, drop_last=False)
    assert [b["i"] for b in as_lists(DataLoader(ds, batch_sampler=bs, num_workers=2, timeout=T))] == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


@pytest.mark.skipif("spawn" not in multiprocessing.get_all_start_methods(), reason="no spawn start method")
def test_spawn_start_method():
    ds = TensorDataset(np.arange(7), np.arange(7) * 2.0)
    got = [[t.tolist() for t in b] for b in DataLoader(ds, batch_size=3, num_workers=1, timeout=T,
                                                         multiprocessing_context="spawn")]
    assert got == [[t.tolist() for t in b] for b in DataLoader(ds, batch_size=3)]

    class Local(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError, match="must be picklable.*Local"):
        list(DataLoader(Local(), num_workers=1, multiprocessing_context="spawn", timeout=T))
    # pickles here but can't be rebuilt in the worker: the worker's error is raised here, not a bare exit
    with pytest.raises(ImportError, match=r"(?s)while unpickling the data set.*no module for this class"):
        list(DataLoader(Unloadable(), num_workers=1, multiprocessing_context="spawn", timeout=T))


def _fail_to_rebuild():
    raise ImportError("no module for this class in the worker")


class Unloadable(Items):
    def __init__(self):
        super().__init__(3)

    def __reduce__(self):
        return _fail_to_rebuild, ()


BASE = ag.arange(12.0).reshape(4, 3)


class Views(Dataset):
    """Samples are views of one tensor, sent unbatched: each crosses the process boundary as it is."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {"row": BASE[i], "leaf": ag.tensor([float(i)], requires_grad=True)}


class NonLeaf(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return ag.tensor([1.0], requires_grad=True) * 2


def test_tensors_cross_processes_as_arrays():
    got = list(DataLoader(Views(), batch_size=None, num_workers=2, timeout=T))
    assert [b["row"].tolist() for b in got] == BASE.tolist()
    assert all(b["leaf"].requires_grad and b["leaf"].grad_fn is None for b in got)
    with pytest.raises(Exception, match="requires grad and is not a leaf"):
        list(DataLoader(NonLeaf(), batch_size=None, num_workers=1, timeout=T))

"""share_memory_() / Module.share_memory() and autograd_core.multiprocessing: tensors that several
processes change in place (Hogwild), by fork and by spawn; pickling and deep copies; the files' life."""
import copy
import gc
import os
import pickle

import numpy as np
import pytest

import autograd_core as torch
import autograd_core.multiprocessing as mp
import nn
import optim
from autograd_core import shared


def test_share_memory_keeps_the_tensor_and_its_values():
    t = torch.arange(6.0).reshape(2, 3)
    before = t.numpy().copy()
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    np.testing.assert_array_equal(t.numpy(), before)
    path = shared.shared_file(t._data)
    assert path is not None and os.path.exists(path)
    assert t.share_memory_() is t and shared.shared_file(t._data) == path      # a second call moves nothing
    for e in (torch.tensor(5.0), torch.zeros(0, 3), torch.tensor([True, False]), torch.arange(4)):
        assert e.share_memory_().is_shared() and e.tolist() == e.clone().tolist()
    base = torch.zeros(2, 4)
    view = base.t()[1:]                       # a view moves its base along, and stays a view of it
    view.share_memory_()
    assert view.is_shared() and base.is_shared()
    with torch.no_grad():
        view.fill_(7.0)
    assert base.tolist() == [[0.0, 7.0, 7.0, 7.0]] * 2
    with pytest.raises(RuntimeError, match="view of a non-contiguous"):
        torch.zeros(3, 4).t().clone().t()[1:].share_memory_()


def test_pickled_shared_tensor_maps_the_same_memory_and_deepcopy_copies():
    p = nn.Parameter(torch.zeros(3))
    p.share_memory_()
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is nn.Parameter and q.requires_grad and q.is_shared()
    with torch.no_grad():
        q += 2.0
    assert p.tolist() == [2.0, 2.0, 2.0]                # the same memory, mapped twice
    d = copy.deepcopy(p)
    with torch.no_grad():
        d += 1.0
    assert p.tolist() == [2.0, 2.0, 2.0] and d.tolist() == [3.0, 3.0, 3.0] and not d.is_shared()
    plain = pickle.loads(pickle.dumps(torch.ones(2)))
    assert not plain.is_shared()
    v = torch.arange(12.0).reshape(3, 4).share_memory_()
    col = pickle.loads(pickle.dumps(v[:, 1]))            # a strided view travels as its place in the memory
    assert col.tolist() == [1.0, 5.0, 9.0] and col.is_shared()


def test_file_is_removed_when_the_values_are_freed():
    t = torch.ones(4).share_memory_()
    path = shared.shared_file(t._data)
    assert os.path.exists(path)
    del t
    gc.collect()
    assert not os.path.exists(path)


def test_module_share_memory_covers_parameters_and_buffers():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    assert m.share_memory() is m
    assert all(t.is_shared() for t in list(m.parameters()) + list(m.buffers()))


def _hogwild_step(rank, model):
    opt = optim.SGD(model.parameters(), lr=1.0)
    for _ in range(rank + 1):
        opt.zero_grad()
        model(torch.ones(1, 2)).sum().backward()       # d/dw = 1 for every weight, 1 for the bias
        opt.step()


def _check_hogwild(model, steps):
    np.testing.assert_allclose(model.weight.detach().numpy(), np.full((1, 2), 0.5 - steps))
    np.testing.assert_allclose(model.bias.detach().numpy(), np.full(1, 0.25 - steps))


def _model():
    m = nn.Linear(2, 1)
    with torch.no_grad():
        m.weight.fill_(0.5)
        m.bias.fill_(0.25)
    return m.share_memory()


def test_hogwild_with_fork_children():
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork here")
    model = _model()
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_hogwild_step, args=(rank, model)) for rank in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    _check_hogwild(model, 1 + 2)
    assert os.path.exists(shared.shared_file(model.weight._data))     # a child's exit keeps the parent's file


def test_hogwild_with_spawn_and_errors_from_children():
    model = _model()
    mp.spawn(_hogwild_step, args=(model,), nprocs=2)
    _check_hogwild(model, 1 + 2)
    with pytest.raises(mp.ProcessRaisedException, match="ZeroDivisionError"):
        mp.spawn(_divide_by_zero, nprocs=1)


def _divide_by_zero(rank):
    return 1 / 0

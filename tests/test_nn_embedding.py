"""nn.Embedding and F.embedding: lookup values, float64 gradcheck of the table over hypothesis-drawn index
shapes (the scatter-add of repeated indices), padding_idx, max_norm, scale_grad_by_freq, from_pretrained,
errors, and parity with PyTorch when it is installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck

F64 = np.float64


def table(V, D, seed=0):
    return ag.Tensor(np.random.default_rng(seed).normal(0, 1, (V, D)), requires_grad=True)


@given(idx_shape=st.lists(st.integers(0, 3), max_size=3).map(tuple), V=st.integers(1, 5), D=st.integers(1, 3),
       seed=st.integers(0, 1000), pad=st.booleans(), freq=st.booleans())
def test_lookup_values_and_gradcheck(idx_shape, V, D, seed, pad, freq):
    rng = np.random.default_rng(seed)
    w = table(V, D, seed)
    idx = rng.integers(0, V, idx_shape)  # repeats are likely: their gradients must add up
    padding_idx = int(rng.integers(0, V)) if pad else None
    out = F.embedding(idx, w, padding_idx=padding_idx, scale_grad_by_freq=freq)
    assert out.shape == idx_shape + (D,)
    np.testing.assert_array_equal(out._data, w._data[idx])
    if idx.size:
        # padding_idx and scale_grad_by_freq change the gradient on purpose (it is no longer the
        # derivative), so compare with the gradient written out independently
        g = rng.normal(0, 1, out.shape)
        (out * g).sum().backward()
        counts = np.bincount(idx.ravel(), minlength=V)
        expected = np.zeros((V, D))
        np.add.at(expected, idx, g / (counts[idx][..., None] if freq else 1))
        if padding_idx is not None:
            expected[padding_idx] = 0
        np.testing.assert_allclose(w.grad._data, expected, rtol=1e-12, atol=1e-14)
    if not pad and not freq:
        assert gradcheck(lambda w: F.embedding(idx, w), (w,))


def test_module_init_padding_row_and_state_dict():
    ag.manual_seed(0)
    emb = nn.Embedding(50, 8, padding_idx=-1)
    assert emb.padding_idx == 49
    assert list(emb.state_dict()) == ["weight"] and emb.weight.shape == (50, 8)
    assert (emb.weight._data[49] == 0).all()
    rest = emb.weight._data[:49]
    assert abs(rest.mean()) < 0.1 and 0.85 < rest.std() < 1.15  # N(0, 1)
    x = ag.tensor([[1, 49, 3], [49, 49, 2]])
    out = emb(x)
    assert out.shape == (2, 3, 8) and (out._data[0, 1] == 0).all()
    out.sum().backward()
    assert (emb.weight.grad._data[49] == 0).all()                   # the padding row learns nothing
    assert (emb.weight.grad._data[[1, 2, 3]] == 1).all()
    assert repr(emb) == "Embedding(50, 8, padding_idx=49)"


def test_max_norm_renormalizes_looked_up_rows_in_place():
    w = ag.Tensor(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]]))
    emb = nn.Embedding.from_pretrained(w, max_norm=1.0)
    out = emb(ag.tensor([0, 1, 0]))
    np.testing.assert_allclose(out._data, [[0.6, 0.8], [0.3, 0.4], [0.6, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(w._data[0], [0.6, 0.8], rtol=1e-6)  # changed in the table itself
    np.testing.assert_array_equal(w._data[2], [6.0, 8.0])           # not looked up: untouched
    v = emb.weight._version
    emb(ag.tensor([2]))
    assert emb.weight._version > v  # an in-place change is visible to the tape's version checks
    v = emb.weight._version
    emb(ag.tensor([1, 2]))  # all within max_norm now: nothing to change
    assert emb.weight._version == v
    inf_norm = nn.Embedding.from_pretrained(ag.tensor([[3.0, -4.0]], dtype=F64), max_norm=2.0, norm_type=float("inf"))
    np.testing.assert_allclose(inf_norm(ag.tensor([0]))._data, [[1.5, -2.0]], rtol=1e-6)


def test_from_pretrained_freeze_and_sharing():
    w = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad and list(frozen.parameters()) == [frozen.weight]
    assert frozen.weight._data is w._data or np.shares_memory(frozen.weight._data, w._data)
    assert not frozen(ag.tensor([1])).requires_grad
    free = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert free.weight.requires_grad
    np.testing.assert_array_equal(free.weight._data[0], [1.0, 2.0])  # not zeroed, as PyTorch
    free(ag.tensor([0, 1])).sum().backward()
    np.testing.assert_array_equal(free.weight.grad._data, [[0, 0], [1, 1]])
    from_array = nn.Embedding.from_pretrained(np.ones((3, 2)))
    assert from_array.num_embeddings == 3 and from_array.embedding_dim == 2


def test_errors_are_clear():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index 5 is out of range for a table of 5 rows"):
        emb(ag.tensor([0, 5]))
    with pytest.raises(IndexError, match="out of range"):
        emb(ag.tensor([-1]))
    with pytest.raises(TypeError, match="integer tensor"):
        emb(ag.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="2-D"):
        nn.Embedding.from_pretrained(ag.ones(3))
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Embedding(5, 2, device="cuda")


@pytest.mark.parametrize("kw", [dict(), dict(padding_idx=2), dict(scale_grad_by_freq=True),
                                dict(max_norm=1.5), dict(max_norm=0.8, norm_type=1.0, padding_idx=0)])
def test_parity_with_torch(kw):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Embedding(6, 3, dtype=torch.float64, **kw)
    om = nn.Embedding(6, 3, dtype=F64, **kw)
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    assert [(k, v.shape) for k, v in sd.items()] == [(k, tuple(v.shape)) for k, v in om.state_dict().items()]
    om.load_state_dict(sd)
    idx = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])
    t_out, o_out = tm(torch.tensor(idx)), om(ag.tensor(idx))
    np.testing.assert_allclose(o_out._data, t_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(om.weight._data, tm.weight.detach().numpy(), rtol=1e-12)  # max_norm's change
    g = np.random.default_rng(0).normal(0, 1, t_out.shape)
    (t_out * torch.tensor(g)).sum().backward()
    (o_out * g).sum().backward()
    np.testing.assert_allclose(om.weight.grad._data, tm.weight.grad.numpy(), rtol=1e-12, atol=1e-14)


# -- EmbeddingBag -------------------------------------------------------------------------------------
@given(n_bags=st.integers(1, 4), dim=st.integers(1, 3), mode=st.sampled_from(["sum", "mean", "max"]),
       weighted=st.booleans(), seed=st.integers(0, 1000))
def test_embedding_bag_gradcheck(n_bags, dim, mode, weighted, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0 if mode != "max" else 1, 4, n_bags)
    idx = rng.integers(0, 5, int(lengths.sum()))
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    w = ag.tensor(rng.standard_normal((5, dim)), requires_grad=True)
    psw = ag.tensor(rng.uniform(0.5, 1.5, idx.size), requires_grad=True) if weighted and mode == "sum" else None
    args = (w,) if psw is None else (w, psw)

    def f(w, p=None):
        return F.embedding_bag(ag.tensor(idx), w, ag.tensor(offsets), mode=mode, per_sample_weights=p)
    assert gradcheck(f, args)


def test_embedding_bag_by_hand():
    w = ag.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, -3.0], [5.0, 5.0]], requires_grad=True)
    idx, off = ag.tensor([0, 1, 2, 2, 3]), ag.tensor([0, 2, 2])   # bags [0, 1], [], [2, 2, 3]
    np.testing.assert_allclose(F.embedding_bag(idx, w, off, mode="sum")._data, [[1, 2], [0, 0], [11, -1]])
    np.testing.assert_allclose(F.embedding_bag(idx, w, off, mode="mean")._data, [[0.5, 1], [0, 0], [11 / 3, -1 / 3]])
    out = F.embedding_bag(idx, w, off, mode="max")
    np.testing.assert_allclose(out._data, [[1, 2], [0, 0], [5, 5]])
    out.sum().backward()
    np.testing.assert_allclose(w.grad._data, [[1, 0], [0, 1], [0, 0], [1, 1]])
    # padding_idx leaves the index out of its bag (and out of the mean's count)
    np.testing.assert_allclose(F.embedding_bag(ag.tensor([[0, 3, 3]]), w, mode="mean", padding_idx=3)._data, [[1, 0]])
    # include_last_offset: the last offset is the end of the last bag
    np.testing.assert_allclose(F.embedding_bag(idx, w, ag.tensor([0, 2, 4]), mode="sum",
                                               include_last_offset=True)._data, [[1, 2], [6, -6]])
    bag = nn.EmbeddingBag(4, 2, mode="sum")
    assert bag(ag.tensor([[1, 2], [3, 0]])).shape == (2, 2)
    with pytest.raises(ValueError, match="offsets"):
        F.embedding_bag(ag.tensor([0, 1]), w)
    with pytest.raises(ValueError, match="offsets\\[0\\] must be 0"):
        F.embedding_bag(ag.tensor([0, 1]), w, ag.tensor([1]))
    with pytest.raises(ValueError, match="only supported with mode='sum'"):
        F.embedding_bag(ag.tensor([[0, 1]]), w, mode="mean", per_sample_weights=ag.ones(1, 2))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_matches_torch(mode, padding_idx):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    table = rng.standard_normal((7, 3))
    idx, off = np.array([0, 1, 2, 2, 5, 6, 1, 3, 3]), np.array([0, 2, 2, 5])
    for ilo in (False, True):
        o = off if not ilo else np.append(off, idx.size)
        psw = rng.uniform(0.5, 2, idx.size) if mode == "sum" else None
        wa, wt = ag.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
        ya = F.embedding_bag(ag.tensor(idx), wa, ag.tensor(o), mode=mode, padding_idx=padding_idx,
                             include_last_offset=ilo, per_sample_weights=None if psw is None else ag.tensor(psw))
        yt = torch.nn.functional.embedding_bag(torch.tensor(idx), wt, torch.tensor(o), mode=mode,
                                               padding_idx=padding_idx, include_last_offset=ilo,
                                               per_sample_weights=None if psw is None else torch.tensor(psw))
        v = rng.standard_normal(tuple(yt.shape))
        (ya * ag.tensor(v)).sum().backward()
        (yt * torch.tensor(v)).sum().backward()
        np.testing.assert_allclose(ya._data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(wa.grad._data, wt.grad.numpy(), rtol=1e-12, atol=1e-12)

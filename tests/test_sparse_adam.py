"""optim.SparseAdam with Embedding(sparse=True): only the looked-up rows move and keep moments; the
update is Adam's on those rows (checked by hand), and the trajectory matches torch's SparseAdam on
torch's sparse gradients."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import optim


def _torch():
    return pytest.importorskip("torch")


def test_sparse_embedding_gives_the_dense_gradient():
    emb = nn.Embedding(5, 3, sparse=True)
    assert "sparse=True" in repr(emb)
    emb(ag.tensor([1, 1, 4])).sum().backward()
    g = emb.weight.grad.numpy()
    np.testing.assert_array_equal(g[[0, 2, 3]], 0.0)
    np.testing.assert_array_equal(g[1], 2.0)
    np.testing.assert_array_equal(g[4], 1.0)


def test_only_touched_rows_move_and_keep_moments_by_hand():
    emb = nn.Embedding(4, 2, sparse=True)
    w0 = emb.weight.detach().numpy().copy()
    opt = optim.SparseAdam(emb.parameters(), lr=0.1, betas=(0.9, 0.99), eps=1e-8)
    emb(ag.tensor([2])).sum().backward()
    opt.step()
    w1 = emb.weight.detach().numpy()
    np.testing.assert_array_equal(w1[[0, 1, 3]], w0[[0, 1, 3]])
    # first step: m = 0.1 g, v = 0.01 g², step = 0.1 sqrt(0.01) / 0.1 = 0.1; update = 0.1 * m / (sqrt(v) + eps)
    np.testing.assert_allclose(w1[2], w0[2] - 0.1 * 0.1 / (0.1 + 1e-8), rtol=1e-6)
    state = opt.state[emb.weight]
    assert state["step"] == 1 and np.all(state["exp_avg"][[0, 1, 3]] == 0)
    opt.zero_grad()
    emb(ag.tensor([0])).sum().backward()
    opt.step()
    np.testing.assert_allclose(state["exp_avg"][2], 0.1, rtol=1e-6)     # row 2 untouched: no decay
    assert state["exp_avg"][0, 0] == pytest.approx(0.1)


def test_argument_checks():
    w = ag.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SparseAdam([w], lr=0.0)
    with pytest.raises(ValueError, match="betas"):
        optim.SparseAdam([w], betas=(0.9, 1.5))


def test_matches_torch_sparse_adam():
    torch = _torch()
    rng = np.random.default_rng(0)
    table = rng.standard_normal((6, 3)).astype(np.float32)
    eo = nn.Embedding(6, 3, sparse=True)
    et = torch.nn.Embedding(6, 3, sparse=True)
    with ag.no_grad():
        eo.weight.copy_(ag.tensor(table))
    with torch.no_grad():
        et.weight.copy_(torch.tensor(table))
    oo = optim.SparseAdam(eo.parameters(), lr=0.05)
    ot = torch.optim.SparseAdam(et.parameters(), lr=0.05)
    target = rng.standard_normal(3).astype(np.float32)
    for step in range(6):
        idx = rng.integers(0, 6, 4)
        for o, e, M in ((oo, eo, ag), (ot, et, torch)):
            o.zero_grad()
            ((e(M.tensor(idx)) - M.tensor(target)) ** 2).sum().backward()
            o.step()
        np.testing.assert_allclose(eo.weight.detach().numpy(), et.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "Adamax",
                                  "RAdam", "Rprop", "ASGD", "Lion"])
def test_pytorch_implementation_switches_are_accepted(name):
    """foreach / capturable (and fused where PyTorch has it) change nothing; differentiable=True raises."""
    w1 = ag.tensor([1.0, -2.0], requires_grad=True)
    w2 = ag.tensor([1.0, -2.0], requires_grad=True)
    extra = {"fused": False} if name in ("SGD", "Adagrad", "Adam", "AdamW") else {}
    o1 = getattr(optim, name)([w1], lr=0.1)
    o2 = getattr(optim, name)([w2], lr=0.1, foreach=True, capturable=False, **extra)
    for w, o in ((w1, o1), (w2, o2)):
        for _ in range(3):
            o.zero_grad()
            (w * w).sum().backward()
            o.step()
    np.testing.assert_array_equal(w1.detach().numpy(), w2.detach().numpy())
    with pytest.raises(NotImplementedError, match="differentiable"):
        getattr(optim, name)([w1], lr=0.1, differentiable=True)

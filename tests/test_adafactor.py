"""optim.Adafactor: the first step of a vector parameter by hand, the factored second moment's state
shapes, its argument checks, and PyTorch's trajectory for matrices, vectors and batches of matrices."""
import math

import numpy as np
import pytest

import autograd_core as ag
import optim


def _torch():
    return pytest.importorskip("torch")


def test_first_step_of_a_vector_by_hand():
    w0 = np.array([1.0, -2.0, 0.5])
    w = ag.tensor(w0, requires_grad=True)
    opt = optim.Adafactor([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    g = 2 * w0
    v = g * g                                   # 1 - beta2_1 = 1: v is g² at the first step
    u = g / np.sqrt(v)                          # the signs
    alpha = max(1e-3, math.sqrt(np.mean(w0 ** 2))) * min(0.1, 1.0)
    denom = max(1.0, math.sqrt(np.mean(u ** 2)))
    np.testing.assert_allclose(w.detach().numpy(), w0 - alpha / denom * u, rtol=1e-12)


def test_factored_state_for_matrices():
    w = ag.zeros(2, 5, 3, requires_grad=True)
    opt = optim.Adafactor([w])
    (w + 1).square().sum().backward()
    opt.step()
    state = opt.state[w]
    assert state["row_var"].shape == (2, 5, 1) and state["col_var"].shape == (2, 1, 3) and "variance" not in state


def test_argument_checks():
    w = ag.zeros(2, requires_grad=True)
    for kw, word in ((dict(beta2_decay=0.5), "beta2_decay"), (dict(d=0.5), "d should"),
                     (dict(eps=(None, -1.0)), "epsilon2"), (dict(lr=-1.0), "lr")):
        with pytest.raises(ValueError, match=word):
            optim.Adafactor([w], **kw)


@pytest.mark.parametrize("kw", [dict(), dict(weight_decay=0.1), dict(lr=0.5, d=1.5),
                                dict(eps=(1e-5, 1e-2), beta2_decay=-0.5), dict(maximize=True)])
def test_matches_torch(kw):
    torch = _torch()
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 3, 4))]
    po = [ag.tensor(w, requires_grad=True) for w in ws]
    pt = [torch.tensor(w, requires_grad=True) for w in ws]
    oo, ot = optim.Adafactor(po, **kw), torch.optim.Adafactor(pt, **kw)
    for _ in range(5):
        for params, opt in ((po, oo), (pt, ot)):
            opt.zero_grad()
            sum((p * p * p).sum() for p in params).backward()
            opt.step()
    for a, b in zip(po, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_state_dict_round_trip_with_factored_state():
    # the row and column variances of a matrix are smaller than the matrix: loading them back is allowed
    w = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = ag.tensor([1.0, -1.0], requires_grad=True)
    opt = optim.Adafactor([w, b], lr=0.05)
    (w.square().sum() + (w.sum(1) * b).sum()).backward()
    opt.step()
    again = optim.Adafactor([w, b], lr=0.05)
    again.load_state_dict(opt.state_dict())
    assert again.state[w]["row_var"].shape == (2, 1) and again.state[b]["variance"].shape == (2,)
    np.testing.assert_array_equal(again.state[w]["col_var"], opt.state[w]["col_var"])
    bad = opt.state_dict()
    bad["state"][0]["row_var"] = np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"row_var.*\(3, 1\).*needs \(2, 1\)"):
        again.load_state_dict(bad)

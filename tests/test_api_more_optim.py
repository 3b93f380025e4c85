"""Adamax, RAdam, Rprop, ASGD and LBFGS: trajectories on a small least-squares problem compared with PyTorch's step
by step (float64) when it is installed, and each update rule written out independently here either way."""
import math

import numpy as np
import pytest

import autograd_core as ag
import optim

CONFIGS = [
    ("Adamax", {"lr": 0.05}), ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "betas": (0.8, 0.9)}),
    ("Adamax", {"lr": 0.05, "maximize": True}),
    ("RAdam", {"lr": 0.05}), ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Rprop", {"lr": 0.05}), ("Rprop", {"lr": 0.02, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.5)}),
    ("ASGD", {"lr": 0.05}), ("ASGD", {"lr": 0.05, "t0": 5, "lambd": 0.01, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.02, "t0": 3, "alpha": 0.5, "maximize": True}),
]


def _problem(lib):
    rng = np.random.default_rng(0)
    A, b, w0 = rng.standard_normal((6, 3)), rng.standard_normal(6), rng.standard_normal(3)
    if lib == "torch":
        import torch
        return torch.tensor(A), torch.tensor(b), torch.tensor(w0, requires_grad=True)
    return ag.tensor(A), ag.tensor(b), ag.tensor(w0, requires_grad=True)


def _loss(A, b, w):
    r = A @ w - b
    return (r * r).sum() + (w ** 4).sum() * 0.1


def _trajectory(lib, name, kw, steps=25):
    A, b, w = _problem(lib)
    mod = __import__("torch").optim if lib == "torch" else optim
    opt = getattr(mod, name)([w], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(A, b, w)
        loss.backward()
        opt.step()
        out.append(np.array(w.detach().numpy()))
    return np.array(out)


@pytest.mark.parametrize("name, kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_trajectory_matches_torch(name, kw):
    pytest.importorskip("torch")
    np.testing.assert_allclose(_trajectory("ours", name, kw), _trajectory("torch", name, kw), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"lr": 0.5, "max_iter": 7, "history_size": 3},
                                {"max_iter": 3, "tolerance_change": 1e-3}])
def test_lbfgs_matches_torch(kw):
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    for lib, out in (("ours", ours), ("torch", theirs)):
        A, b, w = _problem(lib)
        opt = (torch.optim if lib == "torch" else optim).LBFGS([w], **kw)
        evals = [0]

        def closure():
            evals[0] += 1
            opt.zero_grad()
            loss = _loss(A, b, w)
            loss.backward()
            return loss
        for _ in range(3):
            out.append(float(opt.step(closure)))
            out.append(np.array(w.detach().numpy()))
        out.append(evals[0])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_rules_written_out():
    # Adamax, one step from zero state: m = (1 - b1) g, u = max(0, |g| + eps), p -= lr / (1 - b1) * m / u
    w = ag.tensor([1.0, -3.0], dtype=ag.float64, requires_grad=True)
    opt = optim.Adamax([w], lr=0.1, betas=(0.9, 0.99))
    (w * w).sum().backward()
    opt.step()
    g = np.array([2.0, -6.0])
    np.testing.assert_allclose(w._data, [1.0, -3.0] - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    # RAdam's rectified branch (rho_t > 5) first happens at step 6 with beta2 = 0.999
    beta2 = 0.999
    rho_inf = 2 / (1 - beta2) - 1
    rho = [rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t) for t in range(1, 8)]
    assert [r > 5 for r in rho] == [False] * 5 + [True] * 2
    w = ag.tensor([2.0], dtype=ag.float64, requires_grad=True)
    opt = optim.RAdam([w], lr=0.01)
    (w * 1.0).sum().backward()   # gradient 1 at every step
    m = v = 0.0
    p = 2.0
    for t in range(1, 8):
        opt.step()
        m = 0.9 * m + 0.1
        v = 0.999 * v + 0.001
        m_hat = m / (1 - 0.9 ** t)
        if rho[t - 1] > 5:
            r = math.sqrt((rho[t - 1] - 4) * (rho[t - 1] - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho[t - 1]))
            p -= 0.01 * m_hat * r * math.sqrt(1 - 0.999 ** t) / (math.sqrt(v) + 1e-8)
        else:
            p -= 0.01 * m_hat
        assert w._data[0] == pytest.approx(p, rel=1e-12)
    # Rprop: same sign grows the step (1.2x), a flip shrinks it (0.5x) and skips that element once
    w = ag.tensor([1.0], dtype=ag.float64, requires_grad=True)
    opt = optim.Rprop([w], lr=0.1)
    for g, expect in ((1.0, 0.9), (1.0, 0.78), (-1.0, 0.78), (-1.0, 0.84)):
        w.grad = ag.tensor([g], dtype=ag.float64)
        opt.step()
        assert w._data[0] == pytest.approx(expect)
    # ASGD with t0 = 2: p <- p (1 - lambd eta) - eta g; the average copies p until step t0 + 1, then
    # moves by mu = 1 / (t - t0) towards it; eta decays as lr / (1 + lambd lr t)^alpha
    w = ag.tensor([1.0], dtype=ag.float64, requires_grad=True)
    opt = optim.ASGD([w], lr=0.1, lambd=0.5, alpha=1.0, t0=2)
    p, ax, eta, mu = 1.0, 0.0, float(np.float32(0.1)), 1.0   # eta kept in float32, as PyTorch keeps it
    for t in range(1, 6):
        w.grad = ag.tensor([2.0 * w._data[0]], dtype=ag.float64)
        opt.step()
        p = p * (1 - 0.5 * eta) - eta * 2.0 * p        # the gradient 2 p is taken before the update
        ax = p if mu == 1 else ax + mu * (p - ax)
        eta = float(np.float32(0.1 / (1 + 0.5 * 0.1 * t)))
        mu = 1 / max(1, t - 2)
        assert w._data[0] == pytest.approx(p, rel=1e-12)
        assert opt.state[w]["ax"][0] == pytest.approx(ax, rel=1e-12)


def test_lbfgs_minimizes_a_quadratic_and_refuses_what_it_lacks():
    A, b, w = _problem("ours")
    opt = optim.LBFGS([w], max_iter=50)

    def closure():
        opt.zero_grad()
        r = A @ w - b
        loss = (r * r).sum()
        loss.backward()
        return loss
    opt.step(closure)
    best = np.linalg.lstsq(A._data, b._data, rcond=None)[0]
    # (the fixed step stops within the loss tolerance, as PyTorch's does on this problem)
    np.testing.assert_allclose(w._data, best, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([w], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [w]}, {"params": [ag.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="invalid eta"):
        optim.Rprop([w], etas=(1.5, 1.2))

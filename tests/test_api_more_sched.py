"""The learning-rate schedulers added for ported scripts (MultiplicativeLR, ConstantLR, PolynomialLR,
CosineAnnealingWarmRestarts, CyclicLR, SequentialLR, ChainedScheduler): the sequence of learning rates (and
of momenta for CyclicLR) is compared with PyTorch's step by step when it is installed, and checked against
the closed forms written out here either way; state dicts resume a schedule."""
import math
import warnings

import numpy as np
import pytest

import autograd_core as ag
import optim

CONFIGS = [
    ("SGD", {}, "MultiplicativeLR(opt, lambda e: 0.9)"),
    ("SGD", {}, "ConstantLR(opt, factor=0.25, total_iters=3)"),
    ("SGD", {}, "PolynomialLR(opt, total_iters=6, power=2.0)"),
    ("SGD", {}, "CosineAnnealingWarmRestarts(opt, T_0=3)"),
    ("SGD", {}, "CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01)"),
    ("SGD", {"momentum": 0.9}, "CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3)"),
    ("SGD", {"momentum": 0.9}, "CyclicLR(opt, 0.01, 0.1, step_size_up=2, step_size_down=4, mode='triangular2')"),
    ("SGD", {"momentum": 0.9}, "CyclicLR(opt, 0.01, 0.1, step_size_up=3, mode='exp_range', gamma=0.9)"),
    ("Adam", {}, "CyclicLR(opt, 0.001, 0.01, step_size_up=4)"),
    ("SGD", {}, "CyclicLR(opt, 0.01, 0.1, step_size_up=3, cycle_momentum=False, scale_fn=lambda x: 0.5 ** x)"),
    ("SGD", {}, "SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=3), "
                "L.CosineAnnealingLR(opt, T_max=10)], milestones=[3])"),
    ("SGD", {}, "SequentialLR(opt, [L.ConstantLR(opt, factor=0.5, total_iters=2), L.ExponentialLR(opt, gamma=0.8), "
                "L.StepLR(opt, 2)], milestones=[2, 6])"),
    ("SGD", {}, "ChainedScheduler([L.ConstantLR(opt, factor=0.5, total_iters=4), L.ExponentialLR(opt, gamma=0.9)])"),
]


def _trace(lib, opt_name, opt_kw, expr, steps=20):
    if lib == "torch":
        import torch
        w = torch.zeros(1, requires_grad=True)
        opt = getattr(torch.optim, opt_name)([w], lr=0.1, **opt_kw)
        L = torch.optim.lr_scheduler
    else:
        w = ag.zeros(1, requires_grad=True)
        opt = getattr(optim, opt_name)([w], lr=0.1, **opt_kw)
        L = optim.lr_scheduler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = eval("L." + expr, {"L": L, "opt": opt})
        lrs, moms = [], []
        for _ in range(steps):
            g = opt.param_groups[0]
            lrs.append(g["lr"])
            moms.append(g["betas"][0] if "betas" in g else g.get("momentum", 0.0))
            opt.step()
            sched.step()
    return lrs, moms, sched


@pytest.mark.parametrize("opt_name, opt_kw, expr", CONFIGS, ids=[c[2][:60] for c in CONFIGS])
def test_schedule_matches_torch(opt_name, opt_kw, expr):
    pytest.importorskip("torch")
    ours_lr, ours_m, ours = _trace("ours", opt_name, opt_kw, expr)
    theirs_lr, theirs_m, theirs = _trace("torch", opt_name, opt_kw, expr)
    np.testing.assert_allclose(ours_lr, theirs_lr, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours_m, theirs_m, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


def test_closed_forms_without_torch():
    lrs, _, _ = _trace("ours", "SGD", {}, "ConstantLR(opt, factor=0.25, total_iters=3)", 5)
    assert lrs == pytest.approx([0.025, 0.025, 0.025, 0.1, 0.1])
    lrs, _, _ = _trace("ours", "SGD", {}, "PolynomialLR(opt, total_iters=4, power=2.0)", 6)
    assert lrs == pytest.approx([0.1 * (1 - min(e, 4) / 4) ** 2 for e in range(6)])
    lrs, _, _ = _trace("ours", "SGD", {}, "CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)", 7)
    t_cur = [0, 1, 0, 1, 2, 3, 0]
    t_i = [2, 2, 4, 4, 4, 4, 8]
    assert lrs == pytest.approx([0.1 * (1 + math.cos(math.pi * c / i)) / 2 for c, i in zip(t_cur, t_i)])
    lrs, moms, _ = _trace("ours", "SGD", {"momentum": 0.9}, "CyclicLR(opt, 0.0, 1.0, step_size_up=2)", 5)
    assert lrs == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    assert moms == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9])
    lrs, _, _ = _trace("ours", "SGD", {}, "MultiplicativeLR(opt, lambda e: 0.5)", 4)
    assert lrs == pytest.approx([0.1, 0.05, 0.025, 0.0125])


def test_warm_restarts_with_fractional_epochs_match_torch():
    torch = pytest.importorskip("torch")
    w, tw = ag.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt, topt = optim.SGD([w], lr=0.1), torch.optim.SGD([tw], lr=0.1)
    s = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    ts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=2, T_mult=2)
    for epoch in np.arange(0, 9, 0.25):
        opt.step(), topt.step()
        s.step(float(epoch)), ts.step(float(epoch))
        assert s.get_last_lr()[0] == pytest.approx(ts.get_last_lr()[0], rel=1e-12, abs=1e-15)


def test_state_dict_resumes_sequential_and_chained():
    for expr in CONFIGS[-3:]:
        full, _, _ = _trace("ours", "SGD", {}, expr[2], 12)
        w = ag.zeros(1, requires_grad=True)
        opt = optim.SGD([w], lr=0.1)
        L = optim.lr_scheduler
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = eval("L." + expr[2], {"L": L, "opt": opt})
            for _ in range(5):
                opt.step(), sched.step()
            saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
            w2 = ag.zeros(1, requires_grad=True)
            opt2 = optim.SGD([w2], lr=0.1)
            sched2 = eval("L." + expr[2], {"L": L, "opt": opt2})
            opt2.load_state_dict(saved_opt)
            sched2.load_state_dict(saved_sched)
            rest = []
            for _ in range(7):
                rest.append(opt2.param_groups[0]["lr"])
                opt2.step(), sched2.step()
        assert rest == pytest.approx(full[5:]), expr[2]


def test_bad_arguments_are_refused():
    w = ag.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        optim.lr_scheduler.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="positive integer T_0"):
        optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="momentum or beta1"):
        optim.lr_scheduler.CyclicLR(optim.Adagrad([w], lr=0.1), 0.01, 0.1)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        optim.lr_scheduler.SequentialLR(opt, [optim.lr_scheduler.StepLR(opt, 1)], milestones=[2])
    other = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="same optimizer"):
        optim.lr_scheduler.ChainedScheduler([optim.lr_scheduler.StepLR(opt, 1), optim.lr_scheduler.StepLR(other, 1)])

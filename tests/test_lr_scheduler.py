"""Learning-rate schedulers: closed forms, PyTorch's sequences (optional), state dicts, bad input."""
import math
import warnings

import numpy as np
import pytest

import autograd_core as ag
import optim
from optim import lr_scheduler as S


def _opt(cls=optim.SGD, lrs=(0.1,), **kw):
    groups = [{"params": [ag.tensor([1.0, 2.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, **kw)


def _run(opt, sched, n, metrics=None):
    """lrs of every group after each of n epochs (optimizer.step() first, as PyTorch asks)."""
    out = [list(sched.get_last_lr())]
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append(list(sched.get_last_lr()))
    return np.array(out)


# -- closed forms, without torch -----------------------------------------------------------------
def test_step_lr():
    opt = _opt(lrs=(0.1, 1.0))
    lrs = _run(opt, S.StepLR(opt, step_size=3, gamma=0.5), 10)
    for e in range(11):
        np.testing.assert_allclose(lrs[e], [0.1 * 0.5 ** (e // 3), 0.5 ** (e // 3)], rtol=1e-15)


def test_multistep_lr_with_repeated_milestone():
    opt = _opt()
    lrs = _run(opt, S.MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.1), 7)[:, 0]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4, 1e-4], rtol=1e-12)


def test_exponential_lr():
    opt = _opt()
    lrs = _run(opt, S.ExponentialLR(opt, gamma=0.9), 8)[:, 0]
    np.testing.assert_allclose(lrs, 0.1 * 0.9 ** np.arange(9), rtol=1e-14)


def test_cosine_annealing_lr():
    opt = _opt()
    lrs = _run(opt, S.CosineAnnealingLR(opt, T_max=10, eta_min=0.01), 10)[:, 0]
    e = np.arange(11)
    np.testing.assert_allclose(lrs, 0.01 + 0.09 * (1 + np.cos(np.pi * e / 10)) / 2, rtol=1e-12, atol=1e-15)


def test_linear_lr():
    opt = _opt()
    lrs = _run(opt, S.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=4), 6)[:, 0]
    np.testing.assert_allclose(lrs, 0.1 * np.array([0.25, 0.4375, 0.625, 0.8125, 1, 1, 1]), rtol=1e-12)


def test_lambda_lr_per_group():
    opt = _opt(lrs=(0.1, 0.2))
    lrs = _run(opt, S.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e]), 4)
    np.testing.assert_allclose(lrs[:, 0], 0.1 / np.arange(1, 6), rtol=1e-15)
    np.testing.assert_allclose(lrs[:, 1], 0.2 * 0.5 ** np.arange(5), rtol=1e-15)


def test_one_cycle_lr_shape_and_momentum():
    opt = _opt(momentum=0.9)
    lrs = _run(opt, S.OneCycleLR(opt, max_lr=1.0, total_steps=100), 99)[:, 0]
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert lrs.argmax() == 29 and lrs.max() == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)


def test_one_cycle_cycles_adams_beta1():
    opt = _opt(optim.Adam)
    sched = S.OneCycleLR(opt, max_lr=0.01, total_steps=10, pct_start=0.5)
    betas = [opt.param_groups[0]["betas"]]
    for _ in range(9):
        opt.step()
        sched.step()
        betas.append(opt.param_groups[0]["betas"])
    assert betas[0] == (0.95, 0.999)
    assert min(b[0] for b in betas) == pytest.approx(0.85)
    assert all(b[1] == 0.999 for b in betas)


def test_reduce_lr_on_plateau():
    opt = _opt(lrs=(0.1, 0.01))
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=[0.0, 0.006])
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5]
    lrs = _run(opt, sched, len(metrics), metrics)
    # 3 bad epochs after the best (0.9) -> halve; then 1 cooldown epoch, then 3 more bad -> halve again
    np.testing.assert_allclose(lrs[:, 0], [0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05])
    np.testing.assert_allclose(lrs[:, 1], [0.01, 0.01, 0.01, 0.01, 0.01, 0.006, 0.006, 0.006, 0.006, 0.006, 0.006])
    assert sched.best == 0.5


def test_reduce_lr_on_plateau_max_mode_accepts_tensor_metrics():
    opt = _opt()
    sched = S.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=0.1, threshold_mode="abs")
    for m in (1.0, 1.05, 1.2):
        sched.step(ag.tensor(m))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    assert sched.best == pytest.approx(1.2)


def test_chained_schedulers_multiply():
    opt = _opt()
    a = S.ExponentialLR(opt, gamma=0.9)
    b = S.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(4):
        opt.step()
        a.step()
        b.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9 ** 4 * 0.01)


def test_epoch_argument_uses_the_closed_form():
    opt = _opt()
    sched = S.CosineAnnealingLR(opt, T_max=10)
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_warns_when_stepped_before_the_optimizer():
    opt = _opt()
    sched = S.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        sched.step()


def test_scheduled_lr_is_used_by_the_step():
    p = ag.tensor([0.0], dtype=np.float64, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = S.MultiStepLR(opt, milestones=[1], gamma=0.5)
    for _ in range(3):
        p.grad = ag.tensor([1.0], dtype=np.float64)
        opt.step()
        sched.step()
    np.testing.assert_allclose(p._data, [-(1.0 + 0.5 + 0.5)])


@pytest.mark.parametrize("make", [
    lambda o: S.StepLR(o, step_size=3, gamma=0.3),
    lambda o: S.MultiStepLR(o, [2, 4], gamma=0.2),
    lambda o: S.ExponentialLR(o, 0.8),
    lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=1e-3),
    lambda o: S.LinearLR(o, 0.5, 1.0, 4),
    lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=20),
    lambda o: S.ReduceLROnPlateau(o, patience=1),
])
def test_scheduler_state_dict_round_trip(make):
    opt = _opt(momentum=0.9)
    sched = make(opt)
    metrics = [1.0, 2.0, 3.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
    plateau = isinstance(sched, S.ReduceLROnPlateau)
    _run(opt, sched, 5, metrics if plateau else None)
    sd = sched.state_dict()
    assert "optimizer" not in sd
    # PyTorch's resume order: build both, then load both (building a scheduler performs its step 0)
    opt2 = _opt(momentum=0.9)
    sched2 = make(opt2)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sd)
    a = _run(opt, sched, 6, metrics[5:] if plateau else None)
    b = _run(opt2, sched2, 6, metrics[5:] if plateau else None)
    np.testing.assert_array_equal(a, b)


def test_scheduler_state_dicts_round_trip_through_nn_save(tmp_path):
    import nn
    if not hasattr(nn, "save"):
        pytest.skip("nn.save is not available yet")
    for make in (lambda o: S.MultiStepLR(o, [2, 4, 4]), lambda o: S.ReduceLROnPlateau(o, patience=0),
                 lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10)):
        opt = _opt(momentum=0.9)
        sched = make(opt)
        plateau = isinstance(sched, S.ReduceLROnPlateau)
        _run(opt, sched, 3, [3.0, 2.0, 1.0] if plateau else None)
        nn.save(sched.state_dict(), tmp_path / "s.npz")
        opt2 = _opt(momentum=0.9)
        sched2 = make(opt2)
        opt2.load_state_dict(opt.state_dict())
        sched2.load_state_dict(nn.load(tmp_path / "s.npz"))
        metrics = [1.0] * 5 if plateau else None
        np.testing.assert_array_equal(_run(opt, sched, 5, metrics), _run(opt2, sched2, 5, metrics))
    opt = _opt()
    sched = S.MultiStepLR(opt, [2, 4, 4])
    sched.load_state_dict({**sched.state_dict(), "milestones": {"2": 1, "4": 2}})
    with pytest.warns(UserWarning):
        sched.step(4)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.1 ** 3)


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    opt = _opt()
    sched = S.LambdaLR(opt, Warmup(4))
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"n": 4}]
    other = S.LambdaLR(_opt(), Warmup(10))
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].n == 4
    assert S.LambdaLR(_opt(), lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


@pytest.mark.parametrize("make,err,match", [
    (lambda o: S.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: S.LinearLR(o, start_factor=0), ValueError, "start_factor"),
    (lambda o: S.LinearLR(o, end_factor=1.5), ValueError, "end_factor"),
    (lambda o: S.MultiStepLR(o, [1.5]), ValueError, "milestones"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), ValueError, "anneal"),
    (lambda o: S.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10), ValueError, "max_lr"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
    (lambda o: S.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError, "min_lr"),
    (lambda o: S.LambdaLR(o, [lambda e: 1, lambda e: 2]), ValueError, "lr_lambdas"),
    (lambda o: S.StepLR(object(), 1), TypeError, "not an Optimizer"),
    (lambda o: S.StepLR(o, 1, last_epoch=3), KeyError, "initial_lr"),
])
def test_bad_input(make, err, match):
    with pytest.raises(err, match=match):
        make(_opt())


def test_one_cycle_refuses_optimizers_without_momentum_and_stepping_past_the_end():
    with pytest.raises(ValueError, match="momentum or betas"):
        S.OneCycleLR(_opt(optim.Adagrad), max_lr=1.0, total_steps=10)
    opt = _opt(optim.Adagrad)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=3, cycle_momentum=False)
    with pytest.raises(ValueError, match="total_steps is 3"):
        _run(opt, sched, 4)


# -- PyTorch's sequences ---------------------------------------------------------------------------
CASES = [
    ("StepLR", dict(step_size=3, gamma=0.3), 25),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 12], gamma=0.5), 25),
    ("ExponentialLR", dict(gamma=0.93), 25),
    ("CosineAnnealingLR", dict(T_max=8, eta_min=0.001), 40),  # past T_max: the cosine rises again
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=6), 12),
    ("LinearLR", dict(), 12),
    ("OneCycleLR", dict(max_lr=[0.5, 0.05], total_steps=40), 39),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=40, anneal_strategy="linear", three_phase=True,
                        base_momentum=0.8, max_momentum=0.9, div_factor=10.0, final_div_factor=100.0), 39),
    ("OneCycleLR", dict(max_lr=0.5, epochs=4, steps_per_epoch=5, pct_start=0.4), 19),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + e) ** 0.5), 15),
    ("ReduceLROnPlateau", dict(patience=2, factor=0.5, cooldown=1, threshold=0.05), 30),
    ("ReduceLROnPlateau", dict(mode="max", patience=1, threshold_mode="abs", threshold=0.2, min_lr=0.01), 30),
]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name,kw,n", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(name, kw, n, opt_name):
    torch = pytest.importorskip("torch")
    okw = dict(momentum=0.9) if opt_name == "SGD" else {}
    ours_opt = getattr(optim, opt_name)([{"params": [ag.tensor([1.0], requires_grad=True)], "lr": 0.1},
                                         {"params": [ag.tensor([1.0], requires_grad=True)], "lr": 0.02}], **okw)
    theirs_opt = getattr(torch.optim, opt_name)([{"params": [torch.ones(1, requires_grad=True)], "lr": 0.1},
                                                 {"params": [torch.ones(1, requires_grad=True)], "lr": 0.02}], **okw)
    ours = getattr(S, name)(ours_opt, **kw)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kw)
    metrics = np.abs(np.sin(np.arange(n) * 0.7)) + np.arange(n) * 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecation chatter is not under test
        for i in range(n):
            ours_opt.step()
            theirs_opt.step()
            if name == "ReduceLROnPlateau":
                ours.step(float(metrics[i]))
                theirs.step(float(metrics[i]))
            else:
                ours.step()
                theirs.step()
            assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-13, abs=1e-16), i
            for g, tg in zip(ours_opt.param_groups, theirs_opt.param_groups):
                for key in ("momentum", "betas"):
                    if key in tg:
                        assert np.allclose(g[key], tg[key], rtol=1e-13), (i, key)
    assert math.isfinite(ours.get_last_lr()[0])


def test_cyclic_lr_puts_its_momentum_bounds_into_the_groups():
    # as PyTorch's, so the optimizer's state dict carries them
    opt = _opt(lrs=(0.1, 0.2), momentum=0.9)
    S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, base_momentum=[0.7, 0.75], max_momentum=0.95)
    groups = opt.state_dict()["param_groups"]
    assert [(g["base_momentum"], g["max_momentum"], g["momentum"]) for g in groups] == [(0.7, 0.95, 0.95),
                                                                                       (0.75, 0.95, 0.95)]

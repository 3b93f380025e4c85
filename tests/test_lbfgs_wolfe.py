"""LBFGS with line_search_fn='strong_wolfe': the step it takes satisfies the strong Wolfe conditions,
the cubic interpolation is right by hand, Rosenbrock is solved, and the trajectory and evaluation
counts are PyTorch's (when torch is installed)."""
import numpy as np
import pytest

import autograd_core as ag
import optim
from optim.lbfgs import _cubic_interpolate, _strong_wolfe


def _torch():
    return pytest.importorskip("torch")


def _rosen(w):
    return (100 * (w[1:] - w[:-1] ** 2) ** 2 + (1 - w[:-1]) ** 2).sum()


def test_cubic_interpolate_finds_a_cubics_minimum():
    # f(x) = (x - 1)^3 - 3 (x - 1) has its local minimum at x = 2: f(0) = 2, f'(0) = 0; f(3) = 2, f'(3) = 9
    assert _cubic_interpolate(0.0, 2.0, 0.0, 3.0, 2.0, 9.0) == pytest.approx(2.0)
    # clamped to the bounds, and the midpoint when the cubic has no minimum
    assert _cubic_interpolate(0.0, 2.0, 0.0, 3.0, 2.0, 9.0, bounds=(0.0, 1.5)) == 1.5
    assert _cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2.0, 5.0) == pytest.approx(0.5)


@pytest.mark.parametrize("t0", [1e-3, 1.0, 50.0])
def test_the_step_satisfies_the_strong_wolfe_conditions(t0):
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    H = M @ M.T + np.eye(5)
    b = rng.standard_normal(5)
    f = lambda x: 0.5 * x @ H @ x - b @ x
    grad = lambda x: H @ x - b
    x = rng.standard_normal(5)
    d = -grad(x)
    g0 = grad(x)
    gtd = float(g0 @ d)

    def obj(x_, t, d_):
        return f(x_ + t * d_), grad(x_ + t * d_)
    f_new, g_new, t, evals = _strong_wolfe(obj, x, t0, d, f(x), g0, gtd)
    c1, c2 = 1e-4, 0.9
    assert f_new <= f(x) + c1 * t * gtd
    assert abs(g_new @ d) <= c2 * abs(gtd)
    assert f_new == pytest.approx(f(x + t * d)) and evals >= 1


def test_strong_wolfe_solves_rosenbrock():
    w = ag.tensor([-1.2, 1.0], dtype=ag.float64, requires_grad=True)     # the classic start
    opt = optim.LBFGS([w], lr=1, max_iter=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = _rosen(w)
        loss.backward()
        return loss
    for _ in range(10):
        opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), 1.0, atol=1e-3)   # (it stops on tolerance_change)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [100, 3])
def test_lbfgs_trajectory_matches_torch(line_search_fn, history_size):
    torch = _torch()
    x0 = np.array([-1.5, 2.0, 0.5, -0.3])
    lr = 1 if line_search_fn else 0.01
    wo, wt = ag.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    oo = optim.LBFGS([wo], lr=lr, max_iter=30, history_size=history_size, line_search_fn=line_search_fn)
    ot = torch.optim.LBFGS([wt], lr=lr, max_iter=30, history_size=history_size, line_search_fn=line_search_fn)

    def co():
        oo.zero_grad()
        loss = _rosen(wo)
        loss.backward()
        return loss

    def ct():
        ot.zero_grad()
        loss = _rosen(wt)
        loss.backward()
        return loss
    for _ in range(4):
        lo, lt = oo.step(co), ot.step(ct)
        assert float(lo) == pytest.approx(float(lt), rel=1e-9)
    np.testing.assert_allclose(wo.detach().numpy(), wt.detach().numpy(), rtol=1e-8, atol=1e-10)
    assert oo.state[wo]["func_evals"] == ot.state[wt]["func_evals"]
    assert oo.state[wo]["n_iter"] == ot.state[wt]["n_iter"]


def test_cubic_interpolate_along_a_straight_line_goes_to_a_bound():
    # f linear along the line (equal slopes, d2 = 0): the cubic's minimizer is at infinity, so the
    # step is the upper bound, as PyTorch's (a division by zero before)
    g, f1 = -5.5, -13.0
    assert _cubic_interpolate(0.0, f1, g, 1.0, f1 + g, g, bounds=(1.01, 10.0)) == 10.0
    assert _cubic_interpolate(0.0, f1, g, 1.0, f1 + g, g) == 1.0


def test_lbfgs_state_dict_round_trip_resumes_the_same_run():
    # the history (lists of vectors), the flat vectors and the scalars load back; a state dict taken
    # mid-run is a snapshot that later steps don't change
    x0 = np.array([-1.5, 2.0, 0.5])
    runs = []
    for resume in (False, True):
        w = ag.tensor(x0, requires_grad=True)
        opt = optim.LBFGS([w], max_iter=3, history_size=2, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = _rosen(w)
            loss.backward()
            return loss
        for k in range(4):
            opt.step(closure)
            if resume and k == 1:
                sd = opt.state_dict()
                saved = [d.copy() for d in sd["state"][0]["old_dirs"]]
                opt = optim.LBFGS([w], max_iter=3, history_size=2, line_search_fn="strong_wolfe")
                opt.load_state_dict(sd)
        if resume:
            assert all(np.array_equal(a, b) for a, b in zip(saved, sd["state"][0]["old_dirs"]))
        runs.append((w.detach().numpy().copy(), opt.state[w]["func_evals"], len(opt.state[w]["al"])))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1:] == runs[1][1:] and runs[0][2] == 2   # 'al' has history_size entries, as PyTorch's

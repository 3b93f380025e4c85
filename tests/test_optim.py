"""Optimizers: trajectories against the update rules written out here in plain numpy, against
PyTorch (optional), convergence on Rosenbrock, bad input, state dicts, and the details of
``step`` / ``zero_grad`` / parameter groups."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
import optim
from autograd_core.kernels import HAVE_NUMBA
from autograd_core.testing import shapes
from optim import lr_scheduler

# -- a fixed quadratic: f(x) = 1/2 x^T A x + b^T x over x = concat(w.ravel(), v) ---------------
_rng = np.random.default_rng(1234)
_Q = np.linalg.qr(_rng.standard_normal((9, 9)))[0]
A = _Q @ np.diag(np.linspace(0.5, 2.0, 9)) @ _Q.T
A = (A + A.T) / 2
B = _rng.standard_normal(9)
X0 = _rng.standard_normal(9)


def quad_grad(x):
    return A @ x + B


def make_params(x0=X0, dtype=np.float64):
    w = ag.tensor(x0[:6].reshape(2, 3).astype(dtype), requires_grad=True)
    v = ag.tensor(x0[6:].astype(dtype), requires_grad=True)
    return w, v


def quad_loss(w, v):
    x = ag.cat([w.reshape(-1), v])
    return 0.5 * (x @ (ag.Tensor(A) @ x)) + (ag.Tensor(B) * x).sum()


def flat(w, v):
    return np.concatenate([w._data.ravel(), v._data])


def run_ours(cls, steps=20, **kw):
    w, v = make_params()
    opt = cls([w, v], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        quad_loss(w, v).backward()
        opt.step()
        out.append(flat(w, v))
    return np.array(out)


# -- the update rules, written out independently of optim/ -------------------------------------
def ref_sgd(x, steps, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    out, buf = [], None
    for _ in range(steps):
        g = quad_grad(x) * (-1 if maximize else 1) + weight_decay * x
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        x = x - lr * g
        out.append(x)
    return np.array(out)


def ref_adam(x, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
             decoupled=False):
    b1, b2 = betas
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    vmax = np.zeros_like(x)
    out = []
    for t in range(1, steps + 1):
        g = -quad_grad(x) if maximize else quad_grad(x)
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(x)
    return np.array(out)


def ref_rmsprop(x, steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                maximize=False):
    sq = np.zeros_like(x)
    gavg = np.zeros_like(x)
    buf = np.zeros_like(x)
    out = []
    for _ in range(steps):
        g = (-quad_grad(x) if maximize else quad_grad(x)) + weight_decay * x
        sq = alpha * sq + (1 - alpha) * g * g
        gavg = alpha * gavg + (1 - alpha) * g
        denom = np.sqrt(sq - gavg ** 2 if centered else sq) + eps
        if momentum:
            buf = momentum * buf + g / denom
            x = x - lr * buf
        else:
            x = x - lr * g / denom
        out.append(x)
    return np.array(out)


def ref_adagrad(x, steps, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                maximize=False):
    s = np.full_like(x, initial_accumulator_value)
    out = []
    for t in range(1, steps + 1):
        g = (-quad_grad(x) if maximize else quad_grad(x)) + weight_decay * x
        s = s + g * g
        x = x - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(x)
    return np.array(out)


def ref_adadelta(x, steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    v = np.zeros_like(x)
    u = np.zeros_like(x)
    out = []
    for _ in range(steps):
        g = (-quad_grad(x) if maximize else quad_grad(x)) + weight_decay * x
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        x = x - lr * delta
        out.append(x)
    return np.array(out)


def ref_nadam(x, steps, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    mu_prod = 1.0
    out = []
    for t in range(1, steps + 1):
        g = -quad_grad(x) if maximize else quad_grad(x)
        if decoupled_weight_decay:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2 ** t)) + eps
        x = x - lr * (1 - mu) / (1 - mu_prod) * g / denom - lr * mu_next / (1 - mu_prod * mu_next) * m / denom
        out.append(x)
    return np.array(out)


def ref_lion(x, steps, lr=1e-4, betas=(0.9, 0.99), weight_decay=0, maximize=False):
    b1, b2 = betas
    m = np.zeros_like(x)
    out = []
    for _ in range(steps):
        g = -quad_grad(x) if maximize else quad_grad(x)
        c = b1 * m + (1 - b1) * g
        x = x * (1 - lr * weight_decay) - lr * np.sign(c)
        m = b2 * m + (1 - b2) * g
        out.append(x)
    return np.array(out)


def _adamw(x, steps, weight_decay=1e-2, **kw):
    return ref_adam(x, steps, weight_decay=weight_decay, decoupled=True, **kw)


FUSED = [False, True] if HAVE_NUMBA else [False]

CASES = (
    [(optim.SGD, ref_sgd, kw) for kw in [
        dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
        dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.1, weight_decay=0.2), dict(lr=0.02, maximize=True),
        dict(lr=0.03, momentum=0.8, weight_decay=0.1, nesterov=True, maximize=True)]]
    + [(optim.Adam, ref_adam, dict(kw, fused=f)) for f in FUSED for kw in [
        dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3), dict(lr=0.05, amsgrad=True),
        dict(lr=0.05, weight_decay=0.3), dict(lr=0.05, maximize=True),
        dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)]]
    + [(optim.AdamW, _adamw, dict(kw, fused=f)) for f in FUSED for kw in [
        dict(lr=0.05), dict(lr=0.05, weight_decay=0.5), dict(lr=0.05, weight_decay=0.2, amsgrad=True, maximize=True)]]
    + [(optim.RMSprop, ref_rmsprop, kw) for kw in [
        dict(lr=0.01), dict(lr=0.01, alpha=0.9, eps=1e-4), dict(lr=0.01, centered=True),
        dict(lr=0.01, momentum=0.9), dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
        dict(lr=0.01, maximize=True)]]
    + [(optim.Adagrad, ref_adagrad, kw) for kw in [
        dict(lr=0.1), dict(lr=0.1, lr_decay=0.05), dict(lr=0.1, initial_accumulator_value=0.5),
        dict(lr=0.1, weight_decay=0.2, eps=1e-3), dict(lr=0.1, maximize=True, lr_decay=0.01)]]
    + [(optim.Adadelta, ref_adadelta, kw) for kw in [
        dict(), dict(lr=0.5, rho=0.8, eps=1e-4), dict(weight_decay=0.1), dict(maximize=True)]]
    + [(optim.NAdam, ref_nadam, kw) for kw in [
        dict(lr=0.05), dict(lr=0.05, momentum_decay=0.01, betas=(0.8, 0.99)), dict(lr=0.05, weight_decay=0.2),
        dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True), dict(lr=0.05, maximize=True)]]
    + [(optim.Lion, ref_lion, kw) for kw in [
        dict(lr=0.01), dict(lr=0.01, betas=(0.95, 0.98), weight_decay=0.5), dict(lr=0.01, maximize=True)]]
)


@pytest.mark.parametrize("cls,ref,kw", CASES,
                         ids=[f"{c.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for c, _, kw in CASES])
def test_trajectory_matches_update_rule(cls, ref, kw):
    ours = run_ours(cls, **kw)
    expected = ref(X0.copy(), 20, **{k: v for k, v in kw.items() if k != "fused"})
    assert np.all(np.abs(ours - X0) > 0), "every coordinate moves"
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(not HAVE_NUMBA, reason="needs numba")
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_adam_fused_big_parameter_over_threads_matches_numpy_path(threads, monkeypatch):
    """A parameter big enough to be updated in runs over the threads (the last run shorter) gets the same
    values as the numpy path."""
    from optim import adam
    monkeypatch.setattr(adam, "_PAR_CHUNK", 1000)
    old = ag.get_num_threads()
    ag.set_num_threads(threads)
    try:
        rng = np.random.default_rng(threads)
        p0 = rng.standard_normal(6007).astype(np.float32)
        grads = [rng.standard_normal(6007).astype(np.float32) for _ in range(3)]
        out = []
        for fused in (False, True):
            p = ag.tensor(p0.copy(), requires_grad=True)
            opt = optim.AdamW([p], lr=0.01, amsgrad=True, fused=fused)
            for g in grads:
                p.grad = ag.tensor(g)
                opt.step()
            out.append(p._data.copy())
        np.testing.assert_allclose(out[0], out[1], rtol=1e-5, atol=1e-6)
    finally:
        ag.set_num_threads(old)


@pytest.mark.skipif(not HAVE_NUMBA, reason="needs numba")
@given(shape=shapes(min_dims=0, max_dims=3, max_side=7), dtype=st.sampled_from([np.float32, np.float64]),
       amsgrad=st.booleans(), maximize=st.booleans(), decoupled=st.booleans(),
       weight_decay=st.sampled_from([0.0, 0.1]), seed=st.integers(0, 2 ** 16))
def test_adam_fused_kernel_matches_numpy_path(shape, dtype, amsgrad, maximize, decoupled, weight_decay, seed):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(5)]
    results = []
    for fused in (False, True):
        p = ag.tensor(p0.copy(), requires_grad=True)
        opt = optim.Adam([p], lr=0.01, amsgrad=amsgrad, maximize=maximize, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled, fused=fused)
        for g in grads:
            p.grad = ag.tensor(g)
            opt.step()
        results.append((p._data.copy(), opt.state[p]))
    (pa, sa), (pb, sb) = results
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(pa, pb, rtol=tol, atol=tol)
    assert pa.dtype == pb.dtype == dtype
    for k in sa:
        np.testing.assert_allclose(sa[k], sb[k], rtol=tol, atol=tol)


def test_adam_fused_handles_non_contiguous_parameter():
    base = np.arange(12.0).reshape(3, 4)
    p = ag.Tensor(base.T, requires_grad=True)  # a transposed view: not C-contiguous
    q = ag.tensor(base.T.copy(), requires_grad=True)
    for t, fused in ((p, None), (q, False)):
        opt = optim.Adam([t], lr=0.1, fused=fused)
        t.grad = ag.tensor(np.ones((4, 3)))
        opt.step()
    np.testing.assert_allclose(p._data, q._data, rtol=1e-15)


# -- the original project's bugs, pinned ---------------------------------------------------------
def test_sgd_applies_the_learning_rate_once():
    p = ag.tensor([1.0, -2.0], dtype=np.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = ag.tensor([3.0, 4.0], dtype=np.float64)
    opt.step()
    np.testing.assert_allclose(p._data, [1.0 - 0.3, -2.0 - 0.4], rtol=0, atol=1e-15)


def test_adam_first_step_is_bias_corrected():
    # with bias correction m_hat = g and v_hat = g^2 on step 1, so every element moves by lr * sign(g)
    p = ag.tensor([1.0, 1.0, 1.0], dtype=np.float64, requires_grad=True)
    for fused in FUSED:
        q = ag.tensor(p._data.copy(), requires_grad=True)
        opt = optim.Adam([q], lr=0.01, eps=0)
        opt.param_groups[0]["fused"] = fused
        q.grad = ag.tensor([1e-3, -5.0, 200.0], dtype=np.float64)
        opt.step()
        np.testing.assert_allclose(q._data, [0.99, 1.01, 0.99], rtol=0, atol=1e-15)


def test_rmsprop_stores_its_running_average():
    p = ag.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9)
    for g in ([1.0, 2.0], [3.0, -1.0]):
        p.grad = ag.tensor(g, dtype=np.float64)
        opt.step()
    expected = 0.9 * 0.1 * np.array([1.0, 4.0]) + 0.1 * np.array([9.0, 1.0])
    np.testing.assert_allclose(opt.state[p]["square_avg"], expected, rtol=1e-15)
    assert opt.state[p]["step"] == 2


# -- PyTorch parity --------------------------------------------------------------------------------
TORCH_CASES = (
    [("SGD", kw) for kw in [dict(lr=0.05), dict(lr=0.03, momentum=0.9), dict(lr=0.03, momentum=0.9, dampening=0.2),
                            dict(lr=0.03, momentum=0.9, nesterov=True, weight_decay=0.05),
                            dict(lr=0.02, momentum=0.5, maximize=True)]]
    + [("Adam", dict(kw, fused=f)) for f in FUSED for kw in [
        dict(lr=0.02), dict(lr=0.02, amsgrad=True), dict(lr=0.02, weight_decay=0.1),
        dict(lr=0.02, maximize=True, amsgrad=True, betas=(0.8, 0.99))]]
    + [("AdamW", dict(kw, fused=f)) for f in FUSED for kw in [
        dict(lr=0.02), dict(lr=0.02, weight_decay=0.3, amsgrad=True), dict(lr=0.02, maximize=True)]]
    + [("RMSprop", kw) for kw in [dict(lr=0.01), dict(lr=0.01, centered=True), dict(lr=0.01, momentum=0.9),
                                  dict(lr=0.005, momentum=0.8, centered=True, weight_decay=0.1, alpha=0.95),
                                  dict(lr=0.01, maximize=True)]]
    + [("Adagrad", kw) for kw in [dict(lr=0.1), dict(lr=0.1, lr_decay=0.02),
                                  dict(lr=0.1, initial_accumulator_value=0.3),
                                  dict(lr=0.1, weight_decay=0.1, maximize=True, eps=1e-6)]]
    + [("Adadelta", kw) for kw in [dict(), dict(lr=0.5, rho=0.8, weight_decay=0.1), dict(maximize=True, eps=1e-4)]]
    + [("NAdam", kw) for kw in [dict(lr=0.02), dict(lr=0.02, weight_decay=0.1, momentum_decay=0.01),
                                dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True),
                                dict(lr=0.02, maximize=True)]]
)


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch")
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # so PyTorch's scalar state (step, mu_product) is float64 too
    yield torch
    torch.set_default_dtype(prev)


@pytest.mark.parametrize("name,kw", TORCH_CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in TORCH_CASES])
def test_matches_torch_for_50_steps(torch64, name, kw):
    torch = torch64
    noise = np.random.default_rng(7).standard_normal((50, 9))
    w, v = make_params()
    ours = getattr(optim, name)([{"params": [w]}, {"params": [v], "lr": kw.get("lr", 1.0) * 0.5}], **kw)
    tw = torch.tensor(w._data.copy(), requires_grad=True)
    tv = torch.tensor(v._data.copy(), requires_grad=True)
    tkw = {k: val for k, val in kw.items() if k != "fused"}
    theirs = getattr(torch.optim, name)([{"params": [tw]}, {"params": [tv], "lr": kw.get("lr", 1.0) * 0.5}], **tkw)
    for t in range(50):
        g = quad_grad(flat(w, v)) + noise[t]
        w.grad, v.grad = ag.tensor(g[:6].reshape(2, 3)), ag.tensor(g[6:])
        ours.step()
        tg = quad_grad(np.concatenate([tw.detach().numpy().ravel(), tv.detach().numpy()])) + noise[t]
        tw.grad, tv.grad = torch.tensor(tg[:6].reshape(2, 3)), torch.tensor(tg[6:])
        theirs.step()
        np.testing.assert_allclose(flat(w, v), np.concatenate([tw.detach().numpy().ravel(), tv.detach().numpy()]),
                                   rtol=1e-10, atol=1e-12, err_msg=f"step {t}")
    # and the state PyTorch keeps is the state we keep, under the same names
    ts = theirs.state_dict()["state"]
    os_ = ours.state_dict()["state"]
    assert set(os_) == {i for i, entries in ts.items() if any(x is not None for x in entries.values())}
    for i, entries in ts.items():
        for k, val in entries.items():
            if isinstance(val, torch.Tensor) and val.ndim:
                np.testing.assert_allclose(os_[i][k], val.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
            elif val is not None:
                assert float(os_[i][k]) == pytest.approx(float(val), rel=1e-12), k


# -- Rosenbrock ----------------------------------------------------------------------------------
def rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


ROSENBROCK = {
    # name: (optimizer factory, steps, scheduler factory or None)
    "SGD-momentum": (lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9), 3000, None),
    "SGD-nesterov": (lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True), 3000, None),
    "Adam": (lambda ps: optim.Adam(ps, lr=0.05), 3000, None),
    "Adam-amsgrad": (lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True), 3000, None),
    "AdamW": (lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0), 3000, None),
    "RMSprop": (lambda ps: optim.RMSprop(ps, lr=1e-2, momentum=0.9), 3000,
                lambda o: lr_scheduler.ExponentialLR(o, gamma=0.998)),
    "RMSprop-centered": (lambda ps: optim.RMSprop(ps, lr=1e-3, momentum=0.9, centered=True), 3000,
                         lambda o: lr_scheduler.ExponentialLR(o, gamma=0.998)),
    # Adagrad and Adadelta have no momentum, so along the valley they move like gradient descent
    # (condition number ~2500 at the minimum) and need many more steps
    "Adagrad": (lambda ps: optim.Adagrad(ps, lr=1.0), 15000, None),
    "Adadelta": (lambda ps: optim.Adadelta(ps, lr=0.5, rho=0.95), 15000,
                 lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=15000)),
    "NAdam": (lambda ps: optim.NAdam(ps, lr=0.03, betas=(0.9, 0.99)), 3000,
              lambda o: lr_scheduler.ExponentialLR(o, gamma=0.999)),
    "Lion": (lambda ps: optim.Lion(ps, lr=0.03, betas=(0.95, 0.98)), 3000,
             lambda o: lr_scheduler.ExponentialLR(o, gamma=0.995)),
}


@pytest.mark.parametrize("name", list(ROSENBROCK))
def test_minimizes_rosenbrock(name):
    make, steps, sched = ROSENBROCK[name]
    p = ag.tensor(np.array([-1.5, 2.0]), requires_grad=True)
    # the engine's gradient is checked once; the loop then uses the closed form, so 10^4 steps take
    # a fraction of a second (the trajectory tests above run every optimizer through backward())
    rosenbrock(p).backward()
    np.testing.assert_allclose(p.grad._data, rosenbrock_grad(p._data), rtol=1e-14)
    opt = make([p])
    s = sched(opt) if sched else None
    for _ in range(steps):
        p.grad = ag.Tensor(rosenbrock_grad(p._data))
        opt.step()
        if s is not None:
            s.step()
    assert np.abs(p._data - 1).max() < 1e-3, p._data


def test_step_with_closure_minimizes_rosenbrock_through_backward():
    p = ag.tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = optim.Adam([p], lr=0.05)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        return loss

    with ag.no_grad():  # step re-enables grad for the closure
        losses = [float(opt.step(closure)) for _ in range(1500)]
    assert losses[-1] < 1e-6 < losses[0]
    assert np.abs(p._data - 1).max() < 1e-3


# -- bad input -----------------------------------------------------------------------------------
def _p():
    return ag.tensor([1.0, 2.0], requires_grad=True)


@pytest.mark.parametrize("make,match", [
    (lambda: optim.SGD([_p()], lr=-0.1), "lr"),
    (lambda: optim.SGD([_p()], lr=float("nan")), "lr"),
    (lambda: optim.SGD([_p()], lr=0.1, momentum=-0.5), "momentum"),
    (lambda: optim.SGD([_p()], lr=0.1, weight_decay=-1), "weight_decay"),
    (lambda: optim.SGD([_p()], lr=0.1, nesterov=True), "nesterov"),
    (lambda: optim.SGD([_p()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda: optim.SGD([_p()], lr="fast"), "lr"),
    (lambda: optim.Adam([_p()], lr=-1e-3), "lr"),
    (lambda: optim.Adam([_p()], betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda: optim.Adam([_p()], betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda: optim.Adam([_p()], betas=(0.9,)), "pair"),
    (lambda: optim.Adam([_p()], eps=-1e-8), "eps"),
    (lambda: optim.AdamW([_p()], weight_decay=-0.1), "weight_decay"),
    (lambda: optim.NAdam([_p()], betas=(0.9, 1.5)), "betas"),
    (lambda: optim.NAdam([_p()], momentum_decay=-1), "momentum_decay"),
    (lambda: optim.Lion([_p()], betas=(-0.1, 0.99)), "betas"),
    (lambda: optim.RMSprop([_p()], momentum=-0.1), "momentum"),
    (lambda: optim.RMSprop([_p()], alpha=1.5), "alpha"),
    (lambda: optim.RMSprop([_p()], eps=-1.0), "eps"),
    (lambda: optim.Adagrad([_p()], lr_decay=-0.1), "lr_decay"),
    (lambda: optim.Adagrad([_p()], initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda: optim.Adadelta([_p()], rho=1.1), "rho"),
    (lambda: optim.Adam([{"params": [_p()]}, {"params": [_p()], "lr": -1}]), "lr"),
    (lambda: optim.SGD([], lr=0.1), "empty"),
    (lambda: optim.SGD([(_p() * 2)], lr=0.1), "non-leaf"),
    (lambda: optim.SGD([ag.tensor([1, 2])], lr=0.1), "floating point"),
])
def test_bad_input_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match) as e:
        make()
    assert "\n" not in str(e.value)
    assert str(e.value).split(":")[0] in {"SGD", "Adam", "AdamW", "NAdam", "Lion", "RMSprop", "Adagrad", "Adadelta"}


def test_same_parameter_twice_is_refused():
    p = _p()
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [p]})
    assert len(opt.param_groups) == 1


def test_non_tensor_parameters_are_refused():
    with pytest.raises(TypeError, match="Tensor"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(_p(), lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({_p()}, lr=0.1)


def test_fused_true_without_numba_is_refused(monkeypatch):
    import optim.adam
    monkeypatch.setattr(optim.adam, "HAVE_NUMBA", False)
    with pytest.raises(ValueError, match="fused=True needs Numba"):
        optim.Adam([_p()], fused=True)


def test_gradient_of_the_wrong_shape_is_refused():
    p = _p()
    opt = optim.SGD([p], lr=0.1)
    p.grad = ag.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"shape \(2,\) has a gradient of shape \(3,\)"):
        opt.step()


# -- step / zero_grad / groups ---------------------------------------------------------------------
def test_parameters_without_grad_are_skipped():
    a, b = _p(), _p()
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ag.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(b._data, [1.0, 2.0])
    assert b not in opt.state and a in opt.state
    assert a._version == 1 and b._version == 0


def test_update_is_in_place_under_no_grad_and_bumps_the_version():
    p = _p()
    buf = p._data
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for i in range(3):
        (p * p).sum().backward()
        opt.step()
        assert p._data is buf and p._version == i + 1
        assert p.is_leaf and p.grad_fn is None
        opt.zero_grad()


def test_a_graph_built_before_the_step_sees_the_change():
    p = _p()
    y = (p * p).sum()
    p.grad = ag.tensor([1.0, 1.0])
    optim.SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_zero_grad():
    p = _p()
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.all(g._data == 0)
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_have_their_own_options_and_defaults():
    a, b, c = _p(), _p(), _p()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5, 0.1]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9, 0]
    for t in (a, b, c):
        t.grad = ag.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(a._data, [0.9, 1.9])
    np.testing.assert_allclose(b._data, [0.5, 1.5])
    np.testing.assert_allclose(c._data, [1 - 0.1 * 1.1, 2 - 0.1 * 1.2], rtol=1e-6)


def test_named_parameters_are_accepted():
    a, b = _p(), _p()
    opt = optim.Adam([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [a, b] or opt.param_groups[0]["params"][0] is a
    assert opt.param_groups[0]["param_names"] == ["w", "b"]


def test_float32_parameters_stay_float32():
    for cls, kw in [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adam, {}), (optim.RMSprop, dict(centered=True)),
                    (optim.Adagrad, {}), (optim.Adadelta, {}), (optim.NAdam, {}), (optim.Lion, {})]:
        p = ag.tensor([1.0, 2.0], requires_grad=True)
        opt = cls([p], **kw)
        p.grad = ag.tensor([0.5, -0.5])
        opt.step()
        assert p.dtype == np.float32, cls
        for v in opt.state[p].values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32, cls


def test_repr_lists_the_groups():
    r = repr(optim.Adam([_p()], lr=0.1))
    assert r.startswith("Adam (") and "Parameter Group 0" in r and "lr: 0.1" in r


# -- state dicts ---------------------------------------------------------------------------------
ALL = [(optim.SGD, dict(lr=0.05, momentum=0.9)), (optim.Adam, dict(lr=0.05, amsgrad=True)),
       (optim.AdamW, dict(lr=0.05)), (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
       (optim.Adagrad, dict(lr=0.1)), (optim.Adadelta, {}), (optim.NAdam, dict(lr=0.05)), (optim.Lion, dict(lr=0.01))]


def _train(opt, w, v, steps):
    for _ in range(steps):
        opt.zero_grad()
        quad_loss(w, v).backward()
        opt.step()


@pytest.mark.parametrize("cls,kw", ALL, ids=[c.__name__ for c, _ in ALL])
def test_state_dict_round_trip_resumes_exactly(cls, kw):
    w, v = make_params()
    opt = cls([{"params": [w]}, {"params": [v], "lr": 0.02}], **kw)
    _train(opt, w, v, 5)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sorted(sd["state"]) == [0, 1]
    w2, v2 = ag.tensor(w._data.copy(), requires_grad=True), ag.tensor(v._data.copy(), requires_grad=True)
    opt2 = cls([{"params": [w2]}, {"params": [v2]}], **kw)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.02
    _train(opt, w, v, 5)
    _train(opt2, w2, v2, 5)
    np.testing.assert_array_equal(flat(w, v), flat(w2, v2))


def test_state_dict_is_a_snapshot():
    w, v = make_params()
    opt = optim.Adam([w, v], lr=0.1)
    _train(opt, w, v, 2)
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].copy()
    _train(opt, w, v, 2)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], before)
    assert sd["state"][0]["step"] == 2


def test_state_dict_round_trips_through_nn_save(tmp_path):
    import nn
    if not hasattr(nn, "save"):
        pytest.skip("nn.save is not available yet")
    for cls, kw in ALL:
        w, v = make_params()
        opt = cls([w, v], **kw)
        _train(opt, w, v, 3)
        nn.save(opt.state_dict(), tmp_path / "opt.npz")
        loaded = nn.load(tmp_path / "opt.npz")
        w2, v2 = ag.tensor(w._data.copy(), requires_grad=True), ag.tensor(v._data.copy(), requires_grad=True)
        opt2 = cls([w2, v2], **kw)
        opt2.load_state_dict(loaded)
        _train(opt, w, v, 3)
        _train(opt2, w2, v2, 3)
        np.testing.assert_array_equal(flat(w, v), flat(w2, v2), err_msg=cls.__name__)
        assert opt2.param_groups[0].get("betas", ()) == opt.param_groups[0].get("betas", ())


@pytest.mark.parametrize("mutate,match", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0], params=[9])), "parameter group"),
    (lambda sd: sd["param_groups"][0]["params"].append(5), "group 0 has 3 parameter"),
    (lambda sd: sd["state"].__setitem__(0, dict(sd["state"][0], exp_avg=np.zeros(4))), r"shape \(4,\)"),
    (lambda sd: sd["state"].__setitem__(7, dict(sd["state"][0])), "names no parameter"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), "invalid lr"),
    (lambda sd: sd.pop("state"), "'state'"),
])
def test_mismatched_state_dict_raises_one_error_and_changes_nothing(mutate, match):
    w, v = make_params()
    opt = optim.Adam([w, v], lr=0.1)
    _train(opt, w, v, 2)
    sd = opt.state_dict()
    mutate(sd)
    w2, v2 = make_params()
    opt2 = optim.Adam([w2, v2], lr=0.3, betas=(0.5, 0.6))
    _train(opt2, w2, v2, 1)
    groups_before = [dict(g) for g in opt2.param_groups]
    state_before = {k: {n: (x.copy() if isinstance(x, np.ndarray) else x) for n, x in s.items()}
                    for k, s in opt2.state.items()}
    with pytest.raises(ValueError, match=match) as e:
        opt2.load_state_dict(sd)
    assert "\n" not in str(e.value)
    assert opt2.param_groups == groups_before
    assert set(opt2.state) == set(state_before)
    for k, s in state_before.items():
        for n, x in s.items():
            np.testing.assert_array_equal(opt2.state[k][n], x)


def test_mismatch_messages_list_every_problem():
    w, v = make_params()
    opt = optim.Adam([w, v], lr=0.1)
    _train(opt, w, v, 1)
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"] = np.zeros(5)
    sd["state"][1]["exp_avg_sq"] = np.zeros(2)
    with pytest.raises(ValueError) as e:
        optim.Adam(list(make_params())).load_state_dict(sd)
    assert "shape (5,)" in str(e.value) and "shape (2,)" in str(e.value)


def test_scheduler_and_optimizer_resume_together():
    w, v = make_params()
    opt = optim.SGD([w, v], lr=0.1, momentum=0.9)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        _train(opt, w, v, 1)
        sched.step()
    w2, v2 = ag.tensor(w._data.copy(), requires_grad=True), ag.tensor(v._data.copy(), requires_grad=True)
    opt2 = optim.SGD([w2, v2], lr=0.1, momentum=0.9)
    sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            _train(opt, w, v, 1)
            sched.step()
            _train(opt2, w2, v2, 1)
            sched2.step()
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] == 0.1 * 0.5 ** 3
    np.testing.assert_array_equal(flat(w, v), flat(w2, v2))
    assert math.isfinite(float(quad_loss(w2, v2)))

"""torch.func's stack_module_state / replace_all_batch_norm_modules_ / linearize / functionalize (the
model-ensembling tutorial's pattern with vmap and functional_call), and torch.autograd.forward_ad's
dual tensors: values by hand, gradchecked JVPs over hypothesis inputs, and PyTorch parity."""
import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import autograd_core.autograd.forward_ad as fwAD
import nn
from autograd_core.func import functional_call, functionalize, linearize, replace_all_batch_norm_modules_, \
    stack_module_state, vmap


def _torch():
    return pytest.importorskip("torch")


def test_ensemble_with_stacked_state_and_vmap():
    models = [nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)) for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert params["0.weight"].shape == (3, 8, 4) and params["0.weight"].is_leaf and params["0.weight"].requires_grad
    base = copy.deepcopy(models[0]).to("meta")          # the tutorial's template; here it keeps CPU tensors
    with pytest.raises(RuntimeError, match="CPU only"):
        ag.ones(2).to("meta")                           # a tensor on 'meta' is still refused
    x = ag.randn(5, 4)

    def fmodel(p, b, x):
        return functional_call(base, (p, b), (x,))
    out = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    assert out.shape == (3, 5, 3)
    for i, m in enumerate(models):
        np.testing.assert_allclose(out[i].detach().numpy(), m(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert params["2.bias"].grad.shape == (3, 3)
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([nn.Linear(1, 1), nn.ReLU()])


def test_replace_all_batch_norm_modules():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Sequential(nn.BatchNorm2d(3)))
    assert replace_all_batch_norm_modules_(m) is m
    for bn in (m[1], m[2][0]):
        assert bn.running_mean is None and bn.running_var is None and not bn.track_running_stats
    m.eval()
    x = ag.randn(4, 2)
    h = m[0](x).detach().numpy()
    want = (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-5)
    np.testing.assert_allclose(m[1](m[0](x)).detach().numpy(), want * m[1].weight.detach().numpy()
                               + m[1].bias.detach().numpy(), rtol=1e-4, atol=1e-5)


@given(st.integers(1, 4), st.integers(0, 1000))
@settings(max_examples=10, deadline=None)
def test_linearize_is_jvp(n, seed):
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal(n))
    out, jvp_fn = linearize(lambda v: (v.sin() * v).sum(), x)
    t = rng.standard_normal(n)
    want = float(((np.cos(x.numpy()) * x.numpy() + np.sin(x.numpy())) * t).sum())
    assert out.item() == pytest.approx(float((np.sin(x.numpy()) * x.numpy()).sum()))
    assert jvp_fn(ag.tensor(t)).item() == pytest.approx(want, rel=1e-10, abs=1e-12)
    assert functionalize(lambda v: v + 1)(x).tolist() == (x + 1).tolist()


@given(st.integers(1, 4), st.integers(0, 1000))
@settings(max_examples=15, deadline=None)
def test_forward_ad_tangent_is_the_directional_derivative(n, seed):
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal(n), rng.standard_normal(n)

    def f(v):
        return (v.tanh() * v.exp()).cumsum(0)
    with fwAD.dual_level():
        d = fwAD.make_dual(ag.tensor(x), ag.tensor(t))
        primal, tangent = fwAD.unpack_dual(f(d))
    np.testing.assert_allclose(primal.numpy(), f(ag.tensor(x)).numpy())
    eps = 1e-6
    fd = (f(ag.tensor(x + eps * t)).numpy() - f(ag.tensor(x - eps * t)).numpy()) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), fd, rtol=1e-5, atol=1e-7)


def test_forward_ad_levels_and_errors():
    with pytest.raises(RuntimeError, match="dual level"):
        fwAD.make_dual(ag.ones(1), ag.ones(1))
    with fwAD.dual_level():
        with pytest.raises(ValueError, match="shape"):
            fwAD.make_dual(ag.ones(2), ag.ones(3))
        a = fwAD.make_dual(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0]))
        b = fwAD.make_dual(ag.tensor([3.0]), ag.tensor([2.0]))
        assert fwAD.unpack_dual((a * b).sum()).tangent.item() == pytest.approx(9.0)   # t_a b + a t_b
        assert fwAD.unpack_dual(ag.ones(2)).tangent is None
        assert fwAD.unpack_dual(a).tangent.tolist() == [1.0, 0.0]
        assert not fwAD.unpack_dual(a * 2).primal.requires_grad
    assert fwAD.unpack_dual(ag.ones(1)).tangent is None


def test_forward_ad_keeps_reverse_mode_when_the_input_requires_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(w, ag.tensor([1.0, 1.0]))
        y = (d ** 2).sum()
        primal, tangent = fwAD.unpack_dual(y)
        assert tangent.item() == pytest.approx(6.0)
        primal.backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_forward_ad_matches_torch():
    torch = _torch()
    import torch.autograd.forward_ad as tfw
    rng = np.random.default_rng(0)
    x, t, W = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((2, 3))
    with fwAD.dual_level():
        d = fwAD.make_dual(ag.tensor(x), ag.tensor(t))
        po, to = fwAD.unpack_dual(ag.tanh(ag.tensor(W) @ d) ** 2)
    with tfw.dual_level():
        d = tfw.make_dual(torch.tensor(x), torch.tensor(t))
        pt, tt = tfw.unpack_dual(torch.tanh(torch.tensor(W) @ d) ** 2)
    np.testing.assert_allclose(po.numpy(), pt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to.numpy(), tt.numpy(), rtol=1e-10)


def test_stack_module_state_matches_torch_ensembling():
    torch = _torch()
    rng = np.random.default_rng(1)
    ws = [(rng.standard_normal((3, 4)), rng.standard_normal(3)) for _ in range(4)]
    x = rng.standard_normal((5, 4))
    outs = []
    for M, mod, func in ((ag, nn, ag.func), (torch, torch.nn, torch.func)):
        models = []
        for w, b in ws:
            m = mod.Linear(4, 3).double()
            with M.no_grad():
                m.weight.copy_(M.tensor(w))
                m.bias.copy_(M.tensor(b))
            models.append(m)
        params, buffers = func.stack_module_state(models)
        base = copy.deepcopy(models[0])
        out = func.vmap(lambda p, b, x: func.functional_call(base, (p, b), (x,)), in_dims=(0, 0, None))(
            params, buffers, M.tensor(x))
        outs.append(out.detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)


# -- torch.func's results stay on the tape at the top level, as PyTorch's ---------------------------
FUNC_ON_TAPE = {
    "grad": lambda t, f, x: t.func.grad(lambda v: f(v).sum())(x),
    "grad_and_value": lambda t, f, x: sum(t.func.grad_and_value(lambda v: f(v).sum())(x)[k].sum() for k in (0, 1)),
    "vmap(grad)": lambda t, f, x: t.func.vmap(t.func.grad(lambda v: f(v).sum()))(x),
    "jacrev": lambda t, f, x: t.func.jacrev(f)(x),
    "jacfwd": lambda t, f, x: t.func.jacfwd(f)(x),
    "hessian": lambda t, f, x: t.func.hessian(lambda v: f(v).sum())(x),
    "jvp": lambda t, f, x: t.func.jvp(f, (x,), (t.ones_like(x),))[1],
    "vjp": lambda t, f, x: t.func.vjp(f, x)[1](t.ones_like(x))[0] * t.func.vjp(f, x)[0],
}


def _pinn_like(t, name, a, w_arr, x_requires_grad):
    """A physics-informed loss: derivatives of a small network in x (through torch.func), backpropagated to
    the network's weights (captured by the closure) and, optionally, to x."""
    w = t.tensor(w_arr, requires_grad=True)
    x = t.tensor(a, requires_grad=x_requires_grad)
    f = lambda v: t.tanh(v * w[0] + w[1]) * w[2]  # noqa: E731
    out = FUNC_ON_TAPE[name](t, f, x)
    loss = (out ** 2).sum() + f(x).sum()
    loss.backward()
    return out.detach().numpy(), w.grad.numpy(), (x.grad.numpy() if x_requires_grad else None)


@pytest.mark.parametrize("name", sorted(FUNC_ON_TAPE))
@pytest.mark.parametrize("x_requires_grad", [False, True])
def test_func_results_backpropagate_to_captured_weights_as_in_torch(name, x_requires_grad):
    torch = pytest.importorskip("torch")
    a, w_arr = np.array([0.3, -1.2, 2.0]), np.array([0.7, -0.2, 1.3])
    ours = _pinn_like(ag, name, a, w_arr, x_requires_grad)
    theirs = _pinn_like(torch, name, a, w_arr, x_requires_grad)
    for o, t in zip(ours, theirs):
        if t is None:
            assert o is None
        else:
            np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12)


def test_func_results_on_the_tape_only_when_something_outside_requires_grad():
    w = ag.tensor([0.7], requires_grad=True)
    x = ag.tensor([0.3, -1.2])
    g = ag.func.grad(lambda v: (v * w).sin().sum())(x)
    assert g.requires_grad  # reaches w, captured by the closure
    g.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [np.sum(np.cos(0.7 * x.numpy()) - 0.7 * x.numpy() * np.sin(0.7 * x.numpy()))],
                               rtol=1e-6)
    g2 = ag.func.grad(lambda v: (v * w.detach()).sin().sum())(x)
    assert not g2.requires_grad and g2.grad_fn is None  # nothing outside requires grad: cut from the tape
    with ag.no_grad():
        assert not ag.func.grad(lambda v: (v * w).sin().sum())(x).requires_grad
    # the HIPS-style ag.grad keeps its rule: results cut from the tape at the top level
    assert not ag.grad(lambda v: (v * w).sin().sum())(x).requires_grad


# -- jacrev of several outputs, hessian of a vector function (PyTorch's tutorial on Jacobians and Hessians) --
def _predict(t, weight, bias, x):
    return t.nn.functional.linear(x, weight, bias).tanh()


JAC_FORMS = {
    "hessian of a vector function": lambda t, w, b, x, xb: t.func.hessian(lambda *a: _predict(t, *a), argnums=2)(w, b, x),
    "vmap(hessian)": lambda t, w, b, x, xb: t.func.vmap(t.func.hessian(lambda *a: _predict(t, *a), argnums=2),
                                                         in_dims=(None, None, 0))(w, b, xb),
    "hessian, two argnums": lambda t, w, b, x, xb: t.func.hessian(lambda u, v: (u * v).sum() ** 2,
                                                                  argnums=(0, 1))(x, b)[0][1],
    "jacrev of a dict": lambda t, w, b, x, xb: t.func.jacrev(lambda a: {"s": a.sin(), "c": a * 2})(x)["s"],
    "jacrev of a tuple, two argnums": lambda t, w, b, x, xb: t.func.jacrev(lambda u, v: (u.sin() * v, (u * v).sum()),
                                                                           argnums=(0, 1))(x, b)[1][0],
    "jacfwd(jacfwd)": lambda t, w, b, x, xb: t.func.jacfwd(t.func.jacfwd(lambda *a: _predict(t, *a), argnums=2),
                                                           argnums=2)(w, b, x),
}


@pytest.mark.parametrize("name", sorted(JAC_FORMS))
def test_jacobian_forms_match_torch(name):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(0)
    arrs = [r.standard_normal((4, 4)), r.standard_normal(4), r.standard_normal(4), r.standard_normal((3, 4))]
    ours = JAC_FORMS[name](ag, *[ag.tensor(a) for a in arrs])
    theirs = JAC_FORMS[name](torch, *[torch.tensor(a) for a in arrs])
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_hessian_of_a_vector_function_by_hand():
    # f(x) = (x0^2 x1, x1^3): H[0] = [[2 x1, 2 x0], [2 x0, 0]], H[1] = [[0, 0], [0, 6 x1]]
    x = ag.tensor([2.0, 3.0], dtype=ag.float64)
    h = ag.func.hessian(lambda v: ag.stack([v[0] ** 2 * v[1], v[1] ** 3]))(x)
    np.testing.assert_allclose(h.numpy(), [[[6.0, 4.0], [4.0, 0.0]], [[0.0, 0.0], [0.0, 18.0]]])
    j = ag.func.jacrev(lambda v: (v * 2, {"n": v.sum()}))(x)
    np.testing.assert_allclose(j[0].numpy(), 2 * np.eye(2))
    np.testing.assert_allclose(j[1]["n"].numpy(), [1.0, 1.0])
    with pytest.raises(TypeError, match="jacrev: the function must return a Tensor or a tuple, list or dict"):
        ag.func.jacrev(lambda v: (v, 3))(x)


# -- torch.func over dicts of parameters (the neural-tangent-kernel and per-sample-gradient recipes) ------
def _flat_results(o):
    if isinstance(o, dict):
        return [x for k in sorted(o) for x in _flat_results(o[k])]
    if isinstance(o, (tuple, list)):
        return [x for v in o for x in _flat_results(v)]
    return [o.detach().numpy()]


PYTREE_FORMS = {
    "jacrev of a dict": lambda t, P, x, f: t.func.jacrev(f)(P, x),
    "jacrev of a dict and x": lambda t, P, x, f: t.func.jacrev(f, argnums=(0, 1))(P, x),
    "jacrev of a tuple": lambda t, P, x, f: t.func.jacrev(lambda ps, v: ps[0] @ v + ps[1])((P["w"], P["b"]), x),
    "jacrev, dict in and out": lambda t, P, x, f: t.func.jacrev(lambda p, v: {"y": f(p, v), "s": f(p, v).sum()})(P, x),
    "jacrev has_aux": lambda t, P, x, f: t.func.jacrev(lambda p, v: (f(p, v), f(p, v).sum()), has_aux=True)(P, x),
    "vjp of a dict": lambda t, P, x, f: t.func.vjp(f, P, x)[1](t.ones(3, dtype=t.float64)),
    "jvp of a dict": lambda t, P, x, f: t.func.jvp(lambda p: f(p, x), (P,), ({"w": t.ones(3, 2, dtype=t.float64),
                                                                             "b": t.ones(3, dtype=t.float64)},)),
    "hessian of a dict": lambda t, P, x, f: t.func.hessian(lambda p: f(p, x).sum())(P),
    "vmap(jacrev) of a dict": lambda t, P, x, f: t.func.vmap(t.func.jacrev(f), (None, 0))(P, t.stack([x, 2 * x])),
    "NTK by vjp and jvp": lambda t, P, x, f: _ntk_vps(t, P, x, f),
}


def _ntk_vps(t, P, x, f):
    output, vjp_fn = t.func.vjp(lambda p: f(p, x), P)

    def get_ntk_slice(vec):
        vjps = vjp_fn(vec)
        return t.func.jvp(lambda p: f(p, 2 * x), (P,), vjps)[1]
    ntk = t.func.vmap(get_ntk_slice)(t.eye(output.numel(), dtype=output.dtype).view(output.numel(), -1))
    return ntk, t.einsum("KK->K", ntk)


@pytest.mark.parametrize("name", sorted(PYTREE_FORMS))
def test_func_over_parameter_dicts_matches_torch(name):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(0)
    w, b, x = r.standard_normal((3, 2)), r.standard_normal(3), r.standard_normal(2)
    outs = []
    for t in (ag, torch):
        P = {"w": t.tensor(w), "b": t.tensor(b)}
        outs.append(_flat_results(PYTREE_FORMS[name](t, P, t.tensor(x), lambda p, v: (p["w"] @ v + p["b"]).tanh())))
    ours, theirs = outs
    assert [o.shape for o in ours] == [o.shape for o in theirs]
    for o, t_ in zip(ours, theirs):
        np.testing.assert_allclose(o, t_, rtol=1e-10, atol=1e-12)


def test_jacrev_of_a_parameter_dict_by_hand():
    P = {"w": ag.tensor([[2.0, 3.0]]), "b": ag.tensor([1.0])}
    x = ag.tensor([5.0, 7.0])
    j = ag.func.jacrev(lambda p, v: p["w"] @ v + p["b"])(P, x)
    assert set(j) == {"w", "b"} and j["w"].shape == (1, 1, 2) and j["b"].shape == (1, 1)
    np.testing.assert_allclose(j["w"].numpy(), [[[5.0, 7.0]]])
    np.testing.assert_allclose(j["b"].numpy(), [[1.0]])
    with pytest.raises(ValueError, match="jvp: a tangent with 1 tensor"):
        ag.func.jvp(lambda p: p["w"].sum(), (P,), ({"w": ag.ones(1, 2)},))

"""torch.func's spellings (autograd_core.func) and nn's functional_call: gradients of parameter dicts,
has_aux, jvp, jacrev/jacfwd, hessian, vmap (looped) and their nesting, against values worked out by
hand, and against torch.func in float64 when torch is installed."""
import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F


def test_grad_of_a_parameter_dict_has_its_structure():
    p = {"w": ag.tensor([1.0, 2.0]), "inner": (ag.tensor(3.0), [ag.tensor([[1.0]])])}
    g = ag.func.grad(lambda p, x: (p["w"] * x).sum() * p["inner"][0] + p["inner"][1][0].sum())(p, ag.tensor([4.0, 5.0]))
    assert set(g) == {"w", "inner"} and isinstance(g["inner"], tuple) and isinstance(g["inner"][1], list)
    np.testing.assert_allclose(g["w"]._data, [12.0, 15.0])
    np.testing.assert_allclose(g["inner"][0]._data, 14.0)
    np.testing.assert_allclose(g["inner"][1][0]._data, [[1.0]])
    assert not g["w"].requires_grad


def test_grad_has_aux_argnums_and_nesting():
    f = lambda a, b: ((a * b).sum(), {"s": a.sum()})   # noqa: E731
    (ga, gb), aux = ag.func.grad(f, argnums=(0, 1), has_aux=True)(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0]))
    np.testing.assert_allclose(ga._data, [3.0, 4.0])
    np.testing.assert_allclose(gb._data, [1.0, 2.0])
    assert aux["s"].item() == 3.0
    g, v = ag.func.grad_and_value(lambda x: (x ** 3).sum())(ag.tensor([2.0]))
    assert g.item() == 12.0 and v.item() == 8.0
    # d²/dx² x³ = 6x, d³/dx³ = 6
    assert ag.func.grad(ag.func.grad(lambda x: x ** 3))(ag.tensor(2.0)).item() == 12.0
    assert ag.func.grad(ag.func.grad(ag.func.grad(lambda x: x ** 3)))(ag.tensor(2.0)).item() == 6.0
    with pytest.raises(ValueError, match="scalar"):
        ag.func.grad(lambda x: x * 2)(ag.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="pair"):
        ag.func.grad(lambda x: x.sum(), has_aux=True)(ag.tensor([1.0]))
    with pytest.raises(TypeError, match="only tensors"):
        ag.func.grad(lambda p: p["a"])({"a": 1.0})


def test_jvp_jacobians_hessian_and_vjp_by_hand():
    x, v = ag.tensor([1.0, 3.0]), ag.tensor([1.0, 0.5])
    out, jv = ag.func.jvp(lambda t: t ** 2, (x,), (v,))
    np.testing.assert_allclose(out._data, [1.0, 9.0])
    np.testing.assert_allclose(jv._data, [2.0, 3.0])                  # 2 x v
    f = lambda t: t.sum() * t                                          # noqa: E731  J = s I + t 1^T
    want = np.array([[4.0 + 1.0, 1.0], [3.0, 4.0 + 3.0]])
    np.testing.assert_allclose(ag.func.jacrev(f)(x)._data, want)
    np.testing.assert_allclose(ag.func.jacfwd(f)(x)._data, want)
    np.testing.assert_allclose(ag.func.hessian(lambda t: (t ** 3).sum())(x)._data, np.diag([6.0, 18.0]))
    out, back = ag.func.vjp(lambda t: t * 2, x)
    np.testing.assert_allclose(back(ag.tensor([1.0, 10.0]))[0]._data, [2.0, 20.0])
    with pytest.raises(ValueError, match="tangent of shape"):
        ag.func.jvp(lambda t: t, (x,), (ag.tensor([1.0]),))


def test_vmap_in_and_out_dims_nesting_and_gradients():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((3, 5))
    prod, s = ag.func.vmap(lambda x, y: (x @ y, x.sum()), in_dims=(0, None), out_dims=(1, 0))(ag.tensor(a), ag.tensor(b))
    np.testing.assert_allclose(prod._data, np.moveaxis(a @ b, 0, 1))
    np.testing.assert_allclose(s._data, a.sum(axis=(1, 2)))
    dots = ag.func.vmap(ag.func.vmap(lambda u, w: (u * w).sum()))(ag.tensor(a), ag.tensor(a))
    np.testing.assert_allclose(dots._data, (a * a).sum(-1))
    xa = ag.tensor(a, requires_grad=True)
    ag.func.vmap(lambda t: (t ** 2).sum(), in_dims=1)(xa).sum().backward()
    np.testing.assert_allclose(xa.grad._data, 2 * a)
    # per-sample gradients: vmap over grad
    per = ag.func.vmap(ag.func.grad(lambda w, x: (w * x).sum() ** 2), in_dims=(None, 0))(ag.tensor([1.0, 2.0]),
                                                                                        ag.tensor([[1.0, 0.0], [1.0, 1.0]]))
    np.testing.assert_allclose(per._data, [[2.0, 0.0], [6.0, 6.0]])    # 2 (w.x) x
    with pytest.raises(ValueError, match="different batch sizes"):
        ag.func.vmap(lambda u, w: u + w)(ag.ones(2), ag.ones(3))
    with pytest.raises(ValueError, match="at least one argument must be mapped"):
        ag.func.vmap(lambda u: u, in_dims=None)(ag.ones(2))


def test_functional_call_swaps_and_restores():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    before = {k: v._data.copy() for k, v in net.state_dict().items()}
    w = ag.tensor([[1.0, -1.0]], requires_grad=True)
    x = ag.tensor([[1.0, 2.0]])
    hidden = F.relu(net[0](x))
    out = ag.func.functional_call(net, {"2.weight": w, "2.bias": ag.tensor([0.5])}, (x,))
    np.testing.assert_allclose(out._data, hidden._data @ np.array([[1.0], [-1.0]]) + 0.5)
    out.sum().backward()
    np.testing.assert_allclose(w.grad._data, hidden._data)
    assert net[2].weight.grad is None and isinstance(net[2].weight, nn.Parameter)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k])
    with pytest.raises(RuntimeError, match="boom"):
        class Boom(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(1, 1)

            def forward(self, t):
                raise RuntimeError("boom")
        m = Boom()
        old = m.lin.weight
        try:
            ag.func.functional_call(m, {"lin.weight": ag.zeros(1, 1)}, ag.ones(1, 1))
        finally:
            assert m.lin.weight is old
    with pytest.raises(ValueError, match="no parameter or buffer named"):
        ag.func.functional_call(net, {"nope": ag.zeros(1)}, x)
    with pytest.raises(ValueError, match="strict"):
        ag.func.functional_call(net, {"0.weight": ag.zeros(2, 2)}, x, strict=True)


def test_functional_call_ties_weights_and_swaps_buffers():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight
            self.register_buffer("scale", ag.tensor(1.0))

        def forward(self, t):
            return self.b(self.a(t)) * self.scale
    m = Tied()
    eye = ag.eye(2) * 2
    out = ag.func.functional_call(m, {"a.weight": eye, "scale": ag.tensor(3.0)}, ag.tensor([[1.0, 1.0]]))
    np.testing.assert_allclose(out._data, [[12.0, 12.0]])             # both layers see 2 I, then x 3
    out = ag.func.functional_call(m, {"a.weight": eye}, ag.tensor([[1.0, 1.0]]), tie_weights=False)
    np.testing.assert_allclose(out._data, ag.tensor([[2.0, 2.0]])._data @ m.b.weight._data.T)
    assert m.scale.item() == 1.0


def test_functional_call_before_nn_is_imported_says_to_import_nn():
    # the engine does not import nn: until nn is imported, func.functional_call is a stand-in
    import os
    import subprocess
    import sys
    code = ("import autograd_core as torch\n"
            "try:\n    torch.func.functional_call(None, {})\nexcept RuntimeError as e:\n    print(e)\n"
            "import nn\nprint(torch.func.functional_call is nn.stateless.functional_call "
            "is nn.utils.stateless.functional_call)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert "add `import nn`" in out.stdout and out.stdout.strip().endswith("True"), out.stdout + out.stderr


@pytest.mark.parametrize("seed", [0, 1])
def test_per_sample_gradients_match_torch_func(seed):
    torch = pytest.importorskip("torch")
    from torch.func import functional_call as tfc, grad as tgrad, vmap as tvmap
    rng = np.random.default_rng(seed)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    om = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    om.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)

    def tloss(p, xi, yi):
        return torch.nn.functional.cross_entropy(tfc(tm, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))

    def oloss(p, xi, yi):
        return F.cross_entropy(ag.func.functional_call(om, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))
    tg = tvmap(tgrad(tloss), in_dims=(None, 0, 0))({k: v.detach() for k, v in tm.named_parameters()},
                                                   torch.tensor(x), torch.tensor(y))
    og = ag.func.vmap(ag.func.grad(oloss), in_dims=(None, 0, 0))({k: v.detach() for k, v in om.named_parameters()},
                                                                 ag.tensor(x), ag.tensor(y))
    for k in tg:
        np.testing.assert_allclose(og[k]._data, tg[k].numpy(), rtol=1e-10, atol=1e-12)


def test_jvp_jacrev_hessian_match_torch_func():
    torch = pytest.importorskip("torch")
    import torch.func as tf
    rng = np.random.default_rng(3)
    x0, v0 = rng.standard_normal(4), rng.standard_normal(4)
    g = lambda t: t.sin() * t.sum()   # noqa: E731
    a, b = tf.jvp(g, (torch.tensor(x0),), (torch.tensor(v0),)), ag.func.jvp(g, (ag.tensor(x0),), (ag.tensor(v0),))
    np.testing.assert_allclose(b[1]._data, a[1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(ag.func.jacrev(g)(ag.tensor(x0))._data, tf.jacrev(g)(torch.tensor(x0)).numpy(), rtol=1e-12)
    h = lambda t: (t.sin() * t.sum()).sum()   # noqa: E731
    np.testing.assert_allclose(ag.func.hessian(h)(ag.tensor(x0))._data, tf.hessian(h)(torch.tensor(x0)).numpy(),
                               rtol=1e-10, atol=1e-12)

"""nn.utils.parametrize and nn.utils.parametrizations (weight_norm, spectral_norm): registration,
chaining, caching, assignment, removal, gradients (gradcheck over hypothesis shapes), state dict
keys and values against PyTorch when installed."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import optim
from autograd_core.testing import gradcheck

P = nn.utils.parametrize


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT


class Scale(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return x * self.k

    def right_inverse(self, y):
        return y / self.k


def test_register_chain_assign_and_remove():
    layer = nn.Linear(3, 3)
    orig = layer.weight
    P.register_parametrization(layer, "weight", Symmetric())
    w = layer.weight
    np.testing.assert_array_equal(w._data, w._data.T)
    assert type(layer).__name__ == "ParametrizedLinear" and P.type_before_parametrizations(layer) is nn.Linear
    assert layer.parametrizations.weight.original is orig and P.is_parametrized(layer, "weight")
    assert sorted(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    P.register_parametrization(layer, "weight", Scale(2.0))          # chained after Symmetric
    np.testing.assert_allclose(layer.weight._data, 2 * w._data)
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        layer.weight = ag.eye(3)
    scaled = P.register_parametrization(nn.Linear(3, 3), "weight", Scale(2.0))
    scaled.weight = ag.eye(3) * 4                                    # through the right inverse: original = 2 I
    np.testing.assert_allclose(scaled.parametrizations.weight.original._data, 2 * np.eye(3))
    np.testing.assert_allclose(scaled.weight._data, 4 * np.eye(3))
    layer.parametrizations.weight.original._data[...] = np.eye(3)
    with P.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight
    P.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and not P.is_parametrized(layer)
    np.testing.assert_allclose(layer.weight._data, 2 * np.eye(3))     # Scale(Symmetric(I)), left in place
    assert isinstance(layer.weight, nn.Parameter) and sorted(layer.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="no parameter, buffer or parametrized tensor"):
        P.register_parametrization(layer, "nope", Symmetric())
    with pytest.raises(ValueError, match="unsafe=True"):
        class Flatten(nn.Module):
            def forward(self, x):
                return x.reshape(-1)
        P.register_parametrization(nn.Linear(2, 2), "weight", Flatten())


def test_gradients_reach_the_originals():
    layer = P.register_parametrization(nn.Linear(2, 2, bias=False), "weight", Symmetric())
    x = ag.tensor([[1.0, 2.0]])
    layer(x).sum().backward()
    # y = x Wᵀ, W = triu(O) + triu(O, 1)ᵀ: dL/dO = triu(G) + tril(G, -1)ᵀ with G = 1 xᵀ summed
    g = np.ones((2, 1)) @ x._data
    np.testing.assert_allclose(layer.parametrizations.weight.original.grad._data, np.triu(g) + np.tril(g, -1).T)


@settings(max_examples=10, deadline=None)
@given(out=st.integers(1, 3), inp=st.integers(1, 3), dim=st.sampled_from([0, 1, None]), seed=st.integers(0, 1000))
def test_weight_norm_gradcheck(out, inp, dim, seed):
    rng = np.random.default_rng(seed)
    layer = nn.utils.parametrizations.weight_norm(nn.Linear(inp, out).double(), dim=dim)
    g, v = layer.parametrizations.weight.original0, layer.parametrizations.weight.original1
    x = ag.tensor(rng.standard_normal((2, inp)))

    def f(g_, v_):
        layer.parametrizations.weight.original0._data[...] = g_._data   # values for the forward below
        return ag.func.functional_call(layer, {"parametrizations.weight.original0": g_,
                                               "parametrizations.weight.original1": v_}, x)
    assert gradcheck(f, (ag.tensor(g._data.copy(), requires_grad=True), ag.tensor(v._data.copy(), requires_grad=True)))


def test_weight_norm_and_spectral_norm_by_hand():
    lin = nn.utils.parametrizations.weight_norm(nn.Linear(2, 2))
    np.testing.assert_allclose(lin.parametrizations.weight.original0._data.ravel(),
                               np.sqrt((lin.weight._data ** 2).sum(1)))
    with pytest.raises(ValueError, match="leave_parametrized=False"):
        P.remove_parametrizations(lin, "weight", leave_parametrized=False)
    sn = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3))
    assert sorted(sn.state_dict()) == ["bias", "parametrizations.weight.0._u", "parametrizations.weight.0._v",
                                       "parametrizations.weight.original"]
    for _ in range(30):
        sn(ag.ones(1, 4))
    assert abs(float(ag.linalg.svdvals(sn.weight.detach())[0]) - 1.0) < 1e-6
    sn.eval()
    u = sn.parametrizations.weight[0]._u._data.copy()
    sn(ag.ones(1, 4))
    np.testing.assert_array_equal(sn.parametrizations.weight[0]._u._data, u)   # no power iteration in eval mode
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm"])
def test_parametrizations_match_torch(kind):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrizations as TPS
    rng = np.random.default_rng(0)
    for cls, args, x in ((torch.nn.Linear, (3, 4), rng.standard_normal((2, 3))),
                         (torch.nn.Conv2d, (2, 3, 3), rng.standard_normal((1, 2, 5, 5))),
                         (torch.nn.ConvTranspose2d, (2, 3, 3), rng.standard_normal((1, 2, 4, 4)))):
        mt = getattr(TPS, kind)(cls(*args).double())
        mo = getattr(nn.utils.parametrizations, kind)(getattr(nn, cls.__name__)(*args).double())
        assert sorted(mt.state_dict()) == sorted(mo.state_dict())
        mo.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
        for train in (True, False):
            mt.train(train)
            mo.train(train)
            yt, yo = mt(torch.tensor(x)), mo(ag.tensor(x))
            yt.square().sum().backward()
            yo.square().sum().backward()
            np.testing.assert_allclose(yo._data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
            pt, po = dict(mt.named_parameters()), dict(mo.named_parameters())
            for k in pt:
                np.testing.assert_allclose(po[k].grad._data, pt[k].grad.numpy(), rtol=1e-8, atol=1e-12)
                pt[k].grad = None
                po[k].grad = None


@pytest.mark.parametrize("shape,orthogonal_map", [((3, 3), None), ((3, 3), "cayley"), ((4, 2), "matrix_exp"),
                                                  ((2, 4), "cayley"), ((4, 2), None), ((2, 4), "householder"),
                                                  ((3, 3), "householder")])
def test_orthogonal_stays_orthogonal_and_matches_torch(shape, orthogonal_map):
    layer = nn.utils.parametrizations.orthogonal(nn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
    assert sorted(layer.state_dict()) == ["bias", "parametrizations.weight.0.base", "parametrizations.weight.original"]
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = ag.tensor(np.random.default_rng(0).standard_normal((5, shape[1])))
    for _ in range(3):                               # training moves the original; the weight stays orthogonal
        layer(x).square().sum().backward()
        opt.step()
        opt.zero_grad()
    w = layer.weight._data
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-10)
    x0 = ag.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True)
    plist = layer.parametrizations.weight
    assert gradcheck(lambda o: plist[0](o), (x0,))
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrizations as TPS
    mt = TPS.orthogonal(torch.nn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
    sd = {k: v.detach().numpy().copy() for k, v in mt.state_dict().items()}
    sd["parametrizations.weight.original"] += np.random.default_rng(2).standard_normal(shape) * 0.3
    mt.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    layer.load_state_dict({k: ag.tensor(v) for k, v in sd.items()})
    np.testing.assert_allclose(layer.weight._data, mt.weight.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_householder_without_trivialization_matches_torch(shape):
    """use_trivialization=False: the original holds the QR's reflectors (geqrf) and the weight is their
    product, the same matrix PyTorch gets from the same weight."""
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrizations as TPS
    w = np.random.default_rng(3).standard_normal(shape)
    mo, mt = nn.Linear(shape[1], shape[0]).double(), torch.nn.Linear(shape[1], shape[0]).double()
    b = np.random.default_rng(5).standard_normal(shape[0])
    with ag.no_grad():
        mo.weight.copy_(ag.tensor(w))
        mo.bias.copy_(ag.tensor(b))
    with torch.no_grad():
        mt.weight.copy_(torch.tensor(w))
        mt.bias.copy_(torch.tensor(b))
    nn.utils.parametrizations.orthogonal(mo, orthogonal_map="householder", use_trivialization=False)
    TPS.orthogonal(mt, orthogonal_map="householder", use_trivialization=False)
    assert sorted(mo.state_dict()) == sorted(mt.state_dict())
    np.testing.assert_allclose(mo.parametrizations.weight.original.detach().numpy(),
                               mt.parametrizations.weight.original.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mo.weight.detach().numpy(), mt.weight.detach().numpy(), rtol=1e-10, atol=1e-12)
    x = np.random.default_rng(4).standard_normal((2, shape[1]))
    mo(ag.tensor(x)).square().sum().backward()
    mt(torch.tensor(x)).square().sum().backward()
    np.testing.assert_allclose(mo.parametrizations.weight.original.grad.numpy(),
                               mt.parametrizations.weight.original.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("m,n,k", [(5, 3, 3), (5, 3, 1), (4, 4, 4), (3, 1, 1)])
def test_householder_product_gradcheck_and_qr(m, n, k):
    rng = np.random.default_rng(m * 10 + n + k)
    A = ag.tensor(rng.standard_normal((2, m, n)), requires_grad=True)
    tau = ag.tensor(rng.uniform(0.5, 1.5, (2, k)), requires_grad=True)
    assert gradcheck(lambda a, t: ag.linalg.householder_product(a, t), (A, tau))
    a = rng.standard_normal((m, n))
    h, t = ag.geqrf(ag.tensor(a))
    q = ag.linalg.householder_product(h, t).numpy()
    np.testing.assert_allclose(q @ np.triu(h.numpy()[:n]), a, atol=1e-10)
    np.testing.assert_allclose(q.T @ q, np.eye(n), atol=1e-10)

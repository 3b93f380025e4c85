"""autograd_core.distributions and autograd_core.special: densities, entropies, KL divergences and special
functions against PyTorch (values and gradients, float64) when it is installed; sampling by its statistics;
a REINFORCE step and a reparameterized sample train through the tape."""
import math

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.testing import gradcheck

D = ag.distributions


def _torch():
    return pytest.importorskip("torch")


def _pair(torch, a):
    return ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


CASES = [
    ("Normal", lambda lib, p: lib.Normal(p[0], p[1].abs() + 0.5), [(3,), (3,)], lambda lib: np.array([0.3, -1.0, 2.0])),
    ("Uniform", lambda lib, p: lib.Uniform(p[0] - 3.0, p[1].abs() + 3.0), [(3,), (3,)],
     lambda lib: np.array([0.3, -1.0, 2.0])),
    ("Bernoulli-probs", lambda lib, p: lib.Bernoulli(probs=p[0].sigmoid()), [(4,)], lambda lib: np.array([1., 0., 1., 0.])),
    ("Bernoulli-logits", lambda lib, p: lib.Bernoulli(logits=p[0]), [(4,)], lambda lib: np.array([1., 0., 0., 1.])),
    ("Categorical-probs", lambda lib, p: lib.Categorical(probs=p[0].softmax(-1)), [(2, 4)], lambda lib: np.array([3, 0])),
    ("Categorical-logits", lambda lib, p: lib.Categorical(logits=p[0]), [(2, 4)], lambda lib: np.array([1, 2])),
]


@pytest.mark.parametrize("name, make, shapes, value", CASES, ids=[c[0] for c in CASES])
def test_log_prob_and_entropy_match_torch(name, make, shapes, value):
    torch = _torch()
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours_p, theirs_p = zip(*[_pair(torch, a) for a in arrays])
    ours, theirs = make(D, ours_p), make(torch.distributions, theirs_p)
    v = value(None)
    tv = torch.tensor(v) if v.dtype.kind == "f" else torch.tensor(v, dtype=torch.int64)
    lp, tlp = ours.log_prob(ag.tensor(v)), theirs.log_prob(tv)
    ent, tent = ours.entropy(), theirs.entropy()
    np.testing.assert_allclose(lp._data, tlp.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ent._data, tent.detach().numpy(), rtol=1e-10)
    (lp.sum() + ent.sum()).backward()
    (tlp.sum() + tent.sum()).backward()
    for o, t in zip(ours_p, theirs_p):
        np.testing.assert_allclose(o.grad._data, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    if name in ("Normal", "Uniform", "Bernoulli-probs"):
        np.testing.assert_allclose(ours.mean._data, theirs.mean.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.variance._data, theirs.variance.detach().numpy(), rtol=1e-12)


def test_kl_divergences_match_torch():
    torch = _torch()
    rng = np.random.default_rng(1)
    a, b, c, d = (rng.standard_normal(3) for _ in range(4))
    for make in (lambda L, x, y, z, w: (L.Normal(x, y.abs() + 0.5), L.Normal(z, w.abs() + 0.5)),
                 lambda L, x, y, z, w: (L.Bernoulli(logits=x), L.Bernoulli(logits=z)),
                 lambda L, x, y, z, w: (L.Categorical(logits=x), L.Categorical(logits=z)),
                 lambda L, x, y, z, w: (L.Uniform(x - 2, x + 2), L.Uniform(x - 3, x + 3))):
        ours_t = [ag.tensor(v, requires_grad=True) for v in (a, b, c, d)]
        theirs_t = [torch.tensor(v, requires_grad=True) for v in (a, b, c, d)]
        kl = D.kl_divergence(*make(D, *ours_t))
        tkl = torch.distributions.kl_divergence(*make(torch.distributions, *theirs_t))
        np.testing.assert_allclose(kl._data, tkl.detach().numpy(), rtol=1e-10)
        kl.sum().backward()
        tkl.sum().backward()
        for o, t in zip(ours_t, theirs_t):
            if t.grad is not None:
                np.testing.assert_allclose(o.grad._data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sampling_statistics():
    ag.manual_seed(3)
    n = D.Normal(ag.tensor([1.0, -2.0]), ag.tensor([0.5, 2.0])).sample((20000,))
    assert n.shape == (20000, 2)
    np.testing.assert_allclose(n._data.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(n._data.std(0), [0.5, 2.0], rtol=0.03)
    c = D.Categorical(probs=ag.tensor([0.1, 0.6, 0.3])).sample((30000,))
    assert c.dtype == np.int64 and c.shape == (30000,)
    np.testing.assert_allclose(np.bincount(c._data, minlength=3) / 30000, [0.1, 0.6, 0.3], atol=0.015)
    cb = D.Categorical(logits=ag.zeros(4, 5)).sample((7,))
    assert cb.shape == (7, 4) and cb._data.max() < 5
    b = D.Bernoulli(probs=ag.tensor([0.2, 0.9])).sample((20000,))
    np.testing.assert_allclose(b._data.mean(0), [0.2, 0.9], atol=0.015)
    u = D.Uniform(ag.tensor(2.0), ag.tensor(4.0)).sample((10000,))
    assert u._data.min() >= 2.0 and u._data.max() < 4.0 and abs(u._data.mean() - 3.0) < 0.05


def test_reinforce_and_reparameterized_gradients():
    logits = ag.zeros(3, requires_grad=True)
    m = D.Categorical(logits=logits)
    action = ag.tensor(2)
    (-m.log_prob(action) * 5.0).backward()   # REINFORCE with return 5: push the taken action up
    np.testing.assert_allclose(logits.grad._data, [5 / 3, 5 / 3, -10 / 3], rtol=1e-6)
    mu = ag.tensor(1.0, requires_grad=True)
    sigma = ag.tensor(2.0, requires_grad=True)
    ag.manual_seed(0)
    x = D.Normal(mu, sigma).rsample((1000,))
    x.mean().backward()
    assert mu.grad.item() == pytest.approx(1.0)
    assert abs(sigma.grad.item()) < 0.2   # d mean(mu + eps sigma) / d sigma = mean(eps) ~ 0
    x64 = ag.tensor([0.3, 1.2], dtype=ag.float64, requires_grad=True)
    assert gradcheck(lambda s: D.Normal(ag.tensor(0.0, dtype=ag.float64), s).log_prob(ag.tensor([1.0, -1.0],
                                                                                               dtype=ag.float64)), (x64,))


def test_argument_errors():
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Bernoulli(probs=ag.tensor([0.5]), logits=ag.tensor([0.0]))
    with pytest.raises(NotImplementedError, match="kl_divergence"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))


@pytest.mark.parametrize("name, args", [("expit", ""), ("logit", ""), ("erf", ""), ("erfc", ""), ("erfinv", ""),
                                        ("gammaln", ""), ("digamma", ""), ("psi", ""), ("entr", ""), ("ndtr", ""),
                                        ("log_ndtr", ""), ("sinc", ""), ("expm1", ""), ("log1p", ""), ("exp2", ""),
                                        ("xlogy", ", y"), ("xlog1py", ", y"), ("log_softmax", ", 0"),
                                        ("softmax", ", 0"), ("logsumexp", ", 0"), ("multigammaln", ", 2"),
                                        ("polygamma", "")])
def test_special_matches_torch(name, args):
    torch = _torch()
    a, b = np.array([0.2, 0.45, 0.7]), np.array([0.5, 1.5, 3.0])
    call = f"special.polygamma(1, x{args})" if name == "polygamma" else f"special.{name}(x{args})"
    if name in ("gammaln", "digamma", "psi", "multigammaln", "polygamma"):
        a = a + 1.0
    x, y = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = eval(call, {"special": ag.special, "x": x, "y": y})
    tout = eval(call, {"special": torch.special, "x": tx, "y": ty})
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-7)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_special_values_without_torch():
    assert ag.special.ndtr(ag.tensor([0.0]))._data[0] == pytest.approx(0.5)
    assert ag.special.entr(ag.tensor([0.5]))._data[0] == pytest.approx(0.5 * math.log(2), rel=1e-6)
    assert ag.special.expit(ag.tensor([0.0]))._data[0] == 0.5

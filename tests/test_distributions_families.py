"""The distribution families of autograd_core.distributions: log_prob, entropy, moments, cdf / icdf and
the gradients of log_prob match torch.distributions in float64 (skipped without torch); samples have
the right moments; rsample's gradients are right (location-scale families by hand, the gamma family's
implicit gradient against SciPy's inverse CDF); KL divergences match torch; parameters and values are
checked against their constraints as in PyTorch."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck

D = ag.distributions
F64 = ag.float64


def _torch():
    return pytest.importorskip("torch")


def t64(x):
    return ag.tensor(np.asarray(x, dtype=np.float64))


rng = np.random.default_rng(0)
POS = rng.uniform(0.5, 3.0, 3)
POS2 = rng.uniform(0.5, 3.0, 3)
REAL = rng.standard_normal(3)
UNIT = rng.uniform(0.1, 0.9, 3)
SIMPLEX = rng.dirichlet(np.ones(4), size=2)

# name -> (params (numpy, float64), value (numpy), has cdf, has icdf)
FAMILIES = {
    "Normal": (dict(loc=REAL, scale=POS), rng.standard_normal(3), True, True),
    "Laplace": (dict(loc=REAL, scale=POS), rng.standard_normal(3), True, True),
    "Cauchy": (dict(loc=REAL, scale=POS), rng.standard_normal(3), True, True),
    "Gumbel": (dict(loc=REAL, scale=POS), rng.standard_normal(3), True, False),
    "StudentT": (dict(df=POS * 2, loc=REAL, scale=POS2), rng.standard_normal(3), False, False),
    "Exponential": (dict(rate=POS), POS2, True, True),
    "Gamma": (dict(concentration=POS, rate=POS2), POS2, True, False),
    "Chi2": (dict(df=POS * 2), POS2, False, False),
    "Beta": (dict(concentration1=POS, concentration0=POS2), UNIT, False, False),
    "Dirichlet": (dict(concentration=rng.uniform(0.5, 3, (2, 4))), SIMPLEX, False, False),
    "LogNormal": (dict(loc=REAL, scale=POS), POS2, True, True),
    "HalfNormal": (dict(scale=POS), POS2, True, True),
    "HalfCauchy": (dict(scale=POS), POS2, True, True),
    "Uniform": (dict(low=REAL - 2, high=REAL + 2), REAL + 0.5, True, True),
    "Bernoulli": (dict(probs=UNIT), np.array([0.0, 1.0, 1.0]), False, False),
    "Geometric": (dict(probs=UNIT), np.array([0.0, 2.0, 5.0]), False, False),
    "Poisson": (dict(rate=POS), np.array([0.0, 2.0, 5.0]), False, False),
    "Binomial": (dict(total_count=np.array([5.0, 5.0, 5.0]), probs=UNIT), np.array([0.0, 2.0, 5.0]), False, False),
    "Categorical": (dict(probs=SIMPLEX), np.array([3, 0]), False, False),
    "OneHotCategorical": (dict(probs=SIMPLEX), np.eye(4)[[3, 0]], False, False),
    "Multinomial": (dict(total_count=6, probs=SIMPLEX), np.array([[1.0, 2.0, 0.0, 3.0], [6.0, 0.0, 0.0, 0.0]]),
                    False, False),
    "MultivariateNormal": (dict(loc=rng.standard_normal((2, 3)),
                                scale_tril=np.tril(rng.uniform(0.2, 1.0, (2, 3, 3))) + 2 * np.eye(3)),
                           rng.standard_normal((2, 3)), False, False),
}
NO_ENTROPY = {"Poisson", "Multinomial"}
NO_MODE = {"Uniform", "Cauchy" if False else "", "Multinomial", "StudentT" if False else "", "Binomial", "Chi2"}


def _make(M, name, params, grad=False):
    args = {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            t = M.tensor(v.copy(), dtype=M.float64)
            if grad:
                t.requires_grad_(True)
            args[k] = t
        else:
            args[k] = v
    return getattr(M.distributions, name)(**args), args


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_matches_torch(name):
    torch = _torch()
    params, value, has_cdf, has_icdf = FAMILIES[name]
    ours, _ = _make(ag, name, params)
    theirs, _ = _make(torch, name, params)
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
    v_o, v_t = ag.tensor(value, dtype=F64), torch.tensor(value, dtype=torch.float64)
    np.testing.assert_allclose(ours.log_prob(v_o).numpy(), theirs.log_prob(v_t).numpy(), rtol=1e-9, atol=1e-12)
    if name not in NO_ENTROPY:
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-9, atol=1e-12)
    for attr in ("mean", "variance", "stddev", "mode"):
        try:
            want = getattr(theirs, attr)
        except (NotImplementedError, AttributeError):
            continue
        np.testing.assert_allclose(getattr(ours, attr).detach().numpy(), want.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=attr)
    if has_cdf:
        np.testing.assert_allclose(ours.cdf(v_o).numpy(), theirs.cdf(v_t).numpy(), rtol=1e-7, atol=1e-12)
    if has_icdf:
        q = np.array([0.1, 0.5, 0.8])
        np.testing.assert_allclose(ours.icdf(ag.tensor(q, dtype=F64)).numpy(),
                                   theirs.icdf(torch.tensor(q, dtype=torch.float64)).numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_log_prob_gradients_match_torch(name):
    torch = _torch()
    params, value, _, _ = FAMILIES[name]
    ours, oargs = _make(ag, name, params, grad=True)
    theirs, targs = _make(torch, name, params, grad=True)
    w = np.random.default_rng(1).standard_normal(ours.batch_shape)
    (ours.log_prob(ag.tensor(value, dtype=F64)) * ag.tensor(w)).sum().backward()
    (theirs.log_prob(torch.tensor(value, dtype=torch.float64)) * torch.tensor(w)).sum().backward()
    for k in oargs:
        if isinstance(oargs[k], ag.Tensor) and targs[k].grad is not None and k != "total_count":
            np.testing.assert_allclose(oargs[k].grad.numpy(), targs[k].grad.numpy(), rtol=1e-7, atol=1e-10,
                                       err_msg=k)


CONTINUOUS_GRADCHECK = {
    "Normal": lambda a, b: D.Normal(a, b.exp()),
    "Laplace": lambda a, b: D.Laplace(a, b.exp()),
    "Cauchy": lambda a, b: D.Cauchy(a, b.exp()),
    "Gumbel": lambda a, b: D.Gumbel(a, b.exp()),
    "StudentT": lambda a, b: D.StudentT(b.exp() + 1, a, b.exp()),
    "Gamma": lambda a, b: D.Gamma(a.exp(), b.exp()),
    "Beta": lambda a, b: D.Beta(a.exp(), b.exp()),
    "LogNormal": lambda a, b: D.LogNormal(a, b.exp()),
    "Exponential": lambda a, b: D.Exponential(a.exp() + b.exp()),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS_GRADCHECK))
@given(n=st.integers(1, 4), seed=st.integers(0, 1000))
@settings(max_examples=10, deadline=None)
def test_log_prob_and_entropy_gradcheck(name, n, seed):
    r = np.random.default_rng(seed)
    a = ag.tensor(r.uniform(-0.5, 0.5, n), dtype=F64, requires_grad=True)
    b = ag.tensor(r.uniform(-0.5, 0.5, n), dtype=F64, requires_grad=True)
    value = ag.tensor(r.uniform(0.2, 0.8, n), dtype=F64)
    make = CONTINUOUS_GRADCHECK[name]
    assert gradcheck(lambda a, b: make(a, b).log_prob(value), (a, b))
    assert gradcheck(lambda a, b: make(a, b).entropy(), (a, b))


def test_mvn_log_prob_gradcheck():
    r = np.random.default_rng(3)
    loc = ag.tensor(r.standard_normal(3), dtype=F64, requires_grad=True)
    A = ag.tensor(r.standard_normal((3, 3)), dtype=F64, requires_grad=True)
    x = ag.tensor(r.standard_normal((2, 3)), dtype=F64)
    assert gradcheck(lambda loc, A: D.MultivariateNormal(loc, A @ A.T + 3 * ag.eye(3, dtype=F64)).log_prob(x),
                     (loc, A))


@pytest.mark.parametrize("make,n", [
    (lambda: D.Normal(t64([1.0, -2.0]), t64([0.5, 2.0])), 20000),
    (lambda: D.Laplace(t64([1.0]), t64([0.5])), 20000),
    (lambda: D.Exponential(t64([2.0])), 20000),
    (lambda: D.Gamma(t64([0.3, 2.5]), t64([1.0, 2.0])), 20000),
    (lambda: D.Beta(t64([0.5, 2.0]), t64([2.0, 0.7])), 20000),
    (lambda: D.Dirichlet(t64([1.0, 2.0, 3.0])), 20000),
    (lambda: D.Poisson(t64([3.0])), 20000),
    (lambda: D.Binomial(10, probs=t64([0.3])), 20000),
    (lambda: D.Geometric(probs=t64([0.4])), 20000),
    (lambda: D.Gumbel(t64([0.0]), t64([2.0])), 20000),
    (lambda: D.StudentT(t64([6.0]), t64([1.0]), t64([2.0])), 40000),
    (lambda: D.MultivariateNormal(t64([1.0, 2.0]), t64([[2.0, 0.5], [0.5, 1.0]])), 20000),
    (lambda: D.Multinomial(5, probs=t64([0.2, 0.3, 0.5])), 20000),
    (lambda: D.OneHotCategorical(probs=t64([0.2, 0.3, 0.5])), 20000),
    (lambda: D.Categorical(probs=t64([[0.2, 0.8], [0.9, 0.1]])), 20000),
    (lambda: D.LogNormal(t64([0.0]), t64([0.5])), 20000),
    (lambda: D.HalfNormal(t64([1.5])), 20000),
])
def test_sample_moments(make, n):
    ag.manual_seed(0)
    m = make()
    x = m.sample((n,)).numpy().astype(np.float64)
    assert x.shape == (n,) + m.batch_shape + m.event_shape
    mean = m.mean.detach().numpy() if not isinstance(m, D.Categorical) else (m.probs.numpy() * np.arange(2)).sum(-1)
    var = m.variance.detach().numpy() if not isinstance(m, D.Categorical) else \
        (m.probs.numpy() * np.arange(2) ** 2).sum(-1) - mean ** 2
    se = np.sqrt(var / n)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * se + 1e-12)
    np.testing.assert_allclose(x.var(0), var, rtol=0.1)
    lp = m.log_prob(m.sample((5,)))
    assert np.all(np.isfinite(lp.numpy()))


def test_gamma_rsample_has_the_implicit_reparameterization_gradient():
    from scipy import special
    ag.manual_seed(1)
    for alpha0 in (0.3, 1.0, 4.0):
        alpha = ag.tensor([alpha0] * 50, dtype=F64, requires_grad=True)
        x = D.Gamma(alpha, ag.tensor(1.0, dtype=F64)).rsample()
        x.sum().backward()
        u = special.gammainc(alpha0, x.detach().numpy())          # the sample's quantile
        h = 1e-6
        want = (special.gammaincinv(alpha0 + h, u) - special.gammaincinv(alpha0 - h, u)) / (2 * h)
        np.testing.assert_allclose(alpha.grad.numpy(), want, rtol=1e-4, atol=1e-8)


def test_reparameterized_gradients_of_location_scale_families():
    for make in (D.Normal, D.Laplace, D.Cauchy, D.Gumbel):
        loc = ag.tensor(1.0, dtype=F64, requires_grad=True)
        scale = ag.tensor(2.0, dtype=F64, requires_grad=True)
        ag.manual_seed(2)
        x = make(loc, scale).rsample((100,))
        x.sum().backward()
        assert loc.grad.item() == pytest.approx(100.0)
        np.testing.assert_allclose(scale.grad.item(), ((x.detach() - 1.0) / 2.0).sum().item(), rtol=1e-10)


def test_dirichlet_and_beta_rsample_backpropagate():
    ag.manual_seed(3)
    c = ag.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    x = D.Dirichlet(c).rsample((2000,))
    np.testing.assert_allclose(x.sum(-1).detach().numpy(), 1.0)
    # d E[x_0] / d c: E[x_0] = c_0 / sum(c): the pathwise estimate agrees within its noise
    x[:, 0].mean().backward()
    want = np.array([5.0, -1.0, -1.0]) / 36.0
    np.testing.assert_allclose(c.grad.numpy(), want, atol=0.02)
    a = ag.tensor(2.0, dtype=F64, requires_grad=True)
    D.Beta(a, ag.tensor(3.0, dtype=F64)).rsample((10,)).sum().backward()
    assert a.grad is not None and np.isfinite(a.grad.item())


def test_tanh_squashed_gaussian_as_in_sac():
    mu = ag.tensor([0.3, -0.2], dtype=F64, requires_grad=True)
    log_std = ag.tensor([-0.5, 0.1], dtype=F64, requires_grad=True)
    base = D.Normal(mu, log_std.exp())
    pi = D.TransformedDistribution(base, [D.TanhTransform(cache_size=1)])
    ag.manual_seed(4)
    a = pi.rsample()
    u = a.detach().numpy()
    x = np.arctanh(u)
    want = base.log_prob(ag.tensor(x)).detach().numpy() - np.log(1 - u ** 2)
    np.testing.assert_allclose(pi.log_prob(a).detach().numpy(), want, rtol=1e-8)
    pi.log_prob(a).sum().backward()
    assert mu.grad is not None and log_std.grad is not None
    ind = D.Independent(pi, 1)
    assert ind.event_shape == (2,) and ind.log_prob(a).shape == ()


def test_transformed_matches_torch():
    torch = _torch()
    x = np.array([0.2, -0.4, 0.7])
    for make in (lambda M: [M.distributions.TanhTransform()],
                 lambda M: [M.distributions.AffineTransform(1.0, 2.0), M.distributions.SigmoidTransform()],
                 lambda M: [M.distributions.ExpTransform(), M.distributions.PowerTransform(2.0)]):
        ours = D.TransformedDistribution(D.Normal(t64([0.1, 0.2, 0.3]), t64([1.0, 0.5, 2.0])), make(ag))
        theirs = torch.distributions.TransformedDistribution(
            torch.distributions.Normal(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64),
                                       torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)), make(torch))
        y = theirs.sample()
        np.testing.assert_allclose(ours.log_prob(ag.tensor(y.numpy())).numpy(), theirs.log_prob(y).numpy(), rtol=1e-9)
    del x


def test_relaxed_distributions_match_torch():
    torch = _torch()
    v = np.array([0.2, 0.7, 0.95])
    o = D.RelaxedBernoulli(t64(0.5), probs=t64([0.3, 0.6, 0.9]))
    t = torch.distributions.RelaxedBernoulli(torch.tensor(0.5, dtype=torch.float64),
                                              probs=torch.tensor([0.3, 0.6, 0.9], dtype=torch.float64))
    np.testing.assert_allclose(o.log_prob(t64(v)).numpy(), t.log_prob(torch.tensor(v)).numpy(), rtol=1e-9)
    s = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    o = D.RelaxedOneHotCategorical(t64(0.7), logits=t64([[0.1, 0.5, -0.2], [1.0, 0.0, 0.3]]))
    t = torch.distributions.RelaxedOneHotCategorical(
        torch.tensor(0.7, dtype=torch.float64), logits=torch.tensor([[0.1, 0.5, -0.2], [1.0, 0.0, 0.3]],
                                                                    dtype=torch.float64))
    np.testing.assert_allclose(o.log_prob(t64(s)).numpy(), t.log_prob(torch.tensor(s)).numpy(), rtol=1e-9)
    ag.manual_seed(0)
    r = o.rsample((5,))
    np.testing.assert_allclose(r.sum(-1).detach().numpy(), 1.0)


def test_mixture_same_family_matches_torch():
    torch = _torch()
    w, mu, sd = np.array([0.2, 0.5, 0.3]), np.array([[-1.0, 0.0, 2.0]]), np.array([[0.5, 1.0, 0.7]])
    o = D.MixtureSameFamily(D.Categorical(probs=t64(w)), D.Normal(t64(mu), t64(sd)))
    t = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(probs=torch.tensor(w)),
                                              torch.distributions.Normal(torch.tensor(mu), torch.tensor(sd)))
    x = np.array([[-1.0], [0.5], [3.0]])
    np.testing.assert_allclose(o.log_prob(t64(x)).numpy(), t.log_prob(torch.tensor(x)).numpy(), rtol=1e-9)
    np.testing.assert_allclose(o.mean.numpy(), t.mean.numpy(), rtol=1e-9)
    np.testing.assert_allclose(o.variance.numpy(), t.variance.numpy(), rtol=1e-9)
    np.testing.assert_allclose(o.cdf(t64(x)).numpy(), t.cdf(torch.tensor(x)).numpy(), rtol=1e-9)
    ag.manual_seed(0)
    assert o.sample((7,)).shape == (7, 1)
    gmm2d = D.MixtureSameFamily(D.Categorical(probs=t64(w)),
                                D.Independent(D.Normal(t64(np.zeros((3, 2))), t64(np.ones((3, 2)))), 1))
    assert gmm2d.sample((4,)).shape == (4, 2) and gmm2d.log_prob(t64(np.zeros((4, 2)))).shape == (4,)


KL_PAIRS = [
    ("Normal", dict(loc=REAL, scale=POS), dict(loc=REAL[::-1].copy(), scale=POS2)),
    ("Laplace", dict(loc=REAL, scale=POS), dict(loc=REAL[::-1].copy(), scale=POS2)),
    ("Exponential", dict(rate=POS), dict(rate=POS2)),
    ("Gamma", dict(concentration=POS, rate=POS2), dict(concentration=POS2, rate=POS)),
    ("Beta", dict(concentration1=POS, concentration0=POS2), dict(concentration1=POS2, concentration0=POS)),
    ("Dirichlet", dict(concentration=rng.uniform(0.5, 3, (2, 4))), dict(concentration=rng.uniform(0.5, 3, (2, 4)))),
    ("Poisson", dict(rate=POS), dict(rate=POS2)),
    ("Geometric", dict(probs=UNIT), dict(probs=UNIT[::-1].copy())),
    ("Bernoulli", dict(probs=UNIT), dict(probs=UNIT[::-1].copy())),
    ("Categorical", dict(probs=SIMPLEX), dict(probs=SIMPLEX[::-1].copy())),
    ("OneHotCategorical", dict(probs=SIMPLEX), dict(probs=SIMPLEX[::-1].copy())),
    ("Uniform", dict(low=REAL - 1, high=REAL + 1), dict(low=REAL - 2, high=REAL + 2)),
    ("MultivariateNormal", dict(loc=rng.standard_normal(3), covariance_matrix=np.eye(3) * 2 + 0.5),
     dict(loc=rng.standard_normal(3), covariance_matrix=np.eye(3) + 0.2)),
    ("LogNormal", dict(loc=REAL, scale=POS), dict(loc=REAL[::-1].copy(), scale=POS2)),
]


@pytest.mark.parametrize("name,p,q", KL_PAIRS, ids=[k[0] for k in KL_PAIRS])
def test_kl_matches_torch(name, p, q):
    torch = _torch()
    po, _ = _make(ag, name, p)
    qo, _ = _make(ag, name, q)
    pt, _ = _make(torch, name, p)
    qt, _ = _make(torch, name, q)
    np.testing.assert_allclose(D.kl_divergence(po, qo).numpy(), torch.distributions.kl_divergence(pt, qt).numpy(),
                               rtol=1e-9, atol=1e-12)


def test_kl_of_independent_and_by_sampling():
    p = D.Independent(D.Normal(t64([0.0, 1.0]), t64([1.0, 2.0])), 1)
    q = D.Independent(D.Normal(t64([1.0, 0.0]), t64([1.5, 1.0])), 1)
    kl = D.kl_divergence(p, q)
    assert kl.shape == ()
    ag.manual_seed(5)
    x = p.sample((100000,))
    mc = (p.log_prob(x) - q.log_prob(x)).mean().item()
    assert kl.item() == pytest.approx(mc, abs=0.02)
    with pytest.raises(NotImplementedError, match="no closed form.*sampling"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Gamma(1.0, 1.0))


def test_constraints_are_checked_as_in_pytorch():
    with pytest.raises(ValueError, match="scale.*GreaterThan"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="probs"):
        D.Bernoulli(probs=ag.tensor(1.5))
    with pytest.raises(ValueError, match="support"):
        D.Exponential(1.0).log_prob(ag.tensor(-1.0))
    with pytest.raises(ValueError, match="support"):
        D.Categorical(probs=ag.tensor([0.5, 0.5])).log_prob(ag.tensor(2))
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.MultivariateNormal(ag.zeros(2), ag.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)


def test_constraint_check_matches_torch():
    torch = _torch()
    from autograd_core.distributions import constraints as C
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan])
    for name in ("real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer"):
        np.testing.assert_array_equal(np.asarray(getattr(C, name).check(ag.tensor(x))),
                                      getattr(torch.distributions.constraints, name).check(torch.tensor(x)).numpy(),
                                      err_msg=name)


def test_expand_broadcasts_the_parameters():
    m = D.Normal(t64(0.0), t64(1.0)).expand((2, 3))
    assert m.batch_shape == (2, 3) and m.sample().shape == (2, 3) and m.log_prob(t64(np.zeros((2, 3)))).shape == (2, 3)
    c = D.Categorical(logits=t64([0.0, 1.0])).expand((4,))
    assert c.batch_shape == (4,) and c.sample().shape == (4,)
    b = D.Beta(t64(2.0), t64(3.0)).expand((5,))
    assert b.batch_shape == (5,) and b.sample().shape == (5,)
    mvn = D.MultivariateNormal(t64([0.0, 0.0]), t64(np.eye(2))).expand((3,))
    assert mvn.batch_shape == (3,) and mvn.sample().shape == (3, 2)
    assert math.isclose(D.Normal(0.0, 1.0).perplexity().item(), math.exp(0.5 + 0.5 * math.log(2 * math.pi)),
                        rel_tol=1e-6)


def test_categorical_sample_is_vectorized_over_the_batch_and_right():
    ag.manual_seed(6)
    probs = np.random.default_rng(7).dirichlet(np.ones(5), size=300)
    m = D.Categorical(probs=ag.tensor(probs))
    s = m.sample((400,)).numpy()
    assert s.shape == (400, 300) and s.min() >= 0 and s.max() <= 4
    freq = np.stack([(s == k).mean(0) for k in range(5)], -1)
    assert np.abs(freq - probs).max() < 0.12
    zero = D.Categorical(probs=ag.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])).sample((200,)).numpy()
    assert np.all(zero[:, 0] == 1) and not np.any(zero[:, 1] == 1)


def test_only_the_given_parameter_is_checked_as_in_pytorch():
    """With logits given, the probs derived from them are not checked against the simplex (their sum is 1
    only to rounding, which for a 50k-word vocabulary in float32 exceeds the check's 1e-6)."""
    logits = ag.tensor(np.random.default_rng(0).standard_normal((2, 50257)).astype(np.float32) * 3)
    assert D.Categorical(logits=logits).sample().shape == (2,)
    assert D.Bernoulli(logits=ag.tensor([50.0, -50.0])).sample().shape == (2,)
    with pytest.raises(ValueError, match="probs"):
        D.Categorical(probs=ag.tensor([0.5, -0.1]))


def test_distributions_wrapping_a_categorical_check_its_arguments():
    for make in (lambda p: D.OneHotCategorical(probs=p), lambda p: D.Multinomial(3, probs=p),
                 lambda p: D.RelaxedOneHotCategorical(ag.tensor(0.5), probs=p)):
        with pytest.raises(ValueError, match="probs"):
            make(ag.tensor([0.5, -0.1]))
        assert make(ag.tensor([0.5, -0.1]).abs()) is not None

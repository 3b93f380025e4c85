"""PyTorch's conventions where the math leaves a choice: gradients at 0, at +-inf and NaN, at ties
and at the bounds of clamp, and a set of regression tests for in-place changes, views and nested
function transforms.

The tables (unary and binary elementwise ops, reductions, each at a list of special points)
compare our forward values and gradients with PyTorch's in float64, elementwise, NaN positions
included; they are skipped without torch. The regression tests below them run with or without
torch: with it they compare with PyTorch, without it they check PyTorch's answer written out.
"""
import math
import threading

import numpy as np
import pytest

import autograd_core as ag

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of these tables (optional)")

nan, inf = math.nan, math.inf
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, inf, -inf, nan]


def _pointwise(ours, theirs, labels, what):
    """Equal NaN positions and equal values elsewhere (+-inf included); name every point that differs."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} (autograd_core) vs {theirs.shape} (torch)"
    bad = (np.isnan(ours) != np.isnan(theirs)) | ~np.isclose(ours, theirs, rtol=1e-10, atol=1e-12,
                                                                equal_nan=True)
    if bad.any():
        where = [f"{labels(i)}: ours {ours[i]!r}, torch {theirs[i]!r}" for i in np.ndindex(bad.shape) if bad[i]]
        raise AssertionError(f"{what} differs from torch at {len(where)} point(s): " + "; ".join(where))
    # the same check in numpy's words (NaN masks, then values with NaN == NaN)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True)


def _first(out):
    """The differentiable output of an op (``max(dim)`` gives (values, indices))."""
    return out[0] if isinstance(out, tuple) else out


def compare_at(ours_fn, theirs_fn, arrays, labels, cotangent="ones"):
    """Forward and VJP of ours vs torch at ``arrays`` (float64); ``labels(index)`` names a point."""
    xs = [ag.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    ts = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    with np.errstate(all="ignore"):
        out_a = ours_fn(*xs)
    out_t = theirs_fn(*ts)
    if isinstance(out_t, tuple):   # (values, indices): the indices must agree too
        np.testing.assert_array_equal(out_a[1].numpy(), out_t[1].numpy(), err_msg="indices")
    oa, ot = _first(out_a), _first(out_t)
    _pointwise(oa.detach().numpy(), ot.detach().numpy(), labels, "forward value")
    if cotangent == "ones":
        v = np.ones(ot.shape)
    else:
        v = np.random.default_rng(0).uniform(0.5, 1.5, size=ot.shape)
    with np.errstate(all="ignore"):
        ga = ag.autograd_grad(oa, xs, grad_outputs=ag.tensor(v), allow_unused=True)
    gt = torch.autograd.grad(ot, ts, grad_outputs=torch.tensor(v), allow_unused=True)
    for i, (a, t) in enumerate(zip(ga, gt)):
        a = np.zeros(xs[i].shape) if a is None else a.detach().numpy()
        t = np.zeros(xs[i].shape) if t is None else t.numpy(force=True)
        _pointwise(a, t, labels, f"gradient of input {i}")


# -- elementwise ops at special points -----------------------------------------------------------
def _t_where_sqrt(x):
    return torch.where(x > 0, x.sqrt(), x * 0)


def _t_where_log(x):
    return torch.where(x > 0, x, x.log())


UNARY = {
    # name: (ours, torch, extra points)
    "neg": (lambda x: -x, lambda x: -x, []),
    "abs": (ag.abs, lambda x: torch.abs(x), []),
    "exp": (ag.exp, lambda x: torch.exp(x), [710.0, -746.0]),
    "log": (ag.log, lambda x: torch.log(x), [1e-300]),
    "log1p": (ag.log1p, lambda x: torch.log1p(x), [-0.5]),
    "expm1": (ag.expm1, lambda x: torch.expm1(x), [710.0]),
    "sqrt": (ag.sqrt, lambda x: torch.sqrt(x), [1e-300]),
    "rsqrt": (ag.rsqrt, lambda x: torch.rsqrt(x), []),
    "sin": (ag.sin, lambda x: torch.sin(x), []),
    "cos": (ag.cos, lambda x: torch.cos(x), []),
    "tanh": (ag.tanh, lambda x: torch.tanh(x), [20.0, -20.0, 400.0]),
    "sigmoid": (ag.sigmoid, lambda x: torch.sigmoid(x), [40.0, -40.0, 800.0, -800.0]),
    "erf": (ag.erf, lambda x: torch.erf(x), [6.0, -30.0]),
    "relu": (ag.relu, lambda x: torch.relu(x), []),
    "leaky_relu": (lambda x: ag.leaky_relu(x, negative_slope=0.2), lambda x: F.leaky_relu(x, 0.2), []),
    "elu": (ag.elu, lambda x: F.elu(x), [-800.0]),
    "elu_alpha": (lambda x: ag.elu(x, alpha=0.7), lambda x: F.elu(x, alpha=0.7), []),
    "gelu": (ag.gelu, lambda x: F.gelu(x), [-40.0, 40.0]),
    "gelu_tanh": (lambda x: ag.gelu(x, approximate="tanh"), lambda x: F.gelu(x, approximate="tanh"), [-40.0]),
    "softplus": (ag.softplus, lambda x: F.softplus(x), [20.0, 20.5, 19.5, 30.0, 1000.0, -1000.0, -40.0]),
    "softplus_beta": (lambda x: ag.softplus(x, beta=2.0, threshold=5.0), lambda x: F.softplus(x, 2.0, 5.0),
                      [2.5, 2.4, 2.6, 1000.0]),
    "clamp": (lambda x: ag.clamp(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), [1.5, -1.5]),
    "clamp_min": (lambda x: ag.clamp(x, min=0.0), lambda x: torch.clamp(x, min=0.0), []),
    "clamp_max": (lambda x: ag.clamp(x, max=1.0), lambda x: torch.clamp(x, max=1.0), []),
    "pow_0": (lambda x: x ** 0, lambda x: x ** 0, []),
    "pow_0.0": (lambda x: x ** 0.0, lambda x: x ** 0.0, []),
    "pow_1": (lambda x: x ** 1, lambda x: x ** 1, []),
    "pow_2": (lambda x: x ** 2, lambda x: x ** 2, []),
    "pow_3": (lambda x: x ** 3, lambda x: x ** 3, []),
    "pow_0.5": (lambda x: x ** 0.5, lambda x: x ** 0.5, []),
    "pow_1.5": (lambda x: x ** 1.5, lambda x: x ** 1.5, []),
    "pow_-1": (lambda x: x ** -1, lambda x: x ** -1, []),
    "pow_-0.5": (lambda x: x ** -0.5, lambda x: x ** -0.5, []),
    "pow_-2": (lambda x: x ** -2.0, lambda x: x ** -2.0, []),
    "rpow_2": (lambda y: 2.0 ** y, lambda y: 2.0 ** y, [1100.0]),
    "rpow_0": (lambda y: 0.0 ** y, lambda y: 0.0 ** y, []),       # d(0**y)/dy at y > 0, y = 0, y < 0
    "rpow_1": (lambda y: 1.0 ** y, lambda y: 1.0 ** y, []),
    "rpow_-2": (lambda y: (-2.0) ** y, lambda y: (-2.0) ** y, [2.0]),
    "rsub": (lambda x: 1.0 - x, lambda x: 1.0 - x, []),
    "rdiv": (lambda x: 1.0 / x, lambda x: 1.0 / x, []),
    "maximum_self": (lambda x: ag.maximum(x, x), lambda x: torch.maximum(x, x), []),
    "minimum_self": (lambda x: ag.minimum(x, x), lambda x: torch.minimum(x, x), []),
    "where_nan_unselected_sqrt": (lambda x: ag.where(x > 0, x.sqrt(), x * 0), _t_where_sqrt, []),
    "where_nan_unselected_log": (lambda x: ag.where(x > 0, x, x.log()), _t_where_log, []),
    "floor": (ag.floor, lambda x: torch.floor(x), [2.5, -0.5]),
    "ceil": (ag.ceil, lambda x: torch.ceil(x), [2.5, -0.5]),
    "round": (ag.round, lambda x: torch.round(x), [2.5, -0.5, 1.5]),
    "trunc": (ag.trunc, lambda x: torch.trunc(x), [2.5, -0.5]),
    "lgamma": (ag.lgamma, lambda x: torch.lgamma(x), [-3.0, 1e-300]),
}


@needs_torch
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_at_special_points(name):
    ours, theirs, extra = UNARY[name]
    points = SPECIAL + extra
    compare_at(ours, theirs, [points], lambda i: f"x={points[i[0]]!r}")


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
    "maximum": (ag.maximum, lambda a, b: torch.maximum(a, b)),
    "minimum": (ag.minimum, lambda a, b: torch.minimum(a, b)),
    "atan2": (ag.atan2, lambda a, b: torch.atan2(a, b)),
    "hypot": (ag.hypot, lambda a, b: torch.hypot(a, b)),
    "xlogy": (ag.xlogy, lambda a, b: torch.xlogy(a, b)),
    "logaddexp": (ag.logaddexp, lambda a, b: torch.logaddexp(a, b)),
    "clamp_min_tensor": (lambda a, b: ag.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b)),
    "clamp_max_tensor": (lambda a, b: ag.clamp(a, max=b), lambda a, b: torch.clamp(a, max=b)),
}
PAIRS = [(a, b) for a in SPECIAL for b in SPECIAL]


@needs_torch
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_at_special_points(name):
    ours, theirs = BINARY[name]
    xs, ys = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    compare_at(ours, theirs, [xs, ys], lambda i: f"(x, y)=({xs[i[0]]!r}, {ys[i[0]]!r})")


# -- reductions at ties, zeros, inf and NaN ------------------------------------------------------
REDUCTIONS = {
    "sum": (lambda x: x.sum(dim=-1), lambda x: x.sum(dim=-1)),
    "mean": (lambda x: x.mean(dim=-1), lambda x: x.mean(dim=-1)),
    "prod": (lambda x: x.prod(dim=-1), lambda x: x.prod(dim=-1)),
    "prod_all": (lambda x: x.prod(), lambda x: x.prod()),
    "amax": (lambda x: x.amax(dim=-1), lambda x: x.amax(dim=-1)),
    "amin": (lambda x: x.amin(dim=-1), lambda x: x.amin(dim=-1)),
    "max_all": (lambda x: x.max(), lambda x: x.max()),          # ties share evenly
    "min_all": (lambda x: x.min(), lambda x: x.min()),
    "max_dim": (lambda x: ag.max(x, dim=-1), lambda x: tuple(torch.max(x, dim=-1))),   # to the index
    "min_dim": (lambda x: ag.min(x, dim=-1), lambda x: tuple(torch.min(x, dim=-1))),
    "logsumexp": (lambda x: x.logsumexp(dim=-1), lambda x: x.logsumexp(dim=-1)),
    "softmax": (lambda x: ag.softmax(x, dim=-1), lambda x: torch.softmax(x, dim=-1)),
    "log_softmax": (lambda x: ag.log_softmax(x, dim=-1), lambda x: torch.log_softmax(x, dim=-1)),
    "var": (lambda x: x.var(dim=-1), lambda x: x.var(dim=-1)),
    "std": (lambda x: x.std(dim=-1), lambda x: x.std(dim=-1)),
    "cumsum": (lambda x: ag.cumsum(x, dim=-1), lambda x: torch.cumsum(x, dim=-1)),
    "median_all": (lambda x: x.median(), lambda x: x.median()),        # ties share evenly
    "nanmedian_all": (lambda x: x.nanmedian(), lambda x: x.nanmedian()),
    "median_dim": (lambda x: ag.median(x, dim=-1), lambda x: tuple(torch.median(x, dim=-1))),
    "cummax": (lambda x: ag.cummax(x, -1), lambda x: tuple(torch.cummax(x, -1))),
    "cummin": (lambda x: ag.cummin(x, -1), lambda x: tuple(torch.cummin(x, -1))),
}
REDUCTION_INPUTS = {
    "ties": [1.0, 3.0, 3.0],
    "all_equal": [[2.0, 2.0], [-1.0, -1.0]],
    "three_way_tie": [0.5, 0.5, 0.5, -1.0],
    "nan": [1.0, nan, 3.0],
    "nan_nan": [nan, 2.0, nan],
    "nan_first_then_nan": [nan, 1.0, 3.0, nan, 2.0],
    "inf": [inf, 1.0, -inf],
    "two_inf": [inf, inf, 0.0],
    "neg_inf": [-inf, -inf, 0.0],
    "all_neg_inf": [-inf, -inf],
    "zero": [0.0, 2.0, 3.0],
    "zeros": [0.0, 0.0, 2.0],
    "signed_zeros": [-0.0, 0.0],
    "single": [[1.5], [-0.0]],
}


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")   # torch: var/std of one element
@pytest.mark.parametrize("case", list(REDUCTION_INPUTS))
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_at_special_points(name, case):
    ours, theirs = REDUCTIONS[name]
    x = np.array(REDUCTION_INPUTS[case])
    compare_at(ours, theirs, [x], lambda i: f"element {i} (input {x.tolist()})", cotangent="random")


# -- the headline conventions, written out (these run without torch too) -----------------------
def _grad_at(f, *points):
    xs = [ag.tensor(np.array(p, dtype=np.float64), requires_grad=True) for p in points]
    with np.errstate(all="ignore"):
        out = f(*xs)
        gs = ag.autograd_grad(out.sum(), xs, allow_unused=True)
    return [np.zeros(x.shape) if g is None else g.detach().numpy() for g, x in zip(gs, xs)]


STATED = {
    # name: (ours, torch's, points, PyTorch's gradients of out.sum())
    "relu'(nan) = 1": (ag.relu, lambda x: torch.relu(x), [[nan, 0.0]], [[1.0, 0.0]]),
    "abs'(nan) = 0": (ag.abs, lambda x: torch.abs(x), [[nan, 0.0]], [[0.0, 0.0]]),
    "elu'(nan) = 1": (ag.elu, lambda x: F.elu(x), [[nan, 0.0]], [[1.0, 1.0]]),
    "maximum with a NaN: both inputs get the gradient": (
        ag.maximum, lambda a, b: torch.maximum(a, b), [[nan, 1.0, 2.0], [1.0, nan, 2.0]],
        [[1.0, 1.0, 0.5], [1.0, 1.0, 0.5]]),
    "max(dim) sends the gradient to the returned index": (
        lambda x: ag.max(x, dim=0).values, lambda x: torch.max(x, dim=0).values, [[1.0, 3.0, 3.0]],
        [[0.0, 1.0, 0.0]]),
    "max(dim) with a NaN: to the NaN": (
        lambda x: ag.max(x, dim=0).values, lambda x: torch.max(x, dim=0).values, [[1.0, nan, 3.0]],
        [[0.0, 1.0, 0.0]]),
    "min(dim) ties: to the returned index": (
        lambda x: ag.min(x, dim=0).values, lambda x: torch.min(x, dim=0).values, [[2.0, 1.0, 1.0]],
        [[0.0, 1.0, 0.0]]),
    "max() splits ties evenly": (lambda x: x.max(), lambda x: x.max(), [[1.0, 3.0, 3.0]], [[0.0, 0.5, 0.5]]),
    "amax(dim) splits ties evenly": (lambda x: x.amax(dim=0), lambda x: x.amax(dim=0), [[1.0, 3.0, 3.0]],
                                     [[0.0, 0.5, 0.5]]),
    "d(0**y)/dy at y = 2, 0, -1, 0.5": (lambda y: 0.0 ** y, lambda y: 0.0 ** y, [[2.0, 0.0, -1.0, 0.5]],
                                        [[0.0, 0.0, -inf, 0.0]]),
    "sqrt'(0) = inf": (ag.sqrt, lambda x: torch.sqrt(x), [[0.0]], [[inf]]),
    "(x**0.5)'(0) = inf": (lambda x: x ** 0.5, lambda x: x ** 0.5, [[0.0]], [[inf]]),
    "d(x**0)/dx = 0, also at 0, nan, inf": (lambda x: x ** 0, lambda x: x ** 0, [[0.0, nan, inf]],
                                           [[0.0, 0.0, 0.0]]),
    "clamp passes the gradient at its bounds": (
        lambda x: ag.clamp(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), [[-1.0, 1.0, 1.5]],
        [[1.0, 1.0, 0.0]]),
    "median() splits ties evenly (a NaN median: among the NaNs)": (
        lambda x: x.median(), lambda x: x.median(), [[1.0, 3.0, 3.0, 3.0, 0.0, nan, nan]], [[0, 0, 0, 0, 0, 0.5, 0.5]]),
    "median() of finite ties": (lambda x: x.median(), lambda x: x.median(), [[0.0, 2.0, 0.0, 5.0]],
                                [[0.5, 0.0, 0.5, 0.0]]),
    "xlogy: d/dx at x = 0 is log(y) for y > 0, else 0": (
        ag.xlogy, lambda a, b: torch.xlogy(a, b), [[0.0, 0.0, 0.0], [math.e, 0.0, -1.0]], [[1.0, 0.0, 0.0], [0.0, nan, 0.0]]),
    # (PyTorch's own logit gradient at -0.0 and, with eps, at NaN differs between its vectorized and
    # scalar loops, so those points are left out)
    "logit: NaN gradient outside [0, 1]": (ag.logit, lambda x: torch.logit(x), [[-0.5, 1.5, 0.25]],
                                           [[nan, nan, 1 / 0.1875]]),
    "logit(eps): zero gradient outside [eps, 1 - eps], not at the bounds": (
        lambda x: ag.logit(x, eps=0.1), lambda x: torch.logit(x, eps=0.1), [[0.05, 0.95, 0.1, 0.5, -1.0, 2.0]],
        [[0.0, 0.0, 1 / 0.09, 4.0, 0.0, 0.0]]),
    "cdist(p=inf): every coordinate at the maximum gets the whole gradient": (
        lambda a, b: ag.cdist(a, b, p=math.inf), lambda a, b: torch.cdist(a, b, p=math.inf),
        [[[0.0, 0.5]], [[-1.0, -0.5], [1.0, 0.0]]], [[[0.0, 1.0]], [[-1.0, -1.0], [1.0, 0.0]]]),
    "atan2 at the origin: 0": (ag.atan2, lambda a, b: torch.atan2(a, b), [[0.0], [0.0]], [[0.0], [0.0]]),
    "clamp with a NaN tensor bound: NaN, and no gradient to either": (
        lambda a, b: ag.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b), [[1.0, nan, -1.0], [nan, 0.0, 0.0]],
        [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
    "floor and round have a zero gradient": (lambda x: ag.floor(x) + ag.round(x) * x.detach(),
                                            lambda x: torch.floor(x) + torch.round(x) * x.detach(),
                                            [[1.5, -2.5, nan]], [[0.0, 0.0, 0.0]]),
    "div: d/dy as (x / y) / y where y² underflows": (
        lambda a, b: a / b, lambda a, b: a / b, [[1e-300, 0.0], [1e-300, 1e-300]], [[1e300, 1e300], [-1e300, -0.0]]),
    "norm(p=inf) of a vector holding NaN: NaN, with a zero gradient": (
        lambda x: ag.linalg.vector_norm(x, ord=inf), lambda x: torch.linalg.vector_norm(x, ord=inf),
        [[-1.0, nan, 3.0, -3.0]], [[0.0, 0.0, 0.0, 0.0]]),
    "norm(p=inf): ties share the gradient": (lambda x: x.norm(p=inf), lambda x: x.norm(p=inf),
                                            [[-1.0, 3.0, -3.0]], [[0.0, 0.5, -0.5]]),
    "lerp with a tensor weight: PyTorch's rules, no NaN from the other branch at inf": (
        ag.lerp, lambda a, b, w: torch.lerp(a, b, w), [[-1.0, 0.0], [inf, 1.0], [inf, 0.25]],
        [[-inf, 0.75], [inf, 0.25], [inf, 1.0]]),
    "quantile of a slice holding NaN: NaN, and the gradient goes to the NaN (sorted last)": (
        lambda x: ag.quantile(x, 0.3), lambda x: torch.quantile(x, 0.3), [[1.0, nan, 3.0]], [[0.0, 1.0, 0.0]]),
    "quantile 'lower' is the order statistic itself, -inf included": (
        lambda x: ag.quantile(x, 0.25, interpolation="lower"),
        lambda x: torch.quantile(x, 0.25, interpolation="lower"), [[1.0, -inf, 0.0]], [[0.0, 1.0, 0.0]]),
    "acosh: slope +inf at 1 and at -1 (NaN value there)": (
        ag.acosh, lambda x: torch.acosh(x), [[-1.0, 1.0, 2.0]], [[inf, inf, 1 / math.sqrt(3.0)]]),
    # row 0's norm is NaN, so it is left as it is, gradient included; row 1 (norm 5) is scaled by
    # c = 1 / (5 + 1e-7): d/dx_j sum(c x) = c - sum(x) c² x_j / 5
    "renorm: a slice left as it is passes its gradient, even with a NaN norm": (
        lambda x: ag.renorm(x, 2, 0, 1.0), lambda x: torch.renorm(x, 2, 0, 1.0), [[[0.0, nan, 1.0], [3.0, 4.0, 0.0]]],
        [[[1.0, 1.0, 1.0], [1 / (5 + 1e-7) - 7 / (5 + 1e-7) ** 2 * xj / 5 for xj in (3.0, 4.0, 0.0)]]]),
    "where: the unselected branch's NaN gradient leaks (0 * inf)": (
        lambda x: ag.where(x > 0, x.sqrt(), x * 0), _t_where_sqrt, [[-1.0, 0.0, 4.0]], [[nan, nan, 0.25]]),
}


@pytest.mark.parametrize("name", list(STATED))
def test_stated_pytorch_convention(name):
    ours, _, points, want = STATED[name]
    for g, w in zip(_grad_at(ours, *points), want):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=name)
        np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True, err_msg=name)


@needs_torch
@pytest.mark.parametrize("name", list(STATED))
def test_stated_convention_is_pytorchs(name):
    """The answers written out above are PyTorch's (they stay honest when torch is absent)."""
    _, theirs, points, want = STATED[name]
    ts = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in points]
    gs = torch.autograd.grad(theirs(*ts).sum(), ts, allow_unused=True)
    for g, w in zip(gs, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-12, equal_nan=True, err_msg=name)


# -- regression tests (PyTorch's answer is written out for runs without torch) ------------------
def _modules():
    """``ag`` always, ``torch`` when installed: the scenarios below run on both."""
    return [ag] if torch is None else [ag, torch]


INPLACE_ERROR = r"modified by an in-?place operation"


def _x_w(M):
    x = M.tensor([[1.0, 2.0]], dtype=M.float64, requires_grad=True)
    w = M.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=M.float64, requires_grad=True)
    return x, w


@pytest.mark.parametrize("through", ["itself", "reshape", "slice"])
def test_changing_a_saved_leaf_under_no_grad_is_caught_by_backward(through):
    """``w -= 0.1`` under no_grad after w was saved by matmul: backward must refuse (as PyTorch)."""
    for M in _modules():
        x, w = _x_w(M)
        loss = ((x @ w.T) ** 2).sum()
        with M.no_grad():
            if through == "itself":
                w -= 0.1
            elif through == "reshape":
                v = w.reshape(4)
                v -= 0.1
            else:
                v = w[0:2]
                v -= 0.1
        with pytest.raises(RuntimeError, match=INPLACE_ERROR):
            loss.backward()


def test_changing_a_saved_output_through_a_view_under_no_grad_is_caught_by_backward():
    """``s = x.exp()[0:1]``, then ``s += 10`` under no_grad: exp's saved output changed; backward
    through exp must refuse, also when only the view is still referenced."""
    for M in _modules():
        x, _ = _x_w(M)
        s = x.exp()[0:1]
        loss = s.sum()
        with M.no_grad():
            s += 10
        with pytest.raises(RuntimeError, match=INPLACE_ERROR):
            loss.backward()


@pytest.mark.parametrize("grad_mode", [True, False], ids=["grad_on", "no_grad"])
@pytest.mark.parametrize("base", ["plain", "non_leaf"])
def test_a_view_shows_later_in_place_changes_of_its_base(grad_mode, base):
    """``y = b[0]; b += 1`` -> y shows the new values (y is a view, as in PyTorch)."""
    for M in _modules():
        x = M.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=M.float64, requires_grad=base == "non_leaf")
        b = x * 1.0 if base == "non_leaf" else x
        y = b[0]
        with M.set_grad_enabled(grad_mode):
            b += 1
        np.testing.assert_array_equal(y.detach().numpy(), [2.0, 3.0], err_msg=M.__name__)


def _elu(M, x):
    return ag.elu(x) if M is ag else F.elu(x)


OUTPUT_NOT_SAVED = {
    # x, how to make y from x, and PyTorch's gradient of y.sum() (the op doesn't save y)
    "pow_2.5": ([1.0, 2.0, 0.5], lambda M, x: x ** 2.5, lambda x: 2.5 * x ** 1.5),
    "elu": ([1.0, 2.0, -0.5], lambda M, x: _elu(M, x), lambda x: np.where(x > 0, 1.0, np.exp(x))),
    "max_dim_values": ([[1.0, 2.0], [3.0, -0.5]], lambda M, x: x.max(dim=-1).values,
                       lambda x: np.array([[0.0, 1.0], [1.0, 0.0]])),
}


@pytest.mark.parametrize("name", list(OUTPUT_NOT_SAVED))
def test_changing_an_output_its_op_does_not_save_is_allowed(name):
    """``y = f(x); z = y.sum(); y[0] = 3.; z.backward()`` works when f's backward doesn't read y
    (PyTorch saves the input of pow and elu, the indices of max(dim))."""
    data, make, expected = OUTPUT_NOT_SAVED[name]
    grads = {}
    for M in _modules():
        x = M.tensor(data, dtype=M.float64, requires_grad=True)
        y = make(M, x)
        z = y.sum()
        y[0] = 3.0
        z.backward()
        grads[M.__name__] = x.grad.detach().numpy().copy()
    want = expected(np.array(data))
    for mod, g in grads.items():
        np.testing.assert_allclose(g, want, rtol=1e-12, err_msg=mod)


def test_changing_the_input_of_a_scalar_product_is_allowed():
    """``y = t * 2.0`` doesn't save t: changing t afterwards leaves backward working (x.grad = 2)."""
    for M in _modules():
        x = M.tensor([[1.0, 2.0]], dtype=M.float64, requires_grad=True)
        t = x.clone()
        y = t * 2.0
        z = y.sum()
        t[0, 0] = 3.0
        z.backward()
        np.testing.assert_allclose(x.grad.numpy(), [[2.0, 2.0]], err_msg=M.__name__)


def test_overwriting_every_element_cuts_the_gradient():
    """``y = x * 1.0; y[...] = 2.0; (y * 3).backward()`` -> x.grad == 0 (0-d x), a tensor, not None."""
    for M in _modules():
        x = M.tensor(1.5, dtype=M.float64, requires_grad=True)
        y = x * 1.0
        y[...] = 2.0
        (y * 3).backward()
        assert x.grad is not None, M.__name__
        assert float(x.grad) == 0.0, M.__name__


# -- nested function transforms --------------------------------------------------------------
def _grad_fn(M):
    return ag.grad if M is ag else torch.func.grad


def _scalar(M, v):
    return M.tensor(v, dtype=M.float64)


def test_nested_grad_of_a_product_is_one():
    """d/dx [d/dy (x y)] = 1."""
    for M in _modules():
        grad = _grad_fn(M)
        y0 = _scalar(M, 3.0)
        assert float(grad(lambda x: grad(lambda y: x * y)(y0))(_scalar(M, 2.0))) == 1.0, M.__name__


def test_nested_grad_closing_over_the_outer_variable():
    """f(x) = x * d/dy (x y^2) = 2 x^2 y; df/dx at (x, y) = (2, 3) is 4 x y = 24."""
    for M in _modules():
        grad = _grad_fn(M)
        y0 = _scalar(M, 3.0)
        out = grad(lambda x: x * grad(lambda y: x * y * y)(y0))(_scalar(M, 2.0))
        assert float(out) == 24.0, M.__name__


def test_nested_grad_does_not_confuse_perturbations():
    """d/dx [x * d/dy (x + y) at y = x]: the inner derivative is 1 whatever y is evaluated at, so
    the answer is 1 (torch.func's); a tape that mixes the two variables gives 2."""
    want = 1.0
    if torch is not None:
        g = torch.func.grad
        want = float(g(lambda x: x * g(lambda y: x + y)(x))(_scalar(torch, 2.0)))
        assert want == 1.0
    out = ag.grad(lambda x: x * ag.grad(lambda y: x + y)(x))(_scalar(ag, 2.0))
    assert float(out) == want


def test_grad_of_a_parameter_is_a_plain_tensor():
    """``ag.grad(f)(p)`` for a parameter (a leaf that requires grad, not an outer transform's
    variable): the value of f'(p), cut from any tape. (torch.func.grad gives the same value but
    leaves it attached to p's graph; here the transform is not nested, so nothing is recorded.)"""
    import nn
    p = nn.Parameter(ag.tensor([1.0, 2.0], dtype=ag.float64))
    g = ag.grad(lambda p: (p * p).sum())(p)
    np.testing.assert_allclose(g.detach().numpy(), [2.0, 4.0])
    if torch is not None:
        tp = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
        np.testing.assert_allclose(g.detach().numpy(),
                                   torch.func.grad(lambda p: (p * p).sum())(tp).detach().numpy())
    assert g.requires_grad is False
    assert g.grad_fn is None


# -- in-place on a view of a non-leaf ------------------------------------------------------------
def test_in_place_on_a_view_of_a_non_leaf_reaches_the_base_and_sibling_views():
    """``a = x.clone(); s = a[:2]; v = a[1:]; v.mul_(3)``: a and the sibling view s show the change;
    d(a.sum())/dx = [1, 3, 3] and d(s.sum())/dx = [1, 3, 0] (PyTorch)."""
    results = {}
    for M in _modules():
        x = M.tensor([1.0, 2.0, 3.0], dtype=M.float64, requires_grad=True)
        a = x.clone()
        s = a[:2]
        v = a[1:]
        v.mul_(3)
        a.sum().backward(retain_graph=True)
        ga = x.grad.detach().numpy().copy()
        x.grad = None
        s.sum().backward()
        gs = x.grad.detach().numpy().copy()
        results[M.__name__] = (a.detach().numpy().copy(), s.detach().numpy().copy(), ga, gs)
    want = ([1.0, 6.0, 9.0], [1.0, 6.0], [1.0, 3.0, 3.0], [1.0, 3.0, 0.0])
    for mod, got in results.items():
        for g, w, what in zip(got, want, ["base", "sibling view", "grad of base", "grad of sibling view"]):
            np.testing.assert_allclose(g, w, err_msg=f"{mod}: {what}")


# -- thread-local modes ----------------------------------------------------------------------
def test_detect_anomaly_in_another_thread_leaves_a_trace_here_running():
    """A ``detect_anomaly()`` block entered and left in another thread while ``ag.trace`` records in
    this one must not switch the trace's recording off."""
    def other_thread():
        with ag.detect_anomaly():
            pass

    def f(x):
        y = x * 2.0
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
        return y.exp().sum()

    tape = ag.trace(f, ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True))
    assert [e.name for e in tape.entries] == ["mul", "exp", "sum"]


def test_a_trace_in_another_thread_leaves_detect_anomaly_here_on():
    """The mirror case: a trace opened and closed in another thread must not switch this thread's
    anomaly mode off (backward still names the op that made the NaN)."""
    def other_thread():
        ag.trace(lambda v: v * 2.0, ag.tensor([1.0], dtype=ag.float64, requires_grad=True))

    x = ag.tensor([0.0, 1.0], dtype=ag.float64, requires_grad=True)
    with ag.detect_anomaly():
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
        y = x.sqrt() * 0
        with pytest.raises(RuntimeError, match="Sqrt"):
            y.sum().backward()


def test_in_place_on_a_part_of_an_expanded_view_that_does_not_overlap_itself():
    """``e = b.expand(2, 3)``: the row ``e[0]`` holds each element of b once, so PyTorch lets it be
    changed in place (b shows the change, the gradient passes); only a write into memory that
    overlaps itself (all of e) is refused."""
    for M in _modules():
        x = M.tensor([1.0, 2.0, 3.0], dtype=M.float64, requires_grad=True)
        b = x * 1.0
        row = b.expand(2, 3)[0]
        row *= 2.0
        np.testing.assert_array_equal(b.detach().numpy(), [2.0, 4.0, 6.0], err_msg=M.__name__)
        b.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0], err_msg=M.__name__)
        with pytest.raises(RuntimeError, match="memory location"):
            b.detach().expand(2, 3).mul_(2.0)


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    # det is a polynomial: its gradient is the cofactor matrix everywhere, nonzero at rank n - 1.
    # PyTorch gives this with create_graph=True; its plain backward gives 0 there.
    cases = {((1.0, 2.0), (2.0, 4.0)): [[4.0, -2.0], [-2.0, 1.0]],
             ((1.0, 0.0, 0.0), (0.0, 2.0, 0.0), (0.0, 0.0, 0.0)): np.diag([0.0, 0.0, 2.0]),
             ((0.0,),): [[1.0]],
             ((1.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)): np.zeros((3, 3)),
             ((1.0, 2.0), (3.0, 4.0)): [[4.0, -3.0], [-2.0, 1.0]]}
    for m, want in cases.items():
        a = ag.tensor(np.array(m), requires_grad=True)
        ag.linalg.det(a).backward()
        np.testing.assert_allclose(a.grad._data, want, atol=1e-12, err_msg=str(m))
        if torch is not None:
            t = torch.tensor(np.array(m), requires_grad=True)
            g, = torch.autograd.grad(torch.linalg.det(t), t, create_graph=True)
            np.testing.assert_allclose(g.detach().numpy(), want, atol=1e-12, err_msg=str(m))
    batch = ag.tensor(np.array([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]]), requires_grad=True)
    ag.linalg.det(batch).sum().backward()
    np.testing.assert_allclose(batch.grad._data, [[[4, -2], [-2, 1]], [[4, -3], [-2, 1]]], atol=1e-12)
    s = ag.tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), requires_grad=True)
    with pytest.raises(NotImplementedError, match="second derivative at a singular matrix"):
        ag.autograd_grad(ag.linalg.det(s), [s], create_graph=True)


def test_second_derivative_of_the_2_norm_at_zero_is_nan():
    # x / ||x|| jumps at x = 0: the first derivative there is PyTorch's masked 0, and its derivative is NaN
    # (0 / 0), not the derivative of x / 1; away from 0 it is (I - u u^T) / ||x||, u = x / ||x||.
    for val in ([0.0], [0.0, 0.0], [3.0, -4.0], [0.0, 2.0]):
        x = ag.tensor(np.array(val), requires_grad=True)
        w = np.linspace(0.3, 0.9, len(val))
        g, = ag.autograd_grad(x.norm(), [x], create_graph=True)
        g2, = ag.autograd_grad((g * ag.tensor(w)).sum(), [x])
        a = np.array(val)
        n = np.linalg.norm(a)
        if n == 0:
            np.testing.assert_array_equal(g._data, 0.0)
            assert np.isnan(g2._data).all()
        else:
            u = a / n
            np.testing.assert_allclose(g2._data, (np.eye(len(a)) - np.outer(u, u)) @ w / n, atol=1e-12)
        if torch is not None:
            t = torch.tensor(a, requires_grad=True)
            tg, = torch.autograd.grad(t.norm(), t, create_graph=True)
            tg2, = torch.autograd.grad((tg * torch.tensor(w)).sum(), t)
            np.testing.assert_allclose(g2._data, tg2.numpy(), atol=1e-12, equal_nan=True)


def test_second_derivatives_of_std_and_var_where_they_are_degenerate():
    # std of a constant slice: the gradient is a masked 0, so its derivative is 0 too (not the
    # derivative of (x - mean) / (dof * 1)); var over all of one element: g times NaN, whose derivative
    # (through x) is nothing. Both as PyTorch.
    def second(M, f, a):
        x = M.tensor(np.array(a), requires_grad=True)
        grad = ag.autograd_grad if M is ag else torch.autograd.grad
        g, = grad(f(x), [x], create_graph=True)
        if not g.requires_grad:
            return np.zeros(x.shape), np.array(g.detach().numpy())
        g2, = grad((g * M.tensor(np.linspace(0.3, 0.9, g.numel()).reshape(g.shape))).sum(), [x], allow_unused=True)
        return (np.zeros(x.shape) if g2 is None else np.array(g2.numpy())), np.array(g.detach().numpy())
    cases = [(lambda x: x.std(dim=1).sum(), [[2.0, 2.0], [1.0, 3.0]]),
             (lambda x: x.var(), [0.5])]
    # (the second row's std is |x1 - x2| / sqrt(2), linear near (1, 3): its second derivative is 0 as well)
    want = [([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [-0.7071067811865476, 0.7071067811865476]]),
            ([0.0], [nan])]
    for (f, a), (w2, w1) in zip(cases, want):
        g2, g1 = second(ag, f, a)
        np.testing.assert_allclose(g1, w1, atol=1e-12)
        np.testing.assert_allclose(g2, w2, atol=1e-12)
        if torch is not None:
            t2, t1 = second(torch, f, a)
            np.testing.assert_allclose(g1, t1, atol=1e-12)
            np.testing.assert_allclose(g2, t2, atol=1e-12)


@pytest.mark.parametrize("act", ["leaky_relu", "hardtanh", "relu6", "abs", "threshold", "hardshrink", "softshrink",
                                 "relu", "max_pool"])
def test_a_parameter_reached_only_through_a_mask_gets_a_zero_second_order_gradient(act):
    """A gradient penalty (the gradient of a critic's output with respect to its input, squared) depends on
    the first layer's bias only through the activation's mask, a piecewise-constant function: PyTorch's
    backward nodes read their input, so the bias counts as used and gets zeros. Here as well (it was
    "not used in the graph" for the masks built by comparisons)."""
    import nn.functional as F
    fns = {"leaky_relu": F.leaky_relu, "hardtanh": F.hardtanh, "relu6": F.relu6, "abs": lambda t: t.abs(),
           "threshold": lambda t: F.threshold(t, 0.1, 0.0), "hardshrink": lambda t: F.hardshrink(t, 0.2),
           "softshrink": lambda t: F.softshrink(t, 0.2), "relu": F.relu,
           "max_pool": lambda t: F.max_pool1d(t.unsqueeze(0), 1).squeeze(0)}

    def penalty_grads(M, fn):
        x = M.tensor([[0.5, -1.0], [2.0, 0.3]], requires_grad=True)
        w1 = M.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
        b1 = M.tensor([0.1, 0.2], requires_grad=True)
        w2 = M.tensor([[1.0], [-2.0]], requires_grad=True)
        out = (fn(x @ w1 + b1) @ w2).sum()
        (g,) = M.autograd.grad(out, x, create_graph=True)
        return [t.detach().numpy() for t in M.autograd.grad((g ** 2).sum(), [w1, b1, w2])]

    ours = penalty_grads(ag, fns[act])
    np.testing.assert_array_equal(ours[1], np.zeros(2))
    torch = pytest.importorskip("torch")
    tfns = {"leaky_relu": torch.nn.functional.leaky_relu, "hardtanh": torch.nn.functional.hardtanh,
            "relu6": torch.nn.functional.relu6, "abs": lambda t: t.abs(),
            "threshold": lambda t: torch.nn.functional.threshold(t, 0.1, 0.0),
            "hardshrink": lambda t: torch.nn.functional.hardshrink(t, 0.2),
            "softshrink": lambda t: torch.nn.functional.softshrink(t, 0.2), "relu": torch.relu,
            "max_pool": lambda t: torch.nn.functional.max_pool1d(t.unsqueeze(0), 1).squeeze(0)}
    for a, b in zip(ours, penalty_grads(torch, tfns[act])):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_gives_zeros_even_for_a_nan_upstream_gradient_with_create_graph(name):
    """PyTorch's rule for the rounding ops is zeros_like(grad): a NaN or inf arriving from above gives 0,
    not NaN (0 * NaN), on arrays and on the tape alike."""
    x = ag.tensor([0.3, 1.7, -2.5], dtype=ag.float64, requires_grad=True)
    g = ag.tensor([float("nan"), float("inf"), 1.0], dtype=ag.float64)
    for create_graph in (False, True):
        (gx,) = ag.autograd.grad(getattr(ag, name)(x), [x], g, create_graph=create_graph)
        np.testing.assert_array_equal(gx.detach().numpy(), [0.0, 0.0, 0.0])

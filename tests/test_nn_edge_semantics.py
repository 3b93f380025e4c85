"""nn at ties, bounds, zeros, NaN and inf: values and gradients (float64) against PyTorch, and the
rules themselves checked by hand.

PyTorch's CPU kernels for hardtanh, hardswish and the shrinks answer a NaN in two ways: the
per-element loop (short tensors, and the tail of long ones) passes g, the SIMD body does not (0, or
NaN for hardswish). nn follows the per-element rule, so the torch comparisons that hold a NaN use
tensors shorter than one SIMD chunk (8 doubles).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors

NAN, INF = float("nan"), float("inf")


def t64(a, requires_grad=True):
    return ag.Tensor(np.asarray(a, np.float64), requires_grad=requires_grad)


def _run_ours(fn, arrays, seed):
    xs = [t64(a) for a in arrays]
    y = fn(*xs)
    w = np.random.default_rng(seed).standard_normal(y.shape)
    (y * ag.Tensor(w)).sum().backward()
    return y.detach().numpy(), [None if x.grad is None else x.grad.numpy() for x in xs]


def _run_torch(fn, arrays, seed):
    torch = pytest.importorskip("torch")
    xs = [torch.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    y = fn(*xs)
    w = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    (y * torch.tensor(w)).sum().backward()
    return y.detach().numpy(), [None if x.grad is None else x.grad.numpy() for x in xs]


def _match_torch(ours, theirs, *arrays, seed=0):
    """Values and the gradients of every input agree with PyTorch's, NaN for NaN (random weights on
    the output, so that which element gets the gradient matters)."""
    pytest.importorskip("torch")
    y, gs = _run_ours(ours, arrays, seed)
    ty, tgs = _run_torch(theirs, arrays, seed)
    np.testing.assert_allclose(y, ty, rtol=1e-6, atol=1e-9, equal_nan=True)
    for g, tg in zip(gs, tgs):
        g = np.zeros_like(tg) if g is None else g
        tg = np.zeros_like(g) if tg is None else tg
        np.testing.assert_allclose(g, tg, rtol=1e-6, atol=1e-9, equal_nan=True)


def _grad(fn, *arrays):
    """The gradient of sum(fn(...)) for each input (g = 1 everywhere)."""
    xs = [t64(a) for a in arrays]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def _tf():
    return pytest.importorskip("torch").nn.functional


# -- hardtanh, relu6, hardsigmoid, hardswish ---------------------------------------------------------
ACTIVATION_INPUTS = [[-1.0, 1.0, 0.5, -0.5], [0.0, 6.0, 3.0, -3.0], [NAN, INF, -INF], [2.999, -2.999, 7.0],
                     [-4.0, 0.0, 1.0, 2.0, -2.0]]


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "hardsigmoid", "hardswish"])
@pytest.mark.parametrize("x", ACTIVATION_INPUTS)
def test_clipped_activations_match_torch_at_bounds(name, x):
    _match_torch(getattr(F, name), getattr(_tf(), name), x)


def test_clipped_activations_match_torch_on_a_long_tensor():
    # the bounds (no NaN) agree between PyTorch's per-element and SIMD paths
    x = np.tile([-1.0, 1.0, 0.0, 6.0, 3.0, -3.0, 0.5, 2.0, INF, -INF], 5)
    for name in ("hardtanh", "relu6", "hardsigmoid", "hardswish"):
        _match_torch(getattr(F, name), getattr(_tf(), name), x)
    _match_torch(lambda a: F.hardtanh(a, -2.0, 0.5), lambda a: _tf().hardtanh(a, -2.0, 0.5), x)


def test_clipped_activations_gradients_by_hand():
    # hardtanh: g strictly inside (and at NaN), none at or beyond the bounds
    x = [-1.0, 1.0, 0.5, -2.0, 2.0, NAN]
    (g,) = _grad(F.hardtanh, x)
    np.testing.assert_array_equal(g, [0, 0, 1, 0, 0, 1])
    y = F.hardtanh(t64(x)).detach().numpy()
    np.testing.assert_array_equal(y, [-1, 1, 0.5, -1, 1, NAN])
    (g,) = _grad(nn.Hardtanh(-2.0, 3.0), [-2.0, 3.0, 0.0])
    np.testing.assert_array_equal(g, [0, 0, 1])
    (g,) = _grad(F.relu6, [0.0, 6.0, 3.0, -1.0, 7.0])
    np.testing.assert_array_equal(g, [0, 0, 1, 0, 0])
    # hardsigmoid: 1/6 strictly inside, nothing at ±3 nor at NaN
    (g,) = _grad(F.hardsigmoid, [-3.0, 3.0, 0.0, NAN])
    np.testing.assert_allclose(g, [0, 0, 1 / 6, 0])
    # hardswish: 0 at x <= -3, (2x + 3) / 6 inside, 1 at x >= 3, inf and NaN
    (g,) = _grad(F.hardswish, [-3.0, 3.0, 1.0, INF, NAN, -INF, -4.0])
    np.testing.assert_allclose(g, [0, 1, 5 / 6, 1, 1, 0, 0])
    y = F.hardswish(t64([-4.0, 1.0, 3.0, INF, NAN])).detach().numpy()
    np.testing.assert_allclose(y, [0, 2 / 3, 3, INF, NAN])


def test_clipped_activations_keep_float32():
    x = ag.tensor([-2.0, 0.5, 1.0, 9.0])
    for fn in (F.hardtanh, F.relu6, F.hardsigmoid, F.hardswish):
        assert fn(x).dtype == ag.float32


# -- prelu --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [[0.0, 1.0, -1.0], [INF, -INF, 0.0], [NAN, 0.0, 2.0, -2.0]])
def test_prelu_one_slope_matches_torch(x):
    _match_torch(F.prelu, _tf().prelu, x, [0.25])


def test_prelu_per_channel_matches_torch():
    x = [[[0.0, 1.0], [INF, -1.0]], [[-INF, 0.0], [0.0, 3.0]]]
    _match_torch(F.prelu, _tf().prelu, x, [0.25, -2.0])


def test_prelu_gradient_at_zero_by_hand():
    gx, gw = _grad(F.prelu, [0.0, 0.0, 2.0, INF, -3.0], [0.25])
    # x = 0 takes the slope's side (w g); the weight gets x g, 0 at x = 0 and nothing from x > 0
    np.testing.assert_array_equal(gx, [0.25, 0.25, 1, 1, 0.25])
    np.testing.assert_array_equal(gw, [-3.0])


# -- softshrink, hardshrink, threshold ----------------------------------------------------------------
@pytest.mark.parametrize("x", [[NAN, 1.0, -1.0, 0.5], [INF, -INF, 2.0, -3.0], [0.0, 1.5, -1.5]])
def test_shrink_and_threshold_match_torch(x):
    tf = _tf()
    _match_torch(lambda a: F.softshrink(a, 1.0), lambda a: tf.softshrink(a, 1.0), x)
    _match_torch(lambda a: F.hardshrink(a, 1.0), lambda a: tf.hardshrink(a, 1.0), x)
    _match_torch(lambda a: F.threshold(a, 1.0, -5.0), lambda a: tf.threshold(a, 1.0, -5.0), x)
    _match_torch(F.softshrink, tf.softshrink, x)


def test_shrink_and_threshold_at_nan_by_hand():
    x = [NAN, 1.0, -1.0, 2.0, -2.0, 0.0]
    y = F.softshrink(t64(x), 1.0).detach().numpy()
    np.testing.assert_array_equal(y, [NAN, 0, 0, 1, -1, 0])
    np.testing.assert_array_equal(_grad(lambda a: F.softshrink(a, 1.0), x)[0], [1, 0, 0, 1, 1, 0])
    y = F.hardshrink(t64(x), 1.0).detach().numpy()
    np.testing.assert_array_equal(y, [NAN, 0, 0, 2, -2, 0])
    np.testing.assert_array_equal(_grad(lambda a: F.hardshrink(a, 1.0), x)[0], [1, 0, 0, 1, 1, 0])
    # threshold replaces only where x <= threshold, which a NaN is not
    y = F.threshold(t64(x), 1.0, -5.0).detach().numpy()
    np.testing.assert_array_equal(y, [NAN, -5, -5, 2, -5, -5])
    np.testing.assert_array_equal(_grad(lambda a: F.threshold(a, 1.0, -5.0), x)[0], [1, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(_grad(nn.Threshold(1.0, -5.0), x)[0], [1, 0, 0, 1, 0, 0])


# -- adaptive max pooling -----------------------------------------------------------------------------
POOL1D = [[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]], [[[1.0, 3.0, 3.0, 2.0, NAN, 1.0, NAN, 0.0]]], \
         [[[-INF, -INF, 2.0, 2.0, 5.0]]]


@pytest.mark.parametrize("x", POOL1D)
@pytest.mark.parametrize("size", [1, 2, 3])
def test_adaptive_max_pool1d_ties_match_torch(x, size):
    tf = _tf()
    _match_torch(lambda a: F.adaptive_max_pool1d(a, size), lambda a: tf.adaptive_max_pool1d(a, size), x)
    idx = F.adaptive_max_pool1d(t64(x), size, return_indices=True)[1].numpy()
    tidx = tf.adaptive_max_pool1d(pytest.importorskip("torch").tensor(x), size, return_indices=True)[1].numpy()
    np.testing.assert_array_equal(idx, tidx)


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (3, 2), (2, 3), (5, 4)])
def test_adaptive_max_pool2d_ties_match_torch(size):
    torch = pytest.importorskip("torch")
    a = np.array([[[1.0, 1.0, 2.0, 2.0], [2.0, 0.0, 2.0, NAN], [NAN, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0],
                   [3.0, 3.0, 3.0, 3.0]]])
    x = np.stack([a, a[:, ::-1]])
    _match_torch(lambda t: F.adaptive_max_pool2d(t, size),
                 lambda t: torch.nn.functional.adaptive_max_pool2d(t, size), x)
    idx = F.adaptive_max_pool2d(t64(x), size, return_indices=True)[1].numpy()
    tidx = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)[1].numpy()
    np.testing.assert_array_equal(idx, tidx)


def test_adaptive_max_pool_gives_the_first_maximum_by_hand():
    x = [[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]
    (g,) = _grad(lambda a: F.adaptive_max_pool1d(a, 1), x)
    np.testing.assert_array_equal(g, [[[1, 0, 0], [1, 0, 0]]])
    # a NaN wins its window, the last one if there are several
    x = [[[1.0, NAN, 3.0, NAN, 0.0]]]
    out, idx = F.adaptive_max_pool1d(t64(x), 1, return_indices=True)
    assert math.isnan(out.item()) and idx.item() == 3
    (g,) = _grad(lambda a: F.adaptive_max_pool1d(a, 1), x)
    np.testing.assert_array_equal(g, [[[0, 0, 0, 1, 0]]])
    (g,) = _grad(lambda a: nn.AdaptiveMaxPool2d(1)(a), [[[2.0, 2.0], [1.0, 2.0]]])
    np.testing.assert_array_equal(g, [[[1, 0], [0, 0]]])


# -- cosine similarity, cosine embedding loss ---------------------------------------------------------
COSINE_CASES = [([[-1.0], [2.0], [1.0], [0.0]], [[0.0], [0.0], [-2.0], [1.0]]),
                ([[0.0, 0.0], [1e-9, 0.0], [3.0, 4.0], [0.0, 0.0]], [[1.0, 2.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]),
                ([[NAN, 1.0], [INF, 0.0], [1.0, -INF]], [[1.0, 2.0], [0.0, 1.0], [0.0, 0.0]])]


@pytest.mark.parametrize("x1,x2", COSINE_CASES)
def test_cosine_similarity_at_zero_vectors_matches_torch(x1, x2):
    tf = _tf()
    _match_torch(lambda a, b: F.cosine_similarity(a, b, dim=-1), lambda a, b: tf.cosine_similarity(a, b, dim=-1),
                 x1, x2)
    _match_torch(lambda a, b: nn.CosineSimilarity(dim=0)(a, b), lambda a, b: tf.cosine_similarity(a, b, dim=0),
                 x1, x2)


def test_cosine_similarity_broadcasts_like_torch():
    tf = _tf()
    _match_torch(lambda a, b: F.cosine_similarity(a, b), lambda a, b: tf.cosine_similarity(a, b),
                 [[0.0, 1.0, 2.0]], [[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])


def test_cosine_similarity_zero_vector_gradient_by_hand():
    # x1 / max(||x1||, eps) * x2 / max(||x2||, eps): the floor passes no gradient of its own, so a
    # zero x1 gets g x2 / (eps ||x2||) and x2 gets 0; the scale of x1 does not enter
    eps = 1e-8
    g1, g2 = _grad(lambda a, b: F.cosine_similarity(a, b, dim=-1), [[0.0], [2.0]], [[1.0], [0.0]])
    np.testing.assert_allclose(g1, [[1 / eps], [0.0]])
    np.testing.assert_allclose(g2, [[0.0], [1 / eps]])


@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_cosine_embedding_loss_matches_torch(margin):
    torch = pytest.importorskip("torch")
    a = [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    b = [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 1.0], [2.0, 1.0]]
    target = [-1.0, 1.0, -1.0, -1.0, 0.0]
    for reduction in ("mean", "sum", "none"):
        _match_torch(lambda x, y: F.cosine_embedding_loss(x, y, t64(target, False), margin, reduction=reduction),
                     lambda x, y: torch.nn.functional.cosine_embedding_loss(x, y, torch.tensor(target), margin,
                                                                           reduction=reduction), a, b)


def test_cosine_embedding_loss_zero_row_gradient_by_hand():
    # cos = 0 = margin, and clamp_min passes g at equality: d cos / d x1 = x2 / sqrt(1e-12 (1 + 1e-12))
    g1, g2 = _grad(lambda x, y: F.cosine_embedding_loss(x, y, ag.tensor([-1.0]), reduction="sum"),
                   [[0.0, 0.0]], [[1.0, 0.0]])
    np.testing.assert_allclose(g1, [[1 / math.sqrt(1e-12 * (1 + 1e-12)), 0.0]])
    np.testing.assert_array_equal(g2, [[0.0, 0.0]])
    loss = nn.CosineEmbeddingLoss(reduction="none")(t64([[1.0, 0.0]]), t64([[1.0, 0.0]]), ag.tensor([0.0]))
    assert loss.item() == 0.0  # a target that is neither 1 nor -1 contributes nothing


# -- losses at NaN and inf ----------------------------------------------------------------------------
DIFF_A = [[-3.0, 0.0, 2.0, 2.0, 0.5], [NAN, 2.0, 0.0, 0.0, -0.5]]
DIFF_B = [[1.0, -INF, -INF, 1.0, 0.0], [2.0, -1.0, 1.0, INF, 0.0]]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("param", [0.5, 1.0, 2.0])
def test_smooth_l1_and_huber_at_inf_match_torch(reduction, param):
    tf = _tf()
    _match_torch(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=param),
                 lambda a, b: tf.smooth_l1_loss(a, b, reduction=reduction, beta=param), DIFF_A, DIFF_B)
    _match_torch(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=param),
                 lambda a, b: tf.huber_loss(a, b, reduction=reduction, delta=param), DIFF_A, DIFF_B)


def test_smooth_l1_and_huber_at_inf_by_hand():
    a, b = [INF, -INF, 0.5, -0.5, 0.25], [0.0, 0.0, 0.0, 0.0, 0.0]
    ga, gb = _grad(lambda x, y: F.smooth_l1_loss(x, y, reduction="none", beta=0.5), a, b)
    np.testing.assert_array_equal(ga, [1, -1, 1, -1, 0.5])
    np.testing.assert_array_equal(gb, [-1, 1, -1, 1, -0.5])
    (ga, _) = _grad(lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.5), a, b)
    np.testing.assert_array_equal(ga, [0.5, -0.5, 0.5, -0.5, 0.25])
    (ga, _) = _grad(lambda x, y: nn.SmoothL1Loss(reduction="sum", beta=0.5)(x, y), [NAN], [0.0])
    assert math.isnan(ga[0])  # a NaN difference is on the square's side: r / beta


def test_hinge_embedding_loss_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[-1.0, 0.0, -INF, -INF], [INF, 2.0, NAN, -1.0], [INF, NAN, NAN, INF], [1.0, 1.0, 0.5, -0.5]])
    for margin in (1.0, 0.5):
        _match_torch(lambda a: F.hinge_embedding_loss(a, (a > 0).double() * 2 - 1, margin),
                     lambda a: torch.nn.functional.hinge_embedding_loss(a, (a > 0).double() * 2 - 1, margin), x)
    target = [1.0, -1.0, 0.0, -1.0]
    _match_torch(lambda a: F.hinge_embedding_loss(a, t64(target, False), reduction="none"),
                 lambda a: torch.nn.functional.hinge_embedding_loss(a, torch.tensor(target), reduction="none"),
                 [1.0, 1.0, 0.5, NAN])


def test_hinge_embedding_loss_by_hand():
    # target -1: clamp_min(margin - x, 0), no gradient at a NaN, -g where margin - x == 0
    (g,) = _grad(lambda a: F.hinge_embedding_loss(a, ag.tensor([-1.0, -1.0, -1.0, 1.0]), reduction="sum"),
                 [NAN, 1.0, 2.0, NAN])
    np.testing.assert_array_equal(g, [0, -1, 0, 1])


def test_margin_ranking_and_triplet_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = np.array([[2.0, INF, NAN, INF], [2.0, -3.0, NAN, -1.0], [-INF, INF, -INF, -3.0], [1.0, 0.0, 0.0, -1.0]])
    _match_torch(lambda a: F.margin_ranking_loss(a, a.flip(-1), (a > 0).double() * 2 - 1),
                 lambda a: tf.margin_ranking_loss(a, a.flip(-1), (a > 0).double() * 2 - 1), x)
    target = [1.0, -1.0, 1.0, -1.0]
    _match_torch(lambda a, b: F.margin_ranking_loss(a, b, t64(target, False), margin=1.0, reduction="none"),
                 lambda a, b: tf.margin_ranking_loss(a, b, torch.tensor(target), margin=1.0, reduction="none"),
                 [1.0, 2.0, NAN, INF], [0.0, 1.0, 0.0, INF])
    _match_torch(lambda a, b: F.triplet_margin_loss(a, b, a.flip(0)),
                 lambda a, b: tf.triplet_margin_loss(a, b, a.flip(0)),
                 [[-3.0], [2.0], [2.0], [0.0]], [[-INF], [NAN], [-1.0], [1.0]])
    _match_torch(lambda a, p, n: F.triplet_margin_loss(a, p, n, eps=0.0, reduction="none"),
                 lambda a, p, n: tf.triplet_margin_loss(a, p, n, eps=0.0, reduction="none"),
                 [[0.0], [0.0], [1.0]], [[1.0], [2.0], [1.0]], [[2.0], [2.0], [3.0]])
    _match_torch(lambda a, p, n: F.triplet_margin_loss(a, p, n, swap=True),
                 lambda a, p, n: tf.triplet_margin_loss(a, p, n, swap=True),
                 [[0.0, 1.0], [0.0, 0.0], [1.0, 2.0]], [[1.0, 0.0], [2.0, 1.0], [1.0, 1.0]],
                 [[2.0, 0.0], [2.0, NAN], [3.0, 1.0]])


def test_margin_ranking_and_triplet_at_zero_hinge_by_hand():
    # clamp_min(., 0) passes g where the hinge is exactly 0 and not where it is NaN
    g1, g2 = _grad(lambda a, b: F.margin_ranking_loss(a, b, ag.tensor([1.0, 1.0, 1.0]), reduction="sum"),
                   [1.0, NAN, 3.0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(g1, [-1, 0, 0])
    np.testing.assert_array_equal(g2, [1, 0, 0])
    # d(a, p) - d(a, n) + margin = 1 - 2 + 1 = 0
    ga, gp, gn = _grad(lambda a, p, n: F.triplet_margin_loss(a, p, n, eps=0.0, reduction="sum"),
                       [[0.0]], [[1.0]], [[2.0]])
    np.testing.assert_array_equal(np.concatenate([ga, gp, gn]).ravel(), [0, 1, -1])


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss_at_nan_and_inf_matches_torch(p, weighted):
    torch = pytest.importorskip("torch")
    x = [[0.1, 0.2, 0.4, 0.8], [1.0, 0.0, 1.0, NAN], [INF, 0.0, 1.0, 2.0], [0.0, 1.0, -INF, 1.0], [0.5, 0.0, -0.5, 0.0]]
    y = [3, 0, 1, 1, 1]
    w = [1.0, 2.0, 0.5, 3.0]
    ours_w = t64(w, False) if weighted else None
    torch_w = torch.tensor(w, dtype=torch.float64) if weighted else None
    _match_torch(lambda a: F.multi_margin_loss(a, ag.tensor(y), p=p, weight=ours_w, reduction="none"),
                 lambda a: torch.nn.functional.multi_margin_loss(a, torch.tensor(y), p=p, weight=torch_w,
                                                                 reduction="none"), x)
    x2 = [[INF, INF], [INF, NAN], [-INF, 0.0]]
    _match_torch(lambda a: F.multi_margin_loss(a, ag.tensor([1, 0, 1])),
                 lambda a: torch.nn.functional.multi_margin_loss(a, torch.tensor([1, 0, 1])), x2)


def test_multi_margin_loss_by_hand():
    # the terms with margin - x[y] + x[i] > 0 only: a NaN term is left out, a zero one gets no gradient
    x = [[1.0, NAN, 0.0, 0.5]]
    loss = F.multi_margin_loss(t64(x), ag.tensor([0]), reduction="sum")
    assert loss.item() == pytest.approx(0.5 / 4)
    (g,) = _grad(lambda a: F.multi_margin_loss(a, ag.tensor([0]), reduction="sum"), x)
    np.testing.assert_array_equal(g, [[-0.25, 0, 0, 0.25]])


@pytest.mark.parametrize("mode,shape", [("linear", (1, 2, 3)), ("bilinear", (1, 1, 2, 3))])
def test_linear_interpolation_between_infinities_matches_torch(mode, shape):
    torch = pytest.importorskip("torch")
    x = np.array([-INF, -INF, INF, 0.0, 1.0, 2.0]).reshape(shape)
    for align in (False, True):
        _match_torch(lambda a: F.interpolate(a, scale_factor=2, mode=mode, align_corners=align),
                     lambda a: torch.nn.functional.interpolate(a, scale_factor=2, mode=mode, align_corners=align), x)


def test_linear_interpolation_between_equal_infinities_by_hand():
    # w0 lo + w1 hi, as PyTorch: -inf between two -infs; 0 * inf (a weight of 0) is NaN
    y = F.interpolate(t64([[[-INF, -INF]]], requires_grad=False), scale_factor=2, mode="linear").numpy()
    assert math.isnan(y[0, 0, 0])
    np.testing.assert_array_equal(y[0, 0, 1:], [-INF, -INF, -INF])


@settings(deadline=None)
@given(data=st.data())
def test_prelu_gradcheck_over_drawn_shapes(data):
    """prelu is an op with its own rules (slope w below 0, d/dw = x there): first and second derivatives
    in x and w against finite differences, one weight or one per channel, away from the kink at 0."""
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=3))
    away = st.floats(-2.0, 2.0).filter(lambda v: abs(v) > 1e-3)
    x = data.draw(tensors(shape=st.just(shape), elements=away))
    k = data.draw(st.sampled_from([1, shape[1]] if len(shape) > 1 else [1]))
    w = data.draw(tensors(shape=st.just((k,)), elements=st.floats(0.05, 0.9)))
    assert gradcheck(F.prelu, (x, w))
    assert gradgradcheck(F.prelu, (x, w))

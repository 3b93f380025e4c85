"""Losses: gradcheck over hypothesis-drawn shapes, PyTorch parity for every option, stability, errors."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
import hypothesis.extra.numpy as hnp

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck, gradgradcheck

REDUCTIONS = ("mean", "sum", "none")


def t64(a, requires_grad=True):
    return ag.Tensor(np.asarray(a, np.float64), requires_grad=requires_grad)


# -- gradcheck over drawn shapes ------------------------------------------------------------------
small_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@given(shape=small_shapes, reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 2 ** 16),
       which=st.sampled_from(["mse", "l1", "smooth_l1", "huber", "bce_logits", "bce"]))
def test_pointwise_losses_gradcheck(shape, reduction, seed, which):
    rng = np.random.default_rng(seed)
    if which == "bce":
        x = t64(rng.uniform(0.05, 0.95, shape))
        y = t64(rng.uniform(0, 1, shape))
        w = rng.uniform(0.5, 2, shape)
        fn = lambda x, y: F.binary_cross_entropy(x, y, weight=w, reduction=reduction)  # noqa: E731
    elif which == "bce_logits":
        x = t64(rng.normal(0, 3, shape))
        y = t64(rng.uniform(0, 1, shape))
        pw = rng.uniform(0.5, 2, shape[-1:])
        fn = lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=pw)  # noqa: E731
    else:
        x = t64(rng.normal(0, 2, shape))
        # keep |x - y| away from the kinks (0 and beta/delta), where finite differences are meaningless
        d = rng.uniform(0.2, 0.8, shape) * rng.choice([-1, 1], shape) + rng.choice([0, 2], shape)
        y = t64(x._data + d)
        f = {"mse": F.mse_loss, "l1": F.l1_loss,
             "smooth_l1": lambda a, b, reduction: F.smooth_l1_loss(a, b, reduction=reduction, beta=1.0),
             "huber": lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction, delta=1.0)}[which]
        fn = lambda x, y: f(x, y, reduction=reduction)  # noqa: E731
    assert gradcheck(fn, (x, y))


@given(n=st.integers(1, 3), c=st.integers(2, 4), spatial=st.sampled_from([(), (2,), (2, 1)]),
       reduction=st.sampled_from(REDUCTIONS), smoothing=st.sampled_from([0.0, 0.2]),
       weighted=st.booleans(), ignore=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_cross_entropy_index_targets_gradcheck(n, c, spatial, reduction, smoothing, weighted, ignore, seed):
    rng = np.random.default_rng(seed)
    x = t64(rng.normal(0, 2, (n, c) + spatial))
    y = rng.integers(0, c, (n,) + spatial)
    if ignore:
        y.flat[0] = -100
        if y.size == 1:
            y = np.append(y, 0).reshape(-1)[:1] * 0  # keep one counted target
    w = rng.uniform(0.5, 2, c) if weighted else None
    assert gradcheck(lambda x: F.cross_entropy(x, y, weight=w, reduction=reduction, label_smoothing=smoothing), x)


@given(n=st.integers(1, 3), c=st.integers(2, 4), reduction=st.sampled_from(REDUCTIONS),
       smoothing=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 2 ** 16))
def test_cross_entropy_prob_targets_and_nll_gradcheck(n, c, reduction, smoothing, seed):
    rng = np.random.default_rng(seed)
    x = t64(rng.normal(0, 2, (n, c)))
    p = rng.dirichlet(np.ones(c), n)
    tgt = t64(p)
    w = rng.uniform(0.5, 2, c)
    assert gradcheck(lambda x, t: F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=smoothing),
                     (x, tgt))
    y = rng.integers(0, c, n)
    assert gradcheck(lambda x: F.nll_loss(F.log_softmax(x, dim=1), y, weight=w, reduction=reduction), x)


# -- parity with PyTorch ----------------------------------------------------------------------------
def _torch_compare(ours_fn, torch_fn, arrays, grad_idx, atol=1e-10):
    torch = pytest.importorskip("torch")
    ours_in = [t64(a, requires_grad=i in grad_idx) if a.dtype.kind == "f" else a for i, a in enumerate(arrays)]
    th_in = [torch.tensor(a, requires_grad=(i in grad_idx)) for i, a in enumerate(arrays)]
    ours = ours_fn(*ours_in)
    ref = torch_fn(*th_in)
    np.testing.assert_allclose(ours._data, ref.detach().numpy(), rtol=1e-9, atol=atol)
    g = np.random.default_rng(1).standard_normal(ref.shape)
    ours.backward(g if ours.ndim else None)
    ref.backward(torch.tensor(g) if ref.ndim else None)
    for i in grad_idx:
        np.testing.assert_allclose(ours_in[i].grad._data, th_in[i].grad.numpy(), rtol=1e-8, atol=atol)


REGRESSION_CASES = [("mse_loss", None), ("l1_loss", None), ("smooth_l1_loss", None), ("smooth_l1_loss", 0.5),
                    ("smooth_l1_loss", 2.0), ("smooth_l1_loss", 0.0), ("huber_loss", None), ("huber_loss", 0.5),
                    ("huber_loss", 2.0)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,param", REGRESSION_CASES)
def test_regression_losses_match_torch(name, reduction, param):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 2, (4, 3)), rng.normal(0, 2, (4, 3))
    y[0, 0] = x[0, 0]  # a tie: the gradient there is 0 in both
    kw = {}
    if param is not None:
        kw = {"beta": param} if name == "smooth_l1_loss" else {"delta": param}
    _torch_compare(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
                   lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **kw),
                   [x, y], grad_idx=(0, 1))


CE_CASES = list(itertools.product(REDUCTIONS, [False, True], [None, 1], [0.0, 0.15], ["1d", "2d", "4d"]))


@pytest.mark.parametrize("reduction,weighted,ignore,smoothing,layout", CE_CASES)
def test_cross_entropy_index_targets_match_torch(reduction, weighted, ignore, smoothing, layout):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    c = 5
    shape = {"1d": (c,), "2d": (6, c), "4d": (3, c, 2, 2)}[layout]
    x = rng.normal(0, 3, shape)
    tshape = tuple(s for i, s in enumerate(shape) if i != (0 if layout == "1d" else 1))
    y = rng.integers(0, c, tshape)
    if ignore is not None and layout != "1d":
        y.flat[::3] = ignore
    w = rng.uniform(0.2, 3, c) if weighted else None
    ii = ignore if ignore is not None else -100
    _torch_compare(
        lambda a: F.cross_entropy(a, y, weight=w, ignore_index=ii, reduction=reduction, label_smoothing=smoothing),
        lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(y), weight=None if w is None else
                                                    torch.tensor(w), ignore_index=ii, reduction=reduction,
                                                    label_smoothing=smoothing),
        [x], grad_idx=(0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("layout", ["2d", "4d"])
def test_cross_entropy_prob_targets_match_torch(reduction, weighted, smoothing, layout):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    c = 4
    shape = {"2d": (5, c), "4d": (2, c, 3, 2)}[layout]
    x = rng.normal(0, 3, shape)
    p = np.moveaxis(rng.dirichlet(np.ones(c), shape[:1] + shape[2:]), -1, 1)
    w = rng.uniform(0.2, 3, c) if weighted else None
    _torch_compare(
        lambda a, t: F.cross_entropy(a, t, weight=w, reduction=reduction, label_smoothing=smoothing),
        lambda a, t: torch.nn.functional.cross_entropy(a, t, weight=None if w is None else torch.tensor(w),
                                                       reduction=reduction, label_smoothing=smoothing),
        [x, p], grad_idx=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(reduction, weighted):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (6, 4, 2))
    y = rng.integers(0, 4, (6, 2))
    y[1, 1] = 2
    w = rng.uniform(0.2, 3, 4) if weighted else None
    _torch_compare(lambda a: F.nll_loss(a, y, weight=w, ignore_index=2, reduction=reduction),
                   lambda a: torch.nn.functional.nll_loss(a, torch.tensor(y), weight=None if w is None else
                                                          torch.tensor(w), ignore_index=2, reduction=reduction),
                   [x], grad_idx=(0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(reduction, weighted):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    p = rng.uniform(0.01, 0.99, (5, 3))
    y = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, (5, 3)) if weighted else None
    _torch_compare(lambda a, t: F.binary_cross_entropy(a, t, weight=w, reduction=reduction),
                   lambda a, t: torch.nn.functional.binary_cross_entropy(
                       a, t, weight=None if w is None else torch.tensor(w), reduction=reduction),
                   [p, y], grad_idx=(0, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_clamps_log_like_torch(dtype):
    torch = pytest.importorskip("torch")
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-45 if dtype == np.float32 else 1e-320, 0.5], dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0], dtype)
    ours = F.binary_cross_entropy(ag.Tensor(p, requires_grad=True), ag.Tensor(y), reduction="none")
    ref = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(ours._data, ref.numpy(), rtol=1e-6)
    assert ours._data[0] == 100.0 and ours._data[1] == 100.0
    x = ag.Tensor(p, requires_grad=True)
    F.binary_cross_entropy(x, ag.Tensor(y)).backward()
    assert np.isfinite(x.grad._data).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_matches_torch(reduction, weighted, pos_weighted):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.normal(0, 4, (5, 3))
    x[0] = [60.0, -60.0, 0.0]
    y = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, (5, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, 3) if pos_weighted else None
    _torch_compare(
        lambda a, t: F.binary_cross_entropy_with_logits(a, t, weight=w, reduction=reduction, pos_weight=pw),
        lambda a, t: torch.nn.functional.binary_cross_entropy_with_logits(
            a, t, weight=None if w is None else torch.tensor(w), reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw)),
        [x, y], grad_idx=(0, 1))


# -- stability --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_losses_and_gradients(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [1e4, 1e4, -1e4]], dtype)
    y = np.array([1, 0, 2])
    cases = {
        "cross_entropy": lambda x: F.cross_entropy(x, y),
        "cross_entropy_smooth_weighted": lambda x: F.cross_entropy(x, y, weight=np.array([1.0, 2.0, 3.0]),
                                                                   label_smoothing=0.1),
        "cross_entropy_probs": lambda x: F.cross_entropy(x, np.eye(3, dtype=dtype)[y]),
        "nll_log_softmax": lambda x: F.nll_loss(F.log_softmax(x, dim=1), y),
        "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, np.eye(3, dtype=dtype)[y]),
        "bce_with_logits_pw": lambda x: F.binary_cross_entropy_with_logits(
            x, np.eye(3, dtype=dtype)[y], pos_weight=np.array([2.0, 1.0, 0.5], dtype)),
        "bce_of_sigmoid": lambda x: F.binary_cross_entropy(F.sigmoid(x), np.eye(3, dtype=dtype)[y]),
        "softmax": lambda x: (F.softmax(x, dim=1) * np.arange(3)).sum(),
    }
    for name, fn in cases.items():
        x = ag.Tensor(logits.copy(), requires_grad=True)
        loss = fn(x)
        loss.backward()
        assert np.isfinite(loss._data).all(), name
        assert np.isfinite(x.grad._data).all(), name
    # values: a target logit 2e4 below the best costs 2e4 (plus log 2 when two logits tie for the best)
    ce = F.cross_entropy(ag.Tensor(logits), y, reduction="none")._data
    np.testing.assert_allclose(ce, [2e4, 2e4, 2e4 + np.log(2)], rtol=1e-6)
    bce = F.binary_cross_entropy_with_logits(ag.Tensor(logits[:1]), np.array([[1.0, 0.0, 1.0]], dtype),
                                             reduction="none")._data
    np.testing.assert_allclose(bce, [[0.0, 0.0, np.log(2)]], rtol=1e-6, atol=1e-30)


# -- modules and errors -----------------------------------------------------------------------------
def test_loss_modules_match_functional():
    rng = np.random.default_rng(8)
    x, y = ag.Tensor(rng.normal(size=(4, 3))), ag.Tensor(rng.normal(size=(4, 3)))
    cls = rng.integers(0, 3, 4)
    probs = ag.Tensor(rng.uniform(0.1, 0.9, (4, 3)))
    w = np.array([1.0, 2.0, 0.5])
    pairs = [
        (nn.MSELoss(reduction="sum")(x, y), F.mse_loss(x, y, reduction="sum")),
        (nn.L1Loss()(x, y), F.l1_loss(x, y)),
        (nn.SmoothL1Loss(beta=0.5)(x, y), F.smooth_l1_loss(x, y, beta=0.5)),
        (nn.HuberLoss(delta=0.5, reduction="none")(x, y), F.huber_loss(x, y, delta=0.5, reduction="none")),
        (nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, ignore_index=1)(x, cls),
         F.cross_entropy(x, cls, weight=w, label_smoothing=0.1, ignore_index=1)),
        (nn.NLLLoss(weight=w)(F.log_softmax(x, dim=1), cls), F.nll_loss(F.log_softmax(x, dim=1), cls, weight=w)),
        (nn.BCELoss()(probs, probs), F.binary_cross_entropy(probs, probs)),
        (nn.BCEWithLogitsLoss(pos_weight=w)(x, probs), F.binary_cross_entropy_with_logits(x, probs, pos_weight=w)),
    ]
    for a, b in pairs:
        np.testing.assert_array_equal(a._data, b._data)
    assert list(nn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]  # a buffer, as in PyTorch


def test_loss_errors_are_clear():
    x = ag.randn(4, 3)
    with pytest.raises(ValueError, match="mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(4, 3\) and target shape \(5,\) don't broadcast"):
        F.mse_loss(x, ag.randn(5))
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(x, ag.randn(4, 1))
    with pytest.raises(IndexError, match="cross_entropy: target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: target shape \(5,\) doesn't match input shape \(4, 3\)"):
        F.cross_entropy(x, np.zeros(5, np.int64))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(3,\)"):
        F.cross_entropy(x, np.zeros(4, np.int64), weight=np.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, np.zeros(4, np.int64), label_smoothing=1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(x, ag.zeros(4, 3))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: target shape"):
        F.binary_cross_entropy_with_logits(x, ag.zeros(4))
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")


def test_cross_entropy_all_ignored_is_nan_like_torch():
    out = F.cross_entropy(ag.randn(2, 3), np.array([-100, -100]))
    assert np.isnan(out._data)
    assert F.cross_entropy(ag.randn(2, 3), np.array([-100, -100]), reduction="sum")._data == 0


def test_cross_entropy_float32_stays_float32():
    x = ag.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1, 2, 0]), weight=np.array([1.0, 2.0, 3.0]), label_smoothing=0.1)
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32


@given(n=st.integers(1, 6), c=st.integers(1, 5), reduction=st.sampled_from(["mean", "sum", "none"]),
       seed=st.integers(0, 999))
@settings(max_examples=30, deadline=None)
def test_cross_entropy_grad_op_gradcheck(n, c, reduction, seed):
    """cross_entropy's rule, the op cross_entropy_grad(x, g): its values are (softmax(x) - onehot) g, and
    its derivatives in x and in the loss's cotangent g match finite differences."""
    from autograd_core.ops.losses import cross_entropy_grad
    rng = np.random.default_rng(seed)
    xv = rng.standard_normal((n, c))
    t = rng.integers(0, c, n)
    gv = rng.standard_normal(n) if reduction == "none" else np.array(rng.standard_normal())
    p = np.exp(xv - xv.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(n), t] -= 1
    want = p * (gv[:, None] if reduction == "none" else gv / n if reduction == "mean" else gv)
    got = cross_entropy_grad(ag.tensor(xv), ag.tensor(gv), t, reduction).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    x, g = ag.tensor(xv, requires_grad=True), ag.tensor(gv, requires_grad=True)
    assert gradcheck(lambda a, b: cross_entropy_grad(a, b, t, reduction), (x, g))


@given(n=st.integers(1, 6), c=st.integers(1, 5), reduction=st.sampled_from(["mean", "sum", "none"]),
       seed=st.integers(0, 999))
@settings(max_examples=30, deadline=None)
def test_cross_entropy_fused_rows_gradcheck_and_torch(n, c, reduction, seed):
    """The one-op path of cross_entropy ((N, C) logits, every target counted): first and second derivatives
    by finite differences, and values and gradients as PyTorch's (float64)."""
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((n, c)), requires_grad=True)
    t = ag.tensor(rng.integers(0, c, n))
    out = F.cross_entropy(x, t, reduction=reduction)
    assert out.grad_fn.name() == "CrossEntropyBackward"          # the fused op, not log_softmax + gather
    assert gradcheck(lambda a: F.cross_entropy(a, t, reduction=reduction), (x,))
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, reduction=reduction), (x,))
    try:
        import torch
    except ImportError:
        return
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    tout = torch.nn.functional.cross_entropy(tx, torch.tensor(t.numpy()), reduction=reduction)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = rng.standard_normal(out.shape)
    (out * ag.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)


@given(n=st.integers(1, 4), d=st.integers(1, 4), swap=st.booleans(), seed=st.integers(0, 1000))
def test_triplet_margin_with_distance_loss_gradcheck(n, d, swap, seed):
    rng = np.random.default_rng(seed)
    a, p, q = (ag.tensor(rng.standard_normal((n, d)), requires_grad=True) for _ in range(3))
    assert gradcheck(lambda x, y, z: F.triplet_margin_with_distance_loss(x, y, z, swap=swap, margin=0.5), (a, p, q))
    dist = lambda x, y: ((x - y) ** 2).sum(-1)   # noqa: E731
    assert gradcheck(lambda x, y, z: F.triplet_margin_with_distance_loss(
        x, y, z, distance_function=dist, swap=swap, reduction="sum"), (a, p, q))


def test_triplet_margin_with_distance_loss_by_hand_and_against_torch():
    a, p, q = ag.tensor([[0.0], [0.0]]), ag.tensor([[1.0], [2.0]]), ag.tensor([[3.0], [0.5]])
    absd = lambda x, y: (x - y).abs().sum(-1)   # noqa: E731
    # per triplet max(|a - p| - |a - n| + 1, 0): max(1 - 3 + 1, 0) = 0, max(2 - 0.5 + 1, 0) = 2.5
    np.testing.assert_allclose(F.triplet_margin_with_distance_loss(a, p, q, distance_function=absd,
                                                                   reduction="none")._data, [0.0, 2.5])
    # swap: d(a, n) becomes min(d(a, n), d(p, n)) = min(0.5, 1.5) = 0.5 in the second, min(3, 2) = 2 in the first
    np.testing.assert_allclose(nn.TripletMarginWithDistanceLoss(distance_function=absd, swap=True,
                                                                reduction="none")(a, p, q)._data, [0.0, 2.5])
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        F.triplet_margin_with_distance_loss(a, p, q, margin=0.0)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 3)) for _ in range(3)]
    for swap in (False, True):
        ours = [ag.tensor(v, requires_grad=True) for v in arrays]
        theirs = [torch.tensor(v, requires_grad=True) for v in arrays]
        lo = F.triplet_margin_with_distance_loss(*ours, swap=swap, margin=2.0)
        lt = torch.nn.functional.triplet_margin_with_distance_loss(*theirs, swap=swap, margin=2.0)
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-12)
        for g, tg in zip(ag.autograd_grad(lo, ours), torch.autograd.grad(lt, theirs)):
            np.testing.assert_allclose(g._data, tg.numpy(), rtol=1e-10, atol=1e-12)


# -- CTC ----------------------------------------------------------------------------------------------
def _brute_force_ctc(lp, target, blank=0):
    """-log of the summed probability of every alignment of ``target`` (T steps), by enumeration."""
    import itertools
    T, C = lp.shape
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


@settings(max_examples=10, deadline=None)
@given(T=st.integers(1, 4), C=st.integers(2, 3), L=st.integers(0, 2), seed=st.integers(0, 1000))
def test_ctc_loss_is_the_sum_over_alignments_and_gradchecks(T, C, L, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, 1, C))
    target = rng.integers(1, C, L)
    lp = ag.log_softmax(ag.tensor(logits), -1)
    want = _brute_force_ctc(lp._data[:, 0], target)
    got = F.ctc_loss(lp, ag.tensor(target.reshape(1, -1)), [T], [L], reduction="none")._data[0]
    if np.isinf(want):
        assert np.isinf(got)
        return
    np.testing.assert_allclose(got, want, rtol=1e-10)
    x = ag.tensor(logits, requires_grad=True)
    assert gradcheck(lambda t: F.ctc_loss(ag.log_softmax(t, -1), ag.tensor(target.reshape(1, -1)), [T], [L],
                                          reduction="sum"), (x,))


def test_ctc_loss_reductions_zero_infinity_and_errors():
    lp = ag.log_softmax(ag.zeros(3, 2, 3, dtype=ag.float64), dim=-1)
    per = F.ctc_loss(lp, ag.tensor([[1, 2], [1, 1]]), [3, 3], [2, 2], reduction="none")
    # [1, 1] needs a blank between the two 1s: 3 frames allow exactly one path, probability 3^-3
    np.testing.assert_allclose(per._data[1], 3 * np.log(3), rtol=1e-12)
    np.testing.assert_allclose(F.ctc_loss(lp, ag.tensor([[1, 2], [1, 1]]), [3, 3], [2, 2])._data,
                               (per._data / 2).mean(), rtol=1e-12)
    x = ag.zeros(2, 1, 3, requires_grad=True)
    loss = F.ctc_loss(ag.log_softmax(x, -1), ag.tensor([[1, 1]]), [2], [2], reduction="sum", zero_infinity=True)
    loss.backward()
    assert loss.item() == 0 and not x.grad._data.any()
    assert np.isinf(F.ctc_loss(ag.log_softmax(ag.zeros(2, 1, 3), -1), ag.tensor([[1, 1]]), [2], [2],
                               reduction="sum").item())
    with pytest.raises(ValueError, match="other than blank"):
        F.ctc_loss(lp, ag.tensor([[0, 1], [1, 1]]), [3, 3], [2, 2])
    with pytest.raises(ValueError, match="input_lengths"):
        F.ctc_loss(lp, ag.tensor([[1, 2], [1, 1]]), [4, 3], [2, 2])
    assert nn.CTCLoss(reduction="sum")(lp, ag.tensor([1, 2, 1, 1]), [3, 3], [2, 2]).item() == pytest.approx(
        float(per._data.sum()))


def test_ctc_loss_matches_torch_through_log_softmax():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for trial in range(6):
        T, N, C = 6, 3, 4
        tl = rng.integers(0, 3, N)                       # every alignment possible (PyTorch: NaN gradient if not)
        il = np.array([T, T - 1, T - 2])
        tg = rng.integers(1, C, (N, 3))
        if trial % 2:
            tg[:, 1] = tg[:, 0]                       # repeated labels
        logits = rng.standard_normal((T, N, C))
        for red in ("none", "sum", "mean"):
            xa, xt = ag.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
            la = F.ctc_loss(ag.log_softmax(xa, -1), ag.tensor(tg), ag.tensor(il), ag.tensor(tl), reduction=red)
            lt = torch.nn.functional.ctc_loss(torch.log_softmax(xt, -1), torch.tensor(tg), torch.tensor(il),
                                              torch.tensor(tl), reduction=red)
            np.testing.assert_allclose(la._data, lt.detach().numpy(), rtol=1e-10)
            la.sum().backward()
            lt.sum().backward()
            np.testing.assert_allclose(xa.grad._data, xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_gaussian_nll_var_below_eps_still_gets_its_gradient():
    """PyTorch clamps var to eps in place on a clone under no_grad: the loss uses max(var, eps), and
    var's gradient is that expression's derivative at the clamped value, also where var < eps
    (0.5 (1/eps - d^2/eps^2) for one element), not zero."""
    eps = 1e-6
    v = t64([1e-8, 2.0])
    x = t64([1.0, 0.5])
    F.gaussian_nll_loss(x, t64([0.0, 0.0], False), v, eps=eps, reduction="sum").backward()
    d = np.array([1.0, 0.5])
    vc = np.array([eps, 2.0])
    np.testing.assert_allclose(v.grad.numpy(), 0.5 * (1 / vc - d ** 2 / vc ** 2), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), d / vc, rtol=1e-12)
    torch = pytest.importorskip("torch")
    tv = torch.tensor([1e-8, 2.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.gaussian_nll_loss(torch.tensor([1.0, 0.5], dtype=torch.float64), torch.zeros(2, dtype=torch.float64),
                                          tv, eps=eps, reduction="sum").backward()
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-12)


def test_soft_margin_loss_refuses_a_target_that_requires_grad_like_torch():
    """PyTorch's soft_margin_loss has no derivative for target: a target that requires grad is a
    RuntimeError while recording, and fine under no_grad or detached."""
    x, y = ag.tensor([0.5, -1.0], requires_grad=True), ag.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"soft_margin_loss: the target requires grad.*target\.detach\(\)"):
        F.soft_margin_loss(x, y)
    want = F.soft_margin_loss(x, y.detach())
    with ag.no_grad():
        np.testing.assert_allclose(F.soft_margin_loss(x, y).numpy(), want.numpy())
    torch = pytest.importorskip("torch")
    tx, ty = torch.tensor([0.5, -1.0], requires_grad=True), torch.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.nn.functional.soft_margin_loss(tx, ty)
    theirs = torch.nn.functional.soft_margin_loss(tx, ty.detach())
    np.testing.assert_allclose(want.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_bce_with_logits_refuses_weights_that_require_grad_like_torch():
    """PyTorch's binary_cross_entropy_with_logits has no derivative for weight or pos_weight."""
    x, y = ag.tensor([0.5, -1.0], requires_grad=True), ag.tensor([1.0, 0.0])
    w = ag.tensor([2.0, 0.5], requires_grad=True)
    for kw in (dict(weight=w), dict(pos_weight=w)):
        name = next(iter(kw))
        with pytest.raises(RuntimeError, match=rf"binary_cross_entropy_with_logits: {name} requires grad.*detach"):
            F.binary_cross_entropy_with_logits(x, y, **kw)
        with ag.no_grad():
            F.binary_cross_entropy_with_logits(x, y, **kw)
        F.binary_cross_entropy_with_logits(x, y, **{name: w.detach()}).backward()
    torch = pytest.importorskip("torch")
    tw = torch.tensor([2.0, 0.5], requires_grad=True)
    for kw in (dict(weight=tw), dict(pos_weight=tw)):
        with pytest.raises(RuntimeError):
            torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([0.5, -1.0], requires_grad=True),
                                                                 torch.tensor([1.0, 0.0]), **kw)


def test_cosine_embedding_loss_of_a_zero_row_has_pytorchs_eps():
    # an all-zero row divides by sqrt(eps ||x2||²): PyTorch's eps is 1e-12 rounded to float32, and the
    # gradient there (about 1e6) is relative eps-sized, so the exact constant shows at 2e-9
    x1 = np.array([[0.0, 0.0], [0.3, -0.2]])
    x2 = np.array([[0.7, -0.4], [0.1, 0.5]])
    a = t64(x1)
    F.cosine_embedding_loss(a, t64(x2, False), ag.tensor([1.0, -1.0])).backward()
    eps = float(np.float32(1e-12))
    want = -x2[0] / np.sqrt(eps * (x2[0] @ x2[0] + eps)) / 2   # -d cos / d x1 (x1 = 0), halved by the mean
    np.testing.assert_allclose(a.grad.numpy()[0], want, rtol=1e-14)


@given(p=hnp.arrays(np.float64, st.integers(1, 8), elements=st.sampled_from(
           [0.0, 1.0, 1e-300, 1e-13, 1e-8, 0.3, 0.5, 1 - 1e-8, 1 - 1e-15, 0.999])),
       data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_binary_cross_entropy_gradients_match_torch_when_saturated(p, data, dtype):
    """PyTorch divides by max(p (1 - p), 1e-12), so at or near p = 0 or 1 the gradient is large but finite,
    and the target's gradient is -logit(p), unclamped: ours are the same, for p and y, in both dtypes."""
    torch = pytest.importorskip("torch")
    y = data.draw(hnp.arrays(np.float64, p.shape, elements=st.sampled_from([0.0, 0.25, 1.0])))
    w = data.draw(hnp.arrays(np.float64, p.shape, elements=st.sampled_from([0.5, 1.0, 3.0])))
    p, y, w = p.astype(dtype), y.astype(dtype), w.astype(dtype)
    P, Y = ag.tensor(p, requires_grad=True), ag.tensor(y, requires_grad=True)
    F.binary_cross_entropy(P, Y, weight=ag.tensor(w), reduction="sum").backward()
    tp, ty = torch.tensor(p, requires_grad=True), torch.tensor(y, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(tp, ty, weight=torch.tensor(w), reduction="sum").backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(P.grad.numpy(), tp.grad.numpy(), rtol=rtol)
    np.testing.assert_allclose(Y.grad.numpy(), ty.grad.numpy(), rtol=rtol)

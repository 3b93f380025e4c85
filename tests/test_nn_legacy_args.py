"""Arguments older or newer PyTorch scripts pass: the deprecated size_average / reduce of every loss
(they pick the reduction, with PyTorch's warning, instead of being ignored), the per-element weight of
mse_loss / l1_loss / huber_loss, AvgPool2d's divisor_override, and device= on Linear, Conv2d,
ConvTranspose2d and LayerNorm."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck, tensors


def _torch():
    return pytest.importorskip("torch")


LEGACY = [(None, None, "mean"), (True, None, "mean"), (False, None, "sum"), (None, False, "none"),
          (False, False, "none"), (True, True, "mean"), (False, True, "sum")]


@pytest.mark.parametrize("size_average,reduce,expected", LEGACY)
def test_size_average_and_reduce_pick_the_reduction(size_average, reduce, expected):
    x, y = ag.tensor([1.0, 2.0, 4.0]), ag.zeros(3)
    want = {"mean": 7.0 / 3, "sum": 7.0, "none": [1.0, 2.0, 4.0]}[expected]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got_f = F.l1_loss(x, y, size_average=size_average, reduce=reduce)
        module = nn.L1Loss(size_average=size_average, reduce=reduce)
    assert module.reduction == expected
    np.testing.assert_allclose(got_f.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(module(x, y).numpy(), want, rtol=1e-6)
    legacy = size_average is not None or reduce is not None
    assert any("size_average and reduce" in str(m.message) for m in w) == legacy


@pytest.mark.parametrize("cls", [nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.BCELoss, nn.BCEWithLogitsLoss,
                                 nn.CrossEntropyLoss, nn.NLLLoss, nn.KLDivLoss, nn.SoftMarginLoss,
                                 nn.MultiLabelSoftMarginLoss, nn.HingeEmbeddingLoss, nn.MarginRankingLoss,
                                 nn.CosineEmbeddingLoss, nn.TripletMarginLoss, nn.PoissonNLLLoss,
                                 nn.MultiMarginLoss, nn.MultiLabelMarginLoss])
def test_every_loss_module_honours_size_average(cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert cls(size_average=False).reduction == "sum"
        assert cls(reduce=False).reduction == "none"
    assert cls().reduction == "mean"


def test_legacy_reduction_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    logits, target = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    for sa, rd in [(False, None), (None, False), (True, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ours = F.cross_entropy(ag.tensor(logits), ag.tensor(target), size_average=sa, reduce=rd)
            theirs = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target), size_average=sa,
                                                       reduce=rd)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
            ours = nn.MSELoss(size_average=sa, reduce=rd)(ag.tensor(logits), ag.zeros(5, 4))
            theirs = torch.nn.MSELoss(size_average=sa, reduce=rd)(torch.tensor(logits), torch.zeros(5, 4))
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.huber_loss])
def test_weighted_pointwise_losses(fn):
    x, y, w = ag.tensor([1.0, 2.0, 3.0]), ag.zeros(3), ag.tensor([1.0, 0.0, 2.0])
    each = fn(x, y, reduction="none").numpy()
    np.testing.assert_allclose(fn(x, y, weight=w, reduction="none").numpy(), each * w.numpy())
    np.testing.assert_allclose(fn(x, y, weight=w, reduction="sum").numpy(), (each * w.numpy()).sum())
    # PyTorch's 'mean': by the sum of the weights for mse and l1, by the element count for huber
    np.testing.assert_allclose(fn(x, y, weight=w).numpy(), (each * w.numpy()).sum() / 3.0, rtol=1e-6)
    w2 = ag.tensor([1.0, 0.5, 2.0])
    denom = 3.0 if fn is F.huber_loss else 3.5
    np.testing.assert_allclose(fn(x, y, weight=w2).numpy(), (each * w2.numpy()).sum() / denom, rtol=1e-6)
    with pytest.raises(ValueError, match="same size"):
        fn(x, y, weight=ag.ones(2))


@given(st.sampled_from(["mse_loss", "l1_loss", "huber_loss"]), st.integers(1, 5))
def test_weighted_pointwise_losses_gradcheck(name, n):
    rng = np.random.default_rng(n)
    x = ag.tensor(rng.standard_normal(n) * 3 + 0.1, requires_grad=True)
    y = ag.tensor(rng.standard_normal(n))
    w = ag.tensor(rng.uniform(0.5, 2.0, n), requires_grad=True)
    assert gradcheck(lambda x, w: getattr(F, name)(x, y, weight=w), (x, w))


def test_weighted_losses_match_torch():
    torch = _torch()
    rng = np.random.default_rng(3)
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(0, 2, (3, 4))
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        for red in ("mean", "sum", "none"):
            ours = getattr(F, name)(ag.tensor(x), ag.tensor(y), reduction=red, weight=ag.tensor(w))
            theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y), reduction=red,
                                                        weight=torch.tensor(w))
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=f"{name} {red}")


POOLS = [((1, 2, 5, 5), 2, 2, 0, True), ((2, 3, 7, 6), 3, 2, 1, True), ((1, 1, 4, 4), 2, None, 0, False),
         ((2, 2, 6, 7), (2, 3), (1, 2), (1, 1), False), ((3, 5, 5), 3, 2, 1, True)]


@pytest.mark.parametrize("shape,k,s,p,ceil", POOLS)
def test_divisor_override_divides_each_window_sum(shape, k, s, p, ceil):
    x = ag.randn(*shape, dtype=ag.float64)
    plain = F.avg_pool2d(x, k, s, p, ceil, True)
    kk = k if isinstance(k, tuple) else (k, k)
    if not ceil:   # no window leaves the padded input: the plain mean divides by the window size
        np.testing.assert_allclose(F.avg_pool2d(x, k, s, p, ceil, True, 1).numpy(), plain.numpy() * kk[0] * kk[1])
    np.testing.assert_allclose(F.avg_pool2d(x, k, s, p, ceil, True, 3).numpy() * 3,
                               F.avg_pool2d(x, k, s, p, ceil, True, 1).numpy(), rtol=1e-12)
    assert F.avg_pool2d(x, k, s, p, ceil, True, 2).shape == plain.shape
    m = nn.AvgPool2d(k, s, p, ceil, True, divisor_override=2)
    np.testing.assert_array_equal(m(x).numpy(), F.avg_pool2d(x, k, s, p, ceil, True, 2).numpy())


@given(tensors((1, 2, 5, 4)))
def test_divisor_override_gradcheck(x):
    assert gradcheck(lambda x: F.avg_pool2d(x, 2, 2, 1, True, True, 3), (x,))


@pytest.mark.parametrize("shape,k,s,p,ceil", POOLS)
def test_divisor_override_matches_torch(shape, k, s, p, ceil):
    torch = _torch()
    x = np.random.default_rng(4).standard_normal(shape)
    a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = F.avg_pool2d(a, k, s, p, ceil, True, 3)
    yt = torch.nn.functional.avg_pool2d(t, k, s, p, ceil, True, 3)
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(5).standard_normal(ya.shape)
    ya.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_divisor_override_must_be_a_nonzero_int():
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(ag.ones(1, 1, 2, 2), 2, divisor_override=0)


def test_device_keyword_on_the_common_layers():
    for make in (lambda d: nn.Linear(2, 3, device=d), lambda d: nn.Conv2d(1, 2, 3, device=d),
                 lambda d: nn.ConvTranspose2d(1, 2, 3, device=d), lambda d: nn.LayerNorm(4, device=d)):
        assert make("cpu") is not None and make(ag.device("cpu")) is not None
        with pytest.raises(RuntimeError, match="(?i)cuda|gpu"):
            make("cuda")
    assert nn.Linear(2, 3, True, "cpu", ag.float64).weight.dtype == ag.float64

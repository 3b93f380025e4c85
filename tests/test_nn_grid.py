"""affine_grid and grid_sample (spatial transformers): values and gradients (input, grid, theta) against
PyTorch in float64 for every mode, padding mode and align_corners; gradcheck over hypothesis-drawn
sizes; errors."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn.functional as F
from autograd_core.testing import gradcheck

COMBOS = list(itertools.product(["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True]))


@pytest.mark.parametrize("mode,padding,align", COMBOS)
def test_grid_sample_matches_torch(mode, padding, align):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x0, g0 = rng.standard_normal((2, 3, 5, 4)), rng.uniform(-1.4, 1.4, (2, 3, 6, 2))
    w = rng.standard_normal((2, 3, 3, 6))
    x, g = ag.tensor(x0, requires_grad=True), ag.tensor(g0, requires_grad=True)
    tx, tg = torch.tensor(x0, requires_grad=True), torch.tensor(g0, requires_grad=True)
    ours = F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align)
    theirs = torch.nn.functional.grid_sample(tx, tg, mode=mode, padding_mode=padding, align_corners=align)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-12)
    (ours * ag.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(g.grad.numpy(), tg.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_matches_torch(align):
    torch = pytest.importorskip("torch")
    th0 = np.random.default_rng(1).standard_normal((2, 2, 3))
    th, tth = ag.tensor(th0, requires_grad=True), torch.tensor(th0, requires_grad=True)
    a = F.affine_grid(th, (2, 3, 4, 5), align_corners=align)
    b = torch.nn.functional.affine_grid(tth, (2, 3, 4, 5), align_corners=align)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
    (a * a).sum().backward()
    (b * b).sum().backward()
    np.testing.assert_allclose(th.grad.numpy(), tth.grad.numpy(), atol=1e-12)


@given(h=st.integers(1, 4), w=st.integers(1, 4), ho=st.integers(1, 3), wo=st.integers(1, 3),
       padding=st.sampled_from(["zeros", "border", "reflection"]), align=st.booleans(), seed=st.integers(0, 999))
@settings(max_examples=25, deadline=None)
def test_grid_sample_gradcheck(h, w, ho, wo, padding, align, seed):
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((1, 2, h, w)), requires_grad=True)
    # points away from pixel centres and borders, where the bilinear weights are smooth
    g = rng.uniform(-1.2, 1.2, (1, ho, wo, 2))
    g = ag.tensor(g, requires_grad=True)
    f = lambda a, b: F.grid_sample(a, b, padding_mode=padding, align_corners=align)  # noqa: E731
    assert gradcheck(lambda a: f(a, g.detach()), (x,))
    ix = (g._data[..., 0] + 1) * ((w - 1) / 2 if align else w / 2) - (0 if align else 0.5)
    iy = (g._data[..., 1] + 1) * ((h - 1) / 2 if align else h / 2) - (0 if align else 0.5)
    near_kink = [np.abs(v - np.round(v)) < 1e-3 for v in (ix, iy)]
    if not any(k.any() for k in near_kink):
        assert gradcheck(lambda b: f(x.detach(), b), (g,))


def test_identity_transform_reproduces_the_input_and_a_nan_point_gives_nan():
    x = ag.arange(12.0).reshape(1, 1, 3, 4)
    grid = F.affine_grid(ag.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), (1, 1, 3, 4), align_corners=False)
    np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=False).numpy(), x.numpy(), atol=1e-12)
    g = ag.tensor([[[[float("nan"), 0.0]]]])
    assert np.isnan(F.grid_sample(x, g, align_corners=True).item())     # as PyTorch (its weights are NaN)


def test_grid_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"grid_sample: expected input \(N, C, H, W\) with grid \(N, Ho, Wo, 2\)"):
        F.grid_sample(ag.zeros(1, 1, 2, 2), ag.zeros(1, 2, 2, 3))
    with pytest.raises(ValueError, match="grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic'"):
        F.grid_sample(ag.zeros(1, 1, 2, 2), ag.zeros(1, 2, 2, 2), mode="area")
    with pytest.raises(ValueError, match=r"affine_grid: expected theta of shape \(2, 2, 3\)"):
        F.affine_grid(ag.zeros(1, 2, 3), (2, 1, 4, 4))

"""grid_sample's bicubic mode (4-D) and 5-D input (trilinear and nearest), and 5-D affine_grid: by hand,
gradchecked in float64 over hypothesis-drawn sizes and grids, and against torch (values and the
gradients for the input and the grid) for every padding mode and align_corners."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn.functional as F
from autograd_core.testing import gradcheck


def _torch():
    return pytest.importorskip("torch")


def _keys(t, a=-0.75):
    """The cubic convolution weights of the taps at -1, 0, 1, 2 (written out here independently)."""
    def k(s):
        s = abs(s)
        if s <= 1:
            return (a + 2) * s ** 3 - (a + 3) * s ** 2 + 1
        if s < 2:
            return a * s ** 3 - 5 * a * s ** 2 + 8 * a * s - 4 * a
        return 0.0
    return [k(t + 1), k(t), k(1 - t), k(2 - t)]


def test_bicubic_by_hand_inside_the_image():
    img = np.random.default_rng(0).standard_normal((1, 1, 6, 8))
    py, px = 2.4, 3.7                                     # pixel coordinates, align_corners=True
    grid = np.array([px / 7 * 2 - 1, py / 5 * 2 - 1]).reshape(1, 1, 1, 2)
    out = F.grid_sample(ag.tensor(img), ag.tensor(grid), mode="bicubic", align_corners=True).item()
    wy, wx = _keys(py - 2), _keys(px - 3)
    want = sum(wy[a] * wx[b] * img[0, 0, 1 + a, 2 + b] for a in range(4) for b in range(4))
    assert out == pytest.approx(want, rel=1e-12)
    on_pixels = np.stack([np.array([2.0, 5.0]) / 7 * 2 - 1, np.zeros(2)], -1).reshape(1, 1, 2, 2)
    img2 = np.random.default_rng(1).standard_normal((1, 1, 3, 8))
    out2 = F.grid_sample(ag.tensor(img2), ag.tensor(on_pixels), mode="bicubic", align_corners=True)
    np.testing.assert_allclose(out2.numpy().ravel(), img2[0, 0, 1, [2, 5]], rtol=1e-12)


def test_trilinear_by_hand_and_the_identity_grid():
    x = ag.arange(8.0, dtype=ag.float64).reshape(1, 1, 2, 2, 2)
    centre = ag.zeros(1, 1, 1, 1, 3, dtype=ag.float64)
    assert F.grid_sample(x, centre, align_corners=True).item() == pytest.approx(3.5)   # the mean of the 8 corners
    theta = ag.tensor([[[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]]], dtype=ag.float64)
    vol = ag.randn(2, 3, 3, 4, 5, dtype=ag.float64)
    g = F.affine_grid(theta.expand(2, 3, 4), (2, 3, 3, 4, 5), align_corners=False)
    assert g.shape == (2, 3, 4, 5, 3)
    for mode in ("bilinear", "nearest"):
        np.testing.assert_allclose(F.grid_sample(vol, g, mode=mode, align_corners=False).numpy(), vol.numpy(),
                                   atol=1e-12)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="bicubic.*4-D"):
        F.grid_sample(ag.zeros(1, 1, 2, 2, 2), ag.zeros(1, 1, 1, 1, 3), mode="bicubic")
    with pytest.raises(ValueError, match="grid_sample.*grid"):
        F.grid_sample(ag.zeros(1, 1, 2, 2, 2), ag.zeros(1, 1, 1, 2))
    with pytest.raises(ValueError, match="affine_grid.*theta"):
        F.affine_grid(ag.zeros(1, 2, 3), (1, 1, 2, 2, 2))


@given(mode=st.sampled_from(["bilinear", "bicubic"]), pad=st.sampled_from(["zeros", "border", "reflection"]),
       ac=st.booleans(), h=st.integers(1, 4), w=st.integers(1, 4), seed=st.integers(0, 10 ** 6))
@settings(max_examples=20, deadline=None)
def test_4d_gradcheck(mode, pad, ac, h, w, seed):
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((1, 2, h, w)), requires_grad=True)
    # points away from pixel boundaries and the padding's kinks, where the derivative jumps
    g = rng.uniform(-1.2, 1.2, (1, 2, 3, 2))
    g = ag.tensor(g, requires_grad=True)
    assert gradcheck(lambda x: F.grid_sample(x, g.detach(), mode=mode, padding_mode=pad, align_corners=ac), (x,))


@given(pad=st.sampled_from(["zeros", "border", "reflection"]), ac=st.booleans(), seed=st.integers(0, 10 ** 6))
@settings(max_examples=15, deadline=None)
def test_5d_gradcheck(pad, ac, seed):
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((1, 2, 2, 3, 3)), requires_grad=True)
    g = ag.tensor(rng.uniform(-0.9, 0.9, (1, 2, 2, 1, 3)), requires_grad=True)
    assert gradcheck(lambda x, g: F.grid_sample(x, g, padding_mode=pad, align_corners=ac), (x, g), atol=1e-4)


CASES = [(mode, pad, ac, nd) for nd in (2, 3) for mode in ("bilinear", "nearest", "bicubic")
         for pad in ("zeros", "border", "reflection") for ac in (False, True) if not (nd == 3 and mode == "bicubic")]


@pytest.mark.parametrize("mode,pad,ac,nd", CASES)
def test_matches_torch(mode, pad, ac, nd):
    torch = _torch()
    rng = np.random.default_rng(len(mode) + 7 * ac + 3 * nd)
    shape = (2, 3, 4, 5) if nd == 2 else (2, 3, 3, 4, 5)
    gshape = (2, 3, 4, 2) if nd == 2 else (2, 2, 3, 4, 3)
    x = rng.standard_normal(shape)
    g = rng.uniform(-1.3, 1.3, gshape)
    xo, go = ag.tensor(x, requires_grad=True), ag.tensor(g, requires_grad=True)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    yo = F.grid_sample(xo, go, mode=mode, padding_mode=pad, align_corners=ac)
    yt = torch.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=pad, align_corners=ac)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(yo.shape)
    yo.backward(ag.tensor(w))
    yt.backward(torch.tensor(w))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(go.grad.numpy(), gt.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid_5d_matches_torch(ac):
    torch = _torch()
    theta = np.random.default_rng(0).standard_normal((2, 3, 4))
    ours = F.affine_grid(ag.tensor(theta), (2, 1, 3, 4, 5), align_corners=ac)
    theirs = torch.nn.functional.affine_grid(torch.tensor(theta), (2, 1, 3, 4, 5), align_corners=ac)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)

"""3-D convolution and pooling (nn/conv3d.py): gradcheck over hypothesis-drawn shapes and settings in
float64, values worked out by hand, and PyTorch parity (values, gradients, indices) when installed."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck


@settings(max_examples=10, deadline=None)
@given(c=st.integers(1, 2), o=st.integers(1, 2), size=st.integers(3, 4), k=st.integers(1, 2),
       stride=st.integers(1, 2), padding=st.integers(0, 1), seed=st.integers(0, 1000))
def test_conv3d_and_transpose_gradcheck(c, o, size, k, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal((1, c, size, size, size - 1)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((o, c, k, k, k)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(o), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv3d(x, w, b, stride, padding), (x, w, b))
    wt = ag.tensor(rng.standard_normal((c, o, k, k, k)), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv_transpose3d(x, w, None, stride, 0, stride - 1), (x, wt))


@settings(max_examples=10, deadline=None)
@given(size=st.integers(2, 5), k=st.integers(1, 2), stride=st.integers(1, 2), ceil=st.booleans(),
       seed=st.integers(0, 1000))
def test_pool3d_gradcheck(size, k, stride, ceil, seed):
    # distinct values: the maximum of each window is unique, so max pooling is differentiable there
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.permutation(2 * size ** 3).reshape(2, size, size, size)[:1].astype(np.float64) / 7,
                  requires_grad=True)
    assert gradcheck(lambda t: F.max_pool3d(t.unsqueeze(0), k, stride, ceil_mode=ceil), (x,))
    assert gradcheck(lambda t: F.avg_pool3d(t.unsqueeze(0), k, stride, ceil_mode=ceil), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool3d(t.unsqueeze(0), (2, 1, 3)), (x,))


def test_conv3d_and_pools_by_hand():
    x = ag.arange(8.0).reshape(1, 1, 2, 2, 2)
    np.testing.assert_allclose(F.conv3d(x, ag.ones(1, 1, 2, 2, 2))._data.ravel(), [28.0])
    # padding 1 with a 1x1x1 kernel of 2: twice the input inside a frame of zeros
    y = F.conv3d(x, ag.full((1, 1, 1, 1, 1), 2.0), padding=1)
    assert y.shape == (1, 1, 4, 4, 4) and y._data[0, 0, 1:3, 1:3, 1:3].tolist() == (2 * x._data[0, 0]).tolist()
    # the transposed convolution with stride 2 puts a copy of the kernel at every input element
    t = F.conv_transpose3d(ag.ones(1, 1, 2, 1, 1), ag.ones(1, 1, 2, 1, 1), stride=2)
    np.testing.assert_allclose(t._data.ravel(), [1, 1, 1, 1])
    xg = ag.tensor(np.array([[[[[1.0, 3.0], [3.0, 0.0]], [[2.0, 3.0], [0.0, 1.0]]]]]), requires_grad=True)
    m, idx = F.max_pool3d(xg, 2, return_indices=True)
    m.sum().backward()
    assert m.item() == 3.0 and idx.item() == 1                      # the first of the tied maxima
    np.testing.assert_allclose(xg.grad._data.ravel(), [0, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(F.avg_pool3d(xg, 2).item(), 13 / 8)
    np.testing.assert_allclose(F.avg_pool3d(xg, 2, padding=1, count_include_pad=False)._data[0, 0, 0, 0, 0], 1.0)
    np.testing.assert_allclose(F.avg_pool3d(xg, 2, padding=1)._data[0, 0, 0, 0, 0], 1 / 8)
    with pytest.raises(ValueError, match="5-D"):
        F.conv3d(ag.ones(1, 1, 3, 3, 3), ag.ones(1, 1, 3, 3))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        F.conv3d(ag.ones(1, 1, 2, 2, 2), ag.ones(1, 1, 3, 3, 3))
    layer = nn.Conv3d(2, 4, (3, 1, 2), bias=False)
    assert layer.weight.shape == (4, 2, 3, 1, 2) and layer.bias is None
    assert nn.ConvTranspose3d(2, 4, 3, stride=2)(ag.ones(1, 2, 3, 3, 3), output_size=(8, 8, 8)).shape == (1, 4, 8, 8, 8)


@pytest.mark.parametrize("case", range(6))
def test_conv3d_family_matches_torch(case):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(case)
    x = rng.standard_normal((2, 4, 5, 6, 5))
    x[0, 0, :2, :2, :2] = 0.0          # ties for max pooling
    if case == 5:
        x[1, 1, 0, 0, :] = np.nan
    s, p, d, g = [(1, 0, 1, 1), (2, 1, 1, 2), (1, 1, 2, 1), ((1, 2, 1), (0, 1, 2), 1, 4), (2, 0, 1, 1), (1, 1, 1, 1)][case]
    w = rng.standard_normal((4, 4 // g, 3, 2, 3))
    b = rng.standard_normal(4)
    calls = [
        (lambda M, X, W, B: M.conv3d(X, W, B, s, p, d, g), [x, w, b]),
        (lambda M, X, W, B: M.conv_transpose3d(X, W, B, s, p, 0, g, d), [x, w, b]),
        (lambda M, X: M.max_pool3d(X, 3, 2, 1, 1, case % 2 == 1), [x]),
        (lambda M, X: M.avg_pool3d(X, 3, 2, 1, case % 2 == 1, case % 3 == 0), [x]),
        (lambda M, X: M.adaptive_avg_pool3d(X, (2, 4, 3)), [x]),
    ]
    for fn, arrays in calls:
        if case == 5 and fn is not calls[2][0]:
            continue
        ours = [ag.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        ya, yt = fn(F, *ours), fn(TF, *theirs)
        v = rng.standard_normal(tuple(yt.shape))
        ga = ag.autograd_grad((ya * ag.tensor(v)).sum(), ours)
        gt = torch.autograd.grad((yt * torch.tensor(v)).sum(), theirs)
        np.testing.assert_allclose(ya._data, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
        for a, t in zip(ga, gt):
            np.testing.assert_allclose(a._data, t.numpy(), rtol=1e-8, atol=1e-9)
    _, ia = F.max_pool3d(ag.tensor(x), 2, return_indices=True)
    _, it = TF.max_pool3d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(ia._data, it.numpy())
    assert sorted(nn.Conv3d(2, 4, 3).state_dict()) == sorted(torch.nn.Conv3d(2, 4, 3).state_dict())


@settings(max_examples=10, deadline=None)
@given(d=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4), od=st.integers(1, 5), oh=st.integers(1, 5),
       ow=st.integers(1, 5), mode=st.sampled_from(["nearest", "nearest-exact", "area"]), seed=st.integers(0, 1000))
def test_interpolate_5d_nearest_and_area_gradcheck(d, h, w, od, oh, ow, mode, seed):
    x = ag.tensor(np.random.default_rng(seed).standard_normal((1, 2, d, h, w)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, size=(od, oh, ow), mode=mode), (x,))


def test_interpolate_5d_nearest_by_hand():
    x = ag.arange(8.0).reshape(1, 1, 2, 2, 2)
    y = F.interpolate(x, scale_factor=2)
    assert y.shape == (1, 1, 4, 4, 4)
    np.testing.assert_array_equal(y.numpy()[0, 0], x.numpy()[0, 0].repeat(2, 0).repeat(2, 1).repeat(2, 2))
    x.requires_grad_(True)
    F.interpolate(x, size=(3, 2, 1)).sum().backward()
    # depth 2 -> 3 reads planes 0, 0, 1; width 2 -> 1 reads column 0
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[[2, 0], [2, 0]], [[1, 0], [1, 0]]])


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "area"])
@pytest.mark.parametrize("size,scale,recompute", [((4, 5, 3), None, None), (None, 2, None), (None, 1.5, None),
                                                  (None, (0.7, 2.0, 1.3), True), (None, (0.7, 2.0, 1.3), None)])
def test_interpolate_5d_matches_torch(mode, size, scale, recompute):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((1, 2, 3, 4, 5))
    ours = ag.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    y = F.interpolate(ours, size=size, scale_factor=scale, mode=mode, recompute_scale_factor=recompute)
    z = torch.nn.functional.interpolate(theirs, size=size, scale_factor=scale, mode=mode,
                                        recompute_scale_factor=recompute)
    np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), rtol=1e-12)
    g = np.cos(np.arange(y.numel())).reshape(y.shape)
    y.backward(ag.tensor(g))
    z.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


@settings(deadline=None)
@given(d=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 5), od=st.integers(1, 4), oh=st.integers(1, 4),
       ow=st.integers(1, 4), batched=st.booleans(), seed=st.integers(0, 2**16))
def test_adaptive_max_pool3d_gradcheck(d, h, w, od, oh, ow, batched, seed):
    x = np.random.default_rng(seed).permutation(2 * d * h * w).astype(np.float64)[:2 * d * h * w].reshape(2, d, h, w)
    t = ag.tensor(x if not batched else x[None], requires_grad=True)     # distinct values: no ties
    assert gradcheck(lambda t: F.adaptive_max_pool3d(t, (od, oh, ow)), (t,))


def test_adaptive_max_pool3d_by_hand():
    x = ag.arange(8.0).reshape(1, 1, 2, 2, 2)
    v, i = F.adaptive_max_pool3d(x, (1, 2, 1), return_indices=True)
    assert v.flatten().tolist() == [5.0, 7.0] and i.flatten().tolist() == [5, 7]
    y = ag.tensor([[[[[1.0, 3.0], [3.0, 2.0]]]]], requires_grad=True)   # a tie: the first maximum wins
    F.adaptive_max_pool3d(y, 1).sum().backward()
    assert y.grad.flatten().tolist() == [0.0, 1.0, 0.0, 0.0]
    assert nn.AdaptiveMaxPool3d((1, 1, None))(ag.ones(2, 3, 4, 5, 6)).shape == (2, 3, 1, 1, 6)
    with pytest.raises(ValueError, match="adaptive_max_pool3d"):
        F.adaptive_max_pool3d(ag.ones(2, 3, 4), 1)


@pytest.mark.parametrize("shape,size", [((2, 3, 5, 4, 6), (2, 3, 4)), ((3, 4, 5, 4), (None, 2, 1)),
                                        ((1, 1, 4, 7, 5), (3, 5, 2)), ((1, 2, 3, 3, 3), 1)])
def test_adaptive_max_pool3d_matches_torch(shape, size):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, shape).astype(np.float64)     # many ties
    x.reshape(-1)[3] = np.nan
    a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    va, ia = F.adaptive_max_pool3d(a, size, return_indices=True)
    vt, it = torch.nn.functional.adaptive_max_pool3d(t, size, return_indices=True)
    np.testing.assert_array_equal(va.detach().numpy(), vt.detach().numpy())
    np.testing.assert_array_equal(ia.numpy(), it.numpy())
    g = rng.standard_normal(vt.shape)
    (va * ag.tensor(g)).sum().backward()
    (vt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12)

"""max_pool2d, avg_pool2d, adaptive_avg_pool2d, upsample_nearest2d: values and gradients against
direct loops, gradcheck / grad of grad, ties, overlapping windows, errors, PyTorch parity."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import autograd_core as ag
from autograd_core import kernels
from autograd_core.testing import gradcheck, gradgradcheck


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def backend(request):
    """Every test here runs on both kernel backends: the Numba kernels (compiled before their first use)
    and the numpy fallbacks."""
    if request.param == "numba" and not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    with kernels.use(request.param, background=False):
        yield request.param


def out_len(n, k, s, p, d, ceil):
    """PyTorch's pooling_output_shape."""
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def max_pool_loop(x, k, s, p, d, ceil):
    """Values, flat argmax indices and the window lists (row-major, in-bounds positions only)."""
    N, C, H, W = x.shape
    OH, OW = (out_len(n, kk, ss, pp, dd, ceil) for n, kk, ss, pp, dd in zip((H, W), k, s, p, d))
    out, idx = np.zeros((N, C, OH, OW)), np.zeros((N, C, OH, OW), np.int64)
    for n in range(N):
        for c in range(C):
            for oy in range(OH):
                for ox in range(OW):
                    pos = [(oy * s[0] - p[0] + i * d[0], ox * s[1] - p[1] + j * d[1])
                           for i in range(k[0]) for j in range(k[1])]
                    pos = [(a, b) for a, b in pos if 0 <= a < H and 0 <= b < W]
                    best, bi = -np.inf, pos[0][0] * W + pos[0][1]
                    for a, b in pos:
                        v = x[n, c, a, b]
                        if v > best or np.isnan(v):
                            best, bi = v, a * W + b
                    out[n, c, oy, ox], idx[n, c, oy, ox] = best, bi
    return out, idx


def avg_pool_loop(x, k, s, p, ceil, count_include_pad):
    N, C, H, W = x.shape
    OH, OW = (out_len(n, kk, ss, pp, 1, ceil) for n, kk, ss, pp in zip((H, W), k, s, p))
    out = np.zeros((N, C, OH, OW))
    for oy in range(OH):
        for ox in range(OW):
            h0, w0 = oy * s[0] - p[0], ox * s[1] - p[1]
            h1, w1 = min(h0 + k[0], H + p[0]), min(w0 + k[1], W + p[1])
            size = (h1 - h0) * (w1 - w0)
            a0, b0, a1, b1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
            div = size if count_include_pad else (a1 - a0) * (b1 - b0)
            out[:, :, oy, ox] = x[:, :, a0:a1, b0:b1].sum(axis=(2, 3)) / div
    return out


@st.composite
def pool_configs(draw, dilation=True, max_side=9):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ceil = draw(st.booleans())
    size = tuple(draw(st.integers(max(1, dd * (kk - 1) + 1 - 2 * pp), max_side)) for kk, pp, dd in zip(k, p, d))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    for size_, kk, ss, pp, dd in zip(size, k, s, p, d):
        o = out_len(size_, kk, ss, pp, dd, ceil)
        # windows that hold only padding are refused (test_errors); draw configurations without them
        assume(all(any(0 <= i * ss - pp + t * dd < size_ for t in range(kk)) for i in range(o)))
    return dict(k=k, s=s, p=p, d=d, ceil=ceil, shape=(n, c) + size, seed=draw(st.integers(0, 2 ** 16)))


def distinct(shape, seed):
    """Values that are pairwise at least 0.01 apart, so max pooling has no ties (finite differences are exact)."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))) * 0.01 - 1.0).reshape(shape) * rng.choice([-1, 1])


# -- max pooling -------------------------------------------------------------------------------
@settings(max_examples=30)
@given(pool_configs())
def test_max_pool2d_matches_loop(cfg):
    x = np.random.default_rng(cfg["seed"]).integers(-3, 3, cfg["shape"]).astype(np.float64)  # many ties
    out, idx = ag.max_pool2d(ag.tensor(x), cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil"], return_indices=True)
    want, want_idx = max_pool_loop(x, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil"])
    np.testing.assert_array_equal(out._data, want)
    np.testing.assert_array_equal(idx._data, want_idx)
    assert idx.dtype == np.int64
    # the gradient goes to the argmax of each window (overlapping windows add up)
    xt = ag.tensor(x, requires_grad=True)
    g = np.random.default_rng(cfg["seed"]).standard_normal(want.shape)
    ag.max_pool2d(xt, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil"]).backward(g)
    gw = np.zeros(x.shape)
    for n, c, oy, ox in np.ndindex(*want.shape):
        gw[n, c].flat[want_idx[n, c, oy, ox]] += g[n, c, oy, ox]
    np.testing.assert_allclose(xt.grad._data, gw, atol=1e-12)


@settings(max_examples=15)
@given(pool_configs(max_side=6))
def test_max_pool2d_gradcheck(cfg):
    x = ag.tensor(distinct(cfg["shape"], cfg["seed"]), requires_grad=True)
    gradcheck(lambda x: ag.max_pool2d(x, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil"]), (x,),
              n_cotangents=1)


@pytest.mark.parametrize("k, s, p", [(3, 2, 1), (3, 1, 1), (2, 2, 0)])
def test_max_pool2d_gradgradcheck(k, s, p):
    x = ag.tensor(distinct((1, 2, 5, 5), 0), requires_grad=True)
    gradgradcheck(lambda x: ag.max_pool2d(x, k, s, p), (x,))


@pytest.mark.parametrize("s", [2, 1])
def test_overlapping_windows_3x3(s):
    """3x3 windows with stride 2 and stride 1 overlap: one input can be the max of several windows."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 5.0   # the max of every window that contains it
    xt = ag.tensor(x, requires_grad=True)
    y = ag.max_pool2d(xt, 3, s)
    assert y.shape == ((1, 1, 2, 2) if s == 2 else (1, 1, 3, 3))
    np.testing.assert_array_equal(y._data, 5.0)
    y.sum().backward()
    assert xt.grad._data[0, 0, 2, 2] == y._data.size       # one unit from each window
    assert xt.grad._data.sum() == y._data.size
    # avg pooling spreads each window's gradient over its 9 inputs
    xa = ag.tensor(x, requires_grad=True)
    ya = ag.avg_pool2d(xa, 3, s)
    np.testing.assert_allclose(ya._data, 5.0 / 9)
    ya.sum().backward()
    counts = np.zeros((5, 5))
    for oy in range(ya.shape[2]):
        for ox in range(ya.shape[3]):
            counts[oy * s:oy * s + 3, ox * s:ox * s + 3] += 1
    np.testing.assert_allclose(xa.grad._data[0, 0], counts / 9)


def test_max_pool2d_ties_go_to_first_max():
    x = ag.ones(1, 1, 4, 4, dtype="float64", requires_grad=True)
    y, idx = ag.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx._data[0, 0], [[0, 2], [8, 10]])
    y.sum().backward()
    want = np.zeros((4, 4))
    want[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad._data[0, 0], want)


def test_max_pool2d_nan_and_neg_inf():
    x = np.full((1, 1, 2, 4), -np.inf)
    x[0, 0, 1, 3] = np.nan
    y, idx = ag.max_pool2d(ag.tensor(x), 2, return_indices=True)
    assert y._data[0, 0, 0, 0] == -np.inf and idx._data[0, 0, 0, 0] == 0   # all -inf: the first position
    assert np.isnan(y._data[0, 0, 0, 1]) and idx._data[0, 0, 0, 1] == 7    # NaN propagates


def test_max_pool2d_float32_and_unbatched():
    x = ag.tensor(np.arange(32, dtype=np.float32).reshape(2, 4, 4), requires_grad=True)
    y = ag.max_pool2d(x, 2)
    assert y.shape == (2, 2, 2) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad._data.sum() == 8


# -- average pooling ---------------------------------------------------------------------------
@settings(max_examples=30)
@given(pool_configs(dilation=False), st.booleans())
def test_avg_pool2d_matches_loop(cfg, cip):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    y = ag.avg_pool2d(ag.tensor(x), cfg["k"], cfg["s"], cfg["p"], cfg["ceil"], cip)
    np.testing.assert_allclose(y._data, avg_pool_loop(x, cfg["k"], cfg["s"], cfg["p"], cfg["ceil"], cip), atol=1e-12)


@settings(max_examples=15)
@given(pool_configs(dilation=False, max_side=6), st.booleans())
def test_avg_pool2d_gradcheck(cfg, cip):
    x = ag.tensor(np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"]), requires_grad=True)
    gradcheck(lambda x: ag.avg_pool2d(x, cfg["k"], cfg["s"], cfg["p"], cfg["ceil"], cip), (x,), n_cotangents=1)


def test_avg_pool2d_gradgradcheck():
    x = ag.tensor(np.random.default_rng(0).standard_normal((1, 2, 5, 4)), requires_grad=True)
    gradgradcheck(lambda x: ag.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))


# -- adaptive average pooling, upsampling ------------------------------------------------------
def adaptive_loop(x, OH, OW):
    N, C, H, W = x.shape
    out = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            a, b = (i * H) // OH, -(-((i + 1) * H) // OH)
            c, d = (j * W) // OW, -(-((j + 1) * W) // OW)
            out[:, :, i, j] = x[:, :, a:b, c:d].mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("size, want", [(1, (1, 1)), ((1, 1), (1, 1)), ((2, 3), (2, 3)), ((3, 5), (3, 5)),
                                        ((4, None), (4, 6)), (7, (7, 7))])
def test_adaptive_avg_pool2d(size, want):
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 6))
    xt = ag.tensor(x, requires_grad=True)
    y = ag.adaptive_avg_pool2d(xt, size)
    assert y.shape == (2, 3) + want
    np.testing.assert_allclose(y._data, adaptive_loop(x, *want), atol=1e-12)
    gradcheck(lambda x: ag.adaptive_avg_pool2d(x, size), (ag.tensor(x[:1, :2], requires_grad=True),),
              n_cotangents=1)


@settings(max_examples=15)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 99))
def test_upsample_nearest2d(sh, sw, h, w, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    y = ag.upsample_nearest2d(ag.tensor(x), (sh, sw))
    want = np.repeat(np.repeat(x, sh, axis=2), sw, axis=3)
    np.testing.assert_array_equal(y._data, want)
    gradcheck(lambda x: ag.upsample_nearest2d(x, (sh, sw)), (ag.tensor(x, requires_grad=True),), n_cotangents=1)


def test_upsample_gradgradcheck():
    x = ag.tensor(np.random.default_rng(1).standard_normal((1, 2, 3, 2)), requires_grad=True)
    gradgradcheck(lambda x: ag.upsample_nearest2d(x, 2) ** 2, (x,))


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, args, words", [
    (ag.max_pool2d, ((1, 1, 4, 4), 3, 1, 2), ["max_pool2d", "padding", "half"]),
    (ag.max_pool2d, ((1, 1, 2, 2), 3), ["max_pool2d", "too small", "(1, 1, 2, 2)"]),
    (ag.max_pool2d, ((1, 1, 4, 4), 0), ["max_pool2d", "kernel_size"]),
    (ag.max_pool2d, ((1, 1, 4, 4), 2, 0), ["max_pool2d", "stride"]),
    (ag.max_pool2d, ((4, 4), 2), ["max_pool2d", "(4, 4)"]),
    (ag.avg_pool2d, ((1, 1, 4, 4), 2, 1, 2), ["avg_pool2d", "padding"]),
    (ag.avg_pool2d, ((1, 1, 1, 4), 2), ["avg_pool2d", "too small"]),
    (ag.adaptive_avg_pool2d, ((1, 1, 4, 4), 0), ["adaptive_avg_pool2d", "output_size"]),
    (ag.upsample_nearest2d, ((1, 1, 4, 4), 1.5), ["upsample_nearest2d", "scale_factor"]),
    (ag.max_pool2d, ((1, 1, 1, 2), (1, 2), 1, (0, 1), 3), ["max_pool2d", "no input element"]),
])
def test_errors(fn, args, words):
    with pytest.raises(ValueError) as e:
        fn(ag.zeros(*args[0]), *args[1:])
    for word in words:
        assert word in str(e.value), (word, str(e.value))


# -- PyTorch parity ----------------------------------------------------------------------------
@settings(max_examples=20)
@given(pool_configs())
def test_pools_match_torch(cfg):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = distinct(cfg["shape"], cfg["seed"])
    xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, i = ag.max_pool2d(xa, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil"], return_indices=True)
    yt, it = F.max_pool2d(xt, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil"], return_indices=True)
    np.testing.assert_array_equal(y._data, yt.detach().numpy())
    np.testing.assert_array_equal(i._data, it.numpy())
    g = np.random.default_rng(cfg["seed"]).standard_normal(y.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xa.grad._data, xt.grad.numpy(), atol=1e-12)
    for cip in (True, False):
        xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = ag.avg_pool2d(xa, cfg["k"], cfg["s"], cfg["p"], cfg["ceil"], cip)
        yt = F.avg_pool2d(xt, cfg["k"], cfg["s"], cfg["p"], cfg["ceil"], cip)
        np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-12)
        g = np.random.default_rng(cfg["seed"]).standard_normal(y.shape)
        y.backward(g)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xa.grad._data, xt.grad.numpy(), atol=1e-12)


def test_max_pool2d_ties_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).integers(0, 2, (2, 3, 7, 7)).astype(np.float64)
    for k, s in ((3, 2), (3, 1), (2, 2)):
        xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ag.max_pool2d(xa, k, s).sum().backward()
        torch.nn.functional.max_pool2d(xt, k, s).sum().backward()
        np.testing.assert_array_equal(xa.grad._data, xt.grad.numpy())


def test_adaptive_and_upsample_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 7))
    for size in (1, (3, 2), (4, 5), (9, 7)):
        np.testing.assert_allclose(ag.adaptive_avg_pool2d(ag.tensor(x), size)._data,
                                   F.adaptive_avg_pool2d(torch.tensor(x), size).numpy(), atol=1e-12)
    np.testing.assert_array_equal(ag.upsample_nearest2d(ag.tensor(x), (2, 3))._data,
                                  F.interpolate(torch.tensor(x), scale_factor=(2, 3), mode="nearest").numpy())

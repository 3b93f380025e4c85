"""Layers: output shapes and a float64 gradcheck of each layer as a whole (parameters and input) over
hypothesis-drawn configurations; default initialization; functional forms (pad, interpolate, one_hot)."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck

F64 = np.float64


def rand_input(shape, seed=0, scale=1.0):
    return ag.Tensor(np.random.default_rng(seed).normal(0, scale, shape), requires_grad=True)


def check_layer(layer, x, **kw):
    """gradcheck of ``layer(x)`` w.r.t. x and every parameter of the layer."""
    params = tuple(layer.parameters())
    assert all(p.dtype == F64 for p in params)
    assert gradcheck(lambda x, *ps: layer(x), (x,) + params, **kw)


def conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


# -- Linear ---------------------------------------------------------------------------------------
@given(lead=st.lists(st.integers(1, 3), max_size=2).map(tuple), fin=st.integers(1, 4), fout=st.integers(1, 4),
       bias=st.booleans(), seed=st.integers(0, 1000))
def test_linear_shape_and_gradcheck(lead, fin, fout, bias, seed):
    ag.manual_seed(seed)
    layer = nn.Linear(fin, fout, bias=bias, dtype=F64)
    x = rand_input(lead + (fin,), seed)
    y = layer(x)
    assert y.shape == lead + (fout,)
    np.testing.assert_allclose(y._data, x._data @ layer.weight._data.T + (layer.bias._data if bias else 0))
    check_layer(layer, x)


def test_linear_errors():
    with pytest.raises(ValueError, match=r"linear: input shape \(2, 5\) doesn't match weight shape \(4, 3\)"):
        nn.Linear(3, 4)(ag.ones(2, 5))
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 4)
    with pytest.raises(ValueError, match="out_features must be a non-negative int"):
        nn.Linear(3, 2.5)


# -- Conv2d / ConvTranspose2d -----------------------------------------------------------------------
conv_cfg = st.fixed_dictionaries(dict(
    n=st.integers(1, 2), groups=st.integers(1, 2), cin_g=st.integers(1, 2), cout_g=st.integers(1, 2),
    k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1), dilation=st.integers(1, 2),
    h=st.integers(1, 6), w=st.integers(1, 6), bias=st.booleans(), seed=st.integers(0, 1000)))


@given(cfg=conv_cfg)
def test_conv2d_shape_and_gradcheck(cfg):
    c = cfg
    oh, ow = (conv_out(s, c["k"], c["stride"], c["padding"], c["dilation"]) for s in (c["h"], c["w"]))
    assume(oh >= 1 and ow >= 1)
    ag.manual_seed(c["seed"])
    cin, cout = c["cin_g"] * c["groups"], c["cout_g"] * c["groups"]
    layer = nn.Conv2d(cin, cout, c["k"], stride=c["stride"], padding=c["padding"], dilation=c["dilation"],
                      groups=c["groups"], bias=c["bias"], dtype=F64)
    assert layer.weight.shape == (cout, c["cin_g"], c["k"], c["k"])
    x = rand_input((c["n"], cin, c["h"], c["w"]), c["seed"])
    assert layer(x).shape == (c["n"], cout, oh, ow)
    check_layer(layer, x)


@given(cfg=conv_cfg, extra=st.integers(0, 1))
def test_conv_transpose2d_shape_and_gradcheck(cfg, extra):
    c = cfg
    out_pad = min(extra, max(c["stride"], c["dilation"]) - 1)
    oh, ow = ((s - 1) * c["stride"] - 2 * c["padding"] + c["dilation"] * (c["k"] - 1) + out_pad + 1
              for s in (c["h"], c["w"]))
    assume(oh >= 1 and ow >= 1 and c["h"] <= 4 and c["w"] <= 4)
    ag.manual_seed(c["seed"])
    cin, cout = c["cin_g"] * c["groups"], c["cout_g"] * c["groups"]
    layer = nn.ConvTranspose2d(cin, cout, c["k"], stride=c["stride"], padding=c["padding"], output_padding=out_pad,
                               groups=c["groups"], bias=c["bias"], dilation=c["dilation"], dtype=F64)
    assert layer.weight.shape == (cin, c["cout_g"], c["k"], c["k"])
    x = rand_input((c["n"], cin, c["h"], c["w"]), c["seed"])
    assert layer(x).shape == (c["n"], cout, oh, ow)
    check_layer(layer, x)


def test_conv_transpose2d_output_size():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = ag.randn(1, 2, 4, 4)
    assert layer(x).shape == (1, 3, 7, 7)
    assert layer(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    assert layer(x, output_size=(1, 3, 8, 7)).shape == (1, 3, 8, 7)
    with pytest.raises(ValueError, match="requested output size"):
        layer(x, output_size=(10, 10))


def test_conv_errors_name_the_layer():
    with pytest.raises(ValueError, match="Conv2d: expected 3 input channels"):
        nn.Conv2d(3, 4, 3)(ag.ones(1, 2, 5, 5))
    with pytest.raises(ValueError, match=r"Conv2d: expected a 4-D input \(N, C, H, W\)"):
        nn.Conv2d(3, 4, 3)(ag.ones(3, 5, 5, 1, 1))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")  # reflect, replicate, circular are supported
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(3, 4, (1, 2, 3))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(3, 4, 3, stride=1, output_padding=1)
    assert nn.Conv2d(2, 2, 3, padding="same")(ag.ones(1, 2, 5, 4)).shape == (1, 2, 5, 4)


# -- pooling ---------------------------------------------------------------------------------------
@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(2, 6), w=st.integers(2, 6), k=st.integers(1, 3),
       stride=st.sampled_from([None, 1, 2]), padding=st.integers(0, 1), ceil_mode=st.booleans(),
       seed=st.integers(0, 1000), kind=st.sampled_from(["max", "avg", "avg_nopad"]))
def test_pooling_shape_and_gradcheck(n, c, h, w, k, stride, padding, ceil_mode, seed, kind):
    assume(padding <= k // 2 and k <= min(h, w) + 2 * padding)
    s = stride or k
    if kind == "max":
        layer = nn.MaxPool2d(k, stride, padding, ceil_mode=ceil_mode)
    else:
        layer = nn.AvgPool2d(k, stride, padding, ceil_mode=ceil_mode, count_include_pad=(kind == "avg"))

    def out_len(size):
        num = size + 2 * padding - k
        o = (-(-num // s) if ceil_mode else num // s) + 1
        if ceil_mode and (o - 1) * s >= size + padding:
            o -= 1
        return o

    x = rand_input((n, c, h, w), seed)
    y = layer(x)
    assert y.shape == (n, c, out_len(h), out_len(w))
    check_layer(layer, x)


def test_maxpool_return_indices_and_adaptive():
    x = ag.Tensor(np.arange(16, dtype=F64).reshape(1, 1, 4, 4))
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(out._data.ravel(), [5, 7, 13, 15])
    np.testing.assert_array_equal(np.asarray(idx._data if isinstance(idx, ag.Tensor) else idx).ravel(),
                                  [5, 7, 13, 15])
    gap = nn.AdaptiveAvgPool2d(1)
    assert gap(x).shape == (1, 1, 1, 1) and gap(x)._data.item() == 7.5


@given(size=st.sampled_from([1, 2, 3, (2, 3), (3, 1)]), h=st.integers(3, 6), w=st.integers(3, 6),
       seed=st.integers(0, 1000))
def test_adaptive_avg_pool_gradcheck(size, h, w, seed):
    layer = nn.AdaptiveAvgPool2d(size)
    x = rand_input((1, 2, h, w), seed)
    oh, ow = (size, size) if isinstance(size, int) else size
    assert layer(x).shape == (1, 2, oh, ow)
    check_layer(layer, x)


# -- normalization -----------------------------------------------------------------------------------
@given(n=st.integers(2, 4), c=st.integers(1, 3), spatial=st.sampled_from([(), (3,), (2, 2)]),
       affine=st.booleans(), training=st.booleans(), momentum=st.sampled_from([0.1, None]),
       seed=st.integers(0, 1000))
def test_batchnorm_shape_and_gradcheck(n, c, spatial, affine, training, momentum, seed):
    layer = (nn.BatchNorm2d if len(spatial) == 2 else nn.BatchNorm1d)(c, affine=affine, momentum=momentum,
                                                                     dtype=F64)
    rng = np.random.default_rng(seed)
    with ag.no_grad():  # give eval mode non-trivial statistics
        layer.running_mean._data[...] = rng.normal(size=c)
        layer.running_var._data[...] = rng.uniform(0.5, 2, c)
        if affine:
            layer.weight._data[...] = rng.uniform(0.5, 2, c)
            layer.bias._data[...] = rng.normal(size=c)
    layer.train(training)
    x = rand_input((n, c) + spatial, seed, scale=2.0)
    y = layer(x)
    assert y.shape == x.shape
    if training and not affine:
        axes = (0,) + tuple(range(2, x.ndim))
        np.testing.assert_allclose(y._data.mean(axis=axes), 0, atol=1e-10)
    check_layer(layer, x, atol=1e-5, rtol=1e-3)


def test_batchnorm_running_stats_like_pytorch():
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(3, dtype=F64)
    cum = nn.BatchNorm1d(3, momentum=None, dtype=F64)
    rm, rv = np.zeros(3), np.ones(3)
    batches = [rng.normal(2, 3, (5, 3)) for _ in range(4)]
    for b in batches:
        bn(ag.Tensor(b))
        cum(ag.Tensor(b))
        rm = 0.9 * rm + 0.1 * b.mean(0)
        rv = 0.9 * rv + 0.1 * b.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean._data, rm)
    np.testing.assert_allclose(bn.running_var._data, rv)
    assert int(bn.num_batches_tracked._data) == 4
    allb = np.stack(batches)
    np.testing.assert_allclose(cum.running_mean._data, allb.mean(axis=(1,)).mean(0))  # cumulative average
    np.testing.assert_allclose(cum.running_var._data, allb.var(axis=1, ddof=1).mean(0))
    bn.eval()
    x = rng.normal(size=(2, 3))
    np.testing.assert_allclose(bn(ag.Tensor(x))._data, (x - rm) / np.sqrt(rv + 1e-5))
    with pytest.raises(ValueError, match="BatchNorm1d: expected more than 1 value per channel"):
        bn.train()(ag.ones(1, 3))
    assert int(bn.num_batches_tracked._data) == 4  # the failed call changed nothing
    with pytest.raises(ValueError, match="BatchNorm2d: expected 4-D input"):
        nn.BatchNorm2d(3)(ag.ones(2, 3))
    with pytest.raises(ValueError, match="expected 3 features/channels"):
        nn.BatchNorm1d(3)(ag.ones(2, 4))


def test_batchnorm_without_running_stats():
    bn = nn.BatchNorm2d(2, track_running_stats=False)
    assert bn.running_mean is None and list(bn.state_dict()) == ["weight", "bias"]
    x = ag.randn(3, 2, 2, 2)
    np.testing.assert_array_equal(bn(x)._data, bn.eval()(x)._data)  # batch statistics in eval too


@given(lead=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
       norm=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple), affine=st.booleans(),
       bias=st.booleans(), seed=st.integers(0, 1000))
def test_layernorm_shape_and_gradcheck(lead, norm, affine, bias, seed):
    assume(int(np.prod(norm)) > 1)
    layer = nn.LayerNorm(norm, elementwise_affine=affine, bias=bias, dtype=F64)
    if affine:
        rng = np.random.default_rng(seed)
        layer.weight._data[...] = rng.uniform(0.5, 2, norm)
        if bias:
            layer.bias._data[...] = rng.normal(size=norm)
    x = rand_input(lead + norm, seed, scale=2.0)
    y = layer(x)
    assert y.shape == x.shape
    check_layer(layer, x)
    with pytest.raises(ValueError, match="layer_norm"):
        layer(ag.ones(*(lead + norm + (7,))))


# -- dropout -------------------------------------------------------------------------------------
def test_dropout_train_eval_and_gradcheck():
    gen = ag.Generator(0)
    layer = nn.Dropout(0.3, generator=gen)
    x = rand_input((4, 5))

    def fn(x):
        gen.manual_seed(1)  # the same mask on every call, so finite differences see one function
        return layer(x)

    assert gradcheck(fn, (x,))
    y = fn(x)._data
    kept = y != 0
    np.testing.assert_allclose(y[kept], x._data[kept] / 0.7)
    layer.eval()
    assert layer(x) is x or np.array_equal(layer(x)._data, x._data)
    big = nn.Dropout(0.25)(ag.ones(200, 200))._data
    assert abs((big == 0).mean() - 0.25) < 0.01 and set(np.unique(big)) <= {0.0, np.float32(1 / 0.75)}
    assert not nn.Dropout(1.0)(ag.ones(3))._data.any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# -- shape layers --------------------------------------------------------------------------------
def test_flatten_unflatten_identity():
    x = rand_input((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Unflatten(-2, (2, -1))(x).shape == (2, 3, 2, 2, 5)
    assert nn.Unflatten(1, (-1, 4, 5))(nn.Flatten()(x)).shape == (2, 3, 4, 5)
    with pytest.raises(ValueError, match="can't be split"):
        nn.Unflatten(1, (7, 7))(ag.ones(2, 60))
    assert nn.Identity(54, unused="x")(x) is x
    check_layer(nn.Sequential(nn.Flatten(), nn.Unflatten(1, (12, 5))), x)


@given(scale=st.sampled_from([2, 3, 1.5, 0.5, (2, 1)]), h=st.integers(1, 4), w=st.integers(1, 4),
       seed=st.integers(0, 1000))
def test_upsample_shape_and_gradcheck(scale, h, w, seed):
    layer = nn.Upsample(scale_factor=scale)
    sh, sw = (scale, scale) if not isinstance(scale, tuple) else scale
    oh, ow = int(math.floor(h * sh)), int(math.floor(w * sw))
    assume(oh >= 1 and ow >= 1)
    x = rand_input((1, 2, h, w), seed)
    assert layer(x).shape == (1, 2, oh, ow)
    check_layer(layer, x)


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(scale_factor=1.5), dict(scale_factor=(2, 3)),
                                dict(size=(7, 5)), dict(size=4), dict(scale_factor=0.6)])
def test_interpolate_matches_torch(kw):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    ours = F.interpolate(ag.Tensor(x), **kw)._data
    ref = torch.nn.functional.interpolate(torch.tensor(x), mode="nearest", **kw).numpy()
    np.testing.assert_array_equal(ours, ref)


@given(h=st.integers(1, 4), w=st.integers(1, 4), oh=st.integers(1, 6), ow=st.integers(1, 6),
       align=st.sampled_from([False, True]), seed=st.integers(0, 1000))
def test_bicubic_gradcheck(h, w, oh, ow, align, seed):
    x = rand_input((1, 2, h, w), seed)
    assert gradcheck(lambda t: F.interpolate(t, size=(oh, ow), mode="bicubic", align_corners=align), (x,))


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(scale_factor=1.5), dict(scale_factor=(0.5, 3)),
                                dict(size=(7, 3)), dict(size=(1, 1))])
@pytest.mark.parametrize("align", [False, True])
def test_bicubic_matches_torch(kw, align):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    v = np.random.default_rng(1).normal(size=torch.nn.functional.interpolate(
        torch.tensor(x), mode="bicubic", align_corners=align, **kw).shape)
    a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = F.interpolate(a, mode="bicubic", align_corners=align, **kw)
    yt = torch.nn.functional.interpolate(t, mode="bicubic", align_corners=align, **kw)
    np.testing.assert_allclose(ya._data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (ya * ag.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(a.grad._data, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_bicubic_by_hand():
    # a ramp is reproduced away from the border (the cubic kernel is exact on lines); at 0.5 the pixel
    # left of 0 repeats pixel 0, so the weights w(1.5), w(0.5), w(0.5), w(1.5) = -3/32, 19/32, 19/32,
    # -3/32 meet the values 0, 0, 1, 2: 19/32 - 6/32 = 13/32; it overshoots at a step
    ramp = ag.tensor(np.arange(4.0).reshape(1, 1, 1, 4))
    y = F.interpolate(ramp, size=(1, 7), mode="bicubic", align_corners=True)._data.ravel()
    np.testing.assert_allclose(y, [0.0, 13 / 32, 1.0, 1.5, 2.0, 3 - 13 / 32, 3.0], atol=1e-12)
    step = ag.tensor(np.array([0.0, 0.0, 1.0, 1.0]).reshape(1, 1, 1, 4))
    y = F.interpolate(step, scale_factor=(1, 2), mode="bicubic")._data.ravel()
    assert y.min() < 0.0 and y.max() > 1.0
    np.testing.assert_allclose(y[[0, -1]], [0.0, 1.0], atol=0.05)
    with pytest.raises(ValueError, match="4-D"):
        F.interpolate(ag.zeros(1, 1, 4), scale_factor=2, mode="bicubic")


def test_interpolate_to_an_empty_size_is_refused():
    with pytest.raises(ValueError, match="every output size must be positive"):
        F.interpolate(ag.zeros(1, 1, 1, 7), scale_factor=(0.5, 2.5), mode="bilinear")


# -- activations ----------------------------------------------------------------------------------
ACTIVATIONS = [nn.ReLU(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.Sigmoid(),
               nn.Tanh(), nn.Softplus(beta=2.0, threshold=5.0), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1)]


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=lambda m: repr(m))
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=3).map(tuple), seed=st.integers(0, 1000))
def test_activation_shape_and_gradcheck(layer, shape, seed):
    x = rand_input(shape, seed, scale=2.0)
    x._data[np.abs(x._data) < 1e-3] = 0.5  # away from the kink of relu-like functions
    y = layer(x)
    assert y.shape == shape
    check_layer(layer, x)


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=lambda m: repr(m))
def test_activations_match_torch(layer):
    torch = pytest.importorskip("torch")
    name = type(layer).__name__
    kwargs = {k: getattr(layer, k) for k in ("negative_slope", "alpha", "approximate", "beta", "threshold", "dim")
              if hasattr(layer, k) and k in getattr(torch.nn, name).__init__.__code__.co_varnames}
    ref_layer = getattr(torch.nn, name)(**kwargs)
    x = np.random.default_rng(0).normal(0, 3, (4, 5))
    xt = torch.tensor(x, requires_grad=True)
    ours_x = ag.Tensor(x, requires_grad=True)
    y = layer(ours_x)
    yt = ref_layer(xt)
    np.testing.assert_allclose(y._data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).normal(size=x.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ours_x.grad._data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert repr(layer) == repr(ref_layer)


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(ag.randn(2, 3))
    np.testing.assert_allclose(out._data.sum(1), 1, rtol=1e-6)


# -- default initialization ---------------------------------------------------------------------------
def test_default_init_bounds_like_pytorch():
    ag.manual_seed(0)
    lin = nn.Linear(200, 300)
    bound = 1 / math.sqrt(200)
    for p in (lin.weight, lin.bias):
        assert np.abs(p._data).max() <= bound
        assert np.abs(p._data).max() > 0.95 * bound
    assert abs(lin.weight._data.std() - bound / math.sqrt(3)) < 0.01 * bound
    conv = nn.Conv2d(8, 16, (3, 5), groups=2)
    b = 1 / math.sqrt(4 * 3 * 5)
    assert b * 0.9 < np.abs(conv.weight._data).max() <= b and np.abs(conv.bias._data).max() <= b
    convt = nn.ConvTranspose2d(8, 12, 3, groups=2)
    assert convt.weight.shape == (8, 6, 3, 3)
    b = 1 / math.sqrt(6 * 9)  # PyTorch's fan_in for a transposed conv weight (in, out/groups, kh, kw)
    assert b * 0.9 < np.abs(convt.weight._data).max() <= b and np.abs(convt.bias._data).max() <= b
    bn, ln = nn.BatchNorm2d(4), nn.LayerNorm((2, 3))
    assert (bn.weight._data == 1).all() and (bn.bias._data == 0).all()
    assert (bn.running_mean._data == 0).all() and (bn.running_var._data == 1).all()
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert (ln.weight._data == 1).all() and (ln.bias._data == 0).all()
    assert lin.weight.dtype == np.float32


def test_default_init_bounds_match_torch_layers():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for ours, ref in [(nn.Linear(50, 40), torch.nn.Linear(50, 40)),
                      (nn.Conv2d(6, 8, 3, groups=2), torch.nn.Conv2d(6, 8, 3, groups=2)),
                      (nn.ConvTranspose2d(6, 8, 3, groups=2), torch.nn.ConvTranspose2d(6, 8, 3, groups=2))]:
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), ref.named_parameters()):
            assert n1 == n2 and p1.shape == tuple(p2.shape)
            mo, mr = np.abs(p1._data).max(), p2.detach().abs().max().item()
            assert 0.8 < mo / mr < 1.25, (type(ours).__name__, n1)


def test_manual_seed_makes_models_reproducible():
    def build():
        return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 3 * 3, 4))

    nn.manual_seed(42)
    a = build()
    nn.manual_seed(42)
    b = build()
    c = build()
    for (ka, va), (kb, vb), (_, vc) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        np.testing.assert_array_equal(va._data, vb._data)
        assert not np.array_equal(va._data, vc._data)


# -- functional helpers --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,pad", [("constant", (1, 2)), ("constant", (1, 0, 2, 1)), ("constant", (-1, 2, 0, -2)),
                                      ("reflect", (2, 1)), ("reflect", (1, 2, 2, 0)), ("replicate", (3, 1, 0, 2)),
                                      ("circular", (2, 3, 1, 1))])
def test_pad_matches_torch_and_gradchecks(mode, pad):
    kw = {"value": 1.5} if mode == "constant" else {}
    assert gradcheck(lambda x: F.pad(x, pad, mode=mode, **kw), (rand_input((2, 3, 4)),))
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(3, 4, 5))  # 3-D: PyTorch accepts every pad length here
    out = F.pad(ag.Tensor(x), pad, mode=mode, **kw)
    ref = torch.nn.functional.pad(torch.tensor(x), pad, mode=mode, **kw).numpy()
    np.testing.assert_array_equal(out._data, ref)


def test_pad_errors():
    with pytest.raises(ValueError, match="even length"):
        F.pad(ag.ones(2, 2), (1,))
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(ag.ones(1, 2, 3), (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(ag.ones(1, 2, 3), (1, 1), mode="wrap")


def test_one_hot():
    out = F.one_hot(ag.tensor([0, 2, 1]), 4)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out._data, np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(np.array([[1], [3]])).shape == (2, 1, 4)
    with pytest.raises(ValueError, match="out of range"):
        F.one_hot(np.array([5]), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(ag.tensor([0.5]))


def test_functional_reexports_core_ops():
    assert F.conv2d is ag.conv2d and F.max_pool2d is ag.max_pool2d and F.batch_norm is ag.batch_norm
    x = ag.randn(2, 3, requires_grad=True)
    F.linear(x, ag.randn(4, 3), ag.zeros(4)).sum().backward()
    assert x.grad.shape == (2, 3)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("shape,kw", [((1, 2, 5, 7), dict(scale_factor=0.5)), ((1, 2, 5, 7), dict(scale_factor=1.7)),
                                      ((2, 1, 6, 4), dict(size=(3, 5))), ((2, 1, 6, 4), dict(size=(9, 11))),
                                      ((1, 2, 5, 7), dict(scale_factor=0.6, recompute_scale_factor=True)),
                                      ((2, 3, 7), dict(size=4)), ((2, 3, 7), dict(scale_factor=2))])
def test_interpolate_nearest_modes_match_torch(mode, shape, kw):
    """'nearest' (floor(i s)) and 'nearest-exact' (floor((i + 0.5) s)) pick PyTorch's pixels, so values and
    the gradient's scatter back agree (float64)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape)
    x, tx = ag.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    a = F.interpolate(x, mode=mode, **kw)
    b = torch.nn.functional.interpolate(tx, mode=mode, **kw)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    w = rng.standard_normal(tuple(b.shape))
    (a * ag.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)

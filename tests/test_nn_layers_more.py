"""Dropout1d/2d/3d (whole channels), GroupNorm, InstanceNorm1d/2d/3d, RMSNorm, PixelShuffle/Unshuffle: values,
float64 gradchecks over hypothesis-drawn shapes, running statistics, errors, and parity with PyTorch
(values, gradients, state-dict names and shapes) when it is installed."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck

F64 = np.float64


def rand(shape, seed=0, requires_grad=True):
    return ag.Tensor(np.random.default_rng(seed).normal(0, 1, shape), requires_grad=requires_grad)


# -- channel dropout ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls, shape", [(nn.Dropout1d, (4, 16, 5)), (nn.Dropout1d, (16, 5)),
                                        (nn.Dropout2d, (4, 16, 3, 3)), (nn.Dropout3d, (2, 16, 2, 2, 2)),
                                        (nn.Dropout3d, (16, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    ag.manual_seed(0)
    x = ag.Tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)  # no zeros of its own
    layer = cls(p=0.25)
    y = layer(x)
    batched_ndim = {nn.Dropout1d: 3, nn.Dropout2d: 4, nn.Dropout3d: 5}[cls]
    cdim = 1 if len(shape) == batched_ndim else 0  # the channel dim
    flat = y._data.reshape(shape[:cdim + 1] + (-1,))  # one row per channel
    zero = (flat == 0).all(-1)
    kept = (flat != 0).all(-1)
    assert (zero | kept).all()  # a channel is dropped or kept as a whole
    assert zero.any() and kept.any()
    xs = x._data.reshape(flat.shape)
    np.testing.assert_allclose(flat[kept], xs[kept] / 0.75, rtol=1e-12)
    g = np.random.default_rng(1).normal(0, 1, shape)
    (y * g).sum().backward()
    np.testing.assert_allclose(x.grad._data, g * (y._data / x._data), rtol=1e-12)  # same mask in the gradient
    layer.eval()
    assert layer(x) is x or np.array_equal(layer(x)._data, x._data)
    assert repr(layer) == f"{cls.__name__}(p=0.25, inplace=False)"


def test_channel_dropout_rate_and_edge_cases():
    ag.manual_seed(0)
    x = ag.ones(200, 100, 2)
    y = F.dropout1d(x, 0.3)
    dropped = (y._data[..., 0] == 0).mean()
    assert 0.27 < dropped < 0.33
    assert (F.dropout1d(x, 1.0)._data == 0).all()
    x4 = ag.ones(2, 3, 4, 5)
    assert F.dropout1d(x, 0.0) is x and F.dropout2d(x4, 0.5, training=False) is x4
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(ag.ones(2, 3, 4), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="3-D"):
        F.dropout1d(ag.ones(2, 3, 4, 5), 0.5)
    gen = ag.Generator(5)
    a = F.dropout2d(ag.ones(4, 8, 2, 2), 0.5, generator=gen)._data
    b = F.dropout2d(ag.ones(4, 8, 2, 2), 0.5, generator=ag.Generator(5))._data
    np.testing.assert_array_equal(a, b)


# -- GroupNorm ----------------------------------------------------------------------------------
@settings(max_examples=20)
@given(N=st.integers(1, 2), groups=st.integers(1, 3), per=st.integers(1, 2),
       spatial=st.lists(st.integers(1, 3), max_size=2).map(tuple), affine=st.booleans(), seed=st.integers(0, 999))
def test_group_norm_values_and_gradcheck(N, groups, per, spatial, affine, seed):
    C = groups * per
    ag.manual_seed(seed)
    gn = nn.GroupNorm(groups, C, affine=affine, dtype=F64)
    if affine:
        gn.weight._data[:] = np.random.default_rng(seed).normal(1, 0.5, C)
        gn.bias._data[:] = np.random.default_rng(seed + 1).normal(0, 0.5, C)
    x = rand((N, C) + spatial, seed)
    y = gn(x)
    xg = x._data.reshape(N, groups, -1)
    ref = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    if affine:
        shape = (1, C) + (1,) * len(spatial)
        ref = ref * gn.weight._data.reshape(shape) + gn.bias._data.reshape(shape)
    np.testing.assert_allclose(y._data, ref, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, *ps: gn(x), (x,) + tuple(gn.parameters()))


def test_group_norm_module_and_errors():
    gn = nn.GroupNorm(2, 6)
    assert list(gn.state_dict()) == ["weight", "bias"] and (gn.weight._data == 1).all()
    assert repr(gn) == "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"
    assert list(nn.GroupNorm(3, 6, affine=False).state_dict()) == []
    no_shift = nn.GroupNorm(3, 6, bias=False)
    assert list(no_shift.state_dict()) == ["weight"] and repr(no_shift).endswith("bias=False)")
    assert no_shift(ag.randn(2, 6, 3)).shape == (2, 6, 3)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"\(N, 6, \*\)"):
        gn(ag.ones(2, 4, 3))


# -- InstanceNorm -------------------------------------------------------------------------------
@settings(max_examples=20)
@given(dims=st.sampled_from([1, 2, 3]), N=st.integers(1, 2), C=st.integers(1, 3), size=st.integers(2, 3),
       affine=st.booleans(), batched=st.booleans(), seed=st.integers(0, 999))
def test_instance_norm_values_and_gradcheck(dims, N, C, size, affine, batched, seed):
    layer = getattr(nn, f"InstanceNorm{dims}d")(C, affine=affine, dtype=F64)
    shape = ((N,) if batched else ()) + (C,) + (size,) * dims
    x = rand(shape, seed)
    y = layer(x)
    flat = x._data.reshape(-1, size ** dims)
    ref = ((flat - flat.mean(-1, keepdims=True)) / np.sqrt(flat.var(-1, keepdims=True) + 1e-5)).reshape(shape)
    np.testing.assert_allclose(y._data, ref, rtol=1e-10, atol=1e-12)  # affine starts at ones / zeros
    assert gradcheck(lambda x, *ps: layer(x), (x,) + tuple(layer.parameters()))


def test_instance_norm_running_stats_and_eval():
    m = nn.InstanceNorm2d(3, momentum=0.2, track_running_stats=True, dtype=F64)
    assert [k for k in m.state_dict()] == ["running_mean", "running_var", "num_batches_tracked"]
    x = rand((4, 3, 2, 5), requires_grad=False)
    m(x)
    flat = x._data.reshape(4, 3, -1)
    np.testing.assert_allclose(m.running_mean._data, 0.8 * 0 + 0.2 * flat.mean(-1).mean(0), rtol=1e-12)
    np.testing.assert_allclose(m.running_var._data, 0.8 * 1 + 0.2 * flat.var(-1, ddof=1).mean(0), rtol=1e-12)
    m.eval()
    y = m(x)
    rm, rv = m.running_mean._data.reshape(1, 3, 1, 1), m.running_var._data.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(y._data, (x._data - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(ag.ones(2, 3, 1))
    with pytest.raises(ValueError, match="num_features"):
        nn.InstanceNorm1d(3, affine=True)(ag.ones(2, 4, 5))
    with pytest.warns(UserWarning, match="num_features"):
        nn.InstanceNorm1d(3)(ag.randn(2, 4, 5))
    with pytest.raises(ValueError, match="3-D"):
        nn.InstanceNorm2d(3)(ag.ones(3, 5))
    assert repr(nn.InstanceNorm2d(3)) == \
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    assert list(nn.InstanceNorm1d(3, affine=True, bias=False).state_dict()) == ["weight"]


# -- RMSNorm ------------------------------------------------------------------------------------
@given(lead=st.lists(st.integers(1, 3), max_size=2).map(tuple), norm=st.lists(st.integers(1, 3), min_size=1,
       max_size=2).map(tuple), affine=st.booleans(), eps=st.sampled_from([None, 1e-3]), seed=st.integers(0, 999))
def test_rms_norm_values_and_gradcheck(lead, norm, affine, eps, seed):
    layer = nn.RMSNorm(norm, eps=eps, elementwise_affine=affine, dtype=F64)
    if affine:
        layer.weight._data[...] = np.random.default_rng(seed).normal(1, 0.5, norm)
    x = rand(lead + norm, seed)
    axes = tuple(range(len(lead), len(lead) + len(norm)))
    e = np.finfo(F64).eps if eps is None else eps
    ref = x._data / np.sqrt((x._data ** 2).mean(axis=axes, keepdims=True) + e)
    if affine:
        ref = ref * layer.weight._data
    np.testing.assert_allclose(layer(x)._data, ref, rtol=1e-12)
    assert gradcheck(lambda x, *ps: layer(x), (x,) + tuple(layer.parameters()))


def test_rms_norm_module_and_errors():
    m = nn.RMSNorm(4)
    assert list(m.state_dict()) == ["weight"] and (m.weight._data == 1).all()
    assert repr(m) == "RMSNorm((4,), eps=None, elementwise_affine=True)"
    assert list(nn.RMSNorm(4, elementwise_affine=False).state_dict()) == []
    with pytest.raises(ValueError, match="trailing dims"):
        m(ag.ones(4, 3))


# -- PixelShuffle -------------------------------------------------------------------------------
@given(batch=st.lists(st.integers(1, 2), max_size=2).map(tuple), C=st.integers(1, 2), r=st.integers(1, 3),
       H=st.integers(1, 2), W=st.integers(1, 2), seed=st.integers(0, 999))
def test_pixel_shuffle_layout_roundtrip_and_gradcheck(batch, C, r, H, W, seed):
    x = rand(batch + (C * r * r, H, W), seed)
    y = nn.PixelShuffle(r)(x)
    assert y.shape == batch + (C, H * r, W * r)
    a, b = x._data, y._data
    for c in range(C):
        for i in range(r):
            for j in range(r):
                np.testing.assert_array_equal(b[..., c, i::r, j::r], a[..., c * r * r + i * r + j, :, :])
    np.testing.assert_array_equal(nn.PixelUnshuffle(r)(y)._data, a)
    assert gradcheck(lambda x: F.pixel_shuffle(x, r), (x,))
    assert gradcheck(lambda y: F.pixel_unshuffle(y, r), (ag.Tensor(b.copy(), requires_grad=True),))


def test_pixel_shuffle_errors_and_repr():
    with pytest.raises(ValueError, match="divisible by 4"):
        F.pixel_shuffle(ag.ones(1, 6, 2, 2), 2)
    with pytest.raises(ValueError, match="pixel_unshuffle"):
        F.pixel_unshuffle(ag.ones(1, 1, 3, 2), 2)
    assert repr(nn.PixelShuffle(3)) == "PixelShuffle(upscale_factor=3)"
    assert repr(nn.PixelUnshuffle(2)) == "PixelUnshuffle(downscale_factor=2)"


# -- parity with PyTorch ------------------------------------------------------------------------
def _parity(tm, om, x, torch):
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    assert [(k, v.shape) for k, v in sd.items()] == [(k, tuple(v.shape)) for k, v in om.state_dict().items()]
    om.load_state_dict(sd)
    rng = np.random.default_rng(7)
    for p in tm.parameters():  # move off the ones/zeros start so the affine part is tested
        with torch.no_grad():
            p.copy_(torch.tensor(rng.normal(0.5, 0.5, tuple(p.shape))))
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    tx, ox = torch.tensor(x, requires_grad=True), ag.Tensor(x, requires_grad=True)
    ty, oy = tm(tx), om(ox)
    np.testing.assert_allclose(oy._data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(0, 1, tuple(ty.shape))
    (ty * torch.tensor(g)).sum().backward()
    (oy * g).sum().backward()
    np.testing.assert_allclose(ox.grad._data, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (name, a), b in zip(tm.named_parameters(), om.parameters()):
        np.testing.assert_allclose(b.grad._data, a.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    for (name, a), b in zip(tm.named_buffers(), om.buffers()):
        np.testing.assert_allclose(b._data, a.numpy(), rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("make, shape", [
    (lambda M, **k: M.GroupNorm(2, 6, **k), (3, 6, 4)),
    (lambda M, **k: M.GroupNorm(3, 6, affine=False, **k), (2, 6, 3, 2)),
    (lambda M, **k: M.GroupNorm(1, 4, **k), (2, 4)),
    (lambda M, **k: M.InstanceNorm1d(3, **k), (2, 3, 5)),
    (lambda M, **k: M.InstanceNorm1d(3, affine=True, **k), (3, 5)),
    (lambda M, **k: M.InstanceNorm2d(3, affine=True, track_running_stats=True, **k), (2, 3, 4, 3)),
    (lambda M, **k: M.InstanceNorm3d(2, affine=True, **k), (2, 2, 2, 3, 2)),
    (lambda M, **k: M.GroupNorm(2, 4, bias=False, **k), (2, 4, 3)),
    (lambda M, **k: M.InstanceNorm1d(3, affine=True, bias=False, **k), (2, 3, 5)),
    (lambda M, **k: M.RMSNorm((3, 2), **k), (2, 3, 2)),
    (lambda M, **k: M.RMSNorm(4, eps=1e-2, **k), (5, 4)),
    (lambda M, **k: M.PixelShuffle(2), (2, 8, 3, 2)),
    (lambda M, **k: M.PixelUnshuffle(2), (1, 2, 4, 6)),
])
def test_parity_with_torch(make, shape):
    torch = pytest.importorskip("torch")
    needs_dtype = not isinstance(make(nn), (nn.PixelShuffle, nn.PixelUnshuffle))
    tm = make(torch.nn, **({"dtype": torch.float64} if needs_dtype else {}))
    om = make(nn, **({"dtype": F64} if needs_dtype else {}))
    x = np.random.default_rng(0).normal(0, 1, shape)
    _parity(tm, om, x, torch)
    if isinstance(om, nn.InstanceNorm2d):  # the running statistics, then eval mode with them
        tm.eval()
        om.eval()
        _parity(tm, om, x, torch)


def test_channel_dropout_matches_torch_in_distribution_and_eval():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).uniform(1, 2, (8, 6, 5))
    for ours, theirs in ((nn.Dropout1d(0.4), torch.nn.Dropout1d(0.4)), (nn.Dropout2d(0.4), torch.nn.Dropout2d(0.4))):
        ours.eval()
        theirs.eval()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_array_equal(ours(ag.Tensor(x))._data, theirs(torch.tensor(x)).numpy())
        ours.train()
        theirs.train()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = theirs(torch.tensor(x)).numpy()
            o = ours(ag.Tensor(x))._data
        # the same kind of mask: whole (n, c) rows zero or x / (1 - p)
        for y in (t, o):
            kept = (y != 0).all(-1)
            assert ((y == 0).all(-1) | kept).all()
            np.testing.assert_allclose(y[kept], x[kept] / 0.6, rtol=1e-12)


def test_channel_shuffle_moves_channel_i_k_plus_j_to_j_g_plus_i():
    import nn.functional as F
    x = ag.tensor(np.arange(2 * 6 * 2, dtype=np.float64).reshape(2, 6, 2), requires_grad=True)
    y = F.channel_shuffle(x, 2)                       # g = 2 groups of k = 3
    want = x._data[:, [0, 3, 1, 4, 2, 5]]
    np.testing.assert_array_equal(y._data, want)
    np.testing.assert_array_equal(nn.ChannelShuffle(2)(x)._data, want)
    w = np.random.default_rng(0).standard_normal(y.shape)
    (y * ag.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad._data[:, [0, 3, 1, 4, 2, 5]], w)   # the same permutation, backwards
    with pytest.raises(ValueError, match="divisible by groups = 4"):
        F.channel_shuffle(x, 4)


@pytest.mark.parametrize("fin, fout", [(2, 0), (0, 3), (0, 0)])
@pytest.mark.parametrize("lead", [(4,), (2, 5), (), (0,)])
def test_linear_with_zero_features_as_pytorch(fin, fout, lead):
    """PyTorch allows Linear(n, 0) and Linear(0, n): empty weights (init is a no-op), outputs of zeros
    (the bias alone) and gradients of the right shapes."""
    import warnings
    import autograd_core as ag
    import nn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = nn.Linear(fin, fout).double()
    x = ag.randn(*lead, fin, dtype=ag.float64, requires_grad=True)
    y = layer(x)
    assert y.shape == lead + (fout,)
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to(layer.bias.detach().numpy(), y.shape))
    (y * 2).sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()
    assert layer.weight.grad.shape == (fout, fin) and not layer.weight.grad.numpy().any()
    np.testing.assert_array_equal(layer.bias.grad.numpy(), np.full(fout, 2.0 * int(np.prod(lead))))
    with pytest.raises(ValueError, match="Linear: out_features must be a non-negative int"):
        nn.Linear(2, -1)

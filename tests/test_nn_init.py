"""nn.init: distributions and bounds as PyTorch's formulas, seeding, in-place writes, errors."""
import math

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn import init


def big(*shape, dtype=np.float64):
    return nn.Parameter(np.zeros(shape, dtype))


def test_calculate_gain_matches_torch_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    torch = pytest.importorskip("torch")
    for nl, p in [("tanh", None), ("relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv_transpose2d", None)]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))


def test_fans_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 4), (5, 2, 3, 3), (2, 7, 1, 4), (6, 1)]:
        ours = init._calculate_fan_in_and_fan_out(big(*shape))
        ref = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert ours == ref
    with pytest.raises(ValueError, match="fewer than 2"):
        init._calculate_fan_in_and_fan_out(big(5))


def test_uniform_normal_constant():
    ag.manual_seed(0)
    w = big(200, 300)
    assert init.uniform_(w, -2, 3) is w
    assert w._data.min() >= -2 and w._data.max() <= 3 and abs(w._data.mean() - 0.5) < 0.05
    init.normal_(w, 1.0, 0.5)
    assert abs(w._data.mean() - 1) < 0.01 and abs(w._data.std() - 0.5) < 0.01
    init.constant_(w, 0.25)
    assert (w._data == 0.25).all()
    init.zeros_(w)
    assert not w._data.any()
    init.ones_(w)
    assert (w._data == 1).all()
    e = big(3, 4)
    init.eye_(e)
    np.testing.assert_array_equal(e._data, np.eye(3, 4))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_and_xavier_statistics(mode):
    ag.manual_seed(1)
    w = big(256, 64, 3, 3)
    fan_in, fan_out = 64 * 9, 256 * 9
    fan = fan_in if mode == "fan_in" else fan_out
    init.kaiming_uniform_(w, a=0, mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(w._data).max() <= bound and np.abs(w._data).max() > 0.99 * bound
    init.kaiming_normal_(w, mode=mode, nonlinearity="relu")
    assert abs(w._data.std() - math.sqrt(2 / fan)) < 0.01 * math.sqrt(2 / fan)
    init.xavier_uniform_(w, gain=2.0)
    a = 2 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w._data).max() <= a and np.abs(w._data).max() > 0.99 * a
    init.xavier_normal_(w)
    assert abs(w._data.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.01 * math.sqrt(2 / (fan_in + fan_out))


def test_kaiming_sqrt5_is_pytorch_linear_default():
    w = big(50, 400)
    init.kaiming_uniform_(w, a=math.sqrt(5))
    assert np.abs(w._data).max() <= 1 / math.sqrt(400) and np.abs(w._data).max() > 0.99 / math.sqrt(400)


def test_trunc_normal_and_orthogonal():
    w = big(100, 100)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=0.0, b=1.0)
    assert w._data.min() >= 0 and w._data.max() <= 1
    init.trunc_normal_(w, std=0.02)
    assert np.abs(w._data).max() <= 2 and abs(w._data.std() - 0.02) < 0.002
    q = big(3, 5)
    init.orthogonal_(q, gain=2.0)
    np.testing.assert_allclose(q._data @ q._data.T, 4 * np.eye(3), atol=1e-12)
    r = big(6, 2, 2)
    init.orthogonal_(r)
    flat = r._data.reshape(6, 4)
    np.testing.assert_allclose(flat.T @ flat, np.eye(4), atol=1e-12)


def test_generator_and_manual_seed_reproducible_across_dtypes():
    a, b = big(4, 5), big(4, 5, dtype=np.float32)
    init.normal_(a, generator=ag.Generator(7))
    init.normal_(b, generator=ag.Generator(7))
    np.testing.assert_array_equal(a._data.astype(np.float32), b._data)
    nn.manual_seed(3)
    init.xavier_uniform_(a)
    first = a._data.copy()
    nn.manual_seed(3)
    init.xavier_uniform_(a)
    np.testing.assert_array_equal(a._data, first)


def test_init_is_in_place_outside_the_tape():
    lin = nn.Linear(3, 2)
    w = lin.weight
    arr = w._data
    v = w._version
    init.normal_(w)
    assert w._data is arr and w._version > v  # same buffer, version bumped
    assert w.grad_fn is None and w.requires_grad
    y = (lin(ag.ones(1, 3)) ** 2).sum()
    y.backward()
    assert w.grad is not None


def test_init_errors():
    with pytest.raises(TypeError, match="floating tensor"):
        init.normal_(ag.Tensor(np.zeros(3, np.int64)))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(big(2, 2), mode="fan")
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(big(2), 1, 0)


@pytest.mark.parametrize("shape,groups", [((2, 1, 3), 1), ((4, 2, 3, 3), 2), ((3, 5, 3, 3), 1), ((6, 3, 2, 3, 3), 3)])
def test_dirac_passes_channels_through(shape, groups):
    w = init.dirac_(ag.empty(*shape), groups)
    per = shape[0] // groups
    centre = tuple(k // 2 for k in shape[2:])
    want = np.zeros(shape)
    for g in range(groups):
        for d in range(min(per, shape[1])):
            want[(g * per + d, d) + centre] = 1
    np.testing.assert_array_equal(w._data, want)
    if len(shape) == 4 and groups == 1:
        # a same-padded convolution with it copies the first channels
        x = ag.tensor(np.random.default_rng(0).standard_normal((1, shape[1], 5, 5)))
        y = ag.conv2d(x, w.to(ag.float64), padding=1)
        np.testing.assert_allclose(y._data[:, :min(shape[0], shape[1])], x._data[:, :min(shape[0], shape[1])])
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(ag.empty(3, 1, 3), 2)
    try:
        import torch
    except ImportError:
        return
    np.testing.assert_array_equal(w._data, torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())


def test_sparse_zeroes_a_fraction_of_every_column_and_old_names_warn():
    import warnings
    import autograd_core as ag
    import nn
    w = nn.init.sparse_(ag.empty(10, 4), sparsity=0.25, std=0.5)
    assert (w == 0).sum(0).tolist() == [3, 3, 3, 3]  # ceil(0.25 * 10) per column, as PyTorch
    nonzero = w.numpy()[w.numpy() != 0]
    assert 0.1 < nonzero.std() < 1.5
    with pytest.raises(ValueError, match="init.sparse_: only 2-D tensors"):
        nn.init.sparse_(ag.empty(2, 2, 2), 0.5)
    for old in ("uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
                "orthogonal"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = getattr(nn.init, old)(ag.zeros(3, 4))
        assert t.shape == (3, 4) and caught[0].category is FutureWarning and f"nn.init.{old}_" in str(caught[0].message)
    with pytest.warns(FutureWarning):
        assert nn.init.constant(ag.zeros(2), 1.5).tolist() == [1.5, 1.5]

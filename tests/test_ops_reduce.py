"""Reductions (sum, mean, prod, max, min, var, std, logsumexp, argmax/argmin, cumsum) and
softmax/log_softmax: values against numpy, gradcheck and gradgradcheck in float64 over
hypothesis-drawn shapes and axes (None, int, tuple, negative) with and without keepdims."""
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import autograd_core as ag
from autograd_core.testing import axes, elements, gradcheck, gradgradcheck, shapes, tensors


@st.composite
def reduce_case(draw, el=None, unique=False, max_dims=3, max_side=3):
    shape = draw(shapes(max_dims=max_dims, max_side=max_side))
    x = draw(tensors(shape=shape, elements=el, unique=unique))
    return x, draw(axes(len(shape))), draw(st.booleans())


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axis = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axis]))


def spaced():
    """Floats at least 0.001 apart (with unique=True no two are within finite-difference reach)."""
    return st.integers(-3000, 2999).map(lambda k: k / 1000 + 0.0005)


def away_from_zero():
    return st.one_of(elements(-2.0, -0.4), elements(0.4, 2.0))


REDUCTIONS = {
    # name: (function(x, axis, keepdims), numpy reference, elements, unique values)
    "sum": (lambda x, a, k: x.sum(axis=a, keepdims=k), np.sum, None, False),
    "mean": (lambda x, a, k: x.mean(axis=a, keepdims=k), np.mean, None, False),
    "prod": (lambda x, a, k: x.prod(axis=a, keepdims=k), np.prod, away_from_zero(), False),
    "max": (lambda x, a, k: x.max(axis=a, keepdims=k), np.max, spaced(), True),
    "min": (lambda x, a, k: x.min(axis=a, keepdims=k), np.min, spaced(), True),
    "amax": (lambda x, a, k: ag.amax(x, a, k), np.max, spaced(), True),
    "logsumexp": (lambda x, a, k: ag.logsumexp(x, axis=a, keepdims=k),
                  lambda v, axis, keepdims: np.log(np.sum(np.exp(v), axis=axis, keepdims=keepdims)), None, False),
    "functional_sum": (lambda x, a, k: ag.sum(x, a, k), np.sum, None, False),
    "functional_mean": (lambda x, a, k: ag.mean(x, axis=a, keepdims=k), np.mean, None, False),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction_forward_matches_numpy(name, data):
    fn, ref, el, unique = REDUCTIONS[name]
    x, axis, keepdims = data.draw(reduce_case(el, unique, max_dims=4, max_side=4))
    out = fn(x, axis, keepdims)
    expected = ref(x._data, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out._data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction_gradcheck(name, data):
    fn, _, el, unique = REDUCTIONS[name]
    x, axis, keepdims = data.draw(reduce_case(el, unique))
    assert gradcheck(lambda t: fn(t, axis, keepdims), (x,))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "logsumexp"])
@given(data=st.data())
def test_reduction_gradgradcheck(name, data):
    fn, _, el, unique = REDUCTIONS[name]
    x, axis, keepdims = data.draw(reduce_case(el, unique, max_side=3))
    # square the result so the second derivative is not trivially zero
    assert gradgradcheck(lambda t: fn(t, axis, keepdims) ** 2, (x,))


@pytest.mark.parametrize("op", ["var", "std"])
@given(data=st.data(), correction=st.sampled_from([0, 1, 2]))
def test_var_std_forward_and_gradients(op, data, correction):
    x, axis, keepdims = data.draw(reduce_case(spaced(), unique=True))
    # std is not differentiable where all values are equal (a single element): keep 2+ for it
    assume(_count(x.shape, axis) > max(correction, 1 if op == "std" else 0))
    fn = (lambda t: getattr(ag, op)(t, axis=axis, correction=correction, keepdims=keepdims))
    ref = getattr(np, op)(x._data, axis=axis, ddof=correction, keepdims=keepdims)
    out = fn(x)
    assert out.shape == np.shape(ref)
    np.testing.assert_allclose(out._data, ref, rtol=1e-10, atol=1e-12)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_var_std_spellings():
    x = ag.tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(x.var()._data, np.var(x._data, ddof=1))       # unbiased by default, as PyTorch
    np.testing.assert_allclose(x.var(unbiased=False)._data, np.var(x._data))
    np.testing.assert_allclose(x.std(dim=1, keepdim=True)._data, np.std(x._data, axis=1, ddof=1, keepdims=True))
    np.testing.assert_allclose(ag.std(x, axis=0, ddof=0)._data, np.std(x._data, axis=0))


def test_var_without_degrees_of_freedom_is_nan_or_inf_not_an_error():
    # as PyTorch: n - correction is floored at 0, so the result is nan (0/0) or inf
    x = ag.tensor(np.array([3.0]), requires_grad=True)
    v = x.var()
    assert np.isnan(v.item())
    v.backward()
    assert x.grad.shape == (1,) and np.isnan(x.grad.item())
    y = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = y.var(correction=3)
    assert w.item() == np.inf   # not numpy's negative value from dividing by n - ddof = -1
    w.backward()
    assert np.all(np.isinf(y.grad._data))


def test_std_gradient_of_constant_is_zero_like_torch():
    # d std / dx = (x - mean) / (n * std) is 0/0 when all values are equal; PyTorch defines it as 0
    x = ag.tensor(np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]]), requires_grad=True)
    x.std(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad._data, [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]])
    x = ag.tensor(np.array(0.5), requires_grad=True)
    x.std(correction=0).backward()
    assert x.grad.item() == 0.0


# -- max / min ties share the gradient (like torch.amax) ---------------------------------------
def test_max_ties_share_gradient():
    x = ag.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad._data, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    x.max().backward()
    np.testing.assert_allclose(x.grad._data, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


def test_tie_shares_keep_float64_precision_on_the_tape():
    x = ag.tensor(np.array([[2.0, 2.0, 2.0], [1.0, 0.0, 1.0]]), requires_grad=True)
    g, = ag.autograd_grad(x.max(axis=1).sum(), x, create_graph=True)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g._data, [[1 / 3, 1 / 3, 1 / 3], [0.5, 0.0, 0.5]])   # exact, not float32's 1/3


def test_min_ties_share_gradient_with_keepdims():
    x = ag.tensor(np.array([[1.0, 1.0], [0.0, 5.0]]), requires_grad=True)
    m = x.min(axis=-1, keepdims=True)
    assert m.shape == (2, 1)
    (m * ag.tensor(np.array([[2.0], [3.0]]))).sum().backward()
    np.testing.assert_allclose(x.grad._data, [[1.0, 1.0], [3.0, 0.0]])


# -- prod with zeros ---------------------------------------------------------------------------
def test_prod_gradient_with_zeros_is_exact():
    x = ag.tensor(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]]), requires_grad=True)
    x.prod(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad._data, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])
    assert np.all(np.isfinite(x.grad._data))


@given(x=tensors(shape=shapes(max_dims=2, max_side=4), elements=st.sampled_from([0.0, 0.5, -1.5, 2.0])))
def test_prod_gradcheck_with_zeros(x):
    assert gradcheck(lambda t: t.prod(axis=-1 if t.ndim else None), (x,))
    # grad of grad too: the taped VJP must not divide by the zeros either
    assert gradgradcheck(lambda t: t.prod(axis=0 if t.ndim else None) ** 2, (x,))


def test_prod_second_derivative_at_zero():
    x = ag.tensor(np.array([0.0, 2.0, 3.0]), requires_grad=True)
    g, = ag.autograd_grad(x.prod(), x, create_graph=True)
    np.testing.assert_array_equal(g._data, [6.0, 0.0, 0.0])
    h = [ag.autograd_grad(g[i], x, retain_graph=True)[0]._data for i in range(3)]
    np.testing.assert_array_equal(h, [[0, 3, 2], [3, 0, 0], [2, 0, 0]])


# -- argmax / argmin ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_argmin(name, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(tensors(shape=shape))
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdims = data.draw(st.booleans())
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out._data, getattr(np, name)(x._data, axis=axis, keepdims=keepdims))
    assert out.dtype == np.int64
    assert not out.requires_grad and out.grad_fn is None
    out2 = getattr(ag, name)(x, dim=axis)
    np.testing.assert_array_equal(out2._data, getattr(np, name)(x._data, axis=axis))


# -- dim/keepdim spellings and errors ----------------------------------------------------------
def test_torch_spellings_dim_keepdim():
    x = ag.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.sum(dim=(0, 2), keepdim=True)._data, x._data.sum(axis=(0, 2), keepdims=True))
    np.testing.assert_array_equal(x.mean(dim=-1)._data, x._data.mean(axis=-1))
    np.testing.assert_array_equal(ag.max(x, dim=1).values._data, x._data.max(axis=1))


def test_max_min_with_dim_return_values_and_indices_like_torch():
    x = ag.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values._data, [5.0, 7.0])
    np.testing.assert_array_equal(indices._data, [1, 0])
    assert x.min(dim=0, keepdim=True).indices.shape == (1, 3)
    np.testing.assert_array_equal(x.min(dim=0, keepdim=True).indices._data, [[0, 1, 0]])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(x.max(axis=1)._data, [5.0, 7.0])  # numpy spelling: values only


def test_reduction_over_zero_dim_tensor_accepts_axis_0():
    x = ag.tensor(np.array(2.5), requires_grad=True)
    for axis in (None, 0, -1):
        s = x.sum(axis=axis)
        assert s.shape == () and s.item() == 2.5
    x.sum(0).backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "var", "std", "logsumexp"])
def test_bad_axis_names_op(name):
    x = ag.ones(2, 3)
    with pytest.raises(IndexError, match=rf"{name}: axis 2 is out of range.*2 dimension"):
        getattr(ag, name)(x, axis=2)
    with pytest.raises(ValueError, match=rf"{name}: repeated axis"):
        getattr(ag, name)(x, axis=(1, -1))


def test_softmax_axis_must_be_an_int():
    with pytest.raises(TypeError, match="softmax: axis must be an int"):
        ag.softmax(ag.ones(2, 3), axis=(0, 1))


def test_max_of_empty_tensor_names_op():
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0,\)"):
        ag.max(ag.zeros(0))


# -- logsumexp, softmax, log_softmax -----------------------------------------------------------
SOFT = {"softmax": (ag.softmax, lambda v, a: np.exp(v - v.max(a, keepdims=True)) /
                    np.exp(v - v.max(a, keepdims=True)).sum(a, keepdims=True)),
        "log_softmax": (ag.log_softmax, lambda v, a: v - v.max(a, keepdims=True) -
                        np.log(np.exp(v - v.max(a, keepdims=True)).sum(a, keepdims=True)))}


@st.composite
def soft_case(draw, max_dims=3, max_side=4):
    shape = draw(shapes(min_dims=1, max_dims=max_dims, max_side=max_side))
    x = draw(tensors(shape=shape))
    return x, draw(st.integers(-len(shape), len(shape) - 1))


@pytest.mark.parametrize("name", sorted(SOFT))
@given(case=soft_case())
def test_softmax_forward_and_gradcheck(name, case):
    fn, ref = SOFT[name]
    x, axis = case
    out = fn(x, axis=axis)
    np.testing.assert_allclose(out._data, ref(x._data, axis), rtol=1e-12, atol=1e-14)
    if name == "softmax":
        np.testing.assert_allclose(out._data.sum(axis=axis), 1.0)
    assert gradcheck(lambda t: fn(t, axis=axis), (x,))


@pytest.mark.parametrize("name", sorted(SOFT))
@given(case=soft_case(max_side=3))
def test_softmax_gradgradcheck(name, case):
    fn, _ = SOFT[name]
    x, axis = case
    assert gradgradcheck(lambda t: fn(t, dim=axis), (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_log_softmax_logsumexp_stable_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4 - 1.0]], dtype=dtype)
    for fn in (ag.softmax, ag.log_softmax, lambda t, axis: ag.logsumexp(t, axis=axis)):
        x = ag.tensor(logits, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = fn(x, axis=-1)
            (out * ag.tensor(np.arange(out.size, dtype=dtype).reshape(out.shape))).sum().backward()
        assert np.all(np.isfinite(out._data)), out
        assert np.all(np.isfinite(x.grad._data)), x.grad
    sm = ag.softmax(ag.tensor(logits), axis=-1)._data
    np.testing.assert_allclose(sm[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(sm[1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-6)
    lsm = ag.log_softmax(ag.tensor(logits), axis=-1)._data
    np.testing.assert_allclose(lsm[0], [0.0, -2e4, -1e4], rtol=1e-6)
    np.testing.assert_allclose(ag.logsumexp(ag.tensor(logits), axis=1)._data,
                               [1e4, -1e4 + np.log(3.0), 1e4 + np.log(2 + np.exp(-1.0))], rtol=1e-6)


def test_log_softmax_gradient_is_softmax_minus_onehot():
    x = ag.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    (-ag.log_softmax(x, axis=1)[0, 2]).backward()
    p = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(x.grad._data, [p - np.array([0.0, 0.0, 1.0])])


def test_logsumexp_of_all_minus_inf_is_minus_inf():
    x = ag.tensor(np.array([-np.inf, -np.inf]))
    assert ag.logsumexp(x).item() == -np.inf


# -- cumsum ------------------------------------------------------------------------------------
@given(case=soft_case())
def test_cumsum(case):
    x, axis = case
    np.testing.assert_allclose(ag.cumsum(x, axis=axis)._data, np.cumsum(x._data, axis=axis))
    assert gradcheck(lambda t: t.cumsum(axis) ** 2, (x,))


def test_integer_sum_keeps_integers():
    s = ag.arange(5).sum()
    assert s.dtype == np.int64 and s.item() == 10

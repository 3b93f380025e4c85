"""Elementwise math under PyTorch's names (autograd_core.ops.mathops): gradcheck and gradgradcheck in float64
over hypothesis shapes for every differentiable op, PyTorch parity of values and gradients when torch is
installed, the ops without gradient, the in-place forms, and the bitwise meaning of & | ^ ~ on integers."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import broadcastable_shapes, gradcheck, gradgradcheck, shapes, tensors


def _torch():
    return pytest.importorskip("torch")


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)


# name -> (our function, PyTorch's name, domain of the inputs, number of inputs, second order checked)
UNARY = {
    "tan": (ag.tan, "tan", (-1.2, 1.2), True),
    "sinh": (ag.sinh, "sinh", (-2.0, 2.0), True),
    "cosh": (ag.cosh, "cosh", (-2.0, 2.0), True),
    "asin": (ag.asin, "asin", (-0.9, 0.9), True),
    "acos": (ag.acos, "acos", (-0.9, 0.9), True),
    "atan": (ag.atan, "atan", (-3.0, 3.0), True),
    "asinh": (ag.asinh, "asinh", (-3.0, 3.0), True),
    "acosh": (ag.acosh, "acosh", (1.2, 4.0), True),
    "atanh": (ag.atanh, "atanh", (-0.9, 0.9), True),
    "erfc": (ag.erfc, "erfc", (-2.0, 2.0), True),
    "erfinv": (ag.erfinv, "erfinv", (-0.9, 0.9), True),
    "lgamma": (ag.lgamma, "lgamma", (0.3, 4.0), True),
    "digamma": (ag.digamma, "digamma", (0.3, 4.0), True),
    "logit": (ag.logit, "logit", (0.1, 0.9), True),
    "square": (ag.square, "square", (-3.0, 3.0), True),
    "reciprocal": (ag.reciprocal, "reciprocal", (0.3, 3.0), True),
    "frac": (ag.frac, "frac", (0.1, 0.9), True),
    "rad2deg": (ag.rad2deg, "rad2deg", (-3.0, 3.0), True),
    "deg2rad": (ag.deg2rad, "deg2rad", (-3.0, 3.0), True),
    "nan_to_num": (ag.nan_to_num, "nan_to_num", (-3.0, 3.0), True),
    "sinc": (ag.sinc, "sinc", (0.2, 2.0), True),
}
BINARY = {
    "atan2": (ag.atan2, "atan2", ((0.5, 3.0), (0.5, 3.0)), True),
    "fmod": (ag.fmod, "fmod", ((0.1, 0.9), (1.2, 2.0)), True),
    "remainder": (ag.remainder, "remainder", ((0.1, 0.9), (1.2, 2.0)), True),
    "logaddexp": (ag.logaddexp, "logaddexp", ((-3.0, 3.0), (-3.0, 3.0)), True),
    "logaddexp2": (ag.logaddexp2, "logaddexp2", ((-3.0, 3.0), (-3.0, 3.0)), True),
    "xlogy": (ag.xlogy, "xlogy", ((0.5, 3.0), (0.5, 3.0)), True),
    "hypot": (ag.hypot, "hypot", ((0.5, 3.0), (0.5, 3.0)), True),
    "fmax": (ag.fmax, "fmax", ((-3.0, -1.0), (1.0, 3.0)), True),
    "fmin": (ag.fmin, "fmin", ((-3.0, -1.0), (1.0, 3.0)), True),
    "copysign": (ag.copysign, "copysign", ((0.5, 3.0), (-3.0, -0.5)), True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_gradcheck(name, data):
    fn, _, (lo, hi), second = UNARY[name]
    x = data.draw(tensors(shape=shapes(max_dims=3, max_side=4), elements=_floats(lo, hi)))
    assert gradcheck(fn, (x,))
    if second:
        assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_gradcheck(name, data):
    fn, _, (da, db), second = BINARY[name]
    sa = data.draw(shapes(max_dims=3, max_side=3))
    sb = data.draw(broadcastable_shapes(sa, max_dims=3, max_side=3))
    x = data.draw(tensors(shape=st.just(sa), elements=_floats(*da)))
    y = data.draw(tensors(shape=st.just(sb), elements=_floats(*db)))
    assert gradcheck(fn, (x, y))
    if second:
        assert gradgradcheck(fn, (x, y))


def _sample(rng, lo, hi, shape=(3, 4)):
    return rng.uniform(lo, hi, size=shape)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_torch_parity(name):
    torch = _torch()
    fn, tname, (lo, hi), _ = UNARY[name]
    a = _sample(np.random.default_rng(0), lo, hi)
    x = ag.tensor(a, requires_grad=True)
    y = fn(x)
    (y * y).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    ty = getattr(torch, tname)(tx)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y._data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-8, atol=1e-12)
    # the Tensor method and the in-place form agree with the function
    if hasattr(ag.Tensor, name):
        np.testing.assert_array_equal(getattr(ag.tensor(a), name)()._data, y._data)
        t = ag.tensor(a)
        assert getattr(t, name + "_")() is t
        np.testing.assert_array_equal(t._data, y._data)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_torch_parity(name):
    torch = _torch()
    fn, tname, (da, db), _ = BINARY[name]
    rng = np.random.default_rng(1)
    a, b = _sample(rng, *da), _sample(rng, *db, shape=(4,))
    x, y = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    out = fn(x, y)
    (out * out).sum().backward()
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tout = getattr(torch, tname)(tx, ty)
    (tout * tout).sum().backward()
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(y.grad._data, ty.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("call", [
    "lerp(x, y, 0.3)", "lerp(x, y, w)", "addcmul(x, x, y, value=0.5)", "addcdiv(x, x, y.abs() + 1, value=2)",
    "clamp_min(x, 0.1)", "clamp_max(x, 0.1)", "polygamma(1, x.abs() + 0.5)", "polygamma(2, x.abs() + 0.5)",
    "logit(x.sigmoid(), eps=0.3)", "rsub(x, 2.0)", "renorm(x, 2, 0, 1.5)", "renorm(x, 1, 1, 1.0)",
    "renorm(x, 3, 0, 0.1)", "renorm(x, 2, -1, 100.0)", "lerp(x, y, w * 2 - 0.5)", "subtract(x, y, alpha=2)", "float_power(x.abs() + 0.5, 1.5)",
])
def test_compositions_match_torch(call):
    torch = _torch()
    rng = np.random.default_rng(2)
    a, b, c = rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4)), rng.uniform(0, 1, (3, 4))
    x, y, w = (ag.tensor(v, requires_grad=True) for v in (a, b, c))
    out = eval(call, {**vars(ag), "x": x, "y": y, "w": w})
    (out * out).sum().backward()
    tx, ty, tw = (torch.tensor(v, requires_grad=True) for v in (a, b, c))
    tout = eval(call, {**{k: getattr(torch, k) for k in dir(torch)}, "x": tx, "y": ty, "w": tw})
    (tout * tout).sum().backward()
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-7, atol=1e-12)  # (torch's polygamma)
    for ours, theirs in ((x, tx), (y, ty), (w, tw)):
        if theirs.grad is None:
            assert ours.grad is None or not np.any(ours.grad._data)
        else:
            np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), rtol=1e-7, atol=1e-12)


@given(data=st.data())
def test_composition_gradcheck(data):
    sa = data.draw(shapes(max_dims=3, max_side=3))
    sb = data.draw(broadcastable_shapes(sa, max_dims=3, max_side=3))
    x = data.draw(tensors(shape=st.just(sa), elements=_floats(0.5, 2.0)))
    y = data.draw(tensors(shape=st.just(sb), elements=_floats(0.5, 2.0)))
    for fn in (lambda a, b: ag.lerp(a, b, 0.3), lambda a, b: ag.lerp(a, b, 0.7), lambda a, b: ag.lerp(a, b, b * 0.5),
               lambda a, b: ag.renorm((a * b).reshape(1, -1), 2, 1, 0.1), lambda a, b: ag.addcmul(a, a, b, value=0.5),
               lambda a, b: ag.addcdiv(a, a, b, value=2.0), lambda a, b: ag.polygamma(1, a) * b):
        assert gradcheck(fn, (x, y))
        assert gradgradcheck(fn, (x, y))


def test_logit_eps_and_nan_to_num_gradient_masks():
    x = ag.tensor([0.05, 0.5, 0.97], dtype=ag.float64, requires_grad=True)
    ag.logit(x, eps=0.1).sum().backward()
    assert x.grad._data[0] == 0 and x.grad._data[2] == 0 and x.grad._data[1] == pytest.approx(4.0)
    y = ag.tensor([float("nan"), 1.0, float("inf")], dtype=ag.float64, requires_grad=True)
    out = ag.nan_to_num(y, nan=-1.0, posinf=9.0)
    np.testing.assert_array_equal(out._data, [-1.0, 1.0, 9.0])
    out.sum().backward()
    np.testing.assert_array_equal(y.grad._data, [0.0, 1.0, 0.0])


def test_ops_without_gradient_match_torch():
    torch = _torch()
    a = np.array([-2.5, -1.0, -0.0, 0.0, 0.5, 3.7])
    ta = torch.tensor(a)
    for name in ("trunc", "fix", "signbit", "isposinf", "isneginf"):
        np.testing.assert_array_equal(getattr(ag, name)(ag.tensor(a))._data, getattr(torch, name)(ta).numpy())
    np.testing.assert_array_equal(ag.floor_divide(ag.tensor([7, -7, 5]), 2)._data,
                                  torch.floor_divide(torch.tensor([7, -7, 5]), 2).numpy())
    for mode in (None, "trunc", "floor"):
        for num, den in ((np.array([7.0, -7.0, 5.5]), 2.0), (np.array([7, -7, 5]), 2)):
            ours = ag.divide(ag.tensor(num), den, rounding_mode=mode)
            theirs = torch.div(torch.tensor(num), den, rounding_mode=mode)
            np.testing.assert_array_equal(ours._data, theirs.numpy())
            assert ours._data.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ag.heaviside(ag.tensor(a), ag.tensor(0.5))._data,
                                  torch.heaviside(ta, torch.tensor(0.5, dtype=torch.float64)).numpy())
    np.testing.assert_array_equal(ag.isin(ag.tensor([1, 2, 3]), ag.tensor([2]))._data,
                                  torch.isin(torch.tensor([1, 2, 3]), torch.tensor([2])).numpy())


def test_bitwise_operators_follow_pytorch():
    torch = _torch()
    i, j = np.array([12, 10, -3]), np.array([10, 6, 5])
    ti, tj = torch.tensor(i), torch.tensor(j)
    for expr in ("a & b", "a | b", "a ^ b", "~a", "a & 6", "6 | a", "5 ^ a"):
        ours = eval(expr, {"a": ag.tensor(i), "b": ag.tensor(j)})
        theirs = eval(expr, {"a": ti, "b": tj})
        np.testing.assert_array_equal(ours._data, theirs.numpy())
        assert ours._data.dtype == np.int64
    m, n = np.array([True, False, True]), np.array([True, True, False])
    for expr in ("a & b", "a | b", "a ^ b", "~a"):
        ours = eval(expr, {"a": ag.tensor(m), "b": ag.tensor(n)})
        theirs = eval(expr, {"a": torch.tensor(m), "b": torch.tensor(n)})
        np.testing.assert_array_equal(ours._data, theirs.numpy())
        assert ours._data.dtype == np.bool_
    with pytest.raises(TypeError):
        ag.tensor([1.0]) & ag.tensor([1.0])


@pytest.mark.parametrize("name", ["greater", "less", "greater_equal", "less_equal", "not_equal", "multiply",
                                  "true_divide", "logical_xor"])
def test_spellings_match_torch(name):
    torch = _torch()
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])
    np.testing.assert_array_equal(getattr(ag, name)(ag.tensor(a), ag.tensor(b))._data,
                                  getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    np.testing.assert_array_equal(getattr(ag.tensor(a), name)(ag.tensor(b))._data,
                                  getattr(torch.tensor(a), name)(torch.tensor(b)).numpy())


def test_inplace_forms_write_in_place_and_are_refused_on_a_leaf_that_requires_grad():
    t = ag.tensor([0.2, 0.4])
    v = t._version
    assert t.lerp_(ag.tensor([1.0, 1.0]), 0.5) is t
    np.testing.assert_allclose(t._data, [0.6, 0.7])
    assert t._version > v
    t.gt_(0.65)
    np.testing.assert_array_equal(t._data, [0.0, 1.0])
    leaf = ag.tensor([0.5], requires_grad=True)
    with pytest.raises(RuntimeError):
        leaf.tan_()
    y = leaf * 1.0
    y.tan_()
    y.sum().backward()
    assert leaf.grad._data[0] == pytest.approx(1 + math.tan(0.5) ** 2)


def test_where_method_and_polygamma_method():
    x = ag.tensor([1.0, -2.0])
    np.testing.assert_array_equal(x.where(x > 0, ag.tensor(0.0))._data, [1.0, 0.0])
    np.testing.assert_allclose(ag.tensor([1.0]).polygamma(1)._data, [math.pi ** 2 / 6], rtol=1e-6)


def _apart(bound):
    """An element filter: at least 1e-3 from ``bound``, where a kink makes finite differences meaningless."""
    return lambda v: abs(v - bound) > 1e-3


@given(data=st.data())
def test_rules_of_entr_xlog1py_and_clamp_with_tensor_bounds_gradcheck(data):
    """special.entr, special.xlog1py and clamp with both bounds as tensors are ops with their own rules:
    first and second derivatives against finite differences over drawn (broadcast) shapes."""
    sa = data.draw(shapes(max_dims=3, max_side=3))
    sb = data.draw(broadcastable_shapes(sa, max_dims=3, max_side=3))
    x = data.draw(tensors(shape=st.just(sa), elements=_floats(0.2, 3.0)))
    assert gradcheck(ag.special.entr, (x,))
    assert gradgradcheck(ag.special.entr, (x,))
    y = data.draw(tensors(shape=st.just(sb), elements=_floats(-0.5, 3.0)))
    assert gradcheck(ag.special.xlog1py, (x, y))
    assert gradgradcheck(ag.special.xlog1py, (x, y))
    lo = data.draw(tensors(shape=st.just(sb), elements=_floats(-2.5, -0.5)))
    hi = data.draw(tensors(shape=st.just(sb), elements=_floats(0.5, 2.5)))
    v = data.draw(tensors(shape=st.just(sa), elements=_floats(-3.0, 3.0)))
    lo_b, hi_b = np.broadcast_arrays(lo._data, hi._data, v._data)[:2]
    if np.any(np.abs(v._data - lo_b) < 1e-3) or np.any(np.abs(v._data - hi_b) < 1e-3):
        return   # a kink within the finite-difference step
    assert gradcheck(lambda a, b, c: ag.clamp(a, b, c), (v, lo, hi))
    assert gradgradcheck(lambda a, b, c: ag.clamp(a, b, c), (v, lo, hi))

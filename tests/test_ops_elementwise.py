"""Elementwise ops: forward values against numpy, gradients (gradcheck and gradgradcheck in float64)
over hypothesis-drawn shapes with broadcasting, size-1 dims and 0-d scalars; scalars on either side of
the operators; non-differentiable ops; stability; error messages."""
import math
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import (broadcastable_shapes, elements, gradcheck, gradgradcheck, shapes,
                                   tensors)

SMALL = dict(max_dims=3, max_side=3)


def grid(lo=-3.0, hi=3.0):
    """Floats on a 0.1 grid shifted by 0.05: never within 0.05 of any multiple of 0.1 (0, kinks at
    0, +-1, ...), and two draws are either equal or at least 0.1 apart."""
    return st.integers(int(round(lo * 10)), int(round(hi * 10)) - 1).map(lambda k: k / 10 + 0.05)


def positive(lo=0.2, hi=3.0):
    return elements(lo, hi)


@st.composite
def broadcast_pair(draw, xel=None, yel=None, max_dims=3, max_side=3):
    """Two float64 tensors whose shapes broadcast (either may have fewer dims or size-1 dims)."""
    sa = draw(shapes(max_dims=max_dims, max_side=max_side))
    sb = draw(broadcastable_shapes(sa, max_dims=max_dims, max_side=max_side))
    if draw(st.booleans()):
        sa, sb = sb, sa
    x = draw(tensors(shape=sa, elements=xel))
    y = draw(tensors(shape=sb, elements=yel))
    return x, y


# -- binary ops --------------------------------------------------------------------------------
# name: (function, numpy reference, x elements, y elements). maximum/minimum draw x and y from
# disjoint grids (x = k/10 + 0.05, y = k/10) so no tie sits where the gradient jumps.
BINARY = {
    "add": (lambda a, b: a + b, np.add, None, None),
    "sub": (lambda a, b: a - b, np.subtract, None, None),
    "mul": (lambda a, b: a * b, np.multiply, None, None),
    "div": (lambda a, b: a / b, np.true_divide, None, grid()),
    "pow": (lambda a, b: a ** b, np.power, positive(0.3, 3.0), elements(-2.0, 2.0)),
    "maximum": (ag.maximum, np.maximum, grid(), st.integers(-30, 30).map(lambda k: k / 10)),
    "minimum": (ag.minimum, np.minimum, grid(), st.integers(-30, 30).map(lambda k: k / 10)),
    "functional_add": (ag.add, np.add, None, None),
    "functional_sub": (ag.sub, np.subtract, None, None),
    "functional_mul": (ag.mul, np.multiply, None, None),
    "functional_div": (ag.div, np.true_divide, None, grid()),
    "functional_pow": (ag.pow, np.power, positive(0.3, 3.0), elements(-2.0, 2.0)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_forward_matches_numpy(name, data):
    fn, ref, xel, yel = BINARY[name]
    x, y = data.draw(broadcast_pair(xel, yel, max_dims=4, max_side=4))
    out = fn(x, y)
    expected = ref(x._data, y._data)
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out._data, expected, rtol=1e-12, atol=0)
    assert out.requires_grad and out.grad_fn is not None


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_gradcheck(name, data):
    fn, _, xel, yel = BINARY[name]
    x, y = data.draw(broadcast_pair(xel, yel, **SMALL))
    assert gradcheck(fn, (x, y))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
@given(data=st.data())
def test_binary_gradgradcheck(name, data):
    fn, _, xel, yel = BINARY[name]
    x, y = data.draw(broadcast_pair(xel, yel, max_dims=2, max_side=3))
    assert gradgradcheck(fn, (x, y))


@pytest.mark.parametrize("name", ["add", "mul", "div", "maximum"])
def test_binary_gradient_reduced_to_each_input_shape(name):
    fn = BINARY[name][0]
    x = ag.tensor(np.linspace(0.5, 2.0, 3).reshape(3, 1), requires_grad=True)
    y = ag.tensor(np.linspace(1.0, 3.0, 4), requires_grad=True)
    fn(x, y).sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    assert x.grad.dtype == np.float64 and y.grad.dtype == np.float64


def test_broadcast_gradient_values():
    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    b = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    s = ag.tensor(np.array(2.0), requires_grad=True)
    ((x * b + s) * s).sum().backward()
    np.testing.assert_allclose(b.grad._data, [4.0, 4.0, 4.0])          # sum over the broadcast rows of x*s
    np.testing.assert_allclose(x.grad._data, np.tile([2.0, 4.0, 6.0], (2, 1)))
    # d/ds sum((x*b + s) * s) = sum(x*b + 2s) = 2*(1+2+3) + 6*2*2
    np.testing.assert_allclose(s.grad._data, 12.0 + 24.0)
    assert s.grad.shape == ()


# -- scalars on either side of the operators ---------------------------------------------------
SCALAR_EXPRS = {
    "2*t": (lambda t: 2 * t, lambda a: 2 * a),
    "t*2": (lambda t: t * 2, lambda a: a * 2),
    "t+1.5": (lambda t: t + 1.5, lambda a: a + 1.5),
    "1.5+t": (lambda t: 1.5 + t, lambda a: 1.5 + a),
    "1-t": (lambda t: 1 - t, lambda a: 1 - a),
    "t-1": (lambda t: t - 1, lambda a: a - 1),
    "t/4": (lambda t: t / 4, lambda a: a / 4),
    "3/t": (lambda t: 3 / t, lambda a: 3 / a),
    "t**2": (lambda t: t ** 2, lambda a: a ** 2),
    "t**3": (lambda t: t ** 3, lambda a: a ** 3),
    "t**0.5": (lambda t: t ** 0.5, np.sqrt),
    "t**-1.5": (lambda t: t ** -1.5, lambda a: a ** -1.5),
    "2**t": (lambda t: 2 ** t, lambda a: 2.0 ** a),
    "0.5**t": (lambda t: 0.5 ** t, lambda a: 0.5 ** a),
    "-t": (lambda t: -t, lambda a: -a),
    "abs(t)": (lambda t: abs(t), np.abs),
    "ndarray*t": (lambda t: np.full(t.shape, 3.0) * t, lambda a: 3.0 * a),
    "t-ndarray": (lambda t: t - np.full(t.shape, 3.0), lambda a: a - 3.0),
}


@pytest.mark.parametrize("expr", sorted(SCALAR_EXPRS))
@given(x=tensors(shape=shapes(**SMALL), elements=grid(0.3, 3.0)))
def test_scalar_operand_on_either_side(expr, x):
    fn, ref = SCALAR_EXPRS[expr]
    out = fn(x)
    assert isinstance(out, ag.Tensor)
    np.testing.assert_allclose(out._data, ref(x._data), rtol=1e-12)
    assert out.grad_fn is not None
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_scalar_operands_keep_float32():
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    for out in (2 * t, t + 1.5, 1 - t, t / 3, 3 / t, t ** 2, 2 ** t, -t, t ** 0.5):
        assert out.dtype == np.float32, out


def test_pow_special_exponents():
    x = ag.tensor(np.array([0.0, 2.0, -3.0]), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0, 0.0])  # d/dx x**0 = 0, even at 0
    x.grad = None
    (x ** 1).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [1.0, 1.0, 1.0])
    x.grad = None
    (x ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 4.0, -6.0])


def test_pow_tensor_exponent_at_zero_base():
    # d/dy x**y = x**y log x is taken as 0 at x == 0 (as PyTorch), not nan
    x = ag.tensor(np.array([0.0, 2.0]), requires_grad=True)
    y = ag.tensor(np.array([2.0, 3.0]), requires_grad=True)
    (x ** y).sum().backward()
    np.testing.assert_allclose(x.grad._data, [0.0, 12.0])
    np.testing.assert_allclose(y.grad._data, [0.0, 8.0 * math.log(2.0)])


def test_rpow_gradient():
    t = ag.tensor(np.array([0.0, 1.0, 2.5]), requires_grad=True)
    (3 ** t).sum().backward()
    np.testing.assert_allclose(t.grad._data, 3.0 ** t._data * math.log(3.0))


# -- unary ops ---------------------------------------------------------------------------------
def _erf(a):
    return np.vectorize(math.erf)(a)


def _gelu_ref(a):
    return 0.5 * a * (1 + _erf(a / math.sqrt(2)))


def _gelu_tanh_ref(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))


UNARY = {
    "neg": (ag.neg, np.negative, None),
    "abs": (ag.abs, np.abs, grid()),
    "exp": (ag.exp, np.exp, None),
    "log": (ag.log, np.log, positive()),
    "log1p": (ag.log1p, np.log1p, elements(-0.7, 3.0)),
    "expm1": (ag.expm1, np.expm1, None),
    "sqrt": (ag.sqrt, np.sqrt, positive()),
    "rsqrt": (ag.rsqrt, lambda a: 1 / np.sqrt(a), positive()),
    "sin": (ag.sin, np.sin, None),
    "cos": (ag.cos, np.cos, None),
    "tanh": (ag.tanh, np.tanh, None),
    "sigmoid": (ag.sigmoid, lambda a: 1 / (1 + np.exp(-a)), None),
    "erf": (ag.erf, _erf, None),
    "relu": (ag.relu, lambda a: np.maximum(a, 0), grid()),
    "leaky_relu": (lambda t: ag.leaky_relu(t, negative_slope=0.1), lambda a: np.where(a > 0, a, 0.1 * a), grid()),
    "leaky_relu_default": (ag.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), grid()),
    "elu": (ag.elu, lambda a: np.where(a > 0, a, np.expm1(a)), grid()),
    "elu_alpha": (lambda t: ag.elu(t, alpha=1.5), lambda a: np.where(a > 0, a, 1.5 * np.expm1(a)), grid()),
    "gelu": (ag.gelu, _gelu_ref, None),
    "gelu_tanh": (lambda t: ag.gelu(t, approximate="tanh"), _gelu_tanh_ref, None),
    "softplus": (ag.softplus, lambda a: np.log1p(np.exp(a)), None),
    "softplus_beta": (lambda t: ag.softplus(t, beta=2.0), lambda a: np.log1p(np.exp(2 * a)) / 2, None),
    "clamp": (lambda t: ag.clamp(t, min=-1.0, max=1.5), lambda a: np.clip(a, -1.0, 1.5), grid()),
    "clamp_min": (lambda t: t.clamp(min=0.0), lambda a: np.maximum(a, 0.0), grid()),
    "clamp_max": (lambda t: t.clamp(max=0.5), lambda a: np.minimum(a, 0.5), grid()),
    "clip": (lambda t: ag.clip(t, -2.0, 2.0), lambda a: np.clip(a, -2.0, 2.0), grid()),
    "method_exp": (lambda t: t.exp(), np.exp, None),
    "method_tanh": (lambda t: t.tanh(), np.tanh, None),
    "method_relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0), grid()),
    "method_sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), None),
}
# the aliases above only need a forward check; the gradient tests run on the canonical ops
CANONICAL = sorted(n for n in UNARY if not n.startswith("method_"))


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_forward_matches_reference(name, data):
    fn, ref, el = UNARY[name]
    x = data.draw(tensors(shape=shapes(max_dims=4, max_side=4), elements=el))
    out = fn(x)
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out._data, ref(x._data), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", CANONICAL)
@given(data=st.data())
def test_unary_gradcheck(name, data):
    fn, _, el = UNARY[name]
    x = data.draw(tensors(shape=shapes(**SMALL), elements=el))
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name", CANONICAL)
@given(data=st.data())
def test_unary_gradgradcheck(name, data):
    fn, _, el = UNARY[name]
    x = data.draw(tensors(shape=shapes(max_dims=2, max_side=3), elements=el))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", CANONICAL)
def test_unary_keeps_float32(name):
    fn, _, _ = UNARY[name]
    x = ag.tensor([[0.35, 1.25], [0.75, 2.05]], requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 2)


def test_relu_abs_gradient_at_zero_is_zero():
    x = ag.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    (ag.relu(x) + ag.abs(x)).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [-1.0, 0.0, 2.0])


def test_softplus_and_sigmoid_stable_for_large_inputs():
    for dtype in (np.float32, np.float64):
        x = ag.tensor(np.array([-1000.0, -60.0, 0.0, 60.0, 1000.0], dtype=dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warnings either
            sp = ag.softplus(x)
            sg = ag.sigmoid(x)
            (sp.sum() + sg.sum()).backward()
        assert np.all(np.isfinite(sp._data)) and np.all(np.isfinite(sg._data))
        assert np.all(np.isfinite(x.grad._data))
        np.testing.assert_allclose(sp._data, [0.0, 0.0, math.log(2.0), 60.0, 1000.0], atol=1e-6)
        np.testing.assert_allclose(sg._data, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)
        # d softplus = sigmoid
        np.testing.assert_allclose(x.grad._data, np.array([0, 0, 0.5, 1, 1]) + sg._data * (1 - sg._data), atol=1e-6)


def test_softplus_threshold_is_linear_above():
    x = ag.tensor(np.array([2.0, 30.0]), requires_grad=True)
    y = ag.softplus(x, beta=1.0, threshold=20.0)
    np.testing.assert_allclose(y._data, [math.log1p(math.exp(2.0)), 30.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, [1 / (1 + math.exp(-2.0)), 1.0])


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="gelu.*approximate"):
        ag.gelu(ag.tensor([1.0]), approximate="erf")


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        ag.clamp(ag.tensor([1.0]))


def test_clamp_gradient_passes_only_inside():
    x = ag.tensor(np.array([-2.0, -0.5, 0.5, 2.0]), requires_grad=True)
    ag.clamp(x, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 1.0, 1.0, 0.0])


def test_clamp_positional_bounds_and_method():
    x = ag.tensor(np.array([-2.0, 0.5, 2.0]))
    np.testing.assert_array_equal(ag.clamp(x, -1.0, 1.0)._data, [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(x.clamp(-1.0, 1.0)._data, [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(x.clip(0.0)._data, [0.0, 0.5, 2.0])


def test_clamp_with_tensor_bounds():
    x = ag.tensor(np.array([-2.0, 0.5, 2.0]), requires_grad=True)
    lo = ag.tensor(np.array([-1.0, -1.0, -1.0]), requires_grad=True)
    hi = ag.tensor(np.array(1.0), requires_grad=True)
    out = ag.clamp(x, lo, hi)
    np.testing.assert_array_equal(out._data, [-1.0, 0.5, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(lo.grad._data, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(hi.grad._data, 1.0)
    assert gradcheck(lambda a, b: ag.clamp(a, min=b), (ag.tensor(np.array([-2.05, 0.55, 2.05]), requires_grad=True),
                                                       ag.tensor(np.array([0.0, -1.0, 0.0]), requires_grad=True)))


# -- maximum / minimum ties --------------------------------------------------------------------
def test_maximum_minimum_ties_split_the_gradient():
    x = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = ag.tensor(np.array([1.0, 0.0, 5.0]), requires_grad=True)
    ag.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(y.grad._data, [0.5, 0.0, 1.0])
    x.grad = y.grad = None
    ag.minimum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(y.grad._data, [0.5, 1.0, 0.0])


def test_maximum_with_scalar():
    x = ag.tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    out = ag.maximum(x, 0.0)
    np.testing.assert_array_equal(out._data, [0.0, 0.5, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 1.0, 1.0])


# -- where -------------------------------------------------------------------------------------
@st.composite
def where_args(draw, max_dims=3, max_side=3):
    sc, sx, sy = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=max_dims, max_side=max_side)).input_shapes
    cond = draw(tensors(shape=sc, dtype=np.bool_, elements=st.booleans(), requires_grad=False))
    return cond, draw(tensors(shape=sx)), draw(tensors(shape=sy))


@given(where_args())
def test_where_forward_and_gradcheck(args):
    cond, x, y = args
    out = ag.where(cond, x, y)
    np.testing.assert_array_equal(out._data, np.where(cond._data, x._data, y._data))
    assert gradcheck(lambda a, b: ag.where(cond, a, b), (x, y))


@given(where_args(max_dims=2))
def test_where_gradgradcheck(args):
    cond, x, y = args
    assert gradgradcheck(lambda a, b: ag.where(cond, a * b, b * b), (x, y))


def test_where_gradient_values_and_scalar_branch():
    x = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    cond = np.array([True, False, True])
    out = ag.where(cond, x, 0.0)
    np.testing.assert_array_equal(out._data, [1.0, 0.0, 3.0])
    (out * 2).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 0.0, 2.0])
    out = ag.where(ag.tensor(cond), -1.0, x)   # tensor condition, scalar on the left
    np.testing.assert_array_equal(out._data, [-1.0, 2.0, -1.0])


# -- not differentiable: sign, comparisons; zero gradient: rounding --------------------------------
def test_sign_has_no_gradient():
    x = ag.tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    s = ag.sign(x)
    np.testing.assert_array_equal(s._data, [-1.0, 0.0, 1.0])
    assert not s.requires_grad and s.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        s.sum().backward()


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_piecewise_constant_ops_have_zero_gradient(name):
    # As PyTorch: the result requires grad and backward gives zeros (not an error), also through inf
    # upstream gradients and at NaN.
    x = ag.tensor(np.array([-2.5, 0.0, 3.7, np.nan, np.inf]), requires_grad=True)
    y = getattr(ag, name)(x)
    assert y.requires_grad and y.grad_fn is not None
    (y * ag.tensor([1.0, 2.0, np.inf, 1.0, 1.0], dtype=ag.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.zeros(5))


def test_sign_is_zero_at_nan_as_pytorch():
    x = ag.tensor(np.array([-2.0, 0.0, 3.0, np.nan, -np.inf]))
    np.testing.assert_array_equal(ag.sign(x)._data, [-1.0, 0.0, 1.0, 0.0, -1.0])
    np.testing.assert_array_equal(x.sgn()._data, [-1.0, 0.0, 1.0, 0.0, -1.0])
    assert ag.sign(ag.tensor([-3, 0, 2])).dtype == ag.int64


COMPARISONS = {
    "<": (lambda a, b: a < b, np.less), "<=": (lambda a, b: a <= b, np.less_equal),
    ">": (lambda a, b: a > b, np.greater), ">=": (lambda a, b: a >= b, np.greater_equal),
    "==": (lambda a, b: a == b, np.equal), "!=": (lambda a, b: a != b, np.not_equal),
}


@pytest.mark.parametrize("op", sorted(COMPARISONS))
@given(data=st.data())
def test_comparisons_give_bool_without_grad(op, data):
    fn, ref = COMPARISONS[op]
    x, y = data.draw(broadcast_pair(grid(-1, 1), grid(-1, 1), max_dims=3, max_side=3))
    for a, b in ((x, y), (x, 0.05), (0.05, y), (x, y._data)):
        out = fn(a, b)
        assert isinstance(out, ag.Tensor), (op, type(a), type(b))
        ad = a._data if isinstance(a, ag.Tensor) else a
        bd = b._data if isinstance(b, ag.Tensor) else b
        np.testing.assert_array_equal(out._data, ref(ad, bd))
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.grad_fn is None


def test_comparison_result_can_mask():
    x = ag.tensor(np.array([-1.0, 2.0, -3.0, 4.0]), requires_grad=True)
    y = x * (x > 0)
    y.sum().backward()
    np.testing.assert_array_equal(y._data, [0.0, 2.0, 0.0, 4.0])
    np.testing.assert_array_equal(x.grad._data, [0.0, 1.0, 0.0, 1.0])


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fn", [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b),
                                     ("mul", lambda a, b: a * b), ("div", lambda a, b: a / b),
                                     ("pow", lambda a, b: a ** b), ("maximum", ag.maximum),
                                     ("minimum", ag.minimum), ("lt", lambda a, b: a < b),
                                     ("eq", lambda a, b: a == b)])
def test_non_broadcastable_shapes_name_op_and_shapes(name, fn):
    a = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ag.tensor([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(3,\) and \(4,\) can't be broadcast"):
        fn(a, b)
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(3,\) and \(4,\) can't be broadcast"):
        fn(a.detach(), b)  # the same message without the tape
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(3,\) and \(2, 4\) can't be broadcast"):
        fn(a, np.ones((2, 4)))


def test_where_shape_error_names_op():
    with pytest.raises(ValueError, match=r"^where: .*\(3,\).*\(4,\)"):
        ag.where(np.array([True, False, True]), ag.ones(3), ag.ones(4))


def test_integer_arithmetic_keeps_integers():
    a = ag.arange(4)
    assert (a + 1).dtype == np.int64 and (a * a).dtype == np.int64
    np.testing.assert_array_equal((a * 2 - 1)._data, [-1, 1, 3, 5])
    assert not (a + 1).requires_grad


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "atan2"])
@pytest.mark.parametrize("scalar", [0.5, 3, -2.0])
@given(data=st.data())
def test_tensor_with_python_number_takes_the_quick_path_to_the_same_result(op, dtype, scalar, data):
    """A float tensor with a Python number on either side (``x * 0.5``, ``1 - x``) skips the general path of
    constant operands; its value, dtype (the tensor's) and gradient are the general path's exactly."""
    from autograd_core.ops.registry import OPS, _apply_general
    x_np = data.draw(hnp.arrays(dtype, shapes(max_dims=2), elements=elements(0.25, 4.0)))
    fn = OPS[op].fn     # the registered op (what x + 0.5 and 0.5 + x call)
    for number_first in (False, True):
        x = ag.tensor(x_np, requires_grad=True)
        x0 = ag.tensor(x_np, requires_grad=True)
        args = (scalar, x) if number_first else (x, scalar)
        y = fn(*args)
        y0 = _apply_general(OPS[op], (scalar, x0) if number_first else (x0, scalar), {})
        assert y.dtype == y0.dtype == dtype and y.shape == y0.shape
        np.testing.assert_array_equal(y.detach().numpy(), y0.detach().numpy())
        assert y.requires_grad and type(y.grad_fn) is type(y0.grad_fn)
        y.sum().backward()
        y0.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), x0.grad.numpy())
        with ag.no_grad():
            assert not fn(*args).requires_grad


def test_python_number_with_int_or_bool_keeps_the_general_rules():
    """Only float tensors take the quick path: int tensors with a float give the default float dtype, and
    bools and ints keep PyTorch's promotion."""
    i = ag.tensor([1, 2, 3])
    assert (i * 0.5).dtype == np.float32 and (i + 1).dtype == np.int64 and (1 - i).dtype == np.int64
    assert (i / 2).dtype == np.float32 and (i / 2).tolist() == [0.5, 1.0, 1.5]
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert (x * True).dtype == np.float32 and (True - x).tolist() == [0.0, -1.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_relative_precision_on_both_tails(dtype):
    """sigmoid(x) to a few ulps of the exact value everywhere it is a normal number, both signs mixed in
    one array (the negative tail as exp(x) / (1 + exp(x)): 1 / (1 + exp(-x)) would overflow to 0 there),
    and NaN, infinities and signed zeros as PyTorch gives them."""
    import math
    lim = 80.0 if dtype == np.float32 else 700.0
    x = np.concatenate([np.linspace(-lim, lim, 4001), [0.0, -0.0]]).astype(dtype)
    np.random.default_rng(0).shuffle(x)
    y = ag.sigmoid(ag.tensor(x)).numpy()
    assert y.dtype == dtype
    exact = np.array([1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v)) for v in x.astype(float)])
    np.testing.assert_allclose(y, exact, rtol=4 * np.finfo(dtype).eps, atol=0)
    special = ag.sigmoid(ag.tensor(np.array([np.nan, np.inf, -np.inf], dtype))).numpy()
    assert np.isnan(special[0]) and special[1] == 1.0 and special[2] == 0.0
    assert ag.sigmoid(ag.tensor(dtype(-3.0))).item() == pytest.approx(math.exp(-3) / (1 + math.exp(-3)), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0, 1.5, -0.5, 0.0, 1e30, -1e-30])
def test_leaky_relu_is_the_select_bit_for_bit(dtype, slope):
    """leaky_relu's forward (max or min of x and a x, no select) gives what ``x if x > 0 else a x`` gives,
    bit for bit: signed zeros, infinities, NaN, subnormals, overflow of a x."""
    x = np.array([-2.0, -0.0, 0.0, 3.0, np.nan, -np.inf, np.inf, 1e-45, -1e-45, 1e38, -1e38, 0.7], dtype)
    x = np.concatenate([x, np.random.default_rng(0).standard_normal(40).astype(dtype)])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ag.leaky_relu(ag.tensor(x), negative_slope=slope).numpy()
        want = np.where(x > 0, x, x * dtype(slope))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [1.0, 0.5, 1.6732632423543772, 2.0, 1e-30, 1e30, 0.0, -1.0])
def test_elu_is_the_select_bit_for_bit(dtype, alpha):
    """elu's forward (max(x, 0) + alpha expm1(min(x, 0)) with x's sign, no select) gives what PyTorch's
    ``x if x > 0 else alpha expm1(x)`` gives, bit for bit: signed zeros (elu(-0.0) is -0.0), infinities,
    NaN, subnormals, underflow."""
    x = np.array([-2.0, -0.0, 0.0, 3.0, np.nan, -np.inf, np.inf, 1e-45, -1e-45, 1e38, -1e38, -88.0, -1e-7], dtype)
    x = np.concatenate([x, np.random.default_rng(1).standard_normal(40).astype(dtype) * 3])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ag.elu(ag.tensor(x), alpha=alpha).numpy()
        want = np.where(x > 0, x, dtype(alpha) * np.expm1(x))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)
    num = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got)[num], np.signbit(want)[num])

"""autograd_core.testing: gradcheck/gradgradcheck accept correct gradients and catch wrong ones
(deliberately broken ops registered with defop), and the hypothesis strategies draw what they promise."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core import OPS, defop, xp
from autograd_core.testing import (GradcheckError, axes, broadcastable_shapes, elements, gradcheck,
                                   gradgradcheck, shapes, tensors)


@pytest.fixture
def register():
    """defop for a test: the op is removed from the registry (and xp) afterwards."""
    names = []

    def reg(name, *args, **kwargs):
        assert name not in OPS
        names.append(name)
        return defop(name, *args, **kwargs)

    yield reg
    for n in names:
        OPS.pop(n, None)
        if hasattr(xp, n):
            delattr(xp, n)


def x64(*values):
    return ag.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# -- gradcheck -----------------------------------------------------------------------------------
def test_gradcheck_accepts_correct_gradients():
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    w = ag.tensor(np.random.default_rng(1).standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (x, w)) is True
    assert gradcheck(lambda a: (a.tanh() * a).sum(axis=-1), x) is True   # a single Tensor is fine too


def test_gradcheck_catches_a_wrong_vjp(register):
    bad_square = register("_test_bad_square", np.square, (lambda g, ans, x: g * x,))   # should be 2 g x
    x = x64(0.5, -1.5, 2.0)
    with pytest.raises(GradcheckError, match=r"gradient of input 0 \(shape \(3,\)\) differs from finite differences"):
        gradcheck(bad_square, (x,))
    assert gradcheck(bad_square, (x,), raise_exception=False) is False
    good_square = register("_test_good_square", np.square, (lambda g, ans, x: 2 * g * x,))
    assert gradcheck(good_square, (x,))


def test_gradcheck_catches_a_wrong_vjp_for_the_second_input_only(register):
    bad_mul = register("_test_bad_mul", np.multiply, (lambda g, ans, x, y: g * y,
                                                      lambda g, ans, x, y: g * y))   # should be g * x
    a, b = x64(1.0, 2.0), x64(3.0, -4.0)
    with pytest.raises(GradcheckError, match="gradient of input 1"):
        gradcheck(bad_mul, (a, b))


def test_gradcheck_catches_a_gradient_that_ignores_broadcasting(register):
    # a rule that returns a gradient of the wrong values for a broadcast input is caught after un-broadcasting
    bad_add = register("_test_bad_add", np.add, (lambda g, ans, x, y: g, lambda g, ans, x, y: g * 2))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(bad_add, (ag.tensor(np.ones((2, 3)), requires_grad=True), x64(1.0, 2.0, 3.0)))


def test_gradcheck_catches_nan_gradient(register):
    nan_op = register("_test_nan_grad", np.sin, (lambda g, ans, x: g * np.nan,))
    with pytest.raises(GradcheckError):
        gradcheck(nan_op, (x64(0.1, 0.2),))


def test_gradgradcheck_catches_a_wrong_second_derivative(register):
    # bad_sq has the right forward but a wrong VJP; cube's own VJP uses it, so cube passes gradcheck
    # (first order runs on raw arrays) but its second derivative is wrong.
    register("_test_bad_sq", np.square, (lambda g, ans, x: g * x,))
    cube = register("_test_cube", lambda x: x ** 3, (lambda g, ans, x: 3 * g * xp._test_bad_sq(x),))
    x = x64(0.5, -1.2, 2.0)
    assert gradcheck(cube, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(cube, (x,))
    good_cube = register("_test_good_cube", lambda x: x ** 3, (lambda g, ans, x: 3 * g * x * x,))
    assert gradgradcheck(good_cube, (x,))


def test_gradcheck_multiple_outputs_and_integer_outputs():
    x = x64(0.3, -0.8, 1.1)
    assert gradcheck(lambda a: (a.sin(), a.argmax(), (a * a).sum()), (x,))


def test_gradcheck_with_a_constant_input_and_unused_input():
    x, c = x64(1.0, 2.0), ag.tensor(np.array([3.0, 4.0]))
    unused = x64(5.0)
    assert gradcheck(lambda a, b, u: a * b, (x, c, unused))


def test_gradcheck_perturbs_non_contiguous_and_read_only_inputs():
    base = np.random.default_rng(0).standard_normal((4, 3))
    xt = ag.tensor(base, requires_grad=True)
    xt._data = base.T                                    # a non-contiguous view
    assert not xt._data.flags.c_contiguous
    assert gradcheck(lambda a: (a * a).sum(axis=0), (xt,))
    assert xt._data.base is base or np.shares_memory(xt._data, base)   # put back as it was
    ro = ag.Tensor(np.broadcast_to(np.array([1.0, 2.0]), (3, 2)), requires_grad=True)
    assert not ro._data.flags.writeable
    assert gradcheck(lambda a: (a ** 3).sum(), (ro,))


def test_gradcheck_leaves_inputs_unchanged():
    x = x64(0.1, 0.2, 0.3)
    before = x._data.copy()
    gradcheck(lambda a: a.exp(), (x,))
    np.testing.assert_array_equal(x._data, before)
    assert x.grad is None


def test_gradcheck_input_errors():
    with pytest.raises(TypeError, match="gradcheck: input 0 is float32; finite differences need float64"):
        gradcheck(lambda a: a * 2, (ag.tensor([1.0], requires_grad=True),))
    with pytest.raises(ValueError, match="gradcheck: no input requires grad"):
        gradcheck(lambda a: a * 2, (ag.tensor(np.array([1.0])),))
    with pytest.raises(TypeError, match="gradcheck: fn must return Tensors, got float"):
        gradcheck(lambda a: 1.0, (x64(1.0),))
    with pytest.raises(TypeError, match="gradgradcheck: input 0 is float32"):
        gradgradcheck(lambda a: a * 2, (ag.tensor([1.0], requires_grad=True),))


def test_tolerances_are_respected():
    # central differences of exp at large x have a relative error ~ eps^2/6: visible with rtol=0, atol=0
    x = x64(5.0)
    assert gradcheck(lambda a: a.exp(), (x,))
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: a.exp(), (x,), eps=1e-2, atol=0.0, rtol=1e-9)


# -- hypothesis strategies -----------------------------------------------------------------------
@given(t=tensors(shape=(2, 3), elements=elements(-1.0, 0.5)))
def test_tensors_strategy_shape_dtype_elements(t):
    assert isinstance(t, ag.Tensor) and t.shape == (2, 3) and t.dtype == np.float64
    assert t.requires_grad and t.is_leaf
    assert np.all(t._data >= -1.0) and np.all(t._data <= 0.5)


@given(t=tensors(shape=shapes(max_dims=2), dtype=np.float32, requires_grad=False))
def test_tensors_strategy_float32_without_grad(t):
    assert t.dtype == np.float32 and not t.requires_grad
    assert np.all(np.isfinite(t._data)) and np.all(np.abs(t._data) <= 3.0)


@given(t=tensors(shape=st.just((5,)), unique=True))
def test_tensors_strategy_unique(t):
    assert len(np.unique(t._data)) == 5


@given(t=tensors(shape=(3,), dtype=np.int64, elements=st.integers(0, 4), requires_grad=False))
def test_tensors_strategy_integers(t):
    assert t.dtype == np.int64 and set(t._data.tolist()) <= set(range(5))


def test_shapes_strategy_reaches_scalars_and_size_one_dims():
    seen_scalar, seen_one = [], []

    @given(s=shapes())
    def check(s):
        assert isinstance(s, tuple) and len(s) <= 4 and all(1 <= d <= 5 for d in s)
        seen_scalar.append(s == ())
        seen_one.append(1 in s)

    check()
    assert any(seen_scalar) and any(seen_one)


@given(data=st.data())
def test_broadcastable_shapes_strategy(data):
    s = data.draw(shapes(max_dims=3))
    b = data.draw(broadcastable_shapes(s))
    np.broadcast_shapes(s, b)   # raises if they don't broadcast
    assert len(b) <= max(len(s), 1) + 1


@given(data=st.data())
def test_axes_strategy(data):
    nd = data.draw(st.integers(0, 4))
    ax = data.draw(axes(nd))
    x = np.zeros((2,) * nd)
    np.sum(x, axis=ax)   # a valid numpy axis argument
    if nd == 0:
        assert ax is None
    elif isinstance(ax, tuple):
        assert len(set(a % nd for a in ax)) == len(ax)

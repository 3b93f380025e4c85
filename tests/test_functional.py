"""Function transforms: grad (argnums), value_and_grad, vjp, jacobian, hessian, checked against analytic
results and central finite differences, and nested (hessian of a non-quadratic function, grad of grad)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import shapes, tensors


def numeric_jacobian(f, x, eps=1e-6):
    """d f(x) / d x by central differences: shape f(x).shape + x.shape (x a float64 ndarray)."""
    x = np.array(x, dtype=np.float64)
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        jac[(Ellipsis,) + idx] = (np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * eps)
    return jac


def f_scalar(x):
    return (x.sin() * x).sum() + (x * x).exp().mean()


def f_scalar_np(x):
    return np.sum(np.sin(x) * x) + np.mean(np.exp(x * x))


# -- grad, value_and_grad ------------------------------------------------------------------------
@given(x=tensors(shape=shapes(max_dims=2, max_side=3), elements=st.floats(-1.5, 1.5), requires_grad=False))
def test_grad_matches_finite_differences(x):
    g = ag.grad(f_scalar)(x)
    assert isinstance(g, ag.Tensor) and g.shape == x.shape
    np.testing.assert_allclose(g._data, numeric_jacobian(f_scalar_np, x._data), rtol=1e-6, atol=1e-7)
    assert not g.requires_grad
    assert x.grad is None and not x.requires_grad   # the caller's tensor is left alone


def test_grad_analytic_and_argnums():
    def f(a, b, c):
        return (a * b * b).sum() + c

    a = ag.tensor(np.array([1.0, 2.0]))
    b = ag.tensor(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(ag.grad(f)(a, b, 5.0)._data, [9.0, 16.0])
    np.testing.assert_array_equal(ag.grad(f, argnums=1)(a, b, 5.0)._data, [6.0, 16.0])
    ga, gb = ag.grad(f, argnums=(0, 1))(a, b, 5.0)
    np.testing.assert_array_equal(ga._data, [9.0, 16.0])
    np.testing.assert_array_equal(gb._data, [6.0, 16.0])
    gc = ag.grad(f, argnums=2)(a, b, 5.0)
    assert gc.item() == 1.0


def test_grad_accepts_numpy_and_python_inputs():
    g = ag.grad(lambda x: (x ** 2).sum())(np.array([1.0, -3.0]))
    np.testing.assert_array_equal(g._data, [2.0, -6.0])
    assert g.dtype == np.float64
    g = ag.grad(lambda x: x * x * x)(2.0)
    assert g.item() == pytest.approx(12.0)


def test_grad_of_unused_argument_is_zero():
    g = ag.grad(lambda x, y: (x * 2).sum(), argnums=1)(ag.ones(2), ag.ones(3))
    np.testing.assert_array_equal(g._data, np.zeros(3))
    g = ag.grad(lambda x: ag.tensor(1.0))(ag.ones(2))
    np.testing.assert_array_equal(g._data, np.zeros(2))


def test_grad_works_inside_no_grad():
    with ag.no_grad():
        g = ag.grad(lambda x: (x * x).sum())(ag.tensor(np.array([3.0])))
    np.testing.assert_array_equal(g._data, [6.0])


def test_value_and_grad():
    x = ag.tensor(np.array([0.5, 1.5]))
    v, g = ag.value_and_grad(f_scalar)(x)
    assert v.shape == () and not v.requires_grad
    np.testing.assert_allclose(v.item(), f_scalar_np(x._data))
    np.testing.assert_allclose(g._data, numeric_jacobian(f_scalar_np, x._data), rtol=1e-6)


def test_grad_needs_a_scalar_tensor_output():
    with pytest.raises(ValueError, match=r"grad: the function must return a scalar.*shape \(2,\).*vjp or jacobian"):
        ag.grad(lambda x: x * 2)(ag.ones(2))
    with pytest.raises(TypeError, match="grad: the function must return a Tensor, got float"):
        ag.grad(lambda x: 1.0)(ag.ones(2))
    with pytest.raises(ValueError, match="argnums 3 is out of range for 1 positional argument"):
        ag.grad(lambda x: x.sum(), argnums=3)(ag.ones(2))


# -- vjp -----------------------------------------------------------------------------------------
def test_vjp_against_finite_differences():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 4))

    def f(x, y):
        return (ag.tensor(A) @ x).tanh() * y

    x0, y0 = rng.standard_normal(4), rng.standard_normal(3)
    out, vjp_fn = ag.vjp(f, ag.tensor(x0), ag.tensor(y0))
    assert out.shape == (3,) and not out.requires_grad
    v = rng.standard_normal(3)
    gx, gy = vjp_fn(ag.tensor(v))
    jx = numeric_jacobian(lambda x: np.tanh(A @ x) * y0, x0)
    jy = numeric_jacobian(lambda y: np.tanh(A @ x0) * y, y0)
    np.testing.assert_allclose(gx._data, v @ jx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gy._data, v @ jy, rtol=1e-6, atol=1e-8)
    gx2, _ = vjp_fn(ag.tensor(2 * v))   # the vjp function can be called again
    np.testing.assert_allclose(gx2._data, 2 * gx._data)


# -- jacobian ------------------------------------------------------------------------------------
def test_jacobian_of_linear_map_is_the_matrix():
    A = np.arange(12.0).reshape(3, 4)
    J = ag.jacobian(lambda x: ag.tensor(A) @ x)(ag.tensor(np.ones(4)))
    assert J.shape == (3, 4)
    np.testing.assert_array_equal(J._data, A)


def test_jacobian_of_elementwise_function_is_diagonal():
    x = np.array([0.1, -0.4, 1.2])
    J = ag.jacobian(lambda t: t.tanh())(ag.tensor(x))
    np.testing.assert_allclose(J._data, np.diag(1 - np.tanh(x) ** 2))


@given(x=tensors(shape=shapes(min_dims=1, max_dims=2, max_side=3), elements=st.floats(-2, 2), requires_grad=False))
def test_jacobian_matches_finite_differences(x):
    def f(t):
        return ag.softmax(t.reshape(-1), axis=0).reshape(t.shape) * t.sum()

    def f_np(a):
        e = np.exp(a.reshape(-1) - a.max())
        return (e / e.sum()).reshape(a.shape) * a.sum()

    J = ag.jacobian(f)(x)
    assert J.shape == x.shape + x.shape
    np.testing.assert_allclose(J._data, numeric_jacobian(f_np, x._data), rtol=1e-5, atol=1e-8)


def test_jacobian_argnums_tuple_and_scalar_output():
    def f(a, b):
        return (a * b).sum()

    ja, jb = ag.jacobian(f, argnums=(0, 1))(ag.tensor(np.array([1.0, 2.0])), ag.tensor(np.array([3.0, 4.0])))
    assert ja.shape == (2,) and jb.shape == (2,)
    np.testing.assert_array_equal(ja._data, [3.0, 4.0])
    np.testing.assert_array_equal(jb._data, [1.0, 2.0])


# -- hessian and nesting -------------------------------------------------------------------------
def test_hessian_of_a_quadratic_form():
    A = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, -1.0], [0.0, 4.0, 1.0]])
    H = ag.hessian(lambda x: x @ (ag.tensor(A) @ x))(ag.tensor(np.array([0.3, -0.2, 0.7])))
    assert H.shape == (3, 3)
    np.testing.assert_allclose(H._data, A + A.T, atol=1e-12)


def test_hessian_of_logsumexp_is_diag_p_minus_ppT():
    x = np.array([0.2, -1.0, 0.7, 1.5])
    H = ag.hessian(lambda t: ag.logsumexp(t))(ag.tensor(x))
    p = np.exp(x - x.max())
    p /= p.sum()
    np.testing.assert_allclose(H._data, np.diag(p) - np.outer(p, p), atol=1e-12)


@given(x=tensors(shape=shapes(min_dims=1, max_dims=2, max_side=2), elements=st.floats(-1, 1), requires_grad=False))
def test_hessian_of_non_quadratic_function_matches_finite_differences(x):
    def f(t):
        return (t.sin() * t.exp()).sum() + (t * t).sum() ** 2 + t.tanh().prod()

    def grad_np(a):
        ea = np.exp(a)
        th = np.tanh(a)
        prod_others = np.array([np.prod(np.delete(th.reshape(-1), i)) for i in range(th.size)]).reshape(a.shape)
        return np.cos(a) * ea + np.sin(a) * ea + 4 * np.sum(a * a) * a + prod_others * (1 - th ** 2)

    H = ag.hessian(f)(x)
    assert H.shape == x.shape + x.shape
    np.testing.assert_allclose(H._data, numeric_jacobian(grad_np, x._data), rtol=1e-5, atol=1e-7)
    flat = H._data.reshape(x.size, x.size)
    np.testing.assert_allclose(flat, flat.T, atol=1e-10)   # symmetric


def test_hessian_argnums():
    def f(a, b):
        return (a * b * b * b).sum()

    a, b = ag.tensor(np.array([2.0])), ag.tensor(np.array([3.0]))
    np.testing.assert_allclose(ag.hessian(f, argnums=1)(a, b)._data, [[6 * 2.0 * 3.0]])
    np.testing.assert_allclose(ag.hessian(f, argnums=0)(a, b)._data, [[0.0]])


def test_grad_of_grad_of_grad():
    f = lambda x: x ** 4 + x.sin()  # noqa: E731
    x = ag.tensor(np.array(0.7))
    d1 = ag.grad(f)(x)
    d2 = ag.grad(ag.grad(f))(x)
    d3 = ag.grad(ag.grad(ag.grad(f)))(x)
    np.testing.assert_allclose(d1.item(), 4 * 0.7 ** 3 + np.cos(0.7))
    np.testing.assert_allclose(d2.item(), 12 * 0.7 ** 2 - np.sin(0.7))
    np.testing.assert_allclose(d3.item(), 24 * 0.7 - np.cos(0.7))


def test_jacobian_of_grad_equals_hessian():
    f = lambda t: (t ** 3).sum() * t[0]  # noqa: E731
    x = ag.tensor(np.array([1.0, 2.0]))
    np.testing.assert_allclose(ag.jacobian(ag.grad(f))(x)._data, ag.hessian(f)(x)._data)
    # d/dx0 [sum x^3 * x0] = 3x0^2 x0 + sum x^3, d/dx1 = 3 x1^2 x0
    # H = [[12 x0^2, 3 x1^2], [3 x1^2, 6 x1 x0]]
    np.testing.assert_allclose(ag.hessian(f)(x)._data, [[12.0, 12.0], [12.0, 12.0]])

"""PyTorch's complex-number functions on real tensors (autograd_core.ops.complexnum): conj, real and
resolve_conj are the tensor itself, angle is 0 or pi with a zero gradient (gradcheck over hypothesis
shapes, PyTorch parity when installed), and the functions that need complex tensors raise an error
that says what to do."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors


def test_conj_real_and_resolve_are_the_tensor_itself():
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    for y in (x.conj(), ag.conj(x), ag.conj_physical(x), x.resolve_conj(), x.resolve_neg(), ag.real(x), x.real):
        assert y is x


def test_angle_values_and_dtype():
    x = ag.tensor([2.0, -0.5, 0.0, -0.0, math.nan, -math.inf], dtype=ag.float64)
    out = ag.angle(x)._data
    np.testing.assert_array_equal(out[:4], [0.0, math.pi, 0.0, 0.0])
    assert math.isnan(out[4]) and out[5] == math.pi
    assert np.dtype(ag.angle(ag.tensor([1, -2])).dtype) == np.dtype(ag.get_default_dtype())
    assert x.angle().shape == x.shape


@given(data=st.data())
def test_angle_gradcheck(data):
    # away from 0, where angle jumps
    x = data.draw(tensors(shape=shapes(max_dims=3, max_side=3),
                          elements=st.sampled_from([-1.5, -0.5, 0.25, 2.0])))
    x = ag.tensor(x._data, requires_grad=True)
    assert gradcheck(ag.angle, (x,))
    assert gradgradcheck(lambda t: ag.angle(t) * t, (x,))


def test_angle_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.array([2.0, -0.5, 0.0, -0.0, np.nan, -np.inf, np.inf])
    x, t = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = ag.angle(x), torch.angle(t)
    np.testing.assert_array_equal(y._data, ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad._data, t.grad.numpy())


@pytest.mark.parametrize("call", [lambda x: ag.polar(x, x), lambda x: ag.view_as_complex(x.reshape(2, 2)),
                                  lambda x: ag.view_as_real(x), lambda x: ag.complex(x, x)])
def test_complex_builders_say_there_are_no_complex_tensors(call):
    with pytest.raises(TypeError, match="needs complex tensors.*two real tensors"):
        call(ag.ones(4))


def test_imag_of_a_real_tensor_is_pytorchs_error():
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        ag.tensor([1.0]).imag
    with pytest.raises(RuntimeError, match="non-complex"):
        ag.imag(ag.tensor([1.0]))

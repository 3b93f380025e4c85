"""Indexing: t[...] with ints, slices, None, Ellipsis, negative steps, integer arrays (repeats add up)
and boolean masks; __setitem__ on the tape; gather, take_along_axis, index_select, masked_fill.
Values against numpy, gradcheck/gradgradcheck over hypothesis-drawn shapes and indices."""
import numpy as np
import pytest
import hypothesis.extra.numpy as hnp
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors


def squared_sum_check(x, idx):
    out = x[idx]
    np.testing.assert_array_equal(out._data, x._data[idx])
    assert gradcheck(lambda t: t[idx], (x,))
    return out


@given(data=st.data())
def test_basic_indices(data):
    """ints, slices (negative steps included), None and Ellipsis, as hypothesis' basic_indices draws them."""
    x = data.draw(tensors(shape=shapes(min_dims=1, max_dims=3, max_side=4)))
    idx = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    squared_sum_check(x, idx)


@given(data=st.data())
def test_basic_indices_gradgradcheck(data):
    x = data.draw(tensors(shape=shapes(min_dims=1, max_dims=2, max_side=3)))
    idx = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    assert gradgradcheck(lambda t: t[idx] * t[idx], (x,))


def test_negative_step_slices_and_their_gradient():
    x = ag.tensor(np.arange(6.0), requires_grad=True)
    y = x[::-2]
    np.testing.assert_array_equal(y._data, [5.0, 3.0, 1.0])
    (y * ag.tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 3.0, 0.0, 2.0, 0.0, 1.0])


@given(data=st.data())
def test_integer_array_indices(data):
    x = data.draw(tensors(shape=shapes(min_dims=1, max_dims=3, max_side=4)))
    idx = data.draw(hnp.integer_array_indices(x.shape, result_shape=shapes(min_dims=0, max_dims=2, max_side=4)))
    squared_sum_check(x, idx)
    assert gradgradcheck(lambda t: t[idx] ** 2, (x,))


def test_repeated_integer_indices_accumulate():
    x = ag.tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    y = x[[0, 0, 2, 0]]
    np.testing.assert_array_equal(y._data, [10.0, 10.0, 30.0, 10.0])
    (y * ag.tensor(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [7.0, 0.0, 3.0])


def test_repeated_indices_in_two_dims():
    x = ag.tensor(np.zeros((3, 3)), requires_grad=True)
    rows = np.array([[0, 0], [2, 0]])
    cols = np.array([[1, 1], [2, 1]])
    x[rows, cols].sum().backward()
    expected = np.zeros((3, 3))
    expected[0, 1] = 3.0
    expected[2, 2] = 1.0
    np.testing.assert_array_equal(x.grad._data, expected)


@given(data=st.data())
def test_boolean_masks(data):
    x = data.draw(tensors(shape=shapes(min_dims=1, max_dims=3, max_side=4)))
    k = data.draw(st.integers(1, x.ndim))   # a mask over the first k dims
    mask = data.draw(hnp.arrays(np.bool_, x.shape[:k]))
    squared_sum_check(x, mask)
    out = x[ag.tensor(mask)]                 # a bool Tensor works as a mask too
    np.testing.assert_array_equal(out._data, x._data[mask])


def test_mask_from_comparison():
    x = ag.tensor(np.array([[-1.0, 2.0], [3.0, -4.0]]), requires_grad=True)
    pos = x[x > 0]
    np.testing.assert_array_equal(pos._data, [2.0, 3.0])
    (pos * pos).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[0.0, 4.0], [6.0, 0.0]])


@pytest.mark.parametrize("idx", [
    (slice(1, None), [0, 2]),
    (Ellipsis, None, np.array([1, 1])),
    ([0, 2], slice(None, None, -1)),
    (1, Ellipsis, -1),
    (np.array([[0], [2]]), np.array([0, 2, 2])),
    (slice(None), np.array([True, False, True, True])),
])
def test_mixed_indices(idx):
    x = ag.tensor(np.arange(12.0).reshape(3, 4) / 7, requires_grad=True)
    squared_sum_check(x, idx)


def test_tensor_and_list_indices():
    x = ag.tensor(np.arange(5.0), requires_grad=True)
    np.testing.assert_array_equal(x[ag.tensor([4, 0])]._data, [4.0, 0.0])
    np.testing.assert_array_equal(x[ag.tensor(2)]._data, 2.0)
    np.testing.assert_array_equal(x[[1, -1]]._data, [1.0, 4.0])
    assert x[-1].shape == () and x[-1].item() == 4.0


def test_iteration_yields_rows_on_the_tape():
    x = ag.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    total = sum(row.sum() * i for i, row in enumerate(x))
    total.backward()
    np.testing.assert_array_equal(x.grad._data, [[0, 0], [1, 1], [2, 2]])


def test_index_errors_name_op_and_shape():
    x = ag.ones(2, 3)
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="index arrays must be integer or boolean, got dtype float64"):
        x[np.array([0.5])]


# -- __setitem__ -------------------------------------------------------------------------------
def test_setitem_on_the_tape():
    w = ag.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    v = ag.tensor(np.array([10.0, 20.0]), requires_grad=True)
    y = w * 2
    y[1:3] = v * v
    np.testing.assert_array_equal(y._data, [2.0, 100.0, 400.0, 8.0])
    assert y.grad_fn is not None
    (y * ag.tensor(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(w.grad._data, [2.0, 0.0, 0.0, 8.0])   # overwritten entries get no gradient
    np.testing.assert_array_equal(v.grad._data, [2.0 * 2 * 10, 3.0 * 2 * 20])


def test_setitem_scalar_and_broadcast_value():
    w = ag.tensor(np.ones((2, 3)), requires_grad=True)
    b = ag.tensor(np.array([5.0, 6.0, 7.0]), requires_grad=True)
    y = w + 0
    y[0] = b          # (3,) into a row
    y[1, 0] = -1.0    # a Python scalar
    np.testing.assert_array_equal(y._data, [[5.0, 6.0, 7.0], [-1.0, 1.0, 1.0]])
    y.sum().backward()
    np.testing.assert_array_equal(w.grad._data, [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(b.grad._data, [1.0, 1.0, 1.0])


def test_setitem_value_broadcast_from_smaller_tensor():
    y = ag.zeros(2, 3, dtype=np.float64)
    s = ag.tensor(np.array(2.0), requires_grad=True)
    y[:, 1:] = s
    (y * 3).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 12.0


def test_setitem_into_a_plain_buffer_and_value_with_extra_leading_dims():
    t = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = ag.zeros(3, dtype=np.float64)      # a leaf that doesn't require grad: it joins the tape
    out[0] = t[0] * 2
    out[ag.tensor([False, True, True])] = t * 3
    assert not out.is_leaf and out.requires_grad
    np.testing.assert_array_equal(out._data, [2.0, 3.0, 6.0])
    out.sum().backward()
    np.testing.assert_array_equal(t.grad._data, [5.0, 3.0])
    y = ag.zeros(2, 3, dtype=np.float64)
    v = ag.tensor(np.ones((1, 3)), requires_grad=True)
    y[0] = v                                 # numpy drops the value's leading size-1 dim
    (y * 2).sum().backward()
    assert v.grad.shape == (1, 3)
    np.testing.assert_array_equal(v.grad._data, [[2.0, 2.0, 2.0]])


def test_setitem_gradcheck():
    v0 = ag.tensor(np.array([0.3, -0.7]), requires_grad=True)
    w0 = ag.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)

    def f(w, v):
        y = w * w
        y[:, 1] = v * 3
        return y

    assert gradcheck(f, (w0, v0))
    assert gradgradcheck(lambda w, v: f(w, v) * w, (w0, v0))


def test_setitem_without_grad_writes_in_place():
    x = ag.zeros(3)
    buf = x._data
    x[1] = 5.0
    assert x._data is buf and x.tolist() == [0.0, 5.0, 0.0]
    assert x._version == 1


@pytest.mark.parametrize("grad", [False, True])
def test_setitem_errors_name_op_and_shapes(grad):
    w = ag.tensor(np.arange(4.0), requires_grad=True)
    y = w * 1 if grad else ag.tensor(np.arange(4.0))
    with pytest.raises(ValueError, match=r"setitem: a value of shape \(3,\) can't be broadcast to the selected "
                                         r"shape \(2,\).*tensor of shape \(4,\)"):
        y[0:2] = ag.ones(3)
    with pytest.raises(IndexError, match=r"setitem: index \(7,\) is invalid for a tensor of shape \(4,\)"):
        y[7] = 1.0
    np.testing.assert_array_equal(y._data, np.arange(4.0))   # nothing half-written
    assert y._version == 0


# -- gather / take_along_axis / index_select / masked_fill ---------------------------------------
@st.composite
def gather_case(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    x = draw(tensors(shape=shape))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(draw(st.integers(1, 4)) if d == dim % len(shape) else draw(st.integers(1, s))
                   for d, s in enumerate(shape))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-shape[dim], shape[dim] - 1)))
    return x, dim, index


def _gather_ref(a, dim, index):
    out = np.empty(index.shape, a.dtype)
    for pos in np.ndindex(index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = a[tuple(src)]
    return out


@given(case=gather_case())
def test_gather(case):
    x, dim, index = case
    out = ag.gather(x, dim, index)
    np.testing.assert_array_equal(out._data, _gather_ref(x._data, dim % x.ndim, index))
    assert gradcheck(lambda t: t.gather(dim, ag.tensor(index)), (x,))
    assert gradgradcheck(lambda t: ag.gather(t, dim, index) ** 2, (x,))


def test_gather_repeated_index_accumulates():
    x = ag.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    out = ag.gather(x, 1, np.array([[0, 0, 0], [1, 0, 1]]))
    np.testing.assert_array_equal(out._data, [[1.0, 1.0, 1.0], [4.0, 3.0, 4.0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[3.0, 0.0], [1.0, 2.0]])


@given(data=st.data())
def test_take_along_axis(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(tensors(shape=shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(data.draw(st.integers(1, 4)) if d == axis % len(shape) else data.draw(st.sampled_from([1, s]))
                   for d, s in enumerate(shape))     # size-1 dims broadcast, as numpy allows
    index = data.draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[axis] - 1)))
    out = ag.take_along_axis(x, index, axis)
    np.testing.assert_array_equal(out._data, np.take_along_axis(x._data, index, axis))
    assert gradcheck(lambda t: ag.take_along_axis(t, index, axis), (x,))


def test_take_along_axis_picks_argmax():
    x = ag.tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]), requires_grad=True)
    idx = x.argmax(axis=1, keepdims=True)
    top = x.take_along_axis(idx, 1)
    np.testing.assert_array_equal(top._data, [[5.0], [7.0]])
    top.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[0, 1, 0], [1, 0, 0]])


def test_gather_errors():
    x = ag.ones(2, 3)
    with pytest.raises(ValueError, match=r"gather: index has 1 dims but the input has 2 \(shape \(2, 3\)\)"):
        ag.gather(x, 0, np.array([0]))
    with pytest.raises(IndexError, match="gather: index out of range for dim 1 of size 3"):
        ag.gather(x, 1, np.array([[3]]))
    with pytest.raises(ValueError, match="gather: index shape .* exceeds input shape"):
        ag.gather(x, 1, np.zeros((3, 1), np.int64))


def test_index_select_and_masked_fill():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    sel = ag.index_select(x, 1, ag.tensor([2, 0, 2]))
    np.testing.assert_array_equal(sel._data, [[2.0, 0.0, 2.0], [5.0, 3.0, 5.0]])
    sel.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]])
    x.grad = None
    mask = x._data > 2
    filled = x.masked_fill(mask, -1.0)
    np.testing.assert_array_equal(filled._data, [[0.0, 1.0, 2.0], [-1.0, -1.0, -1.0]])
    filled.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])

"""The Tensor: attributes, constructors, dtype rules (PyTorch defaults, numpy 2 promotion), repr,
numpy interop, conversions and the errors for unsupported data."""
import numpy as np
import pytest

import autograd_core as ag


# -- attributes ----------------------------------------------------------------------------------
def test_attributes():
    t = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float32
    assert t.numel() == 6 and t.dim() == 2 and len(t) == 2
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T._data, t._data.T)
    y = t * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    assert y.grad_fn.name() == "MulBackward"
    assert ag.tensor(1.0).shape == () and ag.tensor(1.0).ndim == 0


def test_item_numpy_detach_tolist():
    t = ag.tensor([[2.5]], requires_grad=True)
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert ag.tensor(3).item() == 3 and isinstance(ag.tensor(3).item(), int)
    with pytest.raises(ValueError, match=r"item\(\): only one-element tensors.*shape \(2,\)"):
        ag.tensor([1.0, 2.0]).item()
    d = (t * 2).detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert d.numpy()[0, 0] == 5.0
    y = t * 2
    with pytest.raises(RuntimeError, match=r"numpy\(\) on a Tensor that requires grad.*detach\(\)"):
        y.numpy()
    assert ag.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]


def test_detach_shares_memory():
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    d = t.detach()
    assert np.shares_memory(d._data, t._data)


def test_python_number_conversions():
    assert float(ag.tensor([2.5])) == 2.5
    assert int(ag.tensor(7)) == 7
    assert [10, 20, 30][ag.tensor(1)] == 20          # __index__
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        [1, 2][ag.tensor(1.0)]
    assert bool(ag.tensor([True]))
    with pytest.raises(RuntimeError, match="Boolean value of a tensor with 2 elements is ambiguous"):
        bool(ag.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ag.tensor(1.0))


def test_hash_is_identity_and_eq_is_elementwise():
    a, b = ag.tensor([1.0]), ag.tensor([1.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1
    assert isinstance(a == b, ag.Tensor) and (a == b)._data.all()


# -- constructors --------------------------------------------------------------------------------
def test_tensor_copies_but_from_numpy_shares():
    arr = np.array([1.0, 2.0])
    t = ag.tensor(arr)
    arr[0] = 99.0
    assert t._data[0] == 1.0
    f = ag.from_numpy(arr)
    arr[1] = -1.0
    assert f._data[1] == -1.0 and f.dtype == np.float64
    with pytest.raises(TypeError, match="from_numpy: expected np.ndarray, got list"):
        ag.from_numpy([1.0])
    t2 = ag.tensor(t)
    assert t2._data is not t._data


def test_constructors():
    assert ag.zeros(2, 3).shape == (2, 3) and ag.zeros((2, 3)).shape == (2, 3)
    assert ag.zeros(2, 3).dtype == np.float32 and not ag.zeros(2)._data.any()
    assert ag.ones(4)._data.sum() == 4 and ag.ones(4).dtype == np.float32
    assert ag.ones(2, dtype=np.float64).dtype == np.float64
    assert ag.zeros(2, requires_grad=True).requires_grad

    assert ag.full((2, 2), 1.5).dtype == np.float32 and ag.full((2, 2), 1.5)._data[0, 0] == 1.5
    assert ag.full((2,), 3).dtype == np.int64
    assert ag.full((2,), True).dtype == np.bool_
    assert ag.full(3, 0.5).shape == (3,)

    np.testing.assert_array_equal(ag.arange(5)._data, np.arange(5))
    assert ag.arange(5).dtype == np.int64
    assert ag.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_allclose(ag.arange(0.0, 1.0, 0.25)._data, [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(ag.arange(2, 8, 3)._data, [2, 5])

    lin = ag.linspace(0, 1, 5)
    assert lin.dtype == np.float32
    np.testing.assert_allclose(lin._data, [0, 0.25, 0.5, 0.75, 1.0])

    np.testing.assert_array_equal(ag.eye(3)._data, np.eye(3))
    assert ag.eye(2, 3).shape == (2, 3) and ag.eye(3).dtype == np.float32

    base = ag.tensor(np.ones((2, 3), np.float64))
    z = ag.zeros_like(base)
    assert z.shape == (2, 3) and z.dtype == np.float64 and not z._data.any()
    o = ag.ones_like(base, dtype=np.float32)
    assert o.dtype == np.float32 and o._data.all()
    assert ag.full_like(base, 7.0)._data[1, 2] == 7.0


def test_random_constructors_are_seedable():
    ag.manual_seed(123)
    a = ag.randn(3, 4)
    ag.manual_seed(123)
    b = ag.randn(3, 4)
    np.testing.assert_array_equal(a._data, b._data)
    assert a.dtype == np.float32 and a.shape == (3, 4)
    g1, g2 = ag.Generator(7), ag.Generator(7)
    np.testing.assert_array_equal(ag.rand(5, generator=g1)._data, ag.rand(5, generator=g2)._data)
    r = ag.rand(1000, generator=ag.Generator(0))
    assert r._data.min() >= 0 and r._data.max() < 1
    n = ag.randn(20000, generator=ag.Generator(0), dtype=np.float64)
    assert n.dtype == np.float64 and abs(n._data.mean()) < 0.05 and abs(n._data.std() - 1) < 0.05
    assert not np.array_equal(ag.randn(4, generator=ag.Generator(1))._data, ag.randn(4, generator=ag.Generator(2))._data)
    i = ag.randint(0, 3, size=(100,), generator=ag.Generator(0))
    assert i.dtype == np.int64 and set(np.unique(i._data)) <= {0, 1, 2}
    assert ag.randn(2, requires_grad=True).requires_grad


# -- dtypes --------------------------------------------------------------------------------------
def test_default_dtypes_follow_pytorch():
    assert ag.tensor(1.5).dtype == np.float32
    assert ag.tensor([1.0, 2.0]).dtype == np.float32
    assert ag.tensor([1, 2.5]).dtype == np.float32
    assert ag.tensor([]).dtype == np.float32
    assert ag.tensor(3).dtype == np.int64 and ag.tensor([1, 2]).dtype == np.int64
    assert ag.tensor(True).dtype == np.bool_
    assert ag.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert ag.tensor([1, 2], dtype="float32").dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_])
def test_numpy_arrays_keep_their_dtype(dtype):
    arr = np.zeros(3, dtype=dtype)
    assert ag.tensor(arr).dtype == dtype
    assert ag.Tensor(arr).dtype == dtype
    assert ag.from_numpy(arr).dtype == dtype
    assert ag.tensor(arr[0]).dtype == dtype    # numpy scalars too


def test_set_default_dtype():
    ag.set_default_dtype(np.float64)
    try:
        assert ag.get_default_dtype() == np.float64
        assert ag.tensor([1.0]).dtype == np.float64
        assert ag.zeros(2).dtype == np.float64 and ag.ones(2).dtype == np.float64
        assert ag.rand(2).dtype == np.float64 and ag.randn(2).dtype == np.float64
        assert ag.arange(0.0, 1.0, 0.5).dtype == np.float64 and ag.linspace(0, 1, 3).dtype == np.float64
        assert ag.full((2,), 0.5).dtype == np.float64 and ag.eye(2).dtype == np.float64
        assert ag.tensor([1, 2]).dtype == np.int64  # integers are unaffected
        assert ag.tensor(np.zeros(2, np.float32)).dtype == np.float32  # arrays keep theirs
    finally:
        ag.set_default_dtype(np.float32)
    assert ag.tensor([1.0]).dtype == np.float32
    with pytest.raises(TypeError, match="set_default_dtype: only floating dtypes are allowed, got int64"):
        ag.set_default_dtype(np.int64)


def test_promotion_like_pytorch():
    f32 = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    f64 = ag.tensor(np.ones(2, np.float64), requires_grad=True)
    out = f32 * f64
    assert out.dtype == np.float64
    out.sum().backward()
    assert f32.grad.dtype == np.float32 and f64.grad.dtype == np.float64  # gradients keep the input's dtype
    assert (f32 + 1.5).dtype == np.float32       # Python scalars are weak
    assert (f32 * 2).dtype == np.float32
    assert (f32 + np.float64(1.5)).dtype == np.float32   # NumPy scalars too, as in PyTorch (not NEP 50)
    assert (f32 + np.ones(2)).dtype == np.float64         # an array with dims acts as a tensor
    assert (ag.tensor([1, 2]) + ag.tensor(np.array([1, 2], np.int32))).dtype == np.int64
    assert (ag.tensor(np.array([1, 2], np.int32)) + 1).dtype == np.int32
    # PyTorch's rules, not NumPy's: int64 with float32 is float32, and a 0-d float64 does not promote
    assert (ag.tensor([1, 2]) + ag.tensor([0.5, 0.5])).dtype == np.float32
    assert (f32 * ag.tensor(2.0, dtype=np.float64)).dtype == np.float32


def test_python_floats_with_integer_tensors_give_the_default_dtype():
    i = ag.arange(4)
    for out in (i * 0.5, 0.5 * i, i + 1.5, i ** 0.5, 2.5 ** i, i / 2, i / (i + 1), 3 / (i + 1),
                ag.tensor([True, False]) * 1.5, ag.tensor(np.array([3], np.uint8)) * 0.5):
        assert out.dtype == np.float32, out
    np.testing.assert_allclose((i / 2)._data, [0.0, 0.5, 1.0, 1.5])
    assert (i + 1).dtype == np.int64 and (i * 2).dtype == np.int64   # ints stay ints
    ag.set_default_dtype(np.float64)
    try:
        assert (i * 0.5).dtype == np.float64 and (i / 2).dtype == np.float64
    finally:
        ag.set_default_dtype(np.float32)


def test_type_conversions():
    t = ag.tensor([1.7, -2.2])
    assert t.double().dtype == np.float64 and t.float().dtype == np.float32 and t.half().dtype == np.float16
    assert t.long().dtype == np.int64 and t.long().tolist() == [1, -2]
    assert t.int().dtype == np.int32 and t.bool().dtype == np.bool_
    assert t.to(np.float64).dtype == np.float64 and t.astype("float64").dtype == np.float64
    assert t.float() is t   # already float32: no copy, like torch


# -- errors for unsupported data -----------------------------------------------------------------
@pytest.mark.parametrize("data", ["abc", ["a", "b"], [object()], None, np.array([1 + 2j]), [1 + 2j],
                                  np.array(["x"]), np.array([{}], dtype=object)])
def test_unsupported_dtypes_raise_type_error_saying_what_is_allowed(data):
    with pytest.raises(TypeError, match="allowed are bool, integer and floating dtypes"):
        ag.tensor(data)


def test_ragged_lists_get_a_clear_error():
    with pytest.raises(ValueError, match=r"^tensor: can't build a tensor from list data of uneven \(ragged\) nesting"):
        ag.tensor([[1.0], [1.0, 2.0]])


@pytest.mark.parametrize("make", [lambda: ag.tensor([1, 2], requires_grad=True),
                                  lambda: ag.tensor([True], requires_grad=True),
                                  lambda: ag.arange(3).requires_grad_(),
                                  lambda: ag.zeros(2, dtype=np.int32, requires_grad=True)])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError, match="only floating point tensors can require gradients, got dtype"):
        make()


def test_requires_grad_flag_on_non_leaf():
    y = ag.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    leaf = ag.tensor([1.0]).requires_grad_()
    assert leaf.requires_grad and leaf.is_leaf


# -- repr ----------------------------------------------------------------------------------------
def test_repr_like_pytorch():
    assert repr(ag.tensor([[1.0, 2.0]], requires_grad=True)) == "tensor([[1., 2.]], requires_grad=True)"
    x = ag.tensor([[1.0, 2.0]], requires_grad=True)
    assert repr(x * 2) == "tensor([[2., 4.]], grad_fn=<MulBackward>)"
    assert repr(x + 1).endswith("grad_fn=<AddBackward>)")
    assert repr(x.sum()) == "tensor(3., grad_fn=<SumBackward>)"
    assert repr(ag.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(ag.tensor(0.5)) == "tensor(0.5000)"
    assert repr(ag.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ag.tensor([True, False])) == "tensor([ True, False])"
    assert repr(ag.tensor(np.array([1.0, 2.0]))) == "tensor([1., 2.], dtype=float64)"
    assert repr(ag.tensor(np.array([1, 2], np.int32))) == "tensor([1, 2], dtype=int32)"
    assert str(ag.tensor([3.0])) == "tensor([3.])"


def test_repr_of_large_tensor_is_summarized():
    r = repr(ag.zeros(2000))
    assert "..." in r and len(r) < 200


# -- numpy interop and operators -----------------------------------------------------------------
def test_np_asarray_and_array_protocol():
    t = ag.tensor([1.0, 2.0])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a is t._data
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    c = np.array(t, copy=True)
    assert c is not t._data and np.array_equal(c, t._data)
    np.testing.assert_array_equal(np.sum(np.asarray(t)), 3.0)


def test_ndarray_on_the_left_defers_to_tensor():
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    for out in (np.ones(2) + t, np.ones(2) * t, np.ones(2) - t, np.ones(2) / t, np.ones((1, 2)) @ t):
        assert isinstance(out, ag.Tensor) and out.requires_grad, type(out)


def test_operators_with_scalars_on_either_side_values():
    t = ag.tensor([1.0, 2.0, 4.0])
    np.testing.assert_array_equal((2 * t)._data, [2, 4, 8])
    np.testing.assert_array_equal((1 - t)._data, [0, -1, -3])
    np.testing.assert_array_equal((t ** 2)._data, [1, 4, 16])
    np.testing.assert_array_equal((2 ** t)._data, [2, 4, 16])
    np.testing.assert_array_equal((-t)._data, [-1, -2, -4])
    np.testing.assert_array_equal((8 / t)._data, [8, 4, 2])
    np.testing.assert_array_equal((t // 2)._data, [0, 1, 2])
    np.testing.assert_array_equal((t % 3)._data, [1, 2, 1])
    np.testing.assert_array_equal((t > 1.5)._data, [False, True, True])
    np.testing.assert_array_equal((2 < t)._data, [False, False, True])
    np.testing.assert_array_equal(((t > 1) & (t < 4))._data, [False, True, False])
    np.testing.assert_array_equal((~(t > 1))._data, [True, False, False])
    w = ag.tensor([[1.0], [1.0], [1.0]])
    np.testing.assert_array_equal((t @ w)._data, [7.0])


def test_tensor_from_list_of_tensors():
    t = ag.tensor([ag.tensor(1.0), ag.tensor(2.0)])
    assert t.shape == (2,) and t.dtype == np.float32 and not t.requires_grad

"""NumPy protocols and DLPack: every NumPy function and ufunc with a taped op gives NumPy's values on the
arrays, returns a Tensor and passes gradcheck in float64 (fixed shapes for the whole table, hypothesis
shapes for a representative set); everything else is refused with a message that names it; mixed
ndarray / NumPy scalar / Tensor operators keep their Tensor results; DLPack shares memory both ways
with NumPy and (when installed) PyTorch."""
import doctest
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core import interop
from autograd_core.testing import broadcastable_shapes, elements, gradcheck, shapes, tensors

RNG = np.random.default_rng(1234)


def spaced(shape, lo=-2.0, hi=2.0):
    """float64 values at least 0.05 apart and 0.025 away from multiples of 0.05 (no ties, no kinks at 0)."""
    n = int(np.prod(shape, dtype=np.int64))
    grid = np.arange(lo, hi, 0.05) + 0.025
    return RNG.permutation(grid)[:n].reshape(shape)


def positive(shape):
    return RNG.uniform(0.3, 2.0, shape)


def normal(shape):
    return RNG.standard_normal(shape)


IDX = np.array([[0, 2, 1], [1, 1, 0]])

# name: (function of arrays or Tensors, [(shape, value maker)] per input). The function is called once
# with NumPy arrays (the reference) and once with Tensors: the calls go through NumPy's protocols.
DIFFERENTIABLE = {
    # ufuncs
    "exp": (lambda a: np.exp(a), [((2, 3), normal)]),
    "log": (lambda a: np.log(a), [((2, 3), positive)]),
    "log1p": (lambda a: np.log1p(a), [((2, 3), positive)]),
    "expm1": (lambda a: np.expm1(a), [((2, 3), normal)]),
    "sqrt": (lambda a: np.sqrt(a), [((2, 3), positive)]),
    "sin": (lambda a: np.sin(a), [((3,), normal)]),
    "cos": (lambda a: np.cos(a), [((3,), normal)]),
    "tanh": (lambda a: np.tanh(a), [((2, 2), normal)]),
    "square": (lambda a: np.square(a), [((2, 2), normal)]),
    "negative": (lambda a: np.negative(a), [((2, 2), normal)]),
    "positive": (lambda a: np.positive(a), [((2, 2), normal)]),
    "absolute": (lambda a: np.absolute(a), [((2, 3), spaced)]),
    "abs": (lambda a: np.abs(a), [((2, 3), spaced)]),
    "add": (lambda a, b: np.add(a, b), [((2, 3), normal), ((3,), normal)]),
    "subtract": (lambda a, b: np.subtract(a, b), [((2, 1), normal), ((3,), normal)]),
    "multiply": (lambda a, b: np.multiply(a, b), [((2, 3), normal), ((2, 3), normal)]),
    "divide": (lambda a, b: np.divide(a, b), [((2, 3), normal), ((3,), positive)]),
    "true_divide": (lambda a, b: np.true_divide(a, b), [((3,), normal), ((2, 3), positive)]),
    "power": (lambda a, b: np.power(a, b), [((2, 3), positive), ((2, 3), normal)]),
    "power_int": (lambda a: np.power(a, 3), [((2, 3), normal)]),
    "maximum": (lambda a, b: np.maximum(a, b), [((2, 3), spaced), ((2, 3), spaced)]),
    "minimum": (lambda a, b: np.minimum(a, b), [((2, 3), spaced), ((3,), spaced)]),
    "matmul": (lambda a, b: np.matmul(a, b), [((2, 3), normal), ((3, 4), normal)]),
    "matmul_batched": (lambda a, b: np.matmul(a, b), [((2, 2, 3), normal), ((3,), normal)]),
    # functions
    "sum": (lambda a: np.sum(a), [((2, 3), normal)]),
    "sum_axis_positional": (lambda a: np.sum(a, 1), [((2, 3), normal)]),
    "sum_axes_keepdims": (lambda a: np.sum(a, axis=(0, -1), keepdims=True), [((2, 3, 2), normal)]),
    "mean": (lambda a: np.mean(a, axis=0), [((2, 3), normal)]),
    "mean_all": (lambda a: np.mean(a), [((2, 3), normal)]),
    "prod": (lambda a: np.prod(a, axis=-1, keepdims=True), [((2, 3), normal)]),
    "max": (lambda a: np.max(a, axis=1), [((2, 3), spaced)]),
    "amax": (lambda a: np.amax(a), [((2, 3), spaced)]),
    "min": (lambda a: np.min(a, axis=0, keepdims=True), [((2, 3), spaced)]),
    "amin": (lambda a: np.amin(a, axis=(0, 1)), [((2, 3), spaced)]),
    "var": (lambda a: np.var(a), [((2, 3), normal)]),
    "var_ddof": (lambda a: np.var(a, axis=1, ddof=1), [((2, 3), normal)]),
    "var_correction": (lambda a: np.var(a, axis=0, correction=1, keepdims=True), [((3, 2), normal)]),
    "std": (lambda a: np.std(a, axis=(0, 1)), [((2, 3), normal)]),
    "std_ddof": (lambda a: np.std(a, ddof=1, keepdims=True), [((2, 3), normal)]),
    "cumsum": (lambda a: np.cumsum(a, axis=1), [((2, 3), normal)]),
    "cumsum_flat": (lambda a: np.cumsum(a), [((2, 3), normal)]),
    "concatenate": (lambda a, b: np.concatenate([a, b], axis=1), [((2, 3), normal), ((2, 2), normal)]),
    "concatenate_none": (lambda a, b: np.concatenate((a, b), axis=None), [((2, 3), normal), ((2,), normal)]),
    "stack": (lambda a, b: np.stack([a, b], axis=-1), [((2, 3), normal), ((2, 3), normal)]),
    "reshape": (lambda a: np.reshape(a, (3, -1)), [((2, 3), normal)]),
    "reshape_int": (lambda a: np.reshape(a, -1), [((2, 3), normal)]),
    "ravel": (lambda a: np.ravel(a), [((2, 3), normal)]),
    "transpose": (lambda a: np.transpose(a), [((2, 3, 4), normal)]),
    "transpose_axes": (lambda a: np.transpose(a, (1, 2, 0)), [((2, 3, 4), normal)]),
    "swapaxes": (lambda a: np.swapaxes(a, 0, -1), [((2, 3, 4), normal)]),
    "moveaxis": (lambda a: np.moveaxis(a, 0, -1), [((2, 3, 4), normal)]),
    "moveaxis_many": (lambda a: np.moveaxis(a, [0, 1], [-1, 0]), [((2, 3, 4), normal)]),
    "squeeze": (lambda a: np.squeeze(a), [((1, 3, 1), normal)]),
    "squeeze_axis": (lambda a: np.squeeze(a, axis=(0,)), [((1, 3, 1), normal)]),
    "expand_dims": (lambda a: np.expand_dims(a, 1), [((2, 3), normal)]),
    "expand_dims_tuple": (lambda a: np.expand_dims(a, (0, -1)), [((2, 3), normal)]),
    "broadcast_to": (lambda a: np.broadcast_to(a, (4, 2, 3)), [((2, 1), normal)]),
    "where": (lambda a, b: np.where(a > b, a, b), [((2, 3), spaced), ((2, 3), spaced)]),
    "where_scalar": (lambda a: np.where(a > 0, a, 0.0), [((2, 3), spaced)]),
    "clip": (lambda a: np.clip(a, -0.61, 0.73), [((2, 3), spaced)]),
    "clip_keywords": (lambda a: np.clip(a, min=-0.61), [((2, 3), spaced)]),
    "clip_none": (lambda a: np.clip(a, None, 0.37), [((2, 3), spaced)]),
    "dot_1d": (lambda a, b: np.dot(a, b), [((3,), normal), ((3,), normal)]),
    "dot_2d": (lambda a, b: np.dot(a, b), [((2, 3), normal), ((3, 2), normal)]),
    "dot_nd_1d": (lambda a, b: np.dot(a, b), [((2, 2, 3), normal), ((3,), normal)]),
    "dot_scalar": (lambda a, b: np.dot(a, b), [((), normal), ((2, 3), normal)]),
    "outer": (lambda a, b: np.outer(a, b), [((3,), normal), ((2, 2), normal)]),
    "einsum": (lambda a, b: np.einsum("ij,jk->ik", a, b), [((2, 3), normal), ((3, 2), normal)]),
    "einsum_implicit": (lambda a, b: np.einsum("ij,ij", a, b, optimize=True), [((2, 3), normal), ((2, 3), normal)]),
    "tile": (lambda a: np.tile(a, (2, 1, 2)), [((2, 3), normal)]),
    "flip": (lambda a: np.flip(a), [((2, 3), normal)]),
    "flip_axis": (lambda a: np.flip(a, axis=1), [((2, 3), normal)]),
    "pad": (lambda a: np.pad(a, 1), [((2, 3), normal)]),
    "pad_pairs": (lambda a: np.pad(a, ((0, 1), (2, 0)), constant_values=1.5), [((2, 3), normal)]),
    "pad_one_pair": (lambda a: np.pad(a, (1, 2), mode="constant"), [((2, 3), normal)]),
    "take_along_axis": (lambda a: np.take_along_axis(a, IDX, axis=1), [((2, 3), normal)]),
    "copy": (lambda a: np.copy(a), [((2, 3), normal)]),
}


def _inputs(spec):
    return [make(shape) for shape, make in spec]


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_dispatched_function_values_and_gradient(name):
    fn, spec = DIFFERENTIABLE[name]
    arrays = _inputs(spec)
    want = fn(*arrays)
    assert isinstance(want, (np.ndarray, np.generic))  # the reference ran on plain arrays
    ts = [ag.tensor(a, requires_grad=True) for a in arrays]
    got = fn(*ts)
    assert isinstance(got, ag.Tensor), f"numpy's {name} gave {type(got).__name__}, not a Tensor"
    assert got.requires_grad and got.grad_fn is not None
    assert got.shape == np.shape(want)
    assert got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got._data, want, rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, tuple(ts))


@pytest.mark.parametrize("name", ["multiply", "add", "divide", "matmul", "where", "concatenate", "dot_2d"])
def test_array_operand_in_either_position(name):
    fn, spec = DIFFERENTIABLE[name]
    arrays = _inputs(spec)
    want = fn(*arrays)
    for i in range(len(arrays)):
        args = [ag.tensor(a, requires_grad=True) if j == i else a for j, a in enumerate(arrays)]
        got = fn(*args)
        assert isinstance(got, ag.Tensor)
        np.testing.assert_allclose(got._data, want, rtol=1e-12, atol=1e-12)
        assert gradcheck(fn, tuple(args))


# -- hypothesis shapes for a representative set --------------------------------------------------
SMALL = dict(max_dims=3, max_side=3)


@given(x=tensors(shape=shapes(**SMALL)), ufunc=st.sampled_from([np.exp, np.tanh, np.sin, np.square, np.negative]))
def test_unary_ufunc_gradcheck_over_shapes(x, ufunc):
    out = ufunc(x)
    assert isinstance(out, ag.Tensor)
    np.testing.assert_allclose(out._data, ufunc(x._data), rtol=1e-12)
    assert gradcheck(ufunc, (x,))


@given(x=tensors(shape=shapes(**SMALL), elements=elements(0.3, 3.0)), ufunc=st.sampled_from([np.log, np.sqrt]))
def test_unary_ufunc_on_positive_values_gradcheck_over_shapes(x, ufunc):
    np.testing.assert_allclose(ufunc(x)._data, ufunc(x._data), rtol=1e-12)
    assert gradcheck(ufunc, (x,))


@st.composite
def broadcast_pair(draw):
    sa = draw(shapes(**SMALL))
    sb = draw(broadcastable_shapes(sa, max_dims=3, max_side=3))
    return draw(tensors(shape=sa)), draw(tensors(shape=sb, elements=elements(0.5, 2.0)))


@given(xy=broadcast_pair(), ufunc=st.sampled_from([np.add, np.subtract, np.multiply, np.divide]),
       swap=st.booleans(), array_side=st.sampled_from([None, 0, 1]))
def test_binary_ufunc_gradcheck_over_broadcast_shapes(xy, ufunc, swap, array_side):
    x, y = xy
    if swap and ufunc is not np.divide:
        x, y = y, x
    args = [x, y]
    if array_side is not None:  # one operand a plain ndarray
        args[array_side] = args[array_side]._data
    out = ufunc(*args)
    assert isinstance(out, ag.Tensor)
    np.testing.assert_allclose(out._data, ufunc(x._data, y._data), rtol=1e-12)
    assert gradcheck(ufunc, tuple(args))


@st.composite
def reduction_case(draw):
    shape = draw(shapes(**SMALL))
    nd = len(shape)
    axis = draw(st.none() | (st.integers(-nd, nd - 1) if nd else st.none()))
    return draw(tensors(shape=shape)), axis, draw(st.booleans())


@given(case=reduction_case(), fn=st.sampled_from([np.sum, np.mean, np.prod]))
def test_reductions_gradcheck_over_shapes(case, fn):
    x, axis, keepdims = case
    out = fn(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out._data, fn(x._data, axis=axis, keepdims=keepdims), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda v: fn(v, axis=axis, keepdims=keepdims), (x,))


@given(case=reduction_case(), ddof=st.sampled_from([0, 1]), fn=st.sampled_from([np.var, np.std]))
def test_var_std_ddof_over_shapes(case, ddof, fn):
    x, axis, keepdims = case
    n = x._data.size if axis is None else (x.shape[axis] if x.ndim else 1)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy: "Degrees of freedom <= 0"
        want = fn(x._data, axis=axis, ddof=ddof, keepdims=keepdims)
    got = fn(x, axis=axis, ddof=ddof, keepdims=keepdims)
    np.testing.assert_allclose(got._data, want, rtol=1e-10, atol=1e-12)
    spread = np.ptp(x._data, axis=axis) if x.ndim else np.zeros(())
    if n > ddof and np.all(spread > 1e-3):  # std's gradient is singular where all values are equal
        assert gradcheck(lambda v: fn(v, axis=axis, ddof=ddof, keepdims=keepdims), (x,))


@given(shape=shapes(min_dims=1, **SMALL), data=st.data())
def test_concatenate_and_stack_over_shapes(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3))
    x, y = data.draw(tensors(shape=shape)), data.draw(tensors(shape=tuple(other)))
    z = data.draw(tensors(shape=shape))
    np.testing.assert_array_equal(np.concatenate([x, y._data], axis=axis)._data,
                                  np.concatenate([x._data, y._data], axis=axis))
    assert gradcheck(lambda a, b: np.concatenate([a, b], axis=axis), (x, y))
    np.testing.assert_array_equal(np.stack([x, z], axis=axis)._data, np.stack([x._data, z._data], axis=axis))
    assert gradcheck(lambda a, b: np.stack([a, b], axis=axis), (x, z))


# -- values only (no gradient) ---------------------------------------------------------------------
NON_DIFFERENTIABLE = {
    "argmax": lambda a, b: np.argmax(a),
    "argmax_axis_keepdims": lambda a, b: np.argmax(a, axis=1, keepdims=True),
    "argmin": lambda a, b: np.argmin(a, axis=0),
    "any": lambda a, b: np.any(a > 1),
    "any_axis": lambda a, b: np.any(a > 0, axis=1, keepdims=True),
    "all": lambda a, b: np.all(a > -5, axis=0),
    "equal": lambda a, b: np.equal(a, np.round(a)),
    "not_equal": lambda a, b: np.not_equal(a, b),
    "less": lambda a, b: np.less(a, b),
    "less_equal": lambda a, b: np.less_equal(a, b),
    "greater": lambda a, b: np.greater(a, b),
    "greater_equal": lambda a, b: np.greater_equal(a, b),
    "logical_and": lambda a, b: np.logical_and(a > 0, b > 0),
    "logical_or": lambda a, b: np.logical_or(a > 0, b > 0),
    "logical_not": lambda a, b: np.logical_not(a > 0),
    "sign": lambda a, b: np.sign(a),
    "floor": lambda a, b: np.floor(a * 3),
    "ceil": lambda a, b: np.ceil(a * 3),
    "rint": lambda a, b: np.rint(a * 3),
    "round": lambda a, b: np.round(a * 3),
    "around": lambda a, b: np.around(a * 3),
    "isnan": lambda a, b: np.isnan(np.log(a)),
    "isinf": lambda a, b: np.isinf(a / (b * 0)),
    "isfinite": lambda a, b: np.isfinite(np.sqrt(a)),
    "add_reduce": lambda a, b: np.add.reduce(a),
    "add_reduce_axis": lambda a, b: np.add.reduce(a, axis=1, keepdims=True),
    "multiply_reduce": lambda a, b: np.multiply.reduce(a, axis=None),
    "maximum_reduce": lambda a, b: np.maximum.reduce(a, 1),
    "minimum_reduce": lambda a, b: np.minimum.reduce(a, axis=(0, 1)),
    "logical_and_reduce": lambda a, b: np.logical_and.reduce(a > 0, axis=1),
    "logical_or_reduce": lambda a, b: np.logical_or.reduce(a > 0),
    "sum_dtype": lambda a, b: np.sum((a * 4).astype(np.int64) if isinstance(a, np.ndarray) else
                                     (a * 4).long(), dtype=np.float32),
}


@pytest.mark.parametrize("name", sorted(NON_DIFFERENTIABLE))
def test_non_differentiable_values(name):
    fn = NON_DIFFERENTIABLE[name]
    a, b = normal((3, 4)), normal((3, 4))
    with np.errstate(all="ignore"):
        want = fn(a, b)
        got = fn(ag.tensor(a), ag.tensor(b))
    assert isinstance(got, ag.Tensor), f"{name} gave {type(got).__name__}"
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got._data, want, rtol=1e-12)
    assert got._data.dtype.kind == np.asarray(want).dtype.kind


def test_reduce_methods_are_differentiable():
    x = ag.tensor(spaced((3, 4)), requires_grad=True)
    for f in (lambda v: np.add.reduce(v, axis=1), lambda v: np.multiply.reduce(v),
              lambda v: np.maximum.reduce(v, axis=0), lambda v: np.minimum.reduce(v, axis=None)):
        assert gradcheck(f, (x,))


def test_shape_ndim_size_give_plain_values():
    t = ag.tensor(np.zeros((2, 3)))
    assert np.shape(t) == (2, 3) and type(np.shape(t)) is tuple
    assert np.ndim(t) == 2 and type(np.ndim(t)) is int
    assert np.size(t) == 6 and np.size(t, 1) == 3 and np.size(t, axis=0) == 2


def test_memory_queries_are_answered_on_the_arrays():
    a = np.arange(6.0)
    t = ag.from_numpy(a)
    assert np.shares_memory(t, a) and np.shares_memory(a, t) and not np.shares_memory(t, a.copy())
    evens, odds = ag.from_numpy(a[::2]), a[1::2]
    assert np.may_share_memory(evens, odds)  # a bounds check by default, as numpy
    assert not np.shares_memory(evens, odds) and not np.may_share_memory(evens, odds, max_work=-1)


def test_numpy_keywords_map_to_ours():
    a = normal((3, 4))
    t = ag.tensor(a)
    # numpy's ddof=0 default is not torch's correction=1
    np.testing.assert_allclose(np.var(t)._data, np.var(a))
    np.testing.assert_allclose(np.std(t, 0, None, None, 1)._data, np.std(a, 0, None, None, 1))
    np.testing.assert_allclose(np.std(t, correction=1)._data, np.std(a, correction=1))
    np.testing.assert_allclose(np.mean(t, dtype=np.float32)._data, np.mean(a, dtype=np.float32), rtol=1e-6)
    assert np.mean(t, dtype=np.float32).dtype == np.float32
    np.testing.assert_allclose(np.sum(t, axis=None, keepdims=True)._data, np.sum(a, keepdims=True))
    np.testing.assert_allclose(np.cumsum(t, dtype=np.float32)._data, np.cumsum(a, dtype=np.float32), rtol=1e-6)
    with pytest.raises(ValueError, match="ddof and correction"):
        np.var(t, ddof=1, correction=1)


def test_python_scalars_and_lists_as_operands():
    a = normal((2, 3))
    t = ag.tensor(a)
    for got, want in [(np.add(t, 2), a + 2), (np.multiply(0.5, t), 0.5 * a), (np.power(t, 2), a ** 2),
                      (np.maximum(t, 0), np.maximum(a, 0)), (np.where(t > 0, 1.0, -1.0), np.where(a > 0, 1.0, -1.0)),
                      (np.clip(t, [-0.5, 0, 0.5], 1.0), np.clip(a, [-0.5, 0, 0.5], 1.0))]:
        assert isinstance(got, ag.Tensor)
        np.testing.assert_allclose(got._data, want, rtol=1e-12)


def test_squeeze_of_a_non_unit_axis_raises_like_numpy():
    with pytest.raises(ValueError, match="squeeze"):
        np.squeeze(np.zeros((1, 3)), axis=1)  # numpy's own error, for reference
    with pytest.raises(ValueError, match="squeeze"):
        np.squeeze(ag.zeros(1, 3), axis=1)


# -- refusals ----------------------------------------------------------------------------------------
ADVICE = r"call it on t\.numpy\(\) \(or t\.detach\(\)\.numpy\(\)\) instead"


@pytest.mark.parametrize("call, name", [
    (lambda t: np.median(t), "numpy.median"),
    (lambda t: np.sort(t), "numpy.sort"),
    (lambda t: np.linalg.norm(t), "numpy.linalg.norm"),
    (lambda t: np.fft.fft(t), "numpy.fft.fft"),
    (lambda t: np.zeros_like(t), "numpy.zeros_like"),
    (lambda t: np.allclose(t, 1.0), "numpy.allclose"),
    (lambda t: np.tan(t), "numpy.tan"),
    (lambda t: np.arctan2(t, t), "numpy.arctan2"),
    (lambda t: np.floor_divide(np.ones(3), t), "numpy.floor_divide"),
    (lambda t: np.add.accumulate(t), r"numpy.add.accumulate"),
    (lambda t: np.multiply.outer(t, t), r"numpy.multiply.outer"),
    (lambda t: np.add.at(t, [0], 1.0), r"numpy.add.at"),
    (lambda t: np.subtract.reduce(t), r"numpy.subtract.reduce"),
])
def test_unsupported_functions_name_themselves_and_suggest_numpy(call, name):
    t = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match=f"^{name} is not supported on autograd_core Tensors .*{ADVICE}"):
        call(t)


@pytest.mark.parametrize("call, match", [
    (lambda t: np.exp(t, out=np.empty(3)), "numpy.exp: out="),
    (lambda t: np.add(t, 1, where=np.array([True, False, True])), "numpy.add: the keyword where="),
    (lambda t: np.add(t, 1, dtype=np.float32), "numpy.add: the keyword dtype="),
    (lambda t: np.sum(t, out=np.empty(())), "numpy.sum: the keyword out="),
    (lambda t: np.sum(t, where=np.array([True, False, True])), "numpy.sum: the keyword where="),
    (lambda t: np.sum(t, initial=1.0), "numpy.sum: the keyword initial="),
    (lambda t: np.max(t, initial=0.0), "numpy.max: the keyword initial="),
    (lambda t: np.var(t, mean=np.zeros(())), "numpy.var: the keyword mean="),
    (lambda t: np.concatenate([t, t], dtype=np.float32), "numpy.concatenate: the keyword dtype="),
    (lambda t: np.add.reduce(t, initial=1.0), r"numpy.add.reduce: the keyword initial="),
    (lambda t: np.reshape(t, (3, 1), order="F"), "numpy.reshape: order='F'"),
    (lambda t: np.pad(t, 1, mode="reflect"), "numpy.pad: mode='reflect'"),
    (lambda t: np.pad(t, 1, constant_values=((1, 2),)), "numpy.pad: per-axis constant_values"),
    (lambda t: np.round(t, 2), "numpy.round: decimals=2"),
    (lambda t: np.einsum(t, [0], []), "numpy.einsum: only the subscripts-string form"),
    (lambda t: np.where(t > 1), "numpy.where with only a condition"),
    (lambda t: np.dot(np.ones((2, 3, 3)), np.ones((2, 3, 3)) * t), "numpy.dot of shapes"),
])
def test_unsupported_keywords_name_function_and_keyword(call, match):
    t = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match=match):
        call(t)


def test_inplace_operator_on_an_array_is_refused_clearly():
    a = np.zeros(3)
    with pytest.raises(TypeError, match=r"numpy.add: out=.*`a = a \+ t`"):
        a += ag.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a, 0.0)


# -- operators with NumPy operands ---------------------------------------------------------------------
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("other", [np.float64(1.5), np.float32(1.5), np.int64(2), np.array([2.0, 3.0, 4.0]),
                                   np.array([2.0, 3.0, 4.0], np.float32), np.array([[1], [2]])])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "<", "==", ">="])
def test_operators_with_numpy_operands_give_tensors(left, other, op):
    a = np.array([1.0, 2.0, 3.0], np.float32)
    t = ag.tensor(a)
    expr = f"x {op} y"
    x, y = (t, other) if left else (other, t)
    got = eval(expr, {"x": x, "y": y})
    xa, ya = (a, other) if left else (other, a)
    want = eval(expr, {"x": xa, "y": ya})
    assert isinstance(got, ag.Tensor)
    np.testing.assert_allclose(got._data, want, rtol=1e-6)
    # the same result as the Tensor-Tensor op (dtype rules included)
    xt, yt = (t, ag.as_tensor(other)) if left else (ag.as_tensor(other), t)
    assert got.dtype == eval(expr, {"x": xt, "y": yt}).dtype


def test_numpy_scalar_and_array_operators_keep_gradients():
    x = ag.tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    w = np.array([1.0, -2.0, 0.5])
    y = (np.float64(2) * x + x * w + w * x - np.float64(1) / (x + 1)).sum() + w @ x
    y.backward()
    np.testing.assert_allclose(x.grad._data, 2 + 2 * w + 1 / (x._data + 1) ** 2 + w)


def test_asarray_and_array_still_give_the_array():
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    arr = np.asarray(t)
    assert type(arr) is np.ndarray and np.shares_memory(arr, t._data)
    assert type(np.array(t)) is np.ndarray and not np.shares_memory(np.array(t), t._data)
    np.testing.assert_allclose(t, [1.0, 2.0])  # numpy.testing converts with asarray


def test_libraries_that_convert_with_asarray_still_take_tensors():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    a = normal((5, 2))
    got = preprocessing.StandardScaler().fit_transform(ag.tensor(a))  # asks np.may_share_memory on the way
    np.testing.assert_allclose(got, preprocessing.StandardScaler().fit_transform(a))


class _Foreign:
    """Another array type with both protocols: NumPy should ask it, not fail inside ours."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return "foreign ufunc"

    def __array_function__(self, func, types, args, kwargs):
        return "foreign function"


def test_foreign_array_types_get_their_turn():
    t = ag.tensor([1.0, 2.0])
    assert np.add(t, _Foreign()) == "foreign ufunc"
    assert np.concatenate([t, _Foreign()]) == "foreign function"


# -- DLPack ----------------------------------------------------------------------------------------------
def test_dlpack_numpy_both_ways_share_memory():
    t = ag.tensor([1.0, 2.0, 3.0])
    assert t.__dlpack_device__() == (1, 0)
    n = np.from_dlpack(t)
    n[0] = 10.0
    assert t._data[0] == 10.0
    t._data[1] = 20.0
    assert n[1] == 20.0

    a = np.arange(6.0).reshape(2, 3)[:, ::2]  # a strided view
    u = ag.from_dlpack(a)
    assert isinstance(u, ag.Tensor) and u.shape == (2, 2) and u.dtype == np.float64
    a[1, 1] = -1.0
    assert u._data[1, 1] == -1.0
    u._data[0, 0] = 7.0
    assert a[0, 0] == 7.0


def test_from_dlpack_copy_and_tensor_roundtrip():
    a = np.zeros(3, np.float32)
    c = ag.from_dlpack(a, copy=True)
    a[0] = 1.0
    assert c._data[0] == 0.0
    t = ag.tensor([1, 2, 3])
    r = ag.from_dlpack(t)
    r._data[0] = 5
    assert t._data[0] == 5 and r.dtype == np.int64


def test_dlpack_refuses_a_tensor_that_requires_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BufferError, match="requires grad.*detach"):
        np.from_dlpack(x)
    d = np.from_dlpack(x.detach())
    d[0] = 3.0
    assert x._data[0] == 3.0


def test_dlpack_read_only_arrays():
    b = ag.tensor([1.0, 2.0, 3.0]).broadcast_to((2, 3))
    assert not b._data.flags.writeable
    n = np.from_dlpack(b)  # a DLPack 1.0 consumer: shared, marked read-only
    assert np.shares_memory(n, b._data) and not n.flags.writeable
    np.testing.assert_array_equal(n, b._data)

    class Legacy:  # a consumer of the old protocol asks without max_version: it gets a copy
        def __init__(self, t):
            self.t = t

        def __dlpack__(self, stream=None):
            return self.t.__dlpack__(stream=stream)

        def __dlpack_device__(self):
            return self.t.__dlpack_device__()

    m = np.from_dlpack(Legacy(b))
    np.testing.assert_array_equal(m, b._data)
    assert not np.shares_memory(m, b._data)
    with pytest.raises(BufferError, match="read-only"):
        b.__dlpack__(copy=False)


def test_dlpack_exports_negative_strides_as_a_copy():
    m = ag.tensor(np.arange(12.0).reshape(3, 4))
    v = ag.from_numpy(m._data[::-1])[:, 1:3]     # a view with a negative stride (flip itself copies)
    assert min(v._data.strides) < 0
    n = np.from_dlpack(v)
    assert min(n.strides) >= 0 and not np.shares_memory(n, m._data)
    np.testing.assert_array_equal(n, v._data)
    with pytest.raises(BufferError, match="without a copy"):
        np.from_dlpack(v, copy=False)


def test_from_dlpack_errors():
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        ag.from_dlpack([1.0, 2.0])


def test_dlpack_torch_both_ways_share_memory():
    torch = pytest.importorskip("torch")
    t = ag.tensor([1.0, 2.0, 3.0])
    tt = torch.from_dlpack(t)
    assert tt.dtype == torch.float32
    tt[0] = 10.0
    assert t._data[0] == 10.0
    t._data[2] = 30.0
    assert tt[2].item() == 30.0

    src = torch.arange(6, dtype=torch.float64).reshape(2, 3).t()  # non-contiguous
    u = ag.from_dlpack(src)
    np.testing.assert_array_equal(u._data, src.numpy())
    src[0, 0] = -1.0
    assert u._data[0, 0] == -1.0
    u._data[2, 1] = 9.0
    assert src[2, 1].item() == 9.0

    flipped = ag.flip(ag.tensor([1.0, 2.0, 3.0]))
    assert min(np.from_dlpack(flipped).strides) >= 0  # else torch would abort the process below
    np.testing.assert_array_equal(torch.from_dlpack(flipped).numpy(), flipped._data)

    for dt in (torch.int64, torch.bool, torch.float16, torch.uint8):
        v = ag.from_dlpack(torch.zeros(2, dtype=dt))
        assert v.dtype == torch.zeros(2, dtype=dt).numpy().dtype


def test_dlpack_torch_refusals_and_capsules():
    torch = pytest.importorskip("torch")
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BufferError, match="requires grad.*detach"):
        torch.from_dlpack(x)
    with pytest.raises(BufferError, match="from_dlpack: the torch.Tensor could not be exported"):
        ag.from_dlpack(torch.zeros(2, requires_grad=True))
    with pytest.raises(TypeError, match="from_dlpack: .*complex"):
        ag.from_dlpack(torch.zeros(2, dtype=torch.complex64))
    with pytest.raises(TypeError, match="from_dlpack: the torch.Tensor can't be imported"):
        ag.from_dlpack(torch.zeros(2, dtype=torch.bfloat16))
    src = torch.arange(3.0)
    c = ag.from_dlpack(torch.utils.dlpack.to_dlpack(src))  # a legacy capsule
    src[1] = 8.0
    assert c._data[1] == 8.0


def test_module_doctests():
    result = doctest.testmod(interop)
    assert result.attempted >= 5 and result.failed == 0

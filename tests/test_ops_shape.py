"""Shape ops: reshape/view, flatten, transpose, permute, swapaxes, squeeze, unsqueeze, expand/broadcast_to,
cat/concatenate, stack, split, chunk, pad, flip, repeat/tile, astype, clone. Forward against numpy,
gradcheck (and gradgradcheck for a representative few) over hypothesis-drawn shapes; error messages."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors

# a non-trivial cotangent: multiplying by fixed weights makes every position's gradient distinct
_W = np.random.default_rng(0).standard_normal(4096)


def weighted(t):
    return t * ag.tensor(_W[:t.size].reshape(t.shape))


def check(fn, x, expected, *, gradgrad=False):
    out = fn(x)
    assert out.shape == expected.shape, (out.shape, expected.shape)
    np.testing.assert_array_equal(out._data, expected)
    assert gradcheck(fn, (x,))
    if gradgrad:
        assert gradgradcheck(lambda t: weighted(fn(t)) * fn(t), (x,))


# -- reshape / view / flatten ------------------------------------------------------------------
@given(x=tensors(shape=shapes(max_dims=4, max_side=3)), data=st.data())
def test_reshape_and_view(x, data):
    n = x.size
    target = data.draw(st.sampled_from([(n,), (-1,), (1, n), (n, 1), tuple(reversed(x.shape)), (1,) + x.shape,
                                        ()]).filter(lambda s: s != () or n == 1))
    check(lambda t: t.reshape(target), x, x._data.reshape(target), gradgrad=True)
    check(lambda t: t.view(*target), x, x._data.reshape(target))
    check(lambda t: ag.reshape(t, target), x, x._data.reshape(target))


def test_reshape_gradient_values():
    x = ag.tensor(np.arange(6.0), requires_grad=True)
    (x.reshape(2, 3) * ag.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [1, 2, 3, 4, 5, 6])


@given(x=tensors(shape=shapes(min_dims=1, max_dims=4, max_side=3)), data=st.data())
def test_flatten(x, data):
    nd = x.ndim
    s = data.draw(st.integers(-nd, nd - 1))
    e = data.draw(st.integers(-nd, nd - 1).filter(lambda e: e % nd >= s % nd))
    a, b = s % nd, e % nd
    expected = x._data.reshape(x.shape[:a] + (-1,) + x.shape[b + 1:])
    check(lambda t: ag.flatten(t, s, e), x, expected)
    check(lambda t: t.flatten(), x, x._data.reshape(-1))


def test_flatten_zero_dim_and_bad_dims():
    assert ag.flatten(ag.tensor(3.0)).shape == (1,)
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        ag.flatten(ag.ones(2, 3, 4), 2, 1)


# -- permutations ------------------------------------------------------------------------------
@given(x=tensors(shape=shapes(min_dims=1, max_dims=4, max_side=3)), data=st.data())
def test_permute_transpose_swapaxes(x, data):
    nd = x.ndim
    perm = data.draw(st.permutations(range(nd)))
    neg = tuple(p - nd if data.draw(st.booleans()) else p for p in perm)  # negative dims too
    check(lambda t: t.permute(*neg), x, np.transpose(x._data, perm), gradgrad=True)
    check(lambda t: ag.permute(t, neg), x, np.transpose(x._data, perm))
    a, b = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    check(lambda t: t.transpose(a, b), x, np.swapaxes(x._data, a, b))
    check(lambda t: ag.swapaxes(t, a, b), x, np.swapaxes(x._data, a, b))
    check(lambda t: t.T, x, x._data.T)
    check(lambda t: ag.transpose(t), x, np.transpose(x._data))


def test_mT_swaps_last_two():
    x = ag.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.mT._data, np.swapaxes(x._data, -1, -2))


def test_permute_rejects_non_permutations():
    with pytest.raises(ValueError, match=r"permute: \(0, 0\) is not a permutation.*\(2, 3\)"):
        ag.ones(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match="permute"):
        ag.ones(2, 3).permute(0, 1, 2)


def test_transpose_and_swapaxes_of_zero_dim():
    x = ag.tensor(2.0, requires_grad=True)
    assert ag.swapaxes(x, 0, 0).shape == ()
    assert x.T.shape == ()


# -- squeeze / unsqueeze -----------------------------------------------------------------------
@given(x=tensors(shape=shapes(max_dims=4, max_side=2)), data=st.data())
def test_squeeze_unsqueeze(x, data):
    check(lambda t: t.squeeze(), x, np.squeeze(x._data))
    if x.ndim:
        d = data.draw(st.integers(-x.ndim, x.ndim - 1))
        expected = np.squeeze(x._data, d) if x.shape[d] == 1 else x._data   # PyTorch: a no-op if size != 1
        check(lambda t: t.squeeze(d), x, expected)
    u = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check(lambda t: t.unsqueeze(u), x, np.expand_dims(x._data, u))
    check(lambda t: ag.expand_dims(t, u), x, np.expand_dims(x._data, u))


def test_unsqueeze_out_of_range():
    with pytest.raises(IndexError, match="unsqueeze: dim 3 is out of range"):
        ag.ones(2, 3).unsqueeze(3)


# -- expand / broadcast_to ---------------------------------------------------------------------
@st.composite
def expand_case(draw):
    target = draw(shapes(max_dims=4, max_side=3))
    keep = len(target) - draw(st.integers(0, len(target)))
    src = tuple(1 if draw(st.booleans()) else s for s in target[len(target) - keep:])
    return draw(tensors(shape=src)), target


@given(case=expand_case(), data=st.data())
def test_expand_broadcast_to(case, data):
    x, target = case
    expected = np.broadcast_to(x._data, target)
    check(lambda t: t.broadcast_to(target), x, expected, gradgrad=True)
    check(lambda t: ag.broadcast_to(t, target), x, expected)
    lead = len(target) - x.ndim
    sizes = tuple(-1 if i >= lead and x.shape[i - lead] == s and data.draw(st.booleans()) else s
                  for i, s in enumerate(target))  # -1 keeps the tensor's own size
    check(lambda t: t.expand(*sizes), x, expected)
    check(lambda t: t.expand_as(ag.zeros(target)), x, expected)


def test_expand_gradient_sums_over_copies():
    x = ag.tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    x.expand(3, 2, 4).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[12.0], [12.0]])


def test_broadcast_tensors():
    a, b = ag.broadcast_tensors(ag.ones(3, 1), ag.zeros(4))
    assert a.shape == b.shape == (3, 4)


def test_broadcast_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"broadcast_to: shape \(2, 3\) can't be broadcast to \(4, 3\)"):
        ag.ones(2, 3).broadcast_to((4, 3))
    with pytest.raises(ValueError, match="expand: the number of sizes 1 is less than the tensor's dims 2"):
        ag.ones(2, 3).expand(3)


# -- cat / stack / split / chunk ---------------------------------------------------------------
@st.composite
def cat_case(draw):
    base = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(st.integers(-len(base), len(base) - 1))
    n = draw(st.integers(1, 3))
    parts = []
    for _ in range(n):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        parts.append(draw(tensors(shape=tuple(s))))
    return parts, axis


@given(case=cat_case())
def test_cat_concatenate(case):
    parts, axis = case
    expected = np.concatenate([p._data for p in parts], axis=axis)
    for f in (lambda *ps: ag.cat(ps, dim=axis), lambda *ps: ag.concatenate(list(ps), axis=axis)):
        out = f(*parts)
        np.testing.assert_array_equal(out._data, expected)
        assert gradcheck(f, tuple(parts))
    assert gradgradcheck(lambda *ps: ag.cat(ps, axis) ** 2, tuple(parts))


def test_cat_with_a_constant_part():
    x = ag.tensor(np.ones((2, 2)), requires_grad=True)
    out = ag.cat([x, ag.zeros(1, 2, dtype=np.float64)], axis=0)
    (out * ag.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[0.0, 1.0], [2.0, 3.0]])


@given(data=st.data())
def test_stack(data):
    shape = data.draw(shapes(max_dims=3, max_side=3))
    n = data.draw(st.integers(1, 3))
    parts = [data.draw(tensors(shape=shape)) for _ in range(n)]
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    f = (lambda *ps: ag.stack(ps, axis=axis))
    np.testing.assert_array_equal(f(*parts)._data, np.stack([p._data for p in parts], axis=axis))
    assert gradcheck(f, tuple(parts))
    assert gradgradcheck(lambda *ps: ag.stack(ps, dim=axis) ** 2, tuple(parts))


def test_cat_stack_errors():
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\) and \(2, 4\) don't match outside axis 0"):
        ag.cat([ag.ones(2, 3), ag.ones(2, 4)])
    with pytest.raises(ValueError, match="concatenate: all tensors need the same number of dims"):
        ag.cat([ag.ones(2, 3), ag.ones(3)])
    with pytest.raises(ValueError, match=r"stack: shapes \(2, 3\) and \(3, 2\) don't match"):
        ag.stack([ag.ones(2, 3), ag.ones(3, 2)])
    with pytest.raises(ValueError, match="stack: expected a non-empty list"):
        ag.stack([])


@given(x=tensors(shape=shapes(min_dims=1, max_dims=3, max_side=5)), data=st.data())
def test_split_chunk(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    size = data.draw(st.integers(1, n + 1))
    pieces = ag.split(x, size, dim=dim)
    assert all(p.shape[dim] <= size for p in pieces)
    np.testing.assert_array_equal(np.concatenate([p._data for p in pieces], axis=dim), x._data)
    assert len(pieces) == -(-n // size)
    assert gradcheck(lambda t: ag.split(t, size, dim), (x,))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    pieces = x.split(sizes, dim) if hasattr(x, "split") else ag.split(x, sizes, dim)
    assert [p.shape[dim] for p in pieces] == sizes
    assert gradcheck(lambda t: ag.split(t, sizes, dim)[-1] * 2, (x,))
    k = data.draw(st.integers(1, 4))
    chunks = ag.chunk(x, k, dim)
    assert len(chunks) <= k
    expected = np.array_split(x._data, range(-(-n // k), n, -(-n // k)), axis=dim)
    for c, e in zip(chunks, expected):
        np.testing.assert_array_equal(c._data, e)
    assert gradcheck(lambda t: ag.chunk(t, k, dim), (x,))


def test_split_chunk_like_torch():
    x = ag.arange(5)
    assert [p.tolist() for p in ag.split(x, 2)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in ag.chunk(x, 3)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in ag.split(x, [1, 4])] == [[0], [1, 2, 3, 4]]
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] don't add up to 5"):
        ag.split(x, [1, 1])
    with pytest.raises(ValueError, match="split: split_size must be positive"):
        ag.split(x, 0)


# -- pad / flip / tile / repeat ----------------------------------------------------------------
@given(x=tensors(shape=shapes(min_dims=1, max_dims=3, max_side=3)), data=st.data())
def test_pad(x, data):
    k = data.draw(st.integers(1, x.ndim))
    flat = tuple(data.draw(st.integers(0, 2)) for _ in range(2 * k))
    widths = [(0, 0)] * x.ndim
    for i in range(k):
        widths[x.ndim - 1 - i] = (flat[2 * i], flat[2 * i + 1])
    value = data.draw(st.sampled_from([0.0, -1.5]))
    expected = np.pad(x._data, widths, constant_values=value)
    check(lambda t: ag.pad(t, flat, value=value), x, expected, gradgrad=True)       # PyTorch's flat order
    check(lambda t: ag.pad(t, tuple(widths), value=value), x, expected)             # numpy's pairs


def test_pad_errors():
    with pytest.raises(ValueError, match="pad: negative padding"):
        ag.pad(ag.ones(2, 2), (1, -1))
    with pytest.raises(ValueError, match="pad: a flat pad must have an even length"):
        ag.pad(ag.ones(2, 2), (1, 1, 1))
    with pytest.raises(ValueError, match="pad: only mode='constant'"):
        ag.pad(ag.ones(2, 2), (1, 1), mode="reflect")


@given(x=tensors(shape=shapes(min_dims=1, max_dims=3, max_side=3)), data=st.data())
def test_flip(x, data):
    dims = data.draw(st.lists(st.integers(0, x.ndim - 1), unique=True, min_size=1))
    neg = [d - x.ndim for d in dims]
    check(lambda t: t.flip(dims), x, np.flip(x._data, tuple(dims)), gradgrad=True)
    check(lambda t: ag.flip(t, neg), x, np.flip(x._data, tuple(dims)))


@given(x=tensors(shape=shapes(max_dims=3, max_side=3)), data=st.data())
def test_tile_repeat(x, data):
    extra = data.draw(st.integers(0, 2))
    reps = tuple(data.draw(st.integers(1, 3)) for _ in range(x.ndim + extra))
    check(lambda t: t.repeat(*reps), x, np.tile(x._data, reps), gradgrad=True)
    short = reps[:max(len(reps) - extra - 1, 0)] if x.ndim else reps
    check(lambda t: ag.tile(t, short), x, np.tile(x._data, short))


def test_repeat_needs_enough_sizes():
    with pytest.raises(ValueError, match="repeat: got 1 sizes for a tensor of 2 dims"):
        ag.ones(2, 3).repeat(2)


# -- astype / clone ----------------------------------------------------------------------------
def test_astype_float_keeps_gradient_in_input_dtype():
    x = ag.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad._data, [2.0, 4.0])


def test_astype_to_integer_cuts_gradient():
    x = ag.tensor(np.array([1.7, -2.2]), requires_grad=True)
    i = x.long()
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(i._data, [1, -2])
    with pytest.raises(TypeError, match="astype: unsupported dtype"):
        x.astype(np.complex128)


def test_clone_is_a_copy_on_the_tape():
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = x.clone()
    assert c._data is not x._data and not np.shares_memory(c._data, x._data)
    (c * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 3.0])


CLONE_CASES = {
    "permuted": lambda x: x.permute(2, 0, 1),
    "transposed column": lambda x: x[:, :, 1].transpose(0, 1),
    "permuted then strided": lambda x: x.permute(1, 2, 0)[:, ::2],
    "strided": lambda x: x[:, ::2],
    "expanded": lambda x: x[:1, :1, :].expand(3, 2, 4),
    "expanded then transposed": lambda x: x[0, :, :1].expand(3, 4).transpose(0, 1),
    "size-1 axes": lambda x: x[:, :1, :1].permute(2, 1, 0),
    "unsqueezed": lambda x: x.permute(2, 0, 1).unsqueeze(1),
}


@pytest.mark.parametrize("case", sorted(CLONE_CASES))
def test_clone_lays_out_memory_as_pytorch(case):
    """clone keeps the layout as PyTorch's ``preserve_format`` does (a permuted tensor gives a permuted
    copy, a broadcast one a C-ordered copy): the strides (in elements) and values are PyTorch's, so a
    later reshape views or copies where PyTorch's does."""
    torch = pytest.importorskip("torch")
    base = np.arange(24.0).reshape(2, 3, 4)
    ours = CLONE_CASES[case](ag.tensor(base)).clone()
    theirs = CLONE_CASES[case](torch.tensor(base)).clone()
    assert tuple(s // 8 for s in ours._data.strides) == theirs.stride()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_reshape_of_a_transposed_clone_copies_and_writes_do_not_reach_it():
    """A clone of a transposed tensor is transposed, so reshaping it to 1-D copies (as in PyTorch): an
    in-place change of the reshaped tensor leaves the clone as it was, and the gradients follow."""
    x = ag.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    c = x.T.clone()
    assert not c.is_contiguous() and c.contiguous().is_contiguous()
    flat = c.reshape(4)
    assert not np.shares_memory(flat._data, c._data)
    flat += flat
    np.testing.assert_array_equal(c.detach().numpy(), [[0.0, 2.0], [1.0, 3.0]])
    (flat * ag.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 6.0], [4.0, 8.0]])


def test_reshape_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"reshape: shape \(2, 3\) \(6 elements\) can't be reshaped to \(4,\)"):
        ag.ones(2, 3).reshape(4)
    with pytest.raises(TypeError, match="reshape: shape must be ints"):
        ag.ones(2, 3).reshape("a")


@pytest.mark.parametrize("name,call", [
    ("flatten", lambda x: ag.flatten(x, 0, 2)), ("squeeze", lambda x: x.squeeze(2)),
    ("swapaxes", lambda x: x.swapaxes(0, 5)), ("transpose", lambda x: x.transpose(-3, 0)),
    ("concatenate", lambda x: ag.cat([x, x], axis=2)), ("stack", lambda x: ag.stack([x, x], axis=-4)),
    ("split", lambda x: ag.split(x, 1, dim=2)), ("chunk", lambda x: ag.chunk(x, 2, dim=-3)),
    ("flip", lambda x: x.flip(2)),
])
def test_out_of_range_dims_are_refused_not_wrapped(name, call):
    with pytest.raises(IndexError, match=rf"{name}: dim -?\d+ is out of range for a tensor of \d dimension"):
        call(ag.ones(2, 3))


def test_permute_out_of_range_dim_is_refused():
    with pytest.raises(ValueError, match="permute"):
        ag.ones(2, 3).permute(0, 3)   # 3 % 2 == 1 must not pass for a permutation


def test_cat_zero_dim_and_chunk_zero():
    with pytest.raises(ValueError, match="concatenate: 0-d tensors can't be concatenated"):
        ag.cat([ag.tensor(1.0), ag.tensor(2.0)])
    with pytest.raises(ValueError, match="chunk: chunks must be positive"):
        ag.chunk(ag.ones(4), 0)


def test_view_as_another_dtype_shares_memory_and_versions():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.view(ag.int32)
    np.testing.assert_array_equal(y._data, np.array([1.0, 2.0], np.float32).view(np.int32))
    assert not y.requires_grad
    assert ag.zeros(2, 4, dtype=ag.uint8).view(ag.float32).shape == (2, 1)
    assert ag.zeros(3).view(ag.int16).shape == (6,)
    # a write through the view changes x, and a graph that saved x notices at backward
    a = ag.tensor([3.0, 4.0], requires_grad=True)
    b = a * a
    a.detach().view(ag.int32)[0] = 0
    assert a._data[0] == 0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        b.sum().backward()
    with pytest.raises(ValueError, match="last dim must be contiguous"):
        ag.zeros(3, 2).T.view(ag.int16)
    with pytest.raises(ValueError, match="does not split"):
        ag.zeros(3, dtype=ag.uint8).view(ag.float32)
    assert x.view(-1, 1).shape == (2, 1) and x.view((2,)).shape == (2,)

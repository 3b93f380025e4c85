"""Memory formats (``autograd_core.layouts``): channels_last / contiguous_format / preserve_format in clone,
contiguous, is_contiguous, to, empty and the ``*_like`` constructors; strides against PyTorch's where torch
is installed, and values, gradients and errors always."""
import pickle

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, shapes

FORMATS = ["contiguous_format", "preserve_format", "channels_last", "channels_last_3d"]

# tensors of rank 4 and 5 in several layouts: C order, permuted, strided, expanded, size-1 axes
SOURCES = {
    "c order 4d": lambda m: m.arange(120.0).reshape(2, 3, 4, 5),
    "permuted 4d": lambda m: m.arange(120.0).reshape(2, 4, 5, 3).permute(0, 3, 1, 2),
    "strided 4d": lambda m: m.arange(240.0).reshape(2, 3, 8, 5)[:, :, ::2],
    "expanded 4d": lambda m: m.arange(20.0).reshape(1, 1, 4, 5).expand(2, 3, 4, 5),
    "size-1 axes 4d": lambda m: m.arange(8.0).reshape(2, 1, 4, 1),
    "c order 5d": lambda m: m.arange(240.0).reshape(2, 3, 2, 4, 5),
    "permuted 5d": lambda m: m.arange(240.0).reshape(2, 2, 4, 5, 3).permute(0, 4, 1, 2, 3),
    "transposed 2d": lambda m: m.arange(6.0).reshape(2, 3).T,
    "N111 4d": lambda m: m.arange(3.0).reshape(3, 1, 1, 1),
    "strided channels_last 4d": lambda m: m.arange(240.0).reshape(2, 4, 5, 6).permute(0, 3, 1, 2)[:, ::2],
}


def _strides(t):
    return tuple(s // t._data.itemsize for s in t._data.strides)


def _fits(fmt, ndim):
    rank = getattr(ag, fmt).rank
    return rank is None or rank == ndim


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("src", sorted(SOURCES))
def test_layouts_match_pytorch(src, fmt):
    """Strides and values of clone / contiguous / to / the *_like constructors, and is_contiguous, in every
    format, as PyTorch's (strides in elements)."""
    torch = pytest.importorskip("torch")
    x, tx = SOURCES[src](ag), SOURCES[src](torch)
    f, tf = getattr(ag, fmt), getattr(torch, fmt)
    calls = [("clone", lambda t, m, g: t.clone(memory_format=g)),
             ("to", lambda t, m, g: t.to(memory_format=g)),
             ("zeros_like", lambda t, m, g: m.zeros_like(t, memory_format=g)),
             ("empty_like", lambda t, m, g: m.empty_like(t, memory_format=g)),
             ("randn_like", lambda t, m, g: m.randn_like(t, memory_format=g)),
             ("full_like float64", lambda t, m, g: m.full_like(t, 2, dtype=m.float64, memory_format=g))]
    if fmt != "preserve_format":
        calls.append(("contiguous", lambda t, m, g: t.contiguous(memory_format=g)))
    for name, call in calls:
        if not _fits(fmt, x.ndim):
            with pytest.raises(RuntimeError, match=f"rank {f.rank} tensor"):
                call(x, ag, f)
            continue
        ours, theirs = call(x, ag, f), call(tx, torch, tf)
        assert _strides(ours) == theirs.stride(), (name, _strides(ours), theirs.stride())
        if name in ("clone", "to", "contiguous"):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert x.is_contiguous(memory_format=f) == tx.is_contiguous(memory_format=tf)


@given(shape=shapes(min_dims=4, max_dims=4, max_side=3), fmt=st.sampled_from(["channels_last", "contiguous_format"]))
def test_contiguous_in_a_format_is_a_copy_on_the_tape(shape, fmt):
    """Values are kept, the result is laid out in the format (and contiguous() of it returns it), a copy
    never shares memory with a source in another layout, and the gradient passes through."""
    f = getattr(ag, fmt)
    x = ag.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    y = x.contiguous(memory_format=f)
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    assert y.is_contiguous(memory_format=f)
    assert y.contiguous(memory_format=f) is y
    if y is not x:
        assert not np.shares_memory(y._data, x._data)
    assert gradcheck(lambda t: t.contiguous(memory_format=f) * t.clone(memory_format=f), (x,))


def test_channels_last_tensor_flows_through_ops_and_reshape_copies():
    """A channels_last tensor computes as any other (elementwise results keep its layout, as PyTorch's),
    and flattening it copies, so an in-place change of the flat tensor leaves it as it was."""
    x = ag.tensor(np.arange(24.0).reshape(1, 2, 3, 4), requires_grad=True)
    y = x.contiguous(memory_format=ag.channels_last)
    z = y * 2 + 1
    assert z.is_contiguous(memory_format=ag.channels_last)
    flat = z.reshape(-1)
    assert not np.shares_memory(flat._data, z._data)
    flat.add_(1)
    np.testing.assert_array_equal(z.detach().numpy(), x.detach().numpy() * 2 + 1)
    (flat * ag.arange(24.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(24.0).reshape(1, 2, 3, 4))


def test_memory_format_errors_name_the_op_and_what_to_do():
    with pytest.raises(RuntimeError, match=r"contiguous: required rank 4 tensor to use channels_last format, got a "
                                           r"2-dim tensor; use channels_last for 4-D"):
        ag.zeros(2, 3).contiguous(memory_format=ag.channels_last)
    with pytest.raises(RuntimeError, match="empty: required rank 5 tensor to use channels_last_3d"):
        ag.empty(2, 3, 4, 5, memory_format=ag.channels_last_3d)
    with pytest.raises(TypeError, match="clone: memory_format must be one of ag.contiguous_format"):
        ag.zeros(2).clone(memory_format="channels_last")
    assert not ag.zeros(2, 3).is_contiguous(memory_format=ag.channels_last)


def test_memory_formats_are_constants_that_pickle():
    for name in FORMATS:
        f = getattr(ag, name)
        assert isinstance(f, ag.memory_format) and repr(f) == f"torch.{name}"
        assert pickle.loads(pickle.dumps(f)) is f


def test_empty_in_channels_last():
    e = ag.empty(2, 3, 4, 5, memory_format=ag.channels_last)
    assert e.shape == (2, 3, 4, 5) and e.is_contiguous(memory_format=ag.channels_last) and not e.is_contiguous()

"""The tape and backward: recording, accumulation, retain_graph, create_graph, hooks, retain_grad,
in-place ops and the version counter, grad modes (context managers and decorators), detect_anomaly,
autograd_grad, error messages, 100,000-op graphs, freeing of saved values, and properties
(linearity in the upstream gradient, accumulation for reused inputs)."""
import gc
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import elements, shapes, tensors


def leaf(values, dtype=np.float64):
    return ag.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# -- recording -----------------------------------------------------------------------------------
def test_each_op_records_a_node_naming_it():
    x = leaf([1.0, 2.0])
    y = (x * 2).exp().sum()
    assert y.grad_fn.name() == "SumBackward"
    (exp_node, _), = y.grad_fn.next_functions
    assert exp_node.name() == "ExpBackward"
    (mul_node, _), = exp_node.next_functions
    assert mul_node.name() == "MulBackward"
    (acc, _), (const, _) = mul_node.next_functions
    assert acc.name() == "AccumulateGrad" and acc.variable is x
    assert const is None   # the Python scalar 2 gets no edge


def test_ops_on_tensors_without_grad_record_nothing():
    a, b = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])
    for out in (a * b, a.exp(), a.sum(), a[0], a.reshape(2, 1), a @ b):
        assert not out.requires_grad and out.grad_fn is None


def test_no_grad_records_nothing_for_any_op_family():
    x = leaf(np.arange(6.0).reshape(2, 3) / 5)
    w = leaf(np.ones((3, 2)))
    with ag.no_grad():
        outs = [x * 2, x + w.T, x.tanh(), x.sum(axis=1), x.max(), x.softmax(axis=-1), x @ w, x.reshape(3, 2),
                ag.cat([x, x]), x[:, [0, 0]], x.gather(1, np.zeros((2, 1), np.int64)), ag.einsum("ij,jk->ik", x, w),
                ag.where(x._data > 0.3, x, 0.0), x.var(), ag.stack([x, x]), x.permute(1, 0), ag.pad(x, (1, 1))]
    for out in outs:
        assert not out.requires_grad and out.grad_fn is None and out.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        outs[3].sum().backward()


# -- backward and accumulation -------------------------------------------------------------------
def test_backward_accumulates_into_leaf_grad():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 4.0, 6.0])
    assert not x.grad.requires_grad and isinstance(x.grad, ag.Tensor)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [5.0, 7.0, 9.0])
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0, 0.0])
    x.grad = None
    x.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [1.0, 1.0, 1.0])


def test_grads_of_two_leaves_do_not_share_memory():
    # add's VJP passes the same gradient array to both inputs; accumulating into one must not touch the other
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad._data, b.grad._data)
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [3.0, 3.0])
    np.testing.assert_array_equal(b.grad._data, [1.0, 1.0])


def test_reused_input_accumulates():
    x = leaf([0.5, -1.0])
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad._data, 2 * x._data + 1)
    # a diamond: one node feeding two branches
    x.grad = None
    a = x * 2
    (a.exp() + a.sin()).sum().backward()
    np.testing.assert_allclose(x.grad._data, 2 * (np.exp(2 * x._data) + np.cos(2 * x._data)))


@given(x=tensors(shape=shapes(max_dims=2, max_side=4)), uses=st.integers(1, 6))
def test_reused_input_accumulates_property(x, uses):
    total = x * 0
    for k in range(uses):
        total = total + x * (k + 1)
    total.sum().backward()
    np.testing.assert_allclose(x.grad._data, np.full(x.shape, uses * (uses + 1) / 2))


def _dag_program(steps, x):
    """Run ``steps`` (op, i, j) on the values list [x]: each step applies op to two earlier values."""
    vals = [x]
    for op, i, j in steps:
        a, b = vals[i % len(vals)], vals[j % len(vals)]
        vals.append((a * b).sin() if op == 0 else (a + b).tanh() if op == 1 else a.sin() - b)
    return vals[-1] + vals[len(vals) // 2]


@given(steps=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=12),
       values=st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_random_dags_get_the_gradient_of_the_general_pass(steps, values):
    # Plain backward (no hooks, no create_graph) runs a chain's next node off the heap; with
    # create_graph every node takes the general pass. A node run before one of its consumers would
    # give a different (silently wrong) gradient; a finite difference checks both.
    x = leaf(values)
    _dag_program(steps, x).sum().backward()
    plain = x.grad._data.copy()
    x2 = leaf(values)
    (general,) = ag.autograd.grad(_dag_program(steps, x2).sum(), x2, create_graph=True)
    np.testing.assert_allclose(plain, general._data, rtol=1e-12, atol=1e-12)
    eps = 1e-6
    for k in range(3):
        up, down = np.array(values, dtype=np.float64), np.array(values, dtype=np.float64)
        up[k] += eps
        down[k] -= eps
        with ag.no_grad():
            fd = (_dag_program(steps, ag.tensor(up)).sum().item()
                  - _dag_program(steps, ag.tensor(down)).sum().item()) / (2 * eps)
        assert abs(fd - plain[k]) <= 1e-5 * max(1.0, abs(fd))


@given(op=st.sampled_from(["add", "sub", "mul", "div"]), shapes_=st.sampled_from([((3,), (3,)), ((2, 3), (2, 3)),
                                                                                   ((2, 3), (3,)), ((2, 1), (1, 3)),
                                                                                   ((), (2,)), ((1, 0), (0, 1))]),
       dtypes=st.sampled_from([("float32", "float32"), ("float64", "float64"), ("float32", "float64")]),
       number=st.sampled_from([None, 2, -0.5]), left=st.booleans())
def test_binary_gradients_have_each_inputs_shape_and_dtype(op, shapes_, dtypes, number, left):
    # Inputs of one shape and dtype skip backward's un-broadcast check (see ops.registry's ``elementwise``);
    # every other mix must still be fitted. The general pass (create_graph) always fits: both must agree.
    rng = np.random.default_rng(0)
    fn = getattr(ag, op)
    x = leaf(rng.uniform(0.5, 2.0, shapes_[0]), dtypes[0])
    y = leaf(rng.uniform(0.5, 2.0, shapes_[1]), dtypes[1])
    if number is None:
        args = (x, y)
    else:
        args = (number, x) if left else (x, number)
    fn(*args).sum().backward()
    want = ag.autograd.grad(fn(*args).sum(), [a for a in args if isinstance(a, ag.Tensor)], create_graph=True)
    for t, w in zip([a for a in args if isinstance(a, ag.Tensor)], want):
        assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad._data, w._data, rtol=1e-6)


def test_the_same_shape_twins_match_their_ops_in_all_else():
    # A node recorded with an op's twin runs the twin's rules: the two must never drift apart (defop sets
    # every attribute before the twin is copied, except fn, which it sets on both).
    from autograd_core.ops.registry import OPS, OpDef
    twins = {name: op for name, op in OPS.items() if op.alike is not None}
    assert {"add", "sub", "mul", "div"} <= set(twins)
    for name, op in twins.items():
        t = op.alike
        assert t.same_shape and t.alike is None and not op.same_shape, name
        for slot in OpDef.__slots__:
            if slot not in ("same_shape", "alike"):
                assert getattr(t, slot, None) is getattr(op, slot, None), (name, slot)


def test_a_hook_that_changes_the_gradients_shape_or_dtype_is_refused():
    x = leaf([1.0, 2.0], "float32")
    y = x * 2
    y.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="changed the type of value"):
        y.sum().backward()
    x2 = leaf([1.0, 2.0])
    x2.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="changed the size of value"):
        (x2 * 3).sum().backward()
    x3 = leaf([1.0, 2.0])
    x3.register_hook(lambda g: g * 10)     # same shape and dtype: allowed, as in PyTorch
    (x3 * 3).sum().backward()
    np.testing.assert_allclose(x3.grad._data, [30.0, 30.0])


@st.composite
def _basic_index(draw, shape):
    """A basic index for ``shape``: per dim a slice (any step, negative too) or an int, with None and
    Ellipsis sometimes mixed in."""
    parts = []
    for n in shape:
        if draw(st.booleans()) and n > 0:
            parts.append(draw(st.integers(-n, n - 1)))
        else:
            parts.append(slice(draw(st.none() | st.integers(-n - 1, n + 1)), draw(st.none() | st.integers(-n - 1, n + 1)),
                               draw(st.sampled_from([None, 1, 2, -1, -2]))))
        if draw(st.integers(0, 5)) == 0:
            parts.append(None)
    if parts and draw(st.integers(0, 4)) == 0:
        parts[draw(st.integers(0, len(parts) - 1))] = Ellipsis
    return tuple(parts)


@given(data=st.data(), shape=shapes(min_dims=0, max_dims=3, max_side=4), through=st.booleans(),
       dense=st.lists(st.integers(0, 4), max_size=3))
def test_slices_of_one_tensor_add_up(data, shape, through, dense):
    """Gradients of several basic slices of one tensor (overlapping, strided, reversed, mixed with
    dense uses before, between and after them) add up exactly as zeros with each slice's gradient
    written in: the pass keeps each slice's gradient as a region and adds the regions into one buffer.
    A hook on a slice sees its own gradient, and another leaf that shares a dense use (``base + other``,
    whose rule hands the same gradient to both) keeps its own: additions into the buffer never write
    into an array that something else holds."""
    x = ag.tensor(data.draw(tensors(shape=shape, requires_grad=False))._data, requires_grad=True)
    base = x * 1.0 if through else x         # through: the slices come off a non-leaf
    if through:
        base.retain_grad()
    idxs = data.draw(st.lists(_basic_index(shape), min_size=1, max_size=4))
    other = ag.tensor(np.zeros(shape), requires_grad=True)
    want = np.zeros(shape)
    want_other = np.zeros(shape)
    seen = []
    loss = ag.tensor(0.0)
    for k, idx in enumerate(idxs):
        for d in dense:
            if d == k:   # a dense use between the slices
                loss = loss + ((base + other) * (k + 0.5)).sum()
                want += k + 0.5
                want_other += k + 0.5
        piece = base[idx]
        w = np.arange(1.0, piece.size + 1).reshape(piece.shape) * (k + 1)
        if k == 0 and piece.requires_grad:
            piece.register_hook(lambda g: seen.append(g))
        loss = loss + (piece * ag.tensor(w)).sum()
        region = want[idx]
        if isinstance(region, np.ndarray):
            region += w      # a view: basic indices never repeat an element
        else:
            want[idx] = region + w
    for d in dense:
        if d >= len(idxs):
            loss = loss + ((base + other) * 3.0).sum()
            want += 3.0
            want_other += 3.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), want)
    if dense:
        np.testing.assert_array_equal(other.grad.numpy(), want_other)
    if through:
        np.testing.assert_array_equal(base.grad.numpy(), want)
    if seen:
        first = np.arange(1.0, seen[0].size + 1).reshape(seen[0].shape)
        np.testing.assert_array_equal(seen[0].numpy(), first)


def test_qkv_style_split_gradient_matches_torch():
    """Attention's q, k, v taken from one projection by ``split``: the gradient of the projection is
    the three pieces' gradients side by side, as PyTorch computes it (float64)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((2, 5, 12))
    gv = [rng.standard_normal((2, 5, 4)) for _ in range(3)]
    x = ag.tensor(xv, requires_grad=True)
    tx = torch.tensor(xv, requires_grad=True)
    for lib, t in ((ag, x), (torch, tx)):
        h = t * 2.0
        q, k, v = h.split(4, dim=2)
        out = (q * lib.tensor(gv[0])).sum() + (k * lib.tensor(gv[1])).sum() + (v * lib.tensor(gv[2])).sum() \
            + (h[:, 1:3] ** 2).sum()
        out.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14, atol=1e-14)


FUNCS = {
    "tanh_matmul": lambda x: (x @ ag.tensor(np.linspace(-1, 1, 12).reshape(3, 4))).tanh(),
    "softmax_mix": lambda x: x.softmax(axis=-1) * x.sum(axis=-1, keepdims=True),
    "index_reduce": lambda x: ag.cat([x[:, ::-1] * x, x.max(axis=0, keepdims=True)]),
    "broadcast": lambda x: (x.reshape(2, 1, 3) - x).exp(),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
@given(data=st.data(), a=elements(-2, 2), b=elements(-2, 2))
def test_gradient_is_linear_in_the_upstream_gradient(name, data, a, b):
    f = FUNCS[name]
    x = data.draw(tensors(shape=(2, 3), unique=True))
    out_shape = f(x).shape
    g1 = data.draw(tensors(shape=out_shape, requires_grad=False))
    g2 = data.draw(tensors(shape=out_shape, requires_grad=False))

    def vjp(g):
        return ag.autograd_grad(f(x), x, grad_outputs=g)[0]._data

    np.testing.assert_allclose(vjp(ag.tensor(a * g1._data + b * g2._data)), a * vjp(g1) + b * vjp(g2),
                               rtol=1e-9, atol=1e-9)


def test_backward_with_explicit_gradient_on_non_scalar():
    x = leaf([1.0, 2.0])
    y = x * x
    y.backward(ag.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad._data, [2.0, 40.0])
    x.grad = None
    (x * x).backward(np.array([1.0, 1.0]))   # an ndarray is accepted too
    np.testing.assert_array_equal(x.grad._data, [2.0, 4.0])


def test_backward_on_a_leaf_and_multiple_roots():
    x = leaf([1.0, 2.0])
    x.backward(ag.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad._data, [3.0, 4.0])
    x.grad = None
    ag.backward([x.sum(), (x * x).sum()])
    np.testing.assert_array_equal(x.grad._data, [3.0, 5.0])


def test_backward_inputs_limits_accumulation():
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_array_equal(a.grad._data, [3.0, 3.0])
    assert b.grad is None


def test_float32_gradients_stay_float32():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.5).sum().backward()
    assert x.grad.dtype == np.float32


# -- retain_graph and the freed tape -------------------------------------------------------------
def test_second_backward_needs_retain_graph():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad._data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad._data, 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_saved_arrays_are_freed_after_backward():
    x = leaf(np.linspace(-1, 1, 1000))
    h = x * 2
    saved = weakref.ref(h._data)     # sin saves its input
    loss = h.sin().sum()
    del h
    gc.collect()
    assert saved() is not None       # still held by the tape
    loss.backward()
    gc.collect()
    assert saved() is None           # the tape let go of it


def test_retain_graph_keeps_saved_arrays():
    x = leaf(np.linspace(-1, 1, 10))
    h = x * 2
    saved = weakref.ref(h._data)
    loss = h.sin().sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert saved() is not None
    del loss
    gc.collect()
    assert saved() is None           # and dropping the graph frees them


# -- create_graph: grad of grad ------------------------------------------------------------------
def test_create_graph_gives_differentiable_grad():
    x = leaf([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g._data, 3 * x._data ** 2)
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad._data, 6 * x._data)


def test_third_derivative_with_autograd_grad():
    x = leaf([0.3, -0.7])
    y = x.sin().sum()
    g1, = ag.autograd_grad(y, x, create_graph=True)
    g2, = ag.autograd_grad(g1.sum(), x, create_graph=True)
    g3, = ag.autograd_grad(g2.sum(), x)
    np.testing.assert_allclose(g1._data, np.cos(x._data))
    np.testing.assert_allclose(g2._data, -np.sin(x._data))
    np.testing.assert_allclose(g3._data, -np.cos(x._data))
    assert x.grad is None   # autograd_grad leaves .grad alone


def test_create_graph_with_tensor_upstream_gradient():
    x = leaf([1.0, 2.0])
    v = leaf([3.0, 5.0])
    y = x * x
    g, = ag.autograd_grad(y, x, grad_outputs=v, create_graph=True)   # 2 x v
    (g * g).sum().backward()
    np.testing.assert_allclose(x.grad._data, 8 * x._data * v._data ** 2)
    np.testing.assert_allclose(v.grad._data, 8 * x._data ** 2 * v._data)


# -- autograd_grad -------------------------------------------------------------------------------
def test_autograd_grad_like_torch():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ga, gb = ag.autograd_grad((a * b).sum(), [a, b])
    np.testing.assert_array_equal(ga._data, b._data)
    np.testing.assert_array_equal(gb._data, a._data)
    assert a.grad is None and b.grad is None
    unused = leaf([0.0])
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ag.autograd_grad((a * 2).sum(), [a, unused])
    g, none = ag.autograd_grad((a * 2).sum(), [a, unused], allow_unused=True)
    assert none is None
    np.testing.assert_array_equal(g._data, [2.0, 2.0])


def test_autograd_grad_of_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    gh, gx = ag.autograd_grad(y, [h, x])
    np.testing.assert_array_equal(gh._data, 2 * h._data)
    np.testing.assert_array_equal(gx._data, 6 * h._data)


# -- hooks and retain_grad -----------------------------------------------------------------------
def test_hooks_on_leaf_and_intermediate():
    w = leaf([1.0, 2.0])
    seen = []
    w.register_hook(lambda g: g * 10)           # replaces the leaf's gradient
    a = w * 3
    a.register_hook(lambda g: seen.append(g._data.copy()))   # returns None: observes only
    (a * a).sum().backward()
    np.testing.assert_array_equal(seen[0], 2 * a._data)
    np.testing.assert_array_equal(w.grad._data, 10 * 3 * 2 * a._data)


def test_intermediate_hook_changes_what_flows_upstream():
    w = leaf([1.0, 2.0])
    a = w * 3
    a.register_hook(lambda g: g * 0 + 1.0)
    (a * a).sum().backward()
    np.testing.assert_array_equal(w.grad._data, [3.0, 3.0])


def test_hook_handle_remove():
    w = leaf([1.0])
    calls = []
    h = w.register_hook(lambda g: calls.append(1))
    w.sum().backward()
    h.remove()
    w.sum().backward()
    assert calls == [1]


def test_hook_on_tensor_without_grad_is_refused():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        ag.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    k = x * 5
    h.retain_grad()
    (h * h + k).sum().backward()
    np.testing.assert_array_equal(h.grad._data, 2 * h._data)
    assert k.grad is None            # non-leaf grads are not kept by default
    np.testing.assert_array_equal(x.grad._data, 4 * h._data + 5)


# -- in-place ops and the version counter --------------------------------------------------------
def test_version_counter_counts_in_place_ops():
    t = ag.tensor([1.0, 2.0, 3.0])
    assert t._version == 0
    t += 1
    t -= 1
    t *= 2
    t /= 2
    t[0] = 5.0
    t.zero_()
    t.fill_(1.0)
    t.copy_(ag.tensor([4.0, 5.0, 6.0]))
    t.add_(1.0)
    assert t._version == 9
    np.testing.assert_array_equal(t._data, [5.0, 6.0, 7.0])


def test_in_place_without_grad_writes_into_the_same_buffer():
    t = ag.tensor([1.0, 2.0])
    buf = t._data
    t += ag.tensor([1.0, 1.0])
    t *= 3
    assert t._data is buf
    np.testing.assert_array_equal(buf, [6.0, 9.0])


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "setitem", "zero_", "fill_", "copy_"])
def test_in_place_on_leaf_requiring_grad_is_refused_outside_no_grad(op):
    w = leaf([1.0, 2.0])
    actions = {"+=": lambda t: t.__iadd__(1.0), "-=": lambda t: t.__isub__(1.0), "*=": lambda t: t.__imul__(2.0),
               "/=": lambda t: t.__itruediv__(2.0), "setitem": lambda t: t.__setitem__(0, 3.0),
               "zero_": lambda t: t.zero_(), "fill_": lambda t: t.fill_(1.0), "copy_": lambda t: t.copy_(t * 0)}
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad can't be changed in place.*no_grad"):
        actions[op](w)
    np.testing.assert_array_equal(w._data, [1.0, 2.0])   # nothing half-updated
    assert w._version == 0 and w.is_leaf
    with ag.no_grad():
        actions[op](w)               # optimizers do this
    assert w._version == 1 and w.is_leaf and w.requires_grad


def test_in_place_on_non_leaf_is_recorded():
    w = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    a = w * 2
    a += 1
    a *= b
    assert a.grad_fn.name() == "MulBackward"
    a.sum().backward()
    np.testing.assert_array_equal(w.grad._data, 2 * b._data)
    np.testing.assert_array_equal(b.grad._data, 2 * w._data + 1)


def test_backward_through_a_saved_tensor_changed_in_place_names_the_op():
    w = leaf([1.0, 2.0])
    a = w * 1
    b = a * a                        # saves a
    a += 1
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*MulBackward"):
        b.sum().backward()


def test_changing_a_saved_output_in_place_names_the_op():
    w = leaf([1.0, 2.0])
    e = w.exp()                      # saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*ExpBackward"):
        e.sum().backward()


def test_changing_a_saved_constant_in_place_is_caught_too():
    w = leaf([1.0, 2.0])
    x = ag.tensor([3.0, 4.0])       # doesn't require grad, but mul saves it for w's gradient
    y = w * x
    x += 1
    with pytest.raises(RuntimeError, match="MulBackward"):
        y.sum().backward()


def test_in_place_on_an_input_that_is_not_saved_is_fine():
    w = leaf([1.0, 2.0])
    a = w * 1
    e = a.exp()                      # exp's gradient reads its output, not its input
    s = a + 5                        # add saves nothing
    a += 1
    (e + s).sum().backward()
    np.testing.assert_allclose(w.grad._data, np.exp([1.0, 2.0]) + 1)


@pytest.mark.parametrize("grad", [False, True])
def test_in_place_result_must_fit_the_tensor(grad):
    w = leaf([1.0, 2.0, 3.0])
    t = w * 1 if grad else ag.tensor(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"add \(in place\): the result has shape \(2, 3\).*shape \(3,\)"):
        t += ag.ones(2, 3, dtype=np.float64)     # would silently grow the tensor
    with pytest.raises(ValueError, match=r"mul: shapes \(3,\) and \(4,\) can't be broadcast"):
        t *= ag.ones(4, dtype=np.float64)
    assert t.shape == (3,) and t._version == 0
    np.testing.assert_array_equal(t._data, [1.0, 2.0, 3.0])


def test_in_place_float_into_integer_tensor_is_refused():
    i = ag.arange(3)
    with pytest.raises(TypeError, match=r"add \(in place\): the result dtype float(32|64) can't be stored in a tensor of dtype int64"):
        i += 1.5
    with pytest.raises(TypeError, match="can't be stored in a tensor of dtype int64"):
        i += leaf([1.0, 1.0, 1.0])
    i += 2
    assert i.tolist() == [2, 3, 4]


# -- grad modes ----------------------------------------------------------------------------------
def test_grad_mode_context_managers_nest_and_restore():
    x = leaf([1.0])
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            assert (x * 2).requires_grad
        assert not ag.is_grad_enabled()
        with ag.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    with ag.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ag.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            1 / 0
    assert ag.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = leaf([1.0])

    @ag.no_grad()
    def f():
        return x * 2

    @ag.enable_grad()
    def g():
        return x * 2

    @ag.set_grad_enabled(False)
    def h():
        return x * 2

    assert ag.is_grad_enabled()      # decorating doesn't switch the mode
    assert not f().requires_grad
    assert h().requires_grad is False
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert g().requires_grad
        assert not ag.is_grad_enabled()
    assert f.__name__ == "f"         # functools.wraps


def test_set_grad_enabled_as_a_plain_call():
    ag.set_grad_enabled(False)
    try:
        assert not ag.is_grad_enabled()
        assert not (leaf([1.0]) * 2).requires_grad
    finally:
        ag.set_grad_enabled(True)
    assert ag.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []

    def worker():
        seen.append(ag.is_grad_enabled())

    with ag.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [True]


# -- detect_anomaly ------------------------------------------------------------------------------
def test_detect_anomaly_names_the_op_and_where_it_was_created():
    x = leaf([0.0, 1.0])
    with ag.detect_anomaly():
        y = x.sqrt()                 # d sqrt at 0 is inf
        with pytest.raises(RuntimeError) as info:
            (y * 1.0).sum().backward()
    msg = str(info.value)
    assert "SqrtBackward" in msg and "nan or inf" in msg
    assert "test_graph.py" in msg and "y = x.sqrt()" in msg
    assert x.grad is None            # stopped before accumulating anything


def test_without_anomaly_mode_inf_gradients_flow_silently():
    x = leaf([0.0, 1.0])
    x.sqrt().sum().backward()
    assert np.isinf(x.grad._data[0]) and x.grad._data[1] == 0.5


def test_detect_anomaly_passes_clean_graphs_and_restores():
    x = leaf([1.0, 2.0])
    with ag.detect_anomaly():
        x.log().sum().backward()
    np.testing.assert_allclose(x.grad._data, [1.0, 0.5])
    y = leaf([0.0])
    y.sqrt().sum().backward()        # anomaly mode is off again
    assert np.isinf(y.grad.item())


# -- errors --------------------------------------------------------------------------------------
def test_backward_on_non_scalar_says_to_pass_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\).*pass `gradient=`"):
        (x * 2).backward()


def test_backward_gradient_shape_mismatch():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the tensor has shape \(2,\)"):
        (x * 2).backward(ag.ones(3))


def test_backward_without_grad_says_why():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ag.tensor([1.0]).sum().backward()


# -- deep graphs ---------------------------------------------------------------------------------
DEPTH = 100_000


def test_backward_through_100k_ops_has_no_recursion_limit():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(DEPTH):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [1.0, 1.0])
    np.testing.assert_array_equal(y._data, [DEPTH + 1.0, DEPTH + 2.0])


def test_dropping_an_unused_100k_op_graph_does_not_overflow_the_stack():
    x = leaf([1.0])
    y = x
    for _ in range(DEPTH):
        y = y * 1.0
    r = weakref.ref(y)
    del y
    gc.collect()
    assert r() is None


def test_grad_of_grad_through_a_deep_chain():
    x = leaf([0.5])
    y = x
    for _ in range(2000):
        y = y * 1.0001
    g, = ag.autograd_grad(y.sum(), x, create_graph=True)
    g2, = ag.autograd_grad((g * x).sum(), x)
    np.testing.assert_allclose(g._data, [1.0001 ** 2000])
    np.testing.assert_allclose(g2._data, [1.0001 ** 2000])

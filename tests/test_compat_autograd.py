"""The torch.autograd namespace: grad, backward, Variable, custom Functions (gradcheck and gradgradcheck in
float64, several outputs, non-differentiable outputs, saved outputs, in-place checks, errors) and
autograd.functional (jacobian/hessian/vjp/jvp/vhp/hvp with PyTorch's structures, compared with torch)."""
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.autograd import Function
from autograd_core.autograd import functional as AF
from autograd_core.testing import GradcheckError, gradcheck, gradgradcheck, shapes, tensors


def _torch():
    return pytest.importorskip("torch")


# -- grad / backward / Variable ------------------------------------------------------------------------
def test_grad_returns_a_tuple_and_leaves_grad_alone():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.tensor([3.0], requires_grad=True)
    gx, = ag.autograd.grad((x ** 2).sum(), x)
    np.testing.assert_array_equal(gx._data, [2.0, 4.0])
    assert x.grad is None
    gx, gy = ag.autograd.grad([(x * y).sum(), y.sum()], [x, y])
    np.testing.assert_array_equal(gy._data, [4.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.autograd.grad((x * 2).sum(), [x, y])
    assert ag.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)[1] is None
    z = ag.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)[1]
    np.testing.assert_array_equal(z._data, [0.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.autograd.grad((x * 2).sum(), ag.ones(2))


def test_grad_create_graph_and_grad_outputs():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    g, = ag.autograd.grad((x ** 3).sum(), x, create_graph=True)
    h, = ag.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h._data, [6.0, 12.0])
    v, = ag.autograd.grad(x * 2, x, grad_outputs=ag.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(v._data, [2.0, 20.0])


def test_backward_several_roots():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    ag.autograd.backward([(x * 2).sum(), x * 3], [None, ag.tensor([1.0, 1.0])])
    np.testing.assert_array_equal(x.grad._data, [5.0, 5.0])


def test_variable():
    t = ag.tensor([1.0])
    assert ag.autograd.Variable(t) is t
    v = ag.autograd.Variable(t, requires_grad=True)
    assert v.requires_grad and v._data is t._data and not t.requires_grad
    assert ag.autograd.Variable([1.0, 2.0]).shape == (2,)


def test_namespace_exports_match_torch_names():
    torch = _torch()
    for name in ("grad", "backward", "Function", "Variable", "functional", "gradcheck", "gradgradcheck", "no_grad",
                 "enable_grad", "set_grad_enabled", "detect_anomaly", "set_detect_anomaly", "inference_mode"):
        assert hasattr(torch.autograd, name) and hasattr(ag.autograd, name), name
    for name in ("jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"):
        assert hasattr(torch.autograd.functional, name) and hasattr(AF, name)
    from autograd_core.autograd.functional import jacobian  # noqa: F401  (torch's import path)


def test_inference_mode_and_anomaly_switches():
    x = ag.ones(2, requires_grad=True)
    with ag.inference_mode():
        assert not (x * 2).requires_grad

    @ag.inference_mode()
    def f(v):
        return v * 2
    assert not f(x).requires_grad
    with ag.autograd.set_detect_anomaly(True):  # a context manager, as in torch
        assert ag.autograd.is_anomaly_enabled()
    assert not ag.autograd.is_anomaly_enabled()
    ag.autograd.set_detect_anomaly(True)  # and a plain call
    assert ag.autograd.is_anomaly_enabled()
    ag.autograd.set_detect_anomaly(False)
    assert not ag.autograd.is_anomaly_enabled()


# -- custom Functions --------------------------------------------------------------------------------------
class MulAdd(Function):
    """a * b + c with c a Python number (a non-tensor argument)."""

    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b)
        ctx.c = c
        return a * b + c

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None, None)


class TanhSavedOutput(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.tanh()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 - y * y)


class SplitExp(Function):
    """Two outputs (exp(x), exp(2x)) and a non-differentiable integer output (argmax)."""

    @staticmethod
    def forward(ctx, x):
        e = x.exp()
        idx = x.argmax()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(e)
        return e, e * e, idx

    @staticmethod
    def backward(ctx, g1, g2, gidx):
        e, = ctx.saved_tensors
        return g1 * e + g2 * 2 * e * e


class NewStyle(Function):
    @staticmethod
    def forward(x, k):
        return x * k

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.k = inputs[1]

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


@given(shape=shapes(max_dims=2, max_side=3), data=st.data())
def test_custom_function_gradcheck_and_gradgradcheck(shape, data):
    a, b = data.draw(tensors(shape=shape)), data.draw(tensors(shape=shape))
    assert gradcheck(lambda x, y: MulAdd.apply(x, y, 1.5), (a, b))
    assert gradgradcheck(lambda x, y: MulAdd.apply(x, y, 1.5), (a, b))
    assert gradcheck(TanhSavedOutput.apply, (a,))
    assert gradgradcheck(TanhSavedOutput.apply, (a,))
    assert gradcheck(lambda x: SplitExp.apply(x)[:2], (a,))
    assert gradgradcheck(lambda x: SplitExp.apply(x)[:2], (a,))
    assert gradcheck(lambda x: NewStyle.apply(x, 3.0), (a,))


def test_custom_function_outputs_and_grad_fn():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = MulAdd.apply(x, ag.tensor([3.0, 4.0]), 1.0)
    assert y.requires_grad and y.grad_fn.name() == "MulAddBackward"
    np.testing.assert_array_equal(y._data, [4.0, 9.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 4.0])
    e, e2, idx = SplitExp.apply(x)
    assert e.requires_grad and e2.requires_grad and not idx.requires_grad and idx.dtype == np.int64
    (e2.sum()).backward()
    with ag.no_grad():
        out = MulAdd.apply(x, x, 0.0)
    assert not out.requires_grad
    plain = MulAdd.apply(ag.ones(2), ag.ones(2), 0.0)
    assert not plain.requires_grad and plain.grad_fn is None


def test_custom_function_only_needed_gradients_are_computed():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, g

    a = ag.ones(2, requires_grad=True)
    Probe.apply(a, ag.ones(2)).sum().backward()
    assert seen == [(True, False)]
    np.testing.assert_array_equal(a.grad._data, [1.0, 1.0])


def test_custom_function_matches_torch():
    torch = _torch()

    class TorchMulAdd(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, c):
            ctx.save_for_backward(a, b)
            return a * b + c

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a, None

    rng = np.random.default_rng(0)
    av, bv = rng.standard_normal(3), rng.standard_normal(3)
    a, b = ag.tensor(av, requires_grad=True), ag.tensor(bv, requires_grad=True)
    ta = torch.tensor(av, requires_grad=True)
    tb = torch.tensor(bv, requires_grad=True)
    y, ty = MulAdd.apply(a, b, 2.0), TorchMulAdd.apply(ta, tb, 2.0)
    g, = ag.autograd.grad((y ** 2).sum(), a, create_graph=True)
    tg, = torch.autograd.grad((ty ** 2).sum(), ta, create_graph=True)
    np.testing.assert_allclose(g._data, tg.detach().numpy())
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(b.grad._data, tb.grad.numpy())


def test_custom_function_errors():
    class WrongCount(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    a = ag.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        WrongCount.apply(a, a).sum().backward()

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return ag.ones(5)

    with pytest.raises(RuntimeError, match="invalid gradient"):
        WrongShape.apply(a).sum().backward()

    class SavesInt(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(3)
            return a

    with pytest.raises(TypeError, match="save_for_backward"):
        SavesInt.apply(a)

    class Dirty(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a

    with pytest.raises(NotImplementedError, match="in place"):
        Dirty.apply(a)
    with pytest.raises(RuntimeError, match="apply"):
        MulAdd()(a, a, 1.0)


def test_custom_function_saved_tensor_changed_in_place():
    x = ag.ones(3, requires_grad=True)
    a = x * 1.0
    y = MulAdd.apply(a, ag.ones(3), 0.0)
    a.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_once_differentiable():
    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @ag.autograd.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2 * x

    x = ag.tensor([3.0], requires_grad=True)
    Sq.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [6.0])


# -- autograd.functional ---------------------------------------------------------------------------------
def _f_single(x):
    return (x ** 2).sum(dim=-1) * x[..., :1].squeeze(-1).exp()


def _f_multi(x, y):
    return x * y.sum(), (x ** 2).sum() + y.tanh().sum()


def _compare(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _compare(o, t)
    else:
        assert isinstance(ours, ag.Tensor) and ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours._data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["jacobian", "hessian"])
def test_jacobian_hessian_structures_match_torch(name):
    torch = _torch()
    rng = np.random.default_rng(0)
    xv, yv = rng.standard_normal((2, 3)), rng.standard_normal(2)
    x, y = ag.tensor(xv), ag.tensor(yv)
    tx, ty = torch.tensor(xv), torch.tensor(yv)
    ours, theirs = getattr(AF, name), getattr(torch.autograd.functional, name)
    if name == "jacobian":
        _compare(ours(_f_single, x), theirs(_f_single, tx))
        _compare(ours(_f_multi, (x, y)), theirs(_f_multi, (tx, ty)))
        _compare(ours(lambda a: (a * 2, a.sum()), x), theirs(lambda a: (a * 2, a.sum()), tx))
        _compare(ours(lambda a, b: a * b.sum(), (x, y)), theirs(lambda a, b: a * b.sum(), (tx, ty)))
    else:
        _compare(ours(lambda a: _f_single(a).sum(), x), theirs(lambda a: _f_single(a).sum(), tx))
        _compare(ours(lambda a, b: _f_multi(a, b)[1], (x, y)), theirs(lambda a, b: _f_multi(a, b)[1], (tx, ty)))


def test_vjp_jvp_vhp_hvp_match_torch():
    torch = _torch()
    rng = np.random.default_rng(1)
    xv, yv, vx, vy = rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(3), rng.standard_normal(2)
    x, y, v1, v2 = (ag.tensor(a) for a in (xv, yv, vx, vy))
    tx, ty, tv1, tv2 = (torch.tensor(a) for a in (xv, yv, vx, vy))
    out_v = (ag.tensor(rng.standard_normal(3)), ag.tensor(0.7, dtype=ag.float64))
    tout_v = tuple(torch.tensor(o._data) for o in out_v)
    _compare(AF.vjp(_f_multi, (x, y), out_v), torch.autograd.functional.vjp(_f_multi, (tx, ty), tout_v))
    _compare(AF.jvp(_f_multi, (x, y), (v1, v2)), torch.autograd.functional.jvp(_f_multi, (tx, ty), (tv1, tv2)))
    scalar = lambda a, b: _f_multi(a, b)[1] * a.sum()  # noqa: E731
    _compare(AF.vhp(scalar, (x, y), (v1, v2)), torch.autograd.functional.vhp(scalar, (tx, ty), (tv1, tv2)))
    _compare(AF.hvp(scalar, (x, y), (v1, v2)), torch.autograd.functional.hvp(scalar, (tx, ty), (tv1, tv2)))
    _compare(AF.vjp(lambda a: (a ** 2).sum(), x), torch.autograd.functional.vjp(lambda a: (a ** 2).sum(), tx))


@given(shape=shapes(min_dims=1, max_dims=2, max_side=3), data=st.data())
def test_jacobian_and_hessian_against_finite_differences(shape, data):
    x = data.draw(tensors(shape=shape, requires_grad=False))
    f = lambda a: (a.sin() * a).sum(dim=-1, keepdim=True) * a  # noqa: E731
    J = AF.jacobian(f, x)
    assert J.shape == tuple(f(x).shape) + tuple(x.shape)
    eps = 1e-6
    flat = x._data.reshape(-1)
    for k in range(flat.size):
        xp, xm = flat.copy(), flat.copy()
        xp[k] += eps
        xm[k] -= eps
        col = (f(ag.tensor(xp.reshape(shape)))._data - f(ag.tensor(xm.reshape(shape)))._data) / (2 * eps)
        np.testing.assert_allclose(J._data.reshape(-1, flat.size)[:, k], col.reshape(-1), rtol=1e-5, atol=1e-6)
    H = AF.hessian(lambda a: (a.sin() * a).sum(), x)
    Jg = AF.jacobian(lambda a: a.sin() + a * a.cos(), x)  # the gradient of sum(a sin a), elementwise
    np.testing.assert_allclose(H._data, Jg._data, rtol=1e-10, atol=1e-12)


def test_functional_create_graph_strict_and_errors():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    J = AF.jacobian(lambda a: a ** 3, x, create_graph=True)
    assert J.requires_grad
    J.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [6.0, 12.0])
    J2 = AF.jacobian(lambda a: a ** 3, x)
    assert not J2.requires_grad
    y = ag.tensor([1.0])
    np.testing.assert_array_equal(AF.jacobian(lambda a, b: a * 2, (x, y))[1]._data, np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(TypeError, match="tuple of tensors"):
        AF.jacobian(lambda a: a, [x])
    with pytest.raises(RuntimeError, match="single element"):
        AF.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="one element"):
        AF.hessian(lambda a: a * 2, x)


def test_grad_fn_prints_as_a_python_object_as_in_torch():
    """``print(loss.grad_fn)`` and its ``next_functions`` print in Python's default form, as PyTorch's nodes do
    (``<MulBackward0 object at 0x7f...>``; the names differ by design: ``MulBackward``)."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert re.fullmatch(r"<SumBackward object at 0x[0-9a-f]+>", repr(y.grad_fn)), repr(y.grad_fn)
    mul = y.grad_fn.next_functions[0][0]
    assert re.fullmatch(r"<MulBackward object at 0x[0-9a-f]+>", str(mul)), str(mul)
    leaf = mul.next_functions[0][0]
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", repr(leaf)), repr(leaf)
    torch = pytest.importorskip("torch")
    t = (torch.tensor([1.0], requires_grad=True) * 2).sum()
    assert re.fullmatch(r"<\w+ object at 0x[0-9a-f]+>", repr(t.grad_fn))


def test_make_dual_keeps_a_tangent_of_the_primals_layout_and_copies_another():
    # the forward-mode tutorial asserts both: the tangent itself comes back when its strides are the primal's
    import autograd_core.autograd.forward_ad as fwAD
    primal, tangent = ag.randn(4, 4), ag.randn(4, 4)
    with fwAD.dual_level():
        same = fwAD.unpack_dual(fwAD.make_dual(primal, tangent)).tangent
        other = fwAD.unpack_dual(fwAD.make_dual(primal, tangent.T)).tangent
        y = fwAD.make_dual(primal, tangent.T) * 3.0
        jvp = fwAD.unpack_dual(y).tangent
    assert same is tangent
    assert other is not tangent and other.is_contiguous()
    np.testing.assert_array_equal(other.numpy(), tangent.numpy().T)
    np.testing.assert_allclose(jvp.numpy(), 3.0 * tangent.numpy().T, rtol=1e-6)
    torch = _torch()
    import torch.autograd.forward_ad as tfw
    p, t = torch.randn(4, 4), torch.randn(4, 4)
    with tfw.dual_level():
        assert tfw.unpack_dual(tfw.make_dual(p, t)).tangent is t
        assert tfw.unpack_dual(tfw.make_dual(p, t.T)).tangent is not t


class _ExpJvp(Function):
    # the forward-mode tutorial's Function: a jvp() and no backward(); jvp frees what it used
    @staticmethod
    def forward(ctx, foo):
        result = ag.exp(foo)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, gI):
        gO = gI * ctx.result
        del ctx.result
        return gO


def test_custom_function_jvp_gives_forward_mode_tangents_like_torch():
    import autograd_core.autograd.forward_ad as fwAD
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    t = np.arange(6.0).reshape(2, 3)
    primal = ag.tensor(x, requires_grad=True)
    with fwAD.dual_level():
        y = _ExpJvp.apply(fwAD.make_dual(primal, ag.tensor(t)))
        direct = fwAD.unpack_dual(y).tangent
        chained = fwAD.unpack_dual((y * 3.0).sin()).tangent  # ops after the Function carry its tangent on
    np.testing.assert_allclose(direct.numpy(), t * np.exp(x), rtol=1e-12)
    np.testing.assert_allclose(chained.numpy(), np.cos(3 * np.exp(x)) * 3 * np.exp(x) * t, rtol=1e-12)
    torch = _torch()
    import torch.autograd.forward_ad as tfw

    class TExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            ctx.result = torch.exp(foo)
            return ctx.result

        @staticmethod
        def jvp(ctx, gI):
            return gI * ctx.result

    tp = torch.tensor(x, requires_grad=True)
    with tfw.dual_level():
        ty = TExp.apply(tfw.make_dual(tp, torch.tensor(t)))
        np.testing.assert_allclose(tfw.unpack_dual((ty * 3.0).sin()).tangent.detach().numpy(), chained.numpy(),
                                   rtol=1e-12)


def test_a_jvp_only_function_refuses_reverse_mode():
    import autograd_core.autograd.forward_ad as fwAD
    primal = ag.tensor([0.5, 1.5], dtype=ag.float64, requires_grad=True)
    with fwAD.dual_level():
        y = _ExpJvp.apply(fwAD.make_dual(primal, ag.ones(2, dtype=ag.float64)))
        with pytest.raises(NotImplementedError, match="_ExpJvpBackward: you must implement either the backward or vjp"):
            y.sum().backward()


def test_gradcheck_checks_forward_mode_when_asked():
    class WrongJvp(_ExpJvp):
        @staticmethod
        def jvp(ctx, gI):
            return 2 * gI * ctx.result

    x = ag.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
    kw = dict(check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False, check_batched_grad=False)
    assert gradcheck(_ExpJvp.apply, (x,), **kw)
    with pytest.raises(GradcheckError, match="forward-mode derivative J t of output 0"):
        gradcheck(WrongJvp.apply, (x,), **kw)
    assert gradcheck(WrongJvp.apply, (x,), raise_exception=False, **kw) is False
    assert gradcheck(lambda t: (t.sin() * t).sum(0), (x,), check_forward_ad=True)  # both modes
    with pytest.raises(ValueError, match="at least one of check_forward_ad or check_backward_ad"):
        gradcheck(_ExpJvp.apply, (x,), check_backward_ad=False)

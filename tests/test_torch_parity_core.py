"""PyTorch as an oracle (optional: skipped without torch): forward values, gradients and second-order
gradients of every core op against torch in float64, including the points where the conventions
matter (ties in max/maximum, zeros in prod, kinks of relu/abs/clamp, pow at 0, std of a constant)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import broadcastable_shapes, shapes, tensors

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(1234)


def rand(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape)


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare(ag_fn, torch_fn, arrays, second_order=True, rtol=1e-10, atol=1e-12):
    """Forward, VJP (random cotangents) and the VJP's own VJP, ours against torch's."""
    ours = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs_a, outs_t = _as_list(ag_fn(*ours)), _as_list(torch_fn(*theirs))
    assert len(outs_a) == len(outs_t)
    for oa, ot in zip(outs_a, outs_t):
        assert oa.shape == tuple(ot.shape), (oa.shape, tuple(ot.shape))
        np.testing.assert_allclose(oa._data, ot.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward")
    rng = np.random.default_rng(0)
    vs = [rng.standard_normal(oa.shape) for oa in outs_a]
    ga = ag.autograd_grad(outs_a, ours, grad_outputs=[ag.tensor(v) for v in vs], create_graph=second_order,
                          allow_unused=True)
    gt = torch.autograd.grad(outs_t, theirs, grad_outputs=[torch.tensor(v) for v in vs],
                             create_graph=second_order, allow_unused=True)
    for i, (a, t) in enumerate(zip(ga, gt)):
        a_np = np.zeros(arrays[i].shape) if a is None else a._data
        t_np = np.zeros(arrays[i].shape) if t is None else t.detach().numpy(force=True)
        np.testing.assert_allclose(a_np, t_np, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
    if not second_order:
        return
    ws = [rng.standard_normal(a.shape) for a in arrays]
    live_a = [(g, w) for g, w in zip(ga, ws) if g is not None and g.requires_grad]
    live_t = [(g, w) for g, w in zip(gt, ws) if g is not None and g.requires_grad]
    if live_t:
        st_ = sum((g * torch.tensor(w)).sum() for g, w in live_t)
        g2t = torch.autograd.grad(st_, theirs, allow_unused=True)
    else:
        g2t = [None] * len(arrays)
    if live_a:
        sa = sum((g * ag.tensor(w)).sum() for g, w in live_a)
        g2a = ag.autograd_grad(sa, ours, allow_unused=True)
    else:
        g2a = [None] * len(arrays)
    for i, (a, t) in enumerate(zip(g2a, g2t)):
        a_np = np.zeros(arrays[i].shape) if a is None else a._data
        t_np = np.zeros(arrays[i].shape) if t is None else t.detach().numpy(force=True)
        np.testing.assert_allclose(a_np, t_np, rtol=1e-9, atol=1e-10, err_msg=f"second-order gradient of input {i}")


# -- elementwise ---------------------------------------------------------------------------------
UNARY = {
    "neg": (ag.neg, torch.neg, None), "abs": (ag.abs, torch.abs, None), "exp": (ag.exp, torch.exp, None),
    "log": (ag.log, torch.log, (0.1, 3)), "log1p": (ag.log1p, torch.log1p, (-0.9, 3)),
    "expm1": (ag.expm1, torch.expm1, None), "sqrt": (ag.sqrt, torch.sqrt, (0.1, 3)),
    "rsqrt": (ag.rsqrt, torch.rsqrt, (0.1, 3)), "sin": (ag.sin, torch.sin, None), "cos": (ag.cos, torch.cos, None),
    "tanh": (ag.tanh, torch.tanh, None), "sigmoid": (ag.sigmoid, torch.sigmoid, None),
    "erf": (ag.erf, torch.erf, None),
    "relu": (ag.relu, torch.relu, None),
    "leaky_relu": (lambda x: ag.leaky_relu(x, negative_slope=0.2), lambda x: F.leaky_relu(x, 0.2), None),
    "elu": (lambda x: ag.elu(x, alpha=0.7), lambda x: F.elu(x, alpha=0.7), None),
    "gelu": (ag.gelu, F.gelu, None),
    "gelu_tanh": (lambda x: ag.gelu(x, approximate="tanh"), lambda x: F.gelu(x, approximate="tanh"), None),
    "softplus": (ag.softplus, F.softplus, (-30, 30)),
    "softplus_beta": (lambda x: ag.softplus(x, beta=2.0, threshold=5.0), lambda x: F.softplus(x, 2.0, 5.0), None),
    "clamp": (lambda x: ag.clamp(x, -0.5, 1.0), lambda x: torch.clamp(x, -0.5, 1.0), None),
    "pow2": (lambda x: x ** 2, lambda x: x ** 2, None), "pow3.5": (lambda x: x ** 3.5, lambda x: x ** 3.5, (0.1, 2)),
    "rpow": (lambda x: 2.5 ** x, lambda x: 2.5 ** x, None), "rsub": (lambda x: 1 - x, lambda x: 1 - x, None),
    "rdiv": (lambda x: 3 / x, lambda x: 3 / x, (0.5, 2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_parity(name):
    ours, theirs, rng = UNARY[name]
    lo, hi = rng or (-2.0, 2.0)
    compare(ours, theirs, [rand(3, 4, lo=lo, hi=hi)])


@pytest.mark.parametrize("name", ["relu", "abs", "leaky_relu", "elu", "clamp", "pow2", "gelu"])
def test_unary_parity_at_kinks(name):
    ours, theirs, _ = UNARY[name]
    x = np.array([-1.0, -0.5, 0.0, 0.0, 1.0, 2.0, -0.5, 1.0])
    # elu's second derivative exactly at 0 is a convention (left: alpha, right: 0); first order must match
    compare(ours, theirs, [x], second_order=name != "elu")


def test_sign_parity():
    # torch's sign has an all-zero gradient; ours records no gradient at all (the "no grad")
    x = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(ag.sign(ag.tensor(x))._data, torch.sign(torch.tensor(x)).numpy())
    assert not ag.sign(ag.tensor(x, requires_grad=True)).requires_grad


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b), "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b), "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
    "maximum": (ag.maximum, torch.maximum), "minimum": (ag.minimum, torch.minimum),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_parity_with_broadcasting(name, data):
    ours, theirs = BINARY[name]
    sa = data.draw(shapes(max_dims=3, max_side=3))
    sb = data.draw(broadcastable_shapes(sa, max_dims=3, max_side=3))
    a = rand(*sa, lo=0.3, hi=2.0) if name in ("pow", "div") else rand(*sa)
    b = rand(*sb, lo=0.3, hi=2.0) if name == "div" else rand(*sb)
    compare(ours, theirs, [a, b])


def test_maximum_minimum_ties_and_pow_at_zero_parity():
    a = np.array([1.0, 2.0, 3.0, 0.0])
    b = np.array([1.0, 0.0, 3.0, 2.0])
    compare(ag.maximum, torch.maximum, [a, b])
    compare(ag.minimum, torch.minimum, [a, b])
    compare(lambda x, y: x ** y, lambda x, y: x ** y, [np.array([0.0, 0.0, 2.0, 1.5]), np.array([2.0, 0.0, 3.0, -1.0])],
            second_order=False)   # 0 ** 0 etc: first order matches; torch's second order there is nan


def test_where_parity():
    cond = RNG.random((3, 1)) > 0.5
    compare(lambda x, y: ag.where(cond, x, y), lambda x, y: torch.where(torch.tensor(cond), x, y),
            [rand(3, 4), rand(4)])


# -- reductions ----------------------------------------------------------------------------------
AXES = [None, 0, -1, (0, 2)]


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")  # var2 over a size-2 dim: 0 dof
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "logsumexp", "var", "std", "var2"])
def test_reduction_parity(name, axis, keepdims):
    x = rand(2, 3, 4)
    dims = tuple(range(3)) if axis is None else axis
    if name in ("var", "std", "var2"):
        corr = 2 if name == "var2" else 1
        ag_name = "var" if name == "var2" else name
        ours = lambda t: getattr(ag, ag_name)(t, axis=axis, keepdims=keepdims, correction=corr)  # noqa: E731
        theirs = lambda t: getattr(torch, ag_name)(t, dim=dims, keepdim=keepdims, correction=corr)  # noqa: E731
    elif name == "prod":
        # torch.prod takes one dim: compose for tuples
        def theirs(t):
            for d in sorted([d % 3 for d in ((dims,) if isinstance(dims, int) else dims)], reverse=True):
                t = t.prod(dim=d, keepdim=keepdims) if keepdims else t.prod(dim=d)
            return t
        ours = lambda t: ag.prod(t, axis=axis, keepdims=keepdims)  # noqa: E731
        x[0, 1, 2] = 0.0   # a zero: the exact "product of the others" path
    else:
        ours = lambda t: getattr(ag, name)(t, axis=axis, keepdims=keepdims)  # noqa: E731
        theirs = lambda t: getattr(torch, name)(t, dim=dims, keepdim=keepdims)  # noqa: E731
    compare(ours, theirs, [x])


def test_max_min_ties_parity():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [5.0, -1.0, 5.0, 5.0]])
    for axis in (None, 0, 1):
        dims = (0, 1) if axis is None else axis
        compare(lambda t: ag.amax(t, axis=axis), lambda t: torch.amax(t, dim=dims), [x])
        compare(lambda t: ag.amin(t, axis=axis), lambda t: torch.amin(t, dim=dims), [x])


def test_prod_with_zeros_parity():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, -2.0, 0.5]])
    compare(lambda t: ag.prod(t, axis=1), lambda t: torch.prod(t, dim=1), [x])
    compare(lambda t: ag.prod(t), lambda t: torch.prod(t), [np.array([0.0, 2.0, 3.0])])


def test_std_of_constant_parity():
    compare(lambda t: ag.std(t, axis=1), lambda t: torch.std(t, dim=1), [np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])],
            second_order=False)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_log_softmax_cumsum_parity(axis):
    x = rand(3, 4, 2)
    compare(lambda t: ag.softmax(t, axis=axis), lambda t: torch.softmax(t, dim=axis), [x])
    compare(lambda t: ag.log_softmax(t, axis=axis), lambda t: torch.log_softmax(t, dim=axis), [x])
    compare(lambda t: ag.cumsum(t, axis=axis), lambda t: torch.cumsum(t, dim=axis), [x])


def test_softmax_huge_logits_parity():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    compare(lambda t: ag.softmax(t, axis=-1), lambda t: torch.softmax(t, dim=-1), [x])
    compare(lambda t: ag.log_softmax(t, axis=-1), lambda t: torch.log_softmax(t, dim=-1), [x])
    compare(lambda t: ag.logsumexp(t, axis=-1), lambda t: torch.logsumexp(t, dim=-1), [x])


# -- linear algebra ------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((3,), (5, 3, 2)), ((5, 2, 3), (3,)),
                                   ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_parity(sa, sb):
    compare(lambda a, b: a @ b, lambda a, b: a @ b, [rand(*sa), rand(*sb)])


def test_dot_outer_einsum_parity():
    compare(ag.dot, torch.dot, [rand(4), rand(4)])
    compare(ag.outer, torch.outer, [rand(3), rand(2)])
    for spec, shps in [("bi,oi->bo", [(3, 4), (2, 4)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
                       ("ij,jk->i", [(2, 3), (3, 4)]), ("ij->j", [(3, 4)])]:
        compare(lambda *xs: ag.einsum(spec, *xs), lambda *xs: torch.einsum(spec, *xs), [rand(*s) for s in shps])


# -- shape ops -----------------------------------------------------------------------------------
SHAPE_CASES = {
    "reshape": (lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
    "view": (lambda x: x.view(-1), lambda x: x.reshape(-1)),
    "flatten": (lambda x: ag.flatten(x, 1), lambda x: torch.flatten(x, 1)),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1)),
    "transpose": (lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2)),
    "T": (lambda x: x[0].T, lambda x: x[0].T),
    "squeeze": (lambda x: x[:, :1].squeeze(1), lambda x: x[:, :1].squeeze(1)),
    "unsqueeze": (lambda x: x.unsqueeze(-2), lambda x: x.unsqueeze(-2)),
    "expand": (lambda x: x[:, :1].expand(3, 2, 3, 4), lambda x: x[:, :1].expand(3, 2, 3, 4)),
    "cat": (lambda x: ag.cat([x, x * 2], dim=1), lambda x: torch.cat([x, x * 2], dim=1)),
    "stack": (lambda x: ag.stack([x, x * x], dim=-1), lambda x: torch.stack([x, x * x], dim=-1)),
    "split": (lambda x: ag.split(x, 2, dim=2), lambda x: torch.split(x, 2, dim=2)),
    "split_sizes": (lambda x: ag.split(x, [1, 3], dim=-1), lambda x: torch.split(x, [1, 3], dim=-1)),
    "chunk": (lambda x: ag.chunk(x, 2, dim=1), lambda x: torch.chunk(x, 2, dim=1)),
    "pad": (lambda x: ag.pad(x, (1, 2, 0, 1), value=0.5), lambda x: F.pad(x, (1, 2, 0, 1), value=0.5)),
    "flip": (lambda x: x.flip((0, 2)), lambda x: x.flip((0, 2))),
    "repeat": (lambda x: x.repeat(2, 1, 1, 2), lambda x: x.repeat(2, 1, 1, 2)),
    "tile": (lambda x: ag.tile(x, (2, 1)), lambda x: torch.tile(x, (2, 1))),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_shape_parity(name):
    ours, theirs = SHAPE_CASES[name]
    compare(lambda x: ours(x * x), lambda x: theirs(x * x), [rand(2, 3, 4)])


# -- indexing ------------------------------------------------------------------------------------
INDEX_CASES = [
    (1,), (Ellipsis, 1), (None, slice(1, 3)), (slice(1, None), -1), (np.array([0, 0, 2, 1, 0]),),
    (slice(None), np.array([[1, 1], [3, 0]])), (np.array([1, 0]), np.array([3, 3])),
    (np.array([True, False, True]),), (np.array([[True, False, True, False]] * 3),),
]


@pytest.mark.parametrize("idx", INDEX_CASES, ids=[str(i) for i in range(len(INDEX_CASES))])
def test_indexing_parity(idx):
    tidx = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in idx)
    compare(lambda x: (x * x)[idx], lambda x: (x * x)[tidx], [rand(3, 4)])


def test_negative_step_indexing_parity():
    # torch has no negative steps: flip is its equivalent
    compare(lambda x: (x * x)[::-1], lambda x: (x * x).flip(0), [rand(3, 4)])
    compare(lambda x: (x * x)[:, ::-2], lambda x: (x * x).flip(1)[:, ::2], [rand(3, 4)])


def test_gather_take_along_index_select_masked_fill_parity():
    x = rand(3, 4)
    index = np.array([[0, 0, 3], [2, 1, 2], [1, 1, 1]])
    compare(lambda t: ag.gather(t * t, 1, index), lambda t: torch.gather(t * t, 1, torch.tensor(index)), [x])
    idx0 = np.array([[2, 0, 1, 1], [0, 0, 0, 2]])
    compare(lambda t: ag.gather(t * t, 0, idx0), lambda t: torch.gather(t * t, 0, torch.tensor(idx0)), [x])
    compare(lambda t: ag.take_along_axis(t * t, index, 1),
            lambda t: torch.take_along_dim(t * t, torch.tensor(index), 1), [x])
    sel = np.array([3, 0, 3])
    compare(lambda t: ag.index_select(t * t, 1, sel), lambda t: torch.index_select(t * t, 1, torch.tensor(sel)), [x])
    mask = x > 0
    compare(lambda t: ag.masked_fill(t * t, mask, -1.0), lambda t: (t * t).masked_fill(torch.tensor(mask), -1.0), [x])


def test_setitem_parity():
    def ours(w, v):
        y = w * 2
        y[1:, ::2] = v * v
        return y

    def theirs(w, v):
        y = w * 2
        y[1:, ::2] = v * v
        return y

    compare(ours, theirs, [rand(3, 4), rand(2, 2)])

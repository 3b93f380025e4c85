"""Gradients of scatter_reduce with reduce='prod', 'amax' and 'amin' (include_self True and False), for the
input and src: against PyTorch in float64 on hypothesis-drawn shapes and indices with values from a small set
(so ties, zeros and places that receive nothing all occur), NaN included; second derivatives against PyTorch
and the refused one; gradcheck / gradgradcheck on tie-free values; cases written out that run without torch."""
import numpy as np
import pytest
import hypothesis.extra.numpy as hnp
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, gradgradcheck, shapes

REDUCES = ("prod", "amax", "amin")
TIES = (-1.0, 0.0, 1.0, 2.0)


@st.composite
def scatter_case(draw, values=TIES, reduces=REDUCES):
    """(x, dim, index, src, reduce, include_self, g): x of 1-3 dims; index no larger than x outside dim (any
    size up to 4 along it, 0 included) with in-range entries; src of index's shape; g a cotangent."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(draw(st.integers(0, 4)) if d == dim % len(shape) else draw(st.integers(1, s))
                   for d, s in enumerate(shape))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[dim] - 1)))
    elems = st.sampled_from(values)
    x = draw(hnp.arrays(np.float64, shape, elements=elems))
    src = draw(hnp.arrays(np.float64, ishape, elements=elems))
    g = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from((-1.5, 0.5, 1.0, 3.0))))
    return x, dim, index, src, draw(st.sampled_from(reduces)), draw(st.booleans()), g


def _ours(x, dim, index, src, reduce, include_self, g):
    xt, st_ = ag.tensor(x, requires_grad=True), ag.tensor(src, requires_grad=True)
    out = ag.scatter_reduce(xt, dim, ag.tensor(index), st_, reduce, include_self=include_self)
    out.backward(ag.tensor(g))
    return out._data, xt.grad._data, st_.grad._data


def _theirs(x, dim, index, src, reduce, include_self, g):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    st_ = torch.tensor(src, requires_grad=True)
    out = torch.scatter_reduce(xt, dim, torch.tensor(index), st_, reduce, include_self=include_self)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), xt.grad.numpy(), st_.grad.numpy()


def _assert_same(ours, theirs):
    for name, a, b in zip(("value", "input grad", "src grad"), ours, theirs):
        assert a.shape == b.shape, (name, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)


# -- against PyTorch ---------------------------------------------------------------------------------
@given(case=scatter_case())
def test_values_and_gradients_match_torch_with_ties_and_zeros(case):
    _assert_same(_ours(*case), _theirs(*case))


@given(case=scatter_case(values=(-1.0, 0.0, 1.0, float("nan"))))
def test_values_and_gradients_match_torch_with_nan(case):
    _assert_same(_ours(*case), _theirs(*case))


@settings(max_examples=25)
@given(case=scatter_case(), data=st.data())
def test_second_derivatives_match_torch(case, data):
    """A Hessian-vector product through the first gradients (create_graph=True), or the same refusal."""
    torch = pytest.importorskip("torch")
    x, dim, index, src, reduce, include_self, g = case
    vx = data.draw(hnp.arrays(np.float64, x.shape, elements=st.sampled_from((-1.0, 0.5, 2.0))))
    vs = data.draw(hnp.arrays(np.float64, src.shape, elements=st.sampled_from((-1.0, 0.5, 2.0))))

    def run(lib, grad):
        xt, st_ = lib.tensor(x, requires_grad=True), lib.tensor(src, requires_grad=True)
        out = lib.scatter_reduce(xt, dim, lib.tensor(index), st_, reduce, include_self=include_self)
        gx, gs = grad((out * lib.tensor(g)).sum(), (xt, st_), create_graph=True)
        h = (gx * lib.tensor(vx)).sum() + (gs * lib.tensor(vs)).sum()
        if not h.requires_grad:     # amax/amin: the gradient is a constant mask times g
            return [np.zeros(x.shape), np.zeros(src.shape)]
        try:
            hs = grad(h, (xt, st_), allow_unused=True)
        except (RuntimeError, NotImplementedError) as e:
            return str(e)
        return [np.zeros(a.shape) if t is None else np.asarray(t.detach()._data if lib is ag else t.detach())
                for t, a in zip(hs, (x, src))]

    ours, theirs = run(ag, ag.autograd.grad), run(torch, torch.autograd.grad)
    if isinstance(theirs, str):
        assert isinstance(ours, str) and "two or more zeros of src" in ours, (ours, theirs)
        return
    assert not isinstance(ours, str), ours
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)


# -- gradcheck --------------------------------------------------------------------------------------
@st.composite
def tie_free_case(draw):
    """Values of distinct sizes on a grid of 1/8, away from 0, either sign: no ties, no zeros within finite
    differences, and none among their squares either."""
    shape = draw(shapes(min_dims=1, max_dims=2, max_side=3))
    dim = draw(st.integers(0, len(shape) - 1))
    ishape = tuple(draw(st.integers(1, 3)) if d == dim else draw(st.integers(1, s)) for d, s in enumerate(shape))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[dim] - 1)))
    n = int(np.prod(shape)) + int(np.prod(ishape))
    sizes = np.array(draw(st.lists(st.integers(1, 24), min_size=n, max_size=n, unique=True))) / 8
    vals = sizes * np.array(draw(st.lists(st.sampled_from((-1.0, 1.0)), min_size=n, max_size=n)))
    x = ag.tensor(vals[:np.prod(shape)].reshape(shape), requires_grad=True)
    src = ag.tensor(vals[np.prod(shape):].reshape(ishape), requires_grad=True)
    return x, dim, ag.tensor(index), src, draw(st.booleans())


@settings(max_examples=30)
@given(case=tie_free_case(), reduce=st.sampled_from(REDUCES))
def test_gradcheck_and_gradgradcheck_tie_free(case, reduce):
    x, dim, index, src, include_self = case

    def f(t, s):
        return ag.scatter_reduce(t, dim, index, s, reduce, include_self=include_self)

    assert gradcheck(f, (x, src))
    # times the inputs: a second derivative that is not zero for amax/amin too
    assert gradgradcheck(lambda t, s: f(t * t, s * s), (x, src))


@settings(max_examples=30)
@given(case=scatter_case(reduces=("prod",)))
def test_prod_gradcheck_with_zeros(case):
    """A product is a polynomial: finite differences are right at zeros and ties too."""
    x, dim, index, src, _, include_self, _ = case
    t, s = ag.tensor(x, requires_grad=True), ag.tensor(src, requires_grad=True)
    assert gradcheck(lambda a, b: ag.scatter_reduce(a, dim, ag.tensor(index), b, "prod", include_self=include_self),
                     (t, s))


# -- written out (no torch needed) --------------------------------------------------------------------
def _grads(x, index, src, reduce, include_self, g, dim=0):
    xt, st_ = ag.tensor(x, requires_grad=True), ag.tensor(src, requires_grad=True)
    out = ag.scatter_reduce(xt, dim, ag.tensor(index), st_, reduce, include_self=include_self)
    out.backward(ag.tensor(g))
    return out._data.tolist(), xt.grad._data.tolist(), st_.grad._data.tolist()


def test_amax_splits_the_gradient_among_ties():
    # place 0: input 2 and src 2, 2 tie (3 ways); place 1: src 5 wins; place 2: nothing arrives
    out, gx, gs = _grads([2.0, 1.0, 7.0], [0, 0, 1, 0], [2.0, 2.0, 5.0, -1.0], "amax", True, [3.0, 4.0, 5.0])
    assert out == [2.0, 5.0, 7.0]
    assert gx == [1.0, 0.0, 5.0]
    assert gs == [1.0, 1.0, 4.0, 0.0]


def test_amin_without_self():
    # include_self=False: places that receive something get no gradient for the input; place 2 keeps it
    out, gx, gs = _grads([0.0, 1.0, 7.0], [0, 0, 1], [2.0, 2.0, 5.0], "amin", False, [3.0, 4.0, 5.0])
    assert out == [2.0, 5.0, 7.0]
    assert gx == [0.0, 0.0, 5.0]
    assert gs == [1.5, 1.5, 4.0]


def test_amax_without_self_still_counts_an_equal_input_as_pytorch_does():
    # PyTorch's rule: the input's element counts in the share when it equals the result, but its own
    # gradient is then zeroed (include_self=False), so src gets half
    out, gx, gs = _grads([5.0, 1.0], [0, 0], [5.0, 2.0], "amax", False, [1.0, 2.0])
    assert out == [5.0, 1.0]
    assert gx == [0.0, 2.0]
    assert gs == [0.5, 0.0]


def test_prod_gradients_at_zeros():
    # place 0: 2 * 3 * 0 (one zero: it gets 2 * 3); place 1: 4 * 0 * 0 (two zeros: no gradient);
    # place 2: -1 * 5; place 3: nothing arrives
    x = [2.0, 4.0, -1.0, 6.0]
    index = [0, 0, 1, 1, 2]
    src = [3.0, 0.0, 0.0, 0.0, 5.0]
    g = [1.0, 2.0, 3.0, 4.0]
    out, gx, gs = _grads(x, index, src, "prod", True, g)
    assert out == [0.0, 0.0, -5.0, 6.0]
    assert gx == [0.0, 0.0, 15.0, 4.0]
    assert gs == [0.0, 6.0, 0.0, 0.0, -3.0]
    out, gx, gs = _grads(x, index, src, "prod", False, g)
    assert out == [0.0, 0.0, 5.0, 6.0]
    assert gx == [0.0, 0.0, 0.0, 4.0]
    assert gs == [0.0, 3.0, 0.0, 0.0, 3.0]


def test_prod_zero_input_gets_the_product_of_the_src():
    out, gx, gs = _grads([0.0, 3.0], [0, 0, 1], [2.0, -4.0, 0.5], "prod", True, [1.0, 1.0])
    assert out == [0.0, 1.5]
    assert gx == [-8.0, 0.5]
    assert gs == [0.0, 0.0, 3.0]


def test_nan_result_gives_nan_gradients_to_its_place():
    out, gx, gs = _grads([1.0, float("nan")], [0, 0], [float("nan"), 3.0], "amax", True, [1.0, 1.0])
    assert np.isnan(out).all() and np.isnan(gx).all() and np.isnan(gs).all()


def test_2d_along_dim_1_and_the_method_forms():
    x = ag.tensor([[1.0, 4.0, 0.0], [2.0, 2.0, 2.0]], requires_grad=True)
    src = ag.tensor([[4.0, 3.0], [2.0, 9.0]], requires_grad=True)
    index = ag.tensor([[1, 0], [1, 1]])
    out = x.scatter_reduce(1, index, src, "amax")
    assert out.tolist() == [[3.0, 4.0, 0.0], [2.0, 9.0, 2.0]]
    out.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 1.0], [1.0, 0.0, 1.0]]
    assert src.grad.tolist() == [[0.5, 1.0], [0.0, 1.0]]


def test_inplace_scatter_reduce_is_differentiable():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    src = ag.tensor([2.0, 5.0], requires_grad=True)
    y = x * 1
    y.scatter_reduce_(0, ag.tensor([0, 0]), src, "prod", include_self=True)
    assert y.tolist() == [10.0, 2.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [10.0, 1.0, 1.0]
    assert src.grad.tolist() == [5.0, 2.0]


def test_prod_second_derivative_with_two_zeros_is_refused():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    src = ag.tensor([0.0, 0.0, 3.0], requires_grad=True)
    out = ag.scatter_reduce(x, 0, ag.tensor([0, 0, 1]), src, "prod")
    gx, gs = ag.autograd.grad(out.sum(), (x, src), create_graph=True)
    assert gs.tolist() == [0.0, 0.0, 2.0]     # the first derivative is there
    with pytest.raises(NotImplementedError, match=r"scatter_reduce: .*prod.*src \(shape \(3,\).*\(2,\)"):
        ag.autograd.grad(gs.sum(), (x, src))


def test_prod_second_derivative_with_one_zero():
    # out = x0 * s0 * s1 with s1 = 0: d2/ds0 ds1 of out is x0; the gradient of src is (x0 s1, x0 s0)
    x = ag.tensor([2.0], requires_grad=True)
    src = ag.tensor([3.0, 0.0], requires_grad=True)
    out = ag.scatter_reduce(x, 0, ag.tensor([0, 0]), src, "prod")
    _, gs = ag.autograd.grad(out.sum(), (x, src), create_graph=True)
    assert gs.tolist() == [0.0, 6.0]
    hx, hs = ag.autograd.grad(gs[1], (x, src))
    assert hx.tolist() == [3.0] and hs.tolist() == [2.0, 0.0]


def test_values_only_under_no_grad_and_bad_reduce():
    with ag.no_grad():
        out = ag.scatter_reduce(ag.tensor([1.0, 1.0], requires_grad=True), 0, ag.tensor([1]), ag.tensor([3.0]), "amin")
    assert out.tolist() == [1.0, 1.0] and not out.requires_grad
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be"):
        ag.scatter_reduce(ag.zeros(2), 0, ag.tensor([1]), ag.ones(1), "max")


# -- index_reduce: scatter_reduce with index[i] spread over source's slice i ---------------------------
@st.composite
def index_reduce_case(draw, values=TIES):
    """(x, dim, index, src, reduce, include_self, g): index 1-D (0-4 long) with in-range entries; src of
    x's shape but index's length along dim."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = draw(st.integers(0, 4))
    index = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, shape[dim] - 1)))
    sshape = tuple(n if d == dim % len(shape) else s for d, s in enumerate(shape))
    elems = st.sampled_from(values)
    x = draw(hnp.arrays(np.float64, shape, elements=elems))
    src = draw(hnp.arrays(np.float64, sshape, elements=elems))
    g = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from((-1.5, 0.5, 1.0, 3.0))))
    return x, dim, index, src, draw(st.sampled_from(("prod", "mean", "amax", "amin"))), draw(st.booleans()), g


@given(case=index_reduce_case())
def test_index_reduce_matches_torch_with_ties_and_zeros(case):
    torch = pytest.importorskip("torch")
    x, dim, index, src, reduce, include_self, g = case
    xt, st_ = ag.tensor(x, requires_grad=True), ag.tensor(src, requires_grad=True)
    out = xt.index_reduce(dim, ag.tensor(index), st_, reduce, include_self=include_self)
    out.backward(ag.tensor(g))
    tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # PyTorch marks index_reduce as beta
        tout = tx.index_reduce(dim, torch.tensor(index), ts, reduce, include_self=include_self)
    tout.backward(torch.tensor(g))
    _assert_same((out._data, xt.grad._data, st_.grad._data),
                 (tout.detach().numpy(), tx.grad.numpy(), ts.grad.numpy()))


@given(case=index_reduce_case(), data=st.data())
def test_index_reduce_gradcheck(case, data):
    x, dim, index, src, reduce, include_self, _ = case
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    # distinct values away from 0: no ties, no kinks, so finite differences apply
    xv = rng.permutation(x.size + src.size)[:x.size].reshape(x.shape) * 0.37 + 1.1
    sv = rng.permutation(x.size + src.size)[:src.size].reshape(src.shape) * 0.41 + 1.3
    f = lambda a, b: ag.index_reduce(a, dim, ag.tensor(index), b, reduce, include_self=include_self)  # noqa: E731
    assert gradcheck(f, (ag.tensor(xv, requires_grad=True), ag.tensor(sv, requires_grad=True)))


def test_index_reduce_in_place_and_errors():
    t = ag.zeros(2, 3)
    out = t.index_reduce_(1, ag.tensor([0, 0, 2]), ag.tensor([[1.0, 4.0, 2.0], [3.0, -1.0, 5.0]]), "amax",
                          include_self=False)
    assert out is t and t.tolist() == [[4.0, 0.0, 2.0], [3.0, 0.0, 5.0]]
    with pytest.raises(ValueError, match="index_reduce: reduce must be"):
        ag.index_reduce(ag.zeros(2), 0, ag.tensor([0]), ag.ones(1), "sum")
    with pytest.raises(ValueError, match=r"index_reduce: source of shape \(2, 2\)"):
        ag.index_reduce(ag.zeros(2, 3), 0, ag.tensor([0, 1]), ag.ones(2, 2), "prod")
    with pytest.raises(IndexError, match="index_reduce: index out of range"):
        ag.index_reduce(ag.zeros(2), 0, ag.tensor([2]), ag.ones(1), "prod")
    with pytest.raises(IndexError, match="index_reduce: index out of range"):
        ag.index_reduce(ag.zeros(2), 0, ag.tensor([-1]), ag.ones(1), "prod")

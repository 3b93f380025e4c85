"""Linear algebra: matmul (batched, broadcast batch dims, every 1-D case as numpy defines it), dot, outer,
einsum. Values against numpy, gradcheck and gradgradcheck in float64; error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core.testing import broadcastable_shapes, gradcheck, gradgradcheck, shapes, tensors


@st.composite
def matmul_operands(draw, max_batch_dims=2):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a = draw(shapes(max_dims=max_batch_dims, max_side=3))
    batch_b = draw(broadcastable_shapes(batch_a, max_dims=max_batch_dims, max_side=3))
    if draw(st.booleans()):
        batch_a, batch_b = batch_b, batch_a
    a_vec, b_vec = draw(st.booleans()), draw(st.booleans())
    sa = (k,) if a_vec else batch_a + (n, k)
    sb = (k,) if b_vec else batch_b + (k, m)
    return draw(tensors(shape=sa)), draw(tensors(shape=sb))


@given(ops=matmul_operands())
def test_matmul_forward_and_gradcheck(ops):
    a, b = ops
    out = a @ b
    expected = np.matmul(a._data, b._data)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out._data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, y: x @ y, (a, b))
    assert gradcheck(ag.matmul, (a, b))


@given(ops=matmul_operands(max_batch_dims=1))
def test_matmul_gradgradcheck(ops):
    a, b = ops
    assert gradgradcheck(lambda x, y: x.matmul(y), (a, b))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (4, 3, 2)),
                                   ((4, 2, 3), (3,)), ((2, 1, 2, 3), (5, 3, 2)), ((1, 2, 3), (4, 3, 1))])
def test_matmul_shapes_like_numpy(sa, sb):
    rng = np.random.default_rng(0)
    a = ag.tensor(rng.standard_normal(sa), requires_grad=True)
    b = ag.tensor(rng.standard_normal(sb), requires_grad=True)
    out = a @ b
    assert out.shape == np.matmul(a._data, b._data).shape
    (out * out).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    assert gradcheck(lambda x, y: x @ y, (a, b))


def test_matmul_gradient_values():
    a = ag.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    b = ag.tensor(np.array([[5.0], [6.0]]), requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [[5.0, 6.0], [5.0, 6.0]])
    np.testing.assert_array_equal(b.grad._data, [[4.0], [6.0]])


def test_rmatmul_with_ndarray_and_float32():
    w = ag.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    out = np.array([[1.0, 1.0]], dtype=np.float32) @ w
    assert isinstance(out, ag.Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out._data, [[1.0, 2.0]])
    out.sum().backward()
    assert w.grad.dtype == np.float32


def test_matmul_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 4\) and \(5, 2\) are not aligned"):
        ag.ones(3, 4) @ ag.ones(5, 2)
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 4\) and \(5, 2\) are not aligned"):
        ag.ones(3, 4, requires_grad=True) @ ag.ones(5, 2)
    with pytest.raises(ValueError, match=r"^matmul: shapes \(4,\) and \(5,\) are not aligned"):
        ag.ones(4) @ ag.ones(5)
    with pytest.raises(ValueError, match=r"^matmul: batch dims of shapes \(2, 3, 4\) and \(3, 4, 2\) don't broadcast"):
        ag.ones(2, 3, 4) @ ag.ones(3, 4, 2)
    with pytest.raises(ValueError, match=r"^matmul: both operands need at least 1 dim"):
        ag.matmul(ag.tensor(2.0), ag.ones(2))


# -- dot, outer ----------------------------------------------------------------------------------
@given(data=st.data())
def test_dot_and_outer(data):
    k = data.draw(st.integers(1, 5))
    a = data.draw(tensors(shape=(k,)))
    b = data.draw(tensors(shape=(k,)))
    c = data.draw(tensors(shape=(data.draw(st.integers(1, 4)),)))
    d = ag.dot(a, b)
    assert d.shape == ()
    np.testing.assert_allclose(d._data, np.dot(a._data, b._data))
    np.testing.assert_allclose(a.dot(b)._data, np.dot(a._data, b._data))
    np.testing.assert_allclose(ag.outer(a, c)._data, np.outer(a._data, c._data))
    assert gradcheck(ag.dot, (a, b))
    assert gradcheck(ag.outer, (a, c))
    assert gradgradcheck(ag.outer, (a, c))


def test_dot_outer_errors():
    with pytest.raises(ValueError, match=r"dot: expects two 1-D tensors, got shapes \(2, 2\) and \(2,\)"):
        ag.dot(ag.ones(2, 2), ag.ones(2))
    with pytest.raises(ValueError, match=r"dot: shapes \(2,\) and \(3,\) differ"):
        ag.dot(ag.ones(2), ag.ones(3))
    with pytest.raises(ValueError, match="outer: expects two 1-D tensors"):
        ag.outer(ag.ones(2, 1), ag.ones(2))


# -- einsum --------------------------------------------------------------------------------------
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),          # matmul
    ("bi,oi->bo", [(3, 4), (2, 4)]),          # Linear: x @ W.T
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),  # batched matmul
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 2, 2)]),  # attention scores
    ("bhqk,bhkd->bhqd", [(1, 2, 3, 2), (1, 2, 2, 2)]),  # attention values
    ("i,i->", [(4,), (4,)]),                  # dot
    ("i,j->ij", [(3,), (2,)]),                # outer
    ("ij,ij->i", [(3, 4), (3, 4)]),           # row-wise dot
    ("ij,jk->i", [(2, 3), (3, 4)]),           # k is summed only inside the second operand
    ("ij->i", [(3, 4)]),                      # a sum-only index, one operand
    ("ij->", [(3, 4)]),
    ("ij->ji", [(2, 3)]),                     # transpose
    ("ij,jk", [(2, 3), (3, 4)]),              # implicit output (alphabetical free indices)
    ("ba,ca", [(2, 3), (4, 3)]),              # implicit output 'bc'
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),  # three operands
]


@pytest.mark.parametrize("spec,shps", EINSUM, ids=[e[0] for e in EINSUM])
@given(data=st.data())
def test_einsum(spec, shps, data):
    ops = [data.draw(tensors(shape=s)) for s in shps]
    out = ag.einsum(spec, *ops)
    expected = np.einsum(spec, *[o._data for o in ops])
    assert out.shape == expected.shape
    np.testing.assert_allclose(out._data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *xs: ag.einsum(spec, *xs), tuple(ops))
    assert gradgradcheck(lambda *xs: ag.einsum(spec, *xs), tuple(ops))


def test_einsum_with_a_constant_operand_and_list_form():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = np.ones((3, 2))
    out = ag.einsum("ij,jk->ik", [x, w])
    np.testing.assert_array_equal(out._data, x._data @ w)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.full((2, 3), 2.0))


def test_einsum_errors():
    with pytest.raises(ValueError, match=r"einsum: subscript 'ijk' has 3 indices but its operand has shape \(2, 3\)"):
        ag.einsum("ijk,jk->i", ag.ones(2, 3), ag.ones(3, 4))
    with pytest.raises(ValueError, match="einsum: 1 operand subscripts for 2 operands"):
        ag.einsum("ij->i", ag.ones(2, 3), ag.ones(3, 4))
    np.testing.assert_array_equal(ag.einsum("...ij->...i", ag.ones(2, 3)).numpy(), np.full(2, 3.0))  # '...': see below


def test_einsum_repeated_index_forward_and_gradient_by_hand():
    x = ag.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    d = ag.einsum("ii->i", x)
    np.testing.assert_array_equal(d._data, [0.0, 4.0, 8.0])
    (d * ag.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.diag([1.0, 2.0, 3.0]))  # only the diagonal is read
    x.grad = None
    ag.einsum("ii", x).backward()  # the trace
    np.testing.assert_array_equal(x.grad._data, np.eye(3))


REPEATED = ["ii->i", "ii", "iij->j", "iij->ij", "jii->ij", "iij,ij->i", "ij,ii->j", "iji->ij", "iii->i", "iijj->ij",
            "ii,jj->ij", "iik,kj->ij"]


@pytest.mark.parametrize("spec", REPEATED)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_einsum_repeated_index_gradcheck(spec, data):
    """A letter repeated in one operand reads its diagonal; the gradient puts the cotangent back on that
    diagonal (0 elsewhere). Sizes per letter drawn by hypothesis, values in float64."""
    ins = spec.split("->")[0].split(",")
    size = {c: data.draw(st.integers(1, 3), label=c) for c in sorted(set("".join(ins)))}
    ops = [data.draw(tensors(shape=tuple(size[c] for c in sub))) for sub in ins]
    out = ag.einsum(spec, *ops)
    np.testing.assert_allclose(out._data, np.einsum(spec, *[o._data for o in ops]), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *xs: ag.einsum(spec, *xs), tuple(ops))
    assert gradgradcheck(lambda *xs: ag.einsum(spec, *xs), tuple(ops))


@pytest.mark.parametrize("spec", REPEATED)
def test_einsum_repeated_index_matches_torch(spec):
    torch = pytest.importorskip("torch")
    ins = spec.split("->")[0].split(",")
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(tuple({"i": 3, "j": 2, "k": 4}[c] for c in sub)) for sub in ins]
    ours = [ag.tensor(a, requires_grad=True) for a in arrs]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrs]
    o, t = ag.einsum(spec, *ours), torch.einsum(spec, *theirs)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.cos(np.arange(t.numel())).reshape(tuple(t.shape))
    o.backward(ag.tensor(w))
    t.backward(torch.tensor(w))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(1, 3), max_size=2), st.integers(1, 4), st.integers(1, 4), st.booleans(),
       st.integers(0, 2 ** 16))
def test_linear_gradcheck_and_gradgradcheck(lead, fin, fout, bias, seed):
    """linear (one op with a closed-form VJP: G W, G^T x and the bias's sum over the leading dims), on 1-D,
    2-D and stacked input, differentiated once and twice."""
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal(tuple(lead) + (fin,)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((fout, fin)), requires_grad=True)
    ins = (x, w, ag.tensor(rng.standard_normal(fout), requires_grad=True)) if bias else (x, w)
    fn = ag.linear
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


@pytest.mark.parametrize("name,kw", [("det", {}), ("logdet", {}), ("inverse", {}), ("pinverse", {}),
                                     ("matrix_power", dict(n=3)), ("cholesky", {}), ("cholesky", dict(upper=True))])
def test_linalg_tensor_methods_match_torch(name, kw):
    """Tensor.det / logdet / inverse / pinverse / matrix_power / cholesky give PyTorch's values (float64,
    a batch of symmetric positive-definite matrices), and the differentiable ones its gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 4, 3))
    spd = a.swapaxes(-1, -2) @ a + np.eye(3)
    x, tx = ag.tensor(spd, requires_grad=True), torch.tensor(spd, requires_grad=True)
    ours, theirs = getattr(x, name)(**kw), getattr(tx, name)(**kw)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    if name != "pinverse":      # pinv has no gradient here (see the README's limits)
        (ours * ours).sum().backward()
        (theirs * theirs).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("some", [True, False])
def test_torch_svd_and_qr_forms_match_torch(some):
    """torch.svd returns V (not Vh) and torch.qr takes ``some``: shapes as PyTorch's, and the factors
    rebuild the matrix."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).standard_normal((5, 3))
    U, S, V = ag.svd(ag.tensor(a), some=some)
    tU, tS, tV = torch.svd(torch.tensor(a), some=some)
    assert (U.shape, S.shape, V.shape) == (tuple(tU.shape), tuple(tS.shape), tuple(tV.shape))
    np.testing.assert_allclose(S.numpy(), tS.numpy(), rtol=1e-12)
    k = S.shape[0]
    np.testing.assert_allclose((U.numpy()[:, :k] * S.numpy()) @ V.numpy()[:, :k].T, a, atol=1e-12)
    Q, R = ag.tensor(a).qr(some=some)
    tQ, tR = torch.tensor(a).qr(some=some)
    assert (Q.shape, R.shape) == (tuple(tQ.shape), tuple(tR.shape))
    np.testing.assert_allclose(Q.numpy() @ R.numpy(), a, atol=1e-12)
    U0, S0, V0 = ag.tensor(a).svd(compute_uv=False)
    tU0, _, tV0 = torch.svd(torch.tensor(a), compute_uv=False)
    assert (U0.shape, V0.shape) == (tuple(tU0.shape), tuple(tV0.shape)) and not U0.numpy().any()


ELLIPSIS_CASES = [("...ij,...jk->...ik", [(2, 3, 4, 5), (2, 3, 5, 6)]), ("...ij,...jk", [(3, 4, 5), (5, 2)]),
                  ("b...d,bd->b...", [(2, 3, 4, 5), (2, 5)]), ("...i,...i->...", [(4, 1, 3), (5, 3)]),
                  ("...", [(2, 3)]), ("i...->...", [(3, 2, 2)]), ("...qd,...kd->...qk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
                  ("ij...,jk...->ik...", [(2, 3, 4), (3, 5, 1)]), ("...ij->...ji", [(3, 4)])]


@pytest.mark.parametrize("spec,shapes", ELLIPSIS_CASES, ids=[c[0] for c in ELLIPSIS_CASES])
def test_einsum_ellipsis_matches_torch(spec, shapes):
    """'...' broadcasts the unnamed dims, aligned from the right (size 1 against n, missing leading dims):
    values and gradients as PyTorch's, in float64."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s) for s in shapes]
    ours = [ag.tensor(a, requires_grad=True) for a in arrs]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrs]
    o, t = ag.einsum(spec, *ours), torch.einsum(spec, *theirs)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    (o * o).sum().backward()
    (t * t).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(batch=shapes(max_dims=2, max_side=3), m=st.integers(1, 3), k=st.integers(1, 3), data=st.data())
@settings(max_examples=25, deadline=None)
def test_einsum_ellipsis_gradcheck(batch, m, k, data):
    """A batched product written with '...', one operand's batch dims possibly size 1 or missing."""
    other = data.draw(st.sampled_from([batch, tuple(1 for _ in batch), batch[1:]]))
    a = ag.tensor(np.random.default_rng(1).standard_normal(batch + (m, k)), requires_grad=True)
    b = ag.tensor(np.random.default_rng(2).standard_normal(other + (k, 2)), requires_grad=True)
    assert gradcheck(lambda x, y: ag.einsum("...ij,...jk->...ik", x, y), (a, b))
    assert gradcheck(lambda x: ag.einsum("...ij->...", x), (a,))


def test_einsum_ellipsis_errors_name_the_problem():
    with pytest.raises(ValueError, match="the dims that '...' stands for don't broadcast: 3 against 4"):
        ag.einsum("...i,...i->...", ag.ones(3, 2), ag.ones(4, 2))
    with pytest.raises(ValueError, match="names more dims than its operand has"):
        ag.einsum("...ijk", ag.ones(2, 2))
    with pytest.raises(ValueError, match="an ellipsis is three dots"):
        ag.einsum("..i", ag.ones(2, 2))


@settings(max_examples=10, deadline=None)
@given(lead=st.lists(st.integers(1, 2), max_size=1), m=st.integers(1, 3), n=st.integers(1, 3), keepdim=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_norm_nuc_gradcheck(lead, m, n, keepdim, seed):
    """torch.norm(x, p='nuc'): the sum of the singular values of the matrices over the last two dims (distinct
    singular values with probability 1: the gradient U Vᵀ is defined)."""
    a = np.random.default_rng(seed).standard_normal(tuple(lead) + (m, n))
    x = ag.tensor(a, requires_grad=True)
    dim = None if not lead else (-2, -1)
    out = ag.norm(x, p="nuc", dim=dim, keepdim=keepdim)
    np.testing.assert_allclose(np.asarray(out.detach().numpy()).reshape(-1),
                               np.linalg.svd(a, compute_uv=False).sum(-1).reshape(-1), rtol=1e-10)
    assert gradcheck(lambda t: ag.norm(t, p="nuc", dim=dim, keepdim=keepdim), (x,))
    assert gradcheck(lambda t: t.norm(p="nuc", dim=dim), (x,))


def test_norm_nuc_matches_torch_and_refuses_a_stack_without_dims():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    for kw in (dict(dim=(1, 2)), dict(dim=(0, 2), keepdim=True), dict(dim=(2, 1))):
        x, t = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, z = ag.norm(x, p="nuc", **kw), torch.norm(t, p="nuc", **kw)
        np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), rtol=1e-12)
        w = np.arange(1.0, z.numel() + 1).reshape(tuple(z.shape))
        y.backward(ag.tensor(w))
        z.backward(torch.tensor(w))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"norm: p='nuc' without dim needs a 2-D input .* pass dim="):
        ag.norm(ag.tensor(a), p="nuc")

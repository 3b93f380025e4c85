"""Shape, index-write, statistics and linear-algebra functions under PyTorch's names (autograd_core.ops.rearrange,
.scatter, .stats, .linalg, autograd_core.linalg): each call is evaluated with our modules and, when torch is
installed, with PyTorch on the same float64 inputs, comparing values and the gradients of a weighted sum;
gradcheck (and gradgradcheck) over hypothesis shapes for the differentiable ones."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors


def _torch():
    return pytest.importorskip("torch")


def _inputs(lib, requires_grad):
    rng = np.random.default_rng(0)
    arrays = dict(x=rng.standard_normal((3, 4)), y=rng.standard_normal((3, 4)), v=rng.standard_normal(4),
                  b=rng.standard_normal((2, 3, 4)), sq=rng.standard_normal((3, 3)) + 3 * np.eye(3),
                  pd=(lambda m: m @ m.T + np.eye(3))(rng.standard_normal((3, 3))),
                  bsq=rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), m2=rng.standard_normal((4, 2)))
    if lib == "torch":
        import torch
        ns = {k: torch.tensor(a, requires_grad=requires_grad) for k, a in arrays.items()}
        ns.update(torch=torch, idx=torch.tensor([2, 0, 2]), mask=torch.tensor([[True, False, True, False]] * 3),
                  ii=torch.tensor([[0, 2, 1, 0]]), jj=torch.tensor([[1], [3], [0]]))
    else:
        ns = {k: ag.tensor(a, requires_grad=requires_grad) for k, a in arrays.items()}
        ns.update(torch=ag, idx=ag.tensor([2, 0, 2]), mask=ag.tensor([[True, False, True, False]] * 3),
                  ii=ag.tensor([[0, 2, 1, 0]]), jj=ag.tensor([[1], [3], [0]]))
    return ns


DIFFERENTIABLE = [
    # rearrange
    "torch.roll(x, 1)", "torch.roll(x, shifts=(1, -1), dims=(0, 1))", "x.roll(2, 1)", "torch.rot90(x)",
    "torch.rot90(x, 2)", "torch.rot90(x, -1, (0, 1))", "torch.movedim(b, 0, -1)", "b.movedim((0, 1), (2, 0))",
    "x.moveaxis(0, 1)", "torch.swapdims(b, 0, 2)", "x.unflatten(1, (2, 2))", "torch.ravel(x)",
    "torch.narrow(x, 1, 1, 2)", "x.narrow(0, -2, 2)", "torch.select(x, 1, 2)", "torch.unbind(x, 1)",
    "torch.tensor_split(x, 3, dim=1)", "torch.tensor_split(x, [1, 3], dim=1)", "torch.hsplit(x, 2)",
    "torch.vsplit(b, [1])", "torch.dsplit(b, 2)", "torch.repeat_interleave(x, 2, dim=0)",
    "x.repeat_interleave(torch.tensor([1, 0, 2]), dim=0)", "torch.repeat_interleave(v, 2)", "torch.fliplr(x)",
    "torch.flipud(x)", "x.unfold(1, 2, 1)", "b.unfold(2, 3, 1)", "torch.atleast_2d(v)", "torch.atleast_3d(x)",
    "torch.hstack([x, y])", "torch.vstack([v, v])", "torch.dstack([x, y])", "torch.column_stack([v, v])",
    "torch.concat([x, y], dim=1)", "torch.meshgrid(v, v[:2], indexing='ij')", "torch.meshgrid(v, v[:2], indexing='xy')",
    "torch.cartesian_prod(v[:2], v[2:])", "torch.combinations(v, 2)", "torch.combinations(v, 2, with_replacement=True)",
    "torch.block_diag(x, v)", "torch.diag(v)", "torch.diag(v, -1)", "torch.diag(x)", "torch.diag(x, 1)",
    "torch.diagonal(b, 0, 1, 2)", "torch.diagonal(x, -1)", "torch.diag_embed(x)", "torch.diag_embed(x, 1)",
    "torch.diagflat(v)", "sq.trace()", "torch.diff(x)", "torch.diff(x, n=2, dim=0)",
    "torch.diff(v, prepend=torch.tensor([1.0], dtype=torch.float64))",
    # index writes
    # (a src larger than the index is read in its leading block; PyTorch 2.13's backward refuses that shape)
    "torch.scatter(x, 1, torch.tensor([[0], [2], [1]]), y[:, :1])", "x.scatter(0, ii, 2.0)",
    "torch.scatter_add(x, 1, torch.tensor([[0, 0], [1, 1], [3, 3]]), y[:, :2])", "x.scatter_add(0, ii, y[:1])",
    "torch.scatter_reduce(x, 0, ii, y[:1], 'sum')", "torch.scatter_reduce(x, 0, ii, y[:1], 'mean')",
    "torch.scatter_reduce(x, 0, ii, y[:1], 'sum', include_self=False)",
    "torch.scatter_reduce(x, 0, ii, y[:1], 'mean', include_self=False)",
    "torch.index_add(x, 0, idx, y)", "x.index_add(1, torch.tensor([3, 3, 0, 1]), y, alpha=2)",
    "torch.index_copy(x, 0, torch.tensor([2, 0]), y[:2])", "x.index_fill(1, torch.tensor([0, 3]), -1.0)",
    "torch.index_put(x, (torch.tensor([0, 2]), torch.tensor([1, 3])), v[:2])",
    "x.index_put((torch.tensor([0, 0]),), y[:2], accumulate=True)",
    "torch.masked_scatter(x, mask, y)", "torch.masked_select(x, mask)", "x.masked_select(v > 0)",
    "torch.take(x, torch.tensor([0, 5, 11]))", "torch.put(x, torch.tensor([0, -1, 5]), v[:3])",
    "x.put(torch.tensor([1, 1, 2]), v[:3], accumulate=True)", "torch.take_along_dim(x, jj, dim=1)",
    "torch.take_along_dim(x, torch.tensor([3, 0]))",
    # statistics
    "torch.median(x)", "torch.median(x, 1)", "x.median(0, keepdim=True)", "torch.nanmedian(x)",
    "torch.quantile(x, 0.3)", "torch.quantile(x, torch.tensor([0.2, 0.9], dtype=torch.float64), dim=1)",
    "x.quantile(0.5, dim=0, keepdim=True)", "torch.quantile(x, 0.4, dim=1, interpolation='lower')",
    "torch.quantile(x, 0.4, dim=1, interpolation='higher')", "torch.quantile(x, 0.4, dim=1, interpolation='midpoint')",
    "torch.var_mean(x, 1)", "torch.std_mean(x, dim=0, correction=0)", "torch.var_mean(x, 1, unbiased=False)",
    "torch.nansum(x)", "x.nansum(1)", "torch.nanmean(x, 0)", "torch.aminmax(x, dim=1)", "x.aminmax()",
    "torch.cummax(x, 1)", "torch.cummin(x, 0)", "torch.logcumsumexp(x, 1)", "x.logcumsumexp(0)",
    "torch.cov(x)", "torch.cov(x, correction=0)", "torch.corrcoef(x)", "torch.trapezoid(x)",
    "torch.cov(x, fweights=torch.tensor([1, 2, 1, 3]))", "torch.cov(x, aweights=v.abs() + 0.1)",
    "torch.cov(x, correction=2, fweights=torch.tensor([1, 2, 1, 3]), aweights=v.abs() + 0.1)",
    "torch.cov(x[:1])", "torch.corrcoef(x[:1])", "torch.cov(v)",
    "torch.trapezoid(x, dx=0.5, dim=0)", "torch.trapezoid(x, v)", "torch.cumulative_trapezoid(x)",
    # products
    "torch.mv(x, v)", "x.mv(v)", "torch.inner(x, y)", "torch.inner(v, v)", "torch.vdot(v, v)", "torch.ger(v, v)",
    "torch.addmm(sq, x, y.T)", "torch.addmm(v[:3], x, y.T, beta=0.5, alpha=2)", "torch.addmm(sq, x, y.T, beta=0)",
    "torch.addmv(v[:3], x, v)", "torch.addr(x, v[:3], v)", "torch.baddbmm(bsq, b, b.transpose(1, 2))",
    "torch.addbmm(sq, b, b.transpose(1, 2), alpha=0.5)", "torch.tensordot(x, y, dims=([1], [1]))",
    "torch.tensordot(b, m2, dims=1)", "torch.tensordot(b, x, dims=2)",
    "torch.tensordot(x[:, :1], y, dims=([1], [0]))", "torch.tensordot(x, y[:1], dims=([0, 1], [0, 1]))", "torch.kron(x, sq)", "torch.kron(v, v)",
    "torch.cross(x[:, :3], y[:, :3], dim=1)", "torch.cdist(x, y)", "torch.cdist(x, y, p=1)", "torch.dist(x, y)",
    "torch.dist(x, y, 3)", "torch.chain_matmul(x, m2, m2.T)", "torch.cdist(x, y, p=float('inf'))",
    "torch.pdist(x)", "torch.pdist(x, p=1)", "torch.pdist(x, p=float('inf'))", "torch.logaddexp2(x, y)",
    "torch.renorm(x, 2, 0, 1.0)", "x.renorm(1, 1, 0.5)", "x.sum_to_size(1, 4)", "x.sum_to_size(3, 1)",
    "b.sum_to_size(4)",
    # linalg
    "torch.linalg.norm(x)", "torch.linalg.norm(v, 3)", "torch.linalg.norm(x, 'fro')", "torch.linalg.norm(x, dim=1)",
    "torch.linalg.vector_norm(x, 1, dim=0)", "torch.linalg.matrix_norm(x)", "torch.linalg.matrix_norm(x, 1)",
    "torch.linalg.matrix_norm(x, float('inf'))", "torch.linalg.matrix_norm(x, -1)", "torch.linalg.inv(sq)",
    "torch.linalg.inv(bsq)", "torch.inverse(sq)", "torch.linalg.det(sq)", "torch.det(bsq)",
    "torch.linalg.slogdet(sq)", "torch.logdet(pd)", "torch.linalg.solve(sq, x[:, :2])", "torch.linalg.solve(sq, v[:3])",
    "torch.linalg.solve(bsq, b)", "torch.linalg.solve(sq, x.T[:2], left=False)", "torch.linalg.cholesky(pd)",
    "torch.linalg.cholesky(pd, upper=True)", "torch.linalg.matrix_power(sq, 3)", "torch.matrix_power(sq, -2)",
    "torch.linalg.multi_dot([x, m2, m2.T])", "torch.linalg.cross(x[:, :3], y[:, :3])", "torch.linalg.vecdot(x, y)",
]

VALUES_ONLY = [
    "torch.tril_indices(3, 4)", "torch.triu_indices(4, 3, -1)", "torch.broadcast_shapes((3, 1), (1, 4))",
    "torch.logspace(0, 2, 5)", "torch.logspace(0, 3, 4, base=2)", "torch.scalar_tensor(3)",
    "torch.nonzero(x > 0)", "torch.nonzero(x > 0, as_tuple=True)", "torch.argwhere(x > 0.5)",
    "torch.count_nonzero(x > 0, dim=1)", "torch.median(x, 1).indices", "torch.mode(torch.tensor([[1, 3, 3, 2], [5, 5, 1, 1]]))",
    "torch.searchsorted(torch.tensor([1, 3, 5, 7]), torch.tensor([[3, 6], [0, 9]]))",
    "torch.searchsorted(torch.tensor([[1, 3, 5, 7], [2, 4, 6, 8]]), torch.tensor([[3, 6], [4, 4]]), right=True)",
    "torch.bucketize(torch.tensor([0.5, 1.0, 2.5, 3.0]), torch.tensor([1.0, 2.0, 3.0]))",
    "torch.bucketize(torch.tensor([0.5, 1.0, 2.5, 3.0]), torch.tensor([1.0, 2.0, 3.0]), right=True)",
    "torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 3, 1, 1]), return_inverse=True, return_counts=True)",
    "torch.unique_consecutive(torch.tensor([[1, 1], [1, 1], [2, 3]]), dim=0)",
    "torch.cummax(torch.tensor([1.0, 3.0, 3.0, 2.0, 5.0]), 0).indices",
    "torch.scatter(x, 1, torch.tensor([[0], [2], [1]]), 2.0, reduce='multiply')",
    "torch.scatter_reduce(x, 0, ii, y, 'amax')", "torch.scatter_reduce(x, 0, ii, y, 'amin', include_self=False)",
    "torch.scatter_reduce(x, 0, ii, y, 'prod')", "x.clone().fill_diagonal_(5.0)",
    "torch.zeros(5, 3, dtype=torch.float64).fill_diagonal_(2.0, wrap=True)",
    "torch.linalg.matrix_rank(x)", "torch.linalg.svdvals(x)", "torch.linalg.eigvalsh(pd)",
    "torch.linalg.pinv(x)", "torch.linalg.matrix_norm(x, 2)", "torch.linalg.matrix_norm(x, 'nuc')",
    "torch.median(torch.tensor([1.0, float('nan'), 3.0]))", "torch.nanmedian(torch.tensor([1.0, float('nan'), 3.0]))",
    "torch.nanquantile(torch.tensor([1.0, float('nan'), 3.0, 4.0]), 0.5)",
]


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _flat(o)]
    if hasattr(out, "detach"):
        return [out]
    return [out]


def _np(t):
    if hasattr(t, "detach"):
        d = t.detach()
        return d._data if hasattr(d, "_data") else d.numpy()
    return np.asarray(t)


def _run(lib, call, backward):
    ns = _inputs(lib, requires_grad=backward)
    out = eval(call, ns)
    outs = _flat(out)
    if backward:
        rng = np.random.default_rng(5)
        total = None
        for o in outs:
            if not hasattr(o, "shape") or _np(o).dtype.kind != "f":
                continue
            w = rng.standard_normal(tuple(o.shape))  # drawn for every float output, so both runs weigh alike
            if getattr(o, "requires_grad", False):
                term = (o * (ns["torch"].tensor(w))).sum()
                total = term if total is None else total + term
        if total is not None:
            total.backward()
    grads = {k: (None if getattr(v, "grad", None) is None else _np(v.grad)) for k, v in ns.items()
             if k in ("x", "y", "v", "b", "sq", "pd", "bsq", "m2")}
    return [_np(o) for o in outs], grads


@pytest.mark.parametrize("call", DIFFERENTIABLE)
def test_matches_torch_values_and_gradients(call):
    _torch()
    ours, ours_g = _run("ours", call, True)
    theirs, theirs_g = _run("torch", call, True)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert np.shape(a) == np.shape(b), (np.shape(a), np.shape(b))
        np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9, atol=1e-10)
    for k in ours_g:
        if theirs_g[k] is None or ours_g[k] is None:  # no gradient and a zero gradient are the same answer
            other = ours_g[k] if theirs_g[k] is None else theirs_g[k]
            assert other is None or not np.any(other), k
        else:
            np.testing.assert_allclose(ours_g[k], theirs_g[k], rtol=1e-8, atol=1e-9, err_msg=k)


@pytest.mark.parametrize("call", VALUES_ONLY)
def test_matches_torch_values(call):
    _torch()
    ours, _ = _run("ours", call, False)
    theirs, _ = _run("torch", call, False)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, (a.shape, b.shape)
        np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-7, atol=1e-9)


def test_values_without_torch():
    """A few results written out, so the suite checks values where torch is not installed."""
    t = ag.tensor([[1, 2, 3], [4, 5, 6]])
    assert ag.roll(t, 1, 1).tolist() == [[3, 1, 2], [6, 4, 5]]
    assert ag.rot90(t).tolist() == [[3, 6], [2, 5], [1, 4]]
    assert ag.movedim(ag.zeros(2, 3, 4), (0, 1), (2, 0)).shape == (3, 4, 2)
    assert [p.tolist() for p in ag.tensor_split(ag.arange(5), 2)] == [[0, 1, 2], [3, 4]]
    assert ag.arange(6).unfold(0, 3, 2).tolist() == [[0, 1, 2], [2, 3, 4]]
    assert ag.diag(ag.tensor([[1, 2], [3, 4]]), 1).tolist() == [2]
    assert ag.scatter_add(ag.zeros(3), 0, ag.tensor([1, 1]), ag.tensor([2.0, 3.0])).tolist() == [0.0, 5.0, 0.0]
    assert ag.index_add(ag.zeros(2, 2), 1, ag.tensor([1, 1]), ag.ones(2, 2)).tolist() == [[0.0, 2.0], [0.0, 2.0]]
    assert ag.median(ag.tensor([4.0, 1.0, 3.0, 2.0])).item() == 2.0
    assert ag.quantile(ag.tensor([0.0, 10.0]), 0.25).item() == 2.5
    assert ag.searchsorted(ag.tensor([1, 3, 5]), ag.tensor([3]), right=True).tolist() == [2]
    assert ag.tensordot(ag.ones(2, 3), ag.ones(3, 4), 1).tolist() == [[3.0] * 4] * 2
    np.testing.assert_allclose(ag.linalg.inv(ag.tensor([[2.0, 0.0], [0.0, 4.0]]))._data, [[0.5, 0], [0, 0.25]])


def _gc(fn, *xs, second=True):
    assert gradcheck(fn, xs)
    if second:
        assert gradgradcheck(fn, xs)


@settings(max_examples=10)
@given(x=tensors(shape=shapes(min_dims=1, max_dims=3, max_side=4)), data=st.data())
def test_rearrange_gradcheck(x, data):
    d = data.draw(st.integers(0, x.ndim - 1))
    k = data.draw(st.integers(-3, 3))
    parts = data.draw(st.integers(1, 3))
    offset = data.draw(st.integers(-1, 1))
    _gc(lambda t: ag.roll(t, k, d) * t, x)  # (times t: a second derivative that is not zero)
    _gc(lambda t: ag.movedim(t, d, -1), x, second=False)
    _gc(lambda t: ag.tensor_split(t, parts, d)[0], x, second=False)
    _gc(lambda t: ag.repeat_interleave(t, 2, dim=d), x, second=False)
    if x.shape[d] >= 2:
        _gc(lambda t: t.unfold(d, 2, 1), x, second=False)
        _gc(lambda t: ag.diff(t * t, dim=d), x)
    if x.ndim >= 2:
        _gc(lambda t: ag.rot90(t, k, (0, 1)), x, second=False)
        _gc(lambda t: ag.diagonal(t, offset, 0, 1), x, second=False)
        _gc(lambda t: ag.diag_embed(t), x, second=False)


@settings(max_examples=10)
@given(x=tensors(shape=shapes(min_dims=2, max_dims=2, min_side=2, max_side=4)), data=st.data())
def test_index_write_gradcheck(x, data):
    rows, cols = x.shape
    src = data.draw(tensors(shape=st.just((rows, cols))))
    index = ag.tensor(np.array(data.draw(st.lists(st.integers(0, rows - 1), min_size=cols, max_size=cols)))[None])
    _gc(lambda t, s: ag.scatter_add(t, 0, index, s[:1]) * t, x, src)
    _gc(lambda t, s: ag.scatter_reduce(t, 0, index, s[:1], "mean"), x, src, second=False)
    _gc(lambda t, s: ag.index_add(t, 1, ag.tensor(np.arange(cols)[::-1].copy()), s) * s, x, src)
    unique = ag.tensor(np.arange(cols)[None] % rows)
    _gc(lambda t, s: ag.scatter(t, 0, unique, s[:1]), x, src, second=False)
    mask = ag.tensor(np.arange(rows * cols).reshape(rows, cols) % 2 == 0)
    _gc(lambda t, s: ag.masked_scatter(t, mask, s), x, src, second=False)
    _gc(lambda t: ag.masked_select(t, mask), x, second=False)


@settings(max_examples=10)
@given(x=tensors(shape=shapes(min_dims=1, max_dims=3, max_side=4), unique=True,
                 elements=st.integers(-40, 40).map(lambda i: i / 10)), data=st.data())
def test_stats_gradcheck(x, data):
    # (elements on a grid of 0.1, all different: no ties for the order statistics within finite differences)
    d = data.draw(st.integers(0, x.ndim - 1))
    _gc(lambda t: ag.median(t, d).values, x, second=False)
    _gc(lambda t: ag.quantile(t, 0.3, dim=d), x, second=False)
    _gc(lambda t: ag.cummax(t, d).values, x, second=False)
    _gc(lambda t: ag.logcumsumexp(t, d), x)
    _gc(lambda t: ag.var_mean(t, d, correction=0)[0] + ag.nanmean(t, d), x)


@settings(max_examples=10)
@given(n=st.integers(1, 4), data=st.data())
def test_linalg_gradcheck(n, data):
    m = data.draw(tensors(shape=st.just((n, n))))
    b = data.draw(tensors(shape=st.just((n, 2))))
    # a shift past each row's absolute sum: m + shift is diagonally dominant, so never singular (a fixed
    # 4 I was: m = [[-2, -2], [-2, -2]])
    eye4 = ag.tensor((float(np.abs(m._data).sum(axis=1).max()) + 1.0) * np.eye(n))
    _gc(lambda t: ag.linalg.inv(t + eye4), m)
    _gc(lambda t: ag.linalg.det(t + eye4), m)
    _gc(lambda t, u: ag.linalg.solve(t + eye4, u), m, b)
    # Cholesky of a symmetric positive-definite function of m (the factor reads one triangle only)
    _gc(lambda t: ag.linalg.cholesky(t @ t.T + ag.tensor(np.eye(n))), m)


def test_complete_qr_of_a_tall_matrix_refuses_a_gradient_clearly():
    x = ag.tensor(np.ones((3, 2)) + np.eye(3, 2), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with mode='complete'"):
        ag.linalg.qr(x, mode="complete").Q.sum().backward()
    with ag.no_grad():
        q, r = ag.linalg.qr(x, mode="complete")
        np.testing.assert_allclose((q @ r)._data, x._data, atol=1e-12)


def _separated(rng, shape, gap=0.3):
    """A random matrix whose singular values (and, when square, the eigenvalues of A + Aᵀ) are at least
    ``gap`` apart: where the decompositions' gradients are finite and finite differences are accurate."""
    *batch, m, n = shape
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal(tuple(batch) + (m, m)))[0]
    v = np.linalg.qr(rng.standard_normal(tuple(batch) + (n, n)))[0]
    s = np.zeros(tuple(batch) + (m, n))
    idx = np.arange(k)
    s[..., idx, idx] = 1.0 + gap * np.arange(k)[::-1] * 2 + rng.uniform(0, gap / 2, tuple(batch) + (k,))
    return u @ s @ v.swapaxes(-1, -2)


@settings(max_examples=10, deadline=None)
@given(batch=st.lists(st.integers(1, 2), max_size=1), m=st.integers(1, 4), n=st.integers(1, 4),
       seed=st.integers(0, 1000))
def test_svd_eigh_pinv_gradcheck(batch, m, n, seed):
    rng = np.random.default_rng(seed)
    a = ag.tensor(_separated(rng, tuple(batch) + (m, n)), requires_grad=True)
    # functions of U and V that do not depend on their signs (each singular vector's sign is arbitrary)
    _gc(lambda t: ag.linalg.svdvals(t), a)
    _gc(lambda t: (lambda r: (r.U * r.U, r.Vh * r.Vh, r.S))(ag.linalg.svd(t, full_matrices=False)), a, second=False)
    _gc(lambda t: (lambda r: r.U[..., :min(m, n)] @ r.Vh[..., :min(m, n), :])(ag.linalg.svd(t)), a, second=False)
    _gc(lambda t: ag.linalg.pinv(t), a)
    # Q R with R's diagonal made positive: the sign of each column of Q is arbitrary otherwise
    _gc(lambda t: (lambda r: (r.Q * r.Q, r.R.abs()))(ag.linalg.qr(t)), a, second=False)
    if m == n:
        sym = ag.tensor(_separated(rng, tuple(batch) + (n, n)), requires_grad=True)

        def eig(t):
            r = ag.linalg.eigh(t @ t.mT)     # a symmetric function of t, with separated eigenvalues
            return r.eigenvalues, r.eigenvectors * r.eigenvectors
        _gc(eig, sym, second=False)
        _gc(lambda t: ag.linalg.eigvalsh(t + t.mT), sym)


def test_decomposition_gradients_by_hand():
    # d s / dA = u vᵀ for a simple singular value; d λ / dA = v vᵀ for a simple eigenvalue
    a = ag.tensor([[3.0, 0.0], [0.0, 1.0]], requires_grad=True)
    (g,) = ag.autograd_grad(ag.linalg.svdvals(a)[0], [a])
    np.testing.assert_allclose(g._data, [[1.0, 0.0], [0.0, 0.0]], atol=1e-12)
    (g,) = ag.autograd_grad(ag.linalg.eigvalsh(a)[0], [a])
    np.testing.assert_allclose(g._data, [[0.0, 0.0], [0.0, 1.0]], atol=1e-12)
    # pinv of an invertible matrix is its inverse, and so is the gradient: -A⁻ᵀ G A⁻ᵀ
    (g,) = ag.autograd_grad(ag.linalg.pinv(a).sum(), [a])
    inv = np.linalg.inv(a._data)
    np.testing.assert_allclose(g._data, -(inv.T @ np.ones((2, 2)) @ inv.T), atol=1e-12)
    # a repeated eigenvalue: the eigenvectors' gradient is not finite, as in PyTorch
    e = ag.tensor(np.eye(2), requires_grad=True)
    (g,) = ag.autograd_grad(ag.linalg.eigh(e).eigenvectors[0, 1] * 1.0, [e])
    assert not np.isfinite(g._data).all()


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 3)])
def test_decomposition_gradients_match_torch(shape):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal(shape)

    def run(M, x):
        r = M.linalg.svd(x, full_matrices=False)
        out = ((r.U * r.S.unsqueeze(-2)) @ r.Vh).sum() + (r.U * r.U).sum(-1).mul(M.arange(r.U.shape[-2])).sum()
        out = out + M.linalg.pinv(x).square().sum() + (r.Vh ** 2)[..., 0, :].sum() + r.S.prod()
        q = M.linalg.qr(x)
        out = out + (q.Q * M.arange(q.Q.shape[-1])).sum() + q.R.square().sum()
        if shape[-1] == shape[-2]:
            e = M.linalg.eigh(x + x.mT)
            out = out + (e.eigenvalues ** 3).sum() + (e.eigenvectors ** 2)[..., 0].mul(e.eigenvalues).sum()
        return out
    x, t = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = ag.autograd_grad(run(ag, x), [x])
    (gt,) = torch.autograd.grad(run(torch, t), [t])
    np.testing.assert_allclose(g._data, gt.numpy(), rtol=1e-8, atol=1e-10)


def test_inplace_shape_methods():
    t = ag.zeros(2, 3)
    assert t.unsqueeze_(0) is t and t.shape == (1, 2, 3)
    assert t.squeeze_().shape == (2, 3) and t.t_().shape == (3, 2) and t.transpose_(0, 1).shape == (2, 3)
    y = ag.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="requires grad"):
        y.unsqueeze_(0)
    assert y.detach_() is y and not y.requires_grad and y.grad_fn is None
    s = ag.zeros(2, 3)
    assert s.scatter_(1, ag.tensor([[2], [0]]), 1.0) is s and s.tolist() == [[0, 0, 1], [1, 0, 0]]
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    u = ag.zeros(3, 2)
    u.index_add_(0, ag.tensor([1]), w.reshape(1, 2))
    u.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_linalg_cond():
    a = ag.tensor([[4.0, 0.0], [0.0, 2.0]], requires_grad=True)
    assert ag.linalg.cond(a).item() == pytest.approx(2.0)
    assert ag.linalg.cond(a, -2).item() == pytest.approx(0.5)
    assert ag.linalg.cond(a, 1).item() == pytest.approx(2.0)       # ||A||_1 ||A⁻¹||_1 = 4 * 0.5
    (g,) = ag.autograd_grad(ag.linalg.cond(a), [a])                 # d(s1 / s2) = e1 e1ᵀ / s2 - s1 e2 e2ᵀ / s2²
    np.testing.assert_allclose(g._data, [[0.5, 0.0], [0.0, -1.0]], atol=1e-12)
    m = ag.tensor(np.random.default_rng(0).standard_normal((3, 3)) + 3 * np.eye(3), requires_grad=True)
    assert gradcheck(lambda t: ag.linalg.cond(t, "fro"), (m,))
    with pytest.raises(ValueError, match="p must be"):
        ag.linalg.cond(a, 3)
    torch = pytest.importorskip("torch")
    for p in (None, -2, "fro", "nuc", float("inf"), 1, -1):
        np.testing.assert_allclose(ag.linalg.cond(m, p).item(), torch.linalg.cond(torch.tensor(m._data), p).item(),
                                   rtol=1e-10)


@settings(max_examples=10, deadline=None)
@given(batch=st.lists(st.integers(1, 2), max_size=1), n=st.integers(1, 3), seed=st.integers(0, 1000))
def test_matrix_exp_gradcheck(batch, n, seed):
    a = ag.tensor(np.random.default_rng(seed).standard_normal(tuple(batch) + (n, n)) * 0.5, requires_grad=True)
    _gc(ag.linalg.matrix_exp, a)


def test_matrix_exp_by_hand_and_against_torch():
    # a nilpotent matrix: exp(N) = I + N; a diagonal one: the exponentials of the diagonal
    np.testing.assert_allclose(ag.matrix_exp(ag.tensor([[0.0, 2.0], [0.0, 0.0]]))._data, [[1.0, 2.0], [0.0, 1.0]])
    np.testing.assert_allclose(ag.tensor(np.diag([0.0, 1.0])).matrix_exp()._data, np.diag([1.0, np.e]))
    # d/dA sum(exp(A)) at A = 0 is the all-ones matrix
    z = ag.zeros(2, 2, dtype=ag.float64, requires_grad=True)
    (g,) = ag.autograd_grad(ag.linalg.matrix_exp(z).sum(), [z])
    np.testing.assert_allclose(g._data, np.ones((2, 2)))
    with pytest.raises(ValueError, match="square"):
        ag.linalg.matrix_exp(ag.ones(2, 3))
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 4, 4))
    x, t = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    v = np.random.default_rng(1).standard_normal((2, 4, 4))
    (ag.linalg.matrix_exp(x) * ag.tensor(v)).sum().backward()
    (torch.linalg.matrix_exp(t) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ag.linalg.matrix_exp(x)._data, torch.linalg.matrix_exp(t).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-8, atol=1e-12)

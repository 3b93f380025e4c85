"""Triangular solves and what is built on them: linalg.solve_triangular (upper / lower, left / right,
unitriangular; only the triangle is read and gets a gradient), cholesky_solve, cholesky_inverse,
triangular_solve, the *_ex forms with their info, vander (linalg's and torch's), tensorinv,
tensorsolve, LinAlgError; gradchecked in float64 over hypothesis shapes and compared with torch."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core.testing import gradcheck, gradgradcheck


def _torch():
    return pytest.importorskip("torch")


def _tri(rng, batch, n, upper):
    a = rng.standard_normal(batch + (n, n)) * 0.3 + 2.0 * np.eye(n)
    return np.triu(a) if upper else np.tril(a)


@given(batch=st.sampled_from([(), (2,), (1, 2)]), n=st.integers(1, 4), k=st.integers(1, 3),
       upper=st.booleans(), left=st.booleans(), unit=st.booleans(), seed=st.integers(0, 10 ** 6))
@settings(max_examples=25, deadline=None)
def test_solve_triangular_gradcheck(batch, n, k, upper, left, unit, seed):
    rng = np.random.default_rng(seed)
    A = ag.tensor(_tri(rng, batch, n, upper) + 0.1 * rng.standard_normal(batch + (n, n)), requires_grad=True)
    B = ag.tensor(rng.standard_normal(batch + ((n, k) if left else (k, n))), requires_grad=True)
    f = lambda A, B: ag.linalg.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
    assert gradcheck(f, (A, B))
    X = f(A, B).detach().numpy()
    T = np.triu(A.detach().numpy()) if upper else np.tril(A.detach().numpy())
    if unit:
        T = T.copy()
        T[..., np.arange(n), np.arange(n)] = 1
    np.testing.assert_allclose(T @ X if left else X @ T, B.detach().numpy(), atol=1e-10)


def test_solve_triangular_reads_only_its_triangle_and_grads_only_that():
    rng = np.random.default_rng(0)
    A = ag.tensor(_tri(rng, (), 3, False) + np.triu(np.ones((3, 3)), 1) * 100.0, requires_grad=True)
    B = ag.tensor(rng.standard_normal((3, 2)))
    X = ag.linalg.solve_triangular(A, B, upper=False)
    np.testing.assert_allclose(np.tril(A.detach().numpy()) @ X.detach().numpy(), B.numpy(), atol=1e-10)
    X.sum().backward()
    assert np.all(np.triu(A.grad.numpy(), 1) == 0)
    U = ag.tensor(np.eye(3) * 5.0 + np.triu(np.ones((3, 3)), 1), requires_grad=True)
    ag.linalg.solve_triangular(U, B, upper=True, unitriangular=True).sum().backward()
    assert np.all(np.diagonal(U.grad.numpy()) == 0)


def test_solve_triangular_second_order():
    rng = np.random.default_rng(1)
    A = ag.tensor(_tri(rng, (), 3, True), requires_grad=True)
    B = ag.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert gradgradcheck(lambda A, B: ag.linalg.solve_triangular(A, B, upper=True), (A, B))


def test_solve_triangular_broadcasts_and_checks_shapes():
    rng = np.random.default_rng(2)
    A = ag.tensor(_tri(rng, (), 3, False))
    B = ag.tensor(rng.standard_normal((4, 3, 2)))
    assert ag.linalg.solve_triangular(A, B, upper=False).shape == (4, 3, 2)
    with pytest.raises(ValueError, match="solve_triangular.*do not match"):
        ag.linalg.solve_triangular(A, ag.ones(2, 2), upper=False)
    with pytest.raises(ValueError, match="solve_triangular.*matrix"):
        ag.linalg.solve_triangular(A, ag.ones(3), upper=False)


def test_solve_triangular_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(3)
    for upper in (False, True):
        for left in (True, False):
            for unit in (False, True):
                a = _tri(rng, (2,), 3, upper) + 0.2 * rng.standard_normal((2, 3, 3))
                b = rng.standard_normal((2, 3, 2) if left else (2, 2, 3))
                g = rng.standard_normal(b.shape)
                ao, bo = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
                at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
                xo = ag.linalg.solve_triangular(ao, bo, upper=upper, left=left, unitriangular=unit)
                xt = torch.linalg.solve_triangular(at, bt, upper=upper, left=left, unitriangular=unit)
                xo.backward(ag.tensor(g))
                xt.backward(torch.tensor(g))
                np.testing.assert_allclose(xo.detach().numpy(), xt.detach().numpy(), rtol=1e-10, atol=1e-12)
                np.testing.assert_allclose(ao.grad.numpy(), at.grad.numpy(), rtol=1e-9, atol=1e-12)
                np.testing.assert_allclose(bo.grad.numpy(), bt.grad.numpy(), rtol=1e-9, atol=1e-12)


@given(n=st.integers(1, 4), seed=st.integers(0, 10 ** 6), upper=st.booleans())
@settings(max_examples=15, deadline=None)
def test_cholesky_solve_and_inverse(n, seed, upper):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    S = M @ M.T + n * np.eye(n)
    L = np.linalg.cholesky(S)
    F = L.T if upper else L
    B = rng.standard_normal((n, 2))
    np.testing.assert_allclose(ag.cholesky_solve(ag.tensor(B), ag.tensor(F), upper=upper).numpy(),
                               np.linalg.solve(S, B), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ag.cholesky_inverse(ag.tensor(F), upper=upper).numpy(), np.linalg.inv(S),
                               rtol=1e-8, atol=1e-10)
    assert gradcheck(lambda b, f: ag.cholesky_solve(b, f, upper=upper),
                     (ag.tensor(B, requires_grad=True), ag.tensor(F, requires_grad=True)))


def test_cholesky_solve_inverse_and_triangular_solve_match_torch():
    torch = _torch()
    rng = np.random.default_rng(4)
    L = np.linalg.cholesky(np.eye(3) * 2 + 0.5)
    B = rng.standard_normal((3, 2))
    for upper in (False, True):
        F = L.T if upper else L
        np.testing.assert_allclose(ag.cholesky_solve(ag.tensor(B), ag.tensor(F), upper).numpy(),
                                   torch.cholesky_solve(torch.tensor(B), torch.tensor(F), upper).numpy(), rtol=1e-10)
        np.testing.assert_allclose(ag.tensor(F).cholesky_inverse(upper).numpy(),
                                   torch.tensor(F).cholesky_inverse(upper).numpy(), rtol=1e-10)
    for upper in (False, True):
        for transpose in (False, True):
            A = np.triu(L.T) if upper else L
            ours = ag.triangular_solve(ag.tensor(B), ag.tensor(A), upper=upper, transpose=transpose)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)     # torch: the name is deprecated (once)
                theirs = torch.triangular_solve(torch.tensor(B), torch.tensor(A), upper=upper, transpose=transpose)
            np.testing.assert_allclose(ours.solution.numpy(), theirs.solution.numpy(), rtol=1e-10)


def test_ex_forms_report_info_instead_of_raising():
    sing = ag.tensor([[1.0, 2.0], [2.0, 4.0]])
    inv, info = ag.linalg.inv_ex(ag.stack([ag.eye(2), sing]))
    assert info.tolist() == [0, 1] and np.allclose(inv[0].numpy(), np.eye(2)) and np.isnan(inv[1].numpy()).all()
    L, info = ag.linalg.cholesky_ex(ag.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert info.item() == 2
    L, info = ag.linalg.cholesky_ex(ag.tensor([[4.0, 2.0], [2.0, 2.0]]))
    assert info.item() == 0 and L.tolist() == [[2.0, 0.0], [1.0, 1.0]]
    X, info = ag.linalg.solve_ex(ag.eye(2) * 2, ag.ones(2))
    assert info.item() == 0 and X.tolist() == [0.5, 0.5]
    with pytest.raises(ag.linalg.LinAlgError):
        ag.linalg.inv_ex(sing, check_errors=True)
    with pytest.raises(RuntimeError, match="positive-definite"):
        ag.linalg.cholesky(ag.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert issubclass(ag.linalg.LinAlgError, RuntimeError)


def test_vander_tensorinv_tensorsolve():
    x = ag.tensor([1.0, 2.0, 0.0], dtype=ag.float64, requires_grad=True)
    np.testing.assert_array_equal(ag.linalg.vander(x).detach().numpy(), np.vander([1.0, 2.0, 0.0], increasing=True))
    np.testing.assert_array_equal(ag.vander(x.detach(), N=4).numpy(), np.vander([1.0, 2.0, 0.0], 4))
    assert gradcheck(lambda x: ag.linalg.vander(x, N=4), (x,))
    rng = np.random.default_rng(5)
    A = rng.standard_normal((6, 2, 3))
    Ai = ag.linalg.tensorinv(ag.tensor(A), ind=1).numpy()
    np.testing.assert_allclose(np.tensordot(Ai, A, 1), np.eye(2 * 3).reshape(2, 3, 2, 3), atol=1e-10)
    A2, B2 = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3))
    X = ag.linalg.tensorsolve(ag.tensor(A2), ag.tensor(B2)).numpy()
    np.testing.assert_allclose(np.tensordot(A2, X, 1), B2, atol=1e-10)


def test_vander_matches_torch():
    torch = _torch()
    x = np.array([1.5, -2.0, 0.0, 3.0])
    np.testing.assert_allclose(ag.linalg.vander(ag.tensor(x), N=5).numpy(), torch.linalg.vander(torch.tensor(x), N=5).numpy())
    np.testing.assert_allclose(ag.vander(ag.tensor(x)).numpy(), torch.vander(torch.tensor(x)).numpy())
    np.testing.assert_allclose(ag.vander(ag.tensor(x), 3, True).numpy(), torch.vander(torch.tensor(x), 3, True).numpy())

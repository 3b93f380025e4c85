"""``torch.linalg``: norms, inverse, determinant, solve, Cholesky, ``qr``, ``eigh``/``eigvalsh``,
``svd``/``svdvals``, ``pinv`` and ``cond`` with their gradients (each a taped op whose VJP uses the taped
ops, so grad of grad works; PyTorch's rules), and ``matrix_rank`` and ``lstsq`` for values.

    >>> A = ag.tensor([[2.0, 0.0], [0.0, 4.0]])
    >>> ag.linalg.inv(A), ag.linalg.det(A)
    (tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]]), tensor(8.))
"""
from __future__ import annotations

import collections

import numpy as np

from .errors import OpError
from .ops import elementwise as E
from .ops import linalg as L
from .ops.aliases import cumprod as _cumprod
from .ops.shape import cat as _cat
from .ops.shape import stack as _stack
from .ops.registry import defop, method as _method, xp
from .ops import triangular as _triangular  # noqa: F401  (the tril op, xp.tril, used by the Cholesky rule)
from .tensor import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "solve", "cholesky", "qr", "svd", "svdvals",
           "eigh", "eigvalsh", "pinv", "cond", "matrix_exp", "matrix_rank", "lstsq", "matrix_power", "multi_dot", "cross", "vecdot",
           "matmul", "diagonal", "solve_triangular", "cholesky_ex", "inv_ex", "solve_ex", "vander", "tensorinv",
           "tensorsolve", "LinAlgError", "cholesky_solve", "cholesky_inverse", "triangular_solve", "householder_product",
           "geqrf"]

SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])
QRResult = collections.namedtuple("qr", ["Q", "R"])
SVDResult = collections.namedtuple("svd", ["U", "S", "Vh"])
EighResult = collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])
LstsqResult = collections.namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
CholeskyExResult = collections.namedtuple("cholesky_ex", ["L", "info"])
InvExResult = collections.namedtuple("inv_ex", ["inverse", "info"])
SolveExResult = collections.namedtuple("solve_ex", ["result", "info"])
GeqrfResult = collections.namedtuple("geqrf", ["a", "tau"])


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _mT(a):
    return a.swapaxes(-1, -2)


def _square(a, name):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise OpError(f"linalg.{name}: expected a square matrix (or a batch of them), got shape {tuple(a.shape)}")


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle (singular, not positive-definite), as ``torch.linalg.LinAlgError``
    (a RuntimeError).

    >>> try:
    ...     ag.linalg.inv(ag.zeros(2, 2))
    ... except ag.linalg.LinAlgError as e:
    ...     print(str(e).split(":")[0])
    linalg.inv
    """


def _solve_arrays(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg: the matrix is singular (not invertible)") from None


def _inv(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.inv: the matrix is singular (not invertible)") from None


_inv_op = defop("linalg_inv", _inv, (lambda g, ans, a: -(_mT(ans) @ g @ _mT(ans)),), uses=(), uses_ans=True)
def _cofactor(a):
    """The cofactor matrix det(A) A⁻ᵀ of each matrix, also where A is singular: from A = U S Vᵀ it is
    det(U) det(V) U diag(prod_{j != i} s_j) Vᵀ (nonzero where the rank is n - 1)."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.prod(np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :]), axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return (sign[..., None, None] * (u * others[..., None, :])) @ vh


def _det_vjp(g, ans, a):
    g = g.reshape(tuple(a.shape[:-2]) + (1, 1))
    d = ans.reshape(tuple(a.shape[:-2]) + (1, 1))
    if isinstance(a, np.ndarray):
        if np.all(ans != 0):
            try:
                return g * d * _mT(np.linalg.inv(a))
            except np.linalg.LinAlgError:
                pass
        return g * _cofactor(a).astype(a.dtype, copy=False)
    if not np.all(ans._data != 0):
        raise NotImplementedError("linalg.det: a second derivative at a singular matrix is not available here "
                                  f"(input shape {tuple(a.shape)}); the first derivative is (use create_graph=False)")
    return g * d * _mT(xp.linalg_inv(a))


# the gradient is the cofactor matrix, det(A) A⁻ᵀ where A is invertible (PyTorch's formula with
# create_graph; without it PyTorch gives 0 at a singular A of rank n - 1, where the cofactors are not 0)
_det_op = defop("linalg_det", np.linalg.det, (_det_vjp,), uses_ans=True)


def _logabsdet(a):
    return np.linalg.slogdet(a)[1].astype(a.dtype)


_logabsdet_op = defop("linalg_logabsdet", _logabsdet,
                      (lambda g, ans, a: g.reshape(tuple(a.shape[:-2]) + (1, 1)) * _mT(xp.linalg_inv(a)),))


def _solve(a, b, vector=False):
    if vector:
        return _solve_arrays(a, b[..., None])[..., 0]
    return _solve_arrays(a, b)


def _solve_vjp(g, ans, a, b, *, needs, vector=False):
    gb = xp.linalg_solve(_mT(a), g, vector=vector)
    ga = None
    if needs[0]:
        if vector:
            ga = -(gb.reshape(tuple(gb.shape) + (1,)) * ans.reshape(tuple(ans.shape[:-1]) + (1, ans.shape[-1])))
        else:
            ga = -(gb @ _mT(ans))
    return ga, gb if needs[1] else None


_solve_op = defop("linalg_solve", _solve, vjp=_solve_vjp, uses_ans=True)


def _cholesky(a, upper=False):
    try:
        c = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.cholesky: the matrix is not positive-definite") from None
    return np.swapaxes(c, -1, -2) if upper else c


def _cholesky_vjp(g, ans, a, upper=False):
    lo = _mT(ans) if upper else ans
    gl = _mT(g) if upper else g
    n = lo.shape[-1]
    p = xp.tril(_mT(lo) @ gl, diagonal=0) - 0.5 * (_mT(lo) @ gl) * np.eye(n, dtype=lo.dtype)
    li = xp.linalg_inv(lo)
    s = _mT(li) @ p @ li
    return 0.5 * (s + _mT(s))


_cholesky_op = defop("linalg_cholesky", _cholesky, (_cholesky_vjp,), uses=(), uses_ans=True)


# -- triangular solve: X = A⁻¹ B with A's triangle only (and a unit diagonal if asked) -------------------------
def _triangle(a, upper, unitriangular):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t.copy()
        idx = np.arange(a.shape[-1])
        t[..., idx, idx] = 1
    return t


def _solve_tri(a, b, upper=False, unitriangular=False):
    return _solve_arrays(_triangle(a, upper, unitriangular), b)


def _solve_tri_vjp(g, ans, a, b, *, needs, upper=False, unitriangular=False):
    # X = T⁻¹ B (T the triangle of A): dB = T⁻ᵀ g (a triangular solve with the other triangle), and
    # dA = -dB Xᵀ on T's free entries only
    gb = xp.linalg_solve_triangular(_mT(a), g, upper=not upper, unitriangular=unitriangular)
    ga = None
    if needs[0]:
        full = -(gb @ _mT(ans))
        k = 1 if unitriangular else 0
        ga = xp.triu(full, diagonal=k) if upper else xp.tril(full, diagonal=-k)
    return ga, gb if needs[1] else None


_solve_tri_op = defop("linalg_solve_triangular", _solve_tri, vjp=_solve_tri_vjp, uses_ans=True)


# -- qr: A = Q R. PyTorch's linalg_qr_backward, split over the two outputs (linear in the cotangents).
# With M = gR Rᵀ - Qᵀ gQ: for m >= n, gA = (gQ + Q copyltu(M)) R⁻ᵀ, copyltu(M) = triu(M) + triu(M)ᵀ with
# the diagonal once; for m < n, gA = [Q tril(Mᵀ - M) R₁⁻ᵀ, 0] + Q gR with R₁ the first m columns of R.
# 'complete' for m > n leaves part of Q undetermined: no gradient, as in PyTorch.
def _qr_check(a, mode):
    if mode == "complete" and a.shape[-2] > a.shape[-1]:
        raise RuntimeError("linalg.qr: the decomposition is not differentiable with mode='complete' and more rows "
                           f"than columns (input shape {tuple(a.shape)}); use mode='reduced'")


def _right_solve_rt(b, r):
    """b R⁻ᵀ (R upper triangular, invertible): the solution X of X Rᵀ = b."""
    return _mT(xp.linalg_solve(r, _mT(b)))


def _qr_grad(a, q, r, m_part, gq=None, gr=None):
    m, n = a.shape[-2], a.shape[-1]
    if m >= n:
        up = xp.triu(m_part)
        k = r.shape[-1]
        sym = up + _mT(up) - up * np.eye(k, dtype=a.dtype)
        ga = q @ sym
        if gq is not None:
            ga = ga + gq
        return _right_solve_rt(ga, r)
    low = xp.tril(_mT(m_part) - m_part)
    ga = _right_solve_rt(q @ low, r[..., :, :m])
    zeros = np.zeros(tuple(a.shape[:-2]) + (m, n - m), a.dtype)
    ga = np.concatenate([ga, zeros], axis=-1) if isinstance(ga, np.ndarray) else _cat([ga, Tensor(zeros)], dim=-1)
    return ga + q @ gr if gr is not None else ga


def _qr_q_vjp(g, ans, a, mode="reduced"):
    _qr_check(a, mode)
    r = xp.linalg_qr_R(a, mode=mode)
    return _qr_grad(a, ans, r, -(_mT(ans) @ g), gq=g)


def _qr_r_vjp(g, ans, a, mode="reduced"):
    _qr_check(a, mode)
    q = xp.linalg_qr_Q(a, mode=mode)
    return _qr_grad(a, q, ans, g @ _mT(ans), gr=g)


_qr_q = defop("linalg_qr_Q", lambda a, mode="reduced": np.linalg.qr(a, mode=mode)[0], (_qr_q_vjp,), uses_ans=True)
_qr_r = defop("linalg_qr_R", lambda a, mode="reduced": np.linalg.qr(a, mode=mode)[1], (_qr_r_vjp,), uses_ans=True)


# -- eigh: A = V diag(w) Vᵀ. PyTorch's rule (linalg_eig_backward, Hermitian case), split over the two
# outputs (it is linear in the two cotangents): gA = V (diag(gw) + skew(Vᵀ gV) / E) Vᵀ, with
# skew(X) = (X - Xᵀ) / 2 and E_ij = w_j - w_i; a repeated eigenvalue makes the eigenvector part inf/NaN,
# as in PyTorch. The result is symmetric (the op reads one triangle of a symmetric matrix).
def _eigh_values_vjp(g, ans, a, UPLO="L"):
    v = xp.linalg_eigh_vectors(a, UPLO=UPLO)
    return (v * g.reshape(tuple(g.shape[:-1]) + (1, g.shape[-1]))) @ _mT(v)


def _eigh_vectors_vjp(g, ans, a, UPLO="L"):
    w = xp.linalg_eigh_values(a, UPLO=UPLO)
    vtg = _mT(ans) @ g
    n = w.shape[-1]
    gaps = w.reshape(tuple(w.shape[:-1]) + (1, n)) - w.reshape(tuple(w.shape[:-1]) + (n, 1))
    gaps = gaps + np.eye(n, dtype=gaps.dtype)          # the diagonal of skew(.) is 0: divide it by 1
    return ans @ ((0.5 * (vtg - _mT(vtg))) / gaps) @ _mT(ans)


_eigh_w = defop("linalg_eigh_values", lambda a, UPLO="L": np.linalg.eigh(a, UPLO=UPLO)[0], (_eigh_values_vjp,))
_eigh_v = defop("linalg_eigh_vectors", lambda a, UPLO="L": np.linalg.eigh(a, UPLO=UPLO)[1], (_eigh_vectors_vjp,),
                uses_ans=True)


# -- svd: A = U diag(S) Vh with k = min(m, n) singular values. PyTorch's svd_backward, split over the
# three outputs (linear in the cotangents): gA = U (diag(gS) + (skew(Uᵀ gU) diag(S) + diag(S) skew(Vᵀ gV))
# / E) Vh, E_ij = S_j² - S_i², skew(X) = X - Xᵀ, plus (I - U Uᵀ) gU diag(1/S) Vh when m > k and U
# (I - V Vᵀ) gV ... when n > k. With full_matrices=True the columns past k get no gradient, as in
# PyTorch. A repeated singular value makes the U and V parts inf/NaN, as there.
def _svd_parts(a):
    k = min(a.shape[-2], a.shape[-1])
    u = xp.linalg_svd_U(a, full_matrices=False)
    s = xp.linalg_svd_S(a, full_matrices=False)
    vh = xp.linalg_svd_Vh(a, full_matrices=False)
    return u, s, vh, k


def _row(s):
    return s.reshape(tuple(s.shape[:-1]) + (1, s.shape[-1]))


def _col(s):
    return s.reshape(tuple(s.shape) + (1,))


def _gaps(s):
    s2 = s * s
    n = s.shape[-1]
    return _row(s2) - _col(s2) + np.eye(n, dtype=s2.dtype)


def _svd_s_vjp(g, ans, a, full_matrices=True):
    u, s, vh, k = _svd_parts(a)
    return (u * _row(g)) @ vh


def _svd_u_vjp(g, ans, a, full_matrices=True):
    u, s, vh, k = _svd_parts(a)
    gu = g[..., :, :k] if g.shape[-1] != k else g
    utgu = _mT(u) @ gu
    inner = ((utgu - _mT(utgu)) / _gaps(s)) * _row(s)
    ga = u @ inner
    if a.shape[-2] > k:
        ga = ga + (gu - u @ utgu) / _row(s)
    return ga @ vh


def _svd_vh_vjp(g, ans, a, full_matrices=True):
    u, s, vh, k = _svd_parts(a)
    gv = _mT(g[..., :k, :] if g.shape[-2] != k else g)
    v = _mT(vh)
    vtgv = _mT(v) @ gv
    inner = _col(s) * ((vtgv - _mT(vtgv)) / _gaps(s))
    ga = inner @ vh
    if a.shape[-1] > k:
        ga = ga + _mT(gv - v @ vtgv) / _col(s)
    return u @ ga


_svd_u = defop("linalg_svd_U", lambda a, full_matrices=True: np.linalg.svd(a, full_matrices=full_matrices)[0],
               (_svd_u_vjp,))
_svd_s = defop("linalg_svd_S", lambda a, full_matrices=True: np.linalg.svd(a, full_matrices=full_matrices)[1],
               (_svd_s_vjp,))
_svd_vh = defop("linalg_svd_Vh", lambda a, full_matrices=True: np.linalg.svd(a, full_matrices=full_matrices)[2],
                (_svd_vh_vjp,))


# -- pinv: PyTorch's pinv_backward (the derivative of the pseudo-inverse where the rank is constant)
def _pinv_vjp(g, ans, a, rcond=None, hermitian=False):
    p, gh = ans, _mT(g)
    ph = _mT(p)
    if a.shape[-2] <= a.shape[-1]:
        k = gh @ p
        kph = k @ ph
        return -_mT(p @ k) + kph - (a @ p) @ kph + (ph @ p) @ (gh - k @ a)
    k = p @ gh
    phk = ph @ k
    return -_mT(k @ p) + (gh - a @ k) @ p @ ph + phk - phk @ p @ a


_pinv = defop("linalg_pinv", lambda a, rcond=None, hermitian=False:
              np.linalg.pinv(a, hermitian=hermitian) if rcond is None else np.linalg.pinv(a, rcond, hermitian),
              (_pinv_vjp,), uses_ans=True)


# -- matrix_exp: the VJP is the adjoint Fréchet derivative, the top-right block of exp([[Aᵀ, G], [0, Aᵀ]])
# (PyTorch's linalg_matrix_exp_differential), itself a matrix exponential, so grad of grad works
def _expm(a):
    import scipy.linalg
    return scipy.linalg.expm(a).astype(a.dtype, copy=False)


def _block_upper(at, g):
    z = np.zeros(tuple(at.shape), at.dtype if isinstance(at, np.ndarray) else np.dtype(at.dtype))
    if isinstance(at, np.ndarray) and isinstance(g, np.ndarray):
        return np.concatenate([np.concatenate([at, g], -1), np.concatenate([z, at], -1)], -2)
    at = at if isinstance(at, Tensor) else Tensor(at)
    g = g if isinstance(g, Tensor) else Tensor(g)
    return _cat([_cat([at, g], dim=-1), _cat([Tensor(z), at], dim=-1)], dim=-2)


def _expm_vjp(g, ans, a):
    n = a.shape[-1]
    return xp.linalg_matrix_exp(_block_upper(_mT(a), g))[..., :n, n:]


_expm_op = defop("linalg_matrix_exp", _expm, (_expm_vjp,))


def matrix_exp(A):
    """The matrix exponential exp(A) = sum_k A^k / k! of a square matrix (or a batch of them), by SciPy's
    Padé approximation with scaling and squaring. The gradient is PyTorch's (the adjoint Fréchet
    derivative). PyTorch: ``torch.linalg.matrix_exp`` / ``torch.matrix_exp``.

    >>> ag.linalg.matrix_exp(ag.tensor([[0.0, 1.0], [0.0, 0.0]]))
    tensor([[1., 1.],
            [0., 1.]])
    """
    A = _t(A)
    _square(A, "matrix_exp")
    if A._data.dtype.kind != "f":
        raise TypeError(f"linalg.matrix_exp: expected a floating point matrix, got dtype {A._data.dtype}")
    return _expm_op(A)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """A vector norm (``ord`` a number; all elements flattened when ``dim`` is None and ``ord`` None) or,
    with a 2-tuple ``dim`` or a matrix and ``ord`` 'fro' / 'nuc' / ±1 / ±2 / ±inf, a matrix norm.

    >>> ag.linalg.norm(ag.tensor([3.0, 4.0])), ag.linalg.norm(ag.tensor([[1.0, 2.0], [3.0, 4.0]]), "fro")
    (tensor(5.), tensor(5.4772))
    """
    A = _t(A)
    if isinstance(ord, str) or (ord is not None and A.ndim == 2 and dim is None) or \
            (isinstance(dim, (tuple, list)) and len(dim) == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim if dim is not None else (-2, -1), keepdim,
                           dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The ``ord``-norm of all elements (or over ``dim``): (sum |x|^ord)^(1/ord); inf / -inf are max / min
    |x|, 0 counts the non-zeros. The gradient is 0 where the norm is 0.

    >>> ag.linalg.vector_norm(ag.tensor([[3.0, 4.0], [6.0, 8.0]]), dim=1)
    tensor([ 5., 10.])
    """
    return L.norm(_t(x), p=float(ord), dim=dim, keepdim=keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """A matrix norm over the two dims ``dim``: 'fro' (Frobenius), 1 / -1 (max / min column sum of |A|),
    inf / -inf (max / min row sum), 2 / -2 and 'nuc' (from the singular values; values only).

    >>> ag.linalg.matrix_norm(ag.tensor([[1.0, -2.0], [3.0, 4.0]]), 1)
    tensor(6.)
    """
    A = _t(A)
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return L.norm(A, p=2.0, dim=(d0, d1), keepdim=keepdim)
    if ord in (1, -1, np.inf, -np.inf):
        over, keep = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = E.abs(A).sum(over, keepdim=True)
        red = sums.amax(keep, keepdim=True) if ord > 0 else sums.amin(keep, keepdim=True)
        return red if keepdim else red.squeeze((d0, d1))
    if ord in (2, -2, "nuc"):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        return out.reshape(tuple(1 if i in (d0, d1) else n for i, n in enumerate(A.shape))) if keepdim else out
    raise OpError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', ±1, ±2 or ±inf, got {ord!r}")


def inv(A):
    """The inverse of a square matrix (or of each in a batch); d(A⁻¹) = -A⁻¹ dA A⁻¹.

    >>> ag.linalg.inv(ag.tensor([[4.0, 0.0], [0.0, 2.0]]))
    tensor([[0.2500, 0.0000],
            [0.0000, 0.5000]])
    """
    A = _t(A)
    _square(A, "inv")
    return _inv_op(A)


def det(A):
    """The determinant (of each matrix in a batch); d det / dA is the cofactor matrix, det · A⁻ᵀ where A
    is invertible (also defined where it is not).

    >>> ag.linalg.det(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    A = _t(A)
    _square(A, "det")
    return _det_op(A)


def slogdet(A):
    """The named tuple ``(sign, logabsdet)`` of the determinant; the gradient flows through ``logabsdet``.

    >>> ag.linalg.slogdet(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
    slogdet(sign=tensor(-1.), logabsdet=tensor(0.6931))
    """
    A = _t(A)
    _square(A, "slogdet")
    sign = Tensor(np.linalg.slogdet(A._data)[0].astype(A._data.dtype))
    return SlogdetResult(sign, _logabsdet_op(A))


def solve(A, B, *, left=True):
    """X with A X = B (``B`` a matrix, a batch of them, or a vector); ``left=False`` solves X A = B.
    Gradients: dB = A⁻ᵀ g, dA = -dB Xᵀ.

    >>> ag.linalg.solve(ag.tensor([[2.0, 0.0], [0.0, 4.0]]), ag.tensor([2.0, 2.0]))
    tensor([1.0000, 0.5000])
    """
    A, B = _t(A), _t(B)
    _square(A, "solve")
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    return _solve_op(A, B, vector=vector)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (``left=False``: X A = B) for triangular A: only A's upper (``upper=True``) or lower
    triangle is read, and its diagonal is taken as ones with ``unitriangular=True``, as
    ``torch.linalg.solve_triangular``. Gradients: dB = A⁻ᵀ g, dA = -dB Xᵀ on that triangle.

    >>> L = ag.tensor([[2.0, 0.0], [1.0, 1.0]])
    >>> ag.linalg.solve_triangular(L, ag.tensor([[2.0], [3.0]]), upper=False)
    tensor([[1.],
            [2.]])
    """
    A, B = _t(A), _t(B)
    _square(A, "solve_triangular")
    if B.ndim < 2:
        raise OpError(f"linalg.solve_triangular: B must be a matrix (or a batch of them), got shape {tuple(B.shape)}")
    if not left:
        return _mT(solve_triangular(_mT(A), _mT(B), upper=not upper, unitriangular=unitriangular))
    if A.shape[-1] != B.shape[-2]:
        raise OpError(f"linalg.solve_triangular: A of shape {tuple(A.shape)} and B of shape {tuple(B.shape)} "
                         f"do not match (A's columns must equal B's rows)")
    shape = tuple(np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])))
    if tuple(A.shape[:-2]) != shape:
        A = A.broadcast_to(shape + tuple(A.shape[-2:]))
    if tuple(B.shape[:-2]) != shape:
        B = B.broadcast_to(shape + tuple(B.shape[-2:]))
    return _solve_tri_op(A, B, upper=upper, unitriangular=unitriangular)


def _each_matrix_ex(a, fn, info_of):
    """The ``*_ex`` fallback once the batched call failed: ``fn`` on each matrix of the batch, NaN and
    ``info_of(matrix)`` where it raises. Returns (out, info) as tensors."""
    info = np.zeros(a.shape[:-2], np.int32)
    out = np.full(a.shape, np.nan, a.dtype)
    for idx in np.ndindex(*a.shape[:-2]):
        try:
            out[idx] = fn(a[idx])
        except np.linalg.LinAlgError:
            info[idx] = info_of(a[idx])
    return Tensor(out), Tensor(info)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info), as ``torch.linalg.cholesky_ex``: info is 0 where the matrix is positive-definite, else the
    order of the first minor that is not (and L is NaN there); ``check_errors=True`` raises instead.

    >>> L, info = ag.linalg.cholesky_ex(ag.tensor([[4.0, 2.0], [2.0, 2.0]]))
    >>> info
    tensor(0, dtype=int32)
    """
    A = _t(A)
    _square(A, "cholesky_ex")
    try:
        return CholeskyExResult(cholesky(A, upper=upper), Tensor(np.zeros(A.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise

    def first_bad_minor(m):
        n = m.shape[-1]
        return next((k for k in range(1, n + 1) if np.linalg.eigvalsh(m[:k, :k]).min() <= 0), n)

    def factor(m):
        c = np.linalg.cholesky(m)
        return np.swapaxes(c, -1, -2) if upper else c

    return CholeskyExResult(*_each_matrix_ex(A._data, factor, first_bad_minor))


def inv_ex(A, *, check_errors=False):
    """(inverse, info), as ``torch.linalg.inv_ex``: info is 0 where the matrix is invertible (else 1, and
    the inverse is NaN there); ``check_errors=True`` raises instead.

    >>> ag.linalg.inv_ex(ag.eye(2)).info
    tensor(0, dtype=int32)
    """
    A = _t(A)
    _square(A, "inv_ex")
    try:
        return InvExResult(inv(A), Tensor(np.zeros(A.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    return InvExResult(*_each_matrix_ex(A._data, np.linalg.inv, lambda m: 1))


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info), as ``torch.linalg.solve_ex``: info is 0 where A is invertible (else 1, and the
    result is NaN there); ``check_errors=True`` raises instead.

    >>> ag.linalg.solve_ex(ag.eye(2), ag.ones(2)).result
    tensor([1., 1.])
    """
    try:
        X = solve(A, B, left=left)
        A = _t(A)
        return SolveExResult(X, Tensor(np.zeros(A.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    A, B = _t(A), _t(B)
    Ai, info = inv_ex(A)
    X = (Ai @ B if B.ndim > 1 and B.ndim == A.ndim else (Ai @ B.unsqueeze(-1)).squeeze(-1)) if left else B @ Ai
    return SolveExResult(X, info)


def vander(x, *, N=None):
    """The Vandermonde matrix of the last dim of ``x``: column j is x ** j (j = 0 .. N-1, N = len(x) by
    default), as ``torch.linalg.vander``.

    >>> ag.linalg.vander(ag.tensor([1.0, 2.0, 3.0]))
    tensor([[1., 1., 1.],
            [1., 2., 4.],
            [1., 3., 9.]])
    """
    x = _t(x)
    if x.ndim < 1:
        raise OpError("linalg.vander: x must be at least one-dimensional")
    n = x.shape[-1] if N is None else int(N)
    if n < 1:
        raise OpError(f"linalg.vander: N must be at least 1, got {N}")
    # as PyTorch: the running product of [1, x, x, ...], so x = 0 has the gradient of the product
    cols = [x * 0 + 1] + [x] * (n - 1)
    return _cumprod(_stack(cols, -1), -1)


def tensorinv(A, ind=2):
    """The inverse of ``A`` seen as a map from its last dims to its first ``ind`` dims, as
    ``torch.linalg.tensorinv``: ``tensordot(tensorinv(A), A, ind)`` is the identity.

    >>> ag.linalg.tensorinv(ag.eye(4).reshape(4, 2, 2), ind=1).shape
    (2, 2, 4)
    """
    A = _t(A)
    lead, rest = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    m = int(np.prod(lead))
    if m != int(np.prod(rest)):
        raise OpError(f"linalg.tensorinv: the product of the first {ind} dims {lead} must equal that of the rest "
                         f"{rest}")
    return inv(A.reshape(m, m)).reshape(rest + lead)


def tensorsolve(A, B, dims=None):
    """X with ``tensordot(A, X, X.ndim) == B``, as ``torch.linalg.tensorsolve``.

    >>> ag.linalg.tensorsolve(ag.eye(4).reshape(2, 2, 4), ag.ones(2, 2)).shape
    (4,)
    """
    A, B = _t(A), _t(B)
    if dims is not None:
        nd = A.ndim
        dims = [d % nd for d in dims]
        A = A.permute(*[i for i in range(nd) if i not in dims], *dims)
    bshape = tuple(B.shape)
    xshape = tuple(A.shape[B.ndim:])
    m, n = int(np.prod(bshape)), int(np.prod(xshape))
    if m != n:
        raise OpError(f"linalg.tensorsolve: A's shape {tuple(A.shape)} does not give a square system for B's shape "
                         f"{bshape}")
    return solve(A.reshape(m, n), B.reshape(m)).reshape(xshape)


def cholesky_solve(B, L, upper=False):
    """X with (L Lᵀ) X = B, from the Cholesky factor ``L`` (Lᵀ with ``upper=True``), as ``torch.cholesky_solve``:
    two triangular solves, differentiable in both.

    >>> L = ag.tensor([[2.0, 0.0], [1.0, 1.0]])
    >>> ag.cholesky_solve(ag.tensor([[4.0], [2.0]]), L)
    tensor([[1.],
            [0.]])
    """
    B, L = _t(B), _t(L)
    if upper:
        y = solve_triangular(_mT(L), B, upper=False)
        return solve_triangular(L, y, upper=True)
    y = solve_triangular(L, B, upper=False)
    return solve_triangular(_mT(L), y, upper=True)


def cholesky_inverse(L, upper=False):
    """(L Lᵀ)⁻¹ from the Cholesky factor ``L`` (Lᵀ with ``upper=True``), as ``torch.cholesky_inverse``.

    >>> ag.cholesky_inverse(ag.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor([[0.2500, 0.0000],
            [0.0000, 1.0000]])
    """
    L = _t(L)
    n = L.shape[-1]
    eye = Tensor(np.broadcast_to(np.eye(n, dtype=L._data.dtype), tuple(L.shape)).copy())
    return cholesky_solve(eye, L, upper=upper)


TriangularSolveResult = collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """PyTorch's deprecated ``triangular_solve(b, A)``: (X, A) with op(A) X = b, op(A) = Aᵀ if ``transpose``
    (``linalg.solve_triangular`` replaces it).

    >>> ag.triangular_solve(ag.tensor([[2.0], [3.0]]), ag.tensor([[1.0, 1.0], [0.0, 1.0]])).solution
    tensor([[-1.],
            [ 3.]])
    """
    b, A = _t(b), _t(A)
    M = _mT(A) if transpose else A
    X = solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolveResult(X, A.clone())


def householder_product(A, tau):
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_iᵀ with v_i the i-th column of ``A``
    (m, n) below the diagonal and 1 on it (LAPACK's orgqr; ``geqrf``'s output gives the Q of a QR), as
    ``torch.linalg.householder_product`` / ``torch.orgqr``. Built from taped ops: differentiable in A
    and tau.

    >>> A, tau = ag.geqrf(ag.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> ag.linalg.householder_product(A, tau).abs()
    tensor([[0.6000, 0.8000],
            [0.8000, 0.6000]])
    """
    A, tau = _t(A), _t(tau)
    if A.ndim < 2:
        raise OpError(f"linalg.householder_product: A must be a matrix (or a batch of them), got shape "
                         f"{tuple(A.shape)}")
    m, n = A.shape[-2], A.shape[-1]
    k = tau.shape[-1]
    if n > m or k > n:
        raise OpError(f"linalg.householder_product: expected A (m, n) with m >= n and tau (k,) with k <= n, got "
                         f"A {tuple(A.shape)} and tau {tuple(tau.shape)}")
    batch = tuple(np.broadcast_shapes(tuple(A.shape[:-2]), tuple(tau.shape[:-1])))
    q = Tensor(np.broadcast_to(np.eye(m, n, dtype=A._data.dtype), batch + (m, n)).copy())
    rows = np.arange(m)
    for i in range(k - 1, -1, -1):        # Q = H_0 (H_1 (... (H_{k-1} E)))
        below = Tensor((rows > i).astype(A._data.dtype)[:, None])
        unit = Tensor((rows == i).astype(A._data.dtype)[:, None])
        v = A[..., :, i:i + 1] * below + unit                         # (..., m, 1)
        q = q - tau[..., i:i + 1].unsqueeze(-1) * (v @ (_mT(v) @ q))
    return q


def geqrf(A):
    """(a, tau): the QR decomposition of ``A`` (m, n) in LAPACK's compact form (R on and above the diagonal,
    the Householder vectors below it), as ``torch.geqrf``; no gradient (as in PyTorch).

    >>> a, tau = ag.geqrf(ag.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> a.abs()[0]
    tensor([5.0000, 2.2000])
    """
    A = _t(A)
    a = A._data
    out = np.empty(a.shape, a.dtype)
    taus = np.empty(a.shape[:-2] + (min(a.shape[-2:]),), a.dtype)
    for idx in np.ndindex(*a.shape[:-2]):
        h, tau = np.linalg.qr(a[idx], mode="raw")
        out[idx] = h.T
        taus[idx] = tau
    return GeqrfResult(Tensor(out), Tensor(taus))


def cholesky(A, *, upper=False):
    """The Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric positive-definite matrix, or Lᵀ
    with ``upper=True``; differentiable.

    >>> ag.linalg.cholesky(ag.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
    """
    A = _t(A)
    _square(A, "cholesky")
    return _cholesky_op(A, upper=upper)


def qr(A, mode="reduced"):
    """The named tuple ``(Q, R)`` with A = Q R, Q with orthonormal columns and R upper triangular
    (``mode`` 'reduced' or 'complete'). Gradients as PyTorch's (where R is invertible; none for
    'complete' with more rows than columns).

    >>> Q, R = ag.linalg.qr(ag.tensor([[1.0, 0.0], [0.0, 2.0]]))
    >>> (Q @ R).round()
    tensor([[1., 0.],
            [0., 2.]])
    """
    A = _t(A)
    return QRResult(_qr_q(A, mode=mode), _qr_r(A, mode=mode))


def svd(A, full_matrices=True):
    """The named tuple ``(U, S, Vh)`` with A = U diag(S) Vh, singular values largest first. Gradients as
    PyTorch's (finite where the singular values are distinct and nonzero; with ``full_matrices=True``
    the columns of U and rows of Vh past min(m, n) get none).

    >>> ag.linalg.svd(ag.tensor([[3.0, 0.0], [0.0, 2.0]])).S
    tensor([3., 2.])
    """
    A = _t(A)
    return SVDResult(_svd_u(A, full_matrices=full_matrices), _svd_s(A, full_matrices=full_matrices),
                     _svd_vh(A, full_matrices=full_matrices))


def svdvals(A):
    """The singular values, largest first; d/dA = U diag(g) Vh.

    >>> ag.linalg.svdvals(ag.tensor([[0.0, 2.0], [3.0, 0.0]]))
    tensor([3., 2.])
    """
    return _svd_s(_t(A), full_matrices=False)


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (one triangle is read, ``UPLO``), as
    ``(eigenvalues, eigenvectors)``. Gradients as PyTorch's, a symmetric matrix (the eigenvectors' part
    is finite where the eigenvalues are distinct).

    >>> ag.linalg.eigh(ag.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
    tensor([1., 2.])
    """
    A = _t(A)
    return EighResult(_eigh_w(A, UPLO=UPLO), _eigh_v(A, UPLO=UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of a symmetric matrix; d/dA = V diag(g) Vᵀ.

    >>> ag.linalg.eigvalsh(ag.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    return _eigh_w(_t(A), UPLO=UPLO)


def pinv(A, *, rcond=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse, with PyTorch's gradient (valid where the rank does not change).

    >>> ag.linalg.pinv(ag.tensor([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    return _pinv(_t(A), rcond=rcond, hermitian=hermitian)


def cond(A, p=None):
    """The condition number: s_max / s_min for ``p`` None or 2 (s_min / s_max for -2), else
    ``matrix_norm(A, p) * matrix_norm(inv(A), p)`` (p 'fro', 'nuc', inf, -inf, 1, -1; square A).
    Differentiable where the singular values are distinct (p = ±2) or A is invertible.

    >>> ag.linalg.cond(ag.tensor([[4.0, 0.0], [0.0, 2.0]]))
    tensor(2.)
    """
    A = _t(A)
    if A.ndim < 2:
        raise OpError(f"linalg.cond: expected a matrix (or a batch of them), got shape {tuple(A.shape)}")
    if p is None or p == 2 or p == -2:
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    if p not in ("fro", "nuc", np.inf, -np.inf, 1, -1):
        raise OpError(f"linalg.cond: p must be None, 2, -2, 'fro', 'nuc', inf, -inf, 1 or -1, got {p!r}")
    _square(A, "cond")
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def matrix_rank(A, *, tol=None, hermitian=False):
    """The rank (the number of singular values above the tolerance), an int64 tensor.

    >>> ag.linalg.matrix_rank(ag.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    return Tensor(np.asarray(np.linalg.matrix_rank(_t(A)._data, tol=tol, hermitian=hermitian), dtype=np.int64))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B, as ``(solution, residuals, rank, singular_values)`` (values only).

    >>> ag.linalg.lstsq(ag.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), ag.tensor([[1.0], [2.0], [3.0]])).solution
    tensor([[1.],
            [2.]])
    """
    a, b = _t(A)._data, _t(B)._data
    sol, res, rank, sv = np.linalg.lstsq(a, b, rcond=rcond)
    return LstsqResult(Tensor(sol.astype(a.dtype)), Tensor(np.asarray(res, a.dtype)), Tensor(np.asarray(rank)),
                       Tensor(sv.astype(a.dtype)))


def matrix_power(A, n):
    """A multiplied by itself ``n`` times (the identity for n = 0; the inverse's power for n < 0).

    >>> ag.linalg.matrix_power(ag.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    A = _t(A)
    _square(A, "matrix_power")
    if n == 0:
        return Tensor(np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape).copy())
    if n < 0:
        A, n = inv(A), -n
    out = A
    for _ in range(int(n) - 1):
        out = out @ A
    return out


def multi_dot(tensors):
    """The product of a list of matrices, left to right (a 1-D first or last operand is a row or column).

    >>> ag.linalg.multi_dot([ag.eye(2), ag.ones(2, 3), ag.ones(3)])
    tensor([3., 3.])
    """
    return L.chain_matmul(*tensors)


def cross(input, other, *, dim=-1):  # noqa: A002
    """The 3-D cross product along ``dim`` (default the last).

    >>> ag.linalg.cross(ag.tensor([0.0, 1.0, 0.0]), ag.tensor([0.0, 0.0, 1.0]))
    tensor([1., 0., 0.])
    """
    return L.cross(_t(input), _t(other), dim=dim)


def vecdot(x, y, *, dim=-1):
    """The dot product along ``dim``: sum(x * y, dim).

    >>> ag.linalg.vecdot(ag.tensor([[1.0, 2.0]]), ag.tensor([[3.0, 4.0]]))
    tensor([11.])
    """
    return (_t(x) * _t(y)).sum(dim)


def matmul(input, other):  # noqa: A002
    """``input @ other`` (as ``autograd_core.matmul``).

    >>> ag.linalg.matmul(ag.eye(2), ag.tensor([1.0, 2.0]))
    tensor([1., 2.])
    """
    return L.matmul(input, other)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices in the last two dims (as ``autograd_core.diagonal`` with other defaults).

    >>> ag.linalg.diagonal(ag.tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    from .ops.rearrange import diagonal as _diagonal
    return _diagonal(_t(A), offset=offset, dim1=dim1, dim2=dim2)


def logdet(A):
    """log(det(A)) (NaN where the determinant is negative, -inf where it is 0), as ``torch.logdet``.

    >>> ag.logdet(ag.tensor([[2.0, 0.0], [0.0, 3.0]]))
    tensor(1.7918)
    """
    sign, logabs = slogdet(A)
    return E.where(sign == 0, float("-inf"), E.where(sign > 0, logabs, float("nan")))


# -- PyTorch's older forms: torch.svd / torch.qr / torch.cholesky, and the Tensor methods ----------
SVDTorchResult = collections.namedtuple("svd", ["U", "S", "V"])


def svd_torch(A, some=True, compute_uv=True):
    """``torch.svd``: the named tuple ``(U, S, V)`` with A = U diag(S) Vᵀ (V, not ``linalg.svd``'s Vh);
    ``some=True`` the reduced factors; ``compute_uv=False`` gives zero-filled U and V. Values only.

    >>> U, S, V = ag.svd(ag.tensor([[3.0, 0.0], [0.0, 2.0]]))
    >>> S, bool(ag.allclose(U @ ag.diag(S) @ V.T, ag.tensor([[3.0, 0.0], [0.0, 2.0]])))
    (tensor([3., 2.]), True)
    """
    if not compute_uv:      # PyTorch's zero factors have the complete shapes
        A = _t(A)
        m, n = A.shape[-2:]
        batch, dt = tuple(A.shape[:-2]), A._data.dtype
        return SVDTorchResult(Tensor(np.zeros(batch + (m, m), dt)), svdvals(A), Tensor(np.zeros(batch + (n, n), dt)))
    U, S, Vh = svd(A, full_matrices=not some)
    return SVDTorchResult(U, S, _mT(Vh))


def qr_torch(A, some=True):
    """``torch.qr``: the named tuple ``(Q, R)``, reduced with ``some=True`` (``linalg.qr``'s "reduced"), else
    complete. Values only.

    >>> ag.qr(ag.tensor([[1.0, 0.0], [0.0, 2.0]])).R.shape
    (2, 2)
    """
    return qr(A, mode="reduced" if some else "complete")


def cholesky_torch(A, upper=False):
    """``torch.cholesky``: the lower factor L (A = L Lᵀ), or Lᵀ with ``upper=True``; differentiable.

    >>> ag.cholesky(ag.tensor([[4.0, 0.0], [0.0, 9.0]]))
    tensor([[2., 0.],
            [0., 3.]])
    """
    return cholesky(A, upper=upper)


def _pinverse(self, rcond=1e-15):
    """The Moore-Penrose pseudo-inverse, as ``Tensor.pinverse`` (singular values under ``rcond`` times the
    largest count as zero). Values only.

    >>> ag.tensor([[2.0, 0.0], [0.0, 0.0]]).pinverse()
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    return pinv(self, rcond=rcond)


def norm_torch(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """``torch.norm`` / ``Tensor.norm``: the vector p-norms and ``'fro'`` of ``ops.linalg.norm``, and
    ``p='nuc'``, the nuclear norm (the sum of the singular values) of the matrices over the two dims
    ``dim`` (the last two of a 2-D input when ``dim`` is None), with ``matrix_norm``'s gradient.

    >>> ag.norm(ag.tensor([[3.0, 0.0], [0.0, -4.0]]), p="nuc")
    tensor(7.)
    >>> ag.tensor([[1.0, 2.0], [2.0, 4.0]]).norm(p="nuc", keepdim=True)
    tensor([[5.]])
    """
    if not (isinstance(p, str) and p == "nuc"):
        return L.norm(input, p=p, dim=dim, keepdim=keepdim, dtype=dtype)
    A = _t(input)
    if dim is None:
        if A.ndim != 2:
            raise OpError(f"norm: p='nuc' without dim needs a 2-D input (a matrix), got shape {tuple(A.shape)}; "
                             "pass dim=(d0, d1) to name the matrix dims")
        dim = (0, 1)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        raise OpError(f"norm: p='nuc' needs two dims (the matrix dims), got dim={dim!r} for shape "
                         f"{tuple(A.shape)}")
    return matrix_norm(A, "nuc", dim=dims, keepdim=keepdim, dtype=dtype)


for _name, _fn in dict(det=det, logdet=logdet, slogdet=slogdet, inverse=inv, pinverse=_pinverse,
                       matrix_power=matrix_power, matrix_exp=matrix_exp, cholesky=cholesky_torch, qr=qr_torch,
                       svd=svd_torch, cholesky_solve=cholesky_solve, cholesky_inverse=cholesky_inverse,
                       triangular_solve=triangular_solve, norm=norm_torch).items():
    _method(_name, _fn)

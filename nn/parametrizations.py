"""``torch.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal`` registered as
parametrizations (``nn.utils.parametrize``), PyTorch's current API for them (the older
``nn.utils.weight_norm`` / ``spectral_norm`` hooks are in ``nn/norm_reparam.py``).

* ``weight_norm``: ``weight = g * v / ||v||`` (the norm over every dim but ``dim``), from
  ``parametrizations.weight.original0`` (g) and ``original1`` (v);
* ``spectral_norm``: ``weight = original / sigma``, sigma the largest singular value of the weight as
  a matrix, estimated by power iteration on the buffers ``parametrizations.weight.0._u`` and ``_v``
  (``n_power_iterations`` more per read in training mode, none in eval mode).

    >>> import autograd_core as ag, nn
    >>> layer = nn.utils.parametrizations.weight_norm(nn.Linear(3, 2))
    >>> sorted(name for name, _ in layer.named_parameters())
    ['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
"""
from __future__ import annotations

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

from . import functional as F
from .module import Module
from .parametrize import register_parametrization

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    if dim == -1:
        return (v * v).sum().sqrt()
    axes = tuple(i for i in range(v.ndim) if i != dim)
    return (v * v).sum(dim=axes, keepdim=True).sqrt() if axes else v.abs()


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parametrize ``module.<name>`` as ``g * v / ||v||`` (``dim=None``: one norm over the whole tensor); g
    starts as ||weight|| and v as the weight. Returns the module. As
    ``torch.nn.utils.parametrizations.weight_norm``.

    >>> import autograd_core as ag, nn
    >>> conv = nn.utils.parametrizations.weight_norm(nn.Conv2d(1, 4, 3))
    >>> conv.parametrizations.weight.original0.shape, conv.weight.shape
    ((4, 1, 1, 1), (4, 1, 3, 3))
    """
    w = getattr(module, name, None)
    if not isinstance(w, Tensor):
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter or buffer named {name!r}")
    if dim is not None and dim < -1:
        dim += w.ndim
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < max(ndim, 1):
            raise IndexError(f"spectral_norm: dim {dim} is out of range for a weight with {ndim} dims")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, got {n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._matrix(weight.detach())
            h, w = mat.shape
            self.register_buffer("_u", F.normalize(ag.randn(h, dtype=weight.dtype), dim=0, eps=eps))
            self.register_buffer("_v", F.normalize(ag.randn(w, dtype=weight.dtype), dim=0, eps=eps))
            self._power_method(mat, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, mat: Tensor, n: int) -> None:
        # in place and off the tape, as PyTorch's no_grad power method: u <- W v / |W v|, v <- Wᵀ u / |Wᵀ u|
        m = mat.detach()._data
        u, v = self._u, self._v
        for _ in range(n):
            un = m @ v._data
            u._data[...] = un / max(float((un * un).sum()) ** 0.5, self.eps)
            vn = m.T @ u._data
            v._data[...] = vn / max(float((vn * vn).sum()) ** 0.5, self.eps)
        u._version += 1
        v._version += 1

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = self._matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Parametrize ``module.<name>`` as ``weight / sigma``, sigma its largest singular value (as a matrix with
    ``dim`` first: default 0, 1 for ConvTranspose), estimated by power iteration (15 steps at
    registration, ``n_power_iterations`` per read in training mode). Returns the module. As
    ``torch.nn.utils.parametrizations.spectral_norm``.

    >>> import autograd_core as ag, nn
    >>> layer = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3))
    >>> round(float(ag.linalg.svdvals(layer.weight.detach())[0]), 3)
    1.0
    """
    w = getattr(module, name, None)
    if not isinstance(w, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter or buffer named {name!r}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    return register_parametrization(module, name, _SpectralNorm(w, n_power_iterations, dim, eps))


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of A = Q R with R's diagonal made positive (PyTorch's geqrf-based ``_make_orthogonal``)."""
    q, r = ag.linalg.qr(a)
    d = r._data.diagonal(axis1=-2, axis2=-1)
    return q * ag.tensor(np.where(d < 0, -1.0, 1.0).astype(q._data.dtype)[..., None, :])


def _is_orthogonal(q: Tensor) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * float(np.finfo(q._data.dtype).eps)
    return bool(np.allclose(np.swapaxes(q._data, -1, -2) @ q._data, np.eye(k), atol=eps))


class _Orthogonal(Module):
    def __init__(self, weight: Tensor, orthogonal_map: str, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x = x.mT
            n, k = k, n
        if self.orthogonal_map == "householder":
            # Householder vectors below the diagonal, tau = 2 / (1 + |v|²) (each H an exact reflection), and
            # each column's sign from the diagonal truncated to an integer (no gradient), as PyTorch's
            a = x.tril(-1)
            tau = 2.0 / (1.0 + (a * a).sum(dim=-2))
            q = ag.linalg.householder_product(a, tau)
            q = q * x.diagonal(0, -2, -1).trunc().unsqueeze(-2)
        else:
            x = x.tril()
            if n != k:
                x = ag.cat([x, ag.zeros(*x.shape[:-2], n, n - k, dtype=x.dtype)], dim=-1)
            a = x - x.mT                                     # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                q = ag.linalg.matrix_exp(a)
            else:                                            # cayley: (I - A/2)⁻¹ (I + A/2)
                eye = ag.eye(n, dtype=a.dtype)
                q = ag.linalg.solve(eye - 0.5 * a, eye + 0.5 * a)
            if n != k:
                q = q[..., :k]
        if getattr(self, "base", None) is not None:
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q: Tensor) -> Tensor:
        if tuple(q.shape) != self.shape:
            raise ValueError(f"orthogonal: expected a matrix of shape {self.shape}, got {tuple(q.shape)}")
        q_init = q
        n, k = q.shape[-2], q.shape[-1]
        transposed = n < k
        if transposed:
            q = q.mT
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError("orthogonal: with use_trivialization=False the matrix_exp and cayley maps "
                                          "can't be assigned to or registered on an existing weight; use "
                                          "use_trivialization=True")
            # the reflectors of q's QR; the diagonal holds the sign of each column (tau = 0: none to flip)
            a, tau = ag.geqrf(q)
            ad = a._data.copy()
            idx = np.arange(k)
            diag = np.sign(ad[..., idx, idx])
            diag = np.where(tau._data == 0.0, -diag, diag)
            ad[..., idx, idx] = diag
            out = ag.tensor(ad)
            return out.mT if transposed else out
        if n == k:
            q = q.clone() if _is_orthogonal(q) else _make_orthogonal(q)
        else:
            fill = ag.randn(*q.shape[:-2], n, n - k, dtype=q.dtype)
            q = _make_orthogonal(ag.cat([q, fill], dim=-1))
        self.base = q.detach()
        # -I: its strictly lower part is 0, so the map gives I at first and the weight is base
        neg_id = np.zeros(tuple(q_init.shape), q_init._data.dtype)
        idx = np.arange(min(neg_id.shape[-2:]))
        neg_id[..., idx, idx] = -1.0
        return ag.tensor(neg_id)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Parametrize ``module.<name>`` (a matrix, or a batch of them) as an orthogonal matrix (orthonormal
    columns, or rows when it is wide): ``base @ map(A)`` with A skew-symmetric from the lower triangle of
    ``parametrizations.<name>.original`` and ``map`` the matrix exponential (``orthogonal_map=
    'matrix_exp'``, the default for a square weight), the Cayley transform (``'cayley'``) or a product of
    Householder reflections (``'householder'``, the default for a non-square one); ``base`` (a buffer)
    starts as the orthogonalized weight. PyTorch's ``parametrizations.orthogonal``.

    >>> import autograd_core as ag, nn
    >>> layer = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3))
    >>> w = layer.weight.detach()
    >>> bool(ag.allclose(w @ w.T, ag.eye(3), atol=1e-5))
    True
    """
    w = getattr(module, name, None)
    if not isinstance(w, Tensor):
        raise ValueError(f"orthogonal: {type(module).__name__} has no parameter or buffer named {name!r}")
    if w.ndim < 2:
        raise ValueError(f"orthogonal: expected a matrix or a batch of matrices, got a tensor of {w.ndim} dims")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if w.shape[-2] == w.shape[-1] else "householder"
    if orthogonal_map not in ("matrix_exp", "cayley", "householder"):
        raise ValueError(f"orthogonal: orthogonal_map must be 'matrix_exp', 'cayley' or 'householder', got "
                         f"{orthogonal_map!r}")
    return register_parametrization(module, name, _Orthogonal(w, orthogonal_map, use_trivialization), unsafe=True)

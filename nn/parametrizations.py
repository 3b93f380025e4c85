"""``torch.nn.utils.parametrizations``: ``weight_norm`` and ``spectral_norm`` registered as
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


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """PyTorch's ``parametrizations.orthogonal``, which is not available here: an error that says so.

    >>> import nn
    >>> nn.utils.parametrizations.orthogonal(nn.Linear(2, 2))
    Traceback (most recent call last):
    ...
    NotImplementedError: parametrizations.orthogonal is not available here; register your own map with nn.utils.parametrize.register_parametrization (e.g. Q from ag.linalg.qr of the weight)
    """
    raise NotImplementedError("parametrizations.orthogonal is not available here; register your own map with "
                              "nn.utils.parametrize.register_parametrization (e.g. Q from ag.linalg.qr of the weight)")

"""Weight reparametrizations, as ``torch.nn.utils.weight_norm`` / ``spectral_norm`` and their ``remove_*``.

Each replaces a module's parameter (``weight``) by parameters it is computed from, in a forward pre-hook,
so the weight is a tensor expression of them and their gradients come from the tape:

* ``weight_norm``: ``weight = g * v / ||v||``, the norm over every dim but ``dim`` (parameters
  ``weight_g`` and ``weight_v``, PyTorch's names, so state dicts move between the libraries);
* ``spectral_norm``: ``weight = weight_orig / sigma``, sigma the largest singular value of
  ``weight_orig`` viewed as a matrix, estimated by power iteration on the buffers ``weight_u`` and
  ``weight_v`` (one more iteration per forward in training mode, none in eval mode).

    >>> import autograd_core as ag, nn
    >>> layer = nn.utils.weight_norm(nn.Linear(3, 2))
    >>> sorted(name for name, _ in layer.named_parameters())
    ['bias', 'weight_g', 'weight_v']
    >>> bool(ag.allclose(layer.weight, layer.weight_v))          # g starts as ||v||
    True
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

from .module import Module
from .parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of v over every dim but ``dim`` (kept as size-1 dims); of all of v for dim = -1."""
    if dim == -1:
        return (v * v).sum().sqrt()
    axes = tuple(i for i in range(v.ndim) if i != dim)
    return (v * v).sum(dim=axes, keepdim=True).sqrt() if axes else v.abs()


class _WeightNorm:
    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute(self, module: Module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def final(self, module: Module) -> Tensor:
        return self.compute(module)

    def __call__(self, module: Module, inputs: Any) -> None:
        object.__setattr__(module, self.name, self.compute(module))


def _remove(module: Module, name: str, kind: Any, params: tuple[str, ...], buffers: tuple[str, ...],
            who: str) -> Module:
    """Drop the ``kind`` hook of ``name`` and the parameters and buffers it made; ``name`` becomes a plain
    parameter holding the weight's current value."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            w = hook.final(module).detach()
            del module._forward_pre_hooks[key]
            for p in params:
                del module._parameters[name + p]
            for b in buffers:
                del module._buffers[name + b]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(w))
            return module
    raise ValueError(f"{who}: {who[len('remove_'):]} of {name!r} not found in {type(module).__name__}")


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (``dim=None``: one norm over the whole tensor);
    returns the module. As ``torch.nn.utils.weight_norm``.

    >>> import autograd_core as ag, nn
    >>> conv = nn.utils.weight_norm(nn.Conv2d(1, 4, 3), dim=0)
    >>> conv.weight_g.shape, conv.weight_v.shape
    ((4, 1, 1, 1), (4, 1, 3, 3))
    """
    w = module._parameters.get(name) if isinstance(module, Module) else None
    if w is None:
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    if any(isinstance(h, _WeightNorm) and h.name == name for h in module._forward_pre_hooks.values()):
        raise RuntimeError(f"weight_norm: {name!r} of {type(module).__name__} is already weight-normalized")
    dim = -1 if dim is None else (dim + w.ndim if dim < -1 else dim)
    fn = _WeightNorm(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(w.detach(), dim).detach()))
    module.register_parameter(name + "_v", Parameter(w.detach().clone()))
    fn(module, ())
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``weight_norm``: ``module.<name>`` becomes a plain parameter again, with the current value.

    >>> import nn
    >>> layer = nn.utils.remove_weight_norm(nn.utils.weight_norm(nn.Linear(2, 2)))
    >>> sorted(name for name, _ in layer.named_parameters())
    ['bias', 'weight']
    """
    return _remove(module, name, _WeightNorm, ("_g", "_v"), (), "remove_weight_norm")


def _normalize(a: np.ndarray, eps: float) -> np.ndarray:
    return a / max(float(np.sqrt((a * a).sum())), eps)


class _SpectralNorm:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, w: Tensor) -> Tensor:
        if self.dim != 0:
            w = w.permute(self.dim, *[d for d in range(w.ndim) if d != self.dim])
        return w.reshape(w.shape[0], -1)

    def compute(self, module: Module, power_iteration: bool) -> Tensor:
        w = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.matrix(w)
        if power_iteration and self.n > 0:
            m = mat._data
            un, vn = u._data, v._data
            for _ in range(self.n):
                vn[...] = _normalize(m.T @ un, self.eps)
                un[...] = _normalize(m @ vn, self.eps)
            u._version += 1
            v._version += 1
        uc, vc = ag.tensor(u._data.copy()), ag.tensor(v._data.copy())   # constants for this forward's tape
        sigma = (uc * (mat @ vc)).sum()
        return w / sigma

    def final(self, module: Module) -> Tensor:
        return self.compute(module, False)

    def __call__(self, module: Module, inputs: Any) -> None:
        object.__setattr__(module, self.name, self.compute(module, module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Reparametrize ``module.<name>`` as ``weight_orig / sigma`` (sigma: its largest singular value, by power
    iteration); ``dim`` is the output dim (default 0, 1 for ConvTranspose). As
    ``torch.nn.utils.spectral_norm``; returns the module.

    >>> import autograd_core as ag, nn
    >>> layer = nn.utils.spectral_norm(nn.Linear(4, 3))
    >>> for _ in range(50):
    ...     _ = layer(ag.ones(1, 4))
    >>> round(float(ag.linalg.svdvals(layer.weight.detach())[0]), 3)
    1.0
    """
    w = module._parameters.get(name) if isinstance(module, Module) else None
    if w is None:
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if n_power_iterations < 0:
        raise ValueError(f"spectral_norm: n_power_iterations must be >= 0, got {n_power_iterations}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    fn = _SpectralNorm(name, int(n_power_iterations), dim, float(eps))
    mat = fn.matrix(w.detach())._data
    h, wd = mat.shape
    u = _normalize(ag.randn(h, dtype=w.dtype)._data, fn.eps)
    v = _normalize(ag.randn(wd, dtype=w.dtype)._data, fn.eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", w)
    object.__setattr__(module, name, w.detach())
    module.register_buffer(name + "_u", ag.tensor(u))
    module.register_buffer(name + "_v", ag.tensor(v))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``module.<name>`` becomes a plain parameter with the current normalized value.

    >>> import nn
    >>> layer = nn.utils.remove_spectral_norm(nn.utils.spectral_norm(nn.Linear(2, 2)))
    >>> sorted(name for name, _ in layer.named_parameters())
    ['bias', 'weight']
    """
    return _remove(module, name, _SpectralNorm, ("_orig",), ("_u", "_v"), "remove_spectral_norm")

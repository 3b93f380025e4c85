"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_``, ``clip_grad_value_``, and the two
halves of the first, ``get_total_norm`` and ``clip_grads_with_norm_``; also the weight
reparametrizations ``weight_norm`` and ``spectral_norm`` (``nn/norm_reparam.py``).

The clipping functions change the ``.grad`` arrays in place and skip parameters whose ``.grad`` is None.
"""
from __future__ import annotations

import math
import numbers
import sys
import warnings
from typing import Iterable, Union

import numpy as np

import autograd_core as ag
from autograd_core import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_", "clip_grad_norm",
           "parameters_to_vector", "vector_to_parameters", "weight_norm", "remove_weight_norm", "spectral_norm",
           "remove_spectral_norm"]

_Tensors = Union[Tensor, Iterable[Tensor]]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _number(who, name, v):
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
        raise ValueError(f"{who}: {name} must be a real number, got {v!r}")
    return float(v)


def _vector_norm(x, p):
    """The p-norm of all elements of ``x`` (inf: max |x|, -inf: min |x|, 0: number of non-zeros)."""
    if x.size == 0:
        return x.dtype.type(0)
    return x.dtype.type(np.linalg.norm(x.reshape(-1), ord=p))


def _norm_type(who, v):
    try:
        return float(v)  # PyTorch also takes the string 'inf'
    except (TypeError, ValueError):
        raise ValueError(f"{who}: norm_type must be a real number or 'inf', got {v!r}") from None


def get_total_norm(tensors: _Tensors, norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The p-norm of the per-tensor p-norms of ``tensors`` (for p > 0 that is the p-norm of all their
    elements together), as a 0-d Tensor in their common dtype; 0.0 for no tensors. p = ``norm_type``
    (``inf`` or ``'inf'``: the largest absolute value). None entries are skipped.
    ``error_if_nonfinite``: RuntimeError if the result is NaN or infinite.

    >>> import autograd_core as ag, nn
    >>> grads = [ag.tensor([3.0]), ag.tensor([4.0])]
    >>> nn.utils.get_total_norm(grads), nn.utils.get_total_norm(grads, "inf")
    (tensor(5.), tensor(4.))
    """
    tensors = [t for t in _as_list(tensors) if t is not None]
    p = _norm_type("get_total_norm", norm_type)
    if not tensors:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    norms = np.array([_vector_norm(t._data, p) for t in tensors], dtype=dtype)
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"get_total_norm: the total norm of order {p} of the gradients is non-finite ({total}), "
                           "so it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway")
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grads_with_norm_(parameters: _Tensors, max_norm: float, total_norm: Tensor | float,
                          foreach: bool | None = None) -> None:
    """Scale every ``.grad`` by min(1, max_norm / (total_norm + 1e-6)), in place: the second half of
    ``clip_grad_norm_``, for a ``total_norm`` computed elsewhere (by ``get_total_norm``, say).

    >>> import autograd_core as ag, nn
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> w.grad = ag.tensor([3.0, 4.0])
    >>> nn.utils.clip_grads_with_norm_([w], max_norm=1.0, total_norm=ag.tensor(10.0))
    >>> w.grad
    tensor([0.3000, 0.4000])
    """
    max_norm = _number("clip_grads_with_norm_", "max_norm", max_norm)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = np.asarray(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    dt = total.dtype.type if total.dtype.kind == "f" else np.float64
    # computed in the norm's precision, like PyTorch, so the clipped gradients agree bit for bit
    coef = min(dt(max_norm) / (dt(total) + dt(1e-6)), dt(1.0))
    with np.errstate(invalid="ignore"):  # a non-finite norm gives NaN gradients, silently, as in PyTorch
        for g in grads:
            g._data *= coef
            g._version += 1


def clip_grad_norm_(parameters: _Tensors, max_norm: float, norm_type: float | str = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients of ``parameters`` (a tensor or an iterable of them, as
    ``model.parameters()``) so that their joint ``norm_type``-norm is at most ``max_norm``, in place:

        total = || (||g_1||_p, ..., ||g_n||_p) ||_p,   g_i <- g_i * min(1, max_norm / (total + 1e-6))

    Returns ``total`` (the norm before clipping) as a 0-d Tensor. ``error_if_nonfinite``: raise
    RuntimeError instead of scaling when the total is NaN or infinite.

    >>> import autograd_core as ag, nn
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> w.grad = ag.tensor([3.0, 4.0])
    >>> nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    parameters = _as_list(parameters)
    max_norm = _number("clip_grad_norm_", "max_norm", max_norm)
    norm_type = _norm_type("clip_grad_norm_", norm_type)
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters: _Tensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element of ``parameters`` to [-clip_value, clip_value], in place.

    >>> import autograd_core as ag, nn
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> w.grad = ag.tensor([3.0, -0.5])
    >>> nn.utils.clip_grad_value_([w], clip_value=1.0)
    >>> w.grad
    tensor([ 1.0000, -0.5000])
    """
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._version += 1


def clip_grad_norm(parameters: _Tensors, max_norm: float, norm_type: float | str = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """``clip_grad_norm_`` under its old name (deprecated in PyTorch, with a FutureWarning there too).

    >>> import warnings, autograd_core as ag, nn
    >>> w = ag.tensor([3.0, 4.0], requires_grad=True); w.grad = ag.tensor([3.0, 4.0])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     nn.utils.clip_grad_norm([w], 1.0)
    tensor(5.)
    """
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of `nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one 1-D tensor (on the tape, so it is differentiable).

    >>> import autograd_core as ag, nn
    >>> nn.utils.parameters_to_vector([ag.ones(2, 2), ag.zeros(1)])
    tensor([1., 1., 1., 1., 0.])
    """
    return ag.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' values, in place (as PyTorch, the
    parameters' data change; no gradient is recorded).

    >>> import autograd_core as ag, nn
    >>> lin = nn.Linear(2, 1)
    >>> nn.utils.vector_to_parameters(ag.tensor([1.0, 2.0, 3.0]), lin.parameters())
    >>> lin.weight.tolist(), lin.bias.tolist()
    ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got {type(vec).__name__}")
    offset = 0
    flat = vec._data
    for p in parameters:
        n = p._data.size
        p._data[...] = flat[offset:offset + n].reshape(p._data.shape)
        p._version += 1
        offset += n


# ``nn.utils.rnn`` (torch.nn.utils.rnn): the sequence packing helpers, importable by that name too
from . import rnn_utils as rnn  # noqa: E402

sys.modules.setdefault(f"{__name__}.rnn", rnn)

from .norm_reparam import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm  # noqa: E402

from . import stateless  # noqa: E402  (torch.nn.utils.stateless.functional_call)

sys.modules.setdefault(f"{__name__}.stateless", stateless)

from . import parametrize, parametrizations  # noqa: E402  (torch.nn.utils.parametrize / .parametrizations)

sys.modules.setdefault(f"{__name__}.parametrize", parametrize)
sys.modules.setdefault(f"{__name__}.parametrizations", parametrizations)

from . import prune  # noqa: E402  (torch.nn.utils.prune)

sys.modules.setdefault(f"{__name__}.prune", prune)

from . import fusion  # noqa: E402  (torch.nn.utils.fusion)
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights  # noqa: E402

sys.modules.setdefault(f"{__name__}.fusion", fusion)

# torch.nn.utils.clip_grad and .convert_parameters hold functions this module defines: the same module under
# those names, so `from torch.nn.utils.clip_grad import clip_grad_norm_` ports as it reads
clip_grad = convert_parameters = sys.modules[__name__]
sys.modules.setdefault(f"{__name__}.clip_grad", clip_grad)
sys.modules.setdefault(f"{__name__}.convert_parameters", convert_parameters)


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` whose parameters PyTorch leaves uninitialized (the caller fills them);
    here they get their usual initialization, which any values the caller writes replace. As in PyTorch, the
    module must take a ``device`` argument.

    >>> import nn
    >>> nn.utils.skip_init(nn.Linear, 5, 1).weight.shape
    (1, 5)
    """
    import inspect
    if not isinstance(module_cls, type) or "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)


__all__ += ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "skip_init",
            "fusion", "clip_grad", "convert_parameters"]

"""Normalization and dropout: batch_norm, layer_norm (fused ops with closed-form VJPs), dropout.

Both norms compute ``y = (x - mean) * invstd * w + b`` with ``invstd = 1 / sqrt(var + eps)``,
where mean and the biased var are taken over ``axes`` (batch_norm: all but the channel dim;
layer_norm: the trailing ``normalized_shape`` dims), or are fixed statistics (batch_norm in eval).
With ``xhat = (x - mean) * invstd`` and ``gh = g * w``, the VJP is the fused closed form

    dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat))      (batch statistics)
    dx = invstd * gh                                             (fixed statistics)
    dw = sum(g * xhat),  db = sum(g)                             (over the non-parameter dims)

written with operators, ``.mean`` and ``xp.rsqrt`` only, so on Tensors (``create_graph=True``) it
recomputes the statistics on the tape and grad of grad works. On raw arrays it reuses the mean
and invstd that the forward kept in a small ``ctx``.
"""
from __future__ import annotations

import numpy as np

from ..graph import mode
from ..tensor import Tensor, _gen
from .elementwise import mul
from .registry import defop, xp

__all__ = ["batch_norm", "layer_norm", "dropout"]


class _Ctx:
    """The forward's statistics (kept for the raw-array VJP and for the running-stat update)."""
    __slots__ = ("mean", "var", "invstd")

    def __init__(self):
        self.mean = self.var = self.invstd = None

    def __repr__(self):
        return "<norm ctx>"


def _normalize(x, *wb, axes, pshape, paxes, eps, has_weight, has_bias, stats=None, ctx=None):
    """(x - mean) * invstd * w + b, with batch statistics over ``axes`` or fixed ``stats=(mean, invstd)``."""
    if x.dtype.kind != "f":
        raise TypeError(f"normalization: expected a floating point input, got dtype {x.dtype}")
    if stats is None:
        mean = x.mean(axis=axes, keepdims=True)
        out = x - mean
        var = np.mean(out * out, axis=axes, keepdims=True)
        invstd = 1.0 / np.sqrt(var + eps)
        if ctx is not None:
            ctx.mean, ctx.var, ctx.invstd = mean, var, invstd
    else:
        mean, invstd = stats
        out = x - mean
    out *= invstd
    if has_weight:
        out *= wb[0].reshape(pshape)
    if has_bias:
        out += wb[-1].reshape(pshape)
    return out


def _normalize_vjp(g, ans, x, *wb, needs, axes, pshape, paxes, eps, has_weight, has_bias, stats=None, ctx=None):
    if stats is not None:
        mean, invstd = stats
    elif type(g) is np.ndarray and ctx is not None and ctx.invstd is not None:
        mean, invstd = ctx.mean, ctx.invstd
    else:
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        invstd = xp.rsqrt((xc * xc).mean(axis=axes, keepdims=True) + eps)
    xhat = (x - mean) * invstd
    gh = g * wb[0].reshape(pshape) if has_weight else g
    grads = [None] * len(needs)
    if needs[0]:
        if stats is None:
            grads[0] = invstd * (gh - gh.mean(axis=axes, keepdims=True)
                                 - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
        else:
            grads[0] = gh * invstd
    if has_weight and needs[1]:
        grads[1] = (g * xhat).sum(axis=paxes)
    if has_bias and needs[-1]:
        grads[-1] = g.sum(axis=paxes)
    return grads


_batch_norm_op = defop("batch_norm", _normalize, vjp=_normalize_vjp, uses=(0, 1))
_layer_norm_op = defop("layer_norm", _normalize, vjp=_normalize_vjp, uses=(0, 1))


def _as_tensor(t):
    return t if isinstance(t, Tensor) else Tensor(t)


def _param(t, shape, name, op):
    if t is None:
        return ()
    t = _as_tensor(t)
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{op}: {name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
    return (t,)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization over (N, C) or (N, C, *spatial), as ``torch.nn.functional.batch_norm``.

    Training: normalize with the batch mean and biased variance per channel, and (if given) update
    ``running_mean`` / ``running_var`` in place: ``r = (1 - momentum) r + momentum * stat`` with the
    unbiased variance. Eval: normalize with the running statistics. weight, bias: (C,) or None.
    """
    op = "batch_norm"
    x = _as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C) or (N, C, *spatial), got {tuple(x.shape)}")
    C = x.shape[1]
    wb = _param(weight, (C,), "weight", op) + _param(bias, (C,), "bias", op)
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if t is not None and (not isinstance(t, Tensor) or tuple(t.shape) != (C,)):
            raise ValueError(f"{op}: {name} must be a Tensor of shape ({C},) or None, got "
                             f"{tuple(t.shape) if hasattr(t, 'shape') else type(t).__name__}")
    axes = (0,) + tuple(range(2, x.ndim))
    pshape = (1, C) + (1,) * (x.ndim - 2)
    kw = dict(axes=axes, pshape=pshape, paxes=axes, eps=float(eps), has_weight=weight is not None,
              has_bias=bias is not None)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var must be given when training=False")
        mean = running_mean._data.astype(x.dtype).reshape(pshape)
        invstd = (1.0 / np.sqrt(running_var._data.astype(x.dtype) + x.dtype.type(eps))).reshape(pshape)
        return _batch_norm_op(x, *wb, stats=(mean, invstd), **kw)
    n = x._data.size // max(C, 1)
    if n <= 1:
        raise ValueError(f"{op}: expected more than 1 value per channel when training, got input shape "
                         f"{tuple(x.shape)}")
    ctx = _Ctx()
    out = _batch_norm_op(x, *wb, ctx=ctx, **kw)
    # The running statistics are buffers, not part of the graph: update their arrays in place.
    m = float(momentum)
    if running_mean is not None:
        rm = running_mean._data
        rm *= 1 - m
        rm += (m * ctx.mean.reshape(C)).astype(rm.dtype)
        running_mean._version += 1
    if running_var is not None:
        rv = running_var._data
        rv *= 1 - m
        rv += (m * n / (n - 1) * ctx.var.reshape(C)).astype(rv.dtype)
        running_var._version += 1
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the trailing ``normalized_shape`` dims, as ``torch.nn.functional.layer_norm``.

    x (..., *normalized_shape); weight, bias: normalized_shape or None. Biased variance.
    """
    op = "layer_norm"
    x = _as_tensor(x)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise ValueError(f"{op}: normalized_shape {ns} must match the trailing dims of the input shape "
                         f"{tuple(x.shape)}")
    wb = _param(weight, ns, "weight", op) + _param(bias, ns, "bias", op)
    axes = tuple(range(x.ndim - k, x.ndim))
    return _layer_norm_op(x, *wb, axes=axes, pshape=ns, paxes=tuple(range(x.ndim - k)), eps=float(eps),
                          has_weight=weight is not None, has_bias=bias is not None,
                          ctx=_Ctx() if mode.enabled else None)


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted dropout).

    Identity when not training or p == 0. ``generator``: an ``autograd_core.Generator`` (default: the
    global one seeded by ``manual_seed``).
    """
    x = _as_tensor(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating point input, got dtype {x.dtype}")
    if p == 1:
        return mul(x, np.zeros(x.shape, x.dtype))
    rng = _gen(generator)
    rdt = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
    keep = rng.random(x.shape, dtype=rdt) >= p
    scale = np.multiply(keep, 1.0 / (1.0 - p), dtype=x.dtype)
    return mul(x, scale)

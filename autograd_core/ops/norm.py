"""Normalization and dropout: batch_norm, layer_norm (fused ops with closed-form VJPs), dropout.

Both norms compute ``y = (x - mean) * invstd * w + b`` with ``invstd = 1 / sqrt(var + eps)``,
where mean and the biased var are taken over ``axes`` (batch_norm: all but the channel dim;
layer_norm: the trailing ``normalized_shape`` dims), or are fixed statistics (batch_norm in eval).
With ``xhat = (x - mean) * invstd`` and ``gh = g * w``, the VJP is the fused closed form

    dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat))      (batch statistics)
    dx = invstd * gh                                             (fixed statistics)
    dw = sum(g * xhat),  db = sum(g)                             (over the non-parameter dims)

written with operators, ``.mean`` and ``xp.rsqrt`` only, so on Tensors (``create_graph=True``) it
differentiates the statistics as ops of x (``norm_mean``, ``norm_invstd``), so grad of grad works. On
raw arrays those ops return the mean and invstd the forward kept (its residual), so nothing is recomputed.
On arrays the forwards of layer norm over the last axis and of batch norm over (N, C, *spatial) run
kernels (``kernels.rows``, ``kernels.channels``: a few passes per row or channel instead of numpy's
strided reductions and temporaries).
"""
from __future__ import annotations

import numpy as np

from ..errors import OpError
from ..tensor import Tensor, _gen
from .elementwise import mul
from .registry import defop, xp
from ..kernels import channels as _kch
from ..kernels import rows as _krows

__all__ = ["batch_norm", "layer_norm", "dropout"]


def _moments(x, axes):
    """(mean, biased var) over ``axes``, kept dims."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    return mean, np.mean(xc * xc, axis=axes, keepdims=True)


def _channel_axes(ndim):
    """Every axis of an (N, C, *spatial) array but the channel one: batch_norm's."""
    return (0,) + tuple(range(2, ndim))


def _normalize(x, *wb, axes, pshape, paxes, eps, has_weight, has_bias, stats=None, batch=None):
    """((x - mean) * invstd * w + b, (mean, invstd)): batch statistics over ``axes`` (``batch=(mean, invstd)``
    when the caller computed them already), or fixed ``stats=(mean, invstd)`` (residual None)."""
    if x.dtype.kind != "f":
        raise TypeError(f"normalization: expected a floating point input, got dtype {x.dtype}")
    if stats is None and batch is None and axes == (x.ndim - 1,) and tuple(pshape) == x.shape[-1:]:
        # layer_norm over the last axis: one pass per row (kernels.rows), where the kernel serves
        r = _krows.layer_norm(x, wb[0] if has_weight else None, wb[-1] if has_bias else None, eps)
        if r is not None:
            return r[0], (r[1], r[2], r[3])
    if (stats is not None or batch is not None) and x.ndim > 2 and axes == _channel_axes(x.ndim):
        # batch_norm over (N, C, *spatial): one kernel per channel (kernels.channels), where it serves
        mean, invstd = stats if stats is not None else batch
        r = _kch.normalize(x, mean, invstd, wb[0] if has_weight else None, wb[-1] if has_bias else None,
                           keep_xhat=stats is None)
        if r is not None:
            return r[0], (None if stats is not None else (mean, invstd, r[1]))
    if stats is not None:
        mean, invstd = stats
    else:
        if batch is None:
            mean, var = _moments(x, axes)
            invstd = 1.0 / np.sqrt(var + eps)
        else:
            mean, invstd = batch
    xhat = x - mean
    xhat *= invstd
    if stats is not None:
        res = None
    else:
        res = (mean, invstd, xhat)   # xhat: the rules' input, cheaper to keep than to recompute
    if not (has_weight or has_bias):
        return xhat.copy(), res      # a copy: an in-place change of the output must not reach the rules
    out = xhat * wb[0].reshape(pshape) if has_weight else xhat + wb[-1].reshape(pshape)
    if has_weight and has_bias:
        out += wb[-1].reshape(pshape)
    return out, res


def _normalize_vjp(g, ans, x, *wb, needs, res, axes, pshape, paxes, eps, has_weight, has_bias, stats=None,
                   batch=None):
    if stats is not None:
        mean, invstd = stats
    else:
        # The forward's statistics, as ops of x: on arrays they return the saved values, on Tensors
        # (grad of grad) they are differentiated as the mean and 1/sqrt(var + eps) of x.
        mean = xp.norm_mean(x, axes=axes, saved=res[0])
        invstd = xp.norm_invstd(x, axes=axes, eps=eps, saved=res[1])
    xhat = xp.norm_xhat(x, mean, invstd, saved=None if stats is not None else res[2])
    w = (wb[0].reshape(pshape),) if has_weight else ()
    grads = [None] * len(needs)
    if needs[0]:
        if stats is None:
            grads[0] = xp.norm_input_grad(g, xhat, invstd, *w, axes=axes)
        else:
            grads[0] = (g * w[0] if w else g) * invstd
    if (has_weight and needs[1]) or (has_bias and needs[-1]):
        dwb = xp.norm_param_grads(g, xhat, axes=paxes)      # (2, *param shape): sum(g xhat), sum(g)
        if has_weight and needs[1]:
            grads[1] = dwb[0]
        if has_bias and needs[-1]:
            grads[-1] = dwb[1]
    return grads


def _count(x, axes):
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def _norm_mean(x, *, axes, saved=None):
    """mean(x) over ``axes`` (kept dims); ``saved``: the same value, computed by the forward."""
    return saved if saved is not None else x.mean(axis=axes, keepdims=True)


def _norm_invstd(x, *, axes, eps, saved=None):
    """1 / sqrt(var(x) + eps) over ``axes`` (biased var, kept dims); ``saved``: the same value."""
    if saved is not None:
        return saved
    return 1.0 / np.sqrt(_moments(x, axes)[1] + eps)


xp_norm_mean = defop("norm_mean", _norm_mean,
                     (lambda g, ans, x, axes, saved=None: xp.broadcast_to(g, x.shape) * (1.0 / _count(x, axes)),),
                     uses=())
xp_norm_invstd = defop(
    "norm_invstd", _norm_invstd,
    # d/dx (var + eps)^(-1/2) = -invstd^3 (x - mean) / n
    (lambda g, ans, x, axes, eps, saved=None:
     g * (ans * ans * ans) * (xp.norm_mean(x, axes=axes) - x) * (1.0 / _count(x, axes)),),
    uses_ans=True)


def _norm_xhat(x, mean, invstd, *, saved=None):
    """(x - mean) invstd, mean and invstd with kept dims; ``saved``: the same value, computed by the forward."""
    return saved if saved is not None else (x - mean) * invstd


xp_norm_xhat = defop("norm_xhat", _norm_xhat,
                     (lambda g, ans, x, mean, invstd, saved=None: g * invstd,
                      lambda g, ans, x, mean, invstd, saved=None: -(g * invstd),
                      lambda g, ans, x, mean, invstd, saved=None: g * (x - mean)),
                     reads=((2,), (2,), (0, 1)))


def _norm_input_grad(g, xhat, invstd, w=None, *, axes):
    """A normalization's input gradient: ``invstd (gh - mean(gh) - xhat mean(gh xhat))`` with gh = g w (g
    without ``w``), the means over ``axes`` (kept dims); xhat = (x - mean) invstd, invstd with kept dims,
    w broadcasting against g."""
    if axes == (g.ndim - 1,) and (w is None or w.ndim == 1):
        out = _krows.norm_input_grad(g, xhat, invstd, w)   # one pass per row, None where it does not serve
        if out is not None:
            return out
    if g.ndim > 2 and axes == _channel_axes(g.ndim):
        out = _kch.input_grad(g, xhat, invstd, w)           # per channel, None where it does not serve
        if out is not None:
            return out
    gh = g * w if w is not None else g
    return invstd * (gh - gh.mean(axis=axes, keepdims=True) - xhat * (gh * xhat).mean(axis=axes, keepdims=True))


def _norm_input_grad_vjp(G, ans, g, xhat, invstd, w=None, *, needs, axes):
    # The map gh -> out is linear and self-adjoint (the means are, and invstd is constant along axes), so
    # with A = norm_input_grad(., xhat, invstd): d/dg = w A(G), d/dw = g A(G) (the engine sums it down to
    # w's shape); xhat and invstd enter as in the formula above, with gh = g w.
    gh = g * w if w is not None else g
    a = xp.norm_input_grad(G, xhat, invstd, axes=axes) if needs[0] or (w is not None and needs[3]) else None
    grads = [None] * len(needs)
    if needs[0]:
        grads[0] = a * w if w is not None else a
    if needs[1]:
        b = G * invstd
        grads[1] = -(b * (gh * xhat).mean(axis=axes, keepdims=True) + gh * (b * xhat).mean(axis=axes, keepdims=True))
    if needs[2]:
        grads[2] = (G * (gh - gh.mean(axis=axes, keepdims=True)
                         - xhat * (gh * xhat).mean(axis=axes, keepdims=True))).sum(axis=axes, keepdims=True)
    if w is not None and needs[3]:
        grads[3] = g * a
    return grads


xp_norm_input_grad = defop("norm_input_grad", _norm_input_grad, vjp=_norm_input_grad_vjp)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _norm_param_grads(g, xhat, *, axes):
    """A normalization's weight and bias gradients stacked: (2, *g's shape without ``axes``) holding
    sum(g xhat) and sum(g) over ``axes``; one pass over g and xhat where the kernel serves (``axes`` the
    leading ones)."""
    if axes == tuple(range(len(axes))):
        out = _krows.norm_param_grads(g, xhat, len(axes))
        if out is not None:
            return out
    if g.ndim > 2 and axes == _channel_axes(g.ndim):
        out = _kch.param_grads(g, xhat)
        if out is not None:
            return out
    return np.stack([(g * xhat).sum(axis=axes), g.sum(axis=axes)])


def _norm_param_grads_g(G, ans, g, xhat, *, axes):
    kept = _kept_shape(g.shape, axes)
    return G[0].reshape(kept) * xhat + G[1].reshape(kept)


def _norm_param_grads_xhat(G, ans, g, xhat, *, axes):
    return G[0].reshape(_kept_shape(g.shape, axes)) * g


xp_norm_param_grads = defop("norm_param_grads", _norm_param_grads, (_norm_param_grads_g, _norm_param_grads_xhat),
                            reads=((1,), (0,)))

_batch_norm_op = defop("batch_norm", _normalize, vjp=_normalize_vjp, uses=(0, 1), residuals=True)
_layer_norm_op = defop("layer_norm", _normalize, vjp=_normalize_vjp, uses=(0, 1), residuals=True)


def _as_tensor(t):
    return t if isinstance(t, Tensor) else Tensor(t)


def _param(t, shape, name, op):
    if t is None:
        return ()
    t = _as_tensor(t)
    if tuple(t.shape) != tuple(shape):
        raise OpError(f"{op}: {name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
    return (t,)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization over (N, C) or (N, C, *spatial), as ``torch.nn.functional.batch_norm``.

    Training: normalize with the batch mean and biased variance per channel, and (if given) update
    ``running_mean`` / ``running_var`` in place: ``r = (1 - momentum) r + momentum * stat`` with the
    unbiased variance. Eval: normalize with the running statistics. weight, bias: (C,) or None.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> rm, rv = ag.zeros(2), ag.ones(2)
    >>> ag.batch_norm(x, rm, rv, training=True)
    tensor([[-1.0000, -1.0000],
            [ 1.0000,  1.0000]])
    >>> rm
    tensor([0.2000, 2.0000])
    """
    op = "batch_norm"
    x = _as_tensor(x)
    if x.ndim < 2:
        raise OpError(f"{op}: expected an input of shape (N, C) or (N, C, *spatial), got {tuple(x.shape)}")
    C = x.shape[1]
    wb = _param(weight, (C,), "weight", op) + _param(bias, (C,), "bias", op)
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if t is not None and (not isinstance(t, Tensor) or tuple(t.shape) != (C,)):
            raise OpError(f"{op}: {name} must be a Tensor of shape ({C},) or None, got "
                             f"{tuple(t.shape) if hasattr(t, 'shape') else type(t).__name__}")
    axes = (0,) + tuple(range(2, x.ndim))
    pshape = (1, C) + (1,) * (x.ndim - 2)
    kw = dict(axes=axes, pshape=pshape, paxes=axes, eps=float(eps), has_weight=weight is not None,
              has_bias=bias is not None)
    if not training:
        if running_mean is None or running_var is None:
            raise OpError(f"{op}: running_mean and running_var must be given when training=False")
        mean = running_mean._data.astype(x.dtype).reshape(pshape)
        invstd = (1.0 / np.sqrt(running_var._data.astype(x.dtype) + x.dtype.type(eps))).reshape(pshape)
        return _batch_norm_op(x, *wb, stats=(mean, invstd), **kw)
    n = x._data.size // max(C, 1)
    if n <= 1:
        raise OpError(f"{op}: expected more than 1 value per channel when training, got input shape "
                         f"{tuple(x.shape)}")
    mv = _kch.moments(x._data)
    mean, var = mv if mv is not None else _moments(x._data, axes)
    out = _batch_norm_op(x, *wb, batch=(mean, 1.0 / np.sqrt(var + x.dtype.type(eps))), **kw)
    # The running statistics are buffers, not part of the graph: update their arrays in place.
    m = float(momentum)
    if running_mean is not None:
        rm = running_mean._data
        rm *= 1 - m
        rm += (m * mean.reshape(C)).astype(rm.dtype)
        running_mean._version += 1
    if running_var is not None:
        rv = running_var._data
        rv *= 1 - m
        rv += (m * n / (n - 1) * var.reshape(C)).astype(rv.dtype)
        running_var._version += 1
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the trailing ``normalized_shape`` dims, as ``torch.nn.functional.layer_norm``.

    x (..., *normalized_shape); weight, bias: normalized_shape or None. Biased variance.

    >>> import autograd_core as ag
    >>> ag.layer_norm(ag.tensor([[1.0, 2.0, 3.0]]), (3,))
    tensor([[-1.2247,  0.0000,  1.2247]])
    """
    op = "layer_norm"
    x = _as_tensor(x)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise OpError(f"{op}: normalized_shape {ns} must match the trailing dims of the input shape "
                         f"{tuple(x.shape)}")
    wb = _param(weight, ns, "weight", op) + _param(bias, ns, "bias", op)
    axes = tuple(range(x.ndim - k, x.ndim))
    return _layer_norm_op(x, *wb, axes=axes, pshape=ns, paxes=tuple(range(x.ndim - k)), eps=float(eps),
                          has_weight=weight is not None, has_bias=bias is not None)


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted dropout).

    Identity when not training or p == 0. ``generator``: an ``autograd_core.Generator`` (default: the
    global one seeded by ``manual_seed``).

    >>> import autograd_core as ag
    >>> y = ag.dropout(ag.ones(8), p=0.5, generator=ag.Generator(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> ag.dropout(ag.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    x = _as_tensor(x)
    if not 0.0 <= p <= 1.0:
        raise OpError(f"dropout: probability has to be between 0 and 1, but got {p}")
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

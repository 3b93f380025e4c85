"""Fused losses: softmax cross-entropy of (N, C) logits at integer class indices, as one op.

``nn.functional.cross_entropy`` written with ops (log_softmax, gather, neg, sum, a scale) spent most of
a small classifier's loss time on the ops' dispatch (79 against PyTorch's 26 us for a (128, 10) batch);
this op does the same math in one forward and one rule:

    loss_n = logsumexp(x_n) - x_n[t_n]  (then summed, averaged or kept)
    d/dx = (softmax(x) - onehot(t)) * g  (g broadcast along the classes; / N for the mean)

The rule is one op, ``cross_entropy_grad(x, g)``, whose forward computes that in place on one softmax and
whose own rules are written with the softmax ops, so second derivatives work as for any op.
"""
from __future__ import annotations

import numpy as np

from ..kernels import rows as _krows
from .registry import defop, xp

__all__ = ["cross_entropy_rows", "cross_entropy_grad", "bce", "bce_with_logits"]


def _cross_entropy_rows(x, *, target, reduction):
    """Per-row (or summed / averaged) softmax cross-entropy of logits x (N, C) at class indices ``target``
    (N,) (every one in range: the caller checks)."""
    logp = _krows.log_softmax(x)
    if logp is None:
        s = x - x.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    picked = logp[np.arange(x.shape[0]), target]
    if reduction == "none":
        return -picked
    total = -picked.sum()
    return np.asarray(total / x.shape[0] if reduction == "mean" else total, dtype=x.dtype)


def _scale(g, n, reduction):
    """The cotangent g of the loss as a factor of each row's gradient: (N, 1) for 'none', else a scalar."""
    return g.reshape(n, 1) if reduction == "none" else (g * (1.0 / n) if reduction == "mean" else g)


def _cross_entropy_grad(x, g, *, target, reduction):
    """The loss's gradient in x: (softmax(x) - onehot(target)) times g (per row for 'none', / N for the
    mean). In place on one softmax: no one-hot, no temporaries."""
    d = xp.softmax(x, axis=-1)
    d[np.arange(x.shape[0]), target] -= 1
    d *= _scale(g, x.shape[0], reduction)
    return d


def _cross_entropy_grad_g(G, ans, x, g, *, target, reduction):
    # linear in g: the sum of G (softmax(x) - onehot) over the classes, then over the rows unless 'none'
    n = x.shape[0]
    onehot = np.zeros(x.shape, x.dtype)
    onehot[np.arange(n), target] = 1
    per_row = (G * (xp.softmax(x, axis=-1) - onehot)).sum(axis=1)
    if reduction == "none":
        return per_row
    return per_row.sum() * (1.0 / n) if reduction == "mean" else per_row.sum()


# d/dx: softmax's Jacobian (symmetric) applied to G times the scale; d/dg as above
_cross_entropy_grad_op = defop(
    "cross_entropy_grad", _cross_entropy_grad,
    (lambda G, ans, x, g, *, target, reduction:
     xp.softmax_grad(G * _scale(g, x.shape[0], reduction), xp.softmax(x, axis=-1)),
     _cross_entropy_grad_g),
    reads=((0, 1), (0,)), hidden=("target",))


_cross_entropy_rows_op = defop("cross_entropy", _cross_entropy_rows,
                               (lambda g, ans, x, *, target, reduction:
                                xp.cross_entropy_grad(x, g, target=target, reduction=reduction),),
                               uses=(0,), hidden=("target",))


def cross_entropy_grad(x, g, target, reduction="mean"):
    """The gradient of ``cross_entropy_rows(x, target, reduction)`` in x for the loss's cotangent ``g`` (a
    scalar, or (N,) for 'none'): (softmax(x) - onehot(target)) * g (/ N for 'mean'); same shape as x.

    >>> import autograd_core as ag
    >>> from autograd_core.ops.losses import cross_entropy_grad
    >>> cross_entropy_grad(ag.tensor([[0.0, 0.0]]), ag.tensor(1.0), ag.tensor([1])._data)
    tensor([[ 0.5000, -0.5000]])
    """
    return _cross_entropy_grad_op(x, g, target=target, reduction=reduction)


def cross_entropy_rows(x, target, reduction="mean"):
    """Softmax cross-entropy of logits ``x`` (N, C) at integer class indices ``target`` (N,), every index in
    0..C-1 (unchecked: ``nn.functional.cross_entropy`` checks and handles the other cases), reduced with
    ``reduction`` ('mean', 'sum' or 'none'). One taped op.

    >>> import autograd_core as ag
    >>> from autograd_core.ops.losses import cross_entropy_rows
    >>> x = ag.tensor([[2.0, 0.0, 0.0], [1.0, 1.0, 1.0]], requires_grad=True)
    >>> loss = cross_entropy_rows(x, ag.tensor([0, 2])._data)
    >>> loss
    tensor(0.6691, grad_fn=<CrossEntropyBackward>)
    >>> loss.backward()
    >>> x.grad
    tensor([[-0.1065,  0.0533,  0.0533],
            [ 0.1667,  0.1667, -0.3333]])
    """
    return _cross_entropy_rows_op(x, target=target, reduction=reduction)


def _bce_with_logits(x, y, pw):
    with np.errstate(over="ignore", invalid="ignore"):
        sp_neg = np.logaddexp(0.0, -x)     # softplus(-x) = -log sigmoid(x), exact for any x
        sp_pos = np.logaddexp(0.0, x)
        return (y * sp_neg * pw + (1 - y) * sp_pos).astype(np.result_type(x, y, pw), copy=False)


# PyTorch's rules, each one expression, so that a weight of inf applied to the loss meets one factor
# (sigmoid(x) - y) rather than two terms that cancel (inf - inf):
#   d/dx = (pw y + 1 - y) sigmoid(x) - pw y,  d/dy = pw softplus(-x) - softplus(x),  d/dpw = y softplus(-x)
_bce_with_logits_op = defop(
    "binary_cross_entropy_with_logits", _bce_with_logits,
    (lambda g, ans, x, y, pw: g * ((pw * y + 1 - y) * xp.sigmoid(x) - pw * y),
     lambda g, ans, x, y, pw: g * (pw * xp.softplus(-x, threshold=np.inf) - xp.softplus(x, threshold=np.inf)),
     lambda g, ans, x, y, pw: g * y * xp.softplus(-x, threshold=np.inf)),
    reads=((0, 1, 2), (0, 2), (0, 1)), nargs=3)


def _bce(p, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (y - 1) * np.maximum(np.log1p(-p), -100.0) - y * np.maximum(np.log(p), -100.0)
    return out.astype(np.result_type(p, y), copy=False)


def _bce_eps(p):
    # PyTorch's EPSILON is a float constant: 1e-12 rounded to float32, in float64 too
    return np.asarray(np.float32(1e-12), p.dtype if isinstance(p, np.ndarray) else p._data.dtype)


# PyTorch's rules: d/dp = (p - y) / max(p (1 - p), 1e-12) (finite at p = 0 or 1, where the clamped logs
# are flat), d/dy = -logit(p) = log(1 - p) - log(p) (unclamped)
_bce_op = defop(
    "binary_cross_entropy", _bce,
    (lambda g, ans, p, y: g * (p - y) / xp.maximum((1 - p) * p, _bce_eps(p)),
     lambda g, ans, p, y: g * (xp.log1p(-p) - xp.log(p))),
    reads=((0, 1), (0,)), nargs=2)


def bce(p, y):
    """Elementwise -[y max(log p, -100) + (1 - y) max(log(1 - p), -100)] of probabilities ``p`` and targets
    ``y`` (broadcast together), with PyTorch's gradients: d/dp = (p - y) / max(p (1 - p), 1e-12) and
    d/dy = log(1 - p) - log(p).

    >>> import autograd_core as ag
    >>> from autograd_core.ops.losses import bce
    >>> bce(ag.tensor([0.5, 0.9]), ag.tensor([1.0, 0.0]))
    tensor([0.6931, 2.3026])
    """
    return _bce_op(p, y)


def bce_with_logits(x, y, pos_weight=1.0):
    """Elementwise -[pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = pw y softplus(-x) + (1 - y) softplus(x)
    of logits ``x``, targets ``y`` and ``pos_weight`` pw (broadcast together), with PyTorch's gradient
    d/dx = (pw y + 1 - y) sigmoid(x) - pw y.

    >>> import autograd_core as ag
    >>> from autograd_core.ops.losses import bce_with_logits
    >>> bce_with_logits(ag.tensor([0.0, 2.0]), ag.tensor([1.0, 0.0]))
    tensor([0.6931, 2.1269])
    """
    return _bce_with_logits_op(x, y, pos_weight)

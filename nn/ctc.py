"""The connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss`` (the module
``CTCLoss`` is in ``nn/loss.py``).

The loss of a sequence is -log p(target | input), summed over every alignment by the forward
(alpha) recursion of Graves et al. (2006) in log space, written with taped ops: its gradient is the
derivative of that recursion, -posterior(t, c) with respect to ``log_probs[t, c]``. (PyTorch's
kernel returns exp(log_probs) - posterior, the gradient with respect to the logits when
``log_probs = log_softmax(logits)``; through a ``log_softmax`` the two are the same.) A target that no
alignment fits (too few frames) gives an infinite loss with a zero gradient (PyTorch's: NaN), or 0
and 0 with ``zero_infinity``.

    >>> import autograd_core as ag, nn.functional as F
    >>> lp = ag.log_softmax(ag.zeros(3, 1, 2), dim=-1)            # T = 3, N = 1, C = 2 (blank = 0)
    >>> round(F.ctc_loss(lp, ag.tensor([[1]]), [3], [1], reduction="sum").item(), 4)   # 6 paths of 8
    0.2877
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

__all__ = ["ctc_loss"]

_NEG = -np.inf


def _lengths(v: Any, n: int, what: str) -> np.ndarray:
    a = np.asarray(v._data if isinstance(v, Tensor) else v).reshape(-1)
    if a.size != n or (a.size and a.dtype.kind not in "iu"):
        raise ValueError(f"ctc_loss: {what} must hold {n} integer lengths (one per batch item), got {a.tolist()}")
    return a.astype(np.int64)


def _lse(parts: list[Tensor]) -> Tensor:
    """log(sum(exp(parts))) elementwise, -inf (with no gradient) where every part is -inf."""
    stacked = ag.stack(parts, 0)
    m = stacked._data.max(0)
    finite = np.isfinite(m)
    shift = ag.tensor(np.where(finite, m, 0.0).astype(stacked._data.dtype))
    total = (stacked - shift).exp().sum(0)
    safe = ag.where(ag.tensor(finite), total, ag.ones((), dtype=total.dtype))
    return ag.where(ag.tensor(finite), safe.log() + shift, ag.full((), _NEG, dtype=total.dtype))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss: ``log_probs`` (T, N, C) (or (T, C) unbatched) log-probabilities of C classes (``blank``
    among them), ``targets`` (N, S) padded or 1-D concatenated (sum of ``target_lengths``), class
    indices other than ``blank``; ``input_lengths`` and ``target_lengths`` (N,). ``reduction``: 'mean'
    (each loss divided by its target length, then the batch mean), 'sum' or 'none' (N,).
    ``zero_infinity``: an impossible alignment's infinite loss (and its gradient) becomes 0. PyTorch:
    ``torch.nn.functional.ctc_loss`` (see the module docstring for the gradient).

    >>> import autograd_core as ag, nn.functional as F
    >>> lp = ag.log_softmax(ag.randn(5, 2, 4), dim=-1)
    >>> F.ctc_loss(lp, ag.tensor([[1, 2], [3, 3]]), [5, 4], [2, 2], reduction="none").shape
    (2,)
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ctc_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    lp = log_probs if isinstance(log_probs, Tensor) else ag.tensor(log_probs)
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp.unsqueeze(1)
    if lp.ndim != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape {tuple(lp.shape)}")
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise ValueError(f"ctc_loss: blank {blank} is not a class index (C = {C})")
    in_len = _lengths(input_lengths, N, "input_lengths")
    tg_len = _lengths(target_lengths, N, "target_lengths")
    if (in_len > T).any() or (in_len < 0).any():
        raise ValueError(f"ctc_loss: input_lengths {in_len.tolist()} must lie in [0, T = {T}]")
    tg = np.asarray(targets._data if isinstance(targets, Tensor) else targets)
    if unbatched and tg.ndim == 1 and tg.size == tg_len.sum():
        tg = tg.reshape(1, -1)
    if tg.ndim == 2:
        if tg.shape[0] != N or (tg_len > tg.shape[1]).any():
            raise ValueError(f"ctc_loss: padded targets {tg.shape} don't fit batch {N} and target_lengths "
                             f"{tg_len.tolist()}")
        rows = [tg[n, :tg_len[n]] for n in range(N)]
    elif tg.ndim == 1:
        if tg.size != tg_len.sum():
            raise ValueError(f"ctc_loss: concatenated targets have {tg.size} entries, target_lengths sum to "
                             f"{int(tg_len.sum())}")
        rows = np.split(tg, np.cumsum(tg_len)[:-1])
    else:
        raise ValueError(f"ctc_loss: targets must be 2-D (N, S) or 1-D (concatenated), got shape {tg.shape}")
    if any(((r < 0) | (r >= C) | (r == blank)).any() for r in rows):
        raise ValueError(f"ctc_loss: targets must be class indices in [0, {C}) other than blank ({blank})")
    L = int(tg_len.max()) if N else 0
    S = 2 * L + 1
    ext = np.full((N, S), blank, np.int64)             # blank, l1, blank, l2, ..., blank
    for n, r in enumerate(rows):
        ext[n, 1:2 * len(r):2] = r
    valid = np.arange(S)[None, :] < (2 * tg_len + 1)[:, None]
    skip = np.zeros((N, S), bool)                       # s - 2 -> s allowed: a label unlike the one before
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    dt = lp._data.dtype
    neg = ag.full((N, S), _NEG, dtype=dt)
    gather_idx = ag.tensor(ext)

    def emit(t):
        return ag.where(ag.tensor(valid), lp[t].gather(1, gather_idx), neg)
    start = np.zeros((N, S), bool)
    start[:, 0] = True
    if S > 1:
        start[:, 1] = tg_len > 0
    alpha = ag.where(ag.tensor(start & valid), emit(0), neg) if T else neg
    pad1 = ag.full((N, 1), _NEG, dtype=dt)
    pad2 = ag.full((N, 2), _NEG, dtype=dt)
    for t in range(1, T):
        prev1 = ag.cat([pad1, alpha], 1)[:, :S]                # alpha(s - 1)
        prev2 = ag.where(ag.tensor(skip), ag.cat([pad2, alpha], 1)[:, :S], neg)   # alpha(s - 2), where allowed
        new = _lse([alpha, prev1, prev2]) + emit(t)
        alpha = ag.where(ag.tensor((t < in_len)[:, None]), new, alpha)
    last = ag.tensor((2 * tg_len)[:, None])
    end = alpha.gather(1, last)
    end2 = ag.where(ag.tensor((tg_len > 0)[:, None]), alpha.gather(1, ag.tensor(np.maximum(2 * tg_len - 1, 0)[:, None])),
                    ag.full((N, 1), _NEG, dtype=dt))
    loss = -_lse([end, end2]).reshape(N)
    if (in_len == 0).any():                             # no frames: only an empty target has an alignment
        loss = ag.where(ag.tensor(in_len == 0), ag.tensor(np.where(tg_len == 0, 0.0, np.inf).astype(dt)), loss)
    if zero_infinity:
        loss = ag.where(ag.tensor(np.isinf(loss._data)), ag.zeros((), dtype=dt), loss)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    return (loss / ag.tensor(np.maximum(tg_len, 1).astype(dt))).mean()

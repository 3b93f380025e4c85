"""SparseAdam, as ``torch.optim.SparseAdam``: Adam that moves only the rows a step's gradient touches."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _adam_moments, _betas, _nonneg

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Adam for embedding tables (``torch.optim.SparseAdam``, same arguments and defaults): each step
    updates the moments and the parameter only on the rows that the gradient touches, so a row that no
    sample looked up keeps its moments and values (dense Adam would decay them and keep moving it):

        for the touched rows R:  m_R <- b1 m_R + (1 - b1) g_R,   v_R <- b2 v_R + (1 - b2) g_R²
                                 p_R <- p_R - lr sqrt(1 - b2^t) / (1 - b1^t) * m_R / (sqrt(v_R) + eps)

    Gradients are stored dense here (``Embedding(sparse=True)`` gives a dense one): a row counts as
    touched when its gradient has a nonzero entry (along the first dim; every entry of a 1-D
    parameter is its own row). PyTorch's sparse gradient also lists rows that were looked up with a
    gradient of exactly zero; those move in PyTorch and not here.

    >>> emb = nn.Embedding(4, 2)
    >>> opt = optim.SparseAdam(emb.parameters(), lr=0.1)
    >>> before = emb.weight.detach().clone()
    >>> emb(ag.tensor([1, 1, 3])).sum().backward(); opt.step()
    >>> (emb.weight.detach() != before).any(1).tolist()
    [False, True, False, True]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        if not 0.0 < lr:
            raise ValueError(f"SparseAdam: invalid learning rate {lr!r}: must be > 0")
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                                      maximize=maximize))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "eps")
        _betas(self._name, group)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, betas: Tuple[float, float], eps: float,
                maximize: bool) -> None:
        t, m, v = _adam_moments(state, p)
        if maximize:
            g = -g
        rows = np.any(g != 0, axis=tuple(range(1, g.ndim))) if g.ndim >= 2 else (g != 0)
        if not rows.any():
            return
        b1, b2 = betas
        gr = g[rows]
        m[rows] += (gr - m[rows]) * (1 - b1)
        v[rows] += (gr * gr - v[rows]) * (1 - b2)
        denom = np.sqrt(v[rows]) + eps
        step_size = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p[rows] -= (step_size * m[rows] / denom).astype(p.dtype, copy=False)

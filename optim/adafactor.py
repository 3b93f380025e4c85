"""Adafactor (Shazeer & Stern, 2018), as ``torch.optim.Adafactor``."""
from __future__ import annotations

import math
from typing import Any, Dict, Tuple

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _nonneg

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    r"""Adafactor: Adam-like steps from a factored second moment (a row and a column average for each
    matrix, so the state is O(m + n) instead of O(m n)), a relative step size and update clipping
    (``torch.optim.Adafactor``, same arguments and defaults). With g the gradient (negated if
    ``maximize``), step t does

        beta2_t = 1 - t ** beta2_decay,   rho = min(lr, 1 / sqrt(t)),   alpha = max(eps2, rms(p)) * rho
        p <- p (1 - lr * weight_decay)
        matrices (the last two dims):  R <- lerp(R, mean_j g², 1 - beta2_t), C <- lerp(C, mean_i g², 1 - beta2_t)
                                       v = R C / mean(R)      (mean(R) clamped to at least eps1)
        others:                        v <- lerp(v, g², 1 - beta2_t)
        u = g / sqrt(max(v, eps1²)),   p <- p - alpha / max(1, rms(u) / d) * u

    with rms the root mean square and eps1 the dtype's machine epsilon unless ``eps[0]`` is given.

    >>> w = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> opt = optim.Adafactor([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> bool((w.detach() < ag.tensor([[1.0, 2.0], [3.0, 4.0]])).all())
    True
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: Tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, False, False)
        if not beta2_decay <= 0.0:
            raise ValueError(f"Adafactor: beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"Adafactor: epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"Adafactor: epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Adafactor: clipping threshold d should be >= 1 but is: {d}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "weight_decay")

    def _state_shape(self, key: str, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        if key == "row_var" and len(shape) > 1:
            return shape[:-1] + (1,)
        if key == "col_var" and len(shape) > 1:
            return shape[:-2] + (1, shape[-1])
        return shape

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, beta2_decay: float,
                eps: Tuple[float | None, float], d: float, weight_decay: float, maximize: bool) -> None:
        if not state:
            state["step"] = 0.0
            if g.ndim > 1:
                state["row_var"] = np.zeros(g.shape[:-1] + (1,), g.dtype)
                state["col_var"] = np.zeros(g.shape[:-2] + (1, g.shape[-1]), g.dtype)
            else:
                state["variance"] = np.zeros_like(g)
        if maximize:
            g = -g
        eps1 = float(np.finfo(p.dtype).eps) if eps[0] is None else eps[0]
        eps2 = eps[1]
        state["step"] += 1.0
        t = state["step"]
        one_minus_beta2 = t ** beta2_decay
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, float(np.sqrt(np.mean(p.astype(np.float64) ** 2))) if p.size else 0.0) * rho
        if weight_decay != 0:
            p *= 1 - lr * weight_decay
        if g.ndim > 1:
            row, col = state["row_var"], state["col_var"]
            row += ((g * g).mean(axis=-1, keepdims=True) - row) * one_minus_beta2
            col += ((g * g).mean(axis=-2, keepdims=True) - col) * one_minus_beta2
            var = row @ col
            var /= np.maximum(row.mean(axis=-2, keepdims=True), eps1)
        else:
            v = state["variance"]
            v += (g * g - v) * one_minus_beta2
            var = v.copy()
        update = g / np.sqrt(np.maximum(var, eps1 * eps1))
        denom = max(1.0, float(np.sqrt(np.mean(update.astype(np.float64) ** 2))) / d if update.size else 1.0)
        p -= (alpha / denom) * update

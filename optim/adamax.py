"""Adamax (Kingma & Ba, 2015, section 7.1), as ``torch.optim.Adamax``."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _betas, _nonneg

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax: Adam with the infinity norm in place of the second moment (``torch.optim.Adamax``,
    same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``), step t does

        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)
        p <- p - lr / (1 - beta1^t) * m / u

    The state holds ``step``, ``exp_avg`` (m) and ``exp_inf`` (u), each of the parameter's shape.

    >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                        # the first step moves each element by lr
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "eps", "weight_decay")
        _betas(self._name, group)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, betas: Tuple[float, float], eps: float,
                weight_decay: float, maximize: bool) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_inf"] = np.zeros_like(p)
        state["step"] += 1
        beta1, beta2 = betas
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        m, u = state["exp_avg"], state["exp_inf"]
        m += (g - m) * (1 - beta1)
        np.maximum(u * beta2, np.abs(g) + eps, out=u)
        clr = lr / (1 - beta1 ** state["step"])
        p -= clr * m / u

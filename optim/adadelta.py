"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _nonneg, _unit

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta: step sizes from the ratio of running RMS of updates and of gradients.

    With g = grad + weight_decay * p (negated first if ``maximize``), each step does

        v <- rho * v + (1 - rho) * g^2
        d  = sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * d^2
        p <- p - lr * d
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _check(self, group):
        _nonneg(self._name, group, "lr", "eps", "weight_decay")
        _unit(self._name, group, "rho", closed=True)

    def _update(self, p, g, state, lr, rho, eps, weight_decay, maximize):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            state["acc_delta"] = np.zeros_like(p)
        state["step"] += 1
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * (g * g)
        d = np.sqrt(u + eps)
        d /= np.sqrt(v + eps)
        d *= g
        u *= rho
        u += (1 - rho) * (d * d)
        p -= lr * d

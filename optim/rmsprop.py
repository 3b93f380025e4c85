"""RMSprop (Hinton, 2012), as ``torch.optim.RMSprop``."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _nonneg, _unit

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root mean square of recent gradients.

    With g = grad + weight_decay * p (negated first if ``maximize``), each step does

        v <- alpha * v + (1 - alpha) * g^2            (the running average, kept in the state)
        s  = sqrt(v - gbar^2) + eps  with gbar <- alpha * gbar + (1 - alpha) * g   if centered,
             sqrt(v) + eps                                                      otherwise
        b <- momentum * b + g / s,  p <- p - lr * b     if momentum > 0,
        p <- p - lr * g / s                             otherwise
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _check(self, group):
        _nonneg(self._name, group, "lr", "eps", "weight_decay", "momentum")
        _unit(self._name, group, "alpha", closed=True)

    def _update(self, p, g, state, lr, alpha, eps, weight_decay, momentum, centered, maximize):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(p)
        if centered and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * (g * g)
        if centered:
            gbar = state["grad_avg"]
            gbar *= alpha
            gbar += (1 - alpha) * g
            s = np.sqrt(v - gbar * gbar)
        else:
            s = np.sqrt(v)
        s += eps
        if momentum > 0:
            b = state["momentum_buffer"]
            b *= momentum
            b += g / s
            p -= lr * b
        else:
            p -= lr * g / s

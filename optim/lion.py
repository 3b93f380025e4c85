"""Lion: evolved sign momentum (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms")."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _betas, _nonneg

__all__ = ["Lion"]


class Lion(Optimizer):
    r"""Lion: a step of fixed size lr per element, in the sign of an interpolated momentum.

    With g = grad (negated first if ``maximize``), each step does

        c  = beta1 * m + (1 - beta1) * g
        p <- p * (1 - lr * weight_decay) - lr * sign(c)
        m <- beta2 * m + (1 - beta2) * g

    Its lr is typically 3-10x smaller than AdamW's, and its weight_decay 3-10x larger.
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas,
                                      weight_decay=weight_decay, maximize=maximize))

    def _check(self, group):
        _nonneg(self._name, group, "lr", "weight_decay")
        _betas(self._name, group)

    def _update(self, p, g, state, lr, betas, weight_decay, maximize):
        if not state:
            state["exp_avg"] = np.zeros_like(p)
        beta1, beta2 = betas
        if maximize:
            g = -g
        m = state["exp_avg"]
        c = beta1 * m + (1 - beta1) * g
        if weight_decay != 0:
            p *= 1 - lr * weight_decay
        p -= lr * np.sign(c)
        m *= beta2
        m += (1 - beta2) * g

"""Adagrad (Duchi, Hazan & Singer, 2011), as ``torch.optim.Adagrad``."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _nonneg

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: per-element step sizes that shrink with the sum of squared gradients.

    With g = grad + weight_decay * p (negated first if ``maximize``), step t does

        lr_t = lr / (1 + (t - 1) * lr_decay)
        s <- s + g^2                       (s starts at initial_accumulator_value)
        p <- p - lr_t * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        # PyTorch creates the accumulator with the group, so it is in the state dict before any step
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p._data, self.state[p], group["initial_accumulator_value"])

    @staticmethod
    def _init_state(p, state, initial_accumulator_value):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, initial_accumulator_value)

    def _check(self, group):
        _nonneg(self._name, group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _update(self, p, g, state, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize):
        self._init_state(p, state, initial_accumulator_value)
        state["step"] += 1
        t = state["step"]
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = state["sum"]
        s += g * g
        denom = np.sqrt(s)
        denom += eps
        p -= lr_t * g / denom

"""NAdam: Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _betas, _nonneg

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam: Adam whose first moment looks one step ahead, with a warming momentum schedule.

    With g = grad + weight_decay * p (negated first if ``maximize``; with
    ``decoupled_weight_decay`` the decay is instead p <- p * (1 - lr * weight_decay)), step t does

        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),   P_t = mu_1 * ... * mu_t
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        p <- p - lr * [(1 - mu_t) / (1 - P_t) * g + mu_{t+1} / (1 - P_t * mu_{t+1}) * m]
                    / (sqrt(v / (1 - beta2^t)) + eps)
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _check(self, group):
        _nonneg(self._name, group, "lr", "eps", "weight_decay", "momentum_decay")
        _betas(self._name, group)

    def _update(self, p, g, state, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay,
                maximize):
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = betas
        if maximize:
            g = -g
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        state["mu_product"] *= mu
        prod = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        denom = np.sqrt(v / (1 - beta2 ** t))
        denom += eps
        p -= (lr * (1 - mu) / (1 - prod)) * g / denom
        p -= (lr * mu_next / (1 - prod * mu_next)) * m / denom

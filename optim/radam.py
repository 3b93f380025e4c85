"""RAdam (Liu et al., 2020), as ``torch.optim.RAdam``."""
from __future__ import annotations

import math
from typing import Any, Dict, Tuple

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _adam_moments, _impl_flags, _betas, _nonneg, _signed_decayed

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Rectified Adam: Adam whose adaptive step is switched on, and rectified, only once the variance
    of the adaptive learning rate is tractable (``torch.optim.RAdam``, same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``; with ``decoupled_weight_decay``
    p <- p * (1 - lr * weight_decay) instead), step t does

        m <- beta1 * m + (1 - beta1) * g;   v <- beta2 * v + (1 - beta2) * g^2
        rho_inf = 2 / (1 - beta2) - 1;      rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        m_hat = m / (1 - beta1^t)
        if rho_t > 5:  p <- p - lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps),
                       r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        else:          p <- p - lr * m_hat

    The state holds ``step``, ``exp_avg`` (m) and ``exp_avg_sq`` (v).

    >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                        # early steps are SGD with momentum: lr * m_hat = lr * g
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "eps", "weight_decay")
        _betas(self._name, group)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, betas: Tuple[float, float], eps: float,
                weight_decay: float, decoupled_weight_decay: bool, maximize: bool) -> None:
        t, m, v = _adam_moments(state, p)
        beta1, beta2 = betas
        g = _signed_decayed(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
        m += (g - m) * (1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t
        m_hat = m / bc1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(bc2) / (np.sqrt(v) + eps)
            p -= m_hat * lr * adaptive * rect
        else:
            p -= m_hat * lr

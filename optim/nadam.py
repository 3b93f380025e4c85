"""NAdam: Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _adam_moments, _impl_flags, _betas, _nonneg, _signed_decayed

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam: Adam whose first moment looks one step ahead, with a warming momentum schedule
    (``torch.optim.NAdam``, same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``; with
    ``decoupled_weight_decay`` the decay is instead p <- p * (1 - lr * weight_decay)), step t does

        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),   P_t = mu_1 * ... * mu_t
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        p <- p - lr * [(1 - mu_t) / (1 - P_t) * g + mu_{t+1} / (1 - P_t * mu_{t+1}) * m]
                    / (sqrt(v / (1 - beta2^t)) + eps)

    Parameters of any shape; the state holds ``step``, ``mu_product`` (P_t) and ``exp_avg`` (m),
    ``exp_avg_sq`` (v) of the parameter's shape.

    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                        # a bit more than lr: the look-ahead adds the momentum term
    >>> w
    tensor([0.8944, 1.8944], requires_grad=True)
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable, differentiable=differentiable))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "eps", "weight_decay", "momentum_decay")
        _betas(self._name, group)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, betas: Tuple[float, float], eps: float,
                weight_decay: float, momentum_decay: float, decoupled_weight_decay: bool, maximize: bool) -> None:
        t, m, v = _adam_moments(state, p, mu_product=1.0)
        beta1, beta2 = betas
        g = _signed_decayed(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        state["mu_product"] *= mu
        prod = state["mu_product"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        denom = np.sqrt(v / (1 - beta2 ** t))
        denom += eps
        p -= (lr * (1 - mu) / (1 - prod)) * g / denom
        p -= (lr * mu_next / (1 - prod * mu_next)) * m / denom

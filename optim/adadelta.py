"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _nonneg, _unit

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta: step sizes from the ratio of running RMS of updates and of gradients
    (``torch.optim.Adadelta``, same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``), each step does

        v <- rho * v + (1 - rho) * g^2
        d  = sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * d^2
        p <- p - lr * d

    Parameters of any shape; the state holds ``step``, ``square_avg`` (v) and ``acc_delta`` (u),
    of the parameter's shape. The first steps are tiny (u starts at 0), whatever lr is:

    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.Adadelta([w])
    >>> (w * w).sum().backward()
    >>> opt.step()                        # sqrt(eps) / sqrt(0.1 g^2 + eps) * g ~ 0.0032
    >>> w
    tensor([0.9968, 1.9968], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "eps", "weight_decay")
        _unit(self._name, group, "rho", closed=True)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, rho: float, eps: float,
                weight_decay: float, maximize: bool) -> None:
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

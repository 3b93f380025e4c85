"""RMSprop (Hinton, 2012), as ``torch.optim.RMSprop``."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _nonneg, _unit

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root mean square of recent gradients
    (``torch.optim.RMSprop``, same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``), each step does

        v <- alpha * v + (1 - alpha) * g^2            (the running average, kept in the state)
        s  = sqrt(v - gbar^2) + eps  with gbar <- alpha * gbar + (1 - alpha) * g   if centered,
             sqrt(v) + eps                                                      otherwise
        b <- momentum * b + g / s,  p <- p - lr * b     if momentum > 0,
        p <- p - lr * g / s                             otherwise

    Parameters of any shape; the state holds ``step``, ``square_avg`` (v) and, when used,
    ``momentum_buffer`` (b) and ``grad_avg`` (gbar), each of the parameter's shape.

    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()                        # g / sqrt(0.01 g^2) = 10: a first step of 10 lr
    >>> w
    tensor([0.9000, 1.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "eps", "weight_decay", "momentum")
        _unit(self._name, group, "alpha", closed=True)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, alpha: float, eps: float,
                weight_decay: float, momentum: float, centered: bool, maximize: bool) -> None:
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

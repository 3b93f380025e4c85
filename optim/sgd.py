"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``."""
from __future__ import annotations

from .optimizer import Optimizer, _nonneg, _real

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent.

    With g = grad + weight_decay * p (negated first if ``maximize``), each step does

        b <- momentum * b + (1 - dampening) * g      (b <- g on the first step)
        d  = g + momentum * b  if nesterov,  else b  (d = g when momentum == 0)
        p <- p - lr * d

    The learning rate multiplies the update exactly once.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _check(self, group):
        _nonneg(self._name, group, "lr", "momentum", "weight_decay")
        _real(self._name, "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum needs momentum > 0 and dampening == 0, got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _update(self, p, g, state, lr, momentum, dampening, weight_decay, nesterov, maximize):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= momentum
                b += g if dampening == 0 else (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p -= lr * g

"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``."""
from __future__ import annotations

from typing import Any, Dict

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _nonneg, _real

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay
    (``torch.optim.SGD``, same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``), each step does

        b <- momentum * b + (1 - dampening) * g      (b <- g on the first step)
        d  = g + momentum * b  if nesterov,  else b  (d = g when momentum == 0)
        p <- p - lr * d

    The learning rate multiplies the update exactly once. Parameters of any shape; the state holds
    ``momentum_buffer`` (b, the parameter's shape) when momentum is on. Nesterov needs
    ``momentum > 0`` and ``dampening == 0``.

    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()      # grad = 2 w
    ...     opt.step()
    >>> w
    tensor([0.4600, 0.9200], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "momentum", "weight_decay")
        _real(self._name, "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum needs momentum > 0 and dampening == 0, got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, momentum: float, dampening: float,
                weight_decay: float, nesterov: bool, maximize: bool) -> None:
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

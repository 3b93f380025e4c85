"""Adagrad (Duchi, Hazan & Singer, 2011), as ``torch.optim.Adagrad``."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _nonneg

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: per-element step sizes that shrink with the sum of squared gradients
    (``torch.optim.Adagrad``, same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``), step t does

        lr_t = lr / (1 + (t - 1) * lr_decay)
        s <- s + g^2                       (s starts at initial_accumulator_value)
        p <- p - lr_t * g / (sqrt(s) + eps)

    Parameters of any shape; the state holds ``step`` and ``sum`` (s, the parameter's shape),
    created with each parameter group (as PyTorch), so it is in the state dict before any step.

    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()                        # g / sqrt(g^2) = 1 on the first step
    >>> w
    tensor([0.5000, 1.5000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a parameter group (see ``Optimizer.add_param_group``) and create its accumulators.

        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> b = ag.tensor([0.0, 0.0], requires_grad=True)
        >>> opt = optim.Adagrad([w], initial_accumulator_value=0.1)
        >>> opt.add_param_group({"params": [b]})
        >>> opt.state[b]["sum"]
        array([0.1, 0.1], dtype=float32)
        """
        super().add_param_group(param_group)
        # PyTorch creates the accumulator with the group, so it is in the state dict before any step
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p._data, self.state[p], group["initial_accumulator_value"])

    @staticmethod
    def _init_state(p: Array, state: Dict[str, Any], initial_accumulator_value: float) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, initial_accumulator_value)

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, lr_decay: float, weight_decay: float,
                initial_accumulator_value: float, eps: float, maximize: bool) -> None:
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

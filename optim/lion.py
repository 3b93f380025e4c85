"""Lion: evolved sign momentum (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms")."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _betas, _nonneg

__all__ = ["Lion"]


class Lion(Optimizer):
    r"""Lion: a step of fixed size lr per element, in the sign of an interpolated momentum.

    With g = grad (negated first if ``maximize``), each step does

        c  = beta1 * m + (1 - beta1) * g
        p <- p * (1 - lr * weight_decay) - lr * sign(c)
        m <- beta2 * m + (1 - beta2) * g

    Its lr is typically 3-10x smaller than AdamW's, and its weight_decay 3-10x larger. PyTorch has no
    Lion; the arguments and defaults are the paper's (and those of the ``lion-pytorch`` package).
    Parameters of any shape; the state holds ``exp_avg`` (m, the parameter's shape).

    >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Lion([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                        # every element moves by lr, against the gradient's sign
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-4, betas: Tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas,
                                      weight_decay=weight_decay, maximize=maximize))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "weight_decay")
        _betas(self._name, group)

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, betas: Tuple[float, float],
                weight_decay: float, maximize: bool) -> None:
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

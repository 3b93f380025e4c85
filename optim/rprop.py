"""Rprop (Riedmiller & Braun, 1993), as ``torch.optim.Rprop``."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _nonneg

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation: every element has its own step size, which grows by ``etas[1]`` while
    the gradient keeps its sign and shrinks by ``etas[0]`` when it flips (``torch.optim.Rprop``, same
    arguments and defaults); only the gradient's sign is used. Meant for full-batch training.

    Step sizes start at ``lr`` and stay within ``step_sizes``; after a sign flip that element does not
    move and its gradient counts as 0 at the next step. The state holds ``step``, ``prev`` (the last
    gradient used) and ``step_size``.

    >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, etas: Tuple[float, float] = (0.5, 1.2),
                 step_sizes: Tuple[float, float] = (1e-6, 50), *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr")
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"{self._name}: invalid eta values: {etaminus}, {etaplus} (need 0 < etas[0] < 1 < "
                             "etas[1])")

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, etas: Tuple[float, float],
                step_sizes: Tuple[float, float], maximize: bool) -> None:
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(p)
            state["step_size"] = np.full_like(p, lr)
        state["step"] += 1
        if maximize:
            g = -g
        etaminus, etaplus = etas
        sign = np.sign(g * state["prev"])
        factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(p.dtype)
        step_size = state["step_size"]
        step_size *= factor
        np.clip(step_size, step_sizes[0], step_sizes[1], out=step_size)
        g = np.where(sign < 0, 0, g).astype(p.dtype)
        p -= np.sign(g) * step_size
        state["prev"][...] = g

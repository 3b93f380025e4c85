"""ASGD (Polyak & Juditsky, 1992), as ``torch.optim.ASGD``."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

import autograd_core as ag

from .optimizer import Array, Optimizer, ParamsT, _impl_flags, _nonneg

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD: plain SGD with a decaying step, and a running average of the parameters
    (``torch.optim.ASGD``, same arguments and defaults).

    With g = grad + weight_decay * p (negated first if ``maximize``), step t does

        p <- p * (1 - lambd * eta) - eta * g
        ax <- ax + mu * (p - ax)            (ax <- p while mu = 1)
        eta <- lr / (1 + lambd * lr * t)^alpha,   mu <- 1 / max(1, t - t0)

    so averaging starts after ``t0`` steps. The average ``ax`` is in the state (the parameter keeps the
    SGD iterate, as in PyTorch); so are ``step``, ``eta`` and ``mu``, the last two rounded to the default
    dtype as PyTorch keeps them (float32 unless the default is float64).

    >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.ASGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    _scalar_state = ("step", "eta", "mu")

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _impl_flags(type(self).__name__, foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _check(self, group: Dict[str, Any]) -> None:
        _nonneg(self._name, group, "lr", "weight_decay")

    def _update(self, p: Array, g: Array, state: Dict[str, Any], lr: float, lambd: float, alpha: float, t0: float,
                weight_decay: float, maximize: bool) -> None:
        scalar = np.float64 if ag.get_default_dtype() == np.float64 else np.float32
        if not state:
            state["step"] = 0
            state["eta"] = float(scalar(lr))
            state["mu"] = 1.0
            state["ax"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * p
        eta, mu = state["eta"], state["mu"]
        p *= 1 - lambd * eta
        p -= eta * g
        ax = state["ax"]
        if mu != 1:
            ax += mu * (p - ax)
        else:
            ax[...] = p
        state["eta"] = float(scalar(lr / (1 + lambd * lr * t) ** alpha))
        state["mu"] = float(scalar(1 / max(1, t - t0)))

"""``torch.optim.swa_utils``: stochastic weight averaging and exponential moving averages of weights.

* ``AveragedModel`` and ``update_bn`` (defined in ``nn.averaged``: they are modules);
* ``get_swa_multi_avg_fn`` / ``get_swa_avg_fn`` (the equal-weight running average) and
  ``get_ema_multi_avg_fn`` / ``get_ema_avg_fn`` (an exponential moving average), to pass to
  ``AveragedModel``;
* ``SWALR``: anneals each group's learning rate to its ``swa_lr`` over ``anneal_epochs`` steps ('cos' or
  'linear'), then holds it.

    >>> import autograd_core as ag, nn, optim
    >>> model = nn.Linear(2, 1)
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> swa_model = optim.swa_utils.AveragedModel(model)
    >>> swa_sched = optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=2)
    >>> for _ in range(3):
    ...     opt.step(); swa_sched.step(); swa_model.update_parameters(model)
    >>> int(swa_model.n_averaged), round(opt.param_groups[0]["lr"], 4)
    (3, 0.05)
"""
from __future__ import annotations

import math
from typing import Any, Callable, List

import numpy as np

from .lr_scheduler import LRScheduler
from .optimizer import Optimizer

# (AveragedModel and update_bn come through __getattr__, from nn.averaged)
__all__ = ["SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def __getattr__(name: str) -> Any:
    # AveragedModel and update_bn are modules / module helpers: nn.averaged holds them (nn imports optim,
    # so they are fetched when first asked for)
    if name in ("AveragedModel", "update_bn"):
        import nn.averaged
        return getattr(nn.averaged, name)
    raise AttributeError(f"module 'optim.swa_utils' has no attribute {name!r}")


def _lerp_(averaged: list, current: list, weight: float) -> None:
    for a, c in zip(averaged, current):
        np.add(a._data, weight * (c._data - a._data), out=a._data, casting="unsafe")
        a._version += 1


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An ``AveragedModel(multi_avg_fn=...)`` update: ema <- ema + (1 - decay) (current - ema), in place.

    >>> import autograd_core as ag
    >>> ema, cur = [ag.zeros(2)], [ag.ones(2)]
    >>> get_ema_multi_avg_fn(0.75)(ema, cur, None); ema[0]
    tensor([0.2500, 0.2500])
    """
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"get_ema_multi_avg_fn: invalid decay value {decay} provided; it must be in [0, 1]")

    def ema_update(ema_param_list: list, current_param_list: list, _: Any) -> None:
        _lerp_(ema_param_list, current_param_list, 1.0 - decay)
    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An ``AveragedModel(multi_avg_fn=...)`` update: avg <- avg + (current - avg) / (n + 1), in place (the
    default).

    >>> import autograd_core as ag
    >>> avg, cur = [ag.ones(1)], [ag.tensor([4.0])]
    >>> get_swa_multi_avg_fn()(avg, cur, ag.tensor(2)); avg[0]
    tensor([2.])
    """
    def swa_update(averaged_param_list: list, current_param_list: list, num_averaged: Any) -> None:
        n = float(num_averaged.item() if hasattr(num_averaged, "item") else num_averaged)
        _lerp_(averaged_param_list, current_param_list, 1.0 / (n + 1))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """An ``AveragedModel(avg_fn=...)`` update: returns decay * ema + (1 - decay) * current.

    >>> import autograd_core as ag
    >>> get_ema_avg_fn(0.5)(ag.zeros(1), ag.ones(1), 3)
    tensor([0.5000])
    """
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"get_ema_avg_fn: invalid decay value {decay} provided; it must be in [0, 1]")

    def ema_update(ema_param: Any, current_param: Any, num_averaged: Any) -> Any:
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn() -> Callable:
    """An ``AveragedModel(avg_fn=...)`` update: returns avg + (current - avg) / (n + 1).

    >>> import autograd_core as ag
    >>> get_swa_avg_fn()(ag.ones(1), ag.tensor([4.0]), 2)
    tensor([2.])
    """
    def swa_update(averaged_param: Any, current_param: Any, num_averaged: Any) -> Any:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class SWALR(LRScheduler):
    """Anneals each parameter group's lr from its current value to ``swa_lr`` (one value, or one per group)
    over ``anneal_epochs`` steps with ``anneal_strategy`` 'cos' ((1 - cos(pi t)) / 2) or 'linear' (t),
    then keeps it there, as ``torch.optim.swa_utils.SWALR``.

    >>> import autograd_core as ag, optim
    >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = SWALR(opt, swa_lr=0.5, anneal_epochs=2, anneal_strategy="linear")
    >>> lrs = []
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); lrs.append(round(opt.param_groups[0]["lr"], 4))
    >>> lrs
    [0.75, 0.5, 0.5]
    """

    def __init__(self, optimizer: Optimizer, swa_lr: Any, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        groups = optimizer.param_groups
        lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else [swa_lr] * len(groups)
        if len(lrs) != len(groups):
            raise ValueError(f"SWALR: expected {len(groups)} values for swa_lr, got {len(lrs)}")
        for lr, group in zip(lrs, groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must by one of 'cos' or 'linear', instead got {anneal_strategy}")
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> List[float]:
        """The learning rates ``step()`` sets: the annealing step from the current ones toward ``swa_lr``
        (computed from ``step()``'s count, so the first call, right after construction, keeps the start).

        >>> import autograd_core as ag, optim
        >>> opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=1.0)
        >>> SWALR(opt, swa_lr=0.5, anneal_epochs=1).get_lr()
        [1.0]
        """
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

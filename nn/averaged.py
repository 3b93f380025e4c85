"""Weight averaging, as ``torch.optim.swa_utils`` (reached as ``optim.swa_utils.AveragedModel`` /
``update_bn``): ``AveragedModel`` keeps a running average of a model's weights (stochastic weight
averaging by default, or an exponential moving average with ``get_ema_multi_avg_fn``), and ``update_bn``
recomputes batch-norm statistics for the averaged weights with one pass over the data.

    >>> import autograd_core as ag, nn, optim
    >>> model = nn.Linear(2, 1)
    >>> ema = optim.swa_utils.AveragedModel(model, multi_avg_fn=optim.swa_utils.get_ema_multi_avg_fn(0.9))
    >>> with ag.no_grad():
    ...     _ = model.weight.fill_(1.0)
    >>> ema.update_parameters(model); ema.n_averaged
    tensor(1)
"""
from __future__ import annotations

import copy
import itertools
from typing import Any, Callable

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

from .layers import _BatchNorm
from .module import Module

__all__ = ["AveragedModel", "update_bn"]


def _swa_multi(averaged: list, current: list, num_averaged: Tensor) -> None:
    n = float(num_averaged.item())
    for a, c in zip(averaged, current):
        np.add(a._data, (c._data - a._data) / (n + 1), out=a._data, casting="unsafe")
        a._version += 1


class AveragedModel(Module):
    """A copy of ``model`` (``.module``) whose parameters (and buffers, with ``use_buffers=True``) are the
    running average of ``model``'s over the ``update_parameters(model)`` calls, as PyTorch's:

        first call: a copy; then avg_fn(avg, current, n_averaged) (default: avg + (current - avg) / (n + 1),
        the equal-weight average), or multi_avg_fn(avgs, currents, n_averaged) on all of them at once

    Without ``use_buffers`` the buffers are copied from ``model`` at each update. ``forward`` calls the
    averaged copy; ``n_averaged`` (a buffer) counts the updates.

    >>> import autograd_core as ag, nn, optim
    >>> model = nn.Linear(1, 1, bias=False)
    >>> swa = optim.swa_utils.AveragedModel(model)
    >>> for w in (1.0, 2.0, 6.0):
    ...     with ag.no_grad():
    ...         _ = model.weight.fill_(w)
    ...     swa.update_parameters(model)
    >>> swa.module.weight.item()
    3.0
    """

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("AveragedModel: only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor(np.array(0, np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The averaged model's output: ``self.module(*args, **kwargs)``."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        if self.use_buffers:
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            mine = list(self.module.parameters())
            theirs = list(model.parameters())
        if len(mine) != len(theirs):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(theirs)} tensors to average, the "
                             f"averaged copy {len(mine)}: pass the model it was built from")
        with ag.no_grad():
            currents = [p.detach() for p in theirs]
            averaged = [p.detach() for p in mine]
            if int(self.n_averaged.item()) == 0:
                for a, c in zip(mine, currents):
                    a.copy_(c)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged, currents, self.n_averaged)
            elif self.avg_fn is None:
                _swa_multi(averaged, currents, self.n_averaged)
            else:
                for a, c in zip(mine, currents):
                    a.copy_(self.avg_fn(a.detach(), c, self.n_averaged))
            if not self.use_buffers:
                for b_mine, b_theirs in zip(self.module.buffers(), model.buffers()):
                    b_mine.copy_(b_theirs.detach())
            self.n_averaged.add_(1)


def update_bn(loader: Any, model: Module, device: Any = None) -> None:
    """Recompute the running statistics of ``model``'s batch-norm layers with one pass over ``loader`` (its
    batches, or the first item of each batch that is a list or tuple), as PyTorch's ``update_bn``: the
    statistics are reset, averaged over the whole pass (momentum None), and the layers' momenta and the
    model's training mode are restored. A model without batch norm is left as it is.

    >>> import autograd_core as ag, nn, optim
    >>> model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    >>> optim.swa_utils.update_bn([ag.randn(8, 2) for _ in range(3)], model)
    >>> int(model[1].num_batches_tracked)
    3
    """
    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    with ag.no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None and isinstance(batch, Tensor):
                batch = batch.to(device)
            model(batch)
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.train(was_training)

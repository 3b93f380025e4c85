"""Optimizers, learning-rate schedulers, as ``torch.optim``.

    >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    >>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    >>> for x, y in data:
    ...     opt.zero_grad()
    ...     loss_fn(model(x), y).backward()
    ...     opt.step()
    ...     sched.step()

Each optimizer's docstring gives its update rule; ``_update`` in its file is that rule, applied
in place to the parameter's array. Gradient clipping lives in ``nn.utils``.
"""
from .optimizer import Optimizer, required
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .nadam import NAdam
from .lion import Lion
from . import lr_scheduler

__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "Lion",
           "lr_scheduler"]

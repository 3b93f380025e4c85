"""Optimizers and learning-rate schedulers, as ``torch.optim``.

``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``NAdam``, ``Lion``, ``Adamax``,
``RAdam``, ``Rprop``, ``ASGD``, ``LBFGS``, ``SparseAdam`` and ``Adafactor`` take PyTorch's arguments and
defaults, parameter groups and state dicts (``foreach``, ``fused`` and ``capturable`` are accepted and
change nothing; ``differentiable=True`` raises); ``lr_scheduler`` holds the schedulers, ``swa_utils``
weight averaging (SWA, EMA). Each optimizer's docstring gives its update rule;
``_update`` in its file is that rule, applied in place to the parameter's array (``LBFGS`` runs its
iterations in ``step``). Gradient clipping lives in ``nn.utils``.

>>> model = nn.Linear(3, 1)
>>> X, y = ag.randn(32, 3), ag.randn(32, 1)
>>> opt = optim.Adam(model.parameters(), lr=0.05)
>>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
>>> first = F.mse_loss(model(X), y).item()
>>> for epoch in range(100):
...     opt.zero_grad()
...     loss = F.mse_loss(model(X), y)
...     loss.backward()
...     opt.step()
...     sched.step()
>>> loss.item() < first, sched.get_last_lr()
(True, [0.0])
"""
from .optimizer import Optimizer, required
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .nadam import NAdam
from .lion import Lion
from .adamax import Adamax
from .radam import RAdam
from .rprop import Rprop
from .asgd import ASGD
from .lbfgs import LBFGS
from .sparse_adam import SparseAdam
from .adafactor import Adafactor
from . import lr_scheduler
from . import swa_utils

import sys as _sys  # noqa: E402

import autograd_core as _ag  # noqa: E402

if not hasattr(_ag, "optim"):  # torch.optim, for scripts ported with `import autograd_core as torch`
    setattr(_ag, "optim", _sys.modules[__name__])

__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "Lion",
           "Adamax", "RAdam", "Rprop", "ASGD", "LBFGS", "SparseAdam", "Adafactor", "lr_scheduler",
           "swa_utils"]

"""``torch.nn.parallel`` on one CPU process: ``DataParallel`` wraps a module and calls it (PyTorch does
the same when it finds no GPU), so that scripts which wrap their model, test
``isinstance(model, nn.DataParallel)`` or save ``model.module.state_dict()`` run unchanged. There is no
``torch.distributed`` here, so ``DistributedDataParallel`` exists for ``isinstance`` checks but raises
when built.

    >>> import autograd_core as ag, nn
    >>> model = nn.DataParallel(nn.Linear(2, 3))
    >>> model(ag.ones(4, 2)).shape, list(model.state_dict())
    ((4, 3), ['module.weight', 'module.bias'])
"""
from __future__ import annotations

from typing import Any

from .module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


class DataParallel(Module):
    """Calls ``module`` (its state dict keys gain the ``module.`` prefix, as PyTorch's). ``device_ids``,
    ``output_device`` and ``dim`` are accepted and ignored: with no GPU, PyTorch ignores them too and
    runs the module as it is (``device_ids`` is then ``[]``).

    >>> import autograd_core as ag, nn
    >>> inner = nn.Linear(2, 1)
    >>> nn.DataParallel(inner).module is inner
    True
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """``module(*inputs, **kwargs)``."""
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """Stands for PyTorch's ``DistributedDataParallel`` (``isinstance`` checks work); building one raises,
    as there is no ``torch.distributed`` (one process, CPU only): use the module itself.

    >>> import nn
    >>> try:
    ...     nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
    ... except RuntimeError as e:
    ...     print(str(e).split(":")[0])
    DistributedDataParallel
    """

    def __init__(self, module: Module, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DistributedDataParallel: there is no torch.distributed here (one process, CPU only); "
                           "train the module itself, or wrap it in nn.DataParallel, which just calls it")


def data_parallel(module: Module, inputs: Any, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                  module_kwargs: Any = None) -> Any:
    """``module(*inputs, **module_kwargs)`` (``inputs`` a tuple, or one input), as
    ``torch.nn.parallel.data_parallel`` does without a GPU.

    >>> import autograd_core as ag, nn
    >>> nn.parallel.data_parallel(nn.Identity(), ag.ones(2))
    tensor([1., 1.])
    """
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*args, **(module_kwargs or {}))

"""PyTorch's ``torch.utils``: ``checkpoint`` (activation checkpointing). Importing ``nn`` adds ``data``
(``nn.data``: datasets, samplers, DataLoader), so ``torch.utils.data`` works in ported scripts."""
from . import checkpoint

__all__ = ["checkpoint"]


def __getattr__(name):
    if name == "data":
        raise AttributeError("module 'autograd_core.utils' has no attribute 'data': torch.utils.data is nn.data here: "
                             "add `import nn` (or `from nn.data import DataLoader, Dataset`) to the script's imports, "
                             "after which autograd_core.utils.data is nn.data")
    raise AttributeError(f"module 'autograd_core.utils' has no attribute {name!r}")

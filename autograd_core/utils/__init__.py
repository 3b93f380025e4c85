"""PyTorch's ``torch.utils``: ``checkpoint`` (activation checkpointing). Importing ``nn`` adds ``data``
(``nn.data``: datasets, samplers, DataLoader), so ``torch.utils.data`` works in ported scripts."""
from . import checkpoint

__all__ = ["checkpoint"]

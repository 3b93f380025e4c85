"""Distance modules, as ``torch.nn``: ``CosineSimilarity`` and ``PairwiseDistance``.
"""
from __future__ import annotations

from autograd_core.tensor import Tensor

from . import functional as F
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """<x1, x2> / max(||x1|| ||x2||, eps) along ``dim``.

    >>> import autograd_core as ag, nn
    >>> nn.CosineSimilarity(dim=1)(ag.tensor([[1.0, 0.0]]), ag.tensor([[0.0, 1.0]]))
    tensor([0.])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dim.

    >>> import autograd_core as ag, nn
    >>> nn.PairwiseDistance(eps=0.0)(ag.tensor([[0.0, 0.0]]), ag.tensor([[3.0, 4.0]]))
    tensor([5.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

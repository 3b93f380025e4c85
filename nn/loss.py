"""More loss modules, as ``torch.nn``: ``KLDivLoss``, ``PoissonNLLLoss``, ``GaussianNLLLoss``,
``CosineEmbeddingLoss``, ``MarginRankingLoss``, ``HingeEmbeddingLoss``, ``SoftMarginLoss``,
``MultiLabelSoftMarginLoss``, ``MultiMarginLoss``, ``TripletMarginLoss``,
``TripletMarginWithDistanceLoss``, ``CTCLoss``. Each calls the ``nn.functional`` form of the same name
with its ``reduction`` ('mean', 'sum' or 'none').
"""
from __future__ import annotations

from typing import Any

from autograd_core.tensor import Tensor

from . import functional as F
from .layers import _Loss, _WeightedLoss

__all__ = ["KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
           "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss", "MultiMarginLoss", "TripletMarginLoss",
           "TripletMarginWithDistanceLoss", "CTCLoss"]


class KLDivLoss(_Loss):
    """KL divergence of ``target`` from the model's log-probabilities ``input`` (see ``F.kl_div``);
    ``reduction='batchmean'`` gives the true KL divergence per sample.

    >>> import autograd_core as ag, nn
    >>> nn.KLDivLoss(reduction="batchmean")(ag.log(ag.tensor([[0.5, 0.5]])), ag.tensor([[0.9, 0.1]]))
    tensor(0.3681)
    """

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce, reduction)
        super().__init__(reduction="mean" if reduction == "batchmean" else reduction)
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Poisson negative log likelihood (see ``F.poisson_nll_loss``).

    >>> import autograd_core as ag, nn
    >>> nn.PoissonNLLLoss()(ag.tensor([0.0]), ag.tensor([1.0]))
    tensor(1.)
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average: Any = None, eps: float = 1e-8,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log likelihood with predicted variances (see ``F.gaussian_nll_loss``).

    >>> import autograd_core as ag, nn
    >>> nn.GaussianNLLLoss()(ag.tensor([1.0]), ag.tensor([3.0]), ag.tensor([4.0]))
    tensor(1.1931)
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Any) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1.

    >>> import autograd_core as ag, nn
    >>> nn.CosineEmbeddingLoss()(ag.tensor([[1.0, 0.0]]), ag.tensor([[1.0, 0.0]]), ag.tensor([1]))
    tensor(0.)
    """

    def __init__(self, margin: float = 0.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -target (x1 - x2) + margin).

    >>> import autograd_core as ag, nn
    >>> nn.MarginRankingLoss(margin=0.5)(ag.tensor([1.0]), ag.tensor([1.0]), ag.tensor([1]))
    tensor(0.5000)
    """

    def __init__(self, margin: float = 0.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x for target 1, max(0, margin - x) for target -1.

    >>> import autograd_core as ag, nn
    >>> nn.HingeEmbeddingLoss()(ag.tensor([0.25]), ag.tensor([-1]))
    tensor(0.7500)
    """

    def __init__(self, margin: float = 1.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """log(1 + exp(-target x)), target ±1.

    >>> import autograd_core as ag, nn
    >>> nn.SoftMarginLoss()(ag.tensor([0.0]), ag.tensor([1.0]))
    tensor(0.6931)
    """

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Binary cross entropy of sigmoid(x) against 0/1 labels, averaged over the classes of each sample.

    >>> import autograd_core as ag, nn
    >>> nn.MultiLabelSoftMarginLoss()(ag.tensor([[0.0, 0.0]]), ag.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss over class-index targets ended by -1 (see ``F.multilabel_margin_loss``).

    >>> import autograd_core as ag, nn
    >>> nn.MultiLabelMarginLoss()(ag.tensor([[0.1, 0.2, 0.4, 0.8]]), ag.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (see ``F.multi_margin_loss``).

    >>> import autograd_core as ag, nn
    >>> nn.MultiMarginLoss()(ag.tensor([[0.1, 0.2, 0.4, 0.8]]), ag.tensor([3]))
    tensor(0.3250)
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None, size_average: Any = None,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm pairwise distance d.

    >>> import autograd_core as ag, nn
    >>> nn.TripletMarginLoss(margin=1.0, eps=0.0)(ag.tensor([[0.0]]), ag.tensor([[1.0]]), ag.tensor([[1.5]]))
    tensor(0.5000)
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss; see ``F.ctc_loss``. ``forward(log_probs, targets,
    input_lengths, target_lengths)``.

    >>> import autograd_core as ag, nn
    >>> lp = ag.log_softmax(ag.zeros(3, 1, 2), dim=-1)
    >>> round(nn.CTCLoss(reduction="sum")(lp, ag.tensor([[1]]), [3], [1]).item(), 4)
    0.2877
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)

class TripletMarginWithDistanceLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance ``d`` (``distance_function``, default the
    pairwise Euclidean distance); see ``F.triplet_margin_with_distance_loss``.

    >>> import autograd_core as ag, nn
    >>> loss = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(eps=0.0))
    >>> loss(ag.tensor([[0.0]]), ag.tensor([[1.0]]), ag.tensor([[1.5]]))
    tensor(0.5000)
    """

    def __init__(self, *, distance_function: Any = None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)

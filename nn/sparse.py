"""``Embedding``: a lookup table of learned vectors, as ``torch.nn.Embedding``; ``EmbeddingBag``: sums,
means or maxima of bags of its rows, as ``torch.nn.EmbeddingBag``.

The lookup is ``weight[indices]``, an integer-array read whose gradient is a scatter-add into the
table's rows; see ``nn.functional.embedding`` for ``padding_idx``, ``max_norm`` and
``scale_grad_by_freq``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from autograd_core.tensor import Tensor

from . import functional as F
from . import init
from .layers import _dtype, _positive
from .module import Module, Parameter, _check_device

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``: integer input (*) -> (*, embedding_dim).

    ``weight`` (num_embeddings, embedding_dim) starts as N(0, 1), with the ``padding_idx`` row (if
    given) set to zeros; that row then gets no gradient, so it stays as it is while training.
    ``max_norm``: rows looked up are first rescaled in place to at most that ``norm_type``-norm.
    ``scale_grad_by_freq``: gradients divided by each index's count in the batch. ``sparse=True`` is
    accepted: the gradient is the same, stored dense (``optim.SparseAdam`` moves only the rows it touches). ``_weight`` / ``_freeze``: an initial table (used as is,
    sharing memory) and whether it stays fixed, as PyTorch's ``from_pretrained`` passes them.

    >>> import autograd_core as ag, nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(ag.tensor([[1, 0, 4]])).shape
    (1, 3, 3)
    >>> emb.weight[0].tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | np.ndarray | None = None, _freeze: bool = False,
                 device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        _check_device(device, "Embedding")
        self.num_embeddings = _positive(num_embeddings, "Embedding", "num_embeddings")
        self.embedding_dim = _positive(embedding_dim, "Embedding", "embedding_dim")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx={padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            if padding_idx < 0:
                padding_idx += num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), _dtype(dtype)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = _weight if isinstance(_weight, Tensor) else Tensor(np.asarray(_weight))
            if tuple(w.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(w.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            if w.dtype.kind != "f":
                raise TypeError(f"Embedding: the table must be floating point, got dtype {w.dtype}")
            self.weight = Parameter(w, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Draw the table anew from N(0, 1), in place, with the ``padding_idx`` row (if any) zeros.

        >>> import nn
        >>> emb = nn.Embedding(4, 2, padding_idx=1)
        >>> emb.reset_parameters()
        >>> emb.weight[1].tolist()
        [0.0, 0.0]
        """
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0
            self.weight._version += 1

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor | np.ndarray, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose table is ``embeddings`` (2-D; a Tensor's memory is shared, as PyTorch).
        ``freeze=True`` keeps it fixed (``weight.requires_grad`` is False). The ``padding_idx`` row is
        not zeroed here (only its gradient is).

        >>> import autograd_core as ag, nn
        >>> emb = nn.Embedding.from_pretrained(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> emb(ag.tensor([1])), emb.weight.requires_grad
        (tensor([[3., 4.]]), False)
        """
        w = embeddings if isinstance(embeddings, Tensor) else Tensor(np.asarray(embeddings))
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, embedding_dim), "
                             f"got shape {tuple(w.shape)}")
        rows, cols = w.shape
        return cls(rows, cols, _weight=w, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Embedding):
    """Sums, means or maxima of bags of table rows, as ``torch.nn.EmbeddingBag``: ``forward(input,
    offsets=None, per_sample_weights=None)`` -> (B, embedding_dim), with bags the rows of a 2-D input
    or the runs of a 1-D input that start at ``offsets`` (see ``F.embedding_bag``). ``mode``: 'sum',
    'mean' (the default) or 'max'. The table starts as N(0, 1) with the ``padding_idx`` row zeros;
    indices equal to ``padding_idx`` are left out of their bags.

    >>> import autograd_core as ag, nn
    >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(ag.tensor([1, 2, 4, 5, 4]), ag.tensor([0, 2])).shape
    (2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | np.ndarray | None = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device: Any = None, dtype: DTypeLike | None = None) -> None:
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx=padding_idx, max_norm=max_norm,
                         norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=_weight,
                         device=device, dtype=dtype)
        self.mode = mode
        self.include_last_offset = include_last_offset

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        return super().extra_repr() + f", mode={self.mode!r}" + (
            ", include_last_offset=True" if self.include_last_offset else "")

    @classmethod
    def from_pretrained(cls, embeddings: Tensor | np.ndarray, freeze: bool = True,  # type: ignore[override]
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose table is ``embeddings`` (2-D, memory shared); ``freeze=True`` keeps it fixed.

        >>> import autograd_core as ag, nn
        >>> bag = nn.EmbeddingBag.from_pretrained(ag.tensor([[1.0, 2.0], [3.0, 4.0]]), mode="sum")
        >>> bag(ag.tensor([[0, 1]]))
        tensor([[4., 6.]])
        """
        w = embeddings if isinstance(embeddings, Tensor) else Tensor(np.asarray(embeddings))
        if w.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D (num_embeddings, embedding_dim), "
                             f"got shape {tuple(w.shape)}")
        bag = cls(w.shape[0], w.shape[1], max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse, _weight=w,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

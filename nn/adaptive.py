"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2016), as PyTorch's.

Classes are split by ``cutoffs`` into a shortlist ``[0, cutoffs[0])`` and clusters ``[cutoffs[i],
cutoffs[i+1])``. The head scores the shortlist and one entry per cluster; cluster ``i`` has its own
two-layer projection (``in_features -> in_features // div_value**(i+1) -> cluster size``). So

    log p(c | x) = log_softmax(head(x))[c]                                 for c in the shortlist
    log p(c | x) = log_softmax(head(x))[shortlist + i] + log_softmax(tail_i(x))[c - cutoffs[i]]

and each row's tail is evaluated only for the cluster of its target. Built from taped ops: the
gradients are the engine's.
"""
from __future__ import annotations

from collections import namedtuple

import autograd_core as ag

from . import functional as F
from .layers import Linear
from .module import Module, ModuleList, Sequential

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax with its loss, as ``torch.nn.AdaptiveLogSoftmaxWithLoss``.

    ``forward(input, target)``: input (N, in_features) or (in_features,), target (N,) or () class
    indices; returns ``(output, loss)``: each row's log-probability of its target (N,) and the mean
    negative log-likelihood. ``log_prob(input)``: (N, n_classes) log-probabilities;
    ``predict(input)``: (N,) the most likely classes.

    >>> import autograd_core as ag
    >>> asm = AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 7], div_value=2.0)
    >>> out, loss = asm(ag.randn(5, 8), ag.tensor([0, 3, 5, 9, 6]))
    >>> out.shape, loss.shape, asm.log_prob(ag.randn(5, 8)).shape
    ((5,), (), (5, 10))
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs must be a non-empty sequence")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of unique, positive integers "
                             f"sorted in an increasing order, where each value is between 1 and n_classes-1 "
                             f"({n_classes - 1}); got {cutoffs}")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        kw = {"device": device, "dtype": dtype}
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(self.in_features // (self.div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(self.in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self):
        """Draw the head's and the tails' weights anew (each Linear's own default init), in place.

        >>> asm = AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4])
        >>> asm.reset_parameters()
        >>> bool((asm.head.weight.abs() <= 8 ** -0.5).all())
        True
        """
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: input ({tuple(input_.shape)}) and target "
                                   f"({tuple(target_.shape)}) should have the same size in the batch dimension")
            if input_.dim() != 2:
                raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: a 1-D target expects a 2-D input, got input of "
                                   f"shape {tuple(input_.shape)}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: a 0-D target expects a 1-D input, got input of "
                                   f"shape {tuple(input_.shape)}")
        else:
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: expected a 0-D or 1-D target (one class per row), got "
                               f"shape {tuple(target_.shape)}")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)  # noqa: A001
        target = target_ if batched else target_.unsqueeze(0)
        used_rows = 0
        batch_size = target.size(0)
        output = input.new_zeros(batch_size)
        gather_inds = target.new_empty(batch_size)
        bounds = [0] + self.cutoffs
        for i in range(len(bounds) - 1):
            low, high = bounds[i], bounds[i + 1]
            mask = (target >= low) & (target < high)
            rows = mask.nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            if i == 0:
                gather_inds.index_copy_(0, rows, target[mask])
            else:
                relative = target[mask] - low
                cluster_out = self.tail[i - 1](input.index_select(0, rows))
                gather_inds.index_fill_(0, rows, self.shortlist_size + i - 1)
                local = F.log_softmax(cluster_out, dim=1).gather(1, relative.unsqueeze(1))
                output = output.index_copy(0, rows, local.squeeze(1))
            used_rows += rows.numel()
        if used_rows != batch_size:
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: target values should be in [0, {self.n_classes - 1}], "
                               f"but values in [{target.min().item()}, {target.max().item()}] were found")
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, gather_inds.unsqueeze(1)).reshape(-1)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):  # noqa: A002
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return ag.cat(parts, dim=1)

    def log_prob(self, input):  # noqa: A002
        """(N, in_features) or (in_features,) -> (N, n_classes) or (n_classes,): every class's log-probability."""
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input):  # noqa: A002
        """(N, in_features) or (in_features,) -> (N,) or (): the most likely class of each row."""
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        output = ag.argmax(head_output, dim=1)
        outside = output >= self.shortlist_size
        if bool(outside.any()):
            log_prob = self._get_full_log_prob(x[outside], head_output[outside])
            output[outside] = ag.argmax(log_prob, dim=1)
        return output if batched else output.squeeze(0)

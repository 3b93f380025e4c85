"""Helpers the distributions share, as ``torch.distributions.utils``: ``broadcast_all``,
``probs_to_logits``, ``logits_to_probs``, ``clamp_probs``, and the samplers' random source.

    >>> from autograd_core.distributions.utils import broadcast_all
    >>> a, b = broadcast_all(ag.tensor([0.0, 1.0]), 2.0)
    >>> b
    tensor([2., 2.])
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..ops import elementwise as E
from ..ops import reduce as R
from ..tensor import Tensor, get_default_dtype

__all__ = ["broadcast_all", "probs_to_logits", "logits_to_probs", "clamp_probs", "euler_constant", "rng",
           "as_tensor", "size", "sum_rightmost", "binary_params"]

euler_constant = 0.57721566490153286060


def rng() -> np.random.Generator:
    """The global generator (``manual_seed``), read at call time.

    >>> from autograd_core.distributions.utils import rng
    >>> _ = ag.manual_seed(0); a = rng().random(); _ = ag.manual_seed(0); a == rng().random()
    True
    """
    return sys.modules["autograd_core.tensor"].default_generator.np


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor: a number takes ``like``'s float dtype, else the default one.

    >>> from autograd_core.distributions.utils import as_tensor
    >>> as_tensor(1.5, like=ag.zeros(1, dtype=ag.float64)).dtype
    dtype('float64')
    """
    if isinstance(x, Tensor):
        return x
    dt = like._data.dtype if like is not None and like._data.dtype.kind == "f" else get_default_dtype()
    return Tensor(np.asarray(x, dtype=dt))


def size(sample_shape: Any) -> tuple[int, ...]:
    """A sample shape (an int, a tuple or a list) as a tuple.

    >>> from autograd_core.distributions.utils import size
    >>> size(3), size([2, 1])
    ((3,), (2, 1))
    """
    if isinstance(sample_shape, (int, np.integer)):
        return (int(sample_shape),)
    return tuple(int(s) for s in sample_shape)


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Numbers and tensors broadcast to one shape (numbers in the tensors' float dtype), as PyTorch's
    ``broadcast_all``; the broadcasts are on the tape.

    >>> from autograd_core.distributions.utils import broadcast_all
    >>> [t.shape for t in broadcast_all(ag.zeros(2, 1), ag.zeros(3), 1.0)]
    [(2, 3), (2, 3), (2, 3)]
    """
    like = next((v for v in values if isinstance(v, Tensor) and v._data.dtype.kind == "f"), None)
    ts = [as_tensor(v, like) for v in values]
    shape = tuple(np.broadcast_shapes(*[tuple(t.shape) for t in ts]))
    return tuple(t if tuple(t.shape) == shape else t.broadcast_to(shape) for t in ts)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to [eps, 1 - eps] (the dtype's machine epsilon), as PyTorch's.

    >>> from autograd_core.distributions.utils import clamp_probs
    >>> bool(clamp_probs(ag.tensor([0.0]))[0] > 0)
    True
    """
    eps = float(np.finfo(probs._data.dtype).eps)
    return E.clamp(probs, eps, 1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log(p) (log-odds log(p) - log1p(-p) if ``is_binary``), with p clamped away from 0 and 1.

    >>> from autograd_core.distributions.utils import probs_to_logits
    >>> probs_to_logits(ag.tensor([0.5]), is_binary=True)
    tensor([0.])
    """
    p = clamp_probs(probs)
    return E.log(p) - E.log1p(-p) if is_binary else E.log(p)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) if ``is_binary``, else softmax over the last dim.

    >>> from autograd_core.distributions.utils import logits_to_probs
    >>> logits_to_probs(ag.zeros(2))
    tensor([0.5000, 0.5000])
    """
    if is_binary:
        return E.sigmoid(logits)
    return E.exp(logits - R.logsumexp(logits, axis=-1, keepdims=True))


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dims (itself for dim 0).

    >>> from autograd_core.distributions.utils import sum_rightmost
    >>> sum_rightmost(ag.ones(2, 3), 1)
    tensor([3., 3.])
    """
    if dim <= 0:
        return value
    return R.sum(value, axis=tuple(range(-dim, 0)))


def binary_params(name: str, probs: Any, logits: Any) -> tuple[Tensor, Tensor, tuple[str, ...]]:
    """(probs, logits, the derived one's name) of a two-outcome family from exactly one of ``probs`` /
    ``logits`` (broadcast as ``broadcast_all``); the derived parameter is not checked (PyTorch derives it
    lazily).

    >>> from autograd_core.distributions.utils import binary_params
    >>> binary_params("Bernoulli", None, ag.tensor([0.0]))
    (tensor([0.5000]), tensor([0.]), ('probs',))
    """
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both")
    if probs is not None:
        (p,) = broadcast_all(probs)
        return p, probs_to_logits(p, is_binary=True), ("logits",)
    (lg,) = broadcast_all(logits)
    return E.sigmoid(lg), lg, ("probs",)

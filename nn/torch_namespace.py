"""PyTorch's namespaces under ``autograd_core``, for scripts ported by changing their import lines.

A PyTorch script ported with ``import autograd_core as torch`` and ``import nn`` still writes
``torch.nn.functional.relu(x)``, ``torch.nn.utils.clip_grad_norm_(...)``,
``torch.utils.data.DataLoader(...)`` or ``torch.save(model.state_dict(), path)``. Importing ``nn``
makes those names reach this package from ``autograd_core``:

* ``autograd_core.nn`` is ``nn``;
* ``autograd_core.utils.data`` is ``nn.data`` (``torch.utils.data``);
* ``autograd_core.save`` / ``autograd_core.load`` are ``nn.save`` / ``nn.load``;
* ``autograd_core.func.functional_call`` is ``nn.stateless.functional_call``;
* ``autograd_core.optim`` is ``optim`` (which registers itself the same way when imported first):
  ``import torch`` imports ``torch.optim`` too, so scripts use ``torch.optim.AdamW`` without importing it;
* the functional layers that PyTorch also has at its top level (``torch.conv1d``,
  ``torch.cosine_similarity``, ``torch.pixel_shuffle``, ``torch.selu``, ...: ``TOP_LEVEL``) are
  ``nn.functional``'s, and ``torch.embedding(weight, input)`` is ``F.embedding`` with PyTorch's
  argument order for that name.

The engine never imports ``nn`` or ``optim``: the names are added from this side, and a name
``autograd_core`` already has is left alone (but for its stand-ins for ``save``, ``load`` and
``func.functional_call``, which raise an error that says to import ``nn``).

    >>> import autograd_core as torch
    >>> import nn
    >>> torch.nn is nn, torch.utils.data.DataLoader is nn.data.DataLoader, torch.optim.SGD.__module__
    (True, True, 'optim.sgd')
"""
from __future__ import annotations

import sys
import types

import autograd_core
import optim

from . import data
from . import functional as F
from .serialization import load, save
from .stateless import functional_call

__all__ = ["register", "TOP_LEVEL"]

# nn.functional's names that PyTorch also exports at its top level, with the same arguments.
TOP_LEVEL = ("cosine_similarity", "pairwise_distance", "conv1d", "conv3d", "conv_transpose1d",
             "conv_transpose3d", "max_pool1d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "group_norm",
             "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "prelu", "selu", "celu", "rrelu", "threshold",
             "hardshrink", "bilinear", "alpha_dropout", "feature_alpha_dropout", "rms_norm", "relu_", "selu_",
             "celu_", "rrelu_", "threshold_", "max_pool1d_with_indices")


def _embedding(weight, input, padding_idx=-1, scale_grad_by_freq=False, sparse=False):  # noqa: A002
    """``torch.embedding(weight, input)``: the rows of ``weight`` at ``input`` (``F.embedding`` with the
    arguments the other way round, as PyTorch has them under this name).

    >>> import autograd_core as ag, nn
    >>> ag.embedding(ag.eye(3), ag.tensor([2, 0]))
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    return F.embedding(input, weight, padding_idx=None if padding_idx is None or padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def register(package: types.ModuleType) -> None:
    """Attach ``package`` (``nn``), ``utils.data``, ``save``, ``load`` and ``optim`` to ``autograd_core``."""
    utils = getattr(autograd_core, "utils", None)
    if utils is None:
        utils = types.ModuleType("autograd_core.utils", "PyTorch's ``torch.utils``: ``data`` is ``nn.data``.")
        setattr(autograd_core, "utils", utils)
    if not hasattr(utils, "data"):
        setattr(utils, "data", data)
    for name, value in (("nn", package), ("save", save), ("load", load), ("optim", optim)):
        current = getattr(autograd_core, name, None)
        if current is None or getattr(current, "stands_in_for_nn", False):
            setattr(autograd_core, name, value)
    for name in TOP_LEVEL:
        if not hasattr(autograd_core, name) and hasattr(F, name):
            setattr(autograd_core, name, getattr(F, name))
    if not hasattr(autograd_core, "embedding"):
        setattr(autograd_core, "embedding", _embedding)
    if getattr(autograd_core.func.functional_call, "stands_in_for_nn", False):
        autograd_core.func.functional_call = functional_call


register(sys.modules[__name__.rpartition(".")[0]])

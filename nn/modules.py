"""``torch.nn.modules``' submodule paths, for code that imports layers and base classes from there
(``from torch.nn.modules.loss import _Loss``, ``from torch.nn.modules.batchnorm import _BatchNorm``,
``torch.nn.modules.utils._pair``, ``isinstance(m, torch.nn.modules.conv._ConvNd)``): each is a namespace
holding the ``nn`` classes PyTorch defines in that file, also importable as ``nn.modules.<name>``.

    >>> import nn
    >>> from nn.modules.loss import _Loss
    >>> nn.modules.batchnorm.BatchNorm2d is nn.BatchNorm2d, issubclass(nn.MSELoss, _Loss)
    (True, True)
    >>> nn.modules.utils._pair(3), nn.modules.utils._ntuple(3)([1, 2, 3])
    ((3, 3), (1, 2, 3))
"""
from __future__ import annotations

import collections.abc
import itertools
import sys
import types
from typing import Any, Callable

from . import layers as _layers

__all__ = ["module", "linear", "conv", "batchnorm", "instancenorm", "normalization", "loss", "activation",
           "container", "dropout", "pooling", "rnn", "sparse", "transformer", "padding", "pixelshuffle",
           "upsampling", "flatten", "distance", "fold", "channelshuffle", "utils"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """``torch.nn.modules.utils._ntuple(n)``: a function turning x into an n-tuple (an iterable as a tuple,
    anything else repeated n times).

    >>> import nn
    >>> nn.modules.utils._ntuple(2)(4), nn.modules.utils._ntuple(2)((1, 2))
    ((4, 4), (1, 2))
    """
    def parse(x: Any) -> tuple:
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))
    parse.__name__ = name
    return parse


_GROUPS = {
    "module": ["Module"],
    "linear": ["Identity", "Linear", "Bilinear", "LazyLinear", "NonDynamicallyQuantizableLinear"],
    "conv": ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv1d",
             "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
             "_ConvNd"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d",
                  "LazyBatchNorm3d", "_BatchNorm", "_NormBase"],
    "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
                     "LazyInstanceNorm3d", "_InstanceNorm"],
    "normalization": ["LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm"],
    "loss": ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
             "BCEWithLogitsLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss",
             "MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
             "MultiLabelMarginLoss", "MultiMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss",
             "_Loss", "_WeightedLoss"],
    "activation": ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish",
                   "Sigmoid", "Tanh", "Softplus", "Softsign", "Softshrink", "Hardshrink", "Tanhshrink", "Threshold",
                   "Hardtanh", "Hardsigmoid", "Hardswish", "LogSigmoid", "GLU", "Softmax", "Softmin", "Softmax2d",
                   "LogSoftmax", "MultiheadAttention"],
    "container": ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "_DropoutNd"],
    "pooling": ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
                "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
                "LPPool1d", "LPPool2d", "MaxUnpool1d", "MaxUnpool2d"],
    "rnn": ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "transformer": ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
                    "TransformerDecoderLayer"],
    "padding": ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
                "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
                "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"],
    "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"],
    "upsampling": ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"],
    "flatten": ["Flatten", "Unflatten"],
    "distance": ["CosineSimilarity", "PairwiseDistance"],
    "fold": ["Fold", "Unfold"],
    "channelshuffle": ["ChannelShuffle"],
}


def _register(package: types.ModuleType) -> None:
    """Build ``nn.modules.<group>`` from the ``nn`` package (and the base classes in ``nn.layers``)."""
    me = sys.modules[__name__]
    for group, names in _GROUPS.items():
        sub = types.ModuleType(f"{__name__}.{group}", f"``torch.nn.modules.{group}``: these ``nn`` classes.")
        for n in names:
            obj = getattr(package, n, None) or getattr(_layers, n, None)
            if obj is not None:
                setattr(sub, n, obj)
        setattr(me, group, sub)
        sys.modules[f"{__name__}.{group}"] = sub
    utils = types.ModuleType(f"{__name__}.utils", "``torch.nn.modules.utils``: _single, _pair, _triple, _quadruple, "
                                                  "_ntuple.")
    for n, fn in (("_ntuple", _ntuple), ("_single", _ntuple(1, "_single")), ("_pair", _ntuple(2, "_pair")),
                  ("_triple", _ntuple(3, "_triple")), ("_quadruple", _ntuple(4, "_quadruple"))):
        setattr(utils, n, fn)
    setattr(me, "utils", utils)
    sys.modules[f"{__name__}.utils"] = utils
    for n in set(itertools.chain.from_iterable(_GROUPS.values())):  # torch.nn.modules.Linear, ...
        obj = getattr(package, n, None)
        if obj is not None and not n.startswith("_"):
            setattr(me, n, obj)


_register(sys.modules[__name__.rpartition(".")[0]])

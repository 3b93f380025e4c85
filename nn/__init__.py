"""nn: modules, layers, losses, init, checkpoints and data loading on top of ``autograd_core``.

    >>> import autograd_core as ag, nn, nn.functional as F
    >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> x, y = ag.randn(4, 2), ag.zeros(4, 1)
    >>> loss = F.mse_loss(model(x), y); loss.backward()
    >>> model[0].weight.grad.shape
    (8, 2)

No gradient is written here: every layer's forward is ``autograd_core`` tensor ops and the tape
differentiates it. Names, argument orders and default initializations follow PyTorch.
"""
from autograd_core import manual_seed

from . import data, functional, init, utils
from .attention import MultiheadAttention
from .data import DataLoader, Dataset, TensorDataset, load_cifar10, load_mnist
from .layers import (ELU, GELU, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss, BCEWithLogitsLoss,
                     Conv2d, ConvTranspose2d, CrossEntropyLoss, Dropout, Dropout1d, Dropout2d, Dropout3d, Flatten,
                     GroupNorm, HuberLoss, Identity, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, L1Loss,
                     LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool2d, MSELoss, NLLLoss, PixelShuffle,
                     PixelUnshuffle, ReLU, RMSNorm, Sigmoid, SiLU, SmoothL1Loss, Softmax, Softplus, Tanh, Unflatten,
                     Upsample)
from .module import Buffer, Module, ModuleDict, ModuleList, Parameter, Sequential, summary
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding, EmbeddingBag
from .serialization import load, save
from .activation import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6,
                         RReLU, Softmax2d, Softmin, Softshrink, Softsign, Tanhshrink, Threshold)
from .container import ParameterDict, ParameterList
from .conv1d import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, Conv1d, ConvTranspose1d,
                     LPPool1d, LPPool2d, MaxPool1d)
from .distance import CosineSimilarity, PairwiseDistance
from .layers import UpsamplingBilinear2d, UpsamplingNearest2d
from .loss import (CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, KLDivLoss, MarginRankingLoss,
                   MultiLabelMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss, SoftMarginLoss,
                   TripletMarginLoss, TripletMarginWithDistanceLoss, CTCLoss)
from .more_layers import (AlphaDropout, BatchNorm3d, Bilinear, ChannelShuffle, FeatureAlphaDropout, Fold,
                          LocalResponseNorm, SyncBatchNorm, Unfold)
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                      ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .unpool import MaxUnpool1d, MaxUnpool2d
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .layers3d import AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, Conv3d, ConvTranspose3d, MaxPool3d
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer)
from . import parameter  # noqa: E402  (torch.nn.parameter)
from . import parallel  # noqa: E402  (torch.nn.parallel)
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d,  # noqa: E402
                   LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d,
                   LazyInstanceNorm2d, LazyInstanceNorm3d, LazyLinear, LazyModuleMixin, UninitializedBuffer,
                   UninitializedParameter)
from .parallel import DataParallel  # noqa: E402
from . import torch_namespace  # noqa: F401,E402  (torch.nn, torch.utils.data, torch.save/load for ported scripts)
from . import modules  # noqa: E402  (torch.nn.modules.<file> paths)

__all__ = [
    "Module", "Parameter", "Buffer", "AdaptiveLogSoftmaxWithLoss", "DataParallel", "parallel", "LazyLinear", "LazyConv1d", "LazyConv2d",
    "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d",
    "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
    "LazyModuleMixin", "UninitializedParameter", "UninitializedBuffer", "Sequential", "ModuleList", "ModuleDict", "summary", "save", "load", "manual_seed",
    "functional", "init", "utils", "data", "Dataset", "TensorDataset", "DataLoader", "load_mnist", "load_cifar10",
    "Identity", "Linear", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Flatten", "Unflatten", "Upsample",
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "Dropout1d", "Dropout2d", "Dropout3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "PixelShuffle", "PixelUnshuffle", "Embedding", "EmbeddingBag", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell",
    "LSTMCell", "GRUCell", "MultiheadAttention", "RMSNorm",
    "ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "SELU", "CELU", "Mish", "Softsign", "Softshrink", "Hardshrink",
    "Tanhshrink", "Threshold", "LogSigmoid", "PReLU", "RReLU", "GLU", "Softmin", "Softmax2d",
    "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
    "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss", "MultiMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss", "CTCLoss", "Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d",
    "AdaptiveAvgPool3d", "AdaptiveMaxPool3d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d",
    "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "Conv1d", "ConvTranspose1d", "MaxPool1d", "AvgPool1d",
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "LPPool1d", "LPPool2d", "CosineSimilarity",
    "PairwiseDistance", "ParameterList", "ParameterDict", "Bilinear", "Unfold", "Fold", "AlphaDropout",
    "FeatureAlphaDropout", "LocalResponseNorm", "BatchNorm3d", "ChannelShuffle", "UpsamplingNearest2d",
    "UpsamplingBilinear2d", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer", "parameter", "MaxUnpool1d", "MaxUnpool2d", "SyncBatchNorm",
]

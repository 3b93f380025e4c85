"""More activation modules, as ``torch.nn``: ``ReLU6``, ``Hardtanh``, ``Hardsigmoid``, ``Hardswish``,
``SELU``, ``CELU``, ``Mish``, ``Softsign``, ``Softshrink``, ``Hardshrink``, ``Tanhshrink``, ``Threshold``,
``LogSigmoid``, ``PReLU`` (a learned slope), ``RReLU``, ``GLU``, ``Softmin``, ``Softmax2d``. Each calls
the ``nn.functional`` form of the same name; any input shape unless said otherwise.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from autograd_core.tensor import Tensor

from . import functional as F
from .layers import _dtype
from .module import Module, Parameter

__all__ = ["ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "SELU", "CELU", "Mish", "Softsign", "Softshrink",
           "Hardshrink", "Tanhshrink", "Threshold", "LogSigmoid", "PReLU", "RReLU", "GLU", "Softmin", "Softmax2d"]


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (default [-1, 1]).

    >>> import autograd_core as ag, nn
    >>> nn.Hardtanh()(ag.tensor([-2.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6).

    >>> import autograd_core as ag, nn
    >>> nn.ReLU6()(ag.tensor([-1.0, 7.0]))
    tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Simple(Module):
    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        # (only the activations that take ``inplace`` in PyTorch are built with it)
        return type(self)._fn(input, inplace=True) if self.inplace else type(self)._fn(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Simple):
    """relu6(x + 3) / 6.

    >>> import autograd_core as ag, nn
    >>> nn.Hardsigmoid()(ag.tensor([-4.0, 0.0]))
    tensor([0.0000, 0.5000])
    """
    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_Simple):
    """x * relu6(x + 3) / 6.

    >>> import autograd_core as ag, nn
    >>> nn.Hardswish()(ag.tensor([4.0]))
    tensor([4.])
    """
    _fn = staticmethod(F.hardswish)


class SELU(_Simple):
    """1.0507 * elu(x, 1.6733): self-normalizing.

    >>> import autograd_core as ag, nn
    >>> nn.SELU()(ag.tensor([1.0]))
    tensor([1.0507])
    """
    _fn = staticmethod(F.selu)


class Mish(_Simple):
    """x * tanh(softplus(x)).

    >>> import autograd_core as ag, nn
    >>> nn.Mish()(ag.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8651])
    """
    _fn = staticmethod(F.mish)


class Softsign(_Simple):
    """x / (1 + |x|).

    >>> import autograd_core as ag, nn
    >>> nn.Softsign()(ag.tensor([1.0]))
    tensor([0.5000])
    """
    _fn = staticmethod(F.softsign)


class Tanhshrink(_Simple):
    """x - tanh(x).

    >>> import autograd_core as ag, nn
    >>> nn.Tanhshrink()(ag.tensor([0.0]))
    tensor([0.])
    """
    _fn = staticmethod(F.tanhshrink)


class LogSigmoid(_Simple):
    """log(sigmoid(x)), computed as -softplus(-x).

    >>> import autograd_core as ag, nn
    >>> nn.LogSigmoid()(ag.tensor([0.0]))
    tensor([-0.6931])
    """
    _fn = staticmethod(F.logsigmoid)


class CELU(Module):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)).

    >>> import autograd_core as ag, nn
    >>> nn.CELU(2.0)(ag.tensor([-1.0]))
    tensor([-0.7869])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, else 0.

    >>> import autograd_core as ag, nn
    >>> nn.Softshrink(0.5)(ag.tensor([1.0, 0.2]))
    tensor([0.5000, 0.0000])
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0.

    >>> import autograd_core as ag, nn
    >>> nn.Hardshrink(0.5)(ag.tensor([1.0, 0.2]))
    tensor([1., 0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """x where x > threshold, else ``value``.

    >>> import autograd_core as ag, nn
    >>> nn.Threshold(0.1, 20.0)(ag.tensor([0.0, 1.0]))
    tensor([20.,  1.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"


class PReLU(Module):
    """x where x >= 0, else a x, with a learned slope ``weight`` of ``num_parameters`` entries (1, or one
    per channel in dim 1), starting at ``init``.

    >>> import autograd_core as ag, nn
    >>> m = nn.PReLU()
    >>> m(ag.tensor([-2.0, 3.0])), m.weight
    (tensor([-0.5000,  3.0000], grad_fn=<PreluBackward>), Parameter containing:
    tensor([0.2500], requires_grad=True))
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(np.full((num_parameters,), init, dtype=_dtype(dtype)))

    def reset_parameters(self) -> None:
        """Set the slopes back to ``init``.

        >>> import nn
        >>> m = nn.PReLU(init=0.1); m.reset_parameters(); m.weight.tolist()
        [0.10000000149011612]
        """
        self.weight._data[...] = self.init
        self.weight._version += 1

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: the negative slope is drawn from U(lower, upper) per element in training,
    and is (lower + upper) / 2 in eval.

    >>> import autograd_core as ag, nn
    >>> nn.RReLU(0.1, 0.3).eval()(ag.tensor([-1.0, 1.0]))
    tensor([-0.2000,  1.0000])
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class GLU(Module):
    """a * sigmoid(b) for the two halves a, b of the input along ``dim``.

    >>> import autograd_core as ag, nn
    >>> nn.GLU()(ag.tensor([[1.0, 100.0]]))
    tensor([[1.]])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """softmax(-x) along ``dim``.

    >>> import autograd_core as ag, nn
    >>> nn.Softmin(dim=0)(ag.tensor([1.0, 2.0]))
    tensor([0.7311, 0.2689])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W).

    >>> import autograd_core as ag, nn
    >>> nn.Softmax2d()(ag.zeros(1, 2, 1, 1)).reshape(-1)
    tensor([0.5000, 0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        x = F._t(input)
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D or 4-D input, got shape {tuple(x.shape)}")
        return F.softmax(x, -3)

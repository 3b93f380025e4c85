"""Parameter initialization, as ``torch.nn.init``.

Every function fills ``tensor._data`` in place (outside the tape, like PyTorch's ``no_grad``
init) and returns the tensor. Random values come from ``generator`` (an
``autograd_core.Generator``) or the global one that ``manual_seed(n)`` reseeds. Values are
drawn in float64 and then cast, so a seed gives the same numbers in float32 and float64.
"""
from __future__ import annotations

import math
import warnings
import sys

import numpy as np

from autograd_core.tensor import Generator, Tensor

_tensor_mod = sys.modules["autograd_core.tensor"]  # the module itself (ag.tensor is the function)

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_", "dirac_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_"]


def _rng(generator):
    gen = generator if generator is not None else _tensor_mod.default_generator
    return gen.np


def _check(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init.{fn}: expected a Tensor, got {type(tensor).__name__}")
    if tensor._data.dtype.kind != "f":
        raise TypeError(f"init.{fn}: expected a floating tensor, got dtype {tensor._data.dtype}")


def _write(tensor, values):
    tensor._data[...] = values  # casts to the tensor's dtype
    tensor._version += 1
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity``: 1 for linear/conv/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope ``param``, default 0.01), 3/4 for selu.

    >>> import nn
    >>> nn.init.calculate_gain("relu"), nn.init.calculate_gain("leaky_relu", 0.2)
    (1.4142135623730951, 1.3867504905630728)
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field (PyTorch's convention,
    so a Linear weight (out, in) has fan_in = in, and a ConvTranspose2d weight (in, out, kh, kw) has
    fan_in = out * kh * kw)."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions (shape {tuple(shape)})")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` with draws from U(a, b), in place; returns it.

    >>> import autograd_core as ag, nn
    >>> _ = ag.manual_seed(0)
    >>> nn.init.uniform_(ag.empty(2, 3), -1.0, 1.0)
    tensor([[ 0.2739, -0.4604, -0.9181],
            [-0.9669,  0.6265,  0.8255]])
    """
    _check(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"init.uniform_: expected a <= b, got a={a}, b={b}")
    return _write(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` with draws from N(mean, std^2), in place; returns it.

    >>> import autograd_core as ag, nn
    >>> _ = ag.manual_seed(0)
    >>> nn.init.normal_(ag.empty(2, 3), std=0.1)
    tensor([[ 0.0126, -0.0132,  0.0640],
            [ 0.0105, -0.0536,  0.0362]])
    """
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"init.normal_: std must be non-negative, got {std}")
    return _write(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` with N(mean, std^2) restricted to [a, b] (out-of-range draws are redrawn), in
    place; returns it. ``a`` and ``b`` are absolute bounds, as in PyTorch (not in units of std).

    >>> import autograd_core as ag, nn
    >>> w = nn.init.trunc_normal_(ag.empty(100, 100), std=1.0, a=-0.5, b=0.5)
    >>> bool(w.min() >= -0.5), bool(w.max() <= 0.5)
    (True, True)
    """
    _check(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"init.trunc_normal_: expected a < b, got a={a}, b={b}")
    if std <= 0:
        raise ValueError(f"init.trunc_normal_: std must be positive, got {std}")
    rng = _rng(generator)
    # rejection sampling; the acceptance rate is the mass of [a, b], so require it to be reasonable
    mass = 0.5 * (math.erf((b - mean) / (std * math.sqrt(2))) - math.erf((a - mean) / (std * math.sqrt(2))))
    if mass < 1e-4:
        raise ValueError(f"init.trunc_normal_: [a, b] = [{a}, {b}] holds almost none of N({mean}, {std}^2)")
    out = rng.normal(mean, std, tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _write(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``, in place; returns it.

    >>> import autograd_core as ag, nn
    >>> nn.init.constant_(ag.empty(2), 0.3)
    tensor([0.3000, 0.3000])
    """
    _check(tensor, "constant_")
    return _write(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros, in place; returns it.

    >>> import autograd_core as ag, nn
    >>> nn.init.zeros_(ag.empty(2))
    tensor([0., 0.])
    """
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones, in place; returns it.

    >>> import autograd_core as ag, nn
    >>> nn.init.ones_(ag.empty(2))
    tensor([1., 1.])
    """
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal, zeros elsewhere; non-square too),
    in place; returns it.

    >>> import autograd_core as ag, nn
    >>> nn.init.eye_(ag.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"init.eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight (out, in, *k) with the Dirac delta, in place: out channel
    d of each of ``groups`` groups has a 1 at input channel d and the kernel's centre, zeros elsewhere,
    so the convolution passes its first min(out / groups, in) input channels through. Returns it.

    >>> import autograd_core as ag, nn
    >>> nn.init.dirac_(ag.empty(2, 1, 3))
    tensor([[[0., 1., 0.]],
    <BLANKLINE>
            [[0., 0., 0.]]])
    """
    _check(tensor, "dirac_")
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"init.dirac_: only 3-, 4- and 5-D tensors are supported, got shape {tuple(tensor.shape)}")
    shape = tuple(tensor.shape)
    if groups < 1 or shape[0] % groups:
        raise ValueError(f"init.dirac_: dim 0 ({shape[0]}) must be divisible by groups ({groups})")
    per = shape[0] // groups
    out = np.zeros(shape)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(per, shape[1])):
            out[(g * per + d, d) + centre] = 1.0
    return _write(tensor, out)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` (at least 2-D) with U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot &
    Bengio, 2010), in place; returns it. fan_in = shape[1] * receptive field, fan_out = shape[0] *
    receptive field (the product of the dims after the first two), as PyTorch.

    >>> import autograd_core as ag, nn
    >>> w = nn.init.xavier_uniform_(ag.empty(300, 200))
    >>> round(float(w.abs().max()), 3)                    # sqrt(6 / 500)
    0.11
    """
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return _write(tensor, _rng(generator).uniform(-a, a, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` (at least 2-D) with N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)) (fans
    as ``xavier_uniform_``), in place; returns it.

    >>> import autograd_core as ag, nn
    >>> w = nn.init.xavier_normal_(ag.empty(300, 200))
    >>> round(float(w.std()), 2)                          # sqrt(2 / 500)
    0.06
    """
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _write(tensor, _rng(generator).normal(0.0, std, tensor.shape))


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _fan(tensor, mode)
    if fan == 0:
        raise ValueError(f"init: can't initialize an empty tensor (shape {tuple(tensor.shape)})")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` (at least 2-D) with U(-b, b), b = gain * sqrt(3 / fan) (He et al., 2015), in place;
    returns it. gain = ``calculate_gain(nonlinearity, a)`` (``a`` is the leaky_relu slope), fan is
    fan_in or fan_out by ``mode``. Linear and Conv layers use ``a=sqrt(5)``, which gives
    b = 1 / sqrt(fan_in), as PyTorch.

    >>> import autograd_core as ag, nn
    >>> w = nn.init.kaiming_uniform_(ag.empty(300, 200), nonlinearity="relu")
    >>> round(float(w.abs().max()), 2)                    # sqrt(2) sqrt(3 / 200)
    0.17
    """
    _check(tensor, "kaiming_uniform_")
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)   # PyTorch's words
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _write(tensor, _rng(generator).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` (at least 2-D) with N(0, std^2), std = gain / sqrt(fan) (gain and fan as
    ``kaiming_uniform_``), in place; returns it.

    >>> import autograd_core as ag, nn
    >>> w = nn.init.kaiming_normal_(ag.empty(300, 200), nonlinearity="relu")
    >>> round(float(w.std()), 2)                          # sqrt(2 / 200)
    0.1
    """
    _check(tensor, "kaiming_normal_")
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)   # PyTorch's words
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return _write(tensor, _rng(generator).normal(0.0, std, tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` (at least 2-D) with ``gain`` times a (semi-)orthogonal matrix (Saxe et al., 2013),
    from the QR decomposition of a Gaussian matrix, in place; returns it. Dims after the first are
    flattened: rows are orthonormal if there are fewer rows than columns, else the columns are.

    >>> import autograd_core as ag, nn
    >>> q = nn.init.orthogonal_(ag.empty(3, 3))
    >>> bool(ag.allclose(q @ q.T, ag.eye(3), atol=1e-6))
    True
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"init.orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the distribution uniform (Haar)
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None) -> Tensor:
    """Fill the 2-D ``tensor`` with draws from N(0, std^2), then zero ``ceil(sparsity * rows)`` randomly chosen
    entries of every column, in place; returns it (as ``torch.nn.init.sparse_``).

    >>> import autograd_core as ag, nn
    >>> w = nn.init.sparse_(ag.empty(4, 3), sparsity=0.5)
    >>> (w == 0).sum(0).tolist()
    [2, 2, 2]
    """
    _check(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError(f"init.sparse_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"init.sparse_: sparsity must be in [0, 1] (the fraction of each column set to 0), "
                         f"got {sparsity}")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    rng = _rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0.0
    return _write(tensor, values)


def _deprecated(new, example_args):
    """PyTorch's old name without the trailing underscore (``nn.init.xavier_uniform``): the same function,
    with PyTorch's FutureWarning."""
    old = new.__name__[:-1]

    def deprecated_init(*args, **kwargs):
        import warnings
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.", FutureWarning,
                      stacklevel=2)
        return new(*args, **kwargs)
    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    deprecated_init.__doc__ = (f"Deprecated: ``{new.__name__}`` under its old name (with PyTorch's FutureWarning).\n\n"
                               f"    >>> import warnings, autograd_core as ag, nn\n"
                               f"    >>> with warnings.catch_warnings(record=True) as caught:\n"
                               f"    ...     warnings.simplefilter('always')\n"
                               f"    ...     shape = nn.init.{old}({example_args}).shape\n"
                               f"    >>> shape, caught[0].category.__name__\n"
                               f"    ((2, 2, 1), 'FutureWarning')\n")
    return deprecated_init


_EX = "ag.empty(2, 2, 1)"
uniform = _deprecated(uniform_, _EX)
normal = _deprecated(normal_, _EX)
constant = _deprecated(constant_, _EX + ", 0.5")
eye = _deprecated(eye_, _EX + "[:, :, 0]).unsqueeze(-1")
dirac = _deprecated(dirac_, _EX)
xavier_uniform = _deprecated(xavier_uniform_, _EX)
xavier_normal = _deprecated(xavier_normal_, _EX)
kaiming_uniform = _deprecated(kaiming_uniform_, _EX)
kaiming_normal = _deprecated(kaiming_normal_, _EX)
orthogonal = _deprecated(orthogonal_, _EX)
sparse = _deprecated(sparse_, _EX + "[:, :, 0], 0.5).unsqueeze(-1")
__all__ += ["sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
            "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]

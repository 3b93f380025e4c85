"""PyTorch's window functions: ``hann_window``, ``hamming_window``, ``blackman_window``,
``bartlett_window`` and ``kaiser_window``.

Each gives ``window_length`` values in the default float dtype. ``periodic=True`` (PyTorch's default,
for spectral analysis) computes the symmetric window of length N + 1 and drops its last value.

    >>> import autograd_core as ag
    >>> ag.hann_window(4)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
"""
from __future__ import annotations

import numpy as np

from .devices import check_device
from .tensor import Tensor, get_default_dtype

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _window(name, n, periodic, dtype, device, requires_grad, fn):
    if device is not None:
        check_device(device, name)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name}: window_length must be a non-negative int, got {n!r}")
    dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
    if dt.kind != "f":
        raise ValueError(f"{name}: expects a floating dtype, got {dt.name}")
    if n <= 1:
        return Tensor(np.ones(n, dt), requires_grad=requires_grad)
    m = n + 1 if periodic else n
    k = np.arange(m, dtype=np.float64)
    w = fn(k, m)[:n]
    return Tensor(w.astype(dt), requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """Hann window: ``0.5 - 0.5 cos(2 pi k / (M - 1))`` (M = N + 1 when periodic), as ``torch.hann_window``.

    >>> import autograd_core as ag
    >>> ag.hann_window(5, periodic=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.5 - 0.5 * np.cos(2 * np.pi * k / (m - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, device=None,
                   requires_grad=False):
    """Hamming window: ``alpha - beta cos(2 pi k / (M - 1))``, as ``torch.hamming_window``.

    >>> import autograd_core as ag
    >>> ag.hamming_window(3, periodic=False)
    tensor([0.0800, 1.0000, 0.0800])
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: alpha - beta * np.cos(2 * np.pi * k / (m - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """Blackman window: ``0.42 - 0.5 cos(2 pi k / (M - 1)) + 0.08 cos(4 pi k / (M - 1))``, as
    ``torch.blackman_window``.

    >>> import autograd_core as ag
    >>> ag.blackman_window(3, periodic=False).round(decimals=4)
    tensor([-0.,  1., -0.])
    """
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.42 - 0.5 * np.cos(2 * np.pi * k / (m - 1)) + 0.08 * np.cos(4 * np.pi * k / (m - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """Bartlett (triangular) window: ``1 - |2 k / (M - 1) - 1|``, as ``torch.bartlett_window``.

    >>> import autograd_core as ag
    >>> ag.bartlett_window(5, periodic=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 1.0 - np.abs(2.0 * k / (m - 1) - 1.0))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None, requires_grad=False):
    """Kaiser window: ``I0(beta sqrt(1 - (2 k / (M - 1) - 1)^2)) / I0(beta)``, as ``torch.kaiser_window``.

    >>> import autograd_core as ag
    >>> ag.kaiser_window(3, periodic=False, beta=0.0)
    tensor([1., 1., 1.])
    """
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: np.i0(beta * np.sqrt(np.clip(1.0 - (2.0 * k / (m - 1) - 1.0) ** 2, 0.0, None)))
                   / np.i0(beta))

"""Mixed precision (PyTorch's ``torch.amp``): ``autocast`` and ``GradScaler``, which do nothing here.

PyTorch's automatic mixed precision runs chosen ops in float16/bfloat16 on a GPU and scales the
loss so that small float16 gradients don't underflow. This engine computes every op in its
inputs' own dtype (float32 or float64) on the CPU, so there is nothing to cast and nothing to
scale. The names exist so that an AMP training loop runs unchanged and trains as it would with
AMP turned off:

* ``autocast(device_type, dtype=None, enabled=True)`` is a context manager and decorator that
  changes nothing (for ``'cuda'`` it warns once, as PyTorch does without a GPU);
* ``GradScaler(...)`` is always disabled: ``scale(loss)`` returns ``loss``, ``step(opt)`` calls
  ``opt.step()``, ``update()``/``unscale_()`` do nothing, ``get_scale()`` is 1.0 and
  ``state_dict()`` is ``{}``. Asked to be enabled, it warns once and stays disabled.

    >>> import autograd_core as ag
    >>> scaler = ag.amp.GradScaler(enabled=False)
    >>> loss = ag.tensor(2.0)
    >>> scaler.scale(loss) is loss, scaler.get_scale(), scaler.is_enabled()
    (True, 1.0, False)
    >>> with ag.autocast("cpu", dtype=ag.float16):
    ...     (ag.ones(2) * 3).dtype
    dtype('float32')
"""
from __future__ import annotations

import functools
import sys
import warnings

from .devices import _DEVICE_TYPES, _module, cpu, cuda

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd", "is_autocast_available"]

_warned = set()


def _warn_once(key, msg):
    """Warn the first time only, pointing at the caller's line outside this module."""
    if key in _warned:
        return
    _warned.add(key)
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        level, frame = level + 1, frame.f_back
    warnings.warn(msg, UserWarning, stacklevel=level)


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context manager and
    decorator that does nothing here (PyTorch's ``torch.autocast``).

    Ops inside it compute in their inputs' dtype, as with ``enabled=False`` in PyTorch. ``device_type``
    must be a device type name (``'cpu'``, ``'cuda'``, ...); ``'cuda'`` and other GPU types warn once
    that there is no such device, as PyTorch does when CUDA is missing.

    >>> import autograd_core as ag
    >>> with ag.autocast("cpu", dtype=ag.bfloat16):
    ...     y = ag.ones(2, 2) @ ag.ones(2, 2)
    >>> y.dtype
    dtype('float32')
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise TypeError(f"autocast: expected a device type string such as 'cpu' or 'cuda', got {device_type!r}")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"autocast: unsupported device_type {device_type!r}; expected one of 'cpu', 'cuda', ...")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        if enabled and device_type != "cpu":
            _warn_once(("autocast", device_type),
                       f"autocast: there is no {device_type!r} device here (this engine runs on the CPU); autocast "
                       "does nothing and ops compute in their inputs' dtype")

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


def is_autocast_available(device_type):
    """True for ``'cpu'`` (where ``autocast`` is accepted and does nothing), False for other devices
    (PyTorch's ``torch.amp.is_autocast_available``).

    >>> import autograd_core as ag
    >>> ag.amp.is_autocast_available("cpu"), ag.amp.is_autocast_available("cuda")
    (True, False)
    """
    return device_type == "cpu"


def custom_fwd(fwd=None, *, device_type="cuda", cast_inputs=None):
    """Decorator for a custom Function's forward (PyTorch's ``torch.amp.custom_fwd``): returns it unchanged.

    >>> import autograd_core as ag
    >>> def forward(ctx, x):
    ...     return x * 2
    >>> ag.amp.custom_fwd(forward) is forward, ag.amp.custom_fwd(device_type="cuda")(forward) is forward
    (True, True)
    """
    if fwd is None:
        return lambda f: f
    return fwd


def custom_bwd(bwd=None, *, device_type="cuda"):
    """Decorator for a custom Function's backward (PyTorch's ``torch.amp.custom_bwd``): returns it unchanged.

    >>> import autograd_core as ag
    >>> def backward(ctx, g):
    ...     return g * 2
    >>> ag.amp.custom_bwd(backward) is backward, ag.amp.custom_bwd(device_type="cuda")(backward) is backward
    (True, True)
    """
    if bwd is None:
        return lambda f: f
    return bwd


class GradScaler:
    """PyTorch's loss scaler for float16 training; always disabled here (see the module docstring).

    ``GradScaler(device="cuda", init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``. With ``enabled=True`` it warns once that scaling is
    turned off (as PyTorch does when CUDA is missing) and then acts as a disabled scaler.

    >>> import autograd_core as ag
    >>> scaler = ag.amp.GradScaler("cpu", enabled=False)
    >>> loss = ag.tensor(2.0)
    >>> scaler.scale(loss) is loss, scaler.get_scale(), scaler.is_enabled()
    (True, 1.0, False)
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = str(device)
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        if enabled:
            _warn_once("GradScaler",
                       "GradScaler is enabled, but this engine computes in float32/float64 on the CPU (autocast does "
                       "nothing), so there is nothing to scale. Disabling.")
        self._enabled = False

    def is_enabled(self):
        """False: the scaler is always disabled here (PyTorch's ``GradScaler.is_enabled``).

        >>> import autograd_core as ag
        >>> ag.amp.GradScaler(enabled=False).is_enabled()
        False
        """
        return self._enabled

    def scale(self, outputs):
        """Returns ``outputs`` unchanged (a tensor, or an iterable of them).

        >>> import autograd_core as ag
        >>> loss = ag.tensor(1.5)
        >>> ag.amp.GradScaler(enabled=False).scale(loss) is loss
        True
        """
        return outputs

    def unscale_(self, optimizer):
        """Does nothing: the gradients were never scaled."""
        return None

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)``, and its return value.

        >>> import autograd_core as ag
        >>> class Opt:
        ...     def step(self):
        ...         return "stepped"
        >>> ag.amp.GradScaler(enabled=False).step(Opt())
        'stepped'
        """
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Does nothing (a disabled scaler keeps no scale)."""
        return None

    def get_scale(self):
        """1.0 (a disabled scaler's scale, as in PyTorch).

        >>> import autograd_core as ag
        >>> ag.amp.GradScaler(enabled=False).get_scale()
        1.0
        """
        return 1.0

    def get_growth_factor(self):
        """The growth factor given to the constructor or ``set_growth_factor`` (unused: the scaler is disabled).

        >>> import autograd_core as ag
        >>> ag.amp.GradScaler(enabled=False).get_growth_factor()
        2.0
        """
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Set the growth factor (kept for ``get_growth_factor``; unused: the scaler is disabled).

        >>> import autograd_core as ag
        >>> s = ag.amp.GradScaler(enabled=False)
        >>> s.set_growth_factor(4.0)
        >>> s.get_growth_factor()
        4.0
        """
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        """The backoff factor given to the constructor or ``set_backoff_factor`` (unused: the scaler is disabled).

        >>> import autograd_core as ag
        >>> ag.amp.GradScaler(enabled=False).get_backoff_factor()
        0.5
        """
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Set the backoff factor (kept for ``get_backoff_factor``; unused: the scaler is disabled).

        >>> import autograd_core as ag
        >>> s = ag.amp.GradScaler(enabled=False)
        >>> s.set_backoff_factor(0.25)
        >>> s.get_backoff_factor()
        0.25
        """
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        """The growth interval given to the constructor or ``set_growth_interval`` (unused: the scaler is disabled).

        >>> import autograd_core as ag
        >>> ag.amp.GradScaler(enabled=False).get_growth_interval()
        2000
        """
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Set the growth interval (kept for ``get_growth_interval``; unused: the scaler is disabled).

        >>> import autograd_core as ag
        >>> s = ag.amp.GradScaler(enabled=False)
        >>> s.set_growth_interval(100)
        >>> s.get_growth_interval()
        100
        """
        self._growth_interval = int(new_interval)

    def state_dict(self):
        """``{}``, as a disabled PyTorch scaler returns.

        >>> import autograd_core as ag
        >>> s = ag.amp.GradScaler(enabled=False)
        >>> s.state_dict()
        {}
        >>> s.load_state_dict({"scale": 1024.0})
        """
        return {}

    def load_state_dict(self, state_dict):
        """Accepts any scaler state (a disabled scaler ignores it, as in PyTorch)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"GradScaler.load_state_dict: expected a dict, got {type(state_dict).__name__}")

    def __repr__(self):
        return f"GradScaler(device={self._device!r}, enabled=False)"


# -- torch.cuda.amp: the older spellings (no device argument) ---------------------------------------
_cuda_amp = _module("cuda.amp", "PyTorch's ``torch.cuda.amp``: ``GradScaler`` and ``autocast`` for CUDA "
                                "(both do nothing here; see ``autograd_core.amp``).")


class _CudaGradScaler(GradScaler):
    """``torch.cuda.amp.GradScaler(init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``: always disabled here (see ``amp.GradScaler``)."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


class _CudaAutocast(autocast):
    """``torch.cuda.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)``: does nothing here."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


for _cls, _name in ((_CudaGradScaler, "GradScaler"), (_CudaAutocast, "autocast")):
    _cls.__name__ = _cls.__qualname__ = _name
    _cls.__module__ = _cuda_amp.__name__
    setattr(_cuda_amp, _name, _cls)
_cuda_amp.custom_fwd, _cuda_amp.custom_bwd = custom_fwd, custom_bwd
cuda.amp = _cuda_amp

# torch.cpu.amp.autocast(dtype=bfloat16, enabled=True): the CPU spelling
_cpu_amp = _module("cpu.amp", "PyTorch's ``torch.cpu.amp``: ``autocast`` (does nothing here).")


class _CpuAutocast(autocast):
    """``torch.cpu.amp.autocast(enabled=True, dtype=bfloat16, cache_enabled=True)``: does nothing here."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


_CpuAutocast.__name__ = _CpuAutocast.__qualname__ = "autocast"
_cpu_amp.autocast = _CpuAutocast
cpu.amp = _cpu_amp


"""Devices: ``device``, and the ``cuda``, ``accelerator`` and ``backends`` namespaces of PyTorch.

This engine computes on the CPU only (NumPy arrays). Scripts written for PyTorch still ask about
devices, so the names they use are here and answer as PyTorch does on a machine without a GPU:
``cuda.is_available()`` is False, ``device("cpu")`` is the one device, settings such as
``backends.cudnn.benchmark`` can be set (and change nothing). Any request for a CUDA, MPS or other
device (``device="cuda"``, ``t.to("cuda:0")``, ``t.cuda()``) raises a RuntimeError that says so and
what to write instead.

    >>> import autograd_core as ag
    >>> dev = ag.device("cuda" if ag.cuda.is_available() else "cpu")
    >>> dev, str(dev), dev.type, dev.index
    (device(type='cpu'), 'cpu', 'cpu', None)
    >>> ag.zeros(2, device=dev).device == "cpu"
    True

``autograd_core.cuda``, ``autograd_core.cuda.amp``, ``autograd_core.backends`` and
``autograd_core.backends.cudnn`` can also be imported by name (``import autograd_core.backends.cudnn
as cudnn``), as their PyTorch counterparts are.
"""
from __future__ import annotations

from typing import Any

import sys
import types

__all__ = ["device", "check_device", "is_device", "cuda", "cpu", "accelerator", "backends", "set_default_device",
           "get_default_device", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled"]

# PyTorch's device types: the names a script may use. Only "cpu" exists here.
_DEVICE_TYPES = ("cpu", "cuda", "mps", "meta", "xpu", "xla", "hip", "hpu", "ipu", "mtia", "vulkan", "opengl",
                 "ort", "mkldnn", "fpga", "ve", "lazy", "privateuseone", "maia")


class device:
    """A device: a type (``'cpu'``, ``'cuda'``, ...) and an optional index (PyTorch's ``torch.device``).

    ``device("cpu")``, ``device("cpu", 0)``, ``device("cuda:1")`` and ``device(0)`` (CUDA device 0)
    all make a device object; only the CPU can hold tensors here, and using any other device
    raises a RuntimeError. ``str(d)`` is ``'cpu'`` or ``'cuda:1'``; a device equals another device
    of the same type and index, and (unlike PyTorch, where this is False) the string that names it.

    >>> ag.device("cpu", 0)
    device(type='cpu', index=0)
    >>> ag.device("cpu") == "cpu", ag.device("cuda:1").index
    (True, 1)
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: an index can't be given with a device object")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, bool):
            raise TypeError(f"device: expected a device name or an index, got {type!r}")
        if isinstance(type, int) or _is_integer(type):
            if index is not None:
                raise TypeError("device: an index can't be given twice")
            type, index = "cuda", int(type)  # PyTorch reads a bare int as a CUDA ordinal
        if not isinstance(type, str):
            name = str(type)  # a torch.device, or anything whose str() is a device name
            if not _type_of(name):
                raise TypeError(f"device: expected a device name such as 'cpu', got {type!r}")
            type = name
        name = type.strip()
        kind, sep, idx = name.partition(":")
        kind = kind.strip().lower()
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(_DEVICE_TYPES)} as the device type, got "
                               f"{type!r}; this engine has one device, 'cpu'")
        if sep:
            if index is not None:
                raise RuntimeError(f"device: type {type!r} already has an index; don't pass index={index!r}")
            if not idx.strip().isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}; expected 'type' or 'type:index'")
            index = int(idx)
        if index is not None:
            if isinstance(index, bool) or not (isinstance(index, int) or _is_integer(index)) or index < 0:
                raise RuntimeError(f"device: the index must be a non-negative int, got {index!r}")
            index = int(index)
        self._type, self._index = kind, index

    @property
    def type(self):  # noqa: A003
        """The device type, e.g. ``'cpu'``."""
        return self._type

    @property
    def index(self):
        """The device index, or None."""
        return self._index

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if isinstance(other, device):
            return self._type == other._type and self._index == other._index
        return NotImplemented

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))

    # ``with ag.device("cpu"):`` is accepted (the default device is always the CPU); so is 'meta', under
    # which PyTorch builds a module without storage, to be filled by load_state_dict(sd, assign=True): here
    # the tensors made inside are the CPU's (as Module.to('meta') keeps them), which that load replaces alike
    def __enter__(self):
        if self._type != "meta":
            check_device(self, "device")
        return self

    def __exit__(self, *exc):
        return False


def _is_integer(v):
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return False
    return isinstance(v, np.integer)


def _type_of(obj):
    """The device type ``obj`` names ('cpu', 'cuda', ...), or None when it names no device."""
    if obj is None or isinstance(obj, bool):
        return None
    if isinstance(obj, device):
        return obj._type
    if isinstance(obj, int) or _is_integer(obj):
        return "cuda"
    name = obj if isinstance(obj, str) else str(obj)
    kind = name.split(":")[0].strip().lower()
    return kind if kind in _DEVICE_TYPES else None


def is_device(obj):
    """True when ``obj`` names a device (a ``device``, a device string such as ``'cuda:0'``, a
    ``torch.device``), whether or not this engine has it. Strings that name no device ('float32')
    give False."""
    if isinstance(obj, (int, bool)) or _is_integer(obj):
        return False  # a bare int is a size or a dtype code in the places this is asked
    return _type_of(obj) is not None


_CPU = device("cpu")


def check_device(dev, where="tensor"):
    """Accept None and the CPU (returns ``device('cpu')``); refuse every other device.

    ``where`` names the call in the message. A CUDA/MPS/... request gets a RuntimeError that says
    this engine runs on the CPU only and what to do; something that is no device name gets a
    TypeError.
    """
    if dev is None:
        return _CPU
    if isinstance(dev, device) and dev._type == "cpu":
        return _CPU
    kind = _type_of(dev)
    if kind == "cpu":
        return _CPU
    if kind is None:
        raise TypeError(f"{where}: {dev!r} is not a device; this engine has one device, 'cpu' "
                        "(pass device='cpu' or leave it out)")
    if isinstance(dev, int) or _is_integer(dev):
        name = f"cuda:{int(dev)}"
    else:
        name = str(dev)
    raise RuntimeError(
        f"{where}: this engine runs on the CPU only (NumPy arrays); there is no {name!r} device. Use "
        f"device='cpu' or leave the device out (code that picks 'cuda' if torch.cuda.is_available() "
        f"gets 'cpu' here, since cuda.is_available() is False), and drop .cuda() calls.")


_default_device = _CPU


def set_default_device(dev: Any) -> None:
    """PyTorch's ``torch.set_default_device``: only the CPU (or None) is accepted; any other device raises
    the CPU-only RuntimeError.

    >>> import autograd_core as ag
    >>> ag.set_default_device("cpu")
    >>> ag.get_default_device()
    device(type='cpu')
    """
    check_device(dev, "set_default_device")


def get_default_device():
    """The device new tensors are made on: always ``device('cpu')`` (PyTorch's ``torch.get_default_device``).

    >>> import autograd_core as ag
    >>> ag.get_default_device()
    device(type='cpu')
    """
    return _default_device


# -- namespaces --------------------------------------------------------------------------------
def _module(name, doc):
    """A module object registered under ``autograd_core.<name>`` so that ``import`` finds it."""
    full = f"{__name__.rpartition('.')[0]}.{name}"
    mod = sys.modules.get(full)
    if mod is None:
        mod = types.ModuleType(full, doc)
        sys.modules[full] = mod
    return mod


def _const(mod, name, value, doc):
    """Put a function ``name(*args, **kwargs) -> value`` on module ``mod``. ``doc`` starts with the
    value it returns (``"False: ..."``), which its example shows, or says what it does."""
    def f(*args, **kwargs):
        return value
    f.__name__ = f.__qualname__ = name
    f.__module__ = mod.__name__
    head = doc.split(" ", 1)[0]
    shown = head[:-1] if head.endswith(":") and head != "None:" else ""
    f.__doc__ = (f"{doc}\n\n>>> import autograd_core as ag\n>>> ag.{mod.__name__.partition('.')[2]}.{name}()\n"
                 + (f"{shown}\n" if shown else ""))
    setattr(mod, name, f)
    return f


def _refuse(mod, name):
    def f(*args, **kwargs):
        raise RuntimeError(f"{mod.__name__.rpartition('.')[2]}.{name}: this engine runs on the CPU only (NumPy "
                           "arrays) and has no CUDA device; cuda.is_available() is False, so guard GPU-only code "
                           "with it")
    f.__name__ = f.__qualname__ = name
    f.__module__ = mod.__name__
    call = f"{mod.__name__.rpartition('.')[2]}.{name}"
    f.__doc__ = (f"Refused: there is no CUDA device here (PyTorch's ``torch.{call}``).\n\n"
                 f">>> import autograd_core as ag\n>>> ag.{call}()  # doctest: +ELLIPSIS\n"
                 f"Traceback (most recent call last):\n    ...\n"
                 f"RuntimeError: {call}: this engine runs on the CPU only (NumPy arrays) and has no CUDA device; ...\n")
    setattr(mod, name, f)
    return f


cuda = _module("cuda", """PyTorch's ``torch.cuda``, answering as on a machine without a GPU.

``is_available()`` is False and ``device_count()`` 0; seeding, ``synchronize`` and ``empty_cache``
do nothing; memory queries return 0; asking for the current device or its name raises a
RuntimeError. ``cuda.amp`` holds the older ``GradScaler`` and ``autocast`` spellings.

    >>> ag.cuda.is_available(), ag.cuda.device_count(), ag.cuda.is_bf16_supported()
    (False, 0, False)
""")
for _name in ("is_available", "is_bf16_supported", "is_initialized"):
    _const(cuda, _name, False, "False: there is no CUDA device here.")
_const(cuda, "device_count", 0, "0: there is no CUDA device here.")
for _name in ("manual_seed", "manual_seed_all", "seed", "seed_all", "synchronize", "empty_cache",
              "reset_peak_memory_stats", "ipc_collect"):
    _const(cuda, _name, None, "Does nothing here (there is no CUDA device).")
for _name in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved"):
    _const(cuda, _name, 0, "0: no CUDA memory is used here.")
for _name in ("current_device", "get_device_name", "get_device_properties", "get_device_capability",
              "set_device", "init"):
    _refuse(cuda, _name)


class _Settings(types.SimpleNamespace):
    """A namespace of settable flags (``backends.cudnn.benchmark = True``)."""

    def __repr__(self):
        return f"<{self.__class__.__name__} {vars(self)}>"


backends = _module("backends", """PyTorch's ``torch.backends``: flags scripts set, which change nothing here.

``cudnn`` (``benchmark``, ``deterministic``, ``enabled``, ``allow_tf32``; ``is_available()`` False),
``cuda.matmul.allow_tf32``, ``mps.is_available()`` (False), ``mkldnn``.

    >>> ag.backends.cudnn.benchmark = True
    >>> ag.backends.mps.is_available()
    False
""")
_cudnn = _module("backends.cudnn", "cuDNN settings (accepted; nothing here uses cuDNN).")
_cudnn.enabled, _cudnn.benchmark, _cudnn.deterministic, _cudnn.allow_tf32 = True, False, False, True
_const(_cudnn, "is_available", False, "False: there is no cuDNN here.")
_const(_cudnn, "version", None, "None: there is no cuDNN here.")
_bcuda = _module("backends.cuda", "CUDA backend settings (accepted; there is no CUDA here).")
_bcuda.matmul = _Settings(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                          allow_bf16_reduced_precision_reduction=True)
_const(_bcuda, "is_built", False, "False: there is no CUDA here.")
_mps = _module("backends.mps", "Apple MPS backend: not available here.")
_const(_mps, "is_available", False, "False: there is no MPS device here.")
_const(_mps, "is_built", False, "False: there is no MPS device here.")
_mkldnn = _module("backends.mkldnn", "oneDNN settings (accepted; not used here).")
_mkldnn.enabled = True
_const(_mkldnn, "is_available", False, "False: oneDNN is not used here.")
backends.cudnn, backends.cuda, backends.mps, backends.mkldnn = _cudnn, _bcuda, _mps, _mkldnn

cpu = _module("cpu", "PyTorch's ``torch.cpu``: ``is_available()`` is True; ``cpu.amp.autocast`` does nothing.")
_const(cpu, "is_available", True, "True: the CPU is this engine's one device.")
_const(cpu, "device_count", 1, "1: the CPU.")
_const(cpu, "synchronize", None, "Does nothing (CPU ops finish before they return).")

accelerator = _module("accelerator", """PyTorch's ``torch.accelerator``: there is none here.

    >>> ag.accelerator.is_available(), ag.accelerator.current_accelerator()
    (False, None)
""")
_const(accelerator, "is_available", False, "False: there is no accelerator here.")
_const(accelerator, "current_accelerator", None, "None: there is no accelerator here.")
_const(accelerator, "device_count", 0, "0: there is no accelerator here.")
_const(accelerator, "synchronize", None, "Does nothing here.")

# The doctest finder doesn't look inside the namespace modules made here: hand it their functions.
__test__ = {f"{_m.__name__}.{_n}": _f for _m in (cuda, _cudnn, _bcuda, _mps, _mkldnn, cpu, accelerator)
            for _n, _f in vars(_m).items() if isinstance(_f, types.FunctionType)}


# -- process-wide numeric settings PyTorch scripts set --------------------------------------------
_matmul_precision = "highest"
_deterministic = [False, False]  # (enabled, warn_only)


def set_float32_matmul_precision(precision: str) -> None:
    """Accepts ``'highest'``, ``'high'`` or ``'medium'`` (PyTorch's TF32/bfloat16 matmul switch,
    ``torch.set_float32_matmul_precision``); float32
    products here are always computed in float32 by BLAS, so the setting is only remembered.

    >>> import autograd_core as ag
    >>> ag.set_float32_matmul_precision("high")
    >>> ag.get_float32_matmul_precision()
    'high'
    >>> ag.set_float32_matmul_precision("highest")
    """
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got {precision!r}")
    global _matmul_precision
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """The last value given to ``set_float32_matmul_precision`` (``'highest'`` at first), as
    ``torch.get_float32_matmul_precision``; it changes nothing here.

    >>> import autograd_core as ag
    >>> ag.get_float32_matmul_precision()
    'highest'
    """
    return _matmul_precision


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """PyTorch's ``torch.use_deterministic_algorithms``: remembered only, since every op here is
    deterministic already (given the seed).

    >>> import autograd_core as ag
    >>> ag.use_deterministic_algorithms(True, warn_only=True)
    >>> ag.are_deterministic_algorithms_enabled(), ag.is_deterministic_algorithms_warn_only_enabled()
    (True, True)
    >>> ag.use_deterministic_algorithms(False)
    """
    _deterministic[:] = [bool(mode), bool(warn_only)]


def are_deterministic_algorithms_enabled() -> bool:
    """The ``mode`` last given to ``use_deterministic_algorithms`` (False at first), as
    ``torch.are_deterministic_algorithms_enabled``.

    >>> import autograd_core as ag
    >>> ag.are_deterministic_algorithms_enabled()
    False
    """
    return _deterministic[0]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` last given to ``use_deterministic_algorithms`` (False at first), as
    ``torch.is_deterministic_algorithms_warn_only_enabled``.

    >>> import autograd_core as ag
    >>> ag.is_deterministic_algorithms_warn_only_enabled()
    False
    """
    return _deterministic[1]

"""Per-thread engine state: grad mode, anomaly mode, transform nesting level, and listeners.

Everything here is thread-local: a ``no_grad()`` or ``detect_anomaly()`` block in one thread never
changes what another thread records. The one process-wide value, ``listening``, only counts how
many listeners are open in any thread, so that the per-op hot path pays a single global read when
none is.
"""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "state"]


class _State(threading.local):
    enabled = True        # grad mode: record ops on the tape
    listeners = ()        # this thread's Listener objects (see listeners.py)
    level = 0             # how many function transforms (grad, vjp, jacobian, ...) are open
    anomaly = None        # the AnomalyListener of an open detect_anomaly(), or None
    explain = None        # an open inspect.explain_backward() block, or None


state = _State()
mode = state  # the name older code and tests use

# How many listeners are open in all threads together: the hot path reads this before it reads
# the thread-local list. Changed only under the lock.
listening = 0
_lock = threading.Lock()


def _add_listener(listener):
    global listening
    with _lock:
        state.listeners = state.listeners + (listener,)
        listening += 1


def _remove_listener(listener):
    global listening
    with _lock:
        ls = state.listeners
        for i, l in enumerate(ls):
            if l is listener:
                state.listeners = ls[:i] + ls[i + 1:]
                listening -= 1
                return


def is_grad_enabled():
    """True when ops are recorded on the tape (this thread)."""
    return state.enabled


class _GradModeContext:
    """Base of no_grad/enable_grad: a context manager and a decorator."""
    _target = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._target

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()


class no_grad(_GradModeContext):
    """Record nothing on the tape inside this block (context manager or decorator).

    >>> import autograd_core as ag
    >>> x = ag.ones(2, requires_grad=True)
    >>> with ag.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    _target = False


class inference_mode(_GradModeContext):
    """PyTorch's ``inference_mode``: here the same as ``no_grad`` (``inference_mode(False)`` records).

    >>> import autograd_core as ag
    >>> with ag.inference_mode():
    ...     y = ag.ones(2, requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, mode=True):
        self._target = not mode

    def _args(self):
        return (not self._target,)


class enable_grad(_GradModeContext):
    """Re-enable recording inside a ``no_grad`` block.

    >>> import autograd_core as ag
    >>> with ag.no_grad(), ag.enable_grad():
    ...     ag.is_grad_enabled()
    True
    """
    _target = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(flag)``: turn recording on or off; usable as a call, context or decorator.

    >>> import autograd_core as ag
    >>> with ag.set_grad_enabled(False):
    ...     ag.is_grad_enabled()
    False
    """

    def __init__(self, flag):
        self._target = bool(flag)
        self._prev = state.enabled
        state.enabled = self._target  # also works as a plain function call, like torch

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        # Used as a decorator, __init__ must not leave the mode switched (as in torch)
        state.enabled = self._prev
        return super().__call__(fn)

    def _args(self):
        return (self._target,)


class detect_anomaly:
    """Inside this block (this thread only), nodes remember where they were created, and backward
    stops at the first op whose gradient holds NaN or Inf, naming that op and that place.

    >>> import autograd_core as ag
    >>> x = ag.tensor([0.0], requires_grad=True)
    >>> with ag.detect_anomaly():
    ...     y = x.sqrt() * 0
    ...     try:
    ...         y.sum().backward()
    ...     except RuntimeError as e:
    ...         print(str(e).split(" returned")[0])
    Function 'SqrtBackward'
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        from .listeners import AnomalyListener
        self._prev = state.anomaly
        if self.check_nan and not self._prev:
            self._listener = AnomalyListener()
            _add_listener(self._listener)
            state.anomaly = self._listener
        else:
            self._listener = None
        return self

    def __exit__(self, *exc):
        if self._listener is not None:
            _remove_listener(self._listener)
            state.anomaly = self._prev
        return False


_anomaly_global = None


def set_detect_anomaly(flag):
    """Turn anomaly detection on or off for this thread (``torch.autograd.set_detect_anomaly``)."""
    global _anomaly_global
    if flag and state.anomaly is None:
        _anomaly_global = detect_anomaly()
        _anomaly_global.__enter__()
    elif not flag and _anomaly_global is not None:
        _anomaly_global.__exit__(None, None, None)
        _anomaly_global = None


def is_anomaly_enabled():
    """True inside ``detect_anomaly()`` (this thread)."""
    return state.anomaly is not None

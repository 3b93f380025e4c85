"""Per-thread engine state: grad mode, anomaly mode, transform nesting level, and listeners.

``detect_anomaly`` (anomaly.py) and the tools register listeners here (listeners.py).

Everything here is thread-local: a ``no_grad()`` or ``detect_anomaly()`` block in one thread never
changes what another thread records. The one process-wide value, ``listening``, only counts how
many listeners are open in any thread, so that the per-op hot path pays a single global read when
none is.
"""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled",
           "state"]


class _State(threading.local):
    enabled = True        # grad mode: record ops on the tape
    listeners = ()        # this thread's Listener objects (see listeners.py)
    level = 0             # how many function transforms (grad, vjp, jacobian, ...) are open
    anomaly = None        # the AnomalyListener of an open detect_anomaly(), or None
    explain = None        # an open inspect.explain_backward() block, or None
    inference = False     # inside inference_mode() (is_inference_mode_enabled)


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
    """True when ops are recorded on the tape (this thread), as ``torch.is_grad_enabled``.

    >>> import autograd_core as ag
    >>> ag.is_grad_enabled()
    True
    >>> with ag.no_grad():
    ...     ag.is_grad_enabled()
    False
    """
    return state.enabled


class _GradModeContext:
    """Base of no_grad/enable_grad: a context manager and a decorator (``@no_grad()`` or ``@no_grad``)."""
    _target = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool) \
                and cls in (no_grad, enable_grad, inference_mode):
            return object.__new__(cls)._bare(args[0])   # used as a bare decorator: @no_grad
        return object.__new__(cls)

    def _bare(self, fn):
        if isinstance(self, inference_mode):
            self._target = False
        return self(fn)

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
        self._target = not mode if isinstance(mode, bool) else False

    def _args(self):
        return (not self._target,)

    def __enter__(self):
        super().__enter__()
        self._prev_inference = state.inference
        state.inference = not self._target

    def __exit__(self, *exc):
        state.inference = self._prev_inference
        return super().__exit__(*exc)


def is_inference_mode_enabled():
    """True inside an ``inference_mode()`` block (this thread), as ``torch.is_inference_mode_enabled``.

    >>> import autograd_core as ag
    >>> with ag.inference_mode():
    ...     ag.is_inference_mode_enabled()
    True
    >>> ag.is_inference_mode_enabled()
    False
    """
    return state.inference


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

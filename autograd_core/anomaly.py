"""Anomaly detection: ``detect_anomaly()`` is a listener that remembers where each node was made
and stops backward at the first gradient holding NaN or Inf (this thread only)."""
from __future__ import annotations

import traceback

import numpy as np

from . import listeners, modes

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "AnomalyListener"]


class AnomalyListener(listeners.Listener):
    """``detect_anomaly()``: remember where each node was made; stop backward at the first
    gradient that holds NaN or Inf."""

    def on_op(self, op, inputs, out, node):
        if node is not None:
            # without this listener's frames and the op's apply()
            node.trace = "".join(traceback.format_stack()[:-3])

    def on_vjp(self, node, grad, grads, inputs):
        for i, gi in enumerate(grads):
            if gi is None:
                continue
            arr = getattr(gi, "_data", gi)
            if not np.all(np.isfinite(arr)):
                trace = getattr(node, "trace", None)
                where = ("\nThe op was created at:\n" + trace) if trace else ""
                raise RuntimeError(f"Function '{node.name()}' returned nan or inf values in its {i}th output "
                                   f"(the gradient for input {i}, shape {tuple(np.shape(arr))}).{where}")



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
        self._prev = modes.state.anomaly
        if self.check_nan and not self._prev:
            self._listener = AnomalyListener()
            listeners.add_listener(self._listener)
            modes.state.anomaly = self._listener
        else:
            self._listener = None
        return self

    def __exit__(self, *exc):
        if self._listener is not None:
            listeners.remove_listener(self._listener)
            modes.state.anomaly = self._prev
        return False


_anomaly_global = None


def set_detect_anomaly(flag):
    """Turn anomaly detection on or off for this thread (``torch.autograd.set_detect_anomaly``)."""
    global _anomaly_global
    if flag and modes.state.anomaly is None:
        _anomaly_global = detect_anomaly()
        _anomaly_global.__enter__()
    elif not flag and _anomaly_global is not None:
        _anomaly_global.__exit__(None, None, None)
        _anomaly_global = None


def is_anomaly_enabled():
    """True inside ``detect_anomaly()`` (this thread), as ``torch.is_anomaly_enabled``.

    >>> import autograd_core as ag
    >>> with ag.detect_anomaly():
    ...     ag.is_anomaly_enabled()
    True
    >>> ag.is_anomaly_enabled()
    False
    """
    return modes.state.anomaly is not None

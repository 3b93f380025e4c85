"""The observer protocol through which tools watch the engine (trace, profile, explain, anomaly).

A ``Listener`` subclass overrides the events it needs; the engine calls them, in the thread that
opened the listener, only while at least one listener is open (one global read on the hot path
otherwise)::

    on_op_begin(op)                       an op's forward is about to run
    on_op(op, inputs, out, node)          it ran; ``node`` is the recorded Node, or None
                                          (``out`` is None too when the forward raised)
    on_vjp_begin(node)                    backward is about to run ``node``'s rules
    on_vjp(node, grad, grads, inputs)     it ran them: ``grads`` are the rules' raw outputs per input
                                          (None where no gradient was needed), before un-broadcasting
    on_backward_end(roots)                a backward pass finished

The engine imports nothing from ``inspect/``: the tools import this module and register.

>>> import autograd_core as ag
>>> class Count(ag.listeners.Listener):
...     n = 0
...     def on_op(self, op, inputs, out, node):
...         self.n += 1
>>> c = Count()
>>> with ag.listeners.listening(c):
...     y = ag.ones(2) * 3 + 1
>>> c.n
2
"""
from __future__ import annotations

import contextlib

from . import modes

__all__ = ["Listener", "add_listener", "remove_listener", "listening"]


class Listener:
    """Base class: every event is a no-op; override the ones you need."""

    def on_op_begin(self, op):
        pass

    def on_op(self, op, inputs, out, node):
        pass

    def on_vjp_begin(self, node):
        pass

    def on_vjp(self, node, grad, grads, inputs):
        pass

    def on_backward_end(self, roots):
        pass


def add_listener(listener):
    """Start sending this thread's engine events to ``listener``."""
    modes._add_listener(listener)
    return listener


def remove_listener(listener):
    """Stop sending events to ``listener`` (no error if it isn't registered)."""
    modes._remove_listener(listener)


@contextlib.contextmanager
def listening(listener):
    """``with listening(l): ...`` registers ``l`` for the block (this thread)."""
    add_listener(listener)
    try:
        yield listener
    finally:
        remove_listener(listener)


def current():
    """This thread's listeners (a tuple)."""
    return modes.state.listeners


# Set by autograd_core.inspect on import: ``explain_factory(explain, roots)`` makes the logger for
# ``backward(explain=...)`` and for an open ``explain_backward()`` block (``modes.state.explain``).
explain_factory = None

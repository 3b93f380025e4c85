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
    """Base class of the engine's observers: every event (``on_op_begin``, ``on_op``, ``on_vjp_begin``,
    ``on_vjp``, ``on_backward_end``; see the module docstring) is a no-op; override the ones you need.

    >>> import autograd_core as ag
    >>> class Names(ag.listeners.Listener):
    ...     def __init__(self):
    ...         self.ops = []
    ...     def on_op(self, op, inputs, out, node):
    ...         self.ops.append(op.name)
    >>> with ag.listeners.listening(Names()) as lst:
    ...     y = ag.ones(2).exp().sum()
    >>> lst.ops
    ['exp', 'sum']
    """

    def on_op_begin(self, op):
        """An op's forward is about to run (``op`` is its registry entry: ``op.name``)."""

    def on_op(self, op, inputs, out, node):
        """An op ran: its inputs, its output (None if the forward raised) and the recorded
        ``Node`` (None when nothing was recorded).
        """

    def on_vjp_begin(self, node):
        """Backward is about to run ``node``'s VJP rules."""

    def on_vjp(self, node, grad, grads, inputs):
        """Backward ran ``node``'s rules: ``grad`` is the upstream gradient, ``grads`` the rules'
        raw outputs per input (None where no gradient was needed), before un-broadcasting.
        """

    def on_backward_end(self, roots):
        """A backward pass from ``roots`` finished."""


def add_listener(listener):
    """Start sending this thread's engine events to ``listener``; returns it.

    >>> import autograd_core as ag
    >>> class Count(ag.listeners.Listener):
    ...     n = 0
    ...     def on_op(self, op, inputs, out, node):
    ...         self.n += 1
    >>> c = ag.listeners.add_listener(Count())
    >>> y = ag.ones(2) + 1
    >>> ag.listeners.remove_listener(c)
    >>> z = ag.ones(2) + 1
    >>> c.n
    1
    """
    modes._add_listener(listener)
    return listener


def remove_listener(listener):
    """Stop sending events to ``listener`` (no error if it isn't registered).

    >>> import autograd_core as ag
    >>> lst = ag.listeners.add_listener(ag.listeners.Listener())
    >>> ag.listeners.remove_listener(lst)
    >>> ag.listeners.remove_listener(lst)
    """
    modes._remove_listener(listener)


@contextlib.contextmanager
def listening(listener):
    """``with listening(l) as l: ...`` registers the listener ``l`` for the block (this thread).

    >>> import autograd_core as ag
    >>> class Vjps(ag.listeners.Listener):
    ...     names = []
    ...     def on_vjp(self, node, grad, grads, inputs):
    ...         self.names.append(node.name())
    >>> x = ag.tensor([1.0], requires_grad=True)
    >>> with ag.listeners.listening(Vjps()) as v:
    ...     (x * 2).sum().backward()
    >>> v.names
    ['SumBackward', 'MulBackward']
    """
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

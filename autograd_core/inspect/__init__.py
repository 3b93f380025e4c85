"""See inside the tape: listings, the grad_fn graph, an explained backward, pictures and a profiler.

* ``trace(fn, *inputs)`` -> ``Tape``: ``print(tape)`` lists every recorded op in order.
* ``walk(t)`` / ``format_grad_fn(t)``: ``t.grad_fn`` and its ``next_functions``, as in PyTorch.
* ``loss.backward(explain=True)`` (or a stream, or a ``logging.Logger``) and
  ``with explain_backward(loss): ...`` show each VJP with its gradients' shapes and norms.
* ``draw(tape_or_tensor, "graph.png")``: the graph as a picture (matplotlib only).
* ``with profile() as prof: ...``; ``print(prof.table())``: time per op, forward and backward.
"""
from .tape import Tape, TapeEntry, scope, trace
from .explain import LOGGER_NAME, ExplainLogger, explain_backward
from .walk import format_grad_fn, walk
from .draw import draw
from .profiler import EventList, OpStats, profile

__all__ = ["trace", "Tape", "TapeEntry", "scope", "ExplainLogger", "explain_backward", "LOGGER_NAME",
           "walk", "format_grad_fn", "draw", "profile", "OpStats", "EventList"]

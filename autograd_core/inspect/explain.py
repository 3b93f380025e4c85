"""The explained backward: every VJP as it runs, with the gradients' shapes and norms.

``loss.backward(explain=True)`` (or a stream, or a ``logging.Logger``) and
``with explain_backward(loss): loss.backward()`` write one block per op, in the order the
backward runs it::

    step 2  AddBackward  %4 = add(%3, %b1[3])
        grad of %4  [2,3]  |g| = 1.732
        -> %3       [2,3]  |g| = 1.732
        -> %b1      [3]    |g| = 1.414   un-broadcast: summed [2,3] over axis 0

``grad of`` is the gradient flowing into the op from its consumers (dL/d output), each ``->``
line the gradient its VJP sends to one input (after summing away broadcast axes, which is
what ``graph._run`` does next). At the end come the leaves' totals for this backward: the same
numbers as the norms of their ``.grad`` (when ``.grad`` was empty before).
"""
from __future__ import annotations

import logging
import sys

import numpy as np

from .. import listeners, modes
from ..node import Node, unbroadcast
from ..tensor import Tensor
from . import _fmt
from ._fmt import fmt_norm, fmt_value, shape_str
from .walk import forward_order

__all__ = ["ExplainLogger", "explain_backward", "LOGGER_NAME"]

LOGGER_NAME = "autograd_core.explain"


def _unbroadcast_axes(gshape, shape):
    """The axes of a gradient of shape ``gshape`` that are summed to get ``shape`` (as graph._run does)."""
    lead = len(gshape) - len(shape)
    return tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)


class ExplainLogger:
    """Explains backward passes: writes each VJP to a stream or a logger, and keeps them in ``steps``.

    ``stream``: anything with ``write``; ``logger``: a ``logging.Logger`` (INFO level). With
    neither, it logs to the ``"autograd_core.explain"`` logger, or to stderr when logging is not
    set up to show INFO messages of that logger.

    ``steps``: one dict per VJP: ``op``, ``node`` (label), ``grad_in`` (shape, norm) and
    ``grads_out`` (a list of dicts: ``to``, ``input``, ``shape``, ``norm``, ``summed_from``,
    ``leaf``). ``leaf_grads``: label -> norm of each leaf's total gradient of the last pass.

    >>> import io
    >>> import autograd_core as ag
    >>> from autograd_core.inspect import ExplainLogger
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> log = ExplainLogger(stream=io.StringIO())
    >>> (x * 3).sum().backward(explain=log)
    >>> [s["backward"] for s in log.steps], log.passes
    (['SumBackward', 'MulBackward'], 1)
    """

    def __init__(self, stream=None, logger=None, silent=False):
        if stream is not None and not hasattr(stream, "write"):
            raise TypeError(f"explain: stream must have a write() method, got {type(stream).__name__}")
        if logger is not None and not isinstance(logger, logging.Logger):
            raise TypeError(f"explain: logger must be a logging.Logger, got {type(logger).__name__}")
        self.stream = stream
        self.logger = logger
        self.silent = bool(silent)      # keep the numbers, write nothing (Tape.backward uses this)
        self.node_grads = {}            # id(node) -> |g| flowing into it, in the last pass
        self.steps = []
        self.leaf_grads = {}
        self.passes = 0
        self._leaf_acc = {}
        self._labels = {}
        self._step = 0

    # -- how backward finds the logger ------------------------------------------------------
    @classmethod
    def from_arg(cls, explain, roots=()):
        """The logger for ``backward(explain=...)``: True, a stream, a ``logging.Logger`` or an
        ExplainLogger; with ``explain`` false, the one of an enclosing ``explain_backward``."""
        if explain is None or explain is False:
            ctx = modes.state.explain
            if ctx is None or (ctx.loss is not None and not any(r is ctx.loss for r in roots)):
                return None
            lg = ctx.logger
        else:
            lg = cls.make(explain)
        lg.begin(roots)
        return lg

    @classmethod
    def make(cls, explain):
        """An ExplainLogger for ``explain`` (True, a stream, a Logger, an ExplainLogger; False: a
        silent one that only keeps the numbers).

        >>> from autograd_core.inspect import ExplainLogger
        >>> log = ExplainLogger.make(False)
        >>> isinstance(log, ExplainLogger), ExplainLogger.make(log) is log
        (True, True)
        """
        if isinstance(explain, ExplainLogger):
            return explain
        if explain is None or explain is False:
            return cls(silent=True)
        if explain is True:
            return cls()
        if isinstance(explain, logging.Logger):
            return cls(logger=explain)
        if hasattr(explain, "write"):
            return cls(stream=explain)
        raise TypeError(f"backward: explain= must be True, a stream (with write()), a logging.Logger or an "
                        f"ExplainLogger, got {type(explain).__name__}")

    # -- output -------------------------------------------------------------------------------
    def _emit(self, lines):
        if self.silent:
            return
        if self.stream is not None:
            self.stream.write("".join(ln + "\n" for ln in lines))
            return
        lg = self.logger
        if lg is None:
            lg = logging.getLogger(LOGGER_NAME)
            if not (lg.isEnabledFor(logging.INFO) and lg.hasHandlers()):
                # explain=True asks to see it: without a logging setup that shows it, use stderr
                sys.stderr.write("".join(ln + "\n" for ln in lines))
                return
        for ln in lines:
            lg.info(ln)

    # -- labels -------------------------------------------------------------------------------
    def _number(self, roots):
        """Labels for the values of this graph that no tape has named, in forward order."""
        starts = [r._node for r in roots if isinstance(r, Tensor) and r._node is not None]
        order = forward_order(starts)
        k = 0
        for n in order:
            for p in n.parents or ():
                if isinstance(p, Tensor) and id(p) not in self._labels:
                    self._labels[id(p)] = _fmt.tensor_label(p) or f"%{k}"
                    k += 1
            if id(n) not in self._labels:
                self._labels[id(n)] = _fmt.node_label(n) or f"%{k}"
                k += 1

    def _label(self, obj):
        lab = self._labels.get(id(obj))
        if lab is None:
            lab = (_fmt.node_label(obj) if isinstance(obj, Node) else _fmt.tensor_label(obj)) or "%?"
        return lab

    def _in_label(self, node, i):
        p = node.parents[i] if node.parents is not None else None
        x = node.inputs[i]
        if p is not None:
            lab = self._label(p)
            return lab + shape_str(x.shape) if isinstance(p, Tensor) else lab
        if isinstance(x, Tensor):
            return (_fmt.tensor_label(x) or "const") + shape_str(x.shape)
        return fmt_value(x)

    # -- the hooks called by graph.run_backward ------------------------------------------------
    def begin(self, roots):
        self.passes += 1
        self._step = 0
        self._leaf_acc = {}
        self.node_grads = {}
        self._labels = {}
        self._number(roots)
        shown = ", ".join(f"{self._label(r._node) if r._node is not None else self._label(r)} "
                          f"{shape_str(r.shape)}" for r in roots if isinstance(r, Tensor))
        self._emit([f"backward #{self.passes} from {shown}"])

    def log_node(self, node, g, in_grads, inputs):
        """One VJP: ``g`` flowed into ``node``; ``in_grads`` are its rule's raw outputs per input."""
        self._step += 1
        ga = g._data if isinstance(g, Tensor) else np.asarray(g)
        lab = self._label(node)
        args = [self._in_label(node, i) for i in range(len(inputs))]
        args = ", ".join(args + [f"{k}={fmt_value(v)}" for k, v in _fmt.shown_kwargs(node.op, node.kwargs or {}).items()])
        self.node_grads[id(node)] = _fmt.norm(ga)
        step = {"step": self._step, "pass": self.passes, "op": node.op.name, "backward": node.name(),
                "node": lab, "grad_in": (tuple(ga.shape), _fmt.norm(ga)), "grads_out": []}
        rows = [(f"grad of {lab}", shape_str(ga.shape), f"|g| = {fmt_norm(step['grad_in'][1])}", "")]
        for i, p in enumerate(node.parents):
            if p is None or in_grads[i] is None:
                continue
            gi = in_grads[i]
            arr = gi._data if isinstance(gi, Tensor) else np.asarray(gi)
            x = inputs[i]
            shape = tuple(np.shape(x._data if isinstance(x, Tensor) else x))
            summed = None
            note = ""
            if arr.shape != shape:
                axes = _unbroadcast_axes(arr.shape, shape)
                summed = (tuple(arr.shape), axes)
                arr = unbroadcast(arr, shape)
                ax = axes[0] if len(axes) == 1 else axes
                note = f"un-broadcast: summed {shape_str(summed[0])} over axis {ax}"
            n = _fmt.norm(arr)
            leaf = not isinstance(p, Node)
            to = self._label(p)
            if leaf:
                acc = self._leaf_acc.get(id(p))
                a64 = arr.astype(np.float64)
                self._leaf_acc[id(p)] = [p, a64 if acc is None else acc[1] + a64]
            step["grads_out"].append({"to": to, "input": i, "shape": shape, "norm": n, "summed_from": summed,
                                      "leaf": leaf})
            rows.append((f"-> {to}", shape_str(shape), f"|g| = {fmt_norm(n)}", note))
        self.steps.append(step)
        self._emit([f"step {self._step}  {node.name()}  {lab} = {node.op.name}({args})"] + _table(rows, "    "))

    def done(self):
        """After the pass: each leaf's total gradient from it."""
        self.leaf_grads = {}
        rows = []
        for leaf, acc in self._leaf_acc.values():
            lab = self._label(leaf)
            n = _fmt.norm(acc)
            self.leaf_grads[lab] = n
            rows.append((lab, shape_str(leaf.shape), f"|grad| = {fmt_norm(n)}", ""))
        if rows:
            self._emit(["leaf gradients from this backward (added to .grad):"] + _table(rows, "    "))

    def leaf_norm(self, t):
        """Norm of the gradient the last pass sent to leaf ``t`` (None if none reached it)."""
        acc = self._leaf_acc.get(id(t))
        return None if acc is None or acc[0] is not t else _fmt.norm(acc[1])


def _table(rows, indent):
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    out = []
    for r in rows:
        cells = [r[c].ljust(widths[c]) for c in range(3)]
        line = indent + "  ".join(cells)
        out.append((line + "   " + r[3]) if r[3] else line.rstrip())
    return out


class explain_backward:
    """``with explain_backward(loss) as ex: loss.backward()`` explains the backward passes run
    inside the block (only those from ``loss`` when it is given; all of them with ``loss=None``).

    Writes to ``stream`` or ``logger`` (default: the ``"autograd_core.explain"`` logger, see
    ExplainLogger); ``ex`` is the ExplainLogger, whose ``steps`` hold every VJP's numbers.

    >>> import sys
    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> loss = (x * x).sum()
    >>> with ag.explain_backward(loss, stream=sys.stdout) as ex:
    ...     loss.backward()
    backward #1 from %2 []
    step 1  SumBackward  %2 = sum(%1)
        grad of %2  []   |g| = 1
        -> %1       [2]  |g| = 1.414
    step 2  MulBackward  %1 = mul(%0[2], %0[2])
        grad of %1  [2]  |g| = 1.414
        -> %0       [2]  |g| = 2.236
        -> %0       [2]  |g| = 2.236
    leaf gradients from this backward (added to .grad):
        %0  [2]  |grad| = 4.472
    >>> len(ex.steps)
    2
    """

    def __init__(self, loss=None, stream=None, logger=None):
        if loss is not None and not isinstance(loss, Tensor):
            raise TypeError(f"explain_backward: loss must be a Tensor or None, got {type(loss).__name__}")
        self.loss = loss
        self.logger = ExplainLogger(stream=stream, logger=logger)

    def __enter__(self):
        self._prev = modes.state.explain
        modes.state.explain = self
        return self.logger

    def __exit__(self, *exc):
        modes.state.explain = self._prev
        return False


listeners.explain_factory = ExplainLogger.from_arg

"""``profile()``: the wall time of every op's forward and backward, as a table like torch.profiler's.

    with profile() as prof:
        loss = model(x); loss.backward()
    print(prof.table())          # or prof.key_averages().table(sort_by="total", row_limit=10)

Times are *self* times: an op's forward is the time in its raw forward function; its backward
the time in its VJP rule(s) (the un-broadcast and accumulation between rules, and Python code
outside ops, are what the footer calls "other"). A taped op run inside another op's VJP (with
``create_graph=True``) counts as that op's forward, not twice.

The profile is a listener (``autograd_core.listeners``): it sees the ops of the thread that opened
it, and nothing is patched.
"""
from __future__ import annotations

import time

import numpy as np

from .. import listeners
from ..tensor import Tensor
from ._fmt import shape_str

__all__ = ["profile", "OpStats", "EventList"]

_perf = time.perf_counter


class _Timer(listeners.Listener):
    """Times every op's forward and every node's rules in this thread; reports self times."""

    def __init__(self, sink):
        self.sink = sink
        self.stack = []   # per open call: [start, time spent in timed calls nested inside it]

    def _open(self):
        self.stack.append([_perf(), 0.0])

    def _close(self):
        """Close the innermost open call: (its start, its wall time, its self time), or None."""
        if not self.stack:
            return None
        t0, child = self.stack.pop()
        dt = _perf() - t0
        if self.stack:
            self.stack[-1][1] += dt
        return t0, dt, dt - child

    def on_op_begin(self, op):
        self._open()

    def on_op(self, op, inputs, out, node):
        timed = self._close()
        if timed is not None and out is not None:
            self.sink._add(op.name, "forward", timed[2], inputs)

    def on_vjp_begin(self, node):
        self._open()

    def on_vjp(self, node, grad, grads, inputs):
        timed = self._close()
        if timed is not None:
            self.sink._add(node.op.name, "backward", timed[2], inputs)


class OpStats:
    """Totals for one op (or one op and input shapes, with ``record_shapes=True``).

    >>> import autograd_core as ag
    >>> with ag.profile() as prof:
    ...     y = ag.ones(2).exp()
    >>> s = prof.key_averages()[0]
    >>> s.name, s.fwd_calls, s.bwd_calls, s.total_time >= 0
    ('exp', 1, 0, True)
    """

    __slots__ = ("name", "shapes", "fwd_calls", "fwd_time", "bwd_calls", "bwd_time")

    def __init__(self, name, shapes=None):
        self.name, self.shapes = name, shapes
        self.fwd_calls = self.bwd_calls = 0
        self.fwd_time = self.bwd_time = 0.0

    @property
    def total_time(self):
        """Forward plus backward time, in seconds (``cpu_time_total`` is torch.profiler's name)."""
        return self.fwd_time + self.bwd_time

    @property
    def calls(self):
        """The number of forward calls (torch.profiler's ``count``)."""
        return self.fwd_calls

    cpu_time_total = total_time  # torch.profiler's spelling

    def __repr__(self):
        return (f"<OpStats {self.name}: forward {self.fwd_calls} x {_t(self.fwd_time)}, "
                f"backward {self.bwd_calls} x {_t(self.bwd_time)}>")


_SORT = {"total": lambda s: s.total_time, "cpu_time_total": lambda s: s.total_time,
         "self_cpu_time_total": lambda s: s.total_time, "forward": lambda s: s.fwd_time,
         "backward": lambda s: s.bwd_time, "calls": lambda s: s.fwd_calls + s.bwd_calls,
         "count": lambda s: s.fwd_calls + s.bwd_calls, "avg": lambda s: s.total_time / max(s.fwd_calls, 1)}


def _t(sec):
    """Seconds as torch prints them: 12.345us, 1.234ms, 2.345s."""
    if sec < 1e-3:
        return f"{sec * 1e6:.3f}us"
    if sec < 1.0:
        return f"{sec * 1e3:.3f}ms"
    return f"{sec:.3f}s"


class EventList(list):
    """A list of OpStats with ``table()`` (what ``profile.key_averages()`` returns).

    >>> import autograd_core as ag
    >>> with ag.profile() as prof:
    ...     y = ag.ones(2).exp().sum()
    >>> ev = prof.key_averages()
    >>> sorted(s.name for s in ev), ev.self_time <= ev.wall_time
    (['exp', 'sum'], True)
    """

    def __init__(self, items=(), wall_time=None):
        super().__init__(items)
        self.wall_time = wall_time

    @property
    def self_time(self):
        """The time spent inside the listed ops, forward and backward, in seconds."""
        return sum(s.total_time for s in self)

    def table(self, sort_by="total", row_limit=None):
        """A text table sorted by ``sort_by`` (total, forward, backward, calls, avg; torch's
        cpu_time_total works too), the largest first, with ``row_limit`` rows at most.

        >>> import autograd_core as ag
        >>> with ag.profile() as prof:
        ...     y = ag.ones(2).exp().sum()
        >>> print(prof.key_averages().table(row_limit=1).splitlines()[3].split()[0] in ("exp", "sum"))
        True
        """
        if sort_by not in _SORT:
            raise ValueError(f"profile.table: sort_by must be one of {', '.join(_SORT)}, got {sort_by!r}")
        rows = sorted(self, key=_SORT[sort_by], reverse=True)
        if row_limit is not None:
            rows = rows[:row_limit]
        total = self.self_time
        shapes = any(s.shapes is not None for s in self)
        head = ["Name"] + (["Input shapes"] if shapes else []) + \
            ["Fwd calls", "Fwd total", "Bwd calls", "Bwd total", "Total", "Total %", "Avg/call"]
        body = []
        for s in rows:
            body.append([s.name] + ([s.shapes or ""] if shapes else []) + [
                str(s.fwd_calls), _t(s.fwd_time), str(s.bwd_calls), _t(s.bwd_time), _t(s.total_time),
                f"{100 * s.total_time / total:.2f}%" if total > 0 else "-",
                _t(s.total_time / max(s.fwd_calls + s.bwd_calls, 1))])
        widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(head)]
        sep = "  ".join("-" * w for w in widths)

        def fmt(r):
            return "  ".join(c.ljust(w) if i == 0 or (shapes and i == 1) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths)))
        lines = [sep, fmt(head), sep] + [fmt(r) for r in body] + [sep]
        foot = f"Self time in ops: {_t(total)}"
        if self.wall_time is not None:
            other = max(self.wall_time - total, 0.0)
            pct = 100 * total / self.wall_time if self.wall_time > 0 else 0.0
            foot += f" of {_t(self.wall_time)} wall time ({pct:.1f}%); other (engine, Python): {_t(other)}"
        lines.append(foot)
        return "\n".join(lines)

    def __str__(self):
        return self.table()


class profile:
    """Context manager that times each op's forward and backward (see the module docstring); PyTorch's
    ``torch.profiler.profile`` in spirit.

    ``record_shapes``: separate rows per input shapes. ``stream``: write the table there when the block ends.
    ``prof.total_time``: the block's wall time; ``prof.self_time``: the time inside ops.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> with ag.profile() as prof:
    ...     (x * x).sum().backward()
    >>> sorted((e.name, e.fwd_calls, e.bwd_calls) for e in prof.key_averages())
    [('mul', 1, 1), ('sum', 1, 1)]
    """

    def __init__(self, record_shapes=False, stream=None, sort_by="total", row_limit=None):
        if sort_by not in _SORT:
            raise ValueError(f"profile: sort_by must be one of {', '.join(_SORT)}, got {sort_by!r}")
        self.record_shapes = bool(record_shapes)
        self.stream = stream
        self.sort_by, self.row_limit = sort_by, row_limit
        self.stats = {}
        self.total_time = None
        self._t0 = None

    def __enter__(self):
        if self._t0 is not None:
            raise RuntimeError("profile: this profile is already open")
        self._timer = listeners.add_listener(_Timer(self))
        self._t0 = _perf()
        return self

    def __exit__(self, *exc):
        self.total_time = _perf() - self._t0
        listeners.remove_listener(self._timer)
        if self.stream is not None:
            self.stream.write(self.table() + "\n")
        return False

    def _add(self, name, kind, dt, args):
        if self.record_shapes:
            ins = args
            shapes = ", ".join(shape_str(np.shape(a._data if isinstance(a, Tensor) else a)) for a in ins)
            key = (name, shapes)
        else:
            key, shapes = name, None
        st = self.stats.get(key)
        if st is None:
            st = self.stats[key] = OpStats(name, shapes)
        if kind == "forward":
            st.fwd_calls += 1
            st.fwd_time += dt
        else:
            st.bwd_calls += 1
            st.bwd_time += dt

    @property
    def self_time(self):
        """Total self time of all ops (forward + backward), in seconds."""
        return sum(s.total_time for s in self.stats.values())

    def key_averages(self):
        """The per-op statistics collected so far, as an ``EventList`` of one row per op (and input shapes,
        with ``record_shapes=True``): calls and times forward and backward. PyTorch:
        ``prof.key_averages()``.

        >>> import autograd_core as ag
        >>> with ag.profile() as prof:
        ...     y = ag.ones(3).exp() + ag.ones(3).exp()
        >>> sorted((e.name, e.fwd_calls) for e in prof.key_averages())
        [('add', 1), ('exp', 2)]
        """
        return EventList(self.stats.values(), wall_time=self.total_time)

    def table(self, sort_by=None, row_limit=None):
        """The statistics as a text table (name, calls, forward / backward / total time, share), sorted by
        ``sort_by`` (``'total'``, ...) and cut to ``row_limit`` rows (defaults: the constructor's).

        >>> import autograd_core as ag
        >>> with ag.profile() as prof:
        ...     y = ag.ones(3).exp()
        >>> lines = prof.table().splitlines()
        >>> lines[1].split()[:3], lines[3].split()[:2]
        (['Name', 'Fwd', 'calls'], ['exp', '1'])
        """
        return self.key_averages().table(sort_by=sort_by or self.sort_by,
                                         row_limit=row_limit if row_limit is not None else self.row_limit)

    def __str__(self):
        return self.table()

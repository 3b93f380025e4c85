"""``torch.profiler``'s API over this engine's ops: ``profile``, ``record_function``, ``schedule``,
``ProfilerActivity``, ``tensorboard_trace_handler``, Chrome traces.

A script that profiles with ``torch.profiler`` runs with its import lines changed
(``from autograd_core.profiler import profile, record_function, ProfilerActivity``)::

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

What is recorded (this thread, while the profile records): every op's forward, named as the op
(``linear``, ``mul``), every backward rule, named as its node (``MulBackward``), each
``record_function`` range, and with a ``schedule`` or ``prof.step()`` calls, one ``ProfilerStep#N``
range per step. "CPU total" is an event's wall time, "Self CPU" that minus the events inside it, as in
PyTorch. Only the CPU is measured: the device, memory and FLOP columns that PyTorch can add are
zero here (``profile_memory``, ``with_flops`` and CUDA activities are accepted and measure nothing).
"""
from __future__ import annotations

import enum
import json
import os
import threading
import time
from functools import wraps

import numpy as np

from .. import listeners
from .profiler import _Timer, _t
from ..tensor import Tensor

__all__ = ["profile", "record_function", "schedule", "ProfilerActivity", "ProfilerAction",
           "tensorboard_trace_handler", "supported_activities", "FunctionEvent", "FunctionEventAvg", "EventList",
           "Interval"]

_perf = time.perf_counter
_local = threading.local()    # .active: the profile recording in this thread, or None


class ProfilerActivity(enum.Enum):
    """The activity groups PyTorch can trace; only ``CPU`` is measured here."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities():
    """The activities this build can trace: the CPU's.

    >>> supported_activities() == {ProfilerActivity.CPU}
    True
    """
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    """What a ``schedule`` asks of the profiler at a step."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """PyTorch's step schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle, ``warmup`` and
    ``active`` recorded steps (``repeat`` cycles, 0: until the end); the last active step of a cycle
    hands the trace to ``on_trace_ready``.

    >>> s = schedule(wait=1, warmup=1, active=2)
    >>> [s(i).name for i in range(5)]
    ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError(f"profiler.schedule: got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
                         f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} "
                         f"(need >= 0)")

    def schedule_fn(step):
        if step < 0:
            raise ValueError(f"profiler.schedule: a step must be non-negative, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        n = wait + warmup + active
        if repeat > 0 and step / n >= repeat:
            return ProfilerAction.NONE
        k = step % n
        if k < wait:
            return ProfilerAction.NONE
        if k < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if k < n - 1 else ProfilerAction.RECORD_AND_SAVE
    return schedule_fn


def _record_always(step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False, use_python_export=False):
    """An ``on_trace_ready`` that writes each trace as ``<worker>.<ns>.pt.trace.json`` (``.gz`` with
    ``use_gzip``) under ``dir_name``, the files TensorBoard's profiler plugin and Perfetto read."""
    import socket

    def handler_fn(prof):
        nonlocal worker_name
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as e:
            raise RuntimeError(f"tensorboard_trace_handler: can't create the folder {dir_name!r} ({e}); "
                               f"pass a writable folder") from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker_name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))
    return handler_fn


class Interval:
    """An event's start and end, in microseconds from the profile's start."""
    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self):
        return self.end - self.start


class FunctionEvent:
    """One recorded event: ``name``, ``time_range``, ``cpu_time_total`` and ``self_cpu_time_total``
    (microseconds), ``input_shapes`` (with ``record_shapes``), ``thread``."""

    __slots__ = ("name", "time_range", "self_cpu_time_total", "input_shapes", "thread", "kind")
    count = 1
    cpu_memory_usage = self_cpu_memory_usage = 0
    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0.0
    flops = 0

    def __init__(self, name, start, end, self_us, input_shapes, thread, kind):
        self.name, self.time_range, self.self_cpu_time_total = name, Interval(start, end), self_us
        self.input_shapes, self.thread, self.kind = input_shapes, thread, kind

    key = property(lambda self: self.name)
    cpu_time_total = property(lambda self: self.time_range.elapsed_us())
    cpu_time = cpu_time_total
    self_cpu_time = property(lambda self: self.self_cpu_time_total)

    def __repr__(self):
        return (f"<FunctionEvent {self.name} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """The events of one name (and input shapes, when grouped so): ``key``, ``count``, and the CPU
    times in microseconds (``cpu_time_total``, ``self_cpu_time_total``, per call ``cpu_time``)."""

    cpu_memory_usage = self_cpu_memory_usage = 0
    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0.0
    flops = 0

    def __init__(self, key, input_shapes):
        self.key, self.input_shapes = key, input_shapes
        self.count, self.cpu_time_total, self.self_cpu_time_total = 0, 0.0, 0.0

    name = property(lambda self: self.key)
    cpu_time = property(lambda self: self.cpu_time_total / max(self.count, 1))
    self_cpu_time = property(lambda self: self.self_cpu_time_total / max(self.count, 1))

    def add(self, ev):
        self.count += 1
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        return self

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} count={self.count} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


# table(sort_by=...) keys as PyTorch names them; the device and memory ones sort nothing here (all zero)
_SORT_KEYS = ("cpu_time", "cuda_time", "xpu_time", "device_time", "cpu_time_total", "cuda_time_total",
              "xpu_time_total", "device_time_total", "cpu_memory_usage", "cuda_memory_usage",
              "xpu_memory_usage", "device_memory_usage", "self_cpu_memory_usage", "self_cuda_memory_usage",
              "self_xpu_memory_usage", "self_device_memory_usage", "count", "self_cpu_time_total",
              "self_cuda_time_total", "self_xpu_time_total", "self_device_time_total", "flops")


def _us(t):
    """Microseconds as PyTorch's tables print them (the op profiler's format: 12.345us, 1.234ms, 2.345s)."""
    return _t(t * 1e-6)


class EventList(list):
    """Events (``prof.events()``) or their averages (``prof.key_averages()``), with ``table()``."""

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """PyTorch's table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, # of Calls
        (and Input Shapes when grouped by them), sorted by ``sort_by`` (largest first), ``row_limit``
        rows (a negative limit: all)."""
        if sort_by is not None and sort_by not in _SORT_KEYS:
            raise ValueError(f"table: sort_by must be one of {', '.join(_SORT_KEYS)}, got {sort_by!r}")
        rows = list(self)
        if sort_by is not None:
            rows.sort(key=lambda e: getattr(e, sort_by, 0) or 0, reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = sum(e.self_cpu_time_total for e in self)
        shapes = any(e.input_shapes for e in self)

        def pct(v):
            return f"{100 * v / self_total:.2f}%" if self_total > 0 else "0.00%"

        def name(n):
            return n if len(n) <= max_name_column_width else n[:max_name_column_width - 3] + "..."
        head = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        if shapes:
            head.append("Input Shapes")
        body = []
        for e in rows:
            r = [name(e.key), pct(e.self_cpu_time_total), _us(e.self_cpu_time_total), pct(e.cpu_time_total),
                 _us(e.cpu_time_total), _us(e.cpu_time), str(e.count)]
            if shapes:
                s = str(e.input_shapes or [])
                r.append(s if len(s) <= max_shapes_column_width else s[:max_shapes_column_width - 3] + "...")
            body.append(r)
        widths = [max([len(h)] + [len(r[i]) for r in body]) + 2 for i, h in enumerate(head)]
        widths[0] = max(widths[0], min(max_name_column_width, 55))
        sep = "  ".join("-" * w for w in widths) + "  "

        def fmt(r):
            return "  ".join(c.rjust(w) for c, w in zip(r, widths)) + "  "
        lines = ([header] if header else []) + [sep, fmt(head), sep] + [fmt(r) for r in body] + [sep]
        lines.append(f"Self CPU time total: {_us(self_total)}")
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.table()

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)


def _shapes(args):
    return [list(np.shape(a._data)) if isinstance(a, Tensor) else
            (list(np.shape(a)) if isinstance(a, np.ndarray) else []) for a in args]


class _Recorder(_Timer):
    """The op profiler's timer (self times: a nested event's wall time is its parent's child time),
    keeping each op, backward rule and range as a FunctionEvent of ``prof``."""

    def close(self, name, args, kind):
        timed = self._close()
        if timed is None:
            return
        t0, dt, own = timed
        p = self.sink
        p._events.append(FunctionEvent(name, (t0 - p._t0) * 1e6, (t0 + dt - p._t0) * 1e6, own * 1e6,
                                       _shapes(args) if p.record_shapes and args is not None else [],
                                       threading.get_ident(), kind))

    def on_op(self, op, inputs, out, node):
        if out is None:          # the forward raised: close its entry, record nothing
            self._close()
            return
        self.close(op.name, inputs, "op")

    def on_vjp(self, node, grad, grads, inputs):
        self.close(node.op.backward_name, inputs, "backward")


class profile:
    """``torch.profiler.profile``: record this thread's ops, backward rules and ``record_function``
    ranges between ``__enter__``/``start()`` and ``__exit__``/``stop()``, following ``schedule`` over
    ``step()`` calls and handing each finished trace to ``on_trace_ready(prof)``.

    >>> import autograd_core as ag
    >>> x = ag.ones(3, requires_grad=True)
    >>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    ...     with record_function("forward"):
    ...         y = (x * 2).sum()
    ...     y.backward()
    >>> sorted(e.key for e in prof.key_averages())
    ['MulBackward', 'SumBackward', 'forward', 'mul', 'sum']
    >>> [e.input_shapes for e in prof.key_averages(group_by_input_shape=True) if e.key == "mul"]
    [[[3], []]]
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        for a in activities or ():
            if not isinstance(a, (ProfilerActivity, dict)):
                raise TypeError(f"profile: activities must be ProfilerActivity values, got {a!r}")
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule if schedule is not None else _record_always
        self.on_trace_ready = on_trace_ready
        self.record_shapes = bool(record_shapes)
        self.profile_memory, self.with_stack, self.with_flops = profile_memory, with_stack, with_flops
        self.with_modules, self.acc_events = with_modules, acc_events
        self.step_num = 0
        self.current_action = None
        self._events = []
        self._recorder = None
        self._step_range = None
        self._t0 = _perf()

    # --- starting and stopping -------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        """Begin at step 0 of the schedule (recording at once without one)."""
        if self.current_action is not None:
            raise RuntimeError("profile: this profiler is already started; stop() it first")
        self.step_num = 0
        self.current_action = self.schedule(0)
        if self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._start_trace()

    def stop(self):
        """End profiling; a trace still recording goes to ``on_trace_ready``."""
        if self.current_action is None:
            return
        if self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._stop_trace()
            self._trace_ready()
        self.current_action = None

    def step(self):
        """Mark the start of the next step: the schedule decides whether it is recorded."""
        if self.current_action is None:
            raise RuntimeError("profile.step(): the profiler is not started; use it as a context manager or "
                               "call start() first")
        prev = self.current_action
        self.step_num += 1
        self.current_action = nxt = self.schedule(self.step_num)
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if prev == ProfilerAction.RECORD_AND_SAVE:
            self._stop_trace()
            self._trace_ready()
            if nxt in recording:
                self._start_trace()
        elif prev == ProfilerAction.RECORD:
            if nxt in recording:
                self._close_step_range()
                self._open_step_range()
            else:
                self._stop_trace()
        elif nxt in recording:
            self._start_trace()

    # --- recording ---------------------------------------------------------------------------------
    def _start_trace(self):
        self._events = []
        self._t0 = _perf()
        self._recorder = listeners.add_listener(_Recorder(self))
        _local.active = self
        self._open_step_range()

    def _stop_trace(self):
        if self._recorder is None:
            return
        self._close_step_range()
        while self._recorder.stack:      # ranges left open by the code being profiled
            self._recorder.stack.pop()
        listeners.remove_listener(self._recorder)
        self._recorder = None
        if getattr(_local, "active", None) is self:
            _local.active = None

    def _open_step_range(self):
        if self.schedule is not _record_always:
            self._step_range = f"ProfilerStep#{self.step_num}"
            self._recorder._open()

    def _close_step_range(self):
        if self._step_range is not None and self._recorder is not None and self._recorder.stack:
            self._recorder.close(self._step_range, None, "range")
        self._step_range = None

    def _trace_ready(self):
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # --- results -------------------------------------------------------------------------------------
    def events(self):
        """Every recorded event of the last trace, in the order they ended."""
        return EventList(self._events)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """One row per event name (and input shapes, with ``group_by_input_shape``; that needs
        ``record_shapes=True``), in first-seen order."""
        if group_by_input_shape and not self.record_shapes:
            raise ValueError("profile.key_averages(group_by_input_shape=True) needs profile(record_shapes=True)")
        rows = {}
        for ev in self._events:
            key = (ev.name, str(ev.input_shapes)) if group_by_input_shape else ev.name
            row = rows.get(key)
            if row is None:
                row = rows[key] = FunctionEventAvg(ev.name, ev.input_shapes if group_by_input_shape else "")
            row.add(ev)
        return EventList(rows.values())

    def table(self, sort_by=None, row_limit=100, **kwargs):
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def export_chrome_trace(self, path, use_python_export=False):
        """Write the trace as Chrome's trace-event JSON (``chrome://tracing``, Perfetto, TensorBoard);
        ``.gz`` paths are gzip-compressed."""
        pid = os.getpid()
        cat = {"op": "cpu_op", "backward": "cpu_op", "range": "user_annotation"}
        trace = {"schemaVersion": 1, "traceEvents": [
            {"ph": "X", "cat": cat[e.kind], "name": e.name, "pid": pid, "tid": e.thread,
             "ts": round(e.time_range.start, 3), "dur": round(e.cpu_time_total, 3),
             "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
            for e in self._events]}
        data = json.dumps(trace).encode()
        if str(path).endswith(".gz"):
            import gzip
            data = gzip.compress(data)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def export_stacks(self, path, metric="self_cpu_time_total"):
        raise NotImplementedError("profile.export_stacks: stacks are not recorded here; use "
                                  "key_averages().table() or export_chrome_trace()")

    def export_memory_timeline(self, path, device=None):
        raise NotImplementedError("profile.export_memory_timeline: memory is not profiled here")


class record_function:
    """A named range in the profile recording in this thread (a no-op when none is): a context
    manager, or a decorator of a function.

    >>> with record_function("loss"):
    ...     pass
    """

    def __init__(self, name, args=None):
        self.name, self.args = str(name), args
        self._rec = None

    def __enter__(self):
        prof = getattr(_local, "active", None)
        self._rec = prof._recorder if prof is not None else None
        if self._rec is not None:
            self._rec._open()
        return self

    def __exit__(self, *exc):
        if self._rec is not None:
            self._rec.close(self.name, None, "range")
            self._rec = None
        return False

    def __call__(self, fn):
        @wraps(fn)
        def wrapped(*a, **k):
            with record_function(self.name, self.args):
                return fn(*a, **k)
        return wrapped

"""``torch.autograd.profiler``: the older profiler API (``profile(enabled=True, use_cuda=False, ...)``,
``record_function``), on the same recorder as ``autograd_core.profiler``.

>>> import autograd_core as ag
>>> x = ag.ones(2, requires_grad=True)
>>> with ag.autograd.profiler.profile() as prof:
...     (x * x).sum().backward()
>>> sorted(e.key for e in prof.key_averages())
['MulBackward', 'SumBackward', 'mul', 'sum']
"""
from __future__ import annotations

from .torch_profiler import EventList, FunctionEvent, FunctionEventAvg, record_function
from .torch_profiler import profile as _profile

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile(_profile):
    """``torch.autograd.profiler.profile``: records while open when ``enabled`` (the CUDA, memory
    and FLOP options are accepted and measure nothing here)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, with_modules=with_modules)
        self.enabled = bool(enabled)

    def start(self):
        if self.enabled:
            super().start()

    def total_average(self):
        """All events summed into one row."""
        from .torch_profiler import FunctionEventAvg
        tot = FunctionEventAvg("Total", "")
        for ev in self._events:
            tot.add(ev)
        return tot

    @property
    def self_cpu_time_total(self):
        """The recorded events' self times summed, in microseconds."""
        return sum(e.self_cpu_time_total for e in self._events)

    def __str__(self):
        return self.table()

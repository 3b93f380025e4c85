"""``torch.multiprocessing``: Python's ``multiprocessing``, plus ``spawn`` and the sharing-strategy calls.

Tensors in shared memory (``t.share_memory_()``, ``model.share_memory()``) reach other processes by
reference: a ``fork`` child inherits the mapping, and a pickled shared tensor (``Process`` arguments
under ``spawn``, queues) maps the same memory in the receiver. Other tensors are copied (PyTorch would
move a tensor put on one of its queues into shared memory first).

    import autograd_core.multiprocessing as mp
    model.share_memory()
    procs = [mp.Process(target=train, args=(rank, model)) for rank in range(4)]
"""
from __future__ import annotations

import multiprocessing as _mp
from multiprocessing import *  # noqa: F401,F403  (Process, Queue, Pool, Event, set_start_method, ...)

__all__ = list(getattr(_mp, "__all__", [])) + ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
                                                "ProcessExitedException", "get_sharing_strategy",
                                                "set_sharing_strategy", "get_all_sharing_strategies"]

_STRATEGIES = {"file_system"}
_strategy = "file_system"


def get_all_sharing_strategies():
    """The ways tensors can be shared: ``{'file_system'}`` (named memory-mapped files) here."""
    return set(_STRATEGIES)


def get_sharing_strategy():
    return _strategy


def set_sharing_strategy(new_strategy):
    """Accepts ``'file_system'``; PyTorch's ``'file_descriptor'`` is taken as it (the memory is shared
    the same way, by name)."""
    global _strategy
    if new_strategy not in ("file_system", "file_descriptor"):
        raise ValueError(f"set_sharing_strategy: expected 'file_system' or 'file_descriptor', got {new_strategy!r}")
    _strategy = "file_system"


class ProcessRaisedException(Exception):
    """A process started by ``spawn`` raised: the message holds its traceback."""

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.error_index, self.pid = error_index, error_pid


class ProcessExitedException(Exception):
    """A process started by ``spawn`` exited with a non-zero code (or a signal)."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg)
        self.error_index, self.pid, self.exit_code, self.signal_name = error_index, error_pid, exit_code, signal_name


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        import traceback
        error_queue.put(traceback.format_exc())
        raise SystemExit(1)


class ProcessContext:
    """The processes ``spawn(join=False)`` started: ``join()`` waits for them (True when all ended)."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        for p in self.processes:
            p.join(timeout)
        for i, (p, q) in enumerate(zip(self.processes, self.error_queues)):
            if p.exitcode is None:
                return False
            if p.exitcode != 0:
                for other in self.processes:
                    if other.is_alive():
                        other.terminate()
                if not q.empty():
                    raise ProcessRaisedException(f"\n\n-- Process {i} terminated with the following error:\n"
                                                 f"{q.get()}", i, p.pid)
                sig = None
                if p.exitcode < 0:
                    import signal
                    sig = signal.Signals(-p.exitcode).name
                raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}"
                                             + (f" ({sig})" if sig else ""), i, p.pid, p.exitcode, sig)
        return True


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(i, *args)`` for i in 0..nprocs-1, each in its own process started by ``start_method``."""
    ctx = _mp.get_context(start_method)
    procs, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, tuple(args), q), daemon=daemon)
        p.start()
        procs.append(p)
        queues.append(q)
    context = ProcessContext(procs, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``torch.multiprocessing.spawn``: ``fn(i, *args)`` in ``nprocs`` new processes; with ``join`` waits
    and raises ``ProcessRaisedException`` (with the child's traceback) if one fails, else returns a
    ``ProcessContext``."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)

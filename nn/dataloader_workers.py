"""How a ``DataLoader`` turns indices into batches: the fetchers (one batch from a map-style or an
iterable data set), and the worker processes behind ``num_workers > 0``.

Worker processes (``multiprocessing``, one index queue and one result pipe per worker):

* batch ``k`` of an epoch goes to worker ``k % num_workers`` (skipping workers whose iterable data
  set has ended) and at most ``prefetch_factor * num_workers`` batches are in flight;
* results come back in order (``in_order=True``), so a map-style data set gives the same batches in
  the same order as ``num_workers=0``; an exception in a worker is raised again in the main process,
  for the batch it belongs to, with the worker's traceback in its message;
* each worker seeds ``random``, ``numpy.random`` and the global ``ag`` generator with
  ``base_seed + worker_id`` (``get_worker_info().seed``), then runs ``worker_init_fn(worker_id)``; the
  base seed is spawned from the loader's generator (or the global one) without drawing from its
  stream, so shuffled orders are the same with and without workers;
* the main process waits on the result pipes and on the workers' exit sentinels together: a worker
  that dies raises a RuntimeError at once (with its exit code), ``timeout > 0`` bounds the wait for
  one batch, and a worker exits by itself when the main process is gone;
* at the end of an epoch (or when the iterator is dropped) every worker is told to stop, joined for
  a few seconds and terminated if it doesn't; ``persistent_workers=True`` keeps them for the next
  epoch instead.

Batches travel as pickles; a Tensor travels as its array and ``requires_grad`` (a view or a leaf alike;
a non-leaf that requires grad is refused, as in PyTorch). A result that can't be pickled comes back as an
error naming the worker rather than getting lost.
"""
from __future__ import annotations

import io
import itertools
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback

from typing import Any

import numpy as np

from autograd_core.tensor import Tensor

from .collate import default_collate
from .dataset import _collated_batch, _has_batched

_tensor_mod = sys.modules["autograd_core.tensor"]

__all__ = ["WorkerInfo", "get_worker_info"]

_POLL_S = 0.2  # how often an idle worker checks the stop flag and that the main process is still there
_JOIN_S = 5.0  # how long shutdown waits for the workers to exit before terminating them

_worker_info = None


class WorkerInfo:
    """What a worker process knows about itself: ``id`` (0 .. ``num_workers``-1), ``num_workers``,
    ``seed`` (its ``random``/``numpy``/``ag`` seed) and ``dataset`` (its own copy of the data set).
    Read-only. A ``DataLoader`` makes one in each worker; ``get_worker_info()`` returns it there.

    >>> from nn.data import WorkerInfo
    >>> info = WorkerInfo(id=0, num_workers=2, seed=123, dataset=None)
    >>> info.id, info.num_workers
    (0, 2)
    >>> info.id = 1
    Traceback (most recent call last):
    ...
    RuntimeError: WorkerInfo is read-only: can't set 'id'
    """

    __slots__ = ("id", "num_workers", "seed", "dataset", "_frozen")

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, key, value):
        raise RuntimeError(f"WorkerInfo is read-only: can't set {key!r}")

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


def get_worker_info() -> WorkerInfo | None:
    """In a ``DataLoader`` worker process, its ``WorkerInfo``; in the main process, None. An
    ``IterableDataset`` uses it in ``__iter__`` to give each worker its own share of the stream,
    e.g. ``iter(range(info.id, n, info.num_workers))``.

    >>> from nn.data import get_worker_info
    >>> get_worker_info() is None
    True
    """
    return _worker_info


# -- fetching one batch ------------------------------------------------------------------------
class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        # A TensorDataset gathers a batch with one indexing per tensor instead of stacking samples.
        self.batched = auto_collation and collate_fn is default_collate and _has_batched(dataset)

    def fetch(self, index):
        ds = self.dataset
        if not self.auto_collation:
            return self.collate_fn(ds[index])
        if self.batched:
            return _collated_batch(ds, index)
        getitems = getattr(ds, "__getitems__", None)
        data = getitems(index) if callable(getitems) else [ds[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.iterator))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                self.ended = True
                raise StopIteration
        else:
            try:
                data = next(self.iterator)
            except StopIteration:
                self.ended = True
                raise
        return self.collate_fn(data)


def make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableFetcher if iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# -- errors that cross the process boundary ------------------------------------------------------
class _KeyErrorMessage(str):
    """KeyError shows its argument's repr; this keeps a multi-line message readable."""

    def __repr__(self):
        return str(self)


class _ExceptionWrapper:
    """An exception caught in a worker: its type (if it pickles) and formatted traceback."""

    def __init__(self, where, exc_info=None):
        exc_type, exc, tb = exc_info or sys.exc_info()
        self.where = where
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        try:
            pickle.loads(pickle.dumps(exc_type))
            self.exc_type = exc_type
        except Exception:  # a class the main process can't import: fall back to RuntimeError
            self.exc_type = RuntimeError
            self.text = f"({exc_type.__module__}.{exc_type.__qualname__} could not be sent back)\n" + self.text

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


def _rebuild_tensor(arr, requires_grad):
    t = Tensor(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


class _BatchPickler(pickle.Pickler):
    """Sends a Tensor as its array and ``requires_grad`` only: what a batch needs, whatever the tensor's
    place on the tape (a view's bookkeeping doesn't pickle, and a graph shouldn't cross processes)."""

    def reducer_override(self, obj):
        if type(obj) is Tensor:
            if obj.requires_grad and obj._node is not None:
                raise pickle.PicklingError("a Tensor that requires grad and is not a leaf can't be sent between "
                                           "processes; detach it in the data set")
            return _rebuild_tensor, (obj._data, obj.requires_grad)
        return NotImplemented


def _dumps(obj):
    buf = io.BytesIO()
    _BatchPickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getbuffer()


# -- the worker process --------------------------------------------------------------------------
def _seed_worker(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))
    _tensor_mod.manual_seed(seed)
    return seed


def _worker_loop(iterable, spec, index_queue, result_conn, stop, auto_collation, drop_last, base_seed, worker_id,
                 num_workers, default_dtype):
    """Runs in the worker process: take ``("task", epoch, idx, index)`` from ``index_queue``, send
    ``(epoch, idx, payload)`` back through ``result_conn``; ``("reset", epoch)`` restarts an iterable data
    set, ``None`` or a set ``stop`` flag ends the loop. ``payload`` is ``("ok", batch)``, ``("err", wrapper)``
    or ``("end",)``. ``spec`` is ``(dataset, collate_fn, worker_init_fn)``, pickled unless the worker was
    forked: unpickling it here turns a class the worker can't import into an error the main process raises."""
    global _worker_info
    try:
        # Ctrl-C reaches the whole process group; only the main process should act on it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _tensor_mod.set_default_dtype(default_dtype)
        seed = _seed_worker(base_seed, worker_id)
        where = f"in DataLoader worker process {worker_id}"
        init_error, fetcher, dataset, stage = None, None, None, ""
        try:
            if isinstance(spec, (bytes, bytearray)):
                stage = (" while unpickling the data set, collate_fn and worker_init_fn (their classes must be "
                         "importable in the worker: defined at module level, not under `if __name__ == "
                         "'__main__':`)")
                spec = pickle.loads(spec)
            dataset, collate_fn, init_fn = spec
            _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
            stage = " (in worker_init_fn)"
            if init_fn is not None:
                init_fn(worker_id)
            stage = " (while starting to read the data set)"
            fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = _ExceptionWrapper(where + stage)
        parent = multiprocessing.parent_process()
        ppid = os.getppid()
        while True:
            if stop.value:
                return
            try:
                msg = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                if os.getppid() != ppid or (parent is not None and not parent.is_alive()):
                    return  # the main process is gone
                continue
            if msg is None or stop.value:
                return
            if msg[0] == "reset":
                if init_error is None:
                    try:
                        fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = _ExceptionWrapper(where + " (while restarting the data set)")
                continue
            _, epoch, idx, index = msg
            if init_error is not None:
                payload = ("err", init_error)
            else:
                try:
                    payload = ("ok", fetcher.fetch(index))
                except StopIteration:
                    payload = ("end",) if iterable else ("err", _ExceptionWrapper(where))
                except Exception:
                    payload = ("err", _ExceptionWrapper(where))
            try:
                data = _dumps((epoch, idx, payload))
            except Exception:
                data = _dumps((epoch, idx, ("err", _ExceptionWrapper(
                    where + " while sending the batch to the main process (the batch can't be pickled)"))))
            del payload
            result_conn.send_bytes(data)
            del data
    except KeyboardInterrupt:
        pass
    except (BrokenPipeError, ConnectionError, EOFError):
        pass  # the main process closed our pipe: it is shutting down
    finally:
        try:
            result_conn.close()
        except OSError:
            pass


def _base_seed(generator):
    """A seed for the workers, spawned from ``generator`` (or the global one) without drawing from its
    stream: repeatable after ``manual_seed``, new for every epoch, and the shuffle stays the same as
    without workers."""
    gen = generator if generator is not None else _tensor_mod.default_generator
    try:
        child = gen.np.bit_generator.seed_seq.spawn(1)[0]
    except AttributeError:  # a generator without a SeedSequence: draw from it instead
        return int(gen.np.integers(0, 2**62))
    hi, lo = child.generate_state(2, np.uint32).tolist()
    return (hi << 30) | (lo >> 2)  # below 2**62, so base_seed + worker_id stays a small int64


def _default_context():
    return multiprocessing.get_context()


class MultiProcessIter:
    """The iterator of a ``DataLoader`` with ``num_workers > 0`` (see the module docstring)."""

    def __init__(self, loader):
        self._shut = True  # until the workers exist, there is nothing to shut down
        self._iterable = loader._is_iterable
        n = self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._length = loader._length_or_none()
        ctx = loader.multiprocessing_context or _default_context()
        self._method = ctx.get_start_method()
        base_seed = _base_seed(loader.generator)
        spec = (loader.dataset, loader.collate_fn, loader.worker_init_fn)
        if self._method != "fork":  # pickled here, so that what can't be pickled is reported here, clearly
            try:
                spec = bytes(_dumps(spec))
            except Exception as e:
                raise TypeError(f"DataLoader: can't start worker processes with the {self._method!r} start method: "
                                f"the data set, collate_fn and worker_init_fn must be picklable there ({e}). Define "
                                "them at module level, or pass multiprocessing_context='fork' where available.") from e
        self._workers, self._queues, self._conns = [], [], []
        # The stop flag is plain shared memory: setting it takes no lock a killed worker could hold, and
        # it still works when garbage collection has already closed an index queue's feeder thread.
        self._stop = ctx.RawValue("b", 0)
        self._shut = False
        try:
            for wid in range(n):
                q = ctx.Queue()
                reader, writer = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_worker_loop, name=f"DataLoader-worker-{wid}", daemon=True,
                                args=(self._iterable, spec, q, writer, self._stop, loader._auto_collation,
                                      loader.drop_last, base_seed, wid, n, _tensor_mod.get_default_dtype()))
                self._queues.append(q)
                self._conns.append(reader)
                try:
                    p.start()
                finally:
                    writer.close()  # the worker has its own copy; ours would hide the worker's exit from us
                self._workers.append(p)
        except BaseException:
            self._shutdown_workers()
            raise
        self._open = [True] * n
        self._epoch = 0
        self._start_epoch(loader)

    def _start_epoch(self, loader):
        self._sampler_iter = iter(loader._index_sampler)
        self._sampler_done = False
        self._send_idx = 0
        self._rcvd_idx = 0
        self._tasks = {}   # batch index -> worker id, sent and not yet answered
        self._ready = {}   # batch index -> payload, answered and not yet returned
        self._active = [True] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch * self._num_workers):
            self._put_task()

    def _reset(self, loader):
        """The next epoch on the same (persistent) workers; results of the last one still in flight are
        dropped by their epoch number."""
        self._epoch += 1
        for q in self._queues:
            q.put(("reset", self._epoch))
        self._start_epoch(loader)

    def __iter__(self):
        return self

    def __len__(self):
        if self._length is None:
            raise TypeError("this DataLoader's data set has no len()")
        return self._length

    def _put_task(self):
        if self._sampler_done:
            return
        for _ in range(self._num_workers):
            wid = next(self._cycle)
            if self._active[wid]:
                break
        else:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            self._sampler_done = True
            return
        self._queues[wid].put(("task", self._epoch, self._send_idx, index))
        self._tasks[self._send_idx] = wid
        self._send_idx += 1

    def __next__(self):
        if self._shut:
            raise StopIteration
        while True:
            if self._in_order:
                # batches whose worker had already reached the end of its iterable data set never come
                while (self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._ready
                       and self._rcvd_idx not in self._tasks):
                    self._rcvd_idx += 1
                if self._rcvd_idx in self._ready:
                    payload = self._ready.pop(self._rcvd_idx)
                    self._rcvd_idx += 1
                    return self._deliver(payload)
            elif self._ready:
                return self._deliver(self._ready.pop(min(self._ready)))
            if not self._tasks:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            self._receive()

    def _deliver(self, payload):
        self._put_task()
        if payload[0] == "err":
            payload[1].reraise()
        return payload[1]

    def _receive(self):
        """Wait until at least one answer to an outstanding task arrives (or a worker dies, or the timeout)."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            conns = [c for c, is_open in zip(self._conns, self._open) if is_open]
            busy = set(self._tasks.values())
            sentinels = [p.sentinel for wid, p in enumerate(self._workers) if wid in busy]
            wait_s = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = mp_connection.wait(conns + sentinels, timeout=wait_s)
            if not ready:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            got = False
            for wid, conn in enumerate(self._conns):
                if not self._open[wid] or conn not in ready:
                    continue
                try:
                    raw = conn.recv_bytes()
                except (EOFError, OSError):
                    self._open[wid] = False  # the worker is gone; reported below if it owed us a batch
                    continue
                try:
                    epoch, idx, payload = pickle.loads(raw)
                except Exception as e:
                    self._shutdown_workers()
                    raise RuntimeError(f"DataLoader: the main process can't unpickle a batch from worker {wid} "
                                       f"({type(e).__name__}: {e})") from e
                if epoch != self._epoch or self._tasks.get(idx) != wid:
                    continue  # left over from an epoch that was not read to the end
                del self._tasks[idx]
                got = True
                if payload[0] == "end":
                    self._active[wid] = False
                    self._put_task()
                else:
                    self._ready[idx] = payload
            if got:
                return
            for wid in set(self._tasks.values()):
                p = self._workers[wid]
                if not p.is_alive() and not (self._open[wid] and self._conns[wid].poll()):
                    self._report_death(wid)

    def _report_death(self, wid):
        p = self._workers[wid]
        code = p.exitcode
        self._shutdown_workers()
        how = f"exit code {code}"
        if code is not None and code < 0:
            try:
                how += f", killed by {signal.Signals(-code).name}"
            except ValueError:
                pass
        if code == -getattr(signal, "SIGKILL", 9):
            hint = " It was probably killed for memory: use fewer workers or a smaller prefetch_factor."
        elif code is not None and code < 0 and self._method == "fork":
            hint = (" Under the 'fork' start method a worker can't run parallel (Numba/OpenMP) kernels once the "
                    "main process has used them: do tensor work in the main process, or pass "
                    "multiprocessing_context='spawn' or 'forkserver'.")
        else:
            hint = " Its own error output, if any, is above."
        raise RuntimeError(f"DataLoader worker {wid} (pid {p.pid}) exited unexpectedly ({how}).{hint}")

    def _shutdown_workers(self):
        if self._shut:
            return
        self._shut = True
        self._stop.value = 1
        for q in self._queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        # Closing our ends makes a worker blocked on sending a batch fail at once instead of waiting.
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        deadline = time.monotonic() + _JOIN_S
        for p in self._workers:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
        for p in self._workers:
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
        for q in self._queues:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # pragma: no cover - interpreter teardown
            pass

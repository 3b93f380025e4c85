"""The kernel backend switch and lazy, background compilation of Numba kernels.

* ``backend()`` / ``use(name, background=True)``: which implementation the ops run ("numba" or
  "numpy"); ``use`` also works as a context manager that restores the previous choice.
* ``jit(fn)``: ``numba.njit`` with on-disk caching where numba can write a cache, in-memory compilation
  where it cannot (a read-only install: numba would raise "no locator available" at decoration).
  For helpers that kernels call; without Numba it returns ``fn`` unchanged.
* ``kernel(name)``: a ``Kernel``, the unit that ops dispatch to. ``k.get(key, args)`` returns the
  compiled function for the argument types of ``args`` (``key`` names them, e.g. the dtype), or None
  when the numpy backend is selected or while it is still being compiled. The first request queues
  the compile on a background thread (or compiles at once with ``background=False``), so the caller
  runs its numpy code in the meantime instead of waiting seconds. A compile that runs longer than a
  second warns once (``KernelCompileWarning``); one that fails warns and leaves the op on numpy.
"""
from __future__ import annotations

import collections
import threading
import time
import warnings

import numpy as np

from . import HAVE_NUMBA, numba

__all__ = ["backend", "use", "wait", "idle", "background_compiles", "jit", "kernel", "Kernel", "KernelCompileWarning",
           "numba_active"]

ANNOUNCE_AFTER_S = 1.0


class KernelCompileWarning(UserWarning):
    """A Numba kernel is being compiled (a one-time cost per install and dtype, or per process when the
    compiled code cannot be cached).

    >>> import warnings
    >>> from autograd_core import kernels
    >>> issubclass(kernels.KernelCompileWarning, UserWarning)
    True
    """


class _State:
    __slots__ = ("numba", "background")

    def __init__(self):
        self.numba = HAVE_NUMBA
        self.background = True


_state = _State()


def backend():
    """The kernel backend the ops use now: ``"numba"`` or ``"numpy"``.

    >>> from autograd_core import kernels
    >>> with kernels.use("numpy"):
    ...     kernels.backend()
    'numpy'
    """
    return "numba" if _state.numba else "numpy"


def numba_active():
    """Whether the Numba backend is selected (the ops' fast check).

    >>> from autograd_core import kernels
    >>> with kernels.use("numpy"):
    ...     kernels.numba_active()
    False
    """
    return _state.numba


class use:
    """Select the kernel backend, ``"numba"`` or ``"numpy"``, for the whole process.

    Also a context manager: ``with use("numpy"): ...`` restores the previous backend on exit.
    ``background=False`` compiles each Numba kernel on the calling thread when first needed (the op
    then always runs the kernel) instead of running numpy code until a background compile is done.

    >>> from autograd_core import kernels
    >>> before = kernels.backend()
    >>> with kernels.use("numpy"):
    ...     kernels.backend()
    'numpy'
    >>> kernels.backend() == before
    True
    """
    __slots__ = ("saved",)

    def __init__(self, name, background=True):
        if name not in ("numba", "numpy"):
            raise ValueError(f"kernels.use: backend must be 'numba' or 'numpy', got {name!r}")
        if name == "numba" and not HAVE_NUMBA:
            raise RuntimeError("kernels.use('numba'): numba is not installed (or AUTOGRAD_CORE_NO_NUMBA=1 is set); "
                               "`pip install numba`, or use the 'numpy' backend")
        self.saved = (_state.numba, _state.background)
        _state.numba = name == "numba"
        _state.background = bool(background)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.numba, _state.background = self.saved
        return False

    def __repr__(self):
        return f"<kernel backend {backend()!r}>"


# -- caching that survives a read-only install -----------------------------------------------------
def _njit(fn, opts):
    try:
        return numba.njit(cache=True, **opts)(fn)
    except RuntimeError:
        # numba found no writable cache location: compile in memory each process
        return numba.njit(cache=False, **opts)(fn)


def jit(fn=None, **opts):
    """``numba.njit(nogil=True, cache=<where possible>, **opts)``; ``fn`` itself without Numba.

    >>> from autograd_core import kernels
    >>> @kernels.jit
    ... def add_one(a):
    ...     return a + 1
    >>> callable(add_one)
    True
    """
    def deco(f):
        if not HAVE_NUMBA:
            return f
        opts.setdefault("nogil", True)
        return _njit(f, opts)
    return deco(fn) if fn is not None else deco


# -- background compilation ------------------------------------------------------------------------
_queue = collections.deque()
_cv = threading.Condition()
_busy = [0]           # compiles queued or running
_thread = [None]
_announced = set()


def _describe(key):
    try:
        return np.dtype(key).name
    except TypeError:
        return str(key)


def _in_disk_cache(disp, sig):
    """Whether Numba's on-disk cache holds ``disp`` compiled for ``sig``, so that ``disp.compile(sig)`` only
    loads it (Numba's own index lookup); False where that cannot be told."""
    try:
        cache = disp._cache
        if not cache._enabled:
            return False
        return cache._index_key(sig, disp.targetctx.codegen()) in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - Numba's internals moved: say "compiling", as before
        return False


def _announce(k, key, sig, background):
    name = k.name
    if name in _announced:
        return
    _announced.add(name)
    then = ("the op runs its numpy code until it is ready" if background else "the op waits for it")
    if _in_disk_cache(k.disp, sig):
        # a load slowed down by the script itself (its Python work holds the interpreter meanwhile)
        what = (f"loading the Numba kernel {name!r} for {_describe(key)} from Numba's cache is taking over "
                f"a second (the script's own work holds the interpreter meanwhile)")
    else:
        what = (f"compiling the Numba kernel {name!r} for {_describe(key)} (once per install and dtype where "
                f"numba can cache it on disk, else once per process)")
    warnings.warn(f"autograd_core: {what}; {then}", KernelCompileWarning, stacklevel=2)


def _compile(k, key, sig, background):
    t0 = time.perf_counter()
    timer = threading.Timer(ANNOUNCE_AFTER_S, _announce, (k, key, sig, background))
    timer.daemon = True
    timer.start()
    try:
        k.disp.compile(sig)
        k.ready[key] = k.disp
    except Exception as e:  # noqa: BLE001 - any compile failure leaves the op on its numpy code
        k.failed[key] = e
        warnings.warn(f"autograd_core: the Numba kernel {k.name!r} failed to compile for {_describe(key)} "
                      f"({type(e).__name__}: {e}); that op keeps running its numpy code", KernelCompileWarning)
    finally:
        timer.cancel()
        k.pending.discard(key)
        k.seconds[key] = time.perf_counter() - t0


def _worker():
    while True:
        with _cv:
            while not _queue:
                _cv.wait()
            k, key, sig = _queue.popleft()
        try:
            _compile(k, key, sig, True)
        finally:
            with _cv:
                _busy[0] -= 1
                _cv.notify_all()


def _submit(k, key, sig):
    with _cv:
        _queue.append((k, key, sig))
        _busy[0] += 1
        if _thread[0] is None:
            _thread[0] = threading.Thread(target=_worker, name="autograd_core-kernel-compiler", daemon=True)
            _thread[0].start()
        _cv.notify_all()


def background_compiles():
    """Whether kernels compile on the background thread (``use(..., background=True)``, the default).

    >>> from autograd_core import kernels
    >>> with kernels.use("numba" if kernels.HAVE_NUMBA else "numpy", background=False):
    ...     kernels.compile.background_compiles()
    False
    """
    return _state.background


def idle():
    """Whether no background compile is queued or running now.

    >>> from autograd_core import kernels
    >>> kernels.wait(timeout=60) and kernels.compile.idle()
    True
    """
    return _busy[0] == 0


def wait(timeout=None):
    """Block until every kernel compile requested so far has finished; False if ``timeout`` ran out.

    >>> from autograd_core import kernels
    >>> kernels.wait(timeout=60)
    True
    """
    end = None if timeout is None else time.monotonic() + timeout
    with _cv:
        while _busy[0]:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return False
            _cv.wait(left)
    return True


class Kernel:
    """A Numba kernel compiled on demand, per argument-type ``key`` (see the module docstring).

    >>> import numpy as np
    >>> from autograd_core import kernels
    >>> k = kernels.Kernel("doc_example_neg", lambda a: -a, {})
    >>> with kernels.use("numpy"):
    ...     k.get("f8", (np.zeros(2),)) is None
    True
    """
    __slots__ = ("name", "disp", "ready", "pending", "failed", "seconds", "__weakref__")

    def __init__(self, name, fn, opts, disp=None):
        self.name = name
        # ``disp``: anything with ``compile(sig)`` in place of numba's dispatcher (a wrapper built on demand)
        self.disp = disp if disp is not None else _njit(fn, dict(opts, nogil=True)) if HAVE_NUMBA else None
        self.ready = {}      # key -> compiled dispatcher
        self.pending = set()
        self.failed = {}
        self.seconds = {}

    def get(self, key, args, wait=False):
        """The compiled kernel for ``args`` (whose types ``key`` names), or None: the numpy backend is
        selected, or the kernel is still compiling (requested now if it was not yet), or it failed.
        ``wait=True``: compile now (or wait for the background compile), as with ``background=False``.

        >>> import numpy as np
        >>> from autograd_core import kernels
        >>> k = kernels.Kernel("doc_example_sq", lambda a: a * a, {})
        >>> with kernels.use("numpy"):
        ...     k.get("f8", (np.zeros(2),))
        >>> with kernels.use("numpy"):
        ...     k.get("f8", (np.zeros(2),)) is None
        True
        """
        if not _state.numba:
            return None
        d = self.ready.get(key)
        if d is not None or key in self.failed:
            return d
        background = _state.background and not wait
        if key in self.pending:
            if background:
                return None
            with _cv:              # compiling on the background thread: wait for it (as asked)
                while key in self.pending:
                    _cv.wait(0.05)
            return self.ready.get(key)
        self.pending.add(key)
        sig = tuple(numba.typeof(a) for a in args)
        if background:
            _submit(self, key, sig)
            return None
        _compile(self, key, sig, False)
        return self.ready.get(key)

    def __call__(self, *args):
        """Run the compiled kernel (compiled now if needed), whatever the backend: for tests."""
        if self.disp is None:
            raise RuntimeError(f"kernel {self.name!r}: numba is not available")
        return self.disp(*args)

    def __repr__(self):
        return f"<kernel {self.name} ready for {sorted(map(str, self.ready))}>"


def kernel(name, **opts):
    """Decorator: the function as a ``Kernel`` named ``name`` (``opts`` go to ``numba.njit``).

    >>> import numpy as np
    >>> from autograd_core import kernels
    >>> @kernels.kernel("doc_example_double")
    ... def double(a):
    ...     return a * 2
    >>> double.name
    'doc_example_double'
    >>> with kernels.use("numpy"):
    ...     double.get("f8", (np.zeros(1),)) is None
    True
    """
    def deco(fn):
        return Kernel(name, fn, opts)
    return deco

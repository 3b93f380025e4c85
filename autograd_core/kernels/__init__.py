"""Hot loops that numpy cannot vectorize well, as Numba kernels with pure-numpy fallbacks.

The kernel backend is an explicit, selectable object:

* ``backend()`` is ``"numba"`` or ``"numpy"``: which implementation the ops use.
* ``use("numpy")`` / ``use("numba")`` selects one for the whole process, and also works as a context
  manager (``with kernels.use("numpy"): ...`` restores the previous one on exit).
* ``wait()`` blocks until the kernels requested so far are compiled.

With the Numba backend, a kernel is compiled on its first use, for the dtypes it is used with, by a
background thread (``compile.Kernel``); until it is ready the op runs its numpy code, so the first
training step on a fresh install takes about as long as a numpy step instead of tens of seconds of
compilation. ``use("numba", background=False)`` compiles on the calling thread instead (the tests
use it to be sure that the kernels themselves ran). Compiled code is cached on disk where numba can
write (``__pycache__`` next to this file, ``NUMBA_CACHE_DIR`` or the user's cache folder), in memory
otherwise (a read-only install works). A compile that takes over a second says so once per kernel
(``KernelCompileWarning``).

Numba is a runtime dependency, but if it cannot be imported (or ``AUTOGRAD_CORE_NO_NUMBA=1`` is set)
the numpy backend is the only one.

Parallel kernels run on one thread pool of our own (``threads``): ``set_num_threads(n)`` /
``get_num_threads()``. Its idle threads sleep, so they leave the cores to whatever else runs (after a
native job a worker watches for the next one for a millisecond, yielding its core, and stops at once
when another thread wants it), and BLAS calls made from inside the kernels stay on the calling
thread. Matrix products and the other parallel kernels are handed over without the GIL where they can
(``native``); products never run on OpenBLAS's own threads, which spin for ~130 ms after each call
(``blas``).
"""
from __future__ import annotations

import math
import os

import numpy as np

try:
    if os.environ.get("AUTOGRAD_CORE_NO_NUMBA") == "1":
        raise ImportError("disabled by AUTOGRAD_CORE_NO_NUMBA=1")
    import numba
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised by the no-numba test run
    numba = None
    HAVE_NUMBA = False

from . import compile as _compile  # noqa: E402
from .compile import Kernel, KernelCompileWarning, backend, jit, kernel, numba_active, use  # noqa: E402
from .threads import get_num_threads, parallel_for, request_native, set_num_threads  # noqa: E402


def wait(timeout=None):
    """Block until every kernel compile requested so far has finished, and, with more than one thread, the
    pool's native-job code and the range wrappers of the parallel kernels met so far with them; False if
    ``timeout`` ran out.

    >>> from autograd_core import kernels
    >>> kernels.wait(timeout=120)
    True
    """
    request_native()
    return _compile.wait(timeout)

__all__ = ["HAVE_NUMBA", "numba", "backend", "use", "wait", "jit", "kernel", "Kernel", "KernelCompileWarning",
           "numba_active", "set_num_threads", "get_num_threads", "parallel_for", "erf", "erf_numpy"]

_erf_frompy = np.frompyfunc(math.erf, 1, 1)


def erf_numpy(x):
    """erf with ``math.erf`` per element (exact, slow): the kernels' fallback; an ndarray in x's float dtype.

    >>> from autograd_core import kernels
    >>> kernels.erf_numpy([0.0, 1.0])
    array([0.        , 0.84270079])
    """
    x = np.asarray(x)
    return _erf_frompy(x).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def erf(x):
    """Elementwise error function of an array, in its float dtype (float64 for other dtypes); the kernel
    behind ``ag.erf``.

    >>> from autograd_core import kernels
    >>> kernels.erf([0.0, 1.0]).round(4)
    array([0.    , 0.8427])
    """
    from . import activation
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return activation.erf(x)

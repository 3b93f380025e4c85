"""Hot loops that numpy cannot vectorize, as Numba kernels with pure-numpy fallbacks.

Numba is a runtime dependency, but if it cannot be imported (or ``AUTOGRAD_CORE_NO_NUMBA=1``
is set) every kernel falls back to numpy; the tests run both paths against each other.
"""
from __future__ import annotations

import math
import os

import numpy as np

# After each parallel kernel, Numba's OpenMP threads busy-wait for the next one (GNU OpenMP: 300000
# spins, up to ~10 ms) before they sleep. Waking sleeping threads costs tens of microseconds per
# kernel (a LeNet-5 step at 2 threads: 5-30 % slower with OMP_WAIT_POLICY=PASSIVE), but spinning long
# steals cores from anything else that runs in between, such as OpenBLAS's own thread pool (36 ms
# instead of 13 for that step when both pools spun; the engine's matmuls now run on Numba's threads,
# kernels.blas). So they spin briefly (30000 spins, well under a millisecond to ~2 ms depending on the
# CPU), then sleep. Read by the OpenMP runtime when Numba loads it; a user's own setting wins.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "30000")

try:
    if os.environ.get("AUTOGRAD_CORE_NO_NUMBA") == "1":
        raise ImportError("disabled by AUTOGRAD_CORE_NO_NUMBA=1")
    import numba
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised by the no-numba test run
    numba = None
    HAVE_NUMBA = False

__all__ = ["HAVE_NUMBA", "numba", "erf", "erf_numpy"]

_erf_frompy = np.frompyfunc(math.erf, 1, 1)


def erf_numpy(x):
    """erf with math.erf per element (exact, slow): the fallback."""
    x = np.asarray(x)
    return _erf_frompy(x).astype(x.dtype if x.dtype.kind == "f" else np.float64)


_erf_numba = None


def erf(x):
    """Elementwise error function (Numba ufunc over math.erf, compiled on first use)."""
    global _erf_numba
    if not HAVE_NUMBA:
        return erf_numpy(x)
    if _erf_numba is None:
        @numba.vectorize(["float64(float64)", "float32(float32)"], cache=True)
        def _erf(v):
            return math.erf(v)
        _erf_numba = _erf
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return _erf_numba(x)

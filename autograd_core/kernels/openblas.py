"""Finding the OpenBLAS library that numpy's or SciPy's wheels bundle, to call it through ctypes.

>>> import numpy as np
>>> from autograd_core.kernels import openblas
>>> found = openblas.find(np, "numpy.libs")
>>> found is None or found[1] in ("scipy_openblas_", "openblas_")
True
"""
from __future__ import annotations

import ctypes
import glob
import os

__all__ = ["find"]


def find(module=None, libs="scipy.libs"):
    """(ctypes library, symbol prefix, symbol suffix) of the OpenBLAS that SciPy's wheels bundle (the one
    cython_blas calls), or with ``module=numpy, libs="numpy.libs"`` numpy's; None for another BLAS or when
    not found."""
    if module is None:
        import scipy as module
    site = os.path.dirname(os.path.dirname(os.path.abspath(module.__file__)))
    for path in sorted(glob.glob(os.path.join(site, libs, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)   # already loaded by SciPy / numpy: the same library instance
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", ""), ("openblas_", ""), ("scipy_openblas_", "64_"),
                               ("openblas_", "64_")):
            if hasattr(lib, prefix + "get_num_threads" + suffix):
                return lib, prefix, suffix
    return None

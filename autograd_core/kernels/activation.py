"""Elementwise activations as one-pass Numba kernels on the thread pool: ReLU, GELU (exact, erf) and
their gradients, and erf.

Why: numpy makes one pass and one temporary per operator. GELU's forward ``0.5 x (1 + erf(x / sqrt 2))``
and its gradient ``g (Phi(x) + x phi(x))`` took about a quarter of a small GPT's training step that way;
one pass per call, split over the threads, is several times faster. ReLU (one numpy pass already) is
only worth a kernel on big arrays, where the second thread helps.

Each function takes float32/float64 C-contiguous arrays of one shape on the kernel path; anything else,
the numpy backend, or a kernel still compiling runs the numpy formula (same values up to rounding).
"""
from __future__ import annotations

import math

import numpy as np

from . import HAVE_NUMBA
from .compile import jit, kernel, numba_active
from .threads import parallel_range, range_kernel

__all__ = ["relu", "relu_grad", "gelu", "gelu_grad", "erf", "expneg32", "RELU_MIN_SIZE", "MIN_SIZE", "CHUNK"]

RELU_MIN_SIZE = 1 << 16   # below this np.maximum is as fast (one pass, one thread); the gradient is not
MIN_SIZE = 1 << 10        # GELU/erf: below this the kernel call costs more than numpy's passes
CHUNK = 1 << 15           # elements per parallel chunk, at least
PAR_MIN = 1 << 17         # below this the calling thread does it all (a worker's wake-up costs more)

_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

try:
    from scipy.special import erf as _erf_scipy
except ImportError:  # pragma: no cover - SciPy is a dependency
    _erf_scipy = np.frompyfunc(math.erf, 1, 1)


def _erf_np(x):
    out = _erf_scipy(x)
    return out.astype(x.dtype, copy=False) if out.dtype != x.dtype else out


# Loop indices are uint64: numba checks signed indices for negative wraparound, and that check blocks
# vectorization (measured 10x slower for the ReLU gradient).
_U = np.uint64


@kernel("relu", error_model="numpy")
def _relu_k(x, out, lo, hi):
    for i in range(_U(lo), _U(hi)):
        v = x[i]
        out[i] = 0 if v < 0 else v      # NaN stays NaN, as np.maximum


@kernel("relu_grad", error_model="numpy")
def _relu_grad_k(g, x, out, lo, hi):
    for i in range(_U(lo), _U(hi)):
        out[i] = 0 if x[i] <= 0 else g[i]   # relu'(nan) passes g, as PyTorch


# float32 GELU: erf and exp from polynomials that LLVM vectorizes (math.erf and math.exp are libm calls,
# one element at a time: 12x slower). Abramowitz & Stegun 7.1.26 for erf (|error| < 1.5e-7, as PyTorch's
# vectorized float32 erf), exp(-z^2) as 2^y, y = n + f, 2^f by a degree-6 polynomial and 2^n (n <= 0) by
# its bits. GELU's values then differ from float64's by < 3e-7 (times |x| and |g|).
_F = np.float32


@jit(inline="always", error_model="numpy", fastmath={"contract"})
def _erf_exp32(z):
    """(erf(z), exp(-z*z)) for float32 z >= 0."""
    e = expneg32(z * z)
    t = _F(1.0) / (_F(1.0) + _F(0.3275911) * z)
    q = _F(1.061405429)
    q = q * t + _F(-1.453152027)
    q = q * t + _F(1.421413741)
    q = q * t + _F(-0.284496736)
    q = q * t + _F(0.254829592)
    return _F(1.0) - q * t * e, e


if HAVE_NUMBA:
    from llvmlite import ir as _ir
    from numba.core import types as _types
    from numba.extending import intrinsic as _intrinsic

    @_intrinsic
    def _pow2neg(typingctx, m):
        """2**-m as float32 for an int32 0 <= m <= 126, made from its exponent bits (vectorizes; a
        multiply per bit of m, as before, cost a third of GELU's time)."""
        def codegen(context, builder, sig, args):
            e = builder.sub(_ir.Constant(_ir.IntType(32), 127), args[0])
            return builder.bitcast(builder.shl(e, _ir.Constant(_ir.IntType(32), 23)), _ir.FloatType())
        return _types.float32(_types.int32), codegen
else:  # pragma: no cover - the kernels are not used without Numba
    def _pow2neg(m):  # type: ignore[misc]
        return np.float32(2.0 ** -int(m))


@jit(inline="always", error_model="numpy", fastmath={"contract"})
def expneg32(v):
    """exp(-v) for float32 v >= 0 (NaN for NaN, 0 from v > 104), in operations LLVM vectorizes."""
    u = min(v * _F(1.4426950408889634), _F(126.0))   # exp(-v) = 2^-u = 2^-m 2^f
    m = np.int32(u + _F(0.5))                          # round(u): truncation vectorizes, floor() is a call
    f = _F(m) - u
    p = _F(1.535336188319500e-4)
    p = p * f + _F(1.339887440266574e-3)
    p = p * f + _F(9.618437357674640e-3)
    p = p * f + _F(5.550332471162809e-2)
    p = p * f + _F(2.402264791363012e-1)
    p = p * f + _F(6.931472028550421e-1)
    p = p * f + _F(1.0)
    e = p * _pow2neg(m)
    e = e if v < _F(104.0) else _F(0.0)
    return e if v == v else v


@kernel("gelu_float32", error_model="numpy", fastmath={"contract"})
def _gelu32_k(x, out, lo, hi):
    for i in range(_U(lo), _U(hi)):
        v = x[i]
        er, _ = _erf_exp32(abs(v) * _F(0.7071067811865476))
        er = er if v >= 0 else -er
        out[i] = _F(0.5) * v * (_F(1.0) + er)


@kernel("gelu_grad_float32", error_model="numpy", fastmath={"contract"})
def _gelu_grad32_k(g, x, out, lo, hi):
    for i in range(_U(lo), _U(hi)):
        v = x[i]
        er, e = _erf_exp32(abs(v) * _F(0.7071067811865476))
        er = er if v >= 0 else -er
        out[i] = g[i] * (_F(0.5) * (_F(1.0) + er) + v * _F(0.3989422804014327) * e)


@kernel("gelu", error_model="numpy")
def _gelu_k(x, out, lo, hi):
    for i in range(_U(lo), _U(hi)):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.erf(v * 0.7071067811865476))


@kernel("gelu_grad", error_model="numpy")
def _gelu_grad_k(g, x, out, lo, hi):
    for i in range(_U(lo), _U(hi)):
        v = x[i]
        cdf = 0.5 * (1.0 + math.erf(v * 0.7071067811865476))
        out[i] = g[i] * (cdf + v * 0.3989422804014327 * math.exp(-0.5 * v * v))


@kernel("erf", error_model="numpy")
def _erf_k(x, out, lo, hi):
    for i in range(_U(lo), _U(hi)):
        out[i] = math.erf(x[i])


def _ok(a, *others, min_size):
    if type(a) is not np.ndarray or a.size < min_size or a.dtype.char not in "fd" or not a.flags.c_contiguous:
        return False
    for b in others:
        if type(b) is not np.ndarray or b.dtype != a.dtype or b.shape != a.shape or not b.flags.c_contiguous:
            return False
    return True


def _run(kern, first, *rest, min_size):
    """The kernel over flat views of the arrays into a new array, or None (caller runs numpy)."""
    if not numba_active() or not _ok(first, *rest, min_size=min_size):
        return None
    flat = tuple(a.reshape(-1) for a in (first,) + rest)
    out = np.empty_like(first)
    args = flat + (out.reshape(-1),)
    k = range_kernel(kern, first.dtype.char, args)
    if k is None:
        return None
    parallel_range(kern, k, args, first.size, 1, PAR_MIN, CHUNK)
    return out


def relu(x):
    """max(x, 0) elementwise (NaN propagates)."""
    out = _run(_relu_k, x, min_size=RELU_MIN_SIZE)
    return np.maximum(x, 0) if out is None else out


def relu_grad(g, x):
    """0 where x <= 0, else g (the gradient at 0 is 0, and at NaN it is g, as PyTorch)."""
    out = _run(_relu_grad_k, g, x, min_size=MIN_SIZE)
    if out is not None:
        return out
    # g * mask, not np.where: a select on a mask that changes sign at random runs ~10x slower
    keep = ~(np.asarray(x) <= 0)
    out = g * keep
    if not np.isfinite(out).all():     # inf or NaN in g where x <= 0: inf * 0 is NaN, the gradient is 0
        out = np.where(keep, g, np.zeros((), out.dtype))
    return out


def gelu(x):
    """x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (exact GELU)."""
    out = _run(_gelu32_k if getattr(x, "dtype", None) == np.float32 else _gelu_k, x, min_size=MIN_SIZE)
    if out is None:
        x = np.asarray(x)
        out = 0.5 * x * (1 + _erf_np(x * x.dtype.type(_INV_SQRT_2) if x.dtype.kind == "f" else x * _INV_SQRT_2))
    return out


def gelu_grad(g, x):
    """g d/dx[x Phi(x)] = g (Phi(x) + x phi(x))."""
    out = _run(_gelu_grad32_k if getattr(x, "dtype", None) == np.float32 else _gelu_grad_k, g, x, min_size=MIN_SIZE)
    if out is None:
        cdf = 0.5 * (1 + _erf_np(x * _INV_SQRT_2))
        out = g * (cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x))
    return out


def erf(x):
    """erf elementwise, in x's float dtype."""
    out = _run(_erf_k, x, min_size=MIN_SIZE)
    return _erf_np(x) if out is None else out

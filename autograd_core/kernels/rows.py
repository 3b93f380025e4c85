"""Row-wise kernels over the last axis: softmax, log_softmax, layer normalization, and their gradients.

Why: numpy makes one pass (and one temporary) per operation, 4 for softmax and about 9 for a layer
norm; for a small GPT's attention scores and activations those passes were ~15 % of a training step.
One pass per row (reading it two or three times while it is in L1), rows split over the threads.

``z`` is a zero of the arrays' dtype (sums start from it: a literal 0 would make float32 sums float64).
Each function returns None when the kernel does not serve (numpy backend, compiling, other dtypes or
layouts); the caller then runs its numpy code (same values up to rounding).
"""
from __future__ import annotations

import math

import numpy as np

from .activation import expneg32
from .compile import kernel, numba_active
from .threads import parallel_range, range_kernel

__all__ = ["softmax", "log_softmax", "layer_norm", "softmax_grad", "log_softmax_grad", "norm_input_grad",
           "norm_param_grads", "sum_leading", "add_rows", "MIN_SIZE"]

# elements; row kernels serve any size: on a (4, 16) input numpy's passes took 9.4 us for a softmax and 144 us
# for a layer norm's forward and backward, the kernels 6.4 and 113
MIN_SIZE = 1
SUM_MIN_SIZE = 1 << 9   # sums over leading axes: below this numpy's sum is as fast as a kernel call
_CHUNK = 1 << 15        # elements per parallel chunk (whole rows), at least
# Below this the calling thread does it all: a layer norm or its gradient over 2^17 elements takes
# 45-90 us on one thread and was slower on two (the hand-over to a woken thread costs as much as it saves).
_PAR_MIN = 1 << 18
# Loop indices are uint64: numba checks signed indices for negative wraparound, and that check blocks
# vectorization (these kernels ran 3x slower).
_U = np.uint64


@kernel("softmax_rows", error_model="numpy", fastmath={"contract", "reassoc"})
def _softmax_k(x, out, log, z, r0, r1):
    n = x.shape[1]
    for r in range(_U(r0), _U(r1)):
        m = x[r, 0]
        for j in range(_U(1), _U(n)):
            v = x[r, j]
            if v > m or v != v:
                m = v
        # a row of -inf gives NaN (-inf - -inf), as numpy's formula does
        s = z
        if log:
            for j in range(_U(n)):
                s += math.exp(x[r, j] - m)
            ls = math.log(s)
            for j in range(_U(n)):
                out[r, j] = x[r, j] - m - ls
        else:
            for j in range(_U(n)):
                e = math.exp(x[r, j] - m)
                out[r, j] = e
                s += e
            inv = 1 / s
            for j in range(_U(n)):
                out[r, j] *= inv


@kernel("softmax_rows_float32", error_model="numpy", fastmath={"contract", "reassoc"})
def _softmax32_k(x, out, log, z, r0, r1):
    """float32 rows: exp by ``activation.expneg32`` (vectorized; libm's expf is one call per element), and
    the row max in 8 lanes (``lm``) that the compiler vectorizes: a running max is one loop-carried
    compare per element and made this pass two thirds of the kernel's time (the same code as an inlined
    helper was 30 % slower). With NaN in a row the lanes may drop it from the max, but exp(m - x) is NaN
    at the NaN, so the sum and the whole row come out NaN, as PyTorch's."""
    n = x.shape[1]
    L = 8
    lm = np.empty(L, x.dtype)
    for r in range(_U(r0), _U(r1)):
        m = x[r, 0]
        if n >= L:
            for k in range(_U(L)):
                lm[k] = x[r, k]
            nl = _U(n) // _U(L) * _U(L)
            for j0 in range(_U(L), nl, _U(L)):
                for k in range(_U(L)):
                    v = x[r, j0 + k]
                    b = lm[k]
                    lm[k] = v if v > b else b
            m = lm[0]
            for k in range(_U(1), _U(L)):
                m = lm[k] if lm[k] > m else m
            for j in range(nl, _U(n)):
                v = x[r, j]
                m = v if v > m else m
        else:
            for j in range(_U(1), _U(n)):
                v = x[r, j]
                m = v if v > m or v != v else m
        s = z
        if log:
            for j in range(_U(n)):
                s += expneg32(m - x[r, j])
            ls = np.float32(math.log(s))
            for j in range(_U(n)):
                out[r, j] = x[r, j] - m - ls
        else:
            for j in range(_U(n)):
                e = expneg32(m - x[r, j])
                out[r, j] = e
                s += e
            inv = np.float32(1) / s
            for j in range(_U(n)):
                out[r, j] *= inv


@kernel("layer_norm_rows", error_model="numpy", fastmath={"contract", "reassoc"})
def _layer_norm_k(x, w, b, out, xhat, mean, invstd, eps, z, one, inv_n, r0, r1):
    """``one``, ``inv_n`` (1/n): in the arrays' dtype, so that float32 math stays float32 (``s / n`` with
    an int n would be float64, and the loops would convert every element)."""
    n = x.shape[1]
    hw, hb = w.shape[0] > 0, b.shape[0] > 0
    for r in range(_U(r0), _U(r1)):
        s = z
        for j in range(_U(n)):
            s += x[r, j]
        mu = s * inv_n
        q = z
        for j in range(_U(n)):
            d = x[r, j] - mu
            q += d * d
        inv = one / np.sqrt(q * inv_n + eps)
        mean[r] = mu
        invstd[r] = inv
        for j in range(_U(n)):
            xhat[r, j] = (x[r, j] - mu) * inv
        if hw and hb:
            for j in range(_U(n)):
                out[r, j] = xhat[r, j] * w[j] + b[j]
        elif hw:
            for j in range(_U(n)):
                out[r, j] = xhat[r, j] * w[j]
        elif hb:
            for j in range(_U(n)):
                out[r, j] = xhat[r, j] + b[j]
        else:
            for j in range(_U(n)):
                out[r, j] = xhat[r, j]


@kernel("softmax_grad_rows", error_model="numpy", fastmath={"contract", "reassoc"})
def _softmax_grad_k(g, y, out, z, r0, r1):
    """y (g - sum(g y)) per row."""
    n = g.shape[1]
    for r in range(_U(r0), _U(r1)):
        s = z
        for j in range(_U(n)):
            s += g[r, j] * y[r, j]
        for j in range(_U(n)):
            out[r, j] = y[r, j] * (g[r, j] - s)


@kernel("log_softmax_grad_rows", error_model="numpy", fastmath={"contract", "reassoc"})
def _log_softmax_grad_k(g, y, out, z, r0, r1):
    """g - exp(y) sum(g) per row."""
    n = g.shape[1]
    for r in range(_U(r0), _U(r1)):
        s = z
        for j in range(_U(n)):
            s += g[r, j]
        for j in range(_U(n)):
            out[r, j] = g[r, j] - math.exp(y[r, j]) * s


@kernel("log_softmax_grad_rows_float32", error_model="numpy", fastmath={"contract", "reassoc"})
def _log_softmax_grad32_k(g, y, out, z, r0, r1):
    """float32 rows: exp(y) = ``expneg32(-y)``, which serves y <= 0 (log-probabilities); a row with a
    positive y is done again with libm's exp."""
    n = g.shape[1]
    for r in range(_U(r0), _U(r1)):
        s = z
        for j in range(_U(n)):
            s += g[r, j]
        pos = False
        for j in range(_U(n)):
            v = y[r, j]
            pos |= v > z
            out[r, j] = g[r, j] - expneg32(-v) * s
        if pos:
            for j in range(_U(n)):
                out[r, j] = g[r, j] - np.float32(math.exp(y[r, j])) * s


@kernel("norm_input_grad_rows", error_model="numpy", fastmath={"contract", "reassoc"})
def _norm_input_grad_k(g, xhat, invstd, w, out, z, inv_n, r0, r1):
    """invstd (gh - mean(gh) - xhat mean(gh xhat)) per row with gh = g w (g itself when ``w`` is empty);
    ``inv_n``: 1/n in the arrays' dtype. gh is formed in the loops, never stored."""
    n = g.shape[1]
    hw = w.shape[0] > 0
    for r in range(_U(r0), _U(r1)):
        s1 = z
        s2 = z
        if hw:
            for j in range(_U(n)):
                v = g[r, j] * w[j]
                s1 += v
                s2 += v * xhat[r, j]
        else:
            for j in range(_U(n)):
                v = g[r, j]
                s1 += v
                s2 += v * xhat[r, j]
        m1 = s1 * inv_n
        m2 = s2 * inv_n
        inv = invstd[r]
        if hw:
            for j in range(_U(n)):
                out[r, j] = inv * (g[r, j] * w[j] - m1 - xhat[r, j] * m2)
        else:
            for j in range(_U(n)):
                out[r, j] = inv * (g[r, j] - m1 - xhat[r, j] * m2)


@kernel("norm_param_grads_rows", error_model="numpy", fastmath={"contract", "reassoc"})
def _norm_param_k(g, xhat, parts, per, z, b0, b1):
    """parts[b, 0] = sum of g xhat and parts[b, 1] = sum of g over rows b*per..(b+1)*per-1 (in order), for
    blocks b0..b1-1."""
    rows, n = g.shape[0], g.shape[1]
    for b in range(b0, b1):
        for j in range(_U(n)):
            parts[b, 0, j] = z
            parts[b, 1, j] = z
        for r in range(_U(b * per), _U(min(rows, (b + 1) * per))):
            for j in range(_U(n)):
                v = g[r, j]
                parts[b, 0, j] += v * xhat[r, j]
                parts[b, 1, j] += v


@kernel("add_rows", error_model="numpy")
def _add_rows_k(y, b, r0, r1):
    """y[r] += b for rows r0..r1-1."""
    n = y.shape[1]
    for r in range(_U(r0), _U(r1)):
        for j in range(_U(n)):
            y[r, j] += b[j]


@kernel("sum_leading_rows", error_model="numpy", fastmath={"contract", "reassoc"})
def _colsum_k(a, parts, per, z, b0, b1):
    """parts[b] = the sum of rows b*per..(b+1)*per-1 of a (rows in order, as numpy sums over a leading
    axis), for blocks b0..b1-1."""
    rows, n = a.shape[0], a.shape[1]
    for b in range(b0, b1):
        for j in range(_U(n)):
            parts[b, j] = z
        for r in range(_U(b * per), _U(min(rows, (b + 1) * per))):
            for j in range(_U(n)):
                parts[b, j] += a[r, j]


def _rows(x):
    if (not numba_active() or type(x) is not np.ndarray or x.dtype.char not in "fd" or x.size < MIN_SIZE
            or x.ndim == 0 or x.shape[-1] == 0 or not x.flags.c_contiguous):
        return None
    return x.reshape(-1, x.shape[-1])


def _run(kern, k, rows, n, args):
    """``k`` (``kern`` compiled for ``args``) over rows [0, rows) of n elements each."""
    parallel_range(kern, k, args, rows, n, _PAR_MIN, _CHUNK)


def _softmax(x, log):
    x2 = _rows(x)
    if x2 is None:
        return None
    out = np.empty_like(x2)
    args = (x2, out, log, x.dtype.type(0))
    kern = _softmax32_k if x.dtype == np.float32 else _softmax_k
    k = range_kernel(kern, x.dtype.char, args)
    if k is None:
        return None
    _run(kern, k, x2.shape[0], x2.shape[1], args)
    return out.reshape(x.shape)


def softmax(x):
    """softmax over the last axis of a C-contiguous float array, or None (see the module docstring)."""
    return _softmax(x, False)


def log_softmax(x):
    """log_softmax over the last axis, or None."""
    return _softmax(x, True)


def layer_norm(x, w, b, eps):
    """((x - mean) * invstd * w + b, mean, invstd, xhat = (x - mean) * invstd) over the last axis (mean and
    invstd with kept dims), or None. ``w``/``b``: 1-D arrays of the last axis's size, or None."""
    x2 = _rows(x)
    if x2 is None:
        return None
    dt = x.dtype
    n = x2.shape[1]
    ws = []
    for a in (w, b):
        if a is None:
            ws.append(np.empty(0, dt))
        elif a.dtype != dt or a.shape != (n,):
            return None
        else:
            ws.append(np.ascontiguousarray(a))
    rows = x2.shape[0]
    out = np.empty_like(x2)
    xhat = np.empty_like(x2)     # never ``out``: an in-place change of the output must not reach the VJP
    mean = np.empty(rows, dt)
    invstd = np.empty(rows, dt)
    args = (x2, ws[0], ws[1], out, xhat, mean, invstd, dt.type(eps), dt.type(0), dt.type(1), dt.type(1 / n))
    k = range_kernel(_layer_norm_k, dt.char, args)
    if k is None:
        return None
    _run(_layer_norm_k, k, rows, n, args)
    kept = x.shape[:-1] + (1,)
    return out.reshape(x.shape), mean.reshape(kept), invstd.reshape(kept), xhat.reshape(x.shape)


def _same_rows(x, *others):
    x2 = _rows(x)
    if x2 is None:
        return None
    out = [x2]
    for a in others:
        if type(a) is not np.ndarray or a.shape != x.shape or a.dtype != x.dtype or not a.flags.c_contiguous:
            return None
        out.append(a.reshape(x2.shape))
    return out


def softmax_grad(g, y):
    """y (g - sum(g y)) over the last axis (softmax's VJP, y its output), or None."""
    r = _same_rows(g, y)
    if r is None:
        return None
    out = np.empty_like(r[0])
    args = (r[0], r[1], out, g.dtype.type(0))
    k = range_kernel(_softmax_grad_k, g.dtype.char, args)
    if k is None:
        return None
    _run(_softmax_grad_k, k, out.shape[0], out.shape[1], args)
    return out.reshape(g.shape)


def log_softmax_grad(g, y):
    """g - exp(y) sum(g) over the last axis (log_softmax's VJP, y its output), or None."""
    r = _same_rows(g, y)
    if r is None:
        return None
    out = np.empty_like(r[0])
    args = (r[0], r[1], out, g.dtype.type(0))
    kern = _log_softmax_grad32_k if g.dtype == np.float32 else _log_softmax_grad_k
    k = range_kernel(kern, g.dtype.char, args)
    if k is None:
        return None
    _run(kern, k, out.shape[0], out.shape[1], args)
    return out.reshape(g.shape)


def norm_input_grad(g, xhat, invstd, w=None):
    """invstd (gh - mean(gh) - xhat mean(gh xhat)) over the last axis with gh = g w (a normalization's input
    gradient; ``invstd`` has the rows' shape with a kept last dim; ``w``: None or 1-D of the last axis's
    size), or None."""
    r = _same_rows(g, xhat)
    if r is None or type(invstd) is not np.ndarray or invstd.dtype != g.dtype or \
            invstd.shape != g.shape[:-1] + (1,):
        return None
    n = r[0].shape[1]
    if w is None:
        w = np.empty(0, g.dtype)
    elif type(w) is not np.ndarray or w.dtype != g.dtype or w.shape != (n,):
        return None
    out = np.empty_like(r[0])
    args = (r[0], r[1], np.ascontiguousarray(invstd).reshape(-1), np.ascontiguousarray(w), out, g.dtype.type(0),
            g.dtype.type(1 / n))
    k = range_kernel(_norm_input_grad_k, g.dtype.char, args)
    if k is None:
        return None
    _run(_norm_input_grad_k, k, out.shape[0], n, args)
    return out.reshape(g.shape)


def _row_blocks(a, k):
    """(rows, n, per, blocks): a's first ``k`` axes as ``rows`` rows of ``n`` elements, summed in ``blocks``
    fixed blocks of ``per`` rows (one block when small), or None for under 8 rows. Partial sums over
    blocks that do not depend on the thread count keep a sum the same whatever the thread count; each
    kernel call takes a run of blocks."""
    n = 1
    for d in a.shape[k:]:
        n *= d
    rows = a.size // n
    if rows < 8:
        return None
    if a.size < _PAR_MIN:
        return rows, n, rows, 1
    per = max(8, _CHUNK // n)
    return rows, n, per, -(-rows // per)


def norm_param_grads(g, xhat, k):
    """(2, *g.shape[k:]): the sums of g xhat and of g over the first ``k`` axes (a normalization's weight and
    bias gradients) in one pass, or None (see ``sum_leading``: the same fixed blocks of rows, so the sums
    do not depend on the thread count)."""
    x2 = _same_rows(g, xhat)
    b = _row_blocks(g, k) if x2 is not None and 0 < k < g.ndim else None
    if b is None:
        return None
    rows, n, per, blocks = b
    g2, h2 = g.reshape(rows, n), xhat.reshape(rows, n)
    parts = np.empty((blocks, 2, n), g.dtype)
    kk = range_kernel(_norm_param_k, g.dtype.char, (g2, h2, parts, per, g.dtype.type(0)))
    if kk is None:
        return None
    if blocks == 1:
        kk(g2, h2, parts, per, g.dtype.type(0), 0, 1)
        out = parts[0]
    else:
        parallel_range(_norm_param_k, kk, (g2, h2, parts, per, g.dtype.type(0)), blocks, per * n, 0, per * n)
        out = parts.sum(axis=0)
    return out.reshape((2,) + g.shape[k:])


def sum_leading(a, k):
    """The sum of a C-contiguous float array over its first ``k`` axes (shape ``a.shape[k:]``), or None.

    Why: numpy sums over a leading axis one short row at a time (~50 ns per row: a (1024, 128) bias
    gradient took 40 us); this adds the rows in one loop that the compiler vectorizes.
    """
    if (not numba_active() or type(a) is not np.ndarray or a.dtype.char not in "fd" or a.size < SUM_MIN_SIZE
            or not 0 < k < a.ndim or not a.flags.c_contiguous):
        return None
    b = _row_blocks(a, k)
    if b is None:
        return None
    rows, n, per, blocks = b
    a2 = a.reshape(rows, n)
    parts = np.empty((blocks, n), a.dtype)
    k_ = range_kernel(_colsum_k, a.dtype.char, (a2, parts, per, a.dtype.type(0)))
    if k_ is None:
        return None
    if blocks == 1:
        k_(a2, parts, per, a.dtype.type(0), 0, 1)
        return parts[0].reshape(a.shape[k:])
    parallel_range(_colsum_k, k_, (a2, parts, per, a.dtype.type(0)), blocks, per * n, 0, per * n)
    return parts.sum(axis=0).reshape(a.shape[k:])


def add_rows(y, b):
    """``y += b`` in place over the last axis of a C-contiguous float array (b: 1-D, same dtype); returns y, or
    None where the kernel does not serve (the caller adds with numpy). Why: numpy's broadcast add ran 2-3x
    slower than one loop (a (1024, 512) bias: 150 vs 65 us).
    """
    y2 = _rows(y)
    if (y2 is None or type(b) is not np.ndarray or b.dtype != y.dtype or b.shape != y.shape[-1:]
            or not b.flags.c_contiguous):
        return None
    k = _add_rows_k.get(y.dtype.char, (y2, b, 0, 0))
    if k is None:
        return None
    k(y2, b, 0, y2.shape[0])
    return y

"""An LSTM step's pointwise part, forward and backward, as one float32 loop each, and ``lstm_sequence``'s and
``gru_sequence``'s whole time loops, forward and backward, in compiled code around their cells
(``ops.recurrent``): range kernels over the batch's rows, split over the threads where a loop has the work.

Why: after the products, a step is about fifteen numpy calls on (batch, 4 hidden) arrays forward and
as many backward, each a pass and a temporary; on a small char-level LSTM those calls were half of the
training step. One loop reads each gate once. The sigmoid and tanh are built on ``expneg32`` (a
polynomial LLVM vectorizes; libm's exp and tanh are one call per element, slower than numpy's passes):
sigmoid(v) = 1 / (1 + e) or e / (1 + e) with e = exp(-|v|), tanh(v) = sign(v) (1 - e) / (1 + e) with
e = exp(-2|v|), and below |v| = 0.2 tanh's Taylor series to v^7 (where 1 - e would cancel). Both stay
within a few float32 ulps of the exact values (in sigmoid's far tail, below 3e-4, the relative error
grows with |v|: 2e-6 at v = -60).

Each function returns False when the kernel does not serve (numpy backend, compiling, not float32, other
layouts); the caller then runs its numpy code (the same values up to rounding).
"""
from __future__ import annotations

import numpy as np

from .activation import expneg32
from .blas import column_block, gemm, numpy_gemm_addresses
from .compile import jit, kernel, numba_active
from .threads import parallel_range, range_kernel, threads_now

__all__ = ["lstm_forward", "lstm_backward", "lstm_sequence", "lstm_sequence_grad", "gru_sequence",
           "gru_sequence_grad"]

_F = np.float32
_U = np.uint64


@jit(inline="always", error_model="numpy", fastmath={"contract"})
def sigmoid32(v):
    """1 / (1 + exp(-v)) for float32 v, in operations LLVM vectorizes."""
    e = expneg32(abs(v))
    r = _F(1.0) / (_F(1.0) + e)
    return r if v >= _F(0.0) else e * r


@jit(inline="always", error_model="numpy", fastmath={"contract"})
def tanh32(v):
    """tanh(v) for float32 v, in operations LLVM vectorizes."""
    a = abs(v)
    e = expneg32(_F(2.0) * a)
    t = (_F(1.0) - e) / (_F(1.0) + e)
    a2 = a * a
    p = a * (_F(1.0) + a2 * (_F(-1.0 / 3.0) + a2 * (_F(2.0 / 15.0) + a2 * _F(-17.0 / 315.0))))
    t = p if a < _F(0.2) else t
    return t if v >= _F(0.0) else -t


# Each loop below reads and writes few arrays: with all of a step in one loop LLVM did not vectorize it
# ((16, 512) gates: 52 us a forward, against 5 us in passes; the backward 24 against 6).
@jit(inline="always", error_model="numpy", fastmath={"contract"})
def _fwd_cell(gates, prev, out, act, N, H):
    """One step for N rows: gates (N, 4H) pre-activations, prev (N, 2H) [h, c] -> out (N, 2H) [h', c'] and
    act (N, 4H) [sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)], all C-contiguous, passed flat."""
    for n in range(_U(N)):
        gb = n * _U(4 * H)
        sb = n * _U(2 * H)
        for j in range(gb, gb + _U(2 * H)):
            act[j] = sigmoid32(gates[j])
        for j in range(gb + _U(2 * H), gb + _U(3 * H)):
            act[j] = tanh32(gates[j])
        for j in range(gb + _U(3 * H), gb + _U(4 * H)):
            act[j] = sigmoid32(gates[j])
        for j in range(_U(H)):      # c' = f c + i g
            out[sb + _U(H) + j] = act[gb + _U(H) + j] * prev[sb + _U(H) + j] + act[gb + j] * act[gb + _U(2 * H) + j]
        for j in range(_U(H)):      # h' = o tanh(c')
            out[sb + j] = act[gb + _U(3 * H) + j] * tanh32(out[sb + _U(H) + j])


@jit(inline="always", error_model="numpy", fastmath={"contract"})
def _bwd_cell(g, dh, dc, act, prev, cur, dgates, dc_prev, carry, N, H):
    """The step's gradients for N rows: g (N, 2H) the cotangent of [h', c'] (plus dh, dc (N, H), the next
    step's, when ``carry``); act (N, 4H); prev (N, 2H) [h, c]; cur (N, 2H) [h', c'] -> dgates (N, 4H) and
    dc_prev (N, H), all C-contiguous, passed flat. dc_prev holds d = dL/dc' until the last pass."""
    for n in range(_U(N)):
        gb = n * _U(4 * H)
        sb = n * _U(2 * H)
        hb = n * _U(H)
        # d = gc + gh o (1 - t^2) with t = tanh(c'), and the o gate: gh t o (1 - o)
        if carry:
            for j in range(_U(H)):
                gh = g[sb + j] + dh[hb + j]
                o = act[gb + _U(3 * H) + j]
                t = tanh32(cur[sb + _U(H) + j])
                dc_prev[hb + j] = g[sb + _U(H) + j] + dc[hb + j] + gh * o * (_F(1.0) - t * t)
                dgates[gb + _U(3 * H) + j] = gh * t * o * (_F(1.0) - o)
        else:
            for j in range(_U(H)):
                gh = g[sb + j]
                o = act[gb + _U(3 * H) + j]
                t = tanh32(cur[sb + _U(H) + j])
                dc_prev[hb + j] = g[sb + _U(H) + j] + gh * o * (_F(1.0) - t * t)
                dgates[gb + _U(3 * H) + j] = gh * t * o * (_F(1.0) - o)
        for j in range(_U(H)):      # the g gate: d i (1 - g^2); the i gate: d g i (1 - i)
            i = act[gb + j]
            gg = act[gb + _U(2 * H) + j]
            d = dc_prev[hb + j]
            dgates[gb + _U(2 * H) + j] = d * i * (_F(1.0) - gg * gg)
            dgates[gb + j] = d * gg * i * (_F(1.0) - i)
        for j in range(_U(H)):      # the f gate: d c f (1 - f); then dc_prev = d f
            f = act[gb + _U(H) + j]
            d = dc_prev[hb + j]
            dgates[gb + _U(H) + j] = d * prev[sb + _U(H) + j] * f * (_F(1.0) - f)
            dc_prev[hb + j] = d * f


@kernel("lstm_step_float32", error_model="numpy", fastmath={"contract"})
def _lstm_fwd32(gates, prev, out, act, N, H):
    _fwd_cell(gates, prev, out, act, N, H)


@kernel("lstm_step_grad_float32", error_model="numpy", fastmath={"contract"})
def _lstm_bwd32(g, dh, dc, act, prev, cur, dgates, dc_prev, carry, N, H):
    _bwd_cell(g, dh, dc, act, prev, cur, dgates, dc_prev, carry, N, H)


@jit(inline="always")
def _gemm_blocks(fns, m, n, k, a, lda, b, ldb, beta, c, ldc, nb):
    """Row-major C (m, n) = A (m, k) @ B (k, n) + beta C on flat arrays, in column blocks of nb
    (``blas.column_block``)."""
    for j in range(0, n, nb):
        gemm(fns, False, False, m, min(nb, n - j), k, a, lda, b[j:], ldb, beta, c[j:], ldc)


@jit(inline="always")
def _add_bias(gates, b, M, G):
    """gates (M, G), flat, += b (G,) on every row; nothing when b is empty."""
    if b.shape[0] > 0:
        for n in range(_U(M)):
            for j in range(_U(G)):
                gates[n * _U(G) + j] += b[j]


# -- whole time loops ------------------------------------------------------------------------------------
# The loop of ``lstm_sequence`` in compiled code: each step's product by numpy's OpenBLAS gemm, called by
# address (``blas.gemm``; numpy's OpenBLAS held to one thread by the caller), then the cell. In Python each
# step also paid ~12 us of calls (the product's dispatch, two adds, the kernel's checks) around a 33 us
# product and a 4 us cell ((16, 128) @ (128, 512)). The loops are range kernels over the batch's rows, whose
# recurrences are independent: on two threads each runs every step for half the rows, with no hand-over
# between steps (a step's product for 8 rows takes a little over half the time of one for 16).
@kernel("lstm_sequence_float32", error_model="numpy", fastmath={"contract"})
def _lstm_seq32(fns, xw, first, wt, b, out, acts, gates, reverse, N, H, nb, lo, hi):
    """The forward loop for the batch's rows lo..hi-1: xw (L, N 4H) input projections, first (N 2H) [h0, c0],
    wt (H 4H) W_hh^T, b (4H,) or empty -> out (L, N 2H) [h_t, c_t] and acts (L, N 4H); gates: (N 4H)
    scratch. Steps from t = L - 1 down when ``reverse``; each step's product in column blocks of nb."""
    L = xw.shape[0]
    G = 4 * H
    M = hi - lo
    if M <= 0:
        return
    gts = gates[lo * G:]
    prev = first[lo * 2 * H:]
    for k in range(L):
        t = L - 1 - k if reverse else k
        _gemm_blocks(fns, M, G, H, prev, 2 * H, wt, G, 0.0, gts, G, nb)
        x = xw[t][lo * G:]
        for i in range(_U(M * G)):
            gts[i] += x[i]
        _add_bias(gts, b, M, G)
        o = out[t][lo * 2 * H:]
        _fwd_cell(gts, prev, o, acts[t][lo * G:], M, H)
        prev = o


@kernel("lstm_sequence_grad_float32", error_model="numpy", fastmath={"contract"})
def _lstm_seq_grad32(fns, g, ans, acts, first, w, dG, dh, dc0, dc1, reverse, N, H, nb, lo, hi):
    """Backpropagation through the loop for the batch's rows lo..hi-1: g (L, N 2H) the cotangents of [h_t,
    c_t], ans (L, N 2H) the forward's [h_t, c_t], acts (L, N 4H), first (N 2H), w (4H H) W_hh -> dG (L, N 4H)
    the gates' gradients, dh (N H) and dc0 (N H) the first state's (dc1: scratch)."""
    L = g.shape[0]
    G = 4 * H
    M = hi - lo
    if M <= 0:
        return
    r2, rg, rh = lo * 2 * H, lo * G, lo * H
    dhr, d0, d1 = dh[rh:], dc0[rh:], dc1[rh:]
    for kk in range(L):
        k = L - 1 - kk
        t = L - 1 - k if reverse else k
        prev = first[r2:] if k == 0 else ans[L - k if reverse else k - 1][r2:]
        dc_in, dc_out = (d1, d0) if k % 2 == 0 else (d0, d1)
        dGt = dG[t][rg:]
        _bwd_cell(g[t][r2:], dhr, dc_in, acts[t][rg:], prev, ans[t][r2:], dGt, dc_out, kk > 0, M, H)
        _gemm_blocks(fns, M, H, G, dGt, G, w, H, 0.0, dhr, H, nb)


# -- GRU ---------------------------------------------------------------------------------------------------
@jit(inline="always", error_model="numpy", fastmath={"contract"})
def _gru_fwd_cell(x, gh, h, act, out, N, H):
    """One GRU step for N rows: x (N, 3H) W_ih x + b_ih, gh (N, 3H) W_hh h + b_hh, h (N, H) -> act (N, 3H)
    [r, z, n] and out (N, H) h' = n + z (h - n), all C-contiguous, passed flat."""
    for m in range(_U(N)):
        gb = m * _U(3 * H)
        hb = m * _U(H)
        for j in range(gb, gb + _U(2 * H)):
            act[j] = sigmoid32(x[j] + gh[j])
        for j in range(_U(H)):      # n = tanh(x_n + r gh_n)
            act[gb + _U(2 * H) + j] = tanh32(x[gb + _U(2 * H) + j] + act[gb + j] * gh[gb + _U(2 * H) + j])
        for j in range(_U(H)):
            n = act[gb + _U(2 * H) + j]
            out[hb + j] = n + act[gb + _U(H) + j] * (h[hb + j] - n)


@jit(inline="always", error_model="numpy", fastmath={"contract"})
def _gru_bwd_cell(g, dh, act, gh, h, dgi, dgh, dh_prev, carry, N, H):
    """The step's gradients for N rows: g (N, H) the cotangent of h' (plus dh (N, H), the next step's, when
    ``carry``); act (N, 3H) [r, z, n]; gh (N, 3H); h (N, H) the previous state -> dgi (N, 3H) and dgh (N, 3H)
    the gradients of the two projections, and dh_prev (N, H) = g z, h's gradient past W_hh; flat arrays."""
    for m in range(_U(N)):
        gb = m * _U(3 * H)
        hb = m * _U(H)
        if carry:
            for j in range(_U(H)):
                dh_prev[hb + j] = g[hb + j] + dh[hb + j]
        else:
            for j in range(_U(H)):
                dh_prev[hb + j] = g[hb + j]
        for j in range(_U(H)):      # the n gate: gt (1 - z) (1 - n^2); the z gate: gt (h - n) z (1 - z)
            gt = dh_prev[hb + j]
            z = act[gb + _U(H) + j]
            n = act[gb + _U(2 * H) + j]
            dn = gt * (_F(1.0) - z) * (_F(1.0) - n * n)
            dgi[gb + _U(2 * H) + j] = dn
            dgi[gb + _U(H) + j] = gt * (h[hb + j] - n) * z * (_F(1.0) - z)
        for j in range(_U(H)):      # the r gate: dn gh_n r (1 - r); W_hh's n rows see dn r
            r = act[gb + j]
            dn = dgi[gb + _U(2 * H) + j]
            dgi[gb + j] = dn * gh[gb + _U(2 * H) + j] * r * (_F(1.0) - r)
            dgh[gb + _U(2 * H) + j] = dn * r
        for j in range(_U(2 * H)):
            dgh[gb + j] = dgi[gb + j]
        for j in range(_U(H)):
            dh_prev[hb + j] *= act[gb + _U(H) + j]


@kernel("gru_sequence_float32", error_model="numpy", fastmath={"contract"})
def _gru_seq32(fns, xw, h0, wt, b, out, ghs, acts, reverse, N, H, nb, lo, hi):
    """The forward loop for the batch's rows lo..hi-1: xw (L, N 3H) input projections, h0 (N H), wt (H 3H)
    W_hh^T, b (3H,) or empty -> out (L, N H) h_t, ghs (L, N 3H) each step's W_hh h + b_hh and acts (L, N 3H)
    [r, z, n]."""
    L = xw.shape[0]
    G = 3 * H
    M = hi - lo
    if M <= 0:
        return
    prev = h0[lo * H:]
    for k in range(L):
        t = L - 1 - k if reverse else k
        gh = ghs[t][lo * G:]
        _gemm_blocks(fns, M, G, H, prev, H, wt, G, 0.0, gh, G, nb)
        _add_bias(gh, b, M, G)
        o = out[t][lo * H:]
        _gru_fwd_cell(xw[t][lo * G:], gh, prev, acts[t][lo * G:], o, M, H)
        prev = o


@kernel("gru_sequence_grad_float32", error_model="numpy", fastmath={"contract"})
def _gru_seq_grad32(fns, g, ans, ghs, acts, h0, w, dGI, dGH, dh0, dh1, reverse, N, H, nb, lo, hi):
    """Backpropagation through the loop for the batch's rows lo..hi-1: g, ans (L, N H), ghs and acts (L, N
    3H), h0 (N H), w (3H H) W_hh -> dGI, dGH (L, N 3H) the projections' gradients and dh0 (N H) h0's (dh1:
    scratch)."""
    L = g.shape[0]
    G = 3 * H
    M = hi - lo
    if M <= 0:
        return
    rh, rg = lo * H, lo * G
    d0, d1 = dh0[rh:], dh1[rh:]
    for kk in range(L):
        k = L - 1 - kk
        t = L - 1 - k if reverse else k
        prev = h0[rh:] if k == 0 else ans[L - k if reverse else k - 1][rh:]
        dh_in, dh_out = (d1, d0) if k % 2 == 0 else (d0, d1)
        dGHt = dGH[t][rg:]
        _gru_bwd_cell(g[t][rh:], dh_in, acts[t][rg:], ghs[t][rg:], prev, dGI[t][rg:], dGHt, dh_out, kk > 0, M, H)
        _gemm_blocks(fns, M, H, G, dGHt, G, w, H, 1.0, dh_out, H, nb)


def gru_sequence(xw, h0, wt, b, out, res, reverse):
    """``_gru_seq32`` on xw (L, N, 3H), h0 (N, H), wt (H, 3H), b (3H,) or None into out (L, N, H) and res
    (2, L, N, 3H) (each step's W_hh h + b_hh, then [r, z, n]), inside ``blas.numpy_blas_on_one_thread()``; False
    where it does not serve (the caller runs the loop in Python)."""
    got = _forward_inputs(xw, b, 3, h0, wt, out, res)
    if got is None:
        return False
    xw, bb, L, N, H = got
    args = (numpy_gemm_addresses(), xw.reshape(L, -1), h0.reshape(-1), wt.reshape(-1), bb, out.reshape(L, -1),
            res[0].reshape(L, -1), res[1].reshape(L, -1), bool(reverse), N, H)
    return _run_loop(_gru_seq32, args, N, L * N * 3 * H * H, 3 * H, H)


def gru_sequence_grad(g, ans, res, h0, w, dGI, dGH, dh, reverse):
    """``_gru_seq_grad32``: g, ans (L, N, H), res (2, L, N, 3H) the forward's, h0 (N, H), w (3H, H) -> dGI, dGH
    (L, N, 3H) and dh (N, H); ``reverse`` as the forward's. False where it does not serve."""
    if not numba_active() or numpy_gemm_addresses() is None or not _c32(g, ans, res, h0, w, dGI, dGH, dh):
        return False
    L, N, H = ans.shape
    if N == 0 or H == 0 or L == 0:
        return False
    args = (numpy_gemm_addresses(), g.reshape(L, -1), ans.reshape(L, -1), res[0].reshape(L, -1),
            res[1].reshape(L, -1), h0.reshape(-1), w.reshape(-1), dGI.reshape(L, -1), dGH.reshape(L, -1),
            dh.reshape(-1), np.empty(N * H, _F), bool(reverse), N, H)
    return _run_loop(_gru_seq_grad32, args, N, L * N * 3 * H * H, H, 3 * H)


# Loops with at least this many multiply-adds in their products are split over the threads by batch rows
# (a native job costs a few tens of microseconds to hand over).
_SPLIT_WORK = 4 << 20


def _run_loop(kern, args, N, work, n, k):
    """The loop kernel ``kern`` over the batch's N rows, in one run per thread where it has ``work``
    multiply-adds for it, else on the calling thread; each step's product (rows, k) @ (k, n) in the column
    blocks of ``blas.column_block``. False while the kernel compiles."""
    T = threads_now()
    per = N if T < 2 or N < 2 or work < _SPLIT_WORK else -(-N // min(T, N))
    args = args + (column_block(per, n, k),)
    run = range_kernel(kern, "f", args)
    if run is None:
        return False
    if per >= N:
        run(*args, 0, N)
    else:
        parallel_range(kern, run, args, N, per=per)
    return True


def _forward_inputs(xw, b, k, *arrays):
    """(xw C-contiguous, b or an empty array, L, N, H) for a forward loop over xw (L, N, k H) with ``arrays``,
    or None where the compiled loop does not serve (all float32 and C-contiguous, but xw, which a
    batch-first layer passes as a transposed view and which is copied once)."""
    if not numba_active() or numpy_gemm_addresses() is None:
        return None
    bb = np.empty(0, _F) if b is None else b
    if not _c32(bb, *arrays) or type(xw) is not np.ndarray or xw.dtype != _F:
        return None
    xw = np.ascontiguousarray(xw)
    L, N, G = xw.shape
    if N == 0 or G < k or L == 0:
        return None
    return xw, bb, L, N, G // k


def _c32(*arrays):
    return all(type(a) is np.ndarray and a.dtype == _F and a.flags.c_contiguous for a in arrays)


def lstm_sequence(xw, first, wt, b, out, acts, reverse):
    """``_lstm_seq32`` on xw (L, N, 4H), first (N, 2H), wt (H, 4H), b (4H,) or None into out (L, N, 2H) and
    acts (L, N, 4H), inside ``blas.numpy_blas_on_one_thread()``; False where it does not serve (the caller
    runs the loop in Python)."""
    got = _forward_inputs(xw, b, 4, first, wt, out, acts)
    if got is None:
        return False
    xw, bb, L, N, H = got
    args = (numpy_gemm_addresses(), xw.reshape(L, -1), first.reshape(-1), wt.reshape(-1), bb, out.reshape(L, -1),
            acts.reshape(L, -1), np.empty(N * 4 * H, _F), bool(reverse), N, H)
    return _run_loop(_lstm_seq32, args, N, L * N * 4 * H * H, 4 * H, H)


def lstm_sequence_grad(g, ans, acts, first, w, dG, dh, dc, reverse):
    """``_lstm_seq_grad32``: g, ans (L, N, 2H), acts (L, N, 4H), first (N, 2H), w (4H, H) -> dG (L, N, 4H), dh and
    dc (N, H); False where it does not serve."""
    if not numba_active() or numpy_gemm_addresses() is None or not _c32(g, ans, acts, first, w, dG, dh, dc):
        return False
    L, N, G = acts.shape
    H = G // 4
    if N == 0 or H == 0 or L == 0:
        return False
    args = (numpy_gemm_addresses(), g.reshape(L, -1), ans.reshape(L, -1), acts.reshape(L, -1), first.reshape(-1),
            w.reshape(-1), dG.reshape(L, -1), dh.reshape(-1), dc.reshape(-1), np.empty(N * H, _F), bool(reverse), N,
            H)
    return _run_loop(_lstm_seq_grad32, args, N, L * N * G * H, H, G)


def _flat(*arrays):
    """The arrays as flat views when all are float32 and C-contiguous, else None."""
    out = []
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != _F or not a.flags.c_contiguous:
            return None
        out.append(a.reshape(-1))
    return out


def lstm_forward(gates, prev, out, act):
    """``_lstm_fwd32`` on (N, 4H) gates and (N, 2H) prev into out and act; False where it does not serve."""
    if not numba_active():
        return False
    flat = _flat(gates, prev, out, act)
    if flat is None:
        return False
    N, H = prev.shape[0], prev.shape[1] // 2
    k = _lstm_fwd32.get("f", (*flat, N, H))
    if k is None:
        return False
    k(*flat, N, H)
    return True


def lstm_backward(g, dh, dc, act, prev, cur, dgates, dc_prev):
    """``_lstm_bwd32`` (dh and dc None for the last step: no carry); False where it does not serve."""
    if not numba_active():
        return False
    carry = dh is not None
    if not carry:
        dh = dc = dc_prev          # not read
    flat = _flat(g, dh, dc, act, prev, cur, dgates, dc_prev)
    if flat is None:
        return False
    N, H = prev.shape[0], prev.shape[1] // 2
    k = _lstm_bwd32.get("f", (*flat, carry, N, H))
    if k is None:
        return False
    k(*flat, carry, N, H)
    return True

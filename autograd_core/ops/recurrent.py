"""Recurrent layers' ops: an LSTM or GRU step's pointwise part as one op each, and a whole RNN, LSTM or
GRU layer's time loop as one op (``nn.LSTM`` / ``GRU`` / ``RNN`` run the latter; packed sequences, an
LSTM projection and the cells take the former, a step at a time). A step is a dozen elementwise ops on
small arrays: recorded one by one, the tape's cost per op, not the arithmetic, was most of a small
LSTM's training step.

    lstm_pointwise(gates, c)  gates (..., 4H): the pre-activations i, f, g, o (PyTorch's gate order),
                              c (..., H) -> (..., 2H): [h', c'] with
                              c' = sigmoid(f) c + sigmoid(i) tanh(g),  h' = sigmoid(o) tanh(c')
    gru_pointwise(gi, gh, h)  gi = W_ih x + b_ih and gh = W_hh h + b_hh (..., 3H): r, z, n chunks,
                              h (..., H) -> h' (..., H) with
                              r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
                              n = tanh(gi_n + r gh_n),  h' = (1 - z) n + z h
    lstm_sequence, gru_sequence, rnn_sequence
                              every step's input projection (L, N, G H) and the first state(s) (N, H)
                              -> every step's state(s) (L, N, ...)

The rules are written with ``xp`` (the sequence ops' rules read the forward's activations on arrays and
recompute them as taped expressions on tensors), so they are differentiable again (``create_graph``)
like every other rule.

    >>> import autograd_core as ag
    >>> from autograd_core.ops.recurrent import lstm_pointwise
    >>> lstm_pointwise(ag.zeros(1, 8), ag.ones(1, 2))      # i = f = o = 1/2, g = 0: c' = 1/2
    tensor([[0.2311, 0.2311, 0.5000, 0.5000]])
"""
from __future__ import annotations

import numpy as np

from ..errors import OpError
from ..kernels import recurrent as _krec
from ..kernels.blas import matmul as _mm, numpy_blas_on_one_thread as _blas_one_thread
from .elementwise import sigmoid_
from .registry import defop, xp

__all__ = ["lstm_pointwise", "gru_pointwise", "lstm_sequence", "gru_sequence", "rnn_sequence"]


def _check(name, wide, narrow, k):
    if wide.shape[-1] != k * narrow.shape[-1] or wide.shape[:-1] != narrow.shape[:-1]:
        raise OpError(f"{name}: expected gates of shape (..., {k} H) and a state (..., H) with the same leading "
                         f"dims, got shapes {tuple(wide.shape)} and {tuple(narrow.shape)}")


def _lstm_acts(gates, *, saved=None):
    """[sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)] (..., 4H) of LSTM pre-activations; ``saved``: the same
    value, computed by the forward."""
    if saved is not None:
        return saved
    H = gates.shape[-1] // 4
    act = sigmoid_(gates)                       # all four chunks in one call, then g's replaced
    np.tanh(gates[..., 2 * H:3 * H], out=act[..., 2 * H:3 * H])
    return act


def _acts_vjp(g, ans, gates, saved=None):
    # sigmoid' = s (1 - s), tanh' = 1 - t^2, from the activations themselves
    H = ans.shape[-1] // 4
    if type(ans) is np.ndarray:
        d = ans * (1 - ans)
        gg = ans[..., 2 * H:3 * H]
        np.subtract(1, gg * gg, out=d[..., 2 * H:3 * H])
        d *= g
        return d
    i, f, gg, o = (ans[..., k * H:(k + 1) * H] for k in range(4))
    return g * xp.concatenate(i * (1 - i), f * (1 - f), 1 - gg * gg, o * (1 - o), axis=ans.ndim - 1)


xp_lstm_acts = defop("lstm_acts", _lstm_acts, (_acts_vjp,), uses=(), uses_ans=True, hidden=("saved",))


def _lstm_cell(act, c):
    """[h', c'] (..., 2H) from the activations (..., 4H) and c (arrays)."""
    H = c.shape[-1]
    c2 = act[..., H:2 * H] * c
    c2 += act[..., :H] * act[..., 2 * H:3 * H]
    out = np.empty(c2.shape[:-1] + (2 * H,), c2.dtype)
    h2 = out[..., :H]
    np.tanh(c2, out=h2)
    h2 *= act[..., 3 * H:]
    out[..., H:] = c2
    return out


def _lstm_forward(gates, c):
    return _lstm_cell(_lstm_acts(gates), c)


def _lstm_grads(g, c2, act, c):
    """(d act (..., 4H), d c) of [h', c'] with cotangent g (..., 2H), from c' and the activations."""
    H = c.shape[-1]
    i, f, gg, o = (act[..., k * H:(k + 1) * H] for k in range(4))
    t = xp.tanh(c2)
    gh = g[..., :H]
    dc = g[..., H:] + gh * o * (1 - t * t)      # through c' directly and through h' = o tanh(c')
    if type(dc) is np.ndarray:
        dact = np.empty(act.shape, dc.dtype)
        np.multiply(dc, gg, out=dact[..., :H])
        np.multiply(dc, c, out=dact[..., H:2 * H])
        np.multiply(dc, i, out=dact[..., 2 * H:3 * H])
        np.multiply(gh, t, out=dact[..., 3 * H:])
    else:
        dact = xp.concatenate(dc * gg, dc * c, dc * i, gh * t, axis=act.ndim - 1)
    return dact, dc * f


def _lstm_vjp(g, ans, gates, c, needs):
    H = c.shape[-1]
    act = xp.lstm_acts(gates)
    dact, dc = _lstm_grads(g, ans[..., H:], act, c)
    return [_acts_vjp(dact, act, gates) if needs[0] else None, dc if needs[1] else None]


_lstm_op = defop("lstm_pointwise", _lstm_forward, vjp=_lstm_vjp, uses_ans=True, nargs=2)


def lstm_pointwise(gates, c):
    """LSTM's step after the products: gates (..., 4H) (i, f, g, o pre-activations), c (..., H) ->
    [h', c'] (..., 2H), c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c').

    >>> import autograd_core as ag
    >>> from autograd_core.ops.recurrent import lstm_pointwise
    >>> lstm_pointwise(ag.zeros(3, 8), ag.zeros(3, 2)).shape
    (3, 4)
    """
    _check("lstm_pointwise", gates, c, 4)
    return _lstm_op(gates, c)


def _gru_acts(gi, gh, H):
    """[r, z, n] (..., 3H) of a GRU step (arrays)."""
    act = gi + gh
    act[..., :2 * H] = sigmoid_(act[..., :2 * H])
    n = act[..., 2 * H:]
    np.multiply(gh[..., 2 * H:], act[..., :H], out=n)
    n += gi[..., 2 * H:]
    np.tanh(n, out=n)
    return act


def _gru_from_acts(act, h):
    H = h.shape[-1]
    n = act[..., 2 * H:]
    out = h - n
    out *= act[..., H:2 * H]
    out += n                                     # n + z (h - n) = (1 - z) n + z h
    return out


def _gru_forward(gi, gh, h):
    return _gru_from_acts(_gru_acts(gi, gh, h.shape[-1]), h)


def _gru_grads(g, r, z, n, ghn, h):
    """(d gi, d gh, d h directly) of h' = (1 - z) n + z h with cotangent g, from the step's activations
    r, z, n and W_hn h + b_hn."""
    dn = g * (1 - z) * (1 - n * n)              # d(pre-activation of n)
    dr = dn * ghn * r * (1 - r)
    dz = g * (h - n) * z * (1 - z)
    if type(dn) is np.ndarray:
        H = dn.shape[-1]
        dgi = np.empty(dn.shape[:-1] + (3 * H,), dn.dtype)
        dgi[..., :H], dgi[..., H:2 * H], dgi[..., 2 * H:] = dr, dz, dn
        dgh = dgi.copy()
        dgh[..., 2 * H:] *= r
    else:
        axis = dn.ndim - 1
        dgi = xp.concatenate(dr, dz, dn, axis=axis)
        dgh = xp.concatenate(dr, dz, dn * r, axis=axis)
    return dgi, dgh, g * z


def _gru_vjp(g, ans, gi, gh, h, needs):
    H = h.shape[-1]
    r = xp.sigmoid(gi[..., :H] + gh[..., :H])
    z = xp.sigmoid(gi[..., H:2 * H] + gh[..., H:2 * H])
    ghn = gh[..., 2 * H:]
    n = xp.tanh(gi[..., 2 * H:] + r * ghn)
    dgi, dgh, dh = _gru_grads(g, r, z, n, ghn, h)
    return [dgi if needs[0] else None, dgh if needs[1] else None, dh if needs[2] else None]


_gru_op = defop("gru_pointwise", _gru_forward, vjp=_gru_vjp, uses=(0, 1, 2), nargs=3)


def gru_pointwise(gi, gh, h):
    """GRU's step after the products: gi = W_ih x + b_ih, gh = W_hh h + b_hh (..., 3H) (r, z, n chunks),
    h (..., H) -> h' = (1 - z) n + z h, r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
    n = tanh(gi_n + r gh_n).

    >>> import autograd_core as ag
    >>> from autograd_core.ops.recurrent import gru_pointwise
    >>> gru_pointwise(ag.zeros(1, 6), ag.zeros(1, 6), ag.ones(1, 2))    # z = 1/2, n = 0
    tensor([[0.5000, 0.5000]])
    """
    _check("gru_pointwise", gi, h, 3)
    _check("gru_pointwise", gh, h, 3)
    return _gru_op(gi, gh, h)


# -- whole sequences ---------------------------------------------------------------------------------------
# A layer's time loop as one op: the forward runs the steps on arrays, the rule runs backpropagation through
# time, a step at a time, with the step functions above and one product per step (W_hh's gradient is one
# product over all steps at the end; products go through ``xp.matmul``, our thread pool's on arrays). The
# forward keeps every step's activations as its residual, and on arrays the rule reads them there; on
# tensors (create_graph) it recomputes them as taped expressions (the same values), so that the rule's
# result is differentiable again. For float32 LSTMs and GRUs both loops run in compiled code where they can
# (``kernels.recurrent.lstm_sequence`` / ``gru_sequence`` and their ``_grad``: the same steps, without Python
# between them).
def _gates(x, h, w, b=None):
    """x + h @ w.T (+ b): x (N, G H), h (N, H), w (G H, H), b (G H,)."""
    return _step_gates(x, h, w.T, b)


def _step_gates(x, h, wt, b=None):
    """x + h @ wt (+ b) on arrays. The time loops pass W_hh^T copied C-contiguous once per sequence: for a
    few rows (a batch) OpenBLAS multiplies by it in rows 1.2-1.7x faster than by W_hh's transposed view
    ((20, 200) @ (200, 800): 90 against 150 us)."""
    out = _mm(h, wt)
    if x is not None:
        out += x
    if b is not None:
        out += b
    return out


def _transposed(w):
    return np.ascontiguousarray(w.T)


def _gates_vjp(g, ans, x, h, w, b=None, *, needs):
    return [g if needs[0] else None, xp.matmul(g, w) if needs[1] else None, xp.matmul(g.T, h) if needs[2] else None,
            g.sum(axis=0) if len(needs) > 3 and needs[3] else None]


_gates_op = defop("recurrent_gates", _gates, vjp=_gates_vjp, uses=(1, 2))


def _gates_expr(x, h, w, b):
    return xp.recurrent_gates(x, h, w) if b is None else xp.recurrent_gates(x, h, w, b)


def _steps(L, reverse):
    return range(L - 1, -1, -1) if reverse else range(L)


def _lstm_seq_forward(xw, h0, c0, w, b=None, *, reverse=False):
    """xw (L, N, 4H) input projections, h0 and c0 (N, H) -> (L, N, 2H): [h_t, c_t] of every step; the
    residual: every step's activations (L, N, 4H)."""
    L, H = xw.shape[0], h0.shape[-1]
    dtype = np.result_type(xw, h0, c0, w)
    out = np.empty((L,) + h0.shape[:-1] + (2 * H,), dtype)
    acts = np.empty(xw.shape, dtype)
    prev = np.concatenate([h0, c0], -1).astype(dtype, copy=False)
    wt = _transposed(w)
    with _blas_one_thread():
        if _krec.lstm_sequence(xw, prev, wt, b, out, acts, reverse):     # the whole loop compiled (float32)
            return out, acts
        for t in _steps(L, reverse):
            gates = _step_gates(xw[t], prev[..., :H], wt, b)
            if not _krec.lstm_forward(gates, prev, out[t], acts[t]):
                acts[t] = _lstm_acts(gates)
                out[t] = _lstm_cell(acts[t], prev[..., H:])
            prev = out[t]
    return out, acts


def _lstm_seq_vjp(g, ans, xw, h0, c0, w, b=None, *, needs, reverse=False, res=None):
    if type(g) is np.ndarray and res is not None:
        return _lstm_seq_vjp_arrays(g, ans, h0, c0, w, b, needs, reverse, res)
    L, H = xw.shape[0], h0.shape[-1]
    dgates = [None] * L
    prev = [None] * L
    dh = dc = None
    order = list(_steps(L, reverse))
    for k in range(L - 1, -1, -1):
        t = order[k]
        hp, cp = (h0, c0) if k == 0 else (ans[order[k - 1], ..., :H], ans[order[k - 1], ..., H:])
        prev[t] = hp
        gt = g[t] if dh is None else xp.concatenate(g[t, ..., :H] + dh, g[t, ..., H:] + dc, axis=g.ndim - 2)
        # on tensors (create_graph) the activations as taped expressions (the forward's values)
        act = xp.lstm_acts(_gates_expr(xw[t], hp, w, b), saved=res[t])
        dact, dc = _lstm_grads(gt, ans[t, ..., H:], act, cp)
        dgates[t] = _acts_vjp(dact, act, None)
        dh = xp.matmul(dgates[t], w)
    return _seq_grads(dgates, prev, dh, (dc,), w, b, needs)


def _lstm_seq_vjp_arrays(g, ans, h0, c0, w, b, needs, reverse, acts):
    """``_lstm_seq_vjp`` on arrays: the same steps with the forward's activations, each step one kernel call
    (``kernels.recurrent``) where it serves, the gate gradients written into one (L, N, 4H) array."""
    L, H = ans.shape[0], h0.shape[-1]
    g = np.ascontiguousarray(g)
    dG = np.empty(acts.shape, np.result_type(g, acts))
    bufs = [np.empty(h0.shape, dG.dtype), np.empty(h0.shape, dG.dtype)]
    first = np.concatenate([h0, c0], -1).astype(ans.dtype, copy=False)
    order = list(_steps(L, reverse))
    dh = dc = None
    with _blas_one_thread():
        compiled = _krec.lstm_sequence_grad(g, ans, acts, first, w, dG, bufs[1], bufs[0], reverse)  # float32
        if compiled:
            dh, dc = bufs[1], bufs[0]
        for k in range(-1 if compiled else L - 1, -1, -1):
            t = order[k]
            prev = first if k == 0 else ans[order[k - 1]]
            dc_out = bufs[k % 2]
            if not _krec.lstm_backward(g[t], dh, dc, acts[t], prev, ans[t], dG[t], dc_out):
                gt = g[t] if dh is None else np.concatenate([g[t, ..., :H] + dh, g[t, ..., H:] + dc], -1)
                dact, dc_new = _lstm_grads(gt, ans[t, ..., H:], acts[t], prev[..., H:])
                dG[t] = _acts_vjp(dact, acts[t], None)
                dc_out[...] = dc_new
            dc = dc_out
            dh = _mm(dG[t], w)
    grads = [dG if needs[0] else None, dh if needs[1] else None, dc.copy() if needs[2] else None]
    grads.append(_w_hh_grad(dG, h0, ans[..., :H], reverse) if needs[3] else None)
    if b is not None:
        grads.append(dG.reshape(-1, dG.shape[-1]).sum(axis=0) if needs[4] else None)
    return grads


def _w_hh_grad(dG, h0, hs, reverse):
    """W_hh's gradient, sum over steps of dG_t^T h_{t-1}, as one product: dG (L, N, G H) the gates' gradients,
    h0 (N, H), hs (L, N, H) every step's state (arrays)."""
    hp = np.empty(hs.shape, hs.dtype)
    if reverse:
        hp[-1], hp[:-1] = h0, hs[1:]
    else:
        hp[0], hp[1:] = h0, hs[:-1]
    return _mm(dG.reshape(-1, dG.shape[-1]).T, hp.reshape(-1, hs.shape[-1]))


def _seq_grads(dgates, prev, dh, dstates, w, b, needs):
    """The sequence op's input gradients from the gate gradients of every step: (xw, h0, *other states, w, b)."""
    n_states = 1 + len(dstates)
    dG = xp.stack(*dgates, axis=0) if needs[0] or needs[1 + n_states] or (b is not None and needs[-1]) else None
    grads = [dG if needs[0] else None, dh if needs[1] else None]
    grads += [d if need else None for d, need in zip(dstates, needs[2:1 + n_states])]
    if needs[1 + n_states]:
        G = dG.shape[-1]
        hs = xp.stack(*prev, axis=0)
        grads.append(xp.matmul(dG.reshape(-1, G).T, hs.reshape(-1, hs.shape[-1])))
    else:
        grads.append(None)
    if b is not None:
        grads.append(dG.sum(axis=(0, 1)) if needs[-1] else None)
    return grads


_lstm_seq_op = defop("lstm_sequence", _lstm_seq_forward, vjp=_lstm_seq_vjp, uses_ans=True, residuals=True)


def lstm_sequence(xw, h0, c0, w_hh, b_hh=None, *, reverse=False):
    """An LSTM layer's time loop in one op: xw (L, N, 4H), every step's W_ih x_t + b_ih; h0, c0 (N, H); w_hh
    (4H, H), b_hh (4H,) or None -> (L, N, 2H), [h_t, c_t] of every step t (``reverse``: the steps run from
    t = L - 1 down, as the backward direction of a bidirectional layer; the result stays indexed by t).

    Each step: gates = xw_t + W_hh h + b_hh, then ``lstm_pointwise``.

    >>> import autograd_core as ag
    >>> from autograd_core.ops.recurrent import lstm_sequence
    >>> lstm_sequence(ag.zeros(5, 3, 8), ag.zeros(3, 2), ag.zeros(3, 2), ag.zeros(8, 2)).shape
    (5, 3, 4)
    """
    _check_seq("lstm_sequence", xw, h0, w_hh, b_hh, 4)
    if tuple(c0.shape) != tuple(h0.shape):
        raise OpError(f"lstm_sequence: c0 of shape {tuple(c0.shape)} differs from h0's {tuple(h0.shape)}")
    args = (xw, h0, c0, w_hh) if b_hh is None else (xw, h0, c0, w_hh, b_hh)
    return _lstm_seq_op(*args, reverse=bool(reverse))


def _gru_seq_forward(xw, h0, w, b=None, *, reverse=False):
    """xw (L, N, 3H) input projections, h0 (N, H) -> (L, N, H): h_t of every step; the residual: every
    step's W_hh h + b_hh and activations [r, z, n], (2, L, N, 3H)."""
    L, H = xw.shape[0], h0.shape[-1]
    dtype = np.result_type(xw, h0, w)
    out = np.empty((L,) + h0.shape, dtype)
    res = np.empty((2,) + xw.shape, dtype)
    h = h0
    wt = _transposed(w)
    with _blas_one_thread():
        if _krec.gru_sequence(xw, np.ascontiguousarray(h0, dtype), wt, b, out, res, reverse):   # compiled (float32)
            return out, res
        for t in _steps(L, reverse):
            res[0, t] = _step_gates(None, h, wt, b)
            res[1, t] = _gru_acts(xw[t], res[0, t], H)
            out[t] = h = _gru_from_acts(res[1, t], h)
    return out, res


def _gru_seq_vjp(g, ans, xw, h0, w, b=None, *, needs, reverse=False, res=None):
    if type(g) is np.ndarray and res is not None:
        grads = _gru_seq_vjp_compiled(g, ans, h0, w, b, needs, reverse, res)
        if grads is not None:
            return grads
    L, H = xw.shape[0], h0.shape[-1]
    dgh, dgi, prev = [None] * L, [None] * L, [None] * L
    dh = None
    order = list(_steps(L, reverse))
    zero = _zero_like_row(xw)
    arrays = type(g) is np.ndarray
    for k in range(L - 1, -1, -1):
        t = order[k]
        hp = h0 if k == 0 else ans[order[k - 1]]
        prev[t] = hp
        gt = g[t] if dh is None else g[t] + dh
        if arrays:      # the forward's values; on tensors (create_graph) the taped expressions
            act, ghn = res[1, t], res[0, t, ..., 2 * H:]
            r, z, n = act[..., :H], act[..., H:2 * H], act[..., 2 * H:]
        else:
            gh = _gates_expr(zero, hp, w, b)
            ghn = gh[..., 2 * H:]
            r = xp.sigmoid(xw[t, ..., :H] + gh[..., :H])
            z = xp.sigmoid(xw[t, ..., H:2 * H] + gh[..., H:2 * H])
            n = xp.tanh(xw[t, ..., 2 * H:] + r * ghn)
        dgi[t], dgh[t], dh_direct = _gru_grads(gt, r, z, n, ghn, hp)
        dh = dh_direct + xp.matmul(dgh[t], w)
    grads = _seq_grads(dgh, prev, dh, (), w, b, (False,) + tuple(needs[1:]))
    grads[0] = xp.stack(*dgi, axis=0) if needs[0] else None
    return grads


def _gru_seq_vjp_compiled(g, ans, h0, w, b, needs, reverse, res):
    """``_gru_seq_vjp`` on arrays with the loop compiled (``kernels.recurrent.gru_sequence_grad``, float32);
    None where it does not serve."""
    dGI = np.empty(res.shape[1:], ans.dtype)
    dGH = np.empty(res.shape[1:], ans.dtype)
    dh = np.empty(h0.shape, ans.dtype)
    h0 = np.ascontiguousarray(h0, ans.dtype)
    with _blas_one_thread():
        if not _krec.gru_sequence_grad(np.ascontiguousarray(g), ans, res, h0, w, dGI, dGH, dh, reverse):
            return None
    grads = [dGI if needs[0] else None, dh if needs[1] else None,
             _w_hh_grad(dGH, h0, ans, reverse) if needs[2] else None]
    if b is not None:
        grads.append(dGH.reshape(-1, dGH.shape[-1]).sum(axis=0) if needs[3] else None)
    return grads


def _zero_like_row(xw):
    return np.zeros((), xw.dtype if type(xw) is np.ndarray else xw._data.dtype)


_gru_seq_op = defop("gru_sequence", _gru_seq_forward, vjp=_gru_seq_vjp, uses_ans=True, residuals=True)


def gru_sequence(xw, h0, w_hh, b_hh=None, *, reverse=False):
    """A GRU layer's time loop in one op: xw (L, N, 3H), every step's W_ih x_t + b_ih; h0 (N, H); w_hh (3H, H),
    b_hh (3H,) or None -> (L, N, H), h_t of every step (``reverse`` as ``lstm_sequence``).

    Each step: gh = W_hh h + b_hh, then ``gru_pointwise(xw_t, gh, h)``.

    >>> import autograd_core as ag
    >>> from autograd_core.ops.recurrent import gru_sequence
    >>> gru_sequence(ag.zeros(5, 3, 6), ag.ones(3, 2), ag.zeros(6, 2))[-1]     # z = 1/2, n = 0: halved each step
    tensor([[0.0312, 0.0312],
            [0.0312, 0.0312],
            [0.0312, 0.0312]])
    """
    _check_seq("gru_sequence", xw, h0, w_hh, b_hh, 3)
    args = (xw, h0, w_hh) if b_hh is None else (xw, h0, w_hh, b_hh)
    return _gru_seq_op(*args, reverse=bool(reverse))


def _check_seq(name, xw, h0, w, b, k):
    H = h0.shape[-1]
    if (xw.ndim != 3 or h0.ndim != 2 or xw.shape[1:] != (h0.shape[0], k * H) or tuple(w.shape) != (k * H, H)
            or (b is not None and tuple(b.shape) != (k * H,))):
        raise OpError(f"{name}: expected xw (L, N, {k} H), a state (N, H), w_hh ({k} H, H) and b_hh ({k} H,), got "
                         f"shapes {tuple(xw.shape)}, {tuple(h0.shape)}, {tuple(w.shape)} and "
                         f"{None if b is None else tuple(b.shape)}")


def _rnn_seq_forward(xw, h0, w, b=None, *, relu=False, reverse=False):
    """xw (L, N, H) input projections, h0 (N, H) -> (L, N, H): h_t = tanh (or relu) of xw_t + W h + b."""
    out = np.empty(xw.shape, np.result_type(xw, h0, w))
    h = h0
    wt = _transposed(w)
    with _blas_one_thread():
        for t in _steps(xw.shape[0], reverse):
            pre = _step_gates(xw[t], h, wt, b)
            h = out[t]
            if relu:
                np.maximum(pre, 0, out=h)
            else:
                np.tanh(pre, out=h)
    return out


def _rnn_seq_vjp(g, ans, xw, h0, w, b=None, *, needs, relu=False, reverse=False):
    L = xw.shape[0]
    dpre, prev = [None] * L, [None] * L
    dh = None
    order = list(_steps(L, reverse))
    for k in range(L - 1, -1, -1):
        t = order[k]
        prev[t] = h0 if k == 0 else ans[order[k - 1]]
        gt = g[t] if dh is None else g[t] + dh
        # the activation's derivative from its output: relu' = [h > 0], tanh' = 1 - h^2
        dpre[t] = xp.relu_grad(gt, ans[t]) if relu else gt * (1 - ans[t] * ans[t])
        dh = xp.matmul(dpre[t], w)
    return _seq_grads(dpre, prev, dh, (), w, b, needs)


_rnn_seq_op = defop("rnn_sequence", _rnn_seq_forward, vjp=_rnn_seq_vjp, uses_ans=True)


def rnn_sequence(xw, h0, w_hh, b_hh=None, *, relu=False, reverse=False):
    """An Elman RNN layer's time loop in one op: xw (L, N, H), every step's W_ih x_t + b_ih; h0 (N, H); w_hh
    (H, H), b_hh (H,) or None -> (L, N, H), h_t = tanh(xw_t + W_hh h_{t-1} + b_hh) (``relu``: relu) of every
    step (``reverse`` as ``lstm_sequence``).

    >>> import autograd_core as ag
    >>> from autograd_core.ops.recurrent import rnn_sequence
    >>> rnn_sequence(ag.ones(3, 1, 2), ag.zeros(1, 2), ag.zeros(2, 2), relu=True)[:, 0]
    tensor([[1., 1.],
            [1., 1.],
            [1., 1.]])
    """
    _check_seq("rnn_sequence", xw, h0, w_hh, b_hh, 1)
    args = (xw, h0, w_hh) if b_hh is None else (xw, h0, w_hh, b_hh)
    return _rnn_seq_op(*args, relu=bool(relu), reverse=bool(reverse))

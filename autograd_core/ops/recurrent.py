"""The pointwise part of an LSTM or GRU step as one op each (what ``nn.LSTM`` / ``nn.GRU`` and their
cells run every time step): a step of either is a dozen elementwise ops on small arrays, and one op in
their place records one node instead of twelve (the tape's cost per op, not the arithmetic, was most of
a small LSTM's training step).

    lstm_pointwise(gates, c)  gates (..., 4H): the pre-activations i, f, g, o (PyTorch's gate order),
                              c (..., H) -> (..., 2H): [h', c'] with
                              c' = sigmoid(f) c + sigmoid(i) tanh(g),  h' = sigmoid(o) tanh(c')
    gru_pointwise(gi, gh, h)  gi = W_ih x + b_ih and gh = W_hh h + b_hh (..., 3H): r, z, n chunks,
                              h (..., H) -> h' (..., H) with
                              r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
                              n = tanh(gi_n + r gh_n),  h' = (1 - z) n + z h

The rules are written with ``xp`` on the inputs (the activations are recomputed, not kept), so they are
differentiable again (``create_graph``) like every other rule.

    >>> import autograd_core as ag
    >>> from autograd_core.ops.recurrent import lstm_pointwise
    >>> lstm_pointwise(ag.zeros(1, 8), ag.ones(1, 2))      # i = f = o = 1/2, g = 0: c' = 1/2
    tensor([[0.2311, 0.2311, 0.5000, 0.5000]])
"""
from __future__ import annotations

import numpy as np

from .elementwise import sigmoid_
from .registry import defop, xp

__all__ = ["lstm_pointwise", "gru_pointwise"]


def _check(name, wide, narrow, k):
    if wide.shape[-1] != k * narrow.shape[-1] or wide.shape[:-1] != narrow.shape[:-1]:
        raise ValueError(f"{name}: expected gates of shape (..., {k} H) and a state (..., H) with the same leading "
                         f"dims, got shapes {tuple(wide.shape)} and {tuple(narrow.shape)}")


def _lstm_forward(gates, c):
    H = c.shape[-1]
    act = sigmoid_(gates)                       # all four chunks at once; g's is not used
    g = np.tanh(gates[..., 2 * H:3 * H])
    c2 = act[..., H:2 * H] * c
    c2 += act[..., :H] * g
    out = np.empty(c2.shape[:-1] + (2 * H,), c2.dtype)
    h2 = out[..., :H]
    np.tanh(c2, out=h2)
    h2 *= act[..., 3 * H:]
    out[..., H:] = c2
    return out


def _lstm_vjp(g, ans, gates, c, needs):
    H = c.shape[-1]
    i, f, o = xp.sigmoid(gates[..., :H]), xp.sigmoid(gates[..., H:2 * H]), xp.sigmoid(gates[..., 3 * H:])
    gg = xp.tanh(gates[..., 2 * H:3 * H])
    t = xp.tanh(ans[..., H:])
    gh = g[..., :H]
    dc = g[..., H:] + gh * o * (1 - t * t)      # through c' directly and through h' = o tanh(c')
    dgates = None
    if needs[0]:
        dgates = xp.concatenate(dc * gg * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - gg * gg),
                                gh * t * o * (1 - o), axis=gates.ndim - 1)
    return [dgates, dc * f if needs[1] else None]


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


def _gru_forward(gi, gh, h):
    H = h.shape[-1]
    rz = sigmoid_(gi[..., :2 * H] + gh[..., :2 * H])
    n = gh[..., 2 * H:] * rz[..., :H]
    n += gi[..., 2 * H:]
    np.tanh(n, out=n)
    out = h - n
    out *= rz[..., H:]
    out += n                                     # n + z (h - n) = (1 - z) n + z h
    return out


def _gru_vjp(g, ans, gi, gh, h, needs):
    H = h.shape[-1]
    r = xp.sigmoid(gi[..., :H] + gh[..., :H])
    z = xp.sigmoid(gi[..., H:2 * H] + gh[..., H:2 * H])
    ghn = gh[..., 2 * H:]
    n = xp.tanh(gi[..., 2 * H:] + r * ghn)
    dn = g * (1 - z) * (1 - n * n)              # d(pre-activation of n)
    dr = dn * ghn * r * (1 - r)
    dz = g * (h - n) * z * (1 - z)
    axis = gi.ndim - 1
    dgi = xp.concatenate(dr, dz, dn, axis=axis) if needs[0] else None
    dgh = xp.concatenate(dr, dz, dn * r, axis=axis) if needs[1] else None
    return [dgi, dgh, g * z if needs[2] else None]


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

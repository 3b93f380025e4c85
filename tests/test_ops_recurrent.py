"""The pointwise LSTM and GRU step ops (autograd_core.ops.recurrent): values against the same step written
with elementwise ops, gradients and second derivatives against finite differences, over drawn shapes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core.ops.recurrent import gru_pointwise, lstm_pointwise
from autograd_core.testing import gradcheck, gradgradcheck

lead_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


def _lstm_composed(gates, c):
    H = c.shape[-1]
    i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))
    c2 = ag.sigmoid(f) * c + ag.sigmoid(i) * ag.tanh(g)
    return ag.cat([ag.sigmoid(o) * ag.tanh(c2), c2], -1)


def _gru_composed(gi, gh, h):
    H = h.shape[-1]
    r = ag.sigmoid(gi[..., :H] + gh[..., :H])
    z = ag.sigmoid(gi[..., H:2 * H] + gh[..., H:2 * H])
    n = ag.tanh(gi[..., 2 * H:] + r * gh[..., 2 * H:])
    return (1 - z) * n + z * h


@settings(deadline=None)
@given(lead_shapes, st.integers(1, 4), st.integers(0, 2 ** 16))
def test_lstm_pointwise_gradcheck_and_matches_the_composed_step(lead, H, seed):
    rng = np.random.default_rng(seed)
    gates = ag.tensor(2 * rng.standard_normal(lead + (4 * H,)), requires_grad=True)
    c = ag.tensor(rng.standard_normal(lead + (H,)), requires_grad=True)
    np.testing.assert_allclose(lstm_pointwise(gates, c).detach().numpy(),
                               _lstm_composed(gates, c).detach().numpy(), rtol=1e-13, atol=1e-14)
    assert gradcheck(lstm_pointwise, (gates, c))
    assert gradgradcheck(lstm_pointwise, (gates, c))


@settings(deadline=None)
@given(lead_shapes, st.integers(1, 4), st.integers(0, 2 ** 16))
def test_gru_pointwise_gradcheck_and_matches_the_composed_step(lead, H, seed):
    rng = np.random.default_rng(seed)
    gi = ag.tensor(2 * rng.standard_normal(lead + (3 * H,)), requires_grad=True)
    gh = ag.tensor(2 * rng.standard_normal(lead + (3 * H,)), requires_grad=True)
    h = ag.tensor(rng.standard_normal(lead + (H,)), requires_grad=True)
    np.testing.assert_allclose(gru_pointwise(gi, gh, h).detach().numpy(),
                               _gru_composed(gi, gh, h).detach().numpy(), rtol=1e-13, atol=1e-14)
    assert gradcheck(gru_pointwise, (gi, gh, h))
    assert gradgradcheck(gru_pointwise, (gi, gh, h))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_ops_keep_float32_and_their_gradients_match_the_composed_step(dtype):
    rng = np.random.default_rng(3)
    gates = rng.standard_normal((5, 12)).astype(dtype)
    c = rng.standard_normal((5, 3)).astype(dtype)
    g = rng.standard_normal((5, 6)).astype(dtype)
    ours = [ag.tensor(a, requires_grad=True) for a in (gates, c)]
    ref = [ag.tensor(a, requires_grad=True) for a in (gates, c)]
    out = lstm_pointwise(*ours)
    assert out.dtype == dtype
    (out * ag.tensor(g)).sum().backward()
    (_lstm_composed(*ref) * ag.tensor(g)).sum().backward()
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(ours, ref):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)
    gi, gh, h = (ag.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in ((5, 9), (5, 9), (5, 3)))
    y = gru_pointwise(gi, gh, h)
    assert y.dtype == dtype
    y.sum().backward()
    assert gi.grad.dtype == gh.grad.dtype == h.grad.dtype == dtype


def test_mismatched_shapes_are_refused_by_name():
    with pytest.raises(ValueError, match="lstm_pointwise.*4 H"):
        lstm_pointwise(ag.zeros(2, 7), ag.zeros(2, 2))
    with pytest.raises(ValueError, match="gru_pointwise"):
        gru_pointwise(ag.zeros(2, 6), ag.zeros(3, 6), ag.zeros(2, 2))


def _steps_composed(kind, xw, states, w, b, reverse, relu=False):
    """The sequence ops written as the per-step loop (the path nn.LSTM takes for packed input)."""
    from autograd_core.ops.recurrent import gru_pointwise as gp, lstm_pointwise as lp
    L = xw.shape[0]
    H = states[0].shape[-1]
    outs = [None] * L
    st = list(states)
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        pre = ag.linear(st[0], w, b)
        if kind == "lstm":
            hc = lp(xw[t] + pre, st[1])
            st = [hc[..., :H], hc[..., H:]]
            outs[t] = hc
        elif kind == "gru":
            st = [gp(xw[t], pre, st[0])]
            outs[t] = st[0]
        else:
            st = [ag.relu(xw[t] + pre) if relu else ag.tanh(xw[t] + pre)]
            outs[t] = st[0]
    return ag.stack(outs, 0)


@settings(deadline=None, max_examples=30)
@given(st.sampled_from(["lstm", "gru", "rnn_tanh", "rnn_relu"]), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.booleans(), st.integers(0, 2 ** 16))
def test_sequence_ops_gradcheck_and_match_the_step_loop(kind, L, N, H, bias, reverse, seed):
    from autograd_core.ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence
    rng = np.random.default_rng(seed)
    G = {"lstm": 4, "gru": 3}.get(kind, 1)
    base = kind.split("_")[0]
    relu = kind == "rnn_relu"

    def t(*shape):
        return ag.tensor(0.8 * rng.standard_normal(shape), requires_grad=True)
    xw, w, b = t(L, N, G * H), t(G * H, H), (t(G * H) if bias else None)
    states = [t(N, H)] + ([t(N, H)] if base == "lstm" else [])
    if base == "lstm":
        def f(xw, w, *rest):
            return lstm_sequence(xw, rest[0], rest[1], w, rest[2] if bias else None, reverse=reverse)
    elif base == "gru":
        def f(xw, w, *rest):
            return gru_sequence(xw, rest[0], w, rest[1] if bias else None, reverse=reverse)
    else:
        def f(xw, w, *rest):
            return rnn_sequence(xw, rest[0], w, rest[1] if bias else None, relu=relu, reverse=reverse)
    args = (xw, w, *states) + ((b,) if bias else ())
    np.testing.assert_allclose(f(*args).detach().numpy(),
                               _steps_composed(base, xw, states, w, b, reverse, relu).detach().numpy(),
                               rtol=1e-12, atol=1e-13)
    assert gradcheck(f, args)
    if not relu:             # relu's kink: finite differences of the first derivative can straddle it
        assert gradgradcheck(f, args)


def test_sequence_ops_refuse_mismatched_shapes_by_name():
    from autograd_core.ops.recurrent import gru_sequence, lstm_sequence
    with pytest.raises(ValueError, match="lstm_sequence.*4 H"):
        lstm_sequence(ag.zeros(3, 2, 7), ag.zeros(2, 2), ag.zeros(2, 2), ag.zeros(8, 2))
    with pytest.raises(ValueError, match="gru_sequence"):
        gru_sequence(ag.zeros(3, 2, 6), ag.zeros(2, 2), ag.zeros(6, 3))

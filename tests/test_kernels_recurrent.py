"""The recurrent kernels (kernels.recurrent): their float32 sigmoid and tanh to a few ulps of the exact
values over the whole range; an LSTM step forward and backward, with and without the next step's
gradients, equal to the numpy path of ops.recurrent (run in float64); the compiled LSTM and GRU time loops
equal to the Python loops."""
import contextlib
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograd_core import kernels
from autograd_core.kernels import HAVE_NUMBA
from autograd_core.kernels import recurrent as krec
from autograd_core.ops import recurrent as rec

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


def _vectorized(fn):
    import numba

    @numba.njit
    def run(x, out):
        for i in range(x.size):
            out[i] = fn(x[i])
    return run


def test_sigmoid32_and_tanh32_stay_within_a_few_ulps():
    x = np.concatenate([np.linspace(-30, 30, 200001), np.geomspace(1e-8, 1, 5001), -np.geomspace(1e-8, 1, 5001),
                        [0.0, -0.0, 0.19999, 0.2, 0.20001, 60.0, -60.0, 104.5, -104.5]]).astype(np.float32)
    for fn, exact in ((krec.sigmoid32, lambda v: 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))),
                      (krec.tanh32, math.tanh)):
        out = np.empty_like(x)
        _vectorized(fn)(x, out)
        want = np.array([exact(float(v)) for v in x])
        # relative to the value; in sigmoid's far tail (exp(-|x|) with |x| > 8: below 3e-4) the exponent's
        # rounding in float32 grows the relative error with |x|, to ~2e-6 at x = -60 (1e-32 absolute)
        err = np.abs(out - want) / np.maximum(np.abs(want), np.finfo(np.float32).tiny)
        bound = 8 * np.finfo(np.float32).eps * np.maximum(1.0, np.abs(x.astype(np.float64)) / 2)
        bad = np.argmax(err / bound)
        assert (err <= bound).all(), (fn, x[bad], out[bad], want[bad])
    special = np.array([np.nan, np.inf, -np.inf], np.float32)
    out = np.empty_like(special)
    _vectorized(krec.tanh32)(special, out)
    assert np.isnan(out[0]) and out[1] == 1 and out[2] == -1
    _vectorized(krec.sigmoid32)(special, out)
    assert np.isnan(out[0]) and out[1] == 1 and out[2] == 0


@settings(deadline=None, max_examples=25)
@given(st.integers(1, 5), st.integers(1, 40), st.booleans(), st.integers(0, 2 ** 16))
def test_lstm_step_kernels_match_the_numpy_step(N, H, carry, seed):
    rng = np.random.default_rng(seed)
    gates = (3 * rng.standard_normal((N, 4 * H))).astype(np.float32)
    prev = rng.standard_normal((N, 2 * H)).astype(np.float32)
    out, act = np.empty((N, 2 * H), np.float32), np.empty((N, 4 * H), np.float32)
    with kernels.use("numba", background=False):
        assert krec.lstm_forward(gates, prev, out, act)
    act64 = rec._lstm_acts(gates.astype(np.float64))
    out64 = rec._lstm_cell(act64, prev[:, H:].astype(np.float64))
    np.testing.assert_allclose(act, act64, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out, out64, rtol=1e-5, atol=1e-6)

    g = rng.standard_normal((N, 2 * H)).astype(np.float32)
    dh, dc = (rng.standard_normal((N, H)).astype(np.float32) for _ in range(2)) if carry else (None, None)
    dgates, dc_prev = np.empty((N, 4 * H), np.float32), np.empty((N, H), np.float32)
    with kernels.use("numba", background=False):
        assert krec.lstm_backward(g, dh, dc, act, prev, out, dgates, dc_prev)
    gt = g.astype(np.float64)
    if carry:
        gt = np.concatenate([gt[:, :H] + dh, gt[:, H:] + dc], -1)
    dact, dc64 = rec._lstm_grads(gt, out[:, H:].astype(np.float64), act.astype(np.float64), prev[:, H:].astype(np.float64))
    dgates64 = rec._acts_vjp(dact, act.astype(np.float64), None)
    scale = max(1.0, np.abs(dgates64).max())
    np.testing.assert_allclose(dgates, dgates64, rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(dc_prev, dc64, rtol=1e-5, atol=1e-6 * scale)


def test_the_kernels_do_not_serve_other_dtypes_or_layouts():
    N, H = 2, 3
    with kernels.use("numba", background=False):
        assert not krec.lstm_forward(np.zeros((N, 4 * H)), np.zeros((N, 2 * H)), np.zeros((N, 2 * H)),
                                     np.zeros((N, 4 * H)))                         # float64
        strided = np.zeros((N, 8 * H), np.float32)[:, ::2]
        assert not krec.lstm_forward(strided, np.zeros((N, 2 * H), np.float32), np.zeros((N, 2 * H), np.float32),
                                     np.zeros((N, 4 * H), np.float32))
    with kernels.use("numpy"):
        assert not krec.lstm_forward(*(np.zeros(s, np.float32) for s in ((N, 4 * H), (N, 2 * H), (N, 2 * H), (N, 4 * H))))


def _float32_matches_float64(op, shapes, out_shape, seed):
    """``op`` (a sequence op) and all its gradients in float32, with the kernels, against float64, both
    directions of time."""
    import autograd_core as ag
    rng = np.random.default_rng(seed)
    arrays = [0.8 * rng.standard_normal(s) for s in shapes]
    G = rng.standard_normal(out_shape)
    results = []
    for dtype in (np.float32, np.float64):
        with kernels.use("numba", background=False):
            ts = [ag.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
            for reverse in (False, True):
                y = op(*ts, reverse=reverse)
                grads = ag.autograd.grad((y * ag.tensor(G.astype(dtype))).sum(), ts)
                results.append([y.detach().numpy()] + [gr.numpy() for gr in grads])
    for a, b in zip(results[:2], results[2:]):
        for x, y in zip(a, b):
            assert x.dtype == np.float32
            np.testing.assert_allclose(x, y, rtol=2e-4, atol=2e-5 * max(1.0, np.abs(y).max()))


def test_lstm_sequence_in_float32_with_the_kernels_matches_float64():
    L, N, H = 6, 3, 5
    shapes = ((L, N, 4 * H), (N, H), (N, H), (4 * H, H), (4 * H,))
    _float32_matches_float64(rec.lstm_sequence, shapes, (L, N, 2 * H), 7)


def _compiled_then_python(names, run):
    """``run()`` with the compiled loops ``names`` (kernels.recurrent's forward and backward) serving where
    they can, then refused (the Python loops); both results, and what the compiled ones returned."""
    real = [getattr(krec, n) for n in names]
    runs, served = [], []
    try:
        for compiled in (True, False):
            for n, f in zip(names, real):
                setattr(krec, n, (lambda *a, f=f: served.append(f(*a)) or served[-1]) if compiled else
                        (lambda *a: False))
            runs.append(run())
    finally:
        for n, f in zip(names, real):
            setattr(krec, n, f)
    return runs, served


@contextlib.contextmanager
def _column_blocks(width, split=False):
    """The compiled loops' products in column blocks of ``width`` (where the CPU's OpenBLAS would take them
    whole, or in other blocks); with ``split`` the loops run on two threads, by batch rows, however small."""
    real = krec.column_block, krec._SPLIT_WORK, kernels.get_num_threads()
    krec.column_block = lambda m, n, k: min(width, n)
    if split:
        krec._SPLIT_WORK = 0
        kernels.set_num_threads(2)
    try:
        yield
    finally:
        krec.column_block, krec._SPLIT_WORK = real[:2]
        kernels.set_num_threads(real[2])


@settings(max_examples=15, deadline=None)
@given(L=st.integers(1, 6), N=st.integers(1, 5), H=st.integers(1, 9), reverse=st.booleans(), bias=st.booleans(),
       block=st.integers(1, 40), split=st.booleans(), seed=st.integers(0, 999))
def test_compiled_lstm_loops_match_the_python_loops(L, N, H, reverse, bias, block, split, seed):
    """The float32 time loops in compiled code (each step's product by numpy's OpenBLAS gemm, called by
    address, in column blocks of ``block``; with ``split`` on two threads by batch rows) give what the
    Python loops over the same step kernels give, forward and every gradient (to float32 rounding: numpy's
    matmul takes other routes than gemm for a row or a column)."""
    rng = np.random.default_rng(seed)
    xw = rng.standard_normal((L, N, 4 * H)).astype(np.float32)
    h0, c0 = (rng.standard_normal((N, H)).astype(np.float32) for _ in range(2))
    w = (0.5 * rng.standard_normal((4 * H, H))).astype(np.float32)
    b = rng.standard_normal(4 * H).astype(np.float32) if bias else None
    g = rng.standard_normal((L, N, 2 * H)).astype(np.float32)
    needs = (True,) * (5 if bias else 4)

    def run():
        out, acts = rec._lstm_seq_forward(xw, h0, c0, w, b, reverse=reverse)
        return [out, acts] + rec._lstm_seq_vjp_arrays(g, out, h0, c0, w, b, needs, reverse, acts)
    with kernels.use("numba", background=False), _column_blocks(block, split):
        runs, served = _compiled_then_python(("lstm_sequence", "lstm_sequence_grad"), run)
    assert served == [krec.numpy_gemm_addresses() is not None] * 2
    for a, r in zip(*runs):
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(r).max())))


def test_the_compiled_lstm_loops_serve_float32():
    with kernels.use("numba", background=False):
        L, N, H = 3, 2, 4
        args = [np.zeros(s, np.float32) for s in ((L, N, 4 * H), (N, 2 * H), (H, 4 * H), (4 * H,), (L, N, 2 * H),
                                                   (L, N, 4 * H))]
        assert krec.lstm_sequence(*args, False) == (krec.numpy_gemm_addresses() is not None)
        assert not krec.lstm_sequence(*[a.astype(np.float64) for a in args], False)


@settings(max_examples=15, deadline=None)
@given(L=st.integers(1, 6), N=st.integers(1, 5), H=st.integers(1, 9), reverse=st.booleans(), bias=st.booleans(),
       batch_first=st.booleans(), block=st.integers(1, 40), split=st.booleans(), seed=st.integers(0, 999))
def test_compiled_gru_loops_match_the_python_loops(L, N, H, reverse, bias, batch_first, block, split, seed):
    """The GRU's float32 time loops in compiled code (products in column blocks of ``block``; with ``split``
    on two threads by batch rows) give what the Python loop gives, forward (outputs and the saved W_hh h +
    b_hh and [r, z, n]) and every gradient, to float32 rounding; ``batch_first``: the projections are a
    transposed view, as a batch-first layer passes them."""
    rng = np.random.default_rng(seed)
    xw = rng.standard_normal((N, L, 3 * H) if batch_first else (L, N, 3 * H)).astype(np.float32)
    if batch_first:
        xw = xw.transpose(1, 0, 2)
    h0 = rng.standard_normal((N, H)).astype(np.float32)
    w = (0.5 * rng.standard_normal((3 * H, H))).astype(np.float32)
    b = rng.standard_normal(3 * H).astype(np.float32) if bias else None
    g = rng.standard_normal((L, N, H)).astype(np.float32)
    needs = (True,) * (4 if bias else 3)

    def run():
        out, res = rec._gru_seq_forward(xw, h0, w, b, reverse=reverse)
        grads = rec._gru_seq_vjp(g, out, xw, h0, w, b, needs=needs, reverse=reverse, res=res)
        return [out, res] + [np.asarray(gr) for gr in grads]
    with kernels.use("numba", background=False), _column_blocks(block, split):
        runs, served = _compiled_then_python(("gru_sequence", "gru_sequence_grad"), run)
    assert served == [krec.numpy_gemm_addresses() is not None] * 2
    for a, r in zip(*runs):
        assert a.dtype == r.dtype == np.float32 and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=2e-6 * max(1.0, float(np.abs(r).max())))


def test_gru_sequence_in_float32_with_the_kernels_matches_float64():
    L, N, H = 7, 3, 5
    _float32_matches_float64(rec.gru_sequence, ((L, N, 3 * H), (N, H), (3 * H, H), (3 * H,)), (L, N, H), 11)


def test_the_compiled_gru_loops_serve_float32_only():
    with kernels.use("numba", background=False):
        L, N, H = 3, 2, 4
        args = [np.zeros(s, np.float32) for s in ((L, N, 3 * H), (N, H), (H, 3 * H), (3 * H,), (L, N, H),
                                                   (2, L, N, 3 * H))]
        assert krec.gru_sequence(*args, False) == (krec.numpy_gemm_addresses() is not None)
        assert not krec.gru_sequence(*[a.astype(np.float64) for a in args], False)
    with kernels.use("numpy"):
        assert not krec.gru_sequence(*args, False)

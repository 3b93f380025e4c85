"""RNN, LSTM, GRU and their cells: shapes, float64 gradchecks (input, initial state, parameters) over
hypothesis-drawn configurations, dropout between layers, errors, and parity with PyTorch (values,
every gradient, state-dict names and shapes) when it is installed."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
from autograd_core.testing import gradcheck

F64 = np.float64
MODES = ["RNN", "LSTM", "GRU"]
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def rand(shape, seed=0, requires_grad=True):
    return ag.Tensor(np.random.default_rng(seed).normal(0, 1, shape), requires_grad=requires_grad)


def make(mode, *args, **kw):
    return getattr(nn, mode)(*args, dtype=F64, **kw)


def first(out):
    """(output, h_n) of any of the three: LSTM's h_n and c_n are both returned."""
    y, h = out
    return (y,) + (tuple(h) if isinstance(h, tuple) else (h,))


# -- shapes, names, init ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_parameter_names_shapes_and_init(mode):
    ag.manual_seed(0)
    m = make(mode, 3, 5, num_layers=2, bidirectional=True)
    G = GATES[mode] * 5
    expected = {}
    for layer, fan in ((0, 3), (1, 10)):
        for suffix in ("", "_reverse"):
            expected[f"weight_ih_l{layer}{suffix}"] = (G, fan)
            expected[f"weight_hh_l{layer}{suffix}"] = (G, 5)
            expected[f"bias_ih_l{layer}{suffix}"] = (G,)
            expected[f"bias_hh_l{layer}{suffix}"] = (G,)
    sd = m.state_dict()
    assert set(sd) == set(expected)
    assert list(sd)[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert list(sd)[4] == "weight_ih_l0_reverse"
    assert {k: tuple(v.shape) for k, v in sd.items()} == expected
    bound = 1 / math.sqrt(5)
    allv = np.concatenate([p._data.ravel() for p in m.parameters()])
    assert np.abs(allv).max() <= bound and np.abs(allv).max() > 0.8 * bound  # U(-1/sqrt(H), 1/sqrt(H))
    assert len(m.all_weights) == 4 and m.all_weights[1][0] is m.weight_ih_l0_reverse
    no_bias = make(mode, 3, 5, bias=False)
    assert list(no_bias.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    m.flatten_parameters()  # accepted, does nothing


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_shapes_batched_and_unbatched(mode, batch_first, bidirectional):
    m = make(mode, 3, 4, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    x = rand((2, 5, 3) if batch_first else (5, 2, 3), requires_grad=False)
    y, *hs = first(m(x))
    assert y.shape == ((2, 5, 4 * D) if batch_first else (5, 2, 4 * D))
    assert all(h.shape == (2 * D, 2, 4) for h in hs)
    # unbatched (L, H_in) gives what the batch of one gives, without the batch dim
    xu = rand((5, 3), seed=1, requires_grad=False)
    yu, *hu = first(m(xu))
    yb, *hb = first(m(xu.unsqueeze(0 if batch_first else 1)))
    assert yu.shape == (5, 4 * D) and all(h.shape == (2 * D, 4) for h in hu)
    np.testing.assert_allclose(yu._data, yb._data.squeeze(0 if batch_first else 1), rtol=1e-12, atol=1e-14)
    for a, b in zip(hu, hb):
        np.testing.assert_allclose(a._data, b._data[:, 0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_last_output_is_final_state(mode):
    m = make(mode, 2, 3, num_layers=2, bidirectional=True)
    y, h = first(m(rand((4, 2, 2), requires_grad=False)))[:2]
    np.testing.assert_array_equal(y._data[-1, :, :3], h._data[2])   # last layer, forward: at t = L - 1
    np.testing.assert_array_equal(y._data[0, :, 3:], h._data[3])    # last layer, backward: at t = 0


def test_rnn_relu_and_argument_order():
    m = nn.RNN(2, 3, 1, "relu", dtype=F64)  # PyTorch's positional order: nonlinearity is 4th
    assert m.nonlinearity == "relu" and repr(m) == "RNN(2, 3)"  # PyTorch's repr leaves it out
    assert repr(nn.RNNCell(2, 3, nonlinearity="relu")) == "RNNCell(2, 3, nonlinearity=relu)"
    y, _ = m(rand((4, 2, 2), requires_grad=False))
    assert (y._data >= 0).all() and (y._data == 0).any()
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(2, 3, nonlinearity="sigmoid")


# -- gradchecks ---------------------------------------------------------------------------------
@settings(max_examples=8)
@given(mode=st.sampled_from(MODES), L=st.integers(1, 3), N=st.integers(1, 2), I=st.integers(1, 3),
       H=st.integers(1, 3), batch_first=st.booleans(), bidirectional=st.booleans(), layers=st.integers(1, 2),
       seed=st.integers(0, 100))
def test_gradcheck_input_and_initial_state(mode, L, N, I, H, batch_first, bidirectional, layers, seed):
    ag.manual_seed(seed)
    m = make(mode, I, H, num_layers=layers, batch_first=batch_first, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    x = rand((N, L, I) if batch_first else (L, N, I), seed)
    h0 = rand((D * layers, N, H), seed + 1)
    if mode == "LSTM":
        c0 = rand((D * layers, N, H), seed + 2)
        assert gradcheck(lambda x, h, c: first(m(x, (h, c))), (x, h0, c0))
    else:
        assert gradcheck(lambda x, h: first(m(x, h)), (x, h0))


@settings(max_examples=4)
@given(mode=st.sampled_from(MODES), bidirectional=st.booleans(), bias=st.booleans(), seed=st.integers(0, 100))
def test_gradcheck_parameters(mode, bidirectional, bias, seed):
    ag.manual_seed(seed)
    m = make(mode, 2, 2, num_layers=2, bidirectional=bidirectional, bias=bias)
    x = rand((2, 1, 2), seed, requires_grad=False)
    params = tuple(m.parameters())
    assert gradcheck(lambda *ps: first(m(x)), params)


@settings(max_examples=6)
@given(mode=st.sampled_from(MODES), N=st.integers(1, 2), I=st.integers(1, 3), H=st.integers(1, 3),
       batched=st.booleans(), seed=st.integers(0, 100))
def test_gradcheck_cells(mode, N, I, H, batched, seed):
    ag.manual_seed(seed)
    cell = getattr(nn, mode + "Cell")(I, H, dtype=F64)
    x = rand((N, I) if batched else (I,), seed)
    h = rand((N, H) if batched else (H,), seed + 1)
    params = tuple(cell.parameters())
    if mode == "LSTM":
        c = rand(h.shape, seed + 2)
        out = cell(x, (h, c))
        assert out[0].shape == h.shape and out[1].shape == h.shape
        assert gradcheck(lambda x, h, c, *ps: cell(x, (h, c)), (x, h, c) + params)
    else:
        assert cell(x, h).shape == h.shape
        assert gradcheck(lambda x, h, *ps: cell(x, h), (x, h) + params)


def test_cells_step_like_the_layers():
    """A cell run over the sequence equals the one-layer module with the same weights."""
    for mode in MODES:
        m = make(mode, 3, 4)
        cell = getattr(nn, mode + "Cell")(3, 4, dtype=F64)
        cell.load_state_dict({k[:-3]: v for k, v in m.state_dict().items()})
        x = rand((5, 2, 3), requires_grad=False)
        y = first(m(x))[0]
        state = None
        for t in range(5):
            state = cell(x[t], state)
            h = state[0] if mode == "LSTM" else state
            np.testing.assert_allclose(h._data, y._data[t], rtol=1e-12, atol=1e-14)


# -- dropout between layers ---------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers_not_after_last(mode):
    ag.manual_seed(0)
    m = make(mode, 3, 4, num_layers=2, dropout=1.0)
    x = rand((5, 2, 3), requires_grad=False)
    m.eval()
    y_eval = first(m(x))[0]
    m.train()
    y, h = first(m(x))[:2]
    # everything reaching layer 1 was dropped: layer 1 sees zeros, so its output is what a one-layer
    # module with layer 1's weights gives on a zero input; and nothing is dropped after the last layer
    top = make(mode, 4, 4)
    top.load_state_dict({k.replace("_l1", "_l0"): v for k, v in m.state_dict().items() if "_l1" in k})
    y_top = first(top(ag.zeros(5, 2, 4, dtype=F64)))[0]
    np.testing.assert_allclose(y._data, y_top._data, rtol=1e-12, atol=1e-14)
    assert np.abs(y._data).min() > 0  # no zeroed output: no dropout after the last layer
    assert not np.allclose(y._data, y_eval._data)
    np.testing.assert_array_equal(y._data[-1], h._data[-1])
    m.eval()
    np.testing.assert_array_equal(first(m(x))[0]._data, y_eval._data)  # eval: no dropout


def test_dropout_partial_changes_between_calls_and_warns_for_one_layer():
    ag.manual_seed(0)
    m = make("GRU", 3, 8, num_layers=2, dropout=0.5)
    x = rand((4, 3, 3), requires_grad=False)
    a, b = m(x)[0]._data, m(x)[0]._data
    assert not np.allclose(a, b)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


# -- errors -------------------------------------------------------------------------------------
def test_errors_are_clear():
    m = make("LSTM", 3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="input_size. Expected 3, got 5"):
        m(ag.zeros(4, 2, 5, dtype=F64))
    with pytest.raises(ValueError, match="2D or 3D"):
        m(ag.zeros(4, dtype=F64))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\), got \[1, 2, 4\]"):
        m(ag.zeros(4, 2, 3, dtype=F64), (ag.zeros(1, 2, 4, dtype=F64), ag.zeros(2, 2, 4, dtype=F64)))
    with pytest.raises(RuntimeError, match="should also be 2-D"):
        m(ag.zeros(4, 3, dtype=F64), (ag.zeros(2, 1, 4, dtype=F64), ag.zeros(2, 1, 4, dtype=F64)))
    with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
        m(ag.zeros(4, 2, 3, dtype=F64), ag.zeros(2, 2, 4, dtype=F64))
    with pytest.raises(TypeError, match="LSTM's state"):
        make("GRU", 3, 4)(ag.zeros(4, 2, 3, dtype=F64), (ag.zeros(1, 2, 4, dtype=F64), ag.zeros(1, 2, 4, dtype=F64)))
    with pytest.raises(ValueError, match="smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="dropout"):
        nn.RNN(3, 4, dropout=1.5)
    with pytest.raises(TypeError, match="packed sequences"):
        m((ag.zeros(4, 2, 3), [4, 3]))
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.GRU(3, 4, device="cuda")
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.GRUCell(3, 4)(ag.zeros(2, 5))
    assert repr(nn.LSTM(3, 4, 2, batch_first=True, dropout=0.1, bidirectional=True)) == \
        "LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.1, bidirectional=True)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_training_an_lstm_reduces_the_loss():
    """A smoke test of the whole path: LSTM + Linear learn to output the running sum's sign."""
    import optim
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (16, 6, 1)).astype(np.float32)
    target = (np.cumsum(x, axis=1)[:, -1] > 0).astype(np.float32)
    lstm, head = nn.LSTM(1, 8, batch_first=True), nn.Linear(8, 1)
    opt = optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        out, (h, c) = lstm(ag.tensor(x))
        loss = nn.functional.binary_cross_entropy_with_logits(head(h[-1]), ag.tensor(target))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# -- parity with PyTorch ------------------------------------------------------------------------
def _copy_from_torch(tm, om):
    sd = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    ours = om.state_dict()
    assert list(sd) == list(ours)
    assert all(tuple(sd[k].shape) == tuple(ours[k].shape) for k in sd)
    om.load_state_dict(sd)


def _compare(tvals, ovals, tgrads, ograds):
    for a, b in zip(tvals, ovals):
        np.testing.assert_allclose(b._data, a.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(tgrads, ograds):
        np.testing.assert_allclose(b._data, a.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cfg", [
    dict(),
    dict(batch_first=True),
    dict(bidirectional=True),
    dict(num_layers=2),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, num_layers=2),
    dict(init_state=True, num_layers=2, bidirectional=True),
    dict(unbatched=True, bidirectional=True, num_layers=2),
    dict(unbatched=True, init_state=True, batch_first=True),
    dict(nonlinearity="relu", num_layers=2),
])
def test_parity_with_torch(mode, cfg):
    torch = pytest.importorskip("torch")
    cfg = dict(cfg)
    init_state, unbatched = cfg.pop("init_state", False), cfg.pop("unbatched", False)
    if "nonlinearity" in cfg and mode != "RNN":
        pytest.skip("nonlinearity is an RNN argument")
    I, H, L, N = 3, 4, 5, 2
    torch.manual_seed(0)
    tm = getattr(torch.nn, mode)(I, H, dtype=torch.float64, **cfg)
    om = getattr(nn, mode)(I, H, dtype=F64, **cfg)
    _copy_from_torch(tm, om)
    rng = np.random.default_rng(1)
    shape = (L, I) if unbatched else ((N, L, I) if cfg.get("batch_first") else (L, N, I))
    x = rng.normal(0, 1, shape)
    D = 2 if cfg.get("bidirectional") else 1
    hshape = (D * cfg.get("num_layers", 1),) + (() if unbatched else (N,)) + (H,)
    states = [rng.normal(0, 1, hshape) for _ in range(2 if mode == "LSTM" else 1)] if init_state else []
    tx = torch.tensor(x, requires_grad=True)
    ox = ag.Tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    os_ = [ag.Tensor(s, requires_grad=True) for s in states]
    pack = (lambda s: tuple(s) if mode == "LSTM" else s[0]) if init_state else (lambda s: None)
    tout, oout = tm(tx, pack(ts)), om(ox, pack(os_))
    tvals, ovals = first(tout), first(oout)
    cots = [rng.normal(0, 1, tuple(v.shape)) for v in tvals]
    sum(((v * torch.tensor(c)).sum() for v, c in zip(tvals, cots))).backward()
    sum(((v * c).sum() for v, c in zip(ovals, cots))).backward()
    tgrads = [tx.grad] + [s.grad for s in ts] + [p.grad for p in tm.parameters()]
    ograds = [ox.grad] + [s.grad for s in os_] + [p.grad for p in om.parameters()]
    assert all(g is not None for g in ograds)
    _compare(tvals, ovals, tgrads, ograds)


@pytest.mark.parametrize("mode", MODES)
def test_parity_with_torch_dropout_one_in_training(mode):
    """dropout=1 is deterministic: PyTorch and we must agree exactly on where it is applied."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = getattr(torch.nn, mode)(3, 4, num_layers=3, dropout=1.0, dtype=torch.float64).train()
    om = getattr(nn, mode)(3, 4, num_layers=3, dropout=1.0, dtype=F64).train()
    _copy_from_torch(tm, om)
    x = np.random.default_rng(2).normal(0, 1, (4, 2, 3))
    _compare(first(tm(torch.tensor(x))), first(om(ag.Tensor(x))), [], [])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False])
def test_cell_parity_with_torch(mode, bias):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tc = getattr(torch.nn, mode + "Cell")(3, 4, bias=bias, dtype=torch.float64)
    oc = getattr(nn, mode + "Cell")(3, 4, bias=bias, dtype=F64)
    _copy_from_torch(tc, oc)
    rng = np.random.default_rng(3)
    x, h, c = rng.normal(0, 1, (2, 3)), rng.normal(0, 1, (2, 4)), rng.normal(0, 1, (2, 4))
    tx, th, tcc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    ox, oh, occ = (ag.Tensor(a, requires_grad=True) for a in (x, h, c))
    if mode == "LSTM":
        tv, ov = tc(tx, (th, tcc)), oc(ox, (oh, occ))
    else:
        tv, ov = (tc(tx, th),), (oc(ox, oh),)
    cots = [rng.normal(0, 1, (2, 4)) for _ in tv]
    sum(((v * torch.tensor(k)).sum() for v, k in zip(tv, cots))).backward()
    sum(((v * k).sum() for v, k in zip(ov, cots))).backward()
    tg = [tx.grad, th.grad] + ([tcc.grad] if mode == "LSTM" else []) + [p.grad for p in tc.parameters()]
    og = [ox.grad, oh.grad] + ([occ.grad] if mode == "LSTM" else []) + [p.grad for p in oc.parameters()]
    _compare(tv, ov, tg, og)
    # and without a state: zeros, as PyTorch
    _compare(first(tc(tx)) if mode == "LSTM" else (tc(tx),), first(oc(ox)) if mode == "LSTM" else (oc(ox),),
             [], [])


@settings(max_examples=8, deadline=None)
@given(layers=st.integers(1, 2), bidirectional=st.booleans(), seed=st.integers(0, 1000))
def test_lstm_with_projections_gradcheck(layers, bidirectional, seed):
    ag.manual_seed(seed)
    lstm = nn.LSTM(2, 3, num_layers=layers, bidirectional=bidirectional, proj_size=2).double()
    names = [n for n, _ in lstm.named_parameters()]
    assert [n for n in names if n.startswith("weight_hr")] == [
        f"weight_hr_l{k}{s}" for k in range(layers) for s in ([""] + (["_reverse"] if bidirectional else []))]
    x = ag.tensor(np.random.default_rng(seed).standard_normal((3, 1, 2)), requires_grad=True)

    def f(inp):
        out, (h, c) = lstm(inp)
        return out, h, c
    out, h, c = f(x)
    d = 2 if bidirectional else 1
    assert out.shape == (3, 1, 2 * d) and h.shape == (layers * d, 1, 2) and c.shape == (layers * d, 1, 3)
    assert gradcheck(f, (x,))


def test_lstm_with_projections_by_hand_and_against_torch():
    # one step, zero state: c = i g, h = W_hr (o tanh(c)); weights set so that every gate sees 0.5
    lstm = nn.LSTM(1, 2, proj_size=1, bias=False).double()
    for p in lstm.parameters():
        p._data[...] = 0.0
    lstm.weight_ih_l0._data[...] = 1.0
    lstm.weight_hr_l0._data[...] = [[2.0, -1.0]]
    out, (h, c) = lstm(ag.tensor([[[0.5]]], dtype=ag.float64))
    sig, tanh = 1 / (1 + np.exp(-0.5)), np.tanh(0.5)
    np.testing.assert_allclose(c._data.ravel(), [sig * tanh] * 2)
    np.testing.assert_allclose(h._data.ravel(), [(2 - 1) * sig * np.tanh(sig * tanh)])
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    mt = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, proj_size=2).double()
    mo = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, proj_size=2).double()
    assert list(mt.state_dict()) == list(mo.state_dict())
    mo.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    x, h0, c0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 5))
    yt, (ht, ct) = mt(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
    yo, (ho, co) = mo(ag.tensor(x), (ag.tensor(h0), ag.tensor(c0)))
    (yt.sum() + ht.sum() + ct.square().sum()).backward()
    (yo.sum() + ho.sum() + co.square().sum()).backward()
    for a, b in ((yo, yt), (ho, ht), (co, ct)):
        np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    pt = dict(mt.named_parameters())
    for k, p in mo.named_parameters():
        np.testing.assert_allclose(p.grad._data, pt[k].grad.numpy(), rtol=1e-8, atol=1e-12)

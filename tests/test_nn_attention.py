"""F.scaled_dot_product_attention and nn.MultiheadAttention: float64 gradchecks over hypothesis-drawn
shapes, masks (bool, float, key padding, causal), fully masked rows, errors, and parity with PyTorch
(values, weights, every gradient, state-dict names and shapes) when it is installed."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck

F64 = np.float64


def rand(shape, seed=0, requires_grad=True):
    return ag.Tensor(np.random.default_rng(seed).normal(0, 1, shape), requires_grad=requires_grad)


def reference_sdpa(q, k, v, keep=None, add=None, scale=None):
    """softmax(q k^T scale + mask) v in NumPy, rows with no allowed key -> 0."""
    s = q @ np.swapaxes(k, -1, -2) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if add is not None:
        s = s + add
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    with np.errstate(invalid="ignore"):
        e = np.exp(s - s.max(-1, keepdims=True))
        p = e / e.sum(-1, keepdims=True)
    p = np.nan_to_num(p, nan=0.0)
    return p @ v


# -- scaled_dot_product_attention ---------------------------------------------------------------
@given(batch=st.lists(st.integers(1, 2), max_size=2).map(tuple), L=st.integers(1, 3), S=st.integers(1, 3),
       E=st.integers(1, 3), Ev=st.integers(1, 3), causal=st.booleans(), seed=st.integers(0, 1000))
def test_sdpa_matches_reference_and_gradcheck(batch, L, S, E, Ev, causal, seed):
    q, k, v = rand(batch + (L, E), seed), rand(batch + (S, E), seed + 1), rand(batch + (S, Ev), seed + 2)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    keep = np.tril(np.ones((L, S), bool)) if causal else None
    np.testing.assert_allclose(out._data, reference_sdpa(q._data, k._data, v._data, keep), rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal), (q, k, v))


@given(L=st.integers(1, 3), S=st.integers(1, 3), seed=st.integers(0, 1000), scale=st.sampled_from([None, 0.3]))
def test_sdpa_masks_gradcheck(L, S, seed, scale):
    rng = np.random.default_rng(seed)
    q, k, v = rand((2, L, 2), seed), rand((2, S, 2), seed + 1), rand((2, S, 3), seed + 2)
    keep = rng.random((L, S)) < 0.7
    keep[:, 0] = True  # every row keeps a key (a row with none is tested below)
    bias = rand((2, L, S), seed + 3)  # a float mask is added, and gets a gradient
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=ag.tensor(keep), scale=scale)
    np.testing.assert_allclose(out._data, reference_sdpa(q._data, k._data, v._data, keep, scale=scale),
                               rtol=1e-12, atol=1e-14)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale)
    np.testing.assert_allclose(out._data, reference_sdpa(q._data, k._data, v._data, add=bias._data, scale=scale),
                               rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, b, scale=scale), (q, k, v, bias))
    both = keep & np.tril(np.ones((L, S), bool))
    both[:, 0] = True
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, both), (q, k, v))


def test_sdpa_fully_masked_row_gives_zeros_and_zero_gradient():
    q, k, v = rand((3, 2)), rand((4, 2), 1), rand((4, 2), 2)
    keep = np.ones((3, 4), bool)
    keep[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert not np.isnan(out._data).any() and (out._data[1] == 0).all()
    out.sum().backward()
    assert (q.grad._data[1] == 0).all() and np.isfinite(k.grad._data).all()
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=keep), (q, k, v))


def test_sdpa_gqa_dropout_and_errors():
    q, k, v = rand((1, 4, 3, 2)), rand((1, 2, 5, 2), 1), rand((1, 2, 5, 2), 2)
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    rep = np.repeat(np.arange(2), 2)
    np.testing.assert_allclose(out._data, reference_sdpa(q._data, k._data[:, rep], v._data[:, rep]), rtol=1e-12)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), (q, k, v))
    ag.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0, enable_gqa=True)
    assert (dropped._data == 0).all()
    with pytest.raises(TypeError, match="bool .* or floating"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), np.int64), enable_gqa=True)
    with pytest.raises(RuntimeError, match="should not be set when is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True, enable_gqa=True)
    with pytest.raises(ValueError, match="don't fit together"):
        F.scaled_dot_product_attention(rand((3, 2)), rand((4, 3)), rand((4, 2)))


def test_sdpa_parity_with_torch():
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(0, 1, (2, 2, 3, 4)), rng.normal(0, 1, (2, 2, 5, 4)), rng.normal(0, 1, (2, 2, 5, 3))
    keep = rng.random((3, 5)) < 0.6
    keep[2] = False  # a fully masked row
    fmask = rng.normal(0, 1, (2, 1, 3, 5))
    cases = [dict(), dict(is_causal=True), dict(attn_mask=keep), dict(attn_mask=keep & np.tril(keep | True)),
             dict(attn_mask=fmask), dict(scale=0.2, attn_mask=fmask), dict(scale=0.3, is_causal=True)]
    for kw in cases:
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        oq, ok, ov = (ag.Tensor(a, requires_grad=True) for a in (q, k, v))
        tkw = {n: (torch.tensor(a) if isinstance(a, np.ndarray) else a) for n, a in kw.items()}
        t_out = tF.scaled_dot_product_attention(tq, tk, tv, **tkw)
        o_out = F.scaled_dot_product_attention(oq, ok, ov, **kw)
        np.testing.assert_allclose(o_out._data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        cot = rng.normal(0, 1, t_out.shape)
        (t_out * torch.tensor(cot)).sum().backward()
        (o_out * cot).sum().backward()
        for a, b in ((tq, oq), (tk, ok), (tv, ov)):
            np.testing.assert_allclose(b.grad._data, a.grad.numpy(), rtol=1e-9, atol=1e-11)


# -- MultiheadAttention -------------------------------------------------------------------------
def test_mha_parameters_names_and_init():
    ag.manual_seed(0)
    m = nn.MultiheadAttention(8, 2)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    assert not m.in_proj_bias._data.any() and not m.out_proj.bias._data.any()
    a = math.sqrt(6 / (24 + 8))  # Xavier-uniform of the (3E, E) matrix
    assert np.abs(m.in_proj_weight._data).max() <= a and np.abs(m.in_proj_weight._data).max() > 0.8 * a
    assert isinstance(m.out_proj, nn.Linear)
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert [(k, tuple(v.shape)) for k, v in m2.state_dict().items()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 3)), ("v_proj_weight", (8, 5)), ("out_proj.weight", (8, 8))]
    m3 = nn.MultiheadAttention(4, 1, add_bias_kv=True)
    assert [k for k in m3.state_dict()] == ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                            "out_proj.weight", "out_proj.bias"]
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)


@settings(max_examples=10)
@given(L=st.integers(1, 3), S=st.integers(1, 3), N=st.integers(1, 2), heads=st.sampled_from([1, 2]),
       batch_first=st.booleans(), self_attn=st.booleans(), separate=st.booleans(), need_weights=st.booleans(),
       seed=st.integers(0, 1000))
def test_mha_gradcheck(L, S, N, heads, batch_first, self_attn, separate, need_weights, seed):
    ag.manual_seed(seed)
    E = 4
    kdim = 3 if separate else None
    m = nn.MultiheadAttention(E, heads, batch_first=batch_first, kdim=kdim, vdim=kdim, dtype=F64)
    q = rand((N, L, E) if batch_first else (L, N, E), seed)
    if self_attn and not separate:
        args = (q,)
        fn = lambda q, *ps: m(q, q, q, need_weights=need_weights)[0]  # noqa: E731
    else:
        kv = rand((N, S, kdim or E) if batch_first else (S, N, kdim or E), seed + 1)
        args = (q, kv)
        fn = lambda q, kv, *ps: m(q, kv, kv, need_weights=need_weights)[0]  # noqa: E731
    out, w = m(*(args * 3 if len(args) == 1 else args + args[1:]))
    assert out.shape == q.shape
    assert w.shape == (N, L, L if len(args) == 1 else S)
    assert gradcheck(fn, args + tuple(m.parameters()))


def test_mha_key_padding_mask_ignores_the_padded_keys():
    ag.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, dtype=F64)
    q, kv = rand((3, 2, 4), requires_grad=False), rand((5, 2, 4), 1, requires_grad=False)
    kpm = np.zeros((2, 5), bool)
    kpm[0, 3:] = True  # sample 0 has 3 real keys
    out, w = m(q, kv, kv, key_padding_mask=kpm)
    assert (w._data[0, :, 3:] == 0).all() and np.allclose(w._data.sum(-1), 1)
    out3, _ = m(q[:, :1], kv[:3, :1], kv[:3, :1])  # the same as if the padding were not there
    np.testing.assert_allclose(out._data[:, :1], out3._data, rtol=1e-12)
    kpm_f = np.where(kpm, -np.inf, 0.0)
    np.testing.assert_allclose(m(q, kv, kv, key_padding_mask=kpm_f)[0]._data, out._data, rtol=1e-12)


def _mha_cases():
    rng = np.random.default_rng(5)
    L, S, N, heads = 3, 4, 2, 2
    causal = np.triu(np.ones((L, L), bool), 1)
    kpm = np.zeros((N, S), bool)
    kpm[1, -2:] = True
    kpm_self = np.zeros((N, L), bool)
    kpm_self[0, -1] = True
    return [
        dict(),
        dict(batch_first=True),
        dict(self_attn=True),
        dict(self_attn=True, batch_first=True, average_attn_weights=False),
        dict(kdim=3, vdim=5),
        dict(bias=False),
        dict(add_zero_attn=True, key_padding_mask=kpm),
        dict(add_bias_kv=True, attn_mask=rng.random((L, S)) < 0.3),
        dict(key_padding_mask=kpm),
        dict(key_padding_mask=np.where(kpm, -np.inf, 0.0)),
        dict(attn_mask=rng.normal(0, 1, (L, S))),
        dict(attn_mask=rng.normal(0, 1, (N * heads, L, S)), key_padding_mask=np.where(kpm, -1e3, 0.0)),
        dict(self_attn=True, attn_mask=causal, is_causal=True),
        dict(self_attn=True, attn_mask=causal, is_causal=True, need_weights=False),
        dict(self_attn=True, attn_mask=causal, is_causal=True, key_padding_mask=kpm_self, need_weights=False),
        dict(need_weights=False, attn_mask=rng.random((L, S)) < 0.3, key_padding_mask=kpm),
        dict(unbatched=True),
        dict(unbatched=True, self_attn=True, key_padding_mask=np.array([False, False, True])),
        dict(unbatched=True, attn_mask=rng.normal(0, 1, (heads, L, S)), need_weights=False),
    ]


@pytest.mark.parametrize("case", range(len(_mha_cases())))
def test_mha_parity_with_torch(case):
    torch = pytest.importorskip("torch")
    cfg = dict(_mha_cases()[case])
    L, S, N, E, heads = 3, 4, 2, 4, 2
    fwd = {k: cfg.pop(k) for k in ("key_padding_mask", "attn_mask", "need_weights", "average_attn_weights",
                                   "is_causal") if k in cfg}
    self_attn, unbatched = cfg.pop("self_attn", False), cfg.pop("unbatched", False)
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, heads, dtype=torch.float64, **cfg)
    om = nn.MultiheadAttention(E, heads, dtype=F64, **cfg)
    sd = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    assert [(k, v.shape) for k, v in sd.items()] == [(k, tuple(v.shape)) for k, v in om.state_dict().items()]
    om.load_state_dict(sd)
    rng = np.random.default_rng(case)
    bf = cfg.get("batch_first", False)

    def shape(n, d):
        return (n, d) if unbatched else ((N, n, d) if bf else (n, N, d))
    q = rng.normal(0, 1, shape(L, E))
    if self_attn:
        arrays = [q]
    else:
        arrays = [q, rng.normal(0, 1, shape(S, cfg.get("kdim") or E)), rng.normal(0, 1, shape(S, cfg.get("vdim") or E))]
    tin = [torch.tensor(a, requires_grad=True) for a in arrays]
    oin = [ag.Tensor(a, requires_grad=True) for a in arrays]
    targs = tin * 3 if self_attn else tin
    oargs = oin * 3 if self_attn else oin
    tfwd = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in fwd.items()}
    t_out, t_w = tm(*targs, **tfwd)
    o_out, o_w = om(*oargs, **fwd)
    np.testing.assert_allclose(o_out._data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    if t_w is None:
        assert o_w is None
    else:
        np.testing.assert_allclose(o_w._data, t_w.detach().numpy(), rtol=1e-10, atol=1e-12)
    cot = rng.normal(0, 1, tuple(t_out.shape))
    loss_t = (t_out * torch.tensor(cot)).sum() + (0 if t_w is None else (t_w ** 2).sum())
    loss_o = (o_out * cot).sum() + (0 if o_w is None else (o_w ** 2).sum())
    loss_t.backward()
    loss_o.backward()
    for a, b in zip(tin, oin):
        np.testing.assert_allclose(b.grad._data, a.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (name, a), b in zip(tm.named_parameters(), om.parameters()):
        np.testing.assert_allclose(b.grad._data, a.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_mha_fully_masked_row_like_torch():
    """need_weights=True: NaN in that row (plain softmax); need_weights=False: zeros (PyTorch's sdpa path)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    om = nn.MultiheadAttention(4, 2, dtype=F64)
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).normal(0, 1, (3, 2, 4))
    kpm = np.array([[True] * 3, [False, True, True]])
    for need in (True, False):
        t_out = tm(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm), need_weights=need)[0]
        o_out = om(*[ag.Tensor(x)] * 3, key_padding_mask=kpm, need_weights=need)[0]
        np.testing.assert_allclose(o_out._data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        assert np.isnan(o_out._data).any() == need


def test_mha_dropout_and_errors():
    ag.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, dropout=0.5)
    x = ag.randn(3, 2, 4)
    a, b = m(x, x, x)[1]._data, m(x, x, x)[1]._data
    assert not np.allclose(a, b)  # weights dropped in training
    m.eval()
    np.testing.assert_array_equal(m(x, x, x)[1]._data, m(x, x, x)[1]._data)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="2D attn_mask"):
        m(x, x, x, attn_mask=np.zeros((2, 3), bool))
    with pytest.raises(ValueError, match="key_padding_mask of shape"):
        m(x, x, x, key_padding_mask=np.zeros((2, 4), bool))
    with pytest.raises(TypeError, match="bool and floating"):
        m(x, x, x, key_padding_mask=np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match="embedding dimension of 4"):
        m(ag.randn(3, 2, 5), ag.randn(3, 2, 5), ag.randn(3, 2, 5))
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.MultiheadAttention(4, 2, device="cuda")
    assert F.multi_head_attention_forward is nn.attention.multi_head_attention_forward

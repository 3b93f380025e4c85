"""Multi-head attention: ``MultiheadAttention`` and ``multi_head_attention_forward``, as PyTorch.

    attention(Q, K, V) = softmax(Q K^T / sqrt(d) + mask) V,  per head, d = embed_dim / num_heads

Q, K, V are the inputs projected by ``in_proj_weight`` (or ``q/k/v_proj_weight`` when key and value
have other sizes); the heads' outputs are concatenated and projected by ``out_proj``. Masks follow
PyTorch's MultiheadAttention convention: in a bool ``attn_mask`` or ``key_padding_mask``, True
means "may NOT attend" (the opposite of ``F.scaled_dot_product_attention``); float masks are added
to the scores.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

from . import functional as F
from . import init
from .layers import Linear, _dtype
from .module import Module, Parameter, _check_device

__all__ = ["MultiheadAttention", "multi_head_attention_forward"]


def _canonical_mask(mask, name, dtype, other=None, other_name=""):
    """A bool mask (True = masked) as a float array with -inf there and 0 elsewhere; a float mask as is
    (a Tensor that requires grad stays one, so the gradient reaches it). None stays None."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else np.asarray(mask)
    kind = m.dtype.kind
    if kind not in "bf":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got dtype "
                        f"{m.dtype}")
    if other is not None:
        o = other if isinstance(other, Tensor) else np.asarray(other)
        if o.dtype != m.dtype:
            warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                          "instead.", stacklevel=3)
    if kind == "b":
        arr = F._arr(m)
        return np.where(arr, -np.inf, 0.0).astype(dtype)
    if isinstance(m, Tensor) and m.requires_grad:
        return m
    return F._arr(m)


def _pad_last(m):
    """Append one zero column to a mask (for an extra key: add_bias_kv or add_zero_attn)."""
    if isinstance(m, Tensor):
        return ag.pad(m, [(0, 0)] * (m.ndim - 1) + [(0, 1)])
    return np.pad(m, [(0, 0)] * (m.ndim - 1) + [(0, 1)])


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's checks; returns whether the input is batched."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise ValueError(f"MultiheadAttention: for batched (3-D) query, expected key and value to be 3-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and np.ndim(key_padding_mask) != 2:
            raise ValueError(f"MultiheadAttention: for batched (3-D) query, expected key_padding_mask to be None "
                             f"or 2-D but found {np.ndim(key_padding_mask)}-D")
        if attn_mask is not None and np.ndim(attn_mask) not in (2, 3):
            raise ValueError(f"MultiheadAttention: for batched (3-D) query, expected attn_mask to be None, 2-D or "
                             f"3-D but found {np.ndim(attn_mask)}-D")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise ValueError(f"MultiheadAttention: for unbatched (2-D) query, expected key and value to be 2-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and np.ndim(key_padding_mask) != 1:
            raise ValueError(f"MultiheadAttention: for unbatched (2-D) query, expected key_padding_mask to be None "
                             f"or 1-D but found {np.ndim(key_padding_mask)}-D")
        if attn_mask is not None:
            if np.ndim(attn_mask) not in (2, 3):
                raise ValueError(f"MultiheadAttention: for unbatched (2-D) query, expected attn_mask to be None, "
                                 f"2-D or 3-D but found {np.ndim(attn_mask)}-D")
            if np.ndim(attn_mask) == 3:
                want = (num_heads, query.shape[0], key.shape[0])
                if tuple(np.shape(attn_mask)) != want:
                    raise ValueError(f"MultiheadAttention: expected attn_mask shape to be {want} but got "
                                     f"{tuple(np.shape(attn_mask))}")
        return False
    raise ValueError(f"MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received "
                     f"{query.ndim}-D query tensor")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on (L, N, E) query and (S, N, E_k), (S, N, E_v) key and value (or unbatched
    (L, E), ...), PyTorch's ``F.multi_head_attention_forward``: returns (output (L, N, E), weights)
    with weights (N, L, S) averaged over heads, (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``.

    With ``need_weights`` a row whose keys are all masked gives NaN, as PyTorch; without, it gives
    zeros (that path goes through ``F.scaled_dot_product_attention``, again as PyTorch).
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v are not supported")
    q_in = F._t(query)
    k_in = q_in if key is query else F._t(key)
    value = k_in if value is key else q_in if value is query else F._t(value)
    query, key = q_in, k_in
    if key_padding_mask is not None and not isinstance(key_padding_mask, Tensor):
        key_padding_mask = np.asarray(key_padding_mask)
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        attn_mask = np.asarray(attn_mask)
    is_batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    same = query is key and key is value
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask[None]
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    dtype = query.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", dtype, attn_mask, "attn_mask")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint is enough for scaled_dot_product_attention
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", dtype)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"MultiheadAttention: was expecting embedding dimension of {embed_dim_to_check}, but got "
                         f"{embed_dim} (query shape {tuple(query.shape)})")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise ValueError(f"MultiheadAttention: key's sequence and batch dims {tuple(key.shape[:2])} do not "
                             f"match value's {tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise ValueError(f"MultiheadAttention: key shape {tuple(key.shape)} does not match value shape "
                         f"{tuple(value.shape)}")

    # in-projection
    E = embed_dim
    b = [None] * 3 if in_proj_bias is None else [in_proj_bias[i * E:(i + 1) * E] for i in range(3)]
    if not use_separate_proj_weight:
        if same:  # self-attention: one product, then the three parts
            proj = ag.linear(query, in_proj_weight, in_proj_bias)
            q, k, v = proj[..., :E], proj[..., E:2 * E], proj[..., 2 * E:]
        else:
            w = [in_proj_weight[i * E:(i + 1) * E] for i in range(3)]
            q, k, v = ag.linear(query, w[0], b[0]), ag.linear(key, w[1], b[1]), ag.linear(value, w[2], b[2])
    else:
        q = ag.linear(query, q_proj_weight, b[0])
        k = ag.linear(key, k_proj_weight, b[1])
        v = ag.linear(value, v_proj_weight, b[2])

    if attn_mask is not None:
        if np.ndim(attn_mask) == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ValueError(f"MultiheadAttention: the shape of the 2D attn_mask is {tuple(attn_mask.shape)}, "
                                 f"but should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask[None]
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise ValueError(f"MultiheadAttention: the shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but "
                             f"should be {(bsz * num_heads, tgt_len, src_len)}.")

    if bias_k is not None and bias_v is not None:
        k = ag.cat([k, ag.broadcast_to(bias_k.reshape(1, 1, E), (1, bsz, E))], 0)
        v = ag.cat([v, ag.broadcast_to(bias_v.reshape(1, 1, E), (1, bsz, E))], 0)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must be given together")

    # heads: (L, N, E) -> (N * heads, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).swapaxes(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).swapaxes(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).swapaxes(0, 1)
    if add_zero_attn:
        zeros = np.zeros((bsz * num_heads, 1, head_dim), k.dtype)
        k = ag.cat([k, zeros], 1)
        v = ag.cat([v, zeros.astype(v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ValueError(f"MultiheadAttention: expected key_padding_mask of shape {(bsz, src_len)} (batch, "
                             f"source length), got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        if isinstance(kpm, Tensor):
            kpm = ag.broadcast_to(kpm, (bsz, num_heads, 1, src_len)).reshape(bsz * num_heads, 1, src_len)
        else:
            kpm = np.broadcast_to(kpm, (bsz, num_heads, 1, src_len)).reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = ag.matmul(q * math.sqrt(1.0 / head_dim), k.swapaxes(-1, -2))
        if attn_mask is not None:
            scores = scores + attn_mask
        with np.errstate(invalid="ignore"):  # a fully masked row is NaN, as PyTorch (silently, as there)
            weights = ag.softmax(scores, axis=-1)
        if dropout_p > 0.0:
            weights = ag.dropout(weights, dropout_p, training=True)
        out = ag.matmul(weights, v)                                  # (N * heads, L, head_dim)
        out = out.swapaxes(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = ag.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = attn_mask[None] if attn_mask.shape[0] == 1 else attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = ag.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


class MultiheadAttention(Module):
    """Multi-head attention, as ``torch.nn.MultiheadAttention``.

    Parameters (PyTorch's names): ``in_proj_weight`` (3 E, E) Xavier-uniform and ``in_proj_bias`` (3 E,)
    zeros, or ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when
    ``kdim`` or ``vdim`` differ from E; ``out_proj`` a Linear(E, E) with zero bias; with
    ``add_bias_kv``, ``bias_k`` and ``bias_v`` (1, 1, E), Xavier-normal, appended to key and value as
    one more position. ``add_zero_attn`` appends a zero key/value position.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)``: query (L, N, E), key (S, N, kdim), value (S, N, vdim)
    ((N, L, E) ... with ``batch_first``; (L, E) ... unbatched). ``key_padding_mask`` (N, S): True (or
    -inf) marks keys to ignore; ``attn_mask`` (L, S) or (N * num_heads, L, S): True (or -inf) forbids a
    pair, other floats are added. ``is_causal`` is a hint that ``attn_mask`` is the causal mask (it is
    required, as PyTorch). Returns (output (L, N, E), weights (N, L, S), averaged over heads, or
    (N, num_heads, L, S), or None when ``need_weights=False``). ``dropout`` applies to the weights in
    training.

    >>> import autograd_core as ag, nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = ag.randn(3, 5, 8)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        _check_device(device, "MultiheadAttention")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        dt = _dtype(dtype)
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dt))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dt))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dt))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dt))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dt))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    reset_parameters = _reset_parameters

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        q_in = F._t(query)
        k_in = q_in if key is query else F._t(key)
        value = k_in if value is key else q_in if value is query else F._t(value)
        query, key = q_in, k_in
        is_batched = query.ndim == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype, attn_mask,
                                           "attn_mask")
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if self.batch_first and is_batched:
            # keep "key is value" / "query is key": they choose the packed self-attention projection
            if key is value:
                if query is key:
                    query = key = value = query.swapaxes(0, 1)
                else:
                    query, key = query.swapaxes(0, 1), key.swapaxes(0, 1)
                    value = key
            else:
                query, key, value = query.swapaxes(0, 1), key.swapaxes(0, 1), value.swapaxes(0, 1)
        kw = dict(training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
                  attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal)
        if not self._qkv_same_embed_dim:
            kw.update(use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight,
                      k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight)
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            **kw)
        if self.batch_first and is_batched:
            out = out.swapaxes(0, 1)
        return out, weights

    def extra_repr(self):
        return ""

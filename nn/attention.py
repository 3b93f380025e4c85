"""Multi-head attention: ``MultiheadAttention``, as PyTorch (its math is ``F.multi_head_attention_forward``).

    attention(Q, K, V) = softmax(Q K^T / sqrt(d) + mask) V,  per head, d = embed_dim / num_heads

Q, K, V are the inputs projected by ``in_proj_weight`` (or ``q/k/v_proj_weight`` when key and value
have other sizes); the heads' outputs are concatenated and projected by ``out_proj``. Masks follow
PyTorch's MultiheadAttention convention: in a bool ``attn_mask`` or ``key_padding_mask``, True
means "may NOT attend" (the opposite of ``F.scaled_dot_product_attention``); float masks are added
to the scores.

It also stands for the package ``torch.nn.attention``: ``sdpa_kernel`` and ``SDPBackend`` choose among
PyTorch's attention kernels; here ``F.scaled_dot_product_attention`` has one implementation, so the
choice is checked and has no other effect.
"""
from __future__ import annotations

import contextlib
import enum
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from autograd_core.tensor import Tensor

from . import functional as F
from . import init
from .layers import Linear, NonDynamicallyQuantizableLinear, _dtype
from .module import Module, Parameter, _check_device

__all__ = ["MultiheadAttention", "multi_head_attention_forward", "SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.Enum):
    """PyTorch's scaled-dot-product-attention kernels (for ``sdpa_kernel``)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """``with sdpa_kernel(SDPBackend.MATH): ...`` as in PyTorch: checks ``backends`` (one or a list of
    ``SDPBackend``); the one implementation here serves every choice.

    >>> with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
    ...     pass
    """
    chosen = list(backends) if isinstance(backends, (list, tuple, set)) else [backends]
    bad = [b for b in chosen if not isinstance(b, SDPBackend)]
    if bad or not chosen:
        raise TypeError(f"sdpa_kernel: backends must be SDPBackend values (or a list of them), got {backends!r}")
    yield

multi_head_attention_forward = F.multi_head_attention_forward


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

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
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
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dt))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dt))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """Initialize as PyTorch: the input projections Xavier-uniform, ``in_proj_bias`` and
        ``out_proj.bias`` zeros, ``bias_k`` / ``bias_v`` Xavier-normal; in place.
        (``out_proj.weight`` keeps its Linear init.)

        >>> import nn
        >>> mha = nn.MultiheadAttention(4, 2)
        >>> mha.reset_parameters()
        >>> mha.in_proj_bias
        Parameter containing:
        tensor([0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.], requires_grad=True)
        """
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)  # type: ignore[arg-type]  # present when in_proj_bias is
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    reset_parameters = _reset_parameters

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        q_in = F._t(query)
        k_in = q_in if key is query else F._t(key)
        value = k_in if value is key else q_in if value is query else F._t(value)
        query, key = q_in, k_in
        is_batched = query.ndim == 3
        key_padding_mask = F._canonical_mask(key_padding_mask, "key_padding_mask", query.dtype, attn_mask,
                                           "attn_mask")
        attn_mask = F._canonical_mask(attn_mask, "attn_mask", query.dtype)
        if self.batch_first and is_batched:
            # keep "key is value" / "query is key": they choose the packed self-attention projection
            if key is value:
                if query is key:
                    query = key = value = query.swapaxes(0, 1)  # type: ignore[attr-defined, unused-ignore]
                else:
                    query, key = query.swapaxes(0, 1), key.swapaxes(0, 1)  # type: ignore[attr-defined, unused-ignore]
                    value = key
            else:
                query, key, value = (query.swapaxes(0, 1),  # type: ignore[attr-defined, unused-ignore]
                                     key.swapaxes(0, 1),  # type: ignore[attr-defined, unused-ignore]
                                     value.swapaxes(0, 1))  # type: ignore[attr-defined, unused-ignore]
        kw = dict(training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
                  attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal)
        if not self._qkv_same_embed_dim:
            kw.update(use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight,
                      k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight)
        out: Any  # Tensor's methods (swapaxes, ...) are attached at import, unseen by mypy
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            **kw)
        if self.batch_first and is_batched:
            out = out.swapaxes(0, 1)
        return out, weights

    def extra_repr(self):
        return ""

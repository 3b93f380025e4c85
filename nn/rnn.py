"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and the single-step ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Arguments, shapes, gate order, initialization and parameter names follow PyTorch, so state dicts
load either way. The recurrences, with x the input and h the state of one step (sigma: sigmoid):

    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)            (or relu)
    LSTM  i, f, g, o = chunks of W_ih x + b_ih + W_hh h + b_hh
          c' = sigma(f) c + sigma(i) tanh(g),  h' = sigma(o) tanh(c')
    GRU   r, z, n' = chunks of W_ih x + b_ih  and  hr, hz, hn = chunks of W_hh h + b_hh
          r = sigma(r + hr),  z = sigma(z + hz),  n = tanh(n' + r hn),  h' = (1 - z) n + z h

The input projection W_ih x + b_ih of every step is one product per layer and direction. The time loop
over it is one op (``autograd_core.ops.recurrent``: ``lstm_sequence``, ``gru_sequence``, ``rnn_sequence``,
whose rule runs backpropagation through time and makes W_hh's gradient one product over all steps).
With packed sequences (lengths to stop at) or an LSTM projection, the loop is plain Python over
taped steps instead: one product with W_hh per step and, for LSTM and GRU, one op for the rest
(``lstm_pointwise``, ``gru_pointwise``); the cells (``LSTMCell``, ...) take that step too.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

import autograd_core as ag

from autograd_core.ops.recurrent import gru_pointwise, gru_sequence, lstm_pointwise, lstm_sequence, rnn_sequence
from autograd_core.tensor import Tensor

from . import functional as F
from . import init
from .layers import _dtype
from .rnn_utils import PackedSequence, pack_padded_sequence, pad_packed_sequence
from .module import Module, Parameter, _check_device

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# -- one step of each recurrence (xw = W_ih x + b_ih (N, G H) or (G H,), h (N, H) or (H,)) -------------
def _rnn_step(xw, h, w_hh, b_hh, relu=False):
    pre = xw + ag.linear(h, w_hh, b_hh)
    return ag.relu(pre) if relu else ag.tanh(pre)


def _lstm_step(xw, h, c, w_hh, b_hh):
    hc = lstm_pointwise(xw + ag.linear(h, w_hh, b_hh), c)
    H = c.shape[-1]
    return hc[..., :H], hc[..., H:]


def _gru_step(xw, h, w_hh, b_hh):
    return gru_pointwise(xw, ag.linear(h, w_hh, b_hh), h)


def _int_arg(v, who, what):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{who}: {what} should be of type int, got: {type(v).__name__}")
    if v <= 0:
        raise ValueError(f"{who}: {what} must be greater than zero, got {v}")
    return int(v)


def _as_input(t, who, what):
    if isinstance(t, (tuple, list)) and what == "input":
        raise TypeError(f"{who}: expected the input as one tensor (L, N, H_in), got a {type(t).__name__}; "
                        "packed sequences are not supported: pad the batch to one length instead")
    return F._t(t)


# -- multi-layer recurrent networks -------------------------------------------------------------
class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters, checks, the layer/direction loop.

    Parameters per layer k and direction (suffix ``_reverse`` for the backward one), as PyTorch:
    ``weight_ih_l{k}`` (G H, I_k), ``weight_hh_l{k}`` (G H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G H,),
    with G = 1, 4, 3 gates for RNN, LSTM, GRU and I_k = input_size for k = 0 else H * directions;
    an LSTM with ``proj_size`` P also has ``weight_hr_l{k}`` (P, H), and P replaces H in ``weight_hh``'s
    second dim and in I_k; all start as U(-1/sqrt(H), 1/sqrt(H)). ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU';
    build the subclasses rather than this.

    >>> import nn
    >>> lstm = nn.LSTM(3, 5, num_layers=2)
    >>> isinstance(lstm, nn.RNNBase), lstm.mode
    (True, 'LSTM')
    >>> [(name, p.shape) for name, p in lstm.named_parameters()][:4]
    [('weight_ih_l0', (20, 3)), ('weight_hh_l0', (20, 5)), ('bias_ih_l0', (20,)), ('bias_hh_l0', (20,))]
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        who = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        _check_device(device, who)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError(f"{who}: dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        for v, what in ((bias, "bias"), (batch_first, "batch_first"), (bidirectional, "bidirectional")):
            if not isinstance(v, bool):
                raise TypeError(f"{who}: {what} should be of type bool, got: {type(v).__name__}")
        if proj_size != 0:
            if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)) or proj_size < 0:
                raise ValueError(f"{who}: proj_size should be a positive integer or zero to disable projections")
            if mode != "LSTM":
                raise ValueError(f"{who}: proj_size argument is only supported for LSTM, not RNN or GRU")
            if proj_size >= hidden_size:
                raise ValueError(f"{who}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})")
        self.mode = mode
        self.input_size = _int_arg(input_size, who, "input_size")
        self.hidden_size = _int_arg(hidden_size, who, "hidden_size")
        self.num_layers = _int_arg(num_layers, who, "num_layers")
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = int(proj_size)
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        dt = _dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        real_hidden = self.proj_size or hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes: list[tuple[str, tuple[int, ...]]] = [("weight_ih", (gate_size, layer_input)),
                                                             ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(np.empty(shape, dt)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias anew from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in place.

        >>> import nn
        >>> gru = nn.GRU(2, 4)
        >>> gru.reset_parameters()
        >>> all(bool((p.abs() <= 0.5).all()) for p in gru.parameters())
        True
        """
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op (PyTorch packs the weights for cuDNN here); kept so scripts that call it run.

        >>> import nn
        >>> nn.LSTM(2, 3).flatten_parameters()
        """

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters, one list per layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        p = self._parameters
        return (p[f"weight_ih_l{layer}{suffix}"], p[f"weight_hh_l{layer}{suffix}"],
                p.get(f"bias_ih_l{layer}{suffix}"), p.get(f"bias_hh_l{layer}{suffix}"),
                p.get(f"weight_hr_l{layer}{suffix}"))

    def _name(self):
        return type(self).__name__

    def _prepare(self, input):
        """Check ``input``; return (batch-major-or-not input with a batch dim, batched?, N, L)."""
        x = _as_input(input, self._name(), "input")
        if x.ndim not in (2, 3):
            raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got {x.ndim}D instead "
                             f"(shape {tuple(x.shape)}; expected (L, N, H_in), (N, L, H_in) with batch_first=True, "
                             "or (L, H_in) unbatched)")
        batched = x.ndim == 3
        bdim = 0 if self.batch_first else 1
        if not batched:
            x = x.unsqueeze(bdim)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{self._name()}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]} (input shape {tuple(input.shape)})")
        N, L = x.shape[bdim], x.shape[1 - bdim]
        if L == 0:
            raise ValueError(f"{self._name()}: the input sequence is empty (input shape {tuple(input.shape)})")
        return x, batched, N, L

    def _unpack(self, input):
        """(padded input, lengths or None, the packed input or None) for a plain or packed input."""
        if isinstance(input, PackedSequence):
            padded, lengths = pad_packed_sequence(input, batch_first=self.batch_first)
            return padded, lengths._data, input
        return input, None, None

    def _repack(self, out, lengths, packed):
        """The output packed like the input (or as it is, for a plain input)."""
        if packed is None:
            return out
        return pack_padded_sequence(out, lengths, batch_first=self.batch_first,
                                    enforce_sorted=packed.sorted_indices is None)

    def _state(self, h, batched, N, dtype, what="hx", expected_name="hidden size", size=None):
        """An initial state (layers * directions, N, H) (H: ``size``, default hidden_size): zeros for None,
        else checked (and given a batch dim)."""
        shape = (self.num_layers * (2 if self.bidirectional else 1), N, size or self.hidden_size)
        if h is None:
            return ag.zeros(*shape, dtype=dtype)
        if isinstance(h, (tuple, list)):
            raise TypeError(f"{self._name()}: {what} must be one tensor {shape}, got a {type(h).__name__} (a pair "
                            "(h_0, c_0) is LSTM's state)")
        h = F._t(h)
        if batched and h.ndim != 3:
            raise RuntimeError(f"{self._name()}: for batched 3-D input, {what} should also be 3-D but got a "
                               f"{h.ndim}-D tensor")
        if not batched:
            if h.ndim != 2:
                raise RuntimeError(f"{self._name()}: for unbatched 2-D input, {what} should also be 2-D but got a "
                                   f"{h.ndim}-D tensor")
            h = h.unsqueeze(1)
        if tuple(h.shape) != shape:
            raise RuntimeError(f"{self._name()}: Expected {expected_name} {shape}, got {list(h.shape)}")
        return h

    def _run(self, x, N, L, states, lengths=None):
        """The layer/direction loop. ``states``: the initial states, (h0,) or (h0, c0), each
        (layers * directions, N, H). Returns (output (L, N, D H) or batch-first, final states).
        ``lengths`` (a packed input's, one per sequence): a sequence's state stops changing after its
        last step (and a reversed direction starts there)."""
        mode = self.mode
        live = None if lengths is None else [ag.tensor((lengths > t).reshape(-1, 1)) for t in range(L)]
        D = 2 if self.bidirectional else 1
        bf = self.batch_first
        finals = [[] for _ in states]
        drop = self.dropout if self.training else 0.0
        inp = x             # (L, N, I) or (N, L, I): the layer's input, all steps
        for layer in range(self.num_layers):
            per_dir = []
            for d in range(D):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._params(layer, d)
                k = layer * D + d
                st = [s[k] for s in states]
                xw = ag.linear(inp, w_ih, b_ih)         # every step's input projection in one product
                if live is None and w_hr is None:
                    # the whole time loop as one op (no packed lengths to stop at, no projection)
                    seq, fin = self._sequence(xw.transpose(0, 1) if bf else xw, st, w_hh, b_hh, d == 1)
                    per_dir.append(seq.transpose(0, 1) if bf else seq)
                    for f, s in zip(finals, fin):
                        f.append(s)
                    continue
                outs = [None] * L
                for t in (range(L) if d == 0 else range(L - 1, -1, -1)):
                    xt = xw[:, t] if bf else xw[t]
                    if mode == "LSTM":
                        new = list(_lstm_step(xt, st[0], st[1], w_hh, b_hh))
                        if w_hr is not None:        # projection: h = W_hr (o * tanh(c))
                            new[0] = new[0] @ w_hr.T
                    elif mode == "GRU":
                        new = [_gru_step(xt, st[0], w_hh, b_hh)]
                    else:
                        new = [_rnn_step(xt, st[0], w_hh, b_hh, relu=mode == "RNN_RELU")]
                    st = new if live is None else [ag.where(live[t], a, b) for a, b in zip(new, st)]
                    outs[t] = st[0]
                per_dir.append(ag.stack(outs, 1 if bf else 0))
                for f, s in zip(finals, st):
                    f.append(s)
            inp = per_dir[0] if D == 1 else ag.cat(per_dir, -1)
            if drop > 0 and layer < self.num_layers - 1:
                inp = F.dropout(inp, drop, True)
        return inp, [ag.stack(f, 0) for f in finals]

    def _sequence(self, xw, st, w_hh, b_hh, reverse):
        """One layer and direction over time-major xw (L, N, G H): (outputs (L, N, H), final states)."""
        H = self.hidden_size
        last = 0 if reverse else -1
        if self.mode == "LSTM":
            hc = lstm_sequence(xw, st[0], st[1], w_hh, b_hh, reverse=reverse)
            return hc[..., :H], [hc[last, :, :H], hc[last, :, H:]]
        if self.mode == "GRU":
            h = gru_sequence(xw, st[0], w_hh, b_hh, reverse=reverse)
        else:
            h = rnn_sequence(xw, st[0], w_hh, b_hh, relu=self.mode == "RNN_RELU", reverse=reverse)
        return h, [h[last]]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (``nonlinearity='relu'``: relu), stacked
    ``num_layers`` deep, optionally bidirectional, with ``dropout`` on the outputs of every layer but
    the last (training only).

    ``forward(input, hx=None)``: input (L, N, H_in) ((N, L, H_in) with ``batch_first``, (L, H_in)
    unbatched), hx (D * num_layers, N, H) (zeros if None). Returns (output (L, N, D * H), h_n
    (D * num_layers, N, H)), D = 2 if bidirectional else 1. Argument order as PyTorch: ``RNN(input_size,
    hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``.

    >>> import autograd_core as ag, nn
    >>> out, h = nn.RNN(3, 5, num_layers=2)(ag.zeros(7, 4, 3))
    >>> out.shape, h.shape
    ((7, 4, 5), (2, 4, 5))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        input, lengths, packed = self._unpack(input)
        x, batched, N, L = self._prepare(input)
        h0 = self._state(hx, batched, N, x.dtype)
        out, (h_n,) = self._run(x, N, L, [h0], lengths)
        if not batched:
            return out.squeeze(0 if self.batch_first else 1), h_n.squeeze(1)
        return self._repack(out, lengths, packed), h_n


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gate order i, f, g, o (input, forget, cell, output):

        i, f, g, o = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh   (split in 4 along the features)
        c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g),   h_t = sigmoid(o) tanh(c_t)

    ``forward(input, hx=None)``, hx = (h_0, c_0), each (D * num_layers, N, H) (zeros if None).
    Returns (output (L, N, D * H), (h_n, c_n)); shapes, ``batch_first``, unbatched input and dropout
    as ``RNN``. ``proj_size`` > 0 (smaller than H) projects each hidden state, h_t = W_hr (sigmoid(o)
    tanh(c_t)) with ``weight_hr_l{k}`` (proj_size, H): h_0, h_n and the output then have proj_size
    features per direction (c stays H).

    >>> import autograd_core as ag, nn
    >>> out, (h, c) = nn.LSTM(3, 5, batch_first=True, bidirectional=True)(ag.zeros(4, 7, 3))
    >>> out.shape, h.shape, c.shape
    ((4, 7, 10), (2, 4, 5), (2, 4, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: DTypeLike | None = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def forward(self, input: Any,
                hx: tuple[Tensor, Tensor] | None = None) -> tuple[Any, tuple[Tensor, Tensor]]:
        input, lengths, packed = self._unpack(input)
        x, batched, N, L = self._prepare(input)
        if hx is None:
            h0 = c0 = None
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            h0, c0 = hx
        h0 = self._state(h0, batched, N, x.dtype, "hx", "hidden size", self.proj_size or self.hidden_size)
        c0 = self._state(c0, batched, N, x.dtype, "cx", "hidden[1] size")
        out, (h_n, c_n) = self._run(x, N, L, [h0, c0], lengths)
        if not batched:
            return out.squeeze(0 if self.batch_first else 1), (h_n.squeeze(1), c_n.squeeze(1))
        return self._repack(out, lengths, packed), (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gate order r, z, n (reset, update, new):

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r (W_hn h + b_hn)),   h' = (1 - z) n + z h

    ``forward(input, hx=None)`` and the shapes as ``RNN``.

    >>> import autograd_core as ag, nn
    >>> out, h = nn.GRU(3, 5)(ag.zeros(7, 3))        # unbatched
    >>> out.shape, h.shape
    ((7, 5), (1, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: DTypeLike | None = None, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU: unexpected keyword arguments {sorted(kwargs)}")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        input, lengths, packed = self._unpack(input)
        x, batched, N, L = self._prepare(input)
        h0 = self._state(hx, batched, N, x.dtype)
        out, (h_n,) = self._run(x, N, L, [h0], lengths)
        if not batched:
            return out.squeeze(0 if self.batch_first else 1), h_n.squeeze(1)
        return self._repack(out, lengths, packed), h_n


# -- single steps -------------------------------------------------------------------------------
class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (G H, I), ``weight_hh`` (G H, H), ``bias_ih``, ``bias_hh`` (G H,),
    all U(-1/sqrt(H), 1/sqrt(H)), as PyTorch; G = ``num_chunks`` = 1, 4, 3 gates for RNNCell,
    LSTMCell, GRUCell (build those rather than this).

    >>> import nn
    >>> cell = nn.LSTMCell(3, 5)
    >>> isinstance(cell, nn.RNNCellBase), cell.weight_ih.shape, cell.weight_hh.shape
    (True, (20, 3), (20, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        who = type(self).__name__
        _check_device(device, who)
        self.input_size = _int_arg(input_size, who, "input_size")
        self.hidden_size = _int_arg(hidden_size, who, "hidden_size")
        self.bias = bias
        dt = _dtype(dtype)
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), dt))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size), dt))
        if bias:
            self.bias_ih = Parameter(np.empty(num_chunks * hidden_size, dt))
            self.bias_hh = Parameter(np.empty(num_chunks * hidden_size, dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias anew from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in place.

        >>> import nn
        >>> cell = nn.GRUCell(2, 4)
        >>> cell.reset_parameters()
        >>> all(bool((p.abs() <= 0.5).all()) for p in cell.parameters())
        True
        """
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _prepare(self, input, hx):
        """(input with a batch dim, batched?, hx list with batch dims or None)."""
        who = type(self).__name__
        x = F._t(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{who}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{who}: input has inconsistent input_size: got {x.shape[-1]} expected "
                               f"{self.input_size}")
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)
        states = None
        if hx is not None:
            states = []
            for h in (hx if isinstance(hx, (tuple, list)) else (hx,)):
                h = F._t(h)
                given = tuple(h.shape)
                if h.ndim not in (1, 2):
                    raise ValueError(f"{who}: Expected hidden to be 1D or 2D, got {h.ndim}D instead")
                if not batched:
                    h = h.unsqueeze(0)
                if tuple(h.shape) != (x.shape[0], self.hidden_size):
                    want = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
                    raise RuntimeError(f"{who}: expected a hidden state of shape {want} for input shape "
                                       f"{tuple(F._t(input).shape)}, got {given}")
                states.append(h)
        return x, batched, states

    def _zeros(self, x):
        return ag.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).
    ``forward(input (N, I) or (I,), hx (N, H) or (H,) = zeros) -> h'``.

    >>> import autograd_core as ag, nn
    >>> nn.RNNCell(3, 5)(ag.zeros(4, 3)).shape
    (4, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: DTypeLike | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched, st = self._prepare(input, hx)
        h = self._zeros(x) if st is None else st[0]
        h = _rnn_step(ag.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                      relu=self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o, as ``LSTM``). ``forward(input, hx=(h, c) = zeros) -> (h', c')``.

    >>> import autograd_core as ag, nn
    >>> h, c = nn.LSTMCell(3, 5)(ag.zeros(4, 3))
    >>> h.shape, c.shape
    ((4, 5), (4, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        x, batched, st = self._prepare(input, hx)
        if st is None:
            st = [self._zeros(x), self._zeros(x)]
        h, c = _lstm_step(ag.linear(x, self.weight_ih, self.bias_ih), st[0], st[1], self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n, as ``GRU``). ``forward(input, hx = zeros) -> h'``.

    >>> import autograd_core as ag, nn
    >>> nn.GRUCell(3, 5)(ag.zeros(3)).shape
    (5,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched, st = self._prepare(input, hx)
        h = self._zeros(x) if st is None else st[0]
        h = _gru_step(ag.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)

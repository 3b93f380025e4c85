"""Differential fuzzing of whole training loops against PyTorch.

Hypothesis draws a small model (MLPs, 1-d / 2-d conv nets with transposed convs, norms and pools,
embedding + RNN / attention / transformer sequence models with weight tying, embedding bags), a
loss with its options, an optimizer with parameter groups, a learning-rate scheduler, gradient
clipping and the loop's options (train / eval per step, frozen parameters, gradient accumulation
over two backward calls, ``zero_grad(set_to_none=...)``, ``add_param_group``, and a round trip of
the optimizer's and the scheduler's state dicts mid-training). The loop runs twice, once with
autograd_core / nn / optim and once with torch, from the same float64 weights (our state dict,
copied into the torch model) and the same data. Both runs are generators that yield at the same
points; after every step the test compares the loss, each parameter's ``.grad`` before the step
(after clipping), each parameter and buffer after it, the optimizer's ``state_dict()`` (every
state entry and param-group value PyTorch has), the scheduler's ``get_last_lr()`` and its
``last_epoch`` / ``base_lrs``. Where torch raises, ours must raise the same kind of error at the same
point.

A failing example prints the drawn configuration as Python (``note``): the model's class, the
optimizer, scheduler and loss calls, with the loop's options and the data's seed as comments.
"""
import copy
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings, strategies as st

torch = pytest.importorskip("torch")

import autograd_core as ag  # noqa: E402
import nn as our_nn  # noqa: E402
import nn.functional as our_F  # noqa: E402
import optim as our_optim  # noqa: E402

# The profile (tests/conftest.py) sets the base count: 15 examples under `ci`, 60 under `dev`.
# A loop takes 10-400 ms with both libraries; the tests draw 1-8 times the base: about 270 loops in all
# under `ci`, 30-45 s on a 2-core machine while they pass (1-2 minutes under `dev`).
_BASE = settings().max_examples
_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                        HealthCheck.filter_too_much])
# float64 throughout; a loop of up to 8 steps compounds the rounding of both libraries' (differently
# ordered) sums, so the relative tolerance is a little above one step's.
RTOL, ATOL = 1e-9, 1e-12


class Backend:
    def __init__(self, name, T, nn, F, optim):
        self.name, self.T, self.nn, self.F, self.optim = name, T, nn, F, optim

    def tensor(self, a):
        a = np.asarray(a)
        if self.name == "torch":
            return torch.from_numpy(a.copy())
        return ag.tensor(a.copy())

    def __repr__(self):
        return self.name


OURS = Backend("ours", ag, our_nn, our_F, our_optim)
TORCH = Backend("torch", torch, torch.nn, torch.nn.functional, torch.optim)


def to_np(x):
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        if x.is_sparse:
            x = x.to_dense()
        return x.detach().numpy().copy()
    if isinstance(x, ag.Tensor):
        return np.array(x.detach().numpy(), copy=True)
    return np.asarray(x)


def lit(v):
    """A value as Python source."""
    if isinstance(v, float):
        return repr(round(v, 6)) if v == round(v, 6) else repr(v)
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r})"
    return repr(v)


def call_code(fn, args=(), kw=None):
    parts = [lit(a) for a in args] + [f"{k}={lit(v)}" for k, v in (kw or {}).items()]
    return f"{fn}({', '.join(parts)})"


# -- models ------------------------------------------------------------------------------------
class Layer:
    """``nn.<cls>(*args, **kw)``, applied as ``call`` says: 'plain' (layer(x)), 'rnn' (output of a
    recurrent layer), 'mha' / 'tel' (self-attention with masks), 'bag' (an EmbeddingBag with
    offsets), or a function of x with no weights: 'seqmean', 'seqlast', 'tokens' (x.reshape(-1, C))."""

    def __init__(self, cls, args=(), kw=None, call="plain", opts=None):
        self.cls, self.args, self.kw, self.call, self.opts = cls, tuple(args), dict(kw or {}), call, dict(opts or {})

    def build(self, B):
        return getattr(B.nn, self.cls)(*self.args, **self.kw)

    def code(self):
        return call_code(f"nn.{self.cls}", self.args, self.kw)


def _seq_in(x, batch_first):
    return x if batch_first else x.transpose(0, 1)


def apply_layer(spec, i, layer, x, extra):
    c = spec.call
    if c == "plain":
        return layer(x)
    if c == "rnn":
        bf = spec.kw.get("batch_first", False)
        return _seq_in(layer(_seq_in(x, bf))[0], bf)
    if c == "mha":
        bf = spec.kw.get("batch_first", False)
        q = _seq_in(x, bf)
        y = layer(q, q, q, attn_mask=extra.get(f"attn_mask{i}"), key_padding_mask=extra.get(f"kpm{i}"),
                  need_weights=spec.opts["need_weights"])[0]
        return _seq_in(y, bf)
    if c == "tel":
        bf = spec.kw.get("batch_first", False)
        y = layer(_seq_in(x, bf), src_mask=extra.get(f"attn_mask{i}"), src_key_padding_mask=extra.get(f"kpm{i}"))
        return _seq_in(y, bf)
    if c == "bag":
        return layer(x, extra.get("offsets"), per_sample_weights=extra.get("psw"))
    if c == "seqmean":
        return x.mean(1)
    if c == "seqlast":
        return x[:, -1]
    if c == "tokens":
        return x.reshape(-1, x.shape[-1])
    raise AssertionError(c)


class ModelSpec:
    """Layers in a container ('Sequential', 'ModuleList' or 'ModuleDict'), weight ties (pairs of
    layer numbers: the second one's weight becomes the first one's), an input maker and the
    output's class count."""

    def __init__(self, family, layers, container, inputs, extra=None, ties=(), classes=2, spatial=False):
        self.family, self.layers, self.container, self.spatial = family, layers, container, spatial
        self.inputs = inputs      # rng -> numpy input
        self.extra = extra or {}  # name -> numpy array (masks, offsets, per-sample weights)
        self.ties = tuple(ties)
        self.classes = classes

    def code(self):
        lines = ["class Net(nn.Module):", "    def __init__(self):", "        super().__init__()"]
        items = [lay.code() for lay in self.layers]
        if self.container == "ModuleDict":
            body = ", ".join(f"'l{k}': {c}" for k, c in enumerate(items))
            lines.append(f"        self.body = nn.ModuleDict({{{body}}})")
        else:
            seq = self.container == "Sequential"
            lines.append(f"        self.body = nn.{self.container}(" + ("" if seq else "["))
            lines += [f"            {c}," for c in items]
            lines.append("        )" if seq else "        ])")
        for a, b in self.ties:
            lines.append(f"        layer({b}).weight = layer({a}).weight")
        calls = [f"{k}: {lay.call}" + (f" {lay.opts}" if lay.opts else "") for k, lay in enumerate(self.layers)]
        lines.append(f"    # forward applies each layer in turn: {'; '.join(calls)}")
        for name, a in self.extra.items():
            lines.append(f"# {name} = {lit(a)}")
        return "\n".join(lines)


def build_model(B, spec):
    class Net(B.nn.Module):
        def __init__(self):
            super().__init__()
            mods = [lay.build(B) for lay in spec.layers]
            if spec.container == "ModuleDict":
                self.body = B.nn.ModuleDict({f"l{k}": m for k, m in enumerate(mods)})
            else:
                self.body = B.nn.Sequential(*mods) if spec.container == "Sequential" else B.nn.ModuleList(mods)
            for a, b in spec.ties:
                self.layer(b).weight = self.layer(a).weight

        def layer(self, k):
            return self.body[f"l{k}"] if spec.container == "ModuleDict" else self.body[k]

        def forward(self, x, extra):
            for k, lay in enumerate(spec.layers):
                x = apply_layer(lay, k, self.layer(k), x, extra)
            return x

    return Net()


_ACTS = st.sampled_from([
    ("ReLU", {}), ("GELU", {"approximate": "none"}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}),
    ("Mish", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {"alpha": 0.7}), ("Tanh", {}),
    ("Softplus", {"beta": 2.0, "threshold": 1.5}), ("Hardswish", {}), ("Sigmoid", {}), ("PReLU", {}),
])


def _act(draw, channels):
    name, kw = draw(_ACTS)
    if name == "PReLU" and draw(st.booleans()):
        kw = {"num_parameters": channels, "init": 0.2}
    return Layer(name, (), kw)


def _unbias_before_norm(layers):
    """A bias right before a batch or instance norm has a gradient of 0 up to rounding: a scale-free
    optimizer (Adam, Rprop, ...) blows that noise up to a full step. Such a bias is dropped, back
    through the linear layers (and max pooling) in between, which carry a shift along."""
    for lay in reversed(layers):
        if lay.cls in ("Identity", "Dropout", "Flatten", "Unflatten") or "Pool" in lay.cls:
            continue
        if lay.cls in ("Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"):
            lay.kw["bias"] = False
            continue
        if lay.cls == "LayerNorm":
            lay.kw["bias"] = False
        elif lay.cls.startswith(("BatchNorm", "InstanceNorm", "GroupNorm")):
            lay.kw["affine"] = False
        return


@st.composite
def mlp_models(draw):
    n = draw(st.integers(2, 4))
    width = draw(st.integers(2, 4))
    fin = width
    classes = draw(st.integers(2, 4))
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["linear", "act", "bn", "ln", "gn", "dropout", "identity"]))
        if kind == "linear":
            out = draw(st.integers(2, 5))
            layers.append(Layer("Linear", (width, out), {"bias": draw(st.booleans())}))
            width = out
        elif kind == "act":
            layers.append(_act(draw, width))
        elif kind == "bn":
            _unbias_before_norm(layers)
            layers.append(Layer("BatchNorm1d", (width,), {
                "momentum": draw(st.sampled_from([0.1, 0.5, None])), "affine": draw(st.booleans()),
                "track_running_stats": draw(st.booleans())}))
        # a norm over 2 features gives +-1 whatever its input, and a norm after that divides rounding
        # noise by sqrt(eps): such models are left out by normalizing over 3 features or more
        elif kind == "ln" and width >= 3:
            layers.append(Layer("LayerNorm", (width,), {"elementwise_affine": draw(st.booleans()),
                                                          "eps": draw(st.sampled_from([1e-5, 1e-3]))}))
        elif kind == "gn":
            groups = [g for g in (1, 2) if width % g == 0 and width // g >= 3]
            if groups:
                layers.append(Layer("GroupNorm", (draw(st.sampled_from(groups)), width),
                                    {"affine": draw(st.booleans())}))
        elif kind == "dropout":
            layers.append(Layer("Dropout", (), {"p": 0.0}))
        else:
            layers.append(Layer("Identity"))
    layers.append(Layer("Linear", (width, classes), {"bias": draw(st.booleans())}))
    container = draw(st.sampled_from(["Sequential", "ModuleList", "ModuleDict"]))
    return ModelSpec("mlp", layers, container, lambda rng: rng.standard_normal((n, fin)), classes=classes)


def _conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _pool_out(size, k, s, p, d, ceil):
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


@st.composite
def conv_models(draw):
    dim = draw(st.sampled_from([1, 2]))
    sfx = f"{dim}d"
    n = draw(st.integers(1, 3))
    ch = draw(st.integers(1, 3))
    size = [draw(st.integers(3, 6)) for _ in range(dim)]
    classes = draw(st.integers(2, 4))
    layers = []
    flat_input = draw(st.booleans())
    shape0 = (n, ch, *size)
    if flat_input:
        layers.append(Layer("Unflatten", (1, (ch, *size))))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "convT", "bn", "in", "gn", "act", "maxpool", "avgpool", "adaptive"]))
        if kind == "conv":
            k = draw(st.integers(1, 3))
            d = draw(st.integers(1, 2))
            g = draw(st.sampled_from([g for g in (1, 2, 3) if ch % g == 0]))
            out = g * draw(st.integers(1, 2))
            same = draw(st.booleans())
            if same:
                s, p = 1, "same"
                new = list(size)
            else:
                s, p = draw(st.integers(1, 2)), draw(st.integers(0, 1))
                new = [_conv_out(z, k, s, p, d) for z in size]
            if min(new) < 1:
                continue
            kw = {"stride": s, "padding": p, "dilation": d, "groups": g, "bias": draw(st.booleans())}
            mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
            if mode != "zeros" and (p == 0 or (p == "same" and d * (k - 1) == 0) or min(size) <= 2 * d):
                mode = "zeros"
            if mode != "zeros":
                kw["padding_mode"] = mode
            layers.append(Layer(f"Conv{sfx}", (ch, out, k), kw))
            ch, size = out, new
        elif kind == "convT":
            k = draw(st.integers(1, 3))
            s, p, d = draw(st.integers(1, 2)), draw(st.integers(0, 1)), draw(st.integers(1, 2))
            op = draw(st.integers(0, max(s, d) - 1))
            g = draw(st.sampled_from([g for g in (1, 2) if ch % g == 0]))
            out = g * draw(st.integers(1, 2))
            new = [(z - 1) * s - 2 * p + d * (k - 1) + op + 1 for z in size]
            if min(new) < 1 or max(new) > 8:
                continue
            layers.append(Layer(f"ConvTranspose{sfx}", (ch, out, k), {
                "stride": s, "padding": p, "output_padding": op, "groups": g, "dilation": d,
                "bias": draw(st.booleans())}))
            ch, size = out, new
        elif kind == "bn":
            if n * math.prod(size) < 2:
                continue
            _unbias_before_norm(layers)
            layers.append(Layer(f"BatchNorm{sfx}", (ch,), {
                "momentum": draw(st.sampled_from([0.1, 0.5, None])), "affine": draw(st.booleans()),
                "track_running_stats": draw(st.booleans())}))
        elif kind == "in":
            if math.prod(size) < 2:
                continue
            _unbias_before_norm(layers)
            layers.append(Layer(f"InstanceNorm{sfx}", (ch,), {
                "affine": draw(st.booleans()), "track_running_stats": draw(st.booleans())}))
        elif kind == "gn":
            g = draw(st.sampled_from([g for g in (1, 2, 3) if ch % g == 0]))
            if (ch // g) * math.prod(size) < 2:
                continue
            if g == ch:  # an instance norm
                _unbias_before_norm(layers)
            layers.append(Layer("GroupNorm", (g, ch), {"affine": draw(st.booleans())}))
        elif kind == "act":
            layers.append(_act(draw, ch))
        elif kind in ("maxpool", "avgpool"):
            k = draw(st.integers(1, 3))
            s = draw(st.integers(1, 2))
            p = draw(st.integers(0, k // 2))
            ceil = draw(st.booleans())
            d = draw(st.integers(1, 2)) if kind == "maxpool" else 1
            new = [_pool_out(z, k, s, p, d, ceil) for z in size]
            if min(new) < 1:
                continue
            if kind == "maxpool":
                layers.append(Layer(f"MaxPool{sfx}", (k,), {"stride": s, "padding": p, "dilation": d,
                                                            "ceil_mode": ceil}))
            else:
                layers.append(Layer(f"AvgPool{sfx}", (k,), {"stride": s, "padding": p, "ceil_mode": ceil,
                                                            "count_include_pad": draw(st.booleans())}))
            size = new
        else:
            new = [draw(st.integers(1, z + 1)) for z in size]
            layers.append(Layer(f"AdaptiveAvgPool{sfx}", (tuple(new) if dim == 2 else new[0],)))
            size = new
    spatial = draw(st.booleans())
    if spatial:  # class scores per position: (N, classes, *size)
        layers.append(Layer(f"Conv{sfx}", (ch, classes, 1)))
    else:
        layers.append(Layer("Flatten"))
        layers.append(Layer("Linear", (ch * math.prod(size), classes)))
    container = draw(st.sampled_from(["Sequential", "ModuleList", "ModuleDict"]))

    def inputs(rng):
        x = rng.standard_normal(shape0)
        return x.reshape(n, -1) if flat_input else x
    return ModelSpec(f"conv{sfx}", layers, container, inputs, classes=classes, spatial=spatial)


@st.composite
def sequence_models(draw):
    """Token ids (N, L) -> Embedding -> recurrent / attention / transformer layers (batch first
    in between) -> a pooled (N, C) head, or per-token logits (N*L, V) from a head tied to the
    embedding."""
    n, length = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    vocab = draw(st.integers(3, 6))
    width = draw(st.sampled_from([2, 4]))
    emb_dim = width
    pad = draw(st.sampled_from([None, None, 0, vocab - 1]))
    layers = [Layer("Embedding", (vocab, width), {"padding_idx": pad,
                                                  "scale_grad_by_freq": draw(st.booleans())})]
    extra = {}
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    for _ in range(draw(st.integers(1, 2))):
        i = len(layers)
        kind = draw(st.sampled_from(["rnn", "mha", "tel", "ln", "linear", "act"]))
        if kind == "rnn":
            cls = draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
            hidden = draw(st.integers(1, 3))
            bidir = draw(st.booleans())
            kw = {"num_layers": draw(st.integers(1, 2)), "bidirectional": bidir,
                  "batch_first": draw(st.booleans()), "bias": draw(st.booleans())}
            if cls == "RNN":
                kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
            out = hidden
            if cls == "LSTM" and hidden > 1 and draw(st.booleans()):
                kw["proj_size"] = out = draw(st.integers(1, hidden - 1))
            layers.append(Layer(cls, (width, hidden), kw, call="rnn"))
            width = out * (2 if bidir else 1)
        elif kind in ("mha", "tel"):
            heads = draw(st.sampled_from([h for h in (1, 2) if width % h == 0]))
            bf = draw(st.booleans())
            mask = draw(st.sampled_from(["none", "causal", "float"]))
            if mask == "causal":
                extra[f"attn_mask{i}"] = np.triu(np.ones((length, length), bool), 1)
            elif mask == "float":
                extra[f"attn_mask{i}"] = rng.uniform(-1, 1, (length, length))
            if mask != "float" and length > 1 and draw(st.booleans()):
                # key 0 stays visible, so that no query row is masked out entirely
                kpm = rng.random((n, length)) < 0.5
                kpm[:, 0] = False
                extra[f"kpm{i}"] = kpm
            if kind == "mha":
                kw = {"batch_first": bf, "bias": draw(st.booleans()), "add_bias_kv": draw(st.booleans()),
                      "add_zero_attn": draw(st.booleans())}
                layers.append(Layer("MultiheadAttention", (width, heads), kw, call="mha",
                                    opts={"need_weights": draw(st.booleans())}))
            else:
                kw = {"dim_feedforward": draw(st.integers(2, 4)), "dropout": 0.0,
                      "activation": draw(st.sampled_from(["relu", "gelu"])), "batch_first": bf,
                      "norm_first": draw(st.booleans()), "bias": draw(st.booleans()),
                      "layer_norm_eps": draw(st.sampled_from([1e-5, 1e-3]))}
                layers.append(Layer("TransformerEncoderLayer", (width, heads), kw, call="tel"))
        elif kind == "ln":
            layers.append(Layer("LayerNorm", (width,), {"elementwise_affine": draw(st.booleans()),
                                                          "bias": draw(st.booleans())}))
        elif kind == "linear":
            out = draw(st.sampled_from([2, 4]))
            layers.append(Layer("Linear", (width, out)))
            width = out
        else:
            layers.append(_act(draw, width))
    ties = ()
    if draw(st.booleans()):  # a language model: per-token logits over the vocabulary
        if width == emb_dim and draw(st.booleans()):
            ties = ((0, len(layers)),)
        layers.append(Layer("Linear", (width, vocab), {"bias": draw(st.booleans())}))
        layers.append(Layer("Identity", call="tokens"))
        classes = vocab
    else:
        layers.append(Layer("Identity", call=draw(st.sampled_from(["seqmean", "seqlast"]))))
        classes = draw(st.integers(2, 3))
        layers.append(Layer("Linear", (width, classes)))
    container = draw(st.sampled_from(["ModuleList", "ModuleDict"]))
    return ModelSpec("sequence", layers, container, lambda r: r.integers(0, vocab, (n, length)),
                     extra=extra, ties=ties, classes=classes)


@st.composite
def bag_models(draw):
    vocab, dim = draw(st.integers(3, 6)), draw(st.integers(1, 3))
    bags, total = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    mode = draw(st.sampled_from(["sum", "mean", "max"]))
    pad = draw(st.sampled_from([None, 0]))
    last = draw(st.booleans())
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=bags - 1, max_size=bags - 1)))
    offsets = np.array([0] + cuts + ([total] if last else []), dtype=np.int64)
    extra = {"offsets": offsets}
    if mode == "sum" and draw(st.booleans()):
        extra["psw"] = np.random.default_rng(total).uniform(0.5, 1.5, total)
    classes = draw(st.integers(2, 3))
    layers = [Layer("EmbeddingBag", (vocab, dim), {"mode": mode, "padding_idx": pad,
                                                   "include_last_offset": last}, call="bag"),
              _act(draw, dim), Layer("Linear", (dim, classes))]
    return ModelSpec("bag", layers, "ModuleList", lambda r: r.integers(0, vocab, total), extra=extra,
                     classes=classes)


any_model = st.one_of(mlp_models(), conv_models(), sequence_models(), bag_models())


# -- losses ------------------------------------------------------------------------------------
class LossSpec:
    """``kind`` with keyword options ``kw``; ``module`` picks nn.<Name>Loss over the function;
    ``arrays`` are fixed weights (class weights, pos_weight)."""

    def __init__(self, kind, kw, module, arrays=None, ignore=None):
        self.kind, self.kw, self.module, self.arrays, self.ignore = kind, dict(kw), module, dict(arrays or {}), ignore

    def code(self):
        kw = dict(self.kw)
        kw.update({k: f"<{k}>" for k in self.arrays})
        s = call_code(("nn." + _MODULES[self.kind]) if self.module else "F." + _FUNCS[self.kind], (), kw)
        arrays = "".join(f"\n# {k} = {lit(v)}" for k, v in self.arrays.items())
        return s + arrays

    def targets(self, rng, shape):
        """Targets for an output of ``shape``: (N, C), or (N, C, d1, ...) for a per-position loss."""
        k, n, c = self.kind, shape[0], shape[1]
        if k in ("cross_entropy", "nll", "multi_margin"):
            y = rng.integers(0, c, (n, *shape[2:]))
            if self.ignore is not None:  # one target is ignored, one is not
                y.flat[0] = (self.ignore + 1) % c
                if y.size > 1:
                    y.flat[-1] = self.ignore
            return {"y": y}
        if k in ("ce_probs", "kl_div"):
            z = rng.standard_normal(shape)
            p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
            if k == "kl_div" and self.kw.get("log_target"):
                p = np.log(p)
            return {"y": p}
        if k in ("mse", "l1", "smooth_l1", "huber"):
            return {"y": rng.standard_normal(shape)}
        if k in ("bce", "bce_logits"):
            return {"y": rng.uniform(0, 1, shape)}
        if k == "cosine_embedding":
            return {"x2": rng.standard_normal((n, c)), "y": rng.choice([-1.0, 1.0], n)}
        if k == "margin_ranking":
            return {"y": rng.choice([-1.0, 1.0], n)}
        if k == "triplet":
            return {"pos": rng.standard_normal((n, c)), "neg": rng.standard_normal((n, c))}
        raise AssertionError(k)


_FUNCS = {"cross_entropy": "cross_entropy", "ce_probs": "cross_entropy", "nll": "nll_loss", "mse": "mse_loss",
          "l1": "l1_loss", "smooth_l1": "smooth_l1_loss", "huber": "huber_loss", "bce": "binary_cross_entropy",
          "bce_logits": "binary_cross_entropy_with_logits", "kl_div": "kl_div",
          "cosine_embedding": "cosine_embedding_loss", "margin_ranking": "margin_ranking_loss",
          "triplet": "triplet_margin_loss", "multi_margin": "multi_margin_loss"}
_MODULES = {"cross_entropy": "CrossEntropyLoss", "ce_probs": "CrossEntropyLoss", "nll": "NLLLoss", "mse": "MSELoss",
            "l1": "L1Loss", "smooth_l1": "SmoothL1Loss", "huber": "HuberLoss", "bce": "BCELoss",
            "bce_logits": "BCEWithLogitsLoss", "kl_div": "KLDivLoss", "cosine_embedding": "CosineEmbeddingLoss",
            "margin_ranking": "MarginRankingLoss", "triplet": "TripletMarginLoss", "multi_margin": "MultiMarginLoss"}


# Losses for LBFGS: smooth, with a minimum at finite weights (soft targets), so that its strong-Wolfe
# line search never extrapolates along a nearly straight profile, where the cubic's d1² - g1 g2 is
# rounding noise and its sign picks the next step (in both libraries). Hard class labels are left out
# for that; 'bce' too: LBFGS's steps of lr ~ 1 saturate its sigmoid, where binary_cross_entropy's
# gradient is the exact one and PyTorch's divides by max(p (1 - p), 1e-12) (see its docstring).
_SMOOTH = ("ce_probs", "mse", "bce_logits")
_PER_SAMPLE = ("cross_entropy", "ce_probs", "nll", "mse", "bce", "bce_logits", "kl_div")
_SPATIAL = ("cross_entropy", "ce_probs", "nll", "mse", "l1", "smooth_l1", "huber", "bce", "bce_logits", "kl_div")


@st.composite
def losses(draw, classes, smooth=False, spatial=False, kinds=None):
    """A loss (one of ``kinds``); ``smooth``: one of ``_SMOOTH``, reduced by mean or sum; ``spatial``: one
    that takes (N, C, d1, ...)."""
    kinds = _SMOOTH if smooth else (kinds or _FUNCS)
    kind = draw(st.sampled_from(sorted(k for k in kinds if not spatial or k in _SPATIAL)))
    if kind == "margin_ranking" and classes < 2:
        kind = "mse"
    red = draw(st.sampled_from(["mean", "sum"] if smooth else ["mean", "sum", "none"]))
    kw, arrays, ignore = {"reduction": red}, {}, None
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind in ("cross_entropy", "ce_probs", "nll", "multi_margin") and draw(st.booleans()):
        arrays["weight"] = rng.uniform(0.2, 2.0, classes)
    if kind in ("cross_entropy", "ce_probs"):
        kw["label_smoothing"] = draw(st.sampled_from([0.0, 0.0, 0.1, 0.3]))
    if kind in ("cross_entropy", "nll") and draw(st.booleans()):
        ignore = draw(st.integers(0, classes - 1))
        kw["ignore_index"] = ignore
    if kind == "smooth_l1":
        kw["beta"] = draw(st.sampled_from([1.0, 0.5, 0.0]))
    if kind == "huber":
        kw["delta"] = draw(st.sampled_from([1.0, 0.5, 2.0]))
    if kind == "bce" and not spatial and draw(st.booleans()):  # (C,) weights meet the last dim
        arrays["weight"] = rng.uniform(0.2, 2.0, classes)
    if kind == "bce_logits" and not spatial:
        if draw(st.booleans()):
            arrays["pos_weight"] = rng.uniform(0.2, 3.0, classes)
        if draw(st.booleans()):
            arrays["weight"] = rng.uniform(0.2, 2.0, classes)
    if kind == "kl_div":
        kw["reduction"] = draw(st.sampled_from(["batchmean", "sum", "mean", "none"]))
        kw["log_target"] = draw(st.booleans())
    if kind in ("cosine_embedding", "margin_ranking"):
        kw["margin"] = draw(st.sampled_from([0.0, 0.3, -0.2]))
    if kind == "triplet":
        kw.update(margin=draw(st.sampled_from([1.0, 0.5])), p=draw(st.sampled_from([1.0, 2.0, 3.0])),
                  swap=draw(st.booleans()))
    if kind == "multi_margin":
        kw.update(p=draw(st.sampled_from([1, 2])), margin=draw(st.sampled_from([1.0, 0.5])))
    return LossSpec(kind, kw, draw(st.booleans()), arrays, ignore)


def compute_loss(B, spec, out, t, seed):
    """The loss of output ``out`` (N, C) against targets ``t`` (backend tensors); with
    reduction='none' the loss is summed with fixed random weights into a scalar."""
    F, kw = B.F, dict(spec.kw)
    kw.update({k: B.tensor(v) for k, v in spec.arrays.items()})
    k = spec.kind
    if spec.module:
        fn = getattr(B.nn, _MODULES[k])(**kw)
        kw = {}
    else:
        fn = getattr(F, _FUNCS[k])
    if k in ("cross_entropy", "ce_probs", "multi_margin"):
        loss = fn(out, t["y"], **kw)
    elif k == "nll":
        loss = fn(F.log_softmax(out, 1), t["y"], **kw)
    elif k == "kl_div":
        loss = fn(F.log_softmax(out, 1), t["y"], **kw)
    elif k in ("mse", "l1", "smooth_l1", "huber", "bce_logits"):
        loss = fn(out, t["y"], **kw)
    elif k == "bce":
        loss = fn(B.T.sigmoid(out), t["y"], **kw)
    elif k == "cosine_embedding":
        loss = fn(out, t["x2"], t["y"], **kw)
    elif k == "margin_ranking":
        loss = fn(out[:, 0], out[:, 1], t["y"], **kw)
    elif k == "triplet":
        loss = fn(out, t["pos"], t["neg"], **kw)
    else:
        raise AssertionError(k)
    if tuple(loss.shape) != ():
        w = np.random.default_rng(seed).standard_normal(tuple(loss.shape))
        loss = (loss * B.tensor(w)).sum()
    return loss


# -- optimizers and schedulers -----------------------------------------------------------------
_OPTIMIZERS = {
    "SGD": lambda d: _sgd(d),
    "Adam": lambda d: dict(lr=d(st.sampled_from([0.01, 0.1])), betas=(d(st.sampled_from([0.9, 0.5])),
                                                                       d(st.sampled_from([0.999, 0.9]))),
                           eps=d(st.sampled_from([1e-8, 1e-3])), weight_decay=d(st.sampled_from([0, 0.1])),
                           amsgrad=d(st.booleans()), maximize=d(st.booleans()),
                           decoupled_weight_decay=d(st.booleans())),
    "AdamW": lambda d: dict(lr=d(st.sampled_from([0.01, 0.1])), betas=(0.9, d(st.sampled_from([0.999, 0.9]))),
                            weight_decay=d(st.sampled_from([0, 0.01, 0.3])), amsgrad=d(st.booleans()),
                            maximize=d(st.booleans())),
    "RMSprop": lambda d: dict(lr=d(st.sampled_from([0.01, 0.05])), alpha=d(st.sampled_from([0.99, 0.8])),
                              eps=d(st.sampled_from([1e-8, 1e-2])), weight_decay=d(st.sampled_from([0, 0.1])),
                              momentum=d(st.sampled_from([0, 0.5])), centered=d(st.booleans()),
                              maximize=d(st.booleans())),
    "Adagrad": lambda d: dict(lr=d(st.sampled_from([0.01, 0.1])), lr_decay=d(st.sampled_from([0, 0.1])),
                              weight_decay=d(st.sampled_from([0, 0.1])),
                              initial_accumulator_value=d(st.sampled_from([0.0, 0.5])),
                              eps=d(st.sampled_from([1e-10, 1e-3])), maximize=d(st.booleans())),
    "Adadelta": lambda d: dict(lr=d(st.sampled_from([1.0, 0.5])), rho=d(st.sampled_from([0.9, 0.5])),
                               eps=d(st.sampled_from([1e-6, 1e-3])), weight_decay=d(st.sampled_from([0, 0.1])),
                               maximize=d(st.booleans())),
    "Adamax": lambda d: dict(lr=d(st.sampled_from([0.002, 0.05])), betas=(d(st.sampled_from([0.9, 0.5])), 0.999),
                             eps=d(st.sampled_from([1e-8, 1e-3])), weight_decay=d(st.sampled_from([0, 0.1])),
                             maximize=d(st.booleans())),
    "NAdam": lambda d: dict(lr=d(st.sampled_from([0.002, 0.05])), betas=(0.9, d(st.sampled_from([0.999, 0.9]))),
                            weight_decay=d(st.sampled_from([0, 0.1])),
                            momentum_decay=d(st.sampled_from([0.004, 0.1])),
                            decoupled_weight_decay=d(st.booleans()), maximize=d(st.booleans())),
    "RAdam": lambda d: dict(lr=d(st.sampled_from([0.001, 0.05])), betas=(0.9, d(st.sampled_from([0.999, 0.8]))),
                            weight_decay=d(st.sampled_from([0, 0.1])), decoupled_weight_decay=d(st.booleans()),
                            maximize=d(st.booleans())),
    "ASGD": lambda d: dict(lr=d(st.sampled_from([0.01, 0.1])), lambd=d(st.sampled_from([1e-4, 0.1])),
                           alpha=d(st.sampled_from([0.75, 0.5])), t0=d(st.sampled_from([0.0, 2.0, 1e6])),
                           weight_decay=d(st.sampled_from([0, 0.1])), maximize=d(st.booleans())),
    "Rprop": lambda d: dict(lr=d(st.sampled_from([0.01, 0.1])), etas=(d(st.sampled_from([0.5, 0.3])),
                                                                       d(st.sampled_from([1.2, 1.5]))),
                            step_sizes=(d(st.sampled_from([1e-6, 1e-3])), d(st.sampled_from([50.0, 0.05]))),
                            maximize=d(st.booleans())),
    "Adafactor": lambda d: dict(lr=d(st.sampled_from([0.01, 0.05])), beta2_decay=d(st.sampled_from([-0.8, -0.5])),
                                eps=(d(st.sampled_from([None, 1e-3])), 1e-3), d=d(st.sampled_from([1.0, 0.5])),
                                weight_decay=d(st.sampled_from([0.0, 0.1])), maximize=d(st.booleans())),
}


def _sgd(d):
    kw = dict(lr=d(st.sampled_from([0.01, 0.1])), momentum=d(st.sampled_from([0, 0.5, 0.9])),
              weight_decay=d(st.sampled_from([0, 0.1])), maximize=d(st.booleans()))
    if kw["momentum"]:
        if d(st.booleans()):
            kw["nesterov"] = True
        else:
            kw["dampening"] = d(st.sampled_from([0, 0.3]))
    return kw


_MOMENTUM_OPTS = ("SGD", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam")


class SchedSpec:
    """lr_scheduler.<name>(opt, **kw); SequentialLR and ChainedScheduler over the schedulers ``subs``."""

    def __init__(self, name, kw, subs=()):
        self.name, self.kw, self.subs = name, dict(kw), list(subs)

    def build(self, B, opt):
        S = B.optim.lr_scheduler
        if self.name == "SequentialLR":
            return S.SequentialLR(opt, [s.build(B, opt) for s in self.subs], **self.kw)
        if self.name == "ChainedScheduler":
            return S.ChainedScheduler([s.build(B, opt) for s in self.subs])
        return getattr(S, self.name)(opt, **self.kw)

    def code(self):
        kw = "".join(f", {k}={lit(v)}" for k, v in self.kw.items())
        if not self.subs:
            return f"lr_scheduler.{self.name}(opt{kw})"
        subs = "[" + ", ".join(s.code() for s in self.subs) + "]"
        if self.name == "ChainedScheduler":
            return f"lr_scheduler.ChainedScheduler({subs})"
        return f"lr_scheduler.{self.name}(opt, {subs}{kw})"


class Decay:
    """A picklable multiplicative schedule for LambdaLR / MultiplicativeLR (its __dict__ goes into
    the scheduler's state dict)."""

    def __init__(self, gamma):
        self.gamma = gamma

    def __call__(self, epoch):
        return self.gamma ** epoch

    def __repr__(self):
        return f"Decay({self.gamma})"


@st.composite
def schedulers(draw, opt_name, lr, steps, allow_chain=True):
    names = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
             "OneCycleLR", "CyclicLR", "LinearLR", "ConstantLR", "ReduceLROnPlateau", "LambdaLR",
             "MultiplicativeLR", "PolynomialLR"]
    if allow_chain:
        names += ["SequentialLR", "ChainedScheduler"]
    name = draw(st.sampled_from(names))
    ints = st.integers
    if name == "StepLR":
        return SchedSpec(name, dict(step_size=draw(ints(1, 3)), gamma=draw(st.sampled_from([0.5, 0.1]))))
    if name == "MultiStepLR":
        return SchedSpec(name, dict(milestones=sorted(set(draw(st.lists(ints(1, 5), min_size=1, max_size=3)))),
                                    gamma=0.5))
    if name == "ExponentialLR":
        return SchedSpec(name, dict(gamma=draw(st.sampled_from([0.9, 0.5]))))
    if name == "CosineAnnealingLR":
        return SchedSpec(name, dict(T_max=draw(ints(1, 6)), eta_min=draw(st.sampled_from([0.0, lr / 10]))))
    if name == "CosineAnnealingWarmRestarts":
        return SchedSpec(name, dict(T_0=draw(ints(1, 3)), T_mult=draw(ints(1, 2)),
                                    eta_min=draw(st.sampled_from([0.0, lr / 10]))))
    if name == "OneCycleLR":
        kw = dict(max_lr=lr * 2, total_steps=steps + draw(ints(1, 4)), pct_start=draw(st.sampled_from([0.3, 0.5])),
                  anneal_strategy=draw(st.sampled_from(["cos", "linear"])), three_phase=draw(st.booleans()),
                  cycle_momentum=opt_name in _MOMENTUM_OPTS and opt_name != "RMSprop" and draw(st.booleans()))
        return SchedSpec(name, kw)
    if name == "CyclicLR":
        kw = dict(base_lr=lr / 4, max_lr=lr, step_size_up=draw(ints(1, 3)),
                  mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
                  gamma=draw(st.sampled_from([1.0, 0.9])),
                  cycle_momentum=opt_name in _MOMENTUM_OPTS and draw(st.booleans()))
        return SchedSpec(name, kw)
    if name == "LinearLR":
        return SchedSpec(name, dict(start_factor=draw(st.sampled_from([1 / 3, 0.5])),
                                    end_factor=draw(st.sampled_from([1.0, 0.8])), total_iters=draw(ints(1, 4))))
    if name == "ConstantLR":
        return SchedSpec(name, dict(factor=draw(st.sampled_from([1 / 3, 0.5])), total_iters=draw(ints(1, 4))))
    if name == "ReduceLROnPlateau":
        return SchedSpec(name, dict(mode=draw(st.sampled_from(["min", "max"])), factor=0.5,
                                    patience=draw(ints(0, 1)), threshold=draw(st.sampled_from([1e-4, 0.1])),
                                    threshold_mode=draw(st.sampled_from(["rel", "abs"])),
                                    cooldown=draw(ints(0, 1)), min_lr=draw(st.sampled_from([0.0, lr / 3]))))
    if name in ("LambdaLR", "MultiplicativeLR"):
        return SchedSpec(name, dict(lr_lambda=Decay(draw(st.sampled_from([0.9, 0.5])))))
    if name == "PolynomialLR":
        return SchedSpec(name, dict(total_iters=draw(ints(1, 5)), power=draw(st.sampled_from([1.0, 2.0, 0.5]))))
    subs = [draw(schedulers(opt_name, lr, steps, allow_chain=False).filter(
        lambda s: s.name not in ("ReduceLROnPlateau", "OneCycleLR", "CyclicLR"))) for _ in range(2)]
    if name == "SequentialLR":
        return SchedSpec(name, dict(milestones=[draw(ints(1, 3))]), subs)
    return SchedSpec(name, {}, subs)


# -- the loop ----------------------------------------------------------------------------------
class Loop:
    """Everything the training loop does, drawn."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def code(self):
        lines = [self.model.code(), "model = Net()",
                 "params = dict(model.named_parameters())   # the groups below name them"]
        if self.frozen:
            lines.append(f"for name in {self.frozen!r}: params[name].requires_grad_(False)")
        groups = [f"{{'params': {names!r}" + "".join(f", {k!r}: {lit(v)}" for k, v in over.items()) + "}"
                  for names, over in self.groups]
        lines.append(f"opt = optim.{call_code(self.opt_name, ('GROUPS',), self.opt_kw)}".replace(
            "'GROUPS'", "[" + ", ".join(groups) + "]"))
        if self.late_group:
            lines.append(f"# after step {self.add_group_at}: opt.add_param_group({{'params': {self.late_group!r}}})")
        if self.sched:
            lines.append(f"sched = {self.sched.code()}")
        lines.append(f"loss_fn = {self.loss.code()}")
        lines.append(f"# steps={self.steps} train={self.train} accumulate={self.accumulate} "
                     f"set_to_none={self.set_to_none} roundtrip_after={self.roundtrip_at}")
        if self.clip:
            lines.append(f"# clip: {self.clip}")
        lines.append(f"# data: np.random.default_rng({self.seed}); model family {self.model.family}")
        return "\n".join(lines)


def make_optimizer(B, loop, params, groups):
    gs = [dict(params=[params[n] for n in names], **over) for names, over in groups]
    kw = dict(loop.opt_kw)
    if loop.opt_name == "SGD" and "lr" not in kw:
        kw["lr"] = 0.1
    return getattr(B.optim, loop.opt_name)(gs, **kw)


def snapshot_state(opt):
    sd = opt.state_dict()
    state = {}
    for k, entry in sd["state"].items():
        state[k] = {name: ([to_np(x) for x in v] if isinstance(v, (list, tuple)) else to_np(v))
                    for name, v in entry.items()}
    groups = [{k: (to_np(v) if isinstance(v, (ag.Tensor, torch.Tensor)) else v) for k, v in g.items()}
              for g in sd["param_groups"]]
    return {"state": state, "param_groups": groups}


def run_loop(B, loop):
    """The loop as a generator: it yields (what, value) at each point the two runs are compared;
    first ('model', model), so that the caller copies the weights across."""
    with _dtype64(B):
        model = build_model(B, loop.model)
        model.train()
    yield "model", model
    params = dict(model.named_parameters())
    for name in loop.frozen:
        params[name].requires_grad_(False)
    groups = [(list(names), dict(over)) for names, over in loop.groups]
    opt = make_optimizer(B, loop, params, groups)
    sched = loop.sched.build(B, opt) if loop.sched else None
    yield "lr0", sched.get_last_lr() if sched else [g["lr"] for g in opt.param_groups]
    extra = {k: B.tensor(v) for k, v in loop.model.extra.items()}

    def data(j):
        r = np.random.default_rng(loop.seed * 7 + j)
        return B.tensor(loop.model.inputs(r))

    def forward_loss(j):
        x = data(j)
        out = model(x, extra)
        r = np.random.default_rng(loop.seed + 13 * j)
        t = {k: B.tensor(v) for k, v in loop.loss.targets(r, tuple(out.shape)).items()}
        return compute_loss(B, loop.loss, out, t, loop.seed + j)

    for step in range(loop.steps):
        model.train(loop.train[step])
        if loop.opt_name == "LBFGS":
            seen = []

            def closure():
                opt.zero_grad()
                loss = forward_loss(step)
                loss.backward()
                seen.append(float(loss.item()))
                return loss
            ret = opt.step(closure)
            yield f"step {step}: closure losses", np.array(seen)
            yield f"step {step}: returned loss", to_np(ret)
        else:
            loss = forward_loss(2 * step)
            yield f"step {step}: loss", to_np(loss)
            loss.backward()
            if loop.accumulate:
                loss2 = forward_loss(2 * step + 1)
                yield f"step {step}: second loss", to_np(loss2)
                loss2.backward()
            if loop.clip:
                how, val, norm_type = loop.clip
                ps = [p for p in model.parameters() if p.requires_grad]
                if how == "norm":
                    total = B.nn.utils.clip_grad_norm_(ps, val, norm_type=norm_type, error_if_nonfinite=True)
                    yield f"step {step}: total norm", to_np(total)
                else:
                    B.nn.utils.clip_grad_value_(ps, val)
            yield f"step {step}: grads", {n: to_np(p.grad) for n, p in model.named_parameters()}
            opt.step()
            loss_value = float(loss.item())
        yield f"step {step}: params", {n: to_np(p) for n, p in model.named_parameters()}
        yield f"step {step}: buffers", {n: to_np(b) for n, b in model.named_buffers()}
        yield f"step {step}: optimizer state", snapshot_state(opt)
        if sched is not None:
            if loop.sched.name == "ReduceLROnPlateau":
                sched.step(loss_value if loop.opt_name != "LBFGS" else seen[0])
            else:
                sched.step()
            yield f"step {step}: get_last_lr", list(sched.get_last_lr())
            ssd = sched.state_dict()
            yield f"step {step}: scheduler state", {k: ssd.get(k) for k in ("last_epoch", "base_lrs", "_last_lr")
                                                    if k in ssd}
            yield f"step {step}: group lrs", [g["lr"] for g in opt.param_groups]
        opt.zero_grad(set_to_none=loop.set_to_none[step])
        yield f"step {step}: grads after zero_grad", {n: to_np(p.grad) for n, p in model.named_parameters()}
        if step == loop.add_group_at and loop.late_group:
            opt.add_param_group({"params": [params[n] for n in loop.late_group]})
            groups.append((list(loop.late_group), {}))
        if step == loop.roundtrip_at:
            osd = opt.state_dict()
            ssd = sched.state_dict() if sched else None
            opt = make_optimizer(B, loop, params, groups)
            if sched is not None:
                sched = loop.sched.build(B, opt)
            opt.load_state_dict(copy.deepcopy(osd))
            if sched is not None:
                sched.load_state_dict(ssd)
            yield f"step {step}: state after reload", snapshot_state(opt)


class _dtype64:
    def __init__(self, B):
        self.B = B

    def __enter__(self):
        if self.B.name == "torch":
            self.old = torch.get_default_dtype()
            torch.set_default_dtype(torch.float64)
        else:
            self.old = ag.get_default_dtype()
            ag.set_default_dtype(np.float64)

    def __exit__(self, *exc):
        (torch.set_default_dtype if self.B.name == "torch" else ag.set_default_dtype)(self.old)


def assert_same(what, ours, theirs, rtol=RTOL, atol=ATOL, normwise=False):
    """ours == theirs within tolerance, recursively through dicts, lists and tuples."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{what}: {type(ours).__name__}, torch has a dict"
        for k, v in theirs.items():
            assert k in ours, f"{what}: key {k!r} missing (torch has {sorted(map(str, theirs))}, ours " \
                              f"{sorted(map(str, ours))})"
            assert_same(f"{what}[{k!r}]", ours[k], v, rtol, atol, normwise)
        return
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"{what}: {ours!r}, torch has {theirs!r}"
        assert len(ours) == len(theirs), f"{what}: length {len(ours)}, torch has {len(theirs)}"
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(f"{what}[{k}]", a, b, rtol, atol, normwise)
        return
    if theirs is None or isinstance(theirs, (str, bool)):
        assert ours == theirs, f"{what}: {ours!r}, torch has {theirs!r}"
        return
    if ours is None:
        raise AssertionError(f"{what}: None, torch has {theirs!r}")
    a, b = np.asarray(ours), np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, torch has {b.shape}"
    if b.dtype.kind == "b" or a.dtype.kind == "b":
        assert np.array_equal(a, b), f"{what}: {a}, torch has {b}"
        return
    a, b = a.astype(np.float64), b.astype(np.float64)
    if normwise and b.size:  # errors scale with the whole array (see test_lbfgs_with_closure_as_in_torch)
        atol = atol + rtol * float(np.nanmax(np.abs(b), initial=0.0))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def run_both(loop, rtol=RTOL, atol=ATOL, normwise=False):
    note(loop.code())
    ours, theirs = run_loop(OURS, loop), run_loop(TORCH, loop)
    # torch keeps an optimizer's scalar state ('step', NAdam's mu_product) in the default dtype
    with warnings.catch_warnings(), _dtype64(OURS), _dtype64(TORCH):
        warnings.simplefilter("ignore")
        while True:
            try:
                t_what, t_val = next(theirs)
            except StopIteration:
                t_what, t_err = None, None
                break
            except Exception as e:  # torch refuses: ours must refuse at the same point
                t_what, t_err = "error", e
                break
            o_what, o_val = next(ours)
            assert o_what == t_what
            if t_what == "model":
                sd = {k: torch.from_numpy(to_np(v)) for k, v in o_val.state_dict().items()}
                t_val.load_state_dict(sd)
                continue
            assert_same(t_what, o_val, t_val, rtol, atol, normwise)
        if t_err is not None:
            with pytest.raises(Exception) as info:
                next(ours)
            assert isinstance(info.value, type(t_err)) or type(t_err).__name__ in (
                "RuntimeError", "ValueError", "TypeError", "IndexError") and isinstance(
                info.value, (RuntimeError, ValueError, TypeError, IndexError)), (info.value, t_err)
            return
        with pytest.raises(StopIteration):
            next(ours)


def _names(spec):
    with _dtype64(OURS):
        return [n for n, _ in build_model(OURS, spec).named_parameters()]


@st.composite
def loops(draw, models, opt_names, lbfgs=False, max_steps=5, eps_floor=None, loss_kinds=None):
    spec = draw(models)
    names = _names(spec)
    steps = draw(st.integers(2, max_steps))
    loss = draw(losses(spec.classes, smooth=lbfgs, spatial=spec.spatial, kinds=loss_kinds))
    if lbfgs:
        opt_name = "LBFGS"
        opt_kw = dict(lr=draw(st.sampled_from([1.0, 0.5])), max_iter=draw(st.integers(1, 4)),
                      history_size=draw(st.integers(1, 4)),
                      line_search_fn=draw(st.sampled_from([None, "strong_wolfe"])),
                      # near the minimum its branches compare losses equal up to rounding, and its
                      # history's y = g_new - g_old after a tiny step is mostly rounding, which the next
                      # line search can stretch by 10^4: these tolerances stop it before either
                      tolerance_grad=1e-4, tolerance_change=1e-4)
    else:
        opt_name = draw(st.sampled_from(opt_names))
        opt_kw = _OPTIMIZERS[opt_name](draw)
        if eps_floor is not None and opt_name in ("Adam", "AdamW"):
            opt_kw["eps"] = max(opt_kw.get("eps", 1e-8), eps_floor)
    frozen = []
    if len(names) > 1 and draw(st.booleans()):
        frozen = draw(st.lists(st.sampled_from(names), max_size=len(names) - 1, unique=True))
    # parameter groups: a contiguous split; LBFGS takes one group
    late_group, add_group_at = [], None
    pool = list(names)
    if not lbfgs and len(pool) > 1 and draw(st.booleans()):
        cut = draw(st.integers(1, len(pool) - 1))
        late_group, pool = pool[cut:], pool[:cut]
        add_group_at = draw(st.integers(0, steps - 2))
    groups = [(pool, {})]
    if not lbfgs and len(pool) > 1 and draw(st.booleans()):
        cut = draw(st.integers(1, len(pool) - 1))
        over = {"lr": draw(st.sampled_from([0.02, 0.2]))}
        if "weight_decay" in opt_kw:
            over["weight_decay"] = draw(st.sampled_from([0.0, 0.05]))
        groups = [(pool[:cut], {}), (pool[cut:], over)]
    lr = opt_kw.get("lr", 0.1)
    sched = None
    if not lbfgs and not late_group and draw(st.booleans()):
        sched = draw(schedulers(opt_name, lr, steps))
    clip = None
    if not lbfgs and draw(st.booleans()):
        if draw(st.booleans()):
            clip = ("norm", draw(st.sampled_from([0.1, 1.0, 10.0])), draw(st.sampled_from([2.0, 1.0, math.inf, 3.0])))
        else:
            clip = ("value", draw(st.sampled_from([0.05, 0.5])), None)
    return Loop(model=spec, steps=steps, loss=loss, opt_name=opt_name, opt_kw=opt_kw, frozen=frozen,
                groups=groups, late_group=late_group, add_group_at=add_group_at, sched=sched, clip=clip,
                train=[draw(st.booleans()) or k == 0 for k in range(steps)],
                accumulate=not lbfgs and draw(st.booleans()),
                set_to_none=[draw(st.booleans()) for _ in range(steps)],
                roundtrip_at=draw(st.sampled_from([None, *range(steps - 1)])),
                seed=draw(st.integers(0, 2**16)))


# -- the tests ---------------------------------------------------------------------------------
@settings(max_examples=6 * _BASE, **_SETTINGS)
@given(loops(any_model, ["SGD", "Adam", "AdamW"], max_steps=3, eps_floor=1e-4))
def test_models_and_losses_train_as_in_torch(loop):
    """Every model family and loss, trained a few steps by SGD / Adam / AdamW. Attention's key bias
    has a zero gradient up to rounding (the softmax ignores a shift shared by all keys), and Adam
    moves it by lr * noise / eps: eps is at least 1e-4 here (smaller ones run on the MLPs)."""
    run_both(loop)


@settings(max_examples=8 * _BASE, **_SETTINGS)
@given(loops(mlp_models(), sorted(_OPTIMIZERS), max_steps=8, loss_kinds=_PER_SAMPLE))
def test_optimizers_and_schedulers_step_as_in_torch(loop):
    """Every optimizer (parameter groups, frozen and late-added parameters, state round trips) and
    scheduler, on small MLPs; up to 8 steps so that RAdam's rectified branch is reached. The losses
    are those whose gradient differs from sample to sample: with a piecewise-linear one (L1, margins)
    it is often the same for the whole batch, and a weight after a batch norm (whose outputs sum to 0
    over the batch) then gets a gradient of 0 up to rounding, which Adam, RMSprop or Rprop turn into a
    step (lr * noise / eps, or the noise's sign)."""
    run_both(loop)


@settings(max_examples=2 * _BASE, **_SETTINGS)
@given(loops(st.one_of(mlp_models(), conv_models()), [], lbfgs=True, max_steps=3))
def test_lbfgs_with_closure_as_in_torch(loop):
    """LBFGS, with and without the strong-Wolfe line search: its closure's losses, the returned
    loss, the parameters and its state (directions, step sizes, history) after each step. Its history
    holds differences of gradients (y = g_new - g_old), which lose digits to cancellation, and the
    two-loop recursion carries that into every direction, in proportion to the vectors' size: hence a
    looser tolerance, relative to each array's largest entry."""
    run_both(loop, rtol=1e-7, atol=1e-9, normwise=True)


@settings(max_examples=_BASE, **_SETTINGS)
@given(vocab=st.integers(3, 6), dim=st.integers(1, 3), n=st.integers(1, 4), steps=st.integers(2, 5),
       lr=st.sampled_from([0.01, 0.1]), betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9)]), seed=st.integers(0, 2**16))
def test_sparse_adam_on_a_sparse_embedding_as_in_torch(vocab, dim, n, steps, lr, betas, seed):
    """SparseAdam on Embedding(sparse=True): rows never looked up keep their value and state."""
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((vocab, dim))
    runs = {}
    for B in (OURS, TORCH):
        with _dtype64(B):
            emb = B.nn.Embedding(vocab, dim, sparse=True)
        with B.T.no_grad():
            emb.weight.copy_(B.tensor(w0))
        opt = B.optim.SparseAdam(list(emb.parameters()), lr=lr, betas=betas)
        r = np.random.default_rng(seed)
        log = []
        for _ in range(steps):
            idx = B.tensor(r.integers(0, vocab, (n, 2)))
            target = B.tensor(r.standard_normal((n, dim)))
            opt.zero_grad()
            loss = ((emb(idx).sum(1) - target) ** 2).sum()
            loss.backward()
            log.append((to_np(loss), to_np(emb.weight.grad)))
            opt.step()
            log.append((to_np(emb.weight), snapshot_state(opt)))
        runs[B.name] = log
    note(f"SparseAdam(lr={lr}, betas={betas}) on Embedding({vocab}, {dim}, sparse=True), seed={seed}")
    for k, (o, t) in enumerate(zip(runs["ours"], runs["torch"])):
        assert_same(f"entry {k}", list(o), list(t))

"""``draw(tape_or_tensor, path)``: the graph as a PNG or SVG picture, made with matplotlib alone.

Ops are blue boxes (name and output shape), parameters orange, inputs green, constants grey;
the output has a red frame. Arrows run forward, top to bottom. After ``tape.backward()`` each
arrow is labelled with the norm of the gradient of the tensor it carries (``|g|``) and each
parameter with the norm of its ``.grad`` (drawing a tensor's ``grad_fn``: the parameters' and
any retained gradients). ``group_modules=True`` draws each module (from
``trace(module=...)``, a ``scope()`` block, or the dotted parameter names such as
``conv1.weight``) as one box listing its ops and parameters.

The layout is computed here, with no graphviz: each op sits one layer below the latest op it
reads from (longest path), a leaf sits just above its first consumer, and within a layer the
boxes are placed at the mean position of their inputs, then pushed apart so none overlap.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..node import Node
from ..tensor import Tensor
from . import _fmt
from ._fmt import dtype_str, fmt_norm, shape_str
from ._fmt import names_from
from .walk import forward_order

__all__ = ["draw"]

_FONT = 8.0            # points
_CHAR_W = _FONT * 0.61 / 72   # inches per character of DejaVu Sans Mono
_LINE_H = _FONT * 1.32 / 72
_PAD_X, _PAD_Y = 0.16, 0.12
_GAP_X, _GAP_Y = 0.35, 0.42
_STYLE = {
    "op": ("#dbe9f6", "#4a7ab5", 1.0),
    "group": ("#e9e1f5", "#7a5cb0", 1.2),
    "param": ("#fde2ab", "#cc7a00", 1.8),
    "input": ("#d8f0d3", "#4c9a45", 1.0),
    "const": ("#eeeeee", "#9a9a9a", 0.8),
    "external": ("#eeeeee", "#9a9a9a", 0.8),
}


class _Val:
    __slots__ = ("key", "label", "shape", "dtype", "kind", "grad", "tensor")

    def __init__(self, key, label, shape, dtype, kind, grad=None, tensor=None):
        self.key, self.label, self.shape, self.dtype, self.kind = key, label, tuple(shape), dtype, kind
        self.grad, self.tensor = grad, tensor


class _Op:
    __slots__ = ("idx", "name", "ins", "out", "scope")

    def __init__(self, idx, name, ins, out, scope):
        self.idx, self.name, self.ins, self.out, self.scope = idx, name, ins, out, scope


# -- the graph to draw, from a Tape or from a tensor's grad_fn -------------------------------------
def _from_tape(tape, names):
    vals, ops = {}, []
    for t in tape.leaves:
        lab = names.get(id(t)) or tape.label(t)[1:]
        vals[("t", id(t))] = _Val(("t", id(t)), lab, t.shape, t.dtype, tape.kind(t), tape.grad_norm(t), t)
    node_key = {}
    for e in tape.entries:
        ins = []
        for i, x in enumerate(e.inputs):
            src = e.sources[i]
            if isinstance(x, Tensor):
                ins.append(node_key.get(id(src)) if id(src) in node_key else ("t", id(x)))
            elif np.ndim(x) > 0:
                k = ("c", e.index, i)
                vals[k] = _Val(k, "const", np.shape(x), np.asarray(x).dtype, "const")
                ins.append(k)
        k = ("n", id(e.node))
        node_key[id(e.node)] = k
        out = e.output
        lab = names.get(id(out)) or tape.label(out)[1:]
        vals[k] = _Val(k, lab, out.shape, out.dtype, "op", tape._grad_norms.get(e.index), out)
        ops.append(_Op(e.index, e.op.name, ins, k, e.scope))
    outs = set()
    for t in tape.outputs:
        n = t._node
        outs.add(("n", id(n)) if n is not None and id(n) in node_key else ("t", id(t)))
    return vals, ops, outs, dict(tape.scope_kinds)


def _from_tensor(root, names):
    if root.grad_fn is None:
        raise ValueError(f"draw: this tensor {shape_str(root.shape)} has no grad_fn (nothing was recorded); "
                         "use draw(trace(fn, *inputs), path) to see ops whose inputs don't require grad")
    def freed(n):
        raise RuntimeError(f"draw: {n.name()} was freed by backward, so the graph can't be drawn any more. "
                           "Draw a Tape (tape = trace(fn, *inputs); tape.backward(); draw(tape, path)) or "
                           "pass retain_graph=True to backward")

    order = forward_order([root._node], on_freed=freed)
    out_tensor = {id(root._node): root}
    for n in order:
        for x, p in zip(n.inputs, n.parents):
            if type(p) is Node:
                out_tensor.setdefault(id(p), x)
    vals, ops = {}, []
    count = 0

    def leaf_label(t):
        nonlocal count
        lab = names.get(id(t)) or (_fmt.tensor_label(t) or "")[1:]
        if not lab:
            lab = f"{count}"
        count += 1
        return lab

    for i, n in enumerate(order):
        ins = []
        for j, (x, p) in enumerate(zip(n.inputs, n.parents)):
            if type(p) is Node:
                ins.append(("n", id(p)))
            elif isinstance(x, Tensor):
                k = ("t", id(x))
                if k not in vals:
                    kind = "param" if x.requires_grad and x._node is None else \
                        ("external" if x._node is not None else "input")
                    g = _fmt.norm(x.grad) if x.grad is not None else None
                    vals[k] = _Val(k, leaf_label(x), x.shape, x.dtype, kind, g, x)
                ins.append(k)
            elif np.ndim(x) > 0:
                k = ("c", i, j)
                vals[k] = _Val(k, "const", np.shape(x), np.asarray(x).dtype, "const")
                ins.append(k)
        k = ("n", id(n))
        t = out_tensor.get(id(n))
        lab = (_fmt.node_label(n) or f"%{count}")[1:]
        count += 1
        g = _fmt.norm(t.grad) if t is not None and t.grad is not None else None
        vals[k] = _Val(k, lab, t.shape if t is not None else (), t.dtype if t is not None else None, "op", g, t)
        ops.append(_Op(i, n.op.name, ins, k, None))
    return vals, ops, {("n", id(root._node))}, {}


# -- grouping ---------------------------------------------------------------------------------
def _groups(vals, ops, depth):
    """op index -> group name: its scope (module path), else the common prefix of the dotted
    parameter names it reads (directly or through values computed from those parameters alone)."""
    def cut(path):
        if path is None:
            return None
        if depth is True:
            return path
        return ".".join(path.split(".")[:depth])

    pure = {}   # value key -> group, for params and values computed only from one group's params
    for v in vals.values():
        if v.kind == "param" and "." in v.label:
            pure[v.key] = cut(v.label.rsplit(".", 1)[0])
    group = {}
    for o in ops:
        cands = {pure[k] for k in o.ins if k in pure}
        tensor_ins = [k for k in o.ins if vals[k].kind != "const"]
        if o.scope is not None:
            group[o.idx] = cut(o.scope)
        elif len(cands) == 1:
            group[o.idx] = next(iter(cands))
        if len(cands) == 1 and tensor_ins and all(k in pure for k in tensor_ins):
            pure[o.out] = next(iter(cands))
    return group


# -- layout -----------------------------------------------------------------------------------
class _Box:
    __slots__ = ("key", "text", "style", "w", "h", "x", "y", "layer", "first", "is_out")

    def __init__(self, key, text, style, first):
        self.key, self.text, self.style, self.first = key, text, style, first
        lines = text.split("\n")
        self.w = max(len(s) for s in lines) * _CHAR_W + 2 * _PAD_X
        self.h = len(lines) * _LINE_H + 2 * _PAD_Y
        self.x = self.y = 0.0
        self.layer = 0
        self.is_out = False


def _separate(boxes, desired):
    """x positions near ``desired`` (same order), at least a gap apart, centred like ``desired``."""
    order = sorted(range(len(boxes)), key=lambda i: (desired[i], boxes[i].first))
    xs = [0.0] * len(boxes)
    prev = None
    for i in order:
        x = desired[i]
        if prev is not None:
            x = max(x, xs[prev] + (boxes[prev].w + boxes[i].w) / 2 + _GAP_X)
        xs[i] = x
        prev = i
    shift = float(np.mean([d - x for d, x in zip(desired, xs)]))
    return [x + shift for x in xs]


def _layout(boxes, edges):
    preds = {b.key: [] for b in boxes}
    succs = {b.key: [] for b in boxes}
    for (s, d) in edges:
        preds[d].append(s)
        succs[s].append(d)
    by_key = {b.key: b for b in boxes}
    ops = sorted((b for b in boxes if b.style in ("op", "group")), key=lambda b: b.first)
    leaves = [b for b in boxes if b.style not in ("op", "group")]
    done = set()
    for b in ops:   # longest path over ops; a cycle (from grouping) is cut at the later box
        b.layer = 1 + max((by_key[p].layer for p in preds[b.key] if p in done), default=0)
        done.add(b.key)
    for b in reversed(ops):  # ops with slack (w.T of a weight) move down next to their consumer
        if succs[b.key]:
            b.layer = max(b.layer, min(by_key[s].layer for s in succs[b.key]) - 1)
    for b in leaves:
        b.layer = max(min((by_key[s].layer for s in succs[b.key]), default=1) - 1, 0)
    n_layers = max((b.layer for b in boxes), default=0) + 1
    layers = [[] for _ in range(n_layers)]
    for b in boxes:
        layers[b.layer].append(b)
    heights = [max((b.h for b in layer), default=0.0) for layer in layers]
    y = 0.0
    for i, layer in enumerate(layers):
        if i:
            y -= heights[i - 1] / 2 + _GAP_Y + heights[i] / 2
        for b in layer:
            b.y = y
    # x: ops at the mean x of the ops they read from, top-down; then the leaves beside their consumers
    placed = set()
    for layer in layers:
        lops = [b for b in layer if b.style in ("op", "group")]
        if not lops:
            continue
        desired = []
        for b in lops:
            px = [by_key[p].x for p in preds[b.key] if p in placed]
            desired.append(float(np.mean(px)) if px else 0.0)
        for b, x in zip(lops, _separate(lops, desired)):
            b.x = x
            placed.add(b.key)
    for layer in layers:
        if not any(b.style not in ("op", "group") for b in layer):
            continue
        desired = []
        for b in layer:
            if b.style in ("op", "group"):
                desired.append(b.x)
            else:
                cs = [by_key[s] for s in succs[b.key]]
                c = min(cs, key=lambda c: c.layer) if cs else None
                if c is None:
                    desired.append(0.0)
                elif any(by_key[p].style in ("op", "group") for p in preds[c.key]):
                    desired.append(c.x + c.w / 2 + b.w / 2 + _GAP_X)  # beside the op chain above c
                else:
                    desired.append(c.x)   # c reads only leaves: centre them above it
        for b, x in zip(layer, _separate(layer, desired)):
            b.x = x


# -- the picture ------------------------------------------------------------------------------
def _short_ops(names, limit=4):
    out = []
    for n in names:
        if not out or out[-1] != n:
            out.append(n)
    if len(out) > limit:
        out = out[:limit - 1] + ["…", out[-1]]
    return " → ".join(out)


def draw(obj, path, group_modules=False, names=None, title=None, dpi=100, show_grads=True, max_boxes=600):
    """Render the graph of a ``Tape`` (from ``trace``) or of a tensor's ``grad_fn`` to ``path``
    (``.png`` or ``.svg``); returns the path.

    ``group_modules``: True groups ops by module (innermost module path); an int n groups by the
    first n parts of the path (``2``: ``features.0``). ``names``: labels for tensors
    (``model.named_parameters()``). ``show_grads``: label arrows with gradient norms when known.

    >>> import os, tempfile
    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> tape = ag.trace(lambda x: (x * x).sum(), x)
    >>> path = ag.draw(tape, os.path.join(tempfile.mkdtemp(), "graph.svg"))
    >>> path.suffix, path.stat().st_size > 0
    ('.svg', True)
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"draw: path must end in .png or .svg, got {str(path)!r}")
    if group_modules is not True and group_modules is not False and \
            not (isinstance(group_modules, int) and group_modules >= 1):
        raise ValueError(f"draw: group_modules must be True, False or a depth >= 1, got {group_modules!r}")
    names = names_from(names)
    if type(obj).__name__ == "Tape" and hasattr(obj, "entries"):   # inspect.tape.Tape (tape imports draw)
        vals, ops, outs, kinds = _from_tape(obj, names)
        if title is None:
            title = f"trace of {obj.fn_name}"
    elif isinstance(obj, Tensor):
        vals, ops, outs, kinds = _from_tensor(obj, names)
    else:
        raise TypeError(f"draw: expected a Tape (from trace) or a Tensor, got {type(obj).__name__}")
    if not ops:
        raise ValueError("draw: the graph has no ops to draw")
    group = _groups(vals, ops, group_modules) if group_modules else {}

    # which box each op and each value goes to
    producer = {}
    box_of_op = {}
    members = {}
    for o in ops:
        g = group.get(o.idx)
        key = ("g", g) if g is not None else ("o", o.idx)
        box_of_op[o.idx] = key
        members.setdefault(key, []).append(o)
        producer[o.out] = key
    consumers = {}
    for o in ops:
        for k in o.ins:
            consumers.setdefault(k, set()).add(box_of_op[o.idx])
    absorbed = {}
    for k, v in vals.items():
        if k in producer:
            continue
        cs = consumers.get(k, set())
        if v.kind == "param" and len(cs) == 1 and next(iter(cs))[0] == "g":
            absorbed.setdefault(next(iter(cs)), []).append(v)
            producer[k] = next(iter(cs))
        else:
            producer[k] = ("v", k)

    has_grads = show_grads and any(v.grad is not None for v in vals.values())
    boxes = {}
    for key, mem in members.items():
        last = mem[-1]
        outv = vals[last.out]
        if key[0] == "g":
            kind = kinds.get(key[1])
            lines = [key[1] + (f" ({kind})" if kind else ""), _short_ops([o.name for o in mem]),
                     f"-> {shape_str(outv.shape)}"]
            for v in absorbed.get(key, []):
                bare = v.label[5:] if v.label.startswith("self.") else v.label
                short = bare[len(key[1]) + 1:] if bare.startswith(key[1] + ".") else v.label
                extra = f"  |grad| {fmt_norm(v.grad)}" if has_grads and v.grad is not None else ""
                lines.append(f"{short} {shape_str(v.shape)}{extra}")
            boxes[key] = _Box(key, "\n".join(lines), "group", mem[0].idx)
        else:
            boxes[key] = _Box(key, f"{last.name}\n{shape_str(outv.shape)}", "op", last.idx)
    for k, v in vals.items():
        if producer.get(k) != ("v", k) or k not in consumers:
            continue
        lines = [v.label, shape_str(v.shape) + (f" {dtype_str(v.dtype)}" if v.kind == "input" else "")]
        if has_grads and v.kind == "param" and v.grad is not None:
            lines.append(f"|grad| {fmt_norm(v.grad)}")
        first = min(box.first for box in (boxes[c] for c in consumers[k])) - 0.5
        boxes[("v", k)] = _Box(("v", k), "\n".join(lines), v.kind, first)
    for k in outs:
        if producer.get(k) in boxes:
            boxes[producer[k]].is_out = True
    if len(boxes) > max_boxes:
        raise ValueError(f"draw: {len(boxes)} boxes is too many to read (max_boxes={max_boxes}); "
                         "use group_modules=True or draw a smaller part of the model")

    edges = {}
    for o in ops:
        dst = box_of_op[o.idx]
        for k in o.ins:
            src = producer[k]
            if src == dst:
                continue
            lst = edges.setdefault((src, dst), [])
            if k not in lst:
                lst.append(k)
    blist = sorted(boxes.values(), key=lambda b: b.first)
    _layout(blist, list(edges))
    return _render(path, fmt, blist, boxes, edges, vals, has_grads, title, dpi)


def _render(path, fmt, blist, boxes, edges, vals, has_grads, title, dpi):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    margin = 0.35
    head = 0.7
    x0 = min(b.x - b.w / 2 for b in blist) - margin
    x1 = max(b.x + b.w / 2 for b in blist) + margin
    y0 = min(b.y - b.h / 2 for b in blist) - margin
    y1 = max(b.y + b.h / 2 for b in blist) + margin + head
    legend = "ops: blue   parameters: orange   inputs: green   constants: grey   output: red frame"
    if has_grads:
        legend += "\n|g|: norm of the gradient of the tensor on that arrow; |grad|: norm of a parameter's .grad"
    legend_w = max(max(len(s) for s in legend.split("\n")) * (_FONT - 1) * 0.6 / 72,
                   len(title or "") * (_FONT + 2) * 0.68 / 72) + 2 * margin
    width, height = max(x1 - x0, 4.0, legend_w), y1 - y0
    if width > x1 - x0:
        x0 -= (width - (x1 - x0)) / 2
        x1 = x0 + width
    dpi = min(float(dpi), 30000.0 / max(width, height))   # stay far below Agg's size limit
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    fig.patch.set_facecolor("white")

    for (src, dst), keys in edges.items():
        a, b = boxes[src], boxes[dst]
        p0, p1 = (a.x, a.y - a.h / 2), (b.x, b.y + b.h / 2)
        if p1[1] > p0[1]:   # an edge going up (a cycle cut by grouping): leave from the side
            p0 = (a.x + a.w / 2, a.y)
        rad = 0.0 if abs(b.layer - a.layer) <= 1 else 0.12
        ax.add_patch(FancyArrowPatch(p0, p1, arrowstyle="-|>", mutation_scale=9, lw=0.9, color="#555555",
                                     connectionstyle=f"arc3,rad={rad}", shrinkA=1, shrinkB=1, zorder=1))
        if has_grads:
            gs = [vals[k].grad for k in keys if vals[k].grad is not None]
            if gs:
                txt = "|g| " + ", ".join(fmt_norm(g) for g in gs)
                mx, my = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
                ax.text(mx, my, txt, fontsize=_FONT - 1.5, family="DejaVu Sans Mono", ha="center", va="center",
                        color="#8b1a1a", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.85))
    for bx in blist:
        fc, ec, lw = _STYLE[bx.style]
        if bx.is_out:
            ec, lw = "#c0392b", 2.2
        ax.add_patch(FancyBboxPatch((bx.x - bx.w / 2, bx.y - bx.h / 2), bx.w, bx.h,
                                    boxstyle="round,pad=0,rounding_size=0.06", fc=fc, ec=ec, lw=lw, zorder=2))
        ax.text(bx.x, bx.y, bx.text, fontsize=_FONT, family="DejaVu Sans Mono", ha="center", va="center",
                zorder=3, linespacing=1.15)
    if title:
        ax.text(x0 + margin, y1 - 0.18, title, fontsize=_FONT + 2, ha="left", va="top", weight="bold")
    ax.text(x0 + margin, y1 - 0.40, legend, fontsize=_FONT - 1, ha="left", va="top", color="#444444")
    fig.savefig(path, format=fmt, dpi=dpi, facecolor="white")
    return path

"""Walking ``t.grad_fn`` through ``next_functions``, as in PyTorch, and printing it as a tree.

    >>> import autograd_core as ag
    >>> from autograd_core.inspect import format_grad_fn
    >>> w = ag.ones(2, 2, requires_grad=True); b = ag.zeros(2, requires_grad=True)
    >>> loss = ((ag.ones(1, 2) @ w).relu() + b).sum()
    >>> print(format_grad_fn(loss))
    SumBackward  -> [] float32
    └─ AddBackward
       ├─ ReluBackward
       │  └─ MatmulBackward
       │     ├─ None  ([1,2]: no grad)
       │     └─ AccumulateGrad  [2,2] float32
       └─ AccumulateGrad  [2] float32

A leaf that requires grad appears as ``AccumulateGrad`` (its ``.variable`` is the leaf); an input
that needs no gradient as ``None``. A node reached a second time is shown once, then ``(above)``.
"""
from __future__ import annotations

from ..node import AccumulateGrad, Node
from ..tensor import Tensor
from . import _fmt
from ._fmt import dtype_str, shape_str

__all__ = ["walk", "format_grad_fn", "forward_order"]


def forward_order(starts, on_freed=None):
    """The nodes reachable from ``starts`` in forward (execution) order: an iterative post-order DFS,
    so inputs come before the ops that read them. ``on_freed(node)`` is called for a node whose saved
    values backward has freed (it may raise); without it such nodes are kept, with no parents followed."""
    order, seen = [], set()
    for s in starts:
        stack = [(s, False)]
        while stack:
            n, done = stack.pop()
            if done:
                order.append(n)
                continue
            if id(n) in seen:
                continue
            seen.add(id(n))
            if on_freed is not None and (n.parents is None or n.inputs is None):
                on_freed(n)
            stack.append((n, True))
            for p in reversed(n.parents or ()):
                if type(p) is Node and id(p) not in seen:
                    stack.append((p, False))
    return order


def _start(t):
    if isinstance(t, Tensor):
        if t.grad_fn is None:
            raise ValueError(f"grad_fn: this tensor {shape_str(t.shape)} is a leaf (grad_fn is None): "
                             "nothing was recorded to produce it")
        return t.grad_fn
    if isinstance(t, Node):
        return t
    raise TypeError(f"grad_fn walk: expected a Tensor or a grad_fn Node, got {type(t).__name__}")


def walk(t):
    """Yield ``(fn, depth)`` for every function reachable from ``t.grad_fn`` through
    ``next_functions``, depth-first, each once (``fn`` is a Node or an ``AccumulateGrad``).

    >>> import autograd_core as ag
    >>> from autograd_core.inspect import walk
    >>> x = ag.tensor([1.0], requires_grad=True)
    >>> [(fn.name(), depth) for fn, depth in walk((x.exp() * 2).sum())]
    [('SumBackward', 0), ('MulBackward', 1), ('ExpBackward', 2), ('AccumulateGrad', 3)]
    """
    root = _start(t)
    seen = set()
    stack = [(root, 0)]
    while stack:
        fn, depth = stack.pop()
        key = id(fn.variable) if isinstance(fn, AccumulateGrad) else id(fn)
        if key in seen:
            continue
        seen.add(key)
        yield fn, depth
        if isinstance(fn, Node):
            if fn.parents is None:
                raise RuntimeError(f"grad_fn walk: {fn.name()} was freed by backward; call backward("
                                   "retain_graph=True) to walk the graph afterwards")
            for nxt, _ in reversed(fn.next_functions):
                if nxt is not None:
                    stack.append((nxt, depth + 1))


def _describe(fn):
    if isinstance(fn, AccumulateGrad):
        v = fn.variable
        lab = _fmt.tensor_label(v)
        return f"AccumulateGrad  {lab + ' ' if lab else ''}{shape_str(v.shape)} {dtype_str(v.dtype)}"
    lab = _fmt.node_label(fn)
    return f"{fn.name()}" + (f"  {lab}" if lab else "")


class _NoGrad:
    """A ``None`` in next_functions: input ``i`` of ``node`` needs no gradient."""

    def __init__(self, node, i):
        self.node, self.i = node, i

    def describe(self):
        x = self.node.inputs[self.i] if self.node.inputs is not None else None
        if isinstance(x, Tensor):
            lab = _fmt.tensor_label(x)
            return f"None  ({lab + ' ' if lab else ''}{shape_str(x.shape)}: no grad)"
        return "None  (constant)" if x is not None else "None"


def format_grad_fn(t, max_depth=None):
    """The backward graph of ``t`` as an indented tree (see the module docstring).

    >>> import autograd_core as ag
    >>> from autograd_core.inspect import format_grad_fn
    >>> x = ag.tensor([1.0], requires_grad=True)
    >>> print(format_grad_fn(x.exp().sum()))
    SumBackward  -> [] float32
    └─ ExpBackward
       └─ AccumulateGrad  [1] float32
    """
    root = _start(t)
    head = _describe(root)
    if isinstance(t, Tensor):
        head += f"  -> {shape_str(t.shape)} {dtype_str(t.dtype)}"
    lines = [head]
    seen = {id(root)}
    # iterative: (fn, prefix, is_last, depth)
    stack = []

    def children(fn):
        if not isinstance(fn, Node):
            return []
        if fn.parents is None:
            raise RuntimeError(f"format_grad_fn: {fn.name()} was freed by backward; call backward("
                               "retain_graph=True) to print the graph afterwards")
        return [nxt if nxt is not None else _NoGrad(fn, i) for i, (nxt, _) in enumerate(fn.next_functions)]

    kids = children(root)
    for i in reversed(range(len(kids))):
        stack.append((kids[i], "", i == len(kids) - 1, 1))
    while stack:
        fn, prefix, last, depth = stack.pop()
        branch = "└─ " if last else "├─ "
        if isinstance(fn, _NoGrad):
            lines.append(prefix + branch + fn.describe())
            continue
        key = id(fn.variable) if isinstance(fn, AccumulateGrad) else id(fn)
        again = key in seen and isinstance(fn, Node)
        seen.add(key)
        lines.append(prefix + branch + _describe(fn) + ("  (above)" if again else ""))
        if again or (max_depth is not None and depth >= max_depth):
            continue
        kids = children(fn)
        sub = prefix + ("   " if last else "│  ")
        for i in reversed(range(len(kids))):
            stack.append((kids[i], sub, i == len(kids) - 1, depth + 1))
    return "\n".join(lines)

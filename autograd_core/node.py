"""The tape's records: Node (one recorded op), version counters, views, and the one function that
records a node.

Versions. Every storage has one ``VersionCounter``, shared by all its aliases (views, ``detach()``,
``.data``). An in-place change through any alias bumps it. A node remembers nothing extra: the
clock orders node creation and in-place changes, so backward checks a node's saved values only
if some in-place change happened after the node was made (one comparison otherwise), and then
only the values that the node's rules read.

Views. A view op (``reshape`` without a copy, slicing, ``permute``, ``expand``, ...) marks its
result with ``_base`` (the root storage owner) and ``_view = (source, op, kwargs)``, so that the
view can be rebuilt from its base. An in-place change of a view that is part of a graph rebases
the base (``ops/inplace.py``, PyTorch's CopySlices); the views of a base with history are kept as
weak references so that their ``grad_fn`` follows.
"""
from __future__ import annotations

import itertools
import operator
import weakref
from typing import Any

import numpy as np

from . import modes
from .kernels.rows import sum_leading as _sum_leading

__all__ = ["Node", "AccumulateGrad", "VersionCounter", "counter", "bump", "alias", "record", "edge",
           "check_inplace", "mark_view", "view_chain", "views_with_history", "unbroadcast"]

Tensor = None  # set by tensor.py once the class exists (tensor.py imports this module)
make = None
_new = object.__new__
_wref = weakref.ref

# -- the clock ----------------------------------------------------------------------------------
next_seq = itertools.count(1).__next__
_seq = operator.attrgetter("seq")


class _Clock:
    last = 0   # the clock number of the latest in-place change, in any thread


clock = _Clock()


class VersionCounter:
    """One per storage, shared by every alias of it.

    ``version`` counts in-place changes (PyTorch's ``_version``); ``mod`` is the clock number of
    the latest one; ``views`` holds weak references to views of this storage that have history.
    """
    __slots__ = ("version", "mod", "views")

    def __init__(self):
        self.version = 0
        self.mod = 0
        self.views = None


def counter(t):
    """The version counter of ``t``'s storage (made on first use)."""
    vc = getattr(t, "_vc", None)
    if vc is None:
        vc = t._vc = VersionCounter()
        n = t._node
        if n is not None and n.ans is not None and n.ans is t._data:
            n.out_vc = vc   # the node saved this storage as its output: it checks it even once t is gone
    return vc


def bump(t, version=None):
    """Mark ``t``'s storage as changed in place: every alias of it sees the new version."""
    vc = counter(t)
    vc.version = vc.version + 1 if version is None else version
    clock.last = vc.mod = next_seq()


def alias(t):
    """A new leaf on ``t``'s storage and version counter, cut from the tape (``detach()``, ``.data``)."""
    a = make(t._data)
    a._vc = counter(t)
    return a


# -- nodes ---------------------------------------------------------------------------------------
class Node:
    """One recorded op: the ``grad_fn`` of a non-leaf tensor.

    ``inputs``: the op's positional arguments (Tensors or constants); ``arrays``: their raw values
    at record time (what the fast backward feeds the rules); ``parents``: per input, the producing
    Node, the leaf Tensor, or None; ``kwargs``: the op's options (plus ``res``, the forward's
    residuals, for ops that keep some); ``seq``: its number on the clock (creation order).
    """

    # out_ref (a weakref to the output, for ops whose rules read it), hooks, retain_ref and trace are
    # set only when used; read them with getattr(node, name, None).
    __slots__ = ("op", "inputs", "arrays", "parents", "ans", "kwargs", "seq", "out_ref", "out_vc", "hooks",
                 "retain_ref", "trace", "__weakref__")

    def name(self):
        """PyTorch's name of this node's class, e.g. ``MulBackward``."""
        return self.op.backward_name

    def __repr__(self):
        # Python's default form, as PyTorch's nodes print: <MulBackward0 object at 0x7f...>
        return f"<{self.op.backward_name} object at {id(self):#x}>"

    @property
    def next_functions(self):
        """((parent_node_or_AccumulateGrad, 0), ...) as in PyTorch; None for inputs without grad."""
        out = []
        for p in (self.parents or ()):
            if p is None:
                out.append((None, 0))
            elif isinstance(p, Node):
                out.append((p, 0))
            else:
                out.append((AccumulateGrad(p), 0))
        return tuple(out)

    @property
    def metadata(self):
        return {"op": self.op.name, "kwargs": self.kwargs}

    def register_hook(self, fn):
        """Call ``fn(grad)`` with the gradient flowing into this node; a non-None return replaces it."""
        hooks_used()
        hooks = getattr(self, "hooks", None)
        if hooks is None:
            hooks = self.hooks = []
        hooks.append(fn)
        return fn


class AccumulateGrad:
    """The sink of a leaf tensor in ``next_functions``; ``.variable`` is the leaf."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)


def edge(t):
    """What backward follows from an input: its producing node, the leaf itself, or None."""
    n = t._node
    if n is not None:
        return n
    return t if t.requires_grad else None


def record(op, inputs, arrays, parents, ans, kw):
    """Make the output tensor of a recorded op and its Node (the registry's only way to record).

    ``inputs``: the op's positional arguments (Tensors or raw constants); ``parents``: per input,
    ``edge(input)`` or None.
    """
    out = _new(Tensor)
    out._data = ans
    out.requires_grad = True
    node = out._node = _new(Node)
    node.op = op
    node.inputs = inputs
    node.arrays = arrays
    node.parents = parents
    node.kwargs = kw
    node.seq = next_seq()
    if op.uses_ans:
        node.ans = ans
        node.out_ref = _wref(out)
    else:
        node.ans = None
    return out


# Hooks and retain_grad on non-leaf tensors are rare: backward looks for them only once any was set.
class _Flags:
    node_hooks = False


flags = _Flags()

# Set by ``ops.elementwise`` (the engine imports no op): ``link_inputs(g, xs)`` records a gradient computed
# with create_graph as depending on the inputs ``xs`` its rule read, with a zero derivative.
link_inputs: Any = None


def hooks_used():
    flags.node_hooks = True


def check_inplace(t, opname):
    """Refuse in-place changes of a leaf that requires grad (or a view of one) while recording."""
    if not modes.state.enabled:
        return
    if t.requires_grad and t._node is None:
        raise RuntimeError(f"{opname}: a leaf tensor that requires grad can't be changed in place; "
                           "wrap the update in `with no_grad():` (as optimizers do) or use an out-of-place op")
    base = getattr(t, "_base", None)
    if base is not None and base.requires_grad and base._node is None:
        raise RuntimeError(f"{opname}: a view of a leaf tensor that requires grad can't be changed in place; "
                           "wrap the update in `with no_grad():` or clone the leaf first")


# -- views ---------------------------------------------------------------------------------------
def mark_view(out, src, op, kw):
    """Record that ``out`` (the result of view op ``op`` on ``src``) shares ``src``'s storage."""
    vc = counter(src)
    out._vc = vc
    base = getattr(src, "_base", None)
    if base is None:
        base = src
    out._base = base
    out._view = (src, op, kw)
    # A view with history must follow its base's history when either changes in place; a view of
    # a leaf that requires grad never has to (in-place changes of such leaves are refused).
    if out.requires_grad and not (base.requires_grad and base._node is None):
        refs = vc.views
        if refs is None:
            refs = vc.views = []
        refs.append(_wref(out))
        n = len(refs)
        if n >= 16 and n & (n - 1) == 0:   # now and then, drop the views that are gone
            refs[:] = [r for r in refs if r() is not None]


def view_chain(v):
    """The ``(op, kwargs)`` steps that rebuild view ``v`` from its base, base first."""
    chain = []
    info = getattr(v, "_view", None)
    while info is not None:
        src, op, kw = info
        chain.append((op, kw))
        info = getattr(src, "_view", None)
    chain.reverse()
    return tuple(chain)


def views_with_history(base):
    """The live views of ``base`` that were registered as having history."""
    vc = getattr(base, "_vc", None)
    if vc is None or not vc.views:
        return []
    out = []
    for r in vc.views:
        v = r()
        if v is not None and getattr(v, "_base", None) is base:
            out.append(v)
    return out


# -- un-broadcasting -----------------------------------------------------------------------------
def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (undo numpy broadcasting). Works on arrays and Tensors."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if axes:
        s = _sum_leading(g, lead) if lead and len(axes) == lead and type(g) is np.ndarray else None
        g = g.sum(axis=axes) if s is None else s    # the kernel: a bias's gradient in one pass
    if g.shape != shape:
        g = g.reshape(shape)
    return g

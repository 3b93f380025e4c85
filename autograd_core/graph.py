"""The tape: grad-mode state, the Node that each recorded op leaves behind, and backward.

A Node holds the op, the input tensors (for their values and versions), the
edges to the inputs' producers (``parents``), and whatever the forward saved.
``backward`` counts each node's consumers, then walks the graph once in reverse
topological order (Kahn's algorithm, iterative, so depth is unlimited).
"""
from __future__ import annotations

import functools
import itertools
import operator
import threading
import traceback

import numpy as np

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
           "backward", "autograd_grad", "Node"]


Tensor = None  # set by tensor.py once the class exists (tensor.py imports this module)
make = None


# -- grad mode ------------------------------------------------------------------------------
class _Mode(threading.local):
    enabled = True
    explain = None   # inspect.explain_backward(): explain every backward of this thread
    _anomaly = False
    _observers = ()

    @property
    def observers(self):
        """Callables ``obs(node, out)`` told of every new node (inspect.trace / profile)."""
        return self._observers

    @observers.setter
    def observers(self, value):
        self._observers = tuple(value)
        _update_watch()

    @property
    def anomaly(self):
        return self._anomaly

    @anomaly.setter
    def anomaly(self, value):
        self._anomaly = bool(value)
        _update_watch()


mode = _Mode()


def is_grad_enabled():
    return mode.enabled


class _GradModeContext:
    """Base of no_grad/enable_grad/set_grad_enabled: a context manager and a decorator."""
    _target = True

    def __enter__(self):
        self._prev = mode.enabled
        mode.enabled = self._target

    def __exit__(self, *exc):
        mode.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()


class no_grad(_GradModeContext):
    """Record nothing on the tape inside this block (context manager or decorator)."""
    _target = False


class enable_grad(_GradModeContext):
    """Re-enable recording inside a ``no_grad`` block."""
    _target = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(flag)``: turn recording on or off; usable as a call, context or decorator."""

    def __init__(self, flag):
        self._target = bool(flag)
        self._prev = mode.enabled
        mode.enabled = self._target  # also works as a plain function call, like torch

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        mode.enabled = self._prev
        return False

    def __call__(self, fn):
        # Used as a decorator, __init__ must not leave the mode switched for everyone (as in torch)
        mode.enabled = self._prev
        return super().__call__(fn)

    def _args(self):
        return (self._target,)


class detect_anomaly:
    """Inside this block, nodes remember where they were created and backward stops at the
    first op whose gradient holds NaN or Inf, naming that op and that place."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = mode.anomaly
        mode.anomaly = self.check_nan

    def __exit__(self, *exc):
        mode.anomaly = self._prev
        return False


# -- the Node -------------------------------------------------------------------------------
class Node:
    """One recorded op. ``grad_fn`` of a non-leaf tensor.

    ``inputs``: the op's positional arguments (Tensors or constants); ``arrays``: their raw
    values at record time (what the fast backward feeds the VJP); ``parents``: per input, the
    producing Node, the leaf Tensor, or None; ``seq``: its number on the clock (creation order).
    """

    # out_ref (a weakref to the output, for ops whose VJP reads it), hooks, retain_ref and trace are
    # set only when used; read them with getattr(node, name, None).
    __slots__ = ("op", "inputs", "arrays", "parents", "ans", "kwargs", "seq", "out_ref", "hooks",
                 "retain_ref", "trace", "__weakref__")

    def __init__(self, op, inputs, arrays, parents, ans, kwargs):
        self.op = op
        self.inputs = inputs
        self.arrays = arrays
        self.parents = parents
        self.ans = ans
        self.kwargs = kwargs
        self.seq = next_seq()

    def name(self):
        return self.op.backward_name

    def __repr__(self):
        return f"<{self.op.backward_name} object>"

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
        return "<AccumulateGrad object>"

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


# One clock orders node creation and in-place changes. A node takes a number when it is made
# (``seq``: also its place in the backward order); an in-place change stamps the storage's version
# counter with a later number (``mod``) and remembers it in ``_clock``. Backward checks a node's
# saved values only if ``_clock`` is past the node's ``seq``, so the common case costs one comparison.
next_seq = itertools.count(1).__next__
_clock = 0   # the number of the latest in-place change
_seq = operator.attrgetter("seq")


class VersionCounter:
    """One per storage, shared by every alias of it (views, ``detach()``, ``.data``).

    ``version`` counts in-place changes (PyTorch's ``_version``); ``mod`` is the clock number of
    the latest one; ``views`` holds weak references to the views of this storage that have
    history, so that an in-place change can rebase them."""
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
    return vc


def bump(t, version=None):
    """Mark ``t``'s storage as changed in place: every alias of it sees the new version."""
    global _clock
    vc = counter(t)
    vc.version = vc.version + 1 if version is None else version
    _clock = vc.mod = next_seq()


tick = bump


def alias(t):
    """A new leaf on ``t``'s storage and version counter, cut from the tape (``detach()``, ``.data``)."""
    a = make(t._data)
    a._vc = counter(t)
    return a


# Hooks and retain_grad on non-leaf tensors are rare: backward looks for them only once any was set.
_node_hooks_used = False


def hooks_used():
    global _node_hooks_used
    _node_hooks_used = True


# Observers (inspect.trace / profile) and anomaly mode make recording slower; one flag says if any is on.
_watch = False


def _update_watch():
    global _watch
    _watch = bool(mode.observers) or mode.anomaly


def add_observer(fn):
    """Call ``fn(node, out)`` for every node recorded from now on (this thread)."""
    mode.observers = tuple(mode.observers) + (fn,)


def remove_observer(fn):
    mode.observers = tuple(o for o in mode.observers if o is not fn)


def record(op, inputs, arrays, parents, ans, out, kwargs):
    """Attach a Node for ``out`` (called by the registry only when recording).

    ``inputs`` holds the op's positional arguments: Tensors, or raw constants (scalars,
    arrays) that get no gradient and have ``None`` as their parent.
    """
    if op.uses_ans:
        node = Node(op, inputs, arrays, parents, ans, kwargs)
        node.out_ref = _wref(out)
    else:
        node = Node(op, inputs, arrays, parents, None, kwargs)
    out._node = node
    if _watch:
        watch(node, out)
    return node


def watch(node, out):
    """Slow path of recording: anomaly traces and observers."""
    if mode.anomaly:
        node.trace = "".join(traceback.format_stack()[:-2])  # without watch() and the op's apply()
    for obs in mode.observers:
        obs(node, out)


import weakref as _weakref_mod  # noqa: E402
_wref = _weakref_mod.ref


def check_inplace(t, opname):
    """Refuse in-place changes of a leaf that requires grad while recording."""
    if mode.enabled and t.requires_grad and t._node is None:
        raise RuntimeError(f"{opname}: a leaf tensor that requires grad can't be changed in place; "
                           "wrap the update in `with no_grad():` (as optimizers do) or use an out-of-place op")


# -- backward -------------------------------------------------------------------------------
_FREED = ("Trying to backward through the graph a second time (or to use saved values after they were "
          "freed). Saved values are freed after backward; pass retain_graph=True to the first backward "
          "call if you need to backward through the graph again.")


def _as_grad_array(g, like):
    if g is None:
        return None
    if isinstance(g, Tensor):
        g = g._data
    g = np.asarray(g, dtype=like.dtype)
    if g.shape != like.shape:
        raise RuntimeError(f"backward: gradient has shape {g.shape} but the tensor has shape {like.shape}")
    return g


def backward(root, gradient=None, retain_graph=None, create_graph=False, inputs=None, explain=False):
    """``root.backward(gradient)``: accumulate gradients into the ``.grad`` of leaves."""
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    grads = list(gradient) if isinstance(gradient, (list, tuple)) else [gradient] * len(roots)
    if inputs is not None:
        inputs = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
    res = run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph,
                       targets=inputs, accumulate=True, explain=explain)
    return res


def autograd_grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
                  allow_unused=False):
    """Like ``torch.autograd.grad``: d(outputs)/d(inputs) as a tuple, without touching ``.grad``."""
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    res = run_backward(outputs, list(grad_outputs), retain_graph=retain_graph, create_graph=create_graph,
                       targets=inputs, accumulate=False)
    for t, g in zip(inputs, res):
        if g is None and not allow_unused:
            raise RuntimeError("One of the differentiated tensors appears to not have been used in the graph. "
                               "Set allow_unused=True if this is the desired behavior.")
    return tuple(res)


def _unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (undo numpy broadcasting). Works on arrays and Tensors."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if axes:
        g = g.sum(axis=axes)
    if g.shape != shape:
        g = g.reshape(shape)
    return g


unbroadcast = _unbroadcast


def run_backward(roots, root_grads, retain_graph=None, create_graph=False, targets=None,
                 accumulate=True, explain=False):
    if retain_graph is None:
        retain_graph = create_graph
    # Seed gradients ------------------------------------------------------------------
    seeds = []
    for r, g in zip(roots, root_grads):
        if not isinstance(r, Tensor):
            raise TypeError(f"backward: expected a Tensor, got {type(r).__name__}")
        if not r.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn: "
                               "did you create it inside no_grad(), or from inputs without requires_grad=True?")
        if g is None:
            if r._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this output has "
                                   f"shape {r.shape}: pass `gradient=` (a tensor of that shape) to backward()")
            g = np.ones(r.shape, r.dtype)
        else:
            if create_graph and isinstance(g, Tensor):
                if g.shape != r.shape:
                    raise RuntimeError(f"backward: gradient has shape {g.shape} but the tensor has shape {r.shape}")
            else:
                g = _as_grad_array(g, r._data).copy()
        seeds.append((r, g))

    if create_graph:
        seeds = [(r, g if isinstance(g, Tensor) else make(g)) for r, g in seeds]

    logger = None
    if explain or mode.explain is not None:  # backward(explain=...) or inspect.explain_backward()
        from .inspect import ExplainLogger
        logger = ExplainLogger.from_arg(explain, roots)

    prev_mode = mode.enabled
    mode.enabled = bool(create_graph)
    try:
        with np.errstate(all="ignore"):  # inf/nan in gradients are reported by detect_anomaly, not warnings
            res = _run(seeds, retain_graph, create_graph, targets, accumulate, logger)
    finally:
        mode.enabled = prev_mode
    if logger is not None:
        logger.done()  # report the leaves' totals once .grad holds them
    return res


def _run(seeds, retain_graph, create_graph, targets, accumulate, logger):
    grads = {}        # node or leaf tensor -> accumulated gradient
    start = []
    for r, g in seeds:
        key = r._node if r._node is not None else r
        if key in grads:
            grads[key] = grads[key] + g
        else:
            grads[key] = g
            start.append(key)

    # 1. Collect the reachable nodes (iterative DFS: no recursion limit). A node is always
    #    created after its inputs, so descending creation order (``seq``) is a reverse
    #    topological order: every consumer runs before the node it feeds.
    stack = [k for k in start if type(k) is Node]
    seen = set(stack)
    while stack:
        node = stack.pop()
        parents = node.parents
        if parents is None:
            raise RuntimeError(_FREED)
        for p in parents:
            if type(p) is Node and p not in seen:
                seen.add(p)
                stack.append(p)
    order = sorted(seen, key=_seq, reverse=True)

    target_keys = None
    target_grads = {}
    if targets is not None:
        target_keys = {}
        for i, t in enumerate(targets):
            k = t._node if t._node is not None else t
            target_keys.setdefault(k, []).append(i)

    leaf_grads = {}
    used_ids = set()
    for k in start:
        if type(k) is not Node:
            leaf_grads[k] = grads.pop(k)
            used_ids.add(id(leaf_grads[k]))
    anomaly = mode.anomaly
    slow = bool(create_graph or logger is not None or anomaly)

    # 2. One reverse pass.
    special = _node_hooks_used or target_keys is not None
    clock = _clock
    for node in order:
        g = grads.pop(node, None)
        if g is None:
            continue  # nothing flows back through this node
        if special:
            if _node_hooks_used:
                g = _node_hooks(node, g, create_graph)
            if target_keys is not None and node in target_keys:
                target_grads[node] = g
        op = node.op
        parents = node.parents
        if node.seq < clock:
            _check_versions(node)
        kw = node.kwargs
        vjps = op.vjps
        if vjps is not None and not slow:
            # Fast path: the rules run on raw arrays, one per input that needs a gradient.
            args = node.arrays
            ans = node.ans
            same = op.same_shape
            for i, p in enumerate(parents):
                if p is None:
                    continue
                gi = vjps[i](g, ans, *args, **kw) if kw else vjps[i](g, ans, *args)
                if not same:
                    like = args[i]
                    if gi.shape != like.shape or gi.dtype != like.dtype:
                        gi = _fit(gi, like)
                if type(p) is Node:
                    prev = grads.get(p)
                    grads[p] = gi if prev is None else prev + gi
                else:
                    prev = leaf_grads.get(p)
                    leaf_grads[p] = gi if prev is None else prev + gi
        else:
            in_grads = _input_grads(node, g, create_graph, logger)
            for i, p in enumerate(parents):
                gi = in_grads[i]
                if p is None or gi is None:
                    continue
                if anomaly:
                    _check_finite(node, i, gi)
                if type(p) is Node:
                    prev = grads.get(p)
                    grads[p] = gi if prev is None else prev + gi
                else:
                    prev = leaf_grads.get(p)
                    leaf_grads[p] = gi if prev is None else prev + gi
        if not retain_graph:
            node.inputs = node.arrays = node.parents = node.ans = None
            node.kwargs = _EMPTY

    # 3. Leaves: hooks, then accumulate into .grad (or collect for targets).
    results = None
    if target_keys is not None:
        results = [None] * len(targets)
        for k, idxs in target_keys.items():
            gk = target_grads.get(k) if type(k) is Node else leaf_grads.get(k)
            if gk is not None and not create_graph and not isinstance(gk, Tensor):
                gk = make(np.array(gk))  # an owned copy: a rule may have returned a view or g itself
            for i in idxs:
                results[i] = gk
        if not accumulate:
            return results
    for leaf, g in leaf_grads.items():
        if targets is not None and leaf not in target_keys:
            continue
        lh = getattr(leaf, "_hooks", None)
        if lh:
            for h in lh:
                r = h(g if create_graph else make(g))
                if r is not None:
                    g = r if create_graph else (r._data if isinstance(r, Tensor) else np.asarray(r))
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
            continue
        if type(g) is not np.ndarray:
            g = np.array(g)  # a numpy scalar from a 0-d rule
        if leaf.grad is None:
            if id(g) in used_ids or not g.flags.owndata or not g.flags.writeable:
                g = g.copy()
            used_ids.add(id(g))
            leaf.grad = make(g)
        elif leaf.grad.requires_grad:
            leaf.grad = make(leaf.grad._data + g)
        else:
            leaf.grad._data += g
    return results


_EMPTY = {}


def _fit(gi, like):
    """Un-broadcast ``gi`` to ``like``'s shape and cast it to its dtype (arrays or Tensors)."""
    if gi.shape != like.shape:
        gi = _unbroadcast(gi, like.shape)
    if gi.dtype != like.dtype:
        gi = gi.astype(like.dtype)
    return gi


def _input_grads(node, g, create_graph, logger):
    """All input gradients of ``node`` (None where not needed), fitted to the inputs: the general path
    for create_graph (rules run on Tensors), joint rules, explained backward and anomaly mode."""
    op, parents, kw = node.op, node.parents, node.kwargs
    if create_graph:
        ref = getattr(node, "out_ref", None)
        ans = ref() if ref is not None else None
        if ans is None and op.uses_ans:
            ans = op.fn(*node.inputs, **kw)  # the output tensor is gone: recompute it on the tape
        args = node.inputs
    else:
        ans = node.ans
        args = node.arrays
    if op.vjps is None:
        raw = op.vjp(g, ans, *args, needs=tuple(p is not None for p in parents), **kw)
    else:
        raw = [op.vjps[i](g, ans, *args, **kw) if p is not None else None for i, p in enumerate(parents)]
    out = []
    for i, gi in enumerate(raw):
        if gi is None or parents[i] is None:
            out.append(None)
            continue
        like = node.arrays[i]
        if create_graph and not isinstance(gi, Tensor):
            gi = make(np.asarray(gi, dtype=like.dtype))
        out.append(_fit(gi, like))
    if logger is not None:  # the raw rule outputs: the explanation shows the un-broadcast sums itself
        logger.log_node(node, g, raw, node.inputs)
    return out


def _node_hooks(node, g, create_graph):
    hooks = getattr(node, "hooks", None)
    if hooks:
        for h in hooks:
            r = h(g if create_graph else make(g))
            if r is not None:
                g = r if create_graph else (r._data if isinstance(r, Tensor) else np.asarray(r))
    ref = getattr(node, "retain_ref", None)
    if ref is not None:
        t = ref()
        if t is not None:
            gv = g if create_graph else make(g.copy())
            t.grad = gv if t.grad is None else t.grad + gv
    return g


def _check_finite(node, i, gi):
    if not np.all(np.isfinite(gi._data if isinstance(gi, Tensor) else gi)):
        trace = getattr(node, "trace", None)
        where = ("\nThe op was created at:\n" + trace) if trace else ""
        raise RuntimeError(f"Function '{node.name()}' returned nan or inf values in its {i}th output "
                           f"(the gradient for input {i}, shape {tuple(np.shape(gi))}).{where}")


def _check_versions(node):
    """Some tensor changed in place since ``node`` was recorded: was it one the VJP reads?"""
    uses = node.op.uses
    n = len(node.inputs)
    for i in (range(n) if uses is None else uses):
        if i >= n:
            continue  # a variable-arity op (batch_norm without weight) names inputs this call doesn't have
        t = node.inputs[i]
        vc = getattr(t, "_vc", None) if isinstance(t, Tensor) else None
        if vc is not None and vc.mod > node.seq:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an in-place "
                f"operation: input {i} of {node.name()} (shape {tuple(t.shape)}, now at version {t._version}) was "
                f"changed after {node.name()} saved it. Clone the tensor before changing it in place "
                f"(t = t.clone()), or change it out of place.")
    ref = getattr(node, "out_ref", None)
    if node.op.uses_ans and ref is not None:
        out = ref()
        vc = getattr(out, "_vc", None) if out is not None else None
        if vc is not None and vc.mod > node.seq:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an in-place "
                f"operation: the output of {node.name()} (shape {tuple(out.shape)}) was changed in place "
                f"after it was saved. Clone it first (y = y.clone()).")

"""The reverse pass: ``backward`` and ``autograd_grad`` (PyTorch's ``torch.autograd.grad``).

``backward`` runs the nodes that a gradient reaches in reverse creation order (a node is always made
after its inputs, so that is a reverse topological order), taking them from a heap as their first
gradient arrives (no recursion, no separate search of the graph), un-broadcasts and casts each rule's
output to its input's shape and dtype (once, here, never in a rule), accumulates ``.grad`` on leaves and frees what the nodes
saved unless ``retain_graph=True``. A slice's gradient (ops made with ``region_grad``: ``x[idx]``,
``split``, ``chunk``, ``unbind``) is kept as the slice's g and its index until the whole array is
needed, so that the pieces of one tensor (q, k and v from one projection) add into one buffer instead
of each making zeros of the whole shape and the pass adding those up. With ``create_graph=True`` the
rules run on Tensors, so the backward pass is itself recorded and can be differentiated again.

Listeners (``listeners.py``) see each VJP and the end of each pass; the engine calls them only
while one is open.
"""
from __future__ import annotations

from heapq import heapify, heappop, heappush

import numpy as np

from . import listeners as _listeners
from . import modes
from . import node as _node_mod
from .kernels.scratch import _primed, prime_allocator as _prime_allocator
from .node import Node, unbroadcast as _unbroadcast

__all__ = ["backward", "autograd_grad", "run_backward"]

mode = modes.state
ndarray = np.ndarray
flags = _node_mod.flags


def _tensor():
    return _node_mod.Tensor


def _make(a):
    return _node_mod.make(a)


_FREED = ("Trying to backward through the graph a second time (or to use saved values after they were "
          "freed). Saved values are freed after backward; pass retain_graph=True to the first backward "
          "call if you need to backward through the graph again.")


def _as_grad_array(g, like):
    if g is None:
        return None
    if isinstance(g, _tensor()):
        g = g._data
    g = np.asarray(g, dtype=like.dtype)
    if g.shape != like.shape:
        raise RuntimeError(f"backward: gradient has shape {g.shape} but the tensor has shape {like.shape}")
    return g


def backward(root, gradient=None, retain_graph=None, create_graph=False, inputs=None, explain=False):
    """``root.backward(gradient)``: accumulate d(root)/d(leaf) into the ``.grad`` of every leaf (``root``
    may be a list of roots, ``gradient`` then a list of their upstream gradients). PyTorch:
    ``torch.autograd.backward``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> ag.backward((x * x).sum())
    >>> x.grad
    tensor([2., 4.])
    """
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    grads = list(gradient) if isinstance(gradient, (list, tuple)) else [gradient] * len(roots)
    if inputs is not None:
        inputs = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
    res = run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph,
                       targets=inputs, accumulate=True, explain=explain)
    return res


def autograd_grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
                  allow_unused=False):
    """Like ``torch.autograd.grad``: d(outputs)/d(inputs) as a tuple, without touching ``.grad``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> ag.autograd_grad((x ** 3).sum(), [x])
    (tensor([ 3., 12.]),)
    >>> x.grad is None
    True
    """
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


def run_backward(roots, root_grads, retain_graph=None, create_graph=False, targets=None,
                 accumulate=True, explain=False):
    if not _primed[0]:
        _prime_allocator()
    if retain_graph is None:
        retain_graph = create_graph
    # Seed gradients ------------------------------------------------------------------
    seeds = []
    for r, g in zip(roots, root_grads):
        if not isinstance(r, _tensor()):
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
            if create_graph and isinstance(g, _tensor()):
                if g.shape != r.shape:
                    raise RuntimeError(f"backward: gradient has shape {g.shape} but the tensor has shape {r.shape}")
            else:
                g = _as_grad_array(g, r._data).copy()
        seeds.append((r, g))

    if create_graph:
        seeds = [(r, g if isinstance(g, _tensor()) else _make(g)) for r, g in seeds]

    logger = None
    if explain or mode.explain is not None:
        # backward(explain=...) or an open inspect.explain_backward(): the inspect package makes the logger
        factory = _listeners.explain_factory
        if factory is None:
            raise RuntimeError("backward(explain=...) needs autograd_core.inspect; import it first")
        logger = factory(explain, roots)

    prev_mode = mode.enabled
    mode.enabled = bool(create_graph)
    try:
        with np.errstate(all="ignore"):  # inf/nan in gradients are reported by detect_anomaly, not warnings
            res = _run(seeds, retain_graph, create_graph, targets, accumulate, logger)
    finally:
        mode.enabled = prev_mode
    if logger is not None:
        logger.done()  # report the leaves' totals once .grad holds them
    if modes.listening:
        for lst in mode.listeners:
            lst.on_backward_end(roots)
    return res


class _Region:
    """zeros(shape) with ``g`` written at the basic index ``idx``, not made yet (see the module docstring)."""
    __slots__ = ("g", "idx", "shape")

    def __init__(self, g, idx, shape):
        self.g, self.idx, self.shape = g, idx, shape

    def full(self):
        z = np.zeros(self.shape, self.g.dtype)
        z[self.idx] = self.g
        return z


def _add(prev, gi, key, own):
    """The sum of a gradient slot's ``prev`` and a new ``gi`` (either may be a ``_Region``). ``own``: the
    slots whose array this pass made, so nothing else refers to it and it may be added into in place."""
    if type(gi) is _Region:
        if type(prev) is _Region:
            buf = prev.full()
        elif key in own and type(prev) is ndarray and prev.dtype == gi.g.dtype:
            buf = prev
        else:
            buf = np.array(prev, dtype=np.result_type(prev, gi.g))
        buf[gi.idx] += gi.g
    elif type(prev) is _Region:
        buf = np.array(gi, dtype=np.result_type(gi, prev.g))
        buf[prev.idx] += prev.g
    elif key in own and type(gi) is ndarray and gi.dtype == prev.dtype and gi.shape == prev.shape:
        prev += gi
        return prev
    else:
        own.discard(key)
        return prev + gi
    own.add(key)
    return buf


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

    # 1. The nodes to run, latest first: a node is always created after its inputs, so descending
    #    creation order (``seq``) is a reverse topological order. A node joins the heap when it first
    #    receives a gradient, from a consumer (created later, so run earlier); when it is popped, every
    #    node created after it that a gradient reaches has run, and its gradient is complete. One pass,
    #    no separate search of the graph (iterative: no recursion limit).
    heap = [(-k.seq, k) for k in start if type(k) is Node]
    heapify(heap)

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
    watched = mode.listeners if modes.listening else ()
    slow = bool(create_graph or logger is not None or watched)
    own = set()     # slots (nodes, leaves) holding an array made by ``_add``: safe to add into in place
    lazy = False    # a region was made: slots may hold regions, or arrays in ``own``

    # 2. One reverse pass.
    node_hooks = flags.node_hooks
    special = node_hooks or target_keys is not None
    clock = _node_mod.clock.last
    plain = not (slow or special)
    while heap:
        if plain and not lazy:
            node = _plain_pass(heap, grads, leaf_grads, clock, retain_graph)
            if node is None:
                break
        else:
            node = heappop(heap)[1]
        g = grads.pop(node)
        if lazy:
            own.discard(node)
        if type(g) is not ndarray:
            if type(g) is _Region:
                g = g.full()
            elif isinstance(g, np.generic):
                g = np.asarray(g)  # a numpy scalar from a rule on 0-d arrays: rules index and copy g
        if special:
            if node_hooks:
                g = _node_hooks(node, g, create_graph)
            if target_keys is not None and node in target_keys:
                target_grads[node] = g
        op = node.op
        parents = node.parents
        if parents is None:
            raise RuntimeError(_FREED)
        if node.seq < clock:
            _check_versions(node)
        kw = node.kwargs
        vjps = op.vjps
        if vjps is not None and not slow:
            # Fast path: the rules run on raw arrays, one per input that needs a gradient.
            in_grads = None
            args = node.arrays
            ans = node.ans
            same = op.same_shape
            region = op.region_grad and not kw.get("adv") and type(g) is ndarray and g.dtype == args[0].dtype
        else:
            in_grads = _input_grads(node, g, create_graph, logger, watched)
        for i, p in enumerate(parents):
            if p is None:
                continue
            if in_grads is not None:
                gi = in_grads[i]
                if gi is None:
                    continue
            elif region:
                gi = _Region(g, kw["idx"], args[0].shape)
                lazy = True
            else:
                gi = vjps[i](g, ans, *args, **kw) if kw else vjps[i](g, ans, *args)
                if not same:
                    like = args[i]
                    if gi.shape != like.shape or gi.dtype != like.dtype:
                        gi = _fit(gi, like)
            if type(p) is Node:
                slots = grads
                prev = grads.get(p)
                if prev is None:
                    heappush(heap, (-p.seq, p))
            else:
                slots = leaf_grads
                prev = leaf_grads.get(p)
            if prev is None:
                slots[p] = gi
            elif lazy:
                slots[p] = _add(prev, gi, p, own)
            else:
                slots[p] = prev + gi
        if not retain_graph:
            node.inputs = node.arrays = node.parents = node.ans = None
            node.kwargs = _EMPTY

    if lazy:
        for leaf, g in leaf_grads.items():
            if type(g) is _Region:
                leaf_grads[leaf] = g.full()

    # 3. Leaves: hooks, then accumulate into .grad (or collect for targets).
    results = None
    if target_keys is not None:
        results = [None] * len(targets)
        for k, idxs in target_keys.items():
            gk = target_grads.get(k) if type(k) is Node else leaf_grads.get(k)
            if gk is not None and not create_graph and not isinstance(gk, _tensor()):
                gk = _make(np.array(gk))  # an owned copy: a rule may have returned a view or g itself
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
                r = h(g if create_graph else _make(g))
                if r is not None:
                    g = _hook_result(h, g, r, create_graph)
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
            continue
        if type(g) is not np.ndarray:
            g = np.array(g)  # a numpy scalar from a 0-d rule
        if leaf.grad is None:
            if id(g) in used_ids or not g.flags.owndata or not g.flags.writeable:
                g = g.copy()
            used_ids.add(id(g))
            leaf.grad = _make(g)
        elif leaf.grad.requires_grad:
            leaf.grad = _make(leaf.grad._data + g)
        else:
            leaf.grad._data += g
    for leaf in leaf_grads:
        ph = getattr(leaf, "_post_hooks", None)
        if ph and (targets is None or leaf in target_keys):
            for h in tuple(ph):
                h(leaf)
    return results


_EMPTY = {}


def _plain_pass(heap, grads, leaf_grads, clock, retain_graph):
    """``_run``'s loop for the common case: no hooks, targets, listeners, create_graph or regions.

    Runs nodes from ``heap`` while their op has per-input rules and makes no region; returns the first
    node it does not run (popped from the heap, its gradient still in ``grads``), or None when the heap
    is empty. The checks that the general loop makes per node are made once, by its caller.
    """
    nxt = None   # a pending node kept off the heap: the next one, when the graph is a chain here
    while True:
        if nxt is not None and (not heap or nxt.seq > -heap[0][0]):
            node = nxt
            nxt = None
        elif heap:
            node = heappop(heap)[1]
        else:
            return None
        op = node.op
        vjps = op.vjps
        if vjps is None or op.region_grad:
            if nxt is not None:
                heappush(heap, (-nxt.seq, nxt))
            return node
        g = grads.pop(node)
        if type(g) is not ndarray:
            g = np.asarray(g)  # a numpy scalar from a rule on 0-d arrays: rules index and copy g
        parents = node.parents
        if parents is None:
            raise RuntimeError(_FREED)
        if node.seq < clock:
            _check_versions(node)
        kw = node.kwargs
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
                if prev is None:
                    if nxt is None:
                        nxt = p
                    else:
                        heappush(heap, (-p.seq, p))
                    grads[p] = gi
                else:
                    grads[p] = prev + gi
            else:
                prev = leaf_grads.get(p)
                leaf_grads[p] = gi if prev is None else prev + gi
        if not retain_graph:
            node.inputs = node.arrays = node.parents = node.ans = None
            node.kwargs = _EMPTY


def _fit(gi, like):
    """Un-broadcast ``gi`` to ``like``'s shape and cast it to its dtype (arrays or Tensors)."""
    if gi.shape != like.shape:
        gi = _unbroadcast(gi, like.shape)
    if gi.dtype != like.dtype:
        gi = gi.astype(like.dtype)
    return gi


def _input_grads(node, g, create_graph, logger, watched=()):
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
    for lst in watched:
        lst.on_vjp_begin(node)
    if op.vjps is None:
        raw = op.vjp(g, ans, *args, needs=tuple(p is not None for p in parents), **kw)
    else:
        raw = [op.vjps[i](g, ans, *args, **kw) if p is not None else None for i, p in enumerate(parents)]
    out = []
    linked = _linked_inputs(node) if create_graph else None
    for i, gi in enumerate(raw):
        if gi is None or parents[i] is None:
            out.append(None)
            continue
        like = node.arrays[i]
        if create_graph and not isinstance(gi, _tensor()):
            gi = _make(np.asarray(gi, dtype=like.dtype))
        if linked:
            gi = _node_mod.link_inputs(gi, linked)
        out.append(_fit(gi, like))
    if logger is not None:  # the raw rule outputs: the explanation shows the un-broadcast sums itself
        logger.log_node(node, g, raw, node.inputs)
    for lst in watched:
        lst.on_vjp(node, g, raw, node.inputs)
    return out


def _linked_inputs(node):
    """The inputs that the node's rules read and that require grad: a gradient computed with create_graph
    is recorded as depending on them (with a zero derivative; ``ops.elementwise._link_inputs``)."""
    if node.op.name == "depends_on" or getattr(_node_mod, "link_inputs", None) is None:
        return None
    T = _tensor()
    xs = [node.inputs[j] for j in _read_inputs(node)]
    return [x for x in xs if isinstance(x, T) and x.requires_grad] or None


def _node_hooks(node, g, create_graph):
    hooks = getattr(node, "hooks", None)
    if hooks:
        for h in hooks:
            r = h(g if create_graph else _make(g))
            if r is not None:
                g = _hook_result(h, g, r, create_graph)
    ref = getattr(node, "retain_ref", None)
    if ref is not None:
        t = ref()
        if t is not None:
            gv = g if create_graph else _make(g.copy())
            t.grad = gv if t.grad is None else t.grad + gv
    return g


def _hook_result(hook, g, r, create_graph):
    """A hook's return value ``r``, which replaces the gradient ``g``: refused, as in PyTorch, when its shape
    or dtype differs (the rules downstream rely on both)."""
    v = r if create_graph else (r._data if isinstance(r, _tensor()) else np.asarray(r))
    name = getattr(hook, "__name__", type(hook).__name__)
    if tuple(v.shape) != tuple(g.shape):
        raise RuntimeError(f"hook '{name}' has changed the size of value: it returned shape {tuple(v.shape)} for a "
                           f"gradient of shape {tuple(g.shape)}; return a tensor of the gradient's shape")
    if v.dtype != g.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.dtype} got {v.dtype}); "
                           f"cast what it returns to the gradient's dtype (.to(grad.dtype))")
    return v


def _check_versions(node):
    """Some storage changed in place since ``node`` was recorded: was it one that the node's rules read?"""
    Tensor = _tensor()
    for i in _read_inputs(node):
        t = node.inputs[i]
        vc = getattr(t, "_vc", None) if isinstance(t, Tensor) else None
        if vc is not None and vc.mod > node.seq:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an in-place "
                f"operation: input {i} of {node.name()} (shape {tuple(t.shape)}, now at version {t._version}) was "
                f"changed after {node.name()} saved it (directly or through a view that shares its storage). "
                f"Clone the tensor before changing it in place (t = t.clone()), or change it out of place.")
    if _reads_output(node):
        ref = getattr(node, "out_ref", None)
        out = ref() if ref is not None else None
        vc = getattr(node, "out_vc", None) or (getattr(out, "_vc", None) if out is not None else None)
        if vc is not None and vc.mod > node.seq:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an in-place "
                f"operation: the output of {node.name()} (shape {tuple(np.shape(node.ans))}, now at version {vc.version}) "
                f"was changed in place after it was saved (directly or through a view). Clone it first "
                f"(y = y.clone()).")


def _needed_reads(node):
    """The union of what the rules that will run read: input indices and "ans"."""
    op = node.op
    reads = op.reads
    if reads is None:
        n = len(node.inputs)
        idx = range(n) if op.uses is None else [i for i in op.uses if i < n]
        return set(idx) | ({"ans"} if op.uses_ans else set())
    need = set()
    for i, p in enumerate(node.parents):
        if p is not None and i < len(reads):
            need.update(reads[i])
    return need


def _read_inputs(node):
    return sorted(i for i in _needed_reads(node) if i != "ans" and i < len(node.inputs))


def _reads_output(node):
    return "ans" in _needed_reads(node)

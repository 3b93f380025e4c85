"""``trace(fn, *inputs)``: run ``fn`` once and keep every op it recorded, in order, as a ``Tape``.

``print(tape)`` gives one line per op::

    %3 = matmul(%x[64,784], %w1[784,256])  -> [64,256] float32
    %4 = add(%3, %b1[256])                 -> [64,256]           (broadcast b1)

Values are numbered in order of appearance (the example inputs first); named values print
as ``%name``. Leaves show their shape where they are used; an op's output shape is on its
own line, and its dtype is shown where it changes. ``(broadcast b1)`` marks an elementwise
op whose input ``b1`` was broadcast (its gradient is summed back on the way down).
"""
from __future__ import annotations

import inspect as _pyinspect
import threading
from collections.abc import Mapping

import numpy as np

from .. import listeners
from ..tensor import Tensor
from . import _fmt
from .explain import ExplainLogger
from ._fmt import dtype_str, fmt_value, names_from, shape_str, shown_kwargs

__all__ = ["trace", "Tape", "TapeEntry", "scope"]


# -- scopes: which module (or user-named block) an op was recorded in ---------------------------
class _Scopes(threading.local):
    stack = ()


_scopes = _Scopes()


class scope:
    """``with scope("block1"): ...`` labels the ops recorded inside, for ``draw(group_modules=True)``
    and the listing. Nested scopes join with dots (``block1.attn``); ``trace(module=...)`` opens
    one per submodule call automatically.

    >>> import autograd_core as ag
    >>> from autograd_core.inspect import scope
    >>> def f(x):
    ...     with scope("block1"):
    ...         return (x * 2).sum()
    >>> tape = ag.trace(f, ag.tensor([1.0, 2.0]))
    >>> [e.scope for e in tape.entries]
    ['block1', 'block1']
    """

    def __init__(self, name):
        self.name = str(name)

    def __enter__(self):
        st = _scopes.stack
        full = f"{st[-1]}.{self.name}" if st else self.name
        _scopes.stack = st + (full,)
        return self

    def __exit__(self, *exc):
        _scopes.stack = _scopes.stack[:-1]
        return False


def _push(path):
    _scopes.stack = _scopes.stack + (path,)


def _pop():
    _scopes.stack = _scopes.stack[:-1]


# -- the tape ---------------------------------------------------------------------------------
class TapeEntry:
    """One recorded op: ``%index = op(*inputs, **kwargs) -> output``.

    ``inputs`` are the op's positional arguments (Tensors or constants), ``parents`` what the
    backward follows from each (the producing Node, a leaf Tensor, or None), ``scope`` the
    module path (or ``scope()`` name) the op ran in.

    >>> import autograd_core as ag
    >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
    >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
    >>> e = tape.entries[0]
    >>> e, e.name, e.index
    (<TapeEntry %2 = mul>, 'mul', 2)
    """

    __slots__ = ("index", "op", "node", "inputs", "sources", "parents", "kwargs", "output", "scope")

    def __init__(self, node, output, scope_):
        self.index = -1
        self.op = node.op
        self.node = node
        self.inputs = node.inputs
        # the node that produced each input at this moment (an in-place op may re-point x._node later)
        self.sources = tuple(x._node if isinstance(x, Tensor) else None for x in node.inputs)
        self.parents = node.parents
        self.kwargs = dict(node.kwargs or {})
        self.output = output
        self.scope = scope_

    @property
    def name(self):
        """The op's name (``'mul'``, ``'relu'``, ...)."""
        return self.op.name

    def __repr__(self):
        return f"<TapeEntry %{self.index} = {self.op.name}>"


_ALIGN_MAX = 64


class _Recorder(listeners.Listener):
    """The listener that collects the entries while ``fn`` runs."""

    def __init__(self):
        self.entries = []

    def on_op(self, op, inputs, out, node):
        if node is not None:
            st = _scopes.stack
            self.entries.append(TapeEntry(node, out, st[-1] if st else None))


class Tape:
    """The ops one call of a function recorded, in execution order (see ``trace``).

    ``entries``: the ``TapeEntry`` list; ``inputs``/``outputs``: the example inputs and what the
    function returned; ``label(t)``: how a tensor is shown (``%x``, ``%3``); ``backward()``
    runs backward from the (single) output and keeps every value's gradient norm for ``draw``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> tape = ag.trace(lambda x: (x * x).sum(), x)
    >>> print(tape)
    trace of <lambda>: 1 input, 2 ops
      %1 = mul(%x[2], %x[2])  -> [2] float32
      %2 = sum(%1)            -> []
      return %2
    >>> len(tape.entries), tape.label(x)
    (2, '%x')
    """

    def __init__(self, fn_name, inputs, input_labels, entries, result, names, scope_kinds):
        self.fn_name = fn_name
        self.explained = None               # the ExplainLogger of the last backward()
        self.inputs = inputs
        self.entries = entries
        self.result = result
        self.outputs = tuple(_tensors_in(result))
        self.scope_kinds = scope_kinds      # scope path -> module class name
        self._labels = {}                   # id(tensor) -> label
        self._node_lab = {}                 # id(node) -> label of its output
        self._objs = {}                     # id(tensor) -> tensor (keeps the ids valid)
        self._kind = {}                     # id(leaf) -> 'input' | 'param' | 'const'
        self._index = {}                    # id(tensor) -> value number
        self._grad_norms = {}               # value number -> |dL/dvalue| of the last backward
        self.leaves = []                    # leaf tensors in order of appearance
        self._number(inputs, input_labels, names)

    # -- labels ---------------------------------------------------------------------------
    def _number(self, inputs, input_labels, names):
        used = set()
        count = 0

        def assign(t, preferred):
            nonlocal count
            num = count
            count += 1
            lab = f"%{preferred}" if preferred else None
            if lab is not None and lab[1:2].isdigit():
                lab = f"%_{preferred}"   # a name must not read like a value number
            if lab is None or lab in used:
                lab = f"%{num}"
            used.add(lab)
            self._labels[id(t)] = lab
            self._objs[id(t)] = t
            self._index[id(t)] = num
            return num

        input_ids = set()
        for t, lab in zip(inputs, input_labels):
            if id(t) in self._labels:
                continue
            input_ids.add(id(t))
            assign(t, names.get(id(t)) or t.name or lab)
            self.leaves.append(t)
        for e in self.entries:
            for x, src in zip(e.inputs, e.sources):
                if isinstance(x, Tensor) and id(src) not in self._node_lab and id(x) not in self._labels:
                    assign(x, names.get(id(x)) or x.name)
                    self.leaves.append(x)
            e.index = assign(e.output, names.get(id(e.output)) or e.output.name)
            self._node_lab[id(e.node)] = self._labels[id(e.output)]
        for t in self.leaves:
            if id(t) in input_ids:
                self._kind[id(t)] = "param" if t.requires_grad else "input"
            elif t._node is not None:
                self._kind[id(t)] = "external"   # computed before the trace started
            else:
                self._kind[id(t)] = "param" if t.requires_grad else "const"
        for e in self.entries:
            _fmt.register_node(e.node, self._labels[id(e.output)])
        for t in self.leaves:
            _fmt.register_tensor(t, self._labels[id(t)])

    def label(self, t):
        """``%name`` or ``%N`` for a tensor seen by this tape, else None.

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> tape.label(w), tape.label(tape.output), tape.label(ag.zeros(1))
        ('%w', '%4', None)
        """
        return self._labels.get(id(t)) if self._objs.get(id(t)) is t else None

    def kind(self, t):
        """'input', 'param' or 'const' for a leaf of this tape, 'op' for an op's output.

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> tape.kind(w), tape.kind(tape.inputs[0]), tape.kind(tape.output)
        ('param', 'input', 'op')
        """
        return self._kind.get(id(t), "op" if self.label(t) is not None else None)

    def index(self, t):
        """The value number of tensor ``t`` on this tape (the N of ``%N``: inputs first, then each op's
        output in order), or None for a tensor the tape didn't see.

        >>> import autograd_core as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: x.exp().sum(), x)
        >>> tape.index(x), tape.index(tape.output), tape.index(ag.zeros(1))
        (0, 2, None)
        """
        return self._index.get(id(t)) if self._objs.get(id(t)) is t else None

    def grad_norm(self, t):
        """|dL/dt| from the last ``tape.backward()`` (leaves: the norm of ``t.grad``).

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> tape.backward()
        >>> tape.grad_norm(w), tape.grad_norm(tape.output)
        (3.0, 1.0)
        """
        i = self.index(t)
        if i is None:
            return None
        if self._kind.get(id(t)) is not None:
            return None if t.grad is None else _fmt.norm(t.grad)
        return self._grad_norms.get(i)

    @property
    def output(self):
        """The traced function's one output tensor (a ValueError if it returned several: use
        ``tape.outputs``).

        >>> import autograd_core as ag
        >>> tape = ag.trace(lambda x: x * 2, ag.tensor([1.0, 2.0]))
        >>> tape.output
        tensor([2., 4.])
        """
        if len(self.outputs) != 1:
            raise ValueError(f"Tape.output: the traced function returned {len(self.outputs)} tensors; "
                             "use tape.outputs")
        return self.outputs[0]

    @property
    def params(self):
        """The leaves that require grad (parameters), as (label without %, tensor) pairs.

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> tape.params
        [('w', tensor([ 1., -2.], requires_grad=True))]
        """
        return [(self._labels[id(t)][1:], t) for t in self.leaves if self._kind[id(t)] == "param"]

    def backward(self, gradient=None, retain_graph=None, explain=False):
        """Backward from the traced output (``gradient`` needed unless it has one element), keeping
        every value's gradient norm for ``draw(tape)`` and ``grad_norm``. ``explain`` as in
        ``Tensor.backward`` (True, a stream, a logging.Logger). Returns None (so a REPL echoes
        nothing); the ExplainLogger with every step's numbers is ``tape.explained``.

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> tape.backward()
        >>> w.grad
        tensor([3., 0.])
        """
        lg = ExplainLogger.make(explain)   # silent when explain is False: it only keeps the norms
        self.output.backward(gradient, retain_graph=retain_graph, explain=lg)
        self._grad_norms = {}
        for e in self.entries:
            n = lg.node_grads.get(id(e.node))
            if n is not None:
                self._grad_norms[e.index] = n
        self.explained = lg

    def draw(self, path, **kw):
        """``draw(self, path, **kw)``: the graph as a picture (see ``inspect.draw``).

        >>> import os, tempfile
        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> tape.draw(os.path.join(tempfile.mkdtemp(), "tape.svg")).suffix
        '.svg'
        """
        from .draw import draw
        return draw(self, path, **kw)

    def _repr_svg_(self):
        """The graph drawn inline in Jupyter (an SVG made by ``draw``); None without matplotlib."""
        import os
        import tempfile
        try:
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "tape.svg")
                self.draw(path)
                with open(path, encoding="utf-8") as f:
                    return f.read()
        except ImportError:
            return None

    def __len__(self):
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def __getitem__(self, i):
        return self.entries[i]

    # -- the listing ---------------------------------------------------------------------
    def input_label(self, e, i):
        """Label of input ``i`` of entry ``e`` (the value it got from an earlier op, or a leaf).

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> e = tape.entries[0]
        >>> tape.input_label(e, 0), tape.input_label(e, 1)
        ('%x', '%w')
        """
        src = e.sources[i]
        if src is not None and id(src) in self._node_lab:
            return self._node_lab[id(src)]
        return self.label(e.inputs[i])

    def _ref(self, x, leaf_shapes=True, lab=None):
        if isinstance(x, Tensor):
            lab = lab or self.label(x) or "%?"
            if leaf_shapes and self._kind.get(id(x)) is not None:
                return lab + shape_str(x.shape)
            return lab
        return fmt_value(x)

    def lines(self):
        r"""The listing as a list of lines (without the header).

        >>> import autograd_core as ag
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> tape = ag.trace(lambda x: (x * w).relu().sum(), ag.tensor([3.0, 4.0]), names={"w": w})
        >>> print("\n".join(tape.lines()))
        %2 = mul(%x[2], %w[2])  -> [2] float32
        %3 = relu(%2)           -> [2]
        %4 = sum(%3)            -> []
        """
        rows = []
        prev_dt = None
        for e in self.entries:
            args = [self._ref(x, lab=self.input_label(e, i)) for i, x in enumerate(e.inputs)]
            args += [f"{k}={fmt_value(v)}" for k, v in shown_kwargs(e.op, e.kwargs).items()]
            lhs = f"{self.label(e.output)} = {e.op.name}({', '.join(args)})"
            out = e.output
            res = f"-> {shape_str(out.shape)}"
            if out.dtype != prev_dt:
                res += f" {dtype_str(out.dtype)}"
            prev_dt = out.dtype
            notes = []
            bc = _broadcast_inputs(e, self)
            if bc:
                notes.append(f"(broadcast {', '.join(bc)})")
            if e.scope:
                kind = self.scope_kinds.get(e.scope)
                notes.append(f"# {e.scope}" + (f" ({kind})" if kind else ""))
            rows.append((lhs, res, "  ".join(notes)))
        if not rows:
            return []
        # align the columns, but don't let one very long line push all the others right
        wl = max((len(r[0]) for r in rows if len(r[0]) <= _ALIGN_MAX), default=0)
        wr = max(len(r[1]) for r in rows)
        out_lines = []
        for lhs, res, note in rows:
            line = f"{lhs.ljust(wl)}  {res.ljust(wr) if note else res}"
            if note:
                line += f"  {note}"
            out_lines.append(line)
        return out_lines

    def __str__(self):
        n_in = len(self.inputs)
        head = [f"trace of {self.fn_name}: {n_in} input{'s' * (n_in != 1)}, {len(self.entries)} "
                f"op{'s' * (len(self.entries) != 1)}"]
        ins = set(id(t) for t in self.inputs)
        params = [t for t in self.leaves if self._kind[id(t)] == "param" and id(t) not in ins]
        if params:
            head.append("  params: " + ", ".join(self._ref(t) for t in params))
        body = ["  " + ln for ln in self.lines()]
        outs = [self._ref(t, leaf_shapes=False) for t in self.outputs]
        ret = "  return " + (outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")")
        return "\n".join(head + body + [ret])

    def __repr__(self):
        return f"<Tape of {self.fn_name}: {len(self.entries)} ops>"


# -- broadcast notes --------------------------------------------------------------------------
_elementwise = None


def _elementwise_ops():
    """Names of the ops defined in ops/elementwise.py (the ones that broadcast their inputs)."""
    global _elementwise
    if _elementwise is None:
        from ..ops import elementwise
        from ..ops.registry import OPS
        fns = {id(v) for v in vars(elementwise).values() if callable(v)}
        _elementwise = frozenset(name for name, op in OPS.items() if id(op.fn) in fns)
    return _elementwise


def _broadcast_inputs(e, tape):
    if e.op.name not in _elementwise_ops():
        return []
    shape = e.output.shape
    out = []
    for i, x in enumerate(e.inputs):
        s = np.shape(x._data if isinstance(x, Tensor) else x)
        if len(s) == 0 or tuple(s) == tuple(shape):
            continue
        if isinstance(x, Tensor):
            lab = tape.input_label(e, i) or "%?"
            out.append(lab[1:] if not lab[1:].isdigit() else lab)
        else:
            out.append("const" + shape_str(s))
    return out


# -- trace ------------------------------------------------------------------------------------
def _tensors_in(obj, path="out"):
    """Tensors inside nested tuples/lists/dicts, in order."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _tensors_in(x)
    elif isinstance(obj, Mapping):
        for x in obj.values():
            yield from _tensors_in(x)


def _labelled_inputs(obj, label):
    if isinstance(obj, Tensor):
        yield obj, label
    elif isinstance(obj, (tuple, list)):
        for i, x in enumerate(obj):
            yield from _labelled_inputs(x, f"{label}[{i}]" if label else None)
    elif isinstance(obj, Mapping):
        for k, x in obj.items():
            yield from _labelled_inputs(x, f"{label}[{k}]" if label else None)


def _is_module(obj):
    return callable(getattr(obj, "named_parameters", None))


def _arg_names(fn, n):
    """Names of the first ``n`` positional parameters of ``fn`` (``args[i]`` for ``*args``)."""
    target = fn.forward if _is_module(fn) and hasattr(fn, "forward") else fn
    try:
        params = list(_pyinspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return [None] * n
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            names.extend(f"{p.name}[{i}]" for i in range(n - len(names)))
            break
    return (names + [None] * n)[:n]


def _module_names(module):
    out = {}
    for getter in ("named_parameters", "named_buffers"):
        f = getattr(module, getter, None)
        if f is None:
            continue
        for name, t in f():
            if isinstance(t, Tensor):
                # Sequential's "0.weight" would read like value %0: show it as %self.0.weight
                out.setdefault(id(t), f"self.{name}" if name[:1].isdigit() else name)
    return out


def _module_scope_hooks(module, kinds):
    """Forward pre/post hooks on every submodule that open and close a scope named by its path."""
    handles = []
    named = getattr(module, "named_modules", None)
    if named is None:
        return handles
    for path, m in named():
        if not path:
            continue
        pre, post = getattr(m, "register_forward_pre_hook", None), getattr(m, "register_forward_hook", None)
        if pre is None or post is None:
            continue
        kinds[path] = type(m).__name__
        handles.append(pre(lambda mod, args, _p=path: _push(_p)))
        handles.append(post(lambda mod, args, out: _pop()))
    return handles


def trace(fn, *example_inputs, names=None, module=None, **kwargs):
    """Run ``fn(*example_inputs, **kwargs)`` once and return the ``Tape`` of every op it recorded.

    ``names``: labels for tensors (``{"fc1.weight": w}`` or ``model.named_parameters()``);
    ``module``: a module whose parameter names label its tensors and whose submodules group
    the ops (``fn`` itself is used when it is a module). Float example inputs that don't require
    grad are recorded too (marked for the call only; afterwards they and the values computed
    from them alone don't require grad again, exactly as without the trace). Ops run under
    ``no_grad()`` are not recorded, so they are not on the tape.

    >>> import autograd_core as ag
    >>> w = ag.tensor([[1.0, 2.0]], requires_grad=True)
    >>> tape = ag.trace(lambda x: (x @ w.T).relu().sum(), ag.tensor([[3.0, 4.0]]), names={"w": w})
    >>> print(tape)
    trace of <lambda>: 1 input, 4 ops
      params: %w[1,2]
      %2 = permute(%w[1,2], axes=(1, 0))  -> [2,1] float32
      %3 = matmul(%x[1,2], %2)            -> [1,1]
      %4 = relu(%3)                       -> [1,1]
      %5 = sum(%4)                        -> []
      return %5
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be callable, got {type(fn).__name__}")
    if module is None and _is_module(fn):
        module = fn
    label_of = {}
    kinds = {}
    if module is not None:
        if not _is_module(module):
            raise TypeError(f"trace: module= needs an object with named_parameters(), got {type(module).__name__}")
        label_of.update(_module_names(module))
    label_of.update(names_from(names))

    arg_names = _arg_names(fn, len(example_inputs))
    flat = []
    for x, nm in zip(example_inputs, arg_names):
        flat.extend(_labelled_inputs(x, nm))
    inputs = [t for t, _ in flat]
    input_labels = [lab for _, lab in flat]

    marked = [t for t in inputs if not t.requires_grad and t._node is None and t._data.dtype.kind == "f"]
    marked = list({id(t): t for t in marked}.values())
    recorder = _Recorder()
    hooks = _module_scope_hooks(module, kinds) if module is not None else []
    depth = len(_scopes.stack)
    listeners.add_listener(recorder)
    try:
        for t in marked:
            t.requires_grad = True  # so that ops on inputs alone are recorded too
        result = fn(*example_inputs, **kwargs)
    finally:
        listeners.remove_listener(recorder)
        for t in marked:
            t.requires_grad = False
        for h in hooks:
            h.remove()
        _scopes.stack = _scopes.stack[:depth]
    _unmark(recorder.entries, marked)
    fn_name = getattr(fn, "__name__", None) or type(fn).__name__
    return Tape(fn_name, inputs, input_labels, recorder.entries, result, label_of, kinds)


def _unmark(entries, marked):
    """Undo the temporary requires_grad of the inputs: cut them (and whatever was computed from
    them alone) out of the backward graph, so the result behaves as if never traced."""
    if not marked:
        return
    dead = {id(t) for t in marked}
    for e in entries:
        node = e.node
        parents = node.parents
        if parents is None:
            continue
        new = tuple(None if (p is not None and id(p) in dead) else p for p in parents)
        if any(a is not b for a, b in zip(new, parents)):
            node.parents = new
            e.parents = new
        if all(p is None for p in new):
            dead.add(id(node))
            out = e.output
            if out._node is node:
                out._node = None
                out.requires_grad = False

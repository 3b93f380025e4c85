"""The op registry: each op is defined once, with its forward and its VJP side by side.

``defop(name, forward, vjps)`` registers an op and returns its public function.

* ``forward(*arrays, **kw) -> ndarray`` runs on raw arrays.
* ``vjps`` is a tuple with one rule per input, ``vjp_i(g, ans, *inputs, **kw) -> grad_i``,
  or ``vjp=rule(g, ans, *inputs, needs=(bool, ...), **kw) -> (grad_0, grad_1, ...)`` when
  the inputs' gradients share work. Only the gradients that are needed are computed.
* Un-broadcasting (summing a gradient back to its input's shape) and casting to the
  input's dtype happen once, in ``graph._run``, never in a rule.

A rule uses only what ndarrays and Tensors both have (operators, ``.sum``,
``.reshape``, ``.T``, ``@``) and the ``xp`` namespace below, whose functions run raw
numpy on arrays and the taped op on Tensors. So one rule serves the fast backward on
arrays and ``create_graph=True`` on Tensors (grad of grad).
"""
from __future__ import annotations

import weakref

import numpy as np

from .. import graph
from ..graph import Node, edge, mode, record
from ..tensor import Tensor, _to_array, get_default_dtype, make

__all__ = ["defop", "OPS", "xp", "OpDef", "wrap_const"]

OPS = {}


class _XP:
    """Array/Tensor-agnostic functions for VJP rules: ``xp.exp(a)`` is ``np.exp`` on an ndarray
    and the taped ``exp`` op on a Tensor."""

    def __repr__(self):
        return f"<xp namespace: {', '.join(sorted(k for k in vars(self)))}>"


xp = _XP()


class OpDef:
    """A registered op: its name, forward, and VJP rule(s)."""

    __slots__ = ("name", "forward", "vjps", "vjp", "uses", "uses_ans", "backward_name", "differentiable",
                 "fn", "doc", "same_shape", "residuals")

    def backward(self, g, ans, args, parents, kw):
        if self.vjp is not None:
            needs = tuple(p is not None for p in parents)
            return self.vjp(g, ans, *args, needs=needs, **kw)
        vjps = self.vjps
        return [vjps[i](g, ans, *args, **kw) if p is not None else None for i, p in enumerate(parents)]

    def __repr__(self):
        return f"<op {self.name}>"


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_")) + "Backward"


def wrap_const(v):
    """Turn a non-Tensor operand (scalar, list, array) into something numpy ops accept."""
    if isinstance(v, (int, float, bool, np.ndarray, np.generic)):
        return v
    return _to_array(v)


def defop(name, forward, vjps=None, *, vjp=None, uses=None, uses_ans=False, nargs=None,
          differentiable=True, xp_name=None, same_shape=False, residuals=False):
    """Register op ``name`` and return its public function (Tensors in, Tensor out).

    ``uses``: indices of the inputs whose values the VJP reads (checked against in-place
    changes); None means all. ``uses_ans``: the VJP reads the op's output ``ans``.
    ``nargs``: number of tensor arguments (1, 2, or None for a variable number).
    ``same_shape``: the rules always return the input's shape and dtype (unary elementwise ops),
    so backward can skip the un-broadcast check.
    ``residuals``: the forward returns ``(result, res)``; ``res`` (anything the rules need that is
    cheaper to keep than to recompute, e.g. a max-pool's argmax) is kept on the node only when it is
    recorded, and the rules receive it as the keyword ``res``.
    """
    op = OpDef()
    op.name = name
    op.forward = forward
    op.vjps = tuple(vjps) if vjps is not None else None
    op.vjp = vjp
    op.uses = tuple(uses) if uses is not None else None
    op.uses_ans = uses_ans
    op.backward_name = _camel(name)
    op.same_shape = same_shape
    op.residuals = residuals
    op.differentiable = differentiable and (vjps is not None or vjp is not None)
    if nargs is None:
        nargs = len(vjps) if vjps is not None else None
    fn = _make_apply(op, nargs)
    fn.__name__ = name
    fn.__doc__ = forward.__doc__
    op.fn = fn
    OPS[name] = op
    setattr(xp, xp_name or name, _make_dispatch(op, fn, nargs))
    return fn


def _make_apply(op, nargs):
    fwd = op.forward
    differentiable = op.differentiable
    uses_ans = op.uses_ans
    ndarray = np.ndarray
    new_node = object.__new__
    wref = weakref.ref
    next_seq = graph.next_seq
    residuals = op.residuals

    if nargs == 1 and not op.residuals:
        def apply(x, **kw):
            if not isinstance(x, Tensor):
                x = Tensor(x)
            xd = x._data
            ans = fwd(xd, **kw)
            if type(ans) is not ndarray:
                ans = np.asarray(ans)
            if x.requires_grad and differentiable and mode.enabled:
                # make() and record(): inlined here and below because this is the per-op hot path
                out = new_node(Tensor)
                out._data = ans
                out.requires_grad = True
                node = out._node = new_node(Node)
                node.op, node.inputs, node.arrays, node.kwargs = op, (x,), (xd,), kw
                node.parents = (x._node or x,)
                node.seq = next_seq()
                if uses_ans:
                    node.ans = ans
                    node.out_ref = wref(out)
                else:
                    node.ans = None
                if graph._watch:
                    graph.watch(node, out)
                return out
            return make(ans)
        return apply

    if nargs == 2 and not op.residuals:
        def apply(a, b, **kw):
            if isinstance(a, Tensor):
                ad = a._data
                if isinstance(b, Tensor):
                    bd = b._data
                    rec = a.requires_grad or b.requires_grad
                else:
                    bd = b = wrap_const(b)
                    rec = a.requires_grad
                    if type(b) is float and ad.dtype.kind in "biu":
                        ad = ad.astype(get_default_dtype())  # int tensor * 0.5 -> float32, as PyTorch
            elif isinstance(b, Tensor):
                ad = a = wrap_const(a)
                bd = b._data
                rec = b.requires_grad
                if type(a) is float and bd.dtype.kind in "biu":
                    bd = bd.astype(get_default_dtype())
            else:
                ad = a = wrap_const(a)
                bd = b = wrap_const(b)
                rec = False
            try:
                ans = fwd(ad, bd, **kw) if kw else fwd(ad, bd)
            except ValueError as e:
                raise _shape_error(op, ad, bd, e) from None
            if type(ans) is not ndarray:
                ans = np.asarray(ans)
            if rec and differentiable and mode.enabled:
                out = new_node(Tensor)
                out._data = ans
                out.requires_grad = True
                node = out._node = new_node(Node)
                node.op, node.inputs, node.arrays, node.kwargs = op, (a, b), (ad, bd), kw
                node.parents = (
                    (a._node or (a if a.requires_grad else None)) if isinstance(a, Tensor) else None,
                    (b._node or (b if b.requires_grad else None)) if isinstance(b, Tensor) else None)
                node.seq = next_seq()
                if uses_ans:
                    node.ans = ans
                    node.out_ref = wref(out)
                else:
                    node.ans = None
                if graph._watch:
                    graph.watch(node, out)
                return out
            return make(ans)
        return apply

    def apply(*args, **kw):
        args = tuple(a if isinstance(a, Tensor) else wrap_const(a) for a in args)
        arrays = tuple(a._data if isinstance(a, Tensor) else a for a in args)
        ans = fwd(*arrays, **kw)
        if residuals:
            ans, res = ans
        if type(ans) is not ndarray:
            ans = np.asarray(ans)
        if differentiable and mode.enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args):
            out = make(ans, True)
            record(op, args, arrays, tuple(edge(a) if isinstance(a, Tensor) else None for a in args), ans, out,
                   dict(kw, res=res) if residuals else kw)
            return out
        return make(ans)
    return apply


def _shape_error(op, a, b, err):
    if str(err).startswith(op.name + ":"):
        return err  # the forward already explains itself (matmul: "... are not aligned")
    sa, sb = np.shape(a), np.shape(b)
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        return ValueError(f"{op.name}: shapes {tuple(sa)} and {tuple(sb)} can't be broadcast together")
    return err


def _make_dispatch(op, apply, nargs):
    fwd = op.forward
    if nargs == 1:
        def dispatch(x, **kw):
            if isinstance(x, Tensor):
                return apply(x, **kw)
            return fwd(x, **kw)
    elif nargs == 2:
        def dispatch(a, b, **kw):
            if isinstance(a, Tensor) or isinstance(b, Tensor):
                return apply(a, b, **kw)
            return fwd(a, b, **kw)
    else:
        def dispatch(*args, **kw):
            if any(isinstance(a, Tensor) for a in args):
                return apply(*args, **kw)
            return fwd(*args, **kw)
    dispatch.__name__ = op.name
    return dispatch


def method(name, fn):
    """Attach ``fn`` as ``Tensor.name``."""
    setattr(Tensor, name, fn)

"""PyTorch's ``torch.autograd.functional``: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``vhp``, ``hvp``.

They follow PyTorch's conventions: ``inputs`` is a tensor or a tuple of tensors, ``func`` returns
a tensor or a tuple of tensors, and the result mirrors both: a tensor when both are single, a
tuple over the inputs or the outputs when one is a tuple, a tuple of tuples ``[output][input]``
when both are. ``jacobian(f, x)[i][j]`` has shape ``out_i.shape + in_j.shape``. Results are cut
from the tape unless ``create_graph=True``; ``strict=True`` raises when an output does not depend
on an input (otherwise that block is zeros). ``vectorize`` is accepted and changes nothing (one
backward pass per output element).

    >>> import autograd_core as ag
    >>> from autograd_core.autograd.functional import jacobian, hessian
    >>> jacobian(lambda x: x ** 2, ag.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    >>> hessian(lambda x, y: (x * y).sum(), (ag.tensor([1.0]), ag.tensor([2.0])))[0][1]
    tensor([[1.]])
"""
from __future__ import annotations

import numpy as np

from ..graph import autograd_grad
from ..modes import enable_grad
from ..tensor import Tensor, make

__all__ = ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"]


def _as_tuple(x, what, fn):
    is_tuple = isinstance(x, tuple)
    xs = x if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: the {what} must be a tensor or a tuple of tensors, but the value at index {i} "
                            f"has type {type(t).__name__}")
    return is_tuple, xs


def _prepare(inputs, create_graph):
    """Fresh tensors to differentiate with respect to: connected to the caller's graph when
    ``create_graph`` and the input requires grad, else cut from it."""
    out = []
    for x in inputs:
        if x.dtype.kind != "f":
            raise TypeError(f"the inputs must be floating tensors, got dtype {x.dtype}")
        out.append(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True))
    return tuple(out)


def _call(func, inputs, fn):
    with enable_grad():
        out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn)


def _grads(outputs, inputs, cotangents, create_graph, strict, fn, what="output"):
    """Cotangent-weighted gradients of ``outputs`` w.r.t. ``inputs`` (zeros where unused; strict raises)."""
    live = [(o, v) for o, v in zip(outputs, cotangents) if o.requires_grad and v is not None]
    if live:
        with enable_grad():
            gs = autograd_grad([o for o, _ in live], list(inputs), grad_outputs=[v for _, v in live],
                               retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        gs = [None] * len(inputs)
    res = []
    for j, (g, x) in enumerate(zip(gs, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn}: the {what} of the user-provided function is independent of input {j}; this "
                                   "is not allowed in strict mode")
            g = make(np.zeros(x.shape, x.dtype))
        res.append(g)
    return res


def _finish(t, create_graph):
    return t if create_graph else t.detach()


def _cotangent(v, outputs, fn):
    if v is None:
        for o in outputs:
            if o._data.size != 1:
                raise RuntimeError(f"{fn}: the vector v can only be None if the user-provided function returns a "
                                   f"single element; it returned shape {tuple(o.shape)}")
        return [make(np.ones(o.shape, o.dtype)) for o in outputs]
    _, vs = _as_tuple(v, "vector v", fn)
    if len(vs) != len(outputs):
        raise RuntimeError(f"{fn}: v has {len(vs)} tensor(s) but there are {len(outputs)} to match")
    for a, b in zip(vs, outputs):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn}: v has shape {tuple(a.shape)} but it must match shape {tuple(b.shape)}")
    return list(vs)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: shape ``out.shape + in.shape`` for one input and one
    output, tuples over the inputs and/or outputs otherwise (see the module docstring). PyTorch:
    ``torch.autograd.functional.jacobian``.

    >>> import autograd_core as ag
    >>> from autograd_core.autograd.functional import jacobian
    >>> jacobian(lambda x: x.sum() * x, ag.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    >>> [j.shape for j in jacobian(lambda a, b: a @ b, (ag.ones(2, 3), ag.ones(3)))]
    [(2, 2, 3), (2, 3)]
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call(func, ins, "jacobian")
    blocks = []
    for i, o in enumerate(outs):
        rows = [[] for _ in ins]
        for k in range(o._data.size):
            seed = np.zeros(o.shape, o.dtype)
            seed.reshape(-1)[k] = 1
            cot = [make(seed) if j == i else None for j in range(len(outs))]
            gs = _grads(outs, ins, cot, create_graph, strict, "jacobian", f"output {i}")
            for r, g in zip(rows, gs):
                r.append(g)
        row = []
        for j, x in enumerate(ins):
            shape = tuple(o.shape) + tuple(x.shape)
            if not rows[j]:
                jac = make(np.zeros(shape, o.dtype))
            else:
                from ..ops.shape import stack
                jac = stack(rows[j], axis=0).reshape(shape)
            row.append(_finish(jac, create_graph))
        blocks.append(tuple(row) if in_tuple else row[0])
    return tuple(blocks) if out_tuple else blocks[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar-valued ``func`` at ``inputs``: a tensor of shape ``x.shape + x.shape`` for
    one input, a tuple of tuples ``[i][j]`` (shape ``x_i.shape + x_j.shape``) for a tuple of inputs.
    PyTorch: ``torch.autograd.functional.hessian``.

    >>> import autograd_core as ag
    >>> from autograd_core.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), ag.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def grad_func(*xs):
        out_tuple, outs = _call(func, xs, "hessian")
        if out_tuple or outs[0]._data.size != 1:
            raise RuntimeError("hessian: the function given to hessian must return a single tensor with one element, "
                               f"got {'a tuple' if out_tuple else 'shape ' + str(tuple(outs[0].shape))}")
        gs = _grads(outs, xs, [make(np.ones(outs[0].shape, outs[0].dtype))], True, strict, "hessian")
        return tuple(gs) if in_tuple else gs[0]

    return jacobian(grad_func, inputs, create_graph=create_graph, strict=strict)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the outputs and the vector-Jacobian product, shaped like the inputs
    (``v`` is shaped like the outputs; it may be left out for a one-element output). PyTorch:
    ``torch.autograd.functional.vjp``.

    >>> import autograd_core as ag
    >>> from autograd_core.autograd.functional import vjp
    >>> vjp(lambda x: x ** 2, ag.tensor([1.0, 2.0]), ag.tensor([1.0, 10.0]))
    (tensor([1., 4.]), tensor([ 2., 40.]))
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call(func, ins, "vjp")
    vs = _cotangent(v, outs, "vjp")
    gs = [_finish(g, create_graph) for g in _grads(outs, ins, vs, create_graph, strict, "vjp")]
    outs = tuple(_finish(o, create_graph) for o in outs)
    return (outs if out_tuple else outs[0]), (tuple(gs) if in_tuple else gs[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the outputs and the Jacobian-vector product, shaped like the outputs
    (``v`` is shaped like the inputs). Computed with two reverse passes (the double-backward trick), as
    PyTorch does. PyTorch: ``torch.autograd.functional.jvp``.

    >>> import autograd_core as ag
    >>> from autograd_core.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, ag.tensor([1.0, 2.0]), ag.tensor([1.0, 10.0]))
    (tensor([1., 4.]), tensor([ 2., 40.]))
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    ins = _prepare(ins, create_graph)
    if v is None:
        if len(ins) != 1 or ins[0]._data.size != 1:
            raise RuntimeError("jvp: the vector v can only be None if the input is a single element")
        vs = [make(np.ones(ins[0].shape, ins[0].dtype))]
    else:
        _, vs = _as_tuple(v, "vector v", "jvp")
        if len(vs) != len(ins) or any(a.shape != b.shape for a, b in zip(vs, ins)):
            raise RuntimeError("jvp: v must have the structure and shapes of the inputs")
    out_tuple, outs = _call(func, ins, "jvp")
    us = [make(np.zeros(o.shape, o.dtype)).requires_grad_(True) for o in outs]
    gs = _grads(outs, ins, us, True, strict, "jvp")
    live = [(g, w) for g, w in zip(gs, vs) if g.requires_grad]
    if live:
        with enable_grad():
            jv = autograd_grad([g for g, _ in live], us, grad_outputs=[w for _, w in live], retain_graph=True,
                               create_graph=create_graph, allow_unused=True)
    else:
        jv = [None] * len(us)
    jv = [_finish(make(np.zeros(o.shape, o.dtype)) if j is None else j, create_graph) for j, o in zip(jv, outs)]
    outs = tuple(_finish(o, create_graph) for o in outs)
    return (outs if out_tuple else outs[0]), (tuple(jv) if out_tuple else jv[0])


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar-valued ``func``: the output and the vector-Hessian product,
    shaped like the inputs. PyTorch: ``torch.autograd.functional.vhp``.

    >>> import autograd_core as ag
    >>> from autograd_core.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "vhp")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call(func, ins, "vhp")
    if out_tuple or outs[0]._data.size != 1:
        raise RuntimeError("vhp: the function must return a single tensor with one element")
    if v is None:
        if len(ins) != 1 or ins[0]._data.size != 1:
            raise RuntimeError("vhp: the vector v can only be None if the input is a single element")
        vs = [make(np.ones(ins[0].shape, ins[0].dtype))]
    else:
        _, vs = _as_tuple(v, "vector v", "vhp")
        if len(vs) != len(ins) or any(a.shape != b.shape for a, b in zip(vs, ins)):
            raise RuntimeError("vhp: v must have the structure and shapes of the inputs")
    gs = _grads(outs, ins, [make(np.ones(outs[0].shape, outs[0].dtype))], True, strict, "vhp")
    res = _grads(gs, ins, vs, create_graph, strict, "vhp", "gradient")
    res = [_finish(r, create_graph) for r in res]
    return _finish(outs[0], create_graph), (tuple(res) if in_tuple else res[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar-valued ``func``. The Hessian of a twice continuously
    differentiable function is symmetric, so this equals ``vhp``, which it computes. PyTorch:
    ``torch.autograd.functional.hvp``.

    >>> import autograd_core as ag
    >>> from autograd_core.autograd.functional import hvp
    >>> hvp(lambda x: (x[0] * x[1]) ** 2, ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0]))
    (tensor(4.), tensor([8., 8.]))
    """
    return vhp(func, inputs, v, create_graph, strict)

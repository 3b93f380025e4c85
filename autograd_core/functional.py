"""Function transforms in the style of HIPS autograd / JAX: grad, value_and_grad, vjp, jacobian, hessian.

Each takes a Python function of tensors and returns a function. They nest: ``hessian(f)`` is
``jacobian(grad(f))``. When an argument already requires grad (an outer transform is
differentiating through this one), the inner backward runs with ``create_graph=True``.
"""
from __future__ import annotations

import numpy as np

from .graph import autograd_grad, enable_grad
from .tensor import Tensor, make

__all__ = ["grad", "value_and_grad", "vjp", "jacobian", "hessian"]


def _prepare(args, argnums):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    args = list(args)
    outer = False
    for i in nums:
        if i >= len(args):
            raise ValueError(f"argnums {i} is out of range for {len(args)} positional argument(s)")
        a = args[i]
        if isinstance(a, Tensor) and a.requires_grad:
            outer = True  # keep the connection to an outer graph
        else:
            args[i] = Tensor(a._data if isinstance(a, Tensor) else a).requires_grad_(True)
    return args, nums, single, outer


def _scalar_check(out, name):
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    if out._data.size != 1:
        raise ValueError(f"{name}: the function must return a scalar (one element), got shape {tuple(out.shape)}; "
                         "use vjp or jacobian for non-scalar outputs")


def value_and_grad(f, argnums=0):
    """Return ``g(*args) -> (f(*args), df/dargs[argnums])`` for a scalar-valued ``f``."""
    def vg(*args, **kwargs):
        args, nums, single, outer = _prepare(args, argnums)
        with enable_grad():
            out = f(*args, **kwargs)
            _scalar_check(out, "grad")
            if not out.requires_grad:
                gs = tuple(make(np.zeros_like(args[i]._data)) for i in nums)
            else:
                gs = autograd_grad(out, [args[i] for i in nums], create_graph=outer, allow_unused=True)
                gs = tuple(make(np.zeros_like(args[i]._data)) if g is None else g for g, i in zip(gs, nums))
        if not outer:
            out = out.detach()
        return out, (gs[0] if single else gs)
    vg.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return vg


def grad(f, argnums=0):
    """Return ``g(*args) -> df/dargs[argnums]`` (a Tensor, or a tuple for several argnums)."""
    vg = value_and_grad(f, argnums)

    def g(*args, **kwargs):
        return vg(*args, **kwargs)[1]
    g.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return g


def vjp(f, *primals):
    """Return ``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` gives the tuple of input gradients."""
    args, nums, _, outer = _prepare(primals, tuple(range(len(primals))))
    with enable_grad():
        out = f(*args)

    def vjp_fn(cotangent):
        with enable_grad():
            if not out.requires_grad:
                return tuple(make(np.zeros_like(a._data)) for a in args)
            gs = autograd_grad(out, args, grad_outputs=cotangent, retain_graph=True, create_graph=outer,
                               allow_unused=True)
        return tuple(make(np.zeros_like(a._data)) if g is None else g for g, a in zip(gs, args))
    return (out if outer else out.detach()), vjp_fn


def jacobian(f, argnums=0):
    """Return ``J(*args)`` with shape ``out.shape + arg.shape`` (one backward pass per output element)."""
    def jac(*args, **kwargs):
        args, nums, single, outer = _prepare(args, argnums)
        with enable_grad():
            out = f(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"jacobian: the function must return a Tensor, got {type(out).__name__}")
        from .ops.shape import stack
        rows = [[] for _ in nums]
        for k in range(out._data.size):
            seed = np.zeros(out.shape, out.dtype)
            seed.reshape(-1)[k] = 1
            if not out.requires_grad:
                gs = [None] * len(nums)
            else:
                with enable_grad():
                    gs = autograd_grad(out, [args[i] for i in nums], grad_outputs=make(seed) if outer else seed,
                                       retain_graph=True, create_graph=outer, allow_unused=True)
            for r, g, i in zip(rows, gs, nums):
                r.append(make(np.zeros_like(args[i]._data)) if g is None else g)
        res = []
        for r, i in zip(rows, nums):
            shape = tuple(out.shape) + tuple(args[i].shape)
            if not r:
                res.append(make(np.zeros(shape, args[i].dtype)))
            else:
                res.append(stack(r, axis=0).reshape(shape))
        return res[0] if single else tuple(res)
    jac.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jac


def hessian(f, argnums=0):
    """Return ``H(*args)`` with shape ``arg.shape + arg.shape`` for a scalar-valued ``f``."""
    return jacobian(grad(f, argnums), argnums)

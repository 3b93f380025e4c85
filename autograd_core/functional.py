"""Function transforms in the style of HIPS autograd / JAX / ``torch.func``: grad, value_and_grad,
vjp, jacobian, hessian.

Each takes a Python function of tensors and returns a function. They nest soundly:

* **Levels.** Calling a transform opens a nesting level (per thread) while it runs ``f``. Each
  argument being differentiated is boxed afresh for this level: a new tape node (an identity) on
  top of the argument, so the inner transform's gradient is taken with respect to *its* box only,
  never an outer variable that happens to be the same tensor (no perturbation confusion).
* **Differentiable by outer levels.** Inside another transform (level > 0) the inner backward runs
  with ``create_graph=True``, so its result stays on the tape and the outer transform can
  differentiate it, including through tensors that ``f`` captured from the outer scope.
* **Detached otherwise.** At the outermost level the results are cut from the tape (no graph is
  kept alive, even when an argument is an ``nn.Parameter``). Use ``autograd_core.autograd.grad``
  (``torch.autograd.grad``) for gradients that stay on a model's graph.
* **``torch.func``'s transforms stay on the tape** (``autograd_core.func``, as PyTorch's): at the
  outermost level (with grad mode on) an argument that requires grad is boxed by an identity node on
  it, and when ``f``'s output reaches a tensor that requires grad outside the call (such an argument,
  or a model's parameters that ``f`` captured), the backward runs with ``create_graph=True`` and the
  results keep their graph, so ``loss.backward()`` on them reaches those tensors. Otherwise the
  results are cut from the tape here too.

>>> import autograd_core as ag
>>> f = lambda x: (x ** 3).sum()
>>> ag.grad(f)(ag.tensor([1.0, 2.0]))
tensor([ 3., 12.])
>>> ag.grad(lambda x: x * ag.grad(lambda y: x * y * y)(ag.tensor(3.0)))(ag.tensor(2.0))
tensor(24.)
"""
from __future__ import annotations

import numpy as np

from .backward import autograd_grad
from .modes import enable_grad, state
from .tensor import Tensor, make

__all__ = ["grad", "value_and_grad", "vjp", "jacobian", "hessian"]


class _Level:
    """Open one nesting level for the duration of a transform's call of ``f``.

    ``outer``: an enclosing transform may differentiate this one's results. ``top``: the outermost level
    of a ``torch.func`` transform with grad mode on, whose results the ordinary tape may differentiate (``connected`` tells whether
    they depend on anything outside the call). ``boxing``: how arguments are boxed (connected to
    what they came from when either may differentiate them)."""

    def __init__(self, attach=False):
        self.attach = attach   # torch.func's rule at the top level (see the module docstring)

    def __enter__(self):
        self.outer = state.level > 0 and state.enabled
        self.top = self.attach and state.level == 0 and state.enabled
        self.boxing = self.outer or self.top
        state.level += 1
        return self

    def __exit__(self, *exc):
        state.level -= 1
        return False

    def connected(self, outs, boxes):
        """Whether the results computed from ``outs`` must stay on the tape: inside another transform
        always; at the top level when ``outs`` reach a tensor that requires grad other than the fresh
        ``boxes`` of this call."""
        return self.outer or (self.top and _reaches_outside(outs, boxes))


def _reaches_outside(outs, boxes):
    """Whether the graph of the tensors ``outs`` reaches a leaf that requires grad and is not one of
    ``boxes`` (a box that is an identity node on an argument reaches that argument)."""
    inside = {id(b) for b in boxes}
    stack, seen = [], set()
    for t in outs:
        if isinstance(t, Tensor) and t.requires_grad:
            if t._node is None:
                if id(t) not in inside:
                    return True
            else:
                stack.append(t._node)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        for p in getattr(n, "parents", None) or ():
            if p is None:
                continue
            if isinstance(p, Tensor):
                if id(p) not in inside:
                    return True
            else:
                stack.append(p)
    return False


def _box(a, outer):
    """A fresh variable for this level: an identity node on ``a`` when an outer level may need the
    connection, else a new leaf holding ``a``'s values."""
    if isinstance(a, Tensor):
        if outer and a.requires_grad:
            return a.view_as(a) if hasattr(a, "view_as") else a * 1
        t = make(a._data)
    else:
        t = Tensor(a)
    if t._data.dtype.kind != "f":
        raise TypeError(f"grad: only floating point arguments can be differentiated, got dtype {t._data.dtype}; "
                        "pass floats (e.g. ag.tensor(x, dtype=ag.float64))")
    return t.requires_grad_(True)


def _prepare(args, argnums, outer):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    args = list(args)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"argnums {i} is out of range for {len(args)} positional argument(s)")
        args[i] = _box(args[i], outer)
    return args, nums, single


def _scalar_check(out, name):
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    if out._data.size != 1:
        raise ValueError(f"{name}: the function must return a scalar (one element), got shape {tuple(out.shape)}; "
                         "use vjp or jacobian for non-scalar outputs")


def _zeros(a):
    return make(np.zeros_like(a._data))


def _result(t, outer):
    return t if outer else t.detach()


def value_and_grad(f, argnums=0):
    """Return ``g(*args) -> (f(*args), df/dargs[argnums])`` for a scalar-valued ``f``.

    >>> import autograd_core as ag
    >>> ag.value_and_grad(lambda x: (x * x).sum())(ag.tensor([1.0, 2.0]))
    (tensor(5.), tensor([2., 4.]))
    """
    def vg(*args, **kwargs):
        with _Level() as lvl, enable_grad():
            args, nums, single = _prepare(args, argnums, lvl.boxing)
            out = f(*args, **kwargs)
            _scalar_check(out, "grad")
            outer = lvl.connected([out], [args[i] for i in nums])
            if not out.requires_grad:
                gs = tuple(_zeros(args[i]) for i in nums)
            else:
                gs = autograd_grad(out, [args[i] for i in nums], create_graph=outer, allow_unused=True)
                gs = tuple(_zeros(args[i]) if g is None else _result(g, outer) for g, i in zip(gs, nums))
        return _result(out, outer), (gs[0] if single else gs)
    vg.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return vg


def grad(f, argnums=0):
    """Return ``g(*args) -> df/dargs[argnums]`` (a Tensor, or a tuple for several argnums).

    >>> import autograd_core as ag
    >>> ag.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(ag.tensor([1.0]), ag.tensor([2.0]))
    (tensor([2.]), tensor([1.]))
    """
    vg = value_and_grad(f, argnums)

    def g(*args, **kwargs):
        return vg(*args, **kwargs)[1]
    g.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return g


def vjp(f, *primals, _attach=False):
    """Return ``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` gives the tuple of input gradients.

    >>> import autograd_core as ag
    >>> out, back = ag.vjp(lambda x: x * 2, ag.tensor([1.0, 2.0]))
    >>> back(ag.tensor([1.0, 10.0]))
    (tensor([ 2., 20.]),)
    """
    with _Level(_attach) as lvl, enable_grad():
        args, _, _ = _prepare(primals, tuple(range(len(primals))), lvl.boxing)
        out = f(*args)
        if not isinstance(out, Tensor):
            raise TypeError(f"vjp: the function must return a Tensor, got {type(out).__name__}")
        outer = lvl.connected([out], args)

    def vjp_fn(cotangent):
        if isinstance(cotangent, Tensor) and tuple(cotangent.shape) != tuple(out.shape):
            raise ValueError(f"vjp: the cotangent has shape {tuple(cotangent.shape)} but the output has shape "
                             f"{tuple(out.shape)}")
        with enable_grad():
            if not out.requires_grad:
                return tuple(_zeros(a) for a in args)
            gs = autograd_grad(out, args, grad_outputs=cotangent, retain_graph=True, create_graph=outer,
                               allow_unused=True)
        return tuple(_zeros(a) if g is None else _result(g, outer) for g, a in zip(gs, args))
    return _result(out, outer), vjp_fn


def jacobian(f, argnums=0, _attach=False):
    """Return ``J(*args)`` with shape ``out.shape + arg.shape`` (one backward pass per output element).

    >>> import autograd_core as ag
    >>> ag.jacobian(lambda x: x * x)(ag.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    def jac(*args, **kwargs):
        from .ops.shape import stack
        with _Level(_attach) as lvl, enable_grad():
            args, nums, single = _prepare(args, argnums, lvl.boxing)
            out = f(*args, **kwargs)
            if not isinstance(out, Tensor):
                raise TypeError(f"jacobian: the function must return a Tensor, got {type(out).__name__}")
            outer = lvl.connected([out], [args[i] for i in nums])
            rows = [[] for _ in nums]
            for k in range(out._data.size):
                seed = np.zeros(out.shape, out.dtype)
                seed.reshape(-1)[k] = 1
                if not out.requires_grad:
                    gs = [None] * len(nums)
                else:
                    gs = autograd_grad(out, [args[i] for i in nums], grad_outputs=make(seed) if outer else seed,
                                       retain_graph=True, create_graph=outer, allow_unused=True)
                for r, g, i in zip(rows, gs, nums):
                    r.append(_zeros(args[i]) if g is None else g)
            res = []
            for r, i in zip(rows, nums):
                shape = tuple(out.shape) + tuple(args[i].shape)
                if not r:
                    res.append(make(np.zeros(shape, args[i].dtype)))
                else:
                    res.append(_result(stack(r, axis=0).reshape(shape), outer))
        return res[0] if single else tuple(res)
    jac.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return jac


def hessian(f, argnums=0):
    """Return ``H(*args)`` with shape ``arg.shape + arg.shape`` for a scalar-valued ``f``.

    >>> import autograd_core as ag
    >>> ag.hessian(lambda x: (x ** 3).sum())(ag.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacobian(grad(f, argnums), argnums)

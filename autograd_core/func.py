"""PyTorch's ``torch.func`` spellings of the function transforms in ``autograd_core.functional``.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian`` and ``vmap`` nest
soundly (each call opens a level and boxes its arguments afresh, see ``autograd_core.functional``).
Differentiated arguments may be tensors or dicts, tuples and lists of tensors (a model's parameters),
and the gradient comes back in the same structure. ``functional_call`` (a module run with other
parameters) needs ``nn``: importing ``nn`` provides it.

How they differ from PyTorch's:

* ``vmap`` calls the function once per batch item and stacks the results, so it accepts any function
  (``.item()``, data-dependent branches) but is as slow as that loop; random ops draw anew for every
  item (PyTorch's ``randomness='different'``).
* ``jacfwd`` and ``jvp`` are computed in reverse mode (a Jacobian row per output element, a
  Jacobian-vector product as the derivative of a vector-Jacobian product): the same values.

    >>> import autograd_core as ag
    >>> ag.func.grad(lambda p, x: (p["w"] * x).sum())({"w": ag.tensor([1.0, 2.0])}, ag.tensor([3.0, 4.0]))
    {'w': tensor([3., 4.])}
    >>> ag.func.vmap(lambda v: v.sum())(ag.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([3., 7.])
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import functional as _fx
from .backward import autograd_grad
from .modes import enable_grad
from .modes import no_grad as _fx_no_grad
from .tensor import Tensor, make

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call", "linearize",
           "functionalize", "stack_module_state", "replace_all_batch_norm_modules_"]


# -- argument structures (tensors in dicts, tuples and lists) ---------------------------------------
def _flatten(tree: Any) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    """(leaves, rebuild): the leaves of nested dicts, tuples and lists in order, and a function that
    puts new leaves back into the same structure."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
    elif isinstance(tree, (tuple, list)):
        keys = None
        parts = [_flatten(v) for v in tree]
    else:
        return [tree], lambda leaves: leaves[0]
    sizes = [len(p[0]) for p in parts]
    leaves = [leaf for p in parts for leaf in p[0]]

    def rebuild(new):
        out, at = [], 0
        for (_, rb), n in zip(parts, sizes):
            out.append(rb(new[at:at + n]))
            at += n
        if keys is not None:
            return type(tree)(zip(keys, out)) if type(tree) is not dict else dict(zip(keys, out))
        return type(tree)(out) if type(tree) in (tuple, list) else type(tree)(*out)
    return leaves, rebuild


def _map(fn: Callable[[Any], Any], tree: Any) -> Any:
    leaves, rebuild = _flatten(tree)
    return rebuild([fn(leaf) for leaf in leaves])


def _argnums(argnums: int | tuple[int, ...], n: int, name: str) -> tuple[tuple[int, ...], bool]:
    single = isinstance(argnums, int)
    nums: tuple[int, ...] = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{name}: argnums must name at least one argument")
    for i in nums:
        if not isinstance(i, int) or not -n <= i < n:
            raise ValueError(f"{name}: argnums {i!r} is out of range for {n} positional argument(s)")
    return tuple(i % n for i in nums), single


def _box_tree(tree: Any, outer: bool, name: str) -> tuple[list[Tensor], Callable[[list[Any]], Any]]:
    leaves, rebuild = _flatten(tree)
    if not leaves:
        raise ValueError(f"{name}: an argument to differentiate holds no tensors")
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(f"{name}: expected the differentiated arguments to hold only tensors, got "
                            f"{type(leaf).__name__}; pass it as a tensor, or leave it out of argnums")
    return [_fx._box(leaf, outer) for leaf in leaves], rebuild


def _split_aux(out: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{name}(..., has_aux=True): the function must return a pair (output, aux), got "
                        f"{type(out).__name__}")
    return out[0], out[1]


def _detach_tree(tree: Any, outer: bool) -> Any:
    return _map(lambda t: _fx._result(t, outer) if isinstance(t, Tensor) else t, tree)


def _flat_args(args: tuple[Any, ...], nums: tuple[int, ...], name: str) -> tuple[list[Any], Callable[..., tuple],
                                                                                   list[list[int]], list[Any]]:
    """Spread the differentiated arguments ``args[nums]`` (tensors, or dicts / tuples / lists of them: a
    model's parameters) into single tensors: (the flat argument list, ``unflat(*flat)`` giving the original
    arguments back, per entry of ``nums`` the positions of its tensors in the flat list, and per entry
    the function that rebuilds its structure from a list of per-tensor results)."""
    flat: list[Any] = []
    where: dict[int, tuple[list[int], Callable[[list[Any]], Any]]] = {}
    plain: dict[int, int] = {}
    for i, a in enumerate(args):
        if i in nums:
            leaves, rebuild = _flatten(a)
            if not leaves or not all(isinstance(t, Tensor) for t in leaves):
                raise TypeError(f"{name}: expected the differentiated arguments to be tensors or dicts, tuples and "
                                f"lists of tensors, got {type(a).__name__}; leave it out of argnums")
            where[i] = (list(range(len(flat), len(flat) + len(leaves))), rebuild)
            flat.extend(leaves)
        else:
            plain[i] = len(flat)
            flat.append(a)

    def unflat(*f: Any) -> tuple:
        return tuple(where[i][1]([f[k] for k in where[i][0]]) if i in where else f[plain[i]] for i in range(len(args)))
    return flat, unflat, [where[i][0] for i in nums], [where[i][1] for i in nums]


# -- gradients ---------------------------------------------------------------------------------------
def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """Return ``g(*args) -> (gradient, value)`` for a function with a one-element tensor output
    (``(gradient, (value, aux))`` with ``has_aux=True``, where ``func`` returns ``(output, aux)``). The
    gradient has the structure of ``args[argnums]`` (a tuple of those for several argnums). PyTorch:
    ``torch.func.grad_and_value``.

    >>> import autograd_core as ag
    >>> ag.func.grad_and_value(lambda x: (x * x).sum())(ag.tensor([1.0, 2.0]))
    (tensor([2., 4.]), tensor(5.))
    """
    def wrapper(*args, **kwargs):
        nums, single = _argnums(argnums, len(args), "grad")
        with _fx._Level(attach=True) as lvl, enable_grad():
            args = list(args)
            boxed = []
            for i in nums:
                leaves, rebuild = _box_tree(args[i], lvl.boxing, "grad")
                args[i] = rebuild(leaves)
                boxed.append((leaves, rebuild))
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "grad")
            _fx._scalar_check(out, "grad")
            every = [leaf for leaves, _ in boxed for leaf in leaves]
            outer = lvl.connected([out], every)
            if out.requires_grad:
                gs = autograd_grad(out, every, create_graph=outer, allow_unused=True)
            else:
                gs = [None] * len(every)
            gs = [_fx._zeros(a) if g is None else _fx._result(g, outer) for g, a in zip(gs, every)]
            grads, at = [], 0
            for leaves, rebuild in boxed:
                grads.append(rebuild(gs[at:at + len(leaves)]))
                at += len(leaves)
        g = grads[0] if single else tuple(grads)
        value = _fx._result(out, outer)
        return (g, (value, _detach_tree(aux, outer))) if has_aux else (g, value)
    wrapper.__name__ = f"grad_and_value({getattr(func, '__name__', 'f')})"
    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """Return ``g(*args) -> d func / d args[argnums]`` for a function with a one-element tensor output
    (``(gradient, aux)`` with ``has_aux=True``). PyTorch: ``torch.func.grad``.

    >>> import autograd_core as ag
    >>> ag.func.grad(lambda x: (x ** 3).sum())(ag.tensor([1.0, 2.0]))
    tensor([ 3., 12.])
    >>> ag.func.grad(ag.func.grad(lambda x: x ** 3))(ag.tensor(2.0))
    tensor(12.)
    """
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    wrapper.__name__ = f"grad({getattr(func, '__name__', 'f')})"
    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Return ``(func(*primals), vjp_fn)`` (and ``aux`` with ``has_aux=True``); ``vjp_fn(cotangent)``
    gives a tuple with the gradient of each primal. PyTorch: ``torch.func.vjp``.

    >>> import autograd_core as ag
    >>> out, back = ag.func.vjp(lambda x: x * 2, ag.tensor([1.0, 2.0]))
    >>> back(ag.tensor([1.0, 10.0]))
    (tensor([ 2., 20.]),)
    """
    aux_box = []
    flat, unflat, positions, rebuilds = _flat_args(primals, tuple(range(len(primals))), "vjp")

    def f(*leaves):
        out, aux = _split_aux(func(*unflat(*leaves)), has_aux, "vjp")
        aux_box.append(aux)
        return out
    out, back = _fx.vjp(f, *flat, _attach=True)
    if len(flat) == len(primals) and all(isinstance(p, Tensor) for p in primals):
        vjp_fn = back
    else:
        def vjp_fn(cotangent: Any) -> tuple:
            gs = back(cotangent)
            return tuple(rb([gs[k] for k in pos]) for pos, rb in zip(positions, rebuilds))
    return (out, vjp_fn, aux_box[0]) if has_aux else (out, vjp_fn)


def jvp(func: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...], *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """Return ``(func(*primals), J tangents)``: the output and its directional derivative along
    ``tangents`` (one per primal, of its shape). Computed as the derivative of a vector-Jacobian
    product (reverse mode twice), so the values equal PyTorch's forward mode. PyTorch:
    ``torch.func.jvp``.

    >>> import autograd_core as ag
    >>> ag.func.jvp(lambda x: x ** 2, (ag.tensor([1.0, 3.0]),), (ag.tensor([1.0, 0.5]),))
    (tensor([1., 9.]), tensor([2., 3.]))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (of tensors), e.g. jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    if not all(isinstance(p, Tensor) for p in primals):
        # dicts, tuples and lists of tensors (a model's parameters): one tangent tensor per primal tensor
        flat, unflat, _, _ = _flat_args(tuple(primals), tuple(range(len(primals))), "jvp")
        flat_t: list[Any] = []
        for p, t in zip(primals, tangents):
            lp, lt = _flatten(p)[0], _flatten(t)[0]
            if len(lp) != len(lt):
                raise ValueError(f"jvp: a tangent with {len(lt)} tensor(s) for a primal with {len(lp)}: give each "
                                 "primal a tangent of the same structure")
            flat_t.extend(lt)
        return jvp(lambda *leaves: func(*unflat(*leaves)), tuple(flat), tuple(flat_t), strict=strict, has_aux=has_aux)
    for p, t in zip(primals, tangents):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            raise TypeError("jvp: primals and tangents must be tensors")
        if tuple(p.shape) != tuple(t.shape):
            raise ValueError(f"jvp: a tangent of shape {tuple(t.shape)} for a primal of shape {tuple(p.shape)}")
    with _fx._Level(attach=True) as lvl, enable_grad():
        args = [_fx._box(p, lvl.boxing) for p in primals]
        out, aux = _split_aux(func(*args), has_aux, "jvp")
        if not isinstance(out, Tensor):
            raise TypeError(f"jvp: the function must return a Tensor, got {type(out).__name__}")
        outer = lvl.connected([out], args)
        u = make(np.zeros(out.shape, out._data.dtype)).requires_grad_(True)
        dots = None
        if out.requires_grad:
            gs = autograd_grad(out, args, grad_outputs=u, create_graph=True, allow_unused=True)
            for g, t in zip(gs, tangents):
                if g is not None:
                    term = (g * t).sum()
                    dots = term if dots is None else dots + term
        if dots is None or not dots.requires_grad:
            jv = _fx._zeros(out)
        else:
            (jv,) = autograd_grad(dots, [u], create_graph=outer, allow_unused=True)
            jv = _fx._zeros(out) if jv is None else _fx._result(jv, outer)
    res = (_fx._result(out, outer), jv)
    return res + (_detach_tree(aux, outer),) if has_aux else res


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(func(*primals), jvp_fn)`` with ``jvp_fn(*tangents)`` the Jacobian-vector product at ``primals``,
    as ``torch.func.linearize`` (each call of jvp_fn runs ``jvp`` again).

    >>> import autograd_core as ag
    >>> out, jvp_fn = ag.func.linearize(lambda x: x.sin(), ag.tensor([0.0]))
    >>> jvp_fn(ag.tensor([2.0]))
    tensor([2.])
    """
    out = func(*primals)

    def jvp_fn(*tangents: Any) -> Any:
        return jvp(func, tuple(primals), tuple(tangents))[1]
    return _detach_tree(out, False), jvp_fn


def functionalize(func: Callable[..., Any], *, remove: str = "mutations") -> Callable[..., Any]:
    """``func`` itself, as ``torch.func.functionalize`` leaves its results: the transform rewrites in-place
    ops for PyTorch's compilers, and running eagerly gives the same values.

    >>> import autograd_core as ag
    >>> ag.func.functionalize(lambda x: x + 1)(ag.zeros(1))
    tensor([1.])
    """
    if remove not in ("mutations", "mutations_and_views"):
        raise ValueError(f"functionalize: remove must be 'mutations' or 'mutations_and_views', got {remove!r}")
    return func


def stack_module_state(models: Any) -> tuple[dict, dict]:
    """(params, buffers): for each parameter and buffer name of the same-structured ``models``, their
    values stacked along a new first dim, as ``torch.func.stack_module_state`` (for ``vmap`` over an
    ensemble with ``functional_call``). The stacked parameters are new leaves that require grad when
    the models' do.

    >>> import autograd_core as ag, nn
    >>> params, buffers = ag.func.stack_module_state([nn.Linear(3, 2) for _ in range(4)])
    >>> params["weight"].shape, params["weight"].is_leaf
    ((4, 2, 3), True)
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: expected at least one model, got 0")
    if len({type(m) for m in models}) != 1 or len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: expected all models to be of the same class and in the same "
                           "training mode")
    from .ops.shape import stack as _stack

    def stacked(named: Callable[[Any], Any], grad: bool) -> dict:
        names = [n for n, _ in named(models[0])]
        out = {}
        for i, name in enumerate(names):
            ts = [list(named(m))[i][1] for m in models]
            with _fx_no_grad():
                st = _stack([t.detach() for t in ts], 0)
            if grad and ts[0].requires_grad:
                st.requires_grad_(True)
            out[name] = st
        return out
    return (stacked(lambda m: m.named_parameters(), True), stacked(lambda m: m.named_buffers(), False))


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Make every batch norm in ``root`` use its batch's statistics only (no running statistics, which
    ``vmap`` over models could not update), in place; returns ``root``. As
    ``torch.func.replace_all_batch_norm_modules_``.

    >>> import autograd_core as ag, nn
    >>> m = ag.func.replace_all_batch_norm_modules_(nn.Sequential(nn.BatchNorm1d(2)))
    >>> m[0].running_mean is None, m[0].track_running_stats
    (True, False)
    """
    for m in root.modules():
        if type(m).__name__ in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d") or \
                any(c.__name__ == "_BatchNorm" for c in type(m).__mro__):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _name: str = "jacrev") -> Callable[..., Any]:
    """Return ``J(*args)``, the Jacobian of a tensor-valued ``func`` with respect to ``args[argnums]``:
    shape ``out.shape + arg.shape`` (a tuple for several argnums; ``(J, aux)`` with ``has_aux``). One
    backward pass per output element. PyTorch: ``torch.func.jacrev``.

    The output may also be a tuple, list or dict of tensors: the Jacobian then has that structure, one
    Jacobian per output tensor (each a tuple over ``argnums`` when that is a tuple), as PyTorch's.

    >>> import autograd_core as ag
    >>> ag.func.jacrev(lambda x: x * x)(ag.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    >>> ag.func.jacrev(lambda x: {"sq": x * x, "sum": x.sum()})(ag.tensor([1.0, 2.0]))["sum"]
    tensor([1., 1.])
    """
    def wrapper(*args, **kwargs):
        aux_box, tree_box = [], []
        nums, single = _argnums(argnums, len(args), _name)
        if not all(isinstance(args[i], Tensor) for i in nums):
            # differentiated arguments that are dicts, tuples or lists of tensors (a model's parameters): the
            # Jacobian with respect to each of their tensors, put back in the argument's structure
            flat, unflat, positions, rebuilds = _flat_args(args, nums, _name)
            inner = jacrev(lambda *leaves, **k: func(*unflat(*leaves), **k),
                           tuple(k for pos in positions for k in pos), has_aux=has_aux, _name=_name)
            res = inner(*flat, **kwargs)
            j, aux = res if has_aux else (res, None)

            def regroup(per_leaf: Any) -> Any:
                out, at = [], 0
                for pos, rb in zip(positions, rebuilds):
                    out.append(rb(list(per_leaf[at:at + len(pos)])))
                    at += len(pos)
                return out[0] if single else tuple(out)
            if isinstance(j, tuple) and all(isinstance(t, Tensor) for t in j):
                j = regroup(j)  # one output tensor: a tuple over the flat tensors
            else:
                j = _map_tuples(j, regroup)
            return (j, aux) if has_aux else j

        def f(*a, **k):
            out, aux = _split_aux(func(*a, **k), has_aux, _name)
            aux_box.append(aux)
            if isinstance(out, Tensor):
                tree_box.append(None)
                return out
            # several outputs: one Jacobian of all their elements in a row, split per output below
            leaves, rebuild = _flatten(out)
            if not leaves or not all(isinstance(t, Tensor) for t in leaves):
                raise TypeError(f"{_name}: the function must return a Tensor or a tuple, list or dict of Tensors, "
                                f"got {type(out).__name__}")
            tree_box.append(([tuple(t.shape) for t in leaves], rebuild))
            from .ops.shape import cat
            return cat([t.reshape(-1) for t in leaves], 0)
        j = _fx.jacobian(f, argnums, _attach=True)(*args, **kwargs)
        if tree_box[-1] is not None:
            shapes, rebuild = tree_box[-1]
            per_arg = j if isinstance(j, tuple) else (j,)
            parts, at = [], 0
            for shp in shapes:
                n = int(np.prod(shp, dtype=np.int64))
                blocks = tuple(jj[at:at + n].reshape(shp + tuple(jj.shape[1:])) for jj in per_arg)
                parts.append(blocks if isinstance(j, tuple) else blocks[0])
                at += n
            j = rebuild(parts)
        return (j, aux_box[0]) if has_aux else j
    wrapper.__name__ = f"{_name}({getattr(func, '__name__', 'f')})"
    return wrapper


def _map_tuples(tree: Any, fn: Callable[[tuple], Any]) -> Any:
    """``tree`` (dicts, lists and tuples) with each innermost tuple of tensors replaced by ``fn(tuple)``."""
    if isinstance(tree, tuple) and all(isinstance(t, Tensor) for t in tree):
        return fn(tree)
    if isinstance(tree, dict):
        return type(tree)((k, _map_tuples(v, fn)) for k, v in tree.items())
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map_tuples(v, fn) for v in tree)
    return tree


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """``jacrev``'s Jacobian (computed in reverse mode; the values equal PyTorch's forward mode).
    PyTorch: ``torch.func.jacfwd``.

    >>> import autograd_core as ag
    >>> ag.func.jacfwd(lambda x: x.sum() * x)(ag.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    """
    return jacrev(func, argnums, has_aux=has_aux, _name="jacfwd")


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Hessian ``jacrev(jacrev(func))``: shape ``out.shape + arg.shape + arg.shape`` (``arg.shape +
    arg.shape`` for a one-element output; nested tuples ``H[i][j]`` for several argnums). PyTorch:
    ``torch.func.hessian`` (there ``jacfwd(jacrev(func))``, the same values).

    >>> import autograd_core as ag
    >>> ag.func.hessian(lambda x: (x ** 3).sum())(ag.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    wrapper = jacrev(jacrev(func, argnums), argnums)
    wrapper.__name__ = f"hessian({getattr(func, '__name__', 'f')})"
    return wrapper


# -- vmap ----------------------------------------------------------------------------------------------
def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable[..., Any]:
    """Map ``func`` over a batch dim: ``in_dims`` gives each positional argument's batch dim (an int, or
    None for an argument passed whole to every call; one int or None applies to all), ``out_dims``
    where the batch dim goes in each output (tensors, or tuples/lists/dicts of them). Runs ``func`` once
    per batch item and stacks the results (see the module docstring). PyTorch: ``torch.func.vmap``.

    >>> import autograd_core as ag
    >>> ag.func.vmap(lambda a, b: a @ b, in_dims=(0, None))(ag.ones(3, 2, 4), ag.ones(4, 5)).shape
    (3, 2, 5)
    """
    from .ops.shape import stack

    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}")

    def wrapper(*args, **kwargs):
        if isinstance(in_dims, (tuple, list)):
            if len(in_dims) != len(args):
                raise ValueError(f"vmap: in_dims {in_dims!r} gives {len(in_dims)} dim(s) for {len(args)} "
                                 f"positional argument(s)")
            dims = list(in_dims)
        else:
            dims = [in_dims] * len(args)
        n = None
        for a, d in zip(args, dims):
            if d is None:
                continue
            if not isinstance(d, int):
                raise ValueError(f"vmap: each in_dim must be an int or None, got {d!r}")
            for leaf in _flatten(a)[0]:
                if not isinstance(leaf, Tensor):
                    raise ValueError(f"vmap: a mapped argument must hold tensors, got {type(leaf).__name__} (give "
                                     "it in_dim None to pass it whole)")
                if not -leaf.ndim <= d < leaf.ndim:
                    raise ValueError(f"vmap: in_dim {d} is out of range for an argument of shape {tuple(leaf.shape)}")
                size = leaf.shape[d]
                if n is not None and size != n:
                    raise ValueError(f"vmap: the mapped arguments have different batch sizes ({n} and {size}) "
                                     f"along their in_dims")
                n = size
        if n is None:
            raise ValueError("vmap: at least one argument must be mapped (in_dims are all None or there are no "
                             "tensor arguments)")
        outs = []
        for i in range(n):
            item = [a if d is None else _map(lambda t, d=d: t.select(d, i), a) for a, d in zip(args, dims)]
            outs.append(func(*item, **kwargs))
        first_leaves, rebuild = _flatten(outs[0])
        per_out = [_flatten(o)[0] for o in outs]
        odims = list(out_dims) if isinstance(out_dims, (tuple, list)) else [out_dims] * len(first_leaves)
        if len(odims) != len(first_leaves):
            raise ValueError(f"vmap: out_dims {out_dims!r} gives {len(odims)} dim(s) for {len(first_leaves)} "
                             f"output(s)")
        stacked = []
        for k, od in enumerate(odims):
            col = [leaves[k] for leaves in per_out]
            if not all(isinstance(t, Tensor) for t in col):
                raise ValueError(f"vmap: the function must return tensors (or tuples, lists and dicts of them), "
                                 f"got {type(col[0]).__name__}")
            if od is None:
                stacked.append(col[0])
            else:
                stacked.append(stack(col, dim=od))
        return rebuild(stacked)
    wrapper.__name__ = f"vmap({getattr(func, '__name__', 'f')})"
    return wrapper


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: Any = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the parameters and buffers named in ``parameter_and_buffer_dicts``
    replaced for the call; provided by ``nn`` (``nn.utils.stateless.functional_call``)."""
    raise RuntimeError("func.functional_call runs an nn.Module, so it comes with nn: add `import nn` to the "
                       "script (it makes torch.func.functional_call available)")


functional_call.stands_in_for_nn = True  # type: ignore[attr-defined]

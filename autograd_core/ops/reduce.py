"""Reductions (sum, mean, prod, max, min, var, std, logsumexp, argmax) and softmax.

``axis`` may be None, an int or a tuple, negative or not; ``dim``/``keepdim`` are accepted as
PyTorch spellings. The op itself always sees a normalized tuple (or None) and ``keepdims``.
A VJP first reshapes the reduced gradient back to the kept-dims shape (``_expand``).
"""
from __future__ import annotations

import builtins
import math

import collections

import numpy as np

from ..errors import OpError
from ..modes import no_grad
from ..tensor import Tensor, get_default_dtype
from .registry import defop, method, xp
from ..kernels import rows as _krows


def norm_axis(axis, ndim, op="reduce"):
    """Normalize ``axis`` to a sorted tuple of non-negative ints (None stays None)."""
    if axis is None:
        return None
    if type(axis) is int and ndim > 0 and -ndim <= axis < ndim:    # the common case, checked
        return (axis + ndim if axis < 0 else axis,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    # this module defines its own max/sum/...: the builtin is needed here
    n = builtins.max(ndim, 1)
    out = []
    for a in axes:
        a = int(a)
        if not -n <= a < n:
            raise IndexError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimension(s)")
        out.append(a % n)
    if len(set(out)) != len(out):
        raise OpError(f"{op}: repeated axis in {axis}")
    if ndim == 0:
        return ()  # a 0-d tensor accepts axis 0 / -1 (as PyTorch); reducing over no axis is the identity
    return tuple(sorted(out))


def _kept_shape(shape, axis):
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def _expand(g, shape, axis, keepdims):
    """Reduced gradient -> full ``shape`` (broadcast along the reduced axes)."""
    if not keepdims:
        g = g.reshape(_kept_shape(shape, axis))
    return xp.broadcast_to(g, shape)


def _count(shape, axis):
    """The number of elements that a reduction over ``axis`` (a normalized tuple, or None: all) combines."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axis)


def _keep(ans, shape, axis, keepdims):
    return ans if keepdims else ans.reshape(_kept_shape(shape, axis))


# -- sum / mean / prod -------------------------------------------------------------------------
def _sum_fwd(x, axis=None, keepdims=False):
    lead = (axis,) if axis == 0 and type(axis) is int else axis
    if type(lead) is tuple and lead == tuple(range(len(lead))) and type(x) is np.ndarray:
        out = _krows.sum_leading(x, len(lead))    # over leading axes in one pass, None where it does not serve
        if out is not None:
            return out.reshape((1,) * len(lead) + out.shape) if keepdims else out
    if type(x) is np.ndarray:
        return x.sum(axis=axis, keepdims=keepdims)     # np.sum's Python wrapper costs ~1 us a call
    return np.sum(x, axis=axis, keepdims=keepdims)


_sum = defop("sum", _sum_fwd,
             (lambda g, ans, x, axis=None, keepdims=False: _expand(g, x.shape, axis, keepdims),), uses=())

def _mean_fwd(x, axis=None, keepdims=False):
    if type(x) is np.ndarray and x.dtype.char in "fd" and x.size:
        # np.mean's own sum and division without its Python layers (~3 us a call on small tensors)
        return x.sum(axis=axis, keepdims=keepdims) / _count(x.shape, axis)
    return np.mean(x, axis=axis, keepdims=keepdims)


_mean = defop("mean", _mean_fwd,
              (lambda g, ans, x, axis=None, keepdims=False:
               _expand(g / _count(x.shape, axis), x.shape, axis, keepdims),), uses=())


def _prod_vjp(g, ans, x, axis=None, keepdims=False):
    if not x.ndim:
        return g   # the product of one number is the identity: g even at 0, inf and NaN (as PyTorch)
    gk, ak = _keep(g, x.shape, axis, keepdims), _keep(ans, x.shape, axis, keepdims)
    if not isinstance(x, np.ndarray):
        # On the tape (grad of grad), ans / x differentiates to ans / x**2, which is 0/0 at zeros and
        # overflows near them: take the product of the others from multiplications only.
        return _prod_others_taped(x, axis) * gk
    if not np.all(x):
        return _prod_others(x, axis) * gk  # exact product of the other elements where x has zeros
    return gk * ak / x


def _prod_others(x, axis):
    """Product of all other elements along the reduced axes (handles zeros)."""
    ax = tuple(range(x.ndim)) if axis is None else axis
    moved = np.moveaxis(x, ax, tuple(range(x.ndim - len(ax), x.ndim)))
    flat = moved.reshape(moved.shape[:x.ndim - len(ax)] + (-1,))
    left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :0:-1]], -1), -1)[..., ::-1]
    return np.moveaxis((left * right).reshape(moved.shape), tuple(range(x.ndim - len(ax), x.ndim)), ax)


def _prod_others_taped(x, axis):
    """``_prod_others`` for a Tensor, from taped multiplications only (no division, so every
    derivative order is exact at and near zeros): left and right running products along the reduced
    axes, O(n) small ops for n reduced elements."""
    from .shape import permute, stack
    ax = tuple(range(x.ndim)) if axis is None else tuple(axis)
    if not ax:
        return x * 0 + 1
    keep = [d for d in range(x.ndim) if d not in ax]
    perm = tuple(keep) + ax
    moved = permute(x, perm)
    flat = moved.reshape(tuple(moved.shape[:len(keep)]) + (-1,))
    cols = [flat[..., i] for i in range(flat.shape[-1])]
    n = len(cols)
    left, acc = [None] * n, None
    for i in range(n):
        left[i] = acc
        acc = cols[i] if acc is None else acc * cols[i]
    right, acc = [None] * n, None
    for i in reversed(range(n)):
        right[i] = acc
        acc = cols[i] if acc is None else acc * cols[i]
    others = [cols[i] * 0 + 1 if left[i] is None and right[i] is None else
              left[i] if right[i] is None else right[i] if left[i] is None else left[i] * right[i]
              for i in range(n)]
    out = stack(others, axis=-1).reshape(moved.shape)
    return permute(out, tuple(np.argsort(perm)))


_prod = defop("prod", lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
              (_prod_vjp,), uses_ans=True)


# -- max / min ----------------------------------------------------------------------------------
# PyTorch has three conventions, kept here: amax/amin split the gradient among ties (NaN: nan);
# the full max()/min() split it among ties, or among the NaNs when the result is NaN; and
# max(dim)/min(dim) send it to the returned index (the first extreme, or the first NaN).
def _extreme_vjp(g, ans, x, axis=None, keepdims=False):
    # a float mask: bool / count would be integer division, which gives float32, not g's precision
    mask = (x == _keep(ans, x.shape, axis, keepdims)).astype(g.dtype)
    share = mask / mask.sum(axis=axis, keepdims=True)
    return _keep(g, x.shape, axis, keepdims) * share


def _extreme_all_vjp(g, ans, x):
    mask = xp.where(ans != ans, x != x, x == ans).astype(g.dtype)
    return g * (mask / mask.sum())


def _check_nonempty(x, axis, op):
    if x.size == 0 and axis is None:
        raise OpError(f"{op}: cannot reduce an empty tensor of shape {x.shape} without an axis; "
                         "give a dim whose size is not 0")


def _amax(x, axis=None, keepdims=False):
    _check_nonempty(x, axis, "amax")
    return np.max(x, axis=axis, keepdims=keepdims)


def _amin(x, axis=None, keepdims=False):
    _check_nonempty(x, axis, "amin")
    return np.min(x, axis=axis, keepdims=keepdims)


def _max_all(x):
    _check_nonempty(x, None, "max")
    return np.max(x)


def _min_all(x):
    _check_nonempty(x, None, "min")
    return np.min(x)


def _extreme_dim(arg):
    def forward(x, axis, keepdims=False):
        if x.shape[axis] == 0:
            raise OpError(f"{arg.__name__[3:]}: dim {axis} of shape {x.shape} has size 0; there is no extreme")
        idx = arg(x, axis=axis, keepdims=True)
        vals = np.take_along_axis(x, idx, axis)
        return (vals if keepdims else vals.squeeze(axis)), idx
    return forward


def _extreme_dim_vjp(g, ans, x, axis, keepdims=False, res=None):
    gk = _keep(g, x.shape, (axis,), keepdims)
    return xp.scatter_add(gk, index=res, axis=axis, shape=x.shape)


_amax_op = defop("amax", _amax, (_extreme_vjp,), uses_ans=True)
_amin_op = defop("amin", _amin, (_extreme_vjp,), uses_ans=True)
_max_all_op = defop("max", _max_all, (_extreme_all_vjp,), uses_ans=True)
_min_all_op = defop("min", _min_all, (_extreme_all_vjp,), uses_ans=True)
_max_dim_op = defop("max_dim", _extreme_dim(np.argmax), (_extreme_dim_vjp,), residuals=True, reads=((),))
_min_dim_op = defop("min_dim", _extreme_dim(np.argmin), (_extreme_dim_vjp,), residuals=True, reads=((),))


# -- var / std ---------------------------------------------------------------------------------
def _dof(shape, axis, correction):
    """n - correction, floored at 0 as PyTorch does (the result is then inf or nan, not an error)."""
    return builtins.max(_count(shape, axis) - correction, 0)


def _var(x, axis=None, keepdims=False, correction=1):
    """sum((x - mean)^2) / (n - correction)."""
    with np.errstate(all="ignore"):
        d = x - np.mean(x, axis=axis, keepdims=True)
        return np.asarray(np.sum(d * d, axis=axis, keepdims=keepdims) / _dof(x.shape, axis, correction))


def _var_vjp(g, ans, x, axis=None, keepdims=False, correction=1):
    dof = _dof(x.shape, axis, correction)
    gk = _keep(g, x.shape, axis, keepdims)
    if dof <= 0 and (axis is None or x.ndim == 0):
        # n - correction <= 0 over all elements: PyTorch's gradient is g times a constant, NaN where x
        # equals its mean and inf elsewhere, so it depends on x through g only (over given dims it is
        # (2 / 0) g (x - mean), whose second derivative is NaN)
        xd = x if isinstance(x, np.ndarray) else x._data
        with np.errstate(all="ignore"):
            factor = np.where(xd == xd.mean(), np.nan, np.inf).astype(xd.dtype if xd.dtype.kind == "f" else np.float64)
        return gk * (factor if isinstance(x, np.ndarray) else Tensor(factor))
    scale = 2.0 / dof if dof else math.inf
    with np.errstate(all="ignore"):
        return gk * scale * (x - x.mean(axis=axis, keepdims=True))


def _std(x, axis=None, keepdims=False, correction=1):
    return np.sqrt(_var(x, axis, keepdims, correction))


def _std_vjp(g, ans, x, axis=None, keepdims=False, correction=1):
    dof = _dof(x.shape, axis, correction)
    s = _keep(ans, x.shape, axis, keepdims)
    # Where std is 0 the gradient is 0, as a constant (PyTorch masks it), so that its own derivative
    # is 0 there too; the denominator of 1 keeps a 0/0 out of the unselected branch, whose gradient
    # the where() would otherwise turn into NaN.
    zero = s == 0
    s = xp.where(zero, 1.0, s)
    with np.errstate(all="ignore"):
        d = (_keep(g, x.shape, axis, keepdims) / (s * dof)) * (x - x.mean(axis=axis, keepdims=True))
    return xp.where(zero, 0.0, d)


_varop = defop("var", _var, (_var_vjp,))
_stdop = defop("std", _std, (_std_vjp,), uses_ans=True)


# -- logsumexp, softmax, log_softmax -----------------------------------------------------------
def _logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed stably (shifted by the max)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape(np.sum(np.empty(x.shape, np.bool_), axis=axis).shape)


_lse = defop("logsumexp", _logsumexp,
             (lambda g, ans, x, axis=None, keepdims=False:
              _keep(g, x.shape, axis, keepdims) * xp.exp(x - _keep(ans, x.shape, axis, keepdims)),),
             uses_ans=True)


def _softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max for stability."""
    if axis == -1 or axis == x.ndim - 1:
        out = _krows.softmax(x)    # one pass per row (kernels.rows), None where it does not serve
        if out is not None:
            return out
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))   # np.max / np.sum without their wrappers
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def _log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    if axis == -1 or axis == x.ndim - 1:
        out = _krows.log_softmax(x)
        if out is not None:
            return out
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _softmax_grad(g, y, axis=-1):
    """Softmax's VJP: ``y (g - sum(g y))`` along ``axis`` (y the softmax's output; g, y same shape)."""
    if axis == -1 or axis == g.ndim - 1:
        out = _krows.softmax_grad(g, y)    # one pass per row, None where it does not serve
        if out is not None:
            return out
    return y * (g - (g * y).sum(axis=axis, keepdims=True))


# f(g, y) = y (g - s), s = sum(g y): linear in g and self-adjoint there, so d/dg is f itself;
# d/dy = G (g - s) - g sum(G y).
_softmax_grad_op = defop(
    "softmax_grad", _softmax_grad,
    (lambda G, ans, g, y, axis=-1: xp.softmax_grad(G, y, axis=axis),
     lambda G, ans, g, y, axis=-1: G * (g - (g * y).sum(axis=axis, keepdims=True)) - g * (G * y).sum(axis=axis, keepdims=True)),
    reads=((1,), (0, 1)))

_softmax_op = defop("softmax", _softmax,
                    (lambda g, ans, x, axis=-1: xp.softmax_grad(g, ans, axis=axis),),
                    uses=(), uses_ans=True)


def _log_softmax_grad(g, y, axis=-1):
    """log_softmax's VJP: ``g - exp(y) sum(g)`` along ``axis`` (y the log_softmax's output)."""
    if axis == -1 or axis == g.ndim - 1:
        out = _krows.log_softmax_grad(g, y)    # one pass per row, no temporaries; None where it does not serve
        if out is not None:
            return out
    return g - np.exp(y) * g.sum(axis=axis, keepdims=True)


# f(g, y) = g - exp(y) s, s = sum(g): d/dg is G - sum(G exp(y)); d/dy = -G exp(y) s.
_log_softmax_grad_op = defop(
    "log_softmax_grad", _log_softmax_grad,
    (lambda G, ans, g, y, axis=-1: G - (G * xp.exp(y)).sum(axis=axis, keepdims=True),
     lambda G, ans, g, y, axis=-1: -(G * xp.exp(y)) * g.sum(axis=axis, keepdims=True)),
    reads=((1,), (0, 1)))

_log_softmax_op = defop("log_softmax", _log_softmax,
                        (lambda g, ans, x, axis=-1: xp.log_softmax_grad(g, ans, axis=axis),),
                        uses=(), uses_ans=True)


def _cumsum(x, axis=0):
    return np.cumsum(x, axis=axis)


_cumsum_op = defop("cumsum", _cumsum,
                   (lambda g, ans, x, axis=0: xp.flip(xp.cumsum(xp.flip(g, axis=(axis,)), axis=axis),
                                                       axis=(axis,)),), uses=())

# -- no gradient -------------------------------------------------------------------------------
_argmax = defop("argmax", lambda x, axis=None, keepdims=False: np.argmax(x, axis=axis, keepdims=keepdims),
                differentiable=False, nargs=1)
_argmin = defop("argmin", lambda x, axis=None, keepdims=False: np.argmin(x, axis=axis, keepdims=keepdims),
                differentiable=False, nargs=1)
_any = defop("any", lambda x, axis=None, keepdims=False: np.any(x, axis=axis, keepdims=keepdims),
             differentiable=False, nargs=1)
_all = defop("all", lambda x, axis=None, keepdims=False: np.all(x, axis=axis, keepdims=keepdims),
             differentiable=False, nargs=1)


# -- public wrappers: accept axis/dim, keepdims/keepdim ----------------------------------------
def _ax(x, axis, dim, keepdims, keepdim, name):
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return norm_axis(axis, x.ndim, name), bool(keepdims)


def _reducer(op, name, doc, ints=True):
    """The public reduction ``name`` over ``op``. ``ints``: True (integer and bool tensors reduce as they are),
    False (refused without ``dtype=``, as PyTorch's mean), "float" (computed in the default float dtype) or
    "uint8" (as True, and a uint8 tensor gives a uint8 result)."""
    def reduce(x, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if dtype is not None:
            x = x.to(dtype)   # PyTorch casts the input first, and the result has that dtype (int8 sums wrap)
        elif (ints is False or ints == "float") and x._data.dtype.kind in "biu":
            if not ints:
                raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either a floating "
                                   f"point or complex dtype. Got: {x._data.dtype}; pass dtype= or call .float() "
                                   "first")
            x = x.to(get_default_dtype())
        ax, kd = _ax(x, axis, dim, keepdims, keepdim, name)
        out = op(x, axis=ax, keepdims=kd)
        if ints == "uint8" and x._data.dtype == np.uint8:
            out = out.to(np.uint8)   # PyTorch's any / all of a uint8 tensor (the old masks) is uint8
        elif dtype is not None and out._data.dtype is not x._data.dtype:
            out = out.to(x._data.dtype)
        elif out._data.dtype == np.uint64 and x._data.dtype != np.uint64:
            out = out.to(np.int64)   # NumPy sums unsigned ints in uint64, PyTorch every integer type in int64
        return out
    reduce.__name__ = name
    reduce.__doc__ = doc
    return reduce


sum = _reducer(_sum, "sum",
               doc="""Sum over ``dim`` (an int or a tuple; all elements if None): the reduced dims are dropped, or kept
               as size 1 with ``keepdim=True``.

               d/dx sum(x) = 1 for every element. PyTorch: ``torch.sum``; NumPy's ``axis``/``keepdims`` work too.

               >>> import autograd_core as ag
               >>> x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
               >>> x.sum(), x.sum(0), x.sum(dim=1, keepdim=True)
               (tensor(10.), tensor([4., 6.]), tensor([[3.],
                       [7.]]))
               """)
mean = _reducer(_mean, "mean", ints=False,
                doc="""Mean over ``dim`` (an int or a tuple; all elements if None): the reduced dims are dropped,
                or kept as size 1 with ``keepdim=True``.

                d/dx mean(x) = 1 / n for each of the n reduced elements. PyTorch: ``torch.mean``.

                >>> import autograd_core as ag
                >>> x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
                >>> x.mean(), ag.mean(x, dim=0)
                (tensor(2.5000), tensor([2., 3.]))
                """)
prod = _reducer(_prod, "prod",
                doc="""Product over ``dim`` (an int or a tuple; all elements if None): the reduced dims are dropped, or
                kept as size 1 with ``keepdim=True``.

                d/dx_i prod(x) = the product of the other elements (exact where x has zeros). PyTorch:
                ``torch.prod``.

                >>> import autograd_core as ag
                >>> x = ag.tensor([2.0, 0.0, 3.0], requires_grad=True)
                >>> p = ag.prod(x)
                >>> p.backward()
                >>> p, x.grad
                (tensor(0., grad_fn=<ProdBackward>), tensor([0., 6., 0.]))
                """)
amax = _reducer(_amax_op, "amax",
                doc="""Maximum over ``dim`` (an int or a tuple; all elements if None), values only: the reduced dims are
                dropped, or kept as size 1 with ``keepdim=True``.

                The gradient is shared evenly among the maxima (ties). PyTorch: ``torch.amax``.

                >>> import autograd_core as ag
                >>> x = ag.tensor([[1.0, 3.0], [3.0, 2.0]], requires_grad=True)
                >>> ag.amax(x, dim=1)
                tensor([3., 3.], grad_fn=<AmaxBackward>)
                >>> ag.amax(x).backward()
                >>> x.grad
                tensor([[0.0000, 0.5000],
                        [0.5000, 0.0000]])
                """)
amin = _reducer(_amin_op, "amin",
                doc="""Minimum over ``dim`` (an int or a tuple; all elements if None), values only: the reduced dims are
                dropped, or kept as size 1 with ``keepdim=True``.

                The gradient is shared evenly among the minima (ties). PyTorch: ``torch.amin``.

                >>> import autograd_core as ag
                >>> ag.amin(ag.tensor([[1.0, 3.0], [0.0, 2.0]]), dim=0)
                tensor([0., 2.])
                """)

MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])
MaxMin.__doc__ = "(values, indices) of ``max(x, dim)`` / ``min(x, dim)``, as torch.return_types.max."


def _extreme(name, all_op, dim_op, amaxmin, pairwise):
    def f(x, dim=None, keepdim=False, *, axis=None, keepdims=None, out=None):
        if out is not None:
            raise TypeError(f"{name}: out= is not supported; use the returned tensor")
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if isinstance(dim, Tensor) or (dim is not None and not isinstance(dim, (int, np.integer, tuple, list))):
            return pairwise(x, dim)            # torch.max(a, b): the elementwise maximum
        kd = bool(keepdim if keepdims is None else keepdims)
        if axis is not None or isinstance(dim, (tuple, list)) or (dim is None and kd):
            # numpy's keyword (or several dims): values only, with amax's gradient
            ax = norm_axis(axis if axis is not None else dim, x.ndim, name)
            if ax is None and x._data.size == 0:
                raise OpError(f"{name}: cannot reduce an empty tensor of shape {tuple(x.shape)} without a dim")
            return amaxmin(x, axis=ax, keepdims=kd)
        if dim is None:
            return all_op(x)
        ax = norm_axis(dim, x.ndim, name)
        if not ax:   # a 0-d tensor: dim 0 / -1 is the tensor itself
            return MaxMin(x.clone(), Tensor(np.zeros((), np.int64)))
        vals = dim_op(x, axis=ax[0], keepdims=kd)
        with no_grad():
            idx = (argmax if name == "max" else argmin)(x, ax[0], kd)
        return MaxMin(vals, idx)
    f.__name__ = name
    f.__doc__ = f"""{name}(x) -> 0-d; {name}(x, dim, keepdim=False) -> (values, indices); {name}(x, other) -> elementwise.

    As PyTorch: a positional or ``dim=`` int gives the named tuple (values, indices), and the gradient
    goes to the returned index (the first {name}imum, or the first NaN). The full reduction shares the
    gradient among ties. NumPy's ``axis=`` (or a tuple of dims) gives the values only, like ``a{name}``.

    >>> import autograd_core as ag
    >>> v, i = ag.{name}(ag.tensor([[1., 3., 3.]]), 1)
    >>> i
    tensor([{'1' if name == 'max' else '0'}])
    """
    return f


logsumexp = _reducer(_lse, "logsumexp", ints="float",
                     doc="""``log(sum(exp(x)))`` over ``dim`` (an int or a tuple; all if None), computed stably
                     (shifted by the max); the reduced dims are dropped, or kept with ``keepdim=True``.

                     d/dx logsumexp(x) = softmax(x). PyTorch: ``torch.logsumexp``.

                     >>> import autograd_core as ag
                     >>> ag.logsumexp(ag.tensor([0.0, 0.0]), dim=0)
                     tensor(0.6931)
                     >>> ag.logsumexp(ag.tensor([1000.0, 1000.0], dtype=ag.float64), dim=0)
                     tensor(1000.6931, dtype=float64)
                     """)
any = _reducer(_any, "any", ints="uint8",
               doc="""Whether any element is nonzero, over ``dim`` (all elements if None): a bool tensor with the
               reduced dims dropped (or kept with ``keepdim=True``).

               Not differentiable. PyTorch: ``torch.any``.

               >>> import autograd_core as ag
               >>> x = ag.tensor([[0, 1], [0, 0]])
               >>> x.any(), x.any(dim=1)
               (tensor(True), tensor([ True, False]))
               """)
all = _reducer(_all, "all", ints="uint8",
               doc="""Whether every element is nonzero, over ``dim`` (all elements if None): a bool tensor with the
               reduced dims dropped (or kept with ``keepdim=True``).

               Not differentiable. PyTorch: ``torch.all``.

               >>> import autograd_core as ag
               >>> x = ag.tensor([[1, 1], [0, 1]])
               >>> x.all(), x.all(dim=1)
               (tensor(False), tensor([ True, False]))
               """)


def _single_axis(x, axis, dim, name):
    if dim is not None:
        axis = dim
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    ax = norm_axis(axis, x.ndim, name)
    return ax[0] if ax else None  # None for a 0-d tensor: the whole (one-element) tensor


def _arg(op, name):
    def f(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if dim is not None:
            axis = dim
        if keepdim is not None:
            keepdims = keepdim
        if axis is not None:
            axis = _single_axis(x, axis, None, name)
        return op(x, axis=axis, keepdims=bool(keepdims))
    f.__name__ = name
    return f


argmax = _arg(_argmax, "argmax")
argmax.__doc__ = """Index of the maximum along ``dim`` (an int64 tensor, the dim dropped or kept with ``keepdim=True``),
    or of the flattened tensor if ``dim`` is None (a 0-d tensor). The first maximum wins a tie.

    Not differentiable. PyTorch: ``torch.argmax``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 2.0]])
    >>> ag.argmax(x), x.argmax(dim=1)
    (tensor(3), tensor([1, 0]))
    """
argmin = _arg(_argmin, "argmin")
argmin.__doc__ = """Index of the minimum along ``dim`` (an int64 tensor, the dim dropped or kept with ``keepdim=True``),
    or of the flattened tensor if ``dim`` is None (a 0-d tensor). The first minimum wins a tie.

    Not differentiable. PyTorch: ``torch.argmin``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1.0, 0.0, 0.0], [7.0, 9.0, 2.0]])
    >>> ag.argmin(x), x.argmin(dim=1)
    (tensor(1), tensor([1, 2]))
    """


def _pairwise(which):
    def f(a, b):
        from . import elementwise
        return getattr(elementwise, which)(a, b)
    return f


max = _extreme("max", _max_all_op, _max_dim_op, _amax_op, _pairwise("maximum"))
min = _extreme("min", _min_all_op, _min_dim_op, _amin_op, _pairwise("minimum"))


def var(x, axis=None, correction=1, keepdims=False, *, dim=None, keepdim=None, unbiased=None, ddof=None):
    """Variance over ``dim`` (an int or a tuple; all elements if None): ``sum((x - mean)**2) / (n -
    correction)``; ``correction=1`` (the default, as PyTorch) is unbiased, ``unbiased=False`` or
    ``correction=0`` the population variance (``ddof`` is NumPy's name for it).

    d/dx var = 2 (x - mean) / (n - correction). PyTorch: ``torch.var``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0, 3.0, 4.0])
    >>> ag.var(x), x.var(correction=0)
    (tensor(1.6667), tensor(1.2500))
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if ddof is not None:
        correction = ddof
    ax, kd = _ax(x, axis, dim, keepdims, keepdim, "var")
    return _varop(x, axis=ax, keepdims=kd, correction=correction)


def std(x, axis=None, correction=1, keepdims=False, *, dim=None, keepdim=None, unbiased=None, ddof=None):
    """Standard deviation over ``dim`` (an int or a tuple; all elements if None): ``sqrt(var(x, dim,
    correction))``; ``correction=1`` (the default, as PyTorch) is the unbiased estimate (see ``var``).

    d/dx std = (x - mean) / ((n - correction) std). PyTorch: ``torch.std``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1.0, 3.0], [2.0, 2.0]])
    >>> ag.std(x, dim=1)
    tensor([1.4142, 0.0000])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if ddof is not None:
        correction = ddof
    ax, kd = _ax(x, axis, dim, keepdims, keepdim, "std")
    return _stdop(x, axis=ax, keepdims=kd, correction=correction)


def softmax(x, axis=-1, *, dim=None, dtype=None):
    """Softmax along ``dim`` (default: the last): ``exp(x) / sum(exp(x))``, shifted by the max for
    stability; same shape as ``x``, and each slice along ``dim`` sums to 1.

    ``dtype`` casts x first. d/dx: s * (g - sum(g * s)) for s = softmax(x) and upstream gradient g.
    PyTorch: ``torch.softmax``.

    >>> import autograd_core as ag
    >>> ag.softmax(ag.tensor([[0.0, 0.0], [0.0, 1.0]]), dim=1)
    tensor([[0.5000, 0.5000],
            [0.2689, 0.7311]])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if dtype is not None:
        x = x.astype(dtype)
    return _softmax_op(x, axis=_single_axis(x, axis, dim, "softmax"))


def log_softmax(x, axis=-1, *, dim=None, dtype=None):
    """Log-softmax along ``dim`` (default: the last): ``x - logsumexp(x)``, stable for large ``|x|``;
    same shape as ``x``.

    ``dtype`` casts x first. d/dx: g - softmax(x) * sum(g) for upstream gradient g. PyTorch:
    ``torch.log_softmax``.

    >>> import autograd_core as ag
    >>> ag.log_softmax(ag.tensor([0.0, 0.0]), dim=0)
    tensor([-0.6931, -0.6931])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if dtype is not None:
        x = x.astype(dtype)
    return _log_softmax_op(x, axis=_single_axis(x, axis, dim, "log_softmax"))


def cumsum(x, axis=0, *, dim=None, dtype=None):
    """Cumulative sum along ``dim``: ``out[i] = x[0] + ... + x[i]``; same shape as ``x``.

    d/dx: the reversed cumulative sum of the upstream gradient. PyTorch: ``torch.cumsum``.

    >>> import autograd_core as ag
    >>> ag.cumsum(ag.tensor([[1, 2, 3], [4, 5, 6]]), dim=1)
    tensor([[ 1,  3,  6],
            [ 4,  9, 15]])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    ax = _single_axis(x, axis, dim, "cumsum")
    if ax is None:
        return x.clone()  # the cumulative sum of one element
    out = _cumsum_op(x, axis=ax)
    # NumPy sums small integers in int64 (unsigned ones in uint64), PyTorch all of them in int64 without
    # dtype=; with it, PyTorch keeps (and wraps) that dtype
    if dtype is None:
        return out.to(np.int64) if out._data.dtype == np.uint64 and x._data.dtype != np.uint64 else out
    return out if out._data.dtype is x._data.dtype else out.to(x._data.dtype)


for _n, _f in dict(sum=sum, mean=mean, prod=prod, max=max, min=min, amax=amax, amin=amin, var=var, std=std,
                   logsumexp=logsumexp, argmax=argmax, argmin=argmin, any=any, all=all, softmax=softmax,
                   log_softmax=log_softmax, cumsum=cumsum).items():
    method(_n, _f)


def _sum_to_size(self, *size):
    """This tensor summed down to ``size``, a shape it broadcasts to (the adjoint of ``expand``: dims that
    ``size`` lacks or has as 1 are summed). PyTorch: ``Tensor.sum_to_size``.

    >>> import autograd_core as ag
    >>> ag.ones(2, 3).sum_to_size(1, 3)
    tensor([[2., 2., 2.]])
    """
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != d for s, d in zip(size, shape[lead:])):
        raise OpError(f"sum_to_size: size {size} is not expandable to the tensor's shape {shape}: each of its "
                         "dims must be 1 or equal to the tensor's (aligned from the right)")
    out = sum(self, axis=tuple(range(lead))) if lead else self
    keep = tuple(i for i, (s, d) in enumerate(zip(size, shape[lead:])) if s == 1 and d != 1)
    return sum(out, axis=keep, keepdims=True) if keep else out


method("sum_to_size", _sum_to_size)

"""PyTorch's ``out=`` keyword, for the namespace functions that take it in PyTorch.

``ag.matmul(a, b, out=c)`` computes ``a @ b`` and writes it into ``c`` (cast to c's dtype, as
``c.copy_`` would), then returns ``c``. Functions with several results take a tuple
(``ag.max(x, 1, out=(values, indices))``). As in PyTorch:

* the result must be castable to ``out``'s dtype: a float result into an integer tensor, or a number
  into a bool tensor, is refused; indices need an int64 tensor;
* ``out`` of another shape is resized (with a warning unless it was empty); a view cannot be resized;
* creation functions (``zeros``, ``arange``, ``randn``, ...) make ``out``'s dtype unless ``dtype=``
  says otherwise, and then the two must agree;
* with grad mode on, no argument (``out`` included) may require grad: a result written into an
  existing tensor has no place on the tape. Under ``ag.no_grad()`` anything goes.

>>> import autograd_core as ag
>>> c = ag.zeros(2, 2)
>>> r = ag.matmul(ag.eye(2), ag.full((2, 2), 3.0), out=c)
>>> r is c, c
(True, tensor([[3., 3.],
        [3., 3.]]))
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from . import graph
from .tensor import Tensor

__all__ = ["with_out", "write_out", "NAMES", "LINALG_NAMES", "SPECIAL_NAMES"]

# The package's functions that take out= in PyTorch (its documentation lists the keyword).
NAMES = (
    "abs acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin aminmax arange asin asinh atan "
    "atan2 atanh baddbmm bernoulli bitwise_and bitwise_not bitwise_or bitwise_xor bmm bucketize cat ceil "
    "chain_matmul cholesky clamp clip column_stack concat concatenate cos cosh cross cummax cummin cumprod "
    "cumsum deg2rad diag diff digamma div divide dot dstack empty eq erf erfc erfinv exp exp2 expm1 eye fix "
    "float_power floor floor_divide fmax fmin fmod frac full gather ge ger greater greater_equal gt heaviside "
    "histc hstack hypot index_select inner inverse isneginf isposinf kron kthvalue le lerp less less_equal "
    "lgamma linspace log log10 log1p log2 logaddexp logaddexp2 logcumsumexp logical_and logical_not logical_or "
    "logical_xor logit logspace logsumexp lt masked_select matmul matrix_power max maximum mean median min "
    "minimum mm mode msort mul multinomial multiply mv nan_to_num nanmean nanmedian nanquantile ne neg negative "
    "nonzero norm normal not_equal ones outer pow prod qr quantile rad2deg rand randint randn randperm "
    "reciprocal remainder renorm round row_stack rsqrt searchsorted sgn sigmoid sign signbit sin sinc sinh sort "
    "sqrt square stack std std_mean sub subtract sum svd take_along_dim tan tanh topk tril triu trunc var var_mean "
    "vdot vstack where xlogy zeros absolute any arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin "
    "clamp_max clamp_min conj_physical copysign isin log_softmax nansum softmax take tensordot true_divide").split()
LINALG_NAMES = ("cholesky cond cross det eigh eigvalsh inv matmul matrix_norm matrix_power matrix_rank multi_dot "
                "norm pinv qr slogdet solve svd svdvals vecdot vector_norm").split()
SPECIAL_NAMES = ("digamma entr erf erfc erfinv exp2 expit expm1 gammaln log1p log_ndtr logit logsumexp multigammaln "
                 "ndtr polygamma psi round sinc xlog1py xlogy").split()

# Functions that make a tensor from nothing: out's dtype is theirs unless dtype= is given.
_CREATION = frozenset("arange empty eye full linspace logspace ones rand randint randn randperm zeros".split())
# Functions whose integer result is a list of positions: PyTorch wants an int64 out for it.
_INDEX = frozenset("argmax argmin argsort nonzero searchsorted bucketize randperm".split())


def _tensors(obj):
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)


def _can_cast(src, dst):
    """PyTorch's canCast: no float into an integer or bool, no integer into a bool."""
    if src.kind == "f" and dst.kind in "iub":
        return False
    if src.kind in "iu" and dst.kind == "b":
        return False
    return True


def write_out(name, result, out, index=False):
    """Write ``result`` (a Tensor or array) into the tensor ``out`` as PyTorch's ``out=`` does (see the module
    docstring) and return ``out``.

    >>> import autograd_core as ag
    >>> o = ag.zeros(3, dtype=ag.int64)
    >>> write_out("add", ag.tensor([1, 2, 3]), o)
    tensor([1, 2, 3])
    """
    data = result._data if isinstance(result, Tensor) else np.asarray(result)
    dst = out._data.dtype
    if index and data.dtype.kind in "iu" and dst != np.int64:
        raise RuntimeError(f"{name}(): out= for its indices must be an int64 tensor, got {np.dtype(dst).name}: "
                           f"make it with dtype=ag.int64")
    if not _can_cast(data.dtype, dst):
        raise RuntimeError(f"{name}(): the result type {data.dtype.name} can't be cast to the desired output type "
                           f"{np.dtype(dst).name} of out=: pass an out tensor of dtype {data.dtype.name}, or drop out=")
    if out.shape != data.shape:
        if getattr(out, "_base", None) is not None:
            raise RuntimeError(f"{name}(): out= has shape {tuple(out.shape)} but the result has shape {tuple(data.shape)}, "
                               f"and out= is a view, which cannot be resized: pass a tensor of shape {tuple(data.shape)}")
        if out._data.size:
            warnings.warn(f"{name}(): an output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(data.shape)} "
                          f"(PyTorch warns the same; pass an out= of the right shape, or an empty one)",
                          UserWarning, stacklevel=3)
        out._data = np.empty(data.shape, dst)
    with graph.no_grad():
        out[...] = data
    return out


def _call(name, fn, args, kw, out):
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}(): out= must be a tensor (a tuple of tensors for a function with several results), "
                            f"got {type(o).__name__}")
    if graph.is_grad_enabled() and any(t.requires_grad for t in (*_tensors(args), *_tensors(kw), *outs)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, but "
                           f"one of the arguments requires grad: drop out= and use the returned tensor, or call it "
                           f"under ag.no_grad()")
    if name in _CREATION and len(outs) == 1:
        want = kw.get("dtype")
        if want is None:
            kw = dict(kw, dtype=outs[0].dtype)
        elif np.dtype(want) != outs[0]._data.dtype:
            raise RuntimeError(f"{name}(): dtype={np.dtype(want).name} does not match out='s dtype "
                               f"{outs[0]._data.dtype.name}: drop one of them")
    with graph.no_grad():
        result = fn(*args, **kw)
    results = tuple(result) if isinstance(result, tuple) else (result,)
    if len(results) != len(outs):
        raise TypeError(f"{name}(): out= needs {len(results)} tensor(s), one per result, got {len(outs)}")
    for i, (r, o) in enumerate(zip(results, outs)):
        write_out(name, r, o, index=i > 0 or name in _INDEX)
    if isinstance(result, tuple) and hasattr(result, "_fields"):
        return type(result)(*outs)     # (values, indices) as named results, holding the out tensors
    return out


def with_out(name, fn):
    """``fn`` that also takes PyTorch's ``out=`` (see the module docstring).

    >>> import autograd_core as ag
    >>> f = with_out("neg", ag.neg)
    >>> o = ag.zeros(2)
    >>> f(ag.tensor([1.0, 2.0]), out=o) is o, o
    (True, tensor([-1., -2.]))
    """
    @functools.wraps(fn)
    def f(*args, out=None, **kw):
        if out is None:
            return fn(*args, **kw)
        return _call(name, fn, args, kw, out)
    return f

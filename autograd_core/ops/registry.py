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

import inspect
import sys
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..errors import OpError
from .. import modes
from ..dtypes import result_type as _result_type
from ..node import edge, mark_view, record
from ..tensor import Tensor, _to_array, get_default_dtype, make

__all__ = ["defop", "OPS", "xp", "OpDef", "wrap_const"]

OPS = {}


class _XP:
    """Array/Tensor-agnostic functions for VJP rules: ``xp.exp(a)`` is ``np.exp`` on an ndarray
    and the taped ``exp`` op on a Tensor."""

    def __repr__(self):
        return f"<xp namespace: {', '.join(sorted(k for k in vars(self)))}>"

    if TYPE_CHECKING:  # defop adds one function per op at import: a type checker can't list them
        def __getattr__(self, name: str) -> Callable[..., Any]: ...

        def __setattr__(self, name: str, value: Callable[..., Any]) -> None: ...


xp = _XP()


class OpDef:
    """A registered op: its name, forward, VJP rule(s), and what the rules read."""

    __slots__ = ("name", "forward", "vjps", "vjp", "uses", "uses_ans", "reads", "backward_name", "differentiable",
                 "fn", "doc", "same_shape", "residuals", "view", "options", "open_kw", "hidden", "region_grad",
                 "alike", "promote", "floating")

    def __repr__(self):
        return f"<op {self.name}>"


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_")) + "Backward"


def wrap_const(v):
    """Turn a non-Tensor operand (scalar, list, array) into something numpy ops accept."""
    if isinstance(v, (int, float, bool, np.ndarray, np.generic)):
        return v
    return _to_array(v)


def _option_params(forward, nargs):
    """The forward's keyword options (inspect.Parameters, in order), and whether it takes ``**kw``.

    A NumPy ufunc used as a forward has no options: its own keywords (``out=``, ``where=``) would
    write into arrays behind the tape's back, so they are refused."""
    if isinstance(forward, np.ufunc):
        return (), False
    try:
        params = list(inspect.signature(forward).parameters.values())
    except (TypeError, ValueError):
        return (), True
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    if nargs is None or any(p.kind == p.VAR_POSITIONAL for p in params[:nargs]):
        return tuple(p for p in params if p.kind == p.KEYWORD_ONLY), var_kw or True
    return tuple(p for p in params[nargs:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)), var_kw


def _check_kw(op, kw):
    options = op.options
    for k in kw:
        if k not in options:
            takes = "its options are " + ", ".join(options) if options else "it takes no options"
            raise TypeError(f"{op.name}() got an unexpected keyword argument {k!r} ({takes}); "
                            f"NumPy's out=/where= are not supported: use the returned tensor")
    return kw


def _signature(op, nargs, params):
    names = ("input",) if nargs == 1 else ("input", "other") if nargs == 2 else ()
    ps = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    if nargs is None:
        ps.append(inspect.Parameter("inputs", inspect.Parameter.VAR_POSITIONAL))
    for p in params:
        kind = inspect.Parameter.KEYWORD_ONLY if nargs is None else inspect.Parameter.POSITIONAL_OR_KEYWORD
        ps.append(inspect.Parameter(p.name, kind, default=p.default))
    return inspect.Signature(ps)


def _caller_module():
    """The module that called defop (so help() and the reference show the op where it is defined)."""
    f = sys._getframe(2)
    return f.f_globals.get("__name__", __name__)


def _bind(op, opts, kw):
    """Positional options after the inputs -> keywords (``leaky_relu(x, 0.1)``)."""
    names = op.options
    if len(opts) > len(names):
        raise TypeError(f"{op.name}() takes {len(names)} option(s) after its input(s) ({', '.join(names) or 'none'}), "
                        f"got {len(opts)} positional")
    kw = dict(kw)
    for n, v in zip(names, opts):
        if n in kw:
            raise TypeError(f"{op.name}() got multiple values for option {n!r}")
        kw[n] = v
    return kw


def defop(name, forward, vjps=None, *, vjp=None, uses=None, uses_ans=False, reads=None, nargs=None,
          differentiable=True, xp_name=None, same_shape=False, residuals=False, view=False, hidden=(),
          region_grad=False, elementwise=False, promote=False, floating=False, doc=None):
    """Register op ``name`` and return its public function (Tensors in, Tensor out).

    ``reads``: per input's rule, what that rule reads: a tuple of input indices and ``"ans"`` (the
    output). Only what the rules that will run read is checked against in-place changes at backward;
    everything else may change freely. Without ``reads``, ``uses`` (input indices, None = all) and
    ``uses_ans`` say it for all rules at once.
    ``nargs``: number of tensor arguments (1, 2, or None for a variable number).
    ``same_shape``: the rules always return the input's shape and dtype (unary elementwise ops),
    so backward can skip the un-broadcast check.
    ``residuals``: the forward returns ``(result, res)``; ``res`` (anything the rules need that is
    cheaper to keep than to recompute, e.g. a max-pool's argmax) is kept on the node only when it is
    recorded, and the rules receive it as the keyword ``res``.
    ``view``: the result may share the input's storage (reshape, slicing, permute, ...); it then shares
    its version counter and records how to rebuild it from its base.
    ``hidden``: option names that a tape listing does not show (internal or derived values).
    ``region_grad``: the rule of the one input writes g into zeros of the input's shape at the basic
    index ``kw["idx"]`` (when ``kw.get("adv")`` is false); backward may then add g into that region of
    the input's gradient instead of running the rule (see ``backward``).
    ``elementwise``: a binary elementwise op whose inputs broadcast, with rules that return the shape and
    dtype of g where both inputs have the result's shape and dtype (or one is a float tensor and the other
    a Python number): such nodes are recorded with ``op.alike``, the op with ``same_shape``, so backward
    skips the check.
    ``promote``: a binary op whose two tensors of different dtypes are first cast to PyTorch's result type
    (``dtypes.result_type``), not NumPy's: a float32 tensor with an int64 or a 0-d float64 tensor stays float32.
    The rules still receive the inputs as they are (their gradients are cast to the inputs' dtypes).
    ``floating``: a unary float function (exp, sin, ...) that gives an integer or bool tensor the default
    float dtype, as PyTorch (NumPy gives float64, or float16 for int8).
    ``doc``: the public function's docstring (default: the forward's, never a NumPy ufunc's).
    Keywords that the forward does not take raise a TypeError naming the op.

    >>> import autograd_core as ag
    >>> cube = ag.defop("doc_example_cube", lambda x: x ** 3, (lambda g, ans, x: g * 3 * x * x,))
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cube(x)
    >>> y
    tensor([1., 8.], grad_fn=<DocExampleCubeBackward>)
    >>> y.sum().backward()
    >>> x.grad
    tensor([ 3., 12.])
    """
    op = OpDef()
    op.name = name
    op.forward = forward
    op.vjps = tuple(vjps) if vjps is not None else None
    op.vjp = vjp
    op.uses = tuple(uses) if uses is not None else None
    op.uses_ans = bool(uses_ans or (reads is not None and any("ans" in r for r in reads)))
    op.reads = tuple(tuple(r) for r in reads) if reads is not None else None
    op.backward_name = _camel(name)
    op.same_shape = same_shape
    op.residuals = residuals
    op.view = view
    op.hidden = tuple(hidden)
    op.region_grad = region_grad
    op.differentiable = differentiable and (vjps is not None or vjp is not None)
    op.alike = None
    op.promote = bool(promote)
    op.floating = bool(floating)
    if nargs is None:
        nargs = len(vjps) if vjps is not None else None
    params, open_kw = _option_params(forward, nargs)
    op.options = tuple(p.name for p in params) + (("res",) if residuals else ())
    op.open_kw = open_kw
    if elementwise and nargs == 2:
        op.alike = _alike(op)
    fn = _make_apply(op, nargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = _caller_module()
    fn.__signature__ = _signature(op, nargs, params)
    if doc is None and not isinstance(forward, np.ufunc):
        doc = forward.__doc__
    fn.__doc__ = doc or f"The ``{name}`` op (taped; see its VJP rules next to its definition)."
    op.fn = fn
    if op.alike is not None:
        op.alike.fn = fn
    OPS[name] = op
    setattr(xp, xp_name or name, _make_dispatch(op, fn, nargs))
    return fn


def _promoted(ad, bd):
    """(ad, bd) cast to their PyTorch result type where they differ from it."""
    rt = _result_type(ad, bd)
    return (ad if ad.dtype is rt else ad.astype(rt)), (bd if bd.dtype is rt else bd.astype(rt))


def _alike(op):
    """The twin of a binary elementwise ``op`` that nodes with inputs of one shape and dtype record: the
    same op (name, rules, function) with ``same_shape``, so that backward does not compare each input
    gradient's shape and dtype with its input's (~0.3 us a node, a sixth of a small op's backward)."""
    twin = OpDef()
    for slot in OpDef.__slots__:
        if hasattr(op, slot):   # all but fn, which defop sets on both once it is made
            setattr(twin, slot, getattr(op, slot))
    twin.same_shape = True
    twin.alike = None
    return twin


# numpy's C function without its __array_function__ dispatch (~0.25 us of a ~3 us view op)
_may_share_memory = getattr(np.may_share_memory, "_implementation", np.may_share_memory)


def _finish_view(op, out, src, kw):
    """A view op's result: share the source's storage bookkeeping when numpy did not copy."""
    if isinstance(src, Tensor) and _may_share_memory(out._data, src._data):
        mark_view(out, src, op, kw)
    return out


def _apply_observed(op, args, kw):
    """One op with listeners open (any thread): the general path, with events for this thread's."""
    ls = modes.state.listeners
    for lst in ls:
        lst.on_op_begin(op)
    try:
        out = _apply_general(op, args, kw)
    except BaseException:
        for lst in ls:
            lst.on_op(op, args, None, None)   # the op failed: listeners close what on_op_begin opened
        raise
    node = out._node if out._node is not None and out._node.op is op else None
    for lst in ls:
        lst.on_op(op, args, out, node)
    return out


def _apply_general(op, args, kw):
    """The reference path of every op (variable arity, residuals, listeners): the unary and binary
    fast paths below do the same with fewer steps."""
    args = tuple([a if isinstance(a, Tensor) else wrap_const(a) for a in args])
    if op.promote and any(isinstance(a, np.generic) for a in args):
        # a NumPy scalar acts as the Python number it holds (PyTorch's rule: float32 tensor + np.float64(1.5)
        # is float32), not as NumPy's strong scalar
        args = tuple([a.item() if isinstance(a, np.generic) else a for a in args])
    if len(args) == 2 and not op.residuals:
        a, b = args
        if not getattr(op.forward, "int_as_float", False):
            # a Python int beyond an int tensor's range wraps into its dtype, as PyTorch casts it
            if type(b) is int and isinstance(a, Tensor) and a._data.dtype.kind in "iu":
                b = _wrapped_int(b, a._data.dtype)
            elif type(a) is int and isinstance(b, Tensor) and b._data.dtype.kind in "iu":
                a = _wrapped_int(a, b._data.dtype)
            args = (a, b)
        # int tensor * 0.5 -> float32, as PyTorch (numpy would give float64 with a Python float)
        if isinstance(a, Tensor) and type(b) is float and a._data.dtype.kind in "biu":
            arrays = (a._data.astype(get_default_dtype()), b)
        elif isinstance(b, Tensor) and type(a) is float and b._data.dtype.kind in "biu":
            arrays = (a, b._data.astype(get_default_dtype()))
        else:
            arrays = tuple([x._data if isinstance(x, Tensor) else x for x in args])
    else:
        arrays = tuple([x._data if isinstance(x, Tensor) else x for x in args])
    computed = arrays
    if op.floating and len(arrays) == 1 and type(arrays[0]) is np.ndarray and arrays[0].dtype.kind in "biu":
        computed = (arrays[0].astype(get_default_dtype()),)
    if op.promote and len(arrays) == 2 and type(arrays[0]) is np.ndarray and type(arrays[1]) is np.ndarray \
            and arrays[0].dtype is not arrays[1].dtype and not _each_to_float(op.forward, *arrays):
        computed = _promoted(*arrays)
    try:
        ans = op.forward(*computed, **kw)
    except ValueError as e:
        if len(arrays) == 2:
            raise _shape_error(op, arrays[0], arrays[1], e) from None
        raise
    res = None
    if op.residuals:
        ans, res = ans
    if type(ans) is not np.ndarray:
        ans = np.asarray(ans)
    if op.differentiable and modes.state.enabled and any([isinstance(a, Tensor) and a.requires_grad for a in args]):
        out = record(op, args, arrays, tuple([edge(a) if isinstance(a, Tensor) else None for a in args]), ans,
                     dict(kw, res=res) if op.residuals else kw)
    else:
        out = make(ans)
    if op.view:
        _finish_view(op, out, args[0], kw)
    return out


def _each_to_float(forward, a, b):
    """Whether ``forward`` (true division, atan2, ...) takes two integer arrays each straight to the default
    float dtype, as PyTorch converts them: uint8(128) / int8(1) is 128.0, where casting both to their
    common int8 first would make it -128."""
    return getattr(forward, "int_as_float", False) and a.dtype.kind in "biu" and b.dtype.kind in "biu"


def _wrapped_int(n, dtype):
    """A Python int outside ``dtype``'s range as that dtype's 0-d array, wrapped around as PyTorch casts it
    (int8 tensor + 300 adds 44; NumPy would raise an OverflowError); ``n`` itself where it fits."""
    info = np.iinfo(dtype)
    if info.min <= n <= info.max or not -2 ** 63 <= n < 2 ** 64:
        return n
    return np.array(n).astype(dtype)


def _make_apply(op, nargs):
    fwd = op.forward
    differentiable = op.differentiable
    state = modes.state
    ndarray = np.ndarray
    general = _apply_general
    is_view = op.view
    open_kw = op.open_kw

    if nargs == 1 and not op.residuals:
        floating = op.floating

        def apply(x, *opts, **kw):
            if opts:
                kw = _bind(op, opts, kw)
            if kw and not open_kw:
                _check_kw(op, kw)
            if modes.listening:
                return _apply_observed(op, (x,), kw)
            if not isinstance(x, Tensor):
                x = Tensor(x)
            xd = x._data
            # an integer or bool tensor: computed in the default float dtype (integers never need a gradient)
            ans = fwd(xd.astype(get_default_dtype()) if floating and xd.dtype.kind in "biu" else xd, **kw)
            if type(ans) is not ndarray:
                ans = np.asarray(ans)
            if x.requires_grad and differentiable and state.enabled:
                out = record(op, (x,), (xd,), (x._node or x,), ans, kw)
            else:
                out = make(ans)
            if is_view:
                _finish_view(op, out, x, kw)
            return out
        return apply

    if nargs == 2 and not op.residuals:
        alike = op.alike
        promote = op.promote

        def apply(a, b, *opts, **kw):
            if opts:
                kw = _bind(op, opts, kw)
            if kw and not open_kw:
                _check_kw(op, kw)
            if modes.listening:
                return _apply_observed(op, (a, b), kw)
            if isinstance(a, Tensor) and isinstance(b, Tensor):
                ad = a._data
                bd = b._data
                try:
                    if promote and ad.dtype is not bd.dtype and not _each_to_float(fwd, ad, bd):
                        fa, fb = _promoted(ad, bd)
                        ans = fwd(fa, fb, **kw) if kw else fwd(fa, fb)
                    else:
                        ans = fwd(ad, bd, **kw) if kw else fwd(ad, bd)
                except ValueError as e:
                    raise _shape_error(op, ad, bd, e) from None
                if type(ans) is not ndarray:
                    ans = np.asarray(ans)
                if (a.requires_grad or b.requires_grad) and differentiable and state.enabled:
                    # inputs of one shape and dtype, and so the result (not int / int): the twin that skips
                    # backward's un-broadcast check (~0.3 us a node, more than this one costs)
                    same = alike is not None and ad.shape == bd.shape and ad.dtype is bd.dtype is ans.dtype
                    o = alike if same else op
                    return record(o, (a, b), (ad, bd), (a._node or (a if a.requires_grad else None),
                                                        b._node or (b if b.requires_grad else None)), ans, kw)
                return make(ans)
            # A float tensor and a Python number (x * 0.5, 1 - x): numpy keeps the tensor's dtype, as PyTorch,
            # and the general path's dtype rules have nothing to do. Any other constant takes that path.
            if isinstance(a, Tensor):
                t, ad, bd = a, a._data, b
                if type(b) not in _PY_NUMBERS or ad.dtype.kind != "f":
                    return general(op, (a, b), kw)
            elif isinstance(b, Tensor):
                t, ad, bd = b, a, b._data
                if type(a) not in _PY_NUMBERS or bd.dtype.kind != "f":
                    return general(op, (a, b), kw)
            else:
                return general(op, (a, b), kw)
            ans = fwd(ad, bd, **kw) if kw else fwd(ad, bd)
            if type(ans) is not ndarray:
                ans = np.asarray(ans)
            if t.requires_grad and differentiable and state.enabled:
                e = t._node or t
                return record(alike or op, (a, b), (ad, bd), (e, None) if t is a else (None, e), ans, kw)
            return make(ans)
        return apply

    def apply(*args, **kw):
        if nargs is not None and len(args) > nargs:
            kw = _bind(op, args[nargs:], kw)
            args = args[:nargs]
        if kw and not open_kw:
            _check_kw(op, kw)
        if modes.listening:
            return _apply_observed(op, args, kw)
        return general(op, args, kw)
    return apply


_PY_NUMBERS = (float, int)   # not bool: True * x follows the general path's rules


def _shape_error(op, a, b, err):
    if str(err).startswith(op.name + ":"):
        return err  # the forward already explains itself (matmul: "... are not aligned")
    sa, sb = np.shape(a), np.shape(b)
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        return OpError(f"{op.name}: shapes {tuple(sa)} and {tuple(sb)} can't be broadcast together")
    return err


def _make_dispatch(op, apply, nargs):
    fwd = op.forward
    if op.residuals:
        raw = fwd

        def fwd(*a, **k):
            return raw(*a, **k)[0]
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

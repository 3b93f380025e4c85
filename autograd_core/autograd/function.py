"""Custom differentiable functions: PyTorch's ``torch.autograd.Function``.

Subclass ``Function`` with two static methods, ``forward(ctx, *args)`` (computes the outputs from
tensors and other arguments; it runs with grad mode off) and ``backward(ctx, *grad_outputs)`` (one
gradient per forward argument, None for those that need none), and call ``MyFn.apply(*args)``:

    >>> import autograd_core as ag
    >>> class Cube(ag.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         x, = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> y = Cube.apply(x)
    >>> y.grad_fn.name()
    'CubeBackward'
    >>> y.sum().backward(); x.grad
    tensor([ 3., 12.])

Each subclass is registered once as an op of the engine's registry, with a joint VJP rule that calls
the subclass's ``backward``. In a plain ``backward()`` that rule receives NumPy arrays: they are
wrapped into tensors for ``backward`` and its results unwrapped. With ``create_graph=True`` it
receives tensors and grad mode is on, so the ops in ``backward`` are recorded and the result can be
differentiated again (``ctx.saved_tensors`` gives back the very input tensors that were saved).

What ``ctx`` offers: ``save_for_backward(*tensors)`` / ``saved_tensors`` (checked against later
in-place changes), ``needs_input_grad`` (one bool per forward argument),
``mark_non_differentiable(*outputs)`` and ``set_materialize_grads``; any other attribute can be
set on it to pass values to ``backward``. Outputs may be one tensor or a tuple; integer and
non-differentiable outputs get no gradient (``backward`` receives zeros for them).
A Function with a ``jvp(ctx, *tangents)`` static method and no ``backward`` works in forward mode
(``autograd.forward_ad``): inside a dual level its outputs carry jvp's tangents; a reverse pass through
it is refused, as in PyTorch. Not available: ``mark_dirty`` (in-place Functions), ``vmap``.
"""
from __future__ import annotations

import functools
import weakref

import numpy as np

from .. import modes
from ..ops.registry import OPS, defop
from ..tensor import Tensor, make

__all__ = ["Function", "FunctionCtx", "once_differentiable", "InplaceFunction", "NestedIOFunction"]


class FunctionCtx:
    """The ``ctx`` object a custom Function's ``forward`` and ``backward`` share (PyTorch's
    ``torch.autograd.function.FunctionCtx``): ``save_for_backward`` / ``saved_tensors``,
    ``needs_input_grad``, ``mark_non_differentiable``, ``set_materialize_grads``, and any attribute
    set on it.

    >>> import autograd_core as ag
    >>> class Scale(ag.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x, factor):
    ...         ctx.factor = factor                       # any attribute passes a value to backward
    ...         return x * factor
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return grad * ctx.factor, None            # no gradient for the number
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> Scale.apply(x, 3.0).sum().backward()
    >>> x.grad
    tensor([3., 3.])
    """

    def __init__(self):
        self._to_save = None
        self._saved = None
        self._non_differentiable = ()
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._fn_name = "Function"

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for ``backward``; read them back with ``ctx.saved_tensors``.

        >>> import autograd_core as ag
        >>> class Mul(ag.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, a, b):
        ...         ctx.save_for_backward(a, b)
        ...         return a * b
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         a, b = ctx.saved_tensors
        ...         return g * b, g * a
        >>> a = ag.tensor([2.0], requires_grad=True)
        >>> Mul.apply(a, ag.tensor([5.0])).backward()
        >>> a.grad
        tensor([5.])
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), but argument {i} is of type "
                                f"{type(t).__name__}; store other values as attributes of ctx (ctx.k = k)")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward`` (an output saved in ``forward`` comes back as the
        recorded output). Raises if one of them was changed in place since."""
        if self._saved is None:
            return tuple(self._to_save or ())
        out = []
        for i, (t, version, ref, arr) in enumerate(self._saved):
            if t is None:
                out.append(None)
                continue
            if ref is not None:  # a saved output: the tensor on the tape, while it lives
                live = ref()
                t = live if live is not None else make(arr)
            if version is not None and t._version != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an in-place "
                    f"operation: saved tensor {i} of {self._fn_name}Backward (shape {tuple(t.shape)}) is at version "
                    f"{t._version}; expected version {version} instead. Clone it before changing it in place.")
            out.append(t)
        return tuple(out)

    saved_variables = saved_tensors  # PyTorch's older name

    def mark_non_differentiable(self, *outputs):
        """These outputs get no gradient (they come back with ``requires_grad=False``).

        >>> import autograd_core as ag
        >>> class SortValues(ag.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         idx = x.argsort()
        ...         flags = x > 0
        ...         ctx.mark_non_differentiable(flags)
        ...         return x[idx], flags
        ...     @staticmethod
        ...     def backward(ctx, g, g_flags):
        ...         return g
        >>> values, flags = SortValues.apply(ag.tensor([2.0, -1.0], requires_grad=True))
        >>> values.requires_grad, flags.requires_grad
        (True, False)
        """
        self._non_differentiable = tuple(self._non_differentiable) + outputs

    def mark_dirty(self, *tensors):
        """Not supported: PyTorch's way to declare inputs changed in place by ``forward``; raises
        NotImplementedError (return a new tensor instead: change a ``clone()`` of the input).

        >>> import autograd_core as ag
        >>> ag.autograd.FunctionCtx().mark_dirty(ag.zeros(1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        NotImplementedError: mark_dirty: custom Functions that change their inputs in place are ...
        """
        raise NotImplementedError("mark_dirty: custom Functions that change their inputs in place are not "
                                  "supported here; return a new tensor instead (x.clone() and change the clone)")

    def mark_shared_storage(self, *pairs):
        """Accepted for old code; nothing to do here."""

    def set_materialize_grads(self, value):
        """Accepted; gradients for unused outputs are always zeros here (PyTorch's default)."""
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    """Gives each Function subclass its own op in the registry (made on first ``apply``)."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._op = None


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable functions (PyTorch's ``torch.autograd.Function``; see the
    module docstring). Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx,
    *grad_outputs)`` and call ``apply``; don't instantiate it.

    >>> import autograd_core as ag
    >>> class Exp(ag.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp()
    ...         ctx.save_for_backward(y)
    ...         return y
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         y, = ctx.saved_tensors
    ...         return grad * y
    >>> x = ag.tensor([0.0, 1.0], requires_grad=True)
    >>> Exp.apply(x).sum().backward()
    >>> x.grad
    tensor([1.0000, 2.7183])
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs (a tensor or a tuple) from the arguments given to ``apply``; runs with grad
        mode off. Subclasses define it as a @staticmethod ``forward(ctx, *args)``.

        >>> import autograd_core as ag
        >>> class Double(ag.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return grad * 2
        >>> Double.apply(ag.tensor([1.0, 2.0]))
        tensor([2., 4.])
        """
        raise NotImplementedError("a custom Function must define forward(ctx, *args) as a @staticmethod")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """The gradients of the forward's arguments (one per argument, None for those that need none) from
        the gradients of its outputs. Subclasses define it as a @staticmethod ``backward(ctx,
        *grad_outputs)``; ``vjp`` is the same method.

        >>> import autograd_core as ag
        >>> class Square(ag.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         x, = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> x = ag.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).backward()
        >>> x.grad
        tensor([6.])
        """
        raise NotImplementedError("a custom Function must define backward(ctx, *grad_outputs) as a @staticmethod "
                                  "to be differentiated")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's other style: a ``forward(*args)`` without ctx, and this to fill ctx."""
        raise NotImplementedError

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward-mode rule (PyTorch's ``Function.jvp``): the tangent of each output from the tangent of each
        forward argument, J t. Define it (with no ``backward``) to use the Function under ``forward_ad``;
        the base raises NotImplementedError.

        >>> import autograd_core as ag
        >>> import autograd_core.autograd.forward_ad as fwAD
        >>> class Exp(ag.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.result = x.exp()
        ...         return ctx.result
        ...     @staticmethod
        ...     def jvp(ctx, t):
        ...         return t * ctx.result
        >>> with fwAD.dual_level():
        ...     fwAD.unpack_dual(Exp.apply(fwAD.make_dual(ag.tensor([0.0]), ag.tensor([2.0])))).tangent
        tensor([2.])
        """
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: call {type(self).__name__}.apply(...) on the class; "
                           "custom Functions are not instantiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` (grad mode off) and record one node whose VJP is ``backward``.

        >>> import autograd_core as ag
        >>> class Twice(ag.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         return g * 2
        >>> Twice.apply(ag.tensor([1.0], requires_grad=True))
        tensor([2.], grad_fn=<TwiceBackward>)
        """
        ctx = FunctionCtx()
        ctx._fn_name = cls.__name__
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = modes.state.enabled and any(ctx.needs_input_grad)
        new_style = "setup_context" in _own_attrs(cls)
        with _grad_off():
            if new_style:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else tuple(out)
        duals = _jvp_outputs(cls, ctx, args, outs)
        if duals is not None:
            ctx._saved = _saved_list(ctx, outs, {})
            return duals[0] if single else duals
        if not record:
            ctx._saved = _saved_list(ctx, outs, {})
            return out
        nondiff = {id(o) for o in ctx._non_differentiable}
        diff = [i for i, o in enumerate(outs)
                if isinstance(o, Tensor) and o._data.dtype.kind == "f" and id(o) not in nondiff]
        if not diff:
            ctx._saved = _saved_list(ctx, outs, {})
            return out
        tensor_pos = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        layout = tuple((i, outs[i].shape, outs[i].dtype) for i in diff)
        if len(diff) == 1:
            packed = outs[diff[0]]._data
        else:
            packed = np.concatenate([outs[i]._data.reshape(-1) for i in diff])
        metas = tuple((o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs)
        spec = _Spec(cls, ctx, layout, metas, tensor_pos, len(args))
        res = _op_of(cls)(*[args[i] for i in tensor_pos], _packed=packed, _spec=spec)
        taped = {}
        if len(diff) == 1:
            taped[diff[0]] = res
        else:
            start = 0
            for i, shape, dtype in layout:
                n = int(np.prod(shape, dtype=np.int64))
                piece = res[start:start + n].reshape(shape)
                taped[i] = piece if piece.dtype == dtype else piece.astype(dtype)
                start += n
        ctx._saved = _saved_list(ctx, outs, taped)
        result = tuple(taped.get(i, o) for i, o in enumerate(outs))
        return result[0] if single else result


def _jvp_outputs(cls, ctx, args, outs):
    """Forward mode for a Function that defines ``jvp`` and no ``backward``: inside a dual level, with a tensor
    argument that carries a tangent, the outputs as duals carrying ``jvp(ctx, *tangents)`` (one tangent per
    forward argument: zeros for a tensor without one, None for a non-tensor); otherwise None.

    J t of exp, given as ``jvp(ctx, t) = t * exp(x)``: ``unpack_dual(Exp.apply(make_dual(x, t))).tangent``.
    (A Function with a backward too is differentiated through its backward, which gives the same J t.)
    """
    from . import forward_ad
    if not forward_ad._levels:
        return None
    own = _own_attrs(cls)
    if "jvp" not in own or "backward" in own or "vjp" in own:
        return None
    tangents, carried = [], False
    for a in args:
        t = None
        if isinstance(a, Tensor) and a._data.dtype.kind == "f":
            t = forward_ad.unpack_dual(a).tangent
            carried = carried or t is not None
            if t is None:
                t = make(np.zeros(a.shape, a._data.dtype))
        tangents.append(t)
    if not carried:
        return None
    with _grad_off():
        res = cls.jvp(ctx, *tangents)
    res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
    if len(res) != len(outs):
        raise RuntimeError(f"function {cls.__name__}.jvp returned {len(res)} tangent(s) for {len(outs)} output(s) "
                           "of forward: jvp must return one tangent (or None) per output")
    duals = []
    for i, (o, t) in enumerate(zip(outs, res)):
        if isinstance(o, Tensor) and o._data.dtype.kind == "f" and t is not None:
            t = t if isinstance(t, Tensor) else make(np.asarray(t))
            if tuple(t.shape) != tuple(o.shape):
                raise RuntimeError(f"function {cls.__name__}.jvp returned a tangent of shape {tuple(t.shape)} for "
                                   f"output {i} of shape {tuple(o.shape)}: each tangent must have its output's shape")
            o = forward_ad._function_output(o, t.detach(), cls.__name__)
        duals.append(o)
    return tuple(duals)


def _own_attrs(cls):
    names = set()
    for k in cls.__mro__:
        if k is Function:
            break
        names.update(vars(k))
    return names


class _grad_off:
    def __enter__(self):
        self._prev = modes.state.enabled
        modes.state.enabled = False

    def __exit__(self, *exc):
        modes.state.enabled = self._prev
        return False


def _saved_list(ctx, outs, taped):
    """(tensor, version, weakref-to-recorded-output, array) per saved tensor."""
    saved = []
    for t in ctx._to_save or ():
        if t is None:
            saved.append((None, None, None, None))
            continue
        pos = next((i for i, o in enumerate(outs) if o is t), None)
        if pos is not None and pos in taped:
            saved.append((t, None, weakref.ref(taped[pos]), t._data))
        else:
            saved.append((t, t._version, None, None))
    return saved


class _Spec:
    """What the op's rule needs to call ``backward``: the class, ctx, and how the outputs were packed."""
    __slots__ = ("cls", "ctx", "layout", "outputs", "tensor_pos", "nargs")

    def __init__(self, cls, ctx, layout, outputs, tensor_pos, nargs):
        # layout: (output index, shape, dtype) of the packed outputs; outputs: (shape, dtype) or None per output
        self.cls, self.ctx, self.layout, self.outputs, self.tensor_pos, self.nargs = \
            cls, ctx, layout, outputs, tensor_pos, nargs

    def __repr__(self):
        return f"<{self.cls.__name__}>"


def _forward(*arrays, _packed, _spec):
    return _packed


def _rule(g, ans, *inputs, needs, _packed, _spec):
    cls, ctx = _spec.cls, _spec.ctx
    taped = isinstance(g, Tensor)
    gt = g if taped else make(g)
    # the gradient of each output as backward expects it: zeros for tensor outputs without gradient
    packed = {i: (shape, dtype) for i, shape, dtype in _spec.layout}
    grads, start = [], 0
    for i, meta in enumerate(_spec.outputs):
        if i in packed:
            shape, dtype = packed[i]
            if len(packed) == 1:
                gi = gt
            else:
                n = int(np.prod(shape, dtype=np.int64))
                gi = gt[start:start + n].reshape(shape)
                start += n
            grads.append(gi if gi.dtype == dtype else gi.astype(dtype))
        elif meta is not None:
            shape, dtype = meta
            grads.append(make(np.zeros(shape, dtype if dtype.kind == "f" else gt.dtype)))
        else:
            grads.append(None)
    res = cls.backward(ctx, *grads)
    res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
    if len(res) < _spec.nargs or any(r is not None for r in res[_spec.nargs:]):
        raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of gradients (expected "
                           f"{_spec.nargs}, got {len(res)}): backward must return one gradient (or None) per "
                           "argument of forward")
    out = []
    for j, pos in enumerate(_spec.tensor_pos):
        r = res[pos]
        if r is None or not needs[j]:
            out.append(None)
            continue
        if not isinstance(r, Tensor):
            if not isinstance(r, (np.ndarray, np.generic, int, float)):
                raise TypeError(f"function {cls.__name__}Backward returned a {type(r).__name__} as the gradient "
                                f"of argument {pos}; expected a tensor or None")
            r = make(np.asarray(r))
        like = inputs[j]
        shape = tuple(np.shape(like._data if isinstance(like, Tensor) else like))
        if tuple(r.shape) != shape:
            try:
                np.broadcast_shapes(tuple(r.shape), shape)
                ok = len(r.shape) >= len(shape)
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"function {cls.__name__}Backward returned an invalid gradient at index {pos}: "
                                   f"got shape {tuple(r.shape)} but expected shape {shape}")
        out.append(r if taped else r._data)
    return tuple(out)


def _op_of(cls):
    if cls.__dict__.get("_op") is None:
        name = f"autograd.Function:{cls.__module__}.{cls.__qualname__}"
        cls._op = defop(name, _forward, vjp=_rule, uses=(), hidden=("_packed", "_spec"))
        OPS[name].backward_name = f"{cls.__name__}Backward"
    return cls._op


def once_differentiable(fn):
    """Decorator for a custom Function's ``backward`` that is not itself differentiable: it runs with grad
    mode off, so a second derivative through it is zero rather than recorded (PyTorch's
    ``torch.autograd.function.once_differentiable``).

    >>> import autograd_core as ag
    >>> class Relu(ag.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x.clamp(min=0.0)
    ...     @staticmethod
    ...     @ag.autograd.once_differentiable
    ...     def backward(ctx, grad):
    ...         x, = ctx.saved_tensors
    ...         return grad * (x > 0)
    >>> x = ag.tensor([-1.0, 2.0], requires_grad=True)
    >>> Relu.apply(x).sum().backward()
    >>> x.grad
    tensor([0., 1.])
    """
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with _grad_off():
            return fn(ctx, *args)
    return wrapper


class InplaceFunction(Function):
    """PyTorch's base for Functions with an ``inplace`` flag (kept for old code; same as ``Function``).

    >>> import autograd_core as ag
    >>> issubclass(ag.autograd.InplaceFunction, ag.autograd.Function)
    True
    """


class NestedIOFunction(Function):
    """PyTorch's legacy ``NestedIOFunction``, kept for old code: not supported here (``apply`` raises).

    >>> import autograd_core as ag
    >>> ag.autograd.NestedIOFunction.apply(ag.zeros(1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    NotImplementedError: NestedIOFunction is a legacy PyTorch API and is not supported here; ...
    """

    @classmethod
    def apply(cls, *args, **kwargs):
        raise NotImplementedError("NestedIOFunction is a legacy PyTorch API and is not supported here; subclass "
                                  "Function with static forward/backward")

"""Gradient checking against central finite differences, and hypothesis strategies for property tests.

    >>> from autograd_core.testing import gradcheck
    >>> x = ag.randn(3, 4, dtype="float64", requires_grad=True)
    >>> gradcheck(lambda x: (x.tanh() * x).sum(axis=-1), (x,))
    True

``gradcheck`` compares the VJP of ``fn`` against central differences, for random
cotangents, in float64. ``gradgradcheck`` does the same for the VJP itself (built with
``create_graph=True``), which checks the second derivative.
"""
from __future__ import annotations

import numpy as np

from .graph import autograd_grad, enable_grad, no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "tensors", "broadcastable_shapes", "shapes",
           "axes", "elements", "assert_close"]


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when the analytic and numeric gradients differ (an
    AssertionError, so pytest shows it as a failed check).

    >>> import autograd_core as ag
    >>> from autograd_core.testing import gradcheck, GradcheckError
    >>> x = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    >>> class WrongGrad(ag.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, t):
    ...         return t * 2
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         return g * 3
    >>> try:
    ...     gradcheck(WrongGrad.apply, x)
    ... except GradcheckError:
    ...     print("caught")
    caught
    """


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    out = _as_tuple(fn(*inputs))
    for o in out:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return Tensors, got {type(o).__name__}")
    return out


def _check_inputs(inputs, name):
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"{name}: input {i} is {t.dtype}; finite differences need float64 inputs")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_cotangents=2, seed=0, raise_exception=True, *,
              check_forward_ad=False, check_backward_ad=True, check_undefined_grad=True, check_batched_grad=False,
              check_batched_forward_grad=False, check_grad_dtypes=False, nondet_tol=0.0, fast_mode=False,
              masked=None):
    """Check d fn / d inputs against central differences (as ``torch.autograd.gradcheck``).

    ``inputs``: a Tensor or tuple of Tensors (those with ``requires_grad`` are checked, in float64).
    Reverse mode (``check_backward_ad``, the default): for each of ``n_cotangents`` random cotangents v,
    compares the engine's v^T J with v^T (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) for every input
    element k. Forward mode (``check_forward_ad=True``): for as many random tangents t (one per checked
    input), compares J t from ``autograd.forward_ad`` dual tensors with (f(x + eps t) - f(x - eps t)) / (2 eps).
    Returns True, or raises ``GradcheckError`` naming the input (or output) and the worst element.
    PyTorch's other switches are accepted; ``check_undefined_grad``, ``check_grad_dtypes``, ``nondet_tol``,
    ``fast_mode`` and ``masked`` change nothing here, and the vmap-batched checks are not available.

    >>> import autograd_core as ag
    >>> from autograd_core.testing import gradcheck
    >>> x = ag.tensor([0.5, -1.5], dtype=ag.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t.sin() * t).sum(), x)
    True
    """
    if check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: the vmap-batched checks are not available here; pass "
                                  "check_batched_grad=False and check_batched_forward_grad=False")
    if not (check_forward_ad or check_backward_ad):
        raise ValueError("gradcheck: expected at least one of check_forward_ad or check_backward_ad to be True")
    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradcheck")
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    rng = np.random.default_rng(seed)
    if check_forward_ad and not _check_forward(fn, inputs, diff, eps, atol, rtol, n_cotangents, rng,
                                               raise_exception):
        return False
    if not check_backward_ad:
        return True
    with enable_grad():
        outs = _outputs(fn, inputs)
    douts = [o for o in outs if o.dtype.kind == "f"]
    for _ in range(n_cotangents):
        vs = [rng.standard_normal(o.shape) for o in douts]
        # analytic
        with enable_grad():
            outs = _outputs(fn, inputs)
            douts = [o for o in outs if o.dtype.kind == "f"]
            live = [(o, v) for o, v in zip(douts, vs) if o.requires_grad]
            if live:
                ana = autograd_grad([o for o, _ in live], [inputs[i] for i in diff],
                                    grad_outputs=[v for _, v in live], allow_unused=True)
            else:
                ana = [None] * len(diff)
        # numeric
        for k, i in enumerate(diff):
            x = inputs[i]
            a = np.zeros(x.shape) if ana[k] is None else np.asarray(ana[k]._data, dtype=np.float64)
            num = np.zeros(x.shape)
            # Perturb a private C-contiguous copy: x._data may be a non-contiguous or read-only view
            # (where reshape(-1) would silently copy, or writing would fail), or shared with the caller.
            saved = x._data
            x._data = np.array(saved, dtype=saved.dtype, order="C", copy=True)
            flat = x._data.reshape(-1)
            nflat = num.reshape(-1)
            try:
                with no_grad():
                    for j in range(flat.size):
                        orig = flat[j]
                        flat[j] = orig + eps
                        fp = [o._data.astype(np.float64) for o in _outputs(fn, inputs) if o.dtype.kind == "f"]
                        flat[j] = orig - eps
                        fm = [o._data.astype(np.float64) for o in _outputs(fn, inputs) if o.dtype.kind == "f"]
                        flat[j] = orig
                        nflat[j] = sum(float(np.sum((p - m) * v)) for p, m, v in zip(fp, fm, vs)) / (2 * eps)
            finally:
                x._data = saved
            if not _agrees(a, num, rtol, atol, raise_exception,
                           f"gradient of input {i} (shape {tuple(x.shape)})", "analytic"):
                return False
    return True


def _agrees(a, num, rtol, atol, raise_exception, what, label):
    """Whether derivative ``a`` matches finite differences ``num``; if not, raise GradcheckError (or return
    False) naming ``what`` and the worst place."""
    if not (np.any(~np.isclose(a, num, rtol=rtol, atol=atol)) or np.any(np.isnan(a)) != np.any(np.isnan(num))):
        return True
    k = np.unravel_index(np.argmax(np.abs(a - num)), a.shape) if a.ndim else ()
    msg = (f"gradcheck: {what} differs from finite differences at {k}: {label} {a[k]!r} vs numeric {num[k]!r}\n"
           f"{label}:\n{a}\nnumeric:\n{num}")
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _check_forward(fn, inputs, diff, eps, atol, rtol, n_tangents, rng, raise_exception):
    """gradcheck's forward-mode part: J t through dual tensors against central differences along t."""
    # the module, not the autograd package (whose namespace re-exports gradcheck from here)
    import autograd_core.autograd.forward_ad as fwAD
    for _ in range(n_tangents):
        ts = {i: rng.standard_normal(inputs[i].shape) for i in diff}
        with fwAD.dual_level():
            duals = [fwAD.make_dual(x, Tensor(ts[i].astype(x._data.dtype))) if i in ts else x
                     for i, x in enumerate(inputs)]
            outs = _outputs(fn, duals)
            ana = []
            for o in outs:
                t = fwAD.unpack_dual(o).tangent if o.dtype.kind == "f" else None
                ana.append(None if t is None else np.asarray(t._data, dtype=np.float64))
        with no_grad():
            moved = [[Tensor(x._data + sign * eps * ts[i]) if i in ts else x for i, x in enumerate(inputs)]
                     for sign in (1.0, -1.0)]
            fp, fm = (_outputs(fn, m) for m in moved)
        for j, (o, a, p, m) in enumerate(zip(outs, ana, fp, fm)):
            if o.dtype.kind != "f":
                continue
            num = (p._data.astype(np.float64) - m._data.astype(np.float64)) / (2 * eps)
            a = np.zeros(num.shape) if a is None else a
            if not _agrees(a, num, rtol, atol, raise_exception,
                           f"forward-mode derivative J t of output {j} (shape {tuple(o.shape)})", "forward AD"):
                return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check second derivatives: gradcheck of (inputs, v) -> v^T J(inputs), with the VJP built on the
    tape (as ``torch.autograd.gradgradcheck``). Returns True, or raises ``GradcheckError``.

    >>> import autograd_core as ag
    >>> from autograd_core.testing import gradgradcheck
    >>> x = ag.tensor([0.5, -1.5], dtype=ag.float64, requires_grad=True)
    >>> gradgradcheck(lambda t: t.tanh() * t, x)
    True
    """
    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradgradcheck")
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed + 1)
    with enable_grad():
        outs = [o for o in _outputs(fn, inputs) if o.dtype.kind == "f"]
    vs = [Tensor(rng.standard_normal(o.shape)).requires_grad_() for o in outs]
    n_in = len(inputs)

    def vjp_fn(*args):
        ins, cots = args[:n_in], args[n_in:]
        with enable_grad():
            os_ = [o for o in _outputs(fn, ins) if o.dtype.kind == "f"]
            live = [(o, v) for o, v in zip(os_, cots) if o.requires_grad]
            if not live:
                return tuple(Tensor(np.zeros(ins[i].shape)) for i in diff)
            gs = autograd_grad([o for o, _ in live], [ins[i] for i in diff], grad_outputs=[v for _, v in live],
                               create_graph=True, allow_unused=True)
        return tuple(Tensor(np.zeros(ins[i].shape)) if g is None else g for g, i in zip(gs, diff))

    return gradcheck(vjp_fn, tuple(inputs) + tuple(vs), eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception)


# -- hypothesis strategies ---------------------------------------------------------------------
def _hyp():
    try:
        import hypothesis.strategies as st
        import hypothesis.extra.numpy as hnp
    except ImportError as e:  # pragma: no cover
        raise ImportError("autograd_core.testing strategies need hypothesis: pip install hypothesis") from e
    return st, hnp


def elements(min_value=-3.0, max_value=3.0):
    """Finite float64 values in [min_value, max_value], no subnormals: a hypothesis strategy (the default
    elements of ``tensors``).

    >>> from hypothesis import given, settings
    >>> from autograd_core.testing import elements
    >>> @settings(max_examples=20, database=None)
    ... @given(elements(-1.0, 1.0))
    ... def check(v):
    ...     assert -1.0 <= v <= 1.0
    >>> check()
    """
    st, _ = _hyp()
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=64)


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Array shapes (tuples), including 0-d and size-1 dims: a hypothesis strategy.

    >>> from hypothesis import given, settings
    >>> from autograd_core.testing import shapes
    >>> @settings(max_examples=20, database=None)
    ... @given(shapes(min_dims=1, max_dims=3, max_side=4))
    ... def check(shape):
    ...     assert 1 <= len(shape) <= 3 and all(1 <= s <= 4 for s in shape)
    >>> check()
    """
    _, hnp = _hyp()
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(shape, min_dims=0, max_dims=None, min_side=1, max_side=5):
    """Shapes that broadcast against ``shape`` (with size-1 dims and fewer/more leading dims): a hypothesis
    strategy.

    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from autograd_core.testing import broadcastable_shapes
    >>> @settings(max_examples=20, database=None)
    ... @given(broadcastable_shapes((2, 3)))
    ... def check(shape):
    ...     assert np.broadcast_shapes(shape, (2, 3))[-2:] == (2, 3)
    >>> check()
    """
    _, hnp = _hyp()
    if max_dims is None:
        max_dims = max(len(shape), 1) + 1
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                    max_side=max_side)


def tensors(shape=None, dtype=np.float64, elements=None, requires_grad=True, unique=False):
    """Tensors of ``shape`` (a tuple or a strategy; default: any small shape) drawn by hypothesis, in
    ``dtype`` (float64) with ``elements`` (default: ``elements()``), requiring grad unless
    ``requires_grad=False``.

    >>> import autograd_core as ag
    >>> from hypothesis import given, settings
    >>> from autograd_core.testing import tensors, gradcheck
    >>> @settings(max_examples=10, database=None, deadline=None)
    ... @given(tensors((2, 3)))
    ... def check_tanh(x):
    ...     assert x.shape == (2, 3) and x.dtype == ag.float64 and x.requires_grad
    ...     assert gradcheck(lambda t: t.tanh(), x)
    >>> check_tanh()
    """
    st, hnp = _hyp()
    if shape is None:
        shape = shapes()
    if elements is None:
        elements = globals()["elements"]()
    arr = hnp.arrays(dtype=np.dtype(dtype), shape=shape, elements=elements, unique=unique)
    return arr.map(lambda a: Tensor(np.array(a, dtype=dtype), requires_grad=requires_grad))


def axes(ndim, min_size=0, max_size=None, negative=True):
    """A reduction axis argument for ``ndim`` dims: None, an int, or a tuple (negative ints included).

    >>> from hypothesis import given, settings
    >>> from autograd_core.testing import axes
    >>> @settings(max_examples=20, database=None)
    ... @given(axes(3))
    ... def check(axis):
    ...     assert axis is None or isinstance(axis, (int, tuple))
    >>> check()
    """
    st, hnp = _hyp()
    if ndim == 0:
        return st.just(None)
    one = st.integers(-ndim if negative else 0, ndim - 1)
    many = hnp.valid_tuple_axes(ndim, min_size=max(min_size, 1), max_size=max_size)
    return st.one_of(st.none(), one, many)


# -- assert_close (torch.testing's) ----------------------------------------------------------------------
# PyTorch's default (rtol, atol) per dtype; other dtypes compare exactly
_CLOSE_TOL = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
              np.dtype(np.float64): (1e-7, 1e-7)}


def _close_array(x, name):
    if isinstance(x, Tensor):
        return x.detach()._data
    if isinstance(x, (bool, int, float, complex, np.number, np.ndarray)):
        return np.asarray(x)
    raise TypeError(f"assert_close: {name} must be a tensor, a NumPy array or a number (or a list, tuple or dict "
                    f"of them), got {type(x).__name__}")


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True, msg=None, **_):
    """Raise an AssertionError unless ``|actual - expected| <= atol + rtol * |expected|`` everywhere, as
    ``torch.testing.assert_close``: shapes must match, and dtypes unless ``check_dtype=False``; the
    default tolerances follow the dtype (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7 each; integers
    exactly); give both ``rtol`` and ``atol`` or neither. Lists, tuples and dicts compare item by item.
    Other keywords of PyTorch's (``check_device``, ``check_layout``, ...) are accepted.

    >>> import autograd_core as ag
    >>> ag.testing.assert_close(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.000001]))
    >>> ag.testing.assert_close(ag.tensor([1.0, 2.0], dtype=ag.float64), ag.tensor([1.0, 1.5], dtype=ag.float64))
    Traceback (most recent call last):
    ...
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 1 / 2 (50.0%)
    Greatest absolute difference: 0.5 at index (1,) (up to 1e-07 allowed)
    Greatest relative difference: 0.3333333333333333 at index (1,) (up to 1e-07 allowed)
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"assert_close: give both rtol and atol or neither, got rtol={rtol}, atol={atol}")
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(msg or f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                                        f"{sorted(map(str, expected))}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                         msg=msg)
        return
    a, e = _close_array(actual, "actual"), _close_array(expected, "expected")
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and a.dtype != e.dtype and not (np.ndim(actual) == 0 and not isinstance(actual, (Tensor, np.ndarray))):
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    if rtol is None:
        rtol, atol = max(_CLOSE_TOL.get(a.dtype, (0.0, 0.0)), _CLOSE_TOL.get(e.dtype, (0.0, 0.0)))
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        bad = a != e
        diff = bad.astype(np.float64)
    else:
        af, ef = a.astype(np.float64), e.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(af - ef)
            ok = diff <= atol + rtol * np.abs(ef)
            ok |= af == ef                                  # equal infinities
            if equal_nan:
                ok |= np.isnan(af) & np.isnan(ef)
        bad = ~ok
    if not bad.any():
        return
    if msg is not None:
        raise AssertionError(msg)
    n, total = int(bad.sum()), bad.size
    kind = "Scalars" if a.ndim == 0 else "Tensor-likes"
    exact = rtol == 0 and atol == 0
    lines = [f"{kind} are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {n} / {total} ({100.0 * n / total:.1f}%)"]
    if a.dtype.kind != "b" and e.dtype.kind != "b":
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = diff / np.abs(ef)
        d = np.where(bad, np.nan_to_num(diff, nan=np.inf), -1.0)
        r = np.where(bad, np.nan_to_num(rel, nan=np.inf), -1.0)
        i, j = np.unravel_index(int(np.argmax(d)), a.shape), np.unravel_index(int(np.argmax(r)), a.shape)
        for what, v, at, tol in (("absolute", diff[i], i, atol), ("relative", rel[j], j, rtol)):
            v = int(v) if what == "absolute" and a.dtype.kind in "iu" and e.dtype.kind in "iu" else v
            lines.append(f"Greatest {what} difference: {v} at index {tuple(int(k) for k in at)}"
                         + ("" if exact else f" (up to {tol} allowed)"))
    raise AssertionError("\n".join(lines))

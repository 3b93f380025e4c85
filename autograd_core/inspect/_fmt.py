"""Shared formatting and labelling for the inspect tools (listing, explain, draw, walk).

Values are shown as ``%name`` when a name is known (a Tensor's ``name``, a ``trace`` names
mapping, a module's parameter names, the traced function's argument names) and ``%N``
otherwise. Tapes register the labels they chose here, so an explained backward or a drawing
made after ``trace`` uses the same labels as the listing.
"""
from __future__ import annotations

import inspect as _pyinspect
import math
import weakref
from collections.abc import Mapping

import numpy as np

from ..tensor import Tensor

_node_labels = weakref.WeakKeyDictionary()   # Node -> label of its output ("%3", "%logits")
_tensor_labels = {}                          # id(Tensor) -> (weakref, label); Tensor's == is elementwise


def register_node(node, label):
    _node_labels[node] = label


def register_tensor(t, label):
    key = id(t)
    _tensor_labels[key] = (weakref.ref(t, lambda _r, k=key: _tensor_labels.pop(k, None)), label)


def node_label(node):
    return _node_labels.get(node)


def tensor_label(t):
    """The label a tape gave ``t`` (``%x``), else ``%`` + its ``name``, else None."""
    hit = _tensor_labels.get(id(t))
    if hit is not None and hit[0]() is t:
        return hit[1]
    name = t.name
    return None if name is None else f"%{name}"


def shape_str(shape):
    """(64, 784) -> '[64,784]'; () -> '[]'."""
    return "[" + ",".join(str(int(s)) for s in shape) + "]"


def dtype_str(dt):
    dt = np.dtype(dt)
    return "bool" if dt == np.bool_ else dt.name


def norm(a):
    """Euclidean norm of an array or Tensor (in float64), as a Python float."""
    if isinstance(a, Tensor):
        a = a._data
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        return float("nan")
    return float(np.linalg.norm(a.astype(np.float64, copy=False).ravel()))


def fmt_norm(x):
    """4 significant digits; exact zero as '0'."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.4g}"


def fmt_value(v, depth=0):
    """A short text for a non-tensor argument (kwargs, constants, indices)."""
    if isinstance(v, Tensor):
        v = v._data
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return fmt_value(v.item(), depth)
        if v.size <= 4 and v.ndim == 1:
            return "[" + ", ".join(fmt_value(x, depth + 1) for x in v.tolist()) + "]"
        return f"<{dtype_str(v.dtype)}{shape_str(v.shape)}>"
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        s = f"{v:.4g}"
        return s if any(c in s for c in ".einn") else s + ".0"   # 2.0 stays a float
    if isinstance(v, slice):
        parts = ["" if x is None else str(x) for x in (v.start, v.stop)]
        s = ":".join(parts)
        return s + (f":{v.step}" if v.step is not None else "")
    if v is Ellipsis:
        return "..."
    if isinstance(v, (tuple, list)):
        if depth > 2:
            return "(...)"
        inner = ", ".join(fmt_value(x, depth + 1) for x in v)
        if isinstance(v, tuple):
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return dtype_str(v)
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


# -- kwargs shown in the listing ---------------------------------------------------------------
_defaults_cache = {}


def _defaults(op):
    d = _defaults_cache.get(op.name)
    if d is None:
        d = {}
        try:
            for p in _pyinspect.signature(op.forward).parameters.values():
                if p.default is not p.empty:
                    d[p.name] = p.default
        except (TypeError, ValueError):
            pass
        _defaults_cache[op.name] = d
    return d


def _same(a, b):
    try:
        r = a == b
        return bool(r) if not isinstance(r, np.ndarray) else False
    except Exception:
        return False


# keyword values that change nothing (stride 1, padding 0, ...), hidden like a default
_NEUTRAL = {"stride": 1, "dilation": 1, "groups": 1, "padding": 0, "output_padding": 0}


def _plain(v):
    """True for values worth printing (numbers, strings, tuples, slices, arrays), False for internal
    objects that ops pass to their VJP (contexts, caches)."""
    if v is None or v is Ellipsis or isinstance(v, (bool, int, float, str, slice, np.generic, np.ndarray,
                                                      np.dtype)):
        return True
    if isinstance(v, (tuple, list)):
        return all(_plain(x) for x in v)
    return isinstance(v, type) and issubclass(v, np.generic)


def _neutral(k, v):
    n = _NEUTRAL.get(k)
    if n is None:
        return False
    vals = v if isinstance(v, (tuple, list)) else (v,)
    return all(isinstance(x, (int, np.integer)) and x == n for x in vals)


def shown_kwargs(op, kwargs):
    """The op's keyword parameters worth showing: not those its definition hides (``defop(hidden=)``),
    not the forward's defaults, not neutral values (stride 1, padding 0), not internal objects."""
    d = _defaults(op)
    hidden = getattr(op, "hidden", None) or ()
    return {k: v for k, v in kwargs.items()
            if k not in hidden and k != "res" and _plain(v) and not _neutral(k, v)
            and not (k in d and _same(d[k], v))}


def names_from(names):
    """{id(tensor): name} from a mapping name->Tensor, Tensor->name, or (name, Tensor) pairs."""
    out = {}
    if names is None:
        return out
    items = names.items() if isinstance(names, Mapping) else names
    for a, b in items:
        if isinstance(a, Tensor) and isinstance(b, str):
            out[id(a)] = b
        elif isinstance(b, Tensor) and isinstance(a, str):
            out[id(b)] = a
        else:
            raise TypeError(f"trace: names= must map names to Tensors (or Tensors to names), got a "
                            f"{type(a).__name__} -> {type(b).__name__} entry")
    return out

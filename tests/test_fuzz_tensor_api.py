"""Differential fuzzing of the tensor API's non-float side against PyTorch: type promotion, integer and
bool reductions, indexing, in-place ops through views, creation and conversion, and errors.

Each example is a drawn call written as Python source with ``M`` for the module (``torch`` or
``autograd_core``); it is evaluated under both libraries and the results compared: dtypes by name,
shapes exactly, integer and bool values exactly, floats within a tolerance of their dtype with NaN in
the same places, Python scalars by type and value. Where PyTorch raises, ours must raise an
IndexError, RuntimeError, ValueError or TypeError, except where a case marks PyTorch's refusal as one we
may go beyond (a Python number where PyTorch insists on a tensor). A failing example prints its call
(``note``), so it can be pasted into a session with ``import torch as M`` or ``import autograd_core as M``.
"""
import math

import numpy as np
import pytest
from hypothesis import given, note, settings, strategies as st

import autograd_core as ag

torch = pytest.importorskip("torch")

_BASE = settings().max_examples   # 15 under the CI profile
_SETTINGS = dict(deadline=None)
_KINDS = (IndexError, RuntimeError, ValueError, TypeError)
INTS = ["uint8", "int8", "int16", "int32", "int64"]
FLOATS = ["float16", "float32", "float64"]
DTYPES = ["bool"] + INTS + FLOATS
NOT_BOOL = INTS + FLOATS   # PyTorch has no clamp of bools
_TOL = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}


# -- running a call under both libraries ---------------------------------------------------------------
def _dtype_name(dt):
    return str(dt).rpartition(".")[2] if isinstance(dt, torch.dtype) else np.dtype(dt).name


def _canon(x):
    """A library-neutral form of a result: tensors as (dtype name, shape, values), sequences as lists."""
    if isinstance(x, torch.Tensor):
        return ("tensor", _dtype_name(x.dtype), tuple(x.shape), x.detach().numpy().copy())
    if isinstance(x, ag.Tensor):
        return ("tensor", _dtype_name(x.dtype), tuple(x.shape), np.array(x.detach().numpy()))
    if isinstance(x, (torch.dtype, np.dtype)):
        return ("dtype", _dtype_name(x))
    if isinstance(x, (tuple, list)):   # torch.Size, named tuples (values, indices) and lists alike
        return ("seq", [_canon(i) for i in x])
    if isinstance(x, (bool, int, float)):
        return ("number", type(x).__name__, x)
    raise AssertionError(f"unexpected result type {type(x)}")


def _same(ours, theirs, where="result"):
    assert ours[0] == theirs[0], f"{where}: ours is a {ours[0]}, PyTorch's a {theirs[0]}"
    if ours[0] == "seq":
        assert len(ours[1]) == len(theirs[1]), f"{where}: {len(ours[1])} items, PyTorch {len(theirs[1])}"
        for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
            _same(a, b, f"{where}[{i}]")
        return
    if ours[0] == "dtype":
        assert ours[1] == theirs[1], f"{where}: dtype {ours[1]}, PyTorch {theirs[1]}"
        return
    if ours[0] == "number":
        assert ours[1] == theirs[1], f"{where}: a Python {ours[1]}, PyTorch's a {theirs[1]}"
        a, b = ours[2], theirs[2]
        assert a == b or (a != a and b != b) or (ours[1] == "float" and math.isclose(a, b, rel_tol=1e-6)), \
            f"{where}: {a!r}, PyTorch {b!r}"
        return
    _, dt, shape, a = ours
    _, tdt, tshape, b = theirs
    assert dt == tdt, f"{where}: dtype {dt}, PyTorch {tdt}"
    assert shape == tshape, f"{where}: shape {shape}, PyTorch {tshape}"
    if a.dtype.kind in "biu":
        assert np.array_equal(a, b), f"{where}: values\n{a}\nPyTorch\n{b}"
    else:
        tol = _TOL[dt]
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol, equal_nan=True,
                                   err_msg=f"{where} ({dt})")


def _eval(M, src, env):
    scope = {"M": M, "np": np, "math": math, **env}
    exec(compile(src, "<call>", "exec"), scope)   # noqa: S102 (the source is built by this file)
    return scope["out"]


def check(src, env=None, torch_may_refuse=False):
    """Run ``src`` (statements that set ``out``) under both libraries and compare. Where PyTorch raises, ours
    must raise one of ``_KINDS``, unless ``torch_may_refuse`` (then ours may also succeed)."""
    env = env or {}
    note(src)
    try:
        theirs = ("ok", _eval(torch, src, env))
    except Exception as e:   # noqa: BLE001 (any refusal of PyTorch's is compared below)
        theirs = ("error", e)
    try:
        ours = ("ok", _eval(ag, src, env))
    except _KINDS as e:
        ours = ("error", e)
    if theirs[0] == "error":
        note(f"PyTorch: {type(theirs[1]).__name__}: {theirs[1]}")
        if ours[0] == "ok":
            # an integer division by zero is never ours to go beyond
            assert torch_may_refuse and "ZeroDivisionError" not in str(theirs[1]), \
                f"PyTorch refuses ({type(theirs[1]).__name__}: {theirs[1]}); ours runs"
        return None
    assert ours[0] == "ok", f"ours raises {type(ours[1]).__name__}: {ours[1]}; PyTorch runs"
    _same(_canon(ours[1]), _canon(theirs[1]))
    return ours[1]


# -- drawing operands as Python source ---------------------------------------------------------------
def _lit(v):
    """Python source of a number or a nested list of them (NaN and inf as float('nan'), float('inf'))."""
    if isinstance(v, list):
        return "[" + ", ".join(_lit(i) for i in v) + "]"
    if isinstance(v, float):
        return f"float('{v}')" if not math.isfinite(v) else repr(v)
    return repr(v)


def _values(dtype, special=True, lo=None, hi=None):
    if dtype == "bool":
        return st.booleans()
    if dtype in INTS:
        info = np.iinfo(dtype)
        return st.integers(max(info.min, -130 if lo is None else lo), min(info.max, 130 if hi is None else hi))
    finite = st.sampled_from([0.0, 1.0, -1.0, 2.0, -2.5, 0.5, 3.0, -7.0, 100.0])
    return st.one_of(finite, st.sampled_from([math.nan, math.inf, -math.inf])) if special else finite


@st.composite
def operands(draw, dtypes=DTYPES, forms=("tensor", "0-d", "number"), shape=(3,), special=True, lo=None, hi=None):
    """Source of an operand: a tensor of ``shape``, a 0-d tensor or a Python number of a drawn dtype."""
    dtype, form = draw(st.sampled_from(dtypes)), draw(st.sampled_from(forms))
    vals = _values(dtype, special, lo, hi)
    if form == "number":
        if dtype in INTS:   # a Python int may lie beyond the tensor's range: PyTorch wraps it
            vals = st.integers(-300 if lo is None else lo, 300 if hi is None else hi)
        v = draw(vals)
        return _lit(float(v) if dtype in FLOATS else v)
    n = int(np.prod(shape))
    items = [draw(vals) for _ in range(n if form == "tensor" else 1)]
    data = np.array(items, dtype=object).reshape(shape if form == "tensor" else ()).tolist()
    return f"M.tensor({_lit(data)}, dtype=M.{dtype})"


BINARY = {
    # template -> (dtypes of the operands, special values allowed, PyTorch refuses some forms we accept)
    "{a} + {b}": (DTYPES, True, False), "{a} - {b}": (DTYPES, True, True), "{a} * {b}": (DTYPES, True, False),
    "{a} / {b}": (DTYPES, True, False), "{a} // {b}": (DTYPES, True, True), "{a} % {b}": (DTYPES, True, True),
    "{a} ** {b}": (DTYPES, False, True), "{a} < {b}": (DTYPES, True, False), "{a} == {b}": (DTYPES, True, False),
    "{a} >= {b}": (DTYPES, True, False), "{a} != {b}": (DTYPES, True, False),
    "{a} & {b}": (["bool"] + INTS, True, False), "{a} | {b}": (["bool"] + INTS, True, False),
    "{a} ^ {b}": (["bool"] + INTS, True, False),
    "M.where(M.tensor([True, False, True]), {a}, {b})": (DTYPES, True, False),
    "M.clamp({a}, min={b})": (NOT_BOOL, True, True), "M.clamp({a}, max={b})": (NOT_BOOL, True, True),
    "M.clamp({a}, {b}, 5)": (NOT_BOOL, True, True),
    "M.lerp({a}, {b}, 0.25)": (FLOATS, True, True), "M.pow({a}, {b})": (DTYPES, False, True),
    "M.remainder({a}, {b})": (DTYPES, True, True), "M.fmod({a}, {b})": (DTYPES, True, True),
    "M.floor_divide({a}, {b})": (DTYPES, True, True), "M.true_divide({a}, {b})": (DTYPES, True, True),
    "M.div({a}, {b}, rounding_mode='floor')": (DTYPES, True, True),
    "M.div({a}, {b}, rounding_mode='trunc')": (DTYPES, True, True),
    "M.atan2({a}, {b})": (DTYPES, True, True), "M.maximum({a}, {b})": (DTYPES, True, True),
    "M.minimum({a}, {b})": (DTYPES, True, True), "M.fmax({a}, {b})": (DTYPES, True, True),
    "M.fmin({a}, {b})": (DTYPES, True, True), "M.bitwise_and({a}, {b})": (["bool"] + INTS, True, True),
    "M.mul({a}, {b})": (DTYPES, True, True), "M.sub({a}, {b}, alpha=2)": (DTYPES, True, True),
    "M.eq({a}, {b})": (DTYPES, True, True), "M.gt({a}, {b})": (DTYPES, True, True),
}
SHIFTS = ["{a} << {b}", "{a} >> {b}", "M.bitwise_left_shift({a}, {b})", "M.bitwise_right_shift({a}, {b})"]


def _binary_case(data, template):
    dtypes, special, may_refuse = BINARY[template]
    a = data.draw(operands(dtypes, special=special), label="a")
    b = data.draw(operands(dtypes, special=special), label="b")
    if a[0] != "M" and b[0] != "M":
        a = data.draw(operands(dtypes, forms=("tensor",), special=special), label="a")
    src = "out = " + template.format(a=a, b=b)
    # PyTorch's refusals of bool arithmetic it leaves undefined and of a number where it wants a tensor we may
    # go beyond (check still insists on refusing integer division by zero)
    check(src, torch_may_refuse=may_refuse)


@pytest.mark.parametrize("default", ["float32", "float64"])
@settings(max_examples=_BASE * 8, **_SETTINGS)
@given(data=st.data())
def test_binary_ops_promote_as_torch(default, data):
    """Result dtype, shape and values of the binary ops over bool / int / float tensors, 0-d tensors and
    Python numbers, with either default float dtype."""
    template = data.draw(st.sampled_from(sorted(BINARY)), label="op")
    torch.set_default_dtype(getattr(torch, default))
    ag.set_default_dtype(getattr(ag, default))
    try:
        _binary_case(data, template)
    finally:
        torch.set_default_dtype(torch.float32)


@settings(max_examples=_BASE, **_SETTINGS)
@given(data=st.data())
def test_shifts_match_torch(data):
    """``<<`` and ``>>`` on integer and bool tensors, with shifts inside the dtype's width."""
    template = data.draw(st.sampled_from(SHIFTS), label="op")
    a = data.draw(operands(["bool"] + INTS, forms=("tensor", "0-d")), label="a")
    b = data.draw(operands(["bool"] + INTS, lo=0, hi=7), label="b")
    check("out = " + template.format(a=a, b=b), torch_may_refuse=True)   # PyTorch has no bool << bool


@settings(max_examples=_BASE, **_SETTINGS)
@given(data=st.data())
def test_integer_division_by_zero_is_refused(data):
    """Integer ``//``, ``%``, fmod, remainder and rounded division by a zero divisor raise, as PyTorch's."""
    template = data.draw(st.sampled_from(["{a} // {b}", "{a} % {b}", "M.fmod({a}, {b})", "M.remainder({a}, {b})",
                                          "M.div({a}, {b}, rounding_mode='trunc')", "M.floor_divide({a}, {b})"]))
    dt = data.draw(st.sampled_from(INTS))
    a = f"M.tensor([7, -7, 0], dtype=M.{dt})" if dt != "uint8" else "M.tensor([7, 0, 3], dtype=M.uint8)"
    b = data.draw(st.sampled_from(["0", f"M.tensor(0, dtype=M.{dt})", f"M.tensor([1, 0, 2], dtype=M.{dt})"]))
    src = "out = " + template.format(a=a, b=b)
    note(src)
    with pytest.raises(RuntimeError):
        _eval(torch, src, {})
    with pytest.raises(RuntimeError, match="division by zero"):
        _eval(ag, src, {})


# -- reductions over integers and bools ----------------------------------------------------------------
REDUCTIONS = [
    "x.sum()", "x.sum({d})", "x.sum({d}, keepdim=True)", "x.prod({d})", "x.cumsum({d})", "x.cumprod({d})",
    "x.mean()", "x.mean({d}, dtype=M.float64)", "x.sum(dtype=M.{dt2})", "M.sum(x, {d}, dtype=M.{dt2})",
    "M.cumsum(x, {d}, dtype=M.{dt2})", "x.any()", "x.all({d})", "x.any({d}, keepdim=True)",
    "x.argmax()", "x.argmin({d})", "x.argmax({d}, keepdim=True)", "tuple(x.max({d}))", "tuple(x.min({d}))",
    "x.max()", "M.amax(x, {d})", "M.count_nonzero(x)", "M.count_nonzero(x, dim={d})",
    "M.unique(x)", "M.unique(x, return_inverse=True, return_counts=True)",
    "M.unique(x, sorted=True, return_counts=True, dim={d})", "M.unique_consecutive(x, return_counts=True)",
    "tuple(M.sort(x, dim={d}, stable=True))", "tuple(M.sort(x, dim={d}, descending=True, stable=True))",
    "M.argsort(x, dim={d}, stable=True)", "M.argsort(x, dim={d}, descending=True, stable=True)",
    "M.sort(x, {d}).values", "M.topk(x, {k}, {d}).values", "M.topk(x, {k}, {d}, largest=False).values",
    "M.kthvalue(x, {k}, {d}).values", "M.median(x)", "M.median(x, {d}).values", "M.nanmedian(x)",
    "M.nanmedian(x, {d}).values", "M.mode(x, {d}).values", "M.logsumexp(x, {d})", "x.float().mean({d})",
]
# an index that a reduction returns along with values, where PyTorch's choice among equal elements is
# its kernel's: checked to point at the value it goes with
PICKS = ["M.topk(x, {k}, {d})", "M.kthvalue(x, {k}, {d})", "M.median(x, {d})", "M.nanmedian(x, {d})",
         "M.mode(x, {d})", "M.sort(x, {d})"]


@st.composite
def tensor_source(draw, dtypes, max_dims=3, special=True, lo=-3, hi=3, min_side=1):
    """A tensor's source with few distinct values (many ties), and its shape."""
    dtype = draw(st.sampled_from(dtypes))
    shape = tuple(draw(st.lists(st.integers(min_side, 4), min_size=1, max_size=max_dims)))
    vals = _values(dtype, special, lo, hi) if dtype not in FLOATS else \
        st.sampled_from([0.0, 1.0, -1.0, 2.0] + ([math.nan] if special else []))
    data = np.array([draw(vals) for _ in range(int(np.prod(shape)))], dtype=object).reshape(shape).tolist()
    return f"M.tensor({_lit(data)}, dtype=M.{dtype})", shape, dtype


@settings(max_examples=_BASE * 8, **_SETTINGS)
@given(data=st.data())
def test_reductions_over_ints_and_bools(data):
    """Sums, products, means, any/all, arg-extremes, unique, sort, topk, medians and mode on bool, int and
    float tensors with ties (and NaN among floats): dtypes, shapes and values as PyTorch's."""
    template = data.draw(st.sampled_from(REDUCTIONS), label="op")
    # NaN only where its place is defined (PyTorch's unique along a dim sorts NaN first, its flat unique last;
    # its mode counts each NaN as a value of its own)
    x, shape, dtype = data.draw(tensor_source(["bool", "uint8", "int8", "int32", "int64", "float32", "float64"],
                                              special="unique" not in template and "mode" not in template))
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1), label="dim")
    k = data.draw(st.integers(1, shape[d]), label="k")
    dt2 = data.draw(st.sampled_from(["int8", "int32", "int64", "float64", "uint8"]))
    # PyTorch refuses argmax / argmin of bools, and a few sorts of them; ours gives them
    check(f"x = {x}\nout = " + template.format(d=d, k=k, dt2=dt2), torch_may_refuse=dtype == "bool")


@settings(max_examples=_BASE * 2, **_SETTINGS)
@given(data=st.data())
def test_reduction_indices_point_at_their_values(data):
    """Where PyTorch's index among ties is its kernel's choice, ours must pick an element equal to the value."""
    x, shape, dtype = data.draw(tensor_source(["int64", "uint8", "float64"], special=False))
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1), label="dim")
    k = data.draw(st.integers(1, shape[d]), label="k")
    call = data.draw(st.sampled_from(PICKS)).format(k=k, d=d)
    check(f"x = {x}\nout = {call}.values")
    xs = _eval(ag, f"out = {x}", {})
    values, indices = _eval(ag, f"out = {call}", {"x": xs})
    assert indices.dtype == np.int64
    picked = ag.gather(xs, d, indices if values.ndim == xs.ndim else indices.unsqueeze(d))
    assert np.array_equal(picked.reshape(values.shape)._data, values._data)


@settings(max_examples=_BASE, **_SETTINGS)
@given(data=st.data())
def test_bincount_and_histc(data):
    n = data.draw(st.integers(1, 6))   # PyTorch's bincount of no elements ignores the weights' dtype
    xs = data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    call = data.draw(st.sampled_from([
        "M.bincount(x)", "M.bincount(x, minlength=7)", "M.bincount(x, weights=w)", "M.bincount(x, weights=w.int())",
        "M.histc(x.float(), bins=4)", "M.histc(x.double(), bins=3, min=0, max=6)", "M.histc(x.float(), 5, 1, 2)"]))
    w = data.draw(st.lists(st.sampled_from([0.5, 1.0, -2.0, 3.0]), min_size=n, max_size=n))
    check(f"x = M.tensor({xs}, dtype=M.int64)\nw = M.tensor({w}, dtype=M.float64)\nout = {call}")


# -- indexing ------------------------------------------------------------------------------------------
@st.composite
def index_source(draw, shape, unique=False, allow_ellipsis=True):
    """An index for a tensor of ``shape``: ints, slices (positive steps), None, one Ellipsis, integer lists
    (negative entries too; repeated unless ``unique``) and bool masks, in drawn order."""
    items, dim, used_ellipsis, nones = [], 0, False, 0
    while dim < len(shape):
        # after an Ellipsis the items must index every remaining dim (they count from the last one)
        kinds = ["int", "slice", "none", "list", "mask", "ellipsis"] + ["stop"] * (not used_ellipsis)
        kind = draw(st.sampled_from(kinds))
        if kind == "stop":
            break
        if kind == "none":
            if nones < 2:
                items.append("None")
                nones += 1
            continue
        if kind == "ellipsis":
            if used_ellipsis or not allow_ellipsis:
                continue
            used_ellipsis = True
            items.append("...")
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))   # the dims after it stay indexable
            continue
        n = shape[dim]
        if kind == "int":
            items.append(str(draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            items.append(":".join("" if v is None else str(v) for v in (start, stop)) +
                         ("" if step is None else f":{step}"))
        elif kind == "list":
            m = draw(st.integers(1, min(3, n) if unique else 3))
            idx = draw(st.lists(st.integers(-n, n - 1), min_size=m, max_size=m,
                                unique_by=(lambda i: i % n) if unique else None))
            items.append(draw(st.sampled_from([f"{idx}", f"M.tensor({idx})"])))
        else:
            mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            items.append(f"M.tensor({mask})")
        dim += 1
    return ", ".join(items) if items else "..."


def _arange_source(shape, dtype):
    return f"M.arange({int(np.prod(shape))}, dtype=M.{dtype}).reshape{tuple(shape)}"


@settings(max_examples=_BASE * 8, **_SETTINGS)
@given(data=st.data())
def test_getitem_matches_torch(data):
    """Ints, slices, None, Ellipsis, integer lists and bool masks, mixed: the result's shape (PyTorch applies
    ints first, then moves the dims of index arrays separated by a slice to the front) and values."""
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4), label="shape"))
    idx = data.draw(index_source(shape))
    check(f"x = {_arange_source(shape, 'int64')}\nout = x[{idx}]")


@settings(max_examples=_BASE * 6, **_SETTINGS)
@given(data=st.data())
def test_setitem_matches_torch(data):
    """``x[idx] = value`` with a number, a 0-d tensor or a tensor broadcast to the selected region (no index
    repeated, where the order of writes would decide); written through to the base of a view."""
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="shape"))
    idx = data.draw(index_source(shape, unique=True))
    dtype = data.draw(st.sampled_from(["int64", "float32", "uint8"]))
    try:
        region = _eval(torch, f"x = {_arange_source(shape, dtype)}\nout = x[{idx}].shape", {})
    except IndexError:
        region = None   # masks that don't broadcast: both must refuse the write
    value = data.draw(st.sampled_from(["-3", "2.75", "True", "M.tensor(9)", "M.tensor(1.5, dtype=M.float64)",
                                       "region", "region[-1:]", "region[None]"]))
    if value.startswith("region") and region is None:
        value = "1"
    elif value.startswith("region"):
        n = int(np.prod(region))
        trail = tuple(region)[-1:] if value == "region[-1:]" else tuple(region)
        lead = (1,) if value == "region[None]" else ()
        value = f"M.arange({int(np.prod(trail))}, dtype=M.{dtype}).reshape{lead + trail} * 3" if n else "0"
    via = data.draw(st.sampled_from(["x", "x[:]", "x.view({n})"]), label="through").format(n=int(np.prod(shape)))
    if via.startswith("x.view"):
        idx = "..." if idx.count(",") == 0 and "..." in idx else idx
        if len(shape) != 1:
            via = "x"
    check(f"x = {_arange_source(shape, dtype)}\nv = {via}\nv[{idx}] = {value}\nout = x", torch_may_refuse=True)


@settings(max_examples=_BASE * 3, **_SETTINGS)
@given(data=st.data())
def test_index_ops_match_torch(data):
    """index_select, gather / scatter / scatter_add / scatter_reduce on integers, take, take_along_dim,
    masked_select / masked_fill, nonzero, index_put_ (accumulating repeats), narrow, unbind and the splits."""
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="shape"))
    nd, n = len(shape), int(np.prod(shape))
    d = data.draw(st.integers(-nd, nd - 1), label="dim")
    size = shape[d]
    m = data.draw(st.integers(1, 4))
    ids = data.draw(st.lists(st.integers(0, size - 1), min_size=m, max_size=m))
    gshape = list(shape)
    gshape[d] = m
    gidx = np.array(data.draw(st.lists(st.integers(0, size - 1), min_size=int(np.prod(gshape)),
                                       max_size=int(np.prod(gshape))))).reshape(gshape).tolist()
    flat = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=shape[-1], max_size=shape[-1]))).tolist()
    reduce = data.draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    start = data.draw(st.integers(-size, size - 1))
    length = data.draw(st.integers(0, size - (start % size)))
    sections = data.draw(st.one_of(st.integers(1, 5), st.lists(st.integers(-1, size + 1), max_size=3)))
    chunk = data.draw(st.integers(1, 5))
    call = data.draw(st.sampled_from([
        "M.index_select(x, {d}, M.tensor({ids}))", "x.gather({d}, M.tensor({gidx}))",
        "M.zeros_like(x).scatter({d}, M.tensor({gidx}), x)", "M.zeros_like(x).scatter({d}, M.tensor({gidx}), 7)",
        "x.scatter_add({d}, M.tensor({gidx}), x)",
        "x.scatter_reduce({d}, M.tensor({gidx}), x * 2 - 5, '{reduce}')",
        "x.scatter_reduce({d}, M.tensor({gidx}), x - 3, '{reduce}', include_self=False)",
        "M.take(x, M.tensor({flat}))", "M.take_along_dim(x, M.tensor({gidx}), dim={d})",
        "M.take_along_dim(x, M.tensor({flat}) % {n})", "M.masked_select(x, M.tensor({mask}))",
        "x.masked_fill(M.tensor({mask}), -1)", "x.masked_fill(M.tensor({mask}), 2.5)",
        "x.masked_fill(M.tensor({mask}), M.tensor(4))", "M.nonzero(x % 3 == 0)", "M.nonzero(x % 3, as_tuple=True)",
        "x.clone().index_put_((M.tensor({ids}),), M.tensor(5), accumulate=True)",
        "x.index_put((M.tensor({flat}) % {s0},), x[0] * 0 + 1, accumulate=True)",
        "x.narrow({d}, {start}, {length})", "x.unbind({d})", "x.split({chunk}, {d})", "x.chunk({chunk}, {d})",
        "x.tensor_split({sections}, {d})", "M.tensor_split(x, M.tensor({ids}), dim={d})",
        "x.split_with_sizes([{size} - 1, 1], {d})" if size > 1 else "x.split({size}, {d})",
    ]), label="op")
    dtype = data.draw(st.sampled_from(["int64", "int32", "uint8", "float32", "bool"]))
    src = call.format(d=d, ids=ids, gidx=gidx, flat=flat, mask=mask, reduce=reduce, start=start, length=length,
                      sections=sections, chunk=chunk, n=n, s0=shape[0], size=size)
    x = f"M.arange({n}).reshape{shape}.to(M.{dtype})" if dtype != "bool" else f"(M.arange({n}) % 3 == 1).reshape{shape}"
    check(f"x = {x}\nout = {src}", torch_may_refuse=True)


def test_negative_slice_steps_are_our_extension():
    """PyTorch refuses ``x[::-1]`` (ValueError); ours gives NumPy's reversed view (a deliberate extension,
    documented in ``getitem``), equal to PyTorch's ``flip``."""
    x = torch.arange(6).reshape(2, 3)
    with pytest.raises(ValueError):
        x[:, ::-1]
    _same(_canon(ag.arange(6).reshape(2, 3)[:, ::-1]), _canon(x.flip(1)))


# -- in-place ops and views, without grad -------------------------------------------------------------
VIEWS = ["t", "t[::2]", "t[:, 1:3]", "t[1]", "t.view(12)[2:9]", "t.T", "t.diagonal()", "t.diagonal(1)",
         "t.unsqueeze(0)[0]", "t.data", "t.detach()", "t.reshape(4, 3)", "t.select(1, 2)", "t.narrow(1, 1, 2)",
         "t.permute(1, 0)[::2]", "t.flatten()[3:]", "t.chunk(2, 1)[1]", "t.unbind(0)[2]", "t.t()[1:]"]
INPLACE = ["v.add_({o})", "v.add_({o}, alpha=2)", "v.sub_({o})", "v.mul_({o})", "v.div_({o})", "v.clamp_(-1, 4)",
           "v.clamp_(min={o})", "v.copy_({o})", "v.fill_({s})", "v.zero_()", "v.masked_fill_(v > 3, {s})",
           "v.__iadd__({o})", "v.__imul__({o})", "v.__ifloordiv__(3)", "v.__imod__(4)", "v.__iand__(6)",
           "v.pow_(2)", "v.abs_()", "v.neg_()", "v.sqrt_()", "v.floor_()", "v.exp_()"]


@settings(max_examples=_BASE * 6, **_SETTINGS)
@given(data=st.data())
def test_inplace_through_views_matches_torch(data):
    """An in-place op on a view writes into the base (values, and the view's returned self); an integer
    tensor refuses a float result, as PyTorch's 'result type Float can't be cast to Long'."""
    dtype = data.draw(st.sampled_from(["float32", "float64", "int64", "int32", "uint8", "bool"]), label="dtype")
    view = data.draw(st.sampled_from(VIEWS), label="view")
    op = data.draw(st.sampled_from(INPLACE), label="op")
    other = data.draw(st.sampled_from([
        "2", "-1.5", "True", "M.tensor(3)", "M.tensor(0.5)", "M.tensor([1, 2, 3, 4])[:v.shape[-1]]",
        "M.tensor([1.5, -2.0, 3.0, 4.0], dtype=M.float64)[:v.shape[-1]]",
        "M.tensor([True, False, True, True])[:v.shape[-1]]",
        "M.ones(2, 1, dtype=M.int8)", "M.arange(v.numel()).reshape(v.shape)"]), label="other")
    scalar = data.draw(st.sampled_from(["7", "-2.5", "False", "M.tensor(3)"]), label="value")
    base = f"M.arange(12).reshape(3, 4).to(M.{dtype})" if dtype != "bool" else "(M.arange(12) % 3 == 0).reshape(3, 4)"
    if dtype == "uint8":   # a negative float cast to uint8 is undefined in C: PyTorch's result is its compiler's
        other, scalar = other.replace("-", ""), scalar.replace("-", "")
    src = f"t = {base}\nv = {view}\nr = {op.format(o=other, s=scalar)}\nout = (t, v, r is v)"
    check(src, torch_may_refuse=True)


@settings(max_examples=_BASE, **_SETTINGS)
@given(data=st.data())
def test_out_arguments_match_torch(data):
    """``out=``: the result written into (and returned as) ``out``, cast to its dtype where PyTorch allows."""
    out_dtype = data.draw(st.sampled_from(["int64", "float32", "float64", "bool"]))
    call = data.draw(st.sampled_from(["M.add(a, b, out=o)", "M.mul(a, 2, out=o)", "M.sum(a, 0, out=o)",
                                      "M.maximum(a, b, out=o)", "M.eq(a, b, out=o)", "M.clamp(a, 0, 3, out=o)",
                                      "M.floor_divide(a, 2, out=o)", "M.where(a > 1, a, b, out=o)"]))
    a_dtype = data.draw(st.sampled_from(["int64", "float32"]))
    if "sum" in call and not np.can_cast(a_dtype, out_dtype, "same_kind"):
        out_dtype = a_dtype   # PyTorch's sum casts into any out=; ours follows the one rule (README)
    src = (f"a = M.tensor([[0, 1, 2], [3, 4, 5]], dtype=M.{a_dtype})\nb = M.tensor([2, 2, 2])\n"
           f"o = M.empty(0, dtype=M.{out_dtype})\nr = {call}\nout = (o, r is o)")
    check(src, torch_may_refuse=True)


# -- creation and conversion --------------------------------------------------------------------------
_SCALARS = st.one_of(st.booleans(), st.integers(-5, 5), st.sampled_from([0.5, -1.25, 3.0, math.nan]))


@settings(max_examples=_BASE * 3, **_SETTINGS)
@given(data=st.data())
def test_creation_infers_dtypes_as_torch(data):
    """``tensor`` from nested lists of bools, ints and floats, ``arange`` (float and negative steps),
    ``linspace`` / ``logspace``, ``full``, the ``*_like`` functions, with either default float dtype."""
    default = data.draw(st.sampled_from(["float32", "float64"]), label="default")
    rows, cols = data.draw(st.integers(0, 3)), data.draw(st.integers(1, 3))
    nested = [[data.draw(_SCALARS) for _ in range(cols)] for _ in range(rows)]
    start = data.draw(st.one_of(st.integers(-5, 5), st.sampled_from([0.5, -1.5, 2.0])))
    end = data.draw(st.one_of(st.integers(-5, 5), st.sampled_from([0.25, 3.5, -2.0])))
    step = data.draw(st.one_of(st.integers(-3, 3).filter(bool), st.sampled_from([0.5, -0.25, 0.3, 1.5])))
    steps = data.draw(st.integers(0, 6))
    fill = data.draw(_SCALARS)
    dt = data.draw(st.sampled_from(["int64", "float64", "bool", "float16", "int32"]))
    call = data.draw(st.sampled_from([
        "M.tensor({nested})", "M.tensor({nested}, dtype=M.{dt})", "M.tensor({fill})", "M.arange({end})",
        "M.arange({start}, {end})", "M.arange({start}, {end}, {step})",
        "M.arange({start}, {end}, {step}, dtype=M.float64)",
        "M.linspace({start}, {end}, {steps})", "M.linspace({start}, {end}, {steps}, dtype=M.float64)",
        "M.logspace({start}, {end}, {steps})", "M.logspace(0, 2, {steps}, base=2)", "M.full((2, 2), {fill})",
        "M.full((2,), {fill}, dtype=M.{dt})", "M.zeros_like(M.tensor({nested}), dtype=M.{dt})",
        "M.ones_like(M.tensor({nested}))", "M.full_like(M.tensor([1, 2]), {fill})", "M.empty(2, 0, dtype=M.{dt}).shape",
        "M.tensor({nested}).dtype", "M.as_tensor({nested})",
    ]), label="call")
    src = "out = " + call.format(nested=_lit(nested), dt=dt, fill=_lit(fill), start=start, end=end, step=step,
                                 steps=steps)
    torch.set_default_dtype(getattr(torch, default))
    ag.set_default_dtype(getattr(ag, default))
    try:
        check(src)
    finally:
        torch.set_default_dtype(torch.float32)


@settings(max_examples=_BASE * 3, **_SETTINGS)
@given(data=st.data())
def test_conversions_match_torch(data):
    """``.to(dtype)``, ``.int()`` / ``.long()`` / ``.bool()`` / ``.half()``, ``item``, ``tolist`` and Python's
    ``int`` / ``float`` / ``bool`` (refused for several elements), NaN included where it is defined."""
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    n = data.draw(st.sampled_from([0, 1, 1, 3]))
    vals = [data.draw(_values(dtype, special=False, lo=-100, hi=100)) for _ in range(n)]
    zero_d = n == 1 and data.draw(st.booleans())
    x = f"M.tensor({vals[0] if zero_d else vals}, dtype=M.{dtype})"
    target = data.draw(st.sampled_from(["int8", "int32", "int64", "float16", "float64", "bool", "uint8"]))
    call = data.draw(st.sampled_from([
        "x.to(M.{t})", "x.to(dtype=M.{t})", "x.int()", "x.long()", "x.bool()", "x.half()", "x.double()",
        "x.float()", "x.item()", "x.tolist()", "int(x)", "float(x)", "bool(x)", "x.type(M.{t})",
        "M.tensor(float('nan')).item()", "x.to(M.{t}).tolist()", "[x.is_floating_point(), x.dtype, x.to(M.{t}).dtype]",
        "x.abs()", "-x", "~x", "x.sign()", "x.square()", "M.exp(x)", "x.sqrt()", "x.floor()", "x.round()", "x.trunc()",
        "x.sum()", "M.nansum(x)", "x.relu()",
    ]), label="call")
    # casting a negative value or one beyond the range to an unsigned or narrower type: PyTorch and NumPy
    # both wrap integers, but a float beyond an integer type's range is undefined in C, so not drawn
    # the conversions must refuse what PyTorch refuses; the elementwise ops after them may go beyond it (floor of
    # a bool, ~ of a float is refused by both)
    strict = call in ("x.item()", "int(x)", "float(x)", "bool(x)") or call.startswith(("x.to", "x.type"))
    check(f"x = {x}\nout = " + call.format(t=target), torch_may_refuse=not strict)


# -- errors -------------------------------------------------------------------------------------------
ERRORS = {
    # call -> the name our message must give
    "M.ones({s}) + M.ones({t})": "add", "M.ones({s}) * M.ones({t})": "mul",
    "M.ones({s}) // M.ones({t})": "floor_divide",
    "M.ones({s}) % M.ones({t})": "remainder", "M.ones({s}, dtype=M.bool) & M.ones({t}, dtype=M.bool)": "bitwise_and",
    "M.ones({s}) < M.ones({t})": "lt", "M.where(M.ones({s}) > 0, M.ones({s}), M.ones({t}))": "where",
    "M.ones({s}).masked_fill(M.ones({t}, dtype=M.bool), 0)": "masked_fill",
    "M.cat([M.ones({s}), M.ones({t})], 1)": "cat",
    "M.stack([M.ones({s}), M.ones({t})])": "stack", "M.ones({s}).view({tn})": "reshape",
    "M.ones({s}).sum({bad})": "sum", "M.ones({s}).argmax({bad})": "argmax", "M.ones({s}).softmax({bad})": "softmax",
    "M.ones({s}).transpose(0, {bad})": "transpose", "M.ones({s}).unsqueeze({bad1})": "unsqueeze",
    "M.ones({s}).cumsum({bad})": "cumsum", "M.ones({s})[{n0}]": "getitem", "M.ones({s})[..., {bad_last}]": "getitem",
    "M.ones({s}).gather({bad}, M.zeros({s}, dtype=M.int64))": "gather",
    "M.ones({s}).gather(0, M.full({s}, {n0}))": "gather",
    "M.index_select(M.ones({s}), 0, M.tensor([{n0}]))": "index_select",
    "M.take(M.ones({s}), M.tensor([{numel}]))": "take", "M.ones({s}).narrow(0, 1, {n0})": "narrow",
    "M.ones({s}).expand({tn})": "broadcast_to", "M.ones({s}).copy_(M.ones({t}))": "copy_",
    "M.ones({s}).add_(M.ones({t}))": "add", "M.zeros({s}, dtype=M.int64).add_(0.5)": "add",
    "M.ones({s}).item()": "item", "M.ones({s}).split([1, {n0}])": "split", "M.ones({s}).chunk(0)": "chunk",
    "M.ones({s}).topk({n0} + 1, 0)": "topk", "M.arange(3).mean()": "mean",
    "M.ones({s}).masked_fill(M.ones({s}), 0)": "masked_fill", "M.arange(0, 5, -1)": "arange",
    "int(M.ones({s}))": "", "M.ones({s}).reshape(-1, {bigger})": "reshape", "M.ones({s}).permute(0, 0)": "permute",
}

# the shape mismatches, whose message must also give a shape
SHAPE_ERRORS = [c for c in ERRORS if "{t}" in c or "{tn}" in c or "{bigger}" in c or "{numel}" in c or "[{n0}]" in c]


@settings(max_examples=_BASE * 3, **_SETTINGS)
@given(data=st.data())
def test_errors_are_refused_as_torch(data):
    """Shape mismatches, dims and indices out of range and dtype misuse: both refuse, ours with an error of
    one of PyTorch's kinds whose message names the op."""
    s = tuple(data.draw(st.lists(st.integers(2, 4), min_size=2, max_size=3), label="shape"))
    t = (s[0] + 1,) + s[1:]   # differs from s in the first dim, so neither broadcasts to the other
    call = data.draw(st.sampled_from(sorted(ERRORS)), label="call")
    src = "out = " + call.format(s=s, t=t, tn=tuple(d + 1 for d in s), bad=len(s), bad1=len(s) + 1, n0=s[0],
                                 bad_last=s[-1], numel=int(np.prod(s)), bigger=int(np.prod(s)) + 1)
    note(src)
    with pytest.raises(Exception):   # noqa: B017 (any refusal of PyTorch's)
        _eval(torch, src, {})
    with pytest.raises(_KINDS) as err:
        _eval(ag, src, {})
    assert ERRORS[call] in str(err.value), f"the message doesn't name {ERRORS[call]!r}: {err.value}"
    if call in SHAPE_ERRORS:
        assert str(s) in str(err.value) or str(t) in str(err.value), f"the message doesn't give the shapes: {err.value}"


# -- regressions found by the fuzzing above -----------------------------------------------------------
def test_integer_tensor_with_a_python_int_beyond_its_range_wraps():
    ours, theirs = ag.tensor([1, -1], dtype=ag.int8).add(300), torch.tensor([1, -1], dtype=torch.int8).add(300)
    assert ours.tolist() == theirs.tolist() and ours.dtype == ag.int8
    assert (ag.tensor([1], dtype=ag.uint8) + -2).tolist() == (torch.tensor([1], dtype=torch.uint8) + -2).tolist()


def test_percent_and_floordiv_are_the_taped_ops():
    # ``x % 1.0`` used to drop the gradient (a constant result), so x.grad below was 1, not 2
    x = ag.tensor([1.25, -2.5], requires_grad=True)
    ((x % 1.0) + x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert (ag.tensor([5, 7], dtype=ag.uint8) // ag.tensor(2, dtype=ag.int8)).dtype == ag.uint8


def test_int_then_index_array_follows_torch_order():
    x = ag.arange(24).reshape(2, 3, 4)
    assert x[1, :, [0, 3]].shape == (3, 2)
    assert x[0, 1:, [0, 3]].tolist() == torch.arange(24).reshape(2, 3, 4)[0, 1:, [0, 3]].tolist()
    y = ag.zeros(2, 3, 4, dtype=ag.int64)
    y[1, :, [0, 3]] = ag.tensor([[1, 2]] * 3)
    t = torch.zeros(2, 3, 4, dtype=torch.int64)
    t[1, :, [0, 3]] = torch.tensor([[1, 2]] * 3)
    assert y.tolist() == t.tolist()


def test_int_then_index_array_gradient():
    """The two-step read (ints first) keeps the gradient: it scatters back to the selected places."""
    x = ag.arange(24.0, dtype=ag.float64).reshape(2, 3, 4).requires_grad_()
    w = np.arange(6.0).reshape(3, 2)
    (x[1, :, [0, 3]] * ag.tensor(w)).sum().backward()
    tx = torch.arange(24.0, dtype=torch.float64).reshape(2, 3, 4).requires_grad_()
    (tx[1, :, [0, 3]] * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad._data, tx.grad.numpy())


def test_diagonal_is_a_view_with_gradient():
    for M in (ag, torch):
        x = M.arange(12.0, dtype=M.float64).reshape(3, 4).requires_grad_()
        y = x * 1
        y.diagonal(1).mul_(3)
        (y * M.arange(12.0, dtype=M.float64).reshape(3, 4)).sum().backward()
        if M is ag:
            ours = (y._data.copy(), x.grad._data.copy())
        else:
            np.testing.assert_array_equal(ours[0], y.detach().numpy())
            np.testing.assert_array_equal(ours[1], x.grad.numpy())


def test_setitem_with_int_and_index_array_gradient():
    """``y[1, :, [0, 3]] = v`` on the tape: the overwritten places get no gradient from y's old history, v
    gets the gradient of its places, as PyTorch's."""
    w = np.arange(24.0).reshape(2, 3, 4)
    grads = []
    for M in (ag, torch):
        x = M.tensor(np.ones((2, 3, 4)), requires_grad=True)
        v = M.tensor(np.full((3, 2), 2.0), requires_grad=True)
        y = x * 3
        y[1, :, [0, 3]] = v * v
        (y * M.tensor(w)).sum().backward()
        grads.append((np.array(x.grad.detach().numpy()), np.array(v.grad.detach().numpy())))
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)

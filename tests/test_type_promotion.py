"""Binary ops on tensors of two dtypes follow PyTorch's type promotion, not NumPy's: tensors with dims
decide the result's dtype, a 0-d tensor only where its category (bool < integer < float) is higher, and a
float with an integer is that float (``dtypes.result_type``, also ``ag.result_type`` / ``ag.promote_types``)."""
import numpy as np
import pytest

import autograd_core as ag
from autograd_core.dtypes import result_type

DTYPES = ("float16", "float32", "float64", "int64", "int32", "uint8", "bool")
OPS = {
    "add": lambda M, a, b: a + b,
    "sub": lambda M, a, b: a - b,
    "mul": lambda M, a, b: a * b,
    "div": lambda M, a, b: a / b,
    "pow": lambda M, a, b: M.pow(a, b),
    "maximum": lambda M, a, b: M.maximum(a, b),
    "minimum": lambda M, a, b: M.minimum(a, b),
    "where": lambda M, a, b: M.where(M.tensor(np.array([True, False, True])), a, b),
    "lt": lambda M, a, b: a < b,
    "eq": lambda M, a, b: a == b,
    "atan2": lambda M, a, b: M.atan2(a, b),
    "fmod": lambda M, a, b: M.fmod(a, b),
    "remainder": lambda M, a, b: M.remainder(a, b),
    "hypot": lambda M, a, b: M.hypot(a, b),
    "fmax": lambda M, a, b: M.fmax(a, b),
    "copysign": lambda M, a, b: M.copysign(a, b),
    "floor_divide": lambda M, a, b: M.floor_divide(a, b),
}


def _operand(M, dtype, zero_dim, seed):
    vals = np.array([1, 2, 3]) if dtype == "bool" else np.array([1.5, 2.0, 3.0]) + seed
    vals = vals[:1].reshape(()) if zero_dim else vals
    return M.tensor(vals.astype(dtype) if dtype != "bool" else vals.astype(bool))


def test_result_type_rules_without_torch():
    f32, f64, i64 = np.ones(2, np.float32), np.ones(2), np.ones(2, np.int64)
    assert result_type(f32, i64) == np.float32                      # NumPy: float64
    assert result_type(f32, np.array(2.0)) == np.float32            # a 0-d float64 does not promote
    assert result_type(i64, np.array(2.0)) == np.float64            # ... unless its category is higher
    assert result_type(np.ones(2, np.int32), np.array(2)) == np.int32
    assert result_type(np.ones(2, bool), np.array(2)) == np.int64
    assert result_type(np.array(1.0, np.float32), np.array(1.0)) == np.float64   # two 0-d: as two with dims
    assert result_type(f32, f64) == np.float64
    assert result_type(np.ones(2, np.uint8), np.ones(2, np.int8)) == np.int16


def test_a_float32_step_stays_float32_with_int_and_0d_float64_tensors():
    # a positional encoding (int64 positions times float32 frequencies) and a 0-d float64 scale
    pos = ag.arange(4).unsqueeze(1)
    freq = ag.exp(ag.arange(0, 6, 2).float() * -0.5)
    x = ag.ones(4, 3, requires_grad=True)
    y = (x * ag.sin(pos * freq)) * ag.tensor(0.5, dtype=ag.float64)
    assert y.dtype == ag.float32
    y.sum().backward()
    assert x.grad.dtype == ag.float32
    np.testing.assert_allclose(x.grad._data, 0.5 * np.sin(np.arange(4)[:, None] * np.exp(np.arange(0, 6, 2) * -0.5)),
                               rtol=1e-6)


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("zero_dims", [(False, False), (False, True), (True, False)])
def test_result_dtype_and_values_match_torch(op, zero_dims):
    torch = pytest.importorskip("torch")
    fn = OPS[op]
    checked = 0
    for da in DTYPES:
        for db in DTYPES:
            if da == db:
                continue
            try:
                theirs = fn(torch, _operand(torch, da, zero_dims[0], 0), _operand(torch, db, zero_dims[1], 1))
            except (RuntimeError, TypeError):
                continue        # PyTorch refuses the pair (bool - bool, ...): not compared
            ours = fn(ag, _operand(ag, da, zero_dims[0], 0), _operand(ag, db, zero_dims[1], 1))
            assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), f"{op}({da}, {db}) zero-dim {zero_dims}"
            if op in ("add", "mul", "maximum", "where"):    # the public rule says what the ops do
                a, b = _operand(ag, da, zero_dims[0], 0), _operand(ag, db, zero_dims[1], 1)
                assert ag.result_type(a, b) == ours.dtype, f"result_type({da}, {db}) zero-dim {zero_dims}"
                if not any(zero_dims):
                    assert str(ag.promote_types(a.dtype, b.dtype)) == str(torch.promote_types(
                        getattr(torch, da), getattr(torch, db))).replace("torch.", "")
            np.testing.assert_allclose(np.asarray(ours.tolist(), float), np.asarray(theirs.tolist(), float),
                                       rtol=2e-3 if "float16" in (da, db) else 1e-6, equal_nan=True,
                                       err_msg=f"{op}({da}, {db}) zero-dim {zero_dims}")
            checked += 1
    assert checked > 10


def test_gradients_keep_each_inputs_dtype_and_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    xv, sv = rng.standard_normal((3, 2)).astype(np.float32), np.float64(1.7)

    def run(M):
        x = M.tensor(xv, requires_grad=True)
        s = M.tensor(sv, requires_grad=True)
        y = M.atan2(x * s, M.tensor(np.array([1, 2]))) / s + M.maximum(x, s)
        y.sum().backward()
        return y, x.grad, s.grad

    ours, theirs = run(ag), run(torch)
    for o, t in zip(ours, theirs):
        assert str(o.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scalar", [np.float64(1.5), np.float32(1.5), np.int64(2)])
def test_numpy_scalars_act_as_python_numbers_as_in_torch(scalar):
    torch = pytest.importorskip("torch")
    for dt in ("float32", "float16", "int32"):
        for expr in ("x + s", "s * x", "x / s", "x ** s", "x < s"):
            ours = eval(expr, {"x": ag.ones(3, dtype=getattr(ag, dt)), "s": scalar})
            theirs = eval(expr, {"x": torch.ones(3, dtype=getattr(torch, dt)), "s": scalar})
            assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (expr, dt, type(scalar))


UNARY = ("exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sinh", "atan", "sigmoid",
         "erf", "erfc", "lgamma", "log2", "log10", "exp2")


@pytest.mark.parametrize("name", UNARY)
def test_float_functions_of_integer_tensors_give_the_default_dtype_as_torch(name):
    torch = pytest.importorskip("torch")
    for dt in ("int64", "int32", "int8", "uint8", "bool", "float16", "float64"):
        v = np.array([1, 2, 3]).astype(dt)
        ours, theirs = getattr(ag, name)(ag.tensor(v)), getattr(torch, name)(torch.tensor(v))
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (name, dt)
        np.testing.assert_allclose(np.asarray(ours.tolist(), float), np.asarray(theirs.tolist(), float),
                                   rtol=2e-3 if dt == "float16" else 1e-6, err_msg=f"{name}({dt})")


def test_float_functions_of_integer_tensors_follow_the_default_dtype():
    i = ag.arange(3)
    assert ag.exp(i).dtype == ag.float32 and ag.sin(ag.tensor([True])).dtype == ag.float32
    ag.set_default_dtype(ag.float64)
    try:
        assert ag.exp(i).dtype == ag.float64
    finally:
        ag.set_default_dtype(ag.float32)
    assert ag.exp(ag.tensor([1.0], dtype=ag.float16)).dtype == ag.float16     # floats keep their dtype


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_of_an_integer_tensor_gives_the_default_float_dtype(mode):
    """An integer tensor divided with a rounding mode by a float number (a NumPy scalar too) is the
    default float dtype, as in PyTorch; by a float64 tensor it is float64; the quotient is computed in
    that dtype."""
    a = ag.tensor([1, 2, -7])
    for b in (2.5, np.float64(2.5)):
        r = ag.divide(a, b, rounding_mode=mode)
        assert r.dtype == ag.get_default_dtype()
        np.testing.assert_array_equal(r.numpy(), [0.0, 0.0, -3.0 if mode == "floor" else -2.0])
    assert ag.divide(a, ag.tensor([2.5, 1.0, 2.0], dtype=ag.float64), rounding_mode=mode).dtype == np.float64
    assert ag.divide(ag.tensor([1.0], dtype=ag.float32), np.float64(0.1), rounding_mode=mode).dtype == np.float32
    torch = pytest.importorskip("torch")
    for b in (2.5, 0.1, np.float64(2.5)):
        ours = ag.divide(a, b, rounding_mode=mode)
        theirs = torch.div(torch.tensor([1, 2, -7]), float(b), rounding_mode=mode)
        assert str(theirs.dtype) == "torch." + str(ours.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("a, b, expected", [(1.0, 0.0, "float32"), (1, 0, "int64"), (True, False, "bool"),
                                            (1, 0.5, "float32"), (True, 2, "int64")])
def test_where_of_two_python_numbers_takes_pytorchs_scalar_types(a, b, expected):
    out = ag.where(ag.tensor([True, False]), a, b)
    assert out.dtype == np.dtype(expected) and out.tolist() == [a, b]
    ag.set_default_dtype(np.float64)
    if expected == "float32":
        assert ag.where(ag.tensor([True, False]), a, b).dtype == np.float64

"""PyTorch's ``out=`` keyword on the namespace functions (autograd_core.outargs): the result lands in the
given tensor, with PyTorch's casting, resizing and autograd rules, and matches torch when it is installed."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core import outargs
from autograd_core.testing import shapes


def _torch():
    return pytest.importorskip("torch")


def test_every_listed_function_takes_out():
    for ns, names in ((ag, outargs.NAMES), (ag.linalg, outargs.LINALG_NAMES), (ag.special, outargs.SPECIAL_NAMES)):
        for name in names:
            f = getattr(ns, name, None)
            if f is None:
                continue
            assert hasattr(f, "__wrapped__"), f"{ns.__name__}.{name} does not take out="


def test_the_tutorials_matmul_and_mul_write_into_out():
    t = ag.ones(4, 4)
    t[:, 1] = 0
    y3 = ag.rand_like(t)
    r = ag.matmul(t, t.T, out=y3)
    assert r is y3
    np.testing.assert_array_equal(y3.numpy(), t.numpy() @ t.numpy().T)
    z3 = ag.rand_like(t)
    ag.mul(t, t, out=z3)
    np.testing.assert_array_equal(z3.numpy(), t.numpy() ** 2)


@given(shapes(min_dims=1, max_dims=3, max_side=4))
def test_out_holds_the_same_values_as_the_result(shape):
    rng = np.random.default_rng(0)
    a, b = ag.tensor(rng.standard_normal(shape)), ag.tensor(rng.standard_normal(shape))
    for f, args in ((ag.add, (a, b)), (ag.exp, (a,)), (ag.maximum, (a, b)), (ag.where, (a > 0, a, b)),
                    (ag.clamp, (a, -0.5, 0.5))):
        out = ag.empty(shape, dtype=ag.float64)
        assert f(*args, out=out) is out
        np.testing.assert_array_equal(out.numpy(), f(*args).numpy())


def test_the_result_is_cast_to_outs_dtype_where_pytorch_allows_it():
    out = ag.zeros(2)                                     # float32
    ag.add(ag.tensor([1.0, 2.0], dtype=ag.float64), 1, out=out)
    assert out.dtype == ag.float32 and out.tolist() == [2.0, 3.0]
    ag.add(ag.tensor([1, 2]), 1, out=out)                 # int64 into float32: fine
    assert out.tolist() == [2.0, 3.0]
    ag.gt(ag.tensor([1.0, -1.0]), 0, out=out)             # bool into float
    assert out.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match=r"add\(\).*float64.*int64"):
        ag.add(ag.tensor([1.0, 2.0], dtype=ag.float64), 0.5, out=ag.zeros(2, dtype=ag.int64))
    with pytest.raises(RuntimeError, match=r"add\(\).*int64.*bool"):
        ag.add(ag.tensor([1, 2]), 1, out=ag.zeros(2, dtype=ag.bool))


def test_several_results_take_a_tuple_and_indices_need_int64():
    x = ag.tensor([[1.0, 3.0], [4.0, 2.0]])
    v, i = ag.zeros(2), ag.zeros(2, dtype=ag.int64)
    r = ag.max(x, 1, out=(v, i))
    assert r.values is v and r.indices is i
    assert v.tolist() == [3.0, 4.0] and i.tolist() == [1, 0]
    with pytest.raises(RuntimeError, match=r"max\(\).*int64"):
        ag.max(x, 1, out=(ag.zeros(2), ag.zeros(2)))
    with pytest.raises(TypeError, match=r"sort\(\).*2 tensor"):
        ag.sort(x, out=ag.zeros(2, 2))
    s, j = ag.zeros(2, 2), ag.zeros(2, 2, dtype=ag.int64)
    ag.sort(x, dim=0, descending=True, out=(s, j))
    assert s.tolist() == [[4.0, 3.0], [1.0, 2.0]] and j.tolist() == [[1, 0], [0, 1]]


def test_out_of_another_shape_is_resized_with_a_warning_unless_empty():
    b = ag.ones(2)
    out = ag.zeros(3)
    with pytest.warns(UserWarning, match=r"resized.*\[3\].*\[2\]"):
        ag.add(b, b, out=out)
    assert out.shape == (2,) and out.tolist() == [2.0, 2.0]
    empty = ag.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ag.add(b, b, out=empty)
    assert empty.tolist() == [2.0, 2.0]
    base = ag.zeros(6)
    with pytest.raises(RuntimeError, match=r"add\(\).*view.*\(2,\)"):
        ag.add(b, b, out=base[:3])


def test_a_view_as_out_writes_through_to_its_base():
    base = ag.zeros(4)
    ag.add(ag.ones(2), 1, out=base[::2])
    assert base.tolist() == [2.0, 0.0, 2.0, 0.0]


def test_out_may_be_an_input():
    t = ag.tensor([1.0, 2.0])
    ag.add(t, t, out=t)
    assert t.tolist() == [2.0, 4.0]
    m = ag.tensor([[1.0, 1.0], [0.0, 1.0]])
    ag.matmul(m, m, out=m)
    assert m.tolist() == [[1.0, 2.0], [0.0, 1.0]]


def test_with_grad_mode_on_no_argument_may_require_grad():
    a = ag.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add\(\): functions with out=.*requires grad.*no_grad"):
        ag.add(a, 1, out=ag.empty(2))
    with pytest.raises(RuntimeError, match=r"cat\(\).*requires grad"):
        ag.cat([ag.ones(1), a], out=ag.empty(3))
    with pytest.raises(RuntimeError, match=r"add\(\).*requires grad"):
        ag.add(ag.ones(2), 1, out=ag.zeros(2, requires_grad=True))
    with ag.no_grad():
        out = ag.empty(2)
        ag.add(a, 1, out=out)
    assert out.tolist() == [2.0, 2.0] and not out.requires_grad


def test_writing_into_a_saved_tensor_is_caught_at_backward():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    x = ag.tensor([3.0, 4.0])
    loss = (w * x).sum()                 # mul saves x for w's gradient
    ag.add(ag.ones(2), 1, out=x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place|inplace"):
        loss.backward()


def test_creation_functions_make_outs_dtype():
    out = ag.ones(3, dtype=ag.int64)
    ag.zeros(3, out=out)
    assert out.dtype == ag.int64 and out.tolist() == [0, 0, 0]
    f = ag.empty(3)
    ag.arange(3, out=f)
    assert f.dtype == ag.float32 and f.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match=r"zeros\(\).*float64.*float32"):
        ag.zeros(2, out=ag.empty(2), dtype=ag.float64)
    r = ag.empty(2, 3)
    ag.randn(2, 3, out=r)
    assert r.shape == (2, 3) and np.isfinite(r.numpy()).all()


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match=r"add\(\): out= must be a tensor.*ndarray"):
        ag.add(ag.ones(2), 1, out=np.zeros(2))


def test_linalg_and_special_take_out():
    out = ag.empty(())
    ag.linalg.norm(ag.tensor([3.0, 4.0]), out=out)
    assert out.item() == 5.0
    e = ag.empty(2)
    ag.special.expit(ag.zeros(2), out=e)
    assert e.tolist() == [0.5, 0.5]


CASES = [
    ("add", lambda M: (M.tensor([1.0, 2.0], dtype=M.float64), 1.5), lambda M: M.zeros(2)),
    ("mul", lambda M: (M.tensor([1, 2]), M.tensor([3, 4])), lambda M: M.zeros(2, dtype=M.float64)),
    ("sum", lambda M: (M.ones(2, 3, dtype=M.float64), 1), lambda M: M.zeros(2, dtype=M.float64)),
    ("mean", lambda M: (M.ones(2, 3, dtype=M.float64),), lambda M: M.zeros((), dtype=M.float64)),
    ("cat", lambda M: ([M.ones(2), M.zeros(1)],), lambda M: M.zeros(3)),
    ("stack", lambda M: ([M.ones(2), M.zeros(2)], 1), lambda M: M.zeros(0)),
    ("matmul", lambda M: (M.ones(2, 3, dtype=M.float64), M.ones(3, 2, dtype=M.float64)),
     lambda M: M.zeros(2, 2, dtype=M.float64)),
    ("argmax", lambda M: (M.tensor([[1.0, 3.0], [0.0, 2.0]]), 1), lambda M: M.zeros(2, dtype=M.int64)),
    ("cumsum", lambda M: (M.tensor([1.0, 2.0, 3.0]), 0), lambda M: M.zeros(3)),
    ("clamp", lambda M: (M.tensor([-2.0, 0.5, 2.0]), -1, 1), lambda M: M.zeros(3)),
    ("eq", lambda M: (M.tensor([1, 2]), M.tensor([1, 3])), lambda M: M.zeros(2, dtype=M.int64)),
    ("arange", lambda M: (4,), lambda M: M.zeros(4, dtype=M.float64)),
    ("linspace", lambda M: (0, 1, 5), lambda M: M.zeros(5, dtype=M.float64)),
    ("topk", lambda M: (M.tensor([3.0, 1.0, 2.0]), 2), lambda M: (M.zeros(2), M.zeros(2, dtype=M.int64))),
]


@pytest.mark.parametrize("name,args,out", CASES, ids=[c[0] for c in CASES])
def test_out_matches_torch(name, args, out):
    torch = _torch()
    ours_out, theirs_out = out(ag), out(torch)
    getattr(ag, name)(*args(ag), out=ours_out)
    getattr(torch, name)(*args(torch), out=theirs_out)
    ours = ours_out if isinstance(ours_out, tuple) else (ours_out,)
    theirs = theirs_out if isinstance(theirs_out, tuple) else (theirs_out,)
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape)
        assert str(o.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_array_equal(o.numpy(), t.numpy())


@given(st.sampled_from(["float32", "float64", "int64", "bool"]), st.sampled_from(["float32", "float64", "int64", "bool"]))
def test_casting_rule_matches_torch(src, dst):
    """PyTorch's canCast, as its TensorIterator ops (add, mul, exp, ...) apply it. (Some of its ops are
    stricter and want out's dtype to be the result's: neg, abs, clamp, where; the README says so.)"""
    torch = _torch()
    x_ours = ag.tensor([1, 0]).to(getattr(ag, src))
    x_torch = torch.tensor([1, 0]).to(getattr(torch, src))
    outcomes = []
    for M, x in ((ag, x_ours), (torch, x_torch)):
        try:
            o = M.zeros(2, dtype=getattr(M, dst))
            M.add(x, x, out=o)
            outcomes.append(("ok", o.tolist()))
        except RuntimeError:
            outcomes.append(("refused", None))
    assert outcomes[0] == outcomes[1], (src, dst, outcomes)

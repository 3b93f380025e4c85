"""Gradient clipping: nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch semantics)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core.testing import shapes
from nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm


def _params(grads, dtype=np.float64):
    ps = []
    for g in grads:
        p = ag.tensor(np.zeros(np.shape(g), dtype), requires_grad=True)
        p.grad = None if g is None else ag.tensor(np.asarray(g, dtype))
        ps.append(p)
    return ps


def test_returns_the_total_norm_and_scales_to_max_norm():
    ps = _params([[3.0, 0.0], [[0.0], [4.0]]])
    total = clip_grad_norm_(ps, max_norm=1.0)
    assert isinstance(total, ag.Tensor) and total.shape == () and total.dtype == np.float64
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(ps[0].grad._data, [3 / (5 + 1e-6), 0.0])
    np.testing.assert_allclose(ps[1].grad._data, [[0.0], [4 / (5 + 1e-6)]])
    assert ps[0].grad._version == 1


def test_below_max_norm_nothing_changes():
    ps = _params([[0.3, 0.4]])
    assert float(clip_grad_norm_(ps, 1.0)) == pytest.approx(0.5)
    np.testing.assert_array_equal(ps[0].grad._data, [0.3, 0.4])


@pytest.mark.parametrize("norm_type,expected", [(1, 10.0), (2.0, np.sqrt(30.0)), (float("inf"), 4.0),
                                                ("inf", 4.0), (3, 100.0 ** (1 / 3)),
                                                (0, 3.0)])  # as PyTorch: the 0-"norm" of the per-tensor counts
def test_norm_types(norm_type, expected):
    ps = _params([[1.0, -2.0], [3.0], [-4.0]])
    assert float(get_total_norm([p.grad for p in ps], norm_type)) == pytest.approx(expected)
    assert float(clip_grad_norm_(ps, 1e9, norm_type=norm_type)) == pytest.approx(expected)


def test_parameters_without_grad_are_skipped_and_a_single_tensor_is_accepted():
    ps = _params([None, [6.0, 8.0]])
    assert float(clip_grad_norm_(ps, 5.0)) == pytest.approx(10.0)
    assert ps[0].grad is None
    assert float(clip_grad_norm_(ps[1], 1.0)) == pytest.approx(5.0, rel=1e-5)
    assert float(clip_grad_norm_(_params([None]), 1.0)) == 0.0
    assert float(clip_grad_norm_([], 1.0)) == 0.0


def test_nonfinite_norm():
    ps = _params([[np.inf, 1.0]])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(ps[0].grad._data, [np.inf, 1.0])  # nothing changed
    assert np.isinf(float(clip_grad_norm_(ps, 1.0)))


def test_clip_grad_value():
    ps = _params([[-3.0, 0.5, 2.0], None])
    clip_grad_value_(ps, 1.0)
    np.testing.assert_array_equal(ps[0].grad._data, [-1.0, 0.5, 1.0])
    assert ps[1].grad is None


def test_clip_grads_with_norm_uses_a_given_norm():
    ps = _params([[2.0, 0.0]])
    clip_grads_with_norm_(ps, 1.0, ag.tensor(4.0, dtype=np.float64))
    np.testing.assert_allclose(ps[0].grad._data, [2.0 / (4 + 1e-6), 0.0])


@pytest.mark.parametrize("call,match", [
    (lambda ps: clip_grad_norm_(ps, -1.0), "max_norm must be >= 0"),
    (lambda ps: clip_grad_norm_(ps, "big"), "max_norm must be a real number"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="two"), "norm_type"),
    (lambda ps: clip_grad_value_(ps, -0.5), "clip_value must be >= 0"),
    (lambda ps: clip_grad_value_(ps, None), "clip_value must be a real number"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call(_params([[1.0, 2.0]]))


@given(shape_list=st.lists(shapes(min_dims=0, max_dims=3, max_side=5), min_size=1, max_size=4),
       norm_type=st.sampled_from([1.0, 2.0, 3.5, float("inf")]), max_norm=st.floats(0.01, 10.0),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_matches_torch(shape_list, norm_type, max_norm, dtype, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    grads = [np.asarray(rng.standard_normal(s) * 3, dtype=dtype) for s in shape_list]
    ours = _params(grads, dtype)
    theirs = [torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert total.dtype == dtype
    np.testing.assert_allclose(float(total), float(ttotal), rtol=tol)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad._data, t.grad.numpy(), rtol=tol, atol=tol * 1e-3)
    clip_grad_value_(ours, max_norm / 4)
    torch.nn.utils.clip_grad_value_(theirs, max_norm / 4)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad._data, t.grad.numpy(), rtol=tol, atol=tol * 1e-3)

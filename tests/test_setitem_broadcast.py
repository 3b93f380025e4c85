"""Writing through an index into a broadcast (expanded) view, as PyTorch allows: the write is refused only
when the selected region itself has two elements on one memory location. Checked with and without
recording, against PyTorch where it is installed and against the values written without it."""
import numpy as np
import pytest

import autograd_core as ag

try:
    import torch
except ImportError:
    torch = None

# (base shape, expand to, index): each region has no element twice in memory
ALLOWED = [((), (3,), 1), ((2,), (3, 2), 1), ((2,), (3, 2), (0, slice(None))), ((), (2,), (None, slice(None, None, 2))),
           ((1, 3), (4, 3), (slice(2, 3),)), ((2, 1), (2, 5), (slice(None), 3))]
REFUSED = [((), (3,), Ellipsis), ((), (3,), slice(0, 2)), ((2,), (3, 2), (slice(None), 0))]


def _run(M, base, to, idx, grad):
    x = M.tensor(np.arange(1.0, 1.0 + np.prod(base, dtype=int)).reshape(base), dtype=M.float64, requires_grad=grad)
    value = x.sum() * 10 if grad else 7.0
    b = x.clone() if grad else x.detach().clone()
    v = b.expand(*to)
    v[idx] = value
    out = (b * M.tensor(np.linspace(1.0, 2.0, b.numel()).reshape(base))).sum()
    g = M.autograd.grad(out, x)[0] if grad else None
    return b.detach().numpy().copy(), v.detach().numpy().copy(), None if g is None else g.numpy().copy()


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("base,to,idx", ALLOWED)
def test_a_region_without_shared_elements_may_be_written(base, to, idx, grad):
    b, v, g = _run(ag, base, to, idx, grad)
    # the base changed where the region lies, and the view shows it everywhere
    assert np.array_equal(v, np.broadcast_to(b, to))
    ref = np.arange(1.0, 1.0 + np.prod(base, dtype=int)).reshape(base)
    assert not np.array_equal(b, ref)
    if torch is not None:
        tb, tv, tg = _run(torch, base, to, idx, grad)
        np.testing.assert_array_equal(b, tb)
        np.testing.assert_array_equal(v, tv)
        if grad:
            np.testing.assert_allclose(g, tg, rtol=1e-12)


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("base,to,idx", REFUSED)
def test_a_region_with_shared_elements_is_refused_and_nothing_changes(base, to, idx, grad):
    x = ag.tensor(np.arange(1.0, 1.0 + np.prod(base, dtype=int)).reshape(base), requires_grad=grad)
    b = x.clone() if grad else x.detach().clone()
    before = b.detach().numpy().copy()
    with pytest.raises(RuntimeError, match="clone"):
        b.expand(*to)[idx] = 7.0
    np.testing.assert_array_equal(b.detach().numpy(), before)
    if torch is not None:
        tb = torch.tensor(before, requires_grad=False)
        with pytest.raises(RuntimeError):
            tb.expand(*to)[idx] = 7.0


def test_an_advanced_index_into_a_broadcast_view_is_refused():
    """PyTorch still runs ``index_put_`` on an expanded tensor, with a deprecation warning that says to
    clone it first; here it is refused with that advice, and nothing is written."""
    b = ag.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="clone"):
        b.expand(3, 2)[[0, 1]] = 7.0
    assert b.tolist() == [1.0, 2.0]

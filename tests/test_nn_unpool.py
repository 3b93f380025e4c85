"""max_unpool1d/2d and MaxUnpool1d/2d: PyTorch's values and input gradients (float64) after max_pool with
return_indices, gradcheck over hypothesis-drawn sizes, and errors for indices outside the output."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck

CASES = [((2, 3, 6, 8), 2, 2, 0, None), ((2, 3, 7, 7), 3, 2, 1, None), ((3, 6, 6), 2, None, 0, None),
         ((1, 2, 5, 5), 2, 2, 0, (1, 2, 5, 5)), ((2, 3, 6, 7), 2, 2, 0, (6, 7))]


@pytest.mark.parametrize("shape,k,s,p,out_size", CASES)
def test_max_unpool2d_matches_torch(shape, k, s, p, out_size):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape)
    x, tx = ag.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    o, i = F.max_pool2d(x, k, s, p, return_indices=True)
    to, ti = torch.nn.functional.max_pool2d(tx, k, s, p, return_indices=True)
    u = F.max_unpool2d(o, i, k, s, p, output_size=out_size)
    tu = torch.nn.functional.max_unpool2d(to, ti, k, s, p, output_size=out_size)
    np.testing.assert_array_equal(u.detach().numpy(), tu.detach().numpy())
    w = rng.standard_normal(u.shape)
    (u * ag.tensor(w)).sum().backward()
    (tu * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_max_unpool1d_and_layers_match_torch():
    torch = pytest.importorskip("torch")
    x0 = np.random.default_rng(1).standard_normal((2, 3, 8))
    o, i = nn.MaxPool1d(2, return_indices=True)(ag.tensor(x0))
    to, ti = torch.nn.MaxPool1d(2, return_indices=True)(torch.tensor(x0))
    np.testing.assert_array_equal(nn.MaxUnpool1d(2)(o, i).numpy(), torch.nn.MaxUnpool1d(2)(to, ti).numpy())
    x0 = np.random.default_rng(2).standard_normal((1, 2, 4, 4))
    o, i = nn.MaxPool2d(2, return_indices=True)(ag.tensor(x0))
    to, ti = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x0))
    np.testing.assert_array_equal(nn.MaxUnpool2d(2)(o, i).numpy(), torch.nn.MaxUnpool2d(2)(to, ti).numpy())


@given(h=st.integers(2, 6), w=st.integers(2, 6), k=st.integers(1, 2), seed=st.integers(0, 999))
@settings(max_examples=20, deadline=None)
def test_max_unpool2d_gradcheck(h, w, k, seed):
    x0 = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    _, idx = F.max_pool2d(ag.tensor(x0), k, return_indices=True)
    pooled = ag.tensor(np.random.default_rng(seed + 1).standard_normal(idx.shape), requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, idx, k, output_size=(h, w)), (pooled,))


def test_max_unpool_refuses_indices_outside_the_output():
    o, i = F.max_pool2d(ag.randn(1, 1, 6, 7), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"max_unpool2d: an index is outside the output planes of \(6, 6\).*give "
                                         r"output_size"):
        F.max_unpool2d(o, i, 2)
    with pytest.raises(TypeError, match="max_unpool2d: indices must be integers"):
        F.max_unpool2d(o, i.float(), 2)

"""PyTorch's sparse COO API, stored dense: values and gradients as PyTorch's sparse tensors give."""
import numpy as np
import pytest

import autograd_core as ag

IDX = np.array([[0, 1, 1, 2], [1, 0, 0, 2]])
VAL = np.array([2.0, 3.0, 4.0, 5.0])


def test_sparse_coo_tensor_adds_repeated_indices_and_infers_the_size():
    a = ag.sparse_coo_tensor(ag.tensor(IDX), ag.tensor(VAL))
    want = np.zeros((3, 3))
    want[0, 1], want[1, 0], want[2, 2] = 2.0, 7.0, 5.0        # (1, 0) appears twice: 3 + 4
    np.testing.assert_array_equal(a.to_dense()._data, want)
    assert a.dtype == ag.float64 and a.shape == (3, 3)
    assert ag.sparse_coo_tensor(IDX, [1.0, 1.0, 1.0, 1.0], (4, 3)).dtype == ag.float32   # Python floats: default
    hybrid = ag.sparse_coo_tensor(ag.tensor([[0, 2]]), ag.ones(2, 3))                     # a dense trailing dim
    np.testing.assert_array_equal(hybrid._data, [[1, 1, 1], [0, 0, 0], [1, 1, 1]])


def test_gradients_reach_the_values_through_spmm():
    v = ag.tensor(VAL, requires_grad=True)
    a = ag.sparse_coo_tensor(ag.tensor(IDX), v, (3, 3))
    b = ag.tensor(np.arange(6.0).reshape(3, 2))
    (ag.spmm(a, b) * 2).sum().backward()
    # d/dv_k of sum(2 A B) = 2 sum_j B[col_k, j]
    np.testing.assert_array_equal(v.grad._data, 2 * b._data.sum(1)[IDX[1]])


def test_to_sparse_and_back_keep_the_values_and_the_gradient():
    x = ag.tensor([[0.0, 2.0], [3.0, 0.0]], requires_grad=True)
    s = x.to_sparse()
    assert s is not x and s.to_dense() is s and s.coalesce() is s and s.is_coalesced()
    (ag.sparse.mm(s, ag.ones(2, 1)).sum() + ag.sparse.sum(s)).backward()
    np.testing.assert_array_equal(x.grad._data, np.full((2, 2), 2.0))


def test_bad_coo_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="2-D integer tensor"):
        ag.sparse_coo_tensor(ag.tensor([0, 1]), ag.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="one row per index column"):
        ag.sparse_coo_tensor(ag.tensor(IDX), ag.tensor([1.0]))
    with pytest.raises(ValueError, match="out of range"):
        ag.sparse_coo_tensor(ag.tensor(IDX), ag.tensor(VAL), (2, 3))


def test_matches_torch():
    torch = pytest.importorskip("torch")
    v, tv = ag.tensor(VAL, requires_grad=True), torch.tensor(VAL, requires_grad=True)
    a = ag.sparse_coo_tensor(ag.tensor(IDX), v, (3, 4))
    t = torch.sparse_coo_tensor(torch.tensor(IDX), tv, (3, 4))
    w = np.random.default_rng(0).standard_normal((4, 2))
    out = ag.sparse.mm(a, ag.tensor(w))
    tout = torch.sparse.mm(t, torch.tensor(w))
    np.testing.assert_allclose(out._data, tout.detach().numpy())
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    np.testing.assert_allclose(v.grad._data, tv.grad.numpy())
    np.testing.assert_array_equal((ag.eye(3) + ag.sparse_coo_tensor(IDX, ag.ones(4), (3, 3)))._data,
                                  (torch.eye(3) + torch.sparse_coo_tensor(torch.tensor(IDX), torch.ones(4), (3, 3))).numpy())


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_size_as_a_keyword(name):
    f = getattr(ag, name)
    assert f(size=(2, 3)).shape == (2, 3) == f(2, 3).shape == f((2, 3)).shape
    with pytest.raises(TypeError, match=f"{name}: give the size"):
        f(2, size=(3,))

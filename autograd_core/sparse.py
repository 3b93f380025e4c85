"""PyTorch's sparse COO API for scripts that build a matrix sparsely and multiply with it: the tensors
are stored dense here.

``sparse_coo_tensor(indices, values, size)`` gives the dense tensor with ``values`` added at
``indices`` (repeated indices add up, as PyTorch's ``coalesce``); ``Tensor.to_sparse()`` /
``to_dense()`` / ``coalesce()`` return the tensor's values unchanged; ``spmm`` and ``sparse.mm`` are
``mm``, ``sparse.addmm`` is ``addmm`` and ``sparse.sum`` is ``sum``. Values and gradients are the
same as PyTorch's sparse ones; the memory is a dense matrix's (an N x N adjacency matrix of 10 000
nodes takes 400 MB in float32). ``is_sparse`` stays False.

    >>> import autograd_core as ag
    >>> a = ag.sparse_coo_tensor(ag.tensor([[0, 1, 1], [1, 0, 0]]), ag.tensor([2.0, 3.0, 4.0]), (2, 2))
    >>> a.to_dense()
    tensor([[0., 2.],
            [7., 0.]])
    >>> ag.sparse.mm(a, ag.ones(2, 1))
    tensor([[2.],
            [7.]])
"""
from __future__ import annotations

import numpy as np

from .ops.linalg import addmm as _addmm
from .ops.linalg import mm as _mm
from .ops.reduce import sum as _sum
from .ops.registry import method
from .ops.scatter import index_put
from .tensor import Tensor, _check_dtype, tensor

__all__ = ["sparse_coo_tensor", "spmm", "mm", "addmm", "sum"]


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """The (dense) tensor of shape ``size`` with ``values[k]`` added at position ``indices[:, k]``.

    indices: (sparse_dims, nnz) integers; values: (nnz, *dense_dims); size: sparse dims then dense dims
    (default: each sparse dim's largest index + 1, then values' trailing dims). Gradients flow to
    ``values`` (a tensor that requires grad). PyTorch: ``torch.sparse_coo_tensor``.

    >>> import autograd_core as ag
    >>> ag.sparse_coo_tensor(ag.tensor([[0, 2]]), ag.tensor([1.0, 5.0]))
    tensor([1., 0., 5.])
    """
    idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if idx.ndim != 2 or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"sparse_coo_tensor: indices must be a 2-D integer tensor (sparse_dims, nnz), got shape "
                         f"{idx.shape} and dtype {idx.dtype}")
    idx = idx.astype(np.int64, copy=False)
    v = values if isinstance(values, Tensor) else tensor(values)
    if dtype is not None:
        _check_dtype(np.dtype(dtype))
        v = v.astype(dtype)
    k, nnz = idx.shape
    if v.ndim < 1 or v.shape[0] != nnz:
        raise ValueError(f"sparse_coo_tensor: values must have one row per index column ({nnz}), got shape "
                         f"{tuple(v.shape)}")
    if nnz and idx.min() < 0:
        raise ValueError("sparse_coo_tensor: indices must be non-negative")
    dense_dims = tuple(v.shape[1:])
    if size is None:
        size = tuple(int(m) + 1 for m in idx.max(axis=1)) + dense_dims if nnz else (0,) * k + dense_dims
    size = tuple(int(s) for s in (size if not isinstance(size, int) else (size,)))
    if len(size) != k + len(dense_dims) or tuple(size[k:]) != dense_dims:
        raise ValueError(f"sparse_coo_tensor: size {size} doesn't match {k} sparse dims of indices and values of "
                         f"shape {tuple(v.shape)} (expected {k} sizes, then {dense_dims})")
    if nnz and any(int(m) >= s for m, s in zip(idx.max(axis=1), size)):
        raise ValueError(f"sparse_coo_tensor: an index is out of range for size {size}")
    out = Tensor(np.zeros(size, v.dtype))
    out = index_put(out, tuple(Tensor(row) for row in idx), v, accumulate=True)
    if requires_grad:
        out = out.detach().requires_grad_(True)
    return out


def spmm(input, mat2):  # noqa: A002
    """``input @ mat2`` for a (sparse here: dense) matrix ``input``. PyTorch: ``torch.spmm``.

    >>> import autograd_core as ag
    >>> ag.spmm(ag.eye(2).to_sparse(), ag.ones(2, 1))
    tensor([[1.],
            [1.]])
    """
    return _mm(input, mat2)


def _same(self):
    """The tensor itself: sparse tensors are stored dense here (see ``autograd_core.sparse``).

    >>> import autograd_core as ag
    >>> t = ag.tensor([[0.0, 1.0]])
    >>> t.to_dense() is t, t.coalesce() is t
    (True, True)
    """
    return self


def _to_sparse(self, *args, **kwargs):
    """A copy of the tensor standing for its sparse form (stored dense here; see
    ``autograd_core.sparse``); the gradient flows back through it. PyTorch: ``Tensor.to_sparse``.

    >>> import autograd_core as ag
    >>> ag.tensor([[0.0, 2.0]]).to_sparse().to_dense()
    tensor([[0., 2.]])
    """
    return self.clone()


for _name, _fn in dict(to_sparse=_to_sparse, to_sparse_coo=_to_sparse, to_dense=_same, coalesce=_same).items():
    method(_name, _fn)


def _is_coalesced(self):
    """True: a tensor stored dense has no repeated indices to merge. PyTorch: ``Tensor.is_coalesced``.

    >>> import autograd_core as ag
    >>> ag.eye(2).to_sparse().is_coalesced()
    True
    """
    return True


method("is_coalesced", _is_coalesced)

# ``torch.sparse``: the functions of this module under their PyTorch names (mm, addmm, sum)
mm = _mm
addmm = _addmm
sum = _sum  # noqa: A001  (torch.sparse.sum)

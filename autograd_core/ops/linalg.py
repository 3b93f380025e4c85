"""Linear algebra: matmul (batched, broadcast, 1-D as numpy), dot, outer, einsum."""
from __future__ import annotations

import math

import numpy as np

from ..errors import OpError
from ..kernels import rows as _krows
from ..kernels.blas import matmul as _matmul2d
from ..kernels.blas import matmuls as _matmuls
from ..tensor import Tensor
from . import shape as _shape_ops
from .registry import defop, method, xp


def _matmul(a, b):
    """Matrix product with NumPy's/PyTorch's rules: (..., n, k) @ (..., k, m) -> (..., n, m), the batch dims
    broadcast; a 1-D operand is promoted to a matrix (a row on the left, a column on the right) and that
    dim is dropped from the result.

    d/dA = G B^T, d/dB = A^T G (summed over broadcast batch dims). PyTorch: ``torch.matmul``; also
    ``a @ b``.

    >>> import autograd_core as ag
    >>> a = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ag.matmul(a, ag.tensor([1.0, 1.0]))
    tensor([3., 7.])
    >>> (a @ a).shape, ag.matmul(ag.ones(5, 2, 3), ag.ones(3, 4)).shape
    ((2, 2), (5, 2, 4))
    """
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise OpError(f"matmul: both operands need at least 1 dim, got shapes {np.shape(a)} and {np.shape(b)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        raise OpError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned "
                         f"({ka} != {kb})")
    if a.ndim >= 2 and b.ndim >= 2:
        try:
            return _matmul2d(a, b)     # batched and strided too, on our thread pool (kernels.blas)
        except ValueError:
            raise OpError(f"matmul: batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} "
                             f"don't broadcast") from None
    try:
        return np.matmul(a, b)
    except ValueError:
        raise OpError(f"matmul: batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} "
                         f"don't broadcast") from None


def _unsq(t, axis):
    return t.reshape(t.shape[:axis] + (1,) + t.shape[axis:]) if axis >= 0 else \
        t.reshape(t.shape + (1,)) if axis == -1 else t.reshape(t.shape[:axis + 1] + (1,) + t.shape[axis + 1:])


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:
        # ans (..., n) = a (..., n, k) @ b (k): ga = g[..., None] * b
        if a.ndim == 1:
            return g * b
        return _unsq(g, -1) * b
    if a.ndim == 1:
        # ans (..., m) = a (k) @ b (..., k, m): ga = b @ g[..., None]
        return xp.matmul(b, _unsq(g, -1)).reshape(g.shape[:-1] + (b.shape[-2],))
    return xp.matmul(g, b.swapaxes(-1, -2))


def _matmul_vjp_b(g, ans, a, b):
    if b.ndim == 1:
        if a.ndim == 1:
            return g * a
        # gb (k) = sum over batch and n of a * g[..., None]
        return xp.matmul(a.swapaxes(-1, -2), _unsq(g, -1)).reshape(g.shape[:-1] + (a.shape[-1],))
    if a.ndim == 1:
        return _unsq(a, -1) * _unsq(g, -2)
    return xp.matmul(a.swapaxes(-1, -2), g)


_matmul_op = defop("matmul", _matmul, (_matmul_vjp_a, _matmul_vjp_b))


def _stacked_copy(x):
    """x cloned (on the tape) when it is a stack of matrices over an expanded batch dim (stride 0, size > 1):
    PyTorch's matmul folds the batch dims into one, which copies such a tensor, so its backward keeps
    the copy and an in-place change of the expanded tensor's base afterwards is no error there."""
    if isinstance(x, Tensor) and x.ndim >= 3 and x.requires_grad:
        d = x._data
        if any(st == 0 and n > 1 for st, n in zip(d.strides[:-2], d.shape[:-2])):
            return x.clone()
    return x


def matmul(input, other):  # noqa: A002  (PyTorch's argument names)
    return _matmul_op(_stacked_copy(input), _stacked_copy(other))


matmul.__doc__ = _matmul_op.__doc__


def dot(a, b):
    """Inner product ``sum(a * b)`` of two 1-D tensors of one length: a 0-d tensor.

    d/da = b, d/db = a. PyTorch: ``torch.dot``.

    >>> import autograd_core as ag
    >>> ag.dot(ag.tensor([1.0, 2.0, 3.0]), ag.tensor([4.0, 5.0, 6.0]))
    tensor(32.)
    """
    if a.ndim != 1 or b.ndim != 1:
        raise OpError(f"dot: expects two 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        raise OpError(f"dot: shapes {tuple(a.shape)} and {tuple(b.shape)} differ")
    return matmul(a, b)


def outer(a, b):
    """Outer product of 1-D tensors: a (n,), b (m,) -> (n, m) with ``out[i, j] = a[i] * b[j]``.

    d/da = G b, d/db = G^T a. PyTorch: ``torch.outer``.

    >>> import autograd_core as ag
    >>> ag.outer(ag.tensor([1, 2]), ag.tensor([1, 10, 100]))
    tensor([[  1,  10, 100],
            [  2,  20, 200]])
    """
    if a.ndim != 1 or b.ndim != 1:
        raise OpError(f"outer: expects two 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


# -- linear (a dense layer as one op) -------------------------------------------------------------
def _linear(x, w, b=None):
    """y = x W^T + b: x (*, in), W (out, in), b (out,) -> (*, out)."""
    y = _matmul2d(x, w.T) if x.ndim >= 2 else x @ w.T   # (B, T, C) input: one (B T, C) product
    if b is not None and _krows.add_rows(y, b) is None:
        y += b  # y is a fresh array
    return y


def _flat2(t):
    # the leading size spelled out: reshape(-1, 0) is ambiguous for an empty array (a Linear with no features)
    return t.reshape(int(np.prod(t.shape[:-1], dtype=np.int64)), t.shape[-1])


def _products(*pairs):
    """``[a @ b for a, b in pairs]``: arrays' products side by side on our threads (``kernels.blas.matmuls``),
    Tensors' (a rule run with ``create_graph``) on the tape."""
    if all(type(t) is np.ndarray and t.size for pair in pairs for t in pair):
        return _matmuls(*pairs)
    return [xp.matmul(a, b) for a, b in pairs]


def _linear_vjp(g, ans, x, w, b=None, *, needs):
    # One node instead of permute + matmul + add, and a contiguous weight gradient g^T x. The bias
    # gradient first, while more of g is still in cache than after the two products (a small GPT
    # step's bias sums: 187 against 203 us each).
    gb = xp.sum(_flat2(g), axis=(0,)) if len(needs) > 2 and needs[2] else None
    if needs[0] and needs[1]:
        gx, gw = _products((g, w), (_flat2(g).swapaxes(0, 1), _flat2(x)))
    else:
        gx = xp.matmul(g, w) if needs[0] else None
        gw = xp.matmul(_flat2(g).swapaxes(0, 1), _flat2(x)) if needs[1] else None
    return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


_linear_op = defop("linear", _linear, vjp=_linear_vjp)


def linear(x, weight, bias=None):
    """Affine map ``y = x W^T + b``: x (*, in), W (out, in), b (out,) or None -> (*, out).

    d/dx = G W, d/dW = G^T x, d/db = G summed over the leading dims. PyTorch:
    ``torch.nn.functional.linear``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([[1.0, 2.0]])
    >>> w = ag.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    >>> ag.linear(x, w, ag.tensor([0.0, 0.0, 1.0]))
    tensor([[1., 3., 5.]])
    """
    if weight.ndim != 2:
        raise OpError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise OpError(f"linear: input shape {tuple(x.shape)} doesn't match weight shape {tuple(weight.shape)}: "
                         f"the last input dim must be in_features={weight.shape[1]}")
    if bias is not None:
        if tuple(bias.shape) != (weight.shape[0],):
            raise OpError(f"linear: bias shape {tuple(bias.shape)} doesn't match weight shape "
                             f"{tuple(weight.shape)}: expected ({weight.shape[0]},)")
        return _linear_op(x, weight, bias)
    return _linear_op(x, weight)


# -- einsum ------------------------------------------------------------------------------------
def _parse(subscripts, n):
    s = subscripts.replace(" ", "")
    if "." in s:
        raise OpError("einsum: ellipsis ('...') is not supported; write the dims out")
    if "->" in s:
        ins, out = s.split("->")
    else:
        ins = s
        letters = ins.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if len(ins) != n:
        raise OpError(f"einsum: {len(ins)} operand subscripts for {n} operands in {subscripts!r}")
    return ins, out


def _spell_out_ellipsis(subscripts, operands):
    """(subscripts with each "..." replaced by letters of their own, the operands with size-1 ellipsis dims
    expanded to the broadcast size): the einsum op only sees named dims."""
    s = subscripts.replace(" ", "")
    lhs, arrow, out = s.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise OpError(f"einsum: {len(ins)} operand subscripts for {len(operands)} operands in {subscripts!r}")
    for sub in ins + ([out] if arrow else []):
        if sub.replace("...", "").count(".") or sub.count("...") > 1:
            raise OpError(f"einsum: {sub!r} in {subscripts!r}: an ellipsis is three dots, at most once per operand")
    free = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in s]
    counts = []
    for sub, o in zip(ins, operands):
        k = np.ndim(o) - len(sub.replace("...", "")) if "..." in sub else 0
        if k < 0:
            raise OpError(f"einsum: subscript {sub!r} names more dims than its operand has (shape "
                             f"{tuple(np.shape(o))})")
        counts.append(k)
    E = max(counts)
    ell = "".join(free[:E])
    size = {}
    for sub, o, k in zip(ins, operands, counts):
        at = sub.index("...") if "..." in sub else 0
        for j, c in enumerate(ell[E - k:]):
            n = np.shape(o)[at + j]
            if n != 1 and size.get(c, 1) not in (1, n):
                raise OpError(f"einsum: the dims that '...' stands for don't broadcast: {size[c]} against {n} "
                                 f"in {subscripts!r} with shapes {[tuple(np.shape(x)) for x in operands]}")
            size[c] = n if n != 1 else size.get(c, 1)
    new_ins, new_ops = [], []
    for sub, o, k in zip(ins, operands, counts):
        if "..." in sub:
            at = sub.index("...")
            letters = ell[E - k:]
            shape = tuple(np.shape(o))
            want = shape[:at] + tuple(size[c] for c in letters) + shape[at + k:]
            if want != shape:
                o = _shape_ops.broadcast_to(o if isinstance(o, Tensor) else Tensor(np.asarray(o)), want)
            sub = sub.replace("...", letters)
        new_ins.append(sub)
        new_ops.append(o)
    if arrow:
        out = out.replace("...", ell)
    else:
        named = "".join(new_ins).replace(",", "")
        out = ell + "".join(sorted(c for c in set(named) if named.count(c) == 1 and c not in ell))
    return ",".join(new_ins) + "->" + out, tuple(new_ops)


def _einsum(*ops, subscripts):
    return np.einsum(subscripts, *ops, optimize=len(ops) > 2)


def _einsum_vjp(g, ans, *ops, needs, subscripts):
    ins, out = _parse(subscripts, len(ops))
    grads = []
    for i, need in enumerate(needs):
        if not need:
            grads.append(None)
            continue
        sub = ins[i]
        # a letter repeated in operand i ("ii", "iji") reads only its diagonal: the gradient is found for the
        # operand u with each letter once (u[..] = x[..] on the diagonal), then put back on the diagonal
        uniq = "".join(dict.fromkeys(sub))
        size = {c: ops[i].shape[k] for k, c in enumerate(sub)}
        others = [(ins[j], ops[j]) for j in range(len(ops)) if j != i]
        present = set(out).union(*[set(s) for s, _ in others])
        kept = "".join(c for c in uniq if c in present)
        spec = ",".join([out] + [s for s, _ in others]) + "->" + kept
        gi = xp.einsum(spec, g, *[o for _, o in others])
        if kept != uniq:
            # indices summed only inside operand i: broadcast the gradient back along them
            shape = tuple(size[c] if c in present else 1 for c in uniq)
            gi = xp.broadcast_to(gi.reshape(shape), tuple(size[c] for c in uniq))
        if uniq != sub:
            gi = _einsum_on_diagonal(gi, uniq, sub, size, subscripts)
        grads.append(gi)
    return grads


def _einsum_on_diagonal(gu, uniq, sub, size, subscripts):
    """The array over ``sub`` (letters repeated) that is ``gu`` (over ``uniq``, each letter once) where the
    repeated letters' indices agree and 0 elsewhere: d x[..i..i..] / d u[..i..] = delta, written as an
    einsum of ``gu`` with one identity matrix per repeat (each repeat renamed to an unused letter)."""
    unused = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in subscripts)
    seen, fresh, pairs = set(), "", []
    for c in sub:
        if c in seen:
            f = next(unused)
            fresh += f
            pairs.append(c + f)
        else:
            seen.add(c)
            fresh += c
    eyes = [np.eye(size[p[0]], dtype=np.result_type(gu.dtype, np.float32) if gu.dtype.kind != "f" else gu.dtype)
            for p in pairs]
    return xp.einsum(",".join([uniq] + pairs) + "->" + fresh, gu, *eyes)


_einsum_op = defop("einsum", _einsum, vjp=_einsum_vjp)


def einsum(subscripts, *operands):
    """Einstein summation over tensors with NumPy's subscripts (``"ij,jk->ik"``; explicit or implicit
    output; ``"..."`` stands for the dims not named, which broadcast across operands, aligned from the
    right, as in PyTorch); the operands may also come as one list.

    Each operand's gradient is the einsum of the upstream gradient with the other operands. PyTorch:
    ``torch.einsum``.

    >>> import autograd_core as ag
    >>> a = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ag.einsum("ij,j->i", a, ag.tensor([1.0, 1.0]))
    tensor([3., 7.])
    >>> ag.einsum("ii", a)
    tensor(5.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if "." in subscripts:
        subscripts, operands = _spell_out_ellipsis(subscripts, operands)
    ins, _ = _parse(subscripts, len(operands))
    for sub, o in zip(ins, operands):
        if len(sub) != np.ndim(o):
            raise OpError(f"einsum: subscript {sub!r} has {len(sub)} indices but its operand has shape "
                             f"{tuple(np.shape(o))}")
    return _einsum_op(*operands, subscripts=subscripts)


def _xp_einsum(spec, *ops):
    if any(isinstance(o, Tensor) for o in ops):
        return einsum(spec, *ops)
    return np.einsum(spec, *ops, optimize=len(ops) > 2)


xp.einsum = _xp_einsum

method("matmul", matmul)
method("__matmul__", matmul)
method("__rmatmul__", lambda self, other: matmul(other, self))
method("dot", dot)
method("outer", outer)


# -- mm, bmm, norm (PyTorch's names) ---------------------------------------------------------------
def mm(input, mat2):  # noqa: A002  (PyTorch's argument names)
    """Matrix product of two 2-D tensors: (n, k) @ (k, m) -> (n, m); no broadcasting (PyTorch's ``mm``).

    >>> ag.mm(ag.ones(2, 3), ag.ones(3, 4)).shape
    (2, 4)
    """
    if np.ndim(input) != 2 or np.ndim(mat2) != 2:
        raise OpError(f"mm: expects two 2-D tensors, got shapes {tuple(np.shape(input))} and "
                         f"{tuple(np.shape(mat2))}; use matmul for batched or 1-D operands")
    return matmul(input, mat2)


def bmm(input, mat2):  # noqa: A002
    """Batched matrix product: (b, n, k) @ (b, k, m) -> (b, n, m), same batch size, no broadcasting
    (PyTorch's ``bmm``).

    >>> ag.bmm(ag.ones(5, 2, 3), ag.ones(5, 3, 4)).shape
    (5, 2, 4)
    """
    sa, sb = tuple(np.shape(input)), tuple(np.shape(mat2))
    if len(sa) != 3 or len(sb) != 3:
        raise OpError(f"bmm: expects two 3-D tensors (batch, n, k) and (batch, k, m), got shapes {sa} and {sb}")
    if sa[0] != sb[0]:
        raise OpError(f"bmm: batch sizes differ: shapes {sa} and {sb}")
    return matmul(input, mat2)


def _kept(a, shape, axis, keepdims):
    """A reduced array/tensor reshaped so that it broadcasts against the input ``shape``."""
    if keepdims:
        return a
    return a.reshape(tuple(1 if axis is None or i in axis else s for i, s in enumerate(shape)))


def _vector_norm(x, ord=2.0, axis=None, keepdims=False):
    """The p-norm of ``x`` over ``axis`` (all if None): (sum |x|^p)^(1/p); p = inf / -inf give max / min |x|,
    p = 0 the number of non-zeros."""
    a = np.abs(x)
    with np.errstate(all="ignore"):
        if ord == 2:
            return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
        if ord == 1:
            return np.sum(a, axis=axis, keepdims=keepdims)
        if ord == np.inf:
            return np.max(a, axis=axis, keepdims=keepdims, initial=0)
        if ord == -np.inf:
            return np.min(a, axis=axis, keepdims=keepdims, initial=np.inf)
        if ord == 0:
            return np.sum(a != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
        return np.sum(a ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _vector_norm_vjp(g, ans, x, ord=2.0, axis=None, keepdims=False):
    # d||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1); 0 where the norm is 0 (PyTorch's subgradient).
    g = _kept(g, x.shape, axis, keepdims)
    n = _kept(ans, x.shape, axis, keepdims)
    if ord == 0:
        return xp.broadcast_to(g * 0, x.shape)
    if ord in (np.inf, -np.inf):
        # ties share the gradient, as in PyTorch; so do NaNs (their sign is 0: a NaN norm has a zero gradient)
        hit = (xp.abs(x) == n) | xp.isnan(x)
        count = hit.sum(axis=axis, keepdims=True) if axis is not None else hit.sum().reshape((1,) * x.ndim)
        return g * xp.sign(x) * hit / count
    if ord == 1:
        return g * xp.sign(x)
    if ord == 2:
        # The zero norm's 0 is selected, not made by a safe divisor, so that the derivative of this rule
        # there is 0 / 0 (NaN), as PyTorch's masked_fill: x / ||x|| jumps at 0, and no finite value is right.
        return g * xp.where(n == 0, 0.0, x / n)
    n_safe = xp.where(n == 0, 1.0, n)
    a_safe = xp.where(x == 0, 1.0, xp.abs(x))
    # a zero norm with non-zero entries (ord < 0 and a zero among them) still has the zero gradient
    return g * xp.where(n == 0, 0.0, xp.sign(x) * (a_safe / n_safe) ** (ord - 1))


_vector_norm_op = defop("vector_norm", _vector_norm, (_vector_norm_vjp,), uses_ans=True)


def _norm_axes(dim, ndim, name):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"{name}: dim {d} is out of range for a tensor of {ndim} dimension(s)")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise OpError(f"{name}: repeated dim in {dim}")
    return tuple(sorted(out)) if ndim else None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """PyTorch's ``norm``: the ``p``-norm over ``dim`` (all elements if None).

    ``p`` is a number (``2``, ``1``, ``float('inf')``, ``0``, any other p, negative too: then a zero
    entry makes the norm 0) or ``'fro'`` (the default: the 2-norm of all the chosen elements, which for
    a matrix is its Frobenius norm).
    The gradient is ``sign(x) |x|^(p-1) / ||x||^(p-1)``, and 0 where the norm is 0 (as PyTorch).
    ``'nuc'`` (the nuclear norm) needs the singular values: ``autograd_core.norm`` and ``Tensor.norm``
    (``linalg.norm_torch``) compute it; this function refuses it.

    >>> ag.norm(ag.tensor([[3.0, 4.0]]), dim=1)
    tensor([5.])
    >>> ag.tensor([3.0, -4.0]).norm(p=1)
    tensor(7.)
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if dtype is not None:
        x = x.astype(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"norm: expects a floating tensor, got dtype {x.dtype}; convert with .float() first")
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("ops.linalg.norm: the nuclear norm (p='nuc') needs an SVD: call autograd_core.norm "
                                      "or Tensor.norm, which compute it")
        if p != "fro":
            raise OpError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
        p = 2.0
    elif p is None:
        p = 2.0
    p = float(p)
    axis = _norm_axes(dim, x.ndim, "norm")
    return _vector_norm_op(x, ord=p, axis=axis, keepdims=bool(keepdim))


method("mm", mm)
method("bmm", bmm)
method("norm", norm)


# -- more products under PyTorch's names (compositions of matmul, so the gradients are matmul's) -------
def mv(input, vec):  # noqa: A002
    """Matrix-vector product: (n, m) @ (m,) -> (n,).

    >>> ag.mv(ag.tensor([[1.0, 2.0], [3.0, 4.0]]), ag.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    if input.ndim != 2 or vec.ndim != 1:
        raise OpError(f"mv: expects a matrix and a vector, got shapes {tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


def inner(input, other):  # noqa: A002
    """The sum of products over the last dims (a dot product for 1-D inputs); a number operand scales.

    >>> ag.inner(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0]))
    tensor(11.)
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor) or input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([input.ndim - 1], [other.ndim - 1]))


def vdot(input, other):  # noqa: A002
    """The dot product of two 1-D tensors (no conjugation here: there are no complex tensors).

    >>> ag.vdot(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0]))
    tensor(11.)
    """
    return dot(input, other)


def ger(input, vec2):  # noqa: A002
    """The outer product (PyTorch's old name for ``outer``).

    >>> ag.ger(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0]))
    tensor([[3., 4.],
            [6., 8.]])
    """
    return outer(input, vec2)


def _scaled_sum(input, prod, beta, alpha):
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return prod  # as PyTorch: input is ignored (its NaN and inf don't propagate)
    return (input if beta == 1 else input * beta) + prod


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2), ``input`` broadcast to the product's shape.

    >>> ag.addmm(ag.ones(2, 2), ag.eye(2), ag.tensor([[1.0, 2.0], [3.0, 4.0]]), alpha=2)
    tensor([[3., 5.],
            [7., 9.]])
    """
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat @ vec).

    >>> ag.addmv(ag.ones(2), ag.eye(2), ag.tensor([1.0, 2.0]))
    tensor([2., 3.])
    """
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * outer(vec1, vec2).

    >>> ag.addr(ag.zeros(2, 2), ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0]))
    tensor([[1., 1.],
            [2., 2.]])
    """
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2) for batches of matrices (b, n, m) @ (b, m, p).

    >>> ag.baddbmm(ag.zeros(1, 2, 2), ag.ones(1, 2, 3), ag.ones(1, 3, 2)).shape
    (1, 2, 2)
    """
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * the sum over the batch of batch1[i] @ batch2[i].

    >>> ag.addbmm(ag.zeros(2, 2), ag.ones(3, 2, 1), ag.ones(3, 1, 2))
    tensor([[3., 3.],
            [3., 3.]])
    """
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


def tensordot(a, b, dims=2):
    """Sum of products over the last ``dims`` dims of ``a`` and the first of ``b`` (an int), or over the
    listed dims (a pair of lists); the result has ``a``'s remaining dims then ``b``'s.

    >>> ag.tensordot(ag.ones(2, 3), ag.ones(3, 4), dims=1).shape
    (2, 4)
    >>> ag.tensordot(ag.ones(2, 3), ag.ones(4, 3), dims=([1], [1])).shape
    (2, 4)
    """
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        da, db = list(range(a.ndim - int(dims), a.ndim)), list(range(int(dims)))
    else:
        da, db = ([int(d) % a.ndim for d in (dims[0] if isinstance(dims[0], (list, tuple)) else [dims[0]])],
                  [int(d) % b.ndim for d in (dims[1] if isinstance(dims[1], (list, tuple)) else [dims[1]])])
    if len(da) == len(db):
        # PyTorch broadcasts a contracted dim of size 1 against the other side's: the sum of products is
        # then that side summed over the dim (kept, so the dims' positions stay as listed).
        for i, j in zip(da, db):
            if a.shape[i] == 1 and b.shape[j] != 1:
                b = b.sum(j, keepdim=True)
            elif b.shape[j] == 1 and a.shape[i] != 1:
                a = a.sum(i, keepdim=True)
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise OpError(f"tensordot: can't contract dims {da} of shape {tuple(a.shape)} with dims {db} of shape "
                         f"{tuple(b.shape)}")
    ka = [d for d in range(a.ndim) if d not in da]
    kb = [d for d in range(b.ndim) if d not in db]
    n = int(np.prod([a.shape[d] for d in da]))
    am = a.permute(*(ka + da)).reshape(int(np.prod([a.shape[d] for d in ka])), n)
    bm = b.permute(*(db + kb)).reshape(n, int(np.prod([b.shape[d] for d in kb])))
    return matmul(am, bm).reshape(tuple(a.shape[d] for d in ka) + tuple(b.shape[d] for d in kb))


def kron(input, other):  # noqa: A002
    """The Kronecker product: block (i, j) is input[i, j] * other (any number of dims).

    >>> ag.kron(ag.tensor([[1, 2]]), ag.tensor([[1], [10]]))
    tensor([[ 1,  2],
            [10, 20]])
    """
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    a2 = a.reshape(tuple(s for d in a.shape for s in (d, 1)))
    b2 = b.reshape(tuple(s for d in b.shape for s in (1, d)))
    return (a2 * b2).reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def cross(input, other, dim=None):  # noqa: A002
    """The 3-D cross product along ``dim`` (default: the first dim of size 3).

    >>> ag.cross(ag.tensor([1.0, 0.0, 0.0]), ag.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    if dim is None:
        dim = next((d for d, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise OpError(f"cross: no dim of size 3 in shape {tuple(input.shape)}")
    d = dim % input.ndim
    if input.shape[d] != 3:
        raise OpError(f"cross: dim {dim} must have size 3, got shape {tuple(input.shape)}")

    def comp(t, i):
        return t[(slice(None),) * d + (i,)]
    a0, a1, a2 = (comp(input, i) for i in range(3))
    b0, b1, b2 = (comp(other, i) for i in range(3))
    from .shape import stack
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=d)


def _max_abs(d):
    return np.abs(d).max(axis=-1) if d.shape[-1] else np.zeros(d.shape[:-1], d.dtype)


# max |d| over the last dim, each tied coordinate taking the whole gradient (times its sign): the rule of
# PyTorch's cdist and pdist for p = inf (its norm(p=inf) shares ties instead)
_max_abs_op = defop("max_abs_distance", _max_abs,
                    (lambda g, ans, d: g.reshape(tuple(g.shape) + (1,)) * xp.sign(d)
                     * (xp.abs(d) == ans.reshape(tuple(ans.shape) + (1,))),), uses_ans=True)


def _distances(diff, p):
    return _max_abs_op(diff) if p == math.inf else norm(diff, p=p, dim=-1)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distances between each row of ``x1`` (..., P, M) and each row of ``x2`` (..., R, M):
    (..., P, R). The gradient is 0 where a distance is 0; for p = inf every coordinate that reaches the
    maximum gets the whole gradient (as PyTorch).

    >>> ag.cdist(ag.tensor([[0.0, 0.0]]), ag.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    diff = x1.reshape(tuple(x1.shape[:-1]) + (1, x1.shape[-1])) - x2.reshape(
        tuple(x2.shape[:-2]) + (1,) + tuple(x2.shape[-2:]))
    return _distances(diff, p)


def pdist(input, p=2.0):  # noqa: A002
    """The p-norm distances between all pairs of rows i < j of an (N, M) input, in row-major order: an
    (N (N - 1) / 2,) tensor, with ``cdist``'s gradient rules. PyTorch: ``torch.pdist``.

    >>> ag.pdist(ag.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim != 2:
        raise OpError(f"pdist: expected a 2-D input (N, M), got shape {tuple(x.shape)}")
    if not p >= 0:
        raise OpError(f"pdist: p must be non-negative, got {p!r}")
    i, j = np.triu_indices(x.shape[0], 1)
    return _distances(x[i] - x[j], p)


def dist(input, other, p=2):  # noqa: A002
    """The p-norm of ``input - other``.

    >>> ag.dist(ag.tensor([0.0, 0.0]), ag.tensor([3.0, 4.0]))
    tensor(5.)
    """
    return norm(input - other, p=p)


def chain_matmul(*matrices):
    """The product of the matrices, left to right (``linalg.multi_dot``).

    >>> ag.chain_matmul(ag.eye(2), ag.ones(2, 3), ag.ones(3, 1))
    tensor([[3.],
            [3.]])
    """
    out = matrices[0]
    for m in matrices[1:]:
        out = matmul(out, m)
    return out


for _name, _fn in dict(mv=mv, inner=inner, vdot=vdot, ger=ger, addmm=addmm, addmv=addmv, addr=addr, baddbmm=baddbmm,
                       addbmm=addbmm, kron=kron, cross=cross, dist=dist).items():
    if not hasattr(Tensor, _name):
        method(_name, _fn)

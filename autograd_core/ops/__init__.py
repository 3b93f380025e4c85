"""All ops, one registry. Importing this package attaches every op to ``Tensor`` as a method.

Where to find an op's gradient:
  elementwise.py  arithmetic, exp/log/..., activations, comparisons, in-place operators
  reduce.py       sum, mean, prod, max/min, var/std, logsumexp, softmax, log_softmax, cumsum
  linalg.py       matmul, dot, outer, einsum
  shape.py        reshape, broadcast_to/expand, permute/transpose, cat/stack/split, pad, flip, tile, astype
  index.py        getitem/setitem, gather, take_along_axis
  conv.py, pool.py, norm.py   convolution, pooling, batch/layer norm, dropout, upsampling
  pointwise.py    log10/log2/exp2, in-place math (exp_, clamp_, ...), isclose/allclose/equal
  sort.py         sort/argsort/topk/kthvalue, unique, bincount, histc/histogram
  triangular.py   tril, triu
  aliases.py      PyTorch's spellings of what exists (t(), nelement, stride, split/chunk methods, cumprod)
  complexnum.py   conj/real/angle of real tensors; complex/polar/view_as_complex raise (no complex dtype)
  recurrent.py    the pointwise part of an LSTM / GRU step, one op each
"""
from . import registry, elementwise, reduce, shape, index, linalg  # noqa: F401
from . import conv, pool, norm  # noqa: F401
from . import pointwise, sort, triangular, aliases, complexnum, recurrent  # noqa: F401
from .registry import OPS, defop, xp  # noqa: F401

"""All ops, one registry. Importing this package attaches every op to ``Tensor`` as a method.

Where to find an op's gradient:
  elementwise.py  arithmetic, exp/log/..., activations, comparisons, in-place operators
  reduce.py       sum, mean, prod, max/min, var/std, logsumexp, softmax, log_softmax, cumsum
  linalg.py       matmul, dot, outer, einsum
  shape.py        reshape, broadcast_to/expand, permute/transpose, cat/stack/split, pad, flip, tile, astype
  index.py        getitem/setitem, gather, take_along_axis
  conv.py, pool.py, norm.py   convolution, pooling, batch/layer norm, dropout, upsampling
"""
from . import registry, elementwise, reduce, shape, index, linalg  # noqa: F401
from . import conv, pool, norm  # noqa: F401
from .registry import OPS, defop, xp  # noqa: F401

"""autograd_core: a tape-based reverse-mode autodiff engine on NumPy.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
"""
from .tensor import (Tensor, tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, linspace, eye,
                     rand, randn, randint, zeros_like, ones_like, full_like, rand_like, randn_like,
                     set_default_dtype, get_default_dtype, manual_seed, default_generator, Generator,
                     set_printoptions, get_printoptions,
                     float16, float32, float64, int8, uint8, int32, int64, bool_)
from .graph import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, detect_anomaly, autograd_grad,
                    backward)
from . import ops
from .ops.registry import OPS, defop, xp
from .ops.elementwise import (mul, neg, pow, abs, exp, log, log1p, expm1, sqrt, rsqrt, sin, cos,
                              tanh, sigmoid, relu, leaky_relu, elu, gelu, softplus, clamp, clip, maximum,
                              minimum, where, sign, sgn, erf, floor, ceil, round, isnan, isinf, isfinite, eq, ne, lt,
                              le, gt, ge, logical_and, logical_or, logical_not)
from .ops.reduce import (sum, mean, prod, max, min, amax, amin, var, std, logsumexp, argmax, argmin, any, all,
                         softmax, log_softmax, cumsum)
from .ops.linalg import matmul, dot, outer, einsum, linear
from .ops.shape import (reshape, flatten, squeeze, unsqueeze, expand_dims, broadcast_to, expand,
                        broadcast_tensors, permute, transpose, swapaxes, concatenate, cat, stack, split, chunk,
                        pad, flip, tile, repeat, astype, clone)
from .ops.index import getitem, setitem, gather, take_along_axis, index_select, masked_fill
from .ops.conv import conv2d, conv_transpose2d
from .ops.pool import max_pool2d, avg_pool2d, adaptive_avg_pool2d, upsample_nearest2d
from .ops.norm import batch_norm, layer_norm, dropout
from .functional import grad, value_and_grad, vjp, jacobian, hessian
from . import kernels
from .kernels import set_num_threads, get_num_threads
from .inspect import trace, draw, profile, explain_backward, Tape

bool = bool_  # noqa: A001  (torch.bool)
double = float64
float = float32  # noqa: A001  (torch.float)
long = int64

from . import interop
from .interop import from_dlpack

# PyTorch's API around the engine: devices, dtypes, legacy constructors, sampling, ordering,
# torch.autograd, AMP (see devices.py, dtypes.py, creation.py, random.py, ops/sort.py, autograd/)
from .graph import inference_mode, is_anomaly_enabled
from .modes import is_inference_mode_enabled
from .windows import hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window
from .ops.specialfns import i0, gammainc as igamma, gammaincc as igammac
from .devices import (device, cuda, cpu, accelerator, backends, set_default_device, get_default_device,
                      set_float32_matmul_precision, get_float32_matmul_precision, use_deterministic_algorithms,
                      are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled)
from . import layouts
from . import jit
from . import utils
from .layouts import memory_format, contiguous_format, preserve_format, channels_last, channels_last_3d
from . import amp
from .amp import autocast
from .dtypes import (half, short, int16, int, uint16, uint32, uint64, bfloat16, cfloat, cdouble, chalf, complex32,
                     complex64, complex128)
from .creation import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor,
                       ByteTensor, BoolTensor, empty_like, randint_like)
from . import random
from .random import (randperm, multinomial, bernoulli, normal, poisson, seed, initial_seed, get_rng_state,
                     set_rng_state)
from .ops.pointwise import log10, log2, exp2, isclose, allclose, equal
from .ops.mathops import add, sub, div
from .ops.sort import sort, argsort, msort, topk, kthvalue, unique, bincount, histc, histogram
from .ops.triangular import tril, triu
from .ops.linalg import (mm, bmm, norm, mv, inner, vdot, ger, addmm, addmv, addr, baddbmm, addbmm, tensordot, kron,
                         cross, cdist, pdist, dist, chain_matmul)
from .ops.aliases import t, numel, is_tensor, cumprod, finfo, iinfo, is_floating_point, is_complex
from .ops.complexnum import (conj, conj_physical, resolve_conj, resolve_neg, real, imag, angle, complex, polar,
                              view_as_complex, view_as_real)
from .errors import OpError
from . import autograd
from . import multiprocessing  # noqa: E402  (torch.multiprocessing)
# torch.profiler and torch.autograd.profiler: tools over the engine's listeners, so they live in inspect/
# and are attached here (and importable by their torch-shaped names) rather than imported by the engine.
from .inspect import torch_profiler as profiler
from .inspect import autograd_profiler as _autograd_profiler
import sys as _sys  # noqa: E402
autograd.profiler = _autograd_profiler
_sys.modules[__name__ + ".profiler"] = profiler
_sys.modules[__name__ + ".autograd.profiler"] = _autograd_profiler
from . import func
from .func import vmap
from . import linalg
from . import distributions
from . import special
from .special import multigammaln as mvlgamma
from . import sparse
from . import distributed
from .sparse import sparse_coo_tensor, spmm
from .linalg import det, slogdet, logdet, matrix_power, matrix_exp, inv as inverse, pinv as pinverse
from .linalg import svd_torch as svd, qr_torch as qr, cholesky_torch as cholesky
from .linalg import cholesky_solve, cholesky_inverse, triangular_solve, geqrf, householder_product as orgqr
from .linalg import norm_torch as norm  # noqa: F811  (torch.norm: ops.linalg.norm and p='nuc')
from .extras import (pi, e, inf, nan, newaxis, result_type, promote_types, can_cast, typename, compile,
                     get_num_interop_threads, set_num_interop_threads, is_nonzero, save, load, is_same_size, is_signed,
                     set_default_tensor_type, asarray, range, gcd, lcm, frexp, ldexp, vander)
from .ops.mathops import (tan, sinh, cosh, asin, acos, atan, asinh, acosh, atanh, arcsin, arccos, arctan, arcsinh,
                          arccosh, arctanh, atan2, arctan2, erfc, erfinv, lgamma, digamma, polygamma, logit, fmod,
                          remainder, logaddexp, logaddexp2, renorm, xlogy, copysign, nan_to_num, square, reciprocal,
                          frac, hypot, lerp, addcmul, addcdiv, clamp_min, clamp_max, rad2deg, deg2rad, rsub, subtract, divide,
                          float_power, trunc, fix, floor_divide, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
                          bitwise_left_shift, bitwise_right_shift, logical_xor, isin, heaviside, signbit, isposinf,
                          isneginf, isreal, multiply, true_divide,
                          negative, positive, absolute, greater, less, greater_equal, less_equal, not_equal, fmax,
                          fmin, sinc)
from .ops.rearrange import (roll, rot90, movedim, moveaxis, swapdims, unflatten, ravel, narrow, select, unbind,
                            tensor_split, hsplit, vsplit, dsplit, repeat_interleave, fliplr, flipud, atleast_1d,
                            atleast_2d, atleast_3d, hstack, vstack, dstack, column_stack, row_stack, concat, meshgrid,
                            cartesian_prod, combinations, block_diag, diag, diagonal, diag_embed, diagflat,
                            tril_indices, triu_indices, broadcast_shapes, logspace, scalar_tensor, diff, Size)
from .ops.scatter import (scatter, scatter_add, scatter_reduce, index_add, index_reduce, index_copy, index_fill,
                          index_put, masked_scatter, masked_select, take, take_along_dim, nonzero, argwhere, count_nonzero, put)
from .ops.stats import (median, nanmedian, mode, quantile, nanquantile, var_mean, std_mean, nansum, nanmean, aminmax,
                        cummax, cummin, logcumsumexp, searchsorted, bucketize, unique_consecutive, cov, corrcoef,
                        trapezoid, trapz, cumulative_trapezoid)

__version__ = "0.1.0"

# PyTorch's out= keyword on the functions that take it there (``outargs``).
from . import outargs as _outargs  # noqa: E402


def _add_out(namespace, names):
    for _n in names:
        _f = namespace.get(_n) if isinstance(namespace, dict) else getattr(namespace, _n, None)
        if callable(_f) and not isinstance(_f, type):
            _w = _outargs.with_out(_n, _f)
            if isinstance(namespace, dict):
                namespace[_n] = _w
            else:
                setattr(namespace, _n, _w)


_add_out(globals(), _outargs.NAMES)
_add_out(linalg, _outargs.LINALG_NAMES)
_add_out(special, _outargs.SPECIAL_NAMES)

# Star-imports get the public functions, types and namespaces, but no name that would hide a Python
# builtin in the importer (sum, max, float, int, bool, ...) and no plain submodule.
import builtins as _builtins  # noqa: E402
import types as _types  # noqa: E402

__all__ = sorted(_n for _n, _v in list(globals().items())
                 if not _n.startswith("_") and not hasattr(_builtins, _n)
                 and (not isinstance(_v, _types.ModuleType)
                      or _n in ("autograd", "amp", "cuda", "cpu", "backends", "accelerator", "functional", "linalg",
                                "distributions", "special", "sparse", "func")))

# PyTorch's packages that live beside the engine here (``import torch`` brings ``torch.nn`` and
# ``torch.optim``; this package never imports them): until the script imports them, the attribute
# error says which import line to add.
_SEPARATE_PACKAGES = {"nn": "import nn", "optim": "import optim"}


def __getattr__(name):
    if name in _SEPARATE_PACKAGES:
        raise AttributeError(f"module 'autograd_core' has no attribute {name!r}: torch.{name} is the separate "
                             f"package {name} here: add `{_SEPARATE_PACKAGES[name]}` to the script's imports (after "
                             f"which autograd_core.{name} is {name})")
    raise AttributeError(f"module 'autograd_core' has no attribute {name!r}")

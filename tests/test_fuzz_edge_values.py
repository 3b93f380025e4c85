"""Differential fuzzing at the points PyTorch defines by convention: ties, zeros, bounds, NaN and inf.

``test_fuzz_programs.py`` draws smooth programs and skips every example where an exact tie decides
the answer. This file does the opposite: each case (one op, or a short chain ending in one) runs on
leaves drawn from a handful of small values (0, +-0.5, +-1, +-2, so equal entries, zeros and the
bounds of clamp, hardtanh and smooth_l1 come up all the time), some cases also with NaN and +-inf,
and with repeated indices for the indexing ops. Each example runs under both libraries in float64
and compares the outputs (integer outputs exactly, NaN positions included), the gradients of
loss = sum(out * W) for fixed random W, and (for finite leaves) the second derivatives (the gradient
of sum(g * u) for a fixed random u) where PyTorch has them. Hypothesis draws shapes, dims and values per case.

A failing example prints the case and its inputs (``note``).
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings, strategies as st
import hypothesis.extra.numpy as hnp

import autograd_core as ag
import nn.functional as agF
from autograd_core.testing import shapes

try:
    import torch
    import torch.nn.functional as tF
except ImportError:
    torch = tF = None

nan, inf = math.nan, math.inf
# 0 first: hypothesis shrinks toward it. -0.0 is there for the ops that look at the sign bit.
TIES = [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 0.0, -0.0]
SPECIAL = {True: TIES + [nan, inf, -inf], "nan": TIES + [nan], "inf": TIES + [inf, -inf]}
# The profile (tests/conftest.py) sets the base count: 15 under `ci`. A case runs in a few ms.
_BASE = settings().max_examples
_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                        HealthCheck.filter_too_much])
RTOL, ATOL = 1e-7, 1e-9


# -- the cases ---------------------------------------------------------------------------------
class Case:
    """``build(draw, vals)`` -> (leaf arrays, ``run(M, F, *leaves)``, a note): M is ``torch`` or
    ``autograd_core``, F its ``nn.functional``; ``run`` returns a tensor or a tuple of them.
    ``special``: also drawn with NaN and +-inf leaves (True), or only with NaN ('nan') or only with
    +-inf ('inf'). ``grad2``: compare second derivatives."""

    def __init__(self, build, special=False, grad2=True):
        self.build, self.special, self.grad2 = build, special, grad2


CASES = {}


def case(name, special=False, grad2=True):
    def deco(build):
        CASES[name] = Case(build, special, grad2)
        return build
    return deco


def arr(draw, vals, shape):
    return draw(hnp.arrays(np.float64, shape, elements=st.sampled_from(vals)))


def distinct(draw, shape):
    """Distinct values (multiples of 0.5 around 0) in a drawn order: for the ops whose choice among
    equal elements PyTorch leaves to its algorithm (topk, kthvalue)."""
    n = int(np.prod(shape))
    return (np.array(draw(st.permutations(range(n))), dtype=np.float64) - n // 2).reshape(shape) / 2


def shape(draw, min_dims=1, max_dims=3, max_side=4, min_side=1):
    return draw(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))


def dim_of(draw, ndim):
    return draw(st.integers(-ndim, ndim - 1))


def unary(name, f, special=True, grad2=True, min_dims=0):
    """A case ``f(M, F, x)`` on one leaf of any small shape."""
    @case(name, special, grad2)
    def build(draw, vals):
        return [arr(draw, vals, shape(draw, min_dims=min_dims))], f, ""


def binary(name, f, special=True, grad2=True):
    """A case ``f(M, F, x, y)`` on two leaves of broadcastable shapes (often equal)."""
    @case(name, special, grad2)
    def build(draw, vals):
        s = shape(draw, min_dims=0)
        s2 = draw(st.one_of(st.just(s), hnp.broadcastable_shapes(s, max_dims=3, max_side=4)))
        return [arr(draw, vals, s), arr(draw, vals, s2)], f, ""


def reduce_dim(name, f, special=True, grad2=True, min_dims=1):
    """A case ``f(M, F, x, dim, keepdim)``."""
    @case(name, special, grad2)
    def build(draw, vals):
        s = shape(draw, min_dims=min_dims)
        d, k = dim_of(draw, len(s)), draw(st.booleans())
        return [arr(draw, vals, s)], lambda M, F, x: f(M, F, x, d, k), f"dim={d}, keepdim={k}"


# elementwise, at 0, at ties and at bounds
unary("abs", lambda M, F, x: x.abs())
unary("relu", lambda M, F, x: M.relu(x))
# (at NaN, PyTorch's hardtanh gradient is g in its scalar loop and 0 in its vector loop)
unary("hardtanh", lambda M, F, x: F.hardtanh(x), special=False)
unary("hardtanh_bounds", lambda M, F, x: F.hardtanh(x, -0.5, 1.0), special=False)
unary("leaky_relu", lambda M, F, x: F.leaky_relu(x, 0.1))
# (at NaN, PyTorch's gradient of elu, selu, celu, hardswish, relu6, hardshrink and softshrink depends on
# the tensor's size: its vector and scalar loops differ; those are left out of the NaN test)
unary("elu", lambda M, F, x: F.elu(x), special=False)
unary("elu_alpha", lambda M, F, x: F.elu(x, alpha=0.5), special=False)
unary("softplus", lambda M, F, x: F.softplus(x))
unary("softplus_threshold", lambda M, F, x: F.softplus(x, beta=2.0, threshold=2.0))
unary("gelu", lambda M, F, x: F.gelu(x))
unary("gelu_tanh", lambda M, F, x: F.gelu(x, approximate="tanh"))
unary("silu", lambda M, F, x: F.silu(x))
unary("sign", lambda M, F, x: x.sign() * x)
unary("sqrt", lambda M, F, x: x.sqrt())
unary("pow_half", lambda M, F, x: M.pow(x, 0.5))
unary("pow_2", lambda M, F, x: M.pow(x, 2))
unary("pow_0", lambda M, F, x: M.pow(x, 0))
unary("pow_3", lambda M, F, x: x ** 3)
unary("rpow_0", lambda M, F, x: 0.0 ** x)
unary("clamp_bounds", lambda M, F, x: x.clamp(-1.0, 1.0))
unary("clamp_min", lambda M, F, x: M.clamp(x, min=0.0))
unary("clip_max", lambda M, F, x: M.clip(x, max=0.5))
unary("clamp_crossed", lambda M, F, x: x.clamp(1.0, -1.0))
binary("pow", lambda M, F, x, y: x ** y, grad2=False)


@case("pow_grad2", special=True)
def _pow_grad2(draw, vals):
    # second derivatives away from y == 0: there PyTorch's d/dx is a constant 0 (its d2/dxdy is 0), this
    # engine keeps y x**(y-1) and its true derivative 1/x (a choice made for gradgradcheck)
    s = shape(draw, min_dims=0)
    return [arr(draw, vals, s), arr(draw, [v for v in vals if v != 0], s)], lambda M, F, x, y: x ** y, ""
binary("atan2", lambda M, F, x, y: M.atan2(x, y))
binary("maximum", lambda M, F, x, y: M.maximum(x, y))
binary("minimum", lambda M, F, x, y: M.minimum(x, y))
binary("fmax", lambda M, F, x, y: M.fmax(x, y))
binary("fmin", lambda M, F, x, y: M.fmin(x, y))
binary("clamp_tensor", lambda M, F, x, y: M.clamp(x, min=y, max=y + 1))
binary("where_gt", lambda M, F, x, y: M.where(x > y, x, y))
binary("where_ge", lambda M, F, x, y: M.where(x >= y, x * y, y))
binary("where_same", lambda M, F, x, y: M.where(x > 0, y, y))
binary("hypot", lambda M, F, x, y: M.hypot(x, y))


@case("clamp_drawn", special=True)
def _clamp_drawn(draw, vals):
    lo, hi = draw(st.sampled_from(TIES[:5])), draw(st.sampled_from(TIES[:5]))
    return [arr(draw, vals, shape(draw, min_dims=0))], lambda M, F, x: x.clamp(lo, hi), f"lo={lo}, hi={hi}"


# reductions: full, per dim, keepdim
unary("max_all", lambda M, F, x: x.max())
unary("min_all", lambda M, F, x: x.min())
unary("amax_all", lambda M, F, x: x.amax())
reduce_dim("amax", lambda M, F, x, d, k: x.amax(dim=d, keepdim=k))
reduce_dim("amin", lambda M, F, x, d, k: M.amin(x, dim=d, keepdim=k))
reduce_dim("max_dim", lambda M, F, x, d, k: tuple(M.max(x, d, keepdim=k)))
reduce_dim("min_dim", lambda M, F, x, d, k: tuple(M.min(x, dim=d, keepdim=k)))
reduce_dim("amax_pair", lambda M, F, x, d, k: x.amax(dim=(0, -1), keepdim=k), min_dims=2)
reduce_dim("sort", lambda M, F, x, d, k: tuple(M.sort(x, dim=d, descending=k, stable=True)))


@case("topk_kthvalue", special=False)
def _topk(draw, vals):
    s = shape(draw, min_dims=1)
    d, big = dim_of(draw, len(s)), draw(st.booleans())
    k = draw(st.integers(1, s[d]))

    def run(M, F, x):
        return tuple(M.topk(x, k, dim=d, largest=big)) + tuple(M.kthvalue(x, k, dim=d, keepdim=big))
    return [distinct(draw, s)], run, f"k={k}, dim={d}, largest={big}"


reduce_dim("median_dim", lambda M, F, x, d, k: tuple(M.median(x, dim=d, keepdim=k)))
reduce_dim("mode", lambda M, F, x, d, k: tuple(M.mode(x, dim=d, keepdim=k)), special=False)
unary("median_all", lambda M, F, x: x.median())
unary("nanmedian_all", lambda M, F, x: x.nanmedian())
reduce_dim("cummax", lambda M, F, x, d, k: tuple(M.cummax(x, d)))
reduce_dim("cummin", lambda M, F, x, d, k: tuple(M.cummin(x, d)))
# (PyTorch's prod and cumprod rules divide the output by the input where the tensor has no zero, so a NaN
# or inf input gets NaN (inf / inf, nan / nan) where the others' product is finite or inf; with a zero
# anywhere in the tensor it takes products of the others instead. This engine takes the others' product.)
unary("prod_all", lambda M, F, x: x.prod(), special=False)
reduce_dim("prod", lambda M, F, x, d, k: x.prod(dim=d, keepdim=k), special=False)
reduce_dim("cumprod", lambda M, F, x, d, k: M.cumprod(x, d), special=False)
reduce_dim("logcumsumexp", lambda M, F, x, d, k: M.logcumsumexp(x, d))
unary("norm_all", lambda M, F, x: x.norm())
unary("norm_1", lambda M, F, x: x.norm(p=1))
unary("norm_inf", lambda M, F, x: x.norm(p=inf))
unary("norm_3", lambda M, F, x: x.norm(p=3))
reduce_dim("norm_dim", lambda M, F, x, d, k: x.norm(dim=d, keepdim=k))
reduce_dim("vector_norm_inf", lambda M, F, x, d, k: M.linalg.vector_norm(x, ord=inf, dim=d, keepdim=k))
reduce_dim("vector_norm_1", lambda M, F, x, d, k: M.linalg.vector_norm(x, ord=1, dim=d, keepdim=k))
reduce_dim("vector_norm_0", lambda M, F, x, d, k: M.linalg.vector_norm(x, ord=0, dim=d, keepdim=k))
reduce_dim("vector_norm_-inf", lambda M, F, x, d, k: M.linalg.vector_norm(x, ord=-inf, dim=d, keepdim=k))
binary("dist_2", lambda M, F, x, y: M.dist(x, y))
binary("dist_1", lambda M, F, x, y: M.dist(x, y, p=1))
binary("dist_inf", lambda M, F, x, y: M.dist(x, y, p=inf))
reduce_dim("std", lambda M, F, x, d, k: x.std(dim=d, keepdim=k), special=False)
reduce_dim("var", lambda M, F, x, d, k: x.var(dim=d, keepdim=k))
reduce_dim("var_c0", lambda M, F, x, d, k: M.var(x, dim=d, keepdim=k, correction=0))
reduce_dim("std_c0", lambda M, F, x, d, k: M.std(x, dim=d, correction=0), special=False)
reduce_dim("std_c2", lambda M, F, x, d, k: M.std(x, dim=d, correction=2), special=False)
# (PyTorch's var_mean gives a NaN mean for [inf, inf], from its one-pass algorithm)
reduce_dim("std_mean", lambda M, F, x, d, k: tuple(M.std_mean(x, dim=d, keepdim=k)), special=False)
reduce_dim("var_mean", lambda M, F, x, d, k: tuple(M.var_mean(x, dim=d, keepdim=k)), special=False)
unary("std_all", lambda M, F, x: x.std(), special=False)
reduce_dim("logsumexp", lambda M, F, x, d, k: x.logsumexp(dim=d, keepdim=k))
reduce_dim("softmax", lambda M, F, x, d, k: M.softmax(x, dim=d))
reduce_dim("log_softmax", lambda M, F, x, d, k: F.log_softmax(x, dim=d))
reduce_dim("nansum", lambda M, F, x, d, k: x.nansum(dim=d, keepdim=k))
# (nanmean of an all-NaN slice: PyTorch's gradient is 0 * (1 / 0) = NaN there, this engine's 0)
reduce_dim("nanmean", lambda M, F, x, d, k: x.nanmean(dim=d, keepdim=k), special="inf")


@case("masked_softmax", special=True)
def _masked_softmax(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    mask = draw(hnp.arrays(np.bool_, s))
    ninf = draw(st.sampled_from([-inf, -1e9]))

    def run(M, F, x):
        m = M.tensor(mask)
        z = x.masked_fill(m, ninf)
        return M.softmax(z, dim=d), F.log_softmax(z, dim=d), z.logsumexp(dim=d)
    return [arr(draw, vals, s)], run, f"dim={d}, mask={mask.tolist()}, fill={ninf}"


# losses, normalizations, distances
@case("cross_entropy", special=True)
def _cross_entropy(draw, vals):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    t = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    ls = draw(st.sampled_from([0.0, 0.2]))
    ii = draw(st.sampled_from([-100, 0]))
    w = draw(st.sampled_from([None, [1.0, 0.5, 2.0, 0.0][:c]]))

    def run(M, F, x):
        wt = None if w is None else M.tensor(w, dtype=M.float64)
        return F.cross_entropy(x, M.tensor(t), weight=wt, reduction=red, label_smoothing=ls, ignore_index=ii)
    return [arr(draw, vals, (n, c))], run, f"target={t.tolist()}, red={red}, ls={ls}, ignore={ii}, w={w}"


@case("cross_entropy_probs", special=False)
def _cross_entropy_probs(draw, vals):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return ([arr(draw, vals, (n, c)), arr(draw, vals, (n, c))],
            lambda M, F, x, p: F.cross_entropy(x, p.softmax(-1)), "")


@case("nll_loss", special=True)
def _nll(draw, vals):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    t = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    ii = draw(st.sampled_from([-100, 0]))
    return ([arr(draw, vals, (n, c))], lambda M, F, x: F.nll_loss(x, M.tensor(t), reduction=red, ignore_index=ii),
            f"target={t.tolist()}, red={red}, ignore={ii}")


def _pair_loss(name, f, special=True):
    @case(name, special)
    def build(draw, vals):
        s = shape(draw, min_dims=0)
        red = draw(st.sampled_from(["mean", "sum", "none"]))
        return [arr(draw, vals, s), arr(draw, vals, s)], lambda M, F, x, y: f(M, F, x, y, red), f"reduction={red}"


_pair_loss("mse_loss", lambda M, F, x, y, r: F.mse_loss(x, y, reduction=r))
_pair_loss("l1_loss", lambda M, F, x, y, r: F.l1_loss(x, y, reduction=r))
_pair_loss("smooth_l1", lambda M, F, x, y, r: F.smooth_l1_loss(x, y, reduction=r))
_pair_loss("smooth_l1_half", lambda M, F, x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.5))
_pair_loss("smooth_l1_zero", lambda M, F, x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0))
_pair_loss("huber", lambda M, F, x, y, r: F.huber_loss(x, y, reduction=r))
_pair_loss("huber_half", lambda M, F, x, y, r: F.huber_loss(x, y, reduction=r, delta=0.5))
# (soft_margin at x = +-inf: PyTorch's gradient is exp(inf) / (1 + exp(inf)) = NaN, this engine's +-1)
_pair_loss("soft_margin", lambda M, F, x, y, r: F.soft_margin_loss(x, y.detach().sign(), reduction=r),
           special="nan")
# (bce_with_logits at x = -inf: PyTorch's loss is -inf + inf = NaN, ours the limit)
_pair_loss("bce_logits", lambda M, F, x, y, r: F.binary_cross_entropy_with_logits(x, y.sigmoid(), reduction=r),
           special="nan")
_pair_loss("hinge_emb", lambda M, F, x, y, r: F.hinge_embedding_loss(x, (y >= 0) * 2.0 - 1, reduction=r))
reduce_dim("normalize", lambda M, F, x, d, k: F.normalize(x, dim=d))
reduce_dim("normalize_1", lambda M, F, x, d, k: F.normalize(x, p=1, dim=d))
reduce_dim("normalize_inf", lambda M, F, x, d, k: F.normalize(x, p=inf, dim=d))


@case("cosine_similarity", special=True)
def _cos(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    return [arr(draw, vals, s), arr(draw, vals, s)], lambda M, F, x, y: F.cosine_similarity(x, y, dim=d), f"dim={d}"


@case("pairwise_distance", special=True)
def _pdist(draw, vals):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    p = draw(st.sampled_from([2.0, 1.0, inf]))
    return ([arr(draw, vals, (n, m)), arr(draw, vals, (n, m))],
            lambda M, F, x, y: F.pairwise_distance(x, y, p=p), f"p={p}")


# (where a difference is NaN (inf - inf), PyTorch's cdist gradient for p = 1 and inf is NaN, ours 0)
@case("cdist", special=False)
def _cdist(draw, vals):
    b = draw(st.sampled_from([(), (2,)]))
    p, r, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pp = draw(st.sampled_from([2.0, 1.0, inf, 0.0, 3.0]))
    return ([arr(draw, vals, b + (p, m)), arr(draw, vals, b + (r, m))],
            lambda M, F, x, y: M.cdist(x, y, p=pp), f"p={pp}")


# indexing with repeated indices
def _index(draw, n, size):
    return draw(hnp.arrays(np.int64, (size,), elements=st.integers(0, n - 1)))


@case("gather", special=True)
def _gather(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    ishape = tuple(draw(st.integers(1, 4)) if i == d % len(s) else draw(st.integers(1, n)) for i, n in enumerate(s))
    idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, s[d] - 1)))
    return [arr(draw, vals, s)], lambda M, F, x: M.gather(x, d, M.tensor(idx)), f"dim={d}, index={idx.tolist()}"


@case("take_along_dim", special=True)
def _take(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    ishape = tuple(draw(st.integers(1, 4)) if i == d % len(s) else n for i, n in enumerate(s))
    idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, s[d] - 1)))
    return ([arr(draw, vals, s)], lambda M, F, x: M.take_along_dim(x, M.tensor(idx), dim=d),
            f"dim={d}, index={idx.tolist()}")


@case("index_select", special=True)
def _index_select(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    idx = _index(draw, s[d], draw(st.integers(1, 5)))
    return [arr(draw, vals, s)], lambda M, F, x: M.index_select(x, d, M.tensor(idx)), f"dim={d}, index={idx.tolist()}"


@case("advanced_index", special=True)
def _adv(draw, vals):
    s = shape(draw, min_dims=1)
    idx = _index(draw, s[0], draw(st.integers(1, 5)))
    two = len(s) > 1 and draw(st.booleans())
    idx2 = _index(draw, s[1], len(idx)) if two else None

    def run(M, F, x):
        return (x[M.tensor(idx), M.tensor(idx2)] if two else x[M.tensor(idx)]) ** 2
    return [arr(draw, vals, s)], run, f"idx={idx.tolist()}, idx2={None if idx2 is None else idx2.tolist()}"


@case("scatter_add", special=True)
def _scatter_add(draw, vals):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    idx = draw(hnp.arrays(np.int64, (k, m), elements=st.integers(0, n - 1)))
    return ([arr(draw, vals, (n, m)), arr(draw, vals, (k, m))],
            lambda M, F, x, src: (x * x).scatter_add(0, M.tensor(idx), src * src), f"index={idx.tolist()}")


@case("scatter_reduce", special=True)
def _scatter_reduce(draw, vals):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    idx = draw(hnp.arrays(np.int64, (k, m), elements=st.integers(0, n - 1)))
    red = draw(st.sampled_from(["sum", "mean", "amax", "amin"]))   # prod: PyTorch's rule divides by 0
    inc = draw(st.booleans())
    return ([arr(draw, vals, (n, m)), arr(draw, vals, (k, m))],
            lambda M, F, x, src: x.scatter_reduce(0, M.tensor(idx), src, reduce=red, include_self=inc),
            f"index={idx.tolist()}, reduce={red}, include_self={inc}")


@case("index_add", special=True)
def _index_add(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    idx = _index(draw, s[d], draw(st.integers(1, 4)))
    src_shape = tuple(len(idx) if i == d % len(s) else n for i, n in enumerate(s))
    return ([arr(draw, vals, s), arr(draw, vals, src_shape)],
            lambda M, F, x, src: M.index_add(x, d, M.tensor(idx), src * x.sum(), alpha=2.0),
            f"dim={d}, index={idx.tolist()}")


@case("embedding", special=True)
def _embedding(draw, vals):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    ids = draw(hnp.arrays(np.int64, draw(shapes(min_dims=1, max_dims=2, max_side=4)), elements=st.integers(0, n - 1)))
    return [arr(draw, vals, (n, m))], lambda M, F, w: F.embedding(M.tensor(ids), w) ** 2, f"ids={ids.tolist()}"


@case("unique", special=False, grad2=False)
def _unique(draw, vals):
    s = shape(draw, min_dims=1)

    def run(M, F, x):
        u, inv, cnt = M.unique(x, sorted=True, return_inverse=True, return_counts=True)
        return u, inv, cnt, x * 1
    return [arr(draw, vals, s)], run, ""


# shape ops (on a leaf squared, so that second derivatives are not all zero)
@case("cat_stack", special=True)
def _cat(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    s2 = tuple(draw(st.integers(1, 3)) if i == d % len(s) else n for i, n in enumerate(s))
    return ([arr(draw, vals, s), arr(draw, vals, s2)],
            lambda M, F, x, y: (M.cat([x * x, y, x], dim=d), M.stack([x, x * x], dim=d)), f"dim={d}")


@case("split_chunk_unbind", special=True)
def _split(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    k = draw(st.integers(1, 3))

    def run(M, F, x):
        y = x * x
        return tuple(M.split(y, k, dim=d)) + tuple(y.chunk(k, dim=d)) + tuple(M.unbind(x, dim=d))
    return [arr(draw, vals, s)], run, f"dim={d}, k={k}"


@case("flip_roll", special=True)
def _flip(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    sh = draw(st.integers(-5, 5))
    return ([arr(draw, vals, s)], lambda M, F, x: (M.flip(x * x, [d]), M.roll(x * x, sh, d), M.roll(x, sh)),
            f"dim={d}, shift={sh}")


@case("repeat_tile", special=True)
def _repeat(draw, vals):
    s = shape(draw, min_dims=1, max_side=3)
    reps = tuple(draw(st.integers(1, 2)) for _ in range(len(s) + draw(st.integers(0, 1))))
    return ([arr(draw, vals, s)], lambda M, F, x: ((x * x).repeat(*reps), M.tile(x * x, reps[:len(s)])),
            f"reps={reps}")


@case("diagonal_tri", special=True)
def _diag(draw, vals):
    s = shape(draw, min_dims=2)
    off = draw(st.integers(-2, 2))

    def run(M, F, x):
        y = x * x
        return M.diagonal(y, off, -2, -1), M.diagonal(y, -off, 0, -1), M.tril(y, off), y.triu(-off)
    return [arr(draw, vals, s)], run, f"offset={off}"


@case("narrow_movedim_unflatten", special=True)
def _narrow(draw, vals):
    s = shape(draw, min_dims=2)
    d = dim_of(draw, len(s))
    start = draw(st.integers(0, s[d] - 1))
    length = draw(st.integers(0, s[d] - start))

    def run(M, F, x):
        y = x * x
        return (M.narrow(y, d, start, length), M.movedim(y, 0, -1), y.flatten().unflatten(0, (1, -1)),
                y.unflatten(d, (s[d], 1)))
    return [arr(draw, vals, s)], run, f"dim={d}, start={start}, length={length}"


# more activations at their kinks (the values put x on them: 0, +-0.5, +-3 after scaling, 6)
unary("relu6", lambda M, F, x: F.relu6(x * 3), special=False)
unary("hardswish", lambda M, F, x: F.hardswish(x * 1.5), special=False)
unary("hardsigmoid", lambda M, F, x: F.hardsigmoid(x * 1.5))
unary("celu", lambda M, F, x: F.celu(x, alpha=0.5), special=False)
unary("selu", lambda M, F, x: F.selu(x), special=False)
unary("mish", lambda M, F, x: F.mish(x))
unary("softsign", lambda M, F, x: F.softsign(x))
unary("logsigmoid", lambda M, F, x: F.logsigmoid(x))
unary("threshold", lambda M, F, x: F.threshold(x, 0.5, -1.0))
unary("hardshrink", lambda M, F, x: F.hardshrink(x, 0.5), special=False)
unary("softshrink", lambda M, F, x: F.softshrink(x, 0.5), special=False)
unary("tanhshrink", lambda M, F, x: F.tanhshrink(x))
# (PyTorch's second derivative of sinc at 0 is NaN, from masking its 0 / 0 after the fact; ours is finite)
unary("sinc", lambda M, F, x: M.sinc(x), grad2=False)
unary("entr", lambda M, F, x: M.special.entr(x))
unary("frac", lambda M, F, x: M.frac(x * 1.5) * x)
binary("copysign", lambda M, F, x, y: M.copysign(x, y) * x)
binary("xlogy", lambda M, F, x, y: M.xlogy(x, y))
binary("xlog1py", lambda M, F, x, y: M.special.xlog1py(x, y))
binary("remainder", lambda M, F, x, y: M.remainder(x, y + 2.5 * (y == 0)))
binary("remainder_tenths", lambda M, F, x, y: M.remainder(x * 2, y / 5 + 0.3 * (y == 0)))
binary("div_floor", lambda M, F, x, y: (M.div(x * 2, y / 5 + 0.3 * (y == 0), rounding_mode="floor"), x * 1))
binary("div_trunc", lambda M, F, x, y: (M.div(x * 2, y / 5 + 0.3 * (y == 0), rounding_mode="trunc"), x * 1))
binary("fmod", lambda M, F, x, y: M.fmod(x, y + 2.5 * (y == 0)))
binary("logaddexp", lambda M, F, x, y: M.logaddexp(x, y))


@case("clamp_two_tensors", special=True)
def _clamp2(draw, vals):
    s = shape(draw, min_dims=0)
    return ([arr(draw, vals, s), arr(draw, vals, s), arr(draw, vals, s)],
            lambda M, F, x, lo, hi: M.clamp(x, lo, hi), "")


@case("prelu", special=True)
def _prelu(draw, vals):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.sampled_from([1, c]))
    return [arr(draw, vals, (n, c)), arr(draw, vals, (k,))], lambda M, F, x, w: F.prelu(x, w), ""


@case("quantile", special=True)
def _quantile(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    q = draw(st.sampled_from([0.0, 0.25, 0.5, 0.7, 1.0]))
    how = draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    return ([arr(draw, vals, s)], lambda M, F, x: (M.quantile(x, q, dim=d, interpolation=how),
                                                 M.nanquantile(x, q, dim=d, interpolation=how)),
            f"q={q}, dim={d}, interpolation={how}")


@case("renorm", special=True)
def _renorm(draw, vals):
    s = shape(draw, min_dims=2)
    p = draw(st.sampled_from([1.0, 2.0, inf]))
    return [arr(draw, vals, s)], lambda M, F, x: M.renorm(x, p, 0, 1.0), f"p={p}"


# (PyTorch's second derivative of renorm at an all-zero slice is NaN; ours is finite)
CASES["renorm"].grad2 = False


# pooling and padding (ties in a window, edges repeated)
@case("max_pool1d", special=True)
def _max_pool1d(draw, vals):
    n, c, w = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(2, 6))
    k = draw(st.integers(1, min(3, w)))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, k // 2))
    ceil = draw(st.booleans())
    return ([arr(draw, vals, (n, c, w))],
            lambda M, F, x: tuple(F.max_pool1d(x, k, stride, pad, ceil_mode=ceil, return_indices=True)),
            f"k={k}, stride={stride}, pad={pad}, ceil={ceil}")


@case("max_pool2d", special=True)
def _max_pool2d(draw, vals):
    h, w = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    k = draw(st.integers(1, 2))
    stride = draw(st.integers(1, 2))
    return ([arr(draw, vals, (1, 2, h, w))],
            lambda M, F, x: tuple(F.max_pool2d(x, k, stride, return_indices=True)), f"k={k}, stride={stride}")


@case("adaptive_max_pool1d", special=True)
def _amp(draw, vals):
    w = draw(st.integers(1, 6))
    o = draw(st.integers(1, 4))
    return ([arr(draw, vals, (1, 2, w))],
            lambda M, F, x: tuple(F.adaptive_max_pool1d(x, o, return_indices=True)), f"output_size={o}")


@case("avg_pool1d", special=True)
def _avg(draw, vals):
    w = draw(st.integers(2, 6))
    k = draw(st.integers(1, min(3, w)))
    pad = draw(st.integers(0, k // 2))
    inc, ceil = draw(st.booleans()), draw(st.booleans())
    return ([arr(draw, vals, (1, 2, w))],
            lambda M, F, x: F.avg_pool1d(x * x, k, 2, pad, ceil_mode=ceil, count_include_pad=inc),
            f"k={k}, pad={pad}, count_include_pad={inc}, ceil={ceil}")


@case("pad", special=True)
def _pad(draw, vals):
    w = draw(st.integers(2, 4))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    lo, hi = draw(st.integers(0, w - 1)), draw(st.integers(0, w - 1))
    return ([arr(draw, vals, (1, 2, w))], lambda M, F, x: F.pad(x * x, (lo, hi), mode=mode),
            f"mode={mode}, pad=({lo}, {hi})")


@case("interpolate_nearest", special=True)
def _interp(draw, vals):
    w = draw(st.integers(1, 4))
    o = draw(st.sampled_from([w, w, draw(st.integers(1, 7))]))    # the input's own size often
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear"]))
    ac = draw(st.sampled_from([None, True])) if mode == "linear" else None
    return ([arr(draw, vals, (1, 2, w))], lambda M, F, x: F.interpolate(x * x, size=o, mode=mode, align_corners=ac),
            f"size={o}, mode={mode}, align_corners={ac}")


@case("interpolate_2d_3d", special=True)
def _interp_nd(draw, vals):
    mode = draw(st.sampled_from(["bilinear", "bicubic", "trilinear"]))
    s = tuple(draw(st.integers(1, 3)) for _ in range(3 if mode == "trilinear" else 2))
    o = tuple(draw(st.sampled_from([n, n, n + 1, max(n - 1, 1)])) for n in s)
    ac = draw(st.sampled_from([None, True]))
    return ([arr(draw, vals, (1, 1) + s)], lambda M, F, x: F.interpolate(x, size=o, mode=mode, align_corners=ac),
            f"size={o}, mode={mode}, align_corners={ac}")


# normalization layers on constant rows (variance 0: the gradient is all eps)
@case("layer_norm", special=True)
def _layer_norm(draw, vals):
    s = shape(draw, min_dims=1)
    k = draw(st.integers(1, len(s)))
    affine = draw(st.booleans())

    def run(M, F, x, w):
        ns = tuple(s[-k:])
        return F.layer_norm(x, ns, w.reshape(-1)[:1].expand(ns) if affine else None, None, eps=1e-5)
    return [arr(draw, vals, s), arr(draw, vals, (1,))], run, f"normalized_shape={s[-k:]}, affine={affine}"


@case("group_batch_instance_norm", special=True)
def _group_norm(draw, vals):
    n, c, w = draw(st.integers(1, 3)), draw(st.sampled_from([2, 4])), draw(st.integers(2, 3))
    which = draw(st.sampled_from(["group", "batch", "instance"]))

    def run(M, F, x):
        if which == "group":
            return F.group_norm(x, 2)
        if which == "batch":
            return F.batch_norm(x, None, None, training=True)
        return F.instance_norm(x)
    return [arr(draw, vals, (n, c, w))], run, which


@case("rms_norm", special=True)
def _rms_norm(draw, vals):
    s = shape(draw, min_dims=1)
    return [arr(draw, vals, s)], lambda M, F, x: F.rms_norm(x, (s[-1],), eps=1e-6), ""


# more losses at their bounds
# (at p = 0 or 1 PyTorch's gradient is (p - y) / max(p (1 - p), 1e-12), ours 0 where the log is clamped at
# -100: a difference nn.functional states; p = 1/2 and 1/4 here)
@case("binary_cross_entropy", special="nan")
def _bce(draw, vals):
    s = shape(draw, min_dims=0)
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    return ([arr(draw, vals, s), arr(draw, vals, s)],
            lambda M, F, x, y: F.binary_cross_entropy(x.abs().clamp(0.5, 1.0) / 2, (y.detach() > 0).double() / 2,
                                                      reduction=red),
            f"reduction={red}")


@case("kl_div", special=True)
def _kl(draw, vals):
    s = shape(draw, min_dims=1)
    lt = draw(st.booleans())
    red = draw(st.sampled_from(["batchmean", "sum", "none"]))
    return ([arr(draw, vals, s), arr(draw, vals, s)],
            lambda M, F, x, y: F.kl_div(x, y if lt else y.abs(), reduction=red, log_target=lt),
            f"log_target={lt}, reduction={red}")


_pair_loss("margin_ranking", lambda M, F, x, y, r: F.margin_ranking_loss(x, y, (x.detach() >= 0) * 2.0 - 1,
                                                                        margin=0.5, reduction=r))
_pair_loss("poisson_nll", lambda M, F, x, y, r: F.poisson_nll_loss(x, y.detach().abs(), reduction=r))
_pair_loss("poisson_nll_rate", lambda M, F, x, y, r: F.poisson_nll_loss(x.abs(), y.detach().abs(), log_input=False,
                                                                        reduction=r))
# (var stays above eps here: PyTorch clamps var in place under no_grad, so its gradient passes the
# clamp, where ours stops there)
_pair_loss("gaussian_nll", lambda M, F, x, y, r: F.gaussian_nll_loss(x, y.detach(), x * x / 4 + 0.25, reduction=r),
           special="nan")


@case("multi_margin", special=True)
def _mm(draw, vals):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    t = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    p = draw(st.sampled_from([1, 2]))
    return [arr(draw, vals, (n, c))], lambda M, F, x: F.multi_margin_loss(x, M.tensor(t), p=p), f"target={t}, p={p}"


@case("triplet_cosine_embedding", special=True)
def _triplet(draw, vals):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    y = draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([1.0, -1.0])))

    def run(M, F, a, b, c):
        return (F.triplet_margin_loss(a, b, c, margin=0.5), F.cosine_embedding_loss(a, b, M.tensor(y), margin=0.5))
    return [arr(draw, vals, (n, m)) for _ in range(3)], run, f"y={y}"


# more indexing
@case("index_put_accumulate", special=True)
def _index_put(draw, vals):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    idx = _index(draw, n, draw(st.integers(1, 5)))
    return ([arr(draw, vals, (n, m)), arr(draw, vals, (len(idx), m))],
            lambda M, F, x, v: (x * x).index_put((M.tensor(idx),), v * v, accumulate=True), f"index={idx}")


@case("masked_select_scatter", special=True)
def _masked(draw, vals):
    s = shape(draw, min_dims=1)
    mask = draw(hnp.arrays(np.bool_, s))

    def run(M, F, x, y):
        m = M.tensor(mask)
        return M.masked_select(x * x, m), (x * 1).masked_scatter(m, y * y)
    return [arr(draw, vals, s), arr(draw, vals, s)], run, f"mask={mask.tolist()}"


@case("embedding_padding", special=True)
def _embedding_pad(draw, vals):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    ids = draw(hnp.arrays(np.int64, (draw(st.integers(1, 6)),), elements=st.integers(0, n - 1)))
    pi = draw(st.integers(0, n - 1))
    return ([arr(draw, vals, (n, m))], lambda M, F, w: F.embedding(M.tensor(ids), w, padding_idx=pi) ** 2,
            f"ids={ids}, padding_idx={pi}")


@case("fold_unfold", special=True)
def _fold(draw, vals):
    h, w = draw(st.integers(2, 3)), draw(st.integers(2, 3))
    return ([arr(draw, vals, (1, 1, h, w))],
            lambda M, F, x: F.fold(F.unfold(x * x, 2), (h, w), 2), "")


# integer answers at ties and NaN, and a few more ops with a choice at ties
reduce_dim("argmax_argmin", lambda M, F, x, d, k: (M.argmax(x, dim=d, keepdim=k), M.argmin(x, dim=d), x.argmax(),
                                                    M.argsort(x, dim=d, stable=True), x * 1))
# (the index PyTorch's nanmedian(dim) gives an all-NaN slice comes from its selection algorithm: 0 up to 3
# elements, n // 2 from 4; the case below keeps one number in each slice)
reduce_dim("nanmedian_dim", lambda M, F, x, d, k: tuple(M.nanmedian(x, dim=d, keepdim=k)), special="inf")


@case("nanmedian_some_nan", special=True)
def _nanmedian(draw, vals):
    x = arr(draw, vals, shape(draw, min_dims=1))
    x[..., 0] = np.where(np.isnan(x[..., 0]), 1.0, x[..., 0])
    k = draw(st.booleans())
    return [x], lambda M, F, x: tuple(M.nanmedian(x, dim=-1, keepdim=k)), f"dim=-1, keepdim={k}"
reduce_dim("aminmax", lambda M, F, x, d, k: tuple(M.aminmax(x, dim=d, keepdim=k)))
reduce_dim("vector_norm_dims", lambda M, F, x, d, k: (M.linalg.vector_norm(x, ord=inf, dim=(0, -1), keepdim=k),
                                                      M.linalg.vector_norm(x, ord=1, dim=(0, -1)),
                                                      M.linalg.vector_norm(x, dim=(0, -1))), min_dims=2)


# (a NaN in the sorted sequence: PyTorch's binary search takes it as smaller than everything, NumPy's and
# ours as larger)
@case("searchsorted", special="inf", grad2=False)
def _searchsorted(draw, vals):
    n = draw(st.integers(1, 5))
    right = draw(st.booleans())

    def run(M, F, seq, v):
        s = M.sort(seq.detach()).values
        return M.searchsorted(s, v.detach(), right=right), M.bucketize(v.detach(), s, right=right), v * 1
    return [arr(draw, vals, (n,)), arr(draw, vals, (draw(st.integers(1, 4)),))], run, f"right={right}"


@case("lerp", special=True)
def _lerp(draw, vals):
    s = shape(draw, min_dims=0)
    w = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5]))
    return ([arr(draw, vals, s), arr(draw, vals, s), arr(draw, vals, s)],
            lambda M, F, a, b, t: (M.lerp(a, b, w), M.lerp(a, b, t / 2)), f"weight={w}")


@case("addcdiv", special=True)
def _addcdiv(draw, vals):
    s = shape(draw, min_dims=0)
    return ([arr(draw, vals, s), arr(draw, vals, s), arr(draw, vals, s)],
            lambda M, F, a, b, c: M.addcdiv(a, b, c * c + 0.5, value=0.5), "")


@case("index_fill_take", special=True)
def _index_fill(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    idx = _index(draw, s[d], draw(st.integers(1, 4)))
    flat = _index(draw, int(np.prod(s)), draw(st.integers(1, 6)))

    def run(M, F, x):
        return (x * x).index_fill(d, M.tensor(idx), -1.0), M.take(x * x, M.tensor(flat))
    return [arr(draw, vals, s)], run, f"dim={d}, index={idx}, flat={flat}"


@case("scatter_bool_index", special=True)
def _scatter(draw, vals):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    k = draw(st.integers(1, n))
    idx = np.stack([np.array(draw(st.permutations(range(n))))[:k] for _ in range(m)], axis=1)
    mask = draw(hnp.arrays(np.bool_, (n, m)))

    def run(M, F, x, src):
        return (x * x).scatter(0, M.tensor(idx), src * src), x[M.tensor(mask)] ** 2
    return [arr(draw, vals, (n, m)), arr(draw, vals, (k, m))], run, f"index={idx.tolist()}, mask={mask.tolist()}"


# more nn ops at their ties and bounds
@case("max_pool2d_pad_dilation", special=True)
def _max_pool2d_more(draw, vals):
    h, w = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    k, d = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pad = draw(st.integers(0, k // 2))
    ceil = draw(st.booleans())
    return ([arr(draw, vals, (1, 2, h, w))],
            lambda M, F, x: tuple(F.max_pool2d(x, k, 1, pad, dilation=d, ceil_mode=ceil, return_indices=True)),
            f"k={k}, dilation={d}, pad={pad}, ceil={ceil}")


@case("adaptive_pools", special=True)
def _adaptive(draw, vals):
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    o = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))

    def run(M, F, x):
        return (tuple(F.adaptive_max_pool2d(x, o, return_indices=True))
                + (F.adaptive_avg_pool2d(x * x, o), F.adaptive_avg_pool1d(x[0] * x[0], o[1])))
    return [arr(draw, vals, (1, 2, h, w))], run, f"output_size={o}"


@case("embedding_max_norm", special=False)
def _embedding_max_norm(draw, vals):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    ids = draw(hnp.arrays(np.int64, (draw(st.integers(1, 5)),), elements=st.integers(0, n - 1)))
    mn, p = draw(st.sampled_from([0.5, 1.0, 2.0])), draw(st.sampled_from([1.0, 2.0]))

    def run(M, F, w):
        w2 = (w * 1).detach().requires_grad_()    # max_norm renormalizes its weight in place
        return F.embedding(M.tensor(ids), w2, max_norm=mn, norm_type=p) * w, w2 * 1
    return [arr(draw, vals, (n, m))], run, f"ids={ids}, max_norm={mn}, norm_type={p}"


@case("nll_loss_weight", special=True)
def _nll_w(draw, vals):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    t = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    ii = draw(st.sampled_from([-100, 0]))
    w = [1.0, 0.5, 2.0, 0.0][:c]
    return ([arr(draw, vals, (n, c))],
            lambda M, F, x: F.nll_loss(x, M.tensor(t), weight=M.tensor(w, dtype=M.float64), reduction=red,
                                       ignore_index=ii), f"target={t.tolist()}, red={red}, ignore={ii}")


@case("bce_with_logits_pos_weight", special=True)
def _bcel(draw, vals):
    s = shape(draw, min_dims=1)
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    pw = draw(st.booleans())

    def run(M, F, x, y, p):
        return F.binary_cross_entropy_with_logits(x, (y.detach() > 0).double() / 2 + (y.detach() > 1) / 2,
                                                  weight=p.detach().abs() if not pw else None,
                                                  pos_weight=p.detach().abs() if pw else None, reduction=red)
    return [arr(draw, vals, s), arr(draw, vals, s), arr(draw, vals, s[-1:])], run, f"pos_weight={pw}, red={red}"


@case("hinge_soft_margin", special=True)
def _hinge(draw, vals):
    s = shape(draw, min_dims=1)
    y = draw(hnp.arrays(np.float64, s, elements=st.sampled_from([1.0, -1.0])))
    red = draw(st.sampled_from(["mean", "sum", "none"]))

    def run(M, F, x):
        t = M.tensor(y)
        return (F.hinge_embedding_loss(x, t, margin=0.5, reduction=red), F.soft_margin_loss(x, t, reduction=red),
                F.multilabel_soft_margin_loss(x.reshape(1, -1), (t.reshape(1, -1) > 0).double()))
    return [arr(draw, vals, s)], run, f"y={y.tolist()}, red={red}"


@case("glu_rrelu_eval", special=True)
def _glu(draw, vals):
    s = shape(draw, min_dims=1)
    d = dim_of(draw, len(s))
    s = tuple(2 * n if i == d % len(s) else n for i, n in enumerate(s))
    return ([arr(draw, vals, s)], lambda M, F, x: (F.glu(x, d), F.rrelu(x, 0.25, 0.5, training=False)),
            f"dim={d}")


@case("normalize_cosine_pairwise", special=False)
def _normalize(draw, vals):
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    p = draw(st.sampled_from([1.0, 2.0]))

    def run(M, F, a, b):
        return (F.normalize(a, p=p, dim=1), F.cosine_similarity(a, b, dim=1), F.pairwise_distance(a, b, p=p))
    return [arr(draw, vals, (n, m)), arr(draw, vals, (n, m))], run, f"p={p}"


@case("kl_div_zero_target", special=True)
def _kl0(draw, vals):
    s = shape(draw, min_dims=1)
    red = draw(st.sampled_from(["batchmean", "sum", "none", "mean"]))
    return ([arr(draw, vals, s), arr(draw, vals, s)],
            lambda M, F, x, y: F.kl_div(x, y * (y > 0), reduction=red), f"reduction={red}")


@case("multilabel_margin", special=True)
def _mlm(draw, vals):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    t = draw(hnp.arrays(np.int64, (n, c), elements=st.integers(-1, c - 1)))
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    return ([arr(draw, vals, (n, c))], lambda M, F, x: F.multilabel_margin_loss(x, M.tensor(t), reduction=red),
            f"target={t.tolist()}, red={red}")


@case("pools_3d", special=True)
def _pools3d(draw, vals):
    s = tuple(draw(st.integers(1, 3)) for _ in range(3))
    o = tuple(draw(st.integers(1, 3)) for _ in range(3))

    def run(M, F, x):
        return (F.adaptive_avg_pool3d(x * x, o),) + tuple(F.adaptive_max_pool3d(x, o, return_indices=True))
    return [arr(draw, vals, (1, 1) + s)], run, f"output_size={o}"


@case("lp_pool_lrn", special=False)
def _lp(draw, vals):
    w = draw(st.integers(2, 5))
    p = draw(st.sampled_from([1.0, 2.0, 3.0]))
    k = draw(st.integers(1, 2))
    return ([arr(draw, vals, (1, 3, w))],
            lambda M, F, x: (F.lp_pool1d(x * x + 0.5, p, k), F.local_response_norm(x, 2)), f"p={p}, k={k}")


# -- running and comparing ---------------------------------------------------------------------
class _Ag:
    M, F = ag, agF

    @staticmethod
    def leaf(a):
        return ag.tensor(a, requires_grad=True)

    @staticmethod
    def const(a):
        return ag.tensor(a)

    @staticmethod
    def grad(out, ins, create_graph=False):
        return ag.autograd.grad(out, ins, create_graph=create_graph, allow_unused=True)

    @staticmethod
    def array(t):
        return np.array(t.detach().numpy())


class _Torch:
    @staticmethod
    def leaf(a):
        return torch.tensor(a, requires_grad=True)

    @staticmethod
    def const(a):
        return torch.tensor(a)

    @staticmethod
    def grad(out, ins, create_graph=False):
        return torch.autograd.grad(out, ins, create_graph=create_graph, allow_unused=True)

    @staticmethod
    def array(t):
        return np.array(t.detach().numpy(force=True))


def run_case(B, leaves, run, seed):
    """Outputs, loss gradients and second derivatives (None where a stage fails: (stage, error))."""
    M, F = (ag, agF) if B is _Ag else (torch, tF)
    xs = [B.leaf(a) for a in leaves]
    res = {"values": None, "grads": None, "grads2": None, "error": None}
    try:
        out = run(M, F, *xs)
    except Exception as e:  # noqa: BLE001 (compared below)
        res["error"] = ("forward", e)
        return res
    outs = list(out) if isinstance(out, tuple) else [out]
    res["values"] = [B.array(o) for o in outs]
    rng = np.random.default_rng(seed)
    loss = None
    for o in outs:
        if o.dtype in (torch.float64 if B is _Torch else np.float64,):
            w = rng.standard_normal(tuple(o.shape))   # drawn either way: the libraries may differ on requires_grad
            if o.requires_grad:
                term = (o * B.const(w)).sum()
                loss = term if loss is None else loss + term
    if loss is None:
        return res
    try:
        gs = B.grad(loss, xs, create_graph=True)
    except Exception as e:  # noqa: BLE001
        res["error"] = ("grad", e)
        return res
    res["grads"] = [np.zeros(a.shape) if g is None else B.array(g) for g, a in zip(gs, leaves)]
    live = [(g, B.const(rng.standard_normal(a.shape))) for g, a in zip(gs, leaves)
            if g is not None and g.requires_grad]
    if not live:
        res["grads2"] = [np.zeros(a.shape) for a in leaves]
        return res
    try:
        g2 = B.grad(sum((g * u).sum() for g, u in live), xs)
    except Exception as e:  # noqa: BLE001
        res["error"] = ("grad2", e)
        return res
    res["grads2"] = [np.zeros(a.shape) if g is None else B.array(g) for g, a in zip(g2, leaves)]
    return res


def _close(ours, theirs, what):
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} (autograd_core) vs {theirs.shape} (torch)"
    if ours.dtype.kind != "f" or theirs.dtype.kind != "f":
        np.testing.assert_array_equal(ours, theirs, err_msg=f"{what} (integers) differs")
        return
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: NaN positions differ "
                                                                            "(x: autograd_core, y: torch)")
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True,
                               err_msg=f"{what} differs (actual: autograd_core, desired: torch)")


def check_case(name, data, special):
    c = CASES[name]
    vals = SPECIAL[c.special] if special else TIES
    leaves, run, info = data.draw(st.composite(lambda draw: c.build(draw, vals))())
    seed = data.draw(st.integers(0, 2 ** 16))
    note(f"{name}({info}) on {[a.tolist() for a in leaves]}, seed {seed}")
    with np.errstate(all="ignore"):
        ours = run_case(_Ag, leaves, run, seed)
    theirs = run_case(_Torch, leaves, run, seed)
    stages = ["forward", "grad", "grad2"]
    if theirs["error"] is not None:
        t_stage = theirs["error"][0]
        note(f"torch raised at the {t_stage} stage: {theirs['error'][1]!r}")
        if t_stage == "forward":
            assert ours["error"] is not None, f"torch refused {name}({info}) ({theirs['error'][1]}); we did not"
            return
    if ours["error"] is not None:
        o_stage, o_exc = ours["error"]
        if theirs["error"] is None or stages.index(o_stage) < stages.index(theirs["error"][0]):
            raise AssertionError(f"autograd_core raised at the {o_stage} stage, torch did not: "
                                 f"{type(o_exc).__name__}: {o_exc}") from o_exc
    assert len(ours["values"]) == len(theirs["values"]), "number of outputs"
    for i, (a, t) in enumerate(zip(ours["values"], theirs["values"])):
        _close(a, t, f"output {i}")
    # with NaN or inf leaves only first derivatives: where a second derivative meets a NaN, which of
    # 0 * NaN (NaN) and a mask (0) PyTorch's double backward uses differs from op to op, and even
    # between its vector and scalar loops
    for stage in ("grads", "grads2") if c.grad2 and not special else ("grads",):
        if ours[stage] is None or theirs[stage] is None:
            continue
        for i, (a, t) in enumerate(zip(ours[stage], theirs[stage])):
            _close(a, t, f"{'gradient' if stage == 'grads' else 'second derivative'} of leaf {i}")


needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this test (optional)")


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")   # torch: std/var with too few elements
@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=_BASE, **_SETTINGS)
@given(data=st.data())
def test_ties_and_zeros_match_torch(name, data):
    """Leaves drawn from {0, +-0.5, +-1, +-2}: values, gradients and second derivatives as PyTorch's."""
    check_case(name, data, special=False)


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.special))
@settings(max_examples=max(_BASE * 2 // 3, 5), **_SETTINGS)
@given(data=st.data())
def test_nan_and_inf_match_torch(name, data):
    """The same with NaN and +-inf among the leaf values (values and first derivatives)."""
    check_case(name, data, special=True)


# -- regression tests: PyTorch's answers written out (they run without torch too) ---------------
def _sigmoid(v):
    return 1 / (1 + math.exp(-v))


STATED = {
    # name: (f(M, F, *xs), points, first derivatives of f(...).sum(), second derivatives (the gradient of
    # the sum of the first ones), or None where not stated)
    "elu at 0: slope alpha, but no curvature (PyTorch masks its double backward with x < 0)": (
        lambda M, F, x: F.elu(x, alpha=0.5), [[-1.0, 0.0, 1.0]],
        [[0.5 * math.exp(-1), 0.5, 1.0]], [[0.5 * math.exp(-1), 0.0, 0.0]]),
    "softplus at beta x == threshold: slope sigmoid(threshold), no curvature": (
        lambda M, F, x: F.softplus(x, beta=2.0, threshold=2.0), [[1.0, 0.0, 2.0]],
        [[_sigmoid(2.0), 0.5, 1.0]], [[0.0, 0.5, 0.0]]),
    "clamp with tensor bounds: where x < min == max no one gets the gradient; crossed bounds give max": (
        lambda M, F, x, lo, hi: M.clamp(x, lo, hi), [[0.0, 0.0, 3.0, 1.0], [1.0, 1.0, 2.0, 2.0], [1.0, 2.0, 2.0, 1.0]],
        [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]], None),
    "prod of a 0-d tensor: the identity, also at NaN and inf": (
        lambda M, F, x: x[0].prod() + x[1].prod() * 2, [[nan, inf]], [[1.0, 2.0]], None),
    "xlog1py: d/dx at x == 0 is log1p(y), d/dy = x / (1 + y) unmasked": (
        lambda M, F, x, y: M.special.xlog1py(x, y), [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
        [[math.log(2.0), 0.0, 0.0], [0.0, 0.0, 1.0]], [[0.5, 1.0, 1.0], [0.5, 1.0, 0.0]]),
    "xlog1py at y == -1: no gradient to x == 0, 0 / 0 to y": (
        lambda M, F, x, y: M.special.xlog1py(x, y), [[0.0, 1.0], [-1.0, -1.0]], [[0.0, -inf], [nan, inf]], None),
    "remainder: d/dy = -(x // y), and 1 // 0.1 is 9 (floor(1 / 0.1) would be 10)": (
        lambda M, F, x, y: M.remainder(x, y), [[1.0, 7.0, -7.0], [0.1, 2.0, 2.0]],
        [[1.0, 1.0, 1.0], [-9.0, -3.0, 4.0]], None),
    "entr: d/dx = -(1 + log x): inf at 0, NaN below 0": (
        lambda M, F, x: M.special.entr(x), [[0.0, -1.0, 0.5]], [[inf, nan, -(1 + math.log(0.5))]], None),
    "prelu at x == 0: slope w, the weight's gradient x = 0, and no d2/dx dw (PyTorch masks with x >= 0)": (
        lambda M, F, x, w: F.prelu(x, w), [[-1.0, 0.0, 1.0], [0.25]],
        [[0.25, 0.25, 1.0], [-1.0]], [[1.0, 0.0, 0.0], [1.0]]),
    "huber_loss where x - y is NaN: slope NaN, curvature 0 (PyTorch's is the mask |x - y| < delta)": (
        lambda M, F, x, y: F.huber_loss(x, y.detach(), reduction="sum"),
        [[nan, 1.0, 0.5, 2.0], [0.0, nan, 0.0, 0.0]],
        [[nan, nan, 0.5, 1.0], [0.0] * 4], [[0.0, 0.0, 1.0, 0.0], [0.0] * 4]),
    "smooth_l1_loss where x - y is NaN: slope NaN, curvature 0 (the mask |x - y| < beta, over beta)": (
        lambda M, F, x, y: F.smooth_l1_loss(x, y.detach(), reduction="sum", beta=0.5),
        [[nan, 1.0, 0.25, 2.0], [0.0, nan, 0.0, 0.0]],
        [[nan, nan, 0.5, 1.0], [0.0] * 4], [[0.0, 0.0, 2.0, 0.0], [0.0] * 4]),
    "soft_margin_loss is log1p(exp(-y x)) as written: inf past exp's overflow, with a NaN slope (inf / inf)": (
        lambda M, F, x: F.soft_margin_loss(x, M.tensor([1.0, 1.0, -1.0], dtype=M.float64), reduction="sum"),
        [[-800.0, 0.0, 40.0]], [[nan, -0.5, 1.0]], None),
    "bce_with_logits with an inf weight: d/dx = (sigmoid(x) - y) w, one factor (not inf - inf from two terms)": (
        lambda M, F, x: F.binary_cross_entropy_with_logits(
            x, M.tensor([0.0, 1.0, 0.5], dtype=M.float64), weight=M.tensor([inf, inf, inf], dtype=M.float64),
            reduction="sum"), [[0.0, 0.0, 0.0]], [[inf, -inf, nan]], None),
    "copysign: other's gradient is a zeros tensor, so no NaN reaches it from x == 0 at second order": (
        lambda M, F, x, y: M.copysign(x, y) * x, [[0.0, 1.0, -2.0], [1.0, -1.0, 0.0]],
        [[0.0, -2.0, 4.0], [0.0, 0.0, 0.0]], [[nan, -2.0, -2.0], [0.0, 0.0, 0.0]]),
}


def _stated_grads(M, F, f, points):
    xs = [M.tensor(np.array(p, dtype=np.float64), requires_grad=True) for p in points]
    grad = ag.autograd.grad if M is ag else torch.autograd.grad
    with np.errstate(all="ignore"):
        gs = grad(f(M, F, *xs).sum(), xs, create_graph=True, allow_unused=True)
        live = [g for g in gs if g is not None and g.requires_grad]
        g2 = grad(sum(g.sum() for g in live), xs, allow_unused=True) if live else [None] * len(xs)
    arrays = [[np.zeros(x.shape) if g is None else np.asarray(g.detach().numpy()) for g, x in zip(h, xs)]
              for h in (gs, g2)]
    return arrays[0], arrays[1]


def _assert_stated(got, want, what):
    for g, w in zip(got, want):
        w = np.array(w)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{what}: NaN positions")
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("name", list(STATED))
def test_stated_convention(name):
    f, points, first, second = STATED[name]
    g1, g2 = _stated_grads(ag, agF, f, points)
    _assert_stated(g1, first, f"{name} (first derivatives)")
    if second is not None:
        _assert_stated(g2, second, f"{name} (second derivatives)")


@needs_torch
@pytest.mark.parametrize("name", list(STATED))
def test_stated_convention_is_pytorchs(name):
    """The answers written out above are PyTorch's."""
    f, points, first, second = STATED[name]
    g1, g2 = _stated_grads(torch, tF, f, points)
    _assert_stated(g1, first, f"{name} (first derivatives, torch)")
    if second is not None:
        _assert_stated(g2, second, f"{name} (second derivatives, torch)")


def test_pow_with_a_tensor_exponent_of_one_half_is_pow_not_sqrt():
    """x ** y for a tensor y of 0.5 (0-d, or broadcast) is pow, as PyTorch's: inf at -inf and +0.0 at -0.0
    (a Python-number 0.5 is sqrt in both libraries: NaN and -0.0)."""
    x = ag.tensor([-inf, -0.0, 4.0], dtype=ag.float64)
    with np.errstate(all="ignore"):
        for y in (ag.tensor(0.5, dtype=ag.float64), ag.tensor([0.5], dtype=ag.float64)):
            out = (x ** y).numpy()
            np.testing.assert_array_equal(out, [inf, 0.0, 2.0])
            assert not np.signbit(out[1])
        zero_d = ag.pow(ag.tensor(-inf, dtype=ag.float64), ag.tensor(0.5, dtype=ag.float64))
        np.testing.assert_array_equal(zero_d.numpy(), inf)
        sq = (x ** 0.5).numpy()
        np.testing.assert_array_equal(sq, [nan, -0.0, 2.0])
        assert np.signbit(sq[1])
    if torch is not None:
        t = torch.tensor(x.numpy())
        for y in (torch.tensor(0.5, dtype=torch.float64), torch.tensor([0.5], dtype=torch.float64), 0.5):
            ours = (x ** (y if isinstance(y, float) else ag.tensor(y.numpy()))).numpy()
            np.testing.assert_array_equal(ours, (t ** y).numpy())
            np.testing.assert_array_equal(np.signbit(ours[1]), np.signbit((t ** y).numpy()[1]))


def test_lerp_picks_its_formula_by_the_size_of_the_weight():
    """PyTorch computes lerp as start + w (end - start) where |w| < 0.5, else end - (end - start) (1 - w):
    with w = -1 and end = inf that is inf - inf = NaN (start + w (end - start) would be -inf)."""
    a, b = ag.tensor([0.0, 1.0], dtype=ag.float64), ag.tensor([inf, 3.0], dtype=ag.float64)
    with np.errstate(all="ignore"):
        for w in (-1.0, ag.tensor([-1.0, -1.0], dtype=ag.float64)):
            np.testing.assert_array_equal(ag.lerp(a, b, w).numpy(), [nan, -1.0])
        np.testing.assert_array_equal(ag.lerp(a, b, -0.25).numpy(), [-inf, 0.5])
    if torch is not None:
        ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
        for w in (-1.0, -0.25, 0.75, 2.0):
            with np.errstate(all="ignore"):
                ours = ag.lerp(a, b, w).numpy()
            np.testing.assert_array_equal(ours, torch.lerp(ta, tb, w).numpy(), err_msg=str(w))


def test_divide_floor_is_floor_division():
    """div(rounding_mode='floor') is Python's //, as PyTorch's: 1 // 0.1 is 9, inf // 2.5 is NaN,
    -5 // inf is -1; 'trunc' rounds the true quotient."""
    a = ag.tensor([1.0, inf, -5.0, 7.5, -7.0], dtype=ag.float64)
    b = ag.tensor([0.1, 2.5, inf, 2.5, 2.0], dtype=ag.float64)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(ag.div(a, b, rounding_mode="floor").numpy(), [9.0, nan, -1.0, 3.0, -4.0])
        np.testing.assert_array_equal(ag.div(a, b, rounding_mode="trunc").numpy(), [10.0, inf, -0.0, 3.0, -3.0])
    if torch is not None:
        ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
        for mode in ("floor", "trunc"):
            np.testing.assert_array_equal(ag.div(a, b, rounding_mode=mode).numpy(),
                                          torch.div(ta, tb, rounding_mode=mode).numpy(), err_msg=mode)


@pytest.mark.parametrize("mode, spatial", [("linear", (3,)), ("bilinear", (1, 3)), ("trilinear", (1, 1, 3))])
@pytest.mark.parametrize("how", ["size", "scale 1", "scale 1.2"])
def test_linear_interpolation_at_the_inputs_own_size_keeps_nan_and_inf_in_place(mode, spatial, how):
    """At the input's own size (also from a scale_factor of 1.2 that floors back to it) PyTorch's linear
    modes read each pixel as 1 x + 0 x: [0, NaN, inf] gives [0, NaN, NaN], the NaN and inf in their own
    places (inf * 0 is NaN), none reaching a neighbour; the gradient is the identity's."""
    x0 = np.array([0.0, nan, inf]).reshape((1, 1) + spatial)
    kw = dict(size=spatial) if how == "size" else dict(scale_factor=1.0 if how == "scale 1" else 1.2)
    want = [0.0, nan, nan]
    x = ag.tensor(x0, requires_grad=True)
    with np.errstate(all="ignore"):
        out = agF.interpolate(x, mode=mode, **kw)
        (g,) = ag.autograd.grad((out * ag.tensor(np.full(x0.shape, 2.0))).sum(), [x])
    np.testing.assert_array_equal(out.detach().numpy().ravel(), want)
    np.testing.assert_array_equal(g.numpy().ravel(), [2.0, 2.0, 2.0])
    if torch is not None:
        t = torch.tensor(x0, requires_grad=True)
        tout = tF.interpolate(t, mode=mode, **kw)
        (tg,) = torch.autograd.grad((tout * 2.0).sum(), [t])
        np.testing.assert_array_equal(tout.detach().numpy().ravel(), want)
        np.testing.assert_array_equal(tg.numpy().ravel(), [2.0, 2.0, 2.0])

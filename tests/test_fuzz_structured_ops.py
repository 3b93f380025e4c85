"""Differential fuzzing of structured ops against PyTorch: linalg, scatter and indexing, and the nn ops
with a layout (unfold, grid_sample, conv with groups, attention, ctc).

The style of ``test_fuzz_edge_values.py`` (whose runner this file reuses), on ordinary values rather
than ties: each case draws shapes and options with hypothesis, and its leaves from a drawn seed
(standard normal), so a failing example shrinks to small shapes. Matrices are built to be well
conditioned, and where a factorisation is unique only up to sign (eigenvectors, singular vectors) the
case compares sign-free functions of it (squares, products of paired vectors, projectors). Outputs,
gradients of sum(out * W) and second derivatives are compared in float64.
"""
import numpy as np
import pytest
from hypothesis import given, note, settings, strategies as st

from test_fuzz_edge_values import _SETTINGS, _BASE, _Ag, _Torch, _close, run_case, torch

CASES = {}


def case(name, grad2=True):
    def deco(build):
        CASES[name] = (build, grad2)
        return build
    return deco


def normal(rng, *shape):
    return rng.standard_normal(shape)


def well_conditioned(rng, n, batch=()):
    """A random n x n matrix with singular values in [1, 2]."""
    q1, _ = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    s = rng.uniform(1.0, 2.0, batch + (n,))
    return q1 @ (s[..., :, None] * q2)


def separated(rng, k):
    """k values at least 0.5 apart, in [1, 1 + k]."""
    return 1.0 + np.sort(rng.permutation(2 * k)[:k]) * 0.5 + rng.uniform(0, 0.1, k)


def spd(rng, n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def sym_separated(rng, n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * (separated(rng, n) * rng.choice([-1, 1]))) @ q.T


# -- linalg ------------------------------------------------------------------------------------
@case("det_slogdet_inv")
def _det(draw, rng):
    n, b = draw(st.integers(1, 4)), draw(st.sampled_from([(), (2,)]))
    return ([well_conditioned(rng, n, b)],
            lambda M, F, a: (M.linalg.det(a), *M.linalg.slogdet(a), M.linalg.inv(a), M.det(a * a)), f"n={n}")


@case("solve")
def _solve(draw, rng):
    n, k, vec = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.booleans())
    b = normal(rng, n) if vec else normal(rng, n, k)
    return [well_conditioned(rng, n), b], lambda M, F, a, y: M.linalg.solve(a, y), f"n={n}, vec={vec}"


@case("cholesky")
def _chol(draw, rng):
    n, upper = draw(st.integers(1, 4)), draw(st.booleans())
    return ([spd(rng, n)], lambda M, F, a: M.linalg.cholesky((a + a.mT) / 2, upper=upper), f"upper={upper}")


@case("qr")
def _qr(draw, rng):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    mode = draw(st.sampled_from(["reduced", "complete"] if m <= n else ["reduced"]))

    def run(M, F, a):
        q, r = M.linalg.qr(a, mode=mode)
        return q @ r, q * q, r * r
    return [normal(rng, m, n) + np.eye(m, n) * 3], run, f"mode={mode}"


@case("svd")
def _svd(draw, rng):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = min(m, n)
    u, _ = np.linalg.qr(normal(rng, m, m))
    v, _ = np.linalg.qr(normal(rng, n, n))
    a = u[:, :k] @ np.diag(separated(rng, k)[::-1]) @ v[:, :k].T

    def run(M, F, x):
        u, s, vh = M.linalg.svd(x, full_matrices=False)
        return s, M.linalg.svdvals(x), (u * u), (vh * vh), u @ vh, (u * s) @ vh
    return [a], run, f"{m}x{n}"


@case("eigh")
def _eigh(draw, rng):
    n, uplo = draw(st.integers(1, 4)), draw(st.sampled_from(["L", "U"]))

    def run(M, F, a):
        s = (a + a.mT) / 2
        w, v = M.linalg.eigh(s, UPLO=uplo)
        return w, v * v, M.linalg.eigvalsh(s), (v * w) @ v.mT
    return [sym_separated(rng, n)], run, f"UPLO={uplo}"


@case("pinv")
def _pinv(draw, rng):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = min(m, n)
    u, _ = np.linalg.qr(normal(rng, m, m))
    v, _ = np.linalg.qr(normal(rng, n, n))
    return [u[:, :k] @ np.diag(separated(rng, k)) @ v[:, :k].T], lambda M, F, a: M.linalg.pinv(a), f"{m}x{n}"


@case("matrix_norm")
def _mnorm(draw, rng):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ord_ = draw(st.sampled_from(["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]))
    keep = draw(st.booleans())
    k = min(m, n)
    u, _ = np.linalg.qr(normal(rng, m, m))
    v, _ = np.linalg.qr(normal(rng, n, n))
    a = u[:, :k] @ np.diag(separated(rng, k)) @ v[:, :k].T
    return [a[None].repeat(2, 0) * [[[1.0]], [[-0.5]]]], \
        lambda M, F, x: M.linalg.matrix_norm(x, ord=ord_, keepdim=keep), f"ord={ord_}, keepdim={keep}"


def _vnorm(draw, rng, zeros):
    s = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    ord_ = draw(st.sampled_from([2, 1, 3, 0.5, -1, np.inf, -np.inf]))
    dim = draw(st.sampled_from([None, 0, -1, (0, -1)] if len(s) > 1 else [None, 0]))
    keep = draw(st.booleans())
    x = normal(rng, *s)
    if zeros:
        x[rng.random(s) < 0.3] = 0.0
    return ([x], lambda M, F, x: M.linalg.vector_norm(x, ord=ord_, dim=dim, keepdim=keep),
            f"ord={ord_}, dim={dim}, keepdim={keep}")


case("vector_norm")(lambda draw, rng: _vnorm(draw, rng, False))
# (first derivatives only: at a zero entry PyTorch's second derivative for ord < 2 is NaN (its rule's
# |x|^(ord - 2) at 0) where this engine's is 0)
case("vector_norm_zeros", grad2=False)(lambda draw, rng: _vnorm(draw, rng, True))


@case("cross")
def _cross(draw, rng):
    b, dim = draw(st.integers(1, 3)), draw(st.sampled_from([-1, 1]))
    s = (b, 3) if dim == -1 else (b, 3, 2)
    return [normal(rng, *s), normal(rng, *s)], lambda M, F, x, y: M.linalg.cross(x, y, dim=dim), f"dim={dim}"


@case("tensordot_kron_trace")
def _tensordot(draw, rng):
    a, b, c = (draw(st.integers(1, 3)) for _ in range(3))

    def run(M, F, x, y, z):
        return (M.tensordot(x, y, dims=([1, 2], [0, 1])), M.tensordot(y, x, dims=1), M.kron(z, x[0]),
                z.trace(), M.tensordot(z, z, dims=0))
    # (torch.trace is the tape tracer here, a documented difference: x.trace() is the matrix trace)
    return [normal(rng, a, b, c), normal(rng, b, c, a), normal(rng, a, a)], run, ""


@case("einsum")
def _einsum(draw, rng):
    eq, shp = draw(st.sampled_from([
        ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("ii->i", [(3, 3)]),
        ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]), ("ij,ij->i", [(2, 3), (2, 3)]),
        ("...ij,...jk", [(2, 2, 3), (3, 2)]), ("ijk->kji", [(2, 3, 4)]), ("bii->bi", [(2, 3, 3)]),
        ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("iij->j", [(2, 2, 3)])]))
    return [normal(rng, *s) for s in shp], lambda M, F, *xs: M.einsum(eq, *xs), eq


@case("diag_embed_tri")
def _diag_embed(draw, rng):
    n, off = draw(st.integers(1, 4)), draw(st.integers(-2, 2))
    d1, d2 = draw(st.sampled_from([(-2, -1), (0, 2), (-1, -2), (1, 0)]))

    def run(M, F, x, y):
        return (M.diag_embed(x, offset=off, dim1=d1, dim2=d2), M.tril(y, off), M.triu(y, -off), y.tril(off) * y)
    return [normal(rng, 2, n), normal(rng, 2, n, n + 1)], run, f"offset={off}, dims={d1, d2}"


@case("cumulative")
def _cum(draw, rng):
    s = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    d = draw(st.integers(-len(s), len(s) - 1))
    x = normal(rng, *s)
    # ties and zeros: some of the entries set to 0 or to a repeated value
    x[rng.random(s) < 0.3] = 0.0
    x[rng.random(s) < 0.2] = 1.5

    def run(M, F, x):
        return (M.cumprod(x, d), M.logcumsumexp(x, d), *M.cummax(x, d), *M.cummin(x, d))
    return [x], run, f"dim={d}"


# -- indexing and scatter ----------------------------------------------------------------------
def _idx(draw, n, k):
    return np.array(draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)), dtype=np.int64)


@case("scatter")
def _scatter(draw, rng):
    n, m, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    dim = draw(st.sampled_from([0, 1]))
    shp = (k, m) if dim == 0 else (n, k)
    hi = n if dim == 0 else m
    idx = np.array(draw(st.lists(st.integers(0, hi - 1), min_size=k * shp[1 - dim],
                                 max_size=k * shp[1 - dim])), dtype=np.int64).reshape(shp)
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    incl = draw(st.booleans())
    src = normal(rng, *shp)
    # ties for amax/amin, between src entries and with self
    src[rng.random(shp) < 0.3] = 0.5
    x = normal(rng, n, m)
    x[rng.random((n, m)) < 0.3] = 0.5

    def run(M, F, x, s):
        i = M.tensor(idx)
        return (M.scatter(x, dim, i, s), M.scatter_add(x, dim, i, s),
                M.scatter_reduce(x, dim, i, s, reduce, include_self=incl))
    return [x, src], run, f"dim={dim}, index={idx.tolist()}, reduce={reduce}, include_self={incl}"


@case("index_put_fill")
def _index_put(draw, rng):
    n, m, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    idx = _idx(draw, n, k)
    acc = draw(st.booleans())
    fidx = _idx(draw, m, draw(st.integers(1, 3)))

    def run(M, F, x, v):
        y = x * 1
        y.index_put_((M.tensor(idx),), v, accumulate=acc)
        z = (x * 1).index_put((M.tensor(idx), M.tensor(idx * 0)), v[:, 0], accumulate=True)
        return y, z, M.index_fill(x, 1, M.tensor(fidx), -1.0), x.index_fill(0, M.tensor(idx[:1]), M.tensor(2.0))
    return [normal(rng, n, m), normal(rng, k, m)], run, f"index={idx}, accumulate={acc}, fill={fidx}"


@case("masked_take_put")
def _masked(draw, rng):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(n, m)
    bmask = mask[:1] if draw(st.booleans()) else mask
    acc = draw(st.booleans())
    tidx = _idx(draw, n * m, draw(st.integers(1, min(5, n * m))))
    if not acc:
        # put_ without accumulate writes repeated indices in an unspecified order
        tidx = np.unique(tidx)

    def run(M, F, x, y):
        mk = M.tensor(bmask)
        z = x * 1
        z.put_(M.tensor(tidx), y.reshape(-1)[:len(tidx)], accumulate=acc)
        return (M.masked_select(x, mk), x.masked_scatter(mk, y), M.take(x, M.tensor(tidx)), z,
                x[M.nonzero(M.tensor(mask), as_tuple=True)], x[M.tensor(mask)] * 2)
    return [normal(rng, n, m), normal(rng, n, m)], run, f"mask={bmask.tolist()}, take={tidx}, acc={acc}"


@case("gather_broadcast")
def _gather(draw, rng):
    n, m, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    dim = draw(st.sampled_from([0, 1, -1]))
    hi = (n, m, 2)[dim]
    ishape = [n, m, 2]
    ishape[dim] = k
    ishape[(dim + 1) % 3] = draw(st.integers(1, ishape[(dim + 1) % 3]))
    idx = rng.integers(0, hi, ishape)

    def run(M, F, x):
        i = M.tensor(idx)
        return M.gather(x, dim, i), M.take_along_dim(x, M.tensor(idx[..., :1]), dim=dim)
    return [normal(rng, n, m, 2)], run, f"dim={dim}, index={idx.tolist()}"


# -- structured nn ops -------------------------------------------------------------------------
@case("unfold_fold")
def _unfold(draw, rng):
    k, d, p, s = (draw(st.integers(1, 2)) for _ in range(4))
    p -= 1
    h, w = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    if min(h, w) + 2 * p < d * (k - 1) + 1:     # room for one block
        h, w = h + 2, w + 2

    def run(M, F, x):
        u = F.unfold(x, k, dilation=d, padding=p, stride=s)
        return u, F.fold(u * u, (h, w), k, dilation=d, padding=p, stride=s)
    return [normal(rng, 2, 2, h, w)], run, f"k={k}, dilation={d}, padding={p}, stride={s}, {h}x{w}"


@case("pixel_shuffle")
def _pixel(draw, rng):
    r, c = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))

    def run(M, F, x, y):
        return F.pixel_shuffle(x, r), F.pixel_unshuffle(y, r)
    return [normal(rng, 1, c * r * r, h, w), normal(rng, 2, c, h * r, w * r)], run, f"r={r}"


@case("pad_modes")
def _pad(draw, rng):
    mode = draw(st.sampled_from(["reflect", "replicate", "circular", "constant"]))
    nd = draw(st.integers(1, 3))
    spatial = [draw(st.integers(2, 4)) for _ in range(nd)]
    lim = [s - 1 for s in spatial] if mode == "reflect" else spatial if mode == "circular" else [3] * nd
    pads = []
    for lo in reversed(lim):
        pads += [draw(st.integers(0, lo)), draw(st.integers(0, lo))]

    def run(M, F, x):
        return F.pad(x, pads, mode=mode) if mode != "constant" else F.pad(x, pads, value=0.5)
    return [normal(rng, 1, 2, *spatial)], run, f"mode={mode}, pad={pads}"


@case("grid_sample")
def _grid(draw, rng):
    mode = draw(st.sampled_from(["bilinear", "nearest"]))
    pm = draw(st.sampled_from(["zeros", "border", "reflection"]))
    ac = draw(st.booleans())
    nd = draw(st.sampled_from([2, 2, 3]))        # 4-D input, or 5-D (trilinear, PyTorch's other kernel)
    sp = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    gsp = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    # off the pixel centres and edges, where nearest rounds and bilinear's weights change pieces
    grid = rng.uniform(-1.3, 1.3, (2,) + gsp + (nd,))
    if draw(st.booleans()):
        # multiples of 1/8: exact in binary, they put points on pixel centres, on the borders the clamp of
        # border and reflection padding stops at, and halfway between pixels where nearest rounds (the
        # thirds of odd sizes would round differently by one ulp: PyTorch's kernel fuses a multiply-add)
        grid = rng.integers(-12, 13, grid.shape) / 8
    theta = normal(rng, 2, nd, nd + 1) * 0.5

    def run(M, F, x, g, t):
        return (F.grid_sample(x, g, mode=mode, padding_mode=pm, align_corners=ac),
                F.affine_grid(t, [2, 1, *gsp], align_corners=ac))
    return ([normal(rng, 2, 2, *sp), grid, theta], run,
            f"mode={mode}, padding={pm}, align_corners={ac}, input {sp}, grid {gsp}")


@case("embedding_bag", grad2=False)
def _bag(draw, rng):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["sum", "mean", "max"]))
    k = draw(st.integers(1, 6))
    ids = _idx(draw, n, k)
    last = draw(st.booleans())
    # (offsets past the input, or a last offset short of it, crash PyTorch's kernel)
    offs = sorted({0} | set(draw(st.lists(st.integers(0, k - 1), max_size=3))))
    offs = np.array(offs + [k] if last else offs, dtype=np.int64)
    psw = mode == "sum" and draw(st.booleans())
    w = normal(rng, n, m)

    def run(M, F, wt, ps):
        return F.embedding_bag(M.tensor(ids), wt, M.tensor(offs), mode=mode, include_last_offset=last,
                               per_sample_weights=ps if psw else None)
    return [w, normal(rng, k)], run, f"ids={ids}, offsets={offs}, mode={mode}, last={last}, psw={psw}"


@case("conv2d_groups")
def _conv(draw, rng):
    g = draw(st.integers(1, 2))
    cin, cout = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    k1, k2, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    same = draw(st.booleans())
    s = 1 if same else draw(st.integers(1, 2))
    p = "same" if same else draw(st.integers(0, 1))
    h, w = draw(st.integers(d * (k1 - 1) + 1, 5)), draw(st.integers(d * (k2 - 1) + 1, 5))
    bias = draw(st.booleans())

    def run(M, F, x, wt, b):
        return F.conv2d(x, wt, b if bias else None, stride=s, padding=p, dilation=d, groups=g)
    return ([normal(rng, 2, cin, h, w), normal(rng, cout, cin // g, k1, k2), normal(rng, cout)], run,
            f"groups={g}, k={k1, k2}, dilation={d}, stride={s}, padding={p}")


@case("conv_transpose2d")
def _convt(draw, rng):
    g = draw(st.integers(1, 2))
    cin, cout = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    k, s, d, p = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
    op = draw(st.integers(0, max(s, d) - 1))
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))

    def run(M, F, x, wt, b):
        return F.conv_transpose2d(x, wt, b, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    return ([normal(rng, 2, cin, h, w), normal(rng, cin, cout // g, k, k), normal(rng, cout)], run,
            f"groups={g}, k={k}, stride={s}, dilation={d}, padding={p}, output_padding={op}")


@case("ctc_loss", grad2=False)
def _ctc(draw, rng):
    t, c, b = draw(st.integers(2, 6)), draw(st.integers(2, 4)), draw(st.integers(1, 3))
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    inf0 = draw(st.booleans())
    tl = np.array([draw(st.integers(1, t // 2)) for _ in range(b)], dtype=np.int64)
    il = np.array([draw(st.integers(1 if inf0 else 2 * int(l), max(t, 2 * int(l)))) for l in tl], dtype=np.int64)
    tg = rng.integers(1, c, (b, int(tl.max())))
    # repeated labels need a blank between them: the shorter inputs may make some impossible
    # (inf loss), which zero_infinity decides

    def run(M, F, x):
        lp = F.log_softmax(x, dim=-1)
        return F.ctc_loss(lp, M.tensor(tg), M.tensor(il), M.tensor(tl), reduction=red, zero_infinity=inf0)
    return [normal(rng, t, b, c)], run, f"targets={tg.tolist()}, lens={il, tl}, reduction={red}, zero_inf={inf0}"


@case("cosine_embedding_loss")
def _cosemb(draw, rng):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    y = rng.choice([1.0, -1.0], n)
    red, marg = draw(st.sampled_from(["mean", "sum", "none"])), draw(st.sampled_from([0.0, 0.3, -0.3]))
    return ([normal(rng, n, m), normal(rng, n, m)],
            lambda M, F, a, b: F.cosine_embedding_loss(a, b, M.tensor(y), margin=marg, reduction=red),
            f"y={y}, margin={marg}, reduction={red}")


@case("scaled_dot_product_attention")
def _sdpa(draw, rng):
    b, h, lq, lk, e, ev = (draw(st.integers(1, 3)) for _ in range(6))
    causal = draw(st.booleans())
    kind = draw(st.sampled_from(["none", "bool", "float"]))
    if causal:
        kind = "none"
    mask = rng.random((lq, lk)) < 0.7
    mask[:, 0] = True
    fmask = normal(rng, lq, lk)
    scale = draw(st.sampled_from([None, 0.5]))

    def run(M, F, q, k, v):
        am = None if kind == "none" else M.tensor(mask) if kind == "bool" else M.tensor(fmask)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=am, dropout_p=0.0, is_causal=causal, scale=scale)
    return ([normal(rng, b, h, lq, e), normal(rng, b, h, lk, e), normal(rng, b, h, lk, ev)], run,
            f"causal={causal}, mask={kind}, scale={scale}")


@case("multihead_attention", grad2=False)
def _mha(draw, rng):
    e, nh = draw(st.sampled_from([(2, 1), (4, 2), (6, 3)]))
    lq, lk, b = (draw(st.integers(1, 3)) for _ in range(3))
    batch_first, kind, need = draw(st.booleans()), draw(st.sampled_from(["none", "bool", "float", "kpm"])), \
        draw(st.booleans())
    avg = draw(st.booleans())
    mask = rng.random((lq, lk)) < 0.4
    mask[:, 0] = False
    kpm = rng.random((b, lk)) < 0.4
    kpm[:, 0] = False
    fm = normal(rng, lq, lk)
    params = [normal(rng, 3 * e, e) * 0.5, normal(rng, 3 * e), normal(rng, e, e) * 0.5, normal(rng, e)]
    qs = (b, lq, e) if batch_first else (lq, b, e)
    ks = (b, lk, e) if batch_first else (lk, b, e)

    def run(M, F, q, k, v, w_in, b_in, w_out, b_out):
        out = F.multi_head_attention_forward(
            *(x.transpose(0, 1) if batch_first else x for x in (q, k, v)), e, nh, w_in, b_in, None, None, False,
            0.0, w_out, b_out, training=False,
            key_padding_mask=M.tensor(kpm) if kind == "kpm" else None, need_weights=need,
            attn_mask=M.tensor(mask) if kind == "bool" else M.tensor(fm) if kind == "float" else None,
            average_attn_weights=avg)
        return out if need else out[0]
    return ([normal(rng, *qs), normal(rng, *ks), normal(rng, *ks)] + params, run,
            f"e={e}, heads={nh}, batch_first={batch_first}, mask={kind}, need_weights={need}, avg={avg}")


@case("multihead_attention_separate", grad2=False)
def _mha_sep(draw, rng):
    e, nh = draw(st.sampled_from([(2, 1), (4, 2)]))
    kd, vd = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    lq, lk, b = (draw(st.integers(1, 3)) for _ in range(3))
    bkv, zero, causal = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    s_extra = int(bkv) + int(zero)
    # is_causal is only a hint: PyTorch still wants the mask, which (for a square one) is the causal one
    mask = np.triu(np.ones((lq, lk + s_extra), bool), 1) if causal else rng.random((lq, lk + s_extra)) < 0.4
    mask[:, 0] = False
    params = [normal(rng, e, e), normal(rng, e, kd), normal(rng, e, vd), normal(rng, 3 * e), normal(rng, e, e),
              normal(rng, e), normal(rng, 1, 1, e), normal(rng, 1, 1, e)]

    def run(M, F, q, k, v, wq, wk, wv, b_in, w_out, b_out, bk, bv):
        m = M.tensor(np.triu(np.ones((lq, lk), bool), 1) if causal and not s_extra else mask[:, :lk + s_extra])
        out, w = F.multi_head_attention_forward(
            q, k, v, e, nh, None, b_in, bk if bkv else None, bv if bkv else None, zero, 0.0, w_out, b_out,
            training=False, need_weights=True, attn_mask=m, use_separate_proj_weight=True,
            q_proj_weight=wq, k_proj_weight=wk, v_proj_weight=wv, average_attn_weights=False)
        return out, w
    return ([normal(rng, lq, b, e), normal(rng, lk, b, kd), normal(rng, lk, b, vd)] + params, run,
            f"e={e}, heads={nh}, kdim={kd}, vdim={vd}, bias_kv={bkv}, add_zero_attn={zero}, causal={causal}")


@case("multihead_attention_module", grad2=False)
def _mha_module(draw, rng):
    e, nh = draw(st.sampled_from([(2, 1), (4, 2), (6, 3)]))
    lq, lk, b = (draw(st.integers(1, 3)) for _ in range(3))
    bf, need, avg = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    kpm = rng.random((b, lk)) < 0.4
    kpm[:, 0] = False
    am = rng.random((lq, lk)) < 0.3
    am[:, 0] = False
    state = {"in_proj_weight": normal(rng, 3 * e, e), "in_proj_bias": normal(rng, 3 * e),
             "out_proj.weight": normal(rng, e, e), "out_proj.bias": normal(rng, e)}

    def run(M, F, q, k, v):
        if M is torch:
            mha = torch.nn.MultiheadAttention(e, nh, batch_first=bf).double()
        else:
            import nn
            mha = nn.MultiheadAttention(e, nh, batch_first=bf).double()
        mha.load_state_dict({n: M.tensor(a) for n, a in state.items()})
        mha.eval()
        out, w = mha(q, k, v, key_padding_mask=M.tensor(kpm), need_weights=need, attn_mask=M.tensor(am),
                     average_attn_weights=avg)
        return (out, w) if need else out
    qs, ks = ((b, lq, e), (b, lk, e)) if bf else ((lq, b, e), (lk, b, e))
    return [normal(rng, *qs), normal(rng, *ks), normal(rng, *ks)], run, \
        f"e={e}, heads={nh}, batch_first={bf}, need_weights={need}, average={avg}"


# -- running -----------------------------------------------------------------------------------
def check(name, data):
    build, grad2 = CASES[name]
    seed = data.draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    leaves, run, info = data.draw(st.composite(lambda draw: build(draw, rng))())
    note(f"{name}({info}), seed {seed}")
    with np.errstate(all="ignore"):
        ours = run_case(_Ag, leaves, run, seed)
    theirs = run_case(_Torch, leaves, run, seed)
    if theirs["error"] is not None:
        note(f"torch raised at the {theirs['error'][0]} stage: {theirs['error'][1]!r}")
        if theirs["error"][0] == "forward":
            assert ours["error"] is not None, f"torch refused {name}({info}); we did not"
            return
    if ours["error"] is not None:
        raise AssertionError(f"autograd_core raised at the {ours['error'][0]} stage") from ours["error"][1]
    assert len(ours["values"]) == len(theirs["values"]), "number of outputs"
    for i, (a, t) in enumerate(zip(ours["values"], theirs["values"])):
        _close(a, t, f"output {i}")
    for stage in ("grads", "grads2") if grad2 else ("grads",):
        if ours[stage] is None or theirs[stage] is None:
            continue
        for i, (a, t) in enumerate(zip(ours[stage], theirs[stage])):
            _close(a, t, f"{'gradient' if stage == 'grads' else 'second derivative'} of leaf {i}")


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this test (optional)")
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=_BASE, **_SETTINGS)
@given(data=st.data())
def test_structured_ops_match_torch(name, data):
    """Values, gradients and second derivatives of linalg, scatter and structured nn ops as PyTorch's."""
    check(name, data)


# -- regression tests: PyTorch's answers written out (they run without torch too) ---------------
@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_passes_no_grid_gradient_on_the_clamps_border(padding_mode, align_corners):
    """A coordinate that lands exactly on the border (pixel 0 or n - 1, after reflection) gets no grid
    gradient, as PyTorch's clip_coordinates_set_grad, which counts the border as outside; just inside it
    does. x = (0, 10) in one row; d out / d grid_x is 5 (align_corners) or 10 (not) per unit of grid."""
    import nn.functional as F
    import autograd_core as ag
    inside = 0.5 if align_corners else 0.25          # pixel 0.75 either way, strictly inside [0, 1]
    edge = 1.0 if align_corners else 0.5             # pixel 1 exactly: the border
    pts = np.array([[[[-edge, 0.0], [inside, 0.0], [edge, 0.0]]]])
    x = np.array([[[[0.0, 10.0]]]])
    want_out = [0.0, 7.5, 10.0]
    want_gx = [0.0, 5.0 if align_corners else 10.0, 0.0]
    g = ag.tensor(pts, requires_grad=True)
    out = F.grid_sample(ag.tensor(x), g, padding_mode=padding_mode, align_corners=align_corners)
    (gg,) = ag.autograd.grad(out.sum(), [g])
    np.testing.assert_allclose(out.detach().numpy().ravel(), want_out)
    np.testing.assert_allclose(gg.numpy()[..., 0].ravel(), want_gx)
    np.testing.assert_allclose(gg.numpy()[..., 1].ravel(), 0.0)
    if torch is not None:
        tg = torch.tensor(pts, requires_grad=True)
        tout = torch.nn.functional.grid_sample(torch.tensor(x), tg, padding_mode=padding_mode,
                                               align_corners=align_corners)
        (tgg,) = torch.autograd.grad(tout.sum(), [tg])
        np.testing.assert_allclose(tout.detach().numpy().ravel(), want_out)
        np.testing.assert_allclose(tgg.numpy()[..., 0].ravel(), want_gx)


def test_vector_norm_takes_a_negative_ord():
    """ord < 0 is (sum |x|^ord)^(1/ord), as PyTorch's: ord = -1 of (1, 2, 2) is 1 / (1 + 1/2 + 1/2) = 0.5,
    with gradient n^(1 - ord) sign(x) |x|^(ord - 1) = (0.25, 0.0625, -0.0625); a zero entry makes it 0,
    with a zero gradient."""
    import autograd_core as ag
    x = ag.tensor([1.0, 2.0, -2.0], dtype=ag.float64, requires_grad=True)
    n = ag.linalg.vector_norm(x, ord=-1)
    (g,) = ag.autograd.grad(n, [x])
    np.testing.assert_allclose(n.detach().numpy(), 0.5)
    np.testing.assert_allclose(g.numpy(), [0.25, 0.0625, -0.0625])
    z = ag.tensor([0.0, 1.0], dtype=ag.float64, requires_grad=True)
    nz = ag.norm(z, p=-2.0)
    (gz,) = ag.autograd.grad(nz, [z])
    np.testing.assert_array_equal(nz.detach().numpy(), 0.0)
    np.testing.assert_array_equal(gz.numpy(), [0.0, 0.0])
    if torch is not None:
        t = torch.tensor([1.0, 2.0, -2.0], dtype=torch.float64, requires_grad=True)
        tn = torch.linalg.vector_norm(t, ord=-1)
        np.testing.assert_allclose(tn.item(), 0.5)
        np.testing.assert_allclose(torch.autograd.grad(tn, [t])[0].numpy(), [0.25, 0.0625, -0.0625])
        tz = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
        tnz = torch.norm(tz, p=-2.0)
        assert tnz.item() == 0.0
        np.testing.assert_array_equal(torch.autograd.grad(tnz, [tz])[0].numpy(), [0.0, 0.0])

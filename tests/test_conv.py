"""conv2d / conv_transpose2d: values against direct loops, gradients (gradcheck, grad of grad),
the adjoint property, argument errors, the chunked/layout fast paths, and PyTorch parity."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
from autograd_core.kernels import blas as kblas, conv as kconv
from autograd_core.ops import conv as conv_mod
from autograd_core import kernels
from autograd_core.testing import gradcheck, gradgradcheck


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def backend(request):
    """Every test here runs on both kernel backends: the Numba kernels (compiled before their first use)
    and the numpy fallbacks."""
    if request.param == "numba" and not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    with kernels.use(request.param, background=False):
        yield request.param


# -- direct loop implementations (the specification) -------------------------------------------
def conv2d_loop(x, w, b, stride, pad, dil, groups):
    """pad = (top, bottom, left, right)."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    (sh, sw), (dh, dw), (pt, pb, pl, pr) = stride, dil, pad
    OH = (H + pt + pb - dh * (kh - 1) - 1) // sh + 1
    OW = (W + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, O, OH, OW))
    Og = O // groups
    for n in range(N):
        for o in range(O):
            g = o // Og
            for oy in range(OH):
                for ox in range(OW):
                    s = 0.0 if b is None else b[o]
                    for c in range(Cg):
                        for i in range(kh):
                            for j in range(kw):
                                iy, ix = oy * sh - pt + i * dh, ox * sw - pl + j * dw
                                if 0 <= iy < H and 0 <= ix < W:
                                    s += w[o, c, i, j] * x[n, g * Cg + c, iy, ix]
                    out[n, o, oy, ox] = s
    return out


def conv_transpose2d_loop(y, w, b, stride, padding, output_padding, groups, dil):
    N, Ci, H, W = y.shape
    _, Cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dil
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((N, Cog * groups, Ho, Wo))
    Cig = Ci // groups
    for n in range(N):
        for ci in range(Ci):
            g = ci // Cig
            for iy in range(H):
                for ix in range(W):
                    for co in range(Cog):
                        for i in range(kh):
                            for j in range(kw):
                                oy, ox = iy * sh - ph + i * dh, ix * sw - pw + j * dw
                                if 0 <= oy < Ho and 0 <= ox < Wo:
                                    out[n, g * Cog + co, oy, ox] += y[n, ci, iy, ix] * w[ci, co, i, j]
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


# -- strategies -----------------------------------------------------------------------------------
@st.composite
def conv_configs(draw, max_side=9):
    """A valid conv2d configuration: batch 1-3, channels 1-4, sizes 1-9, any stride/padding/dilation/groups."""
    groups = draw(st.sampled_from([1, 2]))
    cin = groups * draw(st.integers(1, 4 // groups))
    cout = groups * draw(st.integers(1, 4 // groups))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = []
    for kk, dd, pp in zip(k, d, p):
        need = max(1, dd * (kk - 1) + 1 - 2 * pp)   # the dilated kernel must fit the padded input
        size.append(draw(st.integers(need, max(need, max_side))))
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    return dict(n=n, cin=cin, cout=cout, k=k, d=d, s=s, p=p, size=tuple(size), groups=groups, bias=bias, seed=seed)


def make(cfg, dtype=np.float64):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["n"], cfg["cin"]) + cfg["size"]).astype(dtype)
    w = rng.standard_normal((cfg["cout"], cfg["cin"] // cfg["groups"]) + cfg["k"]).astype(dtype)
    b = rng.standard_normal(cfg["cout"]).astype(dtype) if cfg["bias"] else None
    return x, w, b


def out_size(cfg):
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                 zip(cfg["size"], cfg["k"], cfg["s"], cfg["p"], cfg["d"]))


def kw(cfg):
    return dict(stride=cfg["s"], padding=cfg["p"], dilation=cfg["d"], groups=cfg["groups"])


# -- forward values ---------------------------------------------------------------------------------
@settings(max_examples=25)
@given(conv_configs())
def test_conv2d_matches_loop(cfg):
    x, w, b = make(cfg)
    got = ag.conv2d(ag.tensor(x), ag.tensor(w), None if b is None else ag.tensor(b), **kw(cfg))
    p = cfg["p"]
    want = conv2d_loop(x, w, b, cfg["s"], (p[0], p[0], p[1], p[1]), cfg["d"], cfg["groups"])
    np.testing.assert_allclose(got._data, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("k, d", [((3, 3), (1, 1)), ((2, 4), (1, 1)), ((2, 3), (2, 1)), ((1, 1), (1, 1))])
def test_conv2d_same_and_valid_padding(k, d):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3) + k)
    y = ag.conv2d(ag.tensor(x), ag.tensor(w), padding="same", dilation=d)
    assert y.shape == (2, 4, 6, 7)
    th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
    want = conv2d_loop(x, w, None, (1, 1), (th // 2, th - th // 2, tw // 2, tw - tw // 2), d, 1)
    np.testing.assert_allclose(y._data, want, atol=1e-10)
    np.testing.assert_allclose(ag.conv2d(ag.tensor(x), ag.tensor(w), padding="valid", dilation=d)._data,
                               conv2d_loop(x, w, None, (1, 1), (0, 0, 0, 0), d, 1), atol=1e-10)


@st.composite
def transpose_configs(draw):
    cfg = draw(conv_configs(max_side=5))
    # output_padding must be smaller than stride or dilation (per dim)
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(cfg["s"], cfg["d"]))
    cfg["op"] = op
    return cfg


def make_t(cfg):
    """conv_transpose2d input (N, C_in, H, W) and weight (C_in, C_out/groups, kh, kw)."""
    rng = np.random.default_rng(cfg["seed"])
    y = rng.standard_normal((cfg["n"], cfg["cin"]) + cfg["size"])
    w = rng.standard_normal((cfg["cin"], cfg["cout"] // cfg["groups"]) + cfg["k"])
    b = rng.standard_normal(cfg["cout"]) if cfg["bias"] else None
    return y, w, b


def t_size(cfg):
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, d, o in
                 zip(cfg["size"], cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["op"]))


@settings(max_examples=25)
@given(transpose_configs())
def test_conv_transpose2d_matches_loop(cfg):
    if min(t_size(cfg)) < 1:
        with pytest.raises(ValueError, match="conv_transpose2d"):
            ag.conv_transpose2d(ag.tensor(make_t(cfg)[0]), ag.tensor(make_t(cfg)[1]), **kw(cfg),
                                output_padding=cfg["op"])
        return
    y, w, b = make_t(cfg)
    got = ag.conv_transpose2d(ag.tensor(y), ag.tensor(w), None if b is None else ag.tensor(b), **kw(cfg),
                              output_padding=cfg["op"])
    want = conv_transpose2d_loop(y, w, b, cfg["s"], cfg["p"], cfg["op"], cfg["groups"], cfg["d"])
    np.testing.assert_allclose(got._data, want, rtol=1e-10, atol=1e-10)


# -- gradients --------------------------------------------------------------------------------------
@settings(max_examples=15)
@given(conv_configs(max_side=6))
def test_conv2d_gradcheck(cfg):
    x, w, b = make(cfg)
    ins = [ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)]
    if b is not None:
        ins.append(ag.tensor(b, requires_grad=True))
    gradcheck(lambda *a: ag.conv2d(*a, **kw(cfg)), tuple(ins), n_cotangents=1)


@settings(max_examples=15)
@given(transpose_configs())
def test_conv_transpose2d_gradcheck(cfg):
    if min(t_size(cfg)) < 1:
        return
    y, w, b = make_t(cfg)
    ins = [ag.tensor(y, requires_grad=True), ag.tensor(w, requires_grad=True)]
    if b is not None:
        ins.append(ag.tensor(b, requires_grad=True))
    gradcheck(lambda *a: ag.conv_transpose2d(*a, **kw(cfg), output_padding=cfg["op"]), tuple(ins),
              n_cotangents=1)


@pytest.mark.parametrize("cfg", [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=2),
    dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=1),
])
def test_conv2d_gradgradcheck(cfg):
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((2, 2 // cfg["groups"], 2, 3)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(2), requires_grad=True)
    gradgradcheck(lambda x, w, b: ag.conv2d(x, w, b, **cfg), (x, w, b))


@pytest.mark.parametrize("cfg", [
    dict(stride=1, padding=0, output_padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, output_padding=1, dilation=1, groups=2),
    dict(stride=(2, 1), padding=(0, 1), output_padding=(1, 1), dilation=(1, 2), groups=1),
])
def test_conv_transpose2d_gradgradcheck(cfg):
    rng = np.random.default_rng(2)
    y = ag.tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((2, 3 - cfg["groups"], 3, 2)), requires_grad=True)
    b = ag.tensor(rng.standard_normal((3 - cfg["groups"]) * cfg["groups"]), requires_grad=True)
    gradgradcheck(lambda y, w, b: ag.conv_transpose2d(y, w, b, **cfg), (y, w, b))


def test_conv2d_weight_op_gradcheck():
    """The weight-gradient op (used by create_graph backward) has its own correct VJP."""
    rng = np.random.default_rng(3)
    x = ag.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    g = ag.tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    f = lambda x, g: conv_mod.conv2d_weight(x, (4, 1, 3, 2), g, stride=(2, 2), padding=1, groups=2)  # noqa: E731
    gradcheck(f, (x, g))


# -- adjoint property -------------------------------------------------------------------------------
@settings(max_examples=25)
@given(conv_configs())
def test_conv2d_and_conv_transpose2d_are_adjoint(cfg):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same weights."""
    x, w, _ = make(cfg)
    OH, OW = out_size(cfg)
    y = np.random.default_rng(cfg["seed"] + 1).standard_normal((cfg["n"], cfg["cout"], OH, OW))
    # the rows/columns that conv2d's floor division drops come back as output_padding
    op = tuple(n - ((o - 1) * s - 2 * p + d * (k - 1) + 1) for n, o, k, s, p, d in
               zip(cfg["size"], (OH, OW), cfg["k"], cfg["s"], cfg["p"], cfg["d"]))
    lhs = float((ag.conv2d(ag.tensor(x), ag.tensor(w), **kw(cfg))._data * y).sum())
    xt = ag.conv_transpose2d(ag.tensor(y), ag.tensor(w), **kw(cfg), output_padding=op)
    assert xt.shape == x.shape
    rhs = float((x * xt._data).sum())
    assert np.isclose(lhs, rhs, rtol=1e-10, atol=1e-10)


# -- fast paths, dtypes, shapes -----------------------------------------------------------------------
@pytest.mark.parametrize("cache, chunk, knl, whole", [(0, 1, 256, 0), (0, 2000, 0, 0), (1 << 40, 1 << 20, 0, 0),
                                                      (1 << 40, 1 << 20, 10 ** 9, 0), (0, 1, 256, 10 ** 9),
                                                      (1 << 40, 1 << 20, 256, 10 ** 9)])
def test_chunked_and_layout_paths_agree(monkeypatch, cache, chunk, knl, whole):
    """Chunked im2col (tiny chunk budget), both column layouts, whole-batch products: same values and
    gradients as one product per image."""
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((5, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    g = rng.standard_normal((5, 6, 4, 7))

    def run():
        xs, ws, bs = (ag.tensor(a, requires_grad=True) for a in (x, w, b))
        y = ag.conv2d(xs, ws, bs, stride=(2, 1), padding=1, groups=2)
        y.backward(g)
        yt = ag.conv_transpose2d(xs, ws.reshape(4, 3, 3, 2), stride=2, padding=1, output_padding=1, groups=2)
        yt.backward(np.ones(yt.shape))
        return y._data, xs.grad._data, ws.grad._data, bs.grad._data, yt._data
    monkeypatch.setattr(kconv, "FUSED", False)   # these knobs belong to the numpy-matmul path
    monkeypatch.setattr(conv_mod, "_WHOLE_BATCH_MAX_L", 0)
    ref = run()
    monkeypatch.setattr(conv_mod, "_CACHE_BYTES", cache)
    monkeypatch.setattr(conv_mod, "_CHUNK_BYTES", chunk)
    monkeypatch.setattr(conv_mod, "_WHOLE_BATCH_BYTES", chunk)
    monkeypatch.setattr(conv_mod, "_KNL_MAX_L", knl)
    monkeypatch.setattr(conv_mod, "_WHOLE_BATCH_MAX_L", whole)
    for a, r in zip(run(), ref):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


def _conv_both_ways(cfg, dtype, transpose):
    """Forward and every gradient of conv2d (or conv_transpose2d) with input, weight and bias all live."""
    x, w, b = make_t(cfg) if transpose else make(cfg)
    ins = [ag.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b) if a is not None]
    if transpose:
        y = ag.conv_transpose2d(*ins, **kw(cfg), output_padding=cfg["op"])
    else:
        y = ag.conv2d(*ins, **kw(cfg))
    y.backward(np.random.default_rng(cfg["seed"] + 2).standard_normal(y.shape).astype(dtype))
    return [y._data] + [t.grad._data for t in ins]


@pytest.mark.skipif(not kconv.FUSED, reason="the fused kernels need Numba and SciPy")
@settings(max_examples=40, deadline=None)
@given(st.one_of(conv_configs(), transpose_configs()), st.sampled_from([np.float32, np.float64]),
       st.sampled_from([1, 2]), st.sampled_from([None, 1, 40, "blocks"]), st.booleans())
def test_fused_kernels_match_the_numpy_matmul_path(cfg, dtype, threads, limit, whole):
    """The Numba+BLAS per-image kernels (wide columns at stride 1, plain ones otherwise, runs of images
    on the thread pool; each gemm cut into calls of at most ``limit`` multiply-adds when given, or with
    "blocks" into the column blocks of OpenBLAS's small-matrix kernels, their limit lowered so that small
    draws are cut), or with ``whole`` the whole-batch products and their col2im kernel wherever a batch
    has few output pixels, against im2col + one np.matmul per image: forward and all gradients, conv2d and
    conv_transpose2d."""
    if kernels.backend() != "numba":
        pytest.skip("compares the two backends")
    transpose = "op" in cfg
    if transpose and min(t_size(cfg)) < 1:
        return
    old, old_gemm, old_whole = ag.get_num_threads(), kconv.kernel_gemm, conv_mod._WHOLE_BATCH_MAX_L
    old_blocks = kblas._SMALL_GEMM_MNK, kconv._BLOCK_MK
    ag.set_num_threads(threads)
    if limit == "blocks":
        kblas._SMALL_GEMM_MNK, kconv._BLOCK_MK = 2000, 10 ** 9
    elif limit:
        kconv.kernel_gemm = lambda dt: old_gemm(dt)[:1] + (limit,) + old_gemm(dt)[2:]
    conv_mod._WHOLE_BATCH_MAX_L = 10 ** 9 if whole else 0
    try:
        fused = _conv_both_ways(cfg, dtype, transpose)
        conv_mod._WHOLE_BATCH_MAX_L = 0
        with kernels.use("numpy"):
            ref = _conv_both_ways(cfg, dtype, transpose)
    finally:
        ag.set_num_threads(old)
        kconv.kernel_gemm = old_gemm
        conv_mod._WHOLE_BATCH_MAX_L = old_whole
        kblas._SMALL_GEMM_MNK, kconv._BLOCK_MK = old_blocks
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for a, r in zip(fused, ref):
        assert a.dtype == r.dtype == dtype and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max()))


def test_direct_kernels_do_the_parts_that_blas_does_slower():
    """With OpenBLAS's small-matrix kernels the per-image gemm does a small convolution's forward and input
    gradient, the direct kernels its weight gradient; without them the direct kernels do all three. Never
    past 16 output channels, at a stride, or with groups."""
    avx512 = kblas._NP_CORE.lower() in ("skylakex", "cooperlake", "sapphirerapids")   # numpy's OpenBLAS's family
    parts = ("gw",) if avx512 else ("out", "gw", "x")
    assert kconv.DIRECT_PARTS == parts
    for part in ("out", "gw", "x"):
        assert kconv._direct_ok(16, 1, 1, 1, part) == (part in parts)
        assert not kconv._direct_ok(17, 1, 1, 1, part) and not kconv._direct_ok(8, 1, 2, 1, part)
        assert not kconv._direct_ok(8, 2, 1, 1, part)


def test_per_image_products_take_column_blocks_only_with_numpys_gemm_and_few_rows(monkeypatch):
    """The per-image kernels' call limit: column blocks of at most 100^3 multiply-adds (16-column multiples)
    for products of at most 32 x 288 (m k), or 64 x 576 on up to 640 columns, with numpy's OpenBLAS whose
    small-matrix kernels take them; the limit unchanged for larger products, SciPy's gemm (a smaller
    limit) or CPUs without those kernels."""
    whole = 1 << 62
    monkeypatch.setattr(kblas, "_SMALL_GEMM_MNK", 1_000_000)
    assert kconv._block_limit(whole, 32, 286, 288) == 32 * 288 * 96       # a 32-channel 3x3 conv's forward
    assert kconv._block_limit(whole, 288, 286, 32) == 288 * 32 * 96       # and its input gradient
    assert kconv._block_limit(whole, 64, 1086, 288) == whole              # 64 channels on wide images: whole
    assert kconv._block_limit(whole, 64, 78, 576) == 64 * 576 * 16        # 64 channels on narrow ones: blocks
    assert kconv._block_limit(whole, 128, 78, 576) == whole               # more: whole
    assert kconv._block_limit(whole, 16, 40, 144) == whole                # within the small kernels' limit
    assert kconv._block_limit(5000, 32, 286, 288) == 5000                 # SciPy's gemm: its own limit
    monkeypatch.setattr(kblas, "_SMALL_GEMM_MNK", 0)
    assert kconv._block_limit(whole, 32, 286, 288) == whole


@pytest.mark.skipif(not kconv.FUSED, reason="the fused kernels need Numba and SciPy")
@pytest.mark.parametrize("transpose", [False, True])
def test_fused_kernels_with_scipys_gemm(monkeypatch, transpose):
    """Where numpy's OpenBLAS cannot be called by address (not x86-64 Linux) the fused kernels call SciPy's
    ?gemm: the same values as the numpy path, stride 1 (wide columns) and 2, with groups."""
    if kernels.backend() != "numba":
        pytest.skip("compares the two backends")
    monkeypatch.setattr(conv_mod, "_WHOLE_BATCH_MAX_L", 0)
    for cfg in ({"n": 2, "cin": 4, "size": (7, 6), "cout": 32, "groups": 2, "k": (3, 2), "s": (1, 1), "p": (1, 0),
                 "d": (1, 1), "bias": True, "seed": 3, "op": (0, 0)},
                {"n": 3, "cin": 3, "size": (8, 9), "cout": 18, "groups": 1, "k": (3, 3), "s": (2, 2), "p": (1, 1),
                 "d": (1, 1), "bias": False, "seed": 4, "op": (1, 0)}):
        if not transpose:
            cfg.pop("op")
        with monkeypatch.context() as m:
            m.setattr(kconv, "kernel_gemm", lambda dt: (kblas.gemm_fn(dt), kblas.gemm_limit(), kblas.single_threaded))
            got = _conv_both_ways(cfg, np.float32, transpose)
        with kernels.use("numpy"):
            want = _conv_both_ways(cfg, np.float32, transpose)
        for a, r in zip(got, want):
            np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(r).max()))


@pytest.mark.skipif(not kconv.FUSED, reason="the fused kernels need Numba and SciPy")
@pytest.mark.parametrize("cout", [1, 2, 3, 5, 16])
@pytest.mark.parametrize("cin, k", [(1, (1, 1)), (1, (1, 2)), (3, (1, 1)), (2, (3, 3)), (3, (5, 5))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_kernels_at_every_channel_and_tap_remainder(monkeypatch, cout, cin, k, dtype):
    """The direct kernels (stride 1, up to 16 output channels; here for all three parts of a convolution,
    as where OpenBLAS has no small-matrix kernels) work on pairs of output channels and runs of four taps;
    an odd channel count and 1-3 taps left over take their remainder paths. Forward and all gradients
    against im2col + np.matmul, with padding and dilation."""
    if kernels.backend() != "numba":
        pytest.skip("compares the two backends")
    monkeypatch.setattr(kconv, "DIRECT_PARTS", ("out", "gw", "x"))
    assert all(kconv._direct_ok(cout, 1, 1, 1, part) for part in ("out", "gw", "x"))
    cfg = dict(n=3, cin=cin, cout=cout, k=k, d=(2, 1), s=(1, 1), p=(1, 2), size=(9, 8), groups=1, bias=True,
               seed=cout * 31 + cin)
    fused = _conv_both_ways(cfg, dtype, False)
    with kernels.use("numpy"):
        ref = _conv_both_ways(cfg, dtype, False)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for a, r in zip(fused, ref):
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max()))


@pytest.mark.skipif(not kconv.FUSED, reason="the fused kernels need Numba and SciPy")
@pytest.mark.parametrize("cout, groups, s, p, transpose", [(32, 1, (1, 1), (1, 2), False), (32, 2, (2, 1), (0, 1), False),
                                                           (16, 1, (1, 1), (0, 0), True), (48, 3, (2, 2), (1, 1), True)])
def test_fused_kernels_with_many_output_channels(cout, groups, s, p, transpose):
    """16+ output channels per group take the other weight-gradient product (cols @ g transposed)."""
    cfg = dict(n=3, cin=2 * groups, cout=cout, k=(3, 2), d=(1, 2), s=s, p=p, size=(7, 8), groups=groups,
               bias=True, seed=3)
    if transpose:
        cfg.update(cin=cout, cout=2 * groups, op=(0, 0))
    if kernels.backend() != "numba":
        pytest.skip("compares the two backends")
    fused = _conv_both_ways(cfg, np.float64, transpose)
    with kernels.use("numpy"):
        ref = _conv_both_ways(cfg, np.float64, transpose)
    for a, r in zip(fused, ref):
        np.testing.assert_allclose(a, r, rtol=1e-11, atol=1e-11 * max(1.0, np.abs(r).max()))


def test_pointwise_conv_and_float32():
    rng = np.random.default_rng(5)
    x = ag.tensor(rng.standard_normal((3, 4, 5, 5)).astype(np.float32), requires_grad=True)
    w = ag.tensor(rng.standard_normal((2, 4, 1, 1)).astype(np.float32), requires_grad=True)
    y = ag.conv2d(x, w)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y._data, np.einsum("nchw,oc->nohw", x._data, w._data[:, :, 0, 0]), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad._data[:, :, 0, 0], np.broadcast_to(x._data.sum(axis=(0, 2, 3)), (2, 4)),
                               rtol=1e-4)


def test_unbatched_input():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((3, 6, 6)), rng.standard_normal((2, 3, 3, 3))
    y = ag.conv2d(ag.tensor(x), ag.tensor(w), padding=1)
    assert y.shape == (2, 6, 6)
    np.testing.assert_allclose(y._data, ag.conv2d(ag.tensor(x[None]), ag.tensor(w), padding=1)._data[0])
    yt = ag.conv_transpose2d(ag.tensor(y._data), ag.tensor(w), padding=1)
    assert yt.shape == (3, 6, 6)


def test_no_grad_keeps_no_columns():
    rng = np.random.default_rng(7)
    w = ag.tensor(rng.standard_normal((2, 3, 3, 3)), requires_grad=True)
    with ag.no_grad():
        y = ag.conv2d(ag.tensor(rng.standard_normal((2, 3, 8, 8))), w)
    assert y.grad_fn is None and not y.requires_grad


def test_backward_twice_with_retain_graph():
    rng = np.random.default_rng(8)
    x = ag.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = ag.conv2d(x, w).sum()
    y.backward(retain_graph=True)
    g1 = w.grad._data.copy()
    y.backward()
    np.testing.assert_allclose(w.grad._data, 2 * g1)


# -- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("xs, ws, kwargs, words", [
    ((1, 3, 4, 4), (2, 3, 5, 5), {}, ["conv2d", "kernel", "(4, 4)"]),
    ((1, 3, 4, 4), (2, 3, 3, 3), dict(dilation=2), ["conv2d", "dilation", "padded input"]),
    ((1, 4, 6, 6), (3, 2, 3, 3), dict(groups=2), ["conv2d", "groups=2", "out_channels"]),
    ((1, 5, 6, 6), (4, 2, 3, 3), dict(groups=2), ["conv2d", "5 channels", "groups=2"]),
    ((1, 3, 6, 6), (2, 3, 3, 3), dict(stride=0), ["conv2d", "stride"]),
    ((1, 3, 6, 6), (2, 3, 3, 3), dict(padding=-1), ["conv2d", "padding"]),
    ((1, 3, 6, 6), (2, 3, 3, 3), dict(padding="same", stride=2), ["conv2d", "same", "stride"]),
    ((1, 3, 6, 6), (2, 3, 3, 3), dict(padding="full"), ["conv2d", "padding", "full"]),
    ((3, 6), (2, 3, 3, 3), {}, ["conv2d", "input", "(3, 6)"]),
    ((1, 3, 6, 6), (2, 3, 3), {}, ["conv2d", "weight", "(2, 3, 3)"]),
    ((1, 3, 6, 6), (2, 3, 3, 3), dict(groups=0), ["conv2d", "groups"]),
])
def test_conv2d_errors(xs, ws, kwargs, words):
    with pytest.raises(ValueError) as e:
        ag.conv2d(ag.zeros(*xs), ag.zeros(*ws), **kwargs)
    msg = str(e.value)
    assert "\n" not in msg
    for word in words:
        assert word in msg, (word, msg)


def test_conv2d_bias_shape_error():
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(2,\)"):
        ag.conv2d(ag.zeros(1, 3, 5, 5), ag.zeros(2, 3, 3, 3), ag.zeros(3))


@pytest.mark.parametrize("kwargs, words", [
    (dict(output_padding=2, stride=2), ["conv_transpose2d", "output_padding"]),
    (dict(groups=2), ["conv_transpose2d", "groups=2", "divisible"]),
    (dict(padding=3), ["conv_transpose2d", "output size"]),
    (dict(padding="same"), ["conv_transpose2d", "padding"]),
])
def test_conv_transpose2d_errors(kwargs, words):
    with pytest.raises(ValueError) as e:
        ag.conv_transpose2d(ag.zeros(1, 3, 2, 2), ag.zeros(3, 2, 2, 2), **kwargs)
    for word in words:
        assert word in str(e.value), (word, str(e.value))


def test_conv_transpose2d_channel_error():
    with pytest.raises(ValueError, match="conv_transpose2d: input has 4 channels"):
        ag.conv_transpose2d(ag.zeros(1, 4, 3, 3), ag.zeros(3, 2, 2, 2))


# -- PyTorch parity (optional) ------------------------------------------------------------------------
@settings(max_examples=20)
@given(conv_configs())
def test_conv2d_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    x, w, b = make(cfg)
    ours = [ag.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    y = ag.conv2d(*ours, **kw(cfg))
    yt = torch.nn.functional.conv2d(*theirs, **kw(cfg))
    np.testing.assert_allclose(y._data, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = np.random.default_rng(cfg["seed"]).standard_normal(y.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad._data, t.grad.numpy(), rtol=1e-9, atol=1e-9)


@settings(max_examples=20)
@given(transpose_configs())
def test_conv_transpose2d_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    if min(t_size(cfg)) < 1:
        return
    y_, w, b = make_t(cfg)
    ours = [ag.tensor(a, requires_grad=True) for a in (y_, w, b) if a is not None]
    theirs = [torch.tensor(a, requires_grad=True) for a in (y_, w, b) if a is not None]
    args = dict(kw(cfg), output_padding=cfg["op"])
    y = ag.conv_transpose2d(*ours, **args)
    yt = torch.nn.functional.conv_transpose2d(*theirs, **args)
    np.testing.assert_allclose(y._data, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = np.random.default_rng(cfg["seed"]).standard_normal(y.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad._data, t.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_conv2d_weight_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x, g = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((2, 6, 4, 3))
    ours = conv_mod.conv2d_weight(ag.tensor(x), (6, 2, 3, 2), ag.tensor(g), stride=2, padding=(1, 0), groups=2)
    theirs = torch.nn.grad.conv2d_weight(torch.tensor(x), (6, 2, 3, 2), torch.tensor(g), stride=2, padding=(1, 0),
                                         groups=2)
    np.testing.assert_allclose(ours._data, theirs.numpy(), rtol=1e-10, atol=1e-10)

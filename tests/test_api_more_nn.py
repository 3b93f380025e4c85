"""More of torch.nn: the functional forms (activations, distances, 1-D conv and pooling, adaptive max pooling,
unfold/fold, interpolation modes, losses), the modules (activations, losses, padding, Conv1d, pooling,
Bilinear, containers, Transformer layers), nn.utils (rnn packing, parameters_to_vector) and RNNs on
packed sequences. Values and gradients are compared with PyTorch on the same float64 inputs and weights
when it is installed; gradcheck runs over hypothesis shapes either way."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_core as ag
import nn
import nn.functional as F
from autograd_core.testing import gradcheck, gradgradcheck, shapes, tensors


def _torch():
    return pytest.importorskip("torch")


def _arrays():
    rng = np.random.default_rng(0)
    return dict(x=rng.standard_normal((3, 4)), y=rng.standard_normal((3, 4)), p=rng.uniform(0.1, 0.9, (3, 4)),
                seq=rng.standard_normal((2, 3, 10)), img=rng.standard_normal((2, 3, 6, 6)),
                w1=rng.standard_normal((4, 3, 3)), wt1=rng.standard_normal((3, 2, 3)),
                bw=rng.standard_normal((2, 4, 4)), v=rng.standard_normal(4), cols=rng.standard_normal((1, 12, 9)),
                pos=rng.uniform(0.5, 2.0, (3, 4)))


def _ns(lib, requires_grad=True):
    arrays = _arrays()
    if lib == "torch":
        import torch
        import torch.nn.functional as tF
        ns = {k: torch.tensor(a, requires_grad=requires_grad) for k, a in arrays.items()}
        ns.update(F=tF, torch=torch, lab=torch.tensor([1, 0, 3]), pm=torch.tensor([1, -1, 1]),
                  big=torch.tensor([[1, 2], [0, 1], [3, 3]]))
    else:
        ns = {k: ag.tensor(a, requires_grad=requires_grad) for k, a in arrays.items()}
        ns.update(F=F, torch=ag, lab=ag.tensor([1, 0, 3]), pm=ag.tensor([1, -1, 1]), big=ag.tensor([[1, 2], [0, 1], [3, 3]]))
    return ns


FUNCTIONAL = [
    "F.relu6(x * 4)", "F.hardtanh(x)", "F.hardtanh(x, -0.5, 0.5)", "F.hardsigmoid(x * 3)", "F.hardswish(x * 3)",
    "F.selu(x)", "F.celu(x, 0.5)", "F.mish(x)", "F.softsign(x)", "F.softshrink(x, 0.3)", "F.hardshrink(x, 0.3)",
    "F.tanhshrink(x)", "F.threshold(x, 0.1, -2.0)", "F.logsigmoid(x)", "F.prelu(x, v[:1].abs())",
    "F.prelu(img, v[:3].abs())", "F.glu(x)", "F.glu(x, 0) if False else F.glu(x.T, 0)", "F.softmin(x, 1)",
    "F.rrelu(x, 0.1, 0.3, training=False)", "F.normalize(x)", "F.normalize(x, p=1, dim=0)",
    "F.cosine_similarity(x, y)", "F.cosine_similarity(x, y, dim=0)", "F.pairwise_distance(x, y)",
    "F.pairwise_distance(x, y, p=1, keepdim=True)", "F.pdist(x)", "F.bilinear(x, y, bw)",
    "F.bilinear(x, y[:, :3], bw[:, :, :3], v[:2])",
    "F.conv1d(seq, w1[:, :, :3].transpose(1, 2).reshape(4, 3, 3) if False else seq[:, :, :10], None) if False else F.conv1d(seq, w1)",
    "F.conv1d(seq, w1, v, stride=2, padding=1)", "F.conv1d(seq, w1, padding='same', dilation=2)",
    "F.conv1d(seq[0], w1)", "F.conv_transpose1d(seq, wt1, stride=2, padding=1, output_padding=1)",
    "F.max_pool1d(seq, 2)", "F.max_pool1d(seq, 3, stride=2, padding=1)", "F.avg_pool1d(seq, 3, 2)",
    "F.avg_pool1d(seq, 3, 2, padding=1, count_include_pad=False)", "F.adaptive_avg_pool1d(seq, 3)",
    "F.adaptive_max_pool1d(seq, 3)", "F.adaptive_max_pool2d(img, (2, 4))", "F.adaptive_max_pool2d(img, 1)",
    "F.adaptive_max_pool2d(img, (None, 4))", "F.lp_pool2d(img.abs(), 2, 2)", "F.lp_pool1d(seq.abs(), 3, 2)",
    "F.local_response_norm(img, 2)", "F.unfold(img, 2)", "F.unfold(img, 3, padding=1, stride=2)",
    "F.unfold(img, (2, 3), dilation=(1, 2))", "F.fold(cols, (4, 4), 2)", "F.fold(cols, (5, 5), 2, stride=2, padding=1)",
    "F.interpolate(seq, scale_factor=2, mode='linear')", "F.interpolate(seq, size=7, mode='linear', align_corners=True)",
    "F.interpolate(seq, size=4, mode='linear')", "F.interpolate(img, scale_factor=2, mode='bilinear')",
    "F.interpolate(img, size=(4, 9), mode='bilinear', align_corners=True)",
    "F.interpolate(img, scale_factor=1.5, mode='bilinear', align_corners=False)",
    "F.interpolate(img, size=(3, 3), mode='area')", "F.interpolate(seq, size=5, mode='nearest')",
    "F.interpolate(seq, scale_factor=2)", "F.interpolate(img[:, :, None], scale_factor=2, mode='trilinear')",
    "F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1), reduction='batchmean')",
    "F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1), reduction='sum')",
    "F.kl_div(F.log_softmax(x, 1), F.log_softmax(y, 1), reduction='none', log_target=True)",
    "F.poisson_nll_loss(x, pos)", "F.poisson_nll_loss(pos, pos * 3, log_input=False, full=True)",
    "F.gaussian_nll_loss(x, y, pos)", "F.gaussian_nll_loss(x, y, pos[:, :1], full=True, reduction='sum')",
    "F.cosine_embedding_loss(x, y, pm)", "F.cosine_embedding_loss(x, y, pm, margin=0.2, reduction='none')",
    "F.margin_ranking_loss(x[:, 0], y[:, 0], pm, margin=0.1)", "F.hinge_embedding_loss(x, pm[:, None].expand(3, 4).double())",
    "F.soft_margin_loss(x, (y > 0).double() * 2 - 1)", "F.multilabel_soft_margin_loss(x, (y > 0).double())",
    "F.multi_margin_loss(x, lab)", "F.multi_margin_loss(x, lab, p=2, margin=0.5, weight=pos[0].detach())",
    "F.multilabel_margin_loss(x, torch.tensor([[3, 0, -1, 1], [1, 1, 2, -1], [-1, 0, 0, 0]]))",
    "F.multilabel_margin_loss(x * 0.1, torch.tensor([[3, 0, -1, 1], [2, 2, 2, 2], [0, 1, 2, 3]]), reduction='none')",
    "F.multilabel_margin_loss(x[0], torch.tensor([1, 3, -1, 0]))",
    "F.triplet_margin_loss(x, y, -x)", "F.triplet_margin_loss(x, y, p, swap=True, margin=0.5)",
]


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _flat(o)]
    return [out]


def _np(t):
    d = t.detach()
    return d._data if hasattr(d, "_data") else d.numpy()


def _eval(lib, call):
    ns = _ns(lib)
    outs = _flat(eval(call, ns))
    rng = np.random.default_rng(5)
    total = None
    for o in outs:
        w = rng.standard_normal(tuple(o.shape))
        if getattr(o, "requires_grad", False):
            term = (o * ns["torch"].tensor(w)).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    grads = {k: (None if ns[k].grad is None else _np(ns[k].grad)) for k in _arrays()}
    return [_np(o) for o in outs], grads


@pytest.mark.parametrize("call", FUNCTIONAL)
def test_functional_matches_torch(call):
    _torch()
    ours, og = _eval("ours", call)
    theirs, tg = _eval("torch", call)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape, (a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    for k in og:
        if og[k] is None or tg[k] is None:
            other = og[k] if tg[k] is None else tg[k]
            assert other is None or not np.any(other), k
        else:
            np.testing.assert_allclose(og[k], tg[k], rtol=1e-6, atol=1e-8, err_msg=k)


# module call -> (constructor args, input names); weights are copied from the PyTorch module
MODULES = [
    ("ReLU6()", "x"), ("Hardtanh(-0.5, 0.5)", "x"), ("Hardsigmoid()", "x"), ("Hardswish()", "x"), ("SELU()", "x"),
    ("CELU(0.7)", "x"), ("Mish()", "x"), ("Softsign()", "x"), ("Softshrink(0.3)", "x"), ("Hardshrink(0.3)", "x"),
    ("Tanhshrink()", "x"), ("Threshold(0.1, 5.0)", "x"), ("LogSigmoid()", "x"), ("PReLU()", "x"), ("PReLU(3)", "img"),
    ("GLU()", "x"), ("Softmin(dim=1)", "x"), ("Softmax2d()", "img"), ("RReLU().eval()", "x"),
    ("KLDivLoss(reduction='batchmean')", "x y"), ("PoissonNLLLoss()", "x pos"), ("GaussianNLLLoss()", "x y pos"),
    ("CosineEmbeddingLoss(0.1)", "x y pm"), ("MarginRankingLoss(0.2)", "v3 v3r pm"),
    ("HingeEmbeddingLoss()", "x ones"), ("SoftMarginLoss()", "x signs"), ("MultiLabelSoftMarginLoss()", "x bits"),
    ("MultiMarginLoss()", "x lab"), ("TripletMarginLoss()", "x y p"),
    ("ZeroPad2d((1, 0, 2, 1))", "img"), ("ConstantPad1d(2, 3.5)", "seq"), ("ConstantPad3d(1, -1.0)", "img"),
    ("ReflectionPad1d((2, 1))", "seq"), ("ReflectionPad2d(2)", "img"), ("ReplicationPad1d(3)", "seq"),
    ("ReplicationPad2d((1, 2, 0, 1))", "img"), ("CircularPad1d(2)", "seq"), ("CircularPad2d(1)", "img"),
    ("Conv1d(3, 4, 3)", "seq"), ("Conv1d(3, 6, 3, stride=2, padding=2, groups=3, bias=False)", "seq"),
    ("Conv1d(3, 4, 3, padding='same', padding_mode='reflect')", "seq"),
    ("Conv1d(3, 4, 3, padding=1, padding_mode='circular')", "seq"),
    ("Conv2d(3, 4, 3, padding=1, padding_mode='reflect')", "img"),
    ("Conv2d(3, 4, 3, padding='same', padding_mode='replicate')", "img"),
    ("ConvTranspose1d(3, 2, 3, stride=2)", "seq"), ("MaxPool1d(3, 2)", "seq"), ("AvgPool1d(2)", "seq"),
    ("AdaptiveAvgPool1d(4)", "seq"), ("AdaptiveMaxPool1d(4)", "seq"), ("AdaptiveMaxPool2d((3, 2))", "img"),
    ("LPPool1d(2, 3)", "seq"), ("LPPool2d(2, 2)", "img"), ("CosineSimilarity()", "x y"), ("PairwiseDistance()", "x y"),
    ("Bilinear(4, 4, 2)", "x y"), ("Unfold(2)", "img"), ("Fold((4, 4), 2)", "cols"), ("LocalResponseNorm(3)", "img"),
    ("BatchNorm3d(3)", "img5"), ("ChannelShuffle(3)", "img6"), ("Upsample(scale_factor=2, mode='bilinear')", "img"),
    ("Upsample(size=5, mode='linear', align_corners=True)", "seq"), ("UpsamplingBilinear2d(scale_factor=2)", "img"),
    ("UpsamplingNearest2d(size=(7, 5))", "img"), ("AlphaDropout(0.5).eval()", "x"),
    ("TransformerEncoderLayer(10, 2, 16, 0.0)", "seq"),
    ("TransformerEncoderLayer(10, 2, 16, 0.0, activation='gelu', norm_first=True, batch_first=True)", "seq"),
    ("TransformerEncoder(torch.nn.TransformerEncoderLayer(10, 2, 16, 0.0), 2, enable_nested_tensor=False)", "seq"),
    ("TransformerDecoderLayer(10, 2, 16, 0.0)", "seq seq2"),
    ("TransformerDecoder(torch.nn.TransformerDecoderLayer(10, 2, 16, 0.0, norm_first=True), 2)", "seq seq2"),
    ("Transformer(10, 2, 1, 1, 16, 0.0)", "seq seq2"),
]


_DIFF = ("x", "y", "seq", "img", "img5", "img6", "seq2", "cols", "v3", "v3r")


def _module_inputs(lib, names):
    a = _arrays()
    rng = np.random.default_rng(3)
    extra = dict(v3=a["v"][:3], v3r=a["v"][1:], ones=np.ones((3, 4)), signs=np.sign(a["y"]),
                 bits=(a["y"] > 0).astype(np.float64), img5=rng.standard_normal((2, 3, 2, 3, 3)),
                 img6=rng.standard_normal((2, 6, 3, 3)), seq2=rng.standard_normal((4, 3, 10)))
    a.update(extra)
    lab, pm = np.array([1, 0, 3]), np.array([1, -1, 1])
    if lib == "torch":
        import torch
        out = [torch.tensor(lab) if n == "lab" else torch.tensor(pm) if n == "pm" else
               torch.tensor(a[n], requires_grad=n in _DIFF) for n in names.split()]
        return out
    return [ag.tensor(lab) if n == "lab" else ag.tensor(pm) if n == "pm" else
            ag.tensor(a[n], requires_grad=n in _DIFF) for n in names.split()]


def _prep(ctor, ins, lib):
    if ctor.startswith("KLDivLoss"):
        mod = ag if lib == "ours" else __import__("torch")
        return [mod.log_softmax(ins[0], 1), mod.softmax(ins[1], 1)]
    return ins


@pytest.mark.parametrize("ctor, names", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(ctor, names):
    torch = _torch()
    tmod = eval(ctor, {"torch": torch, **vars(torch.nn)}).double()
    omod = eval(ctor.replace("torch.nn.", "nn."), {"nn": nn, **{k: getattr(nn, k) for k in nn.__all__}}).double()
    sd = {k: v.detach().numpy() for k, v in tmod.state_dict().items()}
    assert sorted(sd) == sorted(omod.state_dict()), (sorted(sd), sorted(omod.state_dict()))
    omod.load_state_dict(sd)
    tin = _prep(ctor, _module_inputs("torch", names), "torch")
    oin = _prep(ctor, _module_inputs("ours", names), "ours")
    tout, oout = tmod(*tin), omod(*oin)
    np.testing.assert_allclose(_np(oout), _np(tout), rtol=1e-7, atol=1e-9)
    w = np.random.default_rng(9).standard_normal(tuple(tout.shape))
    (tout * torch.tensor(w)).sum().backward()
    (oout * ag.tensor(w)).sum().backward()
    for (k, tp), (k2, op) in zip(sorted(tmod.named_parameters()), sorted(omod.named_parameters())):
        assert k == k2
        np.testing.assert_allclose(op.grad._data, tp.grad.numpy(), rtol=1e-6, atol=1e-8, err_msg=k)


def test_module_reprs_match_torch():
    torch = _torch()
    for ctor in ("Conv1d(3, 4, 3, stride=2, padding=1, bias=False)", "Conv2d(3, 4, 3, padding=1, padding_mode='reflect')",
                 "MaxPool1d(3, 2)", "ReLU6()", "Hardtanh(-2.0, 2.0)", "PReLU(3)", "Softmin(dim=1)", "ZeroPad2d(1)",
                 "ReflectionPad1d((1, 2))", "Bilinear(2, 3, 4)", "CosineSimilarity()", "GLU()", "Threshold(0.1, 20.0)",
                 "ConstantPad1d(2, 3.5)", "Softshrink(0.3)", "CELU(0.7)", "LPPool1d(2, 3)", "AdaptiveMaxPool2d((3, 2))",
                 "Unfold(2)", "Fold((4, 4), 2)", "LocalResponseNorm(3)", "ChannelShuffle(3)", "AlphaDropout(0.5)",
                 "PairwiseDistance()", "RReLU()", "Softmax2d()", "Mish()"):
        assert repr(eval(ctor, vars(nn))) == repr(eval(ctor, vars(torch.nn))), ctor


# -- gradcheck ------------------------------------------------------------------------------------
@settings(max_examples=10)
@given(x=tensors(shape=shapes(min_dims=1, max_dims=3, max_side=4),
                 elements=st.integers(-30, 30).filter(lambda i: i % 5).map(lambda i: i / 10)))
def test_activations_gradcheck(x):
    # (elements on a grid that avoids the kinks at 0, ±0.5, ±1, ±3)
    for fn in (F.hardtanh, F.hardsigmoid, F.hardswish, F.selu, lambda t: F.celu(t, 0.7), F.mish, F.softsign,
               F.softshrink, F.hardshrink, F.tanhshrink, F.logsigmoid, F.relu6, lambda t: F.threshold(t, 0.05, 2.0)):
        assert gradcheck(fn, (x,))
    assert gradgradcheck(F.mish, (x,))
    assert gradgradcheck(F.logsigmoid, (x,))


@settings(max_examples=10)
@given(data=st.data())
def test_distances_and_losses_gradcheck(data):
    n, d = data.draw(st.integers(2, 4)), data.draw(st.integers(2, 4))
    away = st.floats(-2.0, 2.0).filter(lambda v: abs(v) > 0.3)  # (no zero vectors: the eps clamps are kinks)
    x = data.draw(tensors(shape=st.just((n, d)), elements=away))
    y = data.draw(tensors(shape=st.just((n, d)), elements=away))
    pos = data.draw(tensors(shape=st.just((n, d)), elements=st.floats(0.5, 2.0)))
    labels = ag.tensor(np.arange(n) % d)
    for fn, args in ((lambda a, b: F.cosine_similarity(a, b), (x, y)), (lambda a: F.normalize(a), (x,)),
                     (lambda a, b: F.pairwise_distance(a, b), (x, y)), (lambda a: F.pdist(a), (x,)),
                     (lambda a, b: F.kl_div(F.log_softmax(a, 1), F.softmax(b, 1), reduction="batchmean"), (x, y)),
                     (lambda a, v: F.gaussian_nll_loss(a, y, v), (x, pos)), (lambda a: F.poisson_nll_loss(a, pos), (x,)),
                     (lambda a: F.multi_margin_loss(a, labels, p=2), (x,)),
                     (lambda a, b: F.triplet_margin_loss(a, b, -a), (x, y))):
        assert gradcheck(fn, args)


@settings(max_examples=10)
@given(data=st.data())
def test_conv_pool_and_resize_gradcheck(data):
    n, c, length = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), data.draw(st.integers(4, 7))
    x = data.draw(tensors(shape=st.just((n, c, length))))
    w = data.draw(tensors(shape=st.just((2, c, 3))))
    img = data.draw(tensors(shape=st.just((n, c, 4, length)), unique=True,
                            elements=st.integers(-300, 300).map(lambda i: i / 100)))  # (maxima apart)
    assert gradcheck(lambda a, b: F.conv1d(a, b, padding=1), (x, w))
    assert gradcheck(lambda a, b: F.conv_transpose1d(a, b.transpose(0, 1), stride=2), (x, w))
    assert gradcheck(lambda a: F.avg_pool1d(a, 2), (x,))
    assert gradcheck(lambda a: F.interpolate(a, scale_factor=1.5, mode="linear"), (x,))
    assert gradcheck(lambda a: F.interpolate(a, size=(3, 5), mode="bilinear", align_corners=True), (img,))
    assert gradcheck(lambda a: F.adaptive_max_pool2d(a, (2, 3)), (img,))
    assert gradcheck(lambda a: F.unfold(a, 2, padding=1), (img,))
    assert gradcheck(lambda a: F.fold(a, (4, length), 2), (F.unfold(img, 2).detach().requires_grad_(),))


# -- rnn utils --------------------------------------------------------------------------------------
def test_pack_and_pad_round_trip_and_match_torch():
    torch = _torch()
    from torch.nn.utils import rnn as trnn
    from nn.utils import rnn as ornn
    rng = np.random.default_rng(4)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    tp = trnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    op = ornn.pack_sequence([ag.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(op.data._data, tp.data.numpy())
    np.testing.assert_array_equal(op.batch_sizes._data, tp.batch_sizes.numpy())
    np.testing.assert_array_equal(op.sorted_indices._data, tp.sorted_indices.numpy())
    np.testing.assert_array_equal(op.unsorted_indices._data, tp.unsorted_indices.numpy())
    tpad, tl = trnn.pad_packed_sequence(tp, batch_first=True, padding_value=-1.0)
    opad, ol = ornn.pad_packed_sequence(op, batch_first=True, padding_value=-1.0)
    np.testing.assert_array_equal(opad._data, tpad.numpy())
    np.testing.assert_array_equal(ol._data, tl.numpy())
    np.testing.assert_array_equal(ornn.pad_sequence([ag.tensor(s) for s in seqs], padding_side="left")._data,
                                  trnn.pad_sequence([torch.tensor(s) for s in seqs], padding_side="left").numpy())
    for a, b in zip(ornn.unpack_sequence(op), seqs):
        np.testing.assert_array_equal(a._data, b)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnns_on_packed_sequences_match_torch(kind, bidirectional):
    torch = _torch()
    from torch.nn.utils import rnn as trnn
    from nn.utils import rnn as ornn
    tm = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=bidirectional).double()
    om = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=bidirectional).double()
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(6)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    tseq = [torch.tensor(s, requires_grad=True) for s in seqs]
    oseq = [ag.tensor(s, requires_grad=True) for s in seqs]
    tout, th = tm(trnn.pack_sequence(tseq, enforce_sorted=False))
    oout, oh = om(ornn.pack_sequence(oseq, enforce_sorted=False))
    assert isinstance(oout, ornn.PackedSequence)
    np.testing.assert_allclose(oout.data._data, tout.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    th, oh = (th[0], oh[0]) if kind == "LSTM" else (th, oh)
    np.testing.assert_allclose(oh._data, th.detach().numpy(), rtol=1e-10, atol=1e-12)
    (tout.data.sum() + th.sum()).backward()
    (oout.data.sum() + oh.sum()).backward()
    for a, b in zip(oseq, tseq):
        np.testing.assert_allclose(a.grad._data, b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_parameter_containers_register_their_parameters():
    pl = nn.ParameterList([ag.ones(2), nn.Parameter(ag.zeros(3))])
    pl.append(ag.ones(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert isinstance(pl[0], nn.Parameter) and len(pl) == 3 and pl[-1].shape == (1,)
    pd = nn.ParameterDict({"a": ag.ones(2)})
    pd["b"] = ag.zeros(1)
    holder = nn.Module()
    holder.params = pd
    assert sorted(holder.state_dict()) == ["params.a", "params.b"]
    assert pd.pop("a").shape == (2,) and list(pd) == ["b"]


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(ag.arange(8.0), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    with pytest.warns(FutureWarning):
        lin.weight.grad = ag.ones(2, 3)
        nn.utils.clip_grad_norm(lin.parameters(), 1.0)


def test_transformer_mask_and_clones_are_independent():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), num_layers=2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and np.array_equal(a._data, b._data)
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert np.isneginf(m._data[0, 1]) and m._data[1, 0] == 0
    x = ag.randn(4, 2, 8)
    causal = enc(x, mask=nn.Transformer.generate_square_subsequent_mask(4))
    changed = x.clone()
    changed[3] = changed[3] + 1.0
    # with the causal mask, a change at the last position leaves the earlier outputs alone
    np.testing.assert_allclose(enc(changed, mask=nn.Transformer.generate_square_subsequent_mask(4))._data[:3],
                               causal._data[:3], rtol=1e-5, atol=1e-6)

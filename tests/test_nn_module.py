"""nn.Module: registration, traversal, modes, state dicts, dtype conversion, repr, summary, containers."""
import io
from collections import OrderedDict

import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(4, 2)
        self.scale = nn.Parameter(ag.ones(2))
        self.register_buffer("step", ag.zeros(1))
        self.register_buffer("cache", ag.zeros(2), persistent=False)
        self.note = "not registered"

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.bn(self.fc1(x))))) * self.scale


def test_registration_and_names():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in m.named_buffers()] == ["step", "cache", "bn.running_mean", "bn.running_var",
                                                 "bn.num_batches_tracked"]
    assert [n for n, _ in m.named_children()] == ["fc1", "bn", "drop", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "bn", "drop", "fc2"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert len(list(m.parameters(recurse=False))) == 1
    assert m.note == "not registered" and "note" not in m._parameters
    sd = m.state_dict()
    assert list(sd) == ["scale", "step", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean",
                        "bn.running_var", "bn.num_batches_tracked", "fc2.weight", "fc2.bias"]
    assert "cache" not in sd  # non-persistent buffer


def test_attribute_errors_and_reassignment():
    m = Net()
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'scale'"):
        m.scale = ag.ones(2)
    m.scale = None
    assert m.scale is None and "scale" not in dict(m.named_parameters())
    m.fc1 = nn.Linear(3, 4, bias=False)
    assert "fc1.bias" not in dict(m.named_parameters())
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope
    del m.fc2
    assert "fc2" not in dict(m.named_children())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ag.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(seq.state_dict()) == 4  # PyTorch also keeps both names in the state dict


def test_train_eval_only_flags():
    m = Net()
    assert m.training and all(c.training for c in m.modules())
    before = {k: v._data.copy() for k, v in m.state_dict().items()}
    assert m.eval() is m
    assert not any(c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())
    after = m.state_dict()
    for k in before:  # switching modes changes nothing else
        np.testing.assert_array_equal(before[k], after[k]._data)
    with pytest.raises(ValueError, match="bool"):
        m.train("no")


def test_train_eval_change_dropout_and_batchnorm_behaviour():
    ag.manual_seed(0)
    m = Net()
    x = ag.randn(8, 3)
    m.train()
    a, b = m(x)._data, m(x)._data
    assert not np.allclose(a, b)  # dropout differs between calls
    assert int(m.bn.num_batches_tracked._data) == 2
    rm = m.bn.running_mean._data.copy()
    m.eval()
    c, d = m(x)._data, m(x)._data
    np.testing.assert_array_equal(c, d)  # deterministic in eval
    np.testing.assert_array_equal(m.bn.running_mean._data, rm)  # running stats frozen in eval
    assert int(m.bn.num_batches_tracked._data) == 2


def test_zero_grad_apply_requires_grad():
    m = Net()
    m(ag.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad._data.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "BatchNorm1d", "Dropout", "Linear", "Net"]
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_state_dict_roundtrip_and_strict_errors():
    a, b = Net(), Net()
    a(ag.randn(6, 3))  # move the running stats
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va._data, vb._data)
        assert va.dtype == vb.dtype

    c = Net()
    before = {k: v._data.copy() for k, v in c.state_dict().items()}
    bad = OrderedDict(a.state_dict())
    del bad["fc1.bias"]
    bad["extra.weight"] = np.zeros(3)
    bad["fc2.weight"] = np.zeros((5, 5))
    with pytest.raises(RuntimeError) as ei:
        c.load_state_dict(bad)
    msg = str(ei.value)
    assert 'Missing key(s) in state_dict: "fc1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for fc2.weight" in msg
    for k, v in c.state_dict().items():  # nothing changed
        np.testing.assert_array_equal(v._data, before[k])

    # strict=False ignores missing/unexpected keys but still refuses shape mismatches
    del bad["fc2.weight"]
    res = c.load_state_dict(bad, strict=False)
    assert res.missing_keys == ["fc1.bias", "fc2.weight"] and res.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(c.fc1.weight._data, a.fc1.weight._data)


def test_load_state_dict_keeps_parameter_objects_and_casts():
    m = nn.Linear(2, 3)
    w = m.weight
    m.load_state_dict({"weight": np.ones((3, 2), np.float64), "bias": np.zeros(3)})
    assert m.weight is w and w.dtype == np.float32 and (w._data == 1).all()


def test_to_double_float_convert_params_and_buffers():
    m = Net()
    opt_view = list(m.parameters())
    m(ag.randn(4, 3)).sum().backward()
    assert m.double() is m
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert all(p.grad.dtype == np.float64 for p in m.parameters())
    assert m.bn.running_mean.dtype == np.float64 and m.step.dtype == np.float64
    assert m.bn.num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype
    assert all(a is b for a, b in zip(opt_view, m.parameters()))  # same objects: optimizers keep working
    assert m(ag.randn(4, 3, dtype=np.float64)).dtype == np.float64
    m.float()
    assert all(p.dtype == np.float32 for p in m.parameters())
    m.to(np.float64)
    assert m.fc1.weight.dtype == np.float64
    m.to("cpu", dtype="float32")
    assert m.fc1.weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    lin = nn.Linear(3, 2, dtype=np.float64)
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64


class _Device:
    """A stand-in for ag.device / torch.device: only its str() names the device."""

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


def test_to_devices_dtypes_and_tensors():
    m = Net()
    w = m.fc1.weight
    for dev in ("cpu", "cpu:0", _Device("cpu")):
        assert m.to(dev) is m and m.fc1.weight is w and w.dtype == np.float32
    assert m.to(device="cpu", non_blocking=True) is m
    assert m.to("cpu", np.float64, True) is m and w.dtype == np.float64
    assert m.to(ag.zeros(1, dtype=np.float32)) is m and w.dtype == np.float32  # a tensor's dtype
    assert m.to(_Device("cpu"), dtype=np.float64) is m and w.dtype == np.float64
    assert m.type(np.float32) is m and w.dtype == np.float32
    assert m.cpu() is m and m.share_memory() is m
    for dev in ("cuda", "cuda:1", "mps", _Device("cuda:0"), 0):
        with pytest.raises(RuntimeError, match=r"CPU only.*device='cpu'"):
            m.to(dev)
    with pytest.raises(RuntimeError, match=r"CPU only.*device='cpu'"):
        m.to(device="cuda", dtype=np.float64)
    assert w.dtype == np.float32  # a refused call changes nothing
    with pytest.raises(RuntimeError, match="CPU only"):
        m.cuda()
    with pytest.raises(RuntimeError, match="CPU only"):
        m.cuda(0)
    with pytest.raises(TypeError, match="floating"):
        m.to(np.int32)
    with pytest.raises(TypeError, match="device"):
        m.to(object())
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2).to("cuda")


def test_to_accepts_torch_devices_and_dtypes():
    torch = pytest.importorskip("torch")
    m = nn.Linear(2, 2)
    assert m.to(torch.device("cpu")) is m
    assert m.to(torch.float64) is m and m.weight.dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to(torch.device("cuda"))


class FrozenBN(nn.BatchNorm1d):
    """The fine-tuning idiom: batch norm stays in eval mode whatever the model's mode."""

    def train(self, mode=True):
        return super().train(False)


def test_train_calls_each_childs_own_train():
    m = nn.Sequential(nn.Linear(3, 4), nn.Sequential(FrozenBN(4), nn.Dropout(0.5)), nn.Linear(4, 2))
    calls = []

    class Spy(nn.Identity):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)
    m.append(Spy())
    assert m.train() is m
    assert m.training and m[0].training and m[1].training and m[1][1].training
    assert not m[1][0].training  # the override wins
    assert m.eval() is m and not any(c.training for c in m.modules())
    assert calls == [True, False]
    m.train()
    rm = m[1][0].running_mean._data.copy()
    m(ag.randn(5, 3))
    np.testing.assert_array_equal(m[1][0].running_mean._data, rm)  # frozen BN: running stats unchanged


def test_repr_matches_pytorch_layout():
    m = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Sequential(nn.Linear(400, 120), nn.Dropout(0.1)), nn.BatchNorm1d(120))
    expected = """Sequential(
  (0): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))
  (1): ReLU()
  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (3): Flatten(start_dim=1, end_dim=-1)
  (4): Sequential(
    (0): Linear(in_features=400, out_features=120, bias=True)
    (1): Dropout(p=0.1, inplace=False)
  )
  (5): BatchNorm1d(120, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
)"""
    assert repr(m) == expected
    assert repr(Net()).startswith("Net(\n  (fc1): Linear(in_features=3, out_features=4, bias=True)")
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, bias=False)) == \
        "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), bias=False)"
    assert repr(nn.LayerNorm(5)) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert "Parameter containing" in repr(nn.Linear(1, 1).weight)


def test_summary_table(capsys):
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1)))
    m[0].weight.requires_grad_(False)
    text = nn.summary(m, (2, 4))
    assert capsys.readouterr().out == ""  # returned, not printed: the REPL shows it once
    assert isinstance(text, str) and repr(text) == str(text)  # the REPL shows the table, not a quoted string
    buf = io.StringIO()
    assert nn.summary(m, (2, 4), file=buf) == text
    assert buf.getvalue() == text
    lines = text.splitlines()
    assert any("0 (Linear)" in ln and "[2, 8]" in ln and ln.rstrip().endswith("40") for ln in lines)
    assert any("2.0 (Linear)" in ln and "[2, 3]" in ln and ln.rstrip().endswith("27") for ln in lines)
    assert "Total params: 67" in text and "Trainable params: 35" in text and "Non-trainable params: 32" in text
    assert m.training  # restored
    assert not m[0]._forward_hooks  # hooks removed


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h = lin.register_forward_hook(lambda mod, args, out: calls.append(out.shape))
    h2 = lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    out = lin(ag.ones(3, 2))
    np.testing.assert_allclose(out._data, np.broadcast_to(lin.bias._data, (3, 2)))
    h.remove()
    h2.remove()
    lin(ag.ones(1, 2))
    assert calls == [(3, 2)]


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b)
    s.append(c)
    assert len(s) == 3 and s[0] is a and s[-1] is c
    assert list(s) == [a, b, c]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert sub(ag.ones(4, 3)).shape == (4, 1)
    with pytest.raises(IndexError, match="out of range"):
        s[3]
    s[1] = nn.Tanh()
    assert isinstance(s[1], nn.Tanh)
    del s[1]
    assert len(s) == 2 and [k for k, _ in s.named_children()] == ["0", "1"]
    s.insert(1, nn.ReLU())
    assert isinstance(s[1], nn.ReLU) and len(s) == 3
    named = nn.Sequential(OrderedDict(enc=nn.Linear(2, 2), act=nn.ReLU()))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]
    assert (named + nn.Sequential(nn.Identity()))[2].__class__ is nn.Identity


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Linear(2, 1))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"]
    del ml[0]
    assert [k for k, _ in ml.named_children()] == ["0", "1", "2"]
    ml += [nn.ReLU()]
    assert isinstance(ml[-1], nn.ReLU)

    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(md.keys()) == ["enc", "dec"] and "enc" in md and len(md) == 2
    md["act"] = nn.ReLU()
    assert list(md) == ["enc", "dec", "act"]
    assert isinstance(md.pop("act"), nn.ReLU)
    assert list(md.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    with pytest.raises(KeyError, match="no key 'x'"):
        md["x"]

    class WithList(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, x):
            for blk in self.blocks:
                x = blk(x)
            return x

    w = WithList()
    assert list(w.state_dict()) == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    assert w(ag.ones(1, 2)).shape == (1, 2)


def test_parameter_is_tensor_and_shares_memory():
    arr = np.zeros(3, np.float32)
    p = nn.Parameter(arr)
    assert isinstance(p, ag.Tensor) and p.requires_grad and p._data is arr
    q = nn.Parameter(ag.ones(2), requires_grad=False)
    assert not q.requires_grad
    y = (p * 2).sum()
    y.backward()
    np.testing.assert_array_equal(p.grad._data, [2, 2, 2])


def test_get_submodule_and_parameter():
    m = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Linear(2, 2))))
    assert m.get_submodule("block.0") is m.block[0]
    assert m.get_parameter("block.0.weight") is m.block[0].weight
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        m.get_submodule("block.nope")


# -- backward hooks ---------------------------------------------------------------------------------
def _hooked_linear_run(lib, nnm, case):
    """A Linear with a full backward hook (and a pre-hook for "pre"); returns what the hook saw and the
    gradients, rounded, so both libraries' runs compare with ==."""
    rng = np.random.default_rng(0)
    w, b, xv = rng.standard_normal((3, 2)), rng.standard_normal(3), rng.standard_normal((4, 2))
    lin = nnm.Linear(2, 3)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(w, dtype=lib.float64))
        lin.bias.copy_(lib.tensor(b, dtype=lib.float64))
    x = lib.tensor(xv, dtype=lib.float64, requires_grad=case != "input without grad")
    log = []

    def arr(g):
        return None if g is None else np.round(g.detach().numpy(), 8).tolist()

    def hook(m, gi, go):
        log.append((tuple(arr(g) for g in gi), tuple(arr(g) for g in go)))
        if case == "replace grad_input":
            return (gi[0] * 3,)
    lin.register_full_backward_hook(hook)
    if case == "pre-hook":
        lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    y = lin(x)
    (y * y).sum().backward()
    if case == "two calls":
        lin(x * 2).sum().backward()
    return log, arr(x.grad), arr(lin.weight.grad)


@pytest.mark.parametrize("case", ["plain", "input without grad", "replace grad_input", "pre-hook", "two calls"])
def test_full_backward_hooks_match_torch(case):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    ag.set_default_dtype(ag.float64)
    try:
        ours = _hooked_linear_run(ag, nn, case)
        theirs = _hooked_linear_run(torch, torch.nn, case)
    finally:
        torch.set_default_dtype(torch.float32)
        ag.set_default_dtype(ag.float32)
    assert ours == theirs


def test_full_backward_hook_sees_and_replaces_input_gradients():
    layer = nn.Linear(2, 1)
    x = ag.ones(3, 2, requires_grad=True)
    seen = []

    def hook(m, gi, go):
        seen.append((gi[0].shape, go[0].shape))
        return (ag.zeros_like(gi[0]),)
    h = layer.register_full_backward_hook(hook)
    layer(x).sum().backward()
    assert seen == [((3, 2), (3, 1))]
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 2)))
    assert layer.weight.grad is not None and np.abs(layer.weight.grad.numpy()).sum() > 0
    h.remove()
    x.grad = None
    layer(x).sum().backward()
    assert len(seen) == 1 and np.abs(x.grad.numpy()).sum() > 0

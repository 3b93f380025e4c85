"""Names and behaviours that public PyTorch scripts (pytorch/examples, nanoGPT, minGPT, ...) reach for,
each checked against PyTorch where it is installed: the device attributes of a tensor (``is_xpu``,
``is_mps``, ...), and ``torch.distributed`` in a process where no group was started."""
import pytest

import autograd_core as ag


def _torch():
    return pytest.importorskip("torch")


DEVICE_FLAGS = ("is_cpu", "is_cuda", "is_xpu", "is_mps", "is_ipu", "is_maia", "is_mtia", "is_mkldnn", "is_vulkan",
                "is_xla", "is_meta", "is_nested", "is_quantized", "is_sparse", "is_sparse_csr")


@pytest.mark.parametrize("name", DEVICE_FLAGS)
def test_device_flags_of_a_cpu_tensor_match_torch(name):
    torch = _torch()
    assert getattr(ag.zeros(2), name) is getattr(torch.zeros(2), name)


def test_dcgan_device_check_reads_is_xpu():
    x = ag.zeros(1)
    assert not ((x.is_cuda or x.is_xpu) and 2 > 1)


def test_distributed_without_a_group():
    dist = ag.distributed
    assert dist.is_available() is False and dist.is_initialized() is False
    assert dist.is_torchelastic_launched() is False and dist.is_nccl_available() is False
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(ValueError, match="Default process group has not been initialized.*single process"):
            fn()
    with pytest.raises(ValueError, match="all_reduce"):
        dist.all_reduce(ag.zeros(1), op=dist.ReduceOp.SUM)
    with pytest.raises(RuntimeError, match=r"init_process_group\(backend='nccl'\).*single process"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()
    assert dist.Backend("NCCL") == "nccl" and dist.GroupMember.WORLD is None


def test_distributed_imports_as_in_nanogpt():
    from autograd_core.distributed import destroy_process_group, init_process_group  # noqa: F401
    import autograd_core.distributed as dist
    assert dist is ag.distributed


def test_distributed_errors_match_torch_kinds():
    torch = _torch()
    tdist = torch.distributed
    assert tdist.is_initialized() is ag.distributed.is_initialized()
    for name in ("get_rank", "get_world_size", "barrier"):
        with pytest.raises(ValueError) as theirs:
            getattr(tdist, name)()
        with pytest.raises(ValueError) as ours:
            getattr(ag.distributed, name)()
        assert str(ours.value).startswith(str(theirs.value))


def test_torch_nn_before_import_nn_names_the_import_line():
    import subprocess
    import sys
    code = ("import autograd_core as torch\n"
            "for get in (lambda: torch.nn, lambda: torch.optim, lambda: torch.utils.data):\n"
            "    try:\n        get()\n    except AttributeError as e:\n        print(e)\n"
            "print(hasattr(torch, 'nn'))\n"
            "import nn\nprint(torch.nn is nn, torch.utils.data is nn.data)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert "add `import nn`" in out[0] and "add `import optim`" in out[1] and "add `import nn`" in out[2]
    assert out[3:] == ["False", "True True"]
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'$"):
        ag.no_such_name  # noqa: B018


# -- PyTorch's positional argument forms ------------------------------------------------------------
import numpy as np  # noqa: E402

FORMS = ["x.flip(0, 1)", "x.flip(0, 2)", "x.flip(2)", "x.flip((0, 1))", "x.flip([1])", "x.flip(dims=(0, 2))",
         "x.tile(2, 1)", "x.tile(2, 1, 1, 1)", "x.tile((2,))", "x.tile(3)",
         "t.var_mean(x, 1, True)", "t.var_mean(x, 1, False, True)", "t.var_mean(x, False)", "t.var_mean(x, (0, 2))",
         "t.var_mean(x, 1, keepdim=True, correction=0)", "t.std_mean(x, (0, 1), True, True)", "t.std_mean(x, 2, False)",
         "t.std_mean(x, dim=1, unbiased=False)", "t.var_mean(x)"]


@pytest.mark.parametrize("form", FORMS)
def test_positional_forms_match_torch(form):
    torch = _torch()
    a = np.arange(24.0).reshape(2, 3, 4) % 7 - 3
    outs = []
    for t in (ag, torch):
        x = t.tensor(a, requires_grad=True)
        y = eval(form, {"t": t, "x": x})
        ys = y if isinstance(y, tuple) else (y,)
        total = sum((v * t.tensor(np.cos(np.arange(v.numel())).reshape(tuple(v.shape)))).sum() for v in ys)
        total.backward()
        outs.append(([v.detach().numpy() for v in ys], x.grad.numpy()))
    (ours, g_ours), (theirs, g_theirs) = outs
    assert len(ours) == len(theirs)
    for o, t_ in zip(ours, theirs):
        assert o.shape == t_.shape
        np.testing.assert_allclose(o, t_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-12, atol=1e-12)


def test_flip_method_takes_dims_as_separate_ints():
    x = ag.tensor([[1, 2, 3], [4, 5, 6]])
    assert x.flip(0, 1).tolist() == [[6, 5, 4], [3, 2, 1]]
    assert x.flip(1).tolist() == [[3, 2, 1], [6, 5, 4]]
    assert x.tile(2, 1).shape == (4, 3) and x.tile(2).shape == (2, 6)
    with pytest.raises(TypeError, match="Tensor.flip: give the dims once"):
        x.flip(0, dims=(1,))
    v, m = ag.var_mean(ag.tensor([[1.0, 3.0]]), 1, False, True)
    assert v.tolist() == [[1.0]] and m.tolist() == [[2.0]]
    with pytest.raises(TypeError, match="var_mean: give unbiased or correction, not both"):
        ag.var_mean(ag.ones(3), 0, True, correction=0)


def test_flip_function_refuses_a_second_positional_dim_as_torch_does():
    x = ag.arange(6).reshape(2, 3)
    with pytest.raises(TypeError):
        ag.flip(x, 0, 1)
    assert ag.flip(x, (0, 1)).tolist() == [[5, 4, 3], [2, 1, 0]]


def test_optimizer_refuses_a_tensor_lr_and_says_what_to_pass():
    import optim
    with pytest.raises(ValueError, match=r"Adam: lr must be a real number, got tensor.*pass lr=float\(\.\.\.\)"):
        optim.Adam([ag.zeros(1, requires_grad=True)], lr=ag.tensor(0.01))


# -- print(model) as PyTorch prints it ----------------------------------------------------------------
REPRS = ["nn.Conv2d(3, 8, (3, 5), padding='same', bias=False, dilation=2)", "nn.Conv1d(2, 4, 3, padding='valid')",
         "nn.Conv3d(1, 2, 3, padding='same')",
         "nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])", "nn.ModuleList()",
         "nn.ModuleList([nn.Sequential(nn.Linear(2, 3), nn.ReLU()) for _ in range(3)])",
         "nn.MultiheadAttention(8, 2)", "nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3, "
         "enable_nested_tensor=False)", "nn.Transformer(8, 2, 2, 1, 16)"]


@pytest.mark.parametrize("expr", REPRS)
def test_module_repr_matches_torch(expr):
    torch = _torch()
    import nn
    assert repr(eval(expr, {"nn": nn})) == repr(eval(expr, {"nn": torch.nn}))


def test_module_list_repr_folds_runs_of_equal_modules():
    import nn
    text = repr(nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 3), nn.Linear(2, 2)]))
    assert text.splitlines() == ["ModuleList(", "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)",
                                 "  (2): Linear(in_features=2, out_features=3, bias=True)",
                                 "  (3): Linear(in_features=2, out_features=2, bias=True)", ")"]
    out_proj = nn.MultiheadAttention(4, 2).out_proj
    assert isinstance(out_proj, nn.Linear) and type(out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert repr(nn.Conv2d(1, 1, 3, padding="same")).endswith("padding=same)")


def _reassigned_names(nn, torch):
    lin = nn.Linear(2, 3)
    lin.weight = nn.Parameter(torch.zeros(3, 2))  # as nanoGPT's crop_block_size and weight tying do
    seq = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    seq[0] = nn.Tanh()
    setattr(seq, "1", nn.Sigmoid())
    bn = nn.BatchNorm1d(2)
    bn.running_mean = nn.Buffer(torch.ones(2)) if hasattr(nn, "Buffer") else bn.running_mean
    tied = nn.ModuleDict(dict(wte=nn.Embedding(4, 2), head=nn.Linear(2, 4, bias=False)))
    tied.wte.weight = tied.head.weight
    return ([n for n, _ in lin.named_parameters()], list(lin.state_dict()), [n for n, _ in seq.named_children()],
            [type(m).__name__ for m in seq], list(bn.state_dict()), list(tied.state_dict()),
            [n for n, _ in tied.named_parameters()])


def test_reassigned_parameters_and_modules_keep_their_place_as_in_torch():
    import nn
    ours = _reassigned_names(nn, ag)
    assert ours[0] == ["weight", "bias"] and ours[2] == ["0", "1", "2"]
    torch = pytest.importorskip("torch")
    assert ours == _reassigned_names(torch.nn, torch)


# -- mvlgamma ------------------------------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from autograd_core.testing import gradcheck  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(p=st.integers(1, 4), n=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_mvlgamma_gradcheck(p, n, seed):
    a = (p - 1) / 2 + 0.2 + 3 * np.random.default_rng(seed).random(n)  # the domain: x > (p - 1) / 2
    x = ag.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: ag.mvlgamma(t, p), (x,))
    assert gradcheck(lambda t: t.mvlgamma(p), (x,))


def test_mvlgamma_matches_torch():
    torch = _torch()
    a = np.array([1.7, 2.5, 4.0])
    for p in (1, 2, 3):
        np.testing.assert_allclose(ag.mvlgamma(ag.tensor(a), p).numpy(), torch.mvlgamma(torch.tensor(a), p).numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(ag.tensor(a).mvlgamma(p).numpy(), torch.tensor(a).mvlgamma(p).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="multigammaln: p must be a positive int"):
        ag.mvlgamma(ag.tensor(a), 0)


# -- uint8 (ByteTensor) masks --------------------------------------------------------------------------
def test_uint8_tensor_index_is_a_mask_as_in_torch():
    q = ag.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    mask = ag.tensor([1, 0, 1, 1], dtype=ag.uint8)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        picked = q[mask]
    assert picked.shape == (3, 3) and picked[:, 0].tolist() == [0.0, 6.0, 9.0]
    picked.sum().backward()
    assert q.grad[:, 0].tolist() == [1.0, 0.0, 1.0, 1.0]
    out = ag.zeros(4)
    with pytest.warns(UserWarning):
        out[mask] = ag.tensor([1.0, 2.0, 3.0])
    assert out.tolist() == [1.0, 0.0, 2.0, 3.0]
    assert q[ag.tensor([1, 0])].shape == (2, 3)  # int64 indices stay row numbers


def test_uint8_mask_in_a_dqn_update_matches_torch():
    """The DQN tutorial's ``next_state_values[non_final_mask] = target_net(...).max(1)[0].detach()`` with a
    ``dtype=torch.uint8`` mask, as older versions of the tutorial write it."""
    torch = _torch()
    a = np.random.default_rng(0).standard_normal((4, 3))
    outs = []
    for t in (ag, torch):
        q = t.tensor(a, requires_grad=True)
        mask = t.tensor((True, False, True, True), dtype=t.uint8)
        nsv = t.zeros(4, dtype=t.float64)
        with pytest.warns(UserWarning):
            nsv[mask] = q[:3].max(1)[0]
        sav = q.gather(1, t.tensor([[1], [0], [2], [1]]))
        loss = t.nn.functional.smooth_l1_loss(sav, (nsv * 0.99 + 1.0).unsqueeze(1))
        loss.backward()
        outs.append((nsv.detach().numpy(), float(loss), q.grad.numpy()))
    for o, t_ in zip(*outs):
        np.testing.assert_allclose(o, t_, rtol=1e-12)


# -- tensors print as PyTorch prints them --------------------------------------------------------------
TENSOR_REPRS = ["[True]", "[True, False]", "[[True, True], [False, True]]", "[1e10, 1.0]", "[1e10, -1.0]",
                "[3000.0, 1.0]", "[1.0, 2.0]", "[1e-8, 1.0]", "[0.5, 1e9]", "[100.0, 0.0]",
                "[[1e9, 2.0], [3.0, 4.0]]", "[float('nan'), 1e9]", "[float('-inf'), 1e9, -2.0]", "[1.5, -2.25]"]


@pytest.mark.parametrize("data", TENSOR_REPRS)
def test_tensor_repr_matches_torch(data):
    torch = _torch()
    assert repr(ag.tensor(eval(data))) == repr(torch.tensor(eval(data)))


# -- SyncBatchNorm, fusion, skip_init, module paths of nn.utils --------------------------------------------
def test_sync_batch_norm_and_fusion_match_torch():
    torch = _torch()
    import nn
    r = np.random.default_rng(0)
    x = r.standard_normal((4, 2, 5, 5))
    outs = []
    for lib_nn, t in ((nn, ag), (torch.nn, torch)):
        model = lib_nn.Sequential(lib_nn.Conv2d(2, 3, 3), lib_nn.BatchNorm2d(3), lib_nn.ReLU(),
                                  lib_nn.Conv2d(3, 2, 1, bias=False), lib_nn.BatchNorm2d(2)).double()
        rp = np.random.default_rng(1)
        with t.no_grad():
            for p in model.parameters():
                p.copy_(t.tensor(rp.standard_normal(tuple(p.shape)) * 0.5))
        model = lib_nn.SyncBatchNorm.convert_sync_batchnorm(model)
        xt = t.tensor(x)
        train_out = model(xt)  # batch statistics, running statistics updated
        model.eval()
        fused = lib_nn.Sequential(lib_nn.utils.fuse_conv_bn_eval(model[0], model[1]), model[2],
                                  lib_nn.utils.fuse_conv_bn_eval(model[3], model[4]))
        lin = lib_nn.Linear(3, 2).double().eval()
        bn1 = lib_nn.BatchNorm1d(2).double().eval()
        bn1.running_mean.fill_(0.3)
        bn1.running_var.fill_(2.0)
        z = t.tensor(rp.standard_normal((4, 3)))
        outs.append([train_out.detach().numpy(), model(xt).detach().numpy(), fused(xt).detach().numpy(),
                     model[1].running_var.numpy(), type(model[4]).__name__,
                     (lib_nn.utils.fuse_linear_bn_eval(lin, bn1)(z) - bn1(lin(z))).abs().max().item()])
    ours, theirs = outs
    for o, t_ in zip(ours[:4], theirs[:4]):
        np.testing.assert_allclose(o, t_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[2], ours[1], rtol=1e-10, atol=1e-12)  # the fused model is the model
    assert ours[4] == theirs[4] == "SyncBatchNorm" and ours[5] < 1e-12


def test_nn_utils_module_paths_and_skip_init():
    import nn
    from nn.utils.clip_grad import clip_grad_norm_
    from nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
    from nn.utils.fusion import fuse_conv_bn_eval  # noqa: F401
    assert clip_grad_norm_ is nn.utils.clip_grad_norm_
    m = nn.utils.skip_init(nn.Linear, 5, 1)
    assert m.weight.shape == (1, 5)
    with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
        nn.utils.skip_init(lambda: nn.Linear(1, 1))
    with pytest.raises(ValueError, match="SyncBatchNorm: expected at least 2D input"):
        nn.SyncBatchNorm(3)(ag.ones(3))


def test_tensor_of_one_int_is_a_float_vector_of_that_size_as_in_torch():
    import nn
    t = ag.Tensor(4)
    assert t.shape == (4,) and t.dtype == ag.get_default_dtype()
    p = nn.Parameter(ag.Tensor(3))  # the legacy `self.bias = nn.Parameter(torch.Tensor(out_features))`
    nn.init.uniform_(p, -0.1, 0.1)
    assert p.shape == (3,) and p.requires_grad
    assert ag.Tensor(2, 3).shape == (2, 3) and ag.Tensor().shape == (0,)
    assert ag.Tensor([1, 2]).tolist() == [1, 2]  # data, not sizes
    torch = pytest.importorskip("torch")
    assert tuple(torch.Tensor(4).shape) == (4,) and torch.Tensor(4).dtype == torch.float32


def test_error_messages_say_what_to_do():
    import nn.functional as F
    with pytest.raises(ValueError, match=r"cross_entropy: a float target .* shape \(2, 3\), got \(2,\); for class "
                                         r"indices pass an integer tensor \(target.long\(\)\)"):
        F.cross_entropy(ag.ones(2, 3), ag.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="interpolate: antialias=True is not supported here; pass antialias=False"):
        F.interpolate(ag.ones(1, 1, 2, 2), scale_factor=2, mode="bilinear", antialias=True)


# -- torch.nn.modules paths and _LRScheduler -------------------------------------------------------------
def test_nn_modules_paths_and_old_scheduler_base_as_in_torch():
    import nn
    import optim
    from nn.modules.batchnorm import _BatchNorm
    from nn.modules.loss import _Loss, _WeightedLoss
    from nn.modules.utils import _pair, _triple
    assert issubclass(nn.CrossEntropyLoss, _WeightedLoss) and issubclass(nn.MSELoss, _Loss)
    assert isinstance(nn.BatchNorm1d(2), _BatchNorm) and isinstance(nn.SyncBatchNorm(2), _BatchNorm)
    assert _pair(3) == (3, 3) and _triple((1, 2, 3)) == (1, 2, 3)
    assert nn.modules.linear.Linear is nn.Linear and nn.modules.Linear is nn.Linear

    class Focal(_Loss):  # a custom loss on PyTorch's base class keeps its reduction argument
        def forward(self, a, b):
            e = (a - b) ** 2
            return e.mean() if self.reduction == "mean" else e.sum()
    assert Focal(reduction="sum")(ag.ones(2), ag.zeros(2)).item() == 2.0

    lrs = _halving_lrs(ag, optim)
    assert lrs == [0.5, 0.25, 0.125]
    torch = pytest.importorskip("torch")
    assert set(torch.nn.modules.loss.__dict__) >= {"_Loss", "_WeightedLoss"}
    assert _halving_lrs(torch, torch.optim) == lrs


def _halving_lrs(lib, optim_mod):
    """Three steps of a custom scheduler on ``_LRScheduler`` (a script's own subclass), in either library."""
    class Halving(optim_mod.lr_scheduler._LRScheduler):
        def get_lr(self):
            return [lr * 0.5 ** self.last_epoch for lr in self.base_lrs]
    opt = optim_mod.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
    sched = Halving(opt)
    lrs = []
    for _ in range(3):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def test_forward_hooks_with_kwargs_and_prepend_as_in_torch():
    import nn
    outs = []
    for lib_nn, t in ((nn, ag), (pytest.importorskip("torch").nn, pytest.importorskip("torch"))):
        class Scaled(lib_nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale
        m = Scaled()
        order = []
        m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] + 1,), {"scale": kwargs["scale"] * 2}),
                                    with_kwargs=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("kw", kwargs["scale"])) or out + 100,
                                with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
        y = m(t.ones(2), scale=3.0)
        outs.append((y.tolist(), order))
    assert outs[0] == outs[1] == ([112.0, 112.0], ["first", ("kw", 6.0)])
    m = nn.ReLU()
    m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args, new_kwargs\)"):
        m(ag.ones(1))


def _state_dict_hook_story(lib_nn, t):
    model = lib_nn.Sequential(lib_nn.Linear(2, 2), lib_nn.Linear(2, 1))
    seen = []
    model[0].register_state_dict_pre_hook(lambda m, prefix, keep_vars: seen.append(("pre", prefix)))
    model[1].register_state_dict_post_hook(lambda m, sd, prefix, meta: sd.pop(prefix + "bias") and None)
    keys = list(model.state_dict())

    def rename(m, sd, prefix, meta, strict, missing, unexpected, errors):  # an old checkpoint's names
        if prefix + "W" in sd:
            sd[prefix + "weight"] = sd.pop(prefix + "W")
    model[0].register_load_state_dict_pre_hook(rename)
    model[1].register_load_state_dict_post_hook(lambda m, inc: seen.append(("post", list(inc.missing_keys))))
    old = {"0.W": t.ones(2, 2), "0.bias": t.zeros(2), "1.weight": t.ones(1, 2), "1.bias": t.zeros(1)}
    result = model.load_state_dict(old)
    return keys, seen, list(result.missing_keys), model[0].weight.detach().numpy().tolist(), "0.W" in old


def test_state_dict_hooks_as_in_torch():
    import nn
    ours = _state_dict_hook_story(nn, ag)
    assert ours == (["0.weight", "0.bias", "1.weight"], [("pre", "0."), ("post", [])], [], [[1.0, 1.0], [1.0, 1.0]],
                    True)
    torch = pytest.importorskip("torch")
    assert ours == _state_dict_hook_story(torch.nn, torch)
    m = nn.Linear(1, 1)
    m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.remove("bias"))
    assert m.load_state_dict({"weight": ag.ones(1, 1)}).missing_keys == []  # forgiven by the hook: no strict error


def test_a_python_int_given_to_an_op_is_a_value_not_a_size():
    """Only a user's ``torch.Tensor(5)`` is the legacy size: the ops' own wrapping of a Python int keeps its
    value (``ag.add(2, x)`` adds 2; it once made a zero vector of length 2)."""
    import math
    x = ag.tensor([1.0, 4.0])
    assert ag.add(2, x).tolist() == [3.0, 6.0]
    assert ag.sin(2).item() == pytest.approx(math.sin(2))
    assert ag.exp(1).item() == pytest.approx(math.e)
    assert ag.sum(3).item() == 3
    assert ag.Tensor(3).shape == (3,)


# -- an optimizer's param_groups hold PyTorch's entries, in PyTorch's order ---------------------------------
OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop", "Rprop",
              "LBFGS", "SparseAdam", "Adafactor"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_param_groups_print_as_in_torch(name):
    """The state-dict recipe prints ``optimizer.state_dict()['param_groups']``: the implementation flags
    (``foreach``, ``capturable``, ``differentiable``, ``fused``) are there too, with PyTorch's defaults."""
    torch = _torch()
    import nn
    import optim
    ours = getattr(optim, name)([nn.Parameter(ag.zeros(2))]).state_dict()["param_groups"]
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))]).state_dict()["param_groups"]
    assert repr(ours) == repr(theirs)


def test_optimizer_flags_reach_no_update_rule_and_survive_a_round_trip():
    import nn
    import optim
    w = nn.Parameter(ag.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1, momentum=0.9, foreach=False)
    assert opt.param_groups[0]["foreach"] is False and opt.defaults["fused"] is None
    (w * w).sum().backward()
    opt.step()  # (SGD's rule takes no foreach: the step runs)
    again = optim.SGD([nn.Parameter(ag.tensor([1.0, 2.0]))], lr=0.1, momentum=0.9)
    again.load_state_dict(opt.state_dict())
    assert again.param_groups[0]["foreach"] is False
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)

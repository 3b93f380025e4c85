"""Devices, the cuda/backends/accelerator namespaces, AMP and dtype names, as PyTorch defines them on a
machine without a GPU; every CUDA/MPS request anywhere raises the one clear CPU-only error."""
import doctest
import importlib
import pickle
import warnings

import numpy as np
import pytest

import autograd_core as ag

CPU_ONLY = "runs on the CPU only"


# -- device objects ----------------------------------------------------------------------------------
def test_device_objects_like_torch():
    d = ag.device("cpu")
    assert (d.type, d.index, str(d), repr(d)) == ("cpu", None, "cpu", "device(type='cpu')")
    d0 = ag.device("cpu", 0)
    assert (d0.type, d0.index, str(d0), repr(d0)) == ("cpu", 0, "cpu:0", "device(type='cpu', index=0)")
    assert ag.device("cpu:0") == d0 and d0 != d
    c = ag.device("cuda:1")
    assert (c.type, c.index) == ("cuda", 1)
    assert ag.device(2) == ag.device("cuda", 2)  # a bare int is a CUDA ordinal, as in torch
    assert ag.device(d) == d and hash(ag.device("cpu")) == hash(d)
    assert d == "cpu" and d != "cuda" and d != "float32"  # equal to the string that names it
    assert {d: 1}[ag.device("cpu")] == 1
    assert pickle.loads(pickle.dumps(d0)) == d0


def test_device_rejects_bad_names():
    with pytest.raises(RuntimeError, match="device type"):
        ag.device("gpu")
    with pytest.raises(RuntimeError, match="index"):
        ag.device("cpu:x")
    with pytest.raises(RuntimeError, match="already has an index"):
        ag.device("cuda:0", 1)
    with pytest.raises(TypeError):
        ag.device(True)


def test_device_matches_torch_device_fields():
    torch = pytest.importorskip("torch")
    for args in [("cpu",), ("cpu", 0), ("cuda:1",), ("cuda", 3), ("mps",)]:
        ours, theirs = ag.device(*args), torch.device(*args)
        assert (ours.type, ours.index, str(ours)) == (theirs.type, theirs.index, str(theirs))
        assert repr(ours) == repr(theirs)
    assert ag.device(torch.device("cpu")) == ag.device("cpu")  # a torch.device is understood by its name


def test_tensor_device_and_flags():
    t = ag.ones(2)
    assert isinstance(t.device, ag.device) and t.device == ag.device("cpu") and t.device.type == "cpu"
    assert t.device == "cpu" and str(t.device) == "cpu"
    assert t.is_cuda is False and t.is_cpu is True and t.get_device() == -1
    assert t.cpu() is t


# -- CUDA requests: one clear error everywhere ---------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: ag.zeros(2, device="cuda"), lambda: ag.ones(2, device="cuda:0"), lambda: ag.empty(2, device="mps"),
    lambda: ag.full((2,), 1.0, device="cuda"), lambda: ag.arange(3, device="cuda"),
    lambda: ag.linspace(0, 1, 3, device="cuda"), lambda: ag.eye(2, device="cuda"),
    lambda: ag.rand(2, device="cuda"), lambda: ag.randn(2, device=ag.device("cuda")),
    lambda: ag.randint(5, (2,), device="cuda"), lambda: ag.randperm(3, device="cuda"),
    lambda: ag.tensor([1.0], device="cuda"), lambda: ag.as_tensor([1.0], device="cuda"),
    lambda: ag.zeros_like(ag.ones(2), device="cuda"), lambda: ag.ones_like(ag.ones(2), device="cuda"),
    lambda: ag.full_like(ag.ones(2), 3, device="cuda"), lambda: ag.rand_like(ag.ones(2), device="cuda"),
    lambda: ag.randn_like(ag.ones(2), device="cuda"), lambda: ag.empty_like(ag.ones(2), device="cuda"),
    lambda: ag.ones(2).new_zeros(3, device="cuda"), lambda: ag.ones(2).to("cuda"),
    lambda: ag.ones(2).to("cuda:0"), lambda: ag.ones(2).to(ag.device("cuda", 0)), lambda: ag.ones(2).to(0),
    lambda: ag.ones(2).to(device="mps"), lambda: ag.ones(2).cuda(), lambda: ag.ones(2).cuda(1),
    lambda: ag.ones(2).type("torch.cuda.FloatTensor"), lambda: ag.ones(2).type(ag.cuda.FloatTensor),
    lambda: ag.cuda.FloatTensor(2), lambda: ag.cuda.current_device(), lambda: ag.cuda.get_device_name(0),
    lambda: ag.set_default_device("cuda"), lambda: ag.device("cuda").__enter__(),
])
def test_cuda_requests_raise_the_cpu_only_error(call):
    with pytest.raises(RuntimeError, match=CPU_ONLY) as e:
        call()
    msg = str(e.value)
    assert "dtype" not in msg.lower() and "cuda" in msg.lower()


def test_cpu_device_is_accepted_everywhere():
    dev = ag.device("cpu")
    for d in (None, "cpu", "cpu:0", dev, ag.device("cpu", 0)):
        assert ag.zeros(2, device=d).shape == (2,)
        assert ag.tensor([1.0], device=d).device == dev
        assert ag.randn(2, 2, device=d).shape == (2, 2)
        assert ag.ones(2).to(d).device == dev
    with ag.device("cpu"):
        assert ag.zeros(1).device == "cpu"
    ag.set_default_device("cpu")
    assert ag.get_default_device() == dev
    with pytest.raises(TypeError, match="not a device"):
        ag.zeros(2, device="float32")


# -- to() ------------------------------------------------------------------------------------------------
def test_to_every_torch_form():
    x = ag.tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.to(ag.device("cpu")) is x and x.to(ag.float32) is x
    assert x.to(ag.float64).dtype == np.float64
    assert x.to("cpu", ag.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=ag.int64).dtype == np.int64
    assert x.to(ag.zeros(1, dtype=ag.float16)).dtype == np.float16
    y = x.to(ag.float32, copy=True)
    assert y is not x and y._data is not x._data and np.array_equal(y._data, x._data)
    z = x.to("cpu", ag.float32, False, True)  # positional non_blocking, copy
    assert z is not x
    assert x.to("float64").dtype == np.float64 and x.to("torch.float64").dtype == np.float64
    assert x.to(ag.DoubleTensor).dtype == np.float64
    assert x.to(ag.float32, non_blocking=True) is x
    with pytest.raises(TypeError, match="not a dtype"):
        x.to("banana")


def test_to_keeps_the_tape():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x.to(ag.float64) * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 3.0])
    assert x.grad.dtype == np.float32
    x.grad = None
    (x.to("cpu", copy=True) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])


def test_to_matches_torch_results():
    torch = pytest.importorskip("torch")
    a = np.array([1.5, -2.0])
    for ours, theirs in [(lambda t: t.to(ag.float64), lambda t: t.to(torch.float64)),
                         (lambda t: t.to("cpu", ag.int64), lambda t: t.to("cpu", torch.int64)),
                         (lambda t: t.to(ag.zeros(1, dtype=ag.float16)), lambda t: t.to(torch.zeros(1, dtype=torch.float16)))]:
        o, th = ours(ag.tensor(a)), theirs(torch.tensor(a, dtype=torch.float32))
        np.testing.assert_array_equal(o._data, th.numpy())
        assert str(o.dtype) == str(th.dtype).replace("torch.", "")


# -- namespaces ----------------------------------------------------------------------------------------
def test_cuda_namespace():
    c = ag.cuda
    assert c.is_available() is False and c.device_count() == 0 and c.is_bf16_supported() is False
    assert c.manual_seed(0) is None and c.manual_seed_all(0) is None
    assert c.synchronize() is None and c.empty_cache() is None and c.memory_allocated() == 0
    import autograd_core.cuda as imported
    assert imported is ag.cuda
    from autograd_core.cuda.amp import GradScaler, autocast  # noqa: F401  (torch's import path works)
    assert ag.cuda.amp.GradScaler is GradScaler


def test_backends_and_accelerator():
    cudnn = importlib.import_module("autograd_core.backends.cudnn")
    assert cudnn is ag.backends.cudnn
    old = (cudnn.benchmark, cudnn.deterministic, cudnn.enabled)
    try:
        cudnn.benchmark, cudnn.deterministic, cudnn.enabled = True, True, False
        assert (ag.backends.cudnn.benchmark, ag.backends.cudnn.deterministic, ag.backends.cudnn.enabled) == \
            (True, True, False)
    finally:
        cudnn.benchmark, cudnn.deterministic, cudnn.enabled = old
    assert ag.backends.mps.is_available() is False and ag.backends.cudnn.is_available() is False
    ag.backends.cuda.matmul.allow_tf32 = True
    assert ag.backends.cuda.matmul.allow_tf32 is True
    ag.backends.cuda.matmul.allow_tf32 = False
    assert ag.accelerator.is_available() is False and ag.accelerator.current_accelerator() is None
    assert ag.cpu.is_available() is True
    ag.set_float32_matmul_precision("high")
    assert ag.get_float32_matmul_precision() == "high"
    ag.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError):
        ag.set_float32_matmul_precision("fast")
    ag.use_deterministic_algorithms(True)
    assert ag.are_deterministic_algorithms_enabled() is True
    ag.use_deterministic_algorithms(False)


# -- AMP -------------------------------------------------------------------------------------------------
class _CountingOptimizer:
    def __init__(self):
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return "stepped"


@pytest.mark.parametrize("make", [lambda: ag.amp.GradScaler(enabled=False),
                                  lambda: ag.amp.GradScaler("cuda", enabled=False),
                                  lambda: ag.cuda.amp.GradScaler(enabled=False)])
def test_disabled_grad_scaler_is_a_no_op(make):
    scaler = make()
    loss = ag.tensor(2.5, requires_grad=True)
    assert scaler.scale(loss) is loss
    opt = _CountingOptimizer()
    assert scaler.unscale_(opt) is None
    assert scaler.step(opt) == "stepped" and opt.steps == 1
    scaler.update()
    assert scaler.get_scale() == 1.0 and scaler.is_enabled() is False
    assert scaler.state_dict() == {}
    scaler.load_state_dict({})


def test_enabled_grad_scaler_warns_once_and_acts_disabled():
    ag.amp._warned.discard("GradScaler")
    with pytest.warns(UserWarning, match="Disabling"):
        s = ag.amp.GradScaler()
    assert s.is_enabled() is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2 = ag.cuda.amp.GradScaler(init_scale=1024.0)  # the second one is silent
    assert s2.scale(ag.ones(1)).item() == 1.0 and s2.get_growth_factor() == 2.0


def test_grad_scaler_matches_torch_when_cuda_is_missing():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.amp.GradScaler("cuda")
        ours = ag.amp.GradScaler("cuda")
    assert ours.is_enabled() == theirs.is_enabled()
    assert ours.get_scale() == theirs.get_scale() and ours.state_dict() == theirs.state_dict()


def test_autocast_is_a_no_op_context_and_decorator():
    x = ag.ones(2, requires_grad=True)
    with ag.autocast("cpu", dtype=ag.bfloat16):
        y = x * 2
    assert y.dtype == np.float32
    with ag.amp.autocast(device_type="cpu", enabled=False):
        pass
    ag.amp._warned.discard(("autocast", "cuda"))
    with pytest.warns(UserWarning, match="does nothing"):
        ctx = ag.autocast("cuda", dtype=ag.float16)
    with ctx:
        z = x @ x
    assert z.dtype == np.float32

    @ag.autocast("cpu")
    def f(v):
        return v * 3
    np.testing.assert_array_equal(f(x)._data, [3.0, 3.0])
    with ag.cuda.amp.autocast(enabled=False), ag.cpu.amp.autocast():
        pass
    with pytest.raises(RuntimeError, match="unsupported"):
        ag.autocast("gpu")
    assert ag.amp.custom_fwd(f) is f and ag.amp.custom_fwd(cast_inputs=ag.float32)(f) is f


# -- dtypes ----------------------------------------------------------------------------------------------
def test_dtype_names():
    assert (ag.half, ag.short, ag.int16, ag.int, ag.uint8) == (np.float16, np.int16, np.int16, np.int32, np.uint8)
    assert (ag.float, ag.double, ag.long, ag.bool) == (np.float32, np.float64, np.int64, np.bool_)
    assert ag.zeros(2, dtype=ag.half).dtype == np.float16 and ag.ones(2).int().dtype == ag.int
    assert ag.finfo(ag.float32).eps == np.finfo(np.float32).eps and ag.finfo().bits == 32
    assert ag.iinfo(ag.int64).max == np.iinfo(np.int64).max
    assert ag.is_floating_point(ag.ones(1)) and not ag.is_floating_point(ag.tensor([1]))
    with pytest.raises(TypeError, match="iinfo"):
        ag.finfo(ag.int32)


def test_dtype_names_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(ag.half, torch.half), (ag.short, torch.short), (ag.int, torch.int), (ag.int16, torch.int16),
                         (ag.uint8, torch.uint8), (ag.long, torch.long), (ag.double, torch.double)]:
        assert str(theirs) == f"torch.{ours}"
    for ours, theirs in [(ag.float16, torch.float16), (ag.float32, torch.float32), (ag.float64, torch.float64)]:
        a, b = ag.finfo(ours), torch.finfo(theirs)
        assert repr(a) == repr(b)
        for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(a, k) == getattr(b, k) and type(getattr(a, k)) is type(getattr(b, k)), k
    for ours, theirs in [(ag.uint8, torch.uint8), (ag.int8, torch.int8), (ag.int32, torch.int32),
                         (ag.int64, torch.int64)]:
        a, b = ag.iinfo(ours), torch.iinfo(theirs)
        assert repr(a) == repr(b)
        for k in ("bits", "min", "max", "dtype"):
            assert getattr(a, k) == getattr(b, k) and type(getattr(a, k)) is type(getattr(b, k)), k


def test_finfo_limits_are_python_numbers():
    """As PyTorch's: arithmetic on a limit does not overflow in the dtype (NumPy's float16 max * 2 is inf)."""
    assert -ag.finfo(ag.float16).max * 2 == -131008.0
    assert type(ag.finfo().eps) is float and ag.finfo().dtype == "float32"
    assert ag.finfo(ag.float64) != ag.finfo(ag.float32) and ag.finfo(ag.float32) == ag.finfo()
    assert type(ag.iinfo(ag.int64).max) is int and ag.iinfo(ag.uint8).dtype == "uint8"
    x = ag.tensor([1.0, -1.0])
    assert x.masked_fill(x > 0, ag.finfo(x.dtype).min).tolist() == [float(np.finfo(np.float32).min), -1.0]


@pytest.mark.parametrize("name", ["bfloat16", "cfloat", "cdouble", "complex64", "complex128", "chalf"])
def test_unsupported_dtypes_can_be_named_but_not_used(name):
    dt = getattr(ag, name)
    assert dt != ag.float32 and dt == getattr(ag, name) and repr(dt).startswith("torch.")
    what = "bfloat16" if name == "bfloat16" else "complex"
    for call in (lambda: ag.zeros(2, dtype=dt), lambda: ag.tensor([1.0], dtype=dt), lambda: ag.ones(2).to(dt),
                 lambda: ag.ones(2).type(dt), lambda: ag.randn(2, dtype=dt)):
        with pytest.raises(TypeError, match=what) as e:
            call()
        assert "Cannot interpret" not in str(e.value)
    assert pickle.loads(pickle.dumps(dt)) is dt


def test_bfloat16_selection_idiom_runs():
    dtype = ag.bfloat16 if ag.cuda.is_available() and ag.cuda.is_bf16_supported() else ag.float16
    assert ag.zeros(3, dtype=dtype).dtype == np.float16


# -- docstring examples ----------------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["autograd_core.devices", "autograd_core.amp", "autograd_core.dtypes",
                                    "autograd_core.creation", "autograd_core.random", "autograd_core.autograd",
                                    "autograd_core.autograd.function", "autograd_core.autograd.functional",
                                    "autograd_core.ops.sort", "autograd_core.ops.triangular",
                                    "autograd_core.ops.pointwise", "autograd_core.ops.aliases"])
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    ag.manual_seed(0)
    res = doctest.testmod(mod, extraglobs={"ag": ag, "np": np}, optionflags=doctest.ELLIPSIS, verbose=False)
    assert res.attempted > 0 and res.failed == 0


def test_the_meta_device_context_builds_modules_for_an_assigning_load():
    # PyTorch builds a module without storage under `with torch.device('meta')` and fills it with
    # load_state_dict(sd, assign=True); here the module gets CPU tensors, which that load replaces alike
    import nn
    src = nn.Linear(3, 2)
    with ag.device("meta"):
        m = nn.Linear(3, 2)
    m.load_state_dict(src.state_dict(), assign=True)
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    assert str(m.weight.device) == "cpu"
    with pytest.raises(RuntimeError, match="CPU only"):
        with ag.device("cuda"):
            pass

"""Behaviours that the ported public scripts (tests/ported) reached and that once differed from PyTorch,
each checked on its own, against PyTorch in float64 where it is installed."""
import warnings

import numpy as np
import pytest

import autograd_core as ag
import nn
import nn.functional as F


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("cls, name", [(nn.Dropout1d, "dropout1d"), (nn.Dropout2d, "dropout2d"),
                                       (nn.Dropout3d, "dropout3d")])
def test_channel_dropout_modules_call_the_functional_of_the_moment(cls, name, monkeypatch):
    # PyTorch's nn.Dropout2d.forward calls F.dropout2d by name, so replacing the functional reaches it
    calls = []

    def stand_in(input, p=0.5, training=True, inplace=False, **kwargs):  # noqa: A002
        calls.append((p, training))
        return input * 0.0 + 7.0
    monkeypatch.setattr(F, name, stand_in)
    out = cls(0.25)(ag.ones(2, 3, 4))
    assert calls == [(0.25, True)] and float(out.sum()) == 7.0 * out.numel()


def test_dropout2d_on_features_drops_elements_like_torch():
    # mnist_rnn's Dropout2d on (N, C) LSTM features: PyTorch draws one mask value per (n, c), with a warning
    torch = _torch()
    x = np.arange(1.0, 13.0).reshape(4, 3)
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        ours = nn.Dropout2d(0.5)(ag.tensor(x)).numpy()
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        theirs = torch.nn.Dropout2d(0.5)(torch.tensor(x)).numpy()
    for y in (ours, theirs):
        kept = y != 0
        np.testing.assert_allclose(y[kept], 2 * x[kept])
    assert ours.shape == theirs.shape


SUMMARIZED = {
    "arange(2000)": "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])",
    "bool, the hidden middle False": "tensor([True, True, True,  ..., True, True, True])",
    "float, the hidden middle fractional": "tensor([0., 0., 0.,  ..., 1., 1., 1.])",
}


def _summarized_cases():
    return {"arange(2000)": np.arange(2000),
            "bool, the hidden middle False": np.r_[[True] * 3, [False] * 1000, [True] * 3],
            "float, the hidden middle fractional":
                np.r_[np.zeros(3), np.full(1000, 0.5), np.ones(3)].astype(np.float32)}


@pytest.mark.parametrize("name", sorted(SUMMARIZED))
def test_summarized_repr_pads_the_ellipsis_and_formats_the_shown_elements(name):
    # the nn tutorial prints its (50000, 784) training images: PyTorch writes ",  ...," and picks the format
    # (bool width, fixed or whole-number floats) from the printed elements only
    assert repr(ag.from_numpy(_summarized_cases()[name])) == SUMMARIZED[name]


def test_summarized_repr_wraps_rows_as_torch(seed=0):
    # PyTorch puts a fixed count of items on a line (the "..." counting as one); shapes, widths, signs and
    # kinds drawn at random, every repr compared whole
    torch = _torch()
    rng = np.random.default_rng(seed)
    for k in range(120):
        shape = tuple(int(v) for v in rng.integers(1, 60, rng.integers(1, 4)))
        if np.prod(shape) <= 1000:
            shape = shape[:-1] + (int(1001 // np.prod(shape[:-1], dtype=np.int64)) + 1,)
        a = [rng.random(shape).astype(np.float32), rng.integers(-100, 100, shape),
             (rng.standard_normal(shape) * 10.0 ** rng.integers(-2, 9)).astype(np.float32),
             rng.random(shape) > 0.3][k % 4]
        assert repr(ag.from_numpy(a)) == repr(torch.from_numpy(a)), (shape, k % 4)


FLOATS = {
    "float32 whole numbers from 1e6": ([1e6, 2e6], np.float32, "tensor([1000000., 2000000.])"),
    "float32 fractions from 1e6": ([1500000.5, -20000.25], np.float32, "tensor([1500000.5000,  -20000.2500])"),
    "inf takes no part in the width": ([np.inf, 2.0], np.float32, "tensor([inf, 2.])"),
    "float16 fractions from 1e3": ([1000.5, 3.5], np.float16, "tensor([1000.5000,    3.5000], dtype=float16)"),
}


@pytest.mark.parametrize("name", sorted(FLOATS))
def test_float_repr_switches_to_exponents_where_torch_does(name):
    # PyTorch's rule (over 1e8, a ratio over 1000, under 1e-4) for every float dtype; NumPy's own switches
    # float32 at 1e6 and float16 at 1e3
    values, dtype, text = FLOATS[name]
    assert repr(ag.from_numpy(np.array(values, dtype))) == text


@pytest.mark.parametrize("options", [{}, {"sci_mode": True}, {"sci_mode": False, "precision": 6}, {"precision": 2}])
def test_float_repr_matches_torch(options):
    torch = _torch()
    rng = np.random.default_rng(3)
    rows = [[1e6, 2e6], [1.5e6, 2.0], [1e7, -3e6], [np.nan, 1.5, -np.inf], [0.0, -0.0], [1e-5, 3.0], [1e10, -1.0]]
    rows += [list(rng.standard_normal(5) * 10.0 ** rng.integers(-6, 10)) for _ in range(40)]
    try:
        torch.set_printoptions(**options)
        ag.set_printoptions(**options)
        for row in rows:
            for dtype in (np.float32, np.float16, np.float64):
                with np.errstate(over="ignore"):
                    x = np.array(row, dtype)
                # (dtypes print as float16 here, torch.float16 there, which can wrap the line elsewhere)
                theirs = " ".join(repr(torch.from_numpy(x)).replace("torch.", "").split())
                assert " ".join(repr(ag.from_numpy(x)).split()) == theirs
    finally:
        torch.set_printoptions(profile="default")
        ag.set_printoptions(profile="default")


def test_add_and_sub_take_pytorchs_old_alpha_first_order_with_its_warning():
    # the name-generation tutorial updates by p.data.add_(-learning_rate, p.grad.data): PyTorch's deprecated
    # add_(Number alpha, Tensor other), still run there with a UserWarning
    torch = _torch()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    cases = [("add_", lambda m, a, b: a.clone().add_(-0.5, b)), ("sub_", lambda m, a, b: a.clone().sub_(3, b)),
             ("add", lambda m, a, b: a.add(0.25, b)), ("sub", lambda m, a, b: a.sub(2.0, b)),
             ("add", lambda m, a, b: m.add(a, -1.5, b)), ("sub", lambda m, a, b: m.sub(a, 0.5, b)),
             ("add_", lambda m, a, b: a.clone().add_(m.tensor(2.0, dtype=m.float64), b))]
    for name, fn in cases:
        with pytest.warns(UserWarning, match=rf"overload of {name} is deprecated"):
            ours = fn(ag, ag.tensor(x), ag.tensor(y)).numpy()
        with warnings.catch_warnings():   # (PyTorch warns once a process)
            warnings.simplefilter("ignore")
            theirs = fn(torch, torch.tensor(x), torch.tensor(y)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-15, err_msg=name)


def test_old_alpha_first_order_keeps_the_tape():
    torch = _torch()
    grads = []
    for m in (ag, torch):
        a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        b = m.tensor([3.0, 4.0], dtype=m.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a.add(-2.0, b * b)).sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1])


def test_a_tensor_alpha_with_a_tensor_other_says_what_to_write():
    with pytest.raises(TypeError, match=r"add_\(\): alpha must be a number, got tensors of shapes \(3,\) and "
                                        r"\(3,\); write add_\(other, alpha=number\)"):
        ag.ones(3).add_(ag.ones(3), ag.ones(3))


def test_load_accepts_mmap_for_a_path_and_refuses_it_for_a_file_object(tmp_path):
    # module_load_state_dict_tips: torch.load(path, mmap=True) gives the same state dict as without mmap
    import io
    m = nn.Linear(2, 3)
    path = str(tmp_path / "m.safetensors")
    nn.save(m.state_dict(), path)
    plain, mapped = nn.load(path), nn.load(path, mmap=True)
    assert list(plain) == list(mapped) == ["weight", "bias"]
    for k in plain:
        np.testing.assert_array_equal(plain[k].numpy(), mapped[k].numpy())
    buf = io.BytesIO()
    nn.save(m.state_dict(), buf)
    buf.seek(0)
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        nn.load(buf, mmap=True)
    torch = _torch()
    tbuf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 3).state_dict(), tbuf)
    tbuf.seek(0)
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        torch.load(tbuf, mmap=True)


def _assign_case(nn_mod, Parameter, ones, arange_f64):
    m = nn_mod.Sequential(nn_mod.Linear(2, 2), nn_mod.BatchNorm1d(2))
    m[0].bias.requires_grad_(False)
    sd = {"0.weight": Parameter(ones(2, 2), requires_grad=False), "0.bias": arange_f64(2),
          "1.weight": ones(2), "1.bias": ones(2), "1.running_mean": arange_f64(2), "1.running_var": ones(2),
          "1.num_batches_tracked": m[1].num_batches_tracked}
    keys = m.load_state_dict(sd, assign=True)
    return m, sd, keys


def test_load_state_dict_assign_puts_the_state_dicts_tensors_in_place():
    # module_load_state_dict_tips: assign=True keeps the values' dtype and storage; a Parameter stays the same
    # object (taking the old parameter's requires_grad), a plain tensor becomes a Parameter sharing its memory
    m, sd, keys = _assign_case(nn, nn.Parameter, ag.ones, lambda n: ag.arange(n, dtype=ag.float64))
    assert repr(keys) == "<All keys matched successfully>"
    assert m[0].weight is sd["0.weight"] and m[0].weight.requires_grad
    assert isinstance(m[0].bias, nn.Parameter) and m[0].bias.dtype == ag.float64 and not m[0].bias.requires_grad
    assert np.shares_memory(m[0].bias.numpy(), sd["0.bias"].numpy())
    assert m[1].running_mean is sd["1.running_mean"] and m[1].running_mean.dtype == ag.float64
    assert next(m.parameters()) is sd["0.weight"]
    torch = _torch()
    tm, tsd, tkeys = _assign_case(torch.nn, torch.nn.Parameter, torch.ones,
                                  lambda n: torch.arange(n, dtype=torch.float64))
    assert repr(tkeys) == "<All keys matched successfully>"
    assert tm[0].weight is tsd["0.weight"] and tm[0].weight.requires_grad
    assert isinstance(tm[0].bias, torch.nn.Parameter) and tm[0].bias.dtype == torch.float64
    assert not tm[0].bias.requires_grad and tm[0].bias.data_ptr() == tsd["0.bias"].data_ptr()
    assert tm[1].running_mean is tsd["1.running_mean"]


def test_load_state_dict_assign_still_checks_shapes_and_keys():
    m = nn.Linear(2, 2)
    before = m.weight
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape \(3, 2\)"):
        m.load_state_dict({"weight": ag.ones(3, 2), "bias": ag.ones(2)}, assign=True)
    assert m.weight is before
    keys = m.load_state_dict({"weight": ag.ones(2, 2)}, strict=False, assign=True)
    assert keys.missing_keys == ["bias"] and m.weight is not before


def test_incompatible_keys_print_as_torch_prints_them():
    # the warmstarting recipe's load_state_dict(..., strict=False) shows "<All keys matched successfully>"
    m = nn.Linear(2, 2)
    full = m.load_state_dict(nn.Linear(2, 2).state_dict(), strict=False)
    part = m.load_state_dict({"weight": ag.ones(2, 2), "extra": ag.ones(1)}, strict=False)
    assert repr(full) == str(full) == "<All keys matched successfully>" and full == ([], [])
    assert repr(part) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['extra'])"
    assert part.missing_keys == ["bias"] and tuple(part) == (["bias"], ["extra"])
    torch = _torch()
    t = torch.nn.Linear(2, 2)
    assert repr(t.load_state_dict(torch.nn.Linear(2, 2).state_dict(), strict=False)) == repr(full)
    assert repr(t.load_state_dict({"weight": torch.ones(2, 2), "extra": torch.ones(1)}, strict=False)) == repr(part)


# (module name, constructor arguments before inplace): every activation that takes ``inplace`` in PyTorch
INPLACE_ACTIVATIONS = [("ReLU", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("SELU", ()), ("CELU", (2.0,)),
                       ("ReLU6", ()), ("Hardtanh", (-0.5, 0.5)), ("Hardsigmoid", ()), ("Hardswish", ()),
                       ("SiLU", ()), ("Mish", ()), ("Threshold", (0.1, 20.0)), ("RReLU", (0.1, 0.3))]
_INPLACE_X = np.array([[-4.0, -1.5, -0.25, 0.0], [0.05, 0.3, 2.0, 7.0]])


def _inplace_case(lib, nn_mod, name, args, x):
    """x -> a Linear's output h -> act(inplace=True)(h), kept in a list before the call (yunjey's style
    transfer keeps each conv's output so, then its ReLU(inplace=True) runs); the loss reads the list."""
    lin = nn_mod.Linear(4, 4).double()
    with lib.no_grad():
        lin.weight.copy_(lib.eye(4, dtype=lib.float64) * 1.5)
        lin.bias.fill_(0.25)
    act = getattr(nn_mod, name)(*args, inplace=True).eval()
    kept = []
    h = lin(x)
    kept.append(h)
    out = act(h)
    loss = (kept[0] * lib.arange(8.0, dtype=lib.float64).view(2, 4)).sum()
    loss.backward()
    return out is h, kept[0].detach().numpy(), lin.weight.grad.numpy()


@pytest.mark.parametrize("name, args", INPLACE_ACTIVATIONS, ids=[n for n, _ in INPLACE_ACTIVATIONS])
def test_inplace_activation_writes_into_its_input_as_torch(name, args):
    # with inplace=True the module's input itself takes the result: an alias kept before the call sees it,
    # and the gradient through that alias is the activation's (the activation's rule, not the identity)
    ours = _inplace_case(ag, nn, name, args, ag.tensor(_INPLACE_X))
    assert ours[0]
    plain = getattr(nn, name)(*args).eval()(ag.tensor(_INPLACE_X * 1.5 + 0.25)).numpy()
    np.testing.assert_allclose(ours[1], plain, rtol=1e-12)
    torch = _torch()
    theirs = _inplace_case(torch, torch.nn, name, args, torch.tensor(_INPLACE_X))
    assert theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-15)
    # (PyTorch's hardsigmoid backward scales by 1/6 rounded to float32, in float64 too: rtol 1e-7)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-7 if name == "Hardsigmoid" else 1e-12, atol=1e-15)


def test_inplace_functional_refuses_a_leaf_that_requires_grad_and_writes_under_no_grad():
    leaf = ag.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(leaf, inplace=True)
    np.testing.assert_array_equal(leaf.detach().numpy(), [-1.0, 2.0])
    with ag.no_grad():
        assert F.leaky_relu(leaf, 0.5, inplace=True) is leaf
    np.testing.assert_array_equal(leaf.detach().numpy(), [-0.5, 2.0])
    data = ag.tensor([-3.0, 3.0])
    assert nn.Hardtanh(inplace=True)(data) is data and data.tolist() == [-1.0, 1.0]
    torch = _torch()
    with pytest.raises(RuntimeError, match="leaf"):
        torch.nn.functional.relu(torch.tensor([-1.0, 2.0], requires_grad=True), inplace=True)


def test_inplace_dropout_writes_into_its_input_in_training_only():
    x = ag.ones(64, dtype=ag.float64) * 1.0
    assert F.dropout(x, 0.5, training=False, inplace=True) is x and x.tolist() == [1.0] * 64
    y = nn.Dropout(0.5, inplace=True)(x)
    kept = x.numpy()
    assert y is x and set(np.unique(kept)) <= {0.0, 2.0} and 0 < (kept == 0).sum() < 64


# producers of the tensor an inplace activation then changes: their backward must not read the changed values
# (BatchNorm, conv, pooling, add) or must refuse, as PyTorch's, when it saved its output (sigmoid, exp, relu)
INPLACE_AFTER = {
    "batch_norm": (lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True), True),
    "conv2d": (lambda L, x: L.nn.functional.conv2d(x, L.ones(2, 2, 3, 3, dtype=L.float64) * 0.1), True),
    "max_pool2d": (lambda L, x: L.nn.functional.max_pool2d(x, 2), True),
    "add": (lambda L, x: x + 0.5, True),
    "sigmoid": (lambda L, x: L.sigmoid(x), False),
    "exp": (lambda L, x: L.exp(x), False),
    "relu": (lambda L, x: L.relu(x), False),
}


@pytest.mark.parametrize("producer", sorted(INPLACE_AFTER))
def test_inplace_leaky_relu_after_each_producer_agrees_with_torch(producer):
    torch = _torch()
    make, allowed = INPLACE_AFTER[producer]
    x = np.random.default_rng(3).standard_normal((2, 2, 4, 4))
    results = []
    for lib, leaky in ((ag, F.leaky_relu), (torch, torch.nn.functional.leaky_relu)):
        t = lib.tensor(x, requires_grad=True)
        out = leaky(make(lib, t), 0.2, inplace=True)
        w = lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)) % 5)
        if allowed:
            (out * w).sum().backward()
            results.append((out.detach().numpy(), t.grad.numpy()))
        else:
            with pytest.raises(RuntimeError, match="modified by an in"):
                (out * w).sum().backward()
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

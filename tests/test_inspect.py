"""autograd_core.inspect: tape listings, grad_fn walking, explained backward, drawing, profiler."""
import io
import logging
import re
import time

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_core as ag
from autograd_core import graph
from autograd_core.inspect import (ExplainLogger, Tape, draw, explain_backward, format_grad_fn, profile, scope,
                                   trace, walk)
from autograd_core.inspect._fmt import fmt_norm
from autograd_core.testing import broadcastable_shapes, shapes


def mlp3(x, w1, b1):
    return (x @ w1 + b1).tanh().sum(axis=1)


def small_inputs():
    x = ag.ones(2, 4)
    w1 = ag.ones(4, 3, requires_grad=True)
    b1 = ag.zeros(3, requires_grad=True)
    return x, w1, b1


def mlp_params(rng, sizes=(4, 5, 3), dtype=np.float32):
    p = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        p[f"fc{i}.weight"] = ag.Tensor(rng.standard_normal((b, a)).astype(dtype) / np.sqrt(a), requires_grad=True)
        p[f"fc{i}.bias"] = ag.Tensor(rng.standard_normal(b).astype(dtype) * 0.1, requires_grad=True)
    return p


def mlp_loss(x, y, p):
    h = (x @ p["fc1.weight"].T + p["fc1.bias"]).relu()
    logits = h @ p["fc2.weight"].T + p["fc2.bias"]
    return -ag.log_softmax(logits, axis=1)[np.arange(len(y)), y].mean()


def norm(t):
    return float(np.linalg.norm(np.asarray(t._data, dtype=np.float64)))


# -- trace / listing ------------------------------------------------------------------------------
def test_listing_of_a_small_function_is_exact():
    tape = trace(mlp3, *small_inputs())
    assert isinstance(tape, Tape) and len(tape) == 4
    assert str(tape) == (
        "trace of mlp3: 3 inputs, 4 ops\n"
        "  %3 = matmul(%x[2,4], %w1[4,3])  -> [2,3] float32\n"
        "  %4 = add(%3, %b1[3])            -> [2,3]          (broadcast b1)\n"
        "  %5 = tanh(%4)                   -> [2,3]\n"
        "  %6 = sum(%5, axis=(1,))         -> [2]\n"
        "  return %6")


def test_listing_shows_constants_dtype_changes_indexing_and_names():
    def f(x, w):
        y = (x * 2.0).astype("float64")
        return (y[:, 1:] @ w).mean()
    w = ag.ones(4, 2, dtype="float64", requires_grad=True)
    w.name = "proj"
    tape = trace(f, ag.ones(3, 5), w)
    assert str(tape) == (
        "trace of f: 2 inputs, 5 ops\n"
        "  %2 = mul(%x[3,5], 2.0)          -> [3,5] float32\n"
        "  %3 = astype(%2, dtype=float64)  -> [3,5] float64\n"
        "  %4 = getitem(%3, idx=(:, 1:))   -> [3,4]\n"
        "  %5 = matmul(%4, %proj[4,2])     -> [3,2]\n"
        "  %6 = mean(%5)                   -> []\n"
        "  return %6")


def test_names_mapping_and_params_header_and_scopes():
    rng = np.random.default_rng(0)
    p = mlp_params(rng)

    def f(x):
        with scope("fc1"):
            h = (x @ p["fc1.weight"].T + p["fc1.bias"]).relu()
        return h.sum()
    tape = trace(f, ag.ones(2, 4), names=p)
    text = str(tape)
    assert "params: %fc1.weight[5,4], %fc1.bias[5]" in text
    assert "(broadcast fc1.bias)" in text
    assert re.search(r"%\d+ = relu\(%\d+\) +-> \[2,5\] +# fc1", text)
    assert "# fc1" not in text.splitlines()[-2]  # the sum ran outside the scope
    assert [e.scope for e in tape][-1] is None
    assert dict(tape.params)["fc1.weight"] is p["fc1.weight"]


def test_trace_leaves_the_inputs_as_they_were():
    x, w1, b1 = small_inputs()
    tape = trace(lambda x, w: (x * 3.0).exp() @ w, x, w1)
    assert not x.requires_grad and x.grad is None
    (scaled, expd, mm) = tape.entries
    # values computed from the input alone don't require grad (exactly as without the trace)
    assert not scaled.output.requires_grad and scaled.output.grad_fn is None
    assert not expd.output.requires_grad
    assert mm.output.requires_grad
    mm.output.sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(w1.grad._data, np.exp(3.0 * x._data).T @ np.ones((2, 3)), rtol=1e-6)


def test_tape_backward_keeps_every_norm_without_hooks():
    x, w1, b1 = small_inputs()
    tape = trace(mlp3, x, w1, b1)
    assert all(getattr(e.node, "hooks", None) is None for e in tape)
    assert tape.backward(gradient=np.ones(2, np.float32)) is None
    lg = tape.explained
    assert lg.silent and lg.steps
    out = tape.entries[-1]
    assert tape.grad_norm(out.output) == pytest.approx(np.sqrt(2))
    assert tape.grad_norm(w1) == pytest.approx(norm(w1.grad))
    assert tape.grad_norm(x) is None   # the input needs no gradient


def test_trace_records_ops_when_nothing_requires_grad():
    tape = trace(lambda a: (a * 2.0).exp().sum(), ag.ones(3))
    assert [e.name for e in tape] == ["mul", "exp", "sum"]
    assert not tape.output.requires_grad


def test_trace_errors_are_clear():
    with pytest.raises(TypeError, match="trace: fn must be callable"):
        trace(3, ag.ones(2))
    with pytest.raises(TypeError, match="trace: names= must map names to Tensors"):
        trace(lambda a: a * 2.0, ag.ones(2), names={"a": 3})
    with pytest.raises(ValueError, match="Tape.output: the traced function returned 2 tensors"):
        trace(lambda a: (a * 2.0, a * 3.0), ag.ones(2)).output  # noqa: B018
    # the observer is removed even when fn raises
    with pytest.raises(ZeroDivisionError):
        trace(lambda a: 1 / 0, ag.ones(2))
    assert graph.mode.listeners == ()


def test_trace_of_an_nn_module_names_parameters_and_groups_by_submodule():
    nn = pytest.importorskip("nn")
    if not hasattr(getattr(nn, "Module", None), "register_forward_pre_hook"):
        pytest.skip("nn.Module has no forward hooks yet")
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    tape = trace(model, ag.ones(2, 4))
    text = str(tape)
    assert "%self.0.weight[3,4]" in text and "%self.2.bias[2]" in text
    assert "# 0 (Linear)" in text and "# 1 (ReLU)" in text
    assert {e.scope for e in tape} == {"0", "1", "2"}
    # the hooks are gone afterwards
    assert all(not m._forward_pre_hooks for _, m in model.named_modules())


# -- grad_fn walking ------------------------------------------------------------------------------
def test_grad_fn_next_functions_and_walk():
    x, w1, b1 = small_inputs()
    out = mlp3(x, w1, b1)
    fn = out.grad_fn
    assert fn.name() == "SumBackward"
    (tanh_fn, _), = fn.next_functions
    (add_fn, _), = tanh_fn.next_functions
    (mm_fn, _), (acc_b, _) = add_fn.next_functions
    assert acc_b.name() == "AccumulateGrad" and acc_b.variable is b1
    (none, _), (acc_w, _) = mm_fn.next_functions
    assert none is None and acc_w.variable is w1
    names = [f.name() for f, _ in walk(out)]
    assert names == ["SumBackward", "TanhBackward", "AddBackward", "MatmulBackward", "AccumulateGrad",
                     "AccumulateGrad"]
    tree = format_grad_fn(out)
    assert tree.splitlines()[0].startswith("SumBackward")
    assert "AccumulateGrad" in tree and "None  (" in tree and "[4,3] float32" in tree


def test_format_grad_fn_marks_shared_nodes_and_uses_tape_labels():
    a = ag.ones(3, requires_grad=True)

    def f(a):
        h = a.exp()
        return (h * h).sum()
    tape = trace(f, a)
    tree = format_grad_fn(tape.output)
    assert "ExpBackward  %1" in tree and "(above)" in tree
    assert "AccumulateGrad  %a [3]" in tree


def test_walk_after_backward_says_the_graph_was_freed():
    x, w1, b1 = small_inputs()
    out = mlp3(x, w1, b1).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="freed by backward; call backward\\(retain_graph=True\\)"):
        list(walk(out))
    with pytest.raises(ValueError, match="is a leaf"):
        format_grad_fn(w1)


# -- explained backward ---------------------------------------------------------------------------
def _explained_leaf_norms(text):
    block = text.split("leaf gradients from this backward")[1]
    return {m.group(1): m.group(2) for m in re.finditer(r"(%\S+) +\[[\d,]*\] +\|grad\| = (\S+)", block)}


def test_explain_true_reports_the_same_norms_as_grad():
    rng = np.random.default_rng(1)
    p = mlp_params(rng)
    x = ag.Tensor(rng.standard_normal((6, 4)).astype(np.float32))
    y = rng.integers(0, 3, 6)
    tape = trace(mlp_loss, x, y, p, names=p)
    buf = io.StringIO()
    tape.output.backward(explain=buf)
    text = buf.getvalue()
    shown = _explained_leaf_norms(text)
    assert set(shown) == {f"%{k}" for k in p}
    for k, t in p.items():
        assert shown[f"%{k}"] == fmt_norm(norm(t.grad)), k
    # the un-broadcast sum of each bias is spelled out
    assert re.search(r"-> %fc1\.bias +\[5\] +\|g\| = \S+ +un-broadcast: summed \[6,5\] over axis 0", text)
    # one block per VJP, in backward order, starting from the loss
    steps = re.findall(r"^step (\d+)  (\w+)", text, flags=re.M)
    assert [int(s) for s, _ in steps] == list(range(1, len(tape) + 1))
    assert steps[0][1] == "NegBackward"


def test_explain_norms_match_for_leaves_used_twice_and_for_each_step():
    w = ag.Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    x = ag.Tensor(np.ones((4, 2)))
    ex = ExplainLogger(stream=io.StringIO())
    loss = ((x @ w).tanh().sum() + (w * w).sum())
    loss.backward(explain=ex)
    assert ex.leaf_norm(w) == pytest.approx(norm(w.grad), rel=1e-12)
    # each VJP's outgoing norm equals the incoming norm of the node it feeds (single consumer chain)
    by_node = {s["node"]: s for s in ex.steps}
    for s in ex.steps:
        for o in s["grads_out"]:
            if not o["leaf"] and o["to"] in by_node:
                assert by_node[o["to"]]["grad_in"][1] == pytest.approx(o["norm"], rel=1e-12)


@given(st.data())
def test_explain_matches_grad_for_broadcast_shapes(data):
    xs = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    bs = data.draw(broadcastable_shapes(xs, max_dims=len(xs), max_side=4))
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal(xs), requires_grad=True)
    b = ag.Tensor(rng.standard_normal(bs), requires_grad=True)
    out = (x * b + b).sin().sum()
    ex = ExplainLogger(stream=io.StringIO())
    out.backward(explain=ex)
    assert ex.leaf_norm(x) == pytest.approx(norm(x.grad), rel=1e-9, abs=1e-12)
    assert ex.leaf_norm(b) == pytest.approx(norm(b.grad), rel=1e-9, abs=1e-12)
    summed = [o for s in ex.steps for o in s["grads_out"] if o["summed_from"] is not None]
    full = tuple(np.broadcast_shapes(xs, bs))
    # an un-broadcast sum is reported exactly when x or b was broadcast up to the full shape
    assert bool(summed) == (tuple(xs) != full or tuple(bs) != full)


def test_explain_with_create_graph_and_grad_of_grad():
    x = ag.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = (x ** 3).sum()
    ex = ExplainLogger(stream=io.StringIO())
    (g,) = ag.autograd_grad(y, x, create_graph=True)
    g.sum().backward(explain=ex)
    np.testing.assert_allclose(x.grad._data, 6 * x._data)
    assert ex.leaf_norm(x) == pytest.approx(norm(x.grad))


def test_explain_true_logs_through_logging(caplog):
    x, w1, b1 = small_inputs()
    with caplog.at_level(logging.INFO, logger="autograd_core.explain"):
        mlp3(x, w1, b1).sum().backward(explain=True)
    msgs = [r.getMessage() for r in caplog.records if r.name == "autograd_core.explain"]
    assert any(m.startswith("step 1  SumBackward") for m in msgs)
    assert any("|grad| = " + fmt_norm(norm(w1.grad)) in m for m in msgs)


def test_explain_to_a_given_logger_and_bad_argument():
    lg = logging.getLogger("test_inspect.custom")
    records = []

    class H(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    h = H()
    lg.addHandler(h)
    lg.setLevel(logging.INFO)
    try:
        x, w1, b1 = small_inputs()
        mlp3(x, w1, b1).sum().backward(explain=lg)
    finally:
        lg.removeHandler(h)
    assert any("MatmulBackward" in r for r in records)
    with pytest.raises(TypeError, match="explain= must be True, a stream"):
        mlp3(*small_inputs()).sum().backward(explain=42)


def test_explain_true_without_logging_setup_writes_to_stderr(capsys):
    x, w1, b1 = small_inputs()
    mlp3(x, w1, b1).sum().backward(explain=True)
    err = capsys.readouterr().err
    assert "step 1  SumBackward" in err and "leaf gradients" in err


def test_explain_backward_context_only_explains_its_loss():
    x, w1, b1 = small_inputs()
    loss = mlp3(x, w1, b1).sum()
    other = (w1 * 2.0).sum()
    buf = io.StringIO()
    with explain_backward(loss, stream=buf) as ex:
        other.backward()
        assert ex.steps == []
        loss.backward()
    assert graph.mode.explain is None
    assert [s["op"] for s in ex.steps] == ["sum", "sum", "tanh", "add", "matmul"]
    assert ex.leaf_norm(w1) == pytest.approx(norm(w1.grad - 2.0))  # other's 2s came first
    assert sorted(ex.leaf_grads.values()) == sorted([ex.leaf_norm(w1), ex.leaf_norm(b1)])
    # outside the block, nothing is explained
    buf2 = io.StringIO()
    with explain_backward(stream=buf2) as ex2:
        pass
    mlp3(*small_inputs()).sum().backward()
    assert ex2.steps == [] and buf2.getvalue() == ""
    with pytest.raises(TypeError, match="explain_backward: loss must be a Tensor"):
        explain_backward(3.0)


# -- draw -----------------------------------------------------------------------------------------
def _check_png(path, min_w=200, min_h=200):
    import matplotlib.image as mpimg
    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] >= min_h and img.shape[1] >= min_w, img.shape
    flat = img[..., :3].reshape(-1, 3)
    assert np.ptp(flat, axis=0).max() > 0.3             # not one colour
    assert len(np.unique((flat[::7] * 255).astype(np.uint8), axis=0)) > 20
    return img


def test_draw_mlp_png_with_gradient_norms(tmp_path):
    rng = np.random.default_rng(0)
    p = mlp_params(rng)
    x = ag.Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    tape = trace(mlp_loss, x, np.array([0, 1, 2]), p, names=p)
    before = draw(tape, tmp_path / "before.png")
    tape.backward()
    after = tape.draw(tmp_path / "mlp.png")
    _check_png(before)
    _check_png(after)
    # every value on the path to the loss got its gradient norm
    for e in tape:
        assert tape.grad_norm(e.output) is not None, e
    assert tape.grad_norm(p["fc1.weight"]) == pytest.approx(norm(p["fc1.weight"].grad))
    svg = draw(tape, tmp_path / "mlp.svg", group_modules=True)
    text = svg.read_text()
    assert "<svg" in text and len(text) > 5000


def _lenet(x, y, P):
    h = ag.max_pool2d(ag.relu(ag.conv2d(x, P["conv1.weight"], P["conv1.bias"])), 2)
    h = ag.max_pool2d(ag.relu(ag.conv2d(h, P["conv2.weight"], P["conv2.bias"])), 2)
    h = h.reshape(h.shape[0], -1)
    h = ag.relu(h @ P["fc1.weight"].T + P["fc1.bias"])
    h = ag.relu(h @ P["fc2.weight"].T + P["fc2.bias"])
    logits = h @ P["fc3.weight"].T + P["fc3.bias"]
    return -ag.log_softmax(logits, axis=1)[np.arange(len(y)), y].mean()


@pytest.mark.skipif(not (hasattr(ag, "conv2d") and hasattr(ag, "max_pool2d")),
                    reason="autograd_core.conv2d / max_pool2d are not in this checkout")
def test_draw_lenet5_made_of_raw_ops(tmp_path):
    rng = np.random.default_rng(0)

    def p(*s):
        return ag.Tensor((rng.standard_normal(s) * 0.1).astype(np.float32), requires_grad=True)
    P = {"conv1.weight": p(6, 1, 5, 5), "conv1.bias": p(6), "conv2.weight": p(16, 6, 5, 5), "conv2.bias": p(16),
         "fc1.weight": p(120, 256), "fc1.bias": p(120), "fc2.weight": p(84, 120), "fc2.bias": p(84),
         "fc3.weight": p(10, 84), "fc3.bias": p(10)}
    x = ag.Tensor(rng.standard_normal((2, 1, 28, 28)).astype(np.float32))
    tape = trace(_lenet, x, np.array([3, 7]), P, names=P)
    assert [e.name for e in tape][:3] == ["conv2d", "relu", "max_pool2d"]
    tape.backward()
    full = _check_png(draw(tape, tmp_path / "lenet.png"))
    grouped = _check_png(draw(tape, tmp_path / "lenet_grouped.png", group_modules=True))
    assert grouped.shape[0] < full.shape[0]   # grouping shortens the picture
    # a drawing from the tensor itself (before backward frees the graph)
    loss = _lenet(x, np.array([3, 7]), P)
    _check_png(draw(loss, tmp_path / "lenet_tensor.png", names=P, group_modules=True))


def test_draw_from_a_tensor_and_errors(tmp_path):
    x, w1, b1 = small_inputs()
    out = mlp3(x, w1, b1).sum()
    _check_png(draw(out, tmp_path / "t.png"))
    with pytest.raises(ValueError, match="draw: path must end in .png or .svg"):
        draw(out, tmp_path / "t.jpg")
    with pytest.raises(ValueError, match="draw: group_modules must be"):
        draw(out, tmp_path / "t.png", group_modules="yes")
    with pytest.raises(TypeError, match="draw: expected a Tape"):
        draw([out], tmp_path / "t.png")
    with pytest.raises(ValueError, match="has no grad_fn"):
        draw(w1, tmp_path / "t.png")
    out.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        draw(out, tmp_path / "t.png")


def test_draw_groups_an_nn_module_per_submodule(tmp_path):
    nn = pytest.importorskip("nn")
    if not hasattr(getattr(nn, "Module", None), "register_forward_pre_hook"):
        pytest.skip("nn.Module has no forward hooks yet")
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    tape = trace(lambda x: model(x).sum(), ag.ones(5, 8), module=model)
    tape.backward()
    assert model[0].weight.grad is not None
    _check_png(draw(tape, tmp_path / "seq.png", group_modules=True))


# -- profile --------------------------------------------------------------------------------------
def test_profile_per_op_times_add_up_to_the_measured_total():
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((256, 512)).astype(np.float32))
    w1 = ag.Tensor(rng.standard_normal((512, 512)).astype(np.float32) / 20, requires_grad=True)
    w2 = ag.Tensor(rng.standard_normal((512, 256)).astype(np.float32) / 20, requires_grad=True)

    def step():
        loss = ((x @ w1).tanh() @ w2).sum()
        loss.backward()
    step()  # warm up BLAS threads and caches
    t0 = time.perf_counter()
    with profile() as prof:
        step()
        step()
    wall = time.perf_counter() - t0
    # The measured total is the profiled block's wall time; the per-op self times must cover at
    # least 80 % of it.
    assert 0.8 * prof.total_time <= prof.self_time <= prof.total_time <= wall
    stats = {s.name: s for s in prof.key_averages()}
    assert stats["matmul"].fwd_calls == 4 and stats["matmul"].bwd_calls == 4  # one backward call per node
    assert stats["tanh"].fwd_calls == 2 and stats["tanh"].bwd_calls == 2
    assert stats["sum"].fwd_calls == 2
    table = prof.table()
    rows = [ln.split()[0] for ln in table.splitlines()[3:-2]]
    assert rows[0] == "matmul" and set(rows) == set(stats)
    totals = [s.total_time for s in sorted(prof.key_averages(), key=lambda s: -s.total_time)]
    assert totals == sorted(totals, reverse=True)
    assert "Self time in ops" in table.splitlines()[-1]


def test_profile_restores_the_ops_and_counts_nested_ops_once():
    from autograd_core.ops.registry import OPS
    before = {n: (op.forward, op.vjps, op.vjp) for n, op in OPS.items()}
    x = ag.Tensor(np.linspace(-1, 1, 50), requires_grad=True)
    buf = io.StringIO()
    with profile(record_shapes=True, stream=buf) as outer:
        with profile() as inner:
            (g,) = ag.autograd_grad((x.sin() * x).sum(), x, create_graph=True)
        g.sum().backward()
    assert {n: (op.forward, op.vjps, op.vjp) for n, op in OPS.items() if n in before} == before
    assert graph.mode.listeners == ()   # the profiles left nothing registered
    assert outer.self_time <= outer.total_time and inner.self_time <= inner.total_time
    # the outer profile saw every call the inner one saw, once, and the backward after it (counts, not
    # times: the two timers read the clock at slightly different moments)
    def calls(prof):    # per op name, summed over its input shapes (the outer profile records shapes)
        out = {}
        for s in prof.key_averages():
            f, b = out.get(s.name, (0, 0))
            out[s.name] = (f + s.fwd_calls, b + s.bwd_calls)
        return out
    inner_calls, outer_calls = calls(inner), calls(outer)
    assert inner_calls and all(outer_calls[k][0] >= f and outer_calls[k][1] >= b for k, (f, b) in inner_calls.items())
    assert sum(f + b for f, b in outer_calls.values()) > sum(f + b for f, b in inner_calls.values())
    keys = list(outer.stats)
    assert ("sin", "[50]") in keys
    assert "Input shapes" in buf.getvalue()
    with pytest.raises(ValueError, match="profile: sort_by must be one of"):
        profile(sort_by="speed")
    with pytest.raises(ValueError, match="profile.table: sort_by must be one of"):
        outer.key_averages().table(sort_by="speed")


def test_profile_sees_ops_run_without_grad():
    with profile() as prof:
        with ag.no_grad():
            (ag.ones(3, 3) @ ag.ones(3, 3)).exp()
    stats = {s.name: s for s in prof.key_averages()}
    assert stats["matmul"].fwd_calls == 1 and stats["exp"].fwd_calls == 1
    assert stats["matmul"].bwd_calls == 0


# -- the demo -------------------------------------------------------------------------------------
def test_backprop_demo_runs(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.setenv("DEMOS_NO_PROGRESS", "1")
    from demos import backprop, common
    args = common.make_args(backprop, out=tmp_path / "out", quick=True, seed=3)
    res = backprop.run(args)
    out = capsys.readouterr().out
    assert "trace of mlp_loss" in out and "step 1  NegBackward" in out and "Self time in ops" in out
    assert res["explain_matches_grad"] is True
    assert res["train_loss_last"] < res["train_loss_first"]
    png = tmp_path / "out" / "backprop_graph.png"
    assert res["files"] == [png]
    _check_png(png)

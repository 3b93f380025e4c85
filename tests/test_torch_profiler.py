"""torch.profiler's API (autograd_core.profiler) and torch.autograd.profiler: what gets recorded, the
schedule against PyTorch's, the table and the trace files."""
import gzip
import json
import os
import warnings

import pytest
from hypothesis import given, strategies as st

import autograd_core as torch  # the scripts' spelling: only the import line differs from PyTorch
from autograd_core.profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                                    tensorboard_trace_handler)


def _step(x, w):
    y = (x @ w).relu().sum()
    y.backward()
    return y


def test_records_ops_backward_rules_and_ranges_with_counts():
    x, w = torch.randn(4, 5, requires_grad=True), torch.randn(5, 3)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(3):
            with record_function("model_inference"):
                y = (x @ w).relu().sum()
            y.backward()
    rows = {e.key: e for e in prof.key_averages()}
    assert rows["model_inference"].count == 3
    assert rows["matmul"].count == 3 and rows["relu"].count == 3 and rows["sum"].count == 3
    assert rows["MatmulBackward"].count == 3 and rows["ReluBackward"].count == 3
    # a range's total holds its ops; its self time is what is left
    inside = sum(rows[k].cpu_time_total for k in ("matmul", "relu", "sum"))
    r = rows["model_inference"]
    assert r.cpu_time_total >= inside
    assert r.self_cpu_time_total == pytest.approx(r.cpu_time_total - inside, rel=1e-6, abs=1e-3)
    assert r.cpu_time == pytest.approx(r.cpu_time_total / 3)
    by_shape = {(e.key, str(e.input_shapes)) for e in prof.key_averages(group_by_input_shape=True)}
    assert ("matmul", "[[4, 5], [5, 3]]") in by_shape
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    body = [ln for ln in table.splitlines() if ln.strip() and not ln.startswith("-")]
    assert body[0].split()[:2] == ["Name", "Self"]
    assert len(body) == 1 + 3 + 1                      # header, row_limit rows, footer
    top = sorted(prof.key_averages(), key=lambda e: e.cpu_time_total, reverse=True)[:3]
    assert [ln.split()[0] for ln in body[1:4]] == [e.key for e in top]
    full = prof.key_averages().table(sort_by="count", row_limit=-1)
    assert "model_inference" in full and "MatmulBackward" in full
    assert body[-1].startswith("Self CPU time total:")


def test_events_are_ordered_in_time_and_nested_ranges_hold_their_children():
    x = torch.ones(3, requires_grad=True)
    with profile() as prof:
        with record_function("outer"):
            with record_function("inner"):
                y = (x * 2).sum()
    ev = {e.name: e for e in prof.events()}
    assert ev["outer"].time_range.start <= ev["inner"].time_range.start <= ev["mul"].time_range.start
    assert ev["mul"].time_range.end <= ev["inner"].time_range.end <= ev["outer"].time_range.end
    assert ev["outer"].self_cpu_time_total == pytest.approx(
        ev["outer"].cpu_time_total - ev["inner"].cpu_time_total, abs=1e-3)
    assert y.item() == 6.0


def test_record_function_as_decorator_and_outside_a_profile():
    @record_function("block")
    def f(t):
        return t * 3

    assert f(torch.ones(2)).tolist() == [3.0, 3.0]          # no profile open: nothing to record, no error
    with profile() as prof:
        f(torch.ones(2))
        f(torch.ones(2))
    assert {e.key: e.count for e in prof.key_averages()} == {"block": 2, "mul": 2}


def _run_schedule(lib_profile, lib_schedule, n_steps, **kw):
    """The steps at which on_trace_ready fired, and the last trace's step ranges."""
    fired = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sch = lib_schedule(**kw)
    with lib_profile(schedule=sch, on_trace_ready=lambda p: fired.append(p.step_num)) as prof:
        for _ in range(n_steps):
            prof.step()
    return fired


@given(st.integers(0, 2), st.integers(0, 2), st.integers(1, 3), st.integers(0, 2), st.integers(0, 2),
       st.integers(0, 12))
def test_schedule_fires_on_trace_ready_where_pytorch_does(wait, warmup, active, repeat, skip_first, n):
    kw = dict(wait=wait, warmup=warmup, active=active, repeat=repeat, skip_first=skip_first)
    ours = _run_schedule(profile, schedule, n, **kw)
    tp = pytest.importorskip("torch.profiler")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s_ours, s_theirs = schedule(**kw), tp.schedule(**kw)
        assert [s_ours(i).name for i in range(30)] == [s_theirs(i).name for i in range(30)]
    if n > 0:        # PyTorch's own profiler, stepped the same way (CPU only)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _run_schedule(tp.profile, tp.schedule, n, **kw)
        assert ours == theirs


def test_schedule_without_torch():
    s = schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    assert [s(i) for i in range(10)] == [ProfilerAction.NONE, ProfilerAction.NONE, ProfilerAction.WARMUP,
                                         ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE,
                                         ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
                                         ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE]
    with pytest.raises(ValueError, match="active"):
        schedule(wait=0, warmup=0, active=0)


def test_scheduled_trace_holds_only_its_active_steps(tmp_path):
    x = torch.ones(2, requires_grad=True)
    seen = []

    def ready(p):
        seen.append(sorted(e.key for e in p.key_averages() if e.key.startswith("ProfilerStep#")))
    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2), on_trace_ready=ready) as prof:
        for _ in range(10):
            (x * 2).sum().backward()
            prof.step()
    assert seen == [["ProfilerStep#2", "ProfilerStep#3"], ["ProfilerStep#6", "ProfilerStep#7"]]
    assert {e.key: e.count for e in prof.key_averages()}["mul"] == 2


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    x = torch.ones(2, requires_grad=True)
    with profile(record_shapes=True) as prof:
        with record_function("fwd"):
            y = (x * 2).sum()
    for name, opener in (("t.json", open), ("t.json.gz", gzip.open)):
        path = str(tmp_path / name)
        prof.export_chrome_trace(path)
        with opener(path, "rt") as f:
            events = json.load(f)["traceEvents"]
        assert sorted(e["name"] for e in events) == ["fwd", "mul", "sum"]
        assert all(e["ph"] == "X" and e["dur"] >= 0 and e["ts"] >= 0 for e in events)
        assert [e["args"].get("Input Dims") for e in events if e["name"] == "mul"] == [[[2], []]]
    out = tmp_path / "tb"
    with profile(on_trace_ready=tensorboard_trace_handler(str(out), worker_name="w0")):
        (x * 3).sum()
    files = os.listdir(out)
    assert len(files) == 1 and files[0].startswith("w0.") and files[0].endswith(".pt.trace.json")


def test_clear_errors():
    with profile() as prof:
        torch.ones(2).exp()
    with pytest.raises(ValueError, match="record_shapes"):
        prof.key_averages(group_by_input_shape=True)
    with pytest.raises(ValueError, match="sort_by must be one of"):
        prof.key_averages().table(sort_by="wall")
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])
    p = profile()
    with pytest.raises(RuntimeError, match="not started"):
        p.step()


def test_autograd_profiler_legacy_api():
    from autograd_core.autograd.profiler import profile as legacy, record_function as rf
    x = torch.ones(3, requires_grad=True)
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        with rf("step"):
            (x * x).sum().backward()
    keys = {e.key for e in prof.key_averages()}
    assert {"step", "mul", "MulBackward"} <= keys
    assert prof.total_average().count == len(prof.events())
    assert prof.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in prof.events()))
    with legacy(enabled=False) as off:
        (x * x).sum()
    assert len(off.events()) == 0

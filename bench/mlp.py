"""Time one training step of an MLP 784-256-128-10 with Adam (batch 128, float32) in autograd_core,
and in PyTorch if installed.

    python bench/mlp.py                    # 1 and 2 threads, each in a fresh subprocess
    python bench/mlp.py --threads 1 --steps 300
    python bench/mlp.py --threads 1 --profile    # cProfile of our step: where the time goes

The step, written the same way in both libraries: ``F.relu(F.linear(x, W1, b1))``,
``F.relu(F.linear(., W2, b2))``, ``F.cross_entropy(F.linear(., W3, b3), y)``, ``zero_grad``,
``backward``, ``optim.Adam.step`` (``torch.optim.Adam`` for PyTorch). Both start from the same
weights and data (fixed seeds); the first losses are printed as a cross-check. Each library and
thread count runs in its own fresh process with BLAS, Numba and torch thread pools set to it
(alternating over ``--rounds``; the best median counts). Figures are medians over ``--steps``
steps after a warm-up. The phases (forward, backward, optimizer
step) are timed separately too, and the Adam update alone is timed with the fused Numba kernel
and with the plain numpy path.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

import harness  # bench/harness.py (the script's folder is on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH, LR = 128, 1e-3
SIZES = [784, 256, 128, 10]


def init_params(seed=0):
    """PyTorch's nn.Linear init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), float32; [W1, b1, W2, b2, W3, b3]."""
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return out


def data(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, SIZES[0])).astype(np.float32), rng.integers(0, SIZES[-1], BATCH)


def _clock():
    return time.perf_counter()


def ours(x_np, y_np, fused=None):
    """Return step(phases) for autograd_core; ``phases`` (a dict) collects forward/backward/update seconds."""
    import autograd_core as ag
    import nn.functional as F
    import optim

    params = [ag.tensor(p, requires_grad=True) for p in init_params()]
    opt = optim.Adam(params, lr=LR, fused=fused)
    x, y = ag.tensor(x_np), ag.tensor(y_np)

    def step(phases=None):
        t0 = _clock()
        W1, b1, W2, b2, W3, b3 = params
        h = F.relu(F.linear(x, W1, b1))
        h = F.relu(F.linear(h, W2, b2))
        loss = F.cross_entropy(F.linear(h, W3, b3), y)
        t1 = _clock()
        opt.zero_grad()
        loss.backward()
        t2 = _clock()
        opt.step()
        t3 = _clock()
        if phases is not None:
            for k, dt in (("forward", t1 - t0), ("backward", t2 - t1), ("update", t3 - t2)):
                phases.setdefault(k, []).append(dt)
        return float(loss._data)
    return step, opt, params


def theirs(x_np, y_np):
    import torch
    import torch.nn.functional as F

    params = [torch.tensor(p, requires_grad=True) for p in init_params()]
    opt = torch.optim.Adam(params, lr=LR)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

    def step(phases=None):
        t0 = _clock()
        W1, b1, W2, b2, W3, b3 = params
        h = F.relu(F.linear(x, W1, b1))
        h = F.relu(F.linear(h, W2, b2))
        loss = F.cross_entropy(F.linear(h, W3, b3), y)
        t1 = _clock()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = _clock()
        opt.step()
        t3 = _clock()
        if phases is not None:
            for k, dt in (("forward", t1 - t0), ("backward", t2 - t1), ("update", t3 - t2)):
                phases.setdefault(k, []).append(dt)
        return float(loss)
    return step, opt, params


def _median_ms(ts):
    return float(np.median(ts)) * 1e3


def measure(steps_by_name, steps, warmup):
    """Time each library's step; the libraries take turns step by step, so that a busy machine
    slows them alike."""
    res = {}
    for name, step in steps_by_name.items():
        t = _clock()
        loss0 = step()
        res[name] = dict(first_ms=(_clock() - t) * 1e3, loss0=loss0)
    harness.settle()   # our kernels compile in the background during the first steps
    for _ in range(warmup):
        for step in steps_by_name.values():
            step()
    times = {name: [] for name in steps_by_name}
    phases = {name: {} for name in steps_by_name}
    for _ in range(steps):
        for name, step in steps_by_name.items():
            t = _clock()
            step(phases[name])
            times[name].append(_clock() - t)
    for name in steps_by_name:
        res[name].update(median_ms=_median_ms(times[name]), min_ms=min(times[name]) * 1e3,
                         **{f"{k}_ms": _median_ms(v) for k, v in phases[name].items()})
    return res


def time_update(opt, params, reps, set_grads):
    """Median time of ``opt.step()`` alone (gradients fixed), in ms."""
    set_grads()
    for _ in range(5):
        opt.step()
    ts = []
    for _ in range(reps):
        t = _clock()
        opt.step()
        ts.append(_clock() - t)
    return _median_ms(ts)


def worker(threads, steps, warmup, lib):
    """Run in a fresh process: set every thread pool to ``threads`` and time one library (or both)."""
    torch, HAVE_NUMBA = harness.setup_worker(threads, lib)
    import autograd_core as ag
    x, y = data()
    steps_by_name = {"ours": ours(x, y)[0]} if lib in ("ours", "both") else {}
    if torch is not None:
        step, topt, tparams = theirs(x, y)
        steps_by_name["torch"] = step
    res = {"threads": threads, "numba": HAVE_NUMBA, "machine": harness.machine(),
           **measure(steps_by_name, steps, warmup)}
    grads = [np.random.default_rng(i).standard_normal(p.shape).astype(np.float32) for i, p in
             enumerate(init_params())]
    for fused in ([True, False] if HAVE_NUMBA else [False]) if "ours" in steps_by_name else []:
        _, opt, params = ours(x, y, fused=fused)

        def set_grads(params=params):
            for p, g in zip(params, grads):
                p.grad = ag.tensor(g)
        res[f"adam_{'fused' if fused else 'numpy'}_ms"] = time_update(opt, params, steps, set_grads)
    if torch is not None:
        def set_torch_grads():
            for p, g in zip(tparams, grads):
                p.grad = torch.from_numpy(g.copy())
        res["torch_adam_ms"] = time_update(topt, tparams, steps, set_torch_grads)
    print(json.dumps(res))


def profile(steps):
    import cProfile
    import pstats
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    x, y = data()
    step, _, _ = ours(x, y)
    for _ in range(20):
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    print(f"cProfile of {steps} steps at 1 thread (times include the profiler's own overhead):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def _phases(r):
    return "  ".join(f"{k} {r[f'{k}_ms']:.2f}" for k in ("forward", "backward", "update"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_arguments(ap, steps=200, warmup=20)
    ap.add_argument("--profile", action="store_true", help="cProfile our step instead of timing it")
    a = ap.parse_args()
    sys.path.insert(0, ROOT)
    if a.profile:
        profile(a.steps)
        return
    if a.worker:
        worker(a.worker, a.steps, a.warmup, a.lib)
        return
    print(f"MLP {'-'.join(map(str, SIZES))} (ReLU, cross-entropy, Adam) training step, batch {BATCH}, float32; "
          f"median of {a.steps} steps after {a.warmup} warm-up steps")
    results = {}
    for n in a.threads:
        res = results[n] = harness.run_workers(os.path.abspath(__file__), n, a)
        o = res["ours"]
        if n == a.threads[0]:
            print(res["machine"] + ("; with one busy neighbour process" if a.neighbour else ""))
        print(f"\n{n} thread(s) (numba: {res['numba']})")
        print(f"  autograd_core: {o['median_ms']:6.2f} ms/step (min {o['min_ms']:.2f})   [{_phases(o)}]   "
              f"first step {o['first_ms']:.0f} ms   loss0 {o['loss0']:.5f}")
        upd = "   ".join(f"{k[5:-3]} {v:.3f} ms" for k, v in res.items() if k.startswith("adam_"))
        print(f"  Adam update alone (6 tensors, 235k floats): {upd}")
        if "torch" in res:
            t = res["torch"]
            print(f"  PyTorch:       {t['median_ms']:6.2f} ms/step (min {t['min_ms']:.2f})   [{_phases(t)}]   "
                  f"first step {t['first_ms']:.0f} ms   loss0 {t['loss0']:.5f}")
            print(f"  PyTorch Adam update alone: {res['torch_adam_ms']:.3f} ms")
            print(f"  ours/PyTorch:  {o['median_ms'] / t['median_ms']:.2f}")
        else:
            print("  (PyTorch not installed: no comparison)")
    harness.dump(a, results)


if __name__ == "__main__":
    main()

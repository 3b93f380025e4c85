"""Time one LeNet-5 training step (batch 64, 3x32x32 float32) in autograd_core, and in PyTorch if installed.

    python bench/lenet5.py                  # 1 and 2 threads, each in a fresh subprocess
    python bench/lenet5.py --threads 1 --steps 200

The step: conv 3->6 k5, relu, maxpool 2, conv 6->16 k5, relu, maxpool 2, flatten,
linear 400->120->84->10 (``x @ W.T + b``), cross-entropy (log_softmax + indexing), SGD with
momentum 0.9 written inline under ``no_grad``. Both libraries start from the same weights and
data (fixed seeds) and the first losses are printed as a cross-check. BLAS, Numba and torch
threads are all set to the same count. Each library runs in its own fresh process per thread count
(idle thread pools of one library spin on the cores the other needs), alternating over ``--rounds``
rounds so that both see the same load on a shared machine; the best median counts. The first step (Numba compilation, or loading its cache) is reported
separately; the figure is the median over ``--steps`` steps after a warm-up.
Also reported: resident memory growth over the timed steps (training must not grow memory).
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
BATCH, LR, MOMENTUM = 64, 0.01, 0.9
SHAPES = [(6, 3, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]


def init_params(seed=0):
    """PyTorch-style uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and biases, float32."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(0, len(SHAPES), 2):
        w, b = SHAPES[i], SHAPES[i + 1]
        bound = 1.0 / np.sqrt(np.prod(w[1:]))
        out.append(rng.uniform(-bound, bound, w).astype(np.float32))
        out.append(rng.uniform(-bound, bound, b).astype(np.float32))
    return out


def data(seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    return x, y


def rss_mb():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError):  # pragma: no cover - not Linux
        return float("nan")


def ours(x_np, y_np):
    sys.path.insert(0, ROOT)
    import autograd_core as ag

    params = [ag.tensor(p, requires_grad=True) for p in init_params()]
    vel = [np.zeros_like(p._data) for p in params]
    x = ag.tensor(x_np)
    rows = np.arange(BATCH)

    def step():
        W1, b1, W2, b2, W3, b3, W4, b4, W5, b5 = params
        h = ag.max_pool2d(ag.relu(ag.conv2d(x, W1, b1)), 2)
        h = ag.max_pool2d(ag.relu(ag.conv2d(h, W2, b2)), 2)
        h = h.reshape(BATCH, 400)
        h = ag.relu(h @ W3.T + b3)
        h = ag.relu(h @ W4.T + b4)
        logits = h @ W5.T + b5
        loss = -ag.log_softmax(logits, axis=1)[rows, y_np].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p, v in zip(params, vel):
                v *= MOMENTUM
                v += p.grad._data
                p._data -= LR * v
        return float(loss._data)
    return step


def theirs(x_np, y_np):
    import torch
    import torch.nn.functional as F

    params = [torch.tensor(p, requires_grad=True) for p in init_params()]
    opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

    def step():
        W1, b1, W2, b2, W3, b3, W4, b4, W5, b5 = params
        h = F.max_pool2d(F.relu(F.conv2d(x, W1, b1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, W2, b2)), 2)
        h = h.reshape(BATCH, 400)
        h = F.relu(h @ W3.T + b3)
        h = F.relu(h @ W4.T + b4)
        logits = h @ W5.T + b5
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _stats(first, times, loss0, rss_growth):
    times = sorted(times)
    return dict(first_ms=first * 1e3, median_ms=times[len(times) // 2] * 1e3, min_ms=times[0] * 1e3,
                loss0=loss0, rss_growth_mb=rss_growth)


def measure(steps_by_name, steps, warmup):
    """Time each step function; they run interleaved (a, b, a, b, ...) so that both see the same machine
    load, which matters on a shared machine. The first step of each is timed on its own."""
    first, loss0 = {}, {}
    for name, step in steps_by_name.items():
        t = time.perf_counter()
        loss0[name] = step()
        first[name] = time.perf_counter() - t
    harness.settle()   # our kernels compile in the background during the first steps
    for _ in range(warmup):
        for step in steps_by_name.values():
            step()
    rss0 = rss_mb()
    times = {name: [] for name in steps_by_name}
    for _ in range(steps):
        for name, step in steps_by_name.items():
            t = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t)
    growth = rss_mb() - rss0   # both libraries together; neither should keep growing
    return {name: _stats(first[name], times[name], loss0[name], growth) for name in steps_by_name}


def worker(threads, steps, warmup, lib):
    """Run in a fresh process: set every thread pool to ``threads`` and time one library (or both)."""
    torch, HAVE_NUMBA = harness.setup_worker(threads, lib)
    x, y = data()
    fns = {"ours": ours(x, y)} if lib in ("ours", "both") else {}
    if torch is not None:
        fns["torch"] = theirs(x, y)
    res = {"threads": threads, "numba": HAVE_NUMBA, "machine": harness.machine()}
    res.update(measure(fns, steps, warmup))
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_arguments(ap, steps=100, warmup=10)
    a = ap.parse_args()
    if a.worker:
        sys.path.insert(0, ROOT)
        worker(a.worker, a.steps, a.warmup, a.lib)
        return
    print(f"LeNet-5 training step, batch {BATCH}, 3x32x32 float32; median of {a.steps} steps after "
          f"{a.warmup} warm-up steps")
    results = {}
    for n in a.threads:
        res = results[n] = harness.run_workers(os.path.abspath(__file__), n, a)
        o = res["ours"]
        if n == a.threads[0]:
            print(res["machine"] + ("; with one busy neighbour process" if a.neighbour else ""))
        print(f"\n{n} thread(s) (numba: {res['numba']})")
        print(f"  autograd_core: {o['median_ms']:7.2f} ms/step (min {o['min_ms']:.2f})  "
              f"{BATCH / o['median_ms'] * 1e3:7.0f} images/s   first step {o['first_ms']:.0f} ms   "
              f"loss0 {o['loss0']:.5f}   RSS growth over the timed steps {o['rss_growth_mb']:+.1f} MB")
        if "torch" in res:
            t = res["torch"]
            print(f"  PyTorch:       {t['median_ms']:7.2f} ms/step (min {t['min_ms']:.2f})  "
                  f"{BATCH / t['median_ms'] * 1e3:7.0f} images/s   first step {t['first_ms']:.0f} ms   "
                  f"loss0 {t['loss0']:.5f}")
            print(f"  ours/PyTorch:  {o['median_ms'] / t['median_ms']:.2f}")
        else:
            print("  (PyTorch not installed: no comparison)")
    harness.dump(a, results)


if __name__ == "__main__":
    main()

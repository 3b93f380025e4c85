"""Per-op overhead: a chain of 100 small ops (add, mul, tanh on a 4-element tensor), forward + backward.

Prints microseconds per op for autograd_core and, where torch is installed, for PyTorch in the
same process, and the ratio ours / PyTorch (target: <= 0.6). ``--threads`` sets both libraries' thread
counts (4-element ops never split, so it measures what a second thread costs the small-op path). Run by hand:

    python bench/overhead.py [--repeats 200] [--threads 2]
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import autograd_core as ag  # noqa: E402

N_OPS = 100  # ops per chain: 33 x (add, mul, tanh) + 1 sum


def chain(x, c):
    h = x
    for _ in range(33):
        h = h + c
        h = h * c
        h = h.tanh()
    return h.sum()


def best_time(fn, repeats):
    """Best of ``repeats`` timings (the least disturbed by other processes), in seconds."""
    fn()
    gc.collect()
    gc.disable()
    try:
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        gc.enable()
    return best


def ours():
    x = ag.tensor(np.linspace(-1, 1, 4, dtype=np.float32), requires_grad=True)
    c = ag.tensor(np.full(4, 0.5, dtype=np.float32), requires_grad=True)

    def step():
        x.grad = c.grad = None
        chain(x, c).backward()
    return step


def theirs(threads=1):
    import torch
    torch.set_num_threads(threads)
    x = torch.linspace(-1, 1, 4, dtype=torch.float32, requires_grad=True)
    c = torch.full((4,), 0.5, dtype=torch.float32, requires_grad=True)

    def step():
        x.grad = c.grad = None
        chain(x, c).backward()
    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5, help="alternate ours/torch this many times")
    p.add_argument("--threads", type=int, default=1, help="threads for both libraries (default 1)")
    p.add_argument("--json", help="also write the figures (us per op) to this file")
    a = p.parse_args(argv)
    ag.set_num_threads(a.threads)
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    ours_t, torch_t = [], []
    o = ours()
    t = theirs(a.threads) if have_torch else None
    for _ in range(a.rounds):  # interleave so both see the same machine load
        ours_t.append(best_time(o, a.repeats))
        if t is not None:
            torch_t.append(best_time(t, a.repeats))
    us_ours = min(ours_t) / N_OPS * 1e6
    print(f"{a.threads} thread(s)")
    print(f"autograd_core: {us_ours:6.2f} us/op (forward + backward, {N_OPS}-op chain on 4 elements)")
    if have_torch:
        us_torch = min(torch_t) / N_OPS * 1e6
        print(f"pytorch      : {us_torch:6.2f} us/op")
        print(f"ratio ours/pytorch: {us_ours / us_torch:.2f}  (target <= 0.6)")
    else:
        print("pytorch not installed: no ratio")
    if a.json:
        import json
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "ours_us": us_ours, "torch_us": us_torch if have_torch else None}, f)


if __name__ == "__main__":
    main()

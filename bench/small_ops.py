"""Single ops on small tensors: the cost of one call (forward, recorded on the tape), ours and PyTorch's.

The overhead benchmark times a chain of add, mul and tanh; scripts call many other ops on small tensors
(a loss's ``mean``, ``view`` / ``unsqueeze`` / ``.T``, indexing, ``cat``, ``softmax``, ``item``). Each op
here runs on a 4x4 float32 tensor that requires grad, both libraries in one process with the same thread
count (``--threads``; default 1), alternating (the median of ``--rounds`` best-of-3 timings). Run by hand:

    python bench/small_ops.py [--rounds 5] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import harness  # noqa: E402  (bench/harness.py)


def cases(ag, F, torch, TF):
    """name -> (ours, PyTorch's): zero-argument callables."""
    rng = np.random.default_rng(0)
    a, b, w = (rng.standard_normal(s).astype(np.float32) for s in ((4, 4), (4, 4), (3, 4)))
    x, y, W = (ag.tensor(v, requires_grad=True) for v in (a, b, w))
    tx, ty, tW = (torch.tensor(v, requires_grad=True) for v in (a, b, w))
    idx, tidx = ag.tensor([0, 2]), torch.tensor([0, 2])
    return {
        "x.sum()": (lambda: x.sum(), lambda: tx.sum()),
        "x.sum(1)": (lambda: x.sum(1), lambda: tx.sum(1)),
        "x.mean()": (lambda: x.mean(), lambda: tx.mean()),
        "x.view(-1)": (lambda: x.view(-1), lambda: tx.view(-1)),
        "x.reshape(2, 8)": (lambda: x.reshape(2, 8), lambda: tx.reshape(2, 8)),
        "x.unsqueeze(0)": (lambda: x.unsqueeze(0), lambda: tx.unsqueeze(0)),
        "x.T": (lambda: x.T, lambda: tx.T),
        "x[0]": (lambda: x[0], lambda: tx[0]),
        "x[:, 1:3]": (lambda: x[:, 1:3], lambda: tx[:, 1:3]),
        "x[idx]": (lambda: x[idx], lambda: tx[tidx]),
        "x * 0.5": (lambda: x * 0.5, lambda: tx * 0.5),
        "x ** 2": (lambda: x ** 2, lambda: tx ** 2),
        "x.exp()": (lambda: x.exp(), lambda: tx.exp()),
        "x.relu()": (lambda: x.relu(), lambda: tx.relu()),
        "x @ y": (lambda: x @ y, lambda: tx @ ty),
        "F.linear(x, W)": (lambda: F.linear(x, W), lambda: TF.linear(tx, tW)),
        "x.softmax(-1)": (lambda: x.softmax(-1), lambda: tx.softmax(-1)),
        "cat([x, y])": (lambda: ag.cat([x, y]), lambda: torch.cat([tx, ty])),
        "F.mse_loss(x, y)": (lambda: F.mse_loss(x, y), lambda: TF.mse_loss(tx, ty)),
        "zeros(4, 4)": (lambda: ag.zeros(4, 4), lambda: torch.zeros(4, 4)),
        "tensor([1., 2.])": (lambda: ag.tensor([1.0, 2.0]), lambda: torch.tensor([1.0, 2.0])),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--number", type=int, default=2000, help="calls per timing")
    p.add_argument("--threads", type=int, default=1, help="threads for both libraries")
    a = p.parse_args(argv)
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        print("small_ops: PyTorch is not installed; this benchmark compares against it")
        return 1
    torch.set_num_threads(a.threads)
    import autograd_core as ag
    import nn.functional as F
    ag.set_num_threads(a.threads)
    table = cases(ag, F, torch, TF)
    for ours, theirs in table.values():
        ours(), theirs()
    harness.settle()            # our kernels compiled (the first calls ran numpy meanwhile)
    print(harness.machine(), f"-- {a.threads} thread(s)")
    print(f"{'op':18s} {'ours':>9s} {'PyTorch':>9s}  ours/PyTorch")
    ratios = []
    for name, (ours, theirs) in table.items():
        t = {0: [], 1: []}
        for _ in range(a.rounds):
            for i, fn in enumerate((ours, theirs)):
                t[i].append(min(timeit.repeat(fn, number=a.number, repeat=3)) / a.number)
        mo, mt = np.median(t[0]), np.median(t[1])
        ratios.append(mo / mt)
        print(f"{name:18s} {mo * 1e6:7.2f}us {mt * 1e6:7.2f}us  {mo / mt:5.2f}")
    print(f"geometric mean of the ratios: {float(np.exp(np.mean(np.log(ratios)))):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

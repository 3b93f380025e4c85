"""What the benchmark scripts share: their command line, and running each library in its own process.

Each library runs in a fresh process per thread count, because the idle OpenMP/BLAS thread pool of
one library spins on the cores the other needs. The libraries alternate over ``--rounds`` rounds (so
both see the same load on a shared machine) and each keeps its best median.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def add_arguments(ap, steps, warmup):
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--rounds", type=int, default=2,
                    help="separate processes per library and thread count, alternating; the best median counts")
    ap.add_argument("--together", action="store_true",
                    help="time both libraries in one process, steps interleaved (their thread pools then "
                         "compete for the cores at 2 threads)")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--lib", default="both", help=argparse.SUPPRESS)
    return ap


def thread_env(n):
    """The environment of a worker limited to ``n`` threads in every pool."""
    return dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n),
                NUMBA_NUM_THREADS=str(n))


def run_workers(script, n, a):
    """Run ``script --worker n`` for each library (alternating, ``a.rounds`` times); merge their JSON results,
    keeping each library's best median (and the smallest of other ``*_ms`` figures)."""
    libs = ["both"] if a.together else ["ours", "torch"]
    best = {}
    for _ in range(1 if a.together else a.rounds):
        for lib in libs:
            proc = subprocess.run([sys.executable, script, "--worker", str(n), "--steps", str(a.steps),
                                   "--warmup", str(a.warmup), "--lib", lib],
                                  env=thread_env(n), capture_output=True, text=True)
            if proc.returncode:
                print(proc.stdout + proc.stderr)
                sys.exit(proc.returncode)
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            for k, v in res.items():
                if isinstance(v, dict):
                    if k not in best or v["median_ms"] < best[k]["median_ms"]:
                        best[k] = v
                elif k not in best or not k.endswith("_ms") or v < best[k]:
                    best[k] = v
    return best


def setup_worker(threads, lib):
    """In a worker process: set BLAS, Numba (and torch) thread pools to ``threads``. Returns (torch or None,
    whether Numba is used). torch is imported only when ``lib`` asks for it."""
    torch = None
    if lib in ("torch", "both"):
        try:
            import torch
            torch.set_num_threads(threads)
        except ImportError:
            torch = None
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:  # the env vars set by the parent still limit BLAS
        pass
    from autograd_core.kernels import HAVE_NUMBA, numba
    if HAVE_NUMBA:
        numba.set_num_threads(threads)
    return torch, HAVE_NUMBA

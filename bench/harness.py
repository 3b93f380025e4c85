"""What the benchmark scripts share: their command line, and running each library in its own process.

Each library runs in a fresh process per thread count, because the idle OpenMP/BLAS thread pool of
one library spins on the cores the other needs. The libraries alternate over ``--rounds`` rounds (so
both see the same load on a shared machine) and each keeps its best median.

``--neighbour`` starts one busy process (a pure-Python loop) for the whole run, as another user's job
on a small machine would be. ``--isa avx2`` runs both libraries as on a CPU without AVX-512: Numba
compiles for Haswell, OpenBLAS uses its Haswell kernels, PyTorch's ATen, oneDNN and MKL (its matrix
products) stop at AVX2.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Only for the benchmark's own worker processes; what a CPU without AVX-512 would give each library.
_AVX2_ENV = {"NUMBA_CPU_NAME": "haswell", "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
             "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def add_arguments(ap, steps, warmup):
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--rounds", type=int, default=2,
                    help="separate processes per library and thread count, alternating; the best median counts")
    ap.add_argument("--together", action="store_true",
                    help="time both libraries in one process, steps interleaved (their thread pools then "
                         "compete for the cores at 2 threads)")
    ap.add_argument("--neighbour", action="store_true",
                    help="run one busy process (another user's job) beside the benchmark for its whole run")
    ap.add_argument("--isa", choices=["native", "avx2"], default="native",
                    help="avx2: Numba, OpenBLAS and PyTorch limited to AVX2 (as on a CPU without AVX-512)")
    ap.add_argument("--json", help="also write the merged results to this file")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--lib", default="both", help=argparse.SUPPRESS)
    return ap


def thread_env(n, isa="native"):
    """The environment of a worker limited to ``n`` threads in every pool (and to AVX2 with ``isa='avx2'``).
    OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which some machines set for old OpenBLAS builds, are dropped so
    that OpenBLAS picks the kernels for this CPU (or Haswell's with ``isa='avx2'``)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n),
               NUMBA_NUM_THREADS=str(n))
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    if isa == "avx2":
        env.update(_AVX2_ENV)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def two_cores(cpus=None, root="/sys/devices/system/cpu"):
    """"a,b": the last two CPUs this process may use that sit on different physical cores (two hardware
    threads of one core share its vector units, so "2 threads" there would not mean two cores), or ""
    where there are two CPUs or fewer (nothing to pin)."""
    cpus = sorted(os.sched_getaffinity(0)) if cpus is None else sorted(cpus)
    if len(cpus) <= 2:
        return ""
    from autograd_core.kernels.threads import core_of
    picked, cores = [], set()
    for c in reversed(cpus):
        core = core_of(c, root) or str(c)
        if core not in cores:
            cores.add(core)
            picked.append(c)
        if len(picked) == 2:
            break
    return ",".join(map(str, sorted(picked)))


@contextlib.contextmanager
def neighbour(on):
    """One busy process beside the benchmark while ``on``."""
    if not on:
        yield
        return
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        p.kill()
        p.wait()


def run_workers(script, n, a):
    """Run ``script --worker n`` (and ``a.worker_args``, if any) for each library (alternating, ``a.rounds``
    times); merge their JSON results, keeping each library's best median (and the smallest of other ``*_ms``
    figures; the first round's ``first_ms``, the only one that may include compiling)."""
    libs = ["both"] if a.together else ["ours", "torch"]
    best = {}
    with neighbour(getattr(a, "neighbour", False)):
        for _ in range(1 if a.together else a.rounds):
            for lib in libs:
                proc = subprocess.run([sys.executable, script, "--worker", str(n), "--steps", str(a.steps),
                                       "--warmup", str(a.warmup), "--lib", lib, *getattr(a, "worker_args", ())],
                                      env=thread_env(n, getattr(a, "isa", "native")), capture_output=True, text=True)
                if proc.returncode:
                    print(proc.stdout + proc.stderr)
                    sys.exit(proc.returncode)
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                for k, v in res.items():
                    if isinstance(v, dict):
                        if k not in best:
                            best[k] = v
                        elif v["median_ms"] < best[k]["median_ms"]:
                            best[k] = dict(v, first_ms=best[k].get("first_ms", v.get("first_ms")))
                    elif k not in best or not k.endswith("_ms") or v < best[k]:
                        best[k] = v
    return best


def setup_worker(threads, lib):
    """In a worker process: set BLAS, our pool (and torch's) to ``threads``. Returns (torch or None,
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
    import autograd_core as ag
    ag.set_num_threads(threads)
    return torch, ag.kernels.backend() == "numba"


def measure(steps_by_name, steps, warmup):
    """First step timed alone (it includes any compiling), then the libraries take turns step by step."""
    res = {}
    for name, step in steps_by_name.items():
        t = time.perf_counter()
        loss0 = step()
        res[name] = dict(first_ms=(time.perf_counter() - t) * 1e3, loss0=loss0)
    settle()
    for _ in range(warmup):
        for step in steps_by_name.values():
            step()
    times = {name: [] for name in steps_by_name}
    for _ in range(steps):
        for name, step in steps_by_name.items():
            t = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t)
    for name, ts in times.items():
        res[name].update(median_ms=float(statistics.median(ts)) * 1e3, min_ms=min(ts) * 1e3)
    return res


def worker(threads, steps, warmup, lib, build):
    """A worker process's whole run: ``build("ours")`` / ``build("torch")`` make each library's step function
    (a step returns its loss), ``measure`` times them, and the result goes to stdout as one JSON line."""
    torch, have_numba = setup_worker(threads, lib)
    fns = {"ours": build("ours")} if lib in ("ours", "both") else {}
    if torch is not None:
        fns["torch"] = build("torch")
    res = {"threads": threads, "numba": have_numba, "machine": machine()}
    res.update(measure(fns, steps, warmup))
    print(json.dumps(res))


def settle():
    """Wait for our kernels to finish compiling (the steps before ran their numpy code meanwhile)."""
    from autograd_core import kernels
    kernels.wait()


def machine():
    """CPU model, SIMD level, and the kernels OpenBLAS and Numba picked, in one line."""
    model, flags = "?", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:  # pragma: no cover - not Linux
        pass
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE/AVX"
    blas = "?"
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(sorted({f"{d.get('internal_api')} {d.get('architecture')}" for d in threadpool_info()}))
    except ImportError:
        pass
    cpu_name = os.environ.get("NUMBA_CPU_NAME", "host")
    return f"{model} ({simd}; cores {len(os.sched_getaffinity(0))}); BLAS: {blas}; Numba CPU: {cpu_name}"


def run_and_report(script, a):
    """Run ``script``'s workers at each of ``a.threads`` (``run_workers``) and print both libraries' step times,
    first steps and first losses, and their ratio; then ``dump``."""
    results = {}
    for n in a.threads:
        res = results[n] = run_workers(script, n, a)
        o = res["ours"]
        if n == a.threads[0]:
            print(res["machine"] + ("; with one busy neighbour process" if a.neighbour else ""))
        print(f"\n{n} thread(s) (numba: {res['numba']})")
        print(f"  autograd_core: {o['median_ms']:7.2f} ms/step (min {o['min_ms']:.2f})   first step "
              f"{o['first_ms']:.0f} ms   loss0 {o['loss0']:.5f}")
        if "torch" in res:
            t = res["torch"]
            print(f"  PyTorch:       {t['median_ms']:7.2f} ms/step (min {t['min_ms']:.2f})   first step "
                  f"{t['first_ms']:.0f} ms   loss0 {t['loss0']:.5f}")
            print(f"  ours/PyTorch:  {o['median_ms'] / t['median_ms']:.2f}")
        else:
            print("  (PyTorch not installed: no comparison)")
    dump(a, results)


def dump(a, results):
    """Write ``results`` to ``--json`` when given."""
    if getattr(a, "json", None):
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)

"""The kernels' thread pool (kernels.threads) and thread control (ag.set_num_threads / get_num_threads),
and that importing the package changes no environment variable and no other library's thread count."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.kernels import threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def n_threads():
    old = ag.get_num_threads()
    threads._pool.alone_until = threads._pool.backoff = 0.0   # no back-off left by an earlier test
    yield
    ag.set_num_threads(old)
    threads._pool.alone_until = threads._pool.backoff = 0.0


def test_a_worker_kept_from_its_core_makes_the_pool_back_off_then_retry(n_threads, monkeypatch):
    """When the calling thread waits long for a worker's chunk (here the worker's chunk sleeps, as a thread
    that another process pushed off its core), kernels use the calling thread alone for a while: every
    chunk then runs on tid 0; once that while is over, two threads are used again. A wait that is short,
    or no longer than the caller's own work, changes nothing."""
    import time
    ag.set_num_threads(2)
    monkeypatch.setattr(threads, "_BACKOFF_FIRST_S", 0.05)
    slow_tids = []

    def fn(i, tid):
        if tid == 1:
            slow_tids.append(tid)
            time.sleep(0.02)
        else:
            time.sleep(0.002)      # long enough for the worker to wake and claim the other chunk
    for _ in range(20):            # the worker must claim a chunk at least once
        threads.parallel_for(fn, 2)
        if slow_tids:
            break
    assert slow_tids, "the worker never took a chunk"
    assert threads.threads_now() == 1 and threads.team_size(8) == 1
    tids = []
    threads.parallel_for(lambda i, tid: tids.append(tid), 8)
    assert tids == [0] * 8
    time.sleep(threads._pool.alone_until - time.perf_counter() + 0.01)
    assert threads.threads_now() == 2
    threads._pool.alone_until = threads._pool.backoff = 0.0

    def even(i, tid):          # both threads work about as long (long enough that a late wake-up of the
        time.sleep(0.02)       # worker on a busy host is still shorter): no back-off
    for _ in range(5):
        threads.parallel_for(even, 2)
    assert threads.threads_now() == 2


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("chunks", [0, 1, 2, 7, 40])
def test_parallel_for_runs_every_chunk_once_on_distinct_thread_ids(n_threads, n, chunks):
    ag.set_num_threads(n)
    seen = []
    lock = threading.Lock()

    def fn(i, tid, out):
        with lock:
            seen.append((i, tid, threading.get_ident()))
        out[i] += 1
    out = np.zeros(chunks, int)
    threads.parallel_for(fn, chunks, out)
    assert out.tolist() == [1] * chunks
    T = threads.team_size(chunks)
    assert T == max(1, min(n, chunks))
    assert all(0 <= tid < T for _, tid, _ in seen)
    by_tid = {}
    for _, tid, ident in seen:     # one OS thread per tid
        by_tid.setdefault(tid, set()).add(ident)
    assert all(len(v) == 1 for v in by_tid.values())
    assert 0 not in by_tid or by_tid[0] == {threading.get_ident()}   # tid 0 is the caller


def test_parallel_for_raises_a_chunks_error_and_keeps_working(n_threads):
    ag.set_num_threads(2)

    def fn(i, tid):
        if i == 3:
            raise KeyError("chunk 3")
    with pytest.raises(KeyError, match="chunk 3"):
        threads.parallel_for(fn, 8)
    out = np.zeros(6, int)
    threads.parallel_for(lambda i, tid, o: o.__setitem__(i, i), 6, out)
    assert out.tolist() == list(range(6))


def test_nested_and_concurrent_calls_run_on_their_own_thread(n_threads):
    """A parallel_for from inside a chunk, or from another thread while the pool is busy, runs serially
    (tid 0) and completes: no deadlock, every chunk once."""
    ag.set_num_threads(2)
    inner = []

    def outer(i, tid):
        res = []
        threads.parallel_for(lambda j, t: res.append((j, t)), 3)
        inner.append(sorted(res))
    threads.parallel_for(outer, 4)
    assert inner == [[(0, 0), (1, 0), (2, 0)]] * 4
    done = []

    def user_thread():
        out = np.zeros(10, int)
        for _ in range(50):
            threads.parallel_for(lambda i, t, o: o.__setitem__(i, o[i] + 1), 10, out)
        done.append(out.tolist())
    ts = [threading.Thread(target=user_thread) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert done == [[50] * 10] * 3


def test_set_num_threads_checks_its_argument(n_threads):
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="set_num_threads"):
            ag.set_num_threads(bad)
    ag.set_num_threads(3)
    assert ag.get_num_threads() == 3


def _run(code, **env):
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}
    e.update(env, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip()


def test_default_thread_count_honours_omp_then_numba_env():
    code = "import autograd_core as ag; print(ag.get_num_threads())"
    assert _run(code, OMP_NUM_THREADS="3") == "3"
    assert _run(code, NUMBA_NUM_THREADS="5") == "5"
    assert _run(code, OMP_NUM_THREADS="2", NUMBA_NUM_THREADS="5") == "2"
    assert _run(code) == str(threads._physical_cores(sorted(os.sched_getaffinity(0))))


def test_default_thread_count_counts_the_hardware_threads_of_a_core_once(tmp_path):
    """PyTorch's default is one thread per physical core: here a machine whose CPUs 0-3 are two cores
    with two hardware threads each (siblings 0,2 and 1,3), as Linux describes them."""
    for c, sib in {0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3", 4: "4"}.items():
        d = tmp_path / f"cpu{c}" / "topology"
        d.mkdir(parents=True)
        (d / "thread_siblings_list").write_text(sib + "\n")
    assert threads._physical_cores([0, 1, 2, 3], root=str(tmp_path)) == 2
    assert threads._physical_cores([0, 2], root=str(tmp_path)) == 1       # both threads of one core
    assert threads._physical_cores([0, 1, 4], root=str(tmp_path)) == 3
    assert threads._physical_cores([0, 7], root=str(tmp_path)) == 2       # no topology for cpu7: count CPUs


def test_import_changes_no_environment_variable_and_no_blas_thread_count():
    """Importing autograd_core (and running a conv step and a big matmul) leaves os.environ and every BLAS /
    OpenMP pool's thread count as they were."""
    code = r"""
import os, json
before = dict(os.environ)
from threadpoolctl import threadpool_info
import numpy as np, scipy.linalg
pools = lambda: sorted((d["filepath"], d["num_threads"]) for d in threadpool_info())
p0 = pools()
import autograd_core as ag
ag.kernels.use("numba", background=False)
x = ag.tensor(np.ones((4, 3, 12, 12), np.float32))
w = ag.tensor(np.ones((5, 3, 3, 3), np.float32), requires_grad=True)
ag.conv2d(x, w).sum().backward()
a = ag.tensor(np.ones((300, 300), np.float32), requires_grad=True)
(a @ a).sum().backward()
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
assert pools() == p0, (pools(), p0)
print("ok")
"""
    pytest.importorskip("threadpoolctl")
    pytest.importorskip("numba")
    assert _run(code) == "ok"

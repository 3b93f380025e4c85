"""Run one ported PyTorch script with this project's modules, and the same text with PyTorch's.

A ported script (``tests/ported/<name>.py``) is a public PyTorch example whose import lines were
changed to this project's modules (``import autograd_core as torch``, ``import nn``, ``import
nn.functional as F``, ``import optim``, ``from nn.data import ...``). ``torch_source`` turns those
import lines back and touches nothing else, so both runs execute the same code.

To compare the two runs step by step, the harness (never the script) makes them see the same numbers:

* weights: the first time a module is called from outside any other module (a model), the PyTorch
  run records its ``state_dict()`` and our run loads the recorded values into it, in place (models
  are matched in the order of their first call); and the parameters of each optimizer, when it is
  built (matched in the order of construction), for scripts that train a module without calling it
  (a forward-forward layer calls its own ``forward``);
* randomness: ``randn``, ``rand``, ``randn_like``, ``rand_like``, ``normal``, ``randint``, ``randperm``
  and ``multinomial`` called from the script's own lines, every ``Categorical(...).sample()``, every
  ``F.dropout`` (and the channel dropouts ``F.dropout1d`` / ``F.dropout2d``, one draw per sample and
  channel), ``RandomSampler`` and ``random_split`` draw from one NumPy stream, seeded the same in both
  runs, as are Python's ``random`` and NumPy's global generator (and each library's own generator is seeded);
* losses: the value of every one-element tensor that ``backward()`` is called on is recorded;
* kernels: our run's ops run their Numba kernels from the first call, not their NumPy code while the kernels
  load in the background (the two round differently), so that a run does not depend on load times;
* plotting: for a script that imports matplotlib, ``pyplot.pause`` and ``pyplot.draw`` do nothing (the Agg
  backend draws off screen: they would only render and sleep), and its figures are closed after the run.

The script runs as ``__main__`` in a scratch directory, with ``sys.argv`` set and its printing captured.
"""
from __future__ import annotations

import builtins
import contextlib
import dataclasses
import io
import math
import os
import random
import re
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# our module -> PyTorch's (the porting rules of the README, in reverse); longest prefix first
_MODULE_MAP = (("nn.data", "torch.utils.data"), ("autograd_core", "torch"), ("nn", "torch.nn"),
               ("optim", "torch.optim"))
_IMPORT = re.compile(r"^(?P<indent>\s*)import\s+(?P<names>[\w., ]+?)\s*(?P<comment>#.*)?$")
_FROM = re.compile(r"^(?P<indent>\s*)from\s+(?P<mod>[\w.]+)(?P<rest>\s+import\s.*)$")


def _torch_module(name):
    for ours, theirs in _MODULE_MAP:
        if name == ours or name.startswith(ours + "."):
            return theirs + name[len(ours):]
    return None


def torch_source(src):
    """``src`` with each import of one of our modules turned into the PyTorch import it replaced."""
    out = []
    for line in src.splitlines(keepends=True):
        body, nl = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        m = _FROM.match(body)
        if m and _torch_module(m["mod"]):
            out.append(f"{m['indent']}from {_torch_module(m['mod'])}{m['rest']}{nl}")
            continue
        m = _IMPORT.match(body)
        if m and any(_torch_module(p.split()[0]) for p in m["names"].split(",")):
            parts = []
            for part in m["names"].split(","):
                words = part.split()
                theirs = _torch_module(words[0])
                if theirs is None:
                    parts.append(part.strip())
                elif len(words) == 3 and words[1] == "as":
                    parts.append(theirs if theirs == words[2] else f"{theirs} as {words[2]}")
                elif len(words) == 1 and "." not in words[0]:
                    parts.append(f"{theirs} as {words[0]}")
                elif len(words) == 1:  # `import nn.data` stands for `import torch.utils.data`
                    parts.append(theirs)
                else:
                    raise ValueError(f"torch_source: can't translate the import {body.strip()!r}")
            comment = f"  {m['comment']}" if m["comment"] else ""
            out.append(f"{m['indent']}import {', '.join(parts)}{comment}{nl}")
            continue
        out.append(line)
    return "".join(out)


@dataclasses.dataclass
class Run:
    """What one run of a script left: its losses, the models' first states (PyTorch run), its output."""
    losses: list = dataclasses.field(default_factory=list)
    states: list = dataclasses.field(default_factory=list)
    optimizer_params: list = dataclasses.field(default_factory=list)
    stdout: str = ""
    namespace: dict = dataclasses.field(default_factory=dict)
    error: BaseException | None = None


class _Patches:
    def __init__(self):
        self._undo = []

    def set(self, obj, name, value):
        self._undo.append((obj, name, obj.__dict__.get(name, _MISSING) if isinstance(obj, type)
                           else getattr(obj, name, _MISSING)))
        setattr(obj, name, value)

    def undo(self):
        for obj, name, old in reversed(self._undo):
            if old is _MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, old)
        self._undo.clear()


_MISSING = object()


def _contiguous(a):
    """``a`` in C order with its own shape (``np.ascontiguousarray`` makes a 0-d array 1-d: BatchNorm's
    ``num_batches_tracked`` is 0-d)."""
    return np.ascontiguousarray(a).reshape(np.shape(a))


def _library(lib):
    if lib == "torch":
        import torch
        import torch.nn.functional as F
        import torch.utils.data as data
        import torch.utils.data.dataset as dataset_mod
        return types.SimpleNamespace(
            top=torch, tensor_cls=torch.Tensor, module_cls=torch.nn.Module, F=F, data=data,
            optimizer_cls=torch.optim.Optimizer, categorical=torch.distributions.Categorical,
            split_homes=(data, dataset_mod), sampler=data.RandomSampler, subset=data.Subset,
            from_numpy=lambda a: torch.from_numpy(_contiguous(a)),
            to_numpy=lambda t: t.detach().cpu().numpy())
    import autograd_core
    import nn
    import nn.data as data
    import nn.dataset as dataset_mod
    import nn.functional as F
    import optim
    from autograd_core.distributions import Categorical
    return types.SimpleNamespace(
        top=autograd_core, tensor_cls=autograd_core.Tensor, module_cls=nn.Module, F=F, data=data,
        optimizer_cls=optim.Optimizer, categorical=Categorical,
        split_homes=(data, dataset_mod), sampler=data.RandomSampler, subset=data.Subset,
        from_numpy=lambda a: autograd_core.from_numpy(_contiguous(a)),
        to_numpy=lambda t: np.asarray(t.detach().numpy()))


def _size(args, kwargs):
    if "size" in kwargs:
        args = (kwargs["size"],)
    if len(args) == 1 and not isinstance(args[0], int):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _patch_library(P, L, rng, script_path):
    """Shared randomness (see the module docstring) for library ``L``."""
    top = L.top

    def from_script():
        return sys._getframe(2).f_code.co_filename == script_path

    def finish(arr, dtype=None, requires_grad=False):
        t = L.from_numpy(arr)
        if dtype is not None:
            t = t.to(dtype)
        return t.requires_grad_() if requires_grad else t

    def wrap(name, shared):
        orig = getattr(top, name)

        def fn(*args, **kwargs):
            if not from_script():
                return orig(*args, **kwargs)
            return shared(*args, **kwargs)
        fn.__name__ = name
        P.set(top, name, fn)

    wrap("randn", lambda *a, dtype=None, requires_grad=False, **k:
         finish(rng.standard_normal(_size(a, k)).astype(np.float32), dtype, requires_grad))
    wrap("rand", lambda *a, dtype=None, requires_grad=False, **k:
         finish(rng.random(_size(a, k)).astype(np.float32), dtype, requires_grad))
    wrap("randn_like", lambda t, dtype=None, requires_grad=False, **k:
         finish(rng.standard_normal(tuple(t.shape)).astype(np.float32), dtype or t.dtype, requires_grad))
    wrap("rand_like", lambda t, dtype=None, requires_grad=False, **k:
         finish(rng.random(tuple(t.shape)).astype(np.float32), dtype or t.dtype, requires_grad))

    def normal(mean=0.0, std=1.0, size=None, *, dtype=None, requires_grad=False, **kwargs):
        # tensor means or stds (the output takes their broadcast shape), or floats with `size`
        m = L.to_numpy(mean) if isinstance(mean, L.tensor_cls) else np.float32(mean)
        s = L.to_numpy(std) if isinstance(std, L.tensor_cls) else np.float32(std)
        shape = tuple(size) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
        out = (m + s * rng.standard_normal(shape)).astype(np.float32)
        return finish(out, dtype, requires_grad)
    wrap("normal", normal)

    def randint(*args, dtype=None, requires_grad=False, **kwargs):
        low = kwargs.pop("low", None)
        high = kwargs.pop("high", None)
        size = kwargs.pop("size", None)
        args = list(args)
        if size is None:
            size = args.pop()
        if high is None:
            high = args.pop()
        if low is None:
            low = args.pop() if args else 0
        return finish(rng.integers(int(low), int(high), size=tuple(size)).astype(np.int64), dtype)
    wrap("randint", randint)
    wrap("randperm", lambda n, dtype=None, **k: finish(rng.permutation(int(n)).astype(np.int64), dtype))

    def multinomial(input, num_samples, replacement=False, **kwargs):  # noqa: A002
        p = L.to_numpy(input).astype(np.float64)
        rows = p.reshape(-1, p.shape[-1]).copy()
        out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        for i, row in enumerate(rows):
            for j in range(num_samples):
                c = np.cumsum(row / row.sum())
                out[i, j] = min(int(np.searchsorted(c, rng.random(), side="right")), len(row) - 1)
                if not replacement:
                    row[out[i, j]] = 0.0
        return finish(out.reshape(p.shape[:-1] + (num_samples,)))
    wrap("multinomial", multinomial)

    def dropout(input, p=0.5, training=True, inplace=False, **kwargs):  # noqa: A002
        if not training or p == 0.0:
            return input
        keep = (rng.random(tuple(input.shape)) >= p).astype(np.float32) / np.float32(1.0 - p)
        return input * finish(keep, input.dtype)
    P.set(L.F, "dropout", dropout)

    def feature_dropout(name):
        # one draw per (n, c), as both libraries' channel dropout (a 2-D input: one per element)
        def fn(input, p=0.5, training=True, inplace=False, **kwargs):  # noqa: A002
            if not training or p == 0.0:
                return input
            shape = tuple(input.shape[:2]) + (1,) * (len(input.shape) - 2)
            keep = (rng.random(shape) >= p).astype(np.float32) / np.float32(1.0 - p)
            return input * finish(keep, input.dtype)
        fn.__name__ = name
        P.set(L.F, name, fn)
    for name in ("dropout1d", "dropout2d"):
        feature_dropout(name)

    def sampler_iter(self):
        n, m = len(self.data_source), int(self.num_samples)
        if self.replacement:
            for _ in range(m // 32):
                yield from rng.integers(0, n, size=32).tolist()
            yield from rng.integers(0, n, size=m % 32).tolist()
        else:
            for _ in range(m // n):
                yield from rng.permutation(n).tolist()
            if m % n:
                yield from rng.permutation(n).tolist()[:m % n]
    P.set(L.sampler, "__iter__", sampler_iter)

    def categorical_sample(self, sample_shape=()):
        # inverse CDF, one uniform draw per sample and batch element, in C order
        p = L.to_numpy(self.probs).astype(np.float64)
        rows = p.reshape(-1, p.shape[-1])
        n = int(np.prod(tuple(sample_shape), dtype=np.int64))
        u = rng.random((n, rows.shape[0]))
        c = np.cumsum(rows / rows.sum(-1, keepdims=True), axis=-1)
        idx = np.array([[min(int(np.searchsorted(c[j], u[i, j], side="right")), rows.shape[1] - 1)
                         for j in range(rows.shape[0])] for i in range(n)], dtype=np.int64)
        return finish(idx.reshape(tuple(sample_shape) + p.shape[:-1]))
    P.set(L.categorical, "sample", categorical_sample)

    def random_split(dataset, lengths, generator=None):
        n = len(dataset)
        lengths = list(lengths)
        if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
            sizes = [int(math.floor(n * f)) for f in lengths]
            for i in range(n - sum(sizes)):
                sizes[i % len(sizes)] += 1
            lengths = sizes
        perm = rng.permutation(n).tolist()
        out, offset = [], 0
        for length in lengths:
            out.append(L.subset(dataset, perm[offset:offset + length]))
            offset += length
        return out
    for home in L.split_homes:
        P.set(home, "random_split", random_split)


def _patch_recorders(P, L, run, states, optimizer_params=None):
    """Record losses; record (PyTorch) or load (ours, from ``states`` and ``optimizer_params``) each model's
    first state and each optimizer's parameters at its construction."""
    orig_backward = L.tensor_cls.backward
    inside = [0]

    def backward(self, *args, **kwargs):
        # (PyTorch re-enters Tensor.backward through a torch-function mode, e.g. after set_default_device)
        if inside[0] == 0 and int(np.prod(tuple(self.shape))) == 1:
            run.losses.append(float(L.to_numpy(self).reshape(-1)[0]))
        inside[0] += 1
        try:
            return orig_backward(self, *args, **kwargs)
        finally:
            inside[0] -= 1
    P.set(L.tensor_cls, "backward", backward)

    orig_call = L.module_cls.__call__
    depth = [0]
    models = []

    def call(self, *args, **kwargs):
        if depth[0] == 0 and not any(m is self for m in models):
            models.append(self)
            if states is None:
                run.states.append({k: L.to_numpy(v).copy() for k, v in self.state_dict().items()})
            elif len(states) >= len(models):
                self.load_state_dict({k: L.from_numpy(v) for k, v in states[len(models) - 1].items()})
            else:
                raise AssertionError(f"our run called a model ({type(self).__name__}) that the PyTorch run "
                                     "did not call at this point")
        depth[0] += 1
        try:
            return orig_call(self, *args, **kwargs)
        finally:
            depth[0] -= 1
    P.set(L.module_cls, "__call__", call)

    orig_init = L.optimizer_cls.__init__
    built = [0]

    def optimizer_init(self, *args, **kwargs):
        orig_init(self, *args, **kwargs)
        params = [p for group in self.param_groups for p in group["params"]]
        if states is None:
            run.optimizer_params.append([L.to_numpy(p).copy() for p in params])
        elif optimizer_params is not None:
            if built[0] >= len(optimizer_params):
                raise AssertionError(f"our run built an optimizer ({type(self).__name__}) that the PyTorch run "
                                     "did not build at this point")
            with L.top.no_grad():
                for p, value in zip(params, optimizer_params[built[0]], strict=True):
                    p.copy_(L.from_numpy(value))
        built[0] += 1
    P.set(L.optimizer_cls, "__init__", optimizer_init)


def _quiet_pyplot(P):
    """pyplot with ``pause`` and ``draw`` made no-ops: on the off-screen Agg backend they only render a
    picture nobody sees and sleep, the bulk of an animated tutorial's run time; every plotting call that
    hands the script's tensors to matplotlib still runs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    P.set(plt, "pause", lambda interval: None)
    P.set(plt, "draw", lambda: None)
    return plt


@contextlib.contextmanager
def _kernels_at_once(lib):
    """For our run, each op runs its Numba kernel from its first call (compiled or loaded on the calling
    thread) instead of its NumPy code while the kernel loads in the background: the two round differently
    in the last bit, and a run's losses would otherwise depend on how fast the kernels loaded."""
    if lib != "ours":
        yield
        return
    from autograd_core import kernels
    with kernels.use(kernels.backend(), background=False):
        yield


def run_script(name, lib, workdir, argv=(), seed=0, states=None, share_randomness=True, files=None,
               allow_error=False, optimizer_params=None, torch_threads=None):
    """Run ``tests/ported/<name>.py`` with ``lib`` ('ours' or 'torch') in ``workdir``.

    The PyTorch run records the models' first states; pass them as ``states`` to our run to start it
    from the same weights; pass its ``optimizer_params`` too to load each optimizer's parameters, when
    built, from the PyTorch run's. ``torch_threads`` sets PyTorch's intra-op threads for its run (many small
    ops run faster on one thread than on two; a reduction split over other threads rounds differently, so a
    script's tolerances hold for one setting). ``files`` ({relative path: text}) are written into ``workdir`` first (the
    script's data). With ``allow_error`` an exception ends the run and is kept in ``Run.error`` (with
    what was recorded up to it). Returns a :class:`Run`.
    """
    for rel, text in (files or {}).items():
        target = os.path.join(workdir, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
    path = os.path.join(HERE, name + ".py")
    with open(path, encoding="utf-8") as f:
        src = f.read()
    if lib == "torch":
        src = torch_source(src)
    code = compile(src, path, "exec")
    L = _library(lib)
    run = Run()
    P = _Patches()
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=builtins)
    old_main, old_argv, old_cwd = sys.modules.get("__main__"), sys.argv, os.getcwd()
    old_device = L.top.get_default_device()
    old_threads = L.top.get_num_threads() if lib == "torch" and torch_threads else None
    if old_threads is not None:
        L.top.set_num_threads(torch_threads)
    out = io.StringIO()
    plt = None
    try:
        if share_randomness:
            _patch_library(P, L, np.random.default_rng(seed + 1000), path)
        _patch_recorders(P, L, run, None if lib == "torch" else states,
                         None if lib == "torch" else optimizer_params)
        plt = _quiet_pyplot(P) if re.search(r"^\s*(?:import|from)\s+matplotlib\b", src, re.M) else None
        sys.modules["__main__"] = main
        sys.argv = [path] + [str(a) for a in argv]
        os.chdir(workdir)
        random.seed(seed)
        np.random.seed(seed)
        # the library's own generator too (the weights of PyTorch's run): a run does not depend on what ran before
        L.top.manual_seed(seed)
        with contextlib.redirect_stdout(out), _kernels_at_once(lib):
            try:
                exec(code, main.__dict__)
            except Exception as e:  # noqa: BLE001 - kept for the test to judge
                if not allow_error:
                    raise
                run.error = e
    finally:
        P.undo()
        if plt is not None:
            plt.close("all")
        # a script may set it (torch.set_default_device); None removes PyTorch's device mode again
        L.top.set_default_device(None if str(old_device) == "cpu" else old_device)
        if old_threads is not None:
            L.top.set_num_threads(old_threads)
        os.chdir(old_cwd)
        sys.argv = old_argv
        if old_main is not None:
            sys.modules["__main__"] = old_main
        run.stdout = out.getvalue()
    run.namespace = main.__dict__
    return run


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_GRAD_FN = re.compile(r"grad_fn=<\w+>")
_NODE = re.compile(r"<\w+ object at 0x[0-9a-fA-F]+>")
# PyTorch's torch.Size([2, 3]) and torch.float64 print here as Size([2, 3]) and float64 (README: deliberate)
_TORCH_NAME = re.compile(r"\btorch\.(?=Size\(|(?:float|int|uint|bool|bfloat|complex)\d*\b)")


def unnamed(line):
    """``line`` with the names that differ by design between the two runs taken out: ``grad_fn=<...>`` names
    become '<fn>', printed backward nodes (``<MulBackward0 object at 0x...>``) '<fn object>' (backward node names
    are implementation details), and ``torch.Size(`` / ``torch.float32`` lose their ``torch.``."""
    return _TORCH_NAME.sub("", _NODE.sub("<fn object>", _GRAD_FN.sub("grad_fn=<fn>", line)))


def masked(text):
    """``text``'s lines :func:`unnamed`, with every number replaced by '#' and runs of spaces by one (number
    widths), to compare two runs' printing line by line."""
    # (and no space after a bracket: a sign's padding, " 0.5" for "-0.5")
    return [re.sub(r"\[ ", "[", " ".join(_NUMBER.sub("#", unnamed(line)).split())) for line in text.splitlines()]


def printed_numbers(text):
    """Every number that ``text`` prints, line by line (names of :func:`unnamed` left out), as floats."""
    return [[float(m[0]) for m in _NUMBER.finditer(unnamed(line))] for line in text.splitlines()]

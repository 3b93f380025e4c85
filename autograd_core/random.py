"""Random sampling in PyTorch's names: ``randperm``, ``multinomial``, ``bernoulli``, ``normal``,
``poisson``, the in-place initialisers (``t.uniform_(a, b)``, ``t.normal_(mean, std)``,
``t.random_()``, ``t.bernoulli_(p)``, ``t.exponential_()``, ...) and the seed functions
(``seed``, ``initial_seed``, ``get_rng_state``, ``set_rng_state``; ``manual_seed`` is the core's).

Every sampler draws from ``generator`` or, by default, the global generator that ``manual_seed``
seeds, so a seeded script repeats itself. The streams are NumPy's, so the numbers differ from
PyTorch's for the same seed. Samples carry no gradient. An in-place initialiser writes into the
tensor's storage and bumps its version; on a leaf that requires grad it is refused while grad
mode is on (as in PyTorch: initialise under ``no_grad()``).

    >>> import autograd_core as ag
    >>> _ = ag.manual_seed(0)
    >>> ag.multinomial(ag.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    >>> sorted(ag.randperm(4).tolist())
    [0, 1, 2, 3]
"""
from __future__ import annotations

import contextlib

from typing import TYPE_CHECKING, Any

import numpy as np

from .ops import elementwise as _E
from .ops.inplace import inplace_update
from .tensor import Tensor, _check_device, _gen, default_generator, make, manual_seed

if TYPE_CHECKING:
    from .tensor import Generator
    from .typing import DTypeLike, ShapeLike, TensorLike

__all__ = ["randperm", "multinomial", "bernoulli", "normal", "poisson", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "fork_rng", "manual_seed"]


def randperm(n: int, *, generator: Generator | None = None, dtype: DTypeLike = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0, ..., n-1 (int64 unless ``dtype`` says otherwise).

    >>> sorted(ag.randperm(3, generator=ag.Generator(1)).tolist())
    [0, 1, 2]
    """
    _check_device(device, "randperm")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    dt = np.dtype(np.int64 if dtype is None else dtype)
    return Tensor(_gen(generator).permutation(int(n)).astype(dt), requires_grad=requires_grad)


def _array(x, name):
    if isinstance(x, Tensor):
        return x._data
    try:
        return np.asarray(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a tensor, got {type(x).__name__}") from None


def multinomial(input: TensorLike, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Generator | None = None) -> Tensor:
    """Draw ``num_samples`` category indices from the weights in ``input`` (1-D: one distribution,
    (n, k): one per row), as PyTorch's ``multinomial``; int64 of shape (num_samples,) or
    (n, num_samples).

    The weights need not sum to 1 but must be non-negative, finite, with a positive sum. Without
    replacement each index is drawn at most once (at most as many samples as non-zero weights).

    >>> ag.multinomial(ag.tensor([[1.0, 0.0], [0.0, 1.0]]), 1)
    tensor([[0],
            [1]])
    """
    p = _array(input, "multinomial")
    if p.ndim not in (1, 2):
        raise ValueError(f"multinomial: expects a 1-D or 2-D tensor of weights, got shape {tuple(p.shape)}")
    if p.dtype.kind != "f":
        raise TypeError(f"multinomial: expects floating weights, got dtype {p.dtype}; convert with .float() first")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    rows = p.reshape(-1, p.shape[-1]).astype(np.float64)
    k = rows.shape[1]
    if k == 0:
        raise ValueError("multinomial: the weights have no categories (size 0 along the last dim)")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: the weights contain inf, nan or a negative value")
    totals = rows.sum(axis=1)
    if np.any(totals <= 0):
        raise ValueError("multinomial: a row of weights sums to 0 (invalid distribution)")
    rng = _gen(generator)
    if replacement:
        cdf = np.cumsum(rows, axis=1) / totals[:, None]
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
        out = np.minimum(out, k - 1)
    else:
        if num_samples > k:
            raise ValueError(f"multinomial: can't draw {num_samples} samples without replacement from {k} categories")
        nonzero = (rows > 0).sum(axis=1).min()
        if num_samples > nonzero:
            raise ValueError(f"multinomial: can't draw {num_samples} samples without replacement: a row has only "
                             f"{nonzero} non-zero weight(s)")
        # Exponential races: the first num_samples arrivals of clocks with rates p are a draw without
        # replacement in proportion to p (PyTorch samples the same way).
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(rows.shape) / rows
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return Tensor(out.reshape(num_samples) if p.ndim == 1 else out)


def bernoulli(input: TensorLike, p: TensorLike | None = None, *,  # noqa: A002
              generator: Generator | None = None) -> Tensor:
    """0/1 samples, 1 with probability ``input`` (elementwise), or with probability ``p`` when it is given;
    in ``input``'s float dtype.

    >>> ag.bernoulli(ag.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """
    probs = _array(input, "bernoulli")
    if probs.dtype.kind != "f":
        raise TypeError(f"bernoulli: expects floating probabilities, got dtype {probs.dtype}")
    if p is not None:
        probs = np.broadcast_to(np.asarray(_array(p, "bernoulli"), probs.dtype), probs.shape)
    if np.any((probs < 0) | (probs > 1)) or not np.all(np.isfinite(probs)):
        raise ValueError("bernoulli: probabilities must be in [0, 1]")
    return Tensor((_gen(generator).random(probs.shape) < probs).astype(probs.dtype))


def normal(mean: TensorLike, std: TensorLike = 1.0, size: ShapeLike | None = None, *,
           generator: Generator | None = None, dtype: DTypeLike = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean, std)`` elementwise for tensors (they broadcast), or
    ``normal(mean, std, size)`` for numbers, as PyTorch. No gradient flows to ``mean``/``std``.

    >>> ag.normal(ag.zeros(3), 0.0)
    tensor([0., 0., 0.])
    """
    _check_device(device, "normal")
    m, s = _array(mean, "normal"), _array(std, "normal")
    if np.any(s < 0):
        raise ValueError("normal: std must be non-negative")
    if size is None:
        if not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
            raise TypeError("normal: with numbers for mean and std, give the size: normal(mean, std, size)")
        shape = np.broadcast_shapes(m.shape, s.shape)
    else:
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    float_dt = [a.dtype for a in (m, s) if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.ndim]
    from .tensor import get_default_dtype
    dt = np.dtype(dtype) if dtype is not None else (float_dt[0] if float_dt else get_default_dtype())
    out = m + s * _gen(generator).standard_normal(shape)
    return Tensor(np.asarray(out).astype(dt), requires_grad=requires_grad)


def poisson(input: TensorLike, generator: Generator | None = None) -> Tensor:  # noqa: A002
    """Poisson samples with rates ``input`` (elementwise, non-negative), in ``input``'s dtype, as
    ``torch.poisson``; not differentiable.

    >>> import autograd_core as ag
    >>> s = ag.poisson(ag.tensor([0.0, 4.0]))
    >>> s.shape, s[0].item()
    ((2,), 0.0)
    """
    lam = _array(input, "poisson")
    if np.any(lam < 0):
        raise ValueError("poisson: rates must be non-negative")
    return Tensor(_gen(generator).poisson(lam).astype(lam.dtype))


# -- seeds ----------------------------------------------------------------------------------------
def seed():
    """Seed the global generator from fresh OS entropy and return that seed (PyTorch's ``seed``).

    >>> import autograd_core as ag
    >>> s = ag.seed()
    >>> ag.initial_seed() == s
    True
    """
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s


def initial_seed() -> int | None:
    """The seed the global generator was last seeded with, as ``torch.initial_seed``.

    >>> import autograd_core as ag
    >>> _ = ag.manual_seed(5)
    >>> ag.initial_seed()
    5
    """
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    """The global generator's state, to restore with ``set_rng_state`` (NumPy's bit-generator state dict;
    PyTorch's ``torch.get_rng_state`` gives a ByteTensor).

    >>> import autograd_core as ag
    >>> state = ag.get_rng_state()
    >>> a = ag.rand(2)
    >>> ag.set_rng_state(state)
    >>> ag.equal(ag.rand(2), a)
    True
    """
    return default_generator.np.bit_generator.state


def set_rng_state(new_state: dict[str, Any]) -> None:
    """Restore the global generator's state from ``get_rng_state``, as ``torch.set_rng_state``.

    >>> import autograd_core as ag
    >>> state = ag.get_rng_state()
    >>> a = ag.randn(3)
    >>> ag.set_rng_state(state)
    >>> ag.equal(ag.randn(3), a)
    True
    """
    if not isinstance(new_state, dict):
        raise TypeError("set_rng_state: expected the dict that get_rng_state returned (this engine's generator is "
                        f"NumPy's), got {type(new_state).__name__}")
    default_generator.np.bit_generator.state = new_state


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Run a block with the global generator's state restored afterwards, as ``torch.random.fork_rng``
    (there are no device generators here: ``devices`` and ``device_type`` are accepted and unused).

    >>> import autograd_core as ag
    >>> _ = ag.manual_seed(0)
    >>> with ag.random.fork_rng():
    ...     a = ag.rand(2)
    >>> ag.equal(ag.rand(2), a)
    True
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


# -- in-place initialisers ---------------------------------------------------------------------------
def _fill_random(t, name, draw, floating=True):
    """Replace ``t``'s values with ``draw(rng, shape)`` in place; the old values get no gradient."""
    if floating and t._data.dtype.kind != "f":
        raise TypeError(f"{name}: expects a floating tensor, got dtype {t._data.dtype}")

    def outofplace(old, values):
        if not old.requires_grad:
            return make(values)
        # keep the tensor on the tape (it is part of a graph): the new values don't depend on the old ones
        return _E.where(np.zeros(values.shape, bool), old, make(values))

    def run(generator):
        values = np.asarray(draw(_gen(generator), t._data.shape)).astype(t._data.dtype)
        return inplace_update(t, lambda old: outofplace(old, values), name)
    return run


def _uniform_(self, a=0.0, b=1.0, *, generator=None, **kw):
    """Fill in place with samples uniform in [a, b) (keywords ``from``/``to`` as in PyTorch also work),
    from ``generator`` (default: the global one); returns this tensor. PyTorch: ``Tensor.uniform_``.

    >>> import autograd_core as ag
    >>> t = ag.empty(1000).uniform_(-2.0, 2.0)
    >>> bool(((t >= -2) & (t < 2)).all())
    True
    """
    a, b = kw.pop("from", a), kw.pop("to", b)
    _no_extra(kw, "uniform_")
    return _fill_random(self, "uniform_", lambda r, s: r.uniform(a, b, s))(generator)


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill in place with normal samples of ``mean`` and ``std``; returns this tensor. PyTorch:
    ``Tensor.normal_``.

    >>> import autograd_core as ag
    >>> t = ag.empty(10000, dtype=ag.float64).normal_(3.0, 0.5)
    >>> round(t.mean().item(), 1), round(t.std().item(), 1)
    (3.0, 0.5)
    """
    return _fill_random(self, "normal_", lambda r, s: mean + std * r.standard_normal(s))(generator)


def _random_(self, *args, generator=None, **kw):
    """Fill in place with random integers (in this tensor's dtype) and return it: ``random_(to)`` in
    [0, to); ``random_(from, to)`` in [from, to); ``random_()`` in [0, 2^mantissa] for floats
    (PyTorch's range) or [0, max] for ints. PyTorch: ``Tensor.random_``.

    >>> import autograd_core as ag
    >>> t = ag.empty(100, dtype=ag.int64).random_(3, 6)
    >>> sorted(set(t.tolist()))
    [3, 4, 5]
    """
    lo, hi = kw.pop("from", None), kw.pop("to", None)
    _no_extra(kw, "random_")
    if len(args) > 2:
        raise TypeError(f"random_: takes at most 2 positional arguments (from, to), got {len(args)}")
    if len(args) == 2:
        lo, hi = args
    elif len(args) == 1:
        if hi is None:
            hi = args[0]  # random_(to)
        else:
            lo = args[0]  # random_(from, to=...)
    lo = 0 if lo is None else lo
    dt = self._data.dtype
    if hi is None:
        hi = (2 ** (np.finfo(dt).nmant + 1) + 1 if dt.kind == "f" else 2 if dt.kind == "b"
              else int(np.iinfo(dt).max) + 1)
    if hi <= lo:
        raise ValueError(f"random_: expected from < to, got from={lo}, to={hi}")
    idt = dt if dt.kind in "iu" else np.dtype(np.int64)
    return _fill_random(self, "random_", lambda r, s: r.integers(lo, hi - 1, s, dtype=idt, endpoint=True),
                        floating=False)(generator)


def _bernoulli_(self, p=0.5, *, generator=None):
    """Fill in place with 0/1 samples, 1 with probability ``p`` (a number or a tensor that broadcasts);
    returns this tensor. PyTorch: ``Tensor.bernoulli_``.

    >>> import autograd_core as ag
    >>> t = ag.empty(4).bernoulli_(ag.tensor([0.0, 1.0, 0.0, 1.0]))
    >>> t
    tensor([0., 1., 0., 1.])
    """
    probs = _array(p, "bernoulli_")
    return _fill_random(self, "bernoulli_", lambda r, s: r.random(s) < probs, floating=False)(generator)


def _exponential_(self, lambd=1.0, *, generator=None):
    """Fill in place with exponential samples of rate ``lambd`` (mean 1 / lambd); returns this tensor.
    PyTorch: ``Tensor.exponential_``.

    >>> import autograd_core as ag
    >>> t = ag.empty(1000).exponential_(2.0)
    >>> bool((t >= 0).all())
    True
    """
    return _fill_random(self, "exponential_", lambda r, s: r.standard_exponential(s) / lambd)(generator)


def _geometric_(self, p, *, generator=None):
    """Fill in place with geometric samples (the number of trials until the first success, from 1) of
    success probability ``p``; returns this tensor. PyTorch: ``Tensor.geometric_``.

    >>> import autograd_core as ag
    >>> t = ag.empty(1000).geometric_(0.5)
    >>> bool((t >= 1).all())
    True
    """
    return _fill_random(self, "geometric_", lambda r, s: r.geometric(p, s), floating=False)(generator)


def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill in place with samples of exp(N(mean, std)); returns this tensor. PyTorch:
    ``Tensor.log_normal_``.

    >>> import autograd_core as ag
    >>> t = ag.empty(1000).log_normal_(0.0, 1.0)
    >>> bool((t > 0).all())
    True
    """
    return _fill_random(self, "log_normal_", lambda r, s: r.lognormal(mean, std, s))(generator)


def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill in place with Cauchy samples of ``median`` and scale ``sigma``; returns this tensor. PyTorch:
    ``Tensor.cauchy_``.

    >>> import autograd_core as ag
    >>> ag.empty(2, 3).cauchy_().shape
    (2, 3)
    """
    return _fill_random(self, "cauchy_", lambda r, s: median + sigma * r.standard_cauchy(s))(generator)


def _no_extra(kw, name):
    if kw:
        raise TypeError(f"{name}: unexpected keyword argument(s) {', '.join(map(repr, kw))}")


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    """``num_samples`` indices drawn with the weights in this tensor (1-D, or one row per draw in 2-D),
    without replacement unless ``replacement=True``, as ``Tensor.multinomial`` (see
    ``ag.multinomial``).

    >>> import autograd_core as ag
    >>> ag.tensor([0.0, 0.0, 1.0]).multinomial(2, replacement=True)
    tensor([2, 2])
    """
    return multinomial(self, num_samples, replacement, generator=generator)


def _bernoulli_method(self, p=None, *, generator=None):
    """0/1 samples of this tensor's shape: 1 with probability ``self`` (or ``p`` if given), as
    ``Tensor.bernoulli`` (see ``ag.bernoulli``).

    >>> import autograd_core as ag
    >>> ag.tensor([0.0, 1.0, 1.0]).bernoulli()
    tensor([0., 1., 1.])
    """
    return bernoulli(self, p, generator=generator)


for _name, _f in dict(uniform_=_uniform_, normal_=_normal_, random_=_random_, bernoulli_=_bernoulli_,
                      exponential_=_exponential_, geometric_=_geometric_, log_normal_=_log_normal_,
                      cauchy_=_cauchy_, bernoulli=_bernoulli_method, multinomial=_multinomial_method).items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _f)

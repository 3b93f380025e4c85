"""Activation checkpointing, as ``torch.utils.checkpoint``: run part of a model without keeping its
intermediate results, and run it again during backward to get its gradients.

``checkpoint(fn, *args)`` returns ``fn(*args)``, computed with grad mode off, so the tape holds one node
for the whole call instead of one per op inside it. When backward reaches that node it restores the
random state that ``fn`` saw (dropout draws the same masks), runs ``fn`` again on the same inputs with
grad mode on, and backpropagates through that recomputation: the tensor inputs get their gradients
through the node, and tensors that ``fn`` reads from elsewhere (a module's parameters) get theirs in
``.grad`` as usual. Memory for activations drops to the inputs of each checkpointed call; the price is
one more forward of it.

    >>> import autograd_core as ag
    >>> from autograd_core.utils.checkpoint import checkpoint
    >>> w = ag.tensor([2.0], requires_grad=True)
    >>> x = ag.tensor([3.0], requires_grad=True)
    >>> y = checkpoint(lambda t: (t * w).tanh() * t, x, use_reentrant=False)
    >>> y.backward()
    >>> bool(ag.allclose(x.grad, ag.tensor([(1 - ag.tanh(ag.tensor(6.0)) ** 2) * 6 + ag.tanh(ag.tensor(6.0))])))
    True

As in PyTorch's ``use_reentrant=True`` form, the recomputation's gradients for tensors that are not
inputs (parameters) land in their ``.grad``: ``autograd.grad`` asked for such a tensor does not see them,
and a second derivative through a checkpointed call (``create_graph=True``) is refused.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .. import graph, random as _random
from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, run, kwargs, preserve_rng, *args):
        ctx.run, ctx.kwargs = run, kwargs
        ctx.rng = _random.get_rng_state() if preserve_rng else None
        ctx.args = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        out = run(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(o.detach() if isinstance(o, Tensor) else o for o in out)
        if not isinstance(out, Tensor):
            raise TypeError(f"checkpoint: the function must return a tensor or a tuple, got {type(out).__name__}")
        return out.detach()

    @staticmethod
    def backward(ctx, *grads):
        if graph.is_grad_enabled():     # backward runs with grad mode on only under create_graph=True
            raise RuntimeError("checkpoint: a second derivative through a checkpointed call is not supported here; "
                               "run that part without checkpoint")
        saved = iter(ctx.saved_tensors)
        inputs = []
        for a in ctx.args:
            if a is None:
                t = next(saved)
                inputs.append(t.detach().requires_grad_(t.requires_grad))
            else:
                inputs.append(a)
        now = _random.get_rng_state() if ctx.rng is not None else None
        try:
            if ctx.rng is not None:
                _random.set_rng_state(ctx.rng)
            with graph.enable_grad():
                out = ctx.run(*inputs, **ctx.kwargs)
        finally:
            if now is not None:
                _random.set_rng_state(now)
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            graph.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None, None) + tuple(t.grad if isinstance(t, Tensor) and t.requires_grad else None
                                          for t in inputs)


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               preserve_rng_state: bool = True, context_fn: Any = None, determinism_check: str = "default",
               debug: bool = False, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, recomputed during backward instead of kept (see the module docstring).
    ``use_reentrant``, ``context_fn``, ``determinism_check`` and ``debug`` are accepted for PyTorch's
    signature; ``preserve_rng_state=False`` skips restoring the random state.

    >>> import autograd_core as ag, nn
    >>> from autograd_core.utils.checkpoint import checkpoint
    >>> layer = nn.Linear(3, 2)
    >>> x = ag.ones(4, 3, requires_grad=True)
    >>> checkpoint(layer, x, use_reentrant=False).sum().backward()
    >>> layer.weight.grad.shape, x.grad.shape
    ((2, 3), (4, 3))
    """
    if not callable(function):
        raise TypeError(f"checkpoint: the first argument must be callable, got {type(function).__name__}")
    if not (graph.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)):
        # no input on the tape: no node would record the call, so run it plainly (parameters inside
        # still get their gradients)
        return function(*args, **kwargs)
    return _Checkpoint.apply(function, kwargs, bool(preserve_rng_state), *args)


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,  # noqa: A002
                          **kwargs: Any) -> Any:
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules/functions) in ``segments`` consecutive
    runs, checkpointing every run but the last, as ``torch.utils.checkpoint.checkpoint_sequential``.

    >>> import autograd_core as ag, nn
    >>> from autograd_core.utils.checkpoint import checkpoint_sequential
    >>> model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> x = ag.ones(2, 3, requires_grad=True)
    >>> bool(ag.allclose(checkpoint_sequential(model, 2, x, use_reentrant=False), model(x)))
    True
    """
    fns: Sequence[Any] = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments!r}")
    n = len(fns)
    size = max(1, n // segments)

    def run(lo, hi):
        def f(x):
            for fn in fns[lo:hi]:
                x = fn(x)
            return x
        return f
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end + 1), input, **kwargs)  # noqa: A001
    return run(end + 1, n)(input)

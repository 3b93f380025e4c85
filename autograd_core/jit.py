"""``torch.jit`` for scripts that decorate with it: there is no TorchScript compiler here, so ``script`` and
``trace`` return what they are given (the code runs as plain Python, with the same results), and
``is_scripting()`` / ``is_tracing()`` are False. ``save`` and ``load`` of a TorchScript archive raise an error
that says what to use instead.

    >>> import autograd_core as ag
    >>> @ag.jit.script
    ... def double(x):
    ...     return x * 2
    >>> double(ag.tensor([1.0]))
    tensor([2.])
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["script", "trace", "ignore", "unused", "export", "is_scripting", "is_tracing", "save", "load"]


def script(obj: Any, *args: Any, **kwargs: Any) -> Any:
    """``obj`` itself (a function or a module): it runs as Python here.

    >>> import autograd_core as ag, nn
    >>> m = nn.Linear(2, 1)
    >>> ag.jit.script(m) is m
    True
    """
    return obj


def trace(func: Any, example_inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``func`` itself (the example inputs are not needed: it runs as Python here).

    >>> import autograd_core as ag
    >>> f = ag.jit.trace(lambda x: x + 1, ag.zeros(1))
    >>> f(ag.zeros(1))
    tensor([1.])
    """
    return func


def ignore(fn: Any = None, drop: bool = False, **kwargs: Any) -> Any:
    """A decorator that leaves ``fn`` as it is (with or without arguments: ``@ignore`` or ``@ignore(drop=True)``).

    >>> import autograd_core as ag
    >>> ag.jit.ignore(len)([1, 2])
    2
    """
    if callable(fn):
        return fn
    return lambda f: f


def unused(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` itself.

    >>> import autograd_core as ag
    >>> ag.jit.unused(abs)(-1)
    1
    """
    return fn


def export(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` itself.

    >>> import autograd_core as ag
    >>> ag.jit.export(abs)(-2)
    2
    """
    return fn


def is_scripting() -> bool:
    """False: code never runs under TorchScript here.

    >>> import autograd_core as ag
    >>> ag.jit.is_scripting()
    False
    """
    return False


def is_tracing() -> bool:
    """False: code never runs under the tracer here.

    >>> import autograd_core as ag
    >>> ag.jit.is_tracing()
    False
    """
    return False


def save(m: Any, f: Any, *args: Any, **kwargs: Any) -> None:
    """Refused: there are no TorchScript archives here.

    >>> import autograd_core as ag, nn
    >>> ag.jit.save(nn.Linear(1, 1), "m.pt")
    Traceback (most recent call last):
    ...
    RuntimeError: jit.save: there is no TorchScript here; save the weights with nn.save(model.state_dict(), path) and rebuild the model from its class to load them
    """
    raise RuntimeError("jit.save: there is no TorchScript here; save the weights with nn.save(model.state_dict(), "
                       "path) and rebuild the model from its class to load them")


def load(f: Any, *args: Any, **kwargs: Any) -> Any:
    """Refused: a TorchScript archive holds compiled code that cannot run here.

    >>> import autograd_core as ag
    >>> ag.jit.load("m.pt")
    Traceback (most recent call last):
    ...
    RuntimeError: jit.load: TorchScript archives cannot run here; load a state dict with nn.load(path) into the model's class instead
    """
    raise RuntimeError("jit.load: TorchScript archives cannot run here; load a state dict with nn.load(path) into "
                       "the model's class instead")

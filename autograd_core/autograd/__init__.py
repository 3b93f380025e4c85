"""PyTorch's ``torch.autograd`` namespace: ``grad``, ``backward``, ``Function``, ``functional``
(``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``vhp``, ``hvp``), ``forward_ad`` (dual tensors),
``Variable``, the grad-mode and
anomaly switches, and ``gradcheck``/``gradgradcheck``.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> ag.autograd.grad((x ** 2).sum(), x)
    (tensor([2., 4.]),)

The JAX-style transforms (``ag.grad(f)``, ``ag.jacobian(f)``) live in ``autograd_core.functional``;
the functions here take PyTorch's arguments and return PyTorch's structures.
"""
from __future__ import annotations

import numpy as np

from ..graph import autograd_grad as _autograd_grad, backward as _backward
from ..anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly as _set_detect_anomaly
from ..modes import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from ..tensor import Tensor, make, tensor
from ..testing import gradcheck, gradgradcheck
from . import forward_ad, functional
from .function import Function, FunctionCtx, InplaceFunction, NestedIOFunction, once_differentiable

__all__ = ["grad", "backward", "Function", "FunctionCtx", "once_differentiable", "Variable", "functional",
           "gradcheck", "gradgradcheck", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "InplaceFunction",
           "NestedIOFunction", "forward_ad"]


def _seq(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """d(outputs)/d(inputs) as a tuple with one gradient per input (PyTorch's ``torch.autograd.grad``);
    ``.grad`` is left alone.

    ``outputs`` and ``inputs`` are a tensor or a sequence of them; ``grad_outputs`` gives the
    cotangent of each output (None for a one-element output). An input the outputs don't depend on
    raises unless ``allow_unused=True`` (its gradient is then None) or ``materialize_grads=True``
    (zeros). ``create_graph=True`` records the backward pass so the result can be differentiated.

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> y = ag.tensor(3.0, requires_grad=True)
    >>> ag.autograd.grad((x * y).sum(), (x, y))
    (tensor([3., 3.]), tensor(3.))
    >>> x.grad is None
    True
    """
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True (vmap over cotangents) is not supported here; "
                                  "loop over the cotangents instead")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused to be None or True")
    ins = _seq(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, expected a tensor")
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) does not require grad; create it with "
                               "requires_grad=True (or call .requires_grad_())")
    outs = _seq(outputs)
    gos = None if grad_outputs is None else _seq(grad_outputs)
    if gos is not None and len(gos) != len(outs):
        raise ValueError(f"grad: got {len(gos)} grad_outputs for {len(outs)} outputs")
    res = _autograd_grad(outs, ins, grad_outputs=gos, retain_graph=retain_graph, create_graph=create_graph,
                         allow_unused=allow_unused)
    if materialize_grads:
        res = tuple(make(np.zeros(t.shape, t.dtype)) if g is None else g for g, t in zip(res, ins))
    return tuple(res)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate the gradients of ``tensors`` (weighted by ``grad_tensors``) into the leaves' ``.grad``
    (PyTorch's ``torch.autograd.backward``; ``t.backward()`` for several roots at once).

    >>> import autograd_core as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> ag.autograd.backward([x.sum(), (x * x).sum()])
    >>> x.grad
    tensor([3., 5.])
    """
    if grad_tensors is None:
        grad_tensors = grad_variables
    roots = _seq(tensors)
    grads = [None] * len(roots) if grad_tensors is None else _seq(grad_tensors)
    if len(grads) != len(roots):
        raise ValueError(f"backward: got {len(grads)} grad_tensors for {len(roots)} tensors")
    _backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)


class set_detect_anomaly:
    """``set_detect_anomaly(mode, check_nan=True)``: turn anomaly detection on or off (this thread); as a
    context manager it restores the previous setting on exit (PyTorch's ``torch.autograd.set_detect_anomaly``).

    >>> import autograd_core as ag
    >>> with ag.autograd.set_detect_anomaly(True):
    ...     ag.is_anomaly_enabled()
    True
    >>> ag.is_anomaly_enabled()
    False
    """

    def __init__(self, mode, check_nan=True):
        self._prev = is_anomaly_enabled()
        _set_detect_anomaly(bool(mode) and bool(check_nan))

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set_detect_anomaly(self._prev)
        return False


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802  (PyTorch's name)
    """PyTorch's old ``Variable``: a tensor now. ``Variable(t)`` is ``t``; ``Variable(t, requires_grad=True)`` a
    leaf on ``t``'s storage that requires grad; other data is copied into a new tensor.

    >>> import autograd_core as ag
    >>> from autograd_core.autograd import Variable
    >>> v = Variable(ag.tensor([1.0, 2.0]), requires_grad=True)
    >>> v.requires_grad, v.is_leaf
    (True, True)
    """
    t = data if isinstance(data, Tensor) else tensor(data)
    if requires_grad and not t.requires_grad:
        t = t.detach().requires_grad_(True)
    return t

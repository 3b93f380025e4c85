"""``torch.nn.utils.prune``: zero out parts of a parameter through a mask, as PyTorch's.

Pruning ``module.weight`` moves the parameter to ``weight_orig``, adds the buffer ``weight_mask`` and
makes ``weight`` the product ``weight_orig * weight_mask``, recomputed before each forward by a forward
pre-hook (the pruning method itself), so gradients reach ``weight_orig`` where the mask is 1. Pruning
again combines the masks (a ``PruningContainer``: the new method sees only what is still unpruned).
``remove`` makes the pruning permanent: ``weight`` becomes a parameter again, holding the product.

* unstructured: ``l1_unstructured`` (the smallest |w|), ``random_unstructured``, ``global_unstructured``
  (one threshold over several parameters), ``custom_from_mask``, ``identity``;
* structured (whole slices along ``dim``): ``ln_structured`` (the slices of smallest L``n`` norm),
  ``random_structured``;
* ``remove``, ``is_pruned``; the classes ``BasePruningMethod``, ``PruningContainer``, ``Identity``,
  ``RandomUnstructured``, ``L1Unstructured``, ``RandomStructured``, ``LnStructured``, ``CustomFromMask``.

``amount`` is a fraction in [0, 1] of the entries (or slices) to prune, or their number.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> layer = nn.Linear(4, 2)
    >>> _ = prune.l1_unstructured(layer, "weight", amount=0.5)
    >>> int((layer.weight == 0).sum()), sorted(n for n, _ in layer.named_parameters())
    (4, ['bias', 'weight_orig'])
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

from .module import Module, Parameter

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned"]


def _validate_amount(amount: Any) -> None:
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"prune: invalid type for amount: {amount!r}; must be an int or a float")
    if (isinstance(amount, numbers.Integral) and int(amount) < 0) or \
            (not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"prune: amount={amount} should either be a float in the range [0, 1] or a non-negative "
                         f"integer")


def _validate_against_size(amount: Any, size: int) -> None:
    if isinstance(amount, numbers.Integral) and int(amount) > size:
        raise ValueError(f"prune: amount={amount} should be smaller than the number of parameters to prune={size}")


def _n_to_prune(amount: Any, size: int) -> int:
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return int(round(float(amount) * size))


def _smallest(values: np.ndarray, k: int) -> np.ndarray:
    """The indices of the k smallest of a 1-D array (stable: the first of equal values first)."""
    return np.argsort(values, kind="stable")[:k]


def _unstructured_mask(amount: Any, default_mask: Tensor, scores: Any) -> Tensor:
    """``default_mask`` with its ``amount`` entries of smallest ``scores()`` (a flat array) set to 0."""
    size = int(default_mask._data.size)
    _validate_against_size(amount, size)
    k = _n_to_prune(amount, size)
    mask = default_mask._data.copy()
    if k:
        mask.reshape(-1)[_smallest(scores(), k)] = 0
    return Tensor(mask)


def _structured_mask(amount: Any, default_mask: Tensor, dim: int, scores: Any) -> Tensor:
    """``default_mask`` with its ``amount`` slices along ``dim`` of smallest ``scores(n)`` (one per slice) zeroed."""
    m = default_mask._data
    dim = dim % m.ndim
    n = m.shape[dim]
    _validate_against_size(amount, n)
    k = _n_to_prune(amount, n)
    keep = np.ones(n, bool)
    if k:
        # PyTorch keeps the n - k largest (topk), which prunes the k smallest
        keep[:] = False
        keep[np.argsort(-scores(n), kind="stable")[:n - k]] = True
    shape = [1] * m.ndim
    shape[dim] = n
    return Tensor(m * keep.reshape(shape).astype(m.dtype))


class BasePruningMethod:
    """A pruning method: ``compute_mask(t, default_mask)`` gives the new mask (an array or tensor of t's
    shape); ``apply`` prunes a module's parameter with it and registers the method as a forward pre-hook
    that recomputes ``name`` = ``name_orig * name_mask``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> class EveryOther(prune.BasePruningMethod):
    ...     PRUNING_TYPE = "unstructured"
    ...     def compute_mask(self, t, default_mask):
    ...         mask = default_mask.clone()
    ...         mask.view(-1)[::2] = 0
    ...         return mask
    >>> layer = nn.Linear(2, 2)
    >>> _ = EveryOther.apply(layer, "weight")
    >>> layer.weight_mask
    tensor([[0., 1.],
            [0., 1.]])
    """

    PRUNING_TYPE = "unstructured"
    _tensor_name: str

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask to apply to ``t`` given the current ``default_mask`` (a subclass defines it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define compute_mask")

    def apply_mask(self, module: Module) -> Tensor:
        """``name_orig * name_mask`` of ``module`` (on the tape, so ``name_orig`` gets gradients)."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask.to(orig.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, *args: Any, importance_scores: Tensor | None = None,
              **kwargs: Any) -> "BasePruningMethod":
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)`` (combined with an earlier pruning of the same
        parameter into a ``PruningContainer``); ``importance_scores`` (``name``'s shape) rank the entries
        instead of the values themselves. Returns the method that was registered."""
        old = None
        found = 0
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old, found = hook, found + 1
                del module._forward_pre_hooks[key]
        if found > 1:
            raise ValueError(f"prune: more than one pruning hook for {name!r} on {type(module).__name__}")
        method: BasePruningMethod = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise ValueError(f"prune: importance_scores should have the same shape as parameter {name} of "
                                 f"{type(module).__name__}, got {tuple(importance_scores.shape)} and "
                                 f"{tuple(orig.shape)}")
        else:
            importance_scores = orig
        if old is None:
            if not isinstance(orig, Parameter):
                raise ValueError(f"prune: {type(module).__name__}.{name} is not a parameter")
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = Tensor(np.ones(orig.shape, orig._data.dtype))
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
            mask = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
            if name + "_mask" in module._buffers:
                module._buffers[name + "_mask"] = mask
            else:
                module.register_buffer(name + "_mask", mask)
            object.__setattr__(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if old is None:
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None) -> Tensor:
        """``t`` times this method's mask (for a tensor outside a module).

        >>> import autograd_core as ag
        >>> from nn.utils import prune
        >>> prune.L1Unstructured(amount=1).prune(ag.tensor([3.0, 1.0, 2.0]))
        tensor([3., 0., 2.])
        """
        scores = t if importance_scores is None else importance_scores
        dm = default_mask if default_mask is not None else Tensor(np.ones(t.shape, t._data.dtype))
        return t * self.compute_mask(scores.detach(), default_mask=dm).to(t.dtype)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``name`` becomes a parameter holding ``name_orig * name_mask``, and
        ``name_orig``, ``name_mask`` and the hook go."""
        name = self._tensor_name
        if name + "_orig" not in module._parameters:
            raise ValueError(f"prune.remove: parameter {name!r} of {type(module).__name__} has to be pruned before "
                             f"its pruning can be removed")
        weight = self.apply_mask(module).detach()
        for key, hook in list(module._forward_pre_hooks.items()):
            if hook is self:
                del module._forward_pre_hooks[key]
        orig = module._parameters.pop(name + "_orig")
        del module._buffers[name + "_mask"]
        module.__dict__.pop(name, None)
        orig._data = weight._data.copy()
        orig._version += 1
        module.register_parameter(name, orig)


class PruningContainer(BasePruningMethod):
    """Several pruning methods applied to one parameter in turn; each new one computes its mask on the
    entries (unstructured) or slices (structured) the earlier ones left.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> layer = nn.Linear(4, 1, bias=False)
    >>> _ = prune.L1Unstructured.apply(layer, "weight", amount=1)
    >>> method = prune.L1Unstructured.apply(layer, "weight", amount=1)
    >>> type(method).__name__, int((layer.weight_mask == 0).sum())
    ('PruningContainer', 2)
    """

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], BasePruningMethod):
            args = tuple(args[0])
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Add ``method`` (pruning the same parameter) to the sequence."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"PruningContainer: {type(method).__name__} is not a BasePruningMethod subclass")
        if method is not None and self._pruning_methods and method._tensor_name != self._tensor_name:
            raise ValueError(f"PruningContainer: can only add methods acting on the parameter named "
                             f"{self._tensor_name!r}, got one on {method._tensor_name!r}")
        if method is not None:
            self._tensor_name = method._tensor_name
            self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Any:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask, computed where the earlier ones left entries (or slices), combined."""
        method = self._pruning_methods[-1]
        old = default_mask._data
        if method.PRUNING_TYPE == "unstructured":
            keep = old == 1
            part = method.compute_mask(Tensor(t._data[keep]), default_mask=Tensor(old[keep]))
            new = old.copy()
            new[keep] = np.asarray(part._data if isinstance(part, Tensor) else part, old.dtype)
            return Tensor(new)
        if method.PRUNING_TYPE == "structured":
            dim = getattr(method, "dim", -1) % t.ndim
            other = tuple(d for d in range(t.ndim) if d != dim)
            alive = np.asarray(old.sum(axis=other) != 0)
            idx = np.nonzero(alive)[0]
            sub = np.take(t._data, idx, axis=dim)
            part = method.compute_mask(Tensor(sub), default_mask=Tensor(np.take(old, idx, axis=dim)))
            new = old.copy()
            sl: list = [slice(None)] * t.ndim
            sl[dim] = idx
            new[tuple(sl)] = np.asarray(part._data if isinstance(part, Tensor) else part, old.dtype)
            return Tensor(new)
        if method.PRUNING_TYPE == "global":
            return method.compute_mask(t, default_mask=default_mask)
        raise ValueError(f"PruningContainer: unrecognized PRUNING_TYPE {method.PRUNING_TYPE!r}")


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones): ``prune.identity`` gives a parameter the pruned form.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> layer = prune.identity(nn.Linear(2, 1), "weight")
    >>> layer.weight_mask
    tensor([[1., 1.]])
    """

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries chosen at random (the global generator).

    >>> import autograd_core as ag
    >>> from nn.utils import prune
    >>> int((prune.RandomUnstructured(amount=2).prune(ag.ones(5)) == 0).sum())
    2
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Any) -> None:
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _unstructured_mask(self.amount, default_mask, lambda: ag.rand(int(t._data.size))._data)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest absolute value.

    >>> import autograd_core as ag
    >>> from nn.utils import prune
    >>> prune.L1Unstructured(amount=0.5).prune(ag.tensor([3.0, 1.0, -2.0, 0.5]))
    tensor([ 3.,  0., -2.,  0.])
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Any) -> None:
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _unstructured_mask(self.amount, default_mask, lambda: np.abs(t._data).reshape(-1))



def _structured_norm(t: np.ndarray, n: Any, dim: int) -> np.ndarray:
    other = tuple(d for d in range(t.ndim) if d != dim)
    a = np.abs(t)
    if n in ("fro", 2):
        return np.sqrt((a * a).sum(axis=other))
    if n == float("inf"):
        return a.max(axis=other)
    if n == float("-inf"):
        return a.min(axis=other)
    if n == 0:
        return (a != 0).sum(axis=other).astype(t.dtype)
    if n == "nuc":
        raise ValueError("ln_structured: the nuclear norm is not a norm over slices")
    return (a ** n).sum(axis=other) ** (1.0 / n)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` slices along ``dim`` (all their entries), chosen at random.

    >>> import autograd_core as ag
    >>> from nn.utils import prune
    >>> m = prune.RandomStructured(amount=1, dim=0).compute_mask(ag.ones(3, 2), ag.ones(3, 2))
    >>> int(m.sum())
    4
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Any, dim: int = -1) -> None:
        _validate_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _structured_mask(self.amount, default_mask, self.dim, lambda n: ag.rand(n)._data)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` slices along ``dim`` of smallest L``n`` norm (``n``: a number, inf, -inf or 'fro').

    >>> import autograd_core as ag
    >>> from nn.utils import prune
    >>> w = ag.tensor([[1.0, 1.0], [0.1, 0.1], [2.0, 0.0]])
    >>> prune.LnStructured(amount=1, n=2, dim=0).compute_mask(w, ag.ones(3, 2))
    tensor([[1., 1.],
            [0., 0.],
            [1., 1.]])
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Any, n: Any, dim: int = -1) -> None:
        _validate_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _structured_mask(self.amount, default_mask, self.dim,
                                lambda n: _structured_norm(t._data, self.n, self.dim % t.ndim))



class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0.

    >>> import autograd_core as ag
    >>> from nn.utils import prune
    >>> prune.CustomFromMask(ag.tensor([1.0, 0.0])).prune(ag.tensor([5.0, 6.0]))
    tensor([5., 0.])
    """

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"custom_from_mask: the mask has shape {tuple(self.mask.shape)}, the parameter "
                             f"{tuple(default_mask.shape)}")
        m = self.mask._data if isinstance(self.mask, Tensor) else np.asarray(self.mask)
        return Tensor(default_mask._data * m.astype(default_mask._data.dtype))



def identity(module: Module, name: str) -> Module:
    """Give ``module.<name>`` the pruned form with a mask of ones; returns ``module``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> sorted(prune.identity(nn.Linear(2, 1), "bias").state_dict())
    ['bias_mask', 'bias_orig', 'weight']
    """
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: Any) -> Module:
    """Prune ``amount`` random entries of ``module.<name>``; returns ``module``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> int((prune.random_unstructured(nn.Linear(4, 2), "weight", amount=3).weight == 0).sum())
    3
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: Any, importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` entries of ``module.<name>`` of smallest absolute value (or importance score);
    returns ``module``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> int((prune.l1_unstructured(nn.Linear(4, 2), "weight", amount=0.25).weight == 0).sum())
    2
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: Any, dim: int) -> Module:
    """Prune ``amount`` random slices along ``dim`` of ``module.<name>``; returns ``module``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> w = prune.random_structured(nn.Linear(3, 4), "weight", amount=1, dim=0).weight
    >>> int((w.abs().sum(1) == 0).sum())
    1
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount: Any, n: Any, dim: int,
                  importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` slices along ``dim`` of ``module.<name>`` of smallest L``n`` norm; returns ``module``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> w = prune.ln_structured(nn.Conv2d(1, 4, 3), "weight", amount=0.5, n=2, dim=0).weight
    >>> int((w.abs().sum((1, 2, 3)) == 0).sum())
    2
    """
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters: Iterable, pruning_method: type, importance_scores: dict | None = None,
                        **kwargs: Any) -> None:
    """Prune the ``(module, name)`` pairs in ``parameters`` together: ``pruning_method`` (e.g.
    ``L1Unstructured`` with ``amount=...``) sees them as one flat vector, so one threshold applies to all.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> a, b = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    >>> prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured, amount=4)
    >>> int((a.weight == 0).sum() + (b.weight == 0).sum())
    4
    """
    params = list(parameters)
    if not params:
        raise ValueError("global_unstructured: parameters is empty")
    importance_scores = importance_scores or {}
    scores = []
    masks = []
    for module, name in params:
        t = getattr(module, name)
        s = importance_scores.get((module, name), t)
        scores.append(np.asarray(s._data if isinstance(s, Tensor) else s).reshape(-1))
        m = getattr(module, name + "_mask", None)
        masks.append(np.ones(t._data.size, t._data.dtype) if m is None else m._data.reshape(-1))
    flat_scores = Tensor(np.concatenate(scores))
    flat_mask = Tensor(np.concatenate(masks))
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f"global_unstructured: only unstructured pruning methods can prune globally, got "
                        f"{pruning_method.__name__} ({method.PRUNING_TYPE})")
    container.add_pruning_method(method)
    final = container.compute_mask(flat_scores, flat_mask)._data
    offset = 0
    for module, name in params:
        t = getattr(module, name)
        n = t._data.size
        custom_from_mask(module, name, Tensor(final[offset:offset + n].reshape(t.shape)))
        offset += n


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune ``module.<name>`` where ``mask`` (its shape) is 0; returns ``module``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> bool(prune.custom_from_mask(nn.Linear(2, 1), "bias", ag.tensor([0.0])).bias == 0)
    True
    """
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent (``name`` a parameter again, holding the pruned
    values; ``name_orig``, ``name_mask`` and the hook removed); returns ``module``.

    >>> import autograd_core as ag, nn
    >>> from nn.utils import prune
    >>> layer = prune.remove(prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=2), "weight")
    >>> sorted(layer.state_dict()), int((layer.weight == 0).sum())
    (['bias', 'weight'], 2)
    """
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            return module
    raise ValueError(f"prune.remove: parameter {name!r} of module {type(module).__name__} has to be pruned before "
                     f"pruning can be removed")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any module inside it has a pruned parameter.

    >>> import nn
    >>> from nn.utils import prune
    >>> m = nn.Sequential(nn.Linear(2, 2))
    >>> prune.is_pruned(m), prune.is_pruned(prune.identity(m[0], "weight"))
    (False, True)
    """
    for m in module.modules():
        for hook in m._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False

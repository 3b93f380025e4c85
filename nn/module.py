"""The Module system: ``Parameter``, ``Module``, the containers and ``summary``.

A ``Module`` registers what is assigned to it: a ``Parameter`` goes to ``_parameters``, a
``Module`` to ``_modules``, and tensors registered with ``register_buffer`` to ``_buffers``.
Everything else (``state_dict``, ``parameters()``, ``repr``) walks those three dicts, so
names and order are the ones PyTorch gives (``"0.weight"``, ``"bn.running_mean"``).
"""
from __future__ import annotations

import io
import itertools
import operator
from collections import OrderedDict, namedtuple
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, TypeVar, overload

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "summary"]

_M = TypeVar("_M", bound="Module")
_S = TypeVar("_S", bound="_ModuleSeq")


_DEVICE_TYPES = ("cpu", "cuda", "mps", "meta", "xpu", "xla", "hip", "hpu", "ipu", "mtia", "vulkan", "opengl",
                 "ort", "mkldnn", "fpga", "ve", "lazy", "privateuseone")


def _device_type(obj):
    """The device type ``obj`` names ('cpu', 'cuda', ...), or None if it names no device. Strings
    ('cuda:0'), ints (a CUDA ordinal, as PyTorch reads them) and any object whose ``str()`` is a
    device name (``ag.device``, ``torch.device``) are understood."""
    if isinstance(obj, bool) or obj is None:
        return None
    if isinstance(obj, (int, np.integer)):
        return "cuda"
    name = obj if isinstance(obj, str) else str(obj)
    kind = name.split(":")[0].strip().lower()
    return kind if kind in _DEVICE_TYPES else None


def _check_device(device, who):
    """Accept None and the CPU; refuse every other device with a message that says what to do."""
    if device is None:
        return
    kind = _device_type(device)
    if kind == "cpu":
        return
    if kind == "meta" and who == "Module.to":
        # a module moved to 'meta' serves as a template whose tensors functional_call replaces (PyTorch's
        # model-ensembling recipe); here it keeps its CPU tensors, which serve the same purpose
        return
    if kind is None:
        raise ValueError(f"{who}: {device!r} is not a device name; this engine has one device, 'cpu'")
    name = device if isinstance(device, str) else str(device) if not isinstance(device, int) else f"cuda:{device}"
    raise RuntimeError(f"{who}: this engine runs on the CPU only (NumPy arrays), so there is no {name!r} "
                       f"device. Drop the .to({name!r}) / .cuda() call, or use device='cpu' (code that picks "
                       "'cuda' if torch.cuda.is_available() can simply use 'cpu' here).")


def _as_dtype(obj):
    """``obj`` as a NumPy dtype (np.float32, 'float64', ag.float64, torch.float64 by name), or None."""
    if obj is None or isinstance(obj, (Tensor, bool, int)):
        return None
    if isinstance(obj, str) and _device_type(obj) is not None:
        return None
    try:
        return np.dtype(obj)
    except TypeError:
        pass
    name = str(obj)
    if name.startswith("torch."):
        try:
            return np.dtype(name[len("torch."):])
        except TypeError:
            return None
    return None


def _bump(t):
    """Mark ``t`` as changed in place (so the tape notices if it saved the old values)."""
    t._version += 1


class Parameter(Tensor):
    """A Tensor that is a module parameter: it requires grad, and assigning it to a Module
    attribute registers it. ``Parameter(t)`` shares ``t``'s storage and version counter, as in PyTorch;
    ``Parameter()`` is an empty (0,) tensor of the default dtype.

    >>> import autograd_core as ag, nn
    >>> p = nn.Parameter(ag.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    >>> p
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Tensor | np.ndarray | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), ag.get_default_dtype())
        src = data if isinstance(data, Tensor) else None
        if src is not None:
            data = src._data
        Tensor.__init__(self, data, requires_grad=requires_grad)
        if src is not None:
            self._vc = ag.graph.counter(src)   # same storage, same version counter (as PyTorch)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__


class Buffer(Tensor):
    """A Tensor that is a module buffer: assigning it to a Module attribute registers it, as
    ``register_buffer(name, data, persistent)`` would (PyTorch's ``nn.Buffer``). ``Buffer(t)`` shares
    ``t``'s storage; ``persistent=False`` keeps it out of the state dict.

    >>> import autograd_core as ag, nn
    >>> m = nn.Module()
    >>> m.steps = nn.Buffer(ag.zeros(1))
    >>> list(m.state_dict()), dict(m.named_buffers())["steps"]
    (['steps'], tensor([0.]))
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor | np.ndarray | None = None, *, persistent: bool = True) -> None:
        if data is None:
            data = np.empty((0,), ag.get_default_dtype())
        src = data if isinstance(data, Tensor) else None
        Tensor.__init__(self, src._data if src is not None else np.asarray(data),
                        requires_grad=bool(src is not None and src.requires_grad))
        if src is not None:
            self._vc = ag.graph.counter(src)
        self.persistent = bool(persistent)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: ``(missing_keys, unexpected_keys)``, printed as PyTorch prints it
    (``<All keys matched successfully>`` when both are empty).

    >>> _IncompatibleKeys([], [])
    <All keys matched successfully>
    >>> _IncompatibleKeys(["bias"], [])
    _IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
    """

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, unexpected_keys={self.unexpected_keys!r})"

    __str__ = __repr__


class _RemovableHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = next(self._ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookedInputs(ag.autograd.Function):
    """Identity on a module's tensor inputs, so that one backward node receives all their gradients at
    once and hands them to the module's backward hooks."""

    @staticmethod
    def forward(ctx, call, *xs):
        ctx.call = call
        return tuple(x.view(x.shape) for x in xs)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.call.input_grads(grads))


class _BackwardHooks:
    """One call of a module with backward hooks: its inputs go through ``_HookedInputs`` and its outputs
    get tensor hooks that collect their gradients (and run the pre-hooks)."""

    def __init__(self, module):
        self.module = module
        self.grad_outputs = []
        self.pending = 0          # output gradients still to come
        self.has_inputs = False

    def wrap_inputs(self, args):
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not pos:
            return args
        self.has_inputs = True
        outs = _HookedInputs.apply(self, *(args[i] for i in pos))
        outs = outs if isinstance(outs, tuple) else (outs,)
        args = list(args)
        for i, t in zip(pos, outs):
            args[i] = t
        return tuple(args)

    def watch_outputs(self, out):
        outs = out if isinstance(out, tuple) else (out,)
        watched = [t for t in outs if isinstance(t, Tensor) and t.requires_grad]
        self.grad_outputs = [None] * len(outs)
        if self.module.__dict__.get("_backward_pre_hooks") and len(watched) > 1:
            raise NotImplementedError(f"{type(self.module).__name__}: register_full_backward_pre_hook supports "
                                      f"modules with one tensor output here, got {len(watched)}; use "
                                      "register_full_backward_hook, or a hook on each output tensor")
        self.pending = len(watched)
        for k, t in enumerate(outs):
            if isinstance(t, Tensor) and t.requires_grad:
                t.register_hook(lambda g, k=k: self.output_grad(k, g))

    def output_grad(self, k, g):
        for hook in list(self.module.__dict__.get("_backward_pre_hooks", {}).values()):
            r = hook(self.module, (g,))
            if r is not None:
                g = r[0] if isinstance(r, (tuple, list)) else r
        self.grad_outputs[k] = g
        self.pending -= 1
        if self.pending == 0 and not self.has_inputs:
            self.input_grads((None,))       # no input needs a gradient: PyTorch still calls the hooks
        return g

    def input_grads(self, grads):
        grads = tuple(grads)
        for hook in list(self.module.__dict__.get("_backward_hooks", {}).values()):
            r = hook(self.module, grads, tuple(self.grad_outputs))
            if r is not None:
                r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                if len(r) != len(grads):
                    raise ValueError(f"{type(self.module).__name__} backward hook: returned {len(r)} gradients "
                                     f"for {len(grads)} inputs; return a tuple with one per input (or None)")
                grads = r
        return grads


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


class Module:
    """Base class of every layer and model, as ``torch.nn.Module``. Subclasses set attributes in
    ``__init__`` (after ``super().__init__()``) and define ``forward``; calling the module runs the
    forward pre-hooks, ``forward`` and the forward hooks.

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so ``parameters()``,
    ``state_dict()``, ``to()``, ``train()``/``eval()`` and ``repr`` see it under the attribute's name.

    >>> import autograd_core as ag, nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(3, 2)
    ...     def forward(self, x):
    ...         return ag.relu(self.fc(x))
    >>> net = Net()
    >>> net(ag.ones(4, 3)).shape
    (4, 2)
    >>> [name for name, _ in net.named_parameters()]
    ['fc.weight', 'fc.bias']
    >>> net
    Net(
      (fc): Linear(in_features=3, out_features=2, bias=True)
    )
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation; subclasses define it. Call the module (``module(x)``) rather than
        ``forward`` directly, so that its hooks run. (A layer's shapes are in its class docstring.)

        >>> import autograd_core as ag, nn
        >>> layer = nn.Linear(3, 2)
        >>> layer.forward(ag.ones(1, 3)).shape == layer(ag.ones(1, 3)).shape
        True
        """
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define forward(self, ...) in the "
                                  "subclass")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        backward = d.get("_backward_hooks") or d.get("_backward_pre_hooks")
        if not (self._forward_hooks or self._forward_pre_hooks or backward):
            return self.forward(*args, **kwargs)
        with_kwargs = d.get("_hooks_with_kwargs") or ()
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in with_kwargs:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {r!r}.")
                    args, kwargs = r
                continue
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        call = _BackwardHooks(self) if backward and ag.is_grad_enabled() else None
        if call is not None:
            args = call.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hid, hook in list(self._forward_hooks.items()):
            r = hook(self, args, kwargs, out) if hid in with_kwargs else hook(self, args, out)
            if r is not None:
                out = r
        if call is not None:
            call.watch_outputs(out)
        return out

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs in backward once the gradients with respect to the
        module's positional tensor inputs are computed: tuples, None for an input (or output) that gets
        none. A non-None return (a tuple) replaces ``grad_input``. As ``torch.nn.Module``'s; the hook must
        not change its arguments in place. Returns a handle with ``remove()``.

        >>> import autograd_core as ag, nn
        >>> layer = nn.Linear(2, 1)
        >>> seen = []
        >>> h = layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].shape, go[0].shape)))
        >>> layer(ag.ones(3, 2, requires_grad=True)).sum().backward()
        >>> seen
        [((3, 2), (3, 1))]
        """
        h = _RemovableHandle(self.__dict__.setdefault("_backward_hooks", OrderedDict()))
        self._backward_hooks[h.id] = hook
        return h

    def register_backward_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """PyTorch's older name: registers ``hook`` as ``register_full_backward_hook`` does (PyTorch's old
        hook saw the last op's inputs instead of the module's, which it documents as a bug).

        >>> import nn
        >>> nn.ReLU().register_backward_hook(lambda m, gi, go: None).remove()
        """
        return self.register_full_backward_hook(hook)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """``hook(module, grad_output)`` runs in backward when the gradient with respect to the module's
        output is computed, before the gradients of its inputs; a non-None return (a tuple) replaces
        ``grad_output``. As ``torch.nn.Module``'s, for modules with one tensor output. Returns a handle.

        >>> import autograd_core as ag, nn
        >>> layer = nn.Linear(2, 1)
        >>> x = ag.ones(1, 2, requires_grad=True)
        >>> h = layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
        >>> layer(x).sum().backward()
        >>> bool(ag.allclose(x.grad, 10 * layer.weight.detach()))
        True
        """
        h = _RemovableHandle(self.__dict__.setdefault("_backward_pre_hooks", OrderedDict()))
        self._backward_pre_hooks[h.id] = hook
        return h

    def _add_forward_hook(self, registry, hook, prepend, with_kwargs):
        h = _RemovableHandle(registry)
        registry[h.id] = hook
        if prepend:
            registry.move_to_end(h.id, last=False)
        if with_kwargs:
            self.__dict__.setdefault("_hooks_with_kwargs", set()).add(h.id)
        return h

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> _RemovableHandle:
        """``hook(module, inputs, output)`` runs after each forward; a non-None return replaces the output.
        Returns a handle whose ``remove()`` unregisters the hook (it is also a context manager). As in
        PyTorch, ``with_kwargs=True`` calls ``hook(module, inputs, kwargs, output)``, ``prepend=True`` runs it
        before the hooks already registered; ``always_call`` is accepted.

        >>> import autograd_core as ag, nn
        >>> layer = nn.Linear(3, 2)
        >>> shapes = []
        >>> handle = layer.register_forward_hook(lambda mod, inputs, out: shapes.append(out.shape))
        >>> _ = layer(ag.ones(4, 3)); shapes
        [(4, 2)]
        >>> handle.remove()
        """
        return self._add_forward_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> _RemovableHandle:
        """``hook(module, inputs)`` runs before each forward with the positional inputs as a tuple; a
        non-None return (a tuple, or one value) replaces them. Returns a handle with ``remove()``. As in
        PyTorch, ``with_kwargs=True`` calls ``hook(module, inputs, kwargs)``, which returns None or
        ``(new_inputs, new_kwargs)``; ``prepend=True`` runs it before the hooks already registered.

        >>> import autograd_core as ag, nn
        >>> relu = nn.ReLU()
        >>> with relu.register_forward_pre_hook(lambda mod, inputs: (-inputs[0],)):
        ...     relu(ag.tensor([1.0, -2.0]))
        tensor([0., 2.])
        """
        return self._add_forward_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    # -- registration -----------------------------------------------------------------------
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call "
                                 f"(call super().__init__() first in {type(self).__name__}.__init__)")

    @staticmethod
    def _check_name(name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"{kind} name can't contain '.' or be empty, got {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a Parameter, or None for an absent one such as ``bias=False``) as ``name``;
        the same as assigning it to the attribute.

        >>> import autograd_core as ag, nn
        >>> m = nn.Module()
        >>> m.register_parameter("scale", nn.Parameter(ag.ones(1)))
        >>> [name for name, _ in m.named_parameters()]
        ['scale']
        """
        self._check_init("parameters")
        self._check_name(name, "parameter")
        if hasattr(type(self), name) or (name in self.__dict__ and name not in self._parameters):
            raise KeyError(f"attribute {name!r} already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r} "
                            "(nn.Parameter or None expected)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None, persistent: bool = True) -> None:
        """Add a non-trainable tensor (running statistics, say) that is saved in the state dict
        unless ``persistent=False``, and converted by ``.to(dtype)``. An ndarray is wrapped as a Tensor.

        >>> import autograd_core as ag, nn
        >>> m = nn.Module()
        >>> m.register_buffer("count", ag.zeros(1))
        >>> m.register_buffer("cache", ag.zeros(2), persistent=False)
        >>> list(m.state_dict()), [name for name, _ in m.named_buffers()]
        (['count'], ['count', 'cache'])
        """
        self._check_init("buffers")
        self._check_name(name, "buffer")
        if hasattr(type(self), name) or (name in self.__dict__ and name not in self._buffers):
            raise KeyError(f"attribute {name!r} already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            if isinstance(tensor, np.ndarray):
                tensor = Tensor(tensor)
            else:
                raise TypeError(f"cannot assign {type(tensor).__name__} as buffer {name!r} "
                                "(Tensor, ndarray or None expected)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module as ``name`` (None is allowed as a placeholder); the same as assigning it
        to the attribute. ``register_module`` is another name for it.

        >>> import nn
        >>> m = nn.Module()
        >>> m.add_module("act", nn.ReLU())
        >>> m
        Module(
          (act): ReLU()
        )
        """
        self._check_init("child modules")
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(type(self), name) and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        # a parameter, buffer or module replacing one of its own kind keeps its place in the state dict
        # and in parameters() (PyTorch's order, which optimizer state dicts index by)
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._drop(name, keep="_parameters")
            self.register_parameter(name, value)
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(nn.Parameter or None expected)")
            d["_parameters"][name] = None
        elif isinstance(value, Buffer):
            self._check_init("buffers")
            self._drop(name, keep="_buffers")
            self.register_buffer(name, value, persistent=value.persistent)
        elif isinstance(value, Module):
            self._check_init("child modules")
            self._drop(name, keep="_modules")
            self._modules[name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                                "(Module or None expected)")
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _drop(self, name, keep=None):
        """Forget ``name`` as an attribute, parameter, buffer and module, but in the registry ``keep`` (the
        kind about to be assigned), where the new value takes the old one's place."""
        d = self.__dict__
        d.pop(name, None)
        for k in ("_parameters", "_buffers", "_modules"):
            if k != keep:
                d[k].pop(name, None)
        d["_non_persistent"].discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for k in ("_parameters", "_buffers", "_modules"):
            if k in d and name in d[k]:
                return d[k][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for k in ("_parameters", "_buffers", "_modules"):
            if name in d.get(k, ()):
                del d[k][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # -- traversal --------------------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module (name ``prefix``, '' by default) and every submodule,
        depth first, each once (``remove_duplicate=False``: a shared module under each of its names).

        >>> import nn
        >>> model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
        >>> [name for name, _ in model.named_modules()]
        ['', '0', '1', '1.0']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, depth first, each once (``named_modules`` without names).

        >>> import nn
        >>> [type(m).__name__ for m in nn.Sequential(nn.Linear(2, 2), nn.ReLU()).modules()]
        ['Sequential', 'Linear', 'ReLU']
        """
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of the direct submodules, in registration order, each once.

        >>> import nn
        >>> [name for name, _ in nn.Sequential(nn.Linear(2, 2), nn.ReLU()).named_children()]
        ['0', '1']
        """
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct submodules, in registration order, each once.

        >>> import nn
        >>> list(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).children())
        [Linear(in_features=2, out_features=2, bias=True), ReLU()]
        """
        for _, m in self.named_children():
            yield m

    def _named_members(self, kind, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, t in getattr(m, kind).items():
                if t is None:
                    continue
                if remove_duplicate:
                    if id(t) in seen:
                        continue
                    seen.add(id(t))
                yield mprefix + ("." if mprefix else "") + name, t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs, submodules' too unless ``recurse=False``; a parameter shared
        by two layers is listed once (``remove_duplicate=False``: under each name).

        >>> import nn
        >>> [(name, p.shape) for name, p in nn.Linear(3, 2).named_parameters()]
        [('weight', (2, 3)), ('bias', (2,))]
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter (submodules' too unless ``recurse=False``), each once: what an optimizer takes.

        >>> import nn
        >>> sum(p.numel() for p in nn.Linear(3, 2).parameters())
        8
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) of every buffer (non-persistent ones too), submodules' too unless
        ``recurse=False``.

        >>> import nn
        >>> [name for name, _ in nn.Sequential(nn.BatchNorm1d(2)).named_buffers()]
        ['0.running_mean', '0.running_var', '0.num_batches_tracked']
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer tensor (running statistics, say), submodules' too unless ``recurse=False``.

        >>> import nn
        >>> [b.shape for b in nn.BatchNorm1d(2).buffers()]
        [(2,), (2,), ()]
        """
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` ('' is self); AttributeError if there is none.

        >>> import nn
        >>> nn.Sequential(nn.Sequential(nn.ReLU(), nn.Tanh())).get_submodule("0.1")
        Tanh()
        """
        m = self
        if target == "":
            return m
        for part in target.split("."):
            sub = m._modules.get(part)
            if sub is None:
                raise AttributeError(f"{type(m).__name__} has no submodule {part!r} (looking up {target!r})")
            m = sub
        return m

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"0.weight"``); AttributeError if there is none.

        >>> import nn
        >>> nn.Sequential(nn.Linear(3, 2)).get_parameter("0.weight").shape
        (2, 3)
        """
        mod, _, name = target.rpartition(".")
        m = self.get_submodule(mod)
        if name not in m._parameters:
            raise AttributeError(f"{type(m).__name__} has no parameter {name!r}")
        return m._parameters[name]

    # -- modes and gradients ----------------------------------------------------------------
    def train(self: _M, mode: bool = True) -> _M:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here, then call each
        child's own ``train(mode)``, as PyTorch does, so a subclass that overrides ``train`` (a
        BatchNorm kept frozen while fine-tuning, say) is obeyed. Returns self.

        >>> import nn
        >>> model = nn.Sequential(nn.Dropout(0.5)).train()
        >>> model.training, model[0].training
        (True, True)
        """
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode is expected to be a bool, got {type(mode).__name__}")
        self.__dict__["training"] = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self: _M) -> _M:
        """Evaluation mode: ``train(False)`` (Dropout is the identity, BatchNorm uses its running
        statistics). Returns self.

        >>> import nn
        >>> model = nn.Sequential(nn.Dropout(0.5)).eval()
        >>> model.training, model[0].training
        (False, False)
        """
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        """Set ``requires_grad`` of every parameter (False freezes the module); returns self.

        >>> import nn
        >>> layer = nn.Linear(3, 2).requires_grad_(False)
        >>> [p.requires_grad for p in layer.parameters()]
        [False, False]
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none=True``) or fill it with zeros.

        >>> import autograd_core as ag, nn
        >>> layer = nn.Linear(3, 2)
        >>> layer(ag.ones(1, 3)).sum().backward()
        >>> layer.zero_grad(set_to_none=False); layer.bias.grad
        tensor([0., 0.])
        >>> layer.zero_grad(); layer.bias.grad is None
        True
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
                p.grad._data[...] = 0
                _bump(p.grad)

    def apply(self: _M, fn: Callable[[Module], object]) -> _M:
        """Call ``fn(m)`` on every submodule (children first) and on self; returns self. The usual
        way to re-initialize a model.

        >>> import nn
        >>> def init_weights(m):
        ...     if isinstance(m, nn.Linear):
        ...         nn.init.zeros_(m.weight)
        >>> model = nn.Sequential(nn.Linear(2, 2), nn.ReLU()).apply(init_weights)
        >>> model[0].weight
        Parameter containing:
        tensor([[0., 0.],
                [0., 0.]], requires_grad=True)
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- dtype conversion -------------------------------------------------------------------
    def _apply_arrays(self, convert):
        """Replace the arrays of parameters, their grads and buffers in place, keeping the objects
        (so an optimizer built before the conversion still holds the same parameters)."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p._data = convert(p._data)
                if p.grad is not None:
                    p.grad._data = convert(p.grad._data)
            for name, b in m._buffers.items():
                if b is not None:
                    b._data = convert(b._data)
        return self

    def to(self: _M, *args: Any, device: Any = None, dtype: Any = None, non_blocking: bool = False,
           memory_format: Any = None) -> _M:
        """Convert in place and return self, as ``torch.nn.Module.to``: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``, ``to(tensor)`` (its dtype) or keywords.

        A dtype casts the floating parameters, their gradients and the floating buffers (integer
        buffers such as ``num_batches_tracked`` keep theirs). The device may be ``'cpu'``, ``'cpu:0'``
        or any object whose ``str()`` is such a name (``ag.device('cpu')``, ``torch.device('cpu')``);
        this engine runs on the CPU only, so ``'cuda'``, ``'mps'`` and the like raise a RuntimeError.
        ``non_blocking`` and ``memory_format`` are accepted and have nothing to do here.

        >>> import autograd_core as ag, nn
        >>> lin = nn.Linear(2, 3).to("cpu", ag.float64)
        >>> lin.weight.dtype
        dtype('float64')
        """
        given = list(args)
        if len(given) > 1 and isinstance(given[-1], bool):
            given.pop()  # non_blocking, given positionally: nothing to wait for on the CPU
        for a in given:
            if isinstance(a, Tensor):
                dtype = a.dtype
                continue
            dt = _as_dtype(a)
            if dt is not None:
                dtype = dt
            elif _device_type(a) is not None:
                device = a
            else:
                raise TypeError(f"Module.to: expected a device ('cpu'), a dtype or a tensor, got {a!r}")
        _check_device(device, "Module.to")
        if dtype is None:
            return self
        dt = _as_dtype(dtype)
        if dt is None or dt.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are accepted, got {dtype!r}")
        return self._apply_arrays(lambda a: a.astype(dt) if a.dtype.kind == "f" and a.dtype != dt else a)

    def type(self: _M, dst_type: Any) -> _M:
        """Cast every floating parameter and buffer to ``dst_type`` (a floating dtype); returns self.

        >>> import numpy as np, nn
        >>> nn.Linear(2, 1).type(np.float64).weight.dtype
        dtype('float64')
        """
        return self.to(dst_type)

    def double(self: _M) -> _M:
        """Floating parameters and buffers to float64; returns self.

        >>> import nn
        >>> nn.Linear(2, 1).double().bias.dtype
        dtype('float64')
        """
        return self.to(np.float64)

    def float(self: _M) -> _M:
        """Floating parameters and buffers to float32; returns self.

        >>> import nn
        >>> nn.Linear(2, 1).double().float().bias.dtype
        dtype('float32')
        """
        return self.to(np.float32)

    def half(self: _M) -> _M:
        """Floating parameters and buffers to float16; returns self.

        >>> import nn
        >>> nn.Linear(2, 1).half().bias.dtype
        dtype('float16')
        """
        return self.to(np.float16)

    def cpu(self: _M) -> _M:
        """Everything already lives on the CPU: returns self.

        >>> import nn
        >>> layer = nn.Linear(2, 1)
        >>> layer.cpu() is layer
        True
        """
        return self

    def cuda(self: _M, device: Any = None) -> _M:
        """Refused: this engine runs on the CPU only (see ``to``).

        >>> import nn
        >>> nn.Linear(2, 1).cuda()
        Traceback (most recent call last):
        ...
        RuntimeError: Module.cuda: this engine runs on the CPU only (NumPy arrays), so there is no 'cuda' device. ...
        """
        _check_device("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device,
                      "Module.cuda")
        return self

    def share_memory(self: _M) -> _M:
        """Move every parameter and buffer (and gradient that exists) into memory shared between
        processes (``Tensor.share_memory_``), for Hogwild training; returns self, as PyTorch.

        >>> import nn
        >>> layer = nn.Linear(2, 1)
        >>> layer.share_memory() is layer, layer.weight.is_shared()
        (True, True)
        """
        for t in list(self.parameters()) + list(self.buffers()):
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    # -- state dict -------------------------------------------------------------------------
    def state_dict(self, destination: dict[str, Tensor] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Ordered dict of dotted name -> tensor for every parameter and persistent buffer (names
        start with ``prefix``; ``destination``: fill this dict instead of a new OrderedDict).

        Values are detached Tensors sharing memory with the module (``keep_vars=True`` gives the
        Parameters themselves), as in PyTorch; copy them if the module will keep training.

        >>> import nn
        >>> sd = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).state_dict()
        >>> list(sd)
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']
        >>> sd["0.weight"].shape
        (2, 3)
        """
        if destination is None:
            destination = OrderedDict()
        hooks = self.__dict__.get("_sd_hooks")
        if hooks:
            for hook in list(hooks["state_dict_pre"].values()):
                hook(self, prefix, keep_vars)
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        if hooks:
            for hook in list(hooks["state_dict_post"].values()):
                r = hook(self, destination, prefix, {})
                if r is not None:
                    destination = r
        return destination

    # -- state dict hooks (PyTorch's names and calling conventions) ----------------------------------
    def _sd_hook(self, kind, hook):
        hooks = self.__dict__.setdefault("_sd_hooks", {k: OrderedDict() for k in (
            "state_dict_pre", "state_dict_post", "load_pre", "load_post")})
        h = _RemovableHandle(hooks[kind])
        hooks[kind][h.id] = hook
        return h

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before ``state_dict`` collects this module's entries.

        >>> import nn
        >>> seen = []
        >>> _ = nn.Linear(1, 1).register_state_dict_pre_hook(lambda m, prefix, keep_vars: seen.append(prefix))
        """
        return self._sd_hook("state_dict_pre", hook)

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after ``state_dict`` collected this
        module's entries (and its children's); it may change ``state_dict`` in place.

        >>> import nn
        >>> m = nn.Linear(1, 1)
        >>> _ = m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd.pop(prefix + "bias") and None)
        >>> list(m.state_dict())
        ['weight']
        """
        def post(module, sd, prefix, meta):
            if hook(module, sd, prefix, meta) is not None:
                raise RuntimeError("state_dict post-hook must return None (change the state dict in place)")
        return self._sd_hook("state_dict_post", post)

    def _register_state_dict_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """PyTorch's private form: ``hook(module, state_dict, prefix, local_metadata)``; a non-None return
        replaces the state dict.

        >>> import nn
        >>> _ = nn.Linear(1, 1)._register_state_dict_hook(lambda mod, sd, prefix, meta: None)
        """
        return self._sd_hook("state_dict_post", hook)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` runs before ``load_state_dict`` reads this module's entries; it may rename or change
        entries of ``state_dict`` (a copy of the one passed), as checkpoint-upgrade code does.

        >>> import autograd_core as ag, nn
        >>> m = nn.Linear(1, 1)
        >>> def rename(mod, sd, prefix, *rest):
        ...     if prefix + "w" in sd:
        ...         sd[prefix + "weight"] = sd.pop(prefix + "w")
        >>> _ = m.register_load_state_dict_pre_hook(rename)
        >>> m.load_state_dict({"w": ag.ones(1, 1), "bias": ag.zeros(1)})
        <All keys matched successfully>
        """
        return self._sd_hook("load_pre", hook)

    def _register_load_state_dict_pre_hook(self, hook: Callable[..., Any], with_module: bool = False
                                           ) -> _RemovableHandle:
        """PyTorch's private form: ``hook(state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` (with the module first when ``with_module``).

        >>> import nn
        >>> _ = nn.Linear(1, 1)._register_load_state_dict_pre_hook(lambda sd, prefix, *rest: None)
        """
        if with_module:
            return self._sd_hook("load_pre", hook)
        return self._sd_hook("load_pre", lambda module, *args: hook(*args))

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> _RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after ``load_state_dict`` copied the values; it may
        remove keys from ``incompatible_keys.missing_keys`` / ``unexpected_keys`` in place (which then
        don't fail a strict load).

        >>> import autograd_core as ag, nn
        >>> m = nn.Linear(1, 1)
        >>> _ = m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
        >>> m.load_state_dict({"weight": ag.ones(1, 1)})
        <All keys matched successfully>
        """
        return self._sd_hook("load_post", hook)

    def _state_targets(self):
        out = OrderedDict()
        for mprefix, m in self.named_modules(remove_duplicate=False):
            pre = mprefix + "." if mprefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[pre + name] = p
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    out[pre + name] = b
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` (name -> Tensor or ndarray) into the parameters and buffers,
        in place (an optimizer built before keeps working).

        With ``assign=True`` the state dict's tensors themselves take the places of the parameters and
        buffers, as PyTorch's: their dtype is kept (no cast), a parameter becomes
        ``Parameter(value, requires_grad=old.requires_grad)`` sharing the value's storage (a Parameter
        value is kept as is), and an optimizer built before still holds the old tensors (build it after).
        A read-only array (as files can give) is copied, so the new parameter can be trained.

        Everything is checked first: a shape mismatch, or with ``strict=True`` a missing or unexpected
        key, raises one RuntimeError listing all problems, and nothing is changed. Values are cast to
        each parameter's dtype. Returns ``(missing_keys, unexpected_keys)``.

        >>> import nn
        >>> src, dst = nn.Linear(3, 2), nn.Linear(3, 2)
        >>> dst.load_state_dict(src.state_dict())
        <All keys matched successfully>
        >>> bool((dst.weight == src.weight).all())
        True
        >>> dst.load_state_dict({"weight": src.weight}, strict=False).missing_keys
        ['bias']
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict of name -> tensor, got {type(state_dict).__name__}")
        for name, m in self.named_modules():
            # a lazy module (nn.lazy) not run yet takes its sizes from the saved weights, as PyTorch's
            if getattr(m, "has_uninitialized_params", None) is not None and m.has_uninitialized_params():
                size = m._size_in_state(state_dict, name + "." if name else "")
                if size is not None:
                    m.initialize_parameters(size)
        hooked = [(name, m, m.__dict__["_sd_hooks"]) for name, m in self.named_modules()
                  if m.__dict__.get("_sd_hooks")]
        pre_missing: list[str] = []
        pre_unexpected: list[str] = []
        pre_errors: list[str] = []
        if any(h["load_pre"] for _, _, h in hooked):
            state_dict = OrderedDict(state_dict)  # the hooks may change it; the caller's stays as it was
            for name, m, h in hooked:
                for hook in list(h["load_pre"].values()):
                    hook(m, state_dict, name + "." if name else "", {}, strict, pre_missing, pre_unexpected,
                         pre_errors)
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict] + pre_missing
        unexpected = [k for k in state_dict if k not in targets] + pre_unexpected
        problems = list(pre_errors)
        post_hooks = [(m, hook) for _, m, h in hooked for hook in h["load_post"].values()]
        values = {}
        for k, t in targets.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v._data if isinstance(v, Tensor) else v
            try:
                arr = np.asarray(arr)
            except Exception:  # noqa: BLE001 - reported below with the key
                arr = None
            if arr is None or arr.dtype.kind not in "biuf":
                problems.append(f'While copying the parameter named "{k}", expected a numeric tensor or array, '
                                f"got {type(v).__name__}.")
                continue
            if arr.shape != t._data.shape:
                problems.append(f"size mismatch for {k}: copying a param with shape {arr.shape} from checkpoint, "
                                f"the shape in current model is {t._data.shape}.")
                continue
            try:  # cast now: a cast that fails (a NaN into an int buffer with warnings as errors) must fail
                values[k] = arr.astype(t._data.dtype, copy=False)  # before anything has been copied
            except Exception as e:  # noqa: BLE001 - reported below with the key
                problems.append(f'While copying the parameter named "{k}", casting {arr.dtype} to '
                                f"{t._data.dtype} failed: {e}")
                continue
            if not assign and not t._data.flags.writeable:
                problems.append(f'While copying the parameter named "{k}", the tensor in the current model is '
                                "read-only.")
        if post_hooks and not problems:
            # PyTorch's order with post hooks: copy, run the hooks (which may forgive keys), then the strict check
            self._put_state(targets, values, state_dict, assign)
            values = {}
            keys = _IncompatibleKeys(missing, unexpected)
            for m, hook in post_hooks:
                if hook(m, keys) is not None:
                    raise RuntimeError("load_state_dict post hook must return None (change incompatible_keys in "
                                       "place instead)")
        if strict:
            if unexpected:
                problems.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                                + ".")
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems))
        self._put_state(targets, values, state_dict, assign)
        return _IncompatibleKeys(missing, unexpected)

    def _put_state(self, targets, values, state_dict, assign):
        """Write the checked ``values`` (key -> array cast to the target's dtype): in place, or with
        ``assign`` by putting ``state_dict``'s own tensors in the targets' places."""
        if not assign:
            for k, arr in values.items():
                t = targets[k]
                t._data[...] = arr  # in place, casting to the parameter's dtype
                _bump(t)
            return
        # every module holding a target (a shared module is reached under each of its names)
        owners = {}
        for mprefix, m in self.named_modules(remove_duplicate=False):
            pre = mprefix + "." if mprefix else ""
            for name in list(m._parameters) + list(m._buffers):
                owners[pre + name] = (m, name)
        for k in values:
            v = state_dict[k]
            if not isinstance(v, Tensor):
                v = ag.from_numpy(np.array(v))
            elif not v._data.flags.writeable:
                v = v.detach().clone()
            m, name = owners[k]
            old = targets[k]
            if name in m._parameters:
                if isinstance(v, Parameter):
                    v.requires_grad_(old.requires_grad)
                else:
                    v = Parameter(v.detach(), requires_grad=old.requires_grad)
                m._parameters[name] = v
            else:
                m._buffers[name] = v

    # -- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown inside this layer's parentheses in ``repr``; override it in a subclass.

        >>> import nn
        >>> nn.Linear(3, 2).extra_repr()
        'in_features=3, out_features=2, bias=True'
        """
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(m), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


# -- containers ---------------------------------------------------------------------------------
class _ModuleSeq(Module):
    """What Sequential and ModuleList share: integer indexing, len, iteration, append, renumbering."""

    def _index(self, idx):
        n = len(self._modules)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length {n}")
        return idx % n

    def _renumber(self, items):
        """Re-register ``items`` as '0', '1', ... (indices stay 0..n-1 after a deletion, as PyTorch)."""
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self: _S, module: Module) -> _S:
        """Add ``module`` at the end; returns self.

        >>> import nn
        >>> nn.Sequential(nn.Linear(2, 2)).append(nn.ReLU())
        Sequential(
          (0): Linear(in_features=2, out_features=2, bias=True)
          (1): ReLU()
        )
        """
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSeq):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``; the submodules are named
    '0', '1', ...

    Also ``Sequential(OrderedDict(name=module, ...))``. Indexing (negative too) gives a module, a
    slice gives a new Sequential sharing the modules; ``len``, iteration, ``append``, ``extend``,
    ``insert``, ``del`` and ``+`` work.

    >>> import autograd_core as ag, nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> model(ag.ones(2, 4)).shape
    (2, 1)
    >>> len(model), model[-1]
    (3, Linear(in_features=8, out_features=1, bias=True))
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (dict, OrderedDict)):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    @overload
    def __getitem__(self, idx: slice) -> Sequential: ...
    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._index(idx)]
        self.add_module(key, module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for key in list(self._modules.keys())[idx]:
                del self._modules[key]
        else:
            del self._modules[list(self._modules.keys())[self._index(idx)]]
        if all(k.isdigit() for k in self._modules):
            self._renumber(list(self._modules.values()))

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise TypeError(f"can only add Sequential to Sequential, got {type(other).__name__}")
        return Sequential(*self, *other)

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append each of ``modules`` in order; returns self.

        >>> import nn
        >>> len(nn.Sequential(nn.Linear(2, 2)).extend([nn.ReLU(), nn.Linear(2, 1)]))
        3
        """
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put ``module`` before position ``index`` (negative counts from the end) and renumber;
        returns self.

        >>> import nn
        >>> nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)).insert(1, nn.ReLU())
        Sequential(
          (0): Linear(in_features=2, out_features=2, bias=True)
          (1): ReLU()
          (2): Linear(in_features=2, out_features=1, bias=True)
        )
        """
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"insert: index {index} is out of range for Sequential of length {n}")
        index = index % (n + 1) if index < 0 else index
        items = list(self._modules.values())
        items.insert(index, module)
        self._renumber(items)
        return self

    def forward(self, x: Any) -> Any:
        """Feed ``x`` through the modules in order; each one's output is the next one's input.

        >>> import autograd_core as ag, nn
        >>> nn.Sequential(nn.ReLU(), nn.Tanh()).forward(ag.tensor([-1.0, 0.0]))
        tensor([0., 0.])
        """
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_ModuleSeq):
    """A list of modules whose parameters are registered (a plain list would hide them), named
    '0', '1', ... It has no ``forward``: iterate over it in your own.

    >>> import autograd_core as ag, nn
    >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    >>> x = ag.ones(2, 4)
    >>> for layer in layers:
    ...     x = ag.relu(layer(x))
    >>> x.shape, len(list(layers.parameters()))
    ((2, 4), 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @overload
    def __getitem__(self, idx: slice) -> ModuleList: ...
    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx, module):
        self.add_module(str(self._index(idx)), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[self._index(idx)]
        self._renumber(items)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def __repr__(self):
        """PyTorch's ModuleList repr: a run of modules that print the same is one line, ``(0-11): 12 x Block(...)``.

        >>> import nn
        >>> print(nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]))
        ModuleList(
          (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)
          (2): ReLU()
        )
        """
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = [[0, 0, reprs[0]]]
        for i, r in enumerate(reprs[1:], 1):
            if r == runs[-1][2]:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [_addindent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}", 2) for a, b, r in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of ``modules`` in order; returns self (``+=`` does the same).

        >>> import nn
        >>> len(nn.ModuleList([nn.ReLU()]).extend([nn.Tanh(), nn.Sigmoid()]))
        3
        """
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend should be called with an iterable of modules, got a single "
                            f"{type(modules).__name__}")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (as ``list.insert``) and renumber.

        >>> import nn
        >>> layers = nn.ModuleList([nn.ReLU(), nn.Sigmoid()])
        >>> layers.insert(1, nn.Tanh())
        >>> [type(m).__name__ for m in layers]
        ['ReLU', 'Tanh', 'Sigmoid']
        """
        items = list(self._modules.values())
        items.insert(index, module)
        self._renumber(items)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: a ModuleList has no forward (NotImplementedError); iterate over it in your own.

        >>> import nn
        >>> nn.ModuleList([nn.ReLU()])(1.0)
        Traceback (most recent call last):
        ...
        NotImplementedError: ModuleList has no forward(); iterate over it in your own forward()
        """
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your own forward()")


class ModuleDict(Module):
    """A dict of modules (insertion-ordered) whose parameters are registered under their keys.
    It has no ``forward``: index it in your own.

    >>> import autograd_core as ag, nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    >>> heads["box"](ag.ones(1, 4)).shape
    (1, 2)
    >>> list(heads.keys()), [name for name, _ in heads.named_parameters()][:2]
    (['cls', 'box'], ['cls.weight', 'cls.bias'])
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self) -> Any:
        """The keys, in insertion order.

        >>> import nn
        >>> list(nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()}).keys())
        ['a', 'b']
        """
        return self._modules.keys()

    def values(self) -> Any:
        """The modules, in insertion order.

        >>> import nn
        >>> list(nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()}).values())
        [ReLU(), Tanh()]
        """
        return self._modules.values()

    def items(self) -> Any:
        """(key, module) pairs, in insertion order.

        >>> import nn
        >>> list(nn.ModuleDict({"a": nn.ReLU()}).items())
        [('a', ReLU())]
        """
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove the module at ``key`` and return it (KeyError naming the keys if there is none).

        >>> import nn
        >>> d = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()})
        >>> d.pop("a"), list(d.keys())
        (ReLU(), ['b'])
        """
        m = self[key]
        del self._modules[key]
        return m

    def clear(self) -> None:
        """Remove every module.

        >>> import nn
        >>> d = nn.ModuleDict({"a": nn.ReLU()})
        >>> d.clear(); len(d)
        0
        """
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) the modules of a mapping or of an iterable of (key, module) pairs.

        >>> import nn
        >>> d = nn.ModuleDict({"a": nn.ReLU()})
        >>> d.update([("b", nn.Tanh()), ("a", nn.Sigmoid())])
        >>> list(d.items())
        [('a', Sigmoid()), ('b', Tanh())]
        """
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: a ModuleDict has no forward (NotImplementedError); index it in your own.

        >>> import nn
        >>> nn.ModuleDict({"act": nn.ReLU()})(1.0)
        Traceback (most recent call last):
        ...
        NotImplementedError: ModuleDict has no forward(); index it in your own forward()
        """
        raise NotImplementedError("ModuleDict has no forward(); index it in your own forward()")


# -- summary ------------------------------------------------------------------------------------
def _shape_of(out):
    if isinstance(out, Tensor):
        return list(out.shape)
    if isinstance(out, np.ndarray):
        return list(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    return type(out).__name__


class _Table(str):
    """A str that shows itself as the table it holds (the REPL prints ``repr`` of a result)."""

    __slots__ = ()

    def __repr__(self):
        return str(self)


def summary(model: Module, input_shape: tuple[int, ...] | list[Any], dtype: Any = None,
            file: IO[str] | None = None) -> str:
    """A table of each submodule's output shape and parameter count, from one forward pass on
    zeros of ``input_shape`` (batch dimension included, as torchinfo) in eval mode without recording.
    Several inputs: a list of shapes.

    Returns the table as a ``str`` whose ``repr`` is the table itself, so the REPL shows it once
    and ``print(nn.summary(...))`` prints it; nothing is printed here. ``file``: also write the
    table to this open text file. Each row counts only the parameters the module holds directly,
    so the rows add up to the total.

    >>> import nn
    >>> print(nn.summary(nn.Sequential(nn.Linear(4, 2), nn.ReLU()), (1, 4)))
    =====================================
    Layer (type)  Output Shape    Param #
    =====================================
    0 (Linear)    [1, 2]               10
    1 (ReLU)      [1, 2]                0
    =====================================
    Total params: 10
    Trainable params: 10
    Non-trainable params: 0
    =====================================
    <BLANKLINE>
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    shapes = input_shape if (isinstance(input_shape, list) and input_shape
                             and isinstance(input_shape[0], (tuple, list))) else [input_shape]
    if dtype is None:
        p0 = next(model.parameters(), None)
        dtype = p0.dtype if p0 is not None else ag.get_default_dtype()
    inputs = [ag.zeros(*tuple(int(s) for s in sh), dtype=dtype) for sh in shapes]
    rows = []
    handles = []
    depth = {}
    for name, m in model.named_modules():
        depth[id(m)] = name.count(".") + 1 if name else 0

        def hook(mod, args, out, name=name):
            n_own = sum(int(p._data.size) for p in mod.parameters(recurse=False))
            rows.append((name, mod, _shape_of(out), n_own))
        handles.append(m.register_forward_hook(hook))
    was_training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with ag.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, t in was_training:
            m.__dict__["training"] = t
    # forward hooks fire in completion order (children before parents): order rows by first call
    order = {id(m): i for i, (_, m) in enumerate(model.named_modules())}
    rows.sort(key=lambda r: order.get(id(r[1]), len(order)))
    if len(rows) > 1:
        # the children's rows describe the model; keep its own row only if it holds parameters itself
        rows = [r for r in rows if r[1] is not model or r[3]]
    table = [("Layer (type)", "Output Shape", "Param #")]
    for name, m, shape, n in rows:
        label = "  " * max(depth.get(id(m), 0) - 1, 0) + (f"{name} ({type(m).__name__})" if name
                                                            else type(m).__name__)
        table.append((label, str(shape), f"{n:,}"))
    w = [max(len(r[i]) for r in table) + 2 for i in range(3)]
    sep = "=" * sum(w)
    buf = io.StringIO()
    buf.write(sep + "\n")
    for i, (a, b, c) in enumerate(table):
        buf.write(a.ljust(w[0]) + b.ljust(w[1]) + c.rjust(w[2]) + "\n")
        if i == 0:
            buf.write(sep + "\n")
    params = list(model.parameters())
    total = sum(int(p._data.size) for p in params)
    trainable = sum(int(p._data.size) for p in params if p.requires_grad)
    buf.write(sep + "\n")
    buf.write(f"Total params: {total:,}\nTrainable params: {trainable:,}\n"
              f"Non-trainable params: {total - trainable:,}\n")
    buf.write(sep + "\n")
    text = _Table(buf.getvalue())
    if file is not None:
        file.write(text)
    return text

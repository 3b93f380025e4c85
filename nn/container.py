"""Parameter containers, as ``torch.nn``: ``ParameterList`` and ``ParameterDict``. Their parameters are
registered under their index or key, so ``parameters()``, ``state_dict()`` and ``.to()`` see them.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from autograd_core.tensor import Tensor

from .module import Module, Parameter

__all__ = ["ParameterList", "ParameterDict"]


def _param(value: Any) -> Any:
    """A tensor that is not a Parameter becomes one (as PyTorch's containers do); other values pass."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of Parameters registered as "0", "1", ...; indexing, ``len``, iteration, ``append``,
    ``extend``. A plain tensor put in it becomes a Parameter.

    >>> import autograd_core as ag, nn
    >>> pl = nn.ParameterList([nn.Parameter(ag.ones(2)), ag.zeros(3)])
    >>> pl.append(nn.Parameter(ag.ones(1)))
    ParameterList(
        (0): Parameter containing: [torch.float32 of size 2]
        (1): Parameter containing: [torch.float32 of size 3]
        (2): Parameter containing: [torch.float32 of size 1]
    )
    >>> len(pl), [n for n, _ in pl.named_parameters()]
    (3, ['0', '1', '2'])
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    def _key(self, idx: int) -> str:
        if not -self._size <= idx < self._size:
            raise IndexError(f"ParameterList: index {idx} is out of range for {self._size} parameters")
        return str(idx % self._size)

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, self._key(idx))

    def __setitem__(self, idx: int, value: Any) -> None:
        setattr(self, self._key(idx), _param(value))

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._size))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end; returns the list.

        >>> import autograd_core as ag, nn
        >>> len(nn.ParameterList().append(ag.ones(2)))
        1
        """
        self._size += 1
        setattr(self, str(self._size - 1), _param(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each of ``values`` at the end; returns the list.

        >>> import autograd_core as ag, nn
        >>> len(nn.ParameterList().extend([ag.ones(1), ag.ones(2)]))
        2
        """
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        lines = []
        for i, p in enumerate(self):
            if isinstance(p, Tensor):
                size = " x ".join(str(s) for s in p.shape)
                kind = "Parameter containing" if isinstance(p, Parameter) else "Tensor"
                lines.append(f"({i}): {kind}: [torch.{p.dtype} of size {size}]")
            else:
                lines.append(f"({i}): Object of type: {type(p).__name__}")
        return "\n".join(lines)


class ParameterDict(Module):
    """A dict of Parameters registered under their keys; ``[key]``, ``in``, ``len``, iteration over keys,
    ``keys``/``values``/``items``, ``update``, ``pop``, ``get``.

    >>> import autograd_core as ag, nn
    >>> pd = nn.ParameterDict({"scale": nn.Parameter(ag.ones(2))})
    >>> pd["shift"] = ag.zeros(2)
    >>> sorted(pd.keys()), "scale" in pd, len(pd)
    (['scale', 'shift'], True, 2)
    """

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._keys[key] = None
        setattr(self, key, _param(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> Any:
        """The keys, in insertion order.

        >>> import autograd_core as ag, nn
        >>> list(nn.ParameterDict({"a": ag.ones(1)}).keys())
        ['a']
        """
        return list(self._keys)

    def values(self) -> Any:
        """The parameters, in key order.

        >>> import autograd_core as ag, nn
        >>> [p.shape for p in nn.ParameterDict({"a": ag.ones(2)}).values()]
        [(2,)]
        """
        return [self[k] for k in self._keys]

    def items(self) -> Any:
        """(key, parameter) pairs, in key order.

        >>> import autograd_core as ag, nn
        >>> [k for k, _ in nn.ParameterDict({"a": ag.ones(1)}).items()]
        ['a']
        """
        return [(k, self[k]) for k in self._keys]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter under ``key``, or ``default``.

        >>> import nn
        >>> nn.ParameterDict().get("missing", 0)
        0
        """
        return self[key] if key in self._keys else default

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its parameter.

        >>> import autograd_core as ag, nn
        >>> pd = nn.ParameterDict({"a": ag.ones(1)}); _ = pd.pop("a"); len(pd)
        0
        """
        v = self[key]
        del self[key]
        return v

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace the entries of a mapping or of (key, value) pairs.

        >>> import autograd_core as ag, nn
        >>> pd = nn.ParameterDict(); pd.update([("a", ag.ones(1))]); list(pd)
        ['a']
        """
        items = parameters.items() if isinstance(parameters, Mapping) else parameters
        for k, v in items:
            self[k] = v

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter containing: [torch.{p.dtype} of size {' x '.join(map(str, p.shape))}]"
                         for k, p in self.items())

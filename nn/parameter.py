"""``torch.nn.parameter``: ``Parameter`` and ``Buffer`` (defined in ``nn.module``) and the lazy modules'
``UninitializedParameter`` / ``UninitializedBuffer`` (``nn.lazy``), importable under PyTorch's module name.

    >>> from nn.parameter import Parameter
    >>> import nn
    >>> Parameter is nn.Parameter
    True
"""
from .lazy import UninitializedBuffer, UninitializedParameter
from .module import Buffer, Parameter

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]

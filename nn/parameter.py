"""``torch.nn.parameter``: ``Parameter`` and ``Buffer`` (defined in ``nn.module``), importable under PyTorch's
module name.

    >>> from nn.parameter import Parameter
    >>> import nn
    >>> Parameter is nn.Parameter
    True
"""
from .module import Buffer, Parameter

__all__ = ["Parameter", "Buffer"]

"""The engine's public names in one place (the modules below each hold one responsibility).

* ``modes.py``: grad mode, anomaly mode and the transform nesting level, all per thread;
* ``node.py``: the Node, version counters and views, and the one function that records a node;
* ``backward.py``: the reverse pass;
* ``listeners.py``: the observer protocol that the inspection tools use; ``anomaly.py`` is one.
"""
from __future__ import annotations

from .modes import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode, state as mode
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .node import (Node, AccumulateGrad, VersionCounter, counter, bump, alias, edge, check_inplace, record,
                   hooks_used, unbroadcast, next_seq, mark_view, view_chain)
from .backward import backward, autograd_grad, run_backward

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "backward", "autograd_grad", "Node", "AccumulateGrad",
           "VersionCounter", "counter", "bump", "alias", "edge", "check_inplace", "unbroadcast"]

_unbroadcast = unbroadcast
tick = bump

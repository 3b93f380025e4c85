"""The demo gallery: the original project's notebooks, re-made as scripts on this engine.

Run ``python -m demos NAME`` (``python -m demos list`` shows the names, ``all`` runs them all).
Each demo module ``demos/NAME.py`` has ``run(args) -> dict`` and, optionally,
``add_arguments(parser)`` for its own flags. ``args`` carries ``out`` (a Path, created by the
demo), ``seed``, ``quick`` and ``data_dir``; ``run`` prints its key numbers and returns them,
with the written files under ``"files"``. To call one from Python::

    from demos import common, gates
    result = gates.run(common.make_args(gates, out="demo-output", quick=True))
"""
from __future__ import annotations

import importlib
import importlib.util

# Gallery order: the tape itself first, then the notebooks from simplest to largest.
DEMOS = ("backprop", "regression", "playground", "uat", "gates", "trajectories", "optimizers", "lenet5", "gan")


def available():
    """Names of the demos whose module is present, in gallery order."""
    return [n for n in DEMOS if importlib.util.find_spec(f"{__name__}.{n}") is not None]


def load(name):
    """The module of demo ``name``."""
    if name not in DEMOS:
        raise KeyError(f"unknown demo {name!r}; the demos are: {', '.join(available())}")
    return importlib.import_module(f"{__name__}.{name}")

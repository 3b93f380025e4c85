"""Hypothesis profiles: ``ci`` (few examples, used when CI is set) and ``dev`` (more)."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _reset_global_state():
    """Each test starts with grad mode on, float32 default and a fixed global seed."""
    import autograd_core as ag
    from autograd_core import graph
    graph.mode.enabled = True
    graph.mode.anomaly = None
    ag.set_default_dtype(np.float32)
    ag.manual_seed(0)
    yield
    graph.mode.enabled = True
    ag.set_default_dtype(np.float32)

"""Hypothesis profiles: ``default`` keeps ``make test`` short and deterministic (the same
examples every run, derived from each test); ``fuzz`` runs many more, fresh each run.

Select one with ``AUTOAL_HYPOTHESIS_PROFILE=fuzz`` (``make fuzz`` does). Each example has a
deadline, so an input that makes a loader or strategy hang fails instead of stalling the run.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

_COMMON = {
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

settings.register_profile("default", max_examples=25, deadline=timedelta(seconds=20),
                          derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz", max_examples=400, deadline=timedelta(seconds=60),
                          derandomize=False, **_COMMON)
settings.load_profile(os.environ.get("AUTOAL_HYPOTHESIS_PROFILE", "default"))

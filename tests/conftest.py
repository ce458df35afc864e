"""Shared test settings: hypothesis profiles (CI runs the default profile, deterministic)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dcsim",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dcsim"))

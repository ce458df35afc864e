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


def pytest_configure(config):
    """Caches (trained networks, validation rows) go to a per-session folder, never ~/.cache."""
    import tempfile

    if "DCSIM_CACHE_DIR" not in os.environ:
        os.environ["DCSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="dcsim-test-cache-")

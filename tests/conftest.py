"""Shared test settings: hypothesis profiles (CI runs the default profile, deterministic)."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dcsim",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dcsim"))


def pytest_configure(config):
    """Caches (trained networks, validation rows) go to a per-session folder, never ~/.cache.
    The unit cache (`dcsim.unit_cache`) is off unless a test turns it on: a test that runs a
    sweep twice to compare two ways of evaluating it must evaluate both times."""
    import tempfile

    os.environ.setdefault("DCSIM_UNIT_CACHE", "0")
    if "DCSIM_CACHE_DIR" not in os.environ:
        os.environ["DCSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="dcsim-test-cache-")


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A cache folder of this test alone (so what it finds cached is what it stored), sharing
    the session's validation rows (the same for every test, tens of seconds to compute)."""
    from workloads.cache import cache_dir

    shared = cache_dir() / "validation"
    shared.mkdir(parents=True, exist_ok=True)
    private = tmp_path / "cache"
    private.mkdir()
    (private / "validation").symlink_to(shared, target_is_directory=True)
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(private))
    return private

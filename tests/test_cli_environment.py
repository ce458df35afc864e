"""The environment dcsim's command line sets up for itself and the workers it starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_PROBE = """
import os
from dcsim.cli import main
main(["layers", "lenet-300-100", "--format", "csv"])
from numpy._core.multiarray import _get_madvise_hugepage
print("advice", _get_madvise_hugepage(), os.environ.get("NUMPY_MADVISE_HUGEPAGE"))
"""


@pytest.mark.parametrize(("user_value", "advice"), [(None, False), ("1", True), ("0", False)])
def test_numpy_huge_page_advice_is_off_unless_the_user_chose(user_value, advice):
    """numpy reads NUMPY_MADVISE_HUGEPAGE at its first import, which the command runs after
    setting it; the user's own setting wins, and the variable is left as it was found."""
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if user_value is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = user_value
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == f"advice {advice} {user_value}"

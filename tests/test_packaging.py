"""Packaging (issue 10 §1): the wheel holds every package and data file and works when
installed without -e, run from outside the repository; constraints.txt pins exactly what the
development install pulls in.

The wheel test builds offline (`pip wheel --no-build-isolation`, setuptools from the test
extra) and installs into a fresh venv that sees the test environment's dependencies through a
path file, so it takes seconds and needs no network.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
SOURCE_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "dcsim-out", "tests", "benchmarks",
)  # fmt: skip
SHIPPED_DATA = (
    "dcsim/commands/__init__.py",
    "dcsim/commands/sweep.py",
    "dcsim/configs/default.toml",
    "dcsim/configs/examples/analytical-1000.toml",
    "compression/recipes/paper.toml",
    "compression/recipes/digits.toml",
    "simulator/presets/eie.toml",
    "simulator/presets/edge-16.toml",
    "simulator/energy-sources.md",
)


def _run(argv: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the repository's sources (the worktree stays clean)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=SOURCE_IGNORE)
    dist = root / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "-w", str(dist), str(source)],
        cwd=root,
    )  # fmt: skip
    (built,) = dist.glob("dcsim-*.whl")
    return built


def test_the_wheel_holds_every_package_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in SHIPPED_DATA:
        assert path in names, f"{path} is missing from the wheel"
    tops = [  # every top-level package of the repository, so a new one cannot be forgotten
        d.name
        for d in REPO.iterdir()
        if (d / "__init__.py").is_file() and d.name not in ("tests", "benchmarks")
    ]
    assert {"workloads", "compression", "simulator", "reports", "dcsim"} <= set(tops)
    packages = {
        str(p.parent.relative_to(REPO)) for t in tops for p in (REPO / t).rglob("__init__.py")
    }
    assert "dcsim/commands" in packages
    for package in packages:
        assert f"{package}/__init__.py" in names, f"package {package} is missing"
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)


@pytest.mark.slow
def test_the_wheel_installed_without_e_runs_outside_the_repository(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    target_site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
             cwd=tmp_path).stdout.strip()
    )  # fmt: skip
    # The dependencies come from the test environment, appended after the venv's own
    # site-packages; a plain path line does not run that environment's .pth files, so its
    # editable dcsim stays invisible.
    (target_site / "test-env-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--disable-pip-version-check", "--quiet", str(wheel)],
        cwd=tmp_path,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DCSIM_DEBUG")}
    env["DCSIM_CACHE_DIR"] = str(tmp_path / "cache")
    where = _run(
        [str(python), "-c", "import dcsim, dcsim.commands, simulator; print(dcsim.__file__)"],
        cwd=elsewhere,
        env=env,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not the repository
    dcsim = str(venv / "bin" / "dcsim")
    assert "energy-table" in _run([dcsim, "--help"], cwd=elsewhere, env=env).stdout
    rows = json.loads(
        _run([dcsim, "layers", "alexnet-caffe", "--format", "json"], cwd=elsewhere, env=env).stdout
    )
    assert (rows[-1]["layer"], rows[-1]["weights"], rows[-1]["macs"]) == (
        "total",
        60_954_656,
        724_406_816,
    )
    energy = json.loads(
        _run([dcsim, "energy-table", "--arch", "edge-16", "--format", "json"],
             cwd=elsewhere, env=env).stdout
    )  # fmt: skip
    assert {row["action"] for row in energy} >= {"mac", "sparse_sram_read", "dram_bit"}
    sources = _run([dcsim, "energy-table", "--sources"], cwd=elsewhere, env=env).stdout
    assert "## References" in sources
    assert list(elsewhere.iterdir()) == []  # nothing written next to the user


def _closure(root: str, extras: set[str]) -> set[str]:
    """Canonical names of `root` and everything it requires (with `extras`), as installed."""
    seen: set[tuple[str, frozenset]] = set()
    names: set[str] = set()
    stack = [(root, frozenset(extras))]
    while stack:
        name, wanted = stack.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        names.add(canonicalize_name(name))
        for line in metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (*wanted, "")
            ):
                stack.append((requirement.name, frozenset(requirement.extras)))
    return names


def test_constraints_pin_exactly_what_the_development_install_pulls_in():
    pinned = {
        canonicalize_name(line.split("==")[0])
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    needed = _closure("dcsim", {"test"}) - {"dcsim"}
    assert pinned - needed == set(), "pinned but not installed by the development install"
    assert needed - pinned == set(), "installed by the development install but not pinned"

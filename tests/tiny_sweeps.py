"""A small analytical sweep for the tests of what sweeps keep between runs (the unit cache, the
verification and retrieval caches, the output manifest): lenet-300-100 pruned by a flat recipe
written next to the test, on a few `eie` variants. Imported by those tests, not collected."""

from __future__ import annotations

from dcsim.config import SweepConfig, parse_config

FLAT_RECIPE = 'name = "flat"\ndensity = 0.3\nweight_bits = 4\n'


def flat_recipe_sweep(tmp_path, grid: dict | None = None, **extra) -> SweepConfig:
    """The config; `grid` replaces or adds grid axes, `extra` top-level keys. The recipe file
    `tmp_path/flat.toml` is written once (a test may edit it in place)."""
    recipe = tmp_path / "flat.toml"
    if not recipe.exists():
        recipe.write_text(FLAT_RECIPE)
    data = {
        "networks": [{"network": "lenet-300-100"}],
        "grid": {
            "n_pe": [2, 8],
            "density_profile": str(recipe),
            "fc_bits": [4, 2],
            "fifo_depth": [1, 4, 16],
            "accelerator": "eie",
            **(grid or {}),
        },
        "sim_model": "analytical",
        **extra,
    }
    return parse_config(data)

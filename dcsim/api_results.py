"""The Python API, part 2: the design-space sweep, its figures, the energy table and validation.

Part of the application layer (DESIGN §6): `dcsim.explore`, `dcsim.figures`,
`dcsim.energy_table` and `dcsim.validate` (networks, accelerators, compression and simulation
are in `dcsim.api`). `dcsim sweep`, `dcsim energy-table` and `dcsim validate` call the same
functions: one validation, the same numbers. Bad input raises ValueError / OSError (a sweep
config: `dcsim.config.ConfigError`) with the one-line message the CLI prints.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at call time: `import dcsim` stays cheap
    import pandas as pd
    from plotly import graph_objects as go

    from dcsim.config import SweepConfig
    from simulator import Accelerator


# ----------------------------------------------------------------------------- sweep config
def _toml_data(value: Any, key: str) -> Any:
    """`value` as the data a TOML file could hold (tables with string keys, arrays, strings,
    integers, floats, booleans); a tuple reads as an array, a `Path` as its string, a NumPy
    scalar as its Python value. Anything else is a one-line ConfigError naming the key."""
    from dcsim.config import ConfigError

    if isinstance(value, dict):
        out = {}
        for name, item in value.items():
            if not isinstance(name, str):
                raise ConfigError(
                    f"config key {name!r} in {key or 'the config'} is invalid; allowed: a string"
                )
            out[name] = _toml_data(item, f"{key}.{name}" if key else name)
        return out
    if isinstance(value, list | tuple):
        return [_toml_data(item, f"{key}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Path):
        return str(value)
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    shown = repr(value) if value is None else f"a {type(value).__name__} object"
    raise ConfigError(
        f"config {key}={shown} is invalid; allowed: a TOML value (string, integer, float, "
        "boolean, list or table); a network is named by its source (built-in name, "
        "file.py:factory or model.onnx)"
    )


def sweep_config(
    config: str | Path | dict | SweepConfig | None = None,
    *,
    max_points: int | None = None,
    verify: int | None = None,
    option_names: tuple[str, str] = ("max_points", "verify"),
) -> SweepConfig:
    """The validated `SweepConfig` of `config` (see `explore`), with `max_points` applied and
    `verify` checked; `option_names` name the two options in errors (the CLI's flags)."""
    from dcsim.config import SweepConfig, load_config, parse_config

    if isinstance(config, SweepConfig):
        parsed = config
    elif isinstance(config, dict):
        parsed = parse_config(_toml_data(config, ""), "<dict>")
    elif config is None or isinstance(config, str | Path):
        parsed = load_config(config)
    else:
        raise ValueError(
            f"config={type(config).__name__} is invalid; allowed: None (the default sweep), a "
            "TOML path or a dict of the same keys"
        )
    max_name, verify_name = option_names
    if max_points is not None:
        if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
            raise ValueError(f"{max_name}={max_points} is invalid; allowed: >= 1")
        parsed = dataclasses.replace(parsed, max_points=max_points)
    if verify is not None and (isinstance(verify, bool) or not isinstance(verify, int)):
        raise ValueError(f"{verify_name}={verify!r} is invalid; allowed: an integer >= 0")
    if verify is not None and verify < 0:
        raise ValueError(f"{verify_name}={verify} is invalid; allowed: >= 0")
    if verify and parsed.sim_model != "analytical":
        raise ValueError(
            f'{verify_name}={verify} is invalid; allowed: 0 unless sim_model = "analytical"'
        )
    return parsed


def explore(
    config: str | Path | dict | SweepConfig | None = None,
    out: str | Path | None = None,
    *,
    workers: int | str = 1,
    scheduler: str | None = None,
    fresh: bool = False,
    max_points: int | None = None,
    verify: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Run a design-space sweep and return its tidy result table.

    `config`: None (the embedded default sweep, `dcsim/configs/default.toml`), the path of a
    sweep TOML file, or a dict of exactly the same keys, validated exactly like the file
    (tuples read as arrays, `Path`s as strings; an unknown key, a bad value or a value TOML
    cannot hold — None, an nn.Module — is a `dcsim.config.ConfigError` naming it). Example::

        {"networks": [{"network": "lenet-5", "weights": "synthetic",
                       "density_profile": "generic"}],
         "sim_model": "analytical",
         "grid": {"accelerator": ["eie", "edge-16"], "fc_bits": [4, 6]}}

    `out`: a folder — finished points are stored there as they finish (a rerun resumes, a
    finished point is never recomputed; `fresh=True` starts over) and `results.parquet`,
    `results.csv`, `results.xlsx` and `report.html` are written, as by `dcsim sweep`; None —
    the points are evaluated in a temporary folder that is removed afterwards, no files are
    written and `verify` does not run (it writes its columns into the files). `workers`: local
    processes (an integer, or "auto" as `dcsim sweep` uses by default: one per usable CPU,
    bounded by the units left and the memory, `dcsim.local_workers`); `scheduler`: a Dask
    scheduler address (`tcp://127.0.0.1:8786`); the table is
    identical either way. `max_points` overrides the config's limit (default 100,000);
    `verify`: re-run that many random points of an analytical sweep on the cycle model.
    `progress`: stage lines / bars on stderr.

    Returns one row per design point × layer plus a `total` row per point (`row_type`), units
    in the column names (`latency_ms`, `energy_mj`, `model_bytes`, `fps`, `top1`, …) and each
    point's full config (`config_json`); a failed point is one total row with `status`
    "error" and its `error`. Raises ConfigError / ValueError / OSError (one line) before any
    work for a bad config, a missing recipe / weights / data file, an unwritable `out` or an
    unreachable scheduler.
    """
    from dcsim.sweep import run_sweep

    parsed = sweep_config(config, max_points=max_points, verify=verify)
    if out is not None:
        return run_sweep(
            parsed,
            out,
            workers=workers,
            scheduler=scheduler,
            fresh=fresh,
            progress=progress,
            verify=verify,
        )
    import tempfile

    import pandas as pd

    from dcsim.result_store import ResultStore
    from dcsim.work_units import iter_units

    parsed.check_size()  # before the units are listed
    unit_ids = {unit.index: unit.unit_id for unit in iter_units(parsed)}
    with tempfile.TemporaryDirectory(prefix="dcsim-explore-") as folder:
        sweep = Path(folder) / "sweep"
        # only_units = every unit: the points are evaluated and stored, no report is written
        run_sweep(
            parsed,
            sweep,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            only_units=set(unit_ids),
        )
        # the stored units as one table, exactly as `run_sweep` writes results.parquet
        parquet = Path(folder) / "results.parquet"
        ResultStore(sweep).write_table(list(unit_ids.values()), parquet)
        return pd.read_parquet(parquet)


# ----------------------------------------------------------------------------- figures
def figures(results: pd.DataFrame | str | Path) -> dict[str, go.Figure]:
    """The report's Plotly figures, by name, for inline display (`fig.show()`).

    `results`: the table `dcsim.explore` returns, or a sweep's folder / its
    `results.parquet`. Names, in the report's order: `pareto-latency`, `pareto-energy`,
    `pareto-size` (accuracy vs latency / energy / container size, Pareto front per network),
    `heatmap-latency`, `heatmap-energy`, `heatmap-size`, `heatmap-accuracy` (density scale ×
    bits), `layer-breakdown` (per-layer latency and energy of the best points),
    `load-balance`, `footprint` (need / capacity of each on-chip memory). A figure without
    data (e.g. accuracy not measured) says so in its title area.

    Raises ValueError when `results` is not a sweep table (no `point_id` / `row_type`
    column), OSError when a folder has no `results.parquet`.
    """
    import pandas as pd

    from reports.figures import build_figures

    if isinstance(results, str | Path):
        path = Path(results)
        path = path / "results.parquet" if path.is_dir() else path
        results = pd.read_parquet(path)
    if not isinstance(results, pd.DataFrame):
        raise ValueError(
            f"results={type(results).__name__} is invalid; allowed: the DataFrame dcsim.explore "
            "returns, or a sweep folder / results.parquet"
        )
    missing = [name for name in ("point_id", "row_type") if name not in results.columns]
    if missing:
        raise ValueError(
            f"results lacks the column(s) {', '.join(missing)}; allowed: a sweep table "
            "(dcsim.explore)"
        )
    built, _ = build_figures(results)
    return {figure.id: figure.figure for figure in built}


# ----------------------------------------------------------------------------- energy table
def energy_table(accelerator: str | Path | dict | Accelerator = "eie", **overrides: Any):
    """The energy reference table of an accelerator (`dcsim energy-table --format json`).

    `accelerator` and `overrides`: as `dcsim.accelerator`. One row per action (sparse-matrix
    SRAM word read, pointer read, codebook decode, MAC, activation register / SRAM access,
    LNZD, FIFO, leakage, DRAM, …): `energy_pj` per event at the accelerator's node and supply,
    the formula and the full citation it comes from (`source`); `dcsim energy-table
    --sources` explains every number. Raises ValueError (one line) for a bad accelerator.
    """
    import pandas as pd

    from dcsim.api import accelerator as load
    from simulator import energy_table_rows

    return pd.DataFrame(energy_table_rows(load(accelerator, **overrides)))


# ----------------------------------------------------------------------------- validation
def validation_rows(
    checks: str | list[str] | tuple[str, ...] | None = None,
    *,
    seed: int = 0,
    weights: str | Path | None = None,
    data: str | Path | None = None,
    network: str = "alexnet",
    images: int | None = None,
) -> list[dict]:
    """The rows of `dcsim.validate` / `dcsim validate` (see `validate`)."""
    import dcsim.accuracy_trends  # noqa: F401  registers the accuracy-* checks (digits, cached)
    from dcsim.measured_layers import ALEXNET_LAYOUTS, DEFAULT_IMAGES
    from simulator import validation

    if isinstance(checks, str):
        checks = [checks]
    checks = None if checks is None else list(checks)
    if weights is None and network in ALEXNET_LAYOUTS:
        if data is not None:
            raise ValueError("data needs weights (the AlexNet whose inputs it measures)")
        return validation.validation_rows(checks, seed=seed)
    from dcsim.measured_layers import measured_alexnet_layers

    names = validation.selected_checks(checks or ["eie-alexnet"])
    measured = measured_alexnet_layers(
        weights,
        data,
        network=network,
        images=DEFAULT_IMAGES if images is None else images,
        seed=seed,
    )
    rows = []
    for name in names:
        if name == "eie-alexnet":
            rows += validation.eie_layer_rows(validation.EIE_ALEXNET, seed, measured)
        else:
            rows += validation.CHECKS[name](seed)
    return rows


def validate(
    checks: str | list[str] | tuple[str, ...] | None = None,
    *,
    seed: int = 0,
    weights: str | Path | None = None,
    data: str | Path | None = None,
    network: str = "alexnet",
    images: int | None = None,
) -> pd.DataFrame:
    """Published reference points next to the model, nothing fitted (`dcsim validate`).

    `checks`: a check name or a list (`eie-alexnet`, `eie-benchmarks`, `eie-power`,
    `fifo-depth`, `pe-scaling`, and `accuracy-bits`, `accuracy-init`, `accuracy-prune-quant`,
    which train the digits AlexNet once and cache it: minutes on a cold cache); None = every
    check, as `dcsim validate` (`eie-alexnet` alone with `weights`). `weights`: a trained
    AlexNet state_dict — the Alex-6/7/8 rows then run on its fc6/fc7/fc8, magnitude-pruned to
    EIE's densities;
    `data`: an ImageNet-style folder whose first `images` images (default 8) give their
    inputs; `network`: the layout of `weights` (`alexnet`, `alexnet-caffe`) or a model source
    holding an AlexNet classifier.

    Returns one row per comparison: `check`, `published` (with the paper table / figure it is
    copied from in `source`), `model`, `error_pct`, `unit`, `notes`. Raises ValueError (one
    line) for an unknown check, `data` without `weights`, or a weights file of another model.
    """
    import pandas as pd

    rows = validation_rows(
        checks, seed=seed, weights=weights, data=data, network=network, images=images
    )
    return pd.DataFrame(rows)

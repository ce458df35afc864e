"""Sweep configuration: a TOML file parsed as data, validated, expanded into design points.

Part of the application layer (DESIGN §6). A config names the networks to evaluate, the
compression axes, the hardware axes, the target frame rate and the simulator model; it can
give a grid (every combination of the axes), a list of explicit points, or both. Every key is
checked: an unknown key or a bad value is a one-line `ConfigError` naming it, its value and
what is allowed. The embedded default config is `dcsim/configs/default.toml`.

Config layout (all top-level keys optional except `networks`):

    name = "my-sweep"            seed = 0          target_fps = 30.0     sim_model = "cycle"
    [[networks]]                 # one table per network
    name = "alexnet-digits"      # label used in results (default: the network's name)
    network = "alexnet"          # a model source: a built-in name, "file.py:factory" (runs
                                 # your code) or "model.onnx" (`workloads.model_source`)
    input_shape = [3, 224, 224]  # optional: the input of one inference (needed by a .py
                                 # factory whose module has no input_shape attribute)
    weights = "digits"           # digits | synthetic | own (the source's own: default for a .py
                                 # or ONNX source) | PATH of a torch state_dict
    data = "PATH"                # ImageNet-style folder: measured accuracy (AlexNet with PATH
                                 # weights), or measured activations (any other source)
    density_profile = "digits"   # the network's density profile unless the grid / a point sets one
    grid = { fc_bits = [4, 2] }  # axes that replace the [grid]'s for this network only
    max_points = 100000          # refuse larger grids (the default; raise it deliberately)
    verify = 20                  # re-run 20 random analytical points on the cycle model
    [grid]                       # each axis a value or a list; the grid is their product
    density_profile = "paper"    # recipe name or TOML path giving per-layer densities, or
                                 # "auto:1.0": each layer at the lowest density whose pruning
                                 # alone loses <= 1.0 top-1 point (`dcsim.sensitivity`)
    density_scale = [0.5, 1.0]   # multiplies every layer density (the sparsity axis)
    conv_bits = [8, 4]           fc_bits = [5, 2]     index_bits = 4   centroid_init = "linear"
    accelerator = ["eie", "edge-16"]                  # preset name or TOML path
    n_pe, clock_mhz, sram_per_pe_kb, pointer_sram_per_pe_kb, activation_sram_per_pe_kb,
    registers_per_pe, fifo_depth, node_nm        # optional hardware overrides
    [[points]]                   # explicit points: any grid key with a single value, plus
    network = "alexnet-digits"   # optionally the network label it applies to (default: all)
    [accuracy]                   # networks with measured accuracy (weights = digits, or PATH
    prune_epochs = 0.5           # with data): retraining epochs per prune step; the pruning
    trajectory_steps = 1         # walks each profile's density scales highest first, one
    fine_tune = false            # checkpoint per scale; fine_tune: centroid fine-tuning per
    sensitivity = false          # (checkpoint, bits) (false: k-means only, accuracy_source
                                 # says which; "pareto": only the settings on an accuracy
                                 # front, `dcsim.pareto_fine_tune`); sensitivity: per-layer
                                 # curves into run.json

A config must define some points: a [grid] (or a network's own grid) with at least one axis,
or [[points]]. An empty [grid] table, or neither grid nor points, is an error (there is no
implicit default point). Numbers must be finite (no inf / nan); hardware overrides are
bounded like the accelerator fields they replace (n_pe <= 4096, fifo_depth <= 65536, ...).
The number of points is computed from the axes before any point is built (`point_count`);
above `max_points` (default 100,000; `dcsim sweep --max-points N` overrides it) the config is
refused, so a mistyped grid of 10**7 points is an error at once, not hours of expansion.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

from dcsim.design_point import (
    ACCURACY_DEFAULTS,
    AXES,
    CENTROID_INITS,
    COMPRESSION_AXES,
    DEFAULT_MAX_POINTS,
    HARDWARE_AXES,
    HARDWARE_OVERRIDES,
    MAX_SRAM_PER_PE_KB,
    MAX_VERIFY,
    NETWORK_KEYS,
    RETRAINING_KEYS,
    SIM_MODELS,
    TOP_KEYS,
    WEIGHT_SOURCES,
    ConfigError,
    DesignPoint,
    NetworkEntry,
    SweepConfig,
    _error,
)

__all__ = [
    "ACCURACY_DEFAULTS",
    "AXES",
    "CENTROID_INITS",
    "COMPRESSION_AXES",
    "ConfigError",
    "DEFAULT_MAX_POINTS",
    "DesignPoint",
    "HARDWARE_AXES",
    "HARDWARE_OVERRIDES",
    "MAX_SRAM_PER_PE_KB",
    "MAX_VERIFY",
    "NETWORK_KEYS",
    "NetworkEntry",
    "RETRAINING_KEYS",
    "SIM_MODELS",
    "SweepConfig",
    "TOP_KEYS",
    "WEIGHT_SOURCES",
    "load_config",
    "parse_config",
]


def _finite_positive(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    )


def _check_axis_value(key: str, value: object) -> object:
    """Validate one value of axis `key`."""
    if key in ("density_profile", "accelerator"):
        if key == "accelerator":
            from simulator.accelerator import preset_names as names
        else:
            from compression.recipe import BUILTIN_RECIPES

            def names() -> tuple[str, ...]:
                return BUILTIN_RECIPES

        allowed = f"{', '.join(names())} or the path of a TOML file"
        if key == "density_profile":
            allowed += " or auto:L (per-layer densities from pruning sensitivity, L: top-1 loss)"
        if not isinstance(value, str) or not value:
            raise _error(key, value, allowed)
        if key == "density_profile" and value.startswith("auto:"):
            from dcsim.auto_profile_name import auto_profile_loss

            try:
                auto_profile_loss(value)
            except ValueError as error:
                raise ConfigError(f"config {error}") from None
            return value
        if value not in names():
            from workloads.user_files import input_file

            if not Path(value).exists() and not value.lower().endswith(".toml"):
                raise _error(key, value, allowed)
            input_file(value, f"config {key}", allowed)
        return value
    if key == "centroid_init":
        if value not in CENTROID_INITS:
            raise _error(key, value, ", ".join(CENTROID_INITS))
        return value
    if key in ("conv_bits", "fc_bits", "index_bits"):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16:
            raise _error(key, value, "an integer in 1..16")
        return value
    if key in ("n_pe", "fifo_depth", "registers_per_pe"):
        from simulator.accelerator import INT_FIELD_RANGES

        low, high = INT_FIELD_RANGES[HARDWARE_OVERRIDES[key][0]]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _error(key, value, f"an integer in {low}..{high}")
        return value
    if key == "density_scale":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
            raise _error(key, value, "a number in (0, 100]")
        return float(value)
    if key == "node_nm":
        from simulator.accelerator import TECHNOLOGY_NODES_NM

        if isinstance(value, bool) or value not in TECHNOLOGY_NODES_NM:
            raise _error(key, value, ", ".join(map(str, TECHNOLOGY_NODES_NM)))
        return float(value)
    if key in (
        "clock_mhz",
        "sram_per_pe_kb",
        "pointer_sram_per_pe_kb",
        "activation_sram_per_pe_kb",
    ):
        bounded = key != "clock_mhz"
        if not _finite_positive(value) or (bounded and value > MAX_SRAM_PER_PE_KB):
            high = f" and <= {MAX_SRAM_PER_PE_KB:,}" if bounded else ""
            raise _error(key, value, f"a finite number > 0{high}")
        return float(value)
    raise ConfigError(f"config key {key!r} is unknown; allowed: {', '.join(AXES)}")


def _axis_values(where: str, key: str, value: object) -> tuple:
    if key not in AXES:
        raise ConfigError(f"config key {where}.{key} is unknown; allowed: {', '.join(AXES)}")
    values = value if isinstance(value, list) else [value]
    if not values:
        raise _error(f"{where}.{key}", value, "a value or a non-empty list")
    checked = [_check_axis_value(key, v) for v in values]
    return tuple(dict.fromkeys(checked))  # distinct values, first-seen order


def _check_source(key: str, value: object) -> str:
    """The kind of model source `value` names (`workloads.model_source.source_kind`); a file
    source must exist. Nothing is loaded here: the points load it."""
    from workloads.model_source import SOURCE_HELP, source_kind

    if not isinstance(value, str) or not value:
        raise _error(key, value, SOURCE_HELP)
    try:
        kind = source_kind(value)
    except ValueError:
        from workloads import NETWORK_NAMES

        raise _error(key, value, f"{SOURCE_HELP} (built-in: {', '.join(NETWORK_NAMES)})") from None
    file = value.rpartition(":")[0] if kind == "python" else value
    if kind != "builtin" and not Path(file).is_file():
        raise _error(key, value, f"{SOURCE_HELP}; no such file: {file}")
    return kind


def _default_label(name: str, kind: str, weights: str) -> str:
    if kind == "python":
        file, _, factory = name.rpartition(":")
        return f"{Path(file).stem}.{factory}"
    if kind == "onnx":
        return Path(name).stem
    return f"{name}-digits" if weights == "digits" else name


def _accuracy_table(table: object) -> dict:
    """The [accuracy] table over `ACCURACY_DEFAULTS`, each key checked."""
    if not isinstance(table, dict):
        raise _error("accuracy", table, "a table of " + ", ".join(ACCURACY_DEFAULTS))
    out = dict(ACCURACY_DEFAULTS)
    for key, value in table.items():
        if key not in ACCURACY_DEFAULTS:
            raise ConfigError(
                f"config key accuracy.{key} is unknown; allowed: {', '.join(ACCURACY_DEFAULTS)}"
            )
        if key == "prune_epochs":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _error("accuracy.prune_epochs", value, "a finite number >= 0")
            if not (math.isfinite(value) and 0 <= value <= 1000):
                raise _error("accuracy.prune_epochs", value, "a finite number in [0, 1000]")
            value = float(value)
        elif key == "trajectory_steps":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
                raise _error("accuracy.trajectory_steps", value, "an integer in 1..100")
        elif key == "fine_tune":
            if not isinstance(value, bool) and value != "pareto":
                allowed = 'true, false or "pareto" (fine-tune only the Pareto candidates)'
                raise _error("accuracy.fine_tune", value, allowed)
        elif not isinstance(value, bool):
            raise _error(f"accuracy.{key}", value, "true or false")
        out[key] = value
    return out


def parse_config(data: dict, source: str = "<config>") -> SweepConfig:
    """Validate a parsed TOML mapping and build the SweepConfig."""
    for key in data:
        if key not in TOP_KEYS:
            raise ConfigError(f"config key {key!r} is unknown; allowed: {', '.join(TOP_KEYS)}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _error("seed", seed, "an integer >= 0")
    target_fps = data.get("target_fps", 30.0)
    if not _finite_positive(target_fps):
        raise _error("target_fps", target_fps, "a finite number > 0")
    max_points = data.get("max_points", DEFAULT_MAX_POINTS)
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise _error("max_points", max_points, "an integer >= 1")
    sim_model = data.get("sim_model", "cycle")
    if sim_model not in SIM_MODELS:
        raise _error("sim_model", sim_model, ", ".join(SIM_MODELS))
    verify = data.get("verify", 0)
    if isinstance(verify, bool) or not isinstance(verify, int) or not 0 <= verify <= MAX_VERIFY:
        raise _error("verify", verify, f"an integer in 0..{MAX_VERIFY}")
    if verify and sim_model != "analytical":
        raise _error("verify", verify, '0 unless sim_model = "analytical"')
    raw_networks = data.get("networks")
    if not isinstance(raw_networks, list) or not raw_networks:
        raise _error("networks", raw_networks, "a non-empty array of [[networks]] tables")
    networks = []
    for i, raw in enumerate(raw_networks):
        if not isinstance(raw, dict):
            raise _error(f"networks[{i}]", raw, "a table")
        for key in raw:
            if key not in NETWORK_KEYS:
                raise ConfigError(
                    f"config key networks[{i}].{key} is unknown; allowed: {', '.join(NETWORK_KEYS)}"
                )
        name = raw.get("network")
        kind = _check_source(f"networks[{i}].network", name)
        try:
            from workloads.model_source import parse_input_shape

            input_shape = parse_input_shape(raw.get("input_shape"))
        except ValueError as error:
            raise ConfigError(f"config networks[{i}].{error}") from None
        default_weights = "synthetic" if kind == "builtin" else "own"
        weights = raw.get("weights", default_weights)
        if not isinstance(weights, str) or not weights:
            raise _error(f"networks[{i}].weights", weights, "digits, synthetic, own or a file path")
        if weights == "digits" and name != "alexnet":
            raise _error(f"networks[{i}].weights", weights, 'digits only with network = "alexnet"')
        if weights == "own" and kind == "builtin":
            raise _error(
                f"networks[{i}].weights", weights, "synthetic or a file path for a built-in name"
            )
        data_dir = raw.get("data")
        if data_dir is not None and (
            weights in ("digits", "synthetic")
            or (weights == "own" and kind == "builtin")
            or not isinstance(data_dir, str)
        ):
            raise _error(
                f"networks[{i}].data",
                data_dir,
                "a folder path, with weights = a PATH (or own for a .py / ONNX source)",
            )
        label = raw.get("name", _default_label(name, kind, weights))
        profile = raw.get("density_profile")
        if profile is not None:
            profile = _check_axis_value("density_profile", profile)
        own_grid = raw.get("grid", {})
        if not isinstance(own_grid, dict) or ("grid" in raw and not own_grid):
            raise _error(f"networks[{i}].grid", own_grid, "a table of at least one axis")
        own_grid = tuple(
            (key, _axis_values(f"networks[{i}].grid", key, value))
            for key, value in own_grid.items()
        )
        networks.append(
            NetworkEntry(
                label=str(label),
                network=name,
                weights=weights,
                data=data_dir,
                density_profile=profile,
                grid=own_grid,
                input_shape=input_shape,
            )
        )
    labels = [n.label for n in networks]
    if len(set(labels)) != len(labels):
        raise _error("networks.name", labels, "distinct labels")
    raw_grid = data.get("grid", {})
    if not isinstance(raw_grid, dict) or ("grid" in data and not raw_grid):
        raise _error(
            "grid", raw_grid, "a table of at least one axis (or no [grid], with [[points]])"
        )
    grid = {key: _axis_values("grid", key, value) for key, value in raw_grid.items()}
    raw_points = data.get("points", [])
    if not isinstance(raw_points, list):
        raise _error("points", raw_points, "an array of [[points]] tables")
    points = []
    for i, raw in enumerate(raw_points):
        if not isinstance(raw, dict):
            raise _error(f"points[{i}]", raw, "a table")
        point = {}
        for key, value in raw.items():
            if key == "network":
                if value not in labels:
                    raise _error(f"points[{i}].network", value, ", ".join(labels))
                point[key] = value
                continue
            if key not in AXES:
                raise ConfigError(
                    f"config key points[{i}].{key} is unknown; allowed: network, " + ", ".join(AXES)
                )
            point[key] = _check_axis_value(key, value)
        points.append(point)
    if not grid and not points and not any(n.grid for n in networks):
        raise ConfigError(
            f"config {source} defines no design points; allowed: a [grid] with at least one "
            "axis, a network's own grid, or [[points]]"
        )
    return SweepConfig(
        name=str(data.get("name", "sweep")),
        description=str(data.get("description", "")),
        seed=seed,
        target_fps=float(target_fps),
        sim_model=sim_model,
        networks=tuple(networks),
        grid=grid,
        points=tuple(points),
        source=source,
        max_points=max_points,
        verify=verify,
        accuracy=_accuracy_table(data.get("accuracy", {})),
    )


def load_config(path: str | Path | None = None) -> SweepConfig:
    """The config at `path`, or the embedded default when `path` is None."""
    from workloads.user_files import parse_toml, read_text

    allowed = "a sweep config TOML file"
    if path is None:
        text = resources.files("dcsim").joinpath("configs/default.toml").read_text("utf-8")
        source = "<default>"
    else:
        text = read_text(path, "config", allowed)
        source = str(path)
    return parse_config(parse_toml(text, "config", source, allowed), source)

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
                                 # says which); sensitivity: per-layer curves into run.json

A config must define some points: a [grid] (or a network's own grid) with at least one axis,
or [[points]]. An empty [grid] table, or neither grid nor points, is an error (there is no
implicit default point). Numbers must be finite (no inf / nan); hardware overrides are
bounded like the accelerator fields they replace (n_pe <= 4096, fifo_depth <= 65536, ...).
The number of points is computed from the axes before any point is built (`point_count`);
above `max_points` (default 100,000; `dcsim sweep --max-points N` overrides it) the config is
refused, so a mistyped grid of 10**7 points is an error at once, not hours of expansion.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from importlib import resources
from pathlib import Path

SIM_MODELS: tuple[str, ...] = ("cycle", "analytical")
CENTROID_INITS: tuple[str, ...] = ("linear", "density", "random")
WEIGHT_SOURCES: tuple[str, ...] = ("digits", "synthetic", "own")
TOP_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "seed",
    "target_fps",
    "sim_model",
    "max_points",
    "verify",
    "networks",
    "grid",
    "points",
    "accuracy",
)
DEFAULT_MAX_POINTS = 100_000
MAX_VERIFY = 1000  # cycle-model re-runs of a sweep (each costs about a second per network)
MAX_SRAM_PER_PE_KB = 2**30  # 1 TiB per PE: the accelerator's sparse_sram_bytes_per_pe bound
NETWORK_KEYS: tuple[str, ...] = (
    "name",
    "network",
    "input_shape",
    "weights",
    "data",
    "density_profile",
    "grid",
)
COMPRESSION_AXES: dict[str, object] = {
    "density_profile": "paper",
    "density_scale": 1.0,
    "conv_bits": 8,
    "fc_bits": 5,
    "index_bits": 4,
    "centroid_init": "linear",
}
HARDWARE_AXES: dict[str, object] = {
    "accelerator": "eie",
    "n_pe": None,
    "clock_mhz": None,
    "sram_per_pe_kb": None,
    "pointer_sram_per_pe_kb": None,
    "activation_sram_per_pe_kb": None,
    "registers_per_pe": None,
    "fifo_depth": None,
    "node_nm": None,
}
#: Hardware axes -> (the Accelerator field they override, the unit factor to the field's unit).
HARDWARE_OVERRIDES: dict[str, tuple[str, float]] = {
    "n_pe": ("n_pe", 1),
    "clock_mhz": ("clock_hz", 1e6),
    "sram_per_pe_kb": ("sparse_sram_bytes_per_pe", 1024),
    "pointer_sram_per_pe_kb": ("pointer_sram_bytes_per_pe", 1024),
    "activation_sram_per_pe_kb": ("activation_sram_bytes_per_pe", 1024),
    "registers_per_pe": ("activation_registers_per_pe", 1),
    "fifo_depth": ("fifo_depth", 1),
    "node_nm": ("technology_node_nm", 1),
}
# Axes added after point ids were first defined: left out of a point's id while unset, so the
# ids of existing configs do not change.
_LATER_AXES: tuple[str, ...] = (
    "pointer_sram_per_pe_kb",
    "activation_sram_per_pe_kb",
    "registers_per_pe",
)
AXES: dict[str, object] = {**COMPRESSION_AXES, **HARDWARE_AXES}
# How a sweep measures accuracy for networks that train (digits, or a user's weights with data);
# the `[accuracy]` table overrides these defaults. The first three change the measured numbers
# and are part of every such point's identity (`DesignPoint.retraining`).
ACCURACY_DEFAULTS: dict[str, object] = {
    "prune_epochs": 0.5,  # retraining epochs after every prune step of the pruning trajectory
    "trajectory_steps": 1,  # prune -> retrain steps from one trajectory checkpoint to the next
    "fine_tune": False,  # centroid fine-tuning per (checkpoint, bits); False: k-means only
    "sensitivity": False,  # per-layer sensitivity of each trained network into run.json
}
RETRAINING_KEYS: tuple[str, ...] = ("prune_epochs", "trajectory_steps", "fine_tune")


class ConfigError(ValueError):
    """A bad sweep config; the message is one line naming the key, the value and what is allowed."""


@dataclass(frozen=True)
class NetworkEntry:
    """One network of a sweep: `label` in results, the model source `network` (a built-in
    name, `file.py:factory` or `model.onnx`), its input shape and weight source."""

    label: str
    network: str
    weights: str = "synthetic"
    data: str | None = None
    density_profile: str | None = None  # this network's profile unless the grid/point sets one
    grid: tuple[tuple[str, tuple], ...] = ()  # axes replacing the config grid's for this network
    input_shape: tuple[int, ...] | None = None  # None: the source's own

    @property
    def trained_on_digits(self) -> bool:
        return self.weights == "digits"


@dataclass(frozen=True)
class DesignPoint:
    """One point of the design space: a network and one value of every axis."""

    network: NetworkEntry
    density_profile: str
    density_scale: float
    conv_bits: int
    fc_bits: int
    index_bits: int
    centroid_init: str
    accelerator: str
    n_pe: int | None
    clock_mhz: float | None
    sram_per_pe_kb: float | None
    fifo_depth: int | None
    node_nm: float | None
    seed: int
    target_fps: float
    sim_model: str
    pointer_sram_per_pe_kb: float | None = None
    activation_sram_per_pe_kb: float | None = None
    registers_per_pe: int | None = None
    # Networks that train (`dcsim.trained_entries.trains`) only, else empty: the density
    # scales of the pruning trajectory above this point's (the config's scales of the same
    # network and density profile, highest first), and the [accuracy] settings that change
    # its measured numbers, as sorted (key, value) pairs.
    prune_path: tuple[float, ...] = ()
    retraining: tuple[tuple[str, object], ...] = ()

    def as_dict(self) -> dict:
        """Everything that defines the point (its network's own grid is not part of it)."""
        return json.loads(self._canonical)

    @cached_property
    def _canonical(self) -> str:
        network = {
            f.name: getattr(self.network, f.name)
            for f in fields(self.network)
            if f.name != "grid"
            and not (f.name == "input_shape" and self.network.input_shape is None)  # ids as before
        }
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "network"
            and not (f.name in _LATER_AXES and getattr(self, f.name) is None)
            and not (f.name in ("prune_path", "retraining") and not getattr(self, f.name))
        }  # ids of configs without the newer axes, and of untrained networks, as before
        data["network"] = network
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @cached_property
    def point_id(self) -> str:
        """Stable id: a hash of everything that defines the point."""
        return hashlib.sha256(self._canonical.encode()).hexdigest()[:16]

    @property
    def compression_key(self) -> tuple:
        """Points sharing this key share the compressed model (up to the PE interleaving)."""
        return (
            self.network,
            self.density_profile,
            self.density_scale,
            self.conv_bits,
            self.fc_bits,
            self.index_bits,
            self.centroid_init,
            self.seed,
        )


@dataclass(frozen=True)
class SweepConfig:
    name: str
    description: str
    seed: int
    target_fps: float
    sim_model: str
    networks: tuple[NetworkEntry, ...]
    grid: dict = field(default_factory=dict)
    points: tuple[dict, ...] = ()
    source: str = "<default>"
    max_points: int = DEFAULT_MAX_POINTS
    verify: int = 0  # analytical points re-run on the cycle model (`dcsim.verification`)
    accuracy: dict = field(default_factory=lambda: dict(ACCURACY_DEFAULTS))

    def point_count(self) -> int:
        """How many points the config defines (duplicates counted), computed from the axis
        lengths without building any point."""
        count = 0
        for entry in self.networks:
            grid = {**self.grid, **dict(entry.grid)}
            if grid:
                count += math.prod(len(values) for values in grid.values())
        for values in self.points:
            label = values.get("network")
            count += sum(1 for entry in self.networks if label is None or entry.label == label)
        return count

    def check_size(self) -> int:
        """The point count, or a ConfigError when it exceeds `max_points`."""
        count = self.point_count()
        if count > self.max_points:
            raise ConfigError(
                f"config {self.source} defines {count:,} design points; allowed: at most "
                f"{self.max_points:,} (max_points; raise it with max_points = N in the config "
                "or dcsim sweep --max-points N)"
            )
        return count

    def _point(self, entry: NetworkEntry, values: dict) -> DesignPoint:
        defaults = dict(AXES)
        if entry.density_profile is not None:
            defaults["density_profile"] = entry.density_profile
        axes = {k: values.get(k, defaults[k]) for k in AXES}
        path, retraining = (), ()
        if self._trains(entry):
            scales = self._trajectory_scales.get((entry.label, axes["density_profile"]), ())
            path = tuple(s for s in scales if s > axes["density_scale"])
            retraining = tuple(sorted((k, self.accuracy[k]) for k in RETRAINING_KEYS))
        return DesignPoint(
            network=entry,
            seed=self.seed,
            target_fps=self.target_fps,
            sim_model=self.sim_model,
            prune_path=path,
            retraining=retraining,
            **axes,
        )

    def _trains(self, entry: NetworkEntry) -> bool:
        cache = self.__dict__.setdefault("_trains_cache", {})
        if entry.label not in cache:
            from dcsim.trained_entries import trains

            cache[entry.label] = trains(entry)
        return cache[entry.label]

    @cached_property
    def _trajectory_scales(self) -> dict[tuple[str, str], tuple[float, ...]]:
        """(network label, density profile) → every density scale the config asks of it,
        highest first: the checkpoints of that network's pruning trajectory for the profile
        (`compression.pruning_trajectory`)."""
        scales: dict[tuple[str, str], set] = {}
        for entry in self.networks:
            default_profile = entry.density_profile or AXES["density_profile"]
            grid = self._entry_grid(entry)
            if grid:
                for profile in grid.get("density_profile", (default_profile,)):
                    found = scales.setdefault((entry.label, profile), set())
                    found.update(grid.get("density_scale", (AXES["density_scale"],)))
            for values in self.points:
                if values.get("network", entry.label) == entry.label:
                    key = (entry.label, values.get("density_profile", default_profile))
                    found = scales.setdefault(key, set())
                    found.add(values.get("density_scale", AXES["density_scale"]))
        return {key: tuple(sorted(found, reverse=True)) for key, found in scales.items()}

    def _entry_grid(self, entry: NetworkEntry) -> dict:
        return {**self.grid, **dict(entry.grid)}

    def _in_grid(self, entry: NetworkEntry, point: DesignPoint) -> bool:
        grid = self._entry_grid(entry)
        if not grid:
            return False
        default = self._point(entry, {})
        return all(
            getattr(point, k) in grid[k] if k in grid else getattr(point, k) == getattr(default, k)
            for k in AXES
        )

    def iter_design_points(self) -> Iterator[DesignPoint]:
        """The points, lazily, grouped by compression setting (`DesignPoint.compression_key`):
        per network entry, its grid's compression axes vary slowest (in declaration order) and
        its hardware axes fastest; then the explicit [[points]] not already in a grid, grouped
        by compression setting in first-seen order. Axis values are distinct, so a grid has no
        duplicate points; memory does not grow with the number of points."""
        for entry in self.networks:
            grid = self._entry_grid(entry)
            if not grid:
                continue
            compression = [k for k in grid if k in COMPRESSION_AXES]
            hardware = [k for k in grid if k in HARDWARE_AXES]
            for setting in itertools.product(*(grid[k] for k in compression)):
                fixed = dict(zip(compression, setting))
                for variant in itertools.product(*(grid[k] for k in hardware)):
                    yield self._point(entry, {**fixed, **dict(zip(hardware, variant))})
        explicit: dict[tuple, dict[str, DesignPoint]] = {}
        for values in self.points:
            label = values.get("network")
            for entry in self.networks:
                if label is None or entry.label == label:
                    point = self._point(entry, {k: v for k, v in values.items() if k != "network"})
                    if not self._in_grid(entry, point):
                        group = explicit.setdefault(point.compression_key, {})
                        group.setdefault(point.point_id, point)
        for group in explicit.values():
            yield from group.values()

    def design_points(self) -> list[DesignPoint]:
        """Every point (`iter_design_points`) as a list. A config with more than `max_points`
        points is refused before anything is built."""
        self.check_size()
        return list(self.iter_design_points())

    def as_dict(self) -> dict:
        data = asdict(self)
        data["networks"] = [
            {**asdict(n), "grid": {k: list(v) for k, v in n.grid}} for n in self.networks
        ]
        data["points"] = list(self.points)
        return data


def _error(key: str, value: object, allowed: str) -> ConfigError:
    return ConfigError(f"config {key}={value!r} is invalid; allowed: {allowed}")


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

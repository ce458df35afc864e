"""A sweep's design points: the config's constants, its network entries, one design point, and
the whole validated config that expands into points.

Part of the application layer (DESIGN §6), at its bottom: `dcsim.config` parses a TOML file
(or a dict) into these, validating every key; the sweep, the work units and the point
evaluation read them. Expanding a `SweepConfig` into points is lazy and counted before any
point is built (`point_count`, `max_points`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property

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
    "fine_tune": False,  # centroid fine-tuning per (checkpoint, bits); False: k-means only;
    # "pareto": k-means, then fine-tuning of the accuracy fronts' settings
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

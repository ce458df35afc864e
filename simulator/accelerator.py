"""Accelerator: the parameters of the EIE-style sparse accelerator, loaded from TOML presets.

Part of `simulator` (DESIGN §1, §4): the hardware half of a design point. The cycle model, the
analytical model and the energy reference table all read their machine parameters from an
`Accelerator`; nothing in the simulator hard-codes a hardware number.

Presets ship as package data in `simulator/presets/*.toml` (`eie`: the published ISCA 2016
machine; `edge-16`: a phone-class part whose on-chip SRAM cannot hold all of AlexNet).
`load_accelerator(name_or_path)` reads a preset by name or any TOML file with the same keys;
every key is validated and an unknown key or a bad value raises a one-line ValueError naming the
field, the value and what is allowed: integers within stated ranges (`INT_FIELD_RANGES`, e.g.
n_pe in [1, 4096]), floats finite and > 0 (no inf, no nan). An empty file is an error, not the
defaults. Units are SI and carried in the names.

Technology: `technology_node_nm` is one of `TECHNOLOGY_NODES_NM` (7 … 180 nm, the reach of the
Stillmaker–Baas scaling data, `simulator.technology_scaling`); SRAM outside CACTI's 22–65 nm
scales by Accelergy's rules (`simulator.sram_model`).

Per-action overrides: a `[energy]` table sets any entry of the energy reference table directly
(`sparse_sram_read_pj = 25.0`: pJ per event of that action) and an `[area]` table any entry of
the area table (`sparse_sram_um2 = 400000.0`: µm² per instance of that component) — an
architect's own SRAM compiler or library numbers. The tables record such an entry's source as
"user". They are held as sorted (key, value) pairs in `energy_overrides_pj` /
`area_overrides_um2` (a dict is accepted and normalised); keys are checked against the
tables' actions and components, values must be finite and ≥ 0.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from compression.sparse_format import MAX_N_PE
from simulator.cost_catalogue import ACTIONS, AREA_COMPONENTS
from simulator.sram_model import SRAM_CELLS
from simulator.technology_scaling import TECHNOLOGY_NODES_NM, logic_scale

PRESET_DIR = Path(__file__).with_name("presets")
OVERRIDE_FIELDS: tuple[str, ...] = ("energy_overrides_pj", "area_overrides_um2")
# TOML table name -> override field
OVERRIDE_TABLES: dict[str, str] = {"energy": "energy_overrides_pj", "area": "area_overrides_um2"}


@dataclass(frozen=True)
class Accelerator:
    """One EIE-style machine (DESIGN §4). All per-PE quantities are for one processing element."""

    name: str = "custom"
    n_pe: int = 64
    clock_hz: float = 800e6
    fifo_depth: int = 8
    weight_index_bits: int = 4
    relative_index_bits: int = 4
    codebook_entries: int = 16
    codebook_value_bits: int = 16
    sparse_sram_bytes_per_pe: int = 128 * 1024
    sparse_sram_word_bits: int = 64
    pointer_sram_bytes_per_pe: int = 32 * 1024
    pointer_sram_banks: int = 2
    pointer_bits: int = 16
    activation_registers_per_pe: int = 64  # destination registers; more rows per PE: batches
    activation_sram_bytes_per_pe: int = 2 * 1024
    activation_sram_word_bits: int = 64
    activation_bits: int = 16
    datapath_bits: int = 16
    pe_per_lnzd: int = 4
    pipeline_stages: int = 4
    technology_node_nm: int = 45
    vdd_v: float = 0.9
    sram_cell: str = "itrs-lstp"
    dram_energy_j_per_bit: float = 20e-12
    dram_bandwidth_bytes_per_s: float = 12.8e9
    description: str = ""
    energy_overrides_pj: tuple[tuple[str, float], ...] = ()
    area_overrides_um2: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for name in OVERRIDE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, dict):
                value = tuple(value.items())
            if isinstance(value, list | tuple):
                try:
                    pairs = tuple(sorted((str(k), v) for k, v in value))
                except (TypeError, ValueError):
                    raise _bad(name, value, "a table of name = number") from None
                object.__setattr__(self, name, pairs)
        validate_accelerator(self)

    # --- derived ---------------------------------------------------------------------------
    @property
    def entry_bits(self) -> int:
        """Bits of one stored sparse-matrix entry (weight index + relative index)."""
        return self.weight_index_bits + self.relative_index_bits

    @property
    def sparse_sram_bytes(self) -> int:
        return self.n_pe * self.sparse_sram_bytes_per_pe

    @property
    def pointer_sram_bytes(self) -> int:
        return self.n_pe * self.pointer_sram_bytes_per_pe

    @property
    def activation_storage_bytes(self) -> int:
        """On-chip activation storage of the whole array: 2 × registers + SRAM, per PE × N."""
        registers = 2 * self.activation_registers_per_pe * self.activation_bits // 8
        return self.n_pe * (registers + self.activation_sram_bytes_per_pe)

    @property
    def lnzd_units(self) -> int:
        """Leading-non-zero detectors: one per `pe_per_lnzd` PEs at the leaves of the tree."""
        return max(1, -(-self.n_pe // self.pe_per_lnzd))

    @property
    def pipeline_latency_cycles(self) -> int:
        """Cycles to drain the pipeline after the last entry is issued (one per stage)."""
        return self.pipeline_stages

    def replace(self, **changes) -> Accelerator:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Every field; the overrides as {name: value} (what `accelerator_from_dict` reads)."""
        out = dataclasses.asdict(self)
        for name in OVERRIDE_FIELDS:
            out[name] = dict(getattr(self, name))
        return out


# Allowed range of every integer field. The upper bounds keep a mistyped number a clear error
# instead of an allocation of terabytes (per-PE arrays, FIFO rings) or hours of simulation.
INT_FIELD_RANGES: dict[str, tuple[int, int]] = {
    "n_pe": (1, MAX_N_PE),
    "fifo_depth": (1, 65536),
    "weight_index_bits": (1, 16),
    "relative_index_bits": (1, 16),
    "codebook_entries": (1, 65536),
    "codebook_value_bits": (1, 64),
    "sparse_sram_bytes_per_pe": (1, 2**40),
    "sparse_sram_word_bits": (8, 4096),
    "pointer_sram_bytes_per_pe": (1, 2**40),
    "pointer_sram_banks": (1, 64),
    "pointer_bits": (1, 64),
    "activation_registers_per_pe": (1, 2**20),
    "activation_sram_bytes_per_pe": (0, 2**40),
    "activation_sram_word_bits": (8, 4096),
    "activation_bits": (1, 64),
    "datapath_bits": (1, 64),
    "pe_per_lnzd": (1, MAX_N_PE),
    "pipeline_stages": (1, 1024),
}
_POSITIVE_FLOATS: tuple[str, ...] = (
    "clock_hz",
    "vdd_v",
    "dram_energy_j_per_bit",
    "dram_bandwidth_bytes_per_s",
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Accelerator))


def _bad(field_name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"accelerator {field_name}={value!r} is invalid; allowed: {allowed}")


def validate_accelerator(arch: Accelerator) -> None:
    """Raise a one-line ValueError for the first invalid field of `arch`."""
    if not isinstance(arch.name, str) or not arch.name:
        raise _bad("name", arch.name, "a non-empty string")
    for name, (low, high) in INT_FIELD_RANGES.items():
        value = getattr(arch, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(name, value, f"an integer in [{low}, {high:,}]")
    for name in _POSITIVE_FLOATS:
        value = getattr(arch, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not value > 0
        ):
            raise _bad(name, value, "a finite number > 0")
    if arch.sparse_sram_word_bits % 8 or arch.activation_sram_word_bits % 8:
        name = (
            "sparse_sram_word_bits"
            if arch.sparse_sram_word_bits % 8
            else ("activation_sram_word_bits")
        )
        raise _bad(name, getattr(arch, name), "a multiple of 8")
    if isinstance(arch.technology_node_nm, bool) or arch.technology_node_nm not in (
        TECHNOLOGY_NODES_NM
    ):
        raise _bad(
            "technology_node_nm",
            arch.technology_node_nm,
            "one of " + ", ".join(map(str, TECHNOLOGY_NODES_NM)) + " (nm)",
        )
    if arch.sram_cell not in SRAM_CELLS:
        raise _bad("sram_cell", arch.sram_cell, "one of " + ", ".join(SRAM_CELLS))
    if arch.entry_bits > arch.sparse_sram_word_bits:
        raise _bad(
            "weight_index_bits",
            arch.weight_index_bits,
            f"weight_index_bits + relative_index_bits <= sparse_sram_word_bits "
            f"({arch.sparse_sram_word_bits})",
        )
    if arch.vdd_v > 2.0:
        raise _bad("vdd_v", arch.vdd_v, "a supply voltage in (0, 2] V")
    logic_scale(arch.technology_node_nm, arch.vdd_v)  # one-line error where the fit is <= 0
    _validate_overrides(arch)


def _validate_overrides(arch: Accelerator) -> None:
    allowed = {
        "energy_overrides_pj": [f"{action}_pj" for action in ACTIONS],
        "area_overrides_um2": [f"{component}_um2" for component in AREA_COMPONENTS],
    }
    for name, keys in allowed.items():
        table = next(t for t, f in OVERRIDE_TABLES.items() if f == name)
        for key, value in getattr(arch, name):
            if key not in keys:
                raise _bad(f"[{table}] {key}", value, "one of " + ", ".join(keys))
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise _bad(f"[{table}] {key}", value, "a finite number >= 0")


def preset_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PRESET_DIR.glob("*.toml")))


def accelerator_from_dict(data: dict, *, source: str = "<dict>") -> Accelerator:
    """Build an Accelerator from a dict of TOML keys; unknown keys are an error."""
    allowed = [*FIELD_NAMES, *OVERRIDE_TABLES]
    for key in data:
        if key not in allowed:
            raise ValueError(
                f"{source}: unknown accelerator key {key!r}; allowed: {', '.join(allowed)}"
            )
    values = dict(data)
    for table, name in OVERRIDE_TABLES.items():
        if table in values:
            if not isinstance(values[table], dict):
                raise ValueError(
                    f"{source}: accelerator [{table}]={values[table]!r} is invalid; allowed: a "
                    f"table of name = number"
                )
            if name in values:
                raise ValueError(
                    f"{source}: accelerator [{table}] and {name} both given; allowed: one of them"
                )
            values[name] = values.pop(table)
    # TOML writes 800e6 as a float, 64 as an int; accept integral floats for float fields only.
    for key in _POSITIVE_FLOATS:
        if key in values and isinstance(values[key], int) and not isinstance(values[key], bool):
            values[key] = float(values[key])
    try:
        return Accelerator(**values)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def load_accelerator(name_or_path: str | Path) -> Accelerator:
    """A preset by name (`eie`, `edge-16`) or an accelerator TOML file by path. A file is
    parsed once per content: a sweep asks for the same preset thousands of times."""
    if isinstance(name_or_path, Accelerator):
        return name_or_path
    text = str(name_or_path)
    path = PRESET_DIR / f"{text}.toml"
    if not path.is_file():
        path = Path(text)
        if not (text.endswith(".toml") or path.exists()):
            allowed = (
                f"a preset ({', '.join(preset_names())}) or the path of an accelerator .toml file"
            )
            raise ValueError(f"arch={text!r} is invalid; allowed: {allowed}")
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    if key is not None and key in _LOADED:
        return _LOADED[key]
    arch = _parse_accelerator_file(path)
    if key is not None:
        if len(_LOADED) >= 256:
            _LOADED.clear()
        _LOADED[key] = arch
    return arch


_LOADED: dict[tuple, Accelerator] = {}


def _parse_accelerator_file(path: Path) -> Accelerator:
    from workloads.user_files import read_toml

    allowed = f"a preset ({', '.join(preset_names())}) or the path of an accelerator .toml file"
    data = read_toml(path, "accelerator file", allowed)
    if "name" not in data:
        data["name"] = path.stem
    return accelerator_from_dict(data, source=str(path))

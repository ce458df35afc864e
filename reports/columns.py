"""The column catalogue of dcsim's result table: every column, its unit and its meaning.

Place in the flow: ``sweep ──► tidy DataFrame ──► reports``. The sweep (``dcsim``) produces
the table; this module only *describes* it, so that the spreadsheets (``units`` sheet, headers
such as ``latency (ms)``, number formats) and the HTML report label every number the same way.
It imports nothing from the other dcsim packages: the columns are the whole contract.

Dynamic columns are described by pattern: ``energy_<component>_mj`` (energy of one component,
events × energy per event) and ``events_<action>`` (event counts of one action).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "COLUMNS",
    "ColumnInfo",
    "column_info",
    "energy_component_columns",
    "event_columns",
    "header",
    "units_rows",
]


@dataclass(frozen=True)
class ColumnInfo:
    """One column of the result table."""

    name: str
    unit: str  # "" when dimensionless / text
    meaning: str
    kind: str  # "text" | "int" | "float" | "fraction" | "bool" | "json"
    number_format: str  # Excel number format for the spreadsheets


_TEXT = "@"
_INT = "#,##0"
_FLOAT3 = "#,##0.000"
_FLOAT6 = "0.000000"
_PCT = "0.0%"


def _c(name: str, unit: str, meaning: str, kind: str, number_format: str = "General") -> ColumnInfo:
    return ColumnInfo(name, unit, meaning, kind, number_format)


_CATALOGUE: list[ColumnInfo] = [
    # identity
    _c("point_id", "", "Stable identifier of the design point (same on all its rows).", "text"),
    _c("row_type", "", '"layer" for a per-layer row, "total" for the per-point total row.', "text"),
    _c("layer", "", 'Layer name; "total" on total rows.', "text"),
    _c("layer_kind", "", 'Layer kind: conv, fc or lstm; "" on total rows.', "text"),
    # point settings
    _c("network", "", "Network of the point (e.g. alexnet-digits, alexnet-caffe).", "text"),
    _c(
        "network_source",
        "",
        "Where the network came from: built-in:NAME, python:FILE.py:FACTORY (a torch module "
        "traced by torch.fx) or onnx:FILE.onnx.",
        "text",
    ),
    _c("accelerator", "", "Accelerator preset or name (e.g. eie, edge-16).", "text"),
    _c("n_pe", "PEs", "Number of processing elements.", "int", _INT),
    _c("clock_mhz", "MHz", "Accelerator clock frequency.", "float", "#,##0.0"),
    _c("sram_per_pe_kb", "KB", "Sparse-matrix SRAM capacity per PE.", "float", "#,##0.0"),
    _c("fifo_depth", "entries", "Activation FIFO depth per PE.", "int", _INT),
    _c("node_nm", "nm", "Technology node the energies are scaled to.", "float", "0"),
    _c("density_profile", "", "Name of the per-layer weight-density profile (e.g. paper).", "text"),
    _c(
        "density_scale",
        "×",
        "Multiplier applied to the profile's weight densities (the sparsity axis).",
        "float",
        "0.00",
    ),
    _c(
        "conv_bits", "bits", "Weight-sharing index width of conv layers (codebook 2^b).", "int", "0"
    ),
    _c(
        "fc_bits",
        "bits",
        "Weight-sharing index width of fc/lstm layers (codebook 2^b).",
        "int",
        "0",
    ),
    _c("index_bits", "bits", "Relative-index (gap) width of the sparse format.", "int", "0"),
    _c("centroid_init", "", "k-means centroid initialisation: linear, density or random.", "text"),
    _c("sim_model", "", 'Simulator model: "cycle" or "analytical".', "text"),
    _c("seed", "", "Random seed of the point.", "int", "0"),
    _c("target_fps", "frames/s", "Target frame rate the point is judged against.", "float", "0.0"),
    _c("config_json", "", "The point's full configuration as a JSON string.", "json"),
    # metrics
    _c("weights", "weights", "Number of weights (dense count).", "int", _INT),
    _c("weight_density", "fraction", "Fraction of weights kept after pruning.", "fraction", _PCT),
    _c(
        "activation_density",
        "fraction",
        "Fraction of non-zero input activations.",
        "fraction",
        _PCT,
    ),
    _c("cycles", "cycles", "Simulated clock cycles.", "int", _INT),
    _c(
        "ideal_cycles",
        "cycles",
        "Cycles with perfect load balance (stored entries / PEs).",
        "int",
        _INT,
    ),
    _c(
        "load_balance",
        "fraction",
        "Load-balance efficiency: 1 − bubbles / total cycles (0..1).",
        "fraction",
        _PCT,
    ),
    _c("latency_ms", "ms", "Latency (cycles / clock).", "float", _FLOAT3),
    _c("energy_mj", "mJ", "Total energy: sum of the energy components.", "float", _FLOAT6),
    _c("model_bytes", "bytes", "Compressed model footprint (container bytes).", "int", _INT),
    _c("dense_bytes", "bytes", "Dense 32-bit footprint.", "int", _INT),
    _c(
        "compression_ratio",
        "×",
        "Dense bytes / compressed bytes.",
        "float",
        "0.00",
    ),
    _c(
        "onchip_bytes",
        "bytes",
        "On-chip sparse-matrix SRAM capacity of the accelerator (all PEs).",
        "int",
        _INT,
    ),
    _c("fits_onchip", "", "True when the compressed model fits in on-chip SRAM.", "bool"),
    # totals only
    _c("fps", "frames/s", "Frame rate: 1000 / total latency in ms.", "float", "#,##0.0"),
    _c("meets_target", "", "True when fps ≥ target_fps.", "bool"),
    _c("top1", "fraction", "Top-1 accuracy (NaN when not measured).", "fraction", _PCT),
    _c("top5", "fraction", "Top-5 accuracy (NaN when not measured).", "fraction", _PCT),
    _c(
        "retrieval_map",
        "fraction",
        "Mean average precision of feature retrieval (NaN when not measured).",
        "fraction",
        _PCT,
    ),
    _c(
        "precision_at_10",
        "fraction",
        "Retrieval precision at 10 (NaN when not measured).",
        "fraction",
        _PCT,
    ),
    _c(
        "accuracy_source",
        "",
        'Where the accuracy came from: "measured", "not measured" or "published".',
        "text",
    ),
    _c(
        "host_ops",
        "",
        "Weight-free ops outside the engine and not modelled (no cycles, no energy): pooling, "
        'residual add, element-wise mul, non-ReLU activations, unfolded batch-norm, e.g. "add×8, '
        'maxpool×1"; "" when none. ReLU runs in the PEs; reshape, concat, dropout are free. '
        "Total rows only.",
        "text",
    ),
    _c(
        "host_op_elements",
        "values",
        "Output values of the host_ops per inference (a size of that unmodelled work). Total "
        "rows only.",
        "int",
        _INT,
    ),
    _c("status", "", '"ok", or "error" for a point that failed.', "text"),
    _c("error", "", 'Error message of a failed point ("" when ok).', "text"),
]

#: name → ColumnInfo for every static column of the contract.
COLUMNS: dict[str, ColumnInfo] = {c.name: c for c in _CATALOGUE}

_ENERGY_RE = re.compile(r"^energy_(.+)_mj$")
_EVENTS_RE = re.compile(r"^events_(.+)$")


def energy_component_columns(columns) -> list[str]:
    """The ``energy_<component>_mj`` columns among ``columns`` (not ``energy_mj``), in order."""
    return [c for c in columns if c != "energy_mj" and _ENERGY_RE.match(str(c))]


def event_columns(columns) -> list[str]:
    """The ``events_<action>`` columns among ``columns``, in order."""
    return [c for c in columns if _EVENTS_RE.match(str(c))]


def component_of(column: str) -> str | None:
    """``energy_sram_read_mj`` → ``sram_read``; ``events_mac`` → ``mac``; else None."""
    m = _ENERGY_RE.match(column)
    if m and column != "energy_mj":
        return m.group(1)
    m = _EVENTS_RE.match(column)
    return m.group(1) if m else None


def column_info(name: str) -> ColumnInfo:
    """Describe any column: a catalogue entry, a generated one for dynamic columns, or a stub."""
    if name in COLUMNS:
        return COLUMNS[name]
    m = _ENERGY_RE.match(name)
    if m:
        action = m.group(1)
        return ColumnInfo(
            name,
            "mJ",
            f"Energy of '{action}': events_{action} × energy per event of the point's "
            f"accelerator (energy reference table) × 1e-9 (pJ → mJ).",
            "float",
            _FLOAT6,
        )
    m = _EVENTS_RE.match(name)
    if m:
        action = m.group(1)
        return ColumnInfo(
            name,
            "events",
            f"Number of '{action}' events (one event as defined in the energy reference table).",
            "int",
            _INT,
        )
    return ColumnInfo(name, "", "(not in the catalogue)", "text", "General")


_DISPLAY = {
    "model_bytes": "model size",
    "dense_bytes": "dense size",
    "onchip_bytes": "on-chip capacity",
}


def header(name: str) -> str:
    """Human header with unit: ``latency_ms`` → ``latency (ms)``, ``n_pe`` → ``n_pe (PEs)``."""
    info = column_info(name)
    base = _DISPLAY.get(name, name)
    for suffix, unit in (
        ("_ms", "ms"),
        ("_mj", "mJ"),
        ("_mhz", "MHz"),
        ("_kb", "KB"),
        ("_nm", "nm"),
    ):
        if name.endswith(suffix) and info.unit == unit:
            base = name[: -len(suffix)]
            break
    if not info.unit or info.unit in base.replace("events_", ""):  # "weights", "cycles"
        return base
    return f"{base} ({info.unit})"


def units_rows(columns) -> list[dict[str, str]]:
    """One row per column: column, header, unit, meaning (for the ``units`` sheet)."""
    rows = []
    for name in columns:
        info = column_info(str(name))
        rows.append(
            {
                "column": info.name,
                "header": header(info.name),
                "unit": info.unit,
                "meaning": info.meaning,
            }
        )
    return rows

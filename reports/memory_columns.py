"""Catalogue data of the result table's storage, DRAM-traffic, on-chip-fit and codebook columns.

Place in the flow: part of ``reports`` (:mod:`reports.column_catalogue` adds these entries to
the catalogue, in this order, after the energy columns; :mod:`reports.report_scan`,
:mod:`reports.report_summary` and the workbook read the columns). Imports nothing: each entry is
(name, unit, meaning, kind, number format, label), the fields of
:class:`reports.column_catalogue.ColumnInfo`, built by helpers that mirror the catalogue's.

The columns describe what the compressed model takes — in storage (the ``.dcz`` container) and
on chip (sparse-matrix SRAM, pointer SRAM, activation storage, codebook) — against what the
accelerator has, by the rule of ``simulator.memory_fit`` (need > capacity: the memory
overflows), and the DRAM traffic of what does not fit.
"""

from __future__ import annotations

_FORMAT_INT = "#,##0"
_FORMAT_PERCENT = "0.0%"

#: One catalogue entry: (name, unit, meaning, kind, number format, label).
Entry = tuple[str, str, str, str, str, str]


def _entry(
    name: str, unit: str, meaning: str, kind: str, number_format: str = "General", label: str = ""
) -> Entry:
    return (name, unit, meaning, kind, number_format, label)


def _text(name: str, meaning: str, label: str = "") -> Entry:
    return (name, "text", meaning, "text", "@", label)


def _flag(name: str, meaning: str, label: str = "") -> Entry:
    return (name, "true/false", meaning, "bool", "General", label)


def _bytes(name: str, meaning: str, label: str = "") -> Entry:
    return (name, "bytes", meaning, "int", _FORMAT_INT, label)


_FIT_RULE = (
    "Rule (simulator.memory_fit): a memory overflows when need > capacity; the point fits on "
    "chip when none does."
)

MEMORY_COLUMNS: tuple[Entry, ...] = (
    _bytes(
        "model_bytes",
        "Weights in the accelerator's on-chip format: sparse-matrix SRAM "
        "words (entries and fillers packed in whole words, all PEs) + column pointers (all "
        "PEs); total: the sum over layers. Not the container file (container_bytes).",
        "model size on chip",
    ),
    _bytes(
        "container_bytes",
        "Size of the Huffman-coded .dcz container (P+Q+H accounting): "
        "what the model takes in storage, not on chip.",
        "container size",
    ),
    _bytes("dense_bytes", "Dense 32-bit size of the weights.", "dense size"),
    _entry(
        "compression_ratio",
        "×",
        "dense_bytes / container_bytes (Deep Compression's compression rate).",
        "float",
        "0.00",
        "compression ratio",
    ),
    _bytes(
        "weight_dram_bytes",
        "Weight bytes streamed from DRAM every frame: the part of "
        "model_bytes that does not fit in what is left of the sparse-matrix and pointer SRAM "
        "(layers placed in network order).",
        "weights from DRAM",
    ),
    _bytes(
        "activation_dram_bytes",
        "Feature-map bytes moved to/from DRAM every frame: the "
        "excess of the input and of the output over their half of the activation storage.",
        "activations to/from DRAM",
    ),
    _bytes(
        "onchip_bytes",
        "Weight SRAM capacity of the accelerator: sparse-matrix SRAM + "
        "pointer SRAM, all PEs (compare with model_bytes; the activation storage is separate: "
        "activation_capacity_bytes).",
        "weight SRAM capacity",
    ),
    _bytes(
        "sparse_sram_need_bytes",
        "Sparse-matrix SRAM the weights need: entries (fillers "
        "included) packed in whole words, all PEs; total: the sum over layers (all stay "
        "resident). " + _FIT_RULE,
        "sparse-matrix SRAM need",
    ),
    _bytes(
        "sparse_sram_capacity_bytes",
        "Sparse-matrix SRAM capacity: per-PE capacity × PEs.",
        "sparse-matrix SRAM capacity",
    ),
    _bytes(
        "pointer_sram_need_bytes",
        "Pointer SRAM the weights need: (batches × groups × "
        "columns + 1) column pointers per PE × pointer bits, all PEs; total: the sum over "
        "layers. " + _FIT_RULE,
        "pointer SRAM need",
    ),
    _bytes(
        "pointer_sram_capacity_bytes",
        "Pointer SRAM capacity: per-PE capacity × PEs.",
        "pointer SRAM capacity",
    ),
    _bytes(
        "activation_need_bytes",
        "Activation storage a layer needs: 2 × its larger feature "
        "map (half holds the input, half the output); total: the max over layers (reused "
        "layer by layer). " + _FIT_RULE,
        "activation storage need",
    ),
    _bytes(
        "activation_capacity_bytes",
        "Activation storage capacity: (2 × destination "
        "registers × activation bits / 8 + activation SRAM) per PE × PEs.",
        "activation storage capacity",
    ),
    _text(
        "overflow",
        'The on-chip memories that overflow ("sparse-matrix SRAM", "pointer '
        'SRAM", "activation storage", "; "-joined; "" when all fit). Layer rows: the memories '
        "this layer spills from.",
    ),
    _flag(
        "fits_onchip",
        "True when no on-chip memory overflows (sparse-matrix SRAM, pointer "
        "SRAM and activation storage each hold their need). Layer rows: the layer's weights "
        "are all on chip and its feature maps fit.",
        "fits on chip",
    ),
    _text(
        "binding_memory",
        "The memory with the largest need / capacity (total rows): the one "
        'that overflows first as the model grows, or by most once it does; "" on layer '
        "rows.",
        "binding memory",
    ),
    _entry(
        "binding_utilization",
        "fraction",
        "need / capacity of the binding memory (> 1: it overflows; NaN on layer rows).",
        "fraction",
        _FORMAT_PERCENT,
        "binding memory utilization",
    ),
    _entry(
        "codebook_need_entries",
        "entries",
        "Codebook entries the weight bits need: 2^b (total: the widest layer's).",
        "int",
        _FORMAT_INT,
        "codebook need",
    ),
    _entry(
        "codebook_capacity_entries",
        "entries",
        "Codebook entries of the accelerator spec.",
        "int",
        _FORMAT_INT,
        "codebook capacity",
    ),
    _entry(
        "codebook_entries",
        "entries",
        "Codebook the point was simulated with: the spec's, "
        "enlarged to the widest layer's 2^b when that is larger (its decode energy is charged "
        "for this size).",
        "int",
        _FORMAT_INT,
        "codebook simulated",
    ),
    _flag(
        "codebook_fits",
        "True when 2^b ≤ the spec's codebook entries (total: every layer). "
        "False: the point needs a larger codebook than the spec has; it was simulated with "
        "codebook_entries entries.",
        "codebook fits",
    ),
)

"""Catalogue data of the result table's silicon-area and efficiency columns.

Place in the flow: part of ``reports`` (:mod:`reports.column_catalogue` adds these entries to
the catalogue; :mod:`reports.area_sheet` and :mod:`reports.area_figure` read the columns).
Imports nothing: each entry is (name, unit, meaning, kind, number format, label), the fields
of :class:`reports.column_catalogue.ColumnInfo`.

The area components are those of the simulator's area table (``dcsim area-table``); the
result table names them ``area_<component>_mm2``.
"""

from __future__ import annotations

#: (component, words) of every area component, in the area table's order.
AREA_COMPONENT_WORDS: tuple[tuple[str, str], ...] = (
    ("sparse_sram", "sparse-matrix SRAM macros (CACTI 7)"),
    ("sparse_registers", "sparse-matrix read unit registers (SRAM word, pointer)"),
    ("pointer_sram", "pointer SRAM banks (CACTI 7)"),
    ("pointer_registers", "pointer-pair registers"),
    ("codebook", "codebook register file with its address decode"),
    ("multiplier", "multipliers"),
    ("adders", "accumulate and address adders"),
    ("pipeline_registers", "pipeline and destination-address registers"),
    ("activation_registers", "source and destination activation register files"),
    ("activation_sram", "activation SRAM macros (CACTI 7)"),
    ("fifo", "activation FIFOs"),
    ("lnzd", "leading-non-zero-detection tree nodes"),
)
AREA_COLUMN_NAMES: tuple[str, ...] = tuple(f"area_{c}_mm2" for c, _ in AREA_COMPONENT_WORDS)

_FORMAT_AREA = "#,##0.000000"
_TOTAL_ONLY = "Total rows only."

AREA_COLUMNS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "area_mm2",
        "mm²",
        "Silicon area of the point's accelerator: the sum of its area_<component>_mm2 columns "
        "(area table: instances × area per instance; dcsim area-table). Not modelled: clock "
        "buffers, control, filler cells. " + _TOTAL_ONLY,
        "float",
        _FORMAT_AREA,
        "area",
    ),
    *(
        (
            f"area_{component}_mm2",
            "mm²",
            f"Area of the {words}, all instances (area table). " + _TOTAL_ONLY,
            "float",
            _FORMAT_AREA,
            f"{component.replace('_', ' ')} area",
        )
        for component, words in AREA_COMPONENT_WORDS
    ),
    (
        "power_mw",
        "mW",
        "Average power while running frames back to back: energy per frame / latency per "
        "frame. " + _TOTAL_ONLY,
        "float",
        "#,##0.000",
        "power",
    ),
    (
        "fps_per_mm2",
        "frames/s/mm²",
        "Area efficiency: fps / area_mm2 (EIE Table V's frames/s/mm²). " + _TOTAL_ONLY,
        "float",
        "#,##0.000",
        "frame rate per area",
    ),
    (
        "frames_per_j",
        "frames/J",
        "Energy efficiency: 1 / energy per frame (EIE Table V's frames/J). " + _TOTAL_ONLY,
        "float",
        "#,##0.0",
        "frames per joule",
    ),
    (
        "dense_ops",
        "ops",
        "Dense-equivalent operations per frame: 2 × the MACs of the dense (unpruned) layer "
        "(multiply + add); total: the sum over layers.",
        "float",
        "#,##0",
        "dense-equivalent ops",
    ),
    (
        "tops_per_w_dense",
        "TOPS/W",
        "Dense-equivalent TOPS/W: dense_ops per frame / energy per frame / 10¹² — the work a "
        "dense accelerator would do per joule for the same result (how EIE quotes 3 TOP/s). "
        + _TOTAL_ONLY,
        "float",
        "#,##0.000",
        "dense-equivalent TOPS/W",
    ),
)

"""The energy table's sources are traceable by a user of the package (issue 10 §1): every
`source` is a full citation from the reference list of the shipped energy-sources.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dcsim.cli import main
from simulator import load_accelerator
from simulator.energy_table import energy_sources_text, energy_table_rows, references

REPO = Path(__file__).resolve().parents[1]
VARIANTS = [
    ("eie", {}),
    ("edge-16", {}),
    ("eie", {"technology_node_nm": 22, "sram_cell": "itrs-hp", "vdd_v": 0.8}),
    ("edge-16", {"technology_node_nm": 65, "sparse_sram_word_bits": 128}),
    ("eie", {"technology_node_nm": 7, "vdd_v": 0.7}),
    ("eie", {"technology_node_nm": 130, "vdd_v": 1.2, "sram_cell": "itrs-hp"}),
]


def test_the_reference_list_is_complete_and_cited_in_the_text():
    text = energy_sources_text()
    refs = references()
    assert {"EIE", "Horowitz2014", "CACTI7", "StillmakerBaas2017", "AccelergyCacti"} <= set(refs)
    for key, citation in refs.items():
        assert f"- [{key}] {citation}" in text
        # a full citation: what, and when, which version or where
        assert re.search(r"(19|20)\d\d|commit [0-9a-f]{7}|https://", citation), key
    body = text.split("## References")[0]
    used = set(re.findall(r"\[([A-Za-z0-9]+)\]", body))
    assert used == set(refs)  # every reference is used, every use is listed


@pytest.mark.parametrize(("preset", "changes"), VARIANTS)
def test_every_energy_entry_cites_a_reference_of_the_shipped_document(preset, changes):
    arch = load_accelerator(preset)
    arch = arch.replace(**changes) if changes else arch
    citations = references().values()
    for row in energy_table_rows(arch):
        source = row["source"]
        assert "energy-data.md" not in source, row["action"]
        cited = [c for c in citations if c in source]
        assert cited, f"{row['action']}: {source!r} cites no reference of energy-sources.md"


def test_dcsim_energy_table_sources_prints_the_document(capsys):
    assert main(["energy-table", "--sources"]) == 0
    assert capsys.readouterr().out == energy_sources_text()


def test_the_repository_copy_is_the_shipped_document():
    assert (REPO / "docs" / "energy-sources.md").read_text("utf-8") == energy_sources_text()


def test_the_table_for_people_cites_by_key_and_lists_the_references(capsys):
    assert main(["energy-table", "--arch", "eie"]) == 0
    out = capsys.readouterr().out
    table, listed = out.split(
        "\nReferences (dcsim energy-table --sources explains every number):\n"
    )
    for key in ("CACTI7", "EIE", "StillmakerBaas2017"):
        assert f"[{key}]" in table and f"[{key}] {references()[key]}" in listed
    assert not any(citation in table for citation in references().values())

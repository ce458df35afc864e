"""`dcsim validate --format markdown`: the README's EIE Table II table is the command's output.

The table in README.md ("Power and area by module") must be exactly what
`dcsim validate --check eie-power --check eie-area --format markdown` prints now — a change of
the model that moves a number fails here until the README is regenerated. The formatting rules
are checked on rows built here, independently of the model."""

from __future__ import annotations

import math
from pathlib import Path

from dcsim.cli import main
from dcsim.validation_markdown import rows_markdown, table2_markdown, validation_markdown
from simulator.validation import row

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table2_is_the_command_output(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DCSIM_CACHE_DIR", str(tmp_path))
    assert (
        main(["validate", "--check", "eie-power", "--check", "eie-area", "--format", "markdown"])
        == 0
    )
    printed = capsys.readouterr().out.strip("\n")
    lines = printed.splitlines()
    assert lines[0].startswith("| EIE Table II") and len(lines) == 2 + 13
    assert printed in README.read_text(encoding="utf-8")


def test_table2_pivots_power_and_area_per_module_and_formats_each_unit():
    rows = [
        row("power, SpmatRead", 317.12, 433.778, "mW", source="s"),
        row("area, SpmatRead", 469_412.0, 430_478.4, "um2", source="s"),
        row("power, LNZD units", 0.483, 0.0050889, "mW", source="s"),
        row("area, 64 PEs", 40.8, 35.7089, "mm2", source="s"),
    ]
    lines = table2_markdown(rows).splitlines()
    assert (
        lines[2]
        == "| SpmatRead | 317.1 mW | 433.8 mW | +36.8 % | 469,412 µm² | 430,478 µm² | −8.3 % |"
    )
    lnzd = next(line for line in lines if line.startswith("| LNZD"))
    assert lnzd.endswith("| 0.483 mW | 0.00509 mW | −98.9 % |  |  |  |")
    assert lines[-1].endswith("|  |  |  | 40.8 mm² | 35.7 mm² | −12.5 % |")
    assert len(lines) == 2 + 3  # rows without any check run are left out
    # the percentages are those of the rows: (model − published) / published
    assert math.isclose(rows[0]["error_pct"], (433.778 - 317.12) / 317.12 * 100)


def test_other_rows_get_their_own_table_after_table2():
    rows = [
        row("EIE Alex-7 time", 12.2, 12.81, "us", source="EIE Table IV"),
        row("area, ActRW", 18_934.0, 21_491.0, "um2", source="s|t"),
    ]
    text = validation_markdown(rows)
    table2, others = text.split("\n\n")
    assert "| ActRW |" in table2 and "Alex-7" not in table2
    assert others == rows_markdown(rows[:1])
    assert (
        others.splitlines()[2] == "| EIE Alex-7 time | 12.2 µs | 12.81 µs | +5.0 % | EIE Table IV |"
    )

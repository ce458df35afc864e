"""The README's Python code runs as written: its ```python blocks, in order, in one namespace
(as in a notebook), in an empty folder. Figures are not opened in a browser: `Figure.show` is
replaced by a recorder."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_python_blocks_are_found():
    text = "a\n```python\nx = 1\n```\n```\nnot python\n```\n```python\ny = 2\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = 2\n"]


def test_the_readme_python_examples_run(tmp_path, monkeypatch, capsys):
    from plotly import graph_objects as go

    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    shown = []
    monkeypatch.setattr(go.Figure, "show", lambda self, *a, **k: shown.append(self))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    for index, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {index + 1}", "exec"), namespace)
    capsys.readouterr()
    # what the example claims to produce
    assert (tmp_path / "small_cnn.dcz").stat().st_size > 0
    table, results = namespace["table"], namespace["results"]
    assert isinstance(table, pd.DataFrame) and list(table["layer"])[-1] == "total"
    assert list(table["layer"])[:-1] == ["conv1", "conv2", "fc1", "fc2"]
    totals = results[results["row_type"] == "total"]
    assert set(totals["accelerator"]) == {"eie", "edge-16"} and (totals["status"] == "ok").all()
    assert len(shown) == 1 and len(shown[0].data) > 0

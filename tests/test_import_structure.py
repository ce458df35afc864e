"""The import structure of the project: no import cycles, and DESIGN §1's import direction.

The import graph is read from the source with `ast`, not by importing anything: every `import`
and `from ... import` statement counts, those inside functions included (a lazy import that
closes a loop is still a cycle). A node is a module (`pkg.mod`, or `pkg` for its
`__init__.py`); `from pkg.mod import name` is an edge to `pkg.mod`, `from pkg import mod` an
edge to `pkg` and, when `pkg.mod` is a module, to it. A submodule importing one of its own
packages (`from simulator import load_accelerator` inside `simulator/`) is not an edge: that
`__init__` has always run before the submodule does.

Checks
- no cycle among the modules of `PACKAGES_WITHOUT_CYCLES` (DESIGN §1, the developers' guide:
  "No import cycles");
- every import across packages follows DESIGN §1: `workloads` imports none of the others;
  `compression` may import `workloads`; `simulator` may import `compression` and `workloads`;
  `reports` depends only on the result table's columns (imports none of the others); `dcsim`
  wires them all.
The graph builder itself is checked on small packages written to a temporary folder.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The project's top-level packages (DESIGN §1).
PROJECT_PACKAGES: tuple[str, ...] = ("workloads", "compression", "simulator", "reports", "dcsim")
#: The packages whose modules must not import each other in a cycle.
PACKAGES_WITHOUT_CYCLES: tuple[str, ...] = (
    "workloads",
    "compression",
    "simulator",
    "reports",
    "dcsim",
)
#: DESIGN §1: which other project packages each package may import.
ALLOWED_IMPORTS: dict[str, frozenset[str]] = {
    "workloads": frozenset(),
    "compression": frozenset({"workloads"}),
    "simulator": frozenset({"compression", "workloads"}),
    "reports": frozenset(),
    "dcsim": frozenset({"workloads", "compression", "simulator", "reports"}),
}


@dataclass(frozen=True)
class ImportEdge:
    """`source` imports `target` at `path`:`line` (path relative to the root)."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.path}:{self.line})"


def project_modules(root: Path, packages) -> dict[str, Path]:
    """Module name -> file, for every .py file under the `packages` folders of `root`."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _containing_module(name: str, modules) -> str | None:
    """`name` if it is a module, else the nearest enclosing module (`pkg.mod.Name` -> pkg.mod)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list:
    """The dotted names one import statement loads (relative imports made absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    return [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]


def import_edges(root: Path, packages) -> list[ImportEdge]:
    """Every import of one project module by another (module docstring), in file order."""
    modules = project_modules(root, packages)
    edges = []
    for module, path in modules.items():
        own_packages = {".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1)}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            targets = []
            for name in _imported_names(node, module, path.name == "__init__.py"):
                target = _containing_module(name, modules)
                if target and target != module and target not in own_packages:
                    targets.append(target)
            for target in dict.fromkeys(targets):
                edges.append(
                    ImportEdge(module, target, path.relative_to(root).as_posix(), node.lineno)
                )
    return sorted(edges, key=lambda e: (e.path, e.line, e.target))


def _strongly_connected(graph: dict[str, dict[str, ImportEdge]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(components)


def import_cycles(edges: list[ImportEdge]) -> list[tuple[list[str], list[ImportEdge]]]:
    """Per cycle cluster (strongly connected component): its modules and one shortest cycle
    through the first of them, as the import statements that close it."""
    graph: dict[str, dict[str, ImportEdge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
    found = []
    for component in _strongly_connected(graph):
        members = set(component)
        start = component[0]
        previous: dict[str, ImportEdge] = {}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            for w, edge in sorted(graph.get(v, {}).items()):
                if w in members and w not in previous:
                    previous[w] = edge
                    queue.append(w)
            if start in previous:
                break
        cycle = [previous[start]]
        while cycle[-1].source != start:
            cycle.append(previous[cycle[-1].source])
        found.append((component, cycle[::-1]))
    return found


def import_direction_violations(edges: list[ImportEdge]) -> list[str]:
    """One line per import across packages that DESIGN §1 does not allow."""
    lines = []
    for edge in edges:
        source, target = edge.source.split(".")[0], edge.target.split(".")[0]
        allowed = ALLOWED_IMPORTS[source]
        if target != source and target not in allowed:
            may = f"only {', '.join(sorted(allowed))}" if allowed else "none of the others"
            lines.append(
                f"{edge.path}:{edge.line}: {edge.source} imports {edge.target}; DESIGN §1: "
                f"{source} may import {may}"
            )
    return lines


def _describe(cycles) -> str:
    return "\n".join(
        f"import cycle among {', '.join(component)}: " + " ; ".join(str(e) for e in cycle)
        for component, cycle in cycles
    )


def test_no_import_cycles_in_the_packages():
    edges = [
        edge
        for edge in import_edges(ROOT, PACKAGES_WITHOUT_CYCLES)
        if edge.target.split(".")[0] in PACKAGES_WITHOUT_CYCLES
    ]
    assert edges, "no imports found: is ROOT the repository root?"
    cycles = import_cycles(edges)
    if cycles:
        pytest.fail("\n" + _describe(cycles), pytrace=False)


def test_imports_follow_the_design_direction():
    edges = import_edges(ROOT, PROJECT_PACKAGES)
    assert {e.source.split(".")[0] for e in edges} == set(PROJECT_PACKAGES)
    violations = import_direction_violations(edges)
    if violations:
        pytest.fail("\n" + "\n".join(violations), pytrace=False)


def test_every_project_package_has_a_direction_rule():
    assert set(ALLOWED_IMPORTS) == set(PROJECT_PACKAGES)
    assert set(PACKAGES_WITHOUT_CYCLES) <= set(PROJECT_PACKAGES)
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert on_disk == set(PROJECT_PACKAGES)


# --- the graph builder on planted examples ---------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_lazy_import_that_closes_a_loop_is_a_cycle(tmp_path):
    _write(
        tmp_path,
        {
            "pa/__init__.py": "from pa.one import f\n",
            "pa/one.py": "def f():\n    from pa.two import g\n    return g\n",
            "pa/two.py": "import math\n\nfrom pa.three import h\n",
            "pa/three.py": "from . import one\n",
            "pa/alone.py": "from pa import one\nfrom pa import f\n",
        },
    )
    edges = import_edges(tmp_path, ["pa"])
    assert {(e.source, e.target) for e in edges} == {
        ("pa", "pa.one"),
        ("pa.one", "pa.two"),
        ("pa.two", "pa.three"),
        ("pa.three", "pa.one"),  # relative import resolved
        ("pa.alone", "pa.one"),  # `from pa import f`: own package, not an edge
    }
    ((component, cycle),) = import_cycles(edges)
    assert component == ["pa.one", "pa.three", "pa.two"]
    assert [(e.source, e.target, e.line) for e in cycle] == [
        ("pa.one", "pa.two", 2),
        ("pa.two", "pa.three", 3),
        ("pa.three", "pa.one", 1),
    ]
    message = _describe(import_cycles(edges))
    assert "pa.one -> pa.two (pa/one.py:2)" in message
    assert "pa.three -> pa.one (pa/three.py:1)" in message


def test_a_forbidden_import_is_named_with_its_line(tmp_path):
    _write(
        tmp_path,
        {
            "workloads/__init__.py": "",
            "workloads/shapes.py": "x = 1\n",
            "simulator/__init__.py": "",
            "simulator/model.py": "from workloads.shapes import x\n",
            "reports/__init__.py": "",
            "reports/html.py": "import os\n\n\ndef page():\n    import simulator.model\n",
        },
    )
    edges = import_edges(tmp_path, ["workloads", "simulator", "reports"])
    assert import_cycles(edges) == []
    assert import_direction_violations(edges) == [
        "reports/html.py:5: reports.html imports simulator.model; DESIGN §1: reports may "
        "import none of the others"
    ]

"""The shape of the code, kept by tests: no import cycle among hil's modules, no module past 400
lines, and the layer contracts (pyproject.toml) hold — with a proof that they would catch a route
importing a repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hil"
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
MAX_LINES = 400


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_among_modules() -> None:
    graph = grimp.build_graph("hil")
    assert len(graph.modules) > 50
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c", "d"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_import(importer="c", imported="d")
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_module_over_400_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py") if "migrations" not in p.parts
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"})


def test_layer_contracts_hold() -> None:
    result = _lint(SRC.parents[1])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_layer_contracts_fail_when_a_route_imports_a_repository(tmp_path: Path) -> None:
    root = SRC.parents[1]
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(SRC, tmp_path / "src" / "hil", ignore=shutil.ignore_patterns("__pycache__"))
    route = tmp_path / "src" / "hil" / "server" / "routes_runs.py"
    route.write_text(route.read_text(encoding="utf-8") + "\nfrom hil.store.run_repo import RunRepo  # noqa\n",
                     encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "The CLI and the server reach data only through the services BROKEN" in result.stdout
    assert "hil.server.routes_runs -> hil.store.run_repo" in result.stdout


@pytest.mark.parametrize("module", ["hil.workflows", "hil.events", "hil.examples", "hil.store.tables"])
def test_definitions_and_the_store_import_nothing_above_them(module: str) -> None:
    graph = grimp.build_graph("hil")
    above = ("hil.agents", "hil.engine", "hil.services", "hil.server", "hil.cli", "hil.connectors",
             "hil.knowledge", "hil.models")
    reached = graph.find_upstream_modules(module)
    assert not [m for m in reached if m.startswith(above)]


def test_benchmark_only_packages_stay_out_of_hil_and_its_tests() -> None:
    """LangGraph is the `bench` extra: bench/peers.py compares against it; hil never needs it."""
    import ast
    import tomllib

    root = SRC.parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    bench_only = {"langgraph", "langgraph-checkpoint-sqlite"}
    assert {r.split(">")[0].split("=")[0].strip() for r in project["optional-dependencies"]["bench"]} == bench_only
    assert not [d for d in project["dependencies"] if d.split(">")[0].split("[")[0].strip() in bench_only]
    importing = []
    for path in [*SRC.rglob("*.py"), *(root / "tests").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            importing += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "langgraph"]
    assert importing == []
    assert "langgraph" in (root / "bench" / "peers.py").read_text()  # the check looks where it should

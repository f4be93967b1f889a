"""The house holds: imports point down the layers and no modules import each other in a loop.

Layers, low to high: core < runtime < project < services < faces (cli, tui, the public face,
the demo). Every import counts, including the ones made inside functions to load lazily.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "workbench"
GROUND = {"workbench.errors"}
LAYERS = {"core": 0, "runtime": 1, "project": 2, "services": 3}
FACE = 4
LAYER_NAMES = {0: "core", 1: "runtime", 2: "project", 3: "services", FACE: "faces"}


def module_name(path: Path) -> str:
    """The dotted name of a module file under the package."""
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (the project templates are not modules)."""
    return {
        module_name(path): path
        for path in PACKAGE_ROOT.rglob("*.py")
        if "templates" not in path.relative_to(PACKAGE_ROOT).parts
    }


def layer_of(module: str) -> int:
    """The layer a module belongs to; the ground floor is below core."""
    if module in GROUND:
        return -1
    parts = module.split(".")
    return LAYERS.get(parts[1], FACE) if len(parts) > 1 else FACE


def imported_modules(module: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The package's modules that one module imports, anywhere in its body."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            names = [name if name in modules else base for name in names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module and name.startswith("workbench"):
                yield name


def import_graph() -> dict[str, set[str]]:
    """Each module with the package's modules it imports."""
    modules = all_modules()
    return {name: set(imported_modules(name, path, modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_lazy_imports() -> None:
    graph = import_graph()

    assert "workbench.core.scan" in graph["workbench.project"]
    assert any(name.startswith("workbench.tui") for name in graph["workbench.cli.flask_group"])


def test_no_modules_import_each_other_in_a_loop() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert cycles(graph) == [["a", "b", "c"]]


def test_imports_point_down_the_layers_only() -> None:
    upward = [
        f"{module} ({LAYER_NAMES.get(layer_of(module), 'ground')}) imports {target} "
        f"({LAYER_NAMES[layer_of(target)]})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer_of(target) > max(layer_of(module), 0) or (layer_of(module) == -1 and target)
    ]

    assert upward == []


@pytest.mark.parametrize("face", ["workbench.tui"])
def test_the_workbench_screen_never_talks_to_flask(face: str) -> None:
    talking = [
        name
        for name, path in all_modules().items()
        if name.startswith(face) and "flask" in _third_party_imports(path)
    ]

    assert talking == []


def _third_party_imports(path: Path) -> set[str]:
    """The top-level names of everything a module imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names

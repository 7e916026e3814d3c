"""Dependencies point one way: read from the source (ast), never by importing the modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "servicemap"
# What geo/ (places and geometry) must not reach: the writers and the HTTP layer above it.
ABOVE_GEO = ("servicemap.api", "servicemap.registry", "servicemap.audit",
             "servicemap.importing", "servicemap.locating", "servicemap.seeding")


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue  # run by alembic, never imported by the package
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's own modules `name` imports anywhere in its source (in functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            if node.level:
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:  # `from . import audit` names a module, not a member
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {target for target in found if target in modules and target != name}


def _runtime_nodes(tree: ast.AST):
    """Every node that runs, in functions too: all but `if TYPE_CHECKING:` blocks (annotations
    only, never imported)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for branch in node.orelse:
                yield branch
                yield from _runtime_nodes(branch)
            continue
        yield node
        yield from _runtime_nodes(node)


def graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports(name, path, modules) for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the list of modules around it, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path):
    edges = graph()
    assert "servicemap.audit" in edges["servicemap.registry"]  # `from . import audit, hours`
    assert "servicemap.geo.coordsys" in edges["servicemap.registry"]
    source = tmp_path / "x.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n"
                      "def f():\n    from .b import B\n", encoding="utf-8")
    modules = {"servicemap.x": source, "servicemap.a": source, "servicemap.b": source}
    assert imports("servicemap.x", source, modules) == {"servicemap.b"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_servicemap_imports_itself_around_a_cycle():
    assert find_cycle(graph()) is None


def test_geo_imports_nothing_from_the_writers_or_the_api():
    reaching = {name: sorted(t for t in targets if t.startswith(ABOVE_GEO))
                for name, targets in graph().items() if name.startswith("servicemap.geo")}
    assert {name: targets for name, targets in reaching.items() if targets} == {}

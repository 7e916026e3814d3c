"""How the package's modules depend on each other: only the store talks to the drivers."""

from __future__ import annotations

import ast
from pathlib import Path

import servicemap

PACKAGE = Path(servicemap.__file__).parent
DRIVERS = {"psycopg", "sqlite3", "psycopg2"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in {"store", "migrations"}:
            continue
        yield relative, path.read_text(encoding="utf-8")


def _imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_only_the_store_imports_a_database_driver():
    offenders = {str(relative): sorted(name for name in _imported(ast.parse(text))
                                       if name.split(".")[0] in DRIVERS)
                 for relative, text in _modules()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_only_the_store_asks_which_backend_it_talks_to():
    # models.py's column type converts per dialect, as SQLAlchemy types do.
    asking = [str(relative) for relative, text in _modules()
              if "dialect.name" in text and str(relative) != "models.py"]
    assert asking == []


def test_the_database_layer_does_not_read_the_request():
    tree = ast.parse((PACKAGE / "database.py").read_text(encoding="utf-8"))
    assert not {"flask.request", "flask.has_request_context"} & _imported(tree)


def test_the_engine_has_one_accessor():
    reaching = [str(relative) for relative, text in _modules() if '.kw["bind"]' in text]
    assert reaching == []

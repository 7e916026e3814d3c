"""The catalogue: every programme file of a folder, validated on load, in file-name order."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from servicemap.config import default_seeds_dir

from .errors import CatalogueError, SpecError, format_path
from .facts import Person
from .programme import Programme, build_programme, make_context

SCHEMA_PATH = Path(__file__).with_name("programme.schema.json")
# The catalogue's own file (its version), beside the programme files and not one of them.
HEADER = "catalogue.yaml"
HEADER_KEYS = {"version", "document"}


class Catalogue:
    """The programmes, in catalogue order, and their evaluation for a person."""

    def __init__(self, programmes: list[Programme], version: int | None = None):
        self.version = version
        self.programmes = list(programmes)
        self._by_id = {programme.id: programme for programme in self.programmes}

    def get(self, programme_id: str) -> Programme | None:
        """A programme by id, or None."""
        return self._by_id.get(programme_id)

    def evaluate(self, person: Person, as_of: date) -> list[dict]:
        """One result per programme, in catalogue order."""
        ctx = make_context(person, as_of)
        return [programme.evaluate_in(ctx) for programme in self.programmes]


def load_catalogue(folder: Path | None = None) -> Catalogue:
    """Every *.yaml file of a folder (seeds/policies by default); CatalogueError if any is bad."""
    folder = Path(folder) if folder else default_seeds_dir() / "policies"
    paths = sorted(path for path in folder.glob("*.yaml") if path.name != HEADER)
    if not paths:
        raise CatalogueError(f"{folder}: no programme files (*.yaml)")
    programmes, files = [], {}
    for path in paths:
        programme = load_programme(path)
        if programme.id in files:
            raise CatalogueError(f"{path}: id: duplicate programme id {programme.id!r}, "
                                 f"already used by {files[programme.id].name}")
        files[programme.id] = path
        programmes.append(programme)
    header = folder / HEADER
    return Catalogue(programmes, load_version(header) if header.exists() else None)


def load_version(path: Path) -> int:
    """The catalogue's version from its header file: {version: 2, document: ...}."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CatalogueError(f"{path}: {error}") from None
    if not isinstance(data, dict) or not set(data) <= HEADER_KEYS:
        raise CatalogueError(f"{path}: (top level): a mapping with the keys "
                             f"{', '.join(sorted(HEADER_KEYS))}")
    version = data.get("version")
    if type(version) is not int or version < 1:
        raise CatalogueError(f"{path}: version: {version!r} is not a whole number from 1")
    return version


def load_programme(path: Path) -> Programme:
    """One programme file, checked against the schema and then for meaning."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise CatalogueError(f"{path}: {where}not valid YAML: {error.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CatalogueError(f"{path}: {error}") from None
    lines: dict[tuple, int] = {}
    try:
        if root is None:
            raise SpecError((), "the file is empty")
        _map_lines(root, (), lines)
        data = yaml.load(text, Loader=_Loader)
        error = best_match(_validator().iter_errors(data))
        if error is not None:
            raise SpecError(tuple(error.absolute_path), error.message)
        return build_programme(data)
    except SpecError as error:
        raise CatalogueError(_describe(path, error, lines)) from None


def _describe(path: Path, error: SpecError, lines: dict) -> str:
    """'file: criteria[1].any[2] (line 40): what is wrong', with the nearest known line."""
    where = error.path
    while where and where not in lines:
        where = where[:-1]
    line = f" (line {lines[where]})" if where in lines else ""
    return f"{path}: {format_path(error.path)}{line}: {error.message}"


def _map_lines(node, path: tuple, lines: dict, line: int | None = None) -> None:
    """The line of every key and item by its path; a key given twice is an error."""
    lines[path] = line or node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key, key_line = key_node.value, key_node.start_mark.line + 1
            if key in seen:
                lines[(*path, key)] = key_line
                raise SpecError((*path, key), f"{key!r} is given twice")
            seen.add(key)
            _map_lines(value_node, (*path, key), lines, key_line)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), lines)


class _Loader(yaml.SafeLoader):
    """YAML with dates left as strings, so that the schema and the loader check them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)

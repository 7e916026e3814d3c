"""Reading an uploaded file into rows of facility input: CSV (any encoding Excel writes),
XLSX, JSON, GeoJSON and HSDS 3.0 JSON. Each row keeps its line so problems can name it.

Rows are produced one at a time and every limit is checked as they are read (tables.py for
CSV and XLSX), so a small file cannot grow into a large one in memory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..spreadsheet import CHINESE_HEADERS, COLUMNS, CellError, restore_text, row_to_facility
from .hsds import hsds_services, is_hsds, service_to_facility
from .tables import (
    NO_LIMITS,
    BadCell,
    FileTooLarge,
    ReadLimits,
    UnreadableFile,
    counted,
    csv_records,
    too_many,
    xlsx_records,
)

__all__ = ["EXTENSIONS", "FACILITY_TABLE", "MEDIA_TYPES", "NO_LIMITS", "XLSX", "FileTooLarge",
           "ReadLimits", "SourceFile", "SourceRow", "TableFormat", "UnreadableFile", "read_file"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"text/csv": "csv", XLSX: "xlsx", "application/json": "json",
               "application/geo+json": "geojson"}
EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".geojson": "geojson"}
# Fields of our own responses that an import of an export may carry and that are the
# server's to set: they are not data to import.
SERVER_FIELDS = ("id", "updated_at", "distance_m", "open_now", "next_change", "holiday_data")
# The longest cell read (the csv module's own default limit); no field comes close.
MAX_CELL_CHARS = 131_072


@dataclass(frozen=True)
class TableFormat:
    """How the rows of one kind of record read from a table (CSV, XLSX): its columns, the
    Chinese headers that name them, and the converter of a row to the JSON a client would
    POST; `hsds`: whether a JSON document may be HSDS 3.0 (facilities only)."""

    columns: list[str]
    chinese_headers: dict[str, str]
    row_to_input: Callable[[dict[str, str]], dict]
    hsds: bool = True


# row_to_facility looked up when called, so that a test can stand in for it.
FACILITY_TABLE = TableFormat(COLUMNS, CHINESE_HEADERS, lambda cells: row_to_facility(cells))


@dataclass
class SourceRow:
    line: int
    data: dict | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as in the file


@dataclass
class SourceFile:
    format: str
    rows: Iterator[SourceRow]  # read lazily: each row once
    unknown_columns: list[str] = field(default_factory=list)


def read_file(data: bytes, fmt: str, coordsys: str | None = None,
              limits: ReadLimits = NO_LIMITS, table: TableFormat = FACILITY_TABLE) -> SourceFile:
    """Parse `data` in format `fmt` (csv, xlsx, json, geojson; json may be HSDS) into rows of
    the records `table` describes (facilities by default)."""
    if fmt == "csv":
        return _table("csv", counted(csv_records(data, limits), limits), coordsys, table)
    if fmt == "xlsx":
        return _table("xlsx", counted(xlsx_records(data, limits), limits), coordsys, table)
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise UnreadableFile(f"not valid JSON: {reason}") from None
    if fmt == "geojson" or (isinstance(document, dict) and document.get("type") in (
            "FeatureCollection", "Feature")):
        return _geojson(document, coordsys, limits)
    if table.hsds and is_hsds(document):
        services = _within(hsds_services(document), limits)
        return SourceFile("hsds", (SourceRow(n, *_guard(_hsds_service, service))
                                   for n, service in enumerate(services, 1)))
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise UnreadableFile("expected a JSON array of records (or {\"items\": [...]})")
    return SourceFile("json", (SourceRow(n, *_guard(_json_item, item, coordsys))
                               for n, item in enumerate(_within(items, limits), 1)))


def _within(items: list, limits: ReadLimits) -> list:
    if limits.max_rows is not None and len(items) > limits.max_rows:
        raise too_many(limits.max_rows)
    return items


def _guard(convert, *args) -> tuple[dict | None, list[tuple[str, str]]]:
    try:
        return convert(*args), []
    except CellError as exc:
        return None, [(exc.column, str(exc))]


def _table(fmt: str, records, coordsys: str | None, table: TableFormat) -> SourceFile:
    _line, header = next(records, (1, None))
    if not header or not any(h.strip() for h in header):
        raise UnreadableFile("expected a header row naming the columns")
    fields = [table.chinese_headers.get(h.strip(), h.strip()) for h in header]
    unknown = [h for h, f in zip(header, fields, strict=True)
               if f not in table.columns and h.strip()]
    labels = {f: h.strip() for h, f in zip(header, fields, strict=True)}
    return SourceFile(fmt, _table_rows(records, fields, labels, coordsys, table), unknown)


def _table_rows(records, fields: list[str], labels: dict[str, str], coordsys: str | None,
                table: TableFormat):
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        cells, problems = {}, []
        for name, cell in zip(fields, record, strict=False):
            if name not in table.columns:
                continue
            if isinstance(cell, BadCell):
                problems.append((name, str(cell)))
            elif len(cell) > MAX_CELL_CHARS:
                problems.append((name, f"longer than {MAX_CELL_CHARS} characters. 单元格过长。"))
            else:
                cells[name] = restore_text(cell)
        if coordsys and not cells.get("coordsys"):
            cells["coordsys"] = coordsys
        if problems:
            yield SourceRow(line, None, problems, labels)
        else:
            yield SourceRow(line, *_guard(table.row_to_input, cells), labels)


def _hsds_service(service) -> dict:
    try:
        return service_to_facility(service)
    except (AttributeError, TypeError, KeyError, IndexError):
        # The document is the caller's: a string where HSDS has an object, a number where it
        # has an array. Say so for this service instead of failing the request.
        raise CellError("service", "not an HSDS 3.0 service: an object or array is missing "
                                   "or of the wrong type") from None


def _json_item(item, coordsys: str | None) -> dict:
    if not isinstance(item, dict):
        raise CellError("body", "each facility must be a JSON object")
    item = {k: v for k, v in item.items() if k not in SERVER_FIELDS}
    if isinstance(item.get("location"), dict):
        item["location"] = {k: v for k, v in item["location"].items() if k != "source"}
        if coordsys:
            item["location"].setdefault("coordsys", coordsys)
    return item


def _geojson(document: dict, coordsys: str | None, limits: ReadLimits) -> SourceFile:
    if not isinstance(document, dict):
        raise UnreadableFile("expected a GeoJSON object: a FeatureCollection or a Feature")
    if document.get("type") == "Feature":
        features = [document]
    else:
        features = document.get("features")
        if not isinstance(features, list):
            raise UnreadableFile("a GeoJSON FeatureCollection needs a `features` array")
    coordsys = coordsys or document.get("coordsys")
    return SourceFile("geojson", (SourceRow(number, *_guard(_feature, feature, coordsys))
                                  for number, feature in enumerate(_within(features, limits), 1)))


def _feature(feature, coordsys: str | None) -> dict:
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        raise CellError("properties", "each feature needs a `properties` object")
    data = _json_item(feature["properties"], None)
    geometry = feature.get("geometry")
    if geometry is not None:
        if not (isinstance(geometry, dict) and geometry.get("type") == "Point"
                and isinstance(geometry.get("coordinates"), list)
                and len(geometry["coordinates"]) >= 2):
            raise CellError("geometry", "only Point geometries are facilities: expected "
                                        '{"type": "Point", "coordinates": [lon, lat]}')
        lon, lat = geometry["coordinates"][:2]
        previous = data.get("location") if isinstance(data.get("location"), dict) else {}
        data["location"] = {**{k: v for k, v in previous.items() if k not in ("lat", "lon")},
                            "lat": lat, "lon": lon}
        data["location"].setdefault("coordsys", coordsys or "wgs84")
    return data

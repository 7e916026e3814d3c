"""Reading an uploaded file into rows of facility input: CSV (any encoding Excel writes),
XLSX, JSON, GeoJSON and HSDS 3.0 JSON. Each row keeps its line so problems can name it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from ..spreadsheet import CHINESE_HEADERS, COLUMNS, CellError, row_to_facility
from .hsds import hsds_services, is_hsds, service_to_facility

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"text/csv": "csv", XLSX: "xlsx", "application/json": "json",
               "application/geo+json": "geojson"}
EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".geojson": "geojson"}
# Fields of our own responses that an import of an export may carry and that are the
# server's to set: they are not data to import.
SERVER_FIELDS = ("id", "updated_at", "distance_m", "open_now", "next_change", "holiday_data")


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (wrong format, broken encoding, no header)."""


@dataclass
class SourceRow:
    line: int
    data: dict | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as in the file


@dataclass
class SourceFile:
    format: str
    rows: list[SourceRow]
    unknown_columns: list[str] = field(default_factory=list)


def read_file(data: bytes, fmt: str, coordsys: str | None = None) -> SourceFile:
    """Parse `data` in format `fmt` (csv, xlsx, json, geojson; json may be HSDS)."""
    if fmt == "csv":
        return _table("csv", _csv_records(data), coordsys)
    if fmt == "xlsx":
        return _table("xlsx", _xlsx_records(data), coordsys)
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableFile(f"not valid JSON: {exc}") from None
    if fmt == "geojson" or (isinstance(document, dict) and document.get("type") in (
            "FeatureCollection", "Feature")):
        return _geojson(document, coordsys)
    if is_hsds(document):
        return SourceFile("hsds", [SourceRow(n, *_guard(service_to_facility, service))
                                   for n, service in enumerate(hsds_services(document), 1)])
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise UnreadableFile("expected a JSON array of facilities (or {\"items\": [...]})")
    return SourceFile("json", [SourceRow(n, *_guard(_json_item, item, coordsys))
                               for n, item in enumerate(items, 1)])


def _guard(convert, *args) -> tuple[dict | None, list[tuple[str, str]]]:
    try:
        return convert(*args), []
    except CellError as exc:
        return None, [(exc.column, str(exc))]


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GBK; GB18030 is its superset. BOM means UTF-8.
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise UnreadableFile("the CSV is neither UTF-8 nor GBK/GB18030 text") from None


def _csv_records(data: bytes):
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    header = next(reader, None)
    if not header:
        raise UnreadableFile("the file is empty: expected a header row")
    yield 1, header
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        if any(cell.strip() for cell in record):
            yield start, record


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise UnreadableFile(f"not a readable XLSX workbook: {type(exc).__name__}") from None
    for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        cells = ["" if v is None else _cell_text(v) for v in values]
        if number == 1 or any(cell.strip() for cell in cells):
            yield number, cells


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(fmt: str, records, coordsys: str | None) -> SourceFile:
    records = iter(records)
    _line, header = next(records, (1, None))
    if not header or not any(h.strip() for h in header):
        raise UnreadableFile("expected a header row naming the columns")
    fields = [CHINESE_HEADERS.get(h.strip(), h.strip()) for h in header]
    unknown = [h for h, f in zip(header, fields, strict=True) if f not in COLUMNS and h.strip()]
    labels = {f: h.strip() for h, f in zip(header, fields, strict=True)}
    rows = []
    for line, record in records:
        cells = dict(zip(fields, record, strict=False))
        cells = {k: v for k, v in cells.items() if k in COLUMNS}
        if coordsys and not cells.get("coordsys"):
            cells["coordsys"] = coordsys
        data, problems = _guard(row_to_facility, cells)
        rows.append(SourceRow(line, data, problems, labels))
    return SourceFile(fmt, rows, unknown)


def _json_item(item, coordsys: str | None) -> dict:
    if not isinstance(item, dict):
        raise CellError("body", "each facility must be a JSON object")
    item = {k: v for k, v in item.items() if k not in SERVER_FIELDS}
    if isinstance(item.get("location"), dict):
        item["location"] = {k: v for k, v in item["location"].items() if k != "source"}
        if coordsys:
            item["location"].setdefault("coordsys", coordsys)
    return item


def _geojson(document: dict, coordsys: str | None) -> SourceFile:
    if not isinstance(document, dict):
        raise UnreadableFile("expected a GeoJSON object: a FeatureCollection or a Feature")
    if document.get("type") == "Feature":
        features = [document]
    else:
        features = document.get("features")
        if not isinstance(features, list):
            raise UnreadableFile("a GeoJSON FeatureCollection needs a `features` array")
    coordsys = coordsys or document.get("coordsys")
    rows = []
    for number, feature in enumerate(features, 1):
        rows.append(SourceRow(number, *_guard(_feature, feature, coordsys)))
    return SourceFile("geojson", rows)


def _feature(feature, coordsys: str | None) -> dict:
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        raise CellError("properties", "each feature needs a `properties` object")
    data = _json_item(feature["properties"], None)
    geometry = feature.get("geometry")
    if geometry is not None:
        if geometry.get("type") != "Point" or len(geometry.get("coordinates") or []) < 2:
            raise CellError("geometry", "only Point geometries are facilities")
        lon, lat = geometry["coordinates"][:2]
        previous = data.get("location") if isinstance(data.get("location"), dict) else {}
        data["location"] = {**{k: v for k, v in previous.items() if k not in ("lat", "lon")},
                            "lat": lat, "lon": lon}
        data["location"].setdefault("coordsys", coordsys or "wgs84")
    return data

"""Reading an uploaded file into rows of facility input: CSV (any encoding Excel writes),
XLSX, JSON, GeoJSON and HSDS 3.0 JSON. Each row keeps its line so problems can name it.

Rows are produced one at a time and every limit is checked as they are read: the reader stops
at the first row past the limit, and an XLSX file's members are measured before they are
unpacked, so a small file cannot grow into a large one in memory."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.etree import ElementTree

from ..bounds import DATE_RANGE_MESSAGE, date_in_bounds
from ..spreadsheet import CHINESE_HEADERS, COLUMNS, CellError, restore_text, row_to_facility
from .hsds import hsds_services, is_hsds, service_to_facility

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"text/csv": "csv", XLSX: "xlsx", "application/json": "json",
               "application/geo+json": "geojson"}
EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".geojson": "geojson"}
# Fields of our own responses that an import of an export may carry and that are the
# server's to set: they are not data to import.
SERVER_FIELDS = ("id", "updated_at", "distance_m")
# The longest cell read (the csv module's own default limit); no field comes close.
MAX_CELL_CHARS = 131_072
# A real XLSX sheet unpacks to about 10× its zipped size; 30× leaves room and stops zip bombs.
XLSX_MAX_EXPANSION = 30
XLSX_SHARED_STRINGS = "xl/sharedStrings.xml"

# The limit is checked per cell below, where the line and column can be named; the csv
# module's own check raises for the whole file without saying where.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (wrong format, broken encoding, no header); `line`
    names the first bad line when there is one."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


class FileTooLarge(ValueError):
    """The file holds more than a limit allows (rows, or unpacked bytes)."""


@dataclass(frozen=True)
class ReadLimits:
    """Limits checked while reading; None means none (the command line's files)."""

    max_rows: int | None = None
    max_bytes: int | None = None


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


class BadCell(str):
    """A cell that could not be read as text (an XLSX date out of range): its reason."""


NO_LIMITS = ReadLimits()


def read_file(data: bytes, fmt: str, coordsys: str | None = None,
              limits: ReadLimits = NO_LIMITS) -> SourceFile:
    """Parse `data` in format `fmt` (csv, xlsx, json, geojson; json may be HSDS)."""
    if fmt == "csv":
        return _table("csv", _counted(_csv_records(data, limits), limits), coordsys)
    if fmt == "xlsx":
        return _table("xlsx", _counted(_xlsx_records(data, limits), limits), coordsys)
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise UnreadableFile(f"not valid JSON: {reason}") from None
    if fmt == "geojson" or (isinstance(document, dict) and document.get("type") in (
            "FeatureCollection", "Feature")):
        return _geojson(document, coordsys, limits)
    if is_hsds(document):
        services = _within(hsds_services(document), limits)
        return SourceFile("hsds", (SourceRow(n, *_guard(service_to_facility, service))
                                   for n, service in enumerate(services, 1)))
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise UnreadableFile("expected a JSON array of facilities (or {\"items\": [...]})")
    return SourceFile("json", (SourceRow(n, *_guard(_json_item, item, coordsys))
                               for n, item in enumerate(_within(items, limits), 1)))


def _too_many(limit: int) -> FileTooLarge:
    return FileTooLarge(f"The file has more than {limit} rows; at most {limit} at once. "
                        f"文件超过 {limit} 行。")


def _within(items: list, limits: ReadLimits) -> list:
    if limits.max_rows is not None and len(items) > limits.max_rows:
        raise _too_many(limits.max_rows)
    return items


def _counted(records, limits: ReadLimits):
    """The header and records, stopping at the first record past the row limit; blank rows
    count, so a file of a million empty rows stops as soon as a full one would."""
    for number, record in enumerate(records):
        if limits.max_rows is not None and number > limits.max_rows:
            raise _too_many(limits.max_rows)
        yield record


def _guard(convert, *args) -> tuple[dict | None, list[tuple[str, str]]]:
    try:
        return convert(*args), []
    except CellError as exc:
        return None, [(exc.column, str(exc))]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _encoding(data: bytes) -> tuple[str, int]:
    """The one encoding the whole file is in, and how many bytes of BOM to skip.

    UTF-8 (with or without a BOM) first; GBK/GB18030, which Excel on Chinese Windows
    writes, only when no line is UTF-8 text. GB18030 decodes almost any bytes, so a file
    with UTF-8 lines and others is mixed, and refused rather than decoded into mojibake.
    """
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        data[bom:].decode("utf-8")
        return "utf-8", bom
    except UnicodeDecodeError as exc:
        first_bad = _line_of(data, bom + exc.start)
    if bom or any(line.isascii() is False and _is_utf8(line) for line in data.splitlines()):
        raise UnreadableFile(
            f"line {first_bad} is not UTF-8 like the rest of the file; save the whole file in "
            f"one encoding (UTF-8). 第 {first_bad} 行的编码与文件其余部分 (UTF-8) 不一致。",
            first_bad)
    try:
        data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise UnreadableFile(
            f"line {line} is neither UTF-8 nor GBK/GB18030 text; save the file as UTF-8. "
            f"第 {line} 行既不是 UTF-8 也不是 GBK/GB18030 编码。", line) from None
    return "gb18030", 0


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _csv_records(data: bytes, limits: ReadLimits):
    encoding, skip = _encoding(data)

    def reader():
        # Decoded as it is read: the file's text is never held twice.
        return csv.reader(io.TextIOWrapper(io.BytesIO(data[skip:] if skip else data),
                                           encoding=encoding, newline=""))

    # More lines than the limit allows: count the records (quoted cells may hold newlines)
    # before converting any, so a file of millions of rows is refused in a second.
    if limits.max_rows is not None and data.count(b"\n") > limits.max_rows:
        for number, _record in enumerate(reader()):
            if number > limits.max_rows:
                raise _too_many(limits.max_rows)
    reader = reader()
    header = next(reader, None)
    if not header:
        raise UnreadableFile("the file is empty: expected a header row")
    yield 1, header
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        yield start, record


def _xlsx_records(data: bytes, limits: ReadLimits):
    from openpyxl import load_workbook

    _check_workbook(data, limits)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise UnreadableFile(f"not a readable XLSX workbook: {type(exc).__name__}") from None
    try:
        rows, number = sheet.iter_rows(values_only=True), 0
        while True:
            try:
                values = next(rows, None)
            except Exception as exc:  # broken sheet XML, as openpyxl finds it row by row
                raise UnreadableFile(f"row {number + 1} of the sheet cannot be read: "
                                     f"{type(exc).__name__}", number + 1) from None
            if values is None:
                return
            number += 1
            yield number, ["" if v is None else _cell_text(v) for v in values]
    finally:
        book.close()


def _check_workbook(data: bytes, limits: ReadLimits) -> None:
    """Refuse a workbook whose members unpack to far more than a real sheet would, or whose
    sheets hold more rows than the limit, before openpyxl reads it. zipfile never yields
    more than a member's declared size (it stops there and fails the CRC check), so the
    declared sizes are the bound."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise UnreadableFile("not a readable XLSX workbook: not a ZIP archive") from None
    members = archive.infolist()
    unpacked = sum(member.file_size for member in members)
    if unpacked > XLSX_MAX_EXPANSION * len(data) + 1_048_576:
        raise FileTooLarge(f"The workbook unpacks to {unpacked} bytes, over "
                           f"{XLSX_MAX_EXPANSION} times its size. 工作簿解压后过大。")
    # openpyxl holds every shared string in memory: no more text than a CSV upload may carry.
    strings = sum(m.file_size for m in members if m.filename == XLSX_SHARED_STRINGS)
    if limits.max_bytes is not None and strings > limits.max_bytes:
        raise FileTooLarge(f"The workbook's text unpacks to {strings} bytes; at most "
                           f"{limits.max_bytes}. 工作簿文字内容过大。")
    if limits.max_rows is not None:
        for member in members:
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(
                    ".xml"):
                _check_sheet_rows(archive, member, limits.max_rows)


def _check_sheet_rows(archive: zipfile.ZipFile, member: zipfile.ZipInfo,
                      max_rows: int) -> None:
    """Refuse a sheet of more rows than the limit before openpyxl opens the workbook (which
    scans a whole sheet that lacks a <dimension>): expat is many times faster than its
    conversion of cells. Row numbers count, not row elements: openpyxl yields the empty
    rows between them."""
    number = 0
    with archive.open(member) as source:
        try:
            for _event, element in ElementTree.iterparse(source):
                if element.tag.rpartition("}")[2] == "row":
                    r = element.get("r")
                    number = int(r) if r and r.isascii() and r.isdigit() else number + 1
                    if number > max_rows + 1:  # the header and max_rows rows
                        raise _too_many(max_rows)
                    element.clear()
        except ElementTree.ParseError as exc:
            raise UnreadableFile(f"not a readable XLSX workbook: {exc}") from None


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        if not date_in_bounds(day):
            return BadCell(DATE_RANGE_MESSAGE)
        if isinstance(value, datetime) and value.time() != datetime.min.time():
            return value.isoformat(sep=" ", timespec="minutes")
        return day.isoformat()
    return str(value)


def _table(fmt: str, records, coordsys: str | None) -> SourceFile:
    _line, header = next(records, (1, None))
    if not header or not any(h.strip() for h in header):
        raise UnreadableFile("expected a header row naming the columns")
    fields = [CHINESE_HEADERS.get(h.strip(), h.strip()) for h in header]
    unknown = [h for h, f in zip(header, fields, strict=True) if f not in COLUMNS and h.strip()]
    labels = {f: h.strip() for h, f in zip(header, fields, strict=True)}
    return SourceFile(fmt, _table_rows(records, fields, labels, coordsys), unknown)


def _table_rows(records, fields: list[str], labels: dict[str, str], coordsys: str | None):
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        cells, problems = {}, []
        for name, cell in zip(fields, record, strict=False):
            if name not in COLUMNS:
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
            yield SourceRow(line, *_guard(row_to_facility, cells), labels)


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

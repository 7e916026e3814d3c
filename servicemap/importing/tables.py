"""CSV and XLSX files as records (line, cells), read within limits: a CSV in one encoding,
an XLSX measured before it is unpacked, and both stopping at the first row past the limit."""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree import ElementTree

from ..bounds import DATE_RANGE_MESSAGE, date_in_bounds

# A real XLSX sheet unpacks to about 10× its zipped size; 30× leaves room and stops zip bombs.
XLSX_MAX_EXPANSION = 30
XLSX_SHARED_STRINGS = "xl/sharedStrings.xml"

# Cells are measured one by one (readers.MAX_CELL_CHARS), where the line and column can be
# named; the csv module's own limit raises for the whole file without saying where.
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


class BadCell(str):
    """A cell that could not be read as text (an XLSX date out of range): its reason."""


NO_LIMITS = ReadLimits()


def too_many(limit: int) -> FileTooLarge:
    return FileTooLarge(f"The file has more than {limit} rows; at most {limit} at once. "
                        f"文件超过 {limit} 行。")


def counted(records, limits: ReadLimits):
    """The header and records, stopping at the first record past the row limit; blank rows
    count, so a file of a million empty rows stops as soon as a full one would."""
    for number, record in enumerate(records):
        if limits.max_rows is not None and number > limits.max_rows:
            raise too_many(limits.max_rows)
        yield record


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
    if bom or any(not line.isascii() and _is_utf8(line) for line in data.splitlines()):
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


def csv_records(data: bytes, limits: ReadLimits):
    encoding, skip = _encoding(data)

    def open_reader():
        # Decoded as it is read: the file's text is never held twice.
        raw = io.BytesIO(data)
        raw.seek(skip)
        return csv.reader(io.TextIOWrapper(raw, encoding=encoding, newline=""))

    # More lines than the limit allows: count the records (quoted cells may hold newlines)
    # before converting any, so a file of millions of rows is refused in a second.
    if limits.max_rows is not None and data.count(b"\n") > limits.max_rows:
        for number, _record in enumerate(open_reader()):
            if number > limits.max_rows:
                raise too_many(limits.max_rows)
    reader = open_reader()
    header = next(reader, None)
    if not header:
        raise UnreadableFile("the file is empty: expected a header row")
    yield 1, header
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        yield start, record


def xlsx_records(data: bytes, limits: ReadLimits):
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
                        raise too_many(max_rows)
                    element.clear()
        except (ElementTree.ParseError, zipfile.BadZipFile, zlib.error, NotImplementedError,
                RuntimeError) as exc:  # bad XML, a broken or encrypted member
            raise UnreadableFile(f"not a readable XLSX workbook: {type(exc).__name__}") from None


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



"""Bulk import: all rows valid or nothing written; upsert by external_id, else name+address
(facilities) or name+district (communities).

An import runs in two passes so that the write lock is held only while writing: the file is
read and every row validated first, with no transaction open for writing (a dry run never
takes the lock); then, holding the write lock, rows are matched against the registry as it
is now, applied and written in batches, and committed once. Between the passes each valid
row is kept pickled, so memory stays a small multiple of the file's size.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from marshmallow import Schema, ValidationError
from sqlalchemy import select

from .. import communities, registry
from ..audit import record_import
from ..community_schemas import CommunityInSchema
from ..community_sheet import CHINESE_HEADERS as COMMUNITY_HEADERS
from ..community_sheet import COLUMNS as COMMUNITY_COLUMNS
from ..community_sheet import row_to_community
from ..domain_errors import DomainError
from ..errors import flatten_messages
from ..extensions import db
from ..geo.coordsys import to_wgs84
from ..geo.gazetteer import districts_at
from ..models import Community, Facility
from ..schemas import FacilityInSchema
from .readers import (
    EXTENSIONS,
    FACILITY_TABLE,
    MEDIA_TYPES,
    NO_LIMITS,
    XLSX,
    FileTooLarge,
    ReadLimits,
    SourceFile,
    TableFormat,
    UnreadableFile,
    read_file,
)

__all__ = ["COMMUNITIES", "EXTENSIONS", "FACILITIES", "MEDIA_TYPES", "TARGETS", "XLSX",
           "FileTooLarge", "ImportReport", "ReadLimits", "Target", "UnreadableFile",
           "import_facilities", "import_records"]

# A spreadsheet row is the whole record: an empty cell clears the field on update.
CLEARABLE = ("external_id", "name_en", "ownership", "address", "street", "phone", "capacity",
             "vacancies", "age_months_min", "age_months_max", "fees", "service_radius_m",
             "district", "holiday_rule", "closures")
COMMUNITY_CLEARABLE = ("external_id", "name_en", "street", "district", "population",
                       "population_60_plus", "population_0_3", "population_3_6")
# Rows applied and written together: bounds the ORM objects alive at once.
BATCH_ROWS = 2000
# PostgreSQL advisory lock that queues imports (any 64-bit number no other writer uses).
IMPORT_LOCK_ID = 0x736D_696D_706F_7274  # "smimport"
# The columns of a table (CSV, XLSX) that hold a field the registry names in its problems.
TABLE_COLUMNS = {"district": ("district_code",), "location": ("lat", "lon")}


@dataclass(frozen=True)
class Target:
    """What an import loads (facilities or communities) and the registry's calls to do it:
    `key(loaded)` the row's upsert key, `stored_keys()` the stored records by external_id and
    by the other key, `stage(record, data, keys_checked=True)` and `write_many(changes)` the
    audited write (registry.py, communities.py)."""

    name: str
    table: TableFormat
    schema: type[Schema]
    model: type
    key: Callable[[dict], tuple]
    stored_keys: Callable[[], tuple[dict, dict]]
    stage: Callable
    write_many: Callable[[list], None]
    clearable: tuple[str, ...]


@dataclass
class ImportReport:
    format: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: list[dict] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    def problem(self, line: int, column: str, reason: str) -> None:
        self.invalid.append({"line": line, "column": column, "reason": reason})

    @property
    def accepted(self) -> bool:
        """True when a real import may write: every row valid, every column known."""
        return not self.invalid and not self.unknown_columns

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidRow:
    """A row that passed validation, its loaded data pickled until the write pass."""

    line: int
    headers: dict[str, str]  # shared by every row of a table
    key: tuple
    loaded: bytes


def import_facilities(data: bytes, fmt: str, *, dry_run: bool, coordsys: str | None = None,
                      limits: ReadLimits = NO_LIMITS, progress=None) -> ImportReport:
    """import_records into the facility registry."""
    return import_records(data, fmt, FACILITIES, dry_run=dry_run, coordsys=coordsys,
                          limits=limits, progress=progress)


def import_records(data: bytes, fmt: str, target: Target, *, dry_run: bool,
                   coordsys: str | None = None, limits: ReadLimits = NO_LIMITS,
                   progress=None) -> ImportReport:
    """Validate every row, then (unless dry_run or anything is wrong) write them in one
    transaction holding the write lock; on any problem nothing is written.

    Raises UnreadableFile or FileTooLarge for a file that cannot be taken as a whole.
    """
    source = read_file(data, fmt, coordsys, limits, target.table)
    report = ImportReport(source.format, dry_run, unknown_columns=source.unknown_columns)
    valid = _validate(source, report, target)
    write = not dry_run and report.accepted
    try:
        if write:
            db.begin_serialised_write(IMPORT_LOCK_ID)
        _apply(valid, report, write, progress, target)
        if not write or not report.accepted:
            db.session.rollback()
            return report
        summary = {"format": report.format, "rows": report.rows, "created": report.created,
                   "updated": report.updated, "unchanged": report.unchanged}
        if target is not FACILITIES:
            summary["into"] = target.name
        record_import(summary, [])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return report


def _validate(source: SourceFile, report: ImportReport, target: Target) -> list[ValidRow]:
    """Each valid row of the file, read once; problems go to the report. No database."""
    schema = target.schema()
    valid, seen = [], {}
    for row in source.rows:
        report.rows += 1
        for column, reason in row.problems:
            report.problem(row.line, row.headers.get(column, column), reason)
        if row.data is None:
            continue
        try:
            loaded = schema.load(row.data)
        except ValidationError as exc:
            for name, messages in flatten_messages(exc.messages).items():
                column = row.headers.get(name.split(".")[0].split("[")[0], name)
                report.problem(row.line, column, " ".join(messages))
            continue
        key = target.key(loaded)
        if key in seen:
            report.problem(row.line, key[0], f"the same {key[0]} as line {seen[key]}")
            continue
        seen[key] = row.line
        valid.append(ValidRow(row.line, row.headers, key, pickle.dumps(loaded, protocol=5)))
    return valid


def _facility_key(loaded: dict) -> tuple:
    return (("external_id", loaded["external_id"]) if loaded.get("external_id")
            else ("name+address", (loaded["name"], loaded.get("address") or "")))


def _existing_keys() -> tuple[dict, dict]:
    rows = db.session.execute(select(Facility.id, Facility.external_id, Facility.name,
                                     Facility.address)).all()
    return ({r.external_id: r.id for r in rows if r.external_id},
            {(r.name, r.address or ""): r.id for r in rows})


def _community_key(loaded: dict) -> tuple:
    """external_id, else the name in its district (given, or the one the point lies in)."""
    if loaded.get("external_id"):
        return ("external_id", loaded["external_id"])
    district = loaded.get("district")
    if district is None:
        location = loaded["location"]
        found = districts_at(*to_wgs84(location["lat"], location["lon"], location["coordsys"]))
        district = found[0] if found else None
    return ("name+district", (loaded["name"], district))


def _community_keys() -> tuple[dict, dict]:
    rows = db.session.execute(select(Community.id, Community.external_id, Community.name,
                                     Community.district_code)).all()
    return ({r.external_id: r.id for r in rows if r.external_id},
            {(r.name, r.district_code): r.id for r in rows})


# The facilities' calls are looked up when made, so that a test can stand in for one.
FACILITIES = Target("facilities", FACILITY_TABLE, FacilityInSchema, Facility, _facility_key,
                    lambda: _existing_keys(), lambda *a, **k: registry.stage(*a, **k),
                    lambda changes: registry.write_many(changes), CLEARABLE)
COMMUNITIES = Target(
    "communities", TableFormat(COMMUNITY_COLUMNS, COMMUNITY_HEADERS, row_to_community, hsds=False),
    CommunityInSchema, Community, _community_key, _community_keys, communities.stage,
    communities.write_many, COMMUNITY_CLEARABLE)
TARGETS = {target.name: target for target in (FACILITIES, COMMUNITIES)}


def _apply(valid: list[ValidRow], report: ImportReport, write: bool, progress,
           target: Target) -> None:
    """Match each row against the registry as it is now, apply it, and (when `write`, and
    while every row is fine) write it, batch by batch in the one open transaction."""
    by_external_id, by_other_key = target.stored_keys()
    model = target.model
    for start in range(0, len(valid), BATCH_ROWS):
        batch = valid[start:start + BATCH_ROWS]
        matches = [(by_external_id if row.key[0] == "external_id" else by_other_key
                    ).get(row.key[1]) for row in batch]
        stored = {r.id: r for r in db.session.scalars(select(model).where(
            model.id.in_([m for m in matches if m is not None])))}
        changes = []
        for row, match in zip(batch, matches, strict=True):
            change = _apply_row(row, stored.get(match) if match else None, report, target)
            if change is not None:
                changes.append(change)
            if progress:
                progress(1)
        if write and report.accepted:
            target.write_many(changes)
        for record in stored.values():
            db.session.expunge(record)  # written (or not to be): free it


def _apply_row(row: ValidRow, record, report: ImportReport, target: Target):
    """The row staged as the registry's write (a Change, counted in the report), unless it
    changes nothing or the registry refuses it (its reasons go to the report)."""
    loaded = pickle.loads(row.loaded)
    changes = _changes(loaded, record, target.clearable) if record else loaded
    try:
        # Keys were matched against the registry (under the write lock) and the file.
        change = target.stage(record, changes, keys_checked=True, point_source="import")
    except DomainError as exc:
        for name, reasons in (exc.errors or {"row": [exc.detail]}).items():
            for column in _columns(row, name):
                report.problem(row.line, column, " ".join(reasons))
        return None
    if change is None:
        report.unchanged += 1
    elif change.action == "create":
        report.created += 1
    else:
        report.updated += 1
    return change


def _columns(row: ValidRow, name: str) -> list[str]:
    """The file's own names for a field: its table columns as headed, else the field's name."""
    return ([row.headers[c] for c in TABLE_COLUMNS.get(name, ()) if c in row.headers]
            or [row.headers.get(name, name)])


def _changes(loaded: dict, facility, clearable: tuple[str, ...]) -> dict:
    """A row applied to a stored record: the whole record, keeping an unmoved location."""
    changes = {name: None for name in clearable} | loaded
    location = loaded.get("location")
    if location is None:
        changes.pop("location", None)  # no coordinates in the row: keep (or geocode) as is
    elif facility.lat is not None:
        lat, lon = to_wgs84(location["lat"], location["lon"], location["coordsys"])
        if abs(lat - facility.lat) < 1e-7 and abs(lon - facility.lon) < 1e-7:
            changes.pop("location")  # same point: keep its precision and source
    return changes


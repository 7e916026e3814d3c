"""Bulk import: all rows valid or nothing written; upsert by external_id, else name+address."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field

from marshmallow import ValidationError
from sqlalchemy import select

from ..audit import record_import, snapshot, unchanged
from ..errors import Problem, flatten_messages
from ..extensions import db
from ..geo.coordsys import to_wgs84
from ..models import Facility, utcnow
from ..registry import FACILITY_COLUMNS, apply_changes, bulk_insert
from ..schemas import FacilityInSchema
from .readers import EXTENSIONS, MEDIA_TYPES, XLSX, SourceRow, UnreadableFile, read_file

__all__ = ["EXTENSIONS", "MEDIA_TYPES", "XLSX", "ImportReport", "UnreadableFile",
           "import_facilities"]

# A spreadsheet row is the whole record: an empty cell clears the field on update.
CLEARABLE = ("external_id", "name_en", "ownership", "address", "street", "phone", "capacity",
             "vacancies", "age_months_min", "age_months_max", "fees", "service_radius_m",
             "district", "holiday_rule", "closures")

# The columns of a table (CSV, XLSX) that hold a field the registry names in its problems.
TABLE_COLUMNS = {"district": ("district_code",), "location": ("lat", "lon")}


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


def import_facilities(data: bytes, fmt: str, *, dry_run: bool, coordsys: str | None = None,
                      max_rows: int | None = None, progress=None) -> ImportReport:
    """Validate every row, then (unless dry_run or anything is wrong) write them in the
    current transaction and commit; on any problem nothing is written."""
    source = read_file(data, fmt, coordsys)
    report = ImportReport(source.format, dry_run, len(source.rows),
                          unknown_columns=source.unknown_columns)
    if max_rows is not None and len(source.rows) > max_rows:
        raise Problem(413, f"The file has {len(source.rows)} rows; at most {max_rows} at once.")
    planned = _validate(source.rows, report)
    try:
        new, changed = _apply(planned, report, progress)
        if dry_run or not report.accepted:
            db.session.rollback()
            return report
        db.session.flush()
        now = utcnow()
        for facility in new:
            facility.created_at = facility.updated_at = now
        bulk_insert(db.session.connection(), (_record(f) for f in new))
        _audit(report, new, changed)
        # Rows whose address could not be geocoded: remembered for `flask geocode --pending`.
        db.session.add_all(f.geocode_pending for f in new if f.geocode_pending is not None)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return report


def _validate(rows: list[SourceRow], report: ImportReport) -> list[tuple]:
    """(row, loaded data, id of the facility it updates or None) for each valid row."""
    schema = FacilityInSchema()
    by_external_id, by_name_address = _existing_keys()
    planned, seen = [], {}
    for row in rows:
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
        key = (("external_id", loaded["external_id"]) if loaded.get("external_id")
               else ("name+address", (loaded["name"], loaded.get("address") or "")))
        if key in seen:
            report.problem(row.line, key[0], f"the same {key[0]} as line {seen[key]}")
            continue
        seen[key] = row.line
        match = (by_external_id.get(key[1]) if key[0] == "external_id"
                 else by_name_address.get(key[1]))
        planned.append((row, loaded, match))
    return planned


def _existing_keys() -> tuple[dict, dict]:
    rows = db.session.execute(select(Facility.id, Facility.external_id, Facility.name,
                                     Facility.address)).all()
    return ({r.external_id: r.id for r in rows if r.external_id},
            {(r.name, r.address or ""): r.id for r in rows})


def _apply(planned: list[tuple], report: ImportReport,
           progress) -> tuple[list[Facility], list[tuple[dict, Facility]]]:
    """Apply each row to its facility (new or stored); returns the new ones, and the stored
    ones that changed with how each looked before."""
    ids = [match for _row, _data, match in planned if match is not None]
    stored = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        stored.update((f.id, f) for f in db.session.scalars(
            select(Facility).where(Facility.id.in_(chunk))))
    new, changed = [], []
    for row, loaded, match in planned:
        facility = stored.get(match) if match else Facility(id=uuid.uuid4(), service_rows=[])
        before = snapshot(facility) if match else None
        try:
            with db.session.no_autoflush:
                # _validate matched every external_id against the registry and the file.
                apply_changes(facility, _changes(loaded, facility) if match else loaded,
                              keys_checked=True)
        except Problem as exc:
            for name, reasons in (exc.errors or {"row": [exc.detail]}).items():
                for column in _columns(row, name):
                    report.problem(row.line, column, " ".join(reasons))
            continue
        if facility.location_source == "manual":
            facility.location_source = "import"
        if before is None:
            new.append(facility)
            report.created += 1
        elif unchanged(before, snapshot(facility)):
            db.session.expire(facility)  # no version bump for an unchanged row
            report.unchanged += 1
        else:
            changed.append((before, facility))
            report.updated += 1
        if progress:
            progress(1)
    return new, changed


def _columns(row: SourceRow, name: str) -> list[str]:
    """The file's own names for a field: its table columns as headed, else the field's name."""
    return ([row.headers[c] for c in TABLE_COLUMNS.get(name, ()) if c in row.headers]
            or [row.headers.get(name, name)])


def _audit(report: ImportReport, new: list[Facility],
           changed: list[tuple[dict, Facility]]) -> None:
    """One summary entry with the counts, and one entry per created or updated facility."""
    summary = {"format": report.format, "rows": report.rows, "created": report.created,
               "updated": report.updated, "unchanged": report.unchanged}
    record_import(summary, [(None, snapshot(f)) for f in new]
                  + [(before, snapshot(f)) for before, f in changed])


def _changes(loaded: dict, facility: Facility) -> dict:
    """A row applied to a stored facility: the whole record, keeping an unmoved location."""
    changes = {name: None for name in CLEARABLE} | loaded
    location = loaded.get("location")
    if location is None:
        changes.pop("location", None)  # no coordinates in the row: keep (or geocode) as is
    elif facility.lat is not None:
        lat, lon = to_wgs84(location["lat"], location["lon"], location["coordsys"])
        if abs(lat - facility.lat) < 1e-7 and abs(lon - facility.lon) < 1e-7:
            changes.pop("location")  # same point: keep its precision and source
    return changes


def _record(facility: Facility) -> dict:
    record = {c.name: getattr(facility, c.name) for c in FACILITY_COLUMNS}
    record = {k: v for k, v in record.items() if v is not None}
    return {**record, "services": facility.services}

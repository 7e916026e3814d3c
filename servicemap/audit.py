"""The audit log: who changed which facility, when, how, and from which request.

Entries join the session of the write they describe, so they commit or roll back with it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import insert, select

from . import weekly_slots
from .extensions import db
from .hours import SHANGHAI
from .models import AuditEntry, Facility, utcnow
from .paging import paginate

CLI_ACTOR = "cli"


def current_request_id() -> str:
    """The request's id, as observability set it from X-Request-ID; a command-line run
    (no request) gets one of its own, kept for the run's app context."""
    if not g.get("request_id"):
        g.request_id = uuid.uuid4().hex
    return g.request_id


def current_actor() -> str:
    """The id of the request's API key, or "cli" for a command-line write."""
    key = g.get("api_key") if has_request_context() else None
    return str(key.id) if key is not None else CLI_ACTOR


# The stored facility, column by column, less what the search derives: seq (the spatial
# index's key) and the open_slots masks (opening_hours as bits).
SNAPSHOT_COLUMNS = tuple(c.name for c in Facility.__table__.columns
                         if c.name != "seq" and c.name not in weekly_slots.COLUMNS)
# What every write moves, so no part of whether it changed anything.
BOOKKEEPING = ("updated_at", "version")


def snapshot(facility: Facility) -> dict:
    """The facility as stored, in JSON types: its columns and services, never what an answer
    adds about the moment (open_now), so an entry reads the same whenever it is read."""
    state = {name: _json(getattr(facility, name)) for name in SNAPSHOT_COLUMNS}
    return {**state, "services": facility.services}


def columns_snapshot(record, names) -> dict:
    """Any record's columns `names`, in JSON types (a community's snapshot)."""
    return {name: _json(getattr(record, name)) for name in names}


def _json(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def unchanged(before: dict, after: dict) -> bool:
    """Two snapshots hold the same facility, whatever their bookkeeping says."""
    return ({k: v for k, v in before.items() if k not in BOOKKEEPING}
            == {k: v for k, v in after.items() if k not in BOOKKEEPING})


def record(action: str, facility: Facility, before: dict | None, after: dict | None, *,
           subject: str = "facility_id") -> None:
    """Add one entry to the current transaction (flush first, so `after` is as stored);
    subject: the entry's column naming what was written (community_id for a community)."""
    db.session.add(AuditEntry(at=utcnow(), key_id=current_actor(), action=action,
                              request_id=current_request_id(), before=before, after=after,
                              **{subject: facility.id}))


def record_import(summary: dict | None, changes: list[tuple[dict | None, dict]], *,
                  subject: str = "facility_id") -> None:
    """An import's entries in bulk: one per created or updated row and, when given, the
    summary (counts). An import in batches records its summary last, once. subject: the
    column naming each row's record (community_id for communities)."""
    common = {"at": utcnow(), "key_id": current_actor(), "action": "import",
              "request_id": current_request_id()}
    rows = [{**common, "id": uuid.uuid4(), "facility_id": None, "community_id": None,
             "before": None, "after": summary}] if summary is not None else []
    other = "community_id" if subject == "facility_id" else "facility_id"
    rows.extend({**common, "id": uuid.uuid4(), subject: uuid.UUID(after["id"]), other: None,
                 "before": before, "after": after} for before, after in changes)
    # Core executemany, not ORM objects: an import of 100,000 rows writes as many entries.
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(AuditEntry.__table__), rows[start:start + 10_000])


def list_entries(filters: dict, page: int, per_page: int) -> tuple[list[AuditEntry], int]:
    """One page of entries matching the filters, newest first, and the total count."""
    query = select(AuditEntry)
    for name in ("facility_id", "community_id", "key_id", "action"):
        if filters.get(name) is not None:
            query = query.where(getattr(AuditEntry, name) == filters[name])
    if filters.get("since") is not None:
        query = query.where(AuditEntry.at >= filters["since"])
    if filters.get("until") is not None:
        query = query.where(AuditEntry.at <= filters["until"])
    return paginate(query, page, per_page, AuditEntry.at.desc(), AuditEntry.seq.desc())


def present_entry(entry: AuditEntry) -> dict:
    """An entry as the API returns it."""
    return {"id": entry.id, "at": entry.at.astimezone(SHANGHAI), "key_id": entry.key_id,
            "action": entry.action,
            "facility_id": entry.facility_id, "community_id": entry.community_id,
            "request_id": entry.request_id,
            "before": entry.before, "after": entry.after}

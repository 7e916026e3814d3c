"""Loading seeds/: the sample registry, idempotently, and first-run initialisation."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import func, select

from . import communities
from .community_schemas import CommunityInSchema
from .community_sheet import row_to_community
from .database import InitLock, is_initialised, upgrade
from .domain_errors import DomainError
from .extensions import db
from .models import Community, Facility
from .registry import write
from .schemas import FacilityInSchema
from .spreadsheet import CellError, row_to_facility

log = logging.getLogger(__name__)


@dataclass
class SeedReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class SeedError(Exception):
    """A bad row in a seed file: the file, line and column, and what is wrong."""


def seed_facilities() -> SeedReport:
    """(Re)load seeds/facilities.csv by external_id in one transaction; safe to repeat."""
    return _seed("facilities.csv", Facility, FacilityInSchema(),
                 lambda row: row_to_facility(row, precision="street"),
                 # Audited as the command line's writes.
                 lambda record, data: write(record, data, point_source="import"),
                 lambda change: change.facility)


def seed_communities() -> SeedReport:
    """(Re)load seeds/communities.csv likewise; a seeds folder without one loads none."""
    if not (current_app.config["SERVICEMAP"].seeds_dir / "communities.csv").exists():
        return SeedReport()
    return _seed("communities.csv", Community, CommunityInSchema(), row_to_community,
                 communities.write, lambda change: change.community)


def _seed(filename: str, model, schema, row_to_input, write_one, record_of) -> SeedReport:
    """Each row of seeds/`filename` written by external_id, in one transaction; a bad row
    rolls all back and raises SeedError naming the file, line and column."""
    path = current_app.config["SERVICEMAP"].seeds_dir / filename
    report = SeedReport()
    existing = {r.external_id: r for r in db.session.scalars(
        select(model).where(model.external_id.is_not(None)))}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                data = schema.load(row_to_input(row))
                change = write_one(existing.get(data["external_id"]), data)
            except (CellError, ValidationError, DomainError) as exc:
                db.session.rollback()
                raise SeedError(f"{path}:{line}: {_describe(exc)}") from None
            if change is None:
                report.unchanged += 1
            elif change.action == "create":
                existing[data["external_id"]] = record_of(change)
                report.created += 1
            else:
                report.updated += 1
    db.session.commit()
    return report


def _describe(exc: Exception) -> str:
    if isinstance(exc, CellError):
        return f"column {exc.column}: {exc}"
    if isinstance(exc, ValidationError):
        return "; ".join(f"{field}: {' '.join(map(str, msgs))}"
                         for field, msgs in exc.normalized_messages().items())
    return f"{exc.detail} {exc.errors or ''}"


def initialise_if_empty() -> None:
    """On start: migrate the schema, and load the sample data into an empty registry."""
    config = current_app.config["SERVICEMAP"]
    with InitLock(config.instance_dir / ".init.lock"):
        fresh = not is_initialised(db.engine)
        upgrade(db.engine)
        if fresh or db.session.scalar(select(func.count()).select_from(Facility)) == 0:
            report = seed_facilities()
            log.info("seeded the sample registry: %s", report)
        if fresh or db.session.scalar(select(func.count()).select_from(Community)) == 0:
            report = seed_communities()
            log.info("seeded the sample communities: %s", report)

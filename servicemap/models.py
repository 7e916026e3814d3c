"""SQLAlchemy 2 typed models: the facility registry and API keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from . import weekly_slots
from .hours import default_holiday_rule
from .vocabulary import ordered_services


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite keeps no time zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _holiday_rule_default(context) -> str:
    """An insert that names no holiday rule gets the one its kind and hours call for."""
    row = context.get_current_parameters()
    return default_holiday_rule(row.get("kind"), row.get("opening_hours"))


class Base(DeclarativeBase):
    pass


class Facility(Base):
    """A place or mobile team that delivers 一老一小 services."""

    __tablename__ = "facility"

    # The table's key is a small integer so that SQLite's R*Tree (integer ids only) can index
    # it; clients and the ORM know facilities by their UUID.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    ownership: Mapped[str | None] = mapped_column(String(16))
    inclusive: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    address: Mapped[str | None] = mapped_column(String(300))
    district_code: Mapped[str | None] = mapped_column(String(6), index=True)
    street: Mapped[str | None] = mapped_column(String(100))
    # WGS-84 degrees; both or neither (a CHECK constraint in the migration says so).
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    location_precision: Mapped[str | None] = mapped_column(String(16))
    location_source: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(50))
    opening_hours: Mapped[list] = mapped_column(JSON, default=list)
    # opening_hours as half-hour bitmasks per weekday, for SQL filters (weekly_slots.py).
    open_slots_1: Mapped[int] = mapped_column(
        BigInteger, default=weekly_slots.column_default("open_slots_1"), server_default="0")
    open_slots_2: Mapped[int] = mapped_column(
        BigInteger, default=weekly_slots.column_default("open_slots_2"), server_default="0")
    open_slots_3: Mapped[int] = mapped_column(
        BigInteger, default=weekly_slots.column_default("open_slots_3"), server_default="0")
    open_slots_4: Mapped[int] = mapped_column(
        BigInteger, default=weekly_slots.column_default("open_slots_4"), server_default="0")
    open_slots_5: Mapped[int] = mapped_column(
        BigInteger, default=weekly_slots.column_default("open_slots_5"), server_default="0")
    open_slots_6: Mapped[int] = mapped_column(
        BigInteger, default=weekly_slots.column_default("open_slots_6"), server_default="0")
    open_slots_7: Mapped[int] = mapped_column(
        BigInteger, default=weekly_slots.column_default("open_slots_7"), server_default="0")
    capacity: Mapped[int | None]
    vacancies: Mapped[int | None]
    age_months_min: Mapped[int | None]
    age_months_max: Mapped[int | None]
    fees: Mapped[str | None] = mapped_column(Text)
    service_radius_m: Mapped[int | None]
    # China's calendar (hours.py): closed | open | weekly; by kind and hours when not given.
    holiday_rule: Mapped[str] = mapped_column(String(8), default=_holiday_rule_default)
    # Temporary closures, [{"from": "2026-02-15", "to": "2026-02-23", "reason": "春节休息"}].
    closures: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic concurrency: every UPDATE checks and bumps it, and the ETag is made from it.
    version: Mapped[int] = mapped_column(default=1)

    service_rows: Mapped[list[FacilityService]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )
    # Present while the address awaits geocoding (locating.py); the facility is a draft.
    geocode_pending: Mapped[GeocodePending | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"primary_key": [id], "version_id_col": version}
    __table_args__ = (Index("ix_facility_name_id", "name", "id"),)

    @property
    def services(self) -> list[str]:
        return ordered_services(row.service for row in self.service_rows)

    @services.setter
    def services(self, services: list[str]) -> None:
        wanted = set(services)
        self.service_rows = [row for row in self.service_rows if row.service in wanted]
        have = {row.service for row in self.service_rows}
        for service in ordered_services(wanted - have):
            self.service_rows.append(FacilityService(service=service))

    @property
    def etag(self) -> str:
        """The entity tag (unquoted): changes with every committed update."""
        return f"{self.id.hex}-{self.version}"


@event.listens_for(Facility, "before_update")
def _refresh_open_slots(_mapper, _connection, facility: Facility) -> None:
    # Inserts take the masks from the column defaults; an update must recompute them.
    weekly_slots.refresh(facility)


class Community(Base):
    """A 社区/村 (or 小区) whose residents coverage counts: a point and its population."""

    __tablename__ = "community"

    # As for facilities: a small integer key for SQLite's R*Tree; clients use the UUID.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    street: Mapped[str | None] = mapped_column(String(100))
    # WGS-84 degrees, required: a community without a point cannot be covered or not.
    lat: Mapped[float]
    lon: Mapped[float]
    population: Mapped[int | None]
    population_60_plus: Mapped[int | None]
    population_0_3: Mapped[int | None]
    population_3_6: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"primary_key": [id], "version_id_col": version}

    @property
    def etag(self) -> str:
        """The entity tag (unquoted): changes with every committed update."""
        return f"{self.id.hex}-{self.version}"


class FacilityService(Base):
    """One service a facility delivers (a row each, so filters can use an index)."""

    __tablename__ = "facility_service"

    facility_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True
    )
    service: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = {"sqlite_with_rowid": False}


class FacilityRendering(Base):
    """A facility's answer to nearest searches, rendered when it was written (registry.py's
    rendered_text; renderings.py reads it): a table of its own, so that the search's reads of
    facility rows stay small. Current while its version is the facility's."""

    __tablename__ = "facility_rendering"

    facility_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int]
    rendering: Mapped[str] = mapped_column(Text)


class ApiKey(Base):
    """A credential for writes; only the hash of the secret is kept."""

    __tablename__ = "api_key"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    districts: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def may_write(self, district_code: str | None) -> bool:
        """Admins write anywhere; editors only inside the districts they are scoped to."""
        if self.role == "admin":
            return True
        return district_code is not None and district_code in self.districts


class GeocodePending(Base):
    """A facility whose address found no location yet; it waits as a draft for a retry."""

    __tablename__ = "geocode_pending"

    facility_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True
    )
    requested_status: Mapped[str] = mapped_column(String(20))  # restored once located
    reason: Mapped[str] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tried_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GeocodeCache(Base):
    """A geocoder's answer to a normalised query, in WGS-84, so no address is asked twice."""

    __tablename__ = "geocode_cache"

    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    query: Mapped[str] = mapped_column(String(400), primary_key=True)
    lat: Mapped[float]
    lon: Mapped[float]
    precision: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str | None] = mapped_column(String(6))
    street: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One write to the registry: who, when, what it changed and from which request.

    Entries are only ever inserted (the migration's triggers refuse UPDATE and DELETE).
    """

    __tablename__ = "audit_entry"

    # An integer key orders entries written in the same instant (an import's rows).
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    key_id: Mapped[str] = mapped_column(String(36), index=True)  # an ApiKey id, or "cli"
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete, import
    # No foreign key: the entries of a deleted facility stay. Null for an import's summary.
    facility_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # The community written, for writes to communities (facility_id is then null).
    community_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    request_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

"""The facility registry: queries, writes and the facility as residents see it."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask.json.provider import DefaultJSONProvider
from sqlalchemy import event, inspect, or_, select
from sqlalchemy.orm import selectinload

from . import audit, hours, paging, store
from .districts import load_districts
from .domain_errors import Conflict, Invalid, NotFound, Unavailable
from .extensions import db
from .geo.coordsys import from_wgs84, to_wgs84
from .geo.gazetteer import BoundariesUnavailable, district_readings, districts_at
from .holidays import current_calendar
from .hours import SHANGHAI, default_holiday_rule, opening_state
from .locating import locate
from .models import Facility, FacilityRendering, FacilityService, GeocodePending, utcnow
from .paging import Page, keyed_page
from .vocabulary import ordered_services
from .weekly_slots import week_masks

# Plain columns copied as they are from validated input to the model.
SIMPLE_FIELDS = (
    "external_id", "name", "name_en", "kind", "ownership", "inclusive", "status", "address",
    "street", "phone", "opening_hours", "capacity", "vacancies", "age_months_min",
    "age_months_max", "fees", "service_radius_m", "services", "holiday_rule", "closures",
)


def present(facility: Facility, coordsys: str = "wgs84") -> dict:
    """A facility as the API returns it, with its location in the coordsys asked for."""
    location = None
    if facility.lat is not None:
        lat, lon = from_wgs84(facility.lat, facility.lon, coordsys)
        location = {"lat": round(lat, 7), "lon": round(lon, 7), "coordsys": coordsys,
                    "precision": facility.location_precision, "source": facility.location_source}
    district = load_districts().get(facility.district_code or "")
    return {
        "id": facility.id,
        **{name: getattr(facility, name) for name in SIMPLE_FIELDS},
        "district": {"code": district.code, "name": district.name} if district else None,
        "location": location,
        "updated_at": facility.updated_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
    }


# The parts of a facility's answer that no request changes, rendered when it is written and
# kept beside it (facility_rendering, migration 0012) for renderings.py to splice: JSON text each,
# joined by RENDERING_SEPARATOR (json.dumps writes that character as \u001f, so never inside a
# part), behind the key of what made them: a change of present()'s fields or of the
# gazetteer's names makes every stored rendering stale, and the reader then renders the row.
RENDERING_SEPARATOR = "\x1f"
RENDERING_STATE = ("status", "opening_hours", "holiday_rule", "closures")


def rendering_key() -> str:
    """What a stored rendering must begin with to be current."""
    districts = load_districts()  # cached: the same dict until the gazetteer is read anew
    if _RENDERING_KEY.get("of") is not districts:
        made_of = repr(("1", SIMPLE_FIELDS, RENDERING_STATE, tuple(districts.items())))
        _RENDERING_KEY.update(of=districts, key=hashlib.sha256(made_of.encode()).hexdigest()[:16])
    return _RENDERING_KEY["key"]


_RENDERING_KEY: dict = {}


def rendered_text(facility) -> str:
    """A facility's stored rendering: the key; present()'s text up to `location`, less the
    closing brace; its WGS-84 point (repr, or empty); the location's tail; `updated_at`; and
    what hours.opening_state reads (RENDERING_STATE), each as JSON."""
    shown = present(facility)
    location, updated_at = shown.pop("location"), shown.pop("updated_at")
    tail = ""
    if location is not None:
        tail = ", " + _dumps({"precision": location["precision"],
                              "source": location["source"]})[1:]
    point = ("", "") if location is None else (repr(facility.lat), repr(facility.lon))
    return RENDERING_SEPARATOR.join([
        rendering_key(), _dumps(shown)[:-1], *point, tail,
        ", " + _dumps({"updated_at": updated_at})[1:-1],
        *(_dumps(getattr(facility, name)) for name in RENDERING_STATE)])


# As the app's JSON provider writes answers (create_app: ensure_ascii off); one encoder, as
# json.dumps with arguments would make one per call (a third of a rendering's cost).
_dumps = json.JSONEncoder(ensure_ascii=False, default=DefaultJSONProvider.default).encode


@event.listens_for(Facility, "before_insert")
@event.listens_for(Facility, "before_update")
def _render_on_write(_mapper, _connection, facility: Facility) -> None:
    # Every write of a facility row goes through here or bulk_insert. What the columns'
    # defaults would fill in only later is filled in first, to the same values, so that the
    # rendering says what the row will hold.
    state = inspect(facility)
    if state.persistent and not state.session.is_modified(facility):
        return  # flushed without a net change: no UPDATE, so nothing new to render
    facility.id = facility.id or uuid.uuid4()
    facility.updated_at = utcnow() if state.persistent else facility.updated_at or utcnow()
    for name, default in (("opening_hours", []), ("closures", []), ("status", "active"),
                          ("inclusive", False)):
        if getattr(facility, name) is None:
            setattr(facility, name, default)
    if facility.holiday_rule is None:
        facility.holiday_rule = default_holiday_rule(facility.kind, facility.opening_hours)
    facility.__dict__[_PENDING] = rendered_text(facility)


@event.listens_for(Facility, "after_insert")
@event.listens_for(Facility, "after_update")
def _store_rendering(_mapper, connection, facility: Facility) -> None:
    # In the write's own transaction, with the version the statement has just set.
    rendering = facility.__dict__.pop(_PENDING, None)
    if rendering is not None:
        store.upsert(connection, FacilityRendering.__table__, "facility_id",
                     facility_id=facility.id, version=facility.version, rendering=rendering)


_PENDING = "_servicemap_rendering"  # the rendering made before the flush's statement


def present_answer(facility: Facility, coordsys: str = "wgs84",
                   moment: datetime | None = None) -> dict:
    """present() plus what an answer says about the moment: `open_now`, `next_change` and
    `holiday_data` (hours.opening_state), at the current Shanghai time unless given."""
    return {**present(facility, coordsys),
            **opening_state(facility, moment or hours.shanghai_now(), current_calendar())}


def present_hits(hits, coordsys: str = "wgs84") -> list[dict]:
    """A nearest search's hits, in order, as present_answer() gives them plus `distance_m`;
    read with two Core queries (no ORM objects): otherwise most of the search's answer's cost."""
    ids = [hit.id for hit in hits]
    if not ids:
        return []
    table, services_table = Facility.__table__, FacilityService.__table__
    services: dict[uuid.UUID, list[str]] = {facility_id: [] for facility_id in ids}
    for facility_id, service in db.session.execute(select(
            services_table.c.facility_id, services_table.c.service).where(
            services_table.c.facility_id.in_(ids))):
        services[facility_id].append(service)
    rows = db.session.execute(select(table).where(table.c.id.in_(ids))).mappings()
    moment = hours.shanghai_now()
    shown = {row["id"]: present_answer(SimpleNamespace(**row, services=ordered_services(
        services[row["id"]])), coordsys, moment) for row in rows}
    return [{**shown[hit.id], "distance_m": hit.distance_m} for hit in hits]


def get_facility(facility_id: str, for_update: bool = False) -> Facility:
    """The facility with this id, or 404; for_update locks its row until commit
    (PostgreSQL; SQLite's write transactions are serialised already), so concurrent writers
    queue and each sees the version the other committed."""
    try:
        key = uuid.UUID(facility_id)
    except ValueError:
        raise NotFound(f"No facility has the id {facility_id!r}: ids are UUIDs.") from None
    facility = db.session.get(Facility, key, with_for_update=for_update)
    if facility is None:
        raise NotFound(f"No facility has the id {facility_id}.")
    return facility


def filtered(filters: dict, text_index: bool = True):
    """A select() of facilities matching the list filters (OR within one, AND across);
    without `text_index`, `q` is only its substring test, not narrowed by a text index."""
    query = select(Facility)
    if filters.get("kind"):
        query = query.where(Facility.kind.in_(filters["kind"]))
    if filters.get("service"):
        offering = select(FacilityService.facility_id).where(
            FacilityService.service.in_(filters["service"]))
        query = query.where(Facility.id.in_(offering))
    if filters.get("status"):
        query = query.where(Facility.status.in_(filters["status"]))
    if "district" in filters:
        query = query.where(Facility.district_code == filters["district"])
    if "street" in filters:
        query = query.where(Facility.street == filters["street"])
    if "inclusive" in filters:
        query = query.where(Facility.inclusive == filters["inclusive"])
    if "location_pending" in filters:
        waiting = Facility.id.in_(select(GeocodePending.facility_id))
        query = query.where(waiting if filters["location_pending"] else ~waiting)
    if "q" in filters:
        # % and _ typed by a resident are characters, not wildcards (SQLAlchemy escapes them).
        # The backend's trigram index narrows the rows first where it can (store.py); this
        # test keeps the answer exactly the substrings it always was.
        text = filters["q"].strip()
        query = query.where(or_(Facility.name.icontains(text, autoescape=True),
                                Facility.name_en.icontains(text, autoescape=True),
                                Facility.address.icontains(text, autoescape=True)))
        candidates = store.text_candidates(db.session, Facility.__table__, text)
        if candidates is not None and text_index:
            query = query.where(candidates)
    return query


# The order of every list of facilities, and the key of its cursors (ix_facility_name_id).
LIST_ORDER = (Facility.name, Facility.id)
LIST_CURSOR = (str, uuid.UUID)


def list_facilities(filters: dict, page: int, per_page: int,
                    after: tuple | None = None) -> Page:
    """One page of matching facilities, by name then id (the page-th, or the one after the
    cursor's key `after`), and the total count."""
    return page_of_facilities(filtered(filters), page, per_page, after,
                              scan=text_scan(filters.get("q"), lambda text_index: filtered(
                                  filters, text_index)))


def text_scan(text: str | None, selected):
    """For a `q` search whose text may be common (store.text_may_be_common), the same
    select() without the text index, `selected(False)`, for keyed_page; else None."""
    if not text or not text.strip() or not store.text_may_be_common(
            db.session, text.strip(), paging.common_rows()):
        return None
    return selected(False)


def page_of_facilities(query, page: int, per_page: int, after: tuple | None = None,
                       scan=None) -> Page:
    """One page of the facilities a select() finds, in the list order (paging.keyed_page;
    `scan`: the same without the text index, for a `q=` search)."""
    return keyed_page(query, LIST_ORDER, per_page, page=page, after=after,
                      counted_by=Facility.seq, scan=scan)


# The columns an unchanged write expires when geocode_pending has news (not the id or the
# version: no write changes them in place, and a flush would read them back row by row).
EXPIRED_UNCHANGED = [name for name in audit.SNAPSHOT_COLUMNS if name not in ("id", "version")]

# The one audited write. Every writer (the API, flask seed, imports, geocode --pending) goes
# through stage(), and then write() for one facility or write_many() for an import's batch.

@dataclass
class Change:
    """A staged write: create, update or delete, the facility, and its snapshot before."""

    action: str
    facility: Facility
    before: dict | None


def stage(facility: Facility | None, data: dict, *, keys_checked: bool = False,
          point_source: str = "manual") -> Change | None:
    """Snapshot, apply, locate/geocode, derive the district and check one write, unflushed;
    None when it changes nothing stored (its no-op assignments dropped: no version bump).

    facility: the stored one, or None to create one. Raises the domain errors.
    """
    before = audit.snapshot(facility) if facility is not None else None
    target = facility or Facility(id=uuid.uuid4(), service_rows=[])
    with db.session.no_autoflush:  # nothing half-applied reaches the database early
        apply_changes(target, data, keys_checked=keys_checked, point_source=point_source)
    if before is None:
        return Change("create", target, None)
    if audit.unchanged(before, audit.snapshot(target)):
        _forget_assignments(target)
        return None
    return Change("update", target, before)


def _forget_assignments(facility: Facility) -> None:
    """Drop an unchanged write's no-op assignments, so that no version moves; but keep what a
    failed geocoding has just noted in its geocode_pending (expiring all would cascade to it)."""
    pending = inspect(facility).dict.get("geocode_pending")
    if pending is not None and inspect(pending).modified:
        db.session.expire(facility, EXPIRED_UNCHANGED)
    else:
        db.session.expire(facility)


def write(facility: Facility | None, data: dict | None, *,
          authorise: Callable[[str | None], None] | None = None, keys_checked: bool = False,
          point_source: str = "manual") -> Change | None:
    """Create (facility None), update, or delete (data None) one facility: staged, flushed and
    recorded in the audit log, in the caller's transaction; None when nothing changed.

    authorise(district_code) is asked about the district a facility is in before the write
    and the one it ends up in (an editor's scope); it raises to refuse.
    """
    if facility is not None and authorise:
        authorise(facility.district_code)
    if data is None:
        change = Change("delete", facility, audit.snapshot(facility))
        audit.record("delete", facility, change.before, None)
        db.session.delete(facility)
        return change
    change = stage(facility, data, keys_checked=keys_checked, point_source=point_source)
    if change is None:
        return None
    if authorise:
        authorise(change.facility.district_code)  # the final one: a moved point's own
    if change.action == "create":
        db.session.add(change.facility)
    db.session.flush()
    audit.record(change.action, change.facility, change.before, audit.snapshot(change.facility))
    return change


def write_many(changes: list[Change]) -> None:
    """write() for an import's batch of staged creates and updates: updates flushed, new
    rows inserted in bulk, and their audit entries added in one statement."""
    db.session.flush()
    new = [c.facility for c in changes if c.action == "create"]
    now = utcnow()
    for facility in new:  # as bulk_insert stores them, so their snapshots say so
        facility.created_at = facility.updated_at = now
        facility.version = 1
    bulk_insert(db.session.connection(), (_bulk_record(f) for f in new))
    # Rows whose address could not be geocoded: remembered for `flask geocode --pending`.
    pending = [f.geocode_pending for f in new if f.geocode_pending is not None]
    db.session.add_all(pending)
    db.session.flush()
    audit.record_import(None, [(c.before, audit.snapshot(c.facility)) for c in changes
                               if c.action == "create"]
                        + [(c.before, audit.snapshot(c.facility)) for c in changes
                           if c.action != "create"])
    for item in pending:
        db.session.expunge(item)


def _bulk_record(facility: Facility) -> dict:
    record = {c.name: getattr(facility, c.name) for c in FACILITY_COLUMNS}
    record = {k: v for k, v in record.items() if v is not None}
    return {**record, "services": facility.services}


def pending_ids() -> list:
    """Ids of the facilities waiting for a location, oldest first."""
    return list(db.session.scalars(
        select(GeocodePending.facility_id).order_by(GeocodePending.created_at,
                                                    GeocodePending.facility_id)))


def retry_pending(ids: list, batch_size: int = 50, advance=None) -> tuple[int, int]:
    """Geocode the given pending facilities again, committing per batch; (located, pending)."""
    located = 0
    for start in range(0, len(ids), batch_size):
        batch = db.session.scalars(select(Facility).options(
            selectinload(Facility.geocode_pending)).where(
            Facility.id.in_(ids[start:start + batch_size]))).all()
        for facility in batch:
            write(facility, {}, keys_checked=True)  # no key changes: no clash to look for
            located += facility.geocode_pending is None
        db.session.commit()
        if advance:
            advance(len(ids[start:start + batch_size]))
    return located, len(ids) - located


def apply_changes(facility: Facility, data: dict, *, keys_checked: bool = False,
                  point_source: str = "manual") -> None:
    """Copy validated input onto a facility, converting the location to WGS-84.

    keys_checked: the caller (a bulk import) already knows external_id is not taken.
    point_source: the location_source of a point the input gives (an import's "import").
    """
    for name in SIMPLE_FIELDS:
        if name in data:
            setattr(facility, name, data[name])
    if facility.closures is None:  # an import's empty 停业 cell
        facility.closures = []
    if facility.holiday_rule is None:  # not given yet, or cleared: the kind's default
        facility.holiday_rule = default_holiday_rule(facility.kind, facility.opening_hours)
    if "district" in data:
        facility.district_code = data["district"]
    if "location" in data:
        location = data["location"]
        if location is None:
            facility.lat = facility.lon = None
            facility.location_precision = facility.location_source = None
        else:
            facility.lat, facility.lon = to_wgs84(location["lat"], location["lon"],
                                                  location["coordsys"])
            facility.location_precision = location["precision"]
            facility.location_source = point_source
    try:
        locate(facility, data.keys())  # geocode the address, or find the district of the point
        check_consistency(facility, keys_checked, data.keys())
    except BoundariesUnavailable:
        raise Unavailable("The district of the point cannot be found just now (the district "
                          "boundaries did not load; see the server log); try again later. "
                          "暂时无法确定坐标所在区县，请稍后再试。") from None


def check_consistency(facility: Facility, keys_checked: bool = False,
                      given: Collection[str] = ()) -> None:
    """422 for a facility whose fields contradict each other, naming the fields.

    given: the fields just written; a point or district among them must agree, so that the
    district an editor's scope is checked against is the one the point lies in.
    """
    errors: dict[str, list[str]] = {}
    if {"location", "district"} & set(given):
        errors.update(placement_errors(facility))
    if facility.lat is None and not facility.address:
        errors["address"] = ["Give an address or a location. 地址和坐标至少填写一项。"]
    capacity, vacancies = facility.capacity, facility.vacancies
    if capacity is not None and vacancies is not None and vacancies > capacity:
        errors["vacancies"] = ["Cannot exceed capacity. 空余名额不能超过容量。"]
    if None not in (facility.age_months_min, facility.age_months_max) and (
        facility.age_months_min > facility.age_months_max
    ):
        errors["age_months_max"] = ["Must be at least age_months_min. 最大月龄不能小于最小月龄。"]
    if not keys_checked:
        check_external_id(facility, Facility, "facility")
    if errors:
        raise Invalid(errors)


def check_external_id(record, model, noun: str) -> None:
    """409 when another row of `model` (Facility, Community) holds the record's external_id;
    `noun` names that row in the message."""
    if record.external_id is None:
        return
    with db.session.no_autoflush:
        clash = db.session.scalar(select(model.id).where(
            model.external_id == record.external_id, model.id != record.id))
    if clash is not None:
        raise Conflict(f"external_id {record.external_id!r} is already used by {noun} {clash}.",
                       {"external_id": ["Already in use."]})


def placement_errors(facility: Facility) -> dict[str, list[str]]:
    """What is wrong with where a writer placed a facility: a point outside Chongqing, or a
    district the point does not lie in; geocoded points are the geocoder's to check."""
    if facility.lat is None or (facility.location_source or "").startswith("geocoder:"):
        return {}
    if facility.district_code in district_readings(facility.lat, facility.lon):
        return {}
    found = districts_at(facility.lat, facility.lon)
    if not found:
        return {"location": ["Not in Chongqing: the point lies in none of its 38 districts "
                             "and counties. 坐标不在重庆市38个区县范围内。"]}
    districts = load_districts()
    point = "/".join(f"{districts[code].name} {code}" for code in found)
    written = facility.district_code
    written = f"{districts[written].name} {written}" if written in districts else "no district"
    return {
        "district": [f"The location lies in {point}, not in {written}; leave district out to "
                     "take the location's. 所填区县与坐标所在区县不符。"],
        "location": [f"Lies in {point}, not in the district given ({written}). "
                     "坐标不在所填区县内。"],
    }


def bulk_insert(connection, records, batch_size: int = 20_000) -> int:
    """Insert many facilities fast, on an open transaction; returns how many.

    Each record holds model column names with WGS-84 `lat`/`lon` and a `services` list, and
    is trusted to be validated already. The store sends the rows to the driver as they are
    (store.bulk_writer); the opening hours' slot masks (weekly_slots.py) are computed here.
    """
    with store.bulk_writer(connection) as write:
        return _bulk_rows(write, records, batch_size)


def _bulk_rows(write, records, batch_size: int) -> int:
    now, count = utcnow(), 0
    facilities, services, renderings = [], [], []
    for record in records:
        record = {**BULK_DEFAULTS, "created_at": now, "updated_at": now, **record}
        record.update(week_masks(record["opening_hours"]))  # derived: never taken as given
        if record.get("id") is None:
            record["id"] = uuid.uuid4()
        if record["holiday_rule"] is None:
            record["holiday_rule"] = default_holiday_rule(record.get("kind"),
                                                          record["opening_hours"])
        offered = record.pop("services", ())
        renderings.append((record["id"], record["version"], rendered_text(SimpleNamespace(
            **record, services=ordered_services(offered)))))
        services.extend((record["id"], service) for service in offered)
        facilities.append(record)
        if len(facilities) >= batch_size:
            count += _flush(write, facilities, services, renderings)
    return count + _flush(write, facilities, services, renderings)


BULK_DEFAULTS = {name: None for name in (
    "external_id", "name_en", "ownership", "address", "district_code", "street", "lat", "lon",
    "location_precision", "location_source", "phone", "capacity", "vacancies", "age_months_min",
    "age_months_max", "fees", "service_radius_m", "holiday_rule")} | {
    "inclusive": False, "status": "active", "opening_hours": [], "closures": [], "version": 1}
FACILITY_COLUMNS = [c for c in Facility.__table__.columns if c.name != "seq"]
SERVICE_COLUMNS = list(FacilityService.__table__.columns)
RENDERING_COLUMNS = list(FacilityRendering.__table__.columns)


def _flush(write, facilities: list[dict], services: list[tuple],
           renderings: list[tuple]) -> int:
    count = len(facilities)
    if facilities:
        write(Facility.__table__.name, FACILITY_COLUMNS,
              [tuple(f[c.name] for c in FACILITY_COLUMNS) for f in facilities])
    if services:
        write(FacilityService.__table__.name, SERVICE_COLUMNS, services)
    if renderings:
        write(FacilityRendering.__table__.name, RENDERING_COLUMNS, renderings)
    for written in (facilities, services, renderings):
        written.clear()
    return count

"""Communities (社区/村): the places whose residents coverage counts. Queries, the one audited
write, the community as the API returns it, and light records for the coverage engine."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import or_, select

from . import audit, store
from .community_schemas import POPULATIONS, SUB_POPULATIONS
from .districts import load_districts
from .domain_errors import Invalid, NotFound, Unavailable
from .extensions import db
from .geo.coordsys import from_wgs84, to_wgs84
from .geo.gazetteer import BoundariesUnavailable
from .geo.geocoding import current_geocoding
from .hours import SHANGHAI
from .locating import district_of_point
from .models import Community, utcnow
from .paging import paginate
from .registry import check_external_id, placement_errors

# Columns copied as they are from validated input to the model.
SIMPLE_FIELDS = ("external_id", "name", "name_en", "street", *POPULATIONS)
# The stored community, column by column, less the spatial index's key.
SNAPSHOT_COLUMNS = tuple(c.name for c in Community.__table__.columns if c.name != "seq")
AUDIT_SUBJECT = "community_id"


@dataclass(frozen=True, slots=True)
class Site:
    """A community as coverage reads it: where it is and how many live there (WGS-84)."""

    id: uuid.UUID
    name: str
    district_code: str
    street: str | None
    lat: float
    lon: float
    population: int | None
    population_60_plus: int | None
    population_0_3: int | None
    population_3_6: int | None


SITE_COLUMNS = tuple(Community.__table__.c[name] for name in Site.__slots__)


def sites(session, district: str | None = None, street: str | None = None) -> list[Site]:
    """Every community (of a district, of a 街道/镇) as a Site, in the order they were stored."""
    query = select(*SITE_COLUMNS).order_by(Community.seq)
    if district is not None:
        query = query.where(Community.district_code == district)
    if street is not None:
        query = query.where(Community.street == street)
    return [Site(*row) for row in session.execute(query)]


def sites_near(session, lat: float, lon: float, radius_m: float) -> list[tuple[float, Site]]:
    """The communities within `radius_m` geodesic metres of a WGS-84 point, nearest first, as
    (metres, Site); read through the spatial index (community_rtree, or the GiST on geog)."""
    # The driver's own cursor: ids as it gives them (SQLite: hex text) become UUIDs here.
    return [(distance, Site(row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(row[0]),
                            *row[1:]))
            for distance, row in store.communities_near(
                session.connection(), lat, lon, radius_m, [c.name for c in SITE_COLUMNS])]


def present(community: Community, coordsys: str = "wgs84") -> dict:
    """A community as the API returns it, its location in the coordsys asked for."""
    lat, lon = from_wgs84(community.lat, community.lon, coordsys)
    district = load_districts().get(community.district_code or "")
    return {
        "id": community.id,
        **{name: getattr(community, name) for name in SIMPLE_FIELDS},
        "district": {"code": district.code, "name": district.name} if district else None,
        "location": {"lat": round(lat, 7), "lon": round(lon, 7), "coordsys": coordsys},
        "updated_at": community.updated_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
    }


def get_community(community_id: str, for_update: bool = False) -> Community:
    """The community with this id, or 404; for_update locks its row until commit."""
    try:
        key = uuid.UUID(community_id)
    except ValueError:
        raise NotFound(f"No community has the id {community_id!r}: ids are UUIDs.") from None
    community = db.session.get(Community, key, with_for_update=for_update)
    if community is None:
        raise NotFound(f"No community has the id {community_id}.")
    return community


def list_communities(filters: dict, page: int, per_page: int) -> tuple[list[Community], int]:
    """One page of matching communities, by name then id, and the total count."""
    query = select(Community)
    if "district" in filters:
        query = query.where(Community.district_code == filters["district"])
    if "street" in filters:
        query = query.where(Community.street == filters["street"])
    if "q" in filters:
        text = filters["q"].strip()  # % and _ are characters here, not wildcards
        query = query.where(or_(Community.name.icontains(text, autoescape=True),
                                Community.name_en.icontains(text, autoescape=True)))
    return paginate(query, page, per_page, Community.name, Community.id)


def snapshot(community: Community) -> dict:
    """The community as stored, in JSON types, for the audit log."""
    return audit.columns_snapshot(community, SNAPSHOT_COLUMNS)


@dataclass
class Change:
    """A staged write: create, update or delete, the community, and its snapshot before."""

    action: str
    community: Community
    before: dict | None


def stage(community: Community | None, data: dict, *, keys_checked: bool = False,
          **_unused) -> Change | None:
    """Snapshot, apply, place and check one write, unflushed; None when it changes nothing.

    Raises the domain errors (Invalid naming the fields, Conflict for a taken external_id).
    """
    before = snapshot(community) if community is not None else None
    target = community or Community(id=uuid.uuid4())
    with db.session.no_autoflush:
        apply_changes(target, data, keys_checked=keys_checked)
    if before is None:
        return Change("create", target, None)
    if audit.unchanged(before, snapshot(target)):
        db.session.expire(target)  # drop the no-op assignments: no version moves
        return None
    return Change("update", target, before)


def write(community: Community | None, data: dict | None) -> Change | None:
    """Create (community None), update, or delete (data None) one community: flushed and
    recorded in the audit log, in the caller's transaction; None when nothing changed."""
    if data is None:
        change = Change("delete", community, snapshot(community))
        audit.record("delete", community, change.before, None, subject=AUDIT_SUBJECT)
        db.session.delete(community)
        return change
    change = stage(community, data)
    if change is None:
        return None
    if change.action == "create":
        db.session.add(change.community)
    db.session.flush()
    audit.record(change.action, change.community, change.before, snapshot(change.community),
                 subject=AUDIT_SUBJECT)
    return change


def write_many(changes: list[Change]) -> None:
    """write() for an import's batch of staged creates and updates, audited in bulk."""
    now = utcnow()
    for change in changes:
        if change.action == "create":
            change.community.created_at = change.community.updated_at = now
            change.community.version = 1
            db.session.add(change.community)
    db.session.flush()
    audit.record_import(None, [(c.before, snapshot(c.community)) for c in changes],
                        subject=AUDIT_SUBJECT)


def apply_changes(community: Community, data: dict, *, keys_checked: bool = False) -> None:
    """Copy validated input onto a community (the location to WGS-84), place it, check it."""
    for name in SIMPLE_FIELDS:
        if name in data:
            setattr(community, name, data[name])
    if "district" in data:
        community.district_code = data["district"]
    if "location" in data:
        location = data["location"]
        community.lat, community.lon = to_wgs84(location["lat"], location["lon"],
                                                location["coordsys"])
    try:
        if {"location", "district"} & data.keys():
            _place(community, data.keys())
        check_consistency(community, keys_checked, data.keys())
    except BoundariesUnavailable:
        raise Unavailable("The district of the point cannot be found just now (the district "
                          "boundaries did not load; see the server log); try again later. "
                          "暂时无法确定坐标所在区县，请稍后再试。") from None


def _place(community: Community, given: Collection[str]) -> None:
    """The district of the point when none is given or the point moved without one (as for
    facilities, locating.py), and the gazetteer's nearest 街道/镇 when no street is known."""
    if community.district_code is None or ("location" in given and "district" not in given):
        district_of_point(community, given)
    if community.street is None:
        found = current_geocoding().reverse(community.lat, community.lon)
        if found is not None and found.district_code == community.district_code:
            community.street = found.street


def check_consistency(community: Community, keys_checked: bool = False,
                      given: Collection[str] = ()) -> None:
    """422 for a community whose fields contradict each other, naming the fields."""
    errors: dict[str, list[str]] = {}
    if {"location", "district"} & set(given):
        # The facilities' rule (#9): in Chongqing, and in the district given.
        errors.update(placement_errors(SimpleNamespace(
            lat=community.lat, lon=community.lon, district_code=community.district_code,
            location_source=None)))
    for name in SUB_POPULATIONS:
        part = getattr(community, name)
        if part is not None and community.population is not None and part > community.population:
            errors[name] = [f"Cannot exceed population ({community.population}). "
                            "不能超过常住人口。"]
    if not keys_checked:
        check_external_id(community, Community, "community")
    if errors:
        raise Invalid(errors)

"""The facility registry: queries, writes and the facility as residents see it."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from .districts import load_districts
from .errors import Problem
from .extensions import db
from .geo.coordsys import from_wgs84, to_wgs84
from .models import Facility, FacilityService

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Plain columns copied as they are from validated input to the model.
SIMPLE_FIELDS = (
    "external_id", "name", "name_en", "kind", "ownership", "inclusive", "status", "address",
    "street", "phone", "opening_hours", "capacity", "vacancies", "age_months_min",
    "age_months_max", "fees", "service_radius_m", "services",
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


def get_facility(facility_id: str) -> Facility:
    """The facility with this id, or 404."""
    try:
        key = uuid.UUID(facility_id)
    except ValueError:
        raise Problem(404, f"No facility has the id {facility_id!r}: ids are UUIDs.") from None
    facility = db.session.get(Facility, key)
    if facility is None:
        raise Problem(404, f"No facility has the id {facility_id}.")
    return facility


def filtered(filters: dict):
    """A select() of facilities matching the list filters (OR within one, AND across)."""
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
    if "q" in filters:
        pattern = "%" + _escape_like(filters["q"].strip()) + "%"
        query = query.where(or_(Facility.name.ilike(pattern, escape="\\"),
                                Facility.name_en.ilike(pattern, escape="\\"),
                                Facility.address.ilike(pattern, escape="\\")))
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_facilities(filters: dict, page: int, per_page: int) -> tuple[list[Facility], int]:
    """One page of matching facilities, by name then id, and the total count."""
    query = filtered(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Facility.name, Facility.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total


def apply_changes(facility: Facility, data: dict) -> None:
    """Copy validated input onto a facility, converting the location to WGS-84."""
    for name in SIMPLE_FIELDS:
        if name in data:
            setattr(facility, name, data[name])
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
            facility.location_source = "manual"
    check_consistency(facility)


def check_consistency(facility: Facility) -> None:
    """422 for a facility whose fields contradict each other, naming the fields."""
    errors: dict[str, list[str]] = {}
    if facility.lat is None and not facility.address:
        errors["address"] = ["Give an address or a location. 地址和坐标至少填写一项。"]
    capacity, vacancies = facility.capacity, facility.vacancies
    if capacity is not None and vacancies is not None and vacancies > capacity:
        errors["vacancies"] = ["Cannot exceed capacity. 空余名额不能超过容量。"]
    if None not in (facility.age_months_min, facility.age_months_max) and (
        facility.age_months_min > facility.age_months_max
    ):
        errors["age_months_max"] = ["Must be at least age_months_min. 最大月龄不能小于最小月龄。"]
    if facility.external_id is not None:
        with db.session.no_autoflush:
            clash = db.session.scalar(select(Facility.id).where(
                Facility.external_id == facility.external_id, Facility.id != facility.id))
        if clash is not None:
            raise Problem(409, f"external_id {facility.external_id!r} is already used by "
                               f"facility {clash}.", {"external_id": ["Already in use."]})
    if errors:
        raise Problem(422, "Invalid value for: " + ", ".join(errors) + ".", errors)

"""The registry as Open Referral HSDS 3.0: one facility is one service at one location.

Each facility is also its own organization. We do not record who runs a facility, and neither
its district nor its ownership is an organization: a district groups 公办 and 民办 providers
alike, and "民办" is no legal entity. A 养老服务站 or 幼儿园 is usually registered in its own
right (事业单位, 民办非企业单位), so the facility is the nearest thing to the organization an HSDS
consumer expects, with the ownership as its `legal_status`.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace

from sqlalchemy import select

from .districts import load_districts
from .extensions import db
from .geo.spatial import NearestQuery
from .hours import SHANGHAI
from .models import Facility
from .paging import Page, page_of
from .registry import filtered, page_of_facilities, text_scan
from .store import nearest
from .vocabulary import BYDAY, HSDS_STATUS, KINDS, OWNERSHIP, SERVICES, STATUSES, WEEKDAYS_ZH

VERSION = "3.0"
PROFILE = "https://openreferral.org/specification/3.0/"  # no profile of our own: the default

# Ids. The service is the facility and keeps its id. An organization's and a service at
# location's id must lead back to the facility in one indexed lookup (they are fetched by id),
# so they are reversible: the facility's UUID XOR a fixed mask of its type,
#   mask = uuid5(uuid5(NAMESPACE_URL, "urn:servicemap:hsds"), "<object type>") with the version
#          and variant bits cleared,
# which keeps the facility id's version and variant (a uuid4 gives a uuid4) and is its own
# inverse. (Until issue 10 they were uuid5 like the others, found by hashing every facility id;
# storing those would have meant every write path, the bulk loader's COPY included, filling
# them.) Every other object's id is
#   uuid5(namespace, "<facility id>" or "<facility id>/<part>")
# with namespace = uuid5(uuid5(NAMESPACE_URL, "urn:servicemap:hsds"), "<object type>"), e.g.
# "location"; taxonomy terms use uuid5(TERM, "<slug>"), the taxonomy uuid5(TAXONOMY,
# "servicemap"). The same facility gives the same ids in every request, process and release.
HSDS_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:servicemap:hsds")
LOCATION, ADDRESS, PHONE, SCHEDULE, ATTRIBUTE, LANGUAGE, SERVICE_AREA, TERM, TAXONOMY = (
    uuid.uuid5(HSDS_NAMESPACE, name) for name in (
        "location", "address", "phone", "schedule", "attribute", "language", "service_area",
        "taxonomy_term", "taxonomy"))
VERSION_AND_VARIANT = (0xF << 76) | (0x3 << 62)  # bits 48-51 and 64-65 of the UUID, from the left


@dataclass(frozen=True)
class Reversible:
    """An object type whose id is the facility's id XOR `mask`: it maps back without a search."""

    mask: int

    @classmethod
    def named(cls, name: str) -> Reversible:
        return cls(uuid.uuid5(HSDS_NAMESPACE, name).int & ~VERSION_AND_VARIANT)

    def flip(self, key: uuid.UUID) -> uuid.UUID:
        """The derived id of a facility id, and the facility id of a derived id."""
        return uuid.UUID(int=key.int ^ self.mask)


ORGANIZATION = Reversible.named("organization")
SERVICE_AT_LOCATION = Reversible.named("service_at_location")

PUBLISHED = [status for status in STATUSES if status != "draft"]  # HSDS has no drafts
CHONGQING = "重庆市"  # a municipality: both the city and the province-level division
APPROXIMATE = {"street": "坐标为所在街道的大致位置 (approximate: street level)",
               "district": "坐标为所在区县的中心点 (approximate: district centre)"}


def derived_id(namespace: uuid.UUID | Reversible, facility_id: uuid.UUID, *parts) -> str:
    """The id of an object derived from a facility (see the comment on the namespaces)."""
    if isinstance(namespace, Reversible):
        return str(namespace.flip(facility_id))
    return str(uuid.uuid5(namespace, "/".join([str(facility_id), *map(str, parts)])))


@dataclass(frozen=True)
class Term:
    """A term of our taxonomy: a kind of facility or a service, by its slug."""

    group: str  # "kind" or "service": the registry filter it stands for
    code: str
    name: str
    english: str

    @property
    def id(self) -> str:
        return str(uuid.uuid5(TERM, self.code))


TERMS = [Term("kind", slug, *labels) for slug, labels in KINDS.items()] + [
    Term("service", slug, *labels) for slug, labels in SERVICES.items()]
TERMS_BY_ID = {term.id: term for term in TERMS}
TERMS_BY_CODE = {term.code: term for term in TERMS}
GROUP_ZH = {"kind": "设施类型 (a kind of facility)", "service": "服务项目 (a service)"}


def taxonomy() -> dict:
    """Our taxonomy, as HSDS `taxonomy` (and `taxonomy_detail`) objects describe one."""
    return {"id": str(uuid.uuid5(TAXONOMY, "servicemap")), "name": "servicemap",
            "description": "servicemap 一老一小 vocabulary: the kinds of facility and the "
                           "services of Chongqing's elder and child care registry",
            "version": "1"}


def taxonomy_term(term: Term) -> dict:
    """A term with its Chinese name; the English label and its group in `description`."""
    detail = taxonomy()
    return {"id": term.id, "code": term.code, "name": term.name,
            "description": f"{term.english}. {GROUP_ZH[term.group]}",
            "taxonomy": detail["name"], "taxonomy_id": detail["id"], "taxonomy_detail": detail,
            "language": "zh"}


def _compact(obj: dict) -> dict:
    # HSDS types are never nullable: an unknown value is left out, not null.
    return {key: value for key, value in obj.items() if value is not None}


def organization(facility: Facility, full: bool = False) -> dict:
    """The facility as its own organization (organization_list.json, or organization.json)."""
    district = load_districts().get(facility.district_code or "")
    where = (district.name if district else "") + (facility.street or "")
    ownership = OWNERSHIP.get(facility.ownership or "")
    body = _compact({
        "id": derived_id(ORGANIZATION, facility.id), "name": facility.name,
        "alternate_name": facility.name_en,
        "description": "，".join(filter(None, [KINDS[facility.kind][0],
                                              ownership and ownership[0], where])),
        "legal_status": ownership and f"{ownership[0]} ({facility.ownership})",
    })
    if full:
        service_body = service(facility, full=True)
        del service_body["organization"]
        body.update(locations=[location(facility, full=True)], services=[service_body])
    return body


def location(facility: Facility, full: bool = False) -> dict:
    """The physical location, WGS-84 as HSDS requires, with its address when full."""
    body = _compact({
        "id": derived_id(LOCATION, facility.id), "location_type": "physical",
        "organization_id": derived_id(ORGANIZATION, facility.id), "name": facility.name,
        "alternate_name": facility.name_en,
        "description": APPROXIMATE.get(facility.location_precision or ""),
        "latitude": None if facility.lat is None else round(facility.lat, 7),
        "longitude": None if facility.lon is None else round(facility.lon, 7),
    })
    if full and facility.address:
        body["addresses"] = [address(facility)]
    return body


def address(facility: Facility) -> dict:
    """The postal address; `postal_code` is required but unknown, so it is empty."""
    district = load_districts().get(facility.district_code or "")
    line = facility.address.removeprefix(CHONGQING)
    if district:
        line = line.removeprefix(district.name)
    return _compact({
        "id": derived_id(ADDRESS, facility.id), "location_id": derived_id(LOCATION, facility.id),
        "address_1": line or facility.address, "city": CHONGQING,
        "region": district.name if district else None, "state_province": CHONGQING,
        "postal_code": "", "country": "CN", "address_type": "physical",
    })


def service(facility: Facility, full: bool = False) -> dict:
    """The service: one-to-one fields (service_list.json), or nested whole (service.json)."""
    body = _compact({
        "id": str(facility.id), "organization_id": derived_id(ORGANIZATION, facility.id),
        "name": facility.name, "alternate_name": facility.name_en,
        "description": _service_description(facility),
        "status": HSDS_STATUS[facility.status], "fees_description": facility.fees,
        "eligibility_description": _ages(facility),
        "minimum_age": _years(facility.age_months_min),
        "maximum_age": _years(facility.age_months_max),
        "last_modified": facility.updated_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "organization": organization(facility),
    })
    if not full:
        return body
    if facility.phone:
        body["phones"] = [{"id": derived_id(PHONE, facility.id), "service_id": body["id"],
                           "number": facility.phone}]
    body["schedules"] = [schedule(facility, index) for index in
                         range(len(facility.opening_hours or []))]
    if facility.service_radius_m:
        body["service_areas"] = [{
            "id": derived_id(SERVICE_AREA, facility.id), "service_id": body["id"],
            "name": f"服务半径 {facility.service_radius_m} 米",
            "description": f"上门服务：距服务点 {facility.service_radius_m} 米以内 (a mobile "
                           f"service within {facility.service_radius_m} m of its base)"}]
    body["service_at_locations"] = [service_at_location(facility, nested=True)]
    body["languages"] = [{"id": derived_id(LANGUAGE, facility.id, "zh"),
                          "service_id": body["id"], "name": "中文", "code": "zh"}]
    body["attributes"] = [attribute(facility, TERMS_BY_CODE[code])
                          for code in [facility.kind, *facility.services]]
    return body


def service_at_location(facility: Facility, full: bool = False, nested: bool = False) -> dict:
    """The link of the service and its location: in a list, whole, or inside a service."""
    body = {"id": derived_id(SERVICE_AT_LOCATION, facility.id), "service_id": str(facility.id),
            "location_id": derived_id(LOCATION, facility.id),
            "location": location(facility, full=full or nested)}
    if not nested:
        body["service"] = service(facility, full=full)
        body["service"].pop("service_at_locations", None)
    return body


def attribute(facility: Facility, term: Term) -> dict:
    """A taxonomy term the service carries."""
    return {"id": derived_id(ATTRIBUTE, facility.id, term.code), "link_id": str(facility.id),
            "link_entity": "service", "taxonomy_term_id": term.id,
            "taxonomy_term": taxonomy_term(term)}


def schedule(facility: Facility, index: int) -> dict:
    """One opening-hours interval as a weekly RRULE-style schedule, in Shanghai time."""
    interval = facility.opening_hours[index]
    days = sorted(interval["days"])
    closes = interval["closes"]
    overnight = closes < interval["opens"]
    return {
        "id": derived_id(SCHEDULE, facility.id, index), "service_id": str(facility.id),
        "freq": "WEEKLY", "wkst": "MO", "byday": ",".join(BYDAY[day - 1] for day in days),
        "opens_at": f"{interval['opens']}+08:00", "closes_at": f"{closes}+08:00",
        "timezone": 8,
        "description": f"{_days_zh(days)} {interval['opens']}-{'次日' if overnight else ''}"
                       f"{closes}",
        "notes": _calendar_notes(facility),
    }


# HSDS has no holiday rule or closure of its own: schedules carry them as their notes.
HOLIDAY_NOTES = {
    "closed": "法定节假日休息，调休上班日按工作日时间开放 (closed on statutory holidays; "
              "make-up workdays keep working-day hours)",
    "open": "法定节假日照常开放，调休上班日按工作日时间开放 (weekly hours on statutory holidays; "
            "make-up workdays keep working-day hours)",
    "weekly": "按每周时间开放，不受节假日影响 (weekly hours whatever the day)",
}


def _calendar_notes(facility: Facility) -> str:
    """The holiday rule, and any closures, in words (dates inclusive, Asia/Shanghai)."""
    notes = [HOLIDAY_NOTES[facility.holiday_rule or "weekly"]]
    for closure in facility.closures or []:
        reason = f"：{closure['reason']}" if closure.get("reason") else ""
        notes.append(f"停业 {closure['from']} 至 {closure['to']}{reason} (closed)")
    return "；".join(notes)


def _days_zh(days: list[int]) -> str:
    consecutive = days == list(range(days[0], days[0] + len(days)))
    if consecutive and len(days) >= 3:
        return f"{WEEKDAYS_ZH[days[0] - 1]}至{WEEKDAYS_ZH[days[-1] - 1]}"
    return "、".join(WEEKDAYS_ZH[day - 1] for day in days)


def _years(months: int | None) -> float | int | None:
    if months is None:
        return None
    years = months / 12
    return int(years) if years.is_integer() else round(years, 2)


def _ages(facility: Facility) -> str | None:
    low, high = facility.age_months_min, facility.age_months_max
    if low is None and high is None:
        return None
    if low is not None and high is not None:
        return f"适用月龄 {low}-{high} 个月 (ages {low} to {high} months)"
    if low is not None:
        return f"适用月龄 {low} 个月以上 (from {low} months)"
    return f"适用月龄 {high} 个月以下 (up to {high} months)"


def _service_description(facility: Facility) -> str:
    kind_zh, kind_en = KINDS[facility.kind]
    parts = [f"{kind_zh}（{kind_en}）"]
    if facility.services:
        parts.append("提供" + "、".join(SERVICES[slug][0] for slug in facility.services))
    if facility.ownership or facility.inclusive:
        parts.append("，".join(filter(None, [OWNERSHIP.get(facility.ownership or "", ("",))[0],
                                             "普惠性" if facility.inclusive else ""])))
    if facility.capacity is not None:
        vacancies = "" if facility.vacancies is None else f"，空余 {facility.vacancies}"
        parts.append(f"名额 {facility.capacity}{vacancies}")
    return "。".join(parts) + "。"


def page(contents: list, total: int, page_number: int | None, per_page: int, *,
         estimated: bool = False, next_cursor: str | None = None,
         last: bool | None = None) -> dict:
    """An HSDS page; `size` counts this page's entities, as the HSDA document defines it.
    After a cursor the page has no number (None); `last` says whether it is the last page
    where that is known without the total (which may be an estimate)."""
    total_pages = math.ceil(total / per_page)
    return {"total_items": total, "total_pages": total_pages, "page_number": page_number,
            "size": len(contents), "first_page": page_number == 1,
            "last_page": last if last is not None else page_number >= total_pages,
            "empty": not contents, "contents": contents,
            "total_estimated": estimated, "next_cursor": next_cursor}


def published_facility(facility_id: str | uuid.UUID | None) -> Facility | None:
    """The facility with this id unless it is a draft; None for unknown or malformed ids."""
    try:
        key = facility_id if isinstance(facility_id, uuid.UUID) else uuid.UUID(facility_id)
    except (TypeError, ValueError):
        return None
    facility = db.session.get(Facility, key)
    return facility if facility is not None and facility.status in PUBLISHED else None


def facility_for(derived: str, kind: Reversible) -> Facility | None:
    """The published facility an organization or service_at_location id was derived from:
    the id flipped back, then one lookup by the facility's unique id."""
    try:
        wanted = uuid.UUID(derived)
    except ValueError:
        return None
    return published_facility(kind.flip(wanted))


def find_facilities(page_number: int, per_page: int, *, search: str | None = None,
                    term: Term | None = None, facility_id: uuid.UUID | None = None,
                    modified_after=None, near: NearestQuery | None = None,
                    after: tuple | None = None) -> Page:
    """One page of published facilities passing every filter (AND), and how many pass.

    By name then id, the page-th or the one after the cursor's key `after`; with `near`, by
    distance as /facilities/nearest ranks them (only active facilities with a location,
    within `radius_m` or inside their own service area), by page number only.
    """
    def selected(text_index: bool = True):
        query = filtered({"status": PUBLISHED, **({"q": search} if search else {}),
                          **({term.group: [term.code]} if term else {})}, text_index)
        if facility_id is not None:
            query = query.where(Facility.id == facility_id)
        if modified_after is not None:
            query = query.where(Facility.updated_at >= modified_after)
        return query

    query = selected()
    if near is None:
        return page_of_facilities(query, page_number, per_page, after,
                                  scan=text_scan(search, selected))
    narrowed = bool(search) or facility_id is not None or modified_after is not None
    ranked = _nearest_ids(query if narrowed else None, near, term)
    chosen = page_of(ranked, page_number, per_page)
    rows = {f.id: f for f in db.session.scalars(select(Facility).where(Facility.id.in_(chosen)))}
    return Page([rows[key] for key in chosen], len(ranked))


# Every hit in range is needed for `total_items`. The radius (at most 50 km) bounds them and
# the spatial index finds them, so the search's limit is one no answer reaches, not a count of
# the registry.
IN_RANGE = 2**31 - 3


def _nearest_ids(query, near: NearestQuery, term: Term | None) -> list[uuid.UUID]:
    """The ids in range, nearest first, that also pass `query` (None: nothing beyond what the
    spatial search filters itself: its hits are active, so published, and of the term)."""
    near = replace(near, limit=IN_RANGE,
                   kinds=(term.code,) if term and term.group == "kind" else (),
                   services=(term.code,) if term and term.group == "service" else ())
    hits = [hit.id for hit in nearest(db.session.connection(), near)]
    if query is None:
        return hits
    passing: set[uuid.UUID] = set()
    for start in range(0, len(hits), 1000):  # well under every driver's bound-parameter limit
        passing.update(db.session.scalars(query.with_only_columns(Facility.id).where(
            Facility.id.in_(hits[start:start + 1000]))))
    return [key for key in hits if key in passing]

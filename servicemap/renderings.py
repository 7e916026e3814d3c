"""Facilities in nearest answers as JSON text, rendered once per stored version.

Building present_answer()'s dict for every facility of every answer, and serialising it, was
most of an answer's cost. Now a facility is rendered when it is written: each write stores the
parts of its answer that no request changes beside it (registry.rendered_text, table
facility_rendering, migration 0012), in the write's transaction, with the version it bumps. An
answer reads the stored renderings of its facilities' current versions in one query (or, for a
facility whose rendering is missing, older or made by other code, reads the row and renders
it), and each worker keeps the renderings it has read, bounded, the
oldest out first, so that an answer whose facilities are all kept costs no query beyond the
search. Each answer then splices in only what depends on the request: the location in the
coordsys asked for, `open_now`, `next_change` and `holiday_data` at the moment
(hours.opening_state, run once per distinct timetable in the answer), and `distance_m`. The
text is byte for byte what json.dumps of present_answer() plus `distance_m` gives
(tests/test_renderings.py).

A search reads each hit's stamp with its candidates: its version, which every write bumps, and
its row's seq, which a facility deleted and stored again under the same id would not keep (ids
are fresh UUIDs anyway).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import bindparam, select

from . import hours
from .caching import fresh_until
from .geo.coordsys import from_wgs84
from .holidays import current_calendar
from .models import Facility, FacilityService
from .registry import RENDERING_SEPARATOR, RENDERING_STATE, rendered_text, rendering_key
from .store import stored_renderings
from .vocabulary import ordered_services

EXTENSION = "servicemap.renderings"
_TABLE, _SERVICES = Facility.__table__, FacilityService.__table__
# Each facility of the answer that is not rendered yet: its row (with the stamp's version
# and seq) and its services. Built once; SQLAlchemy caches its compiled form.
_ROWS = select(_TABLE, _SERVICES.c.service).outerjoin(
    _SERVICES, _SERVICES.c.facility_id == _TABLE.c.id).where(
    _TABLE.c.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class Rendering:
    """One version of a facility as JSON text, cut where the request's parts go in."""

    stamp: tuple  # (version, seq), as spatial.Hit carries it
    head: str  # '{"id": …, …, "district": …'
    lat: float | None  # WGS-84; None: "location": null
    lon: float | None
    location_tail: str  # ', "precision": …, "source": …}'
    updated_at: str  # ', "updated_at": "…"'
    timetable: tuple  # opening_state's inputs (registry.RENDERING_STATE) as JSON text


class Renderings:
    """Renderings by facility id, at most `size` (0: none kept), the oldest dropped first."""

    def __init__(self, size: int):
        self.size, self._items, self._lock = size, {}, threading.Lock()

    def get(self, facility_id) -> Rendering | None:
        return self._items.get(facility_id)

    def put(self, facility_id, rendering: Rendering) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items.pop(facility_id, None)
            while len(self._items) >= self.size:
                del self._items[next(iter(self._items))]
            self._items[facility_id] = rendering


def renderings() -> Renderings:
    """The current app's renderings (made on first use, sized by rendering_cache_size)."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = Renderings(current_app.config["SERVICEMAP"].rendering_cache_size)
        current_app.extensions[EXTENSION] = found
    return found


def render(row, services: list[str], stamp: tuple) -> Rendering:
    """A facility row (with its services) rendered as present() gives it in WGS-84."""
    facility = SimpleNamespace(**row, services=ordered_services(services))
    return from_text(rendered_text(facility), stamp)


def from_text(text: str | None, stamp: tuple) -> Rendering | None:
    """The Rendering a stored rendering (registry.rendered_text) holds; None if it is
    missing or was made by other code or another gazetteer."""
    parts = text.split(RENDERING_SEPARATOR) if text else ()
    if len(parts) != 10 or parts[0] != rendering_key():
        return None
    _key, head, lat, lon, location_tail, updated_at, *timetable = parts
    return Rendering(stamp=stamp, head=head, lat=float(lat) if lat else None,
                     lon=float(lon) if lon else None, location_tail=location_tail,
                     updated_at=updated_at, timetable=tuple(timetable))


# Timetables as hours.opening_state reads them, by their JSON text: many facilities share one
# (the same hours, rule and closures), so a worker reads each once. Not kept on each Rendering:
# ten thousand kept renderings each holding parsed lists and dicts made every collection of
# Python's garbage collector slower (p99 of /nearest over the whole box at 1M, 1.8 -> 25 ms).
_TIMETABLES: dict[tuple, SimpleNamespace] = {}
TIMETABLES_HELD = 4096  # then all are forgotten


def facility_state(timetable: tuple) -> SimpleNamespace:
    """What hours.opening_state reads of a facility rendered with this timetable."""
    state = _TIMETABLES.get(timetable)
    if state is None:
        if len(_TIMETABLES) >= TIMETABLES_HELD:
            _TIMETABLES.clear()
        state = _TIMETABLES[timetable] = SimpleNamespace(**{
            name: json.loads(value)
            for name, value in zip(RENDERING_STATE, timetable, strict=True)})
    return state


def _read(connection, ids: list) -> dict:
    """Renderings of these facilities, by id: as stored with their current version (one
    query), or for rows whose stored one is missing or stale, read and rendered now."""
    found, missing = {}, []
    for facility_id, version, seq, text in stored_renderings(connection, ids):
        rendering = from_text(text, (version, seq))
        if rendering is None:
            missing.append(facility_id)
        else:
            found[facility_id] = rendering
    if missing:
        rows, services = {}, {}
        for row in connection.execute(_ROWS, {"ids": missing}).mappings():
            rows[row["id"]] = row
            if row["service"] is not None:
                services.setdefault(row["id"], []).append(row["service"])
        found.update((facility_id, render(row, services.get(facility_id, []),
                                          (row["version"], row["seq"])))
                     for facility_id, row in rows.items())
    return found


def rendered_hits(connection, hits) -> list[tuple]:
    """(hit, rendering) in the hits' order: stored renderings whose stamp is the hit's, the
    rest read and rendered now (and kept). A facility deleted since the search is left out."""
    kept = renderings()
    pairs = [(hit, kept.get(hit.id)) for hit in hits]
    stale = {hit.id for hit, rendering in pairs
             if rendering is None or rendering.stamp != hit.stamp}
    if not stale:
        return pairs
    fresh = _read(connection, list(stale))
    for facility_id, rendering in fresh.items():
        kept.put(facility_id, rendering)
    pairs = [(hit, fresh.get(hit.id) if hit.id in stale else rendering)
             for hit, rendering in pairs]
    return [(hit, rendering) for hit, rendering in pairs if rendering is not None]


def items_json(connection, hits, coordsys: str) -> str:
    """A nearest search's hits as the JSON array of present_answer() items plus distance_m."""
    moment = hours.shanghai_now()
    calendar, dumps = current_calendar(), current_app.json.dumps
    local = hours.local_time(moment)
    states: dict[tuple, str] = {}
    changes = []
    coordsys_text = ', "coordsys": ' + dumps(coordsys)
    items = []
    for hit, rendering in rendered_hits(connection, hits):
        state = states.get(rendering.timetable)
        if state is None:
            opening = hours.opening_state(facility_state(rendering.timetable), local, calendar)
            changes.append(opening["next_change"])
            state = ", " + dumps(opening)[1:-1]
            states[rendering.timetable] = state
        location = "null"
        if rendering.lat is not None:
            lat, lon = from_wgs84(rendering.lat, rendering.lon, coordsys)
            location = (f'{{"lat": {round(lat, 7)!r}, "lon": {round(lon, 7)!r}'
                        f"{coordsys_text}{rendering.location_tail}")
        items.append(f'{rendering.head}, "location": {location}{rendering.updated_at}{state}'
                     f', "distance_m": {hit.distance_m!r}}}')
    fresh_until(changes)  # no cache keeps the answer past its first open_now flip
    return "[" + ", ".join(items) + "]"

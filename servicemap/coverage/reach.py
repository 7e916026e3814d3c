"""Which facilities lie within reach of which sites, and each site's nearest facility.

The facilities are read from the database in one circle holding every site's own circle (the
backend's spatial index: store.facilities_within), then paired with the sites in memory
(pairs.py). A site with no facility within reach is asked again, with the others like it, in
circles four times as wide, until its nearest is found or the circle holds the whole Earth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geo.distance import geodesics_m
from ..geo.spatial import NearestQuery
from ..geo.within import HALF_EARTH_M
from ..store import facilities_within
from .pairs import pairs_within

WIDER = 4.0  # how much the circle grows for the sites still without a nearest facility


def selection(kind: str | None = None, program=None) -> NearestQuery | None:
    """The filters that pick the facilities: of `kind`, and/or delivering `program` (a
    catalogue Programme, or its `delivered_by` mapping) as /facilities/nearest narrows them;
    None when no facility can match both."""
    query = NearestQuery(0.0, 0.0, kinds=(kind,) if kind else ())
    if program is not None:
        return query.delivering(getattr(program, "delivered_by", program))
    return query


@dataclass(frozen=True)
class Reach:
    """Sites (by position) paired with the facilities within reach of them."""

    site: np.ndarray  # pairs: the site's position in the list given
    facility: np.ndarray  # pairs: the facility's position in `capacity`
    capacity: list  # of each facility fetched (None where unknown)
    nearest_m: np.ndarray  # geodesic metres to each site's nearest facility; NaN: none at all


def reach(connection, query: NearestQuery | None, lat, lon, reach_m: float,
          nearest: bool = True) -> Reach:
    """The pairs within reach_m (geodesic metres) and, with `nearest`, every site's nearest
    facility however far (else only those within reach_m)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    nearest_m = np.full(lat.size, np.nan)
    if query is None or not lat.size:
        return Reach(np.empty(0, np.int64), np.empty(0, np.int64), [], nearest_m)
    pending, radius, first = np.arange(lat.size), reach_m, None
    while pending.size:
        rows = _fetch(connection, query, lat[pending], lon[pending], radius)
        f_lat = np.fromiter((row[1] for row in rows), float, len(rows))
        f_lon = np.fromiter((row[2] for row in rows), float, len(rows))
        i, j, found = pairs_within(lat[pending], lon[pending], f_lat, f_lon, radius)
        if first is None:
            first = Reach(pending[i], j, [row[3] for row in rows], nearest_m)
        nearest_m[pending] = found
        pending = pending[np.isnan(found)]
        if not nearest or radius >= HALF_EARTH_M:
            break
        radius = min(HALF_EARTH_M, radius * WIDER)
    return first


def _fetch(connection, query: NearestQuery, lat: np.ndarray, lon: np.ndarray,
           radius: float) -> list[tuple]:
    """The facilities within `radius` of any of the sites: one circle around their middle."""
    middle_lat = (lat.min() + lat.max()) / 2
    middle_lon = (lon.min() + lon.max()) / 2
    spread = float(np.max(geodesics_m(np.full(lat.size, middle_lat),
                                      np.full(lat.size, middle_lon), lat, lon)))
    return facilities_within(connection, query, float(middle_lat), float(middle_lon),
                             spread + radius)

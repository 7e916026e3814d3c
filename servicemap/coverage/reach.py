"""Which facilities lie within reach of which sites, and each site's nearest facility.

The facilities are read from the database in one circle holding every site's own circle (the
backend's spatial index: store.facilities_within), then paired with the sites in memory
(pairs.py). A site with no facility within reach is asked again, with the others like it, in
circles four times as wide, until its nearest is found or the circle holds the whole Earth;
the first read takes in two such rounds, and the database is read again only past them.
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
FIRST_ROOM = WIDER ** 2  # the first read reaches this much farther than asked: two rounds


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
    # One circle around the middle holds every site's own: what lies within `radius` of a
    # site lies within its distance from the middle plus `radius` of the middle.
    middle = ((lat.min() + lat.max()) / 2, (lon.min() + lon.max()) / 2)
    apart = np.asarray(geodesics_m(np.full(lat.size, middle[0]), np.full(lat.size, middle[1]),
                                   lat, lon), dtype=float)
    pending, radius, first, fetched = np.arange(lat.size), reach_m, None, -1.0
    while pending.size:
        needed = float(apart[pending].max()) + radius
        if needed > fetched:
            # Room for the nearest of most sites beyond reach, so that one read serves all.
            fetched = min(HALF_EARTH_M, needed + (radius * (FIRST_ROOM - 1) if nearest else 0))
            capacity, f_lat, f_lon = _columns(facilities_within(
                connection, query, float(middle[0]), float(middle[1]), fetched))
        i, j, found = pairs_within(lat[pending], lon[pending], f_lat, f_lon, radius)
        if first is None:
            first = Reach(pending[i], j, capacity, nearest_m)
        nearest_m[pending] = found
        pending = pending[np.isnan(found)]
        if not nearest or radius >= HALF_EARTH_M:
            break
        radius = min(HALF_EARTH_M, radius * WIDER)
    return first


def _columns(rows: list[tuple]) -> tuple[list, np.ndarray, np.ndarray]:
    """Capacities, latitudes and longitudes of the rows (seq, lat, lon, capacity)."""
    if not rows:
        return [], np.empty(0), np.empty(0)
    # In seq order, whatever order the backend read them in: sums over facilities (2SFCA)
    # then add up in the same order, to the last bit, on every backend.
    seq, lat, lon, capacity = zip(*rows, strict=True)
    order = np.argsort(np.array(seq, dtype=np.int64), kind="stable")
    return ([capacity[k] for k in order.tolist()], np.array(lat, dtype=float)[order],
            np.array(lon, dtype=float)[order])

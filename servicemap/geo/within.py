"""Every facility passing a search's filters within a circle: one function per backend, for
coverage (coverage/reach.py), which fetches the candidates of many sites at once and measures
them itself.

Both answer a superset: all active, located facilities passing the filters (kinds, services,
inclusive) whose geodesic distance from the centre is at most `radius_m`, and perhaps some
farther. Rows are (seq, lat, lon, capacity). A radius past half the Earth's circumference is
the whole table.
"""

from __future__ import annotations

from .distance import box_around
from .spatial import (
    SEARCHABLE,
    SPHERE_SLACK,
    NearestQuery,
    _filters,
    kind_branches,
    probe_box,
    sqlite_box_statement,
)

COLUMNS = "f.seq, f.lat, f.lon, f.capacity"
HALF_EARTH_M = 20_003_931.0  # half a meridian: no two points are farther apart


def sqlite_within(cursor, query: NearestQuery, lat: float, lon: float,
                  radius_m: float) -> list[tuple]:
    """The R*Tree (the class one when filtered) read over the circle's box, once per span."""
    sql, probes = sqlite_box_statement(query, COLUMNS)
    box = box_around(lat, lon, min(radius_m, HALF_EARTH_M))
    rows = probe_box(cursor, sql, probes, box)
    west, east = box[2:]
    if west > east:  # two spans: a mobile service's area may straddle both, once each
        rows = list({row[0]: row for row in rows}.values())
    return rows


def postgis_within(cursor, query: NearestQuery, lat: float, lon: float,
                   radius_m: float) -> list[tuple]:
    """The GiST index's box test around the circle (spherical, grown by the sphere's slack),
    one branch per kind so that each reads the class index by equality."""
    conditions, params = _filters(query, "%%(%s)s", kinds=False)
    near = ""
    if radius_m * SPHERE_SLACK + 1.0 < HALF_EARTH_M:
        near = (" AND f.geog && _ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
                "::geography, %(reach)s)")
        params.update(lat=lat, lon=lon, reach=radius_m * SPHERE_SLACK + 1.0)
    branches = [f"SELECT {COLUMNS} FROM facility f WHERE {SEARCHABLE} "
                f"AND f.geog IS NOT NULL{near}{this_kind}{conditions}"
                for this_kind in kind_branches(query.kinds, params)]
    cursor.execute(" UNION ALL ".join(branches), params)
    return cursor.fetchall()

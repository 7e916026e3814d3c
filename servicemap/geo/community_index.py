"""Communities within a radius of a point, through the spatial index: one function per
backend (store.communities_near picks the backend's), each a box or sphere test the index
answers, then the exact geodesic distance. Migration 0009 creates both indexes."""

from __future__ import annotations

from .distance import box_around, geodesic_m
from .spatial import SPHERE_SLACK, probe_box


def _exact(lat: float, lon: float, radius_m: float, rows) -> list[tuple[float, tuple]]:
    """(metres, row) for the rows (their lat and lon last) within the radius, nearest first;
    ties in the order the rows came."""
    hits = []
    for row in rows:
        distance = geodesic_m(lat, lon, row[-2], row[-1])
        if distance <= radius_m:
            hits.append((distance, tuple(row[:-2])))
    hits.sort(key=lambda hit: hit[0])
    return hits


def sqlite_near(cursor, lat: float, lon: float, radius_m: float,
                columns: list[str]) -> list[tuple[float, tuple]]:
    """The R*Tree's entries in the box around the circle (both sides of the antimeridian)."""
    # CROSS JOIN: SQLite's planner must start from the R*Tree.
    sql = (f"SELECT {', '.join(f'c.{name}' for name in columns)}, c.lat, c.lon "
           "FROM community_rtree r CROSS JOIN community c ON c.seq = r.id "
           "WHERE r.max_lat >= :south AND r.min_lat <= :north "
           "AND r.max_lon >= :west AND r.min_lon <= :east ORDER BY c.seq")
    rows = probe_box(cursor, sql, [{}], box_around(lat, lon, radius_m))
    return _exact(lat, lon, radius_m, rows)


def postgis_near(cursor, lat: float, lon: float, radius_m: float,
                 columns: list[str]) -> list[tuple[float, tuple]]:
    """The GiST index's communities within the radius on the sphere, widened by the sphere's
    worst error against the ellipsoid, then measured exactly."""
    sql = (f"SELECT {', '.join(f'c.{name}' for name in columns)}, c.lat, c.lon FROM community c "
           "WHERE ST_DWithin(c.geog, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,"
           " %(reach)s, false) ORDER BY c.seq")
    cursor.execute(sql, {"lat": lat, "lon": lon, "reach": radius_m * SPHERE_SLACK + 1.0})
    return _exact(lat, lon, radius_m, cursor.fetchall())

"""The baselines the store is measured against, and a brute-force answer to check it by.

Each `make_*` returns a function (lat, lon) -> list of ids, nearest first, for k=10, r=5 km.
"""

from __future__ import annotations

import math
import sqlite3
import time
import uuid

import numpy as np
import psycopg
from geopy.distance import geodesic

from servicemap.geo.spatial import Densities, NearestQuery
from servicemap.store.sqlite import SQLITE_PRAGMAS

K, RADIUS = 10, 5000.0
EARTH_M = 6_371_008.8  # mean radius, for haversine and for chords on the unit sphere


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_M * math.asin(math.sqrt(h))


def make_raw_rtree(path: str, densities: Densities | None = None, connection=None):
    """sqlite3 directly, same file and pragmas: the store's grown box, haversine instead of
    the geodesic, no SQLAlchemy, no UUID objects. Mobile services (indexed by their area's
    box) count when the origin is inside their radius, as in the store. The box starts at a
    kilometre, or where `densities` (the store's own learning, geo/spatial.py) aims it.
    Each search runs on `connection()` when given (a sqlite3 connection of the caller's
    choosing), else on a connection of its own."""
    db = None
    if connection is None:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in SQLITE_PRAGMAS:
            db.execute(pragma)

        def connection():
            return db
    sql = ("SELECT f.id, f.lat, f.lon, f.service_radius_m FROM facility_rtree r "
           "JOIN facility f ON f.seq = r.id WHERE r.max_lat >= ? AND r.min_lat <= ? "
           "AND r.max_lon >= ? AND r.min_lon <= ?")

    def search(lat: float, lon: float) -> list:
        query = NearestQuery(lat, lon, RADIUS, K) if densities else None
        reach = densities.first_reach(query) if densities else 1000.0
        cos_lat = math.cos(math.radians(abs(lat) + 0.1))
        while True:
            dlat = reach / 110_574.0 * 1.0001 + 1e-6
            dlon = reach / (111_319.0 * cos_lat) * 1.0001 + 1e-6
            hits = []
            for fid, flat, flon, service_radius in connection().execute(
                    sql, (lat - dlat, lat + dlat, lon - dlon, lon + dlon)):
                d = haversine_m(lat, lon, flat, flon)
                if d <= RADIUS or (service_radius is not None and d <= service_radius):
                    hits.append((round(d, 1), fid))
            hits.sort()
            inside = sum(1 for d, _ in hits if d < reach)
            if inside >= K or reach >= RADIUS:
                if densities:
                    densities.learn(query, reach, inside)
                return [fid for _, fid in hits[:K]]
            reach = min(RADIUS, reach * max(1.5, 1.1 * math.sqrt(K / max(1, inside))))

    return search, db


KNN_SQL = ("SELECT id FROM facility WHERE status = 'active' AND ST_DWithin(geog, "
           "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, 5000, false) "
           "ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography "
           "LIMIT 10")
# The same KNN, and beside it in one statement the mobile services whose service area holds
# the point, as the store asks (its UNION ALL branch over ix_facility_coverage).
KNN_AREAS_SQL = (f"({KNN_SQL}) UNION ALL (SELECT id FROM facility WHERE status = 'active' "
                 "AND coverage && ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))")


def make_raw_knn(url: str, sql: str = KNN_SQL):
    """psycopg directly, a server-side prepared statement, as the brief gives it (or `sql`,
    on the same parameters: KNN_AREAS_SQL)."""
    db = psycopg.connect(url, autocommit=True)
    cursor = db.cursor()

    def search(lat: float, lon: float) -> list:
        cursor.execute(sql, {"lat": lat, "lon": lon}, prepare=True)
        return [row[0] for row in cursor.fetchall()]

    return search, db


def unit_vectors(lat, lon) -> np.ndarray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def chord(metres: float) -> float:
    return 2 * math.sin(metres / EARTH_M / 2)


class Points:
    """Every searchable facility, read back from the SQLite file, with a cKDTree over them."""

    def __init__(self, path: str):
        db = sqlite3.connect(path)
        rows = db.execute("SELECT id, lat, lon, coalesce(service_radius_m, 0) FROM facility "
                          "WHERE status = 'active' AND lat IS NOT NULL ORDER BY seq").fetchall()
        db.close()
        self.ids = [uuid.UUID(row[0]) for row in rows]
        self.lat = np.array([row[1] for row in rows])
        self.lon = np.array([row[2] for row in rows])
        self.radius = np.array([row[3] for row in rows])
        started = time.perf_counter()
        # Imported here: bench/floor_app.py's workers import this module, and scipy would add
        # 16 MB to the private memory the bench reports of them.
        from scipy.spatial import cKDTree

        self.tree = cKDTree(unit_vectors(self.lat, self.lon))
        self.build_seconds = time.perf_counter() - started
        self.bound = chord(RADIUS)
        self.widest = chord(max(RADIUS, float(self.radius.max())) * 1.01 + 10)

    def kdtree_search(self, lat: float, lon: float) -> list:
        """k=10 nearest on the sphere within 5 km (the floor: no mobile areas, no geodesic)."""
        _, found = self.tree.query(unit_vectors(lat, lon)[0], k=K, distance_upper_bound=self.bound)
        return [self.ids[i] for i in found if i < len(self.ids)]

    def brute_force(self, lat: float, lon: float) -> list:
        """Over-fetch everything within the widest service radius, then exact geopy geodesics,
        the store's rule (within 5 km, or within a mobile service's own radius) and order."""
        hits = []
        for i in self.tree.query_ball_point(unit_vectors(lat, lon)[0], self.widest):
            d = geodesic((lat, lon), (self.lat[i], self.lon[i])).meters
            if d <= RADIUS or (self.radius[i] and d <= self.radius[i]):
                hits.append((round(d, 1), self.ids[i]))
        return [fid for _, fid in sorted(hits)[:K]]


def geopy_loop_seconds(points: Points, n: int, sample: int = 2000) -> float:
    """Seconds for one query by geopy.geodesic over all n points, from a timed sample."""
    origin = (30.15, 107.7)
    pairs = list(zip(points.lat[:sample].tolist(), points.lon[:sample].tolist(), strict=True))
    started = time.perf_counter()
    nearest_m = min(geodesic(origin, (lat, lon)).meters for lat, lon in pairs)
    assert nearest_m >= 0
    return (time.perf_counter() - started) / len(pairs) * n

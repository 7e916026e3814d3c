"""Property: for random data, origins, radii, limits and filters, `nearest` equals a brute-force
geodesic scan (geopy) of the same data, on every backend."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from servicemap.database import make_engine
from servicemap.geo.spatial import NearestQuery
from servicemap.holidays import load_calendar
from servicemap.hours import default_holiday_rule, is_open
from servicemap.models import Facility, FacilityService
from servicemap.registry import bulk_insert
from servicemap.store import facilities_within, nearest
from servicemap.vocabulary import KINDS, SERVICES

CENTRE = (29.7, 106.5)
CALENDAR = load_calendar(None)  # the package's 2026: the shipped table adds no 2026 dates
HOURS = [[], [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}],
         [{"days": [5, 6], "opens": "20:00", "closes": "02:00"}],
         [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}],
         # Inside half hours: SQL's slot masks let them through, the exact check decides.
         [{"days": [1, 7], "opens": "08:10", "closes": "12:50"},
          {"days": [3], "opens": "23:40", "closes": "00:20"}]]

CLOSURE = [{"from": "2026-10-09", "to": "2026-10-09", "reason": "盘点"}]

offsets = st.floats(-0.05, 0.05)
facility = st.fixed_dictionaries({
    "dlat": offsets, "dlon": offsets,
    "kind": st.sampled_from(sorted(KINDS)),
    "services": st.lists(st.sampled_from(sorted(SERVICES)), max_size=3, unique=True),
    "status": st.sampled_from(["active"] * 6 + ["inactive", "draft"]),
    "located": st.sampled_from([True] * 9 + [False]),
    "inclusive": st.booleans(),
    "vacancies": st.sampled_from([None, 0, 1, 3]),
    "service_radius_m": st.sampled_from([None] * 4) | st.integers(500, 20_000),
    "opening_hours": st.sampled_from(HOURS),
    "holiday_rule": st.sampled_from([None, None, "closed", "open", "weekly"]),  # None: default
    "closures": st.sampled_from([[], [], CLOSURE]),
    "copies": st.integers(1, 3),  # several facilities at one point: ties at equal distance
})
query = st.fixed_dictionaries({
    # Inside the data, on its edges, and well outside it.
    "dlat": st.sampled_from([0.0, 0.05, -0.05]) | st.floats(-0.05, 0.05) | st.floats(-0.5, 0.5),
    "dlon": st.sampled_from([0.0, 0.05, -0.05]) | st.floats(-0.05, 0.05) | st.floats(-0.5, 0.5),
    "radius_m": st.sampled_from([1.0, 50.0, 50_000.0]) | st.floats(1.0, 50_000.0)
    | st.floats(500.0, 3000.0),
    "limit": st.integers(1, 15),
    "kinds": st.just(()) | st.just(()) | st.lists(
        st.sampled_from(sorted(KINDS)), min_size=1, max_size=3, unique=True).map(tuple),
    "services": st.just(()) | st.just(()) | st.lists(
        st.sampled_from(sorted(SERVICES)), min_size=1, max_size=3, unique=True).map(tuple),
    "inclusive": st.sampled_from([None, None, True, False]),
    "has_vacancy": st.sampled_from([False, False, True]),
    # An ordinary week, and National Day with its make-up Saturday (10 October) and a closure.
    "open_at": st.none() | st.none() | st.integers(0, 7 * 24 - 1).map(
        lambda h: datetime(2026, 11, 23) + timedelta(hours=h, minutes=30))
    | st.integers(0, 12 * 24 - 1).map(
        lambda h: datetime(2026, 9, 30) + timedelta(hours=h, minutes=30))
    | st.integers(0, 7 * 24 * 12 - 1).map(
        lambda m: datetime(2026, 11, 23) + timedelta(minutes=5 * m))
    # Minutes around the boundaries inside half hours (Monday 2026-11-23 is day 0).
    | st.sampled_from([(0, 8, 5), (0, 8, 10), (0, 12, 49), (0, 12, 50), (6, 8, 9), (2, 23, 39),
                       (2, 23, 45), (3, 0, 19), (3, 0, 20)]).map(
        lambda dhm: datetime(2026, 11, 23 + dhm[0], dhm[1], dhm[2])),
})


def rows_of(specs: list[dict]) -> list[dict]:
    rows = []
    for spec in specs:
        for _ in range(spec["copies"]):
            rows.append({
                "id": uuid.uuid4(), "name": "设施", "kind": spec["kind"],
                "services": spec["services"], "status": spec["status"],
                "lat": CENTRE[0] + spec["dlat"] if spec["located"] else None,
                "lon": CENTRE[1] + spec["dlon"] if spec["located"] else None,
                "inclusive": spec["inclusive"], "vacancies": spec["vacancies"],
                "service_radius_m": spec["service_radius_m"],
                "opening_hours": spec["opening_hours"], "address": "重庆市",
                "closures": spec["closures"],
                **({"holiday_rule": spec["holiday_rule"]} if spec["holiday_rule"] else {}),
            })
    return rows


def brute_force(rows: list[dict], q: NearestQuery) -> list[tuple[float, uuid.UUID]]:
    found = []
    for row in rows:
        if row["status"] != "active" or row["lat"] is None:
            continue
        if q.kinds and row["kind"] not in q.kinds:
            continue
        if q.services and not set(q.services) & set(row["services"]):
            continue
        if q.inclusive is not None and row["inclusive"] != q.inclusive:
            continue
        if q.has_vacancy and not (row["vacancies"] or 0) > 0:
            continue
        rule = row.get("holiday_rule") or default_holiday_rule(row["kind"], row["opening_hours"])
        if q.open_at is not None and not is_open(row["opening_hours"], q.open_at, rule,
                                                 row["closures"], CALENDAR):
            continue
        d = geodesic((q.lat, q.lon), (row["lat"], row["lon"])).m
        if d <= q.radius_m or (row["service_radius_m"] and d <= row["service_radius_m"]):
            found.append((round(d, 1), row["id"]))
    return sorted(found)[: q.limit]


def test_nearest_equals_brute_force_geodesic_scan(database_url):
    engine = make_engine(database_url)

    @settings(max_examples=100, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facility, min_size=15, max_size=60), st.lists(query, min_size=1, max_size=5),
           st.integers(0, 100))
    def check(specs, queries, bulk_share):
        rows = rows_of(specs)
        split = len(rows) * bulk_share // 100
        with engine.begin() as connection:
            connection.execute(delete(FacilityService))
            connection.execute(delete(Facility))
            bulk_insert(connection, rows[:split])  # the bulk path fills the index at the end
            for row in rows[split:]:               # single inserts go through the triggers
                bulk_row = {k: v for k, v in row.items() if k != "services"}
                connection.execute(Facility.__table__.insert().values(
                    **bulk_row, created_at=datetime(2026, 1, 1), updated_at=datetime(2026, 1, 1),
                    version=1))
                for service in row["services"]:
                    connection.execute(FacilityService.__table__.insert().values(
                        facility_id=row["id"], service=service))
        for spec in queries:
            q = NearestQuery(lat=CENTRE[0] + spec["dlat"], lon=CENTRE[1] + spec["dlon"],
                             **{k: v for k, v in spec.items() if k not in ("dlat", "dlon")})
            with engine.connect() as connection:
                got = [(hit.distance_m, hit.id) for hit in nearest(connection, q)]
            assert got == brute_force(rows, q), q

    try:
        check()
    finally:
        engine.dispose()



def test_nearest_and_within_read_both_sides_of_the_antimeridian(database_url):
    # Fiji: the box around the origin is split in two spans (geo/spatial.py probe_box).
    origin = (-16.5, 179.995)
    rows = [{"id": uuid.uuid4(), "name": name, "kind": "meal_point", "services": ["meals"],
             "status": "active", "lat": -16.5, "lon": lon, "address": "Fiji",
             "inclusive": False, "vacancies": None, "service_radius_m": None,
             "opening_hours": [], "closures": []}
            for name, lon in (("east", 179.99), ("west", -179.99), ("far", 179.0))]
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            bulk_insert(connection, rows)
        expected = brute_force(rows, NearestQuery(*origin, radius_m=2000.0))
        assert len(expected) == 2
        for kinds in ((), ("meal_point",)):  # the plain R*Tree, then the class one
            q = NearestQuery(*origin, radius_m=2000.0, kinds=kinds)
            with engine.connect() as connection:
                assert [(hit.distance_m, hit.id) for hit in nearest(connection, q)] == expected
                within = facilities_within(connection, q, *origin, 2000.0)
            assert sorted(row[2] for row in within) == [-179.99, 179.99]
    finally:
        engine.dispose()

"""Coverage against a brute force over every pair (geopy's geodesic), on both backends, and
the property that adding a facility never uncovers anyone."""

from __future__ import annotations

import math
import uuid

import numpy as np
from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from servicemap.coverage import Site, coverage, suggestions
from servicemap.coverage.pairs import pairs_within
from servicemap.database import make_engine
from servicemap.models import Facility, FacilityService
from servicemap.registry import bulk_insert

CENTRE = (29.7, 106.5)
offsets = st.floats(-0.03, 0.03)
facility = st.fixed_dictionaries({
    "dlat": offsets, "dlon": offsets,
    "kind": st.sampled_from(["meal_point"] * 3 + ["nursery"]),
    "status": st.sampled_from(["active"] * 4 + ["inactive"]),
    "capacity": st.sampled_from([None, 0]) | st.integers(1, 200),
})
community = st.fixed_dictionaries({
    "dlat": offsets, "dlon": offsets, "population": st.none() | st.integers(0, 5000)})
options = st.fixed_dictionaries({
    "distance_m": st.sampled_from([300.0, 1000.0]) | st.floats(100.0, 4000.0),
    "detour": st.sampled_from([1.0, 1.3]) | st.floats(1.0, 2.0)})


def rows_of(specs):
    return [{"id": uuid.uuid4(), "name": "设施", "kind": spec["kind"], "status": spec["status"],
             "lat": CENTRE[0] + spec["dlat"], "lon": CENTRE[1] + spec["dlon"],
             "capacity": spec["capacity"], "services": [], "address": "重庆市"}
            for spec in specs]


def sites_of(specs):
    return [Site(index, f"社区{index}", "500109", "天生街道", CENTRE[0] + spec["dlat"],
                 CENTRE[1] + spec["dlon"], spec["population"]) for index, spec in enumerate(specs)]


def brute_force(rows, sites, distance_m, detour):
    """covered, nearest_m and the 2SFCA ratio of each site, from every pair measured by geopy."""
    active = [row for row in rows if row["status"] == "active" and row["kind"] == "meal_point"]
    metres = [[geodesic((s.lat, s.lon), (r["lat"], r["lon"])).m for r in active] for s in sites]
    within = [[d <= distance_m / detour for d in line] for line in metres]
    demand = [sum(s.population or 0 for s, w in zip(sites, within, strict=True) if w[j])
              for j in range(len(active))]
    share = [r["capacity"] / demand[j] if r["capacity"] is not None and demand[j] else 0.0
             for j, r in enumerate(active)]
    return [(any(w), round(min(line) * detour, 1) if line else None,
             sum(share[j] for j in range(len(active)) if w[j]))
            for line, w in zip(metres, within, strict=True)]


def answers(connection, sites, chosen):
    result = coverage(connection, sites, kind="meal_point", method="2sfca", **chosen)
    return [(s.covered, s.nearest_m, s.ratio) for s in result.sites], result.body()


def test_coverage_equals_brute_force_and_never_falls_when_a_facility_is_added(database_url):
    engine = make_engine(database_url)

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(facility, max_size=25), facility, st.lists(community, max_size=30),
           options)
    def check(specs, added, communities, chosen):
        rows, sites = rows_of(specs), sites_of(communities)
        extra = rows_of([{**added, "status": "active", "kind": "meal_point"}])
        with engine.begin() as connection:
            connection.execute(delete(FacilityService))
            connection.execute(delete(Facility))
            bulk_insert(connection, rows)
        with engine.connect() as connection:
            before, body = answers(connection, sites, chosen)
        expected = brute_force(rows, sites, **chosen)
        assert [(c, n) for c, n, _ in before] == [(c, n) for c, n, _ in expected]
        for (*_, ratio), (*_, ratio_expected) in zip(before, expected, strict=True):
            assert math.isclose(ratio, ratio_expected, rel_tol=1e-9, abs_tol=1e-12)
        with engine.begin() as connection:
            bulk_insert(connection, extra)
        with engine.connect() as connection:
            after, body_after = answers(connection, sites, chosen)
        for (was, near, _), (now, nearer, _) in zip(before, after, strict=True):
            assert now >= was
            assert nearer is not None and (near is None or nearer <= near)
        assert body_after["covered"] >= body["covered"]
        assert body_after["population_covered"] >= body["population_covered"]

    try:
        check()
    finally:
        engine.dispose()


def test_greedy_never_does_worse_than_its_bound_on_small_cases(database_url):
    """Against every choice of two candidates: greedy's two cover at least (1 - 1/e) as much."""
    engine = make_engine(database_url)

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(community, min_size=1, max_size=12), st.floats(300.0, 3000.0))
    def check(communities, distance_m):
        sites = sites_of(communities)
        with engine.connect() as connection:
            body = suggestions(connection, sites, kind="nursery", distance_m=distance_m,
                               count=2).body()
        got = sum(s["newly_covered_population"] for s in body["suggestions"])
        reach = [{j for j, t in enumerate(sites)
                  if geodesic((s.lat, s.lon), (t.lat, t.lon)).m <= distance_m}
                 for s in sites]
        best = max(sum(sites[j].population or 0 for j in reach[a] | reach[b])
                   for a in range(len(sites)) for b in range(len(sites)))
        assert got >= (1 - 1 / math.e) * best
        assert got <= best

    with engine.begin() as connection:
        connection.execute(delete(FacilityService))
        connection.execute(delete(Facility))
    try:
        check()
    finally:
        engine.dispose()


points = st.tuples(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(points, st.lists(st.tuples(st.floats(-0.2, 0.2), st.floats(-0.2, 0.2)), max_size=20),
       st.lists(st.tuples(st.floats(-0.2, 0.2), st.floats(-0.2, 0.2)), max_size=20),
       st.sampled_from([10.0, 1000.0, 15_000.0]))
def test_pairs_within_equals_geopy_everywhere_even_at_poles_and_antimeridian(
        centre, a, b, reach_m):
    def placed(offsets):
        lat = np.clip([centre[0] + d[0] for d in offsets], -90.0, 90.0)
        lon = (np.array([centre[1] + d[1] for d in offsets]) + 180.0) % 360.0 - 180.0
        return lat, lon

    (a_lat, a_lon), (b_lat, b_lon) = placed(a), placed(b)
    i, j, nearest = pairs_within(a_lat, a_lon, b_lat, b_lon, reach_m)
    metres = [[geodesic((a_lat[x], a_lon[x]), (b_lat[y], b_lon[y])).m for y in range(len(b))]
              for x in range(len(a))]
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [
        (x, y) for x in range(len(a)) for y in range(len(b)) if metres[x][y] <= reach_m]
    for x, line in enumerate(metres):
        inside = [d for d in line if d <= reach_m]
        if inside:
            assert math.isclose(nearest[x], min(inside), abs_tol=1e-6)
        else:
            assert math.isnan(nearest[x])

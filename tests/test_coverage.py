"""Coverage worked out on paper: a hand-made district whose facilities are posted through the
API (both backends), with sites at known geodesic offsets from them."""

from __future__ import annotations

import pytest
from geopy.distance import geodesic

from servicemap.coverage import Site, coverage, suggestions
from servicemap.domain_errors import Invalid
from servicemap.extensions import db

from .conftest import create

F1 = (29.8257, 106.4370)  # a meal point in 北碚区


def at(origin, metres: float, bearing: float) -> tuple[float, float]:
    point = geodesic(meters=metres).destination(origin, bearing)
    return point.latitude, point.longitude


F2 = at(F1, 3000, 90)
F4 = at(F1, 6000, 90)


def site(id_, origin, metres, bearing, population, street="天生街道", district="500109"):
    lat, lon = at(origin, metres, bearing)
    return Site(id_, f"社区{id_}", district, street, lat, lon, population)


# Sites and their geodesic distance to the nearest meal point (metres):
#   A 500 N of F1 (1000 people)    B 900 S of F1 (2000)        C 1500 W of F1 (4000)
#   D 800 E of F2 (3000, 北温泉)   E 400 N of F2 (no figure)   H 500 N of F4 (500, 沙坪坝区)
#   K 10 km N of F1 (no figure)
SITES = [site("A", F1, 500, 0, 1000), site("B", F1, 900, 180, 2000),
         site("C", F1, 1500, 270, 4000), site("D", F2, 800, 90, 3000, "北温泉街道"),
         site("E", F2, 400, 0, None, "北温泉街道"), site("H", F4, 500, 0, 500, "井口街道",
                                                         "500106"),
         site("K", F1, 10_000, 0, None)]


@pytest.fixture
def district(client, admin):
    """F1 (capacity 60) at F1, F2 (30) 3 km E, F4 (no capacity) 6 km E: meal points; beside
    C a kindergarten and a closed meal point, which cover nobody."""
    for name, (lat, lon), extra in (
            ("F1", F1, {"capacity": 60}), ("F2", F2, {"capacity": 30}),
            ("F4", F4, {"capacity": None, "vacancies": None}),
            ("幼儿园", at(F1, 1450, 270), {"kind": "kindergarten", "services": ["preschool"]}),
            ("停办", at(F1, 1400, 270), {"status": "inactive"})):
        create(client, admin, name=name, location={"lat": lat, "lon": lon}, **extra)


def run(app, **options):
    with app.app_context():
        return coverage(db.session.connection(), SITES, **options)


def test_coverage_of_the_hand_made_district_at_1000_m(app, district):
    body = run(app, kind="meal_point", distance_m=1000).body()
    # Covered: A, B (F1), D, E (F2), H (F4). C's nearest is F1 at 1500 m; K's F1 at 10 km.
    assert (body["communities"], body["covered"], body["share"]) == (7, 5, 5 / 7)
    # Population: A+B+C+D+H = 10500 (E, K have no figure); covered A+B+D+H = 6500.
    assert (body["population"], body["population_covered"]) == (10_500, 6_500)
    assert body["population_share"] == 6_500 / 10_500
    assert body["uncovered"] == [
        {"id": "C", "name": "社区C", "population": 4000, "nearest_m": 1500.0},
        {"id": "K", "name": "社区K", "population": None, "nearest_m": 10_000.0}]
    assert [(d["code"], d["name"], d["communities"], d["covered"], d["population"],
             d["population_covered"]) for d in body["by_district"]] == [
        ("500106", "沙坪坝区", 1, 1, 500, 500), ("500109", "北碚区", 6, 4, 10_000, 6_000)]
    assert [(s["district"], s["street"], s["communities"], s["covered"], s["population_share"])
            for s in body["by_street"]] == [
        ("500106", "井口街道", 1, 1, 1.0), ("500109", "北温泉街道", 2, 2, 1.0),
        ("500109", "天生街道", 4, 2, 3000 / 7000)]
    assert (body["kind"], body["distance_m"], body["detour"], body["method"]) == (
        "meal_point", 1000, 1.0, "distance")


def test_a_detour_shrinks_the_circle_and_scales_the_nearest_distance(app, district):
    result = run(app, kind="meal_point", distance_m=1000, detour=1.3)
    body = result.body()
    # 1000 / 1.3 = 769 m of straight line: A (500), E (400), H (500) stay covered.
    assert [s.site.id for s in result.sites if s.covered] == ["A", "E", "H"]
    assert (body["population_covered"], body["detour"]) == (1_500, 1.3)
    assert [(u["id"], u["nearest_m"]) for u in body["uncovered"]] == [
        ("C", 1950.0), ("D", 1040.0), ("B", 1170.0), ("K", 13_000.0)]


def test_two_step_floating_catchment_ratios(app, district):
    result = run(app, kind="meal_point", distance_m=1000, method="2sfca")
    # F1: 60 seats shared by A+B = 3000 people -> 0.02; F2: 30 by D (E has no figure) -> 0.01;
    # F4 has no capacity: left out, counted. C and K reach nothing: 0.
    ratios = {s.site.id: s.ratio for s in result.sites}
    assert ratios == pytest.approx({"A": 0.02, "B": 0.02, "C": 0.0, "D": 0.01, "E": 0.01,
                                    "H": 0.0, "K": 0.0})
    body = result.body()
    assert (body["facilities"], body["facilities_without_capacity"], body["capacity"]) == (
        2, 1, 90)
    # Population-weighted: (1000*.02 + 2000*.02 + 3000*.01) / 10500 = 90 / 10500.
    assert body["ratio"] == pytest.approx(90 / 10_500)
    assert [d["ratio"] for d in body["by_district"]] == pytest.approx([0.0, 90 / 10_000])


def test_focus_reports_some_sites_while_all_count_as_demand(app, district):
    result = run(app, kind="meal_point", distance_m=1000, method="2sfca",
                 focus=lambda s: s.id == "A")
    assert [(s.site.id, s.ratio) for s in result.sites] == [("A", pytest.approx(0.02))]
    assert result.body()["communities"] == 1


def test_a_programme_counts_the_facilities_delivering_it(app, client, admin, district):
    # elder_meal_service: meal points offering meals or meal delivery. One offering only
    # bathing beside C does not deliver it, though it is a meal point.
    create(client, admin, name="只助浴", services=["bathing"], location=dict(
        zip(("lat", "lon"), at(F1, 1500, 270), strict=True)))
    with app.app_context():
        programme = app.extensions["servicemap.catalogue"].get("elder_meal_service")
        by_programme = coverage(db.session.connection(), SITES, program=programme,
                                distance_m=1000)
        by_kind = coverage(db.session.connection(), SITES, kind="meal_point", distance_m=1000)
    assert by_programme.body()["program"] == "elder_meal_service"
    assert [u["id"] for u in by_programme.body()["uncovered"]] == ["C", "K"]
    assert [u["id"] for u in by_kind.body()["uncovered"]] == ["K"]


def test_no_sites_and_no_facilities_give_null_shares(app):
    with app.app_context():
        empty = coverage(db.session.connection(), [], kind="meal_point", distance_m=500).body()
        alone = coverage(db.session.connection(), SITES[:1], kind="nursery",
                         distance_m=500).body()
    assert (empty["communities"], empty["share"], empty["population_share"]) == (0, None, None)
    assert empty["by_district"] == empty["uncovered"] == []
    assert alone["uncovered"] == [{"id": "A", "name": "社区A", "population": 1000,
                                   "nearest_m": None}]


@pytest.mark.parametrize("options, field", [
    ({"distance_m": 0}, "distance_m"), ({"distance_m": float("nan")}, "distance_m"),
    ({"distance_m": 500, "detour": 0.9}, "detour"),
    ({"distance_m": 500, "method": "3sfca"}, "method")])
def test_bad_options_are_refused_naming_the_field(app, options, field):
    with app.app_context(), pytest.raises(Invalid) as refused:
        coverage(db.session.connection(), SITES, kind="meal_point", **options)
    assert field in refused.value.errors


# Greedy, on a line east of F1 (metres from F1, people): S1 0 (100), S2 800 (100),
# S3 1600 (100), S4 5000 (250), S5 5900 (10), S6 9000 (200); 1000 m of reach.
# Cover sets: S1 {S1,S2} 200, S2 {S1,S2,S3} 300, S3 {S2,S3} 200, S4 {S4,S5} 260,
# S5 {S4,S5} 260, S6 {S6} 200. Greedy: S2 (300), then S4 (260, tied with S5 and given first),
# then S6 (200); then nothing is left to cover, so three suggestions of the five asked.
LINE = [Site(f"S{n}", f"S{n}", "500109", "天生街道", *at(F1, metres, 90), people)
        for n, (metres, people) in enumerate(
            [(0, 100), (800, 100), (1600, 100), (5000, 250), (5900, 10), (9000, 200)], 1)]


def test_greedy_order_on_the_line(app):
    with app.app_context():
        body = suggestions(db.session.connection(), LINE, kind="nursery", distance_m=1000,
                           count=5).body()
    assert [(s["community_id"], s["newly_covered_population"], s["population_share_after"])
            for s in body["suggestions"]] == [("S2", 300, 300 / 760), ("S4", 260, 560 / 760),
                                              ("S6", 200, 1.0)]
    first = body["suggestions"][0]["location"]
    assert (first["lat"], first["lon"], first["coordsys"]) == (LINE[1].lat, LINE[1].lon, "wgs84")
    assert (body["population"], body["population_covered"], body["population_share"]) == (
        760, 0, 0.0)


def test_existing_facilities_count_as_covered_from_the_start(app, client, admin):
    create(client, admin, name="托育", kind="nursery", services=["nursery_class"],
           location=dict(zip(("lat", "lon"), at(F1, 9200, 90), strict=True)))
    with app.app_context():
        body = suggestions(db.session.connection(), LINE, kind="nursery", distance_m=1000,
                           count=1).body()
    # S6 (200) lies 200 m from the nursery: S2 is still first, and one was asked for.
    assert body["population_covered"] == 200
    assert [(s["community_id"], s["newly_covered_population"], s["population_share_after"])
            for s in body["suggestions"]] == [("S2", 300, 500 / 760)]


@pytest.mark.parametrize("options, field", [
    ({"count": 0}, "count"), ({"count": 2, "distance_m": -1}, "distance_m")])
def test_bad_suggestion_options_are_refused_naming_the_field(app, options, field):
    with app.app_context(), pytest.raises(Invalid) as refused:
        suggestions(db.session.connection(), LINE, kind="nursery",
                    **{"distance_m": 1000, **options})
    assert field in refused.value.errors


def test_posted_candidates_are_points_without_a_community(app):
    # Midway between S4 and S5 (5450 m) covers both; at 20 km nothing: it is never picked.
    points = [at(F1, 20_000, 90), at(F1, 5450, 90)]
    with app.app_context():
        body = suggestions(db.session.connection(), LINE, kind="nursery", distance_m=1000,
                           count=2, candidates=points).body()
    assert [(s["community_id"], s["location"]["lon"], s["newly_covered_population"])
            for s in body["suggestions"]] == [(None, points[1][1], 260)]

"""GET /api/v1/coverage and /coverage/suggestions over communities stored through the API (both
backends): the engine's answers, worked out on paper, as JSON and GeoJSON, and bad input named."""

from __future__ import annotations

import pytest

from servicemap import communities
from servicemap.coverage import coverage, suggestions
from servicemap.coverage_query import as_site
from servicemap.extensions import db
from servicemap.geo.coordsys import from_wgs84
from servicemap.limits import request_category

from .conftest import assert_problem
from .conftest import create as create_facility
from .test_communities import create as create_community
from .test_coverage import F1, F2, at

URL = "/api/v1/coverage"


def _point(origin, metres, bearing) -> dict:
    return dict(zip(("lat", "lon"), at(origin, metres, bearing), strict=True))


# Communities, metres from the nearest meal point (people, 60+):
#   A 500 N of F1 (1000, 300)  B 900 S of F1 (2000, 500)  C 1500 W of F1 (4000, 1000)
#   D 800 E of F2 (3000, no 60+ figure, 北温泉街道)   E 400 N of F2 (no figures, 北温泉街道)
PLACES = [("A", F1, 500, 0, 1000, 300, "天生街道"), ("B", F1, 900, 180, 2000, 500, "天生街道"),
          ("C", F1, 1500, 270, 4000, 1000, "天生街道"),
          ("D", F2, 800, 90, 3000, None, "北温泉街道"), ("E", F2, 400, 0, None, None, "北温泉街道")]


@pytest.fixture
def district(client, admin) -> dict:
    """Meal points F1 (capacity 60) and F2 (30) 3 km east; the five communities; their ids."""
    create_facility(client, admin, name="F1", capacity=60, location=dict(
        zip(("lat", "lon"), F1, strict=True)))
    create_facility(client, admin, name="F2", capacity=30, location=dict(
        zip(("lat", "lon"), F2, strict=True)))
    ids = {}
    for name, origin, metres, bearing, people, old, street in PLACES:
        made = create_community(client, admin, name=f"社区{name}", district="500109",
                                street=street, location=_point(origin, metres, bearing),
                                population=people, population_60_plus=old,
                                population_0_3=None, population_3_6=None)
        ids[name] = made["id"]
    return ids


def test_the_answer_is_the_engines_and_the_one_worked_out_on_paper(app, client, district):
    response = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000})
    assert response.status_code == 200, response.json
    body = response.json
    # Covered: A, B (F1), D, E (F2); C is 1500 m from F1. Population A+B+C+D = 10000.
    assert (body["communities"], body["covered"], body["share"]) == (5, 4, 0.8)
    assert (body["population"], body["population_covered"], body["population_share"]) == (
        10_000, 6_000, 0.6)
    assert body["uncovered"] == [{"id": district["C"], "name": "社区C", "population": 4000,
                                  "nearest_m": 1500.0}]
    assert [(s["street"], s["communities"], s["covered"]) for s in body["by_street"]] == [
        ("北温泉街道", 2, 2), ("天生街道", 3, 2)]
    assert [(d["code"], d["name"], d["population_share"]) for d in body["by_district"]] == [
        ("500109", "北碚区", 0.6)]
    assert (body["kind"], body["distance_m"], body["detour"], body["population_field"]) == (
        "meal_point", 1000, 1.0, "population")
    with app.app_context():
        sites = [as_site(s, "population") for s in communities.sites(db.session)]
        engine = coverage(db.session.connection(), sites, "meal_point", distance_m=1000).body()
    assert body == {**engine, "uncovered": [{**u, "id": str(u["id"])}
                                            for u in engine["uncovered"]]}
    assert response.headers["Cache-Control"].startswith("public")
    assert "Accept" in response.headers["Vary"].split(", ")


def test_the_population_field_and_the_detour_change_the_sums(client, district):
    body = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000,
                                         "population": "population_60_plus"}).json
    # 60+: A 300, B 500, C 1000; D and E have no 60+ figure: counted, not summed.
    assert (body["communities"], body["population"], body["population_covered"]) == (
        5, 1800, 800)
    assert body["population_field"] == "population_60_plus"
    body = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000,
                                         "detour": 1.3}).json
    # 1000 / 1.3 = 769 m of line: A (500) and E (400) stay; B's walk is 900 x 1.3 = 1170 m.
    assert body["detour"] == 1.3
    assert [(u["name"], u["nearest_m"]) for u in body["uncovered"]] == [
        ("社区C", 1950.0), ("社区D", 1040.0), ("社区B", 1170.0)]


def test_district_and_street_select_the_communities(client, district):
    body = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000,
                                         "street": "北温泉街道", "district": "北碚区"}).json
    assert (body["communities"], body["covered"], body["population"]) == (2, 2, 3000)
    body = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000,
                                         "district": "500106"}).json
    assert (body["communities"], body["share"], body["uncovered"]) == (0, None, [])


def test_2sfca_ratios_per_community_and_in_the_summaries(client, district):
    body = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000,
                                         "method": "2sfca"}).json
    # F1: 60 seats over A+B = 3000 people -> 0.02 each; F2: 30 over D's 3000 -> 0.01.
    assert body["ratio"] == pytest.approx((1000 * .02 + 2000 * .02 + 3000 * .01) / 10_000)
    assert (body["facilities"], body["facilities_without_capacity"], body["capacity"]) == (
        2, 0, 90)
    assert [s["ratio"] for s in body["by_street"]] == pytest.approx([0.01, 60 / 7000])
    features = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000,
                                             "method": "2sfca", "street": "天生街道"},
                          headers={"Accept": "application/geo+json"}).json["features"]
    # Only 天生街道 is reported, but D (北温泉街道) still shares F2: A, B 0.02, C 0.
    assert {f["properties"]["name"]: f["properties"]["ratio"] for f in features} == (
        pytest.approx({"社区A": 0.02, "社区B": 0.02, "社区C": 0.0}))


def test_geojson_gives_each_community_with_covered_and_nearest_m(client, district):
    response = client.get(URL, query_string={"kind": "meal_point", "distance_m": 1000,
                                             "coordsys": "gcj02"},
                          headers={"Accept": "application/geo+json"})
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.json
    assert (body["type"], body["coordsys"], body["population_share"]) == (
        "FeatureCollection", "gcj02", 0.6)
    by_name = {f["properties"]["name"]: f for f in body["features"]}
    assert {name: (f["properties"]["covered"], f["properties"]["nearest_m"])
            for name, f in by_name.items()} == {
        "社区A": (True, 500.0), "社区B": (True, 900.0), "社区C": (False, 1500.0),
        "社区D": (True, 800.0), "社区E": (True, 400.0)}
    lat, lon = from_wgs84(*at(F1, 500, 0), "gcj02")
    assert by_name["社区A"]["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    assert by_name["社区A"]["id"] == district["A"]
    assert "ratio" not in by_name["社区A"]["properties"]


@pytest.mark.parametrize("query, field", [
    ({"distance_m": 1000}, "kind"),
    ({"distance_m": 1000, "kind": "meal_point", "program": "elder_meal_service"}, "program"),
    ({"distance_m": 1000, "program": "no_such_programme"}, "program"),
    ({"distance_m": 1000, "kind": "spaceport"}, "kind"),
    ({"kind": "meal_point"}, "distance_m"),
    ({"kind": "meal_point", "distance_m": 10}, "distance_m"),
    ({"kind": "meal_point", "distance_m": 20_001}, "distance_m"),
    ({"kind": "meal_point", "distance_m": "far"}, "distance_m"),
    ({"kind": "meal_point", "distance_m": 1000, "detour": 0.9}, "detour"),
    ({"kind": "meal_point", "distance_m": 1000, "detour": 3.5}, "detour"),
    ({"kind": "meal_point", "distance_m": 1000, "population": "voters"}, "population"),
    ({"kind": "meal_point", "distance_m": 1000, "method": "3sfca"}, "method"),
    ({"kind": "meal_point", "distance_m": 1000, "district": "成都"}, "district"),
    ({"kind": "meal_point", "distance_m": 1000, "street": "不存在街道"}, "street"),
    ({"kind": "meal_point", "distance_m": 1000, "district": "500106",
      "street": "天生街道"}, "street"),
])
def test_bad_questions_are_problems_naming_the_field(client, district, query, field):
    assert_problem(client.get(URL, query_string=query), 422, field)


def test_a_programme_stands_for_its_delivering_facilities(client, district):
    body = client.get(URL, query_string={"program": "elder_meal_service",
                                         "distance_m": 1000}).json
    assert (body["program"], body["kind"], body["covered"]) == ("elder_meal_service", None, 4)


def test_suggestions_among_the_communities_are_the_engines(app, client, district):
    response = client.get(f"{URL}/suggestions", query_string={
        "kind": "meal_point", "distance_m": 1000, "count": 3})
    assert response.status_code == 200, response.json
    body = response.json
    # Only C (4000) is left uncovered: one pick, at C itself, and then nothing more to cover.
    assert [(s["community_id"], s["newly_covered_population"], s["population_share_after"])
            for s in body["suggestions"]] == [(district["C"], 4000, 1.0)]
    with app.app_context():
        sites = [as_site(s, "population") for s in communities.sites(db.session)]
        engine = suggestions(db.session.connection(), sites, "meal_point", distance_m=1000,
                             count=3).body()
    location = engine["suggestions"][0]["location"]
    assert body["suggestions"][0]["location"] == {
        "lat": round(location["lat"], 7), "lon": round(location["lon"], 7), "coordsys": "wgs84"}
    assert (body["population"], body["population_covered"]) == (10_000, 6_000)


def test_posted_candidates_in_any_coordsys(client, district):
    # 1400 m W of F1 is 100 m from C; 30 km off nothing. Sent in GCJ-02, answered in BD-09.
    near_c, far = at(F1, 1400, 270), at(F1, 30_000, 0)
    points = [dict(zip(("lat", "lon"), from_wgs84(*p, "gcj02"), strict=True), coordsys="gcj02")
              for p in (far, near_c)]
    response = client.post(f"{URL}/suggestions", json={"candidates": points}, query_string={
        "kind": "meal_point", "distance_m": 1000, "coordsys": "bd09"})
    assert response.status_code == 200, response.json
    [pick] = response.json["suggestions"]
    assert (pick["community_id"], pick["newly_covered_population"]) == (None, 4000)
    lat, lon = from_wgs84(*near_c, "bd09")
    assert (pick["location"]["lat"], pick["location"]["lon"]) == pytest.approx((lat, lon),
                                                                              abs=1e-5)
    assert pick["location"]["coordsys"] == "bd09"


def test_posted_suggestions_count_against_the_search_limit_not_the_write_one():
    assert request_category("POST", "/api/v1/coverage/suggestions") == "search"
    assert request_category("POST", "/api/v1/communities") == "write"


@pytest.mark.parametrize("body, field", [
    ({"candidates": [{"lat": 29.8, "lon": 106.4}, {"lat": 91, "lon": 106.4}]},
     "candidates[1].lat"),
    ({"candidates": [{"lat": 29.8}]}, "candidates[0].lon"),
    ({"candidates": [{"lat": 29.8, "lon": 106.4, "coordsys": "osgb"}]},
     "candidates[0].coordsys"),
    ({"candidates": []}, "candidates"),
    ({"candidates": [{"lat": 29.8, "lon": 106.4}] * 10_001}, "candidates"),
    ({}, "candidates"),
])
def test_bad_candidates_are_named_by_index(client, district, body, field):
    response = client.post(f"{URL}/suggestions", json=body,
                           query_string={"kind": "meal_point", "distance_m": 1000})
    assert_problem(response, 422, field)


@pytest.mark.parametrize("query, field", [
    ({"kind": "meal_point", "distance_m": 1000, "count": 0}, "count"),
    ({"kind": "meal_point", "distance_m": 1000, "count": 51}, "count"),
    ({"distance_m": 1000}, "kind")])
def test_bad_suggestion_questions_are_named(client, district, query, field):
    assert_problem(client.get(f"{URL}/suggestions", query_string=query), 422, field)

"""GET /api/v1/facilities/nearest as a resident's app sees it."""

from __future__ import annotations

import math

import pytest
from geopy.distance import geodesic

from servicemap.geo import spatial
from servicemap.geo.coordsys import from_wgs84
from servicemap.geo.spatial import Densities, NearestQuery

from .conftest import NEAREST, ORIGIN, assert_problem, create, north_of


def place(client, headers, name: str, metres: float, **fields) -> str:
    body = create(client, headers, name=name, location=north_of(metres), **fields)
    return body["id"]


def names(client, query: str = "", **headers) -> list[str]:
    response = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}&{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["name"] for item in response.json["items"]]


def test_results_are_sorted_by_geodesic_distance_with_one_decimal(client, admin):
    for name, metres in [("三百", 300), ("一百", 100), ("两千", 2000)]:
        place(client, admin, name, metres)
    body = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}").json
    assert [i["name"] for i in body["items"]] == ["一百", "三百", "两千"]
    assert [i["distance_m"] for i in body["items"]] == [100.0, 300.0, 2000.0]
    assert body["origin"] == {"lat": ORIGIN[0], "lon": ORIGIN[1], "coordsys": "wgs84"}


def test_radius_and_limit_bound_the_answer(client, admin):
    for metres in (100, 200, 300, 4000, 6000):
        place(client, admin, f"{metres}米", metres)
    assert names(client) == ["100米", "200米", "300米", "4000米"]  # default radius 5000 m
    assert names(client, "radius_m=250") == ["100米", "200米"]
    assert names(client, "limit=2&radius_m=50000") == ["100米", "200米"]
    assert names(client, "radius_m=50") == []  # empty, not an error


def test_ties_at_equal_distance_are_ordered_by_id(client, admin):
    ids = sorted(place(client, admin, f"同址{n}", 500) for n in range(4))
    response = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}").json
    assert [item["id"] for item in response["items"]] == ids


def test_only_active_facilities_with_a_location_are_found(client, admin):
    place(client, admin, "营业", 100)
    place(client, admin, "暂停", 120, status="temporarily_closed")
    place(client, admin, "草稿", 140, status="draft")
    create(client, admin, name="没有坐标", location=None)
    assert names(client) == ["营业"]


def test_the_index_follows_every_write(client, admin):
    facility_id = place(client, admin, "会移动的", 100)
    url = f"/api/v1/facilities/{facility_id}"
    assert names(client) == ["会移动的"]
    assert client.patch(url, json={"status": "inactive"}, headers=admin).status_code == 200
    assert names(client) == []
    moved = client.patch(url, json={"status": "active", "location": north_of(9000)}, headers=admin)
    assert moved.status_code == 200, moved.json
    assert names(client) == []
    assert names(client, "radius_m=10000") == ["会移动的"]
    assert client.patch(url, json={"location": north_of(10)}, headers=admin).status_code == 200
    assert names(client) == ["会移动的"]
    client.delete(url, headers=admin)
    assert names(client) == []


def test_filters_kind_service_inclusive_and_vacancy(client, admin):
    place(client, admin, "食堂", 100, kind="meal_point", services=["meals"], inclusive=False)
    place(client, admin, "驿站", 200, kind="elder_care_station", services=["day_care"],
          inclusive=True, vacancies=0, capacity=10)
    place(client, admin, "幼儿园", 300, kind="kindergarten", services=["preschool"],
          inclusive=True, vacancies=5, capacity=100)
    assert names(client, "kind=meal_point") == ["食堂"]
    assert names(client, "kind=meal_point&kind=kindergarten") == ["食堂", "幼儿园"]
    assert names(client, "service=day_care&service=preschool") == ["驿站", "幼儿园"]
    assert names(client, "inclusive=true") == ["驿站", "幼儿园"]
    assert names(client, "has_vacancy=true") == ["食堂", "幼儿园"]  # the 驿站 is full
    assert names(client, "kind=elder_care_station&has_vacancy=true") == []


def test_open_at_uses_shanghai_time_and_hours_past_midnight(client, admin):
    place(client, admin, "白天", 100,
          opening_hours=[{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}])
    place(client, admin, "夜间", 200,
          opening_hours=[{"days": [1], "opens": "20:00", "closes": "02:00"}])
    place(client, admin, "未公布", 300, opening_hours=[])
    assert names(client, "open_at=2026-11-23T10:00") == ["白天"]          # Monday morning
    assert names(client, "open_at=2026-11-24T01:00") == ["夜间"]          # Monday's night
    assert names(client, "open_at=2026-11-23T02:00%2B00:00") == ["白天"]  # 10:00 in Shanghai
    assert names(client, "open_at=2026-11-28T10:00") == []                # Saturday
    assert "未公布" in names(client)


def test_open_now_answers_for_the_current_moment(client, admin):
    place(client, admin, "全天", 100,
          opening_hours=[{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}])
    place(client, admin, "从不", 200, opening_hours=[])
    assert names(client, "open_now=true") == ["全天"]


def test_a_mobile_service_is_found_inside_its_service_area(client, admin):
    place(client, admin, "助浴车", 8000, kind="bathing_service", service_radius_m=10_000)
    place(client, admin, "远处助浴点", 8000, kind="bathing_service")
    assert names(client, "kind=bathing_service") == ["助浴车"]
    body = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}").json
    assert body["items"][0]["distance_m"] == 8000.0
    far = client.get(f"{NEAREST}?lat=30.5&lon={ORIGIN[1]}&kind=bathing_service").json
    assert far["items"] == []


def test_where_a_search_starts_never_changes_its_answer(app, client, admin, monkeypatch):
    # SQLite starts its box where searches near there settled before (geo/spatial.py
    # Densities): a start far too small, far too large or learnt from other data must still
    # grow or trim to the same answer.
    if not app.config["SERVICEMAP"].database_url.startswith("sqlite"):
        pytest.skip("SQLite's box search (PostGIS's KNN has no box to start)")
    for metres in (40, 90, 300, 700, 1200, 1900, 2600, 3400, 4400, 4990, 5100, 9000):
        place(client, admin, f"{metres}米", metres)
    place(client, admin, "助浴车", 7000, kind="bathing_service", service_radius_m=8000)
    queries = ("", "limit=3", "limit=12", "radius_m=2000", "kind=bathing_service",
               "limit=1&radius_m=60")
    fresh = Densities()
    monkeypatch.setattr(spatial, "DENSITIES", fresh)
    expected = {query: names(client, query) for query in queries}
    assert expected["limit=12"] == [f"{m}米" for m in (40, 90, 300, 700, 1200, 1900, 2600, 3400,
                                                      4400, 4990)] + ["助浴车"]
    assert expected["limit=1&radius_m=60"] == ["40米"]
    learnt = dict(fresh._cells)
    assert learnt, "a settled search teaches its cell"
    for density in (0.0, 1e-12, 1e-3, 10.0):  # none near, almost none, crowded, absurd
        fresh._cells = {key: density for key in learnt}
        assert {query: names(client, query) for query in queries} == expected, density


def test_a_learnt_density_aims_the_first_box_at_a_few_more_than_the_limit():
    densities, query = Densities(), NearestQuery(29.8257, 106.4370, radius_m=5000.0, limit=10)
    assert densities.first_reach(query) == Densities.FIRST_REACH_M  # nothing learnt yet
    densities.learn(query, 1000.0, 10)  # ten facilities within a kilometre
    expected = 1000.0 * math.sqrt(Densities.EXPECTED)  # 16 expected inside the circle
    assert densities.first_reach(query) == pytest.approx(expected)
    densities.learn(query, 1000.0, 40)  # then forty: the two are averaged
    assert densities.first_reach(query) == pytest.approx(1000.0 * math.sqrt(16 / 25))
    assert densities.first_reach(NearestQuery(29.8257, 106.4370, kinds=("nursery",))) == 1000.0
    densities.learn(query, 5000.0, 10**9)  # a crowd never starts below 50 m...
    assert densities.first_reach(query) == Densities.MIN_REACH_M
    empty = Densities()
    empty.learn(query, 5000.0, 0)  # ...and none anywhere near starts at the radius
    assert empty.first_reach(query) == 5000.0


def test_densities_forget_everything_rather_than_grow_without_bound(monkeypatch):
    monkeypatch.setattr(Densities, "MAX_CELLS", 5)
    densities = Densities()
    for step in range(3):  # a fine cell and a coarse one each: six held, one over
        densities.learn(NearestQuery(29.0 + step, 106.0), 1000.0, 5)
    assert len(densities._cells) == 6
    densities.learn(NearestQuery(33.0, 106.0), 1000.0, 5)  # all forgotten, then its own two
    assert len(densities._cells) == 2


def test_a_cell_not_yet_searched_starts_from_the_coarse_cell_around_it():
    densities = Densities()
    densities.learn(NearestQuery(29.50, 106.50), 1000.0, 10)
    aimed = 1000.0 * math.sqrt(Densities.EXPECTED)
    assert densities.first_reach(NearestQuery(29.56, 106.58)) == pytest.approx(aimed)
    assert densities.first_reach(NearestQuery(30.5, 106.5)) == Densities.FIRST_REACH_M
    densities.learn(NearestQuery(29.56, 106.58), 1000.0, 40)  # its own cell, once searched
    assert densities.first_reach(NearestQuery(29.56, 106.58)) == pytest.approx(
        1000.0 * math.sqrt(16 / 40))


def test_gcj02_query_finds_the_same_facilities_within_half_a_metre(client, admin):
    for metres in (150, 900, 2500):
        place(client, admin, f"{metres}米", metres)
    wgs = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}").json["items"]
    gcj_lat, gcj_lon = from_wgs84(*ORIGIN, "gcj02")
    gcj = client.get(f"{NEAREST}?lat={gcj_lat}&lon={gcj_lon}&coordsys=gcj02").json
    assert [i["id"] for i in gcj["items"]] == [i["id"] for i in wgs]
    for a, b in zip(gcj["items"], wgs, strict=True):
        assert abs(a["distance_m"] - b["distance_m"]) <= 0.5
        assert a["location"]["coordsys"] == "gcj02"
        # Answered in GCJ-02: about 500 m from the WGS-84 position.
        shifted = geodesic((a["location"]["lat"], a["location"]["lon"]),
                           (b["location"]["lat"], b["location"]["lon"])).m
        assert 400 < shifted < 650
    assert gcj["origin"]["coordsys"] == "gcj02"


def test_geojson_is_returned_when_asked_for(client, admin):
    place(client, admin, "食堂", 100)
    response = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}",
                          headers={"Accept": "application/geo+json"})
    assert response.mimetype == "application/geo+json"
    body = response.json
    assert body["type"] == "FeatureCollection"
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert abs(lat - north_of(100)["lat"]) < 1e-6 and abs(lon - ORIGIN[1]) < 1e-6
    assert feature["properties"]["name"] == "食堂"
    assert feature["properties"]["distance_m"] == 100.0


@pytest.mark.parametrize("query, field", [
    ("lon=106.4", "lat"), ("lat=29.8", "lon"), ("lat=north&lon=106.4", "lat"),
    ("lat=91&lon=106.4", "lat"), ("lat=29.8&lon=181", "lon"), ("lat=nan&lon=106.4", "lat"),
    ("lat=29.8&lon=inf", "lon"), ("lat=29.8&lon=106.4&coordsys=mars", "coordsys"),
    ("lat=29.8&lon=106.4&radius_m=0", "radius_m"),
    ("lat=29.8&lon=106.4&radius_m=50001", "radius_m"),
    ("lat=29.8&lon=106.4&limit=0", "limit"), ("lat=29.8&lon=106.4&limit=101", "limit"),
    ("lat=29.8&lon=106.4&limit=ten", "limit"), ("lat=29.8&lon=106.4&open_at=tomorrow", "open_at"),
    ("lat=29.8&lon=106.4&open_at=2026-11-23T10:00&open_now=true", "open_now"),
    ("lat=29.8&lon=106.4&kind=canteen", "kind[0]"), ("lat=29.8&lon=106.4&service=x", "service[0]"),
])
def test_bad_parameters_are_422_naming_the_parameter(client, query, field):
    assert_problem(client.get(f"{NEAREST}?{query}"), 422, field)


def test_postgresql_plain_search_function_returns_the_plain_statements_rows(app, client,
                                                                             admin):
    # Migration 0013 holds a copy of the unfiltered statement: the two must not drift apart.
    from servicemap.extensions import db
    from servicemap.geo.spatial import PLAIN_FUNCTION, NearestQuery, _postgis_statement

    if app.config["SERVICEMAP"].database_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL function")
    for index in range(6):
        place(client, admin, f"食堂{index}", 300 * index + 50)
    place(client, admin, "助浴车", 8000, kind="bathing_service", service_radius_m=10_000)
    create(client, admin, name="暂停", status="temporarily_closed", location=north_of(20))
    statement, _params, _prepare = _postgis_statement(NearestQuery(0.0, 0.0))
    with app.app_context():
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        for reach, fetch, found in ((200.0, 2, 2), (1000.0, 12, 5), (9000.0, 50, 8)):
            params = {"lat": ORIGIN[0], "lon": ORIGIN[1], "reach": reach, "fetch": fetch}
            rows = cursor.execute(PLAIN_FUNCTION, params).fetchall()
            assert rows == cursor.execute(statement, params).fetchall()
            assert len(rows) == found  # the mobile service twice at 9 km: both branches

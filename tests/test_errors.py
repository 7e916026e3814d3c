"""Bad input: always a problem+json naming the field, never a 500, never a half-written row."""

from __future__ import annotations

import pytest

from .conftest import assert_problem, meal_point, total


def test_malformed_json_is_400(client, admin):
    response = client.post("/api/v1/facilities", data='{"name": "x",',
                           content_type="application/json", headers=admin)
    assert_problem(response, 400)


def test_wrong_content_type_is_415(client, admin):
    response = client.post("/api/v1/facilities", data="name=x",
                           content_type="application/x-www-form-urlencoded", headers=admin)
    body = assert_problem(response, 415)
    assert "application/json" in body["detail"]


@pytest.mark.parametrize("overrides, field", [
    ({"name": 42}, "name"),
    ({"capacity": "forty"}, "capacity"),
    ({"capacity": 4.5}, "capacity"),
    ({"inclusive": "perhaps"}, "inclusive"),
    ({"services": "meals"}, "services"),
    ({"location": {"lat": "north", "lon": 106.4}}, "location.lat"),
    ({"location": {"lat": 91, "lon": 106.4}}, "location.lat"),
    ({"location": {"lat": 29.8, "lon": -181}}, "location.lon"),
    ({"location": {"lat": 29.8}}, "location.lon"),
    ({"location": {"lat": 29.8, "lon": 106.4, "coordsys": "mars"}}, "location.coordsys"),
    ({"kind": "canteen"}, "kind"),
    ({"services": ["meals", "massage"]}, "services[1]"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"district": "500000"}, "district"),
    ({"district": "成都市"}, "district"),
    ({"opening_hours": [{"days": [0], "opens": "08:00", "closes": "17:00"}]},
     "opening_hours[0].days[0]"),
    ({"opening_hours": [{"days": [1], "opens": "8am", "closes": "17:00"}]},
     "opening_hours[0].opens"),
    ({"opening_hours": [{"days": [1], "opens": "08:00", "closes": "08:00"}]},
     "opening_hours[0].closes"),
    ({"vacancies": -1}, "vacancies"),
    ({"age_months_min": 36, "age_months_max": 24}, "age_months_max"),
    ({"surprise": 1}, "surprise"),
    ({"id": "00000000-0000-0000-0000-000000000000"}, "id"),
    ({"updated_at": "2026-01-01T00:00:00+08:00"}, "updated_at"),
])
def test_invalid_fields_are_422_naming_the_field_and_store_nothing(client, admin, overrides,
                                                                   field):
    response = client.post("/api/v1/facilities", json=meal_point(**overrides), headers=admin)
    assert_problem(response, 422, field)
    assert total(client) == 0


def test_missing_required_fields_are_each_named(client, admin):
    body = assert_problem(client.post("/api/v1/facilities", json={}, headers=admin), 422)
    assert {"name", "kind"} <= body["errors"].keys()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinite_coordinates_are_422(client, admin, literal):
    raw = ('{"name": "x", "kind": "meal_point", "district": "500109", '
           f'"location": {{"lat": {literal}, "lon": 106.4}}}}')
    response = client.post("/api/v1/facilities", data=raw, content_type="application/json",
                           headers=admin)
    assert_problem(response, 422, "location.lat")
    assert total(client) == 0


def test_a_body_that_is_not_an_object_is_422(client, admin):
    assert_problem(client.post("/api/v1/facilities", json=[1, 2], headers=admin), 422, "body")


def test_oversized_body_is_413(client, admin, app):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post("/api/v1/facilities", json=meal_point(fees="很贵" * 2000),
                           headers=admin)
    assert_problem(response, 413)
    assert total(client) == 0


def test_coordinate_zero_is_read_as_a_point_not_as_missing(client, admin):
    # Ohana rejected 0.0; here 0 is a number like any other (checked by range, not truthiness).
    # (0, 0) is read as a point, and refused as one: it is not in Chongqing.
    response = client.post("/api/v1/facilities", headers=admin,
                           json=meal_point(location={"lat": 0.0, "lon": 0.0}))
    assert "Not in Chongqing" in assert_problem(response, 422, "location")["errors"]["location"][0]


def test_unknown_path_and_method_are_problems(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    response = client.put("/api/v1/facilities")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_failure_inside_a_write_leaves_no_half_written_row(client, admin, app, monkeypatch):
    from servicemap import registry

    def explode(facility):
        facility.name = "half"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(registry, "check_consistency", explode)
    response = client.post("/api/v1/facilities", json=meal_point(), headers=admin)
    body = assert_problem(response, 500)
    assert "disk on fire" not in body["detail"]
    assert total(client) == 0

"""Hostile and careless input (issue 9): NUL and lone surrogates, dates out of range, JSON
bodies past their limits, malformed If-Match, names that hide or reorder what they say."""

from __future__ import annotations

import json

import pytest

from .conftest import HEADER_ZH, ROWS_ZH, assert_problem, create, meal_point, total
from .conftest import post as post_import

NEAREST = "/api/v1/facilities/nearest?lat=29.8257&lon=106.4370"


def send_json(client, method: str, url: str, body, headers=None):
    """A JSON body as a hostile client writes it: \\u escapes, lone surrogates included."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=True)
    return client.open(url, method=method, data=text, content_type="application/json",
                       headers=headers or {})


@pytest.mark.parametrize("url, field", [
    ("/api/v1/facilities?q=a%00b", "q"),
    ("/api/v1/facilities?street=%00", "street"),
    ("/api/v1/facilities?district=500109%00", "district"),
    ("/api/v1/hsds/services?search=a%00b", "search"),
    ("/api/v1/hsds/taxonomy_terms?search=%00", "search"),
    ("/api/v1/hsds/services/a%00b", "service_id"),
    ("/api/v1/facilities/a%00b", "facility_id"),
    (NEAREST + "&program=a%00b", "program"),
    ("/api/v1/programs?as_of=2026-01-01%00", "as_of"),
])
def test_nul_in_a_query_argument_or_path_is_422_naming_it(client, url, field):
    assert_problem(client.get(url), 422, field)


def test_nul_in_the_audit_key_filter_is_422(client, admin):
    assert_problem(client.get("/api/v1/audit?key_id=a%00b", headers=admin), 422, "key_id")


@pytest.mark.parametrize("overrides, field", [
    ({"name": "老年\u0000食堂"}, "name"),
    ({"name": "老年\ud800食堂"}, "name"),
    ({"address": "\udfff"}, "address"),
    ({"fees": "免费\u0000"}, "fees"),
    ({"external_id": "x\u0000"}, "external_id"),
    ({"location": {"lat": 29.8, "lon": 106.4, "coordsys": "wgs84\u0000"}}, "location.coordsys"),
    ({"services": ["meals", "\ud800"]}, "services[1]"),
    ({"\ud800": 1}, "\\ud800"),
    ({"\u0000x": 1}, "\\u0000x"),
])
def test_nul_or_lone_surrogate_in_a_written_string_is_422_and_stores_nothing(
        client, admin, overrides, field):
    response = send_json(client, "POST", "/api/v1/facilities", meal_point(**overrides), admin)
    assert_problem(response, 422, field)
    assert total(client) == 0


def test_nul_in_a_patched_string_is_422_and_changes_nothing(client, admin):
    facility = create(client, admin)
    url = f"/api/v1/facilities/{facility['id']}"
    assert_problem(send_json(client, "PATCH", url, {"street": "天生\u0000"}, admin), 422,
                   "street")
    assert client.get(url).json["street"] == facility["street"]


def test_nul_in_an_imported_cell_is_refused_naming_its_row(client, admin):
    rows = [ROWS_ZH[0], ROWS_ZH[1].replace("朝阳街道养老服务站", "朝阳\x00服务站")]
    response = post_import(client, admin, (HEADER_ZH + "".join(rows)).encode(), "text/csv")
    body = assert_problem(response, 422)
    assert any(key.startswith("line 3") for key in body["errors"]), body
    assert total(client) == 0


@pytest.mark.parametrize("path", ["/api/v1/eligibility", "/api/v1/recommendations"])
@pytest.mark.parametrize("person, field", [
    ('{"\\ud800x": 1}', "person.\\ud800x"),
    ('{"age": "\\u0000"}', "person.age"),
    ('{"residence_district": "\\udc00"}', "person.residence_district"),
])
def test_eligibility_facts_with_nul_or_lone_surrogates_are_422_naming_them(client, path, person,
                                                                           field):
    body = f'{{"person": {person}, "location": {{"lat": 29.8, "lon": 106.4}}}}'
    assert_problem(send_json(client, "POST", path, body), 422, field)


@pytest.mark.parametrize("url, field", [
    (NEAREST + "&open_at=9999-12-31T23:00:00-12:00", "open_at"),
    (NEAREST + "&open_at=0001-01-01T00:00:00%2B14:00", "open_at"),
    (NEAREST + "&open_at=1899-12-31T12:00:00", "open_at"),
    (NEAREST + "&open_at=2101-01-01T00:00:00", "open_at"),
    ("/api/v1/hsds/services?modified_after=0001-01-01T00:00:00%2B14:00", "modified_after"),
    ("/api/v1/hsds/services?modified_after=9999-12-31T23:59:59-12:00", "modified_after"),
    ("/api/v1/hsds/service_at_locations?modified_after=0001-01-01T00:00:00", "modified_after"),
])
def test_moments_outside_1900_to_2100_are_422_naming_the_field(client, url, field):
    body = assert_problem(client.get(url), 422, field)
    assert "1900-01-01" in body["errors"][field][0]


@pytest.mark.parametrize("query, field", [
    ("since=0001-01-01T00:00:00", "since"),
    ("since=0001-01-01T00:00:00%2B14:00", "since"),
    ("until=9999-12-31T23:59:59", "until"),
    ("since=9999-12-31T23:59:59-12:00", "since"),
])
def test_audit_moments_outside_1900_to_2100_are_422(client, admin, query, field):
    assert_problem(client.get(f"/api/v1/audit?{query}", headers=admin), 422, field)


def test_moments_at_the_edges_of_the_range_are_accepted(client, admin):
    assert client.get(NEAREST + "&open_at=2100-12-31T23:00:00-12:00").status_code == 200
    assert client.get(NEAREST + "&open_at=1900-01-01T00:00:00%2B14:00").status_code == 200
    assert client.get("/api/v1/audit?since=1900-01-01T00:00:00", headers=admin).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/eligibility", "/api/v1/facilities"])
@pytest.mark.parametrize("body", [
    '{"person": {"age": ' + "9" * 5000 + '}, "capacity": 1}',
    '{"person": {"age": -' + "1" * 101 + "}}",
    '{"person": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "[" * 50_000,
    '{"a": ' * 50_000 + "1" + "}" * 50_000,
])
def test_json_past_its_limits_is_400_naming_the_body(client, admin, path, body):
    response = send_json(client, "POST", path, body, admin)
    problem = assert_problem(response, 400, "body")
    assert "JSON" in problem["detail"]
    assert total(client) == 0


def test_json_within_its_limits_is_read_as_usual(client, admin):
    # Brackets inside strings are text, not nesting; 100 digits is still a number.
    name = "[" * 40 + "老年食堂" + "{" * 40
    response = send_json(client, "POST", "/api/v1/facilities",
                         meal_point(name=name, fees="]" * 100), admin)
    assert response.status_code == 201 and response.json["name"] == name
    too_big = send_json(client, "POST", "/api/v1/facilities",
                        '{"capacity": ' + "9" * 100 + "}", admin)
    assert_problem(too_big, 422, "capacity")


@pytest.mark.parametrize("if_match", ['"', '"abc', "abc", "", '"a",', "W/"])
def test_a_malformed_if_match_is_400_and_writes_nothing(client, admin, if_match):
    facility = create(client, admin)
    url = f"/api/v1/facilities/{facility['id']}"
    patched = client.patch(url, json={"vacancies": 0}, headers={**admin, "If-Match": if_match})
    assert_problem(patched, 400, "If-Match")
    assert_problem(client.delete(url, headers={**admin, "If-Match": if_match}), 400, "If-Match")
    assert client.get(url).json["vacancies"] == facility["vacancies"]


def test_a_well_formed_if_match_list_or_star_still_works(client, admin):
    facility = create(client, admin)
    url = f"/api/v1/facilities/{facility['id']}"
    etag = client.get(url).headers["ETag"]
    response = client.patch(url, json={"vacancies": 1},
                            headers={**admin, "If-Match": f'"other", {etag}'})
    assert response.status_code == 200
    response = client.patch(url, json={"vacancies": 2}, headers={**admin, "If-Match": "*"})
    assert response.status_code == 200


@pytest.mark.parametrize("overrides, field", [
    ({"name": "\u200b\u200b"}, "name"),
    ({"name": "\u200b \ufeff\u2060"}, "name"),
    ({"name_en": "\u200c\u200d"}, "name_en"),
    ({"address": "\u200b"}, "address"),
    ({"name": "老年食堂\u202e堂食年老"}, "name"),
    ({"name": "\u2066老年食堂\u2069"}, "name"),
    ({"name_en": "Canteen \u202d"}, "name_en"),
    ({"address": "重庆市\u202a北碚区"}, "address"),
    ({"street": "\u2067天生街道"}, "street"),
    ({"closures": [{"from": "2026-02-15", "to": "2026-02-16", "reason": "春节\u202e休息"}]},
     "closures[0].reason"),
])
def test_names_of_zero_width_characters_or_with_bidi_controls_are_422(client, admin, overrides,
                                                                       field):
    assert_problem(client.post("/api/v1/facilities", json=meal_point(**overrides),
                               headers=admin), 422, field)
    assert total(client) == 0


def test_a_name_with_a_joiner_between_visible_characters_is_kept(client, admin):
    # Zero-width joiners are legitimate inside emoji and some scripts; only names of nothing
    # else are refused.
    facility = create(client, admin, name="老年食堂 👩\u200d🍳")
    assert facility["name"] == "老年食堂 👩\u200d🍳"


@pytest.mark.parametrize("value, accepted", [
    ("1899-12-31", False), ("1900-01-01", True), ("2100-12-31", True), ("2101-01-01", False),
    ("0001-01-01", False), ("9999-12-31", False),
])
def test_a_bounded_date_field_takes_1900_to_2100_only(value, accepted):
    from marshmallow import ValidationError

    from servicemap.schemas import BoundedDate

    try:
        BoundedDate().deserialize(value)
    except ValidationError as error:
        assert not accepted and "1900-01-01" in error.messages[0]
    else:
        assert accepted

"""The facilities endpoints: list, get, create, update, delete, as clients see them."""

from __future__ import annotations

import pytest

from .conftest import create, meal_point


def test_create_returns_201_with_location_etag_and_the_facility(client, admin):
    response = client.post("/api/v1/facilities", json=meal_point(), headers=admin)
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"/api/v1/facilities/{body['id']}"
    assert response.headers["ETag"].startswith('"')
    assert body["name"] == "北碚区天生街道老年食堂"
    assert body["district"] == {"code": "500109", "name": "北碚区"}
    assert body["location"] == {"lat": 29.8257, "lon": 106.437, "coordsys": "wgs84",
                                "precision": "exact", "source": "manual"}
    assert body["services"] == ["meals", "meal_delivery"]
    assert body["status"] == "active"
    assert body["updated_at"].endswith("+08:00")


def test_chinese_is_returned_as_characters_not_escapes(client, admin):
    create(client, admin)
    raw = client.get("/api/v1/facilities").get_data(as_text=True)
    assert "北碚区天生街道老年食堂" in raw and "\\u" not in raw


def test_get_returns_the_facility_with_an_etag_and_honours_if_none_match(client, admin):
    created = create(client, admin)
    response = client.get(f"/api/v1/facilities/{created['id']}")
    assert response.status_code == 200
    assert response.json == created
    again = client.get(f"/api/v1/facilities/{created['id']}",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_get_unknown_and_malformed_ids_are_404_problems(client):
    missing = client.get("/api/v1/facilities/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    malformed = client.get("/api/v1/facilities/not-a-uuid")
    assert malformed.status_code == 404
    assert "UUID" in malformed.json["detail"]


def test_district_may_be_given_by_chinese_name(client, admin):
    body = create(client, admin, district="沙坪坝区", address="重庆市沙坪坝区小龙坎正街1号",
                  location={"lat": 29.5451, "lon": 106.4536})
    assert body["district"] == {"code": "500106", "name": "沙坪坝区"}


def test_list_filters_combine_with_and_and_repeat_with_or(client, admin):
    create(client, admin)
    create(client, admin, name="北碚区朝阳街道养老服务站", kind="elder_care_station",
           services=["day_care", "cleaning"], inclusive=False, street="朝阳街道")
    create(client, admin, name="渝中区解放碑街道助餐点", district="500103",
           address="重庆市渝中区民族路1号", location={"lat": 29.5572, "lon": 106.5773})

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/facilities?{query}")
        assert response.status_code == 200, response.json
        return [item["name"] for item in response.json["items"]]

    assert names("kind=meal_point&district=500109") == ["北碚区天生街道老年食堂"]
    assert sorted(names("kind=meal_point&kind=elder_care_station&district=500109")) == sorted(
        ["北碚区天生街道老年食堂", "北碚区朝阳街道养老服务站"])
    assert names("service=cleaning") == ["北碚区朝阳街道养老服务站"]
    assert len(names("service=cleaning&service=meals")) == 3
    assert names("inclusive=false") == ["北碚区朝阳街道养老服务站"]
    assert names("street=天生街道&kind=elder_care_station") == []
    assert names("district=渝中区") == ["渝中区解放碑街道助餐点"]


def test_q_matches_chinese_substrings_of_name_and_address(client, admin):
    create(client, admin)
    create(client, admin, name="渝中区解放碑街道助餐点", district="500103",
           address="重庆市渝中区民族路1号", location={"lat": 29.5572, "lon": 106.5773})
    assert [i["name"] for i in client.get("/api/v1/facilities?q=天生").json["items"]] == [
        "北碚区天生街道老年食堂"]
    assert [i["name"] for i in client.get("/api/v1/facilities?q=民族路").json["items"]] == [
        "渝中区解放碑街道助餐点"]
    assert client.get("/api/v1/facilities?q=100%25").json["total"] == 0  # % is literal


def test_q_takes_like_wildcards_and_backslashes_as_plain_characters(client, admin):
    create(client, admin, name="老年食堂_A 50%优惠 a\\b")
    create(client, admin, name="老年食堂XA 5000优惠 ab")

    def names(q: str) -> list[str]:
        return [i["name"] for i in client.get("/api/v1/facilities", query_string={"q": q})
                .json["items"]]

    literal = ["老年食堂_A 50%优惠 a\\b"]
    assert names("_A") == literal
    assert names("50%优惠") == literal
    assert names("a\\b") == literal
    assert len(names("老年食堂")) == 2


def test_list_paginates_with_totals_and_keeps_order(client, admin):
    for number in range(5):
        create(client, admin, name=f"助餐点{number}")
    first = client.get("/api/v1/facilities?per_page=2").json
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    third = client.get("/api/v1/facilities?per_page=2&page=3").json
    assert [i["name"] for i in first["items"]] == ["助餐点0", "助餐点1"]
    assert [i["name"] for i in third["items"]] == ["助餐点4"]
    assert client.get("/api/v1/facilities?per_page=2&page=9").json["items"] == []


@pytest.mark.parametrize("query, field", [
    ("per_page=101", "per_page"), ("per_page=0", "per_page"), ("page=0", "page"),
    ("kind=canteen", "kind[0]"), ("service=massage", "service[0]"), ("district=123456", "district"),
    ("inclusive=maybe", "inclusive"), ("coordsys=mars", "coordsys"),
])
def test_bad_list_parameters_are_422_naming_the_parameter(client, query, field):
    response = client.get(f"/api/v1/facilities?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json


def test_patch_changes_only_the_given_fields_and_bumps_the_etag(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    etag = client.get(url).headers["ETag"]
    response = client.patch(url, json={"vacancies": 0, "status": "temporarily_closed"},
                            headers={**admin, "If-Match": etag})
    assert response.status_code == 200, response.json
    assert response.json["vacancies"] == 0
    assert response.json["status"] == "temporarily_closed"
    assert response.json["name"] == created["name"]
    assert response.headers["ETag"] != etag


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    stale = client.get(url).headers["ETag"]
    assert client.patch(url, json={"vacancies": 1}, headers=admin).status_code == 200
    response = client.patch(url, json={"vacancies": 2}, headers={**admin, "If-Match": stale})
    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"
    assert client.get(url).json["vacancies"] == 1


def test_patch_revalidates_the_whole_facility(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    response = client.patch(url, json={"vacancies": 41}, headers=admin)
    assert response.status_code == 422
    assert "vacancies" in response.json["errors"]
    assert client.get(url).json["vacancies"] == 3


def test_patch_can_clear_the_location_only_while_an_address_remains(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    response = client.patch(url, json={"location": None, "address": None}, headers=admin)
    assert response.status_code == 422 and "address" in response.json["errors"]
    response = client.patch(url, json={"location": None}, headers=admin)
    assert response.status_code == 200 and response.json["location"] is None


def test_delete_removes_the_facility(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=admin).status_code == 404


def test_delete_with_a_stale_if_match_is_412(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    response = client.delete(url, headers={**admin, "If-Match": '"stale-1"'})
    assert response.status_code == 412
    assert client.get(url).status_code == 200


def test_duplicate_external_id_is_409_naming_the_field(client, admin):
    first = create(client, admin, external_id="CQ-1")
    response = client.post("/api/v1/facilities", json=meal_point(external_id="CQ-1", name="另一个"),
                           headers=admin)
    assert response.status_code == 409
    assert "external_id" in response.json["errors"]
    assert response.json["detail"] == (
        f"external_id 'CQ-1' is already used by facility {first['id']}.")
    assert client.get("/api/v1/facilities").json["total"] == 1


def test_patch_of_a_nested_object_needs_the_whole_object(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    response = client.patch(url, json={"location": {"lat": 29.9}}, headers=admin)
    assert response.status_code == 422 and "location.lon" in response.json["errors"]
    response = client.patch(url, json={"opening_hours": [{"days": [1]}]}, headers=admin)
    assert response.status_code == 422 and "opening_hours[0].opens" in response.json["errors"]
    moved = client.patch(url, json={"location": {"lat": 29.9, "lon": 106.5}}, headers=admin)
    assert moved.status_code == 200
    assert moved.json["location"]["precision"] == "exact"


def test_a_location_written_in_gcj02_is_stored_as_wgs84_and_answered_as_asked(client, admin):
    from servicemap.geo.coordsys import from_wgs84

    gcj_lat, gcj_lon = from_wgs84(29.8257, 106.4370, "gcj02")
    body = create(client, admin, location={"lat": gcj_lat, "lon": gcj_lon, "coordsys": "gcj02"})
    assert body["location"]["coordsys"] == "gcj02"
    assert abs(body["location"]["lat"] - gcj_lat) < 1e-6
    stored = client.get(f"/api/v1/facilities/{body['id']}").json["location"]
    assert stored["coordsys"] == "wgs84"
    assert abs(stored["lat"] - 29.8257) < 1e-6 and abs(stored["lon"] - 106.4370) < 1e-6
    baidu = client.get(f"/api/v1/facilities/{body['id']}?coordsys=bd09").json["location"]
    assert baidu["coordsys"] == "bd09" and baidu["lat"] != stored["lat"]

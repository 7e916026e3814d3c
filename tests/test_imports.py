"""Imports (CSV in every encoding Excel writes, XLSX, JSON, GeoJSON, HSDS) and exports."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook

from servicemap.geo.coordsys import from_wgs84
from servicemap.importing.readers import XLSX

from .conftest import CSV_ZH, HEADER_ZH, ROWS_ZH, assert_problem, post, total


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_with_chinese_headers_imports_in_every_encoding(client, admin, encoding):
    response = post(client, admin, CSV_ZH.encode(encoding), "text/csv")
    assert response.status_code == 200, response.json
    assert response.json["created"] == 3 and response.json["invalid"] == []
    canteen = client.get("/api/v1/facilities?q=天生").json["items"][0]
    assert canteen["kind"] == "meal_point" and canteen["services"] == ["meals", "meal_delivery"]
    assert canteen["ownership"] == "community" and canteen["inclusive"] is True
    assert canteen["opening_hours"] == [
        {"days": [1, 2, 3, 4, 5], "opens": "10:30", "closes": "13:00"},
        {"days": [1, 2, 3, 4, 5], "opens": "16:30", "closes": "18:30"}]
    assert canteen["location"]["source"] == "import"
    kindergarten = client.get("/api/v1/facilities?q=幼儿园").json["items"][0]
    assert kindergarten["kind"] == "kindergarten" and kindergarten["inclusive"] is True


def test_reimport_is_idempotent_and_updates_by_external_id(client, admin):
    post(client, admin, CSV_ZH.encode(), "text/csv")
    again = post(client, admin, CSV_ZH.encode(), "text/csv").json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    changed = CSV_ZH.replace(",40,3\n", ",40,0\n")
    report = post(client, admin, changed.encode(), "text/csv").json
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 2)
    assert client.get("/api/v1/facilities?q=天生").json["items"][0]["vacancies"] == 0
    assert total(client) == 3


def test_rows_without_external_id_match_by_name_and_address(client, admin):
    csv_text = ("名称,类型,地址,区县代码,纬度,经度\n"
                "北碚区某助餐点,助餐点,重庆市北碚区某路1号,500109,29.82,106.43\n")
    post(client, admin, csv_text.encode(), "text/csv")
    report = post(client, admin, csv_text.replace("29.82,", "29.83,").encode(), "text/csv").json
    assert (report["created"], report["updated"]) == (0, 1)


def test_one_bad_row_among_many_imports_nothing_and_names_that_row(client, admin):
    rows = [f"X-{n},助餐点{n},meal_point,500109,重庆市北碚区{n}号,29.8,106.4\n" for n in range(50)]
    rows[31] = "X-31,助餐点31,meal_point,500109,重庆市北碚区31号,北纬29度,106.4\n"
    body = ("external_id,name,kind,district_code,address,lat,lon\n" + "".join(rows)).encode()
    response = post(client, admin, body, "text/csv")
    problem = assert_problem(response, 422)
    assert problem["report"]["invalid"] == [
        {"line": 33, "column": "lat", "reason": "expected a number, got '北纬29度'"}]
    assert list(problem["errors"]) == ["line 33: lat"]
    assert total(client) == 0


def test_dry_run_reports_every_problem_and_writes_nothing(client, admin):
    body = (HEADER_ZH.replace("\n", ",备注\n") + ROWS_ZH[0].replace("\n", ",hello\n")
            + "BB-9,,助餐点,,,,,500109,,29.8,106.4,,,5,9,\n").encode()
    report = post(client, admin, body, "text/csv", "dry_run=true").json
    assert report["dry_run"] is True and report["unknown_columns"] == ["备注"]
    assert report["created"] == 1
    assert {(p["line"], p["column"]) for p in report["invalid"]} == {(3, "名称")}
    assert total(client) == 0
    assert_problem(post(client, admin, body, "text/csv"), 422)  # unknown column refused
    assert total(client) == 0


def test_a_crash_in_the_middle_leaves_the_registry_as_it_was(client, admin, monkeypatch):
    post(client, admin, CSV_ZH.encode(), "text/csv")
    before = client.get("/api/v1/exports/facilities.csv").data
    from servicemap import registry

    def explode(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(registry, "bulk_insert", explode)  # the registry's batched write
    more = CSV_ZH.replace(",40,3\n", ",40,1\n") + ROWS_ZH[0].replace("BB-1", "BB-7")
    assert_problem(post(client, admin, more.encode(), "text/csv"), 500)
    assert client.get("/api/v1/exports/facilities.csv").data == before


def test_xlsx_imports(client, admin):
    book = Workbook()
    sheet = book.active
    sheet.append(["名称", "类型", "地址", "区县代码", "纬度", "经度", "容量"])
    sheet.append(["沙坪坝区磁器口助餐点", "老年食堂", "重庆市沙坪坝区磁器口正街1号", 500106,
                  29.5813, 106.4502, 60])
    buffer = io.BytesIO()
    book.save(buffer)
    response = post(client, admin, buffer.getvalue(), XLSX)
    assert response.status_code == 200, response.json
    item = client.get("/api/v1/facilities").json["items"][0]
    assert item["district"]["code"] == "500106" and item["capacity"] == 60


def test_multipart_upload_and_gcj02_option(client, admin):
    lat, lon = from_wgs84(29.8257, 106.4370, "gcj02")
    csv_text = ("name,kind,address,district_code,lat,lon\n"
                f"食堂,meal_point,重庆市北碚区,500109,{lat},{lon}\n")
    response = client.post("/api/v1/imports?coordsys=gcj02", headers=admin,
                           data={"file": (io.BytesIO(csv_text.encode()), "食堂.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    location = client.get("/api/v1/facilities").json["items"][0]["location"]
    assert abs(location["lat"] - 29.8257) < 1e-6 and abs(location["lon"] - 106.4370) < 1e-6


def test_json_and_geojson_import(client, admin):
    items = [{"name": "北碚区歇马街道养老服务中心", "kind": "elder_care_center",
              "district": "北碚区", "address": "重庆市北碚区歇马街道",
              "location": {"lat": 29.76, "lon": 106.40}}]
    assert post(client, admin, json.dumps(items).encode(), "application/json").json["created"] == 1
    collection = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [106.45, 29.54]},
        "properties": {"name": "沙坪坝区助浴点", "kind": "bathing_service", "district": "500106",
                       "address": "重庆市沙坪坝区"}}]}
    response = post(client, admin, json.dumps(collection).encode(), "application/geo+json")
    assert response.json["created"] == 1
    assert total(client) == 2


def test_hsds_services_import_like_the_open_referral_examples(client, admin):
    service = {
        "id": "ac148810-d857-441c-9679-408f346de14b", "name": "渝中区大坪街道老年食堂",
        "status": "active", "organization": {"id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c67b",
                                             "name": "大坪街道办事处"},
        "phones": [{"id": "1b2c3d4e-0000-4000-8000-000000000001", "number": "023-63800000"}],
        "schedules": [{"id": "1b2c3d4e-0000-4000-8000-000000000002", "freq": "WEEKLY",
                       "byday": "MO,TU,WE,TH,FR", "opens_at": "11:00", "closes_at": "13:00"}],
        "service_at_locations": [{"id": "1b2c3d4e-0000-4000-8000-000000000003", "location": {
            "id": "1b2c3d4e-0000-4000-8000-000000000004", "latitude": 29.5402,
            "longitude": 106.5101, "addresses": [{
                "id": "1b2c3d4e-0000-4000-8000-000000000005", "address_1": "大坪正街1号",
                "city": "重庆市", "region": "渝中区", "state_province": "重庆市",
                "postal_code": "400042", "country": "CN", "address_type": "physical"}]}}],
    }
    page = {"total_items": 1, "total_pages": 1, "page_number": 1, "size": 1, "first_page": True,
            "last_page": True, "empty": False, "contents": [service]}
    report = post(client, admin, json.dumps(page).encode(), "application/json").json
    assert report["format"] == "hsds" and report["created"] == 1, report
    item = client.get("/api/v1/facilities").json["items"][0]
    assert item["kind"] == "meal_point" and item["external_id"] == service["id"]
    assert item["opening_hours"] == [{"days": [1, 2, 3, 4, 5], "opens": "11:00", "closes": "13:00"}]
    assert item["phone"] == "023-63800000" and item["address"] == "重庆市渝中区大坪正街1号"
    assert post(client, admin, json.dumps([service]).encode(),
                "application/json").json["unchanged"] == 1


def test_wrong_type_unreadable_file_and_roles(client, admin, make_key):
    assert_problem(post(client, admin, b"<xml/>", "application/xml"), 415)
    assert_problem(post(client, admin, b"\xff\xfe\x00garbage", "text/csv"), 422, "line 1")
    assert_problem(post(client, admin, b"{not json", "application/json"), 400)
    assert_problem(post(client, admin, b"not a zip", XLSX), 400)
    editor = make_key("editor", ("500109",))
    assert_problem(post(client, editor, CSV_ZH.encode(), "text/csv"), 403)
    assert_problem(post(client, {}, CSV_ZH.encode(), "text/csv"), 401)


def test_import_size_and_row_limits(client, admin, app):
    app.config["SERVICEMAP"].max_import_rows = 2
    assert_problem(post(client, admin, CSV_ZH.encode(), "text/csv"), 413)
    app.config["SERVICEMAP"].max_import_bytes = 100
    assert_problem(post(client, admin, CSV_ZH.encode(), "text/csv"), 413)
    assert total(client) == 0


def test_csv_export_has_a_bom_and_round_trips_unchanged(client, admin, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    post(client, admin, CSV_ZH.encode("gbk"), "text/csv")
    exported = client.get("/api/v1/exports/facilities.csv")
    assert exported.mimetype == "text/csv" and exported.data.startswith(b"\xef\xbb\xbf")
    count = total(client)
    report = post(client, admin, exported.data, "text/csv").json
    assert report["invalid"] == [] and report["unknown_columns"] == []
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, count)


def test_geojson_export_round_trips_unchanged(client, admin, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    exported = client.get("/api/v1/exports/facilities.geojson")
    assert exported.mimetype == "application/geo+json"
    collection = exported.json
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == total(client)
    report = post(client, admin, exported.data, "application/geo+json").json
    assert report["invalid"] == []
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, total(client))


def test_import_command_reports_and_writes_all_or_nothing(runner, client, tmp_path):
    good = tmp_path / "台账.csv"
    good.write_bytes(CSV_ZH.encode("gbk"))
    dry = runner.invoke(args=["import", str(good), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "created 3, updated 0, unchanged 0, invalid rows 0 (dry run" in dry.stdout
    assert total(client) == 0
    real = runner.invoke(args=["import", str(good)])
    assert real.exit_code == 0 and "created 3" in real.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_ZH.replace("29.8257", "north"), encoding="utf-8")
    failed = runner.invoke(args=["import", str(bad)])
    assert failed.exit_code != 0
    assert "bad.csv:2: 纬度" in failed.stderr and "nothing was imported" in failed.output
    assert runner.invoke(args=["import", str(tmp_path / "x.txt")]).exit_code != 0

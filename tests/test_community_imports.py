"""Communities through POST /imports?into=communities and /exports/communities.* (issue #15)."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from servicemap.importing import XLSX

from .conftest import assert_problem, post

URL = "/api/v1/communities"
INTO = "into=communities"
HEADER_ZH = ("外部编号,名称,区县代码,街道,纬度,经度,坐标系,常住人口,60岁以上人口,0至3岁人口,"
             "3至6岁人口\n")
ROWS_ZH = [
    "BB-C1,中山路社区,500109,朝阳街道,29.8257,106.4370,wgs84,12000,3100,280,350\n",
    "BB-C2,天生新村社区,,天生街道,29.8300,106.4330,,8000,,,\n",
    "YZ-C1,解放碑路社区,500103,,29.5572,106.5773,wgs84,9000,2100,200,260\n",
]
CSV_ZH = HEADER_ZH + "".join(ROWS_ZH)
HEADER_EN = ("external_id,name,name_en,district_code,street,lat,lon,coordsys,population,"
             "population_60_plus,population_0_3,population_3_6\n")


def names(client) -> list[str]:
    return [c["name"] for c in client.get(f"{URL}?per_page=100").json["items"]]


def test_a_csv_with_chinese_headers_imports_every_row(client, admin):
    response = post(client, admin, CSV_ZH.encode(), "text/csv", INTO)
    assert response.status_code == 200, response.json
    assert response.json | {"invalid": []} == {
        "format": "csv", "dry_run": False, "rows": 3, "created": 3, "updated": 0,
        "unchanged": 0, "invalid": [], "unknown_columns": []}
    assert sorted(names(client)) == sorted(["中山路社区", "天生新村社区", "解放碑路社区"])
    tiansheng = client.get(f"{URL}?q=天生").json["items"][0]
    assert tiansheng["district"]["code"] == "500109" and tiansheng["population"] == 8000
    assert tiansheng["population_60_plus"] is None
    jiefangbei = client.get(f"{URL}?q=解放碑").json["items"][0]
    assert jiefangbei["street"] == "解放碑街道"  # from the gazetteer
    # The facilities are untouched: the file went into communities.
    assert client.get("/api/v1/facilities").json["total"] == 0


def test_english_headers_and_gcj02_rows_import_and_upsert_by_external_id(client, admin):
    row = "E-1,中山路社区,Zhongshan Road,500109,,29.8230,106.4410,gcj02,5000,1200,,\n"
    assert post(client, admin, (HEADER_EN + row).encode(), "text/csv", INTO).json["created"] == 1
    stored = client.get(URL).json["items"][0]
    assert stored["location"]["lat"] != 29.8230  # stored as WGS-84
    again = post(client, admin, (HEADER_EN + row).encode(), "text/csv", INTO).json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    changed = row.replace(",5000,", ",5200,")
    again = post(client, admin, (HEADER_EN + changed).encode(), "text/csv", INTO).json
    assert (again["created"], again["updated"]) == (0, 1)
    assert client.get(URL).json["items"][0]["population"] == 5200
    assert client.get(URL).json["total"] == 1


def test_rows_without_external_id_upsert_by_name_and_district(client, admin):
    body = (HEADER_EN + "  ,中山路社区,,,,29.8257,106.4370,,100,,,\n").encode()
    assert post(client, admin, body, "text/csv", INTO).json["created"] == 1
    again = post(client, admin, body.replace(b",100,", b",120,"), "text/csv", INTO).json
    assert (again["created"], again["updated"]) == (0, 1)


def test_a_dry_run_reports_and_writes_nothing(client, admin):
    report = post(client, admin, CSV_ZH.encode(), "text/csv", f"{INTO}&dry_run=true").json
    assert (report["dry_run"], report["created"]) == (True, 3)
    assert names(client) == []
    assert client.get("/api/v1/audit", headers=admin).json["total"] == 0


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_written(client, admin):
    bad = CSV_ZH + (
        "BB-C3,坏人口社区,500109,,29.8257,106.4370,,100,200,,\n"   # 60+ above population
        "BB-C4,错区县社区,500103,,29.8257,106.4370,,100,,,\n"      # point not in 渝中区
        "BB-C5,成都社区,,,30.6586,104.0647,,100,,,\n"              # outside Chongqing
        "BB-C6,负数社区,,,29.8257,106.4370,,-5,,,\n"               # negative
        "BB-C7,,500109,,29.8257,106.4370,,1,,,\n"                  # no name
        "BB-C8,没坐标社区,500109,,,,,1,,,\n"                        # no location
        "BB-C1,重复社区,500109,,29.8257,106.4370,,1,,,\n")         # external_id again
    response = post(client, admin, bad.encode(), "text/csv", INTO)
    problem = assert_problem(response, 422)
    invalid = {(p["line"], p["column"]) for p in problem["report"]["invalid"]}
    assert {(5, "60岁以上人口"), (6, "区县代码"), (6, "纬度"), (7, "纬度"), (8, "常住人口"),
            (9, "名称"), (10, "location"), (11, "external_id")} <= invalid
    assert {p["line"] for p in problem["report"]["invalid"]} == set(range(5, 12))
    assert names(client) == []  # all or nothing: the three good rows are not written either


def test_an_unknown_column_refuses_the_file(client, admin):
    body = HEADER_ZH.replace("\n", ",类型\n") + ROWS_ZH[0].replace("\n", ",助餐点\n")
    problem = assert_problem(post(client, admin, body.encode(), "text/csv", INTO), 422, "类型")
    assert problem["report"]["unknown_columns"] == ["类型"]
    assert_problem(post(client, admin, CSV_ZH.encode(), "text/csv", "into=villages"), 422,
                   "into")


def test_a_geojson_file_imports_points_as_communities(client, admin):
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.4370, 29.8257]},
         "properties": {"name": "中山路社区", "population": 12000, "population_60_plus": 3000}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.5773, 29.5572]},
         "properties": {"name": "解放碑路社区", "external_id": "YZ-9"}},
    ]}
    body = json.dumps(document, ensure_ascii=False).encode()
    report = post(client, admin, body, "application/geo+json", INTO).json
    assert report["format"] == "geojson" and report["created"] == 2
    found = {c["name"]: c for c in client.get(URL).json["items"]}
    assert found["解放碑路社区"]["district"]["code"] == "500103"
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {"name": "无点社区"}}]}
    problem = assert_problem(post(client, admin, json.dumps(bad).encode(),
                                  "application/geo+json", INTO), 422)
    assert problem["report"]["invalid"][0]["column"] == "location"


def test_imports_are_admin_only_and_audited_under_community_id(client, admin, make_key):
    editor = make_key("editor", ("500109",))
    assert_problem(post(client, editor, CSV_ZH.encode(), "text/csv", INTO), 403)
    post(client, admin, CSV_ZH.encode(), "text/csv", INTO)
    entries = client.get("/api/v1/audit?action=import", headers=admin).json["items"]
    summary = [e for e in entries if e["community_id"] is None and e["facility_id"] is None]
    assert [e["after"] for e in summary] == [{"format": "csv", "rows": 3, "created": 3,
                                             "updated": 0, "unchanged": 0,
                                             "into": "communities"}]
    rows = [e for e in entries if e["community_id"] is not None]
    assert sorted(e["after"]["name"] for e in rows) == sorted(
        ["中山路社区", "天生新村社区", "解放碑路社区"])
    assert all(e["facility_id"] is None and e["before"] is None for e in rows)


def test_the_csv_export_round_trips_and_neutralises_formulas(client, admin):
    post(client, admin, CSV_ZH.encode(), "text/csv", INTO)
    client.post(URL, json={"name": "=HYPERLINK(\"http://x\")", "population": 10,
                           "location": {"lat": 29.8257, "lon": 106.4370}}, headers=admin)
    exported = client.get("/api/v1/exports/communities.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 4
    assert [r["name"] for r in rows if "HYPERLINK" in r["name"]] == ["'=HYPERLINK(\"http://x\")"]
    zhongshan = next(r for r in rows if r["name"] == "中山路社区")
    assert zhongshan["population_60_plus"] == "3100" and zhongshan["coordsys"] == "wgs84"
    again = post(client, admin, exported.get_data(), "text/csv", INTO).json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert "=HYPERLINK(\"http://x\")" in names(client)


def test_the_xlsx_and_geojson_exports_hold_every_community(client, admin):
    post(client, admin, CSV_ZH.encode(), "text/csv", INTO)
    workbook = client.get("/api/v1/exports/communities.xlsx")
    assert workbook.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(workbook.get_data())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("external_id", "name") and len(rows) == 4
    assert 12000 in [row[rows[0].index("population")] for row in rows[1:]]  # a number cell
    geojson = client.get("/api/v1/exports/communities.geojson")
    features = json.loads(geojson.get_data())["features"]
    assert len(features) == 3
    assert all(f["geometry"]["type"] == "Point" for f in features)
    again = post(client, admin, geojson.get_data(), "application/geo+json", INTO).json
    assert (again["created"], again["unchanged"]) == (0, 3)
    again = post(client, admin, workbook.get_data(), XLSX, INTO).json
    assert (again["created"], again["unchanged"]) == (0, 3)


def test_the_command_line_imports_communities_with_into(runner, client, tmp_path):
    path = tmp_path / "communities.csv"
    path.write_text(CSV_ZH, encoding="utf-8")
    result = runner.invoke(args=["import", str(path), "--into", "communities"])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0, unchanged 0, invalid rows 0" in result.output
    assert len(names(client)) == 3 and client.get("/api/v1/facilities").json["total"] == 0

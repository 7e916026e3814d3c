"""Imports against hostile and careless files: formulas in exports, limits while reading,
the write lock, concurrent imports, cells that used to answer 500, mixed encodings."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from servicemap.database import make_engine
from servicemap.importing import readers
from servicemap.importing.readers import XLSX
from servicemap.spreadsheet import CellError, parse_opening_hours

from .test_errors import assert_problem
from .test_facilities import create
from .test_imports import CSV_ZH, HEADER_ZH, ROWS_ZH, post, total

FORMULA = '=HYPERLINK("http://evil.example","x")'


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# Item 4: formulas in exports ------------------------------------------------------------

def test_a_formula_in_a_name_is_quoted_in_the_csv_export_and_round_trips(client, admin):
    create(client, admin, name=FORMULA, phone="+86 23 6820 0000", name_en="'quoted")
    exported = client.get("/api/v1/exports/facilities.csv").data
    (row,) = csv_rows(exported)
    assert row["name"] == "'" + FORMULA and row["phone"] == "'+86 23 6820 0000"
    assert row["name_en"] == "''quoted"  # a real leading quote survives the round trip
    assert row["lat"] == "29.8257"  # number columns are never quoted
    report = post(client, admin, exported, "text/csv").json
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 1), report
    item = client.get("/api/v1/facilities").json["items"][0]
    assert (item["name"], item["phone"], item["name_en"]) == (
        FORMULA, "+86 23 6820 0000", "'quoted")


def test_a_formula_in_a_name_is_text_in_the_xlsx_export_and_round_trips(client, admin):
    create(client, admin, name=FORMULA, fees="-10 元/餐")
    response = client.get("/api/v1/exports/facilities.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    name = sheet.cell(2, header.index("name") + 1)
    assert name.data_type == "s" and name.value == "'" + FORMULA  # text, not a formula
    assert sheet.cell(2, header.index("fees") + 1).value == "'-10 元/餐"
    assert sheet.cell(2, header.index("capacity") + 1).value == 40
    report = post(client, admin, response.data, XLSX).json
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 1), report
    assert client.get("/api/v1/facilities").json["items"][0]["name"] == FORMULA


def test_a_clerks_own_leading_quote_is_kept(client, admin):
    body = ("name,kind,address,district_code,lat,lon\n"
            "'食堂,meal_point,重庆市北碚区,500109,29.8,106.4\n")
    assert post(client, admin, body.encode(), "text/csv").json["created"] == 1
    assert client.get("/api/v1/facilities").json["items"][0]["name"] == "'食堂"


# Item 5: limits while reading, the write lock ---------------------------------------------

def _bomb(expanded_bytes: int) -> bytes:
    """A real workbook whose shared strings are replaced by one huge, highly compressible
    string: a small file that unpacks to `expanded_bytes`."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([["name"], ["x"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            if member.filename != "xl/sharedStrings.xml":
                bomb.writestr(member, source.read(member))
        head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        with bomb.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(head)
            chunk = b"A" * 1_048_576
            for _ in range(expanded_bytes // len(chunk)):
                member.write(chunk)
            member.write(b"</t></si></sst>")
    return out.getvalue()


def test_an_xlsx_that_unpacks_to_far_more_than_its_size_is_refused_unread(client, admin,
                                                                          monkeypatch):
    bomb = _bomb(64 * 1_048_576)
    assert len(bomb) < 1_048_576

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not unpack the bomb")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    problem = assert_problem(post(client, admin, bomb, XLSX, "dry_run=true"), 413)
    assert "unpacks" in problem["detail"]
    assert total(client) == 0


@pytest.fixture
def rows_read(monkeypatch):
    """How many rows were converted: reading must stop at the first row past the limit."""
    seen = []
    real = readers.row_to_facility

    def counting(cells, *args):
        seen.append(cells)
        return real(cells, *args)

    monkeypatch.setattr(readers, "row_to_facility", counting)
    return seen


def _many_rows(n: int) -> list[list[str]]:
    return [["name", "kind", "address", "district_code", "lat", "lon"]] + [
        [f"助餐点{i}", "meal_point", f"重庆市北碚区{i}号", "500109", "29.8", "106.4"]
        for i in range(n)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reading_stops_at_the_first_row_past_the_limit(client, admin, app, rows_read, fmt):
    app.config["SERVICEMAP"].max_import_rows = 5
    rows = _many_rows(1000)
    if fmt == "csv":
        body, media = "".join(",".join(r) + "\n" for r in rows).encode(), "text/csv"
    else:
        body, media = xlsx(rows), XLSX
    problem = assert_problem(post(client, admin, body, media, "dry_run=true"), 413)
    assert "more than 5 rows" in problem["detail"]
    assert len(rows_read) <= 5


def test_a_huge_day_range_is_refused_before_it_is_expanded(client, admin):
    tracemalloc.start()
    try:
        with pytest.raises(CellError):
            parse_opening_hours("1-30000000 08:00-17:00")
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    body = HEADER_ZH + ROWS_ZH[0].replace("1-5 10:30-13:00; 1-5 16:30-18:30",
                                          "1-30000000 08:00-17:00")
    problem = assert_problem(post(client, admin, body.encode(), "text/csv"), 422,
                             "line 2: 开放时间")
    assert problem["report"]["invalid"][0]["column"] == "开放时间"


def _write_lock_free(app) -> bool:
    """Could another writer take the write lock right now (without waiting)?"""
    url = make_url(app.config["SERVICEMAP"].database_url)
    if url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()
    from servicemap.importing import IMPORT_LOCK_ID

    engine = make_engine(str(url))
    try:
        with engine.begin() as connection:
            return connection.scalar(select(func.pg_try_advisory_xact_lock(IMPORT_LOCK_ID)))
    finally:
        engine.dispose()


def test_the_write_lock_is_free_while_a_file_is_read_and_held_while_it_is_written(
        client, admin, app, monkeypatch):
    from servicemap import registry

    while_reading, while_writing = [], []
    real_convert, real_insert = readers.row_to_facility, registry.bulk_insert

    def convert(cells, *args):
        while_reading.append(_write_lock_free(app))
        return real_convert(cells, *args)

    def insert(*args, **kwargs):
        while_writing.append(_write_lock_free(app))
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(readers, "row_to_facility", convert)
    monkeypatch.setattr(registry, "bulk_insert", insert)  # the registry's batched write
    assert post(client, admin, CSV_ZH.encode(), "text/csv", "dry_run=true").status_code == 200
    assert while_reading == [True] * 3 and while_writing == []  # a dry run takes no lock
    while_reading.clear()
    assert post(client, admin, CSV_ZH.encode(), "text/csv").status_code == 200
    assert while_reading == [True] * 3 and while_writing == [False]
    assert total(client) == 3


# Item 6: concurrent imports ---------------------------------------------------------------

def _concurrently(app, admin, body: bytes, n: int = 3) -> list:
    start = threading.Barrier(n)
    answers = []

    def run():
        own = app.test_client()
        start.wait()
        response = post(own, admin, body, "text/csv")
        answers.append((response.status_code, response.json))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("with_external_id", [False, True])
def test_concurrent_imports_of_one_file_queue_and_create_each_row_once(
        client, admin, app, with_external_id):
    rows = _many_rows(150)
    if with_external_id:
        rows = [["external_id", *rows[0]]] + [[f"X-{i}", *row] for i, row in enumerate(rows[1:])]
    body = "".join(",".join(r) + "\n" for r in rows).encode()
    answers = _concurrently(app, admin, body)
    assert [status for status, _ in answers] == [200] * 3, answers
    created = sorted(report["created"] for _, report in answers)
    assert created == [0, 0, 150]
    assert sorted(report["unchanged"] for _, report in answers) == [0, 150, 150]
    assert total(client) == 150


def test_an_integrity_error_during_an_import_is_409_problem(client, admin, monkeypatch):
    from servicemap import importing

    assert post(client, admin, CSV_ZH.encode(), "text/csv").status_code == 200
    # As if a writer had slipped in between: the import sees none of the stored keys.
    monkeypatch.setattr(importing, "_existing_keys", lambda: ({}, {}))
    assert_problem(post(client, admin, CSV_ZH.encode(), "text/csv"), 409)
    assert total(client) == 3


# Item 7: files that used to answer 500 --------------------------------------------------

def test_a_csv_cell_over_the_field_limit_is_422_naming_line_and_column(client, admin):
    body = HEADER_ZH + ROWS_ZH[0] + ROWS_ZH[1].replace("北碚区朝阳街道养老服务站", "长" * 131_073)
    problem = assert_problem(post(client, admin, body.encode(), "text/csv"), 422,
                             "line 3: 名称")
    assert "131072" in problem["errors"]["line 3: 名称"][0]
    assert total(client) == 0


def test_a_geojson_feature_whose_geometry_is_not_an_object_is_422_naming_it(client, admin):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.45, 29.54]},
         "properties": {"name": "助浴点", "kind": "bathing_service", "address": "重庆市沙坪坝区"}},
        {"type": "Feature", "geometry": [1, 2],
         "properties": {"name": "助餐点", "kind": "meal_point", "address": "重庆市沙坪坝区"}}]}
    response = post(client, admin, json.dumps(collection).encode(), "application/geo+json")
    problem = assert_problem(response, 422, "line 2: geometry")
    assert problem["report"]["invalid"][0]["line"] == 2
    assert total(client) == 0


def test_an_import_file_nested_too_deeply_is_400(client, admin):
    assert_problem(post(client, admin, b"[" * 50_000, "application/json"), 400)


@pytest.mark.parametrize("hours", ["² 08:00-17:00", "1 ٠٨:٠٠-17:00", "1-5,٣ 08:00-17:00"])
def test_opening_hours_with_non_ascii_digits_are_422_naming_the_cell(client, admin, hours):
    body = HEADER_ZH + ROWS_ZH[0].replace("1-5 10:30-13:00; 1-5 16:30-18:30", hours)
    assert_problem(post(client, admin, body.encode(), "text/csv"), 422, "line 2: 开放时间")


def test_an_xlsx_date_outside_1900_to_2100_is_refused_naming_the_cell(client, admin):
    from datetime import date

    book = _many_rows(2)
    book[0].append("fees")
    book[1].append(date(2026, 2, 15))
    book[2].append(date(2101, 1, 1))
    report = post(client, admin, xlsx(book), XLSX, "dry_run=true").json
    assert report["invalid"] == [{"line": 3, "column": "fees", "reason": (
        "Must be between 1900-01-01 and 2100-12-31. 日期须在 1900-01-01 至 2100-12-31 之间。")}]
    assert report["created"] == 1


# Item 10: one encoding per file ---------------------------------------------------------

def test_a_utf8_csv_with_one_gbk_row_is_refused_naming_that_line(client, admin):
    body = (HEADER_ZH + ROWS_ZH[0]).encode() + ROWS_ZH[1].encode("gbk") + ROWS_ZH[2].encode()
    problem = assert_problem(post(client, admin, body, "text/csv", "dry_run=true"), 422,
                             "line 3")
    assert "UTF-8" in problem["detail"]
    assert_problem(post(client, admin, b"\xef\xbb\xbf" + body, "text/csv"), 422, "line 3")
    assert total(client) == 0


def test_a_gbk_csv_with_one_utf8_row_is_refused_naming_a_line(client, admin):
    header = "external_id,name,kind,services,ownership,inclusive,address,district_code,street," \
             "lat,lon,phone,opening_hours,capacity,vacancies\n"
    body = header.encode() + ROWS_ZH[0].encode("gbk") + ROWS_ZH[1].encode()
    assert_problem(post(client, admin, body, "text/csv"), 422, "line 2")
    assert post(client, admin, header.encode() + ROWS_ZH[0].encode("gbk"),
                "text/csv").json["created"] == 1


def test_a_file_valid_in_no_accepted_encoding_names_its_first_bad_line(client, admin):
    body = HEADER_ZH.encode("gbk") + ROWS_ZH[0].encode("gbk") + b"\x80\xff,\n"
    problem = assert_problem(post(client, admin, body, "text/csv"), 422, "line 3")
    assert "GB18030" in problem["detail"]


def test_utf8_rows_beside_a_gbk_row_are_never_stored_as_mojibake(client, admin):
    # GB18030 decodes these UTF-8 bytes without error, as 鑰佸勾椋熷爞: judged by the file.
    body = ("name,kind,address,district_code,lat,lon\n"
            "老年食堂,meal_point,重庆市北碚区,500109,29.8,106.4\n").encode() + (
            "助餐点甲,meal_point,重庆市北碚区,500109,29.8,106.4\n").encode("gbk")
    assert_problem(post(client, admin, body, "text/csv"), 422, "line 3")
    assert total(client) == 0


def test_an_hsds_service_of_the_wrong_shape_is_422_naming_it(client, admin):
    good = {"id": "ac148810-d857-441c-9679-408f346de14b", "name": "渝中区大坪街道老年食堂",
            "service_at_locations": [{"location": {"latitude": 29.54, "longitude": 106.51}}]}
    bad = {**good, "id": "ac148810-d857-441c-9679-408f346de14c", "name": "大坪助餐点",
           "attributes": [1], "service_at_locations": "nowhere"}
    response = post(client, admin, json.dumps([good, bad]).encode(), "application/json")
    assert_problem(response, 422, "line 2: service")
    assert total(client) == 0

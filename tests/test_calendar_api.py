"""China's calendar in the API: holiday_rule and closures written and shown, open_now and
next_change in every facility answer, and /nearest's open_at and open_now on the same rule."""

from __future__ import annotations

import pytest

from .conftest import NEAREST, ORIGIN, assert_problem, create, meal_point, north_of, post

WEEKDAYS = [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}]
ALWAYS = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}]
SPRING = {"from": "2026-02-15", "to": "2026-02-23", "reason": "春节休息"}


def facility(client, admin, name: str, metres: float = 100, **fields) -> dict:
    body = {"opening_hours": WEEKDAYS, **fields}
    return create(client, admin, name=name, location=north_of(metres), **body)


def nearest(client, query: str = "", **headers):
    response = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}&{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response


def test_holiday_rule_defaults_by_kind_and_hours_and_is_kept_as_given(client, admin):
    assert facility(client, admin, "食堂")["holiday_rule"] == "closed"
    assert facility(client, admin, "幼儿园", kind="kindergarten")["holiday_rule"] == "closed"
    assert facility(client, admin, "托育", kind="nursery")["holiday_rule"] == "closed"
    assert facility(client, admin, "敬老院", kind="care_home")["holiday_rule"] == "open"
    assert facility(client, admin, "24小时", opening_hours=ALWAYS)["holiday_rule"] == "open"
    given = facility(client, admin, "按周", holiday_rule="weekly", closures=[SPRING])
    assert given["holiday_rule"] == "weekly" and given["closures"] == [SPRING]
    shown = client.get(f"/api/v1/facilities/{given['id']}").json
    assert shown["holiday_rule"] == "weekly" and shown["closures"] == [SPRING]
    # null puts the default back; an empty list lifts every closure.
    url = f"/api/v1/facilities/{given['id']}"
    patched = client.patch(url, json={"holiday_rule": None, "closures": []}, headers=admin).json
    assert patched["holiday_rule"] == "closed" and patched["closures"] == []
    one_day = client.patch(url, json={"closures": [{"from": "2026-03-02", "to": "2026-03-02"}]},
                           headers=admin).json
    assert one_day["closures"] == [{"from": "2026-03-02", "to": "2026-03-02", "reason": None}]


@pytest.mark.parametrize("closures, field", [
    ([{"from": "2026-02-23", "to": "2026-02-15"}], "closures[0].to"),
    ([SPRING, {"from": "2026-03-01"}], "closures[1].to"),
    ([{"from": "1899-12-31", "to": "2026-02-15"}], "closures[0].from"),
    ([{"from": "2026-02-15", "to": "2101-01-01"}], "closures[0].to"),
    ([{"from": "2026-02-30", "to": "2026-03-01"}], "closures[0].from"),
    ([{**SPRING, "reason": "休" * 201}], "closures[0].reason"),
    ([{**SPRING, "until": "2026-02-20"}], "closures[0].until"),
    ([SPRING] * 51, "closures"),
    ("2026-02-15/2026-02-23", "closures"),
])
def test_bad_closures_are_refused_naming_the_field(client, admin, closures, field):
    response = client.post("/api/v1/facilities", json=meal_point(closures=closures),
                           headers=admin)
    assert_problem(response, 422, field)
    assert client.get("/api/v1/facilities").json["total"] == 0


def test_a_bad_holiday_rule_is_refused(client, admin):
    assert_problem(client.post("/api/v1/facilities", json=meal_point(holiday_rule="holiday"),
                               headers=admin), 422, "holiday_rule")


def test_answers_carry_open_now_and_next_change_on_national_day(client, admin, clock):
    canteen = facility(client, admin, "食堂")
    home = facility(client, admin, "敬老院", 200, kind="care_home")
    clock("2026-10-01T10:00")  # National Day, a Thursday
    got = client.get(f"/api/v1/facilities/{canteen['id']}").json
    assert (got["open_now"], got["next_change"], got["holiday_data"]) == (
        False, "2026-10-08T08:00:00+08:00", "available")
    items = {i["name"]: i for i in client.get("/api/v1/facilities").json["items"]}
    assert items["食堂"]["open_now"] is False
    assert (items["敬老院"]["open_now"], items["敬老院"]["next_change"]) == (
        True, "2026-10-01T17:30:00+08:00")
    near = {i["name"]: i for i in nearest(client).json["items"]}
    assert near["食堂"]["open_now"] is False and near["敬老院"]["open_now"] is True
    geo = nearest(client, Accept="application/geo+json").json
    props = {f["properties"]["name"]: f["properties"] for f in geo["features"]}
    assert props["食堂"]["next_change"] == "2026-10-08T08:00:00+08:00"
    assert props["敬老院"]["open_now"] is True
    clock("2026-10-10T09:00")  # the make-up Saturday
    assert client.get(f"/api/v1/facilities/{canteen['id']}").json["open_now"] is True
    assert client.get(f"/api/v1/facilities/{home['id']}").json["open_now"] is True


@pytest.mark.parametrize("moment, expected", [
    ("2026-10-01T10:00", ["敬老院", "按周"]),      # National Day (Thursday)
    ("2026-10-10T10:00", ["食堂", "敬老院"]),      # its make-up Saturday
    ("2026-01-04T10:00", ["食堂", "敬老院"]),      # New Year's make-up Sunday
    ("2026-02-14T10:00", ["食堂", "敬老院"]),      # Spring Festival's make-up Saturdays
    ("2026-02-28T10:00", ["食堂", "敬老院"]),
    ("2026-02-16T10:00", ["按周"]),                # Spring Festival; the home's closure
    ("2026-09-20T10:00", ["食堂", "敬老院"]),      # Mid-autumn's make-up Sunday
    ("2026-09-25T10:00", ["敬老院", "按周"]),      # Mid-autumn (Friday)
    ("2026-09-24T10:00", ["食堂", "敬老院", "按周"]),
    ("2026-10-01T02:00+00:00", ["敬老院", "按周"]),  # 10:00 in Shanghai, as an aware moment
])
def test_nearest_open_at_follows_the_calendar(client, admin, moment, expected):
    facility(client, admin, "食堂", 100)
    facility(client, admin, "敬老院", 200, kind="care_home", closures=[SPRING])
    facility(client, admin, "按周", 300, holiday_rule="weekly")
    response = nearest(client, f"open_at={moment.replace('+', '%2B')}")
    assert [i["name"] for i in response.json["items"]] == expected
    assert response.json["holiday_data"] == "available"


FRIDAY_NIGHTS = [{"days": [5], "opens": "20:00", "closes": "02:00"}]


@pytest.mark.parametrize("moment, expected", [
    ("2026-10-11T01:00", ["夜班"]),   # the make-up Saturday works Friday's night into Sunday
    ("2026-10-03T01:00", ["按周"]),   # a holiday Saturday: only the weekly rule kept Friday's
    ("2026-10-02T21:00", ["按周"]),   # a holiday Friday night: the closed rule opens no shift
    ("2026-10-09T21:00", ["夜班", "按周"]),
])
def test_nearest_open_at_finds_night_shifts_spilling_past_a_calendar_day(
        client, admin, moment, expected):
    # SQL picks candidates by the weekday whose hours apply today or spill from yesterday:
    # on and after a make-up day that is not the calendar's weekday.
    facility(client, admin, "夜班", 100, opening_hours=FRIDAY_NIGHTS)
    facility(client, admin, "按周", 200, opening_hours=FRIDAY_NIGHTS, holiday_rule="weekly")
    assert [i["name"] for i in nearest(client, f"open_at={moment}").json["items"]] == expected


def test_nearest_open_now_uses_the_same_rule(client, admin, clock):
    facility(client, admin, "食堂", 100)
    facility(client, admin, "停业", 200, closures=[{"from": "2026-10-09", "to": "2026-10-12"}])
    clock("2026-10-01T10:00")
    assert nearest(client, "open_now=true").json["items"] == []
    clock("2026-10-10T10:00")
    assert [i["name"] for i in nearest(client, "open_now=true").json["items"]] == ["食堂"]
    clock("2026-10-13T10:00")
    body = nearest(client, "open_now=true").json
    assert [i["name"] for i in body["items"]] == ["食堂", "停业"]
    assert all(i["open_now"] for i in body["items"])


def test_a_year_beyond_the_data_falls_back_to_weekly_hours_and_says_so(client, admin, clock):
    facility(client, admin, "食堂")
    response = nearest(client, "open_at=2030-10-01T10:00")  # a Tuesday nobody has published
    assert [i["name"] for i in response.json["items"]] == ["食堂"]
    assert response.json["holiday_data"] == "unavailable"
    geo = nearest(client, "open_at=2030-10-01T10:00", Accept="application/geo+json").json
    assert geo["holiday_data"] == "unavailable" and len(geo["features"]) == 1
    clock("2030-10-01T10:00")
    item = client.get("/api/v1/facilities").json["items"][0]
    assert (item["open_now"], item["holiday_data"]) == (True, "unavailable")
    assert "holiday_data" not in nearest(client).json  # no moment asked about


def test_spreadsheet_columns_import_export_and_report_bad_cells(client, admin):
    header = "外部编号,名称,类型,地址,纬度,经度,开放时间,节假日,停业\n"
    rows = ("A-1,老年食堂,助餐点,重庆市北碚区天生路1号,29.8257,106.4370,1-5 10:30-13:00,照常,"
            "2026-02-15/2026-02-23 春节休息; 2026-03-02 盘点\n"
            "A-2,幼儿园,幼儿园,重庆市北碚区天生路2号,29.8260,106.4370,1-5 07:30-17:30,,\n")
    report = post(client, admin, (header + rows).encode(), "text/csv").json
    assert report["created"] == 2, report
    items = {i["external_id"]: i for i in client.get("/api/v1/facilities").json["items"]}
    assert items["A-1"]["holiday_rule"] == "open"
    assert items["A-1"]["closures"] == [SPRING, {"from": "2026-03-02", "to": "2026-03-02",
                                                 "reason": "盘点"}]
    assert items["A-2"]["holiday_rule"] == "closed" and items["A-2"]["closures"] == []
    exported = client.get("/api/v1/exports/facilities.csv").get_data(as_text=True)
    assert "holiday_rule,closures" in exported.splitlines()[0]
    assert "open,2026-02-15/2026-02-23 春节休息; 2026-03-02/2026-03-02 盘点" in exported
    again = post(client, admin, exported.encode(), "text/csv").json
    assert (again["unchanged"], again["invalid"]) == (2, [])
    geojson = client.get("/api/v1/exports/facilities.geojson").json["features"]
    assert {f["properties"]["holiday_rule"] for f in geojson} == {"open", "closed"}
    assert "open_now" not in geojson[0]["properties"]  # the registry, not an answer
    bad = (header + "B-1,食堂,助餐点,重庆市北碚区1号,29.8,106.4,1-5 10:30-13:00,休息,"
           "2026-02-23/2026-02-15 春节\n"
           "B-2,食堂2,助餐点,重庆市北碚区2号,29.8,106.4,1-5 10:30-13:00,放假,\n"
           "B-3,食堂3,助餐点,重庆市北碚区3号,29.8,106.4,1-5 10:30-13:00,按周,春节\n")
    dry = post(client, admin, bad.encode(), "text/csv", "dry_run=true").json
    assert {(p["line"], p["column"]) for p in dry["invalid"]} == {
        (2, "停业"), (3, "节假日"), (4, "停业")}


def test_hsds_schedules_carry_the_holiday_rule_and_closures(client, admin):
    created = facility(client, admin, "食堂", closures=[SPRING])
    service = client.get(f"/api/v1/hsds/services/{created['id']}").json
    notes = service["schedules"][0]["notes"]
    assert "法定节假日休息" in notes and "停业 2026-02-15 至 2026-02-23：春节休息" in notes


def test_a_cached_answer_is_not_revalidated_once_open_now_has_changed(client, admin, clock):
    url = f"/api/v1/facilities/{facility(client, admin, '食堂')['id']}"
    clock("2026-10-09T17:00")
    before = client.get(url)
    assert before.json["open_now"] is True
    assert client.get(url, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    clock("2026-10-09T18:00")  # closed now: the cached body would say open
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.json["open_now"] is False
    # The facility itself did not change: the earlier tag still guards a write.
    patched = client.patch(url, json={"vacancies": 1},
                           headers={**admin, "If-Match": before.headers["ETag"]})
    assert patched.status_code == 200, patched.json
    assert_problem(client.patch(url, json={"vacancies": 2},
                                headers={**admin, "If-Match": before.headers["ETag"]}), 412)

"""Opening hours as half-hour masks that SQL filters on: exact where it matters, and current
after every kind of write, on both backends."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from servicemap.database import alembic_config, make_engine, upgrade
from servicemap.extensions import db
from servicemap.geo.spatial import NearestQuery
from servicemap.hours import is_open
from servicemap.models import Facility
from servicemap.registry import bulk_insert
from servicemap.weekly_slots import (
    COLUMNS,
    Slot,
    block_number,
    open_blocks_sql,
    slot_of,
    week_masks,
)

from .test_nearest import names, place

MONDAY = datetime(2026, 11, 23)


def bits(*slots: int) -> int:
    return sum(1 << slot for slot in slots)


def masks_by_day(hours: list[dict]) -> list[int]:
    return list(week_masks(hours).values())


def test_weekday_hours_set_the_half_hours_they_touch():
    got = masks_by_day([{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}])
    assert got == [bits(*range(16, 35))] * 5 + [0, 0]


def test_hours_past_midnight_spill_into_the_next_day_and_sunday_into_monday():
    got = masks_by_day([{"days": [5, 7], "opens": "20:00", "closes": "02:00"}])
    evening, small_hours = bits(*range(40, 48)), bits(0, 1, 2, 3)
    assert got == [small_hours, 0, 0, 0, evening, small_hours, evening]


@pytest.mark.parametrize("opens, closes, monday, tuesday", [
    ("00:00", "24:00", bits(*range(48)), 0),      # all day, nothing spills
    ("22:00", "24:00", bits(44, 45, 46, 47), 0),
    ("22:00", "00:00", bits(44, 45, 46, 47), 0),  # closes at midnight: nothing on Tuesday
    ("23:30", "00:30", bits(47), bits(0)),
    ("08:15", "08:45", bits(16, 17), 0),          # inside two slots: both set (superset)
    ("08:00", "08:01", bits(16), 0),
    ("12:00", "12:00", bits(*range(24, 48)), bits(*range(24))),  # is_open: 24 hours
])
def test_edges_of_the_day(opens, closes, monday, tuesday):
    got = masks_by_day([{"days": [1], "opens": opens, "closes": closes}])
    assert got[:2] == [monday, tuesday] and got[2:] == [0] * 5


times = st.integers(0, 24 * 60).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
intervals = st.lists(st.fixed_dictionaries({
    "days": st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True),
    "opens": times, "closes": times}), max_size=4)
moments = st.integers(0, 7 * 24 * 60 - 1).map(lambda m: MONDAY + timedelta(minutes=m))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(intervals, moments)
def test_the_slot_is_set_whenever_the_facility_is_open(hours, moment):
    """A superset: SQL never drops an open facility; and exact on half-hour boundaries."""
    slot = slot_of(moment)
    set_in_sql = bool(week_masks(hours)[COLUMNS[slot.day - 1]] >> slot.index & 1)
    if is_open(hours, moment):
        assert set_in_sql
    on_the_half_hour = all(_minute(i["opens"]) % 30 == 0 and _minute(i["closes"]) % 30 == 0
                           for i in hours)
    if on_the_half_hour:
        assert set_in_sql == is_open(hours, moment)


def _minute(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def test_the_slot_of_a_moment_is_in_shanghai_time():
    assert slot_of(datetime(2026, 11, 23, 10, 29)) == Slot(1, 20)
    assert slot_of(datetime.fromisoformat("2026-11-29T18:30:00+00:00")) == Slot(1, 5)


def stored_masks(app) -> dict[str, tuple[list, list[int]]]:
    """name -> (opening_hours, stored masks) of every facility."""
    with app.app_context():
        rows = db.session.execute(select(
            Facility.name, Facility.opening_hours,
            *(getattr(Facility, column) for column in COLUMNS))).all()
    return {row[0]: (row[1], list(row[2:])) for row in rows}


def assert_all_current(app) -> None:
    stored = stored_masks(app)
    assert stored
    for name, (hours, masks) in stored.items():
        assert masks == masks_by_day(hours), name


NIGHTS = [{"days": [1], "opens": "20:00", "closes": "02:00"}]
DAYS = [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}]


def test_api_create_and_patch_keep_the_masks_current(client, admin, app):
    facility_id = place(client, admin, "夜间", 100, opening_hours=NIGHTS)
    place(client, admin, "白天", 200, opening_hours=DAYS)
    assert names(client, "open_at=2026-11-24T01:00") == ["夜间"]  # Monday's night
    assert_all_current(app)

    url = f"/api/v1/facilities/{facility_id}"
    response = client.patch(url, json={"opening_hours": DAYS}, headers=admin)
    assert response.status_code == 200, response.json
    assert names(client, "open_at=2026-11-24T01:00") == []
    assert names(client, "open_at=2026-11-24T10:00") == ["夜间", "白天"]
    client.patch(url, json={"name": "改名"}, headers=admin)  # other fields leave them be
    response = client.patch(url, json={"opening_hours": []}, headers=admin)
    assert response.status_code == 200, response.json
    assert names(client, "open_at=2026-11-24T10:00") == ["白天"]
    assert_all_current(app)


CSV = ("外部编号,名称,类型,服务,地址,区县代码,纬度,经度,开放时间\n"
       "N-1,通宵驿站,社区养老服务站,日间照料,重庆市北碚区,500109,29.8267,106.4370,{}\n"
       "N-2,白天食堂,助餐点,助餐,重庆市北碚区,500109,29.8277,106.4370,1-5 08:00-17:30\n")


def test_imports_keep_the_masks_current_for_new_and_updated_rows(client, admin, app):
    def imported(first_hours: str) -> None:
        response = client.post("/api/v1/imports", data=CSV.format(first_hours).encode(),
                               content_type="text/csv", headers=admin)
        assert response.status_code == 200, response.json

    imported("1 20:00-02:00")
    assert names(client, "open_at=2026-11-24T01:00") == ["通宵驿站"]
    assert_all_current(app)
    imported("6-7 09:00-11:00")  # the same rows, updated
    assert names(client, "open_at=2026-11-24T01:00") == []
    assert names(client, "open_at=2026-11-28T10:00") == ["通宵驿站"]  # Saturday
    assert_all_current(app)


def test_seeding_keeps_the_masks_current(runner, app):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    stored = stored_masks(app)
    assert any(any(masks) for _hours, masks in stored.values())
    assert_all_current(app)


def test_bulk_insert_and_plain_inserts_compute_the_masks(database_url):
    engine = make_engine(database_url)
    given = {"days": [7], "opens": "23:00", "closes": "01:00"}
    try:
        with engine.begin() as connection:
            bulk_insert(connection, [{
                "name": "批量", "kind": "meal_point", "lat": 29.8, "lon": 106.4,
                "opening_hours": [given], "services": [],
                "open_slots_1": 0}])  # a stale value given is not taken
            connection.execute(Facility.__table__.insert().values(
                id=uuid.uuid4(), name="单条", kind="meal_point", status="active",
                opening_hours=[given], inclusive=False, version=1,
                created_at=MONDAY, updated_at=MONDAY))
        with engine.connect() as connection:
            rows = connection.execute(select(
                *(getattr(Facility, column) for column in COLUMNS))).all()
    finally:
        engine.dispose()
    expected = [bits(0, 1)] + [0] * 5 + [bits(46, 47)]
    assert [list(row) for row in rows] == [expected, expected]


def test_migration_0005_backfills_existing_rows(database_url):
    engine = make_engine(database_url)
    hours = json.dumps([{"days": [2], "opens": "07:30", "closes": "09:00"}])
    try:
        command.downgrade(alembic_config(engine), "0004")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO facility (id, name, kind, inclusive, status, opening_hours, "
                "created_at, updated_at, version) VALUES (:id, '旧行', 'meal_point', false, "
                "'active', :hours, :at, :at, 1)"),
                {"id": uuid.uuid4().hex if engine.dialect.name == "sqlite" else uuid.uuid4(),
                 "hours": hours, "at": MONDAY})
    finally:
        upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(select(
            *(getattr(Facility, column) for column in COLUMNS))).one()
    engine.dispose()
    assert list(row) == [0, bits(15, 16, 17), 0, 0, 0, 0, 0]


def test_the_masks_stay_out_of_the_api(client, admin):
    place(client, admin, "白天", 100, opening_hours=DAYS)
    body = client.get("/api/v1/facilities").json["items"][0]
    assert body["opening_hours"] == DAYS
    assert not set(COLUMNS) & set(body)


def test_class_filters_follow_every_change_of_kind_inclusive_vacancies_and_status(
        client, admin):
    """The class index (SQLite: class R*Tree kept by triggers; PostGIS: class GiST) answers
    kind, inclusive and has_vacancy; each write that changes them must reach it."""
    first = place(client, admin, "食堂", 100, capacity=40, vacancies=0, inclusive=False)
    place(client, admin, "驿站", 200, kind="elder_care_station", services=["day_care"],
          capacity=20, vacancies=5, inclusive=True)
    assert names(client, "has_vacancy=true") == ["驿站"]
    assert names(client, "kind=meal_point&has_vacancy=true") == []

    url = f"/api/v1/facilities/{first}"
    assert client.patch(url, json={"vacancies": 3}, headers=admin).status_code == 200
    assert names(client, "kind=meal_point&has_vacancy=true") == ["食堂"]
    assert client.patch(url, json={"inclusive": True}, headers=admin).status_code == 200
    assert names(client, "inclusive=true&has_vacancy=true") == ["食堂", "驿站"]
    assert names(client, "inclusive=false") == []
    response = client.patch(url, json={"kind": "elder_care_station", "services": ["day_care"]},
                            headers=admin)
    assert response.status_code == 200, response.json
    assert names(client, "kind=meal_point") == []
    assert names(client, "service=meals") == []
    assert names(client, "kind=elder_care_station&kind=nursery&inclusive=true") == ["食堂", "驿站"]
    response = client.patch(url, json={"services": ["day_care", "bathing"]}, headers=admin)
    assert response.status_code == 200, response.json
    assert names(client, "service=bathing") == ["食堂"]
    assert names(client, "service=bathing&service=day_care") == ["食堂", "驿站"]
    assert client.patch(url, json={"status": "inactive"}, headers=admin).status_code == 200
    assert names(client, "kind=elder_care_station") == ["驿站"]
    assert client.patch(url, json={"status": "active"}, headers=admin).status_code == 200
    assert names(client, "kind=elder_care_station&has_vacancy=true") == ["食堂", "驿站"]
    assert client.delete(url, headers=admin).status_code == 204
    assert names(client, "kind=elder_care_station&has_vacancy=true") == ["驿站"]


class Explaining:
    """A driver cursor that EXPLAINs each search statement before running it."""

    def __init__(self, cursor):
        self.cursor, self.plans = cursor, []

    def execute(self, sql, params, **kwargs):
        self.cursor.execute("EXPLAIN (COSTS OFF) " + sql, params)
        self.plans.append("\n".join(row[0] for row in self.cursor.fetchall()))
        self.cursor.execute(sql, params, **kwargs)

    def fetchall(self):
        return self.cursor.fetchall()


def test_postgis_filters_are_conditions_of_the_class_index_in_distance_order(postgres_url):
    """The filters must be written as the index's own columns (integer casts, one kind per
    branch), or PostgreSQL cannot use it and reads every facility of the radius."""
    from servicemap.geo.spatial import postgis_nearest

    engine = make_engine(postgres_url)
    try:
        with engine.begin() as connection:
            bulk_insert(connection, [{
                "name": f"设施{i}", "kind": "meal_point", "lat": 29.8 + i / 1000, "lon": 106.4,
                "vacancies": i % 3, "inclusive": bool(i % 2), "services": ["meals"],
                "opening_hours": DAYS} for i in range(50)])
            cursor = connection.connection.dbapi_connection.cursor()
            # Tiny tables are cheaper to scan: rule that out, not the choice of index.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            explaining = Explaining(cursor)
            query = NearestQuery(29.8, 106.4, 50_000, 10, kinds=("meal_point", "nursery"),
                                 services=("meals",), inclusive=True, has_vacancy=True,
                                 open_at=MONDAY + timedelta(hours=10))
            hits = postgis_nearest(explaining, query)
    finally:
        engine.dispose()
    assert len(hits) == 10
    plan = explaining.plans[0]
    for kind in ("meal_point", "nursery"):
        branch = plan.split(f"(kind)::text = '{kind}'::text", 1)[0].rsplit("->", 1)[1]
        assert "Index Scan using ix_facility_class_geog" in branch, plan
    conditions = [line for line in plan.splitlines() if "Index Cond" in line and "kind" in line]
    assert len(conditions) == 2, plan
    for line in conditions:
        assert "(inclusive)::integer = 1" in line and "(vacancies > 0))::integer = 1" in line
        # The hours too (migration 0007): the index skips what is closed at the moment
        # instead of reading each facility's row to test its mask.
        assert "week_open_blocks(open_slots_1, " in line and "&& '{5}'::integer[]" in line
    assert plan.count("Order By: (geog <->") == 2, plan


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(intervals, min_size=1, max_size=5))
def test_postgres_open_blocks_are_those_the_masks_mark_open(postgres_url, week):
    """week_open_blocks (the class index's hours, migration 0007) must list exactly the
    two-hour blocks with a set bit in the masks, numbered as open_condition asks for them, or
    the index would drop open facilities."""
    expected = [sorted({block_number(Slot(day, index)) for day in range(1, 8)
                        for index in range(48)
                        if week_masks(hours)[COLUMNS[day - 1]] >> index & 1}) for hours in week]
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            got = [connection.execute(text(
                f"SELECT {open_blocks_sql(f':{c}' for c in COLUMNS)}"),
                week_masks(hours)).scalar_one() for hours in week]
    finally:
        engine.dispose()
    assert got == expected


def test_hours_inside_a_half_hour_are_exact_to_the_minute(client, admin):
    """The masks let through a facility whose hours start or end inside the half hour asked
    for; the exact check must drop it when it is closed at that minute."""
    place(client, admin, "早班", 100,
          opening_hours=[{"days": [1], "opens": "08:10", "closes": "12:50"}])
    place(client, admin, "夜宵", 200,
          opening_hours=[{"days": [3], "opens": "23:40", "closes": "00:20"}])
    monday, wednesday, thursday = "2026-11-23T", "2026-11-25T", "2026-11-26T"
    for moment, expected in [(monday + "08:05", []), (monday + "08:10", ["早班"]),
                             (monday + "12:49", ["早班"]), (monday + "12:50", []),
                             (wednesday + "23:39", []), (wednesday + "23:40", ["夜宵"]),
                             (thursday + "00:19", ["夜宵"]), (thursday + "00:20", [])]:
        assert names(client, f"open_at={moment}") == expected, moment
        assert names(client, f"open_at={moment}&kind=meal_point") == expected, moment

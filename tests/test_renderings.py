"""/nearest answers from stored renderings are byte for byte the reference rendering:
json.dumps of present_answer() plus distance_m for each hit, as the answer was built before."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select

from servicemap import hours
from servicemap import renderings as renderings_module
from servicemap.api import Blueprint
from servicemap.api.nearest import _delivering
from servicemap.extensions import db
from servicemap.geo.coordsys import from_wgs84, to_wgs84
from servicemap.geo.spatial import NearestQuery
from servicemap.holidays import current_calendar
from servicemap.models import Facility, FacilityRendering
from servicemap.registry import present_hits, rendered_text
from servicemap.renderings import EXTENSION, facility_state, from_text
from servicemap.schemas import NearestQuerySchema
from servicemap.store import nearest

from .conftest import CSV_ZH, NEAREST, ORIGIN, create, north_of, post

NIGHTS = [{"days": [5, 6], "opens": "20:00", "closes": "02:00"}]
ALWAYS = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}]
LUNCH = [{"days": [1, 2, 3, 4, 5], "opens": "10:30", "closes": "13:00"},
         {"days": [6, 7], "opens": "11:00", "closes": "12:30"}]
SPRING = [{"from": "2026-02-15", "to": "2026-02-23", "reason": "春节休息"}]
# Facilities unlike each other in every field an answer shows (None, Chinese, quotes,
# backslashes, hours past midnight, closures, holiday rules, mobile service areas).
VARIETY = [
    {"name": "北碚区天生街道老年食堂"},
    {"name": "朝阳 \"助餐\" 点\\", "name_en": None, "phone": None, "opening_hours": [],
     "capacity": None, "vacancies": None, "ownership": None, "street": None},
    {"name": "夜间照护", "kind": "care_home", "opening_hours": NIGHTS, "services": ["day_care"]},
    {"name": "全天", "kind": "care_home", "opening_hours": ALWAYS, "holiday_rule": "weekly"},
    {"name": "春节休息", "opening_hours": LUNCH, "closures": SPRING, "holiday_rule": "open"},
    {"name": "助浴车", "kind": "bathing_service", "services": ["bathing"],
     "service_radius_m": 8000, "opening_hours": [], "fees": "每次30元 ¥"},
    {"name": "托育", "kind": "nursery", "services": ["nursery_class"], "age_months_min": 6,
     "age_months_max": 36, "external_id": "NURSERY-1", "inclusive": False},
    {"name": "没有空位", "vacancies": 0, "address": "重庆市北碚区\n天生路"},
]
MOMENTS = ["2026-10-01T10:00", "2026-11-27T21:30", "2026-02-16T11:00", "2031-05-05T08:00"]
QUERIES = ["", "coordsys=gcj02", "coordsys=bd09", "radius_m=50000&limit=3", "open_now=true",
           "open_at=2026-10-08T12:00", "kind=care_home&kind=meal_point", "has_vacancy=true",
           "service=bathing", "inclusive=true&coordsys=gcj02", "program=elder_meal_priority",
           "radius_m=1"]


def varied(client, admin) -> list[str]:
    ids = []
    for index, fields in enumerate(VARIETY):
        ids.append(create(client, admin, location=north_of(150 * index + 40), **fields)["id"])
    # One without a point, found by no search; one given in BD-09 with street precision.
    create(client, admin, name="没有坐标", location=None)
    bd = from_wgs84(*north_of(2500).values(), "bd09")
    ids.append(create(client, admin, name="百度坐标", location={
        "lat": bd[0], "lon": bd[1], "coordsys": "bd09", "precision": "street"})["id"])
    return ids


def reference(app, query_string: str) -> bytes:
    """The answer as the view built it before renderings: present_hits, then json.dumps."""
    with app.test_request_context(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}&{query_string}"):
        args = Blueprint.ARGUMENTS_PARSER.parse(NearestQuerySchema(), location="query")
        lat, lon = to_wgs84(args["lat"], args["lon"], args["coordsys"])
        moment = hours.shanghai_now() if args["open_now"] else args.get("open_at")
        query = NearestQuery(lat, lon, args["radius_m"], args["limit"],
                             tuple(args.get("kind", ())), tuple(args.get("service", ())),
                             args.get("inclusive"), args["has_vacancy"], moment)
        if "program" in args:
            query = _delivering(query, args["program"])
        hits = nearest(db.session.connection(), query) if query else []
        body = {"origin": {"lat": args["lat"], "lon": args["lon"], "coordsys": args["coordsys"]},
                "items": present_hits(hits, args["coordsys"])}
        if moment is not None:
            known = current_calendar().knows(hours.local_time(moment).date())
            body["holiday_data"] = "available" if known else "unavailable"
        return app.json.dumps(body).encode()


def answer(client, query_string: str) -> bytes:
    response = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}&{query_string}")
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/json"
    return response.get_data()


def test_answers_are_the_reference_rendering_byte_for_byte(app, client, admin, clock):
    varied(client, admin)
    for moment in MOMENTS:
        clock(moment)
        for query_string in QUERIES:
            expected = reference(app, query_string)
            assert answer(client, query_string) == expected, (moment, query_string)
            # Again, now from the stored renderings.
            assert answer(client, query_string) == expected, (moment, query_string)
    assert len(app.extensions[EXTENSION]._items) == len(VARIETY) + 1


def test_a_write_is_answered_at_once_not_from_the_old_rendering(app, client, admin, clock):
    clock("2026-11-27T12:00")
    facility_id = varied(client, admin)[0]
    before = answer(client, "")
    changed = client.patch(f"/api/v1/facilities/{facility_id}", headers=admin, json={
        "name": "改名后的食堂", "services": ["meals"], "opening_hours": ALWAYS})
    assert changed.status_code == 200, changed.json
    after = answer(client, "")
    assert after != before and "改名后的食堂".encode() in after
    assert after == reference(app, "")
    assert client.delete(f"/api/v1/facilities/{facility_id}", headers=admin).status_code == 204
    assert answer(client, "") == reference(app, "")
    assert "改名后的食堂".encode() not in answer(client, "")


def test_no_renderings_kept_when_the_cache_size_is_zero(app, client, admin, clock):
    app.config["SERVICEMAP"].rendering_cache_size = 0
    clock("2026-10-08T12:00")
    varied(client, admin)
    for query_string in ("", "coordsys=bd09", "open_now=true"):
        assert answer(client, query_string) == reference(app, query_string)
    assert app.extensions[EXTENSION]._items == {}


def test_the_oldest_renderings_leave_first_past_the_cache_size(app, client, admin, clock):
    app.config["SERVICEMAP"].rendering_cache_size = 3
    clock("2026-10-08T12:00")
    varied(client, admin)
    for query_string in ("", "limit=3", "radius_m=50000"):
        assert answer(client, query_string) == reference(app, query_string)
    kept = app.extensions[EXTENSION]._items
    assert len(kept) == 3


def stored(app) -> dict:
    """Each facility's stored rendering of its current version (None if there is none), and
    the rendering of its row as it now stands."""
    with app.app_context():
        kept = {row.facility_id: row for row in db.session.scalars(select(FacilityRendering))}
        facilities = db.session.scalars(select(Facility)).all()
        return {facility.id: (kept[facility.id].rendering if facility.id in kept
                              and kept[facility.id].version == facility.version else None,
                              rendered_text(facility)) for facility in facilities}


def test_every_write_stores_the_rendering_of_what_it_now_holds(app, client, admin):
    ids = varied(client, admin)
    for facility_id, change in zip(ids, [
            {"services": ["meals"]},  # its own rows: the facility's must change with them
            {"vacancies": 7}, {"opening_hours": ALWAYS, "closures": SPRING},
            {"location": None}, {"district": "500103", "location": {"lat": 29.5572,
                                                                     "lon": 106.5773}}],
            strict=False):
        response = client.patch(f"/api/v1/facilities/{facility_id}", headers=admin, json=change)
        assert response.status_code == 200, response.json
    imported = post(client, admin, CSV_ZH.encode(), "text/csv")  # the bulk path
    assert imported.status_code in (200, 201), imported.json
    renderings = stored(app)
    assert len(renderings) == len(VARIETY) + 5
    for facility_id, (kept, now) in renderings.items():
        assert kept == now, facility_id
        assert from_text(kept, (1, 1)) is not None


def test_a_services_change_alone_moves_the_version(client, admin):
    facility = create(client, admin)
    url = f"/api/v1/facilities/{facility['id']}"
    before = client.get(url).headers["ETag"]
    assert client.patch(url, headers=admin, json={"services": ["meals"]}).status_code == 200
    assert client.get(url).headers["ETag"] != before


def test_a_missing_or_foreign_rendering_is_rendered_from_the_row(app, client, admin, clock):
    app.config["SERVICEMAP"].rendering_cache_size = 0
    clock("2026-10-08T12:00")
    ids = varied(client, admin)
    with app.app_context():  # as facilities written before migration 0012, or by other code
        table = FacilityRendering.__table__
        db.session.execute(table.delete().where(table.c.facility_id == uuid.UUID(ids[0])))
        db.session.execute(table.update().where(table.c.facility_id == uuid.UUID(ids[2]))
                           .values(rendering="other code" + table.c.rendering))
        db.session.execute(table.update().where(table.c.facility_id == uuid.UUID(ids[3]))
                           .values(version=table.c.version + 1))  # not the row's version
        db.session.commit()
    for query_string in ("", "coordsys=gcj02", "open_now=true"):
        assert answer(client, query_string) == reference(app, query_string)


def test_a_rendering_reads_back_what_it_was_made_of():
    facility = SimpleNamespace(
        id=uuid_of(1), external_id=None, name="夜间 \x1f \"照护\"", name_en=None,
        kind="care_home", ownership=None, inclusive=True, status="active", address="\n",
        street=None, phone=None, opening_hours=NIGHTS, capacity=None, vacancies=None,
        age_months_min=None, age_months_max=None, fees=None, service_radius_m=None,
        services=["day_care"], holiday_rule="open", closures=SPRING, district_code=None,
        lat=29.123456789012345, lon=106.5, location_precision="exact", location_source="x",
        updated_at=datetime.fromisoformat("2026-11-26T04:00:00+00:00"))
    rendering = from_text(rendered_text(facility), (3, 4))
    assert (rendering.lat, rendering.lon, rendering.stamp) == (29.123456789012345, 106.5, (3, 4))
    assert facility_state(rendering.timetable).opening_hours == NIGHTS
    assert facility_state(rendering.timetable).closures == SPRING
    assert '"name": "夜间 \\u001f \\"照护\\""' in rendering.head
    assert rendering.updated_at == ', "updated_at": "2026-11-26T12:00:00+08:00"'


def uuid_of(number: int) -> uuid.UUID:
    return uuid.UUID(int=number)


def test_parsed_timetables_are_shared_and_bounded(monkeypatch):
    monkeypatch.setattr(renderings_module, "_TIMETABLES", {})
    monkeypatch.setattr(renderings_module, "TIMETABLES_HELD", 2)
    weekly = ('"active"', '[{"days": [1], "opens": "08:00", "closes": "12:00"}]', '"weekly"', "[]")
    assert facility_state(weekly) is facility_state(weekly)  # read once, shared
    assert facility_state(weekly).opening_hours[0]["opens"] == "08:00"
    for rule in ('"open"', '"closed"', '"weekly"'):
        state = facility_state(('"active"', "[]", rule, "[]"))
        assert state.holiday_rule == rule.strip('"') and state.opening_hours == []
        assert len(renderings_module._TIMETABLES) <= 2


def test_a_deleted_facility_takes_its_rendering_along(app, client, admin):
    facility_id = create(client, admin)["id"]
    assert client.delete(f"/api/v1/facilities/{facility_id}", headers=admin).status_code == 204
    with app.app_context():
        assert db.session.scalars(select(FacilityRendering)).all() == []


def test_answers_read_stored_renderings_without_rendering_rows(app, client, admin, clock,
                                                                monkeypatch):
    app.config["SERVICEMAP"].rendering_cache_size = 0
    clock("2026-10-08T12:00")
    varied(client, admin)
    expected = {query_string: reference(app, query_string) for query_string in QUERIES}

    def refuse(*_args):
        raise AssertionError("a row was rendered although its rendering was stored")

    monkeypatch.setattr(renderings_module, "render", refuse)
    for query_string, body in expected.items():
        assert answer(client, query_string) == body, query_string

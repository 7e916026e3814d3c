"""Geocoding: the offline gazetteer, configured geopy geocoders, the cache, and pending drafts.

No test touches the network: `RecordedGeocoder` answers from recorded replies, and the offline
gazetteer needs none.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest
from geopy.distance import geodesic
from geopy.exc import GeocoderTimedOut, GeocoderUnavailable
from geopy.geocoders import BaiduV3, Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from sqlalchemy import func, select

from servicemap import create_app, store
from servicemap.config import Config
from servicemap.extensions import db
from servicemap.geo.coordsys import from_wgs84
from servicemap.geo.gazetteer import (
    Gazetteer,
    GazetteerError,
    GazetteerGeocoder,
    districts_at,
)
from servicemap.geo.geocoding import (
    address_query,
    build_geocoding,
    current_geocoding,
    use_geocoder,
)
from servicemap.locating import locate
from servicemap.models import Facility, GeocodeCache, GeocodePending

from .conftest import meal_point

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TIANSHENG = (29.820329, 106.421656)  # the gazetteer's point for 北碚区天生街道
BEIBEI = (29.807585, 106.391583)  # seeds/districts.csv's point for 北碚区
STREETS = {
    "500109": "三圣镇 东阳街道 北温泉街道 复兴街道 天府镇 天生街道 施家梁镇 朝阳街道 柳荫镇 "
              "歇马街道 水土街道 澄江镇 童家溪镇 蔡家岗街道 金刀峡镇 静观镇 龙凤桥街道",
    "500103": "七星岗街道 上清寺街道 两路口街道 化龙桥街道 南纪门街道 大坪街道 大溪沟街道 "
              "朝天门街道 石油路街道 菜园坝街道 解放碑街道",
    "500106": "中梁镇 丰文街道 井口街道 凤凰镇 双碑街道 回龙坝镇 土主镇 土湾街道 天星桥街道 "
              "小龙坎街道 山洞街道 新桥街道 曾家镇 歌乐山街道 沙坪坝街道 渝碚路街道 "
              "石井坡街道 磁器口街道 童家桥街道 联芳街道 虎溪街道 西永街道 覃家岗街道 "
              "陈家桥街道 青木关镇 香炉山街道 詹家溪街道",
}


class RecordedGeocoder(Geocoder):
    """Answers from recorded replies keyed by a fragment of the query, and counts its calls.

    A reply is (lat, lon) or (lat, lon, raw), None for no result, or an exception to raise.
    """

    def __init__(self, replies: dict, **kwargs):
        super().__init__(**kwargs)
        self.replies, self.calls = replies, []

    def geocode(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL):
        self.calls.append(query)
        reply = next((r for fragment, r in self.replies.items() if fragment in query), None)
        if isinstance(reply, Exception):
            raise reply
        if reply is None:
            return None
        lat, lon, raw = reply if len(reply) == 3 else (*reply, {})
        location = Location(query, (lat, lon), raw)
        return location if exactly_one else [location]


@pytest.fixture(scope="module")
def offline():
    return GazetteerGeocoder(Gazetteer.load([SEEDS / "gazetteer"]))


def unlocated(**overrides) -> dict:
    """A facility to POST without a location (and so to be geocoded)."""
    body = meal_point(**overrides)
    body.pop("location")
    return body


def post(client, headers, **overrides) -> dict:
    response = client.post("/api/v1/facilities", json=unlocated(**overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def nearest_names(client, lat: float, lon: float) -> list[str]:
    body = client.get(f"/api/v1/facilities/nearest?lat={lat}&lon={lon}&radius_m=20000").json
    return [item["name"] for item in body["items"]]


# The gazetteer and the offline geocoder, without a database.

def test_gazetteer_has_every_street_and_town_of_the_sample_districts(offline):
    with (SEEDS / "gazetteer" / "streets.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["district_code", "street", "place", "lat", "lon", "aliases"]
        rows = list(reader)
    for code, names in STREETS.items():
        listed = [row["street"] for row in rows if row["district_code"] == code]
        assert sorted(listed) == sorted(names.split()), code
    assert sum(len(streets) for streets in offline.gazetteer.streets.values()) == 55


def test_every_street_point_lies_in_its_own_district(offline):
    wrong = [f"{e.street} ({e.lat}, {e.lon}) in {districts_at(e.lat, e.lon)}"
             for streets in offline.gazetteer.streets.values() for e in streets
             if e.district_code not in districts_at(e.lat, e.lon)]
    assert wrong == []


@pytest.mark.parametrize("address, district, street, precision", [
    ("重庆市北碚区天生街道天生路100号", "500109", "天生街道", "street"),
    ("重庆北碚天生路100号", "500109", "天生街道", "street"),  # short names
    ("沙坪坝区小龙坎正街130号", "500106", "小龙坎街道", "street"),
    ("沙坪坝区曾家街道虎峰山村", "500106", "曾家镇", "street"),  # an alias
    ("重庆沙坪坝沙坪坝正街1号", "500106", "沙坪坝街道", "street"),  # district named first
    ("歇马街道歇马街31号", "500109", "歇马街道", "street"),  # a street found in one district
    ("重庆市北碚区云汉大道117号", "500109", None, "district"),
    ("500109 云汉大道117号", "500109", None, "district"),  # by code
    ("重庆市渝北区双龙大道1号", "500112", None, "district"),  # a district without streets
    ("石柱县城", "500240", None, "district"),
])
def test_offline_geocoder_answers_the_most_precise_match(offline, address, district, street,
                                                         precision):
    location = offline.geocode(address)
    assert (location.raw["district_code"], location.raw["street"],
            location.raw["precision"]) == (district, street, precision)
    if street:
        entry = next(e for e in offline.gazetteer.streets[district] if street in e.names)
        assert (location.latitude, location.longitude) == (entry.lat, entry.lon)


@pytest.mark.parametrize("address", ["天生路100号", "重庆市", "上海市黄浦区南京东路1号", ""])
def test_offline_geocoder_answers_none_when_it_cannot_place_the_address(offline, address):
    assert offline.geocode(address) is None


def test_offline_geocoder_answers_a_list_when_asked(offline):
    locations = offline.geocode("北碚区天生街道", exactly_one=False)
    assert [loc.address for loc in locations] == ["重庆市北碚区天生街道"]


def test_reverse_answers_the_district_and_the_nearest_street_within_3_km(offline):
    near_tiansheng = offline.reverse((TIANSHENG[0] + 0.002, TIANSHENG[1]))
    assert near_tiansheng.raw["district_code"] == "500109"
    assert near_tiansheng.raw["street"] == "天生街道"
    yubei = offline.reverse("29.72, 106.63")  # 渝北区: no streets known there
    assert (yubei.raw["district_code"], yubei.raw["street"]) == ("500112", None)
    assert yubei.raw["precision"] == "district"
    assert offline.reverse((51.5, -0.12)) is None  # London


def test_a_point_is_read_both_as_wgs84_and_shifted_to_gcj02():
    # Near the 合川/北碚 border: 合川区 as given, 北碚区 once shifted to GCJ-02 (~500 m).
    assert districts_at(29.927636, 106.494111) == ["500117", "500109"]
    assert districts_at(*BEIBEI) == ["500109"]
    assert districts_at(51.5, -0.12) == []


def test_administrators_extend_the_gazetteer_with_a_csv(tmp_path):
    lat, lon = from_wgs84(29.8260, 106.4285, "gcj02")  # copied from Amap, so GCJ-02
    (tmp_path / "places.csv").write_text(
        "district_code,street,place,lat,lon,coordsys,aliases\n"
        f"北碚区,天生街道,西南大学,{lat:.7f},{lon:.7f},gcj02,西南大学北碚校区\n"
        "500109,天生街道,,29.821,106.422,,\n", encoding="utf-8-sig")
    gazetteer = Gazetteer.load([SEEDS / "gazetteer", tmp_path])
    geocoder = GazetteerGeocoder(gazetteer)
    place = geocoder.geocode("重庆市北碚区天生路2号西南大学")
    assert place.raw["precision"] == "exact" and place.raw["match"] == "place"
    assert geodesic(place.point, (29.8260, 106.4285)).m < 0.05
    street = geocoder.geocode("重庆市北碚区天生路2号")
    assert (street.latitude, street.longitude) == (29.821, 106.422)  # the later row wins


@pytest.mark.parametrize("row, message", [
    ("500999,天生街道,,29.8,106.4,", "bad.csv:2: column district_code"),
    ("500109,,,29.8,106.4,", "bad.csv:2: column street"),
    ("500109,天生街道,,north,106.4,", "bad.csv:2: columns lat, lon"),
])
def test_a_bad_gazetteer_row_is_reported_with_file_line_and_column(tmp_path, row, message):
    (tmp_path / "bad.csv").write_text("district_code,street,place,lat,lon,aliases\n" + row + "\n",
                                      encoding="utf-8")
    with pytest.raises(GazetteerError, match=message):
        Gazetteer.load([tmp_path])


def test_unknown_gazetteer_columns_are_refused(tmp_path):
    (tmp_path / "bad.csv").write_text("district_code,street,lat,lon,height\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match="unknown columns"):
        Gazetteer.load([tmp_path])


# Configuration.

def test_any_geopy_geocoder_is_configured_by_name_options_and_delay():
    config = Config.from_env({
        "SERVICEMAP_GEOCODER": "nominatim",
        "SERVICEMAP_GEOCODER_OPTIONS": '{"user_agent": "servicemap-test", "timeout": 3}',
        "SERVICEMAP_GEOCODER_MIN_DELAY": "1.5",
    })
    geocoding = build_geocoding(config)
    assert isinstance(geocoding.geocoder, Nominatim) and geocoding.geocoder.timeout == 3
    assert (geocoding.name, geocoding.coordsys, geocoding.cached) == ("nominatim", "wgs84", True)
    assert geocoding._geocode.min_delay_seconds == 1.5
    baidu = build_geocoding(Config(geocoder="baiduv3", geocoder_options={"api_key": "k"}))
    assert isinstance(baidu.geocoder, BaiduV3) and baidu.coordsys == "bd09"
    offline = build_geocoding(Config())
    assert (offline.name, offline.coordsys, offline.cached) == ("offline", "wgs84", False)
    assert offline._geocode.min_delay_seconds == 0


def test_geocoder_options_must_be_a_json_object():
    with pytest.raises(ValueError, match="SERVICEMAP_GEOCODER_OPTIONS"):
        Config.from_env({"SERVICEMAP_GEOCODER_OPTIONS": "[1, 2]"})


# Through the API and the registry.

def test_post_without_location_is_geocoded_by_the_offline_gazetteer(client, admin):
    body = post(client, admin, street=None, address="重庆市北碚区天生路100号")
    assert body["location"]["precision"] == "street"
    assert body["location"]["source"] == "geocoder:offline"
    assert (body["location"]["lat"], body["location"]["lon"]) == TIANSHENG
    assert body["street"] == "天生街道" and body["status"] == "active"
    assert body["name"] in nearest_names(client, *TIANSHENG)


def test_an_address_without_a_known_street_gets_the_district_point(client, admin):
    body = post(client, admin, street=None, address="重庆市北碚区云汉大道117号")
    assert body["location"]["precision"] == "district"
    assert (body["location"]["lat"], body["location"]["lon"]) == BEIBEI
    assert body["street"] is None


def test_the_writers_street_helps_the_geocoder(client, admin):
    body = post(client, admin, street="蔡家岗街道", address="重庆市北碚区云汉大道117号")
    assert body["location"]["precision"] == "street"
    assert body["street"] == "蔡家岗街道"


def test_an_address_already_in_the_registry_gets_its_exact_location(client, admin):
    client.post("/api/v1/facilities", headers=admin, json=meal_point(
        address="重庆市北碚区天生路100号", location={"lat": 29.8257, "lon": 106.437}))
    body = post(client, admin, name="同一地址的助餐点", address="北碚区天生街道天生路100号")
    assert body["location"] == {"lat": 29.8257, "lon": 106.437, "coordsys": "wgs84",
                                "precision": "exact", "source": "geocoder:offline"}


def test_an_editor_may_leave_the_district_to_the_geocoder(client, make_key):
    editor = make_key("editor", ("500109",))
    body = unlocated(address="重庆市北碚区天生路100号")
    del body["district"]
    response = client.post("/api/v1/facilities", json=body, headers=editor)
    assert response.status_code == 201, response.json
    assert response.json["district"] == {"code": "500109", "name": "北碚区"}


def test_a_point_without_a_district_gets_its_district_and_street(client, admin):
    body = meal_point(location={"lat": TIANSHENG[0] + 0.001, "lon": TIANSHENG[1]}, street=None)
    del body["district"]
    response = client.post("/api/v1/facilities", json=body, headers=admin)
    assert response.status_code == 201, response.json
    assert response.json["district"] == {"code": "500109", "name": "北碚区"}
    assert response.json["street"] == "天生街道"
    assert response.json["location"]["source"] == "manual"


def test_a_failing_geocoder_keeps_the_facility_as_a_draft_until_geocode_pending(
        app, client, admin, runner):
    use_geocoder(app, RecordedGeocoder({"天生路": GeocoderTimedOut("no answer in 1 s")}), "amap")
    body = post(client, admin, street=None, address="重庆市北碚区天生路100号")
    assert (body["status"], body["location"]) == ("draft", None)
    assert body["name"] not in nearest_names(client, *TIANSHENG)
    with app.app_context():
        pending = db.session.get(GeocodePending, uuid.UUID(body["id"]))
        assert pending.requested_status == "active" and "GeocoderTimedOut" in pending.reason

    use_geocoder(app, RecordedGeocoder({"天生路": (29.8211, 106.4201, {"level": "门址"})}),
                 "amap")
    result = runner.invoke(args=["geocode", "--pending"])
    assert result.exit_code == 0, result.output
    assert "located 1, still pending 0" in result.output
    located = client.get(f"/api/v1/facilities/{body['id']}").json
    assert located["status"] == "active"
    assert located["location"] == {"lat": 29.8211, "lon": 106.4201, "coordsys": "wgs84",
                                   "precision": "exact", "source": "geocoder:amap"}
    assert body["name"] in nearest_names(client, *TIANSHENG)
    audit = client.get(f"/api/v1/audit?facility_id={body['id']}&action=update",
                       headers=admin).json["items"]
    assert [(e["key_id"], e["before"]["status"], e["after"]["status"]) for e in audit] == [
        ("cli", "draft", "active")]


def test_no_answer_or_an_answer_elsewhere_leaves_the_facility_pending(app, client, admin,
                                                                      runner):
    replies = {"天生路": None, "云汉大道": (29.5572, 106.5773)}  # the second lies in 渝中区
    use_geocoder(app, RecordedGeocoder(replies), "recorded")
    none = post(client, admin, status="temporarily_closed", address="重庆市北碚区天生路100号")
    elsewhere = post(client, admin, name="别处", address="重庆市北碚区云汉大道117号")
    assert none["status"] == elsewhere["status"] == "draft"
    with app.app_context():
        reasons = {p.requested_status: p.reason for p in db.session.scalars(
            select(GeocodePending))}
    assert "no location" in reasons["temporarily_closed"]
    assert "outside district 500109" in reasons["active"]
    result = runner.invoke(args=["geocode", "--pending"])
    assert "located 0, still pending 2" in result.output


def test_a_patch_of_a_pending_facility_keeps_the_newly_asked_status(app, client, admin):
    use_geocoder(app, RecordedGeocoder({"天生路": GeocoderUnavailable("down")}), "recorded")
    body = post(client, admin, address="重庆市北碚区天生路100号")
    url = f"/api/v1/facilities/{body['id']}"
    patched = client.patch(url, json={"status": "inactive"}, headers=admin).json
    assert patched["status"] == "draft"
    located = client.patch(url, json={"location": {"lat": 29.82, "lon": 106.42}},
                           headers=admin).json
    assert located["status"] == "inactive"  # the last status asked for, now it has a place
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GeocodePending)) == 0


def test_the_cache_answers_a_repeated_address_without_asking_again(app, client, admin):
    recorded = RecordedGeocoder({"天生路": (29.8211, 106.4201)})
    use_geocoder(app, recorded, "recorded")
    first = post(client, admin, address="重庆市北碚区天生路100号")
    second = post(client, admin, name="另一个", address=" 重庆市北碚区天生路１００号")
    assert len(recorded.calls) == 1
    assert second["location"] == first["location"]
    with app.app_context():
        row = db.session.scalars(select(GeocodeCache)).one()
    assert (row.service, row.query) == ("recorded", "重庆市北碚区天生街道天生路100号")
    assert (row.precision, row.district_code) == ("street", "500109")


def test_the_offline_geocoder_is_not_cached(app, client, admin):
    post(client, admin, address="重庆市北碚区天生路100号")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GeocodeCache)) == 0


def test_baidu_answers_are_converted_from_bd09(app, client, admin):
    wgs84 = (29.8257, 106.4370)
    bd09 = from_wgs84(*wgs84, "bd09")
    assert 900 < geodesic(wgs84, bd09).m < 1400  # what storing BD-09 as it is would cost
    use_geocoder(app, RecordedGeocoder({"天生路": (*bd09, {"precise": 1, "level": "门址"})}),
                 "baiduv3")
    body = post(client, admin, address="重庆市北碚区天生路100号")
    location = body["location"]
    assert geodesic(wgs84, (location["lat"], location["lon"])).m < 0.05
    assert (location["precision"], location["source"]) == ("exact", "geocoder:baiduv3")
    as_baidu = client.get(f"/api/v1/facilities/{body['id']}?coordsys=bd09").json["location"]
    assert geodesic(bd09, (as_baidu["lat"], as_baidu["lon"])).m < 0.05


def test_a_city_level_answer_is_no_answer(app, client, admin):
    use_geocoder(app, RecordedGeocoder({"天生路": (29.56, 106.55, {"level": "城市"})}), "baidu")
    assert post(client, admin, address="重庆市北碚区天生路100号")["status"] == "draft"


def test_a_new_address_moves_a_geocoded_location(client, admin):
    body = post(client, admin, street=None, address="重庆市北碚区天生路100号")
    url = f"/api/v1/facilities/{body['id']}"
    moved = client.patch(url, json={"address": "重庆市北碚区歇马街道歇马街31号", "street": None},
                         headers=admin).json
    assert moved["street"] == "歇马街道" and moved["location"]["precision"] == "street"
    assert moved["location"]["lat"] != body["location"]["lat"]
    unmoved = client.patch(url, json={"vacancies": 1}, headers=admin).json
    assert unmoved["location"] == moved["location"]


def test_a_location_set_to_null_is_not_geocoded(client, admin):
    body = meal_point(location=None)
    del body["district"]
    response = client.post("/api/v1/facilities", headers=admin, json=body)
    assert response.status_code == 201, response.json
    assert response.json["location"] is None and response.json["status"] == "active"


def test_geocode_needs_the_pending_flag(runner):
    result = runner.invoke(args=["geocode"])
    assert result.exit_code != 0 and "--pending" in result.output


# locate() itself, for what the HTTP schema does not let through.

def test_locate_finds_the_district_and_street_of_an_address_alone(app):
    with app.app_context():
        facility = Facility(name="助餐点", kind="meal_point", address="重庆北碚天生路100号")
        locate(facility)
        assert (facility.district_code, facility.street) == ("500109", "天生街道")
        assert facility.location_precision == "street"
        assert facility.location_source == "geocoder:offline"


def test_locate_leaves_an_unplaceable_address_pending_as_a_draft(app):
    with app.app_context():
        facility = Facility(name="助餐点", kind="meal_point", address="某路1号", status="active")
        locate(facility)
        assert (facility.status, facility.lat, facility.district_code) == ("draft", None, None)
        assert facility.geocode_pending.requested_status == "active"


def test_locate_fills_the_district_of_a_point_alone(app):
    with app.app_context():
        facility = Facility(name="助餐点", kind="meal_point", lat=29.5572, lon=106.5773)
        locate(facility)
        assert facility.district_code == "500103" and facility.street == "解放碑街道"


def test_the_query_spells_out_city_district_and_street(app):
    with app.app_context():
        gazetteer = current_geocoding().gazetteer.gazetteer
        facility = Facility(address="天生路 100 号", district_code="500109", street="天生街道")
        assert address_query(facility, gazetteer) == "重庆市北碚区天生街道天生路100号"
        facility = Facility(address="重庆市渝中区民族路1号", district_code="500109")
        assert address_query(facility, gazetteer) == "重庆市渝中区民族路1号"  # as written


def test_an_app_reads_extra_gazetteer_folders_from_its_config(database_url, tmp_path):
    (tmp_path / "mine.csv").write_text(
        "district_code,street,place,lat,lon\n500109,天生街道,缙云山,29.835,106.385\n",
        encoding="utf-8")
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, gazetteer_dirs=[str(tmp_path)]))
    with app.app_context():
        facility = Facility(name="助餐点", kind="meal_point", address="北碚区缙云山1号")
        locate(facility)
        assert (facility.lat, facility.location_precision) == (29.835, "exact")
    store.dispose(app)

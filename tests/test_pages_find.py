"""/ 找服务 rendered on the server: where am I by 区县/街道 or a typed address, and the
optional map (none at all unless tiles are configured), on both backends."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from geopy.exc import GeocoderUnavailable

from servicemap import create_app, store
from servicemap.auth import create_key
from servicemap.config import Config
from servicemap.geo.coordsys import from_wgs84, to_wgs84
from servicemap.geo.geocoding import use_geocoder

from .conftest import create
from .test_geocoding import RecordedGeocoder

NEAREST = "/api/v1/facilities/nearest"
TILES = "https://tiles.example.test/{z}/{x}/{y}.png"


def place_three(client, headers) -> None:
    """Two meal points and a care station around 北碚区 天生 and 朝阳 街道."""
    create(client, headers)
    create(client, headers, name="北碚区朝阳街道老年食堂", address="重庆市北碚区北京路58号",
           street="朝阳街道", location={"lat": 29.830742, "lon": 106.431923}, vacancies=0)
    create(client, headers, name="中山路社区养老服务站", kind="elder_care_station",
           services=["day_care"], address="重庆市北碚区中山路36号", street="朝阳街道",
           location={"lat": 29.826699, "lon": 106.435755},
           opening_hours=[{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}])


@pytest.fixture
def seeded(client, admin):
    place_three(client, admin)


def result_ids(html: str) -> list[str]:
    return re.findall(r'<li class="card" data-facility-id="([^"]+)"', html)


def understood(html: str) -> str | None:
    found = re.search(r"data-understood>(.*?)</p>", html, re.S)
    return unescape(found.group(1)).strip() if found else None


def nearest_ids(client, lat: float, lon: float, **filters) -> list[str]:
    answer = client.get(NEAREST, query_string={"lat": lat, "lon": lon, **filters})
    assert answer.status_code == 200
    return [item["id"] for item in answer.json["items"]]


def district(client, code: str) -> dict:
    items = client.get("/api/v1/districts").json["items"]
    return next(item for item in items if item["code"] == code)


def test_a_district_alone_searches_from_its_centre_and_offers_its_streets(client, seeded):
    response = client.get("/?district=500109&kind=meal_point")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert understood(html) == "按 北碚区 的位置查找"
    centre = district(client, "500109")["centre"]
    assert result_ids(html) == nearest_ids(client, centre["lat"], centre["lon"],
                                           kind="meal_point", radius_m=5000)
    assert result_ids(html)  # the second step: now choose a 街道
    streets = re.search(r'<select id="street" name="street">(.*?)</select>', html, re.S).group(1)
    assert "天生街道" in streets and "朝阳街道" in streets


def test_a_street_searches_from_the_street_s_centre(client, seeded):
    html = client.get("/?district=500109&street=天生街道").get_data(as_text=True)
    assert understood(html) == "按 北碚区天生街道 的位置查找"
    tiansheng = next(s for s in district(client, "500109")["streets"] if s["name"] == "天生街道")
    centre = tiansheng["centre"]
    assert result_ids(html) == nearest_ids(client, centre["lat"], centre["lon"], radius_m=5000)


def test_a_typed_address_is_geocoded_as_the_api_does_and_said_back(client, seeded):
    html = client.get("/?address=北碚区天生街道&open_now=true").get_data(as_text=True)
    assert understood(html) == "按 北碚区天生街道 的位置查找"
    location = client.get("/api/v1/geocode", query_string={"q": "北碚区天生街道"}).json[
        "location"]
    assert result_ids(html) == nearest_ids(client, location["lat"], location["lon"],
                                           open_now="true", radius_m=5000)


def test_an_address_in_the_registry_is_understood_exactly(client, seeded):
    html = client.get("/?address=重庆市北碚区天生街道天生路100号").get_data(as_text=True)
    assert understood(html) == "按 “重庆市北碚区天生街道天生路100号”（北碚区天生街道） 的位置查找"
    assert len(result_ids(html)) == 3


def test_a_typed_address_comes_before_the_lists_and_coordinates(client, seeded):
    html = client.get("/?address=北碚区天生街道&district=500103&lat=29.55&lon=106.57"
                      ).get_data(as_text=True)
    assert understood(html) == "按 北碚区天生街道 的位置查找"


def test_an_address_not_found_says_so_and_lists_nothing(client, seeded):
    response = client.get("/?address=火星基地一号")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert re.search(r'data-place-problem>没有找到“火星基地一号”。请写上区县和街道', html)
    assert result_ids(html) == [] and understood(html) is None
    assert 'value="火星基地一号"' in html  # kept, to be corrected


@pytest.mark.parametrize(("query", "field"), [
    ("district=999999", "district"), ("district=500109&street=无此街道", "street"),
    ("address=" + "长" * 201, "address"), ("address=%20%20", None)])
def test_a_bad_place_names_its_field_and_lists_nothing(client, query, field):
    response = client.get(f"/?{query}")
    html = response.get_data(as_text=True)
    if field is None:  # a blank address is no address: the empty form
        assert response.status_code == 200 and result_ids(html) == []
        return
    assert response.status_code == 422
    assert re.search(rf"<strong>{field}</strong>", html) and result_ids(html) == []


def test_lat_lon_links_keep_working_with_every_filter(client, seeded):
    query = ("lat=29.8257&lon=106.4370&coordsys=wgs84&kind=meal_point&open_now=true"
             "&has_vacancy=true&inclusive=true&radius_m=10000")
    html = client.get(f"/?{query}").get_data(as_text=True)
    assert understood(html) is None
    assert result_ids(html) == nearest_ids(
        client, 29.8257, 106.4370, kind="meal_point", open_now="true", has_vacancy="true",
        inclusive="true", radius_m=10000)
    assert 'name="lat" inputmode="decimal" value="29.8257"' in html


def test_without_tiles_there_is_no_map_markup_script_or_foreign_source(client, seeded):
    facility_id = result_ids(client.get("/?district=500109").get_data(as_text=True))[0]
    for url in ("/?district=500109", f"/facilities/{facility_id}"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert "leaflet" not in html and "map-markers" not in html and 'id="map"' not in html
        policy = response.headers["Content-Security-Policy"]
        assert "example.test" not in policy


@pytest.fixture
def mapped(database_url, tmp_path):
    """An app with a GCJ-02 tile map configured, and the sample registry."""
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, map_tiles=TILES, map_coordsys="gcj02",
                            map_attribution="© Example tiles"))
    with app.app_context():
        _key, secret = create_key("admin", [], "test admin")
    place_three(app.test_client(), {"Authorization": f"Bearer {secret}"})
    yield app
    store.dispose(app)


def markers(html: str) -> list[dict]:
    island = re.search(r'<script type="application/json" id="map-markers">(.*?)</script>',
                       html, re.S)
    return json.loads(island.group(1))


def test_with_tiles_the_markers_are_in_the_tiles_datum(mapped):
    client = mapped.test_client()
    response = client.get("/?district=500109&kind=meal_point")
    html = response.get_data(as_text=True)
    assert 'data-tiles="https://tiles.example.test/{z}/{x}/{y}.png"' in html
    assert "vendor/leaflet/leaflet.js" in html and "© Example tiles" in html
    assert "img-src 'self' https://tiles.example.test" in response.headers[
        "Content-Security-Policy"]
    shown = markers(html)
    assert [m["href"].rsplit("/", 1)[1] for m in shown] == result_ids(html)
    for marker in shown:
        facility = client.get(f"/api/v1/facilities/{marker['href'].rsplit('/', 1)[1]}").json
        wgs84 = (facility["location"]["lat"], facility["location"]["lon"])
        assert (marker["lat"], marker["lon"]) == pytest.approx(
            from_wgs84(*wgs84, "gcj02"), abs=1e-6)
        assert (marker["lat"], marker["lon"]) != pytest.approx(wgs84, abs=1e-3)
    one = shown[0]["href"]
    page = client.get(one).get_data(as_text=True)
    assert [(m["lat"], m["lon"]) for m in markers(page)] == [(shown[0]["lat"], shown[0]["lon"])]


def test_the_tile_host_is_the_only_foreign_image_source_even_with_a_subdomain(database_url,
                                                                               tmp_path):
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, map_coordsys="wgs84", map_attribution="x",
                            map_tiles="https://{s}.tile.example.test/{z}/{x}/{y}.png"))
    policy = app.test_client().get("/").headers["Content-Security-Policy"]
    store.dispose(app)
    assert "img-src 'self' https://*.tile.example.test data:" in policy


@pytest.mark.parametrize("settings", [{"map_tiles": "tiles.example.test/{z}/{x}/{y}.png"},
                                      {"map_coordsys": "mercator"}, {"map_coordsys": "bd09"}])
def test_bad_map_settings_stop_start_up(settings):
    with pytest.raises(ValueError, match=next(iter(settings))):
        Config(**settings)


def test_markers_survive_an_answer_in_another_datum(mapped):
    client = mapped.test_client()
    lat, lon = from_wgs84(29.8257, 106.4370, "bd09")
    html = client.get(f"/?lat={lat}&lon={lon}&coordsys=bd09").get_data(as_text=True)
    first = markers(html)[0]
    facility = client.get(f"/api/v1/facilities/{first['href'].rsplit('/', 1)[1]}").json
    expected = from_wgs84(facility["location"]["lat"], facility["location"]["lon"], "gcj02")
    assert (first["lat"], first["lon"]) == pytest.approx(expected, abs=1e-6)
    assert to_wgs84(first["lat"], first["lon"], "gcj02") == pytest.approx(
        (facility["location"]["lat"], facility["location"]["lon"]), abs=1e-6)


def test_a_geocoder_that_does_not_answer_says_to_use_the_lists(app, client):
    use_geocoder(app, RecordedGeocoder({"天生": GeocoderUnavailable("down")}), "recorded")
    response = client.get("/?address=北碚区天生街道")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "地址查询暂时不可用，请改用区县和街道。" in html and result_ids(html) == []


def test_an_address_a_baidu_geocoder_places_is_searched_from_in_wgs84(app, client, seeded):
    point = from_wgs84(29.8257, 106.4370, "bd09")  # Baidu answers in BD-09
    use_geocoder(app, RecordedGeocoder({"天生路": (*point, {"level": "门址"})}), "baidu")
    html = client.get("/?address=北碚区天生路100号").get_data(as_text=True)
    assert understood(html) == "按 “北碚区天生路100号”（北碚区） 的位置查找"
    assert result_ids(html) == nearest_ids(client, 29.8257, 106.4370, radius_m=5000)

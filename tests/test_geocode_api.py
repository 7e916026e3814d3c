"""GET /api/v1/geocode: what a resident's typed address or place name finds, offline.

The app's geocoder is the offline gazetteer (the default); a remote one is stood in for by
test_geocoding's RecordedGeocoder, so nothing here touches the network.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest
from geopy.distance import geodesic
from geopy.exc import GeocoderUnavailable
from sqlalchemy import func, select

from servicemap import create_app, store
from servicemap.config import Config
from servicemap.districts import load_districts
from servicemap.extensions import db
from servicemap.geo.coordsys import from_wgs84
from servicemap.geo.geocoding import use_geocoder
from servicemap.models import GeocodeCache
from servicemap.observability import JsonFormatter

from .conftest import assert_problem, create
from .test_geocoding import TIANSHENG, RecordedGeocoder


def geocode(client, q: str, **args):
    query = "&".join([f"q={quote(q)}", *(f"{k}={v}" for k, v in args.items())])
    return client.get(f"/api/v1/geocode?{query}")


def test_a_street_is_found_with_its_district_and_precision(client):
    response = geocode(client, "重庆市北碚区天生街道")
    assert response.status_code == 200, response.json
    assert response.json == {
        "query": "重庆市北碚区天生街道",
        "location": {"lat": TIANSHENG[0], "lon": TIANSHENG[1], "coordsys": "wgs84"},
        "precision": "street", "source": "geocoder:offline",
        "district": {"code": "500109", "name": "北碚区"}, "street": "天生街道"}


@pytest.mark.parametrize("coordsys", ["gcj02", "bd09"])
def test_the_location_is_given_in_the_coordsys_asked_for(client, coordsys):
    location = geocode(client, "北碚区天生街道", coordsys=coordsys).json["location"]
    lat, lon = from_wgs84(*TIANSHENG, coordsys)
    assert location == {"lat": round(lat, 7), "lon": round(lon, 7), "coordsys": coordsys}
    # The shift is what puts a pin on the wrong street when a datum is mixed up.
    assert geodesic(TIANSHENG, (location["lat"], location["lon"])).m > 300


def test_a_short_street_name_after_its_district_is_found(client):
    body = geocode(client, "渝中区解放碑").json
    assert (body["district"]["code"], body["street"], body["precision"]) == (
        "500103", "解放碑街道", "street")


def test_a_district_alone_answers_its_centre_with_district_precision(client):
    body = geocode(client, "重庆市万州区").json
    wanzhou = load_districts()["500101"]
    assert body["precision"] == "district" and body["street"] is None
    assert (body["location"]["lat"], body["location"]["lon"]) == (wanzhou.lat, wanzhou.lon)


def test_an_address_already_in_the_registry_answers_that_facilitys_point(client, admin):
    create(client, admin, address="重庆市北碚区天生街道天生路100号",
           location={"lat": 29.8257, "lon": 106.4370})
    body = geocode(client, "北碚区天生路100号").json
    assert body["precision"] == "exact"
    assert body["location"] == {"lat": 29.8257, "lon": 106.437, "coordsys": "wgs84"}


@pytest.mark.parametrize("q", ["北京市朝阳区三里屯", "abcdefg", "号"])
def test_nothing_in_chongqing_is_a_404_problem(client, q):
    body = assert_problem(geocode(client, q), 404)
    assert q in body["detail"]


def test_a_query_of_200_characters_is_read(client):
    q = "北碚区天生街道" + "1" * 193
    assert geocode(client, q).json["street"] == "天生街道"


@pytest.mark.parametrize("url, field", [
    ("/api/v1/geocode", "q"),
    ("/api/v1/geocode?q=", "q"),
    ("/api/v1/geocode?q=%20%E3%80%80%20", "q"),  # spaces, the ideographic one too
    (f"/api/v1/geocode?q={'渝' * 201}", "q"),
    ("/api/v1/geocode?q=%E6%B8%9D%00%E4%B8%AD", "q"),  # NUL
    ("/api/v1/geocode?q=渝中区&coordsys=wgs-84", "coordsys"),
])
def test_bad_input_is_a_422_naming_the_field(client, url, field):
    assert_problem(client.get(url), 422, field)


def test_a_remote_geocoders_answer_is_cached_and_converted(app, client):
    recorded = RecordedGeocoder({"天生路": (*from_wgs84(29.8257, 106.437, "bd09"),
                                            {"level": "门址"})})
    use_geocoder(app, recorded, "baidu")
    first, again = (geocode(client, "北碚区天生路1号") for _ in range(2))
    assert first.json == again.json and len(recorded.calls) == 1
    assert first.json["source"] == "geocoder:baidu" and first.json["precision"] == "exact"
    assert geodesic((29.8257, 106.437), (first.json["location"]["lat"],
                                         first.json["location"]["lon"])).m < 0.01
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GeocodeCache)) == 1


def test_a_remote_answer_outside_chongqing_is_a_404(app, client):
    use_geocoder(app, RecordedGeocoder({"朝阳": (39.9219, 116.4436, {"level": "门址"})}),
                 "recorded")
    assert_problem(geocode(client, "朝阳区三里屯"), 404)


def test_a_geocoder_that_does_not_answer_is_a_503_with_retry_after(app, client):
    use_geocoder(app, RecordedGeocoder({"天生": GeocoderUnavailable("down")}), "recorded")
    response = geocode(client, "北碚区天生路1号")
    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0


def test_the_address_typed_never_reaches_the_logs(client, caplog):
    with caplog.at_level(logging.DEBUG):
        geocode(client, "北碚区天生路18号")
        geocode(client, "北碚区歇马镇无此路7号", coordsys="gcj02")
    records = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    text = json.dumps(records, ensure_ascii=False)
    assert text.count('"path": "/api/v1/geocode"') == 2
    for fragment in ("天生路", "无此路", quote("天生路"), "q="):
        assert fragment not in text


def test_geocoding_counts_against_the_search_rate_limit(database_url, tmp_path):
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, rate_limit_enabled=True,
                            rate_limit_search="2/minute"))
    client = app.test_client()
    statuses = [geocode(client, "北碚区天生街道").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/v1/facilities/nearest?lat=29.8&lon=106.4").status_code == 429
    store.dispose(app)


def test_the_openapi_document_describes_geocode(client):
    operation = client.get("/api/openapi.json").json["paths"]["/api/v1/geocode"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["q"]["required"] is True
    assert parameters["q"]["schema"]["maxLength"] == 200
    assert {"200", "404", "422", "503"} <= operation["responses"].keys()

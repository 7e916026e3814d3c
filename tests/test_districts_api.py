"""GET /api/v1/districts: the 区县 and their 街道/镇 for pick lists, with centres to search from."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from servicemap import create_app, store
from servicemap.config import Config
from servicemap.districts import load_districts
from servicemap.geo.coordsys import from_wgs84

from .conftest import assert_problem
from .test_geocoding import STREETS, TIANSHENG

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def by_code(body: dict) -> dict[str, dict]:
    return {item["code"]: item for item in body["items"]}


def test_all_38_districts_in_code_order_with_names_and_centres(client):
    body = client.get("/api/v1/districts").json
    with (SEEDS / "districts.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert body["coordsys"] == "wgs84" and len(body["items"]) == len(rows) == 38
    assert [(d["code"], d["name"], d["name_en"], d["centre"]) for d in body["items"]] == [
        (r["code"], r["name"], r["name_en"], {"lat": float(r["lat"]), "lon": float(r["lon"])})
        for r in rows]


def test_each_district_lists_the_gazetteers_streets_and_towns(client):
    districts = by_code(client.get("/api/v1/districts").json)
    for code, names in STREETS.items():
        assert sorted(s["name"] for s in districts[code]["streets"]) == sorted(names.split())
    tiansheng = next(s for s in districts["500109"]["streets"] if s["name"] == "天生街道")
    assert tiansheng["centre"] == {"lat": TIANSHENG[0], "lon": TIANSHENG[1]}
    assert districts["500101"]["streets"] == []  # 万州区: no 街道 in the sample gazetteer yet


def test_a_street_centre_geocodes_back_to_its_own_street(client):
    """The pick list and the geocoder agree: what one offers, the other finds."""
    for district in client.get("/api/v1/districts").json["items"]:
        for street in district["streets"]:
            found = client.get(f"/api/v1/geocode?q={district['name']}{street['name']}").json
            assert (found["district"]["code"], found["street"]) == (
                district["code"], street["name"])
            assert found["location"]["lat"] == street["centre"]["lat"]


@pytest.mark.parametrize("coordsys", ["gcj02", "bd09"])
def test_centres_are_given_in_the_coordsys_asked_for(client, coordsys):
    body = client.get(f"/api/v1/districts?coordsys={coordsys}").json
    assert body["coordsys"] == coordsys
    beibei = by_code(body)["500109"]
    district = load_districts()["500109"]
    lat, lon = from_wgs84(district.lat, district.lon, coordsys)
    assert beibei["centre"] == {"lat": round(lat, 7), "lon": round(lon, 7)}
    tiansheng = next(s for s in beibei["streets"] if s["name"] == "天生街道")
    lat, lon = from_wgs84(*TIANSHENG, coordsys)
    assert tiansheng["centre"] == {"lat": round(lat, 7), "lon": round(lon, 7)}


def test_an_unknown_coordsys_is_a_422_naming_it(client):
    assert_problem(client.get("/api/v1/districts?coordsys=wgs-84"), 422, "coordsys")


def test_the_list_is_cacheable_and_revalidated_by_its_etag(client):
    first = client.get("/api/v1/districts")
    assert first.cache_control.public and first.cache_control.max_age >= 60
    etag = first.headers["ETag"]
    again = client.get("/api/v1/districts", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    other = client.get("/api/v1/districts?coordsys=gcj02", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_streets_an_administrator_adds_to_the_gazetteer_are_listed(database_url, tmp_path):
    extra = tmp_path / "gazetteer"
    extra.mkdir()
    (extra / "wanzhou.csv").write_text(
        "district_code,street,lat,lon\n500101,高笋塘街道,30.8080,108.4000\n", encoding="utf-8")
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, gazetteer_dirs=[extra]))
    wanzhou = by_code(app.test_client().get("/api/v1/districts").json)["500101"]
    assert wanzhou["streets"] == [{"name": "高笋塘街道", "centre": {"lat": 30.808, "lon": 108.4}}]
    store.dispose(app)


def test_the_openapi_document_describes_districts(client):
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/v1/districts"]["get"]
    assert "coordsys" in {p["name"] for p in operation["parameters"]}
    assert {"200", "304", "422"} <= operation["responses"].keys()

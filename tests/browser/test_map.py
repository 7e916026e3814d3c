"""The optional map in a real browser, with a GCJ-02 tile source configured: markers drawn in
the tiles' datum, tiles asked of the configured host only (and refused here, as every request
to another host is). Without tiles the other modules check there is no map and no such request."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from servicemap.extensions import db
from servicemap.geo.coordsys import from_wgs84
from servicemap.models import Facility

from .conftest import serious_violations

TILE_HOST = "tiles.example.test"
TILES = f"https://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png"


@pytest.fixture(scope="module")
def site_config() -> dict:
    """A map whose tiles are GCJ-02 (as Amap's are)."""
    return {"map_tiles": TILES, "map_coordsys": "gcj02", "map_attribution": "© Example tiles"}


def located(site, facility_id: str) -> tuple[float, float]:
    with site.app.app_context():
        facility = db.session.scalars(select(Facility).where(
            Facility.id == uuid.UUID(facility_id))).one()
        return facility.lat, facility.lon


def test_result_markers_are_in_the_tiles_datum_and_tiles_come_from_their_host(page, site):
    page.goto("/?district=500109&kind=meal_point")
    page.wait_for_selector("#map .leaflet-marker-icon")
    markers = json.loads(page.locator("#map-markers").text_content())
    assert len(markers) == page.locator("[data-facility-id]").count() >= 3
    for marker in markers:
        wgs84 = located(site, marker["href"].rsplit("/", 1)[1])
        assert (marker["lat"], marker["lon"]) == pytest.approx(
            from_wgs84(*wgs84, "gcj02"), abs=1e-6)
    assert page.locator("#map .leaflet-marker-icon").count() == len(markers)
    assert site.foreign and all(url.startswith(f"https://{TILE_HOST}/") for url in site.foreign)
    assert page.locator(".leaflet-control-attribution").inner_text().endswith("© Example tiles")
    assert serious_violations(page) == []


def test_the_facility_page_pins_the_facility_in_the_tiles_datum(page, site):
    page.goto("/?district=500109&kind=meal_point")
    href = page.locator("[data-facility-id] h3 a").first.get_attribute("href")
    page.goto(href)
    page.wait_for_selector("#map .leaflet-marker-icon")
    [marker] = json.loads(page.locator("#map-markers").text_content())
    wgs84 = located(site, href.rsplit("/", 1)[1])
    assert (marker["lat"], marker["lon"]) == pytest.approx(from_wgs84(*wgs84, "gcj02"), abs=1e-6)
    assert all(url.startswith(f"https://{TILE_HOST}/") for url in site.foreign)

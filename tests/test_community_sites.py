"""communities.sites and sites_near: what the coverage engine reads, through the spatial index
(community_rtree on SQLite, the GiST on geog in PostGIS), the same on both backends."""

from __future__ import annotations

import uuid

import pytest

from servicemap.communities import Site, sites, sites_near
from servicemap.extensions import db
from servicemap.geo.distance import geodesic_m

from .conftest import ORIGIN, north_of
from .test_communities import YUZHONG, create


def _near(app, lat: float, lon: float, radius_m: float) -> list[tuple[float, Site]]:
    with app.app_context():
        return sites_near(db.session, lat, lon, radius_m)


def test_sites_near_finds_exactly_those_within_the_radius_nearest_first(app, client, admin):
    made = {metres: create(client, admin, name=f"{metres}米社区", location=north_of(metres))
            for metres in (900, 100, 2000, 400, 1000.5)}
    create(client, admin, name="解放碑路社区", location=YUZHONG)
    hits = _near(app, *ORIGIN, 1000)
    assert [site.name for _d, site in hits] == ["100米社区", "400米社区", "900米社区"]
    assert [d for d, _site in hits] == pytest.approx([100, 400, 900], abs=0.01)
    first = hits[0][1]
    assert first.id == uuid.UUID(made[100]["id"])
    assert (first.district_code, first.street, first.population) == ("500109", "朝阳街道", 12000)
    assert (first.population_60_plus, first.population_0_3, first.population_3_6) == (
        3100, 280, 350)


def test_sites_near_agrees_with_measuring_every_community(app, client, admin):
    for index in range(12):
        create(client, admin, name=f"社区{index}", location=north_of(150 * index))
    with app.app_context():
        everything = sites(db.session)
    for radius in (50, 700, 1200, 5000):
        expected = sorted(site.name for site in everything
                          if geodesic_m(*ORIGIN, site.lat, site.lon) <= radius)
        assert sorted(site.name for _d, site in _near(app, *ORIGIN, radius)) == expected


def test_the_index_follows_moves_and_deletes_in_the_same_transaction(app, client, admin):
    made = create(client, admin, location=north_of(200))
    url = f"/api/v1/communities/{made['id']}"
    assert len(_near(app, *ORIGIN, 500)) == 1
    client.patch(url, json={"location": north_of(3000)}, headers=admin)
    assert _near(app, *ORIGIN, 500) == []
    assert len(_near(app, *ORIGIN, 3100)) == 1
    client.delete(url, headers=admin)
    assert _near(app, *ORIGIN, 3100) == []


def test_sites_filters_by_district_and_street(app, client, admin):
    create(client, admin, name="中山路社区")
    create(client, admin, name="天生新村社区", street="天生街道", location=north_of(300))
    create(client, admin, name="解放碑路社区", location=YUZHONG)
    with app.app_context():
        assert [s.name for s in sites(db.session)] == ["中山路社区", "天生新村社区", "解放碑路社区"]
        assert [s.name for s in sites(db.session, district="500109")] == [
            "中山路社区", "天生新村社区"]
        assert [s.name for s in sites(db.session, district="500109", street="天生街道")] == [
            "天生新村社区"]
        assert sites(db.session, district="500106") == []

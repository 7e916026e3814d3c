"""/admin/coverage and `flask coverage report`: what a planner sees, on both backends, over the
hand-made district of test_coverage_api (C, 4000 people, is the one out of reach at 1 km)."""

from __future__ import annotations

import json
import re

import pytest

from servicemap.geo.coordsys import from_wgs84

from .test_coverage_api import district as district  # the fixture

PAGE = "/admin/coverage"


def text(html: str) -> str:
    """The page's words, tags dropped, spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.usefixtures("district")
def test_the_page_shows_street_shares_as_numbers_and_the_uncovered_by_population(client):
    response = client.get(PAGE, query_string={"kind": "meal_point", "distance_m": 1000,
                                              "district": "500109"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    words = text(html)
    # In all: 6000 of 10000 residents; 天生街道 2/3 communities, 3000 of 7000 residents.
    assert "60.0%" in words and "6,000 / 10,000" in words
    assert re.search(r"北碚区 天生街道 .*?42\.9% 3,000 / 7,000 人 · 社区 2 / 3", words)
    assert re.search(r"北碚区 北温泉街道 .*?100\.0% 3,000 / 3,000 人", words)
    assert 'style="width: 42.9%"' in html  # the bar, beside the number it draws
    uncovered = re.search(r'<ol class="uncovered">(.*?)</ol>', html, re.DOTALL).group(1)
    assert "社区C" in uncovered and "4,000 人" in text(uncovered) and "1.5 公里" in uncovered
    assert "社区A" not in uncovered


@pytest.mark.usefixtures("district")
def test_the_page_in_english_and_for_older_residents(client):
    words = text(client.get(PAGE, query_string={
        "kind": "meal_point", "distance_m": 500, "population": "population_60_plus",
        "lang": "en"}).get_data(as_text=True))
    # At 500 m only A (300 aged 60+) of A, B, C (1800) is within reach.
    assert "Aged 60 or more" in words and "16.7%" in words and "300 / 1,800" in words


@pytest.mark.usefixtures("district")
def test_a_bad_question_is_told_on_the_page_naming_the_field(client):
    response = client.get(PAGE, query_string={"kind": "meal_point", "distance_m": 5})
    assert response.status_code == 422
    assert "distance_m" in text(response.get_data(as_text=True))


def test_the_console_and_the_nav_link_to_it(client):
    assert 'href="/admin/coverage"' in client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/coverage"' in client.get("/").get_data(as_text=True)


@pytest.mark.usefixtures("district")
def test_the_cli_report_is_one_self_contained_file(runner, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(args=["coverage", "report", "--kind", "meal_point", "--distance",
                                 "1000", "--district", "北碚区", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    words = text(html)
    assert "60.0%" in words and "42.9%" in words
    assert re.search(r'<ol class="uncovered">.*社区C.*</ol>', html, re.DOTALL)
    assert "<style>" in html and ".share-fill" in html  # the CSS inlined
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html


def test_the_cli_report_names_a_bad_option(runner, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(args=["coverage", "report", "--kind", "meal_point", "--distance",
                                 "far", "--out", str(out)])
    assert result.exit_code != 0
    assert "distance_m" in result.output
    assert not out.exists()


@pytest.mark.usefixtures("district")
def test_without_tiles_the_page_has_no_map(client):
    html = client.get(PAGE, query_string={"kind": "meal_point"}).get_data(as_text=True)
    assert "map-markers" not in html and "leaflet" not in html


@pytest.mark.usefixtures("district")
def test_with_tiles_each_community_is_a_marker_in_the_tiles_datum_saying_if_covered(app,
                                                                                    client):
    config = app.config["SERVICEMAP"]
    config.map_tiles, config.map_coordsys = "https://tiles.example.test/{z}/{x}/{y}.png", "gcj02"
    config.map_attribution = "© Example tiles"
    query = {"kind": "meal_point", "distance_m": 1000, "district": "500109"}
    html = client.get(PAGE, query_string=query).get_data(as_text=True)
    island = re.search(r'<script type="application/json" id="map-markers">(.*?)</script>',
                       html, re.S)
    markers = json.loads(island.group(1))
    features = client.get("/api/v1/coverage", query_string=query,
                          headers={"Accept": "application/geo+json"}).json["features"]
    assert len(markers) == len(features) == 5
    for marker, community in zip(markers, features, strict=True):
        lon, lat = community["geometry"]["coordinates"]
        assert (marker["lat"], marker["lon"]) == pytest.approx(
            from_wgs84(lat, lon, "gcj02"), abs=1e-6)
        assert marker["covered"] is community["properties"]["covered"]
        assert marker["name"].endswith("已覆盖" if marker["covered"] else "未覆盖")

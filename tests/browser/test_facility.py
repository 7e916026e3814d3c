"""/facilities/<id> in a real browser: what a resident reads, 今天 marked, 导航 links in each
map's own datum; accessible, light, in 长辈模式, no request to another host."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from servicemap.extensions import db
from servicemap.geo.coordsys import from_wgs84
from servicemap.hours import SHANGHAI
from servicemap.models import Facility
from servicemap.vocabulary import WEEKDAYS_ZH

from .conftest import scrolls_sideways, serious_violations
from .weight import page_weight

CENTRE = "CQ-500109-0001"  # 北碚区朝阳街道养老服务中心, open every day 08:00-20:00


def facility(site, external_id: str = CENTRE) -> Facility:
    with site.app.app_context():
        found = db.session.scalars(select(Facility).where(
            Facility.external_id == external_id)).one()
        db.session.expunge(found)
        return found


def test_the_facility_page_reads_as_a_resident_needs_it_without_javascript(new_page, site):
    page = new_page(java_script_enabled=False)
    centre = facility(site)
    page.goto(f"/facilities/{centre.id}")
    assert page.get_by_role("heading", level=1).inner_text() == centre.name
    text = page.locator("main").inner_text()
    for expected in ("街道/乡镇养老服务中心", "普惠", "公办", centre.address,
                     "空位 6 个（共 45 个）", "日间照料每月1200元起", "本周营业时间", "信息更新于"):
        assert expected in text, expected
    assert page.get_by_role("link", name=centre.phone).get_attribute("href") == (
        f"tel:{centre.phone}")
    assert page.locator("[data-program-id]").count() >= 1
    assert page.locator("[data-program-id] a").first.get_attribute("href") == "/eligibility"
    assert site.foreign == []


def test_today_is_marked_in_the_week_by_shanghai_date_and_not_by_colour_alone(page, site):
    page.goto(f"/facilities/{facility(site).id}")
    today = page.locator("tr[data-today]")
    assert today.count() == 1
    weekday = WEEKDAYS_ZH[datetime.now(SHANGHAI).isoweekday() - 1]
    assert today.inner_text().startswith(weekday) and "今天" in today.inner_text()
    assert today.get_attribute("aria-current") == "date"
    other = page.locator("table.week tbody tr:not([data-today])").first
    background = "getComputedStyle(e).backgroundColor"
    assert today.evaluate(f"e => {background}") != other.evaluate(f"e => {background}")
    state = page.locator("[data-open-now]").inner_text()
    assert re.search(r"(现在开放|现在休息) · (今天|明天) \d\d:\d\d (关门|开门)", state), state


def test_directions_open_each_map_app_in_its_own_datum(page, site):
    centre = facility(site)
    page.goto(f"/facilities/{centre.id}")
    nav = page.locator(".navigate")
    hrefs = {name: nav.get_by_role("link", name=name).get_attribute("href")
             for name in ("高德地图", "百度地图", "腾讯地图")}
    gcj02 = from_wgs84(centre.lat, centre.lon, "gcj02")
    bd09 = from_wgs84(centre.lat, centre.lon, "bd09")
    amap = parse_qs(urlsplit(hrefs["高德地图"]).query)
    assert tuple(map(float, amap["position"][0].split(",")))[::-1] == pytest.approx(gcj02, abs=1e-6)
    baidu = parse_qs(urlsplit(hrefs["百度地图"]).query)
    assert tuple(map(float, baidu["location"][0].split(","))) == pytest.approx(bd09, abs=1e-6)
    marker = parse_qs(urlsplit(hrefs["腾讯地图"]).query)["marker"][0]
    coord = re.match(r"coord:([\d.]+),([\d.]+);", marker)
    assert (float(coord[1]), float(coord[2])) == pytest.approx(gcj02, abs=1e-6)
    assert (centre.lat, centre.lon) != pytest.approx(gcj02, abs=1e-3)  # not left in WGS-84
    assert site.foreign == []  # links are followed only when tapped


def test_facility_pages_are_accessible_light_and_stay_at_home(new_page, site):
    centre = facility(site)
    page = new_page()
    for url in (f"/facilities/{centre.id}", f"/facilities/{centre.id}?elder=1",
                f"/facilities/{centre.id}?lang=en", "/facilities/no-such-place"):
        page.goto(url)
        assert serious_violations(page) == [], url
        assert not scrolls_sideways(page), url
    weight = page_weight(new_page(), f"/facilities/{centre.id}")
    assert 5_000 < weight < 100_000, weight
    assert site.foreign == []


def test_elder_mode_on_a_facility_page_has_large_type_and_big_targets(page, site):
    page.goto(f"/facilities/{facility(site).id}?elder=1")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    for link in page.locator(".navigate a, a.phone, .programmes a").all():
        box = link.bounding_box()
        assert box["height"] >= 48, link.inner_text()


def test_an_unknown_facility_is_a_404_page_with_a_way_back(page):
    response = page.goto("/facilities/00000000-0000-4000-8000-000000000000")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "没有找到"
    assert page.get_by_role("link", name="回到找服务").count() == 1

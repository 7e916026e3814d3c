"""/facilities/<id> rendered on the server: what a resident reads, on both backends."""

from __future__ import annotations

import re
import uuid
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from geopy.distance import geodesic

from servicemap.geo.coordsys import from_wgs84

from .conftest import create

THURSDAY_NOON = "2026-11-26T12:00"  # Shanghai times, for conftest's clock
NATIONAL_DAY_MONDAY = "2026-10-05T09:00"  # 国庆 2026: Oct 1-7


def page(client, facility_id: str, query: str = "") -> str:
    response = client.get(f"/facilities/{facility_id}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The page's text as a reader sees it, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def rows(html: str) -> list[str]:
    """The weekly table's rows as text, Monday first."""
    body = html.split('<table class="week">')[1].split("</table>")[0]
    return [text_of(row) for row in re.findall(r"<tr[^>]*>.*?</tr>", body, re.S)][1:]


def test_a_facility_page_shows_what_a_resident_needs(client, admin, clock):
    clock(THURSDAY_NOON)
    facility = create(client, admin, fees="午餐12元/份，80岁以上8元")
    html = page(client, facility["id"])
    text = text_of(html)
    for expected in ("北碚区天生街道老年食堂", "Tiansheng Street Elder Canteen", "老年食堂/助餐点",
                     "普惠", "社区", "重庆市北碚区天生街道天生路100号", "空位 3 个（共 40 个）",
                     "午餐12元/份，80岁以上8元", "助餐、送餐上门", "现在开放", "今天 13:00 关门"):
        assert expected in text, expected
    assert 'href="tel:023-68200000"' in html
    assert "meal_point" not in text  # plain words, never slugs
    updated = client.get(f"/api/v1/facilities/{facility['id']}").json["updated_at"]
    assert f'<time datetime="{updated}">' in html and "信息更新于" in text


def test_the_weekly_table_marks_today_by_shanghai_date(client, admin, clock):
    clock(THURSDAY_NOON)
    facility = create(client, admin)
    html = page(client, facility["id"])
    week = rows(html)
    assert [row.split()[0] for row in week] == ["周一", "周二", "周三", "周四", "周五", "周六",
                                                "周日"]
    today = [row for row in week if "今天" in row]
    assert today == [week[3]] and "11月26日" in week[3] and "10:30–13:00" in week[3]
    assert len(re.findall(r"data-today", html)) == 1
    assert "休息" in week[5] and "休息" in week[6]  # the hours are Monday to Friday


def test_on_a_holiday_week_the_table_and_next_change_follow_china_s_calendar(client, admin, clock):
    clock(NATIONAL_DAY_MONDAY)
    facility = create(client, admin)  # a meal point: shut on statutory holidays
    html = page(client, facility["id"])
    week = rows(html)
    assert "今天" in week[0] and "10月5日" in week[0]
    for holiday in week[0:3]:
        assert "国庆节放假休息" in holiday and "10:30" not in holiday
    assert "10:30–13:00" in week[3]  # Thursday 8 October: back to work
    assert "调休上班" in week[5] and "10:30–13:00" in week[5]  # Saturday 10 October
    assert "现在休息" in text_of(html)
    api = client.get(f"/api/v1/facilities/{facility['id']}").json
    assert api["next_change"] == "2026-10-08T10:30:00+08:00"
    assert "周四 10月8日 10:30 开门" in text_of(html)


def test_english_says_today_and_the_next_change_in_english(client, admin, clock):
    clock(THURSDAY_NOON)
    facility = create(client, admin)
    text = text_of(page(client, facility["id"], "?lang=en"))
    assert "Today" in text and "Closes today at 13:00" in text and "Open now" in text


def test_directions_links_carry_each_map_s_own_datum(client, admin):
    facility = create(client, admin)
    html = page(client, facility["id"])
    links = {app: unescape(url) for url, app in re.findall(
        r'<a class="button" href="([^"]+)"[^>]*data-map-app="([^"]+)"', html)}
    assert set(links) == {"Amap", "Baidu Maps", "Tencent Maps"}
    wgs84 = (29.8257, 106.4370)
    gcj02, bd09 = from_wgs84(*wgs84, "gcj02"), from_wgs84(*wgs84, "bd09")

    amap = parse_qs(urlsplit(links["Amap"]).query)
    lon, lat = map(float, amap["position"][0].split(","))
    assert links["Amap"].startswith("https://uri.amap.com/marker?")
    assert amap["coordinate"] == ["gaode"] and amap["name"] == ["北碚区天生街道老年食堂"]
    baidu = parse_qs(urlsplit(links["Baidu Maps"]).query)
    b_lat, b_lon = map(float, baidu["location"][0].split(","))
    assert links["Baidu Maps"].startswith("https://api.map.baidu.com/marker?")
    assert baidu["coord_type"] == ["bd09ll"] and baidu["output"] == ["html"]
    tencent = dict(part.split(":", 1) for part in parse_qs(
        urlsplit(links["Tencent Maps"]).query)["marker"][0].split(";"))
    t_lat, t_lon = map(float, tencent["coord"].split(","))
    assert links["Tencent Maps"].startswith("https://apis.map.qq.com/uri/v1/marker?")

    for shown, expected in (((lat, lon), gcj02), ((b_lat, b_lon), bd09), ((t_lat, t_lon), gcj02)):
        assert shown == pytest.approx(expected, abs=1e-6)
        # A pin left in WGS-84 would sit this far off in these apps: hundreds of metres.
        assert 300 < geodesic(shown, wgs84).meters < 1500
    assert geodesic((lat, lon), (b_lat, b_lon)).meters > 500  # BD-09 is not GCJ-02 either


def test_unknown_and_malformed_ids_get_an_html_404(client):
    for facility_id in ("nope", str(uuid.uuid4()), "1%27%20OR%201=1"):
        response = client.get(f"/facilities/{facility_id}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "没有找到" in response.get_data(as_text=True)


@pytest.mark.parametrize(("status", "words"), [("temporarily_closed", "暂停服务"),
                                               ("inactive", "已停办")])
def test_a_facility_not_active_says_so_and_is_not_open(client, admin, clock, status, words):
    clock(THURSDAY_NOON)
    facility = create(client, admin)
    changed = client.patch(f"/api/v1/facilities/{facility['id']}", json={"status": status},
                           headers=admin)
    assert changed.status_code == 200
    html = page(client, facility["id"])
    alert = re.search(r'<p class="errors" role="alert"[^>]*>(.*?)</p>', html, re.S)
    assert alert and words in text_of(alert.group(1))
    assert "现在休息" in text_of(html) and "现在开放" not in text_of(html)


def test_the_programmes_listed_are_those_a_search_for_them_finds_here(client, admin):
    inclusive = create(client, admin, name="普惠幼儿园", kind="kindergarten",
                       services=["preschool"], inclusive=True)
    private = create(client, admin, name="民办幼儿园", kind="kindergarten",
                     services=["preschool"], inclusive=False,
                     location={"lat": 29.8300, "lon": 106.4400})
    programmes = client.get("/api/v1/programs").json["items"]
    for facility in (inclusive, private):
        html = page(client, facility["id"])
        listed = set(re.findall(r'data-program-id="([^"]+)"', html))
        location = facility["location"]
        found = {p["id"] for p in programmes if facility["id"] in {
            item["id"] for item in client.get(
                "/api/v1/facilities/nearest", query_string={
                    "lat": location["lat"], "lon": location["lon"], "radius_m": 10,
                    "program": p["id"]}).json["items"]}}
        assert listed == found
    assert "inclusive_kindergarten_enrollment" in set(
        re.findall(r'data-program-id="([^"]+)"', page(client, inclusive["id"])))
    assert "inclusive_kindergarten_enrollment" not in set(
        re.findall(r'data-program-id="([^"]+)"', page(client, private["id"])))

"""找服务 (/) in a real browser: results by URL without JavaScript, by the browser's position,
in 长辈模式; accessible, no sideways scrolling, no request to another host."""

from __future__ import annotations

import re

from .conftest import BEIBEI, scrolls_sideways, serious_violations
from .weight import page_weight

RESULTS_URL = "/?lat=29.8257&lon=106.4370&kind=meal_point"
DISTANCE = re.compile(r"\d+ 米|\d+\.\d 公里")


def result_distances(page) -> list[float]:
    """The distances shown on the result cards, in metres, in page order."""
    texts = page.locator("[data-facility-id] .distance").all_inner_texts()
    return [float(t.split()[0]) * (1000 if "公里" in t else 1) for t in texts]


def test_results_render_from_the_url_without_javascript(new_page, site):
    page = new_page(java_script_enabled=False)
    page.goto(RESULTS_URL)
    cards = page.locator("[data-facility-id]")
    assert cards.count() >= 3
    first = cards.first.inner_text()
    assert "老年食堂" in first or "助餐点" in first
    assert DISTANCE.search(first)
    distances = result_distances(page)
    assert distances == sorted(distances)
    assert site.foreign == []


def test_the_locate_button_finds_results_for_a_granted_position(new_page, site):
    page = new_page(permissions=["geolocation"], geolocation=BEIBEI)
    page.goto("/")
    page.get_by_role("button", name=re.compile("定位")).click()
    page.wait_for_selector("[data-facility-id]")
    assert page.locator("[data-facility-id]").count() >= 1
    assert "lat=29.8257" in page.url
    assert site.foreign == []


def test_elder_mode_sets_large_type_and_big_targets_and_is_remembered(page, site):
    page.goto(RESULTS_URL)
    page.get_by_role("button", name=re.compile("长辈模式")).click()
    page.wait_for_selector("html.elder")
    page.wait_for_load_state()  # the new page's stylesheet too, not only its HTML
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 20
    for button in page.get_by_role("button").all():
        if button.is_visible():
            box = button.bounding_box()
            assert box["height"] >= 48 and box["width"] >= 48, button.inner_text()
    page.goto("/")  # a new page remembers the choice
    assert "elder" in page.locator("html").get_attribute("class")


def test_english_on_lang_en_with_html_lang_set(page):
    page.goto(RESULTS_URL + "&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Find")


def test_find_pages_have_no_serious_accessibility_violation_nor_sideways_scroll(page, site):
    for url in ("/", RESULTS_URL, RESULTS_URL + "&elder=1", "/?lang=en&elder=1"):
        page.goto(url)
        assert serious_violations(page) == [], url
        assert not scrolls_sideways(page), url
    assert site.foreign == []


def test_a_bad_latitude_names_the_field_on_the_page(page):
    response = page.goto("/?lat=99&lon=106.4")
    assert response.status == 422
    assert "lat" in page.get_by_role("alert").inner_text()


def understood(page) -> str:
    return page.locator("[data-understood]").inner_text()


def test_district_then_street_in_two_steps_without_javascript(new_page, site):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    assert page.get_by_label("街道/镇").locator("option").count() == 1  # choose a 区县 first
    page.get_by_label("区县").select_option(label="北碚区")
    page.get_by_role("button", name="查找").click()
    assert understood(page) == "按 北碚区 的位置查找"
    assert page.locator("[data-facility-id]").count() >= 1
    page.get_by_label("街道/镇").select_option("天生街道")
    page.get_by_role("button", name="查找").click()
    assert understood(page) == "按 北碚区天生街道 的位置查找"
    assert "district=500109" in page.url and "street=" in page.url
    distances = result_distances(page)
    assert distances and distances == sorted(distances)
    assert site.foreign == []


def test_with_javascript_the_street_list_fills_without_a_reload(page, site):
    page.goto("/")
    page.get_by_label("输入地址或地名").fill("一个旧地址")
    page.get_by_label("区县").select_option(label="北碚区")
    streets = page.get_by_label("街道/镇")
    streets.locator("option", has_text="天生街道").wait_for(state="attached")
    assert page.url.endswith("/")  # no navigation: the list came from /api/v1/districts
    assert page.get_by_label("输入地址或地名").input_value() == ""  # the old way is cleared
    streets.select_option("天生街道")
    page.get_by_role("button", name="查找").click()
    page.wait_for_selector("[data-understood]")
    assert understood(page) == "按 北碚区天生街道 的位置查找"
    assert site.foreign == []


def test_a_typed_address_is_said_back_and_searched_from(new_page, site):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    page.get_by_label("输入地址或地名").fill("北碚区天生街道")
    page.get_by_label("输入地址或地名").press("Enter")
    assert understood(page) == "按 北碚区天生街道 的位置查找"
    assert page.locator("[data-facility-id]").count() >= 1
    assert site.foreign == []


def test_an_address_not_found_says_what_to_do(page):
    page.goto("/")
    page.get_by_label("输入地址或地名").fill("火星基地")
    page.get_by_role("button", name="查找").click()
    alert = page.get_by_role("alert")
    assert "没有找到“火星基地”" in alert.inner_text() and "区县和街道" in alert.inner_text()
    assert page.locator("[data-facility-id]").count() == 0
    assert serious_violations(page) == []


def test_place_pages_are_accessible_light_and_fit_a_phone(new_page, site):
    page = new_page()
    for url in ("/?district=500109", "/?district=500109&street=天生街道&elder=1",
                "/?address=北碚区天生街道&lang=en"):
        page.goto(url)
        assert serious_violations(page) == [], url
        assert not scrolls_sideways(page), url
    for url in (RESULTS_URL, "/?district=500109&street=天生街道"):
        weight = page_weight(new_page(), url)
        assert 5_000 < weight < 100_000, (url, weight)
    assert site.foreign == []


def test_elder_mode_pick_lists_and_inputs_are_big_enough(page):
    page.goto("/?district=500109&elder=1")
    for field in page.locator("select, input[name=address]").all():
        if field.is_visible():
            assert field.bounding_box()["height"] >= 48
    assert page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.hint')).fontSize)") >= 20

"""找服务 (/) in a real browser: results by URL without JavaScript, by the browser's position,
in 长辈模式; accessible, no sideways scrolling, no request to another host."""

from __future__ import annotations

import re

from .conftest import BEIBEI, scrolls_sideways, serious_violations

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

"""我能享受什么 (/eligibility) in a real browser: from an empty form to a grouped answer, with
and without JavaScript, in 长辈模式 and English; accessible, no sideways scrolling, no request
to another host, and the facts kept out of URLs, cookies, storage and the server's logs."""

from __future__ import annotations

import logging
import re

from .conftest import BEIBEI, scrolls_sideways, serious_violations

ELDER = "1950-03-01"
# Bytes on the wire for the page and everything it loaded.
WEIGHT = ("performance.getEntriesByType('navigation').concat("
          "performance.getEntriesByType('resource')).reduce((n, e) => n + e.transferSize, 0)")
FACT_VALUES = (ELDER, "moderate", "500106", "subsistence_allowance", "home")


def answer_until_done(page) -> list[str]:
    """Answer each question the page asks, as a person would, until none is left."""
    answers = {"q-care_need": "中度失能", "q-care_setting": "居家或社区养老",
               "q-household_status": "低保"}
    asked = []
    for _ in range(8):
        questions = page.locator("[id^=q-]")
        if questions.count() == 0:
            return asked
        for question_id in questions.evaluate_all("nodes => nodes.map(n => n.id)"):
            asked.append(question_id)
            if question_id == "q-residence_district":
                page.get_by_label("居住的区县").select_option(label="沙坪坝区")
            else:
                choice = page.locator(f"#{question_id}").get_by_label(answers[question_id],
                                                                      exact=True)
                choice.check()
        page.get_by_role("button", name="继续").click()
    raise AssertionError(f"still asking after {asked}")


def statuses(page) -> dict[str, str]:
    return dict(page.locator("[data-program-id]").evaluate_all(
        "nodes => nodes.map(n => [n.dataset.programId, n.dataset.status])"))


def test_the_flow_from_an_empty_form_to_a_grouped_answer_without_javascript(
        new_page, site, caplog):
    context_page = new_page(java_script_enabled=False)
    page = context_page
    with caplog.at_level(logging.DEBUG):
        page.goto("/eligibility")
        assert page.locator("[id^=q-]").evaluate_all("n => n.map(e => e.id)") == [
            "q-birth_date"]
        page.get_by_label("出生日期", exact=True).fill(ELDER)
        page.get_by_label("区县", exact=True).select_option(label="北碚区")
        page.get_by_role("button", name="看看我能享受什么").click()
        assert statuses(page)["elder_meal_service"] == "eligible"
        assert statuses(page)["bathing_assistance"] == "unknown"
        assert "还需要" in page.locator("[data-program-id=bathing_assistance]").inner_text()
        asked = answer_until_done(page)
    assert asked[0] == "q-care_need"
    assert page.get_by_text("没有需要再问的了").is_visible()
    found = statuses(page)
    assert "unknown" not in found.values()
    assert found["disabled_elder_care_voucher"] == "eligible"
    assert found["childcare_subsidy"] == "ineligible"
    headings = page.locator(".answer > h3").all_inner_texts()
    assert [h.split("（")[0] for h in headings] == ["可以享受", "不符合"]
    meals = page.locator("[data-program-id=elder_meal_service] [data-facility-id]")
    assert 1 <= meals.count() <= 3
    priority = page.locator("[data-program-id=elder_meal_priority]").inner_text()
    assert "7 元/天" in priority and "民发〔2023〕58号" in priority
    # Privacy: the facts went in POST bodies only.
    assert page.url == site.url + "/eligibility"
    assert {c["name"] for c in page.context.cookies()} <= {"sm_elder", "sm_lang"}
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    hrefs = " ".join(page.locator("[href]").evaluate_all("n => n.map(e => e.href)"))
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for value in FACT_VALUES:
        assert value not in hrefs and value not in logged
    assert "POST /eligibility" in logged  # the access log was captured, by path only
    assert site.foreign == []


def test_the_locate_button_adds_the_nearest_places_without_a_location_in_the_url(
        new_page, site):
    page = new_page(permissions=["geolocation"], geolocation=BEIBEI)
    page.goto("/eligibility")
    page.get_by_label("出生日期", exact=True).fill(ELDER)
    page.get_by_role("button", name=re.compile("定位")).click()
    page.wait_for_selector("[data-program-id=elder_meal_service] [data-facility-id]")
    assert page.get_by_text("正在按你定位的位置查找").is_visible()
    assert page.url == site.url + "/eligibility"
    assert "29.8257" not in page.url
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert site.foreign == []


def test_a_bad_age_is_named_beside_its_field(page):
    page.goto("/eligibility")
    page.get_by_label("或者，年龄（周岁）").fill("200")
    page.get_by_role("button", name="看看我能享受什么").click()
    assert "年龄" in page.get_by_role("alert").inner_text()
    error = page.locator("#err-age")
    assert "150" in error.inner_text()
    assert page.get_by_label("或者，年龄（周岁）").get_attribute("aria-invalid") == "true"
    assert page.locator("[data-program-id]").count() == 0


def test_elder_mode_has_large_type_and_big_targets(page):
    page.goto("/eligibility?elder=1")
    page.get_by_label("出生日期", exact=True).fill(ELDER)
    page.get_by_role("button", name="看看我能享受什么").click()
    page.wait_for_selector("[data-program-id]")
    page.wait_for_load_state()  # the answer's stylesheet too, not only its HTML
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    for button in page.get_by_role("button").all():
        if button.is_visible():
            box = button.bounding_box()
            assert box["height"] >= 48 and box["width"] >= 48, button.inner_text()
    for choice in page.locator(".question .chip").all():
        assert choice.bounding_box()["height"] >= 48


def test_english_on_lang_en(page):
    page.goto("/eligibility?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Birth date", exact=True).fill(ELDER)
    page.get_by_role("button", name="Show what I can get").click()
    assert page.get_by_role("heading", name=re.compile("^You can get")).is_visible()
    assert "Aged 60 or over." in page.locator("[data-program-id=elder_meal_service]").inner_text()


def test_eligibility_pages_are_accessible_and_fit_a_phone(new_page, site):
    for query in ("", "?elder=1", "?lang=en", "?lang=en&elder=1"):
        page = new_page()
        page.goto("/eligibility" + query)
        assert serious_violations(page) == [], query
        assert not scrolls_sideways(page), query
        page.locator("#f-birth_date").fill(ELDER)
        page.locator("#f-place_district").select_option("500109")
        page.locator("button.primary").click()
        page.wait_for_selector("[data-program-id] [data-facility-id]")
        assert serious_violations(page) == [], f"answer {query}"
        assert not scrolls_sideways(page), f"answer {query}"
        assert page.evaluate(WEIGHT) < 100_000, f"answer {query}"
    assert site.foreign == []

"""/admin/coverage in a real browser over the seeded sample: bars carrying their numbers, the
uncovered by population; accessible, no sideways scrolling at 390 px, no request elsewhere."""

from __future__ import annotations

import re

from .conftest import scrolls_sideways, serious_violations

URL = "/admin/coverage?kind=meal_point&distance_m=1000"
PEOPLE = re.compile(r"([\d,]+) 人")


def test_street_shares_are_numbers_and_the_uncovered_come_most_populous_first(page, site):
    page.goto(URL)
    bars = page.locator(".share-bars li")
    assert bars.count() >= 2
    for text in bars.all_inner_texts():
        assert re.search(r"\d+\.\d%|无数据", text), text  # a number, not only a colour
    people = [int(PEOPLE.search(text).group(1).replace(",", ""))
              for text in page.locator(".uncovered li").all_inner_texts()
              if PEOPLE.search(text)]
    assert len(people) >= 2 and people == sorted(people, reverse=True)
    assert serious_violations(page) == []
    assert not scrolls_sideways(page)
    assert site.foreign == []


def test_the_form_asks_again_without_javascript_and_in_elder_mode(new_page, site):
    page = new_page(java_script_enabled=False)
    page.goto(URL + "&elder=1")
    page.get_by_label("步行距离（米）").fill("500")
    page.get_by_label("人群").select_option("population_60_plus")
    page.get_by_role("button", name="查看覆盖率").click()
    page.wait_for_url(re.compile(r"distance_m=500"))
    assert "60岁以上" in page.locator("main").inner_text()
    assert "500 米" in page.locator("main").inner_text()
    assert not scrolls_sideways(page)
    assert site.foreign == []

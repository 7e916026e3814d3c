"""The console (/admin) in a real browser: sign in with a key, check and import a file, find
the new facility on /, and a stale edit's 412 told plainly."""

from __future__ import annotations

import re

import pytest

from servicemap.auth import create_key

from ..conftest import HEADER_ZH
from .conftest import scrolls_sideways, serious_violations

GOOD_ROW = ("CONSOLE-1,北碚区控制台测试老年食堂,助餐点,助餐,社区,是,重庆市北碚区天生路8号,500109,"
            "天生街道,29.8261,106.4372,023-68200999,1-7 06:00-22:00,30,5\n")
BAD_ROW = ("CONSOLE-2,北碚区坐标错误食堂,助餐点,助餐,社区,是,重庆市北碚区天生路9号,500109,"
           "天生街道,99.5,106.4372,,1-5 10:30-13:00,30,5\n")


@pytest.fixture
def admin_key(site) -> str:
    with site.app.app_context():
        return create_key("admin", [], "console test")[1]


def sign_in(page, key: str) -> None:
    page.goto("/admin")
    page.get_by_label("API 密钥", exact=True).fill(key)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("[data-console]:not([hidden])")


def storage_and_cookies(page) -> str:
    stored = page.evaluate("JSON.stringify([Object.entries(localStorage), document.cookie])")
    return stored + str(page.context.cookies())


def test_sign_in_check_fix_import_and_find_it_on_the_search_page(page, site, admin_key,
                                                                tmp_path):
    sign_in(page, admin_key)
    assert page.evaluate("sessionStorage.getItem('servicemap.key')") == admin_key
    assert admin_key not in storage_and_cookies(page) and admin_key not in page.url

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER_ZH + GOOD_ROW + BAD_ROW, encoding="utf-8")
    page.get_by_label(re.compile("文件")).set_input_files(str(bad))
    page.get_by_role("button", name="预检").click()
    problem = page.locator("[data-line]")
    problem.first.wait_for()
    assert problem.first.get_attribute("data-line") == "3"
    assert "纬度" in problem.first.inner_text() or "lat" in problem.first.inner_text()
    assert page.get_by_role("button", name="导入", exact=True).is_disabled()

    good = tmp_path / "good.csv"
    good.write_text(HEADER_ZH + GOOD_ROW, encoding="utf-8")
    page.get_by_label(re.compile("文件")).set_input_files(str(good))
    page.get_by_role("button", name="预检").click()
    page.get_by_text("预检通过").wait_for()
    page.get_by_role("button", name="导入", exact=True).click()
    page.get_by_text("已导入").wait_for()
    assert "新建 1" in page.locator("[data-import-report]").inner_text()

    page.goto("/?lat=29.8261&lon=106.4372&kind=meal_point&radius_m=1000")
    first = page.locator("[data-facility-id]").first
    assert "北碚区控制台测试老年食堂" in first.inner_text()
    assert site.foreign == []


def test_a_stale_edit_says_so_and_offers_a_reload(page, site, admin_key):
    sign_in(page, admin_key)
    page.get_by_label("名称或地址").fill("朝阳街道老年食堂")
    page.locator("[data-facility-search]").get_by_role("button", name="搜索").click()
    api = site.app.test_client()
    matching = api.get("/api/v1/facilities?q=朝阳街道老年食堂").json["total"]
    page.get_by_text(f"共 {matching} 个机构，第 1 页").wait_for()  # the search's own list
    found = page.locator("[data-facility-row][data-etag]", has_text="朝阳街道老年食堂").first
    found.wait_for()
    facility_id = found.get_attribute("data-facility-row")
    row = page.locator(f"[data-facility-row='{facility_id}']")

    # Someone else changes the facility after the page read it.
    changed = api.patch(f"/api/v1/facilities/{facility_id}", json={"vacancies": 7},
                        headers={"Authorization": f"Bearer {admin_key}"})
    assert changed.status_code == 200

    row.get_by_label("空位").fill("2")
    row.get_by_role("button", name="保存").click()
    stale = row.locator("[data-stale]")
    stale.wait_for()
    assert "已被他人修改" in stale.inner_text()
    row.get_by_role("button", name="重新载入").click()
    page.wait_for_function(
        "id => document.querySelector(`[data-facility-row='${id}'] input[name=vacancies]`)"
        ".value === '7'", arg=facility_id)
    assert api.get(f"/api/v1/facilities/{facility_id}").json["vacancies"] == 7


def test_a_wrong_key_is_refused_and_not_kept(page):
    page.goto("/admin")
    page.get_by_label("API 密钥", exact=True).fill("smk_not_a_real_key")
    page.get_by_role("button", name="登录").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "登录失败" in alert.inner_text()
    assert page.evaluate("sessionStorage.length") == 0


def test_the_console_is_accessible_and_fits_a_phone_in_both_modes(page, site, admin_key):
    page.goto("/admin")
    assert serious_violations(page) == []
    sign_in(page, admin_key)
    page.locator("[data-facility-row]").first.wait_for()
    page.locator("[data-audit-rows] tr").first.wait_for()
    assert serious_violations(page) == []
    assert not scrolls_sideways(page)
    page.get_by_role("button", name=re.compile("长辈模式")).click()
    page.wait_for_selector("html.elder")
    page.wait_for_selector("[data-console]:not([hidden])")  # still signed in in this tab
    page.locator("[data-facility-row]").first.wait_for()
    assert serious_violations(page) == []
    assert not scrolls_sideways(page)
    assert site.foreign == []


def test_sign_out_forgets_the_key(page, admin_key):
    sign_in(page, admin_key)
    page.get_by_role("button", name="退出").click()
    page.wait_for_selector("[data-signin]:not([hidden])")
    assert page.evaluate("sessionStorage.length") == 0

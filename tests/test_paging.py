"""Paging of the facility lists (/facilities and HSDS): cursors, and totals past the threshold."""

from __future__ import annotations

import base64
import json

import pytest

from .conftest import assert_problem, create

LISTS = ["/api/v1/facilities", "/api/v1/hsds/services", "/api/v1/hsds/organizations",
         "/api/v1/hsds/service_at_locations"]


def items(body: dict) -> list[dict]:
    return body["items"] if "items" in body else body["contents"]


def walk(client, path: str, per_page: int, between=None) -> list[dict]:
    """Every page by cursor from the first, calling between(page number) after each."""
    body = client.get(f"{path}?per_page={per_page}").json
    seen, number = list(items(body)), 1
    while body["next_cursor"]:
        if between:
            between(number)
        number += 1
        response = client.get(f"{path}?per_page={per_page}&cursor={body['next_cursor']}")
        assert response.status_code == 200, response.json
        body = response.json
        seen += items(body)
    return seen


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_walk_returns_every_facility_once_in_list_order(client, admin, path):
    for name in ["丁", "甲", "乙", "丙", "甲", "戊", "乙"]:  # repeated names: the id decides
        create(client, admin, name=f"{name}食堂")
    by_page = items(client.get(f"{path}?per_page=100").json)
    walked = walk(client, path, per_page=2)
    assert [row["id"] for row in walked] == [row["id"] for row in by_page]
    assert len(walked) == 7


def test_a_cursor_walk_under_inserts_neither_repeats_nor_skips(client, admin):
    originals = {create(client, admin, name=f"食堂{number:02}")["id"] for number in range(0, 12, 2)}
    added_after = set()

    def insert(number: int) -> None:
        # One before the walk's position (it shifts offset pages but not cursor pages), one
        # after it (which the walk reaches).
        create(client, admin, name=f"食堂{number * 2 - 1:02}")
        added_after.add(create(client, admin, name=f"食堂{number * 2 + 7:02}")["id"])

    walked = walk(client, "/api/v1/facilities", per_page=2, between=insert)
    ids = [row["id"] for row in walked]
    assert len(ids) == len(set(ids))
    assert originals <= set(ids) and added_after <= set(ids)
    names = [row["name"] for row in walked]
    assert names == sorted(names)


def test_pages_by_cursor_have_no_number_and_link_to_the_next(client, admin):
    for number in range(3):
        create(client, admin, name=f"食堂{number}")
    first = client.get("/api/v1/facilities?per_page=2&district=500109")
    assert first.json["page"] == 1 and first.json["next_cursor"]
    second = client.get(f"/api/v1/facilities?per_page=2&district=500109"
                        f"&cursor={first.json['next_cursor']}")
    assert second.json["page"] is None and second.json["next_cursor"] is None
    assert [row["name"] for row in second.json["items"]] == ["食堂2"]
    assert 'rel="next"' not in second.headers["Link"]
    hsds = client.get(f"/api/v1/hsds/services?per_page=2&cursor={first.json['next_cursor']}").json
    assert (hsds["page_number"], hsds["first_page"], hsds["last_page"]) == (None, False, True)


def first_link(response, rel: str) -> str:
    """The URL of the Link header's entry of this rel."""
    for part in response.headers["Link"].split(", "):
        url, _, kind = part.partition("; ")
        if kind == f'rel="{rel}"':
            return url.strip("<>")
    raise AssertionError(f"no {rel} link in {response.headers['Link']}")


def test_the_next_link_of_a_cursor_page_keeps_the_filters(client, admin):
    for number in range(3):
        create(client, admin, name=f"食堂{number}")
    cursor = client.get("/api/v1/facilities?per_page=1").json["next_cursor"]
    page = client.get(f"/api/v1/facilities?per_page=1&district=500109&cursor={cursor}")
    following = client.get(first_link(page, "next"))
    assert following.status_code == 200
    assert [row["name"] for row in following.json["items"]] == ["食堂2"]
    assert "district=500109" in first_link(page, "next")


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("cursor", [
    "abc", "!!!!", _cursor(["食堂", "not-a-uuid"]), _cursor(["食堂"]), _cursor({"a": 1}),
    _cursor(["食堂", 5]), base64.urlsafe_b64encode(b"\xff\xfe").decode(), "x" * 2000,
])
def test_a_bad_cursor_is_422_naming_cursor(client, path, cursor):
    assert_problem(client.get(f"{path}?cursor={cursor}"), 422, "cursor")


@pytest.mark.parametrize("query", ["page=2", "page=1", "lat=29.8&lon=106.4"])
def test_a_cursor_with_a_page_number_or_a_point_is_422_naming_cursor(client, admin, query):
    cursor = _cursor(["食堂", "8e3c4a52-3cf4-4e4b-8f6c-7f6d3f1d2a10"])
    path = "/api/v1/hsds/services" if "lat" in query else "/api/v1/facilities"
    assert_problem(client.get(f"{path}?{query}&cursor={cursor}"), 422, "cursor")


def test_totals_past_the_threshold_are_estimates_flagged_as_such(app, client, admin):
    for number in range(8):
        create(client, admin, name=f"食堂{number}", kind="meal_point")
        create(client, admin, name=f"幼儿园{number}", kind="kindergarten",
               services=["preschool"], age_months_min=36, age_months_max=72)
    exact = client.get("/api/v1/facilities?kind=meal_point").json
    assert (exact["total"], exact["total_estimated"]) == (8, False)
    app.config["SERVICEMAP"].count_exact_max = 3
    estimated = client.get("/api/v1/facilities?kind=meal_point&per_page=5").json
    assert estimated["total_estimated"] is True
    assert 6 <= estimated["total"] <= 10  # every other facility: a sample of an even spread
    assert len(estimated["items"]) == 5 and estimated["next_cursor"]
    # A page by number on which the list ends gives the total exactly, whatever the limit.
    hsds = client.get("/api/v1/hsds/services?per_page=100").json
    assert hsds["total_estimated"] is False and hsds["total_items"] == 16
    assert hsds["last_page"] is True
    last = client.get("/api/v1/facilities?kind=meal_point&per_page=5&page=2").json
    assert (last["total"], last["total_estimated"], len(last["items"])) == (8, False, 3)
    beyond = client.get("/api/v1/facilities?kind=meal_point&per_page=5&page=3").json
    assert beyond["items"] == [] and beyond["total_estimated"] is True  # nothing to count on
    small = client.get("/api/v1/facilities?kind=meal_point&q=食堂1").json
    assert (small["total"], small["total_estimated"]) == (1, False)

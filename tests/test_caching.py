"""HTTP caching and compression as clients and proxies see them: ETag, If-None-Match, 304,
Cache-Control, Vary, and gzip/brotli answers that decompress to the same bytes."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from .conftest import NEAREST, ORIGIN, create, north_of

PUBLIC_READS = [
    "/api/v1/facilities?per_page=50",
    f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}",
    "/api/v1/hsds/services",
    "/api/v1/hsds/organizations",
    "/api/v1/programs",
    "/api/v1/programs/elder_meal_priority",
]


@pytest.fixture
def registry(client, admin):
    """Six facilities near ORIGIN, open every day from 08:00 to 17:30."""
    hours_ = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "08:00", "closes": "17:30"}]
    return [create(client, admin, name=f"食堂{number}", location=north_of(100 * number + 50),
                   opening_hours=hours_, holiday_rule="open") for number in range(6)]


def max_age(response) -> int:
    found = re.fullmatch(r"public, max-age=(\d+)", response.headers["Cache-Control"])
    assert found, response.headers["Cache-Control"]
    return int(found.group(1))


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_public_reads_carry_a_strong_etag_and_answer_304_to_it(client, registry, path):
    response = client.get(path)
    assert response.status_code == 200
    tag = response.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert 0 < max_age(response) <= 60
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag and again.headers["Cache-Control"]
    stale = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == response.data


def test_the_etag_changes_when_the_answer_does(client, admin, registry):
    before = client.get("/api/v1/facilities")
    client.patch(f"/api/v1/facilities/{registry[0]['id']}", json={"vacancies": 0}, headers=admin)
    after = client.get("/api/v1/facilities", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]


def test_a_facility_keeps_its_version_etag_for_if_match(client, admin, registry):
    path = f"/api/v1/facilities/{registry[0]['id']}"
    read = client.get(path)
    assert 0 < max_age(read) <= 60
    assert client.get(path, headers={"If-None-Match": read.headers["ETag"]}).status_code == 304
    changed = client.patch(path, json={"vacancies": 1}, headers={
        **admin, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200
    stale = client.patch(path, json={"vacancies": 2}, headers={
        **admin, "If-Match": read.headers["ETag"]})
    assert stale.status_code == 412


@pytest.mark.parametrize("path", ["/api/v1/facilities", NEAREST + f"?lat={ORIGIN[0]}&lon="
                                  f"{ORIGIN[1]}", "/api/v1/facilities/{id}"])
def test_no_cache_keeps_an_answer_past_the_moment_open_now_changes(
        client, registry, clock, path):
    clock("2026-11-26T17:29:20")  # Thursday: every facility closes at 17:30, in 40 seconds
    response = client.get(path.replace("{id}", registry[0]["id"]))
    assert response.json.get("open_now", True) is True
    assert max_age(response) == 40


def test_nearest_varies_by_accept_as_it_answers_json_or_geojson(client, registry):
    response = client.get(f"{NEAREST}?lat={ORIGIN[0]}&lon={ORIGIN[1]}")
    vary = {part.strip().lower() for part in response.headers["Vary"].split(",")}
    assert {"accept", "accept-encoding"} <= vary


def test_reads_with_a_key_writes_eligibility_and_health_are_never_stored(client, admin):
    created = client.post("/api/v1/facilities", json=dict(
        name="食堂", kind="meal_point", district="500109", address="重庆市北碚区天生路1号",
        location={"lat": 29.8257, "lon": 106.4370}), headers=admin)
    assert created.status_code == 201
    answers = [
        created,
        client.get("/api/v1/facilities", headers=admin),
        client.get("/api/v1/audit", headers=admin),
        client.post("/api/v1/eligibility", json={"person": {"age": 70}}),
        client.get("/healthz"),
        client.get("/readyz"),
    ]
    for response in answers:
        assert response.headers["Cache-Control"] == "no-store", response.request.path
        if response.request.method == "GET":
            assert "ETag" not in response.headers


@pytest.mark.parametrize("encoding, decompress", [("gzip", gzip.decompress),
                                                  ("br", brotli.decompress)])
@pytest.mark.parametrize("path", [
    "/api/v1/facilities?per_page=50", "/api/v1/hsds/services",
    "/api/v1/exports/facilities.csv", "/api/v1/exports/facilities.geojson",
])
def test_large_answers_come_compressed_when_asked_and_decompress_to_the_same_bytes(
        client, registry, path, encoding, decompress):
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert "accept-encoding" in packed.headers["Vary"].lower()
    assert len(packed.data) < len(plain.data)
    assert decompress(packed.data) == plain.data


def test_a_compressed_answer_has_its_own_etag_and_304(client, registry):
    path, asked = "/api/v1/facilities?per_page=50", {"Accept-Encoding": "gzip"}
    plain, packed = client.get(path), client.get(path, headers=asked)
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(path, headers={**asked, "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_small_answers_are_not_compressed(client):
    response = client.get("/api/v1/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and len(response.data) < 1024
    assert "Content-Encoding" not in response.headers

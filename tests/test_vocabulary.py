"""The vocabularies read both ways: what we write, we read back as it was."""

from __future__ import annotations

import pytest

from servicemap.hsds import HSDS_STATUS, PUBLISHED
from servicemap.importing.hsds import service_to_facility
from servicemap.spreadsheet import parse_days


@pytest.mark.parametrize(("text", "days"), [
    ("周一至周五", [1, 2, 3, 4, 5]), ("星期六、星期日", [6, 7]), ("周天", [7]),
    ("每天", list(range(1, 8)))])
def test_chinese_weekdays_read_as_iso_days(text, days):
    assert parse_days(text) == days


@pytest.mark.parametrize("status", PUBLISHED)
def test_every_published_status_reads_back_from_hsds(status):
    service = {"name": "北碚区天生街道老年食堂", "status": HSDS_STATUS[status]}
    assert service_to_facility(service).get("status", "active") == status


def test_hsds_defunct_reads_as_inactive_and_byday_as_iso_days():
    facility = service_to_facility({
        "name": "北碚区天生街道老年食堂", "status": "defunct",
        "schedules": [{"byday": "SU,SA,XX", "opens_at": "09:00:00", "closes_at": "17:00:00"}]})
    assert facility["status"] == "inactive"
    assert facility["opening_hours"] == [{"days": [6, 7], "opens": "09:00", "closes": "17:00"}]

"""Opening hours: weekly intervals in Asia/Shanghai, including hours that pass midnight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicemap.hours import is_open

WEEKDAYS = [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}]
NIGHTS = [{"days": [5, 6], "opens": "20:00", "closes": "02:00"}]
ALWAYS = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}]


@pytest.mark.parametrize("hours, moment, expected", [
    (WEEKDAYS, "2026-11-23T08:00", True),    # Monday, opening minute
    (WEEKDAYS, "2026-11-23T07:59", False),
    (WEEKDAYS, "2026-11-23T17:29", True),
    (WEEKDAYS, "2026-11-23T17:30", False),   # closing minute is closed
    (WEEKDAYS, "2026-11-28T10:00", False),   # Saturday
    (NIGHTS, "2026-11-27T23:00", True),      # Friday night
    (NIGHTS, "2026-11-28T01:59", True),      # after midnight: Friday's hours go on
    (NIGHTS, "2026-11-28T02:00", False),
    (NIGHTS, "2026-11-29T01:00", True),      # Sunday small hours belong to Saturday night
    (NIGHTS, "2026-11-30T01:00", False),     # Monday small hours: Sunday has no night
    (NIGHTS, "2026-11-27T01:00", False),     # Friday small hours: Thursday has no night
    (ALWAYS, "2026-11-24T23:59", True),
    ([], "2026-11-24T12:00", False),         # unpublished hours are never known to be open
])
def test_is_open_in_shanghai_wall_clock_time(hours, moment, expected):
    assert is_open(hours, datetime.fromisoformat(moment)) is expected


def test_aware_moments_are_converted_to_shanghai_time():
    # 00:30 UTC on Monday is 08:30 in Shanghai.
    assert is_open(WEEKDAYS, datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    # 10:00 UTC on Monday is 18:00 in Shanghai: closed.
    assert not is_open(WEEKDAYS, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))

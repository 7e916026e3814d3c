"""Opening hours: weekly intervals in Asia/Shanghai, including hours that pass midnight, on
China's calendar of statutory holidays, make-up workdays and temporary closures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from servicemap.holidays import load_calendar
from servicemap.hours import default_holiday_rule, is_open, next_change, opening_state

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


# China's calendar: the 2026 schedule comes from the chinesecalendar package.
CALENDAR = load_calendar(None)
# Monday's hours differ from Friday's, so a make-up day shows which weekday it borrowed.
OFFICE = [{"days": [1], "opens": "09:00", "closes": "12:00"},
          {"days": [2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}]
NIGHTLY = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "20:00", "closes": "02:00"}]


def open_at(hours, moment: str, rule: str, closures=(), calendar=CALENDAR) -> bool:
    return is_open(hours, datetime.fromisoformat(moment), rule, list(closures), calendar)


@pytest.mark.parametrize("moment, closed, opened, weekly", [
    # National Day, 1-7 October (Thursday to Wednesday); Saturday 10 October a workday.
    ("2026-09-30T10:00", True, True, True),      # the eve, a Wednesday
    ("2026-10-01T10:00", False, True, True),     # holiday on a Thursday
    ("2026-10-05T10:00", False, True, True),     # holiday on a Monday
    ("2026-10-07T10:00", False, True, True),
    ("2026-10-08T10:00", True, True, True),
    ("2026-10-10T10:00", True, True, False),     # make-up Saturday: Friday's hours
    ("2026-10-10T17:00", True, True, False),
    ("2026-10-11T10:00", False, False, False),   # the Sunday after: an ordinary weekend
    # New Year, 1-3 January; Sunday 4 January a workday with Monday's hours (09:00-12:00).
    ("2026-01-01T10:00", False, True, True),
    ("2026-01-02T10:00", False, True, True),
    ("2026-01-04T08:30", False, False, False),   # Monday opens at 09:00
    ("2026-01-04T09:30", True, True, False),
    ("2026-01-04T13:00", False, False, False),   # Monday closes at 12:00
    ("2026-01-05T10:00", True, True, True),
    # Spring Festival, 15-23 February; Saturdays 14 and 28 February workdays.
    ("2026-02-13T10:00", True, True, True),
    ("2026-02-14T16:00", True, True, False),     # Friday's hours (to 17:30), not Monday's
    ("2026-02-16T10:00", False, True, True),
    ("2026-02-23T10:00", False, True, True),     # the last day, a Monday: 09:00-12:00
    ("2026-02-24T10:00", True, True, True),
    ("2026-02-28T10:00", True, True, False),
    # Mid-autumn, 25-27 September; Sunday 20 September a workday.
    ("2026-09-20T10:00", True, True, False),
    ("2026-09-25T10:00", False, True, True),     # a Friday
    ("2026-09-28T10:00", True, True, True),      # the Monday after: 09:00-12:00
    ("2026-09-28T13:00", False, False, False),
])
def test_each_holiday_rule_on_the_2026_calendar(moment, closed, opened, weekly):
    assert open_at(OFFICE, moment, "closed") is closed
    assert open_at(OFFICE, moment, "open") is opened
    assert open_at(OFFICE, moment, "weekly") is weekly


@pytest.mark.parametrize("moment, expected", [
    ("2026-09-30T23:00", True),   # the eve of National Day, a workday night
    ("2026-10-01T01:59", True),   # the eve's shift runs on past midnight into the holiday
    ("2026-10-01T02:00", False),
    ("2026-10-01T20:00", False),  # no shift opens on a holiday
    ("2026-10-02T01:00", False),  # so none spills into the next morning
    ("2026-10-08T01:00", False),  # nor from the last holiday into the first workday
    ("2026-10-08T20:00", True),
    ("2026-10-09T00:00", True),   # midnight itself, inside the 8 October shift
])
def test_hours_past_midnight_across_a_holiday_edge(moment, expected):
    assert open_at(NIGHTLY, moment, "closed") is expected


def test_a_closure_shuts_whole_days_inclusive():
    closure = [{"from": "2026-11-10", "to": "2026-11-12", "reason": "装修停业"}]
    assert open_at(OFFICE, "2026-11-09T10:00", "weekly", closure)
    assert not open_at(OFFICE, "2026-11-10T10:00", "weekly", closure)  # first day
    assert not open_at(OFFICE, "2026-11-12T17:00", "weekly", closure)  # last day
    assert open_at(OFFICE, "2026-11-13T10:00", "weekly", closure)
    # A night shift that opened before the closure stops at its first midnight.
    assert open_at(NIGHTLY, "2026-11-09T23:59", "open", closure)
    assert not open_at(NIGHTLY, "2026-11-10T00:00", "open", closure)
    assert not open_at(NIGHTLY, "2026-11-13T01:00", "open", closure)
    assert open_at(NIGHTLY, "2026-11-13T20:00", "open", closure)


def test_a_make_up_day_keeps_the_weekday_the_calendar_names(tmp_path):
    table = tmp_path / "holidays.csv"
    table.write_text("date,kind,works_as,name\n2027-02-06,workday,1,春节调休（按周一）\n"
                     "2027-02-08,holiday,,春节\n", encoding="utf-8")
    calendar = load_calendar(table)
    # Saturday 6 February 2027 works as a Monday: 09:00-12:00, not Friday's 08:00-17:30.
    assert not open_at(OFFICE, "2027-02-06T08:30", "closed", calendar=calendar)
    assert open_at(OFFICE, "2027-02-06T09:30", "closed", calendar=calendar)
    assert not open_at(OFFICE, "2027-02-06T13:00", "closed", calendar=calendar)
    assert not open_at(OFFICE, "2027-02-08T09:30", "closed", calendar=calendar)


def test_a_year_nobody_knows_falls_back_to_weekly_hours_and_says_so():
    assert not CALENDAR.knows(date(2030, 10, 1))
    assert open_at(OFFICE, "2030-10-01T10:00", "closed")  # a Tuesday, taken as ordinary
    facility = SimpleNamespace(opening_hours=OFFICE, holiday_rule="closed", closures=[],
                               status="active")
    state = opening_state(facility, datetime(2030, 10, 1, 10, 0), CALENDAR)
    assert state == {"open_now": True, "next_change": "2030-10-01T17:30:00+08:00",
                     "holiday_data": "unavailable"}
    # The week ahead reaching into an unknown year is flagged too.
    assert opening_state(facility, datetime(2026, 12, 28, 10, 0),
                         CALENDAR)["holiday_data"] == "unavailable"
    assert opening_state(facility, datetime(2026, 12, 20, 10, 0),
                         CALENDAR)["holiday_data"] == "available"


@pytest.mark.parametrize("moment, expected", [
    ("2026-10-09T12:00", "2026-10-09T17:30:00+08:00"),  # open: when it closes
    ("2026-10-09T18:00", "2026-10-10T08:00:00+08:00"),  # make-up Saturday opens
    ("2026-10-02T10:00", "2026-10-08T08:00:00+08:00"),  # through the holiday
    ("2026-09-30T18:00", None),                          # reopens 8 October: over 7 days
    ("2026-10-01T07:59", None),
])
def test_next_change_on_the_calendar(moment, expected):
    change = next_change(OFFICE, datetime.fromisoformat(moment), "closed", [], CALENDAR)
    assert (change.isoformat() if change else None) == expected


def test_next_change_for_round_the_clock_service_is_a_closure_or_nothing():
    closure = [{"from": "2026-11-30", "to": "2026-11-30", "reason": None}]
    moment = datetime(2026, 11, 26, 12, 0)
    assert next_change(ALWAYS, moment, "open", [], CALENDAR) is None
    assert next_change(ALWAYS, moment, "open", closure, CALENDAR).isoformat() == (
        "2026-11-30T00:00:00+08:00")
    during = datetime(2026, 11, 30, 12, 0)
    assert next_change(ALWAYS, during, "open", closure, CALENDAR).isoformat() == (
        "2026-12-01T00:00:00+08:00")


def test_moments_aware_or_naive_are_read_as_shanghai_dates():
    # 23:30 UTC on 7 October (a holiday date in UTC) is 07:30 on 8 October in Shanghai.
    assert not is_open(OFFICE, datetime(2026, 10, 7, 23, 30, tzinfo=UTC), "closed", [],
                       CALENDAR)
    assert is_open(OFFICE, datetime(2026, 10, 8, 0, 30, tzinfo=UTC), "closed", [], CALENDAR)
    # 17:00 UTC on 30 September is 01:00 on National Day in Shanghai.
    assert is_open(NIGHTLY, datetime(2026, 9, 30, 17, 0, tzinfo=UTC), "closed", [], CALENDAR)
    assert not is_open(NIGHTLY, datetime(2026, 10, 1, 17, 0, tzinfo=UTC), "closed", [],
                       CALENDAR)
    # Any offset: 10:00 in Tokyo on 8 October is 09:00 in Shanghai.
    tokyo = datetime.fromisoformat("2026-10-08T10:00+09:00")
    assert is_open(OFFICE, tokyo, "closed", [], CALENDAR)
    assert next_change(OFFICE, tokyo, "closed", [], CALENDAR).isoformat() == (
        "2026-10-08T17:30:00+08:00")


def test_answers_say_not_open_for_facilities_not_active_or_without_hours():
    moment = datetime(2026, 11, 26, 10, 0)
    shut = SimpleNamespace(opening_hours=OFFICE, holiday_rule="closed", closures=[],
                           status="temporarily_closed")
    assert opening_state(shut, moment, CALENDAR)["open_now"] is False
    unknown = SimpleNamespace(opening_hours=[], holiday_rule="closed", closures=[],
                              status="active")
    assert opening_state(unknown, moment, CALENDAR)["open_now"] is None
    closed = SimpleNamespace(opening_hours=[], holiday_rule="closed", status="active",
                             closures=[{"from": "2026-11-26", "to": "2026-11-26"}])
    assert opening_state(closed, moment, CALENDAR)["open_now"] is False


@pytest.mark.parametrize("kind, hours, rule", [
    ("kindergarten", OFFICE, "closed"),
    ("nursery", OFFICE, "closed"),
    ("meal_point", OFFICE, "closed"),
    ("elder_care_station", [], "closed"),
    ("care_home", OFFICE, "open"),
    ("meal_point", ALWAYS, "open"),
    # Round the clock in pieces, past midnight: still a 24-hour service.
    ("elder_care_center", [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "08:00", "closes": "20:00"},
                           {"days": [1, 2, 3, 4, 5, 6, 7], "opens": "20:00", "closes": "08:00"}],
     "open"),
    ("elder_care_center", [{"days": [1, 2, 3, 4, 5, 6], "opens": "00:00", "closes": "24:00"}],
     "closed"),
])
def test_the_default_holiday_rule_by_kind_and_hours(kind, hours, rule):
    assert default_holiday_rule(kind, hours) == rule


@pytest.mark.parametrize("hours", [OFFICE, NIGHTLY, ALWAYS], ids=["office", "nightly", "always"])
@pytest.mark.parametrize("rule", ["closed", "open", "weekly"])
def test_next_change_is_where_is_open_flips(hours, rule):
    closures = [{"from": "2026-09-22", "to": "2026-09-23", "reason": "盘点"}]
    minute = timedelta(minutes=1)
    moment = datetime(2026, 9, 18, 0, 0)
    while moment < datetime(2026, 10, 14):  # Mid-autumn, National Day and their workdays
        now = is_open(hours, moment, rule, closures, CALENDAR)
        change = next_change(hours, moment, rule, closures, CALENDAR)
        if change is None:
            later = moment + timedelta(days=7)
            assert all(is_open(hours, moment + (later - moment) * k / 24, rule, closures,
                               CALENDAR) is now for k in range(25)), moment
        else:
            change = change.replace(tzinfo=None)
            assert moment < change <= moment + timedelta(days=7)
            assert is_open(hours, change - minute, rule, closures, CALENDAR) is now, moment
            assert is_open(hours, change, rule, closures, CALENDAR) is not now, moment
        moment += timedelta(minutes=170)  # steps that fall on every tenth minute of the hour

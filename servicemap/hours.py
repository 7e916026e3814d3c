"""Opening hours in Asia/Shanghai, on China's calendar: is a facility open, and until when?

The weekly hours say when a facility opens on each ISO weekday. The calendar (holidays.py)
changes which weekday's hours apply, by the facility's `holiday_rule`:

- `closed`: shut on statutory holidays; on a make-up workday (调休上班) it opens with
  working-day hours: the weekday the calendar data names, else Friday's for a Saturday and
  Monday's for a Sunday.
- `open`: keeps its weekly hours on holidays, and like `closed` works make-up workdays with
  working-day hours (otherwise it would mean the same as `weekly`).
- `weekly`: the weekly hours apply whatever the day.

An interval belongs to the day it opens: a night shift that starts on the eve of a holiday runs
on past midnight, and one that would start on a holiday does not. A closure (`closures`, dates
inclusive) shuts whole calendar days, midnight to midnight: a shift running into its first day
stops at midnight, and none opens on its days (so none spills past its last midnight either).
Asia/Shanghai has kept UTC+8 without daylight saving since 1991, so wall-clock arithmetic on
naive local times is exact.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .holidays import HolidayCalendar, current_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Slug: (Chinese labels, English label), as vocabulary.py gives them for imports.
HOLIDAY_RULES = {"closed": ("休息/节假日休息", "Closed on statutory holidays"),
                 "open": ("照常/节假日照常", "Weekly hours on holidays too"),
                 "weekly": ("按周/按周开放", "Weekly hours whatever the day")}
# Working-day hours for a make-up Saturday or Sunday when the calendar names no weekday.
MAKE_UP_WEEKDAY = {6: 5, 7: 1}
# Kinds that keep their hours on holidays; every other kind closes (see default_holiday_rule).
OPEN_ON_HOLIDAYS = {"care_home"}
# How far ahead next_change looks.
HORIZON = timedelta(days=7)
DAY = timedelta(days=1)


def clock_minutes(hhmm: str) -> int:
    """'HH:MM' as minutes after midnight ('24:00' is 1440)."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def local_time(moment: datetime) -> datetime:
    """A moment as a Shanghai wall-clock time; a naive moment is taken as Shanghai time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def shanghai_now() -> datetime:
    """The current moment in Asia/Shanghai (the one clock answers read; tests replace it)."""
    return datetime.now(SHANGHAI)


def round_the_clock(opening_hours: list[dict]) -> bool:
    """True when the weekly hours cover every minute of the week (a 24-hour service)."""
    covered = {day: [] for day in range(1, 8)}
    for interval in opening_hours or []:
        opens, closes = clock_minutes(interval["opens"]), clock_minutes(interval["closes"])
        for day in interval["days"]:
            if opens < closes:
                covered[day].append((opens, closes))
            else:  # past midnight: the evening here, the small hours the next day
                covered[day].append((opens, 1440))
                covered[day % 7 + 1].append((0, closes))
    for spans in covered.values():
        reached = 0
        for opens, closes in sorted(spans):
            if opens > reached:
                return False
            reached = max(reached, closes)
        if reached < 1440:
            return False
    return True


def default_holiday_rule(kind: str | None, opening_hours: list[dict] | None) -> str:
    """`open` for care homes and 24-hour services, else `closed`: community services,
    canteens and kindergartens are staffed on the working calendar, and a resident told
    "closed" on a holiday loses less than one who walks to a shut door."""
    if kind in OPEN_ON_HOLIDAYS or round_the_clock(opening_hours or []):
        return "open"
    return "closed"


def hours_weekday(day: date, holiday_rule: str, calendar: HolidayCalendar) -> int | None:
    """The ISO weekday whose weekly hours apply on the day, or None when shut for a holiday."""
    special = None if holiday_rule == "weekly" else calendar.special(day)
    if special is None:
        return day.isoweekday()
    if special.kind == "holiday":
        return None if holiday_rule == "closed" else day.isoweekday()
    return special.works_as or MAKE_UP_WEEKDAY.get(day.isoweekday(), day.isoweekday())


def _shifts(opening_hours: list[dict], weekday: int | None, day: date) -> list[tuple]:
    """(opens, closes) naive local datetimes of the intervals that open on the day."""
    if weekday is None:
        return []
    midnight = datetime(day.year, day.month, day.day)
    shifts = []
    for interval in opening_hours:
        if weekday in interval["days"]:
            opens, closes = clock_minutes(interval["opens"]), clock_minutes(interval["closes"])
            end = closes if opens < closes else closes + 1440
            shifts.append((midnight + timedelta(minutes=opens),
                           midnight + timedelta(minutes=end)))
    return shifts


def _closed_days(closures: list[dict]) -> list[tuple[date, date]]:
    return [(date.fromisoformat(c["from"]), date.fromisoformat(c["to"])) for c in closures or ()]


def _closed_on(day: date, closed: list[tuple[date, date]]) -> bool:
    return any(first <= day <= last for first, last in closed)


def hours_on(opening_hours: list[dict], day: date, holiday_rule: str = "weekly",
             closures: list[dict] = (), calendar: HolidayCalendar | None = None
             ) -> list[tuple[str, str]]:
    """The ("HH:MM", "HH:MM") intervals that open on a calendar day, by the same rules as
    is_open: none on a closure's days or a holiday the facility shuts for, a make-up workday's
    hours on one (for the pages' weekly table)."""
    if _closed_on(day, _closed_days(closures)):
        return []
    weekday = hours_weekday(day, holiday_rule, calendar or current_calendar())
    if weekday is None:
        return []
    return sorted((interval["opens"], interval["closes"]) for interval in opening_hours or ()
                  if weekday in interval["days"])


def is_open(opening_hours: list[dict], moment: datetime, holiday_rule: str = "weekly",
            closures: list[dict] = (), calendar: HolidayCalendar | None = None) -> bool:
    """True when an interval covers the moment on the facility's calendar; hours that pass
    midnight spill into the next day. A facility with no published hours is never known to
    be open. The one rule for answers' open_now and for /nearest's open_at and open_now."""
    if not opening_hours:
        return False
    local = moment if moment.tzinfo is None else moment.astimezone(SHANGHAI)
    today, minute = local.date(), local.hour * 60 + local.minute
    closed = _closed_days(closures) if closures else ()
    if closed and _closed_on(today, closed):
        return False
    calendar = calendar or current_calendar()
    # Minutes from today's midnight: yesterday's intervals start 1440 earlier. Plain integers,
    # as this runs for every candidate of a filtered search.
    for day, offset in ((today - DAY, -1440), (today, 0)):
        if closed and _closed_on(day, closed):
            continue
        weekday = hours_weekday(day, holiday_rule, calendar)
        if weekday is None:
            continue
        for interval in opening_hours:
            if weekday in interval["days"]:
                opens, closes = clock_minutes(interval["opens"]), clock_minutes(interval["closes"])
                end = closes if opens < closes else closes + 1440
                if opens + offset <= minute < end + offset:
                    return True
    return False


def _open_periods(opening_hours, holiday_rule, closures, first: date, last: date,
                  calendar: HolidayCalendar) -> list[list[datetime]]:
    """Merged open periods of the shifts opening from `first` to `last`, less closed days."""
    shifts, closed = [], _closed_days(closures)
    day = first
    while day <= last:
        weekday = None if _closed_on(day, closed) else hours_weekday(day, holiday_rule, calendar)
        shifts += _shifts(opening_hours, weekday, day)
        day += DAY
    for closed_from, closed_to in closed:
        hole_start = datetime(closed_from.year, closed_from.month, closed_from.day)
        hole_end = datetime(closed_to.year, closed_to.month, closed_to.day) + DAY
        kept = []
        for opens, closes in shifts:
            if closes <= hole_start or opens >= hole_end:
                kept.append((opens, closes))
                continue
            if opens < hole_start:
                kept.append((opens, hole_start))
            if closes > hole_end:
                kept.append((hole_end, closes))
        shifts = kept
    periods: list[list[datetime]] = []
    for opens, closes in sorted(shifts):
        if periods and opens <= periods[-1][1]:
            periods[-1][1] = max(periods[-1][1], closes)
        else:
            periods.append([opens, closes])
    return periods


def next_change(opening_hours: list[dict], moment: datetime, holiday_rule: str = "weekly",
                closures: list[dict] = (), calendar: HolidayCalendar | None = None
                ) -> datetime | None:
    """When the facility next opens or closes after the moment, within HORIZON (Shanghai
    time); None when nothing changes in that time or it publishes no hours."""
    if not opening_hours:
        return None
    local = local_time(moment).replace(tzinfo=None)
    today, until = local.date(), local + HORIZON
    periods = _open_periods(opening_hours, holiday_rule, closures, today - DAY,
                            until.date() + DAY, calendar or current_calendar())
    for opens, closes in periods:
        change = closes if opens <= local < closes else opens if opens > local else None
        if change is not None:
            return change.replace(tzinfo=SHANGHAI) if change <= until else None
    return None


def opening_state(facility, moment: datetime, calendar: HolidayCalendar | None = None) -> dict:
    """A facility's `open_now`, `next_change` and `holiday_data` at the moment, as answers
    carry them. open_now is null when no hours are published (and no closure applies);
    holiday_data is "unavailable" when the calendar does not know a day of the week ahead,
    in which case those days were taken at their weekly hours."""
    calendar = calendar or current_calendar()
    local = local_time(moment)
    hours, rule = facility.opening_hours or [], facility.holiday_rule or "weekly"
    closures = facility.closures or []
    # The days from yesterday to a week ahead span at most two years: both ends known, all are.
    known = calendar.knows(local.date() - DAY) and calendar.knows(local.date() + DAY * 7)
    state = {"open_now": None, "next_change": None,
             "holiday_data": "available" if known else "unavailable"}
    if facility.status != "active":
        state["open_now"] = False  # inactive, temporarily closed or draft: not open, nor soon
    elif hours:
        state["open_now"] = is_open(hours, local, rule, closures, calendar)
        change = next_change(hours, local, rule, closures, calendar)
        state["next_change"] = change.isoformat(timespec="seconds") if change else None
    elif _closed_on(local.date(), _closed_days(closures)):
        state["open_now"] = False
    return state

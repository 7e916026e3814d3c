"""Calendar arithmetic for age rules: anniversaries, school years, kindergarten classes.

A person reaches age N on the N-th anniversary of the birth date; an anniversary on a day the
month lacks (29 February in a common year, 31 April) falls on the month's last day
(民法典 第二百零二条). Every age function here is non-increasing in the birth date, so a rule
such as "age ≥ 60 on D" is the same as "born on or before some date", which is how a rule is
decided when only an integer age, hence an interval of possible birth dates, is known.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache

from servicemap.hours import SHANGHAI

ONE_DAY = timedelta(days=1)
CLASSES = ("small", "middle", "large")  # 小班, 中班, 大班: 0, 1, 2 years past the entry age


def today_in_shanghai() -> date:
    """Today's calendar date in Asia/Shanghai, the default as_of."""
    return datetime.now(SHANGHAI).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February in common years."""
    return add_months(day, 12 * years)


def age_years(birth: date, on: date) -> int:
    """Completed years of age on a date."""
    years = on.year - birth.year
    return years - 1 if add_years(birth, years) > on else years


def latest_birth_for_months(on: date, months: int) -> date:
    """The last birth date at which a person is at least `months` months old on `on`."""
    birth = add_months(on, -months)
    # Clamping can leave later births with the same anniversary (31 Jan, 30 Jan → 28 Feb).
    while add_months(birth + ONE_DAY, months) <= on:
        birth += ONE_DAY
    return birth


def latest_birth_for_years(on: date, years: int) -> date:
    """The last birth date at which a person is at least `years` old on `on`."""
    return latest_birth_for_months(on, 12 * years)


# Rules ask the same few thresholds on the same date for every person. Only rules' thresholds
# go through this cache, never a person's age: facts are not kept beyond their evaluation.
threshold_birth = lru_cache(maxsize=4096)(latest_birth_for_months)


def births_for_age(age: int, on: date) -> tuple[date, date]:
    """The first and last birth dates of a person who is `age` completed years old on `on`."""
    return latest_birth_for_years(on, age + 1) + ONE_DAY, latest_birth_for_years(on, age)


def school_year_of(day: date) -> int:
    """The school year containing a date, named by the year it starts (1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def class_births(school_year: int, kind: str, entry_age: int, cutoff: tuple[int, int]
                 ) -> tuple[date, date]:
    """First and last birth dates of a kindergarten class in a school year.

    小班 takes the children who reach the entry age on or before the cut-off day of the year the
    school year starts; 中班 and 大班 are one and two years older.
    """
    month, day = cutoff
    last_year = school_year - entry_age - CLASSES.index(kind)
    return date(last_year - 1, month, day) + ONE_DAY, date(last_year, month, day)


def class_of(births: tuple[date, date], school_year: int, entry_age: int,
             cutoff: tuple[int, int]) -> str | None:
    """The class a child is certainly in, given the interval of possible birth dates."""
    for kind in CLASSES:
        first, last = class_births(school_year, kind, entry_age, cutoff)
        if first <= births[0] and births[1] <= last:
            return kind
    return None


def months_counted(start: date, end: date, started: bool) -> int:
    """Months of an entitlement from `start` until the day before `end`.

    started: every month begun counts in full (1 January to 10 May is 5); else only completed
    months count (1 January to 10 May is 4).
    """
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1  # the last anniversary is after the end: that month is not complete
    if started and add_months(start, months) < end:
        months += 1
    return months


def parse_month_day(text: str) -> tuple[int, int]:
    """'08-31' as (8, 31); ValueError unless it is a day every year has."""
    month, day = (int(part) for part in text.split("-"))
    date(2001, month, day)  # a common year: rejects 02-29 as well as 04-31
    return month, day

"""China's calendar as data: statutory holidays (放假) and make-up workdays (调休上班).

Two sources, the table winning where both name a date: the maintained `chinesecalendar`
package for the years it knows, and seeds/holidays.csv, which an administrator extends for a
year the package does not know yet (the State Council announces each year in November), without
upgrading the code. A year neither knows is unknown: callers fall back to weekly hours and say so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import chinese_calendar
from flask import current_app, has_app_context

from .bounds import DATE_RANGE_MESSAGE, date_in_bounds
from .config import default_seeds_dir

TABLE_NAME = "holidays.csv"
TABLE_COLUMNS = ("date", "kind", "works_as", "name")
# The table's kinds, with the Chinese words of the State Council's notices.
KIND_WORDS = {"holiday": "holiday", "放假": "holiday", "休": "holiday",
              "workday": "workday", "上班": "workday", "班": "workday"}
NAME_MAX = 100


class HolidayTableError(ValueError):
    """A bad line in the holiday table: the file, the line and what is wrong."""


@dataclass(frozen=True)
class SpecialDay:
    """A day the calendar treats unlike its weekday."""

    kind: str  # "holiday" (statutory, 放假) or "workday" (make-up, 调休上班)
    name: str | None = None
    # A make-up workday keeps the hours of this ISO weekday when the data names one (按周X).
    works_as: int | None = None


class HolidayCalendar:
    """Which days are statutory holidays or make-up workdays, for the years the data knows."""

    def __init__(self, days: dict[date, SpecialDay], years: set[int]):
        self.days, self.years = days, frozenset(years)

    def knows(self, day: date) -> bool:
        """True when the data covers the day's year (an ordinary day is then really ordinary)."""
        return day.year in self.years

    def special(self, day: date) -> SpecialDay | None:
        """The day's holiday or make-up workday, or None for an ordinary (or unknown) day."""
        return self.days.get(day)


def package_days() -> tuple[dict[date, SpecialDay], set[int]]:
    """The chinesecalendar package's holidays and make-up workdays, and the years it knows."""
    days = {day: SpecialDay("holiday", name) for day, name in chinese_calendar.holidays.items()}
    days |= {day: SpecialDay("workday", name) for day, name in chinese_calendar.workdays.items()}
    # Every year the package covers has statutory holidays (元旦 at least).
    return days, {day.year for day in chinese_calendar.holidays}


def read_table(path: Path) -> dict[date, SpecialDay]:
    """The administrator's table: `date,kind,works_as,name`, one day a line, `#` comments."""
    days: dict[date, SpecialDay] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = ((number, text) for number, text in enumerate(handle, start=1)
                 if text.strip() and not text.lstrip().startswith("#"))
        header = next(lines, (1, ""))
        if [c.strip() for c in next(csv.reader([header[1]]), [])] != list(TABLE_COLUMNS):
            columns = ",".join(TABLE_COLUMNS)
            raise HolidayTableError(f"{path}:{header[0]}: the header must be {columns}. "
                                    f"表头应为 {columns}。")
        for number, text in lines:
            day, special = _table_row(next(csv.reader([text])), f"{path}:{number}")
            if day in days:
                raise HolidayTableError(f"{path}:{number}: {day} is listed twice. 日期重复。")
            days[day] = special
    return days


def _table_row(cells: list[str], where: str) -> tuple[date, SpecialDay]:
    if len(cells) != len(TABLE_COLUMNS):
        raise HolidayTableError(f"{where}: expected {len(TABLE_COLUMNS)} cells "
                                f"({','.join(TABLE_COLUMNS)}), got {len(cells)}. 列数不对。")
    text, kind, works_as, name = (cell.strip() for cell in cells)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise HolidayTableError(f"{where}: date {text!r} is not YYYY-MM-DD. 日期格式应为 "
                                "YYYY-MM-DD。") from None
    if not date_in_bounds(day):
        raise HolidayTableError(f"{where}: date {text}: {DATE_RANGE_MESSAGE}")
    if kind not in KIND_WORDS:
        raise HolidayTableError(f"{where}: kind {kind!r} must be holiday/放假 or workday/上班. "
                                "类型应为放假或上班。")
    kind = KIND_WORDS[kind]
    weekday = None
    if works_as:
        if kind != "workday" or works_as not in {str(n) for n in range(1, 8)}:
            raise HolidayTableError(f"{where}: works_as {works_as!r} must be an ISO weekday "
                                    "1-7, and only on a workday. works_as 只用于上班日，填 1-7。")
        weekday = int(works_as)
    if len(name) > NAME_MAX:
        raise HolidayTableError(f"{where}: name is longer than {NAME_MAX} characters. 名称过长。")
    return day, SpecialDay(kind, name or None, weekday)


def load_calendar(table: Path | None) -> HolidayCalendar:
    """The package's data overlaid with the table's (absent table: the package alone)."""
    days, years = package_days()
    if table is not None and table.is_file():
        extra = read_table(table)
        days = days | extra
        years = years | {day.year for day in extra}
    return HolidayCalendar(days, years)


@lru_cache(maxsize=1)
def _default_calendar() -> HolidayCalendar:
    return load_calendar(default_seeds_dir() / TABLE_NAME)


def current_calendar() -> HolidayCalendar:
    """The app's calendar (loaded at start-up), or the default one outside an app."""
    if has_app_context():
        return current_app.extensions["servicemap.calendar"]
    return _default_calendar()

"""China's calendar as data: the chinesecalendar package, the seeds table, and their checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from servicemap import create_app
from servicemap.config import Config, default_seeds_dir
from servicemap.holidays import TABLE_NAME, HolidayTableError, load_calendar, read_table

PACKAGE = load_calendar(None)
DAY = timedelta(days=1)


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + DAY * n for n in range((end - start).days + 1)]


# The State Council's 2026 schedule as the issue lists it (国办发明电〔2025〕7号).
HOLIDAYS_2026 = {
    "new_year": days("2026-01-01", "2026-01-03"),
    "spring_festival": days("2026-02-15", "2026-02-23"),
    "mid_autumn": days("2026-09-25", "2026-09-27"),
    "national_day": days("2026-10-01", "2026-10-07"),
}
WORKDAYS_2026 = {
    "new_year": [date(2026, 1, 4)],  # Sunday
    "spring_festival": [date(2026, 2, 14), date(2026, 2, 28)],  # Saturdays
    "mid_autumn": [date(2026, 9, 20)],  # Sunday; the package files it under National Day
    "national_day": [date(2026, 10, 10)],  # Saturday
}


@pytest.mark.parametrize("festival", sorted(HOLIDAYS_2026))
def test_the_package_agrees_with_the_2026_schedule(festival):
    for day in HOLIDAYS_2026[festival]:
        assert PACKAGE.special(day).kind == "holiday", day
    for day in WORKDAYS_2026[festival]:
        assert PACKAGE.special(day).kind == "workday", day
        assert day.isoweekday() in (6, 7)
    # The days either side are ordinary working days.
    for day in (HOLIDAYS_2026[festival][0] - DAY, HOLIDAYS_2026[festival][-1] + DAY):
        special = PACKAGE.special(day)
        assert special is None or special.kind == "workday", day


def test_the_package_knows_2004_to_2026_and_not_2027():
    assert PACKAGE.knows(date(2004, 5, 1)) and PACKAGE.knows(date(2026, 12, 31))
    assert not PACKAGE.knows(date(2027, 1, 1)) and not PACKAGE.knows(date(2003, 12, 31))
    assert PACKAGE.special(date(2026, 11, 26)) is None  # an ordinary Thursday


def write(tmp_path, text: str):
    path = tmp_path / TABLE_NAME
    path.write_text(text, encoding="utf-8")
    return path


TABLE_2027 = """# 2027, as an administrator would add it
date,kind,works_as,name
2027-01-01,holiday,,元旦
2027-02-06,上班,3,春节调休
2027-02-07,workday,,春节调休
2027-02-08,放假,,春节
"""


def test_the_table_extends_a_year_the_package_does_not_know(tmp_path):
    calendar = load_calendar(write(tmp_path, TABLE_2027))
    assert calendar.knows(date(2027, 3, 1)) and calendar.special(date(2027, 3, 1)) is None
    assert calendar.special(date(2027, 1, 1)).kind == "holiday"
    assert calendar.special(date(2027, 2, 8)).kind == "holiday"
    saturday = calendar.special(date(2027, 2, 6))
    assert (saturday.kind, saturday.works_as, saturday.name) == ("workday", 3, "春节调休")
    assert calendar.special(date(2027, 2, 7)).works_as is None
    assert calendar.special(date(2026, 10, 1)).kind == "holiday"  # the package still counts
    assert not calendar.knows(date(2028, 1, 1))


def test_the_table_overrides_the_package_for_its_dates(tmp_path):
    calendar = load_calendar(write(tmp_path, "date,kind,works_as,name\n"
                                             "2026-10-10,workday,1,国庆调休（按周一）\n"))
    assert calendar.special(date(2026, 10, 10)).works_as == 1


def test_the_shipped_table_loads():
    path = default_seeds_dir() / TABLE_NAME
    assert path.is_file()
    read_table(path)  # raises on a bad line


@pytest.mark.parametrize("text, line, words", [
    ("date,kind,name\n2027-01-01,holiday,元旦\n", 1, "header"),
    ("", 1, "header"),
    ("date,kind,works_as,name\n2027-13-01,holiday,,x\n", 2, "YYYY-MM-DD"),
    ("date,kind,works_as,name\n# note\n\n2027-01-01,holiday,,元旦\n2101-01-01,holiday,,x\n",
     5, "2100-12-31"),
    ("date,kind,works_as,name\n2027-01-01,节日,,元旦\n", 2, "holiday/放假"),
    ("date,kind,works_as,name\n2027-01-01,holiday,5,元旦\n", 2, "works_as"),
    ("date,kind,works_as,name\n2027-02-06,workday,8,调休\n", 2, "works_as"),
    ("date,kind,works_as,name\n2027-01-01,holiday,,元旦\n2027-01-01,holiday,,元旦\n", 3,
     "twice"),
    ("date,kind,works_as,name\n2027-01-01,holiday\n", 2, "cells"),
    ("date,kind,works_as,name\n2027-01-01,holiday,," + "节" * 101 + "\n", 2, "longer"),
])
def test_a_bad_table_line_is_named_with_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(HolidayTableError) as caught:
        load_calendar(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)


def test_the_app_refuses_to_start_with_a_bad_table(tmp_path):
    path = write(tmp_path, "date,kind,works_as,name\n2027-01-01,holiday,x,元旦\n")
    with pytest.raises(HolidayTableError, match=f"{path}:2: "):
        create_app(Config(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", auto_init=False,
                          testing=True, instance_dir=tmp_path, holiday_table=str(path)))

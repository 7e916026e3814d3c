"""Calendar arithmetic: anniversaries (29 February, month ends), intervals of births, classes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicemap.eligibility import dates, today_in_shanghai
from servicemap.eligibility.dates import add_months, add_years, age_years

D = date.fromisoformat


@pytest.mark.parametrize("day, months, expected", [
    ("2025-01-31", 1, "2025-02-28"),   # February lacks the 31st: its last day
    ("2024-01-31", 1, "2024-02-29"),
    ("2025-03-31", 1, "2025-04-30"),
    ("2025-08-31", 6, "2026-02-28"),
    ("2025-12-15", 1, "2026-01-15"),   # across a year end
    ("2026-03-31", -1, "2026-02-28"),  # backwards too
    ("2026-01-15", -13, "2024-12-15"),
])
def test_add_months_clamps_to_the_last_day_of_a_shorter_month(day, months, expected):
    assert add_months(D(day), months) == D(expected)


@pytest.mark.parametrize("day, years, expected", [
    ("2024-02-29", 1, "2025-02-28"),
    ("2024-02-29", 4, "2028-02-29"),
    ("2040-02-29", 60, "2100-02-28"),  # 2100 is a common year
    ("1964-02-29", 60, "2024-02-29"),
    ("2024-02-29", -1, "2023-02-28"),
])
def test_add_years_moves_29_february_to_28_february_in_common_years(day, years, expected):
    assert add_years(D(day), years) == D(expected)


@pytest.mark.parametrize("birth, on, expected", [
    ("1966-03-01", "2026-02-28", 59),
    ("1966-03-01", "2026-03-01", 60),
    ("1964-02-29", "2025-02-27", 60),
    ("1964-02-29", "2025-02-28", 61),  # 民法典 第二百零二条: the month's last day
    ("1964-02-29", "2024-02-28", 59),
    ("1964-02-29", "2024-02-29", 60),
    ("2026-03-01", "2026-03-01", 0),
])
def test_age_years_counts_completed_years(birth, on, expected):
    assert age_years(D(birth), D(on)) == expected


@pytest.mark.parametrize("birth, on, expected", [
    ("2025-09-01", "2026-02-28", 5),
    ("2025-09-01", "2026-03-01", 6),
    ("2025-08-31", "2026-02-27", 5),
    ("2025-08-31", "2026-02-28", 6),
    ("2024-02-29", "2026-02-28", 24),
    ("2024-02-29", "2027-02-27", 35),
    ("2024-02-29", "2027-02-28", 36),
    ("2026-01-31", "2026-02-28", 1),
    ("2026-01-31", "2026-03-30", 1),
    ("2026-01-31", "2026-03-31", 2),
])
def test_latest_birth_for_months_counts_completed_months(birth, on, expected):
    latest = dates.latest_birth_for_months
    assert latest(D(on), expected) >= D(birth) > latest(D(on), expected + 1)


def test_latest_birth_steps_past_births_that_share_a_clamped_anniversary():
    # On 28 Feb 2026, people born 29, 30 and 31 Jan are all one month old.
    assert dates.latest_birth_for_months(D("2026-02-28"), 1) == D("2026-01-31")
    assert dates.latest_birth_for_years(D("2025-02-28"), 1) == D("2024-02-29")
    assert dates.latest_birth_for_years(D("2026-03-01"), 60) == D("1966-03-01")
    assert dates.latest_birth_for_months(D("2026-03-01"), 0) == D("2026-03-01")


def test_births_for_age_is_the_year_of_possible_birth_dates():
    assert dates.births_for_age(60, D("2026-03-01")) == (D("1965-03-02"), D("1966-03-01"))
    assert dates.births_for_age(0, D("2026-03-01")) == (D("2025-03-02"), D("2026-03-01"))
    # On 28 Feb 2025 someone born on 29 Feb 2024 is already 1, so not among the 0-year-olds.
    assert dates.births_for_age(0, D("2025-02-28")) == (D("2024-03-01"), D("2025-02-28"))
    assert dates.births_for_age(1, D("2025-02-28"))[1] == D("2024-02-29")


@pytest.mark.parametrize("day, expected", [
    ("2025-08-31", 2024), ("2025-09-01", 2025), ("2026-01-01", 2025), ("2026-08-31", 2025),
])
def test_school_year_runs_from_1_september_to_31_august(day, expected):
    assert dates.school_year_of(D(day)) == expected


def test_kindergarten_classes_of_a_school_year():
    cutoff = (8, 31)
    assert dates.class_births(2025, "small", 3, cutoff) == (D("2021-09-01"), D("2022-08-31"))
    assert dates.class_births(2025, "middle", 3, cutoff) == (D("2020-09-01"), D("2021-08-31"))
    assert dates.class_births(2025, "large", 3, cutoff) == (D("2019-09-01"), D("2020-08-31"))
    assert dates.class_of((D("2020-08-31"),) * 2, 2025, 3, cutoff) == "large"
    assert dates.class_of((D("2022-09-01"),) * 2, 2025, 3, cutoff) is None
    assert dates.class_of((D("2021-03-02"), D("2022-03-01")), 2025, 3, cutoff) is None  # straddles


def test_a_cut_off_is_a_day_every_year_has():
    assert dates.parse_month_day("08-31") == (8, 31)
    for bad in ("02-29", "04-31", "13-01", "0831"):
        with pytest.raises(ValueError):
            dates.parse_month_day(bad)


def test_today_in_shanghai_is_utc_plus_8():
    before = (datetime.now(UTC) + timedelta(hours=8)).date()
    today = today_in_shanghai()
    after = (datetime.now(UTC) + timedelta(hours=8)).date()
    assert type(today) is date and today in (before, after)


def completed_months(birth: date, on: date) -> int:
    """The months of age on a date, counted here as the oracle of latest_birth_for_months."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - 1 if add_months(birth, months) > on else months


DAYS = st.dates(min_value=date(1890, 1, 1), max_value=date(2110, 12, 31))


@given(DAYS, DAYS, st.integers(0, 130))
def test_age_at_least_n_is_being_born_on_or_before_the_latest_birth(birth, on, years):
    if birth > on:
        birth, on = on, birth
    assert (age_years(birth, on) >= years) == (birth <= dates.latest_birth_for_years(on, years))
    assert (completed_months(birth, on) >= years) == (
        birth <= dates.latest_birth_for_months(on, years))


@given(DAYS, DAYS)
def test_the_births_for_an_age_contain_exactly_the_births_of_that_age(birth, on):
    if birth > on:
        birth, on = on, birth
    first, last = dates.births_for_age(age_years(birth, on), on)
    assert first <= birth <= last
    assert age_years(first, on) == age_years(last, on) == age_years(birth, on)
    assert age_years(first - timedelta(days=1), on) == age_years(birth, on) + 1
    if last < on:
        assert age_years(last + timedelta(days=1), on) == age_years(birth, on) - 1

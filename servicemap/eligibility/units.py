"""Units of parameter values, and the dates and citations of programme files."""

from __future__ import annotations

from datetime import date

from .dates import parse_month_day
from .errors import SpecError
from .facts import CARE_NEEDS


def _whole(value) -> bool:
    return type(value) is int and value >= 0


def _money(value) -> bool:
    # null: an amount that has not been published
    return value is None or (type(value) in (int, float) and value >= 0)


def _month_day(value) -> bool:
    try:
        parse_month_day(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _date(value) -> bool:
    try:
        date.fromisoformat(value)
    except (ValueError, TypeError):
        return False
    return True


def _same(value):
    return value


# How a pro-rata benefit counts months: every month begun, or only completed months.
MONTH_COUNTINGS = ("started_months", "whole_months")

# unit -> (check of one value, what the check wants in words, value as the rules use it)
UNITS = {
    "years": (_whole, "a whole number of years", _same),
    "months": (_whole, "a whole number of months", _same),
    "school_year": (lambda v: type(v) is int and 1900 <= v <= 2200, "a year such as 2025", _same),
    "month_day": (_month_day, "a day of the year written MM-DD, such as 08-31", parse_month_day),
    "date": (_date, "a date written YYYY-MM-DD", date.fromisoformat),
    "care_need_grade": (lambda v: v in CARE_NEEDS, f"one of {', '.join(CARE_NEEDS)}", _same),
    "month_counting": (lambda v: v in MONTH_COUNTINGS, f"one of {', '.join(MONTH_COUNTINGS)}",
                       _same),
    "yuan": (_money, "an amount in yuan, or null", _same),
    "yuan_per_day": (_money, "an amount in yuan, or null", _same),
    "yuan_per_month": (_money, "an amount in yuan, or null", _same),
    "yuan_per_year": (_money, "an amount in yuan, or null", _same),
}
MONEY_UNITS = ("yuan", "yuan_per_day", "yuan_per_month", "yuan_per_year")


def spec_date(text, path: tuple) -> date | None:
    """A YYYY-MM-DD string from a programme file as a date (None stays None)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise SpecError(path, f"{text!r} is not a calendar date (YYYY-MM-DD)") from None


def check_source(source: dict | None, path: tuple) -> None:
    """A citation's date must be a real date."""
    if source is not None:
        spec_date(source.get("date"), (*path, "date"))

"""Bounds that every input shares, so no date or moment a caller sends overflows a calculation."""

from __future__ import annotations

from datetime import date

# Wherever a date or a moment is taken (query arguments, bodies, imports, eligibility facts),
# it must fall within these, inclusive; outside them the field is refused with 422.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)
DATE_RANGE_MESSAGE = (f"Must be between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}. "
                      f"日期须在 {DATE_MIN.isoformat()} 至 {DATE_MAX.isoformat()} 之间。")


def date_in_bounds(day: date) -> bool:
    """True when the calendar day lies within DATE_MIN … DATE_MAX."""
    return DATE_MIN <= day <= DATE_MAX

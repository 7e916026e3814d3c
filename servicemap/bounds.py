"""Bounds that every input shares: dates and moments, storable text, the shape of JSON bodies."""

from __future__ import annotations

import re
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


# Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (a lone surrogate, which a JSON escape
# such as "\ud800" carries) is refused wherever text is taken, on every backend alike.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = ("Must not contain NUL characters or lone surrogates. "
                      "不能包含空字符 (NUL) 或孤立的代理字符。")


def storable_text(text: str) -> bool:
    """True when the text holds no NUL character and no lone surrogate."""
    return UNSTORABLE.search(text) is None


def printable_name(name: str) -> str:
    """A field name fit for an error message: NUL and lone surrogates written as \\uXXXX."""
    return UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", name)


# A JSON body is refused (400) past these while it is read: no schema nests deeper than a few
# levels or takes a number near this long, and Python's int() refuses over 4,300 digits.
JSON_MAX_DEPTH = 32
JSON_MAX_DIGITS = 100

"""Hypothesis strategies: persons and dates within the bounds every input shares."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from servicemap.bounds import DATE_MAX, DATE_MIN
from servicemap.districts import load_districts
from servicemap.eligibility.facts import BOOLEAN_FACTS, ENUM_FACTS, MAX_AGE

# Dates near the boundaries that matter (birthdays, 29 February, school years, the bounds
# themselves) come up far more often than uniform sampling would find them.
as_of_dates = st.one_of(
    st.dates(DATE_MIN, DATE_MAX),
    st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    st.sampled_from([DATE_MIN, DATE_MAX, date(2024, 2, 29), date(2025, 1, 1),
                     date(2025, 8, 31), date(2025, 9, 1), date(2026, 1, 1), date(2026, 12, 31)]),
)


@st.composite
def persons(draw, as_of: date) -> dict:
    """Facts as a request sends them: any subset, each with a valid value."""
    person = {}
    birth = draw(st.sampled_from(["birth_date", "age", "both", "neither"]))
    if birth in ("birth_date", "both"):
        earliest = max(DATE_MIN, date(max(as_of.year - MAX_AGE + 1, 1), 1, 1))
        born = draw(st.dates(earliest, as_of))
        person["birth_date"] = born.isoformat()
        if birth == "both":  # they must agree, else the request is refused
            years = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
            if years <= MAX_AGE:
                person["age"] = years
    elif birth == "age":
        person["age"] = draw(st.integers(0, min(MAX_AGE, as_of.year - DATE_MIN.year)))
    for name in ("hukou_district", "residence_district"):
        if draw(st.booleans()):
            person[name] = draw(st.sampled_from(sorted(load_districts())))
    for name, values in ENUM_FACTS.items():
        if draw(st.booleans()):
            person[name] = draw(st.sampled_from(values))
    for name in BOOLEAN_FACTS:
        if draw(st.booleans()):
            person[name] = draw(st.booleans())
    return person


@st.composite
def requests(draw) -> tuple[date, dict]:
    as_of = draw(as_of_dates)
    return as_of, draw(persons(as_of))

"""Parameters: dated values with their sources, optionally per district, resolved by date."""

from __future__ import annotations

import copy
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import product
from math import prod

from servicemap.districts import load_districts

from .dates import parse_month_day
from .errors import SpecError
from .facts import CARE_NEEDS, FACT_DOMAINS

MAX_TRIALS = 256  # combinations of missing facts tried to find which values they could lead to


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


@dataclass(frozen=True, slots=True)
class Case:
    """A value that applies only to people for whom a rule on their facts holds."""

    when: object  # the compiled rule (a criteria Node)
    rule: dict  # the rule as written, for the catalogue and the answer
    value: object
    unit: str
    provenance: str
    source: dict | None
    note: str | None = None
    native: object = None

    def public(self) -> dict:
        return {"when": copy.deepcopy(self.rule), "value": self.value, "unit": self.unit,
                "provenance": self.provenance,
                "source": dict(self.source) if self.source else None, "note": self.note}


@dataclass(frozen=True, slots=True)
class DatedValue:
    """One value of a parameter, in force from a date until the next value.

    With cases, the first case whose rule holds for the person gives the value; this value's own
    (`value`, `provenance` …) is for everyone else.
    """

    start: date
    value: object
    unit: str
    provenance: str
    source: dict | None
    note: str | None = None
    native: object = None  # the value as rules use it: a date, a (month, day) …
    cases: tuple = ()

    def public(self) -> dict:
        """The value with its date, unit, provenance and citation, as JSON would carry it."""
        start = None if self.start == date.min else self.start.isoformat()
        return {"from": start, "value": self.value, "unit": self.unit,
                "provenance": self.provenance,
                "source": dict(self.source) if self.source else None, "note": self.note,
                "cases": [case.public() for case in self.cases]}


@dataclass(frozen=True, slots=True)
class Choice:
    """What a parameter gives one person on one date.

    `found` is the value that applies (a DatedValue or one of its Cases); it is None when no
    value is in force yet (`in_force` False) or when the person's facts do not settle which case
    applies: then `missing` names those facts and `options` lists the values that could apply.
    """

    in_force: bool
    found: object = None
    missing: frozenset = frozenset()
    options: tuple = ()

    @property
    def native(self):
        return self.found.native if self.found is not None else None


def pick(dated: DatedValue | None, ctx) -> Choice:
    """The value of a dated value for a person: the first case that holds, else its own."""
    if dated is None:
        return Choice(False)
    found, missing = _first_case(dated, ctx)
    if not missing:
        return Choice(True, found)
    return Choice(True, None, missing, _reachable(dated, ctx, missing))


def _first_case(dated: DatedValue, ctx) -> tuple[object, frozenset]:
    """(the case or value that applies, frozenset()) or (None, the facts that would settle it)."""
    missing = set()
    for case in dated.cases:
        outcome = case.when.evaluate(ctx)
        if outcome.value is True and not missing:
            return case, frozenset()
        if outcome.value is None:
            missing |= outcome.missing
    return (None, frozenset(missing)) if missing else (dated, frozenset())


def _reachable(dated: DatedValue, ctx, missing: frozenset) -> tuple:
    """The values the missing facts could still lead to, in the file's order.

    Facts with a few values (care_setting, household_status, booleans) are tried in every
    combination, so that a value no answer can reach (everyone else, when the cases cover every
    care_setting) is not offered; otherwise every case not ruled out, and the value itself.
    """
    names = sorted(missing)
    domains = [FACT_DOMAINS.get(name) for name in names]
    candidates = (*dated.cases, dated)
    if not all(domains) or prod(len(domain) for domain in domains) > MAX_TRIALS:
        return tuple(c for c in candidates
                     if c is dated or c.when.evaluate(ctx).value is not False)
    reached = []
    for combination in product(*domains):
        assumed = dict(zip(names, combination, strict=True))
        trial = replace(ctx, facts={**ctx.facts, **assumed}, public={**ctx.public, **assumed})
        reached.append(_first_case(dated, trial)[0])
    return tuple(c for c in candidates if any(c is found for found in reached))


@dataclass(frozen=True)
class Parameter:
    """A named value of a programme (a threshold, an amount) that changes over time."""

    id: str
    label_zh: str
    label_en: str
    values: tuple[DatedValue, ...]
    by_district: dict[str, tuple[DatedValue, ...]] = field(default_factory=dict)
    district_fact: str | None = None

    @property
    def unit(self) -> str:
        return self.values[0].unit

    @property
    def first_start(self) -> date:
        """The first day any value is in force (date.min for a value with from: null)."""
        return min(values[0].start for values in (self.values, *self.by_district.values()))

    def value_at(self, as_of: date, district: str | None = None) -> DatedValue | None:
        """The value in force on as_of: the district's own when it has one, else the general."""
        if district in self.by_district:
            found = _in_force(self.by_district[district], as_of)
            if found is not None:
                return found
        return _in_force(self.values, as_of)

    def choose(self, ctx) -> Choice:
        """The value for a person: by their district when the parameter says which fact, and
        by the case their facts meet when the value has cases."""
        district = ctx.facts.get(self.district_fact) if self.district_fact else None
        return pick(self.value_at(ctx.as_of, district), ctx)

    def changes(self) -> set[date]:
        """Every date from which one of this parameter's values is in force."""
        return {value.start for values in (self.values, *self.by_district.values())
                for value in values if value.start != date.min}

    def describe(self, choice: Choice) -> dict:
        """The value applied to a person, as a result shows it (all None but the unit if none)."""
        found = choice.found
        if found is None:
            return {"id": self.id, "value": None, "unit": self.unit, "provenance": None,
                    "source": None}
        return {"id": self.id, "value": found.value, "unit": found.unit,
                "provenance": found.provenance,
                "source": dict(found.source) if found.source else None}

    def public(self, as_of: date) -> dict:
        """Every dated value with its source, and the values in force on as_of."""
        def in_force(values):
            found = _in_force(values, as_of)
            return found.public() if found else None

        return {
            "id": self.id, "label_zh": self.label_zh, "label_en": self.label_en,
            "unit": self.unit, "district_fact": self.district_fact,
            "values": [value.public() for value in self.values],
            "by_district": {code: [value.public() for value in values]
                            for code, values in self.by_district.items()},
            "in_force": in_force(self.values),
            "in_force_by_district": {code: in_force(values)
                                     for code, values in self.by_district.items()},
        }


def _in_force(values: tuple[DatedValue, ...], as_of: date) -> DatedValue | None:
    index = bisect_right(values, as_of, key=lambda value: value.start) - 1
    return values[index] if index >= 0 else None


def build_parameter(name: str, spec: dict, path: tuple) -> Parameter:
    """A Parameter from its (schema-valid) YAML, checking dates, order, units and districts."""
    values = _dated_values(spec["values"], (*path, "values"), None)
    unit = values[0].unit
    by_district = {}
    for code, dated in spec.get("by_district", {}).items():
        where = (*path, "by_district", code)
        if code not in load_districts():
            raise SpecError(where, f"{code!r} is not a Chongqing district code")
        by_district[code] = _dated_values(dated, where, unit)
    if by_district and not spec.get("district_fact"):
        raise SpecError(path, "by_district needs district_fact: hukou_district or "
                              "residence_district, to say whose district picks the value")
    return Parameter(name, spec["label_zh"], spec["label_en"], values, by_district,
                     spec.get("district_fact"))


def _dated_values(specs: list, path: tuple, unit: str | None) -> tuple[DatedValue, ...]:
    values = []
    for index, spec in enumerate(specs):
        where = (*path, index)
        unit = unit or spec["unit"]
        if spec["unit"] != unit:
            raise SpecError((*where, "unit"), f"unit {spec['unit']!r} differs from {unit!r}, "
                                              "the unit of the parameter's other values")
        check, wanted, convert = UNITS[unit]
        if not check(spec["value"]):
            raise SpecError((*where, "value"), f"{spec['value']!r} is not {wanted}")
        if spec["from"] is None and values:
            raise SpecError((*where, "from"), "only the first value may have from: null")
        # from: null is a value whose start the source does not give: in force before any other
        start = spec_date(spec["from"], (*where, "from")) or date.min
        if values and start <= values[-1].start:
            raise SpecError((*where, "from"), "dated values must be in ascending order of from")
        check_source(spec["source"], (*where, "source"))
        native = None if spec["value"] is None else convert(spec["value"])
        cases = tuple(_case(case, (*where, "cases", number), unit)
                      for number, case in enumerate(spec.get("cases", [])))
        values.append(DatedValue(start, spec["value"], unit, spec["provenance"], spec["source"],
                                 spec.get("note"), native, cases))
    return tuple(values)


def _case(spec: dict, path: tuple, unit: str) -> Case:
    """A case of a dated value: a rule on facts and the value, provenance and source it gives."""
    # Imported here: the grammar itself uses this module's units.
    from .grammar import compile_rule

    # A case's rule reads the person's facts only: no parameter (they would depend on cases).
    when = compile_rule(spec["when"], (*path, "when"), {})
    check, wanted, convert = UNITS[unit]
    if not check(spec["value"]):
        raise SpecError((*path, "value"), f"{spec['value']!r} is not {wanted}")
    check_source(spec["source"], (*path, "source"))
    native = None if spec["value"] is None else convert(spec["value"])
    return Case(when, spec["when"], spec["value"], unit, spec["provenance"], spec["source"],
                spec.get("note"), native)

"""Parameters: dated values with their sources, optionally per district, resolved by date."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

from servicemap.districts import load_districts

from .cases import Choice, build_case, pick
from .errors import SpecError
from .units import UNITS, check_source, spec_date


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
        cases = tuple(build_case(case, (*where, "cases", number), unit)
                      for number, case in enumerate(spec.get("cases", [])))
        values.append(DatedValue(start, spec["value"], unit, spec["provenance"], spec["source"],
                                 spec.get("note"), native, cases))
    return tuple(values)

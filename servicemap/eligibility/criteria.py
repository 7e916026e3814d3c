"""Criteria as a tree of nodes, evaluated in three values: True, False and None (unknown).

Every node's evaluation is an Outcome: the value, the facts that decided it, and the facts whose
absence left it unknown. `all` is False if any part is False, else unknown if any part is
unknown; `any` is True if any part is True, else unknown if any part is unknown; `not` flips.
A missing fact is reported only when the answer would have been different with it: a part that
is already decided by another (a True inside `any`, a False inside `all`) needs nothing more.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date

from .dates import ONE_DAY, class_births, threshold_birth

NOTHING: frozenset = frozenset()
COMPARE = {"eq": operator.eq, "ne": operator.ne, "gte": operator.ge, "gt": operator.gt,
           "lte": operator.le, "lt": operator.lt, "in": lambda value, allowed: value in allowed}


@dataclass(frozen=True, slots=True)
class Outcome:
    value: bool | None
    facts: dict  # fact name -> value as sent (JSON form)
    missing: frozenset


@dataclass(slots=True)
class Context:
    """What an evaluation knows: the date, the person's facts and the parameters' values."""

    as_of: date
    school_year: int
    facts: dict  # validated values: dates, district codes …
    public: dict  # the same facts in JSON form, for explanations
    births: tuple[date, date] | None  # first and last possible birth date
    birth_facts: dict  # the fact that gave `births`, in JSON form
    values: dict  # parameter id -> value in force (None when none is)


@dataclass(frozen=True, slots=True)
class Param:
    """A reference to a parameter's value in force."""

    id: str


def resolve(operand, values: dict):
    """A literal as it is; a parameter reference as its value in force (None if none)."""
    return values.get(operand.id) if isinstance(operand, Param) else operand


class Node:
    """A criterion, or a part of one."""

    __slots__ = ()
    children: tuple = ()

    def evaluate(self, ctx: Context) -> Outcome:
        raise NotImplementedError

    def walk(self):
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def parameter_ids(self) -> list[str]:
        """Parameters this node refers to, in order of appearance, without repeats."""
        found = [operand.id for node in self.walk() for operand in node.operands()
                 if isinstance(operand, Param)]
        return list(dict.fromkeys(found))

    def operands(self) -> tuple:
        return ()


@dataclass(frozen=True, slots=True)
class All(Node):
    children: tuple

    def evaluate(self, ctx: Context) -> Outcome:
        return _combine([child.evaluate(ctx) for child in self.children], decisive=False)


@dataclass(frozen=True, slots=True)
class Any(Node):
    children: tuple

    def evaluate(self, ctx: Context) -> Outcome:
        return _combine([child.evaluate(ctx) for child in self.children], decisive=True)


@dataclass(frozen=True, slots=True)
class Not(Node):
    child: Node

    @property
    def children(self) -> tuple:
        return (self.child,)

    def evaluate(self, ctx: Context) -> Outcome:
        inner = self.child.evaluate(ctx)
        return Outcome(None if inner.value is None else not inner.value, inner.facts,
                       inner.missing)


def _combine(outcomes: list[Outcome], decisive: bool) -> Outcome:
    """`any` (decisive=True) or `all` (decisive=False) of the parts' outcomes."""
    deciding = [outcome for outcome in outcomes if outcome.value is decisive]
    if deciding:
        return Outcome(decisive, _merge(deciding), NOTHING)
    unknown = [outcome for outcome in outcomes if outcome.value is None]
    if unknown:
        return Outcome(None, _merge(outcomes), frozenset().union(*(o.missing for o in unknown)))
    return Outcome(not decisive, _merge(outcomes), NOTHING)


def _merge(outcomes: list[Outcome]) -> dict:
    facts = {}
    for outcome in outcomes:
        facts.update(outcome.facts)
    return facts


@dataclass(frozen=True, slots=True)
class FactTest(Node):
    """Comparisons of one fact (other than the birth facts): {fact: care_need, gte: moderate}."""

    fact: str
    tests: tuple  # (operator name, operand)
    order: tuple = ()  # for an ordered vocabulary: its values, least first

    def operands(self) -> tuple:
        return tuple(operand for _, operand in self.tests)

    def evaluate(self, ctx: Context) -> Outcome:
        if self.fact not in ctx.facts:
            return Outcome(None, {}, frozenset((self.fact,)))
        value = _conjunction(self._compare(ctx.facts[self.fact], name, resolve(operand, ctx.values))
                             for name, operand in self.tests)
        return Outcome(value, {self.fact: ctx.public[self.fact]}, NOTHING)

    def _compare(self, value, name: str, other) -> bool | None:
        if self.order and other is not None and name not in ("eq", "ne", "in"):
            return COMPARE[name](self.order.index(value), self.order.index(other))
        return _held(name, value, other)


def _held(name: str, value, other) -> bool | None:
    """One comparison; None when the other side is a parameter with no value in force."""
    return None if other is None else COMPARE[name](value, other)


def _conjunction(values) -> bool | None:
    """Several comparisons together: False if one fails, else None if one cannot be made."""
    unknown = False
    for value in values:
        if value is False:
            return False
        unknown = unknown or value is None
    return None if unknown else True


class BirthRule(Node):
    """A rule on the birth date: true for births from `first` to `last` (either may be open).

    With the exact birth date the answer is certain; with only an age, the person was born on
    one of a year's worth of days, and the answer is unknown only if they straddle a boundary.
    """

    __slots__ = ()

    def births(self, ctx: Context) -> tuple[date | None, date | None] | None:
        raise NotImplementedError

    def evaluate(self, ctx: Context) -> Outcome:
        if ctx.births is None:
            return Outcome(None, {}, frozenset(("birth_date",)))
        bounds = self.births(ctx)
        if bounds is None:  # a parameter has no value in force
            return Outcome(None, ctx.birth_facts, NOTHING)
        value = _within(ctx.births, *bounds)
        missing = NOTHING if value is not None else frozenset(("birth_date",))
        return Outcome(value, ctx.birth_facts, missing)


def _within(births: tuple[date, date], first: date | None, last: date | None) -> bool | None:
    """Are all possible births within [first, last] (True), none (False), or some (None)?"""
    if first is not None and last is not None and first > last:
        return False
    if (first is not None and births[1] < first) or (last is not None and births[0] > last):
        return False
    if (first is None or births[0] >= first) and (last is None or births[1] <= last):
        return True
    return None


@dataclass(frozen=True, slots=True)
class AgeRule(BirthRule):
    """{age_years: {gte: 60}} or {age_months: {gte: 6, lt: 36}}: completed years or months."""

    months_per_unit: int  # 12 for age_years, 1 for age_months
    tests: tuple  # (operator name, operand)

    def operands(self) -> tuple:
        return tuple(operand for _, operand in self.tests)

    def births(self, ctx: Context) -> tuple[date | None, date | None] | None:
        first = last = None
        for name, operand in self.tests:
            count = resolve(operand, ctx.values)
            if count is None:
                return None
            if name in ("gt", "lte"):  # > n is >= n + 1; <= n is < n + 1
                name, count = ("gte" if name == "gt" else "lt"), count + 1
            if name in ("gte", "eq"):  # born on or before the last birth that is n old on as_of
                latest = self.latest_birth(ctx.as_of, count)
                last = latest if last is None else min(last, latest)
            if name in ("lt", "eq"):  # born after the last birth that is n (or n + 1) old
                earliest = self.latest_birth(ctx.as_of, count + (name == "eq")) + ONE_DAY
                first = earliest if first is None else max(first, earliest)
        return first, last

    def latest_birth(self, as_of: date, count: int) -> date:
        return threshold_birth(as_of, count * self.months_per_unit)


@dataclass(frozen=True, slots=True)
class KindergartenClass(BirthRule):
    """{kindergarten_class: {in: [small, middle, large], entry_age: 3, cutoff: '08-31'}}.

    Classes are taken in the school year of as_of.
    """

    classes: tuple  # adjacent classes, in order small, middle, large
    entry_age: object  # years, or a Param
    cutoff: object  # (month, day), or a Param

    def operands(self) -> tuple:
        return (self.entry_age, self.cutoff)

    def settings(self, values: dict) -> tuple[int, tuple[int, int]] | None:
        """(entry age, (month, day) of the cut-off) in force, or None if either has none."""
        entry_age, cutoff = resolve(self.entry_age, values), resolve(self.cutoff, values)
        if entry_age is None or cutoff is None:
            return None
        return entry_age, cutoff

    def births(self, ctx: Context) -> tuple[date | None, date | None] | None:
        settings = self.settings(ctx.values)
        if settings is None:
            return None
        ranges = [class_births(ctx.school_year, kind, *settings) for kind in self.classes]
        return ranges[-1][0], ranges[0][1]  # oldest class's first birth, youngest's last


@dataclass(frozen=True, slots=True)
class DateRule(Node):
    """{as_of: {between: [2026-01-01, 2026-12-31]}} or {school_year_start: {gte: 2025}}."""

    subject: str  # "as_of" or "school_year"
    tests: tuple  # (operator name, operand)

    def operands(self) -> tuple:
        return tuple(operand for _, operand in self.tests)

    def evaluate(self, ctx: Context) -> Outcome:
        subject = ctx.as_of if self.subject == "as_of" else ctx.school_year
        value = _conjunction(_held(name, subject, resolve(operand, ctx.values))
                             for name, operand in self.tests)
        return Outcome(value, {}, NOTHING)

"""Three-valued logic: all, any, not, and which missing facts are reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import product

import pytest

from servicemap.eligibility.criteria import NOTHING, All, Any, Context, Node, Not, Outcome
from servicemap.eligibility.grammar import compile_rule
from servicemap.eligibility.parameters import build_parameter

CTX = Context(date(2026, 3, 1), 2025, {}, {}, None, {}, {})


@dataclass(frozen=True)
class Known(Node):
    """A part whose outcome is given: a fact `name` that is True, False or absent (None)."""

    value: bool | None
    name: str

    def evaluate(self, ctx):
        if self.value is None:
            return Outcome(None, {}, frozenset((self.name,)))
        return Outcome(self.value, {self.name: self.value}, NOTHING)


VALUES = (True, False, None)


@pytest.mark.parametrize("a, b", list(product(VALUES, VALUES)))
def test_all_is_false_if_any_part_is_false_else_unknown_if_any_is_unknown(a, b):
    expected = False if False in (a, b) else (None if None in (a, b) else True)
    assert All((Known(a, "a"), Known(b, "b"))).evaluate(CTX).value is expected


@pytest.mark.parametrize("a, b", list(product(VALUES, VALUES)))
def test_any_is_true_if_any_part_is_true_else_unknown_if_any_is_unknown(a, b):
    expected = True if True in (a, b) else (None if None in (a, b) else False)
    assert Any((Known(a, "a"), Known(b, "b"))).evaluate(CTX).value is expected


@pytest.mark.parametrize("value, expected", [(True, False), (False, True), (None, None)])
def test_not_flips_and_unknown_stays_unknown(value, expected):
    outcome = Not(Known(value, "a")).evaluate(CTX)
    assert outcome.value is expected
    assert outcome.missing == (frozenset({"a"}) if value is None else NOTHING)


def test_a_true_part_of_any_makes_the_missing_parts_unneeded():
    outcome = Any((Known(None, "a"), Known(True, "b"), Known(None, "c"))).evaluate(CTX)
    assert (outcome.value, outcome.missing, outcome.facts) == (True, NOTHING, {"b": True})


def test_a_false_part_of_all_makes_the_missing_parts_unneeded():
    outcome = All((Known(None, "a"), Known(False, "b"))).evaluate(CTX)
    assert (outcome.value, outcome.missing, outcome.facts) == (False, NOTHING, {"b": False})


def test_unknown_any_needs_every_unknown_part_and_ignores_the_false_ones():
    outcome = Any((Known(None, "a"), Known(False, "b"), Known(None, "c"))).evaluate(CTX)
    assert outcome.value is None
    assert outcome.missing == {"a", "c"}
    assert outcome.facts == {"b": False}  # what is known so far is still shown


def test_missing_facts_propagate_through_nesting():
    tree = All((Known(True, "a"), Any((Known(None, "b"), Not(Known(None, "c"))))))
    outcome = tree.evaluate(CTX)
    assert (outcome.value, outcome.missing) == (None, {"b", "c"})


def rule_outcome(rule: dict, facts: dict) -> Outcome:
    node = compile_rule(rule, (), {})
    ctx = Context(date(2026, 3, 1), 2025, facts, dict(facts), None, {}, {})
    return node.evaluate(ctx)


def test_an_absent_fact_is_unknown_never_false():
    outcome = rule_outcome({"fact": "lives_alone", "eq": False}, {})
    assert (outcome.value, outcome.missing) == (None, {"lives_alone"})
    outcome = rule_outcome({"not": {"fact": "lives_alone", "eq": True}}, {})
    assert (outcome.value, outcome.missing) == (None, {"lives_alone"})


@pytest.mark.parametrize("rule, expected", [
    ({"fact": "care_need", "gte": "moderate"}, True),
    ({"fact": "care_need", "gt": "severe"}, False),
    ({"fact": "care_need", "lt": "total"}, True),
    ({"fact": "care_need", "gte": "mild", "ne": "severe"}, False),
    ({"fact": "care_need", "in": ["mild", "severe"]}, True),
    ({"fact": "household_status", "eq": "none"}, False),
    ({"fact": "residence_district", "in": ["500106", "500109"]}, True),
])
def test_fact_comparisons_use_the_order_of_care_need_grades(rule, expected):
    facts = {"care_need": "severe", "household_status": "near_subsistence",
             "residence_district": "500106"}
    assert rule_outcome(rule, facts).value is expected


@pytest.mark.parametrize("rule, expected", [
    ({"as_of": {"between": ["2026-01-01", "2026-12-31"]}}, True),
    ({"as_of": {"between": ["2026-03-02", None]}}, False),
    ({"as_of": {"between": [None, "2026-03-01"]}}, True),
    ({"as_of": {"gt": "2026-03-01"}}, False),
    ({"school_year_start": {"gte": 2025}}, True),
    ({"school_year_start": {"gte": 2026}}, False),
    ({"school_year_start": {"eq": 2025}}, True),
])
def test_date_rules_depend_on_as_of_alone(rule, expected):
    outcome = rule_outcome(rule, {})
    assert (outcome.value, outcome.missing) == (expected, NOTHING)


def test_a_parameter_with_no_value_in_force_is_unknown_unless_another_test_fails():
    grade = build_parameter("grade", {"label_zh": "等级", "label_en": "Grade", "values": [
        {"from": "2030-01-01", "value": "mild", "unit": "care_need_grade",
         "provenance": "assumed", "source": None}]}, ())
    node = compile_rule({"fact": "care_need", "gte": {"param": "grade"}, "ne": "severe"}, (),
                        {"grade": grade})

    def outcome(care_need):
        ctx = Context(date(2026, 3, 1), 2025, {"care_need": care_need},
                      {"care_need": care_need}, None, {}, {"grade": None})
        return node.evaluate(ctx)

    assert (outcome("total").value, outcome("total").missing) == (None, NOTHING)
    assert outcome("severe").value is False

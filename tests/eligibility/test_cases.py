"""Golden cases (tests/eligibility/cases/*.yaml), each checked against the seeded catalogue."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from servicemap.eligibility import validate_person

CASES = Path(__file__).resolve().parent / "cases"
CASE_KEYS = {"name", "as_of", "person", "expected", "expected_missing", "expected_class",
             "expected_benefit"}


def load_cases() -> list[dict]:
    cases = []
    for path in sorted(CASES.glob("*.yaml")):
        cases.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    return cases


ALL_CASES = load_cases()


def test_cases_are_many_well_formed_and_uniquely_named(catalogue):
    names = [case["name"] for case in ALL_CASES]
    assert len(names) >= 60
    assert len(set(names)) == len(names)
    ids = {programme.id for programme in catalogue.programmes}
    for case in ALL_CASES:
        assert set(case) <= CASE_KEYS, case["name"]
        assert isinstance(case["as_of"], date), case["name"]
        for key in ("expected", "expected_missing", "expected_class", "expected_benefit"):
            assert set(case.get(key, {})) <= ids, case["name"]


@pytest.mark.parametrize("case", ALL_CASES, ids=[case["name"] for case in ALL_CASES])
def test_case(case, catalogue):
    as_of = case["as_of"]
    person = validate_person(case["person"], as_of)
    results = catalogue.evaluate(person, as_of)
    json.dumps(results)  # the results go out as JSON as they are
    by_id = {result["program"]: result for result in results}
    expected = case.get("expected", {})
    assert {key: by_id[key]["status"] for key in expected} == expected
    for key, facts in case.get("expected_missing", {}).items():
        assert by_id[key]["missing_facts"] == sorted(facts), key
    for key, kind in case.get("expected_class", {}).items():
        assert by_id[key]["class"] == kind, key
    for key, expected in case.get("expected_benefit", {}).items():
        assert _benefit_view(by_id[key]["benefit"], expected) == expected, key
    for result in results:  # invariants of every result
        assert (result["status"] == "unknown") == bool(result["missing_facts"]), result["program"]


def _benefit_view(benefit: dict, expected: dict) -> dict:
    """The parts of a benefit a case names: options as their amounts, pro_rata by its keys."""
    view = {}
    for key, wanted in expected.items():
        if key == "options":
            view[key] = [option["amount"] for option in benefit["options"]]
        elif key == "pro_rata" and benefit["pro_rata"] is not None and wanted is not None:
            view[key] = {name: benefit["pro_rata"][name] for name in wanted}
        elif key == "note_contains":
            view[key] = wanted if wanted in (benefit["note"] or "") else benefit["note"]
        else:
            view[key] = benefit[key]
    return view

"""Properties of every answer, over random persons and dates within the bounds."""

from __future__ import annotations

import json

from hypothesis import given, settings

from servicemap.eligibility import FACT_NAMES, validate_person
from tests.eligibility.strategies import requests


@settings(max_examples=400, derandomize=True, deadline=None)
@given(requests())
def test_every_unknown_names_a_missing_fact_and_only_facts_not_given(catalogue, request):
    as_of, facts = request
    results = catalogue.evaluate(validate_person(facts, as_of), as_of)
    json.dumps(results)
    for result in results:
        missing = result["missing_facts"]
        assert (result["status"] == "unknown") == bool(missing), result
        assert set(missing) <= set(FACT_NAMES) - set(facts), result
        outcomes = [criterion["result"] for criterion in result["criteria"]]
        expected = ("ineligible" if False in outcomes else
                    "unknown" if None in outcomes else "eligible")
        assert result["status"] == expected, result
        benefit = result["benefit"]
        assert set(benefit["missing_facts"]) <= set(FACT_NAMES) - set(facts), result
        assert bool(benefit["options"]) == bool(benefit["missing_facts"]), result
        if benefit["options"]:
            assert benefit["amount"] is None and len(benefit["options"]) >= 2, result

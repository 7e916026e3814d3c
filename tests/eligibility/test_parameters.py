"""Parameters resolve by as_of (the latest value on or before it) and by the person's district."""

from __future__ import annotations

from datetime import date

import pytest

from servicemap.eligibility import load_catalogue, validate_person
from servicemap.eligibility.parameters import build_parameter
from servicemap.eligibility.programme import make_context
from tests.eligibility.conftest import POLICIES

SOURCE = {"title": "A notice", "document_number": None, "issuer": None, "date": None,
          "url": None}


def dated(start, value, provenance="sourced", unit="yuan_per_day"):
    return {"from": start, "value": value, "unit": unit, "provenance": provenance,
            "source": SOURCE if provenance == "sourced" else None}


SUBSIDY = build_parameter("meal_subsidy", {
    "label_zh": "助餐补贴", "label_en": "Meal subsidy", "district_fact": "residence_district",
    "values": [dated("2024-01-01", 5), dated("2026-01-01", 6, "assumed")],
    "by_district": {"500106": [dated("2025-01-01", 7), dated("2026-07-01", 8)]},
}, ("parameters", "meal_subsidy"))


@pytest.mark.parametrize("as_of, district, expected", [
    ("2023-12-31", None, None),   # before the first value: none in force
    ("2024-01-01", None, 5),      # a value is in force from its own date
    ("2025-12-31", None, 5),
    ("2026-01-01", None, 6),
    ("2030-01-01", None, 6),      # the last value goes on
    ("2024-06-01", "500106", 5),  # the district's first value is not in force yet: general
    ("2025-01-01", "500106", 7),
    ("2026-06-30", "500106", 7),
    ("2026-07-01", "500106", 8),
    ("2026-07-01", "500109", 6),  # a district without its own values: general
])
def test_the_value_in_force_by_date_and_district(as_of, district, expected):
    found = SUBSIDY.value_at(date.fromisoformat(as_of), district)
    assert (found.value if found else None) == expected


def used(parameter, facts: dict, as_of: date) -> dict:
    """The value a parameter gives a person, as a result shows it."""
    return parameter.describe(parameter.choose(make_context(validate_person(facts, as_of),
                                                            as_of)))


def test_the_district_comes_from_the_fact_the_parameter_names():
    as_of = date(2026, 3, 1)
    resident = {"residence_district": "沙坪坝区", "hukou_district": "北碚"}
    assert used(SUBSIDY, resident, as_of)["value"] == 7
    assert used(SUBSIDY, {"hukou_district": "500106"}, as_of)["value"] == 6  # not residence
    assert used(SUBSIDY, {}, as_of) == {"id": "meal_subsidy", "value": 6, "unit": "yuan_per_day",
                                        "provenance": "assumed", "source": None}


def test_no_value_in_force_is_reported_as_such():
    choice = SUBSIDY.choose(make_context(validate_person({}, date(2020, 1, 1)), date(2020, 1, 1)))
    assert not choice.in_force
    assert SUBSIDY.describe(choice) == {
        "id": "meal_subsidy", "value": None, "unit": "yuan_per_day", "provenance": None,
        "source": None}


def case(when, value, provenance="sourced"):
    return {"when": when, "value": value, "provenance": provenance,
            "source": SOURCE if provenance == "sourced" else None}


LOW_INCOME = {"fact": "household_status", "in": ["subsistence_allowance", "near_subsistence"]}
CONDITIONAL = build_parameter("meal_subsidy", {
    "label_zh": "助餐补贴", "label_en": "Meal subsidy", "district_fact": "residence_district",
    "values": [dated(None, None, "assumed")],
    "by_district": {"500106": [
        {**dated("2024-01-01", None, "assumed"),
         "cases": [case(LOW_INCOME, 7), case({"age_years": {"gte": 80}}, 5, "assumed")]},
        {**dated("2026-01-01", None, "assumed"), "cases": [case(LOW_INCOME, 9)]}]},
}, ("parameters", "meal_subsidy"))


@pytest.mark.parametrize("as_of, facts, value, options, missing", [
    ("2025-03-01", {"household_status": "subsistence_allowance"}, 7, [], []),
    ("2025-03-01", {"household_status": "none", "age": 85}, 5, [], []),
    ("2025-03-01", {"household_status": "none", "age": 70}, None, [], []),  # everyone else
    ("2025-03-01", {"household_status": "none"}, None, [5, None], ["birth_date"]),
    ("2025-03-01", {"age": 85}, None, [7, 5], ["household_status"]),  # 85: never "else"
    ("2025-03-01", {"age": 70}, None, [7, None], ["household_status"]),
    ("2025-03-01", {}, None, [7, 5, None], ["birth_date", "household_status"]),
    ("2026-03-01", {"household_status": "near_subsistence"}, 9, [], []),  # a later value
    ("2026-03-01", {"age": 85}, None, [9, None], ["household_status"]),
    ("2023-03-01", {"household_status": "near_subsistence"}, None, [], []),  # the general
])
def test_a_value_can_depend_on_facts_and_says_which_it_needs(as_of, facts, value, options,
                                                             missing):
    day = date.fromisoformat(as_of)
    choice = CONDITIONAL.choose(make_context(
        validate_person({"residence_district": "500106", **facts}, day), day))
    assert CONDITIONAL.describe(choice)["value"] == value
    assert [option.value for option in choice.options] == options
    assert sorted(choice.missing) == missing


def test_outside_the_district_its_cases_do_not_apply():
    day = date(2025, 3, 1)
    choice = CONDITIONAL.choose(make_context(validate_person(
        {"residence_district": "500109", "household_status": "subsistence_allowance"}, day), day))
    assert (choice.found.value, choice.found.provenance, choice.options) == (None, "assumed", ())


def test_from_null_is_in_force_before_any_later_value():
    age = build_parameter("min_age", {
        "label_zh": "年龄", "label_en": "Age",
        "values": [dated(None, 60, unit="years"), dated("2030-01-01", 65, unit="years")],
    }, ("parameters", "min_age"))
    assert age.value_at(date(1900, 1, 1)).value == 60
    assert age.value_at(date(2029, 12, 31)).value == 60
    assert age.value_at(date(2030, 1, 1)).value == 65
    assert age.public(date(2026, 1, 1))["values"][0]["from"] is None


def test_public_lists_every_dated_value_and_those_in_force():
    public = SUBSIDY.public(date(2026, 3, 1))
    assert [value["value"] for value in public["values"]] == [5, 6]
    assert public["values"][1] == {"from": "2026-01-01", "value": 6, "unit": "yuan_per_day",
                                   "provenance": "assumed", "source": None, "note": None,
                                   "cases": []}
    assert public["in_force"]["value"] == 6
    assert public["in_force_by_district"] == {"500106": {
        "from": "2025-01-01", "value": 7, "unit": "yuan_per_day", "provenance": "sourced",
        "source": SOURCE, "note": None, "cases": []}}
    assert public["district_fact"] == "residence_district"


def test_shapingba_pays_low_income_residents_at_one_canteen_and_no_one_else(catalogue):
    as_of = date(2026, 3, 1)
    programme = catalogue.get("elder_meal_priority")

    def benefit(facts):
        return programme.evaluate(validate_person(facts, as_of), as_of)["benefit"]

    low_income = benefit({"birth_date": "1950-01-01", "residence_district": "沙坪坝",
                          "household_status": "subsistence_allowance"})
    assert (low_income["amount"], low_income["unit"], low_income["provenance"]) == (
        7, "yuan_per_day", "sourced")
    assert low_income["source"]["issuer"] == "China Daily"
    assert "向家社区" in low_income["note"]
    others = benefit({"birth_date": "1950-01-01", "residence_district": "沙坪坝",
                      "household_status": "none", "lives_alone": True})
    assert (others["amount"], others["provenance"], others["options"]) == (None, "assumed", [])
    assert "未公布" in others["note"] and "no amount is published" in others["note"]
    for facts in ({"residence_district": "500109"}, {"hukou_district": "500106"}, {}):
        general = benefit({**facts, "household_status": "subsistence_allowance"})
        assert (general["amount"], general["provenance"], general["source"]) == (
            None, "assumed", None)


def test_a_new_dated_value_changes_the_answer_without_code(tmp_path):
    text = (POLICIES / "010_elder_meal_service.yaml").read_text(encoding="utf-8")
    text = text.replace("          url: null\n\ncriteria:",
                        "          url: null\n"
                        "      - {from: 2030-01-01, value: 65, unit: years, provenance: assumed,"
                        " source: null}\n\ncriteria:", 1)
    (tmp_path / "010_elder_meal_service.yaml").write_text(text, encoding="utf-8")
    programme = load_catalogue(tmp_path).get("elder_meal_service")
    person = validate_person({"birth_date": "1968-06-01"}, date(2030, 6, 1))  # 62
    assert programme.evaluate(person, date(2029, 12, 31))["status"] == "eligible"
    result = programme.evaluate(person, date(2030, 6, 1))
    assert result["status"] == "ineligible"
    assert result["criteria"][0]["message_en"] == "Under 65."
    assert result["criteria"][0]["parameters"][0]["provenance"] == "assumed"

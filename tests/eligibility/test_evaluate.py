"""What an evaluation returns: the result shape, explanations, sources, classes and periods."""

from __future__ import annotations

import copy
import json
from datetime import date

from servicemap.eligibility import load_catalogue, validate_person
from tests.eligibility.conftest import POLICIES

AS_OF = date(2026, 3, 1)
RESULT_KEYS = {"program", "name_zh", "name_en", "status", "class", "criteria", "missing_facts",
               "benefit", "delivered_by", "source"}
CRITERION_KEYS = {"id", "result", "message_zh", "message_en", "facts", "parameters"}


def evaluate(catalogue, facts: dict, as_of: date = AS_OF) -> dict:
    results = catalogue.evaluate(validate_person(facts, as_of), as_of)
    return {result["program"]: result for result in results}


def test_every_result_has_the_contract_shape_and_is_json(catalogue):
    results = catalogue.evaluate(validate_person({"age": 70}, AS_OF), AS_OF)
    assert [result["program"] for result in results] == [p.id for p in catalogue.programmes]
    json.dumps(results, ensure_ascii=False)
    for result in results:
        assert set(result) == RESULT_KEYS
        assert result["status"] in ("eligible", "ineligible", "unknown")
        assert set(result["benefit"]) == {"text_zh", "text_en", "amount", "unit", "provenance",
                                          "source", "note", "options", "missing_facts",
                                          "pro_rata"}
        assert set(result["delivered_by"]) == {"kinds", "services", "inclusive"}
        assert set(result["source"]) == {"title", "document_number", "issuer", "date", "url"}
        for criterion in result["criteria"]:
            assert set(criterion) == CRITERION_KEYS
            for parameter in criterion["parameters"]:
                assert set(parameter) == {"id", "value", "unit", "provenance", "source"}


def test_an_explanation_names_the_facts_and_parameters_it_used(catalogue):
    result = evaluate(catalogue, {"birth_date": "1950-06-15", "lives_alone": True,
                                  "empty_nest": False})["elder_meal_priority"]
    age, special = result["criteria"]
    assert age == {
        "id": "age", "result": True, "message_zh": "年满60周岁。", "message_en": "Aged 60 or over.",
        "facts": {"birth_date": "1950-06-15"},
        "parameters": [{"id": "min_age", "value": 60, "unit": "years", "provenance": "sourced",
                        "source": {"title": "中华人民共和国老年人权益保障法 第二条",
                                   "document_number": None, "issuer": "全国人民代表大会常务委员会",
                                   "date": None, "url": None}}]}
    assert special["result"] is True
    assert special["facts"] == {"lives_alone": True}  # what decided it, not every fact sent
    assert [p["id"] for p in special["parameters"]] == ["min_care_need", "advanced_age"]
    assert special["parameters"][1]["provenance"] == "assumed"


def test_messages_differ_for_met_not_met_and_unknown(catalogue):
    def age_messages(facts):
        criterion = evaluate(catalogue, facts)["elder_meal_service"]["criteria"][0]
        return criterion["result"], criterion["message_zh"], criterion["message_en"]

    assert age_messages({"age": 61}) == (True, "年满60周岁。", "Aged 60 or over.")
    assert age_messages({"age": 20}) == (False, "未满60周岁。", "Under 60.")
    assert age_messages({}) == (None, "需要出生日期才能确定是否年满60周岁。",
                                "The birth date is needed to tell whether aged 60 or over.")


def test_out_of_period_says_so_in_both_languages(catalogue):
    result = evaluate(catalogue, {"birth_date": "1950-01-01", "care_need": "severe"},
                      date(2027, 1, 1))["disabled_elder_care_voucher"]
    assert result["status"] == "ineligible"
    period = result["criteria"][0]
    assert period["id"] == "effective_period" and period["result"] is False
    # The pilot period is assumed, so not applied: only the national period is named.
    assert period["message_zh"] == ("项目在2027-01-01不在实施期内"
                                    "（实施期：全国实施（2026年，12个月），2026-01-01至2026-12-31）。")
    assert period["message_en"] == ("The programme is not in force on 2027-01-01 (it runs: "
                                    "National scheme (2026, 12 months), from 2026-01-01 to "
                                    "2026-12-31).")
    assert [c["result"] for c in result["criteria"][1:]] == [True, True]


def test_before_its_first_period_a_programme_is_not_yet_in_force(catalogue):
    period = evaluate(catalogue, {}, date(2025, 9, 1))["disabled_elder_care_voucher"]["criteria"][0]
    assert (period["result"], period["message_zh"], period["message_en"]) == (
        False, "项目自2026-01-01起实施，2025-09-01尚未实施。",
        "The programme was not yet in force on 2025-09-01 (it starts on 2026-01-01).")


def test_an_assumed_period_applies_once_an_administrator_says_so(tmp_path):
    text = (POLICIES / "030_disabled_elder_care_voucher.yaml").read_text(encoding="utf-8")
    text = text.replace("    provenance: assumed\n    source: null\n",
                        "    provenance: assumed\n    source: null\n    applied: true\n", 1)
    (tmp_path / "030_disabled_elder_care_voucher.yaml").write_text(text, encoding="utf-8")
    programme = load_catalogue(tmp_path).get("disabled_elder_care_voucher")
    as_of = date(2025, 9, 1)
    person = validate_person({"birth_date": "1950-01-01", "care_need": "moderate",
                              "care_setting": "home"}, as_of)
    result = programme.evaluate(person, as_of)
    assert result["status"] == "eligible"
    assert result["criteria"][0]["message_en"].startswith(
        "The programme is in force on 2025-09-01 (Chongqing pilot (2025)")
    assert (result["benefit"]["amount"], result["benefit"]["provenance"]) == (500, "sourced")
    assert result["benefit"]["source"]["issuer"] == "金融时报"


def test_in_period_the_period_is_shown_as_met(catalogue):
    period = evaluate(catalogue, {}, date(2025, 1, 1))["childcare_subsidy"]["criteria"][0]
    assert (period["result"], period["message_en"]) == (
        True, "The programme is in force on 2025-01-01 (National scheme, from 2025-01-01).")


def test_a_parameter_with_no_value_yet_is_not_in_force_and_says_so(catalogue):
    # On 2024-12-31 the subsidy's age limit has no value yet: not yet in force, never unknown.
    result = evaluate(catalogue, {"birth_date": "2024-06-01"}, date(2024, 12, 31))
    criteria = result["childcare_subsidy"]["criteria"]
    assert [c["result"] for c in criteria] == [False, False]
    assert criteria[1]["message_zh"] == ("补贴截止年龄（不含）自2025-01-01起施行，"
                                         "2024-12-31尚未施行。")
    assert criteria[1]["message_en"] == ("Not yet in force on 2024-12-31: age at which the "
                                         "subsidy ends applies from 2025-01-01.")
    assert criteria[1]["parameters"][0]["value"] is None
    assert result["childcare_subsidy"]["status"] == "ineligible"
    assert result["childcare_subsidy"]["missing_facts"] == []


def test_a_rule_whose_parameter_has_no_value_yet_is_false_even_with_facts_missing(tmp_path):
    text = (POLICIES / "010_elder_meal_service.yaml").read_text(encoding="utf-8")
    text = text.replace("      - from: null  # the statutory", "      - from: 2030-01-01  # the", 1)
    (tmp_path / "010_elder_meal_service.yaml").write_text(text, encoding="utf-8")
    programme = load_catalogue(tmp_path).get("elder_meal_service")
    result = programme.evaluate(validate_person({}, date(2029, 12, 31)), date(2029, 12, 31))
    assert (result["status"], result["missing_facts"]) == ("ineligible", [])
    assert result["criteria"][0]["message_zh"] == ("老年人年龄起点自2030-01-01起施行，"
                                                   "2029-12-31尚未施行。")
    result = programme.evaluate(validate_person({}, date(2030, 1, 1)), date(2030, 1, 1))
    assert (result["status"], result["missing_facts"]) == ("unknown", ["birth_date"])


def test_class_is_named_only_by_the_two_kindergarten_programmes(catalogue):
    results = evaluate(catalogue, {"birth_date": "2020-01-15"})
    assert {key: r["class"] for key, r in results.items() if r["class"]} == {
        "inclusive_kindergarten_enrollment": "large", "free_preschool_final_year": "large"}


def test_benefits_carry_the_amount_in_force_with_its_provenance(catalogue):
    results = evaluate(catalogue, {"birth_date": "2025-01-01"})
    assert results["childcare_subsidy"]["benefit"]["amount"] == 3600
    assert results["childcare_subsidy"]["benefit"]["unit"] == "yuan_per_year"
    assert "3600" in results["childcare_subsidy"]["benefit"]["text_zh"]
    assert results["nursery_care"]["benefit"]["amount"] is None
    voucher = results["disabled_elder_care_voucher"]["benefit"]
    assert voucher["amount"] is None and voucher["missing_facts"] == ["care_setting"]
    assert [option["amount"] for option in voucher["options"]] == [800, 500]
    assert "800/500" in voucher["text_zh"]
    assert results["inclusive_kindergarten_enrollment"]["delivered_by"] == {
        "kinds": ["kindergarten"], "services": [], "inclusive": True}
    assert results["kindergarten_nursery_class"]["delivered_by"]["services"] == ["nursery_class"]


def test_evaluation_leaves_the_person_and_the_catalogue_unchanged(catalogue):
    person = validate_person({"birth_date": "1950-06-15", "residence_district": "沙坪坝"}, AS_OF)
    assert catalogue.evaluate(person, AS_OF)[1]["benefit"]["options"]  # 低保 or not: unknown
    facts = copy.deepcopy(person.facts)
    first = catalogue.evaluate(person, AS_OF)
    first[1]["benefit"]["options"][0]["source"]["title"] = "changed"  # a caller editing …
    first[1]["criteria"][0]["parameters"][0]["source"]["title"] = "changed"
    first[1]["criteria"][0]["facts"]["birth_date"] = "changed"
    first[1]["delivered_by"]["kinds"].append("nursery")
    first[1]["source"]["title"] = "changed"
    second = catalogue.evaluate(person, AS_OF)  # … changes nothing for the next one
    assert person.facts == facts
    assert second[1]["source"]["title"] == "积极发展老年助餐服务行动方案"
    assert second[1]["benefit"]["options"][0]["source"]["title"] != "changed"
    assert second[1]["delivered_by"]["kinds"] == ["meal_point"]
    assert second == load_catalogue(POLICIES).evaluate(person, AS_OF)


def test_a_programme_evaluates_on_its_own_like_in_the_catalogue(catalogue):
    person = validate_person({"age": 3}, AS_OF)
    for programme in catalogue.programmes:
        assert programme.evaluate(person, AS_OF) == evaluate(catalogue, {"age": 3})[programme.id]

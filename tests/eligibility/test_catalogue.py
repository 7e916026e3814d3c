"""The catalogue on disk: ten programmes in POLICIES.md order, and clear errors for bad files."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from servicemap.eligibility import CatalogueError, load_catalogue
from tests.eligibility.conftest import POLICIES

ORDER = ["elder_meal_service", "elder_meal_priority", "disabled_elder_care_voucher",
         "bathing_assistance", "community_elder_care", "childcare_subsidy", "nursery_care",
         "kindergarten_nursery_class", "inclusive_kindergarten_enrollment",
         "free_preschool_final_year"]


def test_the_ten_programmes_load_in_catalogue_order(catalogue):
    assert [programme.id for programme in catalogue.programmes] == ORDER
    assert catalogue.get("nursery_care").name_zh == "托育服务（0–3岁）"
    assert catalogue.get("no_such_programme") is None


def test_assumed_exactly_where_the_catalogue_says_so(catalogue):
    assumed = set()
    for programme in catalogue.programmes:
        for parameter in programme.parameters.values():
            values = [*parameter.values, *(v for vs in parameter.by_district.values() for v in vs)]
            assumed |= {(programme.id, parameter.id) for v in values if v.provenance == "assumed"}
            for value in values:  # a sourced value always cites its source
                assert value.provenance == "assumed" or value.source["title"]
    assert assumed == {
        ("elder_meal_priority", "advanced_age"),
        ("elder_meal_priority", "meal_subsidy"),  # the general value: not published (null)
        ("nursery_care", "min_age_months"), ("nursery_care", "max_age_months"),
        ("inclusive_kindergarten_enrollment", "cutoff"), ("free_preschool_final_year", "cutoff"),
    }


def test_no_url_is_made_up(catalogue):
    for programme in catalogue.programmes:
        assert programme.source["url"] is None


def test_to_public_shows_criteria_parameters_and_values_in_force(catalogue):
    public = catalogue.get("disabled_elder_care_voucher").to_public(date(2026, 3, 1))
    json.dumps(public)
    assert public["id"] == "disabled_elder_care_voucher"
    assert public["effective"] == {"from": "2026-01-01", "until": "2026-12-31"}
    assert public["criteria"][0] == {
        "id": "age", "rule": {"age_years": {"gte": {"param": "min_age"}}},
        "message_zh": "年满60周岁。", "message_en": "Aged 60 or over.",
        "not_met_zh": "未满60周岁。", "not_met_en": "Under 60.",
        "unknown_zh": "需要出生日期才能确定是否年满60周岁。",
        "unknown_en": "The birth date is needed to tell whether aged 60 or over."}
    parameters = {parameter["id"]: parameter for parameter in public["parameters"]}
    assert parameters["institutional_voucher_max"]["in_force"]["value"] == 800
    assert parameters["min_age"]["values"][0]["source"]["issuer"] == "新华社"
    assert "800" in public["benefit"]["text_zh"] and "500" in public["benefit"]["text_en"]
    assert public["benefit"]["amount"] == {"param": "institutional_voucher_max"}
    assert public["delivered_by"]["kinds"][0] == "care_home"


def test_to_public_defaults_to_today_in_shanghai(catalogue, monkeypatch):
    monkeypatch.setattr("servicemap.eligibility.programme.today_in_shanghai",
                        lambda: date(2025, 6, 1))
    public = catalogue.get("disabled_elder_care_voucher").to_public()
    assert public["as_of"] == "2025-06-01"
    assert public["parameters"][0]["in_force"] is None  # the vouchers start in 2026


def test_a_folder_without_programmes_is_an_error(tmp_path):
    with pytest.raises(CatalogueError, match="no programme files"):
        load_catalogue(tmp_path)


def broken(tmp_path, file: str, old: str, new: str) -> tuple[str, str]:
    """The message of loading the seeded catalogue with one edit in one file, and the file."""
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    return str(caught.value), text.replace(old, new, 1)


MEAL = "010_elder_meal_service.yaml"
PRIORITY = "020_elder_meal_priority.yaml"
VOUCHER = "030_disabled_elder_care_voucher.yaml"
KINDERGARTEN = "090_inclusive_kindergarten_enrollment.yaml"


# (file, text, its replacement, path named, problem named, text on the line named)
BAD_FILES = [
    # meaning: facts, values, parameters, vocabularies
    (PRIORITY, "{fact: left_behind, eq: true}", "{fact: left_behnd, eq: true}",
     "criteria[1].any[3].fact", "unknown fact 'left_behnd'", "left_behnd"),
    (PRIORITY, "near_subsistence, extreme", "rich, extreme",
     "criteria[1].any[0].in[1]", "'rich' is not a household_status", "rich"),
    (PRIORITY, "{param: advanced_age}", "{param: advanced}",
     "criteria[1].any[7].age_years.gte.param", "unknown parameter 'advanced'", "advanced}"),
    (MEAL, "kinds: [meal_point]", "kinds: [canteen]",
     "delivered_by.kinds[0]", "unknown kind 'canteen'", "[canteen]"),
    (MEAL, "services: [meals, meal_delivery]", "services: [meals, lunch]",
     "delivered_by.services[1]", "unknown service 'lunch'", "lunch"),
    (MEAL, "message_zh: 年满{min_age}周岁。", "message_zh: 年满{min_ag}周岁。",
     "criteria[0].message_zh", "placeholder {min_ag} is not a parameter", "min_ag}"),
    (MEAL, "unit: years", "unit: months", "criteria[0].age_years.gte.param",
     "'min_age' is in months; this rule needs years", "age_years:"),
    (MEAL, "value: 60", "value: sixty",
     "parameters.min_age.values[0].value", "'sixty' is not a whole number of years", "sixty"),
    (MEAL, "age_years: {gte: {param: min_age}}", "fact: household_status\n    gte: none",
     "criteria[0].gte", "household_status has no order", "gte: none"),
    (MEAL, "age_years: {gte: {param: min_age}}",
     "age_years: {gte: {param: min_age}}\n    fact: lives_alone",
     "criteria[0]", "exactly one of", "- id: age"),
    (MEAL, "date: 2023-10-23", "date: 2023-02-30",
     "source.date", "'2023-02-30' is not a calendar date", "2023-02-30"),
    (MEAL, "issuer: 民政部等11部门\nsource", "issuer: 民政部等11部门\nissuer: x\nsource",
     "issuer", "'issuer' is given twice", "issuer: x"),
    (KINDERGARTEN, "in: [small, middle, large]", "in: [small, large]",
     "criteria[0].kindergarten_class.in", "must be adjacent", "in: [small, large]"),
    (KINDERGARTEN, 'value: "08-31"', 'value: "02-29"',
     "parameters.cutoff.values[0].value", "not a day of the year", "02-29"),
    (PRIORITY, '"500106":', '"500199":', "parameters.meal_subsidy.by_district.500199",
     "not a Chongqing district code", "500199"),
    (PRIORITY, "    district_fact: residence_district\n", "",
     "parameters.meal_subsidy", "by_district needs district_fact", "  meal_subsidy:"),
    (VOUCHER, "until: 2026-12-31", "until: 2025-12-31", "effective.until",
     "until is before from", "until: 2025-12-31"),
    (VOUCHER, "amount: {param: institutional_voucher_max}", "amount: {param: min_age}",
     "benefit.amount.param", "an amount needs a parameter in yuan", "amount: {param: min_age}"),
    (VOUCHER, "      - {from: 2026-01-01, value: 500,",
     "      - {from: 2026-01-01, value: 400, unit: yuan_per_month, provenance: sourced,\n"
     "         source: *xinhua}\n      - {from: 2025-06-01, value: 500,",
     "parameters.home_voucher_max.values[1].from", "ascending order", "2025-06-01"),
    (VOUCHER, "  - id: care_need\n", "  - id: age\n",
     "criteria[1].id", "criterion id 'age' is used twice", "  - id: age\n    fact"),
    # structure, from the JSON Schema
    (MEAL, "{gte: {param: min_age}}", "{gtee: {param: min_age}}",
     "criteria[0].age_years", "'gtee' was unexpected", "gtee"),
    (MEAL, "  - id: age\n", "  - id: age\n    fakt: x\n",
     "criteria[0]", "'fakt' was unexpected", "- id: age"),
    (MEAL, "provenance: sourced", "provenance: guessed",
     "parameters.min_age.values[0].provenance", "'guessed' is not one of", "guessed"),
    (MEAL, "name_en: Meal service for older people\n", "",
     "(top level)", "'name_en' is a required property", "id: elder_meal_service"),
    (MEAL, "url: null", "url: www.example.org", "source.url", "does not match", "www.example"),
    (PRIORITY, '"500106":', "500106:", "parameters.meal_subsidy.by_district",
     "500106 is not of type 'string'", "by_district:"),
]


def line_of(text: str, marker: str) -> int:
    return text[:text.index(marker)].count("\n") + 1


@pytest.mark.parametrize("file, old, new, where, what, marker", BAD_FILES)
def test_a_bad_file_names_the_file_the_path_the_line_and_the_problem(
        tmp_path, file, old, new, where, what, marker):
    message, text = broken(tmp_path, file, old, new)
    assert message == (f"{tmp_path / 'policies' / file}: {where} "
                       f"(line {line_of(text, marker)}): {message.split('): ', 1)[1]}")
    assert what in message


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    message, _ = broken(tmp_path, MEAL, "age_years: {gte: {param: min_age}}",
                        "age_years: {gte: 60")
    assert message.startswith(f"{tmp_path / 'policies' / MEAL}: line 30, column 15: "
                              "not valid YAML")


def test_a_duplicate_programme_id_names_both_files(tmp_path):
    message, _ = broken(tmp_path, MEAL, "id: elder_meal_service", "id: elder_meal_priority")
    assert PRIORITY in message and MEAL in message
    assert "duplicate programme id 'elder_meal_priority'" in message


def test_a_new_programme_is_just_a_new_file(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    text = (folder / MEAL).read_text(encoding="utf-8")
    (folder / "110_centenarian.yaml").write_text(
        text.replace("id: elder_meal_service", "id: centenarian_allowance")
            .replace("value: 60", "value: 100"), encoding="utf-8")
    catalogue = load_catalogue(folder)
    assert catalogue.programmes[-1].id == "centenarian_allowance"
    assert len(catalogue.programmes) == 11

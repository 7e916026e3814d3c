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


def _values(parameter):
    """Every dated value and case of a parameter, general and per district."""
    dated = [*parameter.values, *(v for vs in parameter.by_district.values() for v in vs)]
    return [*dated, *(case for value in dated for case in value.cases)]


def test_assumed_exactly_where_the_catalogue_says_so(catalogue):
    assumed = set()
    for programme in catalogue.programmes:
        for parameter in programme.parameters.values():
            values = _values(parameter)
            assumed |= {(programme.id, parameter.id) for v in values if v.provenance == "assumed"}
            for value in values:  # a sourced value always cites its source
                assert value.provenance == "assumed" or (value.source["title"]
                                                          or value.source["issuer"])
    assert assumed == {
        ("elder_meal_priority", "advanced_age"),
        ("elder_meal_priority", "meal_subsidy"),  # not published (null), with the reason
        ("disabled_elder_care_voucher", "voucher_cap"),  # home care's cap in 2026
        ("bathing_assistance", "min_care_need"),  # 轻度失能 counted as 半失能
        ("childcare_subsidy", "month_counting"),
        ("nursery_care", "min_age_months"), ("nursery_care", "max_age_months"),
        ("inclusive_kindergarten_enrollment", "cutoff"), ("free_preschool_final_year", "cutoff"),
    }


def test_sources_are_titles_and_numbers_never_notes(catalogue):
    numbers = {programme.id: programme.source["document_number"]
               for programme in catalogue.programmes}
    assert numbers == {
        "elder_meal_service": "民发〔2023〕58号", "elder_meal_priority": "民发〔2023〕58号",
        "disabled_elder_care_voucher": None, "bathing_assistance": None,
        "community_elder_care": None, "childcare_subsidy": None,
        "nursery_care": "国卫人口发〔2019〕58号",
        "kindergarten_nursery_class": "发改价格〔2025〕1644号",
        "inclusive_kindergarten_enrollment": "教育部令第39号",
        "free_preschool_final_year": "国办发〔2025〕27号"}
    assert catalogue.get("elder_meal_service").source["date"] == "2023-10-20"
    assert catalogue.get("bathing_assistance").issuer == "重庆市慈善总会"
    assert catalogue.get("community_elder_care").source["title"] == "托起“一老一小”稳稳的幸福"
    for programme in catalogue.programmes:
        titles = [programme.source["title"],
                  *(value.source["title"] for parameter in programme.parameters.values()
                    for value in _values(parameter) if value.source)]
        for title in titles:  # a title, not a note about one
            assert title is None or not any(word in title for word in ("报道", "据", "report"))


def test_the_voucher_pilot_period_is_listed_but_not_applied(catalogue):
    periods = catalogue.get("disabled_elder_care_voucher").periods
    assert [(p.provenance, p.applied) for p in periods] == [("assumed", False), ("sourced", True)]


def test_no_url_is_made_up(catalogue):
    for programme in catalogue.programmes:
        assert programme.source["url"] is None


def test_to_public_shows_criteria_parameters_and_values_in_force(catalogue):
    public = catalogue.get("disabled_elder_care_voucher").to_public(date(2026, 3, 1))
    json.dumps(public)
    assert public["id"] == "disabled_elder_care_voucher"
    assert [(p["from"], p["until"], p["applied"]) for p in public["periods"]] == [
        ("2025-07-01", "2025-12-31", False), ("2026-01-01", "2026-12-31", True)]
    assert public["changed"] == ["2025-07-01", "2026-01-01", "2027-01-01"]
    assert public["criteria"][0] == {
        "id": "age", "rule": {"age_years": {"gte": {"param": "min_age"}}},
        "message_zh": "年满60周岁。", "message_en": "Aged 60 or over.",
        "not_met_zh": "未满60周岁。", "not_met_en": "Under 60.",
        "unknown_zh": "需要出生日期才能确定是否年满60周岁。",
        "unknown_en": "The birth date is needed to tell whether aged 60 or over."}
    parameters = {parameter["id"]: parameter for parameter in public["parameters"]}
    cap = parameters["voucher_cap"]["in_force"]
    assert [(c["when"], c["value"], c["provenance"]) for c in cap["cases"]] == [
        ({"fact": "care_setting", "eq": "institution"}, 800, "sourced"),
        ({"fact": "care_setting", "eq": "home"}, 500, "assumed")]
    assert parameters["min_care_need"]["values"][0]["source"]["issuer"] == "新华社"
    assert public["benefit"]["amount"] == {"param": "voucher_cap"}
    assert public["delivered_by"]["kinds"][0] == "care_home"


def test_to_public_defaults_to_today_in_shanghai(catalogue, monkeypatch):
    monkeypatch.setattr("servicemap.eligibility.programme.today_in_shanghai",
                        lambda: date(2024, 6, 1))
    public = catalogue.get("childcare_subsidy").to_public()
    assert public["as_of"] == "2024-06-01"
    assert public["parameters"][0]["in_force"] is None  # the subsidy starts in 2025


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
CHILDCARE = "060_childcare_subsidy.yaml"
KINDERGARTEN = "090_inclusive_kindergarten_enrollment.yaml"


# (file, text, its replacement, path named, problem named, text on the line named)
BAD_FILES = [
    # meaning: facts, values, parameters, vocabularies
    (PRIORITY, "{fact: left_behind, eq: true}", "{fact: left_behnd, eq: true}",
     "criteria[1].any[3].fact", "unknown fact 'left_behnd'", "left_behnd"),
    (PRIORITY, "near_subsistence, extreme", "rich, extreme",  # the first is in a case's rule
     "parameters.meal_subsidy.by_district.500106[0].cases[0].when.in[1]",
     "'rich' is not a household_status", "rich"),
    (PRIORITY, "- {fact: household_status, in: [subsistence_allowance, near_subsistence",
     "- {fact: household_status, in: [subsistence_allowance, rich",
     "criteria[1].any[0].in[1]", "'rich' is not a household_status", "rich"),
    (PRIORITY, "value: 7\n", "value: seven\n",
     "parameters.meal_subsidy.by_district.500106[0].cases[0].value",
     "'seven' is not an amount in yuan", "seven"),
    (VOUCHER, "when: {fact: care_setting, eq: institution}",
     "when: {fact: care_setting, eq: hospital}",
     "parameters.voucher_cap.values[0].cases[0].when.eq", "'hospital' is not a care_setting",
     "hospital"),
    (VOUCHER, "when: {fact: care_setting, eq: home}", "when: {age_years: {gte: {param: min_age}}}",
     "parameters.voucher_cap.values[0].cases[1].when.age_years.gte.param",
     "unknown parameter 'min_age'", "param: min_age}}}"),
    (VOUCHER, "            provenance: sourced\n            source: &pilot",
     "            provenance: sourced\n            source: null\n            x: &pilot",
     "parameters.voucher_cap.values[0].cases[0]", "'x' was unexpected",
     "when: {fact: care_setting, eq: institution}"),
    (VOUCHER, "    label_en: Chongqing pilot (2025)\n    provenance: assumed",
     "    label_en: Chongqing pilot (2025)\n    provenance: maybe",
     "periods[0].provenance", "'maybe' is not one of", "maybe"),
    (CHILDCARE, "counting: {param: month_counting}", "counting: {param: annual_amount}",
     "benefit.pro_rata.counting.param", "'annual_amount' is in yuan_per_year; this rule needs "
     "month_counting", "counting: {param: annual_amount}"),
    (CHILDCARE, "value: started_months", "value: some_months",
     "parameters.month_counting.values[0].value", "'some_months' is not one of", "some_months"),
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
    (MEAL, "date: 2023-10-20", "date: 2023-02-30",
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
    (VOUCHER, "until: 2026-12-31", "until: 2025-12-30", "periods[1].until",
     "until is before from", "until: 2025-12-30"),
    (VOUCHER, "amount: {param: voucher_cap}", "amount: {param: min_age}",
     "benefit.amount.param", "an amount needs a parameter in yuan", "amount: {param: min_age}"),
    (VOUCHER, "      - from: 2026-01-01\n", "      - from: 2025-06-01\n",
     "parameters.voucher_cap.values[1].from", "ascending order", "2025-06-01"),
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
    message, text = broken(tmp_path, MEAL, "age_years: {gte: {param: min_age}}",
                           "age_years: {gte: 60")
    line = line_of(text, "age_years: {gte: 60") + 1  # the parser notices on the next line
    assert message.startswith(f"{tmp_path / 'policies' / MEAL}: line {line}, column 15: "
                              "not valid YAML")


def test_a_bad_catalogue_version_names_the_file(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    assert load_catalogue(folder).version == 2
    (folder / "catalogue.yaml").write_text("version: two\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="catalogue.yaml: version: 'two' is not"):
        load_catalogue(folder)
    (folder / "catalogue.yaml").write_text("version: 2\nedition: 3\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="catalogue.yaml"):
        load_catalogue(folder)


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

"""Validation of the facts about a person: every bad field is named, in English and Chinese."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from servicemap.eligibility import FactError, validate_person

AS_OF = date(2026, 3, 1)


def errors_of(raw: dict) -> dict:
    with pytest.raises(FactError) as caught:
        validate_person(raw, AS_OF)
    return caught.value.errors


def test_valid_facts_are_normalised():
    person = validate_person({
        "birth_date": "1950-06-15", "hukou_district": "北碚区", "residence_district": "500106",
        "household_status": "near_subsistence", "care_need": "mild", "lives_alone": True,
        "empty_nest": False, "left_behind": False, "disability_certificate": False,
        "special_family": False}, AS_OF)
    assert person.facts["birth_date"] == date(1950, 6, 15)
    assert person.facts["hukou_district"] == "500109"
    assert person.facts["residence_district"] == "500106"
    assert person.public("birth_date") == "1950-06-15"


def test_a_short_district_name_and_a_date_object_are_accepted():
    person = validate_person({"residence_district": "沙坪坝", "birth_date": date(2020, 1, 1),
                              "age": 6}, AS_OF)
    assert person.facts == {"residence_district": "500106", "birth_date": date(2020, 1, 1),
                            "age": 6}


def test_absent_and_null_facts_are_unknown():
    assert validate_person({}, AS_OF).facts == {}
    assert validate_person({"lives_alone": None, "age": None}, AS_OF).facts == {}


@pytest.mark.parametrize("field, value", [
    ("age", True),            # a JSON boolean is not an age
    ("age", 60.5),
    ("age", "60"),
    ("age", -1),
    ("age", 151),
    ("lives_alone", 1),       # a JSON number is not a boolean
    ("lives_alone", "true"),
    ("empty_nest", 0),
    ("birth_date", "1950/06/15"),
    ("birth_date", "1950-02-30"),
    ("birth_date", "19500615"),
    ("birth_date", 19500615),
    ("birth_date", "2026-03-02"),  # after as_of
    ("birth_date", "1870-01-01"),  # over 150
    ("hukou_district", "110101"),  # Beijing, not Chongqing
    ("residence_district", "两江新区"),  # a functional area, not a 区县
    ("residence_district", 500106),
    ("household_status", "poor"),
    ("care_need", "moderate "),
    ("care_need", 3),
])
def test_a_bad_value_is_named_with_its_field(field, value):
    errors = errors_of({field: value})
    assert list(errors) == [field]
    assert len(errors[field]) == 1


def test_the_messages_are_in_english_with_chinese_beside():
    errors = errors_of({"hobby": "chess", "age": True, "lives_alone": 1,
                        "birth_date": "2027-01-01"})
    assert errors == {
        "hobby": ["Unknown fact. 未知的个人信息字段。"],
        "age": ["Must be a whole number of years from 0 to 150. 年龄应为0至150的整数。"],
        "lives_alone": ["Must be true or false. 应为 true 或 false。"],
        "birth_date": ["Birth date is after the as_of date. 出生日期晚于查询日期。"],
    }


def test_every_bad_field_is_named_at_once():
    errors = errors_of({"age": "sixty", "care_need": "bad", "household_status": "bad",
                        "hukou_district": "nowhere", "special_family": "no", "colour": "red"})
    assert set(errors) == {"age", "care_need", "household_status", "hukou_district",
                           "special_family", "colour"}


def test_birth_date_and_age_that_disagree_are_both_named():
    errors = errors_of({"birth_date": "1966-03-02", "age": 60})  # 59 on 2026-03-01
    assert set(errors) == {"birth_date", "age"}
    assert "disagree" in errors["age"][0] and "不一致" in errors["age"][0]
    validate_person({"birth_date": "1966-03-01", "age": 60}, AS_OF)  # agree on the birthday


def test_a_datetime_is_not_a_birth_date():
    assert "birth_date" in errors_of({"birth_date": datetime(1950, 1, 1)})


def test_facts_are_never_shown_by_repr():
    person = validate_person({"birth_date": "1950-06-15", "lives_alone": True}, AS_OF)
    assert "1950" not in repr(person) and repr(person) == "Person(<2 facts>)"


def test_something_other_than_an_object_is_refused():
    with pytest.raises(FactError) as caught:
        validate_person(["age", 60], AS_OF)
    assert list(caught.value.errors) == ["person"]

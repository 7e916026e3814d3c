"""Facts about a person: their names, values and validation into a `Person`.

A fact that is absent (or null) is unknown, never false or zero. Facts are held only for the
evaluation that needs them: nothing here stores, caches or logs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from servicemap.bounds import DATE_RANGE_MESSAGE, date_in_bounds
from servicemap.districts import find_district

from .dates import age_years
from .errors import FactError

HOUSEHOLD_STATUSES = ("none", "subsistence_allowance", "near_subsistence",
                      "extreme_poverty_support")
# Ordered from least to most need (GB/T 42195-2022), so rules may say "moderate or above".
CARE_NEEDS = ("able", "mild", "moderate", "severe", "total")
# Where care is received (机构养老 or 居家/社区): it decides a care voucher's cap.
CARE_SETTINGS = ("institution", "home")
BOOLEAN_FACTS = ("lives_alone", "empty_nest", "left_behind", "disability_certificate",
                 "special_family", "enrolled_in_kindergarten")
DISTRICT_FACTS = ("hukou_district", "residence_district")
BIRTH_FACTS = ("birth_date", "age")
ENUM_FACTS = {"household_status": HOUSEHOLD_STATUSES, "care_need": CARE_NEEDS,
              "care_setting": CARE_SETTINGS}
ORDERED_FACTS = ("care_need",)
FACT_NAMES = (*BIRTH_FACTS, *DISTRICT_FACTS, *ENUM_FACTS, *BOOLEAN_FACTS)
MAX_AGE = 150
# Facts with a few values, which can be tried one by one: name -> every value.
FACT_DOMAINS = {**ENUM_FACTS, **{name: (True, False) for name in BOOLEAN_FACTS}}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNKNOWN_FACT = "Unknown fact. 未知的个人信息字段。"
NOT_BOOLEAN = "Must be true or false. 应为 true 或 false。"
NOT_DATE = "Must be a date written YYYY-MM-DD. 应为 YYYY-MM-DD 格式的日期。"
AFTER_AS_OF = "Birth date is after the as_of date. 出生日期晚于查询日期。"
TOO_OLD = f"Birth date gives an age over {MAX_AGE}. 按出生日期年龄超过{MAX_AGE}岁。"
NOT_AGE = f"Must be a whole number of years from 0 to {MAX_AGE}. 年龄应为0至{MAX_AGE}的整数。"
CONTRADICTION = ("birth_date and age disagree on the as_of date. "
                 "出生日期与年龄在查询日期不一致。")
NOT_DISTRICT = ("Must be a Chongqing district's 6-digit code or name, such as 500109 or 北碚区. "
                "应为重庆市区县的6位代码或名称，如 500109 或 北碚区。")


@dataclass(frozen=True, slots=True, repr=False)
class Person:
    """Validated facts: Python values (dates, codes) by fact name; absent facts are missing."""

    facts: dict

    def __repr__(self) -> str:
        # Facts about a person must not end up in logs through a stray repr.
        return f"Person(<{len(self.facts)} facts>)"

    def public(self, name: str):
        """A fact's value as JSON would carry it (dates as ISO strings)."""
        value = self.facts[name]
        return value.isoformat() if isinstance(value, date) else value


def validate_person(raw: dict, as_of: date) -> Person:
    """The facts of a request as a Person; FactError names every bad field."""
    if not isinstance(raw, dict):
        raise FactError({"person": ["Must be an object. 应为对象。"]})
    errors: dict[str, list[str]] = {}
    facts = {}
    for name, value in raw.items():
        if value is None:
            continue  # null is the same as absent: unknown
        message, clean = _check(name, value, as_of)
        if message:
            errors.setdefault(str(name), []).append(message)
        else:
            facts[name] = clean
    if "birth_date" in facts and "age" in facts:
        if age_years(facts["birth_date"], as_of) != facts["age"]:
            errors.setdefault("birth_date", []).append(CONTRADICTION)
            errors.setdefault("age", []).append(CONTRADICTION)
    if errors:
        raise FactError(errors)
    return Person(facts)


def _check(name, value, as_of: date) -> tuple[str | None, object]:
    """(error message, None) or (None, clean value) for one fact."""
    if name == "birth_date":
        return _check_birth_date(value, as_of)
    if name == "age":
        ok = type(value) is int and 0 <= value <= MAX_AGE  # bool is an int subclass: excluded
        return (None, value) if ok else (NOT_AGE, None)
    if name in DISTRICT_FACTS:
        district = find_district(value) if isinstance(value, str) else None
        return (None, district.code) if district else (NOT_DISTRICT, None)
    if name in ENUM_FACTS:
        allowed = ENUM_FACTS[name]
        if isinstance(value, str) and value in allowed:
            return None, value
        return f"Must be one of {', '.join(allowed)}. 应为以下之一：{'、'.join(allowed)}。", None
    if name in BOOLEAN_FACTS:
        return (None, value) if isinstance(value, bool) else (NOT_BOOLEAN, None)
    return UNKNOWN_FACT, None


def _check_birth_date(value, as_of: date) -> tuple[str | None, object]:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return NOT_DATE, None
    if type(value) is not date:  # a datetime is not a calendar date
        return NOT_DATE, None
    if not date_in_bounds(value):
        return DATE_RANGE_MESSAGE, None
    if value > as_of:
        return AFTER_AS_OF, None
    if age_years(value, as_of) > MAX_AGE:
        return TOO_OLD, None
    return None, value


_MEANINGS = {
    "birth_date": "出生日期; preferred over age",
    "age": "周岁, used only when birth_date is absent",
    "hukou_district": "户籍地: a Chongqing district's code (500109) or name (北碚区)",
    "residence_district": "常住地: a Chongqing district's code or name; never inferred from hukou",
    "household_status": "none, 低保 subsistence_allowance, 低保边缘 near_subsistence, "
                        "特困供养 extreme_poverty_support",
    "care_need": "GB/T 42195-2022 grade: 能力完好 able, 轻度失能 mild, 中度失能 moderate, "
                 "重度失能 severe, 完全失能 total",
    "care_setting": "where care is received: 机构养老 institution, 居家/社区 home",
    "lives_alone": "独居", "empty_nest": "空巢", "left_behind": "留守",
    "disability_certificate": "持残疾证", "special_family": "计划生育特殊家庭",
    "enrolled_in_kindergarten": "在园: attends a kindergarten this school year",
}


# The facts and their values in plain words (中文, English), as the catalogue names them, for
# pages that ask a person about them: 失能等级 in words, never `moderate`.
FACT_LABELS = {
    "birth_date": ("出生日期", "Birth date"),
    "age": ("年龄（周岁）", "Age (full years)"),
    "hukou_district": ("户籍所在区县", "District of household registration (户籍)"),
    "residence_district": ("居住的区县", "District of residence"),
    "household_status": ("低保、特困等", "Social assistance (低保, 特困 …)"),
    "care_need": ("失能等级（老年人能力评估）", "Care-need grade (assessment of an older person)"),
    "care_setting": ("在哪里接受照护", "Where care is received"),
    "lives_alone": ("独居（一个人住）", "Lives alone (独居)"),
    "empty_nest": ("空巢（子女不在身边）", "Empty nest (空巢: no children nearby)"),
    "left_behind": ("留守老人", "Left behind (留守)"),
    "disability_certificate": ("持有残疾证", "Holds a disability certificate"),
    "special_family": ("计划生育特殊家庭", "Special family-planning family"),
    "enrolled_in_kindergarten": ("孩子这个学年在上幼儿园", "The child attends a kindergarten this "
                                 "school year"),
}
VALUE_LABELS = {
    "household_status": {"none": ("都不是", "None of these"),
                         "subsistence_allowance": ("低保", "Subsistence allowance (低保)"),
                         "near_subsistence": ("低保边缘", "Near subsistence (低保边缘)"),
                         "extreme_poverty_support": ("特困供养", "Extreme poverty support (特困)")},
    "care_need": {"able": ("能力完好（能自理）", "Able (no care need)"),
                  "mild": ("轻度失能", "Mild care need (轻度失能)"),
                  "moderate": ("中度失能", "Moderate care need (中度失能)"),
                  "severe": ("重度失能", "Severe care need (重度失能)"),
                  "total": ("完全失能", "Total care need (完全失能)")},
    "care_setting": {"institution": ("机构养老（住养老院）", "In a care home (机构养老)"),
                     "home": ("居家或社区养老", "At home or in the community (居家/社区)")},
}


def fact_properties() -> dict:
    """Every fact as an OpenAPI (JSON Schema) property, for the request schema's documentation."""
    properties = {}
    for name in FACT_NAMES:
        if name == "birth_date":
            spec = {"type": "string", "format": "date"}
        elif name == "age":
            spec = {"type": "integer", "minimum": 0, "maximum": MAX_AGE}
        elif name in DISTRICT_FACTS:
            spec = {"type": "string", "example": "500109"}
        elif name in ENUM_FACTS:
            spec = {"type": "string", "enum": list(ENUM_FACTS[name])}
        else:
            spec = {"type": "boolean"}
        properties[name] = {**spec, "nullable": True, "description": _MEANINGS[name]}
    return properties

"""/eligibility 我能享受什么: a few questions at a time, chosen by the answer's missing facts.

Facts (and the location) travel in the POST body only: the page never puts them in a URL, a
cookie or a log, and tells the browser not to keep it (Cache-Control: no-store). The answer is
the API's own (api.eligibility.eligibility_answer), the nearest places api.nearest's.
"""

from __future__ import annotations

import re
from collections import Counter

from flask import make_response, render_template, request
from marshmallow import ValidationError

from ..api.eligibility import ANSWERED, catalogue, eligibility_answer
from ..api.nearest import nearest_answer
from ..districts import load_districts
from ..eligibility import FACT_NAMES, FactError
from ..eligibility.facts import BOOLEAN_FACTS, DISTRICT_FACTS, FACT_LABELS, VALUE_LABELS
from ..errors import flatten_messages
from ..geo.geocoding import current_geocoding
from ..schemas import NearestQuerySchema
from .blueprint import blp, translate

# One question per fact, except that 出生日期 and 年龄 are one question (either answers it).
QUESTIONS = tuple(name for name in FACT_NAMES if name != "age")
RADII = ("1000", "3000", "5000", "10000", "20000")
NEAREST_LIMIT = 3
_AGE = re.compile(r"\d{1,6}")
# 1955/3/1, 1955.3.1 or 1955年3月1日 typed where a browser has no date picker: as 1955-03-01.
_LOOSE_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


@blp.route("/eligibility", methods=["GET", "POST"])
def eligibility():
    """我能享受什么: the questions that matter next, and the answer so far (works without JS)."""
    form, facts = request.form, facts_from_form(request.form)
    try:
        results, errors = eligibility_answer(facts)[1], {}
    except FactError as error:
        results, errors = None, error.errors
    origin, place_errors = origin_from_form(form) if results and form else (None, {})
    questions, asked = questions_to_ask(form, facts, results, errors)
    page = render_template(
        "pages/eligibility.html", posted=bool(form), facts=facts, questions=questions,
        asked=asked, results=results, errors=errors, place_errors=place_errors, form=form,
        nearby=nearest_by_programme(results, origin) if origin else {},
        groups=group_results(results or []), streets=streets_by_district(),
        districts=load_districts(), radii=RADII, words=Words(), fact_labels=FACT_LABELS,
        district_facts=DISTRICT_FACTS, value_labels=VALUE_LABELS)
    response = make_response(page, 422 if errors or place_errors else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


def questions_to_ask(form, facts: dict, results: list[dict] | None, errors: dict
                     ) -> tuple[list[str], list[str]]:
    """(the questions to show, the questions asked before): what the form asked again when an
    answer was wrong, the one question a person wants to change, or what matters next."""
    asked = set(form.getlist("asked")) & set(QUESTIONS)
    shown = set(form.getlist("shown")) & set(QUESTIONS)
    if errors:
        wrong = {_question(name) for name in errors}
        return [q for q in QUESTIONS if q in shown or q in wrong], sorted(asked)
    if form.get("edit") in QUESTIONS:
        return [form["edit"]], sorted(asked)
    asked |= shown  # a question left blank is not asked again
    return next_questions(results, {_question(name) for name in facts}, asked), sorted(asked)


def facts_from_form(form) -> dict:
    """The facts a form sent, as the API's JSON would carry them; a blank is unknown."""
    facts = {}
    for name in FACT_NAMES:
        value = (form.get(name) or "").strip()
        if not value:
            continue
        if name == "age":
            facts[name] = int(value) if _AGE.fullmatch(value) else value
        elif name == "birth_date":
            loose = _LOOSE_DATE.fullmatch(value)
            facts[name] = "{}-{:0>2}-{:0>2}".format(*loose.groups()) if loose else value
        elif name in BOOLEAN_FACTS:
            facts[name] = {"true": True, "false": False}.get(value, value)
        else:
            facts[name] = value
    return facts


def _question(fact: str) -> str:
    return "birth_date" if fact == "age" else fact


def needed_facts(result: dict) -> set[str]:
    """Every fact a result names as missing (for its status, its amount or its months), and
    the district fact that picks a district's own amount, which a result does not name."""
    pro_rata = result["benefit"].get("pro_rata") or {}
    programme = catalogue().get(result["program"])
    by_district = {p.district_fact for p in programme.parameters.values() if p.by_district}
    return {*result["missing_facts"], *result["benefit"]["missing_facts"],
            *pro_rata.get("missing_facts", ()), *by_district}


def next_questions(results: list[dict], answered: set[str], asked: set[str]) -> list[str]:
    """The questions to ask next: the facts named by the most programmes still open, not yet
    answered or asked (a question left blank is not asked again)."""
    counts = Counter()
    for result in results:
        if result["status"] != "ineligible":
            counts.update({_question(name) for name in needed_facts(result)} - answered - asked)
    top = max(counts.values(), default=0)
    return [name for name in QUESTIONS if top and counts[name] == top]


def group_results(results: list[dict]) -> dict[str, list[dict]]:
    """Results by status: 可以享受, 可能可以, 不符合, each in catalogue order."""
    groups = {"eligible": [], "unknown": [], "ineligible": []}
    for result in results:
        groups[result["status"]].append(result)
    return groups


def streets_by_district() -> dict[str, list]:
    """The gazetteer's 街道/镇 of each district, for the 附近 pick list."""
    gazetteer = current_geocoding().gazetteer.gazetteer
    return {code: entries for code, entries in gazetteer.streets.items() if entries}


def origin_from_form(form) -> tuple[dict | None, dict]:
    """(where to look from, errors): 定位's lat/lon, else the chosen 街道's or 区县's point."""
    asked = {"radius_m": form.get("radius_m") or "5000", "limit": NEAREST_LIMIT}
    if (form.get("lat") or form.get("lon")) and not form.get("forget_place"):
        asked |= {"lat": form.get("lat"), "lon": form.get("lon"),
                  "coordsys": form.get("coordsys") or "wgs84"}
    elif form.get("place_district"):
        code, street = form["place_district"], form.get("place_street")
        gazetteer = current_geocoding().gazetteer.gazetteer
        if code not in gazetteer.districts:
            return None, {"place_district": [translate("请选择区县。", "Choose a district.")]}
        entry = next((e for e in gazetteer.streets[code] if e.street == street),
                     gazetteer.districts[code])
        asked |= {"lat": entry.lat, "lon": entry.lon, "coordsys": "wgs84"}
    else:
        return None, {}
    try:
        return NearestQuerySchema().load(asked), {}
    except ValidationError as error:
        return None, flatten_messages(error.messages)


def nearest_by_programme(results: list[dict], origin: dict) -> dict[str, dict]:
    """For each programme that may be had and that places deliver, the nearest of them."""
    nearby = {}
    for result in results:
        delivered = result["delivered_by"]
        if result["status"] in ANSWERED and (delivered["kinds"] or delivered["services"]):
            nearby[result["program"]] = nearest_answer({**origin, "program": result["program"]})
    return nearby


class Words:
    """Facts, values, units and conditions in plain words, in the page's language."""

    UNITS = {"yuan": ("元", "yuan"), "yuan_per_day": ("元/天", "yuan a day"),
             "yuan_per_month": ("元/月", "yuan a month"),
             "yuan_per_year": ("元/年", "yuan a year")}
    CLASSES = {"small": ("小班", "first year (小班)"), "middle": ("中班", "second year (中班)"),
               "large": ("大班", "final year (大班)")}

    def fact(self, name: str) -> str:
        return translate(*FACT_LABELS[name])

    def facts(self, names) -> str:
        """Several facts in words: 出生日期、失能等级."""
        return translate("、", ", ").join(self.fact(name) for name in names)

    def value(self, name: str, value) -> str:
        """A fact's value as a person would say it: 中度失能, 北碚区, 是."""
        if name in VALUE_LABELS and value in VALUE_LABELS[name]:
            return translate(*VALUE_LABELS[name][value])
        if name in DISTRICT_FACTS and value in load_districts():
            district = load_districts()[value]
            return translate(district.name, district.name_en)
        if isinstance(value, bool):
            return translate("是", "yes") if value else translate("否", "no")
        if name == "age":
            return translate(f"{value} 岁", f"{value}")
        return str(value)

    def options(self, name: str) -> list[tuple[str, str]]:
        """(value, words) for each value of a fact with a few values, in vocabulary order."""
        return [(value, translate(*texts)) for value, texts in VALUE_LABELS[name].items()]

    def amount(self, amount, unit: str | None) -> str:
        zh, en = self.UNITS.get(unit, (unit or "", unit or ""))
        return translate(f"{amount} {zh}", f"{amount} {en}")

    def condition(self, when) -> str:
        """An option's rule ({fact: care_setting, eq: home}) in words; '' for everyone else."""
        if not isinstance(when, dict) or "fact" not in when:
            return translate("其他情况", "otherwise") if when is None else ""
        values = when.get("in", [when["eq"]] if "eq" in when else [])
        return "、".join(self.value(when["fact"], value) for value in values)

    def school_class(self, slug: str | None) -> str:
        return translate(*self.CLASSES[slug]) if slug in self.CLASSES else ""

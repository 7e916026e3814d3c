"""The criteria language: YAML rules compiled into nodes, with every mistake named by its path.

    {all: [rule, ...]}  {any: [rule, ...]}  {not: rule}
    {fact: household_status, in: [subsistence_allowance, ...]}    eq, ne, in; and for the
    {fact: care_need, gte: {param: min_care_need}}                 ordered care_need: gte gt lte lt
    {age_years: {gte: {param: min_age}}}    {age_months: {gte: 6, lt: 36}}     gte gt lte lt eq
    {kindergarten_class: {in: [small, middle, large], entry_age: 3, cutoff: "08-31"}}
    {as_of: {between: [2026-01-01, 2026-12-31]}}    {school_year_start: {gte: 2025}}

Any number may be a literal or {param: id}, a parameter of the same programme (and unit).
"""

from __future__ import annotations

from servicemap.districts import load_districts

from .criteria import AgeRule, All, Any, DateRule, FactTest, KindergartenClass, Node, Not, Param
from .dates import CLASSES
from .errors import SpecError
from .facts import BIRTH_FACTS, BOOLEAN_FACTS, DISTRICT_FACTS, ENUM_FACTS, FACT_NAMES, ORDERED_FACTS
from .units import UNITS

OPERATORS = ("all", "any", "not", "fact", "age_years", "age_months", "kindergarten_class",
             "as_of", "school_year_start")
FACT_TESTS = ("eq", "ne", "in", "gte", "gt", "lte", "lt")
ORDER_TESTS = ("gte", "gt", "lte", "lt", "eq")
FACT_UNITS = {"care_need": "care_need_grade"}  # facts a parameter may be compared with


def compile_rule(rule, path: tuple, parameters: dict) -> Node:
    """A rule (a mapping with exactly one operator) as a Node; SpecError names what is wrong."""
    if not isinstance(rule, dict):
        raise SpecError(path, "a rule must be a mapping such as {age_years: {gte: 60}}")
    found = [key for key in OPERATORS if key in rule]
    if len(found) != 1:
        raise SpecError(path, f"a rule needs exactly one of {', '.join(OPERATORS)}; "
                              f"found {', '.join(found) or 'none'}")
    allowed = {found[0], *FACT_TESTS} if found[0] == "fact" else {found[0]}
    for key in rule:
        if key not in allowed:
            raise SpecError((*path, key), f"{key!r} is not allowed beside {found[0]!r}")
    return _COMPILERS[found[0]](rule, path, parameters)


def _all_or_any(rule, path, parameters):
    key = "all" if "all" in rule else "any"
    parts = rule[key]
    if not isinstance(parts, list) or not parts:
        raise SpecError((*path, key), f"{key} needs a non-empty list of rules")
    children = tuple(compile_rule(part, (*path, key, index), parameters)
                     for index, part in enumerate(parts))
    return All(children) if key == "all" else Any(children)


def _not(rule, path, parameters):
    return Not(compile_rule(rule["not"], (*path, "not"), parameters))


def _fact(rule, path, parameters):
    fact = rule["fact"]
    if fact in BIRTH_FACTS:
        raise SpecError((*path, "fact"), f"{fact} is used through age_years or age_months, "
                                         "which also handle a birth date or an age alone")
    if fact not in FACT_NAMES:
        raise SpecError((*path, "fact"), f"unknown fact {fact!r}; facts are "
                                         f"{', '.join(FACT_NAMES)}")
    tests = []
    for name in FACT_TESTS:
        if name not in rule:
            continue
        where = (*path, name)
        if name in ("gte", "gt", "lte", "lt") and fact not in ORDERED_FACTS:
            raise SpecError(where, f"{fact} has no order; use eq, ne or in")
        if name == "in":
            if not isinstance(rule["in"], list) or not rule["in"]:
                raise SpecError(where, "in needs a non-empty list of values")
            for index, value in enumerate(rule["in"]):
                _check_fact_value(fact, value, (*where, index))
            tests.append(("in", frozenset(rule["in"])))
        elif isinstance(rule[name], dict) and fact in FACT_UNITS:
            tests.append((name, operand(rule[name], where, parameters, FACT_UNITS[fact])))
        else:
            _check_fact_value(fact, rule[name], where)
            tests.append((name, rule[name]))
    if not tests:
        raise SpecError(path, f"a fact rule needs one of {', '.join(FACT_TESTS)}")
    return FactTest(fact, tuple(tests), ENUM_FACTS[fact] if fact in ORDERED_FACTS else ())


def _check_fact_value(fact: str, value, path: tuple) -> None:
    if fact in BOOLEAN_FACTS:
        if not isinstance(value, bool):
            raise SpecError(path, f"{fact} is true or false, not {value!r}")
    elif fact in DISTRICT_FACTS:
        if value not in load_districts():
            raise SpecError(path, f"{value!r} is not a Chongqing district code (500xxx)")
    elif value not in ENUM_FACTS[fact]:
        raise SpecError(path, f"{value!r} is not a {fact}; expected one of "
                              f"{', '.join(ENUM_FACTS[fact])}")


def _age(rule, path, parameters):
    key = "age_years" if "age_years" in rule else "age_months"
    unit = "years" if key == "age_years" else "months"
    tests = _comparisons(rule[key], (*path, key), parameters, unit, ORDER_TESTS)
    return AgeRule(12 if key == "age_years" else 1, tests)


def _kindergarten(rule, path, parameters):
    where = (*path, "kindergarten_class")
    spec = _mapping(rule["kindergarten_class"], where)
    for key in spec:
        if key not in ("in", "eq", "entry_age", "cutoff"):
            raise SpecError((*where, key), f"{key!r} is not one of in, eq, entry_age, cutoff")
    if ("in" in spec) == ("eq" in spec) or "entry_age" not in spec or "cutoff" not in spec:
        raise SpecError(where, "kindergarten_class needs in (or eq), entry_age and cutoff")
    chosen = spec["in"] if "in" in spec else [spec["eq"]]
    key = "in" if "in" in spec else "eq"
    if not isinstance(chosen, list) or not chosen or any(c not in CLASSES for c in chosen):
        raise SpecError((*where, key), f"classes are {', '.join(CLASSES)}")
    indices = sorted({CLASSES.index(c) for c in chosen})
    if indices != list(range(indices[0], indices[-1] + 1)):
        raise SpecError((*where, key), "the classes must be adjacent (small, middle, large)")
    return KindergartenClass(
        tuple(CLASSES[i] for i in indices),
        operand(spec["entry_age"], (*where, "entry_age"), parameters, "years"),
        operand(spec["cutoff"], (*where, "cutoff"), parameters, "month_day"))


def _as_of(rule, path, parameters):
    where = (*path, "as_of")
    tests = []
    for name, value in _mapping(rule["as_of"], where).items():
        if name == "between":  # [from, until], both inclusive, either null (open)
            if not isinstance(value, list) or len(value) != 2:
                raise SpecError((*where, name), "between needs [from, until] (either null)")
            for index, (test, bound) in enumerate(zip(("gte", "lte"), value, strict=True)):
                if bound is not None:
                    tests.append((test, operand(bound, (*where, name, index), parameters,
                                                "date")))
        elif name in ORDER_TESTS:
            tests.append((name, operand(value, (*where, name), parameters, "date")))
        else:
            raise SpecError((*where, name), f"{name!r} is not one of between, "
                                            f"{', '.join(ORDER_TESTS)}")
    if not tests:
        raise SpecError(where, "as_of needs a comparison")
    return DateRule("as_of", tuple(tests))


def _school_year(rule, path, parameters):
    tests = _comparisons(rule["school_year_start"], (*path, "school_year_start"), parameters,
                         "school_year", ORDER_TESTS)
    return DateRule("school_year", tests)


def _comparisons(spec, path, parameters, unit: str, names) -> tuple:
    spec = _mapping(spec, path)
    if not spec:
        raise SpecError(path, f"needs a comparison: {', '.join(names)}")
    tests = []
    for name, value in spec.items():
        if name not in names:
            raise SpecError((*path, name), f"{name!r} is not one of {', '.join(names)}")
        tests.append((name, operand(value, (*path, name), parameters, unit)))
    return tuple(tests)


def _mapping(spec, path) -> dict:
    if not isinstance(spec, dict):
        raise SpecError(path, "must be a mapping")
    return spec


def operand(value, path: tuple, parameters: dict, unit: str):
    """A literal in the given unit, as rules use it, or a reference to a parameter in it."""
    if isinstance(value, dict):
        name = value.get("param")
        if set(value) != {"param"} or name not in parameters:
            known = ", ".join(parameters) or "none"
            raise SpecError((*path, "param"), f"unknown parameter {name!r}; this programme's "
                                              f"parameters are: {known}")
        if parameters[name].unit != unit:
            raise SpecError((*path, "param"), f"parameter {name!r} is in "
                                              f"{parameters[name].unit}; this rule needs {unit}")
        return Param(name)
    check, wanted, convert = UNITS[unit]
    if value is None or not check(value):
        raise SpecError(path, f"{value!r} is not {wanted}")
    return convert(value)


_COMPILERS = {"all": _all_or_any, "any": _all_or_any, "not": _not, "fact": _fact,
              "age_years": _age, "age_months": _age, "kindergarten_class": _kindergarten,
              "as_of": _as_of, "school_year_start": _school_year}

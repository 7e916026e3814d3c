"""A programme: its criteria, parameters and benefit, evaluated for one person on one date."""

from __future__ import annotations

import copy
import string
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from servicemap.vocabulary import KINDS, SERVICES

from .benefit import benefit_of, check_benefit
from .cases import shown, shown_value
from .criteria import Context, KindergartenClass, Node
from .dates import births_for_age, class_of, school_year_of, today_in_shanghai
from .errors import SpecError
from .facts import Person
from .grammar import compile_rule
from .parameters import build_parameter
from .period import PERIOD_ID, Period, build_periods, period_entry
from .units import check_source

MESSAGE_KEYS = ("message_zh", "message_en", "not_met_zh", "not_met_en", "unknown_zh",
                "unknown_en")
OUTCOME_KEYS = {True: ("message_zh", "message_en"), False: ("not_met_zh", "not_met_en"),
                None: ("unknown_zh", "unknown_en")}


@dataclass(frozen=True)
class Criterion:
    """A top-level criterion: a rule with an id and messages for met, not met and unknown."""

    id: str
    node: Node
    messages: dict  # MESSAGE_KEYS -> text, possibly with {parameter} placeholders
    rule: dict  # as written in the file, for the catalogue
    parameter_ids: tuple

    def message(self, value: bool | None, texts: dict) -> tuple[str, str]:
        """(中文, English) for an outcome, falling back to the rule's own statement."""
        zh, en = (self.messages.get(key, self.messages[fallback]) for key, fallback in
                  zip(OUTCOME_KEYS[value], ("message_zh", "message_en"), strict=True))
        return zh.format_map(texts), en.format_map(texts)


@dataclass(frozen=True)
class Programme:
    """One programme of the catalogue, built from its (validated) YAML."""

    id: str
    name_zh: str
    name_en: str
    issuer: str
    source: dict
    periods: tuple[Period, ...]
    criteria: tuple[Criterion, ...]
    parameters: dict
    benefit: dict
    delivered_by: dict

    @cached_property
    def kindergarten(self) -> KindergartenClass | None:
        """The kindergarten-class rule whose class the result names, if there is one."""
        for criterion in self.criteria:
            for node in criterion.node.walk():
                if isinstance(node, KindergartenClass):
                    return node
        return None

    def evaluate(self, person: Person, as_of: date) -> dict:
        """This programme's result for a person on a date."""
        return self.evaluate_in(make_context(person, as_of))

    def evaluate_in(self, ctx: Context) -> dict:
        """The result in a context shared by the catalogue's programmes."""
        choices = {name: p.choose(ctx) for name, p in self.parameters.items()}
        ctx.values = {name: choice.native for name, choice in choices.items()}
        texts = {name: shown(choice) for name, choice in choices.items()}
        used = {name: p.describe(choices[name]) for name, p in self.parameters.items()}
        entries, missing = [], set()
        if self.periods:
            entries.append(period_entry(self.periods, ctx.as_of))
        for criterion in self.criteria:
            entry, unknown = self._judge(criterion, ctx, choices, texts)
            entries.append({**entry, "parameters": [_copy_used(used[name])
                                                    for name in criterion.parameter_ids]})
            missing |= unknown
        results = [entry["result"] for entry in entries]
        if any(result is False for result in results):
            status, missing = "ineligible", set()
        else:
            status = "unknown" if any(result is None for result in results) else "eligible"
        return {
            "program": self.id, "name_zh": self.name_zh, "name_en": self.name_en,
            "status": status, "class": self._class(ctx), "criteria": entries,
            "missing_facts": sorted(missing),
            "benefit": benefit_of(self.benefit, self.parameters, ctx, choices, texts),
            "delivered_by": _copy(self.delivered_by), "source": dict(self.source),
        }

    def _judge(self, criterion: Criterion, ctx: Context, choices: dict, texts: dict
               ) -> tuple[dict, frozenset]:
        """One criterion's result and messages, and the facts that would settle an unknown."""
        pending = [self.parameters[name] for name in criterion.parameter_ids
                   if not choices[name].in_force]
        if pending:  # a rule not yet in force does not hold; nothing the person says helps
            zh, en = _not_yet(pending[0], ctx.as_of)
            return {"id": criterion.id, "result": False, "message_zh": zh, "message_en": en,
                    "facts": {}}, frozenset()
        outcome = criterion.node.evaluate(ctx)
        unknown = outcome.missing
        if outcome.value is None:  # a parameter whose case the facts do not settle
            unknown = unknown.union(*(choices[name].missing for name in criterion.parameter_ids))
        zh, en = criterion.message(outcome.value, texts)
        return {"id": criterion.id, "result": outcome.value, "message_zh": zh, "message_en": en,
                "facts": dict(outcome.facts)}, unknown

    def _class(self, ctx: Context) -> str | None:
        rule = self.kindergarten
        settings = rule.settings(ctx.values) if rule else None
        if settings is None or ctx.births is None:
            return None
        return class_of(ctx.births, ctx.school_year, *settings)

    def to_public(self, as_of: date | None = None) -> dict:
        """The programme as the catalogue shows it, with the values in force on as_of."""
        as_of = as_of or today_in_shanghai()
        texts = {name: shown_value(p.value_at(as_of)) for name, p in self.parameters.items()}
        return {
            "id": self.id, "name_zh": self.name_zh, "name_en": self.name_en,
            "issuer": self.issuer, "source": dict(self.source), "as_of": as_of.isoformat(),
            "periods": [period.public() for period in self.periods],
            "changed": self.changed,
            "criteria": [{"id": c.id, **{key: text.format_map(texts)
                                         for key, text in c.messages.items()},
                          "rule": copy.deepcopy(c.rule)} for c in self.criteria],
            "parameters": [p.public(as_of) for p in self.parameters.values()],
            "benefit": {"text_zh": self.benefit["text_zh"].format_map(texts),
                        "text_en": self.benefit["text_en"].format_map(texts),
                        "amount": self.benefit["amount"],
                        "pro_rata": copy.deepcopy(self.benefit.get("pro_rata"))},
            "delivered_by": _copy(self.delivered_by),
        }

    @cached_property
    def changed(self) -> list[str]:
        """The days on which something of this programme starts or stops applying, in order."""
        days = set().union(*(p.changes() for p in self.parameters.values()),
                           *(period.changes() for period in self.periods if period.applied))
        return [day.isoformat() for day in sorted(days)]


def make_context(person: Person, as_of: date) -> Context:
    """What every programme's evaluation for this person and date shares."""
    facts = person.facts
    if "birth_date" in facts:
        births = (facts["birth_date"], facts["birth_date"])
        birth_facts = {"birth_date": person.public("birth_date")}
    elif "age" in facts:
        births, birth_facts = births_for_age(facts["age"], as_of), {"age": facts["age"]}
    else:
        births, birth_facts = None, {}
    public = {name: person.public(name) for name in facts}
    return Context(as_of, school_year_of(as_of), facts, public, births, birth_facts, {})


def build_programme(spec: dict) -> Programme:
    """A Programme from a schema-valid mapping; SpecError names the path of any mistake."""
    check_source(spec["source"], ("source",))
    parameters = {name: build_parameter(name, value, ("parameters", name))
                  for name, value in spec["parameters"].items()}
    periods = build_periods(spec["periods"], ("periods",))
    criteria, seen = [], {PERIOD_ID}
    for index, raw in enumerate(spec["criteria"]):
        path = ("criteria", index)
        if raw["id"] in seen:
            raise SpecError((*path, "id"), f"criterion id {raw['id']!r} is used twice "
                                           f"(or is reserved: {PERIOD_ID})")
        seen.add(raw["id"])
        rule = {key: value for key, value in raw.items() if key != "id" and
                key not in MESSAGE_KEYS}
        node = compile_rule(rule, path, parameters)
        messages = {key: raw[key] for key in MESSAGE_KEYS if key in raw}
        for key, text in messages.items():
            _check_placeholders(text, (*path, key), parameters)
        criteria.append(Criterion(raw["id"], node, messages, rule, tuple(node.parameter_ids())))
    for key in ("text_zh", "text_en"):
        _check_placeholders(spec["benefit"][key], ("benefit", key), parameters)
    check_benefit(spec["benefit"], parameters)
    _check_delivery(spec["delivered_by"])
    return Programme(spec["id"], spec["name_zh"], spec["name_en"], spec["issuer"],
                     spec["source"], periods, tuple(criteria), parameters, spec["benefit"],
                     spec["delivered_by"])


def _check_placeholders(text: str, path: tuple, parameters: dict) -> None:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        raise SpecError(path, f"bad placeholder: {error}") from None
    for name in names:
        if name not in parameters:
            raise SpecError(path, f"placeholder {{{name}}} is not a parameter of this programme")


def _check_delivery(delivered_by: dict) -> None:
    for key, vocabulary in (("kinds", KINDS), ("services", SERVICES)):
        for index, slug in enumerate(delivered_by[key]):
            if slug not in vocabulary:
                raise SpecError(("delivered_by", key, index),
                                f"unknown {key[:-1]} {slug!r}; expected one of "
                                f"{', '.join(vocabulary)}")


def _not_yet(parameter, as_of: date) -> tuple[str, str]:
    start = parameter.first_start
    return (f"{parameter.label_zh}自{start}起施行，{as_of}尚未施行。",
            f"Not yet in force on {as_of}: {parameter.label_en.lower()} applies from {start}.")


def _copy_used(used: dict) -> dict:
    """A parameter's entry of its own, so that a caller editing one result edits nothing else."""
    source = used["source"]
    return {**used, "source": dict(source) if source else None}


def _copy(delivered_by: dict) -> dict:
    return {"kinds": list(delivered_by["kinds"]), "services": list(delivered_by["services"]),
            "inclusive": delivered_by["inclusive"]}

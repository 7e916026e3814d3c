"""Values that depend on facts: a dated value's cases, and the choice made for one person.

A dated value may list cases, each a rule on the person's facts with the value it gives; the
first case whose rule holds applies, and the dated value's own value is for everyone else. When
the facts sent do not settle which applies, the choice says which facts would, and which values
they could lead to.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from itertools import product
from math import prod
from typing import TYPE_CHECKING

from .errors import SpecError
from .facts import FACT_DOMAINS
from .grammar import compile_rule
from .units import UNITS, check_source

if TYPE_CHECKING:  # parameters.py builds dated values with this module's cases
    from .parameters import DatedValue

MAX_TRIALS = 256  # combinations of missing facts tried to find which values they could lead to


@dataclass(frozen=True, slots=True)
class Case:
    """A value that applies only to people for whom a rule on their facts holds."""

    when: object  # the compiled rule (a criteria Node)
    rule: dict  # the rule as written, for the catalogue and the answer
    value: object
    unit: str
    provenance: str
    source: dict | None
    note: str | None = None
    native: object = None

    def public(self) -> dict:
        return {"when": copy.deepcopy(self.rule), "value": self.value, "unit": self.unit,
                "provenance": self.provenance,
                "source": dict(self.source) if self.source else None, "note": self.note}


@dataclass(frozen=True, slots=True)
class Choice:
    """What a parameter gives one person on one date.

    `found` is the value that applies (a DatedValue or one of its Cases); it is None when no
    value is in force yet (`in_force` False) or when the person's facts do not settle which case
    applies: then `missing` names those facts and `options` lists the values that could apply.
    """

    in_force: bool
    found: object = None
    missing: frozenset = frozenset()
    options: tuple = ()

    @property
    def native(self):
        return self.found.native if self.found is not None else None


def pick(dated: DatedValue | None, ctx) -> Choice:
    """The value of a dated value for a person: the first case that holds, else its own."""
    if dated is None:
        return Choice(False)
    found, missing = _first_case(dated, ctx)
    if not missing:
        return Choice(True, found)
    return Choice(True, None, missing, _reachable(dated, ctx, missing))


def _first_case(dated: DatedValue, ctx) -> tuple[object, frozenset]:
    """(the case or value that applies, frozenset()) or (None, the facts that would settle it)."""
    missing = set()
    for case in dated.cases:
        outcome = case.when.evaluate(ctx)
        if outcome.value is True and not missing:
            return case, frozenset()
        if outcome.value is None:
            missing |= outcome.missing
    return (None, frozenset(missing)) if missing else (dated, frozenset())


def _reachable(dated: DatedValue, ctx, missing: frozenset) -> tuple:
    """The values the missing facts could still lead to, in the file's order.

    Facts with a few values (care_setting, household_status, booleans) are tried in every
    combination, so that a value no answer can reach (everyone else, when the cases cover every
    care_setting) is not offered; otherwise every case not ruled out, and the value itself.
    """
    names = sorted(missing)
    domains = [FACT_DOMAINS.get(name) for name in names]
    candidates = (*dated.cases, dated)
    if not all(domains) or prod(len(domain) for domain in domains) > MAX_TRIALS:
        return tuple(c for c in candidates
                     if c is dated or c.when.evaluate(ctx).value is not False)
    reached = []
    for combination in product(*domains):
        assumed = dict(zip(names, combination, strict=True))
        trial = replace(ctx, facts={**ctx.facts, **assumed}, public={**ctx.public, **assumed})
        reached.append(_first_case(dated, trial)[0])
    return tuple(c for c in candidates if any(c is found for found in reached))


def build_case(spec: dict, path: tuple, unit: str) -> Case:
    """A case of a dated value: a rule on facts and the value, provenance and source it gives."""
    # A case's rule reads the person's facts only: no parameter (they would depend on cases).
    when = compile_rule(spec["when"], (*path, "when"), {})
    check, wanted, convert = UNITS[unit]
    if not check(spec["value"]):
        raise SpecError((*path, "value"), f"{spec['value']!r} is not {wanted}")
    check_source(spec["source"], (*path, "source"))
    native = None if spec["value"] is None else convert(spec["value"])
    return Case(when, spec["when"], spec["value"], unit, spec["provenance"], spec["source"],
                spec.get("note"), native)


def shown(choice: Choice) -> str:
    """A parameter's value for a person as a message shows it: the options ('800/500') when
    the facts leave it open, '—' when none is in force or published."""
    if choice.options:
        return "/".join(shown_value(option) for option in choice.options
                        if option.value is not None) or "—"
    return shown_value(choice.found)


def shown_value(value) -> str:
    """A value as a message shows it; '—' when none is in force or published."""
    return "—" if value is None or value.value is None else str(value.value)

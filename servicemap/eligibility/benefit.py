"""What a programme gives: the benefit's text and amount for a person, and its checks on load.

When the person's facts leave the amount open (a cap by care_setting, a district's amount for
low-income residents only), the benefit lists every value they could lead to, and the facts to
ask. A pro-rata benefit (a scheme that began after the entitlement did) states the months counted
and the total, with the counting rule's provenance.
"""

from __future__ import annotations

from .cases import Choice
from .criteria import Context
from .dates import add_years, months_counted
from .errors import SpecError
from .grammar import operand
from .units import MONEY_UNITS

# The parts of a pro-rata benefit and the unit each parameter must have.
PRO_RATA_UNITS = {"start": "date", "until_age": "years", "counting": "month_counting"}


def benefit_of(spec: dict, parameters: dict, ctx: Context, choices: dict, texts: dict) -> dict:
    """The benefit for a person: text, amount with provenance, options, pro_rata."""
    amount = spec["amount"]
    choice = choices[amount["param"]] if amount else Choice(False)
    found = choice.found
    return {"text_zh": spec["text_zh"].format_map(texts),
            "text_en": spec["text_en"].format_map(texts),
            "amount": found.value if found else None,
            "unit": parameters[amount["param"]].unit if amount else None,
            "provenance": found.provenance if found else None,
            "source": dict(found.source) if found and found.source else None,
            "note": found.note if found else None,
            "options": [_option(option) for option in choice.options],
            "missing_facts": sorted(choice.missing),
            "pro_rata": _pro_rata(spec, ctx, choices)}


def _pro_rata(spec: dict, ctx: Context, choices: dict) -> dict | None:
    """For an entitlement that began before the scheme: the months counted and the total.

    None unless the benefit is pro rata, the yearly amount is known and the person was
    certainly born before the scheme started and was under the age limit when it did.
    """
    rule = spec.get("pro_rata")
    if not rule or ctx.births is None:
        return None
    parts = {key: choices[rule[key]["param"]] for key in PRO_RATA_UNITS}
    yearly = choices[spec["amount"]["param"]].found
    if yearly is None or yearly.value is None or not all(p.found for p in parts.values()):
        return None
    start, age, counting = (parts[key].found for key in PRO_RATA_UNITS)
    ends = {add_years(birth, age.native) for birth in ctx.births}
    if ctx.births[1] >= start.native or max(ends) <= start.native:
        return None  # born since the scheme began (a full entitlement), or too old for it
    # With only an age, the birthday (and so the months) may not be one: then they are unknown.
    counts = {months_counted(start.native, end, counting.native == "started_months")
              for end in ends}
    months = counts.pop() if len(counts) == 1 else None
    total = None if months is None else _number(yearly.value * months / 12)
    return {"from": start.native.isoformat(),
            "until": ends.pop().isoformat() if len(ends) == 1 else None,
            "months": months, "total": total, "unit": "yuan",
            "counting": counting.value, "provenance": counting.provenance,
            "source": dict(counting.source) if counting.source else None,
            "note": counting.note,
            "missing_facts": [] if months is not None else ["birth_date"]}


def check_benefit(spec: dict, parameters: dict) -> None:
    """The amount names a money parameter; pro_rata's parts name parameters of their units."""
    amount = spec["amount"]
    if amount and amount["param"] not in parameters:
        raise SpecError(("benefit", "amount", "param"),
                        f"unknown parameter {amount['param']!r}")
    if amount and parameters[amount["param"]].unit not in MONEY_UNITS:
        raise SpecError(("benefit", "amount", "param"),
                        f"an amount needs a parameter in {', '.join(MONEY_UNITS)}")
    rule = spec.get("pro_rata")
    if rule:
        if not amount or parameters[amount["param"]].unit != "yuan_per_year":
            raise SpecError(("benefit", "pro_rata"), "pro_rata needs an amount in yuan_per_year")
        for key, unit in PRO_RATA_UNITS.items():
            operand(rule[key], ("benefit", "pro_rata", key), parameters, unit)


def _option(option) -> dict:
    """One value a benefit could have, with the rule that gives it (null: everyone else)."""
    public = option.public()
    return {"when": public.get("when"), "amount": public["value"], "unit": public["unit"],
            "provenance": public["provenance"], "source": public["source"],
            "note": public["note"]}


def _number(value: float):
    """A whole amount as an int (3600, not 3600.0)."""
    return int(value) if float(value).is_integer() else round(value, 2)

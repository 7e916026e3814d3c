"""The periods in which a programme runs, as dated rows, reported as a criterion of its own.

A programme with no periods runs at all times. A period whose provenance is `assumed` is listed
but not applied unless its row says `applied: true`: an unconfirmed pilot must not tell a
resident they qualify.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .errors import SpecError
from .units import check_source, spec_date

PERIOD_ID = "effective_period"


@dataclass(frozen=True, slots=True)
class Period:
    start: date | None
    until: date | None
    label_zh: str
    label_en: str
    provenance: str
    source: dict | None
    applied: bool
    note: str | None = None

    def holds(self, as_of: date) -> bool:
        return (self.start is None or self.start <= as_of) and (self.until is None
                                                                or as_of <= self.until)

    def span(self) -> tuple[str, str]:
        """(中文, English) of the dates, such as ('2026-01-01至2026-12-31', 'from … to …')."""
        start, until = self.start, self.until
        if start and until:
            return f"{start}至{until}", f"from {start} to {until}"
        if start:
            return f"自{start}起", f"from {start}"
        if until:
            return f"至{until}止", f"until {until}"
        return "长期", "at all times"

    def changes(self) -> set[date]:
        """The days on which this period starts, and the day after it ends."""
        found = {self.start} if self.start else set()
        return found | ({self.until + timedelta(days=1)} if self.until else set())

    def public(self) -> dict:
        return {"from": _iso(self.start), "until": _iso(self.until), "label_zh": self.label_zh,
                "label_en": self.label_en, "provenance": self.provenance,
                "source": dict(self.source) if self.source else None, "applied": self.applied,
                "note": self.note}


def build_periods(specs: list, path: tuple) -> tuple[Period, ...]:
    """Periods from their (schema-valid) YAML, checking dates."""
    periods = []
    for index, spec in enumerate(specs):
        where = (*path, index)
        start = spec_date(spec["from"], (*where, "from"))
        until = spec_date(spec["until"], (*where, "until"))
        if start and until and start > until:
            raise SpecError((*where, "until"), "until is before from")
        check_source(spec["source"], (*where, "source"))
        applied = spec.get("applied", spec["provenance"] == "sourced")
        periods.append(Period(start, until, spec["label_zh"], spec["label_en"],
                              spec["provenance"], spec["source"], applied, spec.get("note")))
    return tuple(periods)


def period_entry(periods: tuple[Period, ...], as_of: date) -> dict:
    """A result criterion saying whether as_of falls in one of the periods that apply."""
    applied = [period for period in periods if period.applied]
    running = next((period for period in applied if period.holds(as_of)), None)
    if running is not None:
        zh, en = running.span()
        message_zh = f"项目在{as_of}处于实施期内（{running.label_zh}，{zh}）。"
        message_en = f"The programme is in force on {as_of} ({running.label_en}, {en})."
    elif applied and all(period.start and as_of < period.start for period in applied):
        first = min(period.start for period in applied)
        message_zh = f"项目自{first}起实施，{as_of}尚未实施。"
        message_en = f"The programme was not yet in force on {as_of} (it starts on {first})."
    else:
        spans = [period.span() for period in applied]
        zh = "；".join(f"{p.label_zh}，{s[0]}" for p, s in zip(applied, spans, strict=True))
        en = "; ".join(f"{p.label_en}, {s[1]}" for p, s in zip(applied, spans, strict=True))
        message_zh = f"项目在{as_of}不在实施期内（实施期：{zh or '无'}）。"
        message_en = f"The programme is not in force on {as_of} (it runs: {en or 'never'})."
    return {"id": PERIOD_ID, "result": running is not None, "message_zh": message_zh,
            "message_en": message_en, "facts": {}, "parameters": []}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None

"""The effective period of a programme, reported as a criterion of its own."""

from __future__ import annotations

from datetime import date

PERIOD_ID = "effective_period"


def period_entry(effective: tuple[date | None, date | None], as_of: date) -> dict:
    """A result criterion saying whether as_of falls in the programme's effective period."""
    start, until = effective
    met = (start is None or start <= as_of) and (until is None or as_of <= until)
    if start and until:
        zh, en = f"{start}至{until}", f"from {start} to {until}"
    elif start:
        zh, en = f"自{start}起", f"from {start}"
    else:
        zh, en = f"至{until}止", f"until {until}"
    if met:
        message_zh = f"项目在{as_of}处于实施期内（{zh}）。"
        message_en = f"The programme is in force on {as_of} ({en})."
    else:
        message_zh = f"项目在{as_of}不在实施期内（实施期{zh}）。"
        message_en = f"The programme is not in force on {as_of} (it runs {en})."
    return {"id": PERIOD_ID, "result": met, "message_zh": message_zh, "message_en": message_en,
            "facts": {}, "parameters": []}

"""Opening hours in a form SQL can filter on: a bitmask of half-hour slots for each weekday.

`open_slots_D` (D = 1 Monday … 7 Sunday) has bit k set when the facility is open at some minute
of slot k, i.e. of [k*30, k*30+30) on weekday D, by the rule of hours.is_open (hours that pass
midnight spill into the next day). So the masks are a superset of the exact answer: SQL keeps
the facilities open in the moment's slot, and hours.is_open on those few survivors keeps the
answer exact (they differ only when an interval starts or ends inside that half hour).

The columns are derived data, kept current with every write: the ORM (a column default on
insert, an event on update: the API, imports' updates, seeding) and registry.bulk_insert (new
rows of imports, benchmarks). Migration 0005 backfilled rows written before.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import NamedTuple

from .hours import HOLIDAY_RULES, clock_minutes, hours_weekday, local_time

SLOT_MINUTES = 30
DAY_MINUTES = 24 * 60
COLUMNS = tuple(f"open_slots_{day}" for day in range(1, 8))
SLOTS_PER_DAY = DAY_MINUTES // SLOT_MINUTES
# PostgreSQL (migration 0007): the two-hour blocks of the week in which the masks mark some
# half hour open, as int[] the class GiST index holds (intarray), numbered block_number(…); an
# expression over COLUMNS, never stored. Coarser than the masks (a superset, tested with them)
# because GiST tests every row it returns again with the function: 84 blocks cost ~1 µs a
# row, 336 half hours ~3.5 µs.
BLOCK_SLOTS = 4
BLOCKS_PER_DAY = SLOTS_PER_DAY // BLOCK_SLOTS
BLOCKS_FUNCTION = "week_open_blocks"


class Slot(NamedTuple):
    """A half hour of the week: weekday 1 (Monday) to 7, and slot 0–47 of that day."""

    day: int
    index: int


def _span(start: int, end: int) -> int:
    """The bits of the slots that share a minute with [start, end)."""
    if end <= start:
        return 0
    first, last = start // SLOT_MINUTES, (end - 1) // SLOT_MINUTES
    return ((1 << (last + 1)) - 1) ^ ((1 << first) - 1)


def week_masks(opening_hours: list[dict] | None) -> dict[str, int]:
    """The open_slots_1 … open_slots_7 values for a facility's weekly hours."""
    masks = dict.fromkeys(range(1, 8), 0)
    for interval in opening_hours or ():
        opens, closes = clock_minutes(interval["opens"]), clock_minutes(interval["closes"])
        for day in interval["days"]:
            if opens < closes:
                masks[day] |= _span(opens, closes)
            else:  # passes midnight: the rest of the day, then the next morning until closes
                masks[day] |= _span(opens, DAY_MINUTES)
                masks[day % 7 + 1] |= _span(0, closes)
    return {column: masks[day] for day, column in enumerate(COLUMNS, start=1)}


def slot_of(moment: datetime) -> Slot:
    """The half hour of the week a moment falls in, in Shanghai time (as hours.is_open)."""
    local = local_time(moment)
    return Slot(local.isoweekday(), (local.hour * 60 + local.minute) // SLOT_MINUTES)


def slot_condition(alias: str, slot: Slot) -> str:
    """SQL (both backends) true for rows of `alias` whose weekly hours open in `slot`.

    Integers only, inlined: the weekday picks the column and the slot its bit. A calendar-aware
    caller can build other conditions from it (another weekday's slot for a make-up workday,
    none for a facility shut on a holiday).
    """
    return f"({alias}.{COLUMNS[slot.day - 1]} & {1 << slot.index}) <> 0"


def block_number(slot: Slot) -> int:
    """The number of the two-hour block a half hour is in, 0 (Monday 00:00–02:00) to 83, as
    week_open_blocks numbers them."""
    return (slot.day - 1) * BLOCKS_PER_DAY + slot.index // BLOCK_SLOTS


def open_blocks_sql(columns) -> str:
    """The call of week_open_blocks on the seven mask columns, written exactly as the class
    index's expression, so that PostgreSQL recognises a condition on it as an index one."""
    return f"{BLOCKS_FUNCTION}({', '.join(columns)})"


def column_default(column: str):
    """A Core column default: the mask computed from the row's own opening_hours, so an
    insert that names only opening_hours (ORM or Core) stores matching masks."""
    def default(context) -> int:
        hours = context.get_current_parameters().get("opening_hours")
        if isinstance(hours, str):  # already serialised by the caller
            hours = json.loads(hours)
        return week_masks(hours)[column]
    return default


def refresh(facility) -> None:
    """Set a facility's masks from its opening_hours (before an ORM update)."""
    for column, mask in week_masks(facility.opening_hours).items():
        if getattr(facility, column) != mask:
            setattr(facility, column, mask)


def open_condition(moment: datetime, alias: str, calendar, numbers: bool = False) -> str:
    """SQL true for every facility that may be open at the moment on China's calendar: by
    its holiday_rule, today's slot in the weekday whose hours apply today (none on a holiday
    it closes for), or the spill past midnight of yesterday's. On an ordinary day every rule
    tests the same slot, on `alias` alone; on a holiday or make-up day, the union of the rules'
    tests on `alias` first (cheap, on the index entry), then each rule's own on `f`.

    With `numbers` (PostgreSQL), that first test begins with `week_open_blocks(…) && ARRAY[…]`,
    which the class GiST index answers, so the index skips subtrees where nothing is open."""
    today, slot = local_time(moment).date(), slot_of(moment)
    days_by_rule = {}
    for rule in HOLIDAY_RULES:
        days = set()
        if (weekday := hours_weekday(today, rule, calendar)) is not None:
            days.add(weekday)
        if (weekday := hours_weekday(today - timedelta(days=1), rule, calendar)) is not None:
            days.add(weekday % 7 + 1)  # yesterday's hours spill into the next weekday's mask
        days_by_rule[rule] = frozenset(days)

    def tests(on: str, days: frozenset) -> str:
        if not days:
            return "1 = 0"
        return "(" + " OR ".join(slot_condition(on, Slot(day, slot.index))
                                 for day in sorted(days)) + ")"

    all_days = frozenset().union(*days_by_rule.values())
    anywhere = tests(alias, all_days)
    first = anywhere
    if numbers and all_days:
        listed = ", ".join(str(block_number(Slot(day, slot.index))) for day in sorted(all_days))
        first = (f"{open_blocks_sql(f'{alias}.{column}' for column in COLUMNS)} "
                 f"&& ARRAY[{listed}] AND {anywhere}")
    if len(set(days_by_rule.values())) == 1:
        return first
    by_rule = " ".join(f"WHEN '{rule}' THEN {tests('f', days)}"
                       for rule, days in days_by_rule.items())
    return f"{first} AND (CASE f.holiday_rule {by_rule} ELSE {anywhere} END)"

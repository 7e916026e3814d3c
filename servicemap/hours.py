"""Weekly opening hours in Asia/Shanghai: is a facility open at a given moment?"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def local_time(moment: datetime) -> datetime:
    """A moment as a Shanghai wall-clock time; a naive moment is taken as Shanghai time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def is_open(opening_hours: list[dict], moment: datetime) -> bool:
    """True when some interval covers the moment; hours that pass midnight spill into the
    next day. A facility with no published hours is never known to be open."""
    local = local_time(moment)
    day, minute = local.isoweekday(), local.hour * 60 + local.minute
    yesterday = 7 if day == 1 else day - 1
    for interval in opening_hours:
        opens, closes = _minutes(interval["opens"]), _minutes(interval["closes"])
        days = interval["days"]
        if opens < closes:
            if day in days and opens <= minute < closes:
                return True
        elif (day in days and minute >= opens) or (yesterday in days and minute < closes):
            return True
    return False

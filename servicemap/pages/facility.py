"""/facilities/<id>: one facility as a resident needs it, with 导航 links to three map apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import abort, current_app, render_template

from .. import hours
from ..domain_errors import NotFound
from ..geo.spatial import delivers
from ..holidays import current_calendar
from ..registry import get_facility, present_answer
from ..vocabulary import OWNERSHIP, WEEKDAYS_ZH
from .blueprint import blp, language, translate
from .maps import navigation_links, tile_map

WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# chinesecalendar names holidays in English; residents read them in Chinese.
HOLIDAY_NAMES_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节",
                    "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
                    "Dragon Boat Festival": "端午节", "National Day": "国庆节",
                    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}
STATUS_NOTICES = {
    "inactive": ("这家机构已停办，不再提供服务。", "This facility has closed down for good."),
    "temporarily_closed": ("这家机构暂停服务，恢复前请先打电话确认。",
                           "This facility is temporarily closed; call before you go."),
    "draft": ("这家机构还在登记中（草稿），信息可能不全，搜索结果里暂不显示。",
              "This facility is still being registered (a draft): details may be missing."),
}


@dataclass(frozen=True)
class Day:
    """One row of the weekly table: the date, its hours on China's calendar, and why."""

    day: date
    today: bool
    intervals: list[tuple[str, str]]
    note: str | None


@blp.route("/facilities/<facility_id>")
def facility(facility_id: str):
    """One facility: hours this week with 今天 marked, open now, places, fees, 导航 links."""
    try:
        found = get_facility(facility_id)
    except NotFound as error:
        abort(404, error.detail)
    moment = hours.shanghai_now()
    shown = present_answer(found, "wgs84", moment)
    catalogue = current_app.extensions["servicemap.catalogue"]
    programmes = [p for p in catalogue.programmes if delivers(p.delivered_by, found)]
    located = found.lat is not None
    links = navigation_links(found.lat, found.lon, found.name, found.address) if located else []
    tiles = tile_map() if located else None
    markers = [tiles.marker(found.lat, found.lon, name=found.name)] if tiles else []
    return render_template(
        "pages/facility.html", facility=shown, week=week_table(found, moment.date()),
        change=change_text(shown, moment), programmes=programmes, links=links,
        notice=STATUS_NOTICES.get(found.status), tiles=tiles, markers=markers)


def week_table(facility, today: date) -> list[Day]:
    """Monday to Sunday of today's week, each day's hours by the rules open_now uses."""
    calendar = current_calendar()
    monday = today - timedelta(days=today.isoweekday() - 1)
    rows = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        intervals = hours.hours_on(facility.opening_hours, day, facility.holiday_rule,
                                   facility.closures, calendar)
        rows.append(Day(day, day == today, intervals, _day_note(facility, day, calendar)))
    return rows


def _day_note(facility, day: date, calendar) -> str | None:
    """Why a day is not like its weekday: a closure, a statutory holiday, a make-up workday."""
    for closure in facility.closures or ():
        if date.fromisoformat(closure["from"]) <= day <= date.fromisoformat(closure["to"]):
            reason = closure.get("reason")
            return translate(f"停业：{reason}" if reason else "临时停业",
                             f"Closed: {reason}" if reason else "Closed for the day")
    special = None if facility.holiday_rule == "weekly" else calendar.special(day)
    if special is None:
        return None
    name = special.name or ""
    name_zh = HOLIDAY_NAMES_ZH.get(name, name)
    if special.kind == "holiday":
        if facility.holiday_rule == "closed":
            return translate(f"{name_zh}放假休息", f"{name or 'Public holiday'}: closed")
        return translate(f"{name_zh}照常开放", f"{name or 'Public holiday'}: usual hours")
    return translate(f"调休上班（{name_zh}）", f"Make-up workday ({name})")


def weekday_text(day: date) -> str:
    """周一 … 周日 (Mon … Sun)."""
    return translate(WEEKDAYS_ZH[day.isoweekday() - 1], WEEKDAYS_EN[day.isoweekday() - 1])


def change_text(shown: dict, moment: datetime) -> str | None:
    """When the facility next opens or closes, in words: 今天 17:30 关门."""
    if shown["next_change"] is None:
        return None
    change = datetime.fromisoformat(shown["next_change"])
    days = (change.date() - hours.local_time(moment).date()).days
    when = (translate("今天", "today") if days == 0 else translate("明天", "tomorrow")
            if days == 1 else f"{weekday_text(change.date())} " + translate(
                f"{change.month}月{change.day}日", f"{change.day}/{change.month}"))
    if language() == "en":
        return f"{'Closes' if shown['open_now'] else 'Opens'} {when} at {change:%H:%M}"
    return f"{when} {change:%H:%M} {'关门' if shown['open_now'] else '开门'}"


def _months(months: int) -> str:
    years, rest = divmod(months, 12)
    if language() == "en":
        return f"{years} y {rest} m" if years and rest else f"{years} y" if years else f"{rest} m"
    return (f"{years}岁" if years else "") + (f"{rest}个月" if rest or not years else "")


def age_text(low: int | None, high: int | None) -> str:
    """An age range given in months, in words: 2岁–3岁, 6个月以上 (from 6 m)."""
    if low is not None and high is not None:
        return f"{_months(low)}–{_months(high)}"
    if low is not None:
        return translate(f"{_months(low)}以上", f"from {_months(low)}")
    return translate(f"{_months(high)}以下", f"up to {_months(high)}")


@blp.app_context_processor
def _facility_globals() -> dict:
    return {"weekday_text": weekday_text, "age_text": age_text, "OWNERSHIP": OWNERSHIP}

"""Spreadsheet rows (CSV/XLSX, the contract's columns) to facility input, and back."""

from __future__ import annotations

import re

from .hours import HOLIDAY_RULES
from .vocabulary import KINDS, OWNERSHIP, SERVICES, WEEKDAY_OF_CHAR

# Chinese headers of the contract, mapped to the field names.
CHINESE_HEADERS = {
    "外部编号": "external_id", "名称": "name", "英文名称": "name_en", "类型": "kind",
    "服务": "services", "性质": "ownership", "普惠": "inclusive", "状态": "status",
    "地址": "address", "区县代码": "district_code", "街道": "street", "纬度": "lat",
    "经度": "lon", "坐标系": "coordsys", "电话": "phone", "开放时间": "opening_hours",
    "容量": "capacity", "空余": "vacancies", "最小月龄": "age_months_min",
    "最大月龄": "age_months_max", "收费": "fees", "服务半径": "service_radius_m",
    "节假日": "holiday_rule", "停业": "closures",
}
COLUMNS = list(CHINESE_HEADERS.values())

TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes", "是", "y"}, {"false", "0", "no", "否", "n"}
# A closure: `2026-02-15/2026-02-23 春节休息` (one day may stand alone: `2026-03-02 盘点`).
CLOSURE = re.compile(r"^(?P<from>\d{4}-\d{2}-\d{2})(?:\s*/\s*(?P<to>\d{4}-\d{2}-\d{2}))?"
                     r"(?:\s+(?P<reason>.+))?$")
INTERVAL = re.compile(
    r"^(?P<days>\S+)\s+(?P<opens>[0-9]{1,2}:[0-9]{2})\s*[-–~至]\s*(?P<closes>[0-9]{1,2}:[0-9]{2})$")


class CellError(ValueError):
    """A bad cell: the column it is in and what is wrong."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


def _label_lookup(vocabulary: dict[str, tuple[str, str]], text: str, column: str) -> str:
    text = text.strip()
    if text in vocabulary:
        return text
    for slug, (zh, en) in vocabulary.items():
        if text.lower() == en.lower() or text in zh.split("/") or text == zh:
            return slug
    raise CellError(column, f"unknown value {text!r}")


def _kind(text: str) -> str:
    # 普惠性幼儿园 and 公办幼儿园 are kindergartens; the prefix goes to `inclusive`/`ownership`.
    for suffix in ("幼儿园", "托育机构", "助餐点", "老年食堂", "敬老院", "养老机构"):
        if text.endswith(suffix) and text != suffix:
            text = suffix
    return _label_lookup(KINDS, text, "kind")


DAY_RANGE = re.compile(r"([0-9]{1,2})(?:-([0-9]{1,2}))?")  # ASCII digits only: ² is no day


def parse_days(text: str) -> list[int]:
    """'1-5,7' or 周一至周五 / 周六、周日 / 每天 -> ISO weekdays."""
    text = text.strip()
    if text in ("每天", "每日", "全天", "daily"):
        return list(range(1, 8))
    text = re.sub(r"(周|星期)([一二三四五六日天])",
                  lambda m: str(WEEKDAY_OF_CHAR[m.group(2)]), text)
    text = text.replace("至", "-").replace("、", ",").replace("，", ",")
    days: set[int] = set()
    for part in text.split(","):
        match = DAY_RANGE.fullmatch(part.strip())
        if match is None:
            raise CellError("opening_hours", f"cannot read the days {part!r}")
        first, last = int(match[1]), int(match[2] or match[1])
        # Checked before the range is expanded: 1-30000000 must not become a list.
        if not 1 <= first <= last <= 7:
            raise CellError("opening_hours",
                            f"days must be 1 (Monday) to 7 (Sunday), in order: {text!r}")
        days.update(range(first, last + 1))
    return sorted(days)


def _entries(text: str) -> list[str]:
    """The non-blank entries of a cell that lists several, split at ';' or '；'."""
    return [entry.strip() for entry in re.split(r"[;；]", text) if entry.strip()]


def parse_opening_hours(text: str) -> list[dict]:
    """'1-5 08:00-17:30; 6 09:00-12:00' -> [{"days", "opens", "closes"}, ...]."""
    intervals = []
    for entry in _entries(text):
        match = INTERVAL.match(entry)
        if match is None:
            raise CellError("opening_hours", f"expected 'DAYS HH:MM-HH:MM', got {entry!r}")
        intervals.append({"days": parse_days(match["days"]),
                          "opens": match["opens"].zfill(5), "closes": match["closes"].zfill(5)})
    return intervals


def format_opening_hours(intervals: list[dict]) -> str:
    """The inverse of parse_opening_hours, with day runs written as ranges."""
    return "; ".join(f"{_format_days(i['days'])} {i['opens']}-{i['closes']}" for i in intervals)


def _format_days(days: list[int]) -> str:
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def parse_closures(text: str) -> list[dict]:
    """'2026-02-15/2026-02-23 春节休息; 2026-03-02/2026-03-06 装修停业' -> closures, whose
    dates and lengths FacilityInSchema then checks like any other input."""
    closures = []
    for entry in _entries(text):
        match = CLOSURE.match(entry)
        if match is None:
            raise CellError("closures", f"expected 'YYYY-MM-DD/YYYY-MM-DD reason', got {entry!r}")
        closures.append({"from": match["from"], "to": match["to"] or match["from"],
                         "reason": match["reason"]})
    return closures


def format_closures(closures: list[dict]) -> str:
    """The inverse of parse_closures."""
    return "; ".join(f"{c['from']}/{c['to']}" + (f" {c['reason']}" if c.get("reason") else "")
                     for c in closures)


def _boolean(text: str, column: str) -> bool:
    value = text.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise CellError(column, f"expected true/false or 是/否, got {text!r}")


def row_to_facility(row: dict[str, str], precision: str = "exact") -> dict:
    """A spreadsheet row (English or Chinese headers) -> the JSON a client would POST."""
    row = {CHINESE_HEADERS.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items()}
    data: dict = {}
    for name in ("external_id", "name", "name_en", "address", "street", "phone", "fees"):
        if row.get(name):
            data[name] = row[name]
    if row.get("kind"):
        data["kind"] = _kind(row["kind"])
    if row.get("services"):
        data["services"] = [_label_lookup(SERVICES, s, "services")
                            for s in re.split(r"[;、；,]", row["services"]) if s.strip()]
    if row.get("ownership"):
        data["ownership"] = _label_lookup(OWNERSHIP, row["ownership"], "ownership")
    if row.get("inclusive"):
        data["inclusive"] = _boolean(row["inclusive"], "inclusive")
    if row.get("status"):
        data["status"] = row["status"]
    if row.get("district_code"):
        data["district"] = row["district_code"]
    if row.get("lat") or row.get("lon"):
        data["location"] = point(row, precision)
    if row.get("opening_hours"):
        data["opening_hours"] = parse_opening_hours(row["opening_hours"])
    if row.get("holiday_rule"):
        data["holiday_rule"] = _label_lookup(HOLIDAY_RULES, row["holiday_rule"], "holiday_rule")
    if row.get("closures"):
        data["closures"] = parse_closures(row["closures"])
    for name in ("capacity", "vacancies", "age_months_min", "age_months_max", "service_radius_m"):
        if row.get(name):
            data[name] = whole_number(row, name)
    return data


def whole_number(row: dict[str, str], column: str) -> int:
    """A cell holding a whole number (`40`, or `40.0` as a spreadsheet may write it)."""
    value = _number(row, column)
    if not value.is_integer():
        raise CellError(column, f"expected a whole number, got {row[column]!r}")
    return int(value)


def point(row: dict[str, str], precision: str | None = None) -> dict:
    """The location of a row's lat, lon and coordsys cells (the input's `location`)."""
    location = {"lat": _number(row, "lat"), "lon": _number(row, "lon"),
                "coordsys": row.get("coordsys") or "wgs84"}
    return location if precision is None else {**location, "precision": precision}


def _number(row: dict[str, str], column: str) -> float:
    try:
        return float(row.get(column, ""))
    except ValueError:
        raise CellError(column, f"expected a number, got {row.get(column)!r}") from None


def facility_to_row(facility) -> dict[str, str]:
    """A stored facility as a spreadsheet row (the contract's columns, WGS-84), every text
    cell made safe to open in a spreadsheet (neutralise_text)."""
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    row = {
        **{name: text(getattr(facility, name)) for name in (
            "external_id", "name", "name_en", "kind", "ownership", "inclusive", "status",
            "address", "district_code", "street", "lat", "lon", "phone", "capacity",
            "vacancies", "age_months_min", "age_months_max", "fees", "service_radius_m")},
        "services": ";".join(facility.services),
        "coordsys": "wgs84" if facility.lat is not None else "",
        "opening_hours": format_opening_hours(facility.opening_hours or []),
        "holiday_rule": facility.holiday_rule or "",
        "closures": format_closures(facility.closures or []),
    }
    return {name: value if name in NUMBER_COLUMNS else neutralise_text(value)
            for name, value in row.items()}


# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection"):
# an export puts a quote in front of such text, and of text that starts with a quote, so that
# reading it back removes exactly the one quote the export added.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTED_STARTS = (*FORMULA_STARTS, "'")
# Columns written from numbers: a minus sign there is a number, never a formula.
NUMBER_COLUMNS = {"lat", "lon", "capacity", "vacancies", "age_months_min", "age_months_max",
                  "service_radius_m"}


def neutralise_text(text: str) -> str:
    """Text as an exported cell: quoted when a spreadsheet would run it (see FORMULA_STARTS)."""
    return "'" + text if text.startswith(QUOTED_STARTS) else text


def restore_text(cell: str) -> str:
    """The inverse of neutralise_text, for a cell read from CSV or XLSX."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(QUOTED_STARTS) else cell

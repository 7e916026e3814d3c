"""The fixed vocabularies of the contract: kinds, services, ownership, status, with labels."""

from __future__ import annotations

# slug -> (简体中文, English). Order is the contract's and is kept in responses.
KINDS: dict[str, tuple[str, str]] = {
    "elder_care_center": ("街道/乡镇养老服务中心", "Street or township elder care centre"),
    "elder_care_station": ("社区养老服务站", "Community elder care station"),
    "meal_point": ("老年食堂/助餐点", "Elder canteen or meal point"),
    "bathing_service": ("助浴点/助浴车", "Bathing assistance"),
    "care_home": ("养老机构/敬老院", "Care home"),
    "kindergarten": ("幼儿园", "Kindergarten"),
    "nursery": ("托育机构", "Nursery (ages 0-3)"),
}

SERVICES: dict[str, tuple[str, str]] = {
    "meals": ("助餐", "Meals"),
    "meal_delivery": ("送餐上门", "Meal delivery"),
    "bathing": ("助浴", "Bathing"),
    "cleaning": ("助洁", "Cleaning"),
    "day_care": ("日间照料", "Day care"),
    "respite_care": ("喘息服务", "Respite care"),
    "rehabilitation": ("康复护理", "Rehabilitation"),
    "medical_care": ("助医", "Medical care"),
    "emergency_help": ("紧急救援", "Emergency help"),
    "nursery_class": ("托班", "Nursery class"),
    "preschool": ("学前教育", "Preschool education"),
}

OWNERSHIP: dict[str, tuple[str, str]] = {
    "public": ("公办", "Public"),
    "private": ("民办", "Private"),
    "community": ("社区", "Community"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "active": ("运营中", "Active"),
    "inactive": ("已停办", "Inactive"),
    "temporarily_closed": ("暂停服务", "Temporarily closed"),
    "draft": ("草稿", "Draft"),
}

# The one place that says which facilities are searched (and so indexed): geo/rtree.py and
# geo/spatial.py build their SQL with searchable_sql. Migrations 0002 and 0005 wrote the same
# condition into their partial indexes as literal SQL, as it stood then, and 0013 into
# PostgreSQL's unfiltered search function (tests/test_nearest.py compares it with the
# statement); PostgreSQL uses those indexes only while searchable_sql matches them.
SEARCHABLE_STATUS = "active"


def searchable_sql(alias: str) -> str:
    """SQL true for the searchable rows of the facility table under `alias`."""
    return f"{alias}.status = '{SEARCHABLE_STATUS}'"


# Weekdays, ISO numbered (1 Monday .. 7 Sunday), both ways: as written in Chinese (周一 or
# 星期一; 天 is a second name for Sunday) and as HSDS/iCalendar BYDAY codes.
WEEKDAY_CHARS = ("一", "二", "三", "四", "五", "六", "日")
WEEKDAYS_ZH = tuple("周" + char for char in WEEKDAY_CHARS)
WEEKDAY_OF_CHAR = {char: day for day, char in enumerate(WEEKDAY_CHARS, 1)} | {"天": 7}
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_OF_BYDAY = {code: day for day, code in enumerate(BYDAY, 1)}

# Our statuses as HSDS writes them (drafts are never published), and back; HSDS's "defunct"
# has no counterpart of its own and reads as inactive.
HSDS_STATUS = {"active": "active", "inactive": "inactive",
               "temporarily_closed": "temporarily closed"}
STATUS_OF_HSDS = {hsds: ours for ours, hsds in HSDS_STATUS.items()} | {"defunct": "inactive"}

PRECISIONS = ("exact", "street", "district")

ROLES = ("admin", "editor")


def ordered_services(services) -> list[str]:
    """Services de-duplicated and in vocabulary order, so equal sets compare and print equal."""
    chosen = set(services)
    return [slug for slug in SERVICES if slug in chosen]

"""The SQLite R*Tree row of a facility: its point, or the box of a mobile service's area.

Shared by the migration that creates the triggers and by the bulk path, which fills the index
in one statement (about three times faster than a trigger per row).
"""

from ..vocabulary import searchable_sql
from ..weekly_slots import COLUMNS as SLOT_COLUMNS

# Half-sizes in degrees of the box around a service area: geo.distance.box_around in SQL, with
# the same constants; service areas are clamped at the antimeridian rather than wrapped.
DLAT = "({r} / 110574.0 * 1.0001 + 1e-6)"
DLON = ("({r} / (111319.0 * cos(radians({least}(abs({lat}) + " + DLAT
        + ", 89.99)))) * 1.0001 + 1e-6)")


def rtree_select(alias: str, source: str = "", extra: str = "") -> str:
    """SELECT id, min_lat, max_lat, min_lon, max_lon (then `extra`) for searchable rows of
    `alias`."""
    dlat = DLAT.format(r=f"{alias}.service_radius_m")
    dlon = DLON.format(r=f"{alias}.service_radius_m", lat=f"{alias}.lat", least="min")
    a = alias
    return (f"SELECT {a}.seq, {a}.lat - coalesce({dlat}, 0), {a}.lat + coalesce({dlat}, 0), "
            f"max(-180.0, {a}.lon - coalesce({dlon}, 0)), "
            f"min(180.0, {a}.lon + coalesce({dlon}, 0)){extra} "
            f"{source} WHERE {searchable_sql(a)} AND {a}.lat IS NOT NULL")




# The second R*Tree, by class: besides the box, three dimensions for the filters that most
# narrow a search (kind, inclusive, has a vacancy), so that a filtered search reads only the
# entries of the classes it asks for. A class value v is stored as [v*CLASS_STEP,
# v*CLASS_STEP + 1]: the step, far wider than any box in degrees, makes the tree split by class
# before space; the unit width keeps volumes non-zero (SQLite's R*Tree chooses where to insert
# by growth of volume, which a zero width would null). Auxiliary columns carry the services (a
# bitmask) and the opening-hours masks, so the other filters are tested on the index entry:
# joining a facility row costs ~4 µs, ten times the entry, and is left to the survivors.
CLASS_STEP = 1000
# Kinds and services as migration 0005 numbered them; a kind added later shares the value
# len(CLASS_KINDS) (searches still check f.kind itself); a service added later needs a new
# migration before it can be searched.
CLASS_KINDS = ("elder_care_center", "elder_care_station", "meal_point", "bathing_service",
               "care_home", "kindergarten", "nursery")
CLASS_SERVICES = ("meals", "meal_delivery", "bathing", "cleaning", "day_care", "respite_care",
                  "rehabilitation", "medical_care", "emergency_help", "nursery_class",
                  "preschool")
CLASS_TABLE = ("facility_class_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon, min_kind, "
               "max_kind, min_inclusive, max_inclusive, min_vacant, max_vacant, +services, "
               + ", ".join(f"+{column}" for column in SLOT_COLUMNS) + ")")


def kind_class(kind: str) -> int:
    return CLASS_KINDS.index(kind) if kind in CLASS_KINDS else len(CLASS_KINDS)


def services_mask(services) -> int:
    return sum(1 << CLASS_SERVICES.index(s) for s in set(services) if s in CLASS_SERVICES)


def services_select(facility_id: str) -> str:
    """SQL for the services bitmask of the facility with this id (facility_service rows)."""
    cases = " ".join(f"WHEN '{service}' THEN {1 << index}"
                     for index, service in enumerate(CLASS_SERVICES))
    return (f"(SELECT coalesce(sum(CASE s.service {cases} ELSE 0 END), 0) "
            f"FROM facility_service s WHERE s.facility_id = {facility_id})")


def class_rtree_select(alias: str, source: str = "") -> str:
    """SELECT the facility_class_rtree row of `alias`: id, box, kind, inclusive, vacant, then
    the services and hours masks."""
    a = alias
    cases = " ".join(f"WHEN '{kind}' THEN {index}" for index, kind in enumerate(CLASS_KINDS))
    extra = ""
    for value in (f"(CASE {a}.kind {cases} ELSE {len(CLASS_KINDS)} END)",
                  f"(CASE WHEN {a}.inclusive THEN 1 ELSE 0 END)",
                  f"(CASE WHEN {a}.vacancies > 0 THEN 1 ELSE 0 END)"):
        extra += f", {value} * {CLASS_STEP}, {value} * {CLASS_STEP} + 1"
    extra += f", {services_select(f'{a}.id')}"
    extra += "".join(f", {a}.{column}" for column in SLOT_COLUMNS)
    return rtree_select(a, source, extra)

"""The SQLite R*Tree row of a facility: its point, or the box of a mobile service's area.

Shared by the migration that creates the triggers and by the bulk path, which fills the index
in one statement (about three times faster than a trigger per row).
"""

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
            f"{source} WHERE {a}.status = 'active' AND {a}.lat IS NOT NULL")



# The second R*Tree, by class: besides the box, three dimensions for the filters that most
# narrow a search (kind, inclusive, has a vacancy), so that a filtered search reads only the
# entries of the classes it asks for instead of joining every facility in its box. A class
# value v is stored as [v*CLASS_STEP, v*CLASS_STEP + 1]: the step, far wider than any box in
# degrees, makes the tree split by class before space; the unit width keeps volumes non-zero
# (SQLite's R*Tree chooses where to insert by growth of volume, which a zero width would null).
CLASS_STEP = 1000
# The kinds as migration 0005 numbered them in its triggers; a kind added later shares the
# value len(CLASS_KINDS) (searches still check f.kind itself).
CLASS_KINDS = ("elder_care_center", "elder_care_station", "meal_point", "bathing_service",
               "care_home", "kindergarten", "nursery")


def kind_class(kind: str) -> int:
    return CLASS_KINDS.index(kind) if kind in CLASS_KINDS else len(CLASS_KINDS)


def class_rtree_select(alias: str, source: str = "") -> str:
    """SELECT the facility_class_rtree row of `alias`: id, box, kind, inclusive, vacant."""
    a = alias
    cases = " ".join(f"WHEN '{kind}' THEN {index}" for index, kind in enumerate(CLASS_KINDS))
    dims = ""
    for value in (f"(CASE {a}.kind {cases} ELSE {len(CLASS_KINDS)} END)",
                  f"(CASE WHEN {a}.inclusive THEN 1 ELSE 0 END)",
                  f"(CASE WHEN {a}.vacancies > 0 THEN 1 ELSE 0 END)"):
        dims += f", {value} * {CLASS_STEP}, {value} * {CLASS_STEP} + 1"
    return rtree_select(a, source, dims)

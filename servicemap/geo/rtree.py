"""The SQLite R*Tree row of a facility: its point, or the box of a mobile service's area.

Shared by the migration that creates the triggers and by the bulk path, which fills the index
in one statement (about three times faster than a trigger per row).
"""

# Half-sizes in degrees of the box around a service area: geo.distance.box_around in SQL, with
# the same constants; service areas are clamped at the antimeridian rather than wrapped.
DLAT = "({r} / 110574.0 * 1.0001 + 1e-6)"
DLON = ("({r} / (111319.0 * cos(radians({least}(abs({lat}) + " + DLAT
        + ", 89.99)))) * 1.0001 + 1e-6)")


def rtree_select(alias: str, source: str = "") -> str:
    """SELECT id, min_lat, max_lat, min_lon, max_lon for searchable rows of `alias`."""
    dlat = DLAT.format(r=f"{alias}.service_radius_m")
    dlon = DLON.format(r=f"{alias}.service_radius_m", lat=f"{alias}.lat", least="min")
    a = alias
    return (f"SELECT {a}.seq, {a}.lat - coalesce({dlat}, 0), {a}.lat + coalesce({dlat}, 0), "
            f"max(-180.0, {a}.lon - coalesce({dlon}, 0)), "
            f"min(180.0, {a}.lon + coalesce({dlon}, 0)) "
            f"{source} WHERE {a}.status = 'active' AND {a}.lat IS NOT NULL")

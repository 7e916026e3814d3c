"""Spatial index: SQLite R*Tree kept by triggers; PostGIS geography with GiST.

Only active facilities with a location are searchable, so only they are indexed. A mobile
service (service_radius_m) is indexed by the box around its service area, so that a search
from anywhere inside that area meets it. Both indexes are maintained inside the database, in
the same transaction as every insert, update and delete, whatever path writes the row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography, Geometry

from servicemap.geo.rtree import DLAT, DLON, rtree_select

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_ROW = rtree_select("NEW") + ";"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _postgis_upgrade()


def _sqlite_upgrade() -> None:
    op.execute("CREATE VIRTUAL TABLE facility_rtree USING rtree(id, min_lat, max_lat, min_lon, "
               "max_lon)")
    op.execute("CREATE TRIGGER facility_rtree_insert AFTER INSERT ON facility BEGIN "
               f"INSERT INTO facility_rtree {SQLITE_ROW} END")
    op.execute("CREATE TRIGGER facility_rtree_update AFTER UPDATE OF status, lat, lon, "
               "service_radius_m ON facility BEGIN "
               "DELETE FROM facility_rtree WHERE id = OLD.seq; "
               f"INSERT INTO facility_rtree {SQLITE_ROW} END")
    op.execute("CREATE TRIGGER facility_rtree_delete AFTER DELETE ON facility BEGIN "
               "DELETE FROM facility_rtree WHERE id = OLD.seq; END")
    # Rows written before this migration: touch them so the update trigger indexes them.
    op.execute("UPDATE facility SET status = status")


def _postgis_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    point = "ST_SetSRID(ST_MakePoint(lon, lat), 4326)"
    dlat = DLAT.format(r="service_radius_m")
    dlon = DLON.format(r="service_radius_m", lat="lat", least="least")
    op.add_column("facility", sa.Column(
        "geog", Geography("POINT", srid=4326, spatial_index=False),
        sa.Computed(f"CASE WHEN lat IS NOT NULL THEN {point}::geography END", persisted=True)))
    op.add_column("facility", sa.Column(
        "coverage", Geometry("POLYGON", srid=4326, spatial_index=False),
        sa.Computed(f"CASE WHEN lat IS NOT NULL AND service_radius_m IS NOT NULL THEN "
                    f"ST_MakeEnvelope(greatest(-180, lon - {dlon}), lat - {dlat}, "
                    f"least(180, lon + {dlon}), lat + {dlat}, 4326) END", persisted=True)))
    # Active facilities only: the rule as it stood; vocabulary.searchable_sql holds it now.
    op.execute("CREATE INDEX ix_facility_geog ON facility USING gist (geog) "
               "WHERE status = 'active'")
    op.execute("CREATE INDEX ix_facility_coverage ON facility USING gist (coverage) "
               "WHERE status = 'active' AND coverage IS NOT NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER facility_rtree_{trigger}")
        op.execute("DROP TABLE facility_rtree")
    else:
        op.drop_index("ix_facility_coverage", "facility")
        op.drop_index("ix_facility_geog", "facility")
        op.drop_column("facility", "coverage")
        op.drop_column("facility", "geog")

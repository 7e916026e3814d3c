"""Filtered nearest searches answered by the database: hours as bitmasks, indexes by class.

- Seven BIGINT columns, open_slots_1 (Monday) … open_slots_7 (Sunday), derived from
  opening_hours by servicemap.weekly_slots.week_masks; rows written before are backfilled here.
- An index of the searchable facilities by class (kind, inclusive, has a vacancy) and place, so
  a search with those filters reads only its classes' entries: on SQLite a second R*Tree with
  three more dimensions, kept by triggers like the first (geo/rtree.py); on PostgreSQL a GiST
  index over the class columns and geog (btree_gist), which KNN searches can order by.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import json

import sqlalchemy as sa
from alembic import op

from servicemap.geo.rtree import CLASS_TABLE, class_rtree_select, services_select
from servicemap.weekly_slots import COLUMNS, week_masks

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


CLASS_ROW = class_rtree_select("NEW") + ";"
# Every facility column the class row is made of.
CLASS_COLUMNS = ("status, lat, lon, service_radius_m, kind, inclusive, vacancies, "
                 + ", ".join(COLUMNS))


def upgrade() -> None:
    _open_slots()
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE {CLASS_TABLE}")
        op.execute("CREATE TRIGGER facility_class_rtree_insert AFTER INSERT ON facility BEGIN "
                   f"INSERT INTO facility_class_rtree {CLASS_ROW} END")
        op.execute(f"CREATE TRIGGER facility_class_rtree_update AFTER UPDATE OF {CLASS_COLUMNS} "
                   "ON facility BEGIN DELETE FROM facility_class_rtree WHERE id = OLD.seq; "
                   f"INSERT INTO facility_class_rtree {CLASS_ROW} END")
        op.execute("CREATE TRIGGER facility_class_rtree_delete AFTER DELETE ON facility BEGIN "
                   "DELETE FROM facility_class_rtree WHERE id = OLD.seq; END")
        # A facility's services are rows of their own, written after the facility's row.
        for event, row in (("insert", "NEW"), ("delete", "OLD")):
            op.execute(f"CREATE TRIGGER facility_class_rtree_services_{event} AFTER "
                       f"{event.upper()} ON facility_service BEGIN UPDATE facility_class_rtree "
                       f"SET services = {services_select(f'{row}.facility_id')} WHERE id = "
                       f"(SELECT seq FROM facility WHERE id = {row}.facility_id); END")
        op.execute(f"INSERT INTO facility_class_rtree "
                   f"{class_rtree_select('f', 'FROM facility f')} ORDER BY 6, 8, 10, 1")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        # Integers, not booleans: GiST takes a comparison of an integer column as an index
        # condition (geo/spatial.py writes the filters in exactly this form).
        # Active facilities only: the rule as it stood; vocabulary.searchable_sql holds it now.
        op.execute("CREATE INDEX ix_facility_class_geog ON facility USING gist (kind, "
                   "(CAST(inclusive AS integer)), (CAST(vacancies > 0 AS integer)), geog) "
                   "WHERE status = 'active'")


def _open_slots() -> None:
    for column in COLUMNS:
        op.add_column("facility", sa.Column(column, sa.BigInteger(), nullable=False,
                                            server_default="0"))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT seq, opening_hours FROM facility")).all()
    updates = []
    for seq, hours in rows:
        masks = week_masks(json.loads(hours) if isinstance(hours, str) else hours)
        if any(masks.values()):
            updates.append({"seq": seq, **masks})
    if updates:
        assignments = ", ".join(f"{column} = :{column}" for column in COLUMNS)
        connection.execute(sa.text(f"UPDATE facility SET {assignments} WHERE seq = :seq"),
                           updates)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete", "services_insert", "services_delete"):
            op.execute(f"DROP TRIGGER facility_class_rtree_{trigger}")
        op.execute("DROP TABLE facility_class_rtree")
    else:
        op.drop_index("ix_facility_class_geog", "facility")
    for column in COLUMNS:
        op.drop_column("facility", column)

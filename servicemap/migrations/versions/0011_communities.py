"""Communities (社区/村): the places whose residents coverage counts, with a spatial index.

Like facilities, a community has a small integer key for SQLite's R*Tree (`community_rtree`,
kept by triggers) and, on PostgreSQL, a generated geography column with a GiST index; both
follow every insert, update and delete in the writer's own transaction. Audit entries gain
`community_id`, set for writes to communities.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

from servicemap.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

POPULATIONS = ("population", "population_60_plus", "population_0_3", "population_3_6")
POPULATION_MAX = 10_000_000
# A point is its own box.
SQLITE_ROW = "SELECT NEW.seq, NEW.lat, NEW.lat, NEW.lon, NEW.lon;"


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("external_id", sa.String(100), unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200)),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("street", sa.String(100)),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        *(sa.Column(name, sa.Integer()) for name in POPULATIONS),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        # The database refuses what the API would refuse, whoever writes to it.
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name="ck_community_lat"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name="ck_community_lon"),
        *(sa.CheckConstraint(f"{name} IS NULL OR {name} BETWEEN 0 AND {POPULATION_MAX}",
                             name=f"ck_community_{name}") for name in POPULATIONS),
        *(sa.CheckConstraint(f"{name} IS NULL OR population IS NULL OR {name} <= population",
                             name=f"ck_community_{name}_within") for name in POPULATIONS[1:]),
    )
    op.create_index("ix_community_district_code", "community", ["district_code"])
    op.create_index("ix_community_name", "community", ["name"])
    op.add_column("audit_entry", sa.Column("community_id", sa.Uuid()))
    op.create_index("ix_audit_entry_community_id", "audit_entry", ["community_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE community_rtree USING rtree(id, min_lat, max_lat, "
                   "min_lon, max_lon)")
        op.execute("CREATE TRIGGER community_rtree_insert AFTER INSERT ON community BEGIN "
                   f"INSERT INTO community_rtree {SQLITE_ROW} END")
        op.execute("CREATE TRIGGER community_rtree_update AFTER UPDATE OF lat, lon ON community "
                   "BEGIN DELETE FROM community_rtree WHERE id = OLD.seq; "
                   f"INSERT INTO community_rtree {SQLITE_ROW} END")
        op.execute("CREATE TRIGGER community_rtree_delete AFTER DELETE ON community BEGIN "
                   "DELETE FROM community_rtree WHERE id = OLD.seq; END")
    else:
        op.add_column("community", sa.Column(
            "geog", Geography("POINT", srid=4326, spatial_index=False),
            sa.Computed("ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography", persisted=True)))
        op.execute("CREATE INDEX ix_community_geog ON community USING gist (geog)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER community_rtree_{trigger}")
        op.execute("DROP TABLE community_rtree")
    op.drop_index("ix_audit_entry_community_id", "audit_entry")
    op.drop_column("audit_entry", "community_id")
    op.drop_table("community")

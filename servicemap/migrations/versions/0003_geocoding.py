"""Geocoding: answers cached per service and query, and facilities waiting for a location.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from servicemap.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUSES = ("active", "inactive", "temporarily_closed", "draft")


def upgrade() -> None:
    op.create_table(
        "geocode_cache",
        sa.Column("service", sa.String(64), primary_key=True),
        sa.Column("query", sa.String(400), primary_key=True),  # normalised: NFKC, no spaces
        sa.Column("lat", sa.Float(), nullable=False),  # WGS-84, whatever the service answers in
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("precision", sa.String(16), nullable=False),
        sa.Column("district_code", sa.String(6)),
        sa.Column("street", sa.String(100)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("precision IN ('exact', 'street', 'district')",
                           name="ck_geocode_cache_precision"),
    )
    op.create_table(
        "geocode_pending",
        sa.Column("facility_id", sa.Uuid(), sa.ForeignKey("facility.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("requested_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("tried_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(f"requested_status IN ({', '.join(repr(s) for s in STATUSES)})",
                           name="ck_geocode_pending_requested_status"),
    )


def downgrade() -> None:
    op.drop_table("geocode_pending")
    op.drop_table("geocode_cache")

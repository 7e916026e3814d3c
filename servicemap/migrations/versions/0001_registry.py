"""The facility registry and API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from servicemap.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

KINDS = ("elder_care_center", "elder_care_station", "meal_point", "bathing_service",
         "care_home", "kindergarten", "nursery")
SERVICES = ("meals", "meal_delivery", "bathing", "cleaning", "day_care", "respite_care",
            "rehabilitation", "medical_care", "emergency_help", "nursery_class", "preschool")


def _one_of(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "facility",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("external_id", sa.String(100), unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ownership", sa.String(16)),
        sa.Column("inclusive", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("address", sa.String(300)),
        sa.Column("district_code", sa.String(6)),
        sa.Column("street", sa.String(100)),
        sa.Column("lat", sa.Float()),
        sa.Column("lon", sa.Float()),
        sa.Column("location_precision", sa.String(16)),
        sa.Column("location_source", sa.String(64)),
        sa.Column("phone", sa.String(50)),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer()),
        sa.Column("vacancies", sa.Integer()),
        sa.Column("age_months_min", sa.Integer()),
        sa.Column("age_months_max", sa.Integer()),
        sa.Column("fees", sa.Text()),
        sa.Column("service_radius_m", sa.Integer()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        # The database refuses what the API would refuse, whoever writes to it.
        sa.CheckConstraint(_one_of("kind", KINDS), name="ck_facility_kind"),
        sa.CheckConstraint(
            _one_of("status", ("active", "inactive", "temporarily_closed", "draft")),
            name="ck_facility_status",
        ),
        sa.CheckConstraint(
            "ownership IS NULL OR " + _one_of("ownership", ("public", "private", "community")),
            name="ck_facility_ownership",
        ),
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="ck_facility_lat_lon_pair"),
        sa.CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="ck_facility_lat"),
        sa.CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="ck_facility_lon"),
        sa.CheckConstraint(
            "vacancies IS NULL OR capacity IS NULL OR vacancies <= capacity",
            name="ck_facility_vacancies",
        ),
    )
    op.create_index("ix_facility_district_code", "facility", ["district_code"])
    op.create_index("ix_facility_name", "facility", ["name"])
    op.create_table(
        "facility_service",
        sa.Column(
            "facility_id", sa.Uuid(), sa.ForeignKey("facility.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("service", sa.String(32), primary_key=True),
        sa.CheckConstraint(_one_of("service", SERVICES), name="ck_facility_service_service"),
        sqlite_with_rowid=False,  # the primary key is the table: one B-tree, not two
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("districts", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.CheckConstraint("role IN ('admin', 'editor')", name="ck_api_key_role"),
    )


def downgrade() -> None:
    op.drop_table("api_key")
    op.drop_table("facility_service")
    op.drop_table("facility")

"""The audit log: one row per write, never changed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from servicemap.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTIONS = ("create", "update", "delete", "import")

# Whoever reaches the database, not just the API, cannot rewrite history.
TRIGGERS = {
    "sqlite": [
        f"CREATE TRIGGER audit_entry_no_{event} BEFORE {event.upper()} ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed or deleted'); END"
        for event in ("update", "delete")
    ],
    "postgresql": [
        "CREATE FUNCTION audit_entry_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit entries cannot be changed or deleted'; END $$",
        "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse()",
    ],
}
DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"],
    "postgresql": ["DROP TRIGGER audit_entry_no_change ON audit_entry",
                   "DROP FUNCTION audit_entry_refuse()"],
}


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("facility_id", sa.Uuid()),
        sa.Column("request_id", sa.String(100)),
        sa.Column("before", sa.JSON()),
        sa.Column("after", sa.JSON()),
        sa.CheckConstraint(f"action IN ({', '.join(repr(a) for a in ACTIONS)})",
                           name="ck_audit_entry_action"),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_index("ix_audit_entry_key_id", "audit_entry", ["key_id"])
    op.create_index("ix_audit_entry_facility_id", "audit_entry", ["facility_id"])
    for statement in TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.drop_table("audit_entry")

"""Opening hours as half-hour bitmasks per weekday, so SQL can filter open_at/open_now.

Seven BIGINT columns, open_slots_1 (Monday) … open_slots_7 (Sunday), derived from
opening_hours by servicemap.weekly_slots.week_masks; rows written before are backfilled here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import json

import sqlalchemy as sa
from alembic import op

from servicemap.weekly_slots import COLUMNS, week_masks

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
    for column in COLUMNS:
        op.drop_column("facility", column)

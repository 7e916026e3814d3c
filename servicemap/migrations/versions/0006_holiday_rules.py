"""China's calendar: each facility's holiday rule and its temporary closures.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import json

import sqlalchemy as sa
from alembic import op

from servicemap.hours import default_holiday_rule

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("facility", sa.Column("holiday_rule", sa.String(8), nullable=False,
                                        server_default="closed"))
    op.add_column("facility", sa.Column("closures", sa.JSON(), nullable=False,
                                        server_default=sa.text("'[]'")))
    # Existing rows get the rule their kind and hours call for, as new ones do.
    connection = op.get_bind()
    facility = sa.table("facility", sa.column("id", sa.Uuid()), sa.column("kind", sa.String()),
                        sa.column("opening_hours", sa.JSON()),
                        sa.column("holiday_rule", sa.String()))
    opening = [row.id for row in connection.execute(
        sa.select(facility.c.id, facility.c.kind, facility.c.opening_hours))
        if default_holiday_rule(row.kind, _hours(row.opening_hours)) == "open"]
    for start in range(0, len(opening), 5000):
        connection.execute(facility.update().where(facility.c.id.in_(opening[start:start + 5000]))
                           .values(holiday_rule="open"))


def _hours(value):
    return json.loads(value) if isinstance(value, str) else value


def downgrade() -> None:
    op.drop_column("facility", "closures")
    op.drop_column("facility", "holiday_rule")

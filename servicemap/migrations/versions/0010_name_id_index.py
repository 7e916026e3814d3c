"""The listing order's own index: (name, id) rather than name alone, so that a page after a
cursor (paging.py's keyset condition `(name, id) > (…, …)`) is a range read of the index on
both backends, however deep, and the first page reads its 21 rows in order without sorting
the facilities that share a name.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_facility_name_id", "facility", ["name", "id"])
    op.drop_index("ix_facility_name", "facility")


def downgrade() -> None:
    op.create_index("ix_facility_name", "facility", ["name"])
    op.drop_index("ix_facility_name_id", "facility")

"""PostgreSQL: the weekly hours in the class index, so a search at an hour few are open skips
the rest in the index instead of reading each facility's row to test its hour mask.

`week_slot_numbers(open_slots_1, …, open_slots_7)` (an immutable SQL function) lists the half
hours of the week a facility's masks mark open, numbered (weekday - 1) * 48 + slot: 0 … 335.
The class index gains it as a column with intarray's signature opclass, `gist__intbig_ops` with
a 42-byte signature, 336 bits: one bit per half hour, so an inner entry's signature (the union
of its subtree) tells exactly whether anything below may be open then, and `&&
ARRAY[…]` (weekly_slots.open_condition) is an index condition. It is an expression over the
mask columns every write path already keeps current, so no write path changes. SQLite keeps
its class R*Tree, which tests the masks on the entry.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from alembic import op

from servicemap.weekly_slots import COLUMNS, SLOT_NUMBERS_FUNCTION, slot_numbers_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CLASS_COLUMNS = "kind, (CAST(inclusive AS integer)), (CAST(vacancies > 0 AS integer))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS intarray")
    masks = ", ".join(f"m{day} bigint" for day in range(1, 8))
    rows = ", ".join(f"({day - 1}, m{day})" for day in range(1, 8))
    op.execute(
        f"CREATE FUNCTION {SLOT_NUMBERS_FUNCTION}({masks}) RETURNS integer[] "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_agg(w.day * 48 + k ORDER BY w.day, k), '{}') "
        f"FROM (VALUES {rows}) AS w(day, mask) CROSS JOIN generate_series(0, 47) AS k "
        "WHERE w.mask <> 0 AND (w.mask >> k) & 1 = 1 $$")
    op.drop_index("ix_facility_class_geog", "facility")
    op.execute(f"CREATE INDEX ix_facility_class_geog ON facility USING gist ({CLASS_COLUMNS}, "
               f"{slot_numbers_sql(COLUMNS)} gist__intbig_ops(siglen = 42), geog) "
               "WHERE status = 'active'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_facility_class_geog", "facility")
    op.execute(f"CREATE INDEX ix_facility_class_geog ON facility USING gist ({CLASS_COLUMNS}, "
               "geog) WHERE status = 'active'")
    op.execute(f"DROP FUNCTION {SLOT_NUMBERS_FUNCTION}")

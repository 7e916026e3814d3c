"""PostgreSQL: the weekly hours in the class index, so a search at an hour few are open skips
the rest in the index instead of reading each facility's row to test its hour mask.

`week_open_blocks(open_slots_1, …, open_slots_7)` (an immutable function) lists the two-hour
blocks of the week in which a facility's masks mark some half hour open, numbered
(weekday - 1) * 12 + hour // 2: 0 … 83. The class index gains it as a column with intarray's
signature opclass, `gist__intbig_ops` with an 11-byte signature, 88 bits: one bit per block, so
an inner entry's signature (the union of its subtree) tells exactly whether anything below may
be open in that block, and `&& ARRAY[…]` (weekly_slots.open_condition) is an index condition;
the masks' own test then keeps the answer to the half hour. It is an expression over the
mask columns every write path already keeps current, so no write path changes. SQLite keeps
its class R*Tree, which tests the masks on the entry.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from alembic import op

from servicemap.weekly_slots import (
    BLOCK_SLOTS,
    BLOCKS_FUNCTION,
    BLOCKS_PER_DAY,
    COLUMNS,
    Slot,
    block_number,
    open_blocks_sql,
)

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
    # One CASE per block in PL/pgSQL: intbig's signatures are lossy to GiST, so every row the
    # index returns is tested again with this function. Measured per call at 1M rows: 1.1 µs;
    # by half hour (336 CASEs) 3.3 µs, which made a search where most are open 1.4x slower
    # than testing the masks on the row; the half hours as an inlinable SQL function cost
    # 1.3 ms more planning for every search (its CASEs expanded in the query), over
    # generate_series 33 µs a call.
    cases = ", ".join(
        f"CASE WHEN (m{day} & {(1 << BLOCK_SLOTS) - 1 << BLOCK_SLOTS * block}::bigint) <> 0 "
        f"THEN {block_number(Slot(day, block * BLOCK_SLOTS))} END"
        for day in range(1, 8) for block in range(BLOCKS_PER_DAY))
    op.execute(f"CREATE FUNCTION {BLOCKS_FUNCTION}({masks}) RETURNS integer[] "
               "LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS "
               f"$$ BEGIN RETURN array_remove(ARRAY[{cases}], NULL); END $$")
    op.drop_index("ix_facility_class_geog", "facility")
    # The hours after geog: GiST splits a page by its first column that tells the entries
    # apart, so hours before geog would scatter each class's places (KNN then reads far more
    # pages); after it, a subtree's signature is the union of its neighbourhood's hours, and
    # a class closed at the moment (kindergartens on Sunday night) is skipped at the top.
    op.execute(f"CREATE INDEX ix_facility_class_geog ON facility USING gist ({CLASS_COLUMNS}, "
               f"geog, {open_blocks_sql(COLUMNS)} gist__intbig_ops(siglen = 11)) "
               "WHERE status = 'active'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_facility_class_geog", "facility")
    op.execute(f"CREATE INDEX ix_facility_class_geog ON facility USING gist ({CLASS_COLUMNS}, "
               "geog) WHERE status = 'active'")
    op.execute(f"DROP FUNCTION {BLOCKS_FUNCTION}")

"""Text search by index: `q` (and HSDS `search=`) find a substring of a facility's name,
English name or address without reading every row.

SQLite: an FTS5 table with the trigram tokenizer over the three columns, external content
keyed by facility.seq, kept by triggers in the writer's own transaction (store/sqlite.py's
bulk load fills it in one statement instead, as it does the R*Trees). PostgreSQL: a pg_trgm
GIN index per column, which serves the `col ILIKE '%…%'` that SQLAlchemy's icontains emits
there as it stands (pg_trgm's ILIKE support folds case itself). Both need three characters to
have a trigram; shorter text is answered by a scan (registry.filtered).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("name", "name_en", "address")
_NEW = ", ".join(f"NEW.{c}" for c in COLUMNS)
_OLD = ", ".join(f"OLD.{c}" for c in COLUMNS)
SQLITE_ADD = f"INSERT INTO facility_text (rowid, {', '.join(COLUMNS)}) VALUES (NEW.seq, {_NEW});"
SQLITE_REMOVE = (f"INSERT INTO facility_text (facility_text, rowid, {', '.join(COLUMNS)}) "
                 f"VALUES ('delete', OLD.seq, {_OLD});")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE facility_text USING fts5({', '.join(COLUMNS)}, "
                   "content='facility', content_rowid='seq', tokenize='trigram')")
        op.execute(f"CREATE TRIGGER facility_text_insert AFTER INSERT ON facility BEGIN "
                   f"{SQLITE_ADD} END")
        op.execute(f"CREATE TRIGGER facility_text_update AFTER UPDATE OF {', '.join(COLUMNS)} "
                   f"ON facility BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END")
        op.execute(f"CREATE TRIGGER facility_text_delete AFTER DELETE ON facility BEGIN "
                   f"{SQLITE_REMOVE} END")
        op.execute("INSERT INTO facility_text (facility_text) VALUES ('rebuild')")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in COLUMNS:
            op.execute(f"CREATE INDEX ix_facility_{column}_trgm ON facility "
                       f"USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER facility_text_{trigger}")
        op.execute("DROP TABLE facility_text")
    else:
        for column in COLUMNS:
            op.drop_index(f"ix_facility_{column}_trgm", "facility")

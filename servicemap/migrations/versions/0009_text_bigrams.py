"""Two-character text search by index: `q` (and HSDS `search=`) of exactly two characters
find their facilities without reading every row, as three or more do since 0008.

A trigram index holds nothing shorter than three characters, so both backends index every
pair of adjacent characters of lower(name), lower(name_en) and lower(address):

- SQLite: a contentless FTS5 table, detail=none, of hex tokens (store/sqlite.py's
  bigram_tokens), keyed by facility.seq and kept by triggers in the writer's own transaction
  (the bulk load fills it in one statement instead); a table of positions 1..1000 stands in
  for generate_series, which SQLite lacks and a trigger could not reach through a CTE.
- PostgreSQL: a stored generated column text_bigrams = facility_bigrams(name, name_en,
  address) (store/postgis.py) with a GIN index, so both follow every write by themselves.

The substring test stays beside the index, so answers are as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from alembic import op

from servicemap.store.postgis import BIGRAMS_FUNCTION
from servicemap.store.sqlite import POSITION_MAX, POSITIONS, bigram_tokens

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = "name, name_en, address"
SQLITE_ADD = f"INSERT INTO facility_bigram (rowid, grams) VALUES (NEW.seq, {bigram_tokens('NEW')});"
SQLITE_REMOVE = ("INSERT INTO facility_bigram (facility_bigram, rowid, grams) "
                 f"VALUES ('delete', OLD.seq, {bigram_tokens('OLD')});")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TABLE {POSITIONS} (n INTEGER PRIMARY KEY)")
        op.execute(f"INSERT INTO {POSITIONS} (n) VALUES "
                   + ", ".join(f"({n})" for n in range(1, POSITION_MAX + 1)))
        op.execute("CREATE VIRTUAL TABLE facility_bigram USING fts5(grams, content='', "
                   "detail=none, tokenize='ascii')")
        op.execute(f"CREATE TRIGGER facility_bigram_insert AFTER INSERT ON facility BEGIN "
                   f"{SQLITE_ADD} END")
        op.execute(f"CREATE TRIGGER facility_bigram_update AFTER UPDATE OF {COLUMNS} "
                   f"ON facility BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END")
        op.execute(f"CREATE TRIGGER facility_bigram_delete AFTER DELETE ON facility BEGIN "
                   f"{SQLITE_REMOVE} END")
        op.execute(f"INSERT INTO facility_bigram (rowid, grams) "
                   f"SELECT f.seq, {bigram_tokens('f')} FROM facility f")
    else:
        op.execute(BIGRAMS_FUNCTION)
        op.execute(f"ALTER TABLE facility ADD COLUMN text_bigrams text[] "
                   f"GENERATED ALWAYS AS (facility_bigrams({COLUMNS})) STORED")
        op.execute("CREATE INDEX ix_facility_bigrams ON facility USING gin (text_bigrams)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER facility_bigram_{trigger}")
        op.execute("DROP TABLE facility_bigram")
        op.execute(f"DROP TABLE {POSITIONS}")
    else:
        op.drop_index("ix_facility_bigrams", "facility")
        op.execute("ALTER TABLE facility DROP COLUMN text_bigrams")
        op.execute("DROP FUNCTION facility_bigrams(text, text, text)")

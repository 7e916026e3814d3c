"""PostgreSQL with PostGIS: bounded statement time, advisory locks, COPY for bulk loads."""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
from sqlalchemy import ARRAY, Engine, Text, cast, create_engine, func, literal_column, select
from sqlalchemy.dialects.postgresql import array, insert  # noqa: F401  (insert: store's)

UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError)
CONFLICT = (psycopg.IntegrityError,)
BACKUP_INSTEAD = ("backup copies the embedded SQLite database; for PostgreSQL run: "
                  "pg_dump -Fc -f FILE DATABASE")


def make_engine(url: str, statement_timeout_ms: int = 0, reader: bool = False) -> Engine:
    """The sessions' engine: a ping at each checkout replaces connections a restart killed.
    A reader's (store.make_engine): autocommit connections, and no ping, which cost a round
    trip per request (store._on_cursor tries a lost connection's read once more instead)."""
    connect_args: dict = {"connect_timeout": 5}
    if statement_timeout_ms:
        # A bounded statement time, so a stuck query frees its worker and connection.
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    if reader:
        return create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                             connect_args=connect_args)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def lost(dbapi_connection) -> bool:
    """Whether a connection whose statement failed is gone (the server restarted or dropped
    it) rather than refused the statement."""
    return dbapi_connection.broken or dbapi_connection.closed


def write_bind(engine: Engine) -> Engine:
    """Row locks and version checks order PostgreSQL's writers: a plain BEGIN serves."""
    return engine


def hold_lock(connection, lock_id: int) -> None:
    connection.execute(select(func.pg_advisory_xact_lock(lock_id)))


def stored_renderings(cursor, ids: list) -> list[tuple]:
    """(id, version, seq, rendering) of the facilities with these UUIDs."""
    cursor.execute("SELECT f.id, f.version, f.seq, r.rendering FROM facility f "
                   "LEFT JOIN facility_rendering r ON r.facility_id = f.id "
                   "AND r.version = f.version WHERE f.id = ANY(%s)", (ids,), prepare=True)
    return cursor.fetchall()


def search():
    from ..geo.spatial import postgis_nearest

    return postgis_nearest


def community_search():
    from ..geo.community_index import postgis_near

    return postgis_near

def within():
    from ..geo.within import postgis_within

    return postgis_within


@contextmanager
def bulk_load(_connection):
    """Generated columns and the GiST indexes follow each COPY by themselves."""
    yield


# Every pair of adjacent characters of lower(name), lower(name_en) and lower(address), for
# the stored column text_bigrams and its GIN index (migration 0009): PostgreSQL computes both
# in each write's own transaction. IMMUTABLE as a generated column needs (lower() holds for
# the database's fixed collation). Stored rather than an expression index so that a scan the
# planner prefers for a very common pair (重庆) reads the array instead of calling PL/pgSQL
# per row.
BIGRAMS_FUNCTION = """
CREATE FUNCTION facility_bigrams(name text, name_en text, address text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    column_text text;
    grams text[] := '{}';
BEGIN
    FOREACH column_text IN ARRAY ARRAY[lower(name), lower(name_en), lower(address)] LOOP
        FOR i IN 1 .. coalesce(char_length(column_text), 0) - 1 LOOP
            grams := grams || substr(column_text, i, 2);
        END LOOP;
    END LOOP;
    RETURN grams;
END $$"""
BIGRAM = 2
# Not mapped (models.py): only this search reads it; a literal column adds no second FROM.
_BIGRAMS = literal_column("facility.text_bigrams", ARRAY(Text))


def text_candidates(table, text: str):
    """For two characters, the facilities whose pairs (text_bigrams, GIN-indexed) hold
    lower(text); else None: the pg_trgm GIN indexes on name, name_en and address (migration
    0008) serve the substring test `col ILIKE '%…%'` itself from three characters on."""
    if len(text) != BIGRAM:
        return None
    return _BIGRAMS.op("@>")(array([func.lower(cast(text, Text))]))


def page_walker(_session):
    """None: PostgreSQL's planner already walks the list's index for text many rows hold."""
    return None


def text_may_be_common(_session, _text: str, _rows: int) -> bool:
    """Not known cheaply: GIN answers only with every match (a bitmap), so the window of
    paging.window_estimate decides."""
    return True


def write_rows(connection, table: str, columns, rows) -> None:
    names = ", ".join(c.name for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


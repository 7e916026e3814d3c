"""PostgreSQL with PostGIS: bounded statement time, advisory locks, COPY for bulk loads."""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.dialects.postgresql import insert  # noqa: F401  (store.insert_or_ignore)

UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError)
CONFLICT = (psycopg.IntegrityError,)
BACKUP_INSTEAD = ("backup copies the embedded SQLite database; for PostgreSQL run: "
                  "pg_dump -Fc -f FILE DATABASE")


def make_engine(url: str, statement_timeout_ms: int = 0) -> Engine:
    connect_args: dict = {"connect_timeout": 5}
    if statement_timeout_ms:
        # A bounded statement time, so a stuck query frees its worker and connection.
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def write_bind(engine: Engine) -> Engine:
    """Row locks and version checks order PostgreSQL's writers: a plain BEGIN serves."""
    return engine


def hold_lock(connection, lock_id: int) -> None:
    connection.execute(select(func.pg_advisory_xact_lock(lock_id)))


def search():
    from ..geo.spatial import postgis_nearest

    return postgis_nearest


def within():
    from ..geo.within import postgis_within

    return postgis_within


@contextmanager
def bulk_load(_connection):
    """Generated columns and the GiST indexes follow each COPY by themselves."""
    yield


def text_candidates(_key, _text: str):
    """None: the pg_trgm GIN indexes on name, name_en and address (migration 0008) serve the
    substring test `col ILIKE '%…%'` itself."""
    return None


def write_rows(connection, table: str, columns, rows) -> None:
    names = ", ".join(c.name for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


"""The database behind one small interface, one module per backend (sqlite.py, postgis.py).

Only this package imports a driver or asks which backend it is talking to; the rest of the
app opens sessions (database.py), builds portable SQLAlchemy statements and calls:

- make_engine: an engine with the connection settings its backend needs, for sessions or
  for a reader (autocommit, nothing to reset or ping per request);
- engine, reader_engine: the app's two engines (the accessors); dispose: close both;
- begin_write: begin a session's transaction as a writer (SQLite: BEGIN IMMEDIATE), optionally
  holding a lock that serialises writers that first read much (PostgreSQL: an advisory lock);
- bulk_writer: many rows at once, for a bulk load (registry.bulk_insert);
- insert_or_ignore: an insert that is a no-op when the row's key is already stored;
- upsert: an insert that updates the row stored with the same key instead;
- stored_renderings: the facilities' stored renderings, for the nearest answers;
- nearest: the nearest-facility search (geo/spatial.py's function for the backend);
- communities_near: the communities within a radius (geo/community_index.py's, likewise);
- facilities_within: every facility passing a search's filters within a circle (coverage);
- text_candidates: a condition narrowing a substring search to its text index's candidates;
- text_may_be_common, page_walker: how a list page reads text that many rows hold;
- backup: an online copy of the database, where the backend has one.

Failures of the drivers' own cursors (the search, COPY) come out as StoreUnavailable or
StoreConflict, which errors.py answers with 503 and 409.
"""

from __future__ import annotations

from contextlib import contextmanager
from types import ModuleType

from flask import current_app
from sqlalchemy import Engine

from ..domain_errors import Conflict, Unavailable
from . import postgis, sqlite

# What the drivers raise on their own cursors, by what it means.
_UNAVAILABLE = (*sqlite.UNAVAILABLE, *postgis.UNAVAILABLE)
_CONFLICT = (*sqlite.CONFLICT, *postgis.CONFLICT)
_BACKENDS = {"sqlite": sqlite, "postgresql": postgis}

# The session factory's key in app.extensions, and the reader engine's (database.py puts
# them there).
EXTENSION = "servicemap.db"
READER = "servicemap.db.reader"


class StoreUnavailable(Unavailable):
    """The database cannot be reached, or is locked or shutting down: try again shortly."""

    def __init__(self, detail: str = "The database is unavailable; try again shortly."):
        super().__init__(detail)


class StoreConflict(Conflict):
    """A write clashes with a constraint on what is stored."""

    def __init__(self, detail: str = "The change conflicts with data already stored."):
        super().__init__(detail)


def _backend(name: str) -> ModuleType:
    return _BACKENDS[name]


def _of(bind) -> ModuleType:
    return _backend(bind.dialect.name)


def backend_name(bind) -> str:
    """"sqlite" or "postgresql", for reports such as the health check."""
    return bind.dialect.name


def make_engine(url: str, statement_timeout_ms: int = 0, reader: bool = False) -> Engine:
    """An engine with the connection settings each backend needs; with `reader`, one whose
    connections are in autocommit for reads that need no transaction (the /nearest path)."""
    return _backend("sqlite" if url.startswith("sqlite") else "postgresql").make_engine(
        url, statement_timeout_ms, reader)


def engine(app=None) -> Engine:
    """The engine of `app` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION].kw["bind"]


def reader_engine(app=None) -> Engine:
    """The reader engine of `app` (default: the current app)."""
    return (app or current_app).extensions[READER]


def dispose(app) -> None:
    """Close the pooled connections of both of the app's engines."""
    engine(app).dispose()
    reader_engine(app).dispose()


def write_bind(bind: Engine) -> Engine:
    """The engine to bind a session that will write: its transaction begins as a writer."""
    return _of(bind).write_bind(bind)


def begin_write(session, lock_id: int | None = None) -> None:
    """End the session's transaction and begin one as a writer; with `lock_id`, one that holds
    until it ends SQLite's write lock or PostgreSQL's advisory lock `lock_id`, so that writers
    taking the same lock queue and each reads what the one before committed."""
    session.commit()  # nothing is pending: the caller has only read so far
    connection = session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    if lock_id is not None:
        _of(connection).hold_lock(connection, lock_id)


@contextmanager
def driver_errors():
    """Driver failures raised from the drivers' own cursors, as the store's errors."""
    try:
        yield
    except _UNAVAILABLE as error:
        raise StoreUnavailable() from error
    except _CONFLICT as error:
        raise StoreConflict() from error


@contextmanager
def bulk_writer(connection):
    """For a bulk load on an open transaction: yields write(table, columns, rows), which sends
    rows of model column values to the driver as they are (executemany on SQLite, COPY on
    PostgreSQL) after the column types' own conversions, skipping per-row ORM work. Spatial
    indexes follow by the database's triggers and generated columns (SQLite: once, at the end).
    """
    backend = _of(connection)

    def write(table, columns, rows) -> None:
        with driver_errors():
            backend.write_rows(connection, table, columns, converted(connection, columns, rows))

    with backend.bulk_load(connection):
        yield write


def converted(connection, columns, rows):
    """Rows with each value converted as the column's SQLAlchemy type would bind it."""
    dialect = connection.dialect
    processors = [(index, process) for index, column in enumerate(columns)
                  if (process := column.type.dialect_impl(dialect).bind_processor(dialect))]
    # The same object (a batch's timestamp, the shared empty hours) converts once.
    last = {index: (None, None) for index, _ in processors}
    for row in rows:
        row = list(row)
        for index, process in processors:
            value = row[index]
            if value is not None:
                seen, done = last[index]
                if value is not seen:
                    done = process(value)
                    last[index] = (value, done)
                row[index] = done
        yield row


def upsert(connection, table, key: str, **values) -> None:
    """Insert a row, or update the one stored with the same `key` column to these values."""
    statement = _of(connection).insert(table).values(**values)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[key], set_={name: statement.excluded[name] for name in values}))


def insert_or_ignore(session, table, **values) -> None:
    """Insert a row unless one with the same key is stored: a no-op, never an error, when
    two writers insert the same key at once."""
    session.execute(_of(session.get_bind()).insert(table).values(**values)
                    .on_conflict_do_nothing())


def text_candidates(session, table, text: str):
    """A condition on the facility `table` that keeps the facilities whose name, name_en or
    address the text indexes say may hold `text` (a pair of characters or a trigram phrase),
    or None where the substring test itself is the index's condition (PostgreSQL's trigrams)
    or the text is one character: the caller keeps its own exact substring test beside it
    either way."""
    return _of(session.get_bind()).text_candidates(table, text)


def text_may_be_common(session, text: str, rows: int) -> bool:
    """Whether `text` may be held by `rows` facilities or more; False only when the text
    index says, cheaply, that fewer hold it (SQLite)."""
    return _of(session.get_bind()).text_may_be_common(session, text, rows)


def page_walker(session):
    """For a list page of text many rows hold (paging.keyed_page): a function that runs
    produce(), a page read by walking the list's index without the text index's condition,
    within a bound on its work, giving its rows or None past the bound (SQLite, whose text
    index hands over its candidates unordered); or None where the planner walks by itself
    (PostgreSQL)."""
    return _of(session.get_bind()).page_walker(session)


def nearest(connection, query):
    """The active, located facilities nearest the point that pass the filters (geo/spatial.py)."""
    return _on_cursor(connection, _of(connection).search(), query)


def stored_renderings(connection, ids: list) -> list[tuple]:
    """(id, version, seq, rendering) of the facilities with these UUIDs, the rendering None
    unless one of their current version is stored (renderings.py)."""
    return _on_cursor(connection, _of(connection).stored_renderings, ids)


def facilities_within(connection, query, lat: float, lon: float, radius_m: float) -> list:
    """(seq, lat, lon, capacity) of at least every active facility passing the query's filters
    within radius_m metres of (lat, lon) (geo/within.py)."""
    return _on_cursor(connection, _of(connection).within(), query, lat, lon, radius_m)


def _on_cursor(connection, function, *args):
    # The driver's own cursor, inside the connection's transaction: SQLAlchemy's result
    # machinery would cost a tenth of a search.
    try:
        return _run(connection, function, args)
    except _UNAVAILABLE as error:
        if connection.in_transaction() or not _of(connection).lost(
                connection.connection.dbapi_connection):
            raise StoreUnavailable() from error
    # A reader's connection the server dropped (a restart; readers are not pinged): a new
    # one, and the read once more, as the sessions' ping would have done before it.
    connection.invalidate()
    try:
        return _run(connection, function, args)
    except _UNAVAILABLE as error:
        raise StoreUnavailable() from error


def _run(connection, function, args: tuple):
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        return function(cursor, *args)
    finally:
        cursor.close()


def communities_near(connection, lat: float, lon: float, radius_m: float, columns: list[str]):
    """(metres, row of `columns`) for the communities within `radius_m` of a WGS-84 point,
    nearest first, read through the backend's spatial index (geo/community_index.py)."""
    return _on_cursor(connection, _of(connection).community_search(), lat, lon, radius_m,
                      columns)


def backup_unsupported(bind: Engine) -> str | None:
    """None where backup() works; else what to run instead."""
    return _of(bind).BACKUP_INSTEAD


def backup(bind: Engine, path) -> None:
    """Copy the database to the new file `path` while it serves."""
    _of(bind).backup(bind, path)

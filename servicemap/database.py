"""Engine, per-request session and schema migrations, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Pragmas on every SQLite connection: WAL lets readers run beside a writer, busy_timeout makes a
# writer wait rather than fail, and cache/mmap keep the R*Tree and table pages in memory.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA cache_size=-65536",
    "PRAGMA mmap_size=268435456",
)


def make_engine(url: str, statement_timeout_ms: int = 0) -> Engine:
    """An engine with the connection settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        # With the driver's own transaction handling off, SQLAlchemy must say BEGIN itself.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict = {"connect_timeout": 5}
    if statement_timeout_ms:
        # A bounded statement time, so a stuck query frees its worker and connection.
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling defers BEGIN; let SQLAlchemy emit it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(conn) -> None:
    # BEGIN IMMEDIATE for writes: a writer takes the write lock before it reads, so two
    # writers queue (busy_timeout) instead of the second failing on a stale snapshot.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}")


WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Database:
    """Binds an engine to each app and hands out one session per app context."""

    def init_app(self, app: Flask) -> None:
        config = app.config["SERVICEMAP"]
        url = config.database_url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url, config.statement_timeout_ms)
        app.extensions["servicemap.db"] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["servicemap.db"].kw["bind"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            factory = current_app.extensions["servicemap.db"]
            engine = factory.kw["bind"]
            if (engine.dialect.name == "sqlite" and has_request_context()
                    and request.method in WRITE_METHODS
                    and not g.get("write_lock_deferred")):
                g.db_session = factory(bind=engine.execution_options(sqlite_begin="IMMEDIATE"))
            else:
                g.db_session = factory()
        return g.db_session

    def begin_serialised_write(self, lock_id: int) -> None:
        """End the session's transaction and begin one that holds, until it ends, SQLite's
        write lock (BEGIN IMMEDIATE) or PostgreSQL's advisory lock `lock_id`, so that writers
        taking the same lock queue and each reads what the one before committed.

        For writers that read and check much before they write (imports): their requests
        set g.write_lock_deferred, so the lock is taken here and not at their first query.
        """
        session = self.session
        session.commit()  # nothing is pending: the caller has only read so far
        connection = session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(lock_id)))

    @staticmethod
    def _close_session(_exc) -> None:
        session = g.pop("db_session", None)
        if session is None:
            return
        try:
            session.close()
        except DBAPIError:
            # The connection died (a database restart): the request's answer is already a
            # 503; drop the connection instead of turning teardown into a 500.
            session.invalidate()


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic."""
    command.upgrade(alembic_config(engine), revision)


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


class InitLock:
    """A file lock so that several workers starting at once initialise the database once."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()

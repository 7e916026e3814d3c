"""Engine, per-request session and schema migrations, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from . import store

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The engine's settings per backend live in the store; kept importable from here.
make_engine = store.make_engine


class Database:
    """Binds an engine to each app and hands out one session per app context."""

    def init_app(self, app: Flask) -> None:
        config = app.config["SERVICEMAP"]
        engine = make_engine(config.database_url, config.statement_timeout_ms)
        app.extensions[store.EXTENSION] = sessionmaker(engine, expire_on_commit=False)
        app.extensions[store.READER] = make_engine(config.database_url,
                                                   config.statement_timeout_ms, reader=True)
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        return store.engine()

    @staticmethod
    def begin_as_writer(writer: bool = True) -> None:
        """Say, before the first query, whether this app context's session will write: a
        writer's transactions begin as the store's writers do (SQLite: BEGIN IMMEDIATE).

        The request layer decides (create_app: write methods); a writer that reads and checks
        much before it writes (imports) says False and takes begin_serialised_write later.
        """
        g.db_writer = writer

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            factory = current_app.extensions[store.EXTENSION]
            if g.get("db_writer"):
                g.db_session = factory(bind=store.write_bind(store.engine()))
            else:
                g.db_session = factory()
        return g.db_session

    @property
    def reader(self) -> Connection:
        """A plain connection in autocommit for this app context's reads that need no ORM and
        no snapshot across statements (the /nearest hot path): a tenth of the session's cost to
        take and give back. Separate from the session: a writer cannot read its own changes
        through it."""
        if "db_reader" not in g:
            # Each statement its own transaction: no BEGIN and ROLLBACK round trips to
            # PostgreSQL around a search (a tenth of its answer's time), and the reader
            # engine's connections are born so: nothing to set, reset or ping per request.
            g.db_reader = store.reader_engine().connect()
        return g.db_reader

    def begin_serialised_write(self, lock_id: int) -> None:
        """End the session's transaction and begin one that holds, until it ends, SQLite's
        write lock (BEGIN IMMEDIATE) or PostgreSQL's advisory lock `lock_id`, so that writers
        taking the same lock queue and each reads what the one before committed.

        For writers that read and check much before they write (imports): their requests
        say begin_as_writer(False), so the lock is taken here and not at their first query.
        """
        store.begin_write(self.session, lock_id)

    @staticmethod
    def _close_session(_exc) -> None:
        for held in (g.pop("db_session", None), g.pop("db_reader", None)):
            if held is None:
                continue
            try:
                held.close()
            except DBAPIError:
                # The connection died (a database restart): the request's answer is already
                # a 503; drop the connection instead of turning teardown into a 500.
                held.invalidate()


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

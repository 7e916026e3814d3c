"""Fixtures: an app with a fresh database per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL is reached through one variable, SERVICEMAP_TEST_DATABASE_URL, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_test; the database is dropped and
created anew at the start of the run. Without it the PostgreSQL half is skipped.
"""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import create_engine, make_url, text

from servicemap import create_app
from servicemap.config import Config
from servicemap.database import make_engine, upgrade
from servicemap.models import Base

PG_URL = os.environ.get("SERVICEMAP_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated, empty SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "servicemap.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """The test database, dropped and created anew once per run, then migrated."""
    if not PG_URL:
        pytest.skip("SERVICEMAP_TEST_DATABASE_URL is not set")
    url = make_url(PG_URL)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()
    engine = make_engine(PG_URL)
    upgrade(engine)
    engine.dispose()
    return PG_URL


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh, migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "servicemap.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path))
    yield app
    app.extensions["servicemap.db"].kw["bind"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_key(app):
    """make_key(role, districts) -> the Authorization header of a new key."""
    from servicemap.auth import create_key

    def make(role: str = "admin", districts: tuple[str, ...] = ()) -> dict[str, str]:
        with app.app_context():
            _key, secret = create_key(role, list(districts), f"test {role}")
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def admin(make_key):
    return make_key("admin")

"""Fixtures: an app with a fresh database per test, on SQLite and (when configured) PostgreSQL;
and the helpers the test modules share.

PostgreSQL is reached through one variable, SERVICEMAP_TEST_DATABASE_URL, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_test; the database is dropped and
created anew at the start of the run. Without it the PostgreSQL half is skipped.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime

import pytest
from geopy.distance import geodesic
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, make_url, text

from servicemap import create_app, hours, store
from servicemap.config import Config
from servicemap.database import make_engine, upgrade
from servicemap.models import Base

# No test is timed (the brief): on a shared 2-core machine a slow draw is load, not a bug.
settings.register_profile("servicemap", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("servicemap")

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
    store.dispose(app)


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


@pytest.fixture
def clock(monkeypatch):
    """clock("2026-10-01T10:00"): the moment answers take as now, in Shanghai."""
    def set_now(text: str) -> None:
        moment = hours.local_time(datetime.fromisoformat(text))
        monkeypatch.setattr(hours, "shanghai_now", lambda: moment)

    return set_now


# Helpers the test modules share (import them from here: `from .conftest import create`).

def meal_point(**overrides) -> dict:
    """A valid POST /facilities body (北碚区 天生街道 老年食堂), with fields overridden."""
    body = {
        "name": "北碚区天生街道老年食堂",
        "name_en": "Tiansheng Street Elder Canteen",
        "kind": "meal_point",
        "services": ["meals", "meal_delivery"],
        "ownership": "community",
        "inclusive": True,
        "address": "重庆市北碚区天生街道天生路100号",
        "district": "500109",
        "street": "天生街道",
        "location": {"lat": 29.8257, "lon": 106.4370},
        "phone": "023-68200000",
        "opening_hours": [{"days": [1, 2, 3, 4, 5], "opens": "10:30", "closes": "13:00"}],
        "capacity": 40,
        "vacancies": 3,
    }
    body.update(overrides)
    return body


def create(client, headers, **overrides) -> dict:
    """POST meal_point(**overrides); the 201 body."""
    response = client.post("/api/v1/facilities", json=meal_point(**overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """A problem+json of this status (naming `field` among its errors); its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body
    return body


# Three rows with the contract's Chinese headers and labels, as a 民政局 spreadsheet has them.
HEADER_ZH = ("外部编号,名称,类型,服务,性质,普惠,地址,区县代码,街道,纬度,经度,电话,"
             "开放时间,容量,空余\n")
ROWS_ZH = [
    "BB-1,北碚区天生街道老年食堂,助餐点,助餐;送餐上门,社区,是,重庆市北碚区天生路1号,500109,"
    "天生街道,29.8257,106.4370,023-68200001,1-5 10:30-13:00; 1-5 16:30-18:30,40,3\n",
    "BB-2,北碚区朝阳街道养老服务站,社区养老服务站,日间照料、助洁,公办,否,重庆市北碚区中山路2号,"
    "500109,朝阳街道,29.8290,106.4330,,周一至周五 08:00-17:30,20,0\n",
    "YZ-1,渝中区解放碑普惠幼儿园,普惠性幼儿园,学前教育,民办,是,重庆市渝中区民族路3号,500103,"
    "解放碑街道,29.5572,106.5773,,1-5 07:30-17:30,300,12\n",
]
CSV_ZH = HEADER_ZH + "".join(ROWS_ZH)


def post(client, headers, body: bytes, content_type: str, query: str = ""):
    """POST a file's bytes to /imports as the raw body."""
    return client.post(f"/api/v1/imports?{query}", data=body, content_type=content_type,
                       headers=headers)


def total(client) -> int:
    """How many facilities the registry lists."""
    return client.get("/api/v1/facilities").json["total"]


ORIGIN = (29.8257, 106.4370)  # 北碚区朝阳街道
NEAREST = "/api/v1/facilities/nearest"


def north_of(metres: float) -> dict:
    """A location `metres` due north of ORIGIN (WGS-84)."""
    point = geodesic(meters=metres).destination(ORIGIN, 0)
    return {"lat": point.latitude, "lon": point.longitude}


SEED_HEADER = "external_id,name,kind,district_code,address,lat,lon\n"


def seed_from(app, tmp_path, rows: str) -> None:
    """Point the app's seeds at a facilities.csv of these rows (under the seeds' header)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "facilities.csv").write_text(SEED_HEADER + rows, encoding="utf-8")
    app.config["SERVICEMAP"].seeds_dir = seeds

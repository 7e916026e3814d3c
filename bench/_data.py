"""Synthetic facilities, and loading them through the project's own bulk path.

Everything is seeded: the same --n and --seed give the same rows (ids included) every run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import text

from servicemap.database import make_engine, upgrade
from servicemap.registry import bulk_insert
from servicemap.vocabulary import KINDS, SERVICES

# The box the data and the query origins are drawn from (Chongqing, WGS-84 degrees).
LAT = (28.1, 32.2)
LON = (105.2, 110.2)
# The central districts (渝中, 江北, 南岸, 沙坪坝, 九龙坡 and their edges), where issue 11 asks
# for the HTTP figures' origins: about 0.4% of the box, so 4,000 of 1M facilities.
CENTRAL_LAT = (29.45, 29.75)
CENTRAL_LON = (106.35, 106.65)
MOBILE_SHARE = 0.01  # mobile bathing services, with a service area of 3-8 km
PROTECTED = {"servicemap_test", "servicemap_dev"}


# Weekly hours by kind (shared lists: the bulk path converts a repeated object once), and
# the share of facilities given each; the rest publish none. For --hours only.
DAYTIME = [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}]
HOURS_BY_KIND = {
    "elder_care_center": DAYTIME,
    "elder_care_station": [{"days": [1, 2, 3, 4, 5, 6], "opens": "08:30", "closes": "17:30"}],
    "meal_point": [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "10:30", "closes": "13:00"},
                   {"days": [1, 2, 3, 4, 5, 6, 7], "opens": "16:30", "closes": "18:30"}],
    "bathing_service": [{"days": [2, 4, 6], "opens": "09:00", "closes": "16:00"}],
    "care_home": [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}],
    "kindergarten": [{"days": [1, 2, 3, 4, 5], "opens": "07:30", "closes": "17:30"}],
    "nursery": [{"days": [1, 2, 3, 4, 5], "opens": "07:45", "closes": "18:15"}],
}
NIGHTS = [{"days": [5, 6], "opens": "20:00", "closes": "02:00"}]  # past midnight
HOURS_SHARE, NIGHTS_SHARE = 0.85, 0.03


def generate(n: int, seed: int, hours: bool = False) -> list[dict]:
    """n active facilities as `bulk_insert` records, uniform over the box; with `hours`,
    opening hours by kind (HOURS_BY_KIND) from a generator of their own, so every other
    field is the same either way."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(*LAT, n)
    lon = rng.uniform(*LON, n)
    kind_names, service_names = list(KINDS), list(SERVICES)
    kind = rng.integers(0, len(kind_names), n)
    mobile = rng.random(n) < MOBILE_SHARE
    kind[mobile] = kind_names.index("bathing_service")
    radius = rng.integers(3000, 8001, n)
    picks = rng.random((n, len(service_names))).argsort(axis=1)[:, :3]  # 3 distinct services
    how_many = rng.integers(1, 4, n)
    inclusive = rng.random(n) < 0.3
    capacity = rng.integers(10, 301, n)
    vacancies = (rng.random(n) * (capacity + 1)).astype(int)
    id_bytes = rng.bytes(16 * n)
    bathing = service_names.index("bathing")
    records = []
    for i in range(n):
        services = [service_names[s] for s in picks[i, : how_many[i]]]
        if mobile[i] and "bathing" not in services:
            services[0] = service_names[bathing]
        records.append({
            "id": uuid.UUID(bytes=id_bytes[16 * i: 16 * i + 16], version=4),
            "name": f"Bench facility {i}",
            "kind": kind_names[kind[i]],
            "lat": float(lat[i]), "lon": float(lon[i]),
            "location_precision": "exact", "location_source": "bench",
            "inclusive": bool(inclusive[i]),
            "capacity": int(capacity[i]), "vacancies": int(vacancies[i]),
            "service_radius_m": int(radius[i]) if mobile[i] else None,
            "services": services,
            "status": "active",
        })
    if hours:
        draw = np.random.default_rng(seed + 2).random(n)
        for record, share in zip(records, draw.tolist(), strict=True):
            if share < NIGHTS_SHARE:
                record["opening_hours"] = NIGHTS
            elif share < HOURS_SHARE:
                record["opening_hours"] = HOURS_BY_KIND[record["kind"]]
    return records


def origins(count: int, seed: int, lat: tuple = LAT, lon: tuple = LON) -> list[tuple]:
    """Query points, uniform over the same box or the one given (a seed of their own)."""
    rng = np.random.default_rng(seed + 1)
    return list(zip(rng.uniform(*lat, count).tolist(), rng.uniform(*lon, count).tolist(),
                    strict=True))


def load_sqlite(path: Path, records: list[dict]) -> dict:
    """A fresh SQLite file, migrated and filled by bulk_insert; seconds and bytes."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        count = bulk_insert(connection, records)
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    engine.dispose()
    return {"rows": count, "seconds": seconds, **sqlite_size(path)}


def sqlite_size(path: Path) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = connection.exec_driver_sql("SELECT count(*) FROM facility").scalar_one()
    engine.dispose()
    size = sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal") if os.path.exists(f"{path}{s}"))
    return {"bytes": size, "count": rows}


def _admin_url(url: str) -> tuple[str, str]:
    """(libpq URL of the maintenance database, name of the bench database)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    base, name = plain.rsplit("/", 1)
    if name in PROTECTED:
        raise SystemExit(f"refusing to touch database {name!r}")
    return f"{base}/postgres", name


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def load_postgres(url: str, records: list[dict]) -> dict:
    """A fresh PostgreSQL database, migrated and filled by bulk_insert; seconds and bytes."""
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        count = bulk_insert(connection, records)
    seconds = time.perf_counter() - started
    engine.dispose()
    started = time.perf_counter()
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return {"rows": count, "seconds": seconds, "vacuum_seconds": time.perf_counter() - started,
            **postgres_size(url)}


def postgres_size(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
        rows = connection.execute(text("SELECT count(*) FROM facility")).scalar()
    engine.dispose()
    return {"bytes": size, "count": rows}


def bench_arguments(doc: str, *, queries: int, what: str, sqlite_name: str,
                    pg_url: str) -> argparse.ArgumentParser:
    """The options every bench over generated facilities shares; callers add their own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="facilities to generate")
    parser.add_argument("--queries", type=int, default=queries, help=f"timed queries per {what}")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--pg-url", default=pg_url)
    parser.add_argument("--sqlite-path", type=Path,
                        default=Path(tempfile.gettempdir()) / "servicemap-bench" / sqlite_name)
    parser.add_argument("--reuse", action="store_true",
                        help="skip generating and loading: use the databases already there")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    return parser

"""What the hours in PostgreSQL's class index (migration 0007) cost writers.

    .venv/bin/python bench/class_index_writes.py [--n 100000] [--pg-url URL]

Loads --n seeded facilities with opening hours (bench/_data.py, as filters.py) by
`registry.bulk_insert` into a fresh PostgreSQL database migrated to 0006, then to 0007, twice
each in turns; after each load, one UPDATE changes every row's Monday mask (each row's class
index entry is written again). Prints seconds and the class index's size. See bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

from servicemap.database import make_engine, upgrade  # noqa: E402
from servicemap.registry import bulk_insert  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_bench_class_writes"


def fresh(url: str) -> None:
    admin, name = _data._admin_url(url)  # refuses the test and dev databases
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    records = _data.generate(args.n, args.seed, hours=True)
    print("| revision | bulk_insert s | UPDATE every row's mask s | class index |")
    print("|---|---|---|---|")
    for revision in ("0006", "0007", "0006", "0007"):
        fresh(args.pg_url)
        engine = make_engine(args.pg_url)
        upgrade(engine, revision)
        started = time.perf_counter()
        with engine.begin() as connection:
            bulk_insert(connection, records)
        load = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(text("UPDATE facility SET open_slots_1 = open_slots_1 # 1"))
        update = time.perf_counter() - started
        with engine.connect() as connection:
            size = connection.execute(text(
                "SELECT pg_size_pretty(pg_relation_size('ix_facility_class_geog'))")).scalar()
        engine.dispose()
        print(f"| {revision} | {load:.1f} | {update:.1f} | {size} |", flush=True)
    admin, name = _data._admin_url(args.pg_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

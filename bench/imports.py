"""Import benchmark: N facility rows with coordinates, as a CSV file, through the same path
as POST /api/v1/imports and `flask import`, on a fresh embedded SQLite database.

    .venv/bin/python bench/imports.py [--n 100000] [--pg-url URL]

Prints one table: rows, seconds, rows per second, for a dry run, a real import of new rows,
and a re-import of the same file (every row unchanged).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from pathlib import Path

from servicemap import create_app
from servicemap.config import Config
from servicemap.database import upgrade
from servicemap.extensions import db
from servicemap.geo.gazetteer import district_readings
from servicemap.importing import import_facilities
from servicemap.vocabulary import KINDS, SERVICES

HEADER = ["external_id", "name", "kind", "services", "inclusive", "address", "district_code",
          "lat", "lon", "opening_hours", "capacity", "vacancies"]


def point_in_chongqing(rng: random.Random) -> tuple[float, float, str]:
    """A point drawn uniformly from the box around Chongqing until one lies in the city, and
    its district: an import refuses points outside it and districts their points are not in."""
    while True:
        lat, lon = round(rng.uniform(28.1, 32.2), 6), round(rng.uniform(105.2, 110.2), 6)
        district = next(district_readings(lat, lon), None)
        if district is not None:
            return lat, lon, district


def make_csv(n: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    kinds, services = sorted(KINDS), sorted(SERVICES)
    for i in range(n):
        capacity = rng.randint(10, 200)
        lat, lon, district = point_in_chongqing(rng)
        writer.writerow([
            f"BENCH-{i:07d}", f"测试设施{i}", rng.choice(kinds),
            ";".join(rng.sample(services, rng.randint(1, 3))), rng.choice(["true", "false"]),
            f"重庆市测试路{i}号", district, f"{lat:.6f}", f"{lon:.6f}",
            "1-5 08:00-17:30; 6 09:00-12:00", capacity, rng.randint(0, capacity),
        ])
    return buffer.getvalue().encode("utf-8")


def run(database_url: str, data: bytes, instance: Path) -> list[tuple[str, float]]:
    app = create_app(Config(database_url=database_url, auto_init=False, instance_dir=instance,
                            log_level="WARNING"))
    timings = []
    with app.app_context():
        upgrade(db.engine)
        for label, dry_run in (("dry run", True), ("import (all new)", False),
                               ("re-import (all unchanged)", False)):
            start = time.perf_counter()
            report = import_facilities(data, "csv", dry_run=dry_run)
            timings.append((label, time.perf_counter() - start))
            assert report.accepted, report.invalid[:3]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pg-url", help="also run on this (empty) PostgreSQL database")
    args = parser.parse_args()
    data = make_csv(args.n)
    instance = Path(tempfile.mkdtemp(prefix="servicemap-bench-"))
    runs = [("SQLite", f"sqlite:///{instance / 'bench.sqlite3'}")]
    if args.pg_url:
        runs.append(("PostgreSQL", args.pg_url))
    print(f"{'backend':<11} {'step':<27} {'rows':>8} {'seconds':>8} {'rows/s':>8}")
    for backend, url in runs:
        for label, seconds in run(url, data, instance):
            print(f"{backend:<11} {label:<27} {args.n:>8} {seconds:>8.1f} {args.n / seconds:>8.0f}")
    print("target: 100,000 rows with coordinates import in under 60 s on SQLite")


if __name__ == "__main__":
    main()

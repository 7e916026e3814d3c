"""Benchmark of the nearest search's filters: each combination against the plain query.

    .venv/bin/python bench/filters.py [--n 1000000] [--queries 200] [--pg-url URL] [--reuse]

Generates --n seeded synthetic facilities with opening hours by kind (bench/_data.py, --hours),
loads them with `registry.bulk_insert` into a fresh SQLite file and a fresh PostgreSQL database,
then times `nearest()` at radius 50 km and limit 100 from the same seeded origins for every
combination of filters, combinations taking turns chunk by chunk. Prints median and p99 per
backend and the ratio of each median to the plain query's (same radius and limit, no filter).
The two backends' answers are compared on every query. See bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from nearest import machine, provenance, timed  # noqa: E402

from servicemap.database import make_engine  # noqa: E402
from servicemap.geo.spatial import NearestQuery
from servicemap.store import nearest  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_bench_filters"
RADIUS_M, LIMIT = 50_000.0, 100
SUNDAY_3AM = datetime(2026, 11, 29, 3, 0)    # the query: only 24-hour and night places
MONDAY_11AM = datetime(2026, 11, 23, 11, 0)
# A programme as the eligibility catalogue hands it to NearestQuery.delivering.
PRESCHOOL = {"kinds": ["kindergarten", "nursery"], "services": ["preschool", "nursery_class"],
             "inclusive": True}
ALL_BUT_HOURS = {"kinds": ("meal_point",), "services": ("meals",), "has_vacancy": True,
                 "inclusive": True}

COMBINATIONS: dict[str, dict] = {
    "plain (no filter)": {},
    "kind=meal_point": {"kinds": ("meal_point",)},
    "service=bathing": {"services": ("bathing",)},
    "inclusive=true": {"inclusive": True},
    "has_vacancy=true": {"has_vacancy": True},
    "open_at Mon 11:00": {"open_at": MONDAY_11AM},
    "open_at Sun 03:00": {"open_at": SUNDAY_3AM},
    "kind+service+vacancy+inclusive": ALL_BUT_HOURS,
    "program (preschool, 普惠)": {"program": PRESCHOOL},
    "all four + open_at Mon 11:00": {**ALL_BUT_HOURS, "open_at": MONDAY_11AM},
    "all four + open_at Sun 03:00": {**ALL_BUT_HOURS, "open_at": SUNDAY_3AM},
    "program + vacancy + open_at Sun 03:00": {"program": PRESCHOOL, "has_vacancy": True,
                                              "open_at": SUNDAY_3AM},
}


def parse_args() -> argparse.Namespace:
    parser = _data.bench_arguments(__doc__, queries=200, what="combination",
                                   sqlite_name="filters.sqlite3", pg_url=DEFAULT_PG)
    return parser.parse_args()


def query_for(lat: float, lon: float, filters: dict) -> NearestQuery:
    filters = dict(filters)
    program = filters.pop("program", None)
    query = NearestQuery(lat, lon, RADIUS_M, LIMIT, **filters)
    return query.delivering(program) if program else query


def searches(connection, answers: dict) -> dict:
    """One search function per combination; each keeps its answers for the comparison."""
    def make(name: str, filters: dict):
        out = answers.setdefault(name, [])

        def search(lat: float, lon: float) -> None:
            out.append([(hit.distance_m, hit.id) for hit in
                        nearest(connection, query_for(lat, lon, filters))])
        return search
    return {name: make(name, filters) for name, filters in COMBINATIONS.items()}


def main() -> None:
    args = parse_args()
    print(f"machine: {machine()}; n={args.n:,}, queries={args.queries}, seed={args.seed}")
    print(provenance())
    if not args.reuse:
        started = time.perf_counter()
        records = _data.generate(args.n, args.seed, hours=True)
        print(f"generated {len(records):,} records in {time.perf_counter() - started:.1f} s")
        load = _data.load_sqlite(args.sqlite_path, records)
        print(f"load SQLite : {load['count']:,} rows in {load['seconds']:.1f} s")
        if not args.skip_pg:
            load = _data.load_postgres(args.pg_url, records)
            print(f"load PostGIS: {load['count']:,} rows in {load['seconds']:.1f} s")
        del records

    backends = {"SQLite": f"sqlite:///{args.sqlite_path}"}
    if not args.skip_pg:
        backends["PostGIS"] = args.pg_url
    origins = _data.origins(args.queries, args.seed)
    warm = _data.origins(20, args.seed + 100)
    times, answers = {}, {}
    for backend, url in backends.items():
        engine = make_engine(url)
        with engine.connect() as connection:
            timed(searches(connection, {}), warm, chunk=10)
            answers[backend] = {}
            times[backend] = timed(searches(connection, answers[backend]), origins, chunk=20)
        engine.dispose()

    print(f"\nradius {RADIUS_M / 1000:.0f} km, limit {LIMIT}, {args.queries} random origins, "
          f"ms per query; x plain = median / the plain query's median on the same backend")
    header = "| filters | hits (mean) |"
    rule = "|---|---|"
    for backend in backends:
        header += f" {backend} median | {backend} p99 | {backend} x plain |"
        rule += "---|---|---|"
    print(header + "\n" + rule)
    worst = {}
    first = next(iter(backends))
    for name in COMBINATIONS:
        hits = np.mean([len(answer) for answer in answers[first][name]])
        line = f"| {name} | {hits:.1f} |"
        for backend in backends:
            t = times[backend][name]
            ratio = np.median(t) / np.median(times[backend]["plain (no filter)"])
            worst[backend] = max(worst.get(backend, (0, "")), (ratio, name))
            line += f" {np.median(t):.2f} | {np.percentile(t, 99):.2f} | {ratio:.1f} |"
        print(line)
    print()
    for backend, (ratio, name) in worst.items():
        print(f"worst {backend}: {name}, {ratio:.1f}x plain "
              f"[target <= 10x: {'met' if ratio <= 10 else 'MISSED'}]")
    if len(backends) == 2:
        same = sum(answers["SQLite"][name][i] == answers["PostGIS"][name][i]
                   for name in COMBINATIONS for i in range(args.queries))
        print(f"SQLite and PostGIS answers identical: {same}/{len(COMBINATIONS) * args.queries}")


if __name__ == "__main__":
    main()

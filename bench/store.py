"""Bulk insert and nearest search through the store, at --n synthetic facilities.

    .venv/bin/python bench/store.py [--n 100000] [--queries 2000] [--pg-url URL] [--tag NAME]

Loads the facilities of bench/nearest.py (same generator, same seed) by `registry.bulk_insert`
into a fresh SQLite file and a fresh PostgreSQL database (dropped and re-created), twice each,
and times the load (best of two); then times unfiltered nearest searches (radius 5 km, limit
10) on one connection after 200 warm-up searches. One line per backend, so that two checkouts
run the same way compare line by line (issue 10's store refactor against the code before it:
run this file with PYTHONPATH set to the other checkout, from inside it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

from servicemap.database import make_engine  # noqa: E402
from servicemap.geo.spatial import NearestQuery  # noqa: E402

try:
    from servicemap.store import nearest  # noqa: E402
except ImportError:  # the code before issue 10
    from servicemap.geo.spatial import nearest  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--tag", default="this")
    args = parser.parse_args()
    records = _data.generate(args.n, args.seed)
    points = _data.origins(args.queries, args.seed)
    path = Path(tempfile.gettempdir()) / "servicemap-bench" / f"store-{args.tag}.sqlite3"
    print(f"{'code':8} {'backend':10} {'bulk_insert s':>14} {'nearest µs':>11}")
    for backend in ("sqlite", "postgresql"):
        loads = []
        for _ in range(2):
            if backend == "sqlite":
                loads.append(_data.load_sqlite(path, records)["seconds"])
                url = f"sqlite:///{path}"
            else:
                loads.append(_data.load_postgres(args.pg_url, records)["seconds"])
                url = args.pg_url
        engine = make_engine(url)
        with engine.connect() as connection:
            for lat, lon in points[:200]:
                nearest(connection, NearestQuery(lat=lat, lon=lon))
            started = time.perf_counter()
            for lat, lon in points:
                nearest(connection, NearestQuery(lat=lat, lon=lon))
            per_query = (time.perf_counter() - started) / len(points) * 1e6
        engine.dispose()
        print(f"{args.tag:8} {backend:10} {min(loads):14.2f} {per_query:11.0f}", flush=True)


if __name__ == "__main__":
    main()

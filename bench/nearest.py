"""Benchmark of the nearest-facility search: the store against raw SQL, a k-d tree and geopy.

    .venv/bin/python bench/nearest.py [--n 1000000] [--queries 2000] [--pg-url URL] [--skip-http]

Generates --n seeded synthetic facilities over Chongqing's box, loads them with the project's
own `registry.bulk_insert` into a fresh SQLite file and a fresh PostgreSQL database (both
migrated by `database.upgrade`), then times k=10, r=5 km searches from the same seeded random
origins with every method, interleaved in chunks so that a noisy neighbour hits all methods
alike. Ratios are from this one run. Optionally loads the API under gunicorn (2 workers).
See bench/README.md for the methods, the targets and a recorded run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import _http  # noqa: E402
import _methods  # noqa: E402

from servicemap.database import make_engine  # noqa: E402
from servicemap.geo.spatial import Densities, NearestQuery  # noqa: E402
from servicemap.store import nearest  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_bench"
NEAREST_PATH = "/api/v1/facilities/nearest?lat={:.6f}&lon={:.6f}"
FLOOR_PATH = "/bench/floor"


def parse_args() -> argparse.Namespace:
    parser = _data.bench_arguments(__doc__, queries=2000, what="method",
                                   sqlite_name="bench.sqlite3", pg_url=DEFAULT_PG)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--http-seconds", type=float, default=15.0, help="per endpoint")
    parser.add_argument("--check", type=int, default=50, help="origins checked by brute force")
    return parser.parse_args()


def store_search(connection):
    def search(lat: float, lon: float) -> list:
        return [hit.id for hit in nearest(connection, NearestQuery(lat, lon, 5000.0, 10))]
    return search


def timed(methods: dict, origins: list, chunk: int = 100) -> dict[str, np.ndarray]:
    """Milliseconds per query for each method, methods taking turns chunk by chunk."""
    times = {name: [] for name in methods}
    order = list(methods)
    clock = time.perf_counter_ns
    for start in range(0, len(origins), chunk):
        for name in order:
            search, out = methods[name], times[name]
            for lat, lon in origins[start:start + chunk]:
                began = clock()
                search(lat, lon)
                out.append(clock() - began)
        order = order[1:] + order[:1]
    return {name: np.array(values) / 1e6 for name, values in times.items()}


def as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    memory = int(open("/proc/meminfo").readline().split()[1]) / 1024 ** 2
    return f"{os.cpu_count()} CPUs ({cpu}), {memory:.1f} GiB RAM, {datetime.date.today()}"


def provenance() -> str:
    """The commit, and whether servicemap/ differs from it (the library is what is measured)."""
    root = Path(__file__).resolve().parent.parent
    def git(*argv):
        return subprocess.run(["git", *argv], cwd=root, capture_output=True, text=True).stdout
    dirty = git("status", "--porcelain", "--", "servicemap").split()[1::2]
    return f"commit {git('rev-parse', '--short', 'HEAD').strip()}, servicemap/ " + (
        f"MODIFIED: {' '.join(dirty)}" if dirty else "as committed")


def main() -> None:
    args = parse_args()
    use_pg = not args.skip_pg
    print(f"machine: {machine()}; n={args.n:,}, queries={args.queries}, seed={args.seed}")
    print(provenance())

    # -- load ---------------------------------------------------------------------------
    loads = {}
    if not args.reuse:
        started = time.perf_counter()
        records = _data.generate(args.n, args.seed)
        print(f"generated {len(records):,} records in {time.perf_counter() - started:.1f} s")
        loads["SQLite"] = _data.load_sqlite(args.sqlite_path, records)
        if use_pg:
            loads["PostGIS"] = _data.load_postgres(args.pg_url, records)
        del records
    else:
        loads["SQLite"] = {"seconds": float("nan"), **_data.sqlite_size(args.sqlite_path)}
        if use_pg:
            loads["PostGIS"] = {"seconds": float("nan"), **_data.postgres_size(args.pg_url)}
    per_million = 1_000_000 / args.n
    for name, load in loads.items():
        extra = f" (+ VACUUM ANALYZE {load['vacuum_seconds']:.1f} s)" if "vacuum_seconds" in load \
            else ""
        print(f"load {name:8s}: {load['count']:,} rows in {load['seconds']:.1f} s{extra}, "
              f"{load['seconds'] * per_million:.1f} s per 1M [target < 60 s]; "
              f"size {load['bytes'] / 2 ** 20:.0f} MiB")

    # -- the methods ----------------------------------------------------------------------
    points = _methods.Points(str(args.sqlite_path))
    print(f"cKDTree over {len(points.ids):,} points built in {points.build_seconds:.2f} s")
    # The reader engine, as /nearest searches (autocommit: no transaction around a search).
    sqlite_engine = make_engine(f"sqlite:///{args.sqlite_path}", reader=True)
    sqlite_connection = sqlite_engine.connect()
    raw_rtree, raw_sqlite = _methods.make_raw_rtree(str(args.sqlite_path))
    learnt_rtree, learnt_sqlite = _methods.make_raw_rtree(str(args.sqlite_path), Densities())
    methods = {"store: SQLite": store_search(sqlite_connection), "raw R*Tree SQL": raw_rtree,
               "raw R*Tree, learnt first box": learnt_rtree}
    if use_pg:
        pg_engine = make_engine(args.pg_url, reader=True)
        pg_connection = pg_engine.connect()
        raw_knn, raw_pg = _methods.make_raw_knn(_data.libpq_url(args.pg_url))
        raw_areas, raw_pg_areas = _methods.make_raw_knn(_data.libpq_url(args.pg_url),
                                                        _methods.KNN_AREAS_SQL)
        methods |= {"store: PostGIS": store_search(pg_connection),
                    "raw PostGIS KNN (psycopg)": raw_knn,
                    "raw KNN + service areas": raw_areas}
    methods["scipy cKDTree (in memory)"] = points.kdtree_search

    origins = _data.origins(args.queries, args.seed)
    timed(methods, _data.origins(300, args.seed + 100))  # warm caches, prepare statements
    times = timed(methods, origins)
    geopy_s = _methods.geopy_loop_seconds(points, len(points.ids))

    # -- correctness in passing -------------------------------------------------------------
    agree = {name: 0 for name in methods if not name.startswith("scipy")}
    checked = origins[: args.check]
    for lat, lon in checked:
        truth = points.brute_force(lat, lon)
        for name in agree:
            agree[name] += [as_uuid(v) for v in methods[name](lat, lon)] == truth

    # -- the table --------------------------------------------------------------------------
    medians = {name: float(np.median(t)) for name, t in times.items()}
    targets = {"store: SQLite": "< 0.2 ms and <= 1.2x raw R*Tree",
               "store: PostGIS": "<= 1.2x raw KNN"}
    print(f"\nk=10, r=5 km, {args.queries} random origins, n={len(points.ids):,}, ms per query")
    print(f"| {'method':34s} | {'median':>9s} | {'p99':>9s} | target")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 11}|{'-' * 30}")
    for name, t in times.items():
        print(f"| {name:34s} | {medians[name]:9.3f} | {np.percentile(t, 99):9.3f} | "
              f"{targets.get(name, '')}")
    print(f"| {'geopy geodesic loop (extrapolated)':34s} | {geopy_s * 1e3:9.0f} | "
          f"{'':>9s} | (one query over all n)")
    ratio_sqlite = medians["store: SQLite"] / medians["raw R*Tree SQL"]
    verdict = "met" if ratio_sqlite <= 1.2 and medians["store: SQLite"] < 0.2 else "MISSED"
    print(f"\nratio store SQLite / raw R*Tree:  {ratio_sqlite:.2f}x "
          f"(median {medians['store: SQLite']:.3f} ms) [target <= 1.2x and < 0.2 ms: {verdict}]")
    same_start = medians["store: SQLite"] / medians["raw R*Tree, learnt first box"]
    print(f"ratio store SQLite / raw R*Tree with the store's learnt first box: "
          f"{same_start:.2f}x [{'met' if same_start <= 1.2 else 'MISSED'}]")
    if use_pg:
        ratio_pg = medians["store: PostGIS"] / medians["raw PostGIS KNN (psycopg)"]
        print(f"ratio store PostGIS / raw KNN:    {ratio_pg:.2f}x "
              f"[target <= 1.2x: {'met' if ratio_pg <= 1.2 else 'MISSED'}]")
        same_work = medians["store: PostGIS"] / medians["raw KNN + service areas"]
        print(f"ratio store PostGIS / raw KNN + service areas (the same statement's work, no "
              f"geodesic): {same_work:.2f}x")
    for name, count in agree.items():
        note = "" if name.startswith("store") else " (informational: spherical distances" + (
            ", mobile areas unranked)" if "areas" in name else ", no mobile areas)"
            if "KNN" in name else ")")
        print(f"agree with brute force (cKDTree over-fetch + geopy geodesic), {name}: "
              f"{'yes' if count == len(checked) else 'no'} ({count}/{len(checked)}){note}")

    sqlite_connection.close()
    raw_sqlite.close()
    learnt_sqlite.close()
    if use_pg:
        pg_connection.close()
        raw_pg.close()
        raw_pg_areas.close()
        pg_engine.dispose()
    sqlite_engine.dispose()

    # -- HTTP -------------------------------------------------------------------------------
    if not args.skip_http:
        central = _data.origins(args.queries, args.seed, _data.CENTRAL_LAT, _data.CENTRAL_LON)
        origin_sets = {"central districts": central, "whole box": origins}
        paths = {label: [NEAREST_PATH.format(lat, lon) for lat, lon in points]
                 for label, points in origin_sets.items()}
        backends = {"SQLite": f"sqlite:///{args.sqlite_path.resolve()}"}
        if use_pg:
            backends["PostGIS"] = args.pg_url
        for name, url in backends.items():
            http_run(name, url, paths, args.http_seconds)


def http_run(name: str, url: str, paths: dict[str, list[str]], seconds: float,
             rounds: int = 3) -> None:
    """/healthz and /nearest from each set of origins, taking turns round by round (a noisy
    neighbour then slows each alike): req/s over all rounds, p50 and p99 their medians."""
    turn = max(1.0, round(seconds / rounds))
    # The floor (bench/floor_app.py): the raw index query and a /nearest answer's bytes.
    floor = [path.replace(NEAREST_PATH.split("?")[0], FLOOR_PATH)
             for path in paths["central districts"]]
    with _http.gunicorn(url, app="floor_app:app") as (port, master):
        for some in [*paths.values(), floor]:
            _http.load(port, some, 3)  # warm up both workers
        runs = {"/healthz": [], f"{FLOOR_PATH}, central districts": [],
                **{f"/nearest, {label}": [] for label in paths}}
        for _ in range(rounds):
            runs["/healthz"].append(_http.load(port, ["/healthz"], turn))
            runs[f"{FLOOR_PATH}, central districts"].append(_http.load(port, floor, turn))
            for label, some in paths.items():
                runs[f"/nearest, {label}"].append(_http.load(port, some, turn))
        rss = [_http.rss_mb(pid) for pid in _http.workers_of(master)]
    print(f"\nHTTP, gunicorn -w 2, {name}, client {runs['/healthz'][0]['client']}, {rounds} "
          f"rounds of {turn:.0f} s each")
    print(f"| {'endpoint':30s} | {'req/s':>8s} | {'p50 ms':>7s} | {'p99 ms':>7s} | "
          "of /healthz | p99/p50 | errors")
    health = float(np.mean([run["rps"] for run in runs["/healthz"]]))
    for label, results in runs.items():
        rps = float(np.mean([run["rps"] for run in results]))
        p50 = float(np.median([run["p50"] for run in results]))
        p99 = float(np.median([run["p99"] for run in results]))
        errors = sum(run["errors"] for run in results)
        sockets = " ".join(run["socket_errors"] for run in results if run["socket_errors"])
        print(f"| {label:30s} | {rps:8.0f} | {p50:7.2f} | {p99:7.2f} | {rps / health:10.0%} | "
              f"{p99 / p50:7.1f} | {errors} {sockets}")
    rate = {label: float(np.mean([run["rps"] for run in results]))
            for label, results in runs.items()}
    of_floor = rate["/nearest, central districts"] / rate[f"{FLOOR_PATH}, central districts"]
    print(f"/nearest, central districts, at {of_floor:.0%} of {FLOOR_PATH} (the raw index "
          "query and the same bytes, through the same hooks)")
    print("targets: /nearest >= 70% of /healthz, p99 < 3x p50")

    def each(field: str) -> str:
        return ", ".join(f"{r[field]:.0f}" for r in rss)

    worst = max(r["RssAnon"] for r in rss)
    print(f"worker memory after load: RssAnon (private) {each('RssAnon')} MB [target < 150 MB: "
          f"{'met' if worst < 150 else 'MISSED'}]; VmRSS {each('VmRSS')} MB, of which RssFile "
          f"(mapped files, on SQLite mostly the database through its mmap_size pragma: shared "
          f"page cache) {each('RssFile')} MB")


if __name__ == "__main__":
    main()

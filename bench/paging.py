"""Benchmark of paging at scale: page 1 against a deep page by number and by cursor, the cost
of `total`, and worker memory under a mixed HTTP load.

    .venv/bin/python bench/paging.py [--n 1000000] [--queries 40] [--pg-url URL] [--reuse]
                                     [--skip-pg] [--skip-http]

Loads --n seeded synthetic facilities (bench/_data.py, the project's own bulk path) into a
fresh SQLite file and a fresh PostgreSQL database, then, in-process through the Flask test
client, times on each backend side by side (turns interleaved, so a noisy neighbour hits all
alike): GET /facilities page 1; a deep page (random positions in the second half of the list)
by `page` (OFFSET) and the same pages by `cursor`; the same for HSDS /services; GET by id as
the floor; and the count itself: count(*) of the whole list against paging.count_rows (exact
up to SERVICEMAP_COUNT_EXACT_MAX, then estimated). Then runs gunicorn -w 2 under a mixed load
(lists and deep cursor pages, nearest, GET by id, HSDS) and reports each worker's private
memory (RssAnon) after it. See bench/README.md for a recorded run.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import _http  # noqa: E402
from nearest import machine, provenance  # noqa: E402

from servicemap import create_app, store  # noqa: E402
from servicemap.config import Config  # noqa: E402
from servicemap.extensions import db  # noqa: E402
from servicemap.models import Facility  # noqa: E402
from servicemap.paging import count_rows  # noqa: E402
from servicemap.registry import filtered  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_bench_paging"
PER_PAGE = 20
MEMORY_TARGET_MB = 150


def parse_args():
    parser = _data.bench_arguments(__doc__, queries=40, what="case",
                                   sqlite_name="paging.sqlite3", pg_url=DEFAULT_PG)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--http-seconds", type=float, default=20.0)
    return parser.parse_args()


def deep_pages(n: int, count: int, seed: int) -> list[int]:
    """Page numbers in the second half of the list (seeded)."""
    rng = random.Random(seed)
    last = n // PER_PAGE
    return [rng.randint(last // 2, last) for _ in range(count)]


def cursors_for(client, path: str, pages: list[int]) -> dict[int, str]:
    """The cursor that starts each page: the next_cursor of the page before (untimed)."""
    found = {}
    for page in pages:
        body = client.get(f"{path}?per_page={PER_PAGE}&page={page - 1}").json
        found[page] = body["next_cursor"]
    return found


def cases(client, n: int, queries: int, seed: int, records: list[dict]) -> dict[str, list[str]]:
    """Each timed case's request paths, one per turn."""
    pages = deep_pages(n, queries, seed)
    rng = random.Random(seed + 5)
    paths = {"GET /facilities/{id} (floor)": [
        f"/api/v1/facilities/{records[rng.randrange(len(records))]['id']}" for _ in pages]}
    for name, path in (("/facilities", "/api/v1/facilities"),
                       ("HSDS /services", "/api/v1/hsds/services")):
        cursors = cursors_for(client, path, pages)
        paths[f"{name} page 1"] = [f"{path}?per_page={PER_PAGE}"] * len(pages)
        paths[f"{name} deep, by page"] = [f"{path}?per_page={PER_PAGE}&page={p}" for p in pages]
        paths[f"{name} deep, by cursor"] = [f"{path}?per_page={PER_PAGE}&cursor={cursors[p]}"
                                            for p in pages]
    paths["/facilities?kind=… page 1"] = [f"/api/v1/facilities?kind={r['kind']}" for r in
                                          (records[rng.randrange(len(records))] for _ in pages)]
    return paths


def timed_requests(client, paths: dict[str, list[str]]) -> dict[str, list[float]]:
    """Milliseconds per request, the cases taking turns."""
    times: dict[str, list[float]] = {name: [] for name in paths}
    for turn in range(len(next(iter(paths.values())))):
        for name, each in paths.items():
            started = time.perf_counter()
            response = client.get(each[turn])
            times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])
    return times


def timed_counts(app, queries: int) -> dict[str, list[float]]:
    """The count of the whole list: count(*) against count_rows, turn by turn."""
    from sqlalchemy import func, select

    times: dict[str, list[float]] = {"count(*) of the list (before)": [],
                                     "count_rows (exact to 10k, then estimated)": []}
    with app.app_context():
        query = filtered({})
        for _ in range(max(5, queries // 4)):
            started = time.perf_counter()
            exact = db.session.scalar(select(func.count()).select_from(query.subquery()))
            times["count(*) of the list (before)"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            estimate, _ = count_rows(query, Facility.seq)
            times["count_rows (exact to 10k, then estimated)"].append(
                (time.perf_counter() - started) * 1000)
    print(f"  count(*) = {exact:,}; count_rows = {estimate:,} "
          f"({(estimate - exact) / exact:+.2%})")
    return times


def table(title: str, times: dict[str, list[float]], floor: float) -> None:
    print(f"\n{title}\n| {'case':44s} | median ms |  p99 ms | × floor |\n|{'-' * 46}|"
          f"-----------|---------|---------|")
    for name, values in times.items():
        ordered = sorted(values)
        median = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"| {name:44s} | {median:9.2f} | {p99:7.2f} | {median / floor:7.1f} |")


def http_memory(name: str, url: str, paths: list[str], seconds: float) -> None:
    with _http.gunicorn(url) as (port, master):
        result = _http.load(port, paths, seconds)
        workers = _http.workers_of(master)
        memory = [_http.rss_mb(pid) for pid in workers]
    verdict = "met" if max(m["RssAnon"] for m in memory) < MEMORY_TARGET_MB else "MISSED"
    print(f"\nHTTP mixed load, gunicorn -w 2, {name}, {result['client']}, {seconds:.0f} s: "
          f"{result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms, "
          f"{result['errors']} errors")
    def each(field: str) -> str:
        return ", ".join(f"{m[field]:.0f}" for m in memory)

    print(f"worker RssAnon after load: {each('RssAnon')} MB [target < {MEMORY_TARGET_MB} MB: "
          f"{verdict}]; VmRSS {each('VmRSS')} MB, RssFile {each('RssFile')} MB")


def mixed_paths(client, records: list[dict], n: int, seed: int) -> list[str]:
    """Lists (page 1, filtered, deep by cursor), nearest, GET by id and HSDS, shuffled."""
    rng = random.Random(seed + 7)
    pages = deep_pages(n, 40, seed + 8)
    deep = list(cursors_for(client, "/api/v1/facilities", pages).values())
    paths = []
    for turn in range(400):
        record = records[rng.randrange(len(records))]
        lat, lon = _data.origins(1, seed + turn)[0]
        paths += [f"/api/v1/facilities/nearest?lat={lat:.6f}&lon={lon:.6f}",
                  f"/api/v1/facilities/{record['id']}",
                  f"/api/v1/facilities?per_page={PER_PAGE}&cursor={deep[turn % len(deep)]}",
                  f"/api/v1/facilities?kind={record['kind']}&per_page=50",
                  f"/api/v1/hsds/services?per_page={PER_PAGE}&cursor={deep[turn % len(deep)]}"]
    rng.shuffle(paths)
    return paths


def main() -> None:
    args = parse_args()
    print(f"machine: {machine()}; n={args.n:,}, queries={args.queries}, seed={args.seed}")
    print(provenance())
    records = _data.generate(args.n, args.seed)
    backends = [] if args.skip_sqlite else [("SQLite", f"sqlite:///{args.sqlite_path}")]
    if not args.skip_pg:
        backends.append(("PostgreSQL", args.pg_url))
    for name, url in backends:
        if not args.reuse:
            loaded = (_data.load_sqlite(args.sqlite_path, records) if name == "SQLite"
                      else _data.load_postgres(url, records))
            print(f"load {name}: {loaded['rows']:,} rows in {loaded['seconds']:.1f} s")
        instance = args.sqlite_path.parent / "paging-instance"
        app = create_app(Config(database_url=url, auto_init=False, instance_dir=instance,
                                log_level="WARNING"))
        client = app.test_client()
        paths = cases(client, args.n, args.queries, args.seed, records)
        times = timed_requests(client, paths)
        floor = statistics.median(times["GET /facilities/{id} (floor)"])
        table(f"{name}, n={args.n:,}, per_page={PER_PAGE}, {args.queries} requests per case "
              f"(deep: pages {args.n // PER_PAGE // 2:,}–{args.n // PER_PAGE:,})", times, floor)
        table(f"{name}: the count behind `total` (× GET by id)", timed_counts(app, args.queries),
              floor)
        mixed = None if args.skip_http else mixed_paths(client, records, args.n, args.seed)
        store.engine(app).dispose()
        if mixed:
            http_memory(name, url, mixed, args.http_seconds)


if __name__ == "__main__":
    main()

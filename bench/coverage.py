"""Benchmark of coverage (issue 15): 10,000 communities against 100,000 facilities, and 10
suggestions from 10,000 candidates, on SQLite and PostGIS side by side, checked by geopy.

    .venv/bin/python bench/coverage.py [--n 100000] [--communities 10000] [--pg-url URL]

Generates --n seeded synthetic facilities over Chongqing's box (bench/_data.py, as the other
benches) and --communities seeded communities over the same box (population 500-20,000, one
in twenty without a figure), loads the facilities into a fresh SQLite file and a fresh
PostgreSQL database, then times servicemap.coverage on one connection per backend: coverage
of the meal points (about 1/7 of the facilities) and of every kind (all --n), by distance and
by 2SFCA, and --count suggestions of meal points from the communities' own locations; beside
them, as a baseline, the nearest search (store.nearest) run site by site within the distance,
on a tenth of the communities, times ten. Each is run --queries times after one warm-up; the
median wall time is printed, with this process's CPU time beside it. A sample of --check
communities is then measured by brute force: great circles (numpy) to every facility, geopy's
geodesic for each one within 2% of the reach or of the nearest, and both backends must agree
with it and with each other. See bench/README.md for a recorded run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from geopy.distance import geodesic

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from hsds import machine  # noqa: E402

from servicemap.coverage import Site, coverage, suggestions  # noqa: E402
from servicemap.database import make_engine  # noqa: E402
from servicemap.geo.spatial import NearestQuery  # noqa: E402
from servicemap.store import nearest  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_bench_coverage"
TARGETS = {"coverage": 1.0, "suggestions": 5.0, "baseline": None}


def parse_args():
    parser = _data.bench_arguments(__doc__, queries=3, what="case",
                                   sqlite_name="coverage.sqlite3", pg_url=DEFAULT_PG)
    parser.set_defaults(n=100_000)
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--distance", type=float, default=1000.0, help="metres")
    parser.add_argument("--count", type=int, default=10, help="suggestions asked for")
    parser.add_argument("--check", type=int, default=200, help="communities checked by geopy")
    return parser.parse_args()


def communities(count: int, seed: int) -> list[Site]:
    rng = np.random.default_rng(seed + 15)
    lat, lon = rng.uniform(*_data.LAT, count), rng.uniform(*_data.LON, count)
    people = rng.integers(500, 20_001, count)
    missing = rng.random(count) < 0.05
    return [Site(i, f"社区{i}", "500109", f"街道{i % 40}", float(lat[i]), float(lon[i]),
                 None if missing[i] else int(people[i])) for i in range(count)]


def cases(args) -> dict:
    d = args.distance
    return {
        "coverage: meal points, distance": lambda c, s: coverage(
            c, s, kind="meal_point", distance_m=d),
        "coverage: meal points, 2SFCA": lambda c, s: coverage(
            c, s, kind="meal_point", distance_m=d, method="2sfca"),
        "coverage: every kind, distance": lambda c, s: coverage(c, s, distance_m=d),
        "coverage: every kind, 2SFCA": lambda c, s: coverage(
            c, s, distance_m=d, method="2sfca"),
        f"suggestions: {args.count} meal points": lambda c, s: suggestions(
            c, s, kind="meal_point", distance_m=d, count=args.count),
        # What coverage would cost site by site: the nearest search, one per community (a
        # tenth of them, times ten), each told only to look within the distance.
        "baseline: store.nearest per site (x10)": lambda c, s: [nearest(c, NearestQuery(
            site.lat, site.lon, radius_m=d, limit=1, kinds=("meal_point",)))
            for site in s[::10]],
    }


def timed(url: str, sites: list[Site], runs: dict, repeats: int) -> dict:
    engine = make_engine(url)
    times, cpu, results = {}, {}, {}
    with engine.connect() as connection:
        for name, run in runs.items():
            run(connection, sites)  # warm: caches, the first fetch's plan
            seconds, own = [], []
            for _ in range(repeats):
                started, started_cpu = time.perf_counter(), time.process_time()
                results[name] = run(connection, sites)
                seconds.append(time.perf_counter() - started)
                own.append(time.process_time() - started_cpu)
            times[name], cpu[name] = statistics.median(seconds), statistics.median(own)
    engine.dispose()
    return {"times": times, "cpu": cpu, "results": results}


def sphere_m(lat, lon, lats, lons):
    lat, lon, lats, lons = (np.radians(x) for x in (lat, lon, lats, lons))
    h = np.sin((lats - lat) / 2) ** 2 + np.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def brute_force(records, sites, sample, reach_m):
    """{site id: (covered, nearest_m)} for the sample, meal points only, by geopy."""
    meals = [r for r in records if r["kind"] == "meal_point"]
    lats = np.array([r["lat"] for r in meals])
    lons = np.array([r["lon"] for r in meals])
    answers = {}
    for index in sample:
        s = sites[index]
        sphere = sphere_m(s.lat, s.lon, lats, lons)
        near = np.flatnonzero(sphere <= max(sphere.min(), reach_m) * 1.02)
        metres = min(geodesic((s.lat, s.lon), (lats[j], lons[j])).m for j in near)
        answers[s.id] = (metres <= reach_m, round(metres, 1))
    return answers


def check(records, sites, args, results) -> dict:
    """Disagreements with geopy per backend on the sampled communities (0 is right)."""
    sample = np.random.default_rng(args.seed + 16).choice(len(sites), args.check, replace=False)
    expected = brute_force(records, sites, sample, args.distance)
    wrong = {}
    for backend, found in results.items():
        by_id = {s.site.id: (s.covered, s.nearest_m)
                 for s in found["coverage: meal points, distance"].sites}
        wrong[backend] = sum(by_id[key] != value for key, value in expected.items())
    return wrong


def main() -> None:
    args = parse_args()
    records = _data.generate(args.n, args.seed)
    sites = communities(args.communities, args.seed)
    backends = {"SQLite": f"sqlite:///{args.sqlite_path}"}
    if not args.skip_pg:
        backends["PostGIS"] = args.pg_url
    if not args.reuse:
        _data.load_sqlite(args.sqlite_path, records)
        if not args.skip_pg:
            _data.load_postgres(args.pg_url, records)
    runs = cases(args)
    measured = {name: timed(url, sites, runs, args.queries) for name, url in backends.items()}
    print(f"machine: {machine()}; n={args.n:,} facilities, {args.communities:,} communities, "
          f"distance {args.distance:g} m, median of {args.queries}")
    names = list(backends)
    # Wall time, and this process's CPU time (all of SQLite's work; PostGIS's server apart):
    # on a shared machine the second shows the work when others hold the cores.
    print(f"{'case':40}" + "".join(f"{name + ' s':>12}{'cpu s':>8}" for name in names)
          + f"{'target s':>10}")
    for case in runs:
        target, scale = TARGETS[case.split(":")[0]], 10 if case.startswith("baseline") else 1
        print(f"{case:40}" + "".join(f"{measured[n]['times'][case] * scale:12.3f}"
                                     f"{measured[n]['cpu'][case] * scale:8.3f}" for n in names)
              + (f"{target:10.1f}" if target else ""))
    results = {name: {case: result for case, result in measured[name]["results"].items()
                      if not case.startswith("baseline")} for name in names}
    bodies = [{case: r.body() for case, r in res.items()} for res in results.values()]
    print("backends agree on every body:", all(body == bodies[0] for body in bodies))
    wrong = check(records, sites, args, results)
    print(f"geopy brute force on {args.check} communities, disagreements: "
          + ", ".join(f"{name} {count}" for name, count in wrong.items()))
    first = results[names[0]]
    meal = first["coverage: meal points, distance"].body()
    print(f"meal points: {meal['covered']:,} of {meal['communities']:,} communities covered "
          f"({meal['share']:.1%}), population {meal['population_share']:.1%}; suggestions add "
          + ", ".join(str(s["newly_covered_population"])
                      for s in first[f"suggestions: {args.count} meal points"].body()[
                          "suggestions"]))


if __name__ == "__main__":
    main()

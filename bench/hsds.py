"""HSDS lookups by id, and HSDS proximity, at --n synthetic facilities (default 100,000).

    .venv/bin/python bench/hsds.py [--n 100000] [--requests 200] [--pg-url URL]

Loads the facilities of bench/nearest.py (same generator, same seed) through the bulk path into
a fresh SQLite file (and, with --pg-url, a fresh PostgreSQL database, dropped and re-created),
then times, in one process and taking turns request by request:

- `before: uuid5 scan` — how an organization / service_at_location id was mapped back until
  issue 10: uuid5 of every facility id until one matches (a faithful copy of the old
  `facility_for`, with the old ids), then the facility by its id;
- `after: flip + get` — `servicemap.hsds.facility_for` as it is now: XOR back, one lookup;
- `before: count + re-check` — HSDS proximity's ranking until issue 10 (a copy): the search's
  limit a count of the whole registry, every hit checked again against the page's query;
  `after: in range only` — `servicemap.hsds._nearest_ids` now, without other filters (the two
  are asserted to give the same ids);
- the whole requests through the Flask test client (no HTTP server): `GET
  /api/v1/hsds/organizations/{id}`, `/service_at_locations/{id}`, `/services/{id}` (the
  service id is the facility id: the floor), and `/services?lat&lon&radius_m` (proximity).

Ids are drawn at random (seeded) among the facilities. Prints one table per backend: median
and p95 in ms, and each row's median over the `after: flip + get, organization` one.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import generate, load_postgres, load_sqlite, origins  # noqa: E402

from servicemap import create_app, hsds, store  # noqa: E402
from servicemap.config import Config  # noqa: E402
from servicemap.extensions import db  # noqa: E402
from servicemap.geo.spatial import NearestQuery
from servicemap.models import Facility  # noqa: E402
from servicemap.registry import filtered  # noqa: E402
from servicemap.store import nearest  # noqa: E402

OLD_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:servicemap:hsds")


def old_id(kind: str, facility_id: uuid.UUID) -> str:
    """An id as published before issue 10: uuid5(uuid5(NAMESPACE, kind), facility id)."""
    return str(uuid.uuid5(uuid.uuid5(OLD_NAMESPACE, kind), str(facility_id)))


def uuid5_scan(derived: str, kind: str) -> Facility | None:
    """The old facility_for: hash every facility id until one gives `derived`."""
    namespace, wanted = uuid.uuid5(OLD_NAMESPACE, kind), uuid.UUID(derived)
    ids = db.session.scalars(select(Facility.id).execution_options(yield_per=10_000))
    found = next((key for key in ids if uuid.uuid5(namespace, str(key)) == wanted), None)
    ids.close()
    return hsds.published_facility(found)


def old_nearest_ids(near: NearestQuery) -> list[uuid.UUID]:
    """HSDS proximity until issue 10: the limit is a count of the registry, and every hit is
    checked again against the page's query (here: published, as /services without filters)."""
    everything = db.session.scalar(select(func.count()).select_from(Facility))
    hits = [hit.id for hit in nearest(db.session.connection(), replace(near, limit=everything))]
    query = filtered({"status": hsds.PUBLISHED})
    passing: set[uuid.UUID] = set()
    for start in range(0, len(hits), 1000):
        passing.update(db.session.scalars(query.with_only_columns(Facility.id).where(
            Facility.id.in_(hits[start:start + 1000]))))
    return [key for key in hits if key in passing]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "?")
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d')}")


def run(url: str, instance: Path, ids: list[uuid.UUID], points: list, requests: int) -> dict:
    app = create_app(Config(database_url=url, auto_init=False, instance_dir=instance,
                            log_level="WARNING"))
    client = app.test_client()
    flip = {kind: getattr(hsds, kind.upper()) for kind in ("organization", "service_at_location")}
    cases = {
        "before: uuid5 scan, organization": lambda i: uuid5_scan(
            old_id("organization", ids[i]), "organization"),
        "before: uuid5 scan, service_at_location": lambda i: uuid5_scan(
            old_id("service_at_location", ids[i]), "service_at_location"),
        "after: flip + get, organization": lambda i: hsds.facility_for(
            str(flip["organization"].flip(ids[i])), flip["organization"]),
        "after: flip + get, service_at_location": lambda i: hsds.facility_for(
            str(flip["service_at_location"].flip(ids[i])), flip["service_at_location"]),
    }
    for radius in (5000, 50000):
        def near(i, radius=radius):
            return NearestQuery(lat=points[i][0], lon=points[i][1], radius_m=radius)
        cases[f"before: count + re-check, r={radius // 1000} km"] = (
            lambda i, near=near: old_nearest_ids(near(i)))
        cases[f"after: in range only, r={radius // 1000} km"] = (
            lambda i, near=near: hsds._nearest_ids(None, near(i), None))
    requests_by_url = {
        "GET /hsds/organizations/{id}": lambda i: (
            f"/api/v1/hsds/organizations/{flip['organization'].flip(ids[i])}"),
        "GET /hsds/service_at_locations/{id}": lambda i: (
            f"/api/v1/hsds/service_at_locations/{flip['service_at_location'].flip(ids[i])}"),
        "GET /hsds/services/{id}": lambda i: f"/api/v1/hsds/services/{ids[i]}",
        "GET /hsds/services?lat&lon&radius_m=5000": lambda i: (
            f"/api/v1/hsds/services?lat={points[i][0]}&lon={points[i][1]}&radius_m=5000"),
        "GET /hsds/services?lat&lon&radius_m=50000": lambda i: (
            f"/api/v1/hsds/services?lat={points[i][0]}&lon={points[i][1]}&radius_m=50000"),
    }
    times: dict[str, list[float]] = {name: [] for name in [*cases, *requests_by_url]}
    scans = min(requests, 20)  # the old scan is slow: fewer turns, same ids
    for i in range(requests):
        for name, case in cases.items():
            if "scan" in name and i >= scans:
                continue
            with app.app_context():
                started = time.perf_counter()
                found = case(i)
                times[name].append(time.perf_counter() - started)
                if isinstance(found, list):  # proximity: both ways give the same ids
                    assert found == (old_nearest_ids if name.startswith("after") else
                                     lambda near: hsds._nearest_ids(None, near, None))(
                        NearestQuery(lat=points[i][0], lon=points[i][1],
                                     radius_m=int(name.split("=")[1].split()[0]) * 1000)), name
                else:
                    assert found is not None and found.id == ids[i], name
        for name, path in requests_by_url.items():
            started = time.perf_counter()
            response = client.get(path(i))
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.get_data(as_text=True)[:200])
    store.dispose(app)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg-url", help="also on this PostgreSQL database (dropped, re-created)")
    args = parser.parse_args()
    records = generate(args.n, args.seed)
    rng = random.Random(args.seed)
    ids = [records[rng.randrange(args.n)]["id"] for _ in range(args.requests)]
    points = origins(args.requests, args.seed)
    instance = Path(tempfile.mkdtemp(prefix="servicemap-bench-hsds-"))
    print(f"machine: {machine()}; n = {args.n:,}, {args.requests} requests per row "
          f"(the uuid5 scans {min(args.requests, 20)})")
    backends = [("SQLite", f"sqlite:///{instance / 'bench.sqlite3'}")]
    if args.pg_url:
        backends.append(("PostgreSQL", args.pg_url))
    for backend, url in backends:
        if backend == "SQLite":
            load_sqlite(instance / "bench.sqlite3", records)
        else:
            load_postgres(url, records)
        times = run(url, instance, ids, points, args.requests)
        floor = statistics.median(times["after: flip + get, organization"])
        print(f"\n{backend}\n| {'what':43s} | median ms | p95 ms | × flip + get |\n|{'-' * 45}|"
              f"-----------|--------|---------------|")
        for name, seconds in times.items():
            ordered = sorted(seconds)
            median = statistics.median(ordered)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            print(f"| {name:43s} | {median * 1000:9.2f} | {p95 * 1000:6.2f} | "
                  f"{median / floor:13.1f} |")


if __name__ == "__main__":
    main()

"""Where a /nearest request's time goes, beside /healthz, in one process (no HTTP server).

    .venv/bin/python bench/nearest_breakdown.py [--queries 2000] [--skip-pg] [--pg-url URL]

Reads the databases bench/nearest.py loaded (run it first; same --sqlite-path and --pg-url).
For each backend, through the app's WSGI callable (Flask's test client: no sockets), takes
turns chunk by chunk between /healthz, /nearest with every facility already rendered (each
origin asked once before), and /nearest with none kept in the worker (rendering_cache_size 0,
so each answer reads its ten facilities' stored renderings, migration 0012); and, inside a
request context, times the parts of the warm request: reading the query arguments (webargs and
NearestQuerySchema, and the quick reader the view tries first, api/quick_arguments.py), the
store's search, and the items' text (renderings.items_json). Medians of this thread's CPU time
(time.thread_time_ns) per request: on a shared machine wall time mostly measures the
scheduler. PostgreSQL's own CPU is not in it (the raw KNN floor in nearest.py is).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from flask import request

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _data  # noqa: E402

from servicemap import create_app  # noqa: E402
from servicemap.api import Blueprint  # noqa: E402
from servicemap.api.nearest import QUICK  # noqa: E402
from servicemap.api.quick_arguments import quick_loader  # noqa: E402
from servicemap.config import Config  # noqa: E402
from servicemap.extensions import db  # noqa: E402
from servicemap.geo.spatial import NearestQuery  # noqa: E402
from servicemap.renderings import items_json  # noqa: E402
from servicemap.schemas import NearestQuerySchema  # noqa: E402
from servicemap.store import nearest  # noqa: E402

PATH = "/api/v1/facilities/nearest?lat={:.6f}&lon={:.6f}"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_bench"


def app_for(url: str, renderings: int):
    config = Config.from_env(database_url=url, auto_init=False, log_level="WARNING",
                             rate_limit_enabled=False,  # as bench/_http.py runs gunicorn
                             rendering_cache_size=renderings)
    return create_app(config)


def parts(app, path: str, quick) -> tuple[float, float, float, float]:
    """Milliseconds of reading the arguments (webargs and the schema; the quick reader the
    view uses first), searching and writing the items, in one request context."""
    clock = time.thread_time_ns
    with app.test_request_context(path):
        began = clock()
        Blueprint.ARGUMENTS_PARSER.parse(NearestQuerySchema(), location="query")
        parsed = clock()
        args = quick(request.args)
        read = clock()
        connection = db.reader
        searching = clock()
        hits = nearest(connection, NearestQuery(args["lat"], args["lon"]))
        searched = clock()
        items_json(connection, hits, args["coordsys"])
        written = clock()
    return ((parsed - began) / 1e6, (read - parsed) / 1e6, (searched - searching) / 1e6,
            (written - searched) / 1e6)


def run(name: str, url: str, origins: list, chunk: int = 50) -> None:
    warm, cold = app_for(url, 1_000_000), app_for(url, 0)
    clients = {"/healthz": warm.test_client(), "/nearest, rendered": warm.test_client(),
               "/nearest, none kept": cold.test_client()}
    paths = [PATH.format(lat, lon) for lat, lon in origins]
    for path in paths:  # every facility rendered once, every statement prepared
        assert clients["/nearest, rendered"].get(path).status_code == 200
        clients["/nearest, none kept"].get(path)
    times = {label: [] for label in [*clients, "parse (schema)", "parse (quick)", "search",
                                     "items"]}
    quick = quick_loader(NearestQuerySchema(), QUICK)
    clock = time.thread_time_ns
    for start in range(0, len(paths), chunk):
        for label, client in clients.items():
            for path in paths[start:start + chunk]:
                began = clock()
                response = client.get("/healthz" if label == "/healthz" else path)
                times[label].append((clock() - began) / 1e6)
                assert response.status_code == 200
        for path in paths[start:start + chunk]:
            for label, value in zip(("parse (schema)", "parse (quick)", "search", "items"),
                                     parts(warm, path, quick), strict=True):
                times[label].append(value)
    median = {label: float(np.median(values)) for label, values in times.items()}
    print(f"\n{name}: {len(paths)} origins, k=10, r=5 km, CPU ms of this process per request "
          "(median)")
    for label, value in median.items():
        print(f"| {label:22s} | {value:7.3f} |")
    rest = (median["/nearest, rendered"] - median["parse (quick)"] - median["search"]
            - median["items"])
    print(f"| {'framework and rest':22s} | {rest:7.3f} | (rendered request less the quick "
          "parse, the search and the items)")
    health = median["/healthz"]
    print(f"/healthz CPU / /nearest CPU: rendered {health / median['/nearest, rendered']:.0%}, "
          f"none kept {health / median['/nearest, none kept']:.0%}")


def main() -> None:
    parser = _data.bench_arguments(__doc__, queries=2000, what="endpoint",
                                   sqlite_name="bench.sqlite3", pg_url=DEFAULT_PG)
    args = parser.parse_args()
    origins = _data.origins(args.queries, args.seed)
    run("SQLite", f"sqlite:///{args.sqlite_path.resolve()}", origins)
    if not args.skip_pg:
        run("PostGIS", args.pg_url, origins)


if __name__ == "__main__":
    main()

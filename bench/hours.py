"""Benchmark of opening hours on China's calendar: what the holiday rule costs a search.

    .venv/bin/python bench/hours.py [--n 100000] [--queries 500] [--calls 200000]

Generates --n seeded synthetic facilities (bench/_data.py) with a mix of weekly hours, holiday
rules by kind and a closure on one in ten, loads them with `registry.bulk_insert` into a fresh
SQLite file, then times k=10, r=5 km `nearest` searches from the same origins without open_at
and with open_at on an ordinary weekday, National Day, its make-up Saturday and a year the
calendar does not know, interleaved in chunks; and `hours.is_open` per call for each rule.
Ratios are from this one run. See bench/README.md for a recorded run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from nearest import machine, provenance, timed  # noqa: E402

from servicemap.database import make_engine  # noqa: E402
from servicemap.geo.spatial import NearestQuery
from servicemap.holidays import current_calendar  # noqa: E402
from servicemap.hours import clock_minutes, default_holiday_rule, is_open  # noqa: E402
from servicemap.store import nearest  # noqa: E402

HOURS = [
    [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}],
    [{"days": [1, 2, 3, 4, 5], "opens": "10:30", "closes": "13:00"},
     {"days": [1, 2, 3, 4, 5], "opens": "16:30", "closes": "18:30"}],
    [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}],
    [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "20:00", "closes": "02:00"}],
    [],
]
CLOSURE = [{"from": "2026-09-28", "to": "2026-10-12", "reason": "装修停业"}]
MOMENTS = {"ordinary Wednesday": datetime(2026, 11, 25, 10, 0),
           "National Day": datetime(2026, 10, 1, 10, 0),
           "make-up Saturday": datetime(2026, 10, 10, 10, 0),
           "unknown year (2030)": datetime(2030, 10, 1, 10, 0)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="facilities to generate")
    parser.add_argument("--queries", type=int, default=500, help="timed searches per variant")
    parser.add_argument("--calls", type=int, default=200_000, help="is_open calls per rule")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--sqlite-path", type=Path,
                        default=Path(tempfile.gettempdir()) / "servicemap-bench/hours.sqlite3")
    return parser.parse_args()


def with_hours(records: list[dict], seed: int) -> list[dict]:
    rng = np.random.default_rng(seed + 2)
    pick, closed = rng.integers(0, len(HOURS), len(records)), rng.random(len(records)) < 0.1
    for record, hours, shut in zip(records, pick, closed, strict=True):
        record["opening_hours"] = HOURS[hours]
        record["holiday_rule"] = default_holiday_rule(record["kind"], HOURS[hours])
        record["closures"] = CLOSURE if shut else []
    return records


def weekly_is_open(opening_hours: list[dict], moment: datetime) -> bool:
    """hours.is_open as it was before the calendar (commit dcca81e), for the comparison."""
    day, minute = moment.isoweekday(), moment.hour * 60 + moment.minute
    yesterday = 7 if day == 1 else day - 1
    for interval in opening_hours:
        opens, closes = clock_minutes(interval["opens"]), clock_minutes(interval["closes"])
        days = interval["days"]
        if opens < closes:
            if day in days and opens <= minute < closes:
                return True
        elif (day in days and minute >= opens) or (yesterday in days and minute < closes):
            return True
    return False


def per_call(calls: int) -> dict[str, float]:
    """Microseconds per is_open call, by rule, over moments spread across 2026."""
    moments = [datetime(2026, 1, 1) + (datetime(2026, 12, 31) - datetime(2026, 1, 1)) * k / calls
               for k in range(calls)]
    calendar, hours = current_calendar(), HOURS[1]
    cases = {"weekly (the weekday only)": ("weekly", []), "closed": ("closed", []),
             "open": ("open", []), "closed + a closure": ("closed", CLOSURE)}
    began = time.perf_counter()
    for moment in moments:
        weekly_is_open(hours, moment)
    result = {"before the calendar (dcca81e)": (time.perf_counter() - began) / calls * 1e6}
    for name, (rule, closures) in cases.items():
        began = time.perf_counter()
        for moment in moments:
            is_open(hours, moment, rule, closures, calendar)
        result[name] = (time.perf_counter() - began) / calls * 1e6
    return result


def main() -> None:
    args = parse_args()
    print(f"machine: {machine()}; n={args.n:,}, queries={args.queries}, seed={args.seed}")
    print(provenance())
    load = _data.load_sqlite(args.sqlite_path, with_hours(_data.generate(args.n, args.seed),
                                                          args.seed))
    print(f"loaded {load['count']:,} rows in {load['seconds']:.1f} s")
    engine = make_engine(f"sqlite:///{args.sqlite_path}")
    with engine.connect() as connection:
        base = NearestQuery(0.0, 0.0, 5000.0, 10)

        def search(moment):
            query = replace(base, open_at=moment)
            return lambda lat, lon: nearest(connection, replace(query, lat=lat, lon=lon))

        methods = {"no open_at": search(None)} | {
            f"open_at {name}": search(moment) for name, moment in MOMENTS.items()}
        timed(methods, _data.origins(100, args.seed + 100))  # warm caches
        times = timed(methods, _data.origins(args.queries, args.seed))
    engine.dispose()
    medians = {name: float(np.median(t)) for name, t in times.items()}
    print(f"\nSQLite nearest, k=10, r=5 km, {args.queries} origins, ms per query")
    print(f"| {'variant':32s} | {'median':>8s} | {'p99':>8s} | vs no open_at")
    print(f"|{'-' * 34}|{'-' * 10}|{'-' * 10}|{'-' * 15}")
    for name, t in times.items():
        print(f"| {name:32s} | {medians[name]:8.3f} | {np.percentile(t, 99):8.3f} | "
              f"{medians[name] / medians['no open_at']:.2f}x")
    costs = per_call(args.calls)
    print(f"\nhours.is_open, {args.calls:,} calls per rule over 2026, µs per call")
    before = costs["before the calendar (dcca81e)"]
    print(f"| {'rule':30s} | {'µs':>6s} | vs before")
    for name, cost in costs.items():
        print(f"| {name:30s} | {cost:6.2f} | {cost / before:.2f}x")


if __name__ == "__main__":
    main()

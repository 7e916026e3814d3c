"""`q=` and HSDS `search=` by text index, against `GET /api/v1/facilities/{id}` (issue 11).

    .venv/bin/python bench/text_search.py [--n 100000] [--requests 100] [--pg-url URL]

Loads the facilities of bench/nearest.py (same generator, same seed), each given a Chinese
name, English name and address drawn from seeded pools, through the bulk path (which fills the
trigram index) into a fresh SQLite file (and, with --pg-url, a fresh PostgreSQL database,
dropped and re-created), then times whole requests through the Flask test client (no HTTP
server), taking turns request by request:

- `GET /facilities/{id}`, a random facility: the floor;
- `GET /facilities`, page 1 without `q=`: what any page of 20 costs beside one facility;
- `q=` of three or more characters: rare (a random facility's own 3-character run from the
  middle of its name, a few matches) and common (a kind's label, about one facility in six:
  the page still counts and sorts every match);
- `q=` of two characters (the bigram index of migration 0009): rare (the facility's own
  two-character word), common (食堂, a kind label: one facility in six) and everywhere (重庆,
  in every address: the worst case, the page counts and sorts every facility);
- HSDS `GET /hsds/services?search=`, rare, three characters and two.

Every rare query's answer is checked to hold the facility it was drawn from. Prints one table
per backend: median and p99 in ms and each median over the floor's (target: ≤ 3×), with the
bulk load's time, the database's size and the text indexes' share of it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import (  # noqa: E402
    generate,
    load_postgres,
    load_sqlite,
    postgres_size,
    sqlite_size,
)
from hsds import machine  # noqa: E402
from sqlalchemy import text  # noqa: E402

from servicemap import create_app, store  # noqa: E402
from servicemap.config import Config  # noqa: E402

DISTRICTS = ["渝中区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "渝北区", "巴南区"]
STREETS = ["解放碑街道", "天生街道", "朝阳街道", "龙山街道", "鱼洞街道", "石桥铺街道"]
LABELS = ["老年食堂", "养老服务站", "普惠幼儿园", "托育园", "助浴点", "养老院"]
# 600 characters of the common CJK block: two of them name a facility (360,000 pairs).
POOL = [chr(code) for code in random.Random(7).sample(range(0x4E00, 0x9FA6), 600)]


def chinese(records: list[dict], seed: int) -> None:
    """Give each record a name (district, street, a two-character word, a kind label), an
    English name and an address, seeded."""
    rng = random.Random(seed)
    for i, record in enumerate(records):
        word = rng.choice(POOL) + rng.choice(POOL)
        road = rng.choice(POOL) + rng.choice(POOL)
        record["name"] = (f"{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{word}"
                          f"{rng.choice(LABELS)}")
        record["name_en"] = f"Facility {i} Chongqing"
        record["address"] = f"重庆市{rng.choice(DISTRICTS)}{road}路{rng.randrange(1, 999)}号"


def run(url: str, instance: Path, records: list[dict], requests: int, seed: int) -> dict:
    # Rate limits off: one client asking this fast is what they refuse (429).
    app = create_app(Config(database_url=url, auto_init=False, instance_dir=instance,
                            log_level="WARNING", rate_limit_enabled=False))
    client = app.test_client()
    rng = random.Random(seed + 3)
    cases = {
        "GET /facilities/{id} (floor)": None,
        "GET /facilities, page 1 (no q=)": "",
        "q= rare, 3 characters": 3,
        "q= rare, 2 characters": 2,
        "q= common, 5 characters (养老服务站)": "养老服务站",
        "q= common, 2 characters (食堂)": "食堂",
        "q= everywhere, 2 characters (重庆)": "重庆",
        "HSDS search= rare, 3 characters": ("hsds", 3),
        "HSDS search= rare, 2 characters": ("hsds", 2),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(requests):
        record = records[rng.randrange(len(records))]
        # From the two-character word on: the word and the label's first character.
        middle = record["name"].index(next(s for s in STREETS if s in record["name"]))
        word_at = middle + len(next(s for s in STREETS if s in record["name"]))
        for name, case in cases.items():
            if case is None:
                path = f"/api/v1/facilities/{record['id']}"
            elif isinstance(case, tuple):
                path = (f"/api/v1/hsds/services?search="
                        f"{record['name'][word_at:word_at + case[1]]}")
            elif isinstance(case, int):
                path = f"/api/v1/facilities?q={record['name'][word_at:word_at + case]}"
            elif case:
                path = f"/api/v1/facilities?q={case}"
            else:
                path = "/api/v1/facilities"
            started = time.perf_counter()
            response = client.get(path)
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.get_data(as_text=True)[:200])
            if "rare" in name:
                body = response.json
                found = {item["id"] for item in body.get("items", body.get("contents", []))}
                matches = body.get("total", body.get("total_items", 0))
                assert str(record["id"]) in found or matches > 20, (name, path)
    store.dispose(app)
    return times


# The text indexes: migration 0008's trigrams, 0009's bigrams.
SQLITE_INDEX_BYTES = ("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'facility_text%' OR "
                      "name LIKE 'facility_bigram%'")
POSTGRES_INDEX_BYTES = ("SELECT sum(pg_relation_size(indexrelid)) FROM pg_index i JOIN "
                        "pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE '%trgm' "
                        "OR c.relname = 'ix_facility_bigrams'")


def text_index_bytes(url: str) -> int:
    """The bytes of the text indexes (SQLite: by its dbstat table)."""
    engine = store.make_engine(url)
    with engine.connect() as connection:
        query = SQLITE_INDEX_BYTES if url.startswith("sqlite") else POSTGRES_INDEX_BYTES
        size = connection.execute(text(query)).scalar() or 0
    engine.dispose()
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--pg-url", help="also on this PostgreSQL database (dropped, re-created)")
    parser.add_argument("--sqlite-path", type=Path, help="the SQLite file (default: a new one "
                        "in a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="skip loading: time the databases "
                        "an earlier run with the same --n, --seed and paths loaded")
    args = parser.parse_args()
    records = generate(args.n, args.seed)
    chinese(records, args.seed)
    instance = Path(tempfile.mkdtemp(prefix="servicemap-bench-text-"))
    sqlite_path = args.sqlite_path or instance / "bench.sqlite3"
    print(f"machine: {machine()}; n = {args.n:,}, {args.requests} requests per row")
    backends = [("SQLite", f"sqlite:///{sqlite_path.resolve()}")]
    if args.pg_url:
        backends.append(("PostgreSQL", args.pg_url))
    for backend, url in backends:
        if args.reuse:
            load = {"seconds": float("nan"), **(sqlite_size(sqlite_path) if backend == "SQLite"
                                                else postgres_size(url))}
        elif backend == "SQLite":
            load = load_sqlite(sqlite_path, records)
        else:
            load = load_postgres(url, records)
        times = run(url, instance, records, args.requests, args.seed)
        floor = statistics.median(times["GET /facilities/{id} (floor)"])
        print(f"\n{backend} (bulk load {load['seconds']:.1f} s; database "
              f"{load['bytes'] / 2**20:,.0f} MiB, of which text indexes "
              f"{text_index_bytes(url) / 2**20:,.0f} MiB)\n"
              f"| {'request':40s} | median ms | p99 ms | × floor |\n|{'-' * 42}|"
              f"-----------|--------|---------|")
        for name, seconds in times.items():
            ordered = sorted(seconds)
            median = statistics.median(ordered)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            print(f"| {name:40s} | {median * 1000:9.2f} | {p99 * 1000:6.2f} | "
                  f"{median / floor:7.1f} |")


if __name__ == "__main__":
    main()

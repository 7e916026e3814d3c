"""Load and faults: a mixed workload against gunicorn (2 workers) on PostgreSQL + PostGIS.

Plain run (`--seconds`, 60): nearest 70%, list 15%, eligibility 10%, PATCH vacancies 5%, from a
bounded pool of client threads (keep-alive http.client). With `--faults`, three more load runs
(`--fault-seconds` each), a fault injected in each, then integrity checks in SQL:

1. PostgreSQL restarted mid-load (pg_ctlcluster ... restart; always started again);
2. one gunicorn worker SIGKILLed (the master must replace it);
3. a large import whose last row is invalid (422, nothing written), then a valid large import
   whose worker is SIGKILLed mid-import (nothing written: all or nothing).

Every acknowledged PATCH (200) is checked against the database at the end.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import platform
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _http import ROOT, gunicorn, workers_of  # noqa: E402

from servicemap.geo.gazetteer import district_readings  # noqa: E402

PROTECTED = {"servicemap_test", "servicemap_dev", "servicemap"}
KIND_SERVICES = {
    "elder_care_center": ["day_care", "meals", "rehabilitation", "respite_care"],
    "elder_care_station": ["day_care", "cleaning", "meals", "emergency_help"],
    "meal_point": ["meals", "meal_delivery"],
    "care_home": ["respite_care", "medical_care", "rehabilitation"],
    "kindergarten": ["preschool"],
    "nursery": ["nursery_class"],
}
CARE = ["able", "mild", "moderate", "severe", "total"]
MIX = [("nearest", 70), ("list", 15), ("eligibility", 10), ("write", 5)]
CSV_HEADER = ["external_id", "name", "kind", "services", "district_code", "address", "lat",
              "lon", "opening_hours", "capacity", "vacancies"]


# ---------------------------------------------------------------- setup

def districts() -> list[tuple[str, str, float, float]]:
    with open(ROOT / "seeds/districts.csv", encoding="utf-8") as f:
        return [(r["code"], r["name"], float(r["lat"]), float(r["lon"]))
                for r in csv.DictReader(f)]


def facilities_csv(n: int, prefix: str, rng: random.Random, bad_last: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    ds = districts()
    names = {code: name for code, name, _lat, _lon in ds}
    for i in range(n):
        code = None
        while code is None:  # a point labelled with the district it lies in, as imports check
            _code, _name, lat, lon = rng.choice(ds)
            lat = round(lat + rng.uniform(-0.03, 0.03), 6)
            lon = round(lon + rng.uniform(-0.03, 0.03), 6)
            code = next(district_readings(lat, lon), None)
        name = names[code]
        kind = rng.choice(list(KIND_SERVICES))
        services = rng.sample(KIND_SERVICES[kind], rng.randint(1, len(KIND_SERVICES[kind])))
        capacity = rng.randint(10, 300)
        row = [f"{prefix}-{i:06d}", f"{name}合成{prefix}{i}号{kind}", kind, ";".join(services),
               code, f"重庆市{name}合成路{i}号", f"{lat:.6f}", f"{lon:.6f}",
               "1-5 08:00-18:00", capacity,
               rng.randint(0, capacity)]
        if bad_last and i == n - 1:
            row[6] = "北纬29度"  # not a number: the whole file must be refused
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def flask(args: list[str], env: dict, capture: bool = False) -> str:
    done = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "servicemap", *args],
                          cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def setup(args, env: dict, rng: random.Random) -> str:
    """Drop, create, migrate, seed and import; returns an admin key."""
    dbname = args.pg_url.rsplit("/", 1)[1]
    if dbname in PROTECTED:
        raise SystemExit(f"refusing to drop {dbname}")
    with psycopg.connect(args.pg_admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{dbname}"')
    flask(["db", "upgrade"], env)
    flask(["seed"], env)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "servicemap-load.csv"
    path.write_bytes(facilities_csv(args.facilities, "LOAD", rng))
    started = time.perf_counter()
    report = flask(["import", str(path)], env)
    print(f"setup: {report} ({time.perf_counter() - started:.1f} s through `flask import`)")
    return flask(["keys", "create", "--role", "admin", "--name", "load test"], env)


def sql(url: str, query: str, params=None):
    with psycopg.connect(url, connect_timeout=5) as c:
        return c.execute(query, params).fetchall()


# ---------------------------------------------------------------- client

class Load:
    """Client threads running the mix until stopped; every answer is recorded."""

    def __init__(self, port: int, key: str, ids: list[str], threads: int, seed: int):
        self.port, self.key, self.ids, self.n = port, key, ids, threads
        self.seed = seed
        self.records: list[tuple] = []  # (t, kind, status, latency_s, retry_after)
        self.writes: list[tuple] = []  # (facility id, vacancies, etag, t) for each 200 PATCH
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ds = districts()

    def request(self, rng: random.Random):
        kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        headers, body, method = {}, None, "GET"
        if kind == "nearest":
            _, _, lat, lon = rng.choice(self.ds)
            q = {"lat": f"{lat + rng.uniform(-0.05, 0.05):.5f}",
                 "lon": f"{lon + rng.uniform(-0.05, 0.05):.5f}"}
            if rng.random() < 0.5:
                q["kind"] = rng.choice(list(KIND_SERVICES))
            if rng.random() < 0.3:
                q["has_vacancy"] = "true"
            if rng.random() < 0.2:
                q["open_now"] = "true"
            if rng.random() < 0.3:
                q["radius_m"] = str(rng.choice([1000, 3000, 10000]))
            path = "/api/v1/facilities/nearest?" + "&".join(f"{k}={v}" for k, v in q.items())
        elif kind == "list":
            code = rng.choice(self.ds)[0]
            path = f"/api/v1/facilities?district={code}&page={rng.randint(1, 3)}"
            if rng.random() < 0.5:
                path += "&kind=" + rng.choice(list(KIND_SERVICES))
        elif kind == "eligibility":
            method, path = "POST", "/api/v1/eligibility"
            person = {"birth_date": f"{rng.randint(1925, 2025)}-{rng.randint(1, 12):02d}-15",
                      "care_need": rng.choice(CARE),
                      "residence_district": rng.choice(self.ds)[0]}
            if rng.random() < 0.5:
                person["lives_alone"] = rng.random() < 0.5
            body = json.dumps({"person": person})
            headers["Content-Type"] = "application/json"
        else:
            method = "PATCH"
            fid, capacity = rng.choice(self.ids)
            value = rng.randint(0, capacity)  # vacancies may not exceed capacity
            path = f"/api/v1/facilities/{fid}"
            body = json.dumps({"vacancies": value})
            headers.update({"Content-Type": "application/json",
                            "Authorization": f"Bearer {self.key}"})
            return kind, method, path, body, headers, (fid, value)
        return kind, method, path, body, headers, None

    def client(self, index: int):
        rng = random.Random(self.seed * 1000 + index)
        connection = None
        mine, writes = [], []
        while not self.stopping.is_set():
            kind, method, path, body, headers, write = self.request(rng)
            started = time.perf_counter()
            retry_after = False
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                retry_after = response.getheader("Retry-After") is not None
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
                if write and status == 200:
                    writes.append((*write, response.getheader("ETag").strip('"'),
                                   time.perf_counter() - self.t0))
            except (OSError, http.client.HTTPException) as exc:
                status = f"conn:{type(exc).__name__}"
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(0.05)  # don't spin while nothing listens
            now = time.perf_counter()
            mine.append((now - self.t0, kind, status, now - started, retry_after))
        with self.lock:
            self.records.extend(mine)
            self.writes.extend(writes)

    def start(self):
        self.t0 = time.perf_counter()
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(self.n)]
        for t in self.threads:
            t.start()

    def stop(self) -> float:
        self.stopping.set()
        for t in self.threads:
            t.join()
        return time.perf_counter() - self.t0


# ---------------------------------------------------------------- reports

def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1e3 if values else float("nan")


def summary_table(title: str, load: Load, elapsed: float):
    print(f"\n### {title}: {elapsed:.1f} s, {load.n} client threads")
    print("| kind | requests | req/s | p50 ms | p99 ms | non-200 (by status) |")
    print("|---|---|---|---|---|---|")
    by_kind = defaultdict(list)
    for rec in load.records:
        by_kind[rec[1]].append(rec)
    for kind in [k for k, _ in MIX] + ["all"]:
        recs = load.records if kind == "all" else by_kind[kind]
        ok = [r[3] for r in recs if r[2] == 200]
        bad = Counter(str(r[2]) for r in recs if r[2] != 200)
        print(f"| {kind} | {len(recs)} | {len(recs) / elapsed:.1f} | {pct(ok, .5):.1f} | "
              f"{pct(ok, .99):.1f} | {dict(bad) or 0} |")


def timeline(load: Load, elapsed: float, marks: dict[str, float]):
    """Status counts per second, the longest gap between successful answers, Retry-After."""
    seconds = defaultdict(Counter)
    for t, _, status, _, _ in load.records:
        seconds[int(t)][str(status)] += 1
    statuses = sorted({s for c in seconds.values() for s in c}, key=lambda s: (s != "200", s))
    mark_at = defaultdict(list)
    for name, t in marks.items():
        mark_at[int(t)].append(f"{name} @{t:.1f}s")
    print("| second | " + " | ".join(statuses) + " | event |")
    print("|---" * (len(statuses) + 2) + "|")
    for s in range(int(elapsed) + 1):
        print(f"| {s} | " + " | ".join(str(seconds[s].get(x, 0)) for x in statuses)
              + f" | {'; '.join(mark_at[s])} |")
    ok_times = sorted(r[0] for r in load.records if r[2] == 200)
    gaps = [(b - a, a) for a, b in zip(ok_times, ok_times[1:], strict=False)]
    gap, at = max(gaps) if gaps else (float("nan"), 0)
    e503 = [r for r in load.records if r[2] == 503]
    e5xx = Counter(r[2] for r in load.records if isinstance(r[2], int) and r[2] >= 500
                   and r[2] != 503)
    last_bad = max((r[0] for r in load.records if r[2] != 200), default=None)
    tail_ok = sum(1 for r in load.records if r[2] == 200 and r[0] > elapsed - 3)
    print(f"\nmax gap between successful answers: {gap * 1e3:.0f} ms (from t={at:.1f} s); "
          f"503: {len(e503)} ({sum(r[4] for r in e503)} with Retry-After); other 5xx: "
          f"{dict(e5xx) or 0}; connection errors: "
          f"{sum(1 for r in load.records if isinstance(r[2], str))}; last non-200 at "
          f"{'-' if last_bad is None else f't={last_bad:.1f} s'}; "
          f"200s in the last 3 s: {tail_ok}")


# ---------------------------------------------------------------- faults

def cluster_online() -> bool:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    return any(line.split()[:4] == ["15", "main", "5432", "online"] for line in out.splitlines())


def ensure_postgres():
    if not cluster_online():
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"],
                       check=False)


def restart_postgres(marks, t0):
    marks["restart begins"] = time.perf_counter() - t0
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
                   check=True)
    marks["postgres back"] = time.perf_counter() - t0


def socket_owner(client_port: int, server_port: int, pids: list[int]) -> int | None:
    """The worker holding the server end of the connection from client_port."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            local, remote = parts[1], parts[2]
            if (int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port):
                inode = parts[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


def post_import(port: int, key: str, body: bytes, out: dict):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out["connection"] = connection
    try:
        connection.putrequest("POST", "/api/v1/imports")
        connection.putheader("Content-Type", "text/csv")
        connection.putheader("Authorization", f"Bearer {key}")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        out["client_port"] = connection.sock.getsockname()[1]
        connection.send(body)
        out["sent"] = time.perf_counter()
        response = connection.getresponse()
        out["status"] = response.status
        out["body"] = response.read()[:500]
    except (OSError, http.client.HTTPException) as exc:
        out["status"] = f"conn:{type(exc).__name__}"
    out["done"] = time.perf_counter()


def count_facilities(url: str) -> int:
    return sql(url, "SELECT count(*) FROM facility")[0][0]


# ---------------------------------------------------------------- integrity

def integrity(url: str, writes: list[tuple]) -> list[str]:
    lines, ok = [], True
    rows = sql(url, "SELECT id, vacancies, version FROM facility")
    db = {str(i): (v, ver) for i, v, ver in rows}
    latest = {}
    for fid, value, etag, _ in writes:
        version = int(etag.rsplit("-", 1)[1].split(".")[0])  # <id hex>-<version>.<digest>
        if fid not in latest or version > latest[fid][1]:
            latest[fid] = (value, version)
    lost = [(f, v, ver, db.get(f)) for f, (v, ver) in latest.items()
            if f not in db or db[f][1] < ver or (db[f][1] == ver and db[f][0] != v)]
    newer = sum(1 for f, (v, ver) in latest.items() if f in db and db[f][1] > ver)
    lines.append(f"acknowledged PATCHes: {len(writes)} on {len(latest)} facilities; "
                 f"lost or wrong: {len(lost)}; facilities with a newer unacknowledged version: "
                 f"{newer}")
    if lost:
        ok = False
        lines.append(f"  first lost: {lost[:5]}")
    checks = {
        "facility rows missing required fields": "SELECT count(*) FROM facility WHERE id IS NULL"
        " OR name IS NULL OR name = '' OR kind IS NULL OR status IS NULL OR version IS NULL"
        " OR (lat IS NULL) <> (lon IS NULL)",
        "active facilities without a location": "SELECT count(*) FROM facility f WHERE"
        " status = 'active' AND lat IS NULL AND NOT EXISTS (SELECT 1 FROM geocode_pending g"
        " WHERE g.facility_id = f.id)",
        "facility_service rows without facility": "SELECT count(*) FROM facility_service s"
        " LEFT JOIN facility f ON f.id = s.facility_id WHERE f.id IS NULL",
        "facilities from the failed or killed imports": "SELECT count(*) FROM facility"
        " WHERE external_id LIKE 'BAD-%' OR external_id LIKE 'CRASH-%'",
    }
    for name, query in checks.items():
        try:
            n = sql(url, query)[0][0]
        except psycopg.Error as exc:
            n = f"query failed: {exc}".splitlines()[0]
        ok = ok and n == 0
        lines.append(f"{name}: {n}")
    lines.append("integrity: " + ("OK" if ok else "FAILED"))
    return lines


# ---------------------------------------------------------------- main

def run_load(title, port, key, ids, args, seconds, fault=None):
    load = Load(port, key, ids, args.threads, args.seed + len(title))
    marks: dict[str, float] = {}
    load.start()
    extra = None
    try:
        if fault:
            time.sleep(args.fault_at)
            extra = fault(load, marks)
        remaining = seconds - (time.perf_counter() - load.t0)
        if remaining > 0:
            time.sleep(remaining)
    finally:
        elapsed = load.stop()
    summary_table(title, load, elapsed)
    if fault:
        print()
        timeline(load, elapsed, marks)
    return load, extra


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--facilities", type=int, default=5000)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--fault-seconds", type=float, default=20)
    parser.add_argument("--fault-at", type=float, default=5)
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--kill-after", type=float, default=None,
                        help="seconds after the upload (or after the INSERTs begin) to kill")
    parser.add_argument("--kill-when", choices=["inserting", "uploaded"], default="inserting")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--pg-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/servicemap_load")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.kill_after is None:
        args.kill_after = 0.0 if args.kill_when == "inserting" else 1.0
    rng = random.Random(args.seed)
    url = args.pg_url.replace("+psycopg", "")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "servicemap"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    if not commit:  # an export (git archive) of a commit: say which one through the env
        commit = os.environ.get("SERVICEMAP_BENCH_COMMIT", "?") + " (exported tree)"
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 ** 2
    print(f"machine: {os.cpu_count()} CPUs, {mem:.1f} GiB RAM, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"commit {commit}, servicemap/ {'MODIFIED' if dirty else 'as committed'}")
    os.environ.update({"SERVICEMAP_DATABASE_URL": args.pg_url, "SERVICEMAP_AUTO_INIT": "false",
                       "SERVICEMAP_RATE_LIMIT_ENABLED": "false",
                       "SERVICEMAP_LOG_LEVEL": "WARNING"})
    env = dict(os.environ)
    all_writes: list[tuple] = []
    try:
        key = setup(args, env, rng)
        ids = [(str(i), c) for i, c in sql(url, "SELECT id, capacity FROM facility"
                                           " WHERE capacity IS NOT NULL")]
        print(f"facilities: {count_facilities(url)} ({len(ids)} with a capacity, the PATCH "
              f"targets); gunicorn -w 2 on {args.pg_url.rsplit('@', 1)[1]}")
        with gunicorn(args.pg_url) as (port, master):
            load, _ = run_load("plain", port, key, ids, args, args.seconds)
            all_writes += load.writes
            if args.faults:
                def pg_restart(load, marks):
                    try:
                        restart_postgres(marks, load.t0)
                    finally:
                        ensure_postgres()
                load, _ = run_load("fault 1: PostgreSQL restarted", port, key, ids, args,
                                   args.fault_seconds, pg_restart)
                all_writes += load.writes

                def kill_worker(load, marks):
                    victim = workers_of(master)[0]
                    os.kill(victim, signal.SIGKILL)
                    marks[f"SIGKILL worker {victim}"] = time.perf_counter() - load.t0
                    deadline = time.monotonic() + 15
                    while time.monotonic() < deadline:
                        now = workers_of(master)
                        if len(now) == 2 and victim not in now:
                            marks["replacement up"] = time.perf_counter() - load.t0
                            break
                        time.sleep(0.05)
                load, _ = run_load("fault 2: one worker SIGKILLed", port, key, ids, args,
                                   args.fault_seconds, kill_worker)
                print(f"workers after: {workers_of(master)}")
                all_writes += load.writes

                def imports(load, marks):
                    result = {}
                    before = count_facilities(url)
                    bad = facilities_csv(args.import_rows, "BAD", rng, bad_last=True)
                    out = {}
                    marks["bad import sent"] = time.perf_counter() - load.t0
                    post_import(port, key, bad, out)
                    marks["bad import answered"] = time.perf_counter() - load.t0
                    result["bad"] = (len(bad), out.get("status"), before, count_facilities(url),
                                     out["done"] - out["sent"] if "sent" in out else None,
                                     out.get("body", b"")[:160])
                    before = count_facilities(url)
                    good = facilities_csv(args.import_rows, "CRASH", rng)
                    out = {}
                    thread = threading.Thread(target=post_import, args=(port, key, good, out))
                    marks["valid import sent"] = time.perf_counter() - load.t0
                    thread.start()
                    while "sent" not in out and thread.is_alive():
                        time.sleep(0.01)
                    # Kill while it writes: once its session runs COPY/INSERT INTO facility (after
                    # validating every row), plus --kill-after; or --kill-after after the upload.
                    deadline = time.monotonic() + 120
                    while args.kill_when == "inserting" and thread.is_alive() \
                            and time.monotonic() < deadline:
                        if sql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                               " current_database() AND (query ILIKE 'COPY facility%'"
                               " OR query ILIKE 'INSERT INTO facility%')"
                               " AND pid <> pg_backend_pid()")[0][0]:
                            marks["import inserting"] = time.perf_counter() - load.t0
                            break
                        time.sleep(0.02)
                    time.sleep(args.kill_after)
                    victim = socket_owner(out.get("client_port", -1), port, workers_of(master))
                    if victim and "status" not in out:
                        os.kill(victim, signal.SIGKILL)
                        marks[f"SIGKILL importing worker {victim}"] = \
                            time.perf_counter() - load.t0
                    thread.join()
                    time.sleep(1)
                    result["crash"] = (len(good), victim, out.get("status"), before,
                                       count_facilities(url), out.get("body", b"")[:160])
                    return result
                load, result = run_load("fault 3: imports (invalid last row; worker killed "
                                        "mid-import)", port, key, ids, args,
                                        args.fault_seconds, imports)
                all_writes += load.writes
                size, status, before, after, took, body = result["bad"]
                print(f"\ninvalid last row: {args.import_rows} rows ({size / 1e6:.1f} MB) → "
                      f"{status} after {took:.1f} s; facilities before {before}, after {after} "
                      f"({'unchanged' if before == after else 'CHANGED'}); {body!r}")
                size, victim, status, before, after, body = result["crash"]
                print(f"valid import, worker {victim} SIGKILLed {args.kill_after} s after "
                      f"{'its INSERTs began' if args.kill_when == 'inserting' else 'the upload'}"
                      f": client saw {status}; facilities before {before}, after {after} "
                      f"({'unchanged' if before == after else 'CHANGED'}) {body!r}")
    finally:
        ensure_postgres()
    print("\n### integrity after all runs")
    for line in integrity(url, all_writes):
        print(line)


if __name__ == "__main__":
    main()

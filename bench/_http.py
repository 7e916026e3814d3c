"""The API under gunicorn (2 sync workers), loaded by wrk or, without it, a threaded client."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, workers: int = 2, app: str = "wsgi:app"):
    """A running server of `app` (a module of the checkout's top level or of bench/); yields
    (port, master pid). Always stopped on the way out."""
    port = free_port()
    # Rate limits off: the load comes from one address, which any real search limit (60/s)
    # would answer mostly 429, and a limit it never reaches keeps a moving window of every
    # request of the last second, which flask-limiter's memory store expires in O(n^2).
    env = {"SERVICEMAP_RATE_LIMIT_ENABLED": "false", **os.environ,
           "SERVICEMAP_DATABASE_URL": database_url,
           "SERVICEMAP_AUTO_INIT": "false", "SERVICEMAP_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "--pythonpath", str(ROOT / "bench"), app], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/healthz") == 200 and len(workers_of(process.pid)) == workers:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status


def workers_of(master: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                children.append(int(entry))
    return children


def rss_mb(pid: int) -> dict[str, float]:
    """VmRSS and its parts: RssAnon (private heap, SQLite's page cache) and RssFile (pages of
    mapped files, here mostly the database through SQLite's mmap: shared page cache)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def load(port: int, paths: list[str], seconds: float, connections: int = 4) -> dict:
    """requests/s, p50 and p99 in ms, and non-200 answers, cycling through `paths`."""
    if shutil.which("wrk"):
        return _wrk(port, paths, seconds, connections)
    return _threads(port, paths, seconds, connections)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(port: int, paths: list[str], seconds: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
                     "local i = 0\nrequest = function()\n  i = i % #paths + 1\n"
                     '  return wrk.format("GET", paths[i])\nend\n')
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency",
             "-s", script.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * _UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": percentile("50"), "p99": percentile("99"),
            "errors": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "", "client": "wrk"}


def _threads(port: int, paths: list[str], seconds: float, connections: int) -> dict:
    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, i = [], offset
        while time.perf_counter() < stop:
            started = time.perf_counter()
            connection.request("GET", paths[i % len(paths)])
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                errors[0] += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()  # gunicorn's sync workers close after each response
            i += connections
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": latencies[len(latencies) // 2] * 1e3,
            "p99": latencies[int(len(latencies) * 0.99)] * 1e3, "errors": errors[0],
            "socket_errors": "", "client": f"python threads x{connections}"}

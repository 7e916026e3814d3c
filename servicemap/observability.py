"""Request ids, JSON logs, security headers and Prometheus metrics for every request."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, Response, g, has_app_context, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

access_log = logging.getLogger("servicemap.access")

# A client's X-Request-ID is kept only when it is short and plain, so it is safe in logs.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

REQUESTS = Counter("servicemap_http_requests_total", "HTTP requests answered",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("servicemap_http_request_duration_seconds", "Time to answer a request",
                    ["endpoint", "method", "status"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# The method labels: every other method a client invents is counted as "other". Endpoints are
# the app's own route names (a fixed set) or "<unmatched>"; statuses are those we answer.
METRIC_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# livesum: under gunicorn each worker has its own pool; the sum is the connections in use.
POOL_CHECKED_OUT = Gauge("servicemap_db_pool_checked_out", "Database connections in use",
                         multiprocess_mode="livesum")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-site",
}
# JSON needs nothing; the Swagger UI page (/api/docs) loads its vendored files and the OpenAPI
# document from this host and runs one inline script, allowed by its hash.
CSP_JSON = "default-src 'none'; frame-ancestors 'none'"
# servicemap's own pages load only their own files and post their forms only to this host.
CSP_HTML = ("default-src 'none'; script-src 'self' {scripts}; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Stamp each record made during a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


DEV_SERVER_REQUEST_LINE = re.compile(r'"\S+ \S+ HTTP/[0-9.]+" \S+ ')
# The development server colours its request line by status (yellow for 404 and so on).
ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")
QUERY_STRING = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


def _no_dev_server_query_strings(record: logging.LogRecord) -> bool:
    # The development server's own request line has the query string, which for /nearest is
    # where a resident is: ours replaces that line. Its other lines (a malformed request line
    # quoted in an error) are kept with any query string cut off.
    message = ANSI_STYLE.sub("", record.getMessage())
    if DEV_SERVER_REQUEST_LINE.search(message):
        return False
    if "?" in message:
        record.msg, record.args = QUERY_STRING.sub(r"\1", message), None
    return True


def configure_logging(level: str) -> None:
    """Log JSON lines to stderr from the root logger; safe to call once per app."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "servicemap_json", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.servicemap_json = True
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
        logging.getLogger("werkzeug").addFilter(_no_dev_server_query_strings)


def init_observability(app: Flask) -> None:
    """Register the request hooks; call before anything that may refuse a request."""
    app.before_request(_start_request)
    app.after_request(_finish_request)


def init_security_headers(app: Flask) -> None:
    """Register the security headers' hook; call after compression is set up, so that (hooks
    running in reverse order) the page's inline scripts are hashed before it is compressed."""
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    # One pass over the headers, where setdefault would scan them once per header added: a
    # tenth of a small answer's cost.
    present = {name.lower() for name in response.headers.keys()}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            response.headers.add(name, value)
    if "content-security-policy" not in present:
        response.headers.add("Content-Security-Policy", _content_security_policy(response))
    return response


def _start_request() -> None:
    g.request_started = time.perf_counter()
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def _finish_request(response: Response) -> Response:
    if "request_id" not in g:  # refused before our before_request ran
        _start_request()
    elapsed = time.perf_counter() - g.request_started
    response.headers["X-Request-ID"] = g.request_id
    endpoint = request.url_rule.endpoint if request.url_rule else "<unmatched>"
    status = str(response.status_code)
    labels = (endpoint, _method_label(request.method), status)
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(elapsed)
    # The path only: queries carry coordinates, and bodies (eligibility facts) are never logged.
    access_log.info("%s %s %s", request.method, request.path, status, extra={"fields": {
        "method": request.method, "path": request.path, "endpoint": endpoint,
        "status": response.status_code, "latency_ms": round(elapsed * 1000, 2)}})
    return response


def _method_label(method: str) -> str:
    # Any token is a method to HTTP; a label per invented one would grow /metrics without bound.
    return method if method in METRIC_METHODS else "other"


def _content_security_policy(response: Response) -> str:
    if response.mimetype != "text/html" or response.direct_passthrough:
        return CSP_JSON
    policy = _html_policy(tuple(INLINE_SCRIPT.findall(response.get_data(as_text=True))))
    # The pages' optional map loads its tiles from the configured host, and from no other.
    from .pages.maps import tile_map

    tiles = tile_map() if has_app_context() else None
    return policy.replace("img-src 'self'", f"img-src 'self' {tiles.origin}") if tiles else policy


# Cached by the inline scripts, never by the page: a page may hold a person's eligibility facts.
@lru_cache(maxsize=16)
def _html_policy(scripts: tuple[str, ...]) -> str:
    hashes = [hashlib.sha256(script.encode()).digest() for script in scripts]
    allowed = " ".join(f"'sha256-{base64.b64encode(h).decode()}'" for h in hashes)
    return CSP_HTML.format(scripts=allowed)


def watch_pool(engine: Engine) -> None:
    """Keep the checked-out gauge current from the pool's own checkout/checkin events."""
    event.listen(engine, "checkout", lambda *_: POOL_CHECKED_OUT.inc())
    event.listen(engine, "checkin", lambda *_: POOL_CHECKED_OUT.dec())


def metrics_response() -> Response:
    """The Prometheus text exposition; summed over workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

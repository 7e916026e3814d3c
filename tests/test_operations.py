"""Operations: rate limits, request ids, JSON logs, security headers, metrics, database down."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import re
import secrets
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import brotli
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text, update

from servicemap import create_app, store
from servicemap.config import Config
from servicemap.database import make_engine
from servicemap.observability import JsonFormatter, watch_pool

from .conftest import assert_problem

REDIS_URL = "redis://127.0.0.1:6379/0"
NEAREST = "/api/v1/facilities/nearest?lat=29.8257&lon=106.4370"


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=["memory", "redis"])
def limited(request, database_url, tmp_path):
    """make(**limits) -> an app with rate limits on, in memory or in Redis (own key prefix)."""
    redis_url = ""
    if request.param == "redis":
        if not redis_reachable():
            pytest.skip("Redis is not reachable at 127.0.0.1:6379")
        redis_url = REDIS_URL
    prefix = f"servicemap-test-{uuid.uuid4().hex}"
    apps = []

    def make(**limits):
        config = Config(database_url=database_url, auto_init=False, testing=True,
                        instance_dir=tmp_path, rate_limit_enabled=True, redis_url=redis_url,
                        rate_limit_key_prefix=prefix, **limits)
        apps.append(create_app(config))
        return apps[-1]

    make.prefix, make.storage = prefix, request.param
    yield make
    for app in apps:
        store.dispose(app)
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def test_search_over_its_limit_is_429_problem_with_retry_after(limited):
    client = limited(rate_limit_search="2/minute").test_client()
    assert [client.get(NEAREST).status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/facilities")
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-Request-ID"]


def test_search_eligibility_and_writes_have_separate_limits(limited, make_key):
    app = limited(rate_limit_search="1/minute", rate_limit_eligibility="1/minute",
                  rate_limit_write="1/minute")
    client, admin = app.test_client(), make_key("admin")
    assert client.get("/api/v1/facilities").status_code == 200
    assert client.get("/api/v1/hsds/services").status_code == 429
    person = {"person": {"birth_date": "1950-03-01"}}
    assert client.post("/api/v1/eligibility", json=person).status_code == 200
    assert client.post("/api/v1/recommendations", json=person).status_code == 429
    missing = f"/api/v1/facilities/{uuid.uuid4()}"
    assert client.delete(missing, headers=admin).status_code == 404
    assert_problem(client.patch(missing, json={}, headers=admin), 429)
    # Probes, metrics and docs are never limited.
    assert {client.get(p).status_code for p in ("/healthz", "/readyz", "/metrics")} == {200}


def test_each_real_key_has_its_own_bucket_apart_from_the_address(limited, make_key):
    client = limited(rate_limit_search="1/minute").test_client()
    first, second = make_key("admin"), make_key("editor", ("500109",))
    assert client.get(NEAREST).status_code == 200
    assert client.get(NEAREST).status_code == 429
    assert client.get(NEAREST, headers=first).status_code == 200
    assert client.get(NEAREST, headers=first).status_code == 429
    assert client.get(NEAREST, headers=second).status_code == 200
    # A malformed key earns no bucket of its own: it counts against the address.
    assert client.get(NEAREST, headers={"Authorization": "Bearer junk"}).status_code == 429


def made_up_key() -> dict[str, str]:
    return {"Authorization": f"Bearer smk_{secrets.token_urlsafe(32)}"}


def test_made_up_keys_count_against_the_address(limited):
    client = limited(rate_limit_search="3/minute").test_client()
    answers = [client.get(NEAREST, headers=made_up_key()).status_code for _ in range(10)]
    assert answers == [200] * 3 + [429] * 7
    assert client.get(NEAREST).status_code == 429  # the same address, no key
    # Another address is untouched.
    assert client.get(NEAREST, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200


def test_write_attempts_with_bad_keys_are_limited(limited):
    client = limited(rate_limit_write="3/minute").test_client()
    attempts = [client.post("/api/v1/facilities", json={}, headers=headers).status_code
                for headers in [made_up_key() for _ in range(4)] + [
                    {"Authorization": "Bearer junk"}, {}]]
    assert attempts == [401, 401, 401, 429, 429, 429]


def test_a_revoked_key_loses_its_own_budget_within_the_cache_time(limited, make_key, app,
                                                                   monkeypatch):
    from servicemap import auth
    from servicemap.extensions import db
    from servicemap.models import ApiKey

    client = limited(rate_limit_search="1/minute").test_client()
    key = make_key("admin")

    def read_from(address: str) -> int:
        return client.get(NEAREST, headers=key, environ_base={"REMOTE_ADDR": address}).status_code

    assert read_from("203.0.113.1") == 200  # spends the key's own budget
    with app.app_context():
        db.session.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
        db.session.commit()
    # Within KNOWN_KEY_TTL_S the limiter may still trust it: its own (spent) budget ...
    assert read_from("203.0.113.2") == 429
    # ... and past it the key counts against the address it comes from.
    clock = auth.monotonic() + auth.KNOWN_KEY_TTL_S + 1
    monkeypatch.setattr(auth, "monotonic", lambda: clock)
    assert [read_from("203.0.113.2"), read_from("203.0.113.2")] == [200, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(limited):
    client = limited(rate_limit_search="1/minute", proxy_hops=1).test_client()
    first, second = ({"X-Forwarded-For": a} for a in ("203.0.113.7", "203.0.113.8"))
    assert client.get(NEAREST, headers=first).status_code == 200
    assert client.get(NEAREST, headers=first).status_code == 429
    assert client.get(NEAREST, headers=second).status_code == 200


def test_limits_hold_across_workers_sharing_redis(limited):
    if limited.storage != "redis":
        pytest.skip("only a shared store holds limits across workers")
    first = limited(rate_limit_search="2/minute").test_client()
    second = limited(rate_limit_search="2/minute").test_client()  # another worker
    assert first.get(NEAREST).status_code == 200
    assert second.get(NEAREST).status_code == 200
    assert first.get(NEAREST).status_code == 429
    assert second.get(NEAREST).status_code == 429


def test_the_limit_store_holds_a_hash_of_the_key_never_the_key(limited, make_key):
    if limited.storage != "redis":
        pytest.skip("the Redis keys are what an operator can read")
    import redis

    client = limited(rate_limit_search="5/minute").test_client()
    key = make_key("admin")
    secret = key["Authorization"].removeprefix("Bearer ")
    client.get(NEAREST, headers=key)
    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"*{limited.prefix}*")]
    assert keys and not any(secret in k or secret[4:20] in k for k in keys)
    assert any(re.search(r"key:[0-9a-f]{32}", k) for k in keys)


def test_requests_are_served_and_limited_per_worker_while_redis_is_down(database_url, tmp_path):
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, rate_limit_enabled=True,
                            redis_url="redis://127.0.0.1:1/0", rate_limit_search="2/minute"))
    client = app.test_client()
    assert [client.get(NEAREST).status_code for _ in range(3)] == [200, 200, 429]
    store.dispose(app)


def test_rate_limits_are_off_under_testing_unless_turned_on(database_url, tmp_path):
    app = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, rate_limit_search="1/minute"))
    client = app.test_client()
    assert {client.get(NEAREST).status_code for _ in range(3)} == {200}
    store.dispose(app)


def test_rate_limit_settings_are_read_from_the_environment():
    config = Config.from_env({"SERVICEMAP_RATE_LIMIT_ENABLED": "false",
                              "SERVICEMAP_RATE_LIMIT_SEARCH": "100/minute",
                              "SERVICEMAP_REDIS_URL": REDIS_URL,
                              "SERVICEMAP_STATEMENT_TIMEOUT_MS": "2500"})
    assert config.rate_limit_enabled is False and config.rate_limit_search == "100/minute"
    assert config.redis_url == REDIS_URL and config.statement_timeout_ms == 2500
    assert Config().rate_limit_enabled is None  # on, except when testing


def access_records(caplog) -> list[dict]:
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records
            if r.name == "servicemap.access"]


def test_each_request_logs_one_json_line_with_id_method_path_status_latency(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get(NEAREST + "&radius_m=3000", headers={"X-Request-ID": "trace-42.a:b"})
    [line] = access_records(caplog)
    assert line["request_id"] == "trace-42.a:b"
    assert line["method"] == "GET" and line["status"] == 200
    assert line["path"] == "/api/v1/facilities/nearest"  # the query carries coordinates
    assert line["endpoint"] == "nearest.nearest_facilities"  # the Flask endpoint name
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert "29.8257" not in json.dumps(line)


def test_eligibility_facts_never_reach_the_logs(client, caplog):
    facts = {"birth_date": "1931-02-03", "household_status": "extreme_poverty_support",
             "hukou_district": "500243", "special_family": True}
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/eligibility", json={"person": facts})
        client.post("/api/v1/eligibility", json={"person": {**facts, "care_need": 7}})
        client.post("/api/v1/recommendations", data=json.dumps({"person": facts}) + "}",
                    content_type="application/json")
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert len(access_records(caplog)) == 3
    for value in ("1931-02-03", "extreme_poverty_support", "500243"):
        assert not any(value in line for line in lines)


def test_request_id_is_echoed_and_a_bad_one_replaced(client):
    good = client.get("/api/v1/", headers={"X-Request-ID": "req-1"})
    assert good.headers["X-Request-ID"] == "req-1"
    for bad in ("x" * 129, "a b", "<script>", ""):
        response = client.get("/api/v1/", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    # Errors carry it too.
    assert client.get("/api/v1/nowhere", headers={"X-Request-ID": "e1"}).headers[
        "X-Request-ID"] == "e1"
    assert client.put("/api/v1/facilities", headers={"X-Request-ID": "e2"}).headers[
        "X-Request-ID"] == "e2"


def test_security_headers_on_json_and_errors(client):
    for response in (client.get("/api/v1/facilities"), client.get("/api/v1/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'none'; frame-ancestors 'none'")


@pytest.mark.parametrize("encoding", ["identity", "gzip", "br"])
def test_docs_page_policy_allows_its_own_host_and_inline_script_only(app, client, encoding):
    # As a browser asks for it: compressed (the page is smaller than the usual threshold), with
    # the inline script hashed before compression.
    app.config["COMPRESS_MIN_SIZE"] = 100
    response = client.get("/api/docs", headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    body = response.get_data()
    if encoding != "identity":
        assert response.headers["Content-Encoding"] == encoding
        body = gzip.decompress(body) if encoding == "gzip" else brotli.decompress(body)
    policy = response.headers["Content-Security-Policy"]
    [script] = re.findall(r"<script>(.*?)</script>", body.decode(), re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "style-src 'self' 'unsafe-inline';" in policy and "connect-src 'self'" in policy
    assert "http" not in policy  # no other host, the CDN the docs once used included
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


def test_metrics_count_requests_by_endpoint_and_status(client):
    client.get("/api/v1/facilities")
    client.get(f"/api/v1/facilities/{uuid.uuid4()}")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert re.search(r'servicemap_http_requests_total\{endpoint="facilities\.\w+",method="GET",'
                     r'status="200"\} [1-9]', body)
    assert 'status="404"' in body and "/api/v1/facilities/" not in body  # names, not raw paths
    assert "servicemap_http_request_duration_seconds_bucket{" in body
    assert "servicemap_db_pool_checked_out " in body


def test_pool_gauge_follows_checked_out_connections(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.sqlite3'}")
    watch_pool(engine)
    before = REGISTRY.get_sample_value("servicemap_db_pool_checked_out")
    with engine.connect():
        assert REGISTRY.get_sample_value("servicemap_db_pool_checked_out") == before + 1
    assert REGISTRY.get_sample_value("servicemap_db_pool_checked_out") == before
    engine.dispose()


def test_metrics_sum_over_workers_in_multiprocess_mode(tmp_path, sqlite_template):
    # prometheus-client picks its storage at import, so a fresh interpreter plays two workers.
    worker = f"""
import shutil, sys
from servicemap import create_app
from servicemap.config import Config
shutil.copy({str(sqlite_template)!r}, sys.argv[1] + ".sqlite3")
app = create_app(Config(database_url="sqlite:///" + sys.argv[1] + ".sqlite3",
                        auto_init=False, testing=True, instance_dir={str(tmp_path)!r}))
client = app.test_client()
client.get("/healthz")
if sys.argv[1].endswith("2"):
    print(client.get("/metrics").get_data(as_text=True))
"""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc), "PATH": "/usr/bin:/bin"}
    outputs = [subprocess.run([sys.executable, "-c", worker, str(tmp_path / f"w{n}")], env=env,
                              capture_output=True, text=True, check=True).stdout
               for n in (1, 2)]
    assert re.search(r'servicemap_http_requests_total\{endpoint="root.healthz",method="GET",'
                     r'status="200"\} 2\.0', outputs[1])


def test_database_down_is_503_with_retry_after_not_500(tmp_path):
    app = create_app(Config(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
                            auto_init=False, testing=True, instance_dir=tmp_path))
    client = app.test_client()
    for path in ("/api/v1/facilities", f"/api/v1/hsds/services/{uuid.uuid4()}"):
        response = client.get(path, headers={"X-Request-ID": "down-1"})
        body = assert_problem(response, 503)
        assert int(response.headers["Retry-After"]) > 0
        assert response.headers["X-Request-ID"] == "down-1"
        assert "nobody" not in body["detail"] and "127.0.0.1" not in body["detail"]


def test_service_resumes_after_postgresql_drops_its_connections(postgres_url, tmp_path):
    app = create_app(Config(database_url=postgres_url, auto_init=False, testing=True,
                            instance_dir=tmp_path))
    client = app.test_client()
    paths = ("/api/v1/facilities", "/api/v1/facilities/nearest?lat=29.8&lon=106.4")
    assert [client.get(path).status_code for path in paths] == [200, 200]
    # As after a server restart: every pooled connection is dead. pool_pre_ping replaces the
    # sessions'; the reader's (not pinged: /nearest) is replaced and its read tried again.
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    assert killed >= 2
    assert [client.get(path).status_code for path in reversed(paths)] == [200, 200]
    assert [client.get(path).status_code for path in paths] == [200, 200]
    store.dispose(app)


def test_postgresql_statements_have_a_bounded_time(postgres_url, tmp_path):
    app = create_app(Config(database_url=postgres_url, auto_init=False, testing=True,
                            instance_dir=tmp_path, statement_timeout_ms=1500))
    from servicemap.extensions import db

    with app.app_context():
        assert db.session.scalar(text("SHOW statement_timeout")) == "1500ms"
    store.dispose(app)


@pytest.mark.parametrize("error", ["psycopg", "sqlite3"])
def test_a_driver_error_during_the_search_is_503_not_500(client, monkeypatch, error):
    import sqlite3

    import psycopg

    from servicemap.geo import spatial

    failure = (psycopg.OperationalError("the database system is shutting down")
               if error == "psycopg" else sqlite3.OperationalError("database is locked"))

    def down(*args, **kwargs):
        raise failure

    # The backend's search, on the driver's own cursor: the store says what failed.
    monkeypatch.setattr(spatial, "sqlite_nearest", down)
    monkeypatch.setattr(spatial, "postgis_nearest", down)
    response = client.get("/api/v1/facilities/nearest?lat=29.8&lon=106.4")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.mimetype == "application/problem+json"


def test_a_connection_lost_at_teardown_does_not_turn_the_answer_into_a_500(client, app,
                                                                          monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    def lost(self):
        raise OperationalError("ROLLBACK", {}, Exception("the connection is lost"))

    monkeypatch.setattr(Session, "close", lost)
    response = client.get("/api/v1/facilities")
    assert response.status_code == 200


def dev_server_handler(request_line: str):
    """The development server's request handler, as it stands after reading a request line."""
    from werkzeug.serving import WSGIRequestHandler

    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.client_address, handler.requestline = ("127.0.0.1", 50000), request_line
    parts = request_line.split()
    if len(parts) == 3:
        handler.command, handler.path, handler.request_version = parts
    return handler


@pytest.mark.parametrize("status", [200, 304, 404, 422, 429, 500, 503])
def test_the_development_servers_request_line_never_logs_the_query_string(app, caplog, status):
    # werkzeug's own logging call, colours and all (it styles every status but 200).
    handler = dev_server_handler("GET /api/v1/facilities/nearest?lat=29.8213&lon=106.4321 "
                                 "HTTP/1.1")
    invented = dev_server_handler("RT123 /healthz?lat=29.8213 HTTP/1.1")
    with caplog.at_level(logging.INFO):
        handler.log_request(status, 123)
        handler.log_request(str(status))
        invented.log_request(status)
    assert not any("29.8213" in r.getMessage() or "lat=" in r.getMessage()
                   for r in caplog.records)
    # Our own access line replaces the development server's request line.
    assert not [r for r in caplog.records if r.name == "werkzeug"]


def test_the_development_servers_error_lines_lose_the_query_string_only(app, caplog):
    handler = dev_server_handler("GET /api/v1/facilities/nearest?lat=29.8213&lon=106.4321 x y")
    with caplog.at_level(logging.INFO):
        # What http.server logs for a request line it cannot read, then its request line.
        handler.log_error("code %d, message %s", 400,
                          f"Bad request syntax ({handler.requestline!r})")
        handler.log_request(400)
    messages = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert messages and not any("29.8213" in m or "lat=" in m for m in messages)
    assert any("Bad request syntax ('GET /api/v1/facilities/nearest x y')" in m
               for m in messages)


def metric_series() -> set[tuple]:
    return {(s.name, tuple(sorted(s.labels.items())))
            for metric in REGISTRY.collect() if metric.name.startswith("servicemap_http")
            for s in metric.samples}


def test_invented_methods_add_no_metric_series(client):
    client.open("/healthz", method="RT0")
    before = metric_series()
    for n in range(1, 201):
        assert client.open("/healthz", method=f"RT{n}").status_code == 405
    assert metric_series() == before
    body = client.get("/metrics").get_data(as_text=True)
    assert 'method="other"' in body and "RT1" not in body

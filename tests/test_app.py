"""The app factory, configuration, the root, health probes and the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from servicemap import create_app
from servicemap.config import Config


def test_config_reads_typed_servicemap_variables(tmp_path):
    config = Config.from_env({
        "SERVICEMAP_DATABASE_URL": "sqlite:///x.db", "SERVICEMAP_PER_PAGE_MAX": "50",
        "SERVICEMAP_AUTO_INIT": "false", "SERVICEMAP_CORS_ORIGINS": "https://a.cn, https://b.cn",
        "SERVICEMAP_INSTANCE_DIR": str(tmp_path), "OTHER": "ignored",
    })
    assert config.database_url == "sqlite:///x.db"
    assert config.per_page_max == 50 and config.auto_init is False
    assert config.cors_origins == ["https://a.cn", "https://b.cn"]
    assert config.instance_dir == tmp_path


def test_config_defaults_to_sqlite_under_the_instance_folder(tmp_path):
    config = Config.from_env({"SERVICEMAP_INSTANCE_DIR": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'servicemap.sqlite3'}"
    assert config.per_page_default == 20 and config.per_page_max == 100


def test_config_refuses_a_bad_value_naming_the_variable():
    with pytest.raises(ValueError, match="SERVICEMAP_PER_PAGE_MAX"):
        Config.from_env({"SERVICEMAP_PER_PAGE_MAX": "lots"})


def test_factory_uses_the_test_configuration(app):
    assert app.testing
    assert app.config["SERVICEMAP"].auto_init is False


def test_root_names_the_api_and_its_openapi_document(client):
    body = client.get("/api/v1/").json
    assert body["version"] == "1"
    assert body["openapi_url"] == "/api/openapi.json"
    assert client.get(body["openapi_url"]).status_code == 200


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ok"


def test_readyz_is_503_with_retry_after_when_the_database_is_unreachable(tmp_path):
    app = create_app(Config(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
                            auto_init=False, testing=True, instance_dir=tmp_path))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.mimetype == "application/problem+json"


def test_openapi_document_is_valid_and_describes_every_endpoint(app, client):
    spec = client.get("/api/openapi.json").json
    validate(spec)
    # Every URL the app answers, with each of its methods, except the document and its UI
    # themselves, Flask's static route and the HTML pages.
    served = {
        (re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not rule.endpoint.startswith(("api-docs.", "pages."))  # HTML for people
        for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert served - described == set()
    assert {("/api/v1/facilities/{facility_id}", "patch"), ("/healthz", "get"),
            ("/api/v1/hsds/organizations/{organization_id}", "get")} <= served


def test_docs_page_is_served(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and b"swagger" in response.data.lower()


def test_cors_allows_only_configured_origins(sqlite_template, tmp_path):
    import shutil

    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", auto_init=False,
                            testing=True, instance_dir=tmp_path,
                            cors_origins=["https://app.example.cn"]))
    client = app.test_client()
    allowed = client.get("/api/v1/", headers={"Origin": "https://app.example.cn"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.cn"
    other = client.get("/api/v1/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("path", ["/assets/servicemap.css",
                                  "/static/vendor/swagger-ui/swagger-ui.css"])
def test_an_asset_answer_dropped_unread_leaves_no_file_open(app, monkeypatch, path):
    # A browser that moves on mid-download: the server drops the answer without reading or
    # closing it. An open file left for the garbage collector would warn (and hold its
    # descriptor until then); the assets are answered from memory (static_files.py).
    import gc
    import sys

    from werkzeug.test import EnvironBuilder

    lost = []
    monkeypatch.setattr(sys, "unraisablehook", lost.append)
    answer = app(EnvironBuilder(path=path).get_environ(), lambda status, headers: None)
    del answer
    gc.collect()
    assert lost == []


def test_assets_keep_their_validators_and_ranges(client):
    first = client.get("/assets/servicemap.css")
    assert first.status_code == 200 and first.mimetype == "text/css"
    assert first.headers["Content-Length"] == str(len(first.data)) and first.headers["ETag"]
    again = client.get("/assets/servicemap.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    part = client.get("/assets/servicemap.css", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == first.data[:10]
    assert client.get("/assets/../__init__.py").status_code == 404
    assert client.get("/assets/nothing-here.css").status_code == 404

"""servicemap: 一老一小 services near you in Chongqing, and the programmes you qualify for."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request

from .config import Config
from .static_files import StaticFromMemory


class _Flask(StaticFromMemory, Flask):
    """Flask, its static files (the vendored Swagger UI) answered from memory."""


def create_app(config: Config | None = None) -> Flask:
    """Build the app: bind extensions, register blueprints and commands, nothing else."""
    from . import caching, cli, errors, limits, observability, pages, store
    from .api import (
        audit,
        districts,
        eligibility,
        exports,
        facilities,
        geocode,
        hsds,
        imports,
        keys,
        nearest,
        root,
    )
    from .api import communities as communities_api
    from .api import coverage as coverage_api
    from .eligibility import load_catalogue
    from .extensions import api, db
    from .holidays import TABLE_NAME, load_calendar
    from .http_methods import WRITE_METHODS
    from .seeding import initialise_if_empty

    config = config or Config.from_env()
    app = _Flask(__name__, instance_path=str(config.instance_dir))
    app.config.update(
        SERVICEMAP=config,
        TESTING=config.testing,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        API_TITLE="servicemap 一老一小服务地图",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Vendored (static/vendor/swagger-ui/README.md): the docs work offline, no CDN.
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},  # no badge from validator.swagger.io
    )
    app.json.ensure_ascii = False  # Chinese as characters, not \u escapes
    app.json.sort_keys = False
    observability.configure_logging(config.log_level)

    # A bad programme file stops start-up here, naming the file and the path inside it.
    app.extensions["servicemap.catalogue"] = load_catalogue(config.seeds_dir / "policies")
    # So does a bad line in the holiday table, naming the file and the line.
    app.extensions["servicemap.calendar"] = load_calendar(
        Path(config.holiday_table) if config.holiday_table else config.seeds_dir / TABLE_NAME)
    db.init_app(app)

    @app.before_request
    def _writes_begin_as_writers():
        # First of the hooks, so that the session any later one opens begins as it should.
        db.begin_as_writer(request.method in WRITE_METHODS)

    observability.watch_pool(store.engine(app))
    # Request ids and logging first, so a request refused by a rate limit is still logged.
    observability.init_observability(app)
    limits.init_rate_limits(app)
    caching.init_caching(app)
    observability.init_security_headers(app)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "An API key"})
    for blueprint in (root.blp, nearest.blp, facilities.blp, imports.blp, exports.blp,
                      eligibility.blp, hsds.blp, audit.blp, geocode.blp, districts.blp,
                      keys.blp, communities_api.blp, coverage_api.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(pages.blp)
    errors.register_error_handlers(app)
    cli.register(app)
    if config.cors_origins:
        from flask_cors import CORS

        CORS(app, origins=config.cors_origins, expose_headers=["ETag", "Location", "Link"])
    if config.proxy_hops:
        # The client address (rate limits, logs) is the one the trusted proxies saw.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops, x_proto=config.proxy_hops)
    if config.auto_init:
        with app.app_context():
            initialise_if_empty()
    return app

"""HTTP caching and compression of answers: ETag, Cache-Control, and gzip/brotli/zstd.

Public reads (facilities, nearest, HSDS, programmes, exports, the OpenAPI document) may be
kept by browsers and shared caches for `cache_max_age` seconds, never past the moment an answer
says something changes (a listed facility's `next_change`, when `open_now` flips), and carry a
strong ETag of their body so that If-None-Match answers 304 without one. Anything sent with a
key, every write, eligibility answers (personal facts) and the health endpoints are no-store.
Compression is flask-compress's, for answers of at least `compress_min_bytes` when the client
asks; it gives compressed answers their own ETag (`"…:gzip"`) as RFC 9110 wants of a strong tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import Flask, Response, current_app, g, request
from flask_compress import Compress

from . import hours
from .http_methods import WRITE_METHODS

# Blueprints whose GET answers are the same for everyone who asks (api-docs: the OpenAPI
# document and its viewer), and the few public endpoints of blueprints that also hold others.
PUBLIC_BLUEPRINTS = {"facilities", "nearest", "hsds", "exports", "api-docs", "communities",
                     "coverage"}
PUBLIC_ENDPOINTS = {"root.index", "eligibility.list_programs", "eligibility.get_program"}
COMPRESSED_TYPES = ["application/json", "application/geo+json", "application/problem+json",
                    "text/csv", "text/html"]
# deflate is left out: clients disagree on whether it means zlib or raw DEFLATE.
ALGORITHMS = ["zstd", "br", "gzip"]
# What make_conditional answers (304, 412); without any of them it changes nothing.
CONDITIONAL_HEADERS = ("If-None-Match", "If-Match", "If-Modified-Since", "If-Unmodified-Since")


def init_caching(app: Flask) -> None:
    """Compress answers, then (registered after, so run before it) tag and mark them."""
    config = app.config["SERVICEMAP"]
    app.config.update(COMPRESS_MIMETYPES=COMPRESSED_TYPES,
                      COMPRESS_MIN_SIZE=config.compress_min_bytes,
                      COMPRESS_ALGORITHM=ALGORITHMS, COMPRESS_ALGORITHM_STREAMING=ALGORITHMS)
    Compress(app)
    app.after_request(_cache_headers)


def fresh_until(next_changes: Iterable[str | None]) -> None:
    """Say that the answer being built changes at the earliest of these ISO 8601 moments
    (the `next_change` of the facilities it shows), so no cache keeps it past then."""
    known = [moment for moment in next_changes if moment]
    if known:
        earliest = min(datetime.fromisoformat(moment) for moment in known)
        g.fresh_until = min(earliest, g.get("fresh_until", earliest))


def _public(response: Response) -> bool:
    return (request.method in ("GET", "HEAD") and response.status_code in (200, 304)
            and "Authorization" not in request.headers
            and (request.blueprint in PUBLIC_BLUEPRINTS or request.endpoint in PUBLIC_ENDPOINTS))


def _cache_headers(response: Response) -> Response:
    if not _public(response):
        if request.method in WRITE_METHODS or "Authorization" in request.headers or (
                request.endpoint and request.endpoint.startswith(("root.", "audit."))):
            response.headers["Cache-Control"] = "no-store"
        return response
    max_age = current_app.config["SERVICEMAP"].cache_max_age
    if "fresh_until" in g:
        max_age = max(0, min(max_age, int((g.fresh_until - hours.shanghai_now()).total_seconds())))
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if response.status_code == 200 and not response.is_streamed and "ETag" not in response.headers:
        response.add_etag()  # a SHA-1 of the body: strong, as the bytes are the answer
        if any(name in request.headers for name in CONDITIONAL_HEADERS):
            response.make_conditional(request)  # a tenth of a /nearest answer: only if asked
    return response

"""Rate limits (Flask-Limiter): per API key or client address, by kind of request."""

from __future__ import annotations

import hashlib
import math
import re
import time

from flask import Flask, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter, RequestLimit

from .auth import KEY_PREFIX, is_known_key
from .errors import problem_response
from .http_methods import WRITE_METHODS

# What a key from auth.create_key looks like: the prefix and 43 URL-safe characters. Anything
# else is not worth a database look-up and counts against the client's address.
KEY_SHAPE = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_-]{20,100}")
ELIGIBILITY_PATHS = ("/api/v1/eligibility", "/api/v1/recommendations")
CATEGORIES = ("search", "eligibility", "write")
# POSTs that only read: their body is a question too long for a URL (candidate points).
READ_POSTS = ("/api/v1/coverage/suggestions",)


def client_identity() -> str:
    """The rate-limit key: a hash of a real, unrevoked Bearer key, else the client's address."""
    if "rate_limit_identity" not in g:  # asked once per limit; the key is looked up once
        g.rate_limit_identity = _identity()
    return g.rate_limit_identity


def _identity() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    # A made-up key earns no budget of its own: it would let a client that sends a fresh one
    # each time escape every limit, writes with bad keys included.
    if scheme.lower() == "bearer" and KEY_SHAPE.fullmatch(secret) and is_known_key(secret):
        # A hash under its own label: the stored key_hash never appears in the limit store.
        digest = hashlib.blake2b(secret.encode(), digest_size=16, person=b"sm-ratelimit")
        return "key:" + digest.hexdigest()
    return "addr:" + (request.remote_addr or "unknown")


def request_category(method: str, path: str) -> str | None:
    """Which limit a request counts against: search, eligibility, write, or none."""
    if not path.startswith("/api/v1/"):
        return None  # probes, /metrics and the API docs are not limited
    if path.rstrip("/") in ELIGIBILITY_PATHS:
        return "eligibility" if method == "POST" else None
    if method == "POST" and path.rstrip("/") in READ_POSTS:
        return "search"
    if method in WRITE_METHODS:
        return "write"
    if method in {"GET", "HEAD"}:
        return "search"
    return None


def _limit_for(category: str) -> ApplicationLimit:
    def value() -> str:
        return getattr(current_app.config["SERVICEMAP"], f"rate_limit_{category}")

    def exempt() -> bool:
        return request_category(request.method, request.path) != category

    return ApplicationLimit(limit_provider=value, key_function=client_identity,
                            scope=category, exempt_when=exempt)


def _too_many_requests(limit: RequestLimit) -> object:
    # window[0] is when the window frees a hit (reset_at rounds it up a further second).
    retry_after = max(1, math.ceil(limit.window[0] - time.time()))
    return problem_response(
        429, f"Rate limit of {limit.limit} exceeded; retry after {retry_after} s.",
        headers={"Retry-After": str(retry_after)})


def init_rate_limits(app: Flask) -> Limiter:
    """Bind a Limiter to this app: in memory, or in Redis when SERVICEMAP_REDIS_URL is set."""
    config = app.config["SERVICEMAP"]
    enabled = config.rate_limit_enabled
    if enabled is None:
        enabled = not config.testing  # tests turn limits on when they test them
    app.config["RATELIMIT_ENABLED"] = enabled
    # One Limiter per app: Flask-Limiter keeps its storage and settings on the instance.
    return Limiter(
        client_identity,
        app=app,
        application_limits=[_limit_for(category) for category in CATEGORIES],
        storage_uri=config.redis_url or "memory://",
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2}
        if config.redis_url else {},
        key_prefix=config.rate_limit_key_prefix,
        strategy="moving-window",
        on_breach=_too_many_requests,
        # Redis down: each worker limits on its own in memory until Redis answers again.
        in_memory_fallback_enabled=bool(config.redis_url),
        swallow_errors=True,
    )

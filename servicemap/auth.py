"""API keys: creation, hashing, authentication of writes, roles and district scopes."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from time import monotonic

from flask import current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .domain_errors import Forbidden
from .errors import Problem
from .extensions import db
from .models import ApiKey

KEY_PREFIX = "smk_"
# The rate limiter trusts that a key is real and unrevoked for this long (per process) before it
# asks the database again, so a revoked key keeps its own rate budget, never its access, for at
# most this many seconds. Only real keys are remembered: made-up ones cannot fill the cache.
KNOWN_KEY_TTL_S = 30.0
KNOWN_KEY_CACHE_SIZE = 10_000


def hash_key(secret: str) -> str:
    """SHA-256 of the key (HMAC with SERVICEMAP_SECRET_KEY when set); keys are 256-bit random."""
    pepper = current_app.config["SERVICEMAP"].secret_key
    if pepper:
        return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(role: str, districts: list[str], name: str) -> tuple[ApiKey, str]:
    """Store a new key's hash and return the key; the secret itself is never stored."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=secret[:12], key_hash=hash_key(secret), role=role,
                 districts=sorted(set(districts)))
    db.session.add(key)
    db.session.commit()
    return key, secret


def is_known_key(secret: str) -> bool:
    """True for a real, unrevoked key; remembered for KNOWN_KEY_TTL_S in this process."""
    known: dict[str, float] = current_app.extensions.setdefault("servicemap.known_keys", {})
    key_hash, now = hash_key(secret), monotonic()
    if known.get(key_hash, 0.0) > now:
        return True
    try:
        found = db.session.scalar(select(ApiKey.id).where(
            ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))) is not None
    except SQLAlchemyError:
        return False  # database down: the request counts against its address
    if not found:
        known.pop(key_hash, None)
        return False
    if len(known) >= KNOWN_KEY_CACHE_SIZE:
        known.clear()
    known[key_hash] = now + KNOWN_KEY_TTL_S
    return True


def authenticate() -> ApiKey:
    """The key of this request, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="servicemap"'}
    if scheme.lower() != "bearer" or not secret.strip():
        raise Problem(401, "Writes need 'Authorization: Bearer <api key>'.", headers=challenge)
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret.strip())))
    if key is None or key.revoked_at is not None:
        raise Problem(401, "The API key is not valid or has been revoked.", headers=challenge)
    return key


def key_required(view):
    """Let a view run only for a valid key; the key is in g.api_key."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.api_key = authenticate()
        return view(*args, **kwargs)

    return wrapper


def admin_only(refusal: str):
    """Let a view (under key_required) run only for an admin key; others get 403 `refusal`.

    Put it last, next to the view, so that the view's arguments are checked first.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.api_key.role != "admin":
                raise Problem(403, refusal)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def check_district(district_code: str | None) -> None:
    """403 unless the request's key may write facilities of this district."""
    key: ApiKey = g.api_key
    if not key.may_write(district_code):
        scope = ", ".join(key.districts) or "none"
        raise Forbidden(f"This editor key may write only in districts {scope}; "
                        f"the facility is in {district_code or 'no district'}.")

"""The one place where errors become application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging

from flask import Flask, Response, json
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .domain_errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unavailable
from .store import StoreConflict, StoreUnavailable

log = logging.getLogger(__name__)

# Titles in 简体中文 beside the English reason phrase, for front ends that show them as they are.
TITLES_ZH = {
    400: "请求格式错误", 401: "需要有效的 API 密钥", 403: "无权执行此操作", 404: "未找到",
    405: "不支持该请求方法", 409: "数据冲突", 412: "数据已被他人修改，请刷新后重试",
    413: "请求体过大", 415: "不支持的内容类型", 422: "请求参数无效", 429: "请求过于频繁",
    500: "服务器内部错误", 503: "服务暂时不可用",
}


class Problem(Exception):
    """An error the client should see: status, detail and, for invalid input, field messages."""

    def __init__(self, status: int, detail: str, errors: dict | None = None,
                 headers: dict | None = None, body: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers or {}
        self.body = body or {}  # extension members, e.g. an import's report

    @classmethod
    def invalid(cls, errors: dict[str, list[str]]) -> Problem:
        """422 for well-formed input with bad values, naming every field."""
        return cls(422, invalid_detail(errors), errors)


def invalid_detail(errors: dict) -> str:
    return Invalid(errors).detail


# The status each domain refusal answers with.
DOMAIN_STATUS = {NotFound: 404, Invalid: 422, Conflict: 409, Forbidden: 403, Unavailable: 503}


def problem_response(status: int, detail: str, errors: dict | None = None,
                     headers: dict | None = None, extra: dict | None = None) -> Response:
    """A problem+json response; the only constructor of error bodies in the app."""
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "title_zh": TITLES_ZH.get(status, "错误"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    response.headers.extend(headers or {})
    return response


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow/webargs nested messages -> {"location.lat": ["..."]}, named as sent."""
    if isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": list(messages)}
    if isinstance(messages, str):
        return {prefix or "body": [messages]}
    flat: dict[str, list[str]] = {}
    items = messages.items() if isinstance(messages, dict) else enumerate(messages)
    for key, value in items:
        if key == "_schema":
            name = prefix
        elif isinstance(key, int):
            name = f"{prefix}[{key}]"
        else:
            name = f"{prefix}.{key}" if prefix else str(key)
        for field, texts in flatten_messages(value, name).items():
            flat.setdefault(field, []).extend(texts)
    return flat


# Seconds a client should wait when the database is unreachable (pool_pre_ping reconnects).
DATABASE_RETRY_AFTER = "5"


def from_http_exception(error: HTTPException) -> Response:
    if error.response is not None:  # already a problem response, e.g. a rate limit's 429
        return error.response
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if messages is not None:
        # webargs nests messages under the location (json, query, ...); clients know fields.
        errors = {}
        for location_messages in messages.values():
            errors.update(flatten_messages(location_messages))
        if error.code == 400:
            return problem_response(400, "The request body is not valid JSON.", errors, headers)
        return problem_response(error.code, invalid_detail(errors), errors, headers)
    return problem_response(error.code or 500, error.description or "", None, headers)


def register_error_handlers(app: Flask) -> None:
    """Route every exception through problem_response (HTTPException: see extensions.py)."""

    @app.errorhandler(Problem)
    def _problem(error: Problem):
        return problem_response(error.status, error.detail, error.errors, error.headers,
                                error.body)

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        status = next(code for kind, code in DOMAIN_STATUS.items() if isinstance(error, kind))
        return problem_response(status, error.detail, error.errors)

    @app.errorhandler(StaleDataError)
    def _stale(_error):
        # Another writer committed between our read and our write (version check failed).
        return problem_response(412, "The facility was changed by someone else; fetch it again.")

    @app.errorhandler(IntegrityError)
    # The store's, from bulk writes on the drivers' cursors (COPY on PostgreSQL).
    @app.errorhandler(StoreConflict)
    def _integrity(error):
        log.warning("integrity error: %s", getattr(error, "orig", error))
        return problem_response(409, "The change conflicts with data already stored.")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    # The same failures on the drivers' own cursors (the nearest search), as the store says.
    @app.errorhandler(StoreUnavailable)
    def _database_unavailable(error):
        # Connection refused, lost, timed out or locked: the client may try again shortly.
        log.error("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        return problem_response(503, "The database is unavailable; try again shortly.",
                                headers={"Retry-After": DATABASE_RETRY_AFTER})

    @app.errorhandler(DBAPIError)
    def _dbapi_error(error):
        if error.connection_invalidated:  # the connection died under the statement
            return _database_unavailable(error)
        return _unexpected(error)

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unhandled error")
        return problem_response(500, "An unexpected error occurred; it has been logged.")

"""HTTP resources, one module per resource, and what every resource checks in a request."""

from __future__ import annotations

import functools
import json
import re
from itertools import accumulate

import flask_smorest
from flask import current_app, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from ..bounds import (
    JSON_MAX_DEPTH,
    JSON_MAX_DIGITS,
    UNSTORABLE_MESSAGE,
    printable_name,
    storable_text,
)
from ..errors import Problem
from ..http_methods import BODY_METHODS
from .quick_arguments import quick_loader

JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]")
# Cheap tests on the text that let most bodies skip the slower checks: a NUL or a surrogate can
# only come as a \u escape (raw control characters are invalid JSON; UTF-8 has no surrogates).
LONG_NUMBER = re.compile(rf"\d{{{JSON_MAX_DIGITS + 1}}}")
NUL_OR_SURROGATE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
MAX_NAMED = 20


def require_json() -> None:
    """415 for a write whose body is not JSON (a blueprint before_request hook)."""
    if request.method in BODY_METHODS and not request.is_json:
        raise Problem(415, "Send the body as JSON with 'Content-Type: application/json'; "
                           f"got {request.mimetype or 'no content type'}.")


def page_size(per_page: int | None) -> int:
    """The page size asked for (already at least 1), or the default; 422 past the maximum."""
    config = current_app.config["SERVICEMAP"]
    if per_page is not None and per_page > config.per_page_max:
        raise Problem(422, "per_page is too large.",
                      {"per_page": [f"Must be at most {config.per_page_max}."]})
    return per_page or config.per_page_default


def read_json_body(data: bytes) -> object:
    """A request's JSON body within JSON_MAX_DEPTH and JSON_MAX_DIGITS, its text storable.

    Malformed JSON raises json.JSONDecodeError (webargs answers 400); a body past the limits is
    400 naming `body`; NUL or a lone surrogate in any string or key is 422 naming its path.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"Bytes decoding error: {exc.reason}", "?", exc.start) from None
    _check_depth(text)
    if LONG_NUMBER.search(text):
        document = json.loads(text, parse_int=_bounded_int)
    else:
        document = json.loads(text)
    if NUL_OR_SURROGATE_ESCAPE.search(text):
        errors = _unstorable_strings(document)
        if errors:
            raise Problem.invalid(errors)
    return document


def _check_depth(text: str) -> None:
    # Counted before parsing, without recursion: the parser itself would recurse once per level.
    if text.count("[") + text.count("{") <= JSON_MAX_DEPTH:
        return
    brackets = NOT_A_BRACKET.sub("", JSON_STRING.sub("", text))
    depth = max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)
    if depth > JSON_MAX_DEPTH:
        raise Problem(400, f"The JSON body is nested deeper than {JSON_MAX_DEPTH} levels.",
                      {"body": [f"Nest objects and arrays at most {JSON_MAX_DEPTH} deep. "
                                f"嵌套不得超过 {JSON_MAX_DEPTH} 层。"]})


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > JSON_MAX_DIGITS:
        raise Problem(400, f"The JSON body holds a number of more than {JSON_MAX_DIGITS} digits.",
                      {"body": [f"Numbers may have at most {JSON_MAX_DIGITS} digits. "
                                f"数字不得超过 {JSON_MAX_DIGITS} 位。"]})
    return int(literal)


def _unstorable_strings(document: object) -> dict[str, list[str]]:
    """Every string or key holding NUL or a lone surrogate, by path (`person.name`, `a[0]`)."""
    errors: dict[str, list[str]] = {}
    pending = [("", document)]
    while pending and len(errors) < MAX_NAMED:  # enough to find them, short enough to read
        path, value = pending.pop()
        if isinstance(value, str) and not storable_text(value):
            errors[path or "body"] = [UNSTORABLE_MESSAGE]
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{printable_name(key)}" if path else printable_name(key)
                if not storable_text(key):
                    errors[name] = [UNSTORABLE_MESSAGE]
                pending.append((name, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return errors


def refuse_unstorable_url_text() -> None:
    """422 naming each query argument or path part that holds NUL (a before_request hook)."""
    errors = {printable_name(name): [UNSTORABLE_MESSAGE]
              for name, value in [*request.args.items(multi=True),
                                  *(request.view_args or {}).items()]
              if not (storable_text(name) and storable_text(str(value)))}
    if errors:
        raise Problem.invalid(errors)


class RequestParser(FlaskParser):
    """webargs' parser, reading JSON bodies through read_json_body."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return read_json_body(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the request checks every resource shares."""

    ARGUMENTS_PARSER = RequestParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(refuse_unstorable_url_text)

    def arguments(self, schema, *, quick: tuple[str, ...] = (), **kwargs):
        """flask-smorest's arguments (documented and read by the schema), and with `quick`,
        query arguments of those fields first read by api/quick_arguments.py (a hot path)."""
        documented = super().arguments(schema, **kwargs)
        if not quick:
            return documented
        load = quick_loader(schema, quick)

        def decorator(view):
            parsed = documented(view)

            @functools.wraps(parsed)
            def quick_view(*args, **kw):
                found = load(request.args)
                return parsed(*args, **kw) if found is None else view(*args, found, **kw)

            return quick_view

        return decorator

"""HTTP resources, one module per resource."""

from flask import request

from ..errors import Problem

WRITE_METHODS = {"POST", "PUT", "PATCH"}


def require_json() -> None:
    """415 for a write whose body is not JSON (a blueprint before_request hook)."""
    if request.method in WRITE_METHODS and not request.is_json:
        raise Problem(415, "Send the body as JSON with 'Content-Type: application/json'; "
                           f"got {request.mimetype or 'no content type'}.")

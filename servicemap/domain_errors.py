"""What the domain refuses, in its own words; errors.py alone turns these into HTTP answers.

The registry, imports, seeding, geocoding and the district check raise these, so that a
command-line caller (flask seed, flask import) reads a reason instead of an HTTP status.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal with a message for people and, when fields are to blame, their messages."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail, self.errors = detail, errors


class NotFound(DomainError):
    """No such thing (404)."""


class Invalid(DomainError):
    """Well-formed values that break a rule, naming every field (422)."""

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None):
        super().__init__(detail or "Invalid value for: " + ", ".join(errors) + ".", errors)


class Conflict(DomainError):
    """Clashes with what is stored, e.g. a key already in use (409)."""


class Forbidden(DomainError):
    """The writer may not do this (403)."""


class Unavailable(DomainError):
    """Something the write needs cannot be had just now; worth trying again (503)."""

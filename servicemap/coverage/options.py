"""The options coverage and suggestions share, checked before any work."""

from __future__ import annotations

import math

from ..domain_errors import Invalid

METHODS = ("distance", "2sfca")


def check(distance_m: float, detour: float, method: str) -> None:
    """Invalid, naming each field, unless the distance, detour and method make sense."""
    errors = {}
    if not (isinstance(distance_m, int | float) and math.isfinite(distance_m) and distance_m > 0):
        errors["distance_m"] = ["Must be a positive number of metres."]
    if not (isinstance(detour, int | float) and math.isfinite(detour) and detour >= 1.0):
        errors["detour"] = ["Must be at least 1 (a walk is never shorter than the line)."]
    if method not in METHODS:
        errors["method"] = [f"Must be one of: {', '.join(METHODS)}."]
    if errors:
        raise Invalid(errors)

"""/admin: the console for district clerks and administrators, on the public API."""

from __future__ import annotations

from flask import render_template

from ..districts import load_districts
from .blueprint import blp


@blp.route("/admin")
def console():
    """The console's page; admin.js signs in with the key and calls /api/v1 with it."""
    return render_template("pages/admin.html", districts=load_districts().values())

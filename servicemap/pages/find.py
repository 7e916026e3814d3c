"""/ 找服务: where am I, what do I need, and the nearest places, rendered from the URL."""

from __future__ import annotations

from flask import render_template, request
from marshmallow import ValidationError

from ..api.nearest import nearest_answer
from ..errors import flatten_messages
from ..schemas import NearestQuerySchema
from .blueprint import blp

# The query arguments the search form sends, passed to the API's own schema as they are.
SEARCH_ARGUMENTS = ("lat", "lon", "coordsys", "kind", "radius_m", "open_now", "has_vacancy",
                    "inclusive", "limit")
LIST_ARGUMENTS = ("kind",)


@blp.route("/")
def find():
    """找服务: the search form, and with lat/lon the nearest results (no JavaScript needed)."""
    asked = {name: (request.args.getlist(name) if name in LIST_ARGUMENTS
                    else request.args.get(name))
             for name in SEARCH_ARGUMENTS if name in request.args}
    asked = {name: value for name, value in asked.items() if value not in ("", [])}
    answer, errors = None, {}
    if "lat" in asked or "lon" in asked:
        try:
            answer = nearest_answer(NearestQuerySchema().load(asked))
        except ValidationError as error:
            errors = flatten_messages(error.messages)
    status = 422 if errors else 200
    return render_template("pages/find.html", asked=asked, answer=answer,
                           errors=errors), status

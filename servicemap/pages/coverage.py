"""/admin/coverage 覆盖率: the shares of residents within reach by street, and who is out of
reach, rendered from the query string (public data: no key needed); and the same page as one
self-contained HTML file for `flask coverage report` (CSS inlined, no scripts, no requests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import render_template, request
from marshmallow import ValidationError

from ..community_schemas import POPULATION_DESCRIPTIONS, POPULATIONS
from ..coverage_query import DISTANCE_M, CoverageArgsSchema, run_coverage
from ..districts import load_districts
from ..domain_errors import DomainError
from ..errors import Problem, flatten_messages
from ..hours import SHANGHAI
from .blueprint import blp, translate
from .maps import tile_map

# The form's fields, as the API names them; the page asks about 助餐点 at 1 km by default.
PAGE_ARGUMENTS = ("kind", "program", "distance_m", "detour", "district", "street", "population")
DEFAULTS = {"kind": "meal_point", "distance_m": "1000"}
POPULATION_LABELS = {
    "population": ("常住人口", "All residents"),
    "population_60_plus": ("60岁以上", "Aged 60 or more"),
    "population_0_3": ("0至3岁", "Aged 0 to 3"),
    "population_3_6": ("3至6岁", "Aged 3 to 6"),
}
assert set(POPULATION_LABELS) == set(POPULATIONS) == set(POPULATION_DESCRIPTIONS)


@blp.route("/admin/coverage")
def coverage_page():
    """覆盖率: the form, and the coverage it asks for (no JavaScript needed)."""
    asked = {name: request.args[name] for name in PAGE_ARGUMENTS if request.args.get(name)}
    if "program" in asked:
        asked.pop("kind", None)
    context = coverage_context({**({} if "program" in asked else DEFAULTS), **asked})
    status = 422 if context["errors"] else 200
    tiles = tile_map() if context["result"] else None
    return render_template("pages/coverage.html", tiles=tiles,
                           markers=_markers(tiles, context["result"]), **context), status


def _markers(tiles, result) -> list[dict]:
    """Each community as a marker in the tiles' datum, saying in words whether it is covered
    (the map colours them too, but colour is never the only signal)."""
    if tiles is None:
        return []
    return [tiles.marker(shown.site.lat, shown.site.lon, covered=shown.covered,
                         name=f"{shown.site.name} · " + (translate("已覆盖", "covered")
                                                        if shown.covered
                                                        else translate("未覆盖", "not covered")))
            for shown in result.sites]


def coverage_context(asked: dict) -> dict:
    """What the page and the report show for these query arguments: the answer, or the
    problems with the question by field."""
    body, result, errors = None, None, {}
    try:
        result = run_coverage(CoverageArgsSchema().load(asked))
        body = result.body()
    except ValidationError as error:
        errors = flatten_messages(error.messages)
    except (Problem, DomainError) as refusal:
        errors = refusal.errors or {"body": [refusal.detail]}
    return {"asked": asked, "body": body, "result": result, "errors": errors,
            "districts": load_districts(), "populations": POPULATION_LABELS,
            "distance_range": DISTANCE_M}


def report_html(asked: dict) -> tuple[str, dict]:
    """The page as one self-contained file: (the HTML, the question's problems by field).
    Call in a request context (the CLI makes one) so the language and labels resolve."""
    context = coverage_context(asked)
    css = (Path(blp.static_folder) / "servicemap.css").read_text(encoding="utf-8")
    generated = datetime.now(SHANGHAI).isoformat(timespec="minutes")
    html = render_template("pages/coverage_report.html", css=css, generated=generated, **context)
    return html, context["errors"]

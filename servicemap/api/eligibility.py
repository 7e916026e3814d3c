"""/api/v1/programs, /eligibility and /recommendations: what a person can get, and where.

The facts a person sends are used for the answer and forgotten: never stored, never logged.
"""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, json
from marshmallow import Schema, ValidationError, fields, validate

from ..bounds import DATE_MAX, DATE_MIN, DATE_RANGE_MESSAGE, date_in_bounds
from ..eligibility import FactError, today_in_shanghai, validate_person
from ..eligibility.facts import fact_properties
from ..errors import Problem
from ..extensions import db
from ..geo.coordsys import to_wgs84
from ..geo.spatial import NearestQuery
from ..registry import present_hits
from ..schemas import OriginSchema, PointSchema
from ..store import nearest
from . import Blueprint, require_json

blp = Blueprint("eligibility", __name__, url_prefix="/api/v1",
                description="Programmes and eligibility 政策与资格")
blp.before_request(require_json)
ANSWERED = ("eligible", "unknown")


def _in_bounds(day) -> None:
    # Dates far outside any programme's life would overflow the age arithmetic.
    if not date_in_bounds(day):
        raise ValidationError(DATE_RANGE_MESSAGE)


def _as_of(description: str) -> fields.Date:
    return fields.Date(validate=_in_bounds, metadata={
        "description": f"{description} ({DATE_MIN} … {DATE_MAX})", "example": "2026-11-24"})


class AsOfQuerySchema(Schema):
    as_of = _as_of("Parameters in force on this date (default today in Asia/Shanghai)")


class EligibilityRequestSchema(Schema):
    as_of = _as_of("The date of the answer (default today in Asia/Shanghai)")
    person = fields.Dict(required=True, metadata={
        "description": "Facts about the person; an absent (or null) fact is unknown, and an "
                       "answer that needs it names it in missing_facts. The engine checks "
                       "them: an unknown name or a bad value is 422 naming person.<fact>.",
        "properties": fact_properties(),
        "example": {"birth_date": "1955-03-01", "care_need": "moderate",
                    "care_setting": "home", "residence_district": "北碚区"}})


class RecommendationRequestSchema(EligibilityRequestSchema):
    location = fields.Nested(PointSchema, required=True)
    radius_m = fields.Float(load_default=5000.0, validate=validate.Range(1, 50_000))
    limit = fields.Integer(load_default=3, strict=True, validate=validate.Range(1, 20),
                           metadata={"description": "Facilities per programme"})


class ResultSchema(Schema):
    program = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    status = fields.String(metadata={"enum": ["eligible", "ineligible", "unknown"]})
    class_ = fields.String(data_key="class", allow_none=True,
                           metadata={"description": "The class of benefit, when graded"})
    criteria = fields.List(fields.Dict())
    missing_facts = fields.List(fields.String())
    benefit = fields.Dict(metadata={
        "description": "text_zh, text_en, amount, unit, provenance, source, note; options (each "
                       "amount with the rule on facts that gives it) and missing_facts when the "
                       "facts leave the amount open; pro_rata (months counted, total) for an "
                       "entitlement begun before the scheme"})
    delivered_by = fields.Dict(metadata={"description": "The kinds and services that deliver it"})
    source = fields.Dict(metadata={"description": "The policy document: title, number, url"})


class EligibilitySchema(Schema):
    as_of = fields.Date()
    results = fields.List(fields.Nested(ResultSchema))


class RecommendationSchema(Schema):
    program = fields.Nested(ResultSchema)
    facilities = fields.List(fields.Dict())


class RecommendationsSchema(Schema):
    as_of = fields.Date()
    origin = fields.Nested(OriginSchema)
    recommendations = fields.List(fields.Nested(RecommendationSchema))


def catalogue():
    return current_app.extensions["servicemap.catalogue"]


@blp.route("/programs")
@blp.arguments(AsOfQuerySchema, location="query", as_kwargs=True)
@blp.response(200)
def list_programs(as_of=None):
    """The programme catalogue, with criteria, dated parameters and sources."""
    as_of = as_of or today_in_shanghai()
    return {"as_of": as_of.isoformat(), "version": catalogue().version,
            "items": [p.to_public(as_of) for p in catalogue().programmes]}


@blp.route("/programs/<program_id>")
@blp.arguments(AsOfQuerySchema, location="query", as_kwargs=True)
@blp.response(200)
def get_program(program_id: str, as_of=None):
    """One programme."""
    programme = catalogue().get(program_id)
    if programme is None:
        raise Problem(404, f"No programme has the id {program_id!r}.")
    return programme.to_public(as_of or today_in_shanghai())


def eligibility_answer(person: dict, as_of: date | None = None) -> tuple[date, list[dict]]:
    """(as_of, every programme's result) for facts as JSON carries them (the pages use it too);
    FactError names every bad fact."""
    as_of = as_of or today_in_shanghai()
    return as_of, catalogue().evaluate(validate_person(person, as_of), as_of)


def _evaluate(body: dict) -> tuple:
    try:
        return eligibility_answer(body["person"], body.get("as_of"))
    except FactError as exc:
        errors = {f"person.{name}": messages for name, messages in exc.errors.items()}
        raise Problem.invalid(errors) from None


@blp.route("/eligibility", methods=["POST"])
@blp.arguments(EligibilityRequestSchema)
@blp.response(200, EligibilitySchema)
def eligibility(body: dict):
    """Every programme's answer for a person, explained and sourced."""
    as_of, results = _evaluate(body)
    return _json({"as_of": as_of.isoformat(), "results": results})


@blp.route("/recommendations", methods=["POST"])
@blp.arguments(RecommendationRequestSchema)
@blp.response(200, RecommendationsSchema)
def recommendations(body: dict):
    """For each programme a person may get, the nearest facilities that deliver it."""
    as_of, results = _evaluate(body)
    location = body["location"]
    lat, lon = to_wgs84(location["lat"], location["lon"], location["coordsys"])
    answer = []
    for result in results:
        if result["status"] not in ANSWERED:
            continue
        query = NearestQuery(lat=lat, lon=lon, radius_m=body["radius_m"],
                             limit=body["limit"]).delivering(result["delivered_by"])
        if query is None:  # a cash benefit: no facility delivers it
            continue
        hits = nearest(db.session.connection(), query)
        answer.append({"program": result,
                       "facilities": present_hits(hits, location["coordsys"])})
    origin = {"lat": location["lat"], "lon": location["lon"], "coordsys": location["coordsys"]}
    return _json({"as_of": as_of.isoformat(), "origin": origin, "recommendations": answer})


def _json(body: dict) -> Response:
    # Results are plain JSON already (the engine's own shape); no second dump.
    return Response(json.dumps(body), mimetype="application/json")

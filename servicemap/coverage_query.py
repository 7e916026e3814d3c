"""Coverage as asked over HTTP, on the pages and from the CLI: the arguments checked once, the
communities read and handed to the coverage engine (servicemap/coverage/), one way for all.

The communities module keeps four population figures per community (communities.Site); the
engine counts one (coverage.Site). as_site() is the one place that chooses between them.
"""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from . import communities, coverage
from .community_schemas import POPULATION_DESCRIPTIONS, POPULATIONS
from .errors import Problem
from .extensions import db
from .geo.coordsys import COORDSYS, from_wgs84, to_wgs84
from .geo.geocoding import current_geocoding
from .models import Community
from .schemas import DistrictField, PointSchema, Text
from .vocabulary import KINDS

DISTANCE_M = (50, 20_000)  # from a 5-minute walk's 300 m well past any circle's 1000 m
DETOUR = (1.0, 3.0)  # 路网系数: a walk is never shorter than the line; 3x is a river crossing
COUNT_MAX = 50
CANDIDATES_MAX = 10_000
KIND_OR_PROGRAM = ("Give kind or program, one of them. kind 与 program 二选一。")


class CoverageQuerySchema(Schema):
    """What GET /api/v1/coverage (and the page, and the CLI) take."""

    kind = fields.String(validate=validate.OneOf(KINDS), metadata={
        "description": "Facilities of this kind cover; give kind or program"})
    program = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "Facilities delivering this programme (/api/v1/programs) cover"})
    distance_m = fields.Float(required=True, validate=validate.Range(*DISTANCE_M), metadata={
        "example": 1000, "description": "Walking distance in metres: 300 (5-minute circle), 500 "
        "(10-minute), 800–1000 (15-minute; GB 50180-2018)"})
    detour = fields.Float(load_default=1.0, validate=validate.Range(*DETOUR), metadata={
        "example": 1.3, "description": "路网系数: the geodesic distance times this stands for "
                                      "the walk on the streets"})
    population = fields.String(load_default="population", validate=validate.OneOf(POPULATIONS),
                               metadata={"description": "; ".join(
                                   f"{name}: {text}"
                                   for name, text in POPULATION_DESCRIPTIONS.items())})
    district = DistrictField(metadata={"type": "string", "example": "500109",
                                       "description": "Only this district's communities"})
    street = Text(validate=validate.Length(1, 100), metadata={
        "example": "天生街道", "description": "Only this 街道/镇's communities"})

    @validates_schema
    def _kind_or_program(self, data, **kwargs):
        if ("kind" in data) == ("program" in data):
            raise ValidationError({"kind": [KIND_OR_PROGRAM], "program": [KIND_OR_PROGRAM]})


class CoverageArgsSchema(CoverageQuerySchema):
    method = fields.String(load_default="distance", validate=validate.OneOf(coverage.METHODS),
                           metadata={"description": "distance, or 2sfca for the two-step "
                                                    "floating catchment ratio of each community"})
    coordsys = fields.String(load_default="wgs84", validate=validate.OneOf(COORDSYS), metadata={
        "description": "The coordinate system of the GeoJSON answer"})


class SuggestionArgsSchema(CoverageQuerySchema):
    count = fields.Integer(load_default=5, strict=False,
                           validate=validate.Range(1, COUNT_MAX),
                           metadata={"description": "How many places to suggest"})
    coordsys = fields.String(load_default="wgs84", validate=validate.OneOf(COORDSYS), metadata={
        "description": "The coordinate system of the suggested locations"})


class CandidatesSchema(Schema):
    candidates = fields.List(fields.Nested(PointSchema), required=True,
                             validate=validate.Length(1, CANDIDATES_MAX), metadata={
                                 "description": f"Up to {CANDIDATES_MAX:,} points, any coordsys"})


def as_site(site: communities.Site, population_field: str) -> coverage.Site:
    """A community as the engine counts it: its figure for the population asked about."""
    return coverage.Site(site.id, site.name, site.district_code, site.street, site.lat, site.lon,
                         getattr(site, population_field))


def run_coverage(args: dict) -> coverage.CoverageResult:
    """coverage() for loaded CoverageArgsSchema arguments, over the communities they select.
    2SFCA reads every community as demand and reports the selected ones (a facility over the
    district's edge is shared with the residents beyond it)."""
    programme = _programme(args.get("program"))
    district, street = args.get("district"), args.get("street")
    _check_street(district, street)
    field, focus = args["population"], None
    if args.get("method", "distance") == "2sfca" and (district or street):
        found = communities.sites(db.session)

        def focus(site):
            return ((district is None or site.district_code == district)
                    and (street is None or site.street == street))
    else:
        found = communities.sites(db.session, district, street)
    return coverage.coverage(
        db.session.connection(), [as_site(s, field) for s in found], args.get("kind"), programme,
        distance_m=args["distance_m"], detour=args["detour"],
        method=args.get("method", "distance"), population_field=field, focus=focus)


def run_suggestions(args: dict, candidates: list[dict] | None = None):
    """suggestions() for loaded SuggestionArgsSchema arguments; `candidates` are loaded
    PointSchema points (any coordsys), the communities' own locations when None. Locations in
    the answer are in args["coordsys"]."""
    programme = _programme(args.get("program"))
    district, street = args.get("district"), args.get("street")
    _check_street(district, street)
    points = None
    if candidates is not None:
        points = [to_wgs84(p["lat"], p["lon"], p["coordsys"]) for p in candidates]
    found = communities.sites(db.session, district, street)
    result = coverage.suggestions(
        db.session.connection(), [as_site(s, args["population"]) for s in found],
        args.get("kind"), programme, distance_m=args["distance_m"], detour=args["detour"],
        count=args["count"], candidates=points, population_field=args["population"])
    body = result.body()
    for pick in body["suggestions"]:
        pick["location"] = _located(pick["location"], args["coordsys"])
    return body


def _located(location: dict, coordsys: str) -> dict:
    lat, lon = from_wgs84(location["lat"], location["lon"], coordsys)
    return {"lat": round(lat, 7), "lon": round(lon, 7), "coordsys": coordsys}


def _programme(program_id: str | None):
    if program_id is None:
        return None
    programme = current_app.extensions["servicemap.catalogue"].get(program_id)
    if programme is None:
        raise Problem(422, f"No programme has the id {program_id!r}.",
                      {"program": ["Unknown programme; see /api/v1/programs."]})
    return programme


def _check_street(district: str | None, street: str | None) -> None:
    """422 naming `street` unless a community or the gazetteer knows it (in the district)."""
    if street is None:
        return
    query = select(Community.id).where(Community.street == street).limit(1)
    if district is not None:
        query = query.where(Community.district_code == district)
    if db.session.scalar(query) is not None:
        return
    gazetteer = current_geocoding().gazetteer.gazetteer
    known = (gazetteer.streets.get(district, ()) if district is not None
             else [s for streets in gazetteer.streets.values() for s in streets])
    if any(s.street == street for s in known):
        return
    where = "in that district" if district is not None else "in Chongqing"
    raise Problem(422, f"No 街道/镇 named {street!r} {where}.",
                  {"street": ["Unknown 街道/镇; see /api/v1/districts. 未知的街道/镇。"]})

"""/api/v1/coverage: how many residents live within reach of a kind of service, and where the
next one would reach most (the 15-minute community life circle, for planners)."""

from __future__ import annotations

from flask import Response, json, request
from flask.views import MethodView
from marshmallow import Schema, fields

from ..coverage_query import (
    CandidatesSchema,
    CoverageArgsSchema,
    SuggestionArgsSchema,
    run_coverage,
    run_suggestions,
)
from ..geo.coordsys import COORDSYS, from_wgs84
from ..geojson import GEOJSON, feature
from . import Blueprint, require_json

# The answer is JSON or GeoJSON by the Accept header: caches must key on it.
VARY = {"Vary": "Accept"}

blp = Blueprint("coverage", __name__, url_prefix="/api/v1/coverage",
                description="Coverage 覆盖率: residents within reach of services, and where "
                            "to build next")
blp.before_request(require_json)


class CountsSchema(Schema):
    communities = fields.Integer(metadata={"description": "Communities selected"})
    covered = fields.Integer(metadata={"description": "Communities within reach"})
    share = fields.Float(allow_none=True, metadata={"description": "covered / communities"})
    population = fields.Integer(metadata={
        "description": "Sum of the chosen figure (communities without it count not here)"})
    population_covered = fields.Integer()
    population_share = fields.Float(allow_none=True)
    ratio = fields.Float(allow_none=True, metadata={
        "description": "method=2sfca: population-weighted mean 2SFCA ratio (capacity per "
                       "resident)"})


class DistrictCountsSchema(CountsSchema):
    code = fields.String(metadata={"example": "500109"})
    name = fields.String(allow_none=True, metadata={"example": "北碚区"})
    name_en = fields.String(allow_none=True)


class StreetCountsSchema(CountsSchema):
    district = fields.String(allow_none=True, metadata={"example": "500109"})
    street = fields.String(allow_none=True, metadata={"example": "天生街道"})


class UncoveredSchema(Schema):
    id = fields.String()
    name = fields.String()
    population = fields.Integer(allow_none=True)
    nearest_m = fields.Float(allow_none=True, metadata={
        "description": "Walked metres (geodesic x detour) to the nearest such facility; null: "
                       "none at all"})


class CoverageSchema(CountsSchema):
    kind = fields.String(allow_none=True)
    program = fields.String(allow_none=True)
    method = fields.String()
    distance_m = fields.Float()
    detour = fields.Float()
    population_field = fields.String()
    facilities = fields.Integer(metadata={
        "description": "method=2sfca: facilities within reach of some community, with capacity"})
    facilities_without_capacity = fields.Integer(metadata={
        "description": "method=2sfca: those reached without a capacity figure (left out)"})
    capacity = fields.Integer(metadata={"description": "method=2sfca: their capacity in all"})
    by_district = fields.List(fields.Nested(DistrictCountsSchema))
    by_street = fields.List(fields.Nested(StreetCountsSchema))
    uncovered = fields.List(fields.Nested(UncoveredSchema), metadata={
        "description": "Uncovered communities, most populous first"})


class SuggestionLocationSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    coordsys = fields.String(metadata={"enum": list(COORDSYS)})


class SuggestionSchema(Schema):
    location = fields.Nested(SuggestionLocationSchema)
    community_id = fields.String(allow_none=True, metadata={
        "description": "The community whose location it is; null for a posted candidate"})
    newly_covered_population = fields.Integer()
    population_share_after = fields.Float(allow_none=True)


class SuggestionsSchema(Schema):
    kind = fields.String(allow_none=True)
    program = fields.String(allow_none=True)
    distance_m = fields.Float()
    detour = fields.Float()
    population_field = fields.String()
    population = fields.Integer()
    population_covered = fields.Integer(metadata={"description": "By the existing facilities"})
    population_share = fields.Float(allow_none=True)
    suggestions = fields.List(fields.Nested(SuggestionSchema), metadata={
        "description": "Greedy picks, best first: within (1 − 1/e) ≈ 63% of the best choice"})


@blp.route("")
@blp.arguments(CoverageArgsSchema, location="query")
@blp.response(200, CoverageSchema)
@blp.doc(responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}})
def get_coverage(args: dict):
    """Communities and residents within distance_m of an active facility of a kind (or
    delivering a programme): in all, by district and street, and the uncovered ones.
    Accept: application/geo+json gives each community as a feature."""
    result = run_coverage(args)
    if request.accept_mimetypes.best_match(["application/json", GEOJSON]) == GEOJSON:
        return _feature_collection(result, args["coordsys"])
    return result.body(), 200, VARY


@blp.route("/suggestions")
class Suggestions(MethodView):
    """Where new facilities would newly cover the most residents: a greedy maximal covering
    choice, within (1 − 1/e) ≈ 63% of the best possible (Nemhauser, Wolsey & Fisher 1978)."""

    @blp.arguments(SuggestionArgsSchema, location="query")
    @blp.response(200, SuggestionsSchema)
    def get(self, args: dict):
        """Suggestions among the selected communities' own locations."""
        return run_suggestions(args)

    @blp.arguments(CandidatesSchema)
    @blp.arguments(SuggestionArgsSchema, location="query")
    @blp.response(200, SuggestionsSchema)
    def post(self, body: dict, args: dict):
        """Suggestions among posted candidate points (any coordsys, at most 10,000)."""
        return run_suggestions(args, body["candidates"])


def _feature_collection(result, coordsys: str) -> Response:
    """Each reported community as a feature (covered, nearest_m, ratio with 2SFCA), its
    coordinates in `coordsys`; the totals beside them."""
    features = []
    for item in result.sites:
        lat, lon = from_wgs84(item.site.lat, item.site.lon, coordsys)
        features.append(feature({**item.properties(), "location": {
            "lat": round(lat, 7), "lon": round(lon, 7), "coordsys": coordsys}}))
    body = result.body()
    head = {name: body[name] for name in body
            if name not in ("by_district", "by_street", "uncovered")}
    collection = {"type": "FeatureCollection", "coordsys": coordsys, **head,
                  "features": features}
    return Response(json.dumps(collection), mimetype=GEOJSON, headers=VARY)

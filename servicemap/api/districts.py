"""/api/v1/districts: Chongqing's 区县 with their 街道/镇, for pick lists and search origins."""

from __future__ import annotations

from flask import Response, json, request
from marshmallow import Schema, fields

from ..districts import load_districts
from ..geo.coordsys import COORDSYS, from_wgs84
from ..geo.geocoding import current_geocoding
from . import Blueprint
from .facilities import CoordsysQuerySchema

# The list changes only with the seeds and gazetteer files, read at start-up.
MAX_AGE_S = 3600

blp = Blueprint("districts", __name__, url_prefix="/api/v1",
                description="Districts 区县 and their 街道/镇")


class CentreSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()


class StreetSchema(Schema):
    name = fields.String(metadata={"example": "天生街道"})
    centre = fields.Nested(CentreSchema)


class DistrictStreetsSchema(Schema):
    code = fields.String(metadata={"example": "500109"})
    name = fields.String(metadata={"example": "北碚区"})
    name_en = fields.String(metadata={"example": "Beibei District"})
    centre = fields.Nested(CentreSchema)
    streets = fields.List(fields.Nested(StreetSchema), metadata={
        "description": "The 街道/镇 the gazetteer knows; empty where it has none yet"})


class DistrictsSchema(Schema):
    coordsys = fields.String(metadata={"enum": list(COORDSYS),
                                       "description": "The datum of every centre"})
    items = fields.List(fields.Nested(DistrictStreetsSchema))


@blp.route("/districts")
@blp.arguments(CoordsysQuerySchema, location="query", as_kwargs=True)
@blp.response(200, DistrictsSchema)
@blp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
def districts(coordsys: str):
    """The 38 区县 with their 街道/镇 and a centre point for each, cacheable."""
    body = {"coordsys": coordsys, "items": district_list(coordsys)}
    response = Response(json.dumps(body), mimetype="application/json")
    response.add_etag()
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_S
    return response.make_conditional(request)


def district_list(coordsys: str = "wgs84") -> list[dict]:
    """Every district in code order, with the gazetteer's 街道/镇, centres in `coordsys`."""
    gazetteer = current_geocoding().gazetteer.gazetteer

    def centre(lat: float, lon: float) -> dict:
        lat, lon = from_wgs84(lat, lon, coordsys)
        return {"lat": round(lat, 7), "lon": round(lon, 7)}

    return [{"code": d.code, "name": d.name, "name_en": d.name_en, "centre": centre(d.lat, d.lon),
             "streets": [{"name": s.street, "centre": centre(s.lat, s.lon)}
                         for s in gazetteer.streets.get(d.code, ())]}
            for d in load_districts().values()]

"""/api/v1/geocode: an address or place name typed by a person, as a point to search from."""

from __future__ import annotations

from geopy.exc import GeocoderServiceError
from marshmallow import Schema, ValidationError, fields, validate

from ..districts import load_districts
from ..errors import Problem
from ..extensions import db
from ..geo.coordsys import from_wgs84
from ..geo.geocoding import current_geocoding, place_in_chongqing
from ..schemas import DistrictSchema, PointSchema
from ..vocabulary import PRECISIONS
from . import Blueprint
from .facilities import CoordsysQuerySchema

QUERY_MAX = 200

blp = Blueprint("geocode", __name__, url_prefix="/api/v1",
                description="Geocoding 地址定位 (an address or place name to a point)")


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ValidationError("Give an address or place name. 请输入地址或地名。")


class GeocodeQuerySchema(CoordsysQuerySchema):
    q = fields.String(required=True, validate=[validate.Length(1, QUERY_MAX), _not_blank],
                      metadata={"description": "An address or place name in Chongqing, "
                                               "e.g. 北碚区天生街道 or 解放碑"})


class GeocodeSchema(Schema):
    query = fields.String()
    location = fields.Nested(PointSchema)
    precision = fields.String(metadata={
        "enum": list(PRECISIONS),
        "description": "exact: a place or an address; street: a 街道/镇 or road; "
                       "district: only the 区县 was recognised (its centre)"})
    source = fields.String(metadata={"description": "The geocoder that answered, e.g. "
                                                    "geocoder:offline (the gazetteer)"})
    district = fields.Nested(DistrictSchema)
    street = fields.String(allow_none=True, metadata={"description": "街道/镇, when known"})


@blp.route("/geocode")
@blp.arguments(GeocodeQuerySchema, location="query", as_kwargs=True)
@blp.response(200, GeocodeSchema)
@blp.alt_response(404, description="Nothing in Chongqing matches the query")
@blp.alt_response(503, description="The configured geocoder did not answer")
def geocode(q: str, coordsys: str):
    """An address or place name in Chongqing as a point, with its precision."""
    return geocode_answer(q, coordsys)


def geocode_answer(q: str, coordsys: str) -> dict:
    """The /geocode body for a loaded query, or Problem 404/503 (the pages use it too)."""
    service = current_geocoding()
    try:
        found = place_in_chongqing(q)
    except GeocoderServiceError as exc:
        raise Problem(503, f"The geocoder {service.name} did not answer: {type(exc).__name__}.",
                      headers={"Retry-After": "30"}) from None
    if service.cached:
        db.session.commit()  # keep the cached answer for the next person asking
    if found is None:
        raise Problem(404, f"No place in Chongqing matches {q.strip()!r}. "
                           "未找到与之匹配的重庆地点，请写上区县和街道。")
    lat, lon = from_wgs84(found.lat, found.lon, coordsys)
    district = load_districts()[found.district_code]
    return {"query": q, "location": {"lat": round(lat, 7), "lon": round(lon, 7),
                                     "coordsys": coordsys},
            "precision": found.precision, "source": f"geocoder:{service.name}",
            "district": {"code": district.code, "name": district.name},
            "street": found.street}

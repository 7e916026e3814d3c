"""marshmallow schemas of communities (社区/村): what /api/v1/communities accepts and returns."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from .geo.coordsys import COORDSYS
from .schemas import (
    READ_ONLY,
    DistrictField,
    DistrictSchema,
    PageSchema,
    PointSchema,
    Text,
    WholeNested,
)

# The population figures a community may carry: residents, then the groups coverage asks about.
POPULATIONS = ("population", "population_60_plus", "population_0_3", "population_3_6")
# Sub-populations a community's `population` must hold (the first figure is the whole).
SUB_POPULATIONS = POPULATIONS[1:]
POPULATION_MAX = 10_000_000
POPULATION_DESCRIPTIONS = {
    "population": "常住人口 residents",
    "population_60_plus": "60岁以上人口 residents aged 60 or more; at most population",
    "population_0_3": "0至3岁人口 children under 3; at most population",
    "population_3_6": "3至6岁人口 children aged 3 to 6; at most population",
}


def _population(**kwargs) -> fields.Integer:
    return fields.Integer(allow_none=True, strict=True,
                          validate=validate.Range(0, POPULATION_MAX), **kwargs)


class CommunityInSchema(Schema):
    """A community as written by administrators (POST; PATCH takes any subset)."""

    external_id = Text(allow_none=True, validate=validate.Length(1, 100))
    name = Text(required=True, visible=True, validate=validate.Length(1, 200))
    name_en = Text(allow_none=True, visible=True, validate=validate.Length(max=200))
    district = DistrictField(allow_none=True, metadata={
        "type": "string", "example": "500109",
        "description": "Code or name; the location's district when absent"})
    street = Text(allow_none=True, visible=True, validate=validate.Length(max=100), metadata={
        "description": "街道/镇; the gazetteer's nearest one when absent"})
    location = WholeNested(PointSchema, required=True)
    population = _population(metadata={"description": POPULATION_DESCRIPTIONS["population"]})
    population_60_plus = _population(
        metadata={"description": POPULATION_DESCRIPTIONS["population_60_plus"]})
    population_0_3 = _population(
        metadata={"description": POPULATION_DESCRIPTIONS["population_0_3"]})
    population_3_6 = _population(
        metadata={"description": POPULATION_DESCRIPTIONS["population_3_6"]})

    @pre_load
    def _refuse_read_only(self, data, **kwargs):
        if isinstance(data, dict):
            written = [name for name in READ_ONLY if name in data]
            if written:
                raise ValidationError({name: ["Read-only; set by the server. 只读字段。"]
                                       for name in written})
            if isinstance(data.get("name"), str):
                data = {**data, "name": data["name"].strip()}
        return data


class CommunityPatchSchema(CommunityInSchema):
    """Any subset of CommunityIn (use with partial=True); its own name in the OpenAPI document."""


class CommunityLocationSchema(Schema):
    lat = fields.Float(metadata={"example": 29.8257})
    lon = fields.Float(metadata={"example": 106.437})
    coordsys = fields.String(metadata={"enum": list(COORDSYS)})


class CommunitySchema(Schema):
    """A community as returned."""

    id = fields.UUID()
    external_id = fields.String(allow_none=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    district = fields.Nested(DistrictSchema)
    street = fields.String(allow_none=True)
    location = fields.Nested(CommunityLocationSchema)
    population = fields.Integer(allow_none=True)
    population_60_plus = fields.Integer(allow_none=True)
    population_0_3 = fields.Integer(allow_none=True)
    population_3_6 = fields.Integer(allow_none=True)
    updated_at = fields.String(metadata={"format": "date-time",
                                         "example": "2026-11-24T09:00:00+08:00"})


class CommunityPageSchema(PageSchema):
    items = fields.List(fields.Nested(CommunitySchema))


class CommunityQuerySchema(Schema):
    """Filters of GET /communities (AND across filters), and the answer's coordsys."""

    district = DistrictField(metadata={"type": "string", "example": "500109"})
    street = fields.String(validate=validate.Length(1, 100))
    q = fields.String(validate=validate.Length(1, 100),
                      metadata={"description": "Text in the name (中文 substrings) or name_en"})
    coordsys = fields.String(load_default="wgs84", validate=validate.OneOf(COORDSYS),
                             metadata={"description": "The coordinate system of the answer"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1),
                              metadata={"description": "Default 20, at most 100"})

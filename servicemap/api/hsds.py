"""/api/v1/hsds: the registry read as Open Referral HSDS 3.0 (the HSDA read endpoints)."""

from __future__ import annotations

from flask import url_for
from marshmallow import (
    INCLUDE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    validate,
    validates_schema,
)

from .. import hsds
from ..errors import Problem
from ..geo.coordsys import COORDSYS, to_wgs84
from ..geo.spatial import NearestQuery
from ..hours import local_time
from ..paging import Cursor, page_of
from ..registry import LIST_CURSOR
from ..schemas import BoundedDateTime
from . import Blueprint, page_size

blp = Blueprint("hsds", __name__, url_prefix="/api/v1/hsds",
                description="Open Referral HSDS 3.0 (bodies valid against the HSDS schemas)")

class HsdsObjectSchema(Schema):
    """An HSDS object returned whole, as built; the HSDS 3.0 JSON schema defines its fields."""

    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: true

    id = fields.UUID(metadata={"description": "A UUID, stable across requests"})

    @post_dump(pass_original=True)
    def _whole(self, _data, original, **kwargs):
        return original


class HsdsServiceSchema(HsdsObjectSchema):
    """HSDS service: service_list.json in lists, service.json alone."""

    name = fields.String(metadata={"example": "北碚区天生街道老年食堂"})
    status = fields.String(metadata={"enum": sorted(set(hsds.HSDS_STATUS.values()))})
    organization_id = fields.UUID()


class HsdsOrganizationSchema(HsdsObjectSchema):
    name = fields.String()
    description = fields.String()


class HsdsServiceAtLocationSchema(HsdsObjectSchema):
    service_id = fields.UUID()
    location_id = fields.UUID()


class HsdsTaxonomyTermSchema(HsdsObjectSchema):
    code = fields.String(metadata={"example": "meals"})
    name = fields.String(metadata={"example": "助餐"})
    description = fields.String(metadata={"example": "Meals. 服务项目 (a service)"})


class HsdsTaxonomySchema(HsdsObjectSchema):
    name = fields.String()
    description = fields.String()
    version = fields.String()


class HsdsPageSchema(Schema):
    """The HSDA page: `size` is how many entities this page holds."""

    total_items = fields.Integer()
    total_pages = fields.Integer()
    page_number = fields.Integer(allow_none=True, metadata={
        "description": "null for a page asked for by cursor"})
    size = fields.Integer()
    first_page = fields.Boolean()
    last_page = fields.Boolean()
    empty = fields.Boolean()
    total_estimated = fields.Boolean(metadata={
        "description": "servicemap's own: true when total_items (and total_pages) is an "
                       "estimate, as it is past SERVICEMAP_COUNT_EXACT_MAX items"})
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "servicemap's own: pass as `cursor` for the next page; null on the "
                       "last page (and in searches by lat and lon, paged by number only)"})


class HsdsServicePageSchema(HsdsPageSchema):
    contents = fields.List(fields.Nested(HsdsServiceSchema))


class HsdsOrganizationPageSchema(HsdsPageSchema):
    contents = fields.List(fields.Nested(HsdsOrganizationSchema))


class HsdsServiceAtLocationPageSchema(HsdsPageSchema):
    contents = fields.List(fields.Nested(HsdsServiceAtLocationSchema))


class HsdsTaxonomyTermPageSchema(HsdsPageSchema):
    contents = fields.List(fields.Nested(HsdsTaxonomyTermSchema))


class HsdsTaxonomyPageSchema(HsdsPageSchema):
    contents = fields.List(fields.Nested(HsdsTaxonomySchema))


class HsdsRootSchema(Schema):
    version = fields.String(metadata={"example": "3.0"})
    profile = fields.String(metadata={"format": "uri"})
    openapi_url = fields.String(metadata={"format": "uri"})


class HsdsPageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1),
                              metadata={"description": "Default 20, at most 100"})
    search = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "Text in the name or address; 中文 substrings work"})


def _a_term(value: str) -> None:
    if value not in hsds.TERMS_BY_ID:
        raise ValidationError("Not the id of a term of our taxonomy; the terms are listed at "
                              "/api/v1/hsds/taxonomy_terms. 不是本分类体系的条目。")


class HsdsListQuerySchema(HsdsPageQuerySchema):
    """The page arguments of the lists of facilities: by page number or by cursor."""

    cursor = Cursor(LIST_CURSOR)

    @validates_schema(pass_original=True)
    def _page_or_cursor(self, data, original, **kwargs):
        if "cursor" in data and ("page" in original or "lat" in data):
            raise ValidationError({"cursor": [
                "Give page or cursor, not both; searches by lat and lon are paged by number "
                "only. 页码与游标只能二选一。"]})


class HsdsServiceQuerySchema(HsdsListQuerySchema):
    """Filters of /services and /service_at_locations, all combined with AND."""

    taxonomy_term_id = fields.String(validate=_a_term, metadata={
        "description": "A term of /taxonomy_terms: a kind of facility or a service"})
    organization_id = fields.UUID()
    modified_after = BoundedDateTime(format="iso", metadata={
        "description": "ISO 8601; without an offset it is Asia/Shanghai time"})
    postcode = fields.String(metadata={
        "description": "Not supported: 422. Postcodes are not recorded for Chongqing's "
                       "facilities; search around a point with lat, lon and radius_m."})
    proximity = fields.String(metadata={"description": "Not supported (needs postcode): 422"})
    lat = fields.Float(validate=validate.Range(-90, 90), metadata={
        "description": "With lon: only active facilities within radius_m (or inside their "
                       "own service area), nearest first, as /facilities/nearest"})
    lon = fields.Float(validate=validate.Range(-180, 180))
    radius_m = fields.Float(validate=validate.Range(1, 50_000),
                            metadata={"description": "Default 5000"})
    coordsys = fields.String(load_default="wgs84", validate=validate.OneOf(COORDSYS), metadata={
        "description": "Of lat and lon only: HSDS locations are always WGS-84"})

    @validates_schema
    def _check(self, data, **kwargs):
        errors = {}
        if "postcode" in data:
            errors["postcode"] = ["Postcodes are not recorded for Chongqing's facilities; "
                                  "search with lat, lon and radius_m instead. 暂不支持邮编查询。"]
        if "proximity" in data:
            errors["proximity"] = ["Needs a postcode, which is not supported; use lat, lon "
                                   "and radius_m (metres) instead."]
        for given, missing in (("lat", "lon"), ("lon", "lat")):
            if given in data and missing not in data:
                errors[missing] = [f"Give {missing} together with {given}."]
        if "radius_m" in data and "lat" not in data:
            errors["radius_m"] = ["Give lat and lon to search around a point."]
        if errors:
            raise ValidationError(errors)


def _found(obj, what: str, given: str):
    if obj is None:
        raise Problem(404, f"No {what} has the id {given!r}.")
    return obj


def _search(args: dict, build) -> dict:
    """A page of `build(facility)` for the service filters."""
    page, per_page = args["page"], page_size(args["per_page"])
    near = None
    if "lat" in args:
        lat, lon = to_wgs84(args["lat"], args["lon"], args["coordsys"])
        near = NearestQuery(lat=lat, lon=lon, radius_m=args.get("radius_m", 5000.0))
    facility_id = None
    after = args.get("cursor")
    number = None if after else page
    if "organization_id" in args:
        owner = hsds.facility_for(str(args["organization_id"]), hsds.ORGANIZATION)
        if owner is None:
            return hsds.page([], 0, number, per_page, last=True)
        facility_id = owner.id
    found = hsds.find_facilities(
        page, per_page, search=args.get("search"), facility_id=facility_id,
        term=hsds.TERMS_BY_ID.get(args.get("taxonomy_term_id")), near=near, after=after,
        modified_after=local_time(args["modified_after"]) if "modified_after" in args else None)
    return hsds.page([build(f) for f in found.rows], found.total, number, per_page,
                     estimated=found.total_estimated, next_cursor=found.next_cursor,
                     last=None if near else found.next_cursor is None)


@blp.route("/")
@blp.response(200, HsdsRootSchema)
def root():
    """The HSDS version and profile of this API, and where its OpenAPI document is."""
    return {"version": hsds.VERSION, "profile": hsds.PROFILE,
            "openapi_url": url_for("api-docs.openapi_json", _external=True)}


@blp.route("/services")
@blp.arguments(HsdsServiceQuerySchema, location="query")
@blp.response(200, HsdsServicePageSchema, description="An HSDA page; items: service_list.json")
def services(args: dict):
    """Services (one per facility), paginated; filters combine with AND."""
    return _search(args, hsds.service)


@blp.route("/services/<service_id>")
@blp.response(200, HsdsServiceSchema, description="HSDS 3.0 service.json")
@blp.alt_response(404, response="DEFAULT_ERROR")
def service(service_id: str):
    """One service, fully nested: organization, location, address, phones, schedules, terms."""
    facility = _found(hsds.published_facility(service_id), "service", service_id)
    return hsds.service(facility, full=True)


@blp.route("/organizations")
@blp.arguments(HsdsListQuerySchema, location="query")
@blp.response(200, HsdsOrganizationPageSchema,
              description="An HSDA page; items: organization_list.json")
def organizations(args: dict):
    """Organizations (each facility is its own), paginated."""
    return _search(args, hsds.organization)


@blp.route("/organizations/<organization_id>")
@blp.response(200, HsdsOrganizationSchema, description="HSDS 3.0 organization.json")
@blp.alt_response(404, response="DEFAULT_ERROR")
def organization(organization_id: str):
    """One organization, with its location and its service."""
    facility = _found(hsds.facility_for(organization_id, hsds.ORGANIZATION), "organization",
                      organization_id)
    return hsds.organization(facility, full=True)


@blp.route("/service_at_locations")
@blp.arguments(HsdsServiceQuerySchema, location="query")
@blp.response(200, HsdsServiceAtLocationPageSchema,
              description="An HSDA page; items: service_at_location_list.json")
def service_at_locations(args: dict):
    """Services at their locations, paginated; the filters of /services."""
    return _search(args, hsds.service_at_location)


@blp.route("/service_at_locations/<service_at_location_id>")
@blp.response(200, HsdsServiceAtLocationSchema,
              description="HSDS 3.0 service_at_location.json")
@blp.alt_response(404, response="DEFAULT_ERROR")
def service_at_location(service_at_location_id: str):
    """One service at its location, fully nested (service_at_location.json)."""
    facility = _found(hsds.facility_for(service_at_location_id, hsds.SERVICE_AT_LOCATION),
                      "service_at_location", service_at_location_id)
    return hsds.service_at_location(facility, full=True)


@blp.route("/taxonomies")
@blp.arguments(HsdsPageQuerySchema, location="query")
@blp.response(200, HsdsTaxonomyPageSchema)
def taxonomies(args: dict):
    """The one taxonomy used: servicemap's kinds and services."""
    return _static_page([hsds.taxonomy()], args)


@blp.route("/taxonomies/<taxonomy_id>")
@blp.response(200, HsdsTaxonomySchema)
@blp.alt_response(404, response="DEFAULT_ERROR")
def taxonomy(taxonomy_id: str):
    """Our taxonomy."""
    found = hsds.taxonomy() if taxonomy_id == hsds.taxonomy()["id"] else None
    return _found(found, "taxonomy", taxonomy_id)


@blp.route("/taxonomy_terms")
@blp.arguments(HsdsPageQuerySchema, location="query")
@blp.response(200, HsdsTaxonomyTermPageSchema)
def taxonomy_terms(args: dict):
    """The terms: seven kinds of facility, then eleven services."""
    return _static_page([hsds.taxonomy_term(term) for term in hsds.TERMS], args)


@blp.route("/taxonomy_terms/<term_id>")
@blp.response(200, HsdsTaxonomyTermSchema)
@blp.alt_response(404, response="DEFAULT_ERROR")
def taxonomy_term(term_id: str):
    """One term."""
    term = _found(hsds.TERMS_BY_ID.get(term_id), "taxonomy_term", term_id)
    return hsds.taxonomy_term(term)


def _static_page(objects: list[dict], args: dict) -> dict:
    if "search" in args:
        text = args["search"].strip().lower()
        objects = [o for o in objects if any(text in str(o.get(key, "")).lower()
                                             for key in ("code", "name", "description"))]
    page, per_page = args["page"], page_size(args["per_page"])
    return hsds.page(page_of(objects, page, per_page), len(objects), page, per_page)

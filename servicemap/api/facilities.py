"""/api/v1/facilities: the registry, read by anyone, written with a key."""

from __future__ import annotations

import re
import zlib
from urllib.parse import urlencode

from flask import Response, request, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .. import hours
from ..auth import check_district, key_required
from ..caching import fresh_until
from ..errors import Problem
from ..extensions import db
from ..models import Facility
from ..paging import Cursor
from ..registry import LIST_CURSOR, get_facility, list_facilities, present_answer, write
from ..schemas import (
    COORDSYS,
    FacilityInSchema,
    FacilityPageSchema,
    FacilityPatchSchema,
    FacilityQuerySchema,
    FacilitySchema,
)
from . import Blueprint, page_size, require_json

blp = Blueprint("facilities", __name__, url_prefix="/api/v1/facilities",
                description="The facility registry 设施登记")
blp.before_request(require_json)


class CoordsysQuerySchema(Schema):
    coordsys = fields.String(load_default="wgs84", validate=validate.OneOf(COORDSYS),
                             metadata={"description": "The coordinate system of the answer"})


class FacilityListQuerySchema(FacilityQuerySchema, CoordsysQuerySchema):
    cursor = Cursor(LIST_CURSOR)

    @validates_schema(pass_original=True)
    def _page_or_cursor(self, data, original, **kwargs):
        if "cursor" in data and "page" in original:
            raise ValidationError({"cursor": ["Give page or cursor, not both. "
                                              "页码与游标只能二选一。"]})


# RFC 9110 §8.8.3: If-Match is "*" or a list of entity tags, each [W/]"…". werkzeug reads a
# malformed value (a lone `"`) as no condition at all, which would let the write through.
ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
IF_MATCH = re.compile(rf"\*|{ENTITY_TAG}(?:[ \t]*,[ \t]*{ENTITY_TAG})*")


def check_if_match(facility: Facility, noun: str = "facility") -> None:
    """400 for a malformed If-Match, 412 when it names another version of the record (a
    facility, or any record with an `etag`: a community)."""
    given = request.headers.get("If-Match")
    if given is not None and not IF_MATCH.fullmatch(given.strip(" \t")):
        raise Problem(400, "If-Match is not an entity tag; send the ETag as it was given.",
                      {"If-Match": ['Use "*" or entity tags such as "3f2a…" (quotes included). '
                                    "If-Match 须为带引号的实体标签。"]})
    # A tag from any answer about this version matches, whatever its open_now said.
    tags = request.if_match
    if tags and not (tags.star_tag or any(
            tag == facility.etag or tag.startswith(f"{facility.etag}.") for tag in tags.as_set())):
        raise Problem(412, f"The {noun} has changed since you read it (If-Match does not "
                           f"match its ETag \"{facility.etag}\"); fetch it again.")


def _answer_etag(facility: Facility, shown: dict) -> str:
    """The version's tag and a digest of what the answer says about the moment, so that a
    304 never hands back an open_now that has since changed."""
    moment = f"{shown['open_now']}|{shown['next_change']}|{shown['holiday_data']}"
    return f"{facility.etag}.{zlib.crc32(moment.encode()):08x}"


def _answer(facility: Facility, coordsys: str, status: int = 200):
    shown = present_answer(facility, coordsys)
    fresh_until([shown["next_change"]])
    tag = _answer_etag(facility, shown)
    if status == 200 and request.method == "GET" and request.if_none_match.contains(tag):
        return Response(status=304, headers={"ETag": f'"{tag}"'})
    headers = {"ETag": f'"{tag}"'}
    if status == 201:
        headers["Location"] = url_for("facilities.get", facility_id=str(facility.id))
    return shown, status, headers


@blp.route("")
@blp.arguments(FacilityListQuerySchema, location="query", as_kwargs=True)
@blp.response(200, FacilityPageSchema)
def list_(page: int, per_page: int | None, coordsys: str, cursor: tuple | None = None,
          **filters):
    """List facilities, filtered and paginated by page number or by cursor."""
    per_page = page_size(per_page)
    found = list_facilities(filters, page, per_page, after=cursor)
    moment = hours.shanghai_now()
    items = [present_answer(f, coordsys, moment) for f in found.rows]
    fresh_until(item["next_change"] for item in items)
    body = {"items": items,
            "page": None if cursor else page, "per_page": per_page, "total": found.total,
            "total_estimated": found.total_estimated, "next_cursor": found.next_cursor}
    return body, 200, {"Link": page_links(None if cursor else page, per_page, found)}


def page_links(page: int | None, per_page: int, found) -> str:
    """RFC 8288 links to the other pages, keeping every filter the client sent: by number
    for a page asked for by number, by cursor (next only) for one asked for by cursor."""
    last = max(1, -(-found.total // per_page))
    pages: dict[str, dict] = {"first": {"page": 1}}
    if page is not None:
        pages["last"] = {"page": last}
        if page > 1:
            pages["prev"] = {"page": min(page - 1, last)}
        if found.next_cursor:
            pages["next"] = {"page": page + 1}
    elif found.next_cursor:
        pages["next"] = {"cursor": found.next_cursor}
    links = []
    for rel, where in pages.items():
        query = request.args.copy()
        query.pop("page", None)
        query.pop("cursor", None)
        for name, value in {**where, "per_page": per_page}.items():
            query[name] = str(value)
        links.append(f'<{request.path}?{urlencode(list(query.items(multi=True)))}>; rel="{rel}"')
    return ", ".join(links)


@blp.route("", methods=["POST"])
@key_required
@blp.doc(security=[{"bearer": []}])
@blp.arguments(FacilityInSchema)
@blp.response(201, FacilitySchema, headers={"Location": {"schema": {"type": "string"}}})
def create(data: dict):
    """Create a facility (admin, or an editor inside its districts)."""
    facility = write(None, data, authorise=check_district).facility
    db.session.commit()
    return _answer(facility, (data.get("location") or {}).get("coordsys", "wgs84"), 201)


@blp.route("/<facility_id>")
@blp.arguments(CoordsysQuerySchema, location="query", as_kwargs=True)
@blp.response(200, FacilitySchema)
def get(facility_id: str, coordsys: str):
    """One facility, with an ETag."""
    return _answer(get_facility(facility_id), coordsys)


@blp.route("/<facility_id>", methods=["PATCH"])
@key_required
@blp.doc(security=[{"bearer": []}])
@blp.arguments(FacilityPatchSchema(partial=True))
@blp.response(200, FacilitySchema)
def update(changes: dict, facility_id: str):
    """Change some fields of a facility; If-Match guards against lost updates."""
    facility = get_facility(facility_id, for_update=True)
    check_if_match(facility)
    write(facility, changes, authorise=check_district)  # a PATCH changing nothing writes nothing
    db.session.commit()
    return _answer(facility, (changes.get("location") or {}).get("coordsys", "wgs84"))


@blp.route("/<facility_id>", methods=["DELETE"])
@key_required
@blp.doc(security=[{"bearer": []}])
@blp.response(204)
def delete(facility_id: str):
    """Delete a facility."""
    facility = get_facility(facility_id, for_update=True)
    check_if_match(facility)
    write(facility, None, authorise=check_district)
    db.session.commit()

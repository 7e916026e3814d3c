"""/api/v1/communities: the 社区/村 that coverage counts, read by anyone, written by admins."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Response, request, url_for

from ..auth import admin_only, key_required
from ..communities import get_community, list_communities, present, write
from ..community_schemas import (
    CommunityInSchema,
    CommunityPageSchema,
    CommunityPatchSchema,
    CommunityQuerySchema,
    CommunitySchema,
)
from ..extensions import db
from ..models import Community
from . import Blueprint, page_size, require_json
from .facilities import CoordsysQuerySchema, check_if_match, page_links

blp = Blueprint("communities", __name__, url_prefix="/api/v1/communities",
                description="Communities 社区/村 and their residents, for coverage")
blp.before_request(require_json)

ADMIN_ONLY = "Only admin keys may write communities. 仅管理员可修改社区。"


def _answer(community: Community, coordsys: str, status: int = 200):
    headers = {"ETag": f'"{community.etag}"'}
    if status == 200 and request.method == "GET" and request.if_none_match.contains(
            community.etag):
        return Response(status=304, headers=headers)
    if status == 201:
        headers["Location"] = url_for("communities.get", community_id=str(community.id))
    return present(community, coordsys), status, headers


@blp.route("")
@blp.arguments(CommunityQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CommunityPageSchema)
def list_(page: int, per_page: int | None, coordsys: str, **filters):
    """List communities, filtered and paginated."""
    per_page = page_size(per_page)
    items, total = list_communities(filters, page, per_page)
    body = {"items": [present(c, coordsys) for c in items], "page": page,
            "per_page": per_page, "total": total}
    more = SimpleNamespace(total=total, next_cursor=page * per_page < total)
    return body, 200, {"Link": page_links(page, per_page, more)}


@blp.route("", methods=["POST"])
@key_required
@admin_only(ADMIN_ONLY)
@blp.doc(security=[{"bearer": []}])
@blp.arguments(CommunityInSchema)
@blp.response(201, CommunitySchema, headers={"Location": {"schema": {"type": "string"}}})
def create(data: dict):
    """Create a community (admin)."""
    community = write(None, data).community
    db.session.commit()
    return _answer(community, data["location"]["coordsys"], 201)


@blp.route("/<community_id>")
@blp.arguments(CoordsysQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CommunitySchema)
def get(community_id: str, coordsys: str):
    """One community, with an ETag."""
    return _answer(get_community(community_id), coordsys)


@blp.route("/<community_id>", methods=["PATCH"])
@key_required
@admin_only(ADMIN_ONLY)
@blp.doc(security=[{"bearer": []}])
@blp.arguments(CommunityPatchSchema(partial=True))
@blp.response(200, CommunitySchema)
def update(changes: dict, community_id: str):
    """Change some fields of a community (admin); If-Match guards against lost updates."""
    community = get_community(community_id, for_update=True)
    check_if_match(community, "community")
    write(community, changes)  # a PATCH changing nothing writes nothing
    db.session.commit()
    return _answer(community, (changes.get("location") or {}).get("coordsys", "wgs84"))


@blp.route("/<community_id>", methods=["DELETE"])
@key_required
@admin_only(ADMIN_ONLY)
@blp.doc(security=[{"bearer": []}])
@blp.response(204)
def delete(community_id: str):
    """Delete a community (admin)."""
    community = get_community(community_id, for_update=True)
    check_if_match(community, "community")
    write(community, None)
    db.session.commit()

"""/api/v1/audit: administrators read the log of writes; nothing can change it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..audit import list_entries, present_entry
from ..auth import admin_only, key_required
from ..hours import SHANGHAI
from ..schemas import BoundedAwareDateTime, PageSchema
from . import Blueprint, page_size

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
                description="The audit log of writes 操作日志 (admin keys only)")

ACTIONS = ("create", "update", "delete", "import")


class AuditQuerySchema(Schema):
    facility_id = fields.UUID()
    community_id = fields.UUID()
    key_id = fields.String(validate=validate.Length(1, 36),
                           metadata={"description": 'An API key id, or "cli"'})
    action = fields.String(validate=validate.OneOf(ACTIONS))
    since = BoundedAwareDateTime(default_timezone=SHANGHAI, metadata={
        "description": "ISO 8601, inclusive; without an offset, Asia/Shanghai"})
    until = BoundedAwareDateTime(default_timezone=SHANGHAI, metadata={
        "description": "ISO 8601, inclusive; without an offset, Asia/Shanghai"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1),
                              metadata={"description": "Default 20, at most 100"})


class AuditEntrySchema(Schema):
    id = fields.UUID()
    at = fields.DateTime()
    key_id = fields.String(metadata={"description": 'The API key that wrote, or "cli"'})
    action = fields.String(metadata={"enum": list(ACTIONS)})
    facility_id = fields.UUID(allow_none=True, metadata={
        "description": "Null for the summary entry of an import, and for communities"})
    community_id = fields.UUID(allow_none=True, metadata={
        "description": "The community written, for writes to communities"})
    request_id = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True, metadata={
        "description": "The facility as it was stored, column by column with its services "
                       "(null when created)"})
    after = fields.Dict(allow_none=True, metadata={
        "description": "The facility as it was stored after, likewise (null when deleted); "
                       "an import's counts"})


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))


@blp.route("")
@key_required
@blp.arguments(AuditQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AuditPageSchema)
@blp.doc(security=[{"bearer": []}])
@admin_only("Only admin keys may read the audit log.")
def list_(page: int, per_page: int | None, **filters):
    """List audit entries, newest first (admin)."""
    per_page = page_size(per_page)
    items, total = list_entries(filters, page, per_page)
    return {"items": [present_entry(e) for e in items], "page": page, "per_page": per_page,
            "total": total}

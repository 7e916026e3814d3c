"""/api/v1/keys/me: what the presented API key may do (the console signs in with it)."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields

from ..auth import key_required
from ..districts import load_districts
from . import Blueprint

blp = Blueprint("keys", __name__, url_prefix="/api/v1/keys",
                description="API keys 密钥 (the key presented, never its secret)")


class DistrictRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()


class KeySchema(Schema):
    id = fields.String()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The secret's first characters"})
    role = fields.String(metadata={"enum": ["admin", "editor"]})
    districts = fields.List(fields.Nested(DistrictRefSchema), metadata={
        "description": "Where an editor may write; empty for an admin (everywhere)"})


@blp.route("/me")
@key_required
@blp.doc(security=[{"bearer": []}])
@blp.response(200, KeySchema)
def me():
    """The key presented: its name, role and districts (401 when it is not valid)."""
    key, districts = g.api_key, load_districts()
    return {"id": str(key.id), "name": key.name, "prefix": key.prefix, "role": key.role,
            "districts": [{"code": code, "name": districts[code].name,
                           "name_en": districts[code].name_en}
                          for code in key.districts if code in districts]}

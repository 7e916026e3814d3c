"""/api/v1/imports: administrators load spreadsheets and files of facilities or communities."""

from __future__ import annotations

from pathlib import PurePath

from flask import current_app, request
from marshmallow import Schema, fields, validate

from ..auth import admin_only, key_required
from ..errors import Problem
from ..extensions import PROBLEM_JSON, db
from ..geo.coordsys import COORDSYS
from ..importing import (
    EXTENSIONS,
    MEDIA_TYPES,
    TARGETS,
    FileTooLarge,
    ReadLimits,
    UnreadableFile,
    import_records,
)
from ..schemas import ProblemSchema
from . import Blueprint

blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports",
                description="Bulk import 批量导入")


class ImportQuerySchema(Schema):
    into = fields.String(load_default="facilities", validate=validate.OneOf(list(TARGETS)),
                         metadata={"description": "What the file holds: facilities (default) "
                                                  "or communities 社区/村"})
    dry_run = fields.Boolean(load_default=False,
                             metadata={"description": "Validate and report only"})
    coordsys = fields.String(validate=validate.OneOf(COORDSYS), metadata={
        "description": "Coordinate system of rows that do not name one"})


class RowProblemSchema(Schema):
    line = fields.Integer()
    column = fields.String()
    reason = fields.String()


class ImportReportSchema(Schema):
    format = fields.String()
    dry_run = fields.Boolean()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    invalid = fields.List(fields.Nested(RowProblemSchema))
    unknown_columns = fields.List(fields.String())


class ImportProblemSchema(ProblemSchema):
    """A refused import: the problem, and the report of what was wrong."""

    report = fields.Nested(ImportReportSchema)


@blp.before_request
def _allow_large_files():
    request.max_content_length = current_app.config["SERVICEMAP"].max_import_bytes
    # The file is read and checked before the write lock is taken (importing.py); a dry
    # run never takes it, so other writers are not kept waiting by an upload.
    db.begin_as_writer(False)


def _upload() -> tuple[bytes, str]:
    """The file's bytes and format, from a raw body or the multipart field `file`."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Problem(422, "Send the file in the multipart field `file`.",
                          {"file": ["Missing file."]})
        fmt = EXTENSIONS.get(PurePath(upload.filename or "").suffix.lower()) or MEDIA_TYPES.get(
            upload.mimetype)
        data = upload.read()
    else:
        fmt, data = MEDIA_TYPES.get(request.mimetype), request.get_data()
    if fmt is None:
        raise Problem(415, "Send CSV (text/csv), XLSX, JSON, GeoJSON or HSDS 3.0 JSON; got "
                           f"{request.mimetype or 'no content type'}.")
    return data, fmt


@blp.route("", methods=["POST"])
@key_required
@blp.doc(security=[{"bearer": []}])
@blp.arguments(ImportQuerySchema, location="query", as_kwargs=True)
@blp.response(200, ImportReportSchema)
@blp.alt_response(422, schema=ImportProblemSchema, content_type=PROBLEM_JSON,
                  description="Invalid input, or rows that cannot be imported (nothing written)")
@blp.alt_response(413, schema=ProblemSchema, content_type=PROBLEM_JSON,
                  description="More bytes or rows than an import may hold (nothing written)")
@blp.doc(requestBody={"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                  for t in [*MEDIA_TYPES, "multipart/form-data"]}})
@admin_only("Only admin keys may import.")
def create(into: str, dry_run: bool, coordsys: str | None = None):
    """Import facilities or communities: a dry run reports; a real import writes all rows or
    none (admin)."""
    data, fmt = _upload()
    config = current_app.config["SERVICEMAP"]
    try:
        report = import_records(data, fmt, TARGETS[into], dry_run=dry_run, coordsys=coordsys,
                                limits=ReadLimits(config.max_import_rows,
                                                  config.max_import_bytes))
    except FileTooLarge as exc:
        raise Problem(413, f"{exc} Split the file, or load it on the server with "
                           "`flask --app servicemap import FILE`.") from None
    except UnreadableFile as exc:
        if exc.line is not None:  # a bad line in an otherwise readable file
            raise Problem(422, f"The file cannot be read: {exc}",
                          {f"line {exc.line}": [str(exc)]}) from None
        raise Problem(400, f"The file cannot be read: {exc}") from None
    if not dry_run and not report.accepted:
        raise Problem(422, _summary(report), _errors(report), body={"report": report.to_dict()})
    return report.to_dict()


def _summary(report) -> str:
    parts = []
    if report.invalid:
        parts.append(f"{len({p['line'] for p in report.invalid})} invalid row(s)")
    if report.unknown_columns:
        parts.append("unknown column(s) " + ", ".join(report.unknown_columns))
    return "Nothing was imported: " + "; ".join(parts) + "."


def _errors(report) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for p in report.invalid:
        errors.setdefault(f"line {p['line']}: {p['column']}", []).append(p["reason"])
    for column in report.unknown_columns:
        errors.setdefault(column, []).append("Unknown column. 未知的列。")
    return errors

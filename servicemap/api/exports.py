"""/api/v1/exports: the whole registry as CSV (opens in Excel) or GeoJSON."""

from __future__ import annotations

import csv
import io
import tempfile

from flask import Response, json, stream_with_context
from sqlalchemy import select

from ..extensions import db
from ..geojson import GEOJSON, feature
from ..importing import XLSX
from ..models import Facility
from ..registry import present
from ..spreadsheet import COLUMNS, NUMBER_COLUMNS, facility_to_row
from . import Blueprint

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports",
                description="Export 导出")


def _all_facilities():
    query = select(Facility).order_by(Facility.district_code, Facility.name, Facility.id)
    return db.session.scalars(query.execution_options(yield_per=1000))


@blp.route("/facilities.csv")
@blp.doc(responses={200: {"description": "UTF-8 CSV with a BOM, the contract's columns",
                          "content": {"text/csv": {"schema": {"type": "string"}}}}})
def facilities_csv():
    """Every facility as CSV, UTF-8 with a BOM so that Excel opens it; text that a
    spreadsheet would run as a formula starts with a quote (undone on import)."""

    def lines():
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        yield "\ufeff" + buffer.getvalue()
        for facility in _all_facilities():
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(facility_to_row(facility))
            yield buffer.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=facilities.csv"})


@blp.route("/facilities.xlsx")
@blp.doc(responses={200: {"description": "An XLSX workbook, the contract's columns",
                          "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def facilities_xlsx():
    """Every facility as an XLSX sheet, text neutralised as in the CSV export."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # rows go to a temporary file, not kept in memory
    sheet = book.create_sheet("facilities")
    sheet.append(COLUMNS)
    for facility in _all_facilities():
        row = facility_to_row(facility)
        sheet.append([_number(row[c]) if c in NUMBER_COLUMNS else row[c] for c in COLUMNS])
    spool = tempfile.TemporaryFile()
    book.save(spool)
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(1 << 16):
                yield block

    response = Response(chunks(), mimetype=XLSX, headers={
        "Content-Disposition": "attachment; filename=facilities.xlsx"})
    response.call_on_close(spool.close)  # also when the client goes away mid-download
    return response


def _number(text: str) -> int | float | None:
    """A number column as a number cell, so that a spreadsheet sums and sorts it."""
    if not text:
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


@blp.route("/facilities.geojson")
@blp.doc(responses={200: {"description": "A GeoJSON FeatureCollection (WGS-84)",
                          "content": {GEOJSON: {"schema": {"type": "object"}}}}})
def facilities_geojson():
    """Every facility as a GeoJSON Feature; those without a location have no geometry."""

    def chunks():
        yield '{"type": "FeatureCollection", "features": ['
        for number, facility in enumerate(_all_facilities()):
            # The point is the geometry; the location keeps only how precise it is.
            yield ("," if number else "") + json.dumps(feature(present(facility),
                                                               keep=("precision",)))
        yield "]}"

    return Response(stream_with_context(chunks()), mimetype=GEOJSON,
                    headers={"Content-Disposition": "attachment; filename=facilities.geojson"})

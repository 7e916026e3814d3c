"""/api/v1/exports: the whole registry, facilities or communities, as CSV (opens in Excel),
XLSX or GeoJSON."""

from __future__ import annotations

import csv
import io
import tempfile

from flask import Response, json, stream_with_context
from sqlalchemy import select

from ..communities import present as present_community
from ..community_sheet import COLUMNS as COMMUNITY_COLUMNS
from ..community_sheet import NUMBER_COLUMNS as COMMUNITY_NUMBER_COLUMNS
from ..community_sheet import community_to_row
from ..extensions import db
from ..geojson import GEOJSON, feature
from ..importing import XLSX
from ..models import Community, Facility
from ..registry import present
from ..spreadsheet import COLUMNS, NUMBER_COLUMNS, facility_to_row
from . import Blueprint

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports",
                description="Export 导出")


def _all_facilities():
    query = select(Facility).order_by(Facility.district_code, Facility.name, Facility.id)
    return db.session.scalars(query.execution_options(yield_per=1000))


def _all_communities():
    query = select(Community).order_by(Community.district_code, Community.name, Community.id)
    return db.session.scalars(query.execution_options(yield_per=1000))


def _csv(name: str, columns: list[str], rows) -> Response:
    """rows() (dicts of text) as a streamed CSV download, UTF-8 with a BOM for Excel; read
    while streaming, inside the request's context."""

    def lines():
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, lineterminator="\r\n")
        writer.writeheader()
        yield "\ufeff" + buffer.getvalue()
        for row in rows():
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(row)
            yield buffer.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}.csv"})


def _xlsx(name: str, columns: list[str], number_columns, rows) -> Response:
    """rows() (dicts of text) as an XLSX sheet, number columns as number cells."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # rows go to a temporary file, not kept in memory
    sheet = book.create_sheet(name)
    sheet.append(columns)
    for row in rows():
        sheet.append([_number(row[c]) if c in number_columns else row[c] for c in columns])
    spool = tempfile.TemporaryFile()
    book.save(spool)
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(1 << 16):
                yield block

    response = Response(chunks(), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename={name}.xlsx"})
    response.call_on_close(spool.close)  # also when the client goes away mid-download
    return response


def _number(text: str) -> int | float | None:
    """A number column as a number cell, so that a spreadsheet sums and sorts it."""
    if not text:
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _geojson(name: str, features) -> Response:
    """features() (dicts) as a streamed GeoJSON FeatureCollection, read while streaming."""

    def chunks():
        yield '{"type": "FeatureCollection", "features": ['
        for number, item in enumerate(features()):
            yield ("," if number else "") + json.dumps(item)
        yield "]}"

    return Response(stream_with_context(chunks()), mimetype=GEOJSON,
                    headers={"Content-Disposition": f"attachment; filename={name}.geojson"})


CSV_DOC = {200: {"description": "UTF-8 CSV with a BOM, the contract's columns",
                 "content": {"text/csv": {"schema": {"type": "string"}}}}}
XLSX_DOC = {200: {"description": "An XLSX workbook, the contract's columns",
                  "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}
GEOJSON_DOC = {200: {"description": "A GeoJSON FeatureCollection (WGS-84)",
                     "content": {GEOJSON: {"schema": {"type": "object"}}}}}


@blp.route("/facilities.csv")
@blp.doc(responses=CSV_DOC)
def facilities_csv():
    """Every facility as CSV, UTF-8 with a BOM so that Excel opens it; text that a
    spreadsheet would run as a formula starts with a quote (undone on import)."""
    return _csv("facilities", COLUMNS, lambda: map(facility_to_row, _all_facilities()))


@blp.route("/facilities.xlsx")
@blp.doc(responses=XLSX_DOC)
def facilities_xlsx():
    """Every facility as an XLSX sheet, text neutralised as in the CSV export."""
    return _xlsx("facilities", COLUMNS, NUMBER_COLUMNS,
                 lambda: map(facility_to_row, _all_facilities()))


@blp.route("/facilities.geojson")
@blp.doc(responses=GEOJSON_DOC)
def facilities_geojson():
    """Every facility as a GeoJSON Feature; those without a location have no geometry."""
    # The point is the geometry; the location keeps only how precise it is.
    return _geojson("facilities", lambda: (feature(present(f), keep=("precision",))
                                           for f in _all_facilities()))


@blp.route("/communities.csv")
@blp.doc(responses=CSV_DOC)
def communities_csv():
    """Every community as CSV (the columns of a community import), text neutralised as for
    facilities."""
    return _csv("communities", COMMUNITY_COLUMNS,
                lambda: map(community_to_row, _all_communities()))


@blp.route("/communities.xlsx")
@blp.doc(responses=XLSX_DOC)
def communities_xlsx():
    """Every community as an XLSX sheet, text neutralised as in the CSV export."""
    return _xlsx("communities", COMMUNITY_COLUMNS, COMMUNITY_NUMBER_COLUMNS,
                 lambda: map(community_to_row, _all_communities()))


@blp.route("/communities.geojson")
@blp.doc(responses=GEOJSON_DOC)
def communities_geojson():
    """Every community as a GeoJSON Feature (WGS-84 points)."""
    return _geojson("communities", lambda: (feature(present_community(c), keep=("coordsys",))
                                            for c in _all_communities()))

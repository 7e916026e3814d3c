"""/api/v1/exports: the whole registry as CSV (opens in Excel) or GeoJSON."""

from __future__ import annotations

import csv
import io

from flask import Response, json, stream_with_context
from sqlalchemy import select

from ..extensions import db
from ..models import Facility
from ..registry import present
from ..spreadsheet import COLUMNS, facility_to_row
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
    """Every facility as CSV, UTF-8 with a BOM so that Excel opens it."""

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


@blp.route("/facilities.geojson")
@blp.doc(responses={200: {"description": "A GeoJSON FeatureCollection (WGS-84)",
                          "content": {"application/geo+json": {"schema": {"type": "object"}}}}})
def facilities_geojson():
    """Every facility as a GeoJSON Feature; those without a location have no geometry."""

    def chunks():
        yield '{"type": "FeatureCollection", "features": ['
        for number, facility in enumerate(_all_facilities()):
            properties = present(facility)
            location = properties.pop("location")
            geometry = ({"type": "Point", "coordinates": [location["lon"], location["lat"]]}
                        if location else None)
            properties["id"] = str(properties["id"])
            if location:
                properties["location"] = {"precision": location["precision"]}
            feature = {"type": "Feature", "id": properties["id"], "geometry": geometry,
                       "properties": properties}
            yield ("," if number else "") + json.dumps(feature)
        yield "]}"

    return Response(stream_with_context(chunks()), mimetype="application/geo+json",
                    headers={"Content-Disposition": "attachment; filename=facilities.geojson"})

"""/api/v1/facilities/nearest: what is near me, open now, with room."""

from __future__ import annotations

from flask import Response, current_app, json, request

from .. import hours
from ..caching import fresh_until
from ..errors import Problem
from ..extensions import db
from ..geo.coordsys import to_wgs84
from ..geo.spatial import NearestQuery
from ..geojson import GEOJSON, feature
from ..holidays import current_calendar
from ..registry import present_hits
from ..renderings import items_json
from ..schemas import NearestQuerySchema, NearestSchema
from ..store import nearest
from . import Blueprint

# What most searches ask, read without the schema's machinery (api/quick_arguments.py).
QUICK = ("lat", "lon", "coordsys", "radius_m", "limit", "kind", "service", "open_now",
         "has_vacancy", "inclusive")
# The answer is JSON or GeoJSON by the Accept header: caches must key on it.
VARY = {"Vary": "Accept"}

blp = Blueprint("nearest", __name__, url_prefix="/api/v1/facilities",
                description="Nearest-service search 就近查找")


@blp.route("/nearest")
@blp.arguments(NearestQuerySchema(), location="query", quick=QUICK)
@blp.response(200, NearestSchema)
@blp.doc(responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}})
def nearest_facilities(args: dict):
    """The nearest active facilities, by geodesic distance, with filters."""
    connection, hits, head = _search(args)
    if request.accept_mimetypes.best_match(["application/json", GEOJSON]) == GEOJSON:
        return _feature_collection({**head, "items": _items(hits, args["coordsys"])})
    # NearestSchema's shape, as json.dumps would write it, with the items as rendered text.
    tail = (f', "holiday_data": {json.dumps(head["holiday_data"])}'
            if "holiday_data" in head else "")
    text = (f'{{"origin": {json.dumps(head["origin"])}, "items": '
            f'{items_json(connection, hits, args["coordsys"])}{tail}}}')
    return Response(text, mimetype="application/json", headers=VARY)


def nearest_answer(args: dict) -> dict:
    """The /nearest body, as a dict, for arguments loaded by NearestQuerySchema (the pages)."""
    _connection, hits, head = _search(args)
    return {"origin": head["origin"], "items": _items(hits, args["coordsys"]),
            **({"holiday_data": head["holiday_data"]} if "holiday_data" in head else {})}


def _search(args: dict) -> tuple:
    """The connection, the hits, and the answer's origin (and holiday_data when it matters)."""
    lat, lon = to_wgs84(args["lat"], args["lon"], args["coordsys"])
    moment = hours.shanghai_now() if args["open_now"] else args.get("open_at")
    query = NearestQuery(
        lat=lat, lon=lon, radius_m=args["radius_m"], limit=args["limit"],
        kinds=tuple(args.get("kind", ())), services=tuple(args.get("service", ())),
        inclusive=args.get("inclusive"), has_vacancy=args["has_vacancy"],
        open_at=moment,
    )
    if "program" in args:
        query = _delivering(query, args["program"])
    connection = db.reader
    hits = nearest(connection, query) if query else []
    head = {"origin": {"lat": args["lat"], "lon": args["lon"], "coordsys": args["coordsys"]}}
    if moment is not None:  # say whether the day asked about was on the holiday calendar
        known = current_calendar().knows(hours.local_time(moment).date())
        head["holiday_data"] = "available" if known else "unavailable"
    return connection, hits, head


def _items(hits, coordsys: str) -> list[dict]:
    items = present_hits(hits, coordsys)
    fresh_until(item["next_change"] for item in items)
    return items


def _delivering(query: NearestQuery, program_id: str) -> NearestQuery | None:
    """The query narrowed to facilities that deliver the programme (None: none can)."""
    programme = current_app.extensions["servicemap.catalogue"].get(program_id)
    if programme is None:
        raise Problem(422, f"No programme has the id {program_id!r}.",
                      {"program": ["Unknown programme; see /api/v1/programs."]})
    return query.delivering(programme.delivered_by)


def _feature_collection(body: dict) -> Response:
    """RFC 7946 features; coordinates in the coordsys asked for, named in `coordsys`."""
    features, origin = [feature(item) for item in body.pop("items")], body["origin"]
    body = {"type": "FeatureCollection", "coordsys": origin["coordsys"], **body,
            "features": features}
    return Response(json.dumps(body), mimetype=GEOJSON, headers=VARY)

"""The API of wsgi.py with one endpoint more, for the bench only: /bench/floor.

    gunicorn --pythonpath bench floor_app:app   (bench/nearest.py starts it so)

/bench/floor is the least any /nearest could do in this API: it runs the bench's raw index
floor for the origin asked (bench/_methods.py: the raw R*Tree with the store's learnt first box
on SQLite, raw KNN and service areas on PostGIS, ids only, no geodesics) and answers the bytes
of one real /nearest answer, through every hook the API's public answers get (request id,
metrics, access log, security and caching headers with the body's ETag). Its share of /healthz
is the ceiling of /nearest's.
"""

from __future__ import annotations

import _data
import _methods
from flask import Blueprint, Response, current_app, request

from servicemap import caching
from servicemap.extensions import db
from servicemap.geo.spatial import Densities
from wsgi import app

floor = Blueprint("bench-floor", __name__)
caching.PUBLIC_BLUEPRINTS.add("bench-floor")  # tagged and marked like /nearest's answers
_state: dict = {}  # per worker, made at its first request (connections do not survive fork)


@floor.route("/bench/floor")
def bench_floor():
    lat, lon = float(request.args["lat"]), float(request.args["lon"])
    if not _state:
        # The answer /nearest gives for this first origin: its bytes, from now on for any.
        first = current_app.view_functions["nearest.nearest_facilities"]()
        _state["body"] = first.get_data()
        _state["search"] = _raw_search(current_app.config["SERVICEMAP"].database_url)
    _state["search"](lat, lon)
    return Response(_state["body"], mimetype="application/json", headers={"Vary": "Accept"})


def _raw_search(url: str):
    if url.startswith("sqlite:///"):
        # On the request's reader connection, as /nearest's search: a connection of its own
        # would add its page cache to the worker's private memory the bench reports.
        search, _connection = _methods.make_raw_rtree(
            url.removeprefix("sqlite:///"), Densities(),
            connection=lambda: db.reader.connection.dbapi_connection)
    else:
        search, _connection = _methods.make_raw_knn(_data.libpq_url(url),
                                                    _methods.KNN_AREAS_SQL)
    return search


app.register_blueprint(floor)

"""The API root and the health probes."""

from flask import url_for
from sqlalchemy import text

from .. import store
from ..errors import Problem
from ..extensions import db
from ..observability import metrics_response
from ..schemas import ApiRootSchema
from . import Blueprint

blp = Blueprint("root", __name__, description="Service information 服务信息")


@blp.route("/api/v1/")
@blp.response(200, ApiRootSchema)
def index():
    """Name, version and where the API is described."""
    return {
        "name": "servicemap 一老一小服务地图",
        "version": "1",
        "openapi_url": url_for("api-docs.openapi_json"),
        "docs_url": url_for("api-docs.openapi_swagger_ui"),
        "links": {"facilities": url_for("facilities.list_")},
    }


@blp.route("/healthz")
@blp.response(200)
def healthz():
    """The process is alive."""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200)
def readyz():
    """The database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        raise Problem(503, f"The database is unreachable: {type(exc).__name__}.",
                      headers={"Retry-After": "5"}) from None
    return {"status": "ok", "database": store.backend_name(db.engine)}


@blp.route("/metrics")
@blp.response(200, {"type": "string"}, content_type="text/plain")
def metrics():
    """Prometheus metrics: requests and latency by endpoint and status, database pool."""
    return metrics_response()

"""/ 找服务: where am I, what do I need, and the nearest places, rendered from the URL.

Where am I, in the order a request is read: a typed `address` (geocoded by the code of
GET /api/v1/geocode), else a `district` and maybe `street` (their centres, as
GET /api/v1/districts gives them), else `lat`/`lon` (the 定位 button, or a shared link).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request
from marshmallow import ValidationError

from ..api.districts import district_list
from ..api.geocode import GeocodeQuerySchema, geocode_answer
from ..api.nearest import nearest_answer
from ..errors import Problem, flatten_messages
from ..geo.coordsys import to_wgs84
from ..schemas import NearestQuerySchema
from .blueprint import blp, translate
from .maps import tile_map

# The query arguments the search form sends, passed to the API's own schema as they are.
SEARCH_ARGUMENTS = ("lat", "lon", "coordsys", "kind", "radius_m", "open_now", "has_vacancy",
                    "inclusive", "limit")
LIST_ARGUMENTS = ("kind",)


@dataclass(frozen=True)
class Origin:
    """Where a search starts when the resident named a place: a WGS-84 point, in words."""

    lat: float
    lon: float
    said: str  # what the address or pick lists were understood as


@blp.route("/")
def find():
    """找服务: the search form, and with a place or lat/lon the nearest results (no JS needed)."""
    asked = {name: (request.args.getlist(name) if name in LIST_ARGUMENTS
                    else request.args.get(name))
             for name in SEARCH_ARGUMENTS if name in request.args}
    asked = {name: value for name, value in asked.items() if value not in ("", [])}
    districts = district_list("wgs84")
    origin, problem, errors = None, None, {}
    try:
        origin = place_origin(request.args, districts)
    except Problem as refusal:
        problem, errors = refusal, refusal.errors or {}
    query = dict(asked, lat=origin.lat, lon=origin.lon, coordsys="wgs84") if origin else asked
    answer = None
    if not problem and ("lat" in query or "lon" in query):
        try:
            answer = nearest_answer(NearestQuerySchema().load(query))
        except ValidationError as error:
            errors = flatten_messages(error.messages)
    status = problem.status if problem else 422 if errors else 200
    tiles = tile_map() if answer else None
    return render_template(
        "pages/find.html", asked=asked, answer=answer, errors=errors, origin=origin,
        problem=problem if problem and not problem.errors else None, districts=districts,
        district=_chosen(districts, request.args.get("district")),
        address=request.args.get("address", ""), street=request.args.get("street", ""),
        tiles=tiles, markers=_markers(tiles, answer)), status


def place_origin(args, districts: list[dict]) -> Origin | None:
    """The origin a typed address or the 区县/街道 lists give, None when neither was given;
    Problem naming the field when the place is unknown (404 for an address not found)."""
    address = (args.get("address") or "").strip()
    if address:
        try:
            loaded = GeocodeQuerySchema().load({"q": address})
        except ValidationError as error:
            raise Problem.invalid({"address": flatten_messages(error.messages)["q"]}) from None
        try:
            found = geocode_answer(loaded["q"], "wgs84")
        except Problem as refusal:
            raise Problem(refusal.status, _not_found(address) if refusal.status == 404 else
                          translate("地址查询暂时不可用，请改用区县和街道。",
                                    "Address search is unavailable just now; choose a "
                                    "district instead.")) from None
        place = found["district"]["name"] + (found["street"] or "")
        said = f"“{address}”（{place}）" if found["precision"] == "exact" else place
        return Origin(found["location"]["lat"], found["location"]["lon"], said)
    code = args.get("district")
    if not code:
        return None
    district = _chosen(districts, code)
    if district is None:
        raise Problem.invalid({"district": [translate("请从列表中选择区县。",
                                                      "Choose a district from the list.")]})
    name = args.get("street")
    if not name:
        return Origin(district["centre"]["lat"], district["centre"]["lon"], district["name"])
    street = next((s for s in district["streets"] if s["name"] == name), None)
    if street is None:
        raise Problem.invalid({"street": [translate(
            f"{district['name']}没有叫“{name}”的街道/镇，请从列表中选择。",
            f"{district['name_en']} has no 街道/镇 called {name}; choose one from the list.")]})
    return Origin(street["centre"]["lat"], street["centre"]["lon"], district["name"] + name)


def _not_found(address: str) -> str:
    return translate(f"没有找到“{address}”。请写上区县和街道，例如：北碚区天生街道；"
                     "或者从上面的列表中选择。",
                     f"Could not find “{address}”. Add the district and 街道, e.g. "
                     "北碚区天生街道, or choose from the lists above.")


def _chosen(districts: list[dict], code: str | None) -> dict | None:
    return next((d for d in districts if d["code"] == code), None) if code else None


def _markers(tiles, answer: dict | None) -> list[dict]:
    """The results as map markers in the tiles' datum (none without a configured map)."""
    if tiles is None or not answer:
        return []
    return [tiles.marker(*_wgs84(item), name=item["name"], href=f"/facilities/{item['id']}")
            for item in answer["items"] if item["location"]]


def _wgs84(item: dict) -> tuple[float, float]:
    # nearest_answer gives locations in the coordsys asked for; the map converts from WGS-84.
    location = item["location"]
    return to_wgs84(location["lat"], location["lon"], location["coordsys"])

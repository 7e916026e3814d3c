"""/api/v1/hsds: the registry as HSDS 3.0, every body checked against the Open Referral schemas.

The schemas are the copies in tests/hsds-3.0 (its README: source commit, licence). The HSDA
OpenAPI document there refers to the compiled schemas by their raw GitHub URLs; a
referencing.Registry maps those URLs to the local files, so page bodies are checked against
the HSDA page schema of their path and nothing is fetched from the network.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from .conftest import create

HSDS_DIR = Path(__file__).resolve().parent / "hsds-3.0"
SPEC = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
HSDA = "urn:servicemap:test:hsda-openapi"  # where the registry keeps HSDA's openapi.json
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:servicemap:hsds")
ORIGIN = {"lat": 29.8257, "lon": 106.4370}  # 北碚区天生街道


def _openapi_schema(path: str) -> str:
    pointer = path.replace("~", "~0").replace("/", "~1")
    return f"{HSDA}#/paths/{pointer}/get/responses/200/content/application~1json/schema"


# Which schema each endpoint's 200 body must satisfy. HSDA's openapi.json gives
# service.json for /service_at_locations/{id}, yet describes "a fully nested
# service_at_location": we return (and check) service_at_location.json.
ROUTES = [
    (r"/", _openapi_schema("/")),
    (r"/services", _openapi_schema("/services")),
    (r"/services/[^/]+", SPEC + "compiled/service.json"),
    (r"/organizations", _openapi_schema("/organizations")),
    (r"/organizations/[^/]+", SPEC + "compiled/organization.json"),
    (r"/service_at_locations", _openapi_schema("/service_at_locations")),
    (r"/service_at_locations/[^/]+", SPEC + "compiled/service_at_location.json"),
    (r"/taxonomies", _openapi_schema("/taxonomies")),
    (r"/taxonomies/[^/]+", SPEC + "taxonomy.json"),
    (r"/taxonomy_terms", _openapi_schema("/taxonomy_terms")),
    (r"/taxonomy_terms/[^/]+", SPEC + "taxonomy_term.json"),
]


@cache
def _registry() -> Registry:
    if not HSDS_DIR.is_dir():
        pytest.fail(f"The HSDS 3.0 schemas are expected in {HSDS_DIR}")
    resources = {}
    for path in (HSDS_DIR / "schema").glob("*.json"):
        resources[SPEC + "compiled/" + path.name] = json.loads(path.read_text("utf-8"))
    resources[HSDA] = json.loads((HSDS_DIR / "openapi.json").read_text("utf-8"))
    # taxonomy.json and taxonomy_term.json are not among the copies; the same objects as
    # service.json nests them (in attributes) stand in for them.
    term = resources[SPEC + "compiled/service.json"]["properties"]["attributes"]["items"][
        "properties"]["taxonomy_term"]
    resources[SPEC + "taxonomy_term.json"] = term
    resources[SPEC + "taxonomy.json"] = term["properties"]["taxonomy_detail"]
    return Registry().with_resources(
        (uri, DRAFT202012.create_resource(contents)) for uri, contents in resources.items())


@cache
def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=_registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def check(body, ref: str) -> None:
    """Fail with every schema error, each with where it is in the body."""
    errors = sorted(_validator(ref).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def hsds(client, url: str, status: int = 200):
    """GET an HSDS endpoint; a 200 body must satisfy its HSDS schema, an error is a problem."""
    response = client.get("/api/v1/hsds" + url)
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 200:
        path = urlsplit(url).path
        ref = next(ref for pattern, ref in ROUTES if re.fullmatch(pattern, path))
        check(response.json, ref)
    else:
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == status
    return response


def near(lat_offset: float, **fields) -> dict:
    return {"location": {"lat": ORIGIN["lat"] + lat_offset, "lon": ORIGIN["lon"]}, **fields}


def names(page: dict) -> list[str]:
    return [item["name"] for item in page["contents"]]


def test_validation_helper_rejects_a_service_without_a_uuid_id():
    # Guards the checks below: format checking is on and the compiled schemas are the ones used.
    with pytest.raises(AssertionError, match="uuid"):
        check({"id": "42", "name": "x", "status": "active"}, SPEC + "compiled/service.json")
    with pytest.raises(AssertionError, match="size"):
        check({"size": "2", "contents": []}, _openapi_schema("/services"))
    with pytest.raises(AssertionError, match=r"\['contents', 0\]: 'name' is a required"):
        check({"contents": [{"id": str(uuid.uuid4()), "status": "active"}]},
              _openapi_schema("/services"))


def test_root_gives_the_hsds_version_profile_and_openapi_url(client):
    body = hsds(client, "/").json
    assert body["version"] == "3.0"
    assert body["profile"] == "https://openreferral.org/specification/3.0/"
    for uri in (body["profile"], body["openapi_url"]):  # format: uri, absolute
        assert urlsplit(uri).scheme in ("http", "https") and urlsplit(uri).netloc
    assert client.get(urlsplit(body["openapi_url"]).path).status_code == 200


def test_services_page_lists_published_facilities_by_name_without_drafts(client, admin):
    create(client, admin, name="乙食堂")
    create(client, admin, name="甲食堂", status="inactive")
    create(client, admin, name="丙食堂", status="temporarily_closed")
    create(client, admin, name="草稿食堂", status="draft")
    body = hsds(client, "/services").json
    assert body["total_items"] == 3
    assert sorted(names(body)) == sorted(["乙食堂", "甲食堂", "丙食堂"])
    assert {item["name"]: item["status"] for item in body["contents"]} == {
        "乙食堂": "active", "甲食堂": "inactive", "丙食堂": "temporarily closed"}


def test_page_fields_follow_the_pagination_math(client, admin):
    for number in range(5):
        create(client, admin, name=f"食堂{number}")
    first = hsds(client, "/services?per_page=2").json
    assert {k: v for k, v in first.items() if k not in ("contents", "next_cursor")} == {
        "total_items": 5, "total_pages": 3, "page_number": 1, "size": 2,
        "first_page": True, "last_page": False, "empty": False, "total_estimated": False}
    assert names(first) == ["食堂0", "食堂1"]
    last = hsds(client, "/services?per_page=2&page=3").json
    assert (last["size"], last["first_page"], last["last_page"], last["empty"]) == (
        1, False, True, False)
    assert names(last) == ["食堂4"]
    beyond = hsds(client, "/services?per_page=2&page=4").json
    assert beyond["contents"] == [] and beyond["size"] == 0 and beyond["empty"] is True
    assert (beyond["total_items"], beyond["total_pages"], beyond["last_page"]) == (5, 3, True)
    exact = hsds(client, "/services?per_page=5").json
    assert (exact["total_pages"], exact["first_page"], exact["last_page"]) == (1, True, True)


def test_an_empty_registry_is_one_empty_first_and_last_page(client):
    for path in ("/services", "/organizations", "/service_at_locations"):
        body = hsds(client, path).json
        assert body == {"total_items": 0, "total_pages": 0, "page_number": 1, "size": 0,
                        "first_page": True, "last_page": True, "empty": True, "contents": [],
                        "total_estimated": False, "next_cursor": None}


@pytest.mark.parametrize("query, field", [
    ("per_page=101", "per_page"), ("per_page=0", "per_page"), ("page=0", "page"),
    ("page=x", "page"), ("taxonomy_term_id=meals", "taxonomy_term_id"),
    ("taxonomy_term_id=00000000-0000-0000-0000-000000000000", "taxonomy_term_id"),
    ("organization_id=nope", "organization_id"), ("modified_after=yesterday", "modified_after"),
    ("postcode=400700", "postcode"), ("postcode=400700&proximity=1000", "proximity"),
    ("proximity=1000", "proximity"), ("lat=29.8", "lon"), ("lon=106.4", "lat"),
    ("radius_m=500", "radius_m"), ("lat=29.8&lon=106.4&radius_m=60000", "radius_m"),
    ("lat=91&lon=106.4", "lat"), ("lat=29.8&lon=106.4&coordsys=wgs", "coordsys"),
])
def test_invalid_parameters_are_422_problems_naming_the_parameter(client, query, field):
    for path in ("/services", "/service_at_locations"):
        problem = hsds(client, f"{path}?{query}", 422).json
        assert field in problem["errors"], problem
        assert field in problem["detail"]


def test_postcode_is_refused_with_a_pointer_to_lat_lon_radius(client):
    problem = hsds(client, "/services?postcode=400700&proximity=2000", 422).json
    assert "lat, lon and radius_m" in problem["errors"]["postcode"][0]


def test_search_finds_chinese_substrings_of_name_and_address(client, admin):
    create(client, admin, name="天生街道老年食堂", address="重庆市北碚区天生路100号")
    create(client, admin, name="缙云幼儿园", kind="kindergarten", services=["preschool"],
           address="重庆市北碚区缙云大道8号")
    create(client, admin, name="歇马镇助餐点", address="重庆市北碚区歇马镇天生巷2号")
    assert sorted(names(hsds(client, "/services?search=天生").json)) == [
        "天生街道老年食堂", "歇马镇助餐点"]
    assert names(hsds(client, "/services?search=缙云大道").json) == ["缙云幼儿园"]
    assert names(hsds(client, "/services?search=幼儿").json) == ["缙云幼儿园"]
    assert hsds(client, "/services?search=渝中").json["empty"] is True
    assert names(hsds(client, "/organizations?search=幼儿园").json) == ["缙云幼儿园"]


def test_taxonomy_term_id_filters_by_kind_or_by_service(client, admin):
    terms = {t["code"]: t["id"] for t in hsds(client, "/taxonomy_terms").json["contents"]}
    create(client, admin, name="食堂", services=["meals"])
    create(client, admin, name="站", kind="elder_care_station", services=["meals", "bathing"])
    create(client, admin, name="幼儿园", kind="kindergarten", services=["preschool"])
    assert names(hsds(client, f"/services?taxonomy_term_id={terms['meal_point']}").json) == [
        "食堂"]
    assert sorted(names(hsds(client, f"/services?taxonomy_term_id={terms['meals']}").json)) == [
        "站", "食堂"]
    assert hsds(client, f"/services?taxonomy_term_id={terms['nursery']}").json["empty"]


def test_lat_lon_radius_gives_the_services_in_range_nearest_first(client, admin):
    create(client, admin, name="远", **near(0.0150))   # ~1.66 km
    create(client, admin, name="近", **near(0.0010))   # ~111 m
    create(client, admin, name="中", **near(0.0080))   # ~890 m
    create(client, admin, name="外", **near(0.0500))   # ~5.5 km
    create(client, admin, name="停", status="inactive", **near(0.0001))
    point = f"lat={ORIGIN['lat']}&lon={ORIGIN['lon']}"
    body = hsds(client, f"/services?{point}&radius_m=2000").json
    assert names(body) == ["近", "中", "远"] and body["total_items"] == 3
    assert names(hsds(client, f"/services?{point}").json) == ["近", "中", "远"]  # 5 km
    assert names(hsds(client, f"/services?{point}&radius_m=2000&per_page=2&page=2").json) == [
        "远"]
    saloc = hsds(client, f"/service_at_locations?{point}&radius_m=1000").json
    assert [item["service"]["name"] for item in saloc["contents"]] == ["近", "中"]


def test_lat_lon_may_be_given_in_gcj02_while_locations_stay_wgs84(client, admin):
    from servicemap.geo.coordsys import from_wgs84

    create(client, admin, name="近", **near(0.0010))
    lat, lon = from_wgs84(ORIGIN["lat"], ORIGIN["lon"], "gcj02")  # ~500 m off in WGS-84
    body = hsds(client, f"/service_at_locations?lat={lat}&lon={lon}&coordsys=gcj02"
                        "&radius_m=200").json
    location = body["contents"][0]["location"]
    assert (location["latitude"], location["longitude"]) == (29.8267, 106.437)
    assert hsds(client, f"/services?lat={lat}&lon={lon}&radius_m=200").json["empty"]


def test_filters_combine_with_and(client, admin):
    terms = {t["code"]: t["id"] for t in hsds(client, "/taxonomy_terms").json["contents"]}
    create(client, admin, name="天生食堂", **near(0.001))
    create(client, admin, name="天生幼儿园", kind="kindergarten", services=["preschool"],
           **near(0.002))
    create(client, admin, name="缙云食堂", address="重庆市北碚区缙云路1号", **near(0.003))
    create(client, admin, name="天生远食堂", **near(0.05))
    point = f"lat={ORIGIN['lat']}&lon={ORIGIN['lon']}&radius_m=2000"
    term = f"taxonomy_term_id={terms['meal_point']}"
    assert names(hsds(client, f"/services?search=天生&{term}&{point}").json) == ["天生食堂"]
    assert sorted(names(hsds(client, f"/services?search=天生&{term}").json)) == [
        "天生远食堂", "天生食堂"]
    assert names(hsds(client, f"/services?{term}&{point}").json) == ["天生食堂", "缙云食堂"]
    assert names(hsds(client, f"/services?search=天生&{point}").json) == ["天生食堂", "天生幼儿园"]


def test_organization_id_and_modified_after_filter_services(client, admin):
    first = create(client, admin, name="甲")
    create(client, admin, name="乙")
    organization_id = hsds(client, f"/services/{first['id']}").json["organization_id"]
    assert names(hsds(client, f"/services?organization_id={organization_id}").json) == ["甲"]
    assert hsds(client, f"/services?organization_id={uuid.uuid4()}").json["empty"]
    assert len(hsds(client, "/services?modified_after=2000-01-01T00:00:00").json["contents"]) == 2
    assert hsds(client, "/services?modified_after=2100-12-31T00:00:00%2B08:00").json["empty"]


def test_a_service_is_the_facility_fully_nested(client, admin):
    facility = create(client, admin, opening_hours=[
        {"days": [1, 2, 3, 4, 5], "opens": "10:30", "closes": "13:00"},
        {"days": [6], "opens": "22:00", "closes": "02:00"}])
    raw = hsds(client, f"/services/{facility['id']}")
    assert "天生街道老年食堂" in raw.get_data(as_text=True)  # characters, not \u escapes
    body = raw.json
    assert body["id"] == facility["id"] and body["name"] == facility["name"]
    assert body["alternate_name"] == "Tiansheng Street Elder Canteen"
    assert body["status"] == "active" and body["last_modified"] == facility["updated_at"]
    assert body["organization"]["name"] == facility["name"]
    assert body["organization"]["id"] == body["organization_id"]
    assert [p["number"] for p in body["phones"]] == ["023-68200000"]
    assert [(s["byday"], s["opens_at"], s["closes_at"], s["freq"], s["description"])
            for s in body["schedules"]] == [
        ("MO,TU,WE,TH,FR", "10:30+08:00", "13:00+08:00", "WEEKLY", "周一至周五 10:30-13:00"),
        ("SA", "22:00+08:00", "02:00+08:00", "WEEKLY", "周六 22:00-次日02:00")]
    (saloc,) = body["service_at_locations"]
    location = saloc["location"]
    assert saloc["location_id"] == location["id"] and saloc["service_id"] == body["id"]
    assert (location["latitude"], location["longitude"]) == (29.8257, 106.437)
    assert location["addresses"] == [{
        "id": location["addresses"][0]["id"], "location_id": location["id"],
        "address_1": "天生街道天生路100号", "city": "重庆市", "region": "北碚区",
        "state_province": "重庆市", "postal_code": "", "country": "CN",
        "address_type": "physical"}]
    assert [lang["code"] for lang in body["languages"]] == ["zh"]
    terms = [a["taxonomy_term"] for a in body["attributes"]]
    assert [(t["code"], t["name"]) for t in terms] == [
        ("meal_point", "老年食堂/助餐点"), ("meals", "助餐"), ("meal_delivery", "送餐上门")]
    assert terms[1]["description"].startswith("Meals")
    assert all(a["taxonomy_term_id"] == a["taxonomy_term"]["id"] for a in body["attributes"])


def test_ages_mobile_service_area_and_unlocated_facilities_are_valid(client, admin):
    nursery = create(client, admin, name="托育园", kind="nursery", services=["nursery_class"],
                     age_months_min=6, age_months_max=36, location=None, phone=None,
                     opening_hours=[], fees="每月 1500 元")
    body = hsds(client, f"/services/{nursery['id']}").json
    assert (body["minimum_age"], body["maximum_age"]) == (0.5, 3)
    assert body["fees_description"] == "每月 1500 元" and "phones" not in body
    location = body["service_at_locations"][0]["location"]
    point = nursery["location"] or {}  # the address may have been geocoded
    assert (location.get("latitude"), location.get("longitude")) == (
        point.get("lat"), point.get("lon"))
    assert ("description" in location) == (point.get("precision", "exact") != "exact")
    assert location["addresses"][0]["address_1"]
    bath = create(client, admin, name="助浴车", kind="bathing_service", services=["bathing"],
                  service_radius_m=3000, address=None)
    body = hsds(client, f"/services/{bath['id']}").json
    assert body["service_areas"][0]["name"] == "服务半径 3000 米"
    assert "addresses" not in body["service_at_locations"][0]["location"]


def reversed_id(kind: str, facility_id: str) -> str:
    """The documented rule: the facility id XOR uuid5(NAMESPACE, kind) without the version
    and variant bits."""
    mask = uuid.uuid5(NAMESPACE, kind).int & ~((0xF << 76) | (0x3 << 62))
    return str(uuid.UUID(int=uuid.UUID(facility_id).int ^ mask))


def test_derived_ids_follow_the_documented_rules_and_are_stable(client, admin):
    facility = create(client, admin)
    first = hsds(client, f"/services/{facility['id']}").json
    assert hsds(client, f"/services/{facility['id']}").json == first
    assert hsds(client, "/services").json["contents"][0]["id"] == facility["id"]

    def derived(kind: str) -> str:
        return str(uuid.uuid5(uuid.uuid5(NAMESPACE, kind), facility["id"]))

    location = first["service_at_locations"][0]["location"]
    assert first["organization_id"] == reversed_id("organization", facility["id"])
    assert first["service_at_locations"][0]["id"] == reversed_id("service_at_location",
                                                                  facility["id"])
    assert location["id"] == derived("location")
    assert location["addresses"][0]["id"] == derived("address")
    assert first["phones"][0]["id"] == derived("phone")
    meals = uuid.uuid5(uuid.uuid5(NAMESPACE, "taxonomy_term"), "meals")
    assert str(meals) in [a["taxonomy_term_id"] for a in first["attributes"]]


def test_reversible_ids_keep_the_facility_ids_version_and_differ_by_type(client, admin):
    facility = create(client, admin)
    organization_id = hsds(client, f"/services/{facility['id']}").json["organization_id"]
    saloc_id = hsds(client, "/service_at_locations").json["contents"][0]["id"]
    ids = {uuid.UUID(x) for x in (facility["id"], organization_id, saloc_id)}
    assert len(ids) == 3 and {(key.version, key.variant) for key in ids} == {
        (4, uuid.RFC_4122)}
    assert hsds(client, f"/organizations/{organization_id}").json["id"] == organization_id
    hsds(client, f"/organizations/{saloc_id}", 404)  # each type flips with its own mask
    hsds(client, f"/service_at_locations/{organization_id}", 404)


def test_organizations_list_and_one_organization(client, admin):
    facility = create(client, admin)
    page = hsds(client, "/organizations").json
    (organization,) = page["contents"]
    assert organization["name"] == facility["name"]
    assert organization["legal_status"] == "社区 (community)"
    whole = hsds(client, f"/organizations/{organization['id']}").json
    assert whole["services"][0]["id"] == facility["id"]
    assert whole["locations"][0]["addresses"][0]["region"] == "北碚区"


def test_service_at_locations_list_and_one(client, admin):
    facility = create(client, admin)
    (item,) = hsds(client, "/service_at_locations").json["contents"]
    assert item["service_id"] == facility["id"] and item["service"]["name"] == facility["name"]
    assert "addresses" not in item["location"]  # one-to-one fields only in lists
    whole = hsds(client, f"/service_at_locations/{item['id']}").json
    assert whole["location"]["addresses"][0]["address_1"] == "天生街道天生路100号"
    assert whole["service"]["schedules"][0]["byday"] == "MO,TU,WE,TH,FR"


def test_taxonomy_has_a_term_for_each_kind_and_service(client):
    page = hsds(client, "/taxonomy_terms?per_page=100").json
    assert page["total_items"] == 18
    codes = [term["code"] for term in page["contents"]]
    assert codes[:7] == ["elder_care_center", "elder_care_station", "meal_point",
                         "bathing_service", "care_home", "kindergarten", "nursery"]
    assert "preschool" in codes and len(set(t["id"] for t in page["contents"])) == 18
    one = hsds(client, f"/taxonomy_terms/{page['contents'][5]['id']}").json
    assert (one["name"], one["language"]) == ("幼儿园", "zh")
    assert names(hsds(client, "/taxonomy_terms?search=助浴").json) == ["助浴点/助浴车", "助浴"]
    (taxonomy,) = hsds(client, "/taxonomies").json["contents"]
    assert hsds(client, f"/taxonomies/{taxonomy['id']}").json == taxonomy
    assert one["taxonomy_id"] == taxonomy["id"]


@pytest.mark.parametrize("path", ["/services", "/organizations", "/service_at_locations",
                                  "/taxonomy_terms", "/taxonomies"])
def test_unknown_and_malformed_ids_are_404_problems(client, path):
    hsds(client, f"{path}/{uuid.uuid4()}", 404)
    assert "not-a-uuid" in hsds(client, f"{path}/not-a-uuid", 404).json["detail"]


def test_drafts_are_not_published_under_any_id(client, admin):
    draft = create(client, admin, status="draft")
    hsds(client, f"/services/{draft['id']}", 404)
    hsds(client, f"/organizations/{reversed_id('organization', draft['id'])}", 404)
    hsds(client, f"/service_at_locations/{reversed_id('service_at_location', draft['id'])}", 404)


def test_openapi_document_describes_the_hsds_endpoints(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").json
    validate(spec)
    assert {"/api/v1/hsds/", "/api/v1/hsds/services", "/api/v1/hsds/services/{service_id}",
            "/api/v1/hsds/organizations", "/api/v1/hsds/service_at_locations",
            "/api/v1/hsds/taxonomy_terms"} <= spec["paths"].keys()
    parameters = {p["name"] for p in spec["paths"]["/api/v1/hsds/services"]["get"]["parameters"]}
    assert {"search", "taxonomy_term_id", "page", "per_page", "postcode", "proximity", "lat",
            "lon", "radius_m", "coordsys"} <= parameters

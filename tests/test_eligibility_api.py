"""The programme catalogue, eligibility and recommendations over HTTP, on every backend."""

from __future__ import annotations

import logging
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from servicemap import create_app
from servicemap.config import Config, default_seeds_dir
from servicemap.eligibility import CatalogueError
from servicemap.geo.coordsys import from_wgs84

from .conftest import assert_problem, create
from .eligibility.strategies import requests

ELDER = {"birth_date": "1950-03-01", "care_need": "moderate", "residence_district": "北碚区"}
HOME = {"lat": 29.8257, "lon": 106.4370}


def test_programs_list_the_catalogue_with_criteria_parameters_and_sources(client):
    body = client.get("/api/v1/programs?as_of=2026-11-24").json
    ids = [p["id"] for p in body["items"]]
    assert ids[:2] == ["elder_meal_service", "elder_meal_priority"] and len(ids) == 10
    meal = client.get("/api/v1/programs/elder_meal_service").json
    assert meal["source"]["document_number"] == "民发〔2023〕58号"
    assert meal["criteria"] and meal["parameters"]
    priority = client.get("/api/v1/programs/elder_meal_priority").json
    advanced = next(p for p in priority["parameters"] if p["id"] == "advanced_age")
    assert "assumed" in str(advanced)
    assert_problem(client.get("/api/v1/programs/no_such_programme"), 404)
    assert_problem(client.get("/api/v1/programs?as_of=yesterday"), 422, "as_of")


def test_programs_carry_the_catalogue_version_and_when_each_rule_changed(client):
    body = client.get("/api/v1/programs?as_of=2026-11-24").json
    assert body["version"] == 2
    changed = {p["id"]: p["changed"] for p in body["items"]}
    assert changed["childcare_subsidy"] == ["2025-01-01"]
    assert changed["disabled_elder_care_voucher"] == ["2025-07-01", "2026-01-01", "2027-01-01"]
    assert changed["elder_meal_service"] == []  # no artificial start date
    voucher = client.get("/api/v1/programs/disabled_elder_care_voucher").json
    assert [p["applied"] for p in voucher["periods"]] == [False, True]
    assert voucher["changed"] == changed["disabled_elder_care_voucher"]


def test_the_openapi_document_lists_every_fact_including_the_new_ones(client):
    spec = client.get("/api/openapi.json").json
    person = spec["components"]["schemas"]["EligibilityRequest"]["properties"]["person"]
    facts = person["properties"]
    assert facts["care_setting"]["enum"] == ["institution", "home"]
    assert facts["enrolled_in_kindergarten"]["type"] == "boolean"
    assert {"birth_date", "age", "household_status", "care_need", "special_family"} <= set(facts)


def test_new_facts_are_used_and_named_when_missing(client):
    def results(person, as_of="2026-03-01"):
        body = client.post("/api/v1/eligibility", json={"as_of": as_of, "person": person}).json
        return {r["program"]: r for r in body["results"]}

    child = results({"birth_date": "2020-02-29"})["free_preschool_final_year"]
    assert (child["status"], child["missing_facts"]) == ("unknown", ["enrolled_in_kindergarten"])
    enrolled = results({"birth_date": "2020-02-29", "enrolled_in_kindergarten": True})
    assert enrolled["free_preschool_final_year"]["status"] == "eligible"
    elder = {"birth_date": "1950-01-01", "care_need": "severe"}
    voucher = results(elder)["disabled_elder_care_voucher"]["benefit"]
    assert [o["amount"] for o in voucher["options"]] == [800, 500]
    assert voucher["missing_facts"] == ["care_setting"]
    home = results({**elder, "care_setting": "home"})["disabled_elder_care_voucher"]["benefit"]
    assert (home["amount"], home["provenance"], home["options"]) == (500, "assumed", [])


@pytest.mark.parametrize("body, field", [
    ({"as_of": "9999-12-31", "person": {"age": 0}}, "as_of"),            # issue 13
    ({"as_of": "0100-01-01", "person": {"age": 99}}, "as_of"),
    ({"as_of": "0001-06-01", "person": {"birth_date": "0001-01-01"}}, "as_of"),
    ({"as_of": "0001-01-01", "person": {"age": 80}}, "as_of"),            # issue 9
    ({"as_of": "1899-12-31", "person": {}}, "as_of"),
    ({"as_of": "2101-01-01", "person": {}}, "as_of"),
    ({"as_of": "2026-01-01", "person": {"birth_date": "1899-12-31"}}, "person.birth_date"),
    ({"as_of": "2026-01-01", "person": {"birth_date": "0001-01-01"}}, "person.birth_date"),
    ({"person": {"care_setting": "hospital"}}, "person.care_setting"),
    ({"person": {"enrolled_in_kindergarten": "yes"}}, "person.enrolled_in_kindergarten"),
])
def test_dates_outside_1900_to_2100_and_bad_new_facts_are_422_naming_the_field(client, body,
                                                                                field):
    response = client.post("/api/v1/eligibility", json=body)
    assert_problem(response, 422, field)
    if "date" in field or field == "as_of":
        assert "1900-01-01" in str(response.json["errors"][field])
    location = {"lat": 29.8257, "lon": 106.4370}
    assert_problem(client.post("/api/v1/recommendations", json={**body, "location": location}),
                   422, field)


def test_the_bounds_themselves_are_answered(client):
    for body in ({"as_of": "1900-01-01", "person": {"age": 150}},
                 {"as_of": "1900-01-01", "person": {"birth_date": "1900-01-01"}},
                 {"as_of": "2100-12-31", "person": {"age": 0, "birth_date": "2100-12-31"}},
                 {"as_of": "2100-12-31", "person": {"age": 150}}):
        assert client.post("/api/v1/eligibility", json=body).status_code == 200, body
    assert_problem(client.get("/api/v1/programs?as_of=0001-01-01"), 422, "as_of")
    assert_problem(client.get("/api/v1/programs/nursery_care?as_of=2101-01-01"), 422, "as_of")
    assert client.get("/api/v1/programs?as_of=2100-12-31").status_code == 200


@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests(), st.sampled_from(["/api/v1/eligibility", "/api/v1/recommendations"]))
def test_any_person_on_any_date_within_the_bounds_is_answered_never_5xx(client, request, path):
    as_of, person = request
    body = {"as_of": as_of.isoformat(), "person": person}
    if path.endswith("recommendations"):
        body["location"] = {"lat": 29.8257, "lon": 106.4370}
    response = client.post(path, json=body)
    assert response.status_code == 200, (body, response.json)
    results = (response.json["results"] if "results" in response.json
               else [r["program"] for r in response.json["recommendations"]])
    for result in results:
        assert (result["status"] == "unknown") == bool(result["missing_facts"]), result


def test_eligibility_answers_every_programme_in_catalogue_order_with_reasons(client):
    response = client.post("/api/v1/eligibility",
                           json={"as_of": "2026-11-24", "person": ELDER})
    assert response.status_code == 200
    body = response.json
    assert body["as_of"] == "2026-11-24"
    results = {r["program"]: r for r in body["results"]}
    assert [r["program"] for r in body["results"]][0] == "elder_meal_service"
    assert results["disabled_elder_care_voucher"]["status"] == "eligible"
    assert results["bathing_assistance"]["status"] == "eligible"
    assert results["nursery_care"]["status"] == "ineligible"
    criterion = results["elder_meal_service"]["criteria"][0]
    assert criterion["result"] is True and criterion["message_zh"] and criterion["message_en"]
    assert criterion["facts"] == {"birth_date": "1950-03-01"}


def test_an_absent_fact_is_unknown_and_named(client):
    body = client.post("/api/v1/eligibility",
                       json={"as_of": "2026-11-24", "person": {"age": 70}}).json
    results = {r["program"]: r for r in body["results"]}
    assert results["elder_meal_service"]["status"] == "eligible"
    assert results["bathing_assistance"]["status"] == "unknown"
    assert "care_need" in results["bathing_assistance"]["missing_facts"]


@pytest.mark.parametrize("body, field", [
    ({"person": {"age": "sixty"}}, "person.age"),
    ({"person": {"favourite_colour": "red"}}, "person.favourite_colour"),
    ({"person": {"care_need": "sleepy"}}, "person.care_need"),
    ({"person": {"lives_alone": 1}}, "person.lives_alone"),
    ({"person": {"hukou_district": "成都市"}}, "person.hukou_district"),
    ({"as_of": "2026-01-01", "person": {"birth_date": "2026-05-01"}}, "person.birth_date"),
    ({"as_of": "2026-02-30", "person": {}}, "as_of"),
    ({}, "person"),
    ({"person": {}, "extra": 1}, "extra"),
])
def test_bad_facts_are_422_naming_the_field(client, body, field):
    assert_problem(client.post("/api/v1/eligibility", json=body), 422, field)


def test_eligibility_needs_json(client):
    assert_problem(client.post("/api/v1/eligibility", data="age=60"), 415)


def test_recommendations_join_eligible_programmes_to_the_nearest_facilities(client, admin):
    create(client, admin, name="朝阳食堂", kind="meal_point", services=["meals"],
           location={"lat": 29.8267, "lon": 106.4370})
    create(client, admin, name="助浴车", kind="bathing_service", services=["bathing"],
           location={"lat": 29.8500, "lon": 106.4370}, service_radius_m=8000)
    create(client, admin, name="幼儿园", kind="kindergarten", services=["preschool"],
           inclusive=True, location={"lat": 29.8258, "lon": 106.4371})
    gcj = dict(zip(("lat", "lon"), from_wgs84(HOME["lat"], HOME["lon"], "gcj02"), strict=True))
    response = client.post("/api/v1/recommendations", json={
        "as_of": "2026-11-24", "person": ELDER, "location": {**gcj, "coordsys": "gcj02"},
        "radius_m": 2000, "limit": 2})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["origin"]["coordsys"] == "gcj02"
    found = {r["program"]["program"]: [f["name"] for f in r["facilities"]]
             for r in body["recommendations"]}
    assert found["elder_meal_service"] == ["朝阳食堂"]
    assert found["bathing_assistance"] == ["助浴车"]  # 2.7 km away, but she is in its area
    assert "inclusive_kindergarten_enrollment" not in found  # ineligible: not offered
    assert "childcare_subsidy" not in found                  # no facility delivers cash
    meal = next(r for r in body["recommendations"]
                if r["program"]["program"] == "elder_meal_service")
    assert meal["program"]["status"] == "eligible"
    assert abs(meal["facilities"][0]["distance_m"] - 111.2) < 0.5
    assert meal["facilities"][0]["location"]["coordsys"] == "gcj02"


def test_recommendations_validate_the_location(client):
    response = client.post("/api/v1/recommendations",
                           json={"person": ELDER, "location": {"lat": 95, "lon": 106}})
    assert_problem(response, 422, "location.lat")
    assert_problem(client.post("/api/v1/recommendations", json={"person": ELDER}), 422,
                   "location")


def test_nearest_program_filter_keeps_facilities_that_deliver_it(client, admin):
    create(client, admin, name="普惠园", kind="kindergarten", inclusive=True,
           location={"lat": 29.8260, "lon": 106.4370})
    create(client, admin, name="民办园", kind="kindergarten", inclusive=False,
           location={"lat": 29.8259, "lon": 106.4370})
    create(client, admin, name="食堂", kind="meal_point", location=HOME)
    url = f"/api/v1/facilities/nearest?lat={HOME['lat']}&lon={HOME['lon']}"
    names = [i["name"] for i in client.get(
        url + "&program=inclusive_kindergarten_enrollment").json["items"]]
    assert names == ["普惠园"]
    assert client.get(url + "&program=childcare_subsidy").json["items"] == []
    assert_problem(client.get(url + "&program=nope"), 422, "program")


def test_facts_sent_are_never_stored_or_logged(client, app, caplog):
    from servicemap.extensions import db
    from servicemap.models import Base

    def rows() -> int:
        with app.app_context():
            return sum(db.session.scalar(select(func.count()).select_from(t))
                       for t in Base.metadata.sorted_tables)

    before = rows()
    secret = {"birth_date": "1937-07-07", "household_status": "extreme_poverty_support",
              "hukou_district": "500243", "special_family": True}
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/eligibility", json={"person": secret})
        client.post("/api/v1/recommendations", json={"person": secret, "location": HOME})
        client.post("/api/v1/eligibility", json={"person": {**secret, "age": "x"}})
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for value in ("1937-07-07", "extreme_poverty_support", "500243"):
        assert value not in text
    assert rows() == before


def test_a_bad_programme_file_stops_start_up_naming_file_and_path(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(default_seeds_dir() / "policies", seeds / "policies")
    path = seeds / "policies" / "010_elder_meal_service.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("gte:", "greater:", 1),
                    encoding="utf-8")
    with pytest.raises(CatalogueError, match="010_elder_meal_service.yaml"):
        create_app(Config(instance_dir=tmp_path, auto_init=False, testing=True,
                          seeds_dir=seeds))

"""What the console needs from the API: the key's own description, and the facilities
waiting for a location."""

from __future__ import annotations

from .conftest import assert_problem, create
from .test_geocoding import RecordedGeocoder, post, use_geocoder


def test_keys_me_describes_an_editor_key_with_its_districts(client, make_key):
    editor = make_key("editor", ("500109", "500103"))
    body = client.get("/api/v1/keys/me", headers=editor).json
    assert body["role"] == "editor" and body["name"] == "test editor"
    assert {(d["code"], d["name"]) for d in body["districts"]} == {
        ("500109", "北碚区"), ("500103", "渝中区")}
    secret = editor["Authorization"].split()[1]
    assert secret.startswith(body["prefix"]) and secret not in str(body)


def test_keys_me_for_an_admin_has_no_districts(client, admin):
    assert client.get("/api/v1/keys/me", headers=admin).json["role"] == "admin"


def test_keys_me_without_or_with_a_bad_key_is_401(client):
    assert_problem(client.get("/api/v1/keys/me"), 401)
    assert_problem(client.get("/api/v1/keys/me",
                              headers={"Authorization": "Bearer smk_madeup"}), 401)


def test_location_pending_lists_only_the_facilities_waiting_for_a_location(app, client, admin):
    located = create(client, admin)
    use_geocoder(app, RecordedGeocoder({"查无此路": None}), "recorded")
    waiting = post(client, admin, name="无名食堂", street=None, address="重庆市北碚区查无此路999号")
    assert waiting["location"] is None and waiting["status"] == "draft"
    pending = client.get("/api/v1/facilities?location_pending=true").json
    assert [f["id"] for f in pending["items"]] == [waiting["id"]]
    others = client.get("/api/v1/facilities?location_pending=false").json
    assert [f["id"] for f in others["items"]] == [located["id"]]
    assert_problem(client.get("/api/v1/facilities?location_pending=maybe"), 422,
                   "location_pending")

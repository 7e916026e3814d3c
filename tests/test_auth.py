"""API keys: writes need one, roles and district scopes decide what it may write."""

from __future__ import annotations

from sqlalchemy import select

from servicemap.extensions import db
from servicemap.models import ApiKey

from .test_errors import assert_problem
from .test_facilities import create, meal_point

# A district outside the editors' 500109 with a point inside it (解放碑, 渝中区).
IN_YUZHONG = {"district": "500103", "location": {"lat": 29.5572, "lon": 106.5773}}


def test_writes_without_a_key_are_401_with_a_challenge(client):
    response = client.post("/api/v1/facilities", json=meal_point())
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_writes_with_a_wrong_key_are_401(client):
    response = client.post("/api/v1/facilities", json=meal_point(),
                           headers={"Authorization": "Bearer smk_not-a-real-key"})
    assert_problem(response, 401)
    response = client.post("/api/v1/facilities", json=meal_point(),
                           headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(response, 401)


def test_reads_need_no_key(client, admin):
    created = create(client, admin)
    assert client.get("/api/v1/facilities").status_code == 200
    assert client.get(f"/api/v1/facilities/{created['id']}").status_code == 200


def test_an_editor_writes_inside_its_districts(client, make_key):
    editor = make_key("editor", ("500109",))
    created = create(client, editor)
    url = f"/api/v1/facilities/{created['id']}"
    assert client.patch(url, json={"vacancies": 1}, headers=editor).status_code == 200
    assert client.delete(url, headers=editor).status_code == 204


def test_an_editor_cannot_write_outside_its_districts(client, make_key, admin):
    editor = make_key("editor", ("500109",))
    response = client.post("/api/v1/facilities", json=meal_point(**IN_YUZHONG), headers=editor)
    assert_problem(response, 403)
    elsewhere = create(client, admin, **IN_YUZHONG)
    url = f"/api/v1/facilities/{elsewhere['id']}"
    assert_problem(client.patch(url, json={"vacancies": 1}, headers=editor), 403)
    assert_problem(client.delete(url, headers=editor), 403)
    assert client.get(url).json["vacancies"] == 3


def test_an_editor_cannot_move_a_facility_out_of_its_districts(client, make_key):
    editor = make_key("editor", ("500109",))
    created = create(client, editor)
    url = f"/api/v1/facilities/{created['id']}"
    assert_problem(client.patch(url, json=IN_YUZHONG, headers=editor), 403)
    assert client.get(url).json["district"]["code"] == "500109"


def test_keys_create_prints_a_key_once_and_stores_only_its_hash(runner, client, app):
    result = runner.invoke(args=["keys", "create", "--role", "editor", "--district", "北碚区",
                                 "--district", "500106"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        assert key.role == "editor" and key.districts == ["500106", "500109"]
        assert secret not in (key.key_hash, key.prefix) and len(key.key_hash) == 64
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post("/api/v1/facilities", json=meal_point(), headers=headers).status_code == 201


def test_keys_create_refuses_bad_options(runner):
    assert runner.invoke(args=["keys", "create", "--role", "editor"]).exit_code != 0
    assert runner.invoke(args=["keys", "create", "--role", "root"]).exit_code != 0
    result = runner.invoke(args=["keys", "create", "--role", "editor", "--district", "成都"])
    assert result.exit_code != 0 and "成都" in result.output


def test_a_revoked_key_stops_working(runner, client):
    secret = runner.invoke(args=["keys", "create", "--role", "admin"]).stdout.strip()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post("/api/v1/facilities", json=meal_point(), headers=headers).status_code == 201
    result = runner.invoke(args=["keys", "revoke", secret[:12]])
    assert result.exit_code == 0, result.output
    assert_problem(client.post("/api/v1/facilities", json=meal_point(name="二"), headers=headers),
                   401)
    assert "revoked" in runner.invoke(args=["keys", "list"]).stdout

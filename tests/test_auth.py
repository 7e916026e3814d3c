"""API keys: writes need one, roles and district scopes decide what it may write."""

from __future__ import annotations

from sqlalchemy import select

from servicemap import create_app, store
from servicemap.config import Config
from servicemap.extensions import db
from servicemap.models import ApiKey

from .conftest import CSV_ZH, assert_problem, create, meal_point, post

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


# Keys: rotation, and revocation seen by every worker.

def test_keys_rotate_revokes_the_old_key_and_prints_a_like_new_one(runner, client, app):
    created = runner.invoke(args=["keys", "create", "--role", "editor", "--district", "500109",
                                  "--name", "北碚民政"])
    old = {"Authorization": f"Bearer {created.stdout.strip()}"}
    assert client.post("/api/v1/facilities", json=meal_point(), headers=old).status_code == 201
    result = runner.invoke(args=["keys", "rotate", created.stdout.strip()[:12]])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert len(result.stdout.strip().splitlines()) == 1 and secret.startswith("smk_")
    new = {"Authorization": f"Bearer {secret}"}
    assert_problem(client.post("/api/v1/facilities", json=meal_point(name="二"), headers=old),
                   401)
    assert client.post("/api/v1/facilities", json=meal_point(name="二"),
                       headers=new).status_code == 201
    in_yuzhong = meal_point(name="三", district="500103",
                            location={"lat": 29.5572, "lon": 106.5773})
    assert_problem(client.post("/api/v1/facilities", json=in_yuzhong, headers=new), 403)
    with app.app_context():
        keys = db.session.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()
        assert [(k.role, k.districts, k.name) for k in keys] == [
            ("editor", ["500109"], "北碚民政")] * 2
        assert keys[0].revoked_at is not None and keys[1].revoked_at is None
        old_id = str(keys[0].id)
    again = runner.invoke(args=["keys", "rotate", old_id])
    assert again.exit_code != 0 and "revoked" in again.output
    assert runner.invoke(args=["keys", "rotate", "smk_nothing"]).exit_code != 0


def test_a_key_revoked_in_one_app_is_refused_at_once_by_another(runner, app, database_url,
                                                                tmp_path):
    other = create_app(Config(database_url=database_url, auto_init=False, testing=True,
                              instance_dir=tmp_path / "other"))
    try:
        secret = runner.invoke(args=["keys", "create", "--role", "admin"]).stdout.strip()
        headers = {"Authorization": f"Bearer {secret}"}
        client = other.test_client()
        assert client.post("/api/v1/facilities", json=meal_point(),
                           headers=headers).status_code == 201
        assert runner.invoke(args=["keys", "revoke", secret[:12]]).exit_code == 0
        assert_problem(client.post("/api/v1/facilities", json=meal_point(name="二"),
                                   headers=headers), 401)
    finally:
        store.dispose(other)


# Editors stay inside their districts when the district is derived, not given.

YUZHONG = {"lat": 29.5572, "lon": 106.5773}  # 解放碑, 渝中区 500103


def test_an_editor_cannot_move_a_facility_into_another_district_by_its_location(client,
                                                                               make_key):
    editor = make_key("editor", ("500109",))
    created = create(client, editor)
    url = f"/api/v1/facilities/{created['id']}"
    response = client.patch(url, json={"district": None, "location": YUZHONG}, headers=editor)
    assert_problem(response, 403)
    assert client.get(url).json == created


def test_an_editor_cannot_create_where_the_location_says_another_district(client, make_key,
                                                                          admin):
    editor = make_key("editor", ("500109",))
    body = meal_point(location=YUZHONG)
    del body["district"]
    assert_problem(client.post("/api/v1/facilities", json=body, headers=editor), 403)
    assert client.get("/api/v1/facilities").json["total"] == 0
    assert client.get("/api/v1/audit", headers=admin).json["total"] == 0


def test_an_editor_may_not_import_even_a_dry_run(client, make_key, admin):
    editor = make_key("editor", ("500109",))
    assert_problem(post(client, editor, CSV_ZH.encode(), "text/csv", "dry_run=true"), 403)
    assert client.get("/api/v1/facilities").json["total"] == 0
    assert client.get("/api/v1/audit", headers=admin).json["total"] == 0

"""The audit log: what every write records, who may read it; and mass assignment."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from servicemap.audit import snapshot
from servicemap.extensions import db
from servicemap.importing import import_facilities
from servicemap.models import ApiKey, AuditEntry, Facility

from .conftest import CSV_ZH, HEADER_ZH, ROWS_ZH, assert_problem, create, meal_point, post


def entries(client, admin, **filters) -> dict:
    response = client.get("/api/v1/audit", query_string=filters, headers=admin)
    assert response.status_code == 200, response.json
    return response.json


def key_id(app, headers: dict) -> str:
    with app.app_context():
        prefix = headers["Authorization"].removeprefix("Bearer ")[:12]
        return str(db.session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)))


def as_stored(app, facility_id: str) -> dict:
    """The facility as the audit log keeps it: its stored columns and services."""
    with app.app_context():
        return snapshot(db.session.get(Facility, uuid.UUID(facility_id)))


def test_create_update_delete_are_recorded_with_key_request_and_before_after(client, app,
                                                                               admin):
    ids = {"X-Request-ID": "req-create-1"}
    answer = client.post("/api/v1/facilities", json=meal_point(), headers={**admin, **ids}).json
    created = as_stored(app, answer["id"])
    url = f"/api/v1/facilities/{answer['id']}"
    assert client.patch(url, json={"vacancies": 1},
                        headers={**admin, "X-Request-ID": "req-patch-1"}).status_code == 200
    updated = as_stored(app, answer["id"])
    assert client.delete(url, headers=admin).status_code == 204
    body = entries(client, admin, facility_id=answer["id"])
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 20
    delete, update, create_ = body["items"]  # newest first
    assert [e["action"] for e in body["items"]] == ["delete", "update", "create"]
    assert {e["key_id"] for e in body["items"]} == {key_id(app, admin)}
    assert create_["request_id"] == "req-create-1" and update["request_id"] == "req-patch-1"
    uuid.UUID(delete["request_id"])  # generated when the client sent none
    assert create_["before"] is None and create_["after"] == created
    assert update["before"] == created and update["after"] == updated
    assert update["after"]["vacancies"] == 1 and update["before"]["vacancies"] == 3
    assert delete["before"] == updated and delete["after"] is None
    # The facility as stored, not the answer: nothing that changes with the time it is read.
    assert "open_now" not in created and "next_change" not in created
    assert (created["id"], created["name"], created["district_code"], created["version"]) == (
        answer["id"], answer["name"], answer["district"]["code"], 1)
    assert updated["version"] == 2
    assert delete["at"] >= update["at"] >= create_["at"]
    assert create_["at"].endswith("+08:00")


def test_a_request_id_that_is_not_an_id_is_replaced(client, admin):
    client.post("/api/v1/facilities", json=meal_point(),
                headers={**admin, "X-Request-ID": "a b\tc" + "x" * 200})
    uuid.UUID(entries(client, admin)["items"][0]["request_id"])


def test_a_patch_that_changes_nothing_and_a_refused_write_record_nothing(client, admin,
                                                                         make_key):
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    assert client.patch(url, json={"vacancies": 3}, headers=admin).status_code == 200
    assert_problem(client.patch(url, json={"vacancies": 99}, headers=admin), 422)
    assert_problem(client.patch(url, json={"vacancies": 1}, headers={
        **admin, "If-Match": '"stale"'}), 412)
    editor = make_key("editor", ("500103",))
    assert_problem(client.delete(url, headers=editor), 403)
    assert [e["action"] for e in entries(client, admin)["items"]] == ["create"]


def test_an_entry_rolls_back_with_its_write(app, admin, client):
    from servicemap.audit import record

    facility_id = create(client, admin)["id"]
    with app.app_context():
        from servicemap.registry import get_facility

        facility = get_facility(facility_id)
        record("update", facility, None, None)
        db.session.rollback()
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update")) is None


def test_an_import_that_fails_while_auditing_writes_neither_rows_nor_entries(app, monkeypatch):
    import servicemap.importing as importing

    real = importing.record_import

    def fail_after_writing(*args):
        real(*args)
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "record_import", fail_after_writing)
    with app.app_context(), pytest.raises(RuntimeError):
        import_facilities(CSV_ZH.encode(), "csv", dry_run=False)
    with app.app_context():
        assert db.session.scalars(select(AuditEntry)).all() == []
        assert db.session.execute(text("SELECT count(*) FROM facility")).scalar_one() == 0


def test_an_import_records_a_summary_and_one_entry_per_created_or_updated_row(client, app,
                                                                              admin):
    response = post(client, admin, CSV_ZH.encode(), "text/csv")
    assert response.status_code == 200, response.json
    first = entries(client, admin, action="import")
    assert first["total"] == 4
    summary = [e for e in first["items"] if e["facility_id"] is None]
    assert summary[0]["after"] == {"format": "csv", "rows": 3, "created": 3, "updated": 0,
                                   "unchanged": 0}
    rows = [e for e in first["items"] if e["facility_id"] is not None]
    assert {e["after"]["external_id"] for e in rows} == {"BB-1", "BB-2", "YZ-1"}
    assert all(e["before"] is None for e in rows)
    assert len({e["request_id"] for e in first["items"]}) == 1
    by_external_id = {e["after"]["external_id"]: e for e in rows}
    assert by_external_id["BB-1"]["after"] == as_stored(
        app, by_external_id["BB-1"]["facility_id"])

    changed = ROWS_ZH[0].replace(",40,3", ",40,5")
    response = post(client, admin, (HEADER_ZH + changed + "".join(ROWS_ZH[1:])).encode(),
                    "text/csv")
    assert response.json["updated"] == 1 and response.json["unchanged"] == 2
    second = entries(client, admin, action="import", per_page=2)
    assert second["total"] == 6
    newest = second["items"]
    row = next(e for e in newest if e["facility_id"] is not None)
    assert row["before"]["vacancies"] == 3 and row["after"]["vacancies"] == 5
    assert row["after"] == as_stored(app, row["facility_id"])


def test_a_dry_run_and_a_refused_import_record_nothing(client, admin):
    assert post(client, admin, CSV_ZH.encode(), "text/csv", "dry_run=true").status_code == 200
    bad = HEADER_ZH + ROWS_ZH[0] + ROWS_ZH[1].replace(",20,0", ",20,30")
    assert_problem(post(client, admin, bad.encode(), "text/csv"), 422)
    assert entries(client, admin)["total"] == 0


def test_a_command_line_import_is_recorded_as_cli(runner, client, admin, tmp_path):
    path = tmp_path / "facilities.csv"
    path.write_text(CSV_ZH, encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    body = entries(client, admin, key_id="cli")
    assert body["total"] == 4
    assert entries(client, admin, key_id=str(uuid.uuid4()))["total"] == 0


def test_eligibility_and_recommendations_are_never_recorded(client, admin):
    person = {"age": 70, "hukou_district": "500109"}
    client.post("/api/v1/eligibility", json={"person": person})
    client.post("/api/v1/recommendations", json={"person": person,
                                                 "location": {"lat": 29.8, "lon": 106.4}})
    assert entries(client, admin)["total"] == 0


def test_the_log_filters_by_action_facility_and_time_newest_first(client, admin):
    first = create(client, admin)
    second = create(client, admin, name="第二食堂", external_id="two")
    client.patch(f"/api/v1/facilities/{first['id']}", json={"vacancies": 2}, headers=admin)
    everything = entries(client, admin)["items"]
    assert [(e["action"], e["facility_id"]) for e in everything] == [
        ("update", first["id"]), ("create", second["id"]), ("create", first["id"])]
    assert entries(client, admin, action="create")["total"] == 2
    middle = everything[1]["at"]
    assert entries(client, admin, since=middle)["total"] == 2
    assert entries(client, admin, until=middle)["total"] == 2
    assert entries(client, admin, since="2100-12-31T00:00:00")["total"] == 0
    assert entries(client, admin, until="2000-01-01")["total"] == 0
    page = entries(client, admin, page=2, per_page=2)
    assert page["total"] == 3 and [e["action"] for e in page["items"]] == ["create"]


@pytest.mark.parametrize("query", [{"per_page": 101}, {"page": 0}, {"action": "drop"},
                                   {"since": "yesterday"}, {"facility_id": "7"}])
def test_bad_filters_are_422(client, admin, query):
    assert_problem(client.get("/api/v1/audit", query_string=query, headers=admin), 422)


def test_only_admins_read_the_log(client, make_key):
    assert_problem(client.get("/api/v1/audit"), 401)
    assert_problem(client.get("/api/v1/audit", headers=make_key("editor", ("500109",))), 403)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_method_changes_the_log(client, admin, method):
    create(client, admin)
    response = getattr(client, method)("/api/v1/audit", json={}, headers=admin)
    assert_problem(response, 405)
    assert entries(client, admin)["total"] == 1


def test_the_database_refuses_to_change_or_delete_entries(client, app, admin):
    create(client, admin)
    for statement in ("UPDATE audit_entry SET action = 'delete'", "DELETE FROM audit_entry"):
        with app.app_context():
            with pytest.raises(Exception, match="cannot be changed"):
                db.session.execute(text(statement))
            db.session.rollback()
    assert entries(client, admin)["items"][0]["action"] == "create"


def test_the_log_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert set(paths["/api/v1/audit"]) == {"get"}


# Mass assignment: server-set and audit fields are never writable.

SERVER_FIELDS = [("id", str(uuid.uuid4())), ("updated_at", "2026-01-01T00:00:00+08:00"),
                 ("created_at", "2026-01-01T00:00:00+08:00"), ("version", 7), ("seq", 1),
                 ("key_id", "cli"), ("request_id", "r"), ("at", "2026-01-01T00:00:00Z"),
                 ("action", "create"), ("before", {}), ("after", {}),
                 ("district_code", "500103"), ("lat", 29.5), ("geocode_pending", None)]


@pytest.mark.parametrize(("field", "value"), SERVER_FIELDS)
def test_server_and_audit_fields_are_refused_in_post_and_patch(client, admin, field, value):
    assert_problem(client.post("/api/v1/facilities", json=meal_point(**{field: value}),
                               headers=admin), 422, field)
    created = create(client, admin)
    url = f"/api/v1/facilities/{created['id']}"
    assert_problem(client.patch(url, json={field: value}, headers=admin), 422, field)
    assert client.get(url).json == created
    assert [e["action"] for e in entries(client, admin)["items"]] == ["create"]


def test_an_editors_write_is_recorded_under_the_editors_key(client, app, make_key, admin):
    editor = make_key("editor", ("500109",))
    create(client, editor)
    assert entries(client, admin)["items"][0]["key_id"] == key_id(app, editor)


def test_seeding_is_audited_as_command_line_writes(runner, client, admin):
    assert runner.invoke(args=["seed"]).exit_code == 0
    entries = client.get("/api/v1/audit?action=create&per_page=100", headers=admin).json
    assert entries["total"] == 91 + 151  # one per row of seeds/facilities.csv, communities.csv
    assert {item["key_id"] for item in entries["items"]} == {"cli"}


def test_the_log_pages_within_the_same_limit_as_every_list(client, app, admin, monkeypatch):
    monkeypatch.setattr(app.config["SERVICEMAP"], "per_page_max", 2)
    problem = assert_problem(client.get("/api/v1/audit?per_page=3", headers=admin), 422,
                             "per_page")
    assert problem["errors"]["per_page"] == ["Must be at most 2."]
    for path in ("/api/v1/facilities?per_page=3", "/api/v1/hsds/services?per_page=3"):
        assert client.get(path).json["errors"]["per_page"] == ["Must be at most 2."]
    assert client.get("/api/v1/audit?per_page=2", headers=admin).status_code == 200

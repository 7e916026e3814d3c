"""First-run initialisation and the idempotent `flask seed`."""

from __future__ import annotations

from servicemap import create_app, store
from servicemap.config import Config

from .conftest import seed_from


def test_first_run_creates_and_seeds_the_embedded_database(tmp_path):
    app = create_app(Config(instance_dir=tmp_path, testing=True))
    assert (tmp_path / "servicemap.sqlite3").is_file()
    client = app.test_client()
    body = client.get("/api/v1/facilities?kind=meal_point&district=500109").json
    assert body["total"] == 11  # seeds/facilities.csv: 11 meal points in 北碚区, all active
    assert all(item["district"]["name"] == "北碚区" for item in body["items"])
    # A second start finds data and loads nothing again.
    again = create_app(Config(instance_dir=tmp_path, testing=True)).test_client()
    assert again.get("/api/v1/facilities").json["total"] == client.get(
        "/api/v1/facilities").json["total"]


def test_seed_is_idempotent(runner, client):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    # The files' rows: facilities, then communities.
    assert first.output.splitlines() == ["created 91, updated 0, unchanged 0",
                                         "communities: created 151, updated 0, unchanged 0"]
    created = 91
    total = client.get("/api/v1/facilities").json["total"]
    second = runner.invoke(args=["seed"])
    assert second.output.splitlines() == [f"created 0, updated 0, unchanged {created}",
                                          "communities: created 0, updated 0, unchanged 151"]
    assert client.get("/api/v1/facilities").json["total"] == total


def test_seed_restores_edited_sample_rows(runner, client, admin):
    assert runner.invoke(args=["seed"]).exit_code == 0
    item = client.get("/api/v1/facilities?q=食堂&per_page=1").json["items"][0]
    url = f"/api/v1/facilities/{item['id']}"
    client.patch(url, json={"name": "改过的名字"}, headers=admin)
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "created 0, updated 1, unchanged 90"
    assert client.get(url).json["name"] == item["name"]


def test_seed_covers_every_kind_in_every_sample_district(runner, client):
    assert runner.invoke(args=["seed"]).exit_code == 0
    for district in ("500109", "500103", "500106"):
        for kind in ("elder_care_center", "elder_care_station", "meal_point", "bathing_service",
                     "care_home", "kindergarten", "nursery"):
            body = client.get(f"/api/v1/facilities?district={district}&kind={kind}").json
            assert body["total"] >= 1, (district, kind)


def test_a_bad_seed_row_fails_naming_file_line_and_column(runner, app, tmp_path):
    seed_from(app, tmp_path,
        "A-1,好的,meal_point,500109,重庆市北碚区,29.8,106.4\n"
        "A-2,坏的,meal_point,500109,重庆市北碚区,north,106.4\n")
    result = runner.invoke(args=["seed"])
    assert result.exit_code != 0
    assert "facilities.csv:3" in result.output and "lat" in result.output
    with app.app_context():
        from sqlalchemy import func, select

        from servicemap.extensions import db
        from servicemap.models import Facility

        assert db.session.scalar(select(func.count()).select_from(Facility)) == 0


def test_backup_copies_the_embedded_database_while_it_serves(runner, client, app, tmp_path):
    import sqlite3

    if store.engine(app).dialect.name != "sqlite":
        result = runner.invoke(args=["backup", str(tmp_path / "b.sqlite3")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    assert runner.invoke(args=["seed"]).exit_code == 0
    target = tmp_path / "copy" / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    count = sqlite3.connect(target).execute("SELECT count(*) FROM facility").fetchone()[0]
    assert count == client.get("/api/v1/facilities").json["total"]
    assert runner.invoke(args=["backup", str(target)]).exit_code != 0  # never overwrites

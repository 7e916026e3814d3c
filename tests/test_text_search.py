"""`q` and HSDS `search=` by the backends' trigram indexes (migration 0008): the same substrings
as a scan would find, kept current by every write in its own transaction, and the index used."""

from __future__ import annotations

from sqlalchemy import text

from servicemap import registry
from servicemap.extensions import db

from .conftest import CSV_ZH, create, post


def names(client, q: str) -> list[str]:
    return sorted(i["name"] for i in client.get("/api/v1/facilities", query_string={"q": q})
                  .json["items"])


def hsds_names(client, search: str) -> list[str]:
    body = client.get("/api/v1/hsds/services", query_string={"search": search}).json
    return sorted(s["name"] for s in body["contents"])


def sqlite_index_agrees(app) -> None:
    """FTS5's own check that the trigram index holds exactly the facility table's text."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text(
                "INSERT INTO facility_text (facility_text) VALUES ('integrity-check')"))
            db.session.rollback()


def test_substrings_of_every_length_match_as_a_scan_would(client, admin):
    create(client, admin)  # 北碚区天生街道老年食堂, 重庆市北碚区天生街道天生路100号
    create(client, admin, name="渝中区解放碑街道助餐点", name_en="Jiefangbei street MEAL Point",
           district="500103", address="重庆市渝中区民族路1号",
           location={"lat": 29.5572, "lon": 106.5773})
    both = ["北碚区天生街道老年食堂", "渝中区解放碑街道助餐点"]
    assert names(client, "天生街道老年") == ["北碚区天生街道老年食堂"]  # the middle of a name
    assert names(client, "渝中区民族") == ["渝中区解放碑街道助餐点"]  # of an address only
    assert names(client, "街道") == both  # two characters
    assert names(client, "解放") == ["渝中区解放碑街道助餐点"]
    assert names(client, "碑") == ["渝中区解放碑街道助餐点"]  # one character
    assert names(client, "STREET") == both  # English, any case
    assert names(client, "jIEFANGBEI street meal") == ["渝中区解放碑街道助餐点"]
    assert names(client, "天生街道老年食堂啊") == []
    assert names(client, '天生"街道') == []  # a quote is a character, not FTS5 syntax
    assert names(client, "天生 OR 民族") == []
    assert hsds_names(client, "天生街道老年") == ["北碚区天生街道老年食堂"]
    assert hsds_names(client, "民族路") == ["渝中区解放碑街道助餐点"]


def test_like_wildcards_stay_plain_characters_through_the_index(client, admin):
    create(client, admin, name="老年食堂_AB 50%优惠")
    create(client, admin, name="老年食堂XAB 5000优惠")
    assert names(client, "_AB") == ["老年食堂_AB 50%优惠"]
    assert names(client, "50%优惠") == ["老年食堂_AB 50%优惠"]
    assert names(client, "%优惠") == ["老年食堂_AB 50%优惠"]
    assert names(client, "食堂_") == ["老年食堂_AB 50%优惠"]


def test_every_write_is_searchable_at_once(client, admin, app):
    created = create(client, admin, name="北碚区天生街道老年食堂")
    assert names(client, "天生街道老年") == ["北碚区天生街道老年食堂"]
    url = f"/api/v1/facilities/{created['id']}"
    etag = client.get(url).headers["ETag"]
    response = client.patch(url, json={"name": "北碚区朝阳街道幸福食堂"},
                            headers={**admin, "If-Match": etag})
    assert response.status_code == 200, response.json
    assert names(client, "天生街道老年") == []
    assert names(client, "朝阳街道幸福") == ["北碚区朝阳街道幸福食堂"]
    sqlite_index_agrees(app)
    response = client.delete(url, headers={**admin, "If-Match": response.headers["ETag"]})
    assert response.status_code == 204, response.json
    assert names(client, "朝阳街道幸福") == []
    sqlite_index_agrees(app)
    # An import's new rows go through the bulk load (registry.bulk_insert), its updates not.
    assert post(client, admin, CSV_ZH.encode(), "text/csv").status_code == 200
    assert names(client, "解放碑普惠") == ["渝中区解放碑普惠幼儿园"]
    assert names(client, "中山路2") == ["北碚区朝阳街道养老服务站"]
    changed = CSV_ZH.replace("重庆市北碚区中山路2号", "重庆市北碚区北温泉路8号")
    assert post(client, admin, changed.encode(), "text/csv").status_code == 200
    assert names(client, "中山路2") == []
    assert names(client, "北温泉路") == ["北碚区朝阳街道养老服务站"]
    sqlite_index_agrees(app)


def test_a_rolled_back_write_leaves_nothing_in_the_index(client, admin, app):
    create(client, admin)
    with app.app_context():
        db.session.execute(text("UPDATE facility SET name = '临时名称不留痕'"))
        assert db.session.scalar(registry.filtered({"q": "临时名称"}).with_only_columns(
            registry.Facility.name)) == "临时名称不留痕"
        db.session.rollback()
    assert names(client, "临时名称") == []
    assert names(client, "天生街道老年") == ["北碚区天生街道老年食堂"]
    sqlite_index_agrees(app)


def test_the_query_is_answered_by_the_trigram_index(app):
    with app.app_context():
        connection = db.session.connection()
        statement = registry.filtered({"q": "天生街道"}).compile(dialect=connection.dialect)
        if connection.dialect.name == "sqlite":
            parameters = tuple(statement.params[name] for name in statement.positiontup)
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                              parameters).all()
            assert any("facility_text VIRTUAL TABLE INDEX" in row[-1] for row in plan), plan
        else:
            # Too few rows for the planner to prefer an index on its own: forbid the scan.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", statement.params).all()
            text_plan = "\n".join(row[0] for row in plan)
            for column in ("name", "name_en", "address"):
                assert f"ix_facility_{column}_trgm" in text_plan, text_plan
        db.session.rollback()

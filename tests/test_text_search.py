"""`q` and HSDS `search=` by the backends' trigram indexes (migration 0008) and, for two
characters, their bigram indexes (0009): the same substrings as a scan would find, kept current
by every write in its own transaction, and the index used."""

from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import select, text

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
    """FTS5's own checks: the trigram index holds exactly the facility table's text, and the
    contentless bigram index is whole (every removal named the tokens it was added with)."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            for table in ("facility_text", "facility_bigram"):
                db.session.execute(text(
                    f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"))
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
    assert names(client, "渝中") == ["渝中区解放碑街道助餐点"]  # two, at the start
    assert names(client, "食堂") == ["北碚区天生街道老年食堂"]  # at the end
    assert names(client, "民族") == ["渝中区解放碑街道助餐点"]  # in an address only
    assert names(client, "1号") == ["渝中区解放碑街道助餐点"]  # an address's last pair
    assert names(client, "ME") == ["渝中区解放碑街道助餐点"]  # English, any case
    assert names(client, "重庆") == both
    assert names(client, "碚渝") == []  # both characters stored, never side by side
    assert names(client, "堂重") == []  # nor across the end of one field and another
    assert hsds_names(client, "北碚") == ["北碚区天生街道老年食堂"]
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
    assert names(client, "_A") == ["老年食堂_AB 50%优惠"]  # two characters: the bigram index
    assert names(client, "0%") == ["老年食堂_AB 50%优惠"]
    assert names(client, "%优") == ["老年食堂_AB 50%优惠"]


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
    assert names(client, "老年") == []  # the old name's pairs answer no more
    assert names(client, "幸福") == ["北碚区朝阳街道幸福食堂"]
    sqlite_index_agrees(app)
    response = client.delete(url, headers={**admin, "If-Match": response.headers["ETag"]})
    assert response.status_code == 204, response.json
    assert names(client, "朝阳街道幸福") == []
    assert names(client, "幸福") == []
    sqlite_index_agrees(app)
    # An import's new rows go through the bulk load (registry.bulk_insert), its updates not.
    assert post(client, admin, CSV_ZH.encode(), "text/csv").status_code == 200
    assert names(client, "解放碑普惠") == ["渝中区解放碑普惠幼儿园"]
    assert names(client, "中山路2") == ["北碚区朝阳街道养老服务站"]
    assert names(client, "普惠") == ["渝中区解放碑普惠幼儿园"]
    assert names(client, "山路") == ["北碚区朝阳街道养老服务站"]
    changed = CSV_ZH.replace("重庆市北碚区中山路2号", "重庆市北碚区北温泉路8号")
    assert post(client, admin, changed.encode(), "text/csv").status_code == 200
    assert names(client, "中山路2") == []
    assert names(client, "北温泉路") == ["北碚区朝阳街道养老服务站"]
    assert names(client, "山路") == []
    assert names(client, "温泉") == ["北碚区朝阳街道养老服务站"]
    sqlite_index_agrees(app)


def test_a_rolled_back_write_leaves_nothing_in_the_index(client, admin, app):
    create(client, admin)
    with app.app_context():
        db.session.execute(text("UPDATE facility SET name = '临时名称不留痕'"))
        assert db.session.scalar(registry.filtered({"q": "临时名称"}).with_only_columns(
            registry.Facility.name)) == "临时名称不留痕"
        assert db.session.scalar(registry.filtered({"q": "留痕"}).with_only_columns(
            registry.Facility.name)) == "临时名称不留痕"
        db.session.rollback()
    assert names(client, "临时名称") == []
    assert names(client, "留痕") == []
    assert names(client, "天生街道老年") == ["北碚区天生街道老年食堂"]
    sqlite_index_agrees(app)


@pytest.mark.parametrize(("q", "sqlite_table", "postgres_indexes"), [
    ("天生街道", "facility_text", ("ix_facility_name_trgm", "ix_facility_name_en_trgm",
                               "ix_facility_address_trgm")),
    ("食堂", "facility_bigram", ("ix_facility_bigrams",)),
])
def test_the_query_is_answered_by_a_text_index(app, q, sqlite_table, postgres_indexes):
    with app.app_context():
        connection = db.session.connection()
        statement = registry.filtered({"q": q}).compile(dialect=connection.dialect)
        if connection.dialect.name == "sqlite":
            parameters = tuple(statement.params[name] for name in statement.positiontup)
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                              parameters).all()
            assert any(f"{sqlite_table} VIRTUAL TABLE INDEX" in row[-1] for row in plan), plan
        else:
            # Too few rows for the planner to prefer an index on its own: forbid the scan.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", statement.params).all()
            text_plan = "\n".join(row[0] for row in plan)
            for index in postgres_indexes:
                assert index in text_plan, text_plan
        db.session.rollback()


# Characters whose lower() is the same in Python, SQLite (ASCII only) and PostgreSQL, with LIKE's
# wildcards among them, so that brute force decides what a search must find.
ALPHABET = "食堂北碚重庆aB1%_"


def random_text(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, longest)))


def random_fields(rng: random.Random) -> dict:
    return {"name": random_text(rng, 9),
            "name_en": random_text(rng, 6) if rng.random() < 0.5 else None,
            "address": random_text(rng, 12) if rng.random() < 0.7 else None}


def searches_agree_with_brute_force(app, queries) -> int:
    """Every query's ids by `q` are the ids of the facilities holding it as a substring of
    name, name_en or address, any case; returns how many queries matched something."""
    matched = 0
    with app.app_context():
        rows = db.session.execute(select(registry.Facility.id, registry.Facility.name,
                                         registry.Facility.name_en,
                                         registry.Facility.address)).all()
        for q in queries:
            expected = {row.id for row in rows
                        if any(q.lower() in (value or "").lower() for value in row[1:])}
            found = set(db.session.scalars(
                registry.filtered({"q": q}).with_only_columns(registry.Facility.id)))
            assert found == expected, q
            matched += bool(expected)
        db.session.rollback()
    return matched


def test_every_pair_matches_as_brute_force_after_creates_patches_and_deletes(client, admin, app):
    rng = random.Random(20261126)
    created = [create(client, admin, **random_fields(rng)) for _ in range(24)]
    pairs = ["".join(pair) for pair in itertools.product(ALPHABET, repeat=2)]
    others = list(ALPHABET) + [random_text(rng, 4) for _ in range(40)]
    assert searches_agree_with_brute_force(app, pairs + others) > len(pairs) // 2
    for facility in rng.sample(created, 10):
        url = f"/api/v1/facilities/{facility['id']}"
        response = client.patch(url, json=random_fields(rng),
                                headers={**admin, "If-Match": client.get(url).headers["ETag"]})
        assert response.status_code == 200, response.json
    for facility in rng.sample(created, 6):
        url = f"/api/v1/facilities/{facility['id']}"
        response = client.delete(url, headers={**admin,
                                               "If-Match": client.get(url).headers["ETag"]})
        assert response.status_code == 204, response.json
    assert searches_agree_with_brute_force(app, pairs + others) > len(pairs) // 2
    sqlite_index_agrees(app)


def list_walk(client, path: str, per_page: int) -> list[str]:
    """Every name of a list, page by cursor, in the list's order."""
    body, seen = client.get(f"{path}&per_page={per_page}").json, []
    while True:
        seen += [item["name"] for item in body.get("items", body.get("contents", []))]
        if not body["next_cursor"]:
            return seen
        body = client.get(f"{path}&per_page={per_page}&cursor={body['next_cursor']}").json


@pytest.mark.parametrize("path", ["/api/v1/facilities?q=食堂",
                                  "/api/v1/hsds/services?search=食堂",
                                  "/api/v1/facilities?q=老年食堂&kind=meal_point"])
def test_text_many_rows_hold_pages_as_before_and_estimates_its_total(app, client, admin,
                                                                     monkeypatch, path):
    # Text that many rows hold (paging.window_estimate): its total estimated from the first
    # rows by seq, its pages (on SQLite) by walking the name index without the text index.
    from servicemap import paging, store
    from servicemap.store import sqlite as sqlite_store

    for number in range(18):  # two in three hold 食堂; names interleave in the list order
        create(client, admin, name=f"{'甲乙丙'[number % 3]}{number:02d}"
               + ("老年食堂" if number % 3 else "托育园"),
               kind="meal_point" if number % 3 else "nursery")
    monkeypatch.setattr(paging, "WINDOW_ROWS", 0)  # as before: the text index's plan
    before = list_walk(client, path, 4)
    first_pages = [client.get(f"{path}&per_page=4&page={n}").json for n in (1, 2)]
    assert len(before) == 12 and before == sorted(before)
    assert [p.get("total", p.get("total_items")) for p in first_pages] == [12, 12]

    app.config["SERVICEMAP"].count_exact_max = 3
    monkeypatch.setattr(paging, "WINDOW_ROWS", 9)  # the first nine rows: six hold the text
    walked = []
    real_walker = store.page_walker

    def recording_walker(session):
        walk = real_walker(session)
        return walk and (lambda produce: walked.append(rows := walk(produce)) or rows)

    monkeypatch.setattr(store, "page_walker", recording_walker)
    assert list_walk(client, path, 4) == before
    for number, page in zip((1, 2), first_pages, strict=True):
        body = client.get(f"{path}&per_page=4&page={number}").json
        assert body.get("items", body.get("contents")) == page.get("items", page.get("contents"))
        assert body.get("total_estimated") is True or body.get("total_items") is not None
    total = client.get(f"{path}&per_page=4").json
    assert total.get("total", total.get("total_items")) == 12  # 6 of the first 9 of 18
    if app.config["SERVICEMAP"].database_url.startswith("sqlite"):
        assert walked and all(rows is not None for rows in walked)  # the name index walked
        monkeypatch.setattr(sqlite_store, "WALK_STEPS", 0)  # every walk given up at once
        monkeypatch.setattr(sqlite_store, "STEP_CHECK", 1)
        walked.clear()
        assert list_walk(client, path, 4) == before
        assert walked and all(rows is None for rows in walked)
    else:
        assert not walked  # PostgreSQL's planner walks the name index by itself


def test_rare_text_reads_no_window(app, client, admin, monkeypatch):
    # Text few rows hold: SQLite's text index says so before any window is read, and any
    # page on which the list ends gives its total itself, on either backend.
    from servicemap import paging

    for number in range(12):
        create(client, admin, name=f"{'甲乙丙'[number % 3]}{number:02d}老年食堂", kind="meal_point")
    app.config["SERVICEMAP"].count_exact_max = 3
    monkeypatch.setattr(paging, "WINDOW_ROWS", 6)
    windows = []
    real = paging.window_estimate
    monkeypatch.setattr(paging, "window_estimate",
                        lambda *args: windows.append(args) or real(*args))
    rare = client.get("/api/v1/facilities", query_string={"q": "甲03"}).json
    assert [item["name"] for item in rare["items"]] == ["甲03老年食堂"]
    assert (rare["total"], rare["total_estimated"]) == (1, False) and windows == []
    common = client.get("/api/v1/facilities", query_string={"q": "食堂", "per_page": 2}).json
    assert len(common["items"]) == 2 and common["total_estimated"] is True and windows

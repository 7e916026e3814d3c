"""seeds/communities.csv: the sample 社区/村, each inside its district, populations that add up
to the districts' figures (seeds/README.md), loaded by `flask seed` through the API's rules."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from .test_seeds import SAMPLE_DISTRICTS, SEEDS, _misplaced, district_at  # noqa: F401

HEADER = ["external_id", "name", "name_en", "district_code", "street", "lat", "lon", "coordsys",
          "population", "population_60_plus", "population_0_3", "population_3_6"]
# 第七次全国人口普查 (2020) 常住人口 of the three sample districts, as seeds/README.md gives them.
DISTRICT_TOTALS = {"500103": 588_717, "500106": 1_479_697, "500109": 834_145}


@pytest.fixture(scope="module")
def communities() -> list[dict[str, str]]:
    with (SEEDS / "communities.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == HEADER
        return list(reader)


@pytest.fixture(scope="module")
def streets() -> set[tuple[str, str]]:
    with (SEEDS / "gazetteer" / "streets.csv").open(encoding="utf-8", newline="") as handle:
        return {(row["district_code"], row["street"]) for row in csv.DictReader(handle)}


def test_every_sample_district_has_communities_in_every_street(communities, streets):
    assert {row["district_code"] for row in communities} == set(SAMPLE_DISTRICTS)
    named = {(row["district_code"], row["street"]) for row in communities}
    assert named == {s for s in streets if s[0] in SAMPLE_DISTRICTS}


def test_ids_and_names_are_unique(communities):
    assert not [k for k, n in Counter(r["external_id"] for r in communities).items() if n > 1]
    assert not [k for k, n in Counter((r["district_code"], r["name"])
                                      for r in communities).items() if n > 1]


def test_populations_sum_to_the_district_figures_and_parts_fit(communities):
    totals = Counter()
    for row in communities:
        population = int(row["population"])
        totals[row["district_code"]] += population
        assert 0 < population <= 60_000, row["name"]
        for part in ("population_60_plus", "population_0_3", "population_3_6"):
            assert 0 <= int(row[part]) < population, (row["name"], part)
        assert 0.12 <= int(row["population_60_plus"]) / population <= 0.35, row["name"]
    assert totals == DISTRICT_TOTALS


def test_every_community_lies_in_its_district(communities, district_at):  # noqa: F811
    assert _misplaced(communities, "district_code", SAMPLE_DISTRICTS, district_at) == []


def test_flask_seed_loads_them_through_the_apis_rules(runner, client):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    listed = client.get("/api/v1/communities?district=500103&per_page=100").json
    assert listed["total"] == sum(1 for _ in _rows_of("500103"))
    assert sum(c["population"] for c in listed["items"]) == DISTRICT_TOTALS["500103"]
    # The district each row names agrees with its point (#9), or the seed would have failed.
    assert all(c["district"]["code"] == "500103" for c in listed["items"])


def test_a_bad_community_seed_row_fails_naming_file_and_line(runner, app, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "facilities.csv").write_text(
        "external_id,name,kind,district_code,address,lat,lon\n", encoding="utf-8")
    (seeds / "communities.csv").write_text(
        ",".join(HEADER) + "\n"
        "C-1,好社区,,500109,,29.8257,106.4370,wgs84,100,10,,\n"
        "C-2,坏社区,,500103,,29.8257,106.4370,wgs84,100,10,,\n", encoding="utf-8")
    app.config["SERVICEMAP"].seeds_dir = seeds
    result = runner.invoke(args=["seed"])
    assert result.exit_code != 0
    assert "communities.csv:3" in result.output and "district" in result.output
    with app.app_context():
        from servicemap.communities import sites
        from servicemap.extensions import db

        assert sites(db.session) == []  # the good row was rolled back with the bad one


def _rows_of(code: str):
    with (SEEDS / "communities.csv").open(encoding="utf-8", newline="") as handle:
        yield from (row for row in csv.DictReader(handle) if row["district_code"] == code)

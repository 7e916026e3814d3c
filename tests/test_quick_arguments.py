"""The quick reader of /nearest's query arguments gives what the schema gives, or leaves it be.

Every request is read either by api/quick_arguments.py or by NearestQuerySchema through webargs;
whichever reads it, the view must see the same arguments and the caller the same answer.
"""

from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_load
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import UnprocessableEntity

from servicemap.api import Blueprint
from servicemap.api.nearest import QUICK
from servicemap.api.quick_arguments import quick_loader
from servicemap.schemas import NearestQuerySchema

from .conftest import ORIGIN, assert_problem, create

SCHEMA = NearestQuerySchema()
LOAD = quick_loader(SCHEMA, QUICK)
BARE = Flask(__name__)
NAMES = [*QUICK, "open_at", "program", "page", "x"]
# Spellings both readers take, spellings only the schema takes, and spellings neither takes.
TEXTS = ["29.56", "106.55", "-0", "0", "90", "90.0000001", "-180", "181", "1e3", " 1", "1 ",
         "+5", "nan", "inf", "", "010", "5000.5", "50000", "50001", "100", "101", "0.5",
         "true", "True", "1", "no", "off", "maybe", "wgs84", "gcj02", "bd09", "GCJ02",
         "meal_point", "care_home", "bathing", "day_care", "2026-10-08T12:00",
         "elder_meal_priority", "１２", "12345678901", "1.00000000000000000001"]


def by_schema(args: MultiDict) -> dict | None:
    """What webargs and the schema read from these arguments, None for a 422."""
    with BARE.test_request_context(query_string=args):
        try:
            return Blueprint.ARGUMENTS_PARSER.parse(SCHEMA, location="query")
        except UnprocessableEntity:
            return None


PAIRS = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(TEXTS)), max_size=5)


@given(st.sampled_from(TEXTS), st.sampled_from(TEXTS), PAIRS)
def test_quick_reading_is_the_schemas_or_none(lat, lon, pairs):
    args = MultiDict([("lat", lat), ("lon", lon), *pairs])
    quick = LOAD(args)
    if quick is not None:
        assert quick == by_schema(args)


@pytest.mark.parametrize("query", [
    "lat=29.56&lon=106.55",
    "lat=29.56&lon=106.55&coordsys=gcj02&kind=meal_point&kind=care_home&open_now=true",
    "lat=-0&lon=106&radius_m=50000&limit=100&has_vacancy=1&inclusive=false&service=bathing",
])
def test_plain_spellings_are_read_quickly(query):
    args = MultiDict([pair.split("=") for pair in query.split("&")])
    assert LOAD(args) is not None
    assert LOAD(args) == by_schema(args)


@pytest.mark.parametrize("query", [
    "lat=29.56",  # lon is required
    "lat=29.56&lon=106.55&lat=29.57",  # repeated
    "lat=1e1&lon=106.55",  # exponent
    "lat=91&lon=106.55",  # out of range: the schema words the error
    "lat=29.56&lon=106.55&open_at=2026-10-08T12:00",  # a field it does not read
    "lat=29.56&lon=106.55&utm_source=wechat",  # unknown: the schema ignores it
    "lat=29.56&lon=106.55&kind=pagoda",
])
def test_other_spellings_are_left_to_the_schema(query):
    assert LOAD(MultiDict([pair.split("=") for pair in query.split("&")])) is None


def test_schemas_with_load_hooks_are_refused():
    class Hooked(Schema):
        lat = fields.Float(required=True)

        @post_load
        def _shift(self, data, **kwargs):
            return {"lat": data["lat"] + 1}

    with pytest.raises(ValueError, match="hooks"):
        quick_loader(Hooked(), ["lat"])


def test_a_reader_must_cover_the_required_fields():
    with pytest.raises(ValueError, match="required"):
        quick_loader(SCHEMA, ["lat", "limit"])


def test_both_readers_give_the_same_answer_over_http(client, admin):
    create(client, admin, name="近处食堂")
    quick = client.get(f"/api/v1/facilities/nearest?lat={ORIGIN[0]}&lon={ORIGIN[1]}&limit=5")
    slow = client.get(f"/api/v1/facilities/nearest?lat={ORIGIN[0]}&lon={ORIGIN[1]}&limit=5"
                      "&utm_source=wechat")  # an unknown argument: read by the schema
    assert quick.status_code == slow.status_code == 200
    assert quick.get_data() == slow.get_data()
    assert quick.get_json()["items"][0]["name"] == "近处食堂"


def test_an_error_is_the_schemas_whoever_reads_first(client):
    response = client.get(f"/api/v1/facilities/nearest?lat=91&lon={ORIGIN[1]}")
    assert_problem(response, 422, "lat")

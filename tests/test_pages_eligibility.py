"""/eligibility 我能享受什么 through Flask's client: questions chosen by the answer's missing
facts, answers grouped by status, errors beside their fields, and facts kept out of URLs,
cookies, logs and the database."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from servicemap.eligibility.facts import ENUM_FACTS, FACT_LABELS, FACT_NAMES, VALUE_LABELS

from .conftest import create

HOME = {"lat": "29.8257", "lon": "106.4370", "coordsys": "wgs84"}
ELDER = "1950-03-01"
# Every answer a person could give, for whichever question the page asks.
ANSWERS = {"birth_date": ELDER, "care_need": "moderate", "care_setting": "home",
           "residence_district": "500106", "household_status": "subsistence_allowance",
           "hukou_district": "500106", "lives_alone": "false", "empty_nest": "false",
           "left_behind": "false", "disability_certificate": "false",
           "special_family": "false", "enrolled_in_kindergarten": "false"}


class Page(HTMLParser):
    """What a person (or a script) sees of an /eligibility page."""

    def __init__(self, html: str):
        super().__init__()
        self.hidden, self.questions, self.errors = [], [], {}
        self.programmes, self.links, self.actions, self.facilities = {}, [], [], {}
        self._error, self._programme = None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.hidden.append((attrs["name"], attrs.get("value") or ""))
        if attrs.get("id", "").startswith("q-"):
            self.questions.append(attrs["id"][2:])
        if attrs.get("id", "").startswith("err-"):
            self._error = attrs["id"][4:]
        if "data-program-id" in attrs:
            self._programme = attrs["data-program-id"]
            self.programmes[self._programme] = attrs["data-status"]
        if "data-facility-id" in attrs:
            self.facilities.setdefault(self._programme, []).append(attrs["data-facility-id"])
        if "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "form":
            self.actions.append(attrs.get("action", ""))

    def handle_data(self, data):
        if self._error:
            self.errors[self._error] = self.errors.get(self._error, "") + data

    def handle_endtag(self, tag):
        if tag == "p":
            self._error = None

    def form(self) -> list[tuple[str, str]]:
        """The hidden fields the form would send back."""
        return [(name, value) for name, value in self.hidden
                if name not in ("lat", "lon", "coordsys")]

    def with_status(self, status: str) -> list[str]:
        return [program for program, s in self.programmes.items() if s == status]


def ask(client, fields, url="/eligibility"):
    """POST the form; (response, Page)."""
    response = client.post(url, data=MultiDict(fields))
    assert response.status_code < 500
    return response, Page(response.get_data(as_text=True))


def seen_text(response) -> str:
    """The page's text without its tags."""
    return re.sub(r"<[^>]+>", "", response.get_data(as_text=True))


def years_ago(years: int, days: int = 0) -> str:
    today = date.today()
    return (today.replace(year=today.year - years, day=min(today.day, 28))
            - timedelta(days=days)).isoformat()


def test_the_labels_cover_every_fact_and_value_of_the_catalogue():
    assert set(FACT_LABELS) == set(FACT_NAMES)
    assert {name: tuple(labels) for name, labels in VALUE_LABELS.items()} == ENUM_FACTS


def test_an_empty_form_asks_only_the_birth_date_first(client):
    response = client.get("/eligibility")
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert page.questions == ["birth_date"]
    assert page.programmes == {}
    assert 'name="age"' in response.get_data(as_text=True)  # 年龄 answers it too


def test_an_older_persons_answer_is_grouped_and_the_care_need_is_asked_next(client):
    response, page = ask(client, {"shown": "birth_date", "birth_date": ELDER})
    html = seen_text(response)
    assert response.status_code == 200
    assert {"elder_meal_service", "community_elder_care"} <= set(page.with_status("eligible"))
    assert {"bathing_assistance", "disabled_elder_care_voucher"} <= set(
        page.with_status("unknown"))
    assert "childcare_subsidy" in page.with_status("ineligible")
    assert html.index("可以享受") < html.index("可能可以") < html.index("不符合")
    assert "还需要：失能等级" in html
    assert "可以享受 2 项，可能可以 3 项。" in html
    assert "民发〔2023〕58号" in html  # each programme with its source
    assert page.questions == ["care_need"]  # named by the most open programmes
    assert ("birth_date", ELDER) in page.form() and ("asked", "birth_date") in page.form()


def test_the_flow_asks_what_is_missing_until_nothing_is(client, app):
    fields, asked_in_order = [], []
    for _step in range(10):
        response, page = ask(client, fields)
        if not page.questions:
            break
        asked_in_order.append(page.questions)
        fields = page.form() + [(name, ANSWERS[name]) for name in page.questions]
    html = seen_text(response)
    assert asked_in_order[:2] == [["birth_date"], ["care_need"]]
    assert "没有需要再问的了" in html
    assert page.with_status("unknown") == []
    assert set(page.with_status("eligible")) >= {"disabled_elder_care_voucher",
                                                 "elder_meal_priority"}
    assert "500 元/月" in html  # the voucher's cap for care at home
    assert "7 元/天" in html  # 沙坪坝区's meal subsidy for 低保
    never_needed = {"hukou_district", "enrolled_in_kindergarten", "lives_alone"}
    assert not never_needed & {name for step in asked_in_order for name in step}


def test_a_question_left_blank_is_not_asked_again(client):
    fields = [("asked", "birth_date"), ("birth_date", ELDER), ("shown", "care_need"),
              ("care_need", "")]
    _, page = ask(client, fields)
    assert "care_need" not in page.questions
    assert page.questions  # the next facts that matter
    assert "bathing_assistance" in page.with_status("unknown")


def test_a_childs_birth_date_gives_the_childcare_programmes(client):
    _, page = ask(client, {"birth_date": years_ago(1)})
    assert {"childcare_subsidy", "nursery_care"} <= set(page.with_status("eligible"))
    assert "elder_meal_service" in page.with_status("ineligible")


def test_a_change_shows_that_question_again_prefilled(client):
    response, page = ask(client, {"birth_date": ELDER, "care_need": "mild",
                                  "edit": "care_need"})
    assert page.questions == ["care_need"]
    assert 'value="mild" checked' in response.get_data(as_text=True)


def test_a_date_typed_with_slashes_is_read(client):
    _, page = ask(client, {"birth_date": "1950/3/1"})
    assert "elder_meal_service" in page.with_status("eligible")


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"birth_date": "1955-02-30"}, "birth_date", "YYYY-MM-DD"),
    ({"birth_date": "1800-01-01"}, "birth_date", "1900"),
    ({"birth_date": (date.today() + timedelta(days=30)).isoformat()}, "birth_date", "晚于"),
    ({"birth_date": "yesterday"}, "birth_date", "YYYY-MM-DD"),
    ({"age": "200"}, "age", "150"),
    ({"age": "-3"}, "age", "150"),
    ({"age": "99999999999999999999"}, "age", "150"),
    ({"birth_date": ELDER, "age": "3"}, "age", "不一致"),
    ({"birth_date": ELDER, "care_need": "very"}, "care_need", "able"),
    ({"birth_date": ELDER, "lives_alone": "maybe"}, "lives_alone", "true"),
    ({"birth_date": ELDER, "residence_district": "Atlantis"}, "residence_district", "500109"),
])
def test_a_bad_answer_is_shown_beside_its_field_never_a_500(client, fields, field, words):
    response, page = ask(client, {**fields, "shown": "birth_date"})
    question = "birth_date" if field == "age" else field
    assert response.status_code == 422
    assert words in page.errors[field]
    assert question in page.questions
    assert page.programmes == {}
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and f'href="#q-{question}"' in html


def test_the_nearest_places_are_shown_for_each_programme_a_place_delivers(client, admin):
    canteen = create(client, admin)["id"]
    response, page = ask(client, {"birth_date": ELDER, **HOME})
    assert page.facilities["elder_meal_service"] == [canteen]
    assert len(response.data) < 100_000  # the pages' weight budget, without the map
    assert "childcare_subsidy" not in page.facilities
    _, by_street = ask(client, {"birth_date": ELDER, "place_district": "500109",
                                "place_street": "天生街道", "radius_m": "3000"})
    assert by_street.facilities["elder_meal_service"] == [canteen]


def test_a_bad_location_is_a_422_naming_it_and_the_answer_is_still_shown(client):
    response, page = ask(client, {"birth_date": ELDER, "lat": "99", "lon": "106.4"})
    assert response.status_code == 422
    assert "lat" in response.get_data(as_text=True)
    assert "elder_meal_service" in page.with_status("eligible")
    response, _ = ask(client, {"birth_date": ELDER, "place_district": "nowhere"})
    assert response.status_code == 422


def test_english_on_lang_en(client):
    response, page = ask(client, {"birth_date": ELDER}, url="/eligibility?lang=en")
    html = seen_text(response)
    assert "You can get" in html and "Aged 60 or over." in html
    assert "/eligibility?lang=en" in page.actions


def test_facts_stay_out_of_urls_cookies_logs_and_the_database(client, app, admin, caplog):
    from servicemap.extensions import db
    from servicemap.models import Base

    def rows() -> int:
        with app.app_context():
            return sum(db.session.scalar(select(func.count()).select_from(t))
                       for t in Base.metadata.sorted_tables)

    create(client, admin)
    before = rows()
    secret = {"birth_date": "1937-07-07", "household_status": "extreme_poverty_support",
              "residence_district": "500243", "care_need": "severe", **HOME}
    with caplog.at_level(logging.DEBUG):
        response, page = ask(client, secret)
        bad, _ = ask(client, {**secret, "age": "x"})
    assert response.status_code == 200 and bad.status_code == 422
    for answer in (response, bad):
        assert "Set-Cookie" not in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for value in ("1937-07-07", "extreme_poverty_support", "500243", "29.8257"):
        assert value not in text
        assert not any(value in link for link in page.links + page.actions)
    assert rows() == before


def test_a_located_position_can_be_forgotten_for_a_district(client, admin):
    create(client, admin)
    _, page = ask(client, {"birth_date": ELDER, "lat": "29.0", "lon": "107.9",
                           "forget_place": "1", "place_district": "500109",
                           "radius_m": "20000"})
    assert page.facilities["elder_meal_service"]  # from 北碚区's centre, not the position
    assert ("lat", "") in page.hidden

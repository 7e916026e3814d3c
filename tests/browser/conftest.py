"""Browser tests: Playwright driving Debian's chromium against the app served on loopback.

Playwright's own browser download cannot work here, so the system chromium is launched by path
(SERVICEMAP_CHROMIUM, default /usr/bin/chromium). Where it is missing these tests skip, unless
SERVICEMAP_REQUIRE_BROWSER is set (as .ci/run does): then a missing browser fails the run.
Every request to another host is refused and recorded, so a test can assert there was none.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from servicemap import create_app, store
from servicemap.config import Config
from servicemap.seeding import initialise_if_empty

from ..conftest import BACKENDS, _empty_postgres

CHROMIUM = os.environ.get("SERVICEMAP_CHROMIUM", "/usr/bin/chromium")
# As the machine notes advise: without the background-networking flags chromium keeps trying
# (and failing) to reach Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
# 北碚区朝阳街道, near the sample meal points (WGS-84).
BEIBEI = {"latitude": 29.8257, "longitude": 106.4370}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("SERVICEMAP_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Site:
    """The app served on loopback, with the sample data seeded."""

    app: object
    url: str
    foreign: list[str] = field(default_factory=list)  # requests to other hosts, refused


def _serve(app, tmp_path_factory) -> tuple[Site, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Site(app=app, url=f"http://127.0.0.1:{server.server_port}"), server


@pytest.fixture(scope="module")
def site_config() -> dict:
    """Config settings of the served app beyond the tests' own; a module overrides this
    fixture to serve the app configured otherwise (test_map.py: a tile source)."""
    return {}


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory, site_config):
    """The seeded app on loopback, once per test module and backend."""
    folder = tmp_path_factory.mktemp("site")
    if request.param == "sqlite":
        path = folder / "servicemap.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        _empty_postgres(url)
    app = create_app(Config(database_url=url, auto_init=False, testing=True,
                            instance_dir=folder, **site_config))
    with app.app_context():
        initialise_if_empty()
    served, server = _serve(app, tmp_path_factory)
    yield served
    server.shutdown()
    store.dispose(app)


def _context(browser, site: Site, **options):
    options = {"viewport": PHONE, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
               "base_url": site.url, **options}
    context = browser.new_context(**options)
    site.foreign.clear()

    def refuse_foreign(route):
        if urlsplit(route.request.url).netloc != urlsplit(site.url).netloc:
            site.foreign.append(route.request.url)
            return route.abort()
        return route.continue_()

    context.route("**/*", refuse_foreign)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def new_page(browser, site):
    """new_page(**context options) -> a page at 390 × 844 in its own context."""
    contexts = []

    def make(**options):
        context = _context(browser, site, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def scrolls_sideways(page) -> bool:
    """Whether anything is wider than the viewport (sideways scrolling on a phone)."""
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth")

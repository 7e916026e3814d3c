"""/api/docs in a real browser (Debian's chromium driven by Playwright): Swagger UI draws the
API from vendored assets and asks no other host for anything.

Skipped where Playwright or chromium is missing; Playwright's own browser download cannot work
here, so chromium is launched by its path.
"""

from __future__ import annotations

import shutil
import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture
def base_url(app):
    """The app served on a free local port for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_swagger_ui_draws_the_api_without_any_other_host(base_url):
    own_host = urlsplit(base_url).netloc
    requested, failed = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(f"{base_url}/api/docs")
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=15_000)
        assert "servicemap" in title.inner_text()
        # The operations are drawn from the spec: geocode among them.
        page.locator(".opblock-summary-path", has_text="/api/v1/geocode").wait_for()
        browser.close()
    others = [url for url in requested
              if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own_host]
    assert others == [] and failed == []
    assert any(url.endswith("/swagger-ui-bundle.js") for url in requested)

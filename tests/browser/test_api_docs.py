"""/api/docs in a real browser: Swagger UI draws the API from vendored assets and asks no
other host for anything (on a machine that cannot reach a CDN it used to stay white)."""

from __future__ import annotations

from urllib.parse import urlsplit


def test_swagger_ui_draws_the_api_without_any_other_host(page, site):
    requested, failed = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto("/api/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for()
    assert "servicemap" in title.inner_text()
    # The operations are drawn from the spec: geocode among them.
    page.locator(".opblock-summary-path", has_text="/api/v1/geocode").wait_for()
    own_host = urlsplit(site.url).netloc
    others = [url for url in requested
              if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own_host]
    assert others == [] and failed == [] and site.foreign == []
    assert any(url.endswith("/swagger-ui-bundle.js") for url in requested)

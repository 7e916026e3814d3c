"""/api/docs works offline: the page and every asset it loads come from the app's own host."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

VENDOR = Path(__file__).resolve().parent.parent / "servicemap" / "static" / "vendor" / "swagger-ui"
TYPES = {".css": "text/css", ".js": "text/javascript"}


class References(HTMLParser):
    """Every URL a page makes the browser fetch: src of any element, href of a <link>."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("src"):
            self.urls.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"])


def test_the_docs_page_loads_only_same_host_assets_and_each_answers(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    parser = References()
    parser.feed(html)
    assert len(parser.urls) == 3, parser.urls  # the stylesheet and two scripts
    assert not re.search(r"https?://|//cdn", html), "the page names another host"
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.mimetype == TYPES[Path(parts.path).suffix], url
            assert asset.data == (VENDOR / Path(parts.path).name).read_bytes()
    spec_url = re.search(r'url: "([^"]+)"', html).group(1)
    assert client.get(spec_url).json["info"]["title"].startswith("servicemap")


def test_swagger_ui_asks_no_online_validator(client):
    # Swagger UI's default validatorUrl would fetch a badge from validator.swagger.io.
    assert '{"validatorUrl": null}' in client.get("/api/docs").get_data(as_text=True)


def test_the_vendored_files_are_those_the_readme_names_with_their_licence():
    readme = (VENDOR / "README.md").read_text("utf-8")
    listed = dict(re.findall(r"^\| (\S+\.(?:css|js)) \| `([0-9a-f]{64})` \|$", readme, re.M))
    assert set(listed) == {"swagger-ui.css", "swagger-ui-bundle.js",
                           "swagger-ui-standalone-preset.js"}
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (VENDOR / "LICENSE").read_text("utf-8")
    assert re.search(r"swagger-ui-dist` \*\*5\.\d+\.\d+\*\*", readme)

"""What a page costs on the wire: the bytes of its document, stylesheets and scripts."""

from __future__ import annotations

WEIGHED = ("document", "stylesheet", "script")


def page_weight(page, url: str) -> int:
    """Bytes transferred (headers and bodies) for the document, CSS and JS of `url`, loaded
    afresh (no cache) in `page`."""
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_load_state("load")
    total = 0
    for request in finished:
        if request.resource_type in WEIGHED:
            sizes = request.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    return total

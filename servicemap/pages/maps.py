"""Maps on the pages: 导航 links to Amap, Baidu and Tencent, and the optional tile map.

Each map app reads coordinates in its own datum (Amap and Tencent GCJ-02, Baidu BD-09): a
WGS-84 point handed over as it is lands a few hundred metres off, so every link converts with
geo/coordsys.py's one converter. The parameters are those of each app's URI documentation:
lbs.amap.com/api/uri-api/guide/mobile-web/point, lbsyun.baidu.com's Web URI `marker` (src is
required) and lbs.qq.com's URI `marker` (referer is required).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import current_app

from ..geo.coordsys import from_wgs84

APP_NAME = "servicemap"
# Tencent's marker value is `coord:…;title:…;addr:…`: these characters would end a part early.
MARKER_SEPARATORS = re.compile(r"[;:]")
# Kept literal in query strings, as the apps' documented examples write them.
SAFE = ",:;"


@dataclass(frozen=True)
class MapLink:
    """One 导航 link: the app's name, the datum of its coordinates, and the URL."""

    app: str
    app_en: str
    coordsys: str
    url: str


def _six(value: float) -> str:
    return f"{value:.6f}"  # ~0.1 m, as precise as any of the apps reads


def navigation_links(lat: float, lon: float, name: str, address: str | None) -> list[MapLink]:
    """Links opening Amap, Baidu Maps and Tencent Maps at a WGS-84 point, each in its datum."""
    content = address or name
    g_lat, g_lon = from_wgs84(lat, lon, "gcj02")
    b_lat, b_lon = from_wgs84(lat, lon, "bd09")
    amap = "https://uri.amap.com/marker?" + urlencode({
        "position": f"{_six(g_lon)},{_six(g_lat)}", "name": name, "src": APP_NAME,
        "coordinate": "gaode", "callnative": "1"}, safe=SAFE)
    baidu = "https://api.map.baidu.com/marker?" + urlencode({
        "location": f"{_six(b_lat)},{_six(b_lon)}", "title": name, "content": content,
        "output": "html", "coord_type": "bd09ll", "src": f"webapp.{APP_NAME}.{APP_NAME}",
    }, safe=SAFE)
    title, addr = (MARKER_SEPARATORS.sub(" ", text) for text in (name, content))
    tencent = "https://apis.map.qq.com/uri/v1/marker?" + urlencode({
        "marker": f"coord:{_six(g_lat)},{_six(g_lon)};title:{title};addr:{addr}",
        "referer": APP_NAME}, safe=SAFE)
    return [MapLink("高德地图", "Amap", "gcj02", amap),
            MapLink("百度地图", "Baidu Maps", "bd09", baidu),
            MapLink("腾讯地图", "Tencent Maps", "gcj02", tencent)]


@dataclass(frozen=True)
class TileMap:
    """A configured tile source: URL template, its datum and the attribution to show."""

    tiles: str
    coordsys: str
    attribution: str

    @property
    def origin(self) -> str:
        """scheme://host[:port] of the tiles, for the Content-Security-Policy's img-src; a
        {s} subdomain (Leaflet's a, b, c) becomes CSP's wildcard *."""
        parts = urlsplit(self.tiles)
        return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"

    def marker(self, lat: float, lon: float, **fields) -> dict:
        """A marker at a WGS-84 point, in the tiles' datum, for the page's JSON island."""
        t_lat, t_lon = from_wgs84(lat, lon, self.coordsys)
        return {"lat": round(t_lat, 7), "lon": round(t_lon, 7), **fields}


def tile_map() -> TileMap | None:
    """The configured tile map, or None (no map markup, script or foreign request at all)."""
    config = current_app.config["SERVICEMAP"]
    if not (config.map_tiles and config.map_coordsys and config.map_attribution):
        return None
    return TileMap(config.map_tiles, config.map_coordsys, config.map_attribution)

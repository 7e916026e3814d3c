"""GeoJSON (RFC 7946) features of facilities as the API presents them, built one way."""

from __future__ import annotations

GEOJSON = "application/geo+json"


def feature(item: dict, keep: tuple[str, ...] | None = None) -> dict:
    """A Feature: the item's location as a Point geometry (null without one), the rest as
    properties, with the location's members in `keep` (all of them by default) left there."""
    properties = dict(item)
    location = properties.pop("location")
    properties["id"] = str(properties["id"])
    geometry = None
    if location:
        geometry = {"type": "Point", "coordinates": [location["lon"], location["lat"]]}
        properties["location"] = (location if keep is None
                                  else {name: location[name] for name in keep})
    return {"type": "Feature", "id": properties["id"], "geometry": geometry,
            "properties": properties}

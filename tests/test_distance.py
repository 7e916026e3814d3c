"""Geodesic distances agree with geopy; search boxes hold every point within the radius."""

from __future__ import annotations

from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from servicemap.geo.distance import box_around, geodesic_m

lats = st.floats(-89.0, 89.0)
lons = st.floats(-180.0, 180.0)


@settings(max_examples=300, derandomize=True)
@given(lats, lons, lats, lons)
def test_geodesic_m_equals_geopy_geodesic(lat1, lon1, lat2, lon2):
    assert abs(geodesic_m(lat1, lon1, lat2, lon2) - geodesic((lat1, lon1), (lat2, lon2)).m) < 1e-6


def test_known_distance_in_beibei():
    # 北碚 朝阳街道 to 天生街道: about 680 m; geopy's value to the millimetre.
    expected = geodesic((29.8257, 106.4370), (29.8300, 106.4420)).m
    assert round(geodesic_m(29.8257, 106.4370, 29.8300, 106.4420), 3) == round(expected, 3)
    assert 670 < expected < 690


def _inside(box, lat, lon) -> bool:
    south, north, west, east = box
    in_lon = west <= lon <= east if west <= east else (lon >= west or lon <= east)
    return south <= lat <= north and in_lon


@settings(max_examples=400, derandomize=True)
@given(st.floats(-88.0, 88.0), lons, st.floats(1.0, 100_000.0), st.floats(0.0, 360.0))
def test_box_holds_every_point_at_the_radius(lat, lon, radius, azimuth):
    edge_lon, edge_lat, _ = Geod(ellps="WGS84").fwd(lon, lat, azimuth, radius)
    assert _inside(box_around(lat, lon, radius), edge_lat, edge_lon)


def test_box_across_the_antimeridian_wraps():
    south, north, west, east = box_around(0.0, 179.99, 5000)
    assert west > east and west < 180 and east > -180


def test_box_near_a_pole_spans_all_longitudes():
    assert box_around(89.995, 10.0, 5000)[2:] == (-180.0, 180.0)

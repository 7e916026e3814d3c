"""WGS-84 / GCJ-02 / BD-09 conversions against published reference values and round trips."""

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from servicemap.geo.coordsys import COORDSYS, from_wgs84, to_wgs84

# Published values carry 14+ significant digits: 1e-9 degrees (0.1 mm) leaves room for rounding.
DEG = 1e-9

# wandergis/coordtransform, test/app.js (the README's example point, Beijing, 116.404 E 39.915 N):
#   wgs84togcj02(116.404, 39.915) -> [116.41024449916938, 39.91640428150164]
#   gcj02tobd09(116.404, 39.915)  -> [116.41036949371029, 39.92133699351021]
BEIJING_WGS = (39.915, 116.404)
BEIJING_GCJ_OF_WGS = (39.91640428150164, 116.41024449916938)
BEIJING_GCJ = (39.915, 116.404)
BEIJING_BD_OF_GCJ = (39.92133699351021, 116.41036949371029)

# googollee/eviltransform, go/transform_test.go and python/test.py: (wgs, gcj) pairs.
EVILTRANSFORM_PAIRS = {
    "shanghai": ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    "shenzhen": ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    "beijing": ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
}

# hujiulong/gcoord, test/fixtures/china-cities.json, entry 重庆城区 (渝中区), given there as
# [lon, lat] with 7 decimals. Its GCJ-02/BD-09 pair agrees with the formula to rounding (mm);
# its WGS-84 value is 0.66 m from the formula's, so it is checked to 1 m (gcoord itself: 4
# decimals).
CHONGQING_WGS = (29.565849, 106.5478343)
CHONGQING_GCJ = (29.563013, 106.5515641)
CHONGQING_BD = (29.5693061, 106.5579989)

OUTSIDE_CHINA = {
    "london": (51.5, -0.12),
    "new_york": (40.7128, -74.006),
    "sydney": (-33.8688, 151.2093),
}

chongqing_lat = st.floats(min_value=28.1, max_value=32.2)
chongqing_lon = st.floats(min_value=105.2, max_value=110.2)
# Deterministic, and small enough to keep the whole file around a second or two.
round_trip = settings(derandomize=True, max_examples=150, deadline=None, database=None)


def assert_close_deg(got, want, tol=DEG):
    assert got == pytest.approx(want, abs=tol)


def test_wgs84_to_gcj02_matches_coordtransform_beijing():
    assert_close_deg(from_wgs84(*BEIJING_WGS, "gcj02"), BEIJING_GCJ_OF_WGS)


def test_gcj02_to_bd09_matches_coordtransform_beijing():
    wgs = to_wgs84(*BEIJING_GCJ, "gcj02")
    assert_close_deg(from_wgs84(*wgs, "bd09"), BEIJING_BD_OF_GCJ)
    assert_close_deg(to_wgs84(*BEIJING_BD_OF_GCJ, "bd09"), wgs)


@pytest.mark.parametrize("city", EVILTRANSFORM_PAIRS)
def test_gcj02_matches_eviltransform_both_ways(city):
    wgs, gcj = EVILTRANSFORM_PAIRS[city]
    assert_close_deg(from_wgs84(*wgs, "gcj02"), gcj)
    assert geodesic(to_wgs84(*gcj, "gcj02"), wgs).m < 0.05


def test_chongqing_gcj02_and_bd09_match_gcoord_fixture():
    wgs = to_wgs84(*CHONGQING_GCJ, "gcj02")
    assert geodesic(from_wgs84(*wgs, "bd09"), CHONGQING_BD).m < 0.01
    assert geodesic(to_wgs84(*CHONGQING_BD, "bd09"), wgs).m < 0.01
    assert geodesic(wgs, CHONGQING_WGS).m < 1.0


def test_chongqing_offsets_are_about_500_m_for_gcj02_and_1_1_km_for_bd09():
    gcj_offset = geodesic(CHONGQING_WGS, from_wgs84(*CHONGQING_WGS, "gcj02")).m
    bd_offset = geodesic(CHONGQING_WGS, from_wgs84(*CHONGQING_WGS, "bd09")).m
    assert 400 < gcj_offset < 650
    assert 900 < bd_offset < 1300


@pytest.mark.parametrize("coordsys", ["gcj02", "bd09"])
@round_trip
@given(lat=chongqing_lat, lon=chongqing_lon)
def test_round_trip_from_wgs84_and_back_within_5_cm_in_chongqing(coordsys, lat, lon):
    back = to_wgs84(*from_wgs84(lat, lon, coordsys), coordsys)
    assert geodesic(back, (lat, lon)).m < 0.05


@pytest.mark.parametrize("coordsys", ["gcj02", "bd09"])
@round_trip
@given(lat=chongqing_lat, lon=chongqing_lon)
def test_round_trip_to_wgs84_and_back_within_5_cm_in_chongqing(coordsys, lat, lon):
    back = from_wgs84(*to_wgs84(lat, lon, coordsys), coordsys)
    assert geodesic(back, (lat, lon)).m < 0.05


@pytest.mark.parametrize("coordsys", COORDSYS)
@pytest.mark.parametrize("place", OUTSIDE_CHINA)
def test_points_outside_china_are_not_shifted(place, coordsys):
    lat, lon = OUTSIDE_CHINA[place]
    assert from_wgs84(lat, lon, coordsys) == (lat, lon)
    assert to_wgs84(lat, lon, coordsys) == (lat, lon)


@pytest.mark.parametrize("point", [CHONGQING_WGS, OUTSIDE_CHINA["london"]])
def test_wgs84_is_identity(point):
    assert from_wgs84(*point, "wgs84") == point
    assert to_wgs84(*point, "wgs84") == point


def test_results_are_floats_even_for_integer_input():
    for convert in (from_wgs84, to_wgs84):
        for coordsys in COORDSYS:
            lat, lon = convert(29, 106, coordsys)
            assert type(lat) is float and type(lon) is float


@pytest.mark.parametrize("convert", [from_wgs84, to_wgs84])
@pytest.mark.parametrize("name", ["baidu", "WGS-84", ""])
def test_unknown_coordsys_raises_value_error_naming_it(convert, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        convert(*CHONGQING_WGS, name)

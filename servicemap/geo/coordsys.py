"""Conversions between WGS-84, GCJ-02 (Amap, Tencent, WeChat) and BD-09 (Baidu).

Forward transforms are the published GCJ-02 algorithm (Krasovsky 1940 ellipsoid; the formula
of coordtransform, prcoords and eviltransform's tests) and Baidu's BD-09 step on top of it.
Neither has a closed-form inverse, so inverses iterate the forward transform to a fixed point
(round trip well under a millimetre), where single-step inverses are 1-2.5 m off.
As the published algorithm specifies, points outside its rough China box are not shifted, in
either system.

Why not prcoords (CC0), which implements the same formulas: its iterative inverses
(`gcj_wgs_bored`, `bd_wgs_bored`) skip the China check, shifting London by about 1.4 km; its
forward functions emit a warning for every point outside China (an error under our pytest
settings); and its inverse stops at 1e-5 degrees (about 2 cm left for BD-09).
"""

import math

COORDSYS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 publishes it
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
# 1e-10 degrees is about 0.01 mm; each step gains two to three orders of magnitude.
_TOLERANCE_DEG = 1e-10
_MAX_STEPS = 10


def _in_china(lat: float, lon: float) -> bool:
    # The box of the published algorithm (eviltransform, prcoords), not the real border.
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lon <= 137.8347


def _wgs_to_gcj(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    # Offsets in metres north and east: the published polynomial plus its sine terms.
    wave = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += wave + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3 * math.pi)) * 2 / 3
    d_lat += (160.0 * math.sin(y / 12 * math.pi) + 320.0 * math.sin(y / 30 * math.pi)) * 2 / 3
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lon += wave + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3 * math.pi)) * 2 / 3
    d_lon += (150.0 * math.sin(x / 12 * math.pi) + 300.0 * math.sin(x / 30 * math.pi)) * 2 / 3
    rad_lat = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    d_lat = d_lat * 180.0 / (_A * (1.0 - _EE) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = d_lon * 180.0 / (_A / math.sqrt(magic) * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon


def _gcj_to_bd(lat: float, lon: float) -> tuple[float, float]:
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _wgs_to_bd(lat: float, lon: float) -> tuple[float, float]:
    return _gcj_to_bd(*_wgs_to_gcj(lat, lon))


# WGS-84 -> coordsys; None where there is nothing to transform.
_FORWARD = {"wgs84": None, "gcj02": _wgs_to_gcj, "bd09": _wgs_to_bd}


def _forward(coordsys: str):
    if coordsys not in COORDSYS:
        raise ValueError(f"unknown coordsys {coordsys!r}; expected one of {', '.join(COORDSYS)}")
    return _FORWARD[coordsys]


def _invert(forward, lat: float, lon: float) -> tuple[float, float]:
    # The shift varies slowly with position, so subtracting the residual converges quickly.
    w_lat, w_lon = lat, lon
    for _ in range(_MAX_STEPS):
        f_lat, f_lon = forward(w_lat, w_lon)
        d_lat, d_lon = f_lat - lat, f_lon - lon
        w_lat, w_lon = w_lat - d_lat, w_lon - d_lon
        if abs(d_lat) < _TOLERANCE_DEG and abs(d_lon) < _TOLERANCE_DEG:
            break
    return w_lat, w_lon


def from_wgs84(lat: float, lon: float, coordsys: str) -> tuple[float, float]:
    """Convert a WGS-84 point to `coordsys` (wgs84, gcj02 or bd09)."""
    forward = _forward(coordsys)
    if forward is None or not _in_china(lat, lon):
        return float(lat), float(lon)
    return forward(lat, lon)


def to_wgs84(lat: float, lon: float, coordsys: str) -> tuple[float, float]:
    """Convert a point given in `coordsys` (wgs84, gcj02 or bd09) to WGS-84."""
    forward = _forward(coordsys)
    if forward is None or not _in_china(lat, lon):
        return float(lat), float(lon)
    return _invert(forward, lat, lon)

"""Every pair of points from two sets within a geodesic distance, through a grid in memory.

The grid's cells are at least as large as geo.distance.box_around's box for the distance, so
the points within reach of a point lie in its own cell or the eight around it (longitudes
wrap at the antimeridian; near a pole a row is one cell). The second set is sorted by cell
once; each of the nine neighbours is then a range of it found by binary search, and the pairs
are cut to the box in degrees, all in arrays: no scan of all pairs. Great circles on a sphere
settle most pairs; geodesics (Karney, through pyproj) measure the pairs the sphere leaves in
doubt and each point's nearest, so both are exact.
"""

from __future__ import annotations

import math

import numpy as np

from ..geo.distance import MAX_METRES_PER_DEGREE_LON, MIN_METRES_PER_DEGREE_LAT, geodesics_m

_SLACK = 1.0001  # as geo.distance.box_around
# Geodesics on WGS-84 and great circles on the sphere of the mean radius differ by under 0.6%
# either way (geo/spatial.py), plus float error.
MEAN_RADIUS_M = 6_371_008.8
SPHERE_SLACK = 1.0061 * (1 + 1e-9)


def pairs_within(a_lat, a_lon, b_lat, b_lon, reach_m: float):
    """(i, j, nearest): every a[i], b[j] whose geodesic distance is at most reach_m, as arrays
    ordered by i then j; and for each a the geodesic metres to its nearest b within reach_m
    (NaN where none is)."""
    a_lat, a_lon, b_lat, b_lon = (np.asarray(x, dtype=float) for x in (a_lat, a_lon, b_lat, b_lon))
    if not a_lat.size or not b_lat.size:
        return _none(a_lat.size)
    dlat = reach_m / MIN_METRES_PER_DEGREE_LAT * _SLACK + 1e-6
    far = min(90.0, max(np.abs(a_lat).max(), np.abs(b_lat).max()) + dlat)
    dlon = 360.0 if far >= 89.99 else (
        reach_m / (MAX_METRES_PER_DEGREE_LON * math.cos(math.radians(far))) * _SLACK + 1e-6)
    columns = max(1, int(360.0 // dlon))
    width = 360.0 / columns  # >= dlon: whole columns round the globe

    def cells(lat, lon):
        return (np.floor((lat + 90.0) / dlat).astype(np.int64),
                np.floor((lon + 180.0) / width).astype(np.int64) % columns)

    a_row, a_col = cells(a_lat, a_lon)
    b_row, b_col = cells(b_lat, b_lon)
    order = np.argsort(b_row * columns + b_col, kind="stable")
    keys = (b_row * columns + b_col)[order]
    found_i, found_j = [], []
    for step_row in (-1, 0, 1):
        for step_col in {step % columns for step in (-1, 0, 1)}:
            key = (a_row + step_row) * columns + (a_col + step_col) % columns
            low = np.searchsorted(keys, key, "left")
            counts = np.searchsorted(keys, key, "right") - low
            total = int(counts.sum())
            if not total:
                continue
            starts = np.repeat(low - (np.cumsum(counts) - counts), counts)
            found_i.append(np.repeat(np.arange(a_lat.size), counts))
            found_j.append(order[starts + np.arange(total)])
    if not found_i:
        return _none(a_lat.size)
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    gap = np.abs((b_lon[j] - a_lon[i] + 180.0) % 360.0 - 180.0)
    boxed = (np.abs(b_lat[j] - a_lat[i]) <= dlat) & (gap <= dlon)
    return _measured(a_lat, a_lon, b_lat, b_lon, i[boxed], j[boxed], reach_m)


def _measured(a_lat, a_lon, b_lat, b_lon, i, j, reach_m: float):
    """The pairs within reach and each a's nearest, measuring exactly only the pairs whose
    spherical distance leaves either in doubt."""
    if not i.size:
        return _none(a_lat.size)
    spherical = _haversine_m(a_lat[i], a_lon[i], b_lat[j], b_lon[j])
    doubt = (spherical * SPHERE_SLACK > reach_m) & (spherical / SPHERE_SLACK <= reach_m)
    # Each a's nearest b by geodesic is among those spherically within SLACK^2 of its nearest
    # by sphere; a pair in doubt about the reach is measured too.
    closest = np.full(a_lat.size, np.inf)
    np.minimum.at(closest, i, spherical)
    exact = doubt | (spherical <= closest[i] * SPHERE_SLACK ** 2)
    metres = np.full(i.size, np.nan)
    metres[exact] = geodesics_m(a_lat[i[exact]], a_lon[i[exact]], b_lat[j[exact]],
                                b_lon[j[exact]])
    inside = np.where(exact, metres <= reach_m, spherical * SPHERE_SLACK <= reach_m)
    nearest = np.full(a_lat.size, np.inf)
    np.minimum.at(nearest, i[exact & inside], metres[exact & inside])
    i, j = i[inside], j[inside]
    ranked = np.lexsort((j, i))
    return i[ranked], j[ranked], np.where(np.isinf(nearest), np.nan, nearest)


def _none(size: int):
    return np.empty(0, np.int64), np.empty(0, np.int64), np.full(size, np.nan)


def _haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle metres on the sphere of the mean radius (as PostGIS's geography <->)."""
    lat1, lon1, lat2, lon2 = (np.radians(x) for x in (lat1, lon1, lat2, lon2))
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * MEAN_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h)))

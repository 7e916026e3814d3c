"""Where to build next: a greedy maximal covering location choice among candidate sites.

Each step picks the candidate that would newly cover the most population not yet within reach
of a facility (existing ones count from the start, and those picked before); ties go to the
candidate given first. Coverage is a monotone submodular function of the set picked, so the
greedy choice of k sites covers at least (1 - 1/e) ≈ 63% of what the best k sites could
(Nemhauser, Wolsey & Fisher 1978); finding the best is NP-hard. Candidates' cover sets come
from the grid in memory (pairs.py), and the picks from a lazy greedy (Minoux 1978): a gain
can only shrink, so a candidate's stale gain is an upper bound and only the top of the heap
is re-counted.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..domain_errors import Invalid
from .options import check as _check
from .pairs import pairs_within
from .reach import reach, selection
from .summary import Site


@dataclass(frozen=True)
class Suggestions:
    """What suggestions() found; body() is the JSON answer of /api/v1/coverage/suggestions."""

    kind: str | None
    program: str | None
    distance_m: float
    detour: float
    population_field: str
    population: int
    population_covered: int  # by the existing facilities
    picks: list[dict]

    def body(self) -> dict:
        share = self.population_covered / self.population if self.population else None
        return {"kind": self.kind, "program": self.program, "distance_m": self.distance_m,
                "detour": self.detour, "population_field": self.population_field,
                "population": self.population, "population_covered": self.population_covered,
                "population_share": share, "suggestions": self.picks}


def suggestions(connection, sites: Sequence[Site], kind: str | None = None, program=None, *,
                distance_m: float, detour: float = 1.0, count: int = 5,
                candidates: Sequence[tuple[float, float]] | None = None,
                population_field: str = "population") -> Suggestions:
    """Up to `count` places for a new facility of `kind` (or delivering `program`), each the
    one covering the most population still uncovered: among `candidates` ((lat, lon) WGS-84
    points, in order) or, by default, the sites' own locations. Fewer when nothing more can
    be covered. Greedy: within (1 - 1/e) of the optimum."""
    _check(distance_m, detour, "distance")
    if not isinstance(count, int) or count < 1:
        raise Invalid({"count": ["Must be a whole number, at least 1."]})
    reach_m = distance_m / detour
    lat = np.array([site.lat for site in sites], dtype=float)
    lon = np.array([site.lon for site in sites], dtype=float)
    weight = np.array([site.population or 0 for site in sites], dtype=np.int64)
    existing = reach(connection, selection(kind, program), lat, lon, reach_m, nearest=False)
    covered = ~np.isnan(existing.nearest_m)
    total, already = int(weight.sum()), int(weight[covered].sum())
    if candidates is None:
        points = [(site.lat, site.lon, site.id) for site in sites]
    else:
        points = [(float(point[0]), float(point[1]), None) for point in candidates]
    picks = _greedy(points, lat, lon, weight, covered, reach_m, count, total, already)
    return Suggestions(kind, getattr(program, "id", None), distance_m, detour,
                       population_field, total, already, picks)


def _greedy(points, lat, lon, weight, covered, reach_m, count, total, already) -> list[dict]:
    """The lazy greedy picks over candidate `points` (lat, lon, community id or None)."""
    open_sites = np.flatnonzero(~covered & (weight > 0))
    candidate, member, _ = pairs_within([p[0] for p in points], [p[1] for p in points],
                                        lat[open_sites], lon[open_sites], reach_m)
    member = open_sites[member]
    bounds = np.searchsorted(candidate, np.arange(len(points) + 1))
    gains = np.bincount(candidate, weights=weight[member], minlength=len(points))
    heap = [(-int(gain), index) for index, gain in enumerate(gains.tolist()) if gain > 0]
    heapq.heapify(heap)
    taken, picks, reached = covered.copy(), [], already
    while heap and len(picks) < count:
        stale, index = heapq.heappop(heap)
        sites = member[bounds[index]:bounds[index + 1]]
        fresh = sites[~taken[sites]]
        gain = int(weight[fresh].sum())
        if gain != -stale:  # others may now beat it: back in the heap at its true gain
            if gain > 0:
                heapq.heappush(heap, (-gain, index))
            continue
        taken[fresh] = True
        reached += gain
        lat_, lon_, community = points[index]
        picks.append({"location": {"lat": lat_, "lon": lon_, "coordsys": "wgs84"},
                      "community_id": community, "newly_covered_population": gain,
                      "population_share_after": reached / total if total else None})
    return picks

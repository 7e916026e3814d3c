"""Coverage of communities by facilities: who lies within reach, how much capacity each can
reach (2SFCA), and where the next facility would cover most (suggest.py).

A community is covered when its geodesic distance to an active facility of the kind asked
for (or delivering the programme asked for), times `detour` (路网系数, the ratio of a walk
on the street network to the straight line), is at most `distance_m`. Sites carry the chosen
population figure: one without it counts among the communities, never in population sums.
A share over nothing (no communities, or no population) is null, not 0: there is nothing it
is a share of. A mobile service counts where it is based, not over its whole service area.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .catchment import two_step
from .options import METHODS
from .options import check as _check
from .reach import reach, selection
from .suggest import suggestions
from .summary import Site, SiteCoverage, by_district, by_street, counts, uncovered

__all__ = ["METHODS", "CoverageResult", "Site", "SiteCoverage", "coverage", "suggestions"]


@dataclass(frozen=True)
class CoverageResult:
    """What coverage() found; body() is the JSON answer of GET /api/v1/coverage."""

    kind: str | None
    program: str | None
    distance_m: float
    detour: float
    population_field: str
    method: str
    sites: list[SiteCoverage]  # the sites reported, in the order given
    facilities: dict | None = None  # 2SFCA: facilities reached, without capacity, capacity

    def body(self) -> dict:
        """The answer: totals, by district, by street, and the uncovered by population."""
        ratio = self.method == "2sfca"
        body = {"kind": self.kind, "program": self.program, "method": self.method,
                "distance_m": self.distance_m, "detour": self.detour,
                "population_field": self.population_field, **counts(self.sites, ratio)}
        if ratio:
            body.update(self.facilities)
        return {**body, "by_district": by_district(self.sites, ratio),
                "by_street": by_street(self.sites, ratio), "uncovered": uncovered(self.sites)}


def coverage(connection, sites: Sequence[Site], kind: str | None = None, program=None, *,
             distance_m: float, detour: float = 1.0, method: str = "distance",
             population_field: str = "population",
             focus: Callable[[Site], bool] | None = None) -> CoverageResult:
    """Which sites lie within distance_m (geodesic x detour) of an active facility of `kind`
    and/or delivering `program` (a catalogue Programme or its delivered_by), each site's
    nearest such facility, and with method="2sfca" each site's two-step floating catchment
    ratio. With `focus`, only the sites it accepts are reported; all of them still count as
    demand in 2SFCA (pass a whole city to measure one district at its edges fairly)."""
    _check(distance_m, detour, method)
    # The rule as geodesic <= distance_m / detour, so that the pairs found need no re-check.
    reach_m = distance_m / detour
    query = selection(kind, program)
    found = reach(connection, query, [s.lat for s in sites], [s.lon for s in sites], reach_m)
    is_covered = found.nearest_m <= reach_m  # NaN (no facility at all) compares False
    walked = found.nearest_m * detour
    ratios, facilities = None, None
    if method == "2sfca":
        ratios, facilities = two_step([s.population for s in sites], found.capacity,
                                      found.site, found.facility)
    reported = [
        SiteCoverage(site, bool(is_covered[index]),
                     None if math.isnan(walked[index]) else round(float(walked[index]), 1),
                     None if ratios is None else float(ratios[index]))
        for index, site in enumerate(sites) if focus is None or focus(site)]
    return CoverageResult(kind, getattr(program, "id", None), distance_m, detour,
                          population_field, method, reported, facilities)

"""Sites, and the counts and shares over them: in all, by district, by street."""

from __future__ import annotations

from dataclasses import dataclass

from ..districts import load_districts


@dataclass(frozen=True)
class Site:
    """A community (or any populated point) as coverage sees it: WGS-84 degrees, and the one
    population figure chosen (None where the community has none)."""

    id: object
    name: str
    district_code: str | None
    street: str | None
    lat: float
    lon: float
    population: int | None = None


@dataclass(frozen=True)
class SiteCoverage:
    """One site's answer: covered, the walked metres to its nearest facility (None: there is
    none), and its 2SFCA ratio (capacity per resident; None unless asked for)."""

    site: Site
    covered: bool
    nearest_m: float | None
    ratio: float | None = None

    def properties(self) -> dict:
        """The site as a GeoJSON feature's properties."""
        site = self.site
        properties = {"id": site.id, "name": site.name, "district": site.district_code,
                      "street": site.street, "population": site.population,
                      "covered": self.covered, "nearest_m": self.nearest_m}
        if self.ratio is not None:
            properties["ratio"] = self.ratio
        return properties


def counts(items: list[SiteCoverage], ratio: bool = False) -> dict:
    """Communities and population, covered and in all, and the shares (null over nothing);
    with `ratio`, the population-weighted mean 2SFCA ratio (null without population)."""
    people = [item for item in items if item.site.population is not None]
    population = sum(item.site.population for item in people)
    covered_population = sum(item.site.population for item in people if item.covered)
    covered = sum(1 for item in items if item.covered)
    body = {"communities": len(items), "covered": covered,
            "share": covered / len(items) if items else None,
            "population": population, "population_covered": covered_population,
            "population_share": covered_population / population if population else None}
    if ratio:
        weighted = sum(item.site.population * item.ratio for item in people)
        body["ratio"] = weighted / population if population else None
    return body


def by_district(items: list[SiteCoverage], ratio: bool = False) -> list[dict]:
    """counts() per district, in the districts' own order; sites without a known one last."""
    districts = load_districts()
    groups = _grouped(items, lambda site: site.district_code)
    return [{"code": code, "name": districts[code].name if code in districts else None,
             "name_en": districts[code].name_en if code in districts else None,
             **counts(members, ratio)}
            for code, members in sorted(groups.items(), key=lambda group: _rank(group[0]))]


def by_street(items: list[SiteCoverage], ratio: bool = False) -> list[dict]:
    """counts() per street of a district, by district then street; sites without one last."""
    groups = _grouped(items, lambda site: (site.district_code, site.street))
    return [{"district": code, "street": street, **counts(members, ratio)}
            for (code, street), members in sorted(
                groups.items(), key=lambda group: (*_rank(group[0][0]),
                                                   group[0][1] is None, group[0][1] or ""))]


def uncovered(items: list[SiteCoverage]) -> list[dict]:
    """The uncovered sites, most populous first, those without a population figure last."""
    left = [item for item in items if not item.covered]
    left.sort(key=lambda item: (item.site.population is None, -(item.site.population or 0)))
    return [{"id": item.site.id, "name": item.site.name, "population": item.site.population,
             "nearest_m": item.nearest_m} for item in left]


def _grouped(items, key) -> dict:
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item.site), []).append(item)
    return groups


def _rank(code: str | None) -> tuple:
    order = {code: index for index, code in enumerate(load_districts())}
    return (order.get(code, len(order)), code or "")

"""Nearest-facility search: one function per backend, sharing the ranking (store.nearest
picks the backend's).

Both backends hand over candidates together with a bound: every facility not among the
candidates is farther than the bound. Ranking measures each candidate's geodesic distance,
keeps those inside `radius_m` (or inside their own service area, for mobile services) that pass
every filter, and is settled once `limit` of them sort strictly before anything beyond the
bound. Order is by distance in metres with one decimal, ties by id, exactly as returned.
"""

from __future__ import annotations

import functools
import json
import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..holidays import current_calendar
from ..hours import is_open
from ..vocabulary import searchable_sql
from ..weekly_slots import open_condition
from .distance import box_around, geodesic_m
from .rtree import CLASS_KINDS, CLASS_STEP, kind_class, services_mask

SEARCHABLE = searchable_sql("f")  # active facilities only (vocabulary.py)
# Spherical distances (PostGIS <->, mean radius) differ from WGS-84 geodesics by under 0.6%.
SPHERE_SLACK = 1.0061


@dataclass(frozen=True)
class NearestQuery:
    """A search around a WGS-84 point; empty filters match everything."""

    lat: float
    lon: float
    radius_m: float = 5000.0
    limit: int = 10
    kinds: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    inclusive: bool | None = None
    has_vacancy: bool = False
    open_at: datetime | None = None


    def delivering(self, delivered_by: dict) -> NearestQuery | None:
        """This search narrowed to the facilities that deliver a programme (its kinds, one
        of its services, 普惠 if it says so); None when no facility can match both."""
        def narrowed(asked: tuple, offered: list) -> tuple:
            return tuple(x for x in offered if not asked or x in asked)

        kinds = narrowed(self.kinds, delivered_by["kinds"])
        services = narrowed(self.services, delivered_by["services"]) or self.services
        if (not kinds or (delivered_by["inclusive"] and self.inclusive is False)
                or (self.services and delivered_by["services"] and not services)):
            return None
        inclusive = True if delivered_by["inclusive"] else self.inclusive
        return replace(self, kinds=kinds, services=services, inclusive=inclusive)

    def admits(self, facility) -> bool:
        """Whether a facility passes the kind, service, 普惠 and vacancy filters, as the SQL
        of _filters tests them (the pages ask this of one facility they already hold)."""
        return ((not self.kinds or facility.kind in self.kinds)
                and (not self.services or bool(set(self.services) & set(facility.services)))
                and (self.inclusive is None or bool(facility.inclusive) == self.inclusive)
                and (not self.has_vacancy or (facility.vacancies or 0) > 0))


def delivers(delivered_by: dict, facility) -> bool:
    """Whether a facility delivers a programme: a search narrowed by delivering() finds it."""
    query = NearestQuery(facility.lat or 0.0, facility.lon or 0.0).delivering(delivered_by)
    return query is not None and query.admits(facility)


@dataclass(frozen=True)
class Hit:
    distance_m: float
    id: uuid.UUID
    # The stored version the search read, (version, seq): what a rendering of the facility
    # made earlier must match to be reused (renderings.py). Not compared.
    stamp: tuple = field(default=(), compare=False)


def _rank(query: NearestQuery, rows, bound: float) -> tuple[list[tuple], bool, int]:
    """Eligible candidates in order, as (distance, id, version, seq) up to the
    limit, whether they are settled given the bound, and how many lie before the bound."""
    # Plain tuples, ids as the driver gives them (SQLite: lowercase hex, which sorts as the
    # UUID does; PostgreSQL: UUID): only the answer's ids become UUIDs.
    ranked = []
    calendar = current_calendar() if query.open_at is not None else None
    for (facility_id, lat, lon, service_radius_m, hours, holiday_rule, closures, version,
         seq) in rows:
        distance = geodesic_m(query.lat, query.lon, lat, lon)
        if distance > query.radius_m and (service_radius_m is None or distance > service_radius_m):
            continue
        # SQL kept only facilities that may be open in the moment's half hour: the exact
        # check rejects just those opening or closing inside it, or shut by a closure.
        if query.open_at is not None and not _open_at(
                hours, holiday_rule, closures, query.open_at, calendar):
            continue
        ranked.append((round(distance, 1), facility_id, version, seq))
    ranked.sort()  # (distance, id) is unique: the stamps are never compared
    beyond = round(bound, 1)
    inside = sum(1 for candidate in ranked if candidate[0] < beyond)
    return ranked[: query.limit], inside >= query.limit or bound >= query.radius_m, inside


def _hits(ranked: list[tuple]) -> list[Hit]:
    """The answer's hits, made once the ranking is settled."""
    return [Hit(distance, facility_id if isinstance(facility_id, uuid.UUID)
                else uuid.UUID(facility_id), (version, seq))
            for distance, facility_id, version, seq in ranked]


def _open_at(hours, holiday_rule: str, closures, moment: datetime, calendar) -> bool:
    """The exact opening-hours check, on the calendar, of one candidate SQL let through."""
    hours = json.loads(hours) if isinstance(hours, str) else hours
    closures = json.loads(closures) if isinstance(closures, str) else closures
    return is_open(hours or [], moment, holiday_rule, closures, calendar)


def _filters(query: NearestQuery, param: str, kinds: bool = True,
             entry: str | None = None, open_blocks: bool = False) -> tuple[str, dict]:
    """SQL conditions on `f` for the filters, with `param` formatting a placeholder name;
    without the kinds when the caller searches kind by kind; services and hours tested on the
    class R*Tree's entry `entry` instead, when given; hours first by the class GiST index's
    open blocks with `open_blocks` (PostgreSQL, migration 0007). inclusive and vacancy are
    written exactly as the class index's integer columns (migration 0005): PostgreSQL would
    fold a boolean comparison away, and GiST takes no bare boolean as an index condition."""
    clauses, params = [], {}
    if kinds and query.kinds:
        names = [f"kind{i}" for i in range(len(query.kinds))]
        params.update(zip(names, query.kinds, strict=True))
        clauses.append(f"f.kind IN ({', '.join(param % n for n in names)})")
    if query.services and entry:
        clauses.append(f"({entry}.services & {services_mask(query.services)}) <> 0")
    elif query.services:
        names = [f"service{i}" for i in range(len(query.services))]
        params.update(zip(names, query.services, strict=True))
        clauses.append("EXISTS (SELECT 1 FROM facility_service s WHERE s.facility_id = f.id "
                       f"AND s.service IN ({', '.join(param % n for n in names)}))")
    if query.inclusive is not None:
        clauses.append(f"CAST(f.inclusive AS integer) = {int(query.inclusive)}")
    if query.has_vacancy:
        clauses.append("CAST(f.vacancies > 0 AS integer) = 1")
    if query.open_at is not None:
        clauses.append(open_condition(query.open_at, entry or "f", current_calendar(),
                                      numbers=open_blocks))
    return "".join(f" AND {clause}" for clause in clauses), params


def _columns(query: NearestQuery) -> str:
    hours = ("f.opening_hours, f.holiday_rule, f.closures" if query.open_at is not None
             else "NULL, NULL, NULL")
    return f"f.id, f.lat, f.lon, f.service_radius_m, {hours}, f.version, f.seq"


def _class_ranges(query: NearestQuery) -> list[dict]:
    """The class R*Tree's ranges for the query's kind, inclusive and vacancy filters, one
    dict per run of consecutive kind values."""
    values = sorted({kind_class(kind) for kind in query.kinds}) or list(
        range(len(CLASS_KINDS) + 1))
    runs, start = [], values[0]
    for previous, value in zip(values, [*values[1:], None], strict=True):
        if value != previous + 1:
            runs.append((start, previous))
            start = value
    inclusive = (0, 1) if query.inclusive is None else (int(query.inclusive),) * 2
    vacant = (1, 1) if query.has_vacancy else (0, 1)
    # Entries span [v*STEP, v*STEP + 1]: half a unit inside keeps float32 rounding harmless.
    return [{name: bound * CLASS_STEP + 0.5 for name, bound in (
        ("kind_lo", lo), ("kind_hi", hi), ("inclusive_lo", inclusive[0]),
        ("inclusive_hi", inclusive[1]), ("vacant_lo", vacant[0]), ("vacant_hi", vacant[1]))}
        for lo, hi in runs]


def _plain(query: NearestQuery) -> bool:
    """No filter beyond the radius and limit: the plain index, the same statement each time."""
    return not (query.kinds or query.services or query.has_vacancy
                or query.inclusive is not None or query.open_at is not None)


@functools.cache
def _sqlite_plain() -> tuple[str, list[dict]]:
    """The unfiltered search's statement, built once (it does not depend on the point)."""
    plain = NearestQuery(0.0, 0.0)
    return sqlite_box_statement(plain, _columns(plain))


def sqlite_box_statement(query: NearestQuery, columns: str) -> tuple[str, list[dict]]:
    """SELECT `columns` of the facilities passing the query's filters whose R*Tree entry meets
    the box :south, :north, :west, :east (no antimeridian crossing), and the parameters of each
    probe to run it with (one per run of kind classes)."""
    box = ("r.max_lat >= :south AND r.min_lat <= :north "
           "AND r.max_lon >= :west AND r.min_lon <= :east")
    if _plain(query):
        conditions, params = _filters(query, ":%s")
        tree, probes = "facility_rtree", [params]
    else:
        conditions, params = _filters(query, ":%s", entry="r")
        tree, probes = "facility_class_rtree", [{**params, **run} for run in _class_ranges(query)]
        box += "".join(f" AND r.max_{dim} >= :{dim}_lo AND r.min_{dim} <= :{dim}_hi"
                       for dim in ("kind", "inclusive", "vacant"))
    # CROSS JOIN: SQLite's planner must start from the R*Tree, whatever the filters; the
    # conditions on the entry are tested before its facility row is read.
    return (f"SELECT {columns} FROM {tree} r CROSS JOIN facility f ON f.seq = r.id "
            f"WHERE {box}{conditions}"), probes


def probe_box(cursor, sql: str, probes: list[dict], box: tuple) -> list[tuple]:
    """The rows of `sql` (a sqlite_box_statement, or any on :south, :north, :west, :east) run
    with each probe's parameters over the box (south, north, west, east), read as two spans
    where the box crosses the antimeridian (west > east): a row in both spans comes twice."""
    south, north, west, east = box
    spans = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
    rows = []
    for probe in probes:
        for span_west, span_east in spans:
            cursor.execute(sql, {**probe, "south": south, "north": north,
                                 "west": span_west, "east": span_east})
            rows += cursor.fetchall()
    return rows


def sqlite_nearest(cursor, query: NearestQuery) -> list[Hit]:
    """R*Tree boxes that grow until the nearest `limit` are certain, then exact distances.

    A filtered search reads the class R*Tree: only the entries of the classes it asks for,
    its services and hours tested on the entry, so that only the survivors join their
    facility row, however far the box grows."""
    sql, probes = (_sqlite_plain() if _plain(query)
                   else sqlite_box_statement(query, _columns(query)))
    reach = DENSITIES.first_reach(query)
    while True:
        rows = probe_box(cursor, sql, probes, box_around(query.lat, query.lon, reach))
        ranked, settled, inside = _rank(query, rows, reach)
        if settled:
            DENSITIES.learn(query, reach, inside)
            return _hits(ranked)
        # Facilities per area are roughly even at this scale: aim at `limit` next time.
        found = max(1, min(inside, query.limit))
        reach = min(query.radius_m, reach * max(1.5, 1.1 * math.sqrt(query.limit / found)))


class Densities:
    """How many facilities searches found per square metre, learnt per cell and per filter:
    where the next search near there starts its box (SQLite). A hint only: however wrong, the
    box still grows until the answer is certain; right, one probe of about EXPECTED times
    `limit` facilities settles most searches instead of two or three from a fixed kilometre.

    Cells of 0.05 degrees (about 5 km) where searches have been, else the 0.5 degree cell
    around them, else FIRST_REACH_M. Each worker learns its own; when too many cells are held
    all are forgotten."""

    CELL_DEGREES = (0.05, 0.5)  # finest first
    MAX_CELLS = 20_000
    EXPECTED = 1.6  # Poisson: under 5% of first probes then find fewer than 10 of 16
    FIRST_REACH_M = 1000.0  # before anything is learnt near there
    MIN_REACH_M = 50.0

    def __init__(self) -> None:
        self._cells: dict[tuple, float] = {}

    def _keys(self, query: NearestQuery) -> list[tuple]:
        filters = (query.kinds, query.services, query.inclusive, query.has_vacancy,
                   query.open_at is not None)
        return [(size, round(query.lat / size), round(query.lon / size), filters)
                for size in self.CELL_DEGREES]

    def first_reach(self, query: NearestQuery) -> float:
        cells = self._cells
        density = next((cells[key] for key in self._keys(query) if key in cells), None)
        if density is None:
            return min(query.radius_m, self.FIRST_REACH_M)
        if density <= 0.0:
            return query.radius_m
        wanted = math.sqrt(self.EXPECTED * query.limit / (math.pi * density))
        return min(query.radius_m, max(self.MIN_REACH_M, wanted))

    def learn(self, query: NearestQuery, reach: float, inside: int) -> None:
        """A settled search: `inside` eligible facilities before `reach` metres."""
        cells, density = self._cells, inside / (math.pi * reach * reach)
        if len(cells) >= self.MAX_CELLS:
            cells.clear()
        for key in self._keys(query):
            before = cells.get(key)
            cells[key] = density if before is None else (before + density) / 2


DENSITIES = Densities()


def _postgis_plain() -> tuple[str, dict, bool | None]:
    """The unfiltered search: _postgis_statement's for no filters, as a function that plans it
    once per connection (migration 0013: PostgreSQL re-planned the prepared statement on every
    run)."""
    return PLAIN_FUNCTION, {}, True


PLAIN_FUNCTION = ("SELECT * FROM facility_nearest_candidates(%(lon)s, %(lat)s, %(reach)s, "
                  "%(fetch)s::integer)")


def kind_branches(kinds: tuple[str, ...], params: dict) -> list[str]:
    """The condition of each branch of a PostGIS statement asked for these kinds, one branch
    per kind (an equality the class index answers), or one unconditioned branch for none; each
    kind goes into `params` as branch_kind<N>."""
    if not kinds:
        return [""]
    params.update((f"branch_kind{index}", kind) for index, kind in enumerate(kinds))
    return [f" AND f.kind = %(branch_kind{index})s" for index in range(len(kinds))]


def _postgis_statement(query: NearestQuery) -> tuple[str, dict, bool | None]:
    """The KNN branches' SQL, their parameters but the point's, and how to prepare it."""
    conditions, params = _filters(query, "%%(%s)s", kinds=False, open_blocks=True)
    point = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
    branches = []
    for index, this_kind in enumerate(kind_branches(query.kinds, params)):
        branches.append(
            f"(SELECT {_columns(query)}, f.geog <-> {point}::geography, {index} FROM facility f "
            f"WHERE {SEARCHABLE} AND f.geog && _ST_Expand({point}::geography, %(reach)s)"
            f"{this_kind}{conditions} ORDER BY f.geog <-> {point}::geography "
            "LIMIT %(fetch)s)")
    kinds, kind_params = _filters(NearestQuery(0, 0, kinds=query.kinds), "%%(%s)s")
    params.update(kind_params)
    # Mobile services whose service area (a box around it) holds the resident: hours as
    # masks, or the planner takes the class index for its slot numbers over the coverage one.
    on_row, _params = _filters(query, "%%(%s)s", kinds=False)
    branches.append(f"(SELECT {_columns(query)}, NULL, -1 FROM facility f WHERE "
                    f"{SEARCHABLE} AND f.coverage && {point}{kinds}{on_row})")
    sql = " UNION ALL ".join(branches)
    # psycopg prepares a statement run five times, and PostgreSQL then plans it once for any
    # values: a filtered search's generic plan reads the plain geog index and filters (10x
    # slower); planned with its values, it reads the class index.
    prepare = None if conditions == "" and not query.kinds else False
    return sql, params, prepare


def postgis_nearest(cursor, query: NearestQuery) -> list[Hit]:
    """GiST KNN (`<->`, spherical) within the radius, re-ranked by geodesic distance.

    Every filter is in the KNN query. With kinds, one KNN branch per kind, each an equality
    the class index (kind, inclusive, has a vacancy, open half hours, geog) answers in
    distance order; without filters the planner keeps the plain geog index. The radius is
    the index's own box test (`&&` the point's box grown by `reach`), which ranking then
    narrows to the circle: with ST_DWithin the planner guesses a few dozen rows inside any
    radius and, for a wide one, sorts the whole box instead of reading the index in distance
    order."""
    sql, params, prepare = _postgis_plain() if _plain(query) else _postgis_statement(query)
    # A couple beyond `limit`: the k-th geodesic must fall below the last spherical distance
    # over the slack, or the loop asks again for more (as when the exact hours check rejects
    # some of those SQL found open in the half hour).
    fetch = query.limit + 2
    params = {**params, "lat": query.lat, "lon": query.lon,
              "reach": query.radius_m * SPHERE_SLACK + 1.0}
    while True:
        cursor.execute(sql, {**params, "fetch": fetch}, prepare=prepare)
        rows = cursor.fetchall()
        # Each KNN branch that gave `fetch` rows vouches only up to its farthest one.
        counts, farthest = {}, {}
        for row in rows:
            if row[10] >= 0:
                counts[row[10]] = counts.get(row[10], 0) + 1
                farthest[row[10]] = max(farthest.get(row[10], 0.0), row[9])
        full = [farthest[branch] for branch, count in counts.items() if count >= fetch]
        bound = min(full) / SPHERE_SLACK if full else math.inf
        unique = {row[0]: row[:9] for row in rows}.values()  # a mobile service may be in both
        ranked, settled, _inside = _rank(query, unique, bound)
        if settled:
            return _hits(ranked)
        fetch *= 4


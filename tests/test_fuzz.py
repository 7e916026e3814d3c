"""Fuzzing: schemathesis drives every operation of /api/openapi.json through the WSGI app.

Every response must be free of 5xx and match the OpenAPI document: a documented status code,
a documented content type and a body valid against the documented schema. Each operation gets a
bounded, derandomised number of generated requests (valid ones and, for the negative half,
ones that break the schema), so the run is the same every time and fits in CI. Runs on both
backends through the `app` fixture.

Operations that need a key are fuzzed twice: anonymously (401, documented by the default
problem response) and with an admin key, so bodies reach validation, the database and the audit
log. Path
ids are generated at random and also pinned to facilities that exist, so GET, PATCH and DELETE
reach a real row rather than only 404.
"""

from __future__ import annotations

import collections
import os

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Generated requests per operation and generation mode; raise it locally for a deeper run.
MAX_EXAMPLES = int(os.environ.get("SERVICEMAP_FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

FACILITY = {
    "name": "北碚区天生街道养老服务中心", "kind": "elder_care_center", "services": ["meals"],
    "district": "500109", "location": {"lat": 29.8257, "lon": 106.437},
    "opening_hours": [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}],
}

# Realistic bodies for create and import (generated ones rarely name a real district or kind);
# the second has neither address nor location, so it is refused with a 422 and a report.
VALID_BODIES = [
    FACILITY,
    {"name": "缙云社区养老服务站", "kind": "elder_care_station", "district": "北碚区"},
    {"name": "托育园", "kind": "nursery", "location": {"lat": 29.56, "lon": 106.55,
                                                       "coordsys": "gcj02"}, "capacity": 30},
]


COMMUNITY = {"name": "中山路社区", "location": {"lat": 29.8257, "lon": 106.437},
             "population": 12000, "population_60_plus": 3000}
COMMUNITY_BODIES = [COMMUNITY, {"name": "解放碑路社区", "district": "500103",
                                "location": {"lat": 29.5572, "lon": 106.5773}}]


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]  # .ok(): raises if invalid


def _keyed(operation) -> bool:
    """Whether the operation documents that it needs an API key."""
    return bool(operation.definition.raw.get("security"))


def _order(operation) -> tuple:
    # DELETE last, so the other operations still see the pinned facilities.
    return (operation.method.upper() == "DELETE", operation.path, operation.method)


def _seed(client, admin) -> dict[str, list[str]]:
    """Two facilities (one for PATCH, one for DELETE); the ids of what exists, by parameter."""
    ids = [client.post("/api/v1/facilities", json={**FACILITY, "name": f"{FACILITY['name']}{n}"},
                       headers=admin).get_json()["id"] for n in range(2)]

    def hsds_ids(path: str) -> list[str]:
        return [item["id"] for item in client.get(f"/api/v1/hsds/{path}").get_json()["contents"]]

    communities = [client.post("/api/v1/communities", headers=admin, json={
        **COMMUNITY, "name": f"{COMMUNITY['name']}{n}"}).get_json()["id"] for n in range(2)]
    return {
        "facility_id": ids,
        "community_id": communities,
        "service_id": hsds_ids("services"),
        "organization_id": hsds_ids("organizations"),
        "service_at_location_id": hsds_ids("service_at_locations"),
        "taxonomy_id": hsds_ids("taxonomies"),
        "term_id": hsds_ids("taxonomy_terms")[:3],
        "program_id": [p["id"] for p in client.get("/api/v1/programs").get_json()["items"][:3]],
    }


def _strategy(operation, pinned: dict[str, list[str]]):
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    names = [p.name for p in operation.path_parameters]
    if names and all(pinned.get(name) for name in names):
        strategies += [
            st.fixed_dictionaries({name: st.sampled_from(pinned[name]) for name in names})
            .flatmap(lambda path: operation.as_strategy(path_parameters=path))
        ]
    if operation.label == "POST /api/v1/facilities":  # also bodies that pass validation
        strategies.append(st.sampled_from(VALID_BODIES).flatmap(
            lambda body: operation.as_strategy(body=body)))
    if operation.label == "POST /api/v1/communities":
        strategies.append(st.sampled_from(COMMUNITY_BODIES).flatmap(
            lambda body: operation.as_strategy(body=body)))
    if operation.label == "POST /api/v1/imports":  # and files that can be imported
        strategies.append(st.sampled_from(VALID_BODIES).flatmap(
            lambda body: operation.as_strategy(body=[{**body, "name": body["name"] + "（导入）"}],
                                               media_type="application/json")))
    return st.one_of(strategies)


def _fuzz(operation, strategy, headers: dict[str, str], statuses: collections.Counter
          ) -> list[str]:
    """Run the operation's examples: its first failure as a message, or nothing."""

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              print_blob=False)
    @given(case=strategy)
    def run(case):
        # Identity: schemathesis's WSGI transport hands compressed bodies over undecoded
        # (tests/test_caching.py checks the compressed answers).
        response = case.call(headers={"Accept-Encoding": "identity", **headers})
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except BaseExceptionGroup as exc:  # schemathesis's FailureGroup: report, go on to the next
        who = "admin" if headers else "anonymous"
        return [f"{operation.label} ({who}): {exc}"]
    return []


def test_every_operation_answers_as_documented(app, admin):
    client = app.test_client()
    pinned = _seed(client, admin)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = sorted(_operations(schema), key=_order)
    assert len(operations) >= 25, [op.label for op in operations]
    keyed = [op for op in operations if _keyed(op)]
    assert {op.label for op in keyed} >= {
        "POST /api/v1/facilities", "PATCH /api/v1/facilities/{facility_id}",
        "DELETE /api/v1/facilities/{facility_id}", "POST /api/v1/imports", "GET /api/v1/audit",
    }

    failures: list[str] = []
    for operation in operations:
        failures += _fuzz(operation, _strategy(operation, pinned), {}, collections.Counter())
    for operation in keyed:  # again, past the key check
        statuses = collections.Counter()
        failures += _fuzz(operation, _strategy(operation, pinned), admin, statuses)
        # The admin run got past the key check into the operation itself.
        assert any(200 <= status < 300 for status in statuses), (operation.label, statuses)
    assert not failures, "\n\n".join(failures[:20]) + f"\n\n{len(failures)} failure(s) in all"

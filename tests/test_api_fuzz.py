"""A property-based fuzz of the OpenAPI document: generated requests, valid and not, to every
operation; none may get a 5xx, and every failure has the one error shape. Bounded by a fixed
number of examples per operation. The two streaming operations are left out (a live stream does
not end for the fuzzer); they are tested over real HTTP in test_api_sse.py."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from hil.server.app import create_app
from hil.services.runs import RunService
from hil.store import Store
from hil.workflows import Workflow
from tests.helpers import apply_workflow

EXAMPLES_PER_OPERATION = 25


def check(case: Any, statuses: list[int]) -> None:
    response = case.call()
    statuses.append(response.status_code)
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), (where, body)


def test_no_generated_request_gets_a_server_error(sqlite_store: Store) -> None:
    service = RunService(sqlite_store, "default")
    apply_workflow(service.store, Workflow.model_validate({"name": "fleet", "steps": ["rag"], "knowledge": [{"name": "docs"}]}))
    service.create_run("fleet", "How many vehicles?")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(sqlite_store, workers=0))
    operations = [r.ok() for r in schema.exclude(path_regex=r"/events$").get_all_operations()]
    assert len(operations) >= 25
    statuses: list[int] = []
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def fuzz(case: Any) -> None:
                check(case, statuses)

            try:
                fuzz()
            except Unsatisfiable:  # an operation without inputs has no invalid request to make
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
    assert len(statuses) > 10 * len(operations)
    assert {200, 201, 404, 422} <= set(statuses), sorted(set(statuses))

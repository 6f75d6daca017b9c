"""Tenancy is not a convention: a repository or service is built for one tenant, or across tenants
only where that is asked for by name (ALL_TENANTS) and allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hil.services import ALL_TENANTS, Store
from hil.services.connections import ConnectionService
from hil.services.examples import ExampleService
from hil.services.knowledge import KnowledgeService
from hil.services.runs import RunService
from hil.services.workflows import WorkflowService
from hil.store.connection_repo import ConnectionRepo
from hil.store.example_repo import ExampleRepo
from hil.store.run_repo import RunRepo
from hil.store.workflow_repo import WorkflowRepo
from hil.workflows import Workflow
from tests.helpers import apply_workflow

SRC = Path(__file__).resolve().parents[1] / "src" / "hil"
# The only places that work across tenants: the workers (and what they drive), approval expiry,
# the event hub and the readiness probe.
CROSS_TENANT_CALLERS = {"engine/runner.py", "engine/worker.py", "server/app.py", "server/hub.py"}


@pytest.mark.parametrize("cls", [RunRepo, WorkflowRepo, ExampleRepo, ConnectionRepo, RunService, WorkflowService,
                                 ConnectionService, ExampleService])
def test_no_tenant_is_refused(sqlite_store: Store, cls: type) -> None:
    with pytest.raises(TypeError):
        cls(sqlite_store)
    for missing in (None, ""):
        with pytest.raises(ValueError, match="needs a tenant"):
            cls(sqlite_store, missing)


@pytest.mark.parametrize("cls", [ExampleRepo, ConnectionRepo, WorkflowService, ConnectionService, ExampleService])
def test_across_tenants_only_where_allowed(sqlite_store: Store, cls: type) -> None:
    with pytest.raises(ValueError, match="works within one tenant"):
        cls(sqlite_store, ALL_TENANTS)


def test_run_repo_across_tenants_is_explicit_and_creates_nothing(sqlite_store: Store) -> None:
    repo = RunRepo(sqlite_store, ALL_TENANTS)
    assert repo.tenant is None
    with pytest.raises(ValueError, match="cannot create rows"):
        _ = repo.owner


def test_a_tenant_sees_only_its_own_runs(sqlite_store: Store) -> None:
    wf = Workflow.model_validate({"name": "docs", "steps": ["rag"], "knowledge": [{"name": "d"}]})
    apply_workflow(sqlite_store, wf)
    WorkflowService(sqlite_store, "other").apply(wf)
    mine = RunService(sqlite_store, "default").create_run("docs", "q1")
    theirs = RunService(sqlite_store, "other").create_run("docs", "q2")
    assert [r.id for r in RunService(sqlite_store, "default").list_runs()] == [mine]
    assert {r.id for r in RunService(sqlite_store, ALL_TENANTS).list_runs()} == {mine, theirs}
    with pytest.raises(Exception, match="unknown run"):
        RunService(sqlite_store, "default").get(theirs)
    assert KnowledgeService(sqlite_store, "other").collections() == []


def test_cross_tenant_paths_are_the_known_ones() -> None:
    """A new ALL_TENANTS call site must be added here on purpose, with a reason."""
    callers = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
               if re.search(r"\bALL_TENANTS\)", p.read_text(encoding="utf-8"))}
    assert callers == CROSS_TENANT_CALLERS

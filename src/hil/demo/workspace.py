"""Prepare the demo workspace under ``$HIL_HOME/demo``: database, documents, workflow. Idempotent."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hil import settings
from hil.demo.generate import generate
from hil.services import DEFAULT_TENANT, Store
from hil.services.connections import ConnectionService
from hil.services.knowledge import KnowledgeService
from hil.services.workflows import WorkflowService

PACKAGE_DIR = Path(__file__).parent


@dataclass
class DemoWorkspace:
    path: Path
    database: Path
    workflow_file: Path
    workflow_version: int
    created_database: bool
    row_counts: dict[str, int] | None


def prepare(store: Store, say: Callable[[str], None] = lambda _m: None, tenant: str = DEFAULT_TENANT) -> DemoWorkspace:
    root = settings.home() / "demo"
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for doc in sorted((PACKAGE_DIR / "docs").glob("*.md")):
        target = docs / doc.name
        if not target.exists() or target.read_bytes() != doc.read_bytes():
            shutil.copyfile(doc, target)
    database = root / "fleet.duckdb"
    counts = None
    if not database.exists():
        say("generating the fleet database (a few hundred thousand rows)...")
        counts = generate(database)
    wf_file = root / "fleet-health.yaml"
    shutil.copyfile(PACKAGE_DIR / "fleet-health.yaml", wf_file)
    workflows = WorkflowService(store, tenant)
    workflow = workflows.load_file(wf_file)
    stored, _changed = workflows.apply(workflow)
    knowledge = KnowledgeService(store, tenant)
    for source in workflow.knowledge:  # indexed and embedded now, so the first question does not wait
        report = knowledge.add(source.name, source.paths)
        if report.count("indexed"):
            say(f"indexed {report.count('indexed')} documents into the {source.name} collection")
        for failure in report.failed:
            say(f"could not index {failure.source}: {failure.reason}")
    # the demo database is also a named connection, for `hil sql fleet "SELECT ..."`
    ConnectionService(store, tenant).add(workflow.connection(), replace=True)
    return DemoWorkspace(root, database, wf_file, stored.version, counts is not None, counts)


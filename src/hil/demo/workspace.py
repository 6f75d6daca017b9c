"""Prepare the demo workspace under ``$HIL_HOME/demo``: database, documents, workflow. Idempotent."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hil import settings
from hil.demo.generate import generate
from hil.engine.service import RunService
from hil.knowledge import KnowledgeService
from hil.store.connection_repo import ConnectionRepo
from hil.store.db import Store
from hil.workflows import load_workflow_file

PACKAGE_DIR = Path(__file__).parent


@dataclass
class DemoWorkspace:
    path: Path
    database: Path
    workflow_file: Path
    workflow_version: int
    created_database: bool
    row_counts: dict[str, int] | None


def prepare(store: Store, say: Callable[[str], None] = lambda _m: None) -> DemoWorkspace:
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
    workflow = load_workflow_file(wf_file)
    stored, _changed = RunService(store).apply_workflow(workflow)
    knowledge = KnowledgeService(store)
    for source in workflow.knowledge:  # indexed and embedded now, so the first question does not wait
        report = knowledge.add(source.name, source.paths)
        if report.count("indexed"):
            say(f"indexed {report.count('indexed')} documents into the {source.name} collection")
        for failure in report.failed:
            say(f"could not index {failure.source}: {failure.reason}")
    # the demo database is also a named connection, for `hil sql fleet "SELECT ..."`
    ConnectionRepo(store).add(workflow.connection(), replace=True)
    return DemoWorkspace(root, database, wf_file, stored.version, counts is not None, counts)


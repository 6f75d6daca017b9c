"""Prepare the demo workspace under ``$HIL_HOME/demo``: database, documents, workflow. Idempotent."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hil import settings
from hil.demo.generate import generate
from hil.demo.signals import DBC_FILE, generate_signals
from hil.services import DEFAULT_TENANT, Store
from hil.services.agents import catalogue
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
    signals_workflow_version: int | None = None  # fleet-signals, applied when its plug-ins are installed


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
    signals = _prepare_signals(store, root, say, tenant)
    return DemoWorkspace(root, database, wf_file, stored.version, counts is not None, counts, signals)


SIGNAL_PLUGINS = {"can_decoder": "examples/can-decoder", "anomaly_scorer": "examples/anomaly-scorer"}


def _prepare_signals(store: Store, root: Path, say: Callable[[str], None], tenant: str) -> int | None:
    """The signal database (raw CAN frames, telemetry) and the DBC file; the fleet-signals workflow
    too when the plug-ins it uses are installed."""
    database = root / "signals.duckdb"
    if not database.exists():
        say("generating the signal database (CAN frames, telemetry)...")
        generate_signals(database)
    dbc = root / DBC_FILE.name
    if not dbc.exists() or dbc.read_bytes() != DBC_FILE.read_bytes():
        shutil.copyfile(DBC_FILE, dbc)
    installed = {a["name"] for a in catalogue() if a.get("source") == "plug-in"}
    if missing := [path for name, path in SIGNAL_PLUGINS.items() if name not in installed]:
        say(f"the fleet-signals workflow needs plug-ins that are not installed: pip install {' '.join(missing)}")
        return None
    wf_file = root / "fleet-signals.yaml"
    shutil.copyfile(PACKAGE_DIR / "fleet-signals.yaml", wf_file)
    workflows = WorkflowService(store, tenant)
    stored, _changed = workflows.apply(workflows.load_file(wf_file))
    return stored.version


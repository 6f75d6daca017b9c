"""Plug-in agents: discovered through the ``hil.agents`` entry-point group of an installed
distribution, listed with where they came from, their settings validated by the workflow service,
their actions gated (``plugin:NAME/KIND``, default deny unless their own gates say otherwise),
and proposed by the planner only where the workflow's tables have what they need."""

from __future__ import annotations

import sqlite3
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from hil.agents import registry
from hil.engine.worker import Worker
from hil.errors import WorkflowInvalid
from hil.events import EventType
from hil.services import Store
from hil.services.agents import catalogue
from hil.services.runs import RunService
from hil.services.workflows import WorkflowService
from hil.workflows import Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow

PLUGIN = '''
from typing import Any
from pydantic import BaseModel
from hil.agents.base import Agent, Draft, StepContext, TableNeed
from hil.agents.plugin_api import matching_tables, read, settings_of


class Settings(BaseModel):
    threshold: float = 2.0


class OdometerCheck(Agent):
    name = "odometer_check"
    description = "Flags vehicles whose odometer reading went backwards."
    needs = (TableNeed("odometer readings", ("vehicle_id", "odometer_km")),)
    settings_model = Settings

    def draft(self, ctx: StepContext, feedback: Any) -> Draft:
        return Draft("flag", "plan.drafted", {"note": "flag vehicles"}, "flag vehicles", needs_approval=False)

    def execute(self, ctx: StepContext, content: dict[str, Any] | None) -> dict[str, Any]:
        [(cfg, table)] = matching_tables(ctx, self.needs[0])
        rows = read(ctx, cfg, f"SELECT vehicle_id, max(odometer_km) FROM {table.name} GROUP BY vehicle_id").rows
        limit = settings_of(ctx, Settings).threshold
        return {"text": f"{len(rows)} vehicles checked (threshold {limit})",
                "table": {"columns": ["vehicle_id", "max_km"], "rows": [list(r) for r in rows]}}


class Broken(Agent):
    name = "odometer_check"
'''


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    """A distribution on sys.path with two entry points: a working plug-in and one whose module is missing."""
    (tmp_path / "odometer_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "odometer_plugin-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: odometer-plugin\nVersion: 1.2.0\n")
    (info / "entry_points.txt").write_text("[hil.agents]\nodometer_check = odometer_plugin:OdometerCheck\n"
                                           "missing = no_such_module:Agent\n")
    sys.path.insert(0, str(tmp_path))
    registry.rediscover()
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("odometer_plugin", None)
    registry.rediscover()


@pytest.fixture
def odometer_db(tmp_path: Path) -> Path:
    db = tmp_path / "fleet.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE readings (vehicle_id TEXT, odometer_km REAL, read_at TEXT)")
        conn.executemany("INSERT INTO readings VALUES (?, ?, ?)", [("VH-1", 100, "2026-01-01"),
                                                                   ("VH-2", 90, "2026-01-01")])
        conn.execute("CREATE TABLE depots (name TEXT)")
    return db


def test_an_installed_plugin_is_listed_with_its_package_and_a_broken_one_with_its_reason(installed: Path) -> None:
    found = {a["name"]: a for a in catalogue()}
    plugin = found["odometer_check"]
    assert (plugin["source"], plugin["package"]) == ("plug-in", "odometer-plugin 1.2.0")
    assert plugin["needs"] == [{"what": "odometer readings", "columns": ["vehicle_id", "odometer_km"]}]
    assert "threshold" in plugin["settings"]["properties"]
    assert found["missing"]["source"] == "broken" and "No module named 'no_such_module'" in found["missing"]["error"]
    assert found["sql"]["source"] == "built-in"


def test_plugin_settings_are_validated_by_the_plugin(installed: Path, odometer_db: Path) -> None:
    base = {"name": "w", "steps": ["odometer_check"], "connections": [{"name": "fleet", "engine": "sqlite",
                                                                       "path": str(odometer_db)}]}
    assert WorkflowService.validate({**base, "agents": {"odometer_check": {"threshold": 3}}}).agents
    with pytest.raises(WorkflowInvalid) as caught:
        WorkflowService.validate({**base, "agents": {"odometer_check": {"threshold": "high"}, "sql": {}}})
    locs = {e["loc"] for e in caught.value.details["errors"]}
    assert locs == {"agents.odometer_check.threshold", "agents.sql"}


def test_the_planner_is_told_where_a_plugin_can_run_and_its_action_waits_by_default(
        installed: Path, odometer_db: Path, sqlite_store: Store, script: Script, tmp_path: Path) -> None:
    script.responses["plan"] = {"steps": [{"agent": "odometer_check", "purpose": "the readings table has "
                                                                                 "odometer readings"}]}
    script.responses["answer"] = "VH-1 reached 100 km and VH-2 reached 95 km."
    apply_workflow(sqlite_store, Workflow.model_validate({
        "name": "odo", "steps": ["sql", "odometer_check"], "approval": {"plan": False},
        "connections": [{"name": "fleet", "engine": "sqlite", "path": str(odometer_db)}]}))
    service = RunService(sqlite_store, "default")
    run_id = service.create_run("odo", "Did any odometer go backwards?")
    worker = Worker(sqlite_store, model="scripted:test")
    worker.run_once(run_id)
    [prompt] = script.prompts("plan")
    assert "- odometer_check: Flags vehicles whose odometer reading went backwards." in prompt
    assert "available: readings in fleet (vehicle_id, odometer_km, read_at)" in prompt
    [approval] = service.pending_approvals(run_id)  # its own action: nobody waived it, so it waits
    assert approval.kind == "flag"
    decided = [e.payload for e in service.events(run_id) if e.type == EventType.POLICY_DECIDED][-1]
    assert (decided["action"], decided["rule"]) == ("plugin:odometer_check/flag", "default-deny")
    service.decide(approval.id, "approve", content_hash_seen=approval.content_hash)
    worker.run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    answer_prompt = script.prompts("answer")[0]
    assert "2 vehicles checked (threshold 2.0)" in answer_prompt
    assert "vehicle_id | max_km" in answer_prompt and "VH-2 | 90" in answer_prompt  # its table, fenced as data
    [final] = [e.payload for e in service.events(run_id) if e.type == EventType.ANSWER_FINAL]
    assert "100" in final["verified_numbers"]  # a number from the plug-in's table is evidence
    assert "95" in final["unverified_numbers"] or "95" in final.get("marked_numbers", [])


def test_a_workflow_without_the_data_tells_the_planner_not_to_use_it(installed: Path, tmp_path: Path,
                                                                     sqlite_store: Store, script: Script) -> None:
    empty = tmp_path / "empty.sqlite"
    with sqlite3.connect(empty) as conn:
        conn.execute("CREATE TABLE depots (name TEXT)")
    apply_workflow(sqlite_store, Workflow.model_validate({
        "name": "odo", "steps": ["sql", "odometer_check"],
        "connections": [{"name": "fleet", "engine": "sqlite", "path": str(empty)}]}))
    service = RunService(sqlite_store, "default")
    run_id = service.create_run("odo", "Did any odometer go backwards?")
    Worker(sqlite_store, model="scripted:test").run_once(run_id)
    assert "this workflow's data has none, so do not use it" in script.prompts("plan")[0]

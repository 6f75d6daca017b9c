"""Shared fixtures: a temporary HIL_HOME, a real SQLite store and a real PostgreSQL server,
a scripted model, and a small fleet workspace (real DuckDB file, real documents)."""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hil.models import scripted
from hil.store import Store, open_store
from tests.pg import PostgresServer, pgvector_bin

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def hil_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    # the assembled local model stays where `make setup` put it, whatever HIL_HOME a test uses
    models = os.environ.get("HIL_MODELS_DIR") or str(Path(os.environ.get("HIL_HOME", "~/.hil")).expanduser() / "models")
    monkeypatch.setenv("HIL_MODELS_DIR", models)
    monkeypatch.setenv("HIL_HOME", str(home))
    monkeypatch.delenv("HIL_DATABASE_URL", raising=False)
    monkeypatch.delenv("HIL_MODEL", raising=False)
    # a real offline embedder that embeds thousands of texts a second; tests of the default set their own
    monkeypatch.setenv("HIL_EMBEDDER", "wordllama")
    # one SQL draft per step, so a scripted sequence of drafts means what it says; the candidate
    # tests (test_sql_candidates.py) set their own
    monkeypatch.setenv("HIL_SQL_CANDIDATES", "1")
    # workflows may name the scripted test models (refused outside test mode; see test_security.py)
    monkeypatch.setenv("HIL_TEST_MODE", "1")
    return home


@pytest.fixture(autouse=True)
def documented_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every event a test's runs append carries only payload fields that docs/events.md documents
    (hil.events.PAYLOADS); types a test makes up itself are left alone."""
    from hil.events import PAYLOADS
    from hil.store.run_repo import RunRepo

    undocumented: set[tuple[str, str]] = set()
    append_many = RunRepo.append_many  # every append goes through it

    def checked(self: RunRepo, conn: Any, run_id: str, items: list[tuple[str, dict[str, Any], Any, Any]],
                *args: Any, **kwargs: Any) -> Any:
        for type, payload, _step, _agent in items:
            doc = PAYLOADS.get(str(type))
            if doc is not None:
                undocumented.update((str(type), k) for k in payload or {} if k not in doc.fields)
        return append_many(self, conn, run_id, items, *args, **kwargs)

    monkeypatch.setattr(RunRepo, "append_many", checked)
    yield
    assert not undocumented, f"event payload fields missing from hil.events.PAYLOADS: {sorted(undocumented)}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pgvector_server() -> Iterator[PostgresServer]:
    server = PostgresServer(pgvector_bin()).start()
    yield server
    server.stop()


_db_counter = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, hil_home: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{hil_home / 'hil.db'}")
    else:
        pg: PostgresServer = request.getfixturevalue("postgres")
        s = open_store(pg.create_database(f"t{next(_db_counter)}"))
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(hil_home: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{hil_home / 'hil.db'}")
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def fleet_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import datetime as dt

    from hil.demo.generate import generate

    path = tmp_path_factory.mktemp("fleet") / "fleet.duckdb"
    generate(path, seed=7, anchor=dt.date(2026, 11, 1))
    return path


@pytest.fixture
def workspace(tmp_path: Path, fleet_db: Path) -> Path:
    """A workflow file next to a fleet database and two documents."""
    docs = tmp_path / "ws" / "docs"
    docs.mkdir(parents=True)
    (docs / "cooling.md").write_text(
        "# Cooling System Manual\n\n## Overheating\n\nWhen a vehicle overheats, check the coolant level first, "
        "with the engine cold. Then pressure-test the radiator cap.\n\n## Thermostat\n\nA stuck thermostat "
        "raises coolant temperature.\n")
    (docs / "policy.md").write_text("# Safety Policy\n\n## Critical codes\n\nA vehicle with a critical code is "
                                    "taken out of service.\n")
    wf = tmp_path / "ws" / "fleet.yaml"
    wf.write_text(f"""
name: fleet
persona: {{name: Analyst}}
knowledge: [{{name: docs, paths: [docs]}}]
connections: [{{name: fleet, engine: duckdb, path: {fleet_db}}}]
steps: [sql, rag]
""")
    return wf


class Script:
    """A scripted model that records every prompt it saw. Responses by purpose; a callable
    response gets the prompt text."""

    def __init__(self, responses: dict[str, Any]):
        self.responses = responses
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, purpose: str, messages: list[dict[str, str]], schema: dict[str, Any] | None) -> Any:
        prompt = "\n".join(m["content"] for m in messages)
        with self.lock:
            self.calls.append((purpose, prompt))
        value = self.responses[purpose]
        return value(prompt) if callable(value) else value

    def prompts(self, purpose: str) -> list[str]:
        return [p for k, p in self.calls if k == purpose]


def fleet_sql(prompt: str) -> dict[str, str]:
    """Top vehicles by cooling faults; filters on severity once a reviewer asked for critical only."""
    severity = " AND d.severity = 'critical'" if re.search(r"critical", prompt.split("Question:")[-1], re.I) else ""
    return {"sql": "SELECT f.vehicle_id, count(*) AS faults FROM fault_events f JOIN dtc_codes d ON d.code = f.code "
                   f"WHERE d.system = 'cooling'{severity} GROUP BY f.vehicle_id ORDER BY faults DESC, f.vehicle_id "
                   "LIMIT 5"}


DEFAULT_RESPONSES: dict[str, Any] = {
    "plan": {"steps": [{"agent": "sql", "purpose": "count cooling faults per vehicle"},
                       {"agent": "rag", "purpose": "what the manual says to check first for overheating"}]},
    "sql": fleet_sql,
    "answer": lambda prompt: "The top vehicle is " + (re.findall(r"VH-\d+", prompt) or ["none"])[0]
                             + ". Check the coolant level first [1].",
}


@pytest.fixture
def script() -> Iterator[Script]:
    s = Script(dict(DEFAULT_RESPONSES))
    scripted.register("test", s)
    yield s
    scripted.unregister("test")


def write_script_file(path: Path, responses: dict[str, Any]) -> str:
    path.write_text(json.dumps(responses))
    return f"scripted:file:{path}"

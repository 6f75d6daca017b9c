"""The command line as a user meets it: one clear error line, no traceback, non-zero exit;
interactive approvals answered on standard input."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli_helpers import assert_clean_error, hil
from tests.conftest import DEFAULT_RESPONSES, write_script_file


def test_invalid_workflow_file_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nconnections:\n  - name: db\n    engine: oracle\n    path: a.db\nsteps: [sql]\n")
    assert_clean_error(hil("workflows", "apply", str(bad)), str(bad), "connections[0].engine")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    assert_clean_error(hil("workflows", "apply", str(broken)), str(broken), "not valid YAML")


def test_unknown_workflow() -> None:
    assert_clean_error(hil("ask", "--workflow", "nope", "--yes", "hi"), "unknown workflow 'nope'")


def test_missing_api_key(workspace: Path) -> None:
    assert hil("workflows", "apply", str(workspace)).returncode == 0
    env = {"HIL_MODEL": "openai:gpt-4o-mini", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    assert_clean_error(hil("ask", "--workflow", "fleet", "--yes", "hi", env=env), "OPENAI_API_KEY is not set")
    env = {"HIL_MODEL": "anthropic:claude-3-5-haiku-latest", "ANTHROPIC_API_KEY": ""}
    assert_clean_error(hil("ask", "--workflow", "fleet", "--yes", "hi", env=env), "ANTHROPIC_API_KEY is not set")


def test_unreachable_postgres() -> None:
    env = {"HIL_DATABASE_URL": "postgresql://hil:secret@127.0.0.1:1/hil"}
    result = hil("runs", "list", env=env)
    assert_clean_error(result, "cannot open the store at postgresql://hil:***@127.0.0.1:1/hil")
    assert "secret" not in result.stderr


def test_interactive_reject_redrafts_sql_with_severity(workspace: Path, tmp_path: Path) -> None:
    sql_plain = "SELECT f.vehicle_id, count(*) AS n FROM fault_events f JOIN dtc_codes d ON d.code = f.code " \
                "WHERE d.system = 'cooling' GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
    sql_critical = sql_plain.replace("'cooling'", "'cooling' AND d.severity = 'critical'")
    model_spec = write_script_file(tmp_path / "s.json", {"plan": DEFAULT_RESPONSES["plan"],
                                                         "sql": [{"sql": sql_plain}, {"sql": sql_critical}],
                                                         "answer": "Done [1]."})
    assert hil("workflows", "apply", str(workspace)).returncode == 0
    # approve the plan, reject the SQL with a message, approve the redraft
    result = hil("ask", "--workflow", "fleet", "--model", model_spec, "--json", "Top overheating vehicles?",
                 stdin="a\nr\nonly count critical codes\na\n")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "severity = 'critical'" in data["sql"]
    assert [a["decision"] for a in data["approvals"]] == ["approve", "reject", "approve"]
    assert data["approvals"][1]["message"] == "only count critical codes"


def test_runs_list_and_show(workspace: Path, tmp_path: Path) -> None:
    model = write_script_file(tmp_path / "s.json", {"plan": DEFAULT_RESPONSES["plan"],
                                                    "sql": {"sql": "SELECT count(*) AS n FROM vehicles"},
                                                    "answer": "There are 180 vehicles [1]."})
    assert hil("workflows", "apply", str(workspace)).returncode == 0
    result = hil("ask", "--workflow", "fleet", "--model", model, "--yes", "--json", "How many vehicles?")
    data = json.loads(result.stdout)
    assert data["status"] == "succeeded" and data["rows"] == [[180]]
    assert data["citations"] and data["citations"][0]["title"]
    listed = hil("runs", "list")
    assert data["run_id"][:8] in listed.stdout
    shown = hil("runs", "show", data["run_id"][:8])
    assert "sql.executed" in shown.stdout and "run.finished" in shown.stdout


def test_workflow_versions(workspace: Path) -> None:
    assert "stored as version 1" in hil("workflows", "apply", str(workspace)).stdout
    assert "unchanged, version 1" in hil("workflows", "apply", str(workspace)).stdout
    workspace.write_text(workspace.read_text().replace("name: Analyst", "name: Fleet Analyst"))
    assert "stored as version 2" in hil("workflows", "apply", str(workspace)).stdout
    assert "Fleet Analyst" in hil("workflows", "show", "fleet").stdout
    assert "Analyst" in hil("workflows", "show", "fleet", "--version", "1").stdout


def test_ask_json_is_the_api_run_detail(workspace: Path, tmp_path: Path) -> None:
    """`hil ask --json` and GET /api/v1/runs/{id} are one projection: every field they share agrees."""
    from fastapi.testclient import TestClient

    from hil.server.app import create_app
    from hil.services import open_store

    model = write_script_file(tmp_path / "s.json", {"plan": DEFAULT_RESPONSES["plan"],
                                                    "sql": {"sql": "SELECT depot, count(*) AS n FROM vehicles "
                                                            "GROUP BY depot ORDER BY n DESC"},
                                                    "answer": "North has the most vehicles [1]."})
    assert hil("workflows", "apply", str(workspace)).returncode == 0
    result = hil("ask", "--workflow", "fleet", "--model", model, "--yes", "--json", "Vehicles per depot?")
    assert result.returncode == 0, result.stderr
    cli = json.loads(result.stdout)
    store = open_store()
    with TestClient(create_app(store, workers=0)) as client:
        api = client.get(f"/api/v1/runs/{cli['run_id']}").json()
    shared = set(cli) & set(api)
    assert {"run_id", "status", "answer", "sql", "rows", "columns", "citations", "approvals", "plan", "drafts",
            "queries", "verified_numbers", "unverified_numbers"} <= shared
    assert {k: cli[k] for k in shared} == {k: api[k] for k in shared}
    assert cli["status"] == "succeeded" and cli["rows"] and cli["answer"]["text"].startswith("North")


def test_messages_print_as_written_with_every_problem(tmp_path: Path) -> None:
    """Text that is not markup keeps its brackets; a naming rule is said in words; every problem is listed."""
    bad = tmp_path / "[draft] flow.yaml"
    bad.write_text("name: Bad Name\nsteps: [sql, nope]\nconnections: [{name: db, engine: sqlite, path: x.db}]\n")
    result = hil("workflows", "apply", str(bad))
    assert_clean_error(result, "[draft] flow.yaml", "name: names use lower-case letters, digits, '-' and '_'")
    assert re.search(r"steps: unknown step .nope.; known steps: (\w+, )*rag, sql", result.stderr)
    assert "^[" not in result.stderr


def test_admin_commands_work_in_the_tenant_named(workspace: Path) -> None:
    """`hil --tenant acme ...` (or HIL_TENANT) configures tenant acme, and acme's users see it over the API."""
    from fastapi.testclient import TestClient

    from hil.server.app import create_app
    from hil.services import open_store

    added = hil("users", "add", "ops@acme", "--role", "admin", "--tenant", "acme", "--json")
    key = json.loads(added.stdout)["key"]
    applied = hil("--tenant", "acme", "workflows", "apply", str(workspace))
    assert applied.returncode == 0 and "stored as version 1" in applied.stdout, applied.stderr
    assert "fleet" not in hil("workflows", "list").stdout  # the default tenant has none
    assert "fleet" in hil("workflows", "list", env={"HIL_TENANT": "acme"}).stdout
    assert_clean_error(hil("--tenant", "nope", "workflows", "list"), "no tenant named 'nope'")
    with TestClient(create_app(open_store(), workers=0, auth=True)) as client:
        listed = client.get("/api/v1/workflows", headers={"Authorization": f"Bearer {key}"}).json()
    assert [w["name"] for w in listed] == ["fleet"]


def test_the_terminal_shows_the_checked_answer_when_it_differs_from_what_streamed(workspace: Path,
                                                                                  tmp_path: Path) -> None:
    from hil.agents.numbers import MARK

    model = write_script_file(tmp_path / "s.json", {"plan": DEFAULT_RESPONSES["plan"],
                                                    "sql": {"sql": "SELECT count(*) AS n FROM vehicles"},
                                                    "answer": "There are 180 vehicles and 4321 drivers."})
    assert hil("workflows", "apply", str(workspace)).returncode == 0
    result = hil("ask", "--workflow", "fleet", "--model", model, "--yes", "How many vehicles?")
    assert result.returncode == 0, result.stderr
    streamed, checked = result.stdout.split("Answer, checked", 1)
    assert "4321 drivers." in streamed and MARK not in streamed  # as the model wrote it
    assert f"4321 {MARK} drivers." in checked  # the number nothing supports, marked

    model = write_script_file(tmp_path / "t.json", {"plan": DEFAULT_RESPONSES["plan"],
                                                    "sql": {"sql": "SELECT count(*) AS n FROM vehicles"},
                                                    "answer": "There are 180 vehicles [1]."})
    result = hil("ask", "--workflow", "fleet", "--model", model, "--yes", "How many vehicles?")
    assert result.returncode == 0 and "There are 180 vehicles [1]." in result.stdout
    assert "Answer, checked" not in result.stdout  # nothing changed: shown once

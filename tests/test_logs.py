"""Logs: a failure inside a run is logged with the run id, and HIL_LOG_FORMAT=json writes one JSON
object per line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hil.agents.reasoner import ReasonerAgent
from hil.errors import ConfigError
from hil.observe.logs import configure, run_context
from hil.services import Store
from tests.conftest import Script
from tests.helpers import setup_run


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    configure("json", "INFO")
    yield capsys
    configure("text", "WARNING")


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def test_json_lines_carry_the_run_id(json_logs: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("hil.test")
    with run_context("r-123"):
        log.warning("inside")
    log.warning("outside")
    inside, outside = _lines(json_logs)
    assert inside["message"] == "inside" and inside["run_id"] == "r-123" and inside["level"] == "warning"
    assert "run_id" not in outside and outside["logger"] == "hil.test"


def test_a_bug_in_an_agent_fails_the_run_and_is_logged_with_its_id(
        sqlite_store: Store, workspace: Path, script: Script, json_logs: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_self: ReasonerAgent, _ctx: Any, _content: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(ReasonerAgent, "execute", broken)
    service, worker, run_id = setup_run(sqlite_store, workspace, approval__plan=False, approval__sql_read=False)
    worker.run_once(run_id)
    assert service.get(run_id).status == "failed"
    [failure] = [entry for entry in _lines(json_logs) if entry["level"] == "error"]
    assert failure["run_id"] == run_id and "RuntimeError: boom" in failure["error"]


def test_a_bad_format_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="HIL_LOG_FORMAT='xml' is not one of text, json"):
        configure("xml")

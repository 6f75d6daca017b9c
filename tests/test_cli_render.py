"""The CLI's one line per event: a retry says why, a repair says what it fixed, counts agree with their nouns."""

from __future__ import annotations

from datetime import UTC, datetime

from hil.cli.render import event_line
from hil.events import Event, EventType


def _event(type: str, payload: dict[str, object]) -> Event:
    return Event(id="e", run_id="r", seq=1, type=type, ts=datetime.now(UTC), step="sql", agent="sql",
                 payload=payload)


def test_a_retry_line_says_why_whatever_the_reason() -> None:
    repaired = event_line(_event(EventType.STEP_RETRIED, {"reason": "repaired", "sql": "SELECT depot FROM t",
                                                          "fixes": ["depot is read from vehicles"], "attempt": 1}))
    assert repaired == "repaired the sql draft: depot is read from vehicles"
    failed = event_line(_event(EventType.STEP_RETRIED, {"reason": "invalid_sql", "error": "no such column: x"}))
    assert failed is not None and failed.endswith("sql: no such column: x") and "retrying" in failed
    answer = event_line(_event(EventType.STEP_RETRIED, {"reason": "ungrounded_answer",
                                                        "problems": ["VH-9 is not in the evidence"]}))
    assert answer is not None and answer.endswith("VH-9 is not in the evidence")


def test_counts_agree_with_their_nouns() -> None:
    assert event_line(_event(EventType.SQL_EXECUTED, {"row_count": 1, "elapsed_ms": 3.0})) == "SQL returned 1 row in 3.0 ms"
    assert event_line(_event(EventType.SQL_EXECUTED, {"row_count": 0, "elapsed_ms": 2})) == "SQL returned 0 rows in 2 ms"
    behind = event_line(_event(EventType.SQL_ROWS_BEHIND_AGGREGATE, {"groups": [{"rows": [[1], [2]]}]}))
    assert behind == "fetched 2 rows behind the top 1 group"
    found = event_line(_event(EventType.RETRIEVAL_RESULTS, {"snippets": [{"title": "Manual"}]}))
    assert found == "retrieved 1 passage from Manual"

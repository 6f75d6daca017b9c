"""Personal data in query results is redacted before the model, the events, the artifacts or any
response see it; schema hints never sample it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hil.engine.worker import Worker
from hil.pii import Policy, column_kind, looks_personal
from hil.services import Store
from hil.services.runs import RunService
from hil.workflows import Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow

CARD = "4111 1111 1111 1111"  # passes Luhn
EMAILS = ["ann.lee@example.com", "bo@corp.io", "cy+x@mail.example.org"]


@pytest.mark.parametrize(("text", "cleaned"), [
    ("write to ann.lee@example.com today", "write to [email] today"),
    (f"card {CARD} on file", "card [card] on file"),
    ("card 4111 1111 1111 1112 on file", "card 4111 1111 1111 1112 on file"),  # fails Luhn: an id, not a card
    ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN [iban]"),
    ("IBAN GB83 WEST 1234 5698 7654 32", "IBAN GB83 WEST 1234 5698 7654 32"),  # fails mod 97
    ("ssn 123-45-6789", "ssn [national_id]"),
    ("call +44 20 7946 0958", "call [phone]"),
    ("service on 2024-06-01 10:30:00, odometer 145 000 km, VH-1042", "service on 2024-06-01 10:30:00, odometer 145 000 "
                                                                     "km, VH-1042"),
])
def test_detectors(text: str, cleaned: str) -> None:
    assert Policy().clean_rows(["note"], [[text]])[0] == [[cleaned]]


def test_actions_and_column_hints() -> None:
    rows = [["Ann", "ann.lee@example.com", "555 0100", 7]]
    columns = ["name", "email", "phone", "trips"]
    assert Policy("mask").clean_rows(columns, rows)[0] == [["Ann", "a***@example.com", "****0100", 7]]
    assert Policy(kinds={"email": "allow"}).clean_rows(columns, rows)[0] == [["Ann", "ann.lee@example.com", "[phone]", 7]]
    assert Policy(allow_columns=["phone"]).clean_rows(columns, rows) == ([["Ann", "[email]", "555 0100", 7]], {"email": 1})
    assert column_kind("customer_email") == "email" and column_kind("status") is None
    assert looks_personal("contact", "bo@corp.io") and not looks_personal("depot", "North")


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    db = tmp_path / "crm.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (name TEXT, contact TEXT, card TEXT, tier TEXT)")
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
                         [(f"Customer {i}", e, CARD, "gold") for i, e in enumerate(EMAILS)])
    return db


def test_a_run_never_shows_emails_or_cards(sqlite_store: Store, script: Script, customers: Path) -> None:
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "list customers"}]}
    script.responses["sql"] = {"sql": "SELECT name, contact, card, tier FROM customers"}
    script.responses["answer"] = "There are 3 gold customers."
    wf = Workflow.model_validate({"name": "crm", "steps": ["sql"], "approval": {"plan": False, "sql_read": False},
                                  "connections": [{"name": "crm", "engine": "sqlite", "path": str(customers)}]})
    apply_workflow(sqlite_store, wf)
    service = RunService(sqlite_store, "default")
    run_id = service.create_run("crm", "Which customers do we have?")
    Worker(sqlite_store, model="scripted:test").run_once(run_id)
    detail = service.detail(run_id)
    assert detail["status"] == "succeeded", detail["error"]
    assert detail["rows"] == [[f"Customer {i}", "[email]", "[card]", "gold"] for i in range(3)]
    seen = [json.dumps([p for _purpose, p in script.calls]), json.dumps([e.payload for e in service.events(run_id)]),
            json.dumps(detail, default=str), *[body.decode() for _media, body in service.artifacts(run_id).values()]]
    for secret in [*EMAILS, CARD, CARD.replace(" ", "")]:
        assert not [s for s in seen if secret in s], secret
    executed = next(e.payload for e in service.events(run_id) if e.type == "sql.executed")
    assert executed["pii"] == {"email": 3, "card": 3}
    assert "gold" in script.prompts("sql")[0]  # ordinary samples still reach the prompt as hints

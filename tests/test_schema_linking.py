"""A 300-table database: the SQL prompt holds the tables the question is about, within budget."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from hil.agents.sql.linking import select_tables
from hil.connectors.base import Column, Table, render_schema
from hil.engine.worker import Worker
from hil.services.runs import RunService
from hil.store import Store
from hil.workflows import Workflow
from tests.conftest import Script
from tests.helpers import apply_workflow

BUDGET = 12000
WORDS = ["asset", "ledger", "batch", "quota", "route", "shift", "vendor", "permit", "audit", "badge", "claim", "depot", "forecast", "grant", "kiosk", "lease", "meter", "notice", "parcel", "refund", "sensor", "ticket", "voucher", "zone"]


def make_warehouse(path: Path) -> None:
    """300 tables: customers and invoices (joined by a foreign key) among 298 decoys."""
    rnd = random.Random(3)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, full_name TEXT, region TEXT)")
    db.execute("CREATE TABLE invoices (invoice_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES "
               "customers(customer_id), amount REAL, issued_on TEXT)")
    db.executemany("INSERT INTO customers VALUES (?, ?, ?)", [(i, f"C{i}", rnd.choice(["north", "south"]))
                                                              for i in range(1, 21)])
    db.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?)", [(i, rnd.randint(1, 20), rnd.random() * 900,
                                                                 "2026-10-01") for i in range(1, 101)])
    for n in range(298):
        a, b = rnd.sample(WORDS, 2)
        cols = ", ".join(f"{rnd.choice(WORDS)}_{k} TEXT" for k in range(8))
        db.execute(f"CREATE TABLE {a}_{b}_{n:03d} (id INTEGER PRIMARY KEY, {cols})")
    db.commit()
    db.close()


def test_selection_fits_the_budget_and_keeps_the_join(tmp_path: Path) -> None:
    tables = [Table(f"t{n}", [Column(f"c{k}", "TEXT") for k in range(10)]) for n in range(300)]
    tables.append(Table("customers", [Column("customer_id", "INTEGER"), Column("region", "TEXT", ["north"])]))
    tables.append(Table("invoices", [Column("invoice_id", "INTEGER"),
                                     Column("customer_id", "INTEGER", references="customers(customer_id)")]))
    assert len(render_schema(tables)) > 3 * BUDGET
    chosen = select_tables("total invoice amount per customer", tables, BUDGET)
    assert [t.name for t in chosen[:2]] == ["invoices", "customers"]
    assert len(render_schema(chosen)) <= BUDGET
    # a question naming a sampled value finds its table even without naming the table
    assert select_tables("anything in the north?", tables, BUDGET)[0].name == "customers"


def test_the_sql_prompt_on_300_tables_holds_both_tables(sqlite_store: Store, tmp_path: Path, script: Script) -> None:
    db = tmp_path / "warehouse.sqlite"
    make_warehouse(db)
    wf = Workflow.model_validate({
        "name": "wh", "connections": [{"name": "wh", "engine": "sqlite", "path": str(db)}], "steps": ["sql"],
        "approval": {"plan": False, "sql_read": False}})
    script.responses["plan"] = {"steps": [{"agent": "sql", "purpose": "sum invoice amounts per customer"}]}
    script.responses["sql"] = {"sql": "SELECT c.full_name, sum(i.amount) AS total FROM invoices i JOIN customers c "
                                      "ON c.customer_id = i.customer_id GROUP BY c.full_name ORDER BY total DESC "
                                      "LIMIT 3"}
    service = RunService(sqlite_store, "default")
    apply_workflow(service.store, wf)
    run_id = service.create_run("wh", "Which 3 customers have the highest total invoice amount?")
    Worker(sqlite_store, model="scripted:test").run_once(run_id)
    assert service.get(run_id).status == "succeeded"
    prompt = script.prompts("sql")[0]
    schema = prompt[prompt.index("CREATE TABLE"):prompt.index("-- Using valid")]
    assert "CREATE TABLE customers" in schema and "CREATE TABLE invoices" in schema
    assert "of 300 tables" in prompt and len(schema) <= BUDGET + 200
    assert schema.count("CREATE TABLE") < 300

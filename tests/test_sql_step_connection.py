"""One database connection per SQL step, closed when the step ends; a schema cache that follows
schema changes on every engine through the connector's fingerprint, without a restart."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest

from hil.agents.base import StepContext
from hil.agents.sql import knowledge as sql_knowledge
from hil.agents.sql.knowledge import introspect, knowledge, step_connection
from hil.connectors import connect
from hil.connectors.base import Connector
from hil.connectors.factory import ENGINES
from hil.errors import QueryFailed
from hil.evals.sql_eval import ask_agent
from hil.events import EventType
from hil.examples import no_examples
from hil.models.llm import resolve
from hil.store import Store
from hil.store.example_repo import ExampleRepo
from hil.workflows import ApprovalPolicy, SqlConnection, Workflow
from tests.conftest import Script, fleet_sql
from tests.helpers import approve_all, pending, setup_run
from tests.pg import PostgresServer


class Opened:
    """Every connector the factory builds for one engine, and which of them were closed."""

    def __init__(self) -> None:
        self.connections: list[Connector] = []
        self.closed: list[Connector] = []

    @property
    def all_closed(self) -> bool:
        return len(self.closed) == len(self.connections) and all(
            any(c is d for d in self.closed) for c in self.connections)


def count_connections(monkeypatch: pytest.MonkeyPatch, engine: str) -> Opened:
    """Wrap the factory's engine: whoever calls ``connect`` (the agent, its checks, the evidence)
    is counted, and each connector's own close is recorded."""
    opened = Opened()
    real = ENGINES[engine]

    def build(cfg: SqlConnection, timeout_s: float = 30.0) -> Connector:
        conn = real(cfg, timeout_s)
        close = conn.close

        def counted_close() -> None:
            opened.closed.append(conn)
            close()

        conn.close = counted_close  # type: ignore[method-assign]
        opened.connections.append(conn)
        return conn

    monkeypatch.setitem(ENGINES, engine, build)  # type: ignore[arg-type]
    return opened


def test_a_sql_step_drafts_aligns_checks_and_executes_on_one_connection(
        store: Store, workspace: Path, script: Script, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first draft's value is spelled unlike the stored one (aligned) and it finds nothing
    (the empty-result check asks for a redraft with a hint); the second runs: two drafts, two
    executions, one connection, closed when the step finished."""
    opened = count_connections(monkeypatch, "duckdb")

    def sql(prompt: str) -> dict[str, str]:
        if "returned no rows" in prompt:
            return fleet_sql(prompt)
        return {"sql": "SELECT f.vehicle_id, count(*) AS faults FROM fault_events f JOIN dtc_codes d "
                       "ON d.code = f.code WHERE d.system = 'COOLING' AND f.vehicle_id = 'VH-0' "
                       "GROUP BY f.vehicle_id"}

    script.responses["sql"] = sql
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    assert approve_all(service, worker, run_id) == "succeeded"
    events = service.events(run_id)
    drafted = [e.payload for e in events if e.type == EventType.SQL_DRAFTED]
    assert len(drafted) == 2
    assert drafted[0]["adjustments"] == ["'COOLING' is stored as 'cooling'"]
    [retried] = [e.payload for e in events if e.type == EventType.STEP_RETRIED]
    assert retried["error"].startswith("the query returned no rows")
    assert [e.payload["row_count"] > 0 for e in events if e.type == EventType.SQL_EXECUTED] == [False, True]
    assert len(opened.connections) == 1 and opened.all_closed


def test_consensus_drafts_run_on_the_step_connection(store: Store, workspace: Path, script: Script,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_SQL_CANDIDATES", "3")
    opened = count_connections(monkeypatch, "duckdb")
    examples = ExampleRepo(store, "default")
    examples.add("fleet", "Which vehicles overheat least?", "SELECT vehicle_id FROM fault_events LIMIT 1", "import")
    drafts = iter(["SELECT vehicle_id FROM vehicles ORDER BY vehicle_id LIMIT 2",
                   "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id DESC LIMIT 2"])
    script.responses["sql"] = lambda _prompt: {"sql": next(drafts, "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id LIMIT 2")}
    service, worker, run_id = setup_run(store, workspace, approval__plan=False, approval__sql_read=False)
    assert approve_all(service, worker, run_id) == "succeeded"
    [candidates] = [e.payload for e in service.events(run_id) if e.type == EventType.SQL_CANDIDATES]
    assert len(candidates["candidates"]) == 3 and all(c["result_rows"] == 2 for c in candidates["candidates"])
    assert len(opened.connections) == 1 and opened.all_closed


def test_a_step_parked_for_approval_holds_no_connection(store: Store, workspace: Path, script: Script,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run waiting for a human is only rows: the draft's connection closes when the run parks,
    and the approved query runs on a connection of the resumed step."""
    opened = count_connections(monkeypatch, "duckdb")
    service, worker, run_id = setup_run(store, workspace, approval__plan=False)
    worker.run_once(run_id)
    assert pending(service, run_id).kind == "sql_read"
    assert len(opened.connections) == 1 and opened.all_closed
    assert approve_all(service, worker, run_id) == "succeeded"
    assert len(opened.connections) == 2 and opened.all_closed


def test_a_duckdb_write_drafted_and_executed_in_one_step(tmp_path: Path, script: Script,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Drafting a write measures its impact on the step's read-only connection; DuckDB refuses a
    writable handle beside it in one process, so the step lets it go before the write."""
    path = tmp_path / "ops.duckdb"
    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE vehicles (id TEXT, services INTEGER)")
    db.execute("INSERT INTO vehicles VALUES ('VH-1', 1), ('VH-2', 2)")
    db.close()
    opened = count_connections(monkeypatch, "duckdb")
    script.responses["sql"] = {"sql": "UPDATE vehicles SET services = services + 1 WHERE id = 'VH-1'"}
    workflow = Workflow(name="ops", connections=[SqlConnection(name="ops", engine="duckdb", path=str(path),
                                                               read_only=False)],
                        steps=["sql"], approval=ApprovalPolicy(plan=False, sql_read=False))
    sql, rows, _calls, error, _examples = ask_agent(workflow, "Record a service for VH-1", resolve("scripted:test"),
                                                    no_examples, 2)
    assert error is None and rows == [(1,)] and sql and sql.startswith("UPDATE")
    assert len(opened.connections) == 1 and opened.all_closed
    with duckdb.connect(str(path), read_only=True) as check:
        assert check.execute("SELECT services FROM vehicles ORDER BY id").fetchall() == [(2,), (2,)]


# -- the fingerprint and the schema cache, on every engine --

Change = Callable[[str], None]


@pytest.fixture(params=["sqlite", "duckdb", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SqlConnection, Change]]:
    """A small database and a way to change it from outside, as another client would."""
    setup = ["CREATE TABLE depots (id INTEGER PRIMARY KEY, region TEXT)",
             "INSERT INTO depots VALUES (1, 'north'), (2, 'south')"]
    engine = request.param
    if engine == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres")
        dsn = pg.create_database(f"fp_{abs(hash(tmp_path)) % 10**8}")

        def change(sql: str) -> None:
            with psycopg.connect(dsn, autocommit=True) as db:
                db.execute(sql)

        for stmt in setup:
            change(stmt)
        yield SqlConnection(name="fp", engine="postgres", dsn=dsn), change
        return
    path = tmp_path / f"fp.{engine}"

    def change_file(sql: str) -> None:
        db = sqlite3.connect(path) if engine == "sqlite" else duckdb.connect(str(path))
        try:
            db.execute(sql)
            db.commit()
        finally:
            db.close()

    for stmt in setup:
        change_file(stmt)
    yield SqlConnection(name="fp", engine=engine, path=str(path)), change_file


def _columns(conn: Connector, table: str) -> list[str]:
    return next([c.name for c in t.columns] for t in introspect(conn) if t.name == table)


def test_the_fingerprint_follows_schema_changes_and_the_cache_with_it(
        database: tuple[SqlConnection, Change], monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, change = database
    introspected: list[str] = []
    conn = connect(cfg)
    real_tables = type(conn).tables

    def counted_tables(self: Connector) -> list[object]:
        introspected.append(self.cfg.name)
        return real_tables(self)  # type: ignore[return-value]

    monkeypatch.setattr(type(conn), "tables", counted_tables)
    before = conn.fingerprint()
    assert conn.fingerprint() == before  # nothing changed: the same signature
    assert _columns(conn, "depots") == ["id", "region"]
    assert _columns(conn, "depots") == ["id", "region"] and len(introspected) == 1  # the second from the cache
    if cfg.engine == "duckdb":  # DuckDB opens no writable handle beside a read-only one in the same process
        conn.close()
    change("ALTER TABLE depots ADD COLUMN manager TEXT")
    if cfg.engine == "duckdb":
        conn = connect(cfg)
    after = conn.fingerprint()
    assert after != before and conn.fingerprint() == after
    assert _columns(conn, "depots") == ["id", "region", "manager"] and len(introspected) == 2
    if cfg.engine == "duckdb":
        conn.close()
    change("CREATE TABLE drivers (id INTEGER, name TEXT)")
    if cfg.engine == "duckdb":
        conn = connect(cfg)
    assert conn.fingerprint() != after
    assert {t.name for t in introspect(conn)} == {"depots", "drivers"}
    conn.close()


def test_written_rows_refresh_the_values_of_a_database_file(tmp_path: Path) -> None:
    """A file's size and time are part of its fingerprint: new values reach the value index."""
    path = tmp_path / "geo.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE state (state_name TEXT)")
    db.execute("INSERT INTO state VALUES ('texas')")
    db.commit()
    conn = connect(SqlConnection(name="geo", engine="sqlite", path=str(path)))
    assert [m.value for m in knowledge(conn)[1].find("is ohio big")] == []
    db.execute("INSERT INTO state VALUES ('ohio')")
    db.commit()
    db.close()
    assert [m.value for m in knowledge(conn)[1].find("is ohio big")] == ["ohio"]
    conn.close()


def test_the_cache_keeps_only_the_most_recently_used_databases(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_SCHEMA_CACHE", "2")
    cfgs = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.sqlite"
        db = sqlite3.connect(path)
        db.execute(f"CREATE TABLE {name} (x INTEGER)")
        db.commit()
        db.close()
        cfgs.append(SqlConnection(name=name, engine="sqlite", path=str(path)))
    for cfg in cfgs:
        introspect(cfg)
    cached = {path for _engine, path in sql_knowledge._cache}
    assert str(tmp_path / "a.sqlite") not in cached and {str(tmp_path / "b.sqlite"), str(tmp_path / "c.sqlite")} <= cached
    assert len(sql_knowledge._cache) <= 2


def test_a_reading_of_the_schema_counter_is_allowed_and_setting_it_is_not(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x INTEGER)")
    db.commit()
    db.close()
    conn = connect(SqlConnection(name="t", engine="sqlite", path=str(path)))
    assert conn.fingerprint().startswith("1:")
    with pytest.raises(QueryFailed, match="not authorized"):
        conn._execute("PRAGMA schema_version = 99", 1)
    conn.close()


# -- what a step holds, and a link lost while the model drafted --

def _ctx(workflow: Workflow) -> StepContext:
    return StepContext(run_id="r", question="q", workflow=workflow, step="sql", purpose="", outputs={},
                       emit=lambda *_: None, llm_factory=lambda: None,  # type: ignore[arg-type,return-value]
                       once=lambda _k, action: action())


def test_a_step_closes_what_it_holds_newest_first_even_when_one_close_fails(
        caplog: pytest.LogCaptureFixture) -> None:
    ctx = _ctx(Workflow(name="w", connections=[SqlConnection(name="x", engine="sqlite", path="x.db")], steps=["sql"]))
    closed: list[str] = []

    def failing(_value: str) -> None:
        raise RuntimeError("boom")

    assert ctx.hold("a", lambda: "A", closed.append) == "A"
    assert ctx.hold("a", lambda: "other", closed.append) == "A"  # held: the same one
    ctx.hold("b", lambda: "B", failing)
    ctx.hold("c", lambda: "C", closed.append)
    with caplog.at_level(logging.WARNING):
        ctx.close()
    assert closed == ["C", "A"] and "closing b of step sql failed" in caplog.text
    ctx.close()  # nothing left: closing again does nothing
    assert closed == ["C", "A"]


def test_a_postgres_link_lost_mid_step_is_replaced(postgres: PostgresServer) -> None:
    dsn = postgres.create_database("lost_link")
    cfg = SqlConnection(name="pg", engine="postgres", dsn=dsn)
    ctx = _ctx(Workflow(name="w", connections=[cfg], steps=["sql"]))
    first = step_connection(ctx, cfg)
    assert step_connection(ctx, cfg) is first
    with psycopg.connect(postgres.url(), autocommit=True) as admin:  # as idle_session_timeout would
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'lost_link'")
    second = step_connection(ctx, cfg)
    assert second is not first and second.execute_read("SELECT 1 AS ok").rows == [[1]]
    # lost during a query: the query fails as a query does (the step redrafts), not as a driver error
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'lost_link'")
    with pytest.raises(QueryFailed):
        second.execute_read("SELECT 1 AS ok")
    assert not second.alive() and step_connection(ctx, cfg) is not second
    ctx.close()


def test_two_connections_to_one_duckdb_file_in_one_process_both_work(tmp_path: Path) -> None:
    """Two runs (or a run and a read ahead) on one DuckDB file at once: DuckDB keeps one database
    per file in a process and refuses its locked configuration a second time, so the second
    connection shares the first's database; it stays read-only and locked, and outlives the first."""
    path = tmp_path / "two.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE t (a INTEGER)")
        db.execute("INSERT INTO t VALUES (1), (2)")
    cfg = SqlConnection(name="two", engine="duckdb", path=str(path))
    first, second = connect(cfg), connect(cfg)
    assert first.execute_read("SELECT count(*) AS n FROM t").rows == [[2]]
    first.close()
    assert second.execute_read("SELECT sum(a) AS s FROM t").rows == [[3]]
    with pytest.raises(duckdb.Error, match="configuration"):
        second.conn.execute("SET enable_external_access = true")  # type: ignore[attr-defined]
    with pytest.raises(duckdb.Error):
        second.conn.execute("INSERT INTO t VALUES (3)")  # type: ignore[attr-defined]
    second.close()
    third = connect(cfg)  # the file was closed with its last connection and opens again
    assert third.execute_read("SELECT count(*) AS n FROM t").rows == [[2]]
    third.close()

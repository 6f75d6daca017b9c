"""What a long-lived process keeps per database, collection or server is bounded: least recently
used first out, at the bound its setting names, and what falls out is handed back to be closed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hil.agents.base import StepContext
from hil.agents.sql import knowledge as sql_knowledge
from hil.connectors.base import Connector
from hil.lru import LRU
from hil.workflows import SqlConnection, Workflow


def _database(path: Path, table: str, values: list[str]) -> SqlConnection:
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE {table} (name TEXT)")
    db.executemany(f"INSERT INTO {table} VALUES (?)", [(v,) for v in values])
    db.commit()
    db.close()
    return SqlConnection(name=table, engine="sqlite", path=str(path))


def test_evicted_entries_are_closed_and_kept_ones_stay_open(tmp_path: Path) -> None:
    closed: list[str] = []

    def close(key: str, conn: sqlite3.Connection) -> None:
        conn.close()
        closed.append(key)

    cache: LRU[str, sqlite3.Connection] = LRU(lambda: 2, close)
    conns = {name: sqlite3.connect(tmp_path / f"{name}.db") for name in "abcd"}
    cache.put("a", conns["a"])
    cache.put("b", conns["b"])
    assert cache.get("a") is conns["a"]  # a is now the most recently used: b goes first
    cache.put("c", conns["c"])
    cache.put("d", conns["d"])
    assert closed == ["b", "a"] and len(cache) == 2 and sorted(cache) == ["c", "d"]
    for name in ("a", "b"):
        with pytest.raises(sqlite3.ProgrammingError):
            conns[name].execute("SELECT 1")
    assert [conns[n].execute("SELECT 1").fetchone() for n in "cd"] == [(1,), (1,)]
    replacement = sqlite3.connect(tmp_path / "c2.db")
    cache.put("c", replacement)  # the connection it replaces is closed too
    assert closed[-1] == "c" and cache.get("c") is replacement
    cache.clear()
    assert len(cache) == 0 and sorted(closed) == ["a", "b", "c", "c", "d"]


def test_the_bound_is_read_when_an_entry_is_added() -> None:
    bound = [3]
    cache: LRU[int, str] = LRU(lambda: bound[0])
    for i in range(10):
        cache.put(i, str(i))
        assert len(cache) <= bound[0]
    bound[0] = 1
    cache.put(10, "10")
    assert list(cache) == [10]
    bound[0] = 0  # a bound below one still keeps the entry just added
    cache.put(11, "11")
    assert list(cache) == [11]


def test_schema_knowledge_stays_within_its_setting_and_keeps_no_connection(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path `hil eval sql` takes for every question: the step's connection, then the cached
    tables and value index. Over more databases than HIL_SCHEMA_CACHE, the cache keeps the most
    recent ones, and every connection is closed when its step ends."""
    monkeypatch.setenv("HIL_SCHEMA_CACHE", "3")
    sql_knowledge._cache.clear()
    cfgs = [_database(tmp_path / f"db{i}.sqlite", f"city{i}", [f"town{i}a", f"town{i}b"]) for i in range(7)]
    opened: list[Connector] = []
    for cfg in cfgs:
        ctx = StepContext(run_id="r", question="", workflow=Workflow(name="w", connections=[cfg], steps=["sql"]),
                          step="sql", purpose="", outputs={}, emit=lambda _t, _p: None,
                          llm_factory=lambda: pytest.fail("no model"), once=lambda _k, fn: fn())
        conn = sql_knowledge.step_connection(ctx, cfg)
        opened.append(conn)
        _tables, values = sql_knowledge.knowledge(conn)
        assert values.find(f"people of town{cfgs.index(cfg)}a")  # the index is the database's own
        ctx.close()
        assert sql_knowledge.cached() <= 3
    assert {path for _engine, path in sql_knowledge._cache} == {c.path for c in cfgs[-3:]}
    for conn in opened:
        with pytest.raises(sqlite3.ProgrammingError):
            conn.conn.execute("SELECT 1")  # type: ignore[attr-defined]
    # one that fell out is learnt again, and pushes out the least recently used
    assert sql_knowledge.introspect(cfgs[0])[0].name == "city0"
    assert {path for _engine, path in sql_knowledge._cache} == {c.path for c in (cfgs[0], *cfgs[-2:])}

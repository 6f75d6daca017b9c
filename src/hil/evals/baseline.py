"""The bare model, as a yardstick for the SQL agent: the schema as the database's own CREATE TABLE
statements, the question, one greedy draft, no checks, no repairs, no examples. Its SQL runs on a
read-only handle of the benchmark's database and is scored by the same scorer as the agent's."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import duckdb

from hil.agents.sql.drafting import extract_sql, plain_prompt, plain_system
from hil.models.llm import LLM

ENGINE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, sqlite3.Warning, duckdb.Error)


def create_tables(database: Path, engine: str = "sqlite") -> str:
    """The schema exactly as the engine stores it."""
    if engine == "duckdb":
        with duckdb.connect(str(database), read_only=True) as db:
            return "\n\n".join(str(r[0]).strip() for r in db.execute(
                "SELECT sql FROM duckdb_tables() ORDER BY table_name").fetchall())
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
                            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return "\n\n".join(str(r[0]).strip() + ";" for r in rows)


def draft(llm: LLM, database: Path, question: str, engine: str = "sqlite") -> str | None:
    prompt = plain_prompt(engine, create_tables(database, engine), question)
    return extract_sql(llm.text("sql_baseline", plain_system(engine), prompt))


def run(database: Path, sql: str, limit: int, timeout: float = 30.0, engine: str = "sqlite") -> list[tuple[Any, ...]]:
    """Runs on a read-only handle; raises one of ENGINE_ERRORS when the query fails or (SQLite) runs
    past ``timeout``."""
    if engine == "duckdb":
        with duckdb.connect(str(database), read_only=True) as db:
            return [tuple(r) for r in db.execute(sql).fetchmany(limit)]
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    deadline = time.monotonic() + timeout
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchmany(limit)]
    finally:
        conn.close()

"""Every task guide in docs/guides/ is followed as a reader would: its commands run in a fresh
HIL_HOME against real databases (SQLite files, a PostgreSQL server), and what they print must
show the output the guide shows (conventions: tests/guide_runner.py and docs/guides/README.md).

The guides are followed side by side (each in its own HIL_HOME and folder), then each test checks
its own. The model is the scripted one: it answers as the guide shows a model answering, so the commands,
the approvals and the output around the answer are the product's own. Names a guide uses for the
reader's machines (db.internal, port 8321) are replaced by the test's."""

from __future__ import annotations

import configparser
import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

import hil
from tests.api_helpers import free_port
from tests.guide_runner import Reader, blocks
from tests.pg import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ROOT / "docs" / "guides"
PLAN_SQL = {"steps": [{"agent": "sql", "purpose": "count orders per region"}]}


def reader(tmp_path: Path, model: dict[str, Any] | None = None, **replace: str) -> Reader:
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIL_") or k in ("HIL_MODELS_DIR",)}
    env.update({"PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}", "HIL_HOME": str(tmp_path / "home"),
                "HIL_TEST_MODE": "1", "HIL_EMBEDDER": "wordllama", "COLUMNS": "100", "NO_COLOR": "1",
                "PYTHONUNBUFFERED": "1", "HIL_MODELS_DIR": os.environ.get("HIL_MODELS_DIR", ""),
                # the hil under test, whatever directory a guide's commands run in
                "PYTHONPATH": os.pathsep.join([str(Path(hil.__file__).resolve().parents[1]),
                                               *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))])})
    env.pop("OPENAI_API_KEY", None)
    if model is not None:
        script = tmp_path / "model.json"
        script.write_text(json.dumps(model))
        env["HIL_MODEL"] = f"scripted:file:{script}"
    return Reader(work, env, replace)


def warehouse(postgres: PostgresServer) -> str:
    """The reader's warehouse: a role that may only read, two tables, five orders; and an empty
    database for a team server's store."""
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        for db in ("warehouse", "hil"):
            conn.execute(f"DROP DATABASE IF EXISTS {db}")
            conn.execute(f"CREATE DATABASE {db}")
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'analyst'").fetchone():
            conn.execute("CREATE ROLE analyst LOGIN PASSWORD 's3cret'")
    with psycopg.connect(postgres.url("warehouse"), autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY, name text, region text)")
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int, region text, amount numeric)")
        conn.execute("INSERT INTO customers VALUES (1, 'Ada', 'north'), (2, 'Bo', 'south')")
        conn.execute("INSERT INTO orders VALUES (1, 1, 'north', 120), (2, 1, 'north', 80), (3, 1, 'north', 45), "
                     "(4, 2, 'south', 60), (5, 2, 'south', 30)")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO analyst")
    return f"127.0.0.1:{postgres.port}"


def served(guide: Reader) -> Reader:
    """A guide that starts a server on 8321 gets a free port instead."""
    port = str(free_port())
    guide.replace["8321"] = port
    guide.env["HIL_PORT"] = port
    return guide


def readers(tmp: pytest.TempPathFactory, postgres: PostgresServer) -> dict[str, Callable[[], Reader]]:
    db = warehouse(postgres)
    sales = {"plan": {"steps": [{"agent": "sql", "purpose": "total sales per region"}]},
             "sql": {"sql": "SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY total DESC"},
             "answer": "North sold 200 and south 60."}
    return {
        "connect-postgres": lambda: reader(tmp.mktemp("pg"), {
            "plan": {"steps": [{"agent": "sql", "purpose": "count orders per region"}]},
            "sql": {"sql": "SELECT region, count(*) AS orders FROM orders GROUP BY region"},
            "answer": "The north region has 3 orders and the south region 2."}, **{"db.internal:5432": db}),
        "approve-from-api": lambda: served(reader(tmp.mktemp("api"), sales)),
        "team-server": lambda: served(reader(tmp.mktemp("team"), None, **{
            "postgresql://hil:hil@db.internal:5432/hil": postgres.url("hil"), "db.internal:5432": db})),
        "add-documents": lambda: reader(tmp.mktemp("docs"), {
            "plan": {"steps": [{"agent": "rag", "purpose": "minimum pad thickness"},
                               {"agent": "sql", "purpose": "price of a brake pad set"}]},
            "sql": {"sql": "SELECT price_eur FROM parts WHERE part = 'brake pad set'"},
            "answer": "Replace brake pads below 3 mm of friction material [1]; a set costs 48 euros."}),
        "models": lambda: reader(tmp.mktemp("models"), None, **{"8400": str(free_port())}),
        # a model that knows one query: right for the first question only
        "measure-accuracy": lambda: reader(tmp.mktemp("eval"), {"sql": {"sql": "SELECT sum(amount) AS total FROM sales"}}),
    }


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
             ) -> dict[str, tuple[Reader, int | BaseException]]:
    """Every guide followed, three at a time: its reader and how many commands ran (or what failed)."""
    def follow(name: str, make: Callable[[], Reader]) -> tuple[Reader, int | BaseException]:
        guide = make()
        try:
            return guide, guide.follow(GUIDES / f"{name}.md")
        except BaseException as err:  # noqa: BLE001 - reported by the guide's own test
            return guide, err

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(follow, name, make) for name, make in readers(tmp_path_factory, postgres).items()}
        return {name: f.result() for name, f in futures.items()}


def result(followed: dict[str, tuple[Reader, int | BaseException]], name: str, commands: int) -> Reader:
    guide, outcome = followed[name]
    if isinstance(outcome, BaseException):
        raise outcome
    assert outcome >= commands, f"{name}: only {outcome} commands ran"
    return guide


def test_every_guide_is_followed_by_a_test() -> None:
    guides = {p.stem for p in GUIDES.glob("*.md") if p.name != "README.md"}
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    assert guides and guides <= tested, f"guides without a test: {sorted(guides - tested)}"
    for guide in GUIDES.glob("*.md"):
        assert not [b for b in blocks(guide.read_text()) if b.lang == "sh" and "hil " in b.text and
                    "systemctl" not in b.text and "docker" not in b.text], \
            f"{guide.name}: hil commands belong in ```console blocks, which the test runs"


def test_connect_postgres(followed: dict[str, tuple[Reader, int | BaseException]]) -> None:
    result(followed, "connect-postgres", 9)


def test_approve_from_api(followed: dict[str, tuple[Reader, int | BaseException]]) -> None:
    result(followed, "approve-from-api", 12)


def test_team_server(followed: dict[str, tuple[Reader, int | BaseException]]) -> None:
    result(followed, "team-server", 12)


def test_add_documents(followed: dict[str, tuple[Reader, int | BaseException]]) -> None:
    result(followed, "add-documents", 6)


def test_models(followed: dict[str, tuple[Reader, int | BaseException]]) -> None:
    guide = result(followed, "models", 8)
    sent = [json.loads(line) for line in (guide.cwd / "requests.jsonl").read_text().splitlines()]
    assert len(sent) >= 4 and {r["model"] for r in sent} == {"gpt-4o-mini"}
    assert "Reply with the plan" in sent[0]["messages"][-1]["content"] and sent[-1]["stream"]  # plan first, answer last
    assert "s3cret" not in json.dumps(sent) and "shop.db" not in json.dumps(sent)


def test_measure_accuracy(followed: dict[str, tuple[Reader, int | BaseException]]) -> None:
    guide = result(followed, "measure-accuracy", 3)
    report = [json.loads(line) for line in (guide.cwd / "report.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in report if "verdict" in r] == ["correct", "wrong", "wrong"]


def test_a_guide_fails_where_its_output_or_its_files_are_wrong(tmp_path: Path) -> None:
    def follow(text: str) -> int:
        guide = tmp_path / "guide.md"
        guide.write_text(text)
        work = tmp_path / f"w{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        return Reader(work, dict(os.environ), {"HOST": "127.0.0.1"}).follow(guide)

    ok = ("```text file=a.txt\nalpha\n```\n\n```console\n$ export WORD=alp\n$ cd . && grep \"$WORD\" a.txt\n"
          "alpha\n$ echo 'run 42 took 3 ms'\nrun ... took ... ms\n$ cat missing.txt\nerror: ...\n$ echo HOST\n"
          "127.0.0.1\n```\n")
    assert follow(ok.replace("error: ...", "cat: missing.txt: No such file or directory")
                  .replace("$ cat missing.txt", "$ cat missing.txt || true")) == 5
    with pytest.raises(AssertionError, match="did not print 'beta'"):
        follow("```console\n$ echo alpha\nbeta\n```\n")
    with pytest.raises(AssertionError, match="exited 1"):
        follow("```console\n$ false\n```\n")
    with pytest.raises(AssertionError, match="exited 0"):
        follow("```console\n$ true\nerror: expected a failure\n```\n")
    with pytest.raises(AssertionError, match="unbalanced braces"):
        follow("```nginx\nserver {\n    listen 80;\n```\n")
    with pytest.raises(configparser.Error):
        follow("```ini\n[Service]\nExecStart\n```\n")

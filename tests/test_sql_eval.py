"""`hil eval sql`: benchmark loaders, execution-accuracy verdicts, the report and resuming."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hil.errors import ConfigError
from hil.evals import benchmarks
from hil.evals.scoring import rows_match
from hil.evals.sql_eval import Report, evaluate, seed_examples
from hil.models.llm import resolve
from tests.cli_helpers import assert_clean_error, hil
from tests.conftest import Script, write_script_file


def make_geoquery(root: Path) -> Path:
    """A small benchmark in the GeoQuery format (text2sql-data): query groups with placeholder
    variables, sentences with a question split, and the query split on each group."""
    root.mkdir(parents=True)
    con = sqlite3.connect(root / "geography.sqlite")
    con.execute("CREATE TABLE state (state_name TEXT, population INT, area DOUBLE, capital TEXT)")
    con.execute("CREATE TABLE city (city_name TEXT, state_name TEXT, population INT)")
    con.executemany("INSERT INTO state VALUES (?, ?, ?, ?)", [
        ("arizona", 2718000, 114000.0, "phoenix"), ("texas", 14229000, 267000.0, "austin"),
        ("nebraska", 1570000, 77300.0, "lincoln"), ("alaska", 401800, 591000.0, "juneau")])
    con.executemany("INSERT INTO city VALUES (?, ?, ?)", [
        ("phoenix", "arizona", 789704), ("tucson", "arizona", 330537), ("houston", "texas", 1595138),
        ("dallas", "texas", 904078), ("omaha", "nebraska", 314255), ("anchorage", "alaska", 174431)])
    con.commit()
    con.close()

    def sentence(split: str, text: str, **variables: str) -> dict[str, Any]:
        return {"question-split": split, "text": text, "variables": variables}

    groups = [
        {"query-split": "train",
         "sql": ['SELECT CITYalias0.CITY_NAME FROM CITY AS CITYalias0 WHERE CITYalias0.POPULATION = ( SELECT MAX( '
                 'CITYalias1.POPULATION ) FROM CITY AS CITYalias1 WHERE CITYalias1.STATE_NAME = "state_name0" ) AND '
                 'CITYalias0.STATE_NAME = "state_name0" ;'],
         "sentences": [sentence("dev", "what is the biggest city in state_name0", state_name0="arizona"),
                       sentence("dev", "what state_name0 city has the largest population", state_name0="texas"),
                       sentence("train", "what is the biggest city in state_name0", state_name0="nebraska"),
                       sentence("test", "what is the largest city in state_name0", state_name0="alaska")]},
        {"query-split": "dev",
         "sql": ['SELECT STATEalias0.AREA FROM STATE AS STATEalias0 WHERE STATEalias0.STATE_NAME = "state_name0" ;'],
         "sentences": [sentence("dev", "how big is state_name0", state_name0="texas"),
                       sentence("train", "how big is state_name0", state_name0="alaska")]},
        {"query-split": "test", "sql": ["SELECT STATEalias0.STATE_NAME FROM STATE AS STATEalias0 ;"],
         "sentences": [sentence("train", "what are the states")]},
        {"query-split": "dev",  # SQLite has no > ALL: the gold query cannot run
         "sql": ["SELECT STATEalias0.STATE_NAME FROM STATE AS STATEalias0 WHERE STATEalias0.AREA >= ALL ( SELECT "
                 "STATEalias1.AREA FROM STATE AS STATEalias1 ) ;"],
         "sentences": [sentence("dev", "which state is the largest")]},
    ]
    (root / "geography.json").write_text(json.dumps(groups))
    return root


@pytest.fixture
def geoquery(tmp_path: Path) -> Path:
    return make_geoquery(tmp_path / "geoquery")


def test_geoquery_splits_and_variables_are_substituted(geoquery: Path) -> None:
    by_question = {s: len(benchmarks.load(geoquery, s).items) for s in ("train", "dev", "test")}
    by_query = {s: len(benchmarks.load(geoquery, s, "query").items) for s in ("train", "dev", "test")}
    assert by_question == {"train": 3, "dev": 4, "test": 1}
    assert by_query == {"train": 4, "dev": 3, "test": 1}
    first = benchmarks.load(geoquery, "dev").items[0]
    assert first.question == "what is the biggest city in arizona"
    assert '"arizona"' in first.gold[0] and "state_name0" not in first.gold[0] and not first.gold[0].endswith(";")
    with pytest.raises(ConfigError, match="no questions in split 'validation'") as err:
        benchmarks.load(geoquery, "validation")
    assert err.value.hint == "splits present: dev, test, train"


def make_spider(root: Path) -> Path:
    for db, rows in (("shop", [("pen", 2), ("ink", 5)]), ("zoo", [("owl", 1)])):
        (root / "database" / db).mkdir(parents=True)
        con = sqlite3.connect(root / "database" / db / f"{db}.sqlite")
        con.execute("CREATE TABLE item (name TEXT, qty INT)")
        con.executemany("INSERT INTO item VALUES (?, ?)", rows)
        con.commit()
        con.close()
    (root / "tables.json").write_text("[]")
    (root / "dev.json").write_text(json.dumps([
        {"db_id": "shop", "question": "How many items are there?", "query": "SELECT count(*) FROM item"},
        {"db_id": "zoo", "question": "List the animals.", "query": "SELECT name FROM item;"}]))
    return root


def test_spider_format_loads_each_questions_database(tmp_path: Path) -> None:
    bench = benchmarks.load(make_spider(tmp_path / "spider"), "dev")
    assert [(i.database, i.gold) for i in bench.items] == [("shop", ("SELECT count(*) FROM item",)),
                                                          ("zoo", ("SELECT name FROM item",))]
    assert bench.databases["zoo"].name == "zoo.sqlite"
    with pytest.raises(ConfigError, match="no file for split 'train'"):
        benchmarks.load(tmp_path / "spider", "train")
    with pytest.raises(ConfigError, match="not a benchmark folder"):
        benchmarks.load(tmp_path / "spider" / "database", "dev")


def test_results_compare_as_multisets_unless_the_gold_is_ordered() -> None:
    assert rows_match([("a", 1), ("b", 2)], [("b", 2), ("a", 1)], ordered=False)
    assert not rows_match([("a", 1), ("b", 2)], [("b", 2), ("a", 1)], ordered=True)
    assert not rows_match([("a",), ("a",)], [("a",)], ordered=False)  # multiset, not set
    assert rows_match([(3, 0.333333333)], [(3.0, 0.33333)], ordered=False)
    assert not rows_match([("a", 1)], [("a",)], ordered=False)


def geo_sql(prompt: str) -> dict[str, str]:
    """Right for 'biggest city' questions, wrong for everything else."""
    question = prompt.split("Question:")[-1].lower()
    if "city" in question and ("biggest" in question or "largest" in question):
        state = question.split(" in ")[-1].split("\n")[0].strip(" ?") if " in " in question else "texas"
        return {"sql": f"SELECT city_name FROM city WHERE state_name = '{state}' ORDER BY population DESC LIMIT 1"}
    return {"sql": "SELECT state_name FROM state LIMIT 1"}


def test_evaluation_writes_every_verdict_and_resumes(tmp_path: Path, geoquery: Path, script: Script) -> None:
    script.responses["sql"] = geo_sql
    bench = benchmarks.load(geoquery, "dev")
    llm = resolve("scripted:test")
    header: dict[str, Any] = {"benchmark": "geo", "split": "dev"}
    path = tmp_path / "report.jsonl"
    summary = evaluate(bench, llm=llm, report=Report(path, header, fresh=False), limit=2)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"header": header} and len(lines) == 3
    assert [d["verdict"] for d in lines[1:]] == ["correct", "correct"]
    assert all(d["attempts"] >= 1 and d["seconds"] >= 0 and d["predicted"] for d in lines[1:])
    assert (summary.questions, summary.correct, summary.accuracy) == (2, 2, 1.0)

    calls = len(script.calls)
    again = evaluate(bench, llm=llm, report=Report(path, header, fresh=False))
    judged = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert len({d["id"] for d in judged}) == 4  # nothing judged twice
    verdicts = {d["question"]: d["verdict"] for d in judged}
    assert verdicts["how big is texas"] == "wrong" and verdicts["which state is the largest"] == "gold_error"
    assert (again.questions, again.evaluated, again.correct, again.gold_errors) == (4, 3, 2, 1)
    assert again.accuracy == round(2 / 3, 4)
    # the model was asked only about the two new questions
    assert len(script.calls) - calls == sum(d["attempts"] for d in judged[2:])
    with pytest.raises(ConfigError, match="holds a run with other settings"):
        Report(path, {**header, "split": "test"}, fresh=False)


def test_seeded_memory_reaches_the_prompt(tmp_path: Path, geoquery: Path, script: Script) -> None:
    script.responses["sql"] = geo_sql
    bench = benchmarks.load(geoquery, "dev")
    seeds = seed_examples(benchmarks.load(geoquery, "train"))
    assert len(seeds) == 3 and {e.source for e in seeds} == {"import"}
    evaluate(bench, llm=resolve("scripted:test"), report=Report(tmp_path / "r.jsonl", {}, fresh=True),
             examples=seeds, limit=1)
    prompt = script.prompts("sql")[0]
    assert "Approved queries for earlier questions" in prompt and "what is the biggest city in <state_name>" in prompt
    outcome = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[1])
    assert outcome["examples"] and all(e.startswith("train:") for e in outcome["examples"])


def test_cli_prints_a_summary_and_explains_bad_input(tmp_path: Path) -> None:
    model = write_script_file(tmp_path / "model.json", {"sql": {"sql": "SELECT count(*) FROM item"}})
    spider = make_spider(tmp_path / "spider")
    report = tmp_path / "out.jsonl"
    result = hil("eval", "sql", "--benchmark", str(spider), "--model", model, "--report", str(report), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["questions"], summary["correct"], summary["accuracy"]) == (2, 1, 0.5)
    assert len(report.read_text().splitlines()) == 3
    table = hil("eval", "sql", "--benchmark", str(spider), "--model", model, "--report", str(report))
    assert "resuming" in table.stderr and "execution accuracy" in table.stdout and "50.0%" in table.stdout
    assert_clean_error(hil("eval", "sql", "--benchmark", str(tmp_path / "nope")), "not a directory")
    assert_clean_error(hil("eval", "sql", "--benchmark", str(spider), "--split", "train", "--model", model),
                       "no file for split 'train'")


def test_columns_may_come_in_any_order_as_the_benchmarks_accept() -> None:
    gold = [("suv", 12.5), ("van", 30.0)]
    assert rows_match(gold, [(30.0, "van"), (12.5, "suv")], ordered=False)
    assert rows_match(gold, [(12.5, "suv"), (30.0, "van")], ordered=True)  # the rows keep the gold's order
    assert not rows_match(gold, [(30.0, "van"), (12.5, "suv")], ordered=True)
    # a permutation must hold for every row at once, not column by column
    assert not rows_match([(1, 2), (3, 4)], [(2, 1), (3, 4)], ordered=False)
    assert rows_match([(1, 1, 2)], [(2, 1, 1)], ordered=False)
    assert not rows_match([(1, 2)], [(1, 2, 2)], ordered=False)  # an extra column is still wrong
    assert rows_match([], [], ordered=False) and not rows_match([], [(1,)], ordered=False)


def test_error_classes_and_the_bare_model_side_by_side(tmp_path: Path) -> None:
    """The agent and the bare model answer each question in the same run, scored the same way; each
    failure is put in its class and the time per question is reported with its p95."""
    model = write_script_file(tmp_path / "model.json", {
        "sql": {"sql": "SELECT qty, name FROM item"},  # the agent: a wrong result for both
        "sql_baseline": "```sql\nSELECT nme FROM item\n```"})  # the bare model: an engine error
    spider = make_spider(tmp_path / "spider")
    report = tmp_path / "out.jsonl"
    result = hil("eval", "sql", "--benchmark", str(spider), "--model", model, "--report", str(report), "--baseline",
                 "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["correct"], data["wrong"], data["gave_up"], data["engine_errors"]) == (0, 2, 0, 0)
    base = data["baseline"]
    assert (base["correct"], base["engine_errors"], base["mean_attempts"]) == (0, 2, 1.0)
    assert base["seconds_p95"] >= base["seconds_p50"] >= 0
    lines = [json.loads(line) for line in (tmp_path / "out-baseline.jsonl").read_text().splitlines()]
    assert lines[0]["header"]["baseline"] is True and lines[1]["predicted"] == "SELECT nme FROM item"
    assert "no such column" in lines[1]["error"]
    table = hil("eval", "sql", "--benchmark", str(spider), "--model", model, "--report", str(report), "--baseline")
    assert "bare model" in table.stdout and "engine error" in table.stdout and "gave up" in table.stdout


def test_personal_data_in_benchmark_results_is_compared_as_stored(tmp_path: Path) -> None:
    """Results are scored value by value: the agent's redaction of e-mails must not make a right answer wrong."""
    root = tmp_path / "spider"
    (root / "database" / "crm").mkdir(parents=True)
    con = sqlite3.connect(root / "database" / "crm" / "crm.sqlite")
    con.execute("CREATE TABLE customers (name TEXT, email TEXT)")
    con.execute("INSERT INTO customers VALUES ('Astrid', 'astrid.gruber@apple.at')")
    con.commit()
    con.close()
    (root / "tables.json").write_text("[]")
    (root / "dev.json").write_text(json.dumps([{"db_id": "crm", "question": "What is Astrid's email?",
                                                 "query": 'SELECT email FROM customers WHERE name = "Astrid"'}]))
    model = write_script_file(tmp_path / "model.json",
                              {"sql": {"sql": "SELECT email FROM customers WHERE name = 'Astrid'"}})
    result = hil("eval", "sql", "--benchmark", str(root), "--model", model, "--report", str(tmp_path / "r.jsonl"),
                 "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["correct"] == 1


def test_the_report_scores_every_candidate_the_agent_weighed(tmp_path: Path, geoquery: Path, script: Script,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_SQL_CANDIDATES", "3")
    alaska, texas = ("SELECT area FROM state WHERE state_name = 'alaska'",
                     "SELECT area FROM state WHERE state_name = 'texas'")
    nowhere = "SELECT area FROM state WHERE state_name = 'atlantis'"  # no rows: the plain try is not taken
    answers = iter([nowhere, alaska, texas, alaska])  # plain, the draft, the schema-only draft, the second sample
    script.responses["sql"] = lambda _prompt: {"sql": next(answers)}
    bench = benchmarks.load(geoquery, "dev")
    bench.items = [i for i in bench.items if i.question == "how big is texas"]
    summary = evaluate(bench, llm=resolve("scripted:test"), report=Report(tmp_path / "r.jsonl", {}, fresh=True))
    outcome = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[1])
    assert outcome["verdict"] == "wrong" and outcome["predicted"] == alaska  # two drafts agreed on the wrong state
    assert [(c["source"], c["chosen"], c["correct"]) for c in outcome["candidates"]] == [
        ("plain", False, False), ("draft", True, False), ("schema only", False, True), ("second sample", False, False)]
    assert (summary.correct, summary.right_not_chosen, summary.any_candidate_right) == (0, 1, 1)

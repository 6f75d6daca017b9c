"""`hil eval sql`: benchmark loaders, execution-accuracy verdicts, the report and resuming."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hil.errors import ConfigError
from hil.evals import benchmarks
from hil.evals.sql_eval import Report, evaluate, rows_match, seed_examples
from hil.models.llm import resolve
from tests.cli_helpers import assert_clean_error, hil
from tests.conftest import ROOT, Script, write_script_file

GEOQUERY = ROOT.parent / "shared" / "data" / "geoquery"


def test_geoquery_splits_and_variables_are_substituted() -> None:
    by_question = {s: len(benchmarks.load(GEOQUERY, s).items) for s in ("train", "dev", "test")}
    by_query = {s: len(benchmarks.load(GEOQUERY, s, "query").items) for s in ("train", "dev", "test")}
    assert by_question == {"train": 549, "dev": 49, "test": 279}
    assert by_query == {"train": 536, "dev": 159, "test": 182}
    first = benchmarks.load(GEOQUERY, "dev").items[0]
    assert first.question == "what is the biggest city in arizona"
    assert '"arizona"' in first.gold[0] and "state_name0" not in first.gold[0]
    with pytest.raises(ConfigError, match="no questions in split 'validation'") as err:
        benchmarks.load(GEOQUERY, "validation")
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


def test_evaluation_writes_every_verdict_and_resumes(tmp_path: Path, script: Script) -> None:
    script.responses["sql"] = geo_sql
    bench = benchmarks.load(GEOQUERY, "dev")
    llm = resolve("scripted:test")
    header: dict[str, Any] = {"benchmark": "geo", "split": "dev"}
    path = tmp_path / "report.jsonl"
    summary = evaluate(bench, llm=llm, report=Report(path, header, fresh=False), limit=5)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"header": header} and len(lines) == 6
    verdicts = {d["question"]: d["verdict"] for d in lines[1:]}
    assert verdicts["what is the biggest city in arizona"] == "correct"
    assert verdicts["how big is texas"] == "wrong"
    assert all(d["attempts"] >= 1 and d["seconds"] >= 0 and d["predicted"] for d in lines[1:])
    assert summary.questions == 5 and summary.correct == sum(v == "correct" for v in verdicts.values())
    assert summary.accuracy == round(summary.correct / summary.evaluated, 4)

    calls = len(script.calls)
    again = evaluate(bench, llm=llm, report=Report(path, header, fresh=False), limit=7)
    assert again.questions == 7 and len(path.read_text().splitlines()) == 8
    judged = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert len({d["id"] for d in judged}) == 7  # nothing judged twice
    # the model was asked only about the two new questions
    assert len(script.calls) - calls == sum(d["attempts"] for d in judged[5:])
    with pytest.raises(ConfigError, match="holds a run with other settings"):
        Report(path, {**header, "split": "test"}, fresh=False)


def test_seeded_memory_reaches_the_prompt(tmp_path: Path, script: Script) -> None:
    script.responses["sql"] = geo_sql
    bench = benchmarks.load(GEOQUERY, "dev")
    seeds = seed_examples(benchmarks.load(GEOQUERY, "train"))
    assert len(seeds) == 549 and {e.source for e in seeds} == {"import"}
    evaluate(bench, llm=resolve("scripted:test"), report=Report(tmp_path / "r.jsonl", {}, fresh=True),
             examples=seeds, limit=1)
    prompt = script.prompts("sql")[0]
    assert "Examples:" in prompt and "what is the biggest city in <state_name>" in prompt
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

"""`hil eval retrieval`: metrics computed by hand, and the command on a small BEIR folder it builds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hil.evals.retrieval_eval import load_beir, mrr, ndcg, percentile, recall
from tests.cli_helpers import assert_clean_error, hil

CORPUS = {
    "d1": ("Leeds", "Leeds is a city in West Yorkshire, England, on the River Aire."),
    "d2": ("York", "York is a walled city in North Yorkshire with a Gothic minster."),
    "d3": ("Thermostat", "A thermostat regulates temperature in an engine cooling system."),
    "d4": ("Brake pad", "Brake pads press against the disc to slow a vehicle."),
    "d5": ("River Aire", "The River Aire flows through Leeds and joins the Ouse."),
    "d6": ("Minster", "A minster is a church given that title, such as York Minster."),
}
QUERIES = {"q1": "river aire leeds", "q2": "york minster church", "q3": "engine cooling thermostat",
           "q4": "question nobody judged relevant"}
QRELS = [("q1", "d5", 2), ("q1", "d1", 1), ("q2", "d6", 2), ("q2", "d2", 1), ("q3", "d3", 2), ("q4", "d4", 0)]


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": k, "title": t, "text": x})
                                                   for k, (t, x) in CORPUS.items()) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps({"_id": k, "text": v}) for k, v in QUERIES.items()))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" +
                                               "\n".join(f"{q}\t{d}\t{s}" for q, d, s in QRELS) + "\n")
    return folder


def test_metrics_by_hand() -> None:
    grades = {"a": 2, "b": 1, "c": 0}
    assert ndcg(["a", "b"], grades) == pytest.approx(1.0)
    swapped = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg(["b", "a"], grades) == pytest.approx(swapped)
    assert ndcg(["c", "x"], grades) == 0.0
    assert recall(["x", "a", "c"], grades, 10) == 0.5
    assert recall(["x", "a", "b"], grades, 2) == 0.5
    assert mrr(["c", "x", "b"], grades) == pytest.approx(1 / 3)
    assert mrr(["x"] * 10 + ["a"], grades) == 0.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0 and percentile([], 95) == 0.0


def test_load_beir_keeps_queries_with_a_relevant_document(beir: Path) -> None:
    bench = load_beir(beir)
    assert set(bench.queries) == {"q1", "q2", "q3"} and len(bench.corpus) == 6
    assert bench.qrels["q1"] == {"d5": 2, "d1": 1}


def test_eval_retrieval_prints_every_mode(beir: Path) -> None:
    result = hil("eval", "retrieval", "--beir", str(beir), "--mode", "all", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["queries"] == 3 and figures["embedder"] == "wordllama"
    modes = {m["mode"]: m for m in figures["modes"]}
    assert set(modes) == {"bm25", "vector", "hybrid"}
    assert modes["bm25"]["ndcg_at_10"] > 0.9  # every query shares its words with the judged documents
    assert modes["bm25"]["mrr_at_10"] == 1.0
    for m in modes.values():
        assert 0 < m["ndcg_at_10"] <= 1 and m["recall_at_100"] == 1.0 and m["latency_p95_ms"] >= m["latency_p50_ms"]

    table = hil("eval", "retrieval", "--beir", str(beir), "--mode", "bm25")  # the index is reused
    assert table.returncode == 0 and "nDCG@10" in table.stdout and "hybrid" not in table.stdout


def test_eval_retrieval_errors(tmp_path: Path, beir: Path) -> None:
    assert_clean_error(hil("eval", "retrieval", "--beir", str(tmp_path)), "is not a BEIR folder", "corpus.jsonl")
    assert_clean_error(hil("eval", "retrieval", "--beir", str(beir), "--mode", "dense"), "--mode must be one of")

"""Retrieval quality on a BEIR-format folder: nDCG@10, recall@10/100, MRR@10 and query latency.

Each corpus entry becomes one document with one chunk (title and text), indexed by the same
code that serves collections; the judgements are per document. The index lives in a SQLite
store under ``$HIL_HOME/evals`` named after the folder and the embedder, so the slow part,
embedding the corpus, is done once and resumed if interrupted.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hil import settings
from hil.errors import ConfigError
from hil.knowledge.index import MODES, Mode
from hil.services.knowledge import KnowledgeService
from hil.store.db import Store, open_store
from hil.store.tables import knowledge_documents

COLLECTION = "beir"


@dataclass
class Beir:
    name: str
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id -> document id -> grade


def load_beir(folder: Path, split: str = "test") -> Beir:
    folder = folder.expanduser()
    need = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(p) for p in need if not p.is_file()]
    if missing:
        raise ConfigError(f"{folder} is not a BEIR folder: missing {', '.join(missing)}",
                          hint="a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/test.tsv")
    corpus: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(need[0].read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                doc = json.loads(line)
                corpus[str(doc["_id"])] = (doc.get("title") or "", doc.get("text") or "")
            except (json.JSONDecodeError, KeyError) as err:
                raise ConfigError(f"{need[0]}:{n}: not a BEIR corpus line ({err})") from None
    queries = {str(q["_id"]): q["text"] for q in map(json.loads, filter(str.strip, need[1].read_text().splitlines()))}
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate(need[2].read_text(encoding="utf-8").splitlines()):
        parts = line.split("\t") if "\t" in line else line.split()
        if n == 0 and not parts[-1].lstrip("-").isdigit():
            continue  # header
        if len(parts) >= 3:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[-1])
    queries = {q: t for q, t in queries.items() if any(g > 0 for g in qrels.get(q, {}).values())}
    return Beir(folder.resolve().name, corpus, queries, qrels)


@dataclass
class ModeResult:
    mode: str
    ndcg_at_10: float
    recall_at_10: float
    recall_at_100: float
    mrr_at_10: float
    latency_p50_ms: float
    latency_p95_ms: float


def ndcg(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG with linear gains, as trec_eval computes it."""
    dcg = sum(grades.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int) -> float:
    relevant = {d for d, g in grades.items() if g > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if grades.get(d, 0) > 0), 0.0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def index_store(bench: Beir, folder: Path, embedder: str) -> Store:
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
    path = settings.home() / "evals" / f"retrieval-{bench.name}-{digest}-{embedder.replace(':', '_')}.db"
    return open_store(f"sqlite:///{path}")


def build_index(service: KnowledgeService, bench: Beir, embedder: str,
                on_progress: Callable[[str, int, int], None]) -> None:
    """Index the corpus once (one chunk per document), then embed whatever is not embedded yet."""
    row = service.collection(COLLECTION, create=True, embedder=embedder)
    with service.store.read() as conn:
        have = {r[0] for r in conn.execute(sa.select(knowledge_documents.c.source))}
    todo = [(i, d) for i, d in bench.corpus.items() if i not in have]
    now = time.time()
    for start in range(0, len(todo), 500):
        batch = todo[start:start + 500]
        with service.store.write() as conn:
            docs, chunks = [], []
            for doc_id, (title, text) in batch:
                key = str(uuid.uuid4())
                body = f"{title}\n{text}" if title else text
                docs.append({"id": key, "collection_id": row["id"], "source": doc_id, "title": title or doc_id,
                             "kind": "text", "size": len(body), "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                             "status": "embedding" if row["embedder"] != "none" else "indexed", "chunks": 1,
                             "created_at": now, "updated_at": now})
                chunks.append({"collection_id": row["id"], "document_id": key, "ord": 0, "title": title, "heading": "",
                               "start": 0, "end": len(text), "text": text})
            conn.execute(knowledge_documents.insert(), docs)
            service.index.add(conn, chunks)
        on_progress("indexing", start + len(batch), len(todo))
    service.embed_pending(COLLECTION, on_progress=lambda done, total: on_progress("embedding", done, total))


def evaluate(bench: Beir, service: KnowledgeService, modes: list[Mode],
             on_query: Callable[[], None] = lambda: None) -> list[ModeResult]:
    results = []
    for mode in modes:
        scores: dict[str, list[float]] = {"ndcg": [], "r10": [], "r100": [], "mrr": [], "ms": []}
        for qid, text in bench.queries.items():
            started = time.perf_counter()
            snippets = service.search([COLLECTION], text, k=100, mode=mode)
            scores["ms"].append((time.perf_counter() - started) * 1000)
            ranked = list(dict.fromkeys(s.source for s in snippets))
            grades = bench.qrels[qid]
            scores["ndcg"].append(ndcg(ranked, grades))
            scores["r10"].append(recall(ranked, grades, 10))
            scores["r100"].append(recall(ranked, grades, 100))
            scores["mrr"].append(mrr(ranked, grades))
            on_query()
        n = len(bench.queries)
        results.append(ModeResult(mode, round(sum(scores["ndcg"]) / n, 4), round(sum(scores["r10"]) / n, 4),
                                  round(sum(scores["r100"]) / n, 4), round(sum(scores["mrr"]) / n, 4),
                                  round(percentile(scores["ms"], 50), 1), round(percentile(scores["ms"], 95), 1)))
    return results


def parse_modes(mode: str) -> list[Mode]:
    if mode == "all":
        return list(MODES)
    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)} or all, not {mode!r}")
    return [mode]  # type: ignore[list-item]


def summary(bench: Beir, embedder: str, results: list[ModeResult]) -> dict[str, Any]:
    return {"benchmark": bench.name, "documents": len(bench.corpus), "queries": len(bench.queries),
            "embedder": embedder, "modes": [asdict(r) for r in results]}

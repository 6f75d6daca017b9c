"""A full-text index over a workflow's documents (SQLite FTS5, BM25, porter stemming).

Built in memory from the files and cached by their paths and modification times; this is the
first retrieval layer and will move into the store with hybrid search."""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hil.knowledge.chunking import chunk_markdown

SUFFIXES = {".md", ".markdown", ".txt"}
STOPWORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "in", "is", "it", "its", "of", "on", "or", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "were", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your", "me", "my", "our", "we", "which", "whose", "most", "many", "much", "more", "last", "first", "say", "says", "said", "tell", "check"])


@dataclass(frozen=True)
class Snippet:
    title: str
    source: str
    heading: str
    text: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def query_terms(query: str) -> list[str]:
    words = re.findall(r"[A-Za-z0-9]+", query.lower())
    return [w for w in dict.fromkeys(words) if w not in STOPWORDS and len(w) > 1]


class KnowledgeIndex:
    def __init__(self, files: list[Path]):
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.lock = threading.Lock()
        self.db.execute("CREATE VIRTUAL TABLE chunks USING fts5(title, heading, text, source UNINDEXED, "
                        "start UNINDEXED, end UNINDEXED, tokenize='porter unicode61')")
        self.documents = 0
        for f in files:
            text = f.read_text(encoding="utf-8", errors="replace")
            chunks = chunk_markdown(text, f.stem.replace("-", " ").replace("_", " "))
            self.db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?)",
                                [(c.title, c.heading, c.text, str(f), c.start, c.end) for c in chunks])
            self.documents += 1

    def search(self, query: str, k: int = 4) -> list[Snippet]:
        terms = query_terms(query)
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        with self.lock:
            rows = self.db.execute(
                "SELECT title, source, heading, text, start, end, bm25(chunks, 2.0, 3.0, 1.0) AS score "
                "FROM chunks WHERE chunks MATCH ? ORDER BY score LIMIT ?", (match, k)).fetchall()
        return [Snippet(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), round(-float(r[6]), 4)) for r in rows]


def collect_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file()))
        elif path.is_file():
            files.append(path)
    return files


_cache: dict[tuple[Any, ...], KnowledgeIndex] = {}
_cache_lock = threading.Lock()


def index_for(paths: list[str]) -> KnowledgeIndex:
    files = collect_files(paths)
    key = tuple((str(f), f.stat().st_mtime_ns) for f in files)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = KnowledgeIndex(files)
        return _cache[key]

"""Hybrid search over the chunks in the store: full text and vectors, fused by reciprocal rank.

Full text is the engine's own: SQLite FTS5 (BM25, porter stemming) or Postgres ``tsvector``
with a GIN index. Vectors are pgvector on a Postgres that has it; elsewhere they are float32
blobs in ``knowledge_chunks``, scored in the process against a matrix cached per collection
and reloaded when the collection's revision changes. Chunks not embedded yet are still found by
full text, so a collection answers as soon as it is indexed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import sqlalchemy as sa

from hil import settings
from hil.lru import LRU
from hil.store.db import Store
from hil.store.tables import knowledge_chunks, knowledge_documents

Mode = Literal["bm25", "vector", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "vector", "hybrid")
RRF_K = 60  # the constant of Cormack et al.; measured best of 20/60/100 on the development set
MIN_DEPTH = 50  # candidates each ranker contributes to the fusion
PG_TSVECTOR = "to_tsvector('english', title || ' ' || heading || ' ' || text)"

STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "in", "is", "it", "its", "of", "on", "or", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "were", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your", "me", "my", "our", "we", "whose", "most", "many", "much", "more", "say", "says", "said", "tell", "check"])


def query_terms(query: str) -> list[str]:
    words = re.findall(r"[^\W_]+", query.lower())
    return [w for w in dict.fromkeys(words) if w not in STOPWORDS and len(w) > 1]


@dataclass(frozen=True)
class Filters:
    """Metadata filters: ``source`` is a glob (``*policy*``), ``kinds`` file types, ``documents`` ids."""

    source: str | None = None
    kinds: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.source or self.kinds or self.documents)


NO_FILTERS = Filters()


@dataclass
class Snippet:
    collection: str
    document_id: str
    chunk_id: int
    title: str
    source: str
    heading: str
    page: int | None
    page_end: int | None
    text: str
    start: int
    end: int
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # rank in each ranker that found it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Rerank = Callable[[str, list[Snippet]], list[Snippet]]
QueryVector = Callable[[str], np.ndarray]  # embeds the query for one collection's embedder


class ChunkIndex:
    def __init__(self, store: Store):
        self.store = store
        self._pgvector: bool | None = None

    # -- writing (inside the caller's write transaction) --
    def add(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> list[int]:
        ids: list[int] = []
        for row in rows:
            key = conn.execute(knowledge_chunks.insert().values(**row, embedded=False)).inserted_primary_key
            assert key is not None
            ids.append(int(key[0]))
        if self.store.is_sqlite and rows:
            conn.exec_driver_sql("INSERT INTO knowledge_fts(rowid, title, heading, text, collection_id) "
                                 "VALUES (?, ?, ?, ?, ?)", [(i, r["title"], r["heading"], r["text"], r["collection_id"])
                                                            for i, r in zip(ids, rows, strict=True)])
        return ids

    def delete_document(self, conn: sa.Connection, document_id: str) -> None:
        ids = conn.execute(sa.select(knowledge_chunks.c.id).where(knowledge_chunks.c.document_id == document_id))
        if self.store.is_sqlite:
            conn.exec_driver_sql("DELETE FROM knowledge_fts WHERE rowid IN "
                                 "(SELECT id FROM knowledge_chunks WHERE document_id = ?)", (document_id,))
        elif self.has_pgvector():
            conn.execute(sa.text("DELETE FROM knowledge_vectors WHERE chunk_id = ANY(:ids)"),
                         {"ids": [r[0] for r in ids]})
        conn.execute(knowledge_chunks.delete().where(knowledge_chunks.c.document_id == document_id))

    def set_vectors(self, conn: sa.Connection, collection_id: str, ids: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.has_pgvector():
            conn.execute(sa.text("DELETE FROM knowledge_vectors WHERE chunk_id = ANY(:ids)"), {"ids": list(ids)})
            conn.execute(sa.text("INSERT INTO knowledge_vectors (chunk_id, collection_id, embedding) "
                                 "VALUES (:id, :c, CAST(:v AS vector))"),
                         [{"id": i, "c": collection_id, "v": _pg_vector(v)} for i, v in zip(ids, vectors, strict=True)])
            conn.execute(knowledge_chunks.update().where(knowledge_chunks.c.id.in_(list(ids))).values(embedded=True))
            return
        for i, v in zip(ids, vectors, strict=True):
            conn.execute(knowledge_chunks.update().where(knowledge_chunks.c.id == i)
                         .values(embedding=v.tobytes(), embedded=True))

    def clear_vectors(self, conn: sa.Connection, collection_id: str) -> None:
        if self.has_pgvector():
            conn.execute(sa.text("DELETE FROM knowledge_vectors WHERE collection_id = :c"), {"c": collection_id})
        conn.execute(knowledge_chunks.update().where(knowledge_chunks.c.collection_id == collection_id)
                     .values(embedding=None, embedded=False))

    def has_pgvector(self) -> bool:
        if self._pgvector is None:
            self._pgvector = not self.store.is_sqlite and sa.inspect(self.store.engine).has_table("knowledge_vectors")
        return self._pgvector

    # -- searching --
    def search(self, collection: dict[str, Any], query: str, k: int, mode: Mode = "hybrid",
               filters: Filters = NO_FILTERS, query_vector: QueryVector | None = None,
               rerank: Rerank | None = None) -> list[Snippet]:
        """Top ``k`` snippets of one collection. ``collection`` is its row (id, name, revision)."""
        depth = max(k, MIN_DEPTH)
        lists: dict[str, list[tuple[int, float]]] = {}
        if mode in ("bm25", "hybrid"):
            lists["bm25"] = self._full_text(collection["id"], query, depth, filters)
        if mode in ("vector", "hybrid") and query_vector is not None:
            lists["vector"] = self._nearest(collection, query_vector(query), depth, filters)
        fused = _fuse(lists) if mode == "hybrid" else \
            [(i, s, {str(mode): r}) for r, (i, s) in enumerate(lists.get(mode, []), 1)]
        snippets = self._snippets(collection["name"], fused[: depth if rerank else k])
        if rerank:
            snippets = rerank(query, snippets)
        return snippets[:k]

    def _allowed(self, conn: sa.Connection, collection_id: str, filters: Filters) -> Any:
        """A subquery of the chunk ids the filters let through."""
        docs = sa.select(knowledge_documents.c.id).where(knowledge_documents.c.collection_id == collection_id)
        if filters.kinds:
            docs = docs.where(knowledge_documents.c.kind.in_(filters.kinds))
        if filters.documents:
            docs = docs.where(knowledge_documents.c.id.in_(filters.documents))
        if filters.source:
            pattern = filters.source.replace("%", r"\%").replace("_", r"\_").replace("*", "%").replace("?", "_")
            docs = docs.where(knowledge_documents.c.source.like(pattern, escape="\\"))
        return sa.select(knowledge_chunks.c.id).where(knowledge_chunks.c.document_id.in_(docs))

    def _full_text(self, collection_id: str, query: str, depth: int, filters: Filters) -> list[tuple[int, float]]:
        terms = query_terms(query)
        if not terms:
            return []
        with self.store.read() as conn:
            allowed = self._allowed(conn, collection_id, filters) if filters else None
            if self.store.is_sqlite:
                match = " OR ".join(f'"{t}"' for t in terms)
                sql = ("SELECT rowid, bm25(knowledge_fts, 2.0, 3.0, 1.0) AS s FROM knowledge_fts "
                       "WHERE knowledge_fts MATCH :m AND collection_id = :c")
                params: dict[str, Any] = {"m": match, "c": collection_id, "k": depth}
                order = " ORDER BY s LIMIT :k"
                sign = -1.0
            else:
                sql = (f"SELECT c.id, ts_rank_cd({PG_TSVECTOR}, q) AS s FROM knowledge_chunks c, "
                       "to_tsquery('english', :m) q WHERE " + PG_TSVECTOR + " @@ q AND c.collection_id = :c")
                params = {"m": " | ".join(terms), "c": collection_id, "k": depth}
                order = " ORDER BY s DESC LIMIT :k"
                sign = 1.0
            key = "rowid" if self.store.is_sqlite else "c.id"
            stmt = sa.text(sql + (f" AND {key} IN (" + _compiled(conn, allowed) + ")" if allowed is not None else "")
                           + order)
            rows = conn.execute(stmt, params).all()
        return [(int(r[0]), sign * float(r[1])) for r in rows]

    def _nearest(self, collection: dict[str, Any], vector: np.ndarray, depth: int,
                 filters: Filters) -> list[tuple[int, float]]:
        if self.has_pgvector():
            with self.store.read() as conn:
                allowed = self._allowed(conn, collection["id"], filters) if filters else None
                where = " AND chunk_id IN (" + _compiled(conn, allowed) + ")" if allowed is not None else ""
                rows = conn.execute(sa.text(
                    "SELECT chunk_id, 1 - (embedding <=> CAST(:v AS vector)) AS s FROM knowledge_vectors "
                    f"WHERE collection_id = :c{where} ORDER BY embedding <=> CAST(:v AS vector) LIMIT :k"),
                    {"v": _pg_vector(vector), "c": collection["id"], "k": depth}).all()
            return [(int(r[0]), float(r[1])) for r in rows]
        ids, matrix = self._matrix(collection)
        if not len(ids) or matrix.shape[1] != len(vector):
            return []
        scores = matrix @ vector.astype(np.float32)
        if filters:
            with self.store.read() as conn:
                allowed_ids = [r[0] for r in conn.execute(self._allowed(conn, collection["id"], filters))]
            scores = np.where(np.isin(ids, allowed_ids), scores, -np.inf)
        top = np.argpartition(-scores, min(depth, len(ids) - 1))[:depth]
        top = top[np.argsort(-scores[top])]
        return [(int(ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _matrix(self, collection: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        key = (self.store.url, collection["id"])
        cached = _matrices.get(key)
        if cached and cached[0] == collection["revision"]:
            return cached[1], cached[2]
        with self.store.read() as conn:
            rows = conn.execute(sa.select(knowledge_chunks.c.id, knowledge_chunks.c.embedding).where(
                knowledge_chunks.c.collection_id == collection["id"], knowledge_chunks.c.embedded)).all()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        blob = b"".join(r[1] for r in rows)
        dim = len(rows[0][1]) // 4 if rows else 0
        matrix = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), dim) if rows else np.zeros((0, 0), np.float32)
        _matrices.put(key, (collection["revision"], ids, matrix))
        return ids, matrix

    def _snippets(self, name: str, ranked: list[tuple[int, float, dict[str, int]]]) -> list[Snippet]:
        if not ranked:
            return []
        c, d = knowledge_chunks, knowledge_documents
        with self.store.read() as conn:
            rows = {r.id: r for r in conn.execute(
                sa.select(c.c.id, c.c.document_id, c.c.title, c.c.heading, c.c.page, c.c.page_end, c.c.text,
                          c.c.start, c.c.end, d.c.source)
                .join(d, d.c.id == c.c.document_id).where(c.c.id.in_([i for i, _s, _r in ranked])))}
        return [Snippet(name, r.document_id, r.id, r.title, r.source, r.heading, r.page, r.page_end, r.text,
                        r.start, r.end, round(score, 6), ranks)
                for i, score, ranks in ranked if (r := rows.get(i)) is not None]


def _fuse(lists: dict[str, list[tuple[int, float]]]) -> list[tuple[int, float, dict[str, int]]]:
    scores: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, ranked in lists.items():
        for rank, (chunk_id, _score) in enumerate(ranked, 1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
            ranks.setdefault(chunk_id, {})[name] = rank
    order = sorted(scores, key=lambda i: -scores[i])
    return [(i, scores[i], ranks[i]) for i in order]


def _pg_vector(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in vector.tolist()) + "]"


def _compiled(conn: sa.Connection, select: Any) -> str:
    return str(select.compile(conn, compile_kwargs={"literal_binds": True}))


# (store, collection) -> (revision, chunk ids, matrix): the vectors of the collections searched most
# recently, up to HIL_VECTOR_CACHE of them (a 5,000-chunk collection of 384-d vectors is ~8 MB).
_matrices: LRU[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = LRU(
    lambda: settings.get_int("HIL_VECTOR_CACHE"))
